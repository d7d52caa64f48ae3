#!/usr/bin/env python3
"""Markdown tables of bench/wm_audio.sh's results.

    wm_audio_report.py main OUT   quality of the 12 s clips, attacks on their 10 s excerpts, bundled samples
    wm_audio_report.py long OUT   quality of the long clips and white noise, attacks on the whole long files
    wm_audio_report.py side OUT   side by side with audiowmark: loudness, attacks at equal loudness, speed
"""
import collections
import json
import os
import sys


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def count(rows, key="exact"):
    return sum(r.get(key, 0) for r in rows)


def by_attack(rows):
    """Rows grouped by attack, in the order the attacks first appear."""
    by = collections.OrderedDict()
    for r in rows:
        by.setdefault(r["attack"], []).append(r)
    return by


def speech_music(rows):
    return ([r for r in rows if "speech" in r["clip"]], [r for r in rows if "music" in r["clip"]])


def attack_table(rows, percent, with_folds):
    """One row per attack: exact payloads over all clips, speech, music; median sync z."""
    by = by_attack(rows)
    folds = " found by the stream-long folds |" if with_folds else ""
    print(f"| attack | exact payload{', all' if percent else ''} | speech | music |{folds} median sync z |")
    print("|---|---|---|---|" + ("---|" if with_folds else "") + "---|")
    for attack, rs in by.items():
        ok = count(rs)
        speech, music = speech_music(rs)
        zs = sorted(r.get("z", 0) for r in rs)
        share = f" ({100.0 * ok / len(rs):.0f}%)" if percent else ""
        cells = [f"{ok}/{len(rs)}{share}", f"{count(speech)}/{len(speech)}", f"{count(music)}/{len(music)}"]
        if with_folds:
            cells.append(str(sum(r.get("accumulated", 0) for r in rs)))
        cells.append(f"{zs[len(zs) // 2]:.1f}")
        print(f"| {attack} | " + " | ".join(cells) + " |")
    wrong = [r for r in rows if r.get("detected") and not r.get("exact")]
    print(f"\nwrong payloads reported as detected: {len(wrong)}")


def quality_cells(r):
    return f"{r['snr_db']:.1f} | {r['segsnr_db']:.1f} | {r['lsd_db']:.2f} | {r['band_snr_db']:.1f}"


def report_main(out):
    q = read_jsonl(f"{out}/quality.jsonl")
    print("| content | clips | SNR dB | segmental SNR dB | LSD dB | SNR in 700-4300 Hz dB (lowest) |")
    print("|---|---|---|---|---|---|")
    for kind in ("speech", "music"):
        sel = [r for r in q if kind in os.path.basename(r["file"])]
        n = len(sel)
        mean = {k: sum(r[k] for r in sel) / n for k in ("snr_db", "segsnr_db", "lsd_db", "band_snr_db")}
        print(f"| {kind} | {n} | {mean['snr_db']:.1f} | {mean['segsnr_db']:.1f} | {mean['lsd_db']:.2f} | "
              f"{mean['band_snr_db']:.1f} ({min(r['band_snr_db'] for r in sel):.1f}) |")
    print()
    attack_table(read_jsonl(f"{out}/attacks.jsonl"), percent=True, with_folds=False)
    bundled = f"{out}/bundled-quality.jsonl"
    if os.path.exists(bundled) and os.path.getsize(bundled) > 0:
        print("\n| bundled sample | strength | SNR dB | segmental SNR dB | LSD dB | SNR in 700-4300 Hz dB |")
        print("|---|---|---|---|---|---|")
        for r in read_jsonl(bundled):
            print(f"| {r['clip']} | {r['strength']} | {quality_cells(r)} |")


def report_long(out):
    print("| clip | SNR dB | segmental SNR dB | LSD dB | SNR in 700-4300 Hz dB |")
    print("|---|---|---|---|---|")
    for r in read_jsonl(f"{out}/long-quality.jsonl"):
        print(f"| {os.path.basename(r['file'])[:-4]} | {quality_cells(r)} |")
    for r in read_jsonl(f"{out}/white-quality.jsonl"):
        print(f"| white noise, strength {r['strength']} | {quality_cells(r)} |")
    print()
    attack_table(read_jsonl(f"{out}/long.jsonl"), percent=False, with_folds=True)


def side_tables(out, tag, own_file, own_label):
    """Loudness and attack tables of one side-by-side set (TAG-matched-quality.jsonl, TAG.jsonl)."""
    mq = read_jsonl(f"{out}/{tag}-matched-quality.jsonl")
    print("| content | clips | audiowmark SNR dB (lowest) | segmental SNR dB | SNR in 700-4300 Hz dB (lowest) | LSD dB | "
          "this mark no louder: strength, median (range) | its SNR dB | segmental SNR dB | SNR in 700-4300 Hz dB | "
          "LSD dB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for kind in ("speech", "music"):
        sel = [r for r in mq if kind in os.path.basename(r["file"])]
        n = len(sel)
        if n == 0:
            continue
        st = sorted(r["strength"] for r in sel)

        def mean(k):
            return sum(r[k] for r in sel) / n

        print(f"| {kind} | {n} | {mean('ref_snr_db'):.1f} ({min(r['ref_snr_db'] for r in sel):.1f}) | "
              f"{mean('ref_segsnr_db'):.1f} | "
              f"{mean('ref_band_snr_db'):.1f} ({min(r['ref_band_snr_db'] for r in sel):.1f}) | {mean('ref_lsd_db'):.2f} | "
              f"{st[n // 2]:.2f} ({st[0]:.2f}-{st[-1]:.2f}) | {mean('snr_db'):.1f} | {mean('segsnr_db'):.1f} | "
              f"{mean('band_snr_db'):.1f} | {mean('lsd_db'):.2f} |")
    side = [r for r in read_jsonl(f"{out}/{tag}.jsonl") if "error" not in r]
    own = read_jsonl(f"{out}/{own_file}") if os.path.exists(f"{out}/{own_file}") else []
    print(f"\n| attack | {own_label} | this mark at audiowmark's loudness | speech / music | "
          "audiowmark, default strength: message printed | speech / music | printed first |")
    print("|---|---|---|---|---|---|---|")

    def split(rs):
        sp, mu = speech_music(rs)
        return f"{count(sp)}/{len(sp)} / {count(mu)}/{len(mu)}"

    own_by = by_attack(own)
    for a, rs in by_attack(side).items():
        ours = [r for r in rs if r["system"] == "aimark"]
        aw = [r for r in rs if r["system"] == "audiowmark"]
        full = own_by.get(a, [])
        print(f"| {a} | {count(full)}/{len(full)} | {count(ours)}/{len(ours)} | {split(ours)} | "
              f"{count(aw)}/{len(aw)} | {split(aw)} | {count(aw, 'top')}/{len(aw)} |")
    ours_all = [r for r in side if r["system"] == "aimark"]
    aw_all = [r for r in side if r["system"] == "audiowmark"]
    wrong = [r for r in ours_all if r.get("detected") and not r.get("exact")]
    print(f"\nall rows: this mark at audiowmark's loudness {count(ours_all)}/{len(ours_all)}, "
          f"audiowmark {count(aw_all)}/{len(aw_all)} (printed first: {count(aw_all, 'top')}); "
          f"wrong payloads reported by this mark: {len(wrong)}")


def report_side(out):
    """audiowmark at its default strength against this mark at the same loudness, clip by clip."""
    print("### 12 s clips, 10 s excerpts\n")
    side_tables(out, "side", "attacks.jsonl", "this mark, bench strength")
    if os.path.exists(f"{out}/side-long.jsonl"):
        print("\n### Long clips (39-60 s), whole files\n")
        side_tables(out, "side-long", "long.jsonl", "this mark, QUIET_STRENGTH")
    print()
    if os.path.exists(f"{out}/side-detect-speed.jsonl"):
        ds = read_jsonl(f"{out}/side-detect-speed.jsonl")
        print("| attack | audiowmark with --detect-speed | CPU s per 10 s excerpt (mean) |")
        print("|---|---|---|")
        for a, rs in by_attack(ds).items():
            print(f"| {a} | {count(rs)}/{len(rs)} | {sum(r['cpu_s'] for r in rs) / len(rs):.1f} |")
        print()
    if os.path.exists(f"{out}/white-matched.jsonl"):
        for r in read_jsonl(f"{out}/white-matched.jsonl"):
            print(f"white noise: audiowmark SNR {r['ref_snr_db']:.1f} dB, in 700-4300 Hz {r['ref_band_snr_db']:.1f} dB, "
                  f"LSD {r['ref_lsd_db']:.2f} dB; this mark as quiet at strength {r['strength']:.2f} "
                  f"({r['snr_db']:.1f} / {r['band_snr_db']:.1f} dB, LSD {r['lsd_db']:.2f} dB)")
    un = read_jsonl(f"{out}/aw-unmarked.jsonl")
    print(f"audiowmark on 10 s excerpts of the {len(un)} unmarked clips: {sum(r['patterns'] for r in un)} "
          f"patterns printed (every one a wrong message), on {sum(1 for r in un if r['patterns'])} of the clips")
    ours_speed = {os.path.basename(r["file"]): r for r in read_jsonl(f"{out}/speed.jsonl")}
    print("\n| file | audiowmark embed x real time | this mark | audiowmark detect, marked | this mark | "
          "audiowmark detect, unmarked | this mark |")
    print("|---|---|---|---|---|---|---|")
    for r in read_jsonl(f"{out}/aw-speed.jsonl"):
        o = ours_speed.get(r["file"], {})
        d = r["seconds"]
        print(f"| {r['file']} | {d / r['embed_cpu_s']:.0f} | {o.get('embed_x_realtime', '-')} | "
              f"{d / r['detect_marked_cpu_s']:.0f} | {o.get('detect_marked_x_realtime', '-')} | "
              f"{d / r['detect_unmarked_cpu_s']:.0f} | {o.get('detect_unmarked_x_realtime', '-')} |")


if __name__ == "__main__":
    modes = {"main": report_main, "long": report_long, "side": report_side}
    if len(sys.argv) != 3 or sys.argv[1] not in modes:
        sys.exit(__doc__)
    modes[sys.argv[1]](sys.argv[2])

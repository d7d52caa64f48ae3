#!/usr/bin/env python3
"""Markdown tables of bench/wm_audio.sh's results.

    wm_audio_report.py main OUT   quality of the 12 s clips, attacks on their 10 s excerpts, bundled samples
    wm_audio_report.py long OUT   quality of the long clips and white noise, attacks on the whole long files
"""
import collections
import json
import os
import sys


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def attack_table(rows, percent, with_folds):
    """One row per attack: exact payloads over all clips, speech, music; median sync z."""
    by = collections.OrderedDict()
    for r in rows:
        by.setdefault(r["attack"], []).append(r)
    folds = " found by the stream-long folds |" if with_folds else ""
    print(f"| attack | exact payload{', all' if percent else ''} | speech | music |{folds} median sync z |")
    print("|---|---|---|---|" + ("---|" if with_folds else "") + "---|")
    for attack, rs in by.items():
        ok = sum(r.get("exact", 0) for r in rs)
        speech = [r for r in rs if "speech" in r["clip"]]
        music = [r for r in rs if "music" in r["clip"]]
        zs = sorted(r.get("z", 0) for r in rs)
        share = f" ({100.0 * ok / len(rs):.0f}%)" if percent else ""
        cells = [f"{ok}/{len(rs)}{share}", f"{sum(r.get('exact', 0) for r in speech)}/{len(speech)}",
                 f"{sum(r.get('exact', 0) for r in music)}/{len(music)}"]
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


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("main", "long"):
        sys.exit(__doc__)
    (report_main if sys.argv[1] == "main" else report_long)(sys.argv[2])

#!/usr/bin/env bash
# Labelling a ~1 GB MP4 whose moov sits after mdat: aimark-mark against
#   ffmpeg -c copy -metadata AIGC=... -movflags use_metadata_tags
# on the same file in the same run, runs interleaved; with two floors for reading the figures:
# cp + fsync of the file (the copy alone) and openssl dgst -sha256 / -sm3 (the content hash
# alone). Per tool: wall time, CPU time (user + sys), MB/s, peak RSS (median of VIDEO_REPS
# runs, bench_exec), and, with strace, how many bytes each one read from the input and wrote
# (how often the media was read).
#   bench/bench_video.sh [BUILD]      (VIDEO_REPS=3 runs by default; KEEP=1 keeps the 1 GB files)
# Needs about 3.5 GB free under out/bench. Writes out/bench/video.json.
set -euo pipefail
BUILD=${1:-build}
BIN=$(cd "$BUILD" && pwd)
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT="$ROOT/out/bench"
REPS=${VIDEO_REPS:-3}
mkdir -p "$OUT"

avail_kb=$(df -Pk "$OUT" | awk 'NR==2 {print $4}')
if [ "$avail_kb" -lt $((3500 * 1024)) ]; then
  echo "bench_video: only $((avail_kb / 1024)) MB free under $OUT; need 3500 MB" >&2
  exit 1
fi
BIG=1 bash "$ROOT/bench/make_inputs.sh" "$OUT"
IN="$OUT/big.mp4"
SIZE=$(stat -c %s "$IN")
cleanup() { [ "${KEEP:-0}" = 1 ] || rm -f "$IN" "$OUT"/big-out-*.mp4 "$OUT"/.big-out-*; }
trap cleanup EXIT

for alg in sm2 ed25519; do
  [ -f "$OUT/keys-$alg/signing.key" ] || "$BIN/aimark-keygen" --alg "$alg" --out "$OUT/keys-$alg" >/dev/null
done
AIGC='{"Label":"1","ContentProducer":"001191110102MACQD9K64010000","ProduceID":"0123456789abcdef0123456789abcdef","ReservedCode1":"","ContentPropagator":"001191110102MACQD9K64010000","PropagateID":"0123456789abcdef0123456789abcdef","ReservedCode2":""}'

# The commands, by name. aimark-mark writes a temporary file, fsyncs it and renames it;
# ffmpeg does not fsync, so "ffmpeg+fsync" adds coreutils sync on its output for parity.
run() {
  case "$1" in
    ffmpeg) ffmpeg -v error -nostdin -y -i "$IN" -map 0 -c copy -metadata "AIGC=$AIGC" -movflags use_metadata_tags "$OUT/big-out-ffmpeg.mp4" ;;
    ffmpeg+fsync) ffmpeg -v error -nostdin -y -i "$IN" -map 0 -c copy -metadata "AIGC=$AIGC" -movflags use_metadata_tags "$OUT/big-out-ffmpeg.mp4" &&
      sync "$OUT/big-out-ffmpeg.mp4" ;;
    aimark-sm2) "$BIN/aimark-mark" --key "$OUT/keys-sm2" --producer 001191110102MACQD9K64010000 "$IN" -o "$OUT/big-out-aimark.mp4" --force >/dev/null ;;
    aimark-ed25519) "$BIN/aimark-mark" --key "$OUT/keys-ed25519" --producer 001191110102MACQD9K64010000 "$IN" -o "$OUT/big-out-aimark.mp4" --force >/dev/null ;;
    # floors, for reading the figures: the copy alone, and the content hash alone
    copy+fsync) cp "$IN" "$OUT/big-out-copy.mp4" && sync "$OUT/big-out-copy.mp4" ;;
    sha256-only) openssl dgst -sha256 "$IN" >/dev/null ;;
    sm3-only) openssl dgst -sm3 "$IN" >/dev/null ;;
  esac
}
export -f run
export IN OUT BIN AIGC
TOOLS=(ffmpeg ffmpeg+fsync aimark-sm2 aimark-ed25519 copy+fsync sha256-only sm3-only)

# Warm the page cache with the input, then interleave the runs.
cat "$IN" >/dev/null
sync
RES="$OUT/video-runs.txt"
: >"$RES"
for i in $(seq "$REPS"); do
  for t in "${TOOLS[@]}"; do
    rm -f "$OUT"/big-out-*.mp4
    sync
    load=$(cut -d' ' -f1 /proc/loadavg)
    "$BIN/bench/bench_exec" 1 "$t" -- bash -c "run $t" |
      python3 -c 'import json, sys; t, load = sys.argv[1:]; c = json.load(sys.stdin)["commands"][t]
print(t, c["wall_ms"] / 1e3, c["user_ms"] / 1e3, c["sys_ms"] / 1e3, c["maxrss_kb"], load)' "$t" "$load" >>"$RES"
  done
done

# Bytes read from the input and written, per tool (strace -y sums the syscalls' results).
IO="$OUT/video-io.txt"
: >"$IO"
if command -v strace >/dev/null; then
  for t in ffmpeg aimark-sm2; do
    rm -f "$OUT"/big-out-*.mp4
    strace -f -y -s 0 -e trace=read,pread64,readv,preadv,preadv2,write,pwrite64,writev,pwritev,mmap,fsync,fdatasync \
      -o "$OUT/strace-$t.log" bash -c "run $t"
    python3 - "$t" "$IN" "$OUT/strace-$t.log" >>"$IO" <<'PY'
import re, sys
tool, inp, log = sys.argv[1:]
rx = re.compile(r'^\d+\s+(\w+)\((\d+)<([^>]*)>.*\)\s+=\s+(-?\d+|0x[0-9a-f]+)')
read = written = nread = nwrite = mmaps = fsyncs = 0
for line in open(log):
    m = rx.match(line)
    if not m:
        continue
    call, _, path, ret = m.groups()
    if call in ('read', 'pread64', 'readv', 'preadv', 'preadv2') and path == inp:
        read += int(ret); nread += 1
    elif call in ('write', 'pwrite64', 'writev', 'pwritev') and 'big-out' in path:
        written += int(ret); nwrite += 1
    elif call == 'mmap' and path == inp:
        mmaps += 1
    elif call in ('fsync', 'fdatasync') and 'big-out' in path:
        fsyncs += 1
print(tool, read, nread, written, nwrite, mmaps, fsyncs)
PY
    rm -f "$OUT/strace-$t.log"
  done
fi

python3 - "$RES" "$IO" "$SIZE" "$OUT/video.json" <<'PY'
import json, statistics, sys
res, io, size, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
runs = {}
for line in open(res):
    f = line.split()
    if len(f) == 6 and not line.startswith('Command'):
        runs.setdefault(f[0], []).append(tuple(float(x) for x in f[1:]))
summary = {"input_bytes": size, "tools": {}}
for tool, r in runs.items():
    wall = statistics.median(x[0] for x in r)
    cpu = statistics.median(x[1] + x[2] for x in r)
    summary["tools"][tool] = {
        "runs": len(r), "wall_s": wall, "cpu_s": cpu, "user_s": statistics.median(x[1] for x in r),
        "sys_s": statistics.median(x[2] for x in r), "mb_per_s": size / 1e6 / wall,
        "peak_rss_kb": max(int(x[3]) for x in r), "loads": [x[4] for x in r], "walls": [x[0] for x in r],
    }
for line in open(io):
    tool, read, nread, written, nwrite, mmaps, fsyncs = line.split()
    summary["tools"].setdefault(tool, {}).update({
        "input_bytes_read": int(read), "input_reads": int(nread), "times_input_read": int(read) / size,
        "bytes_written": int(written), "output_writes": int(nwrite), "input_mmaps": int(mmaps), "output_fsyncs": int(fsyncs)})
json.dump(summary, open(out, "w"), indent=1)
t = summary["tools"]
print(f"input {size} bytes")
for tool, s in t.items():
    if "wall_s" in s:
        print(f"{tool:15s} wall {s['wall_s']:7.2f} s  {s['mb_per_s']:7.1f} MB/s  cpu {s['cpu_s']:6.2f} s  peak RSS {s['peak_rss_kb']/1024:6.1f} MiB"
              + (f"  input read {s['times_input_read']:.4f}x, wrote {s['bytes_written']} bytes, fsyncs {s['output_fsyncs']}" if "times_input_read" in s else ""))
for a in ("aimark-sm2", "aimark-ed25519"):
    for b in ("ffmpeg", "ffmpeg+fsync"):
        if a in t and b in t and "wall_s" in t[a] and "wall_s" in t[b]:
            print(f"{a} vs {b}: speed ratio {t[b]['wall_s'] / t[a]['wall_s']:.2f}x (wall), {t[b]['cpu_s'] / t[a]['cpu_s']:.2f}x (cpu)")
PY

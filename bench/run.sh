#!/usr/bin/env bash
# make bench: speed and memory measurements, each against a baseline run on
# the same files in the same run. Results go to stdout and out/bench/; the
# figures recorded in docs/benchmarks.md come from this script.
set -euo pipefail
BUILD=${1:-build}
BIN=$(cd "$BUILD" && pwd)
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT="$ROOT/out/bench"
REPS=${REPS:-20}
mkdir -p "$OUT"

echo "== metadata label on a 12 MP JPEG (4000x3000)"
IMG="$OUT/photo-12mp.jpg"
[ -f "$IMG" ] || ffmpeg -v error -f lavfi -i "mandelbrot=size=4000x3000:end_pts=1,format=rgb24" -frames:v 1 -q:v 3 "$IMG" -y
ls -l "$IMG" | awk '{print "file bytes:", $5}'
"$BIN/bench/bench_metadata" "$IMG" "$REPS" "$OUT" | tee "$OUT/metadata.json"

CFG="$ROOT/tests/data/exiftool-tc260.config"
JSON='{"Label":"1","ContentProducer":"001191110102MACQD9K64010000","ProduceID":"0123456789abcdef0123456789abcdef","ReservedCode1":"","ContentPropagator":"001191110102MACQD9K64010000","PropagateID":"0123456789abcdef0123456789abcdef","ReservedCode2":""}'
N=${EXIFTOOL_REPS:-10}
echo "== baseline: exiftool writing the same XMP property ($N runs, one process per file)"
start=$(date +%s%N)
for i in $(seq "$N"); do
  exiftool -config "$CFG" -q -XMP-TC260:AIGC="$JSON" -o "$OUT/exiftool-$i.jpg" "$IMG" >/dev/null
done
end=$(date +%s%N)
per_call=$(( (end - start) / N / 1000 ))  # microseconds
rm -f "$OUT"/exiftool-*.jpg
echo "== baseline: exiftool batch mode (one process, $N files)"
args=()
for i in $(seq "$N"); do cp "$IMG" "$OUT/batch-$i.jpg"; args+=("$OUT/batch-$i.jpg"); done
start=$(date +%s%N)
exiftool -config "$CFG" -q -overwrite_original -XMP-TC260:AIGC="$JSON" "${args[@]}" >/dev/null
end=$(date +%s%N)
per_batch=$(( (end - start) / N / 1000 ))
rm -f "$OUT"/batch-*.jpg
mark_ms=$(python3 -c "import json;print(json.load(open('$OUT/metadata.json'))['mark_file_ms'])")
python3 - "$per_call" "$per_batch" "$mark_ms" <<'PY'
import sys
call, batch, mark = map(float, sys.argv[1:])
call /= 1000.0
batch /= 1000.0
print(f"exiftool per call  {call:9.2f} ms/file   aimark {mark:7.2f} ms/file   ratio {call/mark:6.1f}x")
print(f"exiftool batch     {batch:9.2f} ms/file   aimark {mark:7.2f} ms/file   ratio {batch/mark:6.1f}x")
PY

#!/usr/bin/env bash
# make demo: label every bundled sample, verify each, show what tampering
# looks like, and scan the lot. Exits non-zero if any step does not give the
# expected answer.
set -euo pipefail
BUILD=${1:-build}
BIN=$(cd "$BUILD" && pwd)
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT="$ROOT/out/demo"
SHARED="$ROOT/../shared"
PRODUCER=001191110102MACQD9K64010000   # a 27-character TC260 provider code

rm -rf "$OUT"
mkdir -p "$OUT/labelled"

step() { printf '\n== %s\n' "$*"; }
expect_exit() { # expect_exit CODE cmd...
  local want=$1; shift
  set +e; "$@"; local got=$?; set -e
  if [ "$got" -ne "$want" ]; then echo "demo: expected exit $want, got $got: $*" >&2; exit 1; fi
}

step "a provider key (SM2 with SM3, the GB default)"
"$BIN/aimark-keygen" --alg sm2 --out "$OUT/provider-key"

step "label every sample"
labelled=0
while IFS= read -r -d '' f; do
  rel=${f#"$ROOT/samples/"}
  dest="$OUT/labelled/${rel//\//_}"
  if "$BIN/aimark-mark" --key "$OUT/provider-key" --producer "$PRODUCER" "$f" -o "$dest"; then
    labelled=$((labelled + 1))
  fi
done < <(find "$ROOT/samples" -type f ! -name '*.md' ! -name '*.c' ! -name '*.txt.in' -print0 | sort -z)
[ "$labelled" -gt 0 ] || { echo "demo: nothing labelled" >&2; exit 1; }

step "verify with the provider's public key trusted (expect: authentic)"
for f in "$OUT"/labelled/*; do
  expect_exit 0 "$BIN/aimark-verify" --trust "$OUT/provider-key/signing.pub" "$f"
done

step "the same without trusting the key (expect: unverified, exit 3)"
first=$(ls "$OUT"/labelled/* | head -1)
expect_exit 3 "$BIN/aimark-verify" "$first"

step "change one byte of the image data after labelling (expect: tampered, exit 2)"
jpg=$(ls "$OUT"/labelled/*.jpg | head -1)
cp "$jpg" "$OUT/tampered.jpg"
size=$(stat -c %s "$OUT/tampered.jpg")
printf '\x55' | dd of="$OUT/tampered.jpg" bs=1 seek=$((size - 100)) conv=notrunc status=none
expect_exit 2 "$BIN/aimark-verify" --trust "$OUT/provider-key/signing.pub" "$OUT/tampered.jpg"

step "an upload pipeline strips the label: decode, scale to 3/4, re-encode at quality 75 (expect: not labelled, exit 1, but the watermark is found)"
"$BIN/aimark-mark" --key "$OUT/provider-key" --producer "$PRODUCER" --watermark "$ROOT/samples/images/mandelbrot.jpg" -o "$OUT/watermarked.jpg"
djpeg -scale 3/4 "$OUT/watermarked.jpg" | cjpeg -quality 75 > "$OUT/reuploaded.jpg"
expect_exit 1 "$BIN/aimark-verify" --trust "$OUT/provider-key/signing.pub" --key "$OUT/provider-key" --json "$OUT/reuploaded.jpg" > "$OUT/reuploaded.json"
"$BIN/aimark-verify" --trust "$OUT/provider-key/signing.pub" --key "$OUT/provider-key" "$OUT/reuploaded.jpg" || true
grep -q '"authenticated": *true' "$OUT/reuploaded.json" || { echo "demo: the watermark was not found after re-encoding" >&2; exit 1; }

if [ -d "$SHARED/spec/gb45438-samples" ]; then
  step "real vendor files (labels as shipped by Doubao and Jimeng; unsigned, so: unverified)"
  for f in "$SHARED"/spec/gb45438-samples/*.png; do
    expect_exit 3 "$BIN/aimark-verify" "$f"
  done
fi

step "a platform adds its propagation fields without breaking the producer's signature"
"$BIN/aimark-keygen" --alg ed25519 --out "$OUT/platform-key"
"$BIN/aimark-mark" --key "$OUT/platform-key" --propagator 00119144030008867405X220001 "$jpg" -o "$OUT/propagated.jpg"
expect_exit 0 "$BIN/aimark-verify" --trust "$OUT/provider-key/signing.pub" --trust "$OUT/platform-key/signing.pub" "$OUT/propagated.jpg"

step "scan everything"
"$BIN/aimark-scan" --jobs 2 --trust "$OUT/provider-key/signing.pub" --jsonl "$OUT/scan.jsonl" "$OUT/labelled" "$OUT/tampered.jpg" "$OUT/propagated.jpg"
echo
echo "demo: all steps gave the expected answers; outputs are in $OUT"

#!/usr/bin/env bash
# Image watermark benchmark: robustness over real photos, false detections on
# unmarked photos, and speed/memory against libjpeg-turbo in the same run.
#
#   bench/wm_image.sh [BUILD_DIR]
#
# Photos: the nature set of Debian's mate-backgrounds package (GPL-2+, see
# bench/PHOTOS.md). Installed (/usr/share/backgrounds/mate/nature) or, when the
# package is not installed, downloaded with apt-get and unpacked under out/.
# Results go to out/bench/wm-image-*.{txt,md}; docs/benchmarks-wm-image.md
# records a run. Environment: WM_KEYS (keys per false-detection call, 48),
# WM_REPS (speed repetitions, 5), WM_QUICK=1 (fewer attacks for a smoke run).
set -euo pipefail
BUILD=${1:-build}
BIN=$(cd "$BUILD" && pwd)/bench/bench_wm_image
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT="$ROOT/out/bench"
mkdir -p "$OUT"
[ -x "$BIN" ] || { echo "missing $BIN: build the bench_wm_image target" >&2; exit 1; }

PHOTOS=/usr/share/backgrounds/mate/nature
if ! ls "$PHOTOS"/*.jpg >/dev/null 2>&1; then
  PHOTOS="$OUT/wm-photos/usr/share/backgrounds/mate/nature"
  if ! ls "$PHOTOS"/*.jpg >/dev/null 2>&1; then
    echo "== fetching mate-backgrounds (Debian package) into $OUT/wm-photos"
    mkdir -p "$OUT/wm-photos"
    (cd "$OUT/wm-photos" && apt-get download mate-backgrounds >/dev/null && dpkg-deb -x mate-backgrounds_*.deb .)
  fi
fi
mapfile -t FILES < <(ls "$PHOTOS"/*.jpg | sort)
echo "== ${#FILES[@]} photos from $PHOTOS"

if [ "${WM_QUICK:-0}" = 1 ]; then
  export WM_ATTACKS="none,jpeg-50,webp-50,resize-0.5,crop-50%-random,rotate-15,rotate-90,hflip,screenshot,canvas"
fi

echo "== robustness, main set (whole photos at 1280 px and 1024x768 native crops)"
WM_SET=main "$BIN" robust "$OUT/wm-image-robust-main.md" "${FILES[@]}" | tee "$OUT/wm-image-robust-main.txt"
echo "== robustness, small set (640x480 native crops)"
WM_SET=small "$BIN" robust "$OUT/wm-image-robust-small.md" "${FILES[@]}" | tee "$OUT/wm-image-robust-small.txt"
# The same images stored as JPEG 90 and marked through the DCT coefficients (what a JPEG input takes).
for set in main small; do
  echo "== robustness, JPEG coefficient path ($set set)"
  WM_SET=$set WM_EMBED=jpeg "$BIN" robust "$OUT/wm-image-robust-coef-$set.md" "${FILES[@]}" | tee "$OUT/wm-image-robust-coef-$set.txt"
done
echo "== robustness at strength 2 (the stronger setting), JPEG 30 and WebP 50"
WM_SET=all WM_STRENGTH=2 WM_ATTACKS="none,jpeg-30,webp-50" "$BIN" robust "$OUT/wm-image-robust-strong.md" "${FILES[@]}" \
  | tee "$OUT/wm-image-robust-strong.txt"
# JPEG files: the luma-only detection path (what aimark-verify uses) against a full decode.
JF_ATTACKS="none,jpeg-50,webp-50,resize-0.5,crop-50%-random,rotate-15,rotate-90,hflip,screenshot,canvas"
for set in main small; do
  echo "== JPEG files ($set set): luma-only path against full decode"
  WM_SET=$set WM_DETECT=jpegfile WM_ATTACKS="$JF_ATTACKS" "$BIN" robust "$OUT/wm-image-jpegfile-$set.md" "${FILES[@]}" \
    | tee "$OUT/wm-image-jpegfile-$set.txt"
done
# Unmarked images after attacks that change their statistics in different ways (compression,
# black corners, a flat canvas); every call tries WM_KEYS keys, each a separate trial.
FALSE_ATTACKS="none,jpeg-50,webp-50,crop-50%-random,rotate-5,screenshot,canvas"
echo "== false detections on unmarked photos (7 attacks x 35 images, ${WM_KEYS:-48} keys per call)"
WM_SET=all WM_ATTACKS="${WM_FALSE_ATTACKS:-$FALSE_ATTACKS}" "$BIN" false "${WM_KEYS:-48}" "${FILES[@]}" | tee "$OUT/wm-image-false.txt"
echo "== speed and memory"
"$BIN" speed "${FILES[0]}" "${WM_REPS:-5}" | tee "$OUT/wm-image-speed.txt"

#!/usr/bin/env bash
# Makes the benchmark inputs in OUT (default out/bench), once; existing files are kept.
#   photo-12mp.jpg  4000x3000, quality 92: a photograph of a painting ("Elephants",
#                   Wyng Stancikaite 2020, GPL-2+, from Debian's mate-backgrounds
#                   package), scaled and cropped; without that package, a synthetic
#                   picture with photo-like entropy (noise over gradients).
#   c2pa-4mb.jpg    the same picture at quality 90 (about 4 MB)
#   c2pa-5mb.wav    30 s of 16-bit 44.1 kHz stereo (5 MiB): tones and pink noise
#   c2pa-4mb.mp4    10 s of 1280x720 H.264 + AAC (about 4 MB), moov after mdat
#   big.mp4         (only with BIG=1) about 1 GB of H.264 + AAC, moov after mdat
# inputs.txt in OUT records where each one came from.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-$ROOT/out/bench}
mkdir -p "$OUT"
NOTE="$OUT/inputs.txt"
touch "$NOTE"
note() { grep -qF "$1:" "$NOTE" || echo "$1: $2" >>"$NOTE"; }

# The 5640x3172 photograph from mate-backgrounds, as a PPM at 4000x3000.
photo_ppm() {
  local ppm="$OUT/photo-4000x3000.ppm" src=/usr/share/backgrounds/mate/abstract/Elephants_5640x3172.jpg
  [ -f "$ppm" ] && { echo "$ppm"; return 0; }
  if [ ! -f "$src" ]; then
    local tmp
    tmp=$(mktemp -d)
    if (cd "$tmp" && apt-get download mate-backgrounds >/dev/null 2>&1 && dpkg -x mate-backgrounds_*.deb x); then
      src="$tmp/x/usr/share/backgrounds/mate/abstract/Elephants_5640x3172.jpg"
    fi
  fi
  if [ -f "$src" ]; then
    ffmpeg -v error -y -i "$src" -vf "scale=-2:3000:flags=lanczos,crop=4000:3000" -f image2pipe -vcodec ppm - >"$ppm"
    note "photo source" "Elephants_5640x3172.jpg from Debian package mate-backgrounds (Wyng Stancikaite 2020, GPL-2+), scaled to height 3000 (lanczos) and centre-cropped to 4000x3000"
  else
    # Photo-like entropy: softened grain over smooth colour fields (about 5 MB at quality 92).
    ffmpeg -v error -y -f lavfi -i "gradients=size=4000x3000:nb_colors=4:seed=7,format=yuv444p,noise=alls=24:allf=t,gblur=sigma=0.6,format=rgb24" -frames:v 1 -f image2pipe -vcodec ppm - >"$ppm"
    note "photo source" "synthetic: ffmpeg gradients + blurred noise (mate-backgrounds not available)"
  fi
  rm -rf "${tmp:-}"
  echo "$ppm"
}

if [ ! -f "$OUT/photo-12mp.jpg" ] || ! grep -q "photo-12mp.jpg:" "$NOTE"; then
  ppm=$(photo_ppm)
  if command -v cjpeg >/dev/null; then
    cjpeg -quality 92 -optimize "$ppm" >"$OUT/photo-12mp.jpg"
    note "photo-12mp.jpg" "cjpeg -quality 92 -optimize (4:2:0)"
  else
    ffmpeg -v error -y -i "$ppm" -q:v 2 "$OUT/photo-12mp.jpg"
    note "photo-12mp.jpg" "ffmpeg -q:v 2 (cjpeg not installed)"
  fi
fi
if [ ! -f "$OUT/c2pa-4mb.jpg" ]; then
  ppm=$(photo_ppm)
  if command -v cjpeg >/dev/null; then
    cjpeg -quality 90 -optimize "$ppm" >"$OUT/c2pa-4mb.jpg"
  else
    ffmpeg -v error -y -i "$ppm" -q:v 3 "$OUT/c2pa-4mb.jpg"
  fi
  note "c2pa-4mb.jpg" "the photo at quality 90"
fi
rm -f "$OUT/photo-4000x3000.ppm"
if [ ! -f "$OUT/c2pa-5mb.wav" ]; then
  # 5 MiB exactly: 44 header bytes + 1310709 stereo frames of 4 bytes
  ffmpeg -v error -y -f lavfi -i "anoisesrc=color=pink:amplitude=0.2:seed=3:sample_rate=44100" \
    -f lavfi -i "sine=frequency=330:sample_rate=44100" \
    -filter_complex "[0][1]amix=inputs=2,aformat=channel_layouts=stereo,atrim=end_sample=1310709[a]" -map "[a]" \
    -c:a pcm_s16le -map_metadata -1 -fflags +bitexact -flags:a +bitexact "$OUT/c2pa-5mb.wav"
  note "c2pa-5mb.wav" "ffmpeg lavfi pink noise + 330 Hz tone, 16-bit 44.1 kHz stereo, 29.7 s"
fi
if [ ! -f "$OUT/c2pa-4mb.mp4" ]; then
  ffmpeg -v error -y -f lavfi -i "testsrc2=size=1280x720:rate=30:duration=10" -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=10" \
    -c:v libx264 -preset veryfast -b:v 3000k -maxrate 3000k -bufsize 6000k -pix_fmt yuv420p -c:a aac -b:a 128k -shortest "$OUT/c2pa-4mb.mp4"
  note "c2pa-4mb.mp4" "ffmpeg lavfi testsrc2 1280x720 30 fps 10 s libx264 3 Mb/s + AAC 128 kb/s, moov after mdat"
fi
if [ "${BIG:-0}" = 1 ] && [ ! -f "$OUT/big.mp4" ]; then
  clip="$OUT/big-clip.mp4"
  ffmpeg -v error -y -f lavfi -i "testsrc2=size=1280x720:rate=30:duration=20" -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=20" \
    -c:v libx264 -preset ultrafast -crf 12 -pix_fmt yuv420p -c:a aac -b:a 128k -shortest "$clip"
  # loop the 32 MB clip with -c copy to about 1 GB; ffmpeg writes moov after mdat without +faststart
  ffmpeg -v error -y -stream_loop 31 -i "$clip" -c copy "$OUT/big.mp4"
  rm -f "$clip"
  note "big.mp4" "ffmpeg lavfi testsrc2 1280x720 30 fps libx264 ultrafast crf 12 + AAC, a 20 s clip looped 32 times with -c copy (moov after mdat)"
fi

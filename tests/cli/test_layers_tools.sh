#!/usr/bin/env bash
# The content layers through the tools: an image labelled with --explicit and --watermark keeps both
# when its metadata is stripped, and verify says the watermark still binds it to the producer.
set -euo pipefail
: "${AIMARK_BIN:?}" "${AIMARK_SRC:?}"
. "$(dirname "$0")/lib.sh"
work="$W"
verify() { local out=$1; shift; set +e; "$AIMARK_BIN/aimark-verify" --json "$@" > "$out"; local rc=$?; set -e; echo "$rc"; }

"$AIMARK_BIN/aimark-keygen" --producer 001191110102MACQD9K64010000 --out "$work/k" >/dev/null
[ "$(stat -c %a "$work/k/watermark.key")" = 600 ] && ok || bad "watermark.key is not mode 0600"

"$AIMARK_BIN/aimark-mark" --key "$work/k" --explicit --watermark "$AIMARK_SRC/samples/images/mandelbrot.jpg" -o "$work/m.jpg" >/dev/null
rc=$(verify "$work/v.json" --trust "$work/k" --key "$work/k" "$work/m.jpg")
[ "$rc" = 0 ] && ok || bad "labelled image: exit $rc"
[ "$(json "$work/v.json" "d['explicit']['detected']")" = True ] && ok || bad "explicit label not detected"
[ "$(json "$work/v.json" "d['watermark']['detected'] and d['watermark']['authenticated']")" = True ] && ok || bad "watermark not detected"
[ "$(json "$work/v.json" "d['watermark']['matches_label']")" = True ] && ok || bad "watermark does not match the label"
[ "$(json "$work/v.json" "d['watermark']['false_alarm_probability'] <= 1e-9")" = True ] && ok || bad "false-alarm probability above 1e-9"

# Without the key, nobody can read the mark: no watermark object at all.
rc=$(verify "$work/v0.json" --trust "$work/k" "$work/m.jpg")
[ "$(json "$work/v0.json" "'watermark' in d")" = False ] && ok || bad "watermark reported without a key"

# An upload pipeline strips the metadata and re-encodes: the label is gone, the watermark is not.
ffmpeg -v error -i "$work/m.jpg" -map_metadata -1 -q:v 3 "$work/stripped.jpg" -y
rc=$(verify "$work/s.json" --trust "$work/k" --key "$work/k" "$work/stripped.jpg")
[ "$rc" = 1 ] && ok || bad "stripped image: exit $rc (want 1: not labelled)"
[ "$(json "$work/s.json" "d['watermark']['detected']")" = True ] && ok || bad "watermark lost after stripping"
json "$work/s.json" "[f['code'] for f in d['findings']]" | grep -q label-stripped && ok || bad "no label-stripped finding"
[ "$(json "$work/s.json" "d['explicit']['detected']")" = True ] && ok || bad "explicit label lost after re-encoding"

# Another producer's key does not see the mark.
"$AIMARK_BIN/aimark-keygen" --out "$work/other" >/dev/null
rc=$(verify "$work/o.json" --key "$work/other" "$work/stripped.jpg")
[ "$(json "$work/o.json" "d['watermark']['detected']")" = False ] && ok || bad "a foreign key detected the watermark"

# Audio: the watermark is found by a streaming decode, in the marked file and after the label is stripped by
# a lossy re-encode.
ffmpeg -v error -f lavfi -i "anoisesrc=color=pink:duration=12:amplitude=0.25:seed=7" -ar 44100 -ac 2 "$work/noise.wav" -y
"$AIMARK_BIN/aimark-mark" --key "$work/k" --no-c2pa --watermark "$work/noise.wav" -o "$work/a.wav" >/dev/null
rc=$(verify "$work/a.json" --trust "$work/k" --key "$work/k" "$work/a.wav")
[ "$rc" = 0 ] && ok || bad "labelled audio: exit $rc"
[ "$(json "$work/a.json" "d['watermark']['detected'] and d['watermark']['authenticated'] and d['watermark']['matches_label']")" = True ] \
  && ok || bad "audio watermark not detected or not matching the label"
ffmpeg -v error -i "$work/a.wav" -map_metadata -1 -c:a libmp3lame -b:a 128k "$work/a-stripped.mp3" -y
rc=$(verify "$work/as.json" --trust "$work/k" --key "$work/k" "$work/a-stripped.mp3")
[ "$rc" = 1 ] && ok || bad "stripped audio: exit $rc (want 1: not labelled)"
[ "$(json "$work/as.json" "d['watermark']['detected']")" = True ] && ok || bad "audio watermark lost after an MP3 re-encode"
rc=$(verify "$work/ao.json" --key "$work/other" "$work/a-stripped.mp3")
[ "$(json "$work/ao.json" "d['watermark']['detected']")" = False ] && ok || bad "a foreign key detected the audio watermark"

# Audio that does not decode (a WAV of an unknown coding): both content layers say so, the verdict stands.
python3 -c "
import struct, sys
data = bytes(16000)
fmt = struct.pack('<HHIIHH', 0x7777, 1, 16000, 32000, 2, 16)
riff = b'WAVE' + b'fmt ' + struct.pack('<I', len(fmt)) + fmt + b'data' + struct.pack('<I', len(data)) + data
sys.stdout.buffer.write(b'RIFF' + struct.pack('<I', len(riff)) + riff)" > "$work/unknown-coding.wav"
rc=$(verify "$work/u.json" --key "$work/k" "$work/unknown-coding.wav")
[ "$rc" = 1 ] && ok || bad "undecodable audio: exit $rc (want 1: not labelled)"
[ "$(json "$work/u.json" "sorted(f['message'].split(':')[0] for f in d['findings'] if f['code'] == 'layer-not-checked')")" = "['audio decode', 'explicit']" ] \
  && ok || bad "undecodable audio: the explicit and watermark layers are not both reported as not checked"

# Options that make no sense are refused before anything is written.
# A custom label text is found when verify is told it (the defaults are always looked for).
custom="AI生成内容 by Model X"
"$AIMARK_BIN/aimark-mark" --key "$work/k" --no-c2pa --explicit --explicit-text "$custom" "$AIMARK_SRC/samples/images/mandelbrot.jpg" -o "$work/custom.jpg" >/dev/null
rc=$(verify "$work/c0.json" --trust "$work/k" "$work/custom.jpg")
[ "$(json "$work/c0.json" "d['explicit']['detected']")" = False ] && ok || bad "a custom label text was found without being given"
rc=$(verify "$work/c1.json" --trust "$work/k" --explicit-text "$custom" "$work/custom.jpg")
[ "$(json "$work/c1.json" "d['explicit']['detected'] and d['explicit']['text']")" = "$custom" ] && ok || bad "--explicit-text: the custom label was not found"
"$AIMARK_BIN/aimark-scan" --quiet --layers explicit --explicit-text "$custom" --jsonl "$work/scan.jsonl" "$work/custom.jpg" >/dev/null || true
[ "$(json "$work/scan.jsonl" "d['explicit']['detected']")" = True ] && ok || bad "aimark-scan --explicit-text: the custom label was not found"

set +e
"$AIMARK_BIN/aimark-mark" --key "$work/k" --explicit-text "Made by a computer" "$AIMARK_SRC/samples/images/cellauto.png" -o "$work/x.png" 2>"$work/err"; rc=$?
set -e
[ "$rc" != 0 ] && [ ! -e "$work/x.png" ] && ok || bad "a label text without the AI and generation elements was accepted"
finish

#!/usr/bin/env bash
# Audio watermark benchmark: marks real speech and music clips, attacks them
# with ffmpeg and sox, and checks that the exact payload comes back from a
# 10-second excerpt of every attacked file, plus 5 s excerpts, marked audio
# between unmarked audio and the bundled samples of samples/audio. Also
# measures quality (SNR, segmental SNR, log-spectral distance), false alarms
# (random keys on unmarked excerpts and on excerpts marked under another key),
# speed (CPU time) and memory. Sources and licences: bench/AUDIO.md.
#
#   bench/wm_audio.sh BUILD_DIR [OUT_DIR]
# Environment: STRENGTH (default 1), FA_TRIALS (default 10000), CLIPS_PER_TRACK (default 2), BUNDLED_KEYS (default 6),
# QUIET_STRENGTH (default 0.28; 0 skips the long-audio section), LONG_FA_TRIALS (default 1000),
# AUDIOWMARK (path to an audiowmark binary for the side-by-side section, optional; bench/AUDIO.md).
set -euo pipefail
BUILD=$(cd "${1:-build}" && pwd)
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${2:-$ROOT/out/bench/wm_audio}
BIN="$BUILD/bench/bench_wm_audio"
STRENGTH=${STRENGTH:-1}
FA_TRIALS=${FA_TRIALS:-10000}
CLIPS_PER_TRACK=${CLIPS_PER_TRACK:-2}
BUNDLED_KEYS=${BUNDLED_KEYS:-6}
QUIET_STRENGTH=${QUIET_STRENGTH:-0.28}
LONG_FA_TRIALS=${LONG_FA_TRIALS:-1000}
SPEECH_DIR=/usr/share/pocketsphinx/test/data
MUSIC_DIR=/usr/share/pushover/themes
for t in ffmpeg sox "$BIN"; do command -v "$t" >/dev/null || { echo "wm_audio.sh: missing $t" >&2; exit 2; }; done
[ -d "$SPEECH_DIR" ] || { echo "wm_audio.sh: install pocketsphinx-testdata (speech)" >&2; exit 2; }
[ -d "$MUSIC_DIR" ] || { echo "wm_audio.sh: install pushover-data (music)" >&2; exit 2; }
mkdir -p "$OUT/src" "$OUT/marked" "$OUT/tmp"
: > "$OUT/bundled-quality.jsonl"
Q="-v error -y"

# ---- clips: 12 s each, 16-bit WAV at the source rate ----
echo "== clips"
sox "$SPEECH_DIR"/librivox/*.wav "$OUT/tmp/librivox.wav"
sox -t raw -r 16000 -e signed -b 16 -c 1 "$SPEECH_DIR/goforward.raw" -t raw -r 16000 -e signed -b 16 -c 1 "$SPEECH_DIR/numbers.raw" \
    -t raw -r 16000 -e signed -b 16 -c 1 "$SPEECH_DIR/something.raw" "$SPEECH_DIR"/cards/*.wav "$OUT/tmp/misc.wav"
sox "$OUT/tmp/librivox.wav" "$OUT/src/speech-librivox-a.wav" trim 0 12
sox "$OUT/tmp/librivox.wav" "$OUT/src/speech-librivox-b.wav" trim 12.7 12
sox "$OUT/tmp/misc.wav" "$OUT/src/speech-misc-a.wav" trim 0 12
# the recordings add up to 19.5 s: the second clip is their last 12 s (it overlaps the first by 4.5 s)
sox "$OUT/tmp/misc.wav" "$OUT/src/speech-misc-b.wav" trim -12
for f in "$MUSIC_DIR"/*.ogg; do
  name=$(basename "$f" .ogg)
  dur=$(soxi -D "$f")
  for c in $(seq 1 "$CLIPS_PER_TRACK"); do # evenly spread over the track
    ss=$(python3 -c "print(round(($dur - 12) * $c / ($CLIPS_PER_TRACK + 1), 1))")
    ffmpeg $Q -ss "$ss" -t 12 -i "$f" -c:a pcm_s16le "$OUT/src/music-$name-$c.wav"
  done
done
ls "$OUT/src" | wc -l | awk '{print "clips:", $1}'

# ---- mark and measure quality ----
echo "== embed (strength $STRENGTH)"
: > "$OUT/quality.jsonl"
for f in "$OUT"/src/*.wav; do
  "$BIN" embed "$f" "$OUT/marked/$(basename "$f")" "$STRENGTH" >> "$OUT/quality.jsonl"
done

# ---- attacks: each writes $2 (WAV) from $1 (WAV) ----
noise20() { # white noise 20 dB below the clip's RMS
  local rms; rms=$(sox "$1" -n stat 2>&1 | awk '/RMS     amplitude/{print $3}')
  local ch; ch=$(soxi -c "$1"); local r; r=$(soxi -r "$1"); local d; d=$(soxi -D "$1")
  sox -n -r "$r" -c "$ch" -b 16 "$OUT/tmp/noise.wav" synth "$d" whitenoise vol "$(python3 -c "print($rms*0.1*1.7320508)")"
  sox -m "$1" "$OUT/tmp/noise.wav" -b 16 "$2"
}
attack() {
  local a=$1 in=$2 out=$3 t="$OUT/tmp/a"
  case $a in
    none) cp "$in" "$out" ;;
    mp3-32|mp3-64|mp3-128|mp3-320) ffmpeg $Q -i "$in" -c:a libmp3lame -b:a "${a#mp3-}k" "$t.mp3" && ffmpeg $Q -i "$t.mp3" "$out" ;;
    aac-64) ffmpeg $Q -i "$in" -c:a aac -b:a 64k "$t.m4a" && ffmpeg $Q -i "$t.m4a" "$out" ;;
    vorbis-q0) ffmpeg $Q -i "$in" -c:a libvorbis -q:a 0 "$t.ogg" && ffmpeg $Q -i "$t.ogg" "$out" ;;
    opus-32) ffmpeg $Q -i "$in" -c:a libopus -b:a 32k "$t.opus" && ffmpeg $Q -i "$t.opus" "$out" ;;
    rate-8000|rate-16000|rate-22050|rate-48000) sox "$in" -b 16 "$out" rate -v "${a#rate-}" ;;
    mono) sox "$in" "$out" remix - ;;
    gain+10) sox "$in" "$out" vol 10dB 2>/dev/null ;;
    gain-10) sox "$in" "$out" vol -10dB ;;
    compressor) sox "$in" "$out" compand 0.005,0.1 -60,-60,-40,-25,-20,-12,0,-6 0 -3 0.05 2>/dev/null ;;
    limiter) ffmpeg $Q -i "$in" -af "volume=12dB,alimiter=limit=0.5:attack=5:release=50" "$out" ;;
    lowpass-5k) sox "$in" "$out" lowpass 5000 ;;
    highpass-1k) sox "$in" "$out" highpass 1000 ;;
    noise-20db) noise20 "$in" "$out" ;;
    echo) sox "$in" "$out" echo 0.8 0.9 60 0.4 ;;
    telephone) sox "$in" -r 8000 -c 1 "$t.tel.wav" sinc 300-3400 && ffmpeg $Q -i "$t.tel.wav" -c:a pcm_mulaw "$t.mulaw.wav" && ffmpeg $Q -i "$t.mulaw.wav" -c:a pcm_s16le "$out" ;;
    speed+5) sox "$in" "$out" speed 1.05 ;;
    speed-5) sox "$in" "$out" speed 0.95 ;;
    tempo+5) sox "$in" "$out" tempo 1.05 ;;
    tempo-5) sox "$in" "$out" tempo 0.95 ;;
    pitch+50c) sox "$in" "$out" pitch 50 ;;
    pitch-50c) sox "$in" "$out" pitch -50 ;;
    *) echo "unknown attack $a" >&2; return 1 ;;
  esac
}
ATTACKS="none mp3-32 mp3-64 mp3-128 mp3-320 aac-64 vorbis-q0 opus-32 rate-8000 rate-16000 rate-22050 rate-48000 mono
gain+10 gain-10 compressor limiter lowpass-5k highpass-1k noise-20db echo telephone speed+5 speed-5 tempo+5 tempo-5
pitch+50c pitch-50c"

echo "== attacks (each followed by a 10 s excerpt starting at 1.3 s)"
: > "$OUT/attacks.jsonl"
for a in $ATTACKS; do
  for f in "$OUT"/marked/*.wav; do
    if ! attack "$a" "$f" "$OUT/tmp/att.wav"; then
      echo "{\"attack\":\"$a\",\"clip\":\"$(basename "$f")\",\"error\":\"attack failed\"}" >> "$OUT/attacks.jsonl"; continue
    fi
    sox "$OUT/tmp/att.wav" "$OUT/tmp/ex.wav" trim 1.3 10
    "$BIN" detect "$OUT/tmp/ex.wav" | sed "s|\"file\":\"[^\"]*\"|\"attack\":\"$a\",\"clip\":\"$(basename "$f")\"|" >> "$OUT/attacks.jsonl"
  done
done
echo "== excerpts: 5 s, and 10 s of marked audio between unmarked audio"
for f in "$OUT"/marked/*.wav; do
  b=$(basename "$f")
  sox "$f" "$OUT/tmp/ex.wav" trim 2.1 5
  "$BIN" detect "$OUT/tmp/ex.wav" | sed "s|\"file\":\"[^\"]*\"|\"attack\":\"excerpt-5s\",\"clip\":\"$b\"|" >> "$OUT/attacks.jsonl"
  other=$(ls "$OUT"/src/*.wav | grep -v "$b" | head -1)
  sox "$other" -r "$(soxi -r "$f")" -c "$(soxi -c "$f")" "$OUT/tmp/o.wav"
  sox "$OUT/tmp/o.wav" "$OUT/tmp/o1.wav" trim 0 3
  sox "$f" "$OUT/tmp/m.wav" trim 0.7 10
  sox "$OUT/tmp/o1.wav" "$OUT/tmp/m.wav" "$OUT/tmp/o1.wav" "$OUT/tmp/cat.wav"
  "$BIN" detect "$OUT/tmp/cat.wav" | sed "s|\"file\":\"[^\"]*\"|\"attack\":\"concat-3+10+3s\",\"clip\":\"$b\"|" >> "$OUT/attacks.jsonl"
done

# So short a host decodes for some keys and not others: every sample is marked and detected under
# BUNDLED_KEYS keys (WM_KEY_SEED 0 is the bench key); the quality table is the bench key's.
echo "== bundled samples (samples/audio, 6.7-7.7 s): whole file right after marking, strength 1, 1.5 and 2, ${BUNDLED_KEYS} keys"
for f in "$ROOT"/samples/audio/speech-zh.wav "$ROOT"/samples/audio/speech-en.flac "$ROOT"/samples/audio/music.mp3; do
  b=$(basename "$f"); b=${b%.*}
  ffmpeg $Q -i "$f" -c:a pcm_s16le "$OUT/tmp/bundled.wav"
  for s in 1 1.5 2; do
    for ((seed = 0; seed < BUNDLED_KEYS; seed++)); do
      q=$(WM_KEY_SEED=$seed "$BIN" embed "$OUT/tmp/bundled.wav" "$OUT/tmp/bundled-m.wav" "$s")
      if [ "$seed" -eq 0 ]; then echo "$q" | sed "s|\"file\":\"[^\"]*\"|\"clip\":\"$b\",\"strength\":$s|" >> "$OUT/bundled-quality.jsonl"; fi
      WM_KEY_SEED=$seed "$BIN" detect "$OUT/tmp/bundled-m.wav" | sed "s|\"file\":\"[^\"]*\"|\"attack\":\"bundled-s$s\",\"clip\":\"bundled-$b\"|" >> "$OUT/attacks.jsonl"
    done
  done
done

python3 "$ROOT/bench/wm_audio_report.py" main "$OUT"

# ---- long audio at audiowmark's loudness ----
# audiowmark's test suite asserts an SNR of at least 32.3 dB for its default strength on white noise, and its
# README places a data block about every 52 s; QUIET_STRENGTH (0.28) gives 33 dB on white noise. The whole
# attacked file is searched, so the detector's stream-long folds add up the evidence of up to a minute of audio.
if [ "$QUIET_STRENGTH" != 0 ]; then
  echo "== long audio at strength $QUIET_STRENGTH: 60 s of each music track and the 44 s of real speech, whole file"
  mkdir -p "$OUT/long-src" "$OUT/long-marked"
  sox "$OUT/tmp/librivox.wav" "$OUT/tmp/misc.wav" "$OUT/long-src/speech-all.wav"
  for f in "$MUSIC_DIR"/*.ogg; do
    ffmpeg $Q -ss 10 -t 60 -i "$f" -c:a pcm_s16le "$OUT/long-src/music-$(basename "$f" .ogg).wav"
  done
  : > "$OUT/long-quality.jsonl"
  : > "$OUT/long.jsonl"
  for f in "$OUT"/long-src/*.wav; do
    "$BIN" embed "$f" "$OUT/long-marked/$(basename "$f")" "$QUIET_STRENGTH" >> "$OUT/long-quality.jsonl"
  done
  # audiowmark's test suite asserts its SNR on white noise (44.1 kHz): the same signal here, at both strengths
  sox -n -r 44100 -c 2 -b 16 "$OUT/tmp/white.wav" synth 30 whitenoise vol 0.3
  for s in "$QUIET_STRENGTH" "$STRENGTH"; do
    "$BIN" embed "$OUT/tmp/white.wav" "$OUT/tmp/white-m.wav" "$s" | sed "s|\"file\":\"[^\"]*\"|\"file\":\"white-noise\",\"strength\":$s|"
  done | tee "$OUT/white-quality.jsonl"
  for a in $ATTACKS excerpt-30s excerpt-20s excerpt-10s; do
    for f in "$OUT"/long-marked/*.wav; do
      case $a in
        excerpt-*) sox "$f" "$OUT/tmp/att.wav" trim 1.3 "$(echo "${a#excerpt-}" | tr -d s)" ;;
        *) if ! attack "$a" "$f" "$OUT/tmp/att.wav"; then
             echo "{\"attack\":\"$a\",\"clip\":\"$(basename "$f")\",\"error\":\"attack failed\"}" >> "$OUT/long.jsonl"; continue
           fi ;;
      esac
      "$BIN" detect "$OUT/tmp/att.wav" | sed "s|\"file\":\"[^\"]*\"|\"attack\":\"$a\",\"clip\":\"$(basename "$f")\"|" >> "$OUT/long.jsonl"
    done
  done
  python3 "$ROOT/bench/wm_audio_report.py" long "$OUT"
  if [ "$LONG_FA_TRIALS" -gt 0 ]; then
    echo "== false alarms: $LONG_FA_TRIALS random keys on 60 s of the unmarked long clips (stream-long folds searched)"
    "$BIN" fa "$LONG_FA_TRIALS" 60 "$OUT"/long-src/*.wav | tee "$OUT/fa-long.json"
  fi
fi

echo "== speed (one core)"
sox "$OUT/tmp/librivox.wav" "$OUT/tmp/misc.wav" "$OUT/tmp/speech-all.wav"
ffmpeg $Q -i "$MUSIC_DIR/castle.ogg" -t 60 -c:a pcm_s16le "$OUT/tmp/music-60s.wav"
"$BIN" speed "$OUT/tmp/music-60s.wav" 3 | tee "$OUT/speed.jsonl"
"$BIN" speed "$OUT/tmp/speech-all.wav" 3 | tee -a "$OUT/speed.jsonl"
echo "== memory: 30 minutes streamed through embedder and detector"
"$BIN" memory "$OUT/tmp/music-60s.wav" 30 | tee "$OUT/memory.json"

# ---- side by side with audiowmark (optional: AUDIOWMARK=path; how to get it: bench/AUDIO.md) ----
# audiowmark marks the 12 s clips and the long clips at its default strength; this mark is then embedded in each at the
# largest strength that is no louder than audiowmark's by any of SNR, segmental SNR, SNR in 700-4300 Hz and
# log-spectral distance (embed-matched),
# and both go through the same attacks and excerpts. audiowmark counts as finding the payload when its
# 128-bit message is among the patterns it prints (it prints wrong ones too; "top": printed first).
if [ -n "${AUDIOWMARK:-}" ]; then
  [ -x "$AUDIOWMARK" ] || { echo "wm_audio.sh: AUDIOWMARK=$AUDIOWMARK is not executable" >&2; exit 2; }
  AWM_MSG=0123456789abcdef0011223344556677
  TIMEFORMAT="%U %S" # bash's `time`: user and system CPU seconds, summed by cpu()
  cpu() { echo "$1" | awk '{ printf "%.3f", $1 + $2 }'; }
  aw_detect() { # FILE: one JSON fragment
    local o; o=$("$AUDIOWMARK" cmp "$1" "$AWM_MSG" 2>/dev/null || true)
    echo "$o" | awk -v m="$AWM_MSG" '/^pattern/ { n++; if (n == 1) top = ($3 == m) } /^match_count/ { mc = $2 }
      END { printf "\"exact\":%d,\"top\":%d,\"patterns\":%d", (mc > 0), top + 0, n + 0 }'
  }
  # side_by_side SRC_DIR TAG EXCERPT: marks SRC_DIR/*.wav with both (TAG-aw-marked, TAG-matched), writes
  # TAG-matched-quality.jsonl and TAG.jsonl; EXCERPT=10 cuts 10 s (and adds 5 s excerpts), 0 keeps whole files
  side_by_side() {
    local src=$1 tag=$2 excerpt=$3 a sys dir f b
    mkdir -p "$OUT/$tag-aw-marked" "$OUT/$tag-matched"
    : > "$OUT/$tag-matched-quality.jsonl"
    for f in "$src"/*.wav; do
      b=$(basename "$f")
      "$AUDIOWMARK" add -q "$f" "$OUT/$tag-aw-marked/$b" "$AWM_MSG"
      "$BIN" embed-matched "$f" "$OUT/$tag-matched/$b" "$OUT/$tag-aw-marked/$b" >> "$OUT/$tag-matched-quality.jsonl"
    done
    : > "$OUT/$tag.jsonl"
    for a in $ATTACKS $([ "$excerpt" = 0 ] || echo excerpt-5s); do
      echo "   $a"
      for sys in audiowmark aimark; do
        dir=$OUT/$tag-matched; [ "$sys" = audiowmark ] && dir=$OUT/$tag-aw-marked
        for f in "$dir"/*.wav; do
          b=$(basename "$f")
          if [ "$a" = excerpt-5s ]; then
            sox "$f" "$OUT/tmp/ex.wav" trim 2.1 5
          elif ! attack "$a" "$f" "$OUT/tmp/att.wav"; then
            echo "{\"system\":\"$sys\",\"attack\":\"$a\",\"clip\":\"$b\",\"error\":\"attack failed\"}" >> "$OUT/$tag.jsonl"; continue
          elif [ "$excerpt" = 0 ]; then
            mv "$OUT/tmp/att.wav" "$OUT/tmp/ex.wav"
          else
            sox "$OUT/tmp/att.wav" "$OUT/tmp/ex.wav" trim 1.3 "$excerpt"
          fi
          if [ "$sys" = audiowmark ]; then
            echo "{\"system\":\"audiowmark\",\"attack\":\"$a\",\"clip\":\"$b\",$(aw_detect "$OUT/tmp/ex.wav")}"
          else
            "$BIN" detect "$OUT/tmp/ex.wav" | sed "s|\"file\":\"[^\"]*\"|\"system\":\"aimark\",\"attack\":\"$a\",\"clip\":\"$b\"|"
          fi >> "$OUT/$tag.jsonl"
        done
      done
    done
  }
  echo "== side by side: audiowmark at its default strength, this mark at the same loudness clip by clip; 10 s excerpts"
  side_by_side "$OUT/src" side 10
  if [ -d "$OUT/long-src" ]; then
    echo "== side by side on the long clips (39-60 s), whole files"
    side_by_side "$OUT/long-src" side-long 0
  fi
  # four of the six rows: its slow search takes about 10 s of CPU per 10 s excerpt
  echo "== side by side: audiowmark's slow search (--detect-speed) on speed +-5%, tempo +5%, pitch +50 cents, 10 s excerpts"
  : > "$OUT/side-detect-speed.jsonl"
  for a in speed+5 speed-5 tempo+5 pitch+50c; do
    for f in "$OUT"/side-aw-marked/*.wav; do
      attack "$a" "$f" "$OUT/tmp/att.wav" && sox "$OUT/tmp/att.wav" "$OUT/tmp/ex.wav" trim 1.3 10 || continue
      t=$( { time "$AUDIOWMARK" cmp --detect-speed "$OUT/tmp/ex.wav" "$AWM_MSG" > "$OUT/tmp/aw-ds.txt" 2>/dev/null; } 2>&1 ) || true
      mc=$(awk '/^match_count/ { print $2 }' "$OUT/tmp/aw-ds.txt")
      echo "{\"attack\":\"$a\",\"clip\":\"$(basename "$f")\",\"exact\":$([ "${mc:-0}" -ge 1 ] && echo 1 || echo 0),\"cpu_s\":$(cpu "$t")}" >> "$OUT/side-detect-speed.jsonl"
    done
  done
  if [ -f "$OUT/tmp/white.wav" ]; then
    echo "== side by side: loudness on the long section's white noise"
    "$AUDIOWMARK" add -q "$OUT/tmp/white.wav" "$OUT/tmp/white-aw.wav" "$AWM_MSG"
    "$BIN" embed-matched "$OUT/tmp/white.wav" "$OUT/tmp/white-matched.wav" "$OUT/tmp/white-aw.wav" | tee "$OUT/white-matched.jsonl"
  fi
  echo "== side by side: what audiowmark prints for 10 s excerpts of the unmarked clips"
  : > "$OUT/aw-unmarked.jsonl"
  for f in "$OUT"/src/*.wav; do
    sox "$f" "$OUT/tmp/ex.wav" trim 1.3 10
    echo "{\"clip\":\"$(basename "$f")\",$(aw_detect "$OUT/tmp/ex.wav")}" >> "$OUT/aw-unmarked.jsonl"
  done
  echo "== side by side: speed (CPU time of one run, all threads; audiowmark's detector is multi-threaded)"
  : > "$OUT/aw-speed.jsonl"
  for f in "$OUT/tmp/music-60s.wav" "$OUT/tmp/speech-all.wav"; do
    dur=$(soxi -D "$f")
    te=$( { time "$AUDIOWMARK" add -q "$f" "$OUT/tmp/aw-speed.wav" "$AWM_MSG" >/dev/null 2>&1; } 2>&1 )
    td=$( { time "$AUDIOWMARK" get "$OUT/tmp/aw-speed.wav" >/dev/null 2>&1; } 2>&1 )
    tu=$( { time "$AUDIOWMARK" get "$f" >/dev/null 2>&1; } 2>&1 )
    echo "{\"file\":\"$(basename "$f")\",\"seconds\":$dur,\"embed_cpu_s\":$(cpu "$te"),\"detect_marked_cpu_s\":$(cpu "$td"),\"detect_unmarked_cpu_s\":$(cpu "$tu")}" >> "$OUT/aw-speed.jsonl"
  done
  cat "$OUT/aw-speed.jsonl"
  python3 "$ROOT/bench/wm_audio_report.py" side "$OUT"
fi

if [ "$FA_TRIALS" -gt 0 ]; then
  echo "== false alarms: $FA_TRIALS random keys on 10 s excerpts of the unmarked clips"
  "$BIN" fa "$FA_TRIALS" 10 "$OUT"/src/*.wav | tee "$OUT/fa.json"
  echo "== false alarms: $FA_TRIALS random keys on 5 s excerpts of the marked clips (marked under the bench key)"
  "$BIN" fa "$FA_TRIALS" 5 "$OUT"/marked/*.wav | tee "$OUT/fa-marked-5s.json"
fi

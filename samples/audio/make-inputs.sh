#!/bin/sh
# Re-creates the unlabelled sample sounds of this folder (see README.md).
# Needs espeak-ng (Debian package espeak-ng), ffmpeg and python3.
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bitexact="-map_metadata -1 -fflags +bitexact -flags:a +bitexact"
espeak-ng -v cmn -s 150 -w "$tmp/zh.wav" "今天天气很好，我们去公园散步吧。"
ffmpeg -v error -y -i "$tmp/zh.wav" -ar 16000 -ac 1 -c:a pcm_s16le $bitexact speech-zh.wav
espeak-ng -v en-us -s 150 -w "$tmp/en.wav" "The quick brown fox jumps over the lazy dog. Spring has come, and the flowers are in bloom."
ffmpeg -v error -y -i "$tmp/en.wav" -ar 22050 -ac 1 -c:a flac -sample_fmt s16 $bitexact speech-en.flac
python3 melody.py "$tmp/music.wav" 44100
ffmpeg -v error -y -i "$tmp/music.wav" -c:a libmp3lame -b:a 128k $bitexact music.mp3

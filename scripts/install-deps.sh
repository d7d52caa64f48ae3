#!/usr/bin/env bash
# Installs what aimark needs to build, test and run its demo on Debian 12.
# Installs only what is missing; needs root (or sudo) when something is.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config clang libclang-rt-14-dev
  libssl-dev libjansson-dev libexpat1-dev libcbor-dev libcmocka-dev zlib1g-dev
  libpng-dev libjpeg62-turbo-dev libwebp-dev libsndfile1-dev libfreetype-dev libarchive-dev
  sox
  libavformat-dev libavcodec-dev libavutil-dev libswscale-dev libswresample-dev
  ffmpeg libimage-exiftool-perl webp libjpeg-turbo-progs python3 qpdf poppler-utils unzip bc chromium
)
# Node.js runs the C2PA reference validator (c2pa-rs as WebAssembly) in the interop tests;
# a machine that already has node (e.g. a newer one from elsewhere) keeps it.
command -v node >/dev/null 2>&1 || PACKAGES+=(nodejs npm)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

npm_deps() {
  # The reference C2PA validator, pinned in tests/interop/c2pa/package.json.
  local dir
  dir="$(cd "$(dirname "$0")/.." && pwd)/tests/interop/c2pa"
  if [ -f "$dir/package.json" ] && [ ! -d "$dir/node_modules/@contentauth/c2pa-wasm" ] && command -v npm >/dev/null 2>&1; then
    echo "install-deps: npm install in tests/interop/c2pa"
    (cd "$dir" && npm install --no-audit --no-fund --loglevel=error) ||
      echo "install-deps: npm install failed; the C2PA interop test will say it skipped" >&2
  fi
}

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  npm_deps
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
npm_deps

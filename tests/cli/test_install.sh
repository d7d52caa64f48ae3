#!/usr/bin/env bash
# cmake --install gives headers, libraries, a pkg-config file and a CMake package that a service can build against.
set -euo pipefail
: "${AIMARK_BIN:?}" "${AIMARK_SRC:?}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pass=0 fail=0
check() { if "$@"; then pass=$((pass + 1)); else echo "FAILED: $*"; fail=$((fail + 1)); fi; }

cmake --install "$AIMARK_BIN" --prefix "$work/prefix" >/dev/null
check test -f "$work/prefix/include/aimark/aimark.h"
check test -f "$work/prefix/lib/pkgconfig/aimark.pc" -o -f "$work/prefix/lib/x86_64-linux-gnu/pkgconfig/aimark.pc"
libdir=$(dirname "$(find "$work/prefix" -name 'libaimark.so.0' | head -1)")
check test -n "$libdir"

# A sanitizer build's library needs sanitizer-built programs.
san=""
if [ "$(nm -D "$libdir/libaimark.so.0" 2>/dev/null | grep -c __asan_init)" -gt 0 ]; then san="-fsanitize=address,undefined"; fi
# pkg-config consumer
export PKG_CONFIG_PATH="$libdir/pkgconfig"
check cc $san -o "$work/ex-pc" "$AIMARK_SRC/samples/examples/label_in_memory.c" $(pkg-config --cflags --libs aimark) -Wl,-rpath,"$libdir"
# CMake consumer
check cmake -S "$AIMARK_SRC/samples/examples" -B "$work/b" -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_RPATH="$libdir" \
	-DCMAKE_C_FLAGS="$san" -DCMAKE_EXE_LINKER_FLAGS="$san" >/dev/null
check cmake --build "$work/b" >/dev/null

# The example labels a file and the installed library verifies it.
"$AIMARK_BIN/aimark-keygen" --out "$work/k" >/dev/null
check "$work/ex-pc" "$work/k" 001191110102MACQD9K64010000 "$AIMARK_SRC/samples/images/cellauto.png" "$work/out.png"
check "$work/b/label_in_memory" "$work/k" 001191110102MACQD9K64010000 "$AIMARK_SRC/samples/images/mandelbrot.jpg" "$work/out.jpg"
check "$AIMARK_BIN/aimark-verify" --quiet --trust "$work/k/signing.pub" "$work/out.png" "$work/out.jpg"
# Only AIMARK_API symbols are exported.
check test "$(nm -D --defined-only "$libdir/libaimark.so.0" | awk '$2=="T"{print $3}' | grep -vc '^aimark_')" -eq 0

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

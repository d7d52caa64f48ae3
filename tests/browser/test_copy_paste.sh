#!/bin/bash
# The invisible text mark survives being selected and copied out of a page
# rendered by headless Chromium: the browser's own copy command puts the text
# on its clipboard, the test reads the clipboard back and verifies it.
# Needs the Debian packages chromium and nodejs (node talks to Chromium over
# the DevTools pipe; no npm packages); skips with a message when either is
# missing.
#
# Environment: AIMARK_BIN (build directory holding libaimark.a), AIMARK_SRC
# (source tree), CHROMIUM (browser command, default chromium).
set -u
SRC=${AIMARK_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${AIMARK_BIN:-$SRC/build}
CHROMIUM=${CHROMIUM:-chromium}
export CHROMIUM

skip() {
	echo "SKIP: $1"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
}
command -v "$CHROMIUM" >/dev/null 2>&1 || skip "$CHROMIUM is not installed (Debian: apt-get install chromium)"
command -v node >/dev/null 2>&1 || skip "node is not installed (Debian: apt-get install nodejs)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ -n "${AIMARK_TEXT_DRIVER:-}" ] && [ -x "$AIMARK_TEXT_DRIVER" ]; then
	cp "$AIMARK_TEXT_DRIVER" "$tmp/text_driver"   # built by CMake with the library's own flags
else
	[ -f "$BIN/libaimark.a" ] || skip "no libaimark.a in $BIN (build the aimark_static target)"

	# the library's dependencies, as CMakeLists.txt lists them for pkg-config
	mods=$(sed -n '/pkg_check_modules(AIMARK_DEPS/,/)/p' "$SRC/CMakeLists.txt" |
		sed 's/pkg_check_modules(AIMARK_DEPS//; s/REQUIRED//; s/IMPORTED_TARGET//; s/[()]//g; s/>=[^ ]*//g')
	if ! cc -std=gnu11 -I"$SRC/include" -I"$SRC/src" "$SRC/tests/browser/text_driver.c" "$BIN/libaimark.a" \
		$(pkg-config --libs $mods) -lm -lpthread -o "$tmp/text_driver" 2> "$tmp/cc.log"; then
		cat "$tmp/cc.log"
		echo "FAIL: cannot build the test driver"
		echo "0 passed, 1 failed"
		exit 1
	fi
fi

passed=0
failed=0
check() { # name, json, expect-explicit (yes|no)
	local name=$1 json=$2 want_explicit=$3
	if ! grep -q '"watermark":{"detected":true' <<< "$json" || ! grep -q '"payload":"6f1c0d2a9b8e4f7a"' <<< "$json"; then
		echo "FAIL: $name: the mark did not verify: $json"
		failed=$((failed + 1))
		return
	fi
	if [ "$want_explicit" = yes ] && ! grep -q '"explicit":{"detected":true' <<< "$json"; then
		echo "FAIL: $name: the explicit label was not found: $json"
		failed=$((failed + 1))
		return
	fi
	echo "ok: $name"
	passed=$((passed + 1))
}

# A page of public-domain prose (The Devil's Dictionary) with Chinese of our own.
{
	printf '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Copy test</title>\n</head>\n<body>\n'
	sed -n '2000,2060p' "$SRC/tests/data/text-corpus/devils-dictionary.txt" |
		sed 's/&/\&amp;/g; s/</\&lt;/g' | awk 'BEGIN { print "<p>" } /^$/ { print "</p>\n<p>"; next } { print } END { print "</p>" }'
	printf '<p>人工智能正在改变我们的生活。它可以帮助人们写作、翻译和编程，但也带来了新的问题。因此，标识人工智能生成的内容非常重要。</p>\n'
	printf '</body>\n</html>\n'
} > "$tmp/page.html"
"$tmp/text_driver" mark html "$tmp/page.html" "$tmp/marked.html" || { echo "FAIL: marking"; exit 1; }

# 1. select all, copy, paste
node "$SRC/tests/browser/copy_text.js" "file://$tmp/marked.html" all > "$tmp/all.txt" || { echo "FAIL: copy"; exit 1; }
check "select-all copy" "$("$tmp/text_driver" detect text "$tmp/all.txt")" yes

# 2. excerpts of 300 characters selected in the middle of the page
for start in 150 700 1300 2100; do
	node "$SRC/tests/browser/copy_text.js" "file://$tmp/marked.html" excerpt "$start" 300 > "$tmp/part.txt" ||
		{ echo "FAIL: copy"; exit 1; }
	check "300-character excerpt at $start" "$("$tmp/text_driver" detect text "$tmp/part.txt")" no
done

# 3. the copied text pasted into a new document and marked up again as HTML
{ printf '<p>'; sed 's/&/\&amp;/g; s/</\&lt;/g' "$tmp/all.txt"; printf '</p>\n'; } > "$tmp/pasted.html"
check "pasted into HTML" "$("$tmp/text_driver" detect html "$tmp/pasted.html")" no

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

#!/usr/bin/env bash
# aimark signs a file of every C2PA format; the reference validator (c2pa-rs as WebAssembly, npm
# @contentauth/c2pa-wasm) must call each Valid without trust anchors and Trusted with aimark's test root.
set -u
BIN=${AIMARK_BIN:?}
SRC=${AIMARK_SRC:?}
HARNESS="$SRC/tests/interop/c2pa"
if ! command -v node >/dev/null 2>&1; then
	echo "SKIP: node is not installed; the C2PA interop test needs node 18+ and npm"
	exit 0
fi
if [ ! -d "$HARNESS/node_modules/@contentauth/c2pa-wasm" ]; then
	if ! (cd "$HARNESS" && npm install --no-audit --no-fund --silent >/dev/null 2>&1); then
		echo "SKIP: cannot install @contentauth/c2pa-wasm (npm install in $HARNESS failed)"
		exit 0
	fi
fi
SIGN="$BIN/tests/test_c2pa_interop"
if [ ! -x "$SIGN" ]; then
	echo "FAIL: $SIGN was not built"
	exit 1
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
AIMARK_C2PA_INTEROP_DIR="$TMP" "$SIGN" >/dev/null || { echo "FAIL: signing"; exit 1; }
pass=0 fail=0
check() { # label expected-state json-line
	local state
	state=$(printf '%s' "$3" | sed -n 's/.*"state":"\([A-Za-z]*\)".*/\1/p')
	local failures
	failures=$(printf '%s' "$3" | sed -n 's/.*"failure":\[\([^]]*\)\].*/\1/p')
	if [ "$state" = "$2" ]; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL: $1: reference says $state (expected $2): $3"
	fi
	: "$failures"
}
while IFS= read -r line; do check "untrusted" Valid "$line"; done < <(cd "$HARNESS" && node verify.mjs "$TMP"/out/*)
while IFS= read -r line; do check "anchored" Trusted "$line"; done < <(cd "$HARNESS" && node verify.mjs --anchors "$TMP/keys/c2pa-root.pem" "$TMP"/out/*)
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

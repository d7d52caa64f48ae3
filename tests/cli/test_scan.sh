#!/usr/bin/env bash
# CLI tests for aimark-scan: a tree of mixed files with --jobs 2, JSONL rows, the summary, --resume,
# symbolic links, refusal to clobber a JSONL, and usage errors.
set -euo pipefail

. "$(dirname "$0")/lib.sh"
fail_on_error
: "${AIMARK_SRC:?set AIMARK_SRC to the source directory}"
KEYGEN="$AIMARK_BIN/aimark-keygen"
MARK="$AIMARK_BIN/aimark-mark"
SCAN="$AIMARK_BIN/aimark-scan"
DATA="$AIMARK_SRC/tests/data/cli"
use_python
expect_eq() { # expect_eq GOT WANT DESCRIPTION
	if [ "$1" = "$2" ]; then ok "$3"; else fail "$3: got '$1', want '$2'"; fi
}
# JSON checks through python3 (jq is not installed).
# rows FILE [EXPR]: number of JSON lines (all must parse), or of those where EXPR (python, row is `r`) holds.
rows() {
	"$PY" - "$1" "${2:-True}" <<'EOF'
import json, sys
n = 0
for line in open(sys.argv[1]):
    if not line.strip():
        continue
    r = json.loads(line)
    if eval(sys.argv[2]):
        n += 1
print(n)
EOF
}
# row_field FILE NAME KEY: the top-level KEY of the row whose "file" ends with /NAME
row_field() {
	"$PY" - "$1" "$2" "$3" <<'EOF'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["file"].endswith("/" + sys.argv[2]):
        print(r.get(sys.argv[3], "<missing>"))
        break
else:
    print("<no row>")
EOF
}
jget() { # jget FILE DOTTED.PATH
	"$PY" -c 'import json,sys
d = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): d = d.get(k, "<missing>") if isinstance(d, dict) else "<missing>"
print("null" if d is None else d)' "$1" "$2"
}

# ---- fixtures: a tree of mixed files ---------------------------------------------------------------
"$KEYGEN" --producer SCANPRODUCER --out "$W/keys" >/dev/null
T="$W/tree"
mkdir -p "$T/sub/deeper" "$T/.hidden" "$T/empty-dir"
"$MARK" --key "$W/keys" "$DATA/plain.png" -o "$T/signed.png" >/dev/null
"$MARK" --key "$W/keys" "$DATA/plain.jpg" -o "$T/sub/signed.jpg" >/dev/null
"$MARK" --key "$W/keys" "$DATA/plain.webp" -o "$T/sub/deeper/signed.webp" >/dev/null
"$MARK" --key "$W/keys" "$DATA/plain.png" -o "$T/.hidden/hidden.png" >/dev/null
"$MARK" --no-sign --producer SCANPRODUCER "$DATA/plain.jpg" -o "$T/sub/unsigned.jpg" >/dev/null
cp "$DATA/plain.png" "$T/plain.png"
cp "$T/signed.png" "$T/sub/tampered.png"
"$PY" - "$T/sub/tampered.png" <<'EOF'
import struct, sys, zlib
p = sys.argv[1]
b = bytearray(open(p, 'rb').read())
pos = 8
while pos + 8 <= len(b):
    n = struct.unpack('>I', b[pos:pos + 4])[0]
    if b[pos + 4:pos + 8] == b'IDAT':
        b[pos + 8 + n // 2] ^= 1
        b[pos + 8 + n:pos + 12 + n] = struct.pack('>I', zlib.crc32(bytes(b[pos + 4:pos + 8 + n])) & 0xffffffff)
        break
    pos += 12 + n
open(p, 'wb').write(b)
EOF
for i in $(seq 1 150); do printf '\x00\x9c\xfe\x01noise%03d\x07' "$i"; done >"$T/sub/garbage.bin"
printf '\x89PNG\r\n\x1a\n\x00\x00' >"$T/sub/truncated.png"
: >"$T/empty-file"
printf '\x00\x01\x02\x03 binary data of no known format \xff\x00' >"$T/unknown.dat"
ln -s ../signed.png "$T/sub/link-to-signed.png"
ln -s .. "$T/sub/deeper/loop"
mkfifo "$T/fifo"
# 11 regular files; 2 links and a fifo are not regular files without --follow-symlinks.
NFILES=11

# ---- help, version, usage errors -------------------------------------------------------------------
run "$SCAN" --help
expect_rc 0 "--help exits 0"
check "--help prints usage, options, exit codes and an example" \
	bash -c "grep -q 'Usage: aimark-scan' '$W/out' && grep -q -- '--resume' '$W/out' && grep -q 'Exit codes' '$W/out' && grep -q 'Example' '$W/out'"
run "$SCAN" --version
expect_rc 0 "--version exits 0"
check "--version prints a version" grep -Eq '^aimark-scan [0-9]+\.[0-9]+\.[0-9]+$' "$W/out"
run "$SCAN" --bogus "$T"
expect_rc 64 "unknown option exits 64"
check "unknown option prints usage on stderr only" bash -c "grep -q Usage '$W/err' && [ ! -s '$W/out' ]"
run "$SCAN"
expect_rc 64 "no PATH exits 64"
run "$SCAN" --jobs 0 "$T"
expect_rc 64 "--jobs 0 exits 64"
run "$SCAN" --jobs many "$T"
expect_rc 64 "--jobs many exits 64"
run "$SCAN" --resume "$T"
expect_rc 64 "--resume without --jsonl exits 64"
run "$SCAN" --jsonl "$W/x.jsonl" "$W/no-such-dir"
expect_rc 1 "a missing PATH exits 1"
check "the missing PATH is named" grep -q "no-such-dir" "$W/err"
check "nothing was written for a scan that could not run" test ! -e "$W/x.jsonl"
run "$SCAN" --trust "$W/no-such-key.pub" "$T"
expect_rc 1 "an unreadable --trust exits 1"
run "$SCAN" --jsonl "$W/no-such-dir/x.jsonl" "$T"
expect_rc 1 "an unwritable --jsonl exits 1"

# ---- the scan ----------------------------------------------------------------------------------------
J="$W/scan.jsonl"
run "$SCAN" --jobs 2 --trust "$W/keys" --jsonl "$J" --summary-json "$W/summary.json" "$T"
expect_rc 0 "scan --jobs 2 exits 0"
expect_eq "$(rows "$J")" "$NFILES" "one JSON row per regular file"
expect_eq "$("$PY" -c 'import json,sys; f=[json.loads(l)["file"] for l in open(sys.argv[1])]; print(len(f)-len(set(f)))' "$J")" 0 \
	"no file is listed twice"
expect_eq "$(rows "$J" '"file" in r and "verdict" in r and "format" in r')" "$NFILES" "every row has file, format and verdict"
expect_eq "$(row_field "$J" signed.png verdict)" authentic "signed PNG: authentic"
expect_eq "$(row_field "$J" signed.jpg verdict)" authentic "signed JPEG: authentic"
expect_eq "$(row_field "$J" signed.webp verdict)" authentic "signed WebP in a nested directory: authentic"
expect_eq "$(row_field "$J" hidden.png verdict)" authentic "files in hidden directories are scanned"
expect_eq "$(row_field "$J" unsigned.jpg verdict)" unverified "unsigned label: unverified"
expect_eq "$(row_field "$J" plain.png verdict)" not-labelled "unlabelled PNG: not-labelled"
expect_eq "$(row_field "$J" tampered.png verdict)" tampered "tampered PNG: tampered"
expect_eq "$(row_field "$J" garbage.bin verdict)" error "garbage: a row with verdict error"
expect_eq "$(row_field "$J" truncated.png verdict)" error "truncated PNG: a row with verdict error"
expect_eq "$(row_field "$J" empty-file verdict)" error "empty file: a row with verdict error"
expect_eq "$(row_field "$J" unknown.dat format)" unknown "a format aimark does not know: format unknown"
expect_eq "$(row_field "$J" unknown.dat verdict)" error "a format aimark does not know: verdict error"
expect_eq "$(row_field "$J" link-to-signed.png verdict)" "<no row>" "symbolic links are not followed by default"
expect_eq "$(row_field "$J" fifo verdict)" "<no row>" "a fifo is skipped"
check "the rows are the library's reports (aigc object present)" \
	test "$(rows "$J" 'r["verdict"] == "authentic" and r["aigc"]["signature"] == "valid"')" -eq 4
check "the summary table goes to stdout with --jsonl" bash -c "grep -q 'by verdict' '$W/out' && grep -q 'by format' '$W/out' && grep -q total '$W/out'"
check "the summary table counts the files" grep -Eq "files scanned +$NFILES" "$W/out"
check "the summary table counts authentic files" grep -Eq "authentic +4$" "$W/out"
check "the summary table counts png files" grep -Eq "png +5$" "$W/out"
check "the summary table shows the elapsed time" grep -q "elapsed" "$W/out"
expect_eq "$(jget "$W/summary.json" files)" "$NFILES" "--summary-json: files"
expect_eq "$(jget "$W/summary.json" by_verdict.authentic)" 4 "--summary-json: authentic"
expect_eq "$(jget "$W/summary.json" by_verdict.tampered)" 1 "--summary-json: tampered"
expect_eq "$(jget "$W/summary.json" by_verdict.unverified)" 1 "--summary-json: unverified"
expect_eq "$(jget "$W/summary.json" by_verdict.not-labelled)" 1 "--summary-json: not-labelled"
expect_eq "$(jget "$W/summary.json" by_verdict.error)" 4 "--summary-json: error"
expect_eq "$(jget "$W/summary.json" by_format.jpeg)" 2 "--summary-json: jpeg"
expect_eq "$(jget "$W/summary.json" by_format.webp)" 1 "--summary-json: webp"
expect_eq "$(jget "$W/summary.json" skipped_not_regular)" 3 "--summary-json: links and fifo skipped"
expect_eq "$(jget "$W/summary.json" jobs)" 2 "--summary-json: jobs"
expect_eq "$(jget "$W/summary.json" interrupted)" False "--summary-json: not interrupted"
check "--summary-json: elapsed time" "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["elapsed_seconds"] >= 0' "$W/summary.json"

# ---- --resume ----------------------------------------------------------------------------------------
cp "$J" "$W/scan.before"
run "$SCAN" --jobs 2 --trust "$W/keys" --jsonl "$J" --resume "$T"
expect_rc 0 "--resume exits 0"
check "--resume over an unchanged tree adds no row" cmp -s "$J" "$W/scan.before"
check "--resume reports the files it skipped" grep -Eq "already in the JSONL +$NFILES" "$W/out"
"$MARK" --key "$W/keys" "$DATA/plain.jpg" -o "$T/sub/new.jpg" >/dev/null
run "$SCAN" --jobs 2 --trust "$W/keys" --jsonl "$J" --resume "$T"
expect_rc 0 "--resume after adding a file exits 0"
expect_eq "$(rows "$J")" $((NFILES + 1)) "--resume appends exactly the new file"
expect_eq "$(row_field "$J" new.jpg verdict)" authentic "the new file's row"
check "--resume keeps the earlier rows first" cmp -s "$W/scan.before" <(head -n "$NFILES" "$J")
# A row cut short by a crash is dropped and its file scanned again.
head -n $((NFILES - 1)) "$W/scan.before" >"$W/crashed.jsonl"
tail -n 1 "$W/scan.before" | head -c 40 >>"$W/crashed.jsonl"
run "$SCAN" --jobs 2 --trust "$W/keys" --jsonl "$W/crashed.jsonl" --resume "$T"
expect_rc 0 "--resume over an incomplete last line exits 0"
check "the incomplete line is reported" grep -q "incomplete" "$W/err"
expect_eq "$(rows "$W/crashed.jsonl")" $((NFILES + 1)) "after the crash: every file once, all lines valid JSON"
expect_eq "$("$PY" -c 'import json,sys; f=[json.loads(l)["file"] for l in open(sys.argv[1])]; print(len(f)-len(set(f)))' "$W/crashed.jsonl")" 0 \
	"after the crash: no duplicates"
# --resume on a JSONL that does not exist yet starts it.
run "$SCAN" --jobs 2 --jsonl "$W/fresh.jsonl" --resume "$T/sub/deeper"
expect_rc 0 "--resume with a new JSONL exits 0"
expect_eq "$(rows "$W/fresh.jsonl")" 1 "--resume with a new JSONL writes every row"

# File names that are not UTF-8 get a \xHH spelling in "file", and --resume still recognises them.
mkdir "$W/names"
cp "$T/signed.png" "$W/names/$(printf 'bad\xffname.png')"
cp "$T/signed.png" "$W/names/日本語.png"
cp "$T/signed.png" "$W/names/quote\"back\\slash.png"
run "$SCAN" --jobs 2 --jsonl "$W/names.jsonl" "$W/names"
expect_rc 0 "odd file names scan fine"
expect_eq "$(rows "$W/names.jsonl" 'r["file"].endswith("/bad\\xffname.png")')" 1 "a non-UTF-8 name is spelt with \\xHH"
expect_eq "$(rows "$W/names.jsonl" 'r["file"].endswith("/日本語.png")')" 1 "a UTF-8 name is kept as it is"
expect_eq "$(rows "$W/names.jsonl" 'r["file"].endswith("/quote\"back\\slash.png")')" 1 "quotes and backslashes survive"
run "$SCAN" --jobs 2 --jsonl "$W/names.jsonl" --resume "$W/names"
expect_eq "$(rows "$W/names.jsonl")" 3 "--resume recognises every odd name"

# The JSONL written inside the scanned tree is not scanned itself.
mkdir "$W/own"
cp "$T/signed.png" "$W/own/a.png"
run "$SCAN" --jsonl "$W/own/scan.jsonl" "$W/own"
expect_rc 0 "a scan writing its JSONL inside the tree exits 0"
expect_eq "$(rows "$W/own/scan.jsonl")" 1 "the scan's own JSONL is not a row"
run "$SCAN" --jsonl "$W/own/scan.jsonl" --resume "$W/own"
expect_eq "$(rows "$W/own/scan.jsonl")" 1 "nor on --resume"

# ---- an existing JSONL is not clobbered --------------------------------------------------------------
cp "$J" "$W/scan.kept"
run "$SCAN" --jsonl "$J" "$T"
expect_rc 1 "an existing JSONL without --resume or --force exits 1"
check "the refusal suggests --resume" grep -q -- "--resume" "$W/err"
check "the existing JSONL is unchanged" cmp -s "$J" "$W/scan.kept"
run "$SCAN" --jobs 2 --jsonl "$J" --force "$T"
expect_rc 0 "--force overwrites the JSONL"
expect_eq "$(rows "$J")" $((NFILES + 1)) "--force wrote a fresh JSONL"

# ---- symbolic links, single files, stdout -----------------------------------------------------------
run "$SCAN" --jobs 2 --follow-symlinks --jsonl "$W/links.jsonl" "$T"
expect_rc 0 "--follow-symlinks exits 0 (a link loop ends)"
expect_eq "$(rows "$W/links.jsonl")" $((NFILES + 2)) "--follow-symlinks adds the linked file; the looped directory is not walked twice"
expect_eq "$(row_field "$W/links.jsonl" link-to-signed.png verdict)" unverified "the followed link is verified (no --trust here)"
run "$SCAN" --jobs 1 "$T/signed.png" "$T/plain.png"
expect_rc 0 "scanning files named on the command line exits 0"
printf '%s\n' "$(cat "$W/out")" >"$W/stdout.jsonl"
expect_eq "$(rows "$W/stdout.jsonl")" 2 "without --jsonl the rows go to stdout"
check "without --jsonl the summary goes to stderr" grep -q "by verdict" "$W/err"
run "$SCAN" --quiet --jsonl "$W/quiet.jsonl" "$T/sub"
expect_rc 0 "--quiet exits 0"
check "--quiet prints no summary" bash -c "[ ! -s '$W/out' ] && [ ! -s '$W/err' ]"
check "--quiet still writes the rows" test "$(rows "$W/quiet.jsonl")" -gt 0
run "$SCAN" --jobs 2 --jsonl "$W/empty.jsonl" "$T/empty-dir"
expect_rc 0 "an empty directory scans fine"
expect_eq "$(rows "$W/empty.jsonl")" 0 "an empty directory gives no rows"

# ---- more files than workers and queue slots ----------------------------------------------------------
mkdir "$W/many"
for i in $(seq 1 300); do cp "$T/signed.png" "$W/many/f$i.png"; done
run "$SCAN" --jobs 3 --trust "$W/keys" --jsonl "$W/many.jsonl" --summary-json "$W/many.json" "$W/many"
expect_rc 0 "300 files with 3 jobs exit 0"
expect_eq "$(rows "$W/many.jsonl" 'r["verdict"] == "authentic"')" 300 "300 authentic rows"
expect_eq "$(jget "$W/many.json" files)" 300 "the summary counts 300"

# ---- unreadable entries (only meaningful when not running as root) -----------------------------------
if [ "$(id -u)" -ne 0 ]; then
	mkdir "$W/locked"
	cp "$T/signed.png" "$W/locked/a.png"
	chmod 000 "$W/locked/a.png"
	run "$SCAN" --jsonl "$W/locked.jsonl" "$W/locked"
	expect_rc 0 "an unreadable file does not stop the scan"
	expect_eq "$(row_field "$W/locked.jsonl" a.png verdict)" error "an unreadable file is a row with verdict error"
	chmod 600 "$W/locked/a.png"
fi

finish

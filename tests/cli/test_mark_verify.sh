#!/usr/bin/env bash
# CLI tests for aimark-mark and aimark-verify: round trips per format and key algorithm, verdicts and exit
# codes (authentic, unverified, not labelled, tampered, invalid, error), in-place and failure safety, the real
# vendor samples, and the producer -> propagator workflow.
set -euo pipefail

. "$(dirname "$0")/lib.sh"
fail_on_error
: "${AIMARK_SRC:?set AIMARK_SRC to the source directory}"
: "${AIMARK_SHARED_DIR:?set AIMARK_SHARED_DIR to the shared reference directory}"
KEYGEN="$AIMARK_BIN/aimark-keygen"
MARK="$AIMARK_BIN/aimark-mark"
VERIFY="$AIMARK_BIN/aimark-verify"
DATA="$AIMARK_SRC/tests/data/cli"
SAMPLES="$AIMARK_SHARED_DIR/spec/gb45438-samples"
use_python
# jq is not installed: JSON checks go through python3. jget FILE PATH prints the value at a dotted path
# ("aigc.signer.key_id", "findings.0.code"): null as "null", booleans as True/False, "<missing>" when absent.
# Each JSON file is flattened once (one python3 start) into FILE.flat, keyed by the file's checksum.
cat >"$W/flatten.py" <<'EOF'
import json, sys
def walk(prefix, d, out):
    if isinstance(d, dict) and d:
        for k, v in d.items():
            walk(prefix + [k], v, out)
    elif isinstance(d, list) and d:
        for i, v in enumerate(d):
            walk(prefix + [str(i)], v, out)
    else:
        v = "null" if d is None else (json.dumps(d) if isinstance(d, (dict, list)) else str(d))
        out.write(".".join(prefix) + "\t" + v.replace("\n", "\\n") + "\n")
sys.stdout.write(sys.argv[2] + "\n")
try:
    walk([], json.load(open(sys.argv[1])), sys.stdout)
except ValueError:
    pass
EOF
jget() {
	local sum
	sum="$(cksum <"$1")"
	if [ ! -f "$1.flat" ] || [ "$(head -n 1 "$1.flat")" != "$sum" ]; then
		"$PY" "$W/flatten.py" "$1" "$sum" >"$1.flat"
	fi
	awk -F'\t' -v k="$2" 'NR > 1 && $1 == k { print substr($0, length(k) + 2); found = 1; exit }
		END { if (!found) print "<missing>" }' "$1.flat"
}
expect_json() { # expect_json FILE PATH WANT DESCRIPTION
	local got
	got="$(jget "$1" "$2")"
	if [ "$got" = "$3" ]; then ok "$4"; else fail "$4: $2 is '$got', want '$3'"; fi
}
is_json_lines() { "$PY" -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1]) if l.strip()]' "$1"; }

# Byte-level edits that keep the container well formed (PNG chunk CRCs are recomputed).
cat >"$W/edit.py" <<'EOF'
import struct, sys, zlib

def png_fix_crcs(b):
    out, pos = bytearray(b[:8]), 8
    while pos + 8 <= len(b):
        n = struct.unpack('>I', b[pos:pos + 4])[0]
        typ, data = b[pos + 4:pos + 8], b[pos + 8:pos + 8 + n]
        out += b[pos:pos + 8] + data + struct.pack('>I', zlib.crc32(typ + data) & 0xffffffff)
        pos += 12 + n
    return bytes(out + b[pos:])

def essence_offset(b):
    """An offset inside the compressed image data, away from headers and markers."""
    if b[:8] == b'\x89PNG\r\n\x1a\n':
        pos = 8
        while pos + 8 <= len(b):
            n = struct.unpack('>I', b[pos:pos + 4])[0]
            if b[pos + 4:pos + 8] == b'IDAT' and n > 4:
                return pos + 8 + n // 2
            pos += 12 + n
    elif b[:2] == b'\xff\xd8':
        sos = b.index(b'\xff\xda')
        start = sos + 2 + struct.unpack('>H', b[sos + 2:sos + 4])[0]
        end = b.rindex(b'\xff\xd9')
        for off in range((start + end) // 2, end):
            if b[off] not in (0xfe, 0xff) and b[off - 1] != 0xff and b[off] ^ 1 != 0xff:
                return off
    elif b[:4] == b'RIFF' and b[8:12] == b'WEBP':
        pos = 12
        while pos + 8 <= len(b):
            n = struct.unpack('<I', b[pos + 4:pos + 8])[0]
            if b[pos:pos + 4] in (b'VP8 ', b'VP8L') and n > 20:
                return pos + 8 + n // 2
            pos += 8 + n + (n & 1)
    sys.exit('no compressed image data found')

def main():
    cmd, path = sys.argv[1], sys.argv[2]
    b = open(path, 'rb').read()
    if cmd == 'flip':
        off = essence_offset(b)
        b = b[:off] + bytes([b[off] ^ 1]) + b[off + 1:]
    elif cmd == 'replace':
        old, new = sys.argv[3].encode(), sys.argv[4].encode()
        assert len(old) == len(new)
        if b.count(old) == 0:
            sys.exit('%s not found' % sys.argv[3])
        b = b.replace(old, new)
    elif cmd == 'truncate':
        b = b[:int(sys.argv[3])]
    if b[:8] == b'\x89PNG\r\n\x1a\n' and cmd != 'truncate':
        b = png_fix_crcs(b)
    open(path, 'wb').write(b)

main()
EOF
edit() { "$PY" "$W/edit.py" "$@"; }

# ---- keys -------------------------------------------------------------------------------------------
PRODUCER=001191110102MACQD9K64010000
PLATFORM=00119144030008867405X220001
"$KEYGEN" --alg sm2 --producer "$PRODUCER" --out "$W/k-producer" >"$W/keygen.out"
PRODUCER_KEY_ID="$(sed -n 's/^key id: *//p' "$W/keygen.out")"
"$KEYGEN" --alg ed25519 --out "$W/k-platform" >"$W/keygen.out"
PLATFORM_KEY_ID="$(sed -n 's/^key id: *//p' "$W/keygen.out")"
"$KEYGEN" --alg p256 --out "$W/k-p256" >/dev/null
"$KEYGEN" --alg ed25519 --out "$W/k-ed25519" >/dev/null
"$KEYGEN" --alg sm2 --out "$W/k-sm2-noproducer" >/dev/null

# ---- help, version, usage errors --------------------------------------------------------------------
for tool in "$MARK" "$VERIFY"; do
	name="$(basename "$tool")"
	run "$tool" --help
	expect_rc 0 "$name --help exits 0"
	check "$name --help prints usage, exit codes and an example" \
		bash -c "grep -q 'Usage: $name' '$W/out' && grep -q 'Exit codes' '$W/out' && grep -q 'Example' '$W/out'"
	run "$tool" --version
	expect_rc 0 "$name --version exits 0"
	check "$name --version prints a version" grep -Eq "^$name [0-9]+\.[0-9]+\.[0-9]+$" "$W/out"
done
run "$MARK" --bogus
expect_rc 64 "aimark-mark: unknown option exits 64"
check "aimark-mark: unknown option prints usage on stderr only" bash -c "grep -q Usage '$W/err' && [ ! -s '$W/out' ]"
run "$VERIFY" --bogus x
expect_rc 4 "aimark-verify: unknown option exits 4"
check "aimark-verify: unknown option prints usage on stderr only" bash -c "grep -q Usage '$W/err' && [ ! -s '$W/out' ]"
run "$VERIFY"
expect_rc 4 "aimark-verify without a file exits 4"
cp "$DATA/plain.png" "$W/u.png"
run "$MARK" --key "$W/k-producer" "$W/u.png"
expect_rc 64 "aimark-mark without -o or --in-place exits 64"
run "$MARK" --key "$W/k-producer" "$W/u.png" -o "$W/u1.png" --in-place
expect_rc 64 "aimark-mark with both -o and --in-place exits 64"
run "$MARK" --key "$W/k-producer" "$W/u.png" "$DATA/plain.jpg" -o "$W/u1.png"
expect_rc 64 "aimark-mark with two inputs and -o exits 64"
run "$MARK" --key "$W/k-producer" --label 7 "$W/u.png" -o "$W/u1.png"
expect_rc 64 "aimark-mark --label 7 exits 64"
run "$MARK" --key "$W/k-producer" --format tiff-or-so "$W/u.png" -o "$W/u1.png"
expect_rc 64 "aimark-mark with an unknown --format exits 64"
run "$MARK" --key "$W/k-sm2-noproducer" "$W/u.png" -o "$W/u1.png"
expect_rc 64 "aimark-mark without --producer and without DIR/producer exits 64"
check "the missing producer is explained" grep -q -- "--producer" "$W/err"
run "$MARK" --producer X "$W/u.png" -o "$W/u1.png"
expect_rc 64 "aimark-mark without --key (and without --no-sign) exits 64"
run "$MARK" --key "$W/k-producer" --propagator "$PLATFORM" --produce-id x "$W/u.png" -o "$W/u1.png"
expect_rc 64 "aimark-mark: --produce-id in the propagator role exits 64"
check "no output after usage errors" test ! -e "$W/u1.png"
run "$MARK" --key "$W/nonexistent-keys" --producer X "$W/u.png" -o "$W/u1.png"
expect_rc 1 "aimark-mark with a missing key directory exits 1"
check "the missing key directory is named" grep -q "nonexistent-keys" "$W/err"
run "$VERIFY" --trust "$W/no-such-key.pub" "$W/u.png"
expect_rc 4 "aimark-verify with an unreadable --trust exits 4"
check "the unreadable trust path is named" grep -q "no-such-key.pub" "$W/err"

# ---- round trip per format -------------------------------------------------------------------------
for ext in png jpg webp; do
	in="$DATA/plain.$ext"
	out="$W/marked.$ext"
	cp "$in" "$W/orig.$ext"
	run "$MARK" --key "$W/k-producer" --produce-id cli-test-0001 "$in" -o "$out"
	expect_rc 0 "$ext: mark exits 0"
	check "$ext: mark prints 'IN -> OUT: labelled'" grep -q "plain.$ext -> $out: labelled" "$W/out"
	check "$ext: mark prints the ProduceID and key id" bash -c "grep -q 'ProduceID cli-test-0001' '$W/out' && grep -q '$PRODUCER_KEY_ID' '$W/out'"
	check "$ext: the input is unchanged" cmp -s "$in" "$W/orig.$ext"
	run "$VERIFY" --trust "$W/k-producer" --json "$out"
	expect_rc 0 "$ext: verify with the producer key trusted exits 0"
	expect_json "$W/out" verdict authentic "$ext: verdict authentic"
	expect_json "$W/out" file "$out" "$ext: report names the file"
	expect_json "$W/out" aigc.signature valid "$ext: signature valid"
	expect_json "$W/out" aigc.content unchanged "$ext: content unchanged"
	expect_json "$W/out" aigc.Label 1 "$ext: Label 1"
	expect_json "$W/out" aigc.ContentProducer "$PRODUCER" "$ext: ContentProducer from DIR/producer"
	expect_json "$W/out" aigc.ProduceID cli-test-0001 "$ext: ProduceID as given"
	expect_json "$W/out" aigc.ContentPropagator "$PRODUCER" "$ext: propagator repeats the producer (Annex E note 1)"
	expect_json "$W/out" aigc.PropagateID cli-test-0001 "$ext: PropagateID repeats the ProduceID"
	expect_json "$W/out" aigc.signer.key_id "$PRODUCER_KEY_ID" "$ext: signer key id"
	expect_json "$W/out" aigc.signer.trusted True "$ext: signer trusted"
	run "$VERIFY" --json "$out"
	expect_rc 3 "$ext: verify without --trust exits 3"
	expect_json "$W/out" verdict unverified "$ext: verdict unverified without trust"
	expect_json "$W/out" aigc.signature unknown-key "$ext: signature unknown-key without trust"
	run "$VERIFY" --trust "$W/k-platform" --json "$out"
	expect_rc 3 "$ext: verify trusting only another key exits 3"
	run "$VERIFY" --trust "$W/k-producer" "$out"
	expect_rc 0 "$ext: text verify exits 0"
	check "$ext: text report says authentic and names the producer" \
		bash -c "grep -q authentic '$W/out' && grep -q '$PRODUCER' '$W/out'"
	run "$VERIFY" --trust "$W/k-producer" --quiet "$out"
	expect_rc 0 "$ext: --quiet keeps the exit code"
	check "$ext: --quiet prints nothing" bash -c "[ ! -s '$W/out' ] && [ ! -s '$W/err' ]"
	run "$VERIFY" --json "$in"
	expect_rc 1 "$ext: the unlabelled original exits 1"
	expect_json "$W/out" verdict not-labelled "$ext: verdict not-labelled"
	expect_json "$W/out" aigc null "$ext: no aigc object when not labelled"

	# Tampered content: one flipped bit in the compressed image data.
	cp "$out" "$W/tampered.$ext"
	edit flip "$W/tampered.$ext"
	run "$VERIFY" --trust "$W/k-producer" --json "$W/tampered.$ext"
	expect_rc 2 "$ext: flipped essence byte exits 2"
	expect_json "$W/out" verdict tampered "$ext: verdict tampered"
	expect_json "$W/out" aigc.content changed "$ext: content changed"
	expect_json "$W/out" aigc.signature valid "$ext: the label signature itself still verifies"

	# Edited label field: the signature no longer matches.
	cp "$out" "$W/edited.$ext"
	edit replace "$W/edited.$ext" cli-test-0001 cli-test-0002
	run "$VERIFY" --trust "$W/k-producer" --json "$W/edited.$ext"
	expect_rc 2 "$ext: edited ProduceID exits 2"
	expect_json "$W/out" verdict invalid "$ext: verdict invalid"
	expect_json "$W/out" aigc.signature invalid "$ext: signature invalid"
	expect_json "$W/out" aigc.ProduceID cli-test-0002 "$ext: the edited value is reported"
done

# ---- each key algorithm signs and verifies ---------------------------------------------------------
for k in k-producer k-p256 k-ed25519; do
	run "$MARK" --key "$W/$k" --producer "$PRODUCER" "$DATA/plain.png" -o "$W/alg-$k.png"
	expect_rc 0 "$k: mark exits 0"
	run "$VERIFY" --trust "$W/$k/signing.pub" --json "$W/alg-$k.png"
	expect_rc 0 "$k: verify trusting signing.pub exits 0"
	expect_json "$W/out" verdict authentic "$k: authentic"
done
expect_json "$W/out" aigc.signer.alg ed25519 "the signer algorithm is reported"

# ---- mark options -----------------------------------------------------------------------------------
run "$MARK" --key "$W/k-producer" --json "$DATA/plain.png" -o "$W/json.png"
expect_rc 0 "mark --json exits 0"
expect_json "$W/out" status labelled "mark --json: status labelled"
expect_json "$W/out" format png "mark --json: format"
expect_json "$W/out" key_id "$PRODUCER_KEY_ID" "mark --json: key id"
expect_json "$W/out" output "$W/json.png" "mark --json: output path"
GEN_ID="$(jget "$W/out" produce_id)"
check "a generated ProduceID is 32 hex digits" bash -c "[[ '$GEN_ID' =~ ^[0-9a-f]{32}\$ ]]"
run "$VERIFY" --json "$W/json.png"
expect_json "$W/out" aigc.ProduceID "$GEN_ID" "the generated ProduceID is the one written"
run "$MARK" --key "$W/k-producer" "$DATA/plain.png" -o "$W/json2.png"
run "$VERIFY" --json "$W/json2.png"
check "two marks get different ProduceIDs" test "$(jget "$W/out" aigc.ProduceID)" != "$GEN_ID"

run "$MARK" --key "$W/k-producer" --producer OTHERPRODUCER --label 2 --leave-propagator-empty "$DATA/plain.png" -o "$W/opts.png"
expect_rc 0 "mark with --producer, --label 2 and --leave-propagator-empty exits 0"
run "$VERIFY" --trust "$W/k-producer" --json "$W/opts.png"
expect_rc 0 "that label verifies"
expect_json "$W/out" aigc.ContentProducer OTHERPRODUCER "--producer overrides DIR/producer"
expect_json "$W/out" aigc.Label 2 "--label 2 is written"
expect_json "$W/out" aigc.ContentPropagator "" "--leave-propagator-empty leaves ContentPropagator empty"
expect_json "$W/out" aigc.PropagateID "" "--leave-propagator-empty leaves PropagateID empty"

run "$MARK" --key "$W/k-producer" --no-sign "$DATA/plain.png" -o "$W/unsigned.png"
expect_rc 0 "mark --no-sign exits 0"
check "mark --no-sign says unsigned" grep -q unsigned "$W/out"
run "$VERIFY" --trust "$W/k-producer" --json "$W/unsigned.png"
expect_rc 3 "an unsigned label exits 3 even with a trusted key"
expect_json "$W/out" verdict unverified "unsigned label: verdict unverified"
expect_json "$W/out" aigc.signature absent "unsigned label: signature absent"
expect_json "$W/out" aigc.ReservedCode1 "" "unsigned label: ReservedCode1 empty"
run "$MARK" --no-sign --producer "$PRODUCER" "$DATA/plain.jpg" -o "$W/unsigned-nokey.jpg"
expect_rc 0 "mark --no-sign needs no key directory"

run "$MARK" --key "$W/k-producer" --format png "$DATA/plain.png" -o "$W/fmt.png"
expect_rc 0 "mark --format png on a PNG exits 0"
cp "$DATA/plain.jpg" "$W/fmt-wrong.jpg"
run "$MARK" --key "$W/k-producer" --format png "$W/fmt-wrong.jpg" -o "$W/fmt-wrong-out.jpg"
expect_rc 1 "mark --format png on a JPEG exits 1"
check "the wrong format leaves no output" test ! -e "$W/fmt-wrong-out.jpg"

# -o onto an existing file: refused unless --force.
echo "keep me" >"$W/existing.png"
run "$MARK" --key "$W/k-producer" "$DATA/plain.png" -o "$W/existing.png"
expect_rc 1 "mark onto an existing OUT exits 1"
check "the refusal mentions the existing file" grep -q "existing.png" "$W/err"
check "the existing OUT is unchanged" grep -q "keep me" "$W/existing.png"
run "$MARK" --key "$W/k-producer" --force "$DATA/plain.png" -o "$W/existing.png"
expect_rc 0 "mark --force onto an existing OUT exits 0"
run "$VERIFY" --trust "$W/k-producer" --quiet "$W/existing.png"
expect_rc 0 "the overwritten OUT verifies"

# ---- in place ---------------------------------------------------------------------------------------
mkdir "$W/inplace"
cp "$DATA/plain.png" "$W/inplace/a.png"
cp "$DATA/plain.jpg" "$W/inplace/b.jpg"
chmod 640 "$W/inplace/a.png"
chmod 604 "$W/inplace/b.jpg"
run "$MARK" --key "$W/k-producer" --in-place "$W/inplace/a.png" "$W/inplace/b.jpg"
expect_rc 0 "mark --in-place on two files exits 0"
check "one result line per file" test "$(grep -c ': labelled' "$W/out")" -eq 2
check "--in-place keeps mode 640" test "$(mode_of "$W/inplace/a.png")" = 640
check "--in-place keeps mode 604" test "$(mode_of "$W/inplace/b.jpg")" = 604
check "--in-place leaves no temporary files" test "$(ls -A "$W/inplace" | wc -l)" -eq 2
run "$VERIFY" --trust "$W/k-producer" "$W/inplace/a.png" "$W/inplace/b.jpg"
expect_rc 0 "both in-place files verify"
# The same file under another spelling is labelled in place, not refused.
cp "$DATA/plain.png" "$W/inplace/c.png"
run "$MARK" --key "$W/k-producer" "$W/inplace/c.png" -o "$W/inplace/./c.png"
expect_rc 0 "-o naming the input itself labels in place"
check "no temporary files after that either" test "$(ls -A "$W/inplace" | wc -l)" -eq 3

# ---- failures leave everything unchanged ------------------------------------------------------------
mkdir "$W/fail"
# Binary noise with NUL bytes: no known magic, not text.
for i in $(seq 1 200); do printf '\x00\x9c\xfe\x01noise%03d\x07' "$i"; done >"$W/fail/garbage.png"
cp "$W/fail/garbage.png" "$W/garbage.orig"
run "$MARK" --key "$W/k-producer" --in-place "$W/fail/garbage.png"
expect_rc 1 "mark --in-place on garbage exits 1"
check "the error line names the file" grep -q "^aimark-mark: $W/fail/garbage.png: " "$W/err"
check "the garbage input is unchanged" cmp -s "$W/fail/garbage.png" "$W/garbage.orig"
cp "$W/marked.png" "$W/fail/trunc.png"
edit truncate "$W/fail/trunc.png" 300
cp "$W/fail/trunc.png" "$W/trunc.orig"
run "$MARK" --key "$W/k-producer" --in-place "$W/fail/trunc.png"
expect_rc 1 "mark --in-place on a truncated PNG exits 1"
check "the truncated input is unchanged" cmp -s "$W/fail/trunc.png" "$W/trunc.orig"
run "$MARK" --key "$W/k-producer" "$W/fail/trunc.png" -o "$W/fail/trunc-out.png"
expect_rc 1 "mark -o on a truncated PNG exits 1"
check "failures leave no output and no temporary files" test "$(ls -A "$W/fail" | wc -l)" -eq 2
run "$MARK" --key "$W/k-producer" --json "$W/fail/garbage.png" -o "$W/fail/g-out.png"
expect_rc 1 "mark --json on garbage exits 1"
expect_json "$W/out" status error "mark --json reports status error"
check "mark --json gives the error message" test "$(jget "$W/out" error)" != "<missing>"
# A mixed batch: the good file is labelled, the bad one counted, exit 1.
cp "$DATA/plain.png" "$W/fail/good.png"
run "$MARK" --key "$W/k-producer" --in-place "$W/fail/good.png" "$W/fail/garbage.png"
expect_rc 1 "a batch with one bad file exits 1"
run "$VERIFY" --quiet "$W/fail/good.png"
expect_rc 3 "the good file of that batch was still labelled"

# ---- aimark-verify on bad input and several files ---------------------------------------------------
run "$VERIFY" --json "$W/fail/garbage.png"
expect_rc 4 "verify on garbage exits 4"
expect_json "$W/out" verdict error "garbage: verdict error"
run "$VERIFY" --json "$W/fail/trunc.png"
expect_rc 4 "verify on a truncated PNG exits 4"
expect_json "$W/out" verdict error "truncated PNG: verdict error"
: >"$W/empty.png"
run "$VERIFY" --json "$W/empty.png"
expect_rc 4 "verify on an empty file exits 4"
run "$VERIFY" --json "$W/does-not-exist.png"
expect_rc 4 "verify on a missing file exits 4"
expect_json "$W/out" verdict error "missing file: verdict error"
expect_json "$W/out" file "$W/does-not-exist.png" "missing file: the report names it"
check "missing file: an error message" test "$(jget "$W/out" error)" != "<missing>"
check "missing file: stderr says aimark-verify: FILE: ..." grep -q "^aimark-verify: $W/does-not-exist.png: " "$W/err"
run "$VERIFY" --json --pretty "$W/does-not-exist.png"
check "--pretty error object is valid JSON" "$PY" -c 'import json,sys; json.load(open(sys.argv[1]))' "$W/out"

run "$VERIFY" --trust "$W/k-producer" --json "$W/marked.png" "$DATA/plain.png"
expect_rc 1 "authentic + not labelled: exit 1 (the highest)"
check "several files: one JSON object per line" bash -c "[ \$(wc -l <'$W/out') -eq 2 ] && '$PY' -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' '$W/out'"
run "$VERIFY" --trust "$W/k-producer" --json "$W/marked.png" "$W/tampered.png" "$DATA/plain.png"
expect_rc 2 "authentic + tampered + not labelled: exit 2"
run "$VERIFY" --trust "$W/k-producer" "$W/marked.png" "$W/does-not-exist.png" "$W/tampered.png"
expect_rc 4 "a missing file among several: exit 4"
check "the other files are still reported" bash -c "grep -q authentic '$W/out' && grep -q tampered '$W/out'"
run "$VERIFY" --json --pretty --trust "$W/k-producer" "$W/marked.png"
expect_rc 0 "--pretty exits 0"
check "--pretty output is indented JSON" bash -c "[ \$(wc -l <'$W/out') -gt 5 ] && '$PY' -c 'import json,sys; json.load(open(sys.argv[1]))' '$W/out'"
run "$VERIFY" --pretty "$W/marked.png"
expect_rc 4 "--pretty without --json is a usage error (4)"

# ---- real vendor samples ---------------------------------------------------------------------------
run "$VERIFY" --json "$SAMPLES/doubao-web-xmp-producer-uscc.png"
expect_rc 3 "Doubao sample exits 3"
expect_json "$W/out" verdict unverified "Doubao sample: unverified"
expect_json "$W/out" format png "Doubao sample: png"
expect_json "$W/out" aigc.ContentProducer 001191110102MACQD9K64010000 "Doubao sample: ContentProducer"
expect_json "$W/out" aigc.ProduceID e3578014edd949debed102781a8c26f7 "Doubao sample: ProduceID"
expect_json "$W/out" aigc.carrier xmp "Doubao sample: label found in XMP"
check "Doubao sample: the empty propagator is a finding" grep -q propagator-empty "$W/out"
run "$VERIFY" --json "$SAMPLES/jimeng-web-xmp-with-propagator.png"
expect_rc 3 "Jimeng sample exits 3"
expect_json "$W/out" verdict unverified "Jimeng sample: unverified"
expect_json "$W/out" aigc.ContentProducer 00119144030008867405X210001 "Jimeng sample: ContentProducer"
expect_json "$W/out" aigc.ContentPropagator 00119144030008867405X220001 "Jimeng sample: ContentPropagator"
run "$VERIFY" --trust "$W/k-producer" "$SAMPLES/doubao-web-xmp-producer-uscc.png" "$SAMPLES/jimeng-web-xmp-with-propagator.png"
expect_rc 3 "both samples together exit 3"

# ---- producer -> propagator workflow ----------------------------------------------------------------
run "$MARK" --key "$W/k-producer" --produce-id flow-0001 "$DATA/plain.png" -o "$W/flow-producer.png"
expect_rc 0 "workflow: the producer marks"
run "$VERIFY" --json "$W/flow-producer.png"
RC1_BEFORE="$(jget "$W/out" aigc.ReservedCode1)"
run "$MARK" --key "$W/k-platform" --propagator "$PLATFORM" --propagate-id plat-0001 "$W/flow-producer.png" -o "$W/flow-platform.png"
expect_rc 0 "workflow: the platform adds its propagation fields"
check "workflow: the platform run says propagation fields added" grep -q "propagation fields added" "$W/out"
run "$VERIFY" --trust "$W/k-producer" --trust "$W/k-platform" --json "$W/flow-platform.png"
expect_rc 0 "workflow: verify with both keys trusted exits 0"
expect_json "$W/out" verdict authentic "workflow: authentic"
expect_json "$W/out" aigc.signature valid "workflow: the producer signature is still valid"
expect_json "$W/out" aigc.propagator_signature valid "workflow: the propagator signature is valid"
expect_json "$W/out" aigc.content unchanged "workflow: content unchanged"
expect_json "$W/out" aigc.ContentProducer "$PRODUCER" "workflow: ContentProducer kept"
expect_json "$W/out" aigc.ProduceID flow-0001 "workflow: ProduceID kept"
expect_json "$W/out" aigc.ReservedCode1 "$RC1_BEFORE" "workflow: ReservedCode1 kept byte for byte"
expect_json "$W/out" aigc.ContentPropagator "$PLATFORM" "workflow: ContentPropagator is the platform's"
expect_json "$W/out" aigc.PropagateID plat-0001 "workflow: PropagateID as given"
expect_json "$W/out" aigc.signer.key_id "$PRODUCER_KEY_ID" "workflow: the producer is the signer"
expect_json "$W/out" aigc.propagator_signer.key_id "$PLATFORM_KEY_ID" "workflow: the platform is the propagator signer"
run "$VERIFY" --trust "$W/k-producer" --json "$W/flow-platform.png"
expect_json "$W/out" aigc.signature valid "workflow, producer key only: producer signature valid"
expect_json "$W/out" aigc.propagator_signature unknown-key "workflow, producer key only: propagator key unknown"
run "$VERIFY" --trust "$W/k-producer" --trust "$W/k-platform" --json "$W/flow-producer.png"
expect_rc 0 "workflow: the producer's file is untouched and still authentic"
run "$MARK" --key "$W/k-platform" --propagator "$PLATFORM" "$DATA/plain.png" -o "$W/flow-unlabelled.png"
expect_rc 1 "workflow: the propagator role on an unlabelled file exits 1"
check "workflow: no output for the unlabelled file" test ! -e "$W/flow-unlabelled.png"
run "$MARK" --key "$W/k-platform" --producer OTHERPRODUCER "$W/flow-producer.png" -o "$W/flow-foreign.png"
expect_rc 1 "workflow: another producer cannot replace the label"
check "workflow: no output after the refusal" test ! -e "$W/flow-foreign.png"
run "$MARK" --key "$W/k-platform" --producer OTHERPRODUCER --replace-foreign-label "$W/flow-producer.png" -o "$W/flow-foreign.png"
expect_rc 0 "workflow: --replace-foreign-label replaces it"
run "$VERIFY" --trust "$W/k-platform" --json "$W/flow-foreign.png"
expect_json "$W/out" aigc.ContentProducer OTHERPRODUCER "workflow: the replaced label names the new producer"

# What the writer noticed reaches the user: stderr in text mode, "findings" in JSON.
{ cat "$DATA/plain.jpg"; printf 'JUNK!'; } > "$W/trailing.jpg"
run "$MARK" --key "$W/k-producer" --producer "$PRODUCER" "$W/trailing.jpg" -o "$W/trailing-out.jpg"
expect_rc 0 "findings: a JPEG with bytes after EOI is labelled"
check "findings: trailing-data is reported on stderr" grep -q "info trailing-data" "$W/err"
run "$MARK" --json --key "$W/k-producer" --producer "$PRODUCER" "$W/trailing.jpg" -o "$W/trailing-out2.jpg"
expect_json "$W/out" "findings.0.code" trailing-data "findings: --json lists trailing-data"

finish

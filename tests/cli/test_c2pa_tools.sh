#!/usr/bin/env bash
# C2PA through the tools: keygen --c2pa, mark signs a manifest by default, verify reports it as the reference would.
set -euo pipefail
: "${AIMARK_BIN:?}" "${AIMARK_SRC:?}"
. "$(dirname "$0")/lib.sh"
work="$W"

"$AIMARK_BIN/aimark-keygen" --c2pa --producer 001191110102MACQD9K64010000 --out "$work/k" >/dev/null
for f in c2pa-chain.pem c2pa.key c2pa-root.pem watermark.key; do
  [ -f "$work/k/$f" ] && ok || bad "keygen --c2pa did not write $f"
done
[ "$(stat -c %a "$work/k/c2pa.key")" = 600 ] && ok || bad "c2pa.key is not mode 0600"

for sample in images/mandelbrot.jpg images/cellauto.png images/testsrc.webp; do
  name=$(basename "$sample")
  "$AIMARK_BIN/aimark-mark" --key "$work/k" "$AIMARK_SRC/samples/$sample" -o "$work/$name" >/dev/null || { bad "mark $name"; continue; }
  set +e
  "$AIMARK_BIN/aimark-verify" --json --trust "$work/k" "$work/$name" > "$work/v.json"; rc=$?
  set -e
  [ "$rc" = 0 ] && ok || bad "$name: verify exit $rc"
  [ "$(json "$work/v.json" "d['c2pa']['state']")" = Trusted ] && ok || bad "$name: C2PA not Trusted with the key dir's root"
  [ "$(json "$work/v.json" "d['c2pa']['aigc']['AIGC']['ContentProducer']")" = 001191110102MACQD9K64010000 ] && ok || bad "$name: GB label missing from the manifest"
  # Without the root: the signature is valid but the signer untrusted (as the reference says).
  set +e; "$AIMARK_BIN/aimark-verify" --json "$work/$name" > "$work/v2.json"; set -e
  [ "$(json "$work/v2.json" "d['c2pa']['state']")" = Valid ] && ok || bad "$name: C2PA not Valid without anchors"
done

# --no-c2pa writes none; a format without C2PA support is labelled without one by default.
"$AIMARK_BIN/aimark-mark" --key "$work/k" --no-c2pa "$AIMARK_SRC/samples/images/cellauto.png" -o "$work/plain.png" >/dev/null
set +e; "$AIMARK_BIN/aimark-verify" --json --trust "$work/k" "$work/plain.png" > "$work/v3.json"; set -e
[ "$(json "$work/v3.json" "'c2pa' in d")" = False ] && ok || bad "--no-c2pa still wrote a manifest"

# A byte changed after signing: the GB verdict is tampered and the manifest's data hash fails.
cp "$work/mandelbrot.jpg" "$work/t.jpg"
size=$(stat -c %s "$work/t.jpg")
printf '\x55' | dd of="$work/t.jpg" bs=1 seek=$((size - 100)) conv=notrunc status=none
set +e; "$AIMARK_BIN/aimark-verify" --json --trust "$work/k" "$work/t.jpg" > "$work/v4.json"; rc=$?; set -e
[ "$rc" = 2 ] && ok || bad "tampered: exit $rc"
[ "$(json "$work/v4.json" "d['c2pa']['state']")" = Invalid ] && ok || bad "tampered: C2PA not Invalid"
json "$work/v4.json" "[c['code'] for c in d['c2pa']['codes']['failure']]" | grep -q assertion.dataHash.mismatch && ok || bad "tampered: no dataHash.mismatch"

# The reference fixtures, through the tool.
if [ -d "${AIMARK_SHARED_DIR:-}/c2pa-fixtures" ]; then
  fx="$AIMARK_SHARED_DIR/c2pa-fixtures"
  for pair in C.jpg:Trusted CA.jpg:Trusted CACA.jpg:Trusted E-sig-CA.jpg:Invalid XCA.jpg:Invalid video1.mp4:Valid; do
    f=${pair%%:*} want=${pair#*:}
    set +e; "$AIMARK_BIN/aimark-verify" --json --c2pa-trust "$fx/trust_root_bundle.pem" "$fx/$f" > "$work/f.json"; set -e
    got=$(json "$work/f.json" "d['c2pa']['state']")
    [ "$got" = "$want" ] && ok || bad "$f: C2PA $got, the reference says $want"
  done
fi
finish

#!/usr/bin/env bash
# CLI tests for aimark-keygen: algorithms, key files and modes, refusal to overwrite, usage errors.
set -euo pipefail

. "$(dirname "$0")/lib.sh"
fail_on_error
KEYGEN="$AIMARK_BIN/aimark-keygen"
spki_sha256() { openssl pkey -pubin -in "$1" -outform DER 2>/dev/null | sha256sum | cut -d' ' -f1; }

# --help, --version, usage errors
run "$KEYGEN" --help
expect_rc 0 "--help exits 0"
check "--help prints usage, options, exit codes and an example on stdout" \
	grep -q "Usage: aimark-keygen" "$W/out"
check "--help lists every option" bash -c "grep -q -- '--alg' '$W/out' && grep -q -- '--out' '$W/out' && grep -q -- '--producer' '$W/out'"
check "--help documents exit codes and an example" bash -c "grep -q 'Exit codes' '$W/out' && grep -q 'Example' '$W/out'"
run "$KEYGEN" --version
expect_rc 0 "--version exits 0"
check "--version prints a version number" grep -Eq '^aimark-keygen [0-9]+\.[0-9]+\.[0-9]+$' "$W/out"
run "$KEYGEN" --bogus --out "$W/x"
expect_rc 64 "unknown option exits 64"
check "unknown option prints usage on stderr, nothing on stdout" bash -c "grep -q Usage '$W/err' && [ ! -s '$W/out' ]"
check "unknown option created nothing" test ! -e "$W/x"
run "$KEYGEN"
expect_rc 64 "missing --out exits 64"
check "missing --out is explained" grep -q -- "--out" "$W/err"
run "$KEYGEN" --alg rsa --out "$W/x"
expect_rc 64 "unknown algorithm exits 64"
check "unknown algorithm created nothing" test ! -e "$W/x"
run "$KEYGEN" --out "$W/x" extra-arg
expect_rc 64 "extra argument exits 64"
run "$KEYGEN" --producer "has space" --out "$W/x"
expect_rc 64 "--producer with characters Annex E forbids exits 64"
check "bad --producer created nothing" test ! -e "$W/x"

# One key directory per algorithm.
for alg in sm2 ed25519 p256; do
	dir="$W/keys-$alg"
	run "$KEYGEN" --alg "$alg" --out "$dir"
	expect_rc 0 "$alg: keygen exits 0"
	check "$alg: signing.key exists with mode 0600" bash -c "[ -f '$dir/signing.key' ] && [ \"\$(stat -c %a '$dir/signing.key')\" = 600 ]"
	check "$alg: signing.pub exists" test -s "$dir/signing.pub"
	check "$alg: signing.key is a PKCS#8 PEM private key" grep -q "BEGIN PRIVATE KEY" "$dir/signing.key"
	check "$alg: signing.pub is a PEM public key" grep -q "BEGIN PUBLIC KEY" "$dir/signing.pub"
	check "$alg: the algorithm is printed" grep -Eq "^algorithm: +$alg\$" "$W/out"
	id="$(sed -n 's/^key id: *//p' "$W/out")"
	check "$alg: a 64-hex-digit key id is printed" bash -c "[[ '$id' =~ ^[0-9a-f]{64}\$ ]]"
	check "$alg: the key id is the SHA-256 of the DER public key" test "$id" = "$(spki_sha256 "$dir/signing.pub")"
	check "$alg: both paths are printed" bash -c "grep -q '$dir/signing.key' '$W/out' && grep -q '$dir/signing.pub' '$W/out'"
	check "$alg: no producer file without --producer" test ! -e "$dir/producer"
done
check "sm2 keys are on the SM2 curve" bash -c "openssl pkey -pubin -in '$W/keys-sm2/signing.pub' -text -noout 2>/dev/null | grep -qi 'SM2'"
check "ed25519 keys are Ed25519" bash -c "openssl pkey -pubin -in '$W/keys-ed25519/signing.pub' -text -noout 2>/dev/null | grep -qi 'ED25519'"
check "p256 keys are on P-256" bash -c "openssl pkey -pubin -in '$W/keys-p256/signing.pub' -text -noout 2>/dev/null | grep -qi 'prime256v1\|P-256'"
check "two key directories get different keys" \
	test "$(spki_sha256 "$W/keys-sm2/signing.pub")" != "$(spki_sha256 "$W/keys-p256/signing.pub")"

# Default algorithm is sm2.
run "$KEYGEN" --out "$W/keys-default"
expect_rc 0 "keygen without --alg exits 0"
check "the default algorithm is sm2" grep -Eq "^algorithm: +sm2$" "$W/out"

# Refusal to overwrite.
cp "$W/keys-sm2/signing.key" "$W/saved.key"
cp "$W/keys-sm2/signing.pub" "$W/saved.pub"
run "$KEYGEN" --out "$W/keys-sm2"
expect_rc 1 "keygen into an existing key directory exits 1"
check "the refusal says the key exists" grep -qi "exist" "$W/err"
check "the refusal names the directory" grep -q "keys-sm2" "$W/err"
check "the old private key is unchanged" cmp -s "$W/saved.key" "$W/keys-sm2/signing.key"
check "the old public key is unchanged" cmp -s "$W/saved.pub" "$W/keys-sm2/signing.pub"
run "$KEYGEN" --alg ed25519 --out "$W/keys-sm2"
expect_rc 1 "keygen with another algorithm into an existing key directory exits 1"
check "the old private key is still unchanged" cmp -s "$W/saved.key" "$W/keys-sm2/signing.key"
mkdir "$W/half"
echo "not mine" >"$W/half/signing.pub"
run "$KEYGEN" --out "$W/half"
expect_rc 1 "keygen refuses when only signing.pub exists"
check "the existing signing.pub is kept" grep -q "not mine" "$W/half/signing.pub"
check "no signing.key was written beside it" test ! -e "$W/half/signing.key"

# An existing empty directory is fine; nested directories are created.
mkdir "$W/empty-dir"
run "$KEYGEN" --out "$W/empty-dir"
expect_rc 0 "keygen into an existing empty directory exits 0"
run "$KEYGEN" --alg p256 --out "$W/a/b/c"
expect_rc 0 "keygen creates missing parent directories"
check "the nested key directory has its key" test -s "$W/a/b/c/signing.key"

# --producer writes DIR/producer.
run "$KEYGEN" --producer 001191110102MACQD9K64010000 --out "$W/keys-prod"
expect_rc 0 "keygen --producer exits 0"
check "DIR/producer holds the code" test "$(cat "$W/keys-prod/producer")" = "001191110102MACQD9K64010000"
check "the producer is printed" grep -q "001191110102MACQD9K64010000" "$W/out"

# A key directory that cannot be created.
touch "$W/plainfile"
run "$KEYGEN" --out "$W/plainfile"
expect_rc 1 "keygen onto a regular file exits 1"
check "the error names the path" grep -q "plainfile" "$W/err"

finish

/*
 * Fuzzes public key decoding: aimark__key_from_any_public (DER SPKI and raw
 * SM2 points) and aimark_key_load_pem (PKCS#8, SPKI, SEC1, certificates).
 * Every key that decodes is exercised: id, PEM and SPKI re-encoding, verify.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aimark/aimark.h"
#include "crypto/crypto.h"

#define INPUT_MAX (64 * 1024)

/* An invariant broke: say which, with the library's last error, and crash. */
static void fail(const char *what)
{
	fprintf(stderr, "fuzz_pubkey: %s: %s\n", what, aimark_error_last());
	abort();
}

static void exercise(const aimark_key *key)
{
	char id[65], id2[65];
	if (aimark_key_id(key, id) != 0)
		fail("key id");

	/* SPKI re-encoding round-trips to the same key id */
	aimark_buf der = AIMARK_BUF_INIT;
	aimark_key *again = NULL;
	if (aimark__key_spki_der(key, &der) != 0 || aimark__key_from_spki_der(&again, der.ptr, der.size) != 0 ||
	    aimark_key_id(again, id2) != 0 || strcmp(id, id2) != 0)
		fail("SPKI round trip");
	aimark_key_free(again);
	aimark_buf_dispose(&der);

	aimark_buf pem = AIMARK_BUF_INIT;
	if (aimark_key_public_pem(key, &pem) != 0)
		fail("public PEM");
	aimark_buf_dispose(&pem);

	/* a garbage signature is "not valid", never an error */
	static const unsigned char sig[] = { 0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01 };
	if (aimark__verify(key, "m", 1, sig, sizeof sig) != 0)
		fail("garbage signature accepted");

	if (aimark_key_has_private(key)) {
		aimark_buf s = AIMARK_BUF_INIT;
		if (aimark__sign(key, "m", 1, &s) != 0)
			fail("sign");
		if (aimark__verify(key, "m", 1, s.ptr, s.size) != 1)
			fail("own signature rejected");
		aimark_buf_dispose(&s);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > INPUT_MAX)
		return 0;
	aimark_key *key = NULL;
	if (aimark__key_from_any_public(&key, data, size) == 0) {
		exercise(key);
		aimark_key_free(key);
		key = NULL;
	}
	if (aimark_key_load_pem(&key, data, size) == 0) {
		exercise(key);
		aimark_key_free(key);
	}
	return 0;
}

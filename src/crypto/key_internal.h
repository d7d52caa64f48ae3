/*
 * Definitions shared by the files of src/crypto/ only: the key handle and
 * the OpenSSL error translation. Includes OpenSSL, so nothing outside
 * src/crypto/ may include it.
 */
#ifndef AIMARK_CRYPTO_KEY_INTERNAL_H
#define AIMARK_CRYPTO_KEY_INTERNAL_H

#include <openssl/evp.h>

#include "aimark/keys.h"

struct aimark_key {
	EVP_PKEY *pkey;
	aimark_key_alg alg;
	int has_private;
};

/*
 * Wraps `pkey` (ownership passes in, also on failure) into a new key after
 * classifying it. A key on the SM2 curve that OpenSSL typed "EC" is
 * re-imported as an "SM2" key. AIMARK_EUNSUPPORTED for other key types.
 */
int aimark__key_wrap(aimark_key **out, EVP_PKEY *pkey, int has_private);

/*
 * Records `code` with the message "<what>: <OpenSSL reason>" (the first
 * queued OpenSSL error, if any) and clears OpenSSL's error queue.
 */
int aimark__crypto_ossl_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * 1 when `text`, with surrounding white space ignored, equals `name`
 * ignoring ASCII case (algorithm names and OIDs in labels).
 */
int aimark__crypto_text_is(const char *text, const char *name);

/* Upper bound for key, certificate and key file sizes. */
#define AIMARK__KEY_FILE_MAX (1024 * 1024)

#endif

/*
 * Private crypto interface. src/crypto/ is the only place OpenSSL is
 * included; everything else uses these functions.
 */
#ifndef AIMARK_CRYPTO_CRYPTO_H
#define AIMARK_CRYPTO_CRYPTO_H

#include <stddef.h>

#include "aimark/common.h"
#include "aimark/keys.h"

/* ---- hashes ---- */
typedef enum aimark__hash_alg {
	AIMARK__HASH_SHA256 = 1,
	AIMARK__HASH_SM3 = 2
} aimark__hash_alg;

#define AIMARK__HASH_MAX 32

typedef struct aimark__hash aimark__hash;

int aimark__hash_new(aimark__hash **out, aimark__hash_alg alg);
int aimark__hash_update(aimark__hash *h, const void *data, size_t len);
/* Writes the digest (32 bytes for both algorithms) to `out`. */
int aimark__hash_final(aimark__hash *h, unsigned char out[AIMARK__HASH_MAX]);
void aimark__hash_free(aimark__hash *h);
int aimark__hash_oneshot(aimark__hash_alg alg, const void *data, size_t len, unsigned char out[AIMARK__HASH_MAX]);
/* "sha256" / "sm3". */
const char *aimark__hash_alg_name(aimark__hash_alg alg);
/* "2.16.840.1.101.3.4.2.1" / "1.2.156.10197.1.401". */
const char *aimark__hash_alg_oid(aimark__hash_alg alg);
/* Accepts names and OIDs, any case, surrounding white space ignored. 0 or AIMARK_EUNSUPPORTED. */
int aimark__hash_alg_parse(const char *text, aimark__hash_alg *out);

/* The content-hash algorithm that goes with a key: SM3 for SM2, SHA-256 otherwise. */
aimark__hash_alg aimark__key_hash_alg(const aimark_key *key);

/* ---- signatures ----
 * SM2: SM3withSM2 over the message with Z from the default user id
 *      "1234567812345678"; signature DER SEQUENCE{r,s}.
 * P-256: ECDSA with SHA-256; DER SEQUENCE{r,s}.
 * Ed25519: pure Ed25519 over the message; 64 raw bytes. */
int aimark__sign(const aimark_key *key, const void *msg, size_t len, aimark_buf *sig);
/* Returns 1 when valid, 0 when not (including malformed signatures), < 0 on error. */
int aimark__verify(const aimark_key *key, const void *msg, size_t len, const void *sig, size_t sig_len);

/* Signature algorithm OIDs as written into SecurityData AlgID:
 * SM2 "1.2.156.10197.1.501" (SM3withSM2), P-256 "1.2.840.10045.4.3.2"
 * (ecdsa-with-SHA256), Ed25519 "1.3.101.112". */
const char *aimark__key_sig_oid(const aimark_key *key);
/* Accepts the OIDs above and the names "sm2", "sm3withsm2", "ed25519", "ecdsa-with-sha256", "p256", any case, trimmed. */
int aimark__sig_alg_parse(const char *text, aimark_key_alg *out);

/* Public key as DER SubjectPublicKeyInfo. */
int aimark__key_spki_der(const aimark_key *key, aimark_buf *out);
/* Public-only key from DER SubjectPublicKeyInfo (SM2 recognised by curve OID 1.2.156.10197.1.301). */
int aimark__key_from_spki_der(aimark_key **out, const void *der, size_t len);
/*
 * Public SM2 key from a raw point: 65 bytes 04||X||Y, 64 bytes X||Y, or 33
 * bytes 00||X (vendor x-only form: lifted to the point with even y), 02||X or
 * 03||X (compressed). AIMARK_EFORMAT when not a point on the curve.
 */
int aimark__key_from_sm2_point(aimark_key **out, const void *bytes, size_t len);
/* Public key from one of: DER SPKI, raw SM2 point (forms above). Tries SPKI first. */
int aimark__key_from_any_public(aimark_key **out, const void *bytes, size_t len);

/* ---- MAC, randomness, secrets ---- */
int aimark__hmac_sha256(const void *key, size_t key_len, const void *data, size_t len, unsigned char out[32]);
int aimark__random_bytes(void *out, size_t len);
/* 1 when equal; runs in time independent of the contents. */
int aimark__ct_equal(const void *a, const void *b, size_t len);
void aimark__wipe(void *p, size_t len);

#endif

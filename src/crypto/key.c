/* The key handle: classification, generation, identity, SPKI DER import/export. */
#include <limits.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "core/internal.h"
#include "crypto/crypto.h"
#include "crypto/key_internal.h"

const char *aimark_key_alg_name(aimark_key_alg alg)
{
	switch (alg) {
	case AIMARK_ALG_SM2: return "sm2";
	case AIMARK_ALG_ED25519: return "ed25519";
	case AIMARK_ALG_P256: return "p256";
	default: return NULL;
	}
}

int aimark_key_alg_parse(const char *name, aimark_key_alg *out)
{
	static const struct {
		const char *name;
		aimark_key_alg alg;
	} names[] = {
		{ "sm2", AIMARK_ALG_SM2 },
		{ "ed25519", AIMARK_ALG_ED25519 },
		{ "p256", AIMARK_ALG_P256 },
		{ "p-256", AIMARK_ALG_P256 },
		{ "ecdsa-p256", AIMARK_ALG_P256 },
	};
	RETURN_IF(name == NULL || out == NULL, AIMARK_EINVAL, "key algorithm: bad argument");
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (aimark__crypto_text_is(name, names[i].name)) {
			*out = names[i].alg;
			return 0;
		}
	}
	return aimark__error_set(AIMARK_EINVAL, "unknown key algorithm \"%.64s\" (expected sm2, ed25519 or p256)", name);
}

/* Wipes and frees an OSSL_PARAM array that may hold private key material. */
static void params_clear_free(OSSL_PARAM *params)
{
	if (params == NULL)
		return;
	for (OSSL_PARAM *p = params; p->key != NULL; p++) {
		if (p->data != NULL && p->data_size != 0)
			OPENSSL_cleanse(p->data, p->data_size);
	}
	OSSL_PARAM_free(params);
}

/* Re-imports a key on the SM2 curve typed "EC" as an "SM2" key (SM2 signing needs the latter). */
static int ec_to_sm2(EVP_PKEY **pkey, int has_private)
{
	int selection = has_private ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *sm2 = NULL;
	int rc = 0;

	if (EVP_PKEY_todata(*pkey, selection, &params) != 1 ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "SM2", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 || EVP_PKEY_fromdata(ctx, &sm2, selection, params) != 1)
		rc = aimark__crypto_ossl_error(AIMARK_ECRYPTO, "key: cannot convert an EC key on the SM2 curve to SM2");
	params_clear_free(params);
	EVP_PKEY_CTX_free(ctx);
	if (rc == 0) {
		EVP_PKEY_free(*pkey);
		*pkey = sm2;
	}
	return rc;
}

int aimark__key_wrap(aimark_key **out, EVP_PKEY *pkey, int has_private)
{
	aimark_key_alg alg = AIMARK_ALG_SM2;
	int rc = 0;

	*out = NULL;
	if (pkey == NULL)
		return aimark__error_set(AIMARK_EINVAL, "key: no key");
	if (EVP_PKEY_is_a(pkey, "SM2")) {
		alg = AIMARK_ALG_SM2;
	} else if (EVP_PKEY_is_a(pkey, "ED25519")) {
		alg = AIMARK_ALG_ED25519;
	} else if (EVP_PKEY_is_a(pkey, "EC")) {
		char group[64] = "";
		size_t glen = 0;
		if (EVP_PKEY_get_group_name(pkey, group, sizeof group, &glen) != 1) {
			ERR_clear_error();
			rc = aimark__error_set(AIMARK_EUNSUPPORTED, "key: EC key without a named curve is not supported");
		} else if (strcmp(group, "SM2") == 0) {
			alg = AIMARK_ALG_SM2;
			rc = ec_to_sm2(&pkey, has_private);
		} else if (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0) {
			alg = AIMARK_ALG_P256;
		} else {
			rc = aimark__error_set(AIMARK_EUNSUPPORTED,
				"key: EC curve %.64s is not supported (expected P-256 or SM2)", group);
		}
	} else {
		const char *type = EVP_PKEY_get0_type_name(pkey);
		rc = aimark__error_set(AIMARK_EUNSUPPORTED, "key: %.64s keys are not supported (expected SM2, Ed25519 or P-256)",
			type ? type : "unknown");
	}
	if (rc < 0) {
		EVP_PKEY_free(pkey);
		return rc;
	}

	aimark_key *key = aimark__calloc(1, sizeof *key);
	if (key == NULL) {
		EVP_PKEY_free(pkey);
		return aimark__error_set(AIMARK_ENOMEM, "out of memory");
	}
	key->pkey = pkey;
	key->alg = alg;
	key->has_private = has_private ? 1 : 0;
	*out = key;
	return 0;
}

int aimark_key_generate(aimark_key **out, aimark_key_alg alg)
{
	RETURN_IF(out == NULL, AIMARK_EINVAL, "key generate: no output pointer");
	*out = NULL;
	EVP_PKEY *pkey = NULL;
	switch (alg) {
	case AIMARK_ALG_SM2:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "SM2");
		break;
	case AIMARK_ALG_ED25519:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		break;
	case AIMARK_ALG_P256:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		break;
	default:
		return aimark__error_set(AIMARK_EINVAL, "key generate: unknown algorithm %d", (int)alg);
	}
	if (pkey == NULL)
		return aimark__crypto_ossl_error(AIMARK_ECRYPTO, "key generate: %s key generation failed",
			aimark_key_alg_name(alg));
	return aimark__key_wrap(out, pkey, 1);
}

int aimark_key_has_private(const aimark_key *key)
{
	return key != NULL && key->has_private;
}

aimark_key_alg aimark_key_algorithm(const aimark_key *key)
{
	return key ? key->alg : (aimark_key_alg)0;
}

void aimark_key_free(aimark_key *key)
{
	if (key == NULL)
		return;
	/* OpenSSL clears the private scalar when the key is freed. */
	EVP_PKEY_free(key->pkey);
	OPENSSL_cleanse(key, sizeof *key);
	aimark__free(key);
}

aimark__hash_alg aimark__key_hash_alg(const aimark_key *key)
{
	return (key != NULL && key->alg == AIMARK_ALG_SM2) ? AIMARK__HASH_SM3 : AIMARK__HASH_SHA256;
}

int aimark__key_spki_der(const aimark_key *key, aimark_buf *out)
{
	RETURN_IF(key == NULL || out == NULL, AIMARK_EINVAL, "key: bad argument");
	int n = i2d_PUBKEY(key->pkey, NULL);
	if (n <= 0)
		return aimark__crypto_ossl_error(AIMARK_ECRYPTO, "key: cannot encode the public key as SPKI");
	aimark__buf_clear(out);
	RETURN_IF_ERR(aimark__buf_reserve(out, (size_t)n));
	unsigned char *p = out->ptr;
	if (i2d_PUBKEY(key->pkey, &p) != n)
		return aimark__crypto_ossl_error(AIMARK_ECRYPTO, "key: cannot encode the public key as SPKI");
	out->size = (size_t)n;
	out->ptr[n] = '\0';
	return 0;
}

int aimark__key_from_spki_der(aimark_key **out, const void *der, size_t len)
{
	RETURN_IF(out == NULL || (der == NULL && len != 0), AIMARK_EINVAL, "SPKI: bad argument");
	*out = NULL;
	RETURN_IF(len == 0, AIMARK_EFORMAT, "SPKI: empty input");
	RETURN_IF(len > AIMARK__KEY_FILE_MAX, AIMARK_ELIMIT, "SPKI: %zu bytes exceeds the %d byte limit", len,
		AIMARK__KEY_FILE_MAX);
	const unsigned char *p = der;
	EVP_PKEY *pkey = d2i_PUBKEY(NULL, &p, (long)len);
	if (pkey == NULL)
		return aimark__crypto_ossl_error(AIMARK_EFORMAT, "SPKI: not a DER SubjectPublicKeyInfo (%zu bytes)", len);
	size_t used = (size_t)(p - (const unsigned char *)der);
	if (used != len) {
		EVP_PKEY_free(pkey);
		return aimark__error_set(AIMARK_EFORMAT, "SPKI: %zu trailing bytes after the structure at offset %zu",
			len - used, used);
	}
	return aimark__key_wrap(out, pkey, 0);
}

int aimark_key_id(const aimark_key *key, char out[65])
{
	static const char digits[] = "0123456789abcdef";
	RETURN_IF(key == NULL || out == NULL, AIMARK_EINVAL, "key id: bad argument");
	aimark_buf der = AIMARK_BUF_INIT;
	unsigned char md[AIMARK__HASH_MAX];
	int rc = aimark__key_spki_der(key, &der);
	if (rc == 0)
		rc = aimark__hash_oneshot(AIMARK__HASH_SHA256, der.ptr, der.size, md);
	aimark_buf_dispose(&der);
	if (rc < 0)
		return rc == AIMARK_ENOMEM ? rc : AIMARK_ECRYPTO;
	for (size_t i = 0; i < 32; i++) {
		out[2 * i] = digits[md[i] >> 4];
		out[2 * i + 1] = digits[md[i] & 15];
	}
	out[64] = '\0';
	return 0;
}

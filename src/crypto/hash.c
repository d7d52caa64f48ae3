/* SHA-256 and SM3: streaming and one-shot digests, algorithm names and OIDs. */
#include <string.h>

#include <openssl/evp.h>

#include "core/internal.h"
#include "crypto/crypto.h"
#include "crypto/key_internal.h"

struct aimark__hash {
	EVP_MD_CTX *ctx;
	aimark__hash_alg alg;
};

static const EVP_MD *hash_md(aimark__hash_alg alg)
{
	switch (alg) {
	case AIMARK__HASH_SHA256: return EVP_sha256();
	case AIMARK__HASH_SM3: return EVP_sm3();
	default: return NULL;
	}
}

int aimark__hash_new(aimark__hash **out, aimark__hash_alg alg)
{
	RETURN_IF(out == NULL, AIMARK_EINVAL, "hash: no output pointer");
	*out = NULL;
	const EVP_MD *md = hash_md(alg);
	RETURN_IF(md == NULL, AIMARK_EINVAL, "hash: unknown algorithm %d", (int)alg);
	aimark__hash *h = aimark__calloc(1, sizeof *h);
	RETURN_ENOMEM_IF_NULL(h);
	h->alg = alg;
	h->ctx = EVP_MD_CTX_new();
	if (h->ctx == NULL) {
		aimark__free(h);
		return aimark__error_set(AIMARK_ENOMEM, "out of memory");
	}
	if (EVP_DigestInit_ex(h->ctx, md, NULL) != 1) {
		EVP_MD_CTX_free(h->ctx);
		aimark__free(h);
		return aimark__crypto_ossl_error(AIMARK_ECRYPTO, "hash: cannot start %s", aimark__hash_alg_name(alg));
	}
	*out = h;
	return 0;
}

int aimark__hash_update(aimark__hash *h, const void *data, size_t len)
{
	RETURN_IF(h == NULL || (data == NULL && len != 0), AIMARK_EINVAL, "hash: bad argument");
	if (len == 0)
		return 0;
	if (EVP_DigestUpdate(h->ctx, data, len) != 1)
		return aimark__crypto_ossl_error(AIMARK_ECRYPTO, "hash: %s update failed", aimark__hash_alg_name(h->alg));
	return 0;
}

int aimark__hash_final(aimark__hash *h, unsigned char out[AIMARK__HASH_MAX])
{
	RETURN_IF(h == NULL || out == NULL, AIMARK_EINVAL, "hash: bad argument");
	unsigned int n = 0;
	if (EVP_DigestFinal_ex(h->ctx, out, &n) != 1 || n != 32)
		return aimark__crypto_ossl_error(AIMARK_ECRYPTO, "hash: %s final failed", aimark__hash_alg_name(h->alg));
	return 0;
}

void aimark__hash_free(aimark__hash *h)
{
	if (h == NULL)
		return;
	EVP_MD_CTX_free(h->ctx);
	aimark__free(h);
}

int aimark__hash_oneshot(aimark__hash_alg alg, const void *data, size_t len, unsigned char out[AIMARK__HASH_MAX])
{
	const EVP_MD *md = hash_md(alg);
	RETURN_IF(md == NULL, AIMARK_EINVAL, "hash: unknown algorithm %d", (int)alg);
	RETURN_IF(out == NULL || (data == NULL && len != 0), AIMARK_EINVAL, "hash: bad argument");
	unsigned int n = 0;
	static const unsigned char empty[1];
	if (EVP_Digest(len ? data : empty, len, out, &n, md, NULL) != 1 || n != 32)
		return aimark__crypto_ossl_error(AIMARK_ECRYPTO, "hash: %s failed", aimark__hash_alg_name(alg));
	return 0;
}

const char *aimark__hash_alg_name(aimark__hash_alg alg)
{
	switch (alg) {
	case AIMARK__HASH_SHA256: return "sha256";
	case AIMARK__HASH_SM3: return "sm3";
	default: return "unknown";
	}
}

const char *aimark__hash_alg_oid(aimark__hash_alg alg)
{
	switch (alg) {
	case AIMARK__HASH_SHA256: return "2.16.840.1.101.3.4.2.1";
	case AIMARK__HASH_SM3: return "1.2.156.10197.1.401";
	default: return "";
	}
}

int aimark__hash_alg_parse(const char *text, aimark__hash_alg *out)
{
	static const struct {
		const char *name;
		aimark__hash_alg alg;
	} names[] = {
		{ "sha256", AIMARK__HASH_SHA256 },
		{ "sha-256", AIMARK__HASH_SHA256 },
		{ "sha2-256", AIMARK__HASH_SHA256 },
		{ "2.16.840.1.101.3.4.2.1", AIMARK__HASH_SHA256 },
		{ "sm3", AIMARK__HASH_SM3 },
		{ "1.2.156.10197.1.401", AIMARK__HASH_SM3 },
	};
	RETURN_IF(text == NULL || out == NULL, AIMARK_EINVAL, "hash: bad argument");
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (aimark__crypto_text_is(text, names[i].name)) {
			*out = names[i].alg;
			return 0;
		}
	}
	return aimark__error_set(AIMARK_EUNSUPPORTED, "unsupported hash algorithm \"%.64s\"", text);
}

/* SHA-2 digests by their C2PA names ("sha256", "sha384", "sha512"), and COSE algorithm names. */
#include <pthread.h>
#include <string.h>

#include <openssl/evp.h>

#include "core/internal.h"
#include "crypto/key_internal.h"
#include "crypto/x509_c2pa.h"

struct aimark__md {
	EVP_MD_CTX *ctx;
};

/*
 * Fetched once: a legacy EVP_sha256() makes every EVP_DigestInit_ex look the
 * implementation up again under the provider store's locks, which cost more
 * than hashing a small assertion.
 */
static const EVP_MD *fetched[3];
static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;

static void fetch_digests(void)
{
	static const char *const names[3] = { "SHA256", "SHA384", "SHA512" };
	for (int i = 0; i < 3; i++)
		fetched[i] = EVP_MD_fetch(NULL, names[i], NULL); /* kept for the life of the process */
}

static const EVP_MD *md_by_name(const char *name)
{
	if (name == NULL)
		return NULL;
	pthread_once(&fetch_once, fetch_digests);
	if (strcmp(name, "sha256") == 0)
		return fetched[0] ? fetched[0] : EVP_sha256();
	if (strcmp(name, "sha384") == 0)
		return fetched[1] ? fetched[1] : EVP_sha384();
	if (strcmp(name, "sha512") == 0)
		return fetched[2] ? fetched[2] : EVP_sha512();
	return NULL;
}

size_t aimark__md_size(const char *name)
{
	const EVP_MD *md = md_by_name(name);
	return md ? (size_t)EVP_MD_get_size(md) : 0;
}

int aimark__md_new(aimark__md **out, const char *name)
{
	*out = NULL;
	const EVP_MD *md = md_by_name(name);
	RETURN_IF(md == NULL, AIMARK_EUNSUPPORTED, "C2PA: unsupported hash algorithm \"%.40s\"", name ? name : "");
	aimark__md *h = aimark__calloc(1, sizeof *h);
	RETURN_ENOMEM_IF_NULL(h);
	h->ctx = EVP_MD_CTX_new();
	if (h->ctx == NULL || EVP_DigestInit_ex(h->ctx, md, NULL) != 1) {
		EVP_MD_CTX_free(h->ctx);
		aimark__free(h);
		return aimark__crypto_ossl_error(AIMARK_ECRYPTO, "C2PA: cannot start %s", name);
	}
	*out = h;
	return 0;
}

int aimark__md_update(aimark__md *md, const void *data, size_t len)
{
	if (len == 0)
		return 0;
	if (EVP_DigestUpdate(md->ctx, data, len) != 1)
		return aimark__crypto_ossl_error(AIMARK_ECRYPTO, "C2PA: digest update failed");
	return 0;
}

int aimark__md_final(aimark__md *md, unsigned char out[AIMARK__MD_MAX], size_t *out_len)
{
	unsigned int n = 0;
	if (EVP_DigestFinal_ex(md->ctx, out, &n) != 1)
		return aimark__crypto_ossl_error(AIMARK_ECRYPTO, "C2PA: digest failed");
	*out_len = n;
	return 0;
}

void aimark__md_free(aimark__md *md)
{
	if (md == NULL)
		return;
	EVP_MD_CTX_free(md->ctx);
	aimark__free(md);
}

int aimark__md_oneshot(const char *name, const void *data, size_t len, unsigned char out[AIMARK__MD_MAX], size_t *out_len)
{
	aimark__md *md = NULL;
	RETURN_IF_ERR(aimark__md_new(&md, name));
	int rc = aimark__md_update(md, data, len);
	if (rc == 0)
		rc = aimark__md_final(md, out, out_len);
	aimark__md_free(md);
	return rc;
}

const char *aimark__cose_alg_name(int64_t alg)
{
	switch (alg) {
	case AIMARK__COSE_ES256: return "ES256";
	case AIMARK__COSE_ES384: return "ES384";
	case AIMARK__COSE_ES512: return "ES512";
	case AIMARK__COSE_PS256: return "PS256";
	case AIMARK__COSE_PS384: return "PS384";
	case AIMARK__COSE_PS512: return "PS512";
	case AIMARK__COSE_EDDSA: return "Ed25519";
	default: return NULL;
	}
}

/* Signing and verifying: SM2 with SM3, ECDSA P-256 with SHA-256, pure Ed25519. */
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "core/internal.h"
#include "crypto/crypto.h"
#include "crypto/key_internal.h"

/* GM/T 0009 default signer identity, used by every vendor seen so far. */
static const char sm2_default_id[] = "1234567812345678";

/* Larger signatures cannot be valid for any supported algorithm; refuse without parsing. */
#define SIG_MAX 512

static int signverify_init(EVP_MD_CTX **out, const aimark_key *key, int signing)
{
	const char *md = NULL;
	switch (key->alg) {
	case AIMARK_ALG_SM2: md = "SM3"; break;
	case AIMARK_ALG_P256: md = "SHA256"; break;
	case AIMARK_ALG_ED25519: md = NULL; break; /* pure: no pre-hash */
	default: return aimark__error_set(AIMARK_EINVAL, "signature: unknown key algorithm %d", (int)key->alg);
	}
	const char *what = signing ? "sign" : "verify";
	EVP_MD_CTX *mctx = EVP_MD_CTX_new();
	if (mctx == NULL)
		return aimark__crypto_ossl_error(AIMARK_ENOMEM, "%s: out of memory", what);
	EVP_PKEY_CTX *pctx = NULL;
	int ok = signing ? EVP_DigestSignInit_ex(mctx, &pctx, md, NULL, NULL, key->pkey, NULL)
			 : EVP_DigestVerifyInit_ex(mctx, &pctx, md, NULL, NULL, key->pkey, NULL);
	if (ok != 1) {
		EVP_MD_CTX_free(mctx);
		return aimark__crypto_ossl_error(AIMARK_ECRYPTO, "%s: cannot start %s", what,
			aimark_key_alg_name(key->alg));
	}
	/* Z = SM3(ENTL || ID || a || b || G || P) is computed from this id. */
	if (key->alg == AIMARK_ALG_SM2 &&
	    EVP_PKEY_CTX_set1_id(pctx, sm2_default_id, (int)(sizeof sm2_default_id - 1)) != 1) {
		EVP_MD_CTX_free(mctx);
		return aimark__crypto_ossl_error(AIMARK_ECRYPTO, "%s: cannot set the SM2 user id", what);
	}
	*out = mctx;
	return 0;
}

int aimark__sign(const aimark_key *key, const void *msg, size_t len, aimark_buf *sig)
{
	static const unsigned char empty[1];
	RETURN_IF(key == NULL || sig == NULL || (msg == NULL && len != 0), AIMARK_EINVAL, "sign: bad argument");
	RETURN_IF(!key->has_private, AIMARK_EINVAL, "sign: the %s key is public only", aimark_key_alg_name(key->alg));
	if (len == 0)
		msg = empty;

	EVP_MD_CTX *mctx = NULL;
	RETURN_IF_ERR(signverify_init(&mctx, key, 1));
	size_t n = 0;
	int rc = 0;
	if (EVP_DigestSign(mctx, NULL, &n, msg, len) != 1 || n == 0 || n > SIG_MAX) {
		rc = aimark__crypto_ossl_error(AIMARK_ECRYPTO, "sign: cannot size the %s signature",
			aimark_key_alg_name(key->alg));
		goto done;
	}
	aimark__buf_clear(sig);
	if ((rc = aimark__buf_reserve(sig, n)) < 0)
		goto done;
	if (EVP_DigestSign(mctx, sig->ptr, &n, msg, len) != 1) {
		rc = aimark__crypto_ossl_error(AIMARK_ECRYPTO, "sign: %s signing failed", aimark_key_alg_name(key->alg));
		goto done;
	}
	sig->size = n;
	sig->ptr[n] = '\0';
done:
	EVP_MD_CTX_free(mctx);
	return rc;
}

int aimark__verify(const aimark_key *key, const void *msg, size_t len, const void *sig, size_t sig_len)
{
	static const unsigned char empty[1];
	RETURN_IF(key == NULL || (msg == NULL && len != 0), AIMARK_EINVAL, "verify: bad argument");
	/* Malformed signatures are a "no", not an error. */
	if (sig == NULL || sig_len == 0 || sig_len > SIG_MAX)
		return 0;
	if (key->alg == AIMARK_ALG_ED25519 && sig_len != 64)
		return 0;
	if (len == 0)
		msg = empty;

	EVP_MD_CTX *mctx = NULL;
	RETURN_IF_ERR(signverify_init(&mctx, key, 0));
	int r = EVP_DigestVerify(mctx, sig, sig_len, msg, len);
	EVP_MD_CTX_free(mctx);
	ERR_clear_error();
	return r == 1 ? 1 : 0;
}

const char *aimark__key_sig_oid(const aimark_key *key)
{
	switch (key ? key->alg : 0) {
	case AIMARK_ALG_SM2: return "1.2.156.10197.1.501";
	case AIMARK_ALG_P256: return "1.2.840.10045.4.3.2";
	case AIMARK_ALG_ED25519: return "1.3.101.112";
	default: return "";
	}
}

int aimark__sig_alg_parse(const char *text, aimark_key_alg *out)
{
	static const struct {
		const char *name;
		aimark_key_alg alg;
	} names[] = {
		{ "1.2.156.10197.1.501", AIMARK_ALG_SM2 },
		{ "sm2", AIMARK_ALG_SM2 },
		{ "sm3withsm2", AIMARK_ALG_SM2 },
		{ "sm2-with-sm3", AIMARK_ALG_SM2 },
		{ "sm2sign-with-sm3", AIMARK_ALG_SM2 },
		{ "1.2.840.10045.4.3.2", AIMARK_ALG_P256 },
		{ "ecdsa-with-sha256", AIMARK_ALG_P256 },
		{ "p256", AIMARK_ALG_P256 },
		{ "p-256", AIMARK_ALG_P256 },
		{ "ecdsa-p256", AIMARK_ALG_P256 },
		{ "1.3.101.112", AIMARK_ALG_ED25519 },
		{ "ed25519", AIMARK_ALG_ED25519 },
	};
	RETURN_IF(text == NULL || out == NULL, AIMARK_EINVAL, "signature algorithm: bad argument");
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (aimark__crypto_text_is(text, names[i].name)) {
			*out = names[i].alg;
			return 0;
		}
	}
	return aimark__error_set(AIMARK_EUNSUPPORTED, "unsupported signature algorithm \"%.64s\"", text);
}

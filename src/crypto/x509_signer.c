/*
 * The C2PA signer: a certificate chain (leaf first) and the leaf's private
 * key, and raw COSE signatures made with it (ECDSA as r||s, RSA-PSS,
 * Ed25519).
 */
#include <pthread.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "core/internal.h"
#include "crypto/key_internal.h"
#include "crypto/x509_internal.h"

struct aimark_c2pa_signer {
	EVP_PKEY *pkey;
	int64_t alg;
	size_t sig_len;
	aimark_buf chain[AIMARK__X509_MAX_CHAIN];
	size_t n_chain;
	char organization[256];
};

size_t aimark__x509_ec_coord_len(const EVP_PKEY *pkey)
{
	if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_EC)
		return 0;
	int bits = EVP_PKEY_get_bits(pkey);
	return bits > 0 ? ((size_t)bits + 7) / 8 : 0;
}

int aimark__x509_md_ctx_init(EVP_MD_CTX **out, EVP_PKEY *pkey, int64_t alg, int signing)
{
	const char *md = NULL;
	int pss = 0, want = 0;
	switch (alg) {
	case AIMARK__COSE_ES256: md = "SHA256"; want = EVP_PKEY_EC; break;
	case AIMARK__COSE_ES384: md = "SHA384"; want = EVP_PKEY_EC; break;
	case AIMARK__COSE_ES512: md = "SHA512"; want = EVP_PKEY_EC; break;
	case AIMARK__COSE_PS256: md = "SHA256"; pss = 1; break;
	case AIMARK__COSE_PS384: md = "SHA384"; pss = 1; break;
	case AIMARK__COSE_PS512: md = "SHA512"; pss = 1; break;
	case AIMARK__COSE_EDDSA: md = NULL; want = EVP_PKEY_ED25519; break;
	default: return aimark__error_set(AIMARK_ECRYPTO, "COSE: unsupported algorithm %lld", (long long)alg);
	}
	int id = EVP_PKEY_get_base_id(pkey);
	if (pss ? (id != EVP_PKEY_RSA && id != EVP_PKEY_RSA_PSS) : id != want)
		return aimark__error_set(AIMARK_ECRYPTO, "COSE: algorithm %s does not fit the certificate's key",
					 aimark__cose_alg_name(alg));
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	RETURN_ENOMEM_IF_NULL(ctx);
	EVP_PKEY_CTX *pctx = NULL;
	int ok = signing ? EVP_DigestSignInit_ex(ctx, &pctx, md, NULL, NULL, pkey, NULL)
			 : EVP_DigestVerifyInit_ex(ctx, &pctx, md, NULL, NULL, pkey, NULL);
	if (ok == 1 && pss)
		ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
		     EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1 &&
		     EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, md, NULL) == 1;
	if (ok != 1) {
		EVP_MD_CTX_free(ctx);
		return aimark__crypto_ossl_error(AIMARK_ECRYPTO, "COSE: cannot start %s", aimark__cose_alg_name(alg));
	}
	*out = ctx;
	return 0;
}

/*
 * Certificates parsed lately, by their DER bytes. Parsing one costs about
 * 0.1 ms in OpenSSL 3 (its public key goes through the provider decoders),
 * and a validation looks at the same few certificates several times, as
 * does a scan of files from one signer. Entries are shared by reference
 * (X509_up_ref); callers only read them.
 */
#define PARSED_SLOTS 16
static struct {
	pthread_mutex_t lock;
	unsigned char *der[PARSED_SLOTS];
	size_t len[PARSED_SLOTS];
	X509 *x[PARSED_SLOTS];
	size_t next;
} parsed = { PTHREAD_MUTEX_INITIALIZER, { NULL }, { 0 }, { NULL }, 0 };

static X509 *parsed_lookup(const unsigned char *der, size_t len)
{
	X509 *found = NULL;
	pthread_mutex_lock(&parsed.lock);
	for (size_t i = 0; i < PARSED_SLOTS && found == NULL; i++)
		if (parsed.x[i] && parsed.len[i] == len && memcmp(parsed.der[i], der, len) == 0 && X509_up_ref(parsed.x[i]) == 1)
			found = parsed.x[i];
	pthread_mutex_unlock(&parsed.lock);
	return found;
}

static void parsed_keep(const unsigned char *der, size_t len, X509 *x)
{
	unsigned char *copy = aimark__malloc(len);
	if (copy == NULL || X509_up_ref(x) != 1) {
		aimark__free(copy);
		return;
	}
	memcpy(copy, der, len);
	pthread_mutex_lock(&parsed.lock);
	size_t i = parsed.next;
	parsed.next = (i + 1) % PARSED_SLOTS;
	X509 *old = parsed.x[i];
	unsigned char *old_der = parsed.der[i];
	parsed.x[i] = x;
	parsed.der[i] = copy;
	parsed.len[i] = len;
	pthread_mutex_unlock(&parsed.lock);
	X509_free(old);
	aimark__free(old_der);
}

X509 *aimark__x509_from_der(const unsigned char *der, size_t len)
{
	if (der == NULL || len == 0 || len > AIMARK__X509_MAX_CERT) {
		aimark__error_set(AIMARK_EFORMAT, "X.509: certificate of %zu bytes is empty or too large", len);
		return NULL;
	}
	X509 *x = parsed_lookup(der, len);
	if (x != NULL)
		return x;
	const unsigned char *p = der;
	x = d2i_X509(NULL, &p, (long)len);
	if (x == NULL)
		aimark__crypto_ossl_error(AIMARK_EFORMAT, "X.509: unreadable certificate");
	else
		parsed_keep(der, len, x);
	return x;
}

/* Never prompts for a passphrase: encrypted keys are refused. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf; (void)size; (void)rwflag; (void)u;
	return -1;
}

static int pick_alg(EVP_PKEY *pkey, int64_t *alg, size_t *sig_len)
{
	int id = EVP_PKEY_get_base_id(pkey);
	if (id == EVP_PKEY_EC) {
		char curve[64] = "";
		size_t n = 0;
		if (EVP_PKEY_get_utf8_string_param(pkey, "group", curve, sizeof curve, &n) != 1)
			return aimark__crypto_ossl_error(AIMARK_EFORMAT, "C2PA signer: cannot read the EC curve");
		if (strcmp(curve, "prime256v1") == 0 || strcmp(curve, "P-256") == 0)
			*alg = AIMARK__COSE_ES256;
		else if (strcmp(curve, "secp384r1") == 0 || strcmp(curve, "P-384") == 0)
			*alg = AIMARK__COSE_ES384;
		else if (strcmp(curve, "secp521r1") == 0 || strcmp(curve, "P-521") == 0)
			*alg = AIMARK__COSE_ES512;
		else
			return aimark__error_set(AIMARK_EFORMAT, "C2PA signer: EC curve %s is not allowed (P-256, P-384, P-521)", curve);
		*sig_len = 2 * aimark__x509_ec_coord_len(pkey);
		return 0;
	}
	if (id == EVP_PKEY_RSA || id == EVP_PKEY_RSA_PSS) {
		int bits = EVP_PKEY_get_bits(pkey);
		RETURN_IF(bits < 2048, AIMARK_EFORMAT, "C2PA signer: RSA key of %d bits (2048 or more required)", bits);
		*alg = AIMARK__COSE_PS256;
		*sig_len = (size_t)EVP_PKEY_get_size(pkey);
		return 0;
	}
	if (id == EVP_PKEY_ED25519) {
		*alg = AIMARK__COSE_EDDSA;
		*sig_len = 64;
		return 0;
	}
	return aimark__error_set(AIMARK_EFORMAT, "C2PA signer: unsupported key type (use ECDSA P-256/384/521, RSA or Ed25519)");
}

void aimark_c2pa_signer_free(aimark_c2pa_signer *s)
{
	if (s == NULL)
		return;
	EVP_PKEY_free(s->pkey);
	for (size_t i = 0; i < s->n_chain; i++)
		aimark_buf_dispose(&s->chain[i]);
	aimark__free(s);
}

static int load_chain(aimark_c2pa_signer *s, const void *pem, size_t len, X509 **leaf)
{
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	RETURN_ENOMEM_IF_NULL(bio);
	int rc = 0;
	X509 *x;
	while ((x = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL)) != NULL) {
		int self_signed = X509_check_issued(x, x) == X509_V_OK;
		if (s->n_chain > 0 && self_signed) {
			X509_free(x); /* the root is the verifier's trust anchor, not part of x5chain */
			continue;
		}
		if (s->n_chain == AIMARK__X509_MAX_CHAIN) {
			X509_free(x);
			rc = aimark__error_set(AIMARK_EFORMAT, "C2PA signer: more than %d certificates in the chain", AIMARK__X509_MAX_CHAIN);
			break;
		}
		unsigned char *der = NULL;
		int n = i2d_X509(x, &der);
		if (n <= 0) {
			X509_free(x);
			rc = aimark__crypto_ossl_error(AIMARK_EFORMAT, "C2PA signer: cannot encode a certificate");
			break;
		}
		rc = aimark__buf_append(&s->chain[s->n_chain], der, (size_t)n);
		OPENSSL_free(der);
		if (rc < 0) {
			X509_free(x);
			break;
		}
		s->n_chain++;
		if (*leaf == NULL)
			*leaf = x;
		else
			X509_free(x);
	}
	ERR_clear_error();
	BIO_free(bio);
	if (rc == 0 && s->n_chain == 0)
		rc = aimark__error_set(AIMARK_EFORMAT, "C2PA signer: no PEM certificate in the chain file");
	return rc;
}

int aimark_c2pa_signer_load_pem(aimark_c2pa_signer **out, const void *chain_pem, size_t chain_len, const void *key_pem,
				size_t key_len)
{
	RETURN_IF(out == NULL || chain_pem == NULL || key_pem == NULL, AIMARK_EINVAL, "C2PA signer: NULL argument");
	*out = NULL;
	RETURN_IF(chain_len > AIMARK__KEY_FILE_MAX || key_len > AIMARK__KEY_FILE_MAX, AIMARK_ELIMIT,
		  "C2PA signer: PEM input larger than %d bytes", AIMARK__KEY_FILE_MAX);
	aimark_c2pa_signer *s = aimark__calloc(1, sizeof *s);
	RETURN_ENOMEM_IF_NULL(s);
	X509 *leaf = NULL;
	int rc = load_chain(s, chain_pem, chain_len, &leaf);
	if (rc == 0) {
		BIO *bio = BIO_new_mem_buf(key_pem, (int)key_len);
		s->pkey = bio ? PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL) : NULL;
		BIO_free(bio);
		if (s->pkey == NULL)
			rc = aimark__crypto_ossl_error(AIMARK_EFORMAT,
				"C2PA signer: no readable private key (PEM; encrypted keys are not supported)");
	}
	if (rc == 0 && X509_check_private_key(leaf, s->pkey) != 1)
		rc = aimark__crypto_ossl_error(AIMARK_EFORMAT, "C2PA signer: the private key does not belong to the leaf certificate");
	if (rc == 0)
		rc = pick_alg(s->pkey, &s->alg, &s->sig_len);
	if (rc == 0) {
		char why[256] = "";
		int ok = aimark__x509_profile_check(s->chain[0].ptr, s->chain[0].size, why, sizeof why);
		if (ok < 0)
			rc = ok;
		else if (ok == 0)
			rc = aimark__error_set(AIMARK_EINVAL, "C2PA signer: the leaf certificate fails the C2PA profile: %s", why);
	}
	if (rc == 0) {
		aimark__x509_info info;
		rc = aimark__x509_info_get(s->chain[0].ptr, s->chain[0].size, &info);
		if (rc == 0)
			memcpy(s->organization, info.organization, sizeof s->organization);
	}
	X509_free(leaf);
	if (rc < 0) {
		aimark_c2pa_signer_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

const char *aimark_c2pa_signer_algorithm(const aimark_c2pa_signer *s)
{
	return s ? aimark__cose_alg_name(s->alg) : NULL;
}

const char *aimark_c2pa_signer_organization(const aimark_c2pa_signer *s)
{
	return s ? s->organization : NULL;
}

int64_t aimark__c2pa_signer_alg(const aimark_c2pa_signer *s) { return s->alg; }
size_t aimark__c2pa_signer_sig_len(const aimark_c2pa_signer *s) { return s->sig_len; }
size_t aimark__c2pa_signer_chain_count(const aimark_c2pa_signer *s) { return s->n_chain; }

const unsigned char *aimark__c2pa_signer_chain_der(const aimark_c2pa_signer *s, size_t i, size_t *len)
{
	if (i >= s->n_chain)
		return NULL;
	*len = s->chain[i].size;
	return s->chain[i].ptr;
}

/* DER ECDSA-Sig-Value to r||s, each padded to `n` bytes. */
static int ecdsa_der_to_raw(const unsigned char *der, size_t der_len, size_t n, aimark_buf *out)
{
	const unsigned char *p = der;
	ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
	if (sig == NULL)
		return aimark__crypto_ossl_error(AIMARK_ECRYPTO, "COSE: unexpected ECDSA signature encoding");
	const BIGNUM *r = NULL, *s = NULL;
	ECDSA_SIG_get0(sig, &r, &s);
	int rc = aimark__buf_reserve(out, 2 * n);
	if (rc == 0) {
		unsigned char *dst = out->ptr + out->size;
		if (BN_bn2binpad(r, dst, (int)n) != (int)n || BN_bn2binpad(s, dst + n, (int)n) != (int)n)
			rc = aimark__crypto_ossl_error(AIMARK_ECRYPTO, "COSE: ECDSA value too large");
		else {
			out->size += 2 * n;
			out->ptr[out->size] = '\0';
		}
	}
	ECDSA_SIG_free(sig);
	return rc;
}

int aimark__c2pa_sign(const aimark_c2pa_signer *s, const void *msg, size_t len, aimark_buf *sig)
{
	EVP_MD_CTX *ctx = NULL;
	RETURN_IF_ERR(aimark__x509_md_ctx_init(&ctx, s->pkey, s->alg, 1));
	size_t n = 0;
	unsigned char *tmp = NULL;
	int rc = 0;
	if (EVP_DigestSign(ctx, NULL, &n, msg, len) != 1 || (tmp = aimark__malloc(n ? n : 1)) == NULL ||
	    EVP_DigestSign(ctx, tmp, &n, msg, len) != 1) {
		rc = tmp == NULL && n ? aimark__error_set(AIMARK_ENOMEM, "out of memory")
				      : aimark__crypto_ossl_error(AIMARK_ECRYPTO, "COSE: signing failed");
	} else if (EVP_PKEY_get_base_id(s->pkey) == EVP_PKEY_EC) {
		rc = ecdsa_der_to_raw(tmp, n, s->sig_len / 2, sig);
	} else if (n != s->sig_len) {
		rc = aimark__error_set(AIMARK_ECRYPTO, "COSE: signature of %zu bytes, %zu expected", n, s->sig_len);
	} else {
		rc = aimark__buf_append(sig, tmp, n);
	}
	aimark__free(tmp);
	EVP_MD_CTX_free(ctx);
	return rc;
}

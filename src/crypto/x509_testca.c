/* Test credentials: a private root CA and a leaf that passes the C2PA certificate profile. */
#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "core/internal.h"
#include "crypto/key_internal.h"
#include "crypto/x509_internal.h"

static EVP_PKEY *new_p256(void)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (ext == NULL)
		return 0;
	int ok = X509_add_ext(cert, ext, -1) == 1;
	X509_EXTENSION_free(ext);
	return ok;
}

static X509 *new_cert(EVP_PKEY *key, const char *org, const char *cn, int days)
{
	X509 *x = X509_new();
	if (x == NULL)
		return NULL;
	unsigned char serial[16];
	BIGNUM *bn = NULL;
	int ok = X509_set_version(x, 2) == 1 && RAND_bytes(serial, sizeof serial) == 1;
	if (ok) {
		serial[0] &= 0x7f; /* positive */
		bn = BN_bin2bn(serial, sizeof serial, NULL);
		ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
	}
	BN_free(bn);
	ok = ok && X509_gmtime_adj(X509_getm_notBefore(x), -3600) && X509_gmtime_adj(X509_getm_notAfter(x), (long)days * 86400L);
	ok = ok && X509_set_pubkey(x, key) == 1;
	X509_NAME *name = X509_get_subject_name(x);
	ok = ok && X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *)org, -1, -1, 0) == 1 &&
	     X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0) == 1;
	if (!ok) {
		X509_free(x);
		return NULL;
	}
	return x;
}

static int to_pem(X509 *cert, EVP_PKEY *key, aimark_buf *out)
{
	BIO *bio = BIO_new(BIO_s_mem());
	if (bio == NULL)
		return 0;
	int ok = cert ? PEM_write_bio_X509(bio, cert) == 1 : PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) == 1;
	char *p = NULL;
	long n = BIO_get_mem_data(bio, &p);
	ok = ok && n > 0 && aimark__buf_append(out, p, (size_t)n) == 0;
	BIO_free(bio);
	return ok;
}

int aimark__x509_make_test_ca(const char *organization, const char *common_name, int days, aimark_buf *leaf_pem,
			      aimark_buf *leaf_key_pem, aimark_buf *root_pem)
{
	EVP_PKEY *root_key = new_p256(), *leaf_key = new_p256();
	X509 *root = NULL, *leaf = NULL;
	char root_cn[300];
	snprintf(root_cn, sizeof root_cn, "%.200s test root CA", organization);
	int ok = root_key && leaf_key;
	ok = ok && (root = new_cert(root_key, organization, root_cn, days + 365)) != NULL;
	ok = ok && X509_set_issuer_name(root, X509_get_subject_name(root)) == 1;
	ok = ok && add_ext(root, root, NID_basic_constraints, "critical,CA:TRUE") &&
	     add_ext(root, root, NID_key_usage, "critical,keyCertSign,cRLSign") &&
	     add_ext(root, root, NID_subject_key_identifier, "hash") &&
	     add_ext(root, root, NID_authority_key_identifier, "keyid:always");
	ok = ok && X509_sign(root, root_key, EVP_sha256()) > 0;
	ok = ok && (leaf = new_cert(leaf_key, organization, common_name, days)) != NULL;
	ok = ok && X509_set_issuer_name(leaf, X509_get_subject_name(root)) == 1;
	ok = ok && add_ext(leaf, root, NID_basic_constraints, "critical,CA:FALSE") &&
	     add_ext(leaf, root, NID_key_usage, "critical,digitalSignature") &&
	     add_ext(leaf, root, NID_ext_key_usage, "emailProtection,1.3.6.1.5.5.7.3.36") &&
	     add_ext(leaf, root, NID_subject_key_identifier, "hash") &&
	     add_ext(leaf, root, NID_authority_key_identifier, "keyid:always");
	ok = ok && X509_sign(leaf, root_key, EVP_sha256()) > 0;
	ok = ok && to_pem(leaf, NULL, leaf_pem) && to_pem(NULL, leaf_key, leaf_key_pem) && to_pem(root, NULL, root_pem);
	int rc = ok ? 0 : aimark__crypto_ossl_error(AIMARK_ECRYPTO, "C2PA: cannot create the test certificates");
	X509_free(root);
	X509_free(leaf);
	EVP_PKEY_free(root_key);
	EVP_PKEY_free(leaf_key);
	return rc;
}

/*
 * Checking C2PA signers: raw COSE signature verification, what a report
 * shows of a certificate, the C2PA certificate profile, and the chain to a
 * caller's trust anchors.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "core/internal.h"
#include "crypto/key_internal.h"
#include "crypto/x509_internal.h"

/* r||s to a DER ECDSA-Sig-Value. */
static int ecdsa_raw_to_der(const unsigned char *raw, size_t len, unsigned char **der, int *der_len)
{
	ECDSA_SIG *sig = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(raw, (int)(len / 2), NULL);
	BIGNUM *s = BN_bin2bn(raw + len / 2, (int)(len / 2), NULL);
	if (sig == NULL || r == NULL || s == NULL || ECDSA_SIG_set0(sig, r, s) != 1) {
		BN_free(r);
		BN_free(s);
		ECDSA_SIG_free(sig);
		return aimark__error_set(AIMARK_ENOMEM, "out of memory");
	}
	*der = NULL;
	*der_len = i2d_ECDSA_SIG(sig, der);
	ECDSA_SIG_free(sig);
	return *der_len > 0 ? 0 : aimark__error_set(AIMARK_ENOMEM, "out of memory");
}

int aimark__c2pa_verify_sig(const unsigned char *cert, size_t cert_len, int64_t alg, const void *msg, size_t len,
			    const unsigned char *sig, size_t sig_len)
{
	X509 *x = aimark__x509_from_der(cert, cert_len);
	if (x == NULL)
		return AIMARK_EFORMAT;
	EVP_PKEY *pkey = X509_get0_pubkey(x);
	int result = 0;
	EVP_MD_CTX *ctx = NULL;
	if (pkey == NULL || aimark__x509_md_ctx_init(&ctx, pkey, alg, 0) < 0) {
		X509_free(x);
		ERR_clear_error();
		aimark_error_clear();
		return 0;
	}
	size_t coord = aimark__x509_ec_coord_len(pkey);
	if (coord) {
		/* COSE carries r||s; a DER signature here is malformed, not valid. */
		unsigned char *der = NULL;
		int der_len = 0;
		if (sig_len == 2 * coord && ecdsa_raw_to_der(sig, sig_len, &der, &der_len) == 0) {
			result = EVP_DigestVerify(ctx, der, (size_t)der_len, msg, len) == 1;
			OPENSSL_free(der);
		}
	} else if (sig_len > 0 && sig_len <= 1024) {
		result = EVP_DigestVerify(ctx, sig, sig_len, msg, len) == 1;
	}
	ERR_clear_error();
	EVP_MD_CTX_free(ctx);
	X509_free(x);
	return result;
}

static void name_entry(const X509_NAME *name, int nid, char *out, size_t cap)
{
	out[0] = '\0';
	int i = X509_NAME_get_index_by_NID(name, nid, -1);
	if (i < 0)
		return;
	const ASN1_STRING *s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
	unsigned char *utf8 = NULL;
	int n = ASN1_STRING_to_UTF8(&utf8, s);
	if (n < 0)
		return;
	size_t len = (size_t)n < cap - 1 ? (size_t)n : cap - 1;
	memcpy(out, utf8, len);
	out[len] = '\0';
	OPENSSL_free(utf8);
}

static time_t asn1_to_time(const ASN1_TIME *t)
{
	struct tm tm;
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return timegm(&tm);
}

int aimark__x509_info_get(const unsigned char *cert, size_t cert_len, aimark__x509_info *info)
{
	memset(info, 0, sizeof *info);
	X509 *x = aimark__x509_from_der(cert, cert_len);
	if (x == NULL)
		return AIMARK_EFORMAT;
	name_entry(X509_get_subject_name(x), NID_commonName, info->common_name, sizeof info->common_name);
	name_entry(X509_get_subject_name(x), NID_organizationName, info->organization, sizeof info->organization);
	name_entry(X509_get_issuer_name(x), NID_commonName, info->issuer_common_name, sizeof info->issuer_common_name);
	name_entry(X509_get_issuer_name(x), NID_organizationName, info->issuer_organization, sizeof info->issuer_organization);
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	char *dec = bn ? BN_bn2dec(bn) : NULL;
	if (dec)
		snprintf(info->serial, sizeof info->serial, "%s", dec);
	OPENSSL_free(dec);
	BN_free(bn);
	info->not_before = asn1_to_time(X509_get0_notBefore(x));
	info->not_after = asn1_to_time(X509_get0_notAfter(x));
	X509_free(x);
	return 0;
}

int aimark__x509_valid_at(const unsigned char *cert, size_t cert_len, time_t when)
{
	X509 *x = aimark__x509_from_der(cert, cert_len);
	if (x == NULL)
		return AIMARK_EFORMAT;
	int ok = X509_cmp_time(X509_get0_notBefore(x), &when) < 0 && X509_cmp_time(X509_get0_notAfter(x), &when) > 0;
	X509_free(x);
	return ok;
}

/* EKU purposes C2PA accepts for a claim signer. */
static const char *const allowed_eku[] = {
	"1.3.6.1.5.5.7.3.4",         /* emailProtection */
	"1.3.6.1.5.5.7.3.36",        /* documentSigning */
	"1.3.6.1.5.5.7.3.8",         /* timeStamping */
	"1.3.6.1.5.5.7.3.9",         /* OCSPSigning */
	"1.3.6.1.4.1.311.76.59.1.9", /* Microsoft C2PA signing */
	"1.3.6.1.4.1.62558.2.1",     /* C2PA claim signing */
	NULL
};

#define FAIL(...) do { snprintf(why, why_len, __VA_ARGS__); ok = 0; goto done; } while (0)

static int check_eku(X509 *x, char *why, size_t why_len)
{
	int ok = 1;
	EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
	if (eku == NULL)
		FAIL("no extended key usage (emailProtection or documentSigning expected)");
	int allowed = 0, ocsp = 0, ts = 0, other = 0;
	for (int i = 0; i < sk_ASN1_OBJECT_num(eku); i++) {
		char oid[80];
		ASN1_OBJECT *o = sk_ASN1_OBJECT_value(eku, i);
		OBJ_obj2txt(oid, sizeof oid, o, 1);
		if (OBJ_obj2nid(o) == NID_anyExtendedKeyUsage) {
			EXTENDED_KEY_USAGE_free(eku);
			FAIL("extended key usage anyExtendedKeyUsage is not allowed");
		}
		for (size_t k = 0; allowed_eku[k]; k++)
			if (strcmp(oid, allowed_eku[k]) == 0)
				allowed = 1;
		if (strcmp(oid, "1.3.6.1.5.5.7.3.9") == 0)
			ocsp = 1;
		else if (strcmp(oid, "1.3.6.1.5.5.7.3.8") == 0)
			ts = 1;
		else
			other = 1;
	}
	EXTENDED_KEY_USAGE_free(eku);
	if (!allowed)
		FAIL("extended key usage has no C2PA purpose (emailProtection, documentSigning, ...)");
	if ((ocsp && ts) || ((ocsp ^ ts) && other))
		FAIL("timeStamping or OCSPSigning may not be combined with other key purposes");
done:
	return ok;
}

int aimark__x509_profile_check(const unsigned char *cert, size_t cert_len, char *why, size_t why_len)
{
	X509 *x = aimark__x509_from_der(cert, cert_len);
	if (x == NULL)
		return AIMARK_EFORMAT;
	int ok = 1;
	why[0] = '\0';
	if (X509_get_version(x) != 2)
		FAIL("not an X.509 v3 certificate");
	switch (X509_get_signature_nid(x)) {
	case NID_sha256WithRSAEncryption: case NID_sha384WithRSAEncryption: case NID_sha512WithRSAEncryption:
	case NID_ecdsa_with_SHA256: case NID_ecdsa_with_SHA384: case NID_ecdsa_with_SHA512:
	case NID_rsassaPss: case NID_ED25519:
		break;
	default:
		FAIL("signature algorithm %s is not allowed", OBJ_nid2sn(X509_get_signature_nid(x)));
	}
	EVP_PKEY *pkey = X509_get0_pubkey(x);
	if (pkey == NULL)
		FAIL("unreadable public key");
	int id = EVP_PKEY_get_base_id(pkey);
	if (id == EVP_PKEY_EC) {
		char curve[64] = "";
		size_t n = 0;
		EVP_PKEY_get_utf8_string_param(pkey, "group", curve, sizeof curve, &n);
		if (strcmp(curve, "prime256v1") && strcmp(curve, "secp384r1") && strcmp(curve, "secp521r1"))
			FAIL("EC curve %s is not allowed", curve);
	} else if (id == EVP_PKEY_RSA || id == EVP_PKEY_RSA_PSS) {
		if (EVP_PKEY_get_bits(pkey) < 2048)
			FAIL("RSA key shorter than 2048 bits");
	} else if (id != EVP_PKEY_ED25519) {
		FAIL("key type is not allowed");
	}
	uint32_t flags = X509_get_extension_flags(x);
	if (X509_check_ca(x) && (flags & EXFLAG_CA))
		FAIL("a CA certificate cannot sign claims (basicConstraints CA:TRUE)");
	const ASN1_BIT_STRING *iuid = NULL, *suid = NULL;
	X509_get0_uids(x, &iuid, &suid);
	if (iuid || suid)
		FAIL("issuer/subject unique ids are not allowed");
	if (X509_get0_authority_key_id(x) == NULL)
		FAIL("no authority key identifier");
	if (!(flags & EXFLAG_KUSAGE) || !(X509_get_key_usage(x) & KU_DIGITAL_SIGNATURE))
		FAIL("key usage lacks digitalSignature");
	if (X509_get_key_usage(x) & KU_KEY_CERT_SIGN)
		FAIL("key usage keyCertSign on an end-entity certificate");
	if (!check_eku(x, why, why_len)) {
		ok = 0;
		goto done;
	}
	if (flags & EXFLAG_CRITICAL)
		FAIL("an unsupported critical extension");
	if (X509_NAME_get_index_by_NID(X509_get_subject_name(x), NID_organizationName, -1) < 0)
		FAIL("no organization (O=) in the subject");
done:
	X509_free(x);
	return ok;
}

/*
 * The trust anchors of the last bundle loaded, kept while the file is
 * unchanged: a scan validates thousands of manifests against one bundle,
 * and parsing it is most of the fixed cost of a validation.
 */
static struct {
	pthread_mutex_t lock;
	char *path;
	struct stat st;
	X509_STORE *store;
} anchors_cache = { PTHREAD_MUTEX_INITIALIZER, NULL, { 0 }, NULL };

static int same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* A reference to the store of `path` (the caller frees it), loaded or from the cache. */
static int anchors_store(const char *path, X509_STORE **out)
{
	struct stat st;
	RETURN_IF(stat(path, &st) != 0, AIMARK_EIO, "C2PA: cannot read trust anchors %s", path);
	pthread_mutex_lock(&anchors_cache.lock);
	if (anchors_cache.store && strcmp(anchors_cache.path, path) == 0 && same_file(&anchors_cache.st, &st) &&
	    X509_STORE_up_ref(anchors_cache.store) == 1) {
		*out = anchors_cache.store;
		pthread_mutex_unlock(&anchors_cache.lock);
		return 0;
	}
	pthread_mutex_unlock(&anchors_cache.lock);

	X509_STORE *store = X509_STORE_new();
	RETURN_ENOMEM_IF_NULL(store);
	if (X509_STORE_load_file(store, path) != 1) {
		X509_STORE_free(store);
		return aimark__crypto_ossl_error(AIMARK_EIO, "C2PA: cannot read trust anchors %s", path);
	}
	char *copy = aimark__strdup(path);
	pthread_mutex_lock(&anchors_cache.lock);
	if (copy && X509_STORE_up_ref(store) == 1) {
		X509_STORE_free(anchors_cache.store);
		aimark__free(anchors_cache.path);
		anchors_cache.store = store;
		anchors_cache.path = copy;
		anchors_cache.st = st;
		copy = NULL;
	}
	pthread_mutex_unlock(&anchors_cache.lock);
	aimark__free(copy);
	*out = store;
	return 0;
}

int aimark__x509_chain_trusted(const unsigned char *const *certs, const size_t *lens, size_t n, const char *anchors_path,
			       time_t when, char *why, size_t why_len)
{
	why[0] = '\0';
	if (n == 0) {
		snprintf(why, why_len, "no certificate");
		return 0;
	}
	X509_STORE *store = NULL;
	RETURN_IF_ERR(anchors_store(anchors_path, &store));
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	X509 *leaf = NULL;
	int rc = untrusted ? 0 : aimark__error_set(AIMARK_ENOMEM, "out of memory");
	for (size_t i = 0; rc == 0 && i < n; i++) {
		X509 *x = aimark__x509_from_der(certs[i], lens[i]);
		if (x == NULL) {
			snprintf(why, why_len, "certificate %zu is unreadable", i);
			aimark_error_clear();
			rc = 1; /* untrusted, not an error */
			break;
		}
		if (i == 0) {
			leaf = x;
		} else if (!sk_X509_push(untrusted, x)) {
			X509_free(x);
			rc = aimark__error_set(AIMARK_ENOMEM, "out of memory");
		}
	}
	int trusted = 0;
	if (rc == 0) {
		X509_STORE_CTX *ctx = X509_STORE_CTX_new();
		if (ctx && X509_STORE_CTX_init(ctx, store, leaf, untrusted) == 1) {
			X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(ctx);
			X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
			X509_VERIFY_PARAM_set_time(param, when);
			trusted = X509_verify_cert(ctx) == 1;
			if (!trusted)
				snprintf(why, why_len, "%s", X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
		} else {
			rc = aimark__error_set(AIMARK_ENOMEM, "out of memory");
		}
		X509_STORE_CTX_free(ctx);
	}
	X509_free(leaf);
	sk_X509_pop_free(untrusted, X509_free);
	X509_STORE_free(store);
	ERR_clear_error();
	return rc < 0 ? rc : trusted;
}

/*
 * RFC 3161 timestamps carried in COSE sigTst / sigTst2 headers: message
 * imprint, CMS signature by the TSA certificate the token carries, and the
 * time it states.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pkcs7.h>
#include <openssl/ts.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "core/internal.h"
#include "crypto/key_internal.h"
#include "crypto/x509_internal.h"

static int imprint_matches(TS_TST_INFO *info, const void *data, size_t len)
{
	TS_MSG_IMPRINT *mi = TS_TST_INFO_get_msg_imprint(info);
	X509_ALGOR *algo = TS_MSG_IMPRINT_get_algo(mi);
	ASN1_OCTET_STRING *msg = TS_MSG_IMPRINT_get_msg(mi);
	const ASN1_OBJECT *obj = NULL;
	X509_ALGOR_get0(&obj, NULL, NULL, algo);
	const EVP_MD *md = EVP_get_digestbyobj(obj);
	if (md == NULL || msg == NULL)
		return -1;
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	if (EVP_Digest(data, len, digest, &n, md, NULL) != 1)
		return -1;
	return (int)n == ASN1_STRING_length(msg) && memcmp(digest, ASN1_STRING_get0_data(msg), n) == 0;
}

/* Verifies the token's CMS signature with the certificates it carries, at its own time. */
static int signature_ok(PKCS7 *token, time_t when, aimark_buf *tsa_certs, char *tsa_name, size_t tsa_name_len)
{
	STACK_OF(X509) *certs = NULL;
	if (PKCS7_type_is_signed(token))
		certs = token->d.sign->cert;
	if (certs == NULL || sk_X509_num(certs) == 0)
		return 0;
	X509_STORE *store = X509_STORE_new();
	TS_VERIFY_CTX *ctx = TS_VERIFY_CTX_new();
	int ok = 0;
	if (store && ctx) {
		for (int i = 0; i < sk_X509_num(certs); i++)
			X509_STORE_add_cert(store, sk_X509_value(certs, i));
		X509_VERIFY_PARAM *param = X509_STORE_get0_param(store);
		X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
		X509_VERIFY_PARAM_set_time(param, when);
		TS_VERIFY_CTX_set_flags(ctx, TS_VFY_SIGNATURE);
		TS_VERIFY_CTX_set_store(ctx, store);
		store = NULL; /* owned by ctx now */
		ok = TS_RESP_verify_token(ctx, token) == 1;
	}
	if (ok) {
		/* The signer certificate is the one whose key verified; report the first leaf-looking one. */
		for (int i = 0; i < sk_X509_num(certs); i++) {
			X509 *x = sk_X509_value(certs, i);
			if (tsa_name && i == 0) {
				X509_NAME *nm = X509_get_subject_name(x);
				int k = X509_NAME_get_index_by_NID(nm, NID_commonName, -1);
				tsa_name[0] = '\0';
				if (k >= 0) {
					const ASN1_STRING *s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(nm, k));
					snprintf(tsa_name, tsa_name_len, "%.*s", ASN1_STRING_length(s), (const char *)ASN1_STRING_get0_data(s));
				}
			}
			if (tsa_certs) {
				unsigned char *der = NULL;
				int n = i2d_X509(x, &der);
				if (n > 0) {
					unsigned char len[4];
					aimark__put_be32(len, (uint32_t)n);
					if (aimark__buf_append(tsa_certs, len, 4) < 0 || aimark__buf_append(tsa_certs, der, (size_t)n) < 0)
						ok = 0;
				}
				OPENSSL_free(der);
			}
		}
	}
	X509_STORE_free(store);
	TS_VERIFY_CTX_free(ctx);
	ERR_clear_error();
	return ok;
}

int aimark__x509_tst_check(const unsigned char *token, size_t len, int is_token, const void *data, size_t data_len,
			   time_t *gen_time, char *tsa_name, size_t tsa_name_len, aimark_buf *tsa_certs, char *why,
			   size_t why_len)
{
	why[0] = '\0';
	if (tsa_name && tsa_name_len)
		tsa_name[0] = '\0';
	if (len == 0 || len > AIMARK__X509_MAX_TOKEN) {
		snprintf(why, why_len, "timestamp token of %zu bytes", len);
		return -1;
	}
	const unsigned char *p = token;
	PKCS7 *p7 = NULL;
	TS_RESP *resp = NULL;
	if (is_token) {
		p7 = d2i_PKCS7(NULL, &p, (long)len);
	} else {
		resp = d2i_TS_RESP(NULL, &p, (long)len);
		if (resp)
			p7 = TS_RESP_get_token(resp);
	}
	TS_TST_INFO *info = p7 ? PKCS7_to_TS_TST_INFO(p7) : NULL;
	int result = -1;
	if (info == NULL) {
		snprintf(why, why_len, "unreadable timestamp token");
	} else {
		int m = imprint_matches(info, data, data_len);
		struct tm tm;
		const ASN1_GENERALIZEDTIME *t = TS_TST_INFO_get_time(info);
		if (m < 0) {
			snprintf(why, why_len, "unknown timestamp imprint algorithm");
		} else if (m == 0) {
			snprintf(why, why_len, "timestamp imprint does not match the signature");
			result = 0;
		} else if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1) {
			snprintf(why, why_len, "timestamp without a readable time");
		} else {
			*gen_time = timegm(&tm);
			if (signature_ok(p7, *gen_time, tsa_certs, tsa_name, tsa_name_len))
				result = 1;
			else
				snprintf(why, why_len, "timestamp signature does not verify");
		}
	}
	TS_TST_INFO_free(info);
	if (resp)
		TS_RESP_free(resp);
	else
		PKCS7_free(p7);
	ERR_clear_error();
	return result;
}

/*
 * X.509 and COSE signature helpers for the C2PA layer (src/c2pa/). The
 * OpenSSL objects stay inside src/crypto/x509_*.c; callers see DER bytes,
 * small structs and the opaque aimark_c2pa_signer.
 */
#ifndef AIMARK_CRYPTO_X509_C2PA_H
#define AIMARK_CRYPTO_X509_C2PA_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "aimark/c2pa.h"
#include "aimark/common.h"

/* COSE algorithm identifiers (RFC 9053) that C2PA allows. */
#define AIMARK__COSE_ES256 (-7)
#define AIMARK__COSE_ES384 (-35)
#define AIMARK__COSE_ES512 (-36)
#define AIMARK__COSE_PS256 (-37)
#define AIMARK__COSE_PS384 (-38)
#define AIMARK__COSE_PS512 (-39)
#define AIMARK__COSE_EDDSA (-8)

/* Upper bounds for hostile input. */
#define AIMARK__X509_MAX_CHAIN 16           /* certificates in one x5chain */
#define AIMARK__X509_MAX_CERT (64u << 10)   /* bytes of one DER certificate */
#define AIMARK__X509_MAX_TOKEN (256u << 10) /* bytes of one RFC 3161 token */

/* "ES256", ... ; NULL for an unknown identifier. */
const char *aimark__cose_alg_name(int64_t alg);

/* ---- digests (sha256, sha384, sha512) ---- */
typedef struct aimark__md aimark__md;
#define AIMARK__MD_MAX 64
/* `name` is the C2PA spelling: "sha256", "sha384", "sha512". AIMARK_EUNSUPPORTED otherwise. */
int aimark__md_new(aimark__md **out, const char *name);
int aimark__md_update(aimark__md *md, const void *data, size_t len);
/* Writes the digest and its length (32, 48 or 64). */
int aimark__md_final(aimark__md *md, unsigned char out[AIMARK__MD_MAX], size_t *out_len);
void aimark__md_free(aimark__md *md);
int aimark__md_oneshot(const char *name, const void *data, size_t len, unsigned char out[AIMARK__MD_MAX], size_t *out_len);
/* Digest length for a name, 0 when unsupported. */
size_t aimark__md_size(const char *name);

/* ---- the signer (struct aimark_c2pa_signer lives in x509_signer.c) ---- */
/* The COSE algorithm the signer uses. */
int64_t aimark__c2pa_signer_alg(const aimark_c2pa_signer *s);
/* Exact length of the raw COSE signature it produces (P1363 r||s, RSA modulus, 64 for Ed25519). */
size_t aimark__c2pa_signer_sig_len(const aimark_c2pa_signer *s);
/* The x5chain to embed: leaf first, DER; `i` < count. */
size_t aimark__c2pa_signer_chain_count(const aimark_c2pa_signer *s);
const unsigned char *aimark__c2pa_signer_chain_der(const aimark_c2pa_signer *s, size_t i, size_t *len);
/* Signs `msg` and appends the raw COSE signature (exactly sig_len bytes) to `sig`. */
int aimark__c2pa_sign(const aimark_c2pa_signer *s, const void *msg, size_t len, aimark_buf *sig);

/* ---- verification ---- */
/*
 * Verifies a raw COSE signature by the leaf certificate `cert` (DER).
 * Returns 1 valid, 0 invalid (including an algorithm that does not fit the
 * key), < 0 when the certificate cannot be read (message set).
 */
int aimark__c2pa_verify_sig(const unsigned char *cert, size_t cert_len, int64_t alg, const void *msg, size_t len,
			    const unsigned char *sig, size_t sig_len);

/* What a report shows of a certificate. Strings are NUL-terminated, truncated to fit. */
typedef struct aimark__x509_info {
	char common_name[256];
	char organization[256];
	char issuer_common_name[256];
	char issuer_organization[256];
	char serial[128];       /* decimal */
	time_t not_before, not_after;
} aimark__x509_info;

int aimark__x509_info_get(const unsigned char *cert, size_t cert_len, aimark__x509_info *info);

/*
 * Checks the C2PA end-entity certificate profile (C2PA 2.x section 14.5):
 * v3, allowed signature algorithm and curve, RSA >= 2048 bits, not a CA,
 * not self-signed, no unique ids, AKI present, KU digitalSignature (no
 * keyCertSign), EKU present without anyExtendedKeyUsage and with an allowed
 * purpose, O= in the subject, no unknown critical extension.
 * Returns 1 when it conforms, 0 when not (`why` says the first problem),
 * < 0 when the DER is unreadable.
 */
int aimark__x509_profile_check(const unsigned char *cert, size_t cert_len, char *why, size_t why_len);

/* 1 when the certificate is valid at `when`, else 0; < 0 unreadable. */
int aimark__x509_valid_at(const unsigned char *cert, size_t cert_len, time_t when);

/*
 * Builds the chain from `certs` (leaf first) to an anchor in the PEM bundle
 * at `anchors_path` (any certificate of the bundle, root or intermediate),
 * at time `when`. Returns 1 trusted, 0 not (`why` set), < 0 when the bundle
 * cannot be read (AIMARK_EIO / AIMARK_EFORMAT).
 */
int aimark__x509_chain_trusted(const unsigned char *const *certs, const size_t *lens, size_t n, const char *anchors_path,
			       time_t when, char *why, size_t why_len);

/*
 * RFC 3161 timestamp token. `token` is a TimeStampResp (sigTst) or a
 * TimeStampToken ContentInfo (sigTst2, `is_token` set). Checks that its
 * message imprint is the digest of `data` and that its CMS signature
 * verifies with the certificate it carries.
 * Returns 1 valid (*gen_time set, `tsa` filled when not NULL), 0 when the
 * imprint does not match, -1 when malformed or the signature fails (`why`).
 * `tsa_certs` (optional) receives the DER of the signing certificate chain
 * for a trust check, appended as u32-BE-length-prefixed blocks.
 */
int aimark__x509_tst_check(const unsigned char *token, size_t len, int is_token, const void *data, size_t data_len,
			   time_t *gen_time, char *tsa_name, size_t tsa_name_len, aimark_buf *tsa_certs, char *why,
			   size_t why_len);

/* ---- test credentials ---- */
/*
 * Creates a private root CA and a leaf that passes the certificate profile,
 * both P-256, and returns them as PEM: the leaf certificate, the leaf's
 * PKCS#8 key, the root certificate. `organization` goes into O= of both.
 */
int aimark__x509_make_test_ca(const char *organization, const char *common_name, int days, aimark_buf *leaf_pem,
			      aimark_buf *leaf_key_pem, aimark_buf *root_pem);

#endif

/*
 * aimark/c2pa.h - the certificate and key that sign C2PA manifests.
 *
 * A C2PA signer is an X.509 certificate chain (leaf first, without the root)
 * and the leaf's private key: ECDSA P-256/P-384/P-521 (ES256/ES384/ES512),
 * RSA-PSS (PS256, keys of 2048 bits or more) or Ed25519. The leaf must pass
 * the C2PA certificate profile (docs/c2pa.md): an end-entity certificate
 * with O= in its subject, keyUsage digitalSignature, an extendedKeyUsage such
 * as emailProtection or documentSigning, and an authority key identifier.
 *
 * A C2PA key directory holds:
 *   DIR/c2pa-chain.pem  the certificate chain, leaf first (PEM)
 *   DIR/c2pa.key        the leaf's private key (PKCS#8 PEM, mode 0600)
 *   DIR/c2pa-root.pem   the root CA, only for test directories made by
 *                       aimark_c2pa_keydir_create_test(): give it to a
 *                       verifier as its trust anchor
 *
 * THREAD SAFETY: a signer is immutable once loaded and may be shared by any
 * number of threads; loading and freeing happen on one thread.
 */
#ifndef AIMARK_C2PA_H
#define AIMARK_C2PA_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct aimark_c2pa_signer aimark_c2pa_signer;

/** File names inside a C2PA key directory. */
#define AIMARK_C2PA_KEYDIR_CHAIN "c2pa-chain.pem"
#define AIMARK_C2PA_KEYDIR_KEY "c2pa.key"
#define AIMARK_C2PA_KEYDIR_ROOT "c2pa-root.pem"

/**
 * Loads a signer from a PEM certificate chain (leaf first; a trailing
 * self-signed root is dropped) and the leaf's PEM private key. Both buffers
 * are copied. Returns 0, AIMARK_EFORMAT (not PEM, no certificate, the key
 * does not match the leaf, an unsupported key type), AIMARK_EINVAL (the leaf
 * fails the C2PA certificate profile: the message says why), AIMARK_ENOMEM.
 */
AIMARK_API AIMARK_NODISCARD int aimark_c2pa_signer_load_pem(aimark_c2pa_signer **out, const void *chain_pem, size_t chain_len,
						       const void *key_pem, size_t key_len);

/** aimark_c2pa_signer_load_pem() on two files; AIMARK_EIO when one is unreadable. */
AIMARK_API AIMARK_NODISCARD int aimark_c2pa_signer_load_files(aimark_c2pa_signer **out, const char *chain_path, const char *key_path);

/** Loads DIR/c2pa-chain.pem and DIR/c2pa.key. AIMARK_ENOTFOUND when either is missing. */
AIMARK_API AIMARK_NODISCARD int aimark_c2pa_signer_load_dir(aimark_c2pa_signer **out, const char *dir);

/**
 * Creates `dir` (if absent) and writes a fresh private root CA and a leaf
 * certificate that passes the C2PA profile, both ECDSA P-256, valid for
 * `days` days (0: 825): DIR/c2pa-chain.pem, DIR/c2pa.key (0600) and
 * DIR/c2pa-root.pem (the trust anchor for verifiers). `organization` (O=,
 * required) and `common_name` (CN=, NULL: "aimark C2PA signer") name the
 * signer in reports. For tests and private deployments: a public
 * verifier only trusts certificates from a CA on its trust list.
 * Refuses with AIMARK_EEXISTS when any of the three files exists.
 * Returns 0, AIMARK_EINVAL, AIMARK_EEXISTS, AIMARK_EIO or AIMARK_ECRYPTO.
 */
AIMARK_API AIMARK_NODISCARD int aimark_c2pa_keydir_create_test(const char *dir, const char *organization, const char *common_name,
							  unsigned int days);

/** The COSE algorithm name the signer uses: "ES256", "ES384", "ES512", "PS256", "PS384", "PS512" or "Ed25519". */
AIMARK_API const char *aimark_c2pa_signer_algorithm(const aimark_c2pa_signer *signer);

/** The leaf certificate's subject organization (O=). Borrowed from the signer. */
AIMARK_API const char *aimark_c2pa_signer_organization(const aimark_c2pa_signer *signer);

/** Frees. Accepts NULL. */
AIMARK_API void aimark_c2pa_signer_free(aimark_c2pa_signer *signer);

/** 1 when the container format (a name from aimark/format.h) can carry a C2PA manifest, else 0. */
AIMARK_API int aimark_c2pa_format_supported(const char *format);

#ifdef __cplusplus
}
#endif
#endif

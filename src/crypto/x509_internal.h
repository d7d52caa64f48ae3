/* Shared by src/crypto/x509_*.c only: includes OpenSSL. */
#ifndef AIMARK_CRYPTO_X509_INTERNAL_H
#define AIMARK_CRYPTO_X509_INTERNAL_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "crypto/x509_c2pa.h"

/*
 * Starts a sign or verify context for a COSE algorithm on `pkey`: the
 * digest, and PSS padding with salt = digest length for PS*. Returns 0, or
 * AIMARK_ECRYPTO when the algorithm does not fit the key.
 */
int aimark__x509_md_ctx_init(EVP_MD_CTX **out, EVP_PKEY *pkey, int64_t alg, int signing);

/* Bytes of one ECDSA coordinate for the key's curve (32, 48, 66); 0 when not EC. */
size_t aimark__x509_ec_coord_len(const EVP_PKEY *pkey);

/* Parses a DER certificate (bounded); NULL with a message when unreadable. */
X509 *aimark__x509_from_der(const unsigned char *der, size_t len);

#endif

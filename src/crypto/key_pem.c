/* PEM key files: PKCS#8 private keys, SPKI public keys, X.509 certificates. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "core/internal.h"
#include "crypto/crypto.h"
#include "crypto/key_internal.h"

enum block_kind { BLOCK_OTHER, BLOCK_PRIVATE, BLOCK_PUBLIC, BLOCK_CERT };

static enum block_kind block_kind(const char *name)
{
	if (strcmp(name, "PRIVATE KEY") == 0 || strcmp(name, "EC PRIVATE KEY") == 0)
		return BLOCK_PRIVATE;
	if (strcmp(name, "PUBLIC KEY") == 0)
		return BLOCK_PUBLIC;
	if (strcmp(name, "CERTIFICATE") == 0 || strcmp(name, "X509 CERTIFICATE") == 0)
		return BLOCK_CERT;
	return BLOCK_OTHER;
}

/*
 * A private key file may carry a public key that does not belong to its
 * private scalar (SEC1 and PKCS#8 v2 store both); signatures made with such
 * a key would never verify, so refuse it.
 */
static int wrap_private(aimark_key **out, EVP_PKEY *pkey, size_t offset)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	int ok = ctx != NULL && EVP_PKEY_pairwise_check(ctx) == 1;
	EVP_PKEY_CTX_free(ctx);
	if (!ok) {
		EVP_PKEY_free(pkey);
		return aimark__crypto_ossl_error(AIMARK_EFORMAT,
			"PEM: the private key at offset %zu does not match its public key", offset);
	}
	return aimark__key_wrap(out, pkey, 1);
}

/* Decodes one PEM block's DER body into a key. */
static int decode_block(aimark_key **out, enum block_kind kind, const unsigned char *der, long len, size_t offset)
{
	const unsigned char *p = der;
	EVP_PKEY *pkey = NULL;
	X509 *cert = NULL;

	switch (kind) {
	case BLOCK_PRIVATE:
		pkey = d2i_AutoPrivateKey(NULL, &p, len);
		if (pkey == NULL)
			return aimark__crypto_ossl_error(AIMARK_EFORMAT, "PEM: bad private key in the block at offset %zu",
				offset);
		return wrap_private(out, pkey, offset);
	case BLOCK_PUBLIC:
		pkey = d2i_PUBKEY(NULL, &p, len);
		if (pkey == NULL)
			return aimark__crypto_ossl_error(AIMARK_EFORMAT, "PEM: bad public key in the block at offset %zu",
				offset);
		return aimark__key_wrap(out, pkey, 0);
	case BLOCK_CERT:
		cert = d2i_X509(NULL, &p, len);
		if (cert == NULL)
			return aimark__crypto_ossl_error(AIMARK_EFORMAT, "PEM: bad certificate in the block at offset %zu",
				offset);
		pkey = X509_get_pubkey(cert); /* a new reference */
		X509_free(cert);
		if (pkey == NULL)
			return aimark__crypto_ossl_error(AIMARK_EFORMAT,
				"PEM: unusable public key in the certificate at offset %zu", offset);
		return aimark__key_wrap(out, pkey, 0);
	default:
		return aimark__error_set(AIMARK_EFORMAT, "PEM: no key in the block at offset %zu", offset);
	}
}

int aimark_key_load_pem(aimark_key **out, const void *pem, size_t len)
{
	RETURN_IF(out == NULL || (pem == NULL && len != 0), AIMARK_EINVAL, "PEM: bad argument");
	*out = NULL;
	RETURN_IF(len == 0, AIMARK_EFORMAT, "PEM: empty input");
	RETURN_IF(len > AIMARK__KEY_FILE_MAX, AIMARK_EFORMAT, "PEM: %zu bytes exceeds the %d byte limit for key files",
		len, AIMARK__KEY_FILE_MAX);

	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	if (bio == NULL)
		return aimark__crypto_ossl_error(AIMARK_ENOMEM, "PEM: out of memory");

	/* A file may hold several blocks (a certificate chain, EC PARAMETERS
	 * before a key...). A private key anywhere wins; otherwise the first
	 * public key or certificate. */
	enum block_kind best = BLOCK_OTHER;
	unsigned char *best_der = NULL;
	long best_len = 0;
	size_t best_off = 0;
	int blocks = 0;
	int rc = 0;
	int encrypted = 0;

	for (;;) {
		char *name = NULL, *header = NULL;
		unsigned char *der = NULL;
		long der_len = 0;
		size_t offset = len - (size_t)BIO_ctrl_pending(bio);
		/* PEM_FLAG_SECURE: the base64 and DER of a private key live in
		 * secure memory, which is wiped when freed. */
		if (PEM_read_bio_ex(bio, &name, &header, &der, &der_len, PEM_FLAG_SECURE) != 1) {
			unsigned long e = ERR_peek_last_error();
			if (ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
				ERR_clear_error();
			} else {
				rc = aimark__crypto_ossl_error(AIMARK_EFORMAT, "PEM: malformed block at offset %zu", offset);
			}
			break;
		}
		blocks++;
		enum block_kind kind = block_kind(name);
		if (strcmp(name, "ENCRYPTED PRIVATE KEY") == 0 || (header != NULL && strstr(header, "ENCRYPTED") != NULL))
			encrypted = 1;
		else if (kind != BLOCK_OTHER && (best == BLOCK_OTHER || (kind == BLOCK_PRIVATE && best != BLOCK_PRIVATE))) {
			if (best_der != NULL)
				OPENSSL_secure_clear_free(best_der, (size_t)best_len);
			best = kind;
			best_der = der;
			best_len = der_len;
			best_off = offset;
			der = NULL;
		}
		OPENSSL_secure_free(name);
		OPENSSL_secure_free(header);
		if (der != NULL)
			OPENSSL_secure_clear_free(der, (size_t)der_len);
	}
	BIO_free(bio);

	if (rc == 0) {
		if (best != BLOCK_OTHER)
			rc = decode_block(out, best, best_der, best_len, best_off);
		else if (encrypted)
			rc = aimark__error_set(AIMARK_EFORMAT, "PEM: encrypted private keys are not supported");
		else if (blocks == 0)
			rc = aimark__error_set(AIMARK_EFORMAT, "PEM: no PEM block found (not a PEM file)");
		else
			rc = aimark__error_set(AIMARK_EFORMAT,
				"PEM: none of the %d blocks is a PRIVATE KEY, PUBLIC KEY or CERTIFICATE", blocks);
	}
	if (best_der != NULL)
		OPENSSL_secure_clear_free(best_der, (size_t)best_len);
	ERR_clear_error(); /* decoders may leave notes behind even on success */
	if (rc == AIMARK_EUNSUPPORTED) {
		/* The contract reports an unsupported key type in a PEM file as EFORMAT. */
		char msg[512];
		snprintf(msg, sizeof msg, "%s", aimark_error_last());
		rc = aimark__error_set(AIMARK_EFORMAT, "PEM: %s", msg);
	}
	return rc;
}

int aimark_key_load_file(aimark_key **out, const char *path)
{
	RETURN_IF(out == NULL || path == NULL, AIMARK_EINVAL, "key file: bad argument");
	*out = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	RETURN_IF(fd < 0, AIMARK_EIO, "%s: cannot open: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		int err = errno;
		close(fd);
		return aimark__error_set(AIMARK_EIO, "%s: not a regular file%s%s", path, err ? ": " : "",
			err ? strerror(err) : "");
	}
	if (st.st_size > AIMARK__KEY_FILE_MAX) {
		close(fd);
		return aimark__error_set(AIMARK_EFORMAT, "%s: %lld bytes is too large for a key file (limit %d)", path,
			(long long)st.st_size, AIMARK__KEY_FILE_MAX);
	}
	/* One byte more than the limit detects a file that grew after fstat. */
	size_t cap = (size_t)st.st_size + 1;
	unsigned char *data = aimark__malloc(cap);
	if (data == NULL) {
		close(fd);
		return aimark__error_set(AIMARK_ENOMEM, "out of memory");
	}
	size_t len = 0;
	int rc = 0;
	while (len < cap) {
		ssize_t n = read(fd, data + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = aimark__error_set(AIMARK_EIO, "%s: read failed: %s", path, strerror(errno));
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (rc == 0 && len == cap)
		rc = aimark__error_set(AIMARK_EIO, "%s: the file changed while being read", path);
	if (rc == 0) {
		rc = aimark_key_load_pem(out, data, len);
		if (rc < 0)
			aimark__error_prefix("%s", path);
	}
	aimark__wipe(data, cap);
	aimark__free(data);
	return rc;
}

/* Copies a memory BIO's contents into `out` (replacing them) with a single allocation. */
static int bio_to_buf(BIO *bio, aimark_buf *out)
{
	char *data = NULL;
	long n = BIO_get_mem_data(bio, &data);
	if (n <= 0 || data == NULL)
		return aimark__crypto_ossl_error(AIMARK_ECRYPTO, "PEM: encoder produced no output");
	aimark__buf_clear(out);
	RETURN_IF_ERR(aimark__buf_reserve(out, (size_t)n));
	return aimark__buf_append(out, data, (size_t)n);
}

int aimark_key_private_pem(const aimark_key *key, aimark_buf *out)
{
	RETURN_IF(key == NULL || out == NULL, AIMARK_EINVAL, "private PEM: bad argument");
	RETURN_IF(!key->has_private, AIMARK_EINVAL, "private PEM: the %s key is public only",
		aimark_key_alg_name(key->alg));
	/* A secure-memory BIO is wiped when freed. */
	BIO *bio = BIO_new(BIO_s_secmem());
	if (bio == NULL)
		return aimark__crypto_ossl_error(AIMARK_ENOMEM, "private PEM: out of memory");
	int rc;
	if (PEM_write_bio_PKCS8PrivateKey(bio, key->pkey, NULL, NULL, 0, NULL, NULL) != 1)
		rc = aimark__crypto_ossl_error(AIMARK_ECRYPTO, "private PEM: cannot encode the %s key as PKCS#8",
			aimark_key_alg_name(key->alg));
	else
		rc = bio_to_buf(bio, out);
	BIO_free(bio);
	return rc;
}

int aimark_key_public_pem(const aimark_key *key, aimark_buf *out)
{
	RETURN_IF(key == NULL || out == NULL, AIMARK_EINVAL, "public PEM: bad argument");
	BIO *bio = BIO_new(BIO_s_mem());
	if (bio == NULL)
		return aimark__crypto_ossl_error(AIMARK_ENOMEM, "public PEM: out of memory");
	int rc;
	if (PEM_write_bio_PUBKEY(bio, key->pkey) != 1)
		rc = aimark__crypto_ossl_error(AIMARK_ECRYPTO, "public PEM: cannot encode the %s key",
			aimark_key_alg_name(key->alg));
	else
		rc = bio_to_buf(bio, out);
	BIO_free(bio);
	return rc;
}

/* HMAC-SHA256, random bytes, constant-time comparison and wiping of secrets. */
#include <limits.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "core/internal.h"
#include "crypto/crypto.h"
#include "crypto/key_internal.h"

int aimark__hmac_sha256(const void *key, size_t key_len, const void *data, size_t len, unsigned char out[32])
{
	static const unsigned char empty[1];
	RETURN_IF(out == NULL || (key == NULL && key_len != 0) || (data == NULL && len != 0), AIMARK_EINVAL,
		"hmac: bad argument");
	RETURN_IF(key_len > INT_MAX, AIMARK_ELIMIT, "hmac: key longer than %d bytes", INT_MAX);
	unsigned int n = 0;
	if (HMAC(EVP_sha256(), key_len ? key : empty, (int)key_len, len ? data : empty, len, out, &n) == NULL ||
	    n != 32)
		return aimark__crypto_ossl_error(AIMARK_ECRYPTO, "hmac-sha256 failed");
	return 0;
}

int aimark__random_bytes(void *out, size_t len)
{
	RETURN_IF(out == NULL && len != 0, AIMARK_EINVAL, "random: bad argument");
	unsigned char *p = out;
	while (len > 0) {
		int chunk = len > (size_t)INT_MAX ? INT_MAX : (int)len;
		if (RAND_bytes(p, chunk) != 1)
			return aimark__crypto_ossl_error(AIMARK_ECRYPTO, "random: RAND_bytes failed");
		p += chunk;
		len -= (size_t)chunk;
	}
	return 0;
}

int aimark__ct_equal(const void *a, const void *b, size_t len)
{
	if (len == 0)
		return 1;
	return CRYPTO_memcmp(a, b, len) == 0;
}

void aimark__wipe(void *p, size_t len)
{
	if (p != NULL && len != 0)
		OPENSSL_cleanse(p, len);
}

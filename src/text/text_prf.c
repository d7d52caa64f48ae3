/* SipHash-2-4 and the key derivation of the statistical text watermark. */
#include <stdio.h>
#include <string.h>

#include "core/internal.h"
#include "crypto/crypto.h"
#include "text/text_prf.h"
#include "wm/wm_key.h"

static inline uint64_t rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

static inline uint64_t load_le64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

#define SIPROUND                                                        \
	do {                                                                \
		v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);       \
		v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;                          \
		v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;                          \
		v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);       \
	} while (0)

uint64_t aimark__text_siphash(uint64_t k0, uint64_t k1, const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t v0 = k0 ^ UINT64_C(0x736f6d6570736575);
	uint64_t v1 = k1 ^ UINT64_C(0x646f72616e646f6d);
	uint64_t v2 = k0 ^ UINT64_C(0x6c7967656e657261);
	uint64_t v3 = k1 ^ UINT64_C(0x7465646279746573);
	size_t full = len & ~(size_t)7;
	for (size_t i = 0; i < full; i += 8) {
		uint64_t m = load_le64(p + i);
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	uint64_t b = (uint64_t)(len & 0xff) << 56;
	for (size_t i = 0; i < (len & 7); i++)
		b |= (uint64_t)p[full + i] << (8 * i);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

int aimark__text_prf_init(aimark__text_prf *prf, const aimark_wm_key *key, const char *purpose)
{
	char label[64];
	unsigned char out[32];
	size_t n = (size_t)snprintf(label, sizeof label, "aimark-text-v1 %s", purpose);
	RETURN_IF(n >= sizeof label, AIMARK_EINVAL, "text watermark: purpose name too long");
	RETURN_IF_ERR(aimark__hmac_sha256(key->pattern_key, sizeof key->pattern_key, label, n, out));
	prf->k0 = load_le64(out);
	prf->k1 = load_le64(out + 8);
	aimark__wipe(out, sizeof out);
	return 0;
}

uint64_t aimark__text_prf_seed(const aimark__text_prf *prf, const int32_t *ids, size_t n)
{
	unsigned char buf[4 * 8];
	size_t len = 0;
	/* contexts are at most AIMARK_TEXTWM_MAX_CONTEXT (8) ids */
	for (size_t i = 0; i < n && len + 4 <= sizeof buf; i++) {
		aimark__put_le32(buf + len, (uint32_t)ids[i]);
		len += 4;
	}
	return aimark__text_siphash(prf->k0, prf->k1, buf, len);
}

void aimark__text_prf_wipe(aimark__text_prf *prf)
{
	aimark__wipe(prf, sizeof *prf);
}

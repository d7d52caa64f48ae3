/* Watermark keys: sub-key derivation, the short id, and the HMAC stream. */
#include <string.h>

#include "core/internal.h"
#include "crypto/crypto.h"
#include "wm/wm_key.h"

static int derive(const unsigned char secret[32], const char *label, unsigned char out[32])
{
	return aimark__hmac_sha256(secret, 32, label, strlen(label), out);
}

int aimark_wm_key_new(aimark_wm_key **out, const unsigned char bytes[AIMARK_WM_KEY_BYTES])
{
	RETURN_IF(out == NULL || bytes == NULL, AIMARK_EINVAL, "watermark key: bad argument");
	*out = NULL;
	aimark_wm_key *k = aimark__calloc(1, sizeof *k);
	RETURN_ENOMEM_IF_NULL(k);
	memcpy(k->secret, bytes, AIMARK_WM_KEY_BYTES);
	unsigned char idmac[32];
	int rc = derive(k->secret, "aimark-wm-v1 auth", k->auth_key);
	if (rc == 0)
		rc = derive(k->secret, "aimark-wm-v1 pattern", k->pattern_key);
	if (rc == 0)
		rc = derive(k->secret, "aimark-wm-v1 id", idmac);
	if (rc == 0) {
		static const char hexd[] = "0123456789abcdef";
		for (int i = 0; i < AIMARK_WM_KEY_ID_LEN / 2; i++) {
			k->id[2 * i] = hexd[idmac[i] >> 4];
			k->id[2 * i + 1] = hexd[idmac[i] & 15];
		}
		k->id[AIMARK_WM_KEY_ID_LEN] = '\0';
		rc = aimark__wm_image_layout_derive(&k->image, k->pattern_key);
	}
	if (rc < 0) {
		aimark_wm_key_free(k);
		return rc;
	}
	*out = k;
	return 0;
}

int aimark_wm_key_generate(aimark_wm_key **out)
{
	RETURN_IF(out == NULL, AIMARK_EINVAL, "watermark key: bad argument");
	*out = NULL;
	unsigned char bytes[AIMARK_WM_KEY_BYTES];
	RETURN_IF_ERR(aimark__random_bytes(bytes, sizeof bytes));
	int rc = aimark_wm_key_new(out, bytes);
	aimark__wipe(bytes, sizeof bytes);
	return rc;
}

void aimark_wm_key_free(aimark_wm_key *key)
{
	if (key == NULL)
		return;
	aimark__wipe(key, sizeof *key);
	aimark__free(key);
}

int aimark_wm_key_id(const aimark_wm_key *key, char out[AIMARK_WM_KEY_ID_LEN + 1])
{
	RETURN_IF(key == NULL || out == NULL, AIMARK_EINVAL, "watermark key: bad argument");
	memcpy(out, key->id, AIMARK_WM_KEY_ID_LEN + 1);
	return 0;
}

void aimark__wm_prng_init(aimark__wm_prng *p, const unsigned char key[32], const char *label)
{
	memset(p, 0, sizeof *p);
	memcpy(p->key, key, 32);
	size_t n = strlen(label);
	if (n >= sizeof p->label)
		n = sizeof p->label - 1;
	memcpy(p->label, label, n);
	p->used = sizeof p->block;
}

int aimark__wm_prng_bytes(aimark__wm_prng *p, void *out, size_t len)
{
	unsigned char *o = out;
	while (len > 0) {
		if (p->used == sizeof p->block) {
			unsigned char msg[sizeof p->label + 4];
			size_t n = strlen(p->label);
			memcpy(msg, p->label, n);
			aimark__put_be32(msg + n, p->counter++);
			RETURN_IF_ERR(aimark__hmac_sha256(p->key, sizeof p->key, msg, n + 4, p->block));
			p->used = 0;
		}
		size_t take = sizeof p->block - p->used;
		if (take > len)
			take = len;
		memcpy(o, p->block + p->used, take);
		p->used += take;
		o += take;
		len -= take;
	}
	return 0;
}

int64_t aimark__wm_prng_below(aimark__wm_prng *p, uint32_t n)
{
	if (n <= 1)
		return 0;
	uint32_t limit = UINT32_MAX - (UINT32_MAX % n);
	for (;;) {
		unsigned char b[4];
		if (aimark__wm_prng_bytes(p, b, 4) < 0)
			return -1;
		uint32_t v = aimark__be32(b);
		if (v < limit)
			return v % n;
	}
}

void aimark__wm_prng_wipe(aimark__wm_prng *p)
{
	aimark__wipe(p, sizeof *p);
}

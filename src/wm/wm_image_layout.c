/* The image tile layout: which chips synchronise and which carry which coded bit. */
#include <string.h>

#include "core/internal.h"
#include "crypto/crypto.h"
#include "wm/wm_key.h"
#include "wm/wm_payload.h"

int aimark__wm_image_layout_derive(aimark__wm_image_layout *layout, const unsigned char pattern_key[32])
{
	aimark__wm_prng prng;
	aimark__wm_prng_init(&prng, pattern_key, "aimark-wm-v1 image tile");
	int16_t perm[AIMARK__WM_TILE_CHIPS];
	for (int i = 0; i < AIMARK__WM_TILE_CHIPS; i++)
		perm[i] = (int16_t)i;
	/* Fisher-Yates: the first SYNC_CHIPS positions synchronise, the rest take coded bits in turn. */
	int rc = 0;
	for (int i = AIMARK__WM_TILE_CHIPS - 1; i > 0 && rc == 0; i--) {
		int64_t j = aimark__wm_prng_below(&prng, (uint32_t)i + 1);
		if (j < 0) {
			rc = AIMARK_ECRYPTO;
			break;
		}
		int16_t t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
	}
	unsigned char signs[AIMARK__WM_TILE_CHIPS / 8];
	if (rc == 0)
		rc = aimark__wm_prng_bytes(&prng, signs, sizeof signs);
	aimark__wm_prng_wipe(&prng);
	if (rc < 0)
		return aimark__error_set(AIMARK_ECRYPTO, "watermark key: pattern derivation failed");
	for (int i = 0; i < AIMARK__WM_TILE_CHIPS; i++) {
		int pos = perm[i];
		layout->bit[pos] = (int16_t)(i < AIMARK__WM_SYNC_CHIPS ? -1 : (i - AIMARK__WM_SYNC_CHIPS) % AIMARK__WM_CODED_BITS);
		layout->sign[pos] = (int8_t)((signs[i >> 3] >> (i & 7)) & 1 ? 1 : -1);
	}
	aimark__wipe(perm, sizeof perm);
	aimark__wipe(signs, sizeof signs);
	return 0;
}

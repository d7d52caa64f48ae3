/* Keyed cell pattern of the audio watermark and the band map. */
#include <math.h>
#include <string.h>

#include "core/internal.h"
#include "wm/wm_audio.h"
#include "crypto/crypto.h"
#include "wm/wm_key.h"

int aimark__wma_band_of(double hz)
{
	if (!(hz >= AIMARK__WMA_F_LO) || hz >= AIMARK__WMA_F_HI)
		return -1;
	double pos = log2(hz / AIMARK__WMA_F_LO) / log2(AIMARK__WMA_F_HI / AIMARK__WMA_F_LO) * AIMARK__WMA_BANDS;
	int b = (int)pos;
	return b < AIMARK__WMA_BANDS ? b : AIMARK__WMA_BANDS - 1;
}

int aimark__wma_layout_derive(aimark__wma_layout *l, const aimark_wm_key *key)
{
	RETURN_IF(l == NULL || key == NULL, AIMARK_EINVAL, "audio watermark: bad argument");
	aimark__wm_prng p;
	aimark__wm_prng_init(&p, key->pattern_key, "aimark-wm-audio-v1 cells");
	int16_t perm[AIMARK__WMA_CELLS];
	for (int i = 0; i < AIMARK__WMA_CELLS; i++)
		perm[i] = (int16_t)i;
	int rc = 0;
	/* Fisher-Yates: the first SYNC_CELLS cells are sync, the rest carry coded bits twice in turn. */
	for (int i = AIMARK__WMA_CELLS - 1; i > 0 && rc == 0; i--) {
		int64_t j = aimark__wm_prng_below(&p, (uint32_t)i + 1);
		if (j < 0) {
			rc = aimark__error_set(AIMARK_ECRYPTO, "audio watermark: pattern derivation failed");
			break;
		}
		int16_t t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
	}
	unsigned char signs[AIMARK__WMA_CELLS / 8];
	if (rc == 0)
		rc = aimark__wm_prng_bytes(&p, signs, sizeof signs);
	aimark__wm_prng_wipe(&p);
	RETURN_IF_ERR(rc);
	for (int i = 0; i < AIMARK__WMA_CELLS; i++) {
		int cell = perm[i];
		int8_t s = (signs[i >> 3] >> (i & 7)) & 1 ? 1 : -1;
		l->cell_sign[cell] = s;
		if (i < AIMARK__WMA_SYNC_CELLS) {
			l->cell_bit[cell] = -1;
		} else {
			l->cell_bit[cell] = (int16_t)((i - AIMARK__WMA_SYNC_CELLS) % AIMARK__WM_CODED_BITS);
		}
	}
	/* Sync cells in cell order, so that the correlation walks memory forwards. */
	int n = 0;
	for (int c = 0; c < AIMARK__WMA_CELLS; c++) {
		if (l->cell_bit[c] < 0) {
			l->sync_cell[n] = (int16_t)c;
			l->sync_sign[n] = l->cell_sign[c];
			n++;
		}
	}
	aimark__wipe(signs, sizeof signs);
	return 0;
}

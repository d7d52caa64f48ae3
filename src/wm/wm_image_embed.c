/*
 * Image embedder (pixel path): luminance activity per cell -> perceptual
 * mask -> mask x bilinear chip pattern added equally to the colour channels
 * (a luminance-only change). Alpha is left alone.
 */
#include <math.h>
#include <string.h>

#include "core/internal.h"
#include "crypto/crypto.h"
#include "wm/wm_image.h"
#include "wm/wm_key.h"

double aimark__wm_image_chip_size(uint32_t width, uint32_t height)
{
	double c = sqrt((double)width * (double)height / AIMARK__WM_CHIP_AREA);
	/* Small images: larger chips survive compression better, as long as the short side keeps 2 tiles. */
	double short_side = width < height ? width : height;
	double floor_c = short_side / (2.0 * AIMARK__WM_TILE);
	if (floor_c > AIMARK__WM_SMALL_CHIP)
		floor_c = AIMARK__WM_SMALL_CHIP;
	if (c < floor_c)
		c = floor_c;
	return c < AIMARK__WM_MIN_CHIP ? AIMARK__WM_MIN_CHIP : c;
}

float aimark__wm_mask_from_activity(float activity)
{
	float g = AIMARK__WM_MASK_GAIN * activity;
	float m = sqrtf(AIMARK__WM_MASK_LO * AIMARK__WM_MASK_LO + g * g);
	if (m > AIMARK__WM_MASK_HI)
		m = AIMARK__WM_MASK_HI;
	return m;
}

int aimark__wm_image_plan(aimark__wm_plan *plan, const aimark_wm_key *key, const unsigned char payload[8], uint32_t width, uint32_t height)
{
	unsigned char coded[AIMARK__WM_CODED_BITS];
	RETURN_IF_ERR(aimark__wm_encode(key, payload, coded));
	plan->chip = aimark__wm_image_chip_size(width, height);
	for (int i = 0; i < AIMARK__WM_TILE_CHIPS; i++) {
		int b = key->image.bit[i];
		float v = key->image.sign[i];
		if (b >= 0)
			v = coded[b] ? v : -v;
		plan->tile[i] = v;
	}
	aimark__wipe(coded, sizeof coded);
	return 0;
}

/* One row of luminance in 8-bit units. */
static void luma_row(const aimark__image *img, uint32_t y, float *out)
{
	const unsigned char *row = img->pixels + (size_t)y * img->stride;
	uint32_t w = img->width, ch = img->channels;
	int colour = ch >= 3;
	if (img->bit_depth == 8) {
		for (uint32_t x = 0; x < w; x++) {
			const unsigned char *p = row + (size_t)x * ch;
			out[x] = colour ? (float)(77 * p[0] + 150 * p[1] + 29 * p[2]) * (1.0f / 256.0f) : (float)p[0];
		}
	} else {
		const uint16_t *r16 = (const uint16_t *)(const void *)row;
		for (uint32_t x = 0; x < w; x++) {
			const uint16_t *p = r16 + (size_t)x * ch;
			float v = colour ? (float)(77 * (uint32_t)p[0] + 150 * (uint32_t)p[1] + 29 * (uint32_t)p[2]) * (1.0f / 256.0f) : (float)p[0];
			out[x] = v * (1.0f / 257.0f);
		}
	}
}

int aimark__wm_image_embed(aimark__image *img, const aimark_wm_key *key, const unsigned char payload[8], float strength)
{
	RETURN_IF(img == NULL || img->pixels == NULL || key == NULL || payload == NULL, AIMARK_EINVAL, "watermark: bad argument");
	RETURN_IF(img->channels < 1 || img->channels > 4 || (img->bit_depth != 8 && img->bit_depth != 16), AIMARK_EUNSUPPORTED,
		  "watermark: %u channels at %u bits unsupported", img->channels, img->bit_depth);
	RETURN_IF(img->width < AIMARK__WM_MIN_SIDE || img->height < AIMARK__WM_MIN_SIDE, AIMARK_ELIMIT,
		  "watermark: image %ux%u is smaller than %dx%d", img->width, img->height, AIMARK__WM_MIN_SIDE, AIMARK__WM_MIN_SIDE);
	RETURN_IF(img->stride < (size_t)img->width * img->channels * (img->bit_depth / 8), AIMARK_EINVAL, "watermark: bad stride");
	if (strength == 0)
		strength = 1.0f;
	RETURN_IF(!(strength > 0 && strength <= 16), AIMARK_EINVAL, "watermark: strength %g outside (0, 16]", (double)strength);

	aimark__wm_plan *plan = aimark__malloc(sizeof *plan);
	RETURN_ENOMEM_IF_NULL(plan);
	int rc = aimark__wm_image_plan(plan, key, payload, img->width, img->height);
	if (rc < 0) {
		aimark__free(plan);
		return rc;
	}
	const uint32_t W = img->width, H = img->height;
	const double chip = plan->chip;
	/* Mask cells of about half a chip. */
	uint32_t cs = (uint32_t)(chip / 2);
	if (cs < 4)
		cs = 4; /* the mask varies no faster than the pattern */
	const uint32_t Wc = (W + cs - 1) / cs, Hc = (H + cs - 1) / cs;
	float *cell = aimark__calloc((size_t)Wc * Hc, sizeof *cell);
	float *cell2 = aimark__calloc((size_t)Wc * Hc, sizeof *cell2);
	float *lum = aimark__malloc(3 * (size_t)W * sizeof *lum);
	float *drow = aimark__malloc(((size_t)W + 3) * sizeof *drow); /* one row of the change */
	aimark__wm_field field;
	memset(&field, 0, sizeof field);
	if (!cell || !cell2 || !lum || !drow) {
		rc = aimark__error_set(AIMARK_ENOMEM, "out of memory");
		goto done;
	}

	/* Activity: mean absolute second difference (zero on flat areas and linear gradients). */
	{
		float *rows[3] = { lum, lum + W, lum + 2 * (size_t)W };
		luma_row(img, 0, rows[1]);
		memcpy(rows[0], rows[1], W * sizeof *lum);
		/* Large cells: the activity of every other row is enough (and halves the cost). */
		const uint32_t ystep = cs >= 4 ? 2 : 1;
		for (uint32_t y = 0; y < H; y++) {
			luma_row(img, y + 1 < H ? y + 1 : y, rows[2]);
			if (ystep > 1 && (y % ystep) != 0) {
				float *t = rows[0];
				rows[0] = rows[1];
				rows[1] = rows[2];
				rows[2] = t;
				continue;
			}
			const float *up = rows[0], *c = rows[1], *dn = rows[2];
			float *crow = cell + (size_t)(y / cs) * Wc;
			/* per cell: interior columns without border tests */
			for (uint32_t cx = 0; cx < Wc; cx++) {
				uint32_t x0 = cx * cs, x1 = x0 + cs < W ? x0 + cs : W;
				float acc = 0;
				for (uint32_t x = x0; x < x1; x++) {
					float l = c[x > 0 ? x - 1 : x], r = c[x + 1 < W ? x + 1 : x];
					acc += fabsf(2 * c[x] - l - r) + fabsf(2 * c[x] - up[x] - dn[x]);
				}
				crow[cx] += acc;
			}
			float *t = rows[0];
			rows[0] = rows[1];
			rows[1] = rows[2];
			rows[2] = t;
		}
		for (uint32_t cy = 0; cy < Hc; cy++) {
			uint32_t hh = (cy + 1) * cs <= H ? cs : H - cy * cs;
			for (uint32_t cx = 0; cx < Wc; cx++) {
				uint32_t ww = (cx + 1) * cs <= W ? cs : W - cx * cs;
				uint32_t y0 = cy * cs, rows_used = ystep > 1 ? (y0 + hh + 1) / 2 - (y0 + 1) / 2 : hh;
				cell2[(size_t)cy * Wc + cx] = aimark__wm_mask_from_activity(cell[(size_t)cy * Wc + cx] / (float)(ww * rows_used));
			}
		}
		/* 3x3 smoothing so that the amplitude varies gently, within the mean-square budget. */
		aimark__wm_mask_smooth(cell2, cell, Wc, Hc, strength);
		if (img->bit_depth == 16)
			for (size_t i = 0; i < (size_t)Wc * Hc; i++)
				cell[i] *= 257.0f;
	}
	rc = aimark__wm_field_init(&field, plan, cell, Wc, Hc, cs, W);
	if (rc < 0)
		goto done;

	const uint32_t ch = img->channels, colour_ch = (ch == 2 || ch == 4) ? ch - 1 : ch;
	for (uint32_t y = 0; y < H; y++) {
		aimark__wm_field_row(&field, y, drow);
		unsigned char *row = img->pixels + (size_t)y * img->stride;
		float carry = 0;
		for (uint32_t x = 0; x < W; x++) {
			float d = drow[x];
			if (img->bit_depth == 8) {
				/*
				 * Samples are integers, so rounding the change once rounds every channel. The
				 * rounding error is carried to the next pixel (error diffusion along the row):
				 * changes below half a grey level still add up to the pattern's local mean
				 * instead of vanishing, and the error moves to high frequencies.
				 */
				float e = d + carry;
				int di = e >= 0 ? (int)(e + 0.5f) : -(int)(0.5f - e);
				carry = e - (float)di;
				if (di == 0)
					continue;
				unsigned char *px = row + (size_t)x * ch;
				for (uint32_t k = 0; k < colour_ch; k++) {
					int v = px[k] + di;
					px[k] = (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : v);
				}
			} else {
				uint16_t *px = (uint16_t *)(void *)row + (size_t)x * ch;
				for (uint32_t k = 0; k < colour_ch; k++) {
					float v = (float)px[k] + d + 0.5f;
					px[k] = (uint16_t)(v < 0 ? 0 : v > 65535 ? 65535 : (int)v);
				}
			}
		}
	}
done:
	aimark__wipe(plan, sizeof *plan);
	aimark__free(plan);
	aimark__free(cell);
	aimark__free(cell2);
	aimark__free(lum);
	aimark__free(drow);
	aimark__wm_field_dispose(&field);
	return rc;
}

/*
 * The image watermark's change field, shared by the pixel path (wm_image_embed.c)
 * and the JPEG coefficient path (codec/jpeg_coef.c):
 *
 *     delta(x, y) = mask(x, y) * pattern(x / chip, y / chip)
 *
 * with the pattern bilinear over the tile's chips (chip i at x = i * chip) and
 * the mask bilinear over the centres of square cells of `cell` pixels. It is
 * built separably: the tile's 64 chip rows are interpolated along x once per
 * image, a cell row of the mask along x when a pixel row first needs it (a
 * ring of three: a pixel row reads two neighbouring cell rows), and each
 * pixel row is the product of the two interpolated in y, four pixels at a time.
 */
#include <math.h>
#include <string.h>

#include "core/internal.h"
#include "core/vec4.h"
#include "crypto/crypto.h"
#include "wm/wm_image.h"

void aimark__wm_mask_smooth(const float *raw, float *mask, uint32_t cells_w, uint32_t cells_h, float strength)
{
	double sum2 = 0;
	for (uint32_t cy = 0; cy < cells_h; cy++)
		for (uint32_t cx = 0; cx < cells_w; cx++) {
			float s = 0;
			int n = 0;
			for (int dy = -1; dy <= 1; dy++)
				for (int dx = -1; dx <= 1; dx++) {
					int yy = (int)cy + dy, xx = (int)cx + dx;
					if (yy < 0 || xx < 0 || yy >= (int)cells_h || xx >= (int)cells_w)
						continue;
					s += raw[(size_t)yy * cells_w + xx];
					n++;
				}
			mask[(size_t)cy * cells_w + cx] = s / (float)n;
			sum2 += (double)(s / n) * (s / n);
		}
	/* Never exceed the mean-square budget (bilinear chips have mean square 4/9). */
	double mse = sum2 / ((double)cells_w * cells_h) * (4.0 / 9.0);
	float scale = strength;
	if (mse > AIMARK__WM_MAX_MSE)
		scale *= (float)sqrt(AIMARK__WM_MAX_MSE / mse);
	for (size_t i = 0; i < (size_t)cells_w * cells_h; i++)
		mask[i] *= scale;
}

/* Position of pixel v between the centres of cells of `cell` pixels: cell index and fraction, clamped to [0, cells - 1]. */
static void cell_position(uint32_t v, uint32_t cell, uint32_t cells, uint32_t *c0, uint32_t *c1, float *frac)
{
	double c = (v + 0.5) / cell - 0.5;
	if (c < 0)
		c = 0;
	uint32_t i = (uint32_t)c;
	if (i + 1 >= cells) {
		*c0 = *c1 = cells - 1;
		*frac = 0;
	} else {
		*c0 = i;
		*c1 = i + 1;
		*frac = (float)(c - i);
	}
}

/* Chip of pixel v: index, the next index (the tile wraps) and the fraction. */
static void chip_position(uint32_t v, double inv_chip, uint32_t *i0, uint32_t *i1, float *frac)
{
	const uint32_t T = AIMARK__WM_TILE;
	double t = v * inv_chip, fl = floor(t);
	*i0 = (uint32_t)((uint64_t)fl % T);
	*i1 = (*i0 + 1) % T;
	*frac = (float)(t - fl);
}

/* out[x] = linear interpolation of src between i0[x] and i1[x] at fraction f[x]. */
static void interp_row(float *out, const float *src, const uint32_t *i0, const uint32_t *i1, const float *f, uint32_t n)
{
	for (uint32_t x = 0; x < n; x++)
		out[x] = src[i0[x]] + f[x] * (src[i1[x]] - src[i0[x]]);
}

int aimark__wm_field_init(aimark__wm_field *f, const aimark__wm_plan *plan, const float *mask, uint32_t cells_w,
			  uint32_t cells_h, uint32_t cell, uint32_t width)
{
	memset(f, 0, sizeof *f);
	RETURN_IF(cells_w == 0 || cells_h == 0 || cell == 0 || width == 0, AIMARK_EINVAL, "watermark: empty change field");
	const uint32_t T = AIMARK__WM_TILE;
	const uint32_t W = (width + 3) & ~UINT32_C(3);
	f->plan = plan;
	f->mask = mask;
	f->cells_w = cells_w;
	f->cells_h = cells_h;
	f->cell = cell;
	f->width = W;
	f->inv_chip = 1.0 / plan->chip;
	f->mx_row[0] = f->mx_row[1] = f->mx_row[2] = -1;
	f->ptile = aimark__malloc((size_t)W * T * sizeof *f->ptile);
	f->mx = aimark__malloc((size_t)W * 3 * sizeof *f->mx);
	f->xi = aimark__malloc((size_t)W * sizeof *f->xi);
	f->xi1 = aimark__malloc((size_t)W * sizeof *f->xi1);
	f->xf = aimark__malloc((size_t)W * sizeof *f->xf);
	f->ci = aimark__malloc((size_t)W * sizeof *f->ci);
	f->ci1 = aimark__malloc((size_t)W * sizeof *f->ci1);
	f->cf = aimark__malloc((size_t)W * sizeof *f->cf);
	if (!f->ptile || !f->mx || !f->xi || !f->xi1 || !f->xf || !f->ci || !f->ci1 || !f->cf) {
		aimark__wm_field_dispose(f);
		return aimark__error_set(AIMARK_ENOMEM, "out of memory");
	}
	for (uint32_t x = 0; x < W; x++) {
		chip_position(x, f->inv_chip, &f->xi[x], &f->xi1[x], &f->xf[x]);
		cell_position(x, cell, cells_w, &f->ci[x], &f->ci1[x], &f->cf[x]);
	}
	for (uint32_t i = 0; i < T; i++)
		interp_row(f->ptile + (size_t)i * W, plan->tile + (size_t)i * T, f->xi, f->xi1, f->xf, W);
	return 0;
}

/* Mask cell row `c` interpolated along x, from the ring. */
static const float *mask_row(aimark__wm_field *f, uint32_t c)
{
	float *row = f->mx + (size_t)(c % 3) * f->width;
	if (f->mx_row[c % 3] != (int64_t)c) {
		interp_row(row, f->mask + (size_t)c * f->cells_w, f->ci, f->ci1, f->cf, f->width);
		f->mx_row[c % 3] = c;
	}
	return row;
}

void aimark__wm_field_row(aimark__wm_field *f, uint32_t y, float *out)
{
	uint32_t iy, iy1, c0, c1;
	float wy, wc;
	chip_position(y, f->inv_chip, &iy, &iy1, &wy);
	cell_position(y, f->cell, f->cells_h, &c0, &c1, &wc);
	const float *p0 = f->ptile + (size_t)iy * f->width, *p1 = f->ptile + (size_t)iy1 * f->width;
	const float *a0 = mask_row(f, c0), *a1 = mask_row(f, c1);
	for (uint32_t x = 0; x < f->width; x += 4) {
		v4f pp = v4f_load(p0 + x), aa = v4f_load(a0 + x);
		pp += (v4f_load(p1 + x) - pp) * wy;
		aa += (v4f_load(a1 + x) - aa) * wc;
		v4f_store(out + x, pp * aa);
	}
}

void aimark__wm_field_dispose(aimark__wm_field *f)
{
	if (f->ptile != NULL) /* the interpolated tile is the key's pattern, as the plan is */
		aimark__wipe(f->ptile, (size_t)f->width * AIMARK__WM_TILE * sizeof *f->ptile);
	aimark__free(f->ptile);
	aimark__free(f->mx);
	aimark__free(f->xi);
	aimark__free(f->xi1);
	aimark__free(f->xf);
	aimark__free(f->ci);
	aimark__free(f->ci1);
	aimark__free(f->cf);
	memset(f, 0, sizeof *f);
}

/*
 * Image detector.
 *  1. Luminance, area-downsampled to a working image of about 2^18 pixels.
 *  2. Whitening (minus the 5x5 mean) and local contrast normalisation, so
 *     that the host image counts as unit noise everywhere.
 *  3. Autocorrelation through the FFT (first on 2x2 averages, then if needed
 *     at full working resolution for short periods), with the power spectrum flattened
 *     and the JPEG 8x8 grid frequencies notched: the tile repetition shows
 *     as a lattice of peaks whatever scale, aspect, rotation or flip the
 *     image went through.
 *  4. The lattice's basis (two shortest vectors) gives the affine map to
 *     tile coordinates; the image is folded into one tile.
 *  5. Per key: cyclic correlation of the 8 square orientations of the folded
 *     tile with the key's sync pattern gives the translation and orientation.
 *  6. Matched-filter chip values -> soft coded bits -> Viterbi -> tag check,
 *     for sync peaks strong enough to carry a readable payload.
 * The lattice and the folded tile do not depend on the key, so many keys cost
 * little more than one.
 */
#include <math.h>
#include <string.h>

#include "core/internal.h"
#include "core/vec4.h"
#include "wm/wm_fft.h"
#include "wm/wm_image.h"
#include "wm/wm_key.h"

#define WORK_AREA AIMARK__WM_WORK_AREA
#define QF 2                 /* fold bins per chip */
#define QT (AIMARK__WM_TILE * QF)
#define MAX_PEAKS 40
#define MAX_LATTICES 3
#define SYNC_PEAKS 2
#define PASSES 2             /* lattice searches: decimated, then full resolution */
#define FALLBACK_Z 7.0       /* below this sync z after pass 0, pass 1 runs */
#define CHASE_FLIPS 0        /* Chase decoding off: no gain measured on the benchmark (see docs) */
#define R_MIN 56.0           /* shortest tile period looked for: 64 chips of 0.875 working pixels */
#define LAG_CAP 420          /* largest autocorrelation lag kept, working pixels */
#define FALLBACK_LAG 160     /* ... in the fallback search (pass 1 after pass 0 on a large image) */
#define FALLBACK_SIDE 448    /* the fallback search looks at the working image's centre, at most this square */
#define FALLBACK_SCORE 15.0  /* the fallback search folds only lattices scoring at least this */
#define DECODE_Z 6.0         /* sync peaks below this z are not decoded */
#define SPEC_CACHE 8         /* template spectra kept across lattices (128 KiB each) */
#define STAGE 16             /* rows staged between row and column transforms (even) */
#define WHITEN_R 2           /* whitening subtracts the (2R+1)^2 local mean */

_Static_assert((QT & (QT - 1)) == 0, "the folded tile side must be a power of two");
#define FOLD_FRAC 25         /* fractional bits of the fold's fixed-point bin coordinates: 2^(32 - FOLD_FRAC) = QT */
_Static_assert(1u << (32 - FOLD_FRAC) == QT, "fold coordinates wrap at one period");

/*
 * Vectors (core/vec4.h, and the narrower ones below) for the simple loops that the compiler does
 * not vectorise at -O2; each lane does the scalar code's operations.
 */
typedef unsigned char u8x16 __attribute__((vector_size(16)));
typedef uint16_t u16x8 __attribute__((vector_size(16)));
typedef float v2f __attribute__((vector_size(8)));
typedef double v2d __attribute__((vector_size(16)));

typedef struct work {
	uint32_t w, h;
	float *px;              /* w*h */
	double scale;           /* input pixels per working pixel */
} work;

typedef struct acf_map {
	int lx, ly;             /* lags -lx..lx, -ly..ly */
	double unit;            /* working pixels per lag step (2 when computed on the decimated image) */
	float *z;               /* (2ly+1) x (2lx+1), z-scores */
} acf_map;

typedef struct lattice {
	double a[2], b[2];      /* basis vectors (working pixels) */
	double score;
} lattice;

/* ---- 1. working image ---- */

/* Luminance of the row's samples x = 0, stp, 2 stp, ... (n of them). */
static void row_luma(const aimark__image *img, const unsigned char *row, uint32_t stp, uint32_t n, float *lum)
{
	const size_t ch = img->channels, adv = (size_t)stp * ch;
	if (img->bit_depth == 8) {
		if (ch >= 3) {
			for (uint32_t i = 0; i < n; i++) {
				const unsigned char *p = row + i * adv;
				lum[i] = (float)(77 * p[0] + 150 * p[1] + 29 * p[2]) * (1.0f / 256.0f);
			}
		} else if (adv == 1) {
			uint32_t i = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			/* 16 bytes at a time, zero-extended by interleaving with zeros (bytes to 16 bits, then to 32), then converted */
			const u8x16 z8 = { 0 };
			const u16x8 z16 = { 0 };
			for (; i + 16 <= n; i += 16) {
				u8x16 b;
				memcpy(&b, row + i, sizeof b);
				const u16x8 lo = (u16x8)__builtin_shufflevector(b, z8, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
				const u16x8 hi = (u16x8)__builtin_shufflevector(b, z8, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
				v4f_store(lum + i, __builtin_convertvector((v4i)__builtin_shufflevector(lo, z16, 0, 8, 1, 9, 2, 10, 3, 11), v4f));
				v4f_store(lum + i + 4, __builtin_convertvector((v4i)__builtin_shufflevector(lo, z16, 4, 12, 5, 13, 6, 14, 7, 15), v4f));
				v4f_store(lum + i + 8, __builtin_convertvector((v4i)__builtin_shufflevector(hi, z16, 0, 8, 1, 9, 2, 10, 3, 11), v4f));
				v4f_store(lum + i + 12, __builtin_convertvector((v4i)__builtin_shufflevector(hi, z16, 4, 12, 5, 13, 6, 14, 7, 15), v4f));
			}
#endif
			for (; i < n; i++)
				lum[i] = (float)row[i];
		} else {
			for (uint32_t i = 0; i < n; i++)
				lum[i] = (float)row[i * adv];
		}
	} else {
		const uint16_t *r16 = (const uint16_t *)(const void *)row;
		for (uint32_t i = 0; i < n; i++) {
			const uint16_t *p = r16 + i * adv;
			float v = ch >= 3 ? (float)(77 * (uint32_t)p[0] + 150 * (uint32_t)p[1] + 29 * (uint32_t)p[2]) * (1.0f / 256.0f)
					  : (float)p[0];
			lum[i] = v * (1.0f / 257.0f);
		}
	}
}

/* One input row into its output row (and the next, `spill`), K gathered terms per cell. Inlined
   with a constant K for the common sizes, so that the inner loop unrolls. */
static inline __attribute__((always_inline)) void gather_row(const uint32_t *gi, const float *gw, const float *lum, uint32_t K,
							    uint32_t w, float a0, float a1, int spill, float *out)
{
	for (uint32_t x = 0; x < w; x++) {
		const float *l = lum + gi[x];
		const float *cw = gw + (size_t)x * K;
		float acc = 0;
		for (uint32_t q = 0; q < K; q++)
			acc += cw[q] * l[q];
		out[x] += a0 * acc;
		if (spill)
			out[x + w] += a1 * acc;
	}
}

static int make_work(const aimark__image *img, work *wk)
{
	double d = sqrt((double)img->width * img->height / WORK_AREA);
	if (d < 1)
		d = 1;
	uint32_t w = (uint32_t)(img->width / d), h = (uint32_t)(img->height / d);
	if (w < 1)
		w = 1;
	if (h < 1)
		h = 1;
	wk->w = w;
	wk->h = h;
	wk->scale = d;
	/* Cells of 3 or more pixels: every other row and column is enough (the sum is rescaled). */
	const uint32_t step = d >= 3 ? 2 : 1;
	const uint32_t ns = (img->width + step - 1) / step; /* samples per row */
	wk->px = aimark__calloc((size_t)w * h, sizeof *wk->px);
	float *xw = aimark__malloc((size_t)ns * sizeof *xw);
	uint32_t *xs = aimark__malloc(((size_t)w + 1) * sizeof *xs);
	if (!wk->px || !xw || !xs) {
		aimark__free(xw);
		aimark__free(xs);
		return aimark__error_set(AIMARK_ENOMEM, "out of memory");
	}
	/* Each input pixel [x, x+1) falls into output cell floor(x/d) with weight xw, and the rest
	   (1 - xw) into the next one when it straddles; xs[o] is the first sample of cell o. */
	uint32_t o = 0;
	for (uint32_t i = 0; i < ns; i++) {
		const uint32_t x = i * step;
		double c = x / d;
		uint32_t j = (uint32_t)c;
		double edge = (j + 1) * d;
		xw[i] = (float)(edge >= x + step ? 1.0 : (edge - x) / step);
		while (o <= w && o <= j)
			xs[o++] = i;
	}
	while (o <= w)
		xs[o++] = ns;
	/*
	 * Gathered per cell, K terms each: the straddling sample of cell o - 1 (weight 1 - xw; the
	 * others of that cell add exact zeros, so they are left out), then cell o's samples, padded
	 * with zero weights. The sums are those a scatter over x would form, term for term.
	 */
	uint32_t K = 1;
	for (uint32_t c = 0; c < w; c++)
		if (xs[c + 1] - xs[c] + 1 > K)
			K = xs[c + 1] - xs[c] + 1;
	uint32_t *gi = aimark__malloc((size_t)w * sizeof *gi);
	float *gw = aimark__malloc((size_t)w * K * sizeof *gw);
	float *lum = aimark__calloc((size_t)ns + K, sizeof *lum); /* K zeros past the end for the padding terms */
	if (!gi || !gw || !lum) {
		aimark__free(lum);
		aimark__free(xw);
		aimark__free(xs);
		aimark__free(gi);
		aimark__free(gw);
		return aimark__error_set(AIMARK_ENOMEM, "out of memory");
	}
	/* the terms of a cell are consecutive samples: gi[c] is the first */
	for (uint32_t c = 0; c < w; c++) {
		float *cw = gw + (size_t)c * K;
		uint32_t q = 0;
		gi[c] = xs[c];
		if (c > 0 && xs[c] > xs[c - 1] && xw[xs[c] - 1] < 1) {
			gi[c] = xs[c] - 1;
			cw[q++] = 1 - xw[xs[c] - 1];
		}
		for (uint32_t i = xs[c]; i < xs[c + 1]; i++)
			cw[q++] = xw[i];
		for (; q < K; q++)
			cw[q] = 0;
	}
	const float norm = (float)(1.0 / (d * d));
	const float norm_s = norm * (float)(step * step);
	for (uint32_t y = 0; y < img->height; y += step) {
		double c = y / d;
		uint32_t j = (uint32_t)c;
		if (j >= h)
			break;
		double edge = (j + 1) * d;
		float wy = (float)(edge >= y + step ? 1.0 : (edge - y) / step);
		row_luma(img, img->pixels + (size_t)y * img->stride, step, xs[w], lum);
		float *out = wk->px + (size_t)j * w;
		const float a0 = wy * norm_s, a1 = (1 - wy) * norm_s;
		const int spill = wy < 1 && j + 1 < h;
		switch (K) {
		case 2:
			gather_row(gi, gw, lum, 2, w, a0, a1, spill, out);
			break;
		case 3:
			gather_row(gi, gw, lum, 3, w, a0, a1, spill, out);
			break;
		case 4:
			gather_row(gi, gw, lum, 4, w, a0, a1, spill, out);
			break;
		default:
			gather_row(gi, gw, lum, K, w, a0, a1, spill, out);
			break;
		}
	}
	aimark__free(lum);
	aimark__free(xw);
	aimark__free(xs);
	aimark__free(gi);
	aimark__free(gw);
	return 0;
}

/* ---- 2. whitening and local normalisation ---- */

static inline float clamped(const float *s, int i, uint32_t n)
{
	return s[i < 0 ? 0 : (i >= (int)n ? n - 1 : (uint32_t)i)];
}

/* Horizontal running sums of one row for x in [x0, x1), clamped borders; acc is the sum at x0. */
static double box_row_part(const float *s, float *t, uint32_t w, int r, uint32_t x0, uint32_t x1, double acc)
{
	for (uint32_t x = x0; x < x1; x++) {
		t[x] = (float)acc;
		acc += clamped(s, (int)x + r + 1, w) - clamped(s, (int)x - r, w);
	}
	return acc;
}

/*
 * Separable box sum of radius r with clamped borders, src -> dst (dst may be src, as src is read only by the
 * horizontal pass, into tmp). The horizontal
 * running sums (in double) go four rows at a time through the border-free middle, so that the
 * four dependency chains overlap; each row's sums are added in the same order as one at a time.
 */
static void box_filter(const float *src, float *dst, float *tmp, uint32_t w, uint32_t h, int r)
{
	/* x in [r, mid) reads s[x + r + 1] and s[x - r] without clamping */
	const uint32_t lo = (uint32_t)r < w ? (uint32_t)r : w;
	const uint32_t mid = w > (uint32_t)(r + 1) && w - (uint32_t)(r + 1) > lo ? w - (uint32_t)(r + 1) : lo;
	uint32_t y = 0;
	for (; y + 4 <= h; y += 4) {
		const float *s0 = src + (size_t)y * w, *s1 = s0 + w, *s2 = s1 + w, *s3 = s2 + w;
		float *t0 = tmp + (size_t)y * w, *t1 = t0 + w, *t2 = t1 + w, *t3 = t2 + w;
		double a0 = 0, a1 = 0, a2 = 0, a3 = 0;
		for (int k = -r; k <= r; k++) {
			a0 += clamped(s0, k, w);
			a1 += clamped(s1, k, w);
			a2 += clamped(s2, k, w);
			a3 += clamped(s3, k, w);
		}
		a0 = box_row_part(s0, t0, w, r, 0, lo, a0);
		a1 = box_row_part(s1, t1, w, r, 0, lo, a1);
		a2 = box_row_part(s2, t2, w, r, 0, lo, a2);
		a3 = box_row_part(s3, t3, w, r, 0, lo, a3);
		for (uint32_t x = lo; x < mid; x++) {
			t0[x] = (float)a0;
			t1[x] = (float)a1;
			t2[x] = (float)a2;
			t3[x] = (float)a3;
			a0 += s0[x + r + 1] - s0[x - r];
			a1 += s1[x + r + 1] - s1[x - r];
			a2 += s2[x + r + 1] - s2[x - r];
			a3 += s3[x + r + 1] - s3[x - r];
		}
		box_row_part(s0, t0, w, r, mid, w, a0);
		box_row_part(s1, t1, w, r, mid, w, a1);
		box_row_part(s2, t2, w, r, mid, w, a2);
		box_row_part(s3, t3, w, r, mid, w, a3);
	}
	for (; y < h; y++) {
		const float *s = src + (size_t)y * w;
		double acc = 0;
		for (int k = -r; k <= r; k++)
			acc += clamped(s, k, w);
		box_row_part(s, tmp + (size_t)y * w, w, r, 0, w, acc);
	}
	/* vertical pass row by row (a running sum per column), so that memory is read in order */
	for (uint32_t x = 0; x < w; x++)
		dst[x] = 0;
	for (int k = -r; k <= r; k++) {
		const float *t = tmp + (size_t)(k < 0 ? 0 : (k >= (int)h ? h - 1 : (uint32_t)k)) * w;
		for (uint32_t x = 0; x < w; x++)
			dst[x] += t[x];
	}
	for (uint32_t yy = 1; yy < h; yy++) {
		int add = (int)yy + r, sub = (int)yy - r - 1;
		const float *ta = tmp + (size_t)(add >= (int)h ? h - 1 : (uint32_t)add) * w;
		const float *ts = tmp + (size_t)(sub < 0 ? 0 : (uint32_t)sub) * w;
		const float *prev = dst + (size_t)(yy - 1) * w;
		float *d = dst + (size_t)yy * w;
		uint32_t x = 0;
		for (; x + 4 <= w; x += 4)
			v4f_store(d + x, v4f_load(prev + x) + v4f_load(ta + x) - v4f_load(ts + x));
		for (; x < w; x++)
			d[x] = prev[x] + ta[x] - ts[x];
	}
}

static int whiten(work *wk)
{
	size_t n = (size_t)wk->w * wk->h;
	float *a = aimark__malloc(n * sizeof *a), *b = aimark__malloc(n * sizeof *b);
	if (!a || !b) {
		aimark__free(a);
		aimark__free(b);
		return aimark__error_set(AIMARK_ENOMEM, "out of memory");
	}
	box_filter(wk->px, a, b, wk->w, wk->h, WHITEN_R);
	const float inv_area = 1.0f / ((2 * WHITEN_R + 1) * (2 * WHITEN_R + 1));
	size_t i = 0;
	for (; i + 4 <= n; i += 4) {
		v4f p = v4f_load(wk->px + i) - v4f_load(a + i) * inv_area;
		v4f_store(wk->px + i, p);
		v4f_store(a + i, p * p);
	}
	for (; i < n; i++) {
		wk->px[i] -= a[i] * inv_area;
		a[i] = wk->px[i] * wk->px[i];
	}
	float *var = a; /* the local variance replaces the squares */
	box_filter(a, var, b, wk->w, wk->h, 4);
	for (i = 0; i < n; i++) {
		float v = wk->px[i] / sqrtf(var[i] * (1.0f / 81.0f) + 0.25f);
		wk->px[i] = v > 3 ? 3 : v < -3 ? -3 : v;
	}
	aimark__free(a);
	aimark__free(b);
	return 0;
}

/* ---- 3. autocorrelation ---- */

/* The centre of the working image, at most `side` x `side` (for the fallback lattice search only). */
static int crop_centre(const work *wk, uint32_t side, work *out)
{
	out->w = wk->w < side ? wk->w : side;
	out->h = wk->h < side ? wk->h : side;
	out->scale = wk->scale;
	out->px = aimark__malloc((size_t)out->w * out->h * sizeof *out->px);
	RETURN_ENOMEM_IF_NULL(out->px);
	const uint32_t x0 = (wk->w - out->w) / 2, y0 = (wk->h - out->h) / 2;
	for (uint32_t y = 0; y < out->h; y++)
		memcpy(out->px + (size_t)y * out->w, wk->px + (size_t)(y0 + y) * wk->w + x0, out->w * sizeof *out->px);
	return 0;
}

/* 2x2 averages of the working image (for the lattice search only). */
static int decimate(const work *wk, work *out)
{
	out->w = wk->w / 2;
	out->h = wk->h / 2;
	out->scale = wk->scale * 2;
	out->px = aimark__malloc((size_t)out->w * out->h * sizeof *out->px);
	RETURN_ENOMEM_IF_NULL(out->px);
	for (uint32_t y = 0; y < out->h; y++) {
		const float *r0 = wk->px + (size_t)(2 * y) * wk->w, *r1 = r0 + wk->w;
		float *o = out->px + (size_t)y * out->w;
		for (uint32_t x = 0; x < out->w; x++)
			o[x] = 0.25f * (r0[2 * x] + r0[2 * x + 1] + r1[2 * x] + r1[2 * x + 1]);
	}
	return 0;
}

static size_t pow2_at_least(double v)
{
	size_t n = 64;
	while ((double)n < v)
		n <<= 1;
	return n;
}

/* The largest float q with sqrtf(q) <= t (t > 0): as sqrtf is monotonic, sqrtf(q) > t exactly when q is above it. */
static float sqrt_le_bound(float t)
{
	float q = t * t;
	while (q > 0 && sqrtf(q) > t)
		q = nextafterf(q, 0);
	while (sqrtf(nextafterf(q, INFINITY)) <= t)
		q = nextafterf(q, INFINITY);
	return q;
}

/*
 * What one lattice search looks at (working pixels): the largest lag kept, and the zero padding that keeps
 * lags up to `clean` free of cyclic wrap (`spread`: pad to at least this multiple of each side too). Lags
 * past the padding are kept only when `wrapped` is set.
 */
typedef struct acf_window {
	double lag_cap, clean, spread;
	int wrapped;
} acf_window;

/* The main searches: lags up to ~230 (a tile period after a crop to a strip) do not wrap. */
static const acf_window WINDOW_FULL = { LAG_CAP, 230.0, 1.45, 0 };
/*
 * The fallback search on a large image looks for the short periods that the decimated search misses (small
 * chips: the marked image pasted into a larger canvas), on the centre of the working image (FALLBACK_SIDE,
 * 69% of the long side of a 16:10 image: many periods of a short one), in a 512 x 512 transform. Its lags
 * stop at FALLBACK_LAG; those past the padding wrap over rows or columns that overlap little (at most a
 * third of the lag's own overlap), which only adds noise there.
 */
static const acf_window WINDOW_FALLBACK = { FALLBACK_LAG, 64.0, 1.0, 1 };

static int autocorrelation(const work *wk, double unit, acf_window win, acf_map *acf)
{
	const double pad = win.clean / unit;
	const size_t nx = pow2_at_least(fmax(wk->w * win.spread, wk->w + pad)), ny = pow2_at_least(fmax(wk->h * win.spread, wk->h + pad));
	const int lag_cap = (int)(win.lag_cap / unit);
	const size_t hx = nx / 2 + 1;
	const int R = 4; /* the flattening's local mean is over (2R+1)^2 bins */
	int lx = (int)(win.wrapped ? nx / 2 - 1 : nx - wk->w), ly = (int)(win.wrapped ? ny / 2 - 1 : ny - wk->h);
	if (lx > lag_cap)
		lx = lag_cap;
	if (ly > lag_cap)
		ly = lag_cap;
	acf->unit = unit;
	acf->lx = lx;
	acf->ly = ly;
	acf->z = NULL;
	aimark__fft *fx = NULL, *fy = NULL;
	float *spec = NULL, *row = NULL, *stage = NULL, *fx2 = NULL;
	unsigned char *nxf = NULL;
	double *acc = NULL;
	int rc = aimark__fft_new(&fx, nx);
	if (rc == 0)
		rc = aimark__fft_new(&fy, ny);
	if (rc < 0)
		goto done;
	row = aimark__malloc(nx * 2 * sizeof *row);
	stage = aimark__malloc((size_t)STAGE * hx * 2 * sizeof *stage);
	acf->z = aimark__malloc((size_t)(2 * ly + 1) * (2 * lx + 1) * sizeof *acf->z); /* every lag is written below */
	nxf = aimark__calloc(hx + ny, 1);
	fx2 = aimark__malloc((hx + ny) * sizeof *fx2);
	acc = aimark__malloc(ny * sizeof *acc);
	if (!row || !stage || !acf->z || !nxf || !fx2 || !acc) {
		rc = aimark__error_set(AIMARK_ENOMEM, "out of memory");
		goto done;
	}
	unsigned char *nyf = nxf + hx;
	float *fy2 = fx2 + hx;
	/* The JPEG grid of the input maps to frequencies m * scale / 8 cycles per working pixel: notch those lines. */
	for (int m = 1; m < 8; m++) {
		double f = fmod(m * wk->scale / 8.0, 1.0);
		if (f > 0.5)
			f = 1 - f;
		for (size_t k = 0; k < hx; k++)
			if (fabs((double)k / nx - f) * nx <= 1.5)
				nxf[k] = 1;
		for (size_t r = 0; r < ny; r++) {
			double fyv = (double)(r <= ny / 2 ? r : ny - r) / ny;
			if (fabs(fyv - f) * ny <= 1.5)
				nyf[r] = 1;
		}
	}
	for (size_t k = 0; k < hx; k++)
		fx2[k] = (float)((double)k / nx * k / nx);
	for (size_t r = 0; r < ny; r++) {
		double fyv = (double)(r <= ny / 2 ? r : ny - r) / ny;
		fy2[r] = (float)(fyv * fyv);
	}
	/*
	 * The band limit zeroes every column k from kcut on (sqrtf(fx2 + fy2) >= sqrtf(fx2) > 0.45):
	 * those are neither flattened nor transformed back, and only the columns the flattening's
	 * local mean reads next to the kept ones (up to kcut + R) are transformed at all.
	 */
	size_t kcut = 0;
	while (kcut < hx && !(sqrtf(fx2[kcut]) > 0.45f))
		kcut++;
	const size_t kneed = kcut + R + 1 < hx ? kcut + R + 1 : hx;
	spec = aimark__malloc(kneed * ny * 2 * sizeof *spec); /* column-major: spec[(k * ny + r) * 2], k < kneed */
	if (!spec) {
		rc = aimark__error_set(AIMARK_ENOMEM, "out of memory");
		goto done;
	}
	/* Rows, two real rows per complex transform, staged STAGE rows at a time so that the
	   column-major spectrum is written in runs rather than one cache line per value. */
	for (uint32_t r0 = 0; r0 < wk->h; r0 += STAGE) {
		uint32_t rn = wk->h - r0 < STAGE ? wk->h - r0 : STAGE;
		for (uint32_t i = 0; i < rn; i += 2) {
			uint32_t r = r0 + i;
			memset(row + 2 * (size_t)wk->w, 0, (nx - wk->w) * 2 * sizeof *row);
			const float *p0 = wk->px + (size_t)r * wk->w, *p1 = i + 1 < rn ? p0 + wk->w : NULL;
			if (p1) {
				for (uint32_t x = 0; x < wk->w; x++) {
					row[2 * x] = p0[x];
					row[2 * x + 1] = p1[x];
				}
			} else {
				for (uint32_t x = 0; x < wk->w; x++) {
					row[2 * x] = p0[x];
					row[2 * x + 1] = 0;
				}
			}
			aimark__fft_run(fx, row, 0);
			float *s0 = stage + (size_t)i * hx * 2, *s1 = s0 + hx * 2;
			for (size_t k = 0; k < kneed; k++) {
				size_t kc = k == 0 ? 0 : nx - k;
				float zr = row[2 * k], zi = row[2 * k + 1], cr = row[2 * kc], ci = -row[2 * kc + 1];
				s0[2 * k] = 0.5f * (zr + cr);
				s0[2 * k + 1] = 0.5f * (zi + ci);
				if (p1) {
					s1[2 * k] = 0.5f * (zi - ci);
					s1[2 * k + 1] = -0.5f * (zr - cr);
				}
			}
		}
		for (size_t k = 0; k < kneed; k++) {
			float *d = spec + (k * ny + r0) * 2;
			for (uint32_t i = 0; i < rn; i++) {
				d[2 * i] = stage[((size_t)i * hx + k) * 2];
				d[2 * i + 1] = stage[((size_t)i * hx + k) * 2 + 1];
			}
		}
	}
	for (size_t k = 0; k < kneed; k++) {
		float *col = spec + k * ny * 2;
		memset(col + 2 * (size_t)wk->h, 0, (ny - wk->h) * 2 * sizeof *col);
		aimark__fft_run(fy, col, 0);
	}
	/*
	 * Power, flattened by its local mean (9x9 bins), band-limited, JPEG grid notched. The power
	 * goes into each bin's real part and the running sums into its imaginary part, so that no
	 * second spectrum-sized buffer is needed.
	 */
	/* two bins per vector; the imaginary lanes get the sum too, and are overwritten by the box below */
	for (size_t i = 0; i < kneed * ny * 2; i += 4) {
		const v4f c = v4f_load(spec + i), p = c * c;
		v4f_store(spec + i, p + __builtin_shufflevector(p, p, 1, 0, 3, 2));
	}
	{
		/* box over r (cyclic) into the imaginary parts, then over k (mirrored at the ends); ny is a power of two.
		   Two columns at a time, one running sum per lane, so that the two dependency chains overlap. */
		const size_t my = ny - 1;
		size_t kp = 0;
		for (; kp + 2 <= kneed; kp += 2) {
			float *c0 = spec + kp * ny * 2, *c1 = c0 + ny * 2;
			v2d a = { 0, 0 };
			for (int j = -R; j <= R; j++) {
				const size_t idx = 2 * ((size_t)(j + (int)ny) & my);
				a += (v2d){ c0[idx], c1[idx] };
			}
			for (size_t r = 0; r < ny; r++) {
				const v2f af = __builtin_convertvector(a, v2f);
				c0[2 * r + 1] = af[0];
				c1[2 * r + 1] = af[1];
				const size_t ia = 2 * ((r + R + 1) & my), is = 2 * ((r + ny - R) & my);
				a += __builtin_convertvector((v2f){ c0[ia], c1[ia] } - (v2f){ c0[is], c1[is] }, v2d);
			}
		}
		for (; kp < kneed; kp++) {
			float *col = spec + kp * ny * 2;
			double a = 0;
			for (int j = -R; j <= R; j++)
				a += col[2 * ((size_t)(j + (int)ny) & my)];
			for (size_t r = 0; r < ny; r++) {
				col[2 * r + 1] = (float)a;
				a += col[2 * ((r + R + 1) & my)] - col[2 * ((r + ny - R) & my)];
			}
		}
		/* the k direction column by column, one running sum per r, so that memory is read in order */
		for (size_t r = 0; r < ny; r++)
			acc[r] = 0;
		for (int j = -R; j <= R; j++) {
			const float *col = spec + (size_t)(j < 0 ? -j : j) * ny * 2;
			for (size_t r = 0; r < ny; r++)
				acc[r] += col[2 * r + 1];
		}
		for (size_t k = 0; k < kcut; k++) {
			int add = (int)k + R + 1, sub = (int)k - R;
			if (add >= (int)hx)
				add = 2 * ((int)hx - 1) - add;
			if (sub < 0)
				sub = -sub;
			float *c = spec + k * ny * 2;
			const float *ca = spec + (size_t)add * ny * 2, *cs = spec + (size_t)sub * ny * 2;
			/* two bins per step (ny is even): the scalar operations lane by lane, divisions included */
			const double area = (2 * R + 1) * (2 * R + 1);
			for (size_t r = 0; r < ny; r += 2) {
				v2d a2;
				memcpy(&a2, acc + r, sizeof a2);
				const v2f mean = __builtin_convertvector(a2 / area, v2f);
				const v4f cv = v4f_load(c + 2 * r), av = v4f_load(ca + 2 * r), sv = v4f_load(cs + 2 * r);
				const v2f pw = __builtin_shufflevector(cv, cv, 0, 2) / (mean + 1e-20f);
				c[2 * r] = pw[0];
				c[2 * r + 2] = pw[1];
				a2 += __builtin_convertvector(__builtin_shufflevector(av, av, 1, 3) - __builtin_shufflevector(sv, sv, 1, 3), v2d);
				memcpy(acc + r, &a2, sizeof a2);
			}
		}
	}
	/* Band limit and notches, then back over r; notched columns are zero and need no transform. */
	{
		/* rho = sqrtf(q) against 0.008, 0.45 and 0.3 as comparisons of q, so that only the taper takes a root */
		const float q_lo = sqrt_le_bound(nextafterf(0.008f, 0)), q_hi = sqrt_le_bound(0.45f), q_taper = sqrt_le_bound(0.3f);
		for (size_t k = 0; k < kcut; k++) {
			float *c = spec + k * ny * 2;
			if (nxf[k]) {
				memset(c, 0, ny * 2 * sizeof *c);
				continue;
			}
			for (size_t r = 0; r < ny; r++) {
				const float q = fx2[k] + fy2[r];
				float wgt = q <= q_lo || q > q_hi ? 0 : q > q_taper ? (0.45f - sqrtf(q)) / 0.15f : 1;
				c[2 * r] = nyf[r] ? 0 : wgt * c[2 * r];
				c[2 * r + 1] = 0;
			}
			aimark__fft_run(fy, c, 1);
		}
	}
	/* Rows of the needed lags, two per complex inverse transform (Hermitian in k), gathered STAGE at a time. */
	int nrows = 2 * ly + 1;
	for (int i0 = 0; i0 < nrows; i0 += STAGE) {
		int in = nrows - i0 < STAGE ? nrows - i0 : STAGE;
		for (size_t k = 0; k < kcut; k++)
			for (int i = 0; i < in; i++) {
				size_t r = (size_t)(i0 + i - ly + (int)ny) & (ny - 1);
				const float *c = spec + (k * ny + r) * 2;
				stage[((size_t)i * hx + k) * 2] = c[0];
				stage[((size_t)i * hx + k) * 2 + 1] = c[1];
			}
		for (int i = 0; i < in; i++)
			memset(stage + ((size_t)i * hx + kcut) * 2, 0, (hx - kcut) * 2 * sizeof *stage);
		for (int i = 0; i < in; i += 2) {
			const float *ra = stage + (size_t)i * hx * 2, *rb = i + 1 < in ? ra + hx * 2 : ra;
			/* a + ib: [a.re - b.im, a.im + b.re], two bins per vector */
			const v4f pm = { -1, 1, -1, 1 };
			size_t k = 0;
			for (; k + 2 <= hx; k += 2) {
				const v4f av = v4f_load(ra + 2 * k), bv = v4f_load(rb + 2 * k);
				v4f_store(row + 2 * k, av + __builtin_shufflevector(bv, bv, 1, 0, 3, 2) * pm);
			}
			for (; k < hx; k++) {
				row[2 * k] = ra[2 * k] - rb[2 * k + 1];
				row[2 * k + 1] = ra[2 * k + 1] + rb[2 * k];
			}
			/* the mirrored half from the conjugates */
			for (; k < nx; k++) {
				const size_t kk = nx - k;
				const float ai = -ra[2 * kk + 1], bi = -rb[2 * kk + 1];
				row[2 * k] = ra[2 * kk] - bi;
				row[2 * k + 1] = ai + rb[2 * kk];
			}
			aimark__fft_run(fx, row, 1);
			float *z0 = acf->z + (size_t)(i0 + i) * (2 * lx + 1);
			for (int vx = -lx; vx <= lx; vx++) {
				const size_t kv = vx < 0 ? (size_t)(vx + (int)nx) : (size_t)vx;
				z0[vx + lx] = row[2 * kv];
				if (i + 1 < in)
					z0[(2 * lx + 1) + vx + lx] = row[2 * kv + 1];
			}
		}
	}
	/* z-scores over the lag region that can hold lattice points. */
	{
		double sum = 0, sum2 = 0;
		size_t n = 0;
		for (int vy = -ly; vy <= ly; vy++) {
			/* the excluded lags of this row are |vx| < e (the test grows with |vx|) */
			int e = 0;
			while (e <= lx && (e * e + vy * vy) * unit * unit < R_MIN * R_MIN * 0.5)
				e++;
			const float *zr = acf->z + (size_t)(vy + ly) * (2 * lx + 1) + lx;
			for (int vx = -lx; vx <= lx; vx++) {
				if (e > 0 && vx == 1 - e)
					vx = e; /* past the excluded -e+1 .. e-1 */
				if (vx > lx)
					break;
				double v = zr[vx];
				sum += v;
				sum2 += v * v;
				n++;
			}
		}
		double mean = n ? sum / n : 0, sd = n ? sqrt(fmax(sum2 / n - mean * mean, 1e-30)) : 1;
		size_t total = (size_t)(2 * ly + 1) * (2 * lx + 1), i = 0;
		const v2d mean2 = { mean, mean }, sd2 = { sd, sd };
		for (; i + 2 <= total; i += 2) {
			v2f zv;
			memcpy(&zv, acf->z + i, sizeof zv);
			zv = __builtin_convertvector((__builtin_convertvector(zv, v2d) - mean2) / sd2, v2f);
			memcpy(acf->z + i, &zv, sizeof zv);
		}
		for (; i < total; i++)
			acf->z[i] = (float)((acf->z[i] - mean) / sd);
	}
done:
	aimark__fft_free(fx);
	aimark__fft_free(fy);
	aimark__free(spec);
	aimark__free(stage);
	aimark__free(row);
	aimark__free(nxf);
	aimark__free(fx2);
	aimark__free(acc);
	if (rc < 0) {
		aimark__free(acf->z);
		acf->z = NULL;
	}
	return rc;
}

static inline float acf_at(const acf_map *acf, int vx, int vy)
{
	/* one unsigned comparison per axis: -l <= v <= l */
	if ((unsigned)(vx + acf->lx) > 2u * (unsigned)acf->lx || (unsigned)(vy + acf->ly) > 2u * (unsigned)acf->ly)
		return 0;
	return acf->z[(size_t)(vy + acf->ly) * (2 * acf->lx + 1) + (size_t)(vx + acf->lx)];
}

/* ---- 4. lattice ---- */

typedef struct peak {
	int x, y;
	float z;
} peak;

static int find_peaks(const acf_map *acf, peak *out, int max)
{
	int n = 0;
	const int lx = acf->lx;
	const size_t stride = (size_t)(2 * lx + 1);
	for (int vy = 0; vy <= acf->ly - 2; vy++) {
		/* every 5x5 neighbour below is inside the map: |vx| <= lx - 2, -2 <= vy - 2, vy + 2 <= ly */
		const float *zr = acf->z + (size_t)(vy + acf->ly) * stride + lx;
		for (int vx = -lx + 2; vx <= lx - 2; vx++) {
			float v = zr[vx];
			if (v < 3.0f)
				continue;
			if (vy == 0 && vx <= 0)
				continue;
			if (((double)vx * vx + (double)vy * vy) * acf->unit * acf->unit < R_MIN * R_MIN)
				continue;
			int ismax = 1;
			for (int dy = -2; dy <= 2 && ismax; dy++) {
				const float *zn = zr + (ptrdiff_t)dy * (ptrdiff_t)stride + vx;
				for (int dx = -2; dx <= 2; dx++)
					if ((dx || dy) && zn[dx] > v) {
						ismax = 0;
						break;
					}
			}
			if (!ismax)
				continue;
			/* keep the `max` strongest, sorted */
			int pos = n < max ? n : max;
			if (pos == max && v <= out[max - 1].z)
				continue;
			while (pos > 0 && out[pos - 1].z < v) {
				if (pos < max)
					out[pos] = out[pos - 1];
				pos--;
			}
			out[pos].x = vx;
			out[pos].y = vy;
			out[pos].z = v;
			if (n < max)
				n++;
		}
	}
	return n;
}

static double dot2(const double *a, const double *b) { return a[0] * b[0] + a[1] * b[1]; }

static void gauss_reduce(double *a, double *b)
{
	for (int it = 0; it < 16; it++) {
		if (dot2(b, b) < dot2(a, a)) {
			double t0 = a[0], t1 = a[1];
			a[0] = b[0];
			a[1] = b[1];
			b[0] = t0;
			b[1] = t1;
		}
		double mu = round(dot2(a, b) / dot2(a, a));
		if (mu == 0)
			break;
		b[0] -= mu * a[0];
		b[1] -= mu * a[1];
	}
}

static float acf_max3(const acf_map *acf, double x, double y)
{
	int cx = (int)lround(x), cy = (int)lround(y);
	float best = -1e30f;
	for (int dy = -1; dy <= 1; dy++)
		for (int dx = -1; dx <= 1; dx++) {
			float v = acf_at(acf, cx + dx, cy + dy);
			if (v > best)
				best = v;
		}
	return best;
}

static int in_lags(const acf_map *acf, double x, double y, int margin)
{
	return fabs(x) <= acf->lx - margin && fabs(y) <= acf->ly - margin;
}

static double lattice_score(const acf_map *acf, const double *a, const double *b)
{
	double sum = 0;
	int n = 0;
	for (int m = 0; m <= 4; m++)
		for (int k = -4; k <= 4; k++) {
			if (m == 0 && k <= 0)
				continue;
			double x = m * a[0] + k * b[0], y = m * a[1] + k * b[1];
			if (!in_lags(acf, x, y, 2))
				continue;
			sum += acf_max3(acf, x, y) - 1.5;
			n++;
		}
	return n >= 3 ? sum / sqrt((double)n) : -1e30;
}

static int valid_basis(const double *a, const double *b, double rmin, double rmax)
{
	double la = sqrt(dot2(a, a)), lb = sqrt(dot2(b, b));
	if (la < rmin || lb < rmin || la > rmax || lb > rmax)
		return 0;
	if (lb / la > 1.35 || la / lb > 1.35)
		return 0;
	double c = dot2(a, b) / (la * lb);
	return fabs(c) <= 0.35;
}

/* Least-squares fit of the basis to sub-pixel peak positions near the predicted lattice points. */
static void refine_lattice(const acf_map *acf, lattice *L)
{
	for (int it = 0; it < 2; it++) {
		double s_mm = 0, s_mk = 0, s_kk = 0, s_mx = 0, s_kx = 0, s_my = 0, s_ky = 0;
		int used = 0;
		for (int m = 0; m <= 6; m++)
			for (int k = -6; k <= 6; k++) {
				if (m == 0 && k <= 0)
					continue;
				double px = m * L->a[0] + k * L->b[0], py = m * L->a[1] + k * L->b[1];
				if (!in_lags(acf, px, py, 4))
					continue;
				int bx = (int)lround(px), by = (int)lround(py);
				float best = -1e30f;
				int qx = bx, qy = by;
				for (int dy = -2; dy <= 2; dy++)
					for (int dx = -2; dx <= 2; dx++) {
						float v = acf_at(acf, bx + dx, by + dy);
						if (v > best) {
							best = v;
							qx = bx + dx;
							qy = by + dy;
						}
					}
				if (best < 3.5f)
					continue;
				double c = best, l = acf_at(acf, qx - 1, qy), r = acf_at(acf, qx + 1, qy);
				double u = acf_at(acf, qx, qy - 1), d = acf_at(acf, qx, qy + 1);
				double ox = (l - r) / (2 * (l - 2 * c + r) - 1e-9), oy = (u - d) / (2 * (u - 2 * c + d) - 1e-9);
				if (fabs(ox) > 0.6)
					ox = 0;
				if (fabs(oy) > 0.6)
					oy = 0;
				double x = qx + ox, y = qy + oy, w = best;
				s_mm += w * m * m;
				s_mk += w * m * k;
				s_kk += w * k * k;
				s_mx += w * m * x;
				s_kx += w * k * x;
				s_my += w * m * y;
				s_ky += w * k * y;
				used++;
			}
		double det = s_mm * s_kk - s_mk * s_mk;
		if (used < 3 || fabs(det) < 1e-9)
			return;
		L->a[0] = (s_kk * s_mx - s_mk * s_kx) / det;
		L->b[0] = (s_mm * s_kx - s_mk * s_mx) / det;
		L->a[1] = (s_kk * s_my - s_mk * s_ky) / det;
		L->b[1] = (s_mm * s_ky - s_mk * s_my) / det;
	}
}

static int same_lattice(const lattice *p, const lattice *q)
{
	/* Equal when each basis vector of q is (+/-) a basis vector of p, within 3 pixels. */
	const double *pv[2] = { p->a, p->b }, *qv[2] = { q->a, q->b };
	for (int i = 0; i < 2; i++) {
		int found = 0;
		for (int j = 0; j < 2 && !found; j++)
			for (int s = -1; s <= 1; s += 2)
				if (fabs(qv[i][0] - s * pv[j][0]) < 3 && fabs(qv[i][1] - s * pv[j][1]) < 3)
					found = 1;
		if (!found)
			return 0;
	}
	return 1;
}

static int find_lattices(const acf_map *acf, lattice *out, int max)
{
	peak pk[MAX_PEAKS];
	int np = find_peaks(acf, pk, MAX_PEAKS);
	/* Basis vectors come from peaks inside the lag window; a period may fill most of a short side. */
	double rmax = fmax(acf->lx, acf->ly);
	if (rmax > 320 / acf->unit)
		rmax = 320 / acf->unit;
	const double rmin = R_MIN / acf->unit;
	int n = 0;
	for (int i = 0; i < np; i++)
		for (int j = i + 1; j < np; j++)
			for (int s = -1; s <= 1; s += 2) {
				lattice L;
				L.a[0] = pk[i].x;
				L.a[1] = pk[i].y;
				L.b[0] = s * pk[j].x;
				L.b[1] = s * pk[j].y;
				if (fabs(L.a[0] * L.b[1] - L.a[1] * L.b[0]) < rmin * rmin * 0.5)
					continue;
				gauss_reduce(L.a, L.b);
				if (!valid_basis(L.a, L.b, rmin, rmax))
					continue;
				L.score = lattice_score(acf, L.a, L.b);
				int dup = 0;
				for (int q = 0; q < n; q++)
					if (same_lattice(&out[q], &L)) {
						if (L.score > out[q].score)
							out[q] = L;
						dup = 1;
						break;
					}
				if (dup)
					continue;
				if (n < max) {
					out[n++] = L;
				} else {
					int worst = 0;
					for (int q = 1; q < n; q++)
						if (out[q].score < out[worst].score)
							worst = q;
					if (L.score > out[worst].score)
						out[worst] = L;
				}
			}
	/* best first */
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			if (out[j].score > out[i].score) {
				lattice t = out[i];
				out[i] = out[j];
				out[j] = t;
			}
	for (int i = 0; i < n; i++) {
		refine_lattice(acf, &out[i]);
		for (int c = 0; c < 2; c++) {
			out[i].a[c] *= acf->unit;
			out[i].b[c] *= acf->unit;
		}
	}
	return n;
}

/* ---- 5. folding and synchronisation ---- */

/*
 * Folds the working image into QT x QT bins of tile coordinates; returns the normalised tile.
 * acc: 2 x QT*QT scratch (each bin's sum and count side by side, one cache line per pixel).
 */
static void fold(const work *wk, const lattice *L, float *tile, float *acc)
{
	const double T = AIMARK__WM_TILE;
	double det = L->a[0] * L->b[1] - L->a[1] * L->b[0];
	/* tile coords (chips) = T * inverse([a b]) * x */
	double m00 = T * L->b[1] / det, m01 = -T * L->b[0] / det;
	double m10 = -T * L->a[1] / det, m11 = T * L->a[0] / det;
	memset(acc, 0, 2 * QT * QT * sizeof *acc);
	const double period = QT;
	/* Origin at the centre: a small error in the basis drifts half as far at the edges. */
	const double cx = wk->w / 2.0, cy = wk->h / 2.0;
	/*
	 * Bin coordinates in 32-bit fixed point, FOLD_FRAC fractional bits: the top bits are the bin, and
	 * the wrap at one period is the integer's own. The step's rounding drifts by at most w * 2^-(FOLD_FRAC+1)
	 * of a bin along a row (about 1e-5).
	 */
	const double one = (double)(1u << FOLD_FRAC);
	const uint32_t dx = (uint32_t)(int32_t)lround(m00 * QF * one), dy = (uint32_t)(int32_t)lround(m10 * QF * one);
	for (uint32_t y = 0; y < wk->h; y++) {
		const float *row = wk->px + (size_t)y * wk->w;
		double tx = (m00 * -cx + m01 * (y - cy)) * QF, ty = (m10 * -cx + m11 * (y - cy)) * QF;
		double fx = tx - period * floor(tx / period), fy = ty - period * floor(ty / period);
		/* fx can round up to exactly one period: the conversion wraps it to 0, as the period does */
		uint32_t ux = (uint32_t)(uint64_t)llround(fx * one), uy = (uint32_t)(uint64_t)llround(fy * one);
		for (uint32_t x = 0; x < wk->w; x++, ux += dx, uy += dy) {
			float *b = acc + 2 * ((uy >> FOLD_FRAC) * QT + (ux >> FOLD_FRAC));
			b[0] += row[x];
			b[1] += 1;
		}
	}
	double sum = 0, sum2 = 0;
	int n = 0;
	for (int i = 0; i < QT * QT; i++) {
		tile[i] = acc[2 * i];
		if (acc[2 * i + 1] > 0) {
			tile[i] /= sqrtf(acc[2 * i + 1]); /* each bin as a unit-variance statistic */
			sum += tile[i];
			sum2 += (double)tile[i] * tile[i];
			n++;
		}
	}
	double mean = n ? sum / n : 0, sd = n ? sqrt(fmax(sum2 / n - mean * mean, 1e-12)) : 1;
	for (int i = 0; i < QT * QT; i++)
		tile[i] = acc[2 * i + 1] > 0 ? (float)((tile[i] - mean) / sd) : 0;
}

/*
 * The 8 symmetries of the square on bin coordinates (bin b's centre is at b + 0.5, so M - x
 * mirrors exactly): the inverse of g = rotation by (g & 3) quarter turns, then a mirror if g & 4.
 */
static void orient_inv(int g, double x, double y, double *ox, double *oy)
{
	const double M = QT - 1;
	if (g & 4)
		x = M - x;
	switch (g & 3) {
	case 0: *ox = x; *oy = y; break;
	case 1: *ox = y; *oy = M - x; break;
	case 2: *ox = M - x; *oy = M - y; break;
	case 3: *ox = M - y; *oy = x; break;
	}
}

/* The key's sync pattern sampled at bin centres. */
static void sync_template(const aimark_wm_key *key, float *tpl)
{
	const int T = AIMARK__WM_TILE;
	for (int by = 0; by < QT; by++)
		for (int bx = 0; bx < QT; bx++) {
			double cx = (bx + 0.5) / QF, cy = (by + 0.5) / QF;
			int x0 = (int)floor(cx), y0 = (int)floor(cy);
			double fx = cx - x0, fy = cy - y0;
			double v = 0;
			for (int j = 0; j < 2; j++)
				for (int i = 0; i < 2; i++) {
					int c = ((y0 + j) % T) * T + (x0 + i) % T;
					if (key->image.bit[c] >= 0)
						continue;
					v += (i ? fx : 1 - fx) * (j ? fy : 1 - fy) * key->image.sign[c];
				}
			tpl[by * QT + bx] = (float)v;
		}
}

typedef struct sync_hit {
	int g;
	double kx, ky;   /* shift in bins (sub-bin) */
	double z;
	float raw;       /* the correlation value at the peak (z before normalisation) */
} sync_hit;

static float tile_at(const float *t, int x, int y)
{
	return t[(y & (QT - 1)) * QT + (x & (QT - 1))]; /* QT is a power of two */
}

/*
 * Orientation spectra of the folded tile (key-independent): for each square
 * symmetry g, G_g(z) = F(g^-1(z)), transformed. g^-1 is z -> A z + c with A a
 * signed permutation and c made of 0 and QT - 1 = -1 (mod QT), so one
 * transform of F gives all eight: G_g(k) = F(A k) exp(2 pi i (A k).c / QT).
 * spec: 8 x QT*QT complex; buf: 2 x QT*QT complex scratch.
 */
static void orientation_spectra(aimark__fft2d *ft, const float *F, float *spec, float *buf)
{
	const int N = QT * QT;
	for (int i = 0; i < N; i++) {
		buf[2 * i] = F[i];
		buf[2 * i + 1] = 0;
	}
	aimark__fft2d_run(ft, buf, 0);
	/* the transposed spectrum, so that every orientation reads its source along rows */
	float *bufT = buf + (size_t)N * 2;
	for (int y = 0; y < QT; y++)
		for (int x = 0; x < QT; x++) {
			bufT[2 * (x * QT + y)] = buf[2 * (y * QT + x)];
			bufT[2 * (x * QT + y) + 1] = buf[2 * (y * QT + x) + 1];
		}
	float ph[2 * QT]; /* exp(2 pi i p / QT) */
	for (int p = 0; p < QT; p++) {
		ph[2 * p] = (float)cos(2 * M_PI * p / QT);
		ph[2 * p + 1] = (float)sin(2 * M_PI * p / QT);
	}
	for (int g = 0; g < 8; g++) {
		double c0x, c0y, ex, ey, fx, fy;
		orient_inv(g, 0, 0, &c0x, &c0y);
		orient_inv(g, 1, 0, &ex, &ey);
		orient_inv(g, 0, 1, &fx, &fy);
		const int axx = (int)(ex - c0x), ayx = (int)(ey - c0y), axy = (int)(fx - c0x), ayy = (int)(fy - c0y);
		const int cx = c0x > 0 ? -1 : 0, cy = c0y > 0 ? -1 : 0; /* QT - 1 = -1 mod QT */
		float *G = spec + (size_t)g * N * 2;
		/*
		 * A is a signed permutation: along an output row (kx varying) the source runs along a row
		 * of F (axx != 0) or along a column, read as a row of the transpose. j is the varying
		 * source coordinate, u0 the fixed one; QT is a power of two, so & (QT - 1) is the
		 * non-negative remainder.
		 */
		const int along_x = axx != 0, sj = along_x ? axx : ayx, cj = along_x ? cx : cy, c0 = along_x ? cy : cx;
		for (int ky = 0; ky < QT; ky++) {
			const int u0 = (along_x ? ayy * ky : axy * ky) & (QT - 1);
			const float *src = (along_x ? buf : bufT) + 2 * (size_t)u0 * QT;
			const int pc = u0 * c0;
			float *o = G + 2 * (size_t)ky * QT;
			for (int kx = 0; kx < QT; kx++) {
				const int j = (sj * kx) & (QT - 1);
				const int p = (j * cj + pc) & (QT - 1);
				const float *sv = src + 2 * j;
				o[2 * kx] = sv[0] * ph[2 * p] - sv[1] * ph[2 * p + 1];
				o[2 * kx + 1] = sv[0] * ph[2 * p + 1] + sv[1] * ph[2 * p];
			}
		}
	}
}

/*
 * Per key: c_g(k) = sum_z G_g(z + k) S(z), the correlation of each orientation
 * of the folded tile with the key's sync pattern S; two orientations per
 * inverse FFT (the correlations are real). Returns the SYNC_PEAKS strongest
 * local maxima (sub-bin by parabolic interpolation) as z-scores over all
 * 8 x QT^2 hypotheses. At a hit, tile position g^-1(z + k) holds pattern
 * position z.
 */
/* The spectrum of the key's sync pattern (QT*QT complex, into S); tpl is QT*QT scratch. */
static void template_spectrum(aimark__fft2d *ft, const aimark_wm_key *key, float *tpl, float *S)
{
	const int N = QT * QT;
	sync_template(key, tpl);
	for (int i = 0; i < N; i++) {
		S[2 * i] = tpl[i];
		S[2 * i + 1] = 0;
	}
	aimark__fft2d_run(ft, S, 0);
}

/* S: the key's template spectrum (template_spectrum); buf: QT*QT complex scratch; corr: 8 x QT*QT. */
static int synchronise(aimark__fft2d *ft, const float *Gspec, const float *S, float *buf, float *corr, sync_hit *hits, int *nhits)
{
	const int N = QT * QT;
	double sum = 0, sum2 = 0;
	size_t cnt = 0;
	for (int g = 0; g < 8; g += 2) {
		const float *a = Gspec + (size_t)g * N * 2, *b = a + (size_t)N * 2;
		/*
		 * P = a conj(S), Q = b conj(S), buf = P + iQ, two bins per vector: each lane forms the
		 * scalar products (a.re S.re + a.im S.im, a.im S.re - a.re S.im, ...) exactly.
		 */
		const v4f pm = { -1, 1, -1, 1 }, mp = { 1, -1, 1, -1 };
		for (int i = 0; i < N; i += 2) {
			const v4f sv = v4f_load(S + 2 * i), av = v4f_load(a + 2 * i), bv = v4f_load(b + 2 * i);
			const v4f sre = __builtin_shufflevector(sv, sv, 0, 0, 2, 2), sim = __builtin_shufflevector(sv, sv, 1, 1, 3, 3) * mp;
			const v4f P = av * sre + __builtin_shufflevector(av, av, 1, 0, 3, 2) * sim;
			const v4f Q = bv * sre + __builtin_shufflevector(bv, bv, 1, 0, 3, 2) * sim;
			v4f_store(buf + 2 * i, P + __builtin_shufflevector(Q, Q, 1, 0, 3, 2) * pm);
		}
		aimark__fft2d_run(ft, buf, 1);
		float *c0 = corr + (size_t)g * N, *c1 = c0 + N;
		for (int i = 0; i < N; i++) {
			c0[i] = buf[2 * i];
			c1[i] = buf[2 * i + 1];
			sum += (double)c0[i] + c1[i];
			sum2 += (double)c0[i] * c0[i] + (double)c1[i] * c1[i];
		}
		cnt += 2 * (size_t)N;
	}
	double mean = sum / cnt, sd = sqrt(fmax(sum2 / cnt - mean * mean, 1e-30));
	sync_hit best[SYNC_PEAKS];
	int nb = 0;
	/* z is non-decreasing in the raw value: a value not above the current last one's cannot enter */
	float last_raw = 0;
	for (int g = 0; g < 8; g++) {
		const float *cg = corr + (size_t)g * N;
		for (int i = 0; i < N; i++) {
			if (nb == SYNC_PEAKS && (i & 3) == 0) {
				/* four at a time while none of them can enter (N is a multiple of 4) */
				const v4i up = v4f_load(cg + i) > last_raw;
				if ((up[0] | up[1] | up[2] | up[3]) == 0) {
					i += 3;
					continue;
				}
			}
			if (nb == SYNC_PEAKS && cg[i] <= last_raw)
				continue;
			double z = (cg[i] - mean) / sd;
			if (nb == SYNC_PEAKS && z <= best[nb - 1].z)
				continue;
			int x = i % QT, y = i / QT;
			int ismax = 1;
			for (int dy = -1; dy <= 1 && ismax; dy++)
				for (int dx = -1; dx <= 1; dx++)
					if ((dx || dy) && tile_at(cg, x + dx, y + dy) > cg[i]) {
						ismax = 0;
						break;
					}
			if (!ismax)
				continue;
			sync_hit h = { g, x, y, z, cg[i] };
			float c = cg[i], l = tile_at(cg, x - 1, y), r = tile_at(cg, x + 1, y), u = tile_at(cg, x, y - 1), d = tile_at(cg, x, y + 1);
			double ox = (l - r) / (2.0 * (l - 2 * c + r) - 1e-12), oy = (u - d) / (2.0 * (u - 2 * c + d) - 1e-12);
			if (fabs(ox) < 0.75)
				h.kx += ox;
			if (fabs(oy) < 0.75)
				h.ky += oy;
			int pos = nb < SYNC_PEAKS ? nb : SYNC_PEAKS;
			while (pos > 0 && best[pos - 1].z < z) {
				if (pos < SYNC_PEAKS)
					best[pos] = best[pos - 1];
				pos--;
			}
			best[pos] = h;
			if (nb < SYNC_PEAKS)
				nb++;
			if (nb == SYNC_PEAKS)
				last_raw = best[nb - 1].raw;
		}
	}
	memcpy(hits, best, (size_t)nb * sizeof *hits);
	*nhits = nb;
	return 0;
}

/* ---- 6. payload ---- */

static float sample_chip(const float *F, double px, double py)
{
	/* matched filter: bilinear chip kernel (radius one chip = QF bins) around (px, py) */
	double acc = 0;
	int x0 = (int)floor(px) - QF + 1, y0 = (int)floor(py) - QF + 1;
	double wx[2 * QF];
	for (int i = 0; i < 2 * QF; i++)
		wx[i] = 1 - fabs(x0 + i - px) / QF;
	for (int y = y0; y < y0 + 2 * QF; y++) {
		double wy = 1 - fabs(y - py) / QF;
		if (wy <= 0)
			continue;
		const float *row = F + (y & (QT - 1)) * QT;
		for (int i = 0; i < 2 * QF; i++) {
			if (wx[i] <= 0)
				continue;
			acc += wx[i] * wy * row[(x0 + i) & (QT - 1)];
		}
	}
	return (float)acc;
}

static int decode_hit(const float *F, const aimark_wm_key *key, const sync_hit *h, unsigned char payload[8], int *auth,
		      int *bit_errors, int *prefix, int *decodes)
{
	float soft[AIMARK__WM_CODED_BITS];
	memset(soft, 0, sizeof soft);
	const int T = AIMARK__WM_TILE;
	for (int c = 0; c < AIMARK__WM_TILE_CHIPS; c++) {
		int b = key->image.bit[c];
		if (b < 0)
			continue;
		/* chip centre in bin coordinates (bin b covers chips [b, b+1) / QF), shifted, through the orientation */
		double bx = (c % T) * QF - 0.5, by = (c / T) * QF - 0.5;
		double yx, yy;
		orient_inv(h->g, bx + h->kx, by + h->ky, &yx, &yy);
		float v = sample_chip(F, yx, yy);
		soft[b] += key->image.sign[c] * v;
	}
	RETURN_IF_ERR(aimark__wm_decode_chase(key, soft, CHASE_FLIPS, payload, auth, bit_errors, decodes));
	if (prefix) {
		unsigned char info[AIMARK__WM_INFO_BITS];
		aimark__wm_viterbi(soft, info);
		*prefix = aimark__wm_tag_prefix_match(key, info);
	}
	return 0;
}

/* ---- driver ---- */

static double normal_tail(double z)
{
	return 0.5 * erfc(z / sqrt(2.0));
}

static void sync_buffers_free(aimark__fft2d *ft, float **tile, float **count, float **Gspec, float **buf, float **corr, float **tpl,
			      float **scache)
{
	aimark__fft2d_dispose(ft);
	float **all[7] = { tile, count, Gspec, buf, corr, tpl, scache };
	for (int i = 0; i < 7; i++) {
		aimark__free(*all[i]);
		*all[i] = NULL;
	}
}

int aimark__wm_image_detect_ex(const aimark__image *img, const aimark_wm_key *const *keys, size_t n_keys,
			       aimark_wm_result *res, aimark__wm_detect_stats *stats)
{
	RETURN_IF(res == NULL, AIMARK_EINVAL, "watermark: no result");
	memset(res, 0, sizeof *res);
	res->key_index = -1;
	res->bit_errors = -1;
	res->false_alarm_probability = 1.0;
	aimark__wm_detect_stats st;
	memset(&st, 0, sizeof st);
	st.decode_every_peak = stats ? stats->decode_every_peak : 0;
	RETURN_IF(img == NULL || img->pixels == NULL || (keys == NULL && n_keys > 0), AIMARK_EINVAL, "watermark: bad argument");
	RETURN_IF(img->channels < 1 || img->channels > 4 || (img->bit_depth != 8 && img->bit_depth != 16), AIMARK_EUNSUPPORTED,
		  "watermark: %u channels at %u bits unsupported", img->channels, img->bit_depth);
	RETURN_IF(img->stride < (size_t)img->width * img->channels * (img->bit_depth / 8), AIMARK_EINVAL, "watermark: bad stride");
	for (size_t i = 0; i < n_keys; i++)
		RETURN_IF(keys[i] == NULL, AIMARK_EINVAL, "watermark: key %zu is NULL", i);
	if (stats)
		*stats = st;
	if (n_keys == 0 || img->width < AIMARK__WM_MIN_SIDE || img->height < AIMARK__WM_MIN_SIDE)
		return 0;

	/* part: what a lattice search runs on when it is not the working image (its 2x2 averages, its centre) */
	work wk = { 0, 0, NULL, 1 }, part = { 0, 0, NULL, 1 };
	aimark__fft2d ft;
	memset(&ft, 0, sizeof ft);
	acf_map acf = { 0, 0, 1.0, NULL };
	/* The folding and synchronisation buffers (2 MB) are allocated only once a lattice search is done, and
	   freed before the next one, so that they never add to the autocorrelation's spectrum in the peak. */
	float *tile = NULL, *count = NULL, *Gspec = NULL, *buf = NULL, *corr = NULL, *tpl = NULL;
	/* The first keys' template spectra, kept from one lattice to the next (they do not depend on it). */
	float *scache = NULL;
	int sready[SPEC_CACHE];
	const size_t ncache = n_keys < SPEC_CACHE ? n_keys : SPEC_CACHE;
	int rc = make_work(img, &wk);
	if (rc == 0)
		rc = whiten(&wk);
	if (rc < 0)
		goto done;
	/*
	 * Pass 0 looks for the lattice on the whitened image averaged over 2x2 pixels (a quarter of
	 * the FFT work: the tile's lattice lives in its low harmonics, which survive). When that finds
	 * no synchronisation at all, pass 1 looks again at full working resolution, which matters when
	 * the chips became small (an image pasted into a larger canvas): only for short periods
	 * (WINDOW_FALLBACK), and only into strong lattices. Small images go straight to full resolution,
	 * with the full window. The hypothesis counts below are those of two full passes, an upper bound.
	 */
	const double sync_hyp = (double)PASSES * MAX_LATTICES * 8 * QT * QT * (double)n_keys;
	const double decode_hyp = (double)PASSES * MAX_LATTICES * SYNC_PEAKS * (1 << CHASE_FLIPS) * (double)n_keys;
	double best_z = 0;
	int best_key = -1;
	unsigned char best_payload[8] = { 0 };
	int best_errors = -1;
	lattice tried[PASSES * MAX_LATTICES];
	int ntried = 0;
	const int decimated = (double)wk.w * wk.h >= WORK_AREA / 2;
	for (int pass = decimated ? 0 : 1; pass < PASSES && !res->authenticated; pass++) {
		if (pass == 1 && decimated && best_z >= FALLBACK_Z)
			break; /* pass 0 synchronised: the payload is what failed, another lattice search will not help */
		aimark__free(acf.z);
		acf.z = NULL;
		sync_buffers_free(&ft, &tile, &count, &Gspec, &buf, &corr, &tpl, &scache);
		if (pass == 0) {
			rc = decimate(&wk, &part);
			if (rc == 0)
				rc = autocorrelation(&part, 2.0, WINDOW_FULL, &acf);
			aimark__free(part.px);
			part.px = NULL;
		} else if (decimated) {
			rc = crop_centre(&wk, FALLBACK_SIDE, &part);
			if (rc == 0)
				rc = autocorrelation(&part, 1.0, WINDOW_FALLBACK, &acf);
			aimark__free(part.px);
			part.px = NULL;
		} else {
			rc = autocorrelation(&wk, 1.0, WINDOW_FULL, &acf);
		}
		if (rc < 0)
			goto done;
		lattice lat[MAX_LATTICES];
		int nl = find_lattices(&acf, lat, MAX_LATTICES);
		st.searches++;
		/* In the fallback search a lattice of noise is the rule: only a strong one is worth a fold
		   (the lattices come best first). */
		if (pass == 1 && decimated)
			while (nl > 0 && lat[nl - 1].score < FALLBACK_SCORE)
				nl--;
		st.lattices += nl;
		if (nl > 0 && tile == NULL) {
			tile = aimark__malloc(QT * QT * sizeof *tile);
			count = aimark__malloc(2 * QT * QT * sizeof *count);
			Gspec = aimark__malloc((size_t)QT * QT * 2 * 8 * sizeof *Gspec);
			buf = aimark__malloc((size_t)QT * QT * 4 * sizeof *buf);
			corr = aimark__malloc((size_t)QT * QT * 8 * sizeof *corr);
			tpl = aimark__malloc(QT * QT * sizeof *tpl);
			scache = aimark__malloc(ncache * QT * QT * 2 * sizeof *scache);
			memset(sready, 0, sizeof sready);
			if (!tile || !count || !Gspec || !buf || !corr || !tpl || !scache) {
				rc = aimark__error_set(AIMARK_ENOMEM, "out of memory");
				goto done;
			}
			rc = aimark__fft2d_init(&ft, QT, QT);
			if (rc < 0)
				goto done;
		}
		for (int li = 0; li < nl && !res->authenticated; li++) {
			int seen = 0;
			for (int t = 0; t < ntried && !seen; t++)
				seen = same_lattice(&tried[t], &lat[li]);
			if (seen)
				continue;
			tried[ntried++] = lat[li];
			fold(&wk, &lat[li], tile, count);
			orientation_spectra(&ft, tile, Gspec, buf);
			for (size_t k = 0; k < n_keys && !res->authenticated; k++) {
				sync_hit hits[SYNC_PEAKS];
				int nh = 0;
				float *S = k < ncache ? scache + k * QT * QT * 2 : buf + QT * QT * 2;
				if (k >= ncache || !sready[k])
					template_spectrum(&ft, keys[k], tpl, S);
				if (k < ncache)
					sready[k] = 1;
				rc = synchronise(&ft, Gspec, S, buf, corr, hits, &nh);
				if (rc < 0)
					goto done;
				for (int h = 0; h < nh; h++) {
					if (hits[h].z < DECODE_Z && !st.decode_every_peak) {
						/* far below what any decodable mark gives: only the score is kept */
						if (hits[h].z > best_z)
							best_z = hits[h].z;
						continue;
					}
					unsigned char payload[8];
					int auth = 0, errors = 0, prefix = 0, decodes = 0;
					rc = decode_hit(tile, keys[k], &hits[h], payload, &auth, &errors, stats ? &prefix : NULL, &decodes);
					if (rc < 0)
						goto done;
					st.attempts += decodes;
					if (prefix > st.best_tag_prefix)
						st.best_tag_prefix = prefix;
					if (hits[h].z > best_z || auth) {
						best_z = hits[h].z;
						best_key = (int)k;
						memcpy(best_payload, payload, 8);
						best_errors = errors;
					}
					if (auth) {
						res->authenticated = 1;
						break;
					}
				}
			}
		}
	}
	st.best_sync_z = best_z;
	res->score = best_z;
	if (res->authenticated) {
		/* Any decode of an unmarked image passes the 48-bit tag with probability 2^-48. */
		res->false_alarm_probability = decode_hyp * ldexp(1.0, -AIMARK__WM_TAG_BITS);
	} else {
		double p = sync_hyp * normal_tail(best_z);
		res->false_alarm_probability = p > 1 ? 1 : p;
	}
	if (best_key >= 0 && (res->authenticated || res->false_alarm_probability <= AIMARK__WM_MAX_FALSE_ALARM)) {
		res->detected = 1;
		res->key_index = best_key;
		memcpy(res->payload, best_payload, 8);
		res->bit_errors = best_errors;
	}
done:
	if (stats)
		*stats = st;
	sync_buffers_free(&ft, &tile, &count, &Gspec, &buf, &corr, &tpl, &scache);
	aimark__free(wk.px);
	aimark__free(part.px);
	aimark__free(acf.z);
	return rc;
}

int aimark__wm_image_detect(const aimark__image *img, const aimark_wm_key *const *keys, size_t n_keys, aimark_wm_result *res)
{
	return aimark__wm_image_detect_ex(img, keys, n_keys, res, NULL);
}

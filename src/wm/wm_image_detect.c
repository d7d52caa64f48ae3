/*
 * Image detector.
 *  1. Luminance, area-downsampled to a working image of about 2^18 pixels.
 *  2. Whitening (minus the 5x5 mean) and local contrast normalisation, so
 *     that the host image counts as unit noise everywhere.
 *  3. Autocorrelation through the FFT (first on 2x2 averages, then if needed
 *     at full working resolution), with the power spectrum flattened
 *     and the JPEG 8x8 grid frequencies notched: the tile repetition shows
 *     as a lattice of peaks whatever scale, aspect, rotation or flip the
 *     image went through.
 *  4. The lattice's basis (two shortest vectors) gives the affine map to
 *     tile coordinates; the image is folded into one tile.
 *  5. Per key: cyclic correlation of the 8 square orientations of the folded
 *     tile with the key's sync pattern gives the translation and orientation.
 *  6. Matched-filter chip values -> soft coded bits -> Viterbi -> tag check.
 * The lattice and the folded tile do not depend on the key, so many keys cost
 * little more than one.
 */
#include <math.h>
#include <string.h>

#include "core/internal.h"
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
#define STAGE 16             /* rows staged between row and column transforms (even) */
#define WHITEN_R 2           /* whitening subtracts the (2R+1)^2 local mean */

_Static_assert((QT & (QT - 1)) == 0, "the folded tile side must be a power of two");

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
	wk->px = aimark__calloc((size_t)w * h, sizeof *wk->px);
	float *lum = aimark__malloc((size_t)img->width * sizeof *lum);
	float *hrow = aimark__malloc(((size_t)w + 1) * sizeof *hrow);
	int32_t *xo = aimark__malloc((size_t)img->width * sizeof *xo);
	float *xw = aimark__malloc((size_t)img->width * sizeof *xw);
	if (!wk->px || !lum || !hrow || !xo || !xw) {
		aimark__free(lum);
		aimark__free(hrow);
		aimark__free(xo);
		aimark__free(xw);
		return aimark__error_set(AIMARK_ENOMEM, "out of memory");
	}
	/* Each input pixel [x, x+1) falls into output cell floor(x/d), possibly straddling into the next. */
	const uint32_t stp = d >= 3 ? 2 : 1;
	for (uint32_t x = 0; x < img->width; x++) {
		double c = x / d;
		uint32_t j = (uint32_t)c;
		double edge = (j + 1) * d;
		xo[x] = (int32_t)j;
		xw[x] = (float)(edge >= x + stp ? 1.0 : (edge - x) / stp);
	}
	const uint32_t ch = img->channels;
	const int colour = ch >= 3;
	const float norm = (float)(1.0 / (d * d));
	/* Cells of 3 or more pixels: every other row and column is enough (the sum is rescaled). */
	const uint32_t step = d >= 3 ? 2 : 1;
	const float norm_s = norm * (float)(step * step);
	for (uint32_t y = 0; y < img->height; y += step) {
		double c = y / d;
		uint32_t j = (uint32_t)c;
		if (j >= h)
			break;
		double edge = (j + 1) * d;
		float wy = (float)(edge >= y + step ? 1.0 : (edge - y) / step);
		const unsigned char *row = img->pixels + (size_t)y * img->stride;
		if (img->bit_depth == 8) {
			for (uint32_t x = 0; x < img->width; x += step) {
				const unsigned char *p = row + (size_t)x * ch;
				lum[x] = colour ? (float)(77 * p[0] + 150 * p[1] + 29 * p[2]) * (1.0f / 256.0f) : (float)p[0];
			}
		} else {
			const uint16_t *r16 = (const uint16_t *)(const void *)row;
			for (uint32_t x = 0; x < img->width; x += step) {
				const uint16_t *p = r16 + (size_t)x * ch;
				float v = colour ? (float)(77 * (uint32_t)p[0] + 150 * (uint32_t)p[1] + 29 * (uint32_t)p[2]) * (1.0f / 256.0f)
						 : (float)p[0];
				lum[x] = v * (1.0f / 257.0f);
			}
		}
		memset(hrow, 0, ((size_t)w + 1) * sizeof *hrow);
		for (uint32_t x = 0; x < img->width; x += step) {
			int32_t o = xo[x];
			if (o >= (int32_t)w)
				break;
			hrow[o] += xw[x] * lum[x];
			hrow[o + 1] += (1 - xw[x]) * lum[x];
		}
		float *out = wk->px + (size_t)j * w;
		for (uint32_t x = 0; x < w; x++)
			out[x] += wy * norm_s * hrow[x];
		if (wy < 1 && j + 1 < h) {
			out += w;
			for (uint32_t x = 0; x < w; x++)
				out[x] += (1 - wy) * norm_s * hrow[x];
		}
	}
	aimark__free(lum);
	aimark__free(hrow);
	aimark__free(xo);
	aimark__free(xw);
	return 0;
}

/* ---- 2. whitening and local normalisation ---- */

/* Separable box sum of radius r with clamped borders, src -> dst (may not alias). */
static void box_filter(const float *src, float *dst, float *tmp, uint32_t w, uint32_t h, int r)
{
	for (uint32_t y = 0; y < h; y++) {
		const float *s = src + (size_t)y * w;
		float *t = tmp + (size_t)y * w;
		double acc = 0;
		for (int k = -r; k <= r; k++)
			acc += s[k < 0 ? 0 : (k >= (int)w ? w - 1 : (uint32_t)k)];
		for (uint32_t x = 0; x < w; x++) {
			t[x] = (float)acc;
			int add = (int)x + r + 1, sub = (int)x - r;
			acc += s[add >= (int)w ? w - 1 : (uint32_t)add] - s[sub < 0 ? 0 : (uint32_t)sub];
		}
	}
	/* vertical pass row by row (a running sum per column), so that memory is read in order */
	for (uint32_t x = 0; x < w; x++)
		dst[x] = 0;
	for (int k = -r; k <= r; k++) {
		const float *t = tmp + (size_t)(k < 0 ? 0 : (k >= (int)h ? h - 1 : (uint32_t)k)) * w;
		for (uint32_t x = 0; x < w; x++)
			dst[x] += t[x];
	}
	for (uint32_t y = 1; y < h; y++) {
		int add = (int)y + r, sub = (int)y - r - 1;
		const float *ta = tmp + (size_t)(add >= (int)h ? h - 1 : (uint32_t)add) * w;
		const float *ts = tmp + (size_t)(sub < 0 ? 0 : (uint32_t)sub) * w;
		const float *prev = dst + (size_t)(y - 1) * w;
		float *d = dst + (size_t)y * w;
		for (uint32_t x = 0; x < w; x++)
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
	for (size_t i = 0; i < n; i++)
		wk->px[i] -= a[i] * (1.0f / ((2 * WHITEN_R + 1) * (2 * WHITEN_R + 1)));
	for (size_t i = 0; i < n; i++)
		a[i] = wk->px[i] * wk->px[i];
	float *var = b;
	float *tmp = aimark__malloc(n * sizeof *tmp);
	if (!tmp) {
		aimark__free(a);
		aimark__free(b);
		return aimark__error_set(AIMARK_ENOMEM, "out of memory");
	}
	box_filter(a, var, tmp, wk->w, wk->h, 4);
	for (size_t i = 0; i < n; i++) {
		float v = wk->px[i] / sqrtf(var[i] * (1.0f / 81.0f) + 0.25f);
		wk->px[i] = v > 3 ? 3 : v < -3 ? -3 : v;
	}
	aimark__free(a);
	aimark__free(b);
	aimark__free(tmp);
	return 0;
}

/* ---- 3. autocorrelation ---- */

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

static int autocorrelation(const work *wk, double unit, acf_map *acf)
{
	/* Zero padding so that lags up to ~230 working pixels (a tile period after a crop to a strip) do not wrap. */
	const double pad = 230.0 / unit;
	const size_t nx = pow2_at_least(fmax(wk->w * 1.45, wk->w + pad)), ny = pow2_at_least(fmax(wk->h * 1.45, wk->h + pad));
	const int lag_cap = (int)(LAG_CAP / unit);
	const size_t hx = nx / 2 + 1;
	int lx = (int)(nx - wk->w), ly = (int)(ny - wk->h);
	if (lx > lag_cap)
		lx = lag_cap;
	if (ly > lag_cap)
		ly = lag_cap;
	acf->unit = unit;
	acf->lx = lx;
	acf->ly = ly;
	acf->z = NULL;
	aimark__fft *fx = NULL, *fy = NULL;
	float *spec = NULL, *row = NULL, *stage = NULL;
	int rc = aimark__fft_new(&fx, nx);
	if (rc == 0)
		rc = aimark__fft_new(&fy, ny);
	if (rc < 0)
		goto done;
	spec = aimark__calloc(hx * ny * 2, sizeof *spec); /* column-major: spec[(k * ny + r) * 2] */
	row = aimark__malloc(nx * 2 * sizeof *row);
	stage = aimark__malloc((size_t)STAGE * hx * 2 * sizeof *stage);
	acf->z = aimark__calloc((size_t)(2 * ly + 1) * (2 * lx + 1), sizeof *acf->z);
	if (!spec || !row || !stage || !acf->z) {
		rc = aimark__error_set(AIMARK_ENOMEM, "out of memory");
		goto done;
	}
	/* Rows, two real rows per complex transform, staged STAGE rows at a time so that the
	   column-major spectrum is written in runs rather than one cache line per value. */
	for (uint32_t r0 = 0; r0 < wk->h; r0 += STAGE) {
		uint32_t rn = wk->h - r0 < STAGE ? wk->h - r0 : STAGE;
		for (uint32_t i = 0; i < rn; i += 2) {
			uint32_t r = r0 + i;
			memset(row, 0, nx * 2 * sizeof *row);
			const float *p0 = wk->px + (size_t)r * wk->w, *p1 = i + 1 < rn ? p0 + wk->w : NULL;
			for (uint32_t x = 0; x < wk->w; x++) {
				row[2 * x] = p0[x];
				row[2 * x + 1] = p1 ? p1[x] : 0;
			}
			aimark__fft_run(fx, row, 0);
			float *s0 = stage + (size_t)i * hx * 2, *s1 = s0 + hx * 2;
			for (size_t k = 0; k < hx; k++) {
				size_t kc = (nx - k) % nx;
				float zr = row[2 * k], zi = row[2 * k + 1], cr = row[2 * kc], ci = -row[2 * kc + 1];
				s0[2 * k] = 0.5f * (zr + cr);
				s0[2 * k + 1] = 0.5f * (zi + ci);
				if (p1) {
					s1[2 * k] = 0.5f * (zi - ci);
					s1[2 * k + 1] = -0.5f * (zr - cr);
				}
			}
		}
		for (size_t k = 0; k < hx; k++) {
			float *d = spec + (k * ny + r0) * 2;
			for (uint32_t i = 0; i < rn; i++) {
				d[2 * i] = stage[((size_t)i * hx + k) * 2];
				d[2 * i + 1] = stage[((size_t)i * hx + k) * 2 + 1];
			}
		}
	}
	for (size_t k = 0; k < hx; k++)
		aimark__fft_run(fy, spec + k * ny * 2, 0);
	/*
	 * Power, flattened by its local mean (9x9 bins), band-limited, JPEG grid notched. The power
	 * goes into each bin's real part and the running sums into its imaginary part, so that no
	 * second spectrum-sized buffer is needed.
	 */
	for (size_t k = 0; k < hx; k++)
		for (size_t r = 0; r < ny; r++) {
			float *c = spec + (k * ny + r) * 2;
			c[0] = c[0] * c[0] + c[1] * c[1];
		}
	{
		/* box over r (cyclic) into the imaginary parts, then over k (mirrored at the ends); ny is a power of two */
		const int R = 4;
		const size_t my = ny - 1;
		for (size_t k = 0; k < hx; k++) {
			float *col = spec + k * ny * 2;
			double acc = 0;
			for (int j = -R; j <= R; j++)
				acc += col[2 * ((size_t)(j + (int)ny) & my)];
			for (size_t r = 0; r < ny; r++) {
				col[2 * r + 1] = (float)acc;
				acc += col[2 * ((r + R + 1) & my)] - col[2 * ((r + ny - R) & my)];
			}
		}
		/* the k direction column by column, one running sum per r, so that memory is read in order */
		double *acc = aimark__malloc(ny * sizeof *acc);
		if (acc == NULL) {
			rc = aimark__error_set(AIMARK_ENOMEM, "out of memory");
			goto done;
		}
		for (size_t r = 0; r < ny; r++)
			acc[r] = 0;
		for (int j = -R; j <= R; j++) {
			const float *col = spec + (size_t)(j < 0 ? -j : j) * ny * 2;
			for (size_t r = 0; r < ny; r++)
				acc[r] += col[2 * r + 1];
		}
		for (size_t k = 0; k < hx; k++) {
			int add = (int)k + R + 1, sub = (int)k - R;
			if (add >= (int)hx)
				add = 2 * ((int)hx - 1) - add;
			if (sub < 0)
				sub = -sub;
			float *c = spec + k * ny * 2;
			const float *ca = spec + (size_t)add * ny * 2, *cs = spec + (size_t)sub * ny * 2;
			for (size_t r = 0; r < ny; r++) {
				float mean = (float)(acc[r] / ((2 * R + 1) * (2 * R + 1)));
				c[2 * r] = c[2 * r] / (mean + 1e-20f);
				acc[r] += ca[2 * r + 1] - cs[2 * r + 1];
			}
		}
		aimark__free(acc);
	}
	/* The JPEG grid of the input maps to frequencies m * scale / 8 cycles per working pixel: notch those lines. */
	{
		const double s = wk->scale;
		unsigned char *nxf = aimark__calloc(hx + ny, 1);
		float *fx2 = aimark__malloc((hx + ny) * sizeof *fx2);
		if (!nxf || !fx2) {
			aimark__free(nxf);
			aimark__free(fx2);
			rc = aimark__error_set(AIMARK_ENOMEM, "out of memory");
			goto done;
		}
		unsigned char *nyf = nxf + hx;
		float *fy2 = fx2 + hx;
		for (int m = 1; m < 8; m++) {
			double f = fmod(m * s / 8.0, 1.0);
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
		for (size_t k = 0; k < hx; k++)
			for (size_t r = 0; r < ny; r++) {
				float rho = sqrtf(fx2[k] + fy2[r]);
				float wgt = rho < 0.008f ? 0 : rho > 0.45f ? 0 : rho > 0.3f ? (0.45f - rho) / 0.15f : 1;
				float *c = spec + (k * ny + r) * 2;
				c[0] = (nxf[k] || nyf[r]) ? 0 : wgt * c[0];
				c[1] = 0;
			}
		aimark__free(nxf);
		aimark__free(fx2);
	}
	for (size_t k = 0; k < hx; k++)
		aimark__fft_run(fy, spec + k * ny * 2, 1);
	/* Rows of the needed lags, two per complex inverse transform (Hermitian in k), gathered STAGE at a time. */
	int nrows = 2 * ly + 1;
	for (int i0 = 0; i0 < nrows; i0 += STAGE) {
		int in = nrows - i0 < STAGE ? nrows - i0 : STAGE;
		for (size_t k = 0; k < hx; k++)
			for (int i = 0; i < in; i++) {
				size_t r = (size_t)(i0 + i - ly + (int)ny) & (ny - 1);
				const float *c = spec + (k * ny + r) * 2;
				stage[((size_t)i * hx + k) * 2] = c[0];
				stage[((size_t)i * hx + k) * 2 + 1] = c[1];
			}
		for (int i = 0; i < in; i += 2) {
			const float *ra = stage + (size_t)i * hx * 2, *rb = i + 1 < in ? ra + hx * 2 : ra;
			for (size_t k = 0; k < nx; k++) {
				size_t kk = k < hx ? k : nx - k;
				float sg = k < hx ? 1.0f : -1.0f; /* conjugate for the mirrored half */
				float ar = ra[2 * kk], ai = sg * ra[2 * kk + 1], br = rb[2 * kk], bi = sg * rb[2 * kk + 1];
				row[2 * k] = ar - bi;
				row[2 * k + 1] = ai + br;
			}
			aimark__fft_run(fx, row, 1);
			float *z0 = acf->z + (size_t)(i0 + i) * (2 * lx + 1);
			for (int vx = -lx; vx <= lx; vx++) {
				size_t k = (size_t)((vx + (int)nx) % (int)nx);
				z0[vx + lx] = row[2 * k];
				if (i + 1 < in)
					z0[(2 * lx + 1) + vx + lx] = row[2 * k + 1];
			}
		}
	}
	/* z-scores over the lag region that can hold lattice points. */
	{
		double sum = 0, sum2 = 0;
		size_t n = 0;
		for (int vy = -ly; vy <= ly; vy++)
			for (int vx = -lx; vx <= lx; vx++) {
				if ((vx * vx + vy * vy) * unit * unit < R_MIN * R_MIN * 0.5)
					continue;
				double v = acf->z[(size_t)(vy + ly) * (2 * lx + 1) + (size_t)(vx + lx)];
				sum += v;
				sum2 += v * v;
				n++;
			}
		double mean = n ? sum / n : 0, sd = n ? sqrt(fmax(sum2 / n - mean * mean, 1e-30)) : 1;
		size_t total = (size_t)(2 * ly + 1) * (2 * lx + 1);
		for (size_t i = 0; i < total; i++)
			acf->z[i] = (float)((acf->z[i] - mean) / sd);
	}
done:
	aimark__fft_free(fx);
	aimark__fft_free(fy);
	aimark__free(spec);
	aimark__free(stage);
	aimark__free(row);
	if (rc < 0) {
		aimark__free(acf->z);
		acf->z = NULL;
	}
	return rc;
}

static float acf_at(const acf_map *acf, int vx, int vy)
{
	if (vx < -acf->lx || vx > acf->lx || vy < -acf->ly || vy > acf->ly)
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
	for (int vy = 0; vy <= acf->ly - 2; vy++)
		for (int vx = -acf->lx + 2; vx <= acf->lx - 2; vx++) {
			if (vy == 0 && vx <= 0)
				continue;
			if (((double)vx * vx + (double)vy * vy) * acf->unit * acf->unit < R_MIN * R_MIN)
				continue;
			float v = acf_at(acf, vx, vy);
			if (v < 3.0f)
				continue;
			int ismax = 1;
			for (int dy = -2; dy <= 2 && ismax; dy++)
				for (int dx = -2; dx <= 2; dx++)
					if ((dx || dy) && acf_at(acf, vx + dx, vy + dy) > v) {
						ismax = 0;
						break;
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

/* Folds the working image into QT x QT bins of tile coordinates; returns the normalised tile. */
static void fold(const work *wk, const lattice *L, float *tile, float *count)
{
	const double T = AIMARK__WM_TILE;
	double det = L->a[0] * L->b[1] - L->a[1] * L->b[0];
	/* tile coords (chips) = T * inverse([a b]) * x */
	double m00 = T * L->b[1] / det, m01 = -T * L->b[0] / det;
	double m10 = -T * L->a[1] / det, m11 = T * L->a[0] / det;
	memset(tile, 0, QT * QT * sizeof *tile);
	memset(count, 0, QT * QT * sizeof *count);
	const double period = QT;
	/* Origin at the centre: a small error in the basis drifts half as far at the edges. */
	const double cx = wk->w / 2.0, cy = wk->h / 2.0;
	for (uint32_t y = 0; y < wk->h; y++) {
		const float *row = wk->px + (size_t)y * wk->w;
		double tx = (m00 * -cx + m01 * (y - cy)) * QF, ty = (m10 * -cx + m11 * (y - cy)) * QF;
		double dx = m00 * QF, dy = m10 * QF;
		double fx = tx - period * floor(tx / period), fy = ty - period * floor(ty / period);
		for (uint32_t x = 0; x < wk->w; x++, fx += dx, fy += dy) {
			/* |dx|, |dy| are far below one period: one correction keeps them in [0, period) */
			if (fx >= period)
				fx -= period;
			else if (fx < 0)
				fx += period;
			if (fy >= period)
				fy -= period;
			else if (fy < 0)
				fy += period;
			int bx = (int)fx, by = (int)fy;
			if (bx >= QT)
				bx = QT - 1;
			if (by >= QT)
				by = QT - 1;
			tile[by * QT + bx] += row[x];
			count[by * QT + bx] += 1;
		}
	}
	double sum = 0, sum2 = 0;
	int n = 0;
	for (int i = 0; i < QT * QT; i++) {
		if (count[i] > 0) {
			tile[i] /= sqrtf(count[i]); /* each bin as a unit-variance statistic */
			sum += tile[i];
			sum2 += (double)tile[i] * tile[i];
			n++;
		}
	}
	double mean = n ? sum / n : 0, sd = n ? sqrt(fmax(sum2 / n - mean * mean, 1e-12)) : 1;
	for (int i = 0; i < QT * QT; i++)
		tile[i] = count[i] > 0 ? (float)((tile[i] - mean) / sd) : 0;
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
 * spec: 8 x QT*QT complex.
 */
static void orientation_spectra(aimark__fft2d *ft, const float *F, float *spec, float *buf)
{
	const int N = QT * QT;
	for (int i = 0; i < N; i++) {
		buf[2 * i] = F[i];
		buf[2 * i + 1] = 0;
	}
	aimark__fft2d_run(ft, buf, 0);
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
		for (int ky = 0; ky < QT; ky++)
			for (int kx = 0; kx < QT; kx++) {
				/* QT is a power of two: & (QT - 1) is the non-negative remainder */
				int ux = (axx * kx + axy * ky) & (QT - 1), uy = (ayx * kx + ayy * ky) & (QT - 1);
				int p = (ux * cx + uy * cy) & (QT - 1);
				const float *s = buf + 2 * (uy * QT + ux);
				float *o = G + 2 * (ky * QT + kx);
				o[0] = s[0] * ph[2 * p] - s[1] * ph[2 * p + 1];
				o[1] = s[0] * ph[2 * p + 1] + s[1] * ph[2 * p];
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
static int synchronise(aimark__fft2d *ft, const float *Gspec, const aimark_wm_key *key, float *buf, float *tpl, float *corr,
		       sync_hit *hits, int *nhits)
{
	const int N = QT * QT;
	sync_template(key, tpl);
	for (int i = 0; i < N; i++) {
		buf[2 * i] = tpl[i];
		buf[2 * i + 1] = 0;
	}
	aimark__fft2d_run(ft, buf, 0);
	float *S = buf + (size_t)N * 2; /* the template spectrum, kept while the pairs are formed */
	memcpy(S, buf, (size_t)N * 2 * sizeof *S);
	double sum = 0, sum2 = 0;
	size_t cnt = 0;
	for (int g = 0; g < 8; g += 2) {
		const float *a = Gspec + (size_t)g * N * 2, *b = a + (size_t)N * 2;
		for (int i = 0; i < N; i++) {
			float sr = S[2 * i], si = -S[2 * i + 1];
			float pr = a[2 * i] * sr - a[2 * i + 1] * si, pi = a[2 * i] * si + a[2 * i + 1] * sr;
			float qr = b[2 * i] * sr - b[2 * i + 1] * si, qi = b[2 * i] * si + b[2 * i + 1] * sr;
			/* P + iQ */
			buf[2 * i] = pr - qi;
			buf[2 * i + 1] = pi + qr;
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
	for (int g = 0; g < 8; g++) {
		const float *cg = corr + (size_t)g * N;
		for (int i = 0; i < N; i++) {
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
			sync_hit h = { g, x, y, z };
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
	for (int y = y0; y < y0 + 2 * QF; y++) {
		double wy = 1 - fabs(y - py) / QF;
		if (wy <= 0)
			continue;
		for (int x = x0; x < x0 + 2 * QF; x++) {
			double wx = 1 - fabs(x - px) / QF;
			if (wx <= 0)
				continue;
			acc += wx * wy * tile_at(F, x, y);
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

static void sync_buffers_free(aimark__fft2d *ft, float **tile, float **count, float **Gspec, float **buf, float **corr, float **tpl)
{
	aimark__fft2d_dispose(ft);
	float **all[6] = { tile, count, Gspec, buf, corr, tpl };
	for (int i = 0; i < 6; i++) {
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

	work wk = { 0, 0, NULL, 1 }, dec = { 0, 0, NULL, 1 };
	aimark__fft2d ft;
	memset(&ft, 0, sizeof ft);
	acf_map acf = { 0, 0, 1.0, NULL };
	/* The folding and synchronisation buffers (2 MB) are allocated only once a lattice search is done, and
	   freed before the next one, so that they never add to the autocorrelation's spectrum in the peak. */
	float *tile = NULL, *count = NULL, *Gspec = NULL, *buf = NULL, *corr = NULL, *tpl = NULL;
	int rc = make_work(img, &wk);
	if (rc == 0)
		rc = whiten(&wk);
	if (rc < 0)
		goto done;
	/*
	 * Pass 0 looks for the lattice on the whitened image averaged over 2x2 pixels (a quarter of
	 * the FFT work: the tile's lattice lives in its low harmonics, which survive). When that finds
	 * no synchronisation at all, pass 1 looks again at full working resolution, which matters when
	 * the chips became small (an image pasted into a larger canvas). Small images go straight to
	 * full resolution.
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
		sync_buffers_free(&ft, &tile, &count, &Gspec, &buf, &corr, &tpl);
		if (pass == 0) {
			rc = decimate(&wk, &dec);
			if (rc == 0)
				rc = autocorrelation(&dec, 2.0, &acf);
			aimark__free(dec.px);
			dec.px = NULL;
		} else {
			rc = autocorrelation(&wk, 1.0, &acf);
		}
		if (rc < 0)
			goto done;
		lattice lat[MAX_LATTICES];
		int nl = find_lattices(&acf, lat, MAX_LATTICES);
		st.lattices += nl;
		if (nl > 0 && tile == NULL) {
			tile = aimark__malloc(QT * QT * sizeof *tile);
			count = aimark__malloc(QT * QT * sizeof *count);
			Gspec = aimark__malloc((size_t)QT * QT * 2 * 8 * sizeof *Gspec);
			buf = aimark__malloc((size_t)QT * QT * 4 * sizeof *buf);
			corr = aimark__malloc((size_t)QT * QT * 8 * sizeof *corr);
			tpl = aimark__malloc(QT * QT * sizeof *tpl);
			if (!tile || !count || !Gspec || !buf || !corr || !tpl) {
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
				rc = synchronise(&ft, Gspec, keys[k], buf, tpl, corr, hits, &nh);
				if (rc < 0)
					goto done;
				for (int h = 0; h < nh; h++) {
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
	sync_buffers_free(&ft, &tile, &count, &Gspec, &buf, &corr, &tpl);
	aimark__free(wk.px);
	aimark__free(dec.px);
	aimark__free(acf.z);
	return rc;
}

int aimark__wm_image_detect(const aimark__image *img, const aimark_wm_key *const *keys, size_t n_keys, aimark_wm_result *res)
{
	return aimark__wm_image_detect_ex(img, keys, n_keys, res, NULL);
}

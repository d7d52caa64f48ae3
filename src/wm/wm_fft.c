/*
 * Iterative complex FFT: bit reversal, then decimation-in-time butterflies
 * two radix-2 stages at a time (radix 4), so that the data is swept half as
 * often; an odd number of stages starts with one twiddle-free radix-2 pass.
 * Each radix-4 stage reads its twiddles from its own contiguous table, in the
 * order the butterflies use them.
 */
#include <math.h>
#include <string.h>

#include "core/internal.h"
#include "core/vec4.h"
#include "wm/wm_fft.h"

/* Two complex values per vector, [re0 im0 re1 im1]; this swaps them to [im0 re0 im1 re1]. */
static inline v4f swap_ri(v4f v)
{
	return __builtin_shufflevector(v, v, 1, 0, 3, 2);
}

/*
 * One vector (two complex values) of radix-4 butterflies at offset k of the four quarters x0..x3:
 * stage 2h pairs (x0, x1) and (x2, x3) with twiddle w1, stage 4h pairs (a0, a2) with w2 and
 * (a1, a3) with w2 * (-i s), the quarter turn.
 */
static inline void radix4_step(float *x0, float *x1, float *x2, float *x3, size_t k, v4f w1r, v4f w1i, v4f w2r, v4f w2i,
			       v4f quarter)
{
	const v4f b1 = v4f_load(x1 + k), b3 = v4f_load(x3 + k);
	const v4f t1 = b1 * w1r + swap_ri(b1) * w1i, t3 = b3 * w1r + swap_ri(b3) * w1i;
	const v4f c0 = v4f_load(x0 + k), c2 = v4f_load(x2 + k);
	const v4f a0 = c0 + t1, a1 = c0 - t1, a2 = c2 + t3, a3 = c2 - t3;
	const v4f u2 = a2 * w2r + swap_ri(a2) * w2i, u3 = a3 * w2r + swap_ri(a3) * w2i;
	const v4f v3 = swap_ri(u3) * quarter;
	v4f_store(x0 + k, a0 + u2);
	v4f_store(x2 + k, a0 - u2);
	v4f_store(x1 + k, a1 + v3);
	v4f_store(x3 + k, a1 - v3);
}

struct aimark__fft {
	size_t n;
	float *tw;        /* per radix-4 sweep with quarter h: w_2h^k and w_4h^k laid out for vectors (8h floats) */
	uint32_t *swaps;  /* bit reversal: the pairs (i, rev(i)) with i < rev(i), two entries each */
	size_t nswaps;
};

/* Number of floats the radix-4 twiddle tables take for length n (quarters h = h0, 4 h0, ... < n). */
static size_t twiddle_floats(size_t n, size_t h0)
{
	size_t total = 0;
	for (size_t h = h0; 4 * h <= n; h *= 4)
		total += 8 * h;
	return total;
}

static size_t first_quarter(size_t n)
{
	int bits = 0;
	while (((size_t)1 << bits) < n)
		bits++;
	return (bits & 1) ? 2 : 1; /* odd: a radix-2 pass first, then radix-4 stages of 8, 32, ... */
}

int aimark__fft_new(aimark__fft **out, size_t n)
{
	*out = NULL;
	RETURN_IF(n < 2 || n > ((size_t)1 << 20) || (n & (n - 1)) != 0, AIMARK_EINVAL, "fft: length %zu is not a power of two", n);
	aimark__fft *f = aimark__calloc(1, sizeof *f);
	RETURN_ENOMEM_IF_NULL(f);
	f->n = n;
	const size_t h0 = first_quarter(n);
	f->tw = aimark__calloc(twiddle_floats(n, h0) + 4, sizeof *f->tw);
	f->swaps = aimark__calloc(n, sizeof *f->swaps); /* fewer than n / 2 pairs */
	if (f->tw == NULL || f->swaps == NULL) {
		aimark__fft_free(f);
		return aimark__error_set(AIMARK_ENOMEM, "out of memory");
	}
	/*
	 * Per sweep, per pair of butterflies k, k+1 (one 4-float vector each):
	 * w1 real parts [a a b b], w1 imaginary parts with the sign pattern of a
	 * complex multiplication [-a' a' -b' b'], then the same for w2.
	 */
	float *t = f->tw;
	for (size_t h = h0; 4 * h <= n; h *= 4) {
		if (h == 1) {
			t += 8; /* the first sweep of an even power needs no twiddles; its slot keeps the layout uniform */
			continue;
		}
		for (size_t k0 = 0; k0 < h; k0 += 2) {
			for (int which = 0; which < 2; which++) {
				double span = which ? 4.0 * h : 2.0 * h;
				float re[2], im[2];
				for (int e = 0; e < 2; e++) {
					double a = -2.0 * M_PI * (double)(k0 + (size_t)e) / span;
					re[e] = (float)cos(a);
					im[e] = (float)sin(a);
				}
				const float r4[4] = { re[0], re[0], re[1], re[1] }, i4[4] = { -im[0], im[0], -im[1], im[1] };
				memcpy(t, r4, sizeof r4);
				memcpy(t + 4, i4, sizeof i4);
				t += 8;
			}
		}
	}
	int bits = 0;
	while (((size_t)1 << bits) < n)
		bits++;
	for (size_t i = 0; i < n; i++) {
		uint32_t r = 0;
		for (int b = 0; b < bits; b++)
			r |= (uint32_t)((i >> b) & 1) << (bits - 1 - b);
		if (i < r) {
			f->swaps[2 * f->nswaps] = (uint32_t)i;
			f->swaps[2 * f->nswaps + 1] = r;
			f->nswaps++;
		}
	}
	*out = f;
	return 0;
}

void aimark__fft_free(aimark__fft *f)
{
	if (f == NULL)
		return;
	aimark__free(f->tw);
	aimark__free(f->swaps);
	aimark__free(f);
}

size_t aimark__fft_size(const aimark__fft *f)
{
	return f->n;
}

void aimark__fft_run(const aimark__fft *f, float *d, int inverse)
{
	const size_t n = f->n;
	/* bit reversal: only the pairs that move, so that the loop has no data-dependent branch */
	for (size_t p = 0; p < f->nswaps; p++) {
		float *a = d + 2 * (size_t)f->swaps[2 * p], *b = d + 2 * (size_t)f->swaps[2 * p + 1];
		uint64_t x, y; /* one complex value as one 8-byte move */
		memcpy(&x, a, sizeof x);
		memcpy(&y, b, sizeof y);
		memcpy(a, &y, sizeof y);
		memcpy(b, &x, sizeof x);
	}
	const size_t h0 = first_quarter(n);
	if (h0 == 2 || n == 2) {
		size_t i = 0;
		/* two pairs (a0 b0)(a1 b1) per step: [a0 a1] +- [b0 b1] */
		for (; i + 8 <= 2 * n; i += 8) {
			const v4f v0 = v4f_load(d + i), v1 = v4f_load(d + i + 4);
			const v4f lo = __builtin_shufflevector(v0, v1, 0, 1, 4, 5), hi = __builtin_shufflevector(v0, v1, 2, 3, 6, 7);
			const v4f sum = lo + hi, dif = lo - hi;
			v4f_store(d + i, __builtin_shufflevector(sum, dif, 0, 1, 4, 5));
			v4f_store(d + i + 4, __builtin_shufflevector(sum, dif, 2, 3, 6, 7));
		}
		for (; i < 2 * n; i += 4) {
			float ar = d[i], ai = d[i + 1], br = d[i + 2], bi = d[i + 3];
			d[i] = ar + br;
			d[i + 1] = ai + bi;
			d[i + 2] = ar - br;
			d[i + 3] = ai - bi;
		}
	}
	/* Inverse: conjugate twiddles, and the quarter turn -i becomes +i. */
	const float s = inverse ? -1.0f : 1.0f;
	const v4f quarter = { s, -s, s, -s }; /* (-i s) z = swap(z) * [s -s] */
	const float *tw = f->tw;
	for (size_t h = h0; 4 * h <= n; h *= 4) {
		const size_t q = 2 * h; /* floats per quarter */
		if (h == 1) {
			/* four values e0..e3 in two vectors: a0 = e0 + e1, a1 = e0 - e1, a2 = e2 + e3, a3 = e2 - e3 */
			const v4f q3 = { 0, 0, s, -s };
			for (size_t i = 0; i < 2 * n; i += 8) {
				const v4f v0 = v4f_load(d + i), v1 = v4f_load(d + i + 4);
				const v4f lo = __builtin_shufflevector(v0, v1, 0, 1, 4, 5), hi = __builtin_shufflevector(v0, v1, 2, 3, 6, 7);
				const v4f sum = lo + hi, dif = lo - hi;         /* [a0 a2], [a1 a3] */
				const v4f rot = swap_ri(dif) * q3;               /* upper half: (-i s) * a3 */
				const v4f x = __builtin_shufflevector(sum, dif, 0, 1, 4, 5), y = __builtin_shufflevector(sum, rot, 2, 3, 6, 7);
				v4f_store(d + i, x + y);                           /* [a0 + a2, a1 + b3] */
				v4f_store(d + i + 4, x - y);                       /* [a0 - a2, a1 - b3] */
			}
			tw += 8;
			continue;
		}
		for (size_t i = 0; i < 2 * n; i += 4 * q) {
			float *x0 = d + i, *x1 = x0 + q, *x2 = x1 + q, *x3 = x2 + q;
			const float *w = tw;
			/* two butterflies (k, k + 1) per step: h is even here */
			for (size_t k = 0; k < 2 * h; k += 4, w += 16) {
				const v4f w1r = v4f_load(w), w1i = v4f_load(w + 4) * s, w2r = v4f_load(w + 8), w2i = v4f_load(w + 12) * s;
				radix4_step(x0, x1, x2, x3, k, w1r, w1i, w2r, w2i, quarter);
			}
		}
		tw += 8 * h;
	}
}

int aimark__fft2d_init(aimark__fft2d *f, size_t rows, size_t cols)
{
	memset(f, 0, sizeof *f);
	RETURN_IF_ERR(aimark__fft_new(&f->row, cols));
	int rc = aimark__fft_new(&f->col, rows);
	f->rows = rows;
	f->cols = cols;
	if (rc < 0)
		aimark__fft2d_dispose(f);
	return rc;
}

/* a <-> b, n floats (n a multiple of 4) */
static void swap_floats(float *a, float *b, size_t n)
{
	for (size_t i = 0; i < n; i += 4) {
		const v4f x = v4f_load(a + i), y = v4f_load(b + i);
		v4f_store(a + i, y);
		v4f_store(b + i, x);
	}
}

/*
 * The column transforms of a rows x cols block, run across the rows: each
 * butterfly combines whole rows with one twiddle, two columns per vector, so
 * that no column is gathered and the data is read in order. The same
 * sequence of float operations per value as aimark__fft_run on the column
 * (bit reversal, radix-2 pass for odd powers, radix-4 sweeps, the same
 * twiddle table), so the result is the 1-D transform's.
 */
static void fft_columns(const aimark__fft *fc, float *d, size_t cols, int inverse)
{
	const size_t n = fc->n, rs = 2 * cols; /* floats per row */
	for (size_t p = 0; p < fc->nswaps; p++)
		swap_floats(d + fc->swaps[2 * p] * rs, d + fc->swaps[2 * p + 1] * rs, rs);
	const size_t h0 = first_quarter(n);
	if (h0 == 2 || n == 2) {
		for (size_t i = 0; i < n; i += 2) {
			float *a = d + i * rs, *b = a + rs;
			for (size_t c = 0; c < rs; c += 4) {
				const v4f x = v4f_load(a + c), y = v4f_load(b + c);
				v4f_store(a + c, x + y);
				v4f_store(b + c, x - y);
			}
		}
	}
	const float s = inverse ? -1.0f : 1.0f;
	const v4f quarter = { s, -s, s, -s };
	const float *tw = fc->tw;
	for (size_t h = h0; 4 * h <= n; h *= 4) {
		for (size_t i = 0; i < n; i += 4 * h) {
			for (size_t k = 0; k < h; k++) {
				float *x0 = d + (i + k) * rs, *x1 = x0 + h * rs, *x2 = x1 + h * rs, *x3 = x2 + h * rs;
				if (h == 1) {
					/* the twiddle-free first sweep of an even power, as in aimark__fft_run */
					for (size_t c = 0; c < rs; c += 4) {
						const v4f e0 = v4f_load(x0 + c), e1 = v4f_load(x1 + c), e2 = v4f_load(x2 + c), e3 = v4f_load(x3 + c);
						const v4f a0 = e0 + e1, a1 = e0 - e1, a2 = e2 + e3, a3 = e2 - e3;
						const v4f b3 = swap_ri(a3) * quarter;
						v4f_store(x0 + c, a0 + a2);
						v4f_store(x2 + c, a0 - a2);
						v4f_store(x1 + c, a1 + b3);
						v4f_store(x3 + c, a1 - b3);
					}
					continue;
				}
				/* twiddles of butterfly k from the 1-D layout: [r r r' r'] [-i i -i' i'] for w1, then w2 */
				const float *w = tw + 16 * (k / 2) + 2 * (k & 1);
				const v4f w1r = { w[0], w[0], w[0], w[0] }, w1i = (v4f){ w[4], w[5], w[4], w[5] } * s;
				const v4f w2r = { w[8], w[8], w[8], w[8] }, w2i = (v4f){ w[12], w[13], w[12], w[13] } * s;
				for (size_t c = 0; c < rs; c += 4) {
					radix4_step(x0, x1, x2, x3, c, w1r, w1i, w2r, w2i, quarter);
				}
			}
		}
		tw += 8 * h;
	}
}

void aimark__fft2d_run(aimark__fft2d *f, float *data, int inverse)
{
	const size_t rows = f->rows, cols = f->cols;
	for (size_t r = 0; r < rows; r++)
		aimark__fft_run(f->row, data + 2 * r * cols, inverse);
	fft_columns(f->col, data, cols, inverse);
}

int aimark__fft_2d(float *data, size_t rows, size_t cols, int inverse)
{
	aimark__fft2d f;
	RETURN_IF_ERR(aimark__fft2d_init(&f, rows, cols));
	aimark__fft2d_run(&f, data, inverse);
	aimark__fft2d_dispose(&f);
	return 0;
}

void aimark__fft2d_dispose(aimark__fft2d *f)
{
	aimark__fft_free(f->row);
	aimark__fft_free(f->col);
	memset(f, 0, sizeof *f);
}

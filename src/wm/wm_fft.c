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
#include "wm/wm_fft.h"

/* Four floats (two complex values) in one vector: GCC and clang vector extensions. */
typedef float v4 __attribute__((vector_size(16)));

static inline v4 vload(const float *p)
{
	v4 v;
	memcpy(&v, p, sizeof v); /* unaligned load */
	return v;
}

static inline void vstore(float *p, v4 v)
{
	memcpy(p, &v, sizeof v);
}

/* [re0 im0 re1 im1] -> [im0 re0 im1 re1] */
static inline v4 swap_ri(v4 v)
{
	return __builtin_shufflevector(v, v, 1, 0, 3, 2);
}

struct aimark__fft {
	size_t n;
	float *tw;        /* per radix-4 sweep with quarter h: w_2h^k and w_4h^k laid out for vectors (8h floats) */
	uint32_t *rev;    /* bit-reversal permutation */
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
	f->rev = aimark__calloc(n, sizeof *f->rev);
	if (f->tw == NULL || f->rev == NULL) {
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
		f->rev[i] = r;
	}
	*out = f;
	return 0;
}

void aimark__fft_free(aimark__fft *f)
{
	if (f == NULL)
		return;
	aimark__free(f->tw);
	aimark__free(f->rev);
	aimark__free(f);
}

size_t aimark__fft_size(const aimark__fft *f)
{
	return f->n;
}

void aimark__fft_run(const aimark__fft *f, float *d, int inverse)
{
	const size_t n = f->n;
	for (size_t i = 0; i < n; i++) {
		size_t j = f->rev[i];
		if (j > i) {
			float tr = d[2 * i], ti = d[2 * i + 1];
			d[2 * i] = d[2 * j];
			d[2 * i + 1] = d[2 * j + 1];
			d[2 * j] = tr;
			d[2 * j + 1] = ti;
		}
	}
	const size_t h0 = first_quarter(n);
	if (h0 == 2 || n == 2) {
		for (size_t i = 0; i < 2 * n; i += 4) {
			float ar = d[i], ai = d[i + 1], br = d[i + 2], bi = d[i + 3];
			d[i] = ar + br;
			d[i + 1] = ai + bi;
			d[i + 2] = ar - br;
			d[i + 3] = ai - bi;
		}
	}
	/* Inverse: conjugate twiddles, and the quarter turn -i becomes +i. */
	const float s = inverse ? -1.0f : 1.0f;
	const v4 quarter = { s, -s, s, -s }; /* (-i s) z = swap(z) * [s -s] */
	const float *tw = f->tw;
	for (size_t h = h0; 4 * h <= n; h *= 4) {
		const size_t q = 2 * h; /* floats per quarter */
		if (h == 1) {
			for (size_t i = 0; i < 2 * n; i += 8) {
				float *x = d + i;
				float a0r = x[0] + x[2], a0i = x[1] + x[3], a1r = x[0] - x[2], a1i = x[1] - x[3];
				float a2r = x[4] + x[6], a2i = x[5] + x[7], a3r = x[4] - x[6], a3i = x[5] - x[7];
				/* (-i s) * a3 */
				float b3r = s * a3i, b3i = -s * a3r;
				x[0] = a0r + a2r;
				x[1] = a0i + a2i;
				x[4] = a0r - a2r;
				x[5] = a0i - a2i;
				x[2] = a1r + b3r;
				x[3] = a1i + b3i;
				x[6] = a1r - b3r;
				x[7] = a1i - b3i;
			}
			tw += 8;
			continue;
		}
		for (size_t i = 0; i < 2 * n; i += 4 * q) {
			float *x0 = d + i, *x1 = x0 + q, *x2 = x1 + q, *x3 = x2 + q;
			const float *w = tw;
			/* two butterflies (k, k + 1) per step: h is even here */
			for (size_t k = 0; k < 2 * h; k += 4, w += 16) {
				const v4 w1r = vload(w), w1i = vload(w + 4) * s, w2r = vload(w + 8), w2i = vload(w + 12) * s;
				const v4 b1 = vload(x1 + k), b3 = vload(x3 + k);
				/* stage 2h: (x0, x1) and (x2, x3) with w1 */
				const v4 t1 = b1 * w1r + swap_ri(b1) * w1i, t3 = b3 * w1r + swap_ri(b3) * w1i;
				const v4 c0 = vload(x0 + k), c2 = vload(x2 + k);
				const v4 a0 = c0 + t1, a1 = c0 - t1, a2 = c2 + t3, a3 = c2 - t3;
				/* stage 4h: (a0, a2) with w2, (a1, a3) with w2 * (-i s) */
				const v4 u2 = a2 * w2r + swap_ri(a2) * w2i, u3 = a3 * w2r + swap_ri(a3) * w2i;
				const v4 v3 = swap_ri(u3) * quarter;
				vstore(x0 + k, a0 + u2);
				vstore(x2 + k, a0 - u2);
				vstore(x1 + k, a1 + v3);
				vstore(x3 + k, a1 - v3);
			}
		}
		tw += 8 * h;
	}
}

int aimark__fft_2d(float *data, size_t rows, size_t cols, int inverse)
{
	aimark__fft *fr = NULL, *fc = NULL;
	RETURN_IF_ERR(aimark__fft_new(&fr, cols));
	int rc = aimark__fft_new(&fc, rows);
	float *col = rc == 0 ? aimark__malloc(rows * 2 * sizeof *col) : NULL;
	if (rc == 0 && col == NULL)
		rc = aimark__error_set(AIMARK_ENOMEM, "out of memory");
	if (rc == 0) {
		for (size_t r = 0; r < rows; r++)
			aimark__fft_run(fr, data + 2 * r * cols, inverse);
		for (size_t c = 0; c < cols; c++) {
			for (size_t r = 0; r < rows; r++) {
				col[2 * r] = data[2 * (r * cols + c)];
				col[2 * r + 1] = data[2 * (r * cols + c) + 1];
			}
			aimark__fft_run(fc, col, inverse);
			for (size_t r = 0; r < rows; r++) {
				data[2 * (r * cols + c)] = col[2 * r];
				data[2 * (r * cols + c) + 1] = col[2 * r + 1];
			}
		}
	}
	aimark__free(col);
	aimark__fft_free(fr);
	aimark__fft_free(fc);
	return rc;
}

int aimark__fft2d_init(aimark__fft2d *f, size_t rows, size_t cols)
{
	memset(f, 0, sizeof *f);
	RETURN_IF_ERR(aimark__fft_new(&f->row, cols));
	int rc = aimark__fft_new(&f->col, rows);
	if (rc == 0) {
		f->buf = aimark__malloc(rows * 2 * sizeof *f->buf);
		if (f->buf == NULL)
			rc = aimark__error_set(AIMARK_ENOMEM, "out of memory");
	}
	f->rows = rows;
	f->cols = cols;
	if (rc < 0)
		aimark__fft2d_dispose(f);
	return rc;
}

void aimark__fft2d_run(aimark__fft2d *f, float *data, int inverse)
{
	const size_t rows = f->rows, cols = f->cols;
	for (size_t r = 0; r < rows; r++)
		aimark__fft_run(f->row, data + 2 * r * cols, inverse);
	for (size_t c = 0; c < cols; c++) {
		for (size_t r = 0; r < rows; r++) {
			f->buf[2 * r] = data[2 * (r * cols + c)];
			f->buf[2 * r + 1] = data[2 * (r * cols + c) + 1];
		}
		aimark__fft_run(f->col, f->buf, inverse);
		for (size_t r = 0; r < rows; r++) {
			data[2 * (r * cols + c)] = f->buf[2 * r];
			data[2 * (r * cols + c) + 1] = f->buf[2 * r + 1];
		}
	}
}

void aimark__fft2d_dispose(aimark__fft2d *f)
{
	aimark__fft_free(f->row);
	aimark__fft_free(f->col);
	aimark__free(f->buf);
	memset(f, 0, sizeof *f);
}

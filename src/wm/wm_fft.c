/* Iterative radix-2 complex FFT with precomputed twiddles and bit reversal. */
#include <math.h>
#include <string.h>

#include "core/internal.h"
#include "wm/wm_fft.h"

struct aimark__fft {
	size_t n;
	float *tw;        /* n/2 complex twiddles exp(-2 pi i k / n) */
	uint32_t *rev;    /* bit-reversal permutation */
};

int aimark__fft_new(aimark__fft **out, size_t n)
{
	*out = NULL;
	RETURN_IF(n < 2 || n > ((size_t)1 << 20) || (n & (n - 1)) != 0, AIMARK_EINVAL, "fft: length %zu is not a power of two", n);
	aimark__fft *f = aimark__calloc(1, sizeof *f);
	RETURN_ENOMEM_IF_NULL(f);
	f->n = n;
	f->tw = aimark__calloc(n, sizeof *f->tw);
	f->rev = aimark__calloc(n, sizeof *f->rev);
	if (f->tw == NULL || f->rev == NULL) {
		aimark__fft_free(f);
		return aimark__error_set(AIMARK_ENOMEM, "out of memory");
	}
	for (size_t k = 0; k < n / 2; k++) {
		double a = -2.0 * M_PI * (double)k / (double)n;
		f->tw[2 * k] = (float)cos(a);
		f->tw[2 * k + 1] = (float)sin(a);
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
	size_t n = f->n;
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
	float sgn = inverse ? -1.0f : 1.0f;
	for (size_t len = 2; len <= n; len <<= 1) {
		size_t half = len >> 1, step = n / len;
		for (size_t i = 0; i < n; i += len) {
			float *a = d + 2 * i, *b = d + 2 * (i + half);
			for (size_t k = 0; k < half; k++) {
				float wr = f->tw[2 * k * step], wi = sgn * f->tw[2 * k * step + 1];
				float xr = b[2 * k] * wr - b[2 * k + 1] * wi;
				float xi = b[2 * k] * wi + b[2 * k + 1] * wr;
				b[2 * k] = a[2 * k] - xr;
				b[2 * k + 1] = a[2 * k + 1] - xi;
				a[2 * k] += xr;
				a[2 * k + 1] += xi;
			}
		}
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

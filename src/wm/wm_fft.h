/*
 * A small complex FFT (single precision, radix 4 with one radix-2 pass for
 * odd powers) for the watermark engines: power-of-two lengths only. Data is
 * interleaved re, im.
 */
#ifndef AIMARK_WM_FFT_H
#define AIMARK_WM_FFT_H

#include <stddef.h>

typedef struct aimark__fft aimark__fft;

/* n must be a power of two between 2 and 2^20. Returns 0, AIMARK_EINVAL or AIMARK_ENOMEM. */
int aimark__fft_new(aimark__fft **out, size_t n);
void aimark__fft_free(aimark__fft *f);
size_t aimark__fft_size(const aimark__fft *f);
/* In place, unnormalised; inverse uses the conjugate twiddles. */
void aimark__fft_run(const aimark__fft *f, float *data, int inverse);
/* A reusable 2-D transform of rows x cols (both powers of two). */
typedef struct aimark__fft2d {
	aimark__fft *row, *col;
	size_t rows, cols;
} aimark__fft2d;

int aimark__fft2d_init(aimark__fft2d *f, size_t rows, size_t cols);
/* In place on row-major interleaved complex data. The column transforms run across the rows (whole rows
   per butterfly), with the same float operations per value as aimark__fft_run on each column. */
void aimark__fft2d_run(aimark__fft2d *f, float *data, int inverse);
void aimark__fft2d_dispose(aimark__fft2d *f);

/* In-place 2-D transform of rows x cols (both powers of two), row-major interleaved complex. */
int aimark__fft_2d(float *data, size_t rows, size_t cols, int inverse);

#endif

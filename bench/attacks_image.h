/*
 * Image attacks for the watermark robustness benchmark: what happens to an
 * image between a generator and a viewer. Each takes an 8-bit image and
 * writes a new one to *out (the caller disposes it).
 */
#ifndef AIMARK_BENCH_ATTACKS_IMAGE_H
#define AIMARK_BENCH_ATTACKS_IMAGE_H

#include <stdint.h>

#include "codec/image_codec.h"

int atk_copy(const aimark__image *in, aimark__image *out);
/* Encode with the project's codec ("jpeg" or "webp") at `quality`, decode again. */
int atk_codec(const aimark__image *in, const char *format, int quality, aimark__image *out);
/* Resample to w x h (triangle filter widened when shrinking). */
int atk_resize(const aimark__image *in, uint32_t w, uint32_t h, aimark__image *out);
int atk_crop(const aimark__image *in, uint32_t x0, uint32_t y0, uint32_t w, uint32_t h, aimark__image *out);
/* Rotation about the centre by `deg` degrees, same canvas, corners filled black. */
int atk_rotate(const aimark__image *in, double deg, aimark__image *out);
/* Quarter turns (1, 2, 3 x 90 degrees clockwise). */
int atk_rot90(const aimark__image *in, int quarters, aimark__image *out);
int atk_hflip(const aimark__image *in, aimark__image *out);
/* Per-sample tone curves on the colour channels: v' = clamp(f(v)). */
int atk_brightness(const aimark__image *in, double factor, aimark__image *out);
int atk_contrast(const aimark__image *in, double factor, aimark__image *out);
int atk_gamma(const aimark__image *in, double gamma, aimark__image *out);
/* Chroma scaled by `factor` around the pixel's luma. */
int atk_saturation(const aimark__image *in, double factor, aimark__image *out);
int atk_blur(const aimark__image *in, double sigma, aimark__image *out);
int atk_noise(const aimark__image *in, double sigma, uint64_t seed, aimark__image *out);
int atk_median3(const aimark__image *in, aimark__image *out);
/* The image pasted at (x0, y0) into a cw x ch canvas of grey `bg`. */
int atk_canvas(const aimark__image *in, uint32_t cw, uint32_t ch, uint32_t x0, uint32_t y0, int bg, aimark__image *out);

/* PSNR (dB) and mean SSIM (8x8 windows on luma) of two images of the same geometry. */
double atk_psnr(const aimark__image *a, const aimark__image *b);
double atk_ssim(const aimark__image *a, const aimark__image *b);

#endif

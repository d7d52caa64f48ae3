/*
 * Decoded images for the layers that change pixels (explicit labels,
 * watermarks). src/codec/ is the only place libjpeg, libpng and libwebp are
 * included; watermark and label code sees plain pixel buffers only.
 */
#ifndef AIMARK_CODEC_IMAGE_CODEC_H
#define AIMARK_CODEC_IMAGE_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "aimark/common.h"

/* Interleaved pixels, row-major, no padding beyond `stride`. */
typedef struct aimark__image {
	uint32_t width, height;
	uint32_t channels;   /* 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA; alpha is always last */
	uint32_t bit_depth;  /* 8 or 16; 16-bit samples are native-endian uint16_t */
	size_t stride;       /* bytes per row */
	unsigned char *pixels;
} aimark__image;

/* How the source was coded, so that re-encoding keeps it as far as possible. */
typedef struct aimark__image_coding {
	char format[8];      /* "jpeg", "png", "webp" */
	int quality;         /* JPEG/lossy WebP: 1-100 (estimated from the tables for JPEG); 0 lossless */
	int lossless;        /* PNG, lossless WebP */
	int progressive;     /* JPEG */
	int chroma_444;      /* JPEG: 1 when not chroma-subsampled */
} aimark__image_coding;

/* Allocates pixels for the given geometry (zeroed). */
int aimark__image_alloc(aimark__image *img, uint32_t width, uint32_t height, uint32_t channels, uint32_t bit_depth);
void aimark__image_dispose(aimark__image *img);
/*
 * AIMARK_ELIMIT (message names `format`) when a header claims more pixels
 * than `file_len` bytes of that format can plausibly code; 0 otherwise.
 * Codecs call it before allocating for a decode.
 */
int aimark__image_check_claim(uint32_t width, uint32_t height, size_t file_len, const char *format);

/*
 * Decodes `data` (format "jpeg", "png" or "webp") into `img` and describes
 * its coding in `coding` (may be NULL). Limits: 2^28 pixels (ELIMIT).
 * Errors: AIMARK_EFORMAT (corrupt: message from the codec), AIMARK_EUNSUPPORTED
 * (e.g. CMYK JPEG, animated WebP), AIMARK_ENOMEM.
 */
int aimark__image_decode(const unsigned char *data, size_t len, const char *format, aimark__image *img, aimark__image_coding *coding);

/*
 * Encodes `img` with `coding` and appends the file to `out`. The metadata of
 * `original` (JPEG APPn/COM segments, PNG ancillary chunks, WebP EXIF/XMP/ICCP
 * chunks) is carried over unchanged when `original` is not NULL.
 */
int aimark__image_encode(const aimark__image *img, const aimark__image_coding *coding,
			 const unsigned char *original, size_t original_len, aimark_buf *out);

/*
 * Decodes a JPEG's luminance only (RGB-coded JPEGs: RGB), at 1/denom with denom the largest of 1, 2, 4 and 8
 * not above max_denom(width, height); returns the full size and denom too. src/codec/jpeg_coef.c.
 * Errors: those of aimark__image_decode.
 */
int aimark__jpeg_decode_luma(const unsigned char *jpeg, size_t len, uint32_t (*max_denom)(uint32_t width, uint32_t height),
			     aimark__image *img, uint32_t *width, uint32_t *height, unsigned *denom);

/* Estimates the IJG quality (1-100) of a JPEG's luminance quantisation table (64 values, natural order). */
int aimark__jpeg_estimate_quality(const uint16_t table[64]);

#endif

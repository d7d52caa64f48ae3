/*
 * Image watermark engine: a key-derived tile of TILE x TILE chips repeated
 * over the luminance, scaled by a perceptual mask. The repetition is the
 * synchronisation: its autocorrelation reveals any affine change (scale,
 * aspect, rotation, flips), a key-derived sync pattern inside the tile gives
 * the translation and the orientation, and the remaining chips carry the
 * coded payload (wm_payload.h). Works on plain pixel buffers only.
 */
#ifndef AIMARK_WM_IMAGE_H
#define AIMARK_WM_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "aimark/watermark.h"
#include "codec/image_codec.h" /* the plain aimark__image struct only; no codec library */
#include "wm/wm_image_layout.h"
#include "wm/wm_payload.h"

/* Embedding geometry: the chip size grows with the image so that it holds about CHIP_AREA chips. */
#define AIMARK__WM_CHIP_AREA 65536.0
#define AIMARK__WM_MIN_CHIP 2.0
#define AIMARK__WM_SMALL_CHIP 3.5
#define AIMARK__WM_MIN_SIDE 64
/*
 * Perceptual mask: amplitude (8-bit units) = min(sqrt(MASK_LO^2 + (MASK_GAIN * activity)^2), MASK_HI).
 * Activity (mean absolute second difference) is about 4x the local standard deviation: in texture the
 * change's variance is ~7% of the window's own. The floor (about one grey level RMS after the pattern)
 * is what smooth photos carry; values tuned on the benchmark (docs/watermark-image.md).
 */
#define AIMARK__WM_MASK_GAIN 0.10f
#define AIMARK__WM_MASK_LO 1.70f
#define AIMARK__WM_MASK_HI 6.0f
/* Mean squared change allowed at strength 1 (PSNR 43 dB on 8-bit samples). */
#define AIMARK__WM_MAX_MSE 3.26f

/* What the embedder needs for one image: the chip values and the geometry. */
typedef struct aimark__wm_plan {
	double chip;                       /* pixels per chip */
	float tile[AIMARK__WM_TILE_CHIPS]; /* +1/-1 per chip */
} aimark__wm_plan;

double aimark__wm_image_chip_size(uint32_t width, uint32_t height);
int aimark__wm_image_plan(aimark__wm_plan *plan, const aimark_wm_key *key, const unsigned char payload[8], uint32_t width, uint32_t height);
/* Mask amplitude for a local activity (mean absolute second difference, 8-bit units). */
float aimark__wm_mask_from_activity(float activity);

/*
 * 3x3 smoothing of the cells' raw mask amplitudes into `mask`, times `strength`, scaled down where
 * the mean-square change would exceed AIMARK__WM_MAX_MSE. wm_image_field.c.
 */
void aimark__wm_mask_smooth(const float *raw, float *mask, uint32_t cells_w, uint32_t cells_h, float strength);

/*
 * The change field of the pixel path and the JPEG coefficient path: mask (bilinear over the centres
 * of `cell`-pixel cells) times pattern (bilinear over the plan's chips), one pixel row at a time.
 * `plan` and `mask` are borrowed. wm_image_field.c.
 */
typedef struct aimark__wm_field {
	const aimark__wm_plan *plan;
	const float *mask;           /* cells_w x cells_h amplitudes */
	uint32_t cells_w, cells_h, cell;
	uint32_t width;              /* row length: the image width rounded up to a multiple of 4 */
	double inv_chip;
	float *ptile;                /* the tile's chip rows interpolated along x: AIMARK__WM_TILE x width */
	float *mx;                   /* three mask cell rows interpolated along x, a ring indexed by row % 3 */
	int64_t mx_row[3];
	float *xf, *cf;              /* per column: fraction towards the next chip, the next cell centre */
	uint32_t *xi, *xi1, *ci, *ci1;
} aimark__wm_field;

int aimark__wm_field_init(aimark__wm_field *f, const aimark__wm_plan *plan, const float *mask, uint32_t cells_w,
			  uint32_t cells_h, uint32_t cell, uint32_t width);
/* Row `y` of the change into out[0, f->width). */
void aimark__wm_field_row(aimark__wm_field *f, uint32_t y, float *out);
void aimark__wm_field_dispose(aimark__wm_field *f);

/* Embeds `payload` (8 bytes; aimark passes the first 8 bytes of SHA-256(ProduceID)) keyed by `key` into the
   colour channels of `img` in place; strength 1.0 = default. */
int aimark__wm_image_embed(aimark__image *img, const aimark_wm_key *key, const unsigned char payload[8], float strength);

/* Tries every key; fills `res` (detected=0 when none passes the threshold). */
int aimark__wm_image_detect(const aimark__image *img, const aimark_wm_key *const *keys, size_t n_keys, aimark_wm_result *res);

/* Detection threshold: the largest false-alarm probability accepted for a detection. */
#define AIMARK__WM_MAX_FALSE_ALARM 1e-9

/*
 * Optional statistics from a detection, for the benchmark's calibration of the false-alarm model.
 * decode_every_peak is read: nonzero decodes every synchronisation peak, also those too weak for the
 * detector to decode otherwise, so that the tag-prefix tail can be measured on unmarked images.
 */
typedef struct aimark__wm_detect_stats {
	int decode_every_peak;   /* in */
	int attempts;            /* payload decodes tried */
	int best_tag_prefix;     /* longest run of matching tag bits among the attempts */
	double best_sync_z;      /* strongest synchronisation peak */
	int lattices;            /* lattice candidates kept (the fallback search drops weak ones) */
	int searches;            /* lattice searches run: 2 when the full-resolution one followed the decimated one */
} aimark__wm_detect_stats;

int aimark__wm_image_detect_ex(const aimark__image *img, const aimark_wm_key *const *keys, size_t n_keys,
			       aimark_wm_result *res, aimark__wm_detect_stats *stats);

/* The detector's working image has about this many pixels. */
#define AIMARK__WM_WORK_AREA 262144.0

/*
 * The largest DCT scaling denominator for detecting the watermark of a width x height JPEG: the one that
 * keeps at least 90% of the working area (a 1 MP JPEG decodes at 1/2, at half the cost of a full decode).
 * For aimark__jpeg_decode_luma.
 */
uint32_t aimark__wm_jpeg_max_denom(uint32_t width, uint32_t height);

/*
 * Detection straight from a JPEG file: decodes only the luminance, at the
 * largest DCT scaling (1/2 .. 1/8) that keeps at least 90% of the working area, then
 * aimark__wm_image_detect(). Much cheaper than a full decode for large images.
 * src/codec/jpeg_coef.c.
 */
int aimark__wm_jpeg_detect(const unsigned char *jpeg, size_t len, const aimark_wm_key *const *keys, size_t n_keys,
			   aimark_wm_result *res);

/* JPEG marking in the DCT coefficients: src/codec/jpeg_coef.c. */
int aimark__wm_jpeg_embed(const unsigned char *jpeg, size_t len, const aimark_wm_key *key, const unsigned char payload[8],
			  float strength, aimark_buf *out);

#endif

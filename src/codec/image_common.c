/* Pixel buffers and the codec dispatch. */
#include <stdio.h>
#include <string.h>

#include "core/internal.h"
#include "image_codec.h"
#include "image_formats.h"

#define MAX_PIXELS (UINT64_C(1) << 28)

int aimark__image_alloc(aimark__image *img, uint32_t width, uint32_t height, uint32_t channels, uint32_t bit_depth)
{
	memset(img, 0, sizeof *img);
	RETURN_IF(width == 0 || height == 0, AIMARK_EFORMAT, "image: zero width or height");
	RETURN_IF((uint64_t)width * height > MAX_PIXELS, AIMARK_ELIMIT, "image: %ux%u exceeds the %llu-pixel limit", width, height,
		  (unsigned long long)MAX_PIXELS);
	RETURN_IF(channels < 1 || channels > 4 || (bit_depth != 8 && bit_depth != 16), AIMARK_EUNSUPPORTED,
		  "image: %u channels at %u bits unsupported", channels, bit_depth);
	size_t stride = (size_t)width * channels * (bit_depth / 8);
	img->pixels = aimark__calloc(height, stride);
	RETURN_ENOMEM_IF_NULL(img->pixels);
	img->width = width;
	img->height = height;
	img->channels = channels;
	img->bit_depth = bit_depth;
	img->stride = stride;
	return 0;
}

/*
 * A compressed image cannot code arbitrarily many pixels per byte, so a small
 * file whose header claims a huge image is refused before anything is
 * allocated: it would cost gigabytes to decode grey filler. Baseline JPEG
 * needs at least a bit per 8x8 block and component (at most 512 pixels per
 * byte); arithmetic-coded JPEG and lossless WebP of flat images go further,
 * hence the generous 4096 pixels per byte, and any image up to 16 MP passes.
 */
#define PLAUSIBLE_PIXELS_PER_BYTE 4096u
#define ALWAYS_PLAUSIBLE_PIXELS (UINT64_C(1) << 24)

int aimark__image_check_claim(uint32_t width, uint32_t height, size_t file_len, const char *format)
{
	uint64_t pixels = (uint64_t)width * height;
	uint64_t allowed = (uint64_t)file_len * PLAUSIBLE_PIXELS_PER_BYTE;
	if (pixels <= ALWAYS_PLAUSIBLE_PIXELS || pixels <= allowed)
		return 0;
	return aimark__error_set(AIMARK_ELIMIT,
				 "%s: the header claims %ux%u pixels, more than %zu bytes can hold (at most %u pixels per byte "
				 "beyond 16 MP); refused before decoding",
				 format, width, height, file_len, PLAUSIBLE_PIXELS_PER_BYTE);
}

void aimark__image_dispose(aimark__image *img)
{
	if (img == NULL)
		return;
	aimark__free(img->pixels);
	memset(img, 0, sizeof *img);
}

int aimark__image_decode(const unsigned char *data, size_t len, const char *format, aimark__image *img, aimark__image_coding *coding)
{
	aimark__image_coding scratch;
	if (coding == NULL)
		coding = &scratch;
	memset(coding, 0, sizeof *coding);
	memset(img, 0, sizeof *img);
	RETURN_IF(format == NULL, AIMARK_EINVAL, "image: no format");
	snprintf(coding->format, sizeof coding->format, "%s", format);
	if (strcmp(format, "jpeg") == 0)
		return aimark__jpeg_decode(data, len, img, coding);
	if (strcmp(format, "png") == 0)
		return aimark__png_decode(data, len, img, coding);
	if (strcmp(format, "webp") == 0)
		return aimark__webp_decode(data, len, img, coding);
	return aimark__error_set(AIMARK_EUNSUPPORTED, "image: cannot decode %s", format);
}

int aimark__image_encode(const aimark__image *img, const aimark__image_coding *coding,
			 const unsigned char *original, size_t original_len, aimark_buf *out)
{
	RETURN_IF(img == NULL || img->pixels == NULL || coding == NULL, AIMARK_EINVAL, "image: nothing to encode");
	if (strcmp(coding->format, "jpeg") == 0)
		return aimark__jpeg_encode(img, coding, original, original_len, out);
	if (strcmp(coding->format, "png") == 0)
		return aimark__png_encode(img, coding, original, original_len, out);
	if (strcmp(coding->format, "webp") == 0)
		return aimark__webp_encode(img, coding, original, original_len, out);
	return aimark__error_set(AIMARK_EUNSUPPORTED, "image: cannot encode %s", coding->format);
}

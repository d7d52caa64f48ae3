/*
 * Fuzz target: the image codecs (src/codec/) on arbitrary bytes. The first
 * byte picks the format (jpeg, png, webp), the rest is the file. Decoding
 * must fail cleanly or give an image; a small image is encoded again with
 * the coding the decoder reported and must decode to the same geometry
 * (an all-opaque alpha channel may be left out), and for lossless codings
 * (PNG, lossless WebP) to the same samples.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/image_codec.h"
#include "core/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_REENCODE_PIXELS (1u << 18)

static void same_samples(const aimark__image *a, const aimark__image *b)
{
	size_t row = (size_t)a->width * a->channels * (a->bit_depth / 8);
	for (uint32_t y = 0; y < a->height; y++)
		if (memcmp(a->pixels + y * a->stride, b->pixels + y * b->stride, row) != 0)
			abort();
}

/* 1 when every alpha sample of an 8-bit RGBA image is opaque (an encoder may then leave alpha out). */
static int opaque(const aimark__image *img)
{
	if (img->channels != 4 || img->bit_depth != 8)
		return 0;
	for (uint32_t y = 0; y < img->height; y++)
		for (uint32_t x = 0; x < img->width; x++)
			if (img->pixels[y * img->stride + (size_t)x * 4 + 3] != 255)
				return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *formats[] = { "jpeg", "png", "webp" };
	if (size < 1 || size > (1u << 20))
		return 0;
	const char *format = formats[data[0] % 3];
	data++;
	size--;
	aimark__image img;
	aimark__image_coding coding;
	memset(&img, 0, sizeof img);
	memset(&coding, 0, sizeof coding);
	if (aimark__image_decode(data, size, format, &img, &coding) != 0) {
		aimark_error_clear();
		return 0;
	}
	if (img.width == 0 || img.height == 0 || img.pixels == NULL)
		abort();
	if ((uint64_t)img.width * img.height <= MAX_REENCODE_PIXELS) {
		aimark_buf out = AIMARK_BUF_INIT;
		if (aimark__image_encode(&img, &coding, data, size, &out) == 0) {
			aimark__image again;
			memset(&again, 0, sizeof again);
			/* our own output must decode, to the same geometry */
			if (aimark__image_decode(out.ptr, out.size, format, &again, NULL) != 0 || again.width != img.width ||
			    again.height != img.height || again.bit_depth != img.bit_depth)
				abort();
			int alpha_dropped = again.channels == 3 && opaque(&img);
			if (again.channels != img.channels && !alpha_dropped)
				abort();
			if (coding.lossless && !alpha_dropped)
				same_samples(&img, &again);
			aimark__image_dispose(&again);
		}
		aimark_buf_dispose(&out);
	}
	aimark__image_dispose(&img);
	aimark_error_clear();
	return 0;
}

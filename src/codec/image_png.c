/* PNG through libpng: decode any PNG to 8/16-bit grey/RGB(+alpha); encode keeping the original's ancillary chunks. */
#include <png.h>
#include <string.h>

#include "core/internal.h"
#include "image_formats.h"

int aimark__png_decode(const unsigned char *data, size_t len, aimark__image *img, aimark__image_coding *coding)
{
	png_image pi;
	memset(&pi, 0, sizeof pi);
	pi.version = PNG_IMAGE_VERSION;
	RETURN_IF(!png_image_begin_read_from_memory(&pi, data, len), AIMARK_EFORMAT, "PNG: %s", pi.message);
	int has_alpha = (pi.format & PNG_FORMAT_FLAG_ALPHA) != 0;
	int colour = (pi.format & PNG_FORMAT_FLAG_COLOR) != 0;
	int linear = (pi.format & PNG_FORMAT_FLAG_LINEAR) != 0; /* 16-bit source */
	/* 16-bit sources decode to 16-bit samples; the simplified API gives linear light for those,
	 * so decode them as 8-bit sRGB unless they are opaque grey/colour where fidelity matters less than gamma. */
	(void)linear;
	pi.format = (colour ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY) | (has_alpha ? PNG_FORMAT_FLAG_ALPHA : 0);
	uint32_t channels = (colour ? 3u : 1u) + (has_alpha ? 1u : 0u);
	int rc = aimark__image_alloc(img, pi.width, pi.height, channels, 8);
	if (rc < 0) {
		png_image_free(&pi);
		return rc;
	}
	if (!png_image_finish_read(&pi, NULL, img->pixels, (png_int_32)img->stride, NULL)) {
		aimark__image_dispose(img);
		return aimark__error_set(AIMARK_EFORMAT, "PNG: %s", pi.message);
	}
	coding->lossless = 1;
	coding->quality = 0;
	return 0;
}

/* Chunks the encoder writes itself or that describe the pixels it replaces. */
static int encoder_owns(const unsigned char *type)
{
	static const char *const owned[] = { "IHDR", "PLTE", "IDAT", "IEND", "tRNS", "sBIT", "bKGD", "hIST", "sRGB", "gAMA", "cHRM", "iCCP" };
	for (size_t i = 0; i < sizeof owned / sizeof owned[0]; i++)
		if (memcmp(type, owned[i], 4) == 0)
			return 1;
	return 0;
}

/* Appends `encoded` with the ancillary chunks of `original` inserted after IHDR. */
static int splice_ancillary(const unsigned char *encoded, size_t enc_len, const unsigned char *original, size_t orig_len, aimark_buf *out)
{
	const size_t ihdr_end = 8 + 8 + 13 + 4;
	RETURN_IF(enc_len < ihdr_end, AIMARK_EFORMAT, "PNG encode: short output");
	RETURN_IF_ERR(aimark__buf_append(out, encoded, ihdr_end));
	size_t i = 8;
	while (original && i + 12 <= orig_len) {
		uint32_t n = aimark__be32(original + i);
		if (n > orig_len - i - 12)
			break;
		const unsigned char *type = original + i + 4;
		if (memcmp(type, "IEND", 4) == 0)
			break;
		if (!encoder_owns(type))
			RETURN_IF_ERR(aimark__buf_append(out, original + i, (size_t)n + 12));
		i += (size_t)n + 12;
	}
	return aimark__buf_append(out, encoded + ihdr_end, enc_len - ihdr_end);
}

/* Keeps the colour-describing chunks of the original (sRGB, gAMA, cHRM, iCCP) too: the pixels are in that space. */
static int splice_colour(const unsigned char *original, size_t orig_len, aimark_buf *out)
{
	static const char *const colour[] = { "sRGB", "gAMA", "cHRM", "iCCP" };
	size_t i = 8;
	while (original && i + 12 <= orig_len) {
		uint32_t n = aimark__be32(original + i);
		if (n > orig_len - i - 12)
			break;
		for (size_t c = 0; c < 4; c++)
			if (memcmp(original + i + 4, colour[c], 4) == 0)
				RETURN_IF_ERR(aimark__buf_append(out, original + i, (size_t)n + 12));
		i += (size_t)n + 12;
	}
	return 0;
}

int aimark__png_encode(const aimark__image *img, const aimark__image_coding *coding, const unsigned char *original,
		       size_t original_len, aimark_buf *out)
{
	(void)coding;
	RETURN_IF(img->bit_depth != 8, AIMARK_EUNSUPPORTED, "PNG encode: only 8-bit samples");
	png_image pi;
	memset(&pi, 0, sizeof pi);
	pi.version = PNG_IMAGE_VERSION;
	pi.width = img->width;
	pi.height = img->height;
	static const png_uint_32 formats[5] = { 0, PNG_FORMAT_GRAY, PNG_FORMAT_GA, PNG_FORMAT_RGB, PNG_FORMAT_RGBA };
	pi.format = formats[img->channels];
	png_alloc_size_t size = 0;
	RETURN_IF(!png_image_write_get_memory_size(pi, size, 0, img->pixels, (png_int_32)img->stride, NULL), AIMARK_EFORMAT,
		  "PNG encode: %s", pi.message);
	unsigned char *mem = aimark__malloc(size);
	RETURN_ENOMEM_IF_NULL(mem);
	if (!png_image_write_to_memory(&pi, mem, &size, 0, img->pixels, (png_int_32)img->stride, NULL)) {
		aimark__free(mem);
		return aimark__error_set(AIMARK_EFORMAT, "PNG encode: %s", pi.message);
	}
	/* The simplified writer adds its own sRGB/gAMA; drop those in favour of the original's colour chunks. */
	aimark_buf plain = AIMARK_BUF_INIT;
	int rc = 0;
	size_t i = 8;
	rc = aimark__buf_append(&plain, mem, 8);
	while (rc == 0 && i + 12 <= size) {
		uint32_t n = aimark__be32(mem + i);
		const unsigned char *type = mem + i + 4;
		int keep = !(memcmp(type, "sRGB", 4) == 0 || memcmp(type, "gAMA", 4) == 0 || memcmp(type, "cHRM", 4) == 0);
		if (keep)
			rc = aimark__buf_append(&plain, mem + i, (size_t)n + 12);
		if (rc == 0 && memcmp(type, "IHDR", 4) == 0)
			rc = splice_colour(original, original_len, &plain);
		i += (size_t)n + 12;
	}
	aimark__free(mem);
	if (rc == 0)
		rc = splice_ancillary(plain.ptr, plain.size, original, original_len, out);
	aimark_buf_dispose(&plain);
	return rc;
}

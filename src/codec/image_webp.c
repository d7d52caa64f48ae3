/* WebP through libwebp: decode to RGB(A); encode lossy at the given quality or lossless, keeping EXIF/XMP/ICCP. */
#include <string.h>
#include <webp/decode.h>
#include <webp/encode.h>
#include <webp/mux.h>

#include "core/internal.h"
#include "image_formats.h"

int aimark__webp_decode(const unsigned char *data, size_t len, aimark__image *img, aimark__image_coding *coding)
{
	WebPBitstreamFeatures f;
	RETURN_IF(WebPGetFeatures(data, len, &f) != VP8_STATUS_OK, AIMARK_EFORMAT, "WebP: not a decodable WebP bitstream");
	RETURN_IF(f.has_animation, AIMARK_EUNSUPPORTED, "WebP: animated images are not supported for pixel layers");
	RETURN_IF_ERR(aimark__image_check_claim((uint32_t)f.width, (uint32_t)f.height, len, "WebP"));
	uint32_t channels = f.has_alpha ? 4 : 3;
	RETURN_IF_ERR(aimark__image_alloc(img, (uint32_t)f.width, (uint32_t)f.height, channels, 8));
	uint8_t *ok = f.has_alpha ? WebPDecodeRGBAInto(data, len, img->pixels, img->stride * img->height, (int)img->stride)
				  : WebPDecodeRGBInto(data, len, img->pixels, img->stride * img->height, (int)img->stride);
	if (ok == NULL) {
		aimark__image_dispose(img);
		return aimark__error_set(AIMARK_EFORMAT, "WebP: corrupt image data");
	}
	coding->lossless = f.format == 2;
	/* The quality of a lossy WebP is not recorded in the file; 90 keeps generation loss small. */
	coding->quality = coding->lossless ? 0 : 90;
	return 0;
}

static int copy_chunk(WebPMux *dst, WebPMux *src, const char *fourcc)
{
	WebPData chunk;
	if (src && WebPMuxGetChunk(src, fourcc, &chunk) == WEBP_MUX_OK)
		RETURN_IF(WebPMuxSetChunk(dst, fourcc, &chunk, 1) != WEBP_MUX_OK, AIMARK_ENOMEM, "WebP: cannot keep the %s chunk", fourcc);
	return 0;
}

/*
 * Lossless through the advanced API with `exact` set: the simple
 * WebPEncodeLossless* calls rewrite the colour of fully transparent pixels
 * to compress better, and a lossless file must come back as it was.
 */
static size_t encode_lossless_exact(const aimark__image *img, uint8_t **mem)
{
	WebPConfig config;
	WebPPicture pic;
	WebPMemoryWriter writer;
	if (!WebPConfigInit(&config) || !WebPPictureInit(&pic))
		return 0;
	config.lossless = 1;
	config.exact = 1;
	pic.use_argb = 1;
	pic.width = (int)img->width;
	pic.height = (int)img->height;
	WebPMemoryWriterInit(&writer);
	pic.writer = WebPMemoryWrite;
	pic.custom_ptr = &writer;
	int ok = img->channels == 4 ? WebPPictureImportRGBA(&pic, img->pixels, (int)img->stride)
				    : WebPPictureImportRGB(&pic, img->pixels, (int)img->stride);
	ok = ok && WebPEncode(&config, &pic);
	WebPPictureFree(&pic);
	if (!ok) {
		WebPMemoryWriterClear(&writer);
		return 0;
	}
	*mem = writer.mem;
	return writer.size;
}

int aimark__webp_encode(const aimark__image *img, const aimark__image_coding *coding, const unsigned char *original,
			size_t original_len, aimark_buf *out)
{
	RETURN_IF(img->bit_depth != 8 || img->channels < 3, AIMARK_EUNSUPPORTED, "WebP encode: only 8-bit RGB or RGBA");
	uint8_t *mem = NULL;
	size_t n;
	if (coding->lossless)
		n = encode_lossless_exact(img, &mem);
	else
		n = img->channels == 4 ? WebPEncodeRGBA(img->pixels, (int)img->width, (int)img->height, (int)img->stride, (float)coding->quality, &mem)
				       : WebPEncodeRGB(img->pixels, (int)img->width, (int)img->height, (int)img->stride, (float)coding->quality, &mem);
	RETURN_IF(n == 0, AIMARK_EFORMAT, "WebP encode failed");
	int rc = 0;
	if (original) {
		WebPData orig = { original, original_len }, fresh = { mem, n };
		WebPMux *src = WebPMuxCreate(&orig, 0), *dst = WebPMuxCreate(&fresh, 0);
		WebPData assembled = { NULL, 0 };
		rc = dst ? 0 : aimark__error_set(AIMARK_ENOMEM, "WebP: mux failed");
		if (rc == 0) rc = copy_chunk(dst, src, "ICCP");
		if (rc == 0) rc = copy_chunk(dst, src, "EXIF");
		if (rc == 0) rc = copy_chunk(dst, src, "XMP ");
		if (rc == 0 && WebPMuxAssemble(dst, &assembled) != WEBP_MUX_OK)
			rc = aimark__error_set(AIMARK_EFORMAT, "WebP: cannot assemble the output");
		if (rc == 0)
			rc = aimark__buf_append(out, assembled.bytes, assembled.size);
		WebPDataClear(&assembled);
		WebPMuxDelete(src);
		WebPMuxDelete(dst);
	} else {
		rc = aimark__buf_append(out, mem, n);
	}
	WebPFree(mem);
	return rc;
}

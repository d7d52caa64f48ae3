/* The public image watermark calls on whole files in memory: decode, mark or detect, re-encode. */
#include <string.h>

#include "aimark/watermark.h"
#include "codec/image_codec.h"
#include "core/internal.h"
#include "wm/wm_image.h"

static const char *sniff(const unsigned char *p, size_t n)
{
	if (n >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF)
		return "jpeg";
	if (n >= 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0)
		return "png";
	if (n >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WEBP", 4) == 0)
		return "webp";
	return NULL;
}

static int pick_format(const void *data, size_t len, const char *format, const char **out)
{
	if (format == NULL)
		format = sniff(data, len);
	RETURN_IF(format == NULL, AIMARK_EUNSUPPORTED, "watermark: not a JPEG, PNG or WebP image");
	RETURN_IF(strcmp(format, "jpeg") != 0 && strcmp(format, "png") != 0 && strcmp(format, "webp") != 0, AIMARK_EUNSUPPORTED,
		  "watermark: cannot mark %s images", format);
	*out = format;
	return 0;
}

int aimark_wm_image_embed_memory(const void *data, size_t len, const char *format, const aimark_wm_key *key,
				 const unsigned char payload[AIMARK_WM_PAYLOAD_BYTES], float strength, aimark_buf *out)
{
	RETURN_IF(data == NULL || key == NULL || payload == NULL || out == NULL, AIMARK_EINVAL, "watermark: bad argument");
	const char *fmt;
	RETURN_IF_ERR(pick_format(data, len, format, &fmt));
	size_t mark = out->size;
	if (strcmp(fmt, "jpeg") == 0) {
		int rc = aimark__wm_jpeg_embed(data, len, key, payload, strength, out);
		if (rc != AIMARK_EUNSUPPORTED)
			return rc;
		/* e.g. an RGB-coded JPEG: fall back to pixels */
		aimark_error_clear();
		out->size = mark;
	}
	aimark__image img;
	aimark__image_coding coding;
	RETURN_IF_ERR(aimark__image_decode(data, len, fmt, &img, &coding));
	int rc = aimark__wm_image_embed(&img, key, payload, strength);
	if (rc == 0)
		rc = aimark__image_encode(&img, &coding, data, len, out);
	if (rc < 0)
		out->size = mark;
	aimark__image_dispose(&img);
	return rc;
}

int aimark_wm_image_detect_memory(const void *data, size_t len, const char *format, const aimark_wm_key *const *keys, size_t n_keys,
				  aimark_wm_result *res)
{
	RETURN_IF(data == NULL || res == NULL || (keys == NULL && n_keys > 0), AIMARK_EINVAL, "watermark: bad argument");
	const char *fmt;
	RETURN_IF_ERR(pick_format(data, len, format, &fmt));
	if (strcmp(fmt, "jpeg") == 0)
		return aimark__wm_jpeg_detect(data, len, keys, n_keys, res);
	aimark__image img;
	RETURN_IF_ERR(aimark__image_decode(data, len, fmt, &img, NULL));
	int rc = aimark__wm_image_detect(&img, keys, n_keys, res);
	aimark__image_dispose(&img);
	return rc;
}

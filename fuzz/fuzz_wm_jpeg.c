/*
 * Fuzz target: the image watermark's JPEG coefficient path (src/codec/jpeg_coef.c) on arbitrary
 * bytes. Detection reads only the luminance at a DCT scaling (what aimark-verify --key does with
 * any JPEG it is given); marking rewrites the coefficients (aimark-mark --watermark). Both must
 * fail cleanly or succeed; a marked output must decode as an image of the same size and go
 * through detection again. Inputs whose frame header claims more than 2^20 pixels are skipped so
 * that the fuzzer spends its time on structure, not on allocation.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aimark/aimark.h"
#include "aimark/watermark.h"
#include "codec/image_codec.h"
#include "core/internal.h"
#include "wm/wm_image.h"
#include "wm_keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_PIXELS (1u << 20)

/* Width x height of the first SOFn marker, or 0 when none is found. */
static uint64_t claimed_pixels(const uint8_t *d, size_t n)
{
	for (size_t i = 0; i + 9 < n; i++) {
		if (d[i] != 0xFF || d[i + 1] < 0xC0 || d[i + 1] > 0xCF || d[i + 1] == 0xC4 || d[i + 1] == 0xC8 || d[i + 1] == 0xCC)
			continue;
		uint32_t h = (uint32_t)d[i + 5] << 8 | d[i + 6], w = (uint32_t)d[i + 7] << 8 | d[i + 8];
		return (uint64_t)w * h;
	}
	return 0;
}

static void check_result(int rc, const aimark_wm_result *r)
{
	if (rc != 0)
		return;
	if (r->detected && !r->authenticated && r->false_alarm_probability > AIMARK__WM_MAX_FALSE_ALARM)
		abort();
	if (r->detected && (r->key_index < 0 || r->key_index > 1))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const aimark_wm_key *const *keys = fuzz_wm_keys();
	if (claimed_pixels(data, size) > MAX_PIXELS)
		return 0;
	aimark_wm_result r;
	check_result(aimark__wm_jpeg_detect(data, size, keys, 2, &r), &r);

	static const unsigned char payload[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	aimark_buf out = AIMARK_BUF_INIT;
	if (aimark__wm_jpeg_embed(data, size, keys[0], payload, 1.0f, &out) == 0) {
		aimark__image in_img, out_img;
		memset(&in_img, 0, sizeof in_img);
		memset(&out_img, 0, sizeof out_img);
		if (aimark__image_decode(out.ptr, out.size, "jpeg", &out_img, NULL) != 0)
			abort(); /* marking produced a JPEG that does not decode */
		if (aimark__image_decode(data, size, "jpeg", &in_img, NULL) == 0 &&
		    (in_img.width != out_img.width || in_img.height != out_img.height))
			abort();
		aimark__image_dispose(&in_img);
		aimark__image_dispose(&out_img);
		check_result(aimark__wm_jpeg_detect(out.ptr, out.size, keys, 2, &r), &r);
	}
	aimark_buf_dispose(&out);
	aimark_error_clear();
	return 0;
}

/*
 * Image watermark detector on arbitrary small images (up to 256x256): the first bytes choose
 * the geometry (width, height, channels, depth), the rest are the samples
 * (repeated to fill). Must never crash, leak or claim a detection it cannot
 * authenticate with a false-alarm probability above the threshold.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aimark/aimark.h"
#include "aimark/watermark.h"
#include "codec/image_codec.h"
#include "wm/wm_image.h"
#include "wm_keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const aimark_wm_key *const *keys = fuzz_wm_keys();
	if (size < 6)
		return 0;
	uint32_t w = 1 + ((uint32_t)data[0] << 8 | data[1]) % 256;
	uint32_t h = 1 + ((uint32_t)data[2] << 8 | data[3]) % 256;
	uint32_t ch = 1 + data[4] % 4;
	uint32_t depth = data[5] & 1 ? 16 : 8;
	data += 6;
	size -= 6;
	aimark__image img;
	if (aimark__image_alloc(&img, w, h, ch, depth) != 0)
		return 0;
	size_t n = img.stride * h;
	for (size_t i = 0; i < n && size > 0; i++)
		img.pixels[i] = data[i % size];
	aimark_wm_result r;
	int rc = aimark__wm_image_detect(&img, keys, 2, &r);
	if (rc == 0 && r.detected && !r.authenticated && r.false_alarm_probability > AIMARK__WM_MAX_FALSE_ALARM)
		abort();
	if (rc == 0 && r.detected && (r.key_index < 0 || r.key_index > 1))
		abort();
	/* embedding into the same buffer must work or fail cleanly */
	static const unsigned char payload[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	(void)aimark__wm_image_embed(&img, keys[0], payload, 1.0f);
	aimark__image_dispose(&img);
	return 0;
}

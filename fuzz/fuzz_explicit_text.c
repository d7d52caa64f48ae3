/*
 * Fuzzes the explicit label text rule (UTF-8 decoding, element scan, check,
 * description) and, for short texts, the FreeType layout and the image
 * label renderer fed with that text. (The detector takes pixels, not bytes,
 * and is too slow under coverage instrumentation; the unit tests give it
 * degenerate images.)
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aimark/aimark.h"
#include "codec/image_codec.h"
#include "label/explicit_image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	char *text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	/* Raw bytes, embedded NULs included. */
	(void)aimark__explicit_text_scan(text, size);
	size_t pos = 0;
	uint32_t cp;
	while (pos < size && aimark__explicit_text_next(text, size, &pos, &cp) == 0)
		;
	unsigned int found = 0;
	int valid = aimark__explicit_text_check(text, &found) == 0;
	char desc[48];
	aimark__explicit_text_describe(found | aimark__explicit_text_scan(text, size), desc, sizeof desc);

	/* Layout of any short text (malformed ones must fail cleanly). */
	static aimark__label_font *font;
	static int font_tried;
	if (!font_tried) {
		font_tried = 1;
		if (aimark__label_font_open(&font, NULL) != 0)
			font = NULL;
	}
	size_t len = strlen(text);
	if (font != NULL && len > 0 && len <= 64) {
		aimark__label_mask mask;
		if (aimark__label_render(font, text, 11.5, 0.25, 0.5, 1.3, 3, &mask) == 0)
			aimark__label_mask_dispose(&mask);
		aimark__image img;
		if (aimark__image_alloc(&img, 80, 60, 3, 8) == 0) {
			for (size_t i = 0; i < img.stride * img.height; i++)
				img.pixels[i] = (unsigned char)(i * 7 + size);
			if (valid) {
				aimark_mark_options o = AIMARK_MARK_OPTIONS_INIT;
				o.explicit_text = text;
				o.explicit_position = (size & 1) ? "top" : NULL;
				(void)aimark__explicit_image_apply(&img, &o, NULL);
			}
			aimark__image_dispose(&img);
		}
	}
	free(text);
	aimark_error_clear();
	return 0;
}

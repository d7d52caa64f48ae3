/*
 * Fuzz target: the text layers (src/text): explicit label, invisible mark,
 * detection and the normalised body, on hostile text, Markdown and HTML.
 * The first byte picks the format and the options; the rest is the document.
 * Checks: marking never fails on content; a document that received frames
 * authenticates; the mark never changes the normalised body; a label written
 * is found again, so marking twice adds nothing.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aimark/aimark.h"
#include "core/internal.h"
#include "text/text_stage.h"

static size_t count_marks(const unsigned char *p, size_t n)
{
	size_t c = 0;
	for (size_t i = 0; i + 4 <= n; i++)
		if (p[i] == 0xF3 && p[i + 1] == 0xA0 && p[i + 2] >= 0x84 && p[i + 2] <= 0x87)
			c++;
	return c;
}

static int same(const aimark_buf *a, const aimark_buf *b)
{
	return a->size == b->size && (a->size == 0 || memcmp(a->ptr, b->ptr, a->size) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static aimark_wm_key *key;
	if (key == NULL) {
		unsigned char kb[AIMARK_WM_KEY_BYTES] = { 1, 2, 3 };
		if (aimark_wm_key_new(&key, kb) != 0)
			abort();
	}
	if (size < 1 || size > (1u << 20))
		return 0;
	static const char *const formats[] = { "text", "markdown", "html" };
	static const char *const positions[] = { "start", "end", "both", NULL };
	const char *format = formats[data[0] % 3];
	const unsigned char *doc = data + 1;
	size_t n = size - 1;
	const unsigned char payload[8] = { 9, 8, 7, 6, 5, 4, 3, 2 };
	const aimark_wm_key *keys[1] = { key };

	aimark_mark_options o = AIMARK_MARK_OPTIONS_INIT;
	o.watermark_key = key;
	o.explicit_position = positions[(data[0] / 3) % 4];
	o.explicit_language = (data[0] / 12) % 2 ? "en" : "zh";

	aimark_buf wm = AIMARK_BUF_INIT, both = AIMARK_BUF_INIT, again = AIMARK_BUF_INIT;
	aimark_buf n_in = AIMARK_BUF_INIT, n_wm = AIMARK_BUF_INIT;
	json_t *e = NULL, *w = NULL;

	/* watermark only */
	o.layers = AIMARK_LAYER_WATERMARK;
	if (aimark__text_stage(doc, n, format, &o, payload, &wm) != 0)
		abort();
	if (aimark__text_detect(wm.ptr, wm.size, format, keys, 1, &e, &w) != 0)
		abort();
	if (count_marks(wm.ptr, wm.size) > count_marks(doc, n) && !json_is_true(json_object_get(w, "detected")))
		abort(); /* frames were written but do not read back */
	json_decref(e);
	json_decref(w);
	e = w = NULL;
	int r1 = aimark__text_normalize(doc, n, format, &n_in);
	int r2 = aimark__text_normalize(wm.ptr, wm.size, format, &n_wm);
	if (r1 != r2 || (r1 == 0 && !same(&n_in, &n_wm)))
		abort(); /* the mark is invisible to the content hash */

	/* explicit label and mark; marking again adds no second label */
	o.layers = AIMARK_LAYER_EXPLICIT | AIMARK_LAYER_WATERMARK;
	if (aimark__text_stage(doc, n, format, &o, payload, &both) != 0)
		abort();
	if (aimark__text_detect(both.ptr, both.size, format, NULL, 0, &e, &w) != 0)
		abort();
	if (!json_is_true(json_object_get(e, "detected")))
		abort(); /* the label written is found */
	o.layers = AIMARK_LAYER_EXPLICIT;
	if (aimark__text_stage(both.ptr, both.size, format, &o, payload, &again) != 0)
		abort();
	if (!same(&both, &again))
		abort();

	json_decref(e);
	json_decref(w);
	aimark_buf_dispose(&wm);
	aimark_buf_dispose(&both);
	aimark_buf_dispose(&again);
	aimark_buf_dispose(&n_in);
	aimark_buf_dispose(&n_wm);
	aimark_error_clear();
	return 0;
}

/*
 * Test driver for tests/browser: marks a text document with the text
 * layers' hooks (explicit label and invisible mark, a fixed test key) and
 * reads one back, printing {"explicit": {...}, "watermark": {...}}.
 *
 *   text_driver mark FORMAT IN OUT
 *   text_driver detect FORMAT IN
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aimark/aimark.h"
#include "core/internal.h"
#include "text/text_stage.h"

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		perror(path);
		exit(2);
	}
	size_t cap = 1 << 16, n = 0;
	unsigned char *p = malloc(cap);
	size_t got;
	while (p && (got = fread(p + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap)
			p = realloc(p, cap *= 2);
	}
	fclose(f);
	if (p == NULL)
		exit(2);
	*len = n;
	return p;
}

int main(int argc, char **argv)
{
	if (argc < 4 || (strcmp(argv[1], "mark") == 0 && argc < 5)) {
		fprintf(stderr, "usage: %s mark FORMAT IN OUT | detect FORMAT IN\n", argv[0]);
		return 2;
	}
	unsigned char kb[AIMARK_WM_KEY_BYTES];
	for (int i = 0; i < AIMARK_WM_KEY_BYTES; i++)
		kb[i] = (unsigned char)(0x5A + 7 * i);
	aimark_wm_key *key = NULL;
	if (aimark_wm_key_new(&key, kb) != 0)
		return 2;
	size_t len;
	unsigned char *in = slurp(argv[3], &len);
	const unsigned char payload[8] = { 0x6f, 0x1c, 0x0d, 0x2a, 0x9b, 0x8e, 0x4f, 0x7a };
	if (strcmp(argv[1], "mark") == 0) {
		aimark_mark_options o = AIMARK_MARK_OPTIONS_INIT;
		o.layers = AIMARK_LAYER_EXPLICIT | AIMARK_LAYER_WATERMARK;
		o.watermark_key = key;
		o.explicit_position = "both";
		aimark_buf out = AIMARK_BUF_INIT;
		if (aimark__text_stage(in, len, argv[2], &o, payload, &out) != 0) {
			fprintf(stderr, "mark: %s\n", aimark_error_last());
			return 1;
		}
		FILE *f = fopen(argv[4], "wb");
		if (f == NULL || fwrite(out.ptr, 1, out.size, f) != out.size || fclose(f) != 0) {
			perror(argv[4]);
			return 2;
		}
		aimark_buf_dispose(&out);
	} else {
		const aimark_wm_key *keys[1] = { key };
		json_t *e = NULL, *w = NULL;
		if (aimark__text_detect(in, len, argv[2], keys, 1, &e, &w) != 0) {
			fprintf(stderr, "detect: %s\n", aimark_error_last());
			return 1;
		}
		json_t *all = json_pack("{s:o, s:o}", "explicit", e, "watermark", w);
		char *s = json_dumps(all, JSON_COMPACT | JSON_PRESERVE_ORDER);
		printf("%s\n", s);
		free(s);
		json_decref(all);
	}
	free(in);
	aimark_wm_key_free(key);
	return 0;
}

/*
 * The two fixed watermark keys of the image watermark fuzz targets (all
 * zero, and the same with a 1 in the first byte), made on first use.
 * Included by fuzz_wm_<name>.c.
 */
#ifndef AIMARK_FUZZ_WM_KEYS_H
#define AIMARK_FUZZ_WM_KEYS_H

#include <stdlib.h>

#include "aimark/watermark.h"

static aimark_wm_key *g_keys[2];

static const aimark_wm_key *const *fuzz_wm_keys(void)
{
	if (g_keys[0] == NULL) {
		unsigned char b[32] = { 0 };
		if (aimark_wm_key_new(&g_keys[0], b) != 0)
			abort();
		b[0] = 1;
		if (aimark_wm_key_new(&g_keys[1], b) != 0)
			abort();
	}
	return (const aimark_wm_key *const *)g_keys;
}

#endif

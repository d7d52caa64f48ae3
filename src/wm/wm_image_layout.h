/*
 * The image watermark's tile: TILE x TILE chips repeated over the image.
 * SYNC_CHIPS chips (key-chosen positions and signs) form a known pattern
 * for translation and orientation; every other chip carries one coded bit,
 * multiplied by a key-derived sign. Derived once per key.
 */
#ifndef AIMARK_WM_IMAGE_LAYOUT_H
#define AIMARK_WM_IMAGE_LAYOUT_H

#include <stdint.h>

#define AIMARK__WM_TILE 64
#define AIMARK__WM_TILE_CHIPS (AIMARK__WM_TILE * AIMARK__WM_TILE)
#define AIMARK__WM_SYNC_CHIPS 1024

typedef struct aimark__wm_image_layout {
	int16_t bit[AIMARK__WM_TILE_CHIPS];  /* coded bit index carried by the chip, -1 for a sync chip */
	int8_t sign[AIMARK__WM_TILE_CHIPS];  /* +1/-1: sync value, or spreading sign */
} aimark__wm_image_layout;

/* Derives the layout from the key's 32-byte pattern sub-key. Returns 0 or a crypto error. */
int aimark__wm_image_layout_derive(aimark__wm_image_layout *layout, const unsigned char pattern_key[32]);

#endif

/*
 * Watermark keys: the 256-bit secret, the sub-keys derived from it with
 * HMAC-SHA256, and a deterministic pseudo-random stream (HMAC-SHA256 in
 * counter mode) from which every key-dependent pattern is drawn.
 */
#ifndef AIMARK_WM_KEY_H
#define AIMARK_WM_KEY_H

#include <stddef.h>
#include <stdint.h>

#include "aimark/watermark.h"
#include "wm/wm_image_layout.h"

struct aimark_wm_key {
	unsigned char secret[AIMARK_WM_KEY_BYTES];
	unsigned char auth_key[32];     /* authenticator (tag) key */
	unsigned char pattern_key[32];  /* pattern derivation key */
	char id[AIMARK_WM_KEY_ID_LEN + 1];
	aimark__wm_image_layout image;  /* the image engine's tile layout for this key */
};

/* A pseudo-random byte stream: HMAC-SHA256(key, label || counter). */
typedef struct aimark__wm_prng {
	unsigned char key[32];
	char label[32];
	uint32_t counter;
	unsigned char block[32];
	size_t used;
} aimark__wm_prng;

void aimark__wm_prng_init(aimark__wm_prng *p, const unsigned char key[32], const char *label);
int aimark__wm_prng_bytes(aimark__wm_prng *p, void *out, size_t len);
/* Uniform integer in [0, n) (n >= 1) by rejection; -1 on a crypto failure. */
int64_t aimark__wm_prng_below(aimark__wm_prng *p, uint32_t n);
void aimark__wm_prng_wipe(aimark__wm_prng *p);

#endif

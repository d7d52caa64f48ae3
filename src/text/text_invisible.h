/*
 * The invisible signed mark for finished text. The 64-bit payload and its
 * 48-bit authenticator (wm/wm_payload.h) are enciphered with a key stream
 * derived from the watermark key and written as one frame of 17 variation
 * selectors from the supplementary range (VS17..VS256, U+E0100..U+E01EF):
 * a sync selector U+E0180 followed by 16 selectors U+E0100 + v carrying 7
 * bits each. A frame is attached to a base character (the last letter of a
 * word, or CJK punctuation) at the start of the prose and then about every
 * AIMARK__TEXT_MARK_SPACING visible characters, so any excerpt of that length
 * and a little more carries a complete copy. docs/text.md explains the
 * choice of characters and what keeps or removes them.
 */
#ifndef AIMARK_TEXT_INVISIBLE_H
#define AIMARK_TEXT_INVISIBLE_H

#include <stddef.h>
#include <stdint.h>

#include "aimark/watermark.h"
#include "text/text_doc.h"

#define AIMARK__TEXT_MARK_BASE 0xE0100u   /* VS17: data value 0 */
#define AIMARK__TEXT_MARK_SYNC 0xE0180u   /* VS145: start of a version-1 frame */
#define AIMARK__TEXT_FRAME_SYMBOLS 17
#define AIMARK__TEXT_FRAME_BYTES 14       /* payload (8) + tag (6) */
#define AIMARK__TEXT_MARK_SPACING 96      /* visible characters between frames */
/* Distinct frames tried against the keys (a bound on the work and on the false-alarm probability). */
#define AIMARK__TEXT_MARK_MAX_CANDIDATES 1024

/* The 17 code points of the frame for `payload` under `key`. Returns 0 or AIMARK_ECRYPTO. */
int aimark__text_mark_frame(const aimark_wm_key *key, const unsigned char payload[8],
			    uint32_t frame[AIMARK__TEXT_FRAME_SYMBOLS]);

/*
 * The byte offsets in doc->d after which a frame goes (after a base
 * character inside the body's prose), in increasing order, into *out
 * (allocated; *n_out entries; free with aimark__free). Returns 0 or
 * AIMARK_ENOMEM.
 */
int aimark__text_mark_positions(const aimark__text_doc *doc, size_t **out, size_t *n_out);

typedef struct aimark__text_mark_result {
	int authenticated;          /* a frame's authenticator verified under one of the keys */
	int key_index;              /* that key, -1 otherwise */
	unsigned char payload[8];
	double false_alarm_probability; /* (candidates x keys) x 2^-48 when authenticated, else 1 */
	size_t frames;              /* complete frames found */
	size_t symbols;             /* mark characters found */
} aimark__text_mark_result;

/*
 * Looks for frames anywhere in `d` (numeric character references of the
 * mark's code points count as well when `html_refs`), and checks them
 * against the keys. Returns 0, AIMARK_ENOMEM or AIMARK_ECRYPTO.
 */
int aimark__text_mark_detect(const unsigned char *d, size_t n, int html_refs, const aimark_wm_key *const *keys,
			     size_t n_keys, aimark__text_mark_result *res);

#endif

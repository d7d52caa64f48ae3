/*
 * Payload coding shared by the watermark engines: 64 payload bits and a
 * 48-bit authenticator (HMAC-SHA256 under the key's auth sub-key, truncated)
 * form a 112-bit frame, protected by a rate-1/3 constraint-length-9
 * convolutional code (generators 557, 663, 711 octal) with 8 tail bits:
 * 360 coded bits, decoded by a soft-decision Viterbi decoder.
 */
#ifndef AIMARK_WM_PAYLOAD_H
#define AIMARK_WM_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "aimark/watermark.h"

#define AIMARK__WM_TAG_BITS 48
#define AIMARK__WM_INFO_BITS (64 + AIMARK__WM_TAG_BITS)  /* 112 */
#define AIMARK__WM_CONSTRAINT 9
#define AIMARK__WM_TAIL_BITS (AIMARK__WM_CONSTRAINT - 1)
#define AIMARK__WM_CODED_BITS (3 * (AIMARK__WM_INFO_BITS + AIMARK__WM_TAIL_BITS)) /* 360 */

/* Computes the 48-bit tag of `payload` under `key` (6 bytes). */
int aimark__wm_tag(const aimark_wm_key *key, const unsigned char payload[8], unsigned char tag[6]);

/* Frame (payload || tag) -> 360 coded bits, one per byte (0/1). */
int aimark__wm_encode(const aimark_wm_key *key, const unsigned char payload[8], unsigned char coded[AIMARK__WM_CODED_BITS]);

/* Convolutional encoding of 112 info bits (one per byte) into 360 coded bits. */
void aimark__wm_conv_encode(const unsigned char info[AIMARK__WM_INFO_BITS], unsigned char coded[AIMARK__WM_CODED_BITS]);

/*
 * Soft-decision Viterbi decoding. soft[i] > 0 favours coded bit i = 1.
 * Writes 112 info bits (one per byte).
 */
void aimark__wm_viterbi(const float soft[AIMARK__WM_CODED_BITS], unsigned char info[AIMARK__WM_INFO_BITS]);

/*
 * Decodes soft values into a payload and checks its tag in constant time.
 * Sets *authenticated and *bit_errors (hard decisions that disagree with the
 * re-encoded frame). Returns 0 or a crypto error.
 */
int aimark__wm_decode(const aimark_wm_key *key, const float soft[AIMARK__WM_CODED_BITS], unsigned char payload[8],
		      int *authenticated, int *bit_errors);

/*
 * Chase decoding: aimark__wm_decode(), and when the tag does not verify, up to
 * 2^flips - 1 more Viterbi decodes with the signs of the `flips` least reliable
 * soft values flipped in every combination, stopping at the first frame whose
 * tag verifies. Each decode is one more chance for noise to pass the tag:
 * *decodes (may be NULL) receives how many were run, for the false-alarm bound.
 * flips is capped at 8.
 */
int aimark__wm_decode_chase(const aimark_wm_key *key, const float soft[AIMARK__WM_CODED_BITS], int flips, unsigned char payload[8],
			    int *authenticated, int *bit_errors, int *decodes);

/* Matching tag bits between the decoded tag and the payload's tag, counted from the first (for FA calibration). */
int aimark__wm_tag_prefix_match(const aimark_wm_key *key, const unsigned char info[AIMARK__WM_INFO_BITS]);

#endif

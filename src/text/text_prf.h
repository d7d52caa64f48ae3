/*
 * The keyed pseudo-random function behind the statistical text watermark:
 * SipHash-2-4 (a PRF with a 128-bit key, derived from the watermark key with
 * HMAC-SHA256) seeds each context of previous token ids, and the SplitMix64
 * output function spreads that seed over the vocabulary, so one step costs
 * one SipHash plus a few multiplications per candidate token.
 */
#ifndef AIMARK_TEXT_PRF_H
#define AIMARK_TEXT_PRF_H

#include <stddef.h>
#include <stdint.h>

#include "aimark/watermark.h"

typedef struct aimark__text_prf {
	uint64_t k0, k1;
} aimark__text_prf;

/* SipHash-2-4 of `len` bytes under the 128-bit key (k0, k1). */
uint64_t aimark__text_siphash(uint64_t k0, uint64_t k1, const void *data, size_t len);

/*
 * Derives the PRF key for `purpose` ("greenlist", "tournament") from the
 * watermark key: HMAC-SHA256(pattern_key, "aimark-text-v1 " purpose), first
 * 16 bytes little-endian. Returns 0 or AIMARK_ECRYPTO.
 */
int aimark__text_prf_init(aimark__text_prf *prf, const aimark_wm_key *key, const char *purpose);

/* The seed of a context: SipHash over the ids as 32-bit little-endian words. */
uint64_t aimark__text_prf_seed(const aimark__text_prf *prf, const int32_t *ids, size_t n);

/* The 64 pseudo-random bits of `id` in the context whose seed is `seed`. */
static inline uint64_t aimark__text_prf_token(uint64_t seed, int32_t id)
{
	uint64_t z = seed + ((uint64_t)(uint32_t)id + 1u) * UINT64_C(0x9E3779B97F4A7C15);
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

void aimark__text_prf_wipe(aimark__text_prf *prf);

#endif

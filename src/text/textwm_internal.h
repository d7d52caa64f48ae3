/* Shared between the statistical text watermark's embedder and detector. */
#ifndef AIMARK_TEXTWM_INTERNAL_H
#define AIMARK_TEXTWM_INTERNAL_H

#include <stdint.h>

#include "aimark/textwm.h"
#include "text/text_prf.h"

/* default context: the tournament's changed to 2 with configuration version 2 (docs/text.md); the green list's stays 1 */
#define AIMARK__TEXTWM_DEFAULT_CONTEXT 2u
#define AIMARK__TEXTWM_V1_DEFAULT_CONTEXT 1u
#define AIMARK__TEXTWM_DEFAULT_GAMMA 0.25
#define AIMARK__TEXTWM_DEFAULT_DELTA 2.0
#define AIMARK__TEXTWM_DEFAULT_LAYERS 30u
#define AIMARK__TEXTWM_DEFAULT_FALSE_ALARM 1e-9

typedef struct aimark__textwm_params {
	int method;
	unsigned context, layers;
	uint64_t green_threshold; /* green when the top 32 bits are below it: gamma = threshold / 2^32 */
	uint64_t layer_mask;      /* the tournament's g bits: bit l is g_l */
	aimark__text_prf prf;
} aimark__textwm_params;

/* Fills defaults and checks ranges; `in` may be NULL. */
int aimark__textwm_resolve(const aimark_textwm_config *in, aimark_textwm_config *out);
/* Derives the keyed parameters of a resolved configuration. */
int aimark__textwm_params_init(aimark__textwm_params *p, const aimark_wm_key *key, const aimark_textwm_config *cfg);

/*
 * The hinge score of a token whose g bits hold c ones: max(0, c - offset),
 * offset layers/2 + 1 (layers/2 below 3 layers, so that a score can be
 * positive at all). It counts only clearly-above-half tokens, which is
 * where the tournament's evidence concentrates (docs/text.md).
 */
static inline unsigned aimark__textwm_hinge_offset(unsigned layers)
{
	return layers < 3 ? layers / 2 : layers / 2 + 1;
}

static inline int aimark__textwm_green(const aimark__textwm_params *p, uint64_t bits)
{
	return (bits >> 32) < p->green_threshold;
}

#endif

/* Shared between the statistical text watermark's embedder and detector. */
#ifndef AIMARK_TEXTWM_INTERNAL_H
#define AIMARK_TEXTWM_INTERNAL_H

#include <stdint.h>

#include "aimark/textwm.h"
#include "text/text_prf.h"

#define AIMARK__TEXTWM_DEFAULT_CONTEXT 1u
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

static inline int aimark__textwm_green(const aimark__textwm_params *p, uint64_t bits)
{
	return (bits >> 32) < p->green_threshold;
}

#endif

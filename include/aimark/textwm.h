/*
 * aimark/textwm.h - generation-time statistical watermark for text, over token ids.
 *
 * A language model's sampler calls the library once per generated token with
 * the ids generated so far (prompt included) and the model's logits or
 * probabilities; the library returns the watermarked distribution, or picks
 * the token from a random number the sampler supplies. A detector later
 * re-tokenises a text with the same tokenizer and scores the token ids. No
 * model and no tokenizer live in the library: ids in, ids out.
 *
 * Two methods, both keyed by a watermark key (aimark/watermark.h):
 *  - green list (after Kirchenbauer et al., 2023): the key and the previous
 *    `context` tokens select a pseudo-random share `gamma` of the vocabulary,
 *    whose logits get `delta` added. Detection counts green tokens; without
 *    the watermark the count is Binomial(scored, gamma) and the p-value is
 *    its exact upper tail.
 *  - tournament (in the spirit of SynthID-Text): `layers` rounds of a
 *    knock-out tournament between candidates drawn from the model's
 *    distribution, each round won by the candidate whose keyed bit g_l is 1.
 *    The library computes the tournament winner's distribution in closed form
 *    (so one random number picks the token), which equals the model's
 *    distribution on average over keys. Detection counts, for every scored
 *    token, how many of its `layers` g bits are 1 (c), and by default sums
 *    the hinge score max(0, c - (layers/2 + 1)): the p-value is the exact
 *    upper tail of that sum of independent per-token scores (each one's law
 *    follows from Binomial(layers, 1/2)). AIMARK_TEXTWM_SCORE_SUM sums c
 *    itself, whose law is Binomial(scored * layers, 1/2).
 *
 * A step whose context (the previous `context` ids) already occurred earlier
 * in the ids is left unmarked when generating, and such tokens are skipped
 * when detecting: repeating the key stream would bias the text and add no
 * evidence, and every scored token then draws on fresh key bits, which is
 * what makes the binomial p-value exact. The first `context` tokens (whose
 * context the detector does not see) are not scored either.
 * docs/text.md gives the method, the measured detection rates and the
 * entropy cost.
 *
 * THREAD SAFETY: a context (aimark_textwm) holds scratch memory: use it from
 * one thread at a time (one per generation stream). aimark_textwm_detect()
 * is safe from any thread; keys are immutable and shareable.
 */
#ifndef AIMARK_TEXTWM_H
#define AIMARK_TEXTWM_H

#include "common.h"
#include "watermark.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Methods (AIMARK_TEXTWM_DEFAULT: the tournament, which measured stronger at no entropy cost; docs/text.md). */
#define AIMARK_TEXTWM_DEFAULT 0
#define AIMARK_TEXTWM_GREENLIST 1
#define AIMARK_TEXTWM_TOURNAMENT 2

/** How the tournament's detector scores tokens (docs/text.md compares them). */
#define AIMARK_TEXTWM_SCORE_DEFAULT 0 /* the hinge score (version-1 configurations: the sum score) */
#define AIMARK_TEXTWM_SCORE_SUM 1     /* every g bit counts 1 (the only score of config version 1) */
#define AIMARK_TEXTWM_SCORE_HINGE 2   /* per token max(0, c - (layers/2 + 1)), c = its g bits equal to 1 */

/** Limits. */
#define AIMARK_TEXTWM_MAX_CONTEXT 8
#define AIMARK_TEXTWM_MAX_LAYERS 64
/** Longest id sequence aimark_textwm_detect() scores (AIMARK_ELIMIT beyond). */
#define AIMARK_TEXTWM_MAX_TOKENS (1u << 24)

/**
 * Watermark parameters. Embedding and detection must use the same method,
 * context, gamma and layers (delta only matters when embedding). Zero
 * fields mean the default.
 */
typedef struct aimark_textwm_config {
	unsigned int version;     /* AIMARK_TEXTWM_CONFIG_VERSION */
	int method;               /* AIMARK_TEXTWM_TOURNAMENT (the default) or AIMARK_TEXTWM_GREENLIST */
	unsigned int context;     /* previous tokens that seed the key stream, 1..8; default 2 for the tournament, 1 for the green list
	                             (version-1 configurations: 1) */
	double gamma;             /* green list: share of the vocabulary that is green, (0, 1); default 0.25 */
	double delta;             /* green list: bias added to green logits, (0, 20]; default 2.0 */
	unsigned int layers;      /* tournament: rounds, 1..64; default 30 */
	double max_false_alarm;   /* detection threshold on the p-value, (0, 1); default 1e-9 */
	/* version 2: */
	int score;                /* tournament detection: AIMARK_TEXTWM_SCORE_HINGE (default) or _SUM; not used when embedding */
} aimark_textwm_config;

/*
 * Version 2 added `score` and changed the tournament's defaults to context 2
 * and the hinge score (docs/text.md: they measured better). A version-1 structure
 * (without `score`) is still accepted everywhere and keeps the version-1
 * defaults, context 1 and the sum score, so text marked and detected
 * through it stays compatible.
 */
#define AIMARK_TEXTWM_CONFIG_VERSION 2
#define AIMARK_TEXTWM_CONFIG_INIT { AIMARK_TEXTWM_CONFIG_VERSION, AIMARK_TEXTWM_DEFAULT, 0, 0.0, 0.0, 0, 0.0, AIMARK_TEXTWM_SCORE_DEFAULT }

/** Initialises `cfg` (version 1 or 2; fields of that version only) to the defaults. Returns 0 or AIMARK_EINVAL (NULL, unknown version). */
AIMARK_API AIMARK_NODISCARD int aimark_textwm_config_init(aimark_textwm_config *cfg, unsigned int version);

/** What the per-token calls receive in `values`. */
typedef enum aimark_textwm_values {
	AIMARK_TEXTWM_LOGITS = 0, /* unnormalised log-probabilities; -INFINITY excludes a token */
	AIMARK_TEXTWM_PROBS = 1   /* non-negative weights (need not sum to 1) */
} aimark_textwm_values;

/** A per-stream watermarking context. */
typedef struct aimark_textwm aimark_textwm;

/**
 * Makes a context for `key` (borrowed: keep the key alive while the context
 * is used) and `cfg` (copied; NULL for the defaults). Returns 0, AIMARK_EINVAL
 * (NULL key or out-of-range parameters, the message says which),
 * AIMARK_ECRYPTO or AIMARK_ENOMEM. Free with aimark_textwm_free().
 */
AIMARK_API AIMARK_NODISCARD int aimark_textwm_new(aimark_textwm **out, const aimark_wm_key *key, const aimark_textwm_config *cfg);

/** Frees a context (sub-keys wiped). Accepts NULL. */
AIMARK_API void aimark_textwm_free(aimark_textwm *ctx);

/** The effective configuration of a context (defaults filled in); borrowed. */
AIMARK_API const aimark_textwm_config *aimark_textwm_get_config(const aimark_textwm *ctx);

/**
 * Watermarks one step's distribution in place. `prev_ids` are the `n_prev`
 * ids before the token to be sampled (prompt and output so far; only the
 * last `context` are used; with fewer, `values` is left unchanged and the
 * step is unmarked, as is a step whose context occurred earlier in
 * prev_ids). `values` holds `vocab_size` entries, entry i for token
 * id i.
 *   green list: LOGITS get `delta` added to green tokens; PROBS are
 *     reweighted by exp(delta) on green tokens and renormalised to sum 1.
 *   tournament: the entries are replaced by the tournament winner's
 *     distribution: PROBS as probabilities summing to 1, LOGITS as their
 *     natural logarithms (-INFINITY for impossible tokens).
 * Call it after every other transformation (temperature, top-k, top-p) and
 * sample from the result. Returns 0, AIMARK_EINVAL (NULL pointers,
 * vocab_size 0 or above INT32_MAX+1, a negative or NaN probability, no token
 * possible) or AIMARK_ENOMEM.
 */
AIMARK_API AIMARK_NODISCARD int aimark_textwm_process(aimark_textwm *ctx, const int32_t *prev_ids, size_t n_prev,
	float *values, size_t vocab_size, aimark_textwm_values kind);

/**
 * As aimark_textwm_process() for a candidate list (after top-k, say):
 * `values[i]` belongs to token `ids[i]`, i < n. Ids must be distinct.
 */
AIMARK_API AIMARK_NODISCARD int aimark_textwm_process_candidates(aimark_textwm *ctx, const int32_t *prev_ids, size_t n_prev,
	const int32_t *ids, float *values, size_t n, aimark_textwm_values kind);

/**
 * Picks the next token: watermarks the distribution given by `values`
 * (dense when `ids` is NULL, else a candidate list as above; `values` is not
 * modified) and draws from it by inversion with `u`, a uniform random number
 * in [0, 1) from the sampler's own generator. Stores the id in *token.
 * Returns 0, AIMARK_EINVAL or AIMARK_ENOMEM.
 */
AIMARK_API AIMARK_NODISCARD int aimark_textwm_sample(aimark_textwm *ctx, const int32_t *prev_ids, size_t n_prev,
	const int32_t *ids, const float *values, size_t n, aimark_textwm_values kind, double u, int32_t *token);

/** What a detection found. */
typedef struct aimark_textwm_result {
	int detected;            /* 1 when p_value <= the config's max_false_alarm */
	size_t tokens;           /* ids given */
	size_t tokens_scored;    /* tokens scored: those whose context is new (repeated n-grams skipped) */
	uint64_t hits;           /* green tokens; tournament: g bits equal to 1 summed over layers (SUM) or the summed hinge scores (HINGE) */
	uint64_t trials;         /* green list and SUM: Bernoulli trials under no watermark, tokens_scored (x layers for SUM); HINGE: tokens_scored */
	double hit_rate_null;    /* mean of one trial's score without the watermark: gamma as quantised, 0.5 (SUM), the hinge score's mean (HINGE) */
	double score;            /* z-score: (hits - trials * mean) / (sqrt(trials) * sd of one trial's score); 0 when nothing scored */
	double p_value;          /* P(X >= hits) under no watermark: exact binomial tail (green list, SUM); HINGE: exact, or a Chernoff
	                            upper bound (never smaller than the exact value) when scored tokens x hits is too large to sum exactly;
	                            1 when nothing scored */
	double log10_p_value;    /* log10 of p_value, finite where p_value underflows to 0 */
} aimark_textwm_result;

/**
 * Scores `n` token ids for the watermark of `key` with `cfg` (NULL: the
 * defaults; it must match the embedding configuration). Fills `res`;
 * "not detected" is a result, not an error. Returns 0, AIMARK_EINVAL,
 * AIMARK_ELIMIT (n > AIMARK_TEXTWM_MAX_TOKENS), AIMARK_ECRYPTO or
 * AIMARK_ENOMEM. Thread-safe.
 */
AIMARK_API AIMARK_NODISCARD int aimark_textwm_detect(const aimark_wm_key *key, const int32_t *ids, size_t n,
	const aimark_textwm_config *cfg, aimark_textwm_result *res);

#ifdef __cplusplus
}
#endif
#endif

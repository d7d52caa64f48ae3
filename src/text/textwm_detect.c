/*
 * Detection of the statistical text watermark: every token whose context is
 * new is scored once; the scores are summed and compared with the exact
 * distribution the sum follows without the watermark (binomial for the
 * green list and the tournament's SUM score, a convolution of the
 * per-token law for the HINGE score).
 */
#include <math.h>
#include <string.h>

#include "aimark/textwm.h"
#include "core/internal.h"
#include "text/text_binomial.h"
#include "text/textwm_internal.h"

/* Open-addressing set of 64-bit tuple digests (0 marks an empty slot). */
typedef struct seen_set {
	uint64_t *slots;
	size_t mask;
} seen_set;

static int seen_init(seen_set *s, size_t n)
{
	size_t cap = 16;
	while (cap < 2 * n)
		cap *= 2;
	s->slots = aimark__calloc(cap, sizeof *s->slots);
	RETURN_ENOMEM_IF_NULL(s->slots);
	s->mask = cap - 1;
	return 0;
}

/* Inserts `v`; returns 1 when it was already there. */
static int seen_insert(seen_set *s, uint64_t v)
{
	if (v == 0)
		v = 1;
	size_t i = (size_t)(v ^ (v >> 29)) & s->mask;
	while (s->slots[i] != 0) {
		if (s->slots[i] == v)
			return 1;
		i = (i + 1) & s->mask;
	}
	s->slots[i] = v;
	return 0;
}

/*
 * Work allowed for the exact tail of the hinge score (scored tokens x summed
 * score x score range): about 0.1 s. Longer or more strongly marked texts get
 * the Chernoff bound, which is conservative and by then far below any threshold.
 */
#define HINGE_EXACT_BUDGET UINT64_C(100000000)

/* The per-token law of the hinge score, its mean and sd, and the p-value of `hits`. */
static int hinge_p_value(unsigned layers, unsigned offset, uint64_t scored, uint64_t hits, aimark_textwm_result *res)
{
	double pmf[AIMARK__TEXT_IID_MAX_SCORE + 1] = { 0 };
	unsigned w = layers - offset;
	/* Binomial(layers, 1/2) from its coefficients (exact in double for layers <= 64 up to rounding) */
	double binom = 1.0, scale = ldexp(1.0, -(int)layers);
	for (unsigned k = 0; k <= layers; k++) {
		double pk = binom * scale;
		pmf[k > offset ? k - offset : 0] += pk;
		binom = binom * (double)(layers - k) / (double)(k + 1);
	}
	double mean = 0.0, sq = 0.0;
	for (unsigned k = 0; k <= w; k++) {
		mean += pmf[k] * k;
		sq += pmf[k] * k * k;
	}
	double sd = sqrt(sq - mean * mean);
	res->hit_rate_null = mean;
	res->score = ((double)hits - (double)scored * mean) / (sqrt((double)scored) * sd);
	double ln_p = aimark__text_iid_log_sf(pmf, w, scored, hits, HINGE_EXACT_BUDGET);
	RETURN_IF(ln_p > 0.0, AIMARK_ENOMEM, "out of memory");
	res->p_value = exp(ln_p);
	res->log10_p_value = ln_p / log(10.0);
	return 0;
}

int aimark_textwm_detect(const aimark_wm_key *key, const int32_t *ids, size_t n, const aimark_textwm_config *cfg,
			 aimark_textwm_result *res)
{
	RETURN_IF(key == NULL || res == NULL || (ids == NULL && n > 0), AIMARK_EINVAL, "text watermark: NULL argument");
	memset(res, 0, sizeof *res);
	res->p_value = 1.0;
	res->tokens = n;
	RETURN_IF(n > AIMARK_TEXTWM_MAX_TOKENS, AIMARK_ELIMIT, "text watermark: %zu token ids exceed the limit of %u", n,
		  AIMARK_TEXTWM_MAX_TOKENS);
	aimark_textwm_config c;
	RETURN_IF_ERR(aimark__textwm_resolve(cfg, &c));
	aimark__textwm_params p;
	RETURN_IF_ERR(aimark__textwm_params_init(&p, key, &c));
	double rate = p.method == AIMARK_TEXTWM_GREENLIST ? (double)p.green_threshold / 4294967296.0 : 0.5;
	res->hit_rate_null = rate;
	if (n <= p.context) {
		aimark__text_prf_wipe(&p.prf);
		return 0;
	}
	seen_set seen = { NULL, 0 };
	int rc = seen_init(&seen, n - p.context);
	if (rc < 0) {
		aimark__text_prf_wipe(&p.prf);
		return rc;
	}
	int hinge = p.method == AIMARK_TEXTWM_TOURNAMENT && c.score == AIMARK_TEXTWM_SCORE_HINGE;
	unsigned offset = aimark__textwm_hinge_offset(p.layers);
	uint64_t hits = 0, scored = 0;
	for (size_t t = p.context; t < n; t++) {
		uint64_t seed = aimark__text_prf_seed(&p.prf, ids + t - p.context, p.context);
		if (seen_insert(&seen, seed))
			continue; /* a repeated context: generation leaves it unmarked, and its key stream is not new */
		uint64_t bits = aimark__text_prf_token(seed, ids[t]);
		scored++;
		if (p.method == AIMARK_TEXTWM_GREENLIST)
			hits += (uint64_t)aimark__textwm_green(&p, bits);
		else if (hinge) {
			unsigned ones = (unsigned)__builtin_popcountll(bits & p.layer_mask);
			hits += ones > offset ? ones - offset : 0;
		} else
			hits += (uint64_t)__builtin_popcountll(bits & p.layer_mask);
	}
	aimark__free(seen.slots);
	aimark__text_prf_wipe(&p.prf);
	res->tokens_scored = (size_t)scored;
	res->hits = hits;
	if (hinge) {
		res->trials = scored;
		if (scored > 0)
			RETURN_IF_ERR(hinge_p_value(p.layers, offset, scored, hits, res));
		res->detected = res->p_value <= c.max_false_alarm;
		return 0;
	}
	uint64_t trials = p.method == AIMARK_TEXTWM_GREENLIST ? scored : scored * p.layers;
	res->trials = trials;
	if (trials > 0) {
		double ln_p = aimark__text_binom_log_sf(trials, hits, rate);
		res->p_value = exp(ln_p);
		res->log10_p_value = ln_p / log(10.0);
		res->score = ((double)hits - (double)trials * rate) / sqrt((double)trials * rate * (1.0 - rate));
	}
	res->detected = res->p_value <= c.max_false_alarm;
	return 0;
}

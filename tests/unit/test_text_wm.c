/*
 * The generation-time text watermark (include/aimark/textwm.h): the PRF, the
 * exact binomial and hinge-score tails, the per-token calls, and detection on text sampled
 * from a trigram model of the public-domain corpus in tests/data/text-corpus.
 */
#include <math.h>
#include <string.h>

#include "testutil.h"

#include "aimark/textwm.h"
#include "aimark/watermark.h"
#include "text/text_binomial.h"
#include "text/text_prf.h"
#include "text/textwm_internal.h"

#include "../../bench/textwm_ngram.h"

static aimark_wm_key *make_key(unsigned char seed)
{
	unsigned char b[AIMARK_WM_KEY_BYTES];
	for (int i = 0; i < AIMARK_WM_KEY_BYTES; i++)
		b[i] = (unsigned char)(seed + 31 * i);
	aimark_wm_key *k = NULL;
	assert_int_equal(aimark_wm_key_new(&k, b), 0);
	return k;
}

/* Reference vectors of the SipHash paper (key 00..0f, messages 00..len-1). */
static void test_siphash_vectors(void **state)
{
	(void)state;
	unsigned char msg[16];
	for (int i = 0; i < 16; i++)
		msg[i] = (unsigned char)i;
	uint64_t k0 = UINT64_C(0x0706050403020100), k1 = UINT64_C(0x0f0e0d0c0b0a0908);
	assert_true(aimark__text_siphash(k0, k1, msg, 0) == UINT64_C(0x726fdb47dd0e0e31));
	assert_true(aimark__text_siphash(k0, k1, msg, 15) == UINT64_C(0xa129ca6149be45e5));
}

static void test_binomial_tail(void **state)
{
	(void)state;
	/* against direct summation for a small n */
	const uint64_t n = 40;
	const double p = 0.25;
	double pmf[41];
	for (uint64_t k = 0; k <= n; k++) {
		double c = 1.0;
		for (uint64_t i = 0; i < k; i++)
			c = c * (double)(n - i) / (double)(i + 1);
		pmf[k] = c * pow(p, (double)k) * pow(1 - p, (double)(n - k));
	}
	for (uint64_t k = 0; k <= n; k++) {
		double tail = 0.0;
		for (uint64_t i = k; i <= n; i++)
			tail += pmf[i];
		double got = exp(aimark__text_binom_log_sf(n, k, p));
		if (fabs(got - tail) > 1e-12 * tail + 1e-300)
			fail_msg("P(X >= %u): %.17g, expected %.17g", (unsigned)k, got, tail);
	}
	/* far below the smallest double: log P(X >= n) = n log p */
	double l = aimark__text_binom_log_sf(30000, 30000, 0.5);
	assert_true(fabs(l - 30000 * log(0.5)) < 1e-6);
	assert_true(aimark__text_binom_log_sf(10, 11, 0.5) == -INFINITY);
	assert_true(aimark__text_binom_log_sf(10, 0, 0.5) == 0.0);
}

/* The tail of a sum of i.i.d. small scores: exact against a full convolution, the Chernoff bound never below it. */
static void test_iid_tail(void **state)
{
	(void)state;
	const double pmf[5] = { 0.5, 0.2, 0.15, 0.1, 0.05 };
	enum { W = 4, MAXN = 60, SUP = MAXN * W + 1 };
	static double d[SUP], e[SUP];
	for (unsigned n = 1; n <= MAXN; n += 7) {
		memset(d, 0, sizeof d);
		d[0] = 1.0;
		for (unsigned t = 0; t < n; t++) {
			memset(e, 0, sizeof e);
			for (unsigned i = 0; i + W < SUP; i++)
				for (unsigned k = 0; k <= W; k++)
					e[i + k] += d[i] * pmf[k];
			memcpy(d, e, sizeof d);
		}
		for (uint64_t sv = 0; sv <= (uint64_t)n * W + 1; sv++) {
			double tail = 0.0;
			for (unsigned i = (unsigned)sv; i < SUP; i++)
				tail += d[i];
			double exact = exp(aimark__text_iid_log_sf(pmf, W, n, sv, UINT64_C(1) << 40));
			double bound = exp(aimark__text_iid_log_sf(pmf, W, n, sv, 0));
			if (fabs(exact - tail) > 1e-12 * tail)
				fail_msg("n %u, P(S >= %u): %.17g, expected %.17g", n, (unsigned)sv, exact, tail);
			if (bound < tail * (1 - 1e-12))
				fail_msg("n %u, s %u: Chernoff bound %.17g below the exact %.17g", n, (unsigned)sv, bound, tail);
		}
	}
	/* far below the smallest double, still finite: P(S >= n w) = pmf[w]^n */
	double l = aimark__text_iid_log_sf(pmf, W, 2000, 2000 * W, UINT64_C(1) << 40);
	assert_true(fabs(l - 2000 * log(pmf[W])) < 1e-6 * fabs(l));
	assert_true(aimark__text_iid_log_sf(pmf, W, 10, 0, 1000) == 0.0);
	assert_true(aimark__text_iid_log_sf(pmf, W, 10, 41, 1000) == -INFINITY);
}

/*
 * The hinge score and its p-value on arbitrary ids, recomputed here from
 * the key stream and a direct convolution of the per-token law.
 */
static void test_hinge_score(void **state)
{
	(void)state;
	aimark_wm_key *key = make_key(9);
	enum { N = 120, L = 30 };
	int32_t ids[N];
	for (int i = 0; i < N; i++)
		ids[i] = 1000 + i; /* every context new */
	aimark__text_prf prf;
	assert_int_equal(aimark__text_prf_init(&prf, key, "tournament"), 0);
	unsigned off = aimark__textwm_hinge_offset(L);
	assert_int_equal(off, 16);
	uint64_t hits = 0, ones = 0;
	for (int t = 1; t < N; t++) {
		uint64_t bits = aimark__text_prf_token(aimark__text_prf_seed(&prf, ids + t - 1, 1), ids[t]);
		unsigned c = (unsigned)__builtin_popcountll(bits & ((UINT64_C(1) << L) - 1));
		ones += c;
		hits += c > off ? c - off : 0;
	}
	aimark__text_prf_wipe(&prf);
	/* the per-token law from Binomial(30, 1/2), convolved N - 1 times */
	double pt[L + 1] = { 0 }, c = 1.0;
	for (unsigned k = 0; k <= L; k++) {
		pt[k > off ? k - off : 0] += c / 1073741824.0;
		c = c * (L - k) / (k + 1);
	}
	static double d[(N - 1) * (L - 16) + 1], e[(N - 1) * (L - 16) + 1];
	unsigned w = L - off, sup = (N - 1) * w + 1;
	memset(d, 0, sizeof d);
	d[0] = 1.0;
	for (int t = 1; t < N; t++) {
		memset(e, 0, sizeof e);
		for (unsigned i = 0; i < sup; i++)
			for (unsigned k = 0; k <= w && i + k < sup; k++)
				e[i + k] += d[i] * pt[k];
		memcpy(d, e, sizeof d);
	}
	double tail = 0.0;
	for (unsigned i = (unsigned)hits; i < sup; i++)
		tail += d[i];
	aimark_textwm_result r;
	aimark_textwm_config hinge = AIMARK_TEXTWM_CONFIG_INIT;
	hinge.context = 1;
	assert_int_equal(aimark_textwm_detect(key, ids, N, &hinge, &r), 0);
	assert_int_equal(r.tokens_scored, N - 1);
	assert_int_equal(r.trials, N - 1);
	assert_int_equal(r.hits, hits);
	assert_true(fabs(r.p_value - tail) <= 1e-9 * tail);
	/* the sum score of the same ids */
	aimark_textwm_config sum = hinge;
	sum.score = AIMARK_TEXTWM_SCORE_SUM;
	assert_int_equal(aimark_textwm_detect(key, ids, N, &sum, &r), 0);
	assert_int_equal(r.hits, ones);
	assert_int_equal(r.trials, (N - 1) * L);
	assert_true(fabs(r.p_value - exp(aimark__text_binom_log_sf((N - 1) * L, ones, 0.5))) <= 1e-12);
	aimark_wm_key_free(key);
}

static void test_config(void **state)
{
	(void)state;
	aimark_wm_key *key = make_key(1);
	aimark_textwm *ctx = NULL;
	assert_int_equal(aimark_textwm_new(&ctx, key, NULL), 0);
	const aimark_textwm_config *c = aimark_textwm_get_config(ctx);
	assert_int_equal(c->method, AIMARK_TEXTWM_TOURNAMENT);
	assert_int_equal(c->layers, 30);
	assert_int_equal(c->context, 2);
	assert_int_equal(c->score, AIMARK_TEXTWM_SCORE_HINGE);
	assert_true(c->max_false_alarm == 1e-9);
	aimark_textwm_free(ctx);

	aimark_textwm_config bad = AIMARK_TEXTWM_CONFIG_INIT;
	bad.gamma = 1.5;
	assert_int_equal(aimark_textwm_new(&ctx, key, &bad), AIMARK_EINVAL);
	bad = (aimark_textwm_config)AIMARK_TEXTWM_CONFIG_INIT;
	bad.layers = 65;
	assert_int_equal(aimark_textwm_new(&ctx, key, &bad), AIMARK_EINVAL);
	bad = (aimark_textwm_config)AIMARK_TEXTWM_CONFIG_INIT;
	bad.context = 9;
	assert_int_equal(aimark_textwm_new(&ctx, key, &bad), AIMARK_EINVAL);
	bad = (aimark_textwm_config)AIMARK_TEXTWM_CONFIG_INIT;
	bad.method = 7;
	assert_int_equal(aimark_textwm_new(&ctx, key, &bad), AIMARK_EINVAL);
	bad = (aimark_textwm_config)AIMARK_TEXTWM_CONFIG_INIT;
	bad.version = 99;
	assert_int_equal(aimark_textwm_new(&ctx, key, &bad), AIMARK_EINVAL);
	assert_int_equal(aimark_textwm_new(&ctx, NULL, NULL), AIMARK_EINVAL);
	bad = (aimark_textwm_config)AIMARK_TEXTWM_CONFIG_INIT;
	bad.score = 9;
	assert_int_equal(aimark_textwm_new(&ctx, key, &bad), AIMARK_EINVAL);
	assert_int_equal(aimark_textwm_config_init(&bad, 3), AIMARK_EINVAL);
	assert_int_equal(aimark_textwm_config_init(&bad, 0), AIMARK_EINVAL);
	assert_int_equal(aimark_textwm_config_init(&bad, AIMARK_TEXTWM_CONFIG_VERSION), 0);
	assert_int_equal(bad.score, AIMARK_TEXTWM_SCORE_DEFAULT);
	assert_int_equal(aimark_textwm_new(&ctx, key, &bad), 0);
	assert_int_equal(aimark_textwm_get_config(ctx)->score, AIMARK_TEXTWM_SCORE_HINGE);
	aimark_textwm_free(ctx);
	bad.score = AIMARK_TEXTWM_SCORE_SUM;
	assert_int_equal(aimark_textwm_new(&ctx, key, &bad), 0);
	assert_int_equal(aimark_textwm_get_config(ctx)->score, AIMARK_TEXTWM_SCORE_SUM);
	aimark_textwm_free(ctx);
	/* the green list keeps one token of context by default */
	bad = (aimark_textwm_config)AIMARK_TEXTWM_CONFIG_INIT;
	bad.method = AIMARK_TEXTWM_GREENLIST;
	assert_int_equal(aimark_textwm_new(&ctx, key, &bad), 0);
	assert_int_equal(aimark_textwm_get_config(ctx)->context, 1);
	aimark_textwm_free(ctx);
	/* a version-1 caller: the structure ends before `score`, and detection keeps the version-1 (sum) score */
	aimark_textwm_config v1;
	memset(&v1, 0x5a, sizeof v1);
	int sentinel = v1.score;
	assert_int_equal(aimark_textwm_config_init(&v1, 1), 0);
	assert_int_equal(v1.version, 1);
	assert_int_equal(v1.score, sentinel);
	assert_int_equal(aimark_textwm_new(&ctx, key, &v1), 0);
	assert_int_equal(aimark_textwm_get_config(ctx)->score, AIMARK_TEXTWM_SCORE_SUM);
	assert_int_equal(aimark_textwm_get_config(ctx)->context, 1);
	aimark_textwm_free(ctx);
	int32_t ids[50];
	for (int i = 0; i < 50; i++)
		ids[i] = 7 * i;
	aimark_textwm_result r;
	assert_int_equal(aimark_textwm_detect(key, ids, 50, &v1, &r), 0);
	assert_int_equal(r.trials, 49 * 30);
	aimark_wm_key_free(key);
}

static void test_greenlist_process(void **state)
{
	(void)state;
	aimark_wm_key *key = make_key(2);
	aimark_textwm_config cfg = AIMARK_TEXTWM_CONFIG_INIT;
	cfg.method = AIMARK_TEXTWM_GREENLIST;
	cfg.context = 1; /* the repeated-context case below is written for one token of context */
	aimark_textwm *ctx = NULL;
	assert_int_equal(aimark_textwm_new(&ctx, key, &cfg), 0);
	enum { V = 20000 };
	static float logits[V], probs[V];
	for (int i = 0; i < V; i++)
		logits[i] = (float)(i % 7) - 3.0f;
	int32_t prev[3] = { 5, 9, 11 };
	assert_int_equal(aimark_textwm_process(ctx, prev, 3, logits, V, AIMARK_TEXTWM_LOGITS), 0);
	int green = 0;
	for (int i = 0; i < V; i++) {
		float d = logits[i] - ((float)(i % 7) - 3.0f);
		assert_true(fabsf(d) < 1e-6f || fabsf(d - 2.0f) < 1e-6f);
		green += d > 1.0f;
	}
	/* a quarter of the vocabulary, give or take a few standard deviations */
	assert_true(abs(green - V / 4) < 400);

	/* probabilities: green ones scaled by e^2, then renormalised */
	for (int i = 0; i < V; i++)
		probs[i] = 1.0f / V;
	assert_int_equal(aimark_textwm_process(ctx, prev, 3, probs, V, AIMARK_TEXTWM_PROBS), 0);
	double sum = 0;
	int green2 = 0;
	for (int i = 0; i < V; i++) {
		sum += probs[i];
		green2 += probs[i] > 2.0f / V;
	}
	assert_true(fabs(sum - 1.0) < 1e-4);
	assert_int_equal(green2, green);

	/* a repeated context is left alone */
	int32_t rep[3] = { 11, 4, 11 };
	for (int i = 0; i < V; i++)
		logits[i] = 0.5f;
	assert_int_equal(aimark_textwm_process(ctx, rep, 3, logits, V, AIMARK_TEXTWM_LOGITS), 0);
	for (int i = 0; i < V; i++)
		assert_true(logits[i] == 0.5f);
	/* so is a step without a full context */
	assert_int_equal(aimark_textwm_process(ctx, NULL, 0, logits, V, AIMARK_TEXTWM_LOGITS), 0);
	assert_true(logits[0] == 0.5f);

	/* candidates: the same greens as the dense call */
	int32_t ids[4] = { 100, 2000, 3000, 19999 };
	float cand[4] = { 0, 0, 0, 0 }, dense[V];
	for (int i = 0; i < V; i++)
		dense[i] = 0;
	assert_int_equal(aimark_textwm_process_candidates(ctx, prev, 3, ids, cand, 4, AIMARK_TEXTWM_LOGITS), 0);
	assert_int_equal(aimark_textwm_process(ctx, prev, 3, dense, V, AIMARK_TEXTWM_LOGITS), 0);
	for (int i = 0; i < 4; i++)
		assert_true(cand[i] == dense[ids[i]]);
	aimark_textwm_free(ctx);
	aimark_wm_key_free(key);
}

/* Averaged over contexts (that is, over key streams) the tournament keeps the model's distribution. */
static void test_tournament_unbiased(void **state)
{
	(void)state;
	aimark_wm_key *key = make_key(3);
	aimark_textwm *ctx = NULL;
	assert_int_equal(aimark_textwm_new(&ctx, key, NULL), 0);
	const float p[4] = { 0.4f, 0.3f, 0.2f, 0.1f };
	double avg[4] = { 0 };
	const int trials = 4000;
	for (int t = 0; t < trials; t++) {
		float q[4];
		memcpy(q, p, sizeof q);
		int32_t prev = t;
		assert_int_equal(aimark_textwm_process(ctx, &prev, 1, q, 4, AIMARK_TEXTWM_PROBS), 0);
		double s = 0;
		for (int i = 0; i < 4; i++) {
			s += q[i];
			avg[i] += q[i] / trials;
		}
		assert_true(fabs(s - 1.0) < 1e-5);
	}
	for (int i = 0; i < 4; i++)
		if (fabs(avg[i] - p[i]) > 0.02)
			fail_msg("token %d: mean tournament probability %.4f, model %.4f", i, avg[i], (double)p[i]);
	/* logits give the same distribution, as log-probabilities */
	float lg[4], pr[4];
	int32_t prev = 77;
	for (int i = 0; i < 4; i++) {
		lg[i] = logf(p[i]);
		pr[i] = p[i];
	}
	assert_int_equal(aimark_textwm_process(ctx, &prev, 1, lg, 4, AIMARK_TEXTWM_LOGITS), 0);
	assert_int_equal(aimark_textwm_process(ctx, &prev, 1, pr, 4, AIMARK_TEXTWM_PROBS), 0);
	for (int i = 0; i < 4; i++)
		assert_true(fabsf(expf(lg[i]) - pr[i]) < 1e-5f);
	aimark_textwm_free(ctx);
	aimark_wm_key_free(key);
}

static void test_bad_arguments(void **state)
{
	(void)state;
	aimark_wm_key *key = make_key(4);
	aimark_textwm *ctx = NULL;
	assert_int_equal(aimark_textwm_new(&ctx, key, NULL), 0);
	float v[3] = { 0.2f, 0.3f, 0.5f };
	int32_t prev = 1, tok;
	assert_int_equal(aimark_textwm_sample(ctx, &prev, 1, NULL, v, 3, AIMARK_TEXTWM_PROBS, 1.0, &tok), AIMARK_EINVAL);
	assert_int_equal(aimark_textwm_sample(ctx, &prev, 1, NULL, v, 3, AIMARK_TEXTWM_PROBS, -0.1, &tok), AIMARK_EINVAL);
	assert_int_equal(aimark_textwm_sample(ctx, &prev, 1, NULL, v, 3, AIMARK_TEXTWM_PROBS, NAN, &tok), AIMARK_EINVAL);
	assert_int_equal(aimark_textwm_sample(ctx, &prev, 1, NULL, v, 0, AIMARK_TEXTWM_PROBS, 0.5, &tok), AIMARK_EINVAL);
	assert_int_equal(aimark_textwm_sample(ctx, &prev, 1, NULL, NULL, 3, AIMARK_TEXTWM_PROBS, 0.5, &tok), AIMARK_EINVAL);
	v[1] = -0.1f;
	assert_int_equal(aimark_textwm_process(ctx, &prev, 1, v, 3, AIMARK_TEXTWM_PROBS), AIMARK_EINVAL);
	v[1] = NAN;
	assert_int_equal(aimark_textwm_process(ctx, &prev, 1, v, 3, AIMARK_TEXTWM_LOGITS), AIMARK_EINVAL);
	float zero[2] = { 0, 0 }, ninf[2] = { -INFINITY, -INFINITY };
	assert_int_equal(aimark_textwm_process(ctx, &prev, 1, zero, 2, AIMARK_TEXTWM_PROBS), AIMARK_EINVAL);
	assert_int_equal(aimark_textwm_process(ctx, &prev, 1, ninf, 2, AIMARK_TEXTWM_LOGITS), AIMARK_EINVAL);
	assert_int_equal(aimark_textwm_process(ctx, &prev, 1, ninf, 2, (aimark_textwm_values)5), AIMARK_EINVAL);
	assert_int_equal(aimark_textwm_process_candidates(ctx, &prev, 1, NULL, zero, 2, AIMARK_TEXTWM_PROBS), AIMARK_EINVAL);

	/* sampling is a deterministic function of u */
	float p[3] = { 0.2f, 0.3f, 0.5f };
	int32_t a, b;
	assert_int_equal(aimark_textwm_sample(ctx, &prev, 1, NULL, p, 3, AIMARK_TEXTWM_PROBS, 0.37, &a), 0);
	assert_int_equal(aimark_textwm_sample(ctx, &prev, 1, NULL, p, 3, AIMARK_TEXTWM_PROBS, 0.37, &b), 0);
	assert_int_equal(a, b);
	assert_true(a >= 0 && a < 3);
	int32_t ids[3] = { 700, 800, 900 };
	assert_int_equal(aimark_textwm_sample(ctx, &prev, 1, ids, p, 3, AIMARK_TEXTWM_PROBS, 0.99, &a), 0);
	assert_true(a == 700 || a == 800 || a == 900);

	aimark_textwm_result r;
	int32_t one = 3;
	assert_int_equal(aimark_textwm_detect(NULL, &one, 1, NULL, &r), AIMARK_EINVAL);
	assert_int_equal(aimark_textwm_detect(key, &one, (size_t)AIMARK_TEXTWM_MAX_TOKENS + 1, NULL, &r), AIMARK_ELIMIT);
	assert_int_equal(aimark_textwm_detect(key, &one, 1, NULL, &r), 0);
	assert_int_equal(r.tokens_scored, 0);
	assert_true(r.p_value == 1.0);
	assert_false(r.detected);
	aimark_textwm_free(ctx);
	aimark_wm_key_free(key);
}

/* Repeated n-grams are scored once, so repetition cannot make a text look watermarked. */
static void test_repeats_skipped(void **state)
{
	(void)state;
	aimark_wm_key *key = make_key(5);
	int32_t ids[400];
	for (int i = 0; i < 400; i++)
		ids[i] = i % 4;
	aimark_textwm_result r;
	assert_int_equal(aimark_textwm_detect(key, ids, 400, NULL, &r), 0);
	assert_int_equal(r.tokens, 400);
	assert_int_equal(r.tokens_scored, 4);
	assert_int_equal(r.trials, 4); /* the hinge score: one trial per token */
	assert_true(r.p_value > 1e-3);
	aimark_textwm_config sum = AIMARK_TEXTWM_CONFIG_INIT;
	sum.score = AIMARK_TEXTWM_SCORE_SUM;
	sum.context = 1;
	assert_int_equal(aimark_textwm_detect(key, ids, 400, &sum, &r), 0);
	assert_int_equal(r.tokens_scored, 4);
	assert_int_equal(r.trials, 4 * 30);
	assert_true(r.p_value > 1e-3);
	aimark_wm_key_free(key);
}

typedef struct corpus_fixture {
	ngram_model m;
} corpus_fixture;

static int corpus_setup(void **state)
{
	corpus_fixture *f = calloc(1, sizeof *f);
	if (f == NULL || ngram_build(&f->m, TU_DATA("text-corpus/devils-dictionary.txt")) != 0)
		return -1;
	*state = f;
	return 0;
}

static int corpus_teardown(void **state)
{
	corpus_fixture *f = *state;
	ngram_free(&f->m);
	free(f);
	return 0;
}

/*
 * Samples `len` tokens after a two-token prompt from the corpus; ctx NULL:
 * unwatermarked. As samplers do after top-p, the candidates are the tokens
 * with probability of at least 1e-5 (the watermark gets a candidate list).
 */
static void sample_text(const ngram_model *m, aimark_textwm *ctx, ngram_rng *rng, int32_t *s, size_t len)
{
	double *p = malloc(m->vocab * sizeof *p);
	float *pf = malloc(m->vocab * sizeof *pf);
	int32_t *ids = malloc(m->vocab * sizeof *ids);
	size_t at = 2 + (size_t)(ngram_rng_next(rng) % (m->n_tokens - 2));
	s[0] = (int32_t)m->tokens[at - 2];
	s[1] = (int32_t)m->tokens[at - 1];
	for (size_t i = 2; i < len + 2; i++) {
		ngram_dist(m, (uint32_t)s[i - 2], (uint32_t)s[i - 1], p);
		double u = ngram_rng_unit(rng);
		size_t n = 0;
		double kept = 0;
		for (uint32_t k = 0; k < m->vocab; k++)
			if (p[k] >= 1e-5) {
				ids[n] = (int32_t)k;
				pf[n++] = (float)p[k];
				kept += p[k];
			}
		if (ctx) {
			assert_int_equal(aimark_textwm_sample(ctx, s, i, ids, pf, n, AIMARK_TEXTWM_PROBS, u, &s[i]), 0);
		} else {
			double c = 0;
			s[i] = ids[n - 1];
			for (size_t k = 0; k < n; k++) {
				c += pf[k];
				if (c > u * kept) {
					s[i] = ids[k];
					break;
				}
			}
		}
	}
	free(p);
	free(pf);
	free(ids);
}

static void test_corpus_detection(void **state)
{
	corpus_fixture *f = *state;
	aimark_wm_key *key = make_key(6), *other = make_key(7);
	ngram_rng rng;
	ngram_rng_seed(&rng, 42);
	enum { TRIALS = 20, LEN = 200 };
	int32_t s[LEN + 2], w[LEN];
	for (int method = AIMARK_TEXTWM_GREENLIST; method <= AIMARK_TEXTWM_TOURNAMENT; method++) {
		aimark_textwm_config cfg = AIMARK_TEXTWM_CONFIG_INIT;
		cfg.method = method;
		aimark_textwm *ctx = NULL;
		assert_int_equal(aimark_textwm_new(&ctx, key, &cfg), 0);
		int clean = 0, attacked = 0, foreign = 0;
		for (int t = 0; t < TRIALS; t++) {
			sample_text(&f->m, ctx, &rng, s, LEN);
			aimark_textwm_result r;
			assert_int_equal(aimark_textwm_detect(key, s + 2, LEN, &cfg, &r), 0);
			clean += r.p_value <= 1e-6;
			assert_true(r.tokens_scored > LEN / 2);
			assert_true(fabs(r.log10_p_value - log10(r.p_value)) < 1e-6 || r.p_value == 0.0);
			assert_int_equal(aimark_textwm_detect(other, s + 2, LEN, &cfg, &r), 0);
			foreign += r.p_value <= 1e-6;
			/* 30% of the tokens replaced by unigram draws */
			memcpy(w, s + 2, sizeof w);
			size_t k = (size_t)(0.3 * LEN);
			for (size_t i = 0; i < k; i++) {
				size_t j = (size_t)(ngram_rng_next(&rng) % LEN);
				w[j] = (int32_t)ngram_draw(f->m.p1, f->m.vocab, ngram_rng_unit(&rng));
			}
			assert_int_equal(aimark_textwm_detect(key, w, LEN, &cfg, &r), 0);
			attacked += r.p_value <= 1e-6;
		}
		aimark_textwm_free(ctx);
		print_message("method %d: %d/%d detected clean, %d/%d with 30%% replaced, %d with another key\n", method,
			      clean, TRIALS, attacked, TRIALS, foreign);
		assert_true(clean >= TRIALS - 1);
		assert_int_equal(foreign, 0);
		if (method == AIMARK_TEXTWM_TOURNAMENT)
			assert_true(attacked >= TRIALS - 2);
	}
	aimark_wm_key_free(key);
	aimark_wm_key_free(other);
}

/*
 * Without the watermark the p-values are calibrated: few small ones, none
 * below 1e-6. The null texts are the corpus itself (human text, 300
 * excerpts of 200 tokens) and text sampled from the model without the key.
 */
static void test_corpus_false_positives(void **state)
{
	corpus_fixture *f = *state;
	aimark_wm_key *key = make_key(8);
	ngram_rng rng;
	ngram_rng_seed(&rng, 4242);
	enum { TRIALS = 300, LEN = 200 };
	int32_t s[LEN + 2];
	int below_1pct = 0, below_1e6 = 0;
	aimark_textwm_config green = AIMARK_TEXTWM_CONFIG_INIT;
	green.method = AIMARK_TEXTWM_GREENLIST;
	for (int t = 0; t < TRIALS; t++) {
		if (t % 10 == 0) {
			sample_text(&f->m, NULL, &rng, s, LEN);
		} else {
			size_t at = (size_t)(ngram_rng_next(&rng) % (f->m.n_tokens - LEN - 2));
			for (size_t i = 0; i < LEN + 2; i++)
				s[i] = (int32_t)f->m.tokens[at + i];
		}
		aimark_textwm_result r;
		assert_int_equal(aimark_textwm_detect(key, s + 2, LEN, t % 2 ? &green : NULL, &r), 0);
		below_1pct += r.p_value <= 0.01;
		below_1e6 += r.p_value <= 1e-6;
		assert_false(r.detected);
	}
	print_message("unwatermarked: %d/%d with p <= 0.01\n", below_1pct, TRIALS);
	assert_int_equal(below_1e6, 0);
	/* binomial(300, 0.01) exceeds 10 with probability below 1e-3 */
	assert_true(below_1pct <= 10);
	aimark_wm_key_free(key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_siphash_vectors),
		cmocka_unit_test(test_binomial_tail),
		cmocka_unit_test(test_iid_tail),
		cmocka_unit_test(test_hinge_score),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_greenlist_process),
		cmocka_unit_test(test_tournament_unbiased),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_repeats_skipped),
		cmocka_unit_test_setup_teardown(test_corpus_detection, corpus_setup, corpus_teardown),
		cmocka_unit_test_setup_teardown(test_corpus_false_positives, corpus_setup, corpus_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

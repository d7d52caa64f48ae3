/*
 * Benchmark of the generation-time text watermark with a sampler built from
 * a real corpus (a Witten-Bell trigram model over the public-domain text in
 * tests/data/text-corpus): detection rate at a false-positive rate of 1e-6
 * against length and against the share of tokens replaced, the empirical
 * false-positive rate on unwatermarked text, the entropy cost, and speed
 * (CPU time of the process).
 *
 *   bench_textwm [--trials N] [--corpus FILE] [--temperature T] [--quick]
 *
 * Prints Markdown tables (docs/text.md quotes them).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aimark/errors.h"
#include "aimark/textwm.h"
#include "aimark/watermark.h"
#include "textwm_ngram.h"

#define FPR 1e-6
#define MAX_LEN 1000
#define PROMPT 2

static const size_t lengths[] = { 50, 100, 200, 300, 500, 1000 };
static const double shares[] = { 0.0, 0.1, 0.2, 0.3, 0.4 };
#define N_LENGTHS (sizeof lengths / sizeof lengths[0])
#define N_SHARES (sizeof shares / sizeof shares[0])

typedef struct variant {
	const char *name;
	aimark_textwm_config cfg;
	int reuse; /* -1, or the earlier variant whose watermarked text this one detects (same embedding, other score) */
} variant;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

typedef struct run_stats {
	double nll_bits;      /* mean -log2 p_model(token) */
	double entropy_bits;  /* mean entropy of the model's distribution at each step */
	double seconds;       /* time in the watermark call */
	size_t steps;
} run_stats;

/*
 * Generates `trials` sequences of MAX_LEN tokens (after a PROMPT-token prompt
 * taken from the corpus) into seqs[trials][PROMPT + MAX_LEN]; ctx NULL for
 * unwatermarked sampling.
 */
static int generate(const ngram_model *m, aimark_textwm *ctx, size_t trials, double temperature, uint64_t seed,
		    int32_t *seqs, run_stats *st)
{
	double *p = malloc(m->vocab * sizeof *p);
	float *pf = malloc(m->vocab * sizeof *pf);
	ngram_rng rng;
	ngram_rng_seed(&rng, seed);
	memset(st, 0, sizeof *st);
	for (size_t t = 0; t < trials; t++) {
		int32_t *s = seqs + t * (PROMPT + MAX_LEN);
		size_t at = PROMPT + (size_t)(ngram_rng_next(&rng) % (m->n_tokens - PROMPT));
		s[0] = (int32_t)m->tokens[at - 2];
		s[1] = (int32_t)m->tokens[at - 1];
		for (size_t i = PROMPT; i < PROMPT + MAX_LEN; i++) {
			ngram_dist(m, (uint32_t)s[i - 2], (uint32_t)s[i - 1], p);
			ngram_temperature(p, m->vocab, temperature);
			double u = ngram_rng_unit(&rng);
			int32_t tok;
			if (ctx) {
				for (uint32_t k = 0; k < m->vocab; k++)
					pf[k] = (float)p[k];
				double t0 = now();
				if (aimark_textwm_sample(ctx, s, i, NULL, pf, m->vocab, AIMARK_TEXTWM_PROBS, u, &tok) != 0) {
					fprintf(stderr, "sample: %s\n", aimark_error_last());
					free(p);
					free(pf);
					return -1;
				}
				st->seconds += now() - t0;
			} else {
				tok = (int32_t)ngram_draw(p, m->vocab, u);
			}
			s[i] = tok;
			st->nll_bits -= log2(p[tok] > 0 ? p[tok] : 1e-300);
			st->entropy_bits += ngram_entropy_bits(p, m->vocab);
			st->steps++;
		}
	}
	st->nll_bits /= (double)st->steps;
	st->entropy_bits /= (double)st->steps;
	free(p);
	free(pf);
	return 0;
}

/* Replaces exactly round(share * len) distinct positions of ids[0..len) with unigram draws. */
static void replace_tokens(const ngram_model *m, int32_t *ids, size_t len, double share, ngram_rng *rng)
{
	size_t k = (size_t)floor(share * (double)len + 0.5);
	size_t *pos = malloc(len * sizeof *pos);
	for (size_t i = 0; i < len; i++)
		pos[i] = i;
	for (size_t i = 0; i < k; i++) {
		size_t j = i + (size_t)(ngram_rng_next(rng) % (len - i));
		size_t tmp = pos[i];
		pos[i] = pos[j];
		pos[j] = tmp;
		int32_t old = ids[pos[i]], nw;
		do
			nw = (int32_t)ngram_draw(m->p1, m->vocab, ngram_rng_unit(rng));
		while (nw == old);
		ids[pos[i]] = nw;
	}
	free(pos);
}

static int detect(const aimark_wm_key *key, const aimark_textwm_config *cfg, const int32_t *ids, size_t n,
		  aimark_textwm_result *r)
{
	if (aimark_textwm_detect(key, ids, n, cfg, r) != 0) {
		fprintf(stderr, "detect: %s\n", aimark_error_last());
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	size_t trials = 200;
	double temperature = 1.0;
	int quick = 0;
	char corpus[4096];
	const char *src = __FILE__;
	const char *slash = strrchr(src, '/');
	snprintf(corpus, sizeof corpus, "%.*s/../tests/data/text-corpus/devils-dictionary.txt",
		 slash ? (int)(slash - src) : 1, slash ? src : ".");
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--trials") == 0 && i + 1 < argc)
			trials = (size_t)atol(argv[++i]);
		else if (strcmp(argv[i], "--corpus") == 0 && i + 1 < argc)
			snprintf(corpus, sizeof corpus, "%s", argv[++i]);
		else if (strcmp(argv[i], "--temperature") == 0 && i + 1 < argc)
			temperature = atof(argv[++i]);
		else if (strcmp(argv[i], "--quick") == 0)
			quick = 1;
		else {
			fprintf(stderr, "usage: %s [--trials N] [--corpus FILE] [--temperature T] [--quick]\n", argv[0]);
			return 2;
		}
	}
	if (quick)
		trials = 40;
	if (trials < 1 || !(temperature > 0.0)) {
		fprintf(stderr, "bad --trials or --temperature\n");
		return 2;
	}
	ngram_model m;
	if (ngram_build(&m, corpus) != 0) {
		fprintf(stderr, "cannot read the corpus %s\n", corpus);
		return 1;
	}
	unsigned char kb[AIMARK_WM_KEY_BYTES];
	for (int i = 0; i < AIMARK_WM_KEY_BYTES; i++)
		kb[i] = (unsigned char)(0xA5 ^ (i * 29));
	aimark_wm_key *key = NULL;
	if (aimark_wm_key_new(&key, kb) != 0) {
		fprintf(stderr, "key: %s\n", aimark_error_last());
		return 1;
	}

	variant variants[] = {
		{ "tournament, 30 layers, context 1, hinge score", AIMARK_TEXTWM_CONFIG_INIT, -1 },
		{ "tournament, 30 layers, context 1, sum score (the version-1 default)", AIMARK_TEXTWM_CONFIG_INIT, 0 },
		{ "tournament, 30 layers, context 2, hinge score (default)", AIMARK_TEXTWM_CONFIG_INIT, -1 },
		{ "green list, gamma 0.25, delta 2, context 1", AIMARK_TEXTWM_CONFIG_INIT, -1 },
		{ "green list, gamma 0.25, delta 4, context 1", AIMARK_TEXTWM_CONFIG_INIT, -1 },
	};
	variants[0].cfg.context = 1;
	variants[0].cfg.score = AIMARK_TEXTWM_SCORE_HINGE;
	variants[1].cfg.context = 1;
	variants[1].cfg.score = AIMARK_TEXTWM_SCORE_SUM;
	variants[2].cfg.context = 2;
	variants[2].cfg.score = AIMARK_TEXTWM_SCORE_HINGE;
	variants[3].cfg.method = AIMARK_TEXTWM_GREENLIST;
	variants[3].cfg.context = 1;
	variants[4].cfg.method = AIMARK_TEXTWM_GREENLIST;
	variants[4].cfg.context = 1;
	variants[4].cfg.delta = 4.0;
	size_t n_variants = sizeof variants / sizeof variants[0];

	size_t stride = PROMPT + MAX_LEN;
	/* unwatermarked text is cheap: five times as many sequences for the false positives */
	size_t fp_trials = 5 * trials;
	int32_t *seqs = malloc(fp_trials * stride * sizeof *seqs);
	int32_t *marked = malloc(n_variants * trials * stride * sizeof *marked);
	run_stats *stats = calloc(n_variants, sizeof *stats);
	int32_t *work = malloc(stride * sizeof *work);
	run_stats base;
	if (generate(&m, NULL, fp_trials, temperature, 1, seqs, &base) != 0)
		return 1;

	printf("# Text watermark benchmark\n\n");
	printf("Corpus: %s (%zu tokens, vocabulary %u); trigram model, temperature %.2f; %zu sequences per point; "
	       "detection threshold p <= %g.\n\n", strrchr(corpus, '/') ? strrchr(corpus, '/') + 1 : corpus, m.n_tokens,
	       m.vocab, temperature, trials, FPR);
	printf("Unwatermarked sampling: mean entropy %.2f bits/token, mean -log2 p %.3f bits/token.\n\n",
	       base.entropy_bits, base.nll_bits);

	/* false positives on unwatermarked text, for each variant's detector */
	printf("## False positives on unwatermarked text (%zu sequences x %d tokens)\n\n", fp_trials, MAX_LEN);
	printf("| variant | p <= 1e-2 | p <= 1e-3 | p <= 1e-6 | smallest p |\n|---|---|---|---|---|\n");
	for (size_t v = 0; v < n_variants; v++) {
		size_t c2 = 0, c3 = 0, c6 = 0;
		double minp = 1.0;
		for (size_t t = 0; t < fp_trials; t++) {
			aimark_textwm_result r;
			if (detect(key, &variants[v].cfg, seqs + t * stride + PROMPT, MAX_LEN, &r) != 0)
				return 1;
			c2 += r.p_value <= 1e-2;
			c3 += r.p_value <= 1e-3;
			c6 += r.p_value <= 1e-6;
			if (r.p_value < minp)
				minp = r.p_value;
		}
		printf("| %s | %.4f | %.4f | %.4f | %.2g |\n", variants[v].name, (double)c2 / fp_trials, (double)c3 / fp_trials,
		       (double)c6 / fp_trials, minp);
	}
	printf("\n");

	for (size_t v = 0; v < n_variants; v++) {
		int32_t *mine = marked + v * trials * stride;
		if (variants[v].reuse >= 0) {
			memcpy(mine, marked + (size_t)variants[v].reuse * trials * stride, trials * stride * sizeof *mine);
			stats[v] = stats[variants[v].reuse];
		} else {
			aimark_textwm *ctx = NULL;
			if (aimark_textwm_new(&ctx, key, &variants[v].cfg) != 0) {
				fprintf(stderr, "new: %s\n", aimark_error_last());
				return 1;
			}
			if (generate(&m, ctx, trials, temperature, 1000 + v, mine, &stats[v]) != 0)
				return 1;
			aimark_textwm_free(ctx);
		}
		run_stats st = stats[v];
		printf("## %s\n\n", variants[v].name);
		printf("Entropy cost: -log2 p under the unwatermarked model %.3f bits/token (unwatermarked %.3f: %+.3f, "
		       "perplexity x%.2f). Watermark call: %.1f us/token over a vocabulary of %u.\n\n",
		       st.nll_bits, base.nll_bits, st.nll_bits - base.nll_bits, pow(2.0, st.nll_bits - base.nll_bits),
		       1e6 * st.seconds / (double)st.steps, m.vocab);
		printf("| tokens |");
		for (size_t s = 0; s < N_SHARES; s++)
			printf(" %.0f%% replaced |", 100 * shares[s]);
		printf(" median z (0%%) |\n|---|");
		for (size_t s = 0; s <= N_SHARES; s++)
			printf("---|");
		printf("\n");
		ngram_rng rng;
		ngram_rng_seed(&rng, 77 + v);
		double *zs = malloc(trials * sizeof *zs);
		for (size_t l = 0; l < N_LENGTHS; l++) {
			printf("| %zu |", lengths[l]);
			for (size_t s = 0; s < N_SHARES; s++) {
				size_t hit = 0;
				for (size_t t = 0; t < trials; t++) {
					memcpy(work, mine + t * stride + PROMPT, lengths[l] * sizeof *work);
					replace_tokens(&m, work, lengths[l], shares[s], &rng);
					aimark_textwm_result r;
					if (detect(key, &variants[v].cfg, work, lengths[l], &r) != 0)
						return 1;
					hit += r.p_value <= FPR;
					if (s == 0)
						zs[t] = r.score;
				}
				printf(" %.1f%% |", 100.0 * hit / trials);
			}
			for (size_t a = 1; a < trials; a++)
				for (size_t b = a; b > 0 && zs[b - 1] > zs[b]; b--) {
					double tmp = zs[b];
					zs[b] = zs[b - 1];
					zs[b - 1] = tmp;
				}
			printf(" %.1f |\n", zs[trials / 2]);
		}
		free(zs);
		printf("\n");
	}

	/* detector speed, on watermarked and on unwatermarked text */
	for (int wm = 1; wm >= 0; wm--) {
		double t0 = now();
		size_t scored = 0;
		for (size_t t = 0; t < trials; t++) {
			aimark_textwm_result r;
			const int32_t *ids = (wm ? marked : seqs) + t * stride + PROMPT;
			if (detect(key, &variants[0].cfg, ids, MAX_LEN, &r) != 0)
				return 1;
			scored += r.tokens;
		}
		printf("Detector: %.2f us/token (%s, %s text of %d tokens).\n", 1e6 * (now() - t0) / (double)scored,
		       variants[0].name, wm ? "watermarked" : "unwatermarked", MAX_LEN);
	}
	free(seqs);
	free(marked);
	free(stats);
	free(work);
	aimark_wm_key_free(key);
	ngram_free(&m);
	return 0;
}

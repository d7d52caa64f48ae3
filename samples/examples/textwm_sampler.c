/*
 * Plugging the aimark text watermark into a llama.cpp-style sampler chain.
 *
 * llama.cpp samples through a chain of samplers, each an object with
 * callbacks: accept(token) after a token is chosen, apply(candidates) to
 * reshape or pick from the candidate array {id, logit, p}. This example
 * defines the same shape in a few lines (token_data, token_data_array,
 * sampler_i) so that it builds without llama.cpp; with llama.cpp, the two
 * callbacks below go into a `struct llama_sampler_i` unchanged apart from
 * the type names, and the sampler is added last to the chain (after top-k,
 * top-p and temperature):
 *
 *   - green list: apply() adds the bias to the green candidates' logits;
 *     a following dist sampler draws the token as usual.
 *   - tournament: apply() is the final sampler: it turns the logits into
 *     probabilities and lets aimark pick the token with one uniform random
 *     number from the sampler's own generator.
 *
 * The "model" here is a stand-in that produces varied logits from the last
 * token; a real integration takes them from llama_get_logits_ith().
 *
 *   cc textwm_sampler.c $(pkg-config --cflags --libs aimark) -lm -o textwm_sampler
 *   ./textwm_sampler            (tournament)     ./textwm_sampler green
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <aimark/errors.h>
#include <aimark/textwm.h>
#include <aimark/watermark.h>

/* ---- the llama.cpp-style sampler shape ---- */

typedef struct token_data {
	int32_t id;
	float logit;
	float p;
} token_data;

typedef struct token_data_array {
	token_data *data;
	size_t size;
	int64_t selected; /* index into data of the chosen token, -1 before a final sampler ran */
	int sorted;
} token_data_array;

typedef struct sampler sampler;
typedef struct sampler_i {
	const char *(*name)(const sampler *s);
	void (*accept)(sampler *s, int32_t token);
	void (*apply)(sampler *s, token_data_array *cur);
	void (*free)(sampler *s);
} sampler_i;

struct sampler {
	const sampler_i *iface;
	void *ctx;
};

/* ---- the watermark sampler ---- */

typedef struct wm_sampler {
	aimark_textwm *wm;
	int method;
	int32_t *history; /* prompt and output so far: the watermark's context */
	size_t n, cap;
	uint64_t rng;     /* the sampler's own generator (splitmix64) */
	int32_t *ids;     /* scratch for the candidate calls */
	float *vals;
	size_t scratch;
} wm_sampler;

static double next_uniform(uint64_t *state)
{
	uint64_t z = (*state += 0x9E3779B97F4A7C15u);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
	z ^= z >> 31;
	return (double)(z >> 11) * 0x1.0p-53;
}

static const char *wm_name(const sampler *s)
{
	(void)s;
	return "aimark-watermark";
}

static void wm_accept(sampler *s, int32_t token)
{
	wm_sampler *w = s->ctx;
	if (w->n == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 256;
		int32_t *h = realloc(w->history, cap * sizeof *h);
		if (h == NULL)
			abort();
		w->history = h;
		w->cap = cap;
	}
	w->history[w->n++] = token;
}

static int grow_scratch(wm_sampler *w, size_t n)
{
	if (n <= w->scratch)
		return 0;
	int32_t *ids = realloc(w->ids, n * sizeof *ids);
	if (ids)
		w->ids = ids;
	float *vals = realloc(w->vals, n * sizeof *vals);
	if (vals)
		w->vals = vals;
	if (ids == NULL || vals == NULL)
		return -1;
	w->scratch = n;
	return 0;
}

static void wm_apply(sampler *s, token_data_array *cur)
{
	wm_sampler *w = s->ctx;
	if (cur->size == 0 || grow_scratch(w, cur->size) != 0)
		return;
	for (size_t i = 0; i < cur->size; i++) {
		w->ids[i] = cur->data[i].id;
		w->vals[i] = cur->data[i].logit;
	}
	if (w->method == AIMARK_TEXTWM_GREENLIST) {
		/* bias the green candidates; the next sampler in the chain draws */
		if (aimark_textwm_process_candidates(w->wm, w->history, w->n, w->ids, w->vals, cur->size,
						     AIMARK_TEXTWM_LOGITS) != 0) {
			fprintf(stderr, "watermark: %s\n", aimark_error_last());
			return;
		}
		for (size_t i = 0; i < cur->size; i++)
			cur->data[i].logit = w->vals[i];
		cur->sorted = 0;
		return;
	}
	/* tournament: the final sampler picks the token */
	int32_t token;
	if (aimark_textwm_sample(w->wm, w->history, w->n, w->ids, w->vals, cur->size, AIMARK_TEXTWM_LOGITS,
				 next_uniform(&w->rng), &token) != 0) {
		fprintf(stderr, "watermark: %s\n", aimark_error_last());
		return;
	}
	for (size_t i = 0; i < cur->size; i++)
		if (cur->data[i].id == token)
			cur->selected = (int64_t)i;
}

static void wm_free(sampler *s)
{
	wm_sampler *w = s->ctx;
	aimark_textwm_free(w->wm);
	free(w->history);
	free(w->ids);
	free(w->vals);
	free(w);
	free(s);
}

static const sampler_i wm_iface = { wm_name, wm_accept, wm_apply, wm_free };

/* Makes the watermark sampler; the prompt's tokens go in with accept() like any other. */
static sampler *wm_sampler_new(const aimark_wm_key *key, int method, uint64_t seed)
{
	aimark_textwm_config cfg = AIMARK_TEXTWM_CONFIG_INIT;
	cfg.method = method;
	wm_sampler *w = calloc(1, sizeof *w);
	sampler *s = calloc(1, sizeof *s);
	if (w == NULL || s == NULL || aimark_textwm_new(&w->wm, key, &cfg) != 0) {
		fprintf(stderr, "watermark sampler: %s\n", aimark_error_last());
		free(w);
		free(s);
		return NULL;
	}
	w->method = method;
	w->rng = seed;
	s->iface = &wm_iface;
	s->ctx = w;
	return s;
}

/* ---- a stand-in model and the rest of a chain ---- */

#define VOCAB 5000
#define TOP_K 40

/* Logits that depend on the previous token, with a few likely continuations. */
static void model_logits(int32_t prev, float *logits)
{
	for (int32_t i = 0; i < VOCAB; i++) {
		uint32_t h = (uint32_t)prev * 2654435761u ^ (uint32_t)i * 2246822519u;
		h ^= h >> 15;
		h *= 2246822519u;
		h ^= h >> 13;
		logits[i] = (float)(h % 1000) / 90.0f;
	}
}

static int cmp_logit(const void *a, const void *b)
{
	const token_data *x = a, *y = b;
	return x->logit < y->logit ? 1 : x->logit > y->logit ? -1 : 0;
}

/* top-k: keep the k largest logits */
static void top_k(token_data_array *cur, size_t k)
{
	qsort(cur->data, cur->size, sizeof *cur->data, cmp_logit);
	cur->sorted = 1;
	if (cur->size > k)
		cur->size = k;
}

/* dist: draw from softmax(logits) (used after the green-list sampler) */
static void dist(token_data_array *cur, uint64_t *rng)
{
	float max = -INFINITY;
	for (size_t i = 0; i < cur->size; i++)
		if (cur->data[i].logit > max)
			max = cur->data[i].logit;
	double sum = 0;
	for (size_t i = 0; i < cur->size; i++)
		sum += cur->data[i].p = expf(cur->data[i].logit - max);
	double u = next_uniform(rng) * sum, c = 0;
	cur->selected = (int64_t)cur->size - 1;
	for (size_t i = 0; i < cur->size; i++) {
		c += cur->data[i].p;
		if (c > u) {
			cur->selected = (int64_t)i;
			break;
		}
	}
}

int main(int argc, char **argv)
{
	int method = argc > 1 && strcmp(argv[1], "green") == 0 ? AIMARK_TEXTWM_GREENLIST : AIMARK_TEXTWM_TOURNAMENT;
	aimark_wm_key *key = NULL, *other = NULL;
	if (aimark_wm_key_generate(&key) != 0 || aimark_wm_key_generate(&other) != 0) {
		fprintf(stderr, "key: %s\n", aimark_error_last());
		return 1;
	}
	sampler *wm = wm_sampler_new(key, method, 12345);
	if (wm == NULL)
		return 1;
	uint64_t rng = 678;
	float logits[VOCAB];
	token_data data[VOCAB];
	int32_t prompt[3] = { 17, 1234, 99 }, out[300];
	for (int i = 0; i < 3; i++)
		wm->iface->accept(wm, prompt[i]);
	int32_t prev = prompt[2];
	for (int t = 0; t < 300; t++) {
		model_logits(prev, logits);
		for (int32_t i = 0; i < VOCAB; i++)
			data[i] = (token_data){ i, logits[i], 0.0f };
		token_data_array cur = { data, VOCAB, -1, 0 };
		top_k(&cur, TOP_K);
		wm->iface->apply(wm, &cur);
		if (cur.selected < 0)
			dist(&cur, &rng); /* green list: the chain's own final sampler */
		int32_t tok = cur.data[cur.selected].id;
		wm->iface->accept(wm, tok);
		out[t] = tok;
		prev = tok;
	}
	aimark_textwm_config cfg = AIMARK_TEXTWM_CONFIG_INIT;
	cfg.method = method;
	aimark_textwm_result r, r_other;
	if (aimark_textwm_detect(key, out, 300, &cfg, &r) != 0 || aimark_textwm_detect(other, out, 300, &cfg, &r_other) != 0) {
		fprintf(stderr, "detect: %s\n", aimark_error_last());
		return 1;
	}
	printf("%s: 300 tokens, %zu scored, z = %.1f, p = %.3g (%s)\n", method == AIMARK_TEXTWM_GREENLIST ? "green list" : "tournament",
	       r.tokens_scored, r.score, r.p_value, r.detected ? "watermarked" : "not detected");
	printf("another key: z = %.1f, p = %.3g (%s)\n", r_other.score, r_other.p_value,
	       r_other.detected ? "watermarked" : "not detected");
	wm->iface->free(wm);
	aimark_wm_key_free(key);
	aimark_wm_key_free(other);
	return r.detected && !r_other.detected ? 0 : 1;
}

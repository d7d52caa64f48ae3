/*
 * The generation-time text watermark in its smallest form:
 *   textwm_generate [green]
 * A stand-in "model" gives a probability for each of VOCAB token ids from
 * the previous id; the watermark context picks each next token from the
 * watermarked distribution with one uniform random number from the caller's
 * own generator (aimark_textwm_sample). The green-list method is shown the
 * other way: aimark_textwm_process reshapes the logits and the caller draws.
 * The detector then scores the token ids with the right key and a wrong one.
 * textwm_sampler.c shows the same inside a llama.cpp-style sampler chain.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <aimark/aimark.h>
#include <aimark/textwm.h> /* not part of the umbrella header */

#define VOCAB 2000
#define PROMPT 4
#define TOKENS 400

static uint64_t rng_state = 0x2545F4914F6CDD1Du;

/* The caller's random generator (xorshift64*), uniform in [0, 1). */
static double uniform(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (double)((rng_state * 0x2545F4914F6CDD1Du) >> 11) * 0x1.0p-53;
}

/* Logits that depend on the previous token. */
static void model(int32_t prev, float *logits)
{
	for (uint32_t i = 0; i < VOCAB; i++) {
		uint32_t h = ((uint32_t)prev * 2654435761u) ^ (i * 2246822519u);
		h ^= h >> 15;
		h *= 2246822519u;
		h ^= h >> 13;
		logits[i] = (float)(h % 1000) / 120.0f;
	}
}

/* Draws from softmax(logits): the caller's own sampler. */
static int32_t draw(const float *logits)
{
	float max = -INFINITY;
	for (int i = 0; i < VOCAB; i++)
		if (logits[i] > max)
			max = logits[i];
	double sum = 0.0;
	for (int i = 0; i < VOCAB; i++)
		sum += exp(logits[i] - max);
	double u = uniform() * sum, c = 0.0;
	for (int i = 0; i < VOCAB; i++) {
		c += exp(logits[i] - max);
		if (c > u)
			return i;
	}
	return VOCAB - 1;
}

int main(int argc, char **argv)
{
	aimark_textwm_config cfg = AIMARK_TEXTWM_CONFIG_INIT; /* the tournament, 30 layers, context 2, hinge score */
	if (argc > 1 && strcmp(argv[1], "green") == 0)
		cfg.method = AIMARK_TEXTWM_GREENLIST;

	aimark_wm_key *key = NULL, *other = NULL;
	aimark_textwm *wm = NULL;
	if (aimark_wm_key_generate(&key) != 0 || aimark_wm_key_generate(&other) != 0 || aimark_textwm_new(&wm, key, &cfg) != 0) {
		fprintf(stderr, "textwm: %s\n", aimark_error_last());
		aimark_wm_key_free(key);
		aimark_wm_key_free(other);
		return 1;
	}
	const aimark_textwm_config *used = aimark_textwm_get_config(wm);
	printf("method %s, context %u, layers %u, gamma %.2f, delta %.1f\n",
	       used->method == AIMARK_TEXTWM_GREENLIST ? "green list" : "tournament", used->context, used->layers, used->gamma,
	       used->delta);

	/* ids holds the prompt and then the output: the watermark's context. */
	int32_t ids[PROMPT + TOKENS] = { 11, 42, 7, 1999 };
	size_t n = PROMPT;
	static float logits[VOCAB];
	int rc = 0;
	while (rc == 0 && n < PROMPT + TOKENS) {
		model(ids[n - 1], logits); /* temperature, top-k, top-p would come here, before the watermark */
		int32_t token;
		if (used->method == AIMARK_TEXTWM_GREENLIST) {
			rc = aimark_textwm_process(wm, ids, n, logits, VOCAB, AIMARK_TEXTWM_LOGITS);
			token = draw(logits);
		} else {
			rc = aimark_textwm_sample(wm, ids, n, NULL, logits, VOCAB, AIMARK_TEXTWM_LOGITS, uniform(), &token);
		}
		ids[n++] = token;
	}
	aimark_textwm_free(wm);
	if (rc != 0) {
		fprintf(stderr, "generate: %s\n", aimark_error_last());
		aimark_wm_key_free(key);
		aimark_wm_key_free(other);
		return 1;
	}

	/* Detection sees only the output's ids (re-tokenised text), with the embedding configuration. */
	aimark_textwm_result right, wrong;
	rc = aimark_textwm_detect(key, ids + PROMPT, TOKENS, &cfg, &right);
	if (rc == 0)
		rc = aimark_textwm_detect(other, ids + PROMPT, TOKENS, &cfg, &wrong);
	if (rc != 0)
		fprintf(stderr, "detect: %s\n", aimark_error_last());
	else {
		printf("right key: %zu of %zu tokens scored, z = %.1f, log10 p = %.1f, %s\n", right.tokens_scored, right.tokens,
		       right.score, right.log10_p_value, right.detected ? "watermarked" : "not detected");
		printf("wrong key: z = %.1f, p = %.3g, %s\n", wrong.score, wrong.p_value, wrong.detected ? "watermarked" : "not detected");
	}
	aimark_wm_key_free(key);
	aimark_wm_key_free(other);
	return rc == 0 && right.detected && !wrong.detected ? 0 : 1;
}

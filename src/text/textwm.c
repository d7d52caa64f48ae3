/*
 * Generation-time statistical watermark: configuration, the per-stream
 * context and the per-token calls (green-list bias, tournament distribution,
 * sampling by inversion).
 */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "aimark/textwm.h"
#include "core/internal.h"
#include "text/text_prf.h"
#include "text/textwm_internal.h"
#include "wm/wm_key.h"

struct aimark_textwm {
	aimark_textwm_config cfg;
	aimark__textwm_params params;
	double *w;          /* scratch weights, one per value */
	uint32_t *nz;       /* indices of the non-zero weights */
	uint64_t *h;        /* key stream bits of the non-zero ones (tournament) */
	double *wz;         /* their weights, compact (tournament) */
	size_t cap;
};

/* Bytes of a version-1 configuration: every field before `score`. */
#define CONFIG_V1_SIZE offsetof(aimark_textwm_config, score)

int aimark_textwm_config_init(aimark_textwm_config *cfg, unsigned int version)
{
	RETURN_IF(cfg == NULL || version < 1 || version > AIMARK_TEXTWM_CONFIG_VERSION, AIMARK_EINVAL,
		  "text watermark: unsupported config version %u", version);
	aimark_textwm_config c = AIMARK_TEXTWM_CONFIG_INIT;
	c.version = version;
	/* a version-1 caller's structure ends before `score` */
	memcpy(cfg, &c, version == 1 ? CONFIG_V1_SIZE : sizeof c);
	return 0;
}

int aimark__textwm_resolve(const aimark_textwm_config *in, aimark_textwm_config *out)
{
	aimark_textwm_config c = AIMARK_TEXTWM_CONFIG_INIT;
	if (in) {
		RETURN_IF(in->version < 1 || in->version > AIMARK_TEXTWM_CONFIG_VERSION, AIMARK_EINVAL,
			  "text watermark: unsupported config version %u", in->version);
		if (in->version == 1) {
			/* a version-1 structure keeps the version-1 defaults */
			memcpy(&c, in, CONFIG_V1_SIZE);
			c.score = AIMARK_TEXTWM_SCORE_SUM;
			if (c.context == 0)
				c.context = AIMARK__TEXTWM_V1_DEFAULT_CONTEXT;
		} else {
			c = *in;
		}
		c.version = AIMARK_TEXTWM_CONFIG_VERSION;
	}
	if (c.method == AIMARK_TEXTWM_DEFAULT)
		c.method = AIMARK_TEXTWM_TOURNAMENT;
	RETURN_IF(c.method != AIMARK_TEXTWM_GREENLIST && c.method != AIMARK_TEXTWM_TOURNAMENT, AIMARK_EINVAL,
		  "text watermark: unknown method %d", c.method);
	if (c.context == 0)
		c.context = c.method == AIMARK_TEXTWM_TOURNAMENT ? AIMARK__TEXTWM_DEFAULT_CONTEXT : AIMARK__TEXTWM_V1_DEFAULT_CONTEXT;
	if (c.gamma == 0.0)
		c.gamma = AIMARK__TEXTWM_DEFAULT_GAMMA;
	if (c.delta == 0.0)
		c.delta = AIMARK__TEXTWM_DEFAULT_DELTA;
	if (c.layers == 0)
		c.layers = AIMARK__TEXTWM_DEFAULT_LAYERS;
	if (c.max_false_alarm == 0.0)
		c.max_false_alarm = AIMARK__TEXTWM_DEFAULT_FALSE_ALARM;
	if (c.score == AIMARK_TEXTWM_SCORE_DEFAULT)
		c.score = AIMARK_TEXTWM_SCORE_HINGE;
	RETURN_IF(c.score != AIMARK_TEXTWM_SCORE_SUM && c.score != AIMARK_TEXTWM_SCORE_HINGE, AIMARK_EINVAL,
		  "text watermark: unknown score %d", c.score);
	RETURN_IF(c.context > AIMARK_TEXTWM_MAX_CONTEXT, AIMARK_EINVAL, "text watermark: context %u is not in 1..%d",
		  c.context, AIMARK_TEXTWM_MAX_CONTEXT);
	RETURN_IF(!(c.gamma > 0.0 && c.gamma < 1.0), AIMARK_EINVAL, "text watermark: gamma %g is not in (0, 1)", c.gamma);
	RETURN_IF(!(c.delta > 0.0 && c.delta <= 20.0), AIMARK_EINVAL, "text watermark: delta %g is not in (0, 20]", c.delta);
	RETURN_IF(c.layers > AIMARK_TEXTWM_MAX_LAYERS, AIMARK_EINVAL, "text watermark: %u layers is not in 1..%d", c.layers,
		  AIMARK_TEXTWM_MAX_LAYERS);
	RETURN_IF(!(c.max_false_alarm > 0.0 && c.max_false_alarm < 1.0), AIMARK_EINVAL,
		  "text watermark: max_false_alarm %g is not in (0, 1)", c.max_false_alarm);
	*out = c;
	return 0;
}

int aimark__textwm_params_init(aimark__textwm_params *p, const aimark_wm_key *key, const aimark_textwm_config *cfg)
{
	memset(p, 0, sizeof *p);
	p->method = cfg->method;
	p->context = cfg->context;
	p->layers = cfg->layers;
	double t = floor(cfg->gamma * 4294967296.0 + 0.5);
	if (t < 1.0)
		t = 1.0;
	if (t > 4294967295.0)
		t = 4294967295.0;
	p->green_threshold = (uint64_t)t;
	p->layer_mask = cfg->layers >= 64 ? ~UINT64_C(0) : (UINT64_C(1) << cfg->layers) - 1;
	return aimark__text_prf_init(&p->prf, key, cfg->method == AIMARK_TEXTWM_GREENLIST ? "greenlist" : "tournament");
}

int aimark_textwm_new(aimark_textwm **out, const aimark_wm_key *key, const aimark_textwm_config *cfg)
{
	RETURN_IF(out == NULL || key == NULL, AIMARK_EINVAL, "text watermark: NULL argument");
	*out = NULL;
	aimark_textwm_config c;
	RETURN_IF_ERR(aimark__textwm_resolve(cfg, &c));
	aimark_textwm *ctx = aimark__calloc(1, sizeof *ctx);
	RETURN_ENOMEM_IF_NULL(ctx);
	ctx->cfg = c;
	int rc = aimark__textwm_params_init(&ctx->params, key, &c);
	if (rc < 0) {
		aimark_textwm_free(ctx);
		return rc;
	}
	*out = ctx;
	return 0;
}

void aimark_textwm_free(aimark_textwm *ctx)
{
	if (ctx == NULL)
		return;
	aimark__text_prf_wipe(&ctx->params.prf);
	aimark__free(ctx->w);
	aimark__free(ctx->nz);
	aimark__free(ctx->h);
	aimark__free(ctx->wz);
	aimark__free(ctx);
}

const aimark_textwm_config *aimark_textwm_get_config(const aimark_textwm *ctx)
{
	return ctx ? &ctx->cfg : NULL;
}

static int reserve(aimark_textwm *ctx, size_t n)
{
	if (n <= ctx->cap)
		return 0;
	RETURN_IF(n > SIZE_MAX / sizeof(double), AIMARK_ENOMEM, "out of memory");
	double *w = aimark__realloc(ctx->w, n * sizeof *w);
	RETURN_ENOMEM_IF_NULL(w);
	ctx->w = w;
	uint32_t *nz = aimark__realloc(ctx->nz, n * sizeof *nz);
	RETURN_ENOMEM_IF_NULL(nz);
	ctx->nz = nz;
	uint64_t *h = aimark__realloc(ctx->h, n * sizeof *h);
	RETURN_ENOMEM_IF_NULL(h);
	ctx->h = h;
	double *wz = aimark__realloc(ctx->wz, n * sizeof *wz);
	RETURN_ENOMEM_IF_NULL(wz);
	ctx->wz = wz;
	ctx->cap = n;
	return 0;
}

/* Weights (unnormalised probabilities) of the values into ctx->w; the non-zero ones listed in ctx->nz. */
static int to_weights(aimark_textwm *ctx, const float *values, size_t n, aimark_textwm_values kind, size_t *n_nz, double *total)
{
	double *w = ctx->w;
	size_t k = 0;
	double sum = 0.0;
	if (kind == AIMARK_TEXTWM_LOGITS) {
		float max = -INFINITY;
		for (size_t i = 0; i < n; i++) {
			RETURN_IF(isnan(values[i]) || values[i] == INFINITY, AIMARK_EINVAL, "text watermark: logit %zu is %g", i,
				  (double)values[i]);
			if (values[i] > max)
				max = values[i];
		}
		RETURN_IF(max == -INFINITY, AIMARK_EINVAL, "text watermark: every logit is -infinity");
		for (size_t i = 0; i < n; i++) {
			w[i] = values[i] == -INFINITY ? 0.0 : exp((double)values[i] - (double)max);
			if (w[i] > 0.0)
				ctx->nz[k++] = (uint32_t)i;
			sum += w[i];
		}
	} else {
		for (size_t i = 0; i < n; i++) {
			RETURN_IF(!(values[i] >= 0.0f) || values[i] == INFINITY, AIMARK_EINVAL,
				  "text watermark: probability %zu is %g", i, (double)values[i]);
			w[i] = values[i];
			if (w[i] > 0.0)
				ctx->nz[k++] = (uint32_t)i;
			sum += w[i];
		}
		RETURN_IF(!(sum > 0.0), AIMARK_EINVAL, "text watermark: the probabilities sum to 0");
	}
	*n_nz = k;
	*total = sum;
	return 0;
}

static int32_t id_at(const int32_t *ids, size_t i)
{
	return ids ? ids[i] : (int32_t)i;
}

/*
 * Applies the watermark to the weights in ctx->w (non-zero ones in ctx->nz)
 * for the context seed; returns the new total.
 */
static double watermark_weights(aimark_textwm *ctx, uint64_t seed, const int32_t *ids, size_t n_nz, double total)
{
	const aimark__textwm_params *p = &ctx->params;
	double *w = ctx->w;
	if (p->method == AIMARK_TEXTWM_GREENLIST) {
		double boost = exp(ctx->cfg.delta);
		double sum = 0.0;
		for (size_t j = 0; j < n_nz; j++) {
			uint32_t i = ctx->nz[j];
			if (aimark__textwm_green(p, aimark__text_prf_token(seed, id_at(ids, i))))
				w[i] *= boost;
			sum += w[i];
		}
		return sum;
	}
	/*
	 * Tournament: with two candidates per match drawn from q and binary
	 * g-values, the winner of a layer is distributed as q(x) (1 + g(x) - E_q[g]);
	 * layers are independent, so applying this once per layer gives the
	 * winner of the whole tournament.
	 */
	/* compact copies (weights in ctx->h's companion order) keep the layer loops branch-free and sequential */
	uint64_t *h = ctx->h;
	double *wz = ctx->wz;
	double gbar = 0.0;
	for (size_t j = 0; j < n_nz; j++) {
		h[j] = aimark__text_prf_token(seed, id_at(ids, ctx->nz[j]));
		wz[j] = w[ctx->nz[j]] / total;
		gbar += wz[j] * (double)(h[j] & 1u);
	}
	for (unsigned l = 0; l < p->layers; l++) {
		/* this layer's update fused with the next layer's mean */
		double next = 0.0, base = 1.0 - gbar;
		unsigned nl = l + 1 < 64 ? l + 1 : 63;
		for (size_t j = 0; j < n_nz; j++) {
			double v = wz[j] * (base + (double)((h[j] >> l) & 1u));
			v = v > 0.0 ? v : 0.0;
			wz[j] = v;
			next += v * (double)((h[j] >> nl) & 1u);
		}
		gbar = next;
	}
	for (size_t j = 0; j < n_nz; j++)
		w[ctx->nz[j]] = wz[j];
	double sum = 0.0;
	for (size_t j = 0; j < n_nz; j++)
		sum += w[ctx->nz[j]];
	return sum;
}

/*
 * 1 when the step is watermarked: a full context is there and it has not
 * occurred earlier in prev_ids. Repeating a context would repeat the same
 * key stream, which biases the text (the same choice after the same words)
 * and adds no evidence; the detector skips repeated contexts in the same way.
 */
static int marked_step(const aimark__textwm_params *p, const int32_t *prev_ids, size_t n_prev)
{
	size_t h = p->context;
	if (n_prev < h)
		return 0;
	const int32_t *cur = prev_ids + n_prev - h;
	for (size_t e = h; e < n_prev; e++)
		if (memcmp(prev_ids + e - h, cur, h * sizeof *cur) == 0)
			return 0;
	return 1;
}

static int check_args(aimark_textwm *ctx, const int32_t *prev_ids, size_t n_prev, const float *values, size_t n,
		      aimark_textwm_values kind)
{
	RETURN_IF(ctx == NULL || values == NULL || (prev_ids == NULL && n_prev > 0), AIMARK_EINVAL,
		  "text watermark: NULL argument");
	RETURN_IF(n == 0 || n > (size_t)INT32_MAX + 1u, AIMARK_EINVAL, "text watermark: %zu values", n);
	RETURN_IF(kind != AIMARK_TEXTWM_LOGITS && kind != AIMARK_TEXTWM_PROBS, AIMARK_EINVAL,
		  "text watermark: unknown value kind %d", (int)kind);
	return reserve(ctx, n);
}

static int process(aimark_textwm *ctx, const int32_t *prev_ids, size_t n_prev, const int32_t *ids, float *values,
		   size_t n, aimark_textwm_values kind)
{
	RETURN_IF_ERR(check_args(ctx, prev_ids, n_prev, values, n, kind));
	const aimark__textwm_params *p = &ctx->params;
	size_t n_nz = 0;
	double total = 0.0;
	if (!marked_step(p, prev_ids, n_prev)) {
		/* an unmarked step, but bad input is still refused */
		return to_weights(ctx, values, n, kind, &n_nz, &total);
	}
	uint64_t seed = aimark__text_prf_seed(&p->prf, prev_ids + n_prev - p->context, p->context);
	if (p->method == AIMARK_TEXTWM_GREENLIST && kind == AIMARK_TEXTWM_LOGITS) {
		RETURN_IF_ERR(to_weights(ctx, values, n, kind, &n_nz, &total));
		float delta = (float)ctx->cfg.delta;
		for (size_t j = 0; j < n_nz; j++) {
			uint32_t i = ctx->nz[j];
			if (aimark__textwm_green(p, aimark__text_prf_token(seed, id_at(ids, i))))
				values[i] += delta;
		}
		return 0;
	}
	RETURN_IF_ERR(to_weights(ctx, values, n, kind, &n_nz, &total));
	double sum = watermark_weights(ctx, seed, ids, n_nz, total);
	RETURN_IF(!(sum > 0.0), AIMARK_EINVAL, "text watermark: no token is possible");
	for (size_t i = 0; i < n; i++) {
		double q = ctx->w[i] / sum;
		if (kind == AIMARK_TEXTWM_PROBS)
			values[i] = (float)q;
		else
			values[i] = q > 0.0 ? (float)log(q) : -INFINITY;
	}
	return 0;
}

int aimark_textwm_process(aimark_textwm *ctx, const int32_t *prev_ids, size_t n_prev, float *values, size_t vocab_size,
			  aimark_textwm_values kind)
{
	return process(ctx, prev_ids, n_prev, NULL, values, vocab_size, kind);
}

int aimark_textwm_process_candidates(aimark_textwm *ctx, const int32_t *prev_ids, size_t n_prev, const int32_t *ids,
				     float *values, size_t n, aimark_textwm_values kind)
{
	RETURN_IF(ids == NULL, AIMARK_EINVAL, "text watermark: NULL candidate ids");
	return process(ctx, prev_ids, n_prev, ids, values, n, kind);
}

int aimark_textwm_sample(aimark_textwm *ctx, const int32_t *prev_ids, size_t n_prev, const int32_t *ids,
			 const float *values, size_t n, aimark_textwm_values kind, double u, int32_t *token)
{
	RETURN_IF(token == NULL, AIMARK_EINVAL, "text watermark: NULL token");
	RETURN_IF(!(u >= 0.0 && u < 1.0), AIMARK_EINVAL, "text watermark: random number %g is not in [0, 1)", u);
	RETURN_IF_ERR(check_args(ctx, prev_ids, n_prev, values, n, kind));
	const aimark__textwm_params *p = &ctx->params;
	size_t n_nz = 0;
	double total = 0.0;
	RETURN_IF_ERR(to_weights(ctx, values, n, kind, &n_nz, &total));
	if (marked_step(p, prev_ids, n_prev)) {
		uint64_t seed = aimark__text_prf_seed(&p->prf, prev_ids + n_prev - p->context, p->context);
		total = watermark_weights(ctx, seed, ids, n_nz, total);
	}
	RETURN_IF(!(total > 0.0), AIMARK_EINVAL, "text watermark: no token is possible");
	double target = u * total, cum = 0.0;
	uint32_t pick = ctx->nz[n_nz - 1];
	for (size_t j = 0; j < n_nz; j++) {
		uint32_t i = ctx->nz[j];
		if (ctx->w[i] <= 0.0)
			continue;
		cum += ctx->w[i];
		pick = i;
		if (cum > target)
			break;
	}
	*token = id_at(ids, pick);
	return 0;
}

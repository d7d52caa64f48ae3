/*
 * A word-level trigram language model with Witten-Bell interpolation, built
 * from a text corpus, standing in for a language model when testing and
 * benchmarking the statistical text watermark (which only sees token ids
 * and distributions). Header-only: included by bench/bench_textwm.c and
 * tests/unit/test_text_wm.c.
 *
 * Tokens: runs of ASCII letters (lower-cased, inner apostrophes kept), runs
 * of digits, and single punctuation characters ("--" is one token).
 * P1(w) = c(w)/N; P2(w|v) = (c(vw) + T(v) P1(w)) / (c(v) + T(v));
 * P3(w|uv) = (c(uvw) + T(uv) P2(w|v)) / (c(uv) + T(uv)), T() the number of
 * distinct followers. The distribution is dense over the whole vocabulary.
 */
#ifndef AIMARK_BENCH_TEXTWM_NGRAM_H
#define AIMARK_BENCH_TEXTWM_NGRAM_H

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct ngram_follow {
	uint64_t ctx;       /* context key: v (bigram) or u<<32|v (trigram) */
	uint32_t first, n;  /* followers in `fw`/`fc` */
	uint32_t total;     /* c(context) as a context */
} ngram_follow;

typedef struct ngram_model {
	char **words;       /* id -> word */
	uint32_t vocab;
	uint32_t *tokens;   /* the corpus as ids */
	size_t n_tokens;
	double *p1;         /* unigram */
	ngram_follow *bi, *tri;
	size_t n_bi, n_tri;
	uint32_t *bw, *bc, *tw, *tc; /* follower ids and counts */
	/* word -> id hash table */
	uint32_t *slots;
	size_t mask;
} ngram_model;

static uint64_t ngram_hash_str(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211u;
	return h;
}

static uint32_t ngram_intern(ngram_model *m, const char *s, size_t n)
{
	size_t i = (size_t)ngram_hash_str(s, n) & m->mask;
	while (m->slots[i] != UINT32_MAX) {
		const char *w = m->words[m->slots[i]];
		if (strlen(w) == n && memcmp(w, s, n) == 0)
			return m->slots[i];
		i = (i + 1) & m->mask;
	}
	char *copy = malloc(n + 1);
	memcpy(copy, s, n);
	copy[n] = 0;
	m->words = realloc(m->words, (m->vocab + 1) * sizeof *m->words);
	m->words[m->vocab] = copy;
	m->slots[i] = m->vocab;
	return m->vocab++;
}

static int ngram_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

typedef struct ngram_pair {
	uint64_t ctx;
	uint32_t w;
} ngram_pair;

static int ngram_cmp_pair(const void *a, const void *b)
{
	const ngram_pair *x = a, *y = b;
	if (x->ctx != y->ctx)
		return x->ctx < y->ctx ? -1 : 1;
	return x->w < y->w ? -1 : x->w > y->w;
}

/* Groups (ctx, w) pairs into follower lists. */
static void ngram_group(ngram_pair *pairs, size_t n, ngram_follow **out, size_t *n_out, uint32_t **fw, uint32_t **fc)
{
	qsort(pairs, n, sizeof *pairs, ngram_cmp_pair);
	*out = calloc(n + 1, sizeof **out);
	*fw = calloc(n + 1, sizeof **fw);
	*fc = calloc(n + 1, sizeof **fc);
	size_t nf = 0, nw = 0;
	for (size_t i = 0; i < n;) {
		ngram_follow *f = &(*out)[nf++];
		f->ctx = pairs[i].ctx;
		f->first = (uint32_t)nw;
		size_t j = i;
		while (j < n && pairs[j].ctx == f->ctx) {
			size_t k = j;
			while (k < n && pairs[k].ctx == f->ctx && pairs[k].w == pairs[j].w)
				k++;
			(*fw)[nw] = pairs[j].w;
			(*fc)[nw] = (uint32_t)(k - j);
			nw++;
			f->total += (uint32_t)(k - j);
			j = k;
		}
		f->n = (uint32_t)(nw - f->first);
		i = j;
	}
	*n_out = nf;
}

/* Builds the model from a corpus file; returns 0 or -1. */
static int ngram_build(ngram_model *m, const char *path)
{
	memset(m, 0, sizeof *m);
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	fseek(f, 0, SEEK_END);
	long len = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *text = malloc((size_t)len + 1);
	if (!text || fread(text, 1, (size_t)len, f) != (size_t)len) {
		fclose(f);
		free(text);
		return -1;
	}
	fclose(f);
	m->mask = (1u << 17) - 1;
	m->slots = malloc((m->mask + 1) * sizeof *m->slots);
	memset(m->slots, 0xFF, (m->mask + 1) * sizeof *m->slots);
	size_t cap = (size_t)len / 2 + 16;
	m->tokens = malloc(cap * sizeof *m->tokens);
	char word[64];
	for (long i = 0; i < len;) {
		unsigned char c = (unsigned char)text[i];
		size_t wn = 0;
		if (isalpha(c)) {
			while (i < len && (isalpha((unsigned char)text[i]) ||
					   (text[i] == '\'' && i + 1 < len && isalpha((unsigned char)text[i + 1]) && wn > 0))) {
				if (wn < sizeof word)
					word[wn++] = (char)tolower((unsigned char)text[i]);
				i++;
			}
		} else if (isdigit(c)) {
			while (i < len && isdigit((unsigned char)text[i])) {
				if (wn < sizeof word)
					word[wn++] = text[i];
				i++;
			}
		} else if (c == '-' && i + 1 < len && text[i + 1] == '-') {
			word[wn++] = '-';
			word[wn++] = '-';
			i += 2;
		} else if (ispunct(c)) {
			word[wn++] = (char)c;
			i++;
		} else {
			i++;
			continue;
		}
		m->tokens[m->n_tokens++] = ngram_intern(m, word, wn);
	}
	free(text);
	size_t n = m->n_tokens;
	m->p1 = calloc(m->vocab, sizeof *m->p1);
	for (size_t i = 0; i < n; i++)
		m->p1[m->tokens[i]] += 1.0 / (double)n;
	ngram_pair *pairs = malloc((n + 1) * sizeof *pairs);
	for (size_t i = 1; i < n; i++)
		pairs[i - 1] = (ngram_pair){ m->tokens[i - 1], m->tokens[i] };
	ngram_group(pairs, n - 1, &m->bi, &m->n_bi, &m->bw, &m->bc);
	for (size_t i = 2; i < n; i++)
		pairs[i - 2] = (ngram_pair){ (uint64_t)m->tokens[i - 2] << 32 | m->tokens[i - 1], m->tokens[i] };
	ngram_group(pairs, n - 2, &m->tri, &m->n_tri, &m->tw, &m->tc);
	free(pairs);
	return 0;
}

static const ngram_follow *ngram_find(const ngram_follow *list, size_t n, uint64_t ctx)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (list[mid].ctx < ctx)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && list[lo].ctx == ctx ? &list[lo] : NULL;
}

/* The next-token distribution after (u, v) into p[vocab] (sums to 1). */
static void ngram_dist(const ngram_model *m, uint32_t u, uint32_t v, double *p)
{
	memcpy(p, m->p1, m->vocab * sizeof *p);
	const ngram_follow *b = ngram_find(m->bi, m->n_bi, v);
	if (b) {
		double d = (double)b->total + b->n;
		double s = (double)b->n / d;
		for (uint32_t i = 0; i < m->vocab; i++)
			p[i] *= s;
		for (uint32_t k = 0; k < b->n; k++)
			p[m->bw[b->first + k]] += m->bc[b->first + k] / d;
	}
	const ngram_follow *t = ngram_find(m->tri, m->n_tri, (uint64_t)u << 32 | v);
	if (t) {
		double d = (double)t->total + t->n;
		double s = (double)t->n / d;
		for (uint32_t i = 0; i < m->vocab; i++)
			p[i] *= s;
		for (uint32_t k = 0; k < t->n; k++)
			p[m->tw[t->first + k]] += m->tc[t->first + k] / d;
	}
}

/* Sharpens p to p^(1/temperature), renormalised (temperature 1: unchanged). */
static void ngram_temperature(double *p, uint32_t n, double temperature)
{
	if (temperature == 1.0)
		return;
	double s = 0.0;
	for (uint32_t i = 0; i < n; i++) {
		p[i] = p[i] > 0.0 ? pow(p[i], 1.0 / temperature) : 0.0;
		s += p[i];
	}
	for (uint32_t i = 0; i < n; i++)
		p[i] /= s;
}

static double ngram_entropy_bits(const double *p, uint32_t n)
{
	double h = 0.0;
	for (uint32_t i = 0; i < n; i++)
		if (p[i] > 0.0)
			h -= p[i] * log2(p[i]);
	return h;
}

static void ngram_free(ngram_model *m)
{
	for (uint32_t i = 0; i < m->vocab; i++)
		free(m->words[i]);
	free(m->words);
	free(m->tokens);
	free(m->p1);
	free(m->bi);
	free(m->tri);
	free(m->bw);
	free(m->bc);
	free(m->tw);
	free(m->tc);
	free(m->slots);
	memset(m, 0, sizeof *m);
}

/* xoshiro256** seeded by SplitMix64: the samplers' own random numbers. */
typedef struct ngram_rng {
	uint64_t s[4];
} ngram_rng;

static uint64_t ngram_rng_next(ngram_rng *r)
{
	uint64_t *s = r->s;
	uint64_t x = s[1] * 5;
	uint64_t result = ((x << 7) | (x >> 57)) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = (s[3] << 45) | (s[3] >> 19);
	return result;
}

static void ngram_rng_seed(ngram_rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++) {
		uint64_t z = (seed += 0x9E3779B97F4A7C15u);
		z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
		z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
		r->s[i] = z ^ (z >> 31);
	}
}

/* Uniform in [0, 1). */
static double ngram_rng_unit(ngram_rng *r)
{
	return (double)(ngram_rng_next(r) >> 11) * 0x1.0p-53;
}

/* Draws from a normalised distribution by inversion. */
static uint32_t ngram_draw(const double *p, uint32_t n, double u)
{
	double c = 0.0;
	uint32_t last = 0;
	for (uint32_t i = 0; i < n; i++) {
		if (p[i] <= 0.0)
			continue;
		c += p[i];
		last = i;
		if (c > u)
			return i;
	}
	return last;
}

#endif

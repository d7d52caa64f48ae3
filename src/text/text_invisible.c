/* The invisible signed mark: frames of variation selectors, where they go, and how they are read. */
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "crypto/crypto.h"
#include "format/html_lex.h"
#include "text/text_explicit.h"
#include "text/text_invisible.h"
#include "text/text_unicode.h"
#include "wm/wm_key.h"
#include "wm/wm_payload.h"

/* The key stream that enciphers a frame: HMAC-SHA256(pattern_key, label), first 14 bytes. */
static int key_stream(const aimark_wm_key *key, unsigned char ks[AIMARK__TEXT_FRAME_BYTES])
{
	static const char label[] = "aimark-text-v1 invisible";
	unsigned char full[32];
	RETURN_IF_ERR(aimark__hmac_sha256(key->pattern_key, sizeof key->pattern_key, label, sizeof label - 1, full));
	memcpy(ks, full, AIMARK__TEXT_FRAME_BYTES);
	aimark__wipe(full, sizeof full);
	return 0;
}

int aimark__text_mark_frame(const aimark_wm_key *key, const unsigned char payload[8],
			    uint32_t frame[AIMARK__TEXT_FRAME_SYMBOLS])
{
	unsigned char bytes[AIMARK__TEXT_FRAME_BYTES], ks[AIMARK__TEXT_FRAME_BYTES];
	memcpy(bytes, payload, 8);
	RETURN_IF_ERR(aimark__wm_tag(key, payload, bytes + 8));
	RETURN_IF_ERR(key_stream(key, ks));
	for (int i = 0; i < AIMARK__TEXT_FRAME_BYTES; i++)
		bytes[i] ^= ks[i];
	frame[0] = AIMARK__TEXT_MARK_SYNC;
	/* 112 bits, most significant first, 7 per symbol */
	for (int s = 0; s < 16; s++) {
		uint32_t v = 0;
		for (int b = 0; b < 7; b++) {
			int bit = s * 7 + b;
			v = (v << 1) | ((bytes[bit / 8] >> (7 - bit % 8)) & 1u);
		}
		frame[1 + s] = AIMARK__TEXT_MARK_BASE + v;
	}
	aimark__wipe(ks, sizeof ks);
	return 0;
}

/* ---- where frames go ---- */

static int is_ascii_alpha(uint32_t c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

/* Letters of scripts whose characters have no registered variation sequences with VS17..VS256. */
static int is_word_letter(uint32_t c)
{
	return is_ascii_alpha(c) || (c >= 0xC0 && c <= 0x24F && c != 0xD7 && c != 0xF7) || c == 0x386 ||
	       (c >= 0x388 && c <= 0x3FF) || (c >= 0x400 && c <= 0x482) || (c >= 0x48A && c <= 0x4FF);
}

static int is_cjk_punct(uint32_t c)
{
	static const uint32_t set[] = { 0x3001, 0x3002, 0xFF01, 0xFF0C, 0xFF1A, 0xFF1B, 0xFF1F, 0xFF09, 0x300D, 0x300F,
					0x3011 };
	for (size_t i = 0; i < sizeof set / sizeof set[0]; i++)
		if (set[i] == c)
			return 1;
	return 0;
}

/* Characters that attach to what precedes them: a frame must not separate them from their base. */
static int is_attaching(uint32_t c)
{
	return aimark__uni_ccc_of(c) != 0 || (c >= 0x300 && c <= 0x36F) || (c >= 0x483 && c <= 0x489) ||
	       (c >= 0x1AB0 && c <= 0x1AFF) || (c >= 0x1DC0 && c <= 0x1DFF) || (c >= 0x20D0 && c <= 0x20FF) ||
	       (c >= 0xFE00 && c <= 0xFE0F) || (c >= 0xFE20 && c <= 0xFE2F) || c == 0x200C || c == 0x200D ||
	       (c >= 0xE0000 && c <= 0xE0FFF);
}

/*
 * The ASCII token (run of printable non-space ASCII) around [b, e) looks like
 * prose, not a URL, address, path, identifier, entity or markup.
 */
static int ascii_token_ok(const unsigned char *p, size_t lo, size_t hi, size_t b, size_t e)
{
	size_t s = b, t = e;
	while (s > lo && p[s - 1] > 0x20 && p[s - 1] < 0x7F && b - s < 128)
		s--;
	while (t < hi && p[t] > 0x20 && p[t] < 0x7F && t - e < 128)
		t++;
	if (b - s >= 128 || t - e >= 128)
		return 0;
	for (size_t i = s; i < t; i++) {
		unsigned char c = p[i];
		if (strchr("/\\@=<>{}[]`|~^$%#&_*+", c))
			return 0;
		/* an inner dot or colon: a domain name, file name, version, scheme */
		if ((c == '.' || c == ':') && i + 1 < t && ((p[i + 1] | 0x20) >= 'a' && (p[i + 1] | 0x20) <= 'z'))
			return 0;
		if ((c == '.' || c == ':') && i + 1 < t && p[i + 1] >= '0' && p[i + 1] <= '9')
			return 0;
	}
	return 1;
}

/*
 * 1 when a frame may follow the character p[i, j) = cp, given what comes
 * after it; the prose span [lo, hi) bounds the token examined.
 */
static int base_ok(const unsigned char *p, size_t n, size_t lo, size_t hi, size_t i, size_t j, uint32_t cp)
{
	int letter = is_word_letter(cp);
	if (!letter && !is_cjk_punct(cp))
		return 0;
	if (j < n) {
		uint32_t next;
		int valid;
		aimark__utf8_decode(p, n, j, &next, &valid);
		if (is_attaching(next))
			return 0;
		/* only at the end of a word: searching and copying words stays intact */
		if (letter && (is_word_letter(next) || (next >= '0' && next <= '9') || next == '\''))
			return 0;
	}
	if (cp < 0x80)
		return ascii_token_ok(p, lo, hi, i, j);
	/* a non-ASCII letter glued to an ASCII token: judge the token */
	if (i > lo && p[i - 1] > 0x20 && p[i - 1] < 0x7F && letter)
		return ascii_token_ok(p, lo, hi, i, i);
	return 1;
}

typedef struct pos_list {
	size_t *v;
	size_t n, cap;
} pos_list;

static int pos_add(pos_list *l, size_t at)
{
	RETURN_IF_ARRAY_FULL_GROW(l->v, l->cap, l->n, 32);
	l->v[l->n++] = at;
	return 0;
}

int aimark__text_mark_positions(const aimark__text_doc *doc, size_t **out, size_t *n_out)
{
	const unsigned char *p = doc->d;
	pos_list l = { NULL, 0, 0 };
	size_t visible = 0, next_at = 1, last_content = 0;
	int rc = 0;
	for (size_t k = 0; rc == 0 && k < doc->prose.n; k++) {
		size_t b = doc->prose.v[k].begin, e = doc->prose.v[k].end;
		for (size_t i = b; rc == 0 && i < e;) {
			uint32_t cp;
			int valid;
			size_t j = i + aimark__utf8_decode(p, e, i, &cp, &valid);
			if (valid && !aimark__uni_is_space(cp) && !aimark__text_is_invisible(cp)) {
				visible++;
				if (!is_attaching(cp))
					last_content = j;
				if (visible >= next_at && base_ok(p, doc->n, b, e, i, j, cp)) {
					rc = pos_add(&l, j);
					next_at = visible + AIMARK__TEXT_MARK_SPACING;
				}
			}
			i = j;
		}
	}
	/* no suitable base at all (a short text of ideographs, say): after the last character */
	if (rc == 0 && l.n == 0 && last_content > 0)
		rc = pos_add(&l, last_content);
	if (rc < 0) {
		aimark__free(l.v);
		return rc;
	}
	*out = l.v;
	*n_out = l.n;
	return 0;
}

/* ---- detection ---- */

typedef struct cand {
	unsigned char bytes[AIMARK__TEXT_FRAME_BYTES];
	size_t count;
} cand;

typedef struct reader {
	unsigned char run[AIMARK__TEXT_FRAME_SYMBOLS]; /* symbols since the last sync */
	int len;                                       /* -1: no sync seen in this run */
	cand *cands;
	size_t n_cands;
	uint32_t votes[AIMARK__TEXT_FRAME_BYTES * 8];
	size_t frames, symbols;
} reader;

static void add_frame(reader *r)
{
	unsigned char bytes[AIMARK__TEXT_FRAME_BYTES] = { 0 };
	for (int s = 0; s < 16; s++)
		for (int b = 0; b < 7; b++) {
			int bit = s * 7 + b;
			unsigned v = (r->run[1 + s] >> (6 - b)) & 1u;
			bytes[bit / 8] |= (unsigned char)(v << (7 - bit % 8));
			r->votes[bit] += v;
		}
	r->frames++;
	for (size_t i = 0; i < r->n_cands; i++)
		if (memcmp(r->cands[i].bytes, bytes, sizeof bytes) == 0) {
			r->cands[i].count++;
			return;
		}
	if (r->n_cands < AIMARK__TEXT_MARK_MAX_CANDIDATES) {
		memcpy(r->cands[r->n_cands].bytes, bytes, sizeof bytes);
		r->cands[r->n_cands++].count = 1;
	}
}

static void on_symbol(reader *r, uint32_t cp)
{
	r->symbols++;
	if (cp == AIMARK__TEXT_MARK_SYNC) {
		r->run[0] = 128;
		r->len = 1;
		return;
	}
	uint32_t v = cp - AIMARK__TEXT_MARK_BASE;
	if (r->len < 1 || v >= 128) {
		r->len = -1;
		return;
	}
	r->run[r->len++] = (unsigned char)v;
	if (r->len == AIMARK__TEXT_FRAME_SYMBOLS) {
		add_frame(r);
		r->len = -1;
	}
}

static int cmp_cand(const void *a, const void *b)
{
	const cand *x = a, *y = b;
	return x->count < y->count ? 1 : x->count > y->count ? -1 : 0;
}

int aimark__text_mark_detect(const unsigned char *d, size_t n, int html_refs, const aimark_wm_key *const *keys,
			     size_t n_keys, aimark__text_mark_result *res)
{
	memset(res, 0, sizeof *res);
	res->key_index = -1;
	res->false_alarm_probability = 1.0;
	reader *r = aimark__calloc(1, sizeof *r);
	RETURN_ENOMEM_IF_NULL(r);
	r->len = -1;
	r->cands = aimark__calloc(AIMARK__TEXT_MARK_MAX_CANDIDATES + 1, sizeof *r->cands);
	if (r->cands == NULL) {
		aimark__free(r);
		return aimark__error_set(AIMARK_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		int valid;
		/* the mark's code points are 4-byte sequences starting F3 A0 84..87 */
		if (d[i] < 0x80) {
			size_t k;
			if (html_refs && d[i] == '&' && (k = aimark__html_char_ref(d + i, n - i, &cp)) > 0 && cp >= AIMARK__TEXT_MARK_BASE &&
			    cp <= 0xE01EF) {
				on_symbol(r, cp);
				i += k;
				continue;
			}
			r->len = -1;
			i++;
			continue;
		}
		i += aimark__utf8_decode(d, n, i, &cp, &valid);
		if (valid && cp >= AIMARK__TEXT_MARK_BASE && cp <= 0xE01EF)
			on_symbol(r, cp);
		else
			r->len = -1;
	}
	res->frames = r->frames;
	res->symbols = r->symbols;
	int rc = 0;
	if (r->frames > 0 && n_keys > 0) {
		/* the bitwise majority of all frames is one more candidate (it repairs edited copies) */
		size_t nc = r->n_cands;
		qsort(r->cands, nc, sizeof *r->cands, cmp_cand);
		cand maj;
		memset(&maj, 0, sizeof maj);
		for (int bit = 0; bit < AIMARK__TEXT_FRAME_BYTES * 8; bit++)
			if (2 * r->votes[bit] > r->frames)
				maj.bytes[bit / 8] |= (unsigned char)(1u << (7 - bit % 8));
		int dup = 0;
		for (size_t i = 0; i < nc && !dup; i++)
			dup = memcmp(r->cands[i].bytes, maj.bytes, sizeof maj.bytes) == 0;
		if (!dup)
			r->cands[nc++] = maj;
		for (size_t k = 0; rc == 0 && k < n_keys && !res->authenticated; k++) {
			unsigned char ks[AIMARK__TEXT_FRAME_BYTES];
			if (keys[k] == NULL)
				continue;
			rc = key_stream(keys[k], ks);
			for (size_t c = 0; rc == 0 && c < nc && !res->authenticated; c++) {
				unsigned char plain[AIMARK__TEXT_FRAME_BYTES], tag[6];
				for (int b = 0; b < AIMARK__TEXT_FRAME_BYTES; b++)
					plain[b] = r->cands[c].bytes[b] ^ ks[b];
				rc = aimark__wm_tag(keys[k], plain, tag);
				if (rc == 0 && aimark__ct_equal(tag, plain + 8, 6)) {
					res->authenticated = 1;
					res->key_index = (int)k;
					memcpy(res->payload, plain, 8);
				}
			}
			aimark__wipe(ks, sizeof ks);
		}
		if (res->authenticated) {
			/* every (candidate, key) pair tried so far and after could have matched by chance */
			double h = (double)nc * (double)n_keys;
			double p = h * 0x1.0p-48;
			res->false_alarm_probability = p < 1.0 ? p : 1.0;
		}
	}
	aimark__free(r->cands);
	aimark__free(r);
	return rc;
}

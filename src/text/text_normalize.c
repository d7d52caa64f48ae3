/*
 * The normalised body, so that the content hash tells "same text, labels
 * removed" from "text edited":
 *   1. the GB 45438 metadata carrier (trailing AIGC line, Markdown front
 *      matter, HTML AIGC meta elements), the explicit labels at the start and
 *      end of the body (HTML: data-aigc-label elements) and a UTF-8 BOM are
 *      cut out;
 *   2. malformed UTF-8 becomes U+FFFD (one per maximal ill-formed subpart);
 *   3. invisible characters are dropped: the mark (U+E0100..U+E01EF), VS1-16
 *      (U+FE00..U+FE0F), ZWSP U+200B, WORD JOINER U+2060, BOM U+FEFF, SOFT
 *      HYPHEN U+00AD;
 *   4. NFC (in pieces split before characters that never compose backwards;
 *      more than AIMARK__TEXT_MAX_UNSPLIT code points without such a split
 *      point, i.e. a run of combining marks, is refused with AIMARK_ELIMIT);
 *   5. every run of white space becomes one space, except that it is removed
 *      at the start and end, next to a wide East Asian character, and in HTML
 *      next to a tag ('>' before or '<' after).
 */
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "text/text_explicit.h"
#include "text/text_normalize.h"
#include "text/text_unicode.h"

static int cmp_span(const void *a, const void *b)
{
	const aimark__text_span *x = a, *y = b;
	return x->begin < y->begin ? -1 : x->begin > y->begin;
}

#define AIMARK__TEXT_MAX_UNSPLIT (1u << 20)

typedef struct cp_vec {
	uint32_t *v;
	size_t n, cap;
} cp_vec;

static int cp_push(cp_vec *c, uint32_t cp)
{
	RETURN_IF_ARRAY_FULL_GROW(c->v, c->cap, c->n, 256);
	c->v[c->n++] = cp;
	return 0;
}

/* Folds white space in the NFC text. */
static int fold(const unsigned char *s, size_t n, int html, aimark_buf *out)
{
	uint32_t prev = 0; /* last code point written; 0 at the start */
	int pending = 0;
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		int valid;
		i += aimark__utf8_decode(s, n, i, &cp, &valid);
		if (aimark__uni_is_space(cp)) {
			pending = 1;
			continue;
		}
		if (pending && prev != 0 && !aimark__uni_is_wide(prev) && !aimark__uni_is_wide(cp) &&
		    !(html && (prev == '>' || cp == '<')))
			RETURN_IF_ERR(aimark__buf_append(out, " ", 1));
		pending = 0;
		RETURN_IF_ERR(aimark__utf8_append(out, cp));
		prev = cp;
	}
	return 0;
}

int aimark__text_normalize_doc(const aimark__text_doc *doc, aimark_buf *out)
{
	aimark__text_label_found found;
	RETURN_IF_ERR(aimark__text_explicit_find(doc, &found));
	size_t n_cut = doc->meta.n + doc->labels.n + 3;
	aimark__text_span *cut = aimark__calloc(n_cut, sizeof *cut);
	RETURN_ENOMEM_IF_NULL(cut);
	size_t k = 0;
	for (size_t i = 0; i < doc->meta.n; i++)
		cut[k++] = doc->meta.v[i];
	for (size_t i = 0; i < doc->labels.n; i++)
		cut[k++] = doc->labels.v[i];
	if (found.at & AIMARK__TEXT_AT_START && found.start_line.end > found.start_line.begin)
		cut[k++] = found.start_line;
	if (found.at & AIMARK__TEXT_AT_END && found.end_line.end > found.end_line.begin)
		cut[k++] = found.end_line;
	qsort(cut, k, sizeof *cut, cmp_span);

	const unsigned char *p = doc->d;
	size_t start = doc->n >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF ? 3 : 0;
	cp_vec cps = { NULL, 0, 0 };
	aimark_buf nfc = AIMARK_BUF_INIT;
	int rc = 0;
	size_t c = 0;
	for (size_t i = start; rc == 0 && i < doc->n;) {
		while (c < k && cut[c].end <= i)
			c++;
		if (c < k && cut[c].begin <= i) {
			i = cut[c].end;
			continue;
		}
		size_t lim = c < k ? cut[c].begin : doc->n;
		uint32_t cp;
		int valid;
		i += aimark__utf8_decode(p, lim, i, &cp, &valid);
		if (aimark__text_is_invisible(cp))
			continue;
		if (cps.n >= 4096 && aimark__uni_nfc_boundary(cp)) {
			rc = aimark__uni_nfc(cps.v, cps.n, &nfc);
			cps.n = 0;
		} else if (cps.n >= AIMARK__TEXT_MAX_UNSPLIT) {
			rc = aimark__error_set(AIMARK_ELIMIT, "text: more than %u code points at offset %zu without a "
					       "normalisation boundary (a run of combining marks)", AIMARK__TEXT_MAX_UNSPLIT, i);
		}
		if (rc == 0)
			rc = cp_push(&cps, cp);
	}
	if (rc == 0)
		rc = aimark__uni_nfc(cps.v, cps.n, &nfc);
	if (rc == 0)
		rc = fold(nfc.ptr ? nfc.ptr : (const unsigned char *)"", nfc.size, doc->kind == AIMARK__TEXT_HTML, out);
	aimark__free(cps.v);
	aimark__free(cut);
	aimark_buf_dispose(&nfc);
	return rc;
}

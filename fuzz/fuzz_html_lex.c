/*
 * Fuzz target: the shared HTML tokenizer (format/html_lex.c). Checks what
 * must hold for any input: the tokens cover the input once and in order,
 * raw text follows exactly the raw elements' start tags, attributes stay
 * inside their tag, decoding references never grows the text; and the two
 * consumers agree: the AIGC meta elements the format reader finds are the
 * metadata spans the text layer leaves out of the content hash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aimark/aimark.h"
#include "core/internal.h"
#include "format/format.h"
#include "format/html_lex.h"
#include "text/text_doc.h"
#include "text/text_html.h"

extern const aimark__format_ops aimark__format_html;

#define CHECK(c) \
	do { \
		if (!(c)) \
			abort(); \
	} while (0)

static void check_decode(const uint8_t *p, size_t n)
{
	aimark_buf out = AIMARK_BUF_INIT;
	if (aimark__html_decode_refs(p, n, &out) == 0)
		CHECK(out.size <= n);
	aimark_buf_dispose(&out);
}

static void check_tokens(const uint8_t *p, size_t n, size_t from)
{
	aimark__html_lex lx;
	aimark__html_token t;
	aimark__html_lex_init(&lx, p, n, from);
	size_t pos = from < n ? from : n;
	int expect_raw = 0;
	while (aimark__html_lex_next(&lx, &t)) {
		CHECK(t.begin == pos && t.end <= n);
		CHECK(t.end > t.begin || t.type == AIMARK__HTML_RAW);
		CHECK(expect_raw == (t.type == AIMARK__HTML_RAW));
		CHECK(!t.unterminated || t.end == n);
		expect_raw = t.type == AIMARK__HTML_START && t.raw;
		pos = t.end;
		if (t.type == AIMARK__HTML_TEXT)
			check_decode(p + t.begin, t.end - t.begin);
		if (t.type != AIMARK__HTML_START && t.type != AIMARK__HTML_END)
			continue;
		CHECK(t.name > t.begin && t.name + t.name_len <= t.end && t.attrs <= t.end);
		size_t ap = t.attrs;
		aimark__html_attr a;
		while (aimark__html_attr_next(p, n, &ap, &a)) {
			CHECK(a.name >= t.attrs && a.name + a.name_len <= t.end);
			CHECK(!a.has_val || a.val + a.val_len <= t.end);
			if (a.has_val)
				check_decode(p + a.val, a.val_len);
		}
		CHECK(t.raw || ap == t.end);
		(void)aimark__html_is_aigc_meta(p, n, &t, NULL, NULL);
	}
	CHECK(!expect_raw && pos == (from < n ? n : pos));
}

/* The carrier spans the format reader found (the gaps in its essence), merged when adjacent. */
static int format_metas(const uint8_t *p, size_t n, aimark__span_list *out)
{
	aimark_source *src = NULL;
	aimark__meta meta;
	if (aimark_source_new_memory(&src, n ? p : (const uint8_t *)"", n) != 0)
		return -1;
	aimark__meta_init(&meta, NULL);
	int rc = aimark__format_html.read(src, &meta);
	aimark_source_free(src);
	uint64_t pos = 0;
	for (size_t i = 0; rc == 0 && i < meta.n_essence; i++) {
		if (meta.essence[i].offset > pos)
			rc = aimark__span_add(out, (size_t)pos, (size_t)meta.essence[i].offset);
		pos = meta.essence[i].offset + meta.essence[i].length;
	}
	if (rc == 0 && pos < n)
		rc = aimark__span_add(out, (size_t)pos, n);
	aimark__meta_dispose(&meta);
	return rc;
}

static void check_agreement(const uint8_t *p, size_t n)
{
	aimark__span_list fm = { 0 };
	aimark__text_doc doc;
	if (format_metas(p, n, &fm) != 0) {
		aimark__free(fm.v);
		return;
	}
	if (aimark__text_doc_parse(&doc, p, n, AIMARK__TEXT_HTML) == 0) {
		/* merge adjacent text-layer spans, as the essence ranges are merged */
		size_t k = 0;
		for (size_t i = 0; i < doc.meta.n; i++) {
			size_t b = doc.meta.v[i].begin, e = doc.meta.v[i].end;
			while (i + 1 < doc.meta.n && doc.meta.v[i + 1].begin == e)
				e = doc.meta.v[++i].end;
			CHECK(k < fm.n && fm.v[k].begin == b && fm.v[k].end == e);
			k++;
		}
		CHECK(k == fm.n);
		aimark_buf vis = AIMARK_BUF_INIT;
		if (aimark__text_html_visible(&doc, &vis) == 0)
			CHECK(vis.size <= 2 * n + 1); /* decoded text plus one line break per tag */
		aimark_buf_dispose(&vis);
		aimark__text_doc_dispose(&doc);
	}
	aimark__free(fm.v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_tokens(data, size, 0);
	if (size > 3)
		check_tokens(data, size, data[0] % 4);
	/* the format reader refuses NUL bytes and UTF-16; the text layer reads anything */
	if (memchr(data, 0, size) == NULL && !(size >= 2 && (data[0] == 0xFF || data[0] == 0xFE)))
		check_agreement(data, size);
	return 0;
}

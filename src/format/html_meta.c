/*
 * HTML: the label is <meta name="AIGC" content="{json, entity-escaped}">.
 *
 * The document is read through format/html_lex.c, the tokenizer the text
 * layers use too (tags, comments, declarations, raw text of
 * script/style/textarea/title/xmp, attributes in any quote style, character
 * references), so both agree on which bytes the carrier is. Writing
 * replaces the first AIGC meta element (removing any others) or inserts one
 * right after <head>, else after <html>, else after the doctype, else at
 * the start (after a BOM). No <head> element is created: its tags are
 * optional in HTML and the parser puts a leading <meta> into the head, and
 * inserting nothing but the meta element keeps the essence exact. The
 * written document is parsed again: when removing the extra elements would
 * join their neighbours into new markup, nothing is written.
 *
 * Essence: every byte outside the AIGC meta elements.
 */
#include <stdlib.h>
#include <string.h>

#include "core/findings_internal.h"
#include "core/internal.h"
#include "core/io_internal.h"
#include "format/format.h"
#include "format/html_lex.h"

#define HTML_MAX_FILE (UINT64_C(256) << 20)
#define CARRIER_HTML "html-meta"

typedef struct meta_el {
	size_t begin, end;
} meta_el;

typedef struct html_doc {
	aimark_buf storage;
	const unsigned char *d;
	size_t n;
	size_t bom;          /* 3 with a UTF-8 BOM */
	size_t after_doctype, after_html, after_head; /* 0: not seen */
	meta_el *metas;      /* AIGC meta elements */
	size_t n_metas, cap_metas;
	aimark_buf first_content; /* decoded content of the first one */
} html_doc;

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

static int is_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

static int ci_prefix(const unsigned char *p, size_t n, const char *s)
{
	size_t l = strlen(s);
	if (n < l)
		return 0;
	for (size_t i = 0; i < l; i++)
		if (lower(p[i]) != s[i])
			return 0;
	return 1;
}

static int on_meta(html_doc *doc, const aimark__html_token *t, aimark_findings *findings)
{
	aimark__html_attr name, content;
	if (!aimark__html_is_aigc_meta(doc->d, doc->n, t, &name, &content))
		return 0;
	const unsigned char *nv = doc->d + name.val;
	size_t s = 0, e = name.val_len;
	while (s < e && is_space(nv[s]))
		s++;
	while (e > s && is_space(nv[e - 1]))
		e--;
	if ((e - s != 4 || memcmp(nv + s, "AIGC", 4) != 0) && doc->n_metas == 0)
		RETURN_IF_ERR(aimark__findings_add(findings, AIMARK_SEVERITY_INFO, "html-meta-name",
						   "HTML: the meta element is named \"%.*s\", not \"AIGC\"", (int)(e - s),
						   (const char *)nv + s));
	RETURN_IF_ARRAY_FULL_GROW(doc->metas, doc->cap_metas, doc->n_metas, 4);
	doc->metas[doc->n_metas++] = (meta_el){ t->begin, t->end };
	if (doc->n_metas == 1) {
		RETURN_IF(content.val_len > AIMARK__MAX_METADATA_BLOCK, AIMARK_ELIMIT,
			  "HTML: the AIGC meta content at offset %zu exceeds %u bytes", t->begin, AIMARK__MAX_METADATA_BLOCK);
		RETURN_IF_ERR(aimark__html_decode_refs(doc->d + content.val, content.val_len, &doc->first_content));
	} else if (doc->n_metas == 2)
		RETURN_IF_ERR(aimark__findings_add(findings, AIMARK_SEVERITY_WARNING, "duplicate-label",
						   "HTML: more than one AIGC meta element (second at offset %zu)", t->begin));
	return 0;
}

/* Finds the AIGC meta elements and the insertion points (format/html_lex.c does the tokenizing). */
static int scan(html_doc *doc, aimark_findings *findings)
{
	aimark__html_lex lx;
	aimark__html_token t;
	aimark__html_lex_init(&lx, doc->d, doc->n, doc->bom);
	while (aimark__html_lex_next(&lx, &t)) {
		/* an insertion point must follow a complete tag or doctype, never an unterminated one */
		if (t.type == AIMARK__HTML_DOCTYPE && doc->after_doctype == 0 && !t.unterminated)
			doc->after_doctype = t.end;
		if (t.type != AIMARK__HTML_START)
			continue;
		if (aimark__html_tag_is(doc->d, &t, "html")) {
			if (doc->after_html == 0 && !t.unterminated)
				doc->after_html = t.end;
		} else if (aimark__html_tag_is(doc->d, &t, "head")) {
			if (doc->after_head == 0 && !t.unterminated)
				doc->after_head = t.end;
		} else
			RETURN_IF_ERR(on_meta(doc, &t, findings));
	}
	return 0;
}

static void doc_dispose(html_doc *doc)
{
	aimark_buf_dispose(&doc->storage);
	aimark_buf_dispose(&doc->first_content);
	aimark__free(doc->metas);
	memset(doc, 0, sizeof *doc);
}

static int doc_open(html_doc *doc, aimark_source *src, aimark_findings *findings)
{
	memset(doc, 0, sizeof *doc);
	RETURN_IF_ERR(aimark__source_load(src, HTML_MAX_FILE, &doc->storage, &doc->d));
	doc->n = (size_t)aimark_source_size(src);
	const unsigned char *p = doc->d;
	RETURN_IF(doc->n >= 2 && ((p[0] == 0xFF && p[1] == 0xFE) || (p[0] == 0xFE && p[1] == 0xFF)), AIMARK_EUNSUPPORTED,
		  "HTML: UTF-16 documents are not supported");
	if (doc->n >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF)
		doc->bom = 3;
	const unsigned char *nul = memchr(p, 0, doc->n);
	RETURN_IF(nul != NULL, AIMARK_EFORMAT, "HTML: NUL byte at offset %zu: not a text document", (size_t)(nul - p));
	return scan(doc, findings);
}

static int html_read(aimark_source *src, aimark__meta *meta)
{
	html_doc doc;
	int rc = doc_open(&doc, src, meta->findings);
	if (rc == 0 && doc.n_metas > 0)
		rc = aimark__meta_add_carrier(meta, CARRIER_HTML, doc.first_content.ptr ? (const char *)doc.first_content.ptr : "",
					      doc.first_content.size, doc.metas[0].begin);
	size_t pos = 0;
	for (size_t i = 0; rc == 0 && i < doc.n_metas; i++) {
		rc = aimark__meta_add_essence(meta, pos, doc.metas[i].begin - pos);
		pos = doc.metas[i].end;
	}
	if (rc == 0)
		rc = aimark__meta_add_essence(meta, pos, doc.n - pos);
	doc_dispose(&doc);
	return rc;
}

static int html_probe(const unsigned char *head, size_t len);

static int append_attr_escaped(aimark_buf *out, const char *s, size_t n)
{
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		const char *rep = s[i] == '&' ? "&amp;" : s[i] == '"' ? "&quot;" : s[i] == '<' ? "&lt;" : s[i] == '>' ? "&gt;" : NULL;
		if (rep == NULL)
			continue;
		RETURN_IF_ERR(aimark__buf_append(out, s + run, i - run));
		RETURN_IF_ERR(aimark__buf_append_str(out, rep));
		run = i + 1;
	}
	return aimark__buf_append(out, s + run, n - run);
}

/* Length of the essence run at *pos, after stepping over the meta elements there. */
static size_t essence_run(const html_doc *doc, size_t *pos, size_t *m)
{
	while (*m < doc->n_metas && doc->metas[*m].begin <= *pos) {
		if (doc->metas[*m].end > *pos)
			*pos = doc->metas[*m].end;
		(*m)++;
	}
	return (*m < doc->n_metas ? doc->metas[*m].begin : doc->n) - *pos;
}

/* 1 when both documents have the same bytes outside their AIGC meta elements. */
static int same_essence(const html_doc *a, const html_doc *b)
{
	size_t pa = 0, ma = 0, pb = 0, mb = 0;
	for (;;) {
		size_t la = essence_run(a, &pa, &ma), lb = essence_run(b, &pb, &mb);
		if (la == 0 || lb == 0)
			return la == lb;
		size_t k = la < lb ? la : lb;
		if (memcmp(a->d + pa, b->d + pb, k) != 0)
			return 0;
		pa += k;
		pb += k;
	}
}

/* Parses the written document again: one AIGC element, and every other byte parses as it did. */
static int check_written(const html_doc *doc, const aimark_buf *out)
{
	aimark_source *src = NULL;
	html_doc again;
	RETURN_IF_ERR(aimark_source_new_memory(&src, out->ptr ? out->ptr : (const unsigned char *)"", out->size));
	int rc = doc_open(&again, src, NULL);
	if (rc == 0 && (again.n_metas != 1 || !same_essence(doc, &again))) {
		if (doc->n_metas > 1)
			rc = aimark__error_set(AIMARK_EFORMAT, "HTML: removing the extra AIGC meta elements (the first at offset %zu) "
					       "would change how the text around them parses; not labelled", doc->metas[1].begin);
		else
			rc = aimark__error_set(AIMARK_EFORMAT, "HTML: the label element would change how the document parses; not labelled");
	}
	doc_dispose(&again);
	aimark_source_free(src);
	return rc;
}

static int html_write(aimark_source *src, const aimark__meta *meta, const aimark__label_provider *label,
		      aimark_sink *sink)
{
	html_doc doc;
	aimark_buf el = AIMARK_BUF_INIT, out = AIMARK_BUF_INIT;
	const aimark__label_write *lw = NULL;
	int rc = doc_open(&doc, src, NULL);
	if (rc == 0)
		rc = label->get(label->ctx, &lw);
	if (rc == 0)
		rc = aimark__buf_append_str(&el, "<meta name=\"AIGC\" content=\"");
	if (rc == 0)
		rc = append_attr_escaped(&el, lw->bare_json, lw->bare_len);
	if (rc == 0)
		rc = aimark__buf_append_str(&el, "\">");
	if (rc == 0 && doc.n_metas > 0) {
		size_t pos = 0;
		for (size_t i = 0; rc == 0 && i < doc.n_metas; i++) {
			rc = aimark__buf_append(&out, doc.d + pos, doc.metas[i].begin - pos);
			if (rc == 0 && i == 0)
				rc = aimark__buf_append(&out, el.ptr, el.size);
			pos = doc.metas[i].end;
		}
		if (rc == 0)
			rc = aimark__buf_append(&out, doc.d + pos, doc.n - pos);
	} else if (rc == 0) {
		size_t at = doc.after_head ? doc.after_head
			    : doc.after_html ? doc.after_html
			    : doc.after_doctype ? doc.after_doctype : doc.bom;
		/* an element in front of the doctype or <html> would leave a file no longer recognised as HTML */
		size_t lead = doc.bom;
		while (lead < doc.n && is_space(doc.d[lead]))
			lead++;
		if (at == doc.bom && html_probe(doc.d, doc.n))
			rc = aimark__error_set(AIMARK_EFORMAT, "HTML: the doctype or <html> tag at offset %zu is unterminated or "
					       "misnamed; no place for the label after it", lead);
		if (rc == 0)
			rc = aimark__buf_append(&out, doc.d, at);
		if (rc == 0)
			rc = aimark__buf_append(&out, el.ptr, el.size);
		if (rc == 0)
			rc = aimark__buf_append(&out, doc.d + at, doc.n - at);
	}
	if (rc == 0)
		rc = check_written(&doc, &out);
	if (rc == 0)
		rc = aimark_sink_write(sink, out.ptr, out.size);
	aimark_buf_dispose(&el);
	aimark_buf_dispose(&out);
	doc_dispose(&doc);
	(void)meta;
	return rc;
}

static int html_probe(const unsigned char *head, size_t len)
{
	size_t i = 0;
	if (len >= 3 && head[0] == 0xEF && head[1] == 0xBB && head[2] == 0xBF)
		i = 3;
	while (i < len && is_space(head[i]))
		i++;
	return ci_prefix(head + i, len - i, "<!doctype html") || ci_prefix(head + i, len - i, "<html");
}

static const char *const html_extensions[] = { "html", "htm", "xhtml", NULL };

const aimark__format_ops aimark__format_html = {
	.name = "html",
	.extensions = html_extensions,
	.probe = html_probe,
	.read = html_read,
	.write = html_write,
};

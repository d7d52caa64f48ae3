/*
 * HTML: the label is <meta name="AIGC" content="{json, entity-escaped}">.
 *
 * A lenient tokenizer, not a full HTML parser: it walks tags, skips
 * comments, declarations and the raw text of script/style/textarea/title/xmp,
 * and reads attributes in any quote style with entity decoding. Writing
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
#include <strings.h>

#include "core/findings_internal.h"
#include "core/internal.h"
#include "core/io_internal.h"
#include "format/format.h"

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

static int ci_eq(const unsigned char *p, size_t n, const char *s)
{
	return n == strlen(s) && ci_prefix(p, n, s);
}

static int put_utf8(aimark_buf *out, unsigned long cp)
{
	unsigned char b[4];
	size_t n;
	if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp < 0xE000))
		cp = 0xFFFD;
	if (cp < 0x80) {
		b[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (unsigned char)(0xC0 | (cp >> 6));
		b[1] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (unsigned char)(0xE0 | (cp >> 12));
		b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		b[2] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		b[0] = (unsigned char)(0xF0 | (cp >> 18));
		b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
		b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		b[3] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	return aimark__buf_append(out, b, n);
}

/* Decodes character references: numeric ones and the few named ones JSON needs. */
static int decode_entities(const unsigned char *p, size_t n, aimark_buf *out)
{
	static const struct { const char *name; char c; } named[] = {
		{ "quot", '"' }, { "amp", '&' }, { "lt", '<' }, { "gt", '>' }, { "apos", '\'' },
	};
	size_t i = 0;
	while (i < n) {
		if (p[i] != '&') {
			size_t j = i;
			while (j < n && p[j] != '&')
				j++;
			RETURN_IF_ERR(aimark__buf_append(out, p + i, j - i));
			i = j;
			continue;
		}
		if (i + 2 < n && p[i + 1] == '#') {
			size_t j = i + 2;
			int hex = j < n && (p[j] == 'x' || p[j] == 'X');
			j += hex;
			unsigned long v = 0;
			size_t digits = 0;
			while (j < n && digits < 8) {
				int d = p[j] >= '0' && p[j] <= '9' ? p[j] - '0'
					: hex && lower(p[j]) >= 'a' && lower(p[j]) <= 'f' ? lower(p[j]) - 'a' + 10 : -1;
				if (d < 0)
					break;
				v = v * (hex ? 16 : 10) + (unsigned long)d;
				j++;
				digits++;
			}
			if (digits > 0) {
				if (j < n && p[j] == ';')
					j++;
				RETURN_IF_ERR(put_utf8(out, v));
				i = j;
				continue;
			}
		}
		int done = 0;
		for (size_t k = 0; k < sizeof named / sizeof named[0] && !done; k++) {
			size_t l = strlen(named[k].name);
			if (i + 1 + l <= n && memcmp(p + i + 1, named[k].name, l) == 0) {
				RETURN_IF_ERR(aimark__buf_append(out, &named[k].c, 1));
				i += 1 + l + (i + 1 + l < n && p[i + 1 + l] == ';');
				done = 1;
			}
		}
		if (!done) {
			RETURN_IF_ERR(aimark__buf_append(out, "&", 1));
			i++;
		}
	}
	return 0;
}

typedef struct attr {
	const unsigned char *name, *val;
	size_t name_len, val_len;
	int has_val;
} attr;

/*
 * Parses the attributes of a tag starting after its name; returns the offset
 * after '>', or n when the input ends first (then *closed is 0).
 */
static size_t parse_attrs(const unsigned char *p, size_t n, size_t i, attr *attrs, size_t cap, size_t *count, int *closed)
{
	*count = 0;
	*closed = 0;
	for (;;) {
		while (i < n && (is_space(p[i]) || p[i] == '/'))
			i++;
		if (i >= n)
			return n;
		if (p[i] == '>') {
			*closed = 1;
			return i + 1;
		}
		size_t ns = i;
		while (i < n && !is_space(p[i]) && p[i] != '=' && p[i] != '>' && !(p[i] == '/' && i > ns))
			i++;
		attr a = { p + ns, NULL, i - ns, 0, 0 };
		size_t k = i;
		while (k < n && is_space(p[k]))
			k++;
		if (k < n && p[k] == '=') {
			k++;
			while (k < n && is_space(p[k]))
				k++;
			if (k < n && (p[k] == '"' || p[k] == '\'')) {
				unsigned char q = p[k++];
				size_t vs = k;
				while (k < n && p[k] != q)
					k++;
				a.val = p + vs;
				a.val_len = k - vs;
				i = k < n ? k + 1 : n;
			} else {
				size_t vs = k;
				while (k < n && !is_space(p[k]) && p[k] != '>')
					k++;
				a.val = p + vs;
				a.val_len = k - vs;
				i = k;
			}
			a.has_val = 1;
		}
		if (*count < cap)
			attrs[(*count)++] = a;
	}
}

static const attr *find_attr(const attr *a, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (ci_eq(a[i].name, a[i].name_len, name))
			return &a[i];
	return NULL;
}

static size_t find_ci(const unsigned char *p, size_t n, size_t from, const char *s)
{
	size_t l = strlen(s);
	for (size_t i = from; i + l <= n; i++)
		if (lower(p[i]) == s[0] && ci_prefix(p + i, n - i, s))
			return i;
	return n;
}

static int on_meta(html_doc *doc, size_t begin, size_t end, const attr *a, size_t na, aimark_findings *findings)
{
	const attr *name = find_attr(a, na, "name"), *content = find_attr(a, na, "content");
	if (name == NULL || content == NULL || !name->has_val)
		return 0;
	size_t s = 0, e = name->val_len;
	while (s < e && is_space(name->val[s]))
		s++;
	while (e > s && is_space(name->val[e - 1]))
		e--;
	if (!ci_eq(name->val + s, e - s, "aigc"))
		return 0;
	if ((e - s != 4 || memcmp(name->val + s, "AIGC", 4) != 0) && doc->n_metas == 0)
		RETURN_IF_ERR(aimark__findings_add(findings, AIMARK_SEVERITY_INFO, "html-meta-name",
						   "HTML: the meta element is named \"%.*s\", not \"AIGC\"", (int)(e - s),
						   (const char *)name->val + s));
	if (doc->n_metas == doc->cap_metas) {
		size_t cap = doc->cap_metas ? doc->cap_metas * 2 : 4;
		meta_el *m = aimark__realloc(doc->metas, cap * sizeof *m);
		RETURN_ENOMEM_IF_NULL(m);
		doc->metas = m;
		doc->cap_metas = cap;
	}
	doc->metas[doc->n_metas++] = (meta_el){ begin, end };
	if (doc->n_metas == 1) {
		RETURN_IF(content->val_len > AIMARK__MAX_METADATA_BLOCK, AIMARK_ELIMIT,
			  "HTML: the AIGC meta content at offset %zu exceeds %u bytes", begin, AIMARK__MAX_METADATA_BLOCK);
		RETURN_IF_ERR(decode_entities(content->val, content->val_len, &doc->first_content));
	} else if (doc->n_metas == 2)
		RETURN_IF_ERR(aimark__findings_add(findings, AIMARK_SEVERITY_WARNING, "duplicate-label",
						   "HTML: more than one AIGC meta element (second at offset %zu)", begin));
	return 0;
}

static int scan(html_doc *doc, aimark_findings *findings)
{
	const unsigned char *p = doc->d;
	size_t n = doc->n, i = doc->bom;
	attr attrs[32];
	while (i < n) {
		const unsigned char *lt = memchr(p + i, '<', n - i);
		if (lt == NULL)
			break;
		i = (size_t)(lt - p);
		size_t begin = i;
		if (ci_prefix(p + i, n - i, "<!--")) {
			size_t e = find_ci(p, n, i + 4, "-->");
			i = e < n ? e + 3 : n;
			continue;
		}
		if (i + 1 < n && (p[i + 1] == '!' || p[i + 1] == '?')) {
			const unsigned char *gt = memchr(p + i, '>', n - i);
			size_t e = gt ? (size_t)(gt - p) + 1 : n;
			if (ci_prefix(p + i, n - i, "<!doctype") && doc->after_doctype == 0 && gt)
				doc->after_doctype = e;
			i = e;
			continue;
		}
		/* end tags are tokenized like start tags (quoted attribute values may hold '>'), as the text layer does */
		int end_tag = i + 1 < n && p[i + 1] == '/';
		size_t ns = i + 1 + (size_t)end_tag, ne = ns;
		while (ne < n && ((p[ne] | 0x20) >= 'a' && (p[ne] | 0x20) <= 'z' ? 1 : (ne > ns && ((p[ne] >= '0' && p[ne] <= '9') || p[ne] == '-' || p[ne] == ':'))))
			ne++;
		if (ne == ns) {
			i++;
			continue;
		}
		size_t na = 0;
		int closed;
		size_t end = parse_attrs(p, n, ne, attrs, sizeof attrs / sizeof attrs[0], &na, &closed);
		const unsigned char *tn = p + ns;
		size_t tl = ne - ns;
		if (end_tag) {
			i = end;
			continue;
		}
		/* an insertion point must follow a complete tag, never an unterminated one */
		if (ci_eq(tn, tl, "html") && doc->after_html == 0 && closed)
			doc->after_html = end;
		else if (ci_eq(tn, tl, "head") && doc->after_head == 0 && closed)
			doc->after_head = end;
		else if (ci_eq(tn, tl, "meta"))
			RETURN_IF_ERR(on_meta(doc, begin, end, attrs, na, findings));
		else if (ci_eq(tn, tl, "script") || ci_eq(tn, tl, "style") || ci_eq(tn, tl, "textarea") ||
			 ci_eq(tn, tl, "title") || ci_eq(tn, tl, "xmp")) {
			char close[16];
			close[0] = '<';
			close[1] = '/';
			for (size_t k = 0; k < tl; k++)
				close[2 + k] = (char)lower(tn[k]);
			close[2 + tl] = 0;
			/* the raw text ends at the closing tag's first '>' */
			size_t c = find_ci(p, n, end, close);
			const unsigned char *gt = c < n ? memchr(p + c, '>', n - c) : NULL;
			end = gt ? (size_t)(gt - p) + 1 : n;
		}
		i = end;
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

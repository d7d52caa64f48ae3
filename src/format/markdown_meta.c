/*
 * Markdown: the label is an AIGC mapping in the YAML front matter,
 *   ---
 *   AIGC:
 *     Label: '1'
 *     ContentProducer: '...'
 *     ...
 *   ---
 * Written with two-space indentation and single-quoted values, in the key
 * order of the label JSON; a label whose values are not all plain strings is
 * written as one single-quoted JSON string (AIGC: '{...}').
 *
 * Reading is a small line-based YAML subset, enough for what vendors ship:
 * any indentation, plain, single- and double-quoted scalars, comments, and
 * the string/flow form AIGC: '{json}' or AIGC: {json}. The mapping is
 * converted to a compact JSON object with the keys in file order.
 *
 * Essence: the body after the front matter (the closing delimiter line
 * included), plus a leading UTF-8 BOM.
 */
#include <jansson.h>
#include <string.h>

#include "core/findings_internal.h"
#include "core/internal.h"
#include "core/io_internal.h"
#include "format/format.h"

#define MD_MAX_FILE (UINT64_C(256) << 20)
#define MD_MAX_KEYS 64
#define CARRIER_MD "markdown-front-matter"

typedef struct line {
	size_t begin, end, next; /* content [begin,end), next line starts at next */
} line;

typedef struct md_doc {
	aimark_buf storage;
	const unsigned char *d;
	size_t n;
	size_t bom;
	int has_fm;
	const char *eol;
	size_t fm_close;        /* start of the closing delimiter line */
	size_t body;            /* first byte after the front matter */
	int has_aigc;
	size_t aigc_begin, aigc_end; /* the AIGC key line through its block (whole lines) */
	aimark_buf json;        /* the label as JSON */
	int json_ok;
} md_doc;

static size_t next_line(const unsigned char *p, size_t n, size_t i, line *l)
{
	l->begin = i;
	while (i < n && p[i] != '\n')
		i++;
	l->next = i < n ? i + 1 : n;
	l->end = i > l->begin && p[i - 1] == '\r' ? i - 1 : i;
	return l->next;
}

static int is_delim_line(const unsigned char *p, const line *l, const char *delim)
{
	size_t e = l->end;
	while (e > l->begin && (p[e - 1] == ' ' || p[e - 1] == '\t'))
		e--;
	return e - l->begin == 3 && memcmp(p + l->begin, delim, 3) == 0;
}

static size_t indent_of(const unsigned char *p, const line *l)
{
	size_t i = l->begin;
	while (i < l->end && p[i] == ' ')
		i++;
	return i - l->begin;
}

static int is_blank_or_comment(const unsigned char *p, const line *l)
{
	size_t i = l->begin;
	while (i < l->end && (p[i] == ' ' || p[i] == '\t'))
		i++;
	return i == l->end || p[i] == '#';
}

/*
 * Folds a line break inside a quoted scalar (YAML flow folding): trailing
 * blanks before it and leading blanks after it go; one break becomes a
 * space, each further empty line a newline. Returns where the text resumes.
 */
static size_t fold_break(const unsigned char *p, size_t i, size_t e, aimark_buf *out)
{
	while (out->size > 0 && (out->ptr[out->size - 1] == ' ' || out->ptr[out->size - 1] == '\t'))
		out->size--;
	size_t empty = 0;
	for (;;) {
		if (i < e && p[i] == '\r')
			i++;
		if (i < e && p[i] == '\n')
			i++;
		while (i < e && (p[i] == ' ' || p[i] == '\t'))
			i++;
		if (i < e && (p[i] == '\r' || p[i] == '\n')) {
			empty++;
			continue;
		}
		break;
	}
	if (empty == 0 && aimark__buf_append(out, " ", 1) < 0)
		return e;
	for (size_t k = 0; k < empty; k++)
		if (aimark__buf_append(out, "\n", 1) < 0)
			return e;
	if (out->ptr)
		out->ptr[out->size] = 0;
	return i;
}

/* The offset of the quote closing the scalar that opens at `s`, or `lim` when none. */
static size_t closing_quote(const unsigned char *p, size_t s, size_t lim)
{
	unsigned char q = p[s];
	for (size_t i = s + 1; i < lim; i++) {
		if (q == '"' && p[i] == '\\')
			i++;
		else if (p[i] == q) {
			if (q == '\'' && i + 1 < lim && p[i + 1] == '\'')
				i++;
			else
				return i;
		}
	}
	return lim;
}

/* Decodes a YAML scalar [s,e) (already trimmed) into `out`. */
static int yaml_scalar(const unsigned char *p, size_t s, size_t e, aimark_buf *out)
{
	if (e > s && p[s] == '\'') {
		for (size_t i = s + 1; i < e; i++) {
			if (p[i] == '\r' || p[i] == '\n') {
				i = fold_break(p, i, e, out) - 1;
				continue;
			}
			if (p[i] == '\'') {
				if (i + 1 < e && p[i + 1] == '\'') {
					RETURN_IF_ERR(aimark__buf_append(out, "'", 1));
					i++;
					continue;
				}
				break;
			}
			RETURN_IF_ERR(aimark__buf_append(out, p + i, 1));
		}
		return 0;
	}
	if (e > s && p[s] == '"') {
		for (size_t i = s + 1; i < e; i++) {
			unsigned char c = p[i];
			if (c == '"')
				break;
			if (c == '\r' || c == '\n') {
				i = fold_break(p, i, e, out) - 1;
				continue;
			}
			if (c == '\\' && i + 1 < e) {
				c = p[++i];
				switch (c) {
				case 'n': c = '\n'; break;
				case 't': c = '\t'; break;
				case 'r': c = '\r'; break;
				case '0': c = 0; break;
				case 'u':
					if (i + 4 < e) {
						unsigned v = 0;
						int ok = 1;
						for (int k = 1; k <= 4; k++) {
							unsigned char h = p[i + k];
							int d = h >= '0' && h <= '9' ? h - '0' : (h | 0x20) >= 'a' && (h | 0x20) <= 'f' ? (h | 0x20) - 'a' + 10 : -1;
							ok &= d >= 0;
							v = v * 16 + (unsigned)(d < 0 ? 0 : d);
						}
						if (ok && v > 0 && !(v >= 0xD800 && v < 0xE000)) {
							unsigned char b[3];
							size_t bn = v < 0x80 ? 1 : v < 0x800 ? 2 : 3;
							if (bn == 1)
								b[0] = (unsigned char)v;
							else if (bn == 2) {
								b[0] = (unsigned char)(0xC0 | (v >> 6));
								b[1] = (unsigned char)(0x80 | (v & 0x3F));
							} else {
								b[0] = (unsigned char)(0xE0 | (v >> 12));
								b[1] = (unsigned char)(0x80 | ((v >> 6) & 0x3F));
								b[2] = (unsigned char)(0x80 | (v & 0x3F));
							}
							RETURN_IF_ERR(aimark__buf_append(out, b, bn));
							i += 4;
							continue;
						}
					}
					break;
				default: break; /* \" \\ \/ and unknown escapes: the character itself */
				}
				if (c == 0)
					continue;
			}
			RETURN_IF_ERR(aimark__buf_append(out, &c, 1));
		}
		return 0;
	}
	/* plain: drop a trailing comment */
	for (size_t i = s; i < e; i++)
		if (p[i] == '#' && i > s && (p[i - 1] == ' ' || p[i - 1] == '\t')) {
			e = i;
			break;
		}
	while (e > s && (p[e - 1] == ' ' || p[e - 1] == '\t'))
		e--;
	return aimark__buf_append(out, p + s, e - s);
}

static void trim(const unsigned char *p, size_t *s, size_t *e)
{
	while (*s < *e && (p[*s] == ' ' || p[*s] == '\t'))
		(*s)++;
	while (*e > *s && (p[*e - 1] == ' ' || p[*e - 1] == '\t'))
		(*e)--;
}

/* Splits "key: value" at the first ": " or final ":" outside quotes of the key. */
static int split_key(const unsigned char *p, size_t s, size_t e, size_t *ke, size_t *vs)
{
	size_t i = s;
	if (i < e && (p[i] == '"' || p[i] == '\'')) {
		unsigned char q = p[i++];
		while (i < e && p[i] != q)
			i++;
		if (i < e)
			i++;
	}
	for (; i < e; i++)
		if (p[i] == ':' && (i + 1 == e || p[i + 1] == ' ' || p[i + 1] == '\t')) {
			*ke = i;
			*vs = i + 1;
			return 0;
		}
	return -1;
}

static int json_add(json_t *obj, const aimark_buf *key, const aimark_buf *val)
{
	RETURN_IF(key->size == 0 || memchr(key->ptr, 0, key->size) != NULL, AIMARK_EFORMAT, "Markdown: bad AIGC key");
	json_t *s = json_stringn(val->ptr ? (const char *)val->ptr : "", val->size);
	RETURN_IF(s == NULL, AIMARK_EFORMAT, "Markdown: an AIGC value is not valid UTF-8");
	/* json_object_set_new releases `s` on failure too */
	if (json_object_set_new(obj, (const char *)key->ptr, s) != 0)
		return aimark__error_set(AIMARK_EFORMAT, "Markdown: an AIGC key is not valid UTF-8");
	return 0;
}

static int dump_json(json_t *obj, aimark_buf *out)
{
	size_t need = json_dumpb(obj, NULL, 0, JSON_COMPACT | JSON_PRESERVE_ORDER);
	RETURN_IF(need == 0, AIMARK_ENOMEM, "Markdown: cannot encode the label as JSON");
	RETURN_IF_ERR(aimark__buf_reserve(out, need));
	json_dumpb(obj, (char *)out->ptr + out->size, need, JSON_COMPACT | JSON_PRESERVE_ORDER);
	out->size += need;
	out->ptr[out->size] = 0;
	return 0;
}

/* Reads the block mapping under "AIGC:" starting at `i`; sets doc->aigc_end. */
static int read_block(md_doc *doc, size_t i, aimark_findings *findings)
{
	const unsigned char *p = doc->d;
	json_t *obj = json_object();
	RETURN_ENOMEM_IF_NULL(obj);
	aimark_buf key = AIMARK_BUF_INIT, val = AIMARK_BUF_INIT;
	size_t child = 0, keys = 0;
	int rc = 0, have = 0, folded_warned = 0;
	doc->aigc_end = i;
	while (rc == 0 && i < doc->fm_close) {
		line l;
		size_t nx = next_line(p, doc->fm_close, i, &l);
		if (is_blank_or_comment(p, &l)) {
			i = nx;
			continue;
		}
		size_t ind = indent_of(p, &l);
		if (ind == 0)
			break;
		if (child == 0)
			child = ind;
		if (ind > child) {
			/* continuation of a multi-line plain scalar (folded with a space) */
			if (have) {
				size_t s = l.begin + ind, e = l.end;
				trim(p, &s, &e);
				rc = aimark__buf_append(&val, " ", 1);
				if (rc == 0)
					rc = aimark__buf_append(&val, p + s, e - s);
				if (rc == 0 && !folded_warned) {
					folded_warned = 1;
					rc = aimark__findings_add(findings, AIMARK_SEVERITY_INFO, "markdown-multiline",
								  "Markdown: an AIGC value spans several lines");
				}
			}
			doc->aigc_end = nx;
			i = nx;
			continue;
		}
		if (have) {
			rc = json_add(obj, &key, &val);
			have = 0;
		}
		size_t ke, vs;
		size_t s = l.begin + ind;
		if (rc == 0 && split_key(p, s, l.end, &ke, &vs) < 0)
			rc = aimark__error_set(AIMARK_EFORMAT, "Markdown: line at offset %zu in the AIGC mapping is not \"key: value\"",
					       l.begin);
		if (rc == 0 && ++keys > MD_MAX_KEYS)
			rc = aimark__error_set(AIMARK_EFORMAT, "Markdown: more than %d keys in the AIGC mapping", MD_MAX_KEYS);
		if (rc == 0) {
			aimark__buf_clear(&key);
			aimark__buf_clear(&val);
			size_t ks = s, kend = ke, ve = l.end;
			trim(p, &ks, &kend);
			rc = yaml_scalar(p, ks, kend, &key);
			trim(p, &vs, &ve);
			if (rc == 0)
				rc = yaml_scalar(p, vs, ve, &val);
			have = 1;
		}
		doc->aigc_end = nx;
		i = nx;
	}
	if (rc == 0 && have)
		rc = json_add(obj, &key, &val);
	if (rc == 0 && keys == 0)
		rc = aimark__findings_add(findings, AIMARK_SEVERITY_WARNING, "markdown-aigc-empty",
					  "Markdown: the AIGC key has no mapping under it");
	else if (rc == 0) {
		rc = dump_json(obj, &doc->json);
		doc->json_ok = rc == 0;
	}
	aimark_buf_dispose(&key);
	aimark_buf_dispose(&val);
	json_decref(obj);
	return rc;
}

/*
 * Indented lines after the AIGC value belong to it in YAML: the end of the
 * last indented line from `i` on (blank and comment lines in between).
 */
static size_t indented_end(const md_doc *doc, size_t i)
{
	size_t end = i;
	while (i < doc->fm_close) {
		line l;
		size_t nx = next_line(doc->d, doc->fm_close, i, &l);
		if (!is_blank_or_comment(doc->d, &l)) {
			if (indent_of(doc->d, &l) == 0)
				break;
			end = nx;
		}
		i = nx;
	}
	return end;
}

/* The value after "AIGC:" on its line ([vs,ve), next line at nx); sets json and aigc_end. */
static int read_inline(md_doc *doc, size_t vs, size_t ve, size_t nx)
{
	const unsigned char *p = doc->d;
	line l;
	if (p[vs] == '\'' || p[vs] == '"') {
		size_t close = closing_quote(p, vs, doc->fm_close);
		RETURN_IF(close == doc->fm_close, AIMARK_EFORMAT,
			  "Markdown: the quoted AIGC value at offset %zu is never closed", vs);
		next_line(p, doc->fm_close, close, &l);
		while (l.begin > 0 && p[l.begin - 1] != '\n')
			l.begin--;
		/* anything indented after the closing quote is replaced with the value */
		doc->aigc_end = indented_end(doc, l.next);
		return yaml_scalar(p, vs, close + 1, &doc->json);
	}
	/* plain: continuation lines are indented */
	RETURN_IF_ERR(yaml_scalar(p, vs, ve, &doc->json));
	doc->aigc_end = nx;
	for (size_t i = nx; i < doc->fm_close;) {
		size_t n2 = next_line(p, doc->fm_close, i, &l);
		if (is_blank_or_comment(p, &l) || indent_of(p, &l) == 0)
			break;
		size_t s = l.begin, e = l.end;
		trim(p, &s, &e);
		RETURN_IF_ERR(aimark__buf_append(&doc->json, " ", 1));
		RETURN_IF_ERR(yaml_scalar(p, s, e, &doc->json));
		doc->aigc_end = n2;
		i = n2;
	}
	doc->aigc_end = indented_end(doc, doc->aigc_end);
	return 0;
}

static int parse(md_doc *doc, aimark_findings *findings)
{
	const unsigned char *p = doc->d;
	size_t n = doc->n;
	if (n >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF)
		doc->bom = 3;
	doc->eol = "\n";
	const unsigned char *nl = memchr(p, '\n', n);
	if (nl && nl > p && nl[-1] == '\r')
		doc->eol = "\r\n";
	line l;
	size_t i = next_line(p, n, doc->bom, &l);
	if (!is_delim_line(p, &l, "---") || l.next == l.end)
		return 0;
	size_t first = i;
	while (i < n) {
		size_t nx = next_line(p, n, i, &l);
		if (is_delim_line(p, &l, "---") || is_delim_line(p, &l, "...")) {
			doc->has_fm = 1;
			doc->fm_close = l.begin;
			doc->body = nx;
			break;
		}
		i = nx;
	}
	if (!doc->has_fm)
		return aimark__findings_add(findings, AIMARK_SEVERITY_INFO, "markdown-front-matter-unclosed",
					    "Markdown: the front matter opened on line 1 is never closed; treated as body");
	for (i = first; i < doc->fm_close;) {
		size_t nx = next_line(p, doc->fm_close, i, &l);
		size_t ke, vs, s = l.begin, e;
		if (indent_of(p, &l) == 0 && !is_blank_or_comment(p, &l) && split_key(p, l.begin, l.end, &ke, &vs) == 0) {
			e = ke;
			aimark_buf k = AIMARK_BUF_INIT;
			int rc = yaml_scalar(p, s, e, &k);
			int match = rc == 0 && k.size == 4 && memcmp(k.ptr, "AIGC", 4) == 0;
			aimark_buf_dispose(&k);
			RETURN_IF_ERR(rc);
			if (match) {
				if (doc->has_aigc)
					return aimark__findings_add(findings, AIMARK_SEVERITY_WARNING, "duplicate-label",
								    "Markdown: the front matter has a second AIGC key at offset %zu",
								    l.begin);
				doc->has_aigc = 1;
				doc->aigc_begin = l.begin;
				doc->aigc_end = nx;
				size_t ve = l.end;
				trim(p, &vs, &ve);
				if (vs < ve && p[vs] != '#') {
					/* string or flow form: AIGC: '{json}' / AIGC: {json}, possibly over several lines */
					RETURN_IF_ERR(read_inline(doc, vs, ve, nx));
					doc->json_ok = 1;
					RETURN_IF_ERR(aimark__findings_add(findings, AIMARK_SEVERITY_INFO, "markdown-aigc-string",
									   "Markdown: AIGC is written as one JSON string, not a mapping"));
				} else
					RETURN_IF_ERR(read_block(doc, nx, findings));
				nx = doc->aigc_end > nx ? doc->aigc_end : nx;
			}
		}
		i = nx;
	}
	return 0;
}

static void doc_dispose(md_doc *doc)
{
	aimark_buf_dispose(&doc->storage);
	aimark_buf_dispose(&doc->json);
	memset(doc, 0, sizeof *doc);
}

static int doc_open(md_doc *doc, aimark_source *src, aimark_findings *findings)
{
	memset(doc, 0, sizeof *doc);
	RETURN_IF_ERR(aimark__source_load(src, MD_MAX_FILE, &doc->storage, &doc->d));
	doc->n = (size_t)aimark_source_size(src);
	const unsigned char *p = doc->d;
	RETURN_IF(doc->n >= 2 && ((p[0] == 0xFF && p[1] == 0xFE) || (p[0] == 0xFE && p[1] == 0xFF)), AIMARK_EUNSUPPORTED,
		  "Markdown: UTF-16 text is not supported");
	const unsigned char *nul = memchr(p, 0, doc->n);
	RETURN_IF(nul != NULL, AIMARK_EFORMAT, "Markdown: NUL byte at offset %zu: not a text file", (size_t)(nul - p));
	return parse(doc, findings);
}

static int md_read(aimark_source *src, aimark__meta *meta)
{
	md_doc doc;
	int rc = doc_open(&doc, src, meta->findings);
	if (rc == 0 && doc.has_aigc && doc.json_ok)
		rc = aimark__meta_add_carrier(meta, CARRIER_MD, (const char *)doc.json.ptr, doc.json.size, doc.aigc_begin);
	if (rc == 0) {
		rc = aimark__meta_add_essence(meta, 0, doc.bom);
		if (rc == 0)
			rc = aimark__meta_add_essence(meta, doc.has_fm ? doc.body : doc.bom, doc.n - (doc.has_fm ? doc.body : doc.bom));
	}
	doc_dispose(&doc);
	return rc;
}

static int yaml_quote(aimark_buf *out, const char *s, size_t n)
{
	RETURN_IF_ERR(aimark__buf_append(out, "'", 1));
	for (size_t i = 0; i < n; i++)
		RETURN_IF_ERR(aimark__buf_append(out, s[i] == '\'' ? "''" : s + i, s[i] == '\'' ? 2 : 1));
	return aimark__buf_append(out, "'", 1);
}

/* The AIGC block, whole lines ending with `eol`. */
static int build_block(const char *json, size_t len, const char *eol, aimark_buf *out)
{
	json_error_t jerr;
	json_t *obj = json_loadb(json, len, 0, &jerr);
	RETURN_IF(obj == NULL || !json_is_object(obj), AIMARK_EINVAL, "Markdown: the label to write is not a JSON object");
	int simple = json_object_size(obj) > 0;
	const char *k;
	json_t *v;
	json_object_foreach(obj, k, v) {
		if (!json_is_string(v) || strpbrk(k, ":#'\"\r\n\t{}[],&*!|>%@` ") != NULL || *k == '-' || *k == '?')
			simple = 0;
		else
			for (const char *c = json_string_value(v); *c; c++)
				if ((unsigned char)*c < 0x20)
					simple = 0;
	}
	int rc = 0;
	if (!simple) {
		rc = aimark__buf_append_str(out, "AIGC: ");
		if (rc == 0)
			rc = yaml_quote(out, json, len);
		if (rc == 0)
			rc = aimark__buf_append_str(out, eol);
	} else {
		rc = aimark__buf_printf(out, "AIGC:%s", eol);
		json_object_foreach(obj, k, v) {
			if (rc == 0)
				rc = aimark__buf_printf(out, "  %s: ", k);
			if (rc == 0)
				rc = yaml_quote(out, json_string_value(v), json_string_length(v));
			if (rc == 0)
				rc = aimark__buf_append_str(out, eol);
		}
	}
	json_decref(obj);
	return rc;
}

static int md_write(aimark_source *src, const aimark__meta *meta, const aimark__label_provider *label,
		    aimark_sink *sink)
{
	md_doc doc;
	aimark_buf block = AIMARK_BUF_INIT;
	const aimark__label_write *lw = NULL;
	int rc = doc_open(&doc, src, NULL);
	if (rc == 0)
		rc = label->get(label->ctx, &lw);
	if (rc == 0)
		rc = build_block(lw->bare_json, lw->bare_len, doc.eol, &block);
	if (rc == 0 && doc.has_fm) {
		size_t a = doc.has_aigc ? doc.aigc_begin : doc.fm_close, b = doc.has_aigc ? doc.aigc_end : doc.fm_close;
		rc = aimark_sink_write(sink, doc.d, a);
		if (rc == 0)
			rc = aimark_sink_write(sink, block.ptr, block.size);
		if (rc == 0)
			rc = aimark_sink_write(sink, doc.d + b, doc.n - b);
	} else if (rc == 0) {
		rc = aimark_sink_write(sink, doc.d, doc.bom);
		if (rc == 0)
			rc = aimark_sink_write(sink, "---", 3);
		if (rc == 0)
			rc = aimark_sink_write(sink, doc.eol, strlen(doc.eol));
		if (rc == 0)
			rc = aimark_sink_write(sink, block.ptr, block.size);
		if (rc == 0)
			rc = aimark_sink_write(sink, "---", 3);
		if (rc == 0)
			rc = aimark_sink_write(sink, doc.eol, strlen(doc.eol));
		if (rc == 0)
			rc = aimark_sink_write(sink, doc.d + doc.bom, doc.n - doc.bom);
	}
	aimark_buf_dispose(&block);
	doc_dispose(&doc);
	(void)meta;
	return rc;
}

static int md_probe(const unsigned char *head, size_t len)
{
	size_t i = len >= 3 && head[0] == 0xEF && head[1] == 0xBB && head[2] == 0xBF ? 3 : 0;
	return (len - i >= 4 && memcmp(head + i, "---\n", 4) == 0) || (len - i >= 5 && memcmp(head + i, "---\r\n", 5) == 0);
}

static const char *const md_extensions[] = { "md", "markdown", "mdown", "mkd", NULL };

const aimark__format_ops aimark__format_markdown = {
	.name = "markdown",
	.extensions = md_extensions,
	.probe = md_probe,
	.read = md_read,
	.write = md_write,
};

/* Document structure for plain text and Markdown (HTML is in text_html.c). */
#include <stdio.h>
#include <string.h>

#include "core/internal.h"
#include "text/text_doc.h"
#include "text/text_html.h"

int aimark__text_kind_from_name(const char *format)
{
	if (format == NULL)
		return -1;
	if (strcmp(format, "text") == 0 || strcmp(format, "txt") == 0 || strcmp(format, "plain") == 0)
		return AIMARK__TEXT_PLAIN;
	if (strcmp(format, "markdown") == 0 || strcmp(format, "md") == 0)
		return AIMARK__TEXT_MARKDOWN;
	if (strcmp(format, "html") == 0 || strcmp(format, "htm") == 0 || strcmp(format, "xhtml") == 0)
		return AIMARK__TEXT_HTML;
	return -1;
}

int aimark__span_add(aimark__span_list *l, size_t begin, size_t end)
{
	if (end <= begin)
		return 0;
	if (l->n > 0 && l->v[l->n - 1].end == begin) {
		l->v[l->n - 1].end = end;
		return 0;
	}
	RETURN_IF_ARRAY_FULL_GROW(l->v, l->cap, l->n, 16);
	l->v[l->n++] = (aimark__text_span){ begin, end };
	return 0;
}

void aimark__text_doc_dispose(aimark__text_doc *doc)
{
	aimark__free(doc->meta.v);
	aimark__free(doc->prose.v);
	aimark__free(doc->labels.v);
	memset(doc, 0, sizeof *doc);
}

static int is_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

static size_t trim_end(const unsigned char *p, size_t begin, size_t end)
{
	while (end > begin && is_ws(p[end - 1]))
		end--;
	return end;
}

typedef struct line {
	size_t begin, end, next; /* content [begin, end) without the break; next line at `next` */
} line;

static void next_line(const unsigned char *p, size_t n, size_t i, line *l)
{
	l->begin = i;
	const unsigned char *nl = memchr(p + i, '\n', n - i);
	size_t e = nl ? (size_t)(nl - p) : n;
	l->next = nl ? e + 1 : n;
	l->end = e > i && p[e - 1] == '\r' ? e - 1 : e;
}

/* Plain text: a trailing "AIGC: {...}" (or "AIGC={...}") line is the metadata label (format/text_meta.c). */
static int parse_plain(aimark__text_doc *doc, size_t bom)
{
	const unsigned char *p = doc->d;
	size_t n = doc->n;
	size_t end = n;
	while (end > bom && (p[end - 1] == '\n' || p[end - 1] == '\r'))
		end--;
	size_t begin = end;
	while (begin > bom && p[begin - 1] != '\n' && p[begin - 1] != '\r')
		begin--;
	size_t i = begin;
	while (i < end && (p[i] == ' ' || p[i] == '\t'))
		i++;
	size_t body_end = n;
	if (end - i >= 5 && memcmp(p + i, "AIGC", 4) == 0 && (p[i + 4] == ':' || p[i + 4] == '=')) {
		size_t s = i + 5, e = end;
		while (s < e && (p[s] == ' ' || p[s] == '\t'))
			s++;
		while (e > s && (p[e - 1] == ' ' || p[e - 1] == '\t'))
			e--;
		if (e > s && p[s] == '{' && p[e - 1] == '}') {
			RETURN_IF_ERR(aimark__span_add(&doc->meta, begin, n));
			body_end = begin;
		}
	}
	doc->body_begin = bom;
	doc->body_end = trim_end(p, bom, body_end);
	return aimark__span_add(&doc->prose, doc->body_begin, doc->body_end);
}

/* ---- Markdown ---- */

static int is_delim(const unsigned char *p, const line *l, const char *delim)
{
	size_t e = l->end;
	while (e > l->begin && (p[e - 1] == ' ' || p[e - 1] == '\t'))
		e--;
	return e - l->begin == 3 && memcmp(p + l->begin, delim, 3) == 0;
}

static size_t indent(const unsigned char *p, const line *l)
{
	size_t i = l->begin;
	while (i < l->end && p[i] == ' ')
		i++;
	return i - l->begin;
}

/* A fence line: >= 3 backticks or tildes after at most 3 spaces; fills `fence` (char, count). */
static int fence_of(const unsigned char *p, const line *l, unsigned char *ch, size_t *count)
{
	size_t ind = indent(p, l);
	if (ind > 3 || l->begin + ind >= l->end)
		return 0;
	size_t i = l->begin + ind;
	unsigned char c = p[i];
	if (c != '`' && c != '~')
		return 0;
	size_t k = i;
	while (k < l->end && p[k] == c)
		k++;
	if (k - i < 3)
		return 0;
	*ch = c;
	*count = k - i;
	return 1;
}

/* 1 when the line holds only the characters of `set` and spaces, with at least `min` of the first one. */
static int only_of(const unsigned char *p, const line *l, const char *set, size_t min)
{
	size_t count = 0, other = 0;
	for (size_t i = l->begin; i < l->end; i++) {
		if (p[i] == ' ' || p[i] == '\t')
			continue;
		if (strchr(set, p[i]) == NULL)
			return 0;
		count += p[i] == (unsigned char)set[0];
		other++;
	}
	return other > 0 && count >= min;
}

static int is_setext_underline(const unsigned char *p, const line *l)
{
	if (indent(p, l) > 3)
		return 0;
	return only_of(p, l, "=", 1) || only_of(p, l, "-", 1);
}

static int is_thematic_break(const unsigned char *p, const line *l)
{
	return only_of(p, l, "*", 3) || only_of(p, l, "-", 3) || only_of(p, l, "_", 3);
}

static int is_table_delimiter(const unsigned char *p, const line *l)
{
	int pipe = 0, dash = 0;
	for (size_t i = l->begin; i < l->end; i++) {
		if (p[i] == '|')
			pipe = 1;
		else if (p[i] == '-')
			dash = 1;
		else if (p[i] != ':' && p[i] != ' ' && p[i] != '\t')
			return 0;
	}
	return pipe && dash;
}

static int is_link_definition(const unsigned char *p, const line *l)
{
	size_t i = l->begin + indent(p, l);
	if (i >= l->end || p[i] != '[')
		return 0;
	for (size_t k = i + 1; k + 1 < l->end; k++)
		if (p[k] == ']')
			return p[k + 1] == ':';
	return 0;
}

/* Adds the prose of one Markdown line: everything but code spans, <...> and link destinations. */
static int markdown_inline(aimark__text_doc *doc, size_t b, size_t e)
{
	const unsigned char *p = doc->d;
	size_t run = b, i = b;
	while (i < e) {
		unsigned char c = p[i];
		if (c == '\\' && i + 1 < e) {
			i += 2;
			continue;
		}
		size_t skip_to = 0;
		if (c == '`') {
			size_t k = i;
			while (k < e && p[k] == '`')
				k++;
			size_t len = k - i;
			/* the closing run of the same length */
			for (size_t j = k; j < e;) {
				if (p[j] != '`') {
					j++;
					continue;
				}
				size_t m = j;
				while (m < e && p[m] == '`')
					m++;
				if (m - j == len) {
					skip_to = m;
					break;
				}
				j = m;
			}
			if (!skip_to) {
				i = k;
				continue;
			}
		} else if (c == '<') {
			const unsigned char *gt = memchr(p + i, '>', e - i);
			if (gt)
				skip_to = (size_t)(gt - p) + 1;
		} else if (c == ']' && i + 1 < e && p[i + 1] == '(') {
			size_t depth = 0, k = i + 1;
			for (; k < e; k++) {
				if (p[k] == '(')
					depth++;
				else if (p[k] == ')' && --depth == 0)
					break;
			}
			skip_to = k < e ? k + 1 : e;
			i++; /* keep the ']' in the prose before the destination */
		}
		if (skip_to) {
			RETURN_IF_ERR(aimark__span_add(&doc->prose, run, i));
			i = skip_to;
			run = i;
			continue;
		}
		i++;
	}
	return aimark__span_add(&doc->prose, run, e);
}

static size_t find_ci(const unsigned char *p, size_t n, size_t from, const char *s)
{
	size_t l = strlen(s);
	for (size_t i = from; i + l <= n; i++) {
		size_t k = 0;
		while (k < l && (p[i + k] | (s[k] >= 'a' && s[k] <= 'z' ? 0x20 : 0)) == (unsigned char)s[k])
			k++;
		if (k == l)
			return i;
	}
	return n;
}

/*
 * A line opening an HTML block (CommonMark types 1, 2 and 6/7): returns the
 * offset where the block's content ends (the end of the line holding the
 * closing marker, or of the last line before a blank line), or n with
 * *closer set when the document ends inside it.
 */
static size_t html_block_end(const unsigned char *p, size_t n, const line *l, size_t at, const char **closer)
{
	static const char *const raw[][2] = { { "<script", "</script>" }, { "<pre", "</pre>" }, { "<style", "</style>" },
					      { "<textarea", "</textarea>" }, { "<!--", "-->" } };
	*closer = NULL;
	for (size_t k = 0; k < sizeof raw / sizeof raw[0]; k++) {
		size_t len = strlen(raw[k][0]);
		if (l->end - at >= len && find_ci(p, at + len, at, raw[k][0]) == at &&
		    (k == 4 || at + len == l->end || p[at + len] == ' ' || p[at + len] == '\t' || p[at + len] == '>')) {
			size_t e = find_ci(p, n, at + len, raw[k][1]);
			if (e >= n) {
				*closer = raw[k][1];
				return n;
			}
			const unsigned char *nl = memchr(p + e, '\n', n - e);
			return nl ? (size_t)(nl - p) + 1 : n;
		}
	}
	/* other HTML blocks run to a blank line */
	size_t i = l->next;
	while (i < n) {
		line c;
		next_line(p, n, i, &c);
		int blank = 1;
		for (size_t k = c.begin; k < c.end && blank; k++)
			blank = p[k] == ' ' || p[k] == '\t';
		if (blank)
			break;
		i = c.next;
	}
	return i;
}

static int parse_markdown(aimark__text_doc *doc, size_t bom)
{
	const unsigned char *p = doc->d;
	size_t n = doc->n;
	line l;
	size_t body = bom;
	next_line(p, n, bom, &l);
	if (is_delim(p, &l, "---") && l.next > l.end) {
		for (size_t i = l.next; i < n;) {
			line c;
			next_line(p, n, i, &c);
			if (is_delim(p, &c, "---") || is_delim(p, &c, "...")) {
				body = c.next;
				RETURN_IF_ERR(aimark__span_add(&doc->meta, bom, body));
				break;
			}
			i = c.next;
		}
	}
	doc->body_begin = body;
	doc->body_end = trim_end(p, body, n);
	unsigned char fch = 0;
	size_t fcount = 0;
	int in_fence = 0;
	size_t prev_prose_n = (size_t)-1; /* prose count before the previous text line, for setext headings */
	int prev_text = 0;
	for (size_t i = body; i < n;) {
		next_line(p, n, i, &l);
		i = l.next;
		unsigned char ch;
		size_t count;
		if (in_fence) {
			if (fence_of(p, &l, &ch, &count) && ch == fch && count >= fcount && only_of(p, &l, ch == '`' ? "`" : "~", 3))
				in_fence = 0;
			prev_text = 0;
			continue;
		}
		if (fence_of(p, &l, &ch, &count)) {
			in_fence = 1;
			fch = ch;
			fcount = count;
			prev_text = 0;
			continue;
		}
		size_t ind = indent(p, &l);
		int blank = 1;
		for (size_t k = l.begin; k < l.end && blank; k++)
			blank = p[k] == ' ' || p[k] == '\t';
		if (blank) {
			prev_text = 0;
			continue;
		}
		if (prev_text && is_setext_underline(p, &l)) {
			/* the previous line was a heading: take its prose back */
			doc->prose.n = prev_prose_n;
			prev_text = 0;
			continue;
		}
		unsigned char first = p[l.begin + ind];
		if (ind < 4 && first == '<') {
			const char *closer;
			i = html_block_end(p, n, &l, l.begin + ind, &closer);
			if (closer) {
				snprintf(doc->closer, sizeof doc->closer, "%s", closer);
				break;
			}
			prev_text = 0;
			continue;
		}
		if (ind >= 4 || (l.begin < l.end && p[l.begin] == '\t') || first == '#' ||
		    is_thematic_break(p, &l) || is_table_delimiter(p, &l) || is_link_definition(p, &l)) {
			prev_text = 0;
			continue;
		}
		prev_prose_n = doc->prose.n;
		prev_text = 1;
		RETURN_IF_ERR(markdown_inline(doc, l.begin + ind, l.end));
	}
	if (in_fence && !doc->closer[0]) {
		size_t k = fcount < sizeof doc->closer - 1 ? fcount : sizeof doc->closer - 1;
		memset(doc->closer, fch, k);
		doc->closer[k] = 0;
	}
	return 0;
}

int aimark__text_doc_parse(aimark__text_doc *doc, const unsigned char *d, size_t n, aimark__text_kind kind)
{
	memset(doc, 0, sizeof *doc);
	RETURN_IF(n > AIMARK__TEXT_MAX_DOC, AIMARK_ELIMIT, "text: %zu bytes exceed the limit of %zu", n, AIMARK__TEXT_MAX_DOC);
	doc->kind = kind;
	doc->d = n ? d : (const unsigned char *)"";
	doc->n = n;
	const unsigned char *nl = n ? memchr(d, '\n', n) : NULL;
	doc->eol = nl && nl > d && nl[-1] == '\r' ? "\r\n" : "\n";
	size_t bom = n >= 3 && d[0] == 0xEF && d[1] == 0xBB && d[2] == 0xBF ? 3 : 0;
	int rc;
	if (kind == AIMARK__TEXT_MARKDOWN)
		rc = parse_markdown(doc, bom);
	else if (kind == AIMARK__TEXT_HTML)
		rc = aimark__text_html_parse(doc, bom);
	else
		rc = parse_plain(doc, bom);
	if (rc < 0)
		aimark__text_doc_dispose(doc);
	return rc;
}

/* Explicit labels in text, Markdown and HTML: options, writing and finding. */
#include <string.h>

#include "core/internal.h"
#include "text/text_explicit.h"
#include "text/text_html.h"
#include "text/text_unicode.h"

int aimark__text_is_invisible(uint32_t cp)
{
	return (cp >= 0xE0100 && cp <= 0xE01EF) || (cp >= 0xFE00 && cp <= 0xFE0F) || cp == 0x200B || cp == 0x2060 ||
	       cp == 0xFEFF || cp == 0x00AD;
}

int aimark__text_explicit_options(const char *text, const char *language, const char *position, const char **label_out,
				  unsigned int *at_out)
{
	if (text == NULL) {
		if (language == NULL || strcmp(language, "zh") == 0)
			text = AIMARK__TEXT_LABEL_ZH;
		else if (strcmp(language, "en") == 0)
			text = AIMARK__TEXT_LABEL_EN;
		else
			return aimark__error_set(AIMARK_EINVAL, "explicit label: unknown language \"%s\" (use \"zh\" or \"en\")",
						 language);
	}
	RETURN_IF_ERR(aimark__explicit_text_check(text, NULL));
	RETURN_IF(strchr(text, '<') || strchr(text, '&'), AIMARK_EINVAL,
		  "explicit label: the text label must not contain '<' or '&'");
	if (position == NULL || strcmp(position, "end") == 0)
		*at_out = AIMARK__TEXT_AT_END;
	else if (strcmp(position, "start") == 0)
		*at_out = AIMARK__TEXT_AT_START;
	else if (strcmp(position, "both") == 0)
		*at_out = AIMARK__TEXT_AT_START | AIMARK__TEXT_AT_END;
	else
		return aimark__error_set(AIMARK_EINVAL, "explicit label: position \"%s\" for text is not start, end or both",
					 position);
	*label_out = text;
	return 0;
}

/* Characters stripped around a label line: Markdown markers, brackets, quotes, emphasis. */
static int is_decoration(uint32_t cp)
{
	static const uint32_t set[] = { '*', '_', '~', '[', ']', '(', ')', '<', '>', '"', '\'', '#', '-', '+', '|', '`',
					0x3010, 0x3011, 0xFF08, 0xFF09, 0x300C, 0x300D, 0x300E, 0x300F, 0x300A,
					0x300B, 0x3014, 0x3015, 0x201C, 0x201D, 0x2018, 0x2019 };
	for (size_t i = 0; i < sizeof set / sizeof set[0]; i++)
		if (set[i] == cp)
			return 1;
	return 0;
}

int aimark__text_explicit_line(const unsigned char *s, size_t n, char text[AIMARK__EXPLICIT_TEXT_MAX + 1],
			       unsigned int *elements)
{
	/* a label is short: anything much longer is a paragraph */
	if (n > 4 * AIMARK__EXPLICIT_TEXT_MAX)
		return 0;
	uint32_t cps[4 * AIMARK__EXPLICIT_TEXT_MAX];
	size_t m = 0;
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		int valid;
		i += aimark__utf8_decode(s, n, i, &cp, &valid);
		if (!valid)
			return 0;
		if (aimark__text_is_invisible(cp))
			continue;
		cps[m++] = cp;
	}
	size_t b = 0, e = m;
	for (;;) {
		size_t b0 = b, e0 = e;
		while (b < e && (aimark__uni_is_space(cps[b]) || is_decoration(cps[b])))
			b++;
		while (e > b && (aimark__uni_is_space(cps[e - 1]) || is_decoration(cps[e - 1])))
			e--;
		/* an ordered-list marker "1." */
		size_t k = b;
		while (k < e && cps[k] >= '0' && cps[k] <= '9')
			k++;
		if (k > b && k < e && (cps[k] == '.' || cps[k] == ')') && k + 1 < e && aimark__uni_is_space(cps[k + 1]))
			b = k + 1;
		if (b == b0 && e == e0)
			break;
	}
	if (b == e)
		return 0;
	aimark_buf out = AIMARK_BUF_INIT;
	int ok = 1;
	for (size_t i = b; i < e && ok; i++)
		ok = aimark__utf8_append(&out, cps[i]) == 0 && out.size <= AIMARK__EXPLICIT_TEXT_MAX;
	if (ok) {
		unsigned int found = aimark__explicit_text_scan((const char *)out.ptr, out.size);
		ok = (found & AIMARK__EXPLICIT_AI_ANY) && (found & AIMARK__EXPLICIT_GEN_ANY);
		if (ok) {
			memcpy(text, out.ptr, out.size);
			text[out.size] = 0;
			*elements = found;
		}
	}
	aimark_buf_dispose(&out);
	return ok;
}

/* 1 when [b, e) holds something besides white space and invisible characters. */
static int has_content(const unsigned char *p, size_t b, size_t e)
{
	for (size_t i = b; i < e;) {
		uint32_t cp;
		int valid;
		i += aimark__utf8_decode(p, e, i, &cp, &valid);
		if (!aimark__uni_is_space(cp) && !aimark__text_is_invisible(cp))
			return 1;
	}
	return 0;
}

/* First and last non-blank lines of p[b, e) (with their breaks); 0 when there is none. */
static int edge_lines(const unsigned char *p, size_t b, size_t e, aimark__text_span *first, aimark__text_span *last)
{
	int found = 0;
	for (size_t i = b; i < e && !found;) {
		const unsigned char *nl = memchr(p + i, '\n', e - i);
		size_t end = nl ? (size_t)(nl - p) : e;
		size_t next = nl ? end + 1 : e;
		if (has_content(p, i, end)) {
			*first = (aimark__text_span){ i, next };
			found = 1;
		}
		i = next;
	}
	if (!found)
		return 0;
	*last = *first;
	for (size_t j = e; j > first->end;) {
		size_t s = j;
		while (s > first->end && p[s - 1] != '\n')
			s--;
		if (has_content(p, s, j)) {
			*last = (aimark__text_span){ s, j < e && p[j] == '\n' ? j + 1 : j };
			break;
		}
		if (s == first->end)
			break;
		j = s - 1;
	}
	return 1;
}

static void line_content(const unsigned char *p, const aimark__text_span *l, size_t *b, size_t *e)
{
	*b = l->begin;
	*e = l->end;
	while (*e > *b && (p[*e - 1] == '\n' || p[*e - 1] == '\r'))
		(*e)--;
}

static void check_edges(const unsigned char *p, const aimark__text_span *first, const aimark__text_span *last,
			aimark__text_label_found *f)
{
	size_t b, e;
	char text[AIMARK__EXPLICIT_TEXT_MAX + 1];
	unsigned int el;
	line_content(p, first, &b, &e);
	if (aimark__text_explicit_line(p + b, e - b, f->text, &f->elements)) {
		f->at |= AIMARK__TEXT_AT_START;
		f->start_line = *first;
	}
	if (last->begin == first->begin) {
		f->only_line = 1;
		return;
	}
	line_content(p, last, &b, &e);
	if (aimark__text_explicit_line(p + b, e - b, text, &el)) {
		f->at |= AIMARK__TEXT_AT_END;
		f->end_line = *last;
		if (!(f->at & AIMARK__TEXT_AT_START)) {
			memcpy(f->text, text, sizeof text);
			f->elements = el;
		}
	}
}

int aimark__text_explicit_find(const aimark__text_doc *doc, aimark__text_label_found *f)
{
	memset(f, 0, sizeof *f);
	aimark__text_span first, last;
	if (doc->kind != AIMARK__TEXT_HTML) {
		if (edge_lines(doc->d, doc->body_begin, doc->body_end, &first, &last))
			check_edges(doc->d, &first, &last, f);
		return 0;
	}
	aimark_buf vis = AIMARK_BUF_INIT;
	int rc = aimark__text_html_visible(doc, &vis);
	if (rc == 0 && vis.size > 0 && edge_lines(vis.ptr, 0, vis.size, &first, &last)) {
		check_edges(vis.ptr, &first, &last, f);
		/* spans refer to the extracted text, not the document */
		f->start_line = f->end_line = (aimark__text_span){ 0, 0 };
	}
	aimark_buf_dispose(&vis);
	return rc;
}

int aimark__text_explicit_render(const aimark__text_doc *doc, const char *label, unsigned int at, int empty_body,
				 aimark_buf *out)
{
	const char *eol = doc->eol;
	if (doc->kind == AIMARK__TEXT_HTML) {
		if (at == AIMARK__TEXT_AT_END && !empty_body)
			RETURN_IF_ERR(aimark__buf_append_str(out, eol));
		RETURN_IF_ERR(aimark__buf_printf(out, "<p data-aigc-label=\"%s\">%s</p>", at == AIMARK__TEXT_AT_START ? "start" : "end",
						 label));
		if (at == AIMARK__TEXT_AT_START && !empty_body)
			RETURN_IF_ERR(aimark__buf_append_str(out, eol));
		return 0;
	}
	if (at == AIMARK__TEXT_AT_END && !empty_body) {
		if (doc->kind == AIMARK__TEXT_MARKDOWN && doc->closer[0]) {
			/* close a code block left open at the end, or the label would be code */
			RETURN_IF_ERR(aimark__buf_append_str(out, eol));
			RETURN_IF_ERR(aimark__buf_append_str(out, doc->closer));
		}
		RETURN_IF_ERR(aimark__buf_append_str(out, eol));
		RETURN_IF_ERR(aimark__buf_append_str(out, eol));
	}
	RETURN_IF_ERR(aimark__buf_append_str(out, label));
	if (at == AIMARK__TEXT_AT_START && !empty_body) {
		RETURN_IF_ERR(aimark__buf_append_str(out, eol));
		RETURN_IF_ERR(aimark__buf_append_str(out, eol));
	}
	return 0;
}

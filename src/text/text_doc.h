/*
 * The structure of a text document as the text layers see it: where the
 * body is (explicit labels go at its start and end), which byte ranges are
 * the GB 45438 metadata carrier (left alone and excluded from the content
 * hash), and which ranges are prose that may carry the invisible mark
 * (never code, URLs, markup, headings or the label itself).
 *
 *   text      body: everything but a trailing "AIGC: {...}" line (and a BOM)
 *   markdown  body: after the YAML front matter; prose: paragraph, list,
 *             quote and table lines outside code, HTML blocks and headings,
 *             minus code spans, autolinks, inline HTML and link destinations
 *   html      body: inside <body> (or after the leading head-like content of
 *             a document without one); prose: text nodes outside script,
 *             style, pre, code and similar elements
 */
#ifndef AIMARK_TEXT_DOC_H
#define AIMARK_TEXT_DOC_H

#include <stddef.h>

#include "aimark/common.h"

typedef enum aimark__text_kind {
	AIMARK__TEXT_PLAIN = 0,
	AIMARK__TEXT_MARKDOWN = 1,
	AIMARK__TEXT_HTML = 2
} aimark__text_kind;

typedef struct aimark__text_span {
	size_t begin, end;
} aimark__text_span;

typedef struct aimark__span_list {
	aimark__text_span *v;
	size_t n, cap;
} aimark__span_list;

typedef struct aimark__text_doc {
	aimark__text_kind kind;
	const unsigned char *d;
	size_t n;
	const char *eol;             /* "\n" or "\r\n", as the document uses */
	size_t body_begin, body_end; /* the body; body_end excludes trailing white space */
	aimark__span_list meta;      /* GB 45438 metadata carriers (front matter, AIGC line, AIGC meta elements) */
	aimark__span_list prose;     /* ranges that may carry the invisible mark, in order */
	aimark__span_list labels;    /* HTML: explicit label elements (data-aigc-label) */
	char closer[16];             /* Markdown: what closes a code block or HTML block left open at the end of the body, "" if none */
} aimark__text_doc;

/* Longest document the text layers read (the format readers' limit). */
#define AIMARK__TEXT_MAX_DOC ((size_t)256 << 20)

/* "text", "markdown" or "html" (also "md", "txt", "htm") -> kind; -1 when unknown. */
int aimark__text_kind_from_name(const char *format);

/*
 * Parses `d` (not copied: it must outlive the doc). Never fails on content:
 * every byte string has a structure (malformed UTF-8 is only prose that
 * carries no mark). Returns 0, AIMARK_ELIMIT (larger than
 * AIMARK__TEXT_MAX_DOC) or AIMARK_ENOMEM.
 */
int aimark__text_doc_parse(aimark__text_doc *doc, const unsigned char *d, size_t n, aimark__text_kind kind);
void aimark__text_doc_dispose(aimark__text_doc *doc);

int aimark__span_add(aimark__span_list *l, size_t begin, size_t end);

#endif

/*
 * Explicit text labels (GB 45438 section 5.1): a short notice with an AI
 * element and a generation element, written as its own line (text,
 * Markdown) or element (HTML) at the start and/or end of the body, and found
 * again by looking at the first and last non-blank lines of the visible text.
 */
#ifndef AIMARK_TEXT_EXPLICIT_H
#define AIMARK_TEXT_EXPLICIT_H

#include "aimark/common.h"
#include "label/explicit_text.h"
#include "text/text_doc.h"

/* Defaults for text ("zh" and "en"). */
#define AIMARK__TEXT_LABEL_ZH "\xe6\x9c\xac\xe5\x86\x85\xe5\xae\xb9\xe7\x94\xb1\xe4\xba\xba\xe5\xb7\xa5\xe6\x99\xba\xe8\x83\xbd\xe7\x94\x9f\xe6\x88\x90" /* 本内容由人工智能生成 */
#define AIMARK__TEXT_LABEL_EN "AI-generated content"

/* Label positions (bits). */
#define AIMARK__TEXT_AT_START 1u
#define AIMARK__TEXT_AT_END 2u

typedef struct aimark__text_label_found {
	unsigned int at;                 /* AIMARK__TEXT_AT_* bits where a label was found */
	int only_line;                   /* the body's first non-blank line is also its last */
	aimark__text_span start_line;    /* text, Markdown: the label lines with their line breaks */
	aimark__text_span end_line;
	char text[AIMARK__EXPLICIT_TEXT_MAX + 1]; /* the first label found, decoration removed */
	unsigned int elements;           /* its AIMARK__EXPLICIT_* elements */
} aimark__text_label_found;

/*
 * The label text and position for the options: `text` NULL for the default
 * of `language` (NULL or "zh": 本内容由人工智能生成, "en": AI-generated
 * content); `position` NULL for "end", else "start", "end" or "both".
 * Returns 0 or AIMARK_EINVAL (a text without both elements, an unknown
 * language or position; the message says which).
 */
int aimark__text_explicit_options(const char *text, const char *language, const char *position, const char **label_out,
				  unsigned int *at_out);

/* Finds explicit labels at the start and end of the body. Returns 0 or AIMARK_ENOMEM. */
int aimark__text_explicit_find(const aimark__text_doc *doc, aimark__text_label_found *found);

/*
 * Appends the label as written at `at` (one of AIMARK__TEXT_AT_*) in a
 * document of doc's kind, with the separators it needs on the side facing
 * the body (`empty_body`: no separators at all).
 */
int aimark__text_explicit_render(const aimark__text_doc *doc, const char *label, unsigned int at, int empty_body,
				 aimark_buf *out);

/*
 * Checks one line as a label: decoration (Markdown markers, brackets,
 * emphasis, invisible characters, surrounding white space) removed, at most
 * AIMARK__EXPLICIT_TEXT_MAX bytes, both elements present. Returns 1 and
 * fills text (cleaned, NUL-terminated) and *elements, else 0.
 */
int aimark__text_explicit_line(const unsigned char *s, size_t n, char text[AIMARK__EXPLICIT_TEXT_MAX + 1],
			       unsigned int *elements);

/* 1 for the invisible characters the text layers ignore when reading (the mark, ZWSP, word joiner, BOM, soft hyphen). */
int aimark__text_is_invisible(uint32_t cp);

#endif

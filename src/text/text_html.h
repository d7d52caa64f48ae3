/* HTML structure for the text layers, built on the shared tokenizer format/html_lex.h (not a full HTML parser). */
#ifndef AIMARK_TEXT_HTML_H
#define AIMARK_TEXT_HTML_H

#include "aimark/common.h"
#include "text/text_doc.h"

/* Fills body, metadata (AIGC meta elements), label elements and prose of an HTML doc. */
int aimark__text_html_parse(aimark__text_doc *doc, size_t bom);

/*
 * Appends the visible text of the body to `out`: text nodes outside
 * script, style, template and the like, entity references decoded, a line
 * break at every block-level element boundary. Used to find explicit labels.
 */
int aimark__text_html_visible(const aimark__text_doc *doc, aimark_buf *out);

#endif

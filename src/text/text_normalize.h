/* The normalised body of a text document, the input of the text content hash. */
#ifndef AIMARK_TEXT_NORMALIZE_H
#define AIMARK_TEXT_NORMALIZE_H

#include "aimark/common.h"
#include "text/text_doc.h"

/* Appends the normalised body of a parsed document (docs/text.md, "The normalised body"). */
int aimark__text_normalize_doc(const aimark__text_doc *doc, aimark_buf *out);

#endif

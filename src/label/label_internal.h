/* Private label helpers shared by the pipeline. */
#ifndef AIMARK_LABEL_LABEL_INTERNAL_H
#define AIMARK_LABEL_LABEL_INTERNAL_H

#include "aimark/label.h"

/*
 * aimark_label_parse_json plus: *wrapped tells whether the text used the
 * {"AIGC":{...}} wrapper (may be NULL).
 */
int aimark__label_parse(aimark_label **out, const char *text, size_t len, aimark_findings *findings, int *wrapped);

/* 1 when every field of `a` equals the same field of `b` (absent == absent). */
int aimark__label_equal(const aimark_label *a, const aimark_label *b);

/* Appends `value` JSON-string-escaped with its quotes ("..."), as the label encoder writes it. */
int aimark__json_quote(aimark_buf *out, const char *value);

#endif

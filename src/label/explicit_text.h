/*
 * The text of an explicit (visible or audible) label, checked against
 * GB 45438 section 5.1 b): every label combines an AI element ("人工智能" or
 * "AI") with a generation element ("生成" and/or "合成"). Shared by the image,
 * video, audio and text label renderers. No dependency beyond core/.
 */
#ifndef AIMARK_LABEL_EXPLICIT_TEXT_H
#define AIMARK_LABEL_EXPLICIT_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* Elements found in a label text (bits of the `found` result). */
#define AIMARK__EXPLICIT_AI_ZH 0x01u      /* "人工智能" */
#define AIMARK__EXPLICIT_AI_LATIN 0x02u   /* "AI" or "AIGC" as a word, upper case (or full-width "ＡＩ") */
#define AIMARK__EXPLICIT_AI_EN 0x04u      /* "artificial intelligence" (any case) */
#define AIMARK__EXPLICIT_GEN_SC 0x10u     /* "生成" */
#define AIMARK__EXPLICIT_GEN_HC 0x20u     /* "合成" */
#define AIMARK__EXPLICIT_GEN_EN 0x40u     /* "generated", "synthesized" or "synthesised" (any case), as words */

#define AIMARK__EXPLICIT_AI_ANY (AIMARK__EXPLICIT_AI_ZH | AIMARK__EXPLICIT_AI_LATIN | AIMARK__EXPLICIT_AI_EN)
#define AIMARK__EXPLICIT_GEN_ANY (AIMARK__EXPLICIT_GEN_SC | AIMARK__EXPLICIT_GEN_HC | AIMARK__EXPLICIT_GEN_EN)

/* Longest label text accepted, in bytes of UTF-8 (a label is a short notice). */
#define AIMARK__EXPLICIT_TEXT_MAX 256

/* Default label texts ("AI生成" for "zh", "AI-generated" for "en"). */
#define AIMARK__EXPLICIT_TEXT_ZH "AI\xe7\x94\x9f\xe6\x88\x90"
#define AIMARK__EXPLICIT_TEXT_EN "AI-generated"

/*
 * Decodes the UTF-8 code point at s[*pos] (s has `len` bytes), stores it in
 * *cp and advances *pos. Returns 0, or -1 on malformed UTF-8 (overlong,
 * surrogate, > U+10FFFF, truncated), leaving *pos unchanged.
 */
int aimark__explicit_text_next(const char *s, size_t len, size_t *pos, uint32_t *cp);

/*
 * Returns the AIMARK__EXPLICIT_* bits of the elements `text` (len bytes of
 * UTF-8) contains. Never fails: malformed bytes simply match nothing.
 */
unsigned int aimark__explicit_text_scan(const char *text, size_t len);

/*
 * Checks `text` (NUL-terminated) as an explicit label text: valid UTF-8, not
 * empty, at most AIMARK__EXPLICIT_TEXT_MAX bytes, no control characters, and
 * both a section 5.1 b) AI element and generation element. The English
 * equivalents (AI_EN, GEN_EN) are accepted so that an English label such as
 * "AI-generated" can be made; the standard's own wording is Chinese.
 * Returns 0 and stores the elements found in *found (may be NULL), or
 * AIMARK_EINVAL with a message naming what is missing or wrong.
 */
int aimark__explicit_text_check(const char *text, unsigned int *found);

/*
 * The default label text for `language` ("zh" or NULL: "AI生成"; "en":
 * "AI-generated"), or NULL for another language.
 */
const char *aimark__explicit_text_default(const char *language);

/*
 * Describes the elements in `found` for reports, e.g. "AI + 生成", into
 * `out` (size `n`, always NUL-terminated when n > 0).
 */
void aimark__explicit_text_describe(unsigned int found, char *out, size_t n);

#endif

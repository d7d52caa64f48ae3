/*
 * The text layers as the mark and verify pipelines call them, for "text",
 * "markdown" and "html" documents: the explicit label (GB 45438 section 5),
 * the invisible signed mark, and the normalised body that the text content
 * hash covers. docs/text.md describes all three.
 *
 * THREAD SAFETY: all three functions may run concurrently on different
 * inputs sharing the same (immutable) keys.
 */
#ifndef AIMARK_TEXT_STAGE_H
#define AIMARK_TEXT_STAGE_H

#include <stddef.h>

#include <jansson.h>

#include "aimark/mark.h"
#include "aimark/watermark.h"

/*
 * Applies the explicit label (if o->layers & AIMARK_LAYER_EXPLICIT: text
 * o->explicit_text or the default for o->explicit_language, position
 * o->explicit_position: "start", "end" (default) or "both"; a position that
 * already shows a label gets no second one) and the invisible mark (if
 * o->layers & AIMARK_LAYER_WATERMARK, key o->watermark_key, payload = the 8
 * bytes the pipeline derives from the ProduceID) to text of `format`
 * ("text", "markdown", "html"); appends the result to `out`. The GB 45438
 * metadata carrier, front matter and markup are kept byte for byte.
 * Returns 0, AIMARK_EINVAL (unknown format, bad label text or position,
 * watermark without a key), AIMARK_ELIMIT, AIMARK_ECRYPTO or AIMARK_ENOMEM;
 * `out` is unchanged on failure.
 */
int aimark__text_stage(const unsigned char *data, size_t len, const char *format, const aimark_mark_options *o,
		       const unsigned char payload[8], aimark_buf *out);

/*
 * Sets *explicit_out to {"detected":bool,"kind":"text","position":"start|end|both","text":...,"elements":...}
 * ("position", "text" and "elements" only when detected) and *watermark_out
 * to {"detected":bool,"method":"unicode-variation-selectors","frames":N,
 * "payload":hex,"authenticated":bool,"false_alarm_probability":p,"key_id":...}
 * ("payload" and "key_id" only when authenticated; {"detected":false,...}
 * with "frames" when no key is given or none matches). Always objects, owned
 * by the caller. Returns 0, AIMARK_EINVAL (unknown format), AIMARK_ELIMIT,
 * AIMARK_ECRYPTO or AIMARK_ENOMEM (then both are NULL).
 */
int aimark__text_detect(const unsigned char *data, size_t len, const char *format, const aimark_wm_key *const *keys,
			size_t n_keys, json_t **explicit_out, json_t **watermark_out);

/*
 * The normalised body used for the text content hash: appends to `out` the
 * document (the whole file, metadata label included) with the metadata
 * carrier, explicit labels, BOM and invisible characters removed, in NFC,
 * white space folded (docs/text.md, "The normalised body"). Returns 0,
 * AIMARK_EINVAL (unknown format), AIMARK_ELIMIT or AIMARK_ENOMEM.
 */
int aimark__text_normalize(const unsigned char *data, size_t len, const char *format, aimark_buf *out);

#endif

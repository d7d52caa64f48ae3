/* Shared steps of the mark and verify pipelines. */
#ifndef AIMARK_PIPELINE_INTERNAL_H
#define AIMARK_PIPELINE_INTERNAL_H

#include "aimark/label.h"
#include "aimark/mark.h"
#include "aimark/verify.h"
#include "crypto/crypto.h"
#include "format/format.h"

/* Content selection written in the Hash binding: prefix + format name. */
#define AIMARK__CNTSEL_PREFIX "aimark.essence.v1/"

/*
 * Picks the format: by name when `format` is set, else by content, else by
 * the extension of `path_hint` (text formats have no magic). NULL with an
 * AIMARK_EUNSUPPORTED message when nothing fits.
 */
const aimark__format_ops *aimark__pipeline_format(aimark_source *src, const char *format, const char *path_hint);

/*
 * Runs (*ops)->read; when the detected format declines the file
 * (AIMARK_EUNSUPPORTED) and no format was forced, tries the next format whose
 * probe matches, updating *ops.
 */
int aimark__pipeline_read(aimark_source *src, const char *forced, const aimark__format_ops **ops, aimark__meta *meta);

/* Digest of the essence ranges of `src` with `alg`. */
int aimark__pipeline_essence_digest(aimark_source *src, const aimark__meta *meta, aimark__hash_alg alg,
				    unsigned char digest[AIMARK__HASH_MAX]);

/*
 * Parses every carrier's label. *out gets the primary one (for images XMP first, else
 * the first readable carrier), *carrier its kind; NULL when no carrier holds a
 * readable label. Unreadable carriers and carriers whose label differs from
 * the primary one add findings ("label-unreadable", "conflicting-labels").
 */
int aimark__pipeline_primary_label(const aimark__meta *meta, aimark_findings *findings, aimark_label **out,
				   const char **carrier);

enum { AIMARK__MODALITY_OTHER = 0, AIMARK__MODALITY_IMAGE, AIMARK__MODALITY_AUDIO, AIMARK__MODALITY_TEXT };

/* The modality of a container format name: which explicit-label and watermark engines apply. */
int aimark__modality_of(const char *format);

/* The watermark payload bound to a label: the first 8 bytes of SHA-256 of the ProduceID. */
int aimark__watermark_payload(const char *produce_id, unsigned char payload[8]);

/*
 * Runs the layers that change the content (explicit label, watermark) when
 * `o->layers` asks for them. Returns 0 when nothing changed, 1 when `out`
 * holds the new file (same format), or a negative error. `produce_id` is the
 * id the label will carry (the watermark payload binds to it).
 */
int aimark__content_stage(aimark_source *in, const aimark__format_ops *ops, const aimark_mark_options *o,
			  const char *produce_id, aimark_buf *out);

/* Explicit-label and watermark detection for the report (defined in verify_content.c). */
struct aimark_report;
int aimark__verify_content_layers(struct aimark_report *r, aimark_source *src, const aimark_verify_options *o);

#endif

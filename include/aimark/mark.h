/*
 * aimark/mark.h - label one output: the signed GB 45438 metadata label today,
 * the other layers (explicit label, watermark, C2PA) through the same call.
 *
 * THREAD SAFETY: aimark_mark*() may run concurrently on different sources and
 * sinks sharing the same (immutable) key.
 */
#ifndef AIMARK_MARK_H
#define AIMARK_MARK_H

#include "common.h"
#include "io.h"
#include "findings.h"
#include "keys.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The layers of marks (GB 45438 explicit and implicit labels, watermark, C2PA). */
#define AIMARK_LAYER_METADATA 0x1u  /* signed GB 45438 metadata label (always written) */
#define AIMARK_LAYER_EXPLICIT 0x2u  /* visible / audible label in the content (GB 45438 section 5) */
#define AIMARK_LAYER_WATERMARK 0x4u /* keyed invisible watermark bound to the label */
#define AIMARK_LAYER_C2PA 0x8u      /* C2PA manifest signed with an X.509 certificate */
#define AIMARK_LAYER_ALL 0xFu

/* Opaque keys of the watermark and C2PA layers (see watermark.h, c2pa.h). */
typedef struct aimark_wm_key aimark_wm_key;
typedef struct aimark_c2pa_signer aimark_c2pa_signer;

/** Who writes: the content's producer, or a platform that distributes it. */
typedef enum aimark_role {
	AIMARK_ROLE_PRODUCER = 0,
	AIMARK_ROLE_PROPAGATOR = 1
} aimark_role;

typedef struct aimark_mark_options {
	unsigned int version;            /* AIMARK_MARK_OPTIONS_VERSION */
	aimark_role role;
	/* Producer role */
	const char *label;               /* "1" (default when NULL), "2" or "3" */
	const char *content_producer;    /* required: provider code or name */
	const char *produce_id;          /* NULL: a random 32-hex-digit id */
	/*
	 * Propagator role: required; the file must already carry a label, whose
	 * producer fields and ReservedCode1 are kept byte for byte.
	 * Producer role: optional; when NULL, the propagator fields repeat the
	 * producer's (Annex E note 1) unless `leave_propagator_empty` is set.
	 */
	const char *content_propagator;
	const char *propagate_id;        /* NULL: same as ProduceID */
	int leave_propagator_empty;
	/* Signs ReservedCode1 (producer) or ReservedCode2 (propagator). NULL: unsigned label. */
	const aimark_key *key;
	/*
	 * Producer role on a file that already carries a label from another
	 * producer is refused (AIMARK_EEXISTS) unless this is set, because the
	 * label belongs to that party (Labeling Measures Art. 10).
	 */
	int replace_foreign_label;
	/* Format override ("jpeg", "png", "webp"); NULL to detect from content. */
	const char *format;

	/* Layers to add besides the metadata label: AIMARK_LAYER_* bits (0: metadata only). */
	unsigned int layers;
	/* Explicit label (AIMARK_LAYER_EXPLICIT). */
	const char *explicit_text;     /* NULL: the default for the modality and language */
	const char *explicit_position; /* NULL: the modality's default (docs/explicit-labels.md) */
	const char *explicit_language; /* "zh" (default) or "en" */
	const char *explicit_font;     /* font file for visible text; NULL: the bundled font */
	/* Watermark (AIMARK_LAYER_WATERMARK): required key; strength 0 means the default (1.0). */
	const aimark_wm_key *watermark_key;
	float watermark_strength;
	/* C2PA (AIMARK_LAYER_C2PA): the certificate and key that sign the manifest. */
	const aimark_c2pa_signer *c2pa_signer;
	/*
	 * Version 2: when not NULL, what the format writer noticed while writing
	 * (e.g. "mkv-no-seekhead", "trailing-data") is appended to this list,
	 * which the caller made with aimark_findings_new() and frees. Version-1
	 * structs end before this field and are still accepted.
	 */
	aimark_findings *findings;
} aimark_mark_options;

#define AIMARK_MARK_OPTIONS_VERSION 2
#define AIMARK_MARK_OPTIONS_INIT { AIMARK_MARK_OPTIONS_VERSION, AIMARK_ROLE_PRODUCER, NULL, NULL, NULL, NULL, NULL, 0, NULL, 0, NULL, \
	0, NULL, NULL, NULL, NULL, NULL, 0.0f, NULL, NULL }

/** Initialises `opts` to the defaults. Returns 0 or AIMARK_EINVAL on a version mismatch. */
AIMARK_API AIMARK_NODISCARD int aimark_mark_options_init(aimark_mark_options *opts, unsigned int version);

/** What a mark call did. */
typedef struct aimark_mark_result {
	char format[16];      /* "jpeg", "png", ... */
	char produce_id[256]; /* the ProduceID written (generated or given) */
	char key_id[65];      /* signer key id, "" when unsigned */
} aimark_mark_result;

/**
 * Reads `in`, writes the labelled file to `out`, and commits `out` only when
 * everything succeeded. The content essence is copied byte for byte.
 * `result` may be NULL. Returns 0, or AIMARK_EINVAL (bad options: message
 * says which), AIMARK_EFORMAT (malformed input: message names the format and
 * the problem), AIMARK_EUNSUPPORTED (unknown format), AIMARK_EEXISTS (foreign
 * label, see above), AIMARK_ENOTFOUND (propagator role on an unlabelled
 * file), AIMARK_ECRYPTO, AIMARK_EIO, AIMARK_ENOMEM.
 */
AIMARK_API AIMARK_NODISCARD int aimark_mark(aimark_source *in, aimark_sink *out, const aimark_mark_options *opts, aimark_mark_result *result);

/** aimark_mark() from memory into `out` (appended). */
AIMARK_API AIMARK_NODISCARD int aimark_mark_memory(const void *data, size_t len, const aimark_mark_options *opts, aimark_buf *out, aimark_mark_result *result);

/**
 * aimark_mark() from file `in_path` to `out_path` through a temporary file
 * and an atomic rename. `out_path` may equal `in_path` (in-place labelling);
 * otherwise an existing `out_path` is refused unless `overwrite` is set.
 */
AIMARK_API AIMARK_NODISCARD int aimark_mark_file(const char *in_path, const char *out_path, int overwrite, const aimark_mark_options *opts, aimark_mark_result *result);

#ifdef __cplusplus
}
#endif
#endif

/*
 * aimark/verify.h - check every mark a file carries and say what it means.
 *
 * A verification returns an error only when the check could not run (the
 * file could not be read at all). Every answer about the file itself,
 * including "malformed", is in the report.
 *
 * THREAD SAFETY: aimark_verify*() may run concurrently on different sources
 * sharing one trust set. A report is used by one thread at a time.
 */
#ifndef AIMARK_VERIFY_H
#define AIMARK_VERIFY_H

#include "common.h"
#include "findings.h"
#include "io.h"
#include "keys.h"
#include "label.h"
#include "mark.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum aimark_verdict {
	AIMARK_VERDICT_AUTHENTIC = 0,    /* labelled; signature valid from a trusted key; content unchanged */
	AIMARK_VERDICT_NOT_LABELLED = 1, /* no AIGC label found */
	AIMARK_VERDICT_INVALID = 2,      /* label malformed, conflicting, or its signature does not verify */
	AIMARK_VERDICT_TAMPERED = 3,     /* signature valid but the content changed after labelling */
	AIMARK_VERDICT_UNVERIFIED = 4,   /* labelled, but no trusted key to check it (or unsigned) */
	AIMARK_VERDICT_ERROR = 5         /* the file could not be parsed as its format */
} aimark_verdict;

typedef enum aimark_sig_status {
	AIMARK_SIG_ABSENT = 0,      /* no signature we can identify */
	AIMARK_SIG_VALID = 1,       /* verifies with a trusted key */
	AIMARK_SIG_UNKNOWN_KEY = 2, /* verifies with the key it carries, which is not trusted */
	AIMARK_SIG_INVALID = 3,     /* does not verify */
	AIMARK_SIG_UNVERIFIABLE = 4 /* present but in a form aimark cannot check */
} aimark_sig_status;

typedef enum aimark_content_status {
	AIMARK_CONTENT_NOT_COVERED = 0, /* no content hash was signed */
	AIMARK_CONTENT_UNCHANGED = 1,
	AIMARK_CONTENT_CHANGED = 2
} aimark_content_status;

typedef struct aimark_wm_key aimark_wm_key;

typedef struct aimark_verify_options {
	unsigned int version;       /* AIMARK_VERIFY_OPTIONS_VERSION */
	const aimark_trust *trust;  /* NULL: nothing is trusted */
	const char *format;         /* NULL: detect from content */
	const char *display_name;   /* name used in the report; NULL: the source's */
	/*
	 * Layers to check (AIMARK_LAYER_* bits from mark.h); 0 checks all of
	 * them. The metadata label is always checked. Explicit-label and
	 * watermark detection decode the content, so they cost more.
	 */
	unsigned int layers;
	/* Watermark keys to try in one pass; none: no watermark detection. */
	const aimark_wm_key *const *watermark_keys;
	size_t n_watermark_keys;
	/* C2PA trust anchors: a PEM bundle file; NULL: no certificate is trusted. */
	const char *c2pa_trust_anchors;
	/*
	 * Version 2: the text of a custom visible label to look for in images,
	 * besides the default texts (the text given to aimark_mark_options'
	 * explicit_text); NULL: the defaults only. Version-1 structs end
	 * before this field and are still accepted.
	 */
	const char *explicit_text;
} aimark_verify_options;

#define AIMARK_VERIFY_OPTIONS_VERSION 2
#define AIMARK_VERIFY_OPTIONS_INIT { AIMARK_VERIFY_OPTIONS_VERSION, NULL, NULL, NULL, 0, NULL, 0, NULL, NULL }

AIMARK_API AIMARK_NODISCARD int aimark_verify_options_init(aimark_verify_options *opts, unsigned int version);

typedef struct aimark_report aimark_report;

/**
 * Verifies `in`. On success *out holds a report (free with
 * aimark_report_free). Returns 0, or AIMARK_EIO / AIMARK_ENOMEM /
 * AIMARK_EINVAL when the check could not run. Malformed input is a report
 * with verdict AIMARK_VERDICT_ERROR, not a failure.
 */
AIMARK_API AIMARK_NODISCARD int aimark_verify(aimark_source *in, const aimark_verify_options *opts, aimark_report **out);

/** aimark_verify() on a file; AIMARK_EIO (message names the file) when it cannot be opened. */
AIMARK_API AIMARK_NODISCARD int aimark_verify_file(const char *path, const aimark_verify_options *opts, aimark_report **out);

/** aimark_verify() on memory. */
AIMARK_API AIMARK_NODISCARD int aimark_verify_memory(const void *data, size_t len, const aimark_verify_options *opts, aimark_report **out);

AIMARK_API aimark_verdict aimark_report_verdict(const aimark_report *r);
/** "authentic", "not-labelled", "invalid", "tampered", "unverified", "error". */
AIMARK_API const char *aimark_verdict_name(aimark_verdict v);
/**
 * The aimark-verify exit code for a verdict: 0 authentic, 1 not labelled,
 * 2 invalid or tampered, 3 unverified, 4 error.
 */
AIMARK_API int aimark_verdict_exit_code(aimark_verdict v);
/** "valid", "unknown-key", "invalid", "absent", "unverifiable". */
AIMARK_API const char *aimark_sig_status_name(aimark_sig_status s);
/** "unchanged", "changed", "not-covered". */
AIMARK_API const char *aimark_content_status_name(aimark_content_status s);

/** Detected format name ("jpeg", "png", "webp", ... or "unknown"). */
AIMARK_API const char *aimark_report_format(const aimark_report *r);
/** The label found, or NULL when none. Borrowed from the report. */
AIMARK_API const aimark_label *aimark_report_label(const aimark_report *r);
/** The producer's (ReservedCode1) signature status. */
AIMARK_API aimark_sig_status aimark_report_signature(const aimark_report *r);
/** The propagator's (ReservedCode2) signature status. */
AIMARK_API aimark_sig_status aimark_report_propagator_signature(const aimark_report *r);
AIMARK_API aimark_content_status aimark_report_content(const aimark_report *r);
/** Deviations and problems noticed. Borrowed. */
AIMARK_API const aimark_findings *aimark_report_findings(const aimark_report *r);

/** The report as one JSON object (schema in docs/report-schema.md), appended to `out`. */
AIMARK_API AIMARK_NODISCARD int aimark_report_to_json(const aimark_report *r, int pretty, aimark_buf *out);
/** A human-readable multi-line summary, appended to `out`. */
AIMARK_API AIMARK_NODISCARD int aimark_report_to_text(const aimark_report *r, aimark_buf *out);

AIMARK_API void aimark_report_free(aimark_report *r);

#ifdef __cplusplus
}
#endif
#endif

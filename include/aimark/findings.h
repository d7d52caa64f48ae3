/*
 * aimark/findings.h - deviations noticed while reading, reported rather than
 * failed on ("write strictly, read leniently").
 *
 * THREAD SAFETY: a findings list is used by one thread at a time.
 */
#ifndef AIMARK_FINDINGS_H
#define AIMARK_FINDINGS_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum aimark_severity {
	AIMARK_SEVERITY_INFO = 0,    /* worth knowing, conforming */
	AIMARK_SEVERITY_WARNING = 1, /* deviates from Annex E, still readable */
	AIMARK_SEVERITY_ERROR = 2    /* makes the label invalid */
} aimark_severity;

typedef struct aimark_finding {
	aimark_severity severity;
	const char *code;    /* stable machine name, e.g. "charset", "propagator-empty" */
	const char *message; /* one human sentence */
} aimark_finding;

typedef struct aimark_findings aimark_findings;

AIMARK_API AIMARK_NODISCARD int aimark_findings_new(aimark_findings **out);
AIMARK_API size_t aimark_findings_count(const aimark_findings *f);
/** Borrowed pointer valid until the list changes or is freed; NULL past the end. */
AIMARK_API const aimark_finding *aimark_findings_get(const aimark_findings *f, size_t i);
/** Number of findings at `severity` or above. */
AIMARK_API size_t aimark_findings_count_at_least(const aimark_findings *f, aimark_severity severity);
/** 1 when a finding with this code is present. */
AIMARK_API int aimark_findings_has(const aimark_findings *f, const char *code);
/** "info", "warning" or "error". */
AIMARK_API const char *aimark_severity_name(aimark_severity s);
AIMARK_API void aimark_findings_free(aimark_findings *f);

#ifdef __cplusplus
}
#endif
#endif

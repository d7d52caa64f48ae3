/* The verification report, filled by verify.c and rendered by report.c. */
#ifndef AIMARK_PIPELINE_REPORT_INTERNAL_H
#define AIMARK_PIPELINE_REPORT_INTERNAL_H

#include <jansson.h>

#include "aimark/verify.h"
#include "label/security.h"

struct aimark_report {
	char *file;
	const char *format;              /* static; "unknown" when not detected */
	aimark_verdict verdict;
	char *error;                     /* why the file could not be parsed (verdict ERROR) */
	aimark_label *label;             /* NULL when not labelled */
	const char *carrier;             /* kind of the carrier the label came from */
	char **carriers;                 /* kinds of all carriers found */
	size_t n_carriers;
	aimark__security_check producer; /* ReservedCode1 */
	aimark__security_check propagator; /* ReservedCode2 */
	aimark_content_status content;
	aimark_findings *findings;
	json_t *layers;                  /* other layers' report objects ("explicit", "watermark", "c2pa"), merged at top level */
};

/* A new empty report for `file`. */
int aimark__report_new(aimark_report **out, const char *file);

#endif

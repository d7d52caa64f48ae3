/* Adding findings from inside the library. */
#ifndef AIMARK_CORE_FINDINGS_INTERNAL_H
#define AIMARK_CORE_FINDINGS_INTERNAL_H

#include <stdarg.h>

#include "aimark/findings.h"

/* Appends a finding; `f` may be NULL (then nothing happens). Returns 0 or AIMARK_ENOMEM. */
int aimark__findings_add(aimark_findings *f, aimark_severity severity, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int aimark__findings_addv(aimark_findings *f, aimark_severity severity, const char *code, const char *fmt, va_list ap);
/* Appends copies of all of `src`'s findings to `dst`. */
int aimark__findings_merge(aimark_findings *dst, const aimark_findings *src);

#endif

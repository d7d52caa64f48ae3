/* A growable list of findings (deviations noticed while reading). */
#include <stdio.h>
#include <string.h>

#include "aimark/findings.h"
#include "findings_internal.h"
#include "internal.h"

struct aimark_findings {
	aimark_finding *items;
	size_t count, capacity;
};

int aimark_findings_new(aimark_findings **out)
{
	RETURN_IF(out == NULL, AIMARK_EINVAL, "findings: out is NULL");
	*out = aimark__calloc(1, sizeof **out);
	RETURN_ENOMEM_IF_NULL(*out);
	return 0;
}

size_t aimark_findings_count(const aimark_findings *f) { return f ? f->count : 0; }

const aimark_finding *aimark_findings_get(const aimark_findings *f, size_t i)
{
	return f && i < f->count ? &f->items[i] : NULL;
}

size_t aimark_findings_count_at_least(const aimark_findings *f, aimark_severity severity)
{
	size_t n = 0;
	for (size_t i = 0; f && i < f->count; i++)
		n += f->items[i].severity >= severity;
	return n;
}

int aimark_findings_has(const aimark_findings *f, const char *code)
{
	for (size_t i = 0; f && code && i < f->count; i++)
		if (strcmp(f->items[i].code, code) == 0)
			return 1;
	return 0;
}

const char *aimark_severity_name(aimark_severity s)
{
	switch (s) {
	case AIMARK_SEVERITY_INFO: return "info";
	case AIMARK_SEVERITY_WARNING: return "warning";
	case AIMARK_SEVERITY_ERROR: return "error";
	}
	return "unknown";
}

int aimark__findings_addv(aimark_findings *f, aimark_severity severity, const char *code, const char *fmt, va_list ap)
{
	if (f == NULL)
		return 0;
	RETURN_IF_ARRAY_FULL_GROW(f->items, f->capacity, f->count, 8);
	va_list ap2;
	va_copy(ap2, ap);
	char tmp[1024];
	vsnprintf(tmp, sizeof tmp, fmt, ap2);
	va_end(ap2);
	char *m = aimark__strdup(tmp);
	char *c = aimark__strdup(code);
	if (!m || !c) {
		aimark__free(m);
		aimark__free(c);
		return aimark__error_set(AIMARK_ENOMEM, "out of memory");
	}
	f->items[f->count++] = (aimark_finding){ severity, c, m };
	return 0;
}

int aimark__findings_add(aimark_findings *f, aimark_severity severity, const char *code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = aimark__findings_addv(f, severity, code, fmt, ap);
	va_end(ap);
	return rc;
}

int aimark__findings_merge(aimark_findings *dst, const aimark_findings *src)
{
	for (size_t i = 0; src && i < src->count; i++)
		RETURN_IF_ERR(aimark__findings_add(dst, src->items[i].severity, src->items[i].code, "%s", src->items[i].message));
	return 0;
}

void aimark_findings_free(aimark_findings *f)
{
	if (f == NULL)
		return;
	for (size_t i = 0; i < f->count; i++) {
		aimark__free((void *)f->items[i].code);
		aimark__free((void *)f->items[i].message);
	}
	aimark__free(f->items);
	aimark__free(f);
}

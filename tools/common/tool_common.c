/* Program name, messages and option-value parsing shared by the tools. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aimark/aimark.h"
#include "tool_common.h"

static const char *program_name = "aimark";

void tool_init(const char *name)
{
	if (name && *name)
		program_name = name;
}

const char *tool_name(void) { return program_name; }

/* Formats the whole message first so that concurrent threads never interleave inside a line. */
__attribute__((format(printf, 2, 0))) static void emit(const char *subject, const char *fmt, va_list ap)
{
	char msg[2048];
	int n = vsnprintf(msg, sizeof msg, fmt, ap);
	if (n < 0)
		msg[0] = '\0';
	if (subject)
		fprintf(stderr, "%s: %s: %s\n", program_name, subject, msg);
	else
		fprintf(stderr, "%s: %s\n", program_name, msg);
}

void tool_error(const char *subject, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	emit(subject, fmt, ap);
	va_end(ap);
}

void tool_error_lib(const char *subject)
{
	const char *msg = aimark_error_last();
	if (msg == NULL || *msg == '\0')
		msg = "failed (no detail from the library)";
	/* Library messages often start with the file name already: say it once. */
	size_t n = subject ? strlen(subject) : 0;
	if (n && strncmp(msg, subject, n) == 0 && msg[n] == ':' && msg[n + 1] == ' ')
		msg += n + 2;
	tool_error(subject, "%s", msg);
}

int tool_usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	emit(NULL, fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try '%s --help' for more information.\n", program_name);
	return TOOL_EXIT_USAGE;
}

void tool_print_version(void)
{
	printf("%s %s\n", program_name, aimark_version());
}

int tool_parse_long(const char *text, long min, long max, long *out)
{
	if (text == NULL || *text == '\0')
		return -1;
	char *end = NULL;
	errno = 0;
	long v = strtol(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

double tool_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

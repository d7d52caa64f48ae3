/*
 * tool_common.h - what every aimark command-line tool shares: the program
 * name, exit codes, error messages and option-value parsing.
 *
 * THREAD SAFETY: tool_init() runs once at start-up; the message functions
 * may then be called from any thread (each message is one write).
 */
#ifndef AIMARK_TOOL_COMMON_H
#define AIMARK_TOOL_COMMON_H

#include <stdarg.h>
#include <stddef.h>

/* Exit codes shared by aimark-keygen, aimark-mark and aimark-scan (aimark-verify has its own). */
enum {
	TOOL_EXIT_OK = 0,
	TOOL_EXIT_FAILURE = 1,
	TOOL_EXIT_USAGE = 64 /* sysexits.h EX_USAGE */
};

/* Records the program name used as the prefix of every message. */
void tool_init(const char *name);
const char *tool_name(void);

/* "aimark-xxx: <subject>: <message>\n" on stderr; subject may be NULL. */
void tool_error(const char *subject, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * "aimark-xxx: <subject>: <aimark_error_last()>\n" on stderr (a fallback
 * text when the library said nothing; a leading "<subject>: " in the
 * library's message is not repeated).
 */
void tool_error_lib(const char *subject);

/* Prints "aimark-xxx: <message>" and a hint to run --help on stderr; returns TOOL_EXIT_USAGE. */
int tool_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "aimark-xxx <version>" (the library's run-time version) on stdout. */
void tool_print_version(void);

/*
 * Parses a decimal integer in [min, max] with nothing after it.
 * Returns 0 and sets *out, or -1.
 */
int tool_parse_long(const char *text, long min, long max, long *out);

/* Monotonic clock in seconds. */
double tool_now(void);

#endif

/*
 * tool_json.h - a growable string and the little JSON the tools write and
 * read themselves (reports come from aimark_report_to_json).
 *
 * THREAD SAFETY: a tool_str is used by one thread at a time; the parsing
 * function is reentrant.
 */
#ifndef AIMARK_TOOL_JSON_H
#define AIMARK_TOOL_JSON_H

#include <stddef.h>

/* A growable NUL-terminated string. Zero-initialise (TOOL_STR_INIT). */
typedef struct tool_str {
	char *ptr;
	size_t len;
	size_t cap;
	int failed; /* set once an allocation failed; later appends do nothing */
} tool_str;

#define TOOL_STR_INIT { NULL, 0, 0, 0 }

/* Appends bytes / a C string / formatted text. Return 0, or -1 (out of memory; s->failed is set). */
int tool_str_append(tool_str *s, const char *data, size_t len);
int tool_str_puts(tool_str *s, const char *text);
int tool_str_printf(tool_str *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Appends `text` as a quoted JSON string: '"' and '\' escaped, control
 * characters as \u00XX, and each byte that is not part of valid UTF-8
 * written as the four characters \xHH (see tool_display_name), so the
 * output is always valid JSON.
 */
int tool_str_json_string(tool_str *s, const char *text);

/*
 * Appends the report of a file that could not be checked at all, shaped like
 * the library's own reports for unreadable input:
 * {"file":...,"format":"unknown","verdict":"error","error":...,"aigc":null,"findings":[]}
 * With `pretty`, one member per line (two-space indent). No trailing newline.
 */
int tool_json_error_report(tool_str *s, const char *file, const char *message, int pretty);

/*
 * File names need not be UTF-8, JSON text must be. Returns NULL when `path`
 * is valid UTF-8 (use it as it is), otherwise a malloc'ed copy in which
 * every byte that is not part of valid UTF-8 is written as the four
 * characters \xHH (lowercase hex). Sets *failed on allocation failure.
 */
char *tool_display_name(const char *path, int *failed);

/* Empties the string, keeping its memory. */
void tool_str_reset(tool_str *s);
void tool_str_free(tool_str *s);

/*
 * Looks for member `key` at the top level of the JSON object in
 * json[0..len) and, when its value is a string, stores the decoded value
 * (malloc'ed, NUL-terminated; free()) in *out.
 * Returns 1 when found, 0 when the object has no such string member, -1 when
 * the text is not a well-formed JSON object up to that point, or out of memory.
 */
int tool_json_get_string(const char *json, size_t len, const char *key, char **out);

#endif

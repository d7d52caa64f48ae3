/*
 * tool_strset.h - a set of strings (aimark-scan --resume: files already
 * reported).
 *
 * THREAD SAFETY: a set is built by one thread; once built it may be read
 * (tool_strset_has) from several.
 */
#ifndef AIMARK_TOOL_STRSET_H
#define AIMARK_TOOL_STRSET_H

#include <stddef.h>

typedef struct tool_strset tool_strset;

/* An empty set; NULL when out of memory. */
tool_strset *tool_strset_new(void);

/* Adds a copy of `s`. Returns 1 when added, 0 when already present, -1 when out of memory. */
int tool_strset_add(tool_strset *set, const char *s);

/* 1 when `s` is in the set, else 0. */
int tool_strset_has(const tool_strset *set, const char *s);

size_t tool_strset_count(const tool_strset *set);

/* Accepts NULL. */
void tool_strset_free(tool_strset *set);

#endif

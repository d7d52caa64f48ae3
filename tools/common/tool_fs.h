/*
 * tool_fs.h - file and path helpers for the tools.
 *
 * THREAD SAFETY: all functions are reentrant.
 */
#ifndef AIMARK_TOOL_FS_H
#define AIMARK_TOOL_FS_H

#include <stddef.h>

/* "dir/name" (one '/' between them), malloc'ed; NULL when out of memory. */
char *tool_path_join(const char *dir, const char *name);

/* 1 when `path` exists (stat, following links), else 0. */
int tool_path_exists(const char *path);
/* 1 when `path` is a directory / a regular file (following links), else 0. */
int tool_is_dir(const char *path);
int tool_is_regular(const char *path);

/* 1 when both paths name the same existing file (same device and inode), else 0. */
int tool_same_file(const char *a, const char *b);

/*
 * Reads the first line of a small text file (at most `max` bytes are read),
 * without the line end and surrounding white space, into *out (malloc'ed).
 * Returns 1 when read, 0 when the file does not exist, -1 on any other error
 * (errno set; EFBIG when the line is longer than `max`).
 */
int tool_read_first_line(const char *path, size_t max, char **out);

#endif

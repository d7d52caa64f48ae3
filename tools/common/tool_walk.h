/*
 * tool_walk.h - walks files and directory trees, calling back for every
 * regular file.
 *
 * Entries of a directory are read in full, the directory is closed, and the
 * names are visited in byte order, so a deep tree holds no more than one
 * open directory and the order is the same on every run. Each directory is
 * visited once (device and inode are remembered), so symbolic-link loops end.
 *
 * THREAD SAFETY: a walk is driven by one thread; the callbacks run on it.
 */
#ifndef AIMARK_TOOL_WALK_H
#define AIMARK_TOOL_WALK_H

#include <stdatomic.h>

typedef struct tool_walk_seen tool_walk_seen;

typedef struct tool_walk {
	/* Settings (set before the first tool_walk_path call). */
	int follow_symlinks;                 /* follow links below the roots; roots are always followed */
	const atomic_int *stop;              /* optional: the walk ends early once *stop != 0 */
	int (*on_file)(const char *path, void *user);  /* a regular file; nonzero ends the walk */
	void (*on_error)(const char *path, const char *message, void *user); /* optional */
	void *user;
	/* Counters, filled in by the walk. */
	unsigned long long files;            /* regular files passed to on_file */
	unsigned long long skipped;          /* not regular files nor directories, or links not followed */
	unsigned long long errors;           /* entries that could not be read */
	/* Private. */
	tool_walk_seen *seen;
} tool_walk;

/*
 * Walks `root`: a regular file is passed to on_file, a directory is walked
 * recursively, anything else is counted as skipped. Returns 0 when the walk
 * finished, 1 when it was stopped (by on_file or *stop), -1 when `root`
 * cannot be read (on_error was called) or memory ran out.
 */
int tool_walk_path(tool_walk *w, const char *root);

/* Frees what the walk remembered. The struct itself is the caller's. */
void tool_walk_dispose(tool_walk *w);

#endif

/* Files the key directories are made of: joined paths, mkdir -p, write-once files. */
#ifndef AIMARK_CORE_FS_INTERNAL_H
#define AIMARK_CORE_FS_INTERNAL_H

#include <stddef.h>
#include <sys/types.h>

#define AIMARK__PATH_CAP 4096

/* out = dir "/" name; AIMARK_EINVAL when it does not fit in AIMARK__PATH_CAP. */
int aimark__path_join(char out[AIMARK__PATH_CAP], const char *dir, const char *name);

/* Creates `dir` and any missing parents with mode 0700 (mkdir -p); AIMARK_EIO when it is not a directory. */
int aimark__mkdir_p(const char *dir);

/*
 * Writes a new file with exactly `mode`, fsynced; never replaces an existing
 * one (AIMARK_EEXISTS) and leaves nothing behind on failure (AIMARK_EIO).
 */
int aimark__write_new_file(const char *path, const void *data, size_t len, mode_t mode);

#endif

/*
 * aimark/format.h - which container formats aimark knows.
 *
 * THREAD SAFETY: all functions are safe from any thread.
 */
#ifndef AIMARK_FORMAT_H
#define AIMARK_FORMAT_H

#include "common.h"
#include "io.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Detects the container format of `src` from its first bytes. Returns the
 * format name ("jpeg", "png", "webp", ...) or NULL when unknown. Static storage.
 */
AIMARK_API const char *aimark_format_detect(aimark_source *src);

/** Number of supported formats, and the name of the i-th (NULL past the end). */
AIMARK_API size_t aimark_format_count(void);
AIMARK_API const char *aimark_format_name(size_t i);

/** Detects from a file name's extension ("x.JPG" -> "jpeg"); NULL when unknown. */
AIMARK_API const char *aimark_format_from_extension(const char *path);

#ifdef __cplusplus
}
#endif
#endif

/*
 * aimark/io.h - where input comes from and where output goes.
 *
 * A source is random-access, read-only input: a memory block, a file, or the
 * caller's callbacks. Parsers only read through a source, so services can
 * label outputs held in memory and fuzzers need no files.
 *
 * A sink receives output sequentially: a growable memory buffer, or a file
 * written to a temporary name beside the destination and renamed into place
 * only when aimark_sink_commit() succeeds, so a failure never leaves a
 * half-written or truncated file behind.
 *
 * THREAD SAFETY: a source or sink is used by one thread at a time. Distinct
 * handles are independent.
 */
#ifndef AIMARK_IO_H
#define AIMARK_IO_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct aimark_source aimark_source;
typedef struct aimark_sink aimark_sink;

/** Callbacks for a caller-provided source. */
typedef struct aimark_source_callbacks {
	unsigned int version; /* AIMARK_SOURCE_CALLBACKS_VERSION */
	/* Reads exactly `len` bytes at `offset` into `dst`; returns 0 or -1. */
	int (*read_at)(void *user, uint64_t offset, void *dst, size_t len);
	uint64_t size;        /* total size in bytes */
	void *user;
	void (*close)(void *user); /* optional, called by aimark_source_free */
} aimark_source_callbacks;

#define AIMARK_SOURCE_CALLBACKS_VERSION 1

/**
 * Creates a source over `len` bytes at `data`. The bytes are borrowed: they
 * must outlive the source. Returns 0, AIMARK_EINVAL or AIMARK_ENOMEM.
 */
AIMARK_API AIMARK_NODISCARD int aimark_source_new_memory(aimark_source **out, const void *data, size_t len);

/**
 * Opens `path` for reading. The name is kept for messages. Returns 0,
 * AIMARK_EIO (cannot open or stat; message names the file) or AIMARK_ENOMEM.
 */
AIMARK_API AIMARK_NODISCARD int aimark_source_new_file(aimark_source **out, const char *path);

/** Wraps caller callbacks (copied). Returns 0, AIMARK_EINVAL or AIMARK_ENOMEM. */
AIMARK_API AIMARK_NODISCARD int aimark_source_new_callbacks(aimark_source **out, const aimark_source_callbacks *cb);

/** Size of the source in bytes. */
AIMARK_API uint64_t aimark_source_size(const aimark_source *src);

/** The name given at creation (the path for files, "<memory>" otherwise). */
AIMARK_API const char *aimark_source_name(const aimark_source *src);

/**
 * Reads exactly `len` bytes at `offset`. Returns 0, or AIMARK_EFORMAT when the
 * range passes the end (truncated input), or AIMARK_EIO.
 */
AIMARK_API AIMARK_NODISCARD int aimark_source_read(aimark_source *src, uint64_t offset, void *dst, size_t len);

/** Closes and frees. Accepts NULL. */
AIMARK_API void aimark_source_free(aimark_source *src);

/** Creates a sink that appends to `buf` (not owned; must outlive the sink). */
AIMARK_API AIMARK_NODISCARD int aimark_sink_new_buffer(aimark_sink **out, aimark_buf *buf);

/**
 * Creates a sink that writes a temporary file in the directory of `path` and
 * renames it to `path` on commit. When `overwrite` is 0 and `path` exists,
 * returns AIMARK_EEXISTS. The new file takes the mode of `mode_from` when it
 * names an existing file, otherwise 0644 less the umask.
 */
AIMARK_API AIMARK_NODISCARD int aimark_sink_new_file(aimark_sink **out, const char *path, int overwrite, const char *mode_from);

/** Appends `len` bytes. Returns 0, AIMARK_EIO or AIMARK_ENOMEM. */
AIMARK_API AIMARK_NODISCARD int aimark_sink_write(aimark_sink *sink, const void *data, size_t len);

/** Bytes written so far. */
AIMARK_API uint64_t aimark_sink_written(const aimark_sink *sink);

/**
 * Finishes the output: flushes, fsyncs and renames a file sink into place.
 * Returns 0 or AIMARK_EIO. A sink freed without commit discards its output
 * (a file sink removes its temporary file).
 */
AIMARK_API AIMARK_NODISCARD int aimark_sink_commit(aimark_sink *sink);

/** Frees; discards uncommitted output. Accepts NULL. */
AIMARK_API void aimark_sink_free(aimark_sink *sink);

#ifdef __cplusplus
}
#endif
#endif

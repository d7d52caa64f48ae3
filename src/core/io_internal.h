/* Private source/sink helpers. */
#ifndef AIMARK_CORE_IO_INTERNAL_H
#define AIMARK_CORE_IO_INTERNAL_H

#include "aimark/io.h"

/* The bytes of a memory source, or NULL for other kinds. */
const unsigned char *aimark__source_memory(const aimark_source *src);

/*
 * Makes the whole source available as one block: for memory sources points
 * `*data` at the caller's bytes (no copy), otherwise reads into `storage`.
 * Fails with AIMARK_ELIMIT when the source is larger than `max_size`.
 */
int aimark__source_load(aimark_source *src, uint64_t max_size, aimark_buf *storage, const unsigned char **data);

/*
 * Memory sinks: the output will be about `bytes` long, so the first write
 * makes room for that much at once (later writes still grow as needed).
 */
void aimark__sink_expect(aimark_sink *sink, uint64_t bytes);

/* Copies `len` bytes at `offset` of `src` to `sink` in bounded chunks. */
int aimark__sink_copy_range(aimark_sink *sink, aimark_source *src, uint64_t offset, uint64_t len);

#endif

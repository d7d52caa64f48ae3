/*
 * Private ZIP archive editing for the OOXML backend: read the central
 * directory of an archive held in memory, extract small entries, and write
 * a new archive in which every entry is copied raw (local header, compressed
 * bytes and data descriptor untouched) except the few that are replaced or
 * added. ZIP64 archives are read; the rewritten archive uses 32-bit fields
 * (documents are limited to 256 MiB) and fails with AIMARK_EUNSUPPORTED when
 * an entry needs 64-bit sizes.
 */
#ifndef AIMARK_FORMAT_ZIP_EDIT_H
#define AIMARK_FORMAT_ZIP_EDIT_H

#include <stddef.h>
#include <stdint.h>

#include "aimark/common.h"
#include "aimark/io.h"

typedef struct aimark__zip_entry {
	const unsigned char *name; /* into the central directory, not NUL-terminated */
	size_t name_len;
	uint16_t version_made, version_needed, flags, method, mtime, mdate;
	uint32_t crc;
	uint64_t comp_size, uncomp_size;
	uint16_t internal_attr;
	uint32_t external_attr;
	const unsigned char *extra;   /* central directory extra field */
	size_t extra_len;
	const unsigned char *comment;
	size_t comment_len;
	uint64_t local_offset;        /* local file header */
	uint64_t local_name_end;      /* local_offset + 30 + name length */
	uint64_t data_offset;         /* compressed data */
	uint64_t end_offset;          /* after the data and any data descriptor */
} aimark__zip_entry;

typedef struct aimark__zip {
	const unsigned char *data;    /* borrowed: the whole archive */
	size_t size;
	aimark__zip_entry *entries;   /* central directory order */
	size_t n_entries;
	int zip64;                    /* the archive uses ZIP64 records */
	uint64_t first_offset;        /* smallest local header offset (prefix data before it) */
	const unsigned char *comment; /* archive comment */
	size_t comment_len;
} aimark__zip;

/*
 * Parses the end record(s) and the central directory of `data`, checking
 * every local header. `what` names the format in messages ("OOXML").
 * Returns 0, AIMARK_EFORMAT (message names the problem and offset),
 * AIMARK_EUNSUPPORTED (multi-disk archives) or AIMARK_ENOMEM.
 */
int aimark__zip_open(aimark__zip *zip, const unsigned char *data, size_t size, const char *what);
void aimark__zip_close(aimark__zip *zip);

/* The first entry named exactly `name` (ASCII case-insensitive when `nocase`), or NULL. */
const aimark__zip_entry *aimark__zip_find(const aimark__zip *zip, const char *name, int nocase);

/*
 * Appends the uncompressed bytes of `e` to `out` (stored or deflated, CRC-32
 * checked). Fails with AIMARK_ELIMIT past `max` bytes, AIMARK_EUNSUPPORTED
 * for encrypted entries or other methods, AIMARK_EFORMAT for bad data.
 */
int aimark__zip_extract(const aimark__zip *zip, const aimark__zip_entry *e, size_t max, aimark_buf *out);

/* New content for an entry (replaced in place) or a new entry (appended). */
typedef struct aimark__zip_put {
	const char *name;
	const unsigned char *data;
	size_t len;
} aimark__zip_put;

/*
 * Writes the archive to `sink`: prefix bytes and every entry raw, in the
 * original order, except entries named in `puts`, which are written deflated
 * at their place; puts naming no entry are appended after the last entry.
 * A new central directory and end record follow (archive comment kept).
 */
int aimark__zip_write(const aimark__zip *zip, const aimark__zip_put *puts, size_t n_puts, aimark_sink *sink);

#endif

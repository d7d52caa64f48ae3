/*
 * EBML (Matroska, WebM) element helpers: bounds-checked element headers
 * (variable-length IDs and sizes, unknown sizes), encoders, and the CRC-32
 * that Matroska's CRC-32 elements hold. Used by mkv_meta.c.
 */
#ifndef AIMARK_FORMAT_EBML_H
#define AIMARK_FORMAT_EBML_H

#include <stddef.h>
#include <stdint.h>

#include "aimark/common.h"
#include "aimark/io.h"

#define AIMARK__EBML_MAX_DEPTH 16

/* Element IDs (with their length marker bits, as written in files). */
#define AIMARK__EBML_ID_HEADER 0x1A45DFA3u
#define AIMARK__EBML_ID_DOCTYPE 0x4282u
#define AIMARK__EBML_ID_VOID 0xECu
#define AIMARK__EBML_ID_CRC32 0xBFu
#define AIMARK__MKV_ID_SEGMENT 0x18538067u
#define AIMARK__MKV_ID_SEEKHEAD 0x114D9B74u
#define AIMARK__MKV_ID_SEEK 0x4DBBu
#define AIMARK__MKV_ID_SEEKID 0x53ABu
#define AIMARK__MKV_ID_SEEKPOSITION 0x53ACu
#define AIMARK__MKV_ID_INFO 0x1549A966u
#define AIMARK__MKV_ID_TRACKS 0x1654AE6Bu
#define AIMARK__MKV_ID_CLUSTER 0x1F43B675u
#define AIMARK__MKV_ID_CUES 0x1C53BB6Bu
#define AIMARK__MKV_ID_ATTACHMENTS 0x1941A469u
#define AIMARK__MKV_ID_CHAPTERS 0x1043A770u
#define AIMARK__MKV_ID_TAGS 0x1254C367u
#define AIMARK__MKV_ID_TAG 0x7373u
#define AIMARK__MKV_ID_TARGETS 0x63C0u
#define AIMARK__MKV_ID_TAGTRACKUID 0x63C5u
#define AIMARK__MKV_ID_TAGEDITIONUID 0x63C9u
#define AIMARK__MKV_ID_TAGCHAPTERUID 0x63C4u
#define AIMARK__MKV_ID_TAGATTACHMENTUID 0x63C6u
#define AIMARK__MKV_ID_SIMPLETAG 0x67C8u
#define AIMARK__MKV_ID_TAGNAME 0x45A3u
#define AIMARK__MKV_ID_TAGSTRING 0x4487u
#define AIMARK__MKV_ID_TAGBINARY 0x4485u

typedef struct aimark__ebml_elem {
	uint64_t offset;  /* first byte of the ID, in the file */
	uint32_t id;      /* with its length marker, as written */
	uint8_t id_len;   /* 1..4 */
	uint8_t size_len; /* 1..8 */
	int unknown;      /* the size field was all ones ("unknown size") */
	uint64_t size;    /* data bytes; for an unknown size, what remains of the parent */
	uint64_t data;    /* offset of the data */
} aimark__ebml_elem;

/* The whole element: header and data. */
static inline uint64_t aimark__ebml_total(const aimark__ebml_elem *e) { return e->data - e->offset + e->size; }

/*
 * Decodes the element header at `off` from `avail` bytes at `hdr`; the parent
 * ends at `end`. A known size passing `end` fails with AIMARK_EFORMAT and a
 * message naming the element and offset.
 */
int aimark__ebml_decode_header(const unsigned char *hdr, size_t avail, uint64_t off, uint64_t end, aimark__ebml_elem *el);

/* Reads and decodes the element header at `off` of `src`. */
int aimark__ebml_read_header(aimark_source *src, uint64_t off, uint64_t end, aimark__ebml_elem *el);

/* Decodes an element header at `pos` inside memory `p[0..len)`; `base` is the file offset of p[0]. */
int aimark__ebml_parse_mem(const unsigned char *p, size_t len, size_t pos, uint64_t base, aimark__ebml_elem *el);

/* Bytes needed to write `size` as a size field (1..8). */
size_t aimark__ebml_size_width(uint64_t size);

/* Largest size a `width`-byte size field can hold (the all-ones value means "unknown"). */
uint64_t aimark__ebml_size_max(size_t width);

/* Appends an ID as written (1..4 bytes). */
int aimark__ebml_put_id(aimark_buf *out, uint32_t id);

/* Appends a size field `width` bytes wide (0: the fewest). AIMARK_EINVAL if it does not fit. */
int aimark__ebml_put_size(aimark_buf *out, uint64_t size, size_t width);

/* Appends a whole element: ID, size, data. */
int aimark__ebml_put_element(aimark_buf *out, uint32_t id, const void *data, size_t len);

/* Appends an unsigned integer element, big-endian in the fewest bytes (at least `min_width`). */
int aimark__ebml_put_uint(aimark_buf *out, uint32_t id, uint64_t value, size_t min_width);

/*
 * Writes the header of a Void element `total` bytes long (total >= 2) into
 * `hdr` and returns its length; the caller writes total - length filler
 * bytes after it.
 */
size_t aimark__ebml_void_header(unsigned char hdr[9], uint64_t total);

/* Reads an unsigned integer element's data (0..8 bytes). */
int aimark__ebml_get_uint(const unsigned char *p, size_t len, uint64_t *out);

/* CRC-32 (IEEE 802.3, reflected), as stored little-endian in Matroska CRC-32 elements. */
uint32_t aimark__ebml_crc32(const void *data, size_t len);

#endif

/*
 * ISO base media file format (MP4, MOV, M4A, 3GP) box helpers: bounds-checked
 * box headers read from a source or from memory, and box headers written to
 * a buffer. Used by mp4_meta.c.
 */
#ifndef AIMARK_FORMAT_BMFF_H
#define AIMARK_FORMAT_BMFF_H

#include <stddef.h>
#include <stdint.h>

#include "aimark/common.h"
#include "aimark/io.h"

#define AIMARK__FOURCC(a, b, c, d) \
	(((uint32_t)(unsigned char)(a) << 24) | ((uint32_t)(unsigned char)(b) << 16) | \
	 ((uint32_t)(unsigned char)(c) << 8) | (uint32_t)(unsigned char)(d))

/* Boxes nested deeper than this are refused (recursion bombs). */
#define AIMARK__BMFF_MAX_DEPTH 16

/* The XMP box type: uuid BE7ACFCB-97A9-42E8-9C71-999491E3AFAC. */
extern const unsigned char aimark__bmff_xmp_uuid[16];

typedef struct aimark__bmff_box {
	uint64_t offset;   /* first byte of the header, in the file */
	uint64_t size;     /* the whole box, header included */
	uint32_t type;
	uint32_t hdr_len;  /* 8, or 16 with a 64-bit size; 16 more for 'uuid' */
	int large;         /* the header used the 64-bit size form */
	int to_end;        /* the size field was 0: the box runs to the end of its parent */
	unsigned char uuid[16]; /* the extended type of a 'uuid' box */
} aimark__bmff_box;

/*
 * Decodes the box header at `off`; the parent's payload ends at `end`.
 * `avail` bytes starting at `hdr` are the file bytes at `off` (at least
 * min(32, end - off) of them). Sizes that are smaller than the header or pass
 * `end` fail with AIMARK_EFORMAT and a message naming the box and offset.
 */
int aimark__bmff_decode_header(const unsigned char *hdr, size_t avail, uint64_t off, uint64_t end,
			       aimark__bmff_box *box);

/* Reads and decodes the box header at `off` of `src` (parent payload ends at `end`). */
int aimark__bmff_read_header(aimark_source *src, uint64_t off, uint64_t end, aimark__bmff_box *box);

/*
 * Decodes a box header inside a memory block `p` of `len` bytes at `pos`;
 * `base` is the file offset of p[0] (for messages and box->offset).
 */
int aimark__bmff_parse_mem(const unsigned char *p, size_t len, size_t pos, uint64_t base, aimark__bmff_box *box);

/* The type as text for messages: 'moov', or 0xA9746F6F when not printable. */
const char *aimark__bmff_type_name(uint32_t type, char buf[16]);

/* Total size of a box with `payload` bytes after its header (header_extra: 16 for uuid). */
uint64_t aimark__bmff_box_size(uint64_t payload, uint32_t header_extra, int force_large);

/*
 * Appends a box header for a box of `size` total bytes: 8 bytes, or 16 with
 * a 64-bit size when `large` is set or the size needs it.
 */
int aimark__bmff_put_header(aimark_buf *out, uint32_t type, uint64_t size, int large);

/* Appends a whole box: header then `len` payload bytes. */
int aimark__bmff_put_box(aimark_buf *out, uint32_t type, const void *payload, size_t len);

/* 1 when every byte of the four-character code is printable ASCII or 0xA9 (QuickTime '©'). */
int aimark__bmff_type_is_plausible(uint32_t type);

#endif

/*
 * Vorbis comment blocks, shared by FLAC (VORBIS_COMMENT metadata block) and
 * Ogg (Vorbis "\x03vorbis" and Opus "OpusTags" comment packets):
 *
 *   vendor_length (u32 LE), vendor string,
 *   count (u32 LE), count x { length (u32 LE), "NAME=value" }
 *
 * The GB 45438 label is the field AIGC=<json> (names compare case-
 * insensitively, as the Vorbis specification says). Whatever follows the
 * last field (Vorbis framing bit, Opus binary data) is the caller's.
 */
#ifndef AIMARK_FORMAT_VORBIS_COMMENT_H
#define AIMARK_FORMAT_VORBIS_COMMENT_H

#include <stddef.h>
#include <stdint.h>

#include "aimark/common.h"
#include "format.h"

#define AIMARK__CARRIER_VORBIS_COMMENT "vorbis-comment" /* FLAC / Ogg field AIGC=<json> */

/* Vendor string written when a block has to be created. */
#define AIMARK__VORBIS_COMMENT_VENDOR "aimark"

/*
 * Parses the block at `data` (`len` bytes available; it may be followed by
 * other bytes). `what` names the container in messages ("FLAC", "Ogg
 * Vorbis"). For every AIGC field adds a carrier to `meta` (when not NULL)
 * at file offset `file_offset` + its position. `*end` (may be NULL)
 * receives the offset just past the last field. Returns the number of AIGC
 * fields (>= 0), or AIMARK_EFORMAT naming the problem and its offset, or
 * AIMARK_ENOMEM.
 */
int aimark__vorbis_comment_read(const unsigned char *data, size_t len, const char *what, uint64_t file_offset,
				aimark__meta *meta, size_t *end);

/*
 * Appends to `out` the block with AIGC=`json`: the first AIGC field is
 * replaced in place and later ones dropped (one label per file), or the
 * field is appended when absent; the vendor string and every other field
 * are kept byte for byte. `data` NULL (len 0) builds a new block with the
 * vendor AIMARK__VORBIS_COMMENT_VENDOR. `*end` as for read. Returns 0,
 * AIMARK_EFORMAT (the old block is malformed), AIMARK_ELIMIT (a label of
 * 4 GiB or more) or AIMARK_ENOMEM.
 */
int aimark__vorbis_comment_set(const unsigned char *data, size_t len, const char *what, const char *json,
			       size_t json_len, aimark_buf *out, size_t *end);

#endif

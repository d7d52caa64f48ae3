/*
 * ID3v2 tags (versions 2.2, 2.3 and 2.4): find and set the GB 45438 label,
 * a TXXX (v2.2: TXX) user text frame whose description is "AIGC".
 * Used by MP3 (tags at the start and, with a footer, at the end) and WAV
 * ("id3 " chunks).
 *
 * Reading undoes unsynchronisation (tag level in v2.2/v2.3, frame level or
 * tag level in v2.4), skips extended headers, grouping bytes and data
 * length indicators, and decodes the four text encodings to UTF-8.
 * Compressed or encrypted frames are reported as findings, not read.
 */
#ifndef AIMARK_FORMAT_ID3_H
#define AIMARK_FORMAT_ID3_H

#include <stddef.h>
#include <stdint.h>

#include "aimark/common.h"
#include "format.h"

#define AIMARK__CARRIER_ID3_TXXX "id3-txxx" /* ID3v2 TXXX frame described AIGC */

#define AIMARK__ID3_HEADER_SIZE 10

/*
 * Checks a 10-byte header ("ID3") or, with `footer` set, a v2.4 footer
 * ("3DI") at `p`, and gives the total tag size in bytes: header, body and
 * footer when present. Returns 0, or AIMARK_EFORMAT when the bytes are not
 * a valid header (unknown version, size not syncsafe).
 */
int aimark__id3_header_parse(const unsigned char *p, int footer, uint64_t *total);

/*
 * Finds the TXXX "AIGC" frames of the whole tag `tag` (`len` bytes, header
 * included) and adds each value as a carrier to `meta` (file offset
 * `file_offset` + the frame's position). `what` names the container in
 * messages ("MP3"). Damaged frames after the last good one are reported as
 * findings, and so is a tag that cannot be read at all (bad header or
 * extended header, compressed v2.2 tag: "id3-unreadable"). Returns the
 * number of AIGC frames (>= 0) or AIMARK_ENOMEM.
 */
int aimark__id3_find_aigc(const unsigned char *tag, size_t len, const char *what, uint64_t file_offset,
			  aimark__meta *meta);

/*
 * Appends to `out` the tag rewritten with TXXX "AIGC" = `json`:
 *  - `tag` NULL: a new ID3v2.4 tag holding only that frame (UTF-8);
 *  - otherwise the same version (v2.2 TXX, v2.3 ISO-8859-1 or UTF-16,
 *    v2.4 UTF-8), the first AIGC frame replaced in place, later ones
 *    dropped, the frame appended after the last frame when absent, every
 *    other frame kept byte for byte. When the result fits in the old tag's
 *    size the padding is adjusted so the tag keeps its size. The extended
 *    header is dropped (its CRC and sizes would be stale); unsynchronisation
 *    and the footer are kept.
 * Returns 0, AIMARK_EFORMAT (invalid header), AIMARK_EUNSUPPORTED (a v2.2
 * compressed tag), AIMARK_ELIMIT (over the 256 MiB ID3v2 limit), AIMARK_ENOMEM.
 */
int aimark__id3_set_aigc(const unsigned char *tag, size_t len, const char *what, const char *json, size_t json_len,
			 aimark_buf *out);

#endif

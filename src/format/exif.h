/*
 * EXIF (TIFF) blocks as found in JPEG APP1 ("Exif\0\0" + TIFF) and PNG eXIf
 * (TIFF only): find and replace a GB 45438 label in UserComment (0x9286, in
 * the Exif IFD) or ImageDescription (0x010E, in IFD0). Bounds-checked walk
 * of IFD0 and the Exif IFD only; loops and out-of-range offsets are errors.
 */
#ifndef AIMARK_FORMAT_EXIF_H
#define AIMARK_FORMAT_EXIF_H

#include <stddef.h>
#include <stdint.h>

#include "aimark/common.h"
#include "aimark/findings.h"

#define AIMARK__EXIF_TAG_USERCOMMENT 0x9286
#define AIMARK__EXIF_TAG_IMAGEDESCRIPTION 0x010E

/*
 * `tiff` starts with "II*\0" or "MM\0*". If UserComment or ImageDescription
 * holds text containing "AIGC", appends that text to `text` (UserComment's
 * 8-byte character code removed, trailing NULs and spaces trimmed), sets
 * *tag to the tag found, and returns 0. AIMARK_ENOTFOUND when there is no
 * such text; AIMARK_EFORMAT for a malformed block.
 */
int aimark__exif_find_aigc(const unsigned char *tiff, size_t len, aimark_buf *text, uint16_t *tag, aimark_findings *findings);

/*
 * Returns (appended to `out`) a copy of the TIFF block with the value of
 * `tag` (UserComment: written as "ASCII\0\0\0" + text; ImageDescription:
 * text + NUL) replaced, the entry's count and offset updated, and the old
 * value bytes zeroed. The new value goes into the old value's space when it
 * fits; else in place of the old value when that was the block's tail (so
 * relabelling does not grow the block); else it is appended. Nothing else
 * moves, so every other offset stays valid. AIMARK_ENOTFOUND when the tag is
 * absent, AIMARK_EFORMAT for a malformed block, AIMARK_EINVAL for another
 * tag, AIMARK_ELIMIT past the size limits.
 */
int aimark__exif_replace_text(const unsigned char *tiff, size_t len, uint16_t tag, const char *text, size_t text_len, aimark_buf *out);

#endif

/*
 * The bits of Unicode the text layers need: lenient UTF-8 decoding, NFC
 * (tables generated from Unicode 14.0 by gen_unicode_tables.py), and a few
 * character classes (white space, wide East Asian, Han ideographs).
 */
#ifndef AIMARK_TEXT_UNICODE_H
#define AIMARK_TEXT_UNICODE_H

#include <stddef.h>
#include <stdint.h>

#include "aimark/common.h"

typedef struct aimark__uni_ccc_range {
	uint32_t first, last;
	unsigned char ccc;
} aimark__uni_ccc_range;

typedef struct aimark__uni_decomp_entry {
	uint32_t cp;
	uint16_t offset;
	uint8_t len;
} aimark__uni_decomp_entry;

typedef struct aimark__uni_comp_entry {
	uint32_t first, second, composite;
} aimark__uni_comp_entry;

extern const char aimark__uni_version[];
extern const aimark__uni_ccc_range aimark__uni_ccc[];
extern const size_t aimark__uni_ccc_count;
extern const aimark__uni_decomp_entry aimark__uni_decomp[];
extern const size_t aimark__uni_decomp_count;
extern const uint32_t aimark__uni_decomp_data[];
extern const aimark__uni_comp_entry aimark__uni_comp[];
extern const size_t aimark__uni_comp_count;
extern const uint32_t aimark__uni_starter_seconds[];
extern const size_t aimark__uni_starter_seconds_count;

#define AIMARK__UNI_REPLACEMENT 0xFFFDu

/*
 * Decodes the code point at s[i] (i < len). Malformed UTF-8 (overlong,
 * surrogate, beyond U+10FFFF, truncated, stray continuation) yields U+FFFD
 * for its maximal ill-formed subpart, as Unicode recommends. Returns the
 * number of bytes consumed (at least 1); *valid is 0 for a replacement.
 */
size_t aimark__utf8_decode(const unsigned char *s, size_t len, size_t i, uint32_t *cp, int *valid);

/* Number of bytes of the UTF-8 encoding of cp (1..4). */
size_t aimark__utf8_len(uint32_t cp);
/* Appends the UTF-8 encoding of `cp` (a scalar value). */
int aimark__utf8_append(aimark_buf *out, uint32_t cp);

/* Canonical combining class. */
unsigned aimark__uni_ccc_of(uint32_t cp);

/*
 * Appends the NFC form of `cps[0..n)` to `out` (as UTF-8). Input from
 * hostile documents is fine: canonical reordering uses a counting sort, so
 * long runs of combining marks cost linear time.
 */
int aimark__uni_nfc(const uint32_t *cps, size_t n, aimark_buf *out);

/*
 * 1 when NFC never joins `cp` with anything before it (a starter that is not
 * the second character of any composition): text may be normalised in
 * pieces split before such a character.
 */
int aimark__uni_nfc_boundary(uint32_t cp);

/* Unicode white space (White_Space=yes). */
int aimark__uni_is_space(uint32_t cp);
/* Wide East Asian characters (Han, kana, Hangul, CJK punctuation, full-width forms). */
int aimark__uni_is_wide(uint32_t cp);
/* Han ideographs (the base characters of ideographic variation sequences). */
int aimark__uni_is_han(uint32_t cp);

#endif

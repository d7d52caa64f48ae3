/*
 * EXIF (TIFF) blocks: find and replace a GB 45438 label held in UserComment
 * (0x9286) or ImageDescription (0x010E).
 *
 * Only IFD0 and the Exif IFD it points to are walked; every count, size and
 * offset is checked against the block before use. Replacing appends the new
 * value at the end of the block and repoints the one entry, so no other
 * offset in the block changes.
 */
#include <string.h>

#include "core/findings_internal.h"
#include "core/internal.h"
#include "format/exif.h"
#include "format/format.h"

#define EXIF_TAG_EXIF_IFD 0x8769
#define EXIF_MAX_ENTRIES 1000u
#define EXIF_TYPE_BYTE 1
#define EXIF_TYPE_ASCII 2
#define EXIF_TYPE_LONG 4
#define EXIF_TYPE_UNDEFINED 7
#define EXIF_TYPE_IFD 13

typedef struct exif_block {
	const unsigned char *p;
	size_t len;
	int be;
} exif_block;

/* One IFD entry and where its value lives. */
typedef struct exif_entry {
	size_t pos;          /* offset of the 12-byte entry */
	uint16_t tag, type;
	uint32_t count;
	size_t val_off, val_len;
	int is_inline;       /* value held in the entry itself (<= 4 bytes) */
	int in_exif_ifd;
} exif_entry;

/* Text-bearing entries, in the order they are preferred. */
enum { CAND_USERCOMMENT, CAND_USERCOMMENT_IFD0, CAND_DESCRIPTION, CAND_COUNT };

typedef struct exif_layout {
	size_t ifd0, ifd0_n;
	int has_exif;
	size_t exif_ifd, exif_n;
	int present[CAND_COUNT];
	exif_entry cand[CAND_COUNT];
} exif_layout;

static uint16_t rd16(const exif_block *b, size_t off)
{
	return b->be ? aimark__be16(b->p + off) : aimark__le16(b->p + off);
}

static uint32_t rd32(const exif_block *b, size_t off)
{
	return b->be ? aimark__be32(b->p + off) : aimark__le32(b->p + off);
}

static void wr16(unsigned char *p, int be, uint16_t v)
{
	if (be) {
		aimark__put_be16(p, v);
	} else {
		p[0] = (unsigned char)v;
		p[1] = (unsigned char)(v >> 8);
	}
}

static void wr32(unsigned char *p, int be, uint32_t v)
{
	if (be)
		aimark__put_be32(p, v);
	else
		aimark__put_le32(p, v);
}

static unsigned type_size(uint16_t type)
{
	switch (type) {
	case 1: case 2: case 6: case 7: return 1;
	case 3: case 8: return 2;
	case 4: case 9: case 11: case 13: return 4;
	case 5: case 10: case 12: return 8;
	default: return 0;
	}
}

static int open_block(const unsigned char *tiff, size_t len, exif_block *b)
{
	RETURN_IF(tiff == NULL || len < 8, AIMARK_EFORMAT, "EXIF: block of %zu bytes is shorter than a TIFF header", len);
	if (memcmp(tiff, "II*\0", 4) == 0)
		b->be = 0;
	else if (memcmp(tiff, "MM\0*", 4) == 0)
		b->be = 1;
	else
		return aimark__error_set(AIMARK_EFORMAT, "EXIF: no TIFF byte-order mark (II*\\0 or MM\\0*) at offset 0");
	b->p = tiff;
	b->len = len;
	return 0;
}

/* Checks the IFD at `off` fits and returns its entry count. */
static int check_ifd(const exif_block *b, uint32_t off, const char *what, size_t *n)
{
	RETURN_IF(off < 8 || off > b->len || b->len - off < 2, AIMARK_EFORMAT,
		  "EXIF: %s offset %u is outside the %zu-byte block", what, off, b->len);
	size_t count = rd16(b, off);
	RETURN_IF(count > EXIF_MAX_ENTRIES, AIMARK_EFORMAT, "EXIF: %s at offset %u claims %zu entries (limit %u)", what,
		  off, count, EXIF_MAX_ENTRIES);
	RETURN_IF((b->len - off - 2) / 12 < count, AIMARK_EFORMAT,
		  "EXIF: %s at offset %u with %zu entries passes the end of the %zu-byte block", what, off, count, b->len);
	*n = count;
	return 0;
}

/* Reads entry `pos` and locates its value, bounds-checked. */
static int read_entry(const exif_block *b, size_t pos, exif_entry *e)
{
	memset(e, 0, sizeof *e);
	e->pos = pos;
	e->tag = rd16(b, pos);
	e->type = rd16(b, pos + 2);
	e->count = rd32(b, pos + 4);
	unsigned size = type_size(e->type);
	RETURN_IF(size == 0, AIMARK_EFORMAT, "EXIF: tag 0x%04x at offset %zu has unknown type %u", e->tag, pos, e->type);
	uint64_t total = (uint64_t)e->count * size; /* at most 2^32 * 8: no overflow in 64 bits */
	if (total <= 4) {
		e->is_inline = 1;
		e->val_off = pos + 8;
		e->val_len = (size_t)total;
		return 0;
	}
	uint32_t off = rd32(b, pos + 8);
	RETURN_IF(off > b->len || total > b->len - off, AIMARK_EFORMAT,
		  "EXIF: tag 0x%04x at offset %zu: value of %llu bytes at offset %u passes the end of the %zu-byte block",
		  e->tag, pos, (unsigned long long)total, off, b->len);
	e->val_off = off;
	e->val_len = (size_t)total;
	return 0;
}

static int walk(const exif_block *b, exif_layout *l)
{
	memset(l, 0, sizeof *l);
	uint32_t ifd0 = rd32(b, 4);
	RETURN_IF_ERR(check_ifd(b, ifd0, "IFD0", &l->ifd0_n));
	l->ifd0 = ifd0;
	uint32_t exif_off = 0;
	for (size_t i = 0; i < l->ifd0_n; i++) {
		size_t pos = ifd0 + 2 + 12 * i;
		uint16_t tag = rd16(b, pos);
		exif_entry e;
		if (tag == EXIF_TAG_EXIF_IFD && !l->has_exif) {
			RETURN_IF_ERR(read_entry(b, pos, &e));
			RETURN_IF((e.type != EXIF_TYPE_LONG && e.type != EXIF_TYPE_IFD) || e.count != 1, AIMARK_EFORMAT,
				  "EXIF: Exif IFD pointer at offset %zu has type %u and count %u (want one LONG)", pos,
				  e.type, e.count);
			exif_off = rd32(b, pos + 8);
			l->has_exif = 1;
		} else if (tag == AIMARK__EXIF_TAG_USERCOMMENT && !l->present[CAND_USERCOMMENT_IFD0]) {
			RETURN_IF_ERR(read_entry(b, pos, &l->cand[CAND_USERCOMMENT_IFD0]));
			l->present[CAND_USERCOMMENT_IFD0] = 1;
		} else if (tag == AIMARK__EXIF_TAG_IMAGEDESCRIPTION && !l->present[CAND_DESCRIPTION]) {
			RETURN_IF_ERR(read_entry(b, pos, &l->cand[CAND_DESCRIPTION]));
			l->present[CAND_DESCRIPTION] = 1;
		}
	}
	if (!l->has_exif)
		return 0;
	RETURN_IF(exif_off == ifd0, AIMARK_EFORMAT, "EXIF: Exif IFD pointer loops back to IFD0 (offset %u)", ifd0);
	RETURN_IF_ERR(check_ifd(b, exif_off, "Exif IFD", &l->exif_n));
	l->exif_ifd = exif_off;
	for (size_t i = 0; i < l->exif_n; i++) {
		size_t pos = exif_off + 2 + 12 * i;
		if (rd16(b, pos) != AIMARK__EXIF_TAG_USERCOMMENT)
			continue;
		RETURN_IF_ERR(read_entry(b, pos, &l->cand[CAND_USERCOMMENT]));
		l->cand[CAND_USERCOMMENT].in_exif_ifd = 1;
		l->present[CAND_USERCOMMENT] = 1;
		break;
	}
	return 0;
}

static int contains(const unsigned char *s, size_t len, const char *needle)
{
	size_t n = strlen(needle);
	for (size_t i = 0; len >= n && i <= len - n; i++)
		if (memcmp(s + i, needle, n) == 0)
			return 1;
	return 0;
}

static int append_utf8(aimark_buf *out, uint32_t cp)
{
	unsigned char u[4];
	size_t n;
	if (cp < 0x80) {
		u[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (unsigned char)(0xC0 | (cp >> 6));
		u[1] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (unsigned char)(0xE0 | (cp >> 12));
		u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		u[2] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		u[0] = (unsigned char)(0xF0 | (cp >> 18));
		u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
		u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		u[3] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	return aimark__buf_append(out, u, n);
}

/*
 * UCS-2/UTF-16 to UTF-8, up to the first NUL unit. The byte order is the
 * TIFF's unless a BOM says otherwise, or unless the other order makes
 * clearly more Latin text (some writers ignore the TIFF order).
 */
static int decode_ucs2(const unsigned char *s, size_t len, int be, aimark_buf *out)
{
	size_t n = len / 2, start = 0;
	if (n > 0 && ((s[0] == 0xFE && s[1] == 0xFF) || (s[0] == 0xFF && s[1] == 0xFE))) {
		be = s[0] == 0xFE;
		start = 1;
	} else {
		size_t low_tiff = 0, low_other = 0;
		for (size_t i = 0; i < n; i++) {
			low_tiff += s[2 * i + (be ? 0 : 1)] == 0;
			low_other += s[2 * i + (be ? 1 : 0)] == 0;
		}
		if (low_other > low_tiff)
			be = !be;
	}
	for (size_t i = start; i < n; i++) {
		uint32_t u = be ? aimark__be16(s + 2 * i) : aimark__le16(s + 2 * i);
		if (u == 0)
			break;
		if (u >= 0xD800 && u <= 0xDBFF && i + 1 < n) {
			uint32_t lo = be ? aimark__be16(s + 2 * i + 2) : aimark__le16(s + 2 * i + 2);
			if (lo >= 0xDC00 && lo <= 0xDFFF) {
				u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
				i++;
			}
		}
		if (u >= 0xD800 && u <= 0xDFFF)
			u = 0xFFFD;
		RETURN_IF_ERR(append_utf8(out, u));
	}
	return 0;
}

/* Appends bytes up to the first NUL. */
static int append_cstr(aimark_buf *out, const unsigned char *s, size_t len)
{
	const unsigned char *nul = memchr(s, 0, len);
	return aimark__buf_append(out, s, nul ? (size_t)(nul - s) : len);
}

/* Decodes an entry's text into `out` (trimmed); findings for deviations. */
static int decode_text(const exif_block *b, const exif_entry *e, aimark_buf *out, aimark_findings *findings)
{
	const unsigned char *v = b->p + e->val_off;
	size_t n = e->val_len;
	if (e->tag == AIMARK__EXIF_TAG_USERCOMMENT) {
		if (n >= 8 && memcmp(v, "UNICODE\0", 8) == 0) {
			RETURN_IF_ERR(decode_ucs2(v + 8, n - 8, b->be, out));
		} else if (n >= 8 && (memcmp(v, "ASCII\0\0\0", 8) == 0 || memcmp(v, "\0\0\0\0\0\0\0\0", 8) == 0 ||
				      memcmp(v, "JIS\0\0\0\0\0", 8) == 0)) {
			if (v[0] == 'J')
				RETURN_IF_ERR(aimark__findings_add(findings, AIMARK_SEVERITY_WARNING, "exif-charset",
								   "EXIF: UserComment declares the JIS character code; read as bytes"));
			RETURN_IF_ERR(append_cstr(out, v + 8, n - 8));
		} else {
			RETURN_IF_ERR(append_cstr(out, v, n));
			if (contains(out->ptr ? out->ptr : (const unsigned char *)"", out->size, "AIGC"))
				RETURN_IF_ERR(aimark__findings_add(findings, AIMARK_SEVERITY_WARNING, "exif-charset",
								   "EXIF: UserComment has no 8-byte character code"));
		}
	} else {
		RETURN_IF_ERR(append_cstr(out, v, n));
	}
	while (out->size > 0 && (out->ptr[out->size - 1] == ' ' || out->ptr[out->size - 1] == '\0'))
		out->size--;
	if (out->ptr)
		out->ptr[out->size] = '\0';
	return 0;
}

static uint16_t cand_tag(int c)
{
	return c == CAND_DESCRIPTION ? AIMARK__EXIF_TAG_IMAGEDESCRIPTION : AIMARK__EXIF_TAG_USERCOMMENT;
}

/* Text of candidate `c` when it holds "AIGC": 1 and `text` filled, else 0. */
static int cand_has_label(const exif_block *b, const exif_layout *l, int c, aimark_buf *text, aimark_findings *findings)
{
	aimark__buf_clear(text);
	if (!l->present[c])
		return 0;
	const exif_entry *e = &l->cand[c];
	if (e->type != EXIF_TYPE_UNDEFINED && e->type != EXIF_TYPE_ASCII && e->type != EXIF_TYPE_BYTE)
		return 0;
	RETURN_IF_ERR(decode_text(b, e, text, findings));
	return contains(text->ptr ? text->ptr : (const unsigned char *)"", text->size, "AIGC");
}

int aimark__exif_find_aigc(const unsigned char *tiff, size_t len, aimark_buf *text, uint16_t *tag,
			   aimark_findings *findings)
{
	RETURN_IF(text == NULL, AIMARK_EINVAL, "EXIF: text is NULL");
	exif_block b;
	exif_layout l;
	RETURN_IF_ERR(open_block(tiff, len, &b));
	RETURN_IF_ERR(walk(&b, &l));

	aimark_buf found = AIMARK_BUF_INIT, other = AIMARK_BUF_INIT;
	int rc = 0, first = -1;
	for (int c = 0; c < CAND_COUNT && rc >= 0; c++) {
		rc = cand_has_label(&b, &l, c, first < 0 ? &found : &other, findings);
		if (rc <= 0)
			continue;
		if (first < 0) {
			first = c;
			if (c == CAND_USERCOMMENT_IFD0)
				rc = aimark__findings_add(findings, AIMARK_SEVERITY_WARNING, "exif-misplaced",
							  "EXIF: UserComment is in IFD0 instead of the Exif IFD");
		} else {
			rc = aimark__findings_add(findings, AIMARK_SEVERITY_ERROR, "duplicate-label",
						  "EXIF: both UserComment and ImageDescription hold an AIGC label; "
						  "UserComment is used");
			break;
		}
	}
	if (rc >= 0 && first < 0)
		rc = aimark__error_set(AIMARK_ENOTFOUND, "EXIF: no UserComment or ImageDescription holds an AIGC label");
	if (rc >= 0) {
		rc = aimark__buf_append(text, found.ptr ? found.ptr : (const unsigned char *)"", found.size);
		if (rc == 0 && tag)
			*tag = cand_tag(first);
	}
	aimark_buf_dispose(&found);
	aimark_buf_dispose(&other);
	return rc < 0 ? rc : 0;
}

static int ranges_overlap(size_t a, size_t alen, size_t b, size_t blen)
{
	return a < b + blen && b < a + alen;
}

int aimark__exif_replace_text(const unsigned char *tiff, size_t len, uint16_t tag, const char *text, size_t text_len,
			      aimark_buf *out)
{
	RETURN_IF(out == NULL || (text == NULL && text_len > 0), AIMARK_EINVAL, "EXIF: bad arguments");
	RETURN_IF(tag != AIMARK__EXIF_TAG_USERCOMMENT && tag != AIMARK__EXIF_TAG_IMAGEDESCRIPTION, AIMARK_EINVAL,
		  "EXIF: tag 0x%04x is not UserComment or ImageDescription", tag);
	RETURN_IF(text_len > AIMARK__MAX_METADATA_BLOCK, AIMARK_ELIMIT, "EXIF: text of %zu bytes exceeds the %u-byte limit",
		  text_len, (unsigned)AIMARK__MAX_METADATA_BLOCK);
	exif_block b;
	exif_layout l;
	RETURN_IF_ERR(open_block(tiff, len, &b));
	RETURN_IF_ERR(walk(&b, &l));

	/* the entry find() would report for this tag, else the first present */
	int pick = -1;
	aimark_buf tmp = AIMARK_BUF_INIT;
	for (int c = 0; c < CAND_COUNT; c++) {
		if (!l.present[c] || cand_tag(c) != tag)
			continue;
		int has = cand_has_label(&b, &l, c, &tmp, NULL);
		if (has < 0) {
			aimark_buf_dispose(&tmp);
			return has;
		}
		if (pick < 0 || has) {
			pick = c;
			if (has)
				break;
		}
	}
	aimark_buf_dispose(&tmp);
	RETURN_IF(pick < 0, AIMARK_ENOTFOUND, "EXIF: no tag 0x%04x in IFD0 or the Exif IFD", tag);
	const exif_entry *e = &l.cand[pick];

	/* rewriting an entry of one IFD must not change the other's entries */
	RETURN_IF(l.has_exif && ranges_overlap(l.ifd0, 2 + 12 * l.ifd0_n, l.exif_ifd, 2 + 12 * l.exif_n), AIMARK_EFORMAT,
		  "EXIF: the Exif IFD at offset %zu overlaps IFD0 at offset %zu", l.exif_ifd, l.ifd0);
	if (!e->is_inline) {
		int bad = ranges_overlap(e->val_off, e->val_len, 0, 8) ||
			  ranges_overlap(e->val_off, e->val_len, l.ifd0, 2 + 12 * l.ifd0_n) ||
			  (l.has_exif && ranges_overlap(e->val_off, e->val_len, l.exif_ifd, 2 + 12 * l.exif_n));
		RETURN_IF(bad, AIMARK_EFORMAT, "EXIF: tag 0x%04x value at offset %zu overlaps the header or an IFD", tag,
			  e->val_off);
	}

	size_t prefix = tag == AIMARK__EXIF_TAG_USERCOMMENT ? 8 : 0;
	size_t count = prefix + text_len + (tag == AIMARK__EXIF_TAG_IMAGEDESCRIPTION ? 1 : 0);
	/*
	 * Where the new value goes, so that relabelling does not grow the block
	 * without bound: into the old value's space when it fits; else, when the
	 * old value is the block's tail (as after an earlier replace), in place of
	 * that tail; else appended at the end.
	 */
	int in_place = !e->is_inline && count > 4 && count <= e->val_len;
	size_t base_len = (!e->is_inline && !in_place && e->val_off + e->val_len == len) ? e->val_off : len;
	size_t pad = (count > 4 && !in_place && (base_len & 1)) ? 1 : 0;
	size_t new_off = in_place ? e->val_off : base_len + pad;
	RETURN_IF(count > 4 && (new_off > UINT32_MAX || count > UINT32_MAX - new_off), AIMARK_ELIMIT,
		  "EXIF: the block would pass 4 GiB");

	aimark_buf nb = AIMARK_BUF_INIT;
	int rc = aimark__buf_reserve(&nb, base_len + pad + (count > 4 ? count : 0));
	if (rc < 0)
		return rc;
	aimark__buf_append(&nb, tiff, base_len); /* cannot fail: reserved */
	unsigned char *p = nb.ptr;
	if (!e->is_inline && e->val_off < base_len)
		memset(p + e->val_off, 0, e->val_len);

	unsigned char value_inline[4] = { 0, 0, 0, 0 };
	unsigned char *dst;
	if (in_place) {
		wr32(p + e->pos + 8, b.be, (uint32_t)new_off);
		dst = p + new_off;
	} else if (count > 4) {
		static const unsigned char zero = 0;
		if (pad)
			aimark__buf_append(&nb, &zero, 1);
		p = nb.ptr;
		wr32(p + e->pos + 8, b.be, (uint32_t)new_off);
		nb.size += count;
		dst = p + new_off;
	} else {
		dst = value_inline;
	}
	if (prefix)
		memcpy(dst, "ASCII\0\0\0", 8);
	if (text_len)
		memcpy(dst + prefix, text, text_len);
	if (tag == AIMARK__EXIF_TAG_IMAGEDESCRIPTION)
		dst[prefix + text_len] = '\0';
	if (count <= 4)
		memcpy(p + e->pos + 8, value_inline, 4);
	nb.ptr[nb.size] = '\0';

	wr16(p + e->pos + 2, b.be, tag == AIMARK__EXIF_TAG_USERCOMMENT ? EXIF_TYPE_UNDEFINED : EXIF_TYPE_ASCII);
	wr32(p + e->pos + 4, b.be, (uint32_t)count);
	rc = aimark__buf_append(out, nb.ptr, nb.size);
	aimark_buf_dispose(&nb);
	return rc;
}

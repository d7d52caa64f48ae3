/*
 * JPEG container backend: finds GB 45438 labels in APP1 XMP, in APP1 Exif
 * (UserComment / ImageDescription) and as bare "AIGC{...}" blobs in other
 * APPn or COM segments, and sets the label in all of them on write.
 *
 * The essence is every byte from SOI to EOI except metadata segments: APPn
 * (other than APP14 "Adobe", which changes colour decoding) and COM.
 * See docs/format-jpeg.md.
 */
#include <stdio.h>
#include <string.h>

#include "core/findings_internal.h"
#include "core/internal.h"
#include "core/io_internal.h"
#include "format/exif.h"
#include "format/format.h"
#include "format/xmp.h"

#define M_TEM 0x01
#define M_SOI 0xD8
#define M_EOI 0xD9
#define M_SOS 0xDA
#define M_APP0 0xE0
#define M_APP1 0xE1
#define M_APP14 0xEE
#define M_APP15 0xEF
#define M_COM 0xFE

#define SEG_MAX_PAYLOAD 65533u /* the length field counts itself: 65535 - 2 */
#define MAX_LABEL_SEGMENTS 256 /* more label carriers than this is not a real file */

/* APP1 identifiers, NUL included. */
static const char XMP_ID[] = "http://ns.adobe.com/xap/1.0/";
#define XMP_ID_LEN (sizeof XMP_ID)
static const char XMP_EXT_ID[] = "http://ns.adobe.com/xmp/extension/";
#define XMP_EXT_ID_LEN (sizeof XMP_EXT_ID)
#define EXIF_ID_LEN 6 /* "Exif\0" and a pad byte */
#define ADOBE_MIN_LEN 12 /* libjpeg reads APP14 as Adobe only from 12 payload bytes on */

enum seg_kind { SEG_XMP, SEG_EXIF, SEG_BLOB };

/* A metadata segment write() may replace. Offsets are from the file start. */
typedef struct label_seg {
	enum seg_kind kind;
	uint64_t offset;   /* the segment's 0xFF */
	size_t size;       /* marker + length field + payload */
	int has_label;
	int malformed;     /* XMP that is not well-formed: write refuses to merge into it */
	uint16_t exif_tag;
	size_t blob_from;  /* the JSON object of a bare blob, from the segment start */
	size_t blob_to;
} label_seg;

/* What read() keeps for write() in meta->priv. */
typedef struct jpeg_layout {
	uint64_t file_size;
	uint64_t xmp_insert; /* where a new XMP segment goes when the file has none */
	label_seg *segs;     /* in file order; the first SEG_XMP is the primary one */
	size_t n_segs, cap_segs;
} jpeg_layout;

static void layout_free(void *p)
{
	jpeg_layout *lay = p;
	if (lay == NULL)
		return;
	aimark__free(lay->segs);
	aimark__free(lay);
}

static const char *marker_name(unsigned m, char buf[16])
{
	static const char *const fixed[] = { [0xC4] = "DHT", [0xC8] = "JPG", [0xCC] = "DAC", [0xD8] = "SOI",
		[0xD9] = "EOI", [0xDA] = "SOS", [0xDB] = "DQT", [0xDC] = "DNL", [0xDD] = "DRI", [0xDE] = "DHP",
		[0xDF] = "EXP", [0xFE] = "COM", [0x01] = "TEM" };
	if (m < sizeof fixed / sizeof fixed[0] && fixed[m])
		return fixed[m];
	if (m >= 0xC0 && m <= 0xCF)
		snprintf(buf, 16, "SOF%u", m - 0xC0);
	else if (m >= 0xD0 && m <= 0xD7)
		snprintf(buf, 16, "RST%u", m - 0xD0);
	else if (m >= 0xE0 && m <= 0xEF)
		snprintf(buf, 16, "APP%u", m - 0xE0);
	else if (m >= 0xF0 && m <= 0xFD)
		snprintf(buf, 16, "JPG%u", m - 0xF0);
	else
		snprintf(buf, 16, "reserved");
	return buf;
}

static int starts_with(const unsigned char *p, size_t len, const void *prefix, size_t prefix_len)
{
	return len >= prefix_len && memcmp(p, prefix, prefix_len) == 0;
}

static int is_xmp(const unsigned char *pl, size_t len) { return starts_with(pl, len, XMP_ID, XMP_ID_LEN); }
static int is_xmp_ext(const unsigned char *pl, size_t len) { return starts_with(pl, len, XMP_EXT_ID, XMP_EXT_ID_LEN); }
static int is_exif(const unsigned char *pl, size_t len) { return len >= EXIF_ID_LEN && memcmp(pl, "Exif\0", 5) == 0; }

/* APPn and COM are metadata, except an APP14 that libjpeg reads as Adobe. */
static int is_metadata(unsigned m, const unsigned char *pl, size_t len)
{
	if (m == M_COM)
		return 1;
	if (m < M_APP0 || m > M_APP15)
		return 0;
	return !(m == M_APP14 && len >= ADOBE_MIN_LEN && memcmp(pl, "Adobe", 5) == 0);
}

static size_t find_bytes(const unsigned char *hay, size_t len, const char *needle, size_t nlen)
{
	for (size_t i = 0; nlen <= len && i <= len - nlen; i++) {
		const unsigned char *p = memchr(hay + i, needle[0], len - nlen - i + 1);
		if (p == NULL)
			break;
		i = (size_t)(p - hay);
		if (memcmp(p, needle, nlen) == 0)
			return i;
	}
	return SIZE_MAX;
}

/*
 * End (exclusive) of the JSON object starting at p[from] == '{': braces
 * counted outside strings. When it never closes, the rest of the payload
 * less trailing NULs and white space, and *closed is 0.
 */
static size_t json_extent(const unsigned char *p, size_t len, size_t from, int *closed)
{
	size_t depth = 0;
	int in_str = 0;
	for (size_t i = from; i < len; i++) {
		unsigned char c = p[i];
		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = 0;
		} else if (c == '"') {
			in_str = 1;
		} else if (c == '{') {
			depth++;
		} else if (c == '}' && --depth == 0) {
			*closed = 1;
			return i + 1;
		}
	}
	*closed = 0;
	while (len > from && (p[len - 1] == 0 || p[len - 1] == ' ' || p[len - 1] == '\n' || p[len - 1] == '\r' || p[len - 1] == '\t'))
		len--;
	return len;
}

static int record_seg(jpeg_layout *lay, const label_seg *seg)
{
	RETURN_IF(lay->n_segs >= MAX_LABEL_SEGMENTS, AIMARK_ELIMIT,
		  "JPEG: more than %d metadata segments hold a label (segment at offset %llu)", MAX_LABEL_SEGMENTS,
		  (unsigned long long)seg->offset);
	RETURN_IF_ARRAY_FULL_GROW(lay->segs, lay->cap_segs, lay->n_segs, 4);
	lay->segs[lay->n_segs++] = *seg;
	return 0;
}

static int read_xmp(const unsigned char *pl, size_t plen, label_seg *seg, size_t *n_xmp, aimark__meta *meta, jpeg_layout *lay)
{
	aimark_buf json = AIMARK_BUF_INIT;
	int rc = aimark__xmp_find_aigc((const char *)pl + XMP_ID_LEN, plen - XMP_ID_LEN, &json, meta->findings);
	(*n_xmp)++;
	if (rc == AIMARK_EFORMAT) {
		seg->malformed = 1;
		rc = aimark__findings_add(meta->findings, AIMARK_SEVERITY_WARNING, "xmp-malformed",
					  "JPEG: the XMP packet in APP1 at offset %llu is not well-formed and was not read (%s)",
					  (unsigned long long)seg->offset, aimark_error_last());
	} else if (rc == AIMARK_ENOTFOUND) {
		rc = 0;
	} else if (rc == 0) {
		seg->has_label = 1;
		rc = aimark__meta_add_carrier(meta, AIMARK__CARRIER_XMP, (const char *)json.ptr, json.size, seg->offset);
	}
	aimark_buf_dispose(&json);
	RETURN_IF_ERR(rc);
	if (*n_xmp == 2)
		RETURN_IF_ERR(aimark__findings_add(meta->findings, AIMARK_SEVERITY_WARNING, "xmp-multiple",
						   "JPEG: more than one XMP APP1 segment (the second at offset %llu)",
						   (unsigned long long)seg->offset));
	return *n_xmp == 1 || seg->has_label ? record_seg(lay, seg) : 0;
}

static int read_exif(const unsigned char *pl, size_t plen, label_seg *seg, aimark__meta *meta, jpeg_layout *lay)
{
	aimark_buf text = AIMARK_BUF_INIT;
	uint16_t tag = 0;
	int rc = aimark__exif_find_aigc(pl + EXIF_ID_LEN, plen - EXIF_ID_LEN, &text, &tag, meta->findings);
	if (rc == AIMARK_EFORMAT) {
		rc = aimark__findings_add(meta->findings, AIMARK_SEVERITY_WARNING, "exif-malformed",
					  "JPEG: the Exif block in APP1 at offset %llu is malformed and was not read (%s)",
					  (unsigned long long)seg->offset, aimark_error_last());
	} else if (rc == AIMARK_ENOTFOUND) {
		rc = 0;
	} else if (rc == 0) {
		const char *kind = tag == AIMARK__EXIF_TAG_IMAGEDESCRIPTION ? AIMARK__CARRIER_EXIF_DESCRIPTION
									    : AIMARK__CARRIER_EXIF_USERCOMMENT;
		seg->has_label = 1;
		seg->exif_tag = tag;
		rc = aimark__meta_add_carrier(meta, kind, (const char *)text.ptr, text.size, seg->offset);
		if (rc == 0)
			rc = record_seg(lay, seg);
	}
	aimark_buf_dispose(&text);
	return rc;
}

static int read_blob(const unsigned char *pl, size_t plen, label_seg *seg, aimark__meta *meta, jpeg_layout *lay)
{
	size_t at = find_bytes(pl, plen, "AIGC{", 5);
	if (at == SIZE_MAX)
		return 0;
	int closed;
	size_t from = at + 4, to = json_extent(pl, plen, from, &closed);
	seg->kind = SEG_BLOB;
	seg->has_label = 1;
	seg->blob_from = 4 + from;
	seg->blob_to = 4 + to;
	if (!closed)
		RETURN_IF_ERR(aimark__findings_add(meta->findings, AIMARK_SEVERITY_WARNING, "appn-json-unterminated",
						   "JPEG: the AIGC{ blob in the segment at offset %llu does not close its JSON object",
						   (unsigned long long)seg->offset));
	RETURN_IF_ERR(aimark__meta_add_carrier(meta, AIMARK__CARRIER_JPEG_APPN, (const char *)pl + from, to - from, seg->offset));
	return record_seg(lay, seg);
}

/* A metadata segment (APPn other than Adobe, COM): look for a label. */
static int read_metadata_segment(unsigned m, const unsigned char *d, size_t pos, size_t size, size_t *n_xmp,
				 aimark__meta *meta, jpeg_layout *lay)
{
	const unsigned char *pl = d + pos + 4;
	size_t plen = size - 4;
	label_seg seg = { .offset = pos, .size = size };
	if (m == M_APP1 && is_xmp(pl, plen)) {
		seg.kind = SEG_XMP;
		return read_xmp(pl, plen, &seg, n_xmp, meta, lay);
	}
	if (m == M_APP1 && is_xmp_ext(pl, plen))
		return aimark__findings_add(meta->findings, AIMARK_SEVERITY_INFO, "xmp-extended-ignored",
					    "JPEG: extended XMP in APP1 at offset %llu is not searched for a label (kept on write)",
					    (unsigned long long)pos);
	if (m == M_APP1 && is_exif(pl, plen)) {
		seg.kind = SEG_EXIF;
		return read_exif(pl, plen, &seg, meta, lay);
	}
	return read_blob(pl, plen, &seg, meta, lay);
}

/*
 * Entropy-coded data runs from `from` to the next marker that is neither a
 * stuffed 0xFF00 nor RSTn. Returns that marker's offset in *end.
 */
static int scan_entropy(const unsigned char *d, size_t n, size_t from, size_t sos, size_t *end)
{
	size_t i = from;
	while (i + 1 < n) {
		const unsigned char *p = memchr(d + i, 0xFF, n - 1 - i);
		if (p == NULL)
			break;
		i = (size_t)(p - d);
		unsigned b = d[i + 1];
		if (b == 0x00 || (b >= 0xD0 && b <= 0xD7))
			i += 2;
		else if (b == 0xFF)
			i++; /* fill byte before a marker */
		else {
			*end = i;
			return 0;
		}
	}
	return aimark__error_set(AIMARK_EFORMAT,
				 "JPEG: the entropy-coded data of the scan (SOS at offset %zu) runs to the end of the file without an EOI marker",
				 sos);
}

static int walk(const unsigned char *d, size_t n, aimark__meta *meta, jpeg_layout *lay)
{
	char name[16];
	RETURN_IF(n == 0, AIMARK_EFORMAT, "JPEG: the file is empty");
	RETURN_IF(n < 2 || d[0] != 0xFF || d[1] != M_SOI, AIMARK_EFORMAT, "JPEG: no SOI marker at offset 0 (not a JPEG file)");
	lay->file_size = n;
	lay->xmp_insert = 2;
	RETURN_IF_ERR(aimark__meta_add_essence(meta, 0, 2));
	size_t pos = 2, n_xmp = 0;
	int leading = 1; /* still in the APP0 / APP1 Exif run after SOI */
	for (;;) {
		RETURN_IF(pos >= n, AIMARK_EFORMAT, "JPEG: the file ends at offset %zu without an EOI marker", pos);
		RETURN_IF(d[pos] != 0xFF, AIMARK_EFORMAT, "JPEG: expected a marker at offset %zu, found byte 0x%02X", pos, d[pos]);
		size_t fill = pos;
		while (pos + 1 < n && d[pos + 1] == 0xFF)
			pos++;
		RETURN_IF(pos + 1 >= n, AIMARK_EFORMAT, "JPEG: the file ends inside a marker at offset %zu (no EOI marker)", pos);
		RETURN_IF_ERR(aimark__meta_add_essence(meta, fill, pos - fill));
		unsigned m = d[pos + 1];
		RETURN_IF(m == 0x00, AIMARK_EFORMAT, "JPEG: 0xFF00 at offset %zu is not a marker", pos);
		RETURN_IF(m == M_SOI, AIMARK_EFORMAT, "JPEG: unexpected second SOI marker at offset %zu", pos);
		if (m == M_EOI) {
			RETURN_IF_ERR(aimark__meta_add_essence(meta, pos, 2));
			pos += 2;
			break;
		}
		if (m == M_TEM || (m >= 0xD0 && m <= 0xD7)) {
			RETURN_IF_ERR(aimark__meta_add_essence(meta, pos, 2));
			pos += 2;
			leading = 0;
			continue;
		}
		RETURN_IF(n - pos < 4, AIMARK_EFORMAT, "JPEG: the %s marker (0xFF%02X) at offset %zu is cut off by the end of the file",
			  marker_name(m, name), m, pos);
		size_t len = aimark__be16(d + pos + 2);
		RETURN_IF(len < 2, AIMARK_EFORMAT, "JPEG: segment length %zu of %s (0xFF%02X) at offset %zu is less than 2",
			  len, marker_name(m, name), m, pos);
		RETURN_IF(len > n - pos - 2, AIMARK_EFORMAT,
			  "JPEG: segment length %zu of %s (0xFF%02X) at offset %zu passes the end of the file (%zu bytes)",
			  len, marker_name(m, name), m, pos, n);
		size_t size = 2 + len;
		const unsigned char *pl = d + pos + 4;
		if (is_metadata(m, pl, len - 2))
			RETURN_IF_ERR(read_metadata_segment(m, d, pos, size, &n_xmp, meta, lay));
		else
			RETURN_IF_ERR(aimark__meta_add_essence(meta, pos, size));
		if (leading && (m == M_APP0 || (m == M_APP1 && is_exif(pl, len - 2))))
			lay->xmp_insert = pos + size;
		else
			leading = 0;
		size_t sos = pos;
		pos += size;
		if (m == M_SOS) {
			size_t end = pos;
			RETURN_IF_ERR(scan_entropy(d, n, pos, sos, &end));
			RETURN_IF_ERR(aimark__meta_add_essence(meta, pos, end - pos));
			pos = end;
		}
	}
	if (pos < n)
		RETURN_IF_ERR(aimark__findings_add(meta->findings, AIMARK_SEVERITY_INFO, "trailing-data",
						   "JPEG: %zu bytes after the EOI marker at offset %zu are not part of the image (kept on write)",
						   n - pos, pos - 2));
	return 0;
}

static int jpeg_probe(const unsigned char *head, size_t len)
{
	return len >= 3 && head[0] == 0xFF && head[1] == M_SOI && head[2] == 0xFF;
}

static int jpeg_read(aimark_source *src, aimark__meta *meta)
{
	RETURN_IF(src == NULL || meta == NULL, AIMARK_EINVAL, "JPEG: read needs a source and a meta");
	jpeg_layout *lay = aimark__calloc(1, sizeof *lay);
	RETURN_ENOMEM_IF_NULL(lay);
	if (meta->priv && meta->priv_free)
		meta->priv_free(meta->priv);
	meta->priv = lay;
	meta->priv_free = layout_free;
	RETURN_IF(aimark_source_size(src) == 0, AIMARK_EFORMAT, "JPEG: the file is empty");
	aimark_buf storage = AIMARK_BUF_INIT;
	const unsigned char *d = NULL;
	int rc = aimark__source_load(src, AIMARK__MAX_IMAGE_FILE, &storage, &d);
	if (rc == 0)
		rc = walk(d, (size_t)aimark_source_size(src), meta, lay);
	aimark_buf_dispose(&storage);
	return rc;
}

/* ---- write ---- */

/* One change to the input: `old_size` bytes at `offset` become `bytes`. */
typedef struct edit {
	uint64_t offset;
	size_t old_size;
	aimark_buf bytes;
} edit;

static int seg_begin(aimark_buf *out, unsigned m)
{
	const unsigned char hdr[4] = { 0xFF, (unsigned char)m, 0, 0 };
	return aimark__buf_append(out, hdr, sizeof hdr);
}

/* Fills in the length field once the payload is complete. */
static int seg_finish(aimark_buf *out, const char *what, uint64_t offset)
{
	size_t payload = out->size - 4;
	RETURN_IF(payload > SEG_MAX_PAYLOAD, AIMARK_ELIMIT,
		  "JPEG: the %s segment (offset %llu) with the label needs %zu payload bytes; a JPEG segment holds at most %u",
		  what, (unsigned long long)offset, payload, SEG_MAX_PAYLOAD);
	aimark__put_be16(out->ptr + 2, (uint16_t)(payload + 2));
	return 0;
}

static int build_xmp(const unsigned char *d, const label_seg *seg, uint64_t offset, const aimark__label_write *lw, aimark_buf *out)
{
	const char *packet = NULL;
	size_t plen = 0;
	if (seg) {
		RETURN_IF(seg->malformed, AIMARK_EFORMAT,
			  "JPEG: cannot set the label: the XMP packet in APP1 at offset %llu is not well-formed XML",
			  (unsigned long long)seg->offset);
		packet = (const char *)d + seg->offset + 4 + XMP_ID_LEN;
		plen = seg->size - 4 - XMP_ID_LEN;
	}
	aimark_buf xmp = AIMARK_BUF_INIT;
	int rc = aimark__xmp_set_aigc(packet, plen, lw->bare_json, lw->bare_len, &xmp);
	if (rc < 0)
		aimark__error_prefix("JPEG: XMP in APP1 at offset %llu", (unsigned long long)offset);
	if (rc == 0 && xmp.size > SEG_MAX_PAYLOAD - XMP_ID_LEN)
		rc = aimark__error_set(AIMARK_ELIMIT,
				       "JPEG: the XMP packet with the label is %zu bytes; one APP1 segment holds at most %zu "
				       "(extended XMP is not written)", xmp.size, (size_t)(SEG_MAX_PAYLOAD - XMP_ID_LEN));
	if (rc == 0)
		rc = seg_begin(out, M_APP1);
	if (rc == 0)
		rc = aimark__buf_append(out, XMP_ID, XMP_ID_LEN);
	if (rc == 0)
		rc = aimark__buf_append(out, xmp.ptr, xmp.size);
	if (rc == 0)
		rc = seg_finish(out, "XMP APP1", offset);
	aimark_buf_dispose(&xmp);
	return rc;
}

static int build_exif(const unsigned char *d, const label_seg *seg, const aimark__label_write *lw, aimark_buf *out)
{
	const unsigned char *pl = d + seg->offset + 4;
	size_t plen = seg->size - 4;
	aimark_buf tiff = AIMARK_BUF_INIT;
	int rc = aimark__exif_replace_text(pl + EXIF_ID_LEN, plen - EXIF_ID_LEN, seg->exif_tag, lw->wrapped_json, lw->wrapped_len, &tiff);
	if (rc < 0)
		aimark__error_prefix("JPEG: Exif in APP1 at offset %llu", (unsigned long long)seg->offset);
	if (rc == 0)
		rc = seg_begin(out, M_APP1);
	if (rc == 0)
		rc = aimark__buf_append(out, pl, EXIF_ID_LEN);
	if (rc == 0)
		rc = aimark__buf_append(out, tiff.ptr, tiff.size);
	if (rc == 0)
		rc = seg_finish(out, "Exif APP1", seg->offset);
	aimark_buf_dispose(&tiff);
	return rc;
}

/* Keeps the segment's bytes around the blob's JSON object; "AIGC" stays in front. */
static int build_blob(const unsigned char *d, const label_seg *seg, const aimark__label_write *lw, aimark_buf *out)
{
	const unsigned char *s = d + seg->offset;
	RETURN_IF_ERR(seg_begin(out, s[1]));
	RETURN_IF_ERR(aimark__buf_append(out, s + 4, seg->blob_from - 4));
	RETURN_IF_ERR(aimark__buf_append(out, lw->bare_json, lw->bare_len));
	RETURN_IF_ERR(aimark__buf_append(out, s + seg->blob_to, seg->size - seg->blob_to));
	return seg_finish(out, "AIGC{ blob", seg->offset);
}

static int build_edits(const unsigned char *d, const jpeg_layout *lay, const aimark__label_write *lw, edit *edits, size_t *n_edits)
{
	int have_xmp = 0;
	for (size_t i = 0; i < lay->n_segs; i++) {
		const label_seg *seg = &lay->segs[i];
		int primary = seg->kind == SEG_XMP && !have_xmp;
		if (seg->kind == SEG_XMP)
			have_xmp = 1;
		if (!primary && !seg->has_label)
			continue;
		edit *e = &edits[(*n_edits)++];
		e->offset = seg->offset;
		e->old_size = seg->size;
		switch (seg->kind) {
		case SEG_XMP:
			RETURN_IF_ERR(build_xmp(d, seg, seg->offset, lw, &e->bytes));
			break;
		case SEG_EXIF:
			RETURN_IF_ERR(build_exif(d, seg, lw, &e->bytes));
			break;
		case SEG_BLOB:
			RETURN_IF_ERR(build_blob(d, seg, lw, &e->bytes));
			break;
		}
	}
	if (!have_xmp) {
		edit *e = &edits[(*n_edits)++];
		e->offset = lay->xmp_insert;
		e->old_size = 0;
		RETURN_IF_ERR(build_xmp(d, NULL, lay->xmp_insert, lw, &e->bytes));
	}
	/* File order; an insertion goes before a replacement at the same offset. */
	for (size_t i = 1; i < *n_edits; i++) {
		edit tmp = edits[i];
		size_t j = i;
		while (j > 0 && (edits[j - 1].offset > tmp.offset ||
				 (edits[j - 1].offset == tmp.offset && edits[j - 1].old_size > tmp.old_size))) {
			edits[j] = edits[j - 1];
			j--;
		}
		edits[j] = tmp;
	}
	return 0;
}

/* The unchanged bytes are copied from the source in chunks: only the head of the file is held. */
static int emit(aimark_sink *sink, aimark_source *src, uint64_t n, const edit *edits, size_t n_edits)
{
	uint64_t pos = 0;
	for (size_t i = 0; i < n_edits; i++) {
		RETURN_IF_ERR(aimark__sink_copy_range(sink, src, pos, edits[i].offset - pos));
		RETURN_IF_ERR(aimark_sink_write(sink, edits[i].bytes.ptr, edits[i].bytes.size));
		pos = edits[i].offset + edits[i].old_size;
	}
	return aimark__sink_copy_range(sink, src, pos, n - pos);
}

/* The bytes the edits are built from: every label segment and the XMP insertion point lie in this head. */
static int load_head(aimark_source *src, const jpeg_layout *lay, aimark_buf *storage, const unsigned char **d)
{
	const unsigned char *mem = aimark__source_memory(src);
	if (mem != NULL) {
		*d = mem;
		return 0;
	}
	uint64_t head = lay->xmp_insert;
	for (size_t i = 0; i < lay->n_segs; i++)
		if (lay->segs[i].offset + lay->segs[i].size > head)
			head = lay->segs[i].offset + lay->segs[i].size;
	RETURN_IF(head > lay->file_size, AIMARK_EFORMAT, "JPEG: label segments pass the end of the file");
	RETURN_IF_ERR(aimark__buf_reserve(storage, (size_t)head));
	RETURN_IF_ERR(aimark_source_read(src, 0, storage->ptr, (size_t)head));
	storage->size = (size_t)head;
	*d = storage->ptr;
	return 0;
}

static int jpeg_write(aimark_source *src, const aimark__meta *meta, const aimark__label_provider *label, aimark_sink *sink)
{
	const jpeg_layout *lay = meta && meta->priv_free == layout_free ? meta->priv : NULL;
	RETURN_IF(src == NULL || sink == NULL || label == NULL || label->get == NULL, AIMARK_EINVAL,
		  "JPEG: write needs a source, a label and a sink");
	RETURN_IF(lay == NULL || lay->file_size == 0, AIMARK_EINVAL, "JPEG: write needs what read() found in this file");
	RETURN_IF(aimark_source_size(src) != lay->file_size, AIMARK_EINVAL,
		  "JPEG: the input is %llu bytes but was %llu bytes when read", (unsigned long long)aimark_source_size(src),
		  (unsigned long long)lay->file_size);
	const aimark__label_write *lw = NULL;
	RETURN_IF_ERR(label->get(label->ctx, &lw));
	RETURN_IF(lw == NULL || lw->bare_json == NULL || lw->wrapped_json == NULL, AIMARK_EINVAL, "JPEG: the label provider gave no label");

	aimark_buf storage = AIMARK_BUF_INIT;
	const unsigned char *d = NULL;
	edit *edits = aimark__calloc(lay->n_segs + 1, sizeof *edits);
	size_t n_edits = 0;
	int rc = edits ? 0 : aimark__error_set(AIMARK_ENOMEM, "out of memory");
	if (rc == 0)
		rc = load_head(src, lay, &storage, &d);
	if (rc == 0)
		rc = build_edits(d, lay, lw, edits, &n_edits);
	if (rc == 0)
		rc = emit(sink, src, lay->file_size, edits, n_edits);
	for (size_t i = 0; edits && i <= lay->n_segs; i++)
		aimark_buf_dispose(&edits[i].bytes);
	aimark__free(edits);
	aimark_buf_dispose(&storage);
	return rc;
}

static const char *const jpeg_extensions[] = { "jpg", "jpeg", "jpe", "jfif", NULL };

const aimark__format_ops aimark__format_jpeg = {
	.name = "jpeg",
	.extensions = jpeg_extensions,
	.probe = jpeg_probe,
	.read = jpeg_read,
	.write = jpeg_write,
};

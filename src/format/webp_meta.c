/*
 * WebP (RIFF) container backend.
 *
 * Reads GB 45438 labels from the "XMP " chunk and from the "EXIF" chunk
 * (UserComment / ImageDescription). Writes the label into the XMP chunk
 * (merged, or appended at the end of the RIFF data) and every EXIF carrier,
 * turns a simple VP8/VP8L file into the extended format (VP8X) so the XMP
 * chunk is allowed, and fixes the RIFF size. Image chunks are copied byte for
 * byte.
 */
#include <string.h>

#include "core/findings_internal.h"
#include "core/internal.h"
#include "core/io_internal.h"
#include "exif.h"
#include "format.h"
#include "xmp.h"

#define WEBP_MAX_LABEL_CHUNKS 256

/* VP8X flag bits (first byte of the VP8X payload). */
#define VP8X_FLAG_ANIMATION 0x02
#define VP8X_FLAG_XMP 0x04
#define VP8X_FLAG_EXIF 0x08
#define VP8X_FLAG_ALPHA 0x10
#define VP8X_FLAG_ICC 0x20

enum webp_role {
	WROLE_VP8X,      /* flags updated */
	WROLE_XMP,       /* the first XMP chunk: merged */
	WROLE_XMP_EXTRA, /* a second XMP chunk: dropped */
	WROLE_EXIF       /* an EXIF chunk holding the label: rewritten */
};

typedef struct webp_special {
	uint64_t offset; /* chunk start (its FourCC) */
	uint32_t size;   /* payload size, without the pad byte */
	enum webp_role role;
	uint16_t exif_tag;
	size_t exif_skip; /* 6 when the payload starts "Exif\0\0" */
} webp_special;

typedef struct webp_layout {
	uint64_t file_size;
	uint64_t riff_end;       /* 8 + RIFF size */
	int extended;            /* first chunk is VP8X */
	int has_xmp, has_exif, has_alpha, has_icc, has_anim;
	int dims_ok;             /* canvas size known from the first image chunk */
	uint32_t width, height;
	int missing_pad;         /* the last chunk lacks its pad byte */
	uint64_t missing_pad_offset;
	webp_special *items;
	size_t n_items, cap_items;
} webp_layout;

static void layout_free(void *p)
{
	webp_layout *lay = p;
	if (lay == NULL)
		return;
	aimark__free(lay->items);
	aimark__free(lay);
}

static int layout_add(webp_layout *lay, const webp_special *s)
{
	RETURN_IF(lay->n_items >= WEBP_MAX_LABEL_CHUNKS, AIMARK_ELIMIT,
		  "WebP: more than %d XMP or label chunks (at offset %llu)", WEBP_MAX_LABEL_CHUNKS,
		  (unsigned long long)s->offset);
	RETURN_IF_ARRAY_FULL_GROW(lay->items, lay->cap_items, lay->n_items, 4);
	lay->items[lay->n_items++] = *s;
	return 0;
}

/* A FourCC made printable for messages. */
static void fourcc_name(const unsigned char *p, char out[5])
{
	for (int i = 0; i < 4; i++)
		out[i] = (p[i] >= 0x20 && p[i] < 0x7f) ? (char)p[i] : '?';
	out[4] = '\0';
}

static int fourcc_is(const unsigned char *p, const char *cc)
{
	return memcmp(p, cc, 4) == 0;
}

/* Canvas size from a VP8 key-frame header. Returns 0 or -1. */
static int vp8_dimensions(const unsigned char *p, uint32_t n, uint32_t *w, uint32_t *h)
{
	if (n < 10 || (p[0] & 1) != 0 || p[3] != 0x9d || p[4] != 0x01 || p[5] != 0x2a)
		return -1;
	*w = aimark__le16(p + 6) & 0x3fff;
	*h = aimark__le16(p + 8) & 0x3fff;
	return (*w == 0 || *h == 0) ? -1 : 0;
}

/* Canvas size and alpha hint from a VP8L header. Returns 0 or -1. */
static int vp8l_dimensions(const unsigned char *p, uint32_t n, uint32_t *w, uint32_t *h, int *alpha)
{
	if (n < 5 || p[0] != 0x2f)
		return -1;
	uint32_t bits = aimark__le32(p + 1);
	if ((bits >> 29) != 0) /* version must be 0 */
		return -1;
	*w = (bits & 0x3fff) + 1;
	*h = ((bits >> 14) & 0x3fff) + 1;
	*alpha = (int)((bits >> 28) & 1);
	return 0;
}

/* Adds a carrier, cut at the first NUL (label text never holds one; the copy is a C string). */
static int add_text_carrier(aimark__meta *meta, const char *kind, const unsigned char *text, size_t len, uint64_t offset)
{
	if (text == NULL) {
		text = (const unsigned char *)"";
		len = 0;
	}
	const unsigned char *nul = len ? memchr(text, 0, len) : NULL;
	if (nul)
		len = (size_t)(nul - text);
	return aimark__meta_add_carrier(meta, kind, (const char *)text, len, offset);
}

static int read_xmp_chunk(webp_layout *lay, aimark__meta *meta, uint64_t off, const unsigned char *p, uint32_t n)
{
	aimark_findings *fd = meta->findings;
	webp_special s = { .offset = off, .size = n, .role = lay->has_xmp ? WROLE_XMP_EXTRA : WROLE_XMP };
	if (lay->has_xmp)
		RETURN_IF_ERR(aimark__findings_add(fd, AIMARK_SEVERITY_WARNING, "webp-duplicate-xmp",
						   "WebP: a second XMP chunk at offset %llu (a file holds one XMP packet; "
						   "writing keeps only the first)", (unsigned long long)off));
	lay->has_xmp = 1;
	RETURN_IF_ERR(layout_add(lay, &s));
	aimark_buf json = AIMARK_BUF_INIT;
	int rc = aimark__xmp_find_aigc((const char *)p, n, &json, fd);
	if (rc == 0)
		rc = add_text_carrier(meta, AIMARK__CARRIER_XMP, json.ptr, json.size, off);
	else if (rc == AIMARK_ENOTFOUND)
		rc = 0;
	else if (rc == AIMARK_EFORMAT)
		rc = aimark__findings_add(fd, AIMARK_SEVERITY_WARNING, "webp-xmp-malformed",
					  "WebP: XMP packet in the chunk at offset %llu is not well-formed: %s",
					  (unsigned long long)off, aimark_error_last());
	aimark_buf_dispose(&json);
	return rc;
}

static int read_exif_chunk(webp_layout *lay, aimark__meta *meta, uint64_t off, const unsigned char *p, uint32_t n)
{
	aimark_findings *fd = meta->findings;
	size_t skip = 0;
	if (lay->has_exif)
		RETURN_IF_ERR(aimark__findings_add(fd, AIMARK_SEVERITY_WARNING, "webp-duplicate-exif",
						   "WebP: another EXIF chunk at offset %llu", (unsigned long long)off));
	lay->has_exif = 1;
	if (n >= 6 && memcmp(p, "Exif\0\0", 6) == 0) {
		skip = 6;
		RETURN_IF_ERR(aimark__findings_add(fd, AIMARK_SEVERITY_INFO, "webp-exif-prefix",
						   "WebP: EXIF chunk at offset %llu starts with the JPEG \"Exif\\0\\0\" header",
						   (unsigned long long)off));
	}
	aimark_buf text = AIMARK_BUF_INIT;
	uint16_t tag = 0;
	int rc = aimark__exif_find_aigc(p + skip, n - skip, &text, &tag, fd);
	if (rc == 0) {
		webp_special s = { .offset = off, .size = n, .role = WROLE_EXIF, .exif_tag = tag, .exif_skip = skip };
		rc = layout_add(lay, &s);
		if (rc == 0)
			rc = add_text_carrier(meta,
					      tag == AIMARK__EXIF_TAG_IMAGEDESCRIPTION ? AIMARK__CARRIER_EXIF_DESCRIPTION
										       : AIMARK__CARRIER_EXIF_USERCOMMENT,
					      text.ptr, text.size, off);
	} else if (rc == AIMARK_ENOTFOUND) {
		rc = 0;
	} else if (rc == AIMARK_EFORMAT) {
		rc = aimark__findings_add(fd, AIMARK_SEVERITY_WARNING, "webp-exif-malformed",
					  "WebP: EXIF chunk at offset %llu is malformed: %s", (unsigned long long)off,
					  aimark_error_last());
	}
	aimark_buf_dispose(&text);
	return rc;
}

static int webp_walk(const unsigned char *d, uint64_t size, webp_layout *lay, aimark__meta *meta)
{
	aimark_findings *fd = meta->findings;
	RETURN_IF(size == 0, AIMARK_EFORMAT, "WebP: the input is empty");
	RETURN_IF(size < 12 || memcmp(d, "RIFF", 4) != 0 || memcmp(d + 8, "WEBP", 4) != 0, AIMARK_EFORMAT,
		  "WebP: bad header at offset 0 (expected \"RIFF\" size \"WEBP\"; not a WebP file)");
	uint32_t riff_size = aimark__le32(d + 4);
	RETURN_IF(riff_size < 4, AIMARK_EFORMAT, "WebP: RIFF size %u at offset 4 is too small", (unsigned)riff_size);
	uint64_t riff_end = (uint64_t)riff_size + 8;
	RETURN_IF(riff_end > size, AIMARK_EFORMAT,
		  "WebP: RIFF size %u at offset 4 passes the end of the file (%llu bytes; truncated or lying size)",
		  (unsigned)riff_size, (unsigned long long)size);
	if (riff_end < size)
		RETURN_IF_ERR(aimark__findings_add(fd, AIMARK_SEVERITY_WARNING, "webp-riff-size",
						   "WebP: RIFF size %u at offset 4 ends the data at %llu but the file has "
						   "%llu bytes (the rest is not read; kept on write)", (unsigned)riff_size,
						   (unsigned long long)riff_end, (unsigned long long)size));
	RETURN_IF(riff_end == 12, AIMARK_EFORMAT, "WebP: no chunks after the header");

	lay->file_size = size;
	lay->riff_end = riff_end;
	int seen_image = 0;
	unsigned vp8x_flags = 0;
	uint64_t pos = 12;
	while (pos < riff_end) {
		RETURN_IF(riff_end - pos < 8, AIMARK_EFORMAT,
			  "WebP: truncated chunk header at offset %llu (%llu bytes left in the RIFF data)",
			  (unsigned long long)pos, (unsigned long long)(riff_end - pos));
		const unsigned char *cc = d + pos, *p = d + pos + 8;
		uint32_t n = aimark__le32(d + pos + 4);
		char name[5];
		fourcc_name(cc, name);
		RETURN_IF(n > riff_end - pos - 8, AIMARK_EFORMAT,
			  "WebP: chunk '%s' at offset %llu (size %u) passes the end of the RIFF data at %llu", name,
			  (unsigned long long)pos, (unsigned)n, (unsigned long long)riff_end);
		uint64_t total = (uint64_t)n + 8 + (n & 1);
		if (total > riff_end - pos) {
			lay->missing_pad = 1;
			lay->missing_pad_offset = pos;
			total = (uint64_t)n + 8;
			RETURN_IF_ERR(aimark__findings_add(fd, AIMARK_SEVERITY_WARNING, "webp-missing-pad",
							   "WebP: chunk '%s' at offset %llu has an odd size %u and no pad byte",
							   name, (unsigned long long)pos, (unsigned)n));
		}
		if (pos == 12) {
			RETURN_IF(!fourcc_is(cc, "VP8 ") && !fourcc_is(cc, "VP8L") && !fourcc_is(cc, "VP8X"), AIMARK_EFORMAT,
				  "WebP: first chunk is '%s' at offset 12, expected VP8, VP8L or VP8X", name);
		}
		int essence = 0;
		if (fourcc_is(cc, "VP8X")) {
			RETURN_IF(n < 10, AIMARK_EFORMAT, "WebP: VP8X chunk at offset %llu has size %u, expected 10",
				  (unsigned long long)pos, (unsigned)n);
			if (pos == 12) {
				webp_special s = { .offset = pos, .size = n, .role = WROLE_VP8X };
				lay->extended = 1;
				vp8x_flags = p[0];
				RETURN_IF_ERR(layout_add(lay, &s));
			} else {
				RETURN_IF_ERR(aimark__findings_add(fd, AIMARK_SEVERITY_WARNING, "webp-vp8x-position",
								   "WebP: VP8X chunk at offset %llu is not the first chunk; ignored",
								   (unsigned long long)pos));
			}
		} else if (fourcc_is(cc, "VP8 ")) {
			essence = 1;
			if (!seen_image++)
				lay->dims_ok = vp8_dimensions(p, n, &lay->width, &lay->height) == 0;
		} else if (fourcc_is(cc, "VP8L")) {
			essence = 1;
			int alpha = 0;
			if (!seen_image++)
				lay->dims_ok = vp8l_dimensions(p, n, &lay->width, &lay->height, &alpha) == 0;
			if (alpha)
				lay->has_alpha = 1;
		} else if (fourcc_is(cc, "ALPH")) {
			essence = 1;
			lay->has_alpha = 1;
		} else if (fourcc_is(cc, "ANIM") || fourcc_is(cc, "ANMF")) {
			essence = 1;
			lay->has_anim = 1;
		} else if (fourcc_is(cc, "ICCP")) {
			essence = 1;
			lay->has_icc = 1;
		} else if (fourcc_is(cc, "XMP ")) {
			RETURN_IF_ERR(read_xmp_chunk(lay, meta, pos, p, n));
		} else if (fourcc_is(cc, "EXIF")) {
			RETURN_IF_ERR(read_exif_chunk(lay, meta, pos, p, n));
		}
		if (essence)
			RETURN_IF_ERR(aimark__meta_add_essence(meta, pos, total));
		pos += total;
	}
	if (lay->extended && (!!(vp8x_flags & VP8X_FLAG_XMP) != lay->has_xmp || !!(vp8x_flags & VP8X_FLAG_EXIF) != lay->has_exif))
		RETURN_IF_ERR(aimark__findings_add(fd, AIMARK_SEVERITY_INFO, "webp-vp8x-flags",
						   "WebP: VP8X flags 0x%02x do not match the chunks present (XMP %s, EXIF %s)",
						   vp8x_flags, lay->has_xmp ? "present" : "absent",
						   lay->has_exif ? "present" : "absent"));
	return 0;
}

static int webp_parse(const unsigned char *d, uint64_t size, aimark__meta *meta, webp_layout **out)
{
	webp_layout *lay = aimark__calloc(1, sizeof *lay);
	RETURN_ENOMEM_IF_NULL(lay);
	int rc = webp_walk(d, size, lay, meta);
	if (rc < 0) {
		layout_free(lay);
		return rc;
	}
	*out = lay;
	return 0;
}

static int webp_probe(const unsigned char *head, size_t len)
{
	return len >= 12 && memcmp(head, "RIFF", 4) == 0 && memcmp(head + 8, "WEBP", 4) == 0;
}

static int webp_read(aimark_source *src, aimark__meta *meta)
{
	aimark_buf storage = AIMARK_BUF_INIT;
	const unsigned char *d = NULL;
	webp_layout *lay = NULL;
	int rc = aimark__source_load(src, AIMARK__MAX_IMAGE_FILE, &storage, &d);
	if (rc == 0)
		rc = webp_parse(d, aimark_source_size(src), meta, &lay);
	aimark_buf_dispose(&storage);
	if (rc < 0)
		return rc;
	if (meta->priv && meta->priv_free)
		meta->priv_free(meta->priv);
	meta->priv = lay;
	meta->priv_free = layout_free;
	return 0;
}

/* ---- writing: the output is planned as pieces so the RIFF size is known first ---- */

typedef struct piece {
	int own;       /* 1: bytes in plan.bytes, 0: bytes of the input */
	uint64_t off;
	uint64_t len;
} piece;

typedef struct plan {
	piece *pieces;
	size_t n, cap;
	aimark_buf bytes; /* new chunk bytes; only appended, so offsets stay valid */
	uint64_t total;
} plan;

static int plan_add(plan *pl, int own, uint64_t off, uint64_t len)
{
	if (len == 0)
		return 0;
	RETURN_IF_ARRAY_FULL_GROW(pl->pieces, pl->cap, pl->n, 16);
	pl->pieces[pl->n++] = (piece){ own, off, len };
	pl->total += len;
	return 0;
}

/* Appends a whole chunk (header, payload from up to two pieces, pad) to the plan. */
static int plan_chunk(plan *pl, const char *cc, const void *a, size_t alen, const void *b, size_t blen)
{
	uint64_t n = (uint64_t)alen + blen;
	RETURN_IF(n > UINT32_MAX - 16, AIMARK_ELIMIT, "WebP: a new '%s' chunk would be too large", cc);
	unsigned char head[8];
	memcpy(head, cc, 4);
	aimark__put_le32(head + 4, (uint32_t)n);
	size_t start = pl->bytes.size;
	RETURN_IF_ERR(aimark__buf_append(&pl->bytes, head, 8));
	RETURN_IF_ERR(aimark__buf_append(&pl->bytes, a, alen));
	RETURN_IF_ERR(aimark__buf_append(&pl->bytes, b, blen));
	if (n & 1)
		RETURN_IF_ERR(aimark__buf_append(&pl->bytes, "", 1));
	return plan_add(pl, 1, start, pl->bytes.size - start);
}

static int plan_xmp(plan *pl, const unsigned char *old, size_t old_len, const aimark__label_write *lw)
{
	aimark_buf xmp = AIMARK_BUF_INIT;
	int rc = aimark__xmp_set_aigc((const char *)old, old_len, lw->bare_json, lw->bare_len, &xmp);
	if (rc == 0)
		rc = plan_chunk(pl, "XMP ", xmp.ptr, xmp.size, NULL, 0);
	aimark_buf_dispose(&xmp);
	return rc;
}

static int plan_special(plan *pl, const unsigned char *d, const webp_layout *lay, const webp_special *s,
			const aimark__label_write *lw)
{
	const unsigned char *p = d + s->offset + 8;
	int rc;
	switch (s->role) {
	case WROLE_VP8X: {
		unsigned char payload[10];
		RETURN_IF(s->size < 10, AIMARK_EFORMAT, "WebP: VP8X chunk at offset %llu is too short",
			  (unsigned long long)s->offset);
		memcpy(payload, p, 10);
		payload[0] |= VP8X_FLAG_XMP;
		if (lay->has_exif)
			payload[0] |= VP8X_FLAG_EXIF;
		return plan_chunk(pl, "VP8X", payload, 10, p + 10, s->size - 10);
	}
	case WROLE_XMP:
		rc = plan_xmp(pl, p, s->size, lw);
		if (rc == AIMARK_EFORMAT)
			aimark__error_prefix("WebP: XMP chunk at offset %llu", (unsigned long long)s->offset);
		return rc;
	case WROLE_XMP_EXTRA:
		return 0;
	case WROLE_EXIF: {
		RETURN_IF(s->exif_skip > s->size, AIMARK_EFORMAT, "WebP: EXIF chunk at offset %llu changed since it was read",
			  (unsigned long long)s->offset);
		aimark_buf tiff = AIMARK_BUF_INIT;
		rc = aimark__exif_replace_text(p + s->exif_skip, s->size - s->exif_skip, s->exif_tag, lw->wrapped_json,
					       lw->wrapped_len, &tiff);
		if (rc == 0)
			rc = plan_chunk(pl, "EXIF", p, s->exif_skip, tiff.ptr, tiff.size);
		else
			aimark__error_prefix("WebP: EXIF chunk at offset %llu", (unsigned long long)s->offset);
		aimark_buf_dispose(&tiff);
		return rc;
	}
	}
	return aimark__error_set(AIMARK_EINVAL, "WebP: unknown chunk role");
}

static int build_plan(plan *pl, const unsigned char *d, const webp_layout *lay, const aimark__label_write *lw)
{
	if (lay->missing_pad) {
		int rewritten = 0;
		for (size_t i = 0; i < lay->n_items; i++)
			rewritten |= lay->items[i].offset == lay->missing_pad_offset && lay->items[i].role != WROLE_VP8X;
		RETURN_IF(!rewritten, AIMARK_EFORMAT,
			  "WebP: chunk at offset %llu lacks its pad byte; adding one would change the image bytes",
			  (unsigned long long)lay->missing_pad_offset);
	}
	if (!lay->extended) {
		/* A simple file may not carry XMP: make it extended with a VP8X chunk. */
		RETURN_IF(!lay->dims_ok, AIMARK_EFORMAT,
			  "WebP: cannot read the canvas size from the VP8/VP8L header at offset 12");
		unsigned char x[10] = { 0 };
		x[0] = VP8X_FLAG_XMP | (lay->has_exif ? VP8X_FLAG_EXIF : 0) | (lay->has_alpha ? VP8X_FLAG_ALPHA : 0) |
		       (lay->has_icc ? VP8X_FLAG_ICC : 0);
		uint32_t w = lay->width - 1, h = lay->height - 1;
		x[4] = (unsigned char)w;
		x[5] = (unsigned char)(w >> 8);
		x[6] = (unsigned char)(w >> 16);
		x[7] = (unsigned char)h;
		x[8] = (unsigned char)(h >> 8);
		x[9] = (unsigned char)(h >> 16);
		RETURN_IF_ERR(plan_chunk(pl, "VP8X", x, sizeof x, NULL, 0));
	}
	uint64_t pos = 12;
	for (size_t i = 0; i < lay->n_items; i++) {
		const webp_special *s = &lay->items[i];
		RETURN_IF_ERR(plan_add(pl, 0, pos, s->offset - pos));
		RETURN_IF_ERR(plan_special(pl, d, lay, s, lw));
		pos = s->offset + 8 + s->size + (s->size & 1);
		if (pos > lay->riff_end) /* a rewritten last chunk that lacked its pad */
			pos = lay->riff_end;
	}
	RETURN_IF_ERR(plan_add(pl, 0, pos, lay->riff_end - pos));
	/* A new XMP chunk goes last: after the image data and any EXIF chunk. */
	if (!lay->has_xmp)
		RETURN_IF_ERR(plan_xmp(pl, NULL, 0, lw));
	return 0;
}

static int webp_emit(aimark_sink *sink, const unsigned char *d, const webp_layout *lay, const aimark__label_write *lw)
{
	plan pl = { 0 };
	int rc = build_plan(&pl, d, lay, lw);
	if (rc == 0 && pl.total + 4 > UINT32_MAX - 1)
		rc = aimark__error_set(AIMARK_ELIMIT, "WebP: the labelled file would exceed the 4 GiB RIFF limit");
	if (rc == 0) {
		unsigned char head[12];
		memcpy(head, "RIFF", 4);
		aimark__put_le32(head + 4, (uint32_t)(pl.total + 4));
		memcpy(head + 8, "WEBP", 4);
		rc = aimark_sink_write(sink, head, sizeof head);
	}
	for (size_t i = 0; rc == 0 && i < pl.n; i++) {
		const piece *pc = &pl.pieces[i];
		rc = aimark_sink_write(sink, (pc->own ? pl.bytes.ptr : d) + pc->off, (size_t)pc->len);
	}
	/* bytes past the RIFF data are kept as they were */
	if (rc == 0 && lay->file_size > lay->riff_end)
		rc = aimark_sink_write(sink, d + lay->riff_end, (size_t)(lay->file_size - lay->riff_end));
	aimark__free(pl.pieces);
	aimark_buf_dispose(&pl.bytes);
	return rc;
}

static int webp_write(aimark_source *src, const aimark__meta *meta, const aimark__label_provider *label, aimark_sink *sink)
{
	const aimark__label_write *lw = NULL;
	RETURN_IF(label == NULL || label->get == NULL || sink == NULL, AIMARK_EINVAL, "WebP: no label provider or sink");
	RETURN_IF_ERR(label->get(label->ctx, &lw));
	RETURN_IF(lw == NULL || lw->bare_json == NULL || lw->wrapped_json == NULL, AIMARK_EINVAL, "WebP: no label to write");

	aimark_buf storage = AIMARK_BUF_INIT;
	const unsigned char *d = NULL;
	webp_layout *own = NULL;
	const webp_layout *lay = meta ? meta->priv : NULL;
	uint64_t size = aimark_source_size(src);
	int rc = aimark__source_load(src, AIMARK__MAX_IMAGE_FILE, &storage, &d);
	if (rc == 0 && (lay == NULL || lay->file_size != size)) {
		aimark__meta scratch;
		aimark__meta_init(&scratch, NULL);
		rc = webp_parse(d, size, &scratch, &own);
		aimark__meta_dispose(&scratch);
		lay = own;
	}
	if (rc == 0)
		rc = webp_emit(sink, d, lay, lw);
	layout_free(own);
	aimark_buf_dispose(&storage);
	return rc;
}

static const char *const webp_extensions[] = { "webp", NULL };

const aimark__format_ops aimark__format_webp = {
	.name = "webp",
	.extensions = webp_extensions,
	.probe = webp_probe,
	.read = webp_read,
	.write = webp_write,
};

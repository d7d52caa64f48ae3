/*
 * Matroska / WebM backend.
 *
 * The label is a SimpleTag named AIGC whose TagString is the bare JSON, in a
 * Tag whose Targets are empty (the whole segment), in Segment/Tags. Reading
 * accepts any Tags element, nested SimpleTags, any letter case of the name,
 * and TagBinary values.
 *
 * Writing never moves a Cluster, so Cues and SeekHead positions (relative
 * to the Segment data) stay valid: the first Tags element is rebuilt with
 * the label (other tags kept) and written in place when it fits in its old
 * space plus the Void elements after it; otherwise the old one becomes a
 * Void and the new one is appended at the end of the Segment, whose size is
 * updated, and the SeekHead entry for Tags is pointed at it (using the Void
 * space after the SeekHead when the entry must grow). When that first Tags
 * element is what ends an unknown-size Cluster it must stay one: then only
 * its AIGC SimpleTags become Voids and the label alone is appended, with a
 * new SeekHead entry. AIGC SimpleTags in other Tags elements are voided in
 * place. CRC-32 elements of rewritten elements are recomputed.
 *
 * The essence is the bytes of every Cluster element (the blocks that hold
 * the audio and video frames).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/findings_internal.h"
#include "core/internal.h"
#include "core/io_internal.h"
#include "ebml.h"
#include "format.h"

#define CARRIER_MKV_TAG "mkv-simpletag" /* Tags/Tag/SimpleTag TagName AIGC */

#define MKV_MAX_TAGS 64
#define MKV_MAX_ELEMENTS (1u << 24)
#define MKV_MAX_LOADED ((uint64_t)AIMARK__MAX_METADATA_BLOCK)
#define MKV_MAX_SIMPLETAG_DEPTH 8
#define MKV_MAX_HEADER 4096u
#define MKV_MAX_REWRITTEN (UINT64_C(64) << 20) /* all rewritten elements together */

typedef struct mkv_layout {
	uint64_t file_size;
	aimark__ebml_elem segment;
	uint64_t seg_end;          /* end of the Segment data */
	int have_seekhead;
	aimark__ebml_elem seekhead;
	uint64_t seekhead_room;    /* Void bytes right after the SeekHead */
	aimark__ebml_elem tags[MKV_MAX_TAGS];
	uint8_t tags_label[MKV_MAX_TAGS];
	uint8_t tags_ends_cluster[MKV_MAX_TAGS]; /* it is what ends an unknown-size Cluster */
	size_t n_tags;
	uint64_t tags_room;        /* Void bytes right after the first Tags */
} mkv_layout;

static void layout_free(void *p) { aimark__free(p); }

static int load_data(aimark_source *src, const aimark__ebml_elem *el, aimark_buf *buf)
{
	RETURN_IF(el->size > MKV_MAX_LOADED, AIMARK_ELIMIT, "Matroska: element 0x%X at offset %llu holds %llu bytes, over the %llu-byte limit",
		  el->id, (unsigned long long)el->offset, (unsigned long long)el->size, (unsigned long long)MKV_MAX_LOADED);
	aimark__buf_clear(buf);
	RETURN_IF_ERR(aimark__buf_reserve(buf, (size_t)el->size));
	RETURN_IF_ERR(aimark_source_read(src, el->data, buf->ptr, (size_t)el->size));
	buf->size = (size_t)el->size;
	buf->ptr[buf->size] = '\0';
	return 0;
}

/* A memory view of one loaded element's data. */
typedef struct mview {
	const unsigned char *m;
	size_t len;
	uint64_t base; /* file offset of m[0] */
} mview;

static size_t vpos(const mview *v, uint64_t off) { return (size_t)(off - v->base); }

/* Element header inside [pos, end) of the view; unknown sizes are refused there. */
static int child_at(const mview *v, size_t pos, size_t end, aimark__ebml_elem *el)
{
	RETURN_IF_ERR(aimark__ebml_parse_mem(v->m, end, pos, v->base, el));
	RETURN_IF(el->unknown, AIMARK_EFORMAT, "Matroska: element 0x%X at offset %llu has an unknown size inside tags", el->id,
		  (unsigned long long)el->offset);
	return 0;
}

static int name_is_aigc(const unsigned char *p, size_t len, int *exact)
{
	*exact = len == 4 && memcmp(p, "AIGC", 4) == 0;
	return len == 4 && strncasecmp((const char *)p, "AIGC", 4) == 0;
}

/* 1 when a SimpleTag (data in [pos, end)) is named AIGC. */
static int simpletag_is_aigc(const mview *v, size_t pos, size_t end)
{
	while (pos < end) {
		aimark__ebml_elem c;
		int exact;
		if (child_at(v, pos, end, &c) != 0) {
			aimark_error_clear();
			return 0;
		}
		if (c.id == AIMARK__MKV_ID_TAGNAME)
			return name_is_aigc(v->m + vpos(v, c.data), (size_t)c.size, &exact);
		pos = vpos(v, c.data) + (size_t)c.size;
	}
	return 0;
}

/* 1 when a Tag's Targets (data in [pos, end)) name no track, edition, chapter or attachment. */
static int targets_global(const mview *v, size_t pos, size_t end)
{
	while (pos < end) {
		aimark__ebml_elem c;
		uint64_t uid = 0;
		RETURN_IF_ERR(child_at(v, pos, end, &c));
		if ((c.id == AIMARK__MKV_ID_TAGTRACKUID || c.id == AIMARK__MKV_ID_TAGEDITIONUID ||
		     c.id == AIMARK__MKV_ID_TAGCHAPTERUID || c.id == AIMARK__MKV_ID_TAGATTACHMENTUID) &&
		    aimark__ebml_get_uint(v->m + vpos(v, c.data), (size_t)c.size, &uid) == 0 && uid != 0)
			return 0;
		aimark_error_clear();
		pos = vpos(v, c.data) + (size_t)c.size;
	}
	return 1;
}

/* ------------------------------------------------------------------ read */

static int scan_simpletag(const mview *v, const aimark__ebml_elem *st, aimark__meta *meta, int depth, int global,
			  int *found)
{
	RETURN_IF(depth > MKV_MAX_SIMPLETAG_DEPTH, AIMARK_EFORMAT, "Matroska: SimpleTags nested deeper than %d at offset %llu",
		  MKV_MAX_SIMPLETAG_DEPTH, (unsigned long long)st->offset);
	size_t pos = vpos(v, st->data), end = pos + (size_t)st->size;
	const unsigned char *name = NULL, *value = NULL;
	size_t name_len = 0, value_len = 0;
	int binary = 0;
	while (pos < end) {
		aimark__ebml_elem c;
		RETURN_IF_ERR(child_at(v, pos, end, &c));
		const unsigned char *d = v->m + vpos(v, c.data);
		if (c.id == AIMARK__MKV_ID_TAGNAME && name == NULL) {
			name = d;
			name_len = (size_t)c.size;
		} else if ((c.id == AIMARK__MKV_ID_TAGSTRING || c.id == AIMARK__MKV_ID_TAGBINARY) && value == NULL) {
			value = d;
			value_len = (size_t)c.size;
			binary = c.id == AIMARK__MKV_ID_TAGBINARY;
		} else if (c.id == AIMARK__MKV_ID_SIMPLETAG) {
			RETURN_IF_ERR(scan_simpletag(v, &c, meta, depth + 1, global, found));
		}
		pos = vpos(v, c.data) + (size_t)c.size;
	}
	int exact;
	if (name == NULL || !name_is_aigc(name, name_len, &exact))
		return 0;
	if (value == NULL)
		return aimark__findings_add(meta->findings, AIMARK_SEVERITY_WARNING, "mkv-empty-tag",
					    "Matroska: AIGC SimpleTag at offset %llu has no value", (unsigned long long)st->offset);
	while (value_len > 0 && value[value_len - 1] == '\0')
		value_len--;
	RETURN_IF_ERR(aimark__meta_add_carrier(meta, CARRIER_MKV_TAG, (const char *)value, value_len, st->offset));
	*found = 1;
	if (!exact)
		RETURN_IF_ERR(aimark__findings_add(meta->findings, AIMARK_SEVERITY_WARNING, "mkv-tag-name",
						   "Matroska: TagName \"%.*s\" is not exactly \"AIGC\"", (int)name_len, (const char *)name));
	if (binary)
		RETURN_IF_ERR(aimark__findings_add(meta->findings, AIMARK_SEVERITY_WARNING, "mkv-tag-binary",
						   "Matroska: AIGC label at offset %llu is a TagBinary, not a TagString",
						   (unsigned long long)st->offset));
	if (depth > 0)
		RETURN_IF_ERR(aimark__findings_add(meta->findings, AIMARK_SEVERITY_WARNING, "mkv-tag-nested",
						   "Matroska: AIGC SimpleTag at offset %llu is nested in another SimpleTag",
						   (unsigned long long)st->offset));
	if (!global)
		RETURN_IF_ERR(aimark__findings_add(meta->findings, AIMARK_SEVERITY_WARNING, "mkv-tag-target",
						   "Matroska: AIGC SimpleTag at offset %llu targets a track, edition, chapter or attachment, not the whole file",
						   (unsigned long long)st->offset));
	return 0;
}

static int scan_tags(const mview *v, aimark__meta *meta, int *found)
{
	size_t pos = 0;
	*found = 0;
	while (pos < v->len) {
		aimark__ebml_elem tag;
		RETURN_IF_ERR(child_at(v, pos, v->len, &tag));
		pos = vpos(v, tag.data) + (size_t)tag.size;
		if (tag.id != AIMARK__MKV_ID_TAG)
			continue;
		size_t tpos = vpos(v, tag.data), tend = tpos + (size_t)tag.size;
		int global = 1;
		/* the Targets first, wherever they are */
		for (size_t p = tpos; p < tend;) {
			aimark__ebml_elem c;
			RETURN_IF_ERR(child_at(v, p, tend, &c));
			if (c.id == AIMARK__MKV_ID_TARGETS) {
				int g = targets_global(v, vpos(v, c.data), vpos(v, c.data) + (size_t)c.size);
				RETURN_IF_ERR(g);
				global = g;
			}
			p = vpos(v, c.data) + (size_t)c.size;
		}
		for (size_t p = tpos; p < tend;) {
			aimark__ebml_elem c;
			RETURN_IF_ERR(child_at(v, p, tend, &c));
			if (c.id == AIMARK__MKV_ID_SIMPLETAG)
				RETURN_IF_ERR(scan_simpletag(v, &c, meta, 0, global, found));
			p = vpos(v, c.data) + (size_t)c.size;
		}
	}
	return 0;
}

static int is_level1(uint32_t id)
{
	return id == AIMARK__MKV_ID_CLUSTER || id == AIMARK__MKV_ID_CUES || id == AIMARK__MKV_ID_TAGS ||
	       id == AIMARK__MKV_ID_SEEKHEAD || id == AIMARK__MKV_ID_INFO || id == AIMARK__MKV_ID_TRACKS ||
	       id == AIMARK__MKV_ID_CHAPTERS || id == AIMARK__MKV_ID_ATTACHMENTS || id == AIMARK__MKV_ID_SEGMENT ||
	       id == AIMARK__EBML_ID_HEADER;
}

/* An unknown-size Cluster ends where an element that cannot be its child starts. */
static int cluster_end(aimark_source *src, const aimark__ebml_elem *cl, uint64_t end, uint64_t *out, uint64_t *budget)
{
	uint64_t pos = cl->data;
	while (pos < end) {
		aimark__ebml_elem c;
		RETURN_IF(*budget == 0, AIMARK_ELIMIT, "Matroska: more than %u elements", MKV_MAX_ELEMENTS);
		(*budget)--;
		RETURN_IF_ERR(aimark__ebml_read_header(src, pos, end, &c));
		if (is_level1(c.id))
			break;
		RETURN_IF(c.unknown, AIMARK_EFORMAT, "Matroska: element 0x%X at offset %llu inside a Cluster has an unknown size",
			  c.id, (unsigned long long)c.offset);
		pos = c.data + c.size;
	}
	*out = pos;
	return 0;
}

static int read_ebml_header(aimark_source *src, uint64_t size, uint64_t *next)
{
	aimark__ebml_elem h;
	unsigned char buf[MKV_MAX_HEADER];
	RETURN_IF_ERR(aimark__ebml_read_header(src, 0, size, &h));
	RETURN_IF(h.id != AIMARK__EBML_ID_HEADER, AIMARK_EFORMAT, "Matroska: no EBML header at offset 0");
	RETURN_IF(h.unknown || h.size > MKV_MAX_HEADER, AIMARK_EFORMAT, "Matroska: EBML header of %llu bytes is not plausible",
		  (unsigned long long)h.size);
	RETURN_IF_ERR(aimark_source_read(src, h.data, buf, (size_t)h.size));
	mview v = { buf, (size_t)h.size, h.data };
	for (size_t pos = 0; pos < v.len;) {
		aimark__ebml_elem c;
		RETURN_IF_ERR(child_at(&v, pos, v.len, &c));
		if (c.id == AIMARK__EBML_ID_DOCTYPE) {
			const char *dt = (const char *)buf + vpos(&v, c.data);
			size_t n = (size_t)c.size;
			while (n > 0 && dt[n - 1] == '\0')
				n--;
			RETURN_IF(!(n == 8 && memcmp(dt, "matroska", 8) == 0) && !(n == 4 && memcmp(dt, "webm", 4) == 0),
				  AIMARK_EUNSUPPORTED, "Matroska: EBML DocType \"%.*s\" is neither matroska nor webm",
				  (int)(n > 32 ? 32 : n), dt);
		}
		pos = vpos(&v, c.data) + (size_t)c.size;
	}
	*next = h.data + h.size;
	return 0;
}

static int mkv_probe(const unsigned char *h, size_t len)
{
	if (len < 4 || aimark__be32(h) != AIMARK__EBML_ID_HEADER)
		return 0;
	if (len < 40)
		return 1;
	for (size_t i = 4; i + 4 <= len; i++)
		if (memcmp(h + i, "webm", 4) == 0 || (i + 8 <= len && memcmp(h + i, "matroska", 8) == 0))
			return 1;
	return 0;
}

static int mkv_read(aimark_source *src, aimark__meta *meta)
{
	mkv_layout *lay = aimark__calloc(1, sizeof *lay);
	RETURN_ENOMEM_IF_NULL(lay);
	meta->priv = lay;
	meta->priv_free = layout_free;
	uint64_t size = aimark_source_size(src), pos, budget = MKV_MAX_ELEMENTS;
	lay->file_size = size;
	RETURN_IF_ERR(read_ebml_header(src, size, &pos));
	/* find the Segment (skipping Void or CRC-32 at the top level) */
	for (;;) {
		RETURN_IF(pos >= size, AIMARK_EFORMAT, "Matroska: no Segment element");
		RETURN_IF_ERR(aimark__ebml_read_header(src, pos, size, &lay->segment));
		if (lay->segment.id == AIMARK__MKV_ID_SEGMENT)
			break;
		RETURN_IF(lay->segment.unknown || (lay->segment.id != AIMARK__EBML_ID_VOID && lay->segment.id != AIMARK__EBML_ID_CRC32),
			  AIMARK_EFORMAT, "Matroska: element 0x%X at offset %llu where the Segment should start", lay->segment.id,
			  (unsigned long long)pos);
		pos = lay->segment.data + lay->segment.size;
	}
	lay->seg_end = lay->segment.data + lay->segment.size;
	enum { AFTER_NONE, AFTER_SEEKHEAD, AFTER_TAGS } after = AFTER_NONE;
	aimark_buf buf = AIMARK_BUF_INIT;
	uint64_t open_cluster_end = UINT64_MAX; /* where the last unknown-size Cluster stopped */
	int rc = 0;
	for (pos = lay->segment.data; pos < lay->seg_end && rc == 0;) {
		aimark__ebml_elem el;
		if (budget-- == 0) {
			rc = aimark__error_set(AIMARK_ELIMIT, "Matroska: more than %u elements", MKV_MAX_ELEMENTS);
			break;
		}
		rc = aimark__ebml_read_header(src, pos, lay->seg_end, &el);
		if (rc)
			break;
		if (el.unknown) {
			if (el.id != AIMARK__MKV_ID_CLUSTER) {
				rc = aimark__error_set(AIMARK_EFORMAT, "Matroska: element 0x%X at offset %llu has an unknown size",
						       el.id, (unsigned long long)el.offset);
				break;
			}
			uint64_t end = 0;
			rc = cluster_end(src, &el, lay->seg_end, &end, &budget);
			if (rc)
				break;
			el.size = end - el.data;
			el.unknown = 0;
			open_cluster_end = end;
		}
		pos = el.data + el.size;
		if (el.id == AIMARK__EBML_ID_VOID) {
			if (after == AFTER_SEEKHEAD)
				lay->seekhead_room += aimark__ebml_total(&el);
			else if (after == AFTER_TAGS)
				lay->tags_room += aimark__ebml_total(&el);
			continue;
		}
		after = AFTER_NONE;
		if (el.id == AIMARK__MKV_ID_CLUSTER) {
			rc = aimark__meta_add_essence(meta, el.offset, aimark__ebml_total(&el));
		} else if (el.id == AIMARK__MKV_ID_SEEKHEAD && !lay->have_seekhead) {
			lay->have_seekhead = 1;
			lay->seekhead = el;
			after = AFTER_SEEKHEAD;
		} else if (el.id == AIMARK__MKV_ID_TAGS) {
			int found = 0;
			if (lay->n_tags >= MKV_MAX_TAGS) {
				rc = aimark__error_set(AIMARK_ELIMIT, "Matroska: more than %d Tags elements", MKV_MAX_TAGS);
				break;
			}
			rc = load_data(src, &el, &buf);
			if (rc == 0) {
				mview v = { buf.ptr, buf.size, el.data };
				rc = scan_tags(&v, meta, &found);
			}
			lay->tags[lay->n_tags] = el;
			lay->tags_label[lay->n_tags] = (uint8_t)found;
			lay->tags_ends_cluster[lay->n_tags] = el.offset == open_cluster_end;
			if (lay->n_tags++ == 0)
				after = AFTER_TAGS;
		}
	}
	aimark_buf_dispose(&buf);
	RETURN_IF_ERR(rc);
	if (lay->seg_end < size)
		RETURN_IF_ERR(aimark__findings_add(meta->findings, AIMARK_SEVERITY_INFO, "mkv-trailing-data",
						   "Matroska: %llu bytes after the first Segment are not read",
						   (unsigned long long)(size - lay->seg_end)));
	return 0;
}

/* ----------------------------------------------------------------- write */

/* Output plan: byte ranges of the input replaced by new bytes plus zero filler. */
typedef struct mkv_splice {
	uint64_t off;
	uint64_t old_len;  /* 0: an insertion */
	aimark_buf bytes;
	uint64_t zeros;    /* filler after `bytes` (the data of a Void) */
} mkv_splice;

typedef struct mkv_plan {
	mkv_splice items[MKV_MAX_TAGS + 8];
	size_t n;
} mkv_plan;

static mkv_splice *plan_add(mkv_plan *p, uint64_t off, uint64_t old_len)
{
	mkv_splice *s = &p->items[p->n++];
	memset(s, 0, sizeof *s);
	s->off = off;
	s->old_len = old_len;
	return s;
}

static void plan_dispose(mkv_plan *p)
{
	for (size_t i = 0; i < p->n; i++)
		aimark_buf_dispose(&p->items[i].bytes);
}

static int splice_cmp(const void *a, const void *b)
{
	const mkv_splice *x = a, *y = b;
	if (x->off != y->off)
		return x->off < y->off ? -1 : 1;
	return x->old_len < y->old_len ? -1 : x->old_len > y->old_len;
}

static int plan_emit(mkv_plan *p, aimark_source *src, aimark_sink *sink, uint64_t size)
{
	static const unsigned char zeros[4096];
	qsort(p->items, p->n, sizeof p->items[0], splice_cmp);
	uint64_t pos = 0;
	for (size_t i = 0; i < p->n; i++) {
		const mkv_splice *s = &p->items[i];
		RETURN_IF(s->off < pos, AIMARK_EINVAL, "Matroska: overlapping edits at offset %llu", (unsigned long long)s->off);
		RETURN_IF_ERR(aimark__sink_copy_range(sink, src, pos, s->off - pos));
		RETURN_IF_ERR(aimark_sink_write(sink, s->bytes.ptr, s->bytes.size));
		for (uint64_t z = s->zeros; z > 0;) {
			size_t n = z < sizeof zeros ? (size_t)z : sizeof zeros;
			RETURN_IF_ERR(aimark_sink_write(sink, zeros, n));
			z -= n;
		}
		pos = s->off + s->old_len;
	}
	return aimark__sink_copy_range(sink, src, pos, size - pos);
}

/* Appends a Void of `total` bytes (total == 0: nothing, total == 1 is impossible). */
static int put_void(mkv_splice *s, uint64_t total)
{
	unsigned char h[9];
	if (total == 0)
		return 0;
	RETURN_IF(total < 2, AIMARK_EINVAL, "Matroska: cannot fill 1 byte with a Void");
	size_t hl = aimark__ebml_void_header(h, total);
	RETURN_IF_ERR(aimark__buf_append(&s->bytes, h, hl));
	s->zeros += total - hl;
	return 0;
}

/* Appends element `id` holding a CRC-32 child (when `crc`) then `content`, with a `width`-byte size (0: fewest). */
static int put_with_crc(aimark_buf *out, uint32_t id, const aimark_buf *content, int crc, size_t width)
{
	RETURN_IF_ERR(aimark__ebml_put_id(out, id));
	RETURN_IF_ERR(aimark__ebml_put_size(out, content->size + (crc ? 6u : 0u), width));
	if (crc) {
		unsigned char c[6] = { (unsigned char)AIMARK__EBML_ID_CRC32, 0x84 };
		aimark__put_le32(c + 2, aimark__ebml_crc32(content->ptr, content->size));
		RETURN_IF_ERR(aimark__buf_append(out, c, 6));
	}
	return aimark__buf_append(out, content->ptr, content->size);
}

/*
 * Writes element `id` (see put_with_crc) into `s`, then a Void filling the
 * rest of `room` bytes. *fits is 0, and nothing is written, when it cannot
 * fill `room` exactly.
 */
static int put_fitted(mkv_splice *s, uint32_t id, const aimark_buf *content, int crc, uint64_t room, int *fits)
{
	uint64_t body = content->size + (crc ? 6u : 0u);
	size_t idl = id > 0xFFFFFFu ? 4 : id > 0xFFFFu ? 3 : id > 0xFFu ? 2 : 1;
	size_t w = aimark__ebml_size_width(body);
	uint64_t total = idl + w + body;
	*fits = 0;
	if (total > room)
		return 0;
	uint64_t rest = room - total;
	if (rest == 1) {
		if (w == 8)
			return 0;
		w++; /* a wider size field takes the odd byte */
		rest = 0;
	}
	RETURN_IF_ERR(put_with_crc(&s->bytes, id, content, crc, w));
	RETURN_IF_ERR(put_void(s, rest));
	*fits = 1;
	return 0;
}

static int put_simpletag(aimark_buf *out, const char *json, size_t len)
{
	aimark_buf st = AIMARK_BUF_INIT;
	int rc = aimark__ebml_put_element(&st, AIMARK__MKV_ID_TAGNAME, "AIGC", 4);
	if (rc == 0)
		rc = aimark__ebml_put_element(&st, AIMARK__MKV_ID_TAGSTRING, json, len);
	if (rc == 0)
		rc = aimark__ebml_put_element(out, AIMARK__MKV_ID_SIMPLETAG, st.ptr, st.size);
	aimark_buf_dispose(&st);
	return rc;
}

/* Copies a SimpleTag without the AIGC SimpleTags nested in it. */
static int copy_simpletag(aimark_buf *out, const mview *v, const aimark__ebml_elem *st, int depth)
{
	RETURN_IF(depth > MKV_MAX_SIMPLETAG_DEPTH, AIMARK_EFORMAT, "Matroska: SimpleTags nested too deep at offset %llu",
		  (unsigned long long)st->offset);
	aimark_buf inner = AIMARK_BUF_INIT;
	size_t pos = vpos(v, st->data), end = pos + (size_t)st->size;
	int rc = 0;
	while (pos < end && rc == 0) {
		aimark__ebml_elem c;
		rc = child_at(v, pos, end, &c);
		if (rc)
			break;
		size_t cp = vpos(v, c.data), ce = cp + (size_t)c.size;
		if (c.id == AIMARK__MKV_ID_SIMPLETAG) {
			if (!simpletag_is_aigc(v, cp, ce))
				rc = copy_simpletag(&inner, v, &c, depth + 1);
		} else {
			rc = aimark__buf_append(&inner, v->m + vpos(v, c.offset), ce - vpos(v, c.offset));
		}
		pos = ce;
	}
	if (rc == 0)
		rc = aimark__ebml_put_element(out, AIMARK__MKV_ID_SIMPLETAG, inner.ptr, inner.size);
	aimark_buf_dispose(&inner);
	return rc;
}

/*
 * The content of a Tags element with every AIGC SimpleTag removed and, when
 * `json` is set, the label added to the first whole-file Tag (or a new one).
 * Void children are dropped. *crc says whether it opened with a CRC-32.
 */
static int rebuild_tags(const mview *v, const char *json, size_t jlen, aimark_buf *out, int *crc)
{
	int added = json == NULL, rc = 0;
	*crc = 0;
	for (size_t pos = 0; pos < v->len && rc == 0;) {
		aimark__ebml_elem c;
		RETURN_IF_ERR(child_at(v, pos, v->len, &c));
		size_t cp = vpos(v, c.data), ce = cp + (size_t)c.size;
		if (c.id == AIMARK__EBML_ID_CRC32 && pos == 0) {
			*crc = 1;
		} else if (c.id == AIMARK__EBML_ID_VOID) {
			/* dropped: the element is re-packed */
		} else if (c.id != AIMARK__MKV_ID_TAG) {
			rc = aimark__buf_append(out, v->m + pos, ce - pos);
		} else {
			aimark_buf tag = AIMARK_BUF_INIT;
			int global = 1, simple = 0;
			for (size_t p = cp; p < ce && rc == 0;) {
				aimark__ebml_elem t;
				rc = child_at(v, p, ce, &t);
				if (rc)
					break;
				size_t tp = vpos(v, t.data), te = tp + (size_t)t.size;
				if (t.id == AIMARK__MKV_ID_TARGETS) {
					int g = targets_global(v, tp, te);
					rc = g < 0 ? g : 0;
					global = g > 0;
					if (rc == 0)
						rc = aimark__buf_append(&tag, v->m + p, te - p);
				} else if (t.id == AIMARK__MKV_ID_SIMPLETAG) {
					if (!simpletag_is_aigc(v, tp, te)) {
						rc = copy_simpletag(&tag, v, &t, 1);
						simple++;
					}
				} else if (t.id != AIMARK__EBML_ID_VOID) {
					rc = aimark__buf_append(&tag, v->m + p, te - p);
				}
				p = te;
			}
			if (rc == 0 && global && !added) {
				rc = put_simpletag(&tag, json, jlen);
				added = 1;
				simple++;
			}
			if (rc == 0 && simple > 0) /* a Tag needs a SimpleTag */
				rc = aimark__ebml_put_element(out, AIMARK__MKV_ID_TAG, tag.ptr, tag.size);
			aimark_buf_dispose(&tag);
		}
		pos = ce;
	}
	if (rc == 0 && !added) {
		aimark_buf tag = AIMARK_BUF_INIT;
		rc = aimark__ebml_put_element(&tag, AIMARK__MKV_ID_TARGETS, NULL, 0);
		if (rc == 0)
			rc = put_simpletag(&tag, json, jlen);
		if (rc == 0)
			rc = aimark__ebml_put_element(out, AIMARK__MKV_ID_TAG, tag.ptr, tag.size);
		aimark_buf_dispose(&tag);
	}
	return rc;
}

/*
 * The SeekHead content with the Tags entry pointing at `pos` (relative to the
 * Segment data): the entry that pointed at `old_pos` is updated, or one is
 * added. Void children are dropped.
 */
static int rebuild_seekhead(const mview *v, int have_old, uint64_t old_pos, uint64_t pos_new, aimark_buf *out, int *crc)
{
	static const unsigned char tags_id[4] = { 0x12, 0x54, 0xC3, 0x67 };
	int done = 0;
	*crc = 0;
	for (size_t pos = 0; pos < v->len;) {
		aimark__ebml_elem c;
		RETURN_IF_ERR(child_at(v, pos, v->len, &c));
		size_t cp = vpos(v, c.data), ce = cp + (size_t)c.size;
		if (c.id == AIMARK__EBML_ID_CRC32 && pos == 0) {
			*crc = 1;
		} else if (c.id == AIMARK__EBML_ID_VOID) {
			/* dropped */
		} else if (c.id == AIMARK__MKV_ID_SEEK && !done && have_old) {
			int is_tags = 0;
			uint64_t sp = UINT64_MAX;
			size_t sp_width = 1;
			for (size_t p = cp; p < ce;) {
				aimark__ebml_elem s;
				RETURN_IF_ERR(child_at(v, p, ce, &s));
				const unsigned char *d = v->m + vpos(v, s.data);
				if (s.id == AIMARK__MKV_ID_SEEKID && s.size == 4 && memcmp(d, tags_id, 4) == 0)
					is_tags = 1;
				else if (s.id == AIMARK__MKV_ID_SEEKPOSITION && aimark__ebml_get_uint(d, (size_t)s.size, &sp) == 0)
					sp_width = s.size ? (size_t)s.size : 1;
				aimark_error_clear();
				p = vpos(v, s.data) + (size_t)s.size;
			}
			if (is_tags && sp == old_pos) {
				aimark_buf seek = AIMARK_BUF_INIT;
				int rc = aimark__ebml_put_element(&seek, AIMARK__MKV_ID_SEEKID, tags_id, 4);
				if (rc == 0)
					rc = aimark__ebml_put_uint(&seek, AIMARK__MKV_ID_SEEKPOSITION, pos_new, sp_width);
				if (rc == 0)
					rc = aimark__ebml_put_element(out, AIMARK__MKV_ID_SEEK, seek.ptr, seek.size);
				aimark_buf_dispose(&seek);
				RETURN_IF_ERR(rc);
				done = 1;
			} else {
				RETURN_IF_ERR(aimark__buf_append(out, v->m + pos, ce - pos));
			}
		} else {
			RETURN_IF_ERR(aimark__buf_append(out, v->m + pos, ce - pos));
		}
		pos = ce;
	}
	if (!done) {
		aimark_buf seek = AIMARK_BUF_INIT;
		int rc = aimark__ebml_put_element(&seek, AIMARK__MKV_ID_SEEKID, tags_id, 4);
		if (rc == 0)
			rc = aimark__ebml_put_uint(&seek, AIMARK__MKV_ID_SEEKPOSITION, pos_new, 1);
		if (rc == 0)
			rc = aimark__ebml_put_element(out, AIMARK__MKV_ID_SEEK, seek.ptr, seek.size);
		aimark_buf_dispose(&seek);
		RETURN_IF_ERR(rc);
	}
	return 0;
}

/* Voids, in a copy of a Tags element's data, every AIGC SimpleTag (a Tag left without one is voided whole). */
static int void_labels(unsigned char *m, size_t len, uint64_t base)
{
	mview v = { m, len, base };
	unsigned char h[9];
	for (size_t pos = 0; pos < len;) {
		aimark__ebml_elem tag;
		RETURN_IF_ERR(child_at(&v, pos, len, &tag));
		size_t tp = vpos(&v, tag.data), te = tp + (size_t)tag.size;
		if (tag.id == AIMARK__MKV_ID_TAG) {
			int other = 0;
			for (size_t p = tp; p < te;) {
				aimark__ebml_elem s;
				RETURN_IF_ERR(child_at(&v, p, te, &s));
				size_t sp = vpos(&v, s.data), se = sp + (size_t)s.size;
				if (s.id == AIMARK__MKV_ID_SIMPLETAG) {
					if (simpletag_is_aigc(&v, sp, se)) {
						size_t hl = aimark__ebml_void_header(h, se - p);
						memcpy(m + p, h, hl);
						memset(m + p + hl, 0, se - p - hl);
					} else {
						other = 1;
					}
				}
				p = se;
			}
			if (!other) {
				size_t hl = aimark__ebml_void_header(h, te - pos);
				memcpy(m + pos, h, hl);
				memset(m + pos + hl, 0, te - pos - hl);
			}
		}
		pos = te;
	}
	return 0;
}

typedef struct mkv_writer {
	aimark_source *src;
	const mkv_layout *lay;
	aimark_findings *findings;
	mkv_plan plan;
	aimark_buf buf, content;
} mkv_writer;

/* Rewrites another Tags element holding a label: AIGC SimpleTags become Voids, CRC recomputed. */
static int void_other_tags(mkv_writer *w, const aimark__ebml_elem *el)
{
	RETURN_IF_ERR(load_data(w->src, el, &w->buf));
	RETURN_IF_ERR(void_labels(w->buf.ptr, w->buf.size, el->data));
	mkv_splice *s = plan_add(&w->plan, el->data, el->size);
	RETURN_IF_ERR(aimark__buf_append(&s->bytes, w->buf.ptr, w->buf.size));
	mview v = { w->buf.ptr, w->buf.size, el->data };
	aimark__ebml_elem c;
	if (w->buf.size >= 6 && child_at(&v, 0, v.len, &c) == 0 && c.id == AIMARK__EBML_ID_CRC32 && c.size == 4)
		aimark__put_le32(s->bytes.ptr + 2, aimark__ebml_crc32(w->buf.ptr + 6, w->buf.size - 6));
	aimark_error_clear();
	return 0;
}

/* Points the SeekHead's Tags entry at the appended Tags; reports when there is no room. */
static int update_seekhead(mkv_writer *w, int have_old, uint64_t old_rel, uint64_t new_rel)
{
	const mkv_layout *lay = w->lay;
	if (!lay->have_seekhead)
		return aimark__findings_add(w->findings, AIMARK_SEVERITY_WARNING, "mkv-no-seekhead",
					    "Matroska: no SeekHead lists the Tags element appended at the end of the Segment");
	RETURN_IF_ERR(load_data(w->src, &lay->seekhead, &w->buf));
	mview v = { w->buf.ptr, w->buf.size, lay->seekhead.data };
	int crc, fits;
	aimark__buf_clear(&w->content);
	RETURN_IF_ERR(rebuild_seekhead(&v, have_old, old_rel, new_rel, &w->content, &crc));
	uint64_t room = aimark__ebml_total(&lay->seekhead) + lay->seekhead_room;
	mkv_splice *s = plan_add(&w->plan, lay->seekhead.offset, room);
	RETURN_IF_ERR(put_fitted(s, AIMARK__MKV_ID_SEEKHEAD, &w->content, crc, room, &fits));
	if (!fits) {
		w->plan.n--;
		aimark_buf_dispose(&s->bytes);
		return aimark__findings_add(w->findings, AIMARK_SEVERITY_WARNING, "mkv-seekhead-full",
					    "Matroska: no room in the SeekHead for the Tags element appended at the end of the Segment");
	}
	return 0;
}

static int writer_run(mkv_writer *w, const aimark__label_provider *label, aimark_sink *sink)
{
	const mkv_layout *lay = w->lay;
	const aimark__label_write *lw = NULL;
	RETURN_IF_ERR(label->get(label->ctx, &lw));
	RETURN_IF(lw == NULL || lw->bare_json == NULL, AIMARK_EINVAL, "Matroska: the label provider returned no label");
	int crc = 0, fits = 0, have_primary = lay->n_tags > 0, keep_old = 0;
	const aimark__ebml_elem *primary = have_primary ? &lay->tags[0] : NULL;

	/* the first Tags element, rebuilt with the label */
	if (have_primary) {
		RETURN_IF_ERR(load_data(w->src, primary, &w->buf));
		mview v = { w->buf.ptr, w->buf.size, primary->data };
		RETURN_IF_ERR(rebuild_tags(&v, lw->bare_json, lw->bare_len, &w->content, &crc));
		uint64_t room = aimark__ebml_total(primary) + lay->tags_room;
		mkv_splice *s = plan_add(&w->plan, primary->offset, room);
		RETURN_IF_ERR(put_fitted(s, AIMARK__MKV_ID_TAGS, &w->content, crc, room, &fits));
		if (!fits && !lay->tags_ends_cluster[0]) {
			/* too big for its place: the old one becomes a Void */
			s->old_len = aimark__ebml_total(primary);
			RETURN_IF_ERR(put_void(s, s->old_len));
		} else if (!fits) {
			/*
			 * It ends an unknown-size Cluster, so it must stay a Tags element:
			 * only its AIGC tags become Voids, and the label alone goes in the
			 * appended Tags, listed by a new SeekHead entry.
			 */
			w->plan.n--;
			if (lay->tags_label[0])
				RETURN_IF_ERR(void_other_tags(w, primary));
			aimark__buf_clear(&w->content);
			RETURN_IF_ERR(rebuild_tags(&(mview){ NULL, 0, 0 }, lw->bare_json, lw->bare_len, &w->content, &crc));
			keep_old = 1;
		}
	} else {
		RETURN_IF_ERR(rebuild_tags(&(mview){ NULL, 0, 0 }, lw->bare_json, lw->bare_len, &w->content, &crc));
	}
	for (size_t i = 1; i < lay->n_tags; i++) {
		if (!lay->tags_label[i])
			continue;
		RETURN_IF_ERR(void_other_tags(w, &lay->tags[i]));
		uint64_t total = 0;
		for (size_t k = 0; k < w->plan.n; k++)
			total += w->plan.items[k].bytes.size;
		RETURN_IF(total > MKV_MAX_REWRITTEN, AIMARK_ELIMIT, "Matroska: the Tags elements to rewrite hold over %llu bytes",
			  (unsigned long long)MKV_MAX_REWRITTEN);
	}

	if (!fits) {
		/* append at the end of the Segment */
		mkv_splice *s = plan_add(&w->plan, lay->seg_end, 0);
		RETURN_IF_ERR(put_with_crc(&s->bytes, AIMARK__MKV_ID_TAGS, &w->content, crc, 0));
		uint64_t added = s->bytes.size;
		if (!lay->segment.unknown) {
			uint64_t nsize = lay->segment.size + added;
			size_t width = lay->segment.size_len;
			if (nsize > aimark__ebml_size_max(width))
				width = 8;
			RETURN_IF(nsize > aimark__ebml_size_max(8), AIMARK_ELIMIT, "Matroska: Segment too large");
			mkv_splice *h = plan_add(&w->plan, lay->segment.offset, lay->segment.data - lay->segment.offset);
			RETURN_IF_ERR(aimark__ebml_put_id(&h->bytes, AIMARK__MKV_ID_SEGMENT));
			RETURN_IF_ERR(aimark__ebml_put_size(&h->bytes, nsize, width));
		}
		RETURN_IF_ERR(update_seekhead(w, have_primary && !keep_old, have_primary ? primary->offset - lay->segment.data : 0,
					      lay->seg_end - lay->segment.data));
	}
	return plan_emit(&w->plan, w->src, sink, lay->file_size);
}

static int mkv_write(aimark_source *src, const aimark__meta *meta, const aimark__label_provider *label, aimark_sink *sink)
{
	const mkv_layout *lay = meta ? meta->priv : NULL;
	RETURN_IF(lay == NULL || label == NULL || label->get == NULL || sink == NULL, AIMARK_EINVAL,
		  "Matroska: write needs the layout from read(), a label and a sink");
	RETURN_IF(lay->file_size != aimark_source_size(src), AIMARK_EINVAL, "Matroska: the source changed since it was read");
	mkv_writer w;
	memset(&w, 0, sizeof w);
	w.src = src;
	w.lay = lay;
	w.findings = meta->findings;
	int rc = writer_run(&w, label, sink);
	plan_dispose(&w.plan);
	aimark_buf_dispose(&w.buf);
	aimark_buf_dispose(&w.content);
	return rc;
}

static const char *const mkv_extensions[] = { "mkv", "webm", "mka", "mk3d", NULL };

const aimark__format_ops aimark__format_mkv = {
	.name = "mkv",
	.extensions = mkv_extensions,
	.probe = mkv_probe,
	.read = mkv_read,
	.write = mkv_write,
};

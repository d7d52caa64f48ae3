/*
 * AVI (RIFF 'AVI ') backend.
 *
 * The label is the sub-chunk AIGC of a LIST 'INFO' chunk, holding the bare
 * JSON and a terminating NUL. Reading also accepts a top-level AIGC chunk
 * (the WAV placement). The essence is the data of every LIST 'movi' (in the
 * first RIFF and in OpenDML 'AVIX' extensions).
 *
 * Writing never moves the movi list, so idx1 (relative) and OpenDML index
 * (absolute) offsets stay valid: the first INFO list is rebuilt with the
 * label and written in place when it fits in its old space plus the JUNK
 * chunks after it. Otherwise its AIGC sub-chunks are renamed JUNK and a new
 * LIST INFO holding the label takes the place of a JUNK chunk big enough
 * for it (ffmpeg reserves one ahead of movi), or else is appended at the end
 * of the RIFF 'AVI ' chunk, whose size is updated. Appending would move the
 * 'AVIX' extensions of files over 1 GiB, so that last case is refused
 * there (AIMARK_EUNSUPPORTED).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/findings_internal.h"
#include "core/internal.h"
#include "core/io_internal.h"
#include "format.h"

#define CARRIER_AVI_INFO "avi-info"   /* LIST INFO / AIGC */
#define CARRIER_AVI_CHUNK "avi-chunk" /* a top-level AIGC chunk */

#define AVI_MAX_LISTS 64
#define AVI_MAX_CHUNKS (1u << 22)
#define AVI_MAX_LOADED ((uint64_t)AIMARK__MAX_METADATA_BLOCK)
#define AVI_MAX_REWRITTEN (UINT64_C(64) << 20) /* all rewritten INFO lists together */

typedef struct avi_chunk {
	uint64_t off;   /* the chunk's FourCC */
	uint32_t size;  /* data bytes, without the pad byte */
} avi_chunk;

typedef struct avi_layout {
	uint64_t file_size;
	uint64_t riff_end;          /* 8 + RIFF size */
	uint32_t riff_size;
	int has_avix;
	avi_chunk info[AVI_MAX_LISTS];   /* top-level LIST INFO chunks */
	uint8_t info_label[AVI_MAX_LISTS];
	size_t n_info;
	uint64_t info_room;         /* JUNK bytes right after the first INFO list */
	avi_chunk aigc[AVI_MAX_LISTS];   /* top-level AIGC chunks */
	size_t n_aigc;
	avi_chunk junk[AVI_MAX_LISTS];   /* top-level JUNK chunks (the first ones) */
	size_t n_junk;
} avi_layout;

static void layout_free(void *p) { aimark__free(p); }

static int is_aigc_id(const unsigned char *id, int *exact)
{
	*exact = memcmp(id, "AIGC", 4) == 0;
	return strncasecmp((const char *)id, "AIGC", 4) == 0;
}

static int load_list(aimark_source *src, const avi_chunk *c, aimark_buf *buf)
{
	RETURN_IF(c->size > AVI_MAX_LOADED, AIMARK_ELIMIT, "AVI: LIST at offset %llu holds %u bytes, over the %llu-byte limit",
		  (unsigned long long)c->off, c->size, (unsigned long long)AVI_MAX_LOADED);
	aimark__buf_clear(buf);
	RETURN_IF_ERR(aimark__buf_reserve(buf, c->size));
	RETURN_IF_ERR(aimark_source_read(src, c->off + 8, buf->ptr, c->size));
	buf->size = c->size;
	return 0;
}

/*
 * Walks the sub-chunks of a loaded INFO list (data after the 'INFO' type).
 * Calls `fn` for each; a sub-chunk passing the end is AIMARK_EFORMAT.
 */
typedef int (*sub_fn)(void *ctx, unsigned char *p, size_t pos, uint32_t size, size_t next);

static int walk_info(unsigned char *p, size_t len, uint64_t base, sub_fn fn, void *ctx)
{
	size_t pos = 4;
	while (pos < len) {
		RETURN_IF(len - pos < 8, AIMARK_EFORMAT, "AVI: truncated INFO sub-chunk at offset %llu", (unsigned long long)(base + pos));
		uint32_t size = aimark__le32(p + pos + 4);
		RETURN_IF(size > len - pos - 8, AIMARK_EFORMAT,
			  "AVI: INFO sub-chunk at offset %llu declares %u bytes, passing the end of its list",
			  (unsigned long long)(base + pos), size);
		size_t next = pos + 8 + size;
		if ((size & 1) && next < len)
			next++;
		RETURN_IF_ERR(fn(ctx, p, pos, size, next));
		pos = next;
	}
	return 0;
}

typedef struct scan_ctx {
	aimark__meta *meta;
	uint64_t base;
	int found;
} scan_ctx;

static int add_text(aimark__meta *meta, const char *kind, const unsigned char *id, const unsigned char *p, size_t n,
		    uint64_t off, int exact)
{
	while (n > 0 && p[n - 1] == '\0')
		n--;
	RETURN_IF_ERR(aimark__meta_add_carrier(meta, kind, (const char *)p, n, off));
	if (!exact)
		RETURN_IF_ERR(aimark__findings_add(meta->findings, AIMARK_SEVERITY_WARNING, "avi-chunk-name",
						   "AVI: label chunk at offset %llu is named \"%.4s\", not \"AIGC\"",
						   (unsigned long long)off, (const char *)id));
	return 0;
}

static int scan_sub(void *vctx, unsigned char *p, size_t pos, uint32_t size, size_t next)
{
	scan_ctx *c = vctx;
	int exact;
	(void)next;
	if (!is_aigc_id(p + pos, &exact))
		return 0;
	c->found = 1;
	return add_text(c->meta, CARRIER_AVI_INFO, p + pos, p + pos + 8, size, c->base + pos, exact);
}

/* Walks the chunks of a RIFF 'AVIX' extension for its movi data. */
static int read_avix(aimark_source *src, aimark__meta *meta, uint64_t off, uint64_t end)
{
	unsigned char h[12];
	for (uint64_t pos = off + 12; pos + 8 <= end;) {
		RETURN_IF_ERR(aimark_source_read(src, pos, h, pos + 12 <= end ? 12 : 8));
		uint32_t size = aimark__le32(h + 4);
		RETURN_IF(size > end - pos - 8, AIMARK_EFORMAT, "AVI: chunk at offset %llu in an AVIX extension passes its end",
			  (unsigned long long)pos);
		if (memcmp(h, "LIST", 4) == 0 && size >= 4 && memcmp(h + 8, "movi", 4) == 0)
			RETURN_IF_ERR(aimark__meta_add_essence(meta, pos + 12, size - 4));
		pos += 8 + (uint64_t)size + (size & 1);
	}
	return 0;
}

static int avi_probe(const unsigned char *h, size_t len)
{
	return len >= 12 && memcmp(h, "RIFF", 4) == 0 && memcmp(h + 8, "AVI ", 4) == 0;
}

static int avi_read(aimark_source *src, aimark__meta *meta)
{
	avi_layout *lay = aimark__calloc(1, sizeof *lay);
	RETURN_ENOMEM_IF_NULL(lay);
	meta->priv = lay;
	meta->priv_free = layout_free;
	uint64_t size = aimark_source_size(src);
	unsigned char h[12];
	lay->file_size = size;
	RETURN_IF(size < 12, AIMARK_EFORMAT, "AVI: %llu bytes is too short for a RIFF header", (unsigned long long)size);
	RETURN_IF_ERR(aimark_source_read(src, 0, h, 12));
	RETURN_IF(!avi_probe(h, 12), AIMARK_EFORMAT, "AVI: not a RIFF 'AVI ' file");
	lay->riff_size = aimark__le32(h + 4);
	lay->riff_end = 8 + (uint64_t)lay->riff_size;
	RETURN_IF(lay->riff_size < 4, AIMARK_EFORMAT, "AVI: RIFF size %u is too small", lay->riff_size);
	RETURN_IF(lay->riff_end > size, AIMARK_EFORMAT, "AVI: RIFF size %u passes the end of the file (%llu bytes)",
		  lay->riff_size, (unsigned long long)size);
	enum { AFTER_NONE, AFTER_INFO } after = AFTER_NONE;
	aimark_buf buf = AIMARK_BUF_INIT;
	int rc = 0;
	uint32_t budget = AVI_MAX_CHUNKS;
	uint64_t pos = 12;
	while (pos < lay->riff_end && rc == 0) {
		if (budget-- == 0) {
			rc = aimark__error_set(AIMARK_ELIMIT, "AVI: more than %u chunks", AVI_MAX_CHUNKS);
			break;
		}
		if (lay->riff_end - pos < 8) {
			rc = aimark__error_set(AIMARK_EFORMAT, "AVI: truncated chunk header at offset %llu", (unsigned long long)pos);
			break;
		}
		rc = aimark_source_read(src, pos, h, lay->riff_end - pos >= 12 ? 12 : 8);
		if (rc)
			break;
		avi_chunk c = { pos, aimark__le32(h + 4) };
		if (c.size > lay->riff_end - pos - 8) {
			rc = aimark__error_set(AIMARK_EFORMAT, "AVI: chunk '%.4s' at offset %llu declares %u bytes, passing the end of the RIFF data",
					       (const char *)h, (unsigned long long)pos, c.size);
			break;
		}
		pos += 8 + (uint64_t)c.size + (c.size & 1);
		int exact;
		if (memcmp(h, "JUNK", 4) == 0) {
			if (lay->n_junk < AVI_MAX_LISTS)
				lay->junk[lay->n_junk++] = c;
			if (after == AFTER_INFO)
				lay->info_room += 8 + (uint64_t)c.size + (c.size & 1);
			continue;
		}
		after = AFTER_NONE;
		if (memcmp(h, "LIST", 4) == 0) {
			if (c.size < 4) {
				rc = aimark__error_set(AIMARK_EFORMAT, "AVI: LIST at offset %llu is shorter than its type", (unsigned long long)c.off);
				break;
			}
			if (memcmp(h + 8, "movi", 4) == 0) {
				rc = aimark__meta_add_essence(meta, c.off + 12, c.size - 4);
			} else if (memcmp(h + 8, "INFO", 4) == 0) {
				if (lay->n_info >= AVI_MAX_LISTS) {
					rc = aimark__error_set(AIMARK_ELIMIT, "AVI: more than %d INFO lists", AVI_MAX_LISTS);
					break;
				}
				scan_ctx sc = { meta, c.off + 8, 0 };
				rc = load_list(src, &c, &buf);
				if (rc == 0)
					rc = walk_info(buf.ptr, buf.size, c.off + 8, scan_sub, &sc);
				lay->info_label[lay->n_info] = (uint8_t)sc.found;
				lay->info[lay->n_info] = c;
				if (lay->n_info++ == 0)
					after = AFTER_INFO;
			}
		} else if (is_aigc_id(h, &exact)) {
			if (lay->n_aigc >= AVI_MAX_LISTS) {
				rc = aimark__error_set(AIMARK_ELIMIT, "AVI: more than %d AIGC chunks", AVI_MAX_LISTS);
				break;
			}
			lay->aigc[lay->n_aigc++] = c;
			avi_chunk body = { c.off, c.size };
			rc = load_list(src, &body, &buf);
			if (rc == 0)
				rc = add_text(meta, CARRIER_AVI_CHUNK, h, buf.ptr, buf.size, c.off, exact);
			if (rc == 0)
				rc = aimark__findings_add(meta->findings, AIMARK_SEVERITY_WARNING, "avi-aigc-chunk",
							  "AVI: label in a top-level AIGC chunk at offset %llu, not in LIST INFO",
							  (unsigned long long)c.off);
		}
	}
	/* OpenDML extensions after the first RIFF */
	for (pos = lay->riff_end + (lay->riff_end & 1); rc == 0 && pos + 12 <= size;) {
		rc = aimark_source_read(src, pos, h, 12);
		if (rc || memcmp(h, "RIFF", 4) != 0 || memcmp(h + 8, "AVIX", 4) != 0)
			break;
		uint64_t end = pos + 8 + aimark__le32(h + 4);
		if (end > size) {
			rc = aimark__error_set(AIMARK_EFORMAT, "AVI: AVIX extension at offset %llu passes the end of the file",
					       (unsigned long long)pos);
			break;
		}
		lay->has_avix = 1;
		rc = read_avix(src, meta, pos, end);
		pos = end + (end & 1);
	}
	aimark_buf_dispose(&buf);
	return rc;
}

/* ----------------------------------------------------------------- write */

typedef struct avi_splice {
	uint64_t off;
	uint64_t old_len;  /* 0: an insertion */
	aimark_buf bytes;
	uint64_t zeros;    /* filler after `bytes` */
} avi_splice;

typedef struct avi_writer {
	aimark_source *src;
	const avi_layout *lay;
	avi_splice *items;
	size_t n, cap;
	aimark_buf buf;
} avi_writer;

static avi_splice *splice_add(avi_writer *w, uint64_t off, uint64_t old_len)
{
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 8;
		avi_splice *p = aimark__realloc(w->items, cap * sizeof *p);
		if (p == NULL) {
			aimark__error_set(AIMARK_ENOMEM, "out of memory");
			return NULL;
		}
		w->items = p;
		w->cap = cap;
	}
	avi_splice *s = &w->items[w->n++];
	memset(s, 0, sizeof *s);
	s->off = off;
	s->old_len = old_len;
	return s;
}

static int splice_cmp(const void *a, const void *b)
{
	const avi_splice *x = a, *y = b;
	if (x->off != y->off)
		return x->off < y->off ? -1 : 1;
	return x->old_len < y->old_len ? -1 : x->old_len > y->old_len;
}

static int emit(avi_writer *w, aimark_sink *sink)
{
	static const unsigned char zeros[4096];
	qsort(w->items, w->n, sizeof w->items[0], splice_cmp);
	uint64_t pos = 0;
	for (size_t i = 0; i < w->n; i++) {
		const avi_splice *s = &w->items[i];
		RETURN_IF(s->off < pos, AIMARK_EINVAL, "AVI: overlapping edits at offset %llu", (unsigned long long)s->off);
		RETURN_IF_ERR(aimark__sink_copy_range(sink, w->src, pos, s->off - pos));
		RETURN_IF_ERR(aimark_sink_write(sink, s->bytes.ptr, s->bytes.size));
		for (uint64_t z = s->zeros; z > 0;) {
			size_t n = z < sizeof zeros ? (size_t)z : sizeof zeros;
			RETURN_IF_ERR(aimark_sink_write(sink, zeros, n));
			z -= n;
		}
		pos = s->off + s->old_len;
	}
	return aimark__sink_copy_range(sink, w->src, pos, w->lay->file_size - pos);
}

static int put_fourcc_size(aimark_buf *out, const char *id, uint32_t size)
{
	unsigned char h[8];
	memcpy(h, id, 4);
	aimark__put_le32(h + 4, size);
	return aimark__buf_append(out, h, 8);
}

/* The AIGC sub-chunk: JSON, NUL, pad to even. */
static int put_aigc(aimark_buf *out, const char *json, size_t len)
{
	RETURN_IF(len > UINT32_MAX - 2, AIMARK_ELIMIT, "AVI: label too long");
	RETURN_IF_ERR(put_fourcc_size(out, "AIGC", (uint32_t)len + 1));
	RETURN_IF_ERR(aimark__buf_append(out, json, len));
	static const unsigned char nul[2] = { 0, 0 };
	return aimark__buf_append(out, nul, (len + 1) & 1 ? 2 : 1);
}

typedef struct rebuild_ctx {
	aimark_buf *out;
} rebuild_ctx;

static int copy_sub(void *vctx, unsigned char *p, size_t pos, uint32_t size, size_t next)
{
	rebuild_ctx *c = vctx;
	int exact;
	if (is_aigc_id(p + pos, &exact))
		return 0;
	RETURN_IF_ERR(aimark__buf_append(c->out, p + pos, next - pos));
	if (next - pos < 8 + (size_t)size + (size & 1)) /* the list's last sub-chunk lacked its pad byte */
		RETURN_IF_ERR(aimark__buf_append(c->out, "", 1));
	return 0;
}

static int junk_sub(void *vctx, unsigned char *p, size_t pos, uint32_t size, size_t next)
{
	int exact;
	(void)vctx;
	(void)next;
	if (is_aigc_id(p + pos, &exact)) {
		memcpy(p + pos, "JUNK", 4);
		memset(p + pos + 8, 0, size); /* no stale label text left behind */
	}
	return 0;
}

/* Renames the AIGC sub-chunks of an INFO list to JUNK, in place. */
static int junk_labels(avi_writer *w, const avi_chunk *c)
{
	RETURN_IF_ERR(load_list(w->src, c, &w->buf));
	RETURN_IF_ERR(walk_info(w->buf.ptr, w->buf.size, c->off + 8, junk_sub, NULL));
	avi_splice *s = splice_add(w, c->off + 8, c->size);
	RETURN_ENOMEM_IF_NULL(s);
	return aimark__buf_append(&s->bytes, w->buf.ptr, w->buf.size);
}

static int writer_run(avi_writer *w, const aimark__label_provider *label)
{
	const avi_layout *lay = w->lay;
	const aimark__label_write *lw = NULL;
	RETURN_IF_ERR(label->get(label->ctx, &lw));
	RETURN_IF(lw == NULL || lw->bare_json == NULL, AIMARK_EINVAL, "AVI: the label provider returned no label");
	int placed = 0;
	if (lay->n_info > 0) {
		const avi_chunk *info = &lay->info[0];
		aimark_buf list = AIMARK_BUF_INIT;
		rebuild_ctx rc_ = { &list };
		int rc = put_fourcc_size(&list, "LIST", 0);
		if (rc == 0)
			rc = aimark__buf_append(&list, "INFO", 4);
		if (rc == 0)
			rc = load_list(w->src, info, &w->buf);
		if (rc == 0)
			rc = walk_info(w->buf.ptr, w->buf.size, info->off + 8, copy_sub, &rc_);
		if (rc == 0)
			rc = put_aigc(&list, lw->bare_json, lw->bare_len);
		uint64_t room = 8 + (uint64_t)info->size + (info->size & 1) + lay->info_room;
		if (rc == 0 && list.size - 8 > UINT32_MAX)
			rc = aimark__error_set(AIMARK_ELIMIT, "AVI: INFO list too large");
		if (rc == 0 && list.size <= room && (room - list.size == 0 || (room - list.size >= 8 && (room - list.size) % 2 == 0))) {
			aimark__put_le32(list.ptr + 4, (uint32_t)(list.size - 8));
			avi_splice *s = splice_add(w, info->off, room);
			rc = s ? 0 : AIMARK_ENOMEM;
			if (rc == 0)
				rc = aimark__buf_append(&s->bytes, list.ptr, list.size);
			if (rc == 0 && room > list.size) {
				rc = put_fourcc_size(&s->bytes, "JUNK", (uint32_t)(room - list.size - 8));
				s->zeros = room - list.size - 8;
			}
			placed = 1;
		} else if (rc == 0 && lay->info_label[0]) {
			rc = junk_labels(w, info);
		}
		aimark_buf_dispose(&list);
		RETURN_IF_ERR(rc);
	}
	for (size_t i = 1; i < lay->n_info; i++) {
		if (!lay->info_label[i])
			continue;
		RETURN_IF_ERR(junk_labels(w, &lay->info[i]));
		uint64_t total = 0;
		for (size_t k = 0; k < w->n; k++)
			total += w->items[k].bytes.size;
		RETURN_IF(total > AVI_MAX_REWRITTEN, AIMARK_ELIMIT, "AVI: the INFO lists to rewrite hold over %llu bytes",
			  (unsigned long long)AVI_MAX_REWRITTEN);
	}
	for (size_t i = 0; i < lay->n_aigc; i++) {
		avi_splice *s = splice_add(w, lay->aigc[i].off, 8 + (uint64_t)lay->aigc[i].size);
		RETURN_ENOMEM_IF_NULL(s);
		RETURN_IF_ERR(put_fourcc_size(&s->bytes, "JUNK", lay->aigc[i].size));
		s->zeros = lay->aigc[i].size;
	}
	/* a new INFO list in the place of a JUNK chunk (padding) that is big enough */
	for (size_t i = 0; i < lay->n_junk && !placed; i++) {
		const avi_chunk *j = &lay->junk[i];
		uint64_t room = 8 + (uint64_t)j->size + (j->size & 1), need;
		if (lay->n_info > 0) {
			uint64_t info_end = lay->info[0].off + 8 + (uint64_t)lay->info[0].size + (lay->info[0].size & 1);
			if (j->off >= info_end && j->off < info_end + lay->info_room)
				continue; /* part of the first INFO list's room, already tried */
		}
		aimark_buf list = AIMARK_BUF_INIT;
		int rc = put_fourcc_size(&list, "LIST", 0);
		if (rc == 0)
			rc = aimark__buf_append(&list, "INFO", 4);
		if (rc == 0)
			rc = put_aigc(&list, lw->bare_json, lw->bare_len);
		need = list.size;
		if (rc == 0 && need <= room && (room - need == 0 || (room - need >= 8 && (room - need) % 2 == 0))) {
			aimark__put_le32(list.ptr + 4, (uint32_t)(need - 8));
			avi_splice *s = splice_add(w, j->off, room);
			rc = s ? aimark__buf_append(&s->bytes, list.ptr, list.size) : AIMARK_ENOMEM;
			if (rc == 0 && room > need) {
				rc = put_fourcc_size(&s->bytes, "JUNK", (uint32_t)(room - need - 8));
				s->zeros = room - need - 8;
			}
			placed = 1;
		}
		aimark_buf_dispose(&list);
		RETURN_IF_ERR(rc);
	}
	if (!placed) {
		RETURN_IF(lay->has_avix, AIMARK_EUNSUPPORTED,
			  "AVI: the label does not fit in the existing INFO list, and appending one would move the OpenDML AVIX extensions (files over 1 GiB)");
		avi_splice *s = splice_add(w, lay->riff_end, 0);
		RETURN_ENOMEM_IF_NULL(s);
		if (lay->riff_end & 1)
			RETURN_IF_ERR(aimark__buf_append(&s->bytes, "", 1)); /* the last chunk's missing pad byte */
		size_t start = s->bytes.size;
		RETURN_IF_ERR(put_fourcc_size(&s->bytes, "LIST", 0));
		RETURN_IF_ERR(aimark__buf_append(&s->bytes, "INFO", 4));
		RETURN_IF_ERR(put_aigc(&s->bytes, lw->bare_json, lw->bare_len));
		aimark__put_le32(s->bytes.ptr + start + 4, (uint32_t)(s->bytes.size - start - 8));
		uint64_t riff = (uint64_t)lay->riff_size + s->bytes.size;
		RETURN_IF(riff > UINT32_MAX, AIMARK_ELIMIT, "AVI: the RIFF chunk would pass 4 GiB");
		avi_splice *h = splice_add(w, 4, 4);
		RETURN_ENOMEM_IF_NULL(h);
		unsigned char b[4];
		aimark__put_le32(b, (uint32_t)riff);
		RETURN_IF_ERR(aimark__buf_append(&h->bytes, b, 4));
	}
	return 0;
}

static int avi_write(aimark_source *src, const aimark__meta *meta, const aimark__label_provider *label, aimark_sink *sink)
{
	const avi_layout *lay = meta ? meta->priv : NULL;
	RETURN_IF(lay == NULL || label == NULL || label->get == NULL || sink == NULL, AIMARK_EINVAL,
		  "AVI: write needs the layout from read(), a label and a sink");
	RETURN_IF(lay->file_size != aimark_source_size(src), AIMARK_EINVAL, "AVI: the source changed since it was read");
	avi_writer w;
	memset(&w, 0, sizeof w);
	w.src = src;
	w.lay = lay;
	int rc = writer_run(&w, label);
	if (rc == 0)
		rc = emit(&w, sink);
	for (size_t i = 0; i < w.n; i++)
		aimark_buf_dispose(&w.items[i].bytes);
	aimark__free(w.items);
	aimark_buf_dispose(&w.buf);
	return rc;
}

static const char *const avi_extensions[] = { "avi", NULL };

const aimark__format_ops aimark__format_avi = {
	.name = "avi",
	.extensions = avi_extensions,
	.probe = avi_probe,
	.read = avi_read,
	.write = avi_write,
};

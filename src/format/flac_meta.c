/*
 * FLAC: the GB 45438 label is the Vorbis comment field AIGC=<json> in the
 * VORBIS_COMMENT metadata block (created after STREAMINFO when absent). The
 * size change is taken from, or given to, a PADDING block when one exists,
 * so that usually the audio frames keep their offset and the file its size.
 *
 * Essence: the STREAMINFO payload (sample rate, channels, bit depth, total
 * samples, MD5 of the decoded audio) and the audio frames (everything after
 * the last metadata block, less an ID3v1 trailer).
 */
#include <string.h>

#include "core/findings_internal.h"
#include "core/internal.h"
#include "core/io_internal.h"
#include "format.h"
#include "id3.h"
#include "vorbis_comment.h"

#define MAX_BLOCKS 1024
#define MAX_BLOCK_LEN 0xFFFFFFu
#define STREAMINFO_LEN 34

enum { T_STREAMINFO = 0, T_PADDING = 1, T_VORBIS_COMMENT = 4, T_INVALID = 127 };

typedef struct flac_block {
	uint64_t off; /* block header */
	uint32_t len; /* payload */
	int type;
	int has_aigc;
	int broken;   /* a Vorbis comment that does not parse */
} flac_block;

typedef struct flac_layout {
	uint64_t magic_off;       /* "fLaC" (after a non-standard ID3v2 prefix) */
	int id3_aigc;             /* that prefix holds a TXXX AIGC frame */
	flac_block *blocks;
	size_t n;
	uint64_t audio_start, file_size;
} flac_layout;

static void layout_free(void *p)
{
	flac_layout *l = p;
	if (l) {
		aimark__free(l->blocks);
		aimark__free(l);
	}
}

static int flac_probe(const unsigned char *h, size_t len) { return len >= 4 && memcmp(h, "fLaC", 4) == 0; }

static int load(aimark_source *src, uint64_t off, uint64_t len, aimark_buf *b)
{
	RETURN_IF(len > AIMARK__MAX_METADATA_BLOCK, AIMARK_ELIMIT, "FLAC: %llu-byte block at offset %llu exceeds the %u-byte limit",
		  (unsigned long long)len, (unsigned long long)off, AIMARK__MAX_METADATA_BLOCK);
	aimark__buf_clear(b);
	RETURN_IF_ERR(aimark__buf_reserve(b, (size_t)len));
	RETURN_IF_ERR(aimark_source_read(src, off, b->ptr, (size_t)len));
	b->size = (size_t)len;
	return 0;
}

static int read_id3_prefix(aimark_source *src, aimark__meta *meta, flac_layout *l, aimark_buf *tmp)
{
	unsigned char h[AIMARK__ID3_HEADER_SIZE];
	uint64_t total;
	if (l->file_size < sizeof h)
		return 0;
	RETURN_IF_ERR(aimark_source_read(src, 0, h, sizeof h));
	if (memcmp(h, "ID3", 3) != 0)
		return 0;
	RETURN_IF(aimark__id3_header_parse(h, 0, &total) != 0 || total > l->file_size, AIMARK_EFORMAT,
		  "FLAC: invalid ID3v2 tag at offset 0");
	RETURN_IF_ERR(aimark__findings_add(meta->findings, AIMARK_SEVERITY_INFO, "flac-id3-prefix",
					   "FLAC: the stream is preceded by a %llu-byte ID3v2 tag", (unsigned long long)total));
	RETURN_IF_ERR(load(src, 0, total, tmp));
	int n = aimark__id3_find_aigc(tmp->ptr, tmp->size, "FLAC", 0, meta);
	RETURN_IF_ERR(n);
	l->id3_aigc = n > 0;
	l->magic_off = total;
	return 0;
}

static int walk_blocks(aimark_source *src, aimark__meta *meta, flac_layout *l, aimark_buf *tmp)
{
	RETURN_IF_ERR(read_id3_prefix(src, meta, l, tmp));
	unsigned char b[4];
	RETURN_IF(l->file_size - l->magic_off < 4, AIMARK_EFORMAT, "FLAC: file too short for the fLaC marker");
	RETURN_IF_ERR(aimark_source_read(src, l->magic_off, b, 4));
	RETURN_IF(memcmp(b, "fLaC", 4) != 0, AIMARK_EFORMAT, "FLAC: no fLaC marker at offset %llu", (unsigned long long)l->magic_off);
	uint64_t pos = l->magic_off + 4;
	size_t cap = 0;
	for (;;) {
		RETURN_IF(l->file_size - pos < 4, AIMARK_EFORMAT, "FLAC: metadata block header at offset %llu is truncated",
			  (unsigned long long)pos);
		RETURN_IF(l->n >= MAX_BLOCKS, AIMARK_ELIMIT, "FLAC: more than %d metadata blocks", MAX_BLOCKS);
		RETURN_IF_ERR(aimark_source_read(src, pos, b, 4));
		flac_block blk = { .off = pos, .type = b[0] & 0x7f, .len = ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3] };
		int last = (b[0] & 0x80) != 0;
		RETURN_IF(blk.len > l->file_size - pos - 4, AIMARK_EFORMAT,
			  "FLAC: metadata block %zu (type %d) at offset %llu declares %u bytes but %llu remain", l->n, blk.type,
			  (unsigned long long)pos, blk.len, (unsigned long long)(l->file_size - pos - 4));
		RETURN_IF(blk.type == T_INVALID, AIMARK_EFORMAT, "FLAC: invalid metadata block type 127 at offset %llu",
			  (unsigned long long)pos);
		RETURN_IF(l->n == 0 && (blk.type != T_STREAMINFO || blk.len != STREAMINFO_LEN), AIMARK_EFORMAT,
			  "FLAC: the first metadata block (offset %llu) is not a 34-byte STREAMINFO", (unsigned long long)pos);
		RETURN_IF(l->n > 0 && blk.type == T_STREAMINFO, AIMARK_EFORMAT, "FLAC: second STREAMINFO block at offset %llu",
			  (unsigned long long)pos);
		if (blk.type == T_VORBIS_COMMENT) {
			RETURN_IF_ERR(load(src, pos + 4, blk.len, tmp));
			int n = aimark__vorbis_comment_read(tmp->ptr, tmp->size, "FLAC", pos + 4, meta, NULL);
			if (n == AIMARK_EFORMAT) {
				blk.broken = 1;
				RETURN_IF_ERR(aimark__findings_add(meta->findings, AIMARK_SEVERITY_WARNING, "vorbis-comment-invalid",
								   "%s", aimark_error_last()));
			} else {
				RETURN_IF_ERR(n);
				blk.has_aigc = n > 0;
			}
		}
		RETURN_IF_ARRAY_FULL_GROW(l->blocks, cap, l->n, 8);
		l->blocks[l->n++] = blk;
		pos += 4 + (uint64_t)blk.len;
		if (last)
			break;
	}
	l->audio_start = pos;
	uint64_t audio_end = l->file_size;
	if (audio_end - pos >= 128) {
		unsigned char t[3];
		RETURN_IF_ERR(aimark_source_read(src, audio_end - 128, t, 3));
		if (memcmp(t, "TAG", 3) == 0)
			audio_end -= 128;
	}
	RETURN_IF_ERR(aimark__meta_add_essence(meta, l->blocks[0].off + 4, STREAMINFO_LEN));
	return aimark__meta_add_essence(meta, pos, audio_end - pos);
}

static int flac_read(aimark_source *src, aimark__meta *meta)
{
	flac_layout *l = aimark__calloc(1, sizeof *l);
	RETURN_ENOMEM_IF_NULL(l);
	l->file_size = aimark_source_size(src);
	aimark_buf tmp = AIMARK_BUF_INIT;
	int rc = walk_blocks(src, meta, l, &tmp);
	aimark_buf_dispose(&tmp);
	if (rc < 0) {
		layout_free(l);
		return rc;
	}
	meta->priv = l;
	meta->priv_free = layout_free;
	return 0;
}

/* One block of the output. */
typedef struct out_block {
	int type;
	uint64_t len;
	const flac_block *from; /* copied from the input, or NULL */
	aimark_buf payload;     /* rebuilt Vorbis comment */
	int zero;               /* padding: write zeros */
} out_block;

static int build_comment(aimark_source *src, const flac_block *b, const aimark__label_write *lw, out_block *o)
{
	aimark_buf old = AIMARK_BUF_INIT;
	int rc = 0;
	RETURN_IF(b && b->broken, AIMARK_EFORMAT, "FLAC: the Vorbis comment block at offset %llu is malformed; not rewriting it",
		  (unsigned long long)b->off);
	if (b)
		rc = load(src, b->off + 4, b->len, &old);
	if (rc >= 0)
		rc = aimark__vorbis_comment_set(b ? old.ptr : NULL, old.size, "FLAC", lw->bare_json, lw->bare_len, &o->payload, NULL);
	aimark_buf_dispose(&old);
	RETURN_IF_ERR(rc);
	RETURN_IF(o->payload.size > MAX_BLOCK_LEN, AIMARK_ELIMIT, "FLAC: a Vorbis comment of %zu bytes exceeds the 16 MiB block limit",
		  o->payload.size);
	o->type = T_VORBIS_COMMENT;
	o->len = o->payload.size;
	return 0;
}

/* Absorbs the metadata size change `delta` in the first PADDING block when it can. */
static void balance_padding(out_block *o, size_t *n, int64_t delta)
{
	out_block *pad = NULL;
	for (size_t i = 0; i < *n && !pad; i++)
		if (o[i].type == T_PADDING)
			pad = &o[i];
	if (pad) {
		if (delta > 0 && pad->len >= (uint64_t)delta) {
			pad->len -= (uint64_t)delta;
		} else if (delta > 0 && pad->len + 4 == (uint64_t)delta) {
			size_t k = (size_t)(pad - o);
			memmove(pad, pad + 1, (*n - k - 1) * sizeof *o);
			(*n)--;
		} else if (delta < 0 && pad->len + (uint64_t)-delta <= MAX_BLOCK_LEN) {
			pad->len += (uint64_t)-delta;
		}
		return;
	}
	if (delta <= -4 && (uint64_t)(-delta - 4) <= MAX_BLOCK_LEN) {
		o[*n] = (out_block){ .type = T_PADDING, .len = (uint64_t)(-delta - 4), .zero = 1 };
		(*n)++;
	}
}

static int emit(aimark_source *src, const flac_layout *l, const out_block *o, size_t n, const aimark_buf *id3, aimark_sink *sink)
{
	if (id3->size)
		RETURN_IF_ERR(aimark_sink_write(sink, id3->ptr, id3->size));
	else
		RETURN_IF_ERR(aimark__sink_copy_range(sink, src, 0, l->magic_off));
	RETURN_IF_ERR(aimark_sink_write(sink, "fLaC", 4));
	static const unsigned char zeros[4096];
	for (size_t i = 0; i < n; i++) {
		unsigned char h[4] = { (unsigned char)((i + 1 == n ? 0x80 : 0) | o[i].type), (unsigned char)(o[i].len >> 16),
				       (unsigned char)(o[i].len >> 8), (unsigned char)o[i].len };
		RETURN_IF_ERR(aimark_sink_write(sink, h, 4));
		if (o[i].zero) {
			for (uint64_t left = o[i].len; left > 0;) {
				size_t k = left < sizeof zeros ? (size_t)left : sizeof zeros;
				RETURN_IF_ERR(aimark_sink_write(sink, zeros, k));
				left -= k;
			}
		} else if (o[i].from) {
			RETURN_IF_ERR(aimark__sink_copy_range(sink, src, o[i].from->off + 4, o[i].len));
		} else {
			RETURN_IF_ERR(aimark_sink_write(sink, o[i].payload.ptr, o[i].payload.size));
		}
	}
	return aimark__sink_copy_range(sink, src, l->audio_start, l->file_size - l->audio_start);
}

static int flac_write(aimark_source *src, const aimark__meta *meta, const aimark__label_provider *label, aimark_sink *sink)
{
	const flac_layout *l = meta->priv;
	RETURN_IF(l == NULL, AIMARK_EINVAL, "FLAC: write without a successful read");
	const aimark__label_write *lw;
	RETURN_IF_ERR(label->get(label->ctx, &lw));
	/* room for every block, a new comment and a new padding block */
	out_block *o = aimark__calloc(l->n + 2, sizeof *o);
	RETURN_ENOMEM_IF_NULL(o);
	aimark_buf id3 = AIMARK_BUF_INIT;
	int rc = 0, have_comment = 0, any_comment = 0;
	size_t n = 0;
	for (size_t i = 0; i < l->n; i++)
		any_comment |= l->blocks[i].type == T_VORBIS_COMMENT;
	uint64_t old_size = 0, new_size = 0;
	for (size_t i = 0; i < l->n && rc >= 0; i++) {
		const flac_block *b = &l->blocks[i];
		old_size += 4 + (uint64_t)b->len;
		if (b->type == T_VORBIS_COMMENT && (!have_comment || b->has_aigc)) {
			rc = build_comment(src, b, lw, &o[n++]);
			have_comment = 1;
		} else {
			o[n++] = (out_block){ .type = b->type, .len = b->len, .from = b, .zero = b->type == T_PADDING };
		}
		if (i == 0 && !any_comment && rc >= 0)
			rc = build_comment(src, NULL, lw, &o[n++]);
	}
	if (rc >= 0) {
		for (size_t i = 0; i < n; i++)
			new_size += 4 + o[i].len;
		balance_padding(o, &n, (int64_t)new_size - (int64_t)old_size);
	}
	if (rc >= 0 && l->id3_aigc) {
		aimark_buf old = AIMARK_BUF_INIT;
		rc = load(src, 0, l->magic_off, &old);
		if (rc >= 0)
			rc = aimark__id3_set_aigc(old.ptr, old.size, "FLAC", lw->bare_json, lw->bare_len, &id3);
		aimark_buf_dispose(&old);
	}
	if (rc >= 0)
		rc = emit(src, l, o, n, &id3, sink);
	for (size_t i = 0; i < l->n + 2; i++)
		aimark_buf_dispose(&o[i].payload);
	aimark__free(o);
	aimark_buf_dispose(&id3);
	return rc;
}

static const char *const flac_extensions[] = { "flac", NULL };

const aimark__format_ops aimark__format_flac = {
	.name = "flac",
	.extensions = flac_extensions,
	.probe = flac_probe,
	.read = flac_read,
	.write = flac_write,
};

/*
 * WAV (RIFF/WAVE, RF64 and BW64): the GB 45438 label is a top-level chunk
 * "AIGC" holding the bare JSON. Also read, and rewritten when present: a
 * LIST/INFO sub-chunk "AIGC" (NUL-terminated) and an ID3v2 TXXX "AIGC" in
 * an "id3 " chunk. A new AIGC chunk goes after the last chunk (before a
 * final C2PA chunk), so the audio data never moves unless the file crosses
 * 4 GiB and its header becomes RF64 (a ds64 chunk is inserted).
 *
 * Essence: the "fmt " chunk (header and payload) and the payload of the
 * "data" chunk. The data chunk's header is left out because its size field
 * legitimately changes (RF64 stores 0xFFFFFFFF there).
 */
#include <string.h>

#include "core/findings_internal.h"
#include "core/internal.h"
#include "core/io_internal.h"
#include "format.h"
#include "id3.h"

#define CARRIER_WAV_CHUNK "wav-aigc-chunk"
#define CARRIER_WAV_INFO "wav-info-aigc"

#define MAX_CHUNKS 65536
#define MAX_DS64_TABLE 1024
#define DS64_FIXED 28 /* riffSize, dataSize, sampleCount (u64 each), tableLength (u32) */
#define U32_MAX_SIZE UINT64_C(0xFFFFFFFF)

enum { FORM_RIFF, FORM_RF64, FORM_BW64 };

enum {
	KIND_OTHER,
	KIND_DS64,
	KIND_FMT,
	KIND_DATA,
	KIND_AIGC,
	KIND_INFO, /* LIST/INFO holding an AIGC sub-chunk */
	KIND_ID3   /* id3 chunk holding a TXXX AIGC frame */
};

typedef struct wav_chunk {
	char id[4];
	int kind;
	uint64_t off;    /* chunk header */
	uint64_t size;   /* payload size (resolved through ds64) */
	uint32_t size32; /* as stored */
	int padded;      /* an odd-sized chunk whose pad byte is present */
} wav_chunk;

typedef struct wav_layout {
	int form;
	wav_chunk *chunks;
	size_t n, cap;
	size_t data, fmt;   /* indexes; SIZE_MAX when absent */
	uint64_t chunks_end; /* past the last chunk (and its pad byte) */
	uint64_t riff_end;   /* past the RIFF payload, slack included */
	uint64_t file_size;
	uint64_t sample_count;
} wav_layout;

typedef struct ds64_entry {
	char id[4];
	uint64_t size;
} ds64_entry;

static void layout_free(void *p)
{
	wav_layout *l = p;
	if (l) {
		aimark__free(l->chunks);
		aimark__free(l);
	}
}

static int wav_probe(const unsigned char *h, size_t len)
{
	return len >= 12 &&
	       (memcmp(h, "RIFF", 4) == 0 || memcmp(h, "RF64", 4) == 0 || memcmp(h, "BW64", 4) == 0) &&
	       memcmp(h + 8, "WAVE", 4) == 0;
}

static void id_text(const char id[4], char out[5])
{
	for (int i = 0; i < 4; i++)
		out[i] = (id[i] >= 0x20 && id[i] < 0x7f) ? id[i] : '?';
	out[4] = '\0';
}

/* Reads `len` bytes at `off` into `b` (replacing its content). */
static int load(aimark_source *src, uint64_t off, uint64_t len, aimark_buf *b)
{
	RETURN_IF(len > AIMARK__MAX_METADATA_BLOCK, AIMARK_ELIMIT, "WAV: %llu-byte metadata chunk at offset %llu exceeds the %u-byte limit",
		  (unsigned long long)len, (unsigned long long)off, AIMARK__MAX_METADATA_BLOCK);
	aimark__buf_clear(b);
	RETURN_IF_ERR(aimark__buf_reserve(b, (size_t)len));
	RETURN_IF_ERR(aimark_source_read(src, off, b->ptr, (size_t)len));
	b->size = (size_t)len;
	b->ptr[len] = '\0';
	return 0;
}

static size_t trim_nuls(const unsigned char *p, size_t n)
{
	while (n > 0 && p[n - 1] == 0)
		n--;
	return n;
}

/*
 * Walks the sub-chunks of a LIST/INFO payload `p` (starting after "INFO").
 * Calls `fn` for each; returns the offset where the walk stopped (the end, or
 * the first sub-chunk that does not fit).
 */
typedef int (*info_fn)(void *ctx, const unsigned char *sub, size_t total, const unsigned char *val, size_t vlen, size_t at);

static int info_walk(const unsigned char *p, size_t n, info_fn fn, void *ctx, size_t *stop)
{
	size_t pos = 4;
	while (n - pos >= 8) {
		uint32_t sz = aimark__le32(p + pos + 4);
		if (sz > n - pos - 8)
			break;
		size_t total = 8 + (size_t)sz;
		if ((sz & 1) && n - pos - 8 - sz >= 1)
			total++;
		RETURN_IF_ERR(fn(ctx, p + pos, total, p + pos + 8, sz, pos));
		pos += total;
	}
	*stop = pos;
	return 0;
}

typedef struct info_find_ctx {
	aimark__meta *meta;
	uint64_t base;
	int found;
} info_find_ctx;

static int info_find_one(void *vctx, const unsigned char *sub, size_t total, const unsigned char *val, size_t vlen, size_t at)
{
	info_find_ctx *c = vctx;
	if (memcmp(sub, "AIGC", 4) != 0)
		return 0;
	c->found++;
	return aimark__meta_add_carrier(c->meta, CARRIER_WAV_INFO, (const char *)val, trim_nuls(val, vlen), c->base + at);
}

static int read_ds64(aimark_source *src, uint64_t off, uint64_t size, uint64_t v[3], ds64_entry **table, size_t *n_table)
{
	unsigned char b[DS64_FIXED];
	RETURN_IF(size < DS64_FIXED, AIMARK_EFORMAT, "WAV: ds64 chunk at offset %llu has %llu bytes, needs %d",
		  (unsigned long long)off, (unsigned long long)size, DS64_FIXED);
	RETURN_IF_ERR(aimark_source_read(src, off + 8, b, DS64_FIXED));
	for (int i = 0; i < 3; i++)
		v[i] = (uint64_t)aimark__le32(b + 8 * i) | ((uint64_t)aimark__le32(b + 8 * i + 4) << 32);
	uint32_t count = aimark__le32(b + 24);
	RETURN_IF(count > (size - DS64_FIXED) / 12 || count > MAX_DS64_TABLE, AIMARK_EFORMAT,
		  "WAV: ds64 chunk at offset %llu declares %u table entries that do not fit", (unsigned long long)off, count);
	if (count == 0)
		return 0;
	*table = aimark__calloc(count, sizeof **table);
	RETURN_ENOMEM_IF_NULL(*table);
	*n_table = count;
	for (uint32_t i = 0; i < count; i++) {
		unsigned char e[12];
		RETURN_IF_ERR(aimark_source_read(src, off + 8 + DS64_FIXED + 12 * (uint64_t)i, e, 12));
		memcpy((*table)[i].id, e, 4);
		(*table)[i].size = (uint64_t)aimark__le32(e + 4) | ((uint64_t)aimark__le32(e + 8) << 32);
	}
	return 0;
}

static int add_chunk(wav_layout *l, const wav_chunk *c)
{
	RETURN_IF(l->n >= MAX_CHUNKS, AIMARK_ELIMIT, "WAV: more than %d chunks", MAX_CHUNKS);
	RETURN_IF_ARRAY_FULL_GROW(l->chunks, l->cap, l->n, 16);
	l->chunks[l->n++] = *c;
	return 0;
}

/* Looks at a metadata chunk's payload: carriers and whether it will be rewritten. */
static int inspect_chunk(aimark_source *src, aimark__meta *meta, wav_chunk *c, aimark_buf *tmp)
{
	char name[5];
	id_text(c->id, name);
	if (memcmp(c->id, "AIGC", 4) == 0) {
		RETURN_IF_ERR(load(src, c->off + 8, c->size, tmp));
		c->kind = KIND_AIGC;
		return aimark__meta_add_carrier(meta, CARRIER_WAV_CHUNK, (const char *)tmp->ptr, trim_nuls(tmp->ptr, tmp->size), c->off);
	}
	int is_list = memcmp(c->id, "LIST", 4) == 0, is_id3 = memcmp(c->id, "id3 ", 4) == 0 || memcmp(c->id, "ID3 ", 4) == 0;
	if (!is_list && !is_id3)
		return 0;
	if (c->size > AIMARK__MAX_METADATA_BLOCK)
		return aimark__findings_add(meta->findings, AIMARK_SEVERITY_WARNING, "metadata-too-large",
					    "WAV: '%s' chunk at offset %llu (%llu bytes) is too large to search for a label", name,
					    (unsigned long long)c->off, (unsigned long long)c->size);
	if (is_list) {
		unsigned char type[4];
		if (c->size < 4)
			return 0;
		RETURN_IF_ERR(aimark_source_read(src, c->off + 8, type, 4));
		if (memcmp(type, "INFO", 4) != 0)
			return 0;
		RETURN_IF_ERR(load(src, c->off + 8, c->size, tmp));
		info_find_ctx ctx = { meta, c->off + 8, 0 };
		size_t stop;
		RETURN_IF_ERR(info_walk(tmp->ptr, tmp->size, info_find_one, &ctx, &stop));
		if (ctx.found)
			c->kind = KIND_INFO;
		return 0;
	}
	RETURN_IF_ERR(load(src, c->off + 8, c->size, tmp));
	int n = aimark__id3_find_aigc(tmp->ptr, tmp->size, "WAV id3 chunk", c->off + 8, meta);
	RETURN_IF_ERR(n);
	if (n > 0)
		c->kind = KIND_ID3;
	return 0;
}

static int walk_chunks(aimark_source *src, aimark__meta *meta, wav_layout *l, aimark_buf *tmp)
{
	unsigned char h[12];
	uint64_t fsize = aimark_source_size(src);
	RETURN_IF(fsize < 12, AIMARK_EFORMAT, "WAV: file of %llu bytes is too short for a RIFF header", (unsigned long long)fsize);
	RETURN_IF_ERR(aimark_source_read(src, 0, h, 12));
	RETURN_IF(!wav_probe(h, 12), AIMARK_EFORMAT, "WAV: no RIFF/RF64 WAVE header at offset 0");
	l->file_size = fsize;
	l->form = memcmp(h, "RIFF", 4) == 0 ? FORM_RIFF : memcmp(h, "RF64", 4) == 0 ? FORM_RF64 : FORM_BW64;
	uint64_t declared = 8 + (uint64_t)aimark__le32(h + 4);
	uint64_t ds[3] = { 0, 0, 0 };
	ds64_entry *table = NULL;
	size_t n_table = 0;
	int rc = 0;
	uint64_t pos = 12;
	if (l->form != FORM_RIFF) {
		unsigned char c[8];
		RETURN_IF_ERR(aimark_source_read(src, 12, c, 8));
		RETURN_IF(memcmp(c, "ds64", 4) != 0, AIMARK_EFORMAT, "WAV: RF64 file without a ds64 chunk at offset 12");
		if ((rc = read_ds64(src, 12, aimark__le32(c + 4), ds, &table, &n_table)) < 0) {
			aimark__free(table);
			return rc;
		}
		declared = ds[0] > UINT64_MAX - 8 ? UINT64_MAX : 8 + ds[0];
		l->sample_count = ds[2];
	}
	uint64_t limit = declared;
	if (declared > fsize || declared <= 12 || (l->form == FORM_RIFF && declared == 8 + U32_MAX_SIZE)) {
		limit = fsize;
		rc = aimark__findings_add(meta->findings, AIMARK_SEVERITY_INFO, "wav-riff-size",
					  "WAV: RIFF size says %llu bytes but the file has %llu", (unsigned long long)declared,
					  (unsigned long long)fsize);
	}
	for (;;) {
		if (rc < 0 || pos > limit || limit - pos < 8) {
			/* a RIFF size too short to hold the audio: the chunks after it count */
			if (rc < 0 || limit == fsize || (l->fmt != SIZE_MAX && l->data != SIZE_MAX) || fsize - pos < 8)
				break;
			limit = fsize;
			rc = aimark__findings_add(meta->findings, AIMARK_SEVERITY_INFO, "wav-riff-size",
						  "WAV: the RIFF size ends at offset %llu, before the audio", (unsigned long long)pos);
			continue;
		}
		unsigned char ch[8];
		if ((rc = aimark_source_read(src, pos, ch, 8)) < 0)
			break;
		wav_chunk c = { .kind = KIND_OTHER, .off = pos, .size32 = aimark__le32(ch + 4) };
		memcpy(c.id, ch, 4);
		c.size = c.size32;
		char name[5];
		id_text(c.id, name);
		if (l->form != FORM_RIFF && c.size32 == 0xFFFFFFFFu) {
			int known = 0;
			if (memcmp(c.id, "data", 4) == 0)
				c.size = ds[1], known = 1;
			for (size_t i = 0; !known && i < n_table; i++)
				if (memcmp(table[i].id, c.id, 4) == 0)
					c.size = table[i].size, known = 1;
			if (!known) {
				rc = aimark__error_set(AIMARK_EFORMAT, "WAV: chunk '%s' at offset %llu has a 64-bit size missing from ds64",
						       name, (unsigned long long)pos);
				break;
			}
		}
		uint64_t room = fsize - pos - 8;
		if (c.size > room) {
			if (memcmp(c.id, "data", 4) != 0 || l->data != SIZE_MAX) {
				rc = aimark__error_set(AIMARK_EFORMAT, "WAV: chunk '%s' at offset %llu declares %llu bytes but only %llu remain",
						       name, (unsigned long long)pos, (unsigned long long)c.size, (unsigned long long)room);
				break;
			}
			/* A data chunk whose size was never fixed (streamed writer): runs to the end. */
			rc = aimark__findings_add(meta->findings, AIMARK_SEVERITY_WARNING, "wav-data-size",
						  "WAV: data chunk at offset %llu declares %llu bytes but %llu remain",
						  (unsigned long long)pos, (unsigned long long)c.size, (unsigned long long)room);
			c.size = room;
			limit = fsize;
		} else if (c.size > limit - pos - 8) {
			limit = fsize; /* the RIFF size is short: trust the chunks */
			rc = aimark__findings_add(meta->findings, AIMARK_SEVERITY_INFO, "wav-riff-size",
						  "WAV: chunk '%s' at offset %llu passes the declared RIFF end", name, (unsigned long long)pos);
		}
		if (rc < 0)
			break;
		uint64_t end = pos + 8 + c.size;
		c.padded = (c.size & 1) && end < fsize;
		if (memcmp(c.id, "ds64", 4) == 0 && pos == 12 && l->form != FORM_RIFF) {
			c.kind = KIND_DS64;
		} else if (memcmp(c.id, "fmt ", 4) == 0 && l->fmt == SIZE_MAX) {
			c.kind = KIND_FMT;
			l->fmt = l->n;
			rc = aimark__meta_add_essence(meta, pos, 8 + c.size);
		} else if (memcmp(c.id, "data", 4) == 0 && l->data == SIZE_MAX) {
			c.kind = KIND_DATA;
			l->data = l->n;
			rc = aimark__meta_add_essence(meta, pos + 8, c.size);
		} else {
			rc = inspect_chunk(src, meta, &c, tmp);
		}
		if (rc >= 0)
			rc = add_chunk(l, &c);
		pos = end + (uint64_t)c.padded;
		if (end > limit)
			limit = end;
	}
	aimark__free(table);
	RETURN_IF_ERR(rc);
	l->chunks_end = pos;
	l->riff_end = limit > pos ? limit : pos;
	RETURN_IF(l->fmt == SIZE_MAX, AIMARK_EFORMAT, "WAV: no 'fmt ' chunk");
	RETURN_IF(l->data == SIZE_MAX, AIMARK_EFORMAT, "WAV: no 'data' chunk");
	return 0;
}

static int wav_read(aimark_source *src, aimark__meta *meta)
{
	wav_layout *l = aimark__calloc(1, sizeof *l);
	RETURN_ENOMEM_IF_NULL(l);
	l->data = l->fmt = SIZE_MAX;
	aimark_buf tmp = AIMARK_BUF_INIT;
	int rc = walk_chunks(src, meta, l, &tmp);
	aimark_buf_dispose(&tmp);
	if (rc < 0) {
		layout_free(l);
		return rc;
	}
	meta->priv = l;
	meta->priv_free = layout_free;
	return 0;
}

/* ---- writing ---- */

typedef struct info_set_ctx {
	aimark_buf *out;
	const char *json;
	size_t json_len;
	int placed;
	int rc;
} info_set_ctx;

static int put_sub(aimark_buf *out, const char *id, const void *val, size_t n, int nul)
{
	unsigned char h[8];
	size_t sz = n + (nul ? 1 : 0);
	RETURN_IF(sz > U32_MAX_SIZE, AIMARK_ELIMIT, "WAV: label too large for a chunk");
	memcpy(h, id, 4);
	aimark__put_le32(h + 4, (uint32_t)sz);
	RETURN_IF_ERR(aimark__buf_append(out, h, 8));
	RETURN_IF_ERR(aimark__buf_append(out, val, n));
	static const unsigned char zero[2];
	return aimark__buf_append(out, zero, (nul ? 1 : 0) + (sz & 1));
}

static int info_set_one(void *vctx, const unsigned char *sub, size_t total, const unsigned char *val, size_t vlen, size_t at)
{
	info_set_ctx *c = vctx;
	if (memcmp(sub, "AIGC", 4) != 0)
		return aimark__buf_append(c->out, sub, total);
	if (c->placed)
		return 0;
	c->placed = 1;
	return put_sub(c->out, "AIGC", c->json, c->json_len, 1);
}

/* The new payload of a chunk that holds a label (AIGC, LIST/INFO, id3). */
static int rebuild_payload(aimark_source *src, const wav_chunk *c, const aimark__label_write *lw, aimark_buf *out)
{
	if (c->kind == KIND_AIGC)
		return aimark__buf_append(out, lw->bare_json, lw->bare_len);
	aimark_buf old = AIMARK_BUF_INIT;
	int rc = load(src, c->off + 8, c->size, &old);
	if (rc >= 0 && c->kind == KIND_INFO) {
		info_set_ctx ctx = { out, lw->bare_json, lw->bare_len, 0, 0 };
		size_t stop = 4;
		rc = aimark__buf_append(out, "INFO", 4);
		if (rc >= 0)
			rc = info_walk(old.ptr, old.size, info_set_one, &ctx, &stop);
		if (rc >= 0)
			rc = aimark__buf_append(out, old.ptr + stop, old.size - stop);
	} else if (rc >= 0) {
		/* bytes after the tag inside the chunk are kept */
		uint64_t tag_len = 0;
		rc = old.size >= AIMARK__ID3_HEADER_SIZE ? aimark__id3_header_parse(old.ptr, 0, &tag_len) : AIMARK_EFORMAT;
		if (rc >= 0 && tag_len > old.size)
			rc = aimark__error_set(AIMARK_EFORMAT, "WAV: id3 chunk at offset %llu is shorter than its tag",
					       (unsigned long long)c->off);
		if (rc >= 0)
			rc = aimark__id3_set_aigc(old.ptr, (size_t)tag_len, "WAV id3 chunk", lw->bare_json, lw->bare_len, out);
		if (rc >= 0)
			rc = aimark__buf_append(out, old.ptr + tag_len, old.size - (size_t)tag_len);
	}
	aimark_buf_dispose(&old);
	return rc;
}

static int put_header(aimark_sink *sink, const char *id, uint32_t size)
{
	unsigned char h[8];
	memcpy(h, id, 4);
	aimark__put_le32(h + 4, size);
	return aimark_sink_write(sink, h, 8);
}

static void put_le64(unsigned char *p, uint64_t v)
{
	aimark__put_le32(p, (uint32_t)v);
	aimark__put_le32(p + 4, (uint32_t)(v >> 32));
}

/* Sample count for a ds64 chunk created from a RIFF file: data size / block align for PCM-like formats. */
static int sample_count(aimark_source *src, const wav_layout *l, uint64_t *out)
{
	const wav_chunk *fmt = &l->chunks[l->fmt];
	*out = 0;
	if (fmt->size < 16)
		return 0;
	unsigned char f[16];
	RETURN_IF_ERR(aimark_source_read(src, fmt->off + 8, f, 16));
	uint16_t block_align = aimark__le16(f + 12);
	if (block_align)
		*out = l->chunks[l->data].size / block_align;
	return 0;
}

typedef struct wav_plan {
	aimark_buf *payloads;  /* rebuilt payloads, per chunk (empty when copied) */
	size_t insert_before;  /* chunk index the new AIGC chunk goes before (n: at the end); SIZE_MAX: none */
	aimark_buf aigc;       /* the new chunk's payload */
	int form;
	uint64_t riff_size;    /* RIFF payload size of the output */
} wav_plan;

static uint64_t chunk_out_len(uint64_t payload) { return 8 + payload + (payload & 1); }

static int emit(aimark_source *src, const wav_layout *l, const wav_plan *p, aimark_sink *sink)
{
	unsigned char h[12];
	memcpy(h, p->form == FORM_RIFF ? "RIFF" : p->form == FORM_RF64 ? "RF64" : "BW64", 4);
	aimark__put_le32(h + 4, p->form == FORM_RIFF ? (uint32_t)p->riff_size : 0xFFFFFFFFu);
	memcpy(h + 8, "WAVE", 4);
	RETURN_IF_ERR(aimark_sink_write(sink, h, 12));
	const wav_chunk *data = &l->chunks[l->data];
	unsigned char ds[DS64_FIXED];
	uint64_t samples = l->sample_count;
	if (l->form == FORM_RIFF)
		RETURN_IF_ERR(sample_count(src, l, &samples));
	put_le64(ds, p->riff_size);
	put_le64(ds + 8, data->size);
	put_le64(ds + 16, samples);
	aimark__put_le32(ds + 24, 0);
	if (p->form != FORM_RIFF && l->form == FORM_RIFF) {
		RETURN_IF_ERR(put_header(sink, "ds64", DS64_FIXED));
		RETURN_IF_ERR(aimark_sink_write(sink, ds, DS64_FIXED));
	}
	static const unsigned char zero = 0;
	for (size_t i = 0; i <= l->n; i++) {
		if (i == p->insert_before) {
			RETURN_IF_ERR(put_header(sink, "AIGC", (uint32_t)p->aigc.size));
			RETURN_IF_ERR(aimark_sink_write(sink, p->aigc.ptr, p->aigc.size));
			if (p->aigc.size & 1)
				RETURN_IF_ERR(aimark_sink_write(sink, &zero, 1));
		}
		if (i == l->n)
			break;
		const wav_chunk *c = &l->chunks[i];
		const aimark_buf *b = &p->payloads[i];
		if (c->kind == KIND_DS64) {
			/* keep the table and anything after the fixed fields; the sample count stays */
			RETURN_IF_ERR(aimark_sink_write(sink, "ds64", 4));
			RETURN_IF_ERR(aimark_source_read(src, c->off + 4, h, 4));
			RETURN_IF_ERR(aimark_sink_write(sink, h, 4));
			RETURN_IF_ERR(aimark_sink_write(sink, ds, 24));
			RETURN_IF_ERR(aimark__sink_copy_range(sink, src, c->off + 32, c->size - 24 + (uint64_t)c->padded));
			if ((c->size & 1) && !c->padded)
				RETURN_IF_ERR(aimark_sink_write(sink, &zero, 1));
		} else if (c->kind == KIND_DATA) {
			uint32_t sz32 = (uint32_t)c->size;
			if (p->form != FORM_RIFF && (l->form == FORM_RIFF || c->size32 == 0xFFFFFFFFu || c->size > 0xFFFFFFFEu))
				sz32 = 0xFFFFFFFFu;
			RETURN_IF_ERR(put_header(sink, "data", sz32));
			RETURN_IF_ERR(aimark__sink_copy_range(sink, src, c->off + 8, c->size + (uint64_t)c->padded));
			if ((c->size & 1) && !c->padded)
				RETURN_IF_ERR(aimark_sink_write(sink, &zero, 1));
		} else if (c->kind == KIND_AIGC || c->kind == KIND_INFO || c->kind == KIND_ID3) {
			RETURN_IF_ERR(put_header(sink, c->id, (uint32_t)b->size));
			RETURN_IF_ERR(aimark_sink_write(sink, b->ptr, b->size));
			if (b->size & 1)
				RETURN_IF_ERR(aimark_sink_write(sink, &zero, 1));
		} else {
			RETURN_IF_ERR(aimark__sink_copy_range(sink, src, c->off, 8 + c->size + (uint64_t)c->padded));
			if ((c->size & 1) && !c->padded)
				RETURN_IF_ERR(aimark_sink_write(sink, &zero, 1));
		}
	}
	/* slack inside the RIFF and whatever follows it, unchanged */
	return aimark__sink_copy_range(sink, src, l->chunks_end, l->file_size - l->chunks_end);
}

static int plan(aimark_source *src, const wav_layout *l, const aimark__label_write *lw, wav_plan *p)
{
	int have_aigc_chunk = 0;
	uint64_t total = 0; /* chunk bytes of the output */
	for (size_t i = 0; i < l->n; i++) {
		const wav_chunk *c = &l->chunks[i];
		if (c->kind == KIND_AIGC || c->kind == KIND_INFO || c->kind == KIND_ID3) {
			RETURN_IF_ERR(rebuild_payload(src, c, lw, &p->payloads[i]));
			RETURN_IF(p->payloads[i].size > U32_MAX_SIZE, AIMARK_ELIMIT, "WAV: rebuilt chunk too large");
			have_aigc_chunk |= c->kind == KIND_AIGC;
			total += chunk_out_len(p->payloads[i].size);
		} else {
			total += chunk_out_len(c->size);
		}
	}
	p->insert_before = SIZE_MAX;
	if (!have_aigc_chunk) {
		RETURN_IF_ERR(aimark__buf_append(&p->aigc, lw->bare_json, lw->bare_len));
		RETURN_IF(p->aigc.size > U32_MAX_SIZE, AIMARK_ELIMIT, "WAV: label too large for a chunk");
		p->insert_before = l->n;
		if (l->n > 0 && memcmp(l->chunks[l->n - 1].id, "C2PA", 4) == 0)
			p->insert_before = l->n - 1;
		total += chunk_out_len(p->aigc.size);
	}
	uint64_t slack = l->riff_end - l->chunks_end;
	p->form = l->form;
	p->riff_size = 4 + total + slack;
	if (p->form == FORM_RIFF && p->riff_size > U32_MAX_SIZE) {
		p->form = FORM_RF64;
		p->riff_size += 8 + DS64_FIXED;
	}
	return 0;
}

static int wav_write(aimark_source *src, const aimark__meta *meta, const aimark__label_provider *label, aimark_sink *sink)
{
	const wav_layout *l = meta->priv;
	RETURN_IF(l == NULL, AIMARK_EINVAL, "WAV: write without a successful read");
	const aimark__label_write *lw;
	RETURN_IF_ERR(label->get(label->ctx, &lw));
	wav_plan p = { 0 };
	p.payloads = aimark__calloc(l->n ? l->n : 1, sizeof *p.payloads);
	RETURN_ENOMEM_IF_NULL(p.payloads);
	int rc = plan(src, l, lw, &p);
	if (rc >= 0)
		rc = emit(src, l, &p, sink);
	for (size_t i = 0; i < l->n; i++)
		aimark_buf_dispose(&p.payloads[i]);
	aimark__free(p.payloads);
	aimark_buf_dispose(&p.aigc);
	return rc;
}

static const char *const wav_extensions[] = { "wav", "wave", "rf64", "bw64", NULL };

const aimark__format_ops aimark__format_wav = {
	.name = "wav",
	.extensions = wav_extensions,
	.probe = wav_probe,
	.read = wav_read,
	.write = wav_write,
};

/*
 * C2PA in ISO BMFF (MP4, MOV, M4A): the manifest store in a 'uuid' box
 * (D8FEC3D6-1B0E-483C-9297-5828877EC481, purpose "manifest") right after
 * 'ftyp'. Inserting it moves the media data, so every stco/co64 chunk
 * offset is corrected; the hash (c2pa.hash.bmff.v3) is then taken over the
 * final file, so no offset table needs excluding.
 */
#include <string.h>

#include "c2pa/c2pa_internal.h"
#include "core/internal.h"

#define MAX_BOXES 100000
#define MAX_TABLES 4096

typedef struct mbox {
	size_t off, size, hdr;
	uint32_t type;
} mbox;

static int box_at(const unsigned char *d, size_t pos, size_t end, mbox *b)
{
	RETURN_IF(end - pos < 8, AIMARK_EFORMAT, "MP4: truncated box header at offset %zu", pos);
	uint64_t size = aimark__be32(d + pos);
	b->type = aimark__be32(d + pos + 4);
	b->hdr = 8;
	if (size == 1) {
		RETURN_IF(end - pos < 16, AIMARK_EFORMAT, "MP4: truncated 64-bit box size at offset %zu", pos);
		size = aimark__be64(d + pos + 8);
		b->hdr = 16;
	} else if (size == 0) {
		size = end - pos;
	}
	if (b->type == AIMARK__4CC("uuid"))
		b->hdr += 16;
	RETURN_IF(size < b->hdr || size > end - pos, AIMARK_EFORMAT, "MP4: box '%.4s' of %llu bytes at offset %zu is invalid",
		  (const char *)d + pos + 4, (unsigned long long)size, pos);
	b->off = pos;
	b->size = (size_t)size;
	return 0;
}

/* 1 when `b` is a C2PA manifest uuid box; sets the JUMBF range. */
static int c2pa_uuid_box(const unsigned char *d, const mbox *b, size_t *jumbf, size_t *jlen)
{
	static const char purpose[] = "manifest";
	if (b->type != AIMARK__4CC("uuid") || memcmp(d + b->off + b->hdr - 16, aimark__c2pa_bmff_uuid, 16) != 0)
		return 0;
	size_t p = b->off + b->hdr + 4, end = b->off + b->size;
	if (end - (b->off + b->hdr) < 4 + sizeof purpose + 8 || memcmp(d + p, purpose, sizeof purpose) != 0)
		return 0;
	*jumbf = p + sizeof purpose + 8;
	*jlen = end - *jumbf;
	return 1;
}

static int mp4_extract(aimark_source *src, aimark_buf *store)
{
	uint64_t size = aimark_source_size(src), pos = 0;
	size_t guard = 0;
	unsigned char h[60];
	while (size - pos >= 8 && guard++ < MAX_BOXES) {
		size_t n = size - pos < sizeof h ? (size_t)(size - pos) : sizeof h;
		RETURN_IF_ERR(aimark_source_read(src, pos, h, n));
		uint64_t bsize = aimark__be32(h), hdr = 8;
		if (bsize == 1) {
			RETURN_IF(n < 16, AIMARK_EFORMAT, "MP4: truncated box at offset %llu", (unsigned long long)pos);
			bsize = aimark__be64(h + 8);
			hdr = 16;
		} else if (bsize == 0) {
			bsize = size - pos;
		}
		RETURN_IF(bsize < hdr || bsize > size - pos, AIMARK_EFORMAT, "MP4: box '%.4s' of %llu bytes at offset %llu is invalid",
			  (const char *)h + 4, (unsigned long long)bsize, (unsigned long long)pos);
		if (memcmp(h + 4, "uuid", 4) == 0 && n >= hdr + 16 + 4 + 9 + 8 && memcmp(h + hdr, aimark__c2pa_bmff_uuid, 16) == 0 &&
		    memcmp(h + hdr + 20, "manifest", 9) == 0) {
			uint64_t skip = hdr + 16 + 4 + 9 + 8;
			RETURN_IF(bsize < skip, AIMARK_EFORMAT, "MP4: C2PA box at offset %llu is too short", (unsigned long long)pos);
			uint64_t jl = bsize - skip;
			RETURN_IF(jl > AIMARK__C2PA_MAX_STORE, AIMARK_ELIMIT, "MP4: C2PA box of %llu bytes (limit %u)", (unsigned long long)jl,
				  AIMARK__C2PA_MAX_STORE);
			RETURN_IF_ERR(aimark__buf_reserve(store, (size_t)jl));
			RETURN_IF_ERR(aimark_source_read(src, pos + skip, store->ptr, (size_t)jl));
			store->size = (size_t)jl;
			store->ptr[jl] = '\0';
			return 0;
		}
		pos += bsize;
	}
	return 0;
}

typedef struct table {
	size_t off;  /* of the first entry, in the output */
	uint32_t count;
	int wide;    /* co64 */
} table;

typedef struct tables {
	table t[MAX_TABLES];
	size_t n;
} tables;

/* Finds stco/co64 under moov/trak/mdia/minf/stbl, positions relative to the box start in the input. */
static int find_tables(const unsigned char *d, size_t start, size_t end, int depth, tables *out, size_t shift)
{
	static const char *const path[] = { "trak", "mdia", "minf", "stbl" };
	size_t pos = start;
	size_t guard = 0;
	while (end - pos >= 8) {
		mbox b;
		RETURN_IF_ERR(box_at(d, pos, end, &b));
		RETURN_IF(++guard > MAX_BOXES, AIMARK_ELIMIT, "MP4: too many boxes");
		if (depth < 4 && b.type == AIMARK__4CC(path[depth])) {
			RETURN_IF_ERR(find_tables(d, b.off + b.hdr, b.off + b.size, depth + 1, out, shift));
		} else if (depth == 4 && (b.type == AIMARK__4CC("stco") || b.type == AIMARK__4CC("co64"))) {
			int wide = b.type == AIMARK__4CC("co64");
			size_t p = b.off + b.hdr;
			RETURN_IF(b.size - b.hdr < 8, AIMARK_EFORMAT, "MP4: truncated %s at offset %zu", wide ? "co64" : "stco", b.off);
			uint32_t count = aimark__be32(d + p + 4);
			RETURN_IF((uint64_t)count * (wide ? 8 : 4) > b.size - b.hdr - 8, AIMARK_EFORMAT,
				  "MP4: %s at offset %zu lists %u entries, more than it holds", wide ? "co64" : "stco", b.off, (unsigned)count);
			RETURN_IF(out->n == MAX_TABLES, AIMARK_ELIMIT, "MP4: more than %d chunk offset tables", MAX_TABLES);
			out->t[out->n++] = (table){ p + 8 + shift, count, wide };
		}
		pos += b.size;
	}
	return 0;
}

typedef struct removed {
	size_t off, size;
} removed;

static int mp4_embed(const unsigned char *data, size_t len, const unsigned char *store, size_t store_len, aimark__c2pa_out *out,
		     uint64_t *excl_start, uint64_t *excl_len)
{
	mbox b;
	RETURN_IF_ERR(box_at(data, 0, len, &b));
	RETURN_IF(b.type != AIMARK__4CC("ftyp"), AIMARK_EFORMAT, "MP4: the file does not start with 'ftyp'");
	/* the manifest goes after ftyp: a size-0 ftyp ("to the end of the file") would swallow it */
	RETURN_IF(aimark__be32(data) == 0, AIMARK_EFORMAT, "MP4: the ftyp box has size 0 (extends to the end of the file)");
	size_t insert = b.size;
	/* the new box */
	static const char purpose[] = "manifest";
	size_t box_len = 8 + 16 + 4 + sizeof purpose + 8 + store_len;
	RETURN_IF(box_len > UINT32_MAX, AIMARK_ELIMIT, "MP4: manifest store too large");

	/* pass 1: old C2PA boxes and fragmented files */
	removed rm[16];
	size_t n_rm = 0, pos = 0, guard = 0;
	while (len - pos >= 8) {
		RETURN_IF_ERR(box_at(data, pos, len, &b));
		RETURN_IF(++guard > MAX_BOXES, AIMARK_ELIMIT, "MP4: too many boxes");
		size_t j, jl;
		if (c2pa_uuid_box(data, &b, &j, &jl)) {
			RETURN_IF(n_rm == 16, AIMARK_EFORMAT, "MP4: too many C2PA boxes");
			rm[n_rm++] = (removed){ b.off, b.size };
		}
		RETURN_IF(b.type == AIMARK__4CC("moof"), AIMARK_EUNSUPPORTED, "MP4: fragmented files (moof) are not supported for C2PA");
		pos += b.size;
	}
	/* pass 2: copy, inserting after ftyp and dropping old boxes */
	tables *tb = aimark__calloc(1, sizeof *tb);
	RETURN_ENOMEM_IF_NULL(tb);
	int rc = 0;
	pos = 0;
	while (rc == 0 && len - pos >= 8) {
		if (box_at(data, pos, len, &b) < 0) {
			rc = AIMARK_EFORMAT;
			break;
		}
		int drop = 0;
		for (size_t i = 0; i < n_rm; i++)
			drop |= rm[i].off == b.off;
		if (!drop) {
			if (b.type == AIMARK__4CC("moov")) { /* copied: its chunk offsets are patched below */
				rc = find_tables(data, b.off + b.hdr, b.off + b.size, 0, tb, (size_t)out->size - b.off);
				if (rc == 0)
					rc = aimark__c2pa_out_append_copy(out, data + b.off, b.size);
			} else {
				rc = aimark__c2pa_out_append(out, data + b.off, b.size);
			}
		}
		pos += b.size;
		if (rc == 0 && pos == insert) {
			unsigned char h[8 + 16 + 4];
			aimark__put_be32(h, (uint32_t)box_len);
			memcpy(h + 4, "uuid", 4);
			memcpy(h + 8, aimark__c2pa_bmff_uuid, 16);
			memset(h + 24, 0, 4);
			static const unsigned char zero8[8] = { 0 };
			*excl_start = out->size;
			*excl_len = box_len;
			rc = aimark__c2pa_out_append(out, h, sizeof h);
			if (rc == 0)
				rc = aimark__c2pa_out_append(out, purpose, sizeof purpose);
			if (rc == 0)
				rc = aimark__c2pa_out_append(out, zero8, 8);
			if (rc == 0)
				rc = aimark__c2pa_out_append(out, store, store_len);
		}
	}
	if (rc == 0)
		rc = aimark__c2pa_out_append(out, data + pos, len - pos);
	/* pass 3: chunk offsets follow the bytes they point at */
	for (size_t t = 0; rc == 0 && t < tb->n; t++) {
		size_t width = tb->t[t].wide ? 8 : 4;
		unsigned char *entries = aimark__c2pa_out_own_at(out, tb->t[t].off, (size_t)tb->t[t].count * width);
		if (entries == NULL && tb->t[t].count > 0) {
			rc = aimark__error_set(AIMARK_EFORMAT, "MP4: a chunk offset table is not where it was written");
			break;
		}
		for (uint32_t e = 0; e < tb->t[t].count; e++) {
			unsigned char *p = entries + (size_t)e * width;
			uint64_t old = tb->t[t].wide ? aimark__be64(p) : aimark__be32(p);
			int64_t delta = old >= insert ? (int64_t)box_len : 0;
			for (size_t i = 0; i < n_rm; i++)
				if (old >= rm[i].off + rm[i].size)
					delta -= (int64_t)rm[i].size;
			uint64_t neu = (uint64_t)((int64_t)old + delta);
			if (tb->t[t].wide) {
				aimark__put_be32(p, (uint32_t)(neu >> 32));
				aimark__put_be32(p + 4, (uint32_t)neu);
			} else if (neu > UINT32_MAX) {
				rc = aimark__error_set(AIMARK_ELIMIT, "MP4: a chunk offset passes 4 GiB after inserting the manifest (stco)");
			} else {
				aimark__put_be32(p, (uint32_t)neu);
			}
		}
	}
	aimark__free(tb);
	return rc;
}

const aimark__c2pa_format aimark__c2pa_format_mp4 = { "mp4", "video/mp4", 1, mp4_extract, mp4_embed };

static const aimark__c2pa_format *const formats[] = {
	&aimark__c2pa_format_jpeg, &aimark__c2pa_format_png, &aimark__c2pa_format_wav,
	&aimark__c2pa_format_webp, &aimark__c2pa_format_mp3, &aimark__c2pa_format_mp4,
};

const aimark__c2pa_format *aimark__c2pa_format_find(const char *name)
{
	if (name == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
		if (strcmp(formats[i]->name, name) == 0)
			return formats[i];
	return NULL;
}

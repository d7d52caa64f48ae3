/*
 * C2PA in JPEG: the manifest store as JUMBF in APP11 segments (ISO 19566-5
 * Annex: "JP", box instance En, sequence Z from 1; every segment after the
 * first repeats the superbox's 8-byte LBox/TBox), placed together after the
 * leading APP0/APP1 segments.
 */
#include <string.h>

#include "c2pa/c2pa_internal.h"
#include "core/internal.h"

#define SEG_DATA 64000u /* JUMBF bytes per APP11 segment */

typedef struct jseg {
	size_t off;   /* marker position */
	size_t len;   /* marker + length field + payload */
	unsigned marker;
} jseg;

/* Calls `fn` for each marker segment before SOS. Returns the offset of SOS (or the end). */
typedef int (*seg_fn)(void *ctx, const unsigned char *seg, size_t off, size_t len, unsigned marker);

static int walk_mem(const unsigned char *d, size_t len, seg_fn fn, void *ctx, size_t *sos)
{
	RETURN_IF(len < 4 || d[0] != 0xFF || d[1] != 0xD8, AIMARK_EFORMAT, "JPEG: no SOI marker at offset 0");
	size_t pos = 2;
	for (;;) {
		RETURN_IF(len - pos < 2, AIMARK_EFORMAT, "JPEG: truncated before SOS at offset %zu", pos);
		RETURN_IF(d[pos] != 0xFF, AIMARK_EFORMAT, "JPEG: expected a marker at offset %zu, found 0x%02X", pos, d[pos]);
		unsigned m = d[pos + 1];
		if (m == 0xFF) { /* fill byte */
			pos++;
			continue;
		}
		if (m == 0xD8 || m == 0x01 || (m >= 0xD0 && m <= 0xD7)) {
			pos += 2;
			continue;
		}
		if (m == 0xD9 || m == 0xDA) {
			*sos = pos;
			return 0;
		}
		RETURN_IF(len - pos < 4, AIMARK_EFORMAT, "JPEG: truncated segment length at offset %zu", pos);
		size_t seglen = aimark__be16(d + pos + 2);
		RETURN_IF(seglen < 2, AIMARK_EFORMAT, "JPEG: segment length %zu at offset %zu is below 2", seglen, pos);
		RETURN_IF(seglen + 2 > len - pos, AIMARK_EFORMAT, "JPEG: segment length %zu at offset %zu passes the end of the file",
			  seglen, pos);
		if (fn)
			RETURN_IF_ERR(fn(ctx, d + pos, pos, seglen + 2, m));
		pos += seglen + 2;
	}
}

/* 1 when an APP11 segment is the first of a C2PA manifest store: Z == 1 and the superbox is 'c2pa'. */
static int is_c2pa_first(const unsigned char *seg, size_t len, unsigned *en)
{
	/* FF EB Lp(2) "JP" En(2) Z(4) LBox(4) TBox(4) jumd-len(4) "jumd" uuid(16) */
	if (len < 4 + 8 + 8 + 8 + 16 || seg[4] != 'J' || seg[5] != 'P')
		return 0;
	*en = aimark__be16(seg + 6);
	unsigned char u[16];
	aimark__jumbf_uuid(u, "c2pa");
	return aimark__be32(seg + 8) == 1 && memcmp(seg + 16, "jumb", 4) == 0 && memcmp(seg + 24, "jumd", 4) == 0 &&
	       memcmp(seg + 28, u, 16) == 0;
}

typedef struct scan_ctx {
	int found;
	unsigned en;
	uint64_t total;       /* LBox of the store */
	aimark_buf *store;
	uint32_t next_z;
	size_t first_off, end_off;
	int done;
} scan_ctx;

static int collect(void *vctx, const unsigned char *seg, size_t off, size_t len, unsigned marker)
{
	scan_ctx *c = vctx;
	if (marker != 0xEB || c->done)
		return 0;
	unsigned en;
	if (!c->found) {
		if (!is_c2pa_first(seg, len, &en))
			return 0;
		c->found = 1;
		c->en = en;
		c->total = aimark__be32(seg + 12);
		RETURN_IF(c->total < 8, AIMARK_EFORMAT, "JPEG: C2PA JUMBF box size %llu at offset %zu", (unsigned long long)c->total, off);
		RETURN_IF(c->total > AIMARK__C2PA_MAX_STORE, AIMARK_ELIMIT, "JPEG: C2PA manifest store of %llu bytes (limit %u)",
			  (unsigned long long)c->total, AIMARK__C2PA_MAX_STORE);
		c->first_off = off;
		c->next_z = 2;
		size_t n = len - 12;
		if (n > c->total)
			n = (size_t)c->total;
		RETURN_IF_ERR(aimark__buf_append(c->store, seg + 12, n));
	} else {
		if (len < 12 || seg[4] != 'J' || seg[5] != 'P' || aimark__be16(seg + 6) != c->en)
			return 0;
		uint32_t z = aimark__be32(seg + 8);
		RETURN_IF(z != c->next_z, AIMARK_EFORMAT, "JPEG: C2PA APP11 segment at offset %zu has sequence %u, %u expected", off,
			  (unsigned)z, (unsigned)c->next_z);
		RETURN_IF(len < 20, AIMARK_EFORMAT, "JPEG: C2PA APP11 segment at offset %zu is too short", off);
		c->next_z++;
		size_t n = len - 20, left = (size_t)c->total - c->store->size;
		RETURN_IF_ERR(aimark__buf_append(c->store, seg + 20, n < left ? n : left));
	}
	c->end_off = off + len;
	if (c->store->size >= c->total)
		c->done = 1;
	return 0;
}

/* Reads the marker segments through the source without loading the image data. */
static int jpeg_extract(aimark_source *src, aimark_buf *store)
{
	uint64_t size = aimark_source_size(src), pos = 2;
	unsigned char h[4];
	RETURN_IF(size < 4, AIMARK_EFORMAT, "JPEG: file of %llu bytes", (unsigned long long)size);
	RETURN_IF_ERR(aimark_source_read(src, 0, h, 2));
	RETURN_IF(h[0] != 0xFF || h[1] != 0xD8, AIMARK_EFORMAT, "JPEG: no SOI marker at offset 0");
	scan_ctx c;
	memset(&c, 0, sizeof c);
	c.store = store;
	aimark_buf seg = AIMARK_BUF_INIT;
	int rc = 0;
	while (rc == 0 && !c.done && size - pos >= 2) {
		rc = aimark_source_read(src, pos, h, 2);
		if (rc < 0)
			break;
		if (h[0] != 0xFF) {
			rc = aimark__error_set(AIMARK_EFORMAT, "JPEG: expected a marker at offset %llu", (unsigned long long)pos);
			break;
		}
		unsigned m = h[1];
		if (m == 0xFF) {
			pos++;
			continue;
		}
		if (m == 0xD8 || m == 0x01 || (m >= 0xD0 && m <= 0xD7)) {
			pos += 2;
			continue;
		}
		if (m == 0xD9 || m == 0xDA)
			break;
		if (size - pos < 4) {
			rc = aimark__error_set(AIMARK_EFORMAT, "JPEG: truncated segment at offset %llu", (unsigned long long)pos);
			break;
		}
		rc = aimark_source_read(src, pos, h, 4);
		size_t seglen = rc == 0 ? aimark__be16(h + 2) : 0;
		if (rc == 0 && (seglen < 2 || seglen + 2 > size - pos))
			rc = aimark__error_set(AIMARK_EFORMAT, "JPEG: segment length %zu at offset %llu is invalid", seglen,
					       (unsigned long long)pos);
		if (rc == 0 && m == 0xEB) {
			aimark__buf_clear(&seg);
			rc = aimark__buf_reserve(&seg, seglen + 2);
			if (rc == 0)
				rc = aimark_source_read(src, pos, seg.ptr, seglen + 2);
			if (rc == 0)
				rc = collect(&c, seg.ptr, (size_t)pos, seglen + 2, m);
		}
		pos += seglen + 2;
	}
	aimark_buf_dispose(&seg);
	if (rc == 0 && c.found && store->size < c.total)
		rc = aimark__error_set(AIMARK_EFORMAT, "JPEG: the C2PA manifest store is truncated (%zu of %llu bytes)", store->size,
				       (unsigned long long)c.total);
	return rc; /* a partial store tells the caller a manifest is there */
}

typedef struct layout_ctx {
	size_t insert;   /* where our segments go */
	int leading;     /* still inside the leading APP0/APP1 run */
	unsigned c2pa_en[8];
	size_t n_en;
} layout_ctx;

static int plan(void *vctx, const unsigned char *seg, size_t off, size_t len, unsigned marker)
{
	layout_ctx *c = vctx;
	unsigned en;
	if (c->leading && (marker == 0xE0 || marker == 0xE1))
		c->insert = off + len;
	else
		c->leading = 0;
	if (marker == 0xEB && is_c2pa_first(seg, len, &en) && c->n_en < 8)
		c->c2pa_en[c->n_en++] = en;
	return 0;
}

static int is_c2pa_seg(const layout_ctx *c, const unsigned char *seg, size_t len, unsigned marker)
{
	if (marker != 0xEB || len < 8 || seg[4] != 'J' || seg[5] != 'P')
		return 0;
	unsigned en = aimark__be16(seg + 6);
	for (size_t i = 0; i < c->n_en; i++)
		if (c->c2pa_en[i] == en)
			return 1;
	return 0;
}

static int put_segments(aimark__c2pa_out *out, const unsigned char *store, size_t store_len)
{
	RETURN_IF(store_len < 8, AIMARK_EINVAL, "JPEG: manifest store too small");
	size_t pos = 0;
	uint32_t z = 1;
	while (pos < store_len) {
		size_t chunk = store_len - pos < SEG_DATA ? store_len - pos : SEG_DATA;
		size_t lp = 2 + 8 + (z > 1 ? 8 : 0) + chunk;
		unsigned char h[12] = { 0xFF, 0xEB, 0, 0, 'J', 'P', 0x02, 0x11 };
		aimark__put_be16(h + 2, (uint16_t)lp);
		aimark__put_be32(h + 8, z);
		RETURN_IF_ERR(aimark__c2pa_out_append(out, h, 12));
		if (z > 1)
			RETURN_IF_ERR(aimark__c2pa_out_append(out, store, 8));
		RETURN_IF_ERR(aimark__c2pa_out_append(out, store + pos, chunk));
		pos += chunk;
		z++;
	}
	return 0;
}

typedef struct copy_ctx {
	const layout_ctx *plan;
	const unsigned char *data;
	aimark__c2pa_out *out;
	size_t pos;          /* next input byte to copy */
	const unsigned char *store;
	size_t store_len;
	uint64_t excl_start, excl_len;
	int written;
} copy_ctx;

static int emit_store(copy_ctx *c)
{
	c->excl_start = c->out->size;
	RETURN_IF_ERR(put_segments(c->out, c->store, c->store_len));
	c->excl_len = c->out->size - c->excl_start;
	c->written = 1;
	return 0;
}

static int copy_seg(void *vctx, const unsigned char *seg, size_t off, size_t len, unsigned marker)
{
	copy_ctx *c = vctx;
	if (!c->written && off >= c->plan->insert) {
		RETURN_IF_ERR(aimark__c2pa_out_append(c->out, c->data + c->pos, off - c->pos));
		c->pos = off;
		RETURN_IF_ERR(emit_store(c));
	}
	if (is_c2pa_seg(c->plan, seg, len, marker)) {
		RETURN_IF_ERR(aimark__c2pa_out_append(c->out, c->data + c->pos, off - c->pos));
		c->pos = off + len; /* drop the old store */
	}
	return 0;
}

static int jpeg_embed(const unsigned char *data, size_t len, const unsigned char *store, size_t store_len, aimark__c2pa_out *out,
		      uint64_t *excl_start, uint64_t *excl_len)
{
	layout_ctx p = { 2, 1, { 0 }, 0 };
	size_t sos;
	RETURN_IF_ERR(walk_mem(data, len, plan, &p, &sos));
	copy_ctx c = { &p, data, out, 0, store, store_len, 0, 0, 0 };
	RETURN_IF_ERR(walk_mem(data, len, copy_seg, &c, &sos));
	if (!c.written) {
		RETURN_IF_ERR(aimark__c2pa_out_append(out, data + c.pos, sos - c.pos));
		c.pos = sos;
		RETURN_IF_ERR(emit_store(&c));
	}
	RETURN_IF_ERR(aimark__c2pa_out_append(out, data + c.pos, len - c.pos));
	*excl_start = c.excl_start;
	*excl_len = c.excl_len;
	return 0;
}

const aimark__c2pa_format aimark__c2pa_format_jpeg = { "jpeg", "image/jpeg", 0, jpeg_extract, jpeg_embed };

/*
 * ZIP archive editing: central directory reader, entry extraction and a
 * writer that copies untouched entries byte for byte. Only the entries that
 * are replaced or added are compressed (zlib raw deflate); the central
 * directory records of copied entries are copied too, with their local
 * header offset patched.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "core/internal.h"
#include "format/zip_edit.h"

#define SIG_LOCAL 0x04034b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_EOCD 0x06054b50u
#define SIG_EOCD64 0x06064b50u
#define SIG_LOC64 0x07064b50u
#define SIG_DESCRIPTOR 0x08074b50u
#define EOCD_LEN 22u
#define CENTRAL_LEN 46u
#define LOCAL_LEN 30u
#define EXTRA_ZIP64 0x0001u

static uint64_t le64(const unsigned char *p) { return (uint64_t)aimark__le32(p) | ((uint64_t)aimark__le32(p + 4) << 32); }

static void put_le16(unsigned char *p, uint16_t v) { p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8); }

static void put_le64(unsigned char *p, uint64_t v)
{
	aimark__put_le32(p, (uint32_t)v);
	aimark__put_le32(p + 4, (uint32_t)(v >> 32));
}

/* Finds the ZIP64 extended-information block inside an extra field. */
static const unsigned char *find_zip64_extra(const unsigned char *x, size_t len, size_t *blen)
{
	size_t i = 0;
	while (i + 4 <= len) {
		uint16_t id = aimark__le16(x + i), n = aimark__le16(x + i + 2);
		if (i + 4 + n > len)
			return NULL;
		if (id == EXTRA_ZIP64) {
			*blen = n;
			return x + i + 4;
		}
		i += 4 + (size_t)n;
	}
	return NULL;
}

/* Locates the end of central directory record (searching back over a comment). */
static int find_eocd(const unsigned char *d, size_t size, size_t *pos, const char *what)
{
	RETURN_IF(size < EOCD_LEN, AIMARK_EFORMAT, "%s: %zu bytes is too short for a ZIP archive", what, size);
	size_t lowest = size - EOCD_LEN > 0xFFFF ? size - EOCD_LEN - 0xFFFF : 0;
	for (size_t i = size - EOCD_LEN + 1; i-- > lowest;) {
		if (aimark__le32(d + i) != SIG_EOCD)
			continue;
		size_t clen = aimark__le16(d + i + 20);
		if (i + EOCD_LEN + clen <= size) {
			*pos = i;
			return 0;
		}
	}
	return aimark__error_set(AIMARK_EFORMAT, "%s: no ZIP end of central directory record", what);
}

static int cmp_offset(const void *a, const void *b)
{
	const aimark__zip_entry *x = *(const aimark__zip_entry *const *)a, *y = *(const aimark__zip_entry *const *)b;
	return x->local_offset < y->local_offset ? -1 : x->local_offset > y->local_offset;
}

/* Fills one entry from its central record at `p` (bounds already checked for the fixed part). */
static int parse_central(aimark__zip *zip, const unsigned char *p, size_t avail, uint64_t at,
			 aimark__zip_entry *e, size_t *rec_len, const char *what)
{
	size_t nlen = aimark__le16(p + 28), xlen = aimark__le16(p + 30), clen = aimark__le16(p + 32);
	RETURN_IF(aimark__le32(p) != SIG_CENTRAL, AIMARK_EFORMAT,
		  "%s: bad ZIP central directory record signature at offset %llu", what, (unsigned long long)at);
	RETURN_IF(CENTRAL_LEN + nlen + xlen + clen > avail, AIMARK_EFORMAT,
		  "%s: ZIP central directory record at offset %llu passes the end of the directory", what,
		  (unsigned long long)at);
	memset(e, 0, sizeof *e);
	e->version_made = aimark__le16(p + 4);
	e->version_needed = aimark__le16(p + 6);
	e->flags = aimark__le16(p + 8);
	e->method = aimark__le16(p + 10);
	e->mtime = aimark__le16(p + 12);
	e->mdate = aimark__le16(p + 14);
	e->crc = aimark__le32(p + 16);
	e->comp_size = aimark__le32(p + 20);
	e->uncomp_size = aimark__le32(p + 24);
	uint16_t disk = aimark__le16(p + 34);
	e->internal_attr = aimark__le16(p + 36);
	e->external_attr = aimark__le32(p + 38);
	e->local_offset = aimark__le32(p + 42);
	e->name = p + CENTRAL_LEN;
	e->name_len = nlen;
	e->extra = p + CENTRAL_LEN + nlen;
	e->extra_len = xlen;
	e->comment = p + CENTRAL_LEN + nlen + xlen;
	e->comment_len = clen;
	*rec_len = CENTRAL_LEN + nlen + xlen + clen;

	if (e->uncomp_size == 0xFFFFFFFFu || e->comp_size == 0xFFFFFFFFu || e->local_offset == 0xFFFFFFFFu ||
	    disk == 0xFFFF) {
		size_t blen = 0, k = 0;
		const unsigned char *z = find_zip64_extra(e->extra, xlen, &blen);
		RETURN_IF(z == NULL, AIMARK_EFORMAT, "%s: ZIP entry at offset %llu has 64-bit markers but no ZIP64 extra field",
			  what, (unsigned long long)at);
		uint64_t *fields[3] = { &e->uncomp_size, &e->comp_size, &e->local_offset };
		for (int f = 0; f < 3; f++) {
			if (*fields[f] != 0xFFFFFFFFu)
				continue;
			RETURN_IF(k + 8 > blen, AIMARK_EFORMAT, "%s: ZIP64 extra field at offset %llu is too short", what,
				  (unsigned long long)at);
			*fields[f] = le64(z + k);
			k += 8;
		}
		zip->zip64 = 1;
	}
	RETURN_IF(disk != 0 && disk != 0xFFFF, AIMARK_EUNSUPPORTED, "%s: multi-disk ZIP archives are not supported", what);
	return 0;
}

/* Checks the local header of `e` and computes where its data and record end. */
static int check_local(const aimark__zip *zip, aimark__zip_entry *e, uint64_t limit, const char *what)
{
	uint64_t lo = e->local_offset;
	RETURN_IF(lo > limit || limit - lo < LOCAL_LEN, AIMARK_EFORMAT,
		  "%s: ZIP local header offset %llu passes the central directory", what, (unsigned long long)lo);
	const unsigned char *p = zip->data + lo;
	RETURN_IF(aimark__le32(p) != SIG_LOCAL, AIMARK_EFORMAT, "%s: no ZIP local header at offset %llu", what,
		  (unsigned long long)lo);
	size_t nlen = aimark__le16(p + 26), xlen = aimark__le16(p + 28);
	RETURN_IF(LOCAL_LEN + nlen + xlen > limit - lo, AIMARK_EFORMAT,
		  "%s: ZIP local header at offset %llu passes the central directory", what, (unsigned long long)lo);
	RETURN_IF(nlen != e->name_len || memcmp(p + LOCAL_LEN, e->name, nlen) != 0, AIMARK_EFORMAT,
		  "%s: ZIP local header at offset %llu names a different entry than the central directory", what,
		  (unsigned long long)lo);
	e->local_name_end = lo + LOCAL_LEN + nlen;
	e->data_offset = e->local_name_end + xlen;
	RETURN_IF(e->comp_size > limit - e->data_offset, AIMARK_EFORMAT,
		  "%s: ZIP entry at offset %llu: compressed size %llu passes the central directory", what,
		  (unsigned long long)lo, (unsigned long long)e->comp_size);
	uint64_t end = e->data_offset + e->comp_size;
	if (e->flags & 8) {
		/* data descriptor: optional signature, CRC-32, two sizes (8 bytes each for ZIP64 entries) */
		size_t blen = 0;
		int z64 = find_zip64_extra(p + LOCAL_LEN + nlen, xlen, &blen) != NULL;
		uint64_t dlen = z64 ? 20 : 12;
		if (limit - end >= 4 && aimark__le32(zip->data + end) == SIG_DESCRIPTOR)
			dlen += 4;
		RETURN_IF(dlen > limit - end, AIMARK_EFORMAT, "%s: ZIP data descriptor at offset %llu is truncated", what,
			  (unsigned long long)end);
		end += dlen;
	}
	e->end_offset = end;
	return 0;
}

int aimark__zip_open(aimark__zip *zip, const unsigned char *data, size_t size, const char *what)
{
	memset(zip, 0, sizeof *zip);
	zip->data = data;
	zip->size = size;
	size_t eocd = 0;
	RETURN_IF_ERR(find_eocd(data, size, &eocd, what));
	const unsigned char *q = data + eocd;
	uint64_t n_disk = aimark__le16(q + 8), n_total = aimark__le16(q + 10);
	uint64_t cd_size = aimark__le32(q + 12), cd_off = aimark__le32(q + 16);
	zip->comment = q + EOCD_LEN;
	zip->comment_len = aimark__le16(q + 20);
	uint64_t cd_limit = eocd;

	if (eocd >= 20 && aimark__le32(data + eocd - 20) == SIG_LOC64) {
		uint64_t off64 = le64(data + eocd - 20 + 8);
		RETURN_IF(off64 > eocd - 20 || eocd - 20 - off64 < 56, AIMARK_EFORMAT,
			  "%s: ZIP64 end record offset %llu is out of range", what, (unsigned long long)off64);
		const unsigned char *r = data + off64;
		RETURN_IF(aimark__le32(r) != SIG_EOCD64, AIMARK_EFORMAT, "%s: no ZIP64 end record at offset %llu", what,
			  (unsigned long long)off64);
		n_disk = le64(r + 24);
		n_total = le64(r + 32);
		cd_size = le64(r + 40);
		cd_off = le64(r + 48);
		cd_limit = off64;
		zip->zip64 = 1;
	} else {
		RETURN_IF(n_total == 0xFFFF || cd_size == 0xFFFFFFFFu || cd_off == 0xFFFFFFFFu, AIMARK_EFORMAT,
			  "%s: ZIP end record has 64-bit markers but no ZIP64 locator", what);
		RETURN_IF(aimark__le16(q + 4) != 0 || aimark__le16(q + 6) != 0, AIMARK_EUNSUPPORTED,
			  "%s: multi-disk ZIP archives are not supported", what);
	}
	RETURN_IF(n_disk != n_total, AIMARK_EUNSUPPORTED, "%s: multi-disk ZIP archives are not supported", what);
	RETURN_IF(cd_off > cd_limit || cd_size > cd_limit - cd_off, AIMARK_EFORMAT,
		  "%s: ZIP central directory (offset %llu, %llu bytes) passes the end record", what,
		  (unsigned long long)cd_off, (unsigned long long)cd_size);
	RETURN_IF(n_total > cd_size / CENTRAL_LEN, AIMARK_EFORMAT,
		  "%s: ZIP end record claims %llu entries in a %llu-byte central directory", what,
		  (unsigned long long)n_total, (unsigned long long)cd_size);

	if (n_total > 0) {
		zip->entries = aimark__calloc((size_t)n_total, sizeof *zip->entries);
		RETURN_ENOMEM_IF_NULL(zip->entries);
	}
	uint64_t pos = cd_off;
	for (uint64_t i = 0; i < n_total; i++) {
		RETURN_IF(cd_off + cd_size - pos < CENTRAL_LEN, AIMARK_EFORMAT,
			  "%s: ZIP central directory ends after %llu of %llu entries", what, (unsigned long long)i,
			  (unsigned long long)n_total);
		size_t rec = 0;
		int rc = parse_central(zip, data + pos, (size_t)(cd_off + cd_size - pos), pos, &zip->entries[i], &rec, what);
		if (rc == 0)
			rc = check_local(zip, &zip->entries[i], cd_off, what);
		if (rc < 0) {
			aimark__zip_close(zip);
			return rc;
		}
		zip->n_entries++;
		pos += rec;
	}

	/* entries must not overlap: the writer copies each one and essence ranges must be disjoint */
	zip->first_offset = cd_off;
	if (zip->n_entries > 0) {
		const aimark__zip_entry **order = aimark__calloc(zip->n_entries, sizeof *order);
		if (order == NULL) {
			aimark__zip_close(zip);
			return aimark__error_set(AIMARK_ENOMEM, "out of memory");
		}
		for (size_t i = 0; i < zip->n_entries; i++)
			order[i] = &zip->entries[i];
		qsort(order, zip->n_entries, sizeof *order, cmp_offset);
		zip->first_offset = order[0]->local_offset;
		for (size_t i = 1; i < zip->n_entries; i++) {
			if (order[i]->local_offset < order[i - 1]->end_offset) {
				uint64_t at = order[i]->local_offset;
				aimark__free(order);
				aimark__zip_close(zip);
				return aimark__error_set(AIMARK_EFORMAT, "%s: ZIP entries overlap at offset %llu", what,
							 (unsigned long long)at);
			}
		}
		aimark__free(order);
	}
	return 0;
}

void aimark__zip_close(aimark__zip *zip)
{
	if (zip == NULL)
		return;
	aimark__free(zip->entries);
	zip->entries = NULL;
	zip->n_entries = 0;
}

const aimark__zip_entry *aimark__zip_find(const aimark__zip *zip, const char *name, int nocase)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < zip->n_entries; i++) {
		const aimark__zip_entry *e = &zip->entries[i];
		if (e->name_len != n)
			continue;
		if (nocase ? strncasecmp((const char *)e->name, name, n) == 0 : memcmp(e->name, name, n) == 0)
			return e;
	}
	return NULL;
}

int aimark__zip_extract(const aimark__zip *zip, const aimark__zip_entry *e, size_t max, aimark_buf *out)
{
	RETURN_IF(e->flags & 1, AIMARK_EUNSUPPORTED, "ZIP entry %.*s is encrypted", (int)e->name_len, e->name);
	RETURN_IF(e->uncomp_size > max, AIMARK_ELIMIT, "ZIP entry %.*s: %llu bytes exceeds the limit of %zu",
		  (int)e->name_len, e->name, (unsigned long long)e->uncomp_size, max);
	const unsigned char *src = zip->data + e->data_offset;
	size_t want = (size_t)e->uncomp_size, start = out->size;
	RETURN_IF_ERR(aimark__buf_reserve(out, want));
	if (e->method == 0) {
		RETURN_IF(e->comp_size != e->uncomp_size, AIMARK_EFORMAT,
			  "ZIP entry %.*s is stored but its sizes differ", (int)e->name_len, e->name);
		memcpy(out->ptr + start, src, want);
	} else if (e->method == 8) {
		RETURN_IF(e->comp_size > UINT32_MAX || want >= UINT32_MAX, AIMARK_ELIMIT,
			  "ZIP entry %.*s is too large", (int)e->name_len, e->name);
		/* one spare output byte: output past the declared size means the size lied */
		RETURN_IF_ERR(aimark__buf_reserve(out, want + 1));
		z_stream zs;
		memset(&zs, 0, sizeof zs);
		RETURN_IF(inflateInit2(&zs, -MAX_WBITS) != Z_OK, AIMARK_ENOMEM, "zlib: cannot start inflate");
		zs.next_in = (Bytef *)(uintptr_t)src;
		zs.avail_in = (uInt)e->comp_size;
		zs.next_out = out->ptr + start;
		zs.avail_out = (uInt)want + 1;
		int zr = inflate(&zs, Z_FINISH);
		size_t got = zs.total_out;
		inflateEnd(&zs);
		RETURN_IF(zr != Z_STREAM_END || got != want, AIMARK_EFORMAT,
			  "ZIP entry %.*s: deflate data is damaged or does not match its size", (int)e->name_len, e->name);
	} else {
		return aimark__error_set(AIMARK_EUNSUPPORTED, "ZIP entry %.*s uses compression method %u",
					 (int)e->name_len, e->name, e->method);
	}
	uLong crc = crc32(0L, Z_NULL, 0);
	size_t done = 0;
	while (done < want) {
		uInt n = want - done > (1u << 30) ? (1u << 30) : (uInt)(want - done);
		crc = crc32(crc, out->ptr + start + done, n);
		done += n;
	}
	RETURN_IF(crc != e->crc, AIMARK_EFORMAT, "ZIP entry %.*s: CRC-32 mismatch", (int)e->name_len, e->name);
	out->size = start + want;
	out->ptr[out->size] = 0;
	return 0;
}

/* ---- writer ---- */

typedef struct out_entry {
	const aimark__zip_entry *raw; /* copied entry, or NULL for a written one */
	uint64_t offset;              /* new local header offset */
	/* written entries */
	const char *name;
	uint32_t crc;
	uint32_t csize, usize;
	uint16_t mtime, mdate, flags;
} out_entry;

typedef struct writer {
	aimark_sink *sink;
	uint64_t pos;
	out_entry *out;
	size_t n_out;
} writer;

static int w_bytes(writer *w, const void *p, size_t n)
{
	RETURN_IF_ERR(aimark_sink_write(w->sink, p, n));
	w->pos += n;
	return 0;
}

static int deflate_buf(const unsigned char *data, size_t len, aimark_buf *out)
{
	z_stream zs;
	memset(&zs, 0, sizeof zs);
	RETURN_IF(len > (1u << 30), AIMARK_ELIMIT, "ZIP: entry of %zu bytes is too large to write", len);
	RETURN_IF(deflateInit2(&zs, 6, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK, AIMARK_ENOMEM,
		  "zlib: cannot start deflate");
	uLong bound = deflateBound(&zs, (uLong)len);
	int rc = aimark__buf_reserve(out, (size_t)bound);
	if (rc < 0) {
		deflateEnd(&zs);
		return rc;
	}
	zs.next_in = (Bytef *)(uintptr_t)data;
	zs.avail_in = (uInt)len;
	zs.next_out = out->ptr + out->size;
	zs.avail_out = (uInt)bound;
	int zr = deflate(&zs, Z_FINISH);
	size_t produced = zs.total_out;
	deflateEnd(&zs);
	RETURN_IF(zr != Z_STREAM_END, AIMARK_ENOMEM, "zlib: deflate failed");
	out->size += produced;
	out->ptr[out->size] = 0;
	return 0;
}

static int write_new_entry(writer *w, const aimark__zip_put *put, uint16_t mtime, uint16_t mdate)
{
	size_t nlen = strlen(put->name);
	RETURN_IF(nlen > 0xFFFF, AIMARK_EINVAL, "ZIP: entry name too long");
	aimark_buf comp = AIMARK_BUF_INIT;
	int rc = deflate_buf(put->data, put->len, &comp);
	if (rc < 0) {
		aimark_buf_dispose(&comp);
		return rc;
	}
	out_entry *o = &w->out[w->n_out++];
	memset(o, 0, sizeof *o);
	o->offset = w->pos;
	o->name = put->name;
	o->crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), put->data, (uInt)put->len);
	o->csize = (uint32_t)comp.size;
	o->usize = (uint32_t)put->len;
	o->mtime = mtime;
	o->mdate = mdate;
	for (size_t i = 0; i < nlen; i++)
		if ((unsigned char)put->name[i] >= 0x80)
			o->flags = 1u << 11; /* UTF-8 name */
	unsigned char h[LOCAL_LEN];
	aimark__put_le32(h, SIG_LOCAL);
	put_le16(h + 4, 20);
	put_le16(h + 6, o->flags);
	put_le16(h + 8, 8);
	put_le16(h + 10, mtime);
	put_le16(h + 12, mdate);
	aimark__put_le32(h + 14, o->crc);
	aimark__put_le32(h + 18, o->csize);
	aimark__put_le32(h + 22, o->usize);
	put_le16(h + 26, (uint16_t)nlen);
	put_le16(h + 28, 0);
	rc = w_bytes(w, h, sizeof h);
	if (rc == 0)
		rc = w_bytes(w, put->name, nlen);
	if (rc == 0 && comp.size > 0)
		rc = w_bytes(w, comp.ptr, comp.size);
	aimark_buf_dispose(&comp);
	return rc;
}

/* Central record of a copied entry: the original bytes with the local offset patched. */
static int write_raw_central(writer *w, const out_entry *o)
{
	const aimark__zip_entry *e = o->raw;
	const unsigned char *rec = e->name - CENTRAL_LEN;
	size_t len = CENTRAL_LEN + e->name_len + e->extra_len + e->comment_len;
	unsigned char *copy = aimark__malloc(len);
	RETURN_ENOMEM_IF_NULL(copy);
	memcpy(copy, rec, len);
	if (aimark__le32(rec + 42) == 0xFFFFFFFFu) {
		size_t blen = 0;
		const unsigned char *z = find_zip64_extra(e->extra, e->extra_len, &blen);
		size_t k = (aimark__le32(rec + 24) == 0xFFFFFFFFu ? 8 : 0) + (aimark__le32(rec + 20) == 0xFFFFFFFFu ? 8 : 0);
		/* present and long enough: checked when the directory was read */
		put_le64(copy + (z - rec) + k, o->offset);
	} else {
		aimark__put_le32(copy + 42, (uint32_t)o->offset);
	}
	int rc = w_bytes(w, copy, len);
	aimark__free(copy);
	return rc;
}

static int write_new_central(writer *w, const out_entry *o)
{
	size_t nlen = strlen(o->name);
	unsigned char h[CENTRAL_LEN];
	memset(h, 0, sizeof h);
	aimark__put_le32(h, SIG_CENTRAL);
	put_le16(h + 4, 20);
	put_le16(h + 6, 20);
	put_le16(h + 8, o->flags);
	put_le16(h + 10, 8);
	put_le16(h + 12, o->mtime);
	put_le16(h + 14, o->mdate);
	aimark__put_le32(h + 16, o->crc);
	aimark__put_le32(h + 20, o->csize);
	aimark__put_le32(h + 24, o->usize);
	put_le16(h + 28, (uint16_t)nlen);
	aimark__put_le32(h + 42, (uint32_t)o->offset);
	RETURN_IF_ERR(w_bytes(w, h, sizeof h));
	return w_bytes(w, o->name, nlen);
}

static int write_end(writer *w, const aimark__zip *zip, uint64_t cd_off, uint64_t cd_size)
{
	uint64_t n = w->n_out;
	int need64 = zip->zip64 || n > 0xFFFE;
	if (need64) {
		uint64_t rec64 = w->pos;
		unsigned char r[56], loc[20];
		memset(r, 0, sizeof r);
		aimark__put_le32(r, SIG_EOCD64);
		put_le64(r + 4, 44);
		put_le16(r + 12, 45);
		put_le16(r + 14, 45);
		put_le64(r + 24, n);
		put_le64(r + 32, n);
		put_le64(r + 40, cd_size);
		put_le64(r + 48, cd_off);
		RETURN_IF_ERR(w_bytes(w, r, sizeof r));
		memset(loc, 0, sizeof loc);
		aimark__put_le32(loc, SIG_LOC64);
		put_le64(loc + 8, rec64);
		aimark__put_le32(loc + 16, 1);
		RETURN_IF_ERR(w_bytes(w, loc, sizeof loc));
	}
	unsigned char e[EOCD_LEN];
	memset(e, 0, sizeof e);
	aimark__put_le32(e, SIG_EOCD);
	put_le16(e + 8, n > 0xFFFE ? 0xFFFF : (uint16_t)n);
	put_le16(e + 10, n > 0xFFFE ? 0xFFFF : (uint16_t)n);
	aimark__put_le32(e + 12, (uint32_t)cd_size);
	aimark__put_le32(e + 16, (uint32_t)cd_off);
	put_le16(e + 20, (uint16_t)zip->comment_len);
	RETURN_IF_ERR(w_bytes(w, e, sizeof e));
	return w_bytes(w, zip->comment, zip->comment_len);
}

static int name_is(const aimark__zip_entry *e, const char *name)
{
	size_t n = strlen(name);
	return e->name_len == n && memcmp(e->name, name, n) == 0;
}

static int write_all(writer *w, const aimark__zip *zip, const aimark__zip_put *puts, size_t n_puts,
		     const aimark__zip_entry **order, unsigned char *used)
{
	/* bytes before the first entry (a self-extractor stub, rarely) */
	if (zip->first_offset > 0)
		RETURN_IF_ERR(w_bytes(w, zip->data, (size_t)zip->first_offset));
	uint16_t mtime = 0, mdate = 0x21; /* 1980-01-01 when the archive is empty */
	if (zip->n_entries > 0) {
		mtime = order[0]->mtime;
		mdate = order[0]->mdate;
	}
	for (size_t i = 0; i < zip->n_entries; i++) {
		const aimark__zip_entry *e = order[i];
		size_t p = n_puts;
		for (size_t k = 0; k < n_puts; k++)
			if (name_is(e, puts[k].name))
				p = k;
		if (p < n_puts) {
			if (used[p])
				continue; /* a later duplicate of a replaced name is dropped */
			used[p] = 1;
			RETURN_IF_ERR(write_new_entry(w, &puts[p], e->mtime, e->mdate));
			continue;
		}
		RETURN_IF(e->comp_size > 0xFFFFFFFEu || e->uncomp_size > 0xFFFFFFFEu, AIMARK_EUNSUPPORTED,
			  "ZIP: entry %.*s needs 64-bit sizes, which the writer does not produce", (int)e->name_len, e->name);
		out_entry *o = &w->out[w->n_out++];
		memset(o, 0, sizeof *o);
		o->raw = e;
		o->offset = w->pos;
		RETURN_IF_ERR(w_bytes(w, zip->data + e->local_offset, (size_t)(e->end_offset - e->local_offset)));
	}
	for (size_t k = 0; k < n_puts; k++)
		if (!used[k])
			RETURN_IF_ERR(write_new_entry(w, &puts[k], mtime, mdate));

	uint64_t cd_off = w->pos;
	RETURN_IF(cd_off > 0xFFFFFFF0u, AIMARK_EUNSUPPORTED, "ZIP: output passes 4 GiB");
	for (size_t i = 0; i < w->n_out; i++)
		RETURN_IF_ERR(w->out[i].raw ? write_raw_central(w, &w->out[i]) : write_new_central(w, &w->out[i]));
	uint64_t cd_size = w->pos - cd_off;
	return write_end(w, zip, cd_off, cd_size);
}

int aimark__zip_write(const aimark__zip *zip, const aimark__zip_put *puts, size_t n_puts, aimark_sink *sink)
{
	writer w = { sink, 0, NULL, 0 };
	const aimark__zip_entry **order = NULL;
	unsigned char *used = NULL;
	int rc = AIMARK_ENOMEM;
	w.out = aimark__calloc(zip->n_entries + n_puts + 1, sizeof *w.out);
	order = aimark__calloc(zip->n_entries + 1, sizeof *order);
	used = aimark__calloc(n_puts + 1, 1);
	if (w.out == NULL || order == NULL || used == NULL) {
		rc = aimark__error_set(AIMARK_ENOMEM, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < zip->n_entries; i++)
		order[i] = &zip->entries[i];
	qsort(order, zip->n_entries, sizeof *order, cmp_offset);
	rc = write_all(&w, zip, puts, n_puts, order, used);
done:
	aimark__free(w.out);
	aimark__free(order);
	aimark__free(used);
	return rc;
}

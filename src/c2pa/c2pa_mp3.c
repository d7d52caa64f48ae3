/*
 * C2PA in MP3: the manifest store in an ID3v2 GEOB frame (MIME
 * application/c2pa, file name "c2pa", description "c2pa manifest store")
 * of the tag at the start of the file. The hard binding excludes only the
 * store bytes inside the frame.
 */
#include <string.h>

#include "c2pa/c2pa_internal.h"
#include "core/internal.h"

#define GEOB_MIME "application/c2pa"
#define GEOB_MIME_OLD "application/x-c2pa-manifest-store"
#define GEOB_FILE "c2pa"
#define GEOB_DESC "c2pa manifest store"
#define MAX_TAG (AIMARK__C2PA_MAX_STORE + (16u << 20))

static uint32_t syncsafe(const unsigned char *p)
{
	return ((uint32_t)(p[0] & 0x7f) << 21) | ((uint32_t)(p[1] & 0x7f) << 14) | ((uint32_t)(p[2] & 0x7f) << 7) | (p[3] & 0x7f);
}

static void put_syncsafe(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)((v >> 21) & 0x7f);
	p[1] = (unsigned char)((v >> 14) & 0x7f);
	p[2] = (unsigned char)((v >> 7) & 0x7f);
	p[3] = (unsigned char)(v & 0x7f);
}

/* Length of an encoded NUL-terminated string at p (terminator included), 0 when unterminated. */
static size_t enc_strlen(const unsigned char *p, size_t n, unsigned enc)
{
	if (enc == 1 || enc == 2) {
		for (size_t i = 0; i + 1 < n; i += 2)
			if (p[i] == 0 && p[i + 1] == 0)
				return i + 2;
		return 0;
	}
	const unsigned char *z = memchr(p, 0, n);
	return z ? (size_t)(z - p) + 1 : 0;
}

/* If the frame body is a C2PA GEOB, points at its data. */
static int geob_data(const unsigned char *body, size_t n, const unsigned char **data, size_t *len)
{
	if (n < 1)
		return 0;
	unsigned enc = body[0];
	size_t pos = 1, l;
	if ((l = enc_strlen(body + pos, n - pos, 0)) == 0)
		return 0;
	const char *mime = (const char *)body + pos;
	if (strcmp(mime, GEOB_MIME) != 0 && strcmp(mime, GEOB_MIME_OLD) != 0)
		return 0;
	pos += l;
	for (int k = 0; k < 2; k++) { /* file name, description */
		if ((l = enc_strlen(body + pos, n - pos, enc)) == 0)
			return 0;
		pos += l;
	}
	*data = body + pos;
	*len = n - pos;
	return 1;
}

typedef struct id3_frame {
	size_t off, len; /* whole frame within the tag */
	int c2pa;
	size_t data_off, data_len;
} id3_frame;

/*
 * Walks the frames of a v2.3/v2.4 tag `t` (`n` bytes, header included) and
 * calls back per frame. Returns the offset where frames end (padding start).
 */
static int walk_frames(const unsigned char *t, size_t n, int (*fn)(void *, const id3_frame *), void *ctx, size_t *frames_end)
{
	unsigned ver = t[3], flags = t[5];
	size_t pos = 10, end = n;
	if (ver == 4 && (flags & 0x10)) { /* a footer (ID3v2.4 only, as read_tag_header counts it) */
		RETURN_IF(n < 20, AIMARK_EFORMAT, "MP3: ID3 tag of %zu bytes is too short for its footer", n);
		end -= 10;
	}
	if (flags & 0x40) {
		RETURN_IF(end - pos < 4, AIMARK_EFORMAT, "MP3: truncated ID3 extended header");
		size_t ext = ver == 4 ? syncsafe(t + pos) : aimark__be32(t + pos) + 4;
		RETURN_IF(ext > end - pos, AIMARK_EFORMAT, "MP3: ID3 extended header of %zu bytes passes the tag", ext);
		/* at least its size and flags: a shorter one would make the frames after it unreadable once rewritten */
		RETURN_IF(ext < (ver == 4 ? 6u : 10u), AIMARK_EFORMAT, "MP3: ID3 extended header of %zu bytes is too short", ext);
		pos += ext;
	}
	while (end - pos >= 10 && t[pos] != 0) {
		size_t fl = ver == 4 ? syncsafe(t + pos + 4) : aimark__be32(t + pos + 4);
		RETURN_IF(fl > end - pos - 10, AIMARK_EFORMAT, "MP3: ID3 frame %.4s of %zu bytes at offset %zu passes the tag",
			  (const char *)t + pos, fl, pos);
		id3_frame f = { pos, fl + 10, 0, 0, 0 };
		const unsigned char *d;
		size_t dl;
		unsigned fflags = t[pos + 9];
		/* compressed, encrypted or unsynchronised frames are never ours */
		if (memcmp(t + pos, "GEOB", 4) == 0 && (fflags & (ver == 4 ? 0x0e : 0xc0)) == 0 && geob_data(t + pos + 10, fl, &d, &dl)) {
			f.c2pa = 1;
			f.data_off = (size_t)(d - t);
			f.data_len = dl;
		}
		if (fn)
			RETURN_IF_ERR(fn(ctx, &f));
		pos += fl + 10;
	}
	*frames_end = pos;
	return 0;
}

typedef struct find_ctx {
	const unsigned char *tag;
	aimark_buf *store;
	int found;
} find_ctx;

static int find_geob(void *vctx, const id3_frame *f)
{
	find_ctx *c = vctx;
	if (!f->c2pa || c->found)
		return 0;
	RETURN_IF(f->data_len > AIMARK__C2PA_MAX_STORE, AIMARK_ELIMIT, "MP3: C2PA GEOB of %zu bytes (limit %u)", f->data_len,
		  AIMARK__C2PA_MAX_STORE);
	c->found = 1;
	return aimark__buf_append(c->store, c->tag + f->data_off, f->data_len);
}

static int read_tag_header(const unsigned char *h, size_t *total)
{
	if (memcmp(h, "ID3", 3) != 0)
		return 0;
	RETURN_IF(h[3] < 2 || h[3] > 4 || (h[6] | h[7] | h[8] | h[9]) & 0x80, AIMARK_EFORMAT, "MP3: invalid ID3v2 header");
	*total = 10 + (size_t)syncsafe(h + 6) + ((h[3] == 4 && (h[5] & 0x10)) ? 10 : 0);
	return 1;
}

static int mp3_extract(aimark_source *src, aimark_buf *store)
{
	unsigned char h[10];
	if (aimark_source_size(src) < 10)
		return 0;
	RETURN_IF_ERR(aimark_source_read(src, 0, h, 10));
	size_t total = 0;
	int has = read_tag_header(h, &total);
	RETURN_IF_ERR(has);
	if (!has || h[3] == 2 || (h[5] & 0x80))
		return 0; /* no tag, or a form aimark does not write into */
	RETURN_IF(total > aimark_source_size(src), AIMARK_EFORMAT, "MP3: the ID3 tag (%zu bytes) passes the end of the file", total);
	RETURN_IF(total > MAX_TAG, AIMARK_ELIMIT, "MP3: ID3 tag of %zu bytes", total);
	aimark_buf tag = AIMARK_BUF_INIT;
	int rc = aimark__buf_reserve(&tag, total);
	if (rc == 0)
		rc = aimark_source_read(src, 0, tag.ptr, total);
	find_ctx c = { tag.ptr, store, 0 };
	size_t fe;
	if (rc == 0)
		rc = walk_frames(tag.ptr, total, find_geob, &c, &fe);
	aimark_buf_dispose(&tag);
	return rc; /* a partial store tells the caller a manifest is there */
}

typedef struct copy_ctx {
	const unsigned char *tag;
	aimark__c2pa_out *out;
} copy_ctx;

static int copy_frame(void *vctx, const id3_frame *f)
{
	copy_ctx *c = vctx;
	return f->c2pa ? 0 : aimark__c2pa_out_append(c->out, c->tag + f->off, f->len);
}

static int mp3_embed(const unsigned char *data, size_t len, const unsigned char *store, size_t store_len, aimark__c2pa_out *out,
		     uint64_t *excl_start, uint64_t *excl_len)
{
	size_t total = 0;
	int has = len >= 10 ? read_tag_header(data, &total) : 0;
	RETURN_IF_ERR(has);
	RETURN_IF(has && total > len, AIMARK_EFORMAT, "MP3: the ID3 tag (%zu bytes) passes the end of the file", total);
	RETURN_IF(has && data[3] == 2, AIMARK_EUNSUPPORTED, "MP3: C2PA cannot be added to an ID3v2.2 tag");
	RETURN_IF(has && (data[5] & 0x80), AIMARK_EUNSUPPORTED, "MP3: C2PA cannot be added to an unsynchronised ID3 tag");
	unsigned ver = has ? data[3] : 4;
	size_t body = 1 + sizeof GEOB_MIME + sizeof GEOB_FILE + sizeof GEOB_DESC + store_len;
	RETURN_IF(body > 0x0FFFFFFFu - 64 || (has && total + body > 0x0FFFFFFFu), AIMARK_ELIMIT, "MP3: ID3 tag would pass 256 MiB");
	uint64_t tag_start = out->size;
	unsigned char hdr[10] = { 'I', 'D', '3', 4, 0, 0, 0, 0, 0, 0 };
	size_t frames_end = 10;
	if (has) {
		memcpy(hdr, data, 10);
		copy_ctx c = { data, out };
		RETURN_IF_ERR(aimark__c2pa_out_append(out, hdr, 10));
		/* the extended header, when present, stays */
		size_t ext_end = 10;
		if (data[5] & 0x40) {
			size_t ext = ver == 4 ? syncsafe(data + 10) : aimark__be32(data + 10) + 4;
			RETURN_IF(10 + ext > total, AIMARK_EFORMAT, "MP3: bad ID3 extended header");
			ext_end = 10 + ext;
			RETURN_IF_ERR(aimark__c2pa_out_append(out, data + 10, ext));
		}
		(void)ext_end;
		RETURN_IF_ERR(walk_frames(data, total, copy_frame, &c, &frames_end));
	} else {
		RETURN_IF_ERR(aimark__c2pa_out_append(out, hdr, 10));
	}
	unsigned char fh[10];
	memcpy(fh, "GEOB", 4);
	if (ver == 4)
		put_syncsafe(fh + 4, (uint32_t)body);
	else
		aimark__put_be32(fh + 4, (uint32_t)body);
	fh[8] = fh[9] = 0;
	RETURN_IF_ERR(aimark__c2pa_out_append(out, fh, 10));
	RETURN_IF_ERR(aimark__c2pa_out_append(out, "", 1)); /* ISO-8859-1 */
	RETURN_IF_ERR(aimark__c2pa_out_append(out, GEOB_MIME, sizeof GEOB_MIME));
	RETURN_IF_ERR(aimark__c2pa_out_append(out, GEOB_FILE, sizeof GEOB_FILE));
	RETURN_IF_ERR(aimark__c2pa_out_append(out, GEOB_DESC, sizeof GEOB_DESC));
	*excl_start = out->size;
	*excl_len = store_len;
	RETURN_IF_ERR(aimark__c2pa_out_append(out, store, store_len));
	uint64_t tag_len = out->size - tag_start; /* header + frames, padding dropped */
	unsigned char *tag_hdr = aimark__c2pa_out_own_at(out, tag_start, 10); /* `hdr` was copied */
	RETURN_IF(tag_hdr == NULL, AIMARK_EFORMAT, "MP3: the ID3 header is not where it was written");
	put_syncsafe(tag_hdr + 6, (uint32_t)(tag_len - 10));
	if (has && ver == 4 && (data[5] & 0x10)) {
		unsigned char foot[10];
		memcpy(foot, tag_hdr, 10);
		memcpy(foot, "3DI", 3);
		RETURN_IF_ERR(aimark__c2pa_out_append(out, foot, 10));
	}
	return aimark__c2pa_out_append(out, data + (has ? total : 0), len - (has ? total : 0));
}

const aimark__c2pa_format aimark__c2pa_format_mp3 = { "mp3", "audio/mpeg", 0, mp3_extract, mp3_embed };

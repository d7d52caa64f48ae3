/* ID3v2 tags: find and set the TXXX "AIGC" frame, keeping every other frame. */
#include <string.h>

#include "core/findings_internal.h"
#include "core/internal.h"
#include "id3.h"

#define MAX_SYNCSAFE 0x0FFFFFFFu
#define AIGC_DESC "AIGC"

typedef struct id3_tag {
	int ver;                   /* 2, 3 or 4 */
	unsigned flags;            /* header flags */
	const unsigned char *body; /* after the header, unsynchronisation undone for v2.2/v2.3 */
	size_t body_len;
	size_t frames_off;         /* past the extended header */
	aimark_buf storage;        /* the decoded body when it had to be copied */
} id3_tag;

typedef struct id3_frame {
	char id[5];
	size_t off;     /* in body */
	size_t hdr_len;
	size_t total;   /* header + data */
	unsigned flags;
} id3_frame;

static int is_syncsafe(const unsigned char *p) { return ((p[0] | p[1] | p[2] | p[3]) & 0x80) == 0; }

static uint32_t syncsafe32(const unsigned char *p)
{
	return ((uint32_t)(p[0] & 0x7f) << 21) | ((uint32_t)(p[1] & 0x7f) << 14) | ((uint32_t)(p[2] & 0x7f) << 7) |
	       (uint32_t)(p[3] & 0x7f);
}

static void put_syncsafe32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)((v >> 21) & 0x7f);
	p[1] = (unsigned char)((v >> 14) & 0x7f);
	p[2] = (unsigned char)((v >> 7) & 0x7f);
	p[3] = (unsigned char)(v & 0x7f);
}

int aimark__id3_header_parse(const unsigned char *p, int footer, uint64_t *total)
{
	RETURN_IF(memcmp(p, footer ? "3DI" : "ID3", 3) != 0, AIMARK_EFORMAT, "ID3v2: no %s marker",
		  footer ? "footer" : "header");
	RETURN_IF(p[3] < 2 || p[3] > 4 || p[4] == 0xFF, AIMARK_EFORMAT, "ID3v2: unsupported version 2.%u.%u", p[3], p[4]);
	RETURN_IF(footer && (p[3] != 4 || !(p[5] & 0x10)), AIMARK_EFORMAT, "ID3v2: footer without the v2.4 footer flag");
	RETURN_IF(!is_syncsafe(p + 6), AIMARK_EFORMAT, "ID3v2: tag size is not syncsafe");
	*total = AIMARK__ID3_HEADER_SIZE + (uint64_t)syncsafe32(p + 6) +
		 ((p[3] == 4 && (p[5] & 0x10)) ? AIMARK__ID3_HEADER_SIZE : 0);
	return 0;
}

/* Undoes unsynchronisation: every $FF $00 becomes $FF. */
static int unsync_decode(const unsigned char *p, size_t n, aimark_buf *out)
{
	RETURN_IF_ERR(aimark__buf_reserve(out, n));
	for (size_t i = 0; i < n; i++) {
		out->ptr[out->size++] = p[i];
		if (p[i] == 0xFF && i + 1 < n && p[i + 1] == 0x00)
			i++;
	}
	out->ptr[out->size] = '\0';
	return 0;
}

/* Applies unsynchronisation: $00 after every $FF that precedes %111xxxxx or $00, and after a final $FF. */
static int unsync_encode(const unsigned char *p, size_t n, aimark_buf *out)
{
	size_t extra = 0;
	for (size_t i = 0; i < n; i++)
		if (p[i] == 0xFF && (i + 1 == n || p[i + 1] >= 0xE0 || p[i + 1] == 0x00))
			extra++;
	RETURN_IF_ERR(aimark__buf_reserve(out, n + extra));
	for (size_t i = 0; i < n; i++) {
		out->ptr[out->size++] = p[i];
		if (p[i] == 0xFF && (i + 1 == n || p[i + 1] >= 0xE0 || p[i + 1] == 0x00))
			out->ptr[out->size++] = 0x00;
	}
	out->ptr[out->size] = '\0';
	return 0;
}

static int tag_open(id3_tag *t, const unsigned char *tag, size_t len, const char *what, uint64_t file_offset)
{
	memset(t, 0, sizeof *t);
	uint64_t total;
	RETURN_IF(len < AIMARK__ID3_HEADER_SIZE || aimark__id3_header_parse(tag, 0, &total) != 0, AIMARK_EFORMAT,
		  "%s: invalid ID3v2 header at offset %llu", what, (unsigned long long)file_offset);
	RETURN_IF(total > len, AIMARK_EFORMAT, "%s: ID3v2 tag at offset %llu declares %llu bytes but %zu are present",
		  what, (unsigned long long)file_offset, (unsigned long long)total, len);
	t->ver = tag[3];
	t->flags = tag[5];
	RETURN_IF(t->ver == 2 && (t->flags & 0x40), AIMARK_EUNSUPPORTED,
		  "%s: compressed ID3v2.2 tag at offset %llu is not supported", what, (unsigned long long)file_offset);
	t->body = tag + AIMARK__ID3_HEADER_SIZE;
	t->body_len = syncsafe32(tag + 6);
	if (t->ver <= 3 && (t->flags & 0x80)) {
		RETURN_IF_ERR(unsync_decode(t->body, t->body_len, &t->storage));
		t->body = t->storage.ptr;
		t->body_len = t->storage.size;
	}
	if (t->ver >= 3 && (t->flags & 0x40)) {
		uint64_t ext = 0;
		if (t->body_len >= 4)
			ext = t->ver == 3 ? (uint64_t)aimark__be32(t->body) + 4 : (is_syncsafe(t->body) ? syncsafe32(t->body) : 0);
		if (ext < 6 || ext > t->body_len) {
			aimark_buf_dispose(&t->storage);
			return aimark__error_set(AIMARK_EFORMAT, "%s: ID3v2 extended header at offset %llu has a bad size",
						 what, (unsigned long long)(file_offset + AIMARK__ID3_HEADER_SIZE));
		}
		t->frames_off = (size_t)ext;
	}
	return 0;
}

static int id_char(unsigned char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

/* 1 when a frame header, padding or the end of the body starts at `p`. */
static int plausible_next(const id3_tag *t, uint64_t p)
{
	if (p > t->body_len)
		return 0;
	if (p == t->body_len || t->body[p] == 0)
		return 1;
	size_t idl = t->ver == 2 ? 3 : 4;
	for (size_t i = 0; i < idl && p + i < t->body_len; i++)
		if (!id_char(t->body[p + i]))
			return 0;
	return 1;
}

/* Steps to the next frame: 1 and `f` filled, or 0 at padding, garbage or the end. */
static int next_frame(const id3_tag *t, size_t *pos, id3_frame *f)
{
	size_t hl = t->ver == 2 ? 6 : 10, idl = t->ver == 2 ? 3 : 4;
	size_t p = *pos;
	if (p > t->body_len || t->body_len - p < hl)
		return 0;
	const unsigned char *h = t->body + p;
	for (size_t i = 0; i < idl; i++)
		if (!id_char(h[i]))
			return 0;
	uint64_t size;
	if (t->ver == 2) {
		size = ((uint32_t)h[3] << 16) | ((uint32_t)h[4] << 8) | h[5];
	} else if (t->ver == 3) {
		size = aimark__be32(h + 4);
	} else {
		/* Some v2.4 writers store plain sizes; take whichever lands on a frame. */
		uint64_t raw = aimark__be32(h + 4);
		if (!is_syncsafe(h + 4)) {
			size = raw;
		} else {
			size = syncsafe32(h + 4);
			if (size != raw && !plausible_next(t, p + hl + size) && plausible_next(t, p + hl + raw))
				size = raw;
		}
	}
	if (size > t->body_len - p - hl)
		return 0;
	memcpy(f->id, h, idl);
	f->id[idl] = '\0';
	f->off = p;
	f->hdr_len = hl;
	f->total = hl + (size_t)size;
	f->flags = t->ver == 2 ? 0 : aimark__be16(h + 8);
	*pos = p + f->total;
	return 1;
}

/*
 * The frame's content with per-frame extras and unsynchronisation removed.
 * Returns 0, 1 when it cannot be read (`*why` says why), or an error.
 */
static int frame_content(const id3_tag *t, const id3_frame *f, aimark_buf *tmp, const unsigned char **data, size_t *n,
			 const char **why)
{
	const unsigned char *d = t->body + f->off + f->hdr_len;
	size_t len = f->total - f->hdr_len;
	int unsync = 0;
	if (t->ver == 3) {
		if (f->flags & 0x0080) { *why = "compressed"; return 1; }
		if (f->flags & 0x0040) { *why = "encrypted"; return 1; }
		if (f->flags & 0x0020) {
			if (len < 1) { *why = "truncated"; return 1; }
			d++, len--;
		}
	} else if (t->ver == 4) {
		if (f->flags & 0x0008) { *why = "compressed"; return 1; }
		if (f->flags & 0x0004) { *why = "encrypted"; return 1; }
		if (f->flags & 0x0040) {
			if (len < 1) { *why = "truncated"; return 1; }
			d++, len--;
		}
		if (f->flags & 0x0001) {
			if (len < 4) { *why = "truncated"; return 1; }
			d += 4, len -= 4;
		}
		unsync = (f->flags & 0x0002) || (t->flags & 0x80);
	}
	if (unsync) {
		aimark__buf_clear(tmp);
		RETURN_IF_ERR(unsync_decode(d, len, tmp));
		d = tmp->ptr;
		len = tmp->size;
	}
	*data = d;
	*n = len;
	return 0;
}

static int wide(int enc) { return enc == 1 || enc == 2; }

/* Index of the string terminator at or after `p` (n when none). */
static size_t term_at(int enc, const unsigned char *p, size_t n)
{
	if (!wide(enc)) {
		const unsigned char *z = memchr(p, 0, n);
		return z ? (size_t)(z - p) : n;
	}
	for (size_t i = 0; i + 1 < n; i += 2)
		if (p[i] == 0 && p[i + 1] == 0)
			return i;
	return n;
}

static int put_utf8(aimark_buf *b, uint32_t cp)
{
	unsigned char u[4];
	size_t n;
	if (cp < 0x80) {
		u[0] = (unsigned char)cp, n = 1;
	} else if (cp < 0x800) {
		u[0] = (unsigned char)(0xC0 | (cp >> 6)), u[1] = (unsigned char)(0x80 | (cp & 0x3F)), n = 2;
	} else if (cp < 0x10000) {
		u[0] = (unsigned char)(0xE0 | (cp >> 12)), u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		u[2] = (unsigned char)(0x80 | (cp & 0x3F)), n = 3;
	} else {
		u[0] = (unsigned char)(0xF0 | (cp >> 18)), u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
		u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F)), u[3] = (unsigned char)(0x80 | (cp & 0x3F)), n = 4;
	}
	return aimark__buf_append(b, u, n);
}

/* Appends the ID3 string (encoding `enc`, no terminator) as UTF-8. */
static int text_to_utf8(int enc, const unsigned char *p, size_t n, aimark_buf *out)
{
	if (enc == 3)
		return aimark__buf_append(out, p, n);
	if (enc == 0) {
		for (size_t i = 0; i < n; i++)
			RETURN_IF_ERR(put_utf8(out, p[i]));
		return 0;
	}
	int be = enc == 2;
	size_t i = 0;
	if (n >= 2 && ((p[0] == 0xFF && p[1] == 0xFE) || (p[0] == 0xFE && p[1] == 0xFF))) {
		be = p[0] == 0xFE;
		i = 2;
	}
	for (; i + 1 < n; i += 2) {
		uint32_t u = be ? (uint32_t)((p[i] << 8) | p[i + 1]) : (uint32_t)((p[i + 1] << 8) | p[i]);
		if (u >= 0xD800 && u < 0xDC00 && i + 3 < n) {
			uint32_t lo = be ? (uint32_t)((p[i + 2] << 8) | p[i + 3]) : (uint32_t)((p[i + 3] << 8) | p[i + 2]);
			if (lo >= 0xDC00 && lo < 0xE000) {
				RETURN_IF_ERR(put_utf8(out, 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00)));
				i += 2;
				continue;
			}
		}
		RETURN_IF_ERR(put_utf8(out, (u >= 0xD800 && u < 0xE000) ? 0xFFFD : u));
	}
	return 0;
}

static int ascii_caseeq(const unsigned char *a, size_t n, const char *b)
{
	if (n != strlen(b))
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = a[i];
		if (c >= 'a' && c <= 'z')
			c = (unsigned char)(c - 'a' + 'A');
		if (c != (unsigned char)b[i])
			return 0;
	}
	return 1;
}

static int is_txxx(const id3_tag *t, const id3_frame *f)
{
	return strcmp(f->id, t->ver == 2 ? "TXX" : "TXXX") == 0;
}

/*
 * For a TXXX frame's content: 1 when its description is AIGC, with the value
 * appended to `value` as UTF-8 (when not NULL); 0 otherwise; 2 when malformed.
 */
static int txxx_aigc(const unsigned char *d, size_t n, aimark_buf *scratch, aimark_buf *value)
{
	if (n < 1 || d[0] > 3)
		return 2;
	int enc = d[0];
	const unsigned char *desc = d + 1;
	size_t rest = n - 1;
	size_t dl = term_at(enc, desc, rest);
	if (dl == rest)
		return 2;
	aimark__buf_clear(scratch);
	RETURN_IF_ERR(text_to_utf8(enc, desc, dl, scratch));
	if (!ascii_caseeq(scratch->ptr ? scratch->ptr : (const unsigned char *)"", scratch->size, AIGC_DESC))
		return 0;
	if (value) {
		const unsigned char *v = desc + dl + (wide(enc) ? 2 : 1);
		size_t vn = rest - dl - (wide(enc) ? 2 : 1);
		RETURN_IF_ERR(text_to_utf8(enc, v, term_at(enc, v, vn), value));
	}
	return 1;
}

int aimark__id3_find_aigc(const unsigned char *tag, size_t len, const char *what, uint64_t file_offset,
			  aimark__meta *meta)
{
	id3_tag t;
	int rc = tag_open(&t, tag, len, what, file_offset);
	if (rc == AIMARK_EUNSUPPORTED || rc == AIMARK_EFORMAT) /* the message says which tag and why */
		return aimark__findings_add(meta->findings, AIMARK_SEVERITY_WARNING, "id3-unreadable", "%s; not read",
					    aimark_error_last());
	RETURN_IF_ERR(rc);
	aimark_buf tmp = AIMARK_BUF_INIT, scratch = AIMARK_BUF_INIT, value = AIMARK_BUF_INIT;
	int found = 0;
	size_t pos = t.frames_off;
	id3_frame f;
	while (rc >= 0 && next_frame(&t, &pos, &f)) {
		if (!is_txxx(&t, &f))
			continue;
		uint64_t at = file_offset + AIMARK__ID3_HEADER_SIZE + f.off;
		const unsigned char *d;
		size_t n;
		const char *why = "";
		rc = frame_content(&t, &f, &tmp, &d, &n, &why);
		if (rc == 1) {
			rc = aimark__findings_add(meta->findings, AIMARK_SEVERITY_WARNING, "id3-frame-unreadable",
						  "%s: %s frame at offset %llu is %s; not read", what, f.id,
						  (unsigned long long)at, why);
			continue;
		}
		if (rc < 0)
			break;
		aimark__buf_clear(&value);
		rc = txxx_aigc(d, n, &scratch, &value);
		if (rc == 2) {
			rc = aimark__findings_add(meta->findings, AIMARK_SEVERITY_WARNING, "id3-frame-unreadable",
						  "%s: %s frame at offset %llu is malformed", what, f.id, (unsigned long long)at);
		} else if (rc == 1) {
			found++;
			rc = aimark__meta_add_carrier(meta, AIMARK__CARRIER_ID3_TXXX,
						      value.ptr ? (const char *)value.ptr : "", value.size, at);
		}
	}
	if (rc >= 0 && pos < t.body_len) {
		size_t nz = 0;
		for (size_t i = pos; i < t.body_len; i++)
			nz += t.body[i] != 0;
		if (nz)
			rc = aimark__findings_add(meta->findings, AIMARK_SEVERITY_INFO, "id3-garbage",
						  "%s: ID3v2 tag at offset %llu has %zu unparsable bytes after its last frame",
						  what, (unsigned long long)file_offset, t.body_len - pos);
	}
	if (rc >= 0 && found > 1)
		rc = aimark__findings_add(meta->findings, AIMARK_SEVERITY_WARNING, "duplicate-label",
					  "%s: ID3v2 tag at offset %llu holds %d TXXX AIGC frames", what,
					  (unsigned long long)file_offset, found);
	aimark_buf_dispose(&tmp);
	aimark_buf_dispose(&scratch);
	aimark_buf_dispose(&value);
	aimark_buf_dispose(&t.storage);
	return rc < 0 ? rc : found;
}

static int is_ascii(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return 0;
	return 1;
}

/* Appends UTF-8 `s` as UTF-16LE (malformed bytes become U+FFFD). */
static int utf8_to_utf16le(const unsigned char *s, size_t n, aimark_buf *out)
{
	size_t i = 0;
	while (i < n) {
		uint32_t cp = 0xFFFD;
		unsigned char c = s[i];
		size_t need = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : 9;
		if (need == 0) {
			cp = c, i++;
		} else if (need <= 3 && n - i > need) {
			uint32_t v = c & (0x3F >> need);
			size_t k;
			for (k = 1; k <= need && (s[i + k] & 0xC0) == 0x80; k++)
				v = (v << 6) | (s[i + k] & 0x3F);
			if (k > need) {
				cp = v, i += need + 1;
			} else {
				i += k;
			}
			if (cp > 0x10FFFF || (cp >= 0xD800 && cp < 0xE000))
				cp = 0xFFFD;
		} else {
			i++;
		}
		unsigned char u[4];
		if (cp >= 0x10000) {
			uint32_t v = cp - 0x10000, hi = 0xD800 + (v >> 10), lo = 0xDC00 + (v & 0x3FF);
			u[0] = (unsigned char)hi, u[1] = (unsigned char)(hi >> 8), u[2] = (unsigned char)lo,
			u[3] = (unsigned char)(lo >> 8);
			RETURN_IF_ERR(aimark__buf_append(out, u, 4));
		} else {
			u[0] = (unsigned char)cp, u[1] = (unsigned char)(cp >> 8);
			RETURN_IF_ERR(aimark__buf_append(out, u, 2));
		}
	}
	return 0;
}

/* Appends a complete TXXX "AIGC" frame for tag version `ver`. */
static int build_frame(int ver, int v4_unsync, const char *json, size_t json_len, aimark_buf *out)
{
	aimark_buf payload = AIMARK_BUF_INIT, enc = AIMARK_BUF_INIT;
	int rc;
	if (ver == 4 || is_ascii(json, json_len)) {
		unsigned char e = ver == 4 ? 3 : 0;
		if ((rc = aimark__buf_append(&payload, &e, 1)) < 0 ||
		    (rc = aimark__buf_append(&payload, AIGC_DESC, sizeof AIGC_DESC)) < 0 ||
		    (rc = aimark__buf_append(&payload, json, json_len)) < 0)
			goto done;
	} else {
		static const unsigned char head[] = { 1, 0xFF, 0xFE, 'A', 0, 'I', 0, 'G', 0, 'C', 0, 0, 0, 0xFF, 0xFE };
		if ((rc = aimark__buf_append(&payload, head, sizeof head)) < 0 ||
		    (rc = utf8_to_utf16le((const unsigned char *)json, json_len, &payload)) < 0)
			goto done;
	}
	const aimark_buf *data = &payload;
	if (ver == 4 && v4_unsync) {
		if ((rc = unsync_encode(payload.ptr, payload.size, &enc)) < 0)
			goto done;
		data = &enc;
	}
	unsigned char h[10];
	size_t hl = ver == 2 ? 6 : 10;
	uint64_t max = ver == 2 ? 0xFFFFFFu : ver == 3 ? UINT32_MAX : MAX_SYNCSAFE;
	if (data->size > max) {
		rc = aimark__error_set(AIMARK_ELIMIT, "ID3v2: label of %zu bytes is too large for a frame", json_len);
		goto done;
	}
	if (ver == 2) {
		memcpy(h, "TXX", 3);
		h[3] = (unsigned char)(data->size >> 16), h[4] = (unsigned char)(data->size >> 8),
		h[5] = (unsigned char)data->size;
	} else {
		memcpy(h, "TXXX", 4);
		if (ver == 3)
			aimark__put_be32(h + 4, (uint32_t)data->size);
		else
			put_syncsafe32(h + 4, (uint32_t)data->size);
		h[8] = 0;
		h[9] = (ver == 4 && v4_unsync) ? 0x02 : 0;
	}
	if ((rc = aimark__buf_append(out, h, hl)) < 0)
		goto done;
	rc = aimark__buf_append(out, data->ptr, data->size);
done:
	aimark_buf_dispose(&payload);
	aimark_buf_dispose(&enc);
	return rc;
}

static int write_header(int ver, unsigned flags, size_t body_len, int footer, aimark_buf *out, size_t at)
{
	RETURN_IF(body_len > MAX_SYNCSAFE, AIMARK_ELIMIT, "ID3v2: tag of %zu bytes exceeds the 256 MiB limit", body_len);
	unsigned char h[10] = { 'I', 'D', '3', (unsigned char)ver, 0, (unsigned char)flags };
	put_syncsafe32(h + 6, (uint32_t)body_len);
	memcpy(out->ptr + at, h, 10);
	if (footer) {
		memcpy(h, "3DI", 3);
		RETURN_IF_ERR(aimark__buf_append(out, h, 10));
	}
	return 0;
}

int aimark__id3_set_aigc(const unsigned char *tag, size_t len, const char *what, const char *json, size_t json_len,
			 aimark_buf *out)
{
	static const unsigned char zeros[10];
	size_t start = out->size;
	if (tag == NULL) {
		RETURN_IF_ERR(aimark__buf_append(out, zeros, 10));
		RETURN_IF_ERR(build_frame(4, 0, json, json_len, out));
		return write_header(4, 0, out->size - start - 10, 0, out, start);
	}
	id3_tag t;
	RETURN_IF_ERR(tag_open(&t, tag, len, what, 0));
	aimark_buf frames = AIMARK_BUF_INIT, tmp = AIMARK_BUF_INIT, scratch = AIMARK_BUF_INIT, enc = AIMARK_BUF_INIT;
	int rc = 0, placed = 0, ours_last = 0;
	int footer = t.ver == 4 && (t.flags & 0x10);
	int tag_unsync = (t.flags & 0x80) != 0;
	size_t old_body = syncsafe32(tag + 6);
	size_t pos = t.frames_off;
	id3_frame f;
	while (rc >= 0 && next_frame(&t, &pos, &f)) {
		int aigc = 0;
		if (is_txxx(&t, &f)) {
			const unsigned char *d;
			size_t n;
			const char *why;
			/* a frame that cannot be read (compressed, encrypted) is kept as it is */
			rc = frame_content(&t, &f, &tmp, &d, &n, &why);
			if (rc == 0)
				aigc = (rc = txxx_aigc(d, n, &scratch, NULL)) == 1;
			if (rc < 0)
				break;
			rc = 0;
		}
		if (!aigc) {
			rc = aimark__buf_append(&frames, t.body + f.off, f.total);
			ours_last = 0;
		} else if (!placed) {
			rc = build_frame(t.ver, t.ver == 4 && tag_unsync, json, json_len, &frames);
			placed = ours_last = 1;
		}
	}
	if (rc >= 0 && !placed) {
		rc = build_frame(t.ver, t.ver == 4 && tag_unsync, json, json_len, &frames);
		ours_last = 1;
	}
	if (rc < 0)
		goto done;
	/*
	 * What follows the last frame: padding (all zero) is resized, anything
	 * else kept, except junk that cannot start a frame right after our v2.4
	 * frame: it would make readers try the frame's size as a plain integer
	 * (see next_frame) and take junk into the label, so it becomes padding.
	 */
	int padding = 1;
	int drop_junk = t.ver == 4 && ours_last && !plausible_next(&t, pos);
	for (size_t i = pos; i < t.body_len && !drop_junk; i++)
		if (t.body[i] != 0) {
			padding = 0;
			break;
		}
	if (!padding && (rc = aimark__buf_append(&frames, t.body + pos, t.body_len - pos)) < 0)
		goto done;
	const aimark_buf *body = &frames;
	if (t.ver <= 3 && tag_unsync) {
		if ((rc = unsync_encode(frames.ptr, frames.size, &enc)) < 0)
			goto done;
		body = &enc;
	}
	size_t pad = 0;
	if (padding && !footer && body->size < old_body)
		pad = old_body - body->size;
	unsigned flags = t.flags & (t.ver == 2 ? 0x80u : t.ver == 3 ? 0xA0u : 0xB0u);
	if ((rc = aimark__buf_append(out, zeros, 10)) < 0 || (rc = aimark__buf_append(out, body->ptr, body->size)) < 0 ||
	    (rc = aimark__buf_reserve(out, pad)) < 0)
		goto done;
	memset(out->ptr + out->size, 0, pad);
	out->size += pad;
	out->ptr[out->size] = '\0';
	rc = write_header(t.ver, flags, out->size - start - 10, footer, out, start);
done:
	if (rc < 0)
		out->size = start;
	aimark_buf_dispose(&frames);
	aimark_buf_dispose(&tmp);
	aimark_buf_dispose(&scratch);
	aimark_buf_dispose(&enc);
	aimark_buf_dispose(&t.storage);
	return rc < 0 ? rc : 0;
}

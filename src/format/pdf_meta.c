/*
 * PDF: the label is the /AIGC entry of the document information dictionary
 * (trailer /Info), a text string holding the bare JSON.
 *
 * Reading follows startxref through every cross-reference section (classic
 * tables, PDF 1.5 xref streams, hybrid /XRefStm) and their /Prev chain,
 * resolving objects directly or inside object streams. The newest /Info
 * wins; when it has no /AIGC, earlier revisions' /Info dictionaries are
 * searched (a warning). A file whose cross-reference data cannot be read is
 * scanned for an "/AIGC (...)" entry instead (a warning) and cannot be
 * written.
 *
 * Writing appends an incremental update: a new Info object (the entries of
 * the current one copied byte for byte, /AIGC set), a cross-reference
 * section of the same kind as the newest one (a classic table, or an
 * uncompressed xref stream) listing only the new objects, and a trailer with
 * /Size, /Root, /Info, /Prev and /ID. The bytes that followed the file's
 * last %%EOF are repeated after the new %%EOF.
 *
 * Essence: the whole file except the label updates. A label update is an
 * update section whose cross-reference lists nothing but a new Info object
 * (plus the xref stream object itself, and object 0 free) numbered at or
 * above the previous /Size, whose trailer keeps /Root and points /Info at
 * that object, which has /AIGC, and that has no other trailer keys. It spans
 * from just after the previous revision's %%EOF to just after its own
 * %%EOF. Relabelling therefore keeps the essence, while any other update
 * (an edited page) or byte change is part of it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/findings_internal.h"
#include "core/internal.h"
#include "core/io_internal.h"
#include "format/format.h"

#define PDF_MAX_FILE (UINT64_C(256) << 20)
#define PDF_MAX_SECTIONS 1024u
#define PDF_MAX_DEPTH 64          /* nesting of arrays and dictionaries */
#define PDF_MAX_DICT 4096u        /* entries in one dictionary */
#define PDF_MAX_RESOLVE 8         /* nested object resolution (objstm, /Length) */
#define PDF_MAX_STREAM (64u << 20) /* decoded xref or object stream */
#define PDF_MAX_DECODED (UINT64_C(256) << 20) /* all decoded streams of one file */
#define PDF_MAX_OBJNUM 8388607u
#define PDF_MAX_TAIL 1024u
#define CARRIER_PDF "pdf-info"

typedef struct span {
	const unsigned char *p;
	size_t n;
} span;

typedef struct dict_entry {
	span key; /* without the slash, #xx escapes kept */
	span val;
} dict_entry;

typedef struct dict {
	dict_entry *e;
	size_t n, cap;
} dict;

typedef struct xsub {
	uint32_t first, count;
	size_t pos;      /* classic: first entry's offset in the file; stream: first row */
	unsigned stride; /* classic: bytes per entry */
} xsub;

typedef struct section {
	size_t offset;
	int is_stream;
	xsub *subs;
	size_t n_subs;
	aimark_buf xdata;    /* stream: decoded rows */
	unsigned w[3];
	span trailer;        /* trailer dictionary (the stream dictionary for xref streams) */
	dict tdict;
	uint64_t size;
	uint64_t prev;
	int has_prev;
	uint32_t self_obj;   /* stream: its own object number */
	struct section *hybrid; /* classic: the /XRefStm stream */
} section;

typedef struct objstm {
	uint32_t num;
	aimark_buf data;
	size_t first;
	uint32_t n;
} objstm;

typedef struct pdf_doc {
	const unsigned char *d;
	size_t n;
	aimark_buf storage;
	section *secs;       /* newest first */
	size_t n_secs;
	objstm *stms;
	size_t n_stms;
	int depth;
	size_t last_eof;     /* end of the last "%%EOF" in the file, 0 when none */
	uint64_t decoded;    /* bytes of decoded streams held */
} pdf_doc;

typedef struct xref_entry {
	int type;            /* 0 free, 1 at offset, 2 in object stream */
	uint64_t a;          /* offset, or object stream number */
	uint32_t b;          /* index in the object stream */
} xref_entry;

/* ---- lexical helpers ---- */

static int is_ws(unsigned char c) { return c == 0 || c == 9 || c == 10 || c == 12 || c == 13 || c == 32; }

static int is_delim(unsigned char c) { return c && strchr("()<>[]{}/%", c) != NULL; }

static int is_regular(unsigned char c) { return !is_ws(c) && !is_delim(c); }

static size_t skip_ws(const unsigned char *p, size_t n, size_t i)
{
	while (i < n) {
		if (is_ws(p[i]))
			i++;
		else if (p[i] == '%') {
			while (i < n && p[i] != '\n' && p[i] != '\r')
				i++;
		} else
			break;
	}
	return i;
}

/* Parses an unsigned integer token at i (no sign, no fraction). */
static int parse_uint(const unsigned char *p, size_t n, size_t *i, uint64_t *out)
{
	size_t k = *i;
	uint64_t v = 0;
	if (k < n && p[k] == '+')
		k++;
	if (k >= n || p[k] < '0' || p[k] > '9')
		return -1;
	while (k < n && p[k] >= '0' && p[k] <= '9') {
		if (v > (UINT64_C(1) << 56))
			return -1;
		v = v * 10 + (uint64_t)(p[k] - '0');
		k++;
	}
	if (k < n && is_regular(p[k]))
		return -1; /* 12.5, 12abc */
	*i = k;
	*out = v;
	return 0;
}

static int keyword_at(const unsigned char *p, size_t n, size_t i, const char *kw)
{
	size_t l = strlen(kw);
	return i + l <= n && memcmp(p + i, kw, l) == 0 && (i + l == n || !is_regular(p[i + l]));
}

static int skip_value(const unsigned char *p, size_t n, size_t *pi, int depth);

static int skip_dict_body(const unsigned char *p, size_t n, size_t *pi, int depth, dict *out)
{
	size_t i = *pi + 2;
	for (;;) {
		i = skip_ws(p, n, i);
		if (i + 1 < n && p[i] == '>' && p[i + 1] == '>') {
			*pi = i + 2;
			return 0;
		}
		if (i >= n || p[i] != '/')
			return -1;
		size_t k = i + 1;
		while (k < n && is_regular(p[k]))
			k++;
		span key = { p + i + 1, k - i - 1 };
		size_t v = skip_ws(p, n, k);
		size_t ve = v;
		if (skip_value(p, n, &ve, depth + 1) < 0)
			return -1;
		if (out) {
			if (out->n == PDF_MAX_DICT)
				return -1;
			if (out->n == out->cap) {
				size_t cap = out->cap ? out->cap * 2 : 16;
				dict_entry *e = aimark__realloc(out->e, cap * sizeof *e);
				if (e == NULL)
					return -2;
				out->e = e;
				out->cap = cap;
			}
			out->e[out->n++] = (dict_entry){ key, { p + v, ve - v } };
		}
		i = ve;
	}
}

/* Skips one object (a reference "n g R" counts as one). -1 when malformed. */
static int skip_value(const unsigned char *p, size_t n, size_t *pi, int depth)
{
	size_t i = skip_ws(p, n, *pi);
	if (i >= n || depth > PDF_MAX_DEPTH)
		return -1;
	unsigned char c = p[i];
	if (c == '<' && i + 1 < n && p[i + 1] == '<') {
		*pi = i;
		return skip_dict_body(p, n, pi, depth, NULL);
	}
	if (c == '<') {
		for (i++; i < n && p[i] != '>'; i++)
			if (!is_ws(p[i]) && !((p[i] >= '0' && p[i] <= '9') || ((p[i] | 0x20) >= 'a' && (p[i] | 0x20) <= 'f')))
				return -1;
		if (i >= n)
			return -1;
		*pi = i + 1;
		return 0;
	}
	if (c == '(') {
		int level = 0;
		for (; i < n; i++) {
			if (p[i] == '\\')
				i++;
			else if (p[i] == '(')
				level++;
			else if (p[i] == ')' && --level == 0) {
				*pi = i + 1;
				return 0;
			}
		}
		return -1;
	}
	if (c == '[') {
		i++;
		for (;;) {
			i = skip_ws(p, n, i);
			if (i < n && p[i] == ']') {
				*pi = i + 1;
				return 0;
			}
			if (skip_value(p, n, &i, depth + 1) < 0)
				return -1;
		}
	}
	if (c == '/') {
		for (i++; i < n && is_regular(p[i]);)
			i++;
		*pi = i;
		return 0;
	}
	if (!is_regular(c))
		return -1;
	size_t start = i;
	uint64_t a, b;
	if (parse_uint(p, n, &i, &a) == 0) {
		/* "n g R" */
		size_t k = skip_ws(p, n, i);
		if (k > i && parse_uint(p, n, &k, &b) == 0) {
			size_t r = skip_ws(p, n, k);
			if (r > k && keyword_at(p, n, r, "R")) {
				*pi = r + 1;
				return 0;
			}
		}
		*pi = i;
		return 0;
	}
	for (i = start; i < n && is_regular(p[i]);)
		i++;
	*pi = i;
	return 0;
}

/* Parses the dictionary at p[*pi] ("<<"); fills `out`, leaves *pi after ">>". */
static int parse_dict(const unsigned char *p, size_t n, size_t *pi, dict *out, const char *what, size_t at)
{
	size_t i = skip_ws(p, n, *pi);
	out->n = 0;
	RETURN_IF(i + 1 >= n || p[i] != '<' || p[i + 1] != '<', AIMARK_EFORMAT, "PDF: %s at offset %zu is not a dictionary",
		  what, at);
	int rc = skip_dict_body(p, n, &i, 0, out);
	RETURN_IF(rc == -2, AIMARK_ENOMEM, "out of memory");
	RETURN_IF(rc < 0, AIMARK_EFORMAT, "PDF: malformed %s dictionary at offset %zu", what, at);
	*pi = i;
	return 0;
}

static void dict_free(dict *d)
{
	aimark__free(d->e);
	memset(d, 0, sizeof *d);
}

/* Compares a name (with #xx escapes) to `want`. */
static int name_eq(span key, const char *want)
{
	size_t w = 0, wl = strlen(want);
	for (size_t i = 0; i < key.n; i++) {
		unsigned char c = key.p[i];
		if (c == '#' && i + 2 < key.n) {
			unsigned v = 0;
			int ok = 1;
			for (int k = 1; k <= 2; k++) {
				unsigned char h = key.p[i + k];
				if (h >= '0' && h <= '9')
					v = v * 16 + (h - '0');
				else if ((h | 0x20) >= 'a' && (h | 0x20) <= 'f')
					v = v * 16 + ((h | 0x20) - 'a' + 10);
				else
					ok = 0;
			}
			if (ok) {
				c = (unsigned char)v;
				i += 2;
			}
		}
		if (w >= wl || (unsigned char)want[w] != c)
			return 0;
		w++;
	}
	return w == wl;
}

static const span *dict_get(const dict *d, const char *key)
{
	for (size_t i = 0; i < d->n; i++)
		if (name_eq(d->e[i].key, key))
			return &d->e[i].val;
	return NULL;
}

static int span_uint(const span *s, uint64_t *out)
{
	size_t i = 0;
	return s && parse_uint(s->p, s->n, &i, out) == 0 && i == s->n ? 0 : -1;
}

static int span_ref(const span *s, uint64_t *num, uint64_t *gen)
{
	size_t i = 0;
	if (s == NULL || parse_uint(s->p, s->n, &i, num) < 0)
		return -1;
	i = skip_ws(s->p, s->n, i);
	if (parse_uint(s->p, s->n, &i, gen) < 0)
		return -1;
	i = skip_ws(s->p, s->n, i);
	return keyword_at(s->p, s->n, i, "R") && i + 1 == s->n ? 0 : -1;
}

static const unsigned char *find_fwd(const unsigned char *p, size_t from, size_t to, const char *s)
{
	size_t l = strlen(s);
	for (size_t i = from; i + l <= to; i++)
		if (p[i] == (unsigned char)s[0] && memcmp(p + i, s, l) == 0)
			return p + i;
	return NULL;
}

static const unsigned char *find_back(const unsigned char *p, size_t from, size_t to, const char *s)
{
	size_t l = strlen(s);
	if (to < from + l)
		return NULL;
	for (size_t i = to - l + 1; i-- > from;)
		if (p[i] == (unsigned char)s[0] && memcmp(p + i, s, l) == 0)
			return p + i;
	return NULL;
}

/* ---- strings ---- */

static int hexval(unsigned char h)
{
	if (h >= '0' && h <= '9')
		return h - '0';
	h |= 0x20;
	return h >= 'a' && h <= 'f' ? h - 'a' + 10 : -1;
}

/* Decodes a literal or hex string object into raw bytes. */
static int decode_string(span v, aimark_buf *out)
{
	const unsigned char *p = v.p;
	size_t n = v.n;
	if (n >= 2 && p[0] == '<') {
		int hi = -1;
		for (size_t i = 1; i + 1 < n; i++) {
			int h = hexval(p[i]);
			if (h < 0)
				continue;
			if (hi < 0)
				hi = h;
			else {
				unsigned char b = (unsigned char)(hi * 16 + h);
				RETURN_IF_ERR(aimark__buf_append(out, &b, 1));
				hi = -1;
			}
		}
		if (hi >= 0) {
			unsigned char b = (unsigned char)(hi * 16);
			RETURN_IF_ERR(aimark__buf_append(out, &b, 1));
		}
		return 0;
	}
	RETURN_IF(n < 2 || p[0] != '(' || p[n - 1] != ')', AIMARK_EFORMAT, "PDF: /AIGC is not a string");
	for (size_t i = 1; i + 1 < n; i++) {
		unsigned char c = p[i];
		if (c == '\r') {
			c = '\n';
			if (i + 2 < n && p[i + 1] == '\n')
				i++;
		} else if (c == '\\' && i + 2 < n) {
			unsigned char e = p[++i];
			switch (e) {
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case '\r':
				if (i + 2 < n && p[i + 1] == '\n')
					i++;
				continue;
			case '\n':
				continue;
			default:
				if (e >= '0' && e <= '7') {
					unsigned oct = (unsigned)(e - '0');
					for (int k = 0; k < 2 && i + 2 < n && p[i + 1] >= '0' && p[i + 1] <= '7'; k++)
						oct = oct * 8 + (unsigned)(p[++i] - '0');
					c = (unsigned char)oct;
				} else
					c = e;
			}
		}
		RETURN_IF_ERR(aimark__buf_append(out, &c, 1));
	}
	return 0;
}

static int put_utf8(aimark_buf *out, uint32_t cp)
{
	unsigned char b[4];
	size_t n;
	if (cp < 0x80) {
		b[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (unsigned char)(0xC0 | (cp >> 6));
		b[1] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (unsigned char)(0xE0 | (cp >> 12));
		b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		b[2] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		b[0] = (unsigned char)(0xF0 | (cp >> 18));
		b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
		b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		b[3] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	return aimark__buf_append(out, b, n);
}

/* PDF text string bytes -> UTF-8: UTF-16BE with BOM, UTF-8 with BOM, else PDFDocEncoding (read as Latin-1). */
static int text_to_utf8(const aimark_buf *raw, aimark_buf *out)
{
	const unsigned char *p = raw->ptr;
	size_t n = raw->size;
	if (n >= 2 && p[0] == 0xFE && p[1] == 0xFF) {
		for (size_t i = 2; i + 1 < n; i += 2) {
			uint32_t u = ((uint32_t)p[i] << 8) | p[i + 1];
			if (u >= 0xD800 && u < 0xDC00 && i + 3 < n) {
				uint32_t l = ((uint32_t)p[i + 2] << 8) | p[i + 3];
				if (l >= 0xDC00 && l < 0xE000) {
					u = 0x10000 + ((u - 0xD800) << 10) + (l - 0xDC00);
					i += 2;
				} else
					u = 0xFFFD;
			} else if (u >= 0xD800 && u < 0xE000)
				u = 0xFFFD;
			RETURN_IF_ERR(put_utf8(out, u));
		}
		return 0;
	}
	if (n >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF)
		return aimark__buf_append(out, p + 3, n - 3);
	for (size_t i = 0; i < n; i++)
		RETURN_IF_ERR(put_utf8(out, p[i]));
	return 0;
}

/* ---- streams ---- */

static int png_unpredict(aimark_buf *b, unsigned columns, unsigned bpp)
{
	size_t row = (size_t)columns * bpp, in = 0, outp = 0;
	RETURN_IF(row == 0 || row > (1u << 20), AIMARK_EFORMAT, "PDF: bad predictor /Columns");
	unsigned char *prev = aimark__calloc(row, 1);
	RETURN_ENOMEM_IF_NULL(prev);
	unsigned char *p = b->ptr;
	while (in + 1 + row <= b->size) {
		unsigned char f = p[in++];
		unsigned char *cur = p + outp;
		memmove(cur, p + in, row);
		for (size_t k = 0; k < row; k++) {
			unsigned a = k >= bpp ? cur[k - bpp] : 0, up = prev[k], c = k >= bpp ? prev[k - bpp] : 0;
			switch (f) {
			case 0: break;
			case 1: cur[k] = (unsigned char)(cur[k] + a); break;
			case 2: cur[k] = (unsigned char)(cur[k] + up); break;
			case 3: cur[k] = (unsigned char)(cur[k] + ((a + up) >> 1)); break;
			case 4: {
				int pa = abs((int)up - (int)c), pb = abs((int)a - (int)c), pc = abs((int)a + (int)up - 2 * (int)c);
				cur[k] = (unsigned char)(cur[k] + (pa <= pb && pa <= pc ? a : pb <= pc ? up : c));
				break;
			}
			default:
				aimark__free(prev);
				return aimark__error_set(AIMARK_EFORMAT, "PDF: unknown PNG predictor %u in a stream", f);
			}
		}
		memcpy(prev, cur, row);
		in += row;
		outp += row;
	}
	aimark__free(prev);
	b->size = outp;
	return 0;
}

static int resolve_uint(pdf_doc *doc, const span *v, size_t from, uint64_t *out);

/* Decodes the stream whose dictionary `sd` ends at `after` (just past ">>"). */
static int read_stream(pdf_doc *doc, const dict *sd, size_t after, size_t from, aimark_buf *out)
{
	const unsigned char *p = doc->d;
	size_t n = doc->n, i = skip_ws(p, n, after);
	RETURN_IF(!keyword_at(p, n, i, "stream"), AIMARK_EFORMAT, "PDF: no stream data at offset %zu", i);
	i += 6;
	if (i < n && p[i] == '\r')
		i++;
	if (i < n && p[i] == '\n')
		i++;
	uint64_t len = 0;
	const span *lv = dict_get(sd, "Length");
	int ok = lv && resolve_uint(doc, lv, from, &len) == 0 && len <= n - i;
	if (ok) {
		size_t e = skip_ws(p, n, i + (size_t)len);
		ok = keyword_at(p, n, e, "endstream");
	}
	if (!ok) {
		/* lenient: a wrong /Length, find endstream */
		const unsigned char *e = find_fwd(p, i, n, "endstream");
		RETURN_IF(e == NULL, AIMARK_EFORMAT, "PDF: stream at offset %zu has no endstream", i);
		len = (uint64_t)(e - p) - i;
		if (len > 0 && p[i + len - 1] == '\n')
			len--;
		if (len > 0 && p[i + len - 1] == '\r')
			len--;
	}
	const span *f = dict_get(sd, "Filter");
	span fname = { NULL, 0 };
	if (f) {
		size_t k = 0;
		if (f->n && f->p[0] == '[') {
			k = skip_ws(f->p, f->n, 1);
			size_t e = k;
			if (skip_value(f->p, f->n, &e, 0) < 0)
				e = k;
			fname = (span){ f->p + k, e - k };
			e = skip_ws(f->p, f->n, e);
			RETURN_IF(e < f->n && f->p[e] != ']', AIMARK_EUNSUPPORTED, "PDF: chained stream filters are not supported");
		} else
			fname = *f;
	}
	if (fname.n == 0) {
		RETURN_IF(doc->decoded + len > PDF_MAX_DECODED, AIMARK_ELIMIT, "PDF: decoded streams exceed %llu bytes",
			  (unsigned long long)PDF_MAX_DECODED);
		doc->decoded += len;
		return aimark__buf_append(out, p + i, (size_t)len);
	}
	RETURN_IF(!(fname.n >= 1 && fname.p[0] == '/' && name_eq((span){ fname.p + 1, fname.n - 1 }, "FlateDecode")),
		  AIMARK_EUNSUPPORTED, "PDF: stream filter %.*s is not supported", (int)(fname.n > 40 ? 40 : fname.n),
		  (const char *)fname.p);
	z_stream zs;
	memset(&zs, 0, sizeof zs);
	RETURN_IF(inflateInit(&zs) != Z_OK, AIMARK_ENOMEM, "zlib: cannot start inflate");
	RETURN_IF(len > UINT32_MAX, AIMARK_ELIMIT, "PDF: stream too large");
	zs.next_in = (Bytef *)(uintptr_t)(p + i);
	zs.avail_in = (uInt)len;
	int zr = Z_OK, rc = 0;
	while (zr == Z_OK) {
		if (out->size >= PDF_MAX_STREAM || doc->decoded + out->size >= PDF_MAX_DECODED) {
			rc = aimark__error_set(AIMARK_ELIMIT, "PDF: decoded streams exceed %u bytes (one) or %llu (all)",
					       PDF_MAX_STREAM, (unsigned long long)PDF_MAX_DECODED);
			break;
		}
		rc = aimark__buf_reserve(out, 64 * 1024);
		if (rc < 0)
			break;
		zs.next_out = out->ptr + out->size;
		zs.avail_out = 64 * 1024;
		zr = inflate(&zs, Z_NO_FLUSH);
		out->size += 64 * 1024 - zs.avail_out;
		if (zr == Z_BUF_ERROR && zs.avail_in == 0)
			zr = Z_STREAM_END; /* truncated stream: keep what decoded */
	}
	inflateEnd(&zs);
	doc->decoded += out->size;
	if (rc < 0)
		return rc;
	RETURN_IF(zr != Z_STREAM_END, AIMARK_EFORMAT, "PDF: damaged Flate stream at offset %zu", i);
	out->ptr[out->size] = 0;
	const span *dp = dict_get(sd, "DecodeParms");
	if (dp && dp->n >= 2 && dp->p[0] == '<') {
		dict parms = { 0 };
		size_t k = 0;
		int prc = parse_dict(dp->p, dp->n, &k, &parms, "DecodeParms", i);
		uint64_t pred = 1, cols = 1, colors = 1, bpc = 8;
		if (prc == 0) {
			span_uint(dict_get(&parms, "Predictor"), &pred);
			span_uint(dict_get(&parms, "Columns"), &cols);
			span_uint(dict_get(&parms, "Colors"), &colors);
			span_uint(dict_get(&parms, "BitsPerComponent"), &bpc);
		}
		dict_free(&parms);
		RETURN_IF_ERR(prc);
		if (pred >= 10) {
			RETURN_IF(cols == 0 || cols > 65536 || colors == 0 || colors > 32 || bpc == 0 || bpc > 16,
				  AIMARK_EFORMAT, "PDF: bad predictor parameters");
			uint64_t bits = cols * colors * bpc;
			unsigned bpp = (unsigned)((colors * bpc + 7) / 8);
			RETURN_IF_ERR(png_unpredict(out, (unsigned)((bits + 7) / 8 / bpp), bpp));
		} else
			RETURN_IF(pred != 1, AIMARK_EUNSUPPORTED, "PDF: TIFF predictor %llu is not supported",
				  (unsigned long long)pred);
	}
	return 0;
}

/* ---- cross-reference sections ---- */

static int lookup(pdf_doc *doc, uint32_t num, size_t from, xref_entry *out);

static int sec_lookup(const pdf_doc *doc, const section *s, uint32_t num, xref_entry *out)
{
	for (size_t k = 0; k < s->n_subs; k++) {
		const xsub *x = &s->subs[k];
		if (num < x->first || num - x->first >= x->count)
			continue;
		uint32_t idx = num - x->first;
		if (!s->is_stream) {
			size_t at = x->pos + (size_t)idx * x->stride, i = at;
			uint64_t off, gen;
			const unsigned char *p = doc->d;
			if (parse_uint(p, doc->n, &i, &off) < 0 || (i = skip_ws(p, doc->n, i), parse_uint(p, doc->n, &i, &gen)) < 0)
				return aimark__error_set(AIMARK_EFORMAT, "PDF: malformed cross-reference entry at offset %zu", at);
			i = skip_ws(p, doc->n, i);
			RETURN_IF(i >= doc->n || (p[i] != 'n' && p[i] != 'f'), AIMARK_EFORMAT,
				  "PDF: malformed cross-reference entry at offset %zu", at);
			*out = (xref_entry){ p[i] == 'n' ? 1 : 0, off, 0 };
			return 1;
		}
		unsigned rl = s->w[0] + s->w[1] + s->w[2];
		const unsigned char *r = s->xdata.ptr + ((size_t)x->pos + idx) * rl;
		uint64_t f[3] = { s->w[0] ? 0 : 1, 0, 0 };
		for (int j = 0; j < 3; j++) {
			if (s->w[j] == 0)
				continue;
			f[j] = 0;
			for (unsigned b = 0; b < s->w[j]; b++)
				f[j] = (f[j] << 8) | *r++;
		}
		if (f[0] == 1)
			*out = (xref_entry){ 1, f[1], 0 };
		else if (f[0] == 2)
			*out = (xref_entry){ 2, f[1], (uint32_t)f[2] };
		else
			*out = (xref_entry){ 0, 0, 0 };
		return 1;
	}
	if (s->hybrid)
		return sec_lookup(doc, s->hybrid, num, out);
	return 0;
}

static int lookup(pdf_doc *doc, uint32_t num, size_t from, xref_entry *out)
{
	for (size_t i = from; i < doc->n_secs; i++) {
		int r = sec_lookup(doc, &doc->secs[i], num, out);
		if (r != 0)
			return r < 0 ? r : 0;
	}
	*out = (xref_entry){ 0, 0, 0 };
	return 0;
}

/* Parses "num gen obj" at `at`; leaves *value at the object's value. */
static int obj_header(const pdf_doc *doc, size_t at, uint32_t *num, size_t *value)
{
	size_t i = skip_ws(doc->d, doc->n, at);
	uint64_t a, g;
	RETURN_IF(parse_uint(doc->d, doc->n, &i, &a) < 0, AIMARK_EFORMAT, "PDF: no object at offset %zu", at);
	i = skip_ws(doc->d, doc->n, i);
	RETURN_IF(parse_uint(doc->d, doc->n, &i, &g) < 0, AIMARK_EFORMAT, "PDF: no object at offset %zu", at);
	i = skip_ws(doc->d, doc->n, i);
	RETURN_IF(!keyword_at(doc->d, doc->n, i, "obj") || a > PDF_MAX_OBJNUM, AIMARK_EFORMAT,
		  "PDF: no object at offset %zu", at);
	*num = (uint32_t)a;
	*value = i + 3;
	return 0;
}

static int load_objstm(pdf_doc *doc, uint32_t stm, size_t from, objstm **out);

/* The value of object `num` as seen from section `from`: a span in the file or an object stream. */
static int get_object(pdf_doc *doc, uint32_t num, size_t from, span *val, size_t *where)
{
	xref_entry e;
	RETURN_IF(doc->depth > PDF_MAX_RESOLVE, AIMARK_EFORMAT, "PDF: object references nest too deeply");
	RETURN_IF_ERR(lookup(doc, num, from, &e));
	RETURN_IF(e.type == 0, AIMARK_ENOTFOUND, "PDF: object %u is not in the cross-reference data", num);
	if (e.type == 1) {
		uint32_t got;
		size_t v;
		RETURN_IF(e.a >= doc->n, AIMARK_EFORMAT, "PDF: object %u offset %llu passes the end of the file", num,
			  (unsigned long long)e.a);
		RETURN_IF_ERR(obj_header(doc, (size_t)e.a, &got, &v));
		RETURN_IF(got != num, AIMARK_EFORMAT, "PDF: object %u expected at offset %llu, found object %u", num,
			  (unsigned long long)e.a, got);
		v = skip_ws(doc->d, doc->n, v);
		size_t end = v;
		RETURN_IF(skip_value(doc->d, doc->n, &end, 0) < 0, AIMARK_EFORMAT, "PDF: malformed object %u at offset %zu",
			  num, v);
		*val = (span){ doc->d + v, end - v };
		*where = (size_t)e.a;
		return 0;
	}
	RETURN_IF(e.a > PDF_MAX_OBJNUM, AIMARK_EFORMAT, "PDF: bad object stream number for object %u", num);
	objstm *s = NULL;
	doc->depth++;
	int rc = load_objstm(doc, (uint32_t)e.a, from, &s);
	doc->depth--;
	RETURN_IF_ERR(rc);
	const unsigned char *p = s->data.ptr;
	size_t n = s->data.size, i = 0;
	for (uint32_t k = 0; k < s->n; k++) {
		uint64_t onum, ooff;
		i = skip_ws(p, n, i);
		RETURN_IF(parse_uint(p, n, &i, &onum) < 0, AIMARK_EFORMAT, "PDF: malformed object stream %u", s->num);
		i = skip_ws(p, n, i);
		RETURN_IF(parse_uint(p, n, &i, &ooff) < 0, AIMARK_EFORMAT, "PDF: malformed object stream %u", s->num);
		if (k != e.b)
			continue;
		RETURN_IF(onum != num || ooff > n - s->first, AIMARK_EFORMAT,
			  "PDF: object stream %u does not hold object %u at index %u", s->num, num, e.b);
		size_t v = skip_ws(p, n, s->first + (size_t)ooff), end = v;
		RETURN_IF(skip_value(p, n, &end, 0) < 0, AIMARK_EFORMAT, "PDF: malformed object %u in object stream %u", num,
			  s->num);
		*val = (span){ p + v, end - v };
		*where = (size_t)doc->secs[from].offset; /* no file offset: report its section */
		return 0;
	}
	return aimark__error_set(AIMARK_EFORMAT, "PDF: object stream %u has no index %u", s->num, e.b);
}

static int resolve_uint(pdf_doc *doc, const span *v, size_t from, uint64_t *out)
{
	uint64_t num, gen;
	if (span_uint(v, out) == 0)
		return 0;
	if (span_ref(v, &num, &gen) < 0 || num > PDF_MAX_OBJNUM)
		return -1;
	span r;
	size_t where;
	doc->depth++;
	int rc = get_object(doc, (uint32_t)num, from, &r, &where);
	doc->depth--;
	return rc < 0 ? -1 : span_uint(&r, out);
}

static int load_objstm(pdf_doc *doc, uint32_t stm, size_t from, objstm **out)
{
	for (size_t i = 0; i < doc->n_stms; i++)
		if (doc->stms[i].num == stm) {
			*out = &doc->stms[i];
			return 0;
		}
	xref_entry e;
	RETURN_IF_ERR(lookup(doc, stm, from, &e));
	RETURN_IF(e.type != 1 || e.a >= doc->n, AIMARK_EFORMAT, "PDF: object stream %u cannot be found", stm);
	uint32_t got;
	size_t v;
	RETURN_IF_ERR(obj_header(doc, (size_t)e.a, &got, &v));
	RETURN_IF(got != stm, AIMARK_EFORMAT, "PDF: object stream %u expected at offset %llu", stm, (unsigned long long)e.a);
	dict sd = { 0 };
	int rc = parse_dict(doc->d, doc->n, &v, &sd, "object stream", (size_t)e.a);
	uint64_t nobj = 0, first = 0;
	if (rc == 0 && (span_uint(dict_get(&sd, "N"), &nobj) < 0 || span_uint(dict_get(&sd, "First"), &first) < 0))
		rc = aimark__error_set(AIMARK_EFORMAT, "PDF: object stream %u lacks /N or /First", stm);
	objstm *arr = NULL;
	if (rc == 0) {
		arr = aimark__realloc(doc->stms, (doc->n_stms + 1) * sizeof *arr);
		if (arr == NULL)
			rc = aimark__error_set(AIMARK_ENOMEM, "out of memory");
	}
	if (rc == 0) {
		doc->stms = arr;
		objstm *s = &arr[doc->n_stms];
		memset(s, 0, sizeof *s);
		rc = read_stream(doc, &sd, v, from, &s->data);
		if (rc == 0 && (first > s->data.size || nobj > s->data.size))
			rc = aimark__error_set(AIMARK_EFORMAT, "PDF: object stream %u has bad /N or /First", stm);
		if (rc < 0)
			aimark_buf_dispose(&s->data);
		else {
			s->num = stm;
			s->first = (size_t)first;
			s->n = (uint32_t)nobj;
			*out = s;
			doc->n_stms++;
		}
	}
	dict_free(&sd);
	return rc;
}

static int add_sub(section *s, uint64_t first, uint64_t count, size_t pos, unsigned stride)
{
	RETURN_IF(first > PDF_MAX_OBJNUM || count > PDF_MAX_OBJNUM + 1 - first, AIMARK_EFORMAT,
		  "PDF: cross-reference subsection %llu+%llu is out of range", (unsigned long long)first,
		  (unsigned long long)count);
	RETURN_IF(s->n_subs >= 65536, AIMARK_EFORMAT, "PDF: too many cross-reference subsections");
	xsub *x = aimark__realloc(s->subs, (s->n_subs + 1) * sizeof *x);
	RETURN_ENOMEM_IF_NULL(x);
	s->subs = x;
	x[s->n_subs++] = (xsub){ (uint32_t)first, (uint32_t)count, pos, stride };
	return 0;
}

static int parse_classic(pdf_doc *doc, section *s, size_t at)
{
	const unsigned char *p = doc->d;
	size_t n = doc->n, i = at + 4;
	for (;;) {
		i = skip_ws(p, n, i);
		if (keyword_at(p, n, i, "trailer"))
			break;
		uint64_t first, count;
		RETURN_IF(parse_uint(p, n, &i, &first) < 0, AIMARK_EFORMAT,
			  "PDF: malformed cross-reference table at offset %zu", i);
		i = skip_ws(p, n, i);
		RETURN_IF(parse_uint(p, n, &i, &count) < 0, AIMARK_EFORMAT,
			  "PDF: malformed cross-reference subsection header at offset %zu", i);
		while (i < n && (p[i] == ' ' || p[i] == '\t'))
			i++;
		if (i < n && p[i] == '\r')
			i++;
		if (i < n && p[i] == '\n')
			i++;
		/* entries are 20 bytes; some writers use 19 or 21: measure the first */
		unsigned stride = 20;
		if (count > 0) {
			RETURN_IF(i + 18 > n, AIMARK_EFORMAT, "PDF: cross-reference table at offset %zu is truncated", i);
			size_t k = i + 18;
			while (k < n && k < i + 21 && is_ws(p[k]))
				k++;
			stride = (unsigned)(k - i);
			RETURN_IF(stride < 19 || count > (n - i) / stride, AIMARK_EFORMAT,
				  "PDF: cross-reference subsection at offset %zu (%llu entries) passes the end of the file", i,
				  (unsigned long long)count);
		}
		RETURN_IF_ERR(add_sub(s, first, count, i, stride));
		i += (size_t)count * stride;
	}
	i += 7;
	s->trailer.p = p + skip_ws(p, n, i);
	size_t t = i;
	RETURN_IF_ERR(parse_dict(p, n, &t, &s->tdict, "trailer", i));
	s->trailer.n = (size_t)(p + t - s->trailer.p);
	return 0;
}

static int parse_xref_stream(pdf_doc *doc, section *s, size_t at, size_t self_index)
{
	uint32_t num;
	size_t v;
	RETURN_IF_ERR(obj_header(doc, at, &num, &v));
	s->is_stream = 1;
	s->self_obj = num;
	v = skip_ws(doc->d, doc->n, v);
	s->trailer.p = doc->d + v;
	size_t after = v;
	RETURN_IF_ERR(parse_dict(doc->d, doc->n, &after, &s->tdict, "xref stream", at));
	s->trailer.n = after - v;
	const span *type = dict_get(&s->tdict, "Type");
	RETURN_IF(type == NULL || type->n < 1 || !name_eq((span){ type->p + 1, type->n - 1 }, "XRef"), AIMARK_EFORMAT,
		  "PDF: startxref offset %zu points at neither a table nor an xref stream", at);
	const span *w = dict_get(&s->tdict, "W");
	RETURN_IF(w == NULL || w->n < 2 || w->p[0] != '[', AIMARK_EFORMAT, "PDF: xref stream at offset %zu has no /W", at);
	size_t i = 1;
	for (int k = 0; k < 3; k++) {
		uint64_t x;
		i = skip_ws(w->p, w->n, i);
		RETURN_IF(parse_uint(w->p, w->n, &i, &x) < 0 || x > 8, AIMARK_EFORMAT,
			  "PDF: xref stream at offset %zu has a bad /W", at);
		s->w[k] = (unsigned)x;
	}
	unsigned rl = s->w[0] + s->w[1] + s->w[2];
	RETURN_IF(rl == 0, AIMARK_EFORMAT, "PDF: xref stream at offset %zu has a zero /W", at);
	/* /Length of an xref stream must be direct; get_object would need this very section */
	(void)self_index;
	doc->depth++;
	int rc = read_stream(doc, &s->tdict, after, doc->n_secs, &s->xdata);
	doc->depth--;
	RETURN_IF_ERR(rc);
	uint64_t size = 0;
	RETURN_IF(span_uint(dict_get(&s->tdict, "Size"), &size) < 0, AIMARK_EFORMAT,
		  "PDF: xref stream at offset %zu has no /Size", at);
	size_t rows = s->xdata.size / rl, row = 0;
	const span *ix = dict_get(&s->tdict, "Index");
	if (ix == NULL) {
		RETURN_IF(size > rows, AIMARK_EFORMAT, "PDF: xref stream at offset %zu is shorter than its /Size", at);
		return add_sub(s, 0, size, 0, rl);
	}
	RETURN_IF(ix->n < 2 || ix->p[0] != '[', AIMARK_EFORMAT, "PDF: xref stream at offset %zu has a bad /Index", at);
	i = 1;
	for (;;) {
		uint64_t first, count;
		i = skip_ws(ix->p, ix->n, i);
		if (i < ix->n && ix->p[i] == ']')
			break;
		RETURN_IF(parse_uint(ix->p, ix->n, &i, &first) < 0, AIMARK_EFORMAT,
			  "PDF: xref stream at offset %zu has a bad /Index", at);
		i = skip_ws(ix->p, ix->n, i);
		RETURN_IF(parse_uint(ix->p, ix->n, &i, &count) < 0, AIMARK_EFORMAT,
			  "PDF: xref stream at offset %zu has a bad /Index", at);
		RETURN_IF(count > rows - row, AIMARK_EFORMAT, "PDF: xref stream at offset %zu is shorter than its /Index", at);
		RETURN_IF_ERR(add_sub(s, first, count, row, rl));
		row += (size_t)count;
	}
	return 0;
}

static void section_dispose(section *s)
{
	if (s == NULL)
		return;
	aimark__free(s->subs);
	aimark_buf_dispose(&s->xdata);
	dict_free(&s->tdict);
	if (s->hybrid) {
		section_dispose(s->hybrid);
		aimark__free(s->hybrid);
	}
	memset(s, 0, sizeof *s);
}

static int parse_section(pdf_doc *doc, section *s, size_t at)
{
	memset(s, 0, sizeof *s);
	s->offset = at;
	size_t i = skip_ws(doc->d, doc->n, at);
	if (keyword_at(doc->d, doc->n, i, "xref"))
		RETURN_IF_ERR(parse_classic(doc, s, i));
	else
		RETURN_IF_ERR(parse_xref_stream(doc, s, i, doc->n_secs));
	uint64_t v;
	if (span_uint(dict_get(&s->tdict, "Size"), &v) == 0)
		s->size = v;
	if (span_uint(dict_get(&s->tdict, "Prev"), &v) == 0) {
		s->prev = v;
		s->has_prev = 1;
	}
	if (!s->is_stream && span_uint(dict_get(&s->tdict, "XRefStm"), &v) == 0 && v < doc->n) {
		s->hybrid = aimark__calloc(1, sizeof *s->hybrid);
		RETURN_ENOMEM_IF_NULL(s->hybrid);
		int rc = parse_xref_stream(doc, s->hybrid, (size_t)v, doc->n_secs);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static void doc_dispose(pdf_doc *doc)
{
	for (size_t i = 0; i < doc->n_secs; i++)
		section_dispose(&doc->secs[i]);
	aimark__free(doc->secs);
	for (size_t i = 0; i < doc->n_stms; i++)
		aimark_buf_dispose(&doc->stms[i].data);
	aimark__free(doc->stms);
	aimark_buf_dispose(&doc->storage);
	memset(doc, 0, sizeof *doc);
}

/* Reads the startxref chain. Fails with EFORMAT when the cross-reference data is unusable. */
static int parse_chain(pdf_doc *doc)
{
	const unsigned char *p = doc->d;
	size_t n = doc->n;
	const unsigned char *sx = find_back(p, 0, n, "startxref");
	RETURN_IF(sx == NULL, AIMARK_EFORMAT, "PDF: no startxref");
	size_t i = skip_ws(p, n, (size_t)(sx - p) + 9);
	uint64_t off;
	RETURN_IF(parse_uint(p, n, &i, &off) < 0 || off >= n, AIMARK_EFORMAT,
		  "PDF: startxref at offset %zu gives no valid offset", (size_t)(sx - p));
	for (;;) {
		RETURN_IF(doc->n_secs >= PDF_MAX_SECTIONS, AIMARK_EFORMAT, "PDF: more than %u cross-reference sections",
			  PDF_MAX_SECTIONS);
		for (size_t k = 0; k < doc->n_secs; k++)
			RETURN_IF(doc->secs[k].offset == off, AIMARK_EFORMAT,
				  "PDF: the /Prev chain loops at offset %llu", (unsigned long long)off);
		section *arr = aimark__realloc(doc->secs, (doc->n_secs + 1) * sizeof *arr);
		RETURN_ENOMEM_IF_NULL(arr);
		doc->secs = arr;
		int rc = parse_section(doc, &arr[doc->n_secs], (size_t)off);
		doc->n_secs++; /* disposed with the document even when incomplete */
		RETURN_IF_ERR(rc);
		section *s = &arr[doc->n_secs - 1];
		if (!s->has_prev)
			break;
		RETURN_IF(s->prev >= n, AIMARK_EFORMAT, "PDF: /Prev %llu passes the end of the file", (unsigned long long)s->prev);
		off = s->prev;
	}
	return 0;
}

static int doc_open(pdf_doc *doc, aimark_source *src)
{
	memset(doc, 0, sizeof *doc);
	RETURN_IF_ERR(aimark__source_load(src, PDF_MAX_FILE, &doc->storage, &doc->d));
	doc->n = (size_t)aimark_source_size(src);
	RETURN_IF(find_fwd(doc->d, 0, doc->n < 1024 ? doc->n : 1024, "%PDF-") == NULL, AIMARK_EFORMAT,
		  "PDF: no %%PDF- header in the first 1024 bytes");
	const unsigned char *e = find_back(doc->d, 0, doc->n, "%%EOF");
	doc->last_eof = e ? (size_t)(e - doc->d) + 5 : 0;
	return 0;
}

/* ---- label updates and the essence ---- */

/* Every entry of `s` is object 0 free, or one of the `n` allowed in-use objects. */
static int only_objects(const pdf_doc *doc, const section *s, const uint32_t *allowed, size_t n)
{
	for (size_t k = 0; k < s->n_subs; k++)
		for (uint32_t j = 0; j < s->subs[k].count; j++) {
			uint32_t num = s->subs[k].first + j;
			xref_entry e;
			section one = *s;
			one.subs = &s->subs[k];
			one.n_subs = 1;
			one.hybrid = NULL;
			if (sec_lookup(doc, &one, num, &e) <= 0)
				return 0;
			if (e.type == 0) {
				if (num != 0)
					return 0;
				continue;
			}
			int ok = 0;
			for (size_t a = 0; a < n; a++)
				ok |= allowed[a] == num && e.type == 1;
			if (!ok)
				return 0;
		}
	return 1;
}

static int same_ref(const span *a, const span *b)
{
	uint64_t an, ag, bn, bg;
	return span_ref(a, &an, &ag) == 0 && span_ref(b, &bn, &bg) == 0 && an == bn && ag == bg;
}

/* When section i is a label update, sets its excluded byte range [*from, *to). */
static int is_label_update(pdf_doc *doc, size_t i, size_t *from, size_t *to)
{
	static const char *const classic_keys[] = { "Size", "Root", "Info", "Prev", "ID", NULL };
	static const char *const stream_keys[] = { "Size", "Root", "Info", "Prev", "ID", "Type", "W", "Index", "Length",
						   "Filter", "DecodeParms", NULL };
	section *s = &doc->secs[i];
	if (i + 1 >= doc->n_secs || s->hybrid)
		return 0;
	const section *prev = &doc->secs[i + 1];
	for (size_t k = 0; k < s->tdict.n; k++) {
		int known = 0;
		for (const char *const *kk = s->is_stream ? stream_keys : classic_keys; *kk; kk++)
			known |= name_eq(s->tdict.e[k].key, *kk);
		if (!known)
			return 0;
	}
	uint64_t info, gen;
	if (span_ref(dict_get(&s->tdict, "Info"), &info, &gen) < 0 || info < prev->size || info > PDF_MAX_OBJNUM)
		return 0;
	if (!same_ref(dict_get(&s->tdict, "Root"), dict_get(&prev->tdict, "Root")))
		return 0;
	uint32_t allowed[2] = { (uint32_t)info, s->self_obj };
	if (s->is_stream && s->self_obj < prev->size)
		return 0;
	if (!only_objects(doc, s, allowed, s->is_stream ? 2 : 1))
		return 0;
	xref_entry e;
	if (sec_lookup(doc, s, (uint32_t)info, &e) <= 0 || e.type != 1 || e.a <= prev->offset || e.a >= doc->n)
		return 0;
	span val;
	size_t where;
	if (get_object(doc, (uint32_t)info, i, &val, &where) < 0) {
		aimark_error_clear();
		return 0;
	}
	dict d = { 0 };
	size_t k = 0;
	int has = parse_dict(val.p, val.n, &k, &d, "Info", where) == 0 && dict_get(&d, "AIGC") != NULL;
	dict_free(&d);
	aimark_error_clear();
	if (!has || s->offset <= prev->offset)
		return 0;
	size_t first = (size_t)e.a < s->offset ? (size_t)e.a : s->offset;
	const unsigned char *pe = find_back(doc->d, prev->offset, first, "%%EOF");
	/* from the end of the trailer: copied trailer values may hold "%%EOF" in a comment */
	size_t tend = (size_t)(s->trailer.p - doc->d) + s->trailer.n;
	const unsigned char *qe = find_fwd(doc->d, tend, doc->n, "%%EOF");
	if (pe == NULL || qe == NULL)
		return 0;
	*from = (size_t)(pe - doc->d) + 5;
	*to = (size_t)(qe - doc->d) + 5;
	return 1;
}

typedef struct excl {
	size_t from, to;
} excl;

static int cmp_excl(const void *a, const void *b)
{
	const excl *x = a, *y = b;
	return x->from < y->from ? -1 : x->from > y->from;
}

static int add_essence(pdf_doc *doc, aimark__meta *meta)
{
	excl *ex = aimark__calloc(doc->n_secs + 1, sizeof *ex);
	RETURN_ENOMEM_IF_NULL(ex);
	size_t nx = 0;
	for (size_t i = 0; i < doc->n_secs; i++)
		if (is_label_update(doc, i, &ex[nx].from, &ex[nx].to))
			nx++;
	qsort(ex, nx, sizeof *ex, cmp_excl);
	size_t pos = 0;
	int rc = 0;
	for (size_t i = 0; i < nx && rc == 0; i++) {
		if (ex[i].from > pos)
			rc = aimark__meta_add_essence(meta, pos, ex[i].from - pos);
		if (ex[i].to > pos)
			pos = ex[i].to;
	}
	if (rc == 0 && pos < doc->n)
		rc = aimark__meta_add_essence(meta, pos, doc->n - pos);
	aimark__free(ex);
	return rc;
}

/* ---- reading ---- */

/* The Info dictionary of section i's trailer: its text, or NULL span when there is none. */
static int info_dict(pdf_doc *doc, size_t i, span *val, size_t *where)
{
	const span *iv = dict_get(&doc->secs[i].tdict, "Info");
	*val = (span){ NULL, 0 };
	if (iv == NULL)
		return 0;
	if (iv->n >= 2 && iv->p[0] == '<' && iv->p[1] == '<') {
		*val = *iv;
		*where = doc->secs[i].offset;
		return 0;
	}
	uint64_t num, gen;
	RETURN_IF(span_ref(iv, &num, &gen) < 0 || num > PDF_MAX_OBJNUM, AIMARK_EFORMAT,
		  "PDF: trailer /Info at offset %zu is not a reference", doc->secs[i].offset);
	int rc = get_object(doc, (uint32_t)num, i, val, where);
	if (rc == AIMARK_ENOTFOUND) {
		aimark_error_clear();
		*val = (span){ NULL, 0 };
		return 0;
	}
	return rc;
}

static int aigc_from_dict(span info, size_t where, aimark_buf *json, int *found)
{
	dict d = { 0 };
	size_t k = 0;
	*found = 0;
	int rc = parse_dict(info.p, info.n, &k, &d, "Info", where);
	const span *v = rc == 0 ? dict_get(&d, "AIGC") : NULL;
	aimark_buf raw = AIMARK_BUF_INIT;
	if (v) {
		rc = v->n && (v->p[0] == '(' || v->p[0] == '<') ? decode_string(*v, &raw)
								: aimark__error_set(AIMARK_EFORMAT,
										    "PDF: /AIGC in the Info dictionary at offset %zu is not a string",
										    where);
		if (rc == 0)
			rc = text_to_utf8(&raw, json);
		*found = rc == 0;
	}
	aimark_buf_dispose(&raw);
	dict_free(&d);
	return rc;
}

/* Damaged cross-reference data: the last "/AIGC" followed by a string, anywhere. */
static int scan_fallback(pdf_doc *doc, aimark__meta *meta)
{
	const unsigned char *p = doc->d;
	size_t hi = doc->n;
	for (;;) {
		const unsigned char *a = find_back(p, 0, hi, "/AIGC");
		if (a == NULL)
			return 0;
		size_t i = (size_t)(a - p) + 5, v = skip_ws(p, doc->n, i), e = v;
		hi = (size_t)(a - p) + 4;
		if ((i < doc->n && is_regular(p[i])) || v >= doc->n || (p[v] != '(' && p[v] != '<') ||
		    (v + 1 < doc->n && p[v + 1] == '<') || skip_value(p, doc->n, &e, 0) < 0)
			continue;
		aimark_buf raw = AIMARK_BUF_INIT, json = AIMARK_BUF_INIT;
		int rc = decode_string((span){ p + v, e - v }, &raw);
		if (rc == 0)
			rc = text_to_utf8(&raw, &json);
		if (rc == 0)
			rc = aimark__meta_add_carrier(meta, CARRIER_PDF, json.ptr ? (const char *)json.ptr : "", json.size,
						      (uint64_t)(a - p));
		aimark_buf_dispose(&raw);
		aimark_buf_dispose(&json);
		return rc;
	}
}

static int pdf_read(aimark_source *src, aimark__meta *meta)
{
	pdf_doc doc;
	int rc = doc_open(&doc, src);
	if (rc < 0) {
		doc_dispose(&doc);
		return rc;
	}
	rc = parse_chain(&doc);
	if (rc == AIMARK_EFORMAT || rc == AIMARK_EUNSUPPORTED) {
		rc = aimark__findings_add(meta->findings, AIMARK_SEVERITY_WARNING, "pdf-xref-damaged",
					  "%s; the file was scanned for /AIGC instead", aimark_error_last());
		aimark_error_clear();
		if (rc == 0)
			rc = scan_fallback(&doc, meta);
		if (rc == 0)
			rc = aimark__meta_add_essence(meta, 0, doc.n);
		doc_dispose(&doc);
		return rc;
	}
	if (rc == 0 && dict_get(&doc.secs[0].tdict, "Encrypt") != NULL)
		rc = aimark__findings_add(meta->findings, AIMARK_SEVERITY_WARNING, "pdf-encrypted",
					  "PDF: the document is encrypted; its Info strings cannot be read");
	else {
		for (size_t i = 0; rc == 0 && i < doc.n_secs; i++) {
			span info;
			size_t where = 0;
			aimark_buf json = AIMARK_BUF_INIT;
			int found = 0;
			rc = info_dict(&doc, i, &info, &where);
			if (rc == 0 && info.p)
				rc = aigc_from_dict(info, where, &json, &found);
			if (rc == AIMARK_EFORMAT || rc == AIMARK_EUNSUPPORTED) {
				/* an unreadable Info dictionary is reported, not fatal */
				rc = aimark__findings_add(meta->findings, AIMARK_SEVERITY_WARNING, "pdf-info-unreadable", "%s",
							  aimark_error_last());
				aimark_error_clear();
				found = 0;
			}
			if (rc == 0 && found && i > 0)
				rc = aimark__findings_add(meta->findings, AIMARK_SEVERITY_WARNING, "pdf-label-earlier-revision",
							  "PDF: the current Info dictionary has no /AIGC; the label was found in "
							  "revision %zu of %zu",
							  doc.n_secs - i, doc.n_secs);
			if (rc == 0 && found)
				rc = aimark__meta_add_carrier(meta, CARRIER_PDF, json.ptr ? (const char *)json.ptr : "", json.size,
							      where);
			aimark_buf_dispose(&json);
			if (found)
				break;
		}
	}
	if (rc == 0)
		rc = add_essence(&doc, meta);
	doc_dispose(&doc);
	return rc;
}

/* ---- writing ---- */

static int append_pdf_string(aimark_buf *out, const char *s, size_t n)
{
	int ascii = 1;
	for (size_t i = 0; i < n; i++)
		ascii &= (unsigned char)s[i] < 0x80;
	if (!ascii) {
		/* UTF-16BE with BOM, as a hex string */
		RETURN_IF_ERR(aimark__buf_append_str(out, "<FEFF"));
		for (size_t i = 0; i < n;) {
			unsigned char c = (unsigned char)s[i];
			uint32_t cp = 0xFFFD;
			size_t l = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
			if (l == 1 || i + l > n)
				cp = c < 0x80 ? c : 0xFFFD;
			else {
				cp = c & (0xFF >> (l + 1));
				for (size_t k = 1; k < l; k++)
					cp = (cp << 6) | ((unsigned char)s[i + k] & 0x3F);
			}
			i += (l == 1 || i + l > n) ? 1 : l;
			if (cp >= 0x10000) {
				cp -= 0x10000;
				RETURN_IF_ERR(aimark__buf_printf(out, "%04X%04X", 0xD800 + (cp >> 10), 0xDC00 + (cp & 0x3FF)));
			} else
				RETURN_IF_ERR(aimark__buf_printf(out, "%04X", cp));
		}
		return aimark__buf_append(out, ">", 1);
	}
	RETURN_IF_ERR(aimark__buf_append(out, "(", 1));
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c != '(' && c != ')' && c != '\\' && c != '\r' && c != '\n')
			continue;
		RETURN_IF_ERR(aimark__buf_append(out, s + run, i - run));
		RETURN_IF_ERR(aimark__buf_append_str(out, c == '\r' ? "\\r" : c == '\n' ? "\\n" : c == '(' ? "\\(" : c == ')' ? "\\)" : "\\\\"));
		run = i + 1;
	}
	RETURN_IF_ERR(aimark__buf_append(out, s + run, n - run));
	return aimark__buf_append(out, ")", 1);
}

/* Appends a, x, b, y: raw spans may hold any byte, NUL included. */
static int append_raw(aimark_buf *out, const char *a, span x, const char *b, span y)
{
	RETURN_IF_ERR(aimark__buf_append_str(out, a));
	RETURN_IF_ERR(aimark__buf_append(out, x.p, x.n));
	RETURN_IF_ERR(aimark__buf_append_str(out, b));
	return aimark__buf_append(out, y.p, y.n);
}

static int build_update(pdf_doc *doc, const char *json, size_t json_len, aimark_buf *out)
{
	section *s = &doc->secs[0];
	RETURN_IF(dict_get(&s->tdict, "Encrypt"), AIMARK_EUNSUPPORTED, "PDF: encrypted documents cannot be labelled");
	const span *root = dict_get(&s->tdict, "Root");
	uint64_t rn, rg;
	RETURN_IF(root == NULL || span_ref(root, &rn, &rg) < 0, AIMARK_EFORMAT,
		  "PDF: the trailer at offset %zu has no /Root reference", s->offset);
	RETURN_IF(doc->n_secs >= PDF_MAX_SECTIONS, AIMARK_EUNSUPPORTED, "PDF: already %zu incremental updates",
		  doc->n_secs);
	RETURN_IF(s->size == 0 || s->size >= PDF_MAX_OBJNUM - 2, AIMARK_EFORMAT,
		  "PDF: the trailer at offset %zu has a bad /Size", s->offset);
	RETURN_IF(doc->last_eof == 0 || doc->last_eof <= s->offset, AIMARK_EFORMAT,
		  "PDF: no %%%%EOF after the last cross-reference section");
	size_t tail = doc->n - doc->last_eof;
	/* the tail is repeated after the new %%EOF (see the essence): only white space is safe to repeat */
	int blank = tail <= PDF_MAX_TAIL;
	for (size_t k = 0; blank && k < tail; k++)
		blank = is_ws(doc->d[doc->last_eof + k]);
	RETURN_IF(!blank, AIMARK_EUNSUPPORTED, "PDF: %zu bytes of data follow the last %%%%EOF at offset %zu", tail,
		  doc->last_eof - 5);

	span info;
	size_t where = 0;
	RETURN_IF_ERR(info_dict(doc, 0, &info, &where));
	dict d = { 0 };
	if (info.p) {
		size_t k = 0;
		RETURN_IF_ERR(parse_dict(info.p, info.n, &k, &d, "Info", where));
	}
	uint64_t num = s->size;
	size_t base = doc->n;
	int rc = 0;
	if (doc->n > 0 && doc->d[doc->n - 1] != '\n' && doc->d[doc->n - 1] != '\r')
		rc = aimark__buf_append(out, "\n", 1);
	size_t obj_off = base + out->size;
	if (rc == 0)
		rc = aimark__buf_printf(out, "%llu 0 obj\n<<", (unsigned long long)num);
	for (size_t k = 0; rc == 0 && k < d.n; k++) {
		if (name_eq(d.e[k].key, "AIGC"))
			continue;
		rc = append_raw(out, "/", d.e[k].key, " ", d.e[k].val);
	}
	dict_free(&d);
	if (rc == 0)
		rc = aimark__buf_append_str(out, "/AIGC ");
	if (rc == 0)
		rc = append_pdf_string(out, json, json_len);
	if (rc == 0)
		rc = aimark__buf_append_str(out, ">>\nendobj\n");
	size_t xref_off = base + out->size;
	const span *id = dict_get(&s->tdict, "ID");
	static const span none = { (const unsigned char *)"", 0 };
	if (rc == 0 && !s->is_stream) {
		rc = aimark__buf_printf(out, "xref\n%llu 1\n%010llu 00000 n \ntrailer\n<</Size %llu", (unsigned long long)num,
					(unsigned long long)obj_off, (unsigned long long)num + 1);
		if (rc == 0)
			rc = append_raw(out, "/Root ", *root, "", none);
		if (rc == 0)
			rc = aimark__buf_printf(out, "/Info %llu 0 R/Prev %llu", (unsigned long long)num, (unsigned long long)s->offset);
		if (rc == 0 && id)
			rc = append_raw(out, "/ID ", *id, "", none);
		if (rc == 0)
			rc = aimark__buf_append_str(out, ">>\n");
	} else if (rc == 0) {
		unsigned char rows[14];
		rows[0] = 1;
		aimark__put_be32(rows + 1, (uint32_t)obj_off);
		aimark__put_be16(rows + 5, 0);
		rows[7] = 1;
		aimark__put_be32(rows + 8, (uint32_t)xref_off);
		aimark__put_be16(rows + 12, 0);
		rc = aimark__buf_printf(out, "%llu 0 obj\n<</Type/XRef/Size %llu/W[1 4 2]/Index[%llu 2]", (unsigned long long)num + 1,
					(unsigned long long)num + 2, (unsigned long long)num);
		if (rc == 0)
			rc = append_raw(out, "/Root ", *root, "", none);
		if (rc == 0)
			rc = aimark__buf_printf(out, "/Info %llu 0 R/Prev %llu", (unsigned long long)num, (unsigned long long)s->offset);
		if (rc == 0 && id)
			rc = append_raw(out, "/ID ", *id, "", none);
		if (rc == 0)
			rc = aimark__buf_append_str(out, "/Length 14>>stream\n");
		if (rc == 0)
			rc = aimark__buf_append(out, rows, sizeof rows);
		if (rc == 0)
			rc = aimark__buf_append_str(out, "\nendstream\nendobj\n");
	}
	if (rc == 0)
		rc = aimark__buf_printf(out, "startxref\n%llu\n%%%%EOF", (unsigned long long)xref_off);
	if (rc == 0)
		rc = aimark__buf_append(out, doc->d + doc->last_eof, tail);
	return rc;
}

static int pdf_write(aimark_source *src, const aimark__meta *meta, const aimark__label_provider *label,
		     aimark_sink *sink)
{
	pdf_doc doc;
	aimark_buf upd = AIMARK_BUF_INIT;
	const aimark__label_write *lw = NULL;
	int rc = doc_open(&doc, src);
	if (rc == 0) {
		rc = parse_chain(&doc);
		if (rc < 0)
			aimark__error_prefix("cannot label a PDF whose cross-reference data is unreadable");
	}
	if (rc == 0)
		rc = label->get(label->ctx, &lw);
	if (rc == 0)
		rc = build_update(&doc, lw->bare_json, lw->bare_len, &upd);
	if (rc == 0)
		rc = aimark_sink_write(sink, doc.d, doc.n);
	if (rc == 0)
		rc = aimark_sink_write(sink, upd.ptr, upd.size);
	aimark_buf_dispose(&upd);
	doc_dispose(&doc);
	(void)meta;
	return rc;
}

static int pdf_probe(const unsigned char *head, size_t len)
{
	/* the header may follow a few bytes of junk; 64 bytes is what the registry gives */
	for (size_t i = 0; i + 5 <= len; i++)
		if (memcmp(head + i, "%PDF-", 5) == 0)
			return 1;
	return 0;
}

static const char *const pdf_extensions[] = { "pdf", NULL };

const aimark__format_ops aimark__format_pdf = {
	.name = "pdf",
	.extensions = pdf_extensions,
	.probe = pdf_probe,
	.read = pdf_read,
	.write = pdf_write,
};

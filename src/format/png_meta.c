/*
 * PNG container backend.
 *
 * Reads GB 45438 labels from the XMP iTXt chunk ("XML:com.adobe.xmp"),
 * tEXt/zTXt/iTXt chunks with keyword "AIGC", Description/Comment text chunks
 * that embed {"AIGC":...}, and the eXIf chunk. Writes one label into all of
 * them, copying every other chunk byte for byte. The essence is the set of
 * chunks that decode to the picture (see is_essence_type).
 */
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "core/findings_internal.h"
#include "core/internal.h"
#include "core/io_internal.h"
#include "exif.h"
#include "format.h"
#include "xmp.h"

#define PNG_SIG_LEN 8
#define PNG_MAX_CHUNK_LEN UINT32_C(0x7fffffff)
#define PNG_MAX_LABEL_CHUNKS 256   /* label-bearing chunks one file may have */
#define PNG_MAX_REPEATS 16         /* findings of one repeated kind before a summary */
#define PNG_XMP_KEYWORD "XML:com.adobe.xmp"

static const unsigned char png_signature[PNG_SIG_LEN] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };

/* CRC-32 as PNG uses it (zlib's); continues `crc`, start with 0. */
static uint32_t png_crc(uint32_t crc, const unsigned char *p, size_t n)
{
	while (n > 0) { /* crc32() takes a uInt length */
		uInt step = n > 0x40000000u ? 0x40000000u : (uInt)n;
		crc = (uint32_t)crc32(crc, p, step);
		p += step;
		n -= step;
	}
	return crc;
}

/* ---- chunk classes ---- */

static int is_essence_type(const char *type)
{
	static const char *const essence[] = { "IHDR", "PLTE", "IDAT", "IEND", "tRNS", "gAMA", "cHRM", "sRGB",
					       "iCCP", "sBIT", "cICP", "mDCv", "cLLi", "acTL", "fcTL", "fdAT" };
	for (size_t i = 0; i < sizeof essence / sizeof essence[0]; i++)
		if (memcmp(type, essence[i], 4) == 0)
			return 1;
	return 0;
}

static int type_is_valid(const unsigned char *t)
{
	for (int i = 0; i < 4; i++)
		if (!((t[i] >= 'A' && t[i] <= 'Z') || (t[i] >= 'a' && t[i] <= 'z')))
			return 0;
	return 1;
}

/* Chunks write() must replace; every other byte of the file is copied. */
enum png_role {
	ROLE_XMP,        /* the first XMP packet: merged */
	ROLE_XMP_EXTRA,  /* a second XMP packet: dropped (one packet per file) */
	ROLE_AIGC_TEXT,  /* tEXt/zTXt/iTXt keyword AIGC: rewritten as tEXt AIGC */
	ROLE_EMBEDDED,   /* Description/Comment text embedding {"AIGC":...}: the JSON replaced */
	ROLE_EXIF        /* eXIf whose UserComment/ImageDescription holds the label */
};

typedef struct png_special {
	uint64_t offset;   /* start of the chunk (its length field) */
	uint32_t length;   /* data length */
	enum png_role role;
	size_t json_start, json_end; /* ROLE_EMBEDDED: the JSON within the decoded text */
	uint16_t exif_tag;           /* ROLE_EXIF */
	size_t exif_skip;            /* ROLE_EXIF: 6 when the data starts "Exif\0\0" */
} png_special;

typedef struct png_layout {
	uint64_t file_size;
	uint64_t ihdr_end;  /* where a new XMP chunk goes */
	int has_xmp;
	png_special *items; /* in file order */
	size_t n_items, cap_items;
} png_layout;

static void layout_free(void *p)
{
	png_layout *lay = p;
	if (lay == NULL)
		return;
	aimark__free(lay->items);
	aimark__free(lay);
}

static int layout_add(png_layout *lay, const png_special *s)
{
	RETURN_IF(lay->n_items >= PNG_MAX_LABEL_CHUNKS, AIMARK_ELIMIT,
		  "PNG: more than %d label or XMP chunks (at offset %llu)", PNG_MAX_LABEL_CHUNKS,
		  (unsigned long long)s->offset);
	RETURN_IF_ARRAY_FULL_GROW(lay->items, lay->cap_items, lay->n_items, 4);
	lay->items[lay->n_items++] = *s;
	return 0;
}

/* ---- text chunks ---- */

typedef struct png_text {
	const unsigned char *keyword;
	size_t keyword_len;
	int compressed;
	const unsigned char *lang, *translated; /* iTXt only */
	size_t lang_len, translated_len;
	const unsigned char *text;              /* as stored (compressed or not) */
	size_t text_len;
} png_text;

/* Splits a tEXt/zTXt/iTXt body. Returns 0, or -1 with `*why` set. */
static int text_split(const char *type, const unsigned char *d, size_t len, png_text *t, const char **why)
{
	memset(t, 0, sizeof *t);
	const unsigned char *end = d + len, *p;
	const unsigned char *nul = len ? memchr(d, 0, len) : NULL;
	if (nul == NULL) {
		*why = "the keyword is not NUL-terminated";
		return -1;
	}
	t->keyword = d;
	t->keyword_len = (size_t)(nul - d);
	if (t->keyword_len == 0 || t->keyword_len > 79) {
		*why = "the keyword is not 1 to 79 bytes long";
		return -1;
	}
	p = nul + 1;
	if (memcmp(type, "tEXt", 4) == 0) {
		t->text = p;
		t->text_len = (size_t)(end - p);
		return 0;
	}
	if (memcmp(type, "zTXt", 4) == 0) {
		if (p >= end || *p != 0) {
			*why = "the compression method is missing or not 0 (deflate)";
			return -1;
		}
		t->compressed = 1;
		t->text = p + 1;
		t->text_len = (size_t)(end - p - 1);
		return 0;
	}
	/* iTXt */
	if (end - p < 2 || p[0] > 1 || (p[0] == 1 && p[1] != 0)) {
		*why = "the compression flag or method is missing or invalid";
		return -1;
	}
	t->compressed = p[0];
	p += 2;
	nul = memchr(p, 0, (size_t)(end - p));
	if (nul == NULL) {
		*why = "the language tag is not NUL-terminated";
		return -1;
	}
	t->lang = p;
	t->lang_len = (size_t)(nul - p);
	p = nul + 1;
	nul = p < end ? memchr(p, 0, (size_t)(end - p)) : NULL;
	if (nul == NULL) {
		*why = "the translated keyword is not NUL-terminated";
		return -1;
	}
	t->translated = p;
	t->translated_len = (size_t)(nul - p);
	p = nul + 1;
	t->text = p;
	t->text_len = (size_t)(end - p);
	return 0;
}

/*
 * Inflates a zlib stream into `out`, at most AIMARK__MAX_METADATA_BLOCK bytes.
 * Returns 0, AIMARK_ENOMEM, or another code with `*why` set (EFORMAT for a
 * corrupt stream, ELIMIT when too large).
 */
static int png_inflate(const unsigned char *in, size_t len, aimark_buf *out, const char **why)
{
	z_stream zs;
	memset(&zs, 0, sizeof zs);
	if (inflateInit(&zs) != Z_OK)
		return aimark__error_set(AIMARK_ENOMEM, "PNG: cannot initialise zlib");
	zs.next_in = (Bytef *)(uintptr_t)in;
	zs.avail_in = (uInt)len; /* len <= 2^31-1 */
	int rc = 0;
	for (;;) {
		if (out->size >= AIMARK__MAX_METADATA_BLOCK) {
			*why = "the text inflates to more than the 16 MiB limit";
			rc = AIMARK_ELIMIT;
			break;
		}
		size_t room = AIMARK__MAX_METADATA_BLOCK - out->size;
		if (room > 65536)
			room = 65536;
		if (aimark__buf_reserve(out, room) != 0) {
			rc = AIMARK_ENOMEM;
			break;
		}
		zs.next_out = out->ptr + out->size;
		zs.avail_out = (uInt)room;
		int zr = inflate(&zs, Z_NO_FLUSH);
		out->size += room - zs.avail_out;
		out->ptr[out->size] = '\0';
		if (zr == Z_STREAM_END)
			break;
		if (zr != Z_OK) {
			*why = zr == Z_MEM_ERROR ? "out of memory" : "the compressed text is corrupt or truncated";
			rc = zr == Z_MEM_ERROR ? AIMARK_ENOMEM : AIMARK_EFORMAT;
			break;
		}
	}
	inflateEnd(&zs);
	if (rc == AIMARK_ENOMEM)
		return aimark__error_set(AIMARK_ENOMEM, "out of memory");
	return rc;
}

/* The text of a chunk, inflated into `storage` when compressed. */
static int text_decode(const png_text *t, aimark_buf *storage, const unsigned char **text, size_t *len, const char **why)
{
	if (!t->compressed) {
		*text = t->text;
		*len = t->text_len;
		return 0;
	}
	aimark__buf_clear(storage);
	RETURN_IF_ERR(png_inflate(t->text, t->text_len, storage, why));
	*text = storage->ptr ? storage->ptr : (const unsigned char *)"";
	*len = storage->size;
	return 0;
}

static int keyword_is(const png_text *t, const char *kw, int any_case)
{
	size_t n = strlen(kw);
	if (t->keyword_len != n)
		return 0;
	return any_case ? strncasecmp((const char *)t->keyword, kw, n) == 0 : memcmp(t->keyword, kw, n) == 0;
}

/* Offset of a JSON object that starts {"AIGC" (white space allowed after the brace), or -1. */
static long long find_embedded_label(const unsigned char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] != '{')
			continue;
		size_t j = i + 1;
		while (j < len && (s[j] == ' ' || s[j] == '\t' || s[j] == '\r' || s[j] == '\n'))
			j++;
		if (len - j >= 6 && memcmp(s + j, "\"AIGC\"", 6) == 0)
			return (long long)i;
	}
	return -1;
}

/* One past the '}' closing the object at `start`, or `len` when unbalanced. */
static size_t json_object_end(const unsigned char *s, size_t len, size_t start)
{
	size_t depth = 0;
	int in_string = 0, escaped = 0;
	for (size_t i = start; i < len; i++) {
		unsigned char c = s[i];
		if (in_string) {
			if (escaped)
				escaped = 0;
			else if (c == '\\')
				escaped = 1;
			else if (c == '"')
				in_string = 0;
		} else if (c == '"') {
			in_string = 1;
		} else if (c == '{') {
			depth++;
		} else if (c == '}' && depth > 0 && --depth == 0) {
			return i + 1;
		}
	}
	return len;
}

/* Adds a carrier, cut at the first NUL (label text never holds one; the copy is a C string). */
static int add_text_carrier(aimark__meta *meta, const char *kind, const unsigned char *text, size_t len, uint64_t offset)
{
	if (text == NULL) {
		text = (const unsigned char *)"";
		len = 0;
	}
	const unsigned char *nul = len ? memchr(text, 0, len) : NULL;
	if (nul)
		len = (size_t)(nul - text);
	return aimark__meta_add_carrier(meta, kind, (const char *)text, len, offset);
}

/* ---- reading ---- */

typedef struct png_walk {
	const unsigned char *d;
	uint64_t size;
	png_layout *lay;
	aimark__meta *meta;
	unsigned n_crc, n_exif;
	aimark_buf scratch;
} png_walk;

static int read_text_chunk(png_walk *w, const char *type, uint64_t off, const unsigned char *data, uint32_t len)
{
	aimark_findings *fd = w->meta->findings;
	png_text t;
	const char *why = NULL;
	if (text_split(type, data, len, &t, &why) != 0)
		return aimark__findings_add(fd, AIMARK_SEVERITY_WARNING, "png-text-malformed",
					    "PNG: %s chunk at offset %llu is malformed (%s); ignored", type,
					    (unsigned long long)off, why);

	png_special s = { .offset = off, .length = len };
	const unsigned char *text;
	size_t text_len;
	int rc;

	if (keyword_is(&t, PNG_XMP_KEYWORD, 0)) {
		s.role = w->lay->has_xmp ? ROLE_XMP_EXTRA : ROLE_XMP;
		if (w->lay->has_xmp)
			RETURN_IF_ERR(aimark__findings_add(fd, AIMARK_SEVERITY_WARNING, "png-duplicate-xmp",
							   "PNG: a second XMP chunk at offset %llu (a file holds one XMP packet; "
							   "writing keeps only the first)", (unsigned long long)off));
		if (memcmp(type, "iTXt", 4) != 0)
			RETURN_IF_ERR(aimark__findings_add(fd, AIMARK_SEVERITY_INFO, "png-xmp-chunk-type",
							   "PNG: XMP packet in a %s chunk at offset %llu (expected iTXt)",
							   type, (unsigned long long)off));
		w->lay->has_xmp = 1;
		RETURN_IF_ERR(layout_add(w->lay, &s));
		rc = text_decode(&t, &w->scratch, &text, &text_len, &why);
		if (rc == AIMARK_ENOMEM)
			return rc;
		if (rc < 0)
			return aimark__findings_add(fd, AIMARK_SEVERITY_WARNING, "png-inflate",
						    "PNG: XMP %s chunk at offset %llu not read: %s", type,
						    (unsigned long long)off, why);
		aimark_buf json = AIMARK_BUF_INIT;
		rc = aimark__xmp_find_aigc((const char *)text, text_len, &json, fd);
		if (rc == 0)
			rc = add_text_carrier(w->meta, AIMARK__CARRIER_XMP, json.ptr, json.size, off);
		else if (rc == AIMARK_ENOTFOUND)
			rc = 0;
		else if (rc == AIMARK_EFORMAT)
			rc = aimark__findings_add(fd, AIMARK_SEVERITY_WARNING, "png-xmp-malformed",
						  "PNG: XMP packet in the %s chunk at offset %llu is not well-formed: %s", type,
						  (unsigned long long)off, aimark_error_last());
		aimark_buf_dispose(&json);
		return rc;
	}

	if (keyword_is(&t, "AIGC", 1)) {
		if (!keyword_is(&t, "AIGC", 0))
			RETURN_IF_ERR(aimark__findings_add(fd, AIMARK_SEVERITY_WARNING, "png-text-keyword",
							   "PNG: %s chunk at offset %llu uses keyword '%.*s' (Annex E: AIGC)",
							   type, (unsigned long long)off, (int)t.keyword_len,
							   (const char *)t.keyword));
		s.role = ROLE_AIGC_TEXT;
		RETURN_IF_ERR(layout_add(w->lay, &s));
		rc = text_decode(&t, &w->scratch, &text, &text_len, &why);
		if (rc == AIMARK_ENOMEM)
			return rc;
		if (rc < 0)
			return aimark__findings_add(fd, AIMARK_SEVERITY_WARNING, "png-inflate",
						    "PNG: %s chunk 'AIGC' at offset %llu not read: %s", type,
						    (unsigned long long)off, why);
		return add_text_carrier(w->meta, AIMARK__CARRIER_PNG_TEXT, text, text_len, off);
	}

	if (keyword_is(&t, "Description", 1) || keyword_is(&t, "Comment", 1)) {
		rc = text_decode(&t, &w->scratch, &text, &text_len, &why);
		if (rc == AIMARK_ENOMEM)
			return rc;
		if (rc < 0)
			return aimark__findings_add(fd, AIMARK_SEVERITY_INFO, "png-inflate",
						    "PNG: %s chunk '%.*s' at offset %llu not read: %s", type,
						    (int)t.keyword_len, (const char *)t.keyword, (unsigned long long)off, why);
		long long at = find_embedded_label(text, text_len);
		if (at < 0)
			return 0;
		s.role = ROLE_EMBEDDED;
		s.json_start = (size_t)at;
		s.json_end = json_object_end(text, text_len, (size_t)at);
		RETURN_IF_ERR(layout_add(w->lay, &s));
		RETURN_IF_ERR(aimark__findings_add(fd, AIMARK_SEVERITY_WARNING, "png-text-keyword",
						   "PNG: label inside a %s chunk with keyword '%.*s' at offset %llu "
						   "(Annex E: keyword AIGC)", type, (int)t.keyword_len,
						   (const char *)t.keyword, (unsigned long long)off));
		return add_text_carrier(w->meta, AIMARK__CARRIER_PNG_TEXT, text + s.json_start,
					s.json_end - s.json_start, off);
	}
	return 0;
}

static int read_exif_chunk(png_walk *w, uint64_t off, const unsigned char *data, uint32_t len)
{
	aimark_findings *fd = w->meta->findings;
	if (++w->n_exif > 1)
		RETURN_IF_ERR(aimark__findings_add(fd, AIMARK_SEVERITY_WARNING, "png-duplicate-exif",
						   "PNG: another eXIf chunk at offset %llu (the PNG specification allows one)",
						   (unsigned long long)off));
	size_t skip = 0;
	if (len >= 6 && memcmp(data, "Exif\0\0", 6) == 0) {
		skip = 6;
		RETURN_IF_ERR(aimark__findings_add(fd, AIMARK_SEVERITY_INFO, "png-exif-prefix",
						   "PNG: eXIf chunk at offset %llu starts with the JPEG \"Exif\\0\\0\" header",
						   (unsigned long long)off));
	}
	aimark_buf text = AIMARK_BUF_INIT;
	uint16_t tag = 0;
	int rc = aimark__exif_find_aigc(data + skip, len - skip, &text, &tag, fd);
	if (rc == 0) {
		png_special s = { .offset = off, .length = len, .role = ROLE_EXIF, .exif_tag = tag, .exif_skip = skip };
		rc = layout_add(w->lay, &s);
		if (rc == 0)
			rc = add_text_carrier(w->meta,
					      tag == AIMARK__EXIF_TAG_IMAGEDESCRIPTION ? AIMARK__CARRIER_EXIF_DESCRIPTION
										       : AIMARK__CARRIER_EXIF_USERCOMMENT,
					      text.ptr, text.size, off);
	} else if (rc == AIMARK_ENOTFOUND) {
		rc = 0;
	} else if (rc == AIMARK_EFORMAT) {
		rc = aimark__findings_add(fd, AIMARK_SEVERITY_WARNING, "png-exif-malformed",
					  "PNG: eXIf chunk at offset %llu is malformed: %s", (unsigned long long)off,
					  aimark_error_last());
	}
	aimark_buf_dispose(&text);
	return rc;
}

static int png_walk_chunks(png_walk *w)
{
	const unsigned char *d = w->d;
	uint64_t size = w->size, pos = PNG_SIG_LEN;
	aimark_findings *fd = w->meta->findings;
	int seen_iend = 0;

	RETURN_IF(size == 0, AIMARK_EFORMAT, "PNG: the input is empty");
	RETURN_IF(size < PNG_SIG_LEN || memcmp(d, png_signature, PNG_SIG_LEN) != 0, AIMARK_EFORMAT,
		  "PNG: bad signature at offset 0 (not a PNG file)");
	RETURN_IF(size == PNG_SIG_LEN, AIMARK_EFORMAT, "PNG: no chunks after the signature (missing IHDR)");

	while (pos < size && !seen_iend) {
		RETURN_IF(size - pos < 12, AIMARK_EFORMAT,
			  "PNG: truncated chunk at offset %llu: %llu bytes left, a chunk needs at least 12",
			  (unsigned long long)pos, (unsigned long long)(size - pos));
		uint32_t len = aimark__be32(d + pos);
		const unsigned char *type = d + pos + 4;
		RETURN_IF(!type_is_valid(type), AIMARK_EFORMAT, "PNG: invalid chunk type 0x%08x at offset %llu",
			  (unsigned)aimark__be32(type), (unsigned long long)pos);
		char name[5];
		memcpy(name, type, 4);
		name[4] = '\0';
		RETURN_IF(len > PNG_MAX_CHUNK_LEN, AIMARK_EFORMAT,
			  "PNG: chunk '%s' at offset %llu has length %u, above the 2^31-1 limit", name,
			  (unsigned long long)pos, (unsigned)len);
		RETURN_IF(len > size - pos - 12, AIMARK_EFORMAT,
			  "PNG: chunk '%s' at offset %llu (length %u) passes the end of the file (%llu bytes)", name,
			  (unsigned long long)pos, (unsigned)len, (unsigned long long)size);
		if (pos == PNG_SIG_LEN) {
			RETURN_IF(strcmp(name, "IHDR") != 0, AIMARK_EFORMAT,
				  "PNG: first chunk is '%s' at offset %llu, expected IHDR", name, (unsigned long long)pos);
			RETURN_IF(len != 13, AIMARK_EFORMAT, "PNG: IHDR at offset %llu has length %u, expected 13",
				  (unsigned long long)pos, (unsigned)len);
			w->lay->ihdr_end = pos + 12 + len;
		}
		const unsigned char *data = type + 4;
		int essence = is_essence_type(name);
		uint32_t stored = aimark__be32(data + len), computed = png_crc(0, type, (size_t)len + 4);
		if (stored != computed && ++w->n_crc <= PNG_MAX_REPEATS)
			RETURN_IF_ERR(aimark__findings_add(fd, AIMARK_SEVERITY_WARNING, "png-crc",
							   "PNG: CRC mismatch in %s chunk '%s' at offset %llu "
							   "(stored %08x, computed %08x)", essence ? "image" : "metadata",
							   name, (unsigned long long)pos, (unsigned)stored, (unsigned)computed));
		if (essence) {
			RETURN_IF_ERR(aimark__meta_add_essence(w->meta, pos, (uint64_t)len + 12));
		} else if (!strcmp(name, "tEXt") || !strcmp(name, "zTXt") || !strcmp(name, "iTXt")) {
			RETURN_IF_ERR(read_text_chunk(w, name, pos, data, len));
		} else if (!strcmp(name, "eXIf")) {
			RETURN_IF_ERR(read_exif_chunk(w, pos, data, len));
		}
		seen_iend = strcmp(name, "IEND") == 0;
		pos += (uint64_t)len + 12;
	}
	RETURN_IF(!seen_iend, AIMARK_EFORMAT, "PNG: no IEND chunk: the file ends at offset %llu without one",
		  (unsigned long long)size);
	if (w->n_crc > PNG_MAX_REPEATS)
		RETURN_IF_ERR(aimark__findings_add(fd, AIMARK_SEVERITY_WARNING, "png-crc",
						   "PNG: %u more chunks with a CRC mismatch", w->n_crc - PNG_MAX_REPEATS));
	if (pos < size)
		RETURN_IF_ERR(aimark__findings_add(fd, AIMARK_SEVERITY_INFO, "png-trailing-data",
						   "PNG: %llu bytes after IEND at offset %llu (kept, not part of the image)",
						   (unsigned long long)(size - pos), (unsigned long long)pos));
	w->lay->file_size = size;
	return 0;
}

/* Parses `d` into a new layout, filling `meta`. */
static int png_parse(const unsigned char *d, uint64_t size, aimark__meta *meta, png_layout **out)
{
	png_layout *lay = aimark__calloc(1, sizeof *lay);
	RETURN_ENOMEM_IF_NULL(lay);
	png_walk w = { .d = d, .size = size, .lay = lay, .meta = meta };
	int rc = png_walk_chunks(&w);
	aimark_buf_dispose(&w.scratch);
	if (rc < 0) {
		layout_free(lay);
		return rc;
	}
	*out = lay;
	return 0;
}

static int png_probe(const unsigned char *head, size_t len)
{
	return len >= PNG_SIG_LEN && memcmp(head, png_signature, PNG_SIG_LEN) == 0;
}

static int png_read(aimark_source *src, aimark__meta *meta)
{
	aimark_buf storage = AIMARK_BUF_INIT;
	const unsigned char *d = NULL;
	png_layout *lay = NULL;
	int rc = aimark__source_load(src, AIMARK__MAX_IMAGE_FILE, &storage, &d);
	if (rc == 0)
		rc = png_parse(d, aimark_source_size(src), meta, &lay);
	aimark_buf_dispose(&storage);
	if (rc < 0)
		return rc;
	if (meta->priv && meta->priv_free)
		meta->priv_free(meta->priv);
	meta->priv = lay;
	meta->priv_free = layout_free;
	return 0;
}

/* ---- writing ---- */

static int sink_put(aimark_sink *sink, const void *p, uint64_t n)
{
	return n ? aimark_sink_write(sink, p, (size_t)n) : 0;
}

/* Writes one chunk: length, type, data (given in up to three pieces), CRC. */
static int emit_chunk(aimark_sink *sink, const char *type, const void *a, size_t alen, const void *b, size_t blen,
		      const void *c, size_t clen)
{
	uint64_t total = (uint64_t)alen + blen + clen;
	RETURN_IF(total > PNG_MAX_CHUNK_LEN, AIMARK_ELIMIT, "PNG: a new '%s' chunk would exceed 2^31-1 bytes", type);
	unsigned char head[8], tail[4];
	aimark__put_be32(head, (uint32_t)total);
	memcpy(head + 4, type, 4);
	uint32_t crc = png_crc(0, head + 4, 4);
	crc = png_crc(crc, a, alen);
	crc = png_crc(crc, b, blen);
	crc = png_crc(crc, c, clen);
	aimark__put_be32(tail, crc);
	RETURN_IF_ERR(aimark_sink_write(sink, head, 8));
	RETURN_IF_ERR(sink_put(sink, a, alen));
	RETURN_IF_ERR(sink_put(sink, b, blen));
	RETURN_IF_ERR(sink_put(sink, c, clen));
	return aimark_sink_write(sink, tail, 4);
}

/* iTXt header: keyword, uncompressed, language tag, translated keyword. */
static int itxt_header(aimark_buf *h, const unsigned char *kw, size_t kw_len, const unsigned char *lang,
		       size_t lang_len, const unsigned char *tr, size_t tr_len)
{
	static const unsigned char zero3[3] = { 0, 0, 0 };
	RETURN_IF_ERR(aimark__buf_append(h, kw, kw_len));
	RETURN_IF_ERR(aimark__buf_append(h, zero3, 3)); /* NUL, flag 0, method 0 */
	RETURN_IF_ERR(aimark__buf_append(h, lang, lang_len));
	RETURN_IF_ERR(aimark__buf_append(h, zero3, 1));
	RETURN_IF_ERR(aimark__buf_append(h, tr, tr_len));
	return aimark__buf_append(h, zero3, 1);
}

static int is_ascii(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return 0;
	return 1;
}

static int emit_xmp(aimark_sink *sink, const png_text *old, const unsigned char *packet, size_t packet_len,
		    const aimark__label_write *lw)
{
	aimark_buf xmp = AIMARK_BUF_INIT, head = AIMARK_BUF_INIT;
	int rc = aimark__xmp_set_aigc((const char *)packet, packet_len, lw->bare_json, lw->bare_len, &xmp);
	if (rc == 0 && old && old->lang)
		rc = itxt_header(&head, (const unsigned char *)PNG_XMP_KEYWORD, strlen(PNG_XMP_KEYWORD), old->lang,
				 old->lang_len, old->translated, old->translated_len);
	else if (rc == 0)
		rc = itxt_header(&head, (const unsigned char *)PNG_XMP_KEYWORD, strlen(PNG_XMP_KEYWORD),
				 (const unsigned char *)"", 0, (const unsigned char *)"", 0);
	if (rc == 0)
		rc = emit_chunk(sink, "iTXt", head.ptr, head.size, xmp.ptr, xmp.size, NULL, 0);
	aimark_buf_dispose(&xmp);
	aimark_buf_dispose(&head);
	return rc;
}

/* A label-only text chunk: tEXt AIGC, or iTXt AIGC when the JSON is not ASCII (tEXt is Latin-1). */
static int emit_aigc_text(aimark_sink *sink, const aimark__label_write *lw)
{
	if (is_ascii(lw->wrapped_json, lw->wrapped_len))
		return emit_chunk(sink, "tEXt", "AIGC", 5, lw->wrapped_json, lw->wrapped_len, NULL, 0);
	static const unsigned char itxt_head[] = { 'A', 'I', 'G', 'C', 0, 0, 0, 0, 0 };
	return emit_chunk(sink, "iTXt", itxt_head, sizeof itxt_head, lw->wrapped_json, lw->wrapped_len, NULL, 0);
}

static int write_special(aimark_sink *sink, const unsigned char *d, const png_special *s, const aimark__label_write *lw,
			 aimark_buf *scratch)
{
	const unsigned char *data = d + s->offset + 8;
	char type[5];
	memcpy(type, d + s->offset + 4, 4);
	type[4] = '\0';
	png_text t;
	const char *why = NULL;
	const unsigned char *text;
	size_t text_len;
	int rc;

	switch (s->role) {
	case ROLE_XMP_EXTRA:
		return 0;
	case ROLE_AIGC_TEXT:
		return emit_aigc_text(sink, lw);
	case ROLE_XMP:
	case ROLE_EMBEDDED:
		RETURN_IF(text_split(type, data, s->length, &t, &why) != 0, AIMARK_EFORMAT,
			  "PNG: %s chunk at offset %llu is malformed: %s", type, (unsigned long long)s->offset, why);
		rc = text_decode(&t, scratch, &text, &text_len, &why);
		if (rc == AIMARK_ENOMEM)
			return rc;
		RETURN_IF(rc < 0, rc, "PNG: cannot rewrite the %s chunk at offset %llu: %s", type,
			  (unsigned long long)s->offset, why);
		if (s->role == ROLE_XMP) {
			rc = emit_xmp(sink, memcmp(type, "iTXt", 4) == 0 ? &t : NULL, text, text_len, lw);
			if (rc == AIMARK_EFORMAT)
				aimark__error_prefix("PNG: XMP chunk at offset %llu", (unsigned long long)s->offset);
			return rc;
		}
		RETURN_IF(s->json_start > s->json_end || s->json_end > text_len, AIMARK_EFORMAT,
			  "PNG: %s chunk at offset %llu changed since it was read", type, (unsigned long long)s->offset);
		if (memcmp(type, "iTXt", 4) == 0) {
			aimark_buf head = AIMARK_BUF_INIT;
			/* the old text may live in `scratch`; the header goes to its own buffer */
			rc = itxt_header(&head, t.keyword, t.keyword_len, t.lang, t.lang_len, t.translated, t.translated_len);
			if (rc == 0)
				rc = aimark__buf_append(&head, text, s->json_start);
			if (rc == 0)
				rc = emit_chunk(sink, "iTXt", head.ptr, head.size, lw->wrapped_json, lw->wrapped_len,
						text + s->json_end, text_len - s->json_end);
			aimark_buf_dispose(&head);
			return rc;
		} else {
			aimark_buf head = AIMARK_BUF_INIT;
			rc = aimark__buf_append(&head, t.keyword, t.keyword_len);
			if (rc == 0)
				rc = aimark__buf_append(&head, "", 1);
			if (rc == 0)
				rc = aimark__buf_append(&head, text, s->json_start);
			if (rc == 0)
				rc = emit_chunk(sink, "tEXt", head.ptr, head.size, lw->wrapped_json, lw->wrapped_len,
						text + s->json_end, text_len - s->json_end);
			aimark_buf_dispose(&head);
			return rc;
		}
	case ROLE_EXIF: {
		RETURN_IF(s->exif_skip > s->length, AIMARK_EFORMAT, "PNG: eXIf chunk at offset %llu changed since it was read",
			  (unsigned long long)s->offset);
		aimark_buf tiff = AIMARK_BUF_INIT;
		rc = aimark__exif_replace_text(data + s->exif_skip, s->length - s->exif_skip, s->exif_tag, lw->wrapped_json,
					       lw->wrapped_len, &tiff);
		if (rc == 0)
			rc = emit_chunk(sink, "eXIf", data, s->exif_skip, tiff.ptr, tiff.size, NULL, 0);
		else
			aimark__error_prefix("PNG: eXIf chunk at offset %llu", (unsigned long long)s->offset);
		aimark_buf_dispose(&tiff);
		return rc;
	}
	}
	return aimark__error_set(AIMARK_EINVAL, "PNG: unknown chunk role");
}

static int png_emit(aimark_sink *sink, const unsigned char *d, const png_layout *lay, const aimark__label_write *lw)
{
	aimark_buf scratch = AIMARK_BUF_INIT;
	int rc = sink_put(sink, d, lay->ihdr_end);
	/* A new XMP packet goes straight after IHDR, where the vendors put theirs. */
	if (rc == 0 && !lay->has_xmp)
		rc = emit_xmp(sink, NULL, NULL, 0, lw);
	uint64_t pos = lay->ihdr_end;
	for (size_t i = 0; rc == 0 && i < lay->n_items; i++) {
		const png_special *s = &lay->items[i];
		rc = sink_put(sink, d + pos, s->offset - pos);
		if (rc == 0)
			rc = write_special(sink, d, s, lw, &scratch);
		pos = s->offset + 12 + s->length;
	}
	if (rc == 0)
		rc = sink_put(sink, d + pos, lay->file_size - pos);
	aimark_buf_dispose(&scratch);
	return rc;
}

static int png_write(aimark_source *src, const aimark__meta *meta, const aimark__label_provider *label, aimark_sink *sink)
{
	const aimark__label_write *lw = NULL;
	RETURN_IF(label == NULL || label->get == NULL || sink == NULL, AIMARK_EINVAL, "PNG: no label provider or sink");
	RETURN_IF_ERR(label->get(label->ctx, &lw));
	RETURN_IF(lw == NULL || lw->bare_json == NULL || lw->wrapped_json == NULL, AIMARK_EINVAL, "PNG: no label to write");

	aimark_buf storage = AIMARK_BUF_INIT;
	const unsigned char *d = NULL;
	png_layout *own = NULL;
	const png_layout *lay = meta ? meta->priv : NULL;
	uint64_t size = aimark_source_size(src);
	int rc = aimark__source_load(src, AIMARK__MAX_IMAGE_FILE, &storage, &d);
	if (rc == 0 && (lay == NULL || lay->file_size != size)) {
		aimark__meta scratch;
		aimark__meta_init(&scratch, NULL);
		rc = png_parse(d, size, &scratch, &own);
		aimark__meta_dispose(&scratch);
		lay = own;
	}
	if (rc == 0)
		rc = png_emit(sink, d, lay, lw);
	layout_free(own);
	aimark_buf_dispose(&storage);
	return rc;
}

static const char *const png_extensions[] = { "png", "apng", NULL };

const aimark__format_ops aimark__format_png = {
	.name = "png",
	.extensions = png_extensions,
	.probe = png_probe,
	.read = png_read,
	.write = png_write,
};

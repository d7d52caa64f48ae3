/*
 * Ogg Vorbis and Ogg Opus: the GB 45438 label is the Vorbis comment field
 * AIGC=<json> in each Vorbis ("\x03vorbis") or Opus ("OpusTags") comment
 * header packet. Writing rebuilds the pages that held the comment header
 * (and, for Vorbis, the setup header that shares them), renumbers the later
 * pages of that logical stream when the page count changed and recomputes
 * their CRCs; every other page is copied unchanged, one page at a time.
 *
 * Essence: all page payload bytes (every logical stream: identification
 * and setup headers, audio packets) except the Vorbis/Opus comment packets.
 */
#include <pthread.h>
#include <string.h>

#include "core/findings_internal.h"
#include "core/internal.h"
#include "core/io_internal.h"
#include "format.h"
#include "vorbis_comment.h"

#define PAGE_HDR 27
#define MAX_STREAMS 1024
#define MAX_HEADER_BYTES (64u << 20) /* comment and setup packets kept in memory, all streams */
#define MAX_TRAILING_JUNK (64u << 10)

#define F_CONTINUED 0x01
#define F_BOS 0x02
#define F_EOS 0x04

enum { C_UNKNOWN, C_OTHER, C_VORBIS, C_OPUS };

typedef struct ogg_stream {
	uint32_t serial;
	int codec;
	/* header packet tracking */
	unsigned packet;     /* index of the packet being assembled */
	int in_progress;     /* part of that packet was seen */
	int headers_done;
	uint64_t region_first, region_last; /* pages holding the comment (and setup) packets */
	uint32_t region_pages, first_seq;
	int region_eos;
	int shared_head;     /* the comment packet does not start its page */
	int shared_tail;     /* audio data shares the last header page */
	aimark_buf comment;  /* comment packet */
	aimark_buf setup;    /* Vorbis setup packet */
	int comment_bad;
} ogg_stream;

typedef struct ogg_layout {
	ogg_stream *streams;
	size_t n, cap;
	uint64_t pages_end; /* past the last page; trailing bytes follow */
	uint64_t file_size;
	size_t header_bytes;
} ogg_layout;

typedef struct ogg_page {
	uint64_t off;
	unsigned char hdr[PAGE_HDR + 255];
	size_t hdr_len, body_len;
	unsigned flags, nseg;
	uint32_t serial, seq;
} ogg_page;

static void layout_free(void *p)
{
	ogg_layout *l = p;
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++) {
		aimark_buf_dispose(&l->streams[i].comment);
		aimark_buf_dispose(&l->streams[i].setup);
	}
	aimark__free(l->streams);
	aimark__free(l);
}

/* ---- CRC: polynomial 0x04c11db7, initial 0, not reflected, no final xor ---- */
static uint32_t g_crc_table[256];
static pthread_once_t g_crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t r = i << 24;
		for (int k = 0; k < 8; k++)
			r = (r & 0x80000000u) ? (r << 1) ^ 0x04c11db7u : r << 1;
		g_crc_table[i] = r;
	}
}

static uint32_t crc_update(uint32_t crc, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		crc = (crc << 8) ^ g_crc_table[((crc >> 24) ^ p[i]) & 0xff];
	return crc;
}

/* Sets the CRC of a page held in memory (header then body). */
static void page_set_crc(unsigned char *page, size_t len)
{
	pthread_once(&g_crc_once, crc_init);
	memset(page + 22, 0, 4);
	uint32_t crc = crc_update(0, page, len);
	page[22] = (unsigned char)crc, page[23] = (unsigned char)(crc >> 8);
	page[24] = (unsigned char)(crc >> 16), page[25] = (unsigned char)(crc >> 24);
}

static int page_crc_ok(const ogg_page *pg, const unsigned char *body)
{
	pthread_once(&g_crc_once, crc_init);
	unsigned char h[PAGE_HDR + 255];
	memcpy(h, pg->hdr, pg->hdr_len);
	memset(h + 22, 0, 4);
	uint32_t crc = crc_update(crc_update(0, h, pg->hdr_len), body, pg->body_len);
	return crc == aimark__le32(pg->hdr + 22);
}

static int ogg_probe(const unsigned char *h, size_t len) { return len >= 5 && memcmp(h, "OggS", 4) == 0 && h[4] == 0; }

/* Reads the page header at `off`. Returns 0, 1 when no page starts there (not "OggS"), or an error. */
static int page_header(aimark_source *src, uint64_t off, uint64_t fsize, ogg_page *pg)
{
	uint64_t room = fsize - off;
	if (room < 4)
		return 1;
	RETURN_IF_ERR(aimark_source_read(src, off, pg->hdr, room < PAGE_HDR ? 4 : PAGE_HDR));
	if (memcmp(pg->hdr, "OggS", 4) != 0)
		return 1;
	RETURN_IF(room < PAGE_HDR, AIMARK_EFORMAT, "Ogg: page header at offset %llu is truncated", (unsigned long long)off);
	RETURN_IF(pg->hdr[4] != 0, AIMARK_EFORMAT, "Ogg: page at offset %llu has unknown version %u", (unsigned long long)off, pg->hdr[4]);
	pg->off = off;
	pg->flags = pg->hdr[5];
	pg->serial = aimark__le32(pg->hdr + 14);
	pg->seq = aimark__le32(pg->hdr + 18);
	pg->nseg = pg->hdr[26];
	pg->hdr_len = PAGE_HDR + pg->nseg;
	RETURN_IF(room < pg->hdr_len, AIMARK_EFORMAT, "Ogg: segment table of the page at offset %llu is truncated",
		  (unsigned long long)off);
	RETURN_IF_ERR(aimark_source_read(src, off + PAGE_HDR, pg->hdr + PAGE_HDR, pg->nseg));
	pg->body_len = 0;
	for (unsigned i = 0; i < pg->nseg; i++)
		pg->body_len += pg->hdr[PAGE_HDR + i];
	RETURN_IF(pg->body_len > room - pg->hdr_len, AIMARK_EFORMAT,
		  "Ogg: page at offset %llu declares %zu payload bytes but %llu remain", (unsigned long long)off, pg->body_len,
		  (unsigned long long)(room - pg->hdr_len));
	return 0;
}

/* The stream a page belongs to: the latest of the first `n` streams with its serial, or SIZE_MAX. */
static size_t stream_index(const ogg_layout *l, size_t n, uint32_t serial)
{
	for (size_t i = n; i-- > 0;)
		if (l->streams[i].serial == serial)
			return i;
	return SIZE_MAX;
}

static int header_count(const ogg_stream *s) { return s->codec == C_VORBIS ? 3 : 2; }

static int keep(ogg_layout *l, aimark_buf *b, const unsigned char *p, size_t n, uint64_t at)
{
	RETURN_IF(n > AIMARK__MAX_METADATA_BLOCK - b->size, AIMARK_ELIMIT,
		  "Ogg: header packet at offset %llu exceeds the %u-byte limit", (unsigned long long)at, AIMARK__MAX_METADATA_BLOCK);
	RETURN_IF(n > MAX_HEADER_BYTES - l->header_bytes, AIMARK_ELIMIT, "Ogg: header packets exceed %u bytes in total",
		  MAX_HEADER_BYTES);
	l->header_bytes += n;
	return aimark__buf_append(b, p, n);
}

/* Follows the header packets of a Vorbis/Opus stream through one page. */
static int track_page(ogg_layout *l, ogg_stream *s, const ogg_page *pg, const unsigned char *body, aimark__meta *meta)
{
	int cont = (pg->flags & F_CONTINUED) != 0;
	RETURN_IF(cont != s->in_progress, AIMARK_EFORMAT, "Ogg: page at offset %llu (stream %08x) %s", (unsigned long long)pg->off,
		  pg->serial, cont ? "continues a packet that never started" : "starts a packet before the previous one ended");
	uint64_t base = pg->off + pg->hdr_len;
	size_t boff = 0, i = 0;
	int in_region = s->packet >= 1; /* every page from the comment's first to the last header page */
	while (i < pg->nseg) {
		size_t run = 0;
		int ends = 0;
		while (i < pg->nseg) {
			unsigned len = pg->hdr[PAGE_HDR + i++];
			run += len;
			if (len < 255) {
				ends = 1;
				break;
			}
		}
		if (s->headers_done) {
			s->shared_tail = 1;
			RETURN_IF_ERR(aimark__meta_add_essence(meta, base + boff, run));
		} else if (s->packet == 0) {
			if (!s->in_progress) {
				const unsigned char *p = body + boff;
				s->codec = run >= 7 && memcmp(p, "\x01vorbis", 7) == 0 ? C_VORBIS
					 : run >= 8 && memcmp(p, "OpusHead", 8) == 0 ? C_OPUS
					 : C_OTHER;
			}
			if (s->codec == C_OTHER) {
				s->headers_done = 1;
				return aimark__meta_add_essence(meta, base + boff, pg->body_len - boff);
			}
			RETURN_IF_ERR(aimark__meta_add_essence(meta, base + boff, run));
		} else if (s->packet == 1) {
			if (!s->in_progress) {
				s->region_first = pg->off;
				s->first_seq = pg->seq;
				s->shared_head = boff != 0;
			}
			RETURN_IF_ERR(keep(l, &s->comment, body + boff, run, pg->off));
			in_region = 1;
		} else {
			RETURN_IF_ERR(keep(l, &s->setup, body + boff, run, pg->off));
			RETURN_IF_ERR(aimark__meta_add_essence(meta, base + boff, run));
			in_region = 1;
		}
		boff += run;
		s->in_progress = !ends;
		if (ends && !s->headers_done && ++s->packet == (unsigned)header_count(s)) {
			s->headers_done = 1;
			s->region_last = pg->off;
			s->region_eos = (pg->flags & F_EOS) != 0;
		}
	}
	s->region_pages += (uint32_t)in_region;
	return 0;
}

static int new_stream(ogg_layout *l, uint32_t serial)
{
	RETURN_IF(l->n >= MAX_STREAMS, AIMARK_ELIMIT, "Ogg: more than %d logical streams", MAX_STREAMS);
	RETURN_IF_ARRAY_FULL_GROW(l->streams, l->cap, l->n, 4);
	memset(&l->streams[l->n], 0, sizeof l->streams[l->n]);
	l->streams[l->n++].serial = serial;
	return 0;
}

/* Bytes after the last page: accepted (kept, not essence) when short and holding no page. */
static int trailing(aimark_source *src, aimark__meta *meta, uint64_t off, uint64_t fsize)
{
	uint64_t n = fsize - off;
	RETURN_IF(n > MAX_TRAILING_JUNK, AIMARK_EFORMAT, "Ogg: no page (OggS capture pattern) at offset %llu", (unsigned long long)off);
	aimark_buf buf = AIMARK_BUF_INIT;
	int rc = aimark__buf_reserve(&buf, (size_t)n);
	if (rc >= 0)
		rc = aimark_source_read(src, off, buf.ptr, (size_t)n);
	for (size_t i = 0; rc >= 0 && i + 4 <= n; i++)
		if (memcmp(buf.ptr + i, "OggS", 4) == 0)
			rc = aimark__error_set(AIMARK_EFORMAT, "Ogg: %zu bytes of garbage before the page at offset %llu", i,
					       (unsigned long long)(off + i));
	aimark_buf_dispose(&buf);
	RETURN_IF_ERR(rc);
	return aimark__findings_add(meta->findings, AIMARK_SEVERITY_INFO, "ogg-trailing-data",
				    "Ogg: %llu bytes after the last page at offset %llu", (unsigned long long)n, (unsigned long long)off);
}

static int walk_pages(aimark_source *src, aimark__meta *meta, ogg_layout *l, unsigned char *body)
{
	uint64_t pos = 0;
	int warned_orphan = 0, warned_crc = 0;
	while (pos < l->file_size) {
		ogg_page pg;
		int r = page_header(src, pos, l->file_size, &pg);
		RETURN_IF_ERR(r);
		if (r == 1) {
			RETURN_IF(pos == 0, AIMARK_EFORMAT, "Ogg: no page (OggS capture pattern) at offset 0");
			RETURN_IF_ERR(trailing(src, meta, pos, l->file_size));
			break;
		}
		if (pg.flags & F_BOS)
			RETURN_IF_ERR(new_stream(l, pg.serial));
		size_t k = (pg.flags & F_BOS) ? l->n - 1 : stream_index(l, l->n, pg.serial);
		ogg_stream *s = k != SIZE_MAX ? &l->streams[k] : NULL;
		if (s && !s->headers_done) {
			RETURN_IF_ERR(aimark_source_read(src, pos + pg.hdr_len, body, pg.body_len));
			if (!page_crc_ok(&pg, body) && !warned_crc++)
				RETURN_IF_ERR(aimark__findings_add(meta->findings, AIMARK_SEVERITY_WARNING, "ogg-crc",
								   "Ogg: page at offset %llu has a wrong CRC", (unsigned long long)pos));
			RETURN_IF_ERR(track_page(l, s, &pg, body, meta));
		} else {
			if (!s && !warned_orphan++)
				RETURN_IF_ERR(aimark__findings_add(meta->findings, AIMARK_SEVERITY_WARNING, "ogg-orphan-page",
								   "Ogg: page at offset %llu belongs to stream %08x that never began",
								   (unsigned long long)pos, pg.serial));
			RETURN_IF_ERR(aimark__meta_add_essence(meta, pos + pg.hdr_len, pg.body_len));
		}
		pos += pg.hdr_len + pg.body_len;
	}
	l->pages_end = pos < l->file_size ? pos : l->file_size;
	return 0;
}

/* Finds the labels in the comment packets. */
static int read_comments(ogg_layout *l, aimark__meta *meta)
{
	for (size_t i = 0; i < l->n; i++) {
		ogg_stream *s = &l->streams[i];
		if (s->codec != C_VORBIS && s->codec != C_OPUS)
			continue;
		const char *what = s->codec == C_VORBIS ? "Ogg Vorbis" : "Ogg Opus";
		if (!s->headers_done || s->packet < 2) {
			RETURN_IF_ERR(aimark__findings_add(meta->findings, AIMARK_SEVERITY_WARNING, "ogg-headers-truncated",
							   "%s: stream %08x ends before its header packets", what, s->serial));
			continue;
		}
		const char *magic = s->codec == C_VORBIS ? "\x03vorbis" : "OpusTags";
		size_t ml = strlen(magic);
		int n = AIMARK_EFORMAT;
		if (s->comment.size >= ml && memcmp(s->comment.ptr, magic, ml) == 0)
			n = aimark__vorbis_comment_read(s->comment.ptr + ml, s->comment.size - ml, what,
							s->region_first, meta, NULL);
		if (n == AIMARK_EFORMAT) {
			s->comment_bad = 1;
			RETURN_IF_ERR(aimark__findings_add(meta->findings, AIMARK_SEVERITY_WARNING, "vorbis-comment-invalid",
							   "%s: stream %08x has a malformed comment header at offset %llu", what,
							   s->serial, (unsigned long long)s->region_first));
			continue;
		}
		RETURN_IF_ERR(n);
	}
	return 0;
}

static int ogg_read(aimark_source *src, aimark__meta *meta)
{
	ogg_layout *l = aimark__calloc(1, sizeof *l);
	RETURN_ENOMEM_IF_NULL(l);
	l->file_size = aimark_source_size(src);
	unsigned char *body = aimark__malloc(255 * 255);
	int rc = body ? walk_pages(src, meta, l, body) : aimark__error_set(AIMARK_ENOMEM, "out of memory");
	aimark__free(body);
	if (rc >= 0)
		rc = read_comments(l, meta);
	if (rc < 0) {
		layout_free(l);
		return rc;
	}
	meta->priv = l;
	meta->priv_free = layout_free;
	return 0;
}

/* ---- writing ---- */

typedef struct stream_out {
	int label;           /* this stream gets the label */
	aimark_buf comment;  /* the new comment packet */
	uint32_t pages;      /* pages of the new header region */
	uint32_t delta;      /* added to later page sequence numbers (mod 2^32) */
} stream_out;

/*
 * Lays the packets out in pages of up to 255 segments (header packets have
 * granule position 0 where a packet ends, -1 elsewhere). Appends the pages
 * to `out` when not NULL; always counts them.
 */
static int paginate(const ogg_stream *s, const aimark_buf *const pk[], size_t npk, aimark_buf *out, uint32_t *pages)
{
	size_t j = 0, off = 0;
	uint32_t count = 0;
	while (j < npk) {
		static const unsigned char placeholder[PAGE_HDR];
		unsigned char hdr[PAGE_HDR + 255];
		size_t nseg = 0, start = out ? out->size : 0;
		int cont = off > 0, ended = 0;
		if (out)
			RETURN_IF_ERR(aimark__buf_append(out, placeholder, PAGE_HDR)); /* header written below */
		while (nseg < 255 && j < npk) {
			size_t rem = pk[j]->size - off, len = rem >= 255 ? 255 : rem;
			hdr[PAGE_HDR + nseg++] = (unsigned char)len;
			if (out)
				RETURN_IF_ERR(aimark__buf_append(out, pk[j]->ptr + off, len));
			off += len;
			if (len < 255) {
				j++, off = 0, ended = 1;
			}
		}
		count++;
		if (!out)
			continue;
		memcpy(hdr, "OggS", 4);
		hdr[4] = 0;
		hdr[5] = (unsigned char)((cont ? F_CONTINUED : 0) | (j == npk && s->region_eos ? F_EOS : 0));
		memset(hdr + 6, ended ? 0x00 : 0xFF, 8);
		aimark__put_le32(hdr + 14, s->serial);
		aimark__put_le32(hdr + 18, s->first_seq + count - 1);
		hdr[26] = (unsigned char)nseg;
		/* the body was appended after a 27-byte placeholder: make room for the segment table */
		size_t body = out->size - start - PAGE_HDR;
		RETURN_IF_ERR(aimark__buf_reserve(out, nseg));
		memmove(out->ptr + start + PAGE_HDR + nseg, out->ptr + start + PAGE_HDR, body);
		memcpy(out->ptr + start, hdr, PAGE_HDR + nseg);
		out->size += nseg;
		out->ptr[out->size] = '\0';
		page_set_crc(out->ptr + start, out->size - start);
	}
	*pages = count;
	return 0;
}

static int prepare(const ogg_layout *l, const aimark__label_write *lw, stream_out *so)
{
	int any = 0;
	for (size_t i = 0; i < l->n; i++) {
		const ogg_stream *s = &l->streams[i];
		if (s->codec != C_VORBIS && s->codec != C_OPUS)
			continue;
		const char *what = s->codec == C_VORBIS ? "Ogg Vorbis" : "Ogg Opus";
		RETURN_IF(!s->headers_done || s->packet < 2, AIMARK_EFORMAT, "%s: stream %08x ends before its header packets", what, s->serial);
		RETURN_IF(s->comment_bad, AIMARK_EFORMAT, "%s: stream %08x has a malformed comment header; not rewriting it", what, s->serial);
		RETURN_IF(s->shared_head, AIMARK_EUNSUPPORTED, "%s: the comment header of stream %08x shares a page with the identification header",
			  what, s->serial);
		RETURN_IF(s->shared_tail, AIMARK_EUNSUPPORTED, "%s: audio data of stream %08x shares a page with its header packets (page at offset %llu)",
			  what, s->serial, (unsigned long long)s->region_last);
		size_t ml = s->codec == C_VORBIS ? 7 : 8, end = 0;
		stream_out *o = &so[i];
		RETURN_IF_ERR(aimark__buf_append(&o->comment, s->comment.ptr, ml));
		RETURN_IF_ERR(aimark__vorbis_comment_set(s->comment.ptr + ml, s->comment.size - ml, what, lw->bare_json, lw->bare_len,
							 &o->comment, &end));
		/* framing bit (Vorbis) or extra binary data (Opus) after the fields */
		size_t tail = ml + end;
		if (tail < s->comment.size)
			RETURN_IF_ERR(aimark__buf_append(&o->comment, s->comment.ptr + tail, s->comment.size - tail));
		else if (s->codec == C_VORBIS)
			RETURN_IF_ERR(aimark__buf_append(&o->comment, "\x01", 1));
		const aimark_buf *pk[2] = { &o->comment, &s->setup };
		RETURN_IF_ERR(paginate(s, pk, s->codec == C_VORBIS ? 2 : 1, NULL, &o->pages));
		o->delta = o->pages - s->region_pages;
		o->label = 1;
		any = 1;
	}
	RETURN_IF(!any, AIMARK_EUNSUPPORTED, "Ogg: no Vorbis or Opus stream to label");
	return 0;
}

static int emit(aimark_source *src, const ogg_layout *l, const stream_out *so, aimark_sink *sink, unsigned char *page)
{
	uint64_t pos = 0, copy_from = 0;
	size_t created = 0;
	aimark_buf built = AIMARK_BUF_INIT;
	int rc = 0;
	while (rc >= 0 && pos < l->pages_end) {
		ogg_page pg;
		rc = page_header(src, pos, l->file_size, &pg);
		if (rc != 0) {
			if (rc == 1)
				rc = aimark__error_set(AIMARK_EFORMAT, "Ogg: the input changed: no page at offset %llu", (unsigned long long)pos);
			break;
		}
		size_t k = SIZE_MAX;
		if (pg.flags & F_BOS)
			k = created < l->n ? created++ : SIZE_MAX;
		else
			k = stream_index(l, created, pg.serial);
		const ogg_stream *s = k != SIZE_MAX ? &l->streams[k] : NULL;
		uint64_t next = pos + pg.hdr_len + pg.body_len;
		int start = 0, skip = 0, renumber = 0;
		if (s && so[k].label) {
			start = pos == s->region_first;
			skip = pos > s->region_first && pos <= s->region_last;
			renumber = pos > s->region_last && so[k].delta != 0;
		}
		if (!(start || skip || renumber)) {
			pos = next;
			continue;
		}
		rc = aimark__sink_copy_range(sink, src, copy_from, pos - copy_from);
		if (rc >= 0 && start) {
			const aimark_buf *pk[2] = { &so[k].comment, &s->setup };
			uint32_t n;
			aimark__buf_clear(&built);
			rc = paginate(s, pk, s->codec == C_VORBIS ? 2 : 1, &built, &n);
			if (rc >= 0)
				rc = aimark_sink_write(sink, built.ptr, built.size);
		} else if (rc >= 0 && renumber) {
			size_t len = pg.hdr_len + pg.body_len;
			rc = aimark_source_read(src, pos, page, len);
			if (rc >= 0) {
				aimark__put_le32(page + 18, pg.seq + so[k].delta);
				page_set_crc(page, len);
				rc = aimark_sink_write(sink, page, len);
			}
		}
		pos = copy_from = next;
	}
	aimark_buf_dispose(&built);
	RETURN_IF_ERR(rc);
	return aimark__sink_copy_range(sink, src, copy_from, l->file_size - copy_from);
}

static int ogg_write(aimark_source *src, const aimark__meta *meta, const aimark__label_provider *label, aimark_sink *sink)
{
	const ogg_layout *l = meta->priv;
	RETURN_IF(l == NULL, AIMARK_EINVAL, "Ogg: write without a successful read");
	const aimark__label_write *lw;
	RETURN_IF_ERR(label->get(label->ctx, &lw));
	stream_out *so = aimark__calloc(l->n ? l->n : 1, sizeof *so);
	unsigned char *page = aimark__malloc(PAGE_HDR + 255 + 255 * 255);
	int rc = so && page ? prepare(l, lw, so) : aimark__error_set(AIMARK_ENOMEM, "out of memory");
	if (rc >= 0)
		rc = emit(src, l, so, sink, page);
	for (size_t i = 0; so && i < l->n; i++)
		aimark_buf_dispose(&so[i].comment);
	aimark__free(so);
	aimark__free(page);
	return rc;
}

static const char *const ogg_extensions[] = { "ogg", "oga", "opus", NULL };

const aimark__format_ops aimark__format_ogg = {
	.name = "ogg",
	.extensions = ogg_extensions,
	.probe = ogg_probe,
	.read = ogg_read,
	.write = ogg_write,
};

/* Ogg backend: Vorbis and Opus comment headers, repagination, sequence numbers, CRCs, essence. */
#define _GNU_SOURCE /* memmem */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "core/internal.h"
#include "format/format.h"

extern const aimark__format_ops aimark__format_ogg;
#define OGG (&aimark__format_ogg)

static const aimark__label_write LABEL_A = TU_LABEL("aimark-ogg-0001");
static const aimark__label_write LABEL_B = TU_LABEL("aimark-ogg-0002");
#define FFMPEG_JSON "{\"Label\":\"1\",\"ContentProducer\":\"ffmpeg\",\"ProduceID\":\"x1\"}"

/* ---- helpers ---- */

/* Bit-at-a-time Ogg CRC, independent of the library's table. */
static uint32_t crc_ogg(const unsigned char *p, size_t n)
{
	uint32_t crc = 0;
	for (size_t i = 0; i < n; i++) {
		crc ^= (uint32_t)p[i] << 24;
		for (int k = 0; k < 8; k++)
			crc = (crc & 0x80000000u) ? (crc << 1) ^ 0x04c11db7u : crc << 1;
	}
	return crc;
}

static void fix_crc(unsigned char *page, size_t len)
{
	memset(page + 22, 0, 4);
	aimark__put_le32(page + 22, crc_ogg(page, len));
}

typedef struct page_info {
	size_t off, hdr_len, body_len;
	unsigned flags;
	uint32_t serial, seq;
} page_info;

/* Walks the pages; every CRC must be right. Returns the page count. */
static size_t walk(const unsigned char *d, size_t n, page_info *pages, size_t max)
{
	size_t pos = 0, count = 0;
	while (pos + 27 <= n && memcmp(d + pos, "OggS", 4) == 0) {
		assert_true(count < max);
		page_info *pg = &pages[count++];
		pg->off = pos;
		pg->flags = d[pos + 5];
		pg->serial = aimark__le32(d + pos + 14);
		pg->seq = aimark__le32(d + pos + 18);
		pg->hdr_len = 27 + d[pos + 26];
		pg->body_len = 0;
		for (size_t i = 0; i < d[pos + 26]; i++)
			pg->body_len += d[pos + 27 + i];
		unsigned char *copy = malloc(pg->hdr_len + pg->body_len);
		memcpy(copy, d + pos, pg->hdr_len + pg->body_len);
		memset(copy + 22, 0, 4);
		assert_int_equal(crc_ogg(copy, pg->hdr_len + pg->body_len), aimark__le32(d + pos + 22));
		free(copy);
		pos += pg->hdr_len + pg->body_len;
	}
	return count;
}

/* CRCs right and, per logical stream, sequence numbers 0, 1, 2, ... */
static void check_pages(const unsigned char *d, size_t n)
{
	page_info pages[512];
	size_t c = walk(d, n, pages, 512);
	assert_true(c > 0);
	for (size_t i = 0; i < c; i++) {
		uint32_t expect = 0;
		for (size_t j = 0; j < i; j++)
			if (pages[j].serial == pages[i].serial)
				expect = pages[j].seq + 1;
		if (pages[i].flags & 2)
			expect = 0;
		assert_int_equal(pages[i].seq, expect);
	}
}

/* ffprobe shows the label as a stream tag, the audio stream hash is unchanged, decoding is clean. */
static void ffmpeg_check(const char *orig, const aimark_buf *out, const aimark__label_write *label, const char *ext)
{
	const tu_media m = { ext, "stream", "0:a" };
	tu_ffmpeg_check(&m, orig, out->ptr, out->size, label->bare_json, label->bare_len, NULL);
}

/* ---- tests ---- */

static void test_probe(void **state)
{
	(void)state;
	assert_true(OGG->probe((const unsigned char *)"OggS\0\x02", 6));
	assert_false(OGG->probe((const unsigned char *)"OggS\x01\x02", 6));
	assert_false(OGG->probe((const unsigned char *)"Ogg", 3));
	assert_ptr_equal(aimark__format_find("ogg"), OGG);
}

static void roundtrip(const char *file, const char *ext, int vorbis)
{
	size_t n;
	unsigned char *in = tu_read_file(file, &n);
	tu_parsed p;
	tu_parse(OGG, in, n, &p);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.meta.n_carriers, 0);
	assert_int_equal(p.meta.essence[0].offset, 28); /* the identification header */
	assert_int_equal(p.meta.essence[0].length, vorbis ? 30 : 19);
	tu_parsed_free(&p);

	aimark_buf out = AIMARK_BUF_INIT;
	tu_mark(OGG, in, n, &LABEL_A, &out);
	check_pages(out.ptr, out.size);
	tu_assert_labels(OGG, out.ptr, out.size, "vorbis-comment", LABEL_A.bare_json, LABEL_A.bare_len, 1);
	assert_non_null(memmem(out.ptr, out.size, "\x0a\0\0\0title=Sine", 14));
	tu_assert_same_essence(OGG, in, n, out.ptr, out.size, 1);
	/* the BOS page and the audio pages are the same bytes */
	assert_memory_equal(out.ptr, in, vorbis ? 58 : 47);
	size_t tail = vorbis ? 3381 - 2634 : 1221 - 135;
	assert_memory_equal(out.ptr + out.size - tail, in + n - tail, tail);
	ffmpeg_check(file, &out, &LABEL_A, ext);

	aimark_buf again = AIMARK_BUF_INIT;
	tu_mark(OGG, out.ptr, out.size, &LABEL_B, &again);
	assert_int_equal(again.size, out.size);
	tu_assert_labels(OGG, again.ptr, again.size, "vorbis-comment", LABEL_B.bare_json, LABEL_B.bare_len, 1);
	aimark_buf_dispose(&out);
	aimark_buf_dispose(&again);
	free(in);
}

static void test_vorbis(void **state)
{
	(void)state;
	roundtrip(TU_DATA("ogg/sine-vorbis.ogg"), "ogg", 1);
}

static void test_opus(void **state)
{
	(void)state;
	roundtrip(TU_DATA("ogg/sine-opus.opus"), "opus", 0);
}

/* A 100 KB label spans several pages; later pages are renumbered; shrinking renumbers them back. */
static void test_multi_page_comment(void **state)
{
	(void)state;
	const char *files[] = { TU_DATA("ogg/sine-vorbis.ogg"), TU_DATA("ogg/sine-opus.opus") };
	const char *exts[] = { "ogg", "opus" };
	size_t big_len = 100000;
	char *big = malloc(big_len);
	for (size_t i = 0; i < big_len; i++)
		big[i] = (char)('a' + i % 26);
	big[0] = '{', big[big_len - 1] = '}';
	aimark__label_write big_label = { big, big_len, big, big_len };
	for (int f = 0; f < 2; f++) {
		size_t n;
		unsigned char *in = tu_read_file(files[f], &n);
		page_info before[64], after[64];
		size_t pb = walk(in, n, before, 64);
		aimark_buf out = AIMARK_BUF_INIT, back = AIMARK_BUF_INIT;
		tu_mark(OGG, in, n, &big_label, &out);
		size_t pa = walk(out.ptr, out.size, after, 64);
		assert_true(pa >= pb + 1);
		check_pages(out.ptr, out.size);
		tu_assert_labels(OGG, out.ptr, out.size, "vorbis-comment", big, big_len, 1);
		tu_assert_same_essence(OGG, in, n, out.ptr, out.size, 1);
		/* the last audio page: same payload, new sequence number */
		assert_int_equal(after[pa - 1].seq, before[pb - 1].seq + (pa - pb));
		assert_memory_equal(out.ptr + after[pa - 1].off + 27, in + before[pb - 1].off + 27,
				    before[pb - 1].hdr_len - 27 + before[pb - 1].body_len);
		ffmpeg_check(files[f], &out, &big_label, exts[f]);

		tu_mark(OGG, out.ptr, out.size, &LABEL_A, &back);
		check_pages(back.ptr, back.size);
		assert_int_equal(walk(back.ptr, back.size, after, 64), pb);
		tu_assert_labels(OGG, back.ptr, back.size, "vorbis-comment", LABEL_A.bare_json, LABEL_A.bare_len, 1);
		tu_assert_same_essence(OGG, in, n, back.ptr, back.size, 1);
		ffmpeg_check(files[f], &back, &LABEL_A, exts[f]);
		aimark_buf_dispose(&out);
		aimark_buf_dispose(&back);
		free(in);
	}
	free(big);
}

static void test_ffmpeg_labelled(void **state)
{
	(void)state;
	const char *files[] = { TU_DATA("ogg/ffmpeg-aigc.ogg"), TU_DATA("ogg/ffmpeg-aigc.opus") };
	for (int f = 0; f < 2; f++) {
		size_t n;
		unsigned char *in = tu_read_file(files[f], &n);
		tu_assert_labels(OGG, in, n, "vorbis-comment", FFMPEG_JSON, strlen(FFMPEG_JSON), 1);
		aimark_buf out = AIMARK_BUF_INIT;
		tu_mark(OGG, in, n, &LABEL_A, &out);
		tu_assert_labels(OGG, out.ptr, out.size, "vorbis-comment", LABEL_A.bare_json, LABEL_A.bare_len, 1);
		assert_int_equal(memmem(out.ptr, out.size, "AIGC=", 5) == memmem(out.ptr, out.size, "AIGC", 4), 1);
		tu_assert_same_essence(OGG, in, n, out.ptr, out.size, 1);
		aimark_buf_dispose(&out);
		free(in);
	}
}

/* Chained streams (Vorbis then Opus, serials 0 and 77): each comment header gets the label. */
static void test_chained(void **state)
{
	(void)state;
	size_t a, b;
	unsigned char *va = tu_read_file(TU_DATA("ogg/sine-vorbis.ogg"), &a);
	unsigned char *ob = tu_read_file(TU_DATA("ogg/sine-opus.opus"), &b);
	aimark_buf in = AIMARK_BUF_INIT, out = AIMARK_BUF_INIT;
	assert_int_equal(aimark__buf_append(&in, va, a), 0);
	assert_int_equal(aimark__buf_append(&in, ob, b), 0);
	tu_mark(OGG, in.ptr, in.size, &LABEL_A, &out);
	check_pages(out.ptr, out.size);
	tu_assert_labels(OGG, out.ptr, out.size, "vorbis-comment", LABEL_A.bare_json, LABEL_A.bare_len, 2);
	tu_assert_same_essence(OGG, in.ptr, in.size, out.ptr, out.size, 1);
	aimark_buf_dispose(&in);
	aimark_buf_dispose(&out);
	free(va);
	free(ob);
}

/* Bytes after the last page (an ID3v1 tag some taggers append) are kept and left out of the essence. */
static void test_trailing_bytes(void **state)
{
	(void)state;
	size_t n;
	unsigned char *in = tu_read_file(TU_DATA("ogg/sine-opus.opus"), &n);
	aimark_buf b = AIMARK_BUF_INIT, out = AIMARK_BUF_INIT;
	assert_int_equal(aimark__buf_append(&b, in, n), 0);
	unsigned char v1[128] = "TAG";
	assert_int_equal(aimark__buf_append(&b, v1, sizeof v1), 0);
	tu_parsed p;
	tu_parse(OGG, b.ptr, b.size, &p);
	assert_int_equal(p.rc, 0);
	assert_true(aimark_findings_has(p.findings, "ogg-trailing-data"));
	tu_parsed_free(&p);
	tu_mark(OGG, b.ptr, b.size, &LABEL_A, &out);
	assert_memory_equal(out.ptr + out.size - 128, v1, 128);
	tu_assert_same_essence(OGG, in, n, out.ptr, out.size, 1);
	aimark_buf_dispose(&b);
	aimark_buf_dispose(&out);
	free(in);
}

/* Opus whose first audio packet shares the comment header's page: read, but not rewritten. */
static void test_shared_page(void **state)
{
	(void)state;
	size_t n;
	unsigned char *in = tu_read_file(TU_DATA("ogg/sine-opus.opus"), &n);
	page_info pg[16];
	size_t c = walk(in, n, pg, 16);
	assert_true(c >= 3);
	/* merge page 1 (OpusTags, one segment) with page 2 (audio) */
	aimark_buf b = AIMARK_BUF_INIT;
	assert_int_equal(aimark__buf_append(&b, in, pg[1].off), 0);
	size_t start = b.size, nseg = pg[1].hdr_len - 27 + pg[2].hdr_len - 27;
	assert_true(nseg <= 255);
	assert_int_equal(aimark__buf_append(&b, in + pg[2].off, 27), 0); /* page 2's header (granule) */
	b.ptr[start + 26] = (unsigned char)nseg;
	aimark__put_le32(b.ptr + start + 18, 1);
	assert_int_equal(aimark__buf_append(&b, in + pg[1].off + 27, pg[1].hdr_len - 27), 0);
	assert_int_equal(aimark__buf_append(&b, in + pg[2].off + 27, pg[2].hdr_len - 27), 0);
	assert_int_equal(aimark__buf_append(&b, in + pg[1].off + pg[1].hdr_len, pg[1].body_len), 0);
	assert_int_equal(aimark__buf_append(&b, in + pg[2].off + pg[2].hdr_len, pg[2].body_len), 0);
	fix_crc(b.ptr + start, b.size - start);
	for (size_t i = 3; i < c; i++) {
		size_t at = b.size, len = pg[i].hdr_len + pg[i].body_len;
		assert_int_equal(aimark__buf_append(&b, in + pg[i].off, len), 0);
		aimark__put_le32(b.ptr + at + 18, (uint32_t)(i - 1));
		fix_crc(b.ptr + at, len);
	}
	check_pages(b.ptr, b.size);
	tu_assert_labels(OGG, b.ptr, b.size, "vorbis-comment", NULL, 0, 0);
	aimark_buf out = AIMARK_BUF_INIT;
	assert_int_equal(tu_mark_rc(OGG, b.ptr, b.size, &LABEL_A, &out), AIMARK_EUNSUPPORTED);
	assert_non_null(strstr(aimark_error_last(), "shares a page"));
	aimark_buf_dispose(&b);
	aimark_buf_dispose(&out);
	free(in);
}

static void expect_rc(const void *d, size_t n, int rc, const char *needle)
{
	tu_expect_read_error(OGG, d, n, rc, NULL, needle);
}

static void test_bad_input(void **state)
{
	(void)state;
	size_t n;
	unsigned char *in = tu_read_file(TU_DATA("ogg/sine-vorbis.ogg"), &n);
	unsigned char *c = malloc(n);
	memcpy(c, in, n);
	c[0] = 'X';
	expect_rc(c, n, AIMARK_EFORMAT, "offset 0");
	memcpy(c, in, n);
	c[4] = 1; /* version */
	expect_rc(c, n, AIMARK_EFORMAT, "version");
	expect_rc(in, 40, AIMARK_EFORMAT, "payload"); /* page body cut */
	expect_rc(in, 20, AIMARK_EFORMAT, "truncated");
	memcpy(c, in, n);
	c[58 + 27] = 255; /* a lacing value that makes the page pass the end of the file */
	memset(c + 58 + 28, 255, 10);
	tu_parsed p;
	tu_parse(OGG, c, n, &p);
	assert_true(p.rc == AIMARK_EFORMAT);
	tu_parsed_free(&p);
	/* page 1 claims to continue a packet */
	memcpy(c, in, n);
	c[58 + 5] = 1;
	fix_crc(c + 58, 2634 - 58);
	expect_rc(c, n, AIMARK_EFORMAT, "continues a packet");
	/* garbage between pages */
	aimark_buf g = AIMARK_BUF_INIT;
	assert_int_equal(aimark__buf_append(&g, in, 58), 0);
	assert_int_equal(aimark__buf_append(&g, "junk", 4), 0);
	assert_int_equal(aimark__buf_append(&g, in + 58, n - 58), 0);
	expect_rc(g.ptr, g.size, AIMARK_EFORMAT, "garbage");
	aimark_buf_dispose(&g);

	/* a comment whose field count lies: reported, and not rewritten */
	memcpy(c, in, n);
	size_t vendor = aimark__le32(c + 58 + 27 + 11 + 7);
	c[58 + 27 + 11 + 7 + 4 + vendor] = 0x77;
	fix_crc(c + 58, 2634 - 58);
	tu_parse(OGG, c, n, &p);
	assert_int_equal(p.rc, 0);
	assert_true(aimark_findings_has(p.findings, "vorbis-comment-invalid"));
	tu_parsed_free(&p);
	aimark_buf out = AIMARK_BUF_INIT;
	assert_int_equal(tu_mark_rc(OGG, c, n, &LABEL_A, &out), AIMARK_EFORMAT);
	aimark_buf_dispose(&out);

	/* not Vorbis or Opus: readable, not writable */
	memcpy(c, in, n);
	c[28 + 1] = 'x';
	fix_crc(c, 58);
	tu_parse(OGG, c, n, &p);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.meta.n_carriers, 0);
	tu_parsed_free(&p);
	assert_int_equal(tu_mark_rc(OGG, c, n, &LABEL_A, &out), AIMARK_EUNSUPPORTED);
	aimark_buf_dispose(&out);

	/* a bad CRC is reported */
	memcpy(c, in, n);
	c[58 + 22] ^= 1;
	tu_parse(OGG, c, n, &p);
	assert_int_equal(p.rc, 0);
	assert_true(aimark_findings_has(p.findings, "ogg-crc"));
	tu_parsed_free(&p);

	/* every prefix: an error or a result, never a crash */
	tu_mark(OGG, in, n, &LABEL_A, &out);
	tu_assert_prefixes_read(OGG, out.ptr, out.size, SIZE_MAX, 11);
	aimark_buf_dispose(&out);
	free(c);
	free(in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe),
		cmocka_unit_test(test_vorbis),
		cmocka_unit_test(test_opus),
		cmocka_unit_test(test_multi_page_comment),
		cmocka_unit_test(test_ffmpeg_labelled),
		cmocka_unit_test(test_chained),
		cmocka_unit_test(test_trailing_bytes),
		cmocka_unit_test(test_shared_page),
		cmocka_unit_test(test_bad_input),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

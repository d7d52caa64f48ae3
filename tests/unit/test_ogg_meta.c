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

#define PRODUCER "001191110102MACQD9K64010000"
#define LABEL_BARE(id) \
	"{\"Label\":\"1\",\"ContentProducer\":\"" PRODUCER "\",\"ProduceID\":\"" id "\",\"ReservedCode1\":\"\"," \
	"\"ContentPropagator\":\"" PRODUCER "\",\"PropagateID\":\"" id "\",\"ReservedCode2\":\"\"}"
#define LABEL_WRAPPED(id) "{\"AIGC\":" LABEL_BARE(id) "}"
#define LW(id) { LABEL_BARE(id), sizeof LABEL_BARE(id) - 1, LABEL_WRAPPED(id), sizeof LABEL_WRAPPED(id) - 1 }

static const aimark__label_write LABEL_A = LW("aimark-ogg-0001");
static const aimark__label_write LABEL_B = LW("aimark-ogg-0002");
#define FFMPEG_JSON "{\"Label\":\"1\",\"ContentProducer\":\"ffmpeg\",\"ProduceID\":\"x1\"}"

/* ---- helpers ---- */

static int get_label(void *ctx, const aimark__label_write **out)
{
	*out = ctx;
	return 0;
}

typedef struct parsed {
	aimark_source *src;
	aimark__meta meta;
	aimark_findings *findings;
	int rc;
} parsed;

static void parse(const void *d, size_t n, parsed *p)
{
	assert_int_equal(aimark_source_new_memory(&p->src, d, n), 0);
	assert_int_equal(aimark_findings_new(&p->findings), 0);
	aimark__meta_init(&p->meta, p->findings);
	p->rc = OGG->read(p->src, &p->meta);
}

static void parsed_free(parsed *p)
{
	aimark__meta_dispose(&p->meta);
	aimark_findings_free(p->findings);
	aimark_source_free(p->src);
}

static int mark_rc(const void *d, size_t n, const aimark__label_write *label, aimark_buf *out)
{
	parsed p;
	parse(d, n, &p);
	if (p.rc != 0)
		fail_msg("read failed: %s", aimark_error_last());
	aimark_sink *sink;
	assert_int_equal(aimark_sink_new_buffer(&sink, out), 0);
	aimark__label_provider prov = { NULL, get_label, (void *)label };
	int rc = OGG->write(p.src, &p.meta, &prov, sink);
	aimark_sink_free(sink);
	parsed_free(&p);
	return rc;
}

static void mark(const void *d, size_t n, const aimark__label_write *label, aimark_buf *out)
{
	if (mark_rc(d, n, label, out) != 0)
		fail_msg("write failed: %s", aimark_error_last());
}

static int append(void *ctx, const void *data, size_t len) { return aimark__buf_append(ctx, data, len); }

static void essence(const void *d, size_t n, aimark_buf *out)
{
	parsed p;
	parse(d, n, &p);
	assert_int_equal(p.rc, 0);
	assert_int_equal(aimark__meta_hash_essence(p.src, &p.meta, append, out), 0);
	parsed_free(&p);
}

static void assert_same_essence(const void *a, size_t an, const void *b, size_t bn)
{
	aimark_buf ea = AIMARK_BUF_INIT, eb = AIMARK_BUF_INIT;
	essence(a, an, &ea);
	essence(b, bn, &eb);
	assert_true(ea.size > 0);
	assert_int_equal(ea.size, eb.size);
	assert_memory_equal(ea.ptr, eb.ptr, ea.size);
	aimark_buf_dispose(&ea);
	aimark_buf_dispose(&eb);
}

static void assert_labels(const void *d, size_t n, const char *json, size_t len, size_t expect)
{
	parsed p;
	parse(d, n, &p);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.meta.n_carriers, expect);
	for (size_t i = 0; i < expect; i++) {
		assert_string_equal(p.meta.carriers[i].kind, "vorbis-comment");
		assert_int_equal(p.meta.carriers[i].len, len);
		assert_memory_equal(p.meta.carriers[i].text, json, len);
	}
	parsed_free(&p);
}

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

static int have_ffmpeg(void) { return system("command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1") == 0; }

static char *run(const char *cmd)
{
	FILE *f = popen(cmd, "r");
	assert_non_null(f);
	size_t cap = 4096, n = 0, k;
	char *s = malloc(cap);
	while ((k = fread(s + n, 1, cap - n - 1, f)) > 0) {
		n += k;
		if (cap - n < 2)
			s = realloc(s, cap *= 2);
	}
	s[n] = '\0';
	pclose(f);
	return s;
}

/* ffprobe shows the label as a stream tag, the audio stream hash is unchanged, decoding is clean. */
static void ffmpeg_check(const char *orig, const aimark_buf *out, const aimark__label_write *label, const char *ext)
{
	if (!have_ffmpeg())
		return;
	char *dir = tu_tempdir();
	const char *path = tu_path("%s/out.%s", dir, ext);
	tu_write_file(path, out->ptr, out->size);
	char *tag = run(tu_path("ffprobe -v error -show_entries stream_tags=AIGC -of default=nw=1:nk=1 '%s'", path));
	assert_int_equal(strlen(tag), label->bare_len + 1);
	assert_memory_equal(tag, label->bare_json, label->bare_len);
	free(tag);
	char *ha = run(tu_path("ffmpeg -v error -i '%s' -map 0:a -c copy -f streamhash - 2>&1", orig));
	char *hb = run(tu_path("ffmpeg -v error -i '%s' -map 0:a -c copy -f streamhash - 2>&1", path));
	assert_non_null(strstr(ha, "SHA256"));
	assert_string_equal(ha, hb);
	free(ha);
	free(hb);
	char *dec = run(tu_path("ffmpeg -v error -i '%s' -f null - 2>&1", path));
	assert_string_equal(dec, "");
	free(dec);
	tu_rmtree(dir);
	free(dir);
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
	parsed p;
	parse(in, n, &p);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.meta.n_carriers, 0);
	assert_int_equal(p.meta.essence[0].offset, 28); /* the identification header */
	assert_int_equal(p.meta.essence[0].length, vorbis ? 30 : 19);
	parsed_free(&p);

	aimark_buf out = AIMARK_BUF_INIT;
	mark(in, n, &LABEL_A, &out);
	check_pages(out.ptr, out.size);
	assert_labels(out.ptr, out.size, LABEL_A.bare_json, LABEL_A.bare_len, 1);
	assert_non_null(memmem(out.ptr, out.size, "\x0a\0\0\0title=Sine", 14));
	assert_same_essence(in, n, out.ptr, out.size);
	/* the BOS page and the audio pages are the same bytes */
	assert_memory_equal(out.ptr, in, vorbis ? 58 : 47);
	size_t tail = vorbis ? 3381 - 2634 : 1221 - 135;
	assert_memory_equal(out.ptr + out.size - tail, in + n - tail, tail);
	ffmpeg_check(file, &out, &LABEL_A, ext);

	aimark_buf again = AIMARK_BUF_INIT;
	mark(out.ptr, out.size, &LABEL_B, &again);
	assert_int_equal(again.size, out.size);
	assert_labels(again.ptr, again.size, LABEL_B.bare_json, LABEL_B.bare_len, 1);
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
		mark(in, n, &big_label, &out);
		size_t pa = walk(out.ptr, out.size, after, 64);
		assert_true(pa >= pb + 1);
		check_pages(out.ptr, out.size);
		assert_labels(out.ptr, out.size, big, big_len, 1);
		assert_same_essence(in, n, out.ptr, out.size);
		/* the last audio page: same payload, new sequence number */
		assert_int_equal(after[pa - 1].seq, before[pb - 1].seq + (pa - pb));
		assert_memory_equal(out.ptr + after[pa - 1].off + 27, in + before[pb - 1].off + 27,
				    before[pb - 1].hdr_len - 27 + before[pb - 1].body_len);
		ffmpeg_check(files[f], &out, &big_label, exts[f]);

		mark(out.ptr, out.size, &LABEL_A, &back);
		check_pages(back.ptr, back.size);
		assert_int_equal(walk(back.ptr, back.size, after, 64), pb);
		assert_labels(back.ptr, back.size, LABEL_A.bare_json, LABEL_A.bare_len, 1);
		assert_same_essence(in, n, back.ptr, back.size);
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
		assert_labels(in, n, FFMPEG_JSON, strlen(FFMPEG_JSON), 1);
		aimark_buf out = AIMARK_BUF_INIT;
		mark(in, n, &LABEL_A, &out);
		assert_labels(out.ptr, out.size, LABEL_A.bare_json, LABEL_A.bare_len, 1);
		assert_int_equal(memmem(out.ptr, out.size, "AIGC=", 5) == memmem(out.ptr, out.size, "AIGC", 4), 1);
		assert_same_essence(in, n, out.ptr, out.size);
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
	mark(in.ptr, in.size, &LABEL_A, &out);
	check_pages(out.ptr, out.size);
	assert_labels(out.ptr, out.size, LABEL_A.bare_json, LABEL_A.bare_len, 2);
	assert_same_essence(in.ptr, in.size, out.ptr, out.size);
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
	parsed p;
	parse(b.ptr, b.size, &p);
	assert_int_equal(p.rc, 0);
	assert_true(aimark_findings_has(p.findings, "ogg-trailing-data"));
	parsed_free(&p);
	mark(b.ptr, b.size, &LABEL_A, &out);
	assert_memory_equal(out.ptr + out.size - 128, v1, 128);
	assert_same_essence(in, n, out.ptr, out.size);
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
	assert_labels(b.ptr, b.size, NULL, 0, 0);
	aimark_buf out = AIMARK_BUF_INIT;
	assert_int_equal(mark_rc(b.ptr, b.size, &LABEL_A, &out), AIMARK_EUNSUPPORTED);
	assert_non_null(strstr(aimark_error_last(), "shares a page"));
	aimark_buf_dispose(&b);
	aimark_buf_dispose(&out);
	free(in);
}

static void expect_rc(const void *d, size_t n, int rc, const char *needle)
{
	parsed p;
	parse(d, n, &p);
	assert_int_equal(p.rc, rc);
	if (needle && !strstr(aimark_error_last(), needle))
		fail_msg("message '%s' lacks '%s'", aimark_error_last(), needle);
	parsed_free(&p);
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
	parsed p;
	parse(c, n, &p);
	assert_true(p.rc == AIMARK_EFORMAT);
	parsed_free(&p);
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
	parse(c, n, &p);
	assert_int_equal(p.rc, 0);
	assert_true(aimark_findings_has(p.findings, "vorbis-comment-invalid"));
	parsed_free(&p);
	aimark_buf out = AIMARK_BUF_INIT;
	assert_int_equal(mark_rc(c, n, &LABEL_A, &out), AIMARK_EFORMAT);
	aimark_buf_dispose(&out);

	/* not Vorbis or Opus: readable, not writable */
	memcpy(c, in, n);
	c[28 + 1] = 'x';
	fix_crc(c, 58);
	parse(c, n, &p);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.meta.n_carriers, 0);
	parsed_free(&p);
	assert_int_equal(mark_rc(c, n, &LABEL_A, &out), AIMARK_EUNSUPPORTED);
	aimark_buf_dispose(&out);

	/* a bad CRC is reported */
	memcpy(c, in, n);
	c[58 + 22] ^= 1;
	parse(c, n, &p);
	assert_int_equal(p.rc, 0);
	assert_true(aimark_findings_has(p.findings, "ogg-crc"));
	parsed_free(&p);

	/* every prefix: an error or a result, never a crash */
	mark(in, n, &LABEL_A, &out);
	for (size_t k = 0; k < out.size; k += 11) {
		parse(out.ptr, k, &p);
		assert_true(p.rc == 0 || p.rc == AIMARK_EFORMAT);
		parsed_free(&p);
	}
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

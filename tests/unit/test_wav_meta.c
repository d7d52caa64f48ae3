/* WAV backend: RIFF/RF64 chunk walk, AIGC chunk, LIST/INFO and id3 carriers, essence, RF64 past 4 GiB. */
#define _GNU_SOURCE /* memmem */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "core/internal.h"
#include "format/format.h"

extern const aimark__format_ops aimark__format_wav;
#define WAV (&aimark__format_wav)
static const tu_media WAV_MEDIA = { "wav", "format", "0:a" };

#define LABEL_BARE_EVEN \
	"{\"Label\":\"1\",\"ContentProducer\":\"" TU_PRODUCER "\",\"ProduceID\":\"aimark-wav-2\",\"ReservedCode1\":\"\"," \
	"\"ContentPropagator\":\"" TU_PRODUCER "\",\"PropagateID\":\"aimark-wav-02\",\"ReservedCode2\":\"\"}"

static const aimark__label_write LABEL_A = TU_LABEL("aimark-wav-0001"); /* 211 bytes: odd */
static const aimark__label_write LABEL_B = TU_LABEL_OF(LABEL_BARE_EVEN); /* even */

/* ---- helpers ---- */

static void assert_one_label(const void *d, size_t n, const aimark__label_write *label, size_t expect_carriers)
{
	tu_parsed p;
	tu_parse(WAV, d, n, &p);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.meta.n_carriers, expect_carriers);
	for (size_t i = 0; i < p.meta.n_carriers; i++) {
		assert_int_equal(p.meta.carriers[i].len, label->bare_len);
		assert_memory_equal(p.meta.carriers[i].text, label->bare_json, label->bare_len);
	}
	tu_parsed_free(&p);
}

static void put_chunk(aimark_buf *b, const char *id, const void *data, size_t n)
{
	unsigned char h[8];
	memcpy(h, id, 4);
	aimark__put_le32(h + 4, (uint32_t)n);
	assert_int_equal(aimark__buf_append(b, h, 8), 0);
	assert_int_equal(aimark__buf_append(b, data, n), 0);
	if (n & 1)
		assert_int_equal(aimark__buf_append(b, "", 1), 0);
}

static const unsigned char FMT_PCM16_8K[16] = { 1, 0, 1, 0, 0x40, 0x1f, 0, 0, 0x80, 0x3e, 0, 0, 2, 0, 16, 0 };

static void start_riff(aimark_buf *b)
{
	assert_int_equal(aimark__buf_append(b, "RIFF\0\0\0\0WAVE", 12), 0);
	put_chunk(b, "fmt ", FMT_PCM16_8K, 16);
}

static void end_riff(aimark_buf *b) { aimark__put_le32(b->ptr + 4, (uint32_t)(b->size - 8)); }

static void put_samples(aimark_buf *b, size_t n)
{
	unsigned char *s = malloc(n);
	for (size_t i = 0; i < n; i++)
		s[i] = (unsigned char)(i * 37 + (i >> 3));
	put_chunk(b, "data", s, n);
	free(s);
}

/* Offsets of chunk `id` at the top level of a RIFF buffer (or -1). */
static long find_chunk(const unsigned char *d, size_t n, const char *id, size_t nth)
{
	size_t pos = 12;
	if (memcmp(d, "RF64", 4) == 0)
		pos = 12 + 8 + aimark__le32(d + 16);
	while (pos + 8 <= n) {
		uint64_t sz = aimark__le32(d + pos + 4);
		if (memcmp(d + pos, id, 4) == 0 && nth-- == 0)
			return (long)pos;
		if (sz == 0xFFFFFFFFu)
			return -1;
		pos += 8 + sz + (sz & 1);
	}
	return -1;
}

/* ---- tests ---- */

static void test_probe(void **state)
{
	(void)state;
	assert_true(WAV->probe((const unsigned char *)"RIFF\x24\0\0\0WAVEfmt ", 16));
	assert_true(WAV->probe((const unsigned char *)"RF64\xff\xff\xff\xffWAVEds64", 16));
	assert_true(WAV->probe((const unsigned char *)"BW64\xff\xff\xff\xffWAVEds64", 16));
	assert_false(WAV->probe((const unsigned char *)"RIFF\x24\0\0\0WEBPVP8 ", 16));
	assert_false(WAV->probe((const unsigned char *)"RIFF\x24\0\0\0AVI LIST", 16));
	assert_false(WAV->probe((const unsigned char *)"RIFF", 4));
	assert_ptr_equal(aimark__format_find("wav"), WAV);
}

static void test_essence_ranges(void **state)
{
	(void)state;
	size_t n;
	unsigned char *in = tu_read_file(TU_DATA("wav/sine.wav"), &n);
	tu_parsed p;
	tu_parse(WAV, in, n, &p);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.meta.n_carriers, 0);
	assert_int_equal(aimark_findings_count(p.findings), 0);
	/* the fmt chunk whole, the data chunk's payload */
	assert_int_equal(p.meta.n_essence, 2);
	assert_int_equal(p.meta.essence[0].offset, 12);
	assert_int_equal(p.meta.essence[0].length, 24);
	assert_int_equal(p.meta.essence[1].offset, 44);
	assert_int_equal(p.meta.essence[1].length, 16000);
	tu_parsed_free(&p);
	free(in);
}

static void test_write_appends_chunk(void **state)
{
	(void)state;
	size_t n;
	unsigned char *in = tu_read_file(TU_DATA("wav/sine.wav"), &n);
	aimark_buf out = AIMARK_BUF_INIT;
	tu_mark(WAV, in, n, &LABEL_A, &out);
	/* everything before is unchanged but the RIFF size; the chunk is appended */
	assert_int_equal(LABEL_A.bare_len % 2, 1);
	assert_int_equal(LABEL_B.bare_len % 2, 0);
	assert_int_equal(out.size, n + 8 + LABEL_A.bare_len + 1); /* odd: pad byte */
	assert_memory_equal(out.ptr + 8, in + 8, n - 8);
	assert_int_equal(aimark__le32(out.ptr + 4), out.size - 8);
	assert_memory_equal(out.ptr + n, "AIGC", 4);
	assert_int_equal(aimark__le32(out.ptr + n + 4), LABEL_A.bare_len);
	assert_memory_equal(out.ptr + n + 8, LABEL_A.bare_json, LABEL_A.bare_len);
	assert_one_label(out.ptr, out.size, &LABEL_A, 1);
	tu_assert_same_essence(WAV, in, n, out.ptr, out.size, 1);

	/* relabel: replaced in place, never a second chunk */
	aimark_buf again = AIMARK_BUF_INIT;
	tu_mark(WAV, out.ptr, out.size, &LABEL_B, &again);
	assert_int_equal(again.size, n + 8 + LABEL_B.bare_len);
	assert_int_equal(aimark__le32(again.ptr + 4), again.size - 8);
	assert_int_equal(find_chunk(again.ptr, again.size, "AIGC", 1), -1);
	assert_one_label(again.ptr, again.size, &LABEL_B, 1);
	tu_assert_same_essence(WAV, in, n, again.ptr, again.size, 1);
	aimark_buf_dispose(&out);
	aimark_buf_dispose(&again);
	free(in);
}

static void test_ffmpeg_checks(void **state)
{
	(void)state;
	if (!tu_have_ffmpeg())
		skip();
	size_t n;
	unsigned char *in = tu_read_file(TU_DATA("wav/sine-info.wav"), &n);
	aimark_buf out = AIMARK_BUF_INIT;
	tu_mark(WAV, in, n, &LABEL_B, &out);
	/* the audio is unchanged and the INFO list (INAM) is kept */
	tu_ffmpeg_check(&WAV_MEDIA, TU_DATA("wav/sine-info.wav"), out.ptr, out.size, NULL, 0, "TAG:title=Sine\n");
	aimark_buf_dispose(&out);
	free(in);
}

/* gtkit/aigc style: AIGC chunk plus LIST/INFO AIGC; both carry the label and both are rewritten. */
static void test_info_and_chunk(void **state)
{
	(void)state;
	aimark_buf b = AIMARK_BUF_INIT, info = AIMARK_BUF_INIT;
	start_riff(&b);
	put_samples(&b, 1000);
	assert_int_equal(aimark__buf_append(&info, "INFO", 4), 0);
	put_chunk(&info, "INAM", "Tone\0", 5);
	const char old[] = "{\"Label\":\"2\",\"ContentProducer\":\"gtkit\"}";
	put_chunk(&info, "AIGC", old, sizeof old); /* NUL-terminated ZSTR */
	put_chunk(&info, "ISFT", "gtkit\0", 6);
	put_chunk(&b, "LIST", info.ptr, info.size);
	put_chunk(&b, "AIGC", old, sizeof old - 1);
	end_riff(&b);

	tu_parsed p;
	tu_parse(WAV, b.ptr, b.size, &p);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.meta.n_carriers, 2);
	assert_string_equal(p.meta.carriers[0].kind, "wav-info-aigc");
	assert_string_equal(p.meta.carriers[0].text, old);
	assert_string_equal(p.meta.carriers[1].kind, "wav-aigc-chunk");
	assert_string_equal(p.meta.carriers[1].text, old);
	tu_parsed_free(&p);

	aimark_buf out = AIMARK_BUF_INIT;
	tu_mark(WAV, b.ptr, b.size, &LABEL_B, &out);
	assert_one_label(out.ptr, out.size, &LABEL_B, 2);
	assert_int_equal(aimark__le32(out.ptr + 4), out.size - 8);
	assert_int_equal(find_chunk(out.ptr, out.size, "AIGC", 1), -1);
	/* other INFO entries kept, in order */
	long list = find_chunk(out.ptr, out.size, "LIST", 0);
	assert_true(list > 0);
	const unsigned char *l = out.ptr + list + 8;
	size_t ln = aimark__le32(out.ptr + list + 4);
	assert_non_null(memmem(l, ln, "INAM\x05\0\0\0Tone", 12));
	assert_non_null(memmem(l, ln, "ISFT\x06\0\0\0gtkit", 13));
	assert_true((char *)memmem(l, ln, "INAM", 4) < (char *)memmem(l, ln, "AIGC", 4));
	tu_assert_same_essence(WAV, b.ptr, b.size, out.ptr, out.size, 1);

	tu_ffmpeg_check(&WAV_MEDIA, NULL, out.ptr, out.size, LABEL_B.bare_json, LABEL_B.bare_len, NULL);
	aimark_buf_dispose(&b);
	aimark_buf_dispose(&info);
	aimark_buf_dispose(&out);
}

/* An "id3 " chunk with TXXX AIGC is read and rewritten; a C2PA chunk stays last. */
static void test_id3_chunk_and_c2pa(void **state)
{
	(void)state;
	const char old[] = "{\"Label\":\"3\"}";
	unsigned char frame[64];
	size_t fl = 0;
	frame[fl++] = 3;
	memcpy(frame + fl, "AIGC", 5), fl += 5;
	memcpy(frame + fl, old, sizeof old - 1), fl += sizeof old - 1;
	unsigned char tag[128] = { 'I', 'D', '3', 4, 0, 0, 0, 0, 0, (unsigned char)(10 + fl) };
	memcpy(tag + 10, "TXXX", 4);
	tag[14] = 0, tag[15] = 0, tag[16] = 0, tag[17] = (unsigned char)fl, tag[18] = 0, tag[19] = 0;
	memcpy(tag + 20, frame, fl);
	aimark_buf b = AIMARK_BUF_INIT;
	start_riff(&b);
	put_samples(&b, 400);
	put_chunk(&b, "id3 ", tag, 20 + fl);
	put_chunk(&b, "C2PA", "manifest", 8);
	end_riff(&b);

	tu_parsed p;
	tu_parse(WAV, b.ptr, b.size, &p);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.meta.n_carriers, 1);
	assert_string_equal(p.meta.carriers[0].kind, "id3-txxx");
	assert_string_equal(p.meta.carriers[0].text, old);
	tu_parsed_free(&p);

	aimark_buf out = AIMARK_BUF_INIT;
	tu_mark(WAV, b.ptr, b.size, &LABEL_A, &out);
	assert_one_label(out.ptr, out.size, &LABEL_A, 2);
	long aigc = find_chunk(out.ptr, out.size, "AIGC", 0), c2pa = find_chunk(out.ptr, out.size, "C2PA", 0);
	assert_true(aigc > 0 && c2pa > aigc);
	assert_int_equal((size_t)c2pa + 16, out.size);
	tu_assert_same_essence(WAV, b.ptr, b.size, out.ptr, out.size, 1);
	aimark_buf_dispose(&b);
	aimark_buf_dispose(&out);
}

static void test_rf64_small(void **state)
{
	(void)state;
	size_t n;
	unsigned char *in = tu_read_file(TU_DATA("wav/sine-rf64.wav"), &n);
	aimark_buf out = AIMARK_BUF_INIT;
	tu_mark(WAV, in, n, &LABEL_B, &out);
	assert_memory_equal(out.ptr, "RF64\xff\xff\xff\xffWAVEds64", 16);
	uint64_t riff = aimark__le32(out.ptr + 20) | ((uint64_t)aimark__le32(out.ptr + 24) << 32);
	assert_int_equal(riff, out.size - 8);
	assert_one_label(out.ptr, out.size, &LABEL_B, 1);
	tu_assert_same_essence(WAV, in, n, out.ptr, out.size, 1);
	tu_ffmpeg_check(&WAV_MEDIA, TU_DATA("wav/sine-rf64.wav"), out.ptr, out.size, NULL, 0, NULL);
	aimark_buf_dispose(&out);
	free(in);
}

/* A virtual file: head and tail bytes, zeros between; reads of the middle can be made to fail. */
typedef struct vfile {
	const unsigned char *head;
	size_t head_len;
	const unsigned char *tail;
	size_t tail_len;
	uint64_t size;
	int fail_middle;
} vfile;

static int vread(void *user, uint64_t off, void *dst, size_t len)
{
	vfile *v = user;
	unsigned char *d = dst;
	uint64_t tail_off = v->size - v->tail_len;
	for (size_t i = 0; i < len; i++) {
		uint64_t o = off + i;
		if (o < v->head_len)
			d[i] = v->head[o];
		else if (o >= tail_off)
			d[i] = v->tail[o - tail_off];
		else if (v->fail_middle)
			return -1;
		else
			d[i] = 0;
	}
	return 0;
}

static aimark_source *vsource(vfile *v)
{
	aimark_source_callbacks cb = { AIMARK_SOURCE_CALLBACKS_VERSION, vread, v->size, v, NULL };
	aimark_source *src;
	assert_int_equal(aimark_source_new_callbacks(&src, &cb), 0);
	return src;
}

static void put_le64(unsigned char *p, uint64_t v)
{
	aimark__put_le32(p, (uint32_t)v);
	aimark__put_le32(p + 4, (uint32_t)(v >> 32));
}

/* An RF64 file of 5 GB: the chunk after the data is found, the essence covers 5 GB. */
static void test_rf64_over_4g(void **state)
{
	(void)state;
	const uint64_t data = UINT64_C(5000000000);
	unsigned char head[80];
	memcpy(head, "RF64\xff\xff\xff\xffWAVEds64\x1c\0\0\0", 20);
	memcpy(head + 48, "fmt \x10\0\0\0", 8);
	memcpy(head + 56, FMT_PCM16_8K, 16);
	memcpy(head + 72, "data\xff\xff\xff\xff", 8);
	unsigned char tail[8 + sizeof TU_LABEL_BARE("aimark-wav-0001")];
	memcpy(tail, "AIGC", 4);
	aimark__put_le32(tail + 4, (uint32_t)LABEL_A.bare_len);
	memcpy(tail + 8, LABEL_A.bare_json, LABEL_A.bare_len);
	size_t tail_len = 8 + LABEL_A.bare_len;
	vfile v = { head, sizeof head, tail, tail_len, sizeof head + data + tail_len, 0 };
	put_le64(head + 20, v.size - 8);
	put_le64(head + 28, data);
	put_le64(head + 36, data / 2);
	aimark__put_le32(head + 44, 0);

	tu_parsed p;
	tu_parse_source(WAV, vsource(&v), &p);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.meta.n_carriers, 1);
	assert_int_equal(p.meta.carriers[0].offset, 80 + data);
	assert_int_equal(p.meta.n_essence, 2);
	assert_int_equal(p.meta.essence[1].offset, 80);
	assert_int_equal(p.meta.essence[1].length, data);
	tu_parsed_free(&p);

	/* relabel: the ds64 RIFF size follows; the data chunk keeps its 64-bit size */
	v.fail_middle = 1;
	aimark_buf out = AIMARK_BUF_INIT;
	aimark_source *src = vsource(&v);
	assert_int_equal(tu_mark_source(WAV, src, &LABEL_B, &out), AIMARK_EIO);
	aimark_source_free(src);
	assert_true(out.size >= 80);
	assert_memory_equal(out.ptr, "RF64\xff\xff\xff\xffWAVEds64\x1c\0\0\0", 20);
	uint64_t riff = aimark__le32(out.ptr + 20) | ((uint64_t)aimark__le32(out.ptr + 24) << 32);
	assert_int_equal(riff, 80 + data + 8 + LABEL_B.bare_len - 8); /* the old chunk had no final pad */
	assert_memory_equal(out.ptr + 28, head + 28, 16);
	assert_memory_equal(out.ptr + 72, "data\xff\xff\xff\xff", 8);
	aimark_buf_dispose(&out);
}

/* A RIFF file near 4 GiB becomes RF64 when the label pushes it over; a smaller label keeps RIFF. */
static void test_riff_to_rf64(void **state)
{
	(void)state;
	const uint64_t data = 0xFFFFFF00u;
	unsigned char head[44];
	memcpy(head, "RIFF\0\0\0\0WAVEfmt \x10\0\0\0", 20);
	memcpy(head + 20, FMT_PCM16_8K, 16);
	memcpy(head + 36, "data", 4);
	aimark__put_le32(head + 40, (uint32_t)data);
	aimark__put_le32(head + 4, (uint32_t)(36 + data));
	vfile v = { head, sizeof head, NULL, 0, sizeof head + data, 1 };

	/* RIFF payload = 4 + 24 (fmt) + 8 + data + 8 + label (+ pad): 210 bytes reach 0xFFFFFFFE, 211 pass 2^32 */
	char big[400];
	memset(big, 'x', sizeof big);
	aimark__label_write fits = { big, 210, big, 210 }, over = { big, 211, big, 211 };

	aimark_buf out = AIMARK_BUF_INIT;
	aimark_source *src = vsource(&v);
	assert_int_equal(tu_mark_source(WAV, src, &fits, &out), AIMARK_EIO); /* stops at the data copy */
	aimark_source_free(src);
	assert_memory_equal(out.ptr, "RIFF", 4);
	assert_int_equal(aimark__le32(out.ptr + 4), 0xFFFFFFFEu);
	assert_memory_equal(out.ptr + 8, head + 8, 36);
	aimark_buf_dispose(&out);

	src = vsource(&v);
	assert_int_equal(tu_mark_source(WAV, src, &over, &out), AIMARK_EIO);
	aimark_source_free(src);
	assert_true(out.size >= 12 + 36 + 24 + 8);
	assert_memory_equal(out.ptr, "RF64\xff\xff\xff\xffWAVEds64\x1c\0\0\0", 20);
	uint64_t riff = aimark__le32(out.ptr + 20) | ((uint64_t)aimark__le32(out.ptr + 24) << 32);
	assert_int_equal(riff, 4 + 36 + 24 + 8 + data + 8 + 211 + 1);
	uint64_t dsz = aimark__le32(out.ptr + 28) | ((uint64_t)aimark__le32(out.ptr + 32) << 32);
	assert_int_equal(dsz, data);
	uint64_t samples = aimark__le32(out.ptr + 36) | ((uint64_t)aimark__le32(out.ptr + 40) << 32);
	assert_int_equal(samples, data / 2);
	assert_memory_equal(out.ptr + 48, "fmt \x10\0\0\0", 8);
	assert_memory_equal(out.ptr + 72, "data\xff\xff\xff\xff", 8);
	aimark_buf_dispose(&out);
}

static void expect_eformat(const void *d, size_t n, const char *needle)
{
	tu_expect_read_error(WAV, d, n, AIMARK_EFORMAT, "WAV", needle);
}

static void test_bad_input(void **state)
{
	(void)state;
	size_t n;
	unsigned char *in = tu_read_file(TU_DATA("wav/sine.wav"), &n);
	expect_eformat(in, 8, "too short");
	unsigned char *c = malloc(n);
	memcpy(c, in, n);
	memcpy(c + 8, "WAVF", 4);
	expect_eformat(c, n, "header");
	/* fmt chunk size runs past the end */
	memcpy(c, in, n);
	aimark__put_le32(c + 16, 0x7FFFFFF0);
	expect_eformat(c, n, "offset 12");
	/* no data chunk */
	memcpy(c, in, n);
	memcpy(c + 36, "dat4", 4);
	expect_eformat(c, n, "data");
	/* no fmt chunk */
	memcpy(c, in, n);
	memcpy(c + 12, "fmx ", 4);
	expect_eformat(c, n, "fmt");
	/* RF64 without ds64 */
	memcpy(c, in, n);
	memcpy(c, "RF64", 4);
	expect_eformat(c, n, "ds64");
	free(c);

	/* ds64 whose table count does not fit */
	size_t m;
	unsigned char *rf = tu_read_file(TU_DATA("wav/sine-rf64.wav"), &m);
	aimark__put_le32(rf + 44, 1000);
	expect_eformat(rf, m, "table");
	free(rf);
	rf = tu_read_file(TU_DATA("wav/sine-rf64.wav"), &m);
	aimark__put_le32(rf + 16, 8); /* ds64 too small */
	expect_eformat(rf, m, "ds64");
	free(rf);
	free(in);
}

/* Sizes that lie but can be handled: a streamed data size, a short RIFF size, a missing final pad. */
static void test_lenient_sizes(void **state)
{
	(void)state;
	size_t n;
	unsigned char *in = tu_read_file(TU_DATA("wav/sine.wav"), &n);
	unsigned char *c = malloc(n);
	memcpy(c, in, n);
	aimark__put_le32(c + 4, 0xFFFFFFFFu);
	aimark__put_le32(c + 40, 0xFFFFFFFFu);
	tu_parsed p;
	tu_parse(WAV, c, n, &p);
	assert_int_equal(p.rc, 0);
	assert_true(aimark_findings_has(p.findings, "wav-data-size"));
	assert_true(aimark_findings_has(p.findings, "wav-riff-size"));
	assert_int_equal(p.meta.essence[1].length, 16000);
	tu_parsed_free(&p);
	aimark_buf out = AIMARK_BUF_INIT;
	tu_mark(WAV, c, n, &LABEL_A, &out);
	assert_int_equal(aimark__le32(out.ptr + 4), out.size - 8);
	assert_int_equal(aimark__le32(out.ptr + 40), 16000); /* fixed */
	assert_one_label(out.ptr, out.size, &LABEL_A, 1);
	tu_assert_same_essence(WAV, in, n, out.ptr, out.size, 1);
	aimark_buf_dispose(&out);

	/* a RIFF size that ends after the fmt chunk: the data chunk after it still counts */
	memcpy(c, in, n);
	aimark__put_le32(c + 4, 28);
	tu_parse(WAV, c, n, &p);
	assert_int_equal(p.rc, 0);
	assert_true(aimark_findings_has(p.findings, "wav-riff-size"));
	assert_int_equal(p.meta.essence[1].length, 16000);
	tu_parsed_free(&p);
	tu_mark(WAV, c, n, &LABEL_A, &out);
	assert_int_equal(aimark__le32(out.ptr + 4), out.size - 8);
	tu_assert_same_essence(WAV, in, n, out.ptr, out.size, 1);
	aimark_buf_dispose(&out);

	/* odd data chunk at the very end without its pad byte */
	aimark_buf b = AIMARK_BUF_INIT;
	start_riff(&b);
	put_samples(&b, 999);
	b.size--; /* drop the pad */
	end_riff(&b);
	tu_mark(WAV, b.ptr, b.size, &LABEL_A, &out);
	assert_int_equal(out.size, b.size + 1 + 8 + LABEL_A.bare_len + 1);
	assert_one_label(out.ptr, out.size, &LABEL_A, 1);
	tu_assert_same_essence(WAV, b.ptr, b.size, out.ptr, out.size, 1);
	aimark_buf_dispose(&out);

	/* fewer than 8 bytes of slack inside the RIFF stay at its end, after the new chunk */
	aimark__buf_clear(&b);
	start_riff(&b);
	put_samples(&b, 100);
	assert_int_equal(aimark__buf_append(&b, "\1\2\3\4", 4), 0);
	end_riff(&b);
	tu_mark(WAV, b.ptr, b.size, &LABEL_A, &out);
	assert_int_equal(out.size, b.size + 8 + LABEL_A.bare_len + 1);
	assert_memory_equal(out.ptr + out.size - 4, "\1\2\3\4", 4);
	assert_int_equal(aimark__le32(out.ptr + 4), out.size - 8);
	assert_one_label(out.ptr, out.size, &LABEL_A, 1);
	aimark_buf_dispose(&out);

	/* bytes after the RIFF end (an appended ID3v1 tag) are kept after it */
	aimark__buf_clear(&b);
	start_riff(&b);
	put_samples(&b, 100);
	end_riff(&b);
	unsigned char v1[128] = "TAG";
	assert_int_equal(aimark__buf_append(&b, v1, sizeof v1), 0);
	tu_mark(WAV, b.ptr, b.size, &LABEL_A, &out);
	assert_int_equal(aimark__le32(out.ptr + 4), out.size - 8 - 128);
	assert_memory_equal(out.ptr + out.size - 128, v1, 128);
	assert_one_label(out.ptr, out.size, &LABEL_A, 1);
	aimark_buf_dispose(&out);
	aimark_buf_dispose(&b);
	free(c);
	free(in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe),
		cmocka_unit_test(test_essence_ranges),
		cmocka_unit_test(test_write_appends_chunk),
		cmocka_unit_test(test_ffmpeg_checks),
		cmocka_unit_test(test_info_and_chunk),
		cmocka_unit_test(test_id3_chunk_and_c2pa),
		cmocka_unit_test(test_rf64_small),
		cmocka_unit_test(test_rf64_over_4g),
		cmocka_unit_test(test_riff_to_rf64),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_lenient_sizes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

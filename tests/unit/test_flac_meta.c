/* FLAC backend: metadata block walk, Vorbis comment AIGC field, PADDING reuse, essence. */
#define _GNU_SOURCE /* memmem */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "core/internal.h"
#include "format/format.h"

extern const aimark__format_ops aimark__format_flac;
#define FLAC (&aimark__format_flac)

static const aimark__label_write LABEL_A = TU_LABEL("aimark-flac-0001");
static const aimark__label_write LABEL_B = TU_LABEL("aimark-flac-0002");
#define FFMPEG_JSON "{\"Label\":\"1\",\"ContentProducer\":\"ffmpeg\",\"ProduceID\":\"x1\"}"

/* tests/data/flac/sine.flac: STREAMINFO, VORBIS_COMMENT (vendor "ffmpeg", title=Sine), PADDING 8192 */
#define SINE_AUDIO 8270

/* ---- helpers ---- */

/* Offset of the first metadata block of `type` (or -1); `*len` its length; `*last` its flag. */
static long block(const unsigned char *d, size_t n, int type, size_t *len, int *last)
{
	size_t pos = 4;
	while (pos + 4 <= n) {
		size_t l = ((size_t)d[pos + 1] << 16) | ((size_t)d[pos + 2] << 8) | d[pos + 3];
		if ((d[pos] & 0x7f) == type) {
			if (len)
				*len = l;
			if (last)
				*last = d[pos] >> 7;
			return (long)pos;
		}
		if (d[pos] & 0x80)
			break;
		pos += 4 + l;
	}
	return -1;
}

/* sine.flac with only STREAMINFO: no comment, no padding. */
static void bare_flac(aimark_buf *out)
{
	size_t n;
	unsigned char *in = tu_read_file(TU_DATA("flac/sine.flac"), &n);
	assert_int_equal(aimark__buf_append(out, in, 42), 0);
	out->ptr[4] |= 0x80;
	assert_int_equal(aimark__buf_append(out, in + SINE_AUDIO, n - SINE_AUDIO), 0);
	free(in);
}

static void ffmpeg_check(const char *orig, const aimark_buf *out, const aimark__label_write *label)
{
	static const tu_media m = { "flac", "format", "0:a" };
	tu_ffmpeg_check(&m, orig, out->ptr, out->size, label->bare_json, label->bare_len, NULL);
}

/* ---- tests ---- */

static void test_probe(void **state)
{
	(void)state;
	assert_true(FLAC->probe((const unsigned char *)"fLaC\0\0\0\x22", 8));
	assert_false(FLAC->probe((const unsigned char *)"fLaX\0\0\0\x22", 8));
	assert_false(FLAC->probe((const unsigned char *)"fLa", 3));
	assert_ptr_equal(aimark__format_find("flac"), FLAC);
}

static void test_padding_absorbs(void **state)
{
	(void)state;
	size_t n;
	unsigned char *in = tu_read_file(TU_DATA("flac/sine.flac"), &n);
	tu_parsed p;
	tu_parse(FLAC, in, n, &p);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.meta.n_carriers, 0);
	assert_int_equal(p.meta.n_essence, 2);
	assert_int_equal(p.meta.essence[0].offset, 8);
	assert_int_equal(p.meta.essence[0].length, 34);
	assert_int_equal(p.meta.essence[1].offset, SINE_AUDIO);
	assert_int_equal(p.meta.essence[1].length, n - SINE_AUDIO);
	tu_parsed_free(&p);

	aimark_buf out = AIMARK_BUF_INIT;
	tu_mark(FLAC, in, n, &LABEL_A, &out);
	assert_int_equal(out.size, n);                                                  /* same size */
	assert_memory_equal(out.ptr + SINE_AUDIO, in + SINE_AUDIO, n - SINE_AUDIO);     /* frames untouched, same offset */
	assert_memory_equal(out.ptr, in, 42);                                           /* STREAMINFO */
	size_t len;
	int last;
	long vc = block(out.ptr, out.size, 4, &len, &last);
	assert_int_equal(vc, 42);
	assert_memory_equal(out.ptr + vc + 4, "\x06\0\0\0ffmpeg\x02\0\0\0\x0a\0\0\0title=Sine", 24); /* vendor, title kept */
	assert_non_null(memmem(out.ptr + vc, len, "AIGC=", 5));
	long pad = block(out.ptr, out.size, 1, &len, &last);
	assert_true(pad > vc);
	assert_int_equal(len, 8192 - 5 - 4 - LABEL_A.bare_len);
	assert_int_equal(last, 1);
	tu_assert_labels(FLAC, out.ptr, out.size, "vorbis-comment", LABEL_A.bare_json, LABEL_A.bare_len, 1);
	tu_assert_same_essence(FLAC, in, n, out.ptr, out.size, 35);
	ffmpeg_check(TU_DATA("flac/sine.flac"), &out, &LABEL_A);

	/* relabel: still one field, still the same size */
	aimark_buf again = AIMARK_BUF_INIT;
	tu_mark(FLAC, out.ptr, out.size, &LABEL_B, &again);
	assert_int_equal(again.size, n);
	tu_assert_labels(FLAC, again.ptr, again.size, "vorbis-comment", LABEL_B.bare_json, LABEL_B.bare_len, 1);
	aimark_buf_dispose(&out);
	aimark_buf_dispose(&again);
	free(in);
}

static void test_create_comment(void **state)
{
	(void)state;
	aimark_buf in = AIMARK_BUF_INIT, out = AIMARK_BUF_INIT;
	bare_flac(&in);
	tu_mark(FLAC, in.ptr, in.size, &LABEL_A, &out);
	size_t vc_len = 4 + 6 + 4 + 4 + 5 + LABEL_A.bare_len;
	assert_int_equal(out.size, in.size + 4 + vc_len);
	assert_int_equal(out.ptr[4], 0x00); /* STREAMINFO no longer last */
	size_t len;
	int last;
	assert_int_equal(block(out.ptr, out.size, 4, &len, &last), 42);
	assert_int_equal(len, vc_len);
	assert_int_equal(last, 1);
	assert_memory_equal(out.ptr + 46, "\x06\0\0\0aimark\x01\0\0\0", 14);
	assert_memory_equal(out.ptr + 42 + 4 + vc_len, in.ptr + 42, in.size - 42);
	tu_assert_labels(FLAC, out.ptr, out.size, "vorbis-comment", LABEL_A.bare_json, LABEL_A.bare_len, 1);
	tu_assert_same_essence(FLAC, in.ptr, in.size, out.ptr, out.size, 35);
	if (tu_have_ffmpeg()) {
		char *dir = tu_tempdir();
		const char *orig = tu_path("%s/in.flac", dir);
		tu_write_file(orig, in.ptr, in.size);
		ffmpeg_check(orig, &out, &LABEL_A);
		tu_rmtree(dir);
		free(dir);
	}
	aimark_buf_dispose(&in);
	aimark_buf_dispose(&out);
}

static void test_ffmpeg_labelled(void **state)
{
	(void)state;
	size_t n;
	unsigned char *in = tu_read_file(TU_DATA("flac/ffmpeg-aigc.flac"), &n);
	tu_assert_labels(FLAC, in, n, "vorbis-comment", FFMPEG_JSON, strlen(FFMPEG_JSON), 1);
	aimark_buf out = AIMARK_BUF_INIT;
	tu_mark(FLAC, in, n, &LABEL_B, &out);
	assert_int_equal(out.size, n);
	tu_assert_labels(FLAC, out.ptr, out.size, "vorbis-comment", LABEL_B.bare_json, LABEL_B.bare_len, 1);
	tu_assert_same_essence(FLAC, in, n, out.ptr, out.size, 35);
	aimark_buf_dispose(&out);
	free(in);
}

/* A label larger than the padding moves the frames; shrinking it back gives the room to padding. */
static void test_grow_and_shrink(void **state)
{
	(void)state;
	size_t n;
	unsigned char *in = tu_read_file(TU_DATA("flac/sine.flac"), &n);
	size_t big_len = 12000;
	char *big = malloc(big_len);
	memset(big, 'x', big_len);
	big[0] = '{', big[big_len - 1] = '}';
	aimark__label_write big_label = { big, big_len, big, big_len };
	aimark_buf out = AIMARK_BUF_INIT, back = AIMARK_BUF_INIT;
	tu_mark(FLAC, in, n, &big_label, &out);
	assert_int_equal(out.size, n + 5 + big_len + 4); /* padding block kept as it was */
	size_t len;
	assert_true(block(out.ptr, out.size, 1, &len, NULL) > 0);
	assert_int_equal(len, 8192);
	tu_assert_labels(FLAC, out.ptr, out.size, "vorbis-comment", big, big_len, 1);
	tu_assert_same_essence(FLAC, in, n, out.ptr, out.size, 35);
	ffmpeg_check(TU_DATA("flac/sine.flac"), &out, &big_label);

	tu_mark(FLAC, out.ptr, out.size, &LABEL_A, &back);
	assert_int_equal(back.size, out.size);
	assert_true(block(back.ptr, back.size, 1, &len, NULL) > 0);
	assert_int_equal(len, 8192 + big_len - LABEL_A.bare_len);
	tu_assert_labels(FLAC, back.ptr, back.size, "vorbis-comment", LABEL_A.bare_json, LABEL_A.bare_len, 1);
	tu_assert_same_essence(FLAC, in, n, back.ptr, back.size, 35);
	aimark_buf_dispose(&out);
	aimark_buf_dispose(&back);
	free(big);
	free(in);
}

/* Without padding, a smaller comment leaves the saved room as a new PADDING block. */
static void test_new_padding(void **state)
{
	(void)state;
	size_t big_len = 600;
	char *big = malloc(big_len);
	memset(big, 'y', big_len);
	aimark__label_write big_label = { big, big_len, big, big_len };
	aimark_buf in = AIMARK_BUF_INIT, mid = AIMARK_BUF_INIT, out = AIMARK_BUF_INIT;
	bare_flac(&in);
	tu_mark(FLAC, in.ptr, in.size, &big_label, &mid);
	tu_mark(FLAC, mid.ptr, mid.size, &LABEL_A, &out);
	assert_int_equal(out.size, mid.size);
	size_t len;
	int last;
	assert_true(block(out.ptr, out.size, 1, &len, &last) > 0);
	assert_int_equal(len, big_len - LABEL_A.bare_len - 4);
	assert_int_equal(last, 1);
	tu_assert_labels(FLAC, out.ptr, out.size, "vorbis-comment", LABEL_A.bare_json, LABEL_A.bare_len, 1);
	aimark_buf_dispose(&in);
	aimark_buf_dispose(&mid);
	aimark_buf_dispose(&out);
	free(big);
}

static void test_id3_prefix(void **state)
{
	(void)state;
	size_t n;
	unsigned char *in = tu_read_file(TU_DATA("flac/sine.flac"), &n);
	aimark_buf b = AIMARK_BUF_INIT, out = AIMARK_BUF_INIT;
	const char tag[] = "ID3\x04\0\0\0\0\0\x10TIT2\0\0\0\x06\0\0\x03Tone\0";
	assert_int_equal(aimark__buf_append(&b, tag, 26), 0);
	assert_int_equal(aimark__buf_append(&b, in, n), 0);
	tu_parsed p;
	tu_parse(FLAC, b.ptr, b.size, &p);
	assert_int_equal(p.rc, 0);
	assert_true(aimark_findings_has(p.findings, "flac-id3-prefix"));
	assert_int_equal(p.meta.essence[0].offset, 26 + 8);
	tu_parsed_free(&p);
	tu_mark(FLAC, b.ptr, b.size, &LABEL_A, &out);
	assert_int_equal(out.size, b.size);
	assert_memory_equal(out.ptr, tag, 26);
	tu_assert_labels(FLAC, out.ptr, out.size, "vorbis-comment", LABEL_A.bare_json, LABEL_A.bare_len, 1);
	tu_assert_same_essence(FLAC, b.ptr, b.size, out.ptr, out.size, 35);
	aimark_buf_dispose(&b);
	aimark_buf_dispose(&out);
	free(in);
}

static void expect_eformat(const void *d, size_t n, const char *needle)
{
	tu_expect_read_error(FLAC, d, n, AIMARK_EFORMAT, "FLAC", needle);
}

static void test_bad_input(void **state)
{
	(void)state;
	size_t n;
	unsigned char *in = tu_read_file(TU_DATA("flac/sine.flac"), &n);
	unsigned char *c = malloc(n);
	memcpy(c, in, n);
	c[0] = 'F';
	expect_eformat(c, n, "fLaC");
	memcpy(c, in, n);
	c[4] = 0x01; /* first block PADDING */
	expect_eformat(c, n, "STREAMINFO");
	memcpy(c, in, n);
	c[43] = 0x7f; /* comment length past the end */
	expect_eformat(c, n, "offset 42");
	memcpy(c, in, n);
	c[42] = 0x7f; /* reserved type 127 */
	expect_eformat(c, n, "127");
	expect_eformat(in, 45, "truncated");

	/* a comment count that lies: reported when reading, refused when writing */
	memcpy(c, in, n);
	c[56] = 0x50;
	tu_parsed p;
	tu_parse(FLAC, c, n, &p);
	assert_int_equal(p.rc, 0);
	assert_true(aimark_findings_has(p.findings, "vorbis-comment-invalid"));
	tu_parsed_free(&p);
	aimark_buf out = AIMARK_BUF_INIT;
	assert_int_equal(tu_mark_rc(FLAC, c, n, &LABEL_A, &out), AIMARK_EFORMAT);
	aimark_buf_dispose(&out);

	/* every prefix of a labelled file: an error or a result, never a crash */
	tu_mark(FLAC, in, n, &LABEL_A, &out);
	tu_assert_prefixes_read(FLAC, out.ptr, out.size, 9000, 13);
	aimark_buf_dispose(&out);
	free(c);
	free(in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe),
		cmocka_unit_test(test_padding_absorbs),
		cmocka_unit_test(test_create_comment),
		cmocka_unit_test(test_ffmpeg_labelled),
		cmocka_unit_test(test_grow_and_shrink),
		cmocka_unit_test(test_new_padding),
		cmocka_unit_test(test_id3_prefix),
		cmocka_unit_test(test_bad_input),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

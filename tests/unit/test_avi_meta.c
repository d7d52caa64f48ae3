/* AVI backend: LIST INFO label in place, in JUNK, appended; AVIX; hostile input. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "format/format.h"
#include "testutil.h"

#define LABEL TU_LABEL_BARE("test-0001")

static const aimark__format_ops *ops(void)
{
	const aimark__format_ops *o = aimark__format_find("avi");
	assert_non_null(o);
	return o;
}

static int label_mem(const void *data, size_t len, const char *json, aimark_buf *out)
{
	tu_provider p;
	return tu_label_mem(ops(), data, len, json, &p, out, NULL);
}

static void assert_labelled(const unsigned char *d, size_t len, const char *json)
{
	aimark__meta meta;
	assert_int_equal(tu_read_mem(ops(), d, len, &meta, NULL), 0);
	assert_int_equal(meta.n_carriers, 1);
	assert_string_equal(meta.carriers[0].kind, "avi-info");
	assert_string_equal(meta.carriers[0].text, json);
	aimark__meta_dispose(&meta);
	/* the RIFF size covers the file */
	assert_int_equal(aimark__le32(d + 4) + 8, len);
}

static void assert_same_essence(const unsigned char *a, size_t alen, const unsigned char *b, size_t blen)
{
	aimark__meta x, y;
	assert_int_equal(tu_read_mem(ops(), a, alen, &x, NULL), 0);
	assert_int_equal(tu_read_mem(ops(), b, blen, &y, NULL), 0);
	assert_int_equal(x.n_essence, y.n_essence);
	for (size_t i = 0; i < x.n_essence; i++) {
		assert_int_equal(x.essence[i].length, y.essence[i].length);
		assert_int_equal(x.essence[i].offset, y.essence[i].offset); /* movi never moves */
		assert_memory_equal(a + x.essence[i].offset, b + y.essence[i].offset, (size_t)x.essence[i].length);
	}
	aimark__meta_dispose(&x);
	aimark__meta_dispose(&y);
}

static void check_with_ffmpeg(const char *orig, const unsigned char *data, size_t len, const char *json)
{
	static const tu_media avi = { "avi", "format", "0" };
	tu_ffmpeg_check(&avi, orig, data, len, json, strlen(json), NULL);
}

/* ---- chunk building ---- */

static void chunk(aimark_buf *out, const char *id, const void *data, size_t len)
{
	unsigned char h[8];
	memcpy(h, id, 4);
	aimark__put_le32(h + 4, (uint32_t)len);
	assert_int_equal(aimark__buf_append(out, h, 8), 0);
	assert_int_equal(aimark__buf_append(out, data, len), 0);
	if (len & 1)
		assert_int_equal(aimark__buf_append(out, "", 1), 0);
}

static void list(aimark_buf *out, const char *type, aimark_buf *inner)
{
	aimark_buf l = AIMARK_BUF_INIT;
	assert_int_equal(aimark__buf_append(&l, type, 4), 0);
	assert_int_equal(aimark__buf_append(&l, inner->ptr, inner->size), 0);
	chunk(out, "LIST", l.ptr, l.size);
	aimark_buf_dispose(&l);
	aimark_buf_dispose(inner);
}

static void riff(aimark_buf *out, const char *type, aimark_buf *inner)
{
	aimark_buf l = AIMARK_BUF_INIT;
	assert_int_equal(aimark__buf_append(&l, type, 4), 0);
	assert_int_equal(aimark__buf_append(&l, inner->ptr, inner->size), 0);
	chunk(out, "RIFF", l.ptr, l.size);
	aimark_buf_dispose(&l);
	aimark_buf_dispose(inner);
}

/* RIFF AVI { LIST hdrl, [extra], LIST movi { 00dc "frame" } } */
static void small_avi(aimark_buf *out, aimark_buf *extra)
{
	aimark_buf body = AIMARK_BUF_INIT, hdrl = AIMARK_BUF_INIT, movi = AIMARK_BUF_INIT;
	static const unsigned char avih[56];
	chunk(&hdrl, "avih", avih, sizeof avih);
	list(&body, "hdrl", &hdrl);
	if (extra) {
		assert_int_equal(aimark__buf_append(&body, extra->ptr, extra->size), 0);
		aimark_buf_dispose(extra);
	}
	chunk(&movi, "00dc", "frame", 5);
	list(&body, "movi", &movi);
	riff(out, "AVI ", &body);
}

/* ------------------------------------------------------------------ tests */

static void test_probe_and_read(void **state)
{
	(void)state;
	size_t len;
	unsigned char *d = tu_read_file(TU_DATA("avi/plain.avi"), &len);
	assert_true(ops()->probe(d, 64));
	assert_false(ops()->probe((const unsigned char *)"RIFF\0\0\0\0WAVE", 12));
	assert_string_equal(aimark_format_from_extension("clip.AVI"), "avi");
	aimark__meta meta;
	assert_int_equal(tu_read_mem(ops(), d, len, &meta, NULL), 0);
	assert_int_equal(meta.n_carriers, 0);
	assert_int_equal(meta.n_essence, 1);
	const unsigned char *movi = memmem(d, len, "movi", 4);
	assert_int_equal(meta.essence[0].offset, (size_t)(movi - d) + 4);
	assert_int_equal(meta.essence[0].length, aimark__le32(movi - 4) - 4);
	aimark__meta_dispose(&meta);
	free(d);
}

/* ffmpeg's INFO list is followed by a JUNK chunk: the label goes in place, the size is unchanged. */
static void test_label_in_place(void **state)
{
	(void)state;
	size_t len;
	unsigned char *d = tu_read_file(TU_DATA("avi/plain.avi"), &len);
	aimark_buf out = AIMARK_BUF_INIT;
	assert_int_equal(label_mem(d, len, LABEL, &out), 0);
	assert_int_equal(out.size, len);
	assert_labelled(out.ptr, out.size, LABEL);
	assert_same_essence(d, len, out.ptr, out.size);
	assert_non_null(memmem(out.ptr, out.size, "ISFT", 4));
	check_with_ffmpeg(TU_DATA("avi/plain.avi"), out.ptr, out.size, LABEL);
	/* relabel with a shorter label: still in place */
	aimark_buf again = AIMARK_BUF_INIT;
	assert_int_equal(label_mem(out.ptr, out.size, "{\"Label\":\"2\"}", &again), 0);
	assert_int_equal(again.size, len);
	assert_labelled(again.ptr, again.size, "{\"Label\":\"2\"}");
	aimark_buf_dispose(&again);
	aimark_buf_dispose(&out);
	free(d);
}

/* No INFO list (bitexact output) but a JUNK chunk: a new INFO list takes its place. */
static void test_label_into_junk(void **state)
{
	(void)state;
	size_t len;
	unsigned char *d = tu_read_file(TU_DATA("avi/no_info.avi"), &len);
	aimark_buf out = AIMARK_BUF_INIT;
	assert_int_equal(label_mem(d, len, LABEL, &out), 0);
	assert_int_equal(out.size, len);
	assert_labelled(out.ptr, out.size, LABEL);
	assert_same_essence(d, len, out.ptr, out.size);
	const unsigned char *info = memmem(out.ptr, out.size, "INFO", 4);
	const unsigned char *movi = memmem(out.ptr, out.size, "movi", 4);
	assert_true(info != NULL && info < movi);
	check_with_ffmpeg(TU_DATA("avi/no_info.avi"), out.ptr, out.size, LABEL);
	aimark_buf_dispose(&out);
	free(d);
}

/* Too long for any room: the old AIGC becomes JUNK, a new INFO list is appended, RIFF size fixed. */
static void test_label_appended(void **state)
{
	(void)state;
	size_t len;
	unsigned char *d = tu_read_file(TU_DATA("avi/plain.avi"), &len);
	aimark_buf first = AIMARK_BUF_INIT, out = AIMARK_BUF_INIT;
	assert_int_equal(label_mem(d, len, LABEL, &first), 0);
	char longer[4096];
	snprintf(longer, sizeof longer, "{\"Label\":\"3\",\"ContentProducer\":\"%03000d\"}", 5);
	assert_int_equal(label_mem(first.ptr, first.size, longer, &out), 0);
	assert_true(out.size > len);
	assert_labelled(out.ptr, out.size, longer);
	assert_same_essence(d, len, out.ptr, out.size);
	assert_null(memmem(out.ptr, out.size, "test-0001", 9)); /* the old label's bytes are gone */
	check_with_ffmpeg(TU_DATA("avi/plain.avi"), out.ptr, out.size, longer);
	aimark_buf_dispose(&first);
	aimark_buf_dispose(&out);
	free(d);
}

/* A WAV-style top-level AIGC chunk is read (with a finding) and retired on write. */
static void test_top_level_aigc_chunk(void **state)
{
	(void)state;
	aimark_buf extra = AIMARK_BUF_INIT, file = AIMARK_BUF_INIT, out = AIMARK_BUF_INIT;
	const char *old = "{\"Label\":\"1\",\"ProduceID\":\"old-1\"}";
	chunk(&extra, "AIGC", old, strlen(old) + 1);
	small_avi(&file, &extra);
	aimark_findings *f = NULL;
	assert_int_equal(aimark_findings_new(&f), 0);
	aimark__meta m;
	assert_int_equal(tu_read_mem(ops(), file.ptr, file.size, &m, f), 0);
	assert_int_equal(m.n_carriers, 1);
	assert_string_equal(m.carriers[0].kind, "avi-chunk");
	assert_string_equal(m.carriers[0].text, old);
	assert_true(aimark_findings_has(f, "avi-aigc-chunk"));
	aimark__meta_dispose(&m);
	aimark_findings_free(f);
	assert_int_equal(label_mem(file.ptr, file.size, LABEL, &out), 0);
	assert_labelled(out.ptr, out.size, LABEL);
	assert_same_essence(file.ptr, file.size, out.ptr, out.size);
	assert_null(memmem(out.ptr, out.size, "old-1", 5));
	aimark_buf_dispose(&file);
	aimark_buf_dispose(&out);
}

/* OpenDML: essence includes AVIX movi data; appending is refused, a fitting INFO is fine. */
static void test_avix(void **state)
{
	(void)state;
	aimark_buf file = AIMARK_BUF_INIT, avix = AIMARK_BUF_INIT, movi = AIMARK_BUF_INIT, out = AIMARK_BUF_INIT;
	small_avi(&file, NULL);
	chunk(&movi, "00dc", "frame2", 6);
	list(&avix, "movi", &movi);
	riff(&file, "AVIX", &avix);
	aimark__meta m;
	assert_int_equal(tu_read_mem(ops(), file.ptr, file.size, &m, NULL), 0);
	assert_int_equal(m.n_essence, 2);
	assert_int_equal(m.essence[1].length, 8 + 6);
	aimark__meta_dispose(&m);
	aimark_error_clear();
	assert_int_equal(label_mem(file.ptr, file.size, LABEL, &out), AIMARK_EUNSUPPORTED);
	assert_non_null(strstr(aimark_error_last(), "AVIX"));
	aimark_buf_dispose(&out);
	aimark_buf_dispose(&file);

	/* with a JUNK chunk ahead of movi, the label fits and nothing moves */
	aimark_buf extra = AIMARK_BUF_INIT;
	static const unsigned char junk[1024];
	chunk(&extra, "JUNK", junk, sizeof junk);
	small_avi(&file, &extra);
	chunk(&movi, "00dc", "frame2", 6);
	list(&avix, "movi", &movi);
	riff(&file, "AVIX", &avix);
	assert_int_equal(label_mem(file.ptr, file.size, LABEL, &out), 0);
	assert_int_equal(out.size, file.size);
	assert_same_essence(file.ptr, file.size, out.ptr, out.size);
	assert_int_equal(tu_read_mem(ops(), out.ptr, out.size, &m, NULL), 0);
	assert_int_equal(m.n_carriers, 1);
	assert_string_equal(m.carriers[0].text, LABEL);
	aimark__meta_dispose(&m);
	aimark_buf_dispose(&out);
	aimark_buf_dispose(&file);
}

/* The last chunk lacks its pad byte: appending adds it first. */
static void test_missing_pad(void **state)
{
	(void)state;
	aimark_buf file = AIMARK_BUF_INIT, out = AIMARK_BUF_INIT;
	small_avi(&file, NULL); /* ends with the 5-byte 00dc chunk and its pad */
	file.size--;            /* drop the pad */
	aimark__put_le32(file.ptr + 4, (uint32_t)(file.size - 8));
	size_t movi_list = (size_t)((const unsigned char *)memmem(file.ptr, file.size, "movi", 4) - file.ptr) - 8;
	aimark__put_le32(file.ptr + movi_list + 4, aimark__le32(file.ptr + movi_list + 4) - 1);
	assert_int_equal(label_mem(file.ptr, file.size, LABEL, &out), 0);
	assert_labelled(out.ptr, out.size, LABEL);
	const unsigned char *info = memmem(out.ptr, out.size, "INFO", 4);
	assert_int_equal((info - out.ptr - 8) % 2, 0); /* the new LIST starts on an even offset */
	aimark_buf_dispose(&file);
	aimark_buf_dispose(&out);
}

static void expect_read_error(const unsigned char *d, size_t len, int code, const char *needle)
{
	tu_expect_read_error(ops(), d, len, code, NULL, needle);
}

static void test_bad_input(void **state)
{
	(void)state;
	size_t len;
	unsigned char *d = tu_read_file(TU_DATA("avi/plain.avi"), &len);
	unsigned char *c = malloc(len);
	/* truncated: the RIFF size passes the end */
	expect_read_error(d, len - 100, AIMARK_EFORMAT, "RIFF size");
	expect_read_error(d, 10, AIMARK_EFORMAT, "too short");
	/* a chunk that lies about its size */
	memcpy(c, d, len);
	unsigned char *movi = memmem(c, len, "movi", 4);
	aimark__put_le32(movi - 4, 0x7FFFFFF0);
	expect_read_error(c, len, AIMARK_EFORMAT, "passing the end");
	/* an INFO sub-chunk that lies */
	memcpy(c, d, len);
	unsigned char *isft = memmem(c, len, "ISFT", 4);
	aimark__put_le32(isft + 4, 5000);
	expect_read_error(c, len, AIMARK_EFORMAT, "INFO sub-chunk");
	/* a LIST too short for its type */
	memcpy(c, d, len);
	unsigned char *info = memmem(c, len, "INFO", 4);
	aimark__put_le32(info - 4, 2);
	expect_read_error(c, len, AIMARK_EFORMAT, NULL);
	/* a RIFF size too small */
	memcpy(c, d, len);
	aimark__put_le32(c + 4, 2);
	expect_read_error(c, len, AIMARK_EFORMAT, "too small");
	free(c);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe_and_read),
		cmocka_unit_test(test_label_in_place),
		cmocka_unit_test(test_label_into_junk),
		cmocka_unit_test(test_label_appended),
		cmocka_unit_test(test_top_level_aigc_chunk),
		cmocka_unit_test(test_avix),
		cmocka_unit_test(test_missing_pad),
		cmocka_unit_test(test_bad_input),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

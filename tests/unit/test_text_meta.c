/* Plain-text backend: trailing "AIGC: {json}" line, essence without it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "core/internal.h"
#include "format/format.h"

extern const aimark__format_ops aimark__format_text;
#define TEXT (&aimark__format_text)

#define LABEL_BARE(id) TU_LABEL_BARE_BY("P", id)

static const aimark__label_write LABEL_A = TU_LABEL_OF(LABEL_BARE("txt-0001"));
static const aimark__label_write LABEL_B = TU_LABEL_OF(LABEL_BARE("txt-0002"));

static void test_probe_and_extension(void **state)
{
	assert_false(TEXT->probe((const unsigned char *)"AIGC: {}", 8));
	assert_string_equal(aimark_format_from_extension("poem.TXT"), "text");
}

static void test_round_trip(void **state)
{
	size_t n;
	unsigned char *p = tu_read_file(TU_DATA("text/poem.txt"), &n);
	tu_assert_essence_is(TEXT, p, n, "A generated poem.\nSecond line.", strlen("A generated poem.\nSecond line."));
	aimark_buf out = AIMARK_BUF_INIT, out2 = AIMARK_BUF_INIT;
	assert_int_equal(tu_write_mem(TEXT, p, n, &LABEL_A, &out), 0);
	assert_int_equal(out.size, n + 1 + 6 + LABEL_A.bare_len + 1);
	assert_memory_equal(out.ptr, p, n);
	assert_memory_equal(out.ptr + n, "\nAIGC: {", 8);
	assert_int_equal(out.ptr[out.size - 1], '\n');
	tu_assert_label(TEXT, out.ptr, out.size, "text-line", LABEL_A.bare_json);
	tu_assert_essence_is(TEXT, out.ptr, out.size, "A generated poem.\nSecond line.", strlen("A generated poem.\nSecond line."));
	/* relabel replaces the line */
	assert_int_equal(tu_write_mem(TEXT, out.ptr, out.size, &LABEL_B, &out2), 0);
	assert_int_equal(out2.size, out.size);
	tu_assert_label(TEXT, out2.ptr, out2.size, "text-line", LABEL_B.bare_json);
	tu_assert_essence_is(TEXT, out2.ptr, out2.size, "A generated poem.\nSecond line.", strlen("A generated poem.\nSecond line."));
	aimark_buf_dispose(&out);
	aimark_buf_dispose(&out2);
	free(p);
}

static void test_line_endings(void **state)
{
	aimark_buf out = AIMARK_BUF_INIT;
	/* no final newline */
	assert_int_equal(tu_write_mem(TEXT, "abc", 3, &LABEL_A, &out), 0);
	assert_memory_equal(out.ptr, "abc\n\nAIGC: {", 12);
	tu_assert_essence_is(TEXT, out.ptr, out.size, "abc", strlen("abc"));
	aimark_buf_dispose(&out);
	/* CRLF */
	assert_int_equal(tu_write_mem(TEXT, "l1\r\nl2\r\n", 8, &LABEL_A, &out), 0);
	assert_memory_equal(out.ptr, "l1\r\nl2\r\n\r\nAIGC: {", 17);
	assert_memory_equal(out.ptr + out.size - 3, "\"}\r\n" + 1, 3);
	tu_assert_label(TEXT, out.ptr, out.size, "text-line", LABEL_A.bare_json);
	tu_assert_essence_is(TEXT, out.ptr, out.size, "l1\r\nl2", strlen("l1\r\nl2"));
	aimark_buf_dispose(&out);
	/* an empty file */
	assert_int_equal(tu_write_mem(TEXT, "", 0, &LABEL_A, &out), 0);
	assert_memory_equal(out.ptr, "AIGC: {", 7);
	tu_assert_essence_is(TEXT, out.ptr, out.size, "", strlen(""));
	aimark_buf_dispose(&out);
}

static void test_lenient_forms(void **state)
{
	size_t n;
	unsigned char *p = tu_read_file(TU_DATA("text/labelled.txt"), &n);
	tu_assert_label(TEXT, p, n, "text-line", "{\"Label\":\"1\",\"ContentProducer\":\"p\",\"ProduceID\":\"1\",\"ReservedCode1\":\"\","
			   "\"ContentPropagator\":\"p\",\"PropagateID\":\"1\",\"ReservedCode2\":\"\"}");
	tu_assert_essence_is(TEXT, p, n, "A generated poem.", strlen("A generated poem."));
	free(p);
	static const char eq[] = "text\n  AIGC={\"Label\":\"1\"}  \n\n\n";
	aimark_findings *f = NULL;
	aimark__meta meta;
	assert_int_equal(aimark_findings_new(&f), 0);
	assert_int_equal(tu_read_mem(TEXT, eq, sizeof eq - 1, &meta, f), 0);
	assert_int_equal(meta.n_carriers, 1);
	assert_string_equal(meta.carriers[0].text, "{\"Label\":\"1\"}");
	assert_true(aimark_findings_has(f, "text-label-form"));
	aimark__meta_dispose(&meta);
	aimark_findings_free(f);
	/* a last line that only looks similar is text */
	static const char *const not_labels[] = { "AIGC: not json\n", "AIGCX: {}\n", "x\nAIGC: {\"a\":1}\nmore\n" };
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(tu_read_mem(TEXT, not_labels[i], strlen(not_labels[i]), &meta, NULL), 0);
		assert_int_equal(meta.n_carriers, 0);
		aimark__meta_dispose(&meta);
	}
}

static void test_content_edit_changes_essence(void **state)
{
	aimark_buf out = AIMARK_BUF_INIT;
	assert_int_equal(tu_write_mem(TEXT, "hello\n", 6, &LABEL_A, &out), 0);
	out.ptr[1] = 'a';
	tu_assert_essence_is(TEXT, out.ptr, out.size, "hallo", strlen("hallo"));
	aimark_buf_dispose(&out);
}

static void test_bad_input(void **state)
{
	aimark__meta meta;
	static const char bin[] = "PK\3\4\0\0binary";
	assert_int_equal(tu_read_mem(TEXT, bin, sizeof bin - 1, &meta, NULL), AIMARK_EFORMAT);
	assert_non_null(strstr(aimark_error_last(), "text: NUL byte at offset 4"));
	aimark__meta_dispose(&meta);
	static const char u16[] = "\xFE\xFF\0a";
	assert_int_equal(tu_read_mem(TEXT, u16, sizeof u16 - 1, &meta, NULL), AIMARK_EUNSUPPORTED);
	aimark__meta_dispose(&meta);
	/* a label JSON with a line break cannot be a line */
	static const char j[] = "{\"Label\":\n\"1\"}";
	aimark__label_write lw = { j, sizeof j - 1, j, sizeof j - 1 };
	aimark_buf out = AIMARK_BUF_INIT;
	assert_int_equal(tu_write_mem(TEXT, "x", 1, &lw, &out), AIMARK_EINVAL);
	aimark_buf_dispose(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe_and_extension),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_line_endings),
		cmocka_unit_test(test_lenient_forms),
		cmocka_unit_test(test_content_edit_changes_essence),
		cmocka_unit_test(test_bad_input),
	};
	return cmocka_run_group_tests_name("text_meta", tests, NULL, NULL);
}

/* Markdown backend: YAML front matter AIGC mapping, vendor variants (examples 6 and 8), essence. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "core/internal.h"
#include "format/format.h"

extern const aimark__format_ops aimark__format_markdown;
#define MD (&aimark__format_markdown)

#define LABEL_BARE(id) \
	"{\"Label\":\"1\",\"ContentProducer\":\"P\",\"ProduceID\":\"" id "\",\"ReservedCode1\":\"{\\\"a\\\":1}\"," \
	"\"ContentPropagator\":\"P\",\"PropagateID\":\"" id "\",\"ReservedCode2\":\"\"}"

static const aimark__label_write LABEL_A = TU_LABEL_OF(LABEL_BARE("it's-1"));
static const aimark__label_write LABEL_B = TU_LABEL_OF(LABEL_BARE("md-0002"));
static const char BLOCK_A[] = "AIGC:\n"
			      "  Label: '1'\n"
			      "  ContentProducer: 'P'\n"
			      "  ProduceID: 'it''s-1'\n"
			      "  ReservedCode1: '{\"a\":1}'\n"
			      "  ContentPropagator: 'P'\n"
			      "  PropagateID: 'it''s-1'\n"
			      "  ReservedCode2: ''\n";

static char *read_label(const void *data, size_t len, aimark_findings *f)
{
	aimark__meta meta;
	assert_int_equal(tu_read_mem(MD, data, len, &meta, f), 0);
	assert_int_equal(meta.n_carriers, 1);
	assert_string_equal(meta.carriers[0].kind, "markdown-front-matter");
	char *s = strdup(meta.carriers[0].text);
	aimark__meta_dispose(&meta);
	return s;
}

static void test_probe(void **state)
{
	assert_true(MD->probe((const unsigned char *)"---\ntitle: x\n", 13));
	assert_true(MD->probe((const unsigned char *)"\xEF\xBB\xBF---\r\n", 8));
	assert_false(MD->probe((const unsigned char *)"# Title\n", 8));
	assert_false(MD->probe((const unsigned char *)"----\n", 5));
}

static void test_tencent_example6(void **state)
{
	tu_blob b = tu_data_file("text", "tencent-s6.md");
	char *json = read_label(b.p, b.n, NULL);
	/* four-space indentation, one double-quoted and plain scalars, one starting with '/' */
	assert_string_equal(json,
		"{\"Label\":\"1\",\"ContentProducer\":\"001191440300708461136T1XGW3\",\"ProduceID\":"
		"\"4c8a8bb6f995287693e182da72e4edfd_e64ac392896811f1a68c525400826444\",\"ReservedCode1\":"
		"\"/dalwk828fZsu9Rx+AgHZaP1wtQ+whOuOhqdn5ihPNG0qU26lgVLG+cTToKnFcIututXPYP5kF2GuXeqx4j5qQgsTSP8z8JAt60Rjj1SK0R"
		"Da3V6hslC9kTHo8Cym+ZYNKUSSqo0xqCSkETHE6eq90kiNz/5hm+67yfpiLYTEPVAPiADl5tzgys2tIs=\",\"ContentPropagator\":"
		"\"001191440300708461136T1XGW3\",\"PropagateID\":\"4c8a8bb6f995287693e182da72e4edfd_e64ac392896811f1a68c52540082"
		"6444\",\"ReservedCode2\":\"/dalwk828fZsu9Rx+AgHZaP1wtQ+whOuOhqdn5ihPNG0qU26lgVLG+cTToKnFcIututXPYP5kF2GuXeqx4"
		"j5qQgsTSP8z8JAt60Rjj1SK0RDa3V6hslC9kTHo8Cym+ZYNKUSSqo0xqCSkETHE6eq90kiNz/5hm+67yfpiLYTEPVAPiADl5tzgys2tIs=\"}");
	tu_assert_essence_is(MD, b.p, b.n, "\n# 周报\n\n正文内容。\n", strlen("\n# 周报\n\n正文内容。\n"));
	/* relabel: the four-space block becomes ours, the body stays */
	aimark_buf out = AIMARK_BUF_INIT;
	assert_int_equal(tu_write_mem(MD, b.p, b.n, &LABEL_A, &out), 0);
	assert_memory_equal(out.ptr, "---\n", 4);
	assert_memory_equal(out.ptr + 4, BLOCK_A, sizeof BLOCK_A - 1);
	assert_memory_equal(out.ptr + 4 + sizeof BLOCK_A - 1, "---\n", 4);
	char *j2 = read_label(out.ptr, out.size, NULL);
	assert_string_equal(j2, LABEL_A.bare_json);
	tu_assert_same_essence(MD, b.p, b.n, out.ptr, out.size, 0);
	free(j2);
	free(json);
	aimark_buf_dispose(&out);
	free(b.p);
}

static void test_stepfun_example8(void **state)
{
	tu_blob b = tu_data_file("text", "stepfun-s8.md");
	char *json = read_label(b.p, b.n, NULL);
	json_error_t err;
	json_t *o = json_loads(json, 0, &err);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "Label")), "1");
	assert_string_equal(json_string_value(json_object_get(o, "ProduceID")), "142569260085903360");
	const char *rc1 = json_string_value(json_object_get(o, "ReservedCode1"));
	assert_non_null(rc1);
	assert_memory_equal(rc1, "{\"SecurityData\":{\"Type\":\"TC260PG\",\"Version\":1,\"PubSD\":[", 55);
	json_t *sd = json_loads(rc1, 0, &err); /* the single-quoted value is itself JSON */
	assert_non_null(sd);
	json_decref(sd);
	assert_int_equal(json_object_size(o), 7);
	json_decref(o);
	free(json);
	free(b.p);
}

static void test_other_keys_kept(void **state)
{
	tu_blob b = tu_data_file("text", "other-keys.md");
	aimark__meta meta;
	assert_int_equal(tu_read_mem(MD, b.p, b.n, &meta, NULL), 0);
	assert_int_equal(meta.n_carriers, 0);
	aimark__meta_dispose(&meta);
	aimark_buf out = AIMARK_BUF_INIT, out2 = AIMARK_BUF_INIT;
	assert_int_equal(tu_write_mem(MD, b.p, b.n, &LABEL_A, &out), 0);
	static const char head[] = "---\ntitle: \"Release notes\"\ntags: [a, b]\nauthor: someone # a comment\n";
	assert_memory_equal(out.ptr, head, sizeof head - 1);
	assert_memory_equal(out.ptr + sizeof head - 1, BLOCK_A, sizeof BLOCK_A - 1);
	char *j = read_label(out.ptr, out.size, NULL);
	assert_string_equal(j, LABEL_A.bare_json);
	tu_assert_same_essence(MD, b.p, b.n, out.ptr, out.size, 0);
	tu_assert_essence_is(MD, out.ptr, out.size, "Body line one.\nBody line two.\n", strlen("Body line one.\nBody line two.\n"));
	/* relabel replaces the block only */
	assert_int_equal(tu_write_mem(MD, out.ptr, out.size, &LABEL_B, &out2), 0);
	char *j2 = read_label(out2.ptr, out2.size, NULL);
	assert_string_equal(j2, LABEL_B.bare_json);
	assert_memory_equal(out2.ptr, head, sizeof head - 1);
	assert_int_equal(out2.size, out.size); /* 'it''s-1' and 'md-0002' have the same length */
	free(j);
	free(j2);
	aimark_buf_dispose(&out);
	aimark_buf_dispose(&out2);
	free(b.p);
}

static void test_string_form(void **state)
{
	tu_blob b = tu_data_file("text", "string-form.md");
	aimark_findings *f = NULL;
	assert_int_equal(aimark_findings_new(&f), 0);
	char *j = read_label(b.p, b.n, f);
	assert_string_equal(j, "{\"Label\":\"1\",\"ContentProducer\":\"p\",\"ProduceID\":\"it's\",\"ReservedCode1\":\"\","
			       "\"ContentPropagator\":\"p\",\"PropagateID\":\"i\",\"ReservedCode2\":\"\"}");
	assert_true(aimark_findings_has(f, "markdown-aigc-string"));
	aimark_findings_free(f);
	aimark_buf out = AIMARK_BUF_INIT;
	assert_int_equal(tu_write_mem(MD, b.p, b.n, &LABEL_B, &out), 0);
	assert_memory_equal(out.ptr, "---\ntitle: x\nAIGC:\n  Label: '1'\n", 32);
	char *j2 = read_label(out.ptr, out.size, NULL);
	assert_string_equal(j2, LABEL_B.bare_json);
	tu_assert_same_essence(MD, b.p, b.n, out.ptr, out.size, 0);
	free(j);
	free(j2);
	aimark_buf_dispose(&out);
	free(b.p);
}

static void test_create_front_matter(void **state)
{
	tu_blob b = tu_data_file("text", "plain.md");
	tu_assert_essence_is(MD, b.p, b.n, (const char *)b.p, strlen((const char *)b.p));
	aimark_buf out = AIMARK_BUF_INIT;
	assert_int_equal(tu_write_mem(MD, b.p, b.n, &LABEL_A, &out), 0);
	assert_memory_equal(out.ptr, "---\n", 4);
	assert_memory_equal(out.ptr + 4, BLOCK_A, sizeof BLOCK_A - 1);
	assert_memory_equal(out.ptr + 4 + sizeof BLOCK_A - 1, "---\n# No front matter", 21);
	assert_true(MD->probe(out.ptr, 64));
	tu_assert_same_essence(MD, b.p, b.n, out.ptr, out.size, 0);
	aimark_buf_dispose(&out);
	free(b.p);

	/* CRLF files get CRLF lines */
	b = tu_data_file("text", "crlf.md");
	assert_int_equal(tu_write_mem(MD, b.p, b.n, &LABEL_B, &out), 0);
	assert_non_null(strstr((char *)out.ptr, "author: someone # a comment\r\nAIGC:\r\n  Label: '1'\r\n"));
	assert_non_null(strstr((char *)out.ptr, "  ReservedCode2: ''\r\n---\r\nBody line one.\r\n"));
	char *j = read_label(out.ptr, out.size, NULL);
	assert_string_equal(j, LABEL_B.bare_json);
	tu_assert_same_essence(MD, b.p, b.n, out.ptr, out.size, 0);
	free(j);
	aimark_buf_dispose(&out);
	free(b.p);

	/* with a BOM the front matter goes after it; the BOM stays essence */
	static const char bom[] = "\xEF\xBB\xBFText.";
	assert_int_equal(tu_write_mem(MD, bom, sizeof bom - 1, &LABEL_B, &out), 0);
	assert_memory_equal(out.ptr, "\xEF\xBB\xBF---\nAIGC:\n", 12);
	tu_assert_same_essence(MD, bom, sizeof bom - 1, out.ptr, out.size, 0);
	aimark_buf_dispose(&out);
}

static void test_multiline_values(void **state)
{
	/* a quoted string form over three lines, then indented junk that belongs to it */
	static const char ml[] = "---\nAIGC: '{\"Label\":\"1\",\n    \"ProduceID\":\"a''b\",\n\n    \"X\":\"\"}'\n  stray: x\ntitle: t\n---\nbody\n";
	char *j = read_label(ml, sizeof ml - 1, NULL);
	assert_string_equal(j, "{\"Label\":\"1\", \"ProduceID\":\"a'b\",\n\"X\":\"\"}");
	free(j);
	aimark_buf out = AIMARK_BUF_INIT;
	assert_int_equal(tu_write_mem(MD, ml, sizeof ml - 1, &LABEL_B, &out), 0);
	assert_null(strstr((char *)out.ptr, "stray"));
	assert_non_null(strstr((char *)out.ptr, "  ReservedCode2: ''\ntitle: t\n---\nbody\n"));
	j = read_label(out.ptr, out.size, NULL);
	assert_string_equal(j, LABEL_B.bare_json);
	free(j);
	aimark_buf_dispose(&out);
	/* a plain value folded over indented lines, in the mapping */
	static const char pl[] = "---\nAIGC:\n  Label: '1'\n  ProduceID: abc\n    def\n---\n";
	j = read_label(pl, sizeof pl - 1, NULL);
	assert_string_equal(j, "{\"Label\":\"1\",\"ProduceID\":\"abc def\"}");
	free(j);
	/* an unclosed quote is an error */
	static const char uq[] = "---\nAIGC: '{\"Label\":\"1\"}\n---\nbody\n";
	aimark__meta meta;
	assert_int_equal(tu_read_mem(MD, uq, sizeof uq - 1, &meta, NULL), AIMARK_EFORMAT);
	assert_non_null(strstr(aimark_error_last(), "never closed"));
	aimark__meta_dispose(&meta);
}

static void test_non_string_values(void **state)
{
	/* a label that is not all strings is written as one JSON string */
	static const char j[] = "{\"Label\":\"1\",\"ReservedCode1\":null}";
	aimark__label_write lw = { j, sizeof j - 1, j, sizeof j - 1 };
	aimark_buf out = AIMARK_BUF_INIT;
	assert_int_equal(tu_write_mem(MD, "x\n", 2, &lw, &out), 0);
	assert_memory_equal(out.ptr, "---\nAIGC: '{\"Label\":\"1\",\"ReservedCode1\":null}'\n---\nx\n", 52);
	char *r = read_label(out.ptr, out.size, NULL);
	assert_string_equal(r, j);
	free(r);
	aimark_buf_dispose(&out);
}

static void test_bad_input(void **state)
{
	aimark__meta meta;
	static const char nul[] = "---\nAIGC:\n  Label: '1'\0\n---\n";
	assert_int_equal(tu_read_mem(MD, nul, sizeof nul - 1, &meta, NULL), AIMARK_EFORMAT);
	assert_non_null(strstr(aimark_error_last(), "Markdown: NUL byte"));
	aimark__meta_dispose(&meta);
	static const char notkv[] = "---\nAIGC:\n  - Label\n---\nx";
	assert_int_equal(tu_read_mem(MD, notkv, sizeof notkv - 1, &meta, NULL), AIMARK_EFORMAT);
	assert_non_null(strstr(aimark_error_last(), "AIGC mapping"));
	aimark__meta_dispose(&meta);
	static const char badutf[] = "---\nAIGC:\n  Label: '\xC3'\n---\nx";
	assert_int_equal(tu_read_mem(MD, badutf, sizeof badutf - 1, &meta, NULL), AIMARK_EFORMAT);
	assert_non_null(strstr(aimark_error_last(), "UTF-8"));
	aimark__meta_dispose(&meta);
	/* unclosed front matter: it is body, found nothing */
	aimark_findings *f = NULL;
	assert_int_equal(aimark_findings_new(&f), 0);
	static const char open[] = "---\nAIGC:\n  Label: '1'\n";
	assert_int_equal(tu_read_mem(MD, open, sizeof open - 1, &meta, f), 0);
	assert_int_equal(meta.n_carriers, 0);
	assert_true(aimark_findings_has(f, "markdown-front-matter-unclosed"));
	aimark__meta_dispose(&meta);
	aimark_findings_free(f);
	/* an empty mapping is a finding, and is replaced on write */
	static const char empty[] = "---\nAIGC:\ntitle: t\n---\nbody";
	f = NULL;
	assert_int_equal(aimark_findings_new(&f), 0);
	assert_int_equal(tu_read_mem(MD, empty, sizeof empty - 1, &meta, f), 0);
	assert_int_equal(meta.n_carriers, 0);
	assert_true(aimark_findings_has(f, "markdown-aigc-empty"));
	aimark__meta_dispose(&meta);
	aimark_findings_free(f);
	aimark_buf out = AIMARK_BUF_INIT;
	assert_int_equal(tu_write_mem(MD, empty, sizeof empty - 1, &LABEL_B, &out), 0);
	assert_memory_equal(out.ptr, "---\nAIGC:\n  Label: '1'\n", 23);
	assert_non_null(strstr((char *)out.ptr, "  ReservedCode2: ''\ntitle: t\n---\nbody"));
	aimark_buf_dispose(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe),
		cmocka_unit_test(test_tencent_example6),
		cmocka_unit_test(test_stepfun_example8),
		cmocka_unit_test(test_other_keys_kept),
		cmocka_unit_test(test_string_form),
		cmocka_unit_test(test_create_front_matter),
		cmocka_unit_test(test_multiline_values),
		cmocka_unit_test(test_non_string_values),
		cmocka_unit_test(test_bad_input),
	};
	return cmocka_run_group_tests_name("markdown_meta", tests, NULL, NULL);
}

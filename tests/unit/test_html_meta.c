/* HTML backend: <meta name="AIGC">, lenient tokenizer, insertion points, essence. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "core/internal.h"
#include "format/format.h"

extern const aimark__format_ops aimark__format_html;
#define HTML (&aimark__format_html)

#define LABEL_BARE(id) TU_LABEL_BARE_BY("P", id)
#define ESCAPED_A \
	"{&quot;Label&quot;:&quot;1&quot;,&quot;ContentProducer&quot;:&quot;P&quot;,&quot;ProduceID&quot;:" \
	"&quot;a&amp;b&lt;1&gt;&quot;"

static const aimark__label_write LABEL_A = TU_LABEL_OF(LABEL_BARE("a&b<1>"));
static const aimark__label_write LABEL_B = TU_LABEL_OF(LABEL_BARE("html-0002"));

static void test_probe(void **state)
{
	assert_true(HTML->probe((const unsigned char *)"<!DOCTYPE html>", 15));
	assert_true(HTML->probe((const unsigned char *)"\xEF\xBB\xBF  \n<HTML lang=en>", 22));
	assert_true(HTML->probe((const unsigned char *)"<!doctype HTML>", 15));
	assert_false(HTML->probe((const unsigned char *)"<p>fragment</p>", 15));
	assert_false(HTML->probe((const unsigned char *)"<?xml version", 13));
}

static void test_insert_in_head(void **state)
{
	tu_blob b = tu_data_file("text", "head.html");
	aimark__meta meta;
	assert_int_equal(tu_read_mem(HTML, b.p, b.n, &meta, NULL), 0);
	assert_int_equal(meta.n_carriers, 0); /* the ones in <title> and <script> are text */
	aimark__meta_dispose(&meta);
	aimark_buf out = AIMARK_BUF_INIT, out2 = AIMARK_BUF_INIT;
	assert_int_equal(tu_write_mem(HTML, b.p, b.n, &LABEL_A, &out), 0);
	const char *head = strstr((char *)out.ptr, "<head>");
	assert_non_null(head);
	assert_memory_equal(head + 6, "<meta name=\"AIGC\" content=\"" ESCAPED_A, strlen("<meta name=\"AIGC\" content=\"" ESCAPED_A));
	tu_assert_label(HTML, out.ptr, out.size, "html-meta", LABEL_A.bare_json);
	tu_assert_same_essence(HTML, b.p, b.n, out.ptr, out.size, 0);
	assert_int_equal(out.size, b.n + strlen("<meta name=\"AIGC\" content=\"\">") + strlen(ESCAPED_A) +
					   strlen(",&quot;ReservedCode1&quot;:&quot;&quot;,&quot;ContentPropagator&quot;:&quot;P&quot;,"
						  "&quot;PropagateID&quot;:&quot;a&amp;b&lt;1&gt;&quot;,&quot;ReservedCode2&quot;:&quot;&quot;}"));
	/* relabel replaces in place */
	assert_int_equal(tu_write_mem(HTML, out.ptr, out.size, &LABEL_B, &out2), 0);
	tu_assert_label(HTML, out2.ptr, out2.size, "html-meta", LABEL_B.bare_json);
	assert_null(strstr((char *)out2.ptr, "a&amp;b"));
	tu_assert_same_essence(HTML, b.p, b.n, out2.ptr, out2.size, 0);
	aimark_buf_dispose(&out);
	aimark_buf_dispose(&out2);
	free(b.p);
}

static void test_vendor_variant(void **state)
{
	tu_blob b = tu_data_file("text", "vendor.html");
	aimark_findings *f = NULL;
	aimark__meta meta;
	assert_int_equal(aimark_findings_new(&f), 0);
	assert_int_equal(tu_read_mem(HTML, b.p, b.n, &meta, f), 0);
	assert_int_equal(meta.n_carriers, 1);
	/* upper-case tag and attributes, single quotes, &amp; and &#x31; decoded */
	assert_string_equal(meta.carriers[0].text, "{\"Label\":\"1\",\"ContentProducer\":\"v&p\",\"ProduceID\":\"123\","
						   "\"ReservedCode1\":\"\",\"ContentPropagator\":\"v\",\"PropagateID\":\"1\","
						   "\"ReservedCode2\":\"\"}");
	assert_true(aimark_findings_has(f, "html-meta-name"));
	aimark__meta_dispose(&meta);
	aimark_findings_free(f);
	aimark_buf out = AIMARK_BUF_INIT;
	assert_int_equal(tu_write_mem(HTML, b.p, b.n, &LABEL_B, &out), 0);
	tu_assert_label(HTML, out.ptr, out.size, "html-meta", LABEL_B.bare_json);
	assert_null(strstr((char *)out.ptr, "META"));
	assert_non_null(strstr((char *)out.ptr, "<html><head><meta name=\"AIGC\""));
	tu_assert_same_essence(HTML, b.p, b.n, out.ptr, out.size, 0);
	aimark_buf_dispose(&out);
	free(b.p);
}

static void test_insertion_points(void **state)
{
	static const struct {
		const char *file, *before;
	} cases[] = {
		{ "nohead.html", "<!DOCTYPE html>\n<html><meta name=\"AIGC\"" },
		{ "fragment.html", "<meta name=\"AIGC\"" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		tu_blob b = tu_data_file("text", cases[i].file);
		aimark_buf out = AIMARK_BUF_INIT;
		assert_int_equal(tu_write_mem(HTML, b.p, b.n, &LABEL_B, &out), 0);
		assert_memory_equal(out.ptr, cases[i].before, strlen(cases[i].before));
		tu_assert_label(HTML, out.ptr, out.size, "html-meta", LABEL_B.bare_json);
		tu_assert_same_essence(HTML, b.p, b.n, out.ptr, out.size, 0);
		aimark_buf_dispose(&out);
		free(b.p);
	}
	/* only a doctype, with a BOM */
	static const char dt[] = "\xEF\xBB\xBF<!DOCTYPE html><p>x";
	aimark_buf out = AIMARK_BUF_INIT;
	assert_int_equal(tu_write_mem(HTML, dt, sizeof dt - 1, &LABEL_B, &out), 0);
	assert_memory_equal(out.ptr, "\xEF\xBB\xBF<!DOCTYPE html><meta name=\"AIGC\"", 35);
	aimark_buf_dispose(&out);
}

static void test_duplicates_removed(void **state)
{
	static const char doc[] = "<html><head><meta name=AIGC content='{\"Label\":\"2\"}'><!-- <meta name=\"AIGC\" content=\"x\"> -->"
				  "<meta content=\"{}\" name=\" AIGC \"/></head></html>";
	aimark_findings *f = NULL;
	aimark__meta meta;
	assert_int_equal(aimark_findings_new(&f), 0);
	assert_int_equal(tu_read_mem(HTML, doc, sizeof doc - 1, &meta, f), 0);
	assert_int_equal(meta.n_carriers, 1);
	assert_string_equal(meta.carriers[0].text, "{\"Label\":\"2\"}");
	assert_true(aimark_findings_has(f, "duplicate-label"));
	aimark__meta_dispose(&meta);
	aimark_findings_free(f);
	aimark_buf out = AIMARK_BUF_INIT;
	assert_int_equal(tu_write_mem(HTML, doc, sizeof doc - 1, &LABEL_B, &out), 0);
	const char *p = (const char *)out.ptr;
	size_t n = 0;
	for (const char *q = p; (q = strstr(q, "<meta")) != NULL; q++)
		n++;
	assert_int_equal(n, 2); /* ours and the one inside the comment */
	tu_assert_same_essence(HTML, doc, sizeof doc - 1, out.ptr, out.size, 0);
	aimark_buf_dispose(&out);
}

static void test_bad_input(void **state)
{
	aimark__meta meta;
	static const char nul[] = "<html>\0<head>";
	assert_int_equal(tu_read_mem(HTML, nul, sizeof nul - 1, &meta, NULL), AIMARK_EFORMAT);
	assert_non_null(strstr(aimark_error_last(), "HTML: NUL byte at offset 6"));
	aimark__meta_dispose(&meta);
	static const char u16[] = "\xFF\xFE<\0h\0";
	assert_int_equal(tu_read_mem(HTML, u16, sizeof u16 - 1, &meta, NULL), AIMARK_EUNSUPPORTED);
	aimark__meta_dispose(&meta);
	/* truncated inside a tag, an attribute and a comment: no crash, no label */
	static const char *const cut[] = { "<html><meta name=\"AIGC\" content=\"{", "<html><meta name=\"AIG", "<!-- <meta",
					   "<script><meta name=AIGC content={}>", "<" };
	for (size_t i = 0; i < sizeof cut / sizeof cut[0]; i++) {
		assert_int_equal(tu_read_mem(HTML, cut[i], strlen(cut[i]), &meta, NULL), 0);
		assert_int_equal(meta.n_carriers, i == 0 ? 1 : 0);
		aimark__meta_dispose(&meta);
	}
	/* an unterminated <html> tag is no insertion point: the element goes first */
	static const char open_tag[] = "<!DOCTYPE h>x<html lang='zh>";
	aimark_buf o2 = AIMARK_BUF_INIT;
	assert_int_equal(tu_write_mem(HTML, open_tag, sizeof open_tag - 1, &LABEL_B, &o2), 0);
	assert_memory_equal(o2.ptr, "<!DOCTYPE h><meta name=\"AIGC\"", 29);
	tu_assert_label(HTML, o2.ptr, o2.size, "html-meta", LABEL_B.bare_json);
	aimark_buf_dispose(&o2);
	/* an empty file gets the element */
	aimark_buf out = AIMARK_BUF_INIT;
	assert_int_equal(tu_write_mem(HTML, "", 0, &LABEL_B, &out), 0);
	tu_assert_label(HTML, out.ptr, out.size, "html-meta", LABEL_B.bare_json);
	aimark_buf_dispose(&out);
}

/*
 * The tokenizer agrees with the text layer's, which strips the same elements
 * before hashing the text: end tags have quoted attributes ('>' inside
 * quotes does not end them) and <xmp> holds raw text.
 */
static void test_end_tags_and_xmp(void **state)
{
	static const char *const hidden[] = { "<html></b x='>' <meta name=AIGC content=1>",
					      "<html><xmp><meta name=AIGC content=1></xmp>" };
	for (size_t i = 0; i < sizeof hidden / sizeof hidden[0]; i++) {
		aimark__meta meta;
		assert_int_equal(tu_read_mem(HTML, hidden[i], strlen(hidden[i]), &meta, NULL), 0);
		assert_int_equal(meta.n_carriers, 0);
		aimark__meta_dispose(&meta);
		aimark_buf out = AIMARK_BUF_INIT;
		assert_int_equal(tu_write_mem(HTML, hidden[i], strlen(hidden[i]), &LABEL_B, &out), 0);
		assert_memory_equal(out.ptr, "<html><meta name=\"AIGC\"", 23);
		tu_assert_label(HTML, out.ptr, out.size, "html-meta", LABEL_B.bare_json);
		tu_assert_same_essence(HTML, hidden[i], strlen(hidden[i]), out.ptr, out.size, 0);
		aimark_buf_dispose(&out);
	}
	static const char after[] = "<html><xmp>x</xmp y='>'><meta name=AIGC content=1>";
	aimark__meta meta;
	assert_int_equal(tu_read_mem(HTML, after, sizeof after - 1, &meta, NULL), 0);
	assert_int_equal(meta.n_carriers, 1); /* raw text ends at the first '>' of its end tag */
	aimark__meta_dispose(&meta);
}

/*
 * Removing an extra element must not join its neighbours into new markup:
 * here the '<' before it and the "b" after it would open a tag that hides
 * the <title>, and the text inside the title would parse as a third label.
 */
static void test_removal_changes_parse_refused(void **state)
{
	static const char doc[] = "<html><meta name=AIGC content=1>x<<meta name=AIGC content=2>b <title>"
				  "<meta name=AIGC content=3></title>";
	aimark__meta meta;
	assert_int_equal(tu_read_mem(HTML, doc, sizeof doc - 1, &meta, NULL), 0);
	assert_int_equal(meta.n_essence, 3); /* two elements; the third is title text */
	aimark__meta_dispose(&meta);
	aimark_buf out = AIMARK_BUF_INIT;
	assert_int_equal(tu_write_mem(HTML, doc, sizeof doc - 1, &LABEL_B, &out), AIMARK_EFORMAT);
	assert_non_null(strstr(aimark_error_last(), "would change how the text around them parses"));
	assert_int_equal(out.size, 0);
	aimark_buf_dispose(&out);
}

/*
 * A document recognised as HTML by its doctype or <html> tag whose leading
 * tag never ends (or is misnamed) has no place for the element: in front of
 * it the file would no longer be recognised as HTML, so writing is refused.
 */
static void test_unterminated_lead_refused(void **state)
{
	static const char *const docs[] = { "<!DOCTYPE html lang=\"zh\" <meta name=\"AIGC\" x", "\n <html lang='zh>\n<p>x</p>",
					    "\xEF\xBB\xBF<htmlx>\n<p>x</p>" };
	for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
		aimark_buf out = AIMARK_BUF_INIT;
		assert_true(HTML->probe((const unsigned char *)docs[i], strlen(docs[i])));
		assert_int_equal(tu_write_mem(HTML, docs[i], strlen(docs[i]), &LABEL_B, &out), AIMARK_EFORMAT);
		assert_non_null(strstr(aimark_error_last(), "HTML: the doctype or <html> tag at offset"));
		aimark_buf_dispose(&out);
	}
}

/*
 * The carrier is what format/html_lex.c calls one, the same test the text
 * layers apply: the first `name` attribute, however many attributes come
 * before it, a `content` attribute, and references decoded as in text.
 */
static void test_carrier_rules(void **state)
{
	aimark_buf doc = AIMARK_BUF_INIT;
	assert_int_equal(aimark__buf_append_str(&doc, "<html><meta"), 0);
	for (int i = 0; i < 40; i++)
		assert_int_equal(aimark__buf_printf(&doc, " data-%d", i), 0);
	assert_int_equal(aimark__buf_append_str(&doc, " name=AIGC content=\"{&quot;a&quot;:&quot;x&nbsp;y&#x4E2D;&quot;}\">t"), 0);
	aimark__meta meta;
	assert_int_equal(tu_read_mem(HTML, doc.ptr, doc.size, &meta, NULL), 0);
	tu_assert_carrier(&meta, "html-meta", "{\"a\":\"x\xC2\xA0y\xE4\xB8\xAD\"}");
	aimark__meta_dispose(&meta);
	aimark_buf out = AIMARK_BUF_INIT;
	assert_int_equal(tu_write_mem(HTML, doc.ptr, doc.size, &LABEL_B, &out), 0);
	tu_assert_label(HTML, out.ptr, out.size, "html-meta", LABEL_B.bare_json);
	assert_null(strstr((char *)out.ptr, "data-39"));
	aimark_buf_dispose(&out);
	aimark_buf_dispose(&doc);

	/* without content, or with another name first, it is not the carrier: it stays, and one is added */
	static const char *const not_carrier[] = { "<html><meta name=\"AIGC\">t", "<html><meta name=x name=AIGC content=1>t",
						   "<html><meta name=AIGC/ content=1>t" };
	for (size_t i = 0; i < sizeof not_carrier / sizeof not_carrier[0]; i++) {
		assert_int_equal(tu_read_mem(HTML, not_carrier[i], strlen(not_carrier[i]), &meta, NULL), 0);
		assert_int_equal(meta.n_carriers, 0);
		assert_int_equal(meta.n_essence, 1);
		aimark__meta_dispose(&meta);
		assert_int_equal(tu_write_mem(HTML, not_carrier[i], strlen(not_carrier[i]), &LABEL_B, &out), 0);
		assert_non_null(strstr((char *)out.ptr, not_carrier[i] + 6));
		tu_assert_label(HTML, out.ptr, out.size, "html-meta", LABEL_B.bare_json);
		tu_assert_same_essence(HTML, not_carrier[i], strlen(not_carrier[i]), out.ptr, out.size, 0);
		aimark_buf_dispose(&out);
	}
}

/* Quotes, comments, CDATA and raw text hide look-alike carriers; uppercase markup is still markup. */
static void test_hidden_lookalikes(void **state)
{
	static const char doc[] = "<!DOCTYPE html><HTML><HEAD><TITLE><meta name=AIGC content=1></TITLE>"
				  "<SCRIPT>x = '</scr' + 'ipt><meta name=AIGC content=2>'</SCRIPT>"
				  "<!-- <meta name=AIGC content=3> --><![CDATA[ <meta name=AIGC content=4 ]]>"
				  "<p title='<meta name=AIGC content=5>'></HEAD><BODY>t</BODY></HTML>";
	aimark__meta meta;
	assert_int_equal(tu_read_mem(HTML, doc, sizeof doc - 1, &meta, NULL), 0);
	assert_int_equal(meta.n_carriers, 0);
	aimark__meta_dispose(&meta);
	aimark_buf out = AIMARK_BUF_INIT;
	assert_int_equal(tu_write_mem(HTML, doc, sizeof doc - 1, &LABEL_B, &out), 0);
	assert_non_null(strstr((char *)out.ptr, "<HEAD><meta name=\"AIGC\" content=\"{"));
	tu_assert_label(HTML, out.ptr, out.size, "html-meta", LABEL_B.bare_json);
	tu_assert_same_essence(HTML, doc, sizeof doc - 1, out.ptr, out.size, 0);
	aimark_buf_dispose(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe),
		cmocka_unit_test(test_insert_in_head),
		cmocka_unit_test(test_vendor_variant),
		cmocka_unit_test(test_insertion_points),
		cmocka_unit_test(test_duplicates_removed),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_end_tags_and_xmp),
		cmocka_unit_test(test_unterminated_lead_refused),
		cmocka_unit_test(test_removal_changes_parse_refused),
		cmocka_unit_test(test_carrier_rules),
		cmocka_unit_test(test_hidden_lookalikes),
	};
	return cmocka_run_group_tests_name("html_meta", tests, NULL, NULL);
}

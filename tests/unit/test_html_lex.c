/* The shared HTML tokenizer: token boundaries on tricky input, and mark -> verify of documents built from them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "core/internal.h"
#include "format/html_lex.h"

#define PRODUCER "001191110102MACQD9K64010000"
#define MAX_TOKS 256

typedef struct toks {
	aimark__html_token v[MAX_TOKS];
	size_t n;
} toks;

/*
 * Lexes s from `from` and checks what holds for every input: the tokens
 * cover [from, n) exactly once, in order, each non-empty but raw text; raw
 * text follows exactly the start tags flagged raw; only the last token of
 * the input (or the raw text / end tag at it) may be unterminated.
 */
static void lex_all(const unsigned char *s, size_t n, size_t from, toks *t)
{
	aimark__html_lex lx;
	aimark__html_lex_init(&lx, s, n, from);
	size_t pos = from < n ? from : n;
	int expect_raw = 0;
	t->n = 0;
	aimark__html_token x;
	while (aimark__html_lex_next(&lx, &x)) {
		assert_true(t->n < MAX_TOKS);
		if (x.begin != pos)
			fail_msg("token %zu begins at %zu, the previous one ended at %zu", t->n, x.begin, pos);
		assert_true(x.end <= n);
		assert_true(x.end > x.begin || x.type == AIMARK__HTML_RAW);
		assert_int_equal(expect_raw, x.type == AIMARK__HTML_RAW);
		if (x.unterminated)
			assert_int_equal(x.end, n);
		expect_raw = x.type == AIMARK__HTML_START && x.raw;
		pos = x.end;
		t->v[t->n++] = x;
	}
	assert_false(expect_raw);
	assert_int_equal(pos, from < n ? n : pos);
}

static void assert_tok(const unsigned char *s, const aimark__html_token *t, aimark__html_tok_type type, const char *text)
{
	if (t->type != type || t->end - t->begin != strlen(text) || memcmp(s + t->begin, text, strlen(text)) != 0)
		fail_msg("token type %d \"%.*s\", expected type %d \"%s\"", (int)t->type, (int)(t->end - t->begin),
			 (const char *)s + t->begin, (int)type, text);
}

static void test_quotes_hold_markup(void **state)
{
	(void)state;
	static const char s[] = "<P TITLE=\"a > b </p>\" data-x='</script>' hidden checked=>text</P >";
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	toks t;
	lex_all(p, n, 0, &t);
	assert_int_equal(t.n, 3);
	assert_tok(p, &t.v[0], AIMARK__HTML_START, "<P TITLE=\"a > b </p>\" data-x='</script>' hidden checked=>");
	assert_true(aimark__html_tag_is(p, &t.v[0], "p"));
	assert_tok(p, &t.v[1], AIMARK__HTML_TEXT, "text");
	assert_tok(p, &t.v[2], AIMARK__HTML_END, "</P >");

	/* attributes: values as written, with and without quotes and values */
	static const char *const names[] = { "TITLE", "data-x", "hidden", "checked" };
	static const char *const vals[] = { "a > b </p>", "</script>", NULL, "" };
	size_t pos = t.v[0].attrs, k = 0;
	aimark__html_attr a;
	while (aimark__html_attr_next(p, n, &pos, &a)) {
		assert_true(k < 4);
		assert_true(aimark__html_ci_eq(p + a.name, a.name_len, k == 0 ? "title" : names[k]));
		assert_int_equal(a.has_val, vals[k] != NULL);
		if (vals[k]) {
			assert_int_equal(a.val_len, strlen(vals[k]));
			assert_memory_equal(p + a.val, vals[k], a.val_len);
		}
		k++;
	}
	assert_int_equal(k, 4);
	assert_int_equal(pos, t.v[0].end);
	assert_true(aimark__html_attr_find(p, n, &t.v[0], "hidden", &a));
	assert_false(aimark__html_attr_find(p, n, &t.v[0], "hid", &a));
	assert_false(aimark__html_attr_find(p, n, &t.v[1], "hidden", &a)); /* text has no attributes */
}

static void test_raw_text(void **state)
{
	(void)state;
	static const char s[] = "<XMP><p>'</xm\"</XMPx>a<script type=\"x>\">if (a</b) s = '</scr' + 'ipt>';</SCRIPT foo=\">\">z"
				"<textarea/>&amp;</textarea><title></title>";
	const unsigned char *p = (const unsigned char *)s;
	toks t;
	lex_all(p, strlen(s), 0, &t);
	assert_int_equal(t.n, 14);
	assert_tok(p, &t.v[0], AIMARK__HTML_START, "<XMP>");
	assert_true(t.v[0].raw);
	/* raw text runs to the first "</xmp", whatever follows the name */
	assert_tok(p, &t.v[1], AIMARK__HTML_RAW, "<p>'</xm\"");
	assert_int_equal(t.v[1].raw_open, 0);
	assert_tok(p, &t.v[2], AIMARK__HTML_END, "</XMPx>");
	assert_true(t.v[2].raw);
	assert_tok(p, &t.v[3], AIMARK__HTML_TEXT, "a");
	assert_tok(p, &t.v[4], AIMARK__HTML_START, "<script type=\"x>\">");
	assert_tok(p, &t.v[5], AIMARK__HTML_RAW, "if (a</b) s = '</scr' + 'ipt>';");
	/* the raw element's end tag ends at its first '>', quotes or not */
	assert_tok(p, &t.v[6], AIMARK__HTML_END, "</SCRIPT foo=\">");
	assert_true(aimark__html_tag_is(p, &t.v[6], "script"));
	assert_false(aimark__html_attr_find(p, strlen(s), &t.v[6], "foo", NULL));
	assert_tok(p, &t.v[7], AIMARK__HTML_TEXT, "\">z");
	assert_tok(p, &t.v[8], AIMARK__HTML_START, "<textarea/>");
	assert_true(t.v[8].self_close && t.v[8].raw); /* "/>" does not end raw text */
	assert_tok(p, &t.v[9], AIMARK__HTML_RAW, "&amp;");
	assert_tok(p, &t.v[10], AIMARK__HTML_END, "</textarea>");
	assert_tok(p, &t.v[11], AIMARK__HTML_START, "<title>");
	assert_int_equal(t.v[12].type, AIMARK__HTML_RAW);
	assert_int_equal(t.v[12].begin, t.v[12].end);
	assert_tok(p, &t.v[13], AIMARK__HTML_END, "</title>");
}

static void test_comments_and_declarations(void **state)
{
	(void)state;
	static const char s[] = "\xEF\xBB\xBF<!DocType html><!--a<b>--x-->< p><![CDATA[ x > y ]]><?php echo 1 ?>a<1<!---->"
				"<!-- never closed <p>";
	const unsigned char *p = (const unsigned char *)s;
	toks t;
	lex_all(p, strlen(s), 3, &t);
	assert_int_equal(t.n, 12);
	assert_tok(p, &t.v[0], AIMARK__HTML_DOCTYPE, "<!DocType html>");
	assert_tok(p, &t.v[1], AIMARK__HTML_COMMENT, "<!--a<b>--x-->");
	assert_tok(p, &t.v[2], AIMARK__HTML_TEXT, "<"); /* "< p" opens no tag */
	assert_tok(p, &t.v[3], AIMARK__HTML_TEXT, " p>");
	/* CDATA and processing instructions end at the first '>' */
	assert_tok(p, &t.v[4], AIMARK__HTML_DECL, "<![CDATA[ x >");
	assert_tok(p, &t.v[5], AIMARK__HTML_TEXT, " y ]]>");
	assert_tok(p, &t.v[6], AIMARK__HTML_DECL, "<?php echo 1 ?>");
	assert_tok(p, &t.v[7], AIMARK__HTML_TEXT, "a");
	assert_tok(p, &t.v[8], AIMARK__HTML_TEXT, "<");
	assert_tok(p, &t.v[9], AIMARK__HTML_TEXT, "1");
	/* "<!---->" is a complete empty comment; the last one runs to the end */
	assert_tok(p, &t.v[10], AIMARK__HTML_COMMENT, "<!---->");
	assert_false(t.v[10].unterminated);
	assert_tok(p, &t.v[11], AIMARK__HTML_COMMENT, "<!-- never closed <p>");
	assert_true(t.v[11].unterminated);
	for (size_t i = 0; i < 11; i++)
		assert_false(t.v[i].unterminated);
}

/* Every prefix of a document: the invariants hold and whatever is cut open is flagged. */
static void test_truncated(void **state)
{
	(void)state;
	static const char s[] = "<!doctype html><html><head><meta name=\"AIGC\" content='{\"a\":\"x>y\"}'><style>a{}</style></head>"
				"<body><!-- c --><xmp></XMP><p a=b c>t&amp;</p></body></html>";
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	toks full, t;
	lex_all(p, n, 0, &full);
	unsigned char boundary[sizeof s] = { 0 };
	for (size_t i = 0; i < full.n; i++)
		boundary[full.v[i].end] = 1;
	for (size_t k = 1; k <= n; k++) {
		lex_all(p, k, 0, &t);
		const aimark__html_token *last = &t.v[t.n - 1];
		if (last->type == AIMARK__HTML_RAW)
			assert_true(last->unterminated); /* the end tag is not in the prefix */
		else if (boundary[k] ? last->unterminated : !last->unterminated && last->type != AIMARK__HTML_TEXT)
			fail_msg("prefix of %zu bytes: last token \"%.*s\" unterminated=%d", k, (int)(last->end - last->begin),
				 s + last->begin, last->unterminated);
		/* the prefix tokenizes as the whole document did up to the cut (the last two tokens may differ: "<" "/") */
		for (size_t i = 0; i + 2 < t.n; i++)
			assert_memory_equal(&t.v[i], &full.v[i], sizeof t.v[i]);
	}
	/* a start from past the end yields nothing */
	aimark__html_lex lx;
	aimark__html_token x;
	aimark__html_lex_init(&lx, p, 5, 9);
	assert_int_equal(aimark__html_lex_next(&lx, &x), 0);
}

static void test_aigc_meta(void **state)
{
	(void)state;
	static const struct { const char *html; int is; } cases[] = {
		{ "<meta name=\"AIGC\" content=\"x\">", 1 },
		{ "<META Name=' aigc\n' CONTENT>", 1 },
		{ "<meta content=x name=aigc />", 1 },
		{ "<meta content=x name=aigc/>", 0 },              /* the unquoted value is "aigc/" */
		{ "<meta name=\"AIGC\">", 0 },                     /* no content */
		{ "<meta name content=x>", 0 },                    /* name without value */
		{ "<meta name=other name=AIGC content=x>", 0 },    /* the first name counts */
		{ "<meta name=AIGCX content=x>", 0 },
		{ "<metax name=AIGC content=x>", 0 },
		{ "</meta name=AIGC content=x>", 0 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const unsigned char *p = (const unsigned char *)cases[i].html;
		toks t;
		lex_all(p, strlen(cases[i].html), 0, &t);
		assert_int_equal(t.n, 1);
		if (aimark__html_is_aigc_meta(p, strlen(cases[i].html), &t.v[0], NULL, NULL) != cases[i].is)
			fail_msg("%s: expected %d", cases[i].html, cases[i].is);
	}
	/* attributes past any fixed count are still read */
	aimark_buf b = AIMARK_BUF_INIT;
	assert_int_equal(aimark__buf_append_str(&b, "<meta"), 0);
	for (int i = 0; i < 100; i++)
		assert_int_equal(aimark__buf_printf(&b, " a%d=%d", i, i), 0);
	assert_int_equal(aimark__buf_append_str(&b, " name=AIGC content=\"{}\">"), 0);
	toks t;
	lex_all(b.ptr, b.size, 0, &t);
	aimark__html_attr c;
	assert_true(aimark__html_is_aigc_meta(b.ptr, b.size, &t.v[0], NULL, &c));
	assert_int_equal(c.val_len, 2);
	aimark_buf_dispose(&b);
}

static void test_decode_refs(void **state)
{
	(void)state;
	static const struct { const char *in, *out; } cases[] = {
		{ "AT&amp;T &lt;&gt;&quot;&apos;", "AT&T <>\"'" },
		{ "&#x4E2D;&#20013;&#X4e2d", "\xE4\xB8\xAD\xE4\xB8\xAD\xE4\xB8\xAD" },
		{ "a&nbsp;b", "a\xC2\xA0" "b" },
		{ "&#0;&#xD800;&#x110000;", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD" },
		{ "&copy; &AMP; & &# &#x &#;", "&copy; &AMP; & &# &#x &#;" },
		{ "&#x41424344454647", "\xEF\xBF\xBD" "454647" }, /* at most 8 digits */
		{ "&", "&" },
		{ "", "" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		aimark_buf out = AIMARK_BUF_INIT;
		assert_int_equal(aimark__html_decode_refs((const unsigned char *)cases[i].in, strlen(cases[i].in), &out), 0);
		if (out.size != strlen(cases[i].out) || (out.size && memcmp(out.ptr, cases[i].out, out.size) != 0))
			fail_msg("\"%s\" decoded to \"%.*s\"", cases[i].in, (int)out.size, out.ptr ? (const char *)out.ptr : "");
		aimark_buf_dispose(&out);
	}
}

/* ---- mark -> verify ---- */

#define WORDS \
	"Every paragraph here holds plain words enough for the invisible mark to find its base characters, and then " \
	"some more ordinary words follow so that the text is long enough to carry several frames of the mark. "

static const char *const TRICKY[] = {
	/* quotes holding '>' and "</", uppercase tags, attributes without values */
	"<!DOCTYPE html>\n<HTML LANG=en><HEAD><TITLE>T > </TITLE></HEAD>\n<BODY CLASS=x>\n"
	"<P TITLE=\"a > b </p> </body>\" data-x='</script>'>" WORDS "</P>\n<INPUT DISABLED CHECKED>\n"
	"<P>" WORDS "</P >\n</BODY>\n</HTML>\n",
	/* script and xmp holding fake end tags and a fake label carrier */
	"<!doctype html>\n<html><head><script>var s = \"</scr\" + \"ipt>\"; var t = '</body>';</script>\n"
	"<style>/* </style */ p{}</style></head><body>\n<xmp><meta name=\"AIGC\" content=\"{}\"></body></xmp>\n"
	"<p>" WORDS "</p>\n<script>document.write('<p>" WORDS "</p>')</SCRIPT >\n<p>" WORDS "</p>\n</body></html>\n",
	/* CDATA, comments that hold markup, and a comment left open at the end */
	"<!doctype html>\n<html><head><!-- <meta name=\"AIGC\" content=\"x\"> --></head><body>\n"
	"<svg><![CDATA[ a > b ]]></svg>\n<p>" WORDS "</p>\n<!-- <p>" WORDS "</p> -->\n<p>" WORDS "</p>\n"
	"</body></html>\n<!-- left open <p>",
	/* a UTF-8 BOM, character references, a textarea, no <head> or <body> */
	"\xEF\xBB\xBF<!DOCTYPE html>\n<title>x</title>\n<p>AT&amp;T &lt;tag&gt; &#x4E2D;&nbsp;" WORDS "</p>\n"
	"<textarea name=t></textarea ><p>" WORDS "</p>\n",
	/* an AIGC meta element without content (not a carrier) and a '<' that opens nothing */
	"<!doctype html>\n<html><head><meta name=\"AIGC\"><meta charset=utf-8></head><body>\n"
	"<p>a < b and " WORDS "</p>\n<p>" WORDS "</p>\n</body></html>\n",
};

static void test_mark_verify(void **state)
{
	(void)state;
	aimark_key *key = NULL;
	aimark_trust *trust = NULL;
	aimark_wm_key *wk = NULL;
	assert_int_equal(aimark_key_generate(&key, AIMARK_ALG_SM2), 0);
	assert_int_equal(aimark_trust_new(&trust), 0);
	assert_int_equal(aimark_trust_add_key(trust, key), 0);
	assert_int_equal(aimark_wm_key_generate(&wk), 0);
	const unsigned int layer_sets[] = { 0, AIMARK_LAYER_EXPLICIT | AIMARK_LAYER_WATERMARK };
	for (size_t i = 0; i < sizeof TRICKY / sizeof TRICKY[0]; i++) {
		for (size_t l = 0; l < 2; l++) {
			aimark_mark_options o = AIMARK_MARK_OPTIONS_INIT;
			o.content_producer = PRODUCER;
			o.key = key;
			o.layers = layer_sets[l];
			o.watermark_key = wk;
			o.explicit_language = "en";
			aimark_buf out = AIMARK_BUF_INIT;
			aimark_mark_result res;
			if (aimark_mark_memory(TRICKY[i], strlen(TRICKY[i]), &o, &out, &res) != 0)
				fail_msg("document %zu, layers %u: mark failed: %s", i, layer_sets[l], aimark_error_last());
			assert_string_equal(res.format, "html");
			aimark_verify_options vo = AIMARK_VERIFY_OPTIONS_INIT;
			const aimark_wm_key *keys[1] = { wk };
			vo.trust = trust;
			vo.watermark_keys = keys;
			vo.n_watermark_keys = 1;
			aimark_report *r = NULL;
			assert_int_equal(aimark_verify_memory(out.ptr, out.size, &vo, &r), 0);
			if (aimark_report_verdict(r) != AIMARK_VERDICT_AUTHENTIC || aimark_report_content(r) != AIMARK_CONTENT_UNCHANGED)
				fail_msg("document %zu, layers %u: verdict %s, content %s", i, layer_sets[l],
					 aimark_verdict_name(aimark_report_verdict(r)),
					 aimark_content_status_name(aimark_report_content(r)));
			aimark_report_free(r);
			/* exactly one carrier was written, and it is a complete element */
			const char *m = strstr((const char *)out.ptr, "<meta name=\"AIGC\" content=\"{");
			assert_non_null(m);
			assert_null(strstr(m + 1, "<meta name=\"AIGC\" content=\"{&quot;"));
			aimark_buf_dispose(&out);
		}
	}
	aimark_wm_key_free(wk);
	aimark_trust_free(trust);
	aimark_key_free(key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quotes_hold_markup),
		cmocka_unit_test(test_raw_text),
		cmocka_unit_test(test_comments_and_declarations),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_aigc_meta),
		cmocka_unit_test(test_decode_refs),
		cmocka_unit_test(test_mark_verify),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * The text layers' hooks (src/text/text_stage.h): explicit labels, the
 * invisible signed mark and the normalised body, for text, Markdown and HTML.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "core/internal.h"
#include "text/text_stage.h"

static const unsigned char PAYLOAD[8] = { 0x6f, 0x1c, 0x0d, 0x2a, 0x9b, 0x8e, 0x4f, 0x7a };
static const char ZH_LABEL[] = "\xe6\x9c\xac\xe5\x86\x85\xe5\xae\xb9\xe7\x94\xb1\xe4\xba\xba\xe5\xb7\xa5\xe6\x99\xba\xe8\x83\xbd\xe7\x94\x9f\xe6\x88\x90";

/* Public-domain prose (The Devil's Dictionary, tests/data/text-corpus) and Chinese of our own. */
static const char CHINESE[] =
	"\xe4\xba\xba\xe5\xb7\xa5\xe6\x99\xba\xe8\x83\xbd\xe6\xad\xa3\xe5\x9c\xa8\xe6\x94\xb9\xe5\x8f\x98\xe6\x88\x91\xe4\xbb\xac\xe7\x9a\x84\xe7\x94\x9f\xe6\xb4\xbb\xe3\x80\x82"
	"\xe5\xae\x83\xe5\x8f\xaf\xe4\xbb\xa5\xe5\xb8\xae\xe5\x8a\xa9\xe4\xba\xba\xe4\xbb\xac\xe5\x86\x99\xe4\xbd\x9c\xe3\x80\x81\xe7\xbf\xbb\xe8\xaf\x91\xe5\x92\x8c\xe7\xbc\x96\xe7\xa8\x8b\xef\xbc\x8c"
	"\xe4\xbd\x86\xe4\xb9\x9f\xe5\xb8\xa6\xe6\x9d\xa5\xe4\xba\x86\xe6\x96\xb0\xe7\x9a\x84\xe9\x97\xae\xe9\xa2\x98\xe3\x80\x82\n";

typedef struct fixture {
	aimark_wm_key *key, *other;
	unsigned char *prose;
	size_t prose_len;
} fixture;

static aimark_wm_key *make_key(unsigned char seed)
{
	unsigned char b[AIMARK_WM_KEY_BYTES];
	for (int i = 0; i < AIMARK_WM_KEY_BYTES; i++)
		b[i] = (unsigned char)(seed ^ (17 * i));
	aimark_wm_key *k = NULL;
	assert_int_equal(aimark_wm_key_new(&k, b), 0);
	return k;
}

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof *f);
	f->key = make_key(1);
	f->other = make_key(2);
	size_t n;
	unsigned char *all = tu_read_file(TU_DATA("text-corpus/devils-dictionary.txt"), &n);
	/* 12 KB from the middle of the corpus */
	f->prose_len = 12000;
	f->prose = malloc(f->prose_len + 1);
	memcpy(f->prose, all + 100000, f->prose_len);
	f->prose[f->prose_len] = 0;
	free(all);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	aimark_wm_key_free(f->key);
	aimark_wm_key_free(f->other);
	free(f->prose);
	free(f);
	return 0;
}

static void mark(const fixture *f, const void *in, size_t len, const char *format, unsigned layers, const char *pos,
		 const char *lang, aimark_buf *out)
{
	aimark_mark_options o = AIMARK_MARK_OPTIONS_INIT;
	o.layers = layers;
	o.watermark_key = f->key;
	o.explicit_position = pos;
	o.explicit_language = lang;
	if (aimark__text_stage(in, len, format, &o, PAYLOAD, out) != 0)
		fail_msg("text stage: %s", aimark_error_last());
}

/* Detects with the fixture's key; returns the watermark object's "detected" and fills the explicit position. */
static int detect(const fixture *f, const void *data, size_t len, const char *format, char *position, size_t pos_size)
{
	const aimark_wm_key *keys[1] = { f->key };
	json_t *e = NULL, *w = NULL;
	if (aimark__text_detect(data, len, format, keys, 1, &e, &w) != 0)
		fail_msg("text detect: %s", aimark_error_last());
	if (position) {
		const char *p = json_string_value(json_object_get(e, "position"));
		snprintf(position, pos_size, "%s", p ? p : "none");
	}
	int detected = json_is_true(json_object_get(w, "detected"));
	if (detected) {
		assert_string_equal(json_string_value(json_object_get(w, "payload")), "6f1c0d2a9b8e4f7a");
		assert_true(json_real_value(json_object_get(w, "false_alarm_probability")) <= 1e-9);
		assert_true(json_is_true(json_object_get(w, "authenticated")));
	}
	json_decref(e);
	json_decref(w);
	return detected;
}

static void normalize(const void *data, size_t len, const char *format, aimark_buf *out)
{
	if (aimark__text_normalize(data, len, format, out) != 0)
		fail_msg("normalize: %s", aimark_error_last());
}

static int same_normal(const void *a, size_t an, const void *b, size_t bn, const char *format)
{
	aimark_buf x = AIMARK_BUF_INIT, y = AIMARK_BUF_INIT;
	normalize(a, an, format, &x);
	normalize(b, bn, format, &y);
	int same = x.size == y.size && (x.size == 0 || memcmp(x.ptr, y.ptr, x.size) == 0);
	aimark_buf_dispose(&x);
	aimark_buf_dispose(&y);
	return same;
}

/* Removes every mark character (U+E0100..U+E01EF: F3 A0 84..87 xx) in place; returns how many. */
static size_t strip_marks(unsigned char *s, size_t *len)
{
	size_t w = 0, n = 0;
	for (size_t i = 0; i < *len;) {
		if (i + 4 <= *len && s[i] == 0xF3 && s[i + 1] == 0xA0 && s[i + 2] >= 0x84 && s[i + 2] <= 0x87) {
			i += 4;
			n++;
			continue;
		}
		s[w++] = s[i++];
	}
	*len = w;
	return n;
}

static void test_text_round_trip(void **state)
{
	fixture *f = *state;
	aimark_buf out = AIMARK_BUF_INIT;
	mark(f, f->prose, f->prose_len, "text", AIMARK_LAYER_EXPLICIT | AIMARK_LAYER_WATERMARK, NULL, NULL, &out);
	char pos[16];
	assert_true(detect(f, out.ptr, out.size, "text", pos, sizeof pos));
	assert_string_equal(pos, "end");
	/* the label is the last line */
	size_t end = out.size;
	while (end > 0 && (out.ptr[end - 1] == '\n' || out.ptr[end - 1] == ' '))
		end--;
	assert_memory_equal(out.ptr + end - strlen(ZH_LABEL), ZH_LABEL, strlen(ZH_LABEL));
	assert_memory_equal(out.ptr + end - strlen(ZH_LABEL) - 2, "\n\n", 2);
	/* the text itself is unchanged once the mark characters are taken out */
	unsigned char *copy = malloc(out.size);
	size_t n = out.size;
	memcpy(copy, out.ptr, n);
	size_t marks = strip_marks(copy, &n);
	assert_true(marks >= 17 * (f->prose_len / 200));
	assert_int_equal(marks % 17, 0);
	assert_memory_equal(copy, f->prose, 1000);
	/* same text, labels removed: same normalised body; edited: different */
	assert_true(same_normal(out.ptr, out.size, f->prose, f->prose_len, "text"));
	copy[200] ^= 0x01;
	assert_false(same_normal(out.ptr, out.size, copy, n, "text"));
	free(copy);
	/* another key finds frames but cannot read them */
	const aimark_wm_key *keys[1] = { f->other };
	json_t *e, *w;
	assert_int_equal(aimark__text_detect(out.ptr, out.size, "text", keys, 1, &e, &w), 0);
	assert_false(json_is_true(json_object_get(w, "detected")));
	assert_false(json_is_true(json_object_get(w, "authenticated")));
	assert_true(json_integer_value(json_object_get(w, "frames")) > 10);
	assert_null(json_object_get(w, "payload"));
	json_decref(e);
	json_decref(w);
	/* no keys at all */
	assert_int_equal(aimark__text_detect(out.ptr, out.size, "text", NULL, 0, &e, &w), 0);
	assert_false(json_is_true(json_object_get(w, "detected")));
	assert_true(json_is_object(e) && json_is_true(json_object_get(e, "detected")));
	json_decref(e);
	json_decref(w);
	aimark_buf_dispose(&out);
}

/* Any excerpt of 300 visible characters carries a complete frame. */
static void test_excerpts(void **state)
{
	fixture *f = *state;
	aimark_buf out = AIMARK_BUF_INIT;
	mark(f, f->prose, f->prose_len, "text", AIMARK_LAYER_WATERMARK, NULL, NULL, &out);
	/* offsets of the visible characters (code points other than the mark) */
	size_t *vis = malloc(out.size * sizeof *vis), nv = 0;
	for (size_t i = 0; i < out.size;) {
		unsigned char c = out.ptr[i];
		size_t k = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
		if (!(c == 0xF3 && out.ptr[i + 1] == 0xA0 && out.ptr[i + 2] >= 0x84 && out.ptr[i + 2] <= 0x87))
			vis[nv++] = i;
		i += k;
	}
	srand(7);
	for (int t = 0; t < 300; t++) {
		size_t a = (size_t)rand() % (nv - 301);
		size_t b = vis[a], e = vis[a + 300];
		if (!detect(f, out.ptr + b, e - b, "text", NULL, 0))
			fail_msg("excerpt of 300 characters at %zu carries no frame", b);
	}
	free(vis);
	aimark_buf_dispose(&out);
}

/* Re-wrapping (line breaks moved, spaces collapsed) keeps the frames and the normalised body. */
static void test_rewrap(void **state)
{
	fixture *f = *state;
	aimark_buf out = AIMARK_BUF_INIT, wrapped = AIMARK_BUF_INIT;
	mark(f, f->prose, f->prose_len, "text", AIMARK_LAYER_EXPLICIT | AIMARK_LAYER_WATERMARK, NULL, NULL, &out);
	/* paragraphs (blank-line separated) are kept; inside them lines are joined and broken at 50 columns */
	size_t col = 0, last_space = (size_t)-1;
	for (size_t i = 0; i < out.size; i++) {
		unsigned char c = out.ptr[i];
		if (c == '\n' && i + 1 < out.size && out.ptr[i + 1] == '\n') {
			while (i + 1 < out.size && out.ptr[i + 1] == '\n')
				i++;
			assert_int_equal(aimark__buf_append_str(&wrapped, "\n\n"), 0);
			col = 0;
			last_space = (size_t)-1;
			continue;
		}
		if (c == '\n')
			c = ' ';
		if (c == ' ' && wrapped.size > 0 && (wrapped.ptr[wrapped.size - 1] == ' ' || wrapped.ptr[wrapped.size - 1] == '\n'))
			continue;
		assert_int_equal(aimark__buf_append(&wrapped, &c, 1), 0);
		if ((c & 0xC0) != 0x80)
			col++;
		if (c == ' ')
			last_space = wrapped.size - 1;
		if (col > 50 && last_space != (size_t)-1) {
			wrapped.ptr[last_space] = '\n';
			col = wrapped.size - last_space;
			last_space = (size_t)-1;
		}
	}
	assert_true(detect(f, wrapped.ptr, wrapped.size, "text", NULL, 0));
	assert_true(same_normal(out.ptr, out.size, wrapped.ptr, wrapped.size, "text"));
	aimark_buf_dispose(&out);
	aimark_buf_dispose(&wrapped);
}

/* Runs python3 -c `code` with `in` on standard input; 0 with the output in `out`, -1 when python3 is absent. */
static int python_filter(const char *code, const void *in, size_t n, aimark_buf *out)
{
	if (system("command -v python3 >/dev/null 2>&1") != 0)
		return -1;
	char *dir = tu_tempdir();
	const char *inpath = tu_path("%s/in", dir);
	char inp[4096], outp[4096];
	snprintf(inp, sizeof inp, "%s", inpath);
	snprintf(outp, sizeof outp, "%s/out", dir);
	tu_write_file(inp, in, n);
	char cmd[8192];
	snprintf(cmd, sizeof cmd, "python3 -c '%s' < '%s' > '%s'", code, inp, outp);
	assert_int_equal(system(cmd), 0);
	size_t len;
	unsigned char *data = tu_read_file(outp, &len);
	assert_int_equal(aimark__buf_append(out, data, len), 0);
	free(data);
	tu_rmtree(dir);
	free(dir);
	return 0;
}

/* NFC and NFKC by Python's unicodedata (an independent implementation) keep the mark and the normalised body. */
static void test_unicode_normalisation(void **state)
{
	fixture *f = *state;
	static const char *const forms[] = { "NFC", "NFKC", "NFD", "NFKD" };
	aimark_buf doc = AIMARK_BUF_INIT, out = AIMARK_BUF_INIT;
	assert_int_equal(aimark__buf_append(&doc, f->prose, 3000), 0);
	assert_int_equal(aimark__buf_append_str(&doc, CHINESE), 0);
	/* some decomposed and compatibility characters in the text */
	assert_int_equal(aimark__buf_append_str(&doc, "Cafe\xcc\x81 \xef\xac\x81nal r\xc3\xa9sum\xc3\xa9 \xe2\x84\xab.\n"), 0);
	mark(f, doc.ptr, doc.size, "text", AIMARK_LAYER_EXPLICIT | AIMARK_LAYER_WATERMARK, NULL, NULL, &out);
	for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
		char code[256];
		snprintf(code, sizeof code,
			 "import sys,unicodedata; sys.stdout.buffer.write(unicodedata.normalize(\"%s\", "
			 "sys.stdin.buffer.read().decode()).encode())", forms[i]);
		aimark_buf norm = AIMARK_BUF_INIT;
		if (python_filter(code, out.ptr, out.size, &norm) < 0) {
			print_message("python3 not found: normalisation by unicodedata skipped\n");
			break;
		}
		if (!detect(f, norm.ptr, norm.size, "text", NULL, 0))
			fail_msg("the mark did not survive %s", forms[i]);
		/* canonical forms give the same normalised body; compatibility forms change characters */
		if (i == 0 || i == 2)
			assert_true(same_normal(out.ptr, out.size, norm.ptr, norm.size, "text"));
		aimark_buf_dispose(&norm);
	}
	aimark_buf_dispose(&doc);
	aimark_buf_dispose(&out);
}

static void test_chinese(void **state)
{
	fixture *f = *state;
	aimark_buf doc = AIMARK_BUF_INIT, out = AIMARK_BUF_INIT, wrapped = AIMARK_BUF_INIT;
	for (int i = 0; i < 6; i++)
		assert_int_equal(aimark__buf_append_str(&doc, CHINESE), 0);
	mark(f, doc.ptr, doc.size, "text", AIMARK_LAYER_EXPLICIT | AIMARK_LAYER_WATERMARK, "start", "zh", &out);
	char pos[16];
	assert_true(detect(f, out.ptr, out.size, "text", pos, sizeof pos));
	assert_string_equal(pos, "start");
	assert_memory_equal(out.ptr, ZH_LABEL, strlen(ZH_LABEL));
	/* frames follow CJK punctuation, never an ideograph: every frame starts right after 。，、 */
	for (size_t i = 4; i + 4 <= out.size; i++)
		if (memcmp(out.ptr + i, "\xf3\xa0\x86\x80", 4) == 0) {
			const unsigned char *b = out.ptr + i - 3;
			assert_true(memcmp(b, "\xe3\x80\x82", 3) == 0 || memcmp(b, "\xef\xbc\x8c", 3) == 0 ||
				    memcmp(b, "\xe3\x80\x81", 3) == 0);
		}
	/* a line break inserted between ideographs (CJK re-wrapping) changes nothing that counts */
	size_t cut = strlen(ZH_LABEL) + 2 + 9;
	assert_int_equal(aimark__buf_append(&wrapped, out.ptr, cut), 0);
	assert_int_equal(aimark__buf_append_str(&wrapped, "\n"), 0);
	assert_int_equal(aimark__buf_append(&wrapped, out.ptr + cut, out.size - cut), 0);
	assert_true(same_normal(out.ptr, out.size, wrapped.ptr, wrapped.size, "text"));
	assert_true(same_normal(out.ptr, out.size, doc.ptr, doc.size, "text"));
	aimark_buf_dispose(&doc);
	aimark_buf_dispose(&out);
	aimark_buf_dispose(&wrapped);
}

static const char MARKDOWN[] =
	"---\n"
	"title: 'A report'\n"
	"AIGC:\n"
	"  Label: '1'\n"
	"---\n"
	"# Heading words here\n"
	"\n"
	"A paragraph with `inline code words` and [a link](https://example.com/some/path) and a bare "
	"https://example.org/x URL plus mail someone@example.com, then more ordinary words follow here so "
	"that the frame spacing has room to place more than one frame in this paragraph of text.\n"
	"\n"
	"```python\n"
	"def function_name(argument):\n"
	"    return argument\n"
	"```\n"
	"\n"
	"    indented code block words\n"
	"\n"
	"| column | other |\n"
	"|---|---|\n"
	"| cell words | more cell words |\n"
	"\n"
	"Setext heading words\n"
	"--------------------\n"
	"\n"
	"Last paragraph of ordinary prose with enough words to carry a frame somewhere inside it.\n"
	"\n"
	"```\n"
	"an unclosed fence runs to the end\n";

static int contains(const aimark_buf *b, const char *s)
{
	size_t n = strlen(s);
	for (size_t i = 0; i + n <= b->size; i++)
		if (memcmp(b->ptr + i, s, n) == 0)
			return 1;
	return 0;
}

static void test_markdown(void **state)
{
	fixture *f = *state;
	aimark_buf out = AIMARK_BUF_INIT;
	mark(f, MARKDOWN, strlen(MARKDOWN), "markdown", AIMARK_LAYER_EXPLICIT | AIMARK_LAYER_WATERMARK, "both", "en", &out);
	char pos[16];
	assert_true(detect(f, out.ptr, out.size, "markdown", pos, sizeof pos));
	assert_string_equal(pos, "both");
	/* front matter first and intact, the start label right after it */
	size_t fm = (size_t)(strstr(MARKDOWN, "# Heading") - MARKDOWN);
	assert_memory_equal(out.ptr, MARKDOWN, fm);
	assert_memory_equal(out.ptr + fm, "AI-generated content\n\n# Heading", 31);
	/* nothing inside code, headings, links, URLs, addresses or tables */
	static const char *const intact[] = { "# Heading words here\n", "`inline code words`", "(https://example.com/some/path)",
					      "https://example.org/x", "someone@example.com", "def function_name(argument):\n    return argument\n",
					      "    indented code block words\n", "|---|---|", "Setext heading words\n",
					      "an unclosed fence runs to the end\n" };
	for (size_t i = 0; i < sizeof intact / sizeof intact[0]; i++)
		if (!contains(&out, intact[i]))
			fail_msg("Markdown: \"%s\" was changed", intact[i]);
	/* the open fence is closed before the end label, so the label is not code */
	assert_true(contains(&out, "an unclosed fence runs to the end\n```\n\nAI-generated content"));
	/* the closing fence added is a change; without an open fence, labels and mark normalise away */
	assert_false(same_normal(out.ptr, out.size, MARKDOWN, strlen(MARKDOWN), "markdown"));
	size_t closed = strstr(MARKDOWN, "```\nan unclosed") - MARKDOWN;
	aimark_buf out2 = AIMARK_BUF_INIT;
	mark(f, MARKDOWN, closed, "markdown", AIMARK_LAYER_EXPLICIT | AIMARK_LAYER_WATERMARK, "both", "en", &out2);
	assert_true(same_normal(out2.ptr, out2.size, MARKDOWN, closed, "markdown"));
	aimark_buf_dispose(&out2);
	/* HTML blocks are not prose; a comment left open is closed before the end label */
	static const char blocks[] =
		"Intro paragraph with enough ordinary words to carry a frame somewhere in here.\n\n"
		"<pre>\npreformatted words inside an html block\n</pre>\n\n"
		"<div>\ndiv block words stay\n</div>\n\n"
		"<!-- a comment never closed\nwords in it\n";
	aimark_buf hb = AIMARK_BUF_INIT;
	mark(f, blocks, strlen(blocks), "markdown", AIMARK_LAYER_EXPLICIT | AIMARK_LAYER_WATERMARK, NULL, "en", &hb);
	assert_true(contains(&hb, "<pre>\npreformatted words inside an html block\n</pre>"));
	assert_true(contains(&hb, "<div>\ndiv block words stay\n</div>"));
	assert_true(contains(&hb, "words in it\n-->\n\nAI-generated content"));
	assert_true(detect(f, hb.ptr, hb.size, "markdown", pos, sizeof pos));
	assert_string_equal(pos, "end");
	aimark_buf_dispose(&hb);
	/* marking again adds no second label */
	aimark_buf again = AIMARK_BUF_INIT;
	mark(f, out.ptr, out.size, "markdown", AIMARK_LAYER_EXPLICIT, "both", "en", &again);
	assert_int_equal(again.size, out.size);
	aimark_buf_dispose(&again);
	aimark_buf_dispose(&out);
}

static const char HTML[] =
	"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	"<meta name=\"AIGC\" content=\"{&quot;Label&quot;:&quot;1&quot;}\">\n<title>Title words</title>\n"
	"<style>p { color: black; }</style>\n</head>\n<body class=\"x\">\n"
	"<p>First paragraph of ordinary words, long enough to carry the invisible mark at least once or twice "
	"when the spacing allows it, with an <a href=\"https://example.com/path\">anchor text here</a> inside and "
	"AT&amp;T as an entity.</p>\n"
	"<pre>preformatted code words stay exactly as they are</pre>\n"
	"<script>var someName = 'words in a script';</script>\n"
	"<p>Second paragraph, again with plenty of plain words so that another frame finds a base character.</p>\n"
	"</body>\n</html>\n";

static void test_html(void **state)
{
	fixture *f = *state;
	aimark_buf out = AIMARK_BUF_INIT;
	mark(f, HTML, strlen(HTML), "html", AIMARK_LAYER_EXPLICIT | AIMARK_LAYER_WATERMARK, "both", NULL, &out);
	char pos[16];
	assert_true(detect(f, out.ptr, out.size, "html", pos, sizeof pos));
	assert_string_equal(pos, "both");
	static const char *const intact[] = { "<title>Title words</title>", "<style>p { color: black; }</style>",
					      "href=\"https://example.com/path\"", "AT&amp;T", "<pre>preformatted code words stay exactly as they are</pre>",
					      "<script>var someName = 'words in a script';</script>",
					      "<meta name=\"AIGC\" content=\"{&quot;Label&quot;:&quot;1&quot;}\">" };
	for (size_t i = 0; i < sizeof intact / sizeof intact[0]; i++)
		if (!contains(&out, intact[i]))
			fail_msg("HTML: \"%s\" was changed", intact[i]);
	assert_true(contains(&out, "<body class=\"x\"><p data-aigc-label=\"start\">"));
	assert_true(contains(&out, "<p data-aigc-label=\"end\">"));
	assert_true(contains(&out, "</p>\n</body>"));
	/* same document, labels removed (and the mark), normalises the same */
	assert_true(same_normal(out.ptr, out.size, HTML, strlen(HTML), "html"));

	/* the mark written as numeric character references still reads */
	aimark_buf refs = AIMARK_BUF_INIT;
	for (size_t i = 0; i < out.size;) {
		if (out.ptr[i] == 0xF3 && i + 3 < out.size && out.ptr[i + 1] == 0xA0) {
			uint32_t cp = ((uint32_t)(out.ptr[i] & 7) << 18) | ((uint32_t)(out.ptr[i + 1] & 0x3F) << 12) |
				      ((uint32_t)(out.ptr[i + 2] & 0x3F) << 6) | (out.ptr[i + 3] & 0x3F);
			assert_int_equal(aimark__buf_printf(&refs, "&#x%X;", cp), 0);
			i += 4;
		} else {
			assert_int_equal(aimark__buf_append(&refs, out.ptr + i, 1), 0);
			i++;
		}
	}
	assert_true(detect(f, refs.ptr, refs.size, "html", NULL, 0));
	aimark_buf_dispose(&refs);
	aimark_buf_dispose(&out);
}

static void test_explicit_options(void **state)
{
	fixture *f = *state;
	aimark_mark_options o = AIMARK_MARK_OPTIONS_INIT;
	aimark_buf out = AIMARK_BUF_INIT;
	const char *text = "Plain words.\n";
	o.layers = AIMARK_LAYER_EXPLICIT;
	o.explicit_text = "Written by a person";
	assert_int_equal(aimark__text_stage((const unsigned char *)text, strlen(text), "text", &o, PAYLOAD, &out), AIMARK_EINVAL);
	o.explicit_text = "AI <b>generated</b>";
	assert_int_equal(aimark__text_stage((const unsigned char *)text, strlen(text), "text", &o, PAYLOAD, &out), AIMARK_EINVAL);
	o.explicit_text = NULL;
	o.explicit_position = "middle";
	assert_int_equal(aimark__text_stage((const unsigned char *)text, strlen(text), "text", &o, PAYLOAD, &out), AIMARK_EINVAL);
	o.explicit_position = NULL;
	o.explicit_language = "fr";
	assert_int_equal(aimark__text_stage((const unsigned char *)text, strlen(text), "text", &o, PAYLOAD, &out), AIMARK_EINVAL);
	o.explicit_language = NULL;
	o.layers = AIMARK_LAYER_WATERMARK; /* no key */
	assert_int_equal(aimark__text_stage((const unsigned char *)text, strlen(text), "text", &o, PAYLOAD, &out), AIMARK_EINVAL);
	assert_int_equal(aimark__text_stage((const unsigned char *)text, strlen(text), "pdf", &o, PAYLOAD, &out), AIMARK_EINVAL);
	assert_int_equal(out.size, 0);

	/* a custom label, and vendor-style labels found as written */
	o.layers = AIMARK_LAYER_EXPLICIT;
	o.explicit_text = "AI\xe7\x94\x9f\xe6\x88\x90";
	o.explicit_position = "start";
	assert_int_equal(aimark__text_stage((const unsigned char *)text, strlen(text), "text", &o, PAYLOAD, &out), 0);
	assert_string_equal((const char *)out.ptr, "AI\xe7\x94\x9f\xe6\x88\x90\n\nPlain words.\n");
	aimark_buf_dispose(&out);
	static const struct { const char *doc, *format, *pos; } found[] = {
		{ "Answer text.\n\n\xe3\x80\x90\xe6\x9c\xac\xe5\x86\x85\xe5\xae\xb9\xe7\x94\xb1" "AI\xe7\x94\x9f\xe6\x88\x90\xe3\x80\x91\n", "text", "end" },
		{ "> *AI-generated content*\n\nBody.\n", "markdown", "start" },
		{ "<div><span>Body</span></div><footer><small>Content generated by AI</small></footer>", "html", "end" },
		{ "This text talks about AI models and how content is generated at length, far too long to be a short label "
		  "line: it goes on and on with more words until it is clearly a paragraph rather than a notice, and then "
		  "some more words for good measure so that it passes the limit.\n\nBody.\n", "text", "none" },
		{ "Written by a person.\n", "text", "none" },
	};
	for (size_t i = 0; i < sizeof found / sizeof found[0]; i++) {
		char pos[16];
		detect(f, found[i].doc, strlen(found[i].doc), found[i].format, pos, sizeof pos);
		if (strcmp(pos, found[i].pos) != 0)
			fail_msg("label case %zu: position %s, expected %s", i, pos, found[i].pos);
	}
}

/* Malformed input is never rejected and never altered beyond the insertions; short texts still get a frame. */
static void test_hostile_input(void **state)
{
	fixture *f = *state;
	static const char *const docs[] = {
		"\xff\xfe\x80 broken \xe4\xba UTF-8 words here and there \xed\xa0\x80 end.\n",
		"\xe4\xba\xba\xe5\xb7\xa5\xe6\x99\xba\xe8\x83\xbd", /* ideographs only: the frame goes after the last */
		"",
		"   \n\n\t",
		"<p data-aigc-label=\"start\"><p data-aigc-label=\"x\">",
		"---\nAIGC: x\n",
		"<script>never closed words",
	};
	const char *formats[] = { "text", "markdown", "html" };
	for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++)
		for (size_t k = 0; k < 3; k++) {
			aimark_buf out = AIMARK_BUF_INIT;
			size_t n = strlen(docs[i]);
			mark(f, docs[i], n, formats[k], AIMARK_LAYER_WATERMARK, NULL, NULL, &out);
			size_t m = out.size;
			strip_marks(out.ptr, &m);
			assert_int_equal(m, n);
			assert_memory_equal(out.ptr, docs[i], n);
			aimark_buf_dispose(&out);
		}
	aimark_buf out = AIMARK_BUF_INIT;
	mark(f, docs[1], strlen(docs[1]), "text", AIMARK_LAYER_WATERMARK, NULL, NULL, &out);
	assert_true(detect(f, out.ptr, out.size, "text", NULL, 0));
	aimark_buf_dispose(&out);

	/* a 4 MB line without spaces, and one of combining marks */
	size_t big = 4u << 20;
	unsigned char *line = malloc(big);
	for (size_t i = 0; i < big; i++)
		line[i] = (unsigned char)('a' + i % 26);
	mark(f, line, big, "text", AIMARK_LAYER_EXPLICIT | AIMARK_LAYER_WATERMARK, NULL, NULL, &out);
	assert_true(out.size > big);
	aimark_buf_dispose(&out);
	for (size_t i = 0; i + 1 < big; i += 2) {
		line[i] = 0xCC;
		line[i + 1] = 0x81;
	}
	aimark_buf norm = AIMARK_BUF_INIT;
	assert_int_equal(aimark__text_normalize(line, big, "text", &norm), AIMARK_ELIMIT);
	assert_int_equal(norm.size, 0);
	free(line);
	aimark_buf_dispose(&norm);
}

/* Damaged copies are outvoted; frames stripped or all damaged are not read. */
static void test_damaged_frames(void **state)
{
	fixture *f = *state;
	aimark_buf out = AIMARK_BUF_INIT;
	mark(f, f->prose, f->prose_len, "text", AIMARK_LAYER_WATERMARK, NULL, NULL, &out);
	/* change one data symbol in 4 of every 10 frames (a different symbol each time) */
	size_t frame = 0;
	for (size_t i = 0; i + 4 <= out.size; i++)
		if (memcmp(out.ptr + i, "\xf3\xa0\x86\x80", 4) == 0) {
			if (frame % 10 < 4) {
				unsigned char *sym = out.ptr + i + 4 * (1 + frame % 16);
				sym[3] = (unsigned char)(0x80 | ((sym[3] + 1) & 0x3F));
			}
			frame++;
		}
	assert_true(frame > 20);
	assert_true(detect(f, out.ptr, out.size, "text", NULL, 0));
	/* all frames damaged at the same place: no candidate authenticates */
	aimark_buf_dispose(&out);
	mark(f, f->prose, f->prose_len, "text", AIMARK_LAYER_WATERMARK, NULL, NULL, &out);
	for (size_t i = 0; i + 4 <= out.size; i++)
		if (memcmp(out.ptr + i, "\xf3\xa0\x86\x80", 4) == 0)
			out.ptr[i + 4 * 5 + 3] ^= 0x01;
	assert_false(detect(f, out.ptr, out.size, "text", NULL, 0));
	size_t n = out.size;
	strip_marks(out.ptr, &n);
	assert_false(detect(f, out.ptr, n, "text", NULL, 0));
	aimark_buf_dispose(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_round_trip),
		cmocka_unit_test(test_excerpts),
		cmocka_unit_test(test_rewrap),
		cmocka_unit_test(test_unicode_normalisation),
		cmocka_unit_test(test_chinese),
		cmocka_unit_test(test_markdown),
		cmocka_unit_test(test_html),
		cmocka_unit_test(test_explicit_options),
		cmocka_unit_test(test_hostile_input),
		cmocka_unit_test(test_damaged_frames),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

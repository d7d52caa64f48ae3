/*
 * HTML structure for the text layers, built on the tokens of
 * format/html_lex.c, the tokenizer the label carrier (format/html_meta.c)
 * reads too: both must agree on every tag, comment, quoted attribute and
 * raw-text boundary, or a freshly marked file would verify as tampered.
 * The tokens are regrouped here into what the text layers walk: text,
 * tags, comments/declarations, and raw-text elements as one token (open
 * tag through close tag). Unterminated constructs run to the end of the
 * input; nothing is ever rejected.
 */
#include <string.h>

#include "core/internal.h"
#include "format/html_lex.h"
#include "text/text_html.h"

enum { TOK_TEXT, TOK_TAG, TOK_OTHER, TOK_RAW };

typedef struct html_tok {
	int type;
	size_t begin, end;           /* the whole token (RAW: open tag through the close tag) */
	size_t inner_begin, inner_end; /* RAW: the raw text */
	const unsigned char *name;   /* TAG/RAW: the tag name */
	size_t name_len;
	int end_tag, self_close;
	int label_attr;              /* has data-aigc-label */
	int aigc_meta;               /* the GB 45438 carrier (aimark__html_is_aigc_meta) */
	int unterminated;            /* the input ends inside the token */
} html_tok;

typedef int (*html_cb)(void *ctx, const html_tok *t);

static int is_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

static int ci_eq(const unsigned char *p, size_t n, const char *s) { return aimark__html_ci_eq(p, n, s); }

static int name_in(const html_tok *t, const char *const *names)
{
	for (size_t i = 0; names[i]; i++)
		if (ci_eq(t->name, t->name_len, names[i]))
			return 1;
	return 0;
}

static int html_walk(const unsigned char *p, size_t n, size_t from, html_cb cb, void *ctx)
{
	aimark__html_lex lx;
	aimark__html_token x;
	aimark__html_lex_init(&lx, p, n, from);
	while (aimark__html_lex_next(&lx, &x)) {
		html_tok t;
		memset(&t, 0, sizeof t);
		t.begin = x.begin;
		t.end = x.end;
		t.unterminated = x.unterminated;
		switch (x.type) {
		case AIMARK__HTML_TEXT:
			t.type = TOK_TEXT;
			break;
		case AIMARK__HTML_START:
		case AIMARK__HTML_END:
			t.type = TOK_TAG;
			t.name = p + x.name;
			t.name_len = x.name_len;
			t.end_tag = x.type == AIMARK__HTML_END;
			t.self_close = x.self_close;
			t.label_attr = aimark__html_attr_find(p, n, &x, "data-aigc-label", NULL);
			t.aigc_meta = aimark__html_is_aigc_meta(p, n, &x, NULL, NULL);
			if (x.type == AIMARK__HTML_START && x.raw) {
				/* the lexer follows a raw element's start tag with its raw text, then (if any) its end tag */
				aimark__html_token r, c;
				if (!aimark__html_lex_next(&lx, &r) || r.type != AIMARK__HTML_RAW) {
					r.begin = r.end = n; /* not reached: the lexer always reports the raw text */
					r.unterminated = 1;
				}
				t.type = TOK_RAW;
				t.inner_begin = r.begin;
				t.inner_end = r.end;
				t.end = r.end;
				t.unterminated |= r.unterminated;
				if (!r.unterminated && aimark__html_lex_next(&lx, &c)) {
					t.end = c.end;
					t.unterminated = c.unterminated;
				}
			}
			break;
		default:
			t.type = TOK_OTHER;
			break;
		}
		RETURN_IF_ERR(cb(ctx, &t));
	}
	return 0;
}

/* Where the element whose start tag is t ends: after the first end tag of its name, else at n. */
static size_t element_end(const unsigned char *p, size_t n, const html_tok *t)
{
	aimark__html_lex lx;
	aimark__html_token x;
	aimark__html_lex_init(&lx, p, n, t->end);
	while (aimark__html_lex_next(&lx, &x)) {
		if (x.type != AIMARK__HTML_END || x.name_len != t->name_len)
			continue;
		size_t k = 0;
		while (k < x.name_len && (p[x.name + k] | 0x20) == (t->name[k] | 0x20))
			k++;
		if (k == x.name_len)
			return x.end;
	}
	return n;
}

/* ---- structure ---- */

typedef struct parse_ctx {
	aimark__text_doc *doc;
	size_t body_open, body_close, html_close; /* 0: not seen (a tag never ends at offset 0) */
	size_t prefix_end;
	int prefix_done;
	int skip;          /* depth inside elements whose text is not prose */
	size_t label_until; /* inside an explicit label element until this offset */
	int hidden;        /* depth inside elements that are not rendered */
	size_t hidden_start; /* where the outermost of them opened */
	size_t cut;        /* where an unterminated construct or unclosed hidden element starts (n: none) */
	aimark__span_list texts; /* candidate prose: text nodes outside skipped elements */
} parse_ctx;

static const char *const no_prose[] = { "pre", "code", "kbd", "samp", "var", "svg", "math", "template", "noscript",
					"select", "option", "button", NULL };
/* elements whose content is not rendered as text */
static const char *const hidden_els[] = { "template", "noscript", "svg", "math", NULL };
static const char *const head_like[] = { "html", "head", "meta", "link", "base", "title", "style", "script", NULL };

static int parse_cb(void *vctx, const html_tok *t)
{
	parse_ctx *c = vctx;
	aimark__text_doc *doc = c->doc;
	if (!c->prefix_done) {
		int ws = 0;
		if (t->type == TOK_TEXT) {
			ws = 1;
			for (size_t k = t->begin; k < t->end && ws; k++)
				ws = is_space(doc->d[k]);
		}
		if (t->type == TOK_OTHER || ((t->type == TOK_TAG || t->type == TOK_RAW) && name_in(t, head_like)))
			c->prefix_end = t->end;
		else if (!ws)
			c->prefix_done = 1;
	}
	if (t->unterminated && t->begin < c->cut)
		c->cut = t->begin;
	if (t->type == TOK_TEXT) {
		if (c->skip == 0 && t->begin >= c->label_until)
			RETURN_IF_ERR(aimark__span_add(&c->texts, t->begin, t->end));
		return 0;
	}
	if (t->type != TOK_TAG && t->type != TOK_RAW)
		return 0;
	if (t->aigc_meta && !t->end_tag)
		RETURN_IF_ERR(aimark__span_add(&doc->meta, t->begin, t->end));
	if (ci_eq(t->name, t->name_len, "body")) {
		if (!t->end_tag && c->body_open == 0 && !t->unterminated)
			c->body_open = t->end;
		else if (t->end_tag && c->body_close == 0 && c->body_open != 0)
			c->body_close = t->begin;
	} else if (ci_eq(t->name, t->name_len, "html") && t->end_tag && c->html_close == 0) {
		c->html_close = t->begin;
	}
	if (t->label_attr && !t->end_tag && t->type == TOK_TAG && !t->self_close && t->begin >= c->label_until) {
		/* the element runs to the first end tag of its name */
		size_t e = element_end(doc->d, doc->n, t);
		c->label_until = e;
		RETURN_IF_ERR(aimark__span_add(&doc->labels, t->begin, e));
	}
	if (t->type == TOK_TAG && name_in(t, hidden_els) && !t->self_close) {
		if (!t->end_tag && c->hidden++ == 0)
			c->hidden_start = t->begin;
		else if (t->end_tag && c->hidden > 0)
			c->hidden--;
	}
	if (t->type == TOK_TAG && name_in(t, no_prose) && !t->self_close) {
		if (!t->end_tag)
			c->skip++;
		else if (c->skip > 0)
			c->skip--;
	}
	return 0;
}

int aimark__text_html_parse(aimark__text_doc *doc, size_t bom)
{
	parse_ctx c;
	memset(&c, 0, sizeof c);
	c.doc = doc;
	c.prefix_end = bom;
	c.cut = doc->n;
	int rc = html_walk(doc->d, doc->n, bom, parse_cb, &c);
	if (rc == 0) {
		size_t begin = c.body_open ? c.body_open : c.prefix_end;
		size_t end = c.body_close ? c.body_close : c.html_close > begin ? c.html_close : doc->n;
		/* labels must not land inside a construct the input leaves open, where they would not show */
		if (c.hidden > 0 && c.hidden_start < c.cut)
			c.cut = c.hidden_start;
		if (end > c.cut)
			end = c.cut;
		if (begin > end)
			begin = end;
		if (end < begin)
			end = begin;
		while (end > begin && is_space(doc->d[end - 1]))
			end--;
		doc->body_begin = begin;
		doc->body_end = end;
		for (size_t i = 0; rc == 0 && i < c.texts.n; i++) {
			size_t b = c.texts.v[i].begin, e = c.texts.v[i].end;
			if (b < begin)
				b = begin;
			if (e > end)
				e = end;
			rc = aimark__span_add(&doc->prose, b, e);
		}
	}
	aimark__free(c.texts.v);
	return rc;
}

/* ---- visible text ---- */

typedef struct visible_ctx {
	const aimark__text_doc *doc;
	aimark_buf *out;
	int hidden;
} visible_ctx;

static const char *const blocks[] = { "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6",
				      "tr", "table", "section", "article", "header", "footer", "blockquote", "pre",
				      "hr", "dd", "dt", "dl", "figure", "figcaption", "main", "nav", "aside", "form",
				      "address", "details", "summary", "body", NULL };

static int visible_cb(void *vctx, const html_tok *t)
{
	visible_ctx *c = vctx;
	const aimark__text_doc *doc = c->doc;
	if (t->end <= doc->body_begin || t->begin >= doc->body_end + 1)
		return 0;
	if (t->type == TOK_TEXT) {
		if (c->hidden == 0) {
			size_t b = t->begin < doc->body_begin ? doc->body_begin : t->begin;
			size_t e = t->end > doc->body_end ? doc->body_end : t->end;
			if (e > b)
				RETURN_IF_ERR(aimark__html_decode_refs(doc->d + b, e - b, c->out));
		}
		return 0;
	}
	if (t->type == TOK_RAW) {
		if (c->hidden == 0 && (ci_eq(t->name, t->name_len, "textarea")))
			RETURN_IF_ERR(aimark__html_decode_refs(doc->d + t->inner_begin, t->inner_end - t->inner_begin, c->out));
		return 0;
	}
	if (t->type != TOK_TAG)
		return 0;
	if (name_in(t, hidden_els) && !t->self_close) {
		if (!t->end_tag)
			c->hidden++;
		else if (c->hidden > 0)
			c->hidden--;
	}
	if (name_in(t, blocks))
		RETURN_IF_ERR(aimark__buf_append(c->out, "\n", 1));
	return 0;
}

int aimark__text_html_visible(const aimark__text_doc *doc, aimark_buf *out)
{
	visible_ctx c = { doc, out, 0 };
	return html_walk(doc->d, doc->n, doc->body_begin, visible_cb, &c);
}

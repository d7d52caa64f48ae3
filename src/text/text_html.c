/*
 * A lenient HTML tokenizer for the text layers: text, tags (with the few
 * attributes that matter here), comments and declarations, and the raw text
 * of script/style/textarea/title, walked once with a callback. Unterminated
 * constructs run to the end of the input; nothing is ever rejected.
 */
#include <string.h>

#include "core/internal.h"
#include "text/text_html.h"
#include "text/text_unicode.h"

enum { TOK_TEXT, TOK_TAG, TOK_OTHER, TOK_RAW };

typedef struct html_tok {
	int type;
	size_t begin, end;           /* the whole token (RAW: open tag through the close tag) */
	size_t inner_begin, inner_end; /* RAW: the raw text */
	const unsigned char *name;   /* TAG/RAW: the tag name */
	size_t name_len;
	int end_tag, self_close;
	int label_attr;              /* has data-aigc-label */
	int aigc_meta;               /* <meta name="AIGC"> */
	int unterminated;            /* the input ends inside the token */
} html_tok;

typedef int (*html_cb)(void *ctx, const html_tok *t);

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

static int is_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

static int ci_eq(const unsigned char *p, size_t n, const char *s)
{
	size_t l = strlen(s);
	if (n != l)
		return 0;
	for (size_t i = 0; i < l; i++)
		if (lower(p[i]) != s[i])
			return 0;
	return 1;
}

static size_t find_ci(const unsigned char *p, size_t n, size_t from, const char *s)
{
	size_t l = strlen(s);
	for (size_t i = from; i + l <= n; i++) {
		if (lower(p[i]) != s[0])
			continue;
		size_t k = 1;
		while (k < l && lower(p[i + k]) == s[k])
			k++;
		if (k == l)
			return i;
	}
	return n;
}

static int name_in(const html_tok *t, const char *const *names)
{
	for (size_t i = 0; names[i]; i++)
		if (ci_eq(t->name, t->name_len, names[i]))
			return 1;
	return 0;
}

/* Parses attributes from `i` to the tag's '>' (quote-aware); returns the offset after it. */
static size_t parse_attrs(const unsigned char *p, size_t n, size_t i, html_tok *t)
{
	int meta = ci_eq(t->name, t->name_len, "meta");
	for (;;) {
		while (i < n && (is_space(p[i]) || p[i] == '/')) {
			if (p[i] == '/' && i + 1 < n && p[i + 1] == '>')
				t->self_close = 1;
			i++;
		}
		if (i >= n) {
			t->unterminated = 1;
			return n;
		}
		if (p[i] == '>')
			return i + 1;
		size_t ns = i;
		while (i < n && !is_space(p[i]) && p[i] != '=' && p[i] != '>' && !(p[i] == '/' && i > ns))
			i++;
		size_t ne = i;
		size_t vs = 0, ve = 0;
		size_t k = i;
		while (k < n && is_space(p[k]))
			k++;
		if (k < n && p[k] == '=') {
			k++;
			while (k < n && is_space(p[k]))
				k++;
			if (k < n && (p[k] == '"' || p[k] == '\'')) {
				unsigned char q = p[k++];
				vs = k;
				while (k < n && p[k] != q)
					k++;
				ve = k;
				i = k < n ? k + 1 : n;
			} else {
				vs = k;
				while (k < n && !is_space(p[k]) && p[k] != '>')
					k++;
				ve = k;
				i = k;
			}
		}
		if (ci_eq(p + ns, ne - ns, "data-aigc-label"))
			t->label_attr = 1;
		if (meta && ci_eq(p + ns, ne - ns, "name")) {
			while (vs < ve && is_space(p[vs]))
				vs++;
			while (ve > vs && is_space(p[ve - 1]))
				ve--;
			if (ci_eq(p + vs, ve - vs, "aigc"))
				t->aigc_meta = 1;
		}
	}
}

static int html_walk(const unsigned char *p, size_t n, size_t from, html_cb cb, void *ctx)
{
	static const char *const raw[] = { "script", "style", "textarea", "title", "xmp", NULL };
	size_t i = from;
	while (i < n) {
		html_tok t;
		memset(&t, 0, sizeof t);
		const unsigned char *lt = memchr(p + i, '<', n - i);
		size_t at = lt ? (size_t)(lt - p) : n;
		if (at > i) {
			t.type = TOK_TEXT;
			t.begin = i;
			t.end = at;
			RETURN_IF_ERR(cb(ctx, &t));
			i = at;
			continue;
		}
		t.begin = i;
		if (n - i >= 4 && memcmp(p + i, "<!--", 4) == 0) {
			size_t e = find_ci(p, n, i + 4, "-->");
			t.type = TOK_OTHER;
			t.end = e < n ? e + 3 : n;
			t.unterminated = e >= n;
		} else if (i + 1 < n && (p[i + 1] == '!' || p[i + 1] == '?')) {
			const unsigned char *gt = memchr(p + i, '>', n - i);
			t.type = TOK_OTHER;
			t.end = gt ? (size_t)(gt - p) + 1 : n;
			t.unterminated = gt == NULL;
		} else {
			size_t ns = i + 1;
			if (ns < n && p[ns] == '/') {
				t.end_tag = 1;
				ns++;
			}
			size_t ne = ns;
			while (ne < n && (((p[ne] | 0x20) >= 'a' && (p[ne] | 0x20) <= 'z') ||
					  (ne > ns && ((p[ne] >= '0' && p[ne] <= '9') || p[ne] == '-' || p[ne] == ':'))))
				ne++;
			if (ne == ns) {
				/* a '<' that opens no tag is text */
				t.type = TOK_TEXT;
				t.end = i + 1;
				RETURN_IF_ERR(cb(ctx, &t));
				i++;
				continue;
			}
			t.type = TOK_TAG;
			t.name = p + ns;
			t.name_len = ne - ns;
			t.end = parse_attrs(p, n, ne, &t);
			if (!t.end_tag && name_in(&t, raw)) {
				char close[16] = "</";
				for (size_t k = 0; k < t.name_len && k < 10; k++)
					close[2 + k] = (char)lower(t.name[k]);
				size_t c = find_ci(p, n, t.end, close);
				t.type = TOK_RAW;
				t.inner_begin = t.end;
				t.inner_end = c;
				if (c < n) {
					const unsigned char *gt = memchr(p + c, '>', n - c);
					t.end = gt ? (size_t)(gt - p) + 1 : n;
					t.unterminated = gt == NULL;
				} else {
					t.end = n;
					t.unterminated = 1;
				}
			}
		}
		RETURN_IF_ERR(cb(ctx, &t));
		i = t.end > i ? t.end : i + 1;
	}
	return 0;
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
		/* the element runs to the first close tag of its name */
		char close[16] = "</";
		size_t k = 0;
		for (; k < t->name_len && k < 10; k++)
			close[2 + k] = (char)lower(t->name[k]);
		size_t e = find_ci(doc->d, doc->n, t->end, close);
		if (e < doc->n) {
			const unsigned char *gt = memchr(doc->d + e, '>', doc->n - e);
			e = gt ? (size_t)(gt - doc->d) + 1 : doc->n;
		}
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

static int append_decoded(aimark_buf *out, const unsigned char *p, size_t n)
{
	static const struct { const char *name; uint32_t cp; } named[] = {
		{ "amp", '&' }, { "lt", '<' }, { "gt", '>' }, { "quot", '"' }, { "apos", '\'' }, { "nbsp", 0xA0 },
	};
	for (size_t i = 0; i < n;) {
		if (p[i] != '&') {
			size_t j = i;
			while (j < n && p[j] != '&')
				j++;
			RETURN_IF_ERR(aimark__buf_append(out, p + i, j - i));
			i = j;
			continue;
		}
		size_t j = i + 1;
		uint32_t cp = 0;
		int ok = 0;
		if (j < n && p[j] == '#') {
			int hex = j + 1 < n && (p[j + 1] == 'x' || p[j + 1] == 'X');
			j += 1 + hex;
			size_t digits = 0;
			while (j < n && digits < 8) {
				int d = p[j] >= '0' && p[j] <= '9' ? p[j] - '0'
					: hex && lower(p[j]) >= 'a' && lower(p[j]) <= 'f' ? lower(p[j]) - 'a' + 10 : -1;
				if (d < 0)
					break;
				cp = cp * (hex ? 16u : 10u) + (uint32_t)d;
				j++;
				digits++;
			}
			ok = digits > 0;
			if (ok && (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp < 0xE000)))
				cp = AIMARK__UNI_REPLACEMENT;
		} else {
			for (size_t k = 0; k < sizeof named / sizeof named[0] && !ok; k++) {
				size_t l = strlen(named[k].name);
				if (j + l <= n && memcmp(p + j, named[k].name, l) == 0) {
					cp = named[k].cp;
					j += l;
					ok = 1;
				}
			}
		}
		if (!ok) {
			RETURN_IF_ERR(aimark__buf_append(out, "&", 1));
			i++;
			continue;
		}
		if (j < n && p[j] == ';')
			j++;
		RETURN_IF_ERR(aimark__utf8_append(out, cp));
		i = j;
	}
	return 0;
}

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
				RETURN_IF_ERR(append_decoded(c->out, doc->d + b, e - b));
		}
		return 0;
	}
	if (t->type == TOK_RAW) {
		if (c->hidden == 0 && (ci_eq(t->name, t->name_len, "textarea")))
			RETURN_IF_ERR(append_decoded(c->out, doc->d + t->inner_begin, t->inner_end - t->inner_begin));
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

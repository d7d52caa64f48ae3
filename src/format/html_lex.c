/*
 * The HTML tokenizer shared by the label carrier (html_meta.c) and the text
 * layers (text/text_html.c); see html_lex.h for why there is only one.
 *
 * Rules, kept simple on purpose because both sides must apply exactly them:
 * - "<!--" opens a comment that ends after the first "-->".
 * - "<!" and "<?" open a declaration (doctype, CDATA, processing
 *   instruction) that ends after the first '>'.
 * - "<" or "</" followed by an ASCII letter opens a tag; its name goes on
 *   with letters, digits, '-' and ':'; its attributes are read with quotes
 *   honoured, so a quoted value may hold '>' or "</"; the tag ends after
 *   the first '>' outside a quoted value.
 * - After the start tag of script, style, textarea, title or xmp the text
 *   is raw up to the first "</name" (any case, even with more name
 *   characters after it), and that end tag ends at its first '>'.
 * - Any other '<' is one byte of text.
 */
#include <string.h>

#include "core/internal.h"
#include "format/html_lex.h"

enum { ST_MARKUP, ST_RAW_TEXT, ST_RAW_END };

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

static int is_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

static int is_alpha(unsigned char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }

int aimark__html_ci_eq(const unsigned char *p, size_t len, const char *lc)
{
	size_t l = strlen(lc);
	if (len != l)
		return 0;
	for (size_t i = 0; i < l; i++)
		if (lower(p[i]) != lc[i])
			return 0;
	return 1;
}

static int ci_prefix(const unsigned char *p, size_t n, const char *lc)
{
	size_t l = strlen(lc);
	return n >= l && aimark__html_ci_eq(p, l, lc);
}

/* First offset >= from where the lowercase string s starts (ASCII case-insensitive), or n. */
static size_t find_ci(const unsigned char *p, size_t n, size_t from, const char *s)
{
	size_t l = strlen(s);
	for (size_t i = from; i + l <= n; i++)
		if (lower(p[i]) == s[0] && aimark__html_ci_eq(p + i, l, s))
			return i;
	return n;
}

/*
 * One step through a tag's attributes from *pos: 1 with an attribute in *a,
 * 0 at the closing '>' (*pos after it), -1 when the input ends (*pos = n).
 * Sets *self_close on a "/>".
 */
static int attr_step(const unsigned char *p, size_t n, size_t *pos, aimark__html_attr *a, int *self_close)
{
	size_t i = *pos;
	while (i < n && (is_space(p[i]) || p[i] == '/')) {
		if (p[i] == '/' && i + 1 < n && p[i + 1] == '>')
			*self_close = 1;
		i++;
	}
	if (i >= n) {
		*pos = n;
		return -1;
	}
	if (p[i] == '>') {
		*pos = i + 1;
		return 0;
	}
	memset(a, 0, sizeof *a);
	a->name = i;
	while (i < n && !is_space(p[i]) && p[i] != '=' && p[i] != '>' && !(p[i] == '/' && i > a->name))
		i++;
	a->name_len = i - a->name;
	size_t k = i;
	while (k < n && is_space(p[k]))
		k++;
	if (k < n && p[k] == '=') {
		k++;
		while (k < n && is_space(p[k]))
			k++;
		a->has_val = 1;
		if (k < n && (p[k] == '"' || p[k] == '\'')) {
			unsigned char q = p[k++];
			a->val = k;
			while (k < n && p[k] != q)
				k++;
			a->val_len = k - a->val;
			i = k < n ? k + 1 : n;
		} else {
			a->val = k;
			while (k < n && !is_space(p[k]) && p[k] != '>')
				k++;
			a->val_len = k - a->val;
			i = k;
		}
	}
	*pos = i;
	return 1;
}

int aimark__html_attr_next(const unsigned char *p, size_t n, size_t *pos, aimark__html_attr *a)
{
	int self_close = 0;
	if (*pos > n)
		*pos = n;
	return attr_step(p, n, pos, a, &self_close) > 0;
}

int aimark__html_attr_find(const unsigned char *p, size_t n, const aimark__html_token *t, const char *name,
			   aimark__html_attr *a)
{
	if (t->type != AIMARK__HTML_START && t->type != AIMARK__HTML_END)
		return 0;
	size_t pos = t->attrs;
	aimark__html_attr x;
	while (aimark__html_attr_next(p, n, &pos, &x)) {
		if (aimark__html_ci_eq(p + x.name, x.name_len, name)) {
			if (a)
				*a = x;
			return 1;
		}
	}
	return 0;
}

int aimark__html_tag_is(const unsigned char *p, const aimark__html_token *t, const char *lc)
{
	return (t->type == AIMARK__HTML_START || t->type == AIMARK__HTML_END) && aimark__html_ci_eq(p + t->name, t->name_len, lc);
}

int aimark__html_is_aigc_meta(const unsigned char *p, size_t n, const aimark__html_token *t,
			      aimark__html_attr *name_attr, aimark__html_attr *content_attr)
{
	aimark__html_attr name, content;
	if (t->type != AIMARK__HTML_START || !aimark__html_tag_is(p, t, "meta"))
		return 0;
	if (!aimark__html_attr_find(p, n, t, "name", &name) || !name.has_val ||
	    !aimark__html_attr_find(p, n, t, "content", &content))
		return 0;
	size_t s = name.val, e = name.val + name.val_len;
	while (s < e && is_space(p[s]))
		s++;
	while (e > s && is_space(p[e - 1]))
		e--;
	if (!aimark__html_ci_eq(p + s, e - s, "aigc"))
		return 0;
	if (name_attr)
		*name_attr = name;
	if (content_attr)
		*content_attr = content;
	return 1;
}

void aimark__html_lex_init(aimark__html_lex *lx, const unsigned char *p, size_t n, size_t from)
{
	memset(lx, 0, sizeof *lx);
	lx->p = p;
	lx->n = n;
	lx->pos = from < n ? from : n;
	lx->state = ST_MARKUP;
}

static const char *const raw_names[] = { "script", "style", "textarea", "title", "xmp", NULL };

/* A tag at i (p[i] == '<'); returns 0 when no tag starts there. */
static int lex_tag(aimark__html_lex *lx, size_t i, aimark__html_token *t)
{
	const unsigned char *p = lx->p;
	size_t n = lx->n;
	int end_tag = i + 1 < n && p[i + 1] == '/';
	size_t ns = i + 1 + (size_t)end_tag, ne = ns;
	while (ne < n && (is_alpha(p[ne]) || (ne > ns && ((p[ne] >= '0' && p[ne] <= '9') || p[ne] == '-' || p[ne] == ':'))))
		ne++;
	if (ne == ns)
		return 0;
	t->type = end_tag ? AIMARK__HTML_END : AIMARK__HTML_START;
	t->begin = i;
	t->name = ns;
	t->name_len = ne - ns;
	t->attrs = ne;
	size_t k = ne;
	aimark__html_attr a;
	int r;
	while ((r = attr_step(p, n, &k, &a, &t->self_close)) > 0)
		;
	t->end = k;
	t->unterminated = r < 0;
	if (!end_tag) {
		for (size_t j = 0; raw_names[j]; j++) {
			if (!aimark__html_ci_eq(p + ns, ne - ns, raw_names[j]))
				continue;
			t->raw = 1;
			lx->state = ST_RAW_TEXT;
			lx->raw_open = i;
			lx->raw_name_len = ne - ns;
			memcpy(lx->raw_close, "</", 2);
			memcpy(lx->raw_close + 2, raw_names[j], ne - ns + 1);
			break;
		}
	}
	return 1;
}

int aimark__html_lex_next(aimark__html_lex *lx, aimark__html_token *t)
{
	const unsigned char *p = lx->p;
	size_t n = lx->n, i = lx->pos;
	memset(t, 0, sizeof *t);
	if (lx->state == ST_RAW_TEXT) {
		/* always reported after a raw element's start tag, even when empty or at the end */
		size_t c = find_ci(p, n, i, lx->raw_close);
		t->type = AIMARK__HTML_RAW;
		t->begin = i;
		t->end = c;
		t->raw_open = lx->raw_open;
		t->unterminated = c >= n;
		lx->pos = c;
		lx->state = c < n ? ST_RAW_END : ST_MARKUP;
		return 1;
	}
	if (lx->state == ST_RAW_END) {
		const unsigned char *gt = memchr(p + i, '>', n - i);
		t->type = AIMARK__HTML_END;
		t->begin = i;
		t->name = i + 2;
		t->name_len = lx->raw_name_len;
		t->end = gt ? (size_t)(gt - p) + 1 : n;
		t->attrs = gt ? (size_t)(gt - p) : n; /* no attributes */
		t->raw = 1;
		t->raw_open = lx->raw_open;
		t->unterminated = gt == NULL;
		lx->pos = t->end;
		lx->state = ST_MARKUP;
		return 1;
	}
	if (i >= n)
		return 0;
	t->begin = i;
	if (p[i] != '<') {
		const unsigned char *lt = memchr(p + i, '<', n - i);
		t->type = AIMARK__HTML_TEXT;
		t->end = lt ? (size_t)(lt - p) : n;
	} else if (n - i >= 4 && memcmp(p + i, "<!--", 4) == 0) {
		size_t e = find_ci(p, n, i + 4, "-->");
		t->type = AIMARK__HTML_COMMENT;
		t->end = e < n ? e + 3 : n;
		t->unterminated = e >= n;
	} else if (i + 1 < n && (p[i + 1] == '!' || p[i + 1] == '?')) {
		const unsigned char *gt = memchr(p + i, '>', n - i);
		t->type = ci_prefix(p + i, n - i, "<!doctype") ? AIMARK__HTML_DOCTYPE : AIMARK__HTML_DECL;
		t->end = gt ? (size_t)(gt - p) + 1 : n;
		t->unterminated = gt == NULL;
	} else if (!lex_tag(lx, i, t)) {
		t->type = AIMARK__HTML_TEXT;
		t->end = i + 1;
	}
	lx->pos = t->end;
	return 1;
}

static int put_utf8(aimark_buf *out, uint32_t cp)
{
	unsigned char b[4];
	size_t len;
	if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp < 0xE000))
		cp = 0xFFFD;
	if (cp < 0x80) {
		b[0] = (unsigned char)cp;
		len = 1;
	} else if (cp < 0x800) {
		b[0] = (unsigned char)(0xC0 | (cp >> 6));
		b[1] = (unsigned char)(0x80 | (cp & 0x3F));
		len = 2;
	} else if (cp < 0x10000) {
		b[0] = (unsigned char)(0xE0 | (cp >> 12));
		b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		b[2] = (unsigned char)(0x80 | (cp & 0x3F));
		len = 3;
	} else {
		b[0] = (unsigned char)(0xF0 | (cp >> 18));
		b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
		b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		b[3] = (unsigned char)(0x80 | (cp & 0x3F));
		len = 4;
	}
	return aimark__buf_append(out, b, len);
}

size_t aimark__html_char_ref(const unsigned char *p, size_t n, uint32_t *cp)
{
	static const struct { const char *name; uint32_t cp; } named[] = {
		{ "amp", '&' }, { "lt", '<' }, { "gt", '>' }, { "quot", '"' }, { "apos", '\'' }, { "nbsp", 0xA0 },
	};
	if (n < 2 || p[0] != '&')
		return 0;
	size_t j = 1;
	uint32_t v = 0;
	int ok = 0;
	if (p[j] == '#') {
		int hex = j + 1 < n && (p[j + 1] == 'x' || p[j + 1] == 'X');
		j += 1 + (size_t)hex;
		size_t digits = 0;
		/* at most 8 digits: the value stays within 32 bits */
		while (j < n && digits < 8) {
			int d = p[j] >= '0' && p[j] <= '9' ? p[j] - '0'
				: hex && lower(p[j]) >= 'a' && lower(p[j]) <= 'f' ? lower(p[j]) - 'a' + 10 : -1;
			if (d < 0)
				break;
			v = v * (hex ? 16u : 10u) + (uint32_t)d;
			j++;
			digits++;
		}
		ok = digits > 0;
	} else {
		for (size_t k = 0; k < sizeof named / sizeof named[0] && !ok; k++) {
			size_t l = strlen(named[k].name);
			if (j + l <= n && memcmp(p + j, named[k].name, l) == 0) {
				v = named[k].cp;
				j += l;
				ok = 1;
			}
		}
	}
	if (!ok)
		return 0;
	if (j < n && p[j] == ';')
		j++;
	*cp = v;
	return j;
}

int aimark__html_decode_refs(const unsigned char *p, size_t n, aimark_buf *out)
{
	for (size_t i = 0; i < n;) {
		if (p[i] != '&') {
			const unsigned char *amp = memchr(p + i, '&', n - i);
			size_t j = amp ? (size_t)(amp - p) : n;
			RETURN_IF_ERR(aimark__buf_append(out, p + i, j - i));
			i = j;
			continue;
		}
		uint32_t cp = 0;
		size_t len = aimark__html_char_ref(p + i, n - i, &cp);
		if (len == 0) {
			RETURN_IF_ERR(aimark__buf_append(out, "&", 1));
			i++;
			continue;
		}
		RETURN_IF_ERR(put_utf8(out, cp));
		i += len;
	}
	return 0;
}

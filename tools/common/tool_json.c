/* Growable strings, JSON string escaping, and reading one member of a JSON object. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool_json.h"

static int reserve(tool_str *s, size_t extra)
{
	if (s->failed)
		return -1;
	if (extra > SIZE_MAX - s->len - 1) {
		s->failed = 1;
		return -1;
	}
	size_t need = s->len + extra + 1;
	if (need <= s->cap)
		return 0;
	size_t cap = s->cap ? s->cap : 256;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	char *p = realloc(s->ptr, cap);
	if (p == NULL) {
		s->failed = 1;
		return -1;
	}
	s->ptr = p;
	s->cap = cap;
	return 0;
}

int tool_str_append(tool_str *s, const char *data, size_t len)
{
	if (reserve(s, len) != 0)
		return -1;
	if (len)
		memcpy(s->ptr + s->len, data, len);
	s->len += len;
	s->ptr[s->len] = '\0';
	return 0;
}

int tool_str_puts(tool_str *s, const char *text) { return tool_str_append(s, text, strlen(text)); }

int tool_str_printf(tool_str *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || reserve(s, (size_t)n) != 0) {
		s->failed = 1;
		return -1;
	}
	va_start(ap, fmt);
	vsnprintf(s->ptr + s->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	s->len += (size_t)n;
	return 0;
}

void tool_str_reset(tool_str *s)
{
	s->len = 0;
	if (s->ptr)
		s->ptr[0] = '\0';
}

void tool_str_free(tool_str *s)
{
	free(s->ptr);
	s->ptr = NULL;
	s->len = s->cap = 0;
	s->failed = 0;
}

/* Length of the valid UTF-8 sequence starting at p (at most `avail` bytes), or 0. */
static size_t utf8_sequence(const unsigned char *p, size_t avail)
{
	unsigned char c = p[0];
	size_t n;
	uint32_t cp;
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF) {
		n = 2;
		cp = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		cp = c & 0x0F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (avail < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3F);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return n;
}

int tool_str_json_string(tool_str *s, const char *text)
{
	const unsigned char *p = (const unsigned char *)(text ? text : "");
	size_t len = strlen((const char *)p);
	tool_str_append(s, "\"", 1);
	size_t i = 0;
	while (i < len) {
		unsigned char c = p[i];
		if (c == '"' || c == '\\') {
			char esc[2] = { '\\', (char)c };
			tool_str_append(s, esc, 2);
			i++;
		} else if (c < 0x20) {
			switch (c) {
			case '\n': tool_str_puts(s, "\\n"); break;
			case '\r': tool_str_puts(s, "\\r"); break;
			case '\t': tool_str_puts(s, "\\t"); break;
			default: tool_str_printf(s, "\\u%04x", c); break;
			}
			i++;
		} else {
			size_t n = utf8_sequence(p + i, len - i);
			if (n == 0) {
				tool_str_printf(s, "\\\\x%02x", c); /* JSON for the characters \xHH */
				i++;
			} else {
				tool_str_append(s, (const char *)p + i, n);
				i += n;
			}
		}
	}
	return tool_str_append(s, "\"", 1);
}

char *tool_display_name(const char *path, int *failed)
{
	const unsigned char *p = (const unsigned char *)path;
	size_t len = strlen(path), i = 0, bad = 0;
	while (i < len) {
		size_t n = utf8_sequence(p + i, len - i);
		bad += n == 0;
		i += n ? n : 1;
	}
	if (bad == 0)
		return NULL;
	char *out = malloc(len + bad * 3 + 1);
	if (out == NULL) {
		*failed = 1;
		return NULL;
	}
	char *o = out;
	for (i = 0; i < len;) {
		size_t n = utf8_sequence(p + i, len - i);
		if (n == 0) {
			snprintf(o, 5, "\\x%02x", p[i]);
			o += 4;
			i++;
		} else {
			memcpy(o, p + i, n);
			o += n;
			i += n;
		}
	}
	*o = '\0';
	return out;
}

int tool_json_error_report(tool_str *s, const char *file, const char *message, int pretty)
{
	const char *nl = pretty ? "\n  " : "";
	const char *sp = pretty ? " " : "";
	tool_str_printf(s, "{%s\"file\":%s", nl, sp);
	tool_str_json_string(s, file);
	tool_str_printf(s, ",%s\"format\":%s\"unknown\",%s\"verdict\":%s\"error\",%s\"error\":%s", nl, sp, nl, sp, nl, sp);
	tool_str_json_string(s, message && *message ? message : "cannot be read");
	tool_str_printf(s, ",%s\"aigc\":%snull,%s\"findings\":%s[]%s}", nl, sp, nl, sp, pretty ? "\n" : "");
	return s->failed ? -1 : 0;
}

/* ---- reading: just enough JSON to find one top-level string member ---- */

#define MAX_DEPTH 64

typedef struct cursor {
	const char *p;
	const char *end;
} cursor;

static void skip_ws(cursor *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
		c->p++;
}

static int hex4(const char *p, uint32_t *out)
{
	uint32_t v = 0;
	for (int i = 0; i < 4; i++) {
		char h = p[i];
		v <<= 4;
		if (h >= '0' && h <= '9')
			v |= (uint32_t)(h - '0');
		else if (h >= 'a' && h <= 'f')
			v |= (uint32_t)(h - 'a' + 10);
		else if (h >= 'A' && h <= 'F')
			v |= (uint32_t)(h - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static void put_utf8(tool_str *s, uint32_t cp)
{
	char b[4];
	size_t n;
	if (cp < 0x80) {
		b[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xC0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xE0 | (cp >> 12));
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		b[2] = (char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		b[0] = (char)(0xF0 | (cp >> 18));
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		b[3] = (char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	tool_str_append(s, b, n);
}

/* Parses a string at c->p (which must be '"'); decodes into `dst` when not NULL. */
static int parse_string(cursor *c, tool_str *dst)
{
	if (c->p >= c->end || *c->p != '"')
		return -1;
	c->p++;
	while (c->p < c->end) {
		unsigned char ch = (unsigned char)*c->p;
		if (ch == '"') {
			c->p++;
			return (dst && dst->failed) ? -1 : 0;
		}
		if (ch < 0x20)
			return -1;
		if (ch != '\\') {
			if (dst)
				tool_str_append(dst, c->p, 1);
			c->p++;
			continue;
		}
		if (c->end - c->p < 2)
			return -1;
		char e = c->p[1];
		c->p += 2;
		char lit = 0;
		switch (e) {
		case '"': lit = '"'; break;
		case '\\': lit = '\\'; break;
		case '/': lit = '/'; break;
		case 'b': lit = '\b'; break;
		case 'f': lit = '\f'; break;
		case 'n': lit = '\n'; break;
		case 'r': lit = '\r'; break;
		case 't': lit = '\t'; break;
		case 'u': {
			uint32_t cp;
			if (c->end - c->p < 4 || hex4(c->p, &cp) != 0)
				return -1;
			c->p += 4;
			if (cp >= 0xD800 && cp <= 0xDBFF) {
				uint32_t lo;
				if (c->end - c->p >= 6 && c->p[0] == '\\' && c->p[1] == 'u' && hex4(c->p + 2, &lo) == 0 &&
				    lo >= 0xDC00 && lo <= 0xDFFF) {
					c->p += 6;
					cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
				} else {
					cp = 0xFFFD;
				}
			} else if (cp >= 0xDC00 && cp <= 0xDFFF) {
				cp = 0xFFFD;
			}
			if (dst)
				put_utf8(dst, cp);
			continue;
		}
		default:
			return -1;
		}
		if (dst)
			tool_str_append(dst, &lit, 1);
	}
	return -1;
}

static int skip_value(cursor *c, int depth);

static int skip_container(cursor *c, int depth, char close, int is_object)
{
	if (depth >= MAX_DEPTH)
		return -1;
	c->p++; /* '{' or '[' */
	skip_ws(c);
	if (c->p < c->end && *c->p == close) {
		c->p++;
		return 0;
	}
	for (;;) {
		skip_ws(c);
		if (is_object) {
			if (parse_string(c, NULL) != 0)
				return -1;
			skip_ws(c);
			if (c->p >= c->end || *c->p != ':')
				return -1;
			c->p++;
			skip_ws(c);
		}
		if (skip_value(c, depth + 1) != 0)
			return -1;
		skip_ws(c);
		if (c->p >= c->end)
			return -1;
		if (*c->p == ',') {
			c->p++;
			continue;
		}
		if (*c->p == close) {
			c->p++;
			return 0;
		}
		return -1;
	}
}

static int skip_literal(cursor *c, const char *lit)
{
	size_t n = strlen(lit);
	if ((size_t)(c->end - c->p) < n || memcmp(c->p, lit, n) != 0)
		return -1;
	c->p += n;
	return 0;
}

static int skip_value(cursor *c, int depth)
{
	if (c->p >= c->end)
		return -1;
	switch (*c->p) {
	case '"': return parse_string(c, NULL);
	case '{': return skip_container(c, depth, '}', 1);
	case '[': return skip_container(c, depth, ']', 0);
	case 't': return skip_literal(c, "true");
	case 'f': return skip_literal(c, "false");
	case 'n': return skip_literal(c, "null");
	default: {
		const char *start = c->p;
		while (c->p < c->end && strchr("+-0123456789.eE", *c->p) != NULL)
			c->p++;
		return c->p > start ? 0 : -1;
	}
	}
}

int tool_json_get_string(const char *json, size_t len, const char *key, char **out)
{
	cursor c = { json, json + len };
	tool_str k = TOOL_STR_INIT;
	int rc = -1;
	*out = NULL;
	skip_ws(&c);
	if (c.p >= c.end || *c.p != '{')
		return -1;
	c.p++;
	skip_ws(&c);
	if (c.p < c.end && *c.p == '}')
		return 0;
	for (;;) {
		skip_ws(&c);
		tool_str_reset(&k);
		if (parse_string(&c, &k) != 0)
			break;
		skip_ws(&c);
		if (c.p >= c.end || *c.p != ':')
			break;
		c.p++;
		skip_ws(&c);
		if (k.ptr && strcmp(k.ptr, key) == 0 && c.p < c.end && *c.p == '"') {
			tool_str v = TOOL_STR_INIT;
			if (parse_string(&c, &v) != 0 || tool_str_append(&v, "", 0) != 0) {
				tool_str_free(&v);
				break;
			}
			*out = v.ptr;
			rc = 1;
			break;
		}
		if (skip_value(&c, 1) != 0)
			break;
		skip_ws(&c);
		if (c.p >= c.end)
			break;
		if (*c.p == ',') {
			c.p++;
			continue;
		}
		if (*c.p == '}')
			rc = 0;
		break;
	}
	tool_str_free(&k);
	return rc;
}

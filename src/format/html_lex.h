/*
 * The one HTML tokenizer: format/html_meta.c (the <meta name="AIGC"> label
 * carrier) and text/text_html.c (body, prose and explicit labels for the
 * text layers) both read HTML through it, so they agree byte for byte on
 * where tags, comments, quoted attribute values, raw text, declarations and
 * character references begin and end. A disagreement there makes a freshly
 * marked file verify as tampered.
 *
 * Lenient, not an HTML parser: nothing is ever rejected, every byte belongs
 * to exactly one token, and a construct the input leaves open runs to the
 * end of the input (flagged `unterminated`). No allocation; the input is
 * borrowed. It lives under format/ with the other container parsers (the
 * label carrier is a format concern); the text layer builds its document
 * structure on top of the tokens, so the dependency runs one way.
 *
 * THREAD SAFETY: a lexer is used by one thread at a time; the input is only read.
 */
#ifndef AIMARK_FORMAT_HTML_LEX_H
#define AIMARK_FORMAT_HTML_LEX_H

#include <stddef.h>
#include <stdint.h>

#include "aimark/common.h"

typedef enum aimark__html_tok_type {
	AIMARK__HTML_TEXT,    /* a text run; a '<' that opens nothing is a text token of its own */
	AIMARK__HTML_START,   /* start tag: name, attributes */
	AIMARK__HTML_END,     /* end tag (it may carry attributes too) */
	AIMARK__HTML_COMMENT, /* <!-- ... --> */
	AIMARK__HTML_DOCTYPE, /* <!doctype ...>, to the first '>' */
	AIMARK__HTML_DECL,    /* any other <!...> (CDATA included) or <?...>, to the first '>' */
	AIMARK__HTML_RAW      /* the raw text of script, style, textarea, title, xmp (may be empty) */
} aimark__html_tok_type;

typedef struct aimark__html_token {
	aimark__html_tok_type type;
	size_t begin, end;     /* the token's bytes: [begin, end) */
	size_t name, name_len; /* START/END: the tag name (as written: compare case-insensitively) */
	size_t attrs;          /* START/END: where the attributes begin (for aimark__html_attr_next) */
	size_t raw_open;       /* RAW, and the END that closes it: where the element's start tag begins */
	int self_close;        /* START/END: a "/>" closes the tag */
	int raw;               /* START: raw text follows; END: it closes raw text (and ends at the first '>') */
	int unterminated;      /* the input ends inside the token */
} aimark__html_token;

typedef struct aimark__html_lex {
	const unsigned char *p;
	size_t n, pos;
	int state;                 /* internal: what the next token is */
	size_t raw_open, raw_name_len; /* internal: the raw element being read */
	char raw_close[16];        /* internal: "</" + its lowercase name */
} aimark__html_lex;

typedef struct aimark__html_attr {
	size_t name, name_len; /* may be empty for an attribute written "=value" */
	size_t val, val_len;   /* inside the quotes, references not decoded */
	int has_val;
} aimark__html_attr;

/* Starts lexing p[from, n). */
void aimark__html_lex_init(aimark__html_lex *lx, const unsigned char *p, size_t n, size_t from);

/* Fills *t with the next token; returns 1, or 0 at the end of the input. Never fails. */
int aimark__html_lex_next(aimark__html_lex *lx, aimark__html_token *t);

/*
 * Iterates a tag's attributes: start with *pos = t->attrs; returns 1 with
 * the next attribute in *a, or 0 at the tag's end. Quote-aware: a quoted
 * value may hold '>'. The same code finds the end of every tag.
 */
int aimark__html_attr_next(const unsigned char *p, size_t n, size_t *pos, aimark__html_attr *a);

/* The first attribute of tag `t` named `name` (ASCII case-insensitive): 1 and *a, or 0. */
int aimark__html_attr_find(const unsigned char *p, size_t n, const aimark__html_token *t, const char *name,
			   aimark__html_attr *a);

/* 1 when p[s, s + len) equals the lowercase ASCII string `lc`, ignoring ASCII case. */
int aimark__html_ci_eq(const unsigned char *p, size_t len, const char *lc);

/* 1 when t is a start or end tag named `lc` (lowercase). */
int aimark__html_tag_is(const unsigned char *p, const aimark__html_token *t, const char *lc);

/*
 * 1 when t is the GB 45438 carrier: a <meta> start tag whose first `name`
 * attribute has a value that is "AIGC" (any case, surrounding white space
 * ignored) and that has a `content` attribute. Both layers use this one
 * test, so the bytes the format layer replaces are the bytes the text
 * layer leaves out of the content hash. *name_attr and *content_attr
 * (either may be NULL) receive the attributes.
 */
int aimark__html_is_aigc_meta(const unsigned char *p, size_t n, const aimark__html_token *t,
			      aimark__html_attr *name_attr, aimark__html_attr *content_attr);

/*
 * A character reference at p[0]: numeric ("&#...;", "&#x...;", at most 8 digits) or one of amp, lt,
 * gt, quot, apos, nbsp; the final ';' is optional. Stores its code point and returns its length, or
 * returns 0 when p does not start with one.
 */
size_t aimark__html_char_ref(const unsigned char *p, size_t n, uint32_t *cp);

/*
 * Appends p[0, len) to `out` with character references decoded: numeric
 * ones (NUL, surrogates and values past U+10FFFF become U+FFFD) and
 * &amp; &lt; &gt; &quot; &apos; &nbsp;, the ';' optional. Anything else
 * stays as written. Returns 0 or AIMARK_ENOMEM.
 */
AIMARK_NODISCARD int aimark__html_decode_refs(const unsigned char *p, size_t len, aimark_buf *out);

#endif

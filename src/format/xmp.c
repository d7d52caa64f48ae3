/*
 * XMP packets: find and set the GB 45438 AIGC property.
 *
 * expat parses with namespace processing and triplets ("URI\1local\1prefix"),
 * so the property is matched by namespace URI and local name whatever prefix
 * the writer chose. Setting never re-serializes: the parse records byte
 * ranges (the property value, duplicates, the </rdf:RDF> end tag) and the
 * output is the input with those ranges spliced, so every other byte stays.
 */
#include <expat.h>
#include <string.h>
#include <strings.h>

#include "core/findings_internal.h"
#include "core/internal.h"
#include "format/format.h"
#include "format/xmp.h"

#define XMP_NS_SEP '\x01'
#define XMP_RDF_NS "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
#define XMP_MAX_DEPTH 256u

enum { PROP_ELEMENT, PROP_ATTRIBUTE };

/* One AIGC property; byte ranges are offsets into the packet (set mode only). */
typedef struct xmp_prop {
	int form;
	int empty;               /* element written as <p:AIGC/> */
	size_t whole_start;      /* what to remove when this one is a duplicate */
	size_t whole_end;
	size_t val_start;        /* what to replace with the new value */
	size_t val_end;
	size_t qname_start;      /* raw qualified name (empty element form) */
	size_t qname_len;
	char quote;              /* attribute delimiter */
} xmp_prop;

typedef struct xmp_state {
	XML_Parser parser;
	const char *data;        /* the bytes fed to expat */
	size_t len;
	size_t base;             /* offset of `data` in the caller's packet */
	int ranges;              /* set mode: record byte ranges, UTF-8 only */
	aimark_findings *findings;
	int err;                 /* error raised inside a handler (message set) */
	unsigned depth;

	/* the element-form property being read (prop_depth 0: none) */
	unsigned prop_depth;
	int prop_first;          /* it is the first property: collect its text */
	int li_state;            /* 0 no rdf:li/rdf:value yet, 1 inside the first, 2 done */
	unsigned li_depth;
	size_t li_start, li_end;
	int li_nonempty;

	aimark_buf direct;       /* character data directly inside the first property */
	aimark_buf inner;        /* character data of its first rdf:li / rdf:value */
	int first_is_attr;
	int first_has_inner;     /* the first property wraps its text in rdf:li / rdf:value */

	xmp_prop *props;
	size_t n_props, cap_props;

	unsigned rdf_depth;      /* depth of the first rdf:RDF, 0 when none */
	int rdf_closed;
	size_t rdf_close;        /* offset of </rdf:RDF>, or of the end of <rdf:RDF .../> */
	size_t rdf_tag_end;      /* end of the rdf:RDF start tag */
	int rdf_empty;
	size_t rdf_qname_start, rdf_qname_len; /* raw name of rdf:RDF, for its prefix */
} xmp_state;

typedef struct xname {
	const char *uri, *local, *prefix;
	size_t uri_len, local_len, prefix_len;
} xname;

static void split_name(const char *name, xname *n)
{
	const char *s1 = strchr(name, XMP_NS_SEP);
	memset(n, 0, sizeof *n);
	if (s1 == NULL) {
		n->local = name;
		n->local_len = strlen(name);
		return;
	}
	n->uri = name;
	n->uri_len = (size_t)(s1 - name);
	n->local = s1 + 1;
	const char *s2 = strchr(n->local, XMP_NS_SEP);
	if (s2 == NULL) {
		n->local_len = strlen(n->local);
		return;
	}
	n->local_len = (size_t)(s2 - n->local);
	n->prefix = s2 + 1;
	n->prefix_len = strlen(n->prefix);
}

static int name_is(const xname *n, const char *uri, const char *local)
{
	return n->uri != NULL && n->uri_len == strlen(uri) && memcmp(n->uri, uri, n->uri_len) == 0 &&
	       n->local_len == strlen(local) && memcmp(n->local, local, n->local_len) == 0;
}

static int local_is(const xname *n, const char *local)
{
	return n->local_len == strlen(local) && memcmp(n->local, local, n->local_len) == 0;
}

static int prefix_is_tc260(const xname *n)
{
	return n->prefix_len == 5 && strncasecmp(n->prefix, "TC260", 5) == 0;
}

/* Stops the parser with an error from a handler; the message is already set. */
static void fail(xmp_state *st, int code)
{
	if (st->err == 0)
		st->err = code;
	XML_StopParser(st->parser, XML_FALSE);
}

static size_t cur_index(xmp_state *st)
{
	XML_Index i = XML_GetCurrentByteIndex(st->parser);
	return i < 0 ? 0 : (size_t)i;
}

static size_t cur_count(xmp_state *st)
{
	int c = XML_GetCurrentByteCount(st->parser);
	return c < 0 ? 0 : (size_t)c;
}

static xmp_prop *new_prop(xmp_state *st)
{
	if (st->n_props == st->cap_props) {
		size_t cap = st->cap_props ? st->cap_props * 2 : 4;
		xmp_prop *p = aimark__realloc(st->props, cap * sizeof *p);
		if (p == NULL) {
			aimark__error_set(AIMARK_ENOMEM, "out of memory");
			fail(st, AIMARK_ENOMEM);
			return NULL;
		}
		st->props = p;
		st->cap_props = cap;
	}
	xmp_prop *p = &st->props[st->n_props++];
	memset(p, 0, sizeof *p);
	return p;
}

static int is_xml_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Length of the raw element name at the start of a tag ("<p:name ..."). */
static size_t raw_qname_len(const char *tag, size_t len)
{
	size_t i = 1;
	while (i < len && !is_xml_space(tag[i]) && tag[i] != '/' && tag[i] != '>')
		i++;
	return i - 1;
}

/*
 * Locates attribute `qname` in the raw start tag [start, start+len) of the
 * packet: the whitespace before it, the value's bounds and its delimiter.
 * expat has checked the tag is well-formed; the scan is bounded regardless.
 */
static int find_raw_attr(const char *data, size_t start, size_t len, const char *prefix, size_t plen, xmp_prop *p)
{
	const char *t = data + start;
	size_t i = 1 + raw_qname_len(t, len);
	while (i < len) {
		size_t ws = i;
		while (i < len && is_xml_space(t[i]))
			i++;
		if (i >= len || t[i] == '/' || t[i] == '>')
			return -1;
		size_t name = i;
		while (i < len && t[i] != '=' && !is_xml_space(t[i]))
			i++;
		size_t name_len = i - name;
		while (i < len && is_xml_space(t[i]))
			i++;
		if (i >= len || t[i] != '=')
			return -1;
		i++;
		while (i < len && is_xml_space(t[i]))
			i++;
		if (i >= len || (t[i] != '"' && t[i] != '\''))
			return -1;
		char q = t[i++];
		size_t val = i;
		while (i < len && t[i] != q)
			i++;
		if (i >= len)
			return -1;
		if (name_len == plen + 5 && memcmp(t + name, prefix, plen) == 0 && memcmp(t + name + plen, ":AIGC", 5) == 0) {
			p->whole_start = start + ws;
			p->whole_end = start + i + 1;
			p->val_start = start + val;
			p->val_end = start + i;
			p->quote = q;
			return 0;
		}
		i++;
	}
	return -1;
}

static void add_finding(xmp_state *st, aimark_severity sev, const char *code, const char *msg, const xname *n)
{
	int rc = aimark__findings_add(st->findings, sev, code, "XMP: %s (prefix \"%.*s\", namespace \"%.*s\")", msg,
				      (int)n->prefix_len, n->prefix ? n->prefix : "", (int)n->uri_len,
				      n->uri ? n->uri : "");
	if (rc < 0)
		fail(st, rc);
}

/* An AIGC property was met: common checks and bookkeeping. */
static xmp_prop *property_seen(xmp_state *st, const xname *n, int form)
{
	if (n->prefix_len != 5 || memcmp(n->prefix, "TC260", 5) != 0)
		add_finding(st, AIMARK_SEVERITY_WARNING, "xmp-prefix", "the AIGC property does not use the prefix TC260",
			    n);
	if (form == PROP_ATTRIBUTE)
		add_finding(st, AIMARK_SEVERITY_INFO, "xmp-attribute-form",
			    "the AIGC property is written as an attribute", n);
	if (st->n_props == 1)
		add_finding(st, AIMARK_SEVERITY_ERROR, "duplicate-label",
			    "the packet holds more than one AIGC property; the first is used", n);
	if (st->err)
		return NULL;
	xmp_prop *p = new_prop(st);
	if (p)
		p->form = form;
	return p;
}

static void on_attribute(xmp_state *st, const xname *an, const char *value, size_t tag_start,
			 size_t tag_len)
{
	int first = st->n_props == 0;
	xmp_prop *p = property_seen(st, an, PROP_ATTRIBUTE);
	if (p == NULL)
		return;
	if (first) {
		st->first_is_attr = 1;
		if (aimark__buf_append_str(&st->direct, value) < 0) {
			fail(st, AIMARK_ENOMEM);
			return;
		}
	}
	if (st->ranges) {
		if (find_raw_attr(st->data, tag_start, tag_len, an->prefix, an->prefix_len, p) != 0) {
			aimark__error_set(AIMARK_EFORMAT, "XMP: cannot locate attribute %.*s:AIGC in the tag at offset %zu",
					  (int)an->prefix_len, an->prefix, st->base + tag_start);
			fail(st, AIMARK_EFORMAT);
		}
	}
}

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	xmp_state *st = ud;
	if (st->err)
		return;
	if (++st->depth > XMP_MAX_DEPTH) {
		aimark__error_set(AIMARK_EFORMAT, "XMP: elements nested deeper than %u at offset %zu", XMP_MAX_DEPTH,
				  st->base + cur_index(st));
		fail(st, AIMARK_EFORMAT);
		return;
	}
	xname en;
	split_name(name, &en);
	size_t idx = cur_index(st), cnt = cur_count(st);

	/* Inside a property value: only look for the rdf:li / rdf:value holding the text. */
	if (st->prop_depth) {
		if (st->li_state == 0 && (name_is(&en, XMP_RDF_NS, "li") || name_is(&en, XMP_RDF_NS, "value"))) {
			st->li_state = 1;
			st->li_depth = st->depth;
			st->li_start = idx + cnt;
			if (st->prop_first)
				st->first_has_inner = 1;
		}
		return;
	}

	int is_prop = name_is(&en, AIMARK__TC260_NS, "AIGC");
	if (!is_prop) {
		for (size_t i = 0; atts[i] != NULL; i += 2) {
			xname an;
			split_name(atts[i], &an);
			if (!local_is(&an, "AIGC") || an.uri == NULL)
				continue;
			if (name_is(&an, AIMARK__TC260_NS, "AIGC"))
				on_attribute(st, &an, atts[i + 1], idx, cnt);
			else if (prefix_is_tc260(&an))
				add_finding(st, AIMARK_SEVERITY_WARNING, "xmp-namespace",
					    "a TC260 AIGC attribute is bound to another namespace and was ignored", &an);
			if (st->err)
				return;
		}
	}

	if (is_prop) {
		int first = st->n_props == 0;
		xmp_prop *p = property_seen(st, &en, PROP_ELEMENT);
		if (p == NULL)
			return;
		st->prop_depth = st->depth;
		st->prop_first = first;
		st->li_state = 0;
		st->li_nonempty = 0;
		p->whole_start = idx;
		p->val_start = idx + cnt;
		p->qname_start = idx + 1;
		if (st->ranges)
			p->qname_len = raw_qname_len(st->data + idx, cnt);
	} else if (local_is(&en, "AIGC") && prefix_is_tc260(&en)) {
		add_finding(st, AIMARK_SEVERITY_WARNING, "xmp-namespace",
			    "a TC260 AIGC element is bound to another namespace and was ignored", &en);
	} else if (st->rdf_depth == 0 && name_is(&en, XMP_RDF_NS, "RDF")) {
		st->rdf_depth = st->depth;
		st->rdf_qname_start = idx + 1;
		st->rdf_tag_end = idx + cnt;
		if (st->ranges)
			st->rdf_qname_len = raw_qname_len(st->data + idx, cnt);
	}
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
	xmp_state *st = ud;
	(void)name;
	if (st->err)
		return;
	size_t idx = cur_index(st), cnt = cur_count(st);
	if (st->prop_depth && st->li_state == 1 && st->depth == st->li_depth) {
		st->li_state = 2;
		st->li_end = idx;
		st->li_nonempty = cnt > 0;
	}
	if (st->prop_depth && st->depth == st->prop_depth) {
		xmp_prop *p = &st->props[st->n_props - 1];
		if (cnt == 0) {
			/* <p:AIGC/>: the value goes where "/>" is */
			p->empty = 1;
			p->whole_end = p->val_start;
			p->val_start = p->val_end = p->val_start >= 2 ? p->val_start - 2 : p->val_start;
		} else if (st->li_state == 2 && st->li_nonempty) {
			p->whole_end = idx + cnt;
			p->val_start = st->li_start;
			p->val_end = st->li_end;
		} else {
			p->whole_end = idx + cnt;
			p->val_end = idx;
		}
		st->prop_depth = 0;
	} else if (st->rdf_depth && !st->rdf_closed && st->depth == st->rdf_depth) {
		st->rdf_closed = 1;
		st->rdf_empty = cnt == 0;
		st->rdf_close = cnt == 0 ? st->rdf_tag_end : idx;
	}
	st->depth--;
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
	xmp_state *st = ud;
	if (st->err || !st->prop_depth || !st->prop_first || len <= 0)
		return;
	aimark_buf *b = NULL;
	if (st->li_state == 1)
		b = &st->inner;
	else if (st->li_state == 0 && st->depth == st->prop_depth)
		b = &st->direct;
	if (b && aimark__buf_append(b, s, (size_t)len) < 0)
		fail(st, AIMARK_ENOMEM);
}

static void XMLCALL on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid, const XML_Char *pubid,
			       int has_internal_subset)
{
	xmp_state *st = ud;
	(void)name, (void)sysid, (void)pubid, (void)has_internal_subset;
	aimark__error_set(AIMARK_EFORMAT, "XMP: DOCTYPE declaration at offset %zu refused (no DTDs or entities allowed)",
			  st->base + cur_index(st));
	fail(st, AIMARK_EFORMAT);
}

static void XMLCALL on_xmldecl(void *ud, const XML_Char *version, const XML_Char *encoding, int standalone)
{
	xmp_state *st = ud;
	(void)version, (void)standalone;
	if (st->ranges && encoding != NULL && strcasecmp(encoding, "UTF-8") != 0 && strcasecmp(encoding, "UTF8") != 0) {
		aimark__error_set(AIMARK_EFORMAT, "XMP: packet declares encoding \"%s\"; only UTF-8 packets can be rewritten",
				  encoding);
		fail(st, AIMARK_EFORMAT);
	}
}

static void state_dispose(xmp_state *st)
{
	aimark_buf_dispose(&st->direct);
	aimark_buf_dispose(&st->inner);
	aimark__free(st->props);
	st->props = NULL;
}

/* Bytes to skip at the start (whitespace before "<?xml") and to ignore at the end (NUL padding). */
static void trim_packet(const char *xmp, size_t len, size_t *head, size_t *end)
{
	const unsigned char *u = (const unsigned char *)xmp;
	*head = 0;
	*end = len;
	/* UTF-16/32 packets end in NUL bytes of their own: leave those alone */
	if (len >= 2 && (u[0] == 0 || u[1] == 0 || (u[0] == 0xFF && u[1] == 0xFE) || (u[0] == 0xFE && u[1] == 0xFF)))
		return;
	size_t e = len;
	while (e > 0 && xmp[e - 1] == '\0')
		e--;
	size_t h = 0;
	while (h < e && is_xml_space(xmp[h]))
		h++;
	if (!(e - h >= 5 && memcmp(xmp + h, "<?xml", 5) == 0))
		h = 0;
	*head = h;
	*end = e;
}

static int only_blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!is_xml_space(s[i]) && s[i] != '\0')
			return 0;
	return 1;
}

/* Parses the packet; on success `st` holds what was found. */
static int xmp_parse(const char *xmp, size_t len, int ranges, aimark_findings *findings, xmp_state *st)
{
	memset(st, 0, sizeof *st);
	RETURN_IF(len > AIMARK__MAX_METADATA_BLOCK, AIMARK_ELIMIT, "XMP: packet of %zu bytes exceeds the %u-byte limit",
		  len, (unsigned)AIMARK__MAX_METADATA_BLOCK);
	size_t head, end;
	trim_packet(xmp, len, &head, &end);
	st->data = xmp + head;
	st->len = end - head;
	st->base = head;
	st->ranges = ranges;
	st->findings = findings;

	static const XML_Memory_Handling_Suite mm = { aimark__malloc, aimark__realloc, aimark__free };
	/* set mode parses as UTF-8 so that byte offsets index the packet we splice */
	XML_Parser p = XML_ParserCreate_MM(ranges ? "UTF-8" : NULL, &mm, "\x01");
	RETURN_ENOMEM_IF_NULL(p);
	st->parser = p;
	XML_SetUserData(p, st);
	XML_SetReturnNSTriplet(p, 1);
	XML_SetElementHandler(p, on_start, on_end);
	XML_SetCharacterDataHandler(p, on_text);
	XML_SetStartDoctypeDeclHandler(p, on_doctype);
	XML_SetXmlDeclHandler(p, on_xmldecl);
	XML_SetParamEntityParsing(p, XML_PARAM_ENTITY_PARSING_NEVER);

	int rc = 0;
	if (XML_Parse(p, st->data, (int)st->len, XML_TRUE) != XML_STATUS_OK) {
		if (st->err) {
			rc = st->err;
		} else {
			enum XML_Error e = XML_GetErrorCode(p);
			rc = aimark__error_set(e == XML_ERROR_NO_MEMORY ? AIMARK_ENOMEM : AIMARK_EFORMAT,
					       "XMP: %s at line %lu, column %lu (offset %zu)", XML_ErrorString(e),
					       (unsigned long)XML_GetCurrentLineNumber(p),
					       (unsigned long)XML_GetCurrentColumnNumber(p), st->base + cur_index(st));
		}
	} else if (st->err) {
		rc = st->err;
	}
	XML_ParserFree(p);
	st->parser = NULL;
	if (rc < 0)
		state_dispose(st);
	return rc;
}

int aimark__xmp_find_aigc(const char *xmp, size_t len, aimark_buf *json, aimark_findings *findings)
{
	RETURN_IF(json == NULL || (xmp == NULL && len > 0), AIMARK_EINVAL, "XMP: bad arguments");
	RETURN_IF(len == 0 || only_blank(xmp, len), AIMARK_ENOTFOUND, "XMP: empty packet");
	xmp_state st;
	RETURN_IF_ERR(xmp_parse(xmp, len, 0, findings, &st));
	int rc;
	if (st.n_props == 0) {
		rc = aimark__error_set(AIMARK_ENOTFOUND, "XMP: no AIGC property in namespace %s", AIMARK__TC260_NS);
	} else {
		const aimark_buf *v = st.first_has_inner ? &st.inner : &st.direct;
		rc = aimark__buf_append(json, v->ptr ? v->ptr : (const unsigned char *)"", v->size);
	}
	state_dispose(&st);
	return rc;
}

/* ---- writing ---- */

/* Checks that `s` is UTF-8 made of characters XML 1.0 can carry. */
static int check_xml_text(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;
	while (i < len) {
		unsigned c = u[i];
		size_t n;
		uint32_t cp;
		if (c < 0x80) {
			RETURN_IF(c < 0x20 && c != '\t' && c != '\n' && c != '\r', AIMARK_EINVAL,
				  "XMP: the value holds control character 0x%02x at byte %zu, which XML cannot carry", c, i);
			i++;
			continue;
		}
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
			return aimark__error_set(AIMARK_EINVAL, "XMP: the value is not UTF-8 (byte 0x%02x at %zu)", c, i);
		}
		RETURN_IF(len - i < n, AIMARK_EINVAL, "XMP: the value ends inside a UTF-8 sequence at byte %zu", i);
		for (size_t k = 1; k < n; k++) {
			RETURN_IF((u[i + k] & 0xC0) != 0x80, AIMARK_EINVAL, "XMP: the value is not UTF-8 (byte %zu)", i + k);
			cp = (cp << 6) | (u[i + k] & 0x3F);
		}
		int bad = (n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
			  (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE || cp == 0xFFFF;
		RETURN_IF(bad, AIMARK_EINVAL, "XMP: the value holds an invalid character at byte %zu", i);
		i += n;
	}
	return 0;
}

/* Appends `s` escaped for element text (quote 0) or for an attribute delimited by `quote`. */
static int append_escaped(aimark_buf *out, const char *s, size_t len, char quote)
{
	size_t run = 0;
	for (size_t i = 0; i < len; i++) {
		const char *ent = NULL;
		switch (s[i]) {
		case '&': ent = "&amp;"; break;
		case '<': ent = "&lt;"; break;
		case '>': ent = "&gt;"; break;
		case '"': ent = "&quot;"; break;
		case '\r': ent = "&#13;"; break; /* parsers fold CR, so keep it as a reference */
		case '\'': ent = quote == '\'' ? "&apos;" : NULL; break;
		case '\n': ent = quote ? "&#10;" : NULL; break; /* attribute values normalise whitespace */
		case '\t': ent = quote ? "&#9;" : NULL; break;
		default: break;
		}
		if (ent == NULL)
			continue;
		RETURN_IF_ERR(aimark__buf_append(out, s + run, i - run));
		RETURN_IF_ERR(aimark__buf_append_str(out, ent));
		run = i + 1;
	}
	return aimark__buf_append(out, s + run, len - run);
}

/* The new rdf:Description, written with the prefix rdf:RDF uses (declaring rdf: if it uses none). */
static int append_description(aimark_buf *out, const xmp_state *st, const char *json, size_t json_len)
{
	const char *q = st->data + st->rdf_qname_start;
	const char *colon = memchr(q, ':', st->rdf_qname_len);
	int plen = colon ? (int)(colon - q) : 0;
	if (colon == NULL)
		RETURN_IF_ERR(aimark__buf_append_str(out, "<Description xmlns:rdf=\"" XMP_RDF_NS "\" rdf:about=\"\""));
	else
		RETURN_IF_ERR(aimark__buf_printf(out, "<%.*s:Description %.*s:about=\"\"", plen, q, plen, q));
	RETURN_IF_ERR(aimark__buf_append_str(out, " xmlns:TC260=\"" AIMARK__TC260_NS "\"><TC260:AIGC>"));
	RETURN_IF_ERR(append_escaped(out, json, json_len, 0));
	RETURN_IF_ERR(aimark__buf_append_str(out, "</TC260:AIGC>"));
	if (colon == NULL)
		return aimark__buf_append_str(out, "</Description>");
	return aimark__buf_printf(out, "</%.*s:Description>", plen, q);
}

static int new_packet(const char *json, size_t json_len, aimark_buf *out)
{
	RETURN_IF_ERR(aimark__buf_append_str(out,
		"<?xpacket begin=\"\xEF\xBB\xBF\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>"
		"<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">"
		"<rdf:RDF xmlns:rdf=\"" XMP_RDF_NS "\">"
		"<rdf:Description rdf:about=\"\" xmlns:TC260=\"" AIMARK__TC260_NS "\"><TC260:AIGC>"));
	RETURN_IF_ERR(append_escaped(out, json, json_len, 0));
	return aimark__buf_append_str(out,
		"</TC260:AIGC></rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end=\"w\"?>");
}

typedef struct xmp_edit {
	size_t start, end;  /* range of st->data replaced */
	int kind;           /* EDIT_VALUE, EDIT_REMOVE, EDIT_INSERT */
	const xmp_prop *prop;
} xmp_edit;

enum { EDIT_VALUE, EDIT_REMOVE, EDIT_INSERT };

static int apply_edit(aimark_buf *out, const xmp_state *st, const xmp_edit *e, const char *json, size_t json_len)
{
	const xmp_prop *p = e->prop;
	switch (e->kind) {
	case EDIT_REMOVE:
		return 0;
	case EDIT_INSERT:
		if (st->rdf_empty)
			RETURN_IF_ERR(aimark__buf_append_str(out, ">"));
		RETURN_IF_ERR(append_description(out, st, json, json_len));
		if (st->rdf_empty) {
			RETURN_IF_ERR(aimark__buf_append_str(out, "</"));
			RETURN_IF_ERR(aimark__buf_append(out, st->data + st->rdf_qname_start, st->rdf_qname_len));
			RETURN_IF_ERR(aimark__buf_append_str(out, ">"));
		}
		return 0;
	default:
		break;
	}
	if (p->form == PROP_ATTRIBUTE)
		return append_escaped(out, json, json_len, p->quote);
	if (p->empty)
		RETURN_IF_ERR(aimark__buf_append_str(out, ">"));
	RETURN_IF_ERR(append_escaped(out, json, json_len, 0));
	if (p->empty) {
		RETURN_IF_ERR(aimark__buf_append_str(out, "</"));
		RETURN_IF_ERR(aimark__buf_append(out, st->data + p->qname_start, p->qname_len));
		RETURN_IF_ERR(aimark__buf_append_str(out, ">"));
	}
	return 0;
}

static int splice(const xmp_state *st, const char *xmp, size_t len, const char *json, size_t json_len,
		  aimark_buf *out)
{
	size_t n_edits = st->n_props ? st->n_props : 1;
	xmp_edit *edits = aimark__calloc(n_edits, sizeof *edits);
	RETURN_ENOMEM_IF_NULL(edits);
	if (st->n_props == 0) {
		edits[0].kind = EDIT_INSERT;
		/* <rdf:RDF .../>: rdf_close is the end of the tag; replace its "/>" */
		edits[0].start = st->rdf_empty && st->rdf_close >= 2 ? st->rdf_close - 2 : st->rdf_close;
		edits[0].end = st->rdf_close;
	} else {
		for (size_t i = 0; i < st->n_props; i++) {
			const xmp_prop *p = &st->props[i];
			edits[i].prop = p;
			edits[i].kind = i == 0 ? EDIT_VALUE : EDIT_REMOVE;
			edits[i].start = i == 0 ? p->val_start : p->whole_start;
			edits[i].end = i == 0 ? (p->empty ? p->val_start + 2 : p->val_end) : p->whole_end;
		}
		/* properties are recorded in document order and never nest, so a sort is enough */
		for (size_t i = 1; i < n_edits; i++) {
			xmp_edit e = edits[i];
			size_t j = i;
			for (; j > 0 && edits[j - 1].start > e.start; j--)
				edits[j] = edits[j - 1];
			edits[j] = e;
		}
	}

	aimark_buf tmp = AIMARK_BUF_INIT;
	int rc = aimark__buf_append(&tmp, xmp, st->base);
	size_t pos = 0;
	for (size_t i = 0; rc == 0 && i < n_edits; i++) {
		const xmp_edit *e = &edits[i];
		if (e->start < pos || e->end < e->start || e->end > st->len) {
			rc = aimark__error_set(AIMARK_EFORMAT, "XMP: overlapping AIGC properties near offset %zu",
					       st->base + e->start);
			break;
		}
		rc = aimark__buf_append(&tmp, st->data + pos, e->start - pos);
		if (rc == 0)
			rc = apply_edit(&tmp, st, e, json, json_len);
		pos = e->end;
	}
	if (rc == 0)
		rc = aimark__buf_append(&tmp, st->data + pos, len - st->base - pos);
	if (rc == 0)
		rc = aimark__buf_append(out, tmp.ptr, tmp.size);
	aimark_buf_dispose(&tmp);
	aimark__free(edits);
	return rc;
}

int aimark__xmp_set_aigc(const char *xmp, size_t len, const char *json, size_t json_len, aimark_buf *out)
{
	RETURN_IF(out == NULL || (json == NULL && json_len > 0) || (xmp == NULL && len > 0), AIMARK_EINVAL,
		  "XMP: bad arguments");
	RETURN_IF(json_len > AIMARK__MAX_METADATA_BLOCK, AIMARK_ELIMIT, "XMP: value of %zu bytes exceeds the %u-byte limit",
		  json_len, (unsigned)AIMARK__MAX_METADATA_BLOCK);
	if (json == NULL)
		json = "";
	RETURN_IF_ERR(check_xml_text(json, json_len));
	if (xmp == NULL || len == 0 || only_blank(xmp, len))
		return new_packet(json, json_len, out);

	xmp_state st;
	RETURN_IF_ERR(xmp_parse(xmp, len, 1, NULL, &st));
	int rc;
	if (st.rdf_depth == 0 || !st.rdf_closed)
		rc = aimark__error_set(AIMARK_EFORMAT, "XMP: no rdf:RDF element");
	else
		rc = splice(&st, xmp, len, json, json_len, out);
	state_dispose(&st);
	return rc;
}

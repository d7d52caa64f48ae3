/*
 * OOXML packages (DOCX, XLSX, PPTX): the label is the custom document
 * property named AIGC in docProps/custom.xml,
 *   <property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="N" name="AIGC">
 *     <vt:lpwstr>{json, XML-escaped}</vt:lpwstr></property>
 * The package is rewritten through zip_edit: every entry except the custom
 * properties part, [Content_Types].xml and _rels/.rels is copied raw.
 *
 * Essence: for each content entry (every entry except docProps/..., the
 * custom properties part, [Content_Types].xml and _rels/.rels), in file
 * order, its local header up to the end of the name (signature, versions,
 * flags, method, times, CRC-32, sizes, name) and its compressed bytes. These
 * are copied raw when labelling, so the hash survives relabelling and any
 * edit of document content changes it.
 */
#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/findings_internal.h"
#include "core/internal.h"
#include "core/io_internal.h"
#include "format/format.h"
#include "format/zip_edit.h"

#define OOXML_MAX_FILE (UINT64_C(256) << 20)
#define OOXML_MAX_DEPTH 256u
#define NS_SEP '\x01'
#define CARRIER_OOXML "ooxml-custom-property"
#define CUSTOM_PART "docProps/custom.xml"
#define TYPES_PART "[Content_Types].xml"
#define RELS_PART "_rels/.rels"
#define VT_NS "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
#define CUSTOM_NS "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
#define CUSTOM_CT "application/vnd.openxmlformats-officedocument.custom-properties+xml"
#define CUSTOM_REL "http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties"
#define FMTID "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"

enum { MODE_CUSTOM, MODE_RELS, MODE_TYPES };

/* One AIGC property in custom.xml (byte offsets into the part). */
typedef struct aigc_prop {
	size_t whole_begin, whole_end; /* the <property> element */
	int has_value;
	int value_empty;               /* <vt:lpwstr/> */
	size_t tag_begin, tag_end;     /* the value element's start tag */
	size_t content_end;            /* where its end tag begins */
	aimark_buf text;
} aigc_prop;

typedef struct xml_scan {
	XML_Parser parser;
	int mode;
	int err;
	unsigned depth;
	aimark_findings *findings;
	const char *what;
	size_t root_end;               /* offset of the root end tag */
	int root_end_found;
	char *root_prefix;             /* prefix of the root element, NULL for none */
	char *vt_prefix;               /* prefix bound to VT_NS on the root */
	int vt_bound;
	/* custom */
	unsigned long max_pid;
	aigc_prop *props;
	size_t n_props;
	int in_prop;                   /* inside an AIGC property (depth 2) */
	int value_depth;               /* depth of the value element being read, 0 none */
	/* rels */
	char *custom_target;
	aimark_buf ids;                /* "\n"-separated relationship ids */
	/* types */
	const char *part;              /* the custom part name looked for */
	int has_override;
} xml_scan;

static int str_set(char **dst, const char *s, size_t n)
{
	aimark__free(*dst);
	*dst = aimark__strndup(s, n);
	return *dst ? 0 : aimark__error_set(AIMARK_ENOMEM, "out of memory");
}

static void scan_fail(xml_scan *s, int rc)
{
	if (s->err == 0)
		s->err = rc;
	XML_StopParser(s->parser, XML_FALSE);
}

/* expat triplet "uri\1local\1prefix" (or "local") -> local name, prefix */
static void split_name(const char *name, const char **uri, size_t *uri_len, const char **local, size_t *local_len,
		       const char **prefix)
{
	const char *a = strchr(name, NS_SEP);
	if (a == NULL) {
		*uri = "";
		*uri_len = 0;
		*local = name;
		*local_len = strlen(name);
		*prefix = NULL;
		return;
	}
	*uri = name;
	*uri_len = (size_t)(a - name);
	*local = a + 1;
	const char *b = strchr(*local, NS_SEP);
	*local_len = b ? (size_t)(b - *local) : strlen(*local);
	*prefix = b ? b + 1 : NULL;
}

static int local_is(const char *local, size_t n, const char *want)
{
	return n == strlen(want) && memcmp(local, want, n) == 0;
}

static const char *attr_get(const char **attrs, const char *want)
{
	for (size_t i = 0; attrs[i]; i += 2) {
		const char *u, *l, *p;
		size_t ul, ll;
		split_name(attrs[i], &u, &ul, &l, &ll, &p);
		if (ul == 0 && local_is(l, ll, want))
			return attrs[i + 1];
	}
	return NULL;
}

static void XMLCALL on_ns(void *ud, const XML_Char *prefix, const XML_Char *uri)
{
	xml_scan *s = ud;
	if (s->depth == 0 && uri && strcmp(uri, VT_NS) == 0 && !s->vt_bound) {
		s->vt_bound = 1;
		if (prefix && str_set(&s->vt_prefix, prefix, strlen(prefix)) < 0)
			scan_fail(s, AIMARK_ENOMEM);
	}
}

static void XMLCALL on_doctype(void *ud, const XML_Char *n, const XML_Char *sys, const XML_Char *pub, int internal)
{
	xml_scan *s = ud;
	scan_fail(s, aimark__error_set(AIMARK_EFORMAT, "%s: a DOCTYPE is not allowed in a package part", s->what));
}

static void custom_start(xml_scan *s, const char *local, size_t ll, const char **attrs)
{
	size_t at = (size_t)XML_GetCurrentByteIndex(s->parser);
	size_t tag_end = at + (size_t)XML_GetCurrentByteCount(s->parser);
	if (s->depth == 2 && local_is(local, ll, "property")) {
		const char *pid = attr_get(attrs, "pid");
		if (pid) {
			unsigned long v = strtoul(pid, NULL, 10);
			if (v > s->max_pid && v < 0x7FFFFFFF)
				s->max_pid = v;
		}
		const char *name = attr_get(attrs, "name");
		if (name == NULL || strcasecmp(name, "AIGC") != 0)
			return;
		if (strcmp(name, "AIGC") != 0 &&
		    aimark__findings_add(s->findings, AIMARK_SEVERITY_WARNING, "ooxml-property-name",
					 "OOXML: the custom property is named \"%s\", not \"AIGC\"", name) < 0) {
			scan_fail(s, AIMARK_ENOMEM);
			return;
		}
		aigc_prop *p = aimark__realloc(s->props, (s->n_props + 1) * sizeof *p);
		if (p == NULL) {
			scan_fail(s, aimark__error_set(AIMARK_ENOMEM, "out of memory"));
			return;
		}
		s->props = p;
		memset(&p[s->n_props], 0, sizeof *p);
		p[s->n_props].whole_begin = at;
		p[s->n_props].whole_end = tag_end;
		s->n_props++;
		s->in_prop = 1;
	} else if (s->depth == 3 && s->in_prop) {
		aigc_prop *p = &s->props[s->n_props - 1];
		if (p->has_value)
			return;
		p->has_value = 1;
		p->tag_begin = at;
		p->tag_end = tag_end;
		s->value_depth = 3;
		if (!local_is(local, ll, "lpwstr") &&
		    aimark__findings_add(s->findings, AIMARK_SEVERITY_INFO, "ooxml-value-type",
					 "OOXML: the AIGC property value is a vt:%.*s, not a vt:lpwstr", (int)ll, local) < 0)
			scan_fail(s, AIMARK_ENOMEM);
	}
}

static void rels_start(xml_scan *s, const char *local, size_t ll, const char **attrs)
{
	if (s->depth != 2 || !local_is(local, ll, "Relationship"))
		return;
	const char *id = attr_get(attrs, "Id"), *type = attr_get(attrs, "Type"), *target = attr_get(attrs, "Target");
	const char *mode = attr_get(attrs, "TargetMode");
	if (id && (aimark__buf_append_str(&s->ids, id) < 0 || aimark__buf_append(&s->ids, "\n", 1) < 0)) {
		scan_fail(s, AIMARK_ENOMEM);
		return;
	}
	size_t tl = type ? strlen(type) : 0;
	/* transitional and strict OOXML use different relationship URIs with this ending */
	if (type && tl >= 18 && strcmp(type + tl - 18, "/custom-properties") == 0 && target && s->custom_target == NULL &&
	    (mode == NULL || strcmp(mode, "External") != 0)) {
		while (*target == '/')
			target++;
		if (str_set(&s->custom_target, target, strlen(target)) < 0)
			scan_fail(s, AIMARK_ENOMEM);
	}
}

static void types_start(xml_scan *s, const char *local, size_t ll, const char **attrs)
{
	if (s->depth != 2 || !local_is(local, ll, "Override"))
		return;
	const char *part = attr_get(attrs, "PartName");
	if (part && *part == '/' && s->part && strcasecmp(part + 1, s->part) == 0)
		s->has_override = 1;
}

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
	xml_scan *s = ud;
	const char *uri, *local, *prefix;
	size_t ul, ll;
	if (++s->depth > OOXML_MAX_DEPTH) {
		scan_fail(s, aimark__error_set(AIMARK_EFORMAT, "%s: elements nested deeper than %u", s->what, OOXML_MAX_DEPTH));
		return;
	}
	split_name(name, &uri, &ul, &local, &ll, &prefix);
	if (s->depth == 1 && prefix && str_set(&s->root_prefix, prefix, strlen(prefix)) < 0) {
		scan_fail(s, AIMARK_ENOMEM);
		return;
	}
	if (s->mode == MODE_CUSTOM)
		custom_start(s, local, ll, attrs);
	else if (s->mode == MODE_RELS)
		rels_start(s, local, ll, attrs);
	else
		types_start(s, local, ll, attrs);
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
	xml_scan *s = ud;
	size_t at = (size_t)XML_GetCurrentByteIndex(s->parser);
	size_t count = (size_t)XML_GetCurrentByteCount(s->parser);
	if (s->depth == 1) {
		s->root_end = at;
		s->root_end_found = count > 0; /* an empty root <Properties/> has no end tag to insert before */
	}
	if (s->mode == MODE_CUSTOM && s->n_props > 0) {
		aigc_prop *p = &s->props[s->n_props - 1];
		if (s->depth == 3 && s->value_depth == 3) {
			p->content_end = at;
			p->value_empty = count == 0;
			s->value_depth = 0;
		} else if (s->depth == 2 && s->in_prop) {
			p->whole_end = count == 0 ? p->whole_end : at + count;
			s->in_prop = 0;
		}
	}
	s->depth--;
}

static void XMLCALL on_text(void *ud, const XML_Char *text, int len)
{
	xml_scan *s = ud;
	if (s->mode != MODE_CUSTOM || s->value_depth == 0 || s->n_props == 0)
		return;
	aimark_buf *b = &s->props[s->n_props - 1].text;
	if (b->size + (size_t)len > AIMARK__MAX_METADATA_BLOCK) {
		scan_fail(s, aimark__error_set(AIMARK_ELIMIT, "%s: the AIGC property value exceeds %u bytes", s->what,
					       AIMARK__MAX_METADATA_BLOCK));
		return;
	}
	if (aimark__buf_append(b, text, (size_t)len) < 0)
		scan_fail(s, AIMARK_ENOMEM);
}

static void scan_dispose(xml_scan *s)
{
	for (size_t i = 0; i < s->n_props; i++)
		aimark_buf_dispose(&s->props[i].text);
	aimark__free(s->props);
	aimark__free(s->root_prefix);
	aimark__free(s->vt_prefix);
	aimark__free(s->custom_target);
	aimark_buf_dispose(&s->ids);
	memset(s, 0, sizeof *s);
}

static int scan_xml(xml_scan *s, int mode, const char *what, const unsigned char *xml, size_t len,
		    aimark_findings *findings, const char *part)
{
	memset(s, 0, sizeof *s);
	s->part = part;
	s->mode = mode;
	s->what = what;
	s->findings = findings;
	RETURN_IF(len > INT32_MAX, AIMARK_ELIMIT, "%s: part too large", what);
	s->parser = XML_ParserCreateNS(NULL, NS_SEP);
	RETURN_ENOMEM_IF_NULL(s->parser);
	XML_SetReturnNSTriplet(s->parser, 1);
	XML_SetUserData(s->parser, s);
	XML_SetElementHandler(s->parser, on_start, on_end);
	XML_SetCharacterDataHandler(s->parser, on_text);
	XML_SetStartNamespaceDeclHandler(s->parser, on_ns);
	XML_SetStartDoctypeDeclHandler(s->parser, on_doctype);
	enum XML_Status st = XML_Parse(s->parser, (const char *)xml, (int)len, XML_TRUE);
	int rc = 0;
	if (s->err)
		rc = s->err;
	else if (st != XML_STATUS_OK)
		rc = aimark__error_set(AIMARK_EFORMAT, "%s: not well-formed XML (%s at line %lu)", what,
				       XML_ErrorString(XML_GetErrorCode(s->parser)),
				       (unsigned long)XML_GetCurrentLineNumber(s->parser));
	XML_ParserFree(s->parser);
	s->parser = NULL;
	return rc;
}

/* ---- the package ---- */

typedef struct ooxml_doc {
	aimark_buf storage;
	const unsigned char *data;
	size_t size;
	aimark__zip zip;
	const aimark__zip_entry *types, *rels, *custom;
	char *custom_name;             /* part name of the custom properties (no leading /) */
	aimark_buf custom_xml, rels_xml, types_xml;
	xml_scan custom_scan, rels_scan, types_scan;
} ooxml_doc;

static void doc_dispose(ooxml_doc *d)
{
	aimark__zip_close(&d->zip);
	aimark_buf_dispose(&d->storage);
	aimark__free(d->custom_name);
	aimark_buf_dispose(&d->custom_xml);
	aimark_buf_dispose(&d->rels_xml);
	aimark_buf_dispose(&d->types_xml);
	scan_dispose(&d->custom_scan);
	scan_dispose(&d->rels_scan);
	scan_dispose(&d->types_scan);
}

static int count_named(const aimark__zip *zip, const char *name)
{
	int n = 0;
	size_t len = strlen(name);
	for (size_t i = 0; i < zip->n_entries; i++)
		if (zip->entries[i].name_len == len && strncasecmp((const char *)zip->entries[i].name, name, len) == 0)
			n++;
	return n;
}

static int extract_part(ooxml_doc *d, const aimark__zip_entry *e, aimark_buf *out)
{
	int rc = aimark__zip_extract(&d->zip, e, AIMARK__MAX_METADATA_BLOCK, out);
	if (rc < 0)
		aimark__error_prefix("OOXML");
	return rc;
}

static int doc_open(ooxml_doc *d, aimark_source *src, aimark_findings *findings)
{
	memset(d, 0, sizeof *d);
	RETURN_IF_ERR(aimark__source_load(src, OOXML_MAX_FILE, &d->storage, &d->data));
	d->size = (size_t)aimark_source_size(src);
	RETURN_IF(d->size < 4 || memcmp(d->data, "PK\3\4", 4) != 0, AIMARK_EFORMAT,
		  "OOXML: not a ZIP archive (no local header signature at offset 0)");
	RETURN_IF_ERR(aimark__zip_open(&d->zip, d->data, d->size, "OOXML"));
	d->types = aimark__zip_find(&d->zip, TYPES_PART, 1);
	RETURN_IF(d->types == NULL, AIMARK_EFORMAT, "OOXML: the package has no [Content_Types].xml entry");
	d->rels = aimark__zip_find(&d->zip, RELS_PART, 1);
	RETURN_IF(d->rels == NULL, AIMARK_EFORMAT, "OOXML: the package has no _rels/.rels entry");
	RETURN_IF(count_named(&d->zip, TYPES_PART) > 1 || count_named(&d->zip, RELS_PART) > 1, AIMARK_EFORMAT,
		  "OOXML: the package has duplicate [Content_Types].xml or _rels/.rels entries");
	RETURN_IF_ERR(extract_part(d, d->rels, &d->rels_xml));
	RETURN_IF_ERR(scan_xml(&d->rels_scan, MODE_RELS, "OOXML _rels/.rels", d->rels_xml.ptr, d->rels_xml.size, findings, NULL));
	RETURN_IF(!d->rels_scan.root_end_found, AIMARK_EFORMAT, "OOXML: _rels/.rels has no Relationships end tag");

	const char *name = d->rels_scan.custom_target ? d->rels_scan.custom_target : CUSTOM_PART;
	d->custom_name = aimark__strdup(name);
	RETURN_ENOMEM_IF_NULL(d->custom_name);
	RETURN_IF(count_named(&d->zip, d->custom_name) > 1, AIMARK_EFORMAT,
		  "OOXML: the package has duplicate %s entries", d->custom_name);
	d->custom = aimark__zip_find(&d->zip, d->custom_name, 1);
	if (d->custom) {
		RETURN_IF_ERR(extract_part(d, d->custom, &d->custom_xml));
		RETURN_IF_ERR(scan_xml(&d->custom_scan, MODE_CUSTOM, "OOXML custom properties", d->custom_xml.ptr,
				       d->custom_xml.size, findings, NULL));
		if (d->rels_scan.custom_target == NULL)
			RETURN_IF_ERR(aimark__findings_add(findings, AIMARK_SEVERITY_WARNING, "ooxml-custom-unreferenced",
							   "OOXML: %s exists but _rels/.rels does not reference it",
							   d->custom_name));
	}
	return 0;
}

static int is_metadata_entry(const ooxml_doc *d, const aimark__zip_entry *e)
{
	const char *n = (const char *)e->name;
	size_t cl = strlen(d->custom_name);
	return (e->name_len >= 9 && strncasecmp(n, "docProps/", 9) == 0) ||
	       (e->name_len == 19 && strncasecmp(n, TYPES_PART, 19) == 0) ||
	       (e->name_len == 11 && strncasecmp(n, RELS_PART, 11) == 0) ||
	       (e->name_len == cl && strncasecmp(n, d->custom_name, cl) == 0);
}

static int cmp_entry_offset(const void *a, const void *b)
{
	const aimark__zip_entry *x = *(const aimark__zip_entry *const *)a, *y = *(const aimark__zip_entry *const *)b;
	return x->local_offset < y->local_offset ? -1 : x->local_offset > y->local_offset;
}

static int add_essence(const ooxml_doc *d, aimark__meta *meta)
{
	size_t n = d->zip.n_entries;
	if (n == 0)
		return 0;
	const aimark__zip_entry **order = aimark__calloc(n, sizeof *order);
	RETURN_ENOMEM_IF_NULL(order);
	for (size_t i = 0; i < n; i++)
		order[i] = &d->zip.entries[i];
	qsort(order, n, sizeof *order, cmp_entry_offset);
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		const aimark__zip_entry *e = order[i];
		if (is_metadata_entry(d, e))
			continue;
		rc = aimark__meta_add_essence(meta, e->local_offset, e->local_name_end - e->local_offset);
		if (rc == 0)
			rc = aimark__meta_add_essence(meta, e->data_offset, e->comp_size);
	}
	aimark__free(order);
	return rc;
}

static int ooxml_read(aimark_source *src, aimark__meta *meta)
{
	ooxml_doc d;
	int rc = doc_open(&d, src, meta->findings);
	if (rc == 0 && d.custom_scan.n_props > 1)
		rc = aimark__findings_add(meta->findings, AIMARK_SEVERITY_WARNING, "duplicate-label",
					  "OOXML: %zu AIGC custom properties", d.custom_scan.n_props);
	for (size_t i = 0; rc == 0 && i < d.custom_scan.n_props; i++) {
		const aigc_prop *p = &d.custom_scan.props[i];
		if (!p->has_value)
			continue;
		rc = aimark__meta_add_carrier(meta, CARRIER_OOXML, p->text.ptr ? (const char *)p->text.ptr : "",
					      p->text.size, d.custom->local_offset);
		break; /* one label per file: the first property is the label */
	}
	if (rc == 0)
		rc = add_essence(&d, meta);
	doc_dispose(&d);
	return rc;
}

/* ---- writing ---- */

static int append_xml_escaped(aimark_buf *out, const char *s, size_t n)
{
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		const char *rep = NULL;
		switch (s[i]) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		default: break;
		}
		if (rep == NULL)
			continue;
		RETURN_IF_ERR(aimark__buf_append(out, s + run, i - run));
		RETURN_IF_ERR(aimark__buf_append_str(out, rep));
		run = i + 1;
	}
	return aimark__buf_append(out, s + run, n - run);
}

static int append_qname(aimark_buf *out, const char *prefix, const char *local)
{
	if (prefix && *prefix) {
		RETURN_IF_ERR(aimark__buf_append_str(out, prefix));
		RETURN_IF_ERR(aimark__buf_append(out, ":", 1));
	}
	return aimark__buf_append_str(out, local);
}

/* A new <property> element for an existing custom.xml (prefixes as the document binds them). */
static int build_property(aimark_buf *out, const xml_scan *s, const char *json, size_t len)
{
	RETURN_IF_ERR(aimark__buf_append(out, "<", 1));
	RETURN_IF_ERR(append_qname(out, s->root_prefix, "property"));
	RETURN_IF_ERR(aimark__buf_printf(out, " fmtid=\"" FMTID "\" pid=\"%lu\" name=\"AIGC\"><",
					 s->max_pid < 2 ? 2 : s->max_pid + 1));
	const char *vt = s->vt_bound ? s->vt_prefix : "vt";
	RETURN_IF_ERR(append_qname(out, vt, "lpwstr"));
	if (!s->vt_bound)
		RETURN_IF_ERR(aimark__buf_append_str(out, " xmlns:vt=\"" VT_NS "\""));
	RETURN_IF_ERR(aimark__buf_append(out, ">", 1));
	RETURN_IF_ERR(append_xml_escaped(out, json, len));
	RETURN_IF_ERR(aimark__buf_append(out, "</", 2));
	RETURN_IF_ERR(append_qname(out, vt, "lpwstr"));
	RETURN_IF_ERR(aimark__buf_append(out, "></", 3));
	RETURN_IF_ERR(append_qname(out, s->root_prefix, "property"));
	return aimark__buf_append(out, ">", 1);
}

typedef struct splice {
	size_t begin, end;
	aimark_buf text;
} splice;

static int cmp_splice(const void *a, const void *b)
{
	const splice *x = a, *y = b;
	return x->begin < y->begin ? -1 : x->begin > y->begin;
}

static int apply_splices(const unsigned char *in, size_t len, splice *sp, size_t n, aimark_buf *out)
{
	qsort(sp, n, sizeof *sp, cmp_splice);
	size_t pos = 0;
	for (size_t i = 0; i < n; i++) {
		if (sp[i].begin < pos || sp[i].end > len)
			return aimark__error_set(AIMARK_EFORMAT, "OOXML: overlapping edits in a package part");
		RETURN_IF_ERR(aimark__buf_append(out, in + pos, sp[i].begin - pos));
		RETURN_IF_ERR(aimark__buf_append(out, sp[i].text.ptr, sp[i].text.size));
		pos = sp[i].end;
	}
	return aimark__buf_append(out, in + pos, len - pos);
}

/* The value element's raw qualified name, read back from its start tag. */
static size_t tag_qname_len(const unsigned char *xml, size_t begin, size_t end)
{
	size_t i = begin + 1;
	while (i < end && xml[i] != '>' && xml[i] != '/' && xml[i] != ' ' && xml[i] != '\t' && xml[i] != '\r' &&
	       xml[i] != '\n')
		i++;
	return i - begin - 1;
}

static int new_custom(const ooxml_doc *d, const char *json, size_t len, aimark_buf *out)
{
	const xml_scan *s = &d->custom_scan;
	splice sp[64];
	size_t n = 0;
	int rc = 0, done = 0;
	memset(sp, 0, sizeof sp);
	for (size_t i = 0; i < s->n_props && rc == 0; i++) {
		const aigc_prop *p = &s->props[i];
		if (n == sizeof sp / sizeof sp[0]) {
			rc = aimark__error_set(AIMARK_EUNSUPPORTED, "OOXML: too many AIGC custom properties");
			break;
		}
		splice *x = &sp[n++];
		if (!done && p->has_value && !p->value_empty) {
			x->begin = p->tag_end;
			x->end = p->content_end;
			rc = append_xml_escaped(&x->text, json, len);
			done = 1;
		} else if (!done && p->has_value) {
			size_t ql = tag_qname_len(d->custom_xml.ptr, p->tag_begin, p->tag_end);
			x->begin = p->tag_begin;
			x->end = p->tag_end;
			rc = aimark__buf_printf(&x->text, "<%.*s>", (int)ql, (const char *)d->custom_xml.ptr + p->tag_begin + 1);
			if (rc == 0)
				rc = append_xml_escaped(&x->text, json, len);
			if (rc == 0)
				rc = aimark__buf_printf(&x->text, "</%.*s>", (int)ql,
							(const char *)d->custom_xml.ptr + p->tag_begin + 1);
			done = 1;
		} else {
			/* duplicates and value-less properties go: one label per file */
			x->begin = p->whole_begin;
			x->end = p->whole_end;
		}
	}
	if (rc == 0 && !done) {
		if (!s->root_end_found)
			rc = aimark__error_set(AIMARK_EUNSUPPORTED, "OOXML: %s has an empty root element", d->custom_name);
		else {
			splice *x = &sp[n++];
			x->begin = x->end = s->root_end;
			rc = build_property(&x->text, s, json, len);
		}
	}
	if (rc == 0)
		rc = apply_splices(d->custom_xml.ptr, d->custom_xml.size, sp, n, out);
	for (size_t i = 0; i < n; i++)
		aimark_buf_dispose(&sp[i].text);
	return rc;
}

static int insert_at_root_end(const aimark_buf *xml, const xml_scan *s, const aimark_buf *element, aimark_buf *out)
{
	RETURN_IF_ERR(aimark__buf_append(out, xml->ptr, s->root_end));
	RETURN_IF_ERR(aimark__buf_append(out, element->ptr, element->size));
	return aimark__buf_append(out, xml->ptr + s->root_end, xml->size - s->root_end);
}

/* A relationship id not used in _rels/.rels. */
static int fresh_rel_id(const xml_scan *s, char *id, size_t cap)
{
	for (unsigned k = 0; k < 1000; k++) {
		if (k == 0)
			snprintf(id, cap, "rIdAIGC");
		else
			snprintf(id, cap, "rIdAIGC%u", k);
		size_t n = strlen(id);
		const char *ids = s->ids.ptr ? (const char *)s->ids.ptr : "";
		int taken = 0;
		for (const char *p = ids; *p;) {
			const char *nl = strchr(p, '\n');
			size_t l = nl ? (size_t)(nl - p) : strlen(p);
			if (l == n && memcmp(p, id, n) == 0)
				taken = 1;
			p += l + (nl ? 1 : 0);
		}
		if (!taken)
			return 0;
	}
	return aimark__error_set(AIMARK_EUNSUPPORTED, "OOXML: cannot find a free relationship id");
}

static int check_utf8_part(const aimark_buf *xml, const char *name)
{
	RETURN_IF(xml->size >= 2 && ((xml->ptr[0] == 0xFF && xml->ptr[1] == 0xFE) || (xml->ptr[0] == 0xFE && xml->ptr[1] == 0xFF)),
		  AIMARK_EUNSUPPORTED, "OOXML: %s is UTF-16; only UTF-8 parts are edited", name);
	return 0;
}

static int ooxml_write(aimark_source *src, const aimark__meta *meta, const aimark__label_provider *label,
		       aimark_sink *sink)
{
	const aimark__label_write *lw = NULL;
	ooxml_doc d;
	aimark_buf custom = AIMARK_BUF_INIT, rels = AIMARK_BUF_INIT, types = AIMARK_BUF_INIT, el = AIMARK_BUF_INIT;
	aimark__zip_put puts[3];
	size_t n_puts = 0;
	int rc = doc_open(&d, src, NULL);
	if (rc == 0)
		rc = label->get(label->ctx, &lw);
	if (rc == 0 && d.custom) {
		rc = check_utf8_part(&d.custom_xml, d.custom_name);
		if (rc == 0)
			rc = new_custom(&d, lw->bare_json, lw->bare_len, &custom);
	} else if (rc == 0) {
		rc = aimark__buf_append_str(&custom,
			"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\r\n"
			"<Properties xmlns=\"" CUSTOM_NS "\" xmlns:vt=\"" VT_NS "\"><property fmtid=\"" FMTID
			"\" pid=\"2\" name=\"AIGC\"><vt:lpwstr>");
		if (rc == 0)
			rc = append_xml_escaped(&custom, lw->bare_json, lw->bare_len);
		if (rc == 0)
			rc = aimark__buf_append_str(&custom, "</vt:lpwstr></property></Properties>");
	}
	if (rc == 0)
		puts[n_puts++] = (aimark__zip_put){ d.custom_name, custom.ptr, custom.size };

	/* a new part needs its relationship and content type */
	if (rc == 0 && d.rels_scan.custom_target == NULL) {
		char id[32];
		rc = check_utf8_part(&d.rels_xml, RELS_PART);
		if (rc == 0)
			rc = fresh_rel_id(&d.rels_scan, id, sizeof id);
		if (rc == 0)
			rc = aimark__buf_append(&el, "<", 1);
		if (rc == 0)
			rc = append_qname(&el, d.rels_scan.root_prefix, "Relationship");
		if (rc == 0)
			rc = aimark__buf_printf(&el, " Id=\"%s\" Type=\"" CUSTOM_REL "\" Target=\"%s\"/>", id, d.custom_name);
		if (rc == 0)
			rc = insert_at_root_end(&d.rels_xml, &d.rels_scan, &el, &rels);
		if (rc == 0)
			puts[n_puts++] = (aimark__zip_put){ RELS_PART, rels.ptr, rels.size };
	}
	if (rc == 0 && d.custom == NULL) {
		aimark__buf_clear(&el);
		rc = extract_part(&d, d.types, &d.types_xml);
		if (rc == 0)
			rc = check_utf8_part(&d.types_xml, TYPES_PART);
		if (rc == 0)
			rc = scan_xml(&d.types_scan, MODE_TYPES, "OOXML [Content_Types].xml", d.types_xml.ptr, d.types_xml.size,
				      NULL, d.custom_name);
		if (rc == 0 && !d.types_scan.root_end_found)
			rc = aimark__error_set(AIMARK_EFORMAT, "OOXML: [Content_Types].xml has no Types end tag");
		if (rc == 0 && !d.types_scan.has_override) {
			rc = aimark__buf_append(&el, "<", 1);
			if (rc == 0)
				rc = append_qname(&el, d.types_scan.root_prefix, "Override");
			if (rc == 0)
				rc = aimark__buf_append_str(&el, " PartName=\"/");
			if (rc == 0)
				rc = append_xml_escaped(&el, d.custom_name, strlen(d.custom_name));
			if (rc == 0)
				rc = aimark__buf_append_str(&el, "\" ContentType=\"" CUSTOM_CT "\"/>");
			if (rc == 0)
				rc = insert_at_root_end(&d.types_xml, &d.types_scan, &el, &types);
			if (rc == 0)
				puts[n_puts++] = (aimark__zip_put){ TYPES_PART, types.ptr, types.size };
		}
	}
	if (rc == 0)
		rc = aimark__zip_write(&d.zip, puts, n_puts, sink);
	aimark_buf_dispose(&custom);
	aimark_buf_dispose(&rels);
	aimark_buf_dispose(&types);
	aimark_buf_dispose(&el);
	doc_dispose(&d);
	(void)meta;
	return rc;
}

static int ooxml_probe(const unsigned char *head, size_t len)
{
	return len >= 49 && memcmp(head, "PK\3\4", 4) == 0 && aimark__le16(head + 26) == 19 &&
	       memcmp(head + 30, TYPES_PART, 19) == 0;
}

static const char *const ooxml_extensions[] = { "docx", "xlsx", "pptx", NULL };

const aimark__format_ops aimark__format_ooxml = {
	.name = "ooxml",
	.extensions = ooxml_extensions,
	.probe = ooxml_probe,
	.read = ooxml_read,
	.write = ooxml_write,
};

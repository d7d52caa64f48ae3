/*
 * Plain text (.txt, chosen by extension only): the label is the last line,
 *   AIGC: {json}
 * separated from the text by one blank line. A trailing line disturbs the
 * text least (no shifted first line, headers, shebangs or CSV columns), is
 * where GB 45438 also allows the visible notice, and survives the usual
 * edits: re-wrapping, trimming trailing white space, appending is seen.
 * Readers also accept "AIGC={json}" and leading white space.
 *
 * Essence: the text before the label line with trailing line breaks (CR and
 * LF) removed, so adding the blank separator does not change it. Exact bytes
 * otherwise.
 */
#include <string.h>

#include "core/findings_internal.h"
#include "core/internal.h"
#include "core/io_internal.h"
#include "format/format.h"

#define TEXT_MAX_FILE (UINT64_C(256) << 20)
#define CARRIER_TEXT "text-line"

typedef struct text_doc {
	aimark_buf storage;
	const unsigned char *d;
	size_t n;
	const char *eol;
	int has_label;
	size_t line_begin;   /* the label line */
	size_t json_begin, json_end;
	size_t essence_end;
} text_doc;

static size_t strip_breaks(const unsigned char *p, size_t e)
{
	while (e > 0 && (p[e - 1] == '\n' || p[e - 1] == '\r'))
		e--;
	return e;
}

static int doc_open(text_doc *doc, aimark_source *src)
{
	memset(doc, 0, sizeof *doc);
	RETURN_IF_ERR(aimark__source_load(src, TEXT_MAX_FILE, &doc->storage, &doc->d));
	doc->n = (size_t)aimark_source_size(src);
	const unsigned char *p = doc->d;
	size_t n = doc->n;
	RETURN_IF(n >= 2 && ((p[0] == 0xFF && p[1] == 0xFE) || (p[0] == 0xFE && p[1] == 0xFF)), AIMARK_EUNSUPPORTED,
		  "text: UTF-16 text is not supported");
	const unsigned char *nul = memchr(p, 0, n);
	RETURN_IF(nul != NULL, AIMARK_EFORMAT, "text: NUL byte at offset %zu: not a text file", (size_t)(nul - p));
	const unsigned char *nl = memchr(p, '\n', n);
	doc->eol = nl && nl > p && nl[-1] == '\r' ? "\r\n" : "\n";

	/* the last non-empty line */
	size_t end = strip_breaks(p, n), begin = end;
	while (begin > 0 && p[begin - 1] != '\n' && p[begin - 1] != '\r')
		begin--;
	size_t i = begin;
	while (i < end && (p[i] == ' ' || p[i] == '\t'))
		i++;
	if (end - i >= 5 && memcmp(p + i, "AIGC", 4) == 0 && (p[i + 4] == ':' || p[i + 4] == '=')) {
		size_t s = i + 5, e = end;
		while (s < e && (p[s] == ' ' || p[s] == '\t'))
			s++;
		while (e > s && (p[e - 1] == ' ' || p[e - 1] == '\t'))
			e--;
		if (e > s && p[s] == '{' && p[e - 1] == '}') {
			doc->has_label = 1;
			doc->line_begin = begin;
			doc->json_begin = s;
			doc->json_end = e;
		}
	}
	doc->essence_end = strip_breaks(p, doc->has_label ? doc->line_begin : n);
	return 0;
}

static int text_read(aimark_source *src, aimark__meta *meta)
{
	text_doc doc;
	int rc = doc_open(&doc, src);
	if (rc == 0 && doc.has_label) {
		const unsigned char *p = doc.d;
		if (doc.json_end - doc.json_begin > AIMARK__MAX_METADATA_BLOCK)
			rc = aimark__error_set(AIMARK_ELIMIT, "text: the AIGC line exceeds %u bytes", AIMARK__MAX_METADATA_BLOCK);
		else if (p[doc.json_begin - 1] != ' ' || memcmp(p + doc.line_begin, "AIGC: ", 6) != 0)
			rc = aimark__findings_add(meta->findings, AIMARK_SEVERITY_INFO, "text-label-form",
						  "text: the label line is not written as \"AIGC: {json}\"");
		if (rc == 0)
			rc = aimark__meta_add_carrier(meta, CARRIER_TEXT, (const char *)p + doc.json_begin,
						      doc.json_end - doc.json_begin, doc.line_begin);
	}
	if (rc == 0)
		rc = aimark__meta_add_essence(meta, 0, doc.essence_end);
	aimark_buf_dispose(&doc.storage);
	return rc;
}

static int text_write(aimark_source *src, const aimark__meta *meta, const aimark__label_provider *label,
		      aimark_sink *sink)
{
	text_doc doc;
	const aimark__label_write *lw = NULL;
	int rc = doc_open(&doc, src);
	if (rc == 0)
		rc = label->get(label->ctx, &lw);
	if (rc == 0 && (memchr(lw->bare_json, '\n', lw->bare_len) || memchr(lw->bare_json, '\r', lw->bare_len)))
		rc = aimark__error_set(AIMARK_EINVAL, "text: the label JSON must be on one line");
	if (rc == 0 && doc.has_label) {
		rc = aimark_sink_write(sink, doc.d, doc.line_begin);
	} else if (rc == 0) {
		rc = aimark_sink_write(sink, doc.d, doc.n);
		if (rc == 0 && doc.n > 0 && doc.d[doc.n - 1] != '\n' && doc.d[doc.n - 1] != '\r')
			rc = aimark_sink_write(sink, doc.eol, strlen(doc.eol));
		if (rc == 0 && doc.n > 0)
			rc = aimark_sink_write(sink, doc.eol, strlen(doc.eol));
	}
	if (rc == 0)
		rc = aimark_sink_write(sink, "AIGC: ", 6);
	if (rc == 0)
		rc = aimark_sink_write(sink, lw->bare_json, lw->bare_len);
	if (rc == 0)
		rc = aimark_sink_write(sink, doc.eol, strlen(doc.eol));
	aimark_buf_dispose(&doc.storage);
	(void)meta;
	return rc;
}

/* Text has no magic: chosen by extension only. */
static int text_probe(const unsigned char *head, size_t len)
{
	(void)head;
	(void)len;
	return 0;
}

static const char *const text_extensions[] = { "txt", "text", NULL };

const aimark__format_ops aimark__format_text = {
	.name = "text",
	.extensions = text_extensions,
	.probe = text_probe,
	.read = text_read,
	.write = text_write,
};

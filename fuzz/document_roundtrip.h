/*
 * The round trip every document-format fuzz target runs: read hostile input;
 * when it parses, write a label and check that the output reads back with that
 * label and the same essence bytes. Included by fuzz_<format>.c.
 */
#ifndef AIMARK_FUZZ_DOCUMENT_ROUNDTRIP_H
#define AIMARK_FUZZ_DOCUMENT_ROUNDTRIP_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aimark/aimark.h"
#include "core/internal.h"
#include "format/format.h"

static const char LABEL[] = "{\"Label\":\"1\",\"ContentProducer\":\"001191310104MACE0YX63918020\",\"ProduceID\":\"f(1)\\\\<&>\","
			    "\"ReservedCode1\":\"\",\"ContentPropagator\":\"001191310104MACE0YX63918020\",\"PropagateID\":\"f\","
			    "\"ReservedCode2\":\"\"}";

static int get_label(void *ctx, const aimark__label_write **out)
{
	static const aimark__label_write lw = { LABEL, sizeof LABEL - 1, LABEL, sizeof LABEL - 1 };
	(void)ctx;
	*out = &lw;
	return 0;
}

/* Reads `data`; on success appends the essence bytes to `essence` and returns 0. */
static int read_all(const aimark__format_ops *ops, const uint8_t *data, size_t size, aimark__meta *meta, aimark_buf *essence)
{
	aimark_source *src = NULL;
	if (aimark_source_new_memory(&src, size ? data : (const uint8_t *)"", size) != 0)
		return -1;
	aimark__meta_init(meta, NULL);
	int rc = ops->read(src, meta);
	aimark_source_free(src);
	if (rc != 0)
		return rc;
	uint64_t last = 0;
	for (size_t i = 0; i < meta->n_essence; i++) {
		const aimark__range *r = &meta->essence[i];
		if (r->offset < last || r->offset > size || r->length > size - r->offset)
			abort(); /* ranges must be in order, disjoint and inside the input */
		last = r->offset + r->length;
		if (aimark__buf_append(essence, data + r->offset, (size_t)r->length) != 0)
			return -1;
	}
	return 0;
}

static void check(const aimark__format_ops *ops, const uint8_t *data, size_t size)
{
	aimark__meta meta, meta2;
	aimark_buf e1 = AIMARK_BUF_INIT, e2 = AIMARK_BUF_INIT, out = AIMARK_BUF_INIT;
	aimark_source *src = NULL;
	aimark_sink *sink = NULL;
	aimark__label_provider prov = { NULL, get_label, NULL };
	if (read_all(ops, data, size, &meta, &e1) != 0)
		goto done;
	if (aimark_source_new_memory(&src, size ? data : (const uint8_t *)"", size) != 0 ||
	    aimark_sink_new_buffer(&sink, &out) != 0)
		goto done;
	if (ops->write(src, &meta, &prov, sink) != 0)
		goto done;
	if (read_all(ops, out.ptr, out.size, &meta2, &e2) != 0)
		abort(); /* our own output must parse */
	if (meta2.n_carriers < 1 || strcmp(meta2.carriers[0].text, LABEL) != 0)
		abort(); /* and carry the label */
	if (e1.size != e2.size || (e1.size && memcmp(e1.ptr, e2.ptr, e1.size) != 0))
		abort(); /* with the essence unchanged */
	aimark__meta_dispose(&meta2);
done:
	aimark__meta_dispose(&meta);
	aimark_sink_free(sink);
	aimark_source_free(src);
	aimark_buf_dispose(&e1);
	aimark_buf_dispose(&e2);
	aimark_buf_dispose(&out);
	aimark_error_clear();
}

#endif

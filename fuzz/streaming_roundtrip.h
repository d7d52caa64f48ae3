/*
 * The round trip every streaming container fuzz target runs: read any input;
 * when it reads, write a label (feeding the essence when the writer streams),
 * then check that the output reads, that every carrier holds the label, that
 * the primary carrier is there, and that the essence is unchanged (and equals
 * what was fed). Included by fuzz_<format>.c.
 */
#ifndef AIMARK_FUZZ_STREAMING_ROUNDTRIP_H
#define AIMARK_FUZZ_STREAMING_ROUNDTRIP_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aimark/aimark.h"
#include "core/internal.h"
#include "format/format.h"

#define BARE "{\"Label\":\"1\",\"ContentProducer\":\"fuzz&<x>\",\"ProduceID\":\"id\\\"1\"}"
#define WRAPPED "{\"AIGC\":" BARE "}"
static const aimark__label_write g_label = { BARE, sizeof BARE - 1, WRAPPED, sizeof WRAPPED - 1 };

typedef struct fed {
	aimark_buf bytes;
	int got;
} fed;

static int get_label(void *ctx, const aimark__label_write **out)
{
	((fed *)ctx)->got = 1;
	*out = &g_label;
	return 0;
}

static int feed(void *ctx, const void *data, size_t len)
{
	fed *f = ctx;
	if (f->got)
		abort(); /* essence must be fed before the label is asked for */
	return aimark__buf_append(&f->bytes, data, len);
}

static int collect(void *ctx, const void *data, size_t len) { return aimark__buf_append(ctx, data, len); }

static int streaming_roundtrip(const aimark__format_ops *ops, const char *primary_kind, const uint8_t *data, size_t size)
{
	aimark_source *src = NULL, *src2 = NULL;
	aimark_findings *findings = NULL;
	aimark_sink *sink = NULL;
	aimark_buf out = AIMARK_BUF_INIT, e1 = AIMARK_BUF_INIT, e2 = AIMARK_BUF_INIT;
	fed f = { AIMARK_BUF_INIT, 0 };
	aimark__meta meta, meta2;
	aimark__meta_init(&meta, NULL);
	aimark__meta_init(&meta2, NULL);
	if (aimark_source_new_memory(&src, data, size) != 0 || aimark_findings_new(&findings) != 0)
		goto done;
	meta.findings = findings;
	ops->probe(data, size);
	if (ops->read(src, &meta) != 0)
		goto done;
	if (aimark_sink_new_buffer(&sink, &out) != 0)
		goto done;
	aimark__label_provider prov = { feed, get_label, &f };
	if (ops->write(src, &meta, &prov, sink) != 0)
		goto done;
	if (!f.got)
		abort(); /* the writer must ask for the label */
	if (aimark_source_new_memory(&src2, out.ptr, out.size) != 0)
		goto done;
	if (ops->read(src2, &meta2) != 0)
		abort(); /* our own output must read */
	int primary = 0;
	for (size_t i = 0; i < meta2.n_carriers; i++) {
		if (strcmp(meta2.carriers[i].text, BARE) != 0)
			abort(); /* a carrier kept an old label */
		if (strcmp(meta2.carriers[i].kind, primary_kind) == 0)
			primary = 1;
	}
	if (!primary)
		abort();
	if (aimark__meta_hash_essence(src, &meta, collect, &e1) != 0 || aimark__meta_hash_essence(src2, &meta2, collect, &e2) != 0)
		abort();
	if (e1.size != e2.size || (e1.size && memcmp(e1.ptr, e2.ptr, e1.size) != 0))
		abort(); /* the essence changed */
	if (f.bytes.size && (f.bytes.size != e1.size || memcmp(f.bytes.ptr, e1.ptr, e1.size) != 0))
		abort(); /* what was fed is not the essence */
done:
	aimark__meta_dispose(&meta);
	aimark__meta_dispose(&meta2);
	aimark_sink_free(sink);
	aimark_source_free(src);
	aimark_source_free(src2);
	aimark_findings_free(findings);
	aimark_buf_dispose(&out);
	aimark_buf_dispose(&e1);
	aimark_buf_dispose(&e2);
	aimark_buf_dispose(&f.bytes);
	return 0;
}

#endif

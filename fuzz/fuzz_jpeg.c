/*
 * JPEG backend: read any input; when it reads, write a label, then check
 * that the output reads, carries the label in XMP, and has the same essence.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aimark/aimark.h"
#include "core/internal.h"
#include "format/format.h"

extern const aimark__format_ops aimark__format_jpeg;

#define BARE "{\"Label\":\"1\",\"ContentProducer\":\"fuzz&<x>\",\"ProduceID\":\"id\\\"1\"}"
#define WRAPPED "{\"AIGC\":" BARE "}"
static const aimark__label_write g_label = { BARE, sizeof BARE - 1, WRAPPED, sizeof WRAPPED - 1 };

static int get_label(void *ctx, const aimark__label_write **out)
{
	(void)ctx;
	*out = &g_label;
	return 0;
}

static int collect(void *ctx, const void *data, size_t len) { return aimark__buf_append(ctx, data, len); }

static int essence(aimark_source *src, const aimark__meta *meta, aimark_buf *out)
{
	return aimark__meta_hash_essence(src, meta, collect, out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	aimark_source *src = NULL, *src2 = NULL;
	aimark_findings *findings = NULL;
	aimark_sink *sink = NULL;
	aimark_buf out = AIMARK_BUF_INIT, e1 = AIMARK_BUF_INIT, e2 = AIMARK_BUF_INIT;
	aimark__meta meta, meta2;
	aimark__meta_init(&meta, NULL);
	aimark__meta_init(&meta2, NULL);
	if (aimark_source_new_memory(&src, data, size) != 0 || aimark_findings_new(&findings) != 0)
		goto done;
	meta.findings = findings;
	aimark__format_jpeg.probe(data, size);
	if (aimark__format_jpeg.read(src, &meta) != 0)
		goto done;
	if (aimark_sink_new_buffer(&sink, &out) != 0)
		goto done;
	aimark__label_provider prov = { NULL, get_label, NULL };
	if (aimark__format_jpeg.write(src, &meta, &prov, sink) != 0)
		goto done;
	if (aimark_source_new_memory(&src2, out.ptr, out.size) != 0)
		goto done;
	if (aimark__format_jpeg.read(src2, &meta2) != 0)
		abort(); /* our own output must read */
	int labelled = 0;
	for (size_t i = 0; i < meta2.n_carriers; i++)
		if (strcmp(meta2.carriers[i].kind, AIMARK__CARRIER_XMP) == 0 && strcmp(meta2.carriers[i].text, BARE) == 0)
			labelled = 1;
	if (!labelled)
		abort();
	if (essence(src, &meta, &e1) != 0 || essence(src2, &meta2, &e2) != 0)
		goto done;
	if (e1.size != e2.size || (e1.size && memcmp(e1.ptr, e2.ptr, e1.size) != 0))
		abort(); /* relabelling changed the essence */
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
	return 0;
}

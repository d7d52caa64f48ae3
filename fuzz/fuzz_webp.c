/*
 * WebP backend: read any input; when it reads, write a label and check the
 * output: it reads, its XMP carries the label, every other carrier holds the
 * same label (wrapped form), and the essence bytes did not change.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aimark/aimark.h"
#include "core/internal.h"
#include "format/format.h"

extern const aimark__format_ops aimark__format_webp;
#define OPS (&aimark__format_webp)

/* Characters that need escaping in XML and JSON, to exercise both. */
#define BARE "{\"Label\":\"1\",\"ContentProducer\":\"fz<&>'\",\"ProduceID\":\"q\\\"1\"}"
#define WRAPPED "{\"AIGC\":" BARE "}"
static const aimark__label_write g_label = { BARE, sizeof BARE - 1, WRAPPED, sizeof WRAPPED - 1 };

static int label_get(void *ctx, const aimark__label_write **out)
{
	(void)ctx;
	*out = &g_label;
	return 0;
}

static int append(void *ctx, const void *data, size_t len)
{
	return aimark__buf_append(ctx, data, len);
}

/* Checks our own output; aborts on a broken property. */
static void check_output(aimark_source *in, const aimark__meta *in_meta, const aimark_buf *out)
{
	aimark_source *src = NULL;
	aimark__meta meta;
	aimark_buf e1 = AIMARK_BUF_INIT, e2 = AIMARK_BUF_INIT;
	aimark__meta_init(&meta, NULL);
	if (aimark_source_new_memory(&src, out->ptr, out->size) != 0)
		return;
	if (OPS->read(src, &meta) != 0)
		abort();
	int xmp = 0;
	for (size_t i = 0; i < meta.n_carriers; i++) {
		const aimark__carrier *c = &meta.carriers[i];
		if (strcmp(c->kind, AIMARK__CARRIER_XMP) == 0) {
			if (strcmp(c->text, BARE) != 0)
				abort(); /* every XMP label is ours */
			xmp++;
		} else if (strcmp(c->text, WRAPPED) != 0) {
			abort(); /* a carrier left with another label */
		}
	}
	if (xmp != 1)
		abort();
	if (aimark__meta_hash_essence(in, in_meta, append, &e1) == 0 &&
	    aimark__meta_hash_essence(src, &meta, append, &e2) == 0 &&
	    (e1.size != e2.size || (e1.size && memcmp(e1.ptr, e2.ptr, e1.size) != 0)))
		abort(); /* labelling changed the essence */
	aimark_buf_dispose(&e1);
	aimark_buf_dispose(&e2);
	aimark__meta_dispose(&meta);
	aimark_source_free(src);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	aimark_source *src = NULL;
	aimark_findings *findings = NULL;
	aimark_sink *sink = NULL;
	aimark_buf out = AIMARK_BUF_INIT;
	aimark__meta meta;
	aimark__meta_init(&meta, NULL);
	(void)OPS->probe(data, size);
	if (aimark_source_new_memory(&src, data, size) != 0 || aimark_findings_new(&findings) != 0)
		goto done;
	meta.findings = findings;
	if (OPS->read(src, &meta) != 0)
		goto done;
	if (aimark_sink_new_buffer(&sink, &out) != 0)
		goto done;
	aimark__label_provider prov = { NULL, label_get, NULL };
	if (OPS->write(src, &meta, &prov, sink) == 0)
		check_output(src, &meta, &out);
done:
	aimark__meta_dispose(&meta);
	aimark_sink_free(sink);
	aimark_source_free(src);
	aimark_findings_free(findings);
	aimark_buf_dispose(&out);
	return 0;
}

/*
 * Ogg (Vorbis, Opus) backend: read any input; when it reads, write a label and check
 * that the output reads back with that label in every carrier and the same
 * essence bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aimark/aimark.h"
#include "core/internal.h"
#include "format/format.h"

extern const aimark__format_ops aimark__format_ogg;

static const char LABEL[] = "{\"Label\":\"1\",\"ContentProducer\":\"001191110102MACQD9K64010000\",\"ProduceID\":\"fuzz\"}";
static const char WRAPPED[] = "{\"AIGC\":{\"Label\":\"1\",\"ContentProducer\":\"001191110102MACQD9K64010000\",\"ProduceID\":\"fuzz\"}}";
static const aimark__label_write g_label = { LABEL, sizeof LABEL - 1, WRAPPED, sizeof WRAPPED - 1 };

static int get_label(void *ctx, const aimark__label_write **out)
{
	(void)ctx;
	*out = &g_label;
	return 0;
}

static int append(void *ctx, const void *data, size_t len) { return aimark__buf_append(ctx, data, len); }

/* Reads `data`; on success fills `essence` with the essence bytes. */
static int read_one(const uint8_t *data, size_t size, aimark__meta *meta, aimark_source **src, aimark_buf *essence)
{
	if (aimark_source_new_memory(src, data, size) != 0)
		return -1;
	aimark__meta_init(meta, NULL);
	int rc = aimark__format_ogg.read(*src, meta);
	if (rc == 0 && essence)
		rc = aimark__meta_hash_essence(*src, meta, append, essence);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	(void)aimark__format_ogg.probe(data, size);
	aimark_source *src = NULL, *src2 = NULL;
	aimark__meta meta, meta2;
	aimark_buf ess = AIMARK_BUF_INIT, ess2 = AIMARK_BUF_INIT, out = AIMARK_BUF_INIT;
	aimark_sink *sink = NULL;
	if (read_one(data, size, &meta, &src, &ess) == 0 && aimark_sink_new_buffer(&sink, &out) == 0) {
		aimark__label_provider prov = { NULL, get_label, NULL };
		if (aimark__format_ogg.write(src, &meta, &prov, sink) == 0) {
			if (read_one(out.ptr, out.size, &meta2, &src2, &ess2) != 0)
				abort(); /* our own output must read */
			if (ess.size != ess2.size || (ess.size && memcmp(ess.ptr, ess2.ptr, ess.size) != 0))
				abort(); /* essence changed */
			if (meta2.n_carriers == 0)
				abort();
			for (size_t i = 0; i < meta2.n_carriers; i++)
				if (meta2.carriers[i].len != g_label.bare_len ||
				    memcmp(meta2.carriers[i].text, g_label.bare_json, g_label.bare_len) != 0)
					abort(); /* a carrier kept an old label */
			aimark__meta_dispose(&meta2);
		}
	}
	if (src)
		aimark__meta_dispose(&meta);
	aimark_sink_free(sink);
	aimark_source_free(src);
	aimark_source_free(src2);
	aimark_buf_dispose(&ess);
	aimark_buf_dispose(&ess2);
	aimark_buf_dispose(&out);
	return 0;
}

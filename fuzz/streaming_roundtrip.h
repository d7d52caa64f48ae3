/*
 * The round trip every container fuzz target runs (images, audio, video):
 * read any input; when it reads, write a label (offering to take the essence
 * as it streams), then check that the writer asked for the label, that the
 * output reads, that the primary carrier holds the bare label (once, when the
 * target says so), that every other carrier holds the label in the form the
 * target expects, and that the essence is unchanged (and equals what was fed,
 * when the writer fed it). Included by fuzz_<format>.c.
 */
#ifndef AIMARK_FUZZ_STREAMING_ROUNDTRIP_H
#define AIMARK_FUZZ_STREAMING_ROUNDTRIP_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aimark/aimark.h"
#include "core/internal.h"
#include "format/format.h"

/* Characters that need escaping in XML, JSON and quoted values, to exercise them all. */
#define BARE "{\"Label\":\"1\",\"ContentProducer\":\"fuzz&<x>'\",\"ProduceID\":\"id\\\"1\"}"
#define WRAPPED "{\"AIGC\":" BARE "}"
static const aimark__label_write g_label = { BARE, sizeof BARE - 1, WRAPPED, sizeof WRAPPED - 1 };

/* What a target expects of its relabelled output. */
typedef struct roundtrip_spec {
	const aimark__format_ops *ops;
	const char *primary_kind; /* carrier kind that must hold the bare label */
	int primary_once;         /* exactly one carrier of primary_kind */
	int others_wrapped;       /* carriers of other kinds hold the wrapped form (else the bare one) */
	const char *bare_too;     /* with others_wrapped: one more kind that holds the bare form (or NULL) */
} roundtrip_spec;

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

/* The carrier holds exactly `text` (no trailing bytes after a NUL either). */
static int holds(const aimark__carrier *c, const char *text)
{
	size_t n = strlen(text);
	return c->len == n && memcmp(c->text, text, n) == 0;
}

/* Aborts unless the carriers of `meta` hold the label as `spec` expects. */
static void check_carriers(const roundtrip_spec *spec, const aimark__meta *meta)
{
	size_t primary = 0;
	for (size_t i = 0; i < meta->n_carriers; i++) {
		const aimark__carrier *c = &meta->carriers[i];
		if (strcmp(c->kind, spec->primary_kind) == 0) {
			if (!holds(c, BARE))
				abort(); /* the primary carrier holds another label */
			primary++;
		} else if (spec->bare_too && strcmp(c->kind, spec->bare_too) == 0) {
			if (!holds(c, BARE))
				abort();
		} else if (!holds(c, spec->others_wrapped ? WRAPPED : BARE)) {
			abort(); /* a carrier kept an old label */
		}
	}
	if (primary == 0 || (spec->primary_once && primary != 1))
		abort();
}

static int streaming_check(const roundtrip_spec *spec, const uint8_t *data, size_t size)
{
	const aimark__format_ops *ops = spec->ops;
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
	(void)ops->probe(data, size);
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
	check_carriers(spec, &meta2);
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
	aimark_error_clear();
	return 0;
}

/* Every carrier holds the bare label and one at least is of `primary_kind`. */
static inline int streaming_roundtrip(const aimark__format_ops *ops, const char *primary_kind, const uint8_t *data, size_t size)
{
	const roundtrip_spec spec = { ops, primary_kind, 0, 0, NULL };
	return streaming_check(&spec, data, size);
}

/* Images: one XMP carrier holds the bare label, every other carrier the wrapped one. */
static inline int image_roundtrip(const aimark__format_ops *ops, const uint8_t *data, size_t size)
{
	const roundtrip_spec spec = { ops, AIMARK__CARRIER_XMP, 1, 1, NULL };
	return streaming_check(&spec, data, size);
}

#endif

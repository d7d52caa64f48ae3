/* Steps shared by aimark_mark and aimark_verify. */
#include <string.h>

#include "aimark/format.h"
#include "core/findings_internal.h"
#include "core/internal.h"
#include "label/label_internal.h"
#include "core/io_internal.h"
#include "pipeline_internal.h"
#include "text/text_stage.h"

const aimark__format_ops *aimark__pipeline_format(aimark_source *src, const char *format, const char *path_hint)
{
	const aimark__format_ops *ops;
	if (format) {
		ops = aimark__format_find(format);
		if (ops == NULL)
			aimark__error_set(AIMARK_EUNSUPPORTED, "unknown format name \"%s\"", format);
		return ops;
	}
	ops = aimark__format_detect(src);
	if (ops == NULL && path_hint) {
		const char *name = aimark_format_from_extension(path_hint);
		ops = name ? aimark__format_find(name) : NULL;
	}
	if (ops == NULL)
		aimark__error_set(AIMARK_EUNSUPPORTED, "%s: not a format aimark handles", aimark_source_name(src));
	return ops;
}

static int is_text_format(const char *name)
{
	return strcmp(name, "text") == 0 || strcmp(name, "markdown") == 0 || strcmp(name, "html") == 0;
}

int aimark__pipeline_read(aimark_source *src, const char *forced, const aimark__format_ops **ops, aimark__meta *meta)
{
	meta->format = (*ops)->name;
	int rc = (*ops)->read(src, meta);
	if (rc != AIMARK_EUNSUPPORTED || forced != NULL)
		return rc;
	/*
	 * The detected format declined the file (e.g. the MP3 reader finds FLAC
	 * behind an ID3 tag): let every other reader try it, in registry order.
	 */
	const aimark__format_ops *declined = *ops;
	aimark_findings *findings = meta->findings;
	for (size_t i = 0; i < aimark_format_count(); i++) {
		const aimark__format_ops *next = aimark__format_find(aimark_format_name(i));
		/* Text formats accept almost any bytes: they are chosen by name, never as a fallback. */
		if (next == NULL || next == declined || is_text_format(next->name))
			continue;
		aimark__meta_dispose(meta);
		aimark__meta_init(meta, findings);
		meta->format = next->name;
		if (next->read(src, meta) == 0) {
			aimark_error_clear();
			*ops = next;
			return 0;
		}
	}
	aimark__meta_dispose(meta);
	aimark__meta_init(meta, findings);
	meta->format = declined->name;
	return declined->read(src, meta); /* again, for its message */
}

static int hash_update(void *ctx, const void *data, size_t len)
{
	return aimark__hash_update(ctx, data, len);
}

/*
 * Text is hashed in a normalised form (docs/text.md): NFC, white space
 * folded, the label carriers, explicit labels and invisible mark removed, so
 * re-wrapping or a stripped mark is not an edit, and a changed word is.
 */
static int text_digest(aimark_source *src, const aimark__meta *meta, aimark__hash_alg alg, unsigned char digest[AIMARK__HASH_MAX])
{
	aimark_buf storage = AIMARK_BUF_INIT, normal = AIMARK_BUF_INIT;
	const unsigned char *data = NULL;
	int rc = aimark__source_load(src, UINT64_C(256) << 20, &storage, &data);
	if (rc == 0)
		rc = aimark__text_normalize(data, (size_t)aimark_source_size(src), meta->format, &normal);
	if (rc == 0)
		rc = aimark__hash_oneshot(alg, normal.ptr ? normal.ptr : (const unsigned char *)"", normal.size, digest);
	aimark_buf_dispose(&storage);
	aimark_buf_dispose(&normal);
	return rc;
}

int aimark__pipeline_essence_digest(aimark_source *src, const aimark__meta *meta, aimark__hash_alg alg,
				    unsigned char digest[AIMARK__HASH_MAX])
{
	if (aimark__modality_of(meta->format) == AIMARK__MODALITY_TEXT)
		return text_digest(src, meta, alg, digest);
	aimark__hash *h = NULL;
	RETURN_IF_ERR(aimark__hash_new(&h, alg));
	int rc = aimark__meta_hash_essence(src, meta, hash_update, h);
	if (rc == 0)
		rc = aimark__hash_final(h, digest);
	aimark__hash_free(h);
	return rc;
}

/* Images keep their label primarily in XMP; other containers in the first carrier their reader lists. */
static int is_preferred(const aimark__meta *meta, const char *kind)
{
	static const char *const xmp_first[] = { "jpeg", "png", "webp" };
	for (size_t i = 0; meta->format && i < sizeof xmp_first / sizeof xmp_first[0]; i++)
		if (strcmp(meta->format, xmp_first[i]) == 0)
			return strcmp(kind, AIMARK__CARRIER_XMP) == 0;
	return 0;
}

int aimark__pipeline_primary_label(const aimark__meta *meta, aimark_findings *findings, aimark_label **out,
				   const char **carrier)
{
	*out = NULL;
	*carrier = NULL;
	aimark_label *labels[16] = { NULL };
	size_t n = meta->n_carriers < 16 ? meta->n_carriers : 16;
	int rc = 0;
	size_t primary = SIZE_MAX;
	for (size_t i = 0; i < n && rc == 0; i++) {
		const aimark__carrier *c = &meta->carriers[i];
		if (aimark__label_parse(&labels[i], c->text, c->len, findings, NULL) != 0) {
			rc = aimark__findings_add(findings, AIMARK_SEVERITY_ERROR, "label-unreadable", "%s label at offset %llu: %s",
						  c->kind, (unsigned long long)c->offset, aimark_error_last());
			aimark_error_clear();
			continue;
		}
		if (primary == SIZE_MAX || (is_preferred(meta, c->kind) && !is_preferred(meta, meta->carriers[primary].kind)))
			primary = i;
	}
	for (size_t i = 0; i < n && rc == 0 && primary != SIZE_MAX; i++)
		if (i != primary && labels[i] && !aimark__label_equal(labels[i], labels[primary]))
			rc = aimark__findings_add(findings, AIMARK_SEVERITY_ERROR, "conflicting-labels",
						  "the %s label differs from the %s label (one label per file, GB 45438 6.1 c)",
						  meta->carriers[i].kind, meta->carriers[primary].kind);
	if (rc == 0 && meta->n_carriers > 1)
		rc = aimark__findings_add(findings, AIMARK_SEVERITY_INFO, "multiple-carriers", "the label is carried %zu times",
					  meta->n_carriers);
	if (rc == 0 && primary != SIZE_MAX) {
		*out = labels[primary];
		*carrier = meta->carriers[primary].kind;
		labels[primary] = NULL;
	}
	for (size_t i = 0; i < n; i++)
		aimark_label_free(labels[i]);
	return rc;
}

/*
 * aimark_mark: read the container, build and sign the label, write it into
 * every carrier, commit the output only when all of that succeeded.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "aimark/mark.h"
#include "core/findings_internal.h"
#include "core/hex.h"
#include "core/internal.h"
#include "core/io_internal.h"
#include "label/label_internal.h"
#include "label/security.h"
#include "c2pa/c2pa_stage.h"
#include "pipeline_internal.h"

/* Bytes of the options struct a caller of `version` has (version 1 ends before findings). */
static size_t options_size(unsigned int version)
{
	return version == 1 ? offsetof(aimark_mark_options, findings) : sizeof(aimark_mark_options);
}

int aimark_mark_options_init(aimark_mark_options *opts, unsigned int version)
{
	RETURN_IF(opts == NULL || version < 1 || version > AIMARK_MARK_OPTIONS_VERSION, AIMARK_EINVAL,
		  "mark options: unsupported version %u", version);
	aimark_mark_options init = AIMARK_MARK_OPTIONS_INIT;
	init.version = version;
	memcpy(opts, &init, options_size(version));
	return 0;
}

static int check_value(const char *what, const char *value)
{
	RETURN_IF(value != NULL && *value == '\0', AIMARK_EINVAL, "%s is empty", what);
	RETURN_IF(value != NULL && strlen(value) > 4096, AIMARK_EINVAL, "%s is longer than 4096 characters", what);
	RETURN_IF(value != NULL && !aimark_label_charset_ok(value), AIMARK_EINVAL,
		  "%s \"%s\" has characters outside the GB 45438 Annex E set (no space, backslash or non-ASCII; use a code)", what, value);
	return 0;
}

static int check_options(const aimark_mark_options *o)
{
	RETURN_IF(o == NULL, AIMARK_EINVAL, "mark: options are NULL");
	RETURN_IF(o->version < 1 || o->version > AIMARK_MARK_OPTIONS_VERSION, AIMARK_EINVAL, "mark options: unsupported version %u",
		  o->version);
	RETURN_IF(o->role != AIMARK_ROLE_PRODUCER && o->role != AIMARK_ROLE_PROPAGATOR, AIMARK_EINVAL, "mark: unknown role %d", (int)o->role);
	if (o->role == AIMARK_ROLE_PRODUCER) {
		RETURN_IF(o->content_producer == NULL, AIMARK_EINVAL, "mark: ContentProducer (the provider's code or name) is required");
		RETURN_IF(o->label && strcmp(o->label, "1") && strcmp(o->label, "2") && strcmp(o->label, "3"), AIMARK_EINVAL,
			  "mark: Label must be \"1\" (AI-generated), \"2\" (possibly) or \"3\" (suspected), not \"%s\"", o->label);
	} else {
		RETURN_IF(o->content_propagator == NULL, AIMARK_EINVAL, "mark: the propagator role needs ContentPropagator");
	}
	RETURN_IF_ERR(check_value("ContentProducer", o->content_producer));
	RETURN_IF_ERR(check_value("ProduceID", o->produce_id));
	RETURN_IF_ERR(check_value("ContentPropagator", o->content_propagator));
	RETURN_IF_ERR(check_value("PropagateID", o->propagate_id));
	RETURN_IF(o->key && !aimark_key_has_private(o->key), AIMARK_EINVAL, "mark: the signing key has no private part");
	return 0;
}

static int random_id(char out[33])
{
	unsigned char bytes[16];
	aimark_buf hex = AIMARK_BUF_INIT;
	RETURN_IF_ERR(aimark__random_bytes(bytes, sizeof bytes));
	int rc = aimark__hex_encode(bytes, sizeof bytes, 0, &hex);
	if (rc == 0)
		memcpy(out, hex.ptr, 33);
	aimark_buf_dispose(&hex);
	return rc;
}

/* Producer role: a fresh label (refusing another producer's label unless asked). */
static int producer_label(const aimark_mark_options *o, const aimark_label *existing, aimark_label **out)
{
	if (existing) {
		const char *prev = aimark_label_get(existing, AIMARK_FIELD_CONTENT_PRODUCER);
		RETURN_IF(prev && *prev && strcmp(prev, o->content_producer) != 0 && !o->replace_foreign_label, AIMARK_EEXISTS,
			  "the file already carries a label by ContentProducer \"%s\"; a platform adds its fields with the "
			  "propagator role instead (replacing another party's label needs replace_foreign_label)", prev);
	}
	char generated[33];
	const char *id = o->produce_id;
	if (id == NULL) {
		RETURN_IF_ERR(random_id(generated));
		id = generated;
	}
	const char *prop = o->content_propagator, *prop_id = o->propagate_id;
	if (prop == NULL && !o->leave_propagator_empty)
		prop = o->content_producer; /* Annex E note 1 */
	if (prop_id == NULL && prop != NULL)
		prop_id = id;
	aimark_label *l = NULL;
	RETURN_IF_ERR(aimark_label_new(&l));
	int rc = aimark_label_set(l, AIMARK_FIELD_LABEL, o->label ? o->label : AIMARK_LABEL_AI_GENERATED);
	if (rc == 0) rc = aimark_label_set(l, AIMARK_FIELD_CONTENT_PRODUCER, o->content_producer);
	if (rc == 0) rc = aimark_label_set(l, AIMARK_FIELD_PRODUCE_ID, id);
	if (rc == 0) rc = aimark_label_set(l, AIMARK_FIELD_RESERVED_CODE1, "");
	if (rc == 0) rc = aimark_label_set(l, AIMARK_FIELD_CONTENT_PROPAGATOR, prop ? prop : "");
	if (rc == 0) rc = aimark_label_set(l, AIMARK_FIELD_PROPAGATE_ID, prop_id ? prop_id : "");
	if (rc == 0) rc = aimark_label_set(l, AIMARK_FIELD_RESERVED_CODE2, "");
	if (rc < 0) {
		aimark_label_free(l);
		return rc;
	}
	*out = l;
	return 0;
}

/* Propagator role: the producer's fields and ReservedCode1 stay byte for byte. */
static int propagator_label(const aimark_mark_options *o, const aimark_label *existing, aimark_label **out)
{
	RETURN_IF(existing == NULL, AIMARK_ENOTFOUND, "the file carries no label to add propagation fields to");
	aimark_label *l = NULL;
	RETURN_IF_ERR(aimark_label_clone(&l, existing));
	const char *prop_id = o->propagate_id ? o->propagate_id : aimark_label_get(existing, AIMARK_FIELD_PRODUCE_ID);
	int rc = aimark_label_set(l, AIMARK_FIELD_CONTENT_PROPAGATOR, o->content_propagator);
	if (rc == 0) rc = aimark_label_set(l, AIMARK_FIELD_PROPAGATE_ID, prop_id ? prop_id : "");
	if (rc == 0) rc = aimark_label_set(l, AIMARK_FIELD_RESERVED_CODE2, "");
	for (int i = 0; rc == 0 && i < AIMARK_FIELD_COUNT; i++)
		if (aimark_label_get(l, (aimark_label_field)i) == NULL)
			rc = aimark_label_set(l, (aimark_label_field)i, "");
	if (rc < 0) {
		aimark_label_free(l);
		return rc;
	}
	*out = l;
	return 0;
}

/* The label provider handed to the format writer. */
typedef struct provider_ctx {
	aimark_source *src;
	const aimark__meta *meta;
	const aimark__format_ops *ops;
	const aimark_mark_options *opts;
	aimark_label *label;
	aimark__hash *stream_hash; /* fed by streaming writers */
	uint64_t fed;
	int stream_broken;
	int built;
	aimark_buf bare, wrapped;
	aimark__label_write out;
} provider_ctx;

static uint64_t essence_total(const aimark__meta *meta)
{
	uint64_t total = 0;
	for (size_t i = 0; i < meta->n_essence; i++)
		total += meta->essence[i].length;
	return total;
}

static int provider_update(void *vctx, const void *data, size_t len)
{
	provider_ctx *p = vctx;
	if (p->opts->key == NULL || p->built)
		return 0;
	if (p->stream_hash == NULL && !p->stream_broken)
		RETURN_IF_ERR(aimark__hash_new(&p->stream_hash, aimark__key_hash_alg(p->opts->key)));
	p->fed += len;
	return p->stream_hash ? aimark__hash_update(p->stream_hash, data, len) : 0;
}

static int provider_sign(provider_ctx *p)
{
	const aimark_key *key = p->opts->key;
	unsigned char digest[AIMARK__HASH_MAX];
	if (p->stream_hash && p->fed == essence_total(p->meta)) {
		RETURN_IF_ERR(aimark__hash_final(p->stream_hash, digest));
	} else {
		RETURN_IF_ERR(aimark__pipeline_essence_digest(p->src, p->meta, aimark__key_hash_alg(key), digest));
	}
	char cntsel[64];
	snprintf(cntsel, sizeof cntsel, AIMARK__CNTSEL_PREFIX "%s", p->ops->name);
	aimark_buf rc_text = AIMARK_BUF_INIT;
	int rc = aimark__security_sign(p->label, p->opts->role, key, cntsel, digest, 32, &rc_text);
	if (rc == 0)
		rc = aimark_label_set(p->label, p->opts->role == AIMARK_ROLE_PROPAGATOR ? AIMARK_FIELD_RESERVED_CODE2 : AIMARK_FIELD_RESERVED_CODE1,
				      (const char *)rc_text.ptr);
	aimark_buf_dispose(&rc_text);
	return rc;
}

static int provider_get(void *vctx, const aimark__label_write **out)
{
	provider_ctx *p = vctx;
	if (!p->built) {
		if (p->opts->key)
			RETURN_IF_ERR(provider_sign(p));
		RETURN_IF_ERR(aimark_label_to_json(p->label, 0, &p->bare));
		RETURN_IF_ERR(aimark_label_to_json(p->label, 1, &p->wrapped));
		p->out = (aimark__label_write){ (const char *)p->bare.ptr, p->bare.size, (const char *)p->wrapped.ptr, p->wrapped.size };
		p->built = 1;
	}
	*out = &p->out;
	return 0;
}

/* Appends every finding of `from` to the caller's list. */
static int copy_findings(aimark_findings *to, const aimark_findings *from)
{
	for (size_t i = 0; i < aimark_findings_count(from); i++) {
		const aimark_finding *f = aimark_findings_get(from, i);
		RETURN_IF_ERR(aimark__findings_add(to, f->severity, f->code, "%s", f->message));
	}
	return 0;
}

/*
 * The metadata stage: reads `in`, builds and signs the label, and writes the
 * labelled file to `out` (not committed). *label_out receives the label
 * written (for the C2PA stage) when not NULL.
 */
static int metadata_stage(aimark_source *in, const aimark__format_ops **opsp, aimark_sink *out, const aimark_mark_options *opts,
			  const char *produce_id, aimark_mark_result *result, aimark_label **label_out)
{
	aimark__meta meta;
	aimark__meta_init(&meta, NULL);
	aimark_label *existing = NULL;
	const char *carrier = NULL;
	provider_ctx p = { in, &meta, *opsp, opts, NULL, NULL, 0, 0, 0, AIMARK_BUF_INIT, AIMARK_BUF_INIT, { 0 } };
	aimark_findings *findings = NULL;
	aimark_mark_options with_id = *opts;
	with_id.produce_id = produce_id;
	int rc = aimark_findings_new(&findings);
	meta.findings = findings;
	if (rc == 0)
		rc = aimark__pipeline_read(in, opts->format, opsp, &meta);
	const aimark__format_ops *ops = *opsp;
	p.ops = ops;
	if (rc == 0)
		rc = aimark__pipeline_primary_label(&meta, findings, &existing, &carrier);
	if (rc == 0 && aimark_findings_has(findings, "conflicting-labels") && opts->role == AIMARK_ROLE_PROPAGATOR)
		rc = aimark__error_set(AIMARK_EFORMAT, "the file carries conflicting labels; refusing to add propagation fields to one of them");
	if (rc == 0)
		rc = opts->role == AIMARK_ROLE_PRODUCER ? producer_label(&with_id, existing, &p.label) : propagator_label(opts, existing, &p.label);
	if (rc == 0) {
		aimark__label_provider provider = { provider_update, provider_get, &p };
		rc = ops->write(in, &meta, &provider, out);
		if (rc == 0 && !p.built)
			rc = aimark__error_set(AIMARK_EFORMAT, "%s writer finished without writing the label", ops->name);
	}
	if (rc == 0 && opts->findings)
		rc = copy_findings(opts->findings, findings);
	if (rc == 0 && result) {
		snprintf(result->produce_id, sizeof result->produce_id, "%s", aimark_label_get(p.label, AIMARK_FIELD_PRODUCE_ID));
		if (opts->key && aimark_key_id(opts->key, result->key_id) < 0)
			result->key_id[0] = '\0';
	}
	if (rc == 0 && label_out) {
		*label_out = p.label;
		p.label = NULL;
	}
	aimark__hash_free(p.stream_hash);
	aimark_buf_dispose(&p.bare);
	aimark_buf_dispose(&p.wrapped);
	aimark_label_free(p.label);
	aimark_label_free(existing);
	aimark__meta_dispose(&meta);
	aimark_findings_free(findings);
	return rc;
}

/* The C2PA stage: the labelled bytes get a manifest whose hard binding covers them, then go to `out`. */
static int c2pa_stage(aimark_source *in, const aimark__format_ops **ops, aimark_sink *out, const aimark_mark_options *opts,
		      const char *produce_id, aimark_mark_result *result)
{
	aimark_buf labelled = AIMARK_BUF_INIT;
	aimark_sink *staging = NULL;
	aimark_label *label = NULL;
	int rc = aimark_sink_new_buffer(&staging, &labelled);
	if (rc == 0) /* the labelled file is the input and a label: room for it at the first write, after read() */
		aimark__sink_expect(staging, aimark_source_size(in) + (256u << 10));
	if (rc == 0)
		rc = metadata_stage(in, ops, staging, opts, produce_id, result, &label);
	/* the signed file goes straight to `out`: the labelled bytes are the only copy held */
	if (rc == 0)
		rc = aimark__c2pa_embed_to_sink((*ops)->name, labelled.ptr, labelled.size, opts->c2pa_signer, label, out);
	aimark_sink_free(staging);
	aimark_label_free(label);
	aimark_buf_dispose(&labelled);
	return rc;
}

static int check_layers(const aimark_mark_options *o)
{
	RETURN_IF(o->layers & ~AIMARK_LAYER_ALL, AIMARK_EINVAL, "mark: unknown layer bits 0x%x", o->layers & ~AIMARK_LAYER_ALL);
	RETURN_IF((o->layers & AIMARK_LAYER_C2PA) && o->c2pa_signer == NULL, AIMARK_EINVAL,
		  "mark: the C2PA layer needs a signer (certificate chain and key)");
	RETURN_IF((o->layers & AIMARK_LAYER_WATERMARK) && o->watermark_key == NULL, AIMARK_EINVAL,
		  "mark: the watermark layer needs a watermark key");
	RETURN_IF((o->layers & (AIMARK_LAYER_EXPLICIT | AIMARK_LAYER_WATERMARK)) && o->role == AIMARK_ROLE_PROPAGATOR, AIMARK_EINVAL,
		  "mark: a propagator adds metadata fields only; explicit labels and watermarks are the producer's");
	return 0;
}

static int mark_with_hint(aimark_source *in, aimark_sink *out, const aimark_mark_options *opts, const char *path_hint,
			  aimark_mark_result *result)
{
	RETURN_IF(in == NULL || out == NULL, AIMARK_EINVAL, "mark: NULL source or sink");
	RETURN_IF_ERR(check_options(opts));
	/* from here on a full struct: a version-1 caller's is copied and the newer fields left at their defaults */
	aimark_mark_options full = AIMARK_MARK_OPTIONS_INIT;
	memcpy(&full, opts, options_size(opts->version));
	opts = &full;
	RETURN_IF_ERR(check_layers(opts));
	const aimark__format_ops *ops = aimark__pipeline_format(in, opts->format, path_hint);
	if (ops == NULL)
		return aimark_error_last_code();
	if (result)
		memset(result, 0, sizeof *result);

	/* The ProduceID is fixed first: the content layers bind to it. */
	char generated[33];
	const char *produce_id = opts->produce_id;
	if (produce_id == NULL && opts->role == AIMARK_ROLE_PRODUCER) {
		RETURN_IF_ERR(random_id(generated));
		produce_id = generated;
	}

	aimark_buf content = AIMARK_BUF_INIT;
	aimark_source *staged = NULL;
	int rc = aimark__content_stage(in, ops, opts, produce_id, &content);
	if (rc == 1) /* the content changed: the metadata stage reads the new bytes */
		rc = aimark_source_new_memory(&staged, content.ptr, content.size);
	aimark_source *src = staged ? staged : in;
	if (rc == 0)
		rc = opts->layers & AIMARK_LAYER_C2PA ? c2pa_stage(src, &ops, out, opts, produce_id, result)
						      : metadata_stage(src, &ops, out, opts, produce_id, result, NULL);
	if (rc == 0)
		rc = aimark_sink_commit(out);
	if (rc < 0 && strncmp(aimark_error_last(), aimark_source_name(in), strlen(aimark_source_name(in))) != 0)
		aimark__error_prefix("%s", aimark_source_name(in));
	if (rc == 0 && result)
		snprintf(result->format, sizeof result->format, "%s", ops->name);
	aimark_source_free(staged);
	aimark_buf_dispose(&content);
	return rc;
}

int aimark_mark(aimark_source *in, aimark_sink *out, const aimark_mark_options *opts, aimark_mark_result *result)
{
	return mark_with_hint(in, out, opts, NULL, result);
}

int aimark_mark_memory(const void *data, size_t len, const aimark_mark_options *opts, aimark_buf *out, aimark_mark_result *result)
{
	RETURN_IF(out == NULL, AIMARK_EINVAL, "mark: output buffer is NULL");
	aimark_source *src = NULL;
	aimark_sink *sink = NULL;
	size_t before = out->size;
	int rc = aimark_source_new_memory(&src, data, len);
	if (rc == 0)
		rc = aimark_sink_new_buffer(&sink, out);
	if (rc == 0)
		rc = aimark_mark(src, sink, opts, result);
	if (rc < 0 && out->ptr) {
		out->size = before; /* nothing half-written stays in the caller's buffer */
		out->ptr[before] = '\0';
	}
	aimark_sink_free(sink);
	aimark_source_free(src);
	return rc;
}

static int same_file(const char *a, const char *b)
{
	struct stat sa, sb;
	if (strcmp(a, b) == 0)
		return 1;
	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int aimark_mark_file(const char *in_path, const char *out_path, int overwrite, const aimark_mark_options *opts, aimark_mark_result *result)
{
	RETURN_IF(in_path == NULL || out_path == NULL, AIMARK_EINVAL, "mark: NULL path");
	aimark_source *src = NULL;
	aimark_sink *sink = NULL;
	int in_place = same_file(in_path, out_path);
	int rc = aimark_source_new_file(&src, in_path);
	if (rc == 0)
		rc = aimark_sink_new_file(&sink, out_path, overwrite || in_place, in_path);
	if (rc == 0)
		rc = mark_with_hint(src, sink, opts, in_path, result);
	aimark_sink_free(sink);
	aimark_source_free(src);
	return rc;
}

/*
 * aimark_verify: probe, read every label carrier, check the label, its
 * signatures and the content hash, and decide one verdict.
 */
#include <stdio.h>
#include <stddef.h>
#include <string.h>

#include "aimark/verify.h"
#include "core/findings_internal.h"
#include "core/internal.h"
#include "c2pa/c2pa_stage.h"
#include "pipeline_internal.h"
#include "report_internal.h"

/* Bytes of the options struct a caller of `version` has (version 1 ends before explicit_text). */
static size_t options_size(unsigned int version)
{
	return version == 1 ? offsetof(aimark_verify_options, explicit_text) : sizeof(aimark_verify_options);
}

int aimark_verify_options_init(aimark_verify_options *opts, unsigned int version)
{
	RETURN_IF(opts == NULL || version < 1 || version > AIMARK_VERIFY_OPTIONS_VERSION, AIMARK_EINVAL,
		  "verify options: unsupported version %u", version);
	aimark_verify_options init = AIMARK_VERIFY_OPTIONS_INIT;
	init.version = version;
	memcpy(opts, &init, options_size(version));
	return 0;
}

/* Compares the signed content hash with the file's essence. */
static int check_content(aimark_report *r, aimark_source *src, const aimark__meta *meta, const aimark__security_check *c)
{
	if (!c->content_covered)
		return 0;
	char expected[64];
	snprintf(expected, sizeof expected, AIMARK__CNTSEL_PREFIX "%s", r->format);
	if (strcmp(c->cntsel, expected) != 0) {
		r->content = AIMARK_CONTENT_CHANGED;
		return aimark__findings_add(r->findings, AIMARK_SEVERITY_ERROR, "content-selection",
					    "the signature covers \"%s\" but the file is %s", c->cntsel, r->format);
	}
	unsigned char digest[AIMARK__HASH_MAX];
	RETURN_IF_ERR(aimark__pipeline_essence_digest(src, meta, c->hash_alg, digest));
	if (aimark__ct_equal(digest, c->digest, 32)) {
		if (r->content != AIMARK_CONTENT_CHANGED)
			r->content = AIMARK_CONTENT_UNCHANGED;
		return 0;
	}
	r->content = AIMARK_CONTENT_CHANGED;
	return aimark__findings_add(r->findings, AIMARK_SEVERITY_ERROR, "content-changed",
				    "the %s content hash no longer matches: the content changed after labelling",
				    aimark__hash_alg_name(c->hash_alg));
}

static aimark_verdict decide(const aimark_report *r)
{
	if (r->label == NULL)
		return aimark_findings_has(r->findings, "label-unreadable") ? AIMARK_VERDICT_INVALID : AIMARK_VERDICT_NOT_LABELLED;
	aimark_sig_status a = r->producer.status, b = r->propagator.status;
	if (a == AIMARK_SIG_INVALID || b == AIMARK_SIG_INVALID)
		return AIMARK_VERDICT_INVALID;
	if (aimark_findings_count_at_least(r->findings, AIMARK_SEVERITY_ERROR) > 0 && r->content != AIMARK_CONTENT_CHANGED)
		return AIMARK_VERDICT_INVALID;
	if (r->content == AIMARK_CONTENT_CHANGED)
		return AIMARK_VERDICT_TAMPERED;
	if (a == AIMARK_SIG_VALID || b == AIMARK_SIG_VALID)
		return AIMARK_VERDICT_AUTHENTIC;
	return AIMARK_VERDICT_UNVERIFIED;
}

static int fill_report(aimark_report *r, aimark_source *src, const aimark_verify_options *opts, const char *path_hint)
{
	const aimark__format_ops *ops = aimark__pipeline_format(src, opts->format, path_hint);
	if (ops == NULL) {
		r->verdict = AIMARK_VERDICT_ERROR;
		r->error = aimark__strdup(aimark_error_last());
		aimark_error_clear();
		return r->error ? 0 : aimark__error_set(AIMARK_ENOMEM, "out of memory");
	}
	aimark__meta meta;
	aimark__meta_init(&meta, r->findings);
	int rc = aimark__pipeline_read(src, opts->format, &ops, &meta);
	r->format = ops->name;
	if (rc == AIMARK_EFORMAT || rc == AIMARK_ELIMIT || rc == AIMARK_EUNSUPPORTED) {
		r->verdict = AIMARK_VERDICT_ERROR;
		r->error = aimark__strdup(aimark_error_last());
		aimark_error_clear();
		aimark__meta_dispose(&meta);
		return r->error ? 0 : aimark__error_set(AIMARK_ENOMEM, "out of memory");
	}
	if (rc == 0) {
		r->carriers = aimark__calloc(meta.n_carriers ? meta.n_carriers : 1, sizeof *r->carriers);
		rc = r->carriers ? 0 : aimark__error_set(AIMARK_ENOMEM, "out of memory");
		for (size_t i = 0; rc == 0 && i < meta.n_carriers; i++) {
			r->carriers[i] = aimark__strdup(meta.carriers[i].kind);
			rc = r->carriers[i] ? 0 : aimark__error_set(AIMARK_ENOMEM, "out of memory");
			r->n_carriers = i + 1;
		}
	}
	if (rc == 0)
		rc = aimark__pipeline_primary_label(&meta, r->findings, &r->label, &r->carrier);
	if (rc == 0 && r->label) {
		int errors = aimark_label_validate(r->label, r->findings);
		rc = errors < 0 ? errors : 0;
	}
	if (rc == 0 && r->label)
		rc = aimark__security_verify(r->label, AIMARK_ROLE_PRODUCER, opts->trust, &r->producer, r->findings);
	if (rc == 0 && r->label)
		rc = aimark__security_verify(r->label, AIMARK_ROLE_PROPAGATOR, opts->trust, &r->propagator, r->findings);
	if (rc == 0 && r->label && (r->producer.status == AIMARK_SIG_VALID || r->producer.status == AIMARK_SIG_UNKNOWN_KEY))
		rc = check_content(r, src, &meta, &r->producer);
	if (rc == 0 && r->label && (r->propagator.status == AIMARK_SIG_VALID || r->propagator.status == AIMARK_SIG_UNKNOWN_KEY))
		rc = check_content(r, src, &meta, &r->propagator);
	if (rc == AIMARK_EFORMAT) { /* essence ranges unreadable: a malformed file, not a failed check */
		r->verdict = AIMARK_VERDICT_ERROR;
		r->error = aimark__strdup(aimark_error_last());
		aimark_error_clear();
		rc = 0;
	} else if (rc == 0) {
		r->verdict = decide(r);
	}
	aimark__meta_dispose(&meta);
	return rc;
}

static int wants(const aimark_verify_options *o, unsigned int layer)
{
	return o->layers == 0 || (o->layers & layer) != 0;
}

/*
 * The manifest's cn.org.tc260.aigc assertion against the metadata label:
 * adds "aigc_matches_label" to the c2pa object (absent when the manifest
 * has no such assertion) and a finding when they disagree or the metadata
 * label is gone.
 */
static int compare_aigc(aimark_report *r, json_t *c2pa)
{
	json_t *aigc = json_object_get(json_object_get(c2pa, "aigc"), "AIGC");
	if (!json_is_object(aigc))
		return 0;
	if (r->label == NULL) {
		RETURN_IF(json_object_set_new(c2pa, "aigc_matches_label", json_false()) < 0, AIMARK_ENOMEM, "out of memory");
		return aimark__findings_add(r->findings, AIMARK_SEVERITY_WARNING, "c2pa-label-only",
					    "the file has no metadata label, but its C2PA manifest carries one (cn.org.tc260.aigc)");
	}
	const char *differs = NULL;
	for (int f = 0; f < AIMARK_FIELD_COUNT && differs == NULL; f++) {
		const char *name = aimark_label_field_name((aimark_label_field)f);
		const char *in_manifest = json_string_value(json_object_get(aigc, name));
		const char *in_label = aimark_label_get(r->label, (aimark_label_field)f);
		if (strcmp(in_manifest ? in_manifest : "", in_label ? in_label : "") != 0)
			differs = name;
	}
	RETURN_IF(json_object_set_new(c2pa, "aigc_matches_label", json_boolean(differs == NULL)) < 0, AIMARK_ENOMEM,
		  "out of memory");
	if (differs)
		return aimark__findings_add(r->findings, AIMARK_SEVERITY_WARNING, "c2pa-label-mismatch",
					    "the C2PA manifest's cn.org.tc260.aigc assertion differs from the metadata label (first in %s)",
					    differs);
	return 0;
}

/* The layers besides the metadata label; each adds its object to the report. */
static int verify_layers(aimark_report *r, aimark_source *src, const aimark_verify_options *o)
{
	RETURN_IF_ERR(aimark__verify_content_layers(r, src, o));
	if (wants(o, AIMARK_LAYER_C2PA)) {
		json_t *c2pa = NULL;
		RETURN_IF_ERR(aimark__c2pa_verify(src, r->format, o->c2pa_trust_anchors, &c2pa));
		if (c2pa) {
			const char *state = json_string_value(json_object_get(c2pa, "state"));
			if (state && strcmp(state, "Invalid") == 0)
				RETURN_IF_ERR(aimark__findings_add(r->findings, AIMARK_SEVERITY_WARNING, "c2pa-invalid",
								   "the C2PA manifest does not validate (see c2pa.codes.failure)"));
			int rc = compare_aigc(r, c2pa);
			if (rc < 0) {
				json_decref(c2pa);
				return rc;
			}
			json_object_set_new(r->layers, "c2pa", c2pa);
		}
	}
	return 0;
}

static int verify_with_hint(aimark_source *in, const aimark_verify_options *opts, const char *path_hint, aimark_report **out)
{
	RETURN_IF(in == NULL || out == NULL, AIMARK_EINVAL, "verify: NULL argument");
	aimark_verify_options defaults = AIMARK_VERIFY_OPTIONS_INIT;
	if (opts == NULL)
		opts = &defaults;
	RETURN_IF(opts->version < 1 || opts->version > AIMARK_VERIFY_OPTIONS_VERSION, AIMARK_EINVAL,
		  "verify options: unsupported version %u", opts->version);
	/* from here on a full struct: a version-1 caller's is copied and the newer fields left at their defaults */
	aimark_verify_options full = AIMARK_VERIFY_OPTIONS_INIT;
	memcpy(&full, opts, options_size(opts->version));
	opts = &full;
	*out = NULL;
	aimark_report *r = NULL;
	RETURN_IF_ERR(aimark__report_new(&r, opts->display_name ? opts->display_name : aimark_source_name(in)));
	int rc = fill_report(r, in, opts, path_hint);
	if (rc == 0 && r->verdict != AIMARK_VERDICT_ERROR)
		rc = verify_layers(r, in, opts);
	if (rc < 0) {
		aimark_report_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

int aimark_verify(aimark_source *in, const aimark_verify_options *opts, aimark_report **out)
{
	return verify_with_hint(in, opts, NULL, out);
}

int aimark_verify_file(const char *path, const aimark_verify_options *opts, aimark_report **out)
{
	RETURN_IF(path == NULL, AIMARK_EINVAL, "verify: NULL path");
	aimark_source *src = NULL;
	RETURN_IF_ERR(aimark_source_new_file(&src, path));
	int rc = verify_with_hint(src, opts, path, out);
	aimark_source_free(src);
	return rc;
}

int aimark_verify_memory(const void *data, size_t len, const aimark_verify_options *opts, aimark_report **out)
{
	aimark_source *src = NULL;
	RETURN_IF_ERR(aimark_source_new_memory(&src, data, len));
	int rc = aimark_verify(src, opts, out);
	aimark_source_free(src);
	return rc;
}

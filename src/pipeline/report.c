/* The verification report: accessors and its JSON and text renderings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "report_internal.h"

int aimark__report_new(aimark_report **out, const char *file)
{
	aimark_report *r = aimark__calloc(1, sizeof *r);
	RETURN_ENOMEM_IF_NULL(r);
	r->file = aimark__strdup(file ? file : "");
	r->format = "unknown";
	r->verdict = AIMARK_VERDICT_NOT_LABELLED;
	r->layers = json_object();
	if (r->file == NULL || r->layers == NULL || aimark_findings_new(&r->findings) < 0) {
		aimark_report_free(r);
		return aimark__error_set(AIMARK_ENOMEM, "out of memory");
	}
	*out = r;
	return 0;
}

void aimark_report_free(aimark_report *r)
{
	if (r == NULL)
		return;
	aimark__free(r->file);
	aimark__free(r->error);
	aimark_label_free(r->label);
	for (size_t i = 0; i < r->n_carriers; i++)
		aimark__free(r->carriers[i]);
	aimark__free(r->carriers);
	aimark_findings_free(r->findings);
	json_decref(r->layers);
	aimark__free(r);
}

aimark_verdict aimark_report_verdict(const aimark_report *r) { return r ? r->verdict : AIMARK_VERDICT_ERROR; }
const char *aimark_report_format(const aimark_report *r) { return r ? r->format : "unknown"; }
const aimark_label *aimark_report_label(const aimark_report *r) { return r ? r->label : NULL; }
aimark_sig_status aimark_report_signature(const aimark_report *r) { return r ? r->producer.status : AIMARK_SIG_ABSENT; }
aimark_sig_status aimark_report_propagator_signature(const aimark_report *r) { return r ? r->propagator.status : AIMARK_SIG_ABSENT; }
aimark_content_status aimark_report_content(const aimark_report *r) { return r ? r->content : AIMARK_CONTENT_NOT_COVERED; }
const aimark_findings *aimark_report_findings(const aimark_report *r) { return r ? r->findings : NULL; }

const char *aimark_verdict_name(aimark_verdict v)
{
	switch (v) {
	case AIMARK_VERDICT_AUTHENTIC: return "authentic";
	case AIMARK_VERDICT_NOT_LABELLED: return "not-labelled";
	case AIMARK_VERDICT_INVALID: return "invalid";
	case AIMARK_VERDICT_TAMPERED: return "tampered";
	case AIMARK_VERDICT_UNVERIFIED: return "unverified";
	case AIMARK_VERDICT_ERROR: return "error";
	}
	return "error";
}

int aimark_verdict_exit_code(aimark_verdict v)
{
	switch (v) {
	case AIMARK_VERDICT_AUTHENTIC: return 0;
	case AIMARK_VERDICT_NOT_LABELLED: return 1;
	case AIMARK_VERDICT_INVALID:
	case AIMARK_VERDICT_TAMPERED: return 2;
	case AIMARK_VERDICT_UNVERIFIED: return 3;
	case AIMARK_VERDICT_ERROR: return 4;
	}
	return 4;
}

const char *aimark_sig_status_name(aimark_sig_status s)
{
	switch (s) {
	case AIMARK_SIG_ABSENT: return "absent";
	case AIMARK_SIG_VALID: return "valid";
	case AIMARK_SIG_UNKNOWN_KEY: return "unknown-key";
	case AIMARK_SIG_INVALID: return "invalid";
	case AIMARK_SIG_UNVERIFIABLE: return "unverifiable";
	}
	return "absent";
}

const char *aimark_content_status_name(aimark_content_status s)
{
	switch (s) {
	case AIMARK_CONTENT_NOT_COVERED: return "not-covered";
	case AIMARK_CONTENT_UNCHANGED: return "unchanged";
	case AIMARK_CONTENT_CHANGED: return "changed";
	}
	return "not-covered";
}

/* ---- JSON ---- */

/* A JSON string for text that may not be UTF-8 (file names): invalid bytes become \xHH. */
static json_t *text_json(const char *text)
{
	json_t *s = json_string(text);
	if (s != NULL)
		return s;
	aimark_buf b = AIMARK_BUF_INIT;
	for (const unsigned char *p = (const unsigned char *)text; *p; p++)
		if (*p < 0x80 ? aimark__buf_append(&b, p, 1) : aimark__buf_printf(&b, "\\x%02X", *p))
			break;
	s = json_string(b.ptr ? (const char *)b.ptr : "");
	aimark_buf_dispose(&b);
	return s;
}

static json_t *signer_json(const aimark__security_check *c)
{
	if (c->key_id[0] == '\0')
		return json_null();
	return json_pack("{s:s, s:s, s:b, s:s}", "alg", aimark_key_alg_name(c->alg) ? aimark_key_alg_name(c->alg) : "unknown",
			 "key_id", c->key_id, "trusted", c->status == AIMARK_SIG_VALID, "scheme", c->scheme ? c->scheme : "unknown");
}

static json_t *aigc_json(const aimark_report *r)
{
	if (r->label == NULL)
		return json_null();
	json_t *o = json_object();
	for (int i = 0; o && i < AIMARK_FIELD_COUNT; i++) {
		const char *v = aimark_label_get(r->label, (aimark_label_field)i);
		json_object_set_new(o, aimark_label_field_name((aimark_label_field)i), v ? json_string(v) : json_null());
	}
	json_t *carriers = json_array();
	for (size_t i = 0; carriers && i < r->n_carriers; i++)
		json_array_append_new(carriers, json_string(r->carriers[i]));
	json_object_set_new(o, "carrier", json_string(r->carrier ? r->carrier : ""));
	json_object_set_new(o, "carriers", carriers);
	json_object_set_new(o, "signature", json_string(aimark_sig_status_name(r->producer.status)));
	json_object_set_new(o, "signer", signer_json(&r->producer));
	json_object_set_new(o, "content", json_string(aimark_content_status_name(r->content)));
	json_object_set_new(o, "propagator_signature", json_string(aimark_sig_status_name(r->propagator.status)));
	json_object_set_new(o, "propagator_signer", signer_json(&r->propagator));
	return o;
}

static json_t *findings_json(const aimark_findings *f)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < aimark_findings_count(f); i++) {
		const aimark_finding *x = aimark_findings_get(f, i);
		json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "severity", aimark_severity_name(x->severity), "code", x->code,
						   "message", x->message));
	}
	return a;
}

int aimark_report_to_json(const aimark_report *r, int pretty, aimark_buf *out)
{
	RETURN_IF(r == NULL || out == NULL, AIMARK_EINVAL, "report: NULL argument");
	json_t *o = json_object();
	RETURN_ENOMEM_IF_NULL(o);
	json_object_set_new(o, "file", text_json(r->file));
	json_object_set_new(o, "format", json_string(r->format));
	json_object_set_new(o, "verdict", json_string(aimark_verdict_name(r->verdict)));
	if (r->error)
		json_object_set_new(o, "error", text_json(r->error));
	json_object_set_new(o, "aigc", aigc_json(r));
	json_object_update(o, r->layers);
	json_object_set_new(o, "findings", findings_json(r->findings));
	char *text = json_dumps(o, (pretty ? JSON_INDENT(2) : JSON_COMPACT) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
	json_decref(o);
	RETURN_ENOMEM_IF_NULL(text);
	int rc = aimark__buf_append_str(out, text);
	free(text);
	return rc;
}

/* ---- text ---- */

static const char *label_meaning(const char *v)
{
	if (v == NULL) return "";
	if (strcmp(v, "1") == 0) return " (AI-generated)";
	if (strcmp(v, "2") == 0) return " (possibly AI-generated)";
	if (strcmp(v, "3") == 0) return " (suspected AI-generated)";
	return " (not an Annex E value)";
}

static const char *headline(const aimark_report *r)
{
	switch (r->verdict) {
	case AIMARK_VERDICT_AUTHENTIC: return "labelled AI content; the label is signed by a trusted key and the content is as signed";
	case AIMARK_VERDICT_NOT_LABELLED: return "no GB 45438 label found";
	case AIMARK_VERDICT_INVALID: return "the label is invalid (malformed, conflicting, or its signature does not verify)";
	case AIMARK_VERDICT_TAMPERED: return "the label is authentic but the content changed after labelling";
	case AIMARK_VERDICT_UNVERIFIED: return "labelled, but no trusted key vouches for the label";
	case AIMARK_VERDICT_ERROR: return "the file could not be read";
	}
	return "";
}

static int signature_line(aimark_buf *out, const char *name, const aimark__security_check *c)
{
	RETURN_IF_ERR(aimark__buf_printf(out, "  %-12s %s", name, aimark_sig_status_name(c->status)));
	if (c->key_id[0])
		RETURN_IF_ERR(aimark__buf_printf(out, " (%s key %.16s…, %s)", aimark_key_alg_name(c->alg) ? aimark_key_alg_name(c->alg) : "?",
						 c->key_id, c->status == AIMARK_SIG_VALID ? "trusted" : "not trusted"));
	return aimark__buf_append_str(out, "\n");
}

static const char *str_of(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));
	return v ? v : "";
}

/* One line per layer: the few facts a person needs; --json has the rest. */
static int layer_line(aimark_buf *out, const char *name, json_t *v)
{
	if (strcmp(name, "c2pa") == 0) {
		json_t *failures = json_object_get(json_object_get(v, "codes"), "failure");
		RETURN_IF_ERR(aimark__buf_printf(out, "  %-12s %s", "c2pa", str_of(v, "state")));
		json_t *signer = json_object_get(v, "signer");
		if (json_is_object(signer))
			RETURN_IF_ERR(aimark__buf_printf(out, " (signed by O=%s, %s)", str_of(signer, "organization"),
							 json_is_true(json_object_get(signer, "trusted")) ? "trusted" : "not trusted"));
		for (size_t i = 0; i < json_array_size(failures); i++)
			RETURN_IF_ERR(aimark__buf_printf(out, "%s%s", i ? ", " : "; failures: ", str_of(json_array_get(failures, i), "code")));
		return aimark__buf_append_str(out, "\n");
	}
	if (json_is_object(v) && json_object_get(v, "detected")) {
		int detected = json_is_true(json_object_get(v, "detected"));
		RETURN_IF_ERR(aimark__buf_printf(out, "  %-12s %s", name, detected ? "detected" : "not detected"));
		if (detected && *str_of(v, "kind"))
			RETURN_IF_ERR(aimark__buf_printf(out, " (%s)", str_of(v, "kind")));
		if (detected && *str_of(v, "payload"))
			RETURN_IF_ERR(aimark__buf_printf(out, ", payload %s%s", str_of(v, "payload"),
							 json_is_true(json_object_get(v, "authenticated")) ? " (authenticated)" : ""));
		json_t *pfa = json_object_get(v, "false_alarm_probability");
		if (detected && json_is_number(pfa))
			RETURN_IF_ERR(aimark__buf_printf(out, ", false-alarm probability %.3g", json_number_value(pfa)));
		if (*str_of(v, "agreement"))
			RETURN_IF_ERR(aimark__buf_printf(out, "; %s", str_of(v, "agreement")));
		return aimark__buf_append_str(out, "\n");
	}
	char *text = json_dumps(v, JSON_COMPACT);
	RETURN_ENOMEM_IF_NULL(text);
	int rc = aimark__buf_printf(out, "  %-12s %s\n", name, text);
	free(text);
	return rc;
}

int aimark_report_to_text(const aimark_report *r, aimark_buf *out)
{
	RETURN_IF(r == NULL || out == NULL, AIMARK_EINVAL, "report: NULL argument");
	RETURN_IF_ERR(aimark__buf_printf(out, "%s: %s: %s\n", r->file, aimark_verdict_name(r->verdict), headline(r)));
	RETURN_IF_ERR(aimark__buf_printf(out, "  %-12s %s", "format", r->format));
	if (r->carrier)
		RETURN_IF_ERR(aimark__buf_printf(out, " (label in %s)", r->carrier));
	RETURN_IF_ERR(aimark__buf_append_str(out, "\n"));
	if (r->error)
		RETURN_IF_ERR(aimark__buf_printf(out, "  %-12s %s\n", "error", r->error));
	if (r->label) {
		static const struct { aimark_label_field f; const char *name; } rows[] = {
			{ AIMARK_FIELD_LABEL, "Label" }, { AIMARK_FIELD_CONTENT_PRODUCER, "Producer" },
			{ AIMARK_FIELD_PRODUCE_ID, "ProduceID" }, { AIMARK_FIELD_CONTENT_PROPAGATOR, "Propagator" },
			{ AIMARK_FIELD_PROPAGATE_ID, "PropagateID" },
		};
		for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
			const char *v = aimark_label_get(r->label, rows[i].f);
			RETURN_IF_ERR(aimark__buf_printf(out, "  %-12s %s%s\n", rows[i].name, v ? v : "(absent)",
							 rows[i].f == AIMARK_FIELD_LABEL ? label_meaning(v) : ""));
		}
		RETURN_IF_ERR(signature_line(out, "signature", &r->producer));
		if (r->propagator.status != AIMARK_SIG_ABSENT)
			RETURN_IF_ERR(signature_line(out, "propagator", &r->propagator));
		RETURN_IF_ERR(aimark__buf_printf(out, "  %-12s %s\n", "content", aimark_content_status_name(r->content)));
	}
	const char *key;
	json_t *value;
	json_object_foreach(r->layers, key, value)
		RETURN_IF_ERR(layer_line(out, key, value));
	size_t n = aimark_findings_count(r->findings);
	if (n)
		RETURN_IF_ERR(aimark__buf_append_str(out, "  findings:\n"));
	for (size_t i = 0; i < n; i++) {
		const aimark_finding *f = aimark_findings_get(r->findings, i);
		RETURN_IF_ERR(aimark__buf_printf(out, "    %-7s %s: %s\n", aimark_severity_name(f->severity), f->code, f->message));
	}
	return 0;
}

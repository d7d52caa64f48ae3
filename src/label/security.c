/*
 * SecurityData signatures in ReservedCode1/2 (TC260-PG-202511A layout).
 * aimark signs the label fields together with a hash of the content essence;
 * vendors' own layouts (MiniMax, StepFun, Tencent) are recognised and checked
 * where their signed message is known. See docs/signature.md.
 */
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/findings_internal.h"
#include "core/hex.h"
#include "core/internal.h"
#include "label_internal.h"
#include "security.h"

static const char *field(const aimark_label *l, aimark_label_field f)
{
	const char *v = aimark_label_get(l, f);
	return v ? v : "";
}

static int append_pair(aimark_buf *out, int first, const char *name, const char *value)
{
	RETURN_IF_ERR(aimark__buf_printf(out, "%s\"%s\":", first ? "" : ",", name));
	return aimark__json_quote(out, value);
}

/* The A.1 string: "Label":"1","ContentProducer":"..","ProduceID":".." (no braces). */
static int a1_string(const aimark_label *l, int propagator_fields, aimark_buf *out)
{
	RETURN_IF_ERR(append_pair(out, 1, "Label", field(l, AIMARK_FIELD_LABEL)));
	if (propagator_fields) {
		RETURN_IF_ERR(append_pair(out, 0, "ContentPropagator", field(l, AIMARK_FIELD_CONTENT_PROPAGATOR)));
		return append_pair(out, 0, "PropagateID", field(l, AIMARK_FIELD_PROPAGATE_ID));
	}
	RETURN_IF_ERR(append_pair(out, 0, "ContentProducer", field(l, AIMARK_FIELD_CONTENT_PRODUCER)));
	return append_pair(out, 0, "ProduceID", field(l, AIMARK_FIELD_PRODUCE_ID));
}

static int binding_json(aimark_buf *out, const char *hash_oid, const char *cntsel, const char *hex_value)
{
	RETURN_IF_ERR(aimark__buf_append_str(out, "{"));
	RETURN_IF_ERR(append_pair(out, 1, "Type", "Hash"));
	RETURN_IF_ERR(append_pair(out, 0, "AlgID", hash_oid));
	RETURN_IF_ERR(append_pair(out, 0, "CntSel", cntsel));
	RETURN_IF_ERR(append_pair(out, 0, "Value", hex_value));
	return aimark__buf_append_str(out, "}");
}

int aimark__security_tbs(const aimark_label *l, aimark_role role, const char *hash_oid, const char *cntsel,
			 const char *hex_value, aimark_buf *out)
{
	RETURN_IF_ERR(a1_string(l, 0, out));
	if (role == AIMARK_ROLE_PROPAGATOR) {
		RETURN_IF_ERR(append_pair(out, 0, "ContentPropagator", field(l, AIMARK_FIELD_CONTENT_PROPAGATOR)));
		RETURN_IF_ERR(append_pair(out, 0, "PropagateID", field(l, AIMARK_FIELD_PROPAGATE_ID)));
	}
	RETURN_IF_ERR(aimark__buf_append_str(out, ",\"Bindings\":["));
	RETURN_IF_ERR(binding_json(out, hash_oid, cntsel, hex_value));
	return aimark__buf_append_str(out, "]");
}

int aimark__security_sign(const aimark_label *label, aimark_role role, const aimark_key *key, const char *cntsel,
			  const unsigned char *digest, size_t digest_len, aimark_buf *out)
{
	RETURN_IF(label == NULL || key == NULL || cntsel == NULL || digest == NULL, AIMARK_EINVAL, "sign: NULL argument");
	const char *hash_oid = aimark__hash_alg_oid(aimark__key_hash_alg(key));
	const char *sig_oid = aimark__key_sig_oid(key);
	aimark_buf hex = AIMARK_BUF_INIT, tbs = AIMARK_BUF_INIT, sig = AIMARK_BUF_INIT, sig_hex = AIMARK_BUF_INIT;
	aimark_buf spki = AIMARK_BUF_INIT, spki_hex = AIMARK_BUF_INIT;
	int rc = aimark__hex_encode(digest, digest_len, 0, &hex);
	if (rc == 0)
		rc = aimark__security_tbs(label, role, hash_oid, cntsel, (const char *)hex.ptr, &tbs);
	if (rc == 0)
		rc = aimark__sign(key, tbs.ptr, tbs.size, &sig);
	if (rc == 0)
		rc = aimark__hex_encode(sig.ptr, sig.size, 0, &sig_hex);
	if (rc == 0)
		rc = aimark__key_spki_der(key, &spki);
	if (rc == 0)
		rc = aimark__hex_encode(spki.ptr, spki.size, 0, &spki_hex);
	if (rc == 0)
		rc = aimark__buf_append_str(out, "{\"SecurityData\":{\"Type\":\"TC260PG\",\"Version\":1,\"Bindings\":[");
	if (rc == 0)
		rc = binding_json(out, hash_oid, cntsel, (const char *)hex.ptr);
	if (rc == 0)
		rc = aimark__buf_printf(out,
					"],\"PubSD\":[{\"Type\":\"DS\",\"AlgID\":\"%s\",\"TBSData\":{\"Type\":\"%s\"},\"Signature\":\"%s\"},"
					"{\"Type\":\"PubKey\",\"AlgID\":\"%s\",\"KeyValue\":\"%s\"}]}}",
					sig_oid, role == AIMARK_ROLE_PROPAGATOR ? AIMARK__TBS_PROPAGATOR : AIMARK__TBS_PRODUCER,
					(const char *)sig_hex.ptr, sig_oid, (const char *)spki_hex.ptr);
	aimark_buf_dispose(&hex);
	aimark_buf_dispose(&tbs);
	aimark_buf_dispose(&sig);
	aimark_buf_dispose(&sig_hex);
	aimark_buf_dispose(&spki);
	aimark_buf_dispose(&spki_hex);
	return rc;
}

/* ---- verification ---- */

#define MAX_KEYS 8

typedef struct verify_ctx {
	const aimark_label *label;
	aimark_role role;
	const aimark_trust *trust;
	aimark__security_check *check;
	aimark_findings *findings;
	aimark_key *keys[MAX_KEYS];
	size_t n_keys;
} verify_ctx;

static const char *json_str(json_t *obj, const char *key)
{
	json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Compares ignoring case and surrounding white space (Tencent writes " TC260PG"). */
static int loose_equal(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return 0;
	while (isspace((unsigned char)*a))
		a++;
	size_t n = strlen(a);
	while (n > 0 && isspace((unsigned char)a[n - 1]))
		n--;
	return n == strlen(b) && strncasecmp(a, b, n) == 0;
}

static int decode_hex_loose(const char *text, aimark_buf *out)
{
	aimark__buf_clear(out);
	return text ? aimark__hex_decode(text, strlen(text), out) : AIMARK_EFORMAT;
}

/* Tries `msg` against every key; on success records the key and returns 1. */
static int try_message(verify_ctx *v, const void *msg, size_t len, const aimark_buf *sig)
{
	for (size_t i = 0; i < v->n_keys; i++) {
		int ok = aimark__verify(v->keys[i], msg, len, sig->ptr, sig->size);
		if (ok < 0)
			aimark_error_clear();
		if (ok == 1) {
			v->check->alg = aimark_key_algorithm(v->keys[i]);
			if (aimark_key_id(v->keys[i], v->check->key_id) < 0)
				v->check->key_id[0] = '\0';
			return 1;
		}
	}
	return 0;
}

static int note(verify_ctx *v, aimark_severity s, const char *code, const char *msg)
{
	return aimark__findings_add(v->findings, s, code, "%s %s", v->role == AIMARK_ROLE_PRODUCER ? "ReservedCode1:" : "ReservedCode2:", msg);
}

/* aimark's own layout: the TBS is rebuilt from the label and the Hash binding. */
static int verify_aimark_ds(verify_ctx *v, json_t *bindings, const aimark_buf *sig, int *verified)
{
	*verified = 0;
	json_t *b = json_is_array(bindings) ? json_array_get(bindings, 0) : NULL;
	const char *oid = json_str(b, "AlgID"), *sel = json_str(b, "CntSel"), *value = json_str(b, "Value");
	if (!oid || !sel || !value)
		return note(v, AIMARK_SEVERITY_ERROR, "signature-binding", "the Hash binding the signature refers to is incomplete");
	aimark_buf tbs = AIMARK_BUF_INIT, digest = AIMARK_BUF_INIT;
	int rc = aimark__security_tbs(v->label, v->role, oid, sel, value, &tbs);
	if (rc == 0 && try_message(v, tbs.ptr, tbs.size, sig)) {
		*verified = 1;
		v->check->scheme = "aimark";
		if (aimark__hash_alg_parse(oid, &v->check->hash_alg) == 0 && decode_hex_loose(value, &digest) == 0 &&
		    digest.size == 32) {
			v->check->content_covered = 1;
			memcpy(v->check->digest, digest.ptr, 32);
			snprintf(v->check->cntsel, sizeof v->check->cntsel, "%s", sel);
		} else {
			aimark_error_clear();
			rc = note(v, AIMARK_SEVERITY_WARNING, "signature-binding", "the signed content hash has an unknown algorithm or length");
		}
	}
	aimark_buf_dispose(&tbs);
	aimark_buf_dispose(&digest);
	return rc;
}

/* Vendor layouts: MiniMax (raw A.1), StepFun (SM3 of A.1), Tencent (raw binding hash), MiniMax binding JSON. */
static int verify_vendor_ds(verify_ctx *v, json_t *bindings, const aimark_buf *sig, int *verified)
{
	*verified = 0;
	aimark_buf msg = AIMARK_BUF_INIT, raw = AIMARK_BUF_INIT;
	int rc = 0;
	for (int prop = 0; prop < 2 && !*verified && rc == 0; prop++) {
		if (prop && v->role != AIMARK_ROLE_PROPAGATOR)
			break;
		aimark__buf_clear(&msg);
		rc = a1_string(v->label, prop, &msg);
		if (rc == 0 && try_message(v, msg.ptr, msg.size, sig)) {
			*verified = 1;
			v->check->scheme = "label-a1";
		}
		unsigned char d[AIMARK__HASH_MAX];
		if (rc == 0 && !*verified && aimark__hash_oneshot(AIMARK__HASH_SM3, msg.ptr, msg.size, d) == 0 &&
		    try_message(v, d, 32, sig)) {
			*verified = 1;
			v->check->scheme = "label-a1-sm3";
		}
	}
	for (size_t i = 0; json_is_array(bindings) && i < json_array_size(bindings) && !*verified && rc == 0; i++) {
		json_t *b = json_array_get(bindings, i);
		if (decode_hex_loose(json_str(b, "Value"), &raw) == 0 && raw.size > 0 && try_message(v, raw.ptr, raw.size, sig)) {
			*verified = 1;
			v->check->scheme = "binding-hash";
			break;
		}
		aimark_error_clear();
		char *compact = json_dumps(b, JSON_COMPACT);
		if (compact && try_message(v, compact, strlen(compact), sig)) {
			*verified = 1;
			v->check->scheme = "binding-json";
		}
		free(compact);
	}
	aimark_buf_dispose(&msg);
	aimark_buf_dispose(&raw);
	return rc;
}

static int load_keys(verify_ctx *v, json_t *pubsd)
{
	aimark_buf bytes = AIMARK_BUF_INIT;
	for (size_t i = 0; i < json_array_size(pubsd) && v->n_keys < MAX_KEYS; i++) {
		json_t *e = json_array_get(pubsd, i);
		if (!loose_equal(json_str(e, "Type"), "PubKey"))
			continue;
		aimark_key *key = NULL;
		if (decode_hex_loose(json_str(e, "KeyValue"), &bytes) == 0 &&
		    aimark__key_from_any_public(&key, bytes.ptr, bytes.size) == 0)
			v->keys[v->n_keys++] = key;
		else {
			aimark_error_clear();
			int rc = note(v, AIMARK_SEVERITY_WARNING, "signature-key", "a PubKey entry holds no usable public key");
			if (rc < 0) {
				aimark_buf_dispose(&bytes);
				return rc;
			}
		}
	}
	aimark_buf_dispose(&bytes);
	return 0;
}

static int check_security_data(verify_ctx *v, json_t *root)
{
	json_t *sd = json_object_get(root, "SecurityData");
	if (!json_is_object(sd))
		sd = root;
	json_t *pubsd = json_object_get(sd, "PubSD");
	if (!json_is_array(pubsd)) {
		pubsd = json_object_get(sd, "PubSd");
		if (json_is_array(pubsd))
			RETURN_IF_ERR(note(v, AIMARK_SEVERITY_INFO, "securitydata-spelling", "SecurityData spells PubSD as PubSd"));
	}
	if (!json_is_array(pubsd)) {
		v->check->status = AIMARK_SIG_UNVERIFIABLE;
		return note(v, AIMARK_SEVERITY_INFO, "reserved-code-opaque", "holds JSON without a PubSD signature list");
	}
	json_t *bindings = json_object_get(sd, "Bindings");
	RETURN_IF_ERR(load_keys(v, pubsd));
	int any_ds = 0, own_failed = 0, vendor_failed = 0, verified = 0;
	aimark_buf sig = AIMARK_BUF_INIT;
	for (size_t i = 0; i < json_array_size(pubsd) && !verified; i++) {
		json_t *e = json_array_get(pubsd, i);
		if (!loose_equal(json_str(e, "Type"), "DS"))
			continue;
		any_ds = 1;
		if (decode_hex_loose(json_str(e, "Signature"), &sig) != 0) {
			aimark_error_clear();
			vendor_failed = 1;
			continue;
		}
		const char *tbs_type = json_str(json_object_get(e, "TBSData"), "Type");
		const char *own = v->role == AIMARK_ROLE_PROPAGATOR ? AIMARK__TBS_PROPAGATOR : AIMARK__TBS_PRODUCER;
		int ok = 0, rc;
		if (tbs_type && strcmp(tbs_type, own) == 0) {
			rc = verify_aimark_ds(v, bindings, &sig, &ok);
			own_failed |= !ok;
		} else {
			rc = verify_vendor_ds(v, bindings, &sig, &ok);
			vendor_failed |= !ok;
		}
		if (rc < 0) {
			aimark_buf_dispose(&sig);
			return rc;
		}
		verified = ok;
	}
	aimark_buf_dispose(&sig);
	if (verified) {
		v->check->status = aimark_trust_contains_id(v->trust, v->check->key_id) ? AIMARK_SIG_VALID : AIMARK_SIG_UNKNOWN_KEY;
		return 0;
	}
	if (!any_ds || v->n_keys == 0) {
		v->check->status = AIMARK_SIG_UNVERIFIABLE;
		return note(v, AIMARK_SEVERITY_WARNING, "signature-incomplete", "SecurityData lacks a signature or a public key");
	}
	if (own_failed) {
		v->check->status = AIMARK_SIG_INVALID;
		return note(v, AIMARK_SEVERITY_ERROR, "signature-invalid", "the signature does not match the label and content hash it covers");
	}
	(void)vendor_failed;
	v->check->status = AIMARK_SIG_UNVERIFIABLE;
	return note(v, AIMARK_SEVERITY_WARNING, "vendor-signature-unverified",
		    "a vendor signature is present but its signed message is not one aimark can reconstruct");
}

int aimark__security_verify(const aimark_label *label, aimark_role role, const aimark_trust *trust,
			    aimark__security_check *check, aimark_findings *findings)
{
	memset(check, 0, sizeof *check);
	check->status = AIMARK_SIG_ABSENT;
	const char *text = aimark_label_get(label, role == AIMARK_ROLE_PROPAGATOR ? AIMARK_FIELD_RESERVED_CODE2 : AIMARK_FIELD_RESERVED_CODE1);
	if (text == NULL || *text == '\0')
		return 0;
	verify_ctx v = { label, role, trust, check, findings, { NULL }, 0 };
	json_t *root = json_loads(text, 0, NULL);
	int rc;
	if (!json_is_object(root)) {
		check->status = AIMARK_SIG_UNVERIFIABLE;
		rc = note(&v, AIMARK_SEVERITY_INFO, "reserved-code-opaque", "holds an opaque value, not SecurityData JSON");
	} else {
		rc = check_security_data(&v, root);
	}
	json_decref(root);
	for (size_t i = 0; i < v.n_keys; i++)
		aimark_key_free(v.keys[i]);
	return rc;
}

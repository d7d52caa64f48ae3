/* The C2PA manifest store: manifests, their claims and signatures, located in the JUMBF tree. */
#include <stdio.h>
#include <string.h>

#include "c2pa/c2pa_internal.h"
#include "core/internal.h"
#include "crypto/crypto.h"

int aimark__c2pa_uuid4(char out[37])
{
	unsigned char b[16];
	RETURN_IF_ERR(aimark__random_bytes(b, sizeof b));
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3],
		 b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
	return 0;
}

int aimark__c2pa_uri_manifest(const char *uri, char *out, size_t cap)
{
	static const char prefix[] = "self#jumbf=/c2pa/";
	if (uri == NULL || strncmp(uri, prefix, sizeof prefix - 1) != 0)
		return 0;
	const char *p = uri + sizeof prefix - 1;
	size_t n = strcspn(p, "/");
	if (n == 0 || n >= cap)
		return 0;
	memcpy(out, p, n);
	out[n] = '\0';
	return 1;
}

void aimark__c2pa_store_dispose(aimark__c2pa_store *s)
{
	for (size_t i = 0; i < s->n; i++) {
		aimark__free(s->m[i].label);
		if (s->m[i].claim_item)
			cbor_decref(&s->m[i].claim_item);
	}
	aimark__free(s->m);
	aimark__jumbf_dispose(&s->j);
	aimark_buf_dispose(&s->bytes);
	memset(s, 0, sizeof *s);
}

/* Reads the claim CBOR and decides its version (1: "assertions", 2: "created_assertions"). */
static void load_claim(aimark__c2pa_manifest *m)
{
	if (m->claim == NULL) {
		snprintf(m->claim_error, sizeof m->claim_error, "no claim box");
		return;
	}
	if (aimark__cbor_load(m->claim, m->claim_len, "claim", &m->claim_item) < 0) {
		snprintf(m->claim_error, sizeof m->claim_error, "%s", aimark_error_last());
		aimark_error_clear();
		return;
	}
	if (!cbor_isa_map(m->claim_item)) {
		snprintf(m->claim_error, sizeof m->claim_error, "the claim is not a map");
		return;
	}
	int v1 = aimark__cbor_get(m->claim_item, "assertions") != NULL;
	int v2 = aimark__cbor_get(m->claim_item, "created_assertions") != NULL;
	if (v1 == v2) {
		snprintf(m->claim_error, sizeof m->claim_error, "unsupported claim version");
		return;
	}
	m->claim_version = v1 ? 1 : 2;
	static const char *const v1_fields[] = { "claim_generator", "claim_generator_hints", "claim_generator_info",
		"signature", "assertions", "dc:format", "instanceID", "dc:title", "redacted_assertions", "alg", "alg_soft",
		"metadata", NULL };
	static const char *const v2_fields[] = { "instanceID", "claim_generator_info", "signature", "created_assertions",
		"gathered_assertions", "dc:title", "redacted_assertions", "alg", "alg_soft", "metadata", NULL };
	const char *const *fields = v1 ? v1_fields : v2_fields;
	struct cbor_pair *p = cbor_map_handle(m->claim_item);
	for (size_t i = 0; i < cbor_map_size(m->claim_item); i++) {
		char *key = aimark__cbor_text(p[i].key);
		int known = 0;
		for (size_t k = 0; key && fields[k]; k++)
			known |= strcmp(key, fields[k]) == 0;
		if (!known)
			snprintf(m->claim_error, sizeof m->claim_error, "unknown v%d claim field \"%.60s\"", m->claim_version,
				 key ? key : "(not text)");
		aimark__free(key);
		if (!known) {
			m->claim_version = 0;
			return;
		}
	}
	static const char *const v1_required[] = { "claim_generator", "signature", "assertions", "dc:format", "instanceID", NULL };
	static const char *const v2_required[] = { "instanceID", "claim_generator_info", "signature", "created_assertions", NULL };
	const char *const *req = v1 ? v1_required : v2_required;
	for (size_t k = 0; req[k]; k++) {
		if (aimark__cbor_get(m->claim_item, req[k]) == NULL) {
			snprintf(m->claim_error, sizeof m->claim_error, "claim field \"%s\" is missing", req[k]);
			m->claim_version = 0;
			return;
		}
	}
}

int aimark__c2pa_store_parse(aimark__c2pa_store *s, aimark_buf *bytes)
{
	memset(s, 0, sizeof *s);
	aimark__buf_move(&s->bytes, bytes);
	int rc = aimark__jumbf_parse(&s->j, s->bytes.ptr, s->bytes.size);
	if (rc < 0) {
		aimark_buf_dispose(&s->bytes);
		return rc;
	}
	aimark__jumbf *j = &s->j;
	if (!aimark__jumbf_is(j, 0, "c2pa")) {
		aimark__c2pa_store_dispose(s);
		return aimark__error_set(AIMARK_EFORMAT, "C2PA: the JUMBF box is not a C2PA manifest store");
	}
	size_t count = 0;
	for (size_t c = j->box[0].first; c != AIMARK__JNONE; c = j->box[c].next)
		count += aimark__jumbf_is(j, c, "c2ma") || aimark__jumbf_is(j, c, "c2um");
	if (count > AIMARK__C2PA_MAX_MANIFESTS) {
		aimark__c2pa_store_dispose(s);
		return aimark__error_set(AIMARK_ELIMIT, "C2PA: %zu manifests in one store (at most %d)", count,
					 AIMARK__C2PA_MAX_MANIFESTS);
	}
	s->m = aimark__calloc(count ? count : 1, sizeof *s->m);
	if (s->m == NULL) {
		aimark__c2pa_store_dispose(s);
		return aimark__error_set(AIMARK_ENOMEM, "out of memory");
	}
	for (size_t c = j->box[0].first; c != AIMARK__JNONE; c = j->box[c].next) {
		int update = aimark__jumbf_is(j, c, "c2um");
		if (!update && !aimark__jumbf_is(j, c, "c2ma"))
			continue;
		aimark__c2pa_manifest *m = &s->m[s->n++];
		m->box = c;
		m->update = update;
		m->label = aimark__jumbf_label_dup(j, c);
		if (m->label == NULL) {
			aimark__c2pa_store_dispose(s);
			return aimark__error_set(AIMARK_ENOMEM, "out of memory");
		}
		m->astore = m->claim_box = m->sig_box = AIMARK__JNONE;
		for (size_t k = j->box[c].first; k != AIMARK__JNONE; k = j->box[k].next) {
			if (aimark__jumbf_is(j, k, "c2as") && m->astore == AIMARK__JNONE)
				m->astore = k;
			else if (aimark__jumbf_is(j, k, "c2cl") && m->claim_box == AIMARK__JNONE)
				m->claim_box = k;
			else if (aimark__jumbf_is(j, k, "c2cs") && m->sig_box == AIMARK__JNONE)
				m->sig_box = k;
		}
		size_t cb = aimark__jumbf_content(j, m->claim_box, AIMARK__4CC("cbor"));
		if (cb != AIMARK__JNONE)
			m->claim = aimark__jumbf_payload(j, cb, &m->claim_len);
		cb = aimark__jumbf_content(j, m->sig_box, AIMARK__4CC("cbor"));
		if (cb != AIMARK__JNONE)
			m->sig = aimark__jumbf_payload(j, cb, &m->sig_len);
		load_claim(m);
	}
	if (s->n == 0) {
		aimark__c2pa_store_dispose(s);
		return aimark__error_set(AIMARK_EFORMAT, "C2PA: the manifest store holds no manifest");
	}
	return 0;
}

size_t aimark__c2pa_store_find(const aimark__c2pa_store *s, const char *label)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->m[i].label, label) == 0)
			return i;
	return AIMARK__JNONE;
}

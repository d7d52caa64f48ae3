/* Writing our manifest (c2pa_build.c), used by c2pa_stage.c. */
#ifndef AIMARK_C2PA_BUILD_H
#define AIMARK_C2PA_BUILD_H

#include "c2pa/c2pa_internal.h"

/* An assertion superbox ready to go into the assertion store. */
typedef struct aimark__c2pa_named_box {
	const char *label;
	aimark_buf box;
} aimark__c2pa_named_box;

/* jumb{jumd(cbor, label), cbor{item}} appended to `out`. */
int aimark__c2pa_assertion_box(const char *label, const cbor_item_t *item, aimark_buf *out);
/* SHA-256 of a superbox's payload (everything after its 8-byte header): the hashed-URI hash. */
int aimark__c2pa_superbox_hash(const unsigned char *box, size_t len, unsigned char out[32]);
/* {url, hash} */
cbor_item_t *aimark__c2pa_hashed_uri(const char *url, const unsigned char hash[32]);
/* c2pa.actions.v2: created, or opened (of the ingredient) + edited.metadata. */
cbor_item_t *aimark__c2pa_actions_cbor(const char *when, const char *ingredient_url, const unsigned char *ingredient_hash);
/* cn.org.tc260.aigc: {"AIGC": {the seven Annex E fields}}. */
cbor_item_t *aimark__c2pa_aigc_cbor(const aimark_label *label);
/* c2pa.ingredient.v3 (parentOf); takes `validation_results`. */
cbor_item_t *aimark__c2pa_ingredient_cbor(const char *title, const char *mime, const char *manifest_url,
					  const unsigned char manifest_hash[32], const char *sig_url,
					  const unsigned char sig_hash[32], cbor_item_t *validation_results);
/* c2pa.hash.data with one exclusion; the placeholder has the final encoded size. */
cbor_item_t *aimark__c2pa_data_hash_cbor(uint64_t start, uint64_t length, const unsigned char hash[32], int placeholder);
/* c2pa.hash.bmff.v3 with the standard exclusions (/uuid C2PA box, /ftyp, /mfra). */
cbor_item_t *aimark__c2pa_bmff_hash_cbor(const unsigned char hash[32]);
/* The manifest superbox: assertion store, claim v2 listing `assertions`, signature (zeros when `placeholder`). */
int aimark__c2pa_manifest_box(const aimark_c2pa_signer *signer, const char *label, const char *instance_id,
			      const aimark__c2pa_named_box *assertions, size_t n, int placeholder, aimark_buf *out);
/* The current UTC time as 2026-01-31T12:00:00Z. */
int aimark__c2pa_now_iso(char out[32]);

#endif

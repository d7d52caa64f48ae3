/*
 * Writing our manifest: the assertions (actions, the GB 45438 label, the
 * ingredient, the hard binding), the claim v2 that lists them by hashed
 * URI, its COSE signature, and the JUMBF boxes around them. Every box is
 * written in the canonical form the reference rebuilds when it checks a
 * hashed URI: description toggles 0x03, no IDs, no padding boxes.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "c2pa/c2pa_build.h"
#include "core/internal.h"
#include "crypto/x509_c2pa.h"

#define ENOMEM_IF(x) do { if (!(x)) { rc = aimark__error_set(AIMARK_ENOMEM, "out of memory"); goto done; } } while (0)

int aimark__c2pa_assertion_box(const char *label, const cbor_item_t *item, aimark_buf *out)
{
	unsigned char u[16];
	size_t start;
	aimark__jumbf_uuid(u, "cbor");
	RETURN_IF_ERR(aimark__jumbf_begin(out, "jumb", &start));
	RETURN_IF_ERR(aimark__jumbf_put_jumd(out, u, label));
	size_t cb;
	RETURN_IF_ERR(aimark__jumbf_begin(out, "cbor", &cb));
	RETURN_IF_ERR(aimark__cbor_append(out, item));
	RETURN_IF_ERR(aimark__jumbf_end(out, cb));
	return aimark__jumbf_end(out, start);
}

int aimark__c2pa_superbox_hash(const unsigned char *box, size_t len, unsigned char out[32])
{
	RETURN_IF(len < 8, AIMARK_EINVAL, "C2PA: box too small to hash");
	unsigned char d[AIMARK__MD_MAX];
	size_t n;
	RETURN_IF_ERR(aimark__md_oneshot("sha256", box + 8, len - 8, d, &n));
	memcpy(out, d, 32);
	return 0;
}

cbor_item_t *aimark__c2pa_hashed_uri(const char *url, const unsigned char hash[32])
{
	cbor_item_t *m = cbor_new_definite_map(2);
	if (m == NULL)
		return NULL;
	if (aimark__cbor_put(m, "url", aimark__cbor_str(url)) < 0 ||
	    aimark__cbor_put(m, "hash", cbor_build_bytestring(hash, 32)) < 0) {
		cbor_decref(&m);
		return NULL;
	}
	return m;
}

static cbor_item_t *software_agent(void)
{
	cbor_item_t *m = cbor_new_definite_map(2);
	if (m && (aimark__cbor_put(m, "name", aimark__cbor_str("aimark")) < 0 ||
		  aimark__cbor_put(m, "version", aimark__cbor_str(aimark_version())) < 0))
		cbor_decref(&m);
	return m;
}

cbor_item_t *aimark__c2pa_actions_cbor(const char *when, const char *ingredient_url, const unsigned char *ingredient_hash)
{
	cbor_item_t *root = cbor_new_definite_map(1), *list = cbor_new_definite_array(2);
	cbor_item_t *first = cbor_new_definite_map(5), *second = NULL;
	int ok = root && list && first;
	ok = ok && aimark__cbor_put(first, "action", aimark__cbor_str(ingredient_url ? "c2pa.opened" : "c2pa.created")) == 0;
	ok = ok && aimark__cbor_put(first, "digitalSourceType", aimark__cbor_str(AIMARK__C2PA_TRAINED_ALGORITHMIC)) == 0;
	ok = ok && aimark__cbor_put(first, "softwareAgent", software_agent()) == 0;
	ok = ok && aimark__cbor_put(first, "when", aimark__cbor_str(when)) == 0;
	if (ok && ingredient_url) {
		cbor_item_t *params = cbor_new_definite_map(1), *ings = cbor_new_definite_array(1);
		cbor_item_t *h = aimark__c2pa_hashed_uri(ingredient_url, ingredient_hash);
		ok = params && ings && h && cbor_array_push(ings, h);
		if (h)
			cbor_decref(&h);
		ok = ok && aimark__cbor_put(params, "ingredients", ings) == 0;
		ings = NULL;
		ok = ok && aimark__cbor_put(first, "parameters", params) == 0;
		params = NULL;
		if (ings)
			cbor_decref(&ings);
		if (params)
			cbor_decref(&params);
		second = cbor_new_definite_map(3);
		ok = ok && second && aimark__cbor_put(second, "action", aimark__cbor_str("c2pa.edited.metadata")) == 0 &&
		     aimark__cbor_put(second, "softwareAgent", software_agent()) == 0 &&
		     aimark__cbor_put(second, "when", aimark__cbor_str(when)) == 0;
	}
	ok = ok && cbor_array_push(list, first) && (second == NULL || cbor_array_push(list, second));
	ok = ok && aimark__cbor_put(root, "actions", cbor_incref(list)) == 0;
	if (first)
		cbor_decref(&first);
	if (second)
		cbor_decref(&second);
	if (list)
		cbor_decref(&list);
	if (!ok && root)
		cbor_decref(&root);
	return root;
}

cbor_item_t *aimark__c2pa_aigc_cbor(const aimark_label *label)
{
	cbor_item_t *root = cbor_new_definite_map(1), *fields = cbor_new_definite_map(AIMARK_FIELD_COUNT);
	int ok = root && fields;
	for (int f = 0; ok && f < AIMARK_FIELD_COUNT; f++) {
		const char *v = label ? aimark_label_get(label, (aimark_label_field)f) : NULL;
		ok = aimark__cbor_put(fields, aimark_label_field_name((aimark_label_field)f), aimark__cbor_str(v ? v : "")) == 0;
	}
	if (ok) { /* the put takes `fields` either way */
		ok = aimark__cbor_put(root, "AIGC", fields) == 0;
		fields = NULL;
	}
	if (fields)
		cbor_decref(&fields);
	if (!ok && root)
		cbor_decref(&root);
	return root;
}

cbor_item_t *aimark__c2pa_ingredient_cbor(const char *title, const char *mime, const char *manifest_url,
					  const unsigned char manifest_hash[32], const char *sig_url,
					  const unsigned char sig_hash[32], cbor_item_t *validation_results)
{
	cbor_item_t *m = cbor_new_definite_map(6);
	int ok = m != NULL;
	ok = ok && aimark__cbor_put(m, "dc:title", aimark__cbor_str(title)) == 0;
	ok = ok && aimark__cbor_put(m, "dc:format", aimark__cbor_str(mime)) == 0;
	ok = ok && aimark__cbor_put(m, "relationship", aimark__cbor_str("parentOf")) == 0;
	ok = ok && aimark__cbor_put(m, "validationResults", validation_results) == 0;
	validation_results = NULL;
	ok = ok && aimark__cbor_put(m, "activeManifest", aimark__c2pa_hashed_uri(manifest_url, manifest_hash)) == 0;
	ok = ok && aimark__cbor_put(m, "claimSignature", aimark__c2pa_hashed_uri(sig_url, sig_hash)) == 0;
	if (validation_results)
		cbor_decref(&validation_results);
	if (!ok && m)
		cbor_decref(&m);
	return m;
}

static cbor_item_t *data_hash_item(uint64_t start, uint64_t length, const unsigned char hash[32], size_t pad)
{
	static const unsigned char zeros[64] = { 0 };
	cbor_item_t *m = cbor_new_definite_map(5), *ex = cbor_new_definite_array(1), *range = cbor_new_definite_map(2);
	int ok = m && ex && range;
	ok = ok && aimark__cbor_put(range, "start", aimark__cbor_uint(start)) == 0 &&
	     aimark__cbor_put(range, "length", aimark__cbor_uint(length)) == 0 && cbor_array_push(ex, range);
	ok = ok && aimark__cbor_put(m, "exclusions", cbor_incref(ex)) == 0;
	ok = ok && aimark__cbor_put(m, "name", aimark__cbor_str("jumbf manifest")) == 0;
	ok = ok && aimark__cbor_put(m, "alg", aimark__cbor_str("sha256")) == 0;
	ok = ok && aimark__cbor_put(m, "hash", cbor_build_bytestring(hash, 32)) == 0;
	ok = ok && pad <= sizeof zeros && aimark__cbor_put(m, "pad", cbor_build_bytestring(zeros, pad)) == 0;
	if (range)
		cbor_decref(&range);
	if (ex)
		cbor_decref(&ex);
	if (!ok && m)
		cbor_decref(&m);
	return m;
}

static int encoded_size(const cbor_item_t *item, size_t *size)
{
	aimark_buf b = AIMARK_BUF_INIT;
	int rc = aimark__cbor_append(&b, item);
	*size = b.size;
	aimark_buf_dispose(&b);
	return rc;
}

cbor_item_t *aimark__c2pa_data_hash_cbor(uint64_t start, uint64_t length, const unsigned char hash[32], int placeholder)
{
	/* The placeholder uses the widest values we write, with no pad; the final
	 * assertion pads to the same encoded size so nothing moves. */
	if (placeholder)
		return data_hash_item(UINT32_MAX, UINT32_MAX, hash, 0);
	cbor_item_t *ref = data_hash_item(UINT32_MAX, UINT32_MAX, hash, 0);
	size_t target = 0;
	if (ref == NULL || encoded_size(ref, &target) < 0) {
		if (ref)
			cbor_decref(&ref);
		return NULL;
	}
	cbor_decref(&ref);
	for (size_t pad = 0; pad <= 23; pad++) {
		cbor_item_t *m = data_hash_item(start, length, hash, pad);
		size_t size = 0;
		if (m == NULL || encoded_size(m, &size) < 0) {
			if (m)
				cbor_decref(&m);
			return NULL;
		}
		if (size == target)
			return m;
		cbor_decref(&m);
	}
	aimark__error_set(AIMARK_ELIMIT, "C2PA: exclusion range beyond 4 GiB");
	return NULL;
}

cbor_item_t *aimark__c2pa_bmff_hash_cbor(const unsigned char hash[32])
{
	cbor_item_t *m = cbor_new_definite_map(4), *ex = cbor_new_definite_array(3);
	int ok = m && ex;
	static const char *const paths[] = { "/uuid", "/ftyp", "/mfra" };
	for (int i = 0; ok && i < 3; i++) {
		cbor_item_t *e = cbor_new_definite_map(2);
		ok = e && aimark__cbor_put(e, "xpath", aimark__cbor_str(paths[i])) == 0;
		if (ok && i == 0) {
			cbor_item_t *data = cbor_new_definite_array(1), *dm = cbor_new_definite_map(2);
			ok = data && dm && aimark__cbor_put(dm, "offset", aimark__cbor_uint(8)) == 0 &&
			     aimark__cbor_put(dm, "value", cbor_build_bytestring(aimark__c2pa_bmff_uuid, 16)) == 0 &&
			     cbor_array_push(data, dm);
			if (dm)
				cbor_decref(&dm);
			ok = ok && aimark__cbor_put(e, "data", data) == 0;
			data = NULL;
			if (data)
				cbor_decref(&data);
		}
		ok = ok && cbor_array_push(ex, e);
		if (e)
			cbor_decref(&e);
	}
	ok = ok && aimark__cbor_put(m, "exclusions", cbor_incref(ex)) == 0;
	ok = ok && aimark__cbor_put(m, "alg", aimark__cbor_str("sha256")) == 0;
	ok = ok && aimark__cbor_put(m, "hash", cbor_build_bytestring(hash, 32)) == 0;
	ok = ok && aimark__cbor_put(m, "name", aimark__cbor_str("jumbf manifest")) == 0;
	if (ex)
		cbor_decref(&ex);
	if (!ok && m)
		cbor_decref(&m);
	return m;
}

int aimark__c2pa_manifest_box(const aimark_c2pa_signer *signer, const char *label, const char *instance_id,
			      const aimark__c2pa_named_box *assertions, size_t n, int placeholder, aimark_buf *out)
{
	int rc = 0;
	aimark_buf claim = AIMARK_BUF_INIT, cose = AIMARK_BUF_INIT;
	char sig_url[600];
	snprintf(sig_url, sizeof sig_url, "self#jumbf=/c2pa/%s/c2pa.signature", label);
	cbor_item_t *c = cbor_new_definite_map(5), *list = cbor_new_definite_array(n);
	ENOMEM_IF(c && list);
	for (size_t i = 0; i < n; i++) {
		unsigned char h[32];
		char url[256];
		snprintf(url, sizeof url, "self#jumbf=c2pa.assertions/%s", assertions[i].label);
		if ((rc = aimark__c2pa_superbox_hash(assertions[i].box.ptr, assertions[i].box.size, h)) < 0)
			goto done;
		cbor_item_t *hu = aimark__c2pa_hashed_uri(url, h);
		int ok = hu && cbor_array_push(list, hu);
		if (hu)
			cbor_decref(&hu);
		ENOMEM_IF(ok);
	}
	cbor_item_t *cgi = software_agent();
	ENOMEM_IF(aimark__cbor_put(c, "instanceID", aimark__cbor_str(instance_id)) == 0 &&
		  aimark__cbor_put(c, "claim_generator_info", cgi) == 0 &&
		  aimark__cbor_put(c, "signature", aimark__cbor_str(sig_url)) == 0 &&
		  aimark__cbor_put(c, "created_assertions", cbor_incref(list)) == 0 &&
		  aimark__cbor_put(c, "alg", aimark__cbor_str("sha256")) == 0);
	if ((rc = aimark__cbor_append(&claim, c)) < 0)
		goto done;
	if ((rc = aimark__cose_sign(signer, claim.ptr, claim.size, placeholder, &cose)) < 0)
		goto done;

	unsigned char u[16];
	size_t top, sub, cb;
	aimark__jumbf_uuid(u, "c2ma");
	if ((rc = aimark__jumbf_begin(out, "jumb", &top)) < 0 || (rc = aimark__jumbf_put_jumd(out, u, label)) < 0)
		goto done;
	aimark__jumbf_uuid(u, "c2as");
	if ((rc = aimark__jumbf_begin(out, "jumb", &sub)) < 0 || (rc = aimark__jumbf_put_jumd(out, u, "c2pa.assertions")) < 0)
		goto done;
	for (size_t i = 0; i < n; i++)
		if ((rc = aimark__buf_append(out, assertions[i].box.ptr, assertions[i].box.size)) < 0)
			goto done;
	if ((rc = aimark__jumbf_end(out, sub)) < 0)
		goto done;
	aimark__jumbf_uuid(u, "c2cl");
	if ((rc = aimark__jumbf_begin(out, "jumb", &sub)) < 0 || (rc = aimark__jumbf_put_jumd(out, u, "c2pa.claim.v2")) < 0 ||
	    (rc = aimark__jumbf_begin(out, "cbor", &cb)) < 0 || (rc = aimark__buf_append(out, claim.ptr, claim.size)) < 0 ||
	    (rc = aimark__jumbf_end(out, cb)) < 0 || (rc = aimark__jumbf_end(out, sub)) < 0)
		goto done;
	aimark__jumbf_uuid(u, "c2cs");
	if ((rc = aimark__jumbf_begin(out, "jumb", &sub)) < 0 || (rc = aimark__jumbf_put_jumd(out, u, "c2pa.signature")) < 0 ||
	    (rc = aimark__jumbf_begin(out, "cbor", &cb)) < 0 || (rc = aimark__buf_append(out, cose.ptr, cose.size)) < 0 ||
	    (rc = aimark__jumbf_end(out, cb)) < 0 || (rc = aimark__jumbf_end(out, sub)) < 0)
		goto done;
	rc = aimark__jumbf_end(out, top);
done:
	if (c)
		cbor_decref(&c);
	if (list)
		cbor_decref(&list);
	aimark_buf_dispose(&claim);
	aimark_buf_dispose(&cose);
	return rc;
}

int aimark__c2pa_now_iso(char out[32])
{
	time_t t = time(NULL);
	struct tm tm;
	RETURN_IF(gmtime_r(&t, &tm) == NULL, AIMARK_EINVAL, "C2PA: no clock");
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return 0;
}

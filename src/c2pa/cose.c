/* COSE_Sign1 (RFC 9052) as C2PA uses it: detached payload (the claim), x5chain, RFC 3161 timestamps. */
#include <string.h>

#include "c2pa/c2pa_internal.h"
#include "core/internal.h"
#include "crypto/x509_c2pa.h"

void aimark__cose_dispose(aimark__cose *c)
{
	if (c->prot)
		cbor_decref(&c->prot);
	if (c->inner)
		cbor_decref(&c->inner);
	if (c->root)
		cbor_decref(&c->root);
	memset(c, 0, sizeof *c);
}

static int take_chain(aimark__cose *c, const cbor_item_t *v)
{
	size_t n;
	const unsigned char *b = aimark__cbor_bytes(v, &n);
	if (b) {
		c->certs[0] = b;
		c->cert_lens[0] = n;
		c->n_certs = 1;
		return 0;
	}
	RETURN_IF(!cbor_isa_array(v), AIMARK_EFORMAT, "COSE: x5chain is neither a byte string nor an array");
	size_t count = cbor_array_size(v);
	RETURN_IF(count == 0, AIMARK_EFORMAT, "COSE: empty x5chain");
	RETURN_IF(count > AIMARK__X509_MAX_CHAIN, AIMARK_ELIMIT, "COSE: x5chain of %zu certificates (at most %d)", count,
		  AIMARK__X509_MAX_CHAIN);
	for (size_t i = 0; i < count; i++) {
		b = aimark__cbor_bytes(cbor_array_handle(v)[i], &n);
		RETURN_IF(b == NULL, AIMARK_EFORMAT, "COSE: x5chain entry %zu is not a byte string", i);
		RETURN_IF(n > AIMARK__X509_MAX_CERT, AIMARK_ELIMIT, "COSE: certificate %zu of %zu bytes is too large", i, n);
		c->certs[i] = b;
		c->cert_lens[i] = n;
	}
	c->n_certs = count;
	return 0;
}

static const cbor_item_t *find_chain(const cbor_item_t *map)
{
	const cbor_item_t *v = aimark__cbor_get_int(map, 33);
	return v ? v : aimark__cbor_get(map, "x5chain");
}

static void take_tst(aimark__cose *c, const cbor_item_t *unprot)
{
	static const char *const keys[] = { "sigTst2", "sigTst" };
	for (int k = 0; k < 2; k++) {
		const cbor_item_t *t = aimark__cbor_get(unprot, keys[k]);
		const cbor_item_t *tokens = t ? aimark__cbor_get(t, "tstTokens") : NULL;
		if (tokens == NULL || !cbor_isa_array(tokens) || cbor_array_size(tokens) == 0)
			continue;
		const cbor_item_t *val = aimark__cbor_get(cbor_array_handle(tokens)[0], "val");
		size_t n;
		const unsigned char *b = aimark__cbor_bytes(val, &n);
		if (b) {
			c->tst = b;
			c->tst_len = n;
			c->tst_v2 = k == 0;
			return;
		}
	}
}

int aimark__cose_parse(aimark__cose *c, const unsigned char *data, size_t len)
{
	memset(c, 0, sizeof *c);
	/* libcbor 0.8 refuses tags 6..20 in the initial byte, COSE_Sign1's 0xD2 among them: strip it here */
	if (len > 0 && data[0] == 0xD2) {
		data++;
		len--;
	}
	int rc = aimark__cbor_load(data, len, "COSE_Sign1", &c->root);
	if (rc < 0)
		return rc;
	if (cbor_isa_tag(c->root)) {
		uint64_t tag = cbor_tag_value(c->root);
		if (tag != 18) {
			aimark__cose_dispose(c);
			return aimark__error_set(AIMARK_EFORMAT, "COSE: tag %llu is not COSE_Sign1 (18)", (unsigned long long)tag);
		}
		c->inner = cbor_tag_item(c->root);
	} else {
		c->inner = cbor_incref(c->root);
	}
	const cbor_item_t *a = c->inner;
	if (!cbor_isa_array(a) || cbor_array_size(a) != 4) {
		aimark__cose_dispose(c);
		return aimark__error_set(AIMARK_EFORMAT, "COSE: COSE_Sign1 is not an array of four items");
	}
	cbor_item_t **it = cbor_array_handle(a);
	c->protected_bytes = aimark__cbor_bytes(it[0], &c->protected_len);
	const cbor_item_t *unprot = it[1];
	c->sig = aimark__cbor_bytes(it[3], &c->sig_len);
	if (c->protected_bytes == NULL || !cbor_isa_map(unprot) || c->sig == NULL) {
		aimark__cose_dispose(c);
		return aimark__error_set(AIMARK_EFORMAT, "COSE: protected header, unprotected header or signature of the wrong type");
	}
	if (c->protected_len > 0) {
		rc = aimark__cbor_load(c->protected_bytes, c->protected_len, "COSE protected header", &c->prot);
		if (rc == 0 && !cbor_isa_map(c->prot))
			rc = aimark__error_set(AIMARK_EFORMAT, "COSE: the protected header is not a map");
		if (rc < 0) {
			aimark__cose_dispose(c);
			return rc;
		}
		c->have_alg = aimark__cbor_int(aimark__cbor_get_int(c->prot, 1), &c->alg);
	}
	const cbor_item_t *chain = c->prot ? find_chain(c->prot) : NULL;
	if (chain == NULL)
		chain = find_chain(unprot);
	if (chain)
		rc = take_chain(c, chain);
	if (rc < 0) {
		aimark__cose_dispose(c);
		return rc;
	}
	take_tst(c, unprot);
	return 0;
}

static int four_item_structure(const char *context, const unsigned char *prot, size_t prot_len, const void *data,
			       size_t data_len, aimark_buf *out)
{
	cbor_item_t *a = cbor_new_definite_array(4);
	cbor_item_t *items[4] = { aimark__cbor_str(context), cbor_build_bytestring(prot, prot_len),
				  cbor_build_bytestring((const unsigned char *)"", 0),
				  cbor_build_bytestring(data, data_len) };
	int ok = a != NULL;
	for (int i = 0; i < 4; i++) {
		ok = ok && items[i] && cbor_array_push(a, items[i]);
		if (items[i])
			cbor_decref(&items[i]);
	}
	int rc = ok ? aimark__cbor_append(out, a) : aimark__error_set(AIMARK_ENOMEM, "out of memory");
	if (a)
		cbor_decref(&a);
	return rc;
}

int aimark__cose_sig_structure(const unsigned char *prot, size_t prot_len, const void *payload, size_t payload_len,
			       aimark_buf *out)
{
	return four_item_structure("Signature1", prot, prot_len, payload, payload_len, out);
}

int aimark__cose_countersign_data(const unsigned char *prot, size_t prot_len, const void *data, size_t data_len,
				  aimark_buf *out)
{
	return four_item_structure("CounterSignature", prot, prot_len, data, data_len, out);
}

static int protected_header(const aimark_c2pa_signer *s, aimark_buf *out)
{
	cbor_item_t *m = cbor_new_definite_map(2);
	cbor_item_t *chain = NULL;
	size_t n = aimark__c2pa_signer_chain_count(s), len;
	int ok = m != NULL;
	if (ok && n == 1) {
		const unsigned char *der = aimark__c2pa_signer_chain_der(s, 0, &len);
		chain = cbor_build_bytestring(der, len);
	} else if (ok) {
		chain = cbor_new_definite_array(n);
		for (size_t i = 0; chain && i < n; i++) {
			const unsigned char *der = aimark__c2pa_signer_chain_der(s, i, &len);
			cbor_item_t *b = cbor_build_bytestring(der, len);
			ok = ok && b && cbor_array_push(chain, b);
			if (b)
				cbor_decref(&b);
		}
	}
	cbor_item_t *k1 = aimark__cbor_uint(1), *v1 = aimark__cbor_nint(aimark__c2pa_signer_alg(s)), *k33 = aimark__cbor_uint(33);
	ok = ok && chain && k1 && v1 && k33 && cbor_map_add(m, (struct cbor_pair){ .key = k1, .value = v1 }) &&
	     cbor_map_add(m, (struct cbor_pair){ .key = k33, .value = chain });
	int rc = ok ? aimark__cbor_append(out, m) : aimark__error_set(AIMARK_ENOMEM, "out of memory");
	cbor_item_t *all[] = { m, chain, k1, v1, k33 };
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		if (all[i])
			cbor_decref(&all[i]);
	return rc;
}

int aimark__cose_sign(const aimark_c2pa_signer *signer, const void *payload, size_t len, int placeholder, aimark_buf *out)
{
	aimark_buf prot = AIMARK_BUF_INIT, tbs = AIMARK_BUF_INIT, sig = AIMARK_BUF_INIT;
	int rc = protected_header(signer, &prot);
	if (rc == 0 && placeholder) {
		rc = aimark__buf_reserve(&sig, aimark__c2pa_signer_sig_len(signer));
		if (rc == 0) {
			memset(sig.ptr, 0, aimark__c2pa_signer_sig_len(signer));
			sig.size = aimark__c2pa_signer_sig_len(signer);
		}
	} else if (rc == 0) {
		rc = aimark__cose_sig_structure(prot.ptr, prot.size, payload, len, &tbs);
		if (rc == 0)
			rc = aimark__c2pa_sign(signer, tbs.ptr, tbs.size, &sig);
	}
	cbor_item_t *arr = NULL, *tag = NULL;
	cbor_item_t *items[4] = { NULL, NULL, NULL, NULL };
	if (rc == 0) {
		arr = cbor_new_definite_array(4);
		items[0] = cbor_build_bytestring(prot.ptr, prot.size);
		items[1] = cbor_new_definite_map(0);
		items[2] = cbor_new_null();
		items[3] = cbor_build_bytestring(sig.ptr ? sig.ptr : (const unsigned char *)"", sig.size);
		int ok = arr != NULL;
		for (int i = 0; i < 4; i++)
			ok = ok && items[i] && cbor_array_push(arr, items[i]);
		tag = ok ? cbor_build_tag(18, arr) : NULL;
		rc = tag ? aimark__cbor_append(out, tag) : aimark__error_set(AIMARK_ENOMEM, "out of memory");
	}
	for (int i = 0; i < 4; i++)
		if (items[i])
			cbor_decref(&items[i]);
	if (arr)
		cbor_decref(&arr);
	if (tag)
		cbor_decref(&tag);
	aimark_buf_dispose(&prot);
	aimark_buf_dispose(&tbs);
	aimark_buf_dispose(&sig);
	return rc;
}

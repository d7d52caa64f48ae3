/*
 * The two pipeline hooks: embedding a signed manifest into a labelled file,
 * and validating the manifest store a file carries.
 *
 * Embedding builds everything twice: once with placeholders of the final
 * sizes (hash, exclusion, signature) to fix the file layout, then with the
 * hard-binding hash of that layout and a real signature. Both passes give
 * byte-identical sizes, so the hash covers exactly the final file. The
 * carriers give the file as pieces (c2pa_out.c), so neither pass copies it.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "c2pa/c2pa_build.h"
#include "c2pa/c2pa_internal.h"
#include "c2pa/c2pa_stage.h"
#include "core/internal.h"
#include "core/io_internal.h"
#include "crypto/x509_c2pa.h"

typedef struct embed_plan {
	const aimark__c2pa_format *fmt;
	const aimark_c2pa_signer *signer;
	char label[64];
	char instance_id[64];
	aimark__c2pa_named_box boxes[4];
	size_t n_boxes;
	size_t binding;            /* index of the hard binding in boxes */
	cbor_item_t *binding_item; /* the placeholder binding (its exclusions drive the BMFF hash) */
	const aimark__c2pa_store *prev;
} embed_plan;

static void plan_dispose(embed_plan *p)
{
	for (size_t i = 0; i < p->n_boxes; i++)
		aimark_buf_dispose(&p->boxes[i].box);
	if (p->binding_item)
		cbor_decref(&p->binding_item);
}

static int add_box(embed_plan *p, const char *label, cbor_item_t *item)
{
	if (item == NULL)
		return aimark_error_last_code() < 0 ? aimark_error_last_code() : aimark__error_set(AIMARK_ENOMEM, "out of memory");
	aimark__c2pa_named_box *b = &p->boxes[p->n_boxes];
	memset(b, 0, sizeof *b);
	b->label = label;
	int rc = aimark__c2pa_assertion_box(label, item, &b->box);
	cbor_decref(&item);
	if (rc < 0) {
		aimark_buf_dispose(&b->box);
		return rc;
	}
	p->n_boxes++;
	return 0;
}

/* The whole store: the earlier manifests as they were, then ours. */
static int build_store(const embed_plan *p, int placeholder, aimark_buf *out)
{
	unsigned char u[16];
	size_t top;
	aimark__jumbf_uuid(u, "c2pa");
	RETURN_IF_ERR(aimark__jumbf_begin(out, "jumb", &top));
	RETURN_IF_ERR(aimark__jumbf_put_jumd(out, u, "c2pa"));
	if (p->prev) {
		const aimark__jumbf *j = &p->prev->j;
		for (size_t i = 0; i < p->prev->n; i++) {
			const aimark__jbox *b = &j->box[p->prev->m[i].box];
			RETURN_IF_ERR(aimark__buf_append(out, j->data + b->off, b->size));
		}
	}
	RETURN_IF_ERR(aimark__c2pa_manifest_box(p->signer, p->label, p->instance_id, p->boxes, p->n_boxes, placeholder, out));
	return aimark__jumbf_end(out, top);
}

static int ingredient_box(embed_plan *p, json_t *prev_report, unsigned char hash_out[32])
{
	const aimark__c2pa_store *s = p->prev;
	const aimark__c2pa_manifest *m = &s->m[s->n - 1];
	RETURN_IF(m->sig_box == AIMARK__JNONE, AIMARK_EFORMAT, "C2PA: the file's active manifest %s has no signature", m->label);
	unsigned char mh[32], sh[32];
	const aimark__jbox *mb = &s->j.box[m->box], *sb = &s->j.box[m->sig_box];
	RETURN_IF_ERR(aimark__c2pa_superbox_hash(s->j.data + mb->off, mb->size, mh));
	RETURN_IF_ERR(aimark__c2pa_superbox_hash(s->j.data + sb->off, sb->size, sh));
	char murl[600], surl[640];
	snprintf(murl, sizeof murl, "self#jumbf=/c2pa/%s", m->label);
	snprintf(surl, sizeof surl, "%s/c2pa.signature", murl);
	char *title = m->claim_item ? aimark__cbor_text(aimark__cbor_get(m->claim_item, "dc:title")) : NULL;
	cbor_item_t *vr = aimark__c2pa_validation_results_cbor(prev_report);
	cbor_item_t *ing = vr ? aimark__c2pa_ingredient_cbor(title ? title : "parent asset", p->fmt->mime, murl, mh, surl, sh, vr)
			      : NULL;
	aimark__free(title);
	RETURN_IF_ERR(add_box(p, "c2pa.ingredient.v3", ing));
	const aimark_buf *b = &p->boxes[p->n_boxes - 1].box;
	return aimark__c2pa_superbox_hash(b->ptr, b->size, hash_out);
}

static int hash_binding(embed_plan *p, const aimark__c2pa_out *file, uint64_t excl_start, uint64_t excl_len, int placeholder)
{
	unsigned char hash[64] = { 0 };
	size_t hlen = 32;
	char why[256] = "";
	if (!placeholder) {
		aimark_source *src = NULL;
		RETURN_IF_ERR(aimark__c2pa_out_source(file, &src));
		int rc;
		if (p->fmt->bmff) {
			rc = aimark__c2pa_bmff_hash(src, p->binding_item, 3, "sha256", hash, &hlen, why, sizeof why);
		} else {
			aimark__c2pa_range r = { excl_start, excl_len, 0 };
			rc = aimark__c2pa_hash_excluding(src, "sha256", &r, 1, hash, &hlen, why, sizeof why);
		}
		aimark_source_free(src);
		RETURN_IF_ERR(rc);
		RETURN_IF(rc > 0, AIMARK_EFORMAT, "C2PA: cannot hash the file: %s", why);
	}
	cbor_item_t *item = p->fmt->bmff ? aimark__c2pa_bmff_hash_cbor(hash)
					 : aimark__c2pa_data_hash_cbor(excl_start, excl_len, hash, placeholder);
	if (item == NULL)
		return aimark_error_last_code() < 0 ? aimark_error_last_code() : aimark__error_set(AIMARK_ENOMEM, "out of memory");
	aimark__c2pa_named_box *b = &p->boxes[p->binding];
	size_t old = b->box.size;
	aimark__buf_clear(&b->box);
	int rc = aimark__c2pa_assertion_box(b->label, item, &b->box);
	if (placeholder && rc == 0) {
		if (p->binding_item)
			cbor_decref(&p->binding_item);
		p->binding_item = item;
	} else {
		cbor_decref(&item);
	}
	RETURN_IF_ERR(rc);
	RETURN_IF(!placeholder && b->box.size != old, AIMARK_ECRYPTO, "C2PA: the hard binding changed size (%zu, %zu)", old,
		  b->box.size);
	return 0;
}

int aimark_c2pa_format_supported(const char *format)
{
	return format != NULL && aimark__c2pa_format_find(format) != NULL;
}

/* Builds the signed file as pieces in `result` (initialised by this function; the caller disposes it). */
static int embed_pieces(const char *format, const unsigned char *data, size_t len, const aimark_c2pa_signer *signer,
			const aimark_label *label, aimark_buf *store_keep, aimark__c2pa_out *result)
{
	aimark__c2pa_out_init(result, data, len, NULL, 0);
	RETURN_IF(data == NULL || signer == NULL, AIMARK_EINVAL, "C2PA: NULL argument");
	const aimark__c2pa_format *fmt = aimark__c2pa_format_find(format);
	RETURN_IF(fmt == NULL, AIMARK_EUNSUPPORTED,
		  "C2PA: format %s cannot carry a manifest (jpeg, png, webp, wav, mp3 and mp4 can)", format ? format : "(unknown)");

	embed_plan p;
	memset(&p, 0, sizeof p);
	p.fmt = fmt;
	p.signer = signer;
	aimark__c2pa_store prev;
	memset(&prev, 0, sizeof prev);
	json_t *prev_report = NULL;
	aimark_buf old = AIMARK_BUF_INIT, store = AIMARK_BUF_INIT;
	aimark__c2pa_out file;
	aimark__c2pa_out_init(&file, data, len, NULL, 0);
	aimark_source *src = NULL;
	char uuid[37], when[32];
	unsigned char ing_hash[32];
	int have_ing = 0;

	int rc = aimark_source_new_memory(&src, data, len);
	if (rc == 0)
		rc = fmt->extract(src, &old);
	if (rc == 0 && old.size > 0) {
		rc = aimark__c2pa_store_parse(&prev, &old);
		if (rc < 0)
			aimark__error_prefix("C2PA: the file's existing manifest store cannot be read");
		if (rc == 0) {
			p.prev = &prev;
			rc = aimark__c2pa_validate(&prev, src, format, NULL, &prev_report);
		}
	}
	if (rc == 0)
		rc = aimark__c2pa_uuid4(uuid);
	if (rc == 0) {
		snprintf(p.label, sizeof p.label, "urn:c2pa:%s", uuid);
		rc = aimark__c2pa_uuid4(uuid);
	}
	if (rc == 0) {
		snprintf(p.instance_id, sizeof p.instance_id, "xmp:iid:%s", uuid);
		rc = aimark__c2pa_now_iso(when);
	}
	if (rc == 0 && p.prev) {
		rc = ingredient_box(&p, prev_report, ing_hash);
		have_ing = rc == 0;
	}
	if (rc == 0)
		rc = add_box(&p, "c2pa.actions.v2",
			     aimark__c2pa_actions_cbor(when, have_ing ? "self#jumbf=c2pa.assertions/c2pa.ingredient.v3" : NULL,
						      have_ing ? ing_hash : NULL));
	if (rc == 0)
		rc = add_box(&p, AIMARK__C2PA_AIGC_LABEL, aimark__c2pa_aigc_cbor(label));
	if (rc == 0) {
		p.binding = p.n_boxes;
		p.boxes[p.n_boxes].label = fmt->bmff ? "c2pa.hash.bmff.v3" : "c2pa.hash.data";
		memset(&p.boxes[p.n_boxes].box, 0, sizeof(aimark_buf));
		p.n_boxes++;
		rc = hash_binding(&p, NULL, 0, 0, 1);
	}
	/* pass 1: the layout, with a placeholder store of the final size */
	uint64_t es = 0, el = 0, es2 = 0, el2 = 0;
	if (rc == 0)
		rc = build_store(&p, 1, &store);
	if (rc == 0) {
		aimark__c2pa_out_init(&file, data, len, store.ptr, store.size);
		rc = fmt->embed(data, len, store.ptr, store.size, &file, &es, &el);
	}
	/* pass 2: the hash of that layout, the signature, and the same layout again with the signed store.
	 * Only pieces are built, so embedding twice costs no copy of the file. */
	if (rc == 0)
		rc = hash_binding(&p, &file, es, el, 0);
	uint64_t file_size = file.size;
	if (rc == 0)
		rc = build_store(&p, 0, store_keep);
	if (rc == 0 && store_keep->size != store.size)
		rc = aimark__error_set(AIMARK_ECRYPTO, "C2PA: the manifest store changed size when signed (%zu, %zu)", store.size,
				       store_keep->size);
	if (rc == 0) {
		aimark__c2pa_out_init(result, data, len, store_keep->ptr, store_keep->size);
		rc = fmt->embed(data, len, store_keep->ptr, store_keep->size, result, &es2, &el2);
	}
	if (rc == 0 && (result->size != file_size || es2 != es || el2 != el))
		rc = aimark__error_set(AIMARK_ECRYPTO, "C2PA: the file layout changed between passes");

	plan_dispose(&p);
	aimark__c2pa_store_dispose(&prev);
	json_decref(prev_report);
	aimark_source_free(src);
	aimark_buf_dispose(&old);
	aimark_buf_dispose(&store);
	aimark__c2pa_out_dispose(&file);
	return rc;
}

int aimark__c2pa_embed(const char *format, const unsigned char *data, size_t len, const aimark_c2pa_signer *signer,
		       const aimark_label *label, aimark_buf *out)
{
	RETURN_IF(out == NULL, AIMARK_EINVAL, "C2PA: NULL argument");
	aimark_sink *sink = NULL;
	size_t before = out->size;
	RETURN_IF_ERR(aimark_sink_new_buffer(&sink, out));
	aimark__sink_expect(sink, (uint64_t)len + (64u << 10)); /* the file and a manifest: one allocation */
	int rc = aimark__c2pa_embed_to_sink(format, data, len, signer, label, sink);
	aimark_sink_free(sink);
	if (rc < 0 && out->ptr) { /* nothing half-written stays */
		out->size = before;
		out->ptr[before] = '\0';
	}
	return rc;
}

int aimark__c2pa_embed_to_sink(const char *format, const unsigned char *data, size_t len, const aimark_c2pa_signer *signer,
			       const aimark_label *label, aimark_sink *out)
{
	RETURN_IF(out == NULL, AIMARK_EINVAL, "C2PA: NULL argument");
	aimark_buf store = AIMARK_BUF_INIT;
	aimark__c2pa_out pieces;
	int rc = embed_pieces(format, data, len, signer, label, &store, &pieces);
	if (rc == 0)
		rc = aimark__c2pa_out_write(&pieces, out);
	aimark__c2pa_out_dispose(&pieces);
	aimark_buf_dispose(&store);
	return rc;
}

static int invalid_report(const char *why, json_t **out)
{
	json_t *r = json_pack("{s:b,s:s,s:n,s:n,s:{s:[],s:[],s:[{s:s,s:s,s:s}]},s:[]}", "present", 1, "state", "Invalid",
			      "active_manifest", "signer", "codes", "success", "informational", "failure", "code",
			      "claim.malformed", "url", "self#jumbf=/c2pa", "explanation", why, "ingredients");
	if (r == NULL) /* `why` not UTF-8 */
		r = json_pack("{s:b,s:s,s:n,s:n,s:{s:[],s:[],s:[{s:s,s:s}]},s:[]}", "present", 1, "state", "Invalid",
			      "active_manifest", "signer", "codes", "success", "informational", "failure", "code",
			      "claim.malformed", "url", "self#jumbf=/c2pa", "ingredients");
	RETURN_ENOMEM_IF_NULL(r);
	*out = r;
	return 0;
}

int aimark__c2pa_verify(aimark_source *src, const char *format, const char *trust_anchors_pem, json_t **out)
{
	RETURN_IF(out == NULL || src == NULL, AIMARK_EINVAL, "C2PA: NULL argument");
	*out = NULL;
	const aimark__c2pa_format *fmt = aimark__c2pa_format_find(format);
	if (fmt == NULL)
		return 0;
	RETURN_IF(trust_anchors_pem && access(trust_anchors_pem, R_OK) != 0, AIMARK_EIO,
		  "C2PA: cannot read the trust anchors %s", trust_anchors_pem);
	aimark_buf bytes = AIMARK_BUF_INIT;
	int rc = fmt->extract(src, &bytes);
	if (rc == AIMARK_EIO || rc == AIMARK_ENOMEM) {
		aimark_buf_dispose(&bytes);
		return rc;
	}
	if (rc < 0) {
		int present = bytes.size > 0 || rc == AIMARK_ELIMIT;
		aimark_buf_dispose(&bytes);
		if (!present) {
			aimark_error_clear();
			return 0;
		}
		char why[512];
		snprintf(why, sizeof why, "%s", aimark_error_last());
		aimark_error_clear();
		return invalid_report(why, out);
	}
	if (bytes.size == 0) {
		aimark_buf_dispose(&bytes);
		return 0;
	}
	aimark__c2pa_store s;
	rc = aimark__c2pa_store_parse(&s, &bytes);
	if (rc == AIMARK_ENOMEM)
		return rc;
	if (rc < 0) {
		char why[512];
		snprintf(why, sizeof why, "%s", aimark_error_last());
		aimark_error_clear();
		return invalid_report(why, out);
	}
	rc = aimark__c2pa_validate(&s, src, format, trust_anchors_pem, out);
	aimark__c2pa_store_dispose(&s);
	return rc;
}

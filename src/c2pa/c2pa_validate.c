/*
 * Validating a manifest store the way the C2PA reference validator
 * (c2pa-rs) does, with its status codes: claim signature and certificate,
 * timestamp, assertion hashed URIs, the hard binding to the asset, action
 * rules, and ingredient manifests (followed recursively).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "c2pa/c2pa_internal.h"
#include "core/internal.h"
#include "crypto/x509_c2pa.h"

typedef struct vlog {
	json_t *success, *informational, *failure;
} vlog;

typedef struct vctx {
	aimark__c2pa_store *s;
	aimark_source *src;
	const char *format;
	const char *anchors;
	json_t *ingredients;
	json_t *signer;
	unsigned char visited[AIMARK__C2PA_MAX_MANIFESTS];
	time_t now;
	int oom;
} vctx;

enum { SUCCESS, INFO, FAILURE };

__attribute__((format(printf, 6, 7)))
static void note(vctx *c, vlog *l, int kind, const char *code, const char *url, const char *fmt, ...)
{
	char expl[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(expl, sizeof expl, fmt, ap);
	va_end(ap);
	json_t *arr = kind == SUCCESS ? l->success : kind == INFO ? l->informational : l->failure;
	json_t *o = json_pack("{s:s}", "code", code);
	if (o == NULL || json_array_append_new(arr, o) < 0) {
		c->oom = 1;
		return;
	}
	/* url and explanation may hold any bytes from the file: fall back when not UTF-8 */
	json_t *u = json_string(url ? url : "");
	json_t *e = json_string(expl);
	json_object_set_new(o, "url", u ? u : json_string("(not UTF-8)"));
	json_object_set_new(o, "explanation", e ? e : json_string("(not UTF-8)"));
}

#define NOTE note

static int vlog_init(vlog *l)
{
	l->success = json_array();
	l->informational = json_array();
	l->failure = json_array();
	return l->success && l->informational && l->failure ? 0 : AIMARK_ENOMEM;
}

static json_t *vlog_object(vlog *l)
{
	return json_pack("{s:o,s:o,s:o}", "success", l->success, "informational", l->informational, "failure", l->failure);
}

static const char *claim_alg(const aimark__c2pa_manifest *m, char *buf, size_t cap)
{
	char *a = aimark__cbor_text(aimark__cbor_get(m->claim_item, "alg"));
	snprintf(buf, cap, "%s", a ? a : "sha256");
	aimark__free(a);
	return buf;
}

/* The assertion label a hashed URI names inside manifest `label`; NULL when it points elsewhere. */
static const char *assertion_label(const char *url, const char *label, int *outside)
{
	static const char rel[] = "self#jumbf=c2pa.assertions/";
	*outside = 0;
	if (strncmp(url, rel, sizeof rel - 1) == 0)
		return url + sizeof rel - 1;
	char m[512];
	if (aimark__c2pa_uri_manifest(url, m, sizeof m)) {
		const char *p = url + strlen("self#jumbf=/c2pa/") + strlen(m);
		if (strcmp(m, label) != 0) {
			*outside = 1;
			return NULL;
		}
		if (strncmp(p, "/c2pa.assertions/", 17) == 0)
			return p + 17;
	}
	return NULL;
}

static int has_prefix(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

/* ---- signature, certificate, timestamp ---- */

static void check_signature(vctx *c, const aimark__c2pa_manifest *m, vlog *l, int active, const char *sig_url)
{
	aimark__cose cose;
	if (aimark__cose_parse(&cose, m->sig, m->sig_len) < 0) {
		NOTE(c, l, FAILURE, "claimSignature.mismatch", sig_url, "claim signature is not valid: %s", aimark_error_last());
		aimark_error_clear();
		return;
	}
	if (cose.n_certs == 0) {
		NOTE(c, l, FAILURE, "signingCredential.invalid", sig_url, "no signing certificate (x5chain) in the signature");
		aimark__cose_dispose(&cose);
		return;
	}
	if (!cose.have_alg || aimark__cose_alg_name(cose.alg) == NULL) {
		NOTE(c, l, FAILURE, "algorithm.unsupported", sig_url, "unsupported or missing signature algorithm");
		aimark__cose_dispose(&cose);
		return;
	}
	const unsigned char *leaf = cose.certs[0];
	size_t leaf_len = cose.cert_lens[0];
	time_t when = c->now, tst_time = 0;
	int have_tst = 0;
	char why[256] = "", tsa[256] = "";

	if (cose.tst) {
		aimark_buf tbs = AIMARK_BUF_INIT, cs = AIMARK_BUF_INIT, tsa_certs = AIMARK_BUF_INIT;
		int rc = 0;
		if (cose.tst_v2) {
			cbor_item_t *b = cbor_build_bytestring(cose.sig, cose.sig_len);
			rc = b ? aimark__cbor_append(&tbs, b) : AIMARK_ENOMEM;
			if (b)
				cbor_decref(&b);
		} else {
			rc = aimark__buf_append(&tbs, m->claim, m->claim_len);
		}
		if (rc == 0)
			rc = aimark__cose_countersign_data(cose.protected_bytes, cose.protected_len, tbs.ptr, tbs.size, &cs);
		int r = rc == 0 ? aimark__x509_tst_check(cose.tst, cose.tst_len, cose.tst_v2, cs.ptr, cs.size, &tst_time, tsa,
							 sizeof tsa, &tsa_certs, why, sizeof why)
				: -1;
		if (rc < 0)
			c->oom = 1;
		if (r == 1) {
			have_tst = 1;
			when = tst_time;
			NOTE(c, l, SUCCESS, "timeStamp.validated", sig_url, "timestamp message digest matched: %s", tsa);
			int trusted = 0;
			if (m->claim_version == 1) {
				trusted = 1; /* the reference does not check TSA trust for v1 claims */
			} else if (c->anchors) {
				const unsigned char *certs[AIMARK__X509_MAX_CHAIN];
				size_t lens[AIMARK__X509_MAX_CHAIN], n = 0, pos = 0;
				while (pos + 4 <= tsa_certs.size && n < AIMARK__X509_MAX_CHAIN) {
					size_t len = aimark__be32(tsa_certs.ptr + pos);
					if (len > tsa_certs.size - pos - 4)
						break;
					certs[n] = tsa_certs.ptr + pos + 4;
					lens[n++] = len;
					pos += 4 + len;
				}
				char twhy[128];
				trusted = aimark__x509_chain_trusted(certs, lens, n, c->anchors, tst_time, twhy, sizeof twhy) == 1;
				aimark_error_clear();
			}
			if (trusted)
				NOTE(c, l, SUCCESS, "timeStamp.trusted", sig_url, "timestamp cert trusted: %s", tsa);
			else
				NOTE(c, l, INFO, "timeStamp.untrusted", sig_url, "timestamp cert untrusted: %s", tsa);
		} else if (r == 0) {
			NOTE(c, l, INFO, "timeStamp.mismatch", sig_url, "timestamp message imprint did not match");
		} else {
			NOTE(c, l, INFO, "timeStamp.malformed", sig_url, "%s", why);
		}
		aimark_buf_dispose(&tbs);
		aimark_buf_dispose(&cs);
		aimark_buf_dispose(&tsa_certs);
	}

	int profile = aimark__x509_profile_check(leaf, leaf_len, why, sizeof why);
	if (profile < 0) {
		NOTE(c, l, FAILURE, "signingCredential.invalid", sig_url, "signing certificate unreadable");
		aimark_error_clear();
	} else if (profile == 0) {
		NOTE(c, l, FAILURE, "signingCredential.invalid", sig_url, "signing certificate fails the C2PA profile: %s", why);
	}
	if (profile >= 0 && aimark__x509_valid_at(leaf, leaf_len, when) == 0)
		NOTE(c, l, FAILURE, "signingCredential.expired", sig_url, "signing certificate not valid at %s",
		     have_tst ? "the timestamp's time" : "the current time");
	NOTE(c, l, INFO, "signingCredential.ocsp.skipped", sig_url, "OCSP fetching skipped");

	int trusted = 0;
	if (c->anchors) {
		int t = aimark__x509_chain_trusted(cose.certs, cose.cert_lens, cose.n_certs, c->anchors, when, why, sizeof why);
		if (t < 0) {
			snprintf(why, sizeof why, "%s", aimark_error_last());
			aimark_error_clear();
		}
		trusted = t == 1;
	} else {
		snprintf(why, sizeof why, "no trust anchors given");
	}
	if (trusted)
		NOTE(c, l, SUCCESS, "signingCredential.trusted", sig_url, "signing certificate trusted");
	else
		NOTE(c, l, FAILURE, "signingCredential.untrusted", sig_url, "signing certificate untrusted: %s", why);

	aimark_buf tbs = AIMARK_BUF_INIT;
	int v = 0;
	if (aimark__cose_sig_structure(cose.protected_bytes, cose.protected_len, m->claim, m->claim_len, &tbs) == 0)
		v = aimark__c2pa_verify_sig(leaf, leaf_len, cose.alg, tbs.ptr, tbs.size, cose.sig, cose.sig_len);
	else
		c->oom = 1;
	aimark_buf_dispose(&tbs);
	if (v == 1) {
		NOTE(c, l, SUCCESS, "claimSignature.insideValidity", sig_url, "claim signature valid");
		NOTE(c, l, SUCCESS, "claimSignature.validated", sig_url, "claim signature valid");
	} else {
		aimark_error_clear();
		NOTE(c, l, FAILURE, "claimSignature.mismatch", sig_url, "claim signature is not valid");
	}

	if (active) {
		aimark__x509_info info;
		if (aimark__x509_info_get(leaf, leaf_len, &info) == 0) {
			json_t *sj = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:b}", "alg", aimark__cose_alg_name(cose.alg), "common_name",
					       info.common_name, "organization", info.organization, "issuer",
					       info.issuer_organization[0] ? info.issuer_organization : info.issuer_common_name,
					       "issuer_common_name", info.issuer_common_name, "serial_number", info.serial, "trusted",
					       trusted);
			if (sj && have_tst) {
				char t[32];
				struct tm tm;
				gmtime_r(&tst_time, &tm);
				strftime(t, sizeof t, "%Y-%m-%dT%H:%M:%SZ", &tm);
				json_object_set_new(sj, "time", json_string(t));
				json_object_set_new(sj, "timestamp_authority", json_string(tsa));
			}
			if (sj == NULL)
				c->oom = 1;
			json_decref(c->signer);
			c->signer = sj;
		} else {
			aimark_error_clear();
		}
	}
	aimark__cose_dispose(&cose);
}

/* ---- assertions ---- */

static const cbor_item_t *claim_list(const aimark__c2pa_manifest *m, int which)
{
	if (m->claim_version == 1)
		return which == 0 ? aimark__cbor_get(m->claim_item, "assertions") : NULL;
	return aimark__cbor_get(m->claim_item, which == 0 ? "created_assertions" : "gathered_assertions");
}

static void check_assertions(vctx *c, const aimark__c2pa_manifest *m, vlog *l, const char *murl, const char *alg,
			     unsigned char *referenced)
{
	const aimark__jumbf *j = &c->s->j;
	for (int which = 0; which < 2; which++) {
		const cbor_item_t *list = claim_list(m, which);
		if (list == NULL)
			continue;
		if (!cbor_isa_array(list)) {
			NOTE(c, l, FAILURE, "claim.malformed", murl, "the claim's assertion list is not an array");
			continue;
		}
		for (size_t i = 0; i < cbor_array_size(list); i++) {
			const cbor_item_t *h = cbor_array_handle(list)[i];
			char *url = aimark__cbor_text(aimark__cbor_get(h, "url"));
			char *halg = aimark__cbor_text(aimark__cbor_get(h, "alg"));
			size_t hlen = 0;
			const unsigned char *hash = aimark__cbor_bytes(aimark__cbor_get(h, "hash"), &hlen);
			int outside = 0;
			const char *label = url ? assertion_label(url, m->label, &outside) : NULL;
			char abs[1024];
			snprintf(abs, sizeof abs, "%s/c2pa.assertions/%s", murl, label ? label : (url ? url : "?"));
			if (outside) {
				NOTE(c, l, FAILURE, "assertion.outsideManifest", url, "assertion reference to external assertion store: %s", url);
			} else if (label == NULL || hash == NULL) {
				NOTE(c, l, FAILURE, "assertion.hashedURI.mismatch", url ? url : "", "malformed hashed URI in the claim");
			} else {
				size_t box = aimark__jumbf_child(j, m->astore, label);
				if (box == AIMARK__JNONE) {
					NOTE(c, l, FAILURE, "assertion.missing", abs, "cannot find matching assertion: %s", url);
				} else {
					size_t plen;
					const unsigned char *payload = aimark__jumbf_payload(j, box, &plen);
					unsigned char d[AIMARK__MD_MAX];
					size_t dlen = 0;
					if (aimark__md_oneshot(halg ? halg : alg, payload, plen, d, &dlen) < 0) {
						aimark_error_clear();
						NOTE(c, l, FAILURE, "algorithm.unsupported", abs, "unsupported hash algorithm");
					} else if (dlen == hlen && memcmp(d, hash, dlen) == 0) {
						NOTE(c, l, SUCCESS, "assertion.hashedURI.match", abs, "hashed uri matched: %s", url);
					} else {
						NOTE(c, l, FAILURE, "assertion.hashedURI.mismatch", abs, "hash does not match assertion data: %s", url);
					}
					if (referenced)
						referenced[box] = 1;
				}
			}
			aimark__free(url);
			aimark__free(halg);
		}
	}
	if (referenced && m->astore != AIMARK__JNONE) {
		for (size_t b = j->box[m->astore].first; b != AIMARK__JNONE; b = j->box[b].next) {
			if (j->box[b].type != AIMARK__4CC("jumb") || referenced[b])
				continue;
			char *lab = aimark__jumbf_label_dup(j, b);
			char abs[1024];
			snprintf(abs, sizeof abs, "%s/c2pa.assertions/%s", murl, lab ? lab : "");
			NOTE(c, l, FAILURE, "assertion.undeclared", abs, "assertion is not referenced by the claim");
			aimark__free(lab);
		}
	}
}

/* The CBOR of assertion superbox `box`, or NULL. */
static cbor_item_t *assertion_cbor(const aimark__jumbf *j, size_t box)
{
	size_t cb = aimark__jumbf_content(j, box, AIMARK__4CC("cbor"));
	if (cb == AIMARK__JNONE)
		return NULL;
	size_t n;
	const unsigned char *p = aimark__jumbf_payload(j, cb, &n);
	cbor_item_t *item = NULL;
	if (aimark__cbor_load(p, n, "assertion", &item) < 0)
		aimark_error_clear();
	return item;
}

static void check_data_hash(vctx *c, vlog *l, const cbor_item_t *a, const char *url, const char *claim_alg_name)
{
	if (aimark__cbor_get(a, "url")) {
		NOTE(c, l, FAILURE, "assertion.dataHash.mismatch", url, "remote data hash URIs are not supported");
		return;
	}
	char *alg = aimark__cbor_text(aimark__cbor_get(a, "alg"));
	size_t hlen = 0;
	const unsigned char *hash = aimark__cbor_bytes(aimark__cbor_get(a, "hash"), &hlen);
	const cbor_item_t *ex = aimark__cbor_get(a, "exclusions");
	size_t n = ex && cbor_isa_array(ex) ? cbor_array_size(ex) : 0;
	aimark__c2pa_range *r = aimark__calloc(n ? n : 1, sizeof *r);
	int bad = r == NULL || hash == NULL;
	for (size_t i = 0; !bad && i < n; i++) {
		int64_t s, len;
		const cbor_item_t *e = cbor_array_handle(ex)[i];
		if (!aimark__cbor_int(aimark__cbor_get(e, "start"), &s) || !aimark__cbor_int(aimark__cbor_get(e, "length"), &len) ||
		    s < 0 || len < 0)
			bad = 1;
		else
			r[i] = (aimark__c2pa_range){ (uint64_t)s, (uint64_t)len, 0 };
	}
	if (n > 1)
		NOTE(c, l, INFO, "assertion.dataHash.additionalExclusionsPresent", url, "extra data hash exclusions found");
	unsigned char d[AIMARK__MD_MAX];
	size_t dlen = 0;
	char why[256] = "";
	if (bad) {
		NOTE(c, l, FAILURE, "assertion.dataHash.malformed", url, "malformed data hash assertion");
	} else {
		int rc = aimark__c2pa_hash_excluding(c->src, alg ? alg : claim_alg_name, r, n, d, &dlen, why, sizeof why);
		if (rc < 0) {
			snprintf(why, sizeof why, "%s", aimark_error_last());
			aimark_error_clear();
		}
		if (rc == 0 && dlen == hlen && memcmp(d, hash, dlen) == 0)
			NOTE(c, l, SUCCESS, "assertion.dataHash.match", url, "data hash valid");
		else
			NOTE(c, l, FAILURE, "assertion.dataHash.mismatch", url, "asset hash error: %s",
			     why[0] ? why : "hashes do not match");
	}
	aimark__free(r);
	aimark__free(alg);
}

static void check_bmff_hash(vctx *c, vlog *l, const cbor_item_t *a, const char *label, const char *url, const char *calg)
{
	int version = 1;
	const char *v = strstr(label, ".v");
	if (v && v[2] >= '2' && v[2] <= '9')
		version = v[2] - '0';
	const cbor_item_t *ex = aimark__cbor_get(a, "exclusions");
	for (size_t i = 0; ex && cbor_isa_array(ex) && i < cbor_array_size(ex); i++) {
		char *xp = aimark__cbor_text(aimark__cbor_get(cbor_array_handle(ex)[i], "xpath"));
		int std = xp && (!strcmp(xp, "/uuid") || !strcmp(xp, "/ftyp") || !strcmp(xp, "/mfra") || !strcmp(xp, "/free") ||
				 !strcmp(xp, "/skip"));
		aimark__free(xp);
		if (!std) {
			NOTE(c, l, INFO, "assertion.bmffHash.additionalExclusionsPresent", url, "extra BMFF hash exclusion(s) found");
			break;
		}
	}
	size_t hlen = 0;
	const unsigned char *hash = aimark__cbor_bytes(aimark__cbor_get(a, "hash"), &hlen);
	if (hash == NULL) {
		NOTE(c, l, FAILURE, "assertion.bmffHash.mismatch", url, "BMFF hashes without a whole-file hash (Merkle trees) are not supported");
		return;
	}
	char *alg = aimark__cbor_text(aimark__cbor_get(a, "alg"));
	unsigned char d[AIMARK__MD_MAX];
	size_t dlen = 0;
	char why[256] = "";
	int rc = aimark__c2pa_bmff_hash(c->src, a, version, alg ? alg : calg, d, &dlen, why, sizeof why);
	if (rc < 0) {
		snprintf(why, sizeof why, "%s", aimark_error_last());
		aimark_error_clear();
	}
	if (rc == 0 && dlen == hlen && memcmp(d, hash, dlen) == 0)
		NOTE(c, l, SUCCESS, "assertion.bmffHash.match", url, "BMFF hash valid");
	else
		NOTE(c, l, FAILURE, "assertion.bmffHash.mismatch", url, "asset hash error: %s", why[0] ? why : "hashes do not match");
	aimark__free(alg);
}

static void check_hard_binding(vctx *c, const aimark__c2pa_manifest *m, vlog *l, const char *murl, const char *alg)
{
	const aimark__jumbf *j = &c->s->j;
	size_t count = 0;
	char mu[600];
	snprintf(mu, sizeof mu, "%s", murl);
	for (int pass = 0; pass < 2; pass++) {
		for (size_t b = m->astore == AIMARK__JNONE ? AIMARK__JNONE : j->box[m->astore].first; b != AIMARK__JNONE;
		     b = j->box[b].next) {
			char *label = aimark__jumbf_label_dup(j, b);
			if (label == NULL) {
				c->oom = 1;
				return;
			}
			size_t ll = strlen(label);
			int is_hash = (has_prefix(label, "c2pa.hash.data") || has_prefix(label, "c2pa.hash.bmff") ||
				       has_prefix(label, "c2pa.hash.boxes")) &&
				      !(ll >= 5 && strcmp(label + ll - 5, ".part") == 0);
			if (!is_hash) {
				aimark__free(label);
				continue;
			}
			if (pass == 0) {
				count++;
				aimark__free(label);
				continue;
			}
			char url[1024];
			snprintf(url, sizeof url, "%s/c2pa.assertions/%s", mu, label);
			cbor_item_t *a = assertion_cbor(j, b);
			if (c->src == NULL) {
				/* nothing to check against */
			} else if (a == NULL) {
				NOTE(c, l, FAILURE, has_prefix(label, "c2pa.hash.data") ? "assertion.dataHash.malformed" : "assertion.bmffHash.malformed",
				     url, "hash assertion is not readable CBOR");
			} else if (has_prefix(label, "c2pa.hash.data")) {
				check_data_hash(c, l, a, url, alg);
			} else if (has_prefix(label, "c2pa.hash.bmff")) {
				check_bmff_hash(c, l, a, label, url, alg);
			} else {
				NOTE(c, l, FAILURE, "assertion.boxesHash.mismatch", url, "box hashes are not supported by aimark");
			}
			if (a)
				cbor_decref(&a);
			aimark__free(label);
		}
		if (pass == 0 && count == 0) {
			NOTE(c, l, FAILURE, "claim.hardBindings.missing", mu, "claim missing data binding");
			return;
		}
		if (pass == 0 && count > 1)
			NOTE(c, l, FAILURE, "claim.hardBindings.multiple", mu, "claim has multiple data bindings");
	}
}

/* ---- actions (2.x claims) ---- */

static int ingredient_is_parent(vctx *c, const aimark__c2pa_manifest *m, const cbor_item_t *href)
{
	char *url = aimark__cbor_text(aimark__cbor_get(href, "url"));
	int outside = 0, ok = 0;
	const char *label = url ? assertion_label(url, m->label, &outside) : NULL;
	size_t box = label ? aimark__jumbf_child(&c->s->j, m->astore, label) : AIMARK__JNONE;
	if (box != AIMARK__JNONE && has_prefix(label, "c2pa.ingredient")) {
		cbor_item_t *ing = assertion_cbor(&c->s->j, box);
		char *rel = aimark__cbor_text(aimark__cbor_get(ing, "relationship"));
		ok = rel && strcmp(rel, "parentOf") == 0;
		aimark__free(rel);
		if (ing)
			cbor_decref(&ing);
	}
	aimark__free(url);
	return ok;
}

static void check_actions(vctx *c, const aimark__c2pa_manifest *m, vlog *l, const char *murl)
{
	const aimark__jumbf *j = &c->s->j;
	size_t boxes[64], n = 0;
	/* actions assertions in claim order: created first, then gathered */
	for (int which = 0; which < 2; which++) {
		const cbor_item_t *list = claim_list(m, which);
		for (size_t i = 0; list && cbor_isa_array(list) && i < cbor_array_size(list) && n < 64; i++) {
			char *url = aimark__cbor_text(aimark__cbor_get(cbor_array_handle(list)[i], "url"));
			int outside;
			const char *label = url ? assertion_label(url, m->label, &outside) : NULL;
			size_t box = label && has_prefix(label, "c2pa.actions") ? aimark__jumbf_child(j, m->astore, label) : AIMARK__JNONE;
			if (box != AIMARK__JNONE)
				boxes[n++] = box;
			aimark__free(url);
		}
	}
	int first_ok = 0;
	for (size_t k = 0; k < n; k++) {
		cbor_item_t *a = assertion_cbor(j, boxes[k]);
		char *label = aimark__jumbf_label_dup(j, boxes[k]);
		char url[1024];
		snprintf(url, sizeof url, "%s/c2pa.assertions/%s", murl, label ? label : "");
		aimark__free(label);
		const cbor_item_t *acts = aimark__cbor_get(a, "actions");
		if (acts == NULL || !cbor_isa_array(acts) || cbor_array_size(acts) == 0) {
			NOTE(c, l, FAILURE, "assertion.action.malformed", url, "actions must have action array");
			if (a)
				cbor_decref(&a);
			continue;
		}
		for (size_t i = 0; i < cbor_array_size(acts); i++) {
			const cbor_item_t *act = cbor_array_handle(acts)[i];
			char *name = aimark__cbor_text(aimark__cbor_get(act, "action"));
			int created = name && strcmp(name, "c2pa.created") == 0, opened = name && strcmp(name, "c2pa.opened") == 0;
			if (name == NULL || name[0] == '\0')
				NOTE(c, l, FAILURE, "assertion.action.malformed", url, "action must have an action");
			if (k == 0 && i == 0 && (created || opened))
				first_ok = 1;
			if (k > 0 && (created || opened))
				NOTE(c, l, FAILURE, "assertion.action.malformed", url, "created or opened must be in the first actions assertion");
			if (name && (opened || !strcmp(name, "c2pa.placed") || !strcmp(name, "c2pa.removed"))) {
				const cbor_item_t *params = aimark__cbor_get(act, "parameters");
				const cbor_item_t *one = aimark__cbor_get(params, "ingredient");
				const cbor_item_t *many = aimark__cbor_get(params, "ingredients");
				if (one == NULL && (many == NULL || !cbor_isa_array(many) || cbor_array_size(many) == 0)) {
					NOTE(c, l, FAILURE, "assertion.action.ingredientMismatch", url,
					     "opened, placed and removed items must have ingredient(s) parameters");
				} else if (opened) {
					int good = one ? ingredient_is_parent(c, m, one) : 0;
					for (size_t q = 0; !one && q < cbor_array_size(many); q++)
						good |= ingredient_is_parent(c, m, cbor_array_handle(many)[q]);
					if (!good)
						NOTE(c, l, FAILURE, "assertion.action.ingredientMismatch", url,
						     "opened must have valid ingredient with ParentOf relationship");
				}
			}
			aimark__free(name);
		}
		if (a)
			cbor_decref(&a);
	}
	if (!first_ok && !m->update)
		NOTE(c, l, FAILURE, "assertion.action.malformed", murl, "first action must be created or opened");
}

/* ---- one claim ---- */

static void validate_claim(vctx *c, size_t mi, vlog *l, int active)
{
	const aimark__c2pa_manifest *m = &c->s->m[mi];
	char murl[600], sig_url[640], alg[32];
	snprintf(murl, sizeof murl, "self#jumbf=/c2pa/%s", m->label);
	snprintf(sig_url, sizeof sig_url, "%s/c2pa.signature", murl);
	if (m->claim == NULL) {
		NOTE(c, l, FAILURE, "claim.missing", murl, "the manifest has no claim");
		return;
	}
	if (m->claim_version == 0) {
		NOTE(c, l, FAILURE, "claim.malformed", murl, "%s", m->claim_error);
		return;
	}
	claim_alg(m, alg, sizeof alg);
	if (aimark__md_size(alg) == 0) {
		NOTE(c, l, FAILURE, "algorithm.unsupported", murl, "claim hash algorithm %s is not supported", alg);
		return;
	}
	char *sigref = aimark__cbor_text(aimark__cbor_get(m->claim_item, "signature"));
	char ref_manifest[512];
	int sig_ok = sigref != NULL;
	if (sig_ok && aimark__c2pa_uri_manifest(sigref, ref_manifest, sizeof ref_manifest))
		sig_ok = strcmp(ref_manifest, m->label) == 0;
	if (sig_ok) {
		const char *slash = strrchr(sigref, '/');
		const char *eq = strrchr(sigref, '=');
		const char *name = slash ? slash + 1 : eq ? eq + 1 : sigref;
		sig_ok = strcmp(name, "c2pa.signature") == 0;
	}
	aimark__free(sigref);
	if (!sig_ok || m->sig == NULL)
		NOTE(c, l, FAILURE, "claimSignature.missing", sig_url, "signature missing");
	else
		check_signature(c, m, l, active, sig_url);

	unsigned char *referenced = aimark__calloc(c->s->j.n ? c->s->j.n : 1, 1);
	if (referenced == NULL) {
		c->oom = 1;
		return;
	}
	check_assertions(c, m, l, murl, alg, referenced);
	aimark__free(referenced);
	if (active && !m->update)
		check_hard_binding(c, m, l, murl, alg);
	if (m->claim_version >= 2)
		check_actions(c, m, l, murl);
}

/* ---- ingredients ---- */

static void validate_ingredients(vctx *c, size_t mi, int depth)
{
	if (depth > AIMARK__C2PA_MAX_INGREDIENT_DEPTH)
		return;
	const aimark__jumbf *j = &c->s->j;
	const aimark__c2pa_manifest *m = &c->s->m[mi];
	if (m->astore == AIMARK__JNONE)
		return;
	for (size_t b = j->box[m->astore].first; b != AIMARK__JNONE && !c->oom; b = j->box[b].next) {
		char *label = aimark__jumbf_label_dup(j, b);
		if (label == NULL || !has_prefix(label, "c2pa.ingredient")) {
			aimark__free(label);
			continue;
		}
		char uri[1024];
		snprintf(uri, sizeof uri, "self#jumbf=/c2pa/%s/c2pa.assertions/%s", m->label, label);
		int version = strstr(label, ".v3") ? 3 : strstr(label, ".v2") ? 2 : 1;
		aimark__free(label);
		cbor_item_t *ing = assertion_cbor(j, b);
		vlog l;
		if (vlog_init(&l) < 0) {
			c->oom = 1;
			if (ing)
				cbor_decref(&ing);
			json_decref(l.success);
			json_decref(l.informational);
			json_decref(l.failure);
			return;
		}
		char *rel = aimark__cbor_text(aimark__cbor_get(ing, "relationship"));
		char *title = aimark__cbor_text(aimark__cbor_get(ing, "dc:title"));
		const cbor_item_t *ref = aimark__cbor_get(ing, "activeManifest");
		if (ref == NULL)
			ref = aimark__cbor_get(ing, "c2pa_manifest");
		char target[512] = "";
		size_t ti = AIMARK__JNONE;
		if (ing == NULL) {
			NOTE(c, &l, FAILURE, "assertion.ingredient.malformed", uri, "ingredient assertion could not be parsed");
		} else if (rel && strcmp(rel, "inputTo") == 0) {
			/* the reference ignores inputTo ingredients */
		} else if (ref) {
			char *url = aimark__cbor_text(aimark__cbor_get(ref, "url"));
			char *ralg = aimark__cbor_text(aimark__cbor_get(ref, "alg"));
			size_t hlen = 0;
			const unsigned char *hash = aimark__cbor_bytes(aimark__cbor_get(ref, "hash"), &hlen);
			if (version >= 3 && aimark__cbor_get(ing, "validationResults") == NULL)
				NOTE(c, &l, FAILURE, "assertion.ingredient.malformed", uri, "ingredient V3 must have validation results");
			if (url && aimark__c2pa_uri_manifest(url, target, sizeof target))
				ti = aimark__c2pa_store_find(c->s, target);
			if (ti == AIMARK__JNONE) {
				NOTE(c, &l, FAILURE, "ingredient.manifest.missing", url ? url : uri, "ingredient not found");
			} else {
				char alg[32];
				size_t plen, dlen = 0;
				const unsigned char *payload = aimark__jumbf_payload(j, c->s->m[ti].box, &plen);
				unsigned char d[AIMARK__MD_MAX];
				const char *use = ralg ? ralg : (c->s->m[ti].claim_item ? claim_alg(&c->s->m[ti], alg, sizeof alg) : "sha256");
				int ok = hash && aimark__md_oneshot(use, payload, plen, d, &dlen) == 0 && dlen == hlen && memcmp(d, hash, dlen) == 0;
				aimark_error_clear();
				if (ok)
					NOTE(c, &l, SUCCESS, "ingredient.manifest.validated", url, "ingredient hash matched");
				else
					NOTE(c, &l, FAILURE, "ingredient.manifest.mismatch", url, "ingredient hash incorrect");
				if (!c->visited[ti]) {
					c->visited[ti] = 1;
					validate_claim(c, ti, &l, 0);
				}
			}
			aimark__free(url);
			aimark__free(ralg);
		} else {
			NOTE(c, &l, INFO, "ingredient.unknownProvenance", uri, "%s: ingredient does not have provenance",
			     title ? title : "no title");
		}
		json_t *e = json_pack("{s:s,s:s?,s:s?,s:s?,s:o}", "uri", uri, "title", title, "relationship", rel, "manifest",
				      ti == AIMARK__JNONE ? NULL : c->s->m[ti].label, "codes", vlog_object(&l));
		if (e == NULL || json_array_append_new(c->ingredients, e) < 0)
			c->oom = 1;
		aimark__free(rel);
		aimark__free(title);
		if (ing)
			cbor_decref(&ing);
		if (ti != AIMARK__JNONE && c->visited[ti] == 1) {
			c->visited[ti] = 2; /* its own ingredients once */
			validate_ingredients(c, ti, depth + 1);
		}
	}
}

/* ---- the report ---- */

static int any_failure(const json_t *codes, int ignore_untrusted)
{
	json_t *f = json_object_get(codes, "failure");
	size_t i;
	json_t *v;
	json_array_foreach(f, i, v) {
		const char *code = json_string_value(json_object_get(v, "code"));
		if (!ignore_untrusted || code == NULL || strcmp(code, "signingCredential.untrusted") != 0)
			return 1;
	}
	return 0;
}

static int has_code(const json_t *arr, const char *code)
{
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v) {
		const char *c = json_string_value(json_object_get(v, "code"));
		if (c && strcmp(c, code) == 0)
			return 1;
	}
	return 0;
}

/* The GB 45438 label our own custom assertion carries, for cross-checks. */
static json_t *aigc_assertion(vctx *c, const aimark__c2pa_manifest *m)
{
	size_t b = aimark__jumbf_child(&c->s->j, m->astore, AIMARK__C2PA_AIGC_LABEL);
	if (b == AIMARK__JNONE)
		return NULL;
	cbor_item_t *a = assertion_cbor(&c->s->j, b);
	json_t *j = a ? aimark__cbor_to_json(a, 0) : NULL;
	if (a)
		cbor_decref(&a);
	return j;
}

int aimark__c2pa_validate(aimark__c2pa_store *s, aimark_source *src, const char *format, const char *anchors, json_t **out)
{
	*out = NULL;
	vctx c;
	memset(&c, 0, sizeof c);
	c.s = s;
	c.src = src;
	c.format = format;
	c.anchors = anchors;
	c.now = time(NULL);
	c.ingredients = json_array();
	vlog l;
	int rc = vlog_init(&l);
	if (rc < 0 || c.ingredients == NULL) {
		json_decref(l.success);
		json_decref(l.informational);
		json_decref(l.failure);
		json_decref(c.ingredients);
		return aimark__error_set(AIMARK_ENOMEM, "out of memory");
	}
	size_t active = s->n - 1;
	c.visited[active] = 2;
	validate_claim(&c, active, &l, 1);
	validate_ingredients(&c, active, 0);
	const aimark__c2pa_manifest *m = &s->m[active];
	json_t *codes = vlog_object(&l);
	json_t *r = json_object();
	if (codes == NULL || r == NULL) {
		json_decref(codes);
		json_decref(r);
		json_decref(c.ingredients);
		json_decref(c.signer);
		return aimark__error_set(AIMARK_ENOMEM, "out of memory");
	}
	int invalid = any_failure(codes, 1), clean = !any_failure(codes, 0);
	size_t i;
	json_t *e;
	json_array_foreach(c.ingredients, i, e) {
		json_t *ic = json_object_get(e, "codes");
		invalid |= any_failure(ic, 1);
		clean &= !any_failure(ic, 0);
	}
	const char *state = invalid ? "Invalid"
				    : (clean && has_code(json_object_get(codes, "success"), "signingCredential.trusted")) ? "Trusted"
															    : "Valid";
	char *generator = NULL, *title = NULL;
	if (m->claim_item) {
		const cbor_item_t *cgi = aimark__cbor_get(m->claim_item, "claim_generator_info");
		if (cgi && cbor_isa_array(cgi) && cbor_array_size(cgi) > 0)
			cgi = cbor_array_handle(cgi)[0];
		generator = aimark__cbor_text(aimark__cbor_get(cgi, "name"));
		if (generator == NULL)
			generator = aimark__cbor_text(aimark__cbor_get(m->claim_item, "claim_generator"));
		title = aimark__cbor_text(aimark__cbor_get(m->claim_item, "dc:title"));
	}
	json_object_set_new(r, "present", json_true());
	json_object_set_new(r, "state", json_string(state));
	json_object_set_new(r, "active_manifest", json_string(m->label));
	json_object_set_new(r, "manifests", json_integer((json_int_t)s->n));
	json_object_set_new(r, "claim_version", json_integer(m->claim_version));
	json_object_set_new(r, "claim_generator", generator ? json_string(generator) : json_null());
	json_object_set_new(r, "title", title ? json_string(title) : json_null());
	json_object_set_new(r, "signer", c.signer ? c.signer : json_null());
	json_object_set_new(r, "codes", codes);
	json_object_set_new(r, "ingredients", c.ingredients);
	json_t *aigc = aigc_assertion(&c, m);
	if (aigc)
		json_object_set_new(r, "aigc", aigc);
	aimark__free(generator);
	aimark__free(title);
	if (c.oom) {
		json_decref(r);
		return aimark__error_set(AIMARK_ENOMEM, "out of memory");
	}
	*out = r;
	return 0;
}

cbor_item_t *aimark__c2pa_validation_results_cbor(const json_t *report)
{
	json_t *codes = json_object_get(report, "codes");
	json_t *deltas = json_array();
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(report, "ingredients"), i, e) {
		json_t *d = json_pack("{s:O,s:O}", "ingredientAssertionURI", json_object_get(e, "uri"), "validationDeltas",
				      json_object_get(e, "codes"));
		if (d)
			json_array_append_new(deltas, d);
	}
	json_t *vr = codes ? json_pack("{s:O}", "activeManifest", codes) : NULL;
	if (vr && deltas && json_array_size(deltas) > 0)
		json_object_set(vr, "ingredientDeltas", deltas);
	cbor_item_t *out = vr ? aimark__cbor_from_json(vr, 0) : NULL;
	json_decref(vr);
	json_decref(deltas);
	return out;
}

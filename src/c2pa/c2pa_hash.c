/*
 * Hard-binding digests over an asset: the data hash (byte ranges excluded)
 * and the BMFF hash (boxes excluded by path, with the 8-byte offset of each
 * hashed top-level box mixed in from version 2 on).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "c2pa/c2pa_internal.h"
#include "core/internal.h"
#include "core/io_internal.h"
#include "crypto/x509_c2pa.h"

const unsigned char aimark__c2pa_bmff_uuid[16] = { 0xd8, 0xfe, 0xc3, 0xd6, 0x1b, 0x0e, 0x48, 0x3c,
						   0x92, 0x97, 0x58, 0x28, 0x87, 0x7e, 0xc4, 0x81 };

#define CHUNK (256u << 10)
#define MAX_RANGES 100000
#define MAX_TOP_BOXES 100000

static int cmp_range(const void *a, const void *b)
{
	const aimark__c2pa_range *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return y->marker - x->marker; /* a marker goes before the bytes at the same offset */
}

static int feed(aimark_source *src, aimark__md *md, unsigned char *buf, uint64_t start, uint64_t len)
{
	const unsigned char *mem = aimark__source_memory(src);
	if (mem != NULL) /* the caller checked the range against the size */
		return aimark__md_update(md, mem + start, (size_t)len);
	while (len > 0) {
		size_t n = len > CHUNK ? CHUNK : (size_t)len;
		RETURN_IF_ERR(aimark_source_read(src, start, buf, n));
		RETURN_IF_ERR(aimark__md_update(md, buf, n));
		start += n;
		len -= n;
	}
	return 0;
}

/*
 * Hashes [0, size) minus `excl` (non-marker entries), inserting the markers.
 * Follows the C2PA reference: markers inside an included range split it;
 * markers outside every range are kept when they lie between the first
 * and the last included byte.
 */
static int hash_ranges(aimark_source *src, const char *alg, aimark__c2pa_range *excl, size_t n, unsigned char out[64],
		       size_t *out_len, char *why, size_t why_len)
{
	uint64_t size = aimark_source_size(src);
	for (size_t i = 0; i < n; i++) {
		if (excl[i].marker)
			continue;
		if (excl[i].start > size || excl[i].length > size - excl[i].start) {
			snprintf(why, why_len, "exclusion %llu+%llu passes the end of the file (%llu bytes)",
				 (unsigned long long)excl[i].start, (unsigned long long)excl[i].length, (unsigned long long)size);
			return 1;
		}
	}
	qsort(excl, n, sizeof *excl, cmp_range);
	/* included ranges: the complement of the exclusions */
	size_t cap = 2 * n + 2, m = 0;
	aimark__c2pa_range *inc = aimark__calloc(cap, sizeof *inc);
	RETURN_ENOMEM_IF_NULL(inc);
	uint64_t pos = 0;
	for (size_t i = 0; i < n; i++) {
		if (excl[i].marker || excl[i].length == 0)
			continue;
		if (excl[i].start > pos)
			inc[m++] = (aimark__c2pa_range){ pos, excl[i].start - pos, 0 };
		if (excl[i].start + excl[i].length > pos)
			pos = excl[i].start + excl[i].length;
	}
	if (pos < size)
		inc[m++] = (aimark__c2pa_range){ pos, size - pos, 0 };
	uint64_t first = m ? inc[0].start : 0, last = m ? inc[m - 1].start + inc[m - 1].length : 0;
	/* split at markers */
	for (size_t i = 0; i < n; i++) {
		if (!excl[i].marker)
			continue;
		uint64_t os = excl[i].start;
		int inside = 0;
		for (size_t k = 0; k < m; k++) {
			if (inc[k].marker || os < inc[k].start || os >= inc[k].start + inc[k].length)
				continue;
			inside = 1;
			if (os > inc[k].start) {
				if (m + 1 >= cap)
					break;
				uint64_t end = inc[k].start + inc[k].length;
				inc[k].length = os - inc[k].start;
				inc[m++] = (aimark__c2pa_range){ os, end - os, 0 };
			}
			break;
		}
		if (m + 1 >= cap) {
			aimark__free(inc);
			return aimark__error_set(AIMARK_ELIMIT, "C2PA: too many hash ranges");
		}
		if (inside || (os > first && os < last))
			inc[m++] = (aimark__c2pa_range){ os, 0, 1 };
	}
	qsort(inc, m, sizeof *inc, cmp_range);

	aimark__md *md = NULL;
	unsigned char *buf = aimark__malloc(CHUNK);
	int rc = buf ? aimark__md_new(&md, alg) : aimark__error_set(AIMARK_ENOMEM, "out of memory");
	for (size_t k = 0; rc == 0 && k < m; k++) {
		if (inc[k].marker) {
			unsigned char be[8];
			aimark__put_be32(be, (uint32_t)(inc[k].start >> 32));
			aimark__put_be32(be + 4, (uint32_t)inc[k].start);
			rc = aimark__md_update(md, be, 8);
		} else {
			rc = feed(src, md, buf, inc[k].start, inc[k].length);
		}
	}
	if (rc == 0)
		rc = aimark__md_final(md, out, out_len);
	aimark__md_free(md);
	aimark__free(buf);
	aimark__free(inc);
	return rc;
}

int aimark__c2pa_hash_excluding(aimark_source *src, const char *alg, const aimark__c2pa_range *excl, size_t n,
				unsigned char out[64], size_t *out_len, char *why, size_t why_len)
{
	RETURN_IF(n > MAX_RANGES, AIMARK_ELIMIT, "C2PA: more than %d exclusion ranges", MAX_RANGES);
	aimark__c2pa_range *copy = aimark__calloc(n ? n : 1, sizeof *copy);
	RETURN_ENOMEM_IF_NULL(copy);
	if (n)
		memcpy(copy, excl, n * sizeof *copy);
	int rc = hash_ranges(src, alg, copy, n, out, out_len, why, why_len);
	aimark__free(copy);
	return rc;
}

/* ---- BMFF ---- */

typedef struct bbox {
	uint64_t off, size, hdr;
	uint32_t type;
} bbox;

/* Reads the box header at `off` inside [off, end). 1 when it does not fit (stop walking). */
static int read_box(aimark_source *src, uint64_t off, uint64_t end, bbox *b)
{
	unsigned char h[16];
	if (end - off < 8 || aimark_source_read(src, off, h, 8) < 0) {
		aimark_error_clear();
		return 1;
	}
	uint64_t size = aimark__be32(h);
	b->type = aimark__be32(h + 4);
	b->hdr = 8;
	if (size == 1) {
		if (end - off < 16 || aimark_source_read(src, off + 8, h + 8, 8) < 0) {
			aimark_error_clear();
			return 1;
		}
		size = aimark__be64(h + 8);
		b->hdr = 16;
	} else if (size == 0) {
		size = end - off;
	}
	if (b->type == AIMARK__4CC("uuid"))
		b->hdr += 16;
	if (size < b->hdr || size > end - off)
		return 1;
	b->off = off;
	b->size = size;
	return 0;
}

typedef struct excl_list {
	aimark__c2pa_range *r;
	size_t n, cap;
} excl_list;

static int excl_add(excl_list *l, uint64_t start, uint64_t length, int marker)
{
	RETURN_IF(l->n >= MAX_RANGES, AIMARK_ELIMIT, "C2PA: more than %d BMFF hash ranges", MAX_RANGES);
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		aimark__c2pa_range *p = aimark__realloc(l->r, cap * sizeof *p);
		RETURN_ENOMEM_IF_NULL(p);
		l->r = p;
		l->cap = cap;
	}
	l->r[l->n++] = (aimark__c2pa_range){ start, length, marker };
	return 0;
}

/* Boxes matching `path` components [k..] under parent payload [start, end). */
static int match_path(aimark_source *src, char comps[][8], size_t ncomp, size_t k, uint64_t start, uint64_t end,
		      bbox *found, size_t *nfound, size_t cap)
{
	uint64_t pos = start;
	size_t guard = 0;
	bbox b;
	while (pos < end && read_box(src, pos, end, &b) == 0) {
		if (++guard > MAX_TOP_BOXES)
			break;
		if (memcmp(&comps[k][0], "", 1) != 0 && strlen(comps[k]) == 4 && b.type == AIMARK__4CC(comps[k])) {
			if (k + 1 == ncomp) {
				if (*nfound < cap)
					found[(*nfound)++] = b;
			} else {
				uint64_t inner = b.off + b.hdr + (b.type == AIMARK__4CC("meta") ? 4 : 0);
				if (inner <= b.off + b.size)
					RETURN_IF_ERR(match_path(src, comps, ncomp, k + 1, inner, b.off + b.size, found, nfound, cap));
			}
		}
		pos += b.size;
	}
	return 0;
}

static int data_matches(aimark_source *src, const bbox *b, const cbor_item_t *data)
{
	if (data == NULL || !cbor_isa_array(data))
		return 1;
	for (size_t i = 0; i < cbor_array_size(data); i++) {
		const cbor_item_t *dm = cbor_array_handle(data)[i];
		int64_t off;
		size_t n;
		const unsigned char *val = aimark__cbor_bytes(aimark__cbor_get(dm, "value"), &n);
		if (!aimark__cbor_int(aimark__cbor_get(dm, "offset"), &off) || val == NULL || off < 0 || n > 4096)
			return 0;
		if ((uint64_t)off > b->size || n > b->size - (uint64_t)off)
			return 0;
		unsigned char tmp[4096];
		if (aimark_source_read(src, b->off + (uint64_t)off, tmp, n) < 0) {
			aimark_error_clear();
			return 0;
		}
		if (memcmp(tmp, val, n) != 0)
			return 0;
	}
	return 1;
}

int aimark__c2pa_bmff_hash(aimark_source *src, const cbor_item_t *assertion, int version, const char *alg,
			   unsigned char out[64], size_t *out_len, char *why, size_t why_len)
{
	const cbor_item_t *exclusions = aimark__cbor_get(assertion, "exclusions");
	if (exclusions == NULL || !cbor_isa_array(exclusions)) {
		snprintf(why, why_len, "BMFF hash without an exclusion list");
		return 1;
	}
	uint64_t size = aimark_source_size(src);
	/* top-level boxes, for the offset markers */
	excl_list tops = { 0 }, ex = { 0 };
	uint64_t pos = 0;
	bbox b;
	int rc = 0;
	while (rc == 0 && pos < size && read_box(src, pos, size, &b) == 0) {
		rc = excl_add(&tops, b.off, b.size, 1);
		pos += b.size;
	}
	for (size_t i = 0; rc == 0 && i < cbor_array_size(exclusions); i++) {
		const cbor_item_t *e = cbor_array_handle(exclusions)[i];
		char *xpath = aimark__cbor_text(aimark__cbor_get(e, "xpath"));
		char comps[8][8];
		size_t ncomp = 0;
		int bad = xpath == NULL || xpath[0] != '/';
		for (char *p = xpath ? xpath + 1 : NULL; !bad && p && *p;) {
			size_t l = strcspn(p, "/");
			if (l == 0 || l > 7 || ncomp == 8) {
				bad = 1;
				break;
			}
			memcpy(comps[ncomp], p, l);
			comps[ncomp++][l] = '\0';
			p += l + (p[l] == '/');
		}
		aimark__free(xpath);
		if (bad || ncomp == 0)
			continue; /* a path aimark cannot resolve excludes nothing */
		bbox found[64];
		size_t nfound = 0;
		rc = match_path(src, comps, ncomp, 0, 0, size, found, &nfound, 64);
		int64_t want_len = -1, want_version = -1, v;
		if (aimark__cbor_int(aimark__cbor_get(e, "length"), &v))
			want_len = v;
		if (aimark__cbor_int(aimark__cbor_get(e, "version"), &v))
			want_version = v;
		size_t flen = 0;
		const unsigned char *flags = aimark__cbor_bytes(aimark__cbor_get(e, "flags"), &flen);
		const cbor_item_t *exact = aimark__cbor_get(e, "exact");
		int is_exact = !(exact && cbor_is_bool(exact) && !cbor_get_bool(exact));
		const cbor_item_t *subset = aimark__cbor_get(e, "subset");
		for (size_t f = 0; rc == 0 && f < nfound; f++) {
			const bbox *fb = &found[f];
			if (want_len >= 0 && (uint64_t)want_len != fb->size)
				continue;
			if (want_version >= 0 || flags) {
				unsigned char vf[4];
				if (fb->size - fb->hdr < 4 || aimark_source_read(src, fb->off + fb->hdr, vf, 4) < 0) {
					aimark_error_clear();
					continue;
				}
				if (want_version >= 0 && vf[0] != want_version)
					continue;
				if (flags && flen >= 3) {
					uint32_t want = ((uint32_t)flags[0] << 16) | ((uint32_t)flags[1] << 8) | flags[2];
					uint32_t have = ((uint32_t)vf[1] << 16) | ((uint32_t)vf[2] << 8) | vf[3];
					if (is_exact ? want != have : (want | have) != want)
						continue;
				}
			}
			if (!data_matches(src, fb, aimark__cbor_get(e, "data")))
				continue;
			if (subset && cbor_isa_array(subset)) {
				for (size_t s = 0; rc == 0 && s < cbor_array_size(subset); s++) {
					int64_t so = 0, sl = 0;
					const cbor_item_t *sm = cbor_array_handle(subset)[s];
					if (!aimark__cbor_int(aimark__cbor_get(sm, "offset"), &so) ||
					    !aimark__cbor_int(aimark__cbor_get(sm, "length"), &sl) || so < 0 || sl < 0)
						continue;
					if ((uint64_t)so > fb->size)
						continue;
					uint64_t len = sl == 0 ? fb->size - (uint64_t)so
							       : ((uint64_t)sl < fb->size - (uint64_t)so ? (uint64_t)sl : fb->size - (uint64_t)so);
					rc = excl_add(&ex, fb->off + (uint64_t)so, len, 0);
				}
			} else {
				rc = excl_add(&ex, fb->off, fb->size, 0);
				/* a wholly excluded top-level box gets no offset marker */
				for (size_t t = 0; t < tops.n; t++)
					if (tops.r[t].start == fb->off)
						tops.r[t].length = UINT64_MAX;
			}
		}
	}
	if (rc == 0 && version >= 2)
		for (size_t t = 0; rc == 0 && t < tops.n; t++)
			if (tops.r[t].length != UINT64_MAX)
				rc = excl_add(&ex, tops.r[t].start, 1, 1);
	if (rc == 0)
		rc = hash_ranges(src, alg, ex.r, ex.n, out, out_len, why, why_len);
	aimark__free(tops.r);
	aimark__free(ex.r);
	return rc;
}

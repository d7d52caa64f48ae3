/*
 * Shared by the files of src/c2pa/: JUMBF boxes, CBOR helpers, COSE_Sign1,
 * the parsed manifest store, validation and the per-format carriers.
 */
#ifndef AIMARK_C2PA_INTERNAL_H
#define AIMARK_C2PA_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <cbor.h>
#include <jansson.h>

#include "aimark/c2pa.h"
#include "aimark/io.h"
#include "aimark/label.h"

/* ---- limits for hostile input ---- */
#define AIMARK__C2PA_MAX_STORE (64u << 20)   /* bytes of one manifest store */
#define AIMARK__JUMBF_MAX_DEPTH 12           /* superbox nesting */
#define AIMARK__JUMBF_MAX_BOXES 65536        /* boxes in one store */
#define AIMARK__CBOR_MAX_DEPTH 32            /* CBOR nesting */
#define AIMARK__C2PA_MAX_MANIFESTS 256       /* manifests in one store */
#define AIMARK__C2PA_MAX_INGREDIENT_DEPTH 16 /* ingredient chains followed */

#define AIMARK__JNONE ((size_t)-1)

/* ---- JUMBF (ISO/IEC 19566-5) ---- */
#define AIMARK__4CC(s) (((uint32_t)(unsigned char)(s)[0] << 24) | ((uint32_t)(unsigned char)(s)[1] << 16) | \
			((uint32_t)(unsigned char)(s)[2] << 8) | (uint32_t)(unsigned char)(s)[3])

typedef struct aimark__jbox {
	uint32_t type;
	size_t off, size, hdr;       /* within the store bytes: whole box, header length */
	size_t parent, first, next;  /* tree links (AIMARK__JNONE when absent) */
	/* superboxes ('jumb') only: their description box */
	unsigned char uuid[16];
	unsigned char toggles;
	int has_label;
	size_t label_off, label_len;
	int has_salt;
	size_t salt_off, salt_len;
} aimark__jbox;

typedef struct aimark__jumbf {
	const unsigned char *data;
	size_t len;
	aimark__jbox *box;
	size_t n, cap;
} aimark__jumbf;

/* Parses one top-level superbox spanning all of `data` (borrowed). AIMARK_EFORMAT names the problem and offset. */
int aimark__jumbf_parse(aimark__jumbf *j, const unsigned char *data, size_t len);
void aimark__jumbf_dispose(aimark__jumbf *j);
/* 1 when superbox `i` carries exactly this label. */
int aimark__jumbf_label_is(const aimark__jumbf *j, size_t i, const char *label);
/* Copies the label of superbox `i` into a new string ("" when none); NULL on ENOMEM. */
char *aimark__jumbf_label_dup(const aimark__jumbf *j, size_t i);
/* The child superbox of `parent` with `label`, or AIMARK__JNONE. */
size_t aimark__jumbf_child(const aimark__jumbf *j, size_t parent, const char *label);
/* The first child content box of `parent` with `type`, or AIMARK__JNONE. */
size_t aimark__jumbf_content(const aimark__jumbf *j, size_t parent, uint32_t type);
/* The bytes after box `i`'s header. */
const unsigned char *aimark__jumbf_payload(const aimark__jumbf *j, size_t i, size_t *len);
/* 1 when the superbox's type UUID is the C2PA form of `four` ("c2ma", "cbor", ...). */
int aimark__jumbf_is(const aimark__jumbf *j, size_t i, const char *four);

/* Writing: the UUID XXXX-0011-0010-8000-00AA00389B71 for a four-character type. */
void aimark__jumbf_uuid(unsigned char out[16], const char *four);
/* Starts a box of `type` (its length is patched by end). */
int aimark__jumbf_begin(aimark_buf *b, const char *type, size_t *start);
int aimark__jumbf_end(aimark_buf *b, size_t start);
/* A description box: the UUID, toggles 0x03 (requestable, labelled), the label. */
int aimark__jumbf_put_jumd(aimark_buf *b, const unsigned char uuid[16], const char *label);
/* A whole content box. */
int aimark__jumbf_put_box(aimark_buf *b, const char *type, const void *data, size_t len);

/* ---- CBOR (libcbor, behind a bounded well-formedness scan) ---- */
/* Checks that `data` is exactly one well-formed item within the depth limit, then decodes it. */
int aimark__cbor_load(const unsigned char *data, size_t len, const char *what, cbor_item_t **out);
/* Only the scan: 0 or AIMARK_EFORMAT; *consumed gets the item's length. */
int aimark__cbor_scan(const unsigned char *data, size_t len, size_t *consumed, char *why, size_t why_len);
/* Serialises `item` and appends it to `out`. */
int aimark__cbor_append(aimark_buf *out, const cbor_item_t *item);
/* Map lookup by text key; NULL when absent or `map` is not a map. */
cbor_item_t *aimark__cbor_get(const cbor_item_t *map, const char *key);
/* Map lookup by integer key (COSE headers). */
cbor_item_t *aimark__cbor_get_int(const cbor_item_t *map, int64_t key);
/* A text item copied into a new NUL-terminated string (NULL when not definite text, or ENOMEM). */
char *aimark__cbor_text(const cbor_item_t *item);
/* Definite byte string contents, or NULL. */
const unsigned char *aimark__cbor_bytes(const cbor_item_t *item, size_t *len);
/* Integer value (either sign) into *v: 1 when it is an integer, else 0. */
int aimark__cbor_int(const cbor_item_t *item, int64_t *v);
/* Builders (NULL on ENOMEM; the caller checks). Integers use the shortest encoding. */
cbor_item_t *aimark__cbor_uint(uint64_t v);
cbor_item_t *aimark__cbor_nint(int64_t v);
cbor_item_t *aimark__cbor_str(const char *s);
/* Adds key -> value to a map, taking the value's reference; 0 or AIMARK_ENOMEM (value released either way). */
int aimark__cbor_put(cbor_item_t *map, const char *key, cbor_item_t *value);
/* Converts a JSON value (objects, arrays, strings, numbers, booleans, null) to CBOR. */
cbor_item_t *aimark__cbor_from_json(const json_t *v, int depth);
/* Converts CBOR to JSON for reports (byte strings as lowercase hex); NULL when too deep or ENOMEM. */
json_t *aimark__cbor_to_json(const cbor_item_t *item, int depth);

/* ---- COSE_Sign1 ---- */
typedef struct aimark__cose {
	cbor_item_t *root, *inner, *prot;  /* decoded items (owned) */
	const unsigned char *protected_bytes;
	size_t protected_len;
	int64_t alg;
	int have_alg;
	const unsigned char *certs[16];    /* x5chain, leaf first */
	size_t cert_lens[16];
	size_t n_certs;
	const unsigned char *sig;
	size_t sig_len;
	/* timestamp: sigTst2 (token) preferred over sigTst (response) */
	const unsigned char *tst;
	size_t tst_len;
	int tst_v2;
} aimark__cose;

/* Parses a COSE_Sign1 (tag 18 optional). AIMARK_EFORMAT with a message on malformed input. */
int aimark__cose_parse(aimark__cose *c, const unsigned char *data, size_t len);
void aimark__cose_dispose(aimark__cose *c);
/* ["Signature1", protected, h'', payload] as CBOR. */
int aimark__cose_sig_structure(const unsigned char *prot, size_t prot_len, const void *payload, size_t payload_len,
			       aimark_buf *out);
/* ["CounterSignature", protected, h'', data] as CBOR (RFC 3161 imprint input). */
int aimark__cose_countersign_data(const unsigned char *prot, size_t prot_len, const void *data, size_t data_len,
				  aimark_buf *out);
/*
 * Builds a signed COSE_Sign1 over `payload` (detached): protected {1: alg,
 * 33: x5chain}, empty unprotected map. With `placeholder` set the signature
 * is zeros of the final length (for sizing).
 */
int aimark__cose_sign(const aimark_c2pa_signer *signer, const void *payload, size_t len, int placeholder, aimark_buf *out);

/* ---- the parsed manifest store ---- */
typedef struct aimark__c2pa_manifest {
	size_t box;
	char *label;
	int update;                        /* an update manifest (c2um) */
	size_t astore, claim_box, sig_box; /* superboxes, AIMARK__JNONE when absent */
	const unsigned char *claim;        /* claim CBOR bytes */
	size_t claim_len;
	const unsigned char *sig;          /* COSE_Sign1 bytes */
	size_t sig_len;
	int claim_version;                 /* 1 or 2; 0 when unreadable */
	cbor_item_t *claim_item;
	char claim_error[160];             /* why the claim is unusable ("" when fine) */
} aimark__c2pa_manifest;

typedef struct aimark__c2pa_store {
	aimark_buf bytes;
	aimark__jumbf j;
	aimark__c2pa_manifest *m;
	size_t n;
} aimark__c2pa_store;

/* Parses the store in `bytes` (moved in). AIMARK_EFORMAT when it is not a C2PA manifest store. */
int aimark__c2pa_store_parse(aimark__c2pa_store *s, aimark_buf *bytes);
void aimark__c2pa_store_dispose(aimark__c2pa_store *s);
/* Index of the manifest with `label`, or AIMARK__JNONE. */
size_t aimark__c2pa_store_find(const aimark__c2pa_store *s, const char *label);
/* The label named by a "self#jumbf=/c2pa/<label>[/...]" URI, copied into `out`; 0 when it is not one. */
int aimark__c2pa_uri_manifest(const char *uri, char *out, size_t cap);

/* ---- a carrier's output: pieces of the input, of the store and of its own bytes (c2pa_out.c) ---- */
typedef struct aimark__c2pa_piece {
	int kind;      /* input, store or own bytes */
	size_t from;   /* offset in that buffer */
	uint64_t at;   /* offset in the output */
	size_t len;
} aimark__c2pa_piece;

typedef struct aimark__c2pa_out {
	const unsigned char *input, *store; /* borrowed; must outlive the pieces */
	size_t input_len, store_len;
	aimark_buf own;                     /* bytes the carrier made */
	aimark__c2pa_piece *piece;
	size_t n, cap;
	uint64_t size;                      /* output bytes so far */
} aimark__c2pa_out;

void aimark__c2pa_out_init(aimark__c2pa_out *o, const unsigned char *input, size_t input_len, const unsigned char *store,
			   size_t store_len);
void aimark__c2pa_out_dispose(aimark__c2pa_out *o);
/* Appends bytes: a reference when they lie inside the input or the store, else a copy. */
int aimark__c2pa_out_append(aimark__c2pa_out *o, const void *data, size_t n);
/* Appends a copy even of input bytes: for bytes the carrier patches later through own_at. */
int aimark__c2pa_out_append_copy(aimark__c2pa_out *o, const void *data, size_t n);
/* Writable pointer to output bytes [pos, pos+n) when they are one piece of copied bytes, else NULL. */
unsigned char *aimark__c2pa_out_own_at(aimark__c2pa_out *o, uint64_t pos, size_t n);
/* A source reading the output (borrows `o`). */
int aimark__c2pa_out_source(const aimark__c2pa_out *o, aimark_source **src);
int aimark__c2pa_out_write(const aimark__c2pa_out *o, aimark_sink *sink);

/* ---- per-format carriers ---- */
typedef struct aimark__c2pa_format {
	const char *name;   /* aimark format name */
	const char *mime;
	int bmff;           /* bound with c2pa.hash.bmff.v3 instead of c2pa.hash.data */
	/* Copies the manifest store into `store` (left empty when there is none). AIMARK_EFORMAT when malformed. */
	int (*extract)(aimark_source *src, aimark_buf *store);
	/*
	 * Appends `data` with `store` embedded to `out` (initialised over `data`
	 * and `store`), dropping any store the file carries. Data-hash formats
	 * give the range to exclude (the store and its container framing).
	 */
	int (*embed)(const unsigned char *data, size_t len, const unsigned char *store, size_t store_len,
		     aimark__c2pa_out *out, uint64_t *excl_start, uint64_t *excl_len);
} aimark__c2pa_format;

const aimark__c2pa_format *aimark__c2pa_format_find(const char *name);

extern const aimark__c2pa_format aimark__c2pa_format_jpeg, aimark__c2pa_format_png, aimark__c2pa_format_wav,
	aimark__c2pa_format_webp, aimark__c2pa_format_mp3, aimark__c2pa_format_mp4;

/* ---- asset hashing ---- */
typedef struct aimark__c2pa_range {
	uint64_t start, length;
	int marker; /* a BMFF offset marker: hash the 8-byte big-endian start instead of bytes */
} aimark__c2pa_range;

/* Hashes `src` without the exclusion ranges (any order, may overlap). AIMARK_EFORMAT when one passes the end. */
int aimark__c2pa_hash_excluding(aimark_source *src, const char *alg, const aimark__c2pa_range *excl, size_t n,
				unsigned char out[64], size_t *out_len, char *why, size_t why_len);
/*
 * BMFF hash (c2pa.hash.bmff, .v2 with offset markers, .v3) of `src` under
 * the assertion's exclusion list. Returns 0 with the digest, 1 when the
 * assertion cannot be evaluated (`why`), < 0 on I/O errors.
 */
int aimark__c2pa_bmff_hash(aimark_source *src, const cbor_item_t *assertion, int version, const char *alg,
			   unsigned char out[64], size_t *out_len, char *why, size_t why_len);
/* The UUID of the C2PA 'uuid' box in BMFF files. */
extern const unsigned char aimark__c2pa_bmff_uuid[16];

/* ---- validation ---- */
/*
 * Validates the store against the asset in `src` (may be NULL: hard
 * bindings are then not checked). Sets *out to the report object
 * described in c2pa_stage.h. Returns 0 or AIMARK_ENOMEM / AIMARK_EIO.
 */
int aimark__c2pa_validate(aimark__c2pa_store *s, aimark_source *src, const char *format, const char *anchors,
			  json_t **out);
/* {"activeManifest": {success, informational, failure}} of a report, as CBOR for an ingredient v3. */
cbor_item_t *aimark__c2pa_validation_results_cbor(const json_t *report);

/* ---- building our manifest ---- */
#define AIMARK__C2PA_AIGC_LABEL "cn.org.tc260.aigc"
#define AIMARK__C2PA_TRAINED_ALGORITHMIC \
	"http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"

/* A new random UUID v4 as text (37 bytes with the NUL). */
int aimark__c2pa_uuid4(char out[37]);

#endif

/*
 * SecurityData: the signature aimark writes into ReservedCode1 (producer) and
 * ReservedCode2 (propagator), and the checks of vendor signatures it can
 * identify. The exact signed bytes are specified in docs/signature.md.
 */
#ifndef AIMARK_LABEL_SECURITY_H
#define AIMARK_LABEL_SECURITY_H

#include "aimark/keys.h"
#include "aimark/label.h"
#include "aimark/mark.h"
#include "aimark/verify.h"
#include "crypto/crypto.h"

/* TBSData types aimark writes (they name the signed message layout). */
#define AIMARK__TBS_PRODUCER "LabelMetaData+Binding"
#define AIMARK__TBS_PROPAGATOR "PropagateMetaData+Binding"

/*
 * Builds the message a `role` signature covers (docs/signature.md):
 *   producer:   "Label":L,"ContentProducer":P,"ProduceID":I,"Bindings":[B]
 *   propagator: "Label":L,"ContentProducer":P,"ProduceID":I,"ContentPropagator":X,"PropagateID":Y,"Bindings":[B]
 * with B = {"Type":"Hash","AlgID":<hash OID>,"CntSel":<sel>,"Value":<lowercase hex>}
 * and every value a compact JSON string.
 */
int aimark__security_tbs(const aimark_label *label, aimark_role role, const char *hash_oid, const char *cntsel,
			 const char *hex_value, aimark_buf *out);

/*
 * Signs: returns (appended to `out`) the ReservedCode text
 *   {"SecurityData":{"Type":"TC260PG","Version":1,"Bindings":[B],"PubSD":[
 *     {"Type":"DS","AlgID":<sig OID>,"TBSData":{"Type":<TBS type>},"Signature":<hex>},
 *     {"Type":"PubKey","AlgID":<sig OID>,"KeyValue":<hex DER SPKI>}]}}
 * `digest` is the content digest with aimark__key_hash_alg(key).
 */
int aimark__security_sign(const aimark_label *label, aimark_role role, const aimark_key *key, const char *cntsel,
			  const unsigned char *digest, size_t digest_len, aimark_buf *out);

/* What checking one ReservedCode found. */
typedef struct aimark__security_check {
	aimark_sig_status status;
	const char *scheme;          /* "aimark", "label-a1", "label-a1-sm3", "binding-hash", "binding-json", or NULL */
	aimark_key_alg alg;
	char key_id[65];             /* of the key that verified, "" if none */
	int content_covered;         /* 1: digest/cntsel below are what the signature binds */
	aimark__hash_alg hash_alg;
	unsigned char digest[AIMARK__HASH_MAX];
	char cntsel[96];
} aimark__security_check;

/*
 * Checks the ReservedCode of `role` in `label`. Never fails on bad data:
 * malformed SecurityData is reported through `check->status` and findings.
 * Returns 0, or AIMARK_ENOMEM.
 */
int aimark__security_verify(const aimark_label *label, aimark_role role, const aimark_trust *trust,
			    aimark__security_check *check, aimark_findings *findings);

#endif

/*
 * The C2PA layer as the mark and verify pipelines call it.
 *
 * THREAD SAFETY: both functions may run concurrently on different inputs
 * sharing one (immutable) signer.
 */
#ifndef AIMARK_C2PA_STAGE_H
#define AIMARK_C2PA_STAGE_H

#include <stddef.h>

#include <jansson.h>

#include "aimark/c2pa.h"
#include "aimark/io.h"
#include "aimark/label.h"

/*
 * `data` is the complete file (`format` as detected: "jpeg", "png", "webp",
 * "wav", "mp3", "mp4") with its GB 45438 label already written. Appends to
 * `out` the same file with a C2PA manifest store embedded: a claim v2 signed
 * by `signer` with
 *   - c2pa.actions.v2: c2pa.created (digitalSourceType trainedAlgorithmicMedia,
 *     softwareAgent aimark + version, when); on a file that already carries
 *     a manifest: c2pa.opened of that manifest, then c2pa.edited.metadata;
 *   - cn.org.tc260.aigc: the GB 45438 label (`label`, may be NULL) as a CBOR
 *     map {"AIGC": {Label, ContentProducer, ...}} of the seven Annex E fields;
 *   - c2pa.ingredient.v3 (parentOf) when the file already carried a manifest:
 *     the earlier manifests stay in the store and the earlier active one
 *     becomes the ingredient, with its validation results;
 *   - the hard binding over the final bytes: c2pa.hash.data (container
 *     framing of the store excluded) or c2pa.hash.bmff.v3 for MP4.
 * Returns 0, AIMARK_EUNSUPPORTED (a format without C2PA support, or a file
 * form it cannot carry: fragmented MP4, ID3v2.2), AIMARK_EFORMAT (malformed
 * file or existing manifest store), AIMARK_EINVAL, AIMARK_ECRYPTO,
 * AIMARK_ELIMIT, AIMARK_ENOMEM. `out` is unchanged on failure.
 */
int aimark__c2pa_embed(const char *format, const unsigned char *data, size_t len, const aimark_c2pa_signer *signer,
		       const aimark_label *label, aimark_buf *out);

/* The same, writing the signed file to `out` without holding a copy of it (`out` may hold a partial file on failure). */
int aimark__c2pa_embed_to_sink(const char *format, const unsigned char *data, size_t len, const aimark_c2pa_signer *signer,
			       const aimark_label *label, aimark_sink *out);

/*
 * Validates the manifest store in `src` as the C2PA reference validator
 * does. Sets *out to a new object, or to NULL when the file has no manifest:
 *   {"present": true,
 *    "state": "Trusted" | "Valid" | "Invalid",
 *    "active_manifest": "urn:c2pa:...", "manifests": N, "claim_version": 1|2,
 *    "claim_generator": "...", "title": "..." | null,
 *    "signer": {"alg", "common_name", "organization", "issuer",
 *               "issuer_common_name", "serial_number", "trusted",
 *               ["time", "timestamp_authority"]} | null,
 *    "codes": {"success": [S...], "informational": [S...], "failure": [S...]},
 *    "ingredients": [{"uri", "title", "relationship", "manifest",
 *                     "codes": {...}}...],
 *    ["aigc": {...the cn.org.tc260.aigc assertion...}]}
 * where S = {"code": "<reference status code>", "url": "...",
 * "explanation": "..."}. "Invalid": a failure other than
 * signingCredential.untrusted in the active manifest or an ingredient;
 * "Trusted": no failure at all and the signer chains to
 * `trust_anchors_pem` (a PEM bundle path; NULL trusts nothing); "Valid"
 * otherwise. A store that cannot be parsed is reported "Invalid" with
 * claim.malformed. Returns 0, or < 0 only when it could not run
 * (AIMARK_ENOMEM, AIMARK_EIO).
 */
int aimark__c2pa_verify(aimark_source *src, const char *format, const char *trust_anchors_pem, json_t **out);

#endif

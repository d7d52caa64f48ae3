/*
 * aimark/label.h - the GB 45438-2025 Annex E implicit metadata label.
 *
 *   {"AIGC":{"Label":"1","ContentProducer":"...","ProduceID":"...",
 *            "ReservedCode1":"...","ContentPropagator":"...",
 *            "PropagateID":"...","ReservedCode2":"..."}}
 *
 * aimark writes exactly this (compact, Annex E key order, all values strings)
 * and reads every vendor variant it knows of, reporting deviations as
 * findings.
 *
 * THREAD SAFETY: a label is used by one thread at a time; a label that is no
 * longer modified may be read from several threads.
 */
#ifndef AIMARK_LABEL_H
#define AIMARK_LABEL_H

#include "common.h"
#include "findings.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The seven Annex E fields, in Annex E order. */
typedef enum aimark_label_field {
	AIMARK_FIELD_LABEL = 0,
	AIMARK_FIELD_CONTENT_PRODUCER,
	AIMARK_FIELD_PRODUCE_ID,
	AIMARK_FIELD_RESERVED_CODE1,
	AIMARK_FIELD_CONTENT_PROPAGATOR,
	AIMARK_FIELD_PROPAGATE_ID,
	AIMARK_FIELD_RESERVED_CODE2,
	AIMARK_FIELD_COUNT
} aimark_label_field;

/** Label values (the "Label" field). */
#define AIMARK_LABEL_AI_GENERATED "1"
#define AIMARK_LABEL_POSSIBLY_AI "2"
#define AIMARK_LABEL_SUSPECTED_AI "3"

typedef struct aimark_label aimark_label;

/** The JSON key of a field, e.g. "ContentProducer"; NULL when out of range. */
AIMARK_API const char *aimark_label_field_name(aimark_label_field field);

/** A new label with every field absent. */
AIMARK_API AIMARK_NODISCARD int aimark_label_new(aimark_label **out);

/** A deep copy. */
AIMARK_API AIMARK_NODISCARD int aimark_label_clone(aimark_label **out, const aimark_label *src);

/** Sets a field (copied); NULL makes it absent. Returns 0, AIMARK_EINVAL or AIMARK_ENOMEM. */
AIMARK_API AIMARK_NODISCARD int aimark_label_set(aimark_label *label, aimark_label_field field, const char *value);

/** The field's value, or NULL when absent. Borrowed from the label. */
AIMARK_API const char *aimark_label_get(const aimark_label *label, aimark_label_field field);

/**
 * Parses a label leniently: bare or {"AIGC":{...}}-wrapped, any key order,
 * surrounding white space, JSON null (absent), numbers and nested objects
 * (kept as compact JSON text). Each deviation is added to `findings` (may be
 * NULL). Returns 0, AIMARK_EFORMAT (not JSON, or no label object), or
 * AIMARK_ENOMEM.
 */
AIMARK_API AIMARK_NODISCARD int aimark_label_parse_json(aimark_label **out, const char *json, size_t len, aimark_findings *findings);

/**
 * Encodes the label as Annex E JSON: compact, Annex E order, absent fields as
 * "". With `wrapped` the object is {"AIGC":{...}}. Returns 0 or AIMARK_ENOMEM.
 */
AIMARK_API AIMARK_NODISCARD int aimark_label_to_json(const aimark_label *label, int wrapped, aimark_buf *out);

/**
 * Checks the label against Annex E: Label value, required fields, charset
 * (0x21, 0x23-0x5B, 0x5D-0x7E and the escape \"), and the 27-character
 * ContentProducer / ContentPropagator code (warning only: names are allowed).
 * Adds findings; returns the number of error-severity findings added (>= 0),
 * or a negative error code.
 */
AIMARK_API int aimark_label_validate(const aimark_label *label, aimark_findings *findings);

/**
 * Checks one ContentProducer/ContentPropagator value against the TC260 coding
 * rule (27 chars [0-9A-Z]: "00" "1" "1" + 18-char USCC + service digit + 4
 * chars). Returns 1 when it conforms, 0 when not.
 */
AIMARK_API int aimark_label_code_is_valid(const char *code);

/** Returns 1 when the value uses only the Annex E charset, else 0. */
AIMARK_API int aimark_label_charset_ok(const char *value);

AIMARK_API void aimark_label_free(aimark_label *label);

#ifdef __cplusplus
}
#endif
#endif

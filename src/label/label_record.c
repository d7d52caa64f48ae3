/*
 * The GB 45438 Annex E record: seven string fields, strict encoding, lenient
 * decoding (jansson), and Annex E validation.
 */
#include <ctype.h>
#include <jansson.h>
#include <string.h>
#include <strings.h>

#include "aimark/label.h"
#include "core/findings_internal.h"
#include "core/internal.h"
#include "label_internal.h"

struct aimark_label {
	char *fields[AIMARK_FIELD_COUNT];
};

static const char *const g_field_names[AIMARK_FIELD_COUNT] = {
	"Label", "ContentProducer", "ProduceID", "ReservedCode1",
	"ContentPropagator", "PropagateID", "ReservedCode2",
};

const char *aimark_label_field_name(aimark_label_field field)
{
	return (unsigned)field < AIMARK_FIELD_COUNT ? g_field_names[field] : NULL;
}

int aimark_label_new(aimark_label **out)
{
	RETURN_IF(out == NULL, AIMARK_EINVAL, "label: out is NULL");
	*out = aimark__calloc(1, sizeof **out);
	RETURN_ENOMEM_IF_NULL(*out);
	return 0;
}

void aimark_label_free(aimark_label *label)
{
	if (label == NULL)
		return;
	for (int i = 0; i < AIMARK_FIELD_COUNT; i++)
		aimark__free(label->fields[i]);
	aimark__free(label);
}

int aimark_label_set(aimark_label *label, aimark_label_field field, const char *value)
{
	RETURN_IF(label == NULL || (unsigned)field >= AIMARK_FIELD_COUNT, AIMARK_EINVAL, "label: bad field %d", (int)field);
	char *copy = NULL;
	if (value) {
		copy = aimark__strdup(value);
		RETURN_ENOMEM_IF_NULL(copy);
	}
	aimark__free(label->fields[field]);
	label->fields[field] = copy;
	return 0;
}

const char *aimark_label_get(const aimark_label *label, aimark_label_field field)
{
	return label && (unsigned)field < AIMARK_FIELD_COUNT ? label->fields[field] : NULL;
}

int aimark_label_clone(aimark_label **out, const aimark_label *src)
{
	RETURN_IF(src == NULL, AIMARK_EINVAL, "label: clone of NULL");
	RETURN_IF_ERR(aimark_label_new(out));
	for (int i = 0; i < AIMARK_FIELD_COUNT; i++) {
		int rc = aimark_label_set(*out, (aimark_label_field)i, src->fields[i]);
		if (rc < 0) {
			aimark_label_free(*out);
			*out = NULL;
			return rc;
		}
	}
	return 0;
}

int aimark__label_equal(const aimark_label *a, const aimark_label *b)
{
	for (int i = 0; i < AIMARK_FIELD_COUNT; i++) {
		const char *x = a->fields[i], *y = b->fields[i];
		if ((x == NULL) != (y == NULL) || (x && strcmp(x, y) != 0))
			return 0;
	}
	return 1;
}

/* ---- encoding ---- */

int aimark__json_quote(aimark_buf *out, const char *value)
{
	json_t *s = json_string(value ? value : "");
	RETURN_IF(s == NULL, AIMARK_EINVAL, "label: value is not valid UTF-8");
	char *text = json_dumps(s, JSON_ENCODE_ANY | JSON_COMPACT);
	json_decref(s);
	RETURN_ENOMEM_IF_NULL(text);
	int rc = aimark__buf_append_str(out, text);
	free(text);
	return rc;
}

int aimark_label_to_json(const aimark_label *label, int wrapped, aimark_buf *out)
{
	RETURN_IF(label == NULL || out == NULL, AIMARK_EINVAL, "label: NULL argument");
	RETURN_IF_ERR(aimark__buf_append_str(out, wrapped ? "{\"AIGC\":{" : "{"));
	for (int i = 0; i < AIMARK_FIELD_COUNT; i++) {
		RETURN_IF_ERR(aimark__buf_printf(out, "%s\"%s\":", i ? "," : "", g_field_names[i]));
		RETURN_IF_ERR(aimark__json_quote(out, label->fields[i]));
	}
	return aimark__buf_append_str(out, wrapped ? "}}" : "}");
}

/* ---- lenient decoding ---- */

static int field_index(const char *key, int *case_mismatch)
{
	*case_mismatch = 0;
	for (int i = 0; i < AIMARK_FIELD_COUNT; i++)
		if (strcmp(key, g_field_names[i]) == 0)
			return i;
	for (int i = 0; i < AIMARK_FIELD_COUNT; i++)
		if (strcasecmp(key, g_field_names[i]) == 0) {
			*case_mismatch = 1;
			return i;
		}
	return -1;
}

static int take_value(aimark_label *label, int idx, json_t *value, aimark_findings *findings)
{
	const char *name = g_field_names[idx];
	if (json_is_string(value))
		return aimark_label_set(label, (aimark_label_field)idx, json_string_value(value));
	if (json_is_null(value))
		return aimark__findings_add(findings, AIMARK_SEVERITY_WARNING, "null-value",
					    "%s is JSON null, not a string (read as absent)", name);
	/* Numbers, booleans and nested objects (Honor's SecurityData) are kept as compact JSON text. */
	char *text = json_dumps(value, JSON_ENCODE_ANY | JSON_COMPACT | JSON_PRESERVE_ORDER);
	RETURN_ENOMEM_IF_NULL(text);
	int rc = aimark_label_set(label, (aimark_label_field)idx, text);
	free(text);
	RETURN_IF_ERR(rc);
	return aimark__findings_add(findings, AIMARK_SEVERITY_WARNING, "non-string-value",
				    "%s is a JSON %s, not a string", name,
				    json_is_object(value) ? "object" : json_is_array(value) ? "array" : "number or boolean");
}

static int fill_from_object(aimark_label *label, json_t *obj, aimark_findings *findings)
{
	const char *key;
	json_t *value;
	int known = 0;
	json_object_foreach(obj, key, value) {
		int case_mismatch;
		int idx = field_index(key, &case_mismatch);
		if (idx < 0) {
			RETURN_IF_ERR(aimark__findings_add(findings, AIMARK_SEVERITY_INFO, "unknown-field",
							   "unknown field \"%.64s\" ignored", key));
			continue;
		}
		if (case_mismatch)
			RETURN_IF_ERR(aimark__findings_add(findings, AIMARK_SEVERITY_WARNING, "field-name-case",
							   "field \"%.64s\" should be spelled \"%s\"", key, g_field_names[idx]));
		RETURN_IF_ERR(take_value(label, idx, value, findings));
		known++;
	}
	RETURN_IF(known == 0, AIMARK_EFORMAT, "label: the JSON object has none of the Annex E fields");
	return 0;
}

/* Skips a leading "AIGC" / "AIGC:" / "AIGC=" before the JSON (vendor blobs, Alibaba's XmpKv form). */
static const char *skip_aigc_prefix(const char *p, const char *end, aimark_findings *findings, int *rc)
{
	*rc = 0;
	if (end - p >= 5 && strncmp(p, "AIGC", 4) == 0 && (p[4] == '{' || p[4] == ':' || p[4] == '=')) {
		p += 4;
		if (*p == ':' || *p == '=')
			p++;
		while (p < end && isspace((unsigned char)*p))
			p++;
		*rc = aimark__findings_add(findings, AIMARK_SEVERITY_WARNING, "aigc-prefix",
					   "label JSON is preceded by a bare \"AIGC\" keyword");
	}
	return p;
}

int aimark__label_parse(aimark_label **out, const char *text, size_t len, aimark_findings *findings, int *wrapped)
{
	RETURN_IF(out == NULL || (text == NULL && len > 0), AIMARK_EINVAL, "label: NULL argument");
	*out = NULL;
	if (wrapped)
		*wrapped = 0;
	const char *p = text, *end = text + len;
	while (p < end && (isspace((unsigned char)*p) || *p == '\0'))
		p++;
	while (end > p && (isspace((unsigned char)end[-1]) || end[-1] == '\0'))
		end--;
	if (end - p >= 3 && (unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBB && (unsigned char)p[2] == 0xBF)
		p += 3;
	int rc;
	p = skip_aigc_prefix(p, end, findings, &rc);
	RETURN_IF_ERR(rc);
	RETURN_IF(p == end, AIMARK_EFORMAT, "label: empty text");

	json_error_t err;
	json_t *root = json_loadb(p, (size_t)(end - p), JSON_REJECT_DUPLICATES, &err);
	if (root == NULL) {
		root = json_loadb(p, (size_t)(end - p), 0, NULL);
		if (root == NULL)
			return aimark__error_set(AIMARK_EFORMAT, "label: not valid JSON: %s (line %d, column %d)", err.text, err.line, err.column);
		rc = aimark__findings_add(findings, AIMARK_SEVERITY_WARNING, "json-duplicate-key", "label JSON repeats a key: %s", err.text);
		if (rc < 0) {
			json_decref(root);
			return rc;
		}
	}
	json_t *obj = root;
	if (json_is_object(root) && json_object_size(root) == 1 && json_object_get(root, "AIGC")) {
		obj = json_object_get(root, "AIGC");
		if (wrapped)
			*wrapped = 1;
		/* Some writers nest the label as a JSON string inside the wrapper. */
		if (json_is_string(obj)) {
			const char *inner = json_string_value(obj);
			json_t *parsed = json_loads(inner, 0, NULL);
			if (parsed == NULL) {
				json_decref(root);
				return aimark__error_set(AIMARK_EFORMAT, "label: \"AIGC\" holds a string that is not JSON");
			}
			rc = aimark__findings_add(findings, AIMARK_SEVERITY_WARNING, "label-as-string",
						  "the label object is stored as a JSON string inside \"AIGC\"");
			json_object_set_new(root, "AIGC", parsed);
			obj = parsed;
			if (rc < 0) {
				json_decref(root);
				return rc;
			}
		}
	}
	if (!json_is_object(obj)) {
		json_decref(root);
		return aimark__error_set(AIMARK_EFORMAT, "label: JSON is not an object");
	}
	aimark_label *label = NULL;
	rc = aimark_label_new(&label);
	if (rc == 0)
		rc = fill_from_object(label, obj, findings);
	json_decref(root);
	if (rc < 0) {
		aimark_label_free(label);
		return rc;
	}
	*out = label;
	return 0;
}

int aimark_label_parse_json(aimark_label **out, const char *json, size_t len, aimark_findings *findings)
{
	return aimark__label_parse(out, json, len, findings, NULL);
}

/* ---- validation ---- */

int aimark_label_charset_ok(const char *value)
{
	/* Annex E j): 0x21, 0x23-0x5B, 0x5D-0x7E, plus the escape \" (so a decoded '"' is allowed). */
	for (const unsigned char *p = (const unsigned char *)value; p && *p; p++)
		if (*p < 0x21 || *p > 0x7E || *p == '\\')
			return 0;
	return 1;
}

/* GB 32100-2015 Unified Social Credit Code: 18 chars, last one a check character. */
static int uscc_is_valid(const char *c)
{
	static const char alphabet[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
	static const int weights[17] = { 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28 };
	int sum = 0;
	for (int i = 0; i < 18; i++) {
		const char *pos = c[i] ? strchr(alphabet, c[i]) : NULL;
		if (pos == NULL)
			return 0;
		if (i < 17)
			sum += (int)(pos - alphabet) * weights[i];
		else {
			int check = (31 - sum % 31) % 31;
			return (int)(pos - alphabet) == check;
		}
	}
	return 0;
}

static int code_shape_ok(const char *code)
{
	if (code == NULL || strlen(code) != 27 || strncmp(code, "0011", 4) != 0)
		return 0;
	for (const char *p = code; *p; p++)
		if (!(isdigit((unsigned char)*p) || (*p >= 'A' && *p <= 'Z')))
			return 0;
	return 1;
}

int aimark_label_code_is_valid(const char *code)
{
	return code_shape_ok(code) && (code[22] == '1' || code[22] == '2') && uscc_is_valid(code + 4);
}

static int check_code(const char *field, const char *code, aimark_findings *f)
{
	if (code == NULL || *code == '\0')
		return 0;
	if (!code_shape_ok(code))
		return aimark__findings_add(f, AIMARK_SEVERITY_WARNING, "producer-code",
					    "%s \"%.64s\" is a name, not a 27-character TC260 code", field, code);
	if (!uscc_is_valid(code + 4))
		return aimark__findings_add(f, AIMARK_SEVERITY_WARNING, "uscc-checksum",
					    "%s \"%s\": the embedded credit code %.18s fails its check character", field, code, code + 4);
	if (code[22] != '1' && code[22] != '2')
		return aimark__findings_add(f, AIMARK_SEVERITY_WARNING, "service-type",
					    "%s \"%s\": service-type digit '%c' is neither 1 (generation) nor 2 (distribution)", field, code, code[22]);
	return 0;
}

static int validate_into(const aimark_label *label, aimark_findings *f);

int aimark_label_validate(const aimark_label *label, aimark_findings *f)
{
	RETURN_IF(label == NULL, AIMARK_EINVAL, "label: NULL");
	if (f != NULL)
		return validate_into(label, f);
	/* Without a list from the caller, count into a temporary one. */
	aimark_findings *tmp = NULL;
	RETURN_IF_ERR(aimark_findings_new(&tmp));
	int rc = validate_into(label, tmp);
	aimark_findings_free(tmp);
	return rc;
}

static int validate_into(const aimark_label *label, aimark_findings *f)
{
	size_t before = aimark_findings_count_at_least(f, AIMARK_SEVERITY_ERROR);
	const char *value = label->fields[AIMARK_FIELD_LABEL];
	if (value == NULL || *value == '\0')
		RETURN_IF_ERR(aimark__findings_add(f, AIMARK_SEVERITY_ERROR, "missing-label", "the Label field is missing"));
	else if (strcmp(value, "1") && strcmp(value, "2") && strcmp(value, "3"))
		RETURN_IF_ERR(aimark__findings_add(f, AIMARK_SEVERITY_ERROR, "label-value",
						   "Label is \"%.32s\"; Annex E allows \"1\", \"2\" or \"3\"", value));
	static const aimark_label_field required[] = { AIMARK_FIELD_CONTENT_PRODUCER, AIMARK_FIELD_PRODUCE_ID };
	for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
		const char *v = label->fields[required[i]];
		if (v == NULL || *v == '\0')
			RETURN_IF_ERR(aimark__findings_add(f, AIMARK_SEVERITY_ERROR, "missing-field", "%s is %s",
							   g_field_names[required[i]], v ? "empty" : "missing"));
	}
	static const aimark_label_field optional[] = { AIMARK_FIELD_RESERVED_CODE1, AIMARK_FIELD_CONTENT_PROPAGATOR,
						       AIMARK_FIELD_PROPAGATE_ID, AIMARK_FIELD_RESERVED_CODE2 };
	for (size_t i = 0; i < sizeof optional / sizeof optional[0]; i++)
		if (label->fields[optional[i]] == NULL)
			RETURN_IF_ERR(aimark__findings_add(f, AIMARK_SEVERITY_WARNING, "absent-field",
							   "%s is absent (Annex E lists all seven fields)", g_field_names[optional[i]]));
	const char *prop = label->fields[AIMARK_FIELD_CONTENT_PROPAGATOR];
	if (prop && *prop == '\0')
		RETURN_IF_ERR(aimark__findings_add(f, AIMARK_SEVERITY_WARNING, "propagator-empty",
						   "ContentPropagator is empty (Annex E note 1: repeat the producer on first write)"));
	for (int i = 0; i < AIMARK_FIELD_COUNT; i++)
		if (label->fields[i] && !aimark_label_charset_ok(label->fields[i]))
			RETURN_IF_ERR(aimark__findings_add(f, AIMARK_SEVERITY_WARNING, "charset",
							   "%s uses characters outside the Annex E set (space, backslash or non-ASCII)",
							   g_field_names[i]));
	RETURN_IF_ERR(check_code("ContentProducer", label->fields[AIMARK_FIELD_CONTENT_PRODUCER], f));
	RETURN_IF_ERR(check_code("ContentPropagator", prop, f));
	return (int)(aimark_findings_count_at_least(f, AIMARK_SEVERITY_ERROR) - before);
}

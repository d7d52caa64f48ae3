/*
 * CBOR through libcbor, behind a bounded, non-recursive well-formedness
 * scan: libcbor preallocates arrays from declared counts and frees nested
 * items recursively, so hostile counts and nesting are refused first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "c2pa/c2pa_internal.h"
#include "core/internal.h"

typedef struct scan_level {
	uint64_t left;  /* items still expected (definite containers) */
	int indef;      /* indefinite container or string: ends with 0xff */
	int strmajor;   /* indefinite string: the chunks' major type, else -1 */
} scan_level;

#define SCAN_FAIL(...) do { snprintf(why, why_len, __VA_ARGS__); return AIMARK_EFORMAT; } while (0)

int aimark__cbor_scan(const unsigned char *d, size_t len, size_t *consumed, char *why, size_t why_len)
{
	scan_level st[AIMARK__CBOR_MAX_DEPTH + 2];
	int depth = 0;
	size_t pos = 0;
	st[0].left = 1;
	st[0].indef = 0;
	st[0].strmajor = -1;
	for (;;) {
		while (depth >= 0 && !st[depth].indef && st[depth].left == 0)
			depth--;
		if (depth < 0)
			break;
		if (pos >= len)
			SCAN_FAIL("truncated at offset %zu", pos);
		unsigned ib = d[pos], major = ib >> 5, ai = ib & 31;
		if (ib == 0xff) {
			if (!st[depth].indef)
				SCAN_FAIL("unexpected break at offset %zu", pos);
			pos++;
			depth--;
			continue;
		}
		if (st[depth].strmajor >= 0 && ((int)major != st[depth].strmajor || ai == 31))
			SCAN_FAIL("bad chunk in an indefinite string at offset %zu", pos);
		if (!st[depth].indef)
			st[depth].left--;
		size_t item = pos++;
		uint64_t v = ai;
		int indef = 0;
		if (ai >= 24 && ai <= 27) {
			size_t n = (size_t)1 << (ai - 24);
			if (len - pos < n)
				SCAN_FAIL("truncated argument at offset %zu", item);
			v = 0;
			for (size_t i = 0; i < n; i++)
				v = (v << 8) | d[pos + i];
			pos += n;
		} else if (ai >= 28 && ai <= 30) {
			SCAN_FAIL("reserved additional information %u at offset %zu", ai, item);
		} else if (ai == 31) {
			if (major < 2 || major == 6 || major == 7)
				SCAN_FAIL("indefinite length not allowed for major type %u at offset %zu", major, item);
			indef = 1;
		}
		int push = 0;
		scan_level nl = { 0, 0, -1 };
		switch (major) {
		case 2:
		case 3:
			if (indef) {
				nl.indef = 1;
				nl.strmajor = (int)major;
				push = 1;
			} else {
				if (v > len - pos)
					SCAN_FAIL("string of %llu bytes at offset %zu passes the end", (unsigned long long)v, item);
				pos += (size_t)v;
			}
			break;
		case 4:
		case 5:
			if (indef) {
				nl.indef = 1;
				push = 1;
			} else {
				/* every element takes at least one byte */
				if (v > len - pos || (major == 5 && v > (len - pos) / 2))
					SCAN_FAIL("%s of %llu items at offset %zu is longer than the data", major == 4 ? "array" : "map",
						  (unsigned long long)v, item);
				nl.left = major == 5 ? 2 * v : v;
				push = nl.left > 0;
			}
			break;
		case 6:
			nl.left = 1;
			push = 1;
			break;
		default:
			break;
		}
		if (push) {
			if (depth >= AIMARK__CBOR_MAX_DEPTH)
				SCAN_FAIL("nested deeper than %d at offset %zu", AIMARK__CBOR_MAX_DEPTH, item);
			st[++depth] = nl;
		}
	}
	*consumed = pos;
	return 0;
}

int aimark__cbor_load(const unsigned char *data, size_t len, const char *what, cbor_item_t **out)
{
	*out = NULL;
	char why[160];
	size_t used = 0;
	if (aimark__cbor_scan(data, len, &used, why, sizeof why) < 0)
		return aimark__error_set(AIMARK_EFORMAT, "C2PA: %s: malformed CBOR: %s", what, why);
	RETURN_IF(used != len, AIMARK_EFORMAT, "C2PA: %s: %zu bytes of trailing data after the CBOR item", what, len - used);
	struct cbor_load_result res;
	cbor_item_t *item = cbor_load(data, len, &res);
	if (item == NULL || res.error.code != CBOR_ERR_NONE || res.read != len) {
		if (item)
			cbor_decref(&item);
		if (res.error.code == CBOR_ERR_MEMERROR)
			return aimark__error_set(AIMARK_ENOMEM, "out of memory");
		return aimark__error_set(AIMARK_EFORMAT, "C2PA: %s: CBOR not decodable at offset %zu", what, res.error.position);
	}
	*out = item;
	return 0;
}

int aimark__cbor_append(aimark_buf *out, const cbor_item_t *item)
{
	unsigned char *buf = NULL;
	size_t cap = 0;
	size_t n = cbor_serialize_alloc(item, &buf, &cap);
	if (n == 0) {
		free(buf);
		return aimark__error_set(AIMARK_ENOMEM, "C2PA: CBOR encoding failed");
	}
	int rc = aimark__buf_append(out, buf, n);
	free(buf);
	return rc;
}

static int text_eq(const cbor_item_t *k, const char *key)
{
	if (!cbor_isa_string(k) || !cbor_string_is_definite(k))
		return 0;
	size_t n = strlen(key);
	return cbor_string_length(k) == n && memcmp(cbor_string_handle(k), key, n) == 0;
}

cbor_item_t *aimark__cbor_get(const cbor_item_t *map, const char *key)
{
	if (map == NULL || !cbor_isa_map(map))
		return NULL;
	struct cbor_pair *p = cbor_map_handle(map);
	for (size_t i = 0; i < cbor_map_size(map); i++)
		if (text_eq(p[i].key, key))
			return p[i].value;
	return NULL;
}

cbor_item_t *aimark__cbor_get_int(const cbor_item_t *map, int64_t key)
{
	if (map == NULL || !cbor_isa_map(map))
		return NULL;
	struct cbor_pair *p = cbor_map_handle(map);
	for (size_t i = 0; i < cbor_map_size(map); i++) {
		int64_t v;
		if (aimark__cbor_int(p[i].key, &v) && v == key)
			return p[i].value;
	}
	return NULL;
}

char *aimark__cbor_text(const cbor_item_t *item)
{
	if (item == NULL || !cbor_isa_string(item) || !cbor_string_is_definite(item))
		return NULL;
	return aimark__strndup((const char *)cbor_string_handle(item), cbor_string_length(item));
}

const unsigned char *aimark__cbor_bytes(const cbor_item_t *item, size_t *len)
{
	if (item == NULL || !cbor_isa_bytestring(item) || !cbor_bytestring_is_definite(item))
		return NULL;
	*len = cbor_bytestring_length(item);
	return cbor_bytestring_handle(item) ? cbor_bytestring_handle(item) : (const unsigned char *)"";
}

int aimark__cbor_int(const cbor_item_t *item, int64_t *v)
{
	if (item == NULL)
		return 0;
	if (cbor_isa_uint(item)) {
		uint64_t u = cbor_get_int(item);
		if (u > INT64_MAX)
			return 0;
		*v = (int64_t)u;
		return 1;
	}
	if (cbor_isa_negint(item)) {
		uint64_t u = cbor_get_int(item);
		if (u > INT64_MAX)
			return 0;
		*v = -1 - (int64_t)u;
		return 1;
	}
	return 0;
}

cbor_item_t *aimark__cbor_uint(uint64_t v)
{
	if (v <= UINT8_MAX)
		return cbor_build_uint8((uint8_t)v);
	if (v <= UINT16_MAX)
		return cbor_build_uint16((uint16_t)v);
	if (v <= UINT32_MAX)
		return cbor_build_uint32((uint32_t)v);
	return cbor_build_uint64(v);
}

cbor_item_t *aimark__cbor_nint(int64_t v)
{
	if (v >= 0)
		return aimark__cbor_uint((uint64_t)v);
	uint64_t u = (uint64_t)(-(v + 1));
	if (u <= UINT8_MAX)
		return cbor_build_negint8((uint8_t)u);
	if (u <= UINT16_MAX)
		return cbor_build_negint16((uint16_t)u);
	if (u <= UINT32_MAX)
		return cbor_build_negint32((uint32_t)u);
	return cbor_build_negint64(u);
}

cbor_item_t *aimark__cbor_str(const char *s)
{
	return cbor_build_stringn(s, strlen(s));
}

int aimark__cbor_put(cbor_item_t *map, const char *key, cbor_item_t *value)
{
	cbor_item_t *k = aimark__cbor_str(key);
	int ok = k && value && cbor_map_add(map, (struct cbor_pair){ .key = k, .value = value });
	if (k)
		cbor_decref(&k);
	if (value)
		cbor_decref(&value);
	return ok ? 0 : aimark__error_set(AIMARK_ENOMEM, "C2PA: cannot build CBOR map");
}

cbor_item_t *aimark__cbor_from_json(const json_t *v, int depth)
{
	if (depth > AIMARK__CBOR_MAX_DEPTH)
		return NULL;
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		cbor_item_t *m = cbor_new_definite_map(json_object_size(v));
		const char *key;
		json_t *val;
		if (m == NULL)
			return NULL;
		json_object_foreach((json_t *)v, key, val) {
			if (aimark__cbor_put(m, key, aimark__cbor_from_json(val, depth + 1)) < 0) {
				cbor_decref(&m);
				return NULL;
			}
		}
		return m;
	}
	case JSON_ARRAY: {
		cbor_item_t *a = cbor_new_definite_array(json_array_size(v));
		size_t i;
		json_t *val;
		if (a == NULL)
			return NULL;
		json_array_foreach(v, i, val) {
			cbor_item_t *e = aimark__cbor_from_json(val, depth + 1);
			int ok = e && cbor_array_push(a, e);
			if (e)
				cbor_decref(&e);
			if (!ok) {
				cbor_decref(&a);
				return NULL;
			}
		}
		return a;
	}
	case JSON_STRING: return cbor_build_stringn(json_string_value(v), json_string_length(v));
	case JSON_INTEGER: return aimark__cbor_nint(json_integer_value(v));
	case JSON_REAL: return cbor_build_float8(json_real_value(v));
	case JSON_TRUE: return cbor_build_bool(true);
	case JSON_FALSE: return cbor_build_bool(false);
	default: return cbor_new_null();
	}
}

json_t *aimark__cbor_to_json(const cbor_item_t *item, int depth)
{
	if (item == NULL || depth > AIMARK__CBOR_MAX_DEPTH)
		return NULL;
	int64_t iv;
	switch (cbor_typeof(item)) {
	case CBOR_TYPE_UINT:
	case CBOR_TYPE_NEGINT:
		if (aimark__cbor_int(item, &iv))
			return json_integer(iv);
		return json_real(cbor_isa_uint(item) ? (double)cbor_get_int(item) : -1.0 - (double)cbor_get_int(item));
	case CBOR_TYPE_BYTESTRING: {
		size_t n = 0;
		const unsigned char *b = aimark__cbor_bytes(item, &n);
		if (b == NULL)
			return json_string("");
		char *hex = aimark__malloc(2 * n + 1);
		if (hex == NULL)
			return NULL;
		for (size_t i = 0; i < n; i++)
			snprintf(hex + 2 * i, 3, "%02x", b[i]);
		hex[2 * n] = '\0';
		json_t *s = json_string(hex);
		aimark__free(hex);
		return s;
	}
	case CBOR_TYPE_STRING: {
		if (!cbor_string_is_definite(item))
			return json_string("");
		json_t *s = json_stringn((const char *)cbor_string_handle(item), cbor_string_length(item));
		return s ? s : json_string("(invalid UTF-8)");
	}
	case CBOR_TYPE_ARRAY: {
		json_t *a = json_array();
		for (size_t i = 0; a && i < cbor_array_size(item); i++) {
			json_t *e = aimark__cbor_to_json(cbor_array_handle(item)[i], depth + 1);
			if (e == NULL || json_array_append_new(a, e) < 0) {
				json_decref(a);
				return NULL;
			}
		}
		return a;
	}
	case CBOR_TYPE_MAP: {
		json_t *o = json_object();
		struct cbor_pair *p = cbor_map_handle(item);
		for (size_t i = 0; o && i < cbor_map_size(item); i++) {
			char keybuf[32];
			char *key = aimark__cbor_text(p[i].key);
			if (key == NULL && aimark__cbor_int(p[i].key, &iv))
				snprintf(keybuf, sizeof keybuf, "%lld", (long long)iv);
			else if (key == NULL)
				snprintf(keybuf, sizeof keybuf, "?");
			json_t *e = aimark__cbor_to_json(p[i].value, depth + 1);
			int bad = e == NULL;
			if (!bad && json_object_set_new(o, key ? key : keybuf, e) < 0)
				bad = json_object_set_new(o, "?", json_null()) < 0;
			aimark__free(key);
			if (bad) {
				json_decref(o);
				return NULL;
			}
		}
		return o;
	}
	case CBOR_TYPE_TAG: {
		cbor_item_t *t = cbor_tag_item(item);
		json_t *r = aimark__cbor_to_json(t, depth + 1);
		cbor_decref(&t);
		return r;
	}
	case CBOR_TYPE_FLOAT_CTRL:
		if (cbor_float_ctrl_is_ctrl(item)) {
			if (cbor_is_bool(item))
				return json_boolean(cbor_get_bool(item));
			return json_null();
		}
		return json_real(cbor_float_get_float(item));
	default:
		return json_null();
	}
}

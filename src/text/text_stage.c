/* The text layers' pipeline hooks: mark, detect, normalise. */
#include <string.h>

#include "core/hex.h"
#include "core/internal.h"
#include "text/text_doc.h"
#include "text/text_explicit.h"
#include "text/text_invisible.h"
#include "text/text_normalize.h"
#include "text/text_stage.h"
#include "text/text_unicode.h"

static int kind_of(const char *format, aimark__text_kind *kind)
{
	int k = aimark__text_kind_from_name(format);
	RETURN_IF(k < 0, AIMARK_EINVAL, "text: unknown text format \"%s\" (text, markdown or html)", format ? format : "(null)");
	*kind = (aimark__text_kind)k;
	return 0;
}

/* Copies doc->d[b, e) with a frame inserted at each position in [b, e). */
static int copy_marked(const aimark__text_doc *doc, size_t b, size_t e, const size_t *pos, size_t n_pos,
		       const uint32_t frame[AIMARK__TEXT_FRAME_SYMBOLS], aimark_buf *out)
{
	size_t at = b;
	for (size_t i = 0; i < n_pos; i++) {
		if (pos[i] < b || pos[i] > e)
			continue;
		RETURN_IF_ERR(aimark__buf_append(out, doc->d + at, pos[i] - at));
		for (int s = 0; s < AIMARK__TEXT_FRAME_SYMBOLS; s++)
			RETURN_IF_ERR(aimark__utf8_append(out, frame[s]));
		at = pos[i];
	}
	return aimark__buf_append(out, doc->d + at, e - at);
}

static int stage(const aimark__text_doc *doc, const aimark_mark_options *o, const unsigned char payload[8], aimark_buf *out)
{
	const char *label = NULL;
	unsigned int at = 0;
	aimark__text_label_found found;
	memset(&found, 0, sizeof found);
	if (o->layers & AIMARK_LAYER_EXPLICIT) {
		RETURN_IF_ERR(aimark__text_explicit_options(o->explicit_text, o->explicit_language, o->explicit_position, &label, &at));
		RETURN_IF_ERR(aimark__text_explicit_find(doc, &found));
		/* never a second label where one already shows (a body that is one label line shows it at both ends) */
		at &= ~(found.at && found.only_line ? AIMARK__TEXT_AT_START | AIMARK__TEXT_AT_END : found.at);
	}
	uint32_t frame[AIMARK__TEXT_FRAME_SYMBOLS];
	size_t *pos = NULL, n_pos = 0;
	if (o->layers & AIMARK_LAYER_WATERMARK) {
		RETURN_IF(o->watermark_key == NULL, AIMARK_EINVAL, "text: the watermark layer needs a watermark key");
		RETURN_IF(payload == NULL, AIMARK_EINVAL, "text: the watermark layer needs a payload");
		RETURN_IF_ERR(aimark__text_mark_frame(o->watermark_key, payload, frame));
		RETURN_IF_ERR(aimark__text_mark_positions(doc, &pos, &n_pos));
	}
	int empty = doc->body_end <= doc->body_begin;
	int rc = aimark__buf_append(out, doc->d, doc->body_begin);
	if (rc == 0 && (at & AIMARK__TEXT_AT_START))
		rc = aimark__text_explicit_render(doc, label, AIMARK__TEXT_AT_START, empty, out);
	if (rc == 0)
		rc = copy_marked(doc, doc->body_begin, doc->body_end, pos, n_pos, frame, out);
	if (rc == 0 && (at & AIMARK__TEXT_AT_END) && !(empty && (at & AIMARK__TEXT_AT_START)))
		rc = aimark__text_explicit_render(doc, label, AIMARK__TEXT_AT_END, empty, out);
	if (rc == 0)
		rc = aimark__buf_append(out, doc->d + doc->body_end, doc->n - doc->body_end);
	aimark__free(pos);
	return rc;
}

int aimark__text_stage(const unsigned char *data, size_t len, const char *format, const aimark_mark_options *o,
		       const unsigned char payload[8], aimark_buf *out)
{
	RETURN_IF(o == NULL || out == NULL || (data == NULL && len > 0), AIMARK_EINVAL, "text: NULL argument");
	aimark__text_kind kind = AIMARK__TEXT_PLAIN;
	RETURN_IF_ERR(kind_of(format, &kind));
	aimark__text_doc doc;
	RETURN_IF_ERR(aimark__text_doc_parse(&doc, data, len, kind));
	size_t before = out->size;
	int rc = stage(&doc, o, payload, out);
	if (rc < 0 && out->ptr) {
		out->size = before;
		out->ptr[before] = 0;
	}
	aimark__text_doc_dispose(&doc);
	return rc;
}

static int set_new(json_t *obj, const char *key, json_t *v)
{
	RETURN_IF(v == NULL || json_object_set_new(obj, key, v) != 0, AIMARK_ENOMEM, "out of memory");
	return 0;
}

static int explicit_json(const aimark__text_doc *doc, json_t **out)
{
	aimark__text_label_found f;
	RETURN_IF_ERR(aimark__text_explicit_find(doc, &f));
	json_t *o = json_object();
	RETURN_ENOMEM_IF_NULL(o);
	int rc = set_new(o, "detected", json_boolean(f.at != 0));
	if (rc == 0)
		rc = set_new(o, "kind", json_string("text"));
	if (rc == 0 && f.at) {
		const char *pos = f.at == (AIMARK__TEXT_AT_START | AIMARK__TEXT_AT_END) ? "both"
				  : f.at == AIMARK__TEXT_AT_START ? "start" : "end";
		char el[128];
		aimark__explicit_text_describe(f.elements, el, sizeof el);
		rc = set_new(o, "position", json_string(pos));
		if (rc == 0)
			rc = set_new(o, "text", json_string(f.text));
		if (rc == 0)
			rc = set_new(o, "elements", json_string(el));
	}
	if (rc < 0) {
		json_decref(o);
		return rc;
	}
	*out = o;
	return 0;
}

static int watermark_json(const aimark__text_doc *doc, const aimark_wm_key *const *keys, size_t n_keys, json_t **out)
{
	aimark__text_mark_result r;
	RETURN_IF_ERR(aimark__text_mark_detect(doc->d, doc->n, doc->kind == AIMARK__TEXT_HTML, keys, n_keys, &r));
	json_t *o = json_object();
	RETURN_ENOMEM_IF_NULL(o);
	int rc = set_new(o, "detected", json_boolean(r.authenticated));
	if (rc == 0)
		rc = set_new(o, "method", json_string("unicode-variation-selectors"));
	if (rc == 0)
		rc = set_new(o, "frames", json_integer((json_int_t)r.frames));
	if (rc == 0 && n_keys > 0)
		rc = set_new(o, "authenticated", json_boolean(r.authenticated));
	if (rc == 0 && n_keys > 0)
		rc = set_new(o, "false_alarm_probability", json_real(r.false_alarm_probability));
	if (rc == 0 && r.authenticated) {
		aimark_buf hex = AIMARK_BUF_INIT;
		char id[AIMARK_WM_KEY_ID_LEN + 1];
		rc = aimark__hex_encode(r.payload, sizeof r.payload, 0, &hex);
		if (rc == 0)
			rc = set_new(o, "payload", json_string((const char *)hex.ptr));
		aimark_buf_dispose(&hex);
		if (rc == 0)
			rc = aimark_wm_key_id(keys[r.key_index], id);
		if (rc == 0)
			rc = set_new(o, "key_id", json_string(id));
	}
	if (rc < 0) {
		json_decref(o);
		return rc;
	}
	*out = o;
	return 0;
}

int aimark__text_detect(const unsigned char *data, size_t len, const char *format, const aimark_wm_key *const *keys,
			size_t n_keys, json_t **explicit_out, json_t **watermark_out)
{
	RETURN_IF(explicit_out == NULL || watermark_out == NULL || (data == NULL && len > 0) || (keys == NULL && n_keys > 0),
		  AIMARK_EINVAL, "text: NULL argument");
	*explicit_out = *watermark_out = NULL;
	aimark__text_kind kind = AIMARK__TEXT_PLAIN;
	RETURN_IF_ERR(kind_of(format, &kind));
	aimark__text_doc doc;
	RETURN_IF_ERR(aimark__text_doc_parse(&doc, data, len, kind));
	int rc = explicit_json(&doc, explicit_out);
	if (rc == 0)
		rc = watermark_json(&doc, keys, n_keys, watermark_out);
	if (rc < 0) {
		json_decref(*explicit_out);
		*explicit_out = NULL;
	}
	aimark__text_doc_dispose(&doc);
	return rc;
}

int aimark__text_normalize(const unsigned char *data, size_t len, const char *format, aimark_buf *out)
{
	RETURN_IF(out == NULL || (data == NULL && len > 0), AIMARK_EINVAL, "text: NULL argument");
	aimark__text_kind kind = AIMARK__TEXT_PLAIN;
	RETURN_IF_ERR(kind_of(format, &kind));
	aimark__text_doc doc;
	RETURN_IF_ERR(aimark__text_doc_parse(&doc, data, len, kind));
	size_t before = out->size;
	int rc = aimark__text_normalize_doc(&doc, out);
	if (rc < 0 && out->ptr) {
		out->size = before;
		out->ptr[before] = 0;
	}
	aimark__text_doc_dispose(&doc);
	return rc;
}

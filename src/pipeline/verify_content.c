/*
 * The content layers of aimark_verify: explicit-label and watermark
 * detection per modality, and whether they agree with the metadata label.
 */
#include <stdio.h>
#include <string.h>

#include "codec/audio_codec.h"
#include "codec/image_codec.h"
#include "core/findings_internal.h"
#include "core/hex.h"
#include "core/internal.h"
#include "core/io_internal.h"
#include "label/explicit_audio.h"
#include "label/explicit_image.h"
#include "pipeline_internal.h"
#include "report_internal.h"
#include "text/text_stage.h"
#include "wm/wm_audio.h"
#include "wm/wm_image.h"

#define MAX_CONTENT_FILE (UINT64_C(1) << 31)

static int wants(const aimark_verify_options *o, unsigned int layer)
{
	return o->layers == 0 || (o->layers & layer) != 0;
}

static json_t *result_json(const aimark_wm_result *res, const aimark_verify_options *o)
{
	json_t *w = json_object();
	if (w == NULL)
		return NULL;
	json_object_set_new(w, "detected", json_boolean(res->detected));
	if (res->detected) {
		aimark_buf hex = AIMARK_BUF_INIT;
		if (aimark__hex_encode(res->payload, sizeof res->payload, 0, &hex) == 0)
			json_object_set_new(w, "payload", json_string((const char *)hex.ptr));
		aimark_buf_dispose(&hex);
		json_object_set_new(w, "authenticated", json_boolean(res->authenticated));
		char id[AIMARK_WM_KEY_ID_LEN + 1];
		if (res->key_index >= 0 && (size_t)res->key_index < o->n_watermark_keys &&
		    aimark_wm_key_id(o->watermark_keys[res->key_index], id) == 0)
			json_object_set_new(w, "key_id", json_string(id));
	}
	json_object_set_new(w, "false_alarm_probability", json_real(res->false_alarm_probability));
	json_object_set_new(w, "score", json_real(res->score));
	return w;
}

/* Compares the watermark with the metadata label: the layers bind through the ProduceID. */
static int agreement(aimark_report *r, json_t *w)
{
	int detected = json_is_true(json_object_get(w, "detected"));
	int authenticated = json_is_true(json_object_get(w, "authenticated"));
	const char *payload = json_string_value(json_object_get(w, "payload"));
	const char *id = r->label ? aimark_label_get(r->label, AIMARK_FIELD_PRODUCE_ID) : NULL;
	if (!detected) {
		if (r->label)
			json_object_set_new(w, "agreement", json_string("label present; no watermark of the given keys"));
		return 0;
	}
	if (id == NULL || *id == '\0') {
		json_object_set_new(w, "agreement", json_string("metadata label stripped; the watermark still marks this as AI content"));
		return aimark__findings_add(r->findings, AIMARK_SEVERITY_WARNING, "label-stripped",
					    "no metadata label, but a watermark of a trusted producer key is present");
	}
	unsigned char expected[8];
	RETURN_IF_ERR(aimark__watermark_payload(id, expected));
	aimark_buf hex = AIMARK_BUF_INIT;
	RETURN_IF_ERR(aimark__hex_encode(expected, 8, 0, &hex));
	int match = authenticated && payload && strcmp(payload, (const char *)hex.ptr) == 0;
	aimark_buf_dispose(&hex);
	json_object_set_new(w, "matches_label", json_boolean(match));
	json_object_set_new(w, "agreement", json_string(match ? "the watermark matches the label's ProduceID"
							     : "the watermark does not match the label's ProduceID"));
	if (!match)
		return aimark__findings_add(r->findings, AIMARK_SEVERITY_WARNING, "watermark-label-mismatch",
					    "the watermark's payload is not bound to this label's ProduceID (label moved or replaced?)");
	return 0;
}

static int attach(aimark_report *r, const char *name, json_t *obj)
{
	RETURN_IF(obj == NULL, AIMARK_ENOMEM, "out of memory");
	return json_object_set_new(r->layers, name, obj) == 0 ? 0 : aimark__error_set(AIMARK_ENOMEM, "out of memory");
}

/* Detection failures on content the codec cannot handle are findings, not a failed verification. */
static int note_failure(aimark_report *r, const char *layer, int rc)
{
	if (rc == AIMARK_ENOMEM)
		return rc;
	int frc = aimark__findings_add(r->findings, AIMARK_SEVERITY_INFO, "layer-not-checked", "%s: %s", layer, aimark_error_last());
	aimark_error_clear();
	return frc;
}

static int check_image(aimark_report *r, const unsigned char *data, size_t len, const aimark_verify_options *o, int explicit_label,
		       int watermark)
{
	/*
	 * A JPEG is never decoded in full here: its luminance alone is decoded, at
	 * a DCT scaling (src/codec/jpeg_coef.c). The watermark's scaling is the one
	 * aimark_wm_image_detect_memory uses, so it gets the same answer; the
	 * explicit-label detector, which averages over blocks of
	 * aimark__explicit_image_plane_block pixels, takes that decode when it is
	 * no coarser than a block, and decodes at its own scaling otherwise.
	 */
	const int jpeg = strcmp(r->format, "jpeg") == 0;
	int rc = 0;
	aimark__image img;
	memset(&img, 0, sizeof img);
	uint32_t width = 0, height = 0;
	unsigned denom = 1;
	if (jpeg && watermark)
		rc = aimark__jpeg_decode_luma(data, len, aimark__wm_jpeg_max_denom, &img, &width, &height, &denom);
	else if (!jpeg && (explicit_label || watermark))
		rc = aimark__image_decode(data, len, r->format, &img, NULL);
	if (rc < 0)
		return note_failure(r, "image decode", rc);
	if (explicit_label) {
		json_t *e = NULL;
		if (jpeg) {
			if (watermark && denom <= aimark__explicit_image_plane_block(width, height)) {
				rc = aimark__explicit_image_detect_scaled(&img, width, height, denom, o->explicit_text, &e);
			} else {
				aimark__image luma;
				unsigned ex_denom = 1;
				rc = aimark__jpeg_decode_luma(data, len, aimark__explicit_image_plane_block, &luma, &width, &height, &ex_denom);
				if (rc < 0) {
					aimark__image_dispose(&img);
					return note_failure(r, "image decode", rc);
				}
				rc = aimark__explicit_image_detect_scaled(&luma, width, height, ex_denom, o->explicit_text, &e);
				aimark__image_dispose(&luma);
			}
		} else {
			rc = aimark__explicit_image_detect(&img, o->explicit_text, &e);
		}
		if (rc < 0) {
			json_decref(e);
			rc = note_failure(r, "explicit", rc);
		} else {
			rc = attach(r, "explicit", e);
		}
	}
	if (rc == 0 && watermark) {
		aimark_wm_result res;
		rc = aimark__wm_image_detect(&img, o->watermark_keys, o->n_watermark_keys, &res);
		if (rc < 0)
			rc = note_failure(r, "watermark", rc);
		else {
			json_t *w = result_json(&res, o);
			rc = attach(r, "watermark", w);
			if (rc == 0)
				rc = agreement(r, w);
		}
	}
	aimark__image_dispose(&img);
	return rc;
}

/* Frames decoded per step of the audio checks (about 0.1-0.5 s of audio). */
#define AUDIO_CHUNK_FRAMES 8192

/* The audio does not decode: both requested layers are not checked, for the same reason. */
static int audio_not_checked(aimark_report *r, int explicit_label, int watermark, int rc)
{
	if (rc == AIMARK_ENOMEM)
		return rc;
	char msg[512];
	snprintf(msg, sizeof msg, "%s", aimark_error_last());
	int frc = 0;
	if (explicit_label)
		frc = aimark__findings_add(r->findings, AIMARK_SEVERITY_INFO, "layer-not-checked", "explicit: %s", msg);
	if (frc == 0 && watermark)
		frc = aimark__findings_add(r->findings, AIMARK_SEVERITY_INFO, "layer-not-checked", "audio decode: %s", msg);
	aimark_error_clear();
	return frc;
}

/*
 * Audio is decoded once, chunk by chunk, and every chunk goes to the explicit-label scan and to
 * the watermark detector: one decoding pass, and memory stays a few seconds of audio whatever the
 * length. A layer that fails is noted and dropped; the other goes on.
 */
static int check_audio(aimark_report *r, const unsigned char *data, size_t len, const aimark_verify_options *o, int explicit_label,
		       int watermark)
{
	if (!explicit_label && !watermark)
		return 0;
	aimark__audio_reader *rd = NULL;
	aimark__audio_info info;
	int rc = aimark__audio_reader_open(&rd, data, len, r->format, &info);
	if (rc < 0)
		return audio_not_checked(r, explicit_label, watermark, rc);
	aimark__explicit_audio_scan *ex = NULL;
	aimark_wm_audio_detector *wm = NULL;
	float *buf = NULL;
	if (explicit_label && (rc = aimark__explicit_audio_scan_new(&ex, info.channels, info.channel_mask, info.sample_rate)) < 0)
		rc = note_failure(r, "explicit", rc);
	if (rc == 0 && watermark &&
	    (rc = aimark_wm_audio_detector_new(&wm, o->watermark_keys, o->n_watermark_keys, info.sample_rate, info.channels)) < 0)
		rc = note_failure(r, "watermark", rc);
	if (rc == 0 && (ex || wm)) {
		buf = aimark__malloc((size_t)AUDIO_CHUNK_FRAMES * info.channels * sizeof *buf);
		if (buf == NULL)
			rc = aimark__error_set(AIMARK_ENOMEM, "out of memory");
	}
	while (rc == 0 && (ex || wm)) {
		size_t got = 0;
		int lrc = aimark__audio_reader_read(rd, buf, AUDIO_CHUNK_FRAMES, &got);
		if (lrc < 0) {
			rc = audio_not_checked(r, ex != NULL, wm != NULL, lrc);
			aimark__explicit_audio_scan_free(ex);
			aimark_wm_audio_detector_free(wm);
			ex = NULL;
			wm = NULL;
			break;
		}
		if (got == 0)
			break;
		if (ex && (lrc = aimark__explicit_audio_scan_push(ex, buf, got)) < 0) {
			rc = note_failure(r, "explicit", lrc);
			aimark__explicit_audio_scan_free(ex);
			ex = NULL;
		}
		if (rc == 0 && wm && (lrc = aimark_wm_audio_detector_feed(wm, buf, got)) < 0) {
			rc = note_failure(r, "watermark", lrc);
			aimark_wm_audio_detector_free(wm);
			wm = NULL;
		}
	}
	if (rc == 0 && ex) {
		json_t *e = NULL;
		int lrc = aimark__explicit_audio_scan_finish(ex, &e);
		if (lrc < 0) {
			json_decref(e);
			rc = note_failure(r, "explicit", lrc);
		} else {
			rc = attach(r, "explicit", e);
		}
	}
	if (rc == 0 && wm) {
		aimark_wm_result res;
		int lrc = aimark_wm_audio_detector_result(wm, &res);
		if (lrc < 0) {
			rc = note_failure(r, "watermark", lrc);
		} else {
			json_t *w = result_json(&res, o);
			rc = attach(r, "watermark", w);
			if (rc == 0)
				rc = agreement(r, w);
		}
	}
	aimark__explicit_audio_scan_free(ex);
	aimark_wm_audio_detector_free(wm);
	aimark__free(buf);
	aimark__audio_reader_free(rd);
	return rc;
}

static int check_text(aimark_report *r, const unsigned char *data, size_t len, const aimark_verify_options *o, int explicit_label,
		      int watermark)
{
	json_t *e = NULL, *w = NULL;
	int rc = aimark__text_detect(data, len, r->format, o->watermark_keys, watermark ? o->n_watermark_keys : 0, &e, &w);
	if (rc < 0) {
		json_decref(e);
		json_decref(w);
		return note_failure(r, "text", rc);
	}
	if (explicit_label)
		rc = attach(r, "explicit", e);
	else
		json_decref(e);
	if (rc == 0 && watermark) {
		rc = attach(r, "watermark", w);
		if (rc == 0)
			rc = agreement(r, w);
	} else {
		json_decref(w);
	}
	return rc;
}

int aimark__verify_content_layers(aimark_report *r, aimark_source *src, const aimark_verify_options *o)
{
	int modality = aimark__modality_of(r->format);
	int explicit_label = wants(o, AIMARK_LAYER_EXPLICIT);
	int watermark = wants(o, AIMARK_LAYER_WATERMARK) && o->n_watermark_keys > 0;
	if (modality == AIMARK__MODALITY_OTHER || (!explicit_label && !watermark))
		return 0;
	aimark_buf storage = AIMARK_BUF_INIT;
	const unsigned char *data = NULL;
	int rc = aimark__source_load(src, MAX_CONTENT_FILE, &storage, &data);
	if (rc < 0) {
		aimark_buf_dispose(&storage);
		return note_failure(r, "content", rc);
	}
	size_t len = (size_t)aimark_source_size(src);
	if (modality == AIMARK__MODALITY_IMAGE)
		rc = check_image(r, data, len, o, explicit_label, watermark);
	else if (modality == AIMARK__MODALITY_AUDIO)
		rc = check_audio(r, data, len, o, explicit_label, watermark);
	else
		rc = check_text(r, data, len, o, explicit_label, watermark);
	aimark_buf_dispose(&storage);
	return rc;
}

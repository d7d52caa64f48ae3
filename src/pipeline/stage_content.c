/*
 * The content stage of aimark_mark: the layers that change the essence
 * (explicit label, watermark) run before the metadata label is written, so
 * the label's content hash covers the final content. Each modality decodes
 * only when one of these layers is asked for.
 */
#include <string.h>

#include "codec/audio_codec.h"
#include "codec/image_codec.h"
#include "core/internal.h"
#include "core/io_internal.h"
#include "crypto/crypto.h"
#include "label/explicit_audio.h"
#include "label/explicit_image.h"
#include "pipeline_internal.h"
#include "text/text_stage.h"
#include "wm/wm_audio.h"
#include "wm/wm_image.h"

#define MAX_CONTENT_FILE (UINT64_C(1) << 31)

int aimark__modality_of(const char *format)
{
	static const struct { const char *name; int modality; } map[] = {
		{ "jpeg", AIMARK__MODALITY_IMAGE }, { "png", AIMARK__MODALITY_IMAGE }, { "webp", AIMARK__MODALITY_IMAGE },
		{ "wav", AIMARK__MODALITY_AUDIO }, { "mp3", AIMARK__MODALITY_AUDIO }, { "flac", AIMARK__MODALITY_AUDIO },
		{ "ogg", AIMARK__MODALITY_AUDIO }, { "mp4", AIMARK__MODALITY_AUDIO } /* M4A; files with video are refused */,
		{ "text", AIMARK__MODALITY_TEXT }, { "markdown", AIMARK__MODALITY_TEXT },
		{ "html", AIMARK__MODALITY_TEXT },
	};
	for (size_t i = 0; format && i < sizeof map / sizeof map[0]; i++)
		if (strcmp(format, map[i].name) == 0)
			return map[i].modality;
	return AIMARK__MODALITY_OTHER;
}

int aimark__watermark_payload(const char *produce_id, unsigned char payload[8])
{
	unsigned char digest[AIMARK__HASH_MAX];
	RETURN_IF(produce_id == NULL, AIMARK_EINVAL, "watermark: no ProduceID to bind to");
	RETURN_IF_ERR(aimark__hash_oneshot(AIMARK__HASH_SHA256, produce_id, strlen(produce_id), digest));
	memcpy(payload, digest, 8);
	return 0;
}

static int image_stage(const unsigned char *data, size_t len, const char *format, const aimark_mark_options *o,
		       const unsigned char payload[8], aimark_buf *out)
{
	int explicit_label = (o->layers & AIMARK_LAYER_EXPLICIT) != 0, watermark = (o->layers & AIMARK_LAYER_WATERMARK) != 0;
	/* A watermark alone on a JPEG goes into the DCT coefficients: no decode-encode generation loss. */
	if (watermark && !explicit_label && strcmp(format, "jpeg") == 0)
		return aimark__wm_jpeg_embed(data, len, o->watermark_key, payload, o->watermark_strength, out);
	aimark__image img;
	aimark__image_coding coding;
	RETURN_IF_ERR(aimark__image_decode(data, len, format, &img, &coding));
	int rc = 0;
	if (explicit_label)
		rc = aimark__explicit_image_apply(&img, o, NULL);
	if (rc == 0 && watermark)
		rc = aimark__wm_image_embed(&img, o->watermark_key, payload, o->watermark_strength);
	if (rc == 0)
		rc = aimark__image_encode(&img, &coding, data, len, out);
	aimark__image_dispose(&img);
	return rc;
}

/* Audio: decode once, add the explicit label and/or the watermark, encode once (a lossy file loses one generation). */
static int audio_stage(const unsigned char *data, size_t len, const char *format, const aimark_mark_options *o,
		       const unsigned char payload[8], aimark_buf *out)
{
	if (!(o->layers & AIMARK_LAYER_WATERMARK))
		return aimark__explicit_audio_apply(data, len, format, o, out);
	aimark__audio pcm;
	aimark__audio_info info;
	int rc = (o->layers & AIMARK_LAYER_EXPLICIT) ? aimark__explicit_audio_apply_decoded(data, len, format, o, &pcm, &info)
						     : aimark__audio_decode(data, len, format, &pcm, &info);
	RETURN_IF_ERR(rc);
	/* with the decoder's channel layout, so that an LFE channel stays unmarked */
	rc = aimark__wm_audio_embed_layout(pcm.samples, pcm.frames, pcm.sample_rate, pcm.channels, info.channel_mask,
					   o->watermark_key, payload, o->watermark_strength);
	if (rc == 0)
		rc = aimark__audio_encode(&pcm, &info, data, len, out);
	aimark__audio_dispose(&pcm);
	return rc;
}

int aimark__content_stage(aimark_source *in, const aimark__format_ops *ops, const aimark_mark_options *o,
			  const char *produce_id, aimark_buf *out)
{
	if ((o->layers & (AIMARK_LAYER_EXPLICIT | AIMARK_LAYER_WATERMARK)) == 0)
		return 0;
	int modality = aimark__modality_of(ops->name);
	RETURN_IF(modality == AIMARK__MODALITY_OTHER, AIMARK_EUNSUPPORTED,
		  "explicit labels and watermarks are not available for %s files (images, audio and text have them)", ops->name);
	unsigned char payload[8];
	RETURN_IF_ERR(aimark__watermark_payload(produce_id, payload));
	aimark_buf storage = AIMARK_BUF_INIT;
	const unsigned char *data = NULL;
	int rc = aimark__source_load(in, MAX_CONTENT_FILE, &storage, &data);
	size_t len = (size_t)aimark_source_size(in);
	if (rc == 0 && modality == AIMARK__MODALITY_IMAGE)
		rc = image_stage(data, len, ops->name, o, payload, out);
	else if (rc == 0 && modality == AIMARK__MODALITY_AUDIO)
		rc = audio_stage(data, len, ops->name, o, payload, out);
	else if (rc == 0)
		rc = aimark__text_stage(data, len, ops->name, o, payload, out);
	aimark_buf_dispose(&storage);
	return rc < 0 ? rc : 1;
}

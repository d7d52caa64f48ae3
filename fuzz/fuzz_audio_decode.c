/*
 * Audio decoder on arbitrary bytes: the first byte picks the format ("wav",
 * "flac", "ogg", "mp3", "mp4"), the rest is the file. Decoding must never
 * crash; what decodes is run through the rhythm detector and, when short,
 * encoded again, and our own output must decode.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/audio_codec.h"
#include "core/internal.h"
#include "label/explicit_audio.h"

#define MAX_FRAMES (1u << 18) /* decoded frames looked at */
#define MAX_REENCODE 48000u   /* frames re-encoded */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *formats[] = { "wav", "flac", "ogg", "mp3", "mp4" };
	if (size < 1 || size > (1u << 20))
		return 0;
	const char *format = formats[data[0] % 5];
	data++;
	size--;
	aimark__audio_reader *r = NULL;
	aimark__audio_info info;
	if (aimark__audio_reader_open(&r, data, size, format, &info) != 0)
		return 0;
	uint32_t ch = info.channels;
	float *pcm = malloc((size_t)MAX_FRAMES * ch * sizeof(float));
	size_t frames = 0;
	int rc = 0, complete = 0;
	while (pcm && frames < MAX_FRAMES) {
		size_t got = 0;
		rc = aimark__audio_reader_read(r, pcm + frames * ch, MAX_FRAMES - frames < 4096 ? MAX_FRAMES - frames : 4096, &got);
		if (rc != 0)
			break;
		if (got == 0) {
			complete = 1;
			break;
		}
		frames += got;
	}
	aimark__audio_reader_free(r);
	if (pcm && frames > 0) {
		aimark__rhythm_detection det;
		(void)aimark__rhythm_detect_pcm(pcm, frames, ch, info.channel_mask, info.sample_rate, &det);
	}
	if (pcm && complete && frames > 0 && frames <= MAX_REENCODE) {
		aimark__audio a = { pcm, frames, ch, info.sample_rate };
		aimark_buf out = AIMARK_BUF_INIT;
		if (aimark__audio_encode(&a, &info, data, size, &out) == 0) {
			aimark__audio back;
			if (aimark__audio_decode(out.ptr, out.size, format, &back, NULL) != 0)
				abort(); /* our own output must decode */
			if (back.channels != ch || back.sample_rate != info.sample_rate)
				abort();
			aimark__audio_dispose(&back);
		}
		aimark_buf_dispose(&out);
	}
	free(pcm);
	return 0;
}

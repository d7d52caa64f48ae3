/*
 * Fuzzes the audio watermark detector (and the embedder on the same
 * samples). Input: byte 0 picks the sample rate, byte 1 the channel count,
 * byte 2 the feed block size (its low bit also gives the embedder a full
 * channel layout, so that with 4+ channels the LFE one is skipped), byte 3
 * the strength (above 4 is clamped by the hook); the rest are 16-bit
 * samples, repeated to about 2.5 s so that a window is analysed, or, when
 * byte 0 / 6 is odd and there are at most 2 channels, to 16 s, so that the
 * stream-long folds are built and searched too.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aimark/watermark.h"
#include "aimark/watermark_audio.h"
#include "wm/wm_audio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned rates[] = { 8000, 11025, 16000, 22050, 7999, 192001 };
	if (size < 6)
		return 0;
	unsigned rate = rates[data[0] % 6], channels = data[1] % 10; /* 0 and 9 are invalid on purpose */
	size_t block = (size_t)data[2] * 37 + 1;
	float strength = (float)data[3] / 50.0f; /* 0..5.1: above 4 is clamped */
	const uint8_t *pcm = data + 4;
	size_t nsamp = (size - 4) / 2;
	if (nsamp == 0)
		return 0;
	unsigned ch = channels ? channels : 1;
	double seconds = (data[0] / 6) % 2 && ch <= 2 ? 16.0 : 2.5;
	size_t frames = (size_t)(seconds * (rate < 22050 ? rate : 22050));
	float *s = malloc(frames * ch * sizeof *s);
	if (s == NULL)
		return 0;
	for (size_t i = 0; i < frames * ch; i++) {
		size_t j = i % nsamp;
		s[i] = (int16_t)(pcm[2 * j] | pcm[2 * j + 1] << 8) / 32768.0f;
	}
	static const unsigned char kb[32] = { 42 };
	static const unsigned char payload[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	aimark_wm_key *key = NULL;
	if (aimark_wm_key_new(&key, kb) != 0) {
		free(s);
		return 0;
	}
	const aimark_wm_key *keys[1] = { key };
	aimark_wm_audio_detector *d = NULL;
	if (aimark_wm_audio_detector_new(&d, keys, 1, rate, channels) == 0) {
		int rc = 0;
		for (size_t r = 0; r < frames && rc == 0; r += block)
			rc = aimark_wm_audio_detector_feed(d, s + r * ch, frames - r < block ? frames - r : block);
		aimark_wm_result res;
		if (rc == 0 && aimark_wm_audio_detector_result(d, &res) == 0 && res.detected && res.false_alarm_probability > 1e-9)
			abort(); /* a detection must always meet the threshold */
		aimark_wm_audio_detector_free(d);
	}
	uint64_t mask = (data[2] & 1) && ch <= 8 ? ((uint64_t)1 << ch) - 1 : 0;
	(void)aimark__wm_audio_embed_layout(s, frames, rate, channels, mask, key, payload, strength);
	aimark_wm_key_free(key);
	free(s);
	return 0;
}

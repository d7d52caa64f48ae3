/*
 * How a speech or music service watermarks audio while it is generated:
 *   watermark_audio_stream [KEYDIR]
 * The "generator" here is a synthesiser that yields 100 ms blocks of stereo
 * audio at 44.1 kHz for 20 s; each block is marked in place as it comes, and
 * the marked blocks would be sent on at once (here they are collected). The
 * payload is the one aimark binds to a metadata label: the first 8 bytes of
 * SHA-256 of the label's ProduceID. A detector then reads the marked stream
 * block by block, and the unmarked one for comparison.
 * With KEYDIR the key is KEYDIR/watermark.key, otherwise a fresh random key.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <aimark/aimark.h>

#define RATE 44100u
#define CHANNELS 2u
#define BLOCK 4410u /* 100 ms */
#define SECONDS 20u
#define PI 3.14159265358979323846

/* Block `index` of the stand-in generator: a few drifting partials and some noise. */
static void generate(size_t index, float *out)
{
	static unsigned int seed = 12345;
	for (size_t i = 0; i < BLOCK; i++) {
		double t = (double)(index * BLOCK + i) / RATE;
		double v = 0.2 * sin(2 * PI * 220.0 * t) + 0.1 * sin(2 * PI * (660.0 + 40.0 * sin(t)) * t) +
			   0.05 * sin(2 * PI * 1250.0 * t) * (0.5 + 0.5 * sin(2 * PI * 0.7 * t));
		seed = seed * 1103515245u + 12345u;
		v += 0.02 * ((double)(seed >> 8) / 16777216.0 - 0.5);
		out[i * CHANNELS] = (float)v;
		out[i * CHANNELS + 1] = (float)(0.9 * v);
	}
}

/* Feeds a whole stream to a new detector, block by block. */
static int detect(const aimark_wm_key *key, const float *audio, size_t frames, aimark_wm_result *res)
{
	aimark_wm_audio_detector *d = NULL;
	const aimark_wm_key *keys[1] = { key };
	int rc = aimark_wm_audio_detector_new(&d, keys, 1, RATE, CHANNELS);
	for (size_t at = 0; rc == 0 && at < frames; at += BLOCK)
		rc = aimark_wm_audio_detector_feed(d, audio + at * CHANNELS, frames - at < BLOCK ? frames - at : BLOCK);
	if (rc == 0)
		rc = aimark_wm_audio_detector_result(d, res);
	aimark_wm_audio_detector_free(d);
	return rc;
}

int main(int argc, char **argv)
{
	aimark_wm_key *key = NULL;
	int rc = argc > 1 ? aimark_keydir_load_watermark(&key, argv[1]) : aimark_wm_key_generate(&key);
	if (rc != 0) {
		fprintf(stderr, "key: %s\n", aimark_error_last());
		return 1;
	}
	/* The 64-bit payload: aimark uses the first 8 bytes of SHA-256(ProduceID); any 8 bytes work. */
	const unsigned char payload[AIMARK_WM_PAYLOAD_BYTES] = { 0x0c, 0x18, 0x1a, 0x34, 0x27, 0x80, 0x4d, 0x8d };

	size_t total = (size_t)SECONDS * RATE;
	float *original = malloc(total * CHANNELS * sizeof *original);
	float *marked = malloc(total * CHANNELS * sizeof *marked);
	float block[BLOCK * CHANNELS];
	aimark_wm_audio_embedder *e = NULL;
	if (original == NULL || marked == NULL ||
	    aimark_wm_audio_embedder_new(&e, key, payload, RATE, CHANNELS, 1.0f) != 0) {
		fprintf(stderr, "embedder: %s\n", original && marked ? aimark_error_last() : "out of memory");
		free(original);
		free(marked);
		aimark_wm_key_free(key);
		return 1;
	}
	printf("embedder latency: %zu frames\n", aimark_wm_audio_embedder_latency(e));

	size_t written = 0;
	for (size_t b = 0; b * BLOCK < total; b++) {
		generate(b, block);
		memcpy(original + b * BLOCK * CHANNELS, block, sizeof block);
		size_t ready = 0;
		if (aimark_wm_audio_embedder_process(e, block, BLOCK, &ready) != 0)
			break;
		/* The first `ready` frames of the block are marked output, ready to send. */
		memcpy(marked + written * CHANNELS, block, ready * CHANNELS * sizeof *block);
		written += ready;
	}
	/* End of stream: the frames held back for the latency. */
	size_t got;
	do {
		if (aimark_wm_audio_embedder_flush(e, marked + written * CHANNELS, total - written, &got) != 0)
			break;
		written += got;
	} while (got > 0 && written < total);
	aimark_wm_audio_embedder_free(e);
	printf("marked %zu of %zu frames\n", written, total);

	aimark_wm_result with, without;
	rc = detect(key, marked, written, &with);
	if (rc == 0)
		rc = detect(key, original, total, &without);
	if (rc != 0)
		fprintf(stderr, "detect: %s\n", aimark_error_last());
	else {
		printf("marked:   detected %d, authenticated %d, payload %02x%02x%02x%02x%02x%02x%02x%02x, false alarm %.3g\n",
		       with.detected, with.authenticated, with.payload[0], with.payload[1], with.payload[2], with.payload[3],
		       with.payload[4], with.payload[5], with.payload[6], with.payload[7], with.false_alarm_probability);
		printf("original: detected %d\n", without.detected);
	}
	free(original);
	free(marked);
	aimark_wm_key_free(key);
	return rc == 0 && written == total && with.detected && !without.detected ? 0 : 1;
}

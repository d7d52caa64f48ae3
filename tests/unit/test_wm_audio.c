/* Audio watermark engine: round trips, keys, streaming, attacks simulated in memory, bad input. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "aimark/watermark_audio.h"
#include "codec/audio_codec.h"
#include "wm/wm_audio.h"

static const unsigned char PAYLOAD[8] = { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef };


static uint32_t rng_state;
static float frand(void) /* uniform -1..1, deterministic */
{
	rng_state = rng_state * 1664525u + 1013904223u;
	return (float)((rng_state >> 8) / 8388608.0 - 1.0);
}

/* Music-like test signal: chords of harmonic tones changing every 0.4 s, noise, a slow envelope. */
static float *make_signal(size_t frames, unsigned rate, unsigned channels, uint32_t seed)
{
	float *s = malloc(frames * channels * sizeof *s + 1);
	assert_non_null(s);
	rng_state = seed;
	double f0[3] = { 220, 277, 330 }, ph[3][6] = { { 0 } };
	size_t note = (size_t)(0.4 * rate);
	for (size_t i = 0; i < frames; i++) {
		if (i % note == 0)
			for (int v = 0; v < 3; v++)
				f0[v] = 110.0 * pow(2.0, (int)((frand() + 1) * 12) / 12.0 + v * 0.33);
		double x = 0;
		for (int v = 0; v < 3; v++)
			for (int h = 0; h < 6; h++) {
				double f = f0[v] * (h + 1);
				if (f < rate / 2.0) {
					ph[v][h] += 2 * M_PI * f / rate;
					x += sin(ph[v][h]) / (h + 1);
				}
			}
		double env = 0.6 + 0.4 * sin(2 * M_PI * 0.7 * i / rate);
		float y = (float)(0.05 * env * x) + 0.02f * frand();
		for (unsigned c = 0; c < channels; c++)
			s[i * channels + c] = y * (c % 2 ? 0.8f : 1.0f);
	}
	return s;
}

static aimark_wm_key *key_from(unsigned char b)
{
	unsigned char bytes[32];
	memset(bytes, b, sizeof bytes);
	aimark_wm_key *k = NULL;
	assert_int_equal(aimark_wm_key_new(&k, bytes), 0);
	return k;
}

static void detect1(const float *s, size_t frames, unsigned rate, unsigned ch, const aimark_wm_key *k, aimark_wm_result *res)
{
	const aimark_wm_key *keys[1] = { k };
	assert_int_equal(aimark__wm_audio_detect(s, frames, rate, ch, keys, 1, res), 0);
}

static void test_round_trip(void **state)
{
	(void)state;
	unsigned rate = 16000;
	size_t frames = 12 * rate;
	float *s = make_signal(frames, rate, 1, 1);
	aimark_wm_key *k = key_from(7);
	assert_int_equal(aimark__wm_audio_embed(s, frames, rate, 1, k, PAYLOAD, 1.0f), 0);
	aimark_wm_result res;
	detect1(s, frames, rate, 1, k, &res);
	assert_int_equal(res.detected, 1);
	assert_int_equal(res.authenticated, 1);
	assert_int_equal(res.key_index, 0);
	assert_memory_equal(res.payload, PAYLOAD, 8);
	assert_true(res.false_alarm_probability <= 1e-9);
	assert_true(res.score > 6);
	/* another key finds nothing */
	aimark_wm_key *other = key_from(8);
	detect1(s, frames, rate, 1, other, &res);
	assert_int_equal(res.detected, 0);
	assert_int_equal(res.key_index, -1);
	/* two keys: the right one is reported by index */
	const aimark_wm_key *keys[2] = { other, k };
	assert_int_equal(aimark__wm_audio_detect(s, frames, rate, 1, keys, 2, &res), 0);
	assert_int_equal(res.detected, 1);
	assert_int_equal(res.key_index, 1);
	aimark_wm_key_free(other);
	aimark_wm_key_free(k);
	free(s);
}

static void test_unmarked_and_silence(void **state)
{
	(void)state;
	unsigned rate = 16000;
	size_t frames = 12 * rate;
	float *s = make_signal(frames, rate, 1, 2);
	aimark_wm_key *k = key_from(7);
	aimark_wm_result res;
	detect1(s, frames, rate, 1, k, &res);
	assert_int_equal(res.detected, 0);
	assert_int_equal(res.authenticated, 0);
	assert_true(res.false_alarm_probability > 1e-9);
	memset(s, 0, frames * sizeof *s);
	detect1(s, frames, rate, 1, k, &res);
	assert_int_equal(res.detected, 0);
	/* marking silence leaves silence */
	assert_int_equal(aimark__wm_audio_embed(s, frames, rate, 1, k, PAYLOAD, 1.0f), 0);
	for (size_t i = 0; i < frames; i++)
		assert_true(s[i] == 0.0f);
	/* too short to analyse, and empty */
	detect1(s, rate / 2, rate, 1, k, &res);
	assert_int_equal(res.detected, 0);
	detect1(s, 0, rate, 1, k, &res);
	assert_int_equal(res.detected, 0);
	aimark_wm_key_free(k);
	free(s);
}

/* The streaming embedder with odd block sizes gives the one-shot result, frame for frame. */
static void test_streaming_equivalence(void **state)
{
	(void)state;
	unsigned rate = 22050, ch = 3;
	size_t frames = 5 * rate + 77;
	float *ref = make_signal(frames, rate, ch, 3);
	float *in = malloc(frames * ch * sizeof *in);
	float *out = malloc(frames * ch * sizeof *out);
	assert_non_null(in);
	assert_non_null(out);
	memcpy(in, ref, frames * ch * sizeof *in);
	aimark_wm_key *k = key_from(9);
	assert_int_equal(aimark__wm_audio_embed(ref, frames, rate, ch, k, PAYLOAD, 1.0f), 0);
	aimark_wm_audio_embedder *e = NULL;
	assert_int_equal(aimark_wm_audio_embedder_new(&e, k, PAYLOAD, rate, ch, 1.0f), 0);
	size_t lat = aimark_wm_audio_embedder_latency(e);
	/* the look-ahead of three slots (240 ms) plus a few hops */
	assert_true(lat >= (size_t)(0.24 * rate) && lat < rate / 2);
	size_t r = 0, w = 0;
	static const size_t sizes[] = { 1, 0, 333, 4096, 17, 1000, 2 };
	float *tmp = malloc((4096 + 1) * ch * sizeof *tmp);
	assert_non_null(tmp);
	for (int i = 0; r < frames; i++) {
		size_t len = sizes[i % 7];
		if (len > frames - r)
			len = frames - r;
		memcpy(tmp, in + r * ch, len * ch * sizeof *tmp);
		size_t got = 99;
		assert_int_equal(aimark_wm_audio_embedder_process(e, tmp, len, &got), 0);
		assert_true(got <= len);
		memcpy(out + w * ch, tmp, got * ch * sizeof *tmp);
		r += len;
		w += got;
		assert_true(r - w <= lat);
	}
	for (;;) {
		size_t got = 0;
		assert_int_equal(aimark_wm_audio_embedder_flush(e, out + w * ch, frames - w, &got), 0);
		w += got;
		if (got == 0 || w == frames)
			break;
	}
	size_t extra = 5;
	assert_int_equal(aimark_wm_audio_embedder_flush(e, tmp, 1, &extra), 0);
	assert_int_equal(extra, 0);
	assert_int_equal(w, frames);
	for (size_t i = 0; i < frames * ch; i++)
		assert_true(fabsf(out[i] - ref[i]) < 1e-6f);
	/* something changed, but not much */
	double num = 0, den = 0;
	for (size_t i = 0; i < frames * ch; i++) {
		num += (double)in[i] * in[i];
		den += (double)(out[i] - in[i]) * (out[i] - in[i]);
	}
	assert_true(den > 0);
	assert_true(10 * log10(num / den) > 12);
	/* processing after flush is refused */
	size_t got = 0;
	assert_int_equal(aimark_wm_audio_embedder_process(e, tmp, 1, &got), AIMARK_EINVAL);
	aimark_wm_audio_embedder_free(e);
	aimark_wm_key_free(k);
	free(tmp);
	free(in);
	free(out);
	free(ref);
}

/* Output length equals input length for awkward lengths. */
static void test_lengths(void **state)
{
	(void)state;
	aimark_wm_key *k = key_from(1);
	static const size_t lens[] = { 0, 1, 2, 255, 256, 257, 1000, 12345 };
	for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
		size_t n = lens[i];
		float *s = make_signal(n + 1, 8000, 2, 5);
		float *copy = malloc((n + 1) * 2 * sizeof *copy);
		memcpy(copy, s, (n + 1) * 2 * sizeof *copy);
		assert_int_equal(aimark__wm_audio_embed(s, n, 8000, 2, k, PAYLOAD, 1.0f), 0);
		/* the frame after the buffer is untouched */
		assert_true(s[2 * n] == copy[2 * n] && s[2 * n + 1] == copy[2 * n + 1]);
		free(s);
		free(copy);
	}
	aimark_wm_key_free(k);
}

/* Linear-interpolation resampling: a crude speed change (time and pitch together). */
static float *respeed(const float *s, size_t frames, double factor, size_t *out_frames)
{
	size_t n = (size_t)(frames / factor);
	float *o = malloc(n * sizeof *o + 1);
	for (size_t i = 0; i < n; i++) {
		double x = i * factor;
		size_t j = (size_t)x;
		double f = x - j;
		o[i] = j + 1 < frames ? (float)((1 - f) * s[j] + f * s[j + 1]) : s[frames - 1];
	}
	*out_frames = n;
	return o;
}

static void test_attacks_in_memory(void **state)
{
	(void)state;
	unsigned rate = 16000;
	size_t frames = 16 * rate;
	float *s = make_signal(frames, rate, 1, 11);
	aimark_wm_key *k = key_from(3);
	assert_int_equal(aimark__wm_audio_embed(s, frames, rate, 1, k, PAYLOAD, 1.0f), 0);
	aimark_wm_result res;
	/* speed +4% and -3% */
	static const double factors[] = { 1.04, 0.97 };
	for (int i = 0; i < 2; i++) {
		size_t n = 0;
		float *t = respeed(s, frames, factors[i], &n);
		detect1(t, n, rate, 1, k, &res);
		assert_int_equal(res.detected, 1);
		assert_memory_equal(res.payload, PAYLOAD, 8);
		free(t);
	}
	/* a 10 s excerpt at an arbitrary offset, with -10 dB gain, between unmarked audio */
	size_t ex = 10 * rate, pad = 3 * rate;
	float *cat = make_signal(ex + 2 * pad, rate, 1, 99);
	for (size_t i = 0; i < ex; i++)
		cat[pad + i] = 0.316f * s[12345 + i];
	detect1(cat, ex + 2 * pad, rate, 1, k, &res);
	assert_int_equal(res.detected, 1);
	assert_memory_equal(res.payload, PAYLOAD, 8);
	/* streaming detector fed in small pieces agrees */
	const aimark_wm_key *keys[1] = { k };
	aimark_wm_audio_detector *d = NULL;
	assert_int_equal(aimark_wm_audio_detector_new(&d, keys, 1, rate, 1), 0);
	for (size_t r = 0; r < frames; r += 999)
		assert_int_equal(aimark_wm_audio_detector_feed(d, s + r, frames - r < 999 ? frames - r : 999), 0);
	assert_int_equal(aimark_wm_audio_detector_result(d, &res), 0);
	assert_int_equal(res.detected, 1);
	aimark_wm_audio_detector_free(d);
	aimark_wm_key_free(k);
	free(cat);
	free(s);
}

/* Stereo at 48 kHz: the mark is in every channel, so a mono downmix carries it. */
static void test_stereo_downmix(void **state)
{
	(void)state;
	unsigned rate = 48000;
	size_t frames = 11 * rate;
	float *s = make_signal(frames, rate, 2, 21);
	aimark_wm_key *k = key_from(4);
	assert_int_equal(aimark__wm_audio_embed(s, frames, rate, 2, k, PAYLOAD, 1.0f), 0);
	float *m = malloc(frames * sizeof *m);
	for (size_t i = 0; i < frames; i++)
		m[i] = 0.5f * (s[2 * i] + s[2 * i + 1]);
	aimark_wm_result res;
	detect1(m, frames, rate, 1, k, &res);
	assert_int_equal(res.detected, 1);
	assert_memory_equal(res.payload, PAYLOAD, 8);
	/* the left channel alone too */
	for (size_t i = 0; i < frames; i++)
		m[i] = s[2 * i];
	detect1(m, frames, rate, 1, k, &res);
	assert_int_equal(res.detected, 1);
	aimark_wm_key_free(k);
	free(m);
	free(s);
}

/* A 5 s excerpt (just over one 4.8 s block) at an offset that is not a slot boundary. */
static void test_short_excerpt(void **state)
{
	(void)state;
	unsigned rate = 16000;
	size_t frames = 12 * rate, ex = 5 * rate, off = 2 * rate + 1234;
	float *s = make_signal(frames, rate, 1, 31);
	aimark_wm_key *k = key_from(6);
	assert_int_equal(aimark__wm_audio_embed(s, frames, rate, 1, k, PAYLOAD, 1.0f), 0);
	aimark_wm_result res;
	detect1(s + off, ex, rate, 1, k, &res);
	assert_int_equal(res.detected, 1);
	assert_memory_equal(res.payload, PAYLOAD, 8);
	/* 2 s is below the detector's minimum window: nothing, and no wrong payload */
	detect1(s + off, 2 * rate - 1, rate, 1, k, &res);
	assert_int_equal(res.detected, 0);
	aimark_wm_key_free(k);
	free(s);
}

/*
 * Feeds `len` mono frames in blocks of `block` to a detector for key k; when
 * `early` is not 0, asks for a verdict after `early` frames and requires it
 * to find nothing yet.
 */
static void detect_in_blocks(const float *s, size_t len, unsigned rate, const aimark_wm_key *k, size_t block,
			     size_t early, aimark_wm_result *res, aimark__wma_stats *st)
{
	const aimark_wm_key *keys[1] = { k };
	aimark_wm_audio_detector *d = NULL;
	assert_int_equal(aimark_wm_audio_detector_new(&d, keys, 1, rate, 1), 0);
	for (size_t fed = 0; fed < len;) {
		size_t n = len - fed < block ? len - fed : block;
		if (early > fed && early <= fed + n)
			n = early - fed;
		assert_int_equal(aimark_wm_audio_detector_feed(d, s + fed, n), 0);
		fed += n;
		if (fed == early) {
			assert_int_equal(aimark_wm_audio_detector_result(d, res), 0);
			assert_int_equal(res->detected, 0);
		}
	}
	assert_int_equal(aimark_wm_audio_detector_result(d, res), 0);
	aimark__wm_audio_detector_stats(d, st);
	aimark_wm_audio_detector_free(d);
}

/*
 * A mark too weak for any one 10 s window of a noise host: 80 s of it are
 * found by the stream-long folds (from an offset off the slot grid), also
 * when streamed in odd blocks with a verdict asked for too early, while a
 * 12 s excerpt of the same audio gives nothing.
 */
static void test_long_weak_mark_accumulates(void **state)
{
	(void)state;
	unsigned rate = 8000;
	size_t frames = 83 * (size_t)rate, off = 1234, len = 80 * (size_t)rate;
	float *s = malloc(frames * sizeof *s);
	assert_non_null(s);
	rng_state = 41;
	float lp = 0;
	for (size_t i = 0; i < frames; i++) { /* noise, low-passed */
		lp = 0.9f * lp + frand();
		s[i] = 0.05f * lp;
	}
	aimark_wm_key *k = key_from(9);
	assert_int_equal(aimark__wm_audio_embed(s, frames, rate, 1, k, PAYLOAD, 0.15f), 0);
	aimark_wm_result res;
	aimark__wma_stats st;
	detect_in_blocks(s + off, len, rate, k, len, 0, &res, &st);
	assert_int_equal(res.detected, 1);
	assert_memory_equal(res.payload, PAYLOAD, 8);
	assert_int_equal(st.accumulated, 1);
	assert_true(res.false_alarm_probability <= 1e-9);
	detect_in_blocks(s + off, len, rate, k, 12345, 20 * (size_t)rate, &res, &st);
	assert_int_equal(res.detected, 1);
	assert_memory_equal(res.payload, PAYLOAD, 8);
	assert_int_equal(st.accumulated, 1);
	detect1(s + off, 12 * (size_t)rate, rate, 1, k, &res);
	assert_int_equal(res.detected, 0);
	aimark_wm_key_free(k);
	free(s);
}

/* Through aimark_mark_memory: the decoder's layout reaches the engine, so a 5.1 WAV keeps its LFE samples. */
static void test_pipeline_keeps_lfe(void **state)
{
	(void)state;
	if (!tu_have_ffmpeg())
		skip();
	size_t n = 0;
	unsigned char *wav = (unsigned char *)tu_run_bytes(&n, "ffmpeg -v error -f lavfi -i sine=f=440:d=12:r=48000 "
							  "-af \"pan=5.1|c0=c0|c1=0.8*c0|c2=0.6*c0|c3=0.5*c0|c4=0.4*c0|c5=0.3*c0\" "
							  "-c:a pcm_s16le -f wav -");
	assert_non_null(wav);
	aimark_wm_key *k = NULL;
	assert_int_equal(aimark_wm_key_generate(&k), 0);
	aimark_mark_options o = AIMARK_MARK_OPTIONS_INIT;
	o.content_producer = "AimarkUnitTest";
	o.layers = AIMARK_LAYER_WATERMARK;
	o.watermark_key = k;
	aimark_buf out = AIMARK_BUF_INIT;
	assert_int_equal(aimark_mark_memory(wav, n, &o, &out, NULL), 0);
	aimark__audio a, b;
	aimark__audio_info ia, ib;
	assert_int_equal(aimark__audio_decode(wav, n, "wav", &a, &ia), 0);
	assert_int_equal(aimark__audio_decode(out.ptr, out.size, "wav", &b, &ib), 0);
	assert_int_equal(ia.channels, 6);
	assert_int_equal(ib.channel_mask, ia.channel_mask);
	assert_int_equal(a.frames, b.frames);
	double d_lfe = 0, d_fl = 0;
	for (size_t i = 0; i < a.frames; i++) {
		d_lfe += fabs(a.samples[i * 6 + 3] - b.samples[i * 6 + 3]);
		d_fl += fabs(a.samples[i * 6] - b.samples[i * 6]);
	}
	assert_true(d_lfe == 0);
	assert_true(d_fl > 0); /* the other channels carry the mark */
	aimark__audio_dispose(&a);
	aimark__audio_dispose(&b);
	aimark_buf_dispose(&out);
	aimark_wm_key_free(k);
	free(wav);
}

/* 5.1 (FL FR FC LFE BL BR): with the layout known the LFE channel is passed through unchanged. */
static void test_lfe_untouched(void **state)
{
	(void)state;
	unsigned rate = 48000, ch = 6;
	size_t frames = 11 * rate;
	float *s = make_signal(frames, rate, ch, 41);
	float *orig = malloc(frames * ch * sizeof *orig);
	memcpy(orig, s, frames * ch * sizeof *orig);
	aimark_wm_key *k = key_from(7);
	uint64_t mask_51 = 0x1 | 0x2 | 0x4 | 0x8 | 0x10 | 0x20;
	assert_int_equal(aimark__wm_audio_embed_layout(s, frames, rate, ch, mask_51, k, PAYLOAD, 1.0f), 0);
	double d_lfe = 0, d_fc = 0;
	for (size_t i = 0; i < frames; i++) {
		d_lfe += fabs(s[i * ch + 3] - orig[i * ch + 3]);
		d_fc += fabs(s[i * ch + 2] - orig[i * ch + 2]);
	}
	assert_true(d_lfe == 0);
	assert_true(d_fc > 0);
	/* the downmix of the marked channels still carries the mark */
	aimark_wm_result res;
	detect1(s, frames, rate, ch, k, &res);
	assert_int_equal(res.detected, 1);
	assert_memory_equal(res.payload, PAYLOAD, 8);
	/* without a layout every channel is marked, the fourth too */
	memcpy(s, orig, frames * ch * sizeof *orig);
	assert_int_equal(aimark__wm_audio_embed_layout(s, frames, rate, ch, 0, k, PAYLOAD, 1.0f), 0);
	d_lfe = 0;
	for (size_t i = 0; i < frames; i++)
		d_lfe += fabs(s[i * ch + 3] - orig[i * ch + 3]);
	assert_true(d_lfe > 0);
	aimark_wm_key_free(k);
	free(orig);
	free(s);
}

/* The pipeline hook clamps the strength to the audio maximum; the public embedder refuses beyond it. */
static void test_strength_clamp(void **state)
{
	(void)state;
	unsigned rate = 8000;
	size_t frames = 2 * rate;
	float *a = make_signal(frames, rate, 1, 51), *b = make_signal(frames, rate, 1, 51);
	aimark_wm_key *k = key_from(8);
	assert_int_equal(aimark__wm_audio_embed(a, frames, rate, 1, k, PAYLOAD, 8.0f), 0);
	assert_int_equal(aimark__wm_audio_embed(b, frames, rate, 1, k, PAYLOAD, AIMARK__WMA_MAX_STRENGTH), 0);
	assert_memory_equal(a, b, frames * sizeof *a);
	assert_int_equal(aimark__wm_audio_embed(a, frames, rate, 1, k, PAYLOAD, -1.0f), AIMARK_EINVAL);
	aimark_wm_audio_embedder *e = NULL;
	assert_int_equal(aimark_wm_audio_embedder_new(&e, k, PAYLOAD, rate, 1, 8.0f), AIMARK_EINVAL);
	assert_null(e);
	aimark_wm_key_free(k);
	free(a);
	free(b);
}

static void test_bad_arguments(void **state)
{
	(void)state;
	aimark_wm_key *k = key_from(5);
	const aimark_wm_key *keys[2] = { k, NULL };
	float s[64] = { 0 };
	aimark_wm_audio_embedder *e = NULL;
	assert_int_equal(aimark_wm_audio_embedder_new(&e, k, PAYLOAD, 7999, 1, 1), AIMARK_EUNSUPPORTED);
	assert_int_equal(aimark_wm_audio_embedder_new(&e, k, PAYLOAD, 192001, 1, 1), AIMARK_EUNSUPPORTED);
	assert_int_equal(aimark_wm_audio_embedder_new(&e, k, PAYLOAD, 44100, 0, 1), AIMARK_EUNSUPPORTED);
	assert_int_equal(aimark_wm_audio_embedder_new(&e, k, PAYLOAD, 44100, 9, 1), AIMARK_EUNSUPPORTED);
	assert_int_equal(aimark_wm_audio_embedder_new(&e, NULL, PAYLOAD, 44100, 1, 1), AIMARK_EINVAL);
	assert_int_equal(aimark_wm_audio_embedder_new(&e, k, NULL, 44100, 1, 1), AIMARK_EINVAL);
	assert_int_equal(aimark_wm_audio_embedder_new(&e, k, PAYLOAD, 44100, 1, -1), AIMARK_EINVAL);
	assert_int_equal(aimark_wm_audio_embedder_new(&e, k, PAYLOAD, 44100, 1, NAN), AIMARK_EINVAL);
	assert_int_equal(aimark_wm_audio_embedder_new(&e, k, PAYLOAD, 44100, 1, 5), AIMARK_EINVAL);
	assert_null(e);
	assert_int_equal(aimark__wm_audio_embed(NULL, 10, 44100, 1, k, PAYLOAD, 1), AIMARK_EINVAL);
	size_t got;
	assert_int_equal(aimark_wm_audio_embedder_process(NULL, s, 1, &got), AIMARK_EINVAL);
	aimark_wm_result res;
	assert_int_equal(aimark__wm_audio_detect(s, 64, 44100, 1, keys, 2, &res), AIMARK_EINVAL);
	assert_int_equal(res.detected, 0);
	assert_int_equal(aimark__wm_audio_detect(s, 64, 44100, 1, NULL, 1, &res), AIMARK_EINVAL);
	assert_int_equal(aimark__wm_audio_detect(s, 64, 1000, 1, keys, 1, &res), AIMARK_EUNSUPPORTED);
	assert_int_equal(aimark__wm_audio_detect(s, 64, 44100, 1, keys, 1, NULL), AIMARK_EINVAL);
	/* no keys: nothing to find, not an error */
	assert_int_equal(aimark__wm_audio_detect(s, 64, 44100, 1, keys, 0, &res), 0);
	assert_int_equal(res.detected, 0);
	/* hostile samples: NaN, infinities, huge values */
	size_t n = 3 * 8000;
	float *h = malloc(n * sizeof *h);
	for (size_t i = 0; i < n; i++)
		h[i] = i % 3 == 0 ? NAN : i % 3 == 1 ? INFINITY : 1e30f;
	assert_int_equal(aimark__wm_audio_detect(h, n, 8000, 1, keys, 1, &res), 0);
	assert_int_equal(res.detected, 0);
	aimark_wm_audio_embedder_free(NULL);
	aimark_wm_audio_detector_free(NULL);
	free(h);
	aimark_wm_key_free(k);
}

/* The layout: 240 sync cells, every coded bit exactly twice, and keys give different patterns. */
static void test_layout(void **state)
{
	(void)state;
	aimark_wm_key *a = key_from(1), *b = key_from(2);
	aimark__wma_layout la, lb;
	assert_int_equal(aimark__wma_layout_derive(&la, a), 0);
	assert_int_equal(aimark__wma_layout_derive(&lb, b), 0);
	int count[AIMARK__WM_CODED_BITS] = { 0 }, sync = 0, same = 0;
	for (int c = 0; c < AIMARK__WMA_CELLS; c++) {
		if (la.cell_bit[c] < 0)
			sync++;
		else
			count[la.cell_bit[c]]++;
		same += la.cell_bit[c] == lb.cell_bit[c] && la.cell_sign[c] == lb.cell_sign[c];
	}
	assert_int_equal(sync, AIMARK__WMA_SYNC_CELLS);
	for (int i = 0; i < AIMARK__WM_CODED_BITS; i++)
		assert_int_equal(count[i], 2);
	assert_true(same < AIMARK__WMA_CELLS / 4);
	assert_int_equal(aimark__wma_band_of(699.0), -1);
	assert_int_equal(aimark__wma_band_of(700.0), 0);
	assert_int_equal(aimark__wma_band_of(3399.0), AIMARK__WMA_BANDS - 1);
	assert_int_equal(aimark__wma_band_of(3400.0), -1);
	aimark_wm_key_free(a);
	aimark_wm_key_free(b);
}

/* Power of DFT bin k of s[from .. from + len) (Hann window). */
static double bin_power(const float *s, size_t from, size_t len, size_t k)
{
	double re = 0, im = 0;
	for (size_t i = 0; i < len; i++) {
		double w = 0.5 - 0.5 * cos(2 * M_PI * i / len), a = -2 * M_PI * (double)k * i / len;
		re += w * s[from + i] * cos(a);
		im += w * s[from + i] * sin(a);
	}
	return re * re + im * im;
}

/* Power (dB) of s[from .. from + len) in the DFT bins between f_lo and f_hi (Hann window). */
static double band_power_db(const float *s, size_t from, size_t len, unsigned rate, double f_lo, double f_hi)
{
	double p = 0;
	for (size_t k = (size_t)ceil(f_lo * len / rate); (double)k * rate / len <= f_hi; k++)
		p += bin_power(s, from, len, k);
	return 10 * log10(p + 1e-30);
}

/* Mean over the DFT bins between f_lo and f_hi of their power in dB (Hann window): the detector's view of a cell. */
static double band_log_power_db(const float *s, size_t from, size_t len, unsigned rate, double f_lo, double f_hi)
{
	double sum = 0;
	int n = 0;
	for (size_t k = (size_t)ceil(f_lo * len / rate); (double)k * rate / len <= f_hi; k++, n++)
		sum += 10 * log10(bin_power(s, from, len, k) + 1e-30);
	return n > 0 ? sum / n : 0;
}

/*
 * Informed embedding: in a cell where the host is much louder than in the
 * neighbouring slots, the embedder takes back part of the excess whatever the
 * cell's sign, so the changes made for the two signs add up to a cut in the
 * cell's mean log power; in a cell where the host is steady they nearly
 * cancel.
 */
static void test_informed_embedding(void **state)
{
	(void)state;
	const unsigned rate = 16000;
	const int band = 5, boosted = 20, steady = 35;
	const size_t frames = 3 * rate, slot = (size_t)(AIMARK__WMA_SLOT_SEC * rate);
	double f_lo = AIMARK__WMA_F_LO * pow(AIMARK__WMA_F_HI / AIMARK__WMA_F_LO, (band + 0.2) / AIMARK__WMA_BANDS);
	double f_hi = AIMARK__WMA_F_LO * pow(AIMARK__WMA_F_HI / AIMARK__WMA_F_LO, (band + 0.8) / AIMARK__WMA_BANDS);
	aimark_wm_key *k = key_from(4);
	aimark__wma_layout lay;
	assert_int_equal(aimark__wma_layout_derive(&lay, k), 0);
	/* two payloads whose signs differ in both cells (data cells: the sign follows the coded bit) */
	int cells[2] = { boosted * AIMARK__WMA_BANDS + band, steady * AIMARK__WMA_BANDS + band };
	unsigned char pay[2][8], coded[2][AIMARK__WM_CODED_BITS];
	memcpy(pay[0], PAYLOAD, 8);
	assert_int_equal(aimark__wm_encode(k, pay[0], coded[0]), 0);
	int found = 0;
	for (int t = 1; t < 4096 && !found; t++) {
		memcpy(pay[1], PAYLOAD, 8);
		pay[1][0] = (unsigned char)t;
		pay[1][1] = (unsigned char)(t >> 8);
		assert_int_equal(aimark__wm_encode(k, pay[1], coded[1]), 0);
		found = 1;
		for (int i = 0; i < 2; i++) {
			int bit = lay.cell_bit[cells[i]];
			found &= bit >= 0 && coded[0][bit] != coded[1][bit];
		}
	}
	assert_true(found);
	/* white noise, with tones inside the band during the boosted slot only */
	float *host = malloc(frames * sizeof *host);
	assert_non_null(host);
	rng_state = 77;
	for (size_t i = 0; i < frames; i++) {
		double x = 0.1 * frand();
		if (i >= boosted * slot && i < (boosted + 1) * slot)
			for (int j = 0; j < 4; j++)
				x += 0.05 * sin(2 * M_PI * (f_lo + (f_hi - f_lo) * (j + 0.5) / 4) * (double)i / rate + j);
		host[i] = (float)x;
	}
	double sum[2] = { 0, 0 };
	size_t len = slot / 2;
	for (int p = 0; p < 2; p++) {
		float *m = malloc(frames * sizeof *m);
		assert_non_null(m);
		memcpy(m, host, frames * sizeof *m);
		assert_int_equal(aimark__wm_audio_embed(m, frames, rate, 1, k, pay[p], 1.0f), 0);
		for (int i = 0; i < 2; i++) {
			size_t from = (size_t)(cells[i] / AIMARK__WMA_BANDS) * slot + slot / 4;
			sum[i] += band_log_power_db(m, from, len, rate, f_lo, f_hi) -
				  band_log_power_db(host, from, len, rate, f_lo, f_hi);
		}
		free(m);
	}
	print_message("sum of the two signs' changes: boosted cell %.2f dB, steady cell %.2f dB\n", sum[0], sum[1]);
	assert_true(sum[0] < -1.0);
	assert_true(sum[0] < sum[1] - 0.5); /* -1.3 against -0.3 dB; without informed embedding 0.0 against -0.3 */
	free(host);
	aimark_wm_key_free(k);
}

/*
 * Bass-heavy audio: the whole-frame target would let the change grow to the
 * level of the thin 700 Hz - 3.4 kHz content; the band cap keeps it
 * AIMARK__WMA_BAND_SNR_DB below that content (measured over 0.5 s).
 */
static void test_band_cap_on_bass(void **state)
{
	(void)state;
	unsigned rate = 8000;
	size_t frames = 4 * (size_t)rate, from = 2 * (size_t)rate, len = 4096;
	float *orig = malloc(frames * sizeof *orig), *s = malloc(frames * sizeof *s), *diff = malloc(frames * sizeof *diff);
	assert_non_null(orig);
	assert_non_null(s);
	assert_non_null(diff);
	rng_state = 77;
	for (size_t i = 0; i < frames; i++) /* a loud 110 Hz tone over faint noise */
		orig[i] = s[i] = (float)(0.5 * sin(2 * M_PI * 110.0 * (double)i / rate)) + 0.002f * frand();
	aimark_wm_key *k = key_from(4);
	assert_int_equal(aimark__wm_audio_embed(s, frames, rate, 1, k, PAYLOAD, 1.0f), 0);
	for (size_t i = 0; i < frames; i++)
		diff[i] = s[i] - orig[i];
	double band_snr = band_power_db(orig, from, len, rate, 700, 3400) - band_power_db(diff, from, len, rate, 700, 3400);
	assert_true(band_snr > AIMARK__WMA_BAND_SNR_DB - 1.0);
	assert_true(band_snr < AIMARK__WMA_BAND_SNR_DB + 3.0); /* the cap is what sizes the change here */
	aimark_wm_key_free(k);
	free(orig);
	free(s);
	free(diff);
}

/*
 * Within a band the change follows each bin's power to the -1/4 (clamped):
 * the noise between the partials of a tone changes by more dB than the tone
 * itself, while without that weighting both would change alike.
 */
static void test_weak_bins_change_more(void **state)
{
	(void)state;
	const unsigned rate = 48000;
	const size_t frames = 3 * (size_t)rate, from = frames / 2, len = 4096;
	const double tone = 264.0 * rate / len; /* 3093.75 Hz, on a DFT bin of band_power_db(); the top band */
	float *orig = malloc(frames * sizeof *orig), *s = malloc(frames * sizeof *s), *diff = malloc(frames * sizeof *diff);
	assert_non_null(orig);
	assert_non_null(s);
	assert_non_null(diff);
	rng_state = 91;
	for (size_t i = 0; i < frames; i++)
		orig[i] = s[i] = (float)(0.3 * sin(2 * M_PI * tone * (double)i / rate)) + 0.05f * frand();
	aimark_wm_key *k = key_from(6);
	assert_int_equal(aimark__wm_audio_embed(s, frames, rate, 1, k, PAYLOAD, 1.0f), 0);
	for (size_t i = 0; i < frames; i++)
		diff[i] = s[i] - orig[i];
	double at_tone = band_power_db(diff, from, len, rate, tone - 15, tone + 15) -
			 band_power_db(orig, from, len, rate, tone - 15, tone + 15);
	double in_noise = band_power_db(diff, from, len, rate, 3250, 3390) - band_power_db(orig, from, len, rate, 3250, 3390);
	print_message("change relative to the host: %.1f dB at the tone, %.1f dB in the noise beside it\n", at_tone,
		      in_noise);
	assert_true(in_noise > at_tone + 6.0);
	aimark_wm_key_free(k);
	free(orig);
	free(s);
	free(diff);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_unmarked_and_silence),
		cmocka_unit_test(test_streaming_equivalence),
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_attacks_in_memory),
		cmocka_unit_test(test_stereo_downmix),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_short_excerpt),
		cmocka_unit_test(test_long_weak_mark_accumulates),
		cmocka_unit_test(test_lfe_untouched),
		cmocka_unit_test(test_pipeline_keeps_lfe),
		cmocka_unit_test(test_strength_clamp),
		cmocka_unit_test(test_informed_embedding),
		cmocka_unit_test(test_band_cap_on_bass),
		cmocka_unit_test(test_weak_bins_change_more),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

#define _GNU_SOURCE
/*
 * Audible explicit labels (GB 45438 section 5.3): rhythm timing at every
 * rate and channel layout, level relative to the content, sample-accurate
 * insertion, overlay, voice, detection (also after MP3) and bad options.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/audio_codec.h"
#include "core/internal.h"
#include "label/explicit_audio.h"
#include "testutil.h"

static char *g_dir;

static int setup(void **state)
{
	(void)state;
	if (!aimark__audio_codec_available()) {
		fprintf(stderr, "this build has no audio codec layer (AIMARK_HAVE_AUDIO_CODEC)\n");
		return -1;
	}
	g_dir = tu_tempdir();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tu_rmtree(g_dir);
	free(g_dir);
	return 0;
}

/* ---- samples in memory ---- */

typedef struct mem_src {
	const float *x;
	size_t frames, pos;
	uint32_t ch;
} mem_src;

static int mem_read(void *ctx, float *buf, size_t max, size_t *got)
{
	mem_src *m = ctx;
	size_t n = m->frames - m->pos < max ? m->frames - m->pos : max;
	memcpy(buf, m->x + m->pos * m->ch, n * m->ch * sizeof(float));
	m->pos += n;
	*got = n;
	return 0;
}

static int mem_rewind(void *ctx)
{
	((mem_src *)ctx)->pos = 0;
	return 0;
}

typedef struct mem_sink {
	float *x;
	size_t frames, cap;
	uint32_t ch;
} mem_sink;

static int sink_add(void *ctx, const float *x, size_t n)
{
	mem_sink *s = ctx;
	if (s->frames + n > s->cap) {
		s->cap = (s->frames + n) * 2;
		s->x = realloc(s->x, s->cap * s->ch * sizeof(float));
		assert_non_null(s->x);
	}
	memcpy(s->x + s->frames * s->ch, x, n * s->ch * sizeof(float));
	s->frames += n;
	return 0;
}

/* Labels `x` in memory with `plan`. */
static void label_pcm(const float *x, size_t frames, uint32_t ch, uint64_t mask, uint32_t rate,
		      const aimark__explicit_audio_plan *plan, mem_sink *out, aimark__explicit_audio_placement *pl)
{
	mem_src m = { x, frames, 0, ch };
	aimark__sample_source src = { mem_read, mem_rewind, &m, ch, rate, mask };
	memset(out, 0, sizeof *out);
	out->ch = ch;
	if (aimark__explicit_audio_stream(&src, plan, sink_add, out, pl) != 0)
		fail_msg("stream: %s", aimark_error_last());
}

static aimark__explicit_audio_plan plan_of(const char *text, const char *position, const char *language)
{
	aimark_mark_options o = AIMARK_MARK_OPTIONS_INIT;
	o.explicit_text = text;
	o.explicit_position = position;
	o.explicit_language = language;
	aimark__explicit_audio_plan p;
	if (aimark__explicit_audio_plan_parse(&o, &p) != 0)
		fail_msg("plan: %s", aimark_error_last());
	return p;
}

static uint32_t g_seed = 99;
static double noise(void)
{
	g_seed = g_seed * 1664525u + 1013904223u;
	return (double)(g_seed >> 8) / 8388608.0 - 1.0;
}

/* Tone bursts at `hz`: `n` (onset, length) pairs in ms, inside `total_ms` of audio. */
static float *bursts(uint32_t rate, double hz, const double *on_len, int n, double total_ms, double amp, size_t *frames)
{
	*frames = (size_t)(total_ms * rate / 1000.0);
	float *x = calloc(*frames + 1, sizeof(float));
	for (int k = 0; k < n; k++) {
		size_t a = (size_t)(on_len[2 * k] * rate / 1000.0), len = (size_t)(on_len[2 * k + 1] * rate / 1000.0);
		size_t r = rate / 200;
		for (size_t i = 0; i < len && a + i < *frames; i++) {
			double g = i < r ? (double)i / r : i > len - r ? (double)(len - i) / r : 1.0;
			x[a + i] = (float)(amp * g * sin(2 * M_PI * hz * (double)i / rate));
		}
	}
	return x;
}

/* ---- rhythm timing ---- */

static void test_rhythm_timing_every_rate(void **state)
{
	(void)state;
	static const uint32_t rates[] = { 8000, 16000, 44100, 48000, 96000 };
	static const double onset_ms[4] = { 0, 240, 960, 1200 }, length_ms[4] = { 120, 360, 120, 120 };
	for (size_t r = 0; r < 5; r++) {
		uint32_t rate = rates[r];
		aimark__rhythm_burst b[4];
		uint64_t total = aimark__rhythm_layout(rate, b);
		assert_true(fabs((double)total * 1000.0 / rate - 1320.0) <= 1.0);
		float *x = NULL;
		size_t n = 0;
		assert_int_equal(aimark__rhythm_render(rate, 0.3, &x, &n), 0);
		assert_int_equal(n, total);
		size_t next = 0;
		for (int k = 0; k < 4; k++) {
			double on = (double)b[k].start * 1000.0 / rate, len = (double)b[k].frames * 1000.0 / rate;
			if (fabs(on - onset_ms[k]) > 1.0 || fabs(len - length_ms[k]) > 1.0)
				fail_msg("%u Hz burst %d: %.3f ms + %.3f ms, want %.0f + %.0f", rate, k, on, len, onset_ms[k], length_ms[k]);
			/* silence up to the burst, sound from its first to its last sample */
			for (size_t i = next; i < b[k].start; i++)
				assert_true(x[i] == 0.0f);
			assert_true(x[b[k].start] != 0.0f);
			assert_true(x[b[k].start + b[k].frames - 1] != 0.0f);
			float peak = 0;
			for (size_t i = b[k].start; i < b[k].start + b[k].frames; i++)
				peak = fabsf(x[i]) > peak ? fabsf(x[i]) : peak;
			assert_true(peak > 0.29f && peak <= 0.3f);
			/* raised-cosine ramps: the first 1 ms stays far below the peak (no click) */
			for (size_t i = 0; i < rate / 1000; i++)
				assert_true(fabsf(x[b[k].start + i]) < 0.2f * 0.3f);
			next = b[k].start + b[k].frames;
		}
		for (size_t i = next; i < n; i++)
			assert_true(x[i] == 0.0f);
		free(x);
	}
}

/* Inserted into silence of 1 to 6 channels: every channel but the LFE carries the same pattern, on time. */
static void test_rhythm_in_every_layout(void **state)
{
	(void)state;
	static const uint32_t rates[] = { 8000, 44100, 96000 };
	static const uint32_t chans[] = { 1, 2, 6 };
	for (size_t r = 0; r < 3; r++)
		for (size_t c = 0; c < 3; c++) {
			uint32_t rate = rates[r], ch = chans[c];
			size_t frames = rate / 2;
			float *in = calloc(frames * ch, sizeof(float));
			aimark__explicit_audio_plan p = plan_of(NULL, NULL, NULL);
			mem_sink out;
			aimark__explicit_audio_placement pl;
			label_pcm(in, frames, ch, 0, rate, &p, &out, &pl);
			uint64_t pad = (uint64_t)llround(0.25 * rate);
			aimark__rhythm_burst b[4];
			uint64_t plen = aimark__rhythm_layout(rate, b);
			assert_int_equal(pl.label_start, 0);
			assert_int_equal(pl.pattern_start, pad);
			assert_int_equal(pl.label_frames, 2 * pad + plen);
			assert_int_equal(out.frames, frames + 2 * pad + plen);
			for (uint32_t k = 0; k < ch; k++) {
				int lfe = ch == 6 && k == 3;
				/* first and last sounding samples of each burst, per channel */
				for (int j = 0; j < 4; j++) {
					uint64_t a = pad + b[j].start, e = a + b[j].frames;
					if (lfe) {
						for (uint64_t i = a; i < e; i++)
							assert_true(out.x[i * ch + k] == 0.0f);
						continue;
					}
					assert_true(out.x[(a - 1) * ch + k] == 0.0f);
					assert_true(out.x[a * ch + k] != 0.0f);
					assert_true(out.x[(e - 1) * ch + k] != 0.0f);
					assert_true(out.x[e * ch + k] == 0.0f);
					for (uint64_t i = a; i < e; i++)
						assert_true(out.x[i * ch + k] == out.x[i * ch]);
				}
			}
			/* the content follows unchanged (silence) */
			for (size_t i = (2 * pad + plen) * ch; i < out.frames * ch; i++)
				assert_true(out.x[i] == 0.0f);
			free(in);
			free(out.x);
		}
}

/* ---- loudness ---- */

static void test_k_weighting_reference(void **state)
{
	(void)state;
	/* BS.1770: a 0 dBFS 997 Hz sine in one channel reads -3.01 LKFS */
	static const uint32_t rates[] = { 44100, 48000, 96000 };
	for (int r = 0; r < 3; r++) {
		size_t n = rates[r] * 3;
		float *x = malloc(n * 2 * sizeof(float));
		for (size_t i = 0; i < n; i++) {
			x[2 * i] = (float)sin(2 * M_PI * 997.0 * (double)i / rates[r]);
			x[2 * i + 1] = 0.0f;
		}
		double l = aimark__audio_loudness(x, n, 2, 0x3, rates[r]);
		if (fabs(l + 3.01) > 0.05)
			fail_msg("%u Hz: %.3f LUFS, want -3.01", rates[r], l);
		free(x);
	}
	float z[4800] = { 0 };
	assert_true(isinf(aimark__audio_loudness(z, 4800, 1, 0, 48000)));
	/* the tone amplitude formula inverts the measurement */
	double a = aimark__tone_amplitude(-20.0, 800.0, 48000, 2.0);
	size_t n = 48000;
	float *x = malloc(n * 2 * sizeof(float));
	for (size_t i = 0; i < n; i++)
		x[2 * i] = x[2 * i + 1] = (float)(a * sin(2 * M_PI * 800.0 * (double)i / 48000));
	assert_true(fabs(aimark__audio_loudness(x, n, 2, 0x3, 48000) + 20.0) < 0.05);
	free(x);
}

/* The label is as loud as the content next to it, within the floor and ceiling. */
static void test_level_follows_content(void **state)
{
	(void)state;
	static const double levels[] = { -45.0, -30.0, -23.0, -16.0, -8.0 };
	uint32_t rate = 48000, ch = 2;
	size_t frames = rate * 6;
	float *in = malloc(frames * ch * sizeof(float));
	for (int li = 0; li < 5; li++) {
		for (size_t i = 0; i < frames * ch; i++)
			in[i] = (float)(0.5 * noise());
		double l0 = aimark__audio_loudness(in, frames, ch, 0, rate);
		float g = (float)pow(10.0, (levels[li] - l0) / 20.0);
		for (size_t i = 0; i < frames * ch; i++)
			in[i] *= g;
		double content = aimark__audio_loudness(in, frames, ch, 0, rate);
		aimark__explicit_audio_plan p = plan_of("rhythm", "end", NULL);
		mem_sink out;
		aimark__explicit_audio_placement pl;
		label_pcm(in, frames, ch, 0, rate, &p, &out, &pl);
		double want = content < AIMARK__LABEL_MIN_LUFS ? AIMARK__LABEL_MIN_LUFS
			      : content > AIMARK__LABEL_MAX_LUFS ? AIMARK__LABEL_MAX_LUFS : content;
		assert_true(fabs(pl.content_lufs - content) < 0.5);
		assert_true(fabs(pl.label_lufs - want) < 0.5);
		/* measured: the plateau of the long burst */
		aimark__rhythm_burst b[4];
		aimark__rhythm_layout(rate, b);
		uint64_t a = pl.pattern_start + b[1].start + rate / 100;
		double got = aimark__audio_loudness(out.x + a * ch, b[1].frames - rate / 50, ch, 0, rate);
		if (fabs(got - want) > 0.5)
			fail_msg("content %.1f LUFS: label %.2f LUFS, want %.1f", content, got, want);
		free(out.x);
	}
	/* silent content: the floor */
	memset(in, 0, frames * ch * sizeof(float));
	aimark__explicit_audio_plan p = plan_of(NULL, "start", NULL);
	mem_sink out;
	aimark__explicit_audio_placement pl;
	label_pcm(in, frames, ch, 0, rate, &p, &out, &pl);
	assert_true(isinf(pl.content_lufs));
	assert_true(fabs(pl.label_lufs - AIMARK__LABEL_MIN_LUFS) < 1e-9);
	free(out.x);
	free(in);
}

/* ---- files: sample-accurate insertion ---- */

static void decode_file(const unsigned char *d, size_t len, const char *format, aimark__audio *pcm, aimark__audio_info *info)
{
	if (aimark__audio_decode(d, len, format, pcm, info) != 0)
		fail_msg("decode %s: %s", format, aimark_error_last());
}

static void apply_file(const unsigned char *d, size_t len, const char *format, const char *text, const char *position,
		       const char *language, aimark_buf *out)
{
	aimark_mark_options o = AIMARK_MARK_OPTIONS_INIT;
	o.explicit_text = text;
	o.explicit_position = position;
	o.explicit_language = language;
	if (aimark__explicit_audio_apply(d, len, format, &o, out) != 0)
		fail_msg("apply %s %s: %s", format, position ? position : "(default)", aimark_error_last());
}

static void insertion_exact(const char *sample, const char *format)
{
	size_t len;
	unsigned char *data = tu_read_file(tu_path("%s/audio/%s", AIMARK_SAMPLES_DIR, sample), &len);
	aimark__audio in;
	aimark__audio_info info;
	decode_file(data, len, format, &in, &info);
	uint32_t ch = in.channels, rate = in.sample_rate;
	uint64_t block = 2 * (uint64_t)llround(0.25 * rate) + aimark__rhythm_layout(rate, (aimark__rhythm_burst[4]){ 0 });
	static const char *positions[] = { "start", "end", "middle" };
	for (int p = 0; p < 3; p++) {
		aimark_buf out = AIMARK_BUF_INIT;
		apply_file(data, len, format, NULL, positions[p], NULL, &out);
		aimark__audio o;
		aimark__audio_info oi;
		decode_file(out.ptr, out.size, format, &o, &oi);
		assert_string_equal(oi.codec, info.codec);
		assert_int_equal(oi.sample_rate, rate);
		assert_int_equal(oi.channels, ch);
		assert_int_equal(oi.bits, info.bits);
		assert_int_equal(o.frames, in.frames + block);
		/* the insertion point: the output is input[0, at) + label + input[at, end) */
		size_t common = 0;
		while (common < in.frames && memcmp(o.samples + common * ch, in.samples + common * ch, ch * sizeof(float)) == 0)
			common++;
		size_t at = p == 0 ? 0 : p == 1 ? in.frames : common;
		/* silence at the insertion point makes it ambiguous: any point that fits is the same output */
		while (at > 0 && memcmp(o.samples + (at + block) * ch, in.samples + at * ch, (in.frames - at) * ch * sizeof(float)) != 0)
			at--;
		assert_true(at <= common);
		if (p == 2 && (at < in.frames * 4 / 10 || at > in.frames * 6 / 10))
			fail_msg("%s: middle insertion at frame %zu of %zu", sample, at, in.frames);
		/* the content around the label is the original, sample for sample */
		assert_memory_equal(o.samples, in.samples, at * ch * sizeof(float));
		assert_memory_equal(o.samples + (at + block) * ch, in.samples + at * ch, (in.frames - at) * ch * sizeof(float));
		/* and the label is there */
		float peak = 0;
		for (size_t i = at * ch; i < (at + block) * ch; i++)
			peak = fabsf(o.samples[i]) > peak ? fabsf(o.samples[i]) : peak;
		assert_true(peak > 0.01f);
		aimark__audio_dispose(&o);
		aimark_buf_dispose(&out);
	}
	aimark__audio_dispose(&in);
	free(data);
}

static void test_insert_wav_sample_accurate(void **s) { (void)s; insertion_exact("speech-zh.wav", "wav"); }
static void test_insert_flac_sample_accurate(void **s) { (void)s; insertion_exact("speech-en.flac", "flac"); }

/* Overlay keeps the length and the content outside the lowered span. */
static void test_overlay_keeps_length(void **state)
{
	(void)state;
	size_t len;
	unsigned char *data = tu_read_file(TU_SAMPLE("audio/speech-zh.wav"), &len);
	aimark__audio in, o;
	decode_file(data, len, "wav", &in, NULL);
	static const char *positions[] = { "start:overlay", "end:overlay", "middle:overlay" };
	for (int p = 0; p < 3; p++) {
		aimark_buf out = AIMARK_BUF_INIT;
		apply_file(data, len, "wav", "rhythm", positions[p], NULL, &out);
		decode_file(out.ptr, out.size, "wav", &o, NULL);
		assert_int_equal(o.frames, in.frames);
		size_t first = 0, last = in.frames;
		while (first < in.frames && o.samples[first] == in.samples[first])
			first++;
		while (last > first && o.samples[last - 1] == in.samples[last - 1])
			last--;
		/* the changed span lies within the label and its lowered margins (1.82 s) and holds the pattern (1.32 s) */
		double span = (double)(last - first) / in.sample_rate;
		if (span < 1.32 || span > 1.83)
			fail_msg("%s: %.3f s changed", positions[p], span);
		if (p == 0)
			assert_true(first < in.sample_rate * 3 / 10);
		if (p == 1)
			assert_true(in.frames - last < in.sample_rate * 3 / 10);
		aimark__audio_dispose(&o);
		aimark_buf_dispose(&out);
	}
	aimark__audio_dispose(&in);
	free(data);
}

/* Lossy files keep codec, rate, channels and bit rate. */
static void test_mp3_label_keeps_coding(void **state)
{
	(void)state;
	size_t len;
	unsigned char *data = tu_read_file(TU_SAMPLE("audio/music.mp3"), &len);
	aimark__audio in, o;
	aimark__audio_info ii, oi;
	decode_file(data, len, "mp3", &in, &ii);
	aimark_buf out = AIMARK_BUF_INIT;
	apply_file(data, len, "mp3", NULL, "end", NULL, &out);
	decode_file(out.ptr, out.size, "mp3", &o, &oi);
	assert_string_equal(oi.codec, "mp3");
	assert_int_equal(oi.sample_rate, ii.sample_rate);
	assert_int_equal(oi.channels, ii.channels);
	assert_true(oi.bit_rate >= ii.bit_rate);
	assert_true(o.frames > in.frames + ii.sample_rate && o.frames < in.frames + 2 * ii.sample_rate);
	aimark__audio_dispose(&in);
	aimark__audio_dispose(&o);
	aimark_buf_dispose(&out);
	free(data);
}

/* Labelling to decoded samples and encoding them once gives the same file as labelling the file. */
static void test_apply_decoded_matches_apply(void **state)
{
	(void)state;
	static const char *files[] = { "speech-zh.wav", "music.mp3" }, *formats[] = { "wav", "mp3" };
	for (int f = 0; f < 2; f++) {
		size_t len;
		unsigned char *data = tu_read_file(tu_path("%s/audio/%s", AIMARK_SAMPLES_DIR, files[f]), &len);
		aimark_mark_options o = AIMARK_MARK_OPTIONS_INIT;
		o.explicit_position = "middle:overlay";
		aimark_buf a = AIMARK_BUF_INIT, b = AIMARK_BUF_INIT;
		assert_int_equal(aimark__explicit_audio_apply(data, len, formats[f], &o, &a), 0);
		aimark__audio pcm;
		aimark__audio_info info;
		assert_int_equal(aimark__explicit_audio_apply_decoded(data, len, formats[f], &o, &pcm, &info), 0);
		assert_int_equal(info.frames, pcm.frames);
		assert_int_equal(aimark__audio_encode(&pcm, &info, data, len, &b), 0);
		assert_int_equal(a.size, b.size);
		assert_memory_equal(a.ptr, b.ptr, a.size);
		aimark__audio_dispose(&pcm);
		aimark_buf_dispose(&a);
		aimark_buf_dispose(&b);
		free(data);
	}
}

/* ---- detection ---- */

static json_t *detect_file(const char *path, const char *format)
{
	size_t len;
	unsigned char *data = tu_read_file(path, &len);
	json_t *j = NULL;
	if (aimark__explicit_audio_detect(data, len, format, &j) != 0)
		fail_msg("detect %s: %s", path, aimark_error_last());
	assert_non_null(j);
	free(data);
	return j;
}

static void expect_detect(const char *path, const char *format, int detected, const char *position)
{
	json_t *j = detect_file(path, format);
	json_t *d = json_object_get(j, "detected");
	assert_true(json_is_boolean(d));
	if (json_is_true(d) != detected) {
		char *s = json_dumps(j, JSON_COMPACT);
		fail_msg("%s: %s", path, s);
	}
	assert_non_null(json_object_get(j, "kind"));
	if (detected) {
		assert_string_equal(json_string_value(json_object_get(j, "kind")), "rhythm");
		if (position)
			assert_string_equal(json_string_value(json_object_get(j, "position")), position);
		assert_true(json_real_value(json_object_get(j, "score")) >= 0.75);
		assert_true(json_is_number(json_object_get(j, "start_seconds")));
		assert_true(fabs(json_real_value(json_object_get(j, "pitch_hz")) - AIMARK__RHYTHM_PITCH_HZ) < 20);
	} else {
		assert_true(json_is_null(json_object_get(j, "kind")));
	}
	json_decref(j);
}

static void test_detect_labelled_and_after_mp3(void **state)
{
	(void)state;
	const char *wav = TU_SAMPLE("audio/speech-zh-rhythm-start.wav");
	expect_detect(wav, "wav", 1, "start");
	json_t *j = detect_file(wav, "wav");
	assert_true(fabs(json_real_value(json_object_get(j, "start_seconds")) - 0.25) < 0.01);
	json_decref(j);
	tu_sh("ffmpeg -v error -y -i %s -c:a libmp3lame -b:a 128k %s/l128.mp3", wav, g_dir);
	tu_sh("ffmpeg -v error -y -i %s -c:a libmp3lame -b:a 64k %s/l64.mp3", wav, g_dir);
	tu_sh("ffmpeg -v error -y -i %s -ar 44100 -ac 2 -c:a libmp3lame -b:a 64k %s/l64s.mp3", wav, g_dir);
	tu_sh("ffmpeg -v error -y -i %s -ar 8000 %s/l8k.wav", wav, g_dir);
	tu_sh("ffmpeg -v error -y -i %s -ar 22050 -c:a aac -b:a 48k %s/l.m4a", wav, g_dir);
	expect_detect(tu_path("%s/l128.mp3", g_dir), "mp3", 1, "start");
	expect_detect(tu_path("%s/l64.mp3", g_dir), "mp3", 1, "start");
	expect_detect(tu_path("%s/l64s.mp3", g_dir), "mp3", 1, "start");
	expect_detect(tu_path("%s/l8k.wav", g_dir), "wav", 1, "start");
	expect_detect(tu_path("%s/l.m4a", g_dir), "mp4", 1, "start");
	expect_detect(TU_SAMPLE("audio/music-rhythm-end-overlay.mp3"), "mp3", 1, "end");
	expect_detect(TU_SAMPLE("audio/music-rhythm-voice-start.mp3"), "mp3", 1, "start");
}

static void test_detect_positions_and_overlay_after_mp3(void **state)
{
	(void)state;
	size_t len;
	unsigned char *data = tu_read_file(TU_SAMPLE("audio/music.mp3"), &len);
	static const char *positions[] = { "start", "end", "middle", "start:overlay", "middle:overlay" };
	static const char *want[] = { "start", "end", "middle", "start", "middle" };
	for (int p = 0; p < 5; p++) {
		aimark_buf out = AIMARK_BUF_INIT;
		apply_file(data, len, "mp3", NULL, positions[p], NULL, &out);
		tu_write_file(tu_path("%s/pos.mp3", g_dir), out.ptr, out.size);
		expect_detect(tu_path("%s/pos.mp3", g_dir), "mp3", 1, want[p]);
		tu_sh("ffmpeg -v error -y -i %s/pos.mp3 -c:a libmp3lame -b:a 64k %s/pos64.mp3", g_dir, g_dir);
		expect_detect(tu_path("%s/pos64.mp3", g_dir), "mp3", 1, want[p]);
		aimark_buf_dispose(&out);
	}
	free(data);
}

static void test_detect_negatives(void **state)
{
	(void)state;
	expect_detect(TU_SAMPLE("audio/speech-zh.wav"), "wav", 0, NULL);
	expect_detect(TU_SAMPLE("audio/speech-en.flac"), "flac", 0, NULL);
	expect_detect(TU_SAMPLE("audio/music.mp3"), "mp3", 0, NULL);
	/* white noise, silence, a steady tone */
	uint32_t rate = 44100;
	size_t n = rate * 8;
	float *x = malloc(n * sizeof(float));
	aimark__rhythm_detection r;
	for (size_t i = 0; i < n; i++)
		x[i] = (float)(0.3 * noise());
	assert_int_equal(aimark__rhythm_detect_pcm(x, n, 1, 0, rate, &r), 0);
	assert_false(r.detected);
	assert_true(fabs(r.duration_seconds - 8.0) < 0.01);
	memset(x, 0, n * sizeof(float));
	assert_int_equal(aimark__rhythm_detect_pcm(x, n, 1, 0, rate, &r), 0);
	assert_false(r.detected);
	for (size_t i = 0; i < n; i++)
		x[i] = (float)(0.2 * sin(2 * M_PI * 800.0 * (double)i / rate));
	assert_int_equal(aimark__rhythm_detect_pcm(x, n, 1, 0, rate, &r), 0);
	assert_false(r.detected);
	free(x);
	/* patterns that are not short-long-short-short */
	static const double all_short[] = { 500, 120, 740, 120, 1460, 120, 1700, 120 };
	static const double long_short[] = { 500, 360, 980, 120, 1460, 360, 1940, 360 };
	static const double repeated[] = { 500, 120, 740, 360, 1460, 120, 1700, 120, 1940, 120 }; /* a fifth burst too close */
	const double *pats[] = { all_short, long_short, repeated };
	const int counts[] = { 4, 4, 5 };
	for (int p = 0; p < 3; p++) {
		size_t m;
		float *y = bursts(16000, 800, pats[p], counts[p], 3000, 0.3, &m);
		assert_int_equal(aimark__rhythm_detect_pcm(y, m, 1, 0, 16000, &r), 0);
		if (r.detected)
			fail_msg("pattern %d detected", p);
		free(y);
	}
	/* the right pattern with loud noise in its gaps is content, not a label */
	static const double label[] = { 500, 120, 740, 360, 1460, 120, 1700, 120 };
	size_t m;
	float *y = bursts(16000, 800, label, 4, 3000, 0.3, &m);
	float *z = malloc(m * sizeof(float));
	memcpy(z, y, m * sizeof(float));
	for (size_t i = (size_t)(0.62 * 16000); i < (size_t)(0.74 * 16000); i++)
		z[i] += (float)(0.3 * sin(2 * M_PI * 2500.0 * (double)i / 16000)); /* a 2.5 kHz note fills the first gap */
	assert_int_equal(aimark__rhythm_detect_pcm(y, m, 1, 0, 16000, &r), 0);
	assert_true(r.detected); /* without the note it is a label */
	assert_int_equal(aimark__rhythm_detect_pcm(z, m, 1, 0, 16000, &r), 0);
	assert_false(r.detected);
	free(y);
	free(z);
}

/* Rhythm labels of other timings and pitches (e.g. a uniform 120 ms gap at 1 kHz) are found too. */
static void test_detect_other_timings(void **state)
{
	(void)state;
	static const double uniform[] = { 300, 120, 540, 360, 1020, 120, 1260, 120 }; /* gaps all 120 ms */
	static const double fast[] = { 300, 80, 460, 240, 940, 80, 1100, 80 };
	struct { const double *p; double hz; uint32_t rate; } cases[] = {
		{ uniform, 1000, 16000 }, { uniform, 800, 48000 }, { fast, 600, 22050 }, { fast, 1500, 44100 },
	};
	for (int c = 0; c < 4; c++) {
		size_t m;
		float *y = bursts(cases[c].rate, cases[c].hz, cases[c].p, 4, 2500, 0.2, &m);
		aimark__rhythm_detection r;
		assert_int_equal(aimark__rhythm_detect_pcm(y, m, 1, 0, cases[c].rate, &r), 0);
		if (!r.detected)
			fail_msg("case %d (%.0f Hz) not detected", c, cases[c].hz);
		assert_true(fabs(r.pitch_hz - cases[c].hz) < 10);
		assert_true(fabs(r.start_seconds - 0.3) < 0.01);
		free(y);
	}
}

/* A 5.1 file labelled in memory is detected, at 96 kHz too. */
static void test_detect_multichannel(void **state)
{
	(void)state;
	uint32_t rate = 96000, ch = 6;
	size_t frames = rate * 3;
	float *in = malloc(frames * ch * sizeof(float));
	for (size_t i = 0; i < frames * ch; i++)
		in[i] = (float)(0.05 * noise());
	aimark__explicit_audio_plan p = plan_of(NULL, "middle:overlay", NULL);
	mem_sink out;
	label_pcm(in, frames, ch, 0x3F, rate, &p, &out, NULL);
	aimark__rhythm_detection r;
	assert_int_equal(aimark__rhythm_detect_pcm(out.x, out.frames, ch, 0x3F, rate, &r), 0);
	assert_true(r.detected);
	assert_int_equal(aimark__rhythm_detect_pcm(in, frames, ch, 0x3F, rate, &r), 0);
	assert_false(r.detected);
	free(in);
	free(out.x);
}

/* ---- voice ---- */

static void test_voice(void **state)
{
	(void)state;
	if (!aimark__explicit_voice_available()) {
		size_t len;
		unsigned char *data = tu_read_file(TU_SAMPLE("audio/speech-zh.wav"), &len);
		aimark_mark_options o = AIMARK_MARK_OPTIONS_INIT;
		o.explicit_text = "voice";
		aimark_buf out = AIMARK_BUF_INIT;
		assert_int_equal(aimark__explicit_audio_apply(data, len, "wav", &o, &out), AIMARK_EUNSUPPORTED);
		assert_non_null(strstr(aimark_error_last(), "espeak-ng"));
		free(data);
		return;
	}
	struct { const char *text, *lang; uint32_t rate; } v[] = {
		{ AIMARK__VOICE_TEXT_ZH, "zh", 48000 }, { AIMARK__VOICE_TEXT_EN, "en", 44100 },
		{ "AI\xe7\x94\x9f\xe6\x88\x90\xe5\x86\x85\xe5\xae\xb9", "zh", 16000 }, /* AI生成内容 */
	};
	for (int i = 0; i < 3; i++) {
		float *x = NULL;
		size_t n = 0;
		double cpm = 0;
		if (aimark__explicit_voice_render(v[i].text, v[i].lang, v[i].rate, &x, &n, &cpm) != 0)
			fail_msg("voice %s: %s", v[i].lang, aimark_error_last());
		if (cpm < 120 || cpm > 160)
			fail_msg("%s: %.1f per minute", v[i].text, cpm);
		assert_true(n > v[i].rate / 2 && n < v[i].rate * 10);
		free(x);
	}
	/* applied: the file grows by the spoken label and its pads, and the content stays exact */
	size_t len;
	unsigned char *data = tu_read_file(TU_SAMPLE("audio/speech-en.flac"), &len);
	aimark__audio in, o;
	decode_file(data, len, "flac", &in, NULL);
	aimark_buf out = AIMARK_BUF_INIT;
	apply_file(data, len, "flac", "voice", "end", "en", &out);
	decode_file(out.ptr, out.size, "flac", &o, NULL);
	assert_true(o.frames > in.frames + in.sample_rate * 2 && o.frames < in.frames + in.sample_rate * 5);
	assert_memory_equal(o.samples, in.samples, in.frames * sizeof(float));
	double l = aimark__audio_loudness(o.samples + in.frames, o.frames - in.frames, 1, 0, in.sample_rate);
	double lc = aimark__audio_loudness(in.samples, in.frames, 1, 0, in.sample_rate);
	assert_true(fabs(l - lc) < 3.0); /* near the content's loudness (pads make it a bit lower) */
	aimark__audio_dispose(&o);
	aimark_buf_dispose(&out);
	/* a text of one's own, checked against section 5.1 */
	apply_file(data, len, "flac", "This audio was generated by AI.", "start", "en", &out);
	aimark_buf_dispose(&out);
	aimark__audio_dispose(&in);
	free(data);
}

/* ---- bad options and input ---- */

static void expect_bad(const char *text, const char *position, const char *language, int code, const char *needle)
{
	size_t len;
	unsigned char *data = tu_read_file(TU_SAMPLE("audio/speech-zh.wav"), &len);
	aimark_mark_options o = AIMARK_MARK_OPTIONS_INIT;
	o.explicit_text = text;
	o.explicit_position = position;
	o.explicit_language = language;
	aimark_buf out = AIMARK_BUF_INIT;
	int rc = aimark__explicit_audio_apply(data, len, "wav", &o, &out);
	if (rc != code)
		fail_msg("got %d (%s), want %d", rc, aimark_error_last(), code);
	if (strstr(aimark_error_last(), needle) == NULL)
		fail_msg("message \"%s\" lacks \"%s\"", aimark_error_last(), needle);
	assert_int_equal(out.size, 0);
	free(data);
}

static void test_bad_options(void **state)
{
	(void)state;
	expect_bad(NULL, "top", NULL, AIMARK_EINVAL, "position \"top\"");
	expect_bad(NULL, "", NULL, AIMARK_EINVAL, "position");
	expect_bad(NULL, "start:mix", NULL, AIMARK_EINVAL, "\"mix\"");
	expect_bad(NULL, "START", NULL, AIMARK_EINVAL, "\"start\", \"end\" or \"middle\"");
	expect_bad(NULL, NULL, "fr", AIMARK_EINVAL, "language \"fr\"");
	expect_bad("hello", NULL, NULL, AIMARK_EINVAL, "voice text");
	expect_bad("\xff\xfe AI generated", NULL, NULL, AIMARK_EINVAL, "voice text");
	/* a rate too low for the tone */
	float x[2000] = { 0 };
	aimark__explicit_audio_plan p = plan_of(NULL, NULL, NULL);
	mem_src m = { x, 2000, 0, 1 };
	aimark__sample_source src = { mem_read, mem_rewind, &m, 1, 2000, 0 };
	mem_sink out = { NULL, 0, 0, 1 };
	assert_int_equal(aimark__explicit_audio_stream(&src, &p, sink_add, &out, NULL), AIMARK_EUNSUPPORTED);
	assert_non_null(strstr(aimark_error_last(), "2000 Hz"));
	free(out.x);
	/* formats and input */
	aimark_mark_options o = AIMARK_MARK_OPTIONS_INIT;
	aimark_buf b = AIMARK_BUF_INIT;
	static const unsigned char junk[64] = "RIFF\x10\0\0\0WAVEjunkjunkjunk";
	assert_int_equal(aimark__explicit_audio_apply(junk, sizeof junk, "wav", &o, &b), AIMARK_EFORMAT);
	assert_int_equal(aimark__explicit_audio_apply(junk, sizeof junk, "png", &o, &b), AIMARK_EUNSUPPORTED);
	assert_int_equal(b.size, 0);
	json_t *j = NULL;
	assert_int_equal(aimark__explicit_audio_detect(junk, sizeof junk, "wav", &j), AIMARK_EFORMAT);
	assert_non_null(j);
	assert_true(json_is_false(json_object_get(j, "detected")));
	assert_true(json_is_string(json_object_get(j, "error")));
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rhythm_timing_every_rate),
		cmocka_unit_test(test_rhythm_in_every_layout),
		cmocka_unit_test(test_k_weighting_reference),
		cmocka_unit_test(test_level_follows_content),
		cmocka_unit_test(test_insert_wav_sample_accurate),
		cmocka_unit_test(test_insert_flac_sample_accurate),
		cmocka_unit_test(test_overlay_keeps_length),
		cmocka_unit_test(test_mp3_label_keeps_coding),
		cmocka_unit_test(test_apply_decoded_matches_apply),
		cmocka_unit_test(test_detect_labelled_and_after_mp3),
		cmocka_unit_test(test_detect_positions_and_overlay_after_mp3),
		cmocka_unit_test(test_detect_negatives),
		cmocka_unit_test(test_detect_other_timings),
		cmocka_unit_test(test_detect_multichannel),
		cmocka_unit_test(test_voice),
		cmocka_unit_test(test_bad_options),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

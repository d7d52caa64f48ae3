#define _GNU_SOURCE
/*
 * The audio codec layer: exact PCM round trips, kept rate / channels /
 * layout / bit rate / metadata for every container, streaming, resampling,
 * and clear errors on bad input. Inputs in other codecs are made with the
 * ffmpeg command-line tool.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/audio_codec.h"
#include "core/internal.h"
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

/* First line of a command's output (static buffer). */
static const char *sh_out(const char *fmt, ...)
{
	static char line[1024];
	char cmd[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	line[0] = '\0';
	if (fgets(line, sizeof line, p) == NULL)
		line[0] = '\0';
	line[strcspn(line, "\r\n")] = '\0';
	pclose(p);
	return line;
}

/* ---- hand-made WAV files ---- */

static uint32_t g_seed = 12345;
static int32_t rnd_sample(unsigned bits)
{
	g_seed = g_seed * 1103515245u + 12345u;
	int32_t v = (int32_t)(g_seed >> 1);
	return v >> (32 - bits); /* full range of a `bits`-bit signed sample */
}

static void put16(aimark_buf *b, uint16_t v)
{
	unsigned char p[2] = { (unsigned char)v, (unsigned char)(v >> 8) };
	assert_int_equal(aimark__buf_append(b, p, 2), 0);
}

static void put32(aimark_buf *b, uint32_t v)
{
	unsigned char p[4];
	aimark__put_le32(p, v);
	assert_int_equal(aimark__buf_append(b, p, 4), 0);
}

/*
 * A WAV of `frames` random samples: PCM of `bits` bits, or IEEE float when
 * `is_float`; WAVE_FORMAT_EXTENSIBLE with `mask` when mask != 0. The samples
 * as float (what the decoder must give) go to *expect when not NULL.
 */
static void make_wav(aimark_buf *b, uint32_t rate, uint16_t ch, uint16_t bits, int is_float, uint32_t mask, size_t frames,
		     float **expect)
{
	uint16_t bps = (uint16_t)(bits / 8);
	uint32_t data = (uint32_t)(frames * ch * bps);
	uint32_t fmt_len = mask ? 40 : 16;
	assert_int_equal(aimark__buf_append(b, "RIFF", 4), 0);
	put32(b, 4 + 8 + fmt_len + 8 + data);
	assert_int_equal(aimark__buf_append(b, "WAVEfmt ", 8), 0);
	put32(b, fmt_len);
	put16(b, mask ? 0xFFFE : is_float ? 3 : 1);
	put16(b, ch);
	put32(b, rate);
	put32(b, rate * ch * bps);
	put16(b, (uint16_t)(ch * bps));
	put16(b, bits);
	if (mask) {
		static const unsigned char pcm_guid[14] = { 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71 };
		put16(b, 22);
		put16(b, bits);
		put32(b, mask);
		put16(b, is_float ? 3 : 1);
		assert_int_equal(aimark__buf_append(b, pcm_guid, 14), 0);
	}
	assert_int_equal(aimark__buf_append(b, "data", 4), 0);
	put32(b, data);
	float *e = expect ? malloc(frames * ch * sizeof(float) + 1) : NULL;
	for (size_t i = 0; i < frames * ch; i++) {
		unsigned char p[4];
		if (is_float) {
			float f = (float)rnd_sample(24) / 8388608.0f * 0.9f;
			memcpy(p, &f, 4);
			if (e)
				e[i] = f;
		} else {
			int32_t s = rnd_sample(bits);
			if (bits == 8) {
				p[0] = (unsigned char)(s + 128);
			} else {
				p[0] = (unsigned char)s;
				p[1] = (unsigned char)(s >> 8);
				p[2] = (unsigned char)(s >> 16);
				p[3] = (unsigned char)(s >> 24);
			}
			if (e)
				e[i] = (float)((double)s / (double)(1u << (bits - 1)));
		}
		assert_int_equal(aimark__buf_append(b, p, bps), 0);
	}
	if (expect)
		*expect = e;
}

/* Offset and length of the `data` payload of a WAV. */
static const unsigned char *wav_data(const aimark_buf *b, size_t *len)
{
	size_t off = 12;
	while (off + 8 <= b->size) {
		uint32_t n = aimark__le32(b->ptr + off + 4);
		if (memcmp(b->ptr + off, "data", 4) == 0) {
			*len = n;
			assert_true(off + 8 + n <= b->size);
			return b->ptr + off + 8;
		}
		off += 8 + n + (n & 1);
	}
	fail_msg("no data chunk");
	return NULL;
}

static void wav_exact(uint32_t rate, uint16_t ch, uint16_t bits, int is_float, uint32_t mask, const char *codec)
{
	aimark_buf in = AIMARK_BUF_INIT, out = AIMARK_BUF_INIT;
	float *expect = NULL;
	size_t frames = 3001;
	make_wav(&in, rate, ch, bits, is_float, mask, frames, &expect);
	aimark__audio pcm;
	aimark__audio_info info;
	if (aimark__audio_decode(in.ptr, in.size, "wav", &pcm, &info) != 0)
		fail_msg("decode: %s", aimark_error_last());
	assert_string_equal(info.format, "wav");
	assert_string_equal(info.codec, codec);
	assert_int_equal(info.sample_rate, rate);
	assert_int_equal(info.channels, ch);
	assert_int_equal(info.channel_mask, mask);
	assert_int_equal(pcm.frames, frames);
	assert_int_equal(info.lossy, 0);
	for (size_t i = 0; i < frames * ch; i++)
		if (pcm.samples[i] != expect[i])
			fail_msg("sample %zu: %.9g, want %.9g", i, pcm.samples[i], expect[i]);
	if (aimark__audio_encode(&pcm, &info, in.ptr, in.size, &out) != 0)
		fail_msg("encode: %s", aimark_error_last());
	/* the same samples, byte for byte */
	size_t la, lb;
	const unsigned char *a = wav_data(&in, &la), *b = wav_data(&out, &lb);
	assert_int_equal(la, lb);
	assert_memory_equal(a, b, la);
	aimark__audio back;
	aimark__audio_info again;
	assert_int_equal(aimark__audio_decode(out.ptr, out.size, "wav", &back, &again), 0);
	assert_int_equal(again.sample_rate, rate);
	assert_int_equal(again.channels, ch);
	assert_int_equal(again.channel_mask, mask);
	assert_string_equal(again.codec, codec);
	aimark__audio_dispose(&pcm);
	aimark__audio_dispose(&back);
	aimark_buf_dispose(&in);
	aimark_buf_dispose(&out);
	free(expect);
}

static void test_wav_pcm16_stereo_exact(void **s) { (void)s; wav_exact(44100, 2, 16, 0, 0, "pcm_s16"); }
static void test_wav_pcm24_mono_96k_exact(void **s) { (void)s; wav_exact(96000, 1, 24, 0, 0, "pcm_s24"); }
static void test_wav_pcm8_8k_exact(void **s) { (void)s; wav_exact(8000, 1, 8, 0, 0, "pcm_u8"); }
static void test_wav_float_exact(void **s) { (void)s; wav_exact(48000, 2, 32, 1, 0, "pcm_f32"); }
static void test_wav_51_extensible_keeps_layout(void **s) { (void)s; wav_exact(48000, 6, 24, 0, 0x3F, "pcm_s24"); }

/* Through files that ffmpeg writes: samples decoded by us and by ffmpeg agree. */
static void test_flac_round_trip_exact(void **state)
{
	(void)state;
	aimark_buf in = AIMARK_BUF_INIT, out = AIMARK_BUF_INIT;
	float *expect = NULL;
	make_wav(&in, 48000, 2, 24, 0, 0, 4000, &expect);
	tu_write_file(tu_path("%s/in24.wav", g_dir), in.ptr, in.size);
	tu_sh("ffmpeg -v error -y -i %s/in24.wav -c:a flac -metadata title=FlacTitle %s/in24.flac", g_dir, g_dir);
	size_t len;
	unsigned char *flac = tu_read_file(tu_path("%s/in24.flac", g_dir), &len);
	aimark__audio pcm, back;
	aimark__audio_info info, again;
	assert_int_equal(aimark__audio_decode(flac, len, "flac", &pcm, &info), 0);
	assert_string_equal(info.codec, "flac");
	assert_int_equal(info.bits, 24);
	assert_int_equal(pcm.frames, 4000);
	for (size_t i = 0; i < 8000; i++)
		assert_true(pcm.samples[i] == expect[i]);
	assert_int_equal(aimark__audio_encode(&pcm, &info, flac, len, &out), 0);
	assert_memory_equal(out.ptr, "fLaC", 4);
	assert_int_equal(aimark__audio_decode(out.ptr, out.size, "flac", &back, &again), 0);
	assert_int_equal(again.sample_rate, 48000);
	assert_int_equal(again.channels, 2);
	assert_int_equal(again.bits, 24);
	assert_int_equal(back.frames, 4000);
	assert_memory_equal(back.samples, pcm.samples, 8000 * sizeof(float));
	/* ffmpeg agrees the file is fine and keeps the title */
	tu_write_file(tu_path("%s/out24.flac", g_dir), out.ptr, out.size);
	assert_string_equal(sh_out("ffmpeg -v error -i %s/out24.flac -f null - 2>&1", g_dir), "");
	assert_string_equal(sh_out("ffprobe -v error -show_entries format_tags=title -of csv=p=0 %s/out24.flac", g_dir),
			    "FlacTitle");
	aimark__audio_dispose(&pcm);
	aimark__audio_dispose(&back);
	aimark_buf_dispose(&in);
	aimark_buf_dispose(&out);
	free(expect);
	free(flac);
}

/*
 * A lossy file made by ffmpeg: decoding and re-encoding keeps codec, rate,
 * channels (and their layout), a bit rate no lower than the input's, the
 * title tag, and gives a file that ffmpeg decodes without an error.
 */
static void lossy_round_trip(const char *name, const char *format, const char *codec, const char *ffargs, uint32_t rate,
			     uint32_t channels)
{
	tu_sh("ffmpeg -v error -y -f lavfi -i 'sine=frequency=523:duration=2.5' -f lavfi -i 'anoisesrc=d=2.5:a=0.05:seed=7' "
	   "-filter_complex '[0][1]amix=inputs=2,aformat=channel_layouts=%s' -ar %u %s -metadata title=KeepMe %s/%s",
	   channels == 1 ? "mono" : channels == 2 ? "stereo" : "5.1", rate, ffargs, g_dir, name);
	size_t len;
	unsigned char *data = tu_read_file(tu_path("%s/%s", g_dir, name), &len);
	aimark__audio pcm, back;
	aimark__audio_info info, again;
	if (aimark__audio_decode(data, len, format, &pcm, &info) != 0)
		fail_msg("%s: %s", name, aimark_error_last());
	assert_string_equal(info.codec, codec);
	assert_int_equal(info.lossy, 1);
	assert_int_equal(info.channels, channels);
	assert_true(info.bit_rate > 0);
	assert_true(pcm.frames > rate * 2 && pcm.frames < rate * 3);
	aimark_buf out = AIMARK_BUF_INIT;
	if (aimark__audio_encode(&pcm, &info, data, len, &out) != 0)
		fail_msg("%s: encode: %s", name, aimark_error_last());
	if (aimark__audio_decode(out.ptr, out.size, format, &back, &again) != 0)
		fail_msg("%s: decoding our output: %s", name, aimark_error_last());
	assert_string_equal(again.codec, codec);
	assert_int_equal(again.sample_rate, info.sample_rate);
	assert_int_equal(again.channels, channels);
	assert_int_equal(again.channel_mask, info.channel_mask);
	if (again.bit_rate < info.bit_rate)
		fail_msg("%s: bit rate %lld below the input's %lld", name, (long long)again.bit_rate, (long long)info.bit_rate);
	/* the length stays within one codec frame (encoder delay is signalled and removed) */
	long diff = (long)back.frames - (long)pcm.frames;
	if (labs(diff) > 2048)
		fail_msg("%s: %zu frames became %zu", name, pcm.frames, back.frames);
	const char *ext = strrchr(name, '.');
	tu_write_file(tu_path("%s/out%s", g_dir, ext), out.ptr, out.size);
	assert_string_equal(sh_out("ffmpeg -v error -i %s/out%s -f null - 2>&1", g_dir, ext), "");
	const char *title = strcmp(format, "ogg") == 0
				    ? sh_out("ffprobe -v error -show_entries stream_tags=title -of csv=p=0 %s/out%s", g_dir, ext)
				    : sh_out("ffprobe -v error -show_entries format_tags=title -of csv=p=0 %s/out%s", g_dir, ext);
	assert_string_equal(title, "KeepMe");
	aimark__audio_dispose(&pcm);
	aimark__audio_dispose(&back);
	aimark_buf_dispose(&out);
	free(data);
}

static void test_mp3_128k(void **s) { (void)s; lossy_round_trip("a128.mp3", "mp3", "mp3", "-c:a libmp3lame -b:a 128k", 44100, 2); }
static void test_mp3_64k_mono(void **s) { (void)s; lossy_round_trip("a64.mp3", "mp3", "mp3", "-c:a libmp3lame -b:a 64k", 22050, 1); }
static void test_mp3_vbr(void **s) { (void)s; lossy_round_trip("vbr.mp3", "mp3", "mp3", "-c:a libmp3lame -q:a 4", 48000, 2); }
static void test_ogg_vorbis(void **s) { (void)s; lossy_round_trip("a.ogg", "ogg", "vorbis", "-c:a libvorbis -b:a 96k", 44100, 2); }
static void test_ogg_opus(void **s) { (void)s; lossy_round_trip("a.opus", "ogg", "opus", "-c:a libopus -b:a 48k", 48000, 2); }
static void test_m4a_aac(void **s) { (void)s; lossy_round_trip("a.m4a", "mp4", "aac", "-c:a aac -b:a 128k", 44100, 2); }
static void test_m4a_aac_51(void **s) { (void)s; lossy_round_trip("s51.m4a", "mp4", "aac", "-c:a aac -b:a 256k", 48000, 6); }

/* MP3 through the writer: the bit rate steps up to the next standard one. */
static void test_mp3_bit_rate_rounds_up(void **state)
{
	(void)state;
	tu_sh("ffmpeg -v error -y -f lavfi -i 'sine=frequency=300:duration=1' -ar 44100 -c:a libmp3lame -b:a 112k %s/b112.mp3", g_dir);
	size_t len;
	unsigned char *data = tu_read_file(tu_path("%s/b112.mp3", g_dir), &len);
	aimark__audio pcm;
	aimark__audio_info info, again;
	assert_int_equal(aimark__audio_decode(data, len, "mp3", &pcm, &info), 0);
	info.bit_rate = 113000; /* between two standard rates */
	aimark_buf out = AIMARK_BUF_INIT;
	assert_int_equal(aimark__audio_encode(&pcm, &info, data, len, &out), 0);
	aimark__audio back;
	assert_int_equal(aimark__audio_decode(out.ptr, out.size, "mp3", &back, &again), 0);
	assert_int_equal(again.bit_rate, 128000);
	aimark__audio_dispose(&pcm);
	aimark__audio_dispose(&back);
	aimark_buf_dispose(&out);
	free(data);
}

/* Streaming: any block size gives the same file; memory use does not depend on the length. */
static void stream_in_blocks(const aimark__audio *pcm, const aimark__audio_info *info, size_t block, aimark_buf *out)
{
	aimark__audio_writer *w = NULL;
	assert_int_equal(aimark__audio_writer_open(&w, info, NULL, 0, out), 0);
	for (size_t done = 0; done < pcm->frames; done += block) {
		size_t n = pcm->frames - done < block ? pcm->frames - done : block;
		assert_int_equal(aimark__audio_writer_write(w, pcm->samples + done * pcm->channels, n), 0);
	}
	assert_int_equal(aimark__audio_writer_finish(w), 0);
	aimark__audio_writer_free(w);
}

static void test_streaming_block_sizes_agree(void **state)
{
	(void)state;
	aimark_buf wav = AIMARK_BUF_INIT;
	make_wav(&wav, 22050, 2, 16, 0, 0, 9000, NULL);
	tu_write_file(tu_path("%s/blk.wav", g_dir), wav.ptr, wav.size);
	tu_sh("ffmpeg -v error -y -i %s/blk.wav -c:a libmp3lame -b:a 96k %s/blk.mp3", g_dir, g_dir);
	const char *files[2] = { "blk.wav", "blk.mp3" }, *formats[2] = { "wav", "mp3" };
	for (int f = 0; f < 2; f++) {
		size_t len;
		unsigned char *data = tu_read_file(tu_path("%s/%s", g_dir, files[f]), &len);
		aimark__audio pcm;
		aimark__audio_info info;
		assert_int_equal(aimark__audio_decode(data, len, formats[f], &pcm, &info), 0);
		aimark_buf a = AIMARK_BUF_INIT, b = AIMARK_BUF_INIT, c = AIMARK_BUF_INIT;
		assert_int_equal(aimark__buf_append(&b, "prefix", 6), 0); /* the writer appends */
		stream_in_blocks(&pcm, &info, 1, &a);
		stream_in_blocks(&pcm, &info, 997, &b);
		stream_in_blocks(&pcm, &info, pcm.frames, &c);
		assert_int_equal(a.size + 6, b.size);
		assert_memory_equal(b.ptr, "prefix", 6);
		assert_memory_equal(a.ptr, b.ptr + 6, a.size);
		assert_int_equal(a.size, c.size);
		assert_memory_equal(a.ptr, c.ptr, a.size);
		/* the reader hands out any block size too */
		aimark__audio_reader *r = NULL;
		assert_int_equal(aimark__audio_reader_open(&r, data, len, formats[f], NULL), 0);
		float buf[7 * 2];
		size_t got, total = 0;
		do {
			assert_int_equal(aimark__audio_reader_read(r, buf, 7, &got), 0);
			for (size_t i = 0; i < got * 2; i++)
				assert_true(buf[i] == pcm.samples[total * 2 + i]);
			total += got;
		} while (got > 0);
		assert_int_equal(total, pcm.frames);
		aimark__audio_reader_free(r);
		aimark_buf_dispose(&a);
		aimark_buf_dispose(&b);
		aimark_buf_dispose(&c);
		aimark__audio_dispose(&pcm);
		free(data);
	}
	aimark_buf_dispose(&wav);
}

/* An abandoned writer leaves the output buffer as it was. */
static void test_unfinished_writer_leaves_nothing(void **state)
{
	(void)state;
	aimark_buf wav = AIMARK_BUF_INIT, out = AIMARK_BUF_INIT;
	make_wav(&wav, 8000, 1, 16, 0, 0, 100, NULL);
	aimark__audio pcm;
	aimark__audio_info info;
	assert_int_equal(aimark__audio_decode(wav.ptr, wav.size, "wav", &pcm, &info), 0);
	assert_int_equal(aimark__buf_append(&out, "keep", 4), 0);
	aimark__audio_writer *w = NULL;
	assert_int_equal(aimark__audio_writer_open(&w, &info, NULL, 0, &out), 0);
	assert_int_equal(aimark__audio_writer_write(w, pcm.samples, pcm.frames), 0);
	aimark__audio_writer_free(w);
	assert_int_equal(out.size, 4);
	assert_memory_equal(out.ptr, "keep", 4);
	aimark__audio_dispose(&pcm);
	aimark_buf_dispose(&wav);
	aimark_buf_dispose(&out);
}

/* WAV tags that libsndfile knows (LIST/INFO) are kept. */
static void test_wav_title_kept(void **state)
{
	(void)state;
	aimark_buf wav = AIMARK_BUF_INIT;
	make_wav(&wav, 16000, 1, 16, 0, 0, 1600, NULL);
	tu_write_file(tu_path("%s/t.wav", g_dir), wav.ptr, wav.size);
	tu_sh("ffmpeg -v error -y -i %s/t.wav -c copy -metadata title=WavTitle %s/tt.wav", g_dir, g_dir);
	size_t len;
	unsigned char *data = tu_read_file(tu_path("%s/tt.wav", g_dir), &len);
	aimark__audio pcm;
	aimark__audio_info info;
	assert_int_equal(aimark__audio_decode(data, len, "wav", &pcm, &info), 0);
	aimark_buf out = AIMARK_BUF_INIT;
	assert_int_equal(aimark__audio_encode(&pcm, &info, data, len, &out), 0);
	tu_write_file(tu_path("%s/tt-out.wav", g_dir), out.ptr, out.size);
	assert_string_equal(sh_out("ffprobe -v error -show_entries format_tags=title -of csv=p=0 %s/tt-out.wav", g_dir), "WavTitle");
	aimark__audio_dispose(&pcm);
	aimark_buf_dispose(&wav);
	aimark_buf_dispose(&out);
	free(data);
}

/* A 1003 Hz tone resampled from 44.1 kHz to 16 kHz keeps its frequency and duration. */
static void test_resampler(void **state)
{
	(void)state;
	size_t n = 44100;
	float *x = malloc(n * sizeof(float));
	for (size_t i = 0; i < n; i++)
		x[i] = (float)(0.5 * sin(2 * M_PI * 1003.0 * (double)i / 44100.0));
	aimark__audio_resampler *rs = NULL;
	assert_int_equal(aimark__audio_resampler_new(&rs, 1, 44100, 16000), 0);
	float *y = malloc(20000 * sizeof(float));
	size_t ny = 0;
	for (size_t done = 0; done < n; done += 1000) {
		const float *o;
		size_t m;
		assert_int_equal(aimark__audio_resampler_run(rs, x + done, n - done < 1000 ? n - done : 1000, &o, &m), 0);
		assert_true(ny + m <= 20000);
		memcpy(y + ny, o, m * sizeof(float));
		ny += m;
	}
	const float *o;
	size_t m;
	assert_int_equal(aimark__audio_resampler_run(rs, NULL, 0, &o, &m), 0);
	memcpy(y + ny, o, m * sizeof(float));
	ny += m;
	assert_true(ny >= 15990 && ny <= 16010);
	int crossings = 0;
	for (size_t i = 1001; i < 15001; i++)
		crossings += (y[i - 1] < 0) != (y[i] < 0);
	/* 1003 Hz over 14000 samples at 16 kHz: 877.6 cycles, 1755 crossings */
	if (crossings < 1753 || crossings > 1757)
		fail_msg("%d zero crossings, want 1755", crossings);
	aimark__audio_resampler_free(rs);
	assert_int_equal(aimark__audio_resampler_new(&rs, 0, 44100, 16000), AIMARK_EINVAL);
	assert_int_equal(aimark__audio_resampler_new(&rs, 1, 44100, 10), AIMARK_EINVAL);
	free(x);
	free(y);
}

/* ---- bad input ---- */

static void expect_error(const unsigned char *d, size_t len, const char *format, int code, const char *needle)
{
	aimark__audio pcm;
	int rc = aimark__audio_decode(d, len, format, &pcm, NULL);
	if (rc != code)
		fail_msg("%s: got %d (%s), want %d", format, rc, aimark_error_last(), code);
	if (needle && strstr(aimark_error_last(), needle) == NULL)
		fail_msg("message \"%s\" lacks \"%s\"", aimark_error_last(), needle);
	assert_null(pcm.samples);
}

static void test_bad_input(void **state)
{
	(void)state;
	aimark_buf wav = AIMARK_BUF_INIT;
	make_wav(&wav, 8000, 1, 16, 0, 0, 800, NULL);
	expect_error(wav.ptr, 3, "wav", AIMARK_EFORMAT, "too short");
	expect_error((const unsigned char *)"RIFX\0\0\0\0WAVEfmt ", 16, "wav", AIMARK_EFORMAT, "magic");
	aimark__audio pcm;
	/* header only: a file without samples (the size field lies) decodes to nothing */
	assert_int_equal(aimark__audio_decode(wav.ptr, 44, "wav", &pcm, NULL), 0);
	assert_int_equal(pcm.frames, 0);
	aimark__audio_dispose(&pcm);
	expect_error(wav.ptr, 30, "wav", AIMARK_EFORMAT, "wav"); /* truncated fmt */
	expect_error(wav.ptr, wav.size, "aiff", AIMARK_EUNSUPPORTED, "aiff");
	expect_error(wav.ptr, wav.size, "flac", AIMARK_EFORMAT, "flac");
	static const unsigned char junk[4096] = { 0xFF, 0xFB, 0x90, 0x00, 'j', 'u', 'n', 'k' };
	expect_error(junk, sizeof junk, "mp3", AIMARK_EFORMAT, "mp3");
	expect_error(junk, sizeof junk, "ogg", AIMARK_EFORMAT, "ogg");
	expect_error(junk, sizeof junk, "mp4", AIMARK_EFORMAT, "mp4");
	expect_error(NULL, 0, "wav", AIMARK_EFORMAT, "too short");
	expect_error(wav.ptr, wav.size, NULL, AIMARK_EINVAL, NULL);
	expect_error(NULL, 10, "wav", AIMARK_EINVAL, NULL);
	/* a data size that lies (larger than the file): the samples present are read */
	aimark_buf lie = AIMARK_BUF_INIT;
	assert_int_equal(aimark__buf_append(&lie, wav.ptr, wav.size), 0);
	aimark__put_le32(lie.ptr + 40, 0x7FFFFFF0u);
	assert_int_equal(aimark__audio_decode(lie.ptr, lie.size, "wav", &pcm, NULL), 0);
	assert_int_equal(pcm.frames, 800);
	aimark__audio_dispose(&pcm);
	/* too many channels */
	aimark_buf many = AIMARK_BUF_INIT;
	make_wav(&many, 8000, 10, 16, 0, 0, 10, NULL);
	expect_error(many.ptr, many.size, "wav", AIMARK_EUNSUPPORTED, "channels");
	/* a video file is not an audio file */
	tu_sh("ffmpeg -v error -y -f lavfi -i testsrc=d=0.5:s=64x48 -f lavfi -i sine=d=0.5 -c:v mpeg4 -c:a aac -shortest %s/v.mp4", g_dir);
	size_t len;
	unsigned char *mp4 = tu_read_file(tu_path("%s/v.mp4", g_dir), &len);
	expect_error(mp4, len, "mp4", AIMARK_EUNSUPPORTED, "video");
	free(mp4);
	/* every truncation of a FLAC file either decodes or fails cleanly */
	tu_write_file(tu_path("%s/tr.wav", g_dir), wav.ptr, wav.size);
	tu_sh("ffmpeg -v error -y -i %s/tr.wav -c:a flac %s/tr.flac", g_dir, g_dir);
	unsigned char *flac = tu_read_file(tu_path("%s/tr.flac", g_dir), &len);
	for (size_t cut = 0; cut < len; cut += 37) {
		int rc = aimark__audio_decode(flac, cut, "flac", &pcm, NULL);
		assert_true(rc == 0 || rc == AIMARK_EFORMAT || rc == AIMARK_EUNSUPPORTED);
		if (rc == 0)
			aimark__audio_dispose(&pcm);
	}
	free(flac);
	/* writer arguments */
	aimark__audio_info info;
	memset(&info, 0, sizeof info);
	info.channels = 2;
	info.sample_rate = 44100;
	aimark__audio_writer *w = NULL;
	aimark_buf out = AIMARK_BUF_INIT;
	assert_int_equal(aimark__audio_writer_open(&w, &info, NULL, 0, &out), AIMARK_EINVAL);
	assert_null(w);
	aimark_buf_dispose(&wav);
	aimark_buf_dispose(&lie);
	aimark_buf_dispose(&many);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wav_pcm16_stereo_exact),
		cmocka_unit_test(test_wav_pcm24_mono_96k_exact),
		cmocka_unit_test(test_wav_pcm8_8k_exact),
		cmocka_unit_test(test_wav_float_exact),
		cmocka_unit_test(test_wav_51_extensible_keeps_layout),
		cmocka_unit_test(test_flac_round_trip_exact),
		cmocka_unit_test(test_mp3_128k),
		cmocka_unit_test(test_mp3_64k_mono),
		cmocka_unit_test(test_mp3_vbr),
		cmocka_unit_test(test_ogg_vorbis),
		cmocka_unit_test(test_ogg_opus),
		cmocka_unit_test(test_m4a_aac),
		cmocka_unit_test(test_m4a_aac_51),
		cmocka_unit_test(test_mp3_bit_rate_rounds_up),
		cmocka_unit_test(test_streaming_block_sizes_agree),
		cmocka_unit_test(test_unfinished_writer_leaves_nothing),
		cmocka_unit_test(test_wav_title_kept),
		cmocka_unit_test(test_resampler),
		cmocka_unit_test(test_bad_input),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

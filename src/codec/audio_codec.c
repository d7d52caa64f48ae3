/*
 * Audio decode and encode on memory: libsndfile (WAV, FLAC) and FFmpeg
 * (MP3, Ogg Vorbis/Opus, M4A, and the WAV/FLAC codings libsndfile refuses).
 * See audio_codec.h for the contract.
 */
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "audio_codec.h"
#include "core/internal.h"

#ifdef AIMARK_HAVE_AUDIO_CODEC

#include <sndfile.h>

#include "ffmpeg_dl.h" /* the FFmpeg headers; FFmpeg itself is loaded on first use */

#if LIBAVFORMAT_VERSION_MAJOR >= 61
#define AVIO_WBUF const uint8_t
#else
#define AVIO_WBUF uint8_t
#endif

enum { BACKEND_SNDFILE = 1, BACKEND_FFMPEG = 2 };

#define IO_BUFFER 32768
#define BLOCK_FRAMES 4096
/* Corrupt packets skipped before a stream counts as broken. */
#define MAX_DECODE_ERRORS 64

/* ------------------------------------------------------------------ */
/* Memory files shared by both backends                               */

typedef struct mem_in {
	const unsigned char *data;
	size_t len;
	size_t pos;
} mem_in;

/* Output appended to `buf` from offset `base`; writes may seek back. */
typedef struct mem_out {
	aimark_buf *buf;
	size_t base;
	size_t pos;
	int failed;
} mem_out;

static int64_t mem_in_seek_to(mem_in *m, int64_t offset, int whence)
{
	int64_t base;
	switch (whence) {
	case SEEK_SET: base = 0; break;
	case SEEK_CUR: base = (int64_t)m->pos; break;
	case SEEK_END: base = (int64_t)m->len; break;
	default: return -1;
	}
	if ((offset > 0 && base > INT64_MAX - offset) || base + offset < 0)
		return -1;
	int64_t np = base + offset;
	if ((uint64_t)np > (uint64_t)m->len)
		np = (int64_t)m->len;
	m->pos = (size_t)np;
	return np;
}

static size_t mem_in_read(mem_in *m, void *ptr, size_t count)
{
	size_t avail = m->pos < m->len ? m->len - m->pos : 0;
	if (count > avail)
		count = avail;
	if (count)
		memcpy(ptr, m->data + m->pos, count);
	m->pos += count;
	return count;
}

static size_t mem_out_size(const mem_out *m) { return m->buf->size - m->base; }

static int64_t mem_out_seek_to(mem_out *m, int64_t offset, int whence)
{
	int64_t base;
	switch (whence) {
	case SEEK_SET: base = 0; break;
	case SEEK_CUR: base = (int64_t)m->pos; break;
	case SEEK_END: base = (int64_t)mem_out_size(m); break;
	default: return -1;
	}
	if ((offset > 0 && base > INT64_MAX - offset) || base + offset < 0 || (uint64_t)(base + offset) > SIZE_MAX / 2)
		return -1;
	m->pos = (size_t)(base + offset);
	return (int64_t)m->pos;
}

static size_t mem_out_write(mem_out *m, const void *ptr, size_t count)
{
	size_t end;
	if (aimark__add_size(m->pos, count, &end) != 0) {
		m->failed = 1;
		return 0;
	}
	size_t have = mem_out_size(m);
	if (end > have) {
		if (aimark__buf_reserve(m->buf, end - have) != 0) {
			m->failed = 1;
			return 0;
		}
		/* a seek past the end leaves a hole of zeros */
		memset(m->buf->ptr + m->buf->size, 0, end - have);
		m->buf->size = m->base + end;
		m->buf->ptr[m->buf->size] = '\0';
	}
	if (count)
		memcpy(m->buf->ptr + m->base + m->pos, ptr, count);
	m->pos = end;
	return count;
}

static size_t mem_out_read(mem_out *m, void *ptr, size_t count)
{
	size_t have = mem_out_size(m);
	size_t avail = m->pos < have ? have - m->pos : 0;
	if (count > avail)
		count = avail;
	if (count)
		memcpy(ptr, m->buf->ptr + m->base + m->pos, count);
	m->pos += count;
	return count;
}

/* ------------------------------------------------------------------ */
/* Sample conversion                                                   */

static inline float clip1(float v)
{
	if (!(v == v))
		return 0.0f; /* NaN */
	return v > 1.0f ? 1.0f : v < -1.0f ? -1.0f : v;
}

/* Float -> integer at `bits` bits, rounded and clipped, left-justified in 32 bits. */
static inline int32_t float_to_i32(float v, unsigned bits)
{
	double scale = (double)(UINT64_C(1) << (bits - 1));
	double q = nearbyint((double)clip1(v) * scale);
	if (q > scale - 1.0)
		q = scale - 1.0;
	if (q < -scale)
		q = -scale;
	return (int32_t)((uint32_t)(int64_t)q << (32 - bits));
}

/* ------------------------------------------------------------------ */
/* Reader                                                              */

struct aimark__audio_reader {
	aimark__audio_info info;
	mem_in in;
	/* libsndfile */
	SNDFILE *sf;
	int sf_int; /* integer PCM: read as int so that <= 24-bit samples round-trip exactly */
	int32_t *ibuf;
	size_t ibuf_frames;
	/* FFmpeg */
	AVFormatContext *fmt;
	AVIOContext *io;
	AVCodecContext *dec;
	AVPacket *pkt;
	AVFrame *frame;
	int stream;
	int flushing, done, errors, started;
	enum AVSampleFormat frame_fmt;
	float *pend;        /* decoded frames not handed out yet */
	size_t pend_frames, pend_pos, pend_cap;
};

/* ---- libsndfile virtual I/O ---- */

static sf_count_t vin_len(void *u) { return (sf_count_t)((mem_in *)u)->len; }
static sf_count_t vin_seek(sf_count_t off, int whence, void *u) { return mem_in_seek_to(u, off, whence); }
static sf_count_t vin_read(void *ptr, sf_count_t count, void *u)
{
	return count <= 0 ? 0 : (sf_count_t)mem_in_read(u, ptr, (size_t)count);
}
static sf_count_t vin_write(const void *ptr, sf_count_t count, void *u) { return 0; }
static sf_count_t vin_tell(void *u) { return (sf_count_t)((mem_in *)u)->pos; }

static sf_count_t vout_len(void *u) { return (sf_count_t)mem_out_size(u); }
static sf_count_t vout_seek(sf_count_t off, int whence, void *u) { return mem_out_seek_to(u, off, whence); }
static sf_count_t vout_read(void *ptr, sf_count_t count, void *u)
{
	return count <= 0 ? 0 : (sf_count_t)mem_out_read(u, ptr, (size_t)count);
}
static sf_count_t vout_write(const void *ptr, sf_count_t count, void *u)
{
	return count <= 0 ? 0 : (sf_count_t)mem_out_write(u, ptr, (size_t)count);
}
static sf_count_t vout_tell(void *u) { return (sf_count_t)((mem_out *)u)->pos; }

static SF_VIRTUAL_IO g_vin = { vin_len, vin_seek, vin_read, vin_write, vin_tell };
static SF_VIRTUAL_IO g_vout = { vout_len, vout_seek, vout_read, vout_write, vout_tell };

/* SF_CHANNEL_MAP_* <-> WAVE speaker bits. */
static const struct { int sf; uint32_t bit; } g_sf_speakers[] = {
	{ SF_CHANNEL_MAP_LEFT, 0x1 }, { SF_CHANNEL_MAP_FRONT_LEFT, 0x1 },
	{ SF_CHANNEL_MAP_RIGHT, 0x2 }, { SF_CHANNEL_MAP_FRONT_RIGHT, 0x2 },
	{ SF_CHANNEL_MAP_CENTER, 0x4 }, { SF_CHANNEL_MAP_FRONT_CENTER, 0x4 },
	{ SF_CHANNEL_MAP_LFE, 0x8 }, { SF_CHANNEL_MAP_REAR_LEFT, 0x10 }, { SF_CHANNEL_MAP_REAR_RIGHT, 0x20 },
	{ SF_CHANNEL_MAP_FRONT_LEFT_OF_CENTER, 0x40 }, { SF_CHANNEL_MAP_FRONT_RIGHT_OF_CENTER, 0x80 },
	{ SF_CHANNEL_MAP_REAR_CENTER, 0x100 }, { SF_CHANNEL_MAP_SIDE_LEFT, 0x200 }, { SF_CHANNEL_MAP_SIDE_RIGHT, 0x400 },
	{ SF_CHANNEL_MAP_TOP_CENTER, 0x800 }, { SF_CHANNEL_MAP_TOP_FRONT_LEFT, 0x1000 },
	{ SF_CHANNEL_MAP_TOP_FRONT_CENTER, 0x2000 }, { SF_CHANNEL_MAP_TOP_FRONT_RIGHT, 0x4000 },
	{ SF_CHANNEL_MAP_TOP_REAR_LEFT, 0x8000 }, { SF_CHANNEL_MAP_TOP_REAR_CENTER, 0x10000 },
	{ SF_CHANNEL_MAP_TOP_REAR_RIGHT, 0x20000 },
};

static uint64_t sf_map_to_mask(const int *map, uint32_t channels)
{
	uint64_t mask = 0;
	for (uint32_t c = 0; c < channels; c++) {
		uint32_t bit = 0;
		for (size_t k = 0; k < sizeof g_sf_speakers / sizeof g_sf_speakers[0]; k++)
			if (g_sf_speakers[k].sf == map[c])
				bit = g_sf_speakers[k].bit;
		if (map[c] == SF_CHANNEL_MAP_MONO && channels == 1)
			bit = 0x4;
		/* an unknown position, a repeated one or one out of order: no usable mask */
		if (bit == 0 || (mask & bit) || (mask && bit < mask))
			return 0;
		mask |= bit;
	}
	return mask;
}

static int mask_to_sf_map(uint64_t mask, uint32_t channels, int *map)
{
	uint32_t c = 0;
	for (uint32_t b = 0; b < 32 && c < channels; b++) {
		if (!(mask & (UINT64_C(1) << b)))
			continue;
		int pos = 0;
		for (size_t k = 0; k < sizeof g_sf_speakers / sizeof g_sf_speakers[0]; k++)
			if (g_sf_speakers[k].bit == (UINT32_C(1) << b)) {
				pos = g_sf_speakers[k].sf;
				if (pos != SF_CHANNEL_MAP_LEFT && pos != SF_CHANNEL_MAP_RIGHT && pos != SF_CHANNEL_MAP_CENTER)
					break;
			}
		map[c++] = pos;
	}
	return c == channels ? 0 : -1;
}

static const char *sf_codec_name(int sub, uint32_t *bits, int *lossy, int *as_int)
{
	*bits = 0;
	*lossy = 0;
	*as_int = 0;
	switch (sub) {
	case SF_FORMAT_PCM_S8: *bits = 8; *as_int = 1; return "pcm_s8";
	case SF_FORMAT_PCM_U8: *bits = 8; *as_int = 1; return "pcm_u8";
	case SF_FORMAT_PCM_16: *bits = 16; *as_int = 1; return "pcm_s16";
	case SF_FORMAT_PCM_24: *bits = 24; *as_int = 1; return "pcm_s24";
	case SF_FORMAT_PCM_32: *bits = 32; *as_int = 1; return "pcm_s32";
	case SF_FORMAT_FLOAT: *bits = 32; return "pcm_f32";
	case SF_FORMAT_DOUBLE: *bits = 64; return "pcm_f64";
	case SF_FORMAT_ULAW: *lossy = 1; return "ulaw";
	case SF_FORMAT_ALAW: *lossy = 1; return "alaw";
	case SF_FORMAT_IMA_ADPCM: *lossy = 1; return "ima_adpcm";
	case SF_FORMAT_MS_ADPCM: *lossy = 1; return "ms_adpcm";
	case SF_FORMAT_GSM610: *lossy = 1; return "gsm610";
	case SF_FORMAT_G721_32: *lossy = 1; return "g721";
	default: return NULL;
	}
}

static int has_magic(const unsigned char *d, size_t len, const char *format)
{
	if (strcmp(format, "wav") == 0)
		return len >= 12 && (memcmp(d, "RIFF", 4) == 0 || memcmp(d, "RF64", 4) == 0 || memcmp(d, "BW64", 4) == 0) &&
		       memcmp(d + 8, "WAVE", 4) == 0;
	if (strcmp(format, "flac") == 0) {
		size_t off = 0;
		if (len >= 10 && memcmp(d, "ID3", 3) == 0)
			off = 10 + (((size_t)(d[6] & 0x7f) << 21) | ((size_t)(d[7] & 0x7f) << 14) | ((size_t)(d[8] & 0x7f) << 7) |
				    (d[9] & 0x7f));
		return off < len && len - off >= 4 && memcmp(d + off, "fLaC", 4) == 0;
	}
	return 0;
}

/* Tries libsndfile. 1: opened; 0: libsndfile cannot decode it (try FFmpeg); < 0: error. */
static int sndfile_open(aimark__audio_reader *r, const char *format, char *why, size_t why_len)
{
	SF_INFO si;
	memset(&si, 0, sizeof si);
	r->in.pos = 0;
	r->sf = sf_open_virtual(&g_vin, SFM_READ, &si, &r->in);
	if (r->sf == NULL) {
		snprintf(why, why_len, "%s", sf_strerror(NULL));
		return 0;
	}
	int major = si.format & SF_FORMAT_TYPEMASK, sub = si.format & SF_FORMAT_SUBMASK;
	int ok_major = strcmp(format, "wav") == 0 ? (major == SF_FORMAT_WAV || major == SF_FORMAT_WAVEX || major == SF_FORMAT_RF64)
						 : major == SF_FORMAT_FLAC;
	aimark__audio_info *in = &r->info;
	const char *codec = sf_codec_name(sub, &in->bits, &in->lossy, &r->sf_int);
	if (!ok_major || codec == NULL) {
		snprintf(why, why_len, "libsndfile reads it as format 0x%x", (unsigned)si.format);
		sf_close(r->sf);
		r->sf = NULL;
		return 0;
	}
	RETURN_IF(si.channels < 1 || (uint32_t)si.channels > AIMARK__AUDIO_MAX_CHANNELS, AIMARK_EUNSUPPORTED,
		  "%s: %d channels (aimark handles 1 to %u)", format, si.channels, AIMARK__AUDIO_MAX_CHANNELS);
	RETURN_IF(si.samplerate < (int)AIMARK__AUDIO_MIN_RATE || si.samplerate > (int)AIMARK__AUDIO_MAX_RATE,
		  AIMARK_EUNSUPPORTED, "%s: sample rate %d Hz outside %u-%u", format, si.samplerate, AIMARK__AUDIO_MIN_RATE,
		  AIMARK__AUDIO_MAX_RATE);
	snprintf(in->codec, sizeof in->codec, "%s", major == SF_FORMAT_FLAC ? "flac" : codec);
	in->sample_rate = (uint32_t)si.samplerate;
	in->channels = (uint32_t)si.channels;
	in->frames = si.frames > 0 ? (uint64_t)si.frames : 0;
	in->backend = BACKEND_SNDFILE;
	in->native_format = si.format;
	if (in->lossy && si.frames > 0)
		in->bit_rate = (int64_t)((double)r->in.len * 8.0 * si.samplerate / (double)si.frames);
	int map[AIMARK__AUDIO_MAX_CHANNELS];
	if (sf_command(r->sf, SFC_GET_CHANNEL_MAP_INFO, map, (int)(sizeof(int) * in->channels)) == SF_TRUE)
		in->channel_mask = sf_map_to_mask(map, in->channels);
	if (r->sf_int) {
		r->ibuf = aimark__calloc(BLOCK_FRAMES, sizeof(int32_t) * in->channels);
		RETURN_ENOMEM_IF_NULL(r->ibuf);
		r->ibuf_frames = BLOCK_FRAMES;
	}
	return 1;
}

static int sndfile_read(aimark__audio_reader *r, float *out, size_t max_frames, size_t *got)
{
	uint32_t ch = r->info.channels;
	size_t done = 0;
	while (done < max_frames) {
		size_t want = max_frames - done;
		sf_count_t n;
		if (r->sf_int) {
			if (want > r->ibuf_frames)
				want = r->ibuf_frames;
			n = sf_readf_int(r->sf, r->ibuf, (sf_count_t)want);
			for (sf_count_t i = 0; i < n * (sf_count_t)ch; i++)
				out[done * ch + (size_t)i] = (float)((double)r->ibuf[i] * (1.0 / 2147483648.0));
		} else {
			n = sf_readf_float(r->sf, out + done * ch, (sf_count_t)want);
		}
		int err = sf_error(r->sf);
		RETURN_IF(err != SF_ERR_NO_ERROR, AIMARK_EFORMAT, "%s: decoding failed after %llu frames: %s", r->info.format,
			  (unsigned long long)done, sf_strerror(r->sf));
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	*got = done;
	return 0;
}

/* ---- FFmpeg ---- */

/*
 * FFmpeg logs to stderr by default, which a library must not do. When the
 * application has left FFmpeg's log level at its default, aimark silences it;
 * failures reach the caller as aimark errors instead.
 */
static pthread_once_t g_av_log_once = PTHREAD_ONCE_INIT;
static void av_log_quiet(void)
{
	if (av_log_get_level() == AV_LOG_INFO)
		av_log_set_level(AV_LOG_QUIET);
}

/* Every FFmpeg path starts here: loads the libraries on first use. */
static int ffmpeg_ready(void)
{
	RETURN_IF_ERR(aimark__ffmpeg_load());
	pthread_once(&g_av_log_once, av_log_quiet);
	return 0;
}

static int av_fail(int code, const char *format, const char *what, int averr)
{
	char msg[AV_ERROR_MAX_STRING_SIZE] = "";
	av_strerror(averr, msg, sizeof msg);
	return aimark__error_set(code, "%s: %s: %s", format, what, msg);
}

static int avin_read(void *u, uint8_t *buf, int size)
{
	size_t n = size <= 0 ? 0 : mem_in_read(u, buf, (size_t)size);
	return n == 0 ? AVERROR_EOF : (int)n;
}

static int64_t avin_seek(void *u, int64_t off, int whence)
{
	mem_in *m = u;
	if (whence & AVSEEK_SIZE)
		return (int64_t)m->len;
	return mem_in_seek_to(m, off, whence & ~AVSEEK_FORCE);
}

static const AVInputFormat *ff_demuxer(const char *format)
{
	if (strcmp(format, "mp3") == 0)
		return av_find_input_format("mp3");
	if (strcmp(format, "ogg") == 0)
		return av_find_input_format("ogg");
	if (strcmp(format, "mp4") == 0)
		return av_find_input_format("mov");
	if (strcmp(format, "wav") == 0)
		return av_find_input_format("wav");
	if (strcmp(format, "flac") == 0)
		return av_find_input_format("flac");
	return NULL;
}

/* The codecs aimark decodes and can encode again; "muxer" NULL: depends on the container. */
static const struct ff_codec {
	enum AVCodecID id;
	const char *name;
	const char *encoder;
	int lossy;
} g_ff_codecs[] = {
	{ AV_CODEC_ID_MP3, "mp3", "libmp3lame", 1 },
	{ AV_CODEC_ID_MP2, "mp2", "mp2", 1 },
	{ AV_CODEC_ID_AAC, "aac", "aac", 1 },
	{ AV_CODEC_ID_VORBIS, "vorbis", "libvorbis", 1 },
	{ AV_CODEC_ID_OPUS, "opus", "libopus", 1 },
	{ AV_CODEC_ID_FLAC, "flac", "flac", 0 },
	{ AV_CODEC_ID_ALAC, "alac", "alac", 0 },
	{ AV_CODEC_ID_PCM_S16LE, "pcm_s16", "pcm_s16le", 0 },
	{ AV_CODEC_ID_PCM_S24LE, "pcm_s24", "pcm_s24le", 0 },
	{ AV_CODEC_ID_PCM_S32LE, "pcm_s32", "pcm_s32le", 0 },
	{ AV_CODEC_ID_PCM_U8, "pcm_u8", "pcm_u8", 0 },
	{ AV_CODEC_ID_PCM_F32LE, "pcm_f32", "pcm_f32le", 0 },
	{ AV_CODEC_ID_PCM_F64LE, "pcm_f64", "pcm_f64le", 0 },
	{ AV_CODEC_ID_PCM_MULAW, "ulaw", "pcm_mulaw", 1 },
	{ AV_CODEC_ID_PCM_ALAW, "alaw", "pcm_alaw", 1 },
};

static const struct ff_codec *ff_codec_of(enum AVCodecID id)
{
	for (size_t i = 0; i < sizeof g_ff_codecs / sizeof g_ff_codecs[0]; i++)
		if (g_ff_codecs[i].id == id)
			return &g_ff_codecs[i];
	return NULL;
}

/* The first top-level MP4 box of `a` or `b`: 1 when `a` comes first. */
static int mp4_box_first(const unsigned char *d, size_t len, const char *a, const char *b)
{
	size_t off = 0;
	for (int i = 0; i < 1024 && off + 8 <= len; i++) {
		uint64_t size = aimark__be32(d + off);
		if (memcmp(d + off + 4, a, 4) == 0)
			return 1;
		if (memcmp(d + off + 4, b, 4) == 0)
			return 0;
		if (size == 1 && off + 16 <= len)
			size = aimark__be64(d + off + 8);
		else if (size == 0)
			return 0;
		if (size < 8 || size > len - off)
			return 0;
		off += (size_t)size;
	}
	return 0;
}

static void ff_muxer_name(const AVFormatContext *fmt, enum AVCodecID id, const char *format, char *out, size_t n)
{
	const char *m = format;
	if (strcmp(format, "ogg") == 0)
		m = id == AV_CODEC_ID_OPUS ? "opus" : "ogg";
	else if (strcmp(format, "mp4") == 0) {
		AVDictionaryEntry *e = av_dict_get(fmt->metadata, "major_brand", NULL, 0);
		m = "mp4";
		if (e && (strncmp(e->value, "M4A", 3) == 0 || strncmp(e->value, "M4B", 3) == 0) &&
		    (id == AV_CODEC_ID_AAC || id == AV_CODEC_ID_ALAC))
			m = "ipod";
		else if (e && strncmp(e->value, "qt", 2) == 0)
			m = "mov";
	}
	snprintf(out, n, "%s", m);
}

static int ffmpeg_open(aimark__audio_reader *r, const char *format)
{
	RETURN_IF_ERR(ffmpeg_ready());
	const AVInputFormat *ifmt = ff_demuxer(format);
	RETURN_IF(ifmt == NULL, AIMARK_EUNSUPPORTED, "audio: no FFmpeg demuxer for %s", format);
	r->in.pos = 0;
	unsigned char *iobuf = av_malloc(IO_BUFFER);
	RETURN_ENOMEM_IF_NULL(iobuf);
	r->io = avio_alloc_context(iobuf, IO_BUFFER, 0, &r->in, avin_read, NULL, avin_seek);
	if (r->io == NULL) {
		av_free(iobuf);
		return aimark__error_set(AIMARK_ENOMEM, "out of memory");
	}
	r->fmt = avformat_alloc_context();
	RETURN_ENOMEM_IF_NULL(r->fmt);
	r->fmt->pb = r->io;
	r->fmt->flags |= AVFMT_FLAG_CUSTOM_IO;
	r->fmt->probesize = 1 << 20;
	int rc = avformat_open_input(&r->fmt, NULL, ifmt, NULL); /* frees fmt on failure */
	if (rc < 0)
		return av_fail(AIMARK_EFORMAT, format, "cannot read the container", rc);
	rc = avformat_find_stream_info(r->fmt, NULL);
	if (rc < 0)
		return av_fail(AIMARK_EFORMAT, format, "cannot read the stream parameters", rc);
	int audio = 0;
	for (unsigned i = 0; i < r->fmt->nb_streams; i++) {
		const AVStream *st = r->fmt->streams[i];
		if (st->codecpar->codec_type == AVMEDIA_TYPE_AUDIO)
			audio++;
		RETURN_IF(st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO && !(st->disposition & AV_DISPOSITION_ATTACHED_PIC),
			  AIMARK_EUNSUPPORTED, "%s: the file has a video track; the audio label handles audio-only files", format);
	}
	RETURN_IF(audio == 0, AIMARK_EFORMAT, "%s: no audio stream", format);
	RETURN_IF(audio > 1, AIMARK_EUNSUPPORTED, "%s: %d audio streams (aimark labels files with one)", format, audio);
	const AVCodec *dec = NULL;
	r->stream = av_find_best_stream(r->fmt, AVMEDIA_TYPE_AUDIO, -1, -1, &dec, 0);
	if (r->stream < 0)
		return av_fail(AIMARK_EUNSUPPORTED, format, "no decodable audio stream", r->stream);
	const AVCodecParameters *par = r->fmt->streams[r->stream]->codecpar;
	const struct ff_codec *fc = ff_codec_of(par->codec_id);
	RETURN_IF(fc == NULL, AIMARK_EUNSUPPORTED, "%s: audio codec %s is not supported", format, avcodec_get_name(par->codec_id));
	int channels = par->ch_layout.nb_channels;
	RETURN_IF(channels < 1 || (unsigned)channels > AIMARK__AUDIO_MAX_CHANNELS, AIMARK_EUNSUPPORTED,
		  "%s: %d channels (aimark handles 1 to %u)", format, channels, AIMARK__AUDIO_MAX_CHANNELS);
	RETURN_IF(par->sample_rate < (int)AIMARK__AUDIO_MIN_RATE || par->sample_rate > (int)AIMARK__AUDIO_MAX_RATE,
		  AIMARK_EUNSUPPORTED, "%s: sample rate %d Hz outside %u-%u", format, par->sample_rate,
		  AIMARK__AUDIO_MIN_RATE, AIMARK__AUDIO_MAX_RATE);

	r->dec = avcodec_alloc_context3(dec);
	RETURN_ENOMEM_IF_NULL(r->dec);
	rc = avcodec_parameters_to_context(r->dec, par);
	if (rc < 0)
		return av_fail(AIMARK_EFORMAT, format, "bad codec parameters", rc);
	r->dec->pkt_timebase = r->fmt->streams[r->stream]->time_base;
	r->dec->thread_count = 1;
	rc = avcodec_open2(r->dec, dec, NULL);
	if (rc < 0)
		return av_fail(AIMARK_EFORMAT, format, "cannot open the decoder", rc);
	r->pkt = av_packet_alloc();
	r->frame = av_frame_alloc();
	RETURN_ENOMEM_IF_NULL(r->pkt);
	RETURN_ENOMEM_IF_NULL(r->frame);

	aimark__audio_info *in = &r->info;
	snprintf(in->codec, sizeof in->codec, "%s", fc->name);
	in->sample_rate = (uint32_t)par->sample_rate;
	in->channels = (uint32_t)channels;
	if (par->ch_layout.order == AV_CHANNEL_ORDER_NATIVE)
		in->channel_mask = par->ch_layout.u.mask;
	in->lossy = fc->lossy;
	in->bits = fc->lossy ? 0 : (uint32_t)(par->bits_per_raw_sample ? par->bits_per_raw_sample : par->bits_per_coded_sample);
	in->backend = BACKEND_FFMPEG;
	in->native_format = (int)par->codec_id;
	ff_muxer_name(r->fmt, par->codec_id, format, in->muxer, sizeof in->muxer);
	const AVStream *st = r->fmt->streams[r->stream];
	double seconds = 0.0;
	if (st->duration > 0 && st->time_base.den > 0)
		seconds = (double)st->duration * av_q2d(st->time_base);
	else if (r->fmt->duration > 0)
		seconds = (double)r->fmt->duration / AV_TIME_BASE;
	if (fc->lossy) {
		int64_t br = par->bit_rate > 0 ? par->bit_rate : 0;
		if (br <= 0 && r->fmt->bit_rate > 0)
			br = r->fmt->bit_rate;
		if (br <= 0 && seconds > 0.05)
			br = (int64_t)((double)r->in.len * 8.0 / seconds);
		in->bit_rate = br;
	}
	return 1;
}

/* Appends the decoded frame to the pending buffer as interleaved float. */
static int ff_take_frame(aimark__audio_reader *r)
{
	const AVFrame *f = r->frame;
	uint32_t ch = r->info.channels;
	RETURN_IF(f->ch_layout.nb_channels != (int)ch || f->sample_rate != (int)r->info.sample_rate, AIMARK_EUNSUPPORTED,
		  "%s: the stream changes from %u Hz / %u channels to %d Hz / %d channels mid-way", r->info.format,
		  r->info.sample_rate, ch, f->sample_rate, f->ch_layout.nb_channels);
	if (f->nb_samples <= 0)
		return 0;
	size_t n = (size_t)f->nb_samples;
	if (r->pend_pos > 0 && r->pend_pos == r->pend_frames)
		r->pend_pos = r->pend_frames = 0;
	if (r->pend_frames + n > r->pend_cap) {
		size_t cap = r->pend_frames + n;
		RETURN_IF(cap > (SIZE_MAX / sizeof(float)) / ch, AIMARK_ELIMIT, "%s: frame too large", r->info.format);
		float *p = aimark__realloc(r->pend, cap * ch * sizeof(float));
		RETURN_ENOMEM_IF_NULL(p);
		r->pend = p;
		r->pend_cap = cap;
	}
	float *dst = r->pend + r->pend_frames * ch;
	enum AVSampleFormat fmt = (enum AVSampleFormat)f->format;
	int planar = av_sample_fmt_is_planar(fmt);
	enum AVSampleFormat packed = av_get_packed_sample_fmt(fmt);
	for (size_t i = 0; i < n; i++) {
		for (uint32_t c = 0; c < ch; c++) {
			size_t idx = planar ? i : i * ch + c;
			const uint8_t *plane = f->extended_data[planar ? c : 0];
			double v;
			switch (packed) {
			case AV_SAMPLE_FMT_U8: v = ((double)plane[idx] - 128.0) / 128.0; break;
			case AV_SAMPLE_FMT_S16: v = ((const int16_t *)(const void *)plane)[idx] / 32768.0; break;
			case AV_SAMPLE_FMT_S32: v = ((const int32_t *)(const void *)plane)[idx] / 2147483648.0; break;
			case AV_SAMPLE_FMT_FLT: v = ((const float *)(const void *)plane)[idx]; break;
			case AV_SAMPLE_FMT_DBL: v = ((const double *)(const void *)plane)[idx]; break;
			default:
				return aimark__error_set(AIMARK_EUNSUPPORTED, "%s: decoder sample format %s not supported",
							 r->info.format, av_get_sample_fmt_name(fmt));
			}
			dst[i * ch + c] = (float)v;
		}
	}
	r->pend_frames += n;
	return 0;
}

static int ff_decode_more(aimark__audio_reader *r)
{
	for (;;) {
		int rc = avcodec_receive_frame(r->dec, r->frame);
		if (rc == 0) {
			rc = ff_take_frame(r);
			av_frame_unref(r->frame);
			RETURN_IF_ERR(rc);
			r->started = 1;
			return 0;
		}
		if (rc == AVERROR_EOF) {
			r->done = 1;
			return 0;
		}
		if (rc != AVERROR(EAGAIN)) {
			/* a corrupt frame: skipped, as players do, up to a limit */
			if (++r->errors > MAX_DECODE_ERRORS)
				return av_fail(AIMARK_EFORMAT, r->info.format, "too many corrupt audio frames", rc);
			continue;
		}
		if (r->flushing) {
			r->done = 1;
			return 0;
		}
		rc = av_read_frame(r->fmt, r->pkt);
		if (rc < 0) {
			if (rc != AVERROR_EOF && ++r->errors > MAX_DECODE_ERRORS)
				return av_fail(AIMARK_EFORMAT, r->info.format, "reading packets failed", rc);
			r->flushing = 1;
			rc = avcodec_send_packet(r->dec, NULL);
			if (rc < 0 && rc != AVERROR_EOF)
				return av_fail(AIMARK_EFORMAT, r->info.format, "flushing the decoder failed", rc);
			continue;
		}
		if (r->pkt->stream_index == r->stream) {
			rc = avcodec_send_packet(r->dec, r->pkt);
			if (rc < 0 && rc != AVERROR(EAGAIN) && ++r->errors > MAX_DECODE_ERRORS) {
				av_packet_unref(r->pkt);
				return av_fail(AIMARK_EFORMAT, r->info.format, "too many corrupt audio packets", rc);
			}
		}
		av_packet_unref(r->pkt);
	}
}

static int ffmpeg_read(aimark__audio_reader *r, float *out, size_t max_frames, size_t *got)
{
	uint32_t ch = r->info.channels;
	size_t done = 0;
	while (done < max_frames) {
		if (r->pend_pos < r->pend_frames) {
			size_t n = r->pend_frames - r->pend_pos;
			if (n > max_frames - done)
				n = max_frames - done;
			memcpy(out + done * ch, r->pend + r->pend_pos * ch, n * ch * sizeof(float));
			r->pend_pos += n;
			done += n;
			continue;
		}
		if (r->done)
			break;
		RETURN_IF_ERR(ff_decode_more(r));
	}
	if (done == 0 && r->done && !r->started)
		return aimark__error_set(AIMARK_EFORMAT, "%s: no audio could be decoded", r->info.format);
	*got = done;
	return 0;
}

/* ---- reader API ---- */

int aimark__audio_reader_open(aimark__audio_reader **out, const unsigned char *data, size_t len, const char *format,
			      aimark__audio_info *info)
{
	RETURN_IF(out == NULL, AIMARK_EINVAL, "audio: no reader");
	*out = NULL;
	RETURN_IF(format == NULL || (data == NULL && len > 0), AIMARK_EINVAL, "audio: no data or format");
	RETURN_IF(strcmp(format, "wav") != 0 && strcmp(format, "flac") != 0 && strcmp(format, "ogg") != 0 &&
		  strcmp(format, "mp3") != 0 && strcmp(format, "mp4") != 0,
		  AIMARK_EUNSUPPORTED, "audio: cannot decode format %s", format);
	RETURN_IF((uint64_t)len > AIMARK__AUDIO_MAX_INPUT, AIMARK_ELIMIT, "%s: %zu bytes exceed the audio limit of %llu",
		  format, len, (unsigned long long)AIMARK__AUDIO_MAX_INPUT);
	RETURN_IF(len < 4, AIMARK_EFORMAT, "%s: %zu bytes is too short for an audio file", format, len);
	aimark__audio_reader *r = aimark__calloc(1, sizeof *r);
	RETURN_ENOMEM_IF_NULL(r);
	r->in.data = data;
	r->in.len = len;
	r->stream = -1;
	snprintf(r->info.format, sizeof r->info.format, "%s", format);
	int rc = 0;
	char why[160] = "";
	if (strcmp(format, "wav") == 0 || strcmp(format, "flac") == 0) {
		if (!has_magic(data, len, format)) {
			rc = aimark__error_set(AIMARK_EFORMAT, "%s: not a %s file (bad magic at offset 0)", format,
					       strcmp(format, "wav") == 0 ? "RIFF/RF64 WAVE" : "FLAC");
			goto fail;
		}
		rc = sndfile_open(r, format, why, sizeof why);
		if (rc < 0)
			goto fail;
	}
	if (rc == 0) {
		rc = ffmpeg_open(r, format);
		if (rc < 0) {
			if (why[0])
				aimark__error_prefix("libsndfile: %s; FFmpeg", why);
			goto fail;
		}
	}
	if (info)
		*info = r->info;
	*out = r;
	return 0;
fail:
	aimark__audio_reader_free(r);
	return rc;
}

const aimark__audio_info *aimark__audio_reader_info(const aimark__audio_reader *r) { return r ? &r->info : NULL; }

int aimark__audio_reader_read(aimark__audio_reader *r, float *samples, size_t max_frames, size_t *got)
{
	RETURN_IF(r == NULL || got == NULL || (samples == NULL && max_frames), AIMARK_EINVAL, "audio: bad read arguments");
	*got = 0;
	if (max_frames == 0)
		return 0;
	if (r->info.backend == BACKEND_SNDFILE)
		return sndfile_read(r, samples, max_frames, got);
	return ffmpeg_read(r, samples, max_frames, got);
}

void aimark__audio_reader_free(aimark__audio_reader *r)
{
	if (r == NULL)
		return;
	if (r->sf)
		sf_close(r->sf);
	aimark__free(r->ibuf);
	/* FFmpeg is loaded only if one of these was made */
	if (r->dec)
		avcodec_free_context(&r->dec);
	if (r->fmt)
		avformat_close_input(&r->fmt);
	if (r->io) {
		av_freep(&r->io->buffer);
		avio_context_free(&r->io);
	}
	if (r->pkt)
		av_packet_free(&r->pkt);
	if (r->frame)
		av_frame_free(&r->frame);
	aimark__free(r->pend);
	aimark__free(r);
}

/* ------------------------------------------------------------------ */
/* Writer                                                              */

struct aimark__audio_writer {
	aimark__audio_info info;
	mem_out out;
	int finished;
	/* libsndfile */
	SNDFILE *sf;
	int sf_int;
	int32_t *ibuf;
	/* FFmpeg */
	AVFormatContext *oc;
	AVIOContext *io;
	AVCodecContext *enc;
	AVStream *st;
	AVFrame *frame;
	AVPacket *pkt;
	float *fifo;        /* frames waiting for a full encoder frame */
	size_t fifo_frames, frame_size;
	int64_t next_pts;
};

/* ---- libsndfile ---- */

static void sndfile_copy_metadata(SNDFILE *dst, const unsigned char *original, size_t len)
{
	SF_INFO si;
	memset(&si, 0, sizeof si);
	mem_in m = { original, len, 0 };
	SNDFILE *src = sf_open_virtual(&g_vin, SFM_READ, &si, &m);
	if (src == NULL)
		return;
	for (int k = SF_STR_FIRST; k <= SF_STR_LAST; k++) {
		const char *s = sf_get_string(src, k);
		if (s && *s)
			(void)sf_set_string(dst, k, s);
	}
	SF_BROADCAST_INFO bext;
	memset(&bext, 0, sizeof bext);
	if (sf_command(src, SFC_GET_BROADCAST_INFO, &bext, sizeof bext) == SF_TRUE)
		(void)sf_command(dst, SFC_SET_BROADCAST_INFO, &bext, sizeof bext);
	SF_CART_INFO cart;
	memset(&cart, 0, sizeof cart);
	if (sf_command(src, SFC_GET_CART_INFO, &cart, sizeof cart) == SF_TRUE)
		(void)sf_command(dst, SFC_SET_CART_INFO, &cart, sizeof cart);
	sf_close(src);
}

static int sndfile_writer_open(aimark__audio_writer *w, const unsigned char *original, size_t original_len)
{
	const aimark__audio_info *in = &w->info;
	SF_INFO si;
	memset(&si, 0, sizeof si);
	si.samplerate = (int)in->sample_rate;
	si.channels = (int)in->channels;
	si.format = in->native_format;
	RETURN_IF(!sf_format_check(&si), AIMARK_EUNSUPPORTED, "%s: libsndfile cannot write format 0x%x with %u channels at %u Hz",
		  in->format, (unsigned)si.format, in->channels, in->sample_rate);
	uint32_t bits;
	int lossy;
	(void)sf_codec_name(si.format & SF_FORMAT_SUBMASK, &bits, &lossy, &w->sf_int);
	w->sf = sf_open_virtual(&g_vout, SFM_WRITE, &si, &w->out);
	RETURN_IF(w->sf == NULL, AIMARK_EFORMAT, "%s: libsndfile cannot start the file: %s", in->format, sf_strerror(NULL));
	if (in->channel_mask) {
		int map[AIMARK__AUDIO_MAX_CHANNELS];
		if (mask_to_sf_map(in->channel_mask, in->channels, map) == 0)
			(void)sf_command(w->sf, SFC_SET_CHANNEL_MAP_INFO, map, (int)(sizeof(int) * in->channels));
	}
	if (original)
		sndfile_copy_metadata(w->sf, original, original_len);
	if (w->sf_int) {
		w->ibuf = aimark__calloc(BLOCK_FRAMES, sizeof(int32_t) * in->channels);
		RETURN_ENOMEM_IF_NULL(w->ibuf);
	}
	return 0;
}

static int sndfile_write(aimark__audio_writer *w, const float *x, size_t frames)
{
	uint32_t ch = w->info.channels;
	unsigned bits = w->info.bits ? w->info.bits : 32;
	float *tmp = NULL;
	while (frames > 0) {
		size_t n = frames > BLOCK_FRAMES ? BLOCK_FRAMES : frames;
		sf_count_t wrote;
		if (w->sf_int) {
			for (size_t i = 0; i < n * ch; i++)
				w->ibuf[i] = float_to_i32(x[i], bits);
			wrote = sf_writef_int(w->sf, w->ibuf, (sf_count_t)n);
		} else {
			if (tmp == NULL) {
				tmp = aimark__malloc(sizeof(float) * BLOCK_FRAMES * ch);
				RETURN_ENOMEM_IF_NULL(tmp);
			}
			for (size_t i = 0; i < n * ch; i++)
				tmp[i] = clip1(x[i]);
			wrote = sf_writef_float(w->sf, tmp, (sf_count_t)n);
		}
		if (wrote != (sf_count_t)n || w->out.failed) {
			aimark__free(tmp);
			return aimark__error_set(w->out.failed ? AIMARK_ENOMEM : AIMARK_EFORMAT, "%s: libsndfile write failed: %s",
						 w->info.format, sf_strerror(w->sf));
		}
		x += n * ch;
		frames -= n;
	}
	aimark__free(tmp);
	return 0;
}

/* ---- FFmpeg ---- */

static int avout_write(void *u, AVIO_WBUF *buf, int size)
{
	mem_out *m = u;
	if (size <= 0)
		return 0;
	return mem_out_write(m, buf, (size_t)size) == (size_t)size ? size : AVERROR(ENOMEM);
}

static int avout_read(void *u, uint8_t *buf, int size)
{
	size_t n = size <= 0 ? 0 : mem_out_read(u, buf, (size_t)size);
	return n == 0 ? AVERROR_EOF : (int)n;
}

static int64_t avout_seek(void *u, int64_t off, int whence)
{
	mem_out *m = u;
	if (whence & AVSEEK_SIZE)
		return (int64_t)mem_out_size(m);
	return mem_out_seek_to(m, off, whence & ~AVSEEK_FORCE);
}

/* MP3 bit rates (kbit/s) per MPEG version; the output takes the first >= the input's. */
static int64_t mp3_bit_rate(int64_t want, uint32_t rate)
{
	static const int mpeg1[] = { 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320 };
	static const int mpeg2[] = { 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160 };
	const int *t = rate >= 32000 ? mpeg1 : mpeg2;
	for (int i = 0; i < 14; i++)
		if ((int64_t)t[i] * 1000 >= want)
			return (int64_t)t[i] * 1000;
	return (int64_t)t[13] * 1000;
}

/* Highest bit rate asked of an average-rate encoder. */
static int64_t max_bit_rate(const aimark__audio_info *in) { return 256000 * (int64_t)in->channels; }

static int64_t out_bit_rate(const aimark__audio_info *in)
{
	int64_t want = in->bit_rate > 0 ? in->bit_rate : 128000;
	switch (in->native_format) {
	case AV_CODEC_ID_MP3:
	case AV_CODEC_ID_MP2:
		return mp3_bit_rate(want, in->sample_rate);
	case AV_CODEC_ID_AAC:
	case AV_CODEC_ID_VORBIS: {
		/* average-rate encoders land a little under their target: aim 10 % above */
		int64_t r = in->target_bit_rate > 0 ? in->target_bit_rate : (want * 11 / 10 + 999) / 1000 * 1000;
		int64_t cap = max_bit_rate(in);
		return r > cap ? (want > cap ? want : cap) : r;
	}
	case AV_CODEC_ID_OPUS: {
		/* constant rate (vbr off): never below the target */
		int64_t r = (want + 999) / 1000 * 1000;
		int64_t cap = 256000 * (int64_t)in->channels;
		if (r < 6000)
			r = 6000;
		return r > cap ? cap : r;
	}
	default:
		return 0;
	}
}

int aimark__audio_retry_bit_rate(aimark__audio_info *info, const unsigned char *out, size_t len)
{
	if (info == NULL || !info->lossy || info->bit_rate <= 0 || info->backend != BACKEND_FFMPEG ||
	    (info->native_format != AV_CODEC_ID_AAC && info->native_format != AV_CODEC_ID_VORBIS))
		return 0;
	aimark__audio_reader *r = NULL;
	aimark__audio_info got;
	if (aimark__audio_reader_open(&r, out, len, info->format, &got) != 0)
		return 0;
	aimark__audio_reader_free(r);
	if (got.bit_rate <= 0 || got.bit_rate >= info->bit_rate)
		return 0;
	int64_t asked = out_bit_rate(info);
	double more = (double)info->bit_rate / (double)got.bit_rate * 1.1;
	int64_t next = ((int64_t)((double)asked * more) + 999) / 1000 * 1000;
	if (next > max_bit_rate(info))
		next = max_bit_rate(info);
	if (next <= asked)
		return 0;
	info->target_bit_rate = next;
	return 1;
}

static enum AVSampleFormat pick_sample_fmt(const AVCodec *codec, uint32_t bits, int lossy)
{
	static const enum AVSampleFormat lossy_pref[] = { AV_SAMPLE_FMT_FLTP, AV_SAMPLE_FMT_FLT, AV_SAMPLE_FMT_S32P,
							  AV_SAMPLE_FMT_S32, AV_SAMPLE_FMT_S16P, AV_SAMPLE_FMT_S16 };
	static const enum AVSampleFormat deep_pref[] = { AV_SAMPLE_FMT_S32, AV_SAMPLE_FMT_S32P, AV_SAMPLE_FMT_FLT,
							 AV_SAMPLE_FMT_FLTP, AV_SAMPLE_FMT_S16, AV_SAMPLE_FMT_S16P };
	static const enum AVSampleFormat shallow_pref[] = { AV_SAMPLE_FMT_S16, AV_SAMPLE_FMT_S16P, AV_SAMPLE_FMT_S32,
							    AV_SAMPLE_FMT_S32P, AV_SAMPLE_FMT_FLT, AV_SAMPLE_FMT_FLTP };
	const enum AVSampleFormat *pref = lossy ? lossy_pref : bits > 16 ? deep_pref : shallow_pref;
	if (codec->sample_fmts == NULL)
		return pref[0];
	for (int i = 0; i < 6; i++)
		for (const enum AVSampleFormat *f = codec->sample_fmts; *f != AV_SAMPLE_FMT_NONE; f++)
			if (*f == pref[i])
				return *f;
	/* u8, double: converted too */
	for (const enum AVSampleFormat *f = codec->sample_fmts; *f != AV_SAMPLE_FMT_NONE; f++) {
		enum AVSampleFormat p = av_get_packed_sample_fmt(*f);
		if (p == AV_SAMPLE_FMT_U8 || p == AV_SAMPLE_FMT_DBL)
			return *f;
	}
	return AV_SAMPLE_FMT_NONE;
}

static void copy_dict(AVDictionary **dst, const AVDictionary *src)
{
	const AVDictionaryEntry *e = NULL;
	while ((e = av_dict_get(src, "", e, AV_DICT_IGNORE_SUFFIX)) != NULL) {
		/* written by the muxer itself */
		if (strcmp(e->key, "major_brand") == 0 || strcmp(e->key, "minor_version") == 0 ||
		    strcmp(e->key, "compatible_brands") == 0 || strcmp(e->key, "encoder") == 0 ||
		    strcmp(e->key, "vendor_id") == 0)
			continue;
		(void)av_dict_set(dst, e->key, e->value, 0);
	}
}

static void ffmpeg_copy_metadata(aimark__audio_writer *w, const unsigned char *original, size_t len)
{
	aimark__audio_reader *r = aimark__calloc(1, sizeof *r);
	if (r == NULL)
		return;
	r->in.data = original;
	r->in.len = len;
	r->stream = -1;
	snprintf(r->info.format, sizeof r->info.format, "%s", w->info.format);
	/* a failure only means there is no metadata to keep */
	if (ffmpeg_open(r, w->info.format) > 0) {
		copy_dict(&w->oc->metadata, r->fmt->metadata);
		copy_dict(&w->st->metadata, r->fmt->streams[r->stream]->metadata);
		/* Ogg keeps its comments per stream; FFmpeg writes them from the stream */
		if (strcmp(w->info.format, "ogg") == 0)
			copy_dict(&w->st->metadata, r->fmt->metadata);
	}
	aimark__audio_reader_free(r);
}

static int ffmpeg_writer_open(aimark__audio_writer *w, const unsigned char *original, size_t original_len)
{
	RETURN_IF_ERR(ffmpeg_ready());
	const aimark__audio_info *in = &w->info;
	const char *fmtname = in->format;
	const struct ff_codec *fc = ff_codec_of((enum AVCodecID)in->native_format);
	RETURN_IF(fc == NULL, AIMARK_EUNSUPPORTED, "%s: no encoder for codec %s", fmtname, in->codec);
	const AVCodec *codec = avcodec_find_encoder_by_name(fc->encoder);
	if (codec == NULL)
		codec = avcodec_find_encoder(fc->id);
	RETURN_IF(codec == NULL, AIMARK_EUNSUPPORTED, "%s: FFmpeg has no %s encoder", fmtname, fc->name);
	if (codec->supported_samplerates) {
		int ok = 0;
		for (const int *p = codec->supported_samplerates; *p; p++)
			ok |= *p == (int)in->sample_rate;
		RETURN_IF(!ok, AIMARK_EUNSUPPORTED, "%s: the %s encoder cannot write %u Hz", fmtname, codec->name, in->sample_rate);
	}
	int rc = avformat_alloc_output_context2(&w->oc, NULL, in->muxer, NULL);
	if (rc < 0 || w->oc == NULL)
		return av_fail(AIMARK_EUNSUPPORTED, fmtname, "no muxer", rc < 0 ? rc : AVERROR_MUXER_NOT_FOUND);
	unsigned char *iobuf = av_malloc(IO_BUFFER);
	RETURN_ENOMEM_IF_NULL(iobuf);
	w->io = avio_alloc_context(iobuf, IO_BUFFER, 1, &w->out, avout_read, avout_write, avout_seek);
	if (w->io == NULL) {
		av_free(iobuf);
		return aimark__error_set(AIMARK_ENOMEM, "out of memory");
	}
	w->oc->pb = w->io;
	w->oc->flags |= AVFMT_FLAG_BITEXACT;
	w->st = avformat_new_stream(w->oc, NULL);
	RETURN_ENOMEM_IF_NULL(w->st);
	w->enc = avcodec_alloc_context3(codec);
	RETURN_ENOMEM_IF_NULL(w->enc);
	AVCodecContext *e = w->enc;
	e->sample_rate = (int)in->sample_rate;
	e->time_base = (AVRational){ 1, (int)in->sample_rate };
	e->sample_fmt = pick_sample_fmt(codec, in->bits, in->lossy);
	RETURN_IF(e->sample_fmt == AV_SAMPLE_FMT_NONE, AIMARK_EUNSUPPORTED, "%s: no usable sample format for %s", fmtname,
		  codec->name);
	if (in->channel_mask && (uint32_t)__builtin_popcountll(in->channel_mask) == in->channels)
		rc = av_channel_layout_from_mask(&e->ch_layout, in->channel_mask);
	else {
		av_channel_layout_default(&e->ch_layout, (int)in->channels);
		rc = 0;
	}
	if (rc < 0)
		return av_fail(AIMARK_EUNSUPPORTED, fmtname, "bad channel layout", rc);
	if (!in->lossy && in->bits)
		e->bits_per_raw_sample = (int)in->bits;
	e->bit_rate = out_bit_rate(in);
	e->flags |= AV_CODEC_FLAG_BITEXACT;
	e->thread_count = 1;
	if (w->oc->oformat->flags & AVFMT_GLOBALHEADER)
		e->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
	AVDictionary *eopts = NULL;
	if (fc->id == AV_CODEC_ID_OPUS)
		(void)av_dict_set(&eopts, "vbr", "off", 0); /* constant rate: never below the target */
	rc = avcodec_open2(e, codec, &eopts);
	av_dict_free(&eopts);
	if (rc < 0)
		return av_fail(AIMARK_EUNSUPPORTED, fmtname, "cannot open the encoder", rc);
	rc = avcodec_parameters_from_context(w->st->codecpar, e);
	if (rc < 0)
		return av_fail(AIMARK_EFORMAT, fmtname, "codec parameters", rc);
	w->st->time_base = e->time_base;
	if (original)
		ffmpeg_copy_metadata(w, original, original_len);
	AVDictionary *mopts = NULL;
	if (strcmp(fmtname, "mp4") == 0 && original && mp4_box_first(original, original_len, "moov", "mdat"))
		(void)av_dict_set(&mopts, "movflags", "+faststart", 0);
	rc = avformat_write_header(w->oc, &mopts);
	av_dict_free(&mopts);
	if (rc < 0)
		return av_fail(AIMARK_EFORMAT, fmtname, "cannot write the header", rc);
	w->frame_size = e->frame_size > 0 && !(codec->capabilities & AV_CODEC_CAP_VARIABLE_FRAME_SIZE) ? (size_t)e->frame_size
													 : BLOCK_FRAMES;
	w->frame = av_frame_alloc();
	w->pkt = av_packet_alloc();
	w->fifo = aimark__calloc(w->frame_size, sizeof(float) * in->channels);
	RETURN_ENOMEM_IF_NULL(w->frame);
	RETURN_ENOMEM_IF_NULL(w->pkt);
	RETURN_ENOMEM_IF_NULL(w->fifo);
	return 0;
}

static int ff_drain(aimark__audio_writer *w)
{
	for (;;) {
		int rc = avcodec_receive_packet(w->enc, w->pkt);
		if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF)
			return 0;
		if (rc < 0)
			return av_fail(AIMARK_EFORMAT, w->info.format, "encoding failed", rc);
		av_packet_rescale_ts(w->pkt, w->enc->time_base, w->st->time_base);
		w->pkt->stream_index = w->st->index;
		rc = av_interleaved_write_frame(w->oc, w->pkt);
		if (rc < 0)
			return av_fail(w->out.failed ? AIMARK_ENOMEM : AIMARK_EFORMAT, w->info.format, "writing a packet failed", rc);
	}
}

/* Encodes the first `n` frames of the fifo. */
static int ff_encode_fifo(aimark__audio_writer *w, size_t n)
{
	uint32_t ch = w->info.channels;
	AVFrame *f = w->frame;
	av_frame_unref(f);
	f->nb_samples = (int)n;
	f->format = w->enc->sample_fmt;
	f->sample_rate = w->enc->sample_rate;
	int rc = av_channel_layout_copy(&f->ch_layout, &w->enc->ch_layout);
	if (rc >= 0)
		rc = av_frame_get_buffer(f, 0);
	if (rc < 0)
		return av_fail(AIMARK_ENOMEM, w->info.format, "frame buffer", rc);
	enum AVSampleFormat fmt = (enum AVSampleFormat)f->format;
	int planar = av_sample_fmt_is_planar(fmt);
	enum AVSampleFormat packed = av_get_packed_sample_fmt(fmt);
	unsigned bits = w->info.bits && w->info.bits < 32 && !w->info.lossy ? w->info.bits : 32;
	for (size_t i = 0; i < n; i++) {
		for (uint32_t c = 0; c < ch; c++) {
			float v = clip1(w->fifo[i * ch + c]);
			size_t idx = planar ? i : i * ch + c;
			uint8_t *plane = f->extended_data[planar ? c : 0];
			switch (packed) {
			case AV_SAMPLE_FMT_U8: plane[idx] = (uint8_t)((float_to_i32(v, 8) >> 24) + 128); break;
			case AV_SAMPLE_FMT_S16: ((int16_t *)(void *)plane)[idx] = (int16_t)(float_to_i32(v, 16) >> 16); break;
			case AV_SAMPLE_FMT_S32: ((int32_t *)(void *)plane)[idx] = float_to_i32(v, bits); break;
			case AV_SAMPLE_FMT_DBL: ((double *)(void *)plane)[idx] = v; break;
			default: ((float *)(void *)plane)[idx] = v; break;
			}
		}
	}
	f->pts = w->next_pts;
	w->next_pts += (int64_t)n;
	rc = avcodec_send_frame(w->enc, f);
	if (rc < 0)
		return av_fail(AIMARK_EFORMAT, w->info.format, "encoding failed", rc);
	RETURN_IF_ERR(ff_drain(w));
	if (n < w->fifo_frames)
		memmove(w->fifo, w->fifo + n * ch, (w->fifo_frames - n) * ch * sizeof(float));
	w->fifo_frames -= n;
	return 0;
}

static int ffmpeg_write(aimark__audio_writer *w, const float *x, size_t frames)
{
	uint32_t ch = w->info.channels;
	while (frames > 0) {
		size_t n = w->frame_size - w->fifo_frames;
		if (n > frames)
			n = frames;
		memcpy(w->fifo + w->fifo_frames * ch, x, n * ch * sizeof(float));
		w->fifo_frames += n;
		x += n * ch;
		frames -= n;
		if (w->fifo_frames == w->frame_size)
			RETURN_IF_ERR(ff_encode_fifo(w, w->frame_size));
	}
	return 0;
}

static int ffmpeg_finish(aimark__audio_writer *w)
{
	if (w->fifo_frames > 0)
		RETURN_IF_ERR(ff_encode_fifo(w, w->fifo_frames));
	int rc = avcodec_send_frame(w->enc, NULL);
	if (rc < 0 && rc != AVERROR_EOF)
		return av_fail(AIMARK_EFORMAT, w->info.format, "flushing the encoder failed", rc);
	RETURN_IF_ERR(ff_drain(w));
	rc = av_write_trailer(w->oc);
	if (rc < 0)
		return av_fail(w->out.failed ? AIMARK_ENOMEM : AIMARK_EFORMAT, w->info.format, "cannot finish the file", rc);
	avio_flush(w->io);
	RETURN_IF(w->out.failed, AIMARK_ENOMEM, "%s: out of memory writing the file", w->info.format);
	return 0;
}

/* ---- writer API ---- */

int aimark__audio_writer_open(aimark__audio_writer **out, const aimark__audio_info *info, const unsigned char *original,
			      size_t original_len, aimark_buf *dst)
{
	RETURN_IF(out == NULL || info == NULL || dst == NULL, AIMARK_EINVAL, "audio: bad writer arguments");
	*out = NULL;
	RETURN_IF(info->channels < 1 || info->channels > AIMARK__AUDIO_MAX_CHANNELS || info->sample_rate < AIMARK__AUDIO_MIN_RATE ||
		  info->sample_rate > AIMARK__AUDIO_MAX_RATE,
		  AIMARK_EINVAL, "audio: cannot write %u channels at %u Hz", info->channels, info->sample_rate);
	RETURN_IF(info->backend != BACKEND_SNDFILE && info->backend != BACKEND_FFMPEG, AIMARK_EINVAL,
		  "audio: the coding description does not come from a reader");
	aimark__audio_writer *w = aimark__calloc(1, sizeof *w);
	RETURN_ENOMEM_IF_NULL(w);
	w->info = *info;
	w->out.buf = dst;
	w->out.base = dst->size;
	int rc = info->backend == BACKEND_SNDFILE ? sndfile_writer_open(w, original, original_len)
						  : ffmpeg_writer_open(w, original, original_len);
	if (rc < 0) {
		aimark__audio_writer_free(w);
		return rc;
	}
	*out = w;
	return 0;
}

int aimark__audio_writer_write(aimark__audio_writer *w, const float *samples, size_t frames)
{
	RETURN_IF(w == NULL || w->finished || (samples == NULL && frames), AIMARK_EINVAL, "audio: bad write arguments");
	if (frames == 0)
		return 0;
	return w->info.backend == BACKEND_SNDFILE ? sndfile_write(w, samples, frames) : ffmpeg_write(w, samples, frames);
}

int aimark__audio_writer_finish(aimark__audio_writer *w)
{
	RETURN_IF(w == NULL || w->finished, AIMARK_EINVAL, "audio: writer already finished");
	if (w->info.backend == BACKEND_SNDFILE) {
		int rc = sf_close(w->sf);
		w->sf = NULL;
		RETURN_IF(rc != 0 || w->out.failed, w->out.failed ? AIMARK_ENOMEM : AIMARK_EFORMAT, "%s: libsndfile could not finish the file: %s",
			  w->info.format, sf_error_number(rc));
	} else {
		RETURN_IF_ERR(ffmpeg_finish(w));
	}
	w->finished = 1;
	return 0;
}

void aimark__audio_writer_free(aimark__audio_writer *w)
{
	if (w == NULL)
		return;
	if (w->sf)
		sf_close(w->sf);
	aimark__free(w->ibuf);
	/* FFmpeg is loaded only if one of these was made */
	if (w->enc)
		avcodec_free_context(&w->enc);
	if (w->oc)
		avformat_free_context(w->oc);
	if (w->io) {
		av_freep(&w->io->buffer);
		avio_context_free(&w->io);
	}
	if (w->frame)
		av_frame_free(&w->frame);
	if (w->pkt)
		av_packet_free(&w->pkt);
	aimark__free(w->fifo);
	if (!w->finished && w->out.buf) {
		w->out.buf->size = w->out.base;
		if (w->out.buf->ptr)
			w->out.buf->ptr[w->out.base] = '\0';
	}
	aimark__free(w);
}

/* ------------------------------------------------------------------ */
/* Resampler                                                           */

struct aimark__audio_resampler {
	SwrContext *swr;
	uint32_t channels, in_rate, out_rate;
	float *buf;
	size_t cap;
};

int aimark__audio_resampler_new(aimark__audio_resampler **out, uint32_t channels, uint32_t in_rate, uint32_t out_rate)
{
	RETURN_IF(out == NULL, AIMARK_EINVAL, "resampler: no output");
	*out = NULL;
	RETURN_IF(channels < 1 || channels > AIMARK__AUDIO_MAX_CHANNELS || in_rate < AIMARK__AUDIO_MIN_RATE ||
		  in_rate > AIMARK__AUDIO_MAX_RATE || out_rate < AIMARK__AUDIO_MIN_RATE || out_rate > AIMARK__AUDIO_MAX_RATE,
		  AIMARK_EINVAL, "resampler: %u channels from %u Hz to %u Hz not supported", channels, in_rate, out_rate);
	RETURN_IF_ERR(ffmpeg_ready());
	aimark__audio_resampler *rs = aimark__calloc(1, sizeof *rs);
	RETURN_ENOMEM_IF_NULL(rs);
	rs->channels = channels;
	rs->in_rate = in_rate;
	rs->out_rate = out_rate;
	AVChannelLayout layout;
	av_channel_layout_default(&layout, (int)channels);
	int rc = swr_alloc_set_opts2(&rs->swr, &layout, AV_SAMPLE_FMT_FLT, (int)out_rate, &layout, AV_SAMPLE_FMT_FLT,
				     (int)in_rate, 0, NULL);
	av_channel_layout_uninit(&layout);
	if (rc >= 0)
		rc = swr_init(rs->swr);
	if (rc < 0) {
		aimark__audio_resampler_free(rs);
		return av_fail(AIMARK_EINVAL, "resampler", "cannot set up libswresample", rc);
	}
	*out = rs;
	return 0;
}

int aimark__audio_resampler_run(aimark__audio_resampler *rs, const float *in, size_t frames, const float **out,
				size_t *out_frames)
{
	RETURN_IF(rs == NULL || out == NULL || out_frames == NULL || frames > INT_MAX / 2, AIMARK_EINVAL,
		  "resampler: bad arguments");
	*out = NULL;
	*out_frames = 0;
	if (in == NULL)
		frames = 0;
	int need = swr_get_out_samples(rs->swr, (int)frames);
	RETURN_IF(need < 0, AIMARK_EINVAL, "resampler: bad state");
	size_t cap = (size_t)need + 16;
	if (cap > rs->cap) {
		float *p = aimark__realloc(rs->buf, cap * rs->channels * sizeof(float));
		RETURN_ENOMEM_IF_NULL(p);
		rs->buf = p;
		rs->cap = cap;
	}
	uint8_t *dst = (uint8_t *)rs->buf;
	const uint8_t *src = (const uint8_t *)in;
	int n = swr_convert(rs->swr, &dst, (int)rs->cap, in ? &src : NULL, (int)frames);
	if (n < 0)
		return av_fail(AIMARK_EINVAL, "resampler", "conversion failed", n);
	*out = rs->buf;
	*out_frames = (size_t)n;
	return 0;
}

void aimark__audio_resampler_free(aimark__audio_resampler *rs)
{
	if (rs == NULL)
		return;
	if (rs->swr)
		swr_free(&rs->swr);
	aimark__free(rs->buf);
	aimark__free(rs);
}

int aimark__audio_codec_available(void) { return 1; }

#else /* !AIMARK_HAVE_AUDIO_CODEC */

#define NOT_BUILT()                                                                                    \
	aimark__error_set(AIMARK_EUNSUPPORTED, "audio: this build of aimark has no audio codec layer " \
					       "(libsndfile and FFmpeg were not linked)")

struct aimark__audio_reader { int unused; };
struct aimark__audio_writer { int unused; };
struct aimark__audio_resampler { int unused; };

int aimark__audio_reader_open(aimark__audio_reader **out, const unsigned char *data, size_t len, const char *format,
			      aimark__audio_info *info)
{
	if (out)
		*out = NULL;
	return NOT_BUILT();
}
const aimark__audio_info *aimark__audio_reader_info(const aimark__audio_reader *r) { return NULL; }
int aimark__audio_reader_read(aimark__audio_reader *r, float *samples, size_t max_frames, size_t *got) { return NOT_BUILT(); }
void aimark__audio_reader_free(aimark__audio_reader *r) {}
int aimark__audio_writer_open(aimark__audio_writer **out, const aimark__audio_info *info, const unsigned char *original,
			      size_t original_len, aimark_buf *dst)
{
	if (out)
		*out = NULL;
	return NOT_BUILT();
}
int aimark__audio_writer_write(aimark__audio_writer *w, const float *samples, size_t frames) { return NOT_BUILT(); }
int aimark__audio_writer_finish(aimark__audio_writer *w) { return NOT_BUILT(); }
int aimark__audio_retry_bit_rate(aimark__audio_info *info, const unsigned char *out, size_t len) { return 0; }
void aimark__audio_writer_free(aimark__audio_writer *w) {}
int aimark__audio_resampler_new(aimark__audio_resampler **out, uint32_t channels, uint32_t in_rate, uint32_t out_rate)
{
	if (out)
		*out = NULL;
	return NOT_BUILT();
}
int aimark__audio_resampler_run(aimark__audio_resampler *rs, const float *in, size_t frames, const float **out,
				size_t *out_frames)
{
	return NOT_BUILT();
}
void aimark__audio_resampler_free(aimark__audio_resampler *rs) {}
int aimark__audio_codec_available(void) { return 0; }

#endif /* AIMARK_HAVE_AUDIO_CODEC */

/* ------------------------------------------------------------------ */
/* Whole files (on top of the streaming interface)                     */

int aimark__audio_decode(const unsigned char *data, size_t len, const char *format, aimark__audio *pcm,
			 aimark__audio_info *info)
{
	RETURN_IF(pcm == NULL, AIMARK_EINVAL, "audio: no output");
	memset(pcm, 0, sizeof *pcm);
	aimark__audio_reader *r = NULL;
	aimark__audio_info scratch;
	RETURN_IF_ERR(aimark__audio_reader_open(&r, data, len, format, info ? info : &scratch));
	const aimark__audio_info *in = aimark__audio_reader_info(r);
	uint32_t ch = in->channels;
	size_t cap = 0, frames = 0;
	float *buf = NULL;
	int rc = 0;
	for (;;) {
		if (frames + 4096 > cap) {
			size_t ncap = cap ? cap * 2 : (in->frames && in->frames < AIMARK__AUDIO_MAX_SAMPLES / ch ? (size_t)in->frames + 4096 : 65536);
			if ((uint64_t)ncap * ch > AIMARK__AUDIO_MAX_SAMPLES)
				ncap = (size_t)(AIMARK__AUDIO_MAX_SAMPLES / ch);
			if (ncap < frames + 4096) {
				rc = aimark__error_set(AIMARK_ELIMIT, "%s: more than %llu decoded samples", format,
						       (unsigned long long)AIMARK__AUDIO_MAX_SAMPLES);
				break;
			}
			float *p = aimark__realloc(buf, ncap * ch * sizeof(float));
			if (p == NULL) {
				rc = aimark__error_set(AIMARK_ENOMEM, "out of memory");
				break;
			}
			buf = p;
			cap = ncap;
		}
		size_t got = 0;
		rc = aimark__audio_reader_read(r, buf + frames * ch, 4096, &got);
		if (rc < 0 || got == 0)
			break;
		frames += got;
	}
	if (rc < 0) {
		aimark__free(buf);
		aimark__audio_reader_free(r);
		return rc;
	}
	pcm->samples = buf;
	pcm->frames = frames;
	pcm->channels = ch;
	pcm->sample_rate = in->sample_rate;
	if (info)
		info->frames = frames;
	aimark__audio_reader_free(r);
	return 0;
}

int aimark__audio_encode(const aimark__audio *pcm, const aimark__audio_info *info, const unsigned char *original,
			 size_t original_len, aimark_buf *out)
{
	RETURN_IF(pcm == NULL || info == NULL || out == NULL || (pcm->samples == NULL && pcm->frames), AIMARK_EINVAL,
		  "audio: nothing to encode");
	RETURN_IF(pcm->channels != info->channels || pcm->sample_rate != info->sample_rate, AIMARK_EINVAL,
		  "audio: samples (%u ch, %u Hz) do not match the coding (%u ch, %u Hz)", pcm->channels, pcm->sample_rate,
		  info->channels, info->sample_rate);
	aimark__audio_info coding = *info;
	size_t base = out->size;
	for (int attempt = 0;; attempt++) {
		aimark__audio_writer *w = NULL;
		RETURN_IF_ERR(aimark__audio_writer_open(&w, &coding, original, original_len, out));
		int rc = aimark__audio_writer_write(w, pcm->samples, pcm->frames);
		if (rc == 0)
			rc = aimark__audio_writer_finish(w);
		aimark__audio_writer_free(w);
		if (rc < 0 || attempt == 2 || !aimark__audio_retry_bit_rate(&coding, out->ptr + base, out->size - base))
			return rc;
		out->size = base; /* again, asking for more bits */
		out->ptr[base] = '\0';
	}
}

void aimark__audio_dispose(aimark__audio *pcm)
{
	if (pcm == NULL)
		return;
	aimark__free(pcm->samples);
	memset(pcm, 0, sizeof *pcm);
}

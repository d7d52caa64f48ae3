/*
 * Decoded audio for the layers that change samples (explicit labels,
 * watermarks). src/codec/ is the only place libsndfile and FFmpeg are
 * included; label and watermark code sees interleaved float samples only.
 *
 * Backends: libsndfile for WAV (PCM, float, the G.711 and ADPCM variants it
 * knows) and FLAC, both through its virtual I/O on memory; FFmpeg
 * (libavformat, libavcodec, libswresample, custom AVIOContext on memory) for
 * MP3, Ogg Vorbis, Ogg Opus and M4A (AAC, ALAC), and for the WAV / FLAC
 * codings libsndfile refuses. Why FFmpeg for every lossy format:
 * docs/explicit-labels-audio.md ("Codec layer").
 *
 * Streaming: a reader hands out blocks of frames and a writer takes them, so
 * that a whole decoded file never has to be in memory (the input and the
 * encoded output are). The whole-file helpers at the end are built on them.
 *
 * Samples are float, nominally in [-1, 1]. Integer PCM of up to 24 bits
 * round-trips exactly (decode, encode unchanged samples: same bytes); 32-bit
 * integer and 64-bit float PCM keep float precision.
 *
 * Built only when AIMARK_HAVE_AUDIO_CODEC is defined (the build links
 * libsndfile and FFmpeg); otherwise every function answers AIMARK_EUNSUPPORTED.
 *
 * THREAD SAFETY: readers, writers and resamplers are used by one thread at a
 * time; distinct ones may run concurrently.
 */
#ifndef AIMARK_CODEC_AUDIO_CODEC_H
#define AIMARK_CODEC_AUDIO_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "aimark/common.h"

#define AIMARK__AUDIO_MAX_CHANNELS 8u
#define AIMARK__AUDIO_MIN_RATE 1000u
#define AIMARK__AUDIO_MAX_RATE 768000u
/* Largest input file the codec layer opens (it is held in memory by the caller). */
#define AIMARK__AUDIO_MAX_INPUT (UINT64_C(4) << 30)
/* Most samples (frames x channels) aimark__audio_decode() holds at once: 1 GiB of floats. */
#define AIMARK__AUDIO_MAX_SAMPLES (UINT64_C(1) << 28)

/* WAVE_FORMAT_EXTENSIBLE / FFmpeg speaker bits used by the label code. */
#define AIMARK__SPEAKER_LOW_FREQUENCY 0x8u
#define AIMARK__SPEAKER_SURROUND_MASK (0x10u | 0x20u | 0x200u | 0x400u) /* back L/R, side L/R */

/* What was decoded and how it was coded, so that re-encoding keeps it. */
typedef struct aimark__audio_info {
	char format[8];        /* "wav", "flac", "ogg", "mp3", "mp4" */
	char codec[16];        /* "pcm_s16", "pcm_s24", "pcm_f32", "flac", "vorbis", "opus", "mp3", "aac", "alac", ... */
	uint32_t sample_rate;  /* Hz */
	uint32_t channels;     /* 1..AIMARK__AUDIO_MAX_CHANNELS */
	uint64_t channel_mask; /* speaker bits (WAVE_FORMAT_EXTENSIBLE order); 0: unspecified */
	uint64_t frames;       /* length when the container states it, else 0 (count while reading) */
	uint32_t bits;         /* bits per sample of PCM / FLAC / ALAC; 0 for lossy codecs */
	int lossy;             /* 1 for MP3, AAC, Vorbis, Opus, G.711, ADPCM, ... */
	int64_t bit_rate;      /* lossy: bits/s of the input's audio (declared, else measured); 0 unknown */
	int64_t target_bit_rate; /* writer: bits/s to ask the encoder for; 0: derived from bit_rate */
	/* Private to the codec layer: how to write the same coding again. */
	int backend;           /* 1 libsndfile, 2 FFmpeg */
	int native_format;     /* SF_FORMAT_* (libsndfile) or AVCodecID (FFmpeg) */
	char muxer[16];        /* FFmpeg muxer name ("mp3", "ogg", "ipod", "mp4", ...) */
} aimark__audio_info;

/* ---- streaming decode ---- */
typedef struct aimark__audio_reader aimark__audio_reader;

/*
 * Opens `data` (a complete file of aimark format `format`: "wav", "flac",
 * "ogg", "mp3" or "mp4") for decoding and fills `info` (may be NULL; also
 * available through aimark__audio_reader_info). `data` must stay valid until
 * the reader is freed. Errors: AIMARK_EINVAL, AIMARK_EFORMAT (not decodable:
 * the message names the format and the problem), AIMARK_EUNSUPPORTED (a
 * coding or layout aimark cannot re-encode, e.g. a video track, more than 8
 * channels), AIMARK_ELIMIT, AIMARK_ENOMEM.
 */
int aimark__audio_reader_open(aimark__audio_reader **out, const unsigned char *data, size_t len, const char *format,
			      aimark__audio_info *info);
const aimark__audio_info *aimark__audio_reader_info(const aimark__audio_reader *r);
/*
 * Decodes up to `max_frames` frames into `samples` (interleaved,
 * max_frames x channels floats) and stores the count in *got; *got == 0 only
 * at the end of the stream. Errors: AIMARK_EFORMAT (corrupt stream),
 * AIMARK_EUNSUPPORTED (parameters change mid-stream), AIMARK_ENOMEM.
 */
int aimark__audio_reader_read(aimark__audio_reader *r, float *samples, size_t max_frames, size_t *got);
void aimark__audio_reader_free(aimark__audio_reader *r);

/* ---- streaming encode ---- */
typedef struct aimark__audio_writer aimark__audio_writer;

/*
 * Starts encoding a file coded like `info` (from a reader), appending it to
 * `out` (which must not be touched until the writer is finished or freed).
 * Container, codec, sample rate, channels and channel layout are kept; lossy
 * codecs get a bit rate no lower than info->bit_rate. When `original` is not
 * NULL its metadata (tags; WAV bext and cart) is carried over as far as the
 * library allows. Errors: AIMARK_EINVAL, AIMARK_EUNSUPPORTED (no encoder),
 * AIMARK_EFORMAT, AIMARK_ENOMEM.
 */
int aimark__audio_writer_open(aimark__audio_writer **out, const aimark__audio_info *info, const unsigned char *original,
			      size_t original_len, aimark_buf *dst);
/* Encodes `frames` interleaved frames (values outside [-1, 1] are clipped). */
int aimark__audio_writer_write(aimark__audio_writer *w, const float *samples, size_t frames);
/*
 * Average-rate encoders (AAC, Vorbis) can land under their target on simple
 * signals. Checks the file just written (`out`, `len`) against
 * info->bit_rate: returns 0 when it is no lower (or nothing would help), or 1
 * after raising info->target_bit_rate for another try.
 */
int aimark__audio_retry_bit_rate(aimark__audio_info *info, const unsigned char *out, size_t len);
/* Flushes the encoder and completes the file in `out`. The writer must still be freed. */
int aimark__audio_writer_finish(aimark__audio_writer *w);
/* Frees the writer; an unfinished file is removed from `out` again. Accepts NULL. */
void aimark__audio_writer_free(aimark__audio_writer *w);

/* ---- streaming resampling (libswresample) ---- */
typedef struct aimark__audio_resampler aimark__audio_resampler;

/* Interleaved float, `channels` channels, from `in_rate` to `out_rate` Hz. */
int aimark__audio_resampler_new(aimark__audio_resampler **out, uint32_t channels, uint32_t in_rate, uint32_t out_rate);
/*
 * Converts `frames` frames of `in`; in == NULL flushes the delay line. *out
 * points to `*out_frames` converted frames inside the resampler, valid until
 * the next call.
 */
int aimark__audio_resampler_run(aimark__audio_resampler *rs, const float *in, size_t frames, const float **out,
				size_t *out_frames);
void aimark__audio_resampler_free(aimark__audio_resampler *rs);

/* ---- whole files ---- */
typedef struct aimark__audio {
	float *samples; /* frames x channels, interleaved */
	size_t frames;
	uint32_t channels;
	uint32_t sample_rate;
} aimark__audio;

/* Decodes a whole file (limit AIMARK__AUDIO_MAX_SAMPLES: AIMARK_ELIMIT). */
int aimark__audio_decode(const unsigned char *data, size_t len, const char *format, aimark__audio *pcm,
			 aimark__audio_info *info);
/* Encodes `pcm` coded like `info` and appends the file to `out`; see aimark__audio_writer_open. */
int aimark__audio_encode(const aimark__audio *pcm, const aimark__audio_info *info, const unsigned char *original,
			 size_t original_len, aimark_buf *out);
void aimark__audio_dispose(aimark__audio *pcm);

/* 1 when the library was built with the audio codec layer, else 0. */
int aimark__audio_codec_available(void);

#endif

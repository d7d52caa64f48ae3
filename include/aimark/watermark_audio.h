/*
 * aimark/watermark_audio.h - streaming keyed audio watermark.
 *
 * The audio watermark carries the same payload as the image watermark (64
 * caller bits, a 48-bit authenticator under the key, rate-1/3 convolutional
 * code) in the energies of 16 log-spaced bands between 700 Hz and 3.4 kHz,
 * over 80 ms slots, repeated every 4.8 s with a keyed synchronisation
 * pattern. The detector searches time scale, pitch shift and offset, so it
 * finds the mark in any excerpt of about 5 to 10 s, after resampling, lossy
 * codecs, telephone band and speed, tempo or pitch changes of up to 5%.
 * Over longer audio whose timing is unchanged it also adds up the evidence
 * of the whole stream, so a weaker mark (a lower strength) is found in a
 * minute of audio. docs/watermark-audio.md describes the method and its
 * measured robustness.
 *
 * Both directions are streaming and use memory bounded by the sample rate
 * and channel count only, never by the length of the audio: a service can
 * mark audio block by block as it is generated and concatenate the output.
 *
 * Samples are interleaved float (nominally -1..1), any rate from 8 kHz to
 * 192 kHz, 1 to 8 channels.
 *
 * THREAD SAFETY: an embedder or detector is used by one thread at a time;
 * distinct ones (also sharing keys) may run concurrently.
 */
#ifndef AIMARK_WATERMARK_AUDIO_H
#define AIMARK_WATERMARK_AUDIO_H

#include "common.h"
#include "watermark.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct aimark_wm_audio_embedder aimark_wm_audio_embedder;
typedef struct aimark_wm_audio_detector aimark_wm_audio_detector;

/**
 * Creates an embedder for `payload` (8 bytes) under `key` (the key is copied
 * into derived tables; it need not outlive the embedder). `rate` 8000..192000
 * Hz, `channels` 1..8, `strength` 1.0 (or 0) for the default, larger is more
 * robust and more audible (at most 4). Returns 0, AIMARK_EINVAL,
 * AIMARK_EUNSUPPORTED (rate or channels out of range), AIMARK_ENOMEM or
 * AIMARK_ECRYPTO. Free with aimark_wm_audio_embedder_free().
 */
AIMARK_API AIMARK_NODISCARD int aimark_wm_audio_embedder_new(aimark_wm_audio_embedder **out, const aimark_wm_key *key,
	const unsigned char payload[AIMARK_WM_PAYLOAD_BYTES], unsigned rate, unsigned channels, float strength);

/**
 * Marks `frames` interleaved frames in place. The output lags the input by
 * aimark_wm_audio_embedder_latency() frames at most: the first *out_frames
 * frames of `samples` hold marked output that continues the previous call's
 * output; the rest of the buffer is unspecified. The concatenation of every
 * call's output and the flush has exactly as many frames as the input.
 * Returns 0 or AIMARK_EINVAL.
 */
AIMARK_API AIMARK_NODISCARD int aimark_wm_audio_embedder_process(aimark_wm_audio_embedder *e, float *samples,
	size_t frames, size_t *out_frames);

/**
 * Ends the stream: writes the frames still held (at most the latency) to
 * `out`, which has room for `max_frames` frames, and sets *out_frames. Call
 * again while *out_frames == max_frames. Afterwards the embedder only
 * accepts aimark_wm_audio_embedder_free(). Returns 0 or AIMARK_EINVAL.
 */
AIMARK_API AIMARK_NODISCARD int aimark_wm_audio_embedder_flush(aimark_wm_audio_embedder *e, float *out,
	size_t max_frames, size_t *out_frames);

/** Largest number of frames the embedder holds back (0.30 to 0.35 s of audio: it looks three 80 ms slots ahead). */
AIMARK_API size_t aimark_wm_audio_embedder_latency(const aimark_wm_audio_embedder *e);

/** Frees an embedder. Accepts NULL. */
AIMARK_API void aimark_wm_audio_embedder_free(aimark_wm_audio_embedder *e);

/**
 * Creates a detector looking for a mark of any of `n_keys` keys (borrowed:
 * they must outlive the detector) in audio at `rate` Hz with `channels`
 * channels (they are mixed to mono). Returns 0, AIMARK_EINVAL,
 * AIMARK_EUNSUPPORTED, AIMARK_ENOMEM or AIMARK_ECRYPTO.
 */
AIMARK_API AIMARK_NODISCARD int aimark_wm_audio_detector_new(aimark_wm_audio_detector **out,
	const aimark_wm_key *const *keys, size_t n_keys, unsigned rate, unsigned channels);

/**
 * Feeds `frames` interleaved frames. The detector analyses a sliding window
 * of about 10 s every 4.8 s, and the whole stream so far (at unchanged
 * timing) once it is longer than a window, and stops working (cheaply
 * ignores further input) once it has an authenticated payload. Returns 0,
 * AIMARK_EINVAL or AIMARK_ENOMEM.
 */
AIMARK_API AIMARK_NODISCARD int aimark_wm_audio_detector_feed(aimark_wm_audio_detector *d, const float *samples,
	size_t frames);

/**
 * Analyses what is still pending and fills `res` with the verdict so far:
 * detected=1 only for an authenticated payload whose false-alarm probability
 * (decodes tried x 2^-48) is at most 1e-9. More audio may be fed afterwards.
 * Returns 0, AIMARK_EINVAL or AIMARK_ENOMEM.
 */
AIMARK_API AIMARK_NODISCARD int aimark_wm_audio_detector_result(aimark_wm_audio_detector *d, aimark_wm_result *res);

/** Frees a detector. Accepts NULL. */
AIMARK_API void aimark_wm_audio_detector_free(aimark_wm_audio_detector *d);

#ifdef __cplusplus
}
#endif
#endif

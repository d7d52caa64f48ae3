/*
 * Audio watermark engine (plain float buffers; no codec headers).
 *
 * The mark lives in a grid of cells: 80 ms time slots x 16 bands spaced
 * evenly in log-frequency from 700 Hz to 3.4 kHz. Each cell's mean log
 * energy is moved by +-EPS_DB (times the strength, more in weak bands and
 * less in strong ones, and within a band more in its weak bins), less a
 * share of the host's own residual in the cell (the embedder looks three
 * slots ahead); the sign comes from a keyed pattern. A block is 60 slots
 * (4.8 s) x 16 bands = 960 cells: 240 keyed synchronisation cells with
 * keyed signs and 720 data cells carrying the 360 coded bits of
 * wm_payload.h twice each (XOR a keyed mask). Blocks repeat back to back
 * from the stream's first sample.
 *
 * The detector measures band energies on a finer log-frequency grid, then
 * for each hypothesis of time scale (0.95..1.05), slot phase and frequency
 * shift (+-5%) whitens the log energies (across bands, removing gain and
 * compression; across neighbouring slots, removing filters and the host's
 * slow envelope; then half the adjacent bands' residual), folds them onto
 * one block and correlates with the sync pattern at every block offset.
 * The best hypotheses are decoded (soft Viterbi) and checked against the
 * 48-bit authenticator: a detection is an authenticated payload, so the
 * false-alarm probability is bounded by the number of decodes tried times
 * 2^-48. See docs/watermark-audio.md.
 */
#ifndef AIMARK_WM_AUDIO_H
#define AIMARK_WM_AUDIO_H

#include <stddef.h>
#include <stdint.h>

#include "aimark/watermark.h"
#include "aimark/watermark_audio.h"
#include "wm/wm_payload.h"

#define AIMARK__WMA_MIN_RATE 8000u
#define AIMARK__WMA_MAX_RATE 192000u
#define AIMARK__WMA_MAX_CHANNELS 8u
#define AIMARK__WMA_F_LO 700.0
#define AIMARK__WMA_F_HI 3400.0
#define AIMARK__WMA_BANDS 16
#define AIMARK__WMA_SLOT_SEC 0.08
#define AIMARK__WMA_PERIOD 60 /* slots per block */
#define AIMARK__WMA_CELLS (AIMARK__WMA_PERIOD * AIMARK__WMA_BANDS)
#define AIMARK__WMA_SYNC_CELLS 240
#define AIMARK__WMA_DATA_CELLS (AIMARK__WMA_CELLS - AIMARK__WMA_SYNC_CELLS)
/*
 * Cell energy change (dB, each way) at strength 1 for a band at the frame's
 * geometric-mean band power; weaker bands get up to 3x this, stronger ones
 * down to 1/3 (wm_audio_embed.c, band_gains).
 */
#define AIMARK__WMA_EPS_DB 5.6f
/* Per-frame target of the change's energy below the frame's at strength 1 (dB); the embedder's TARGET_POWER. */
#define AIMARK__WMA_TARGET_SNR_DB 21.3
/*
 * The change also stays at least this far below the energy of the frame's own 700 Hz - 3.4 kHz band (dB, at
 * strength 1): on bass-heavy music the whole-frame target alone let it come within 2 dB of the band's content.
 */
#define AIMARK__WMA_BAND_SNR_DB 8.0
#define AIMARK__WMA_MAX_STRENGTH 4.0f
/* Speaker bit of the LFE channel (WAVE_FORMAT_EXTENSIBLE, same as FFmpeg's AV_CH_LOW_FREQUENCY). */
#define AIMARK__WMA_SPEAKER_LFE 0x8u
/* Detection threshold: the largest false-alarm probability accepted. */
#define AIMARK__WMA_MAX_FALSE_ALARM 1e-9

/* The keyed cell pattern of one key. cell = slot * BANDS + band. */
typedef struct aimark__wma_layout {
	int16_t cell_bit[AIMARK__WMA_CELLS];   /* coded bit carried, -1 for a sync cell */
	int8_t cell_sign[AIMARK__WMA_CELLS];   /* sync sign, or the data cell's mask (+1 keeps the bit) */
	int16_t sync_cell[AIMARK__WMA_SYNC_CELLS];
	int8_t sync_sign[AIMARK__WMA_SYNC_CELLS];
} aimark__wma_layout;

int aimark__wma_layout_derive(aimark__wma_layout *l, const aimark_wm_key *key);

/* Frequency (Hz) -> band index, or -1 outside 700 Hz..3.4 kHz. */
int aimark__wma_band_of(double hz);

/*
 * Marks interleaved float samples in place (any rate 8-192 kHz, 1-8 channels); payload = 8 bytes the pipeline
 * derives from the ProduceID. Returns 0, AIMARK_EINVAL, AIMARK_EUNSUPPORTED, AIMARK_ENOMEM or AIMARK_ECRYPTO.
 */
int aimark__wm_audio_embed(float *samples, size_t frames, unsigned rate, unsigned channels,
			   const aimark_wm_key *key, const unsigned char payload[8], float strength);
/*
 * As aimark__wm_audio_embed, with the channel layout (WAVE_FORMAT_EXTENSIBLE
 * speaker bits, as aimark__audio_info.channel_mask; 0 = unknown): the LFE
 * channel is left unmarked. strength above AIMARK__WMA_MAX_STRENGTH (the
 * pipeline accepts up to 8) is clamped to it; 0 means 1.
 */
int aimark__wm_audio_embed_layout(float *samples, size_t frames, unsigned rate, unsigned channels,
				  uint64_t channel_mask, const aimark_wm_key *key, const unsigned char payload[8],
				  float strength);
/* aimark_wm_audio_embedder_new with a channel layout (see aimark__wm_audio_embed_layout; no clamping here). */
int aimark__wm_audio_embedder_new_layout(aimark_wm_audio_embedder **out, const aimark_wm_key *key,
					 const unsigned char payload[AIMARK_WM_PAYLOAD_BYTES], unsigned rate,
					 unsigned channels, uint64_t channel_mask, float strength);
/* Looks for a mark of any key; "not detected" is a result. Same errors. */
int aimark__wm_audio_detect(const float *samples, size_t frames, unsigned rate, unsigned channels,
			    const aimark_wm_key *const *keys, size_t n_keys, aimark_wm_result *res);

/* Statistics for the benchmark's calibration of the false-alarm model. */
typedef struct aimark__wma_stats {
	int windows;         /* windows analysed */
	int decodes;         /* payload decodes tried (each passes the tag with probability 2^-48) */
	int best_tag_prefix; /* longest run of matching tag bits among the decodes */
	double best_sync_z;  /* strongest synchronisation z-score */
	double time_scale;   /* of the best hypothesis (observed slot length / 80 ms) */
	double freq_scale;   /* of the best hypothesis (observed / original frequency) */
	int accumulated;     /* the payload came from the stream-long folds, not from one window */
} aimark__wma_stats;

void aimark__wm_audio_detector_stats(const aimark_wm_audio_detector *d, aimark__wma_stats *st);

#endif

/*
 * Streaming audio watermark embedder.
 *
 * Short-time Fourier analysis with a sqrt-Hann window and 50% overlap (the
 * squared windows sum to one, so unchanged spectra reconstruct exactly).
 * Only the difference is synthesised: for each frame the in-band bins are
 * multiplied by (gain - 1) of their cell, transformed back, windowed and
 * overlap-added onto the delayed input. Channels go through the transform
 * in pairs (one as the real, one as the imaginary part): the gains are real
 * and even in frequency, so the two channels stay separate. Every marked
 * channel gets the same band signs (the sizes follow the pair's spectrum,
 * band_gains()), so any downmix carries the mark; an LFE channel named by
 * the channel layout is left unmarked.
 *
 * Frame k covers samples [(k-1) hop, (k+1) hop) of the stream; its centre
 * k hop picks the time slot, and the output block [(k-1) hop, k hop) is
 * complete once frame k is done. Memory is a few frames per channel.
 */
#include <math.h>
#include <string.h>

#include "core/internal.h"
#include "crypto/crypto.h"
#include "wm/wm_audio.h"
#include "wm/wm_fft.h"

struct aimark_wm_audio_embedder {
	unsigned rate, channels;
	size_t n, hop;
	float eps_db;                        /* change in dB of a band at the frame's geometric-mean power */
	float target;                        /* energy of the change / the frame's: 10^(-TARGET_SNR_DB / 10) x strength^2 */
	unsigned char mark_ch[AIMARK__WMA_MAX_CHANNELS]; /* channels that carry the mark (all but LFE) */
	unsigned n_mark;
	int8_t sign[AIMARK__WMA_CELLS];      /* final +-1 of every cell for this payload */
	int16_t *bin_band;                   /* band of FFT bin k (0..n/2), -1 outside */
	size_t k_lo, k_hi;                   /* in-band bins [k_lo, k_hi] */
	float *win;                          /* sqrt-Hann, n */
	float *prev, *cur, *tail;            /* hop x channels each */
	float *buf;                          /* 2n: complex work buffer */
	float *fifo;                         /* output queue, FIFO_HOPS x hop x channels */
	size_t fifo_head, fifo_len;          /* in frames */
	size_t fill;                         /* frames in cur */
	uint64_t k;                          /* index of the next frame to transform */
	double slot_samples;                 /* samples per slot */
	int flushed;
	aimark__fft *fft;
};

#define FIFO_HOPS 3
#define W_MAX 3.0f /* largest band weight (and 1/W_MAX the smallest) */
#define A_MIN 0.5f /* bounds of the per-frame scale of EPS_DB */
#define A_MAX 2.0f

static size_t frame_length(unsigned rate)
{
	size_t n = 128;
	while ((double)n < rate * 0.02)
		n <<= 1;
	return n;
}

void aimark_wm_audio_embedder_free(aimark_wm_audio_embedder *e)
{
	if (e == NULL)
		return;
	aimark__fft_free(e->fft);
	aimark__free(e->bin_band);
	aimark__free(e->win);
	aimark__free(e->prev);
	aimark__free(e->cur);
	aimark__free(e->tail);
	aimark__free(e->buf);
	aimark__free(e->fifo);
	aimark__wipe(e->sign, sizeof e->sign);
	aimark__free(e);
}

int aimark_wm_audio_embedder_new(aimark_wm_audio_embedder **out, const aimark_wm_key *key,
				 const unsigned char payload[AIMARK_WM_PAYLOAD_BYTES], unsigned rate, unsigned channels,
				 float strength)
{
	return aimark__wm_audio_embedder_new_layout(out, key, payload, rate, channels, 0, strength);
}

int aimark__wm_audio_embedder_new_layout(aimark_wm_audio_embedder **out, const aimark_wm_key *key,
					 const unsigned char payload[AIMARK_WM_PAYLOAD_BYTES], unsigned rate,
					 unsigned channels, uint64_t channel_mask, float strength)
{
	RETURN_IF(out == NULL || key == NULL || payload == NULL, AIMARK_EINVAL, "audio watermark: bad argument");
	*out = NULL;
	RETURN_IF(rate < AIMARK__WMA_MIN_RATE || rate > AIMARK__WMA_MAX_RATE, AIMARK_EUNSUPPORTED,
		  "audio watermark: sample rate %u Hz outside %u..%u", rate, AIMARK__WMA_MIN_RATE, AIMARK__WMA_MAX_RATE);
	RETURN_IF(channels < 1 || channels > AIMARK__WMA_MAX_CHANNELS, AIMARK_EUNSUPPORTED,
		  "audio watermark: %u channels unsupported (1..%u)", channels, AIMARK__WMA_MAX_CHANNELS);
	RETURN_IF(!(strength >= 0) || strength > AIMARK__WMA_MAX_STRENGTH, AIMARK_EINVAL,
		  "audio watermark: strength %g outside 0..%g", (double)strength, (double)AIMARK__WMA_MAX_STRENGTH);
	if (strength == 0)
		strength = 1.0f;

	aimark__wma_layout *lay = aimark__malloc(sizeof *lay);
	RETURN_ENOMEM_IF_NULL(lay);
	unsigned char coded[AIMARK__WM_CODED_BITS];
	int rc = aimark__wma_layout_derive(lay, key);
	if (rc == 0)
		rc = aimark__wm_encode(key, payload, coded);
	if (rc < 0) {
		aimark__wipe(lay, sizeof *lay);
		aimark__free(lay);
		return rc;
	}
	aimark_wm_audio_embedder *e = aimark__calloc(1, sizeof *e);
	if (e == NULL) {
		aimark__free(lay);
		return aimark__error_set(AIMARK_ENOMEM, "out of memory");
	}
	for (int c = 0; c < AIMARK__WMA_CELLS; c++) {
		int bit = lay->cell_bit[c];
		e->sign[c] = bit < 0 ? lay->cell_sign[c] : (int8_t)(coded[bit] ? lay->cell_sign[c] : -lay->cell_sign[c]);
	}
	aimark__wipe(lay, sizeof *lay);
	aimark__free(lay);
	aimark__wipe(coded, sizeof coded);

	e->rate = rate;
	e->channels = channels;
	e->n = frame_length(rate);
	e->hop = e->n / 2;
	e->eps_db = AIMARK__WMA_EPS_DB * strength;
	e->target = (float)(pow(10.0, -AIMARK__WMA_TARGET_SNR_DB / 10.0) * strength * strength);
	/* The LFE channel (when the layout says which it is) stays unmarked: the band 700 Hz - 3.4 kHz is not its content. */
	for (unsigned c = 0, bit = 0; c < channels; c++) {
		int lfe = 0;
		if (channel_mask != 0) {
			while (bit < 64 && !((channel_mask >> bit) & 1))
				bit++;
			lfe = bit < 64 && ((uint64_t)1 << bit) == AIMARK__WMA_SPEAKER_LFE;
			bit++;
		}
		if (!lfe)
			e->mark_ch[e->n_mark++] = (unsigned char)c;
	}
	e->slot_samples = AIMARK__WMA_SLOT_SEC * rate;
	size_t n = e->n, hc = e->hop * channels;
	e->bin_band = aimark__calloc(n / 2 + 1, sizeof *e->bin_band);
	e->win = aimark__calloc(n, sizeof *e->win);
	e->prev = aimark__calloc(hc, sizeof *e->prev);
	e->cur = aimark__calloc(hc, sizeof *e->cur);
	e->tail = aimark__calloc(hc, sizeof *e->tail);
	e->buf = aimark__calloc(2 * n, sizeof *e->buf);
	e->fifo = aimark__calloc(FIFO_HOPS * hc, sizeof *e->fifo);
	if (!e->bin_band || !e->win || !e->prev || !e->cur || !e->tail || !e->buf || !e->fifo) {
		aimark_wm_audio_embedder_free(e);
		return aimark__error_set(AIMARK_ENOMEM, "out of memory");
	}
	rc = aimark__fft_new(&e->fft, n);
	if (rc < 0) {
		aimark_wm_audio_embedder_free(e);
		return rc;
	}
	for (size_t i = 0; i < n; i++)
		e->win[i] = (float)sin(M_PI * ((double)i + 0.5) / (double)n);
	e->k_lo = n;
	e->k_hi = 0;
	for (size_t k = 0; k <= n / 2; k++) {
		int b = aimark__wma_band_of((double)k * rate / (double)n);
		e->bin_band[k] = (int16_t)b;
		if (b >= 0) {
			if (k < e->k_lo)
				e->k_lo = k;
			e->k_hi = k;
		}
	}
	*out = e;
	return 0;
}

size_t aimark_wm_audio_embedder_latency(const aimark_wm_audio_embedder *e)
{
	return e == NULL ? 0 : (FIFO_HOPS + 1) * e->hop;
}

static void fifo_push(aimark_wm_audio_embedder *e, const float *block, size_t frames)
{
	size_t cap = FIFO_HOPS * e->hop, ch = e->channels, done = 0;
	while (done < frames) {
		size_t pos = (e->fifo_head + e->fifo_len) % cap, run = cap - pos;
		if (run > frames - done)
			run = frames - done;
		memcpy(e->fifo + pos * ch, block + done * ch, run * ch * sizeof *block);
		e->fifo_len += run;
		done += run;
	}
}

static size_t fifo_pop(aimark_wm_audio_embedder *e, float *dst, size_t max)
{
	size_t cap = FIFO_HOPS * e->hop, ch = e->channels, got = 0;
	while (got < max && e->fifo_len > 0) {
		size_t run = cap - e->fifo_head;
		if (run > e->fifo_len)
			run = e->fifo_len;
		if (run > max - got)
			run = max - got;
		memcpy(dst + got * ch, e->fifo + e->fifo_head * ch, run * ch * sizeof *dst);
		e->fifo_head = (e->fifo_head + run) % cap;
		e->fifo_len -= run;
		got += run;
	}
	return got;
}

/*
 * Gain - 1 of every band for this frame (`spec`: the pair's spectrum). The
 * change in dB is EPS_DB x strength x w x alpha, where w = sqrt(G / P_band)
 * clamped to [1/W_MAX, W_MAX] and G is the geometric mean of the frame's band
 * powers: weak bands get a larger relative change, strong bands a smaller
 * one. The detector counts every cell alike in the log domain, while a weak
 * band's change costs little energy (and sits under the strong bands'
 * masking), so the same robustness comes at a higher SNR than one gain for
 * all bands (docs/watermark-audio.md, "How much each cell changes").
 */
static void band_gains(const aimark_wm_audio_embedder *e, const float *spec, const int8_t *row, float *gain)
{
	const int B = AIMARK__WMA_BANDS;
	const size_t n = e->n;
	float P[AIMARK__WMA_BANDS] = { 0 }, etot = 0;
	for (size_t k = 0; k < 2 * n; k++)
		etot += spec[k] * spec[k];
	for (size_t k = e->k_lo; k <= e->k_hi && k < n; k++) {
		size_t m = n - k;
		float p = spec[2 * k] * spec[2 * k] + spec[2 * k + 1] * spec[2 * k + 1];
		if (m != k)
			p += spec[2 * m] * spec[2 * m] + spec[2 * m + 1] * spec[2 * m + 1];
		P[e->bin_band[k]] += p;
	}
	float lm = 0;
	int live = 0;
	for (int b = 0; b < B; b++) {
		if (P[b] > 0) {
			lm += logf(P[b]);
			live++;
		}
	}
	lm = live > 0 ? lm / (float)live : 0;
	const float c = e->eps_db * (float)(M_LN10 / 20.0);
	float x[AIMARK__WMA_BANDS];
	for (int b = 0; b < B; b++) {
		float w = P[b] > 0 ? expf(0.5f * (lm - logf(P[b]))) : W_MAX;
		w = w > W_MAX ? W_MAX : w < 1.0f / W_MAX ? 1.0f / W_MAX : w;
		x[b] = row[b] > 0 ? c * w : -c * w;
	}
	/*
	 * Scale all bands by alpha so that the change lies TARGET_SNR_DB below
	 * the frame's whole energy (times strength^2), within [A_MIN, A_MAX]:
	 * frames whose energy lies mostly outside the band (voiced speech) take a
	 * larger change for the same audibility, frames dominated by the band a
	 * smaller one. Bisection on the exact energy of the change.
	 */
	float alpha = 1.0f;
	if (etot > 0) {
		float target = etot * e->target, lo = A_MIN, hi = A_MAX;
		for (int it = 0; it < 12; it++) {
			float a = 0.5f * (lo + hi), m = 0;
			for (int b = 0; b < B; b++) {
				float g = expf(a * x[b]) - 1.0f;
				m += P[b] * g * g;
			}
			if (m > target)
				hi = a;
			else
				lo = a;
		}
		alpha = 0.5f * (lo + hi);
	}
	for (int b = 0; b < B; b++)
		gain[b] = expf(alpha * x[b]) - 1.0f;
}

/*
 * Transforms frame k = [prev | cur] and queues the finished block
 * (prev + delta), except for frame 0 whose prev lies before the stream.
 * `emit` is how many of the block's frames to queue.
 */
static void run_frame(aimark_wm_audio_embedder *e, size_t emit)
{
	size_t n = e->n, hop = e->hop, ch = e->channels;
	uint64_t slot = (uint64_t)((double)e->k * (double)hop / e->slot_samples);
	const int8_t *row = e->sign + (slot % AIMARK__WMA_PERIOD) * AIMARK__WMA_BANDS;
	float gain[AIMARK__WMA_BANDS];
	float *buf = e->buf;
	const float scale = 1.0f / (float)n;
	for (unsigned mi = 0; mi < e->n_mark; mi += 2) {
		/* c and c2 = the next marked channel; a lone last channel goes in as the real part only */
		size_t c = e->mark_ch[mi], c2 = mi + 1 < e->n_mark ? e->mark_ch[mi + 1] : c;
		int pair = mi + 1 < e->n_mark;
		for (size_t i = 0; i < hop; i++) {
			buf[2 * i] = e->win[i] * e->prev[i * ch + c];
			buf[2 * i + 1] = pair ? e->win[i] * e->prev[i * ch + c2] : 0.0f;
			buf[2 * (hop + i)] = e->win[hop + i] * e->cur[i * ch + c];
			buf[2 * (hop + i) + 1] = pair ? e->win[hop + i] * e->cur[i * ch + c2] : 0.0f;
		}
		aimark__fft_run(e->fft, buf, 0);
		/* Keep (gain - 1) x spectrum on the in-band bins and their mirrors; zero elsewhere. */
		size_t lo = e->k_lo, hi = e->k_hi;
		band_gains(e, buf, row, gain);
		if (lo > hi) {
			memset(buf, 0, 2 * n * sizeof *buf);
		} else {
			memset(buf, 0, 2 * lo * sizeof *buf);
			for (size_t k = lo; k <= hi; k++) {
				float g = gain[e->bin_band[k]];
				buf[2 * k] *= g;
				buf[2 * k + 1] *= g;
				size_t m = n - k;
				if (m != k) {
					buf[2 * m] *= g;
					buf[2 * m + 1] *= g;
				}
			}
			memset(buf + 2 * (hi + 1), 0, 2 * (n - 2 * hi - 1) * sizeof *buf);
			if (lo > 1)
				memset(buf + 2 * (n - lo + 1), 0, 2 * (lo - 1) * sizeof *buf);
		}
		aimark__fft_run(e->fft, buf, 1);
		for (size_t i = 0; i < hop; i++) {
			float w0 = e->win[i] * scale, w1 = e->win[hop + i] * scale;
			e->prev[i * ch + c] += e->tail[i * ch + c] + w0 * buf[2 * i];
			e->tail[i * ch + c] = w1 * buf[2 * (hop + i)];
			if (pair) {
				e->prev[i * ch + c2] += e->tail[i * ch + c2] + w0 * buf[2 * i + 1];
				e->tail[i * ch + c2] = w1 * buf[2 * (hop + i) + 1];
			}
		}
	}
	if (e->k > 0 && emit > 0)
		fifo_push(e, e->prev, emit);
	/* cur becomes prev */
	float *t = e->prev;
	e->prev = e->cur;
	e->cur = t;
	e->fill = 0;
	e->k++;
}

int aimark_wm_audio_embedder_process(aimark_wm_audio_embedder *e, float *samples, size_t frames, size_t *out_frames)
{
	RETURN_IF(e == NULL || out_frames == NULL || (samples == NULL && frames > 0), AIMARK_EINVAL,
		  "audio watermark: bad argument");
	*out_frames = 0;
	RETURN_IF(e->flushed, AIMARK_EINVAL, "audio watermark: embedder already flushed");
	size_t ch = e->channels, r = 0, w = 0;
	while (r < frames) {
		size_t take = e->hop - e->fill;
		if (take > frames - r)
			take = frames - r;
		memcpy(e->cur + e->fill * ch, samples + r * ch, take * ch * sizeof *samples);
		e->fill += take;
		r += take;
		if (e->fill == e->hop)
			run_frame(e, e->hop);
		/* Output may only overwrite input already consumed. */
		w += fifo_pop(e, samples + w * ch, r - w);
	}
	*out_frames = w;
	return 0;
}

int aimark_wm_audio_embedder_flush(aimark_wm_audio_embedder *e, float *out, size_t max_frames, size_t *out_frames)
{
	RETURN_IF(e == NULL || out_frames == NULL || (out == NULL && max_frames > 0), AIMARK_EINVAL,
		  "audio watermark: bad argument");
	*out_frames = 0;
	if (!e->flushed) {
		size_t ch = e->channels, fill = e->fill;
		/* Complete the block in prev with a zero-padded cur, then the partial cur itself. */
		memset(e->cur + fill * ch, 0, (e->hop - fill) * ch * sizeof *e->cur);
		run_frame(e, e->hop);
		if (fill > 0) {
			memset(e->cur, 0, e->hop * ch * sizeof *e->cur);
			run_frame(e, fill);
		}
		e->flushed = 1;
	}
	*out_frames = fifo_pop(e, out, max_frames);
	return 0;
}

int aimark__wm_audio_embed(float *samples, size_t frames, unsigned rate, unsigned channels,
			   const aimark_wm_key *key, const unsigned char payload[8], float strength)
{
	return aimark__wm_audio_embed_layout(samples, frames, rate, channels, 0, key, payload, strength);
}

int aimark__wm_audio_embed_layout(float *samples, size_t frames, unsigned rate, unsigned channels,
				  uint64_t channel_mask, const aimark_wm_key *key, const unsigned char payload[8],
				  float strength)
{
	RETURN_IF(samples == NULL && frames > 0, AIMARK_EINVAL, "audio watermark: bad argument");
	/* The pipeline's strength scale goes to 8 (the image mark's); audio stops at its own maximum. */
	if (strength > AIMARK__WMA_MAX_STRENGTH)
		strength = AIMARK__WMA_MAX_STRENGTH;
	aimark_wm_audio_embedder *e = NULL;
	RETURN_IF_ERR(aimark__wm_audio_embedder_new_layout(&e, key, payload, rate, channels, channel_mask, strength));
	size_t w = 0, chunk = 8192;
	int rc = 0;
	for (size_t r = 0; r < frames && rc == 0; r += chunk) {
		size_t len = frames - r < chunk ? frames - r : chunk;
		size_t got = 0;
		rc = aimark_wm_audio_embedder_process(e, samples + r * channels, len, &got);
		/* Output lags input (w <= r): moving it down never clobbers unread samples. */
		if (rc == 0 && got > 0 && w != r)
			memmove(samples + w * channels, samples + r * channels, got * channels * sizeof *samples);
		w += got;
	}
	while (rc == 0 && w < frames) {
		size_t got = 0;
		rc = aimark_wm_audio_embedder_flush(e, samples + w * channels, frames - w, &got);
		if (got == 0)
			break;
		w += got;
	}
	aimark_wm_audio_embedder_free(e);
	return rc;
}

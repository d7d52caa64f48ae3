/*
 * Streaming audio watermark embedder.
 *
 * Short-time Fourier analysis with a sqrt-Hann window and 50% overlap (the
 * squared windows sum to one, so unchanged spectra reconstruct exactly).
 * Only the difference is synthesised: for each frame every in-band bin is
 * multiplied by its gain - 1 (the sign of its cell, the size of its band and
 * of the bin within the band), transformed back, windowed and overlap-added
 * onto the delayed input. Channels go through the transform
 * in pairs (one as the real, one as the imaginary part): the gains are real
 * and even in frequency, so the two channels stay separate. Every marked
 * channel gets the same band signs (the sizes follow the pair's spectrum,
 * band_gains()), so any downmix carries the mark; an LFE channel named by
 * the channel layout is left unmarked.
 *
 * Frame k covers samples [(k-1) hop, (k+1) hop) of the stream; its centre
 * k hop picks the time slot. Each frame is analysed as soon as its input is
 * in (spectrum kept, band log powers added to its slot) and synthesised
 * `delay` frames later, once the slots two either side of its own are
 * complete: the gains then cancel part of the host's own residual as the
 * detector will see it (informed embedding, host_residual()). The output
 * block [(k-1) hop, k hop) is complete once frame k is synthesised. Memory
 * is the look-ahead (about 0.3 s of input and spectra), whatever the length.
 */
#include <math.h>
#include <string.h>

#include "core/internal.h"
#include "crypto/crypto.h"
#include "wm/wm_audio.h"
#include "wm/wm_fft.h"

/* Frames of at least 30 ms: finer frequency resolution for the narrow low bands (docs: "Embedding"). */
#define FRAME_SEC 0.03
#define SLOT_RING 8 /* slots of band log powers kept: the look-ahead window and its neighbours */

struct aimark_wm_audio_embedder {
	unsigned rate, channels;
	size_t n, hop;
	float eps_db;                        /* change in dB of a band at the frame's geometric-mean power */
	float target;                        /* energy of the change / the frame's: 10^(-TARGET_SNR_DB / 10) x strength^2 */
	float band_target;                   /* energy of the change / the band's: 10^(-BAND_SNR_DB / 10) x strength^2 */
	unsigned char mark_ch[AIMARK__WMA_MAX_CHANNELS]; /* channels that carry the mark (all but LFE) */
	unsigned n_mark, n_pairs;
	int8_t sign[AIMARK__WMA_CELLS];      /* final +-1 of every cell for this payload */
	int16_t *bin_band;                   /* band of FFT bin k (0..n/2), -1 outside */
	float band_bins[AIMARK__WMA_BANDS];  /* in-band bins per band */
	size_t k_lo, k_hi;                   /* in-band bins [k_lo, k_hi] */
	float *win;                          /* sqrt-Hann, n */
	float *cur;                          /* the hop being filled, hop x channels */
	size_t fill;                         /* frames in cur */
	float *hist;                         /* input hops, a ring: hop i at i % hist_hops */
	size_t hist_hops;
	float *spec;                         /* spectra of analysed frames not yet synthesised, per pair, 2n each */
	size_t spec_frames;
	float *slot_acc;                     /* SLOT_RING x pairs x BANDS: sum over the slot's frames of band log2 power */
	float *frame_log;                    /* per kept spectrum (as spec): each band's mean log2 bin power */
	float *bin_power, *bin_x, *bin_gain; /* n/2 + 1 each: band_gains() work space */
	float alpha[(AIMARK__WMA_MAX_CHANNELS + 1) / 2]; /* each pair's last scale of the change (band_gains) */
	uint16_t slot_cnt[SLOT_RING];        /* frames per slot in the ring */
	int64_t acc_slot;                    /* newest slot in the ring, -1 before any */
	float *tail;                         /* second half of the last synthesised frame, hop x channels */
	float *outhop;                       /* hop x channels */
	float *buf;                          /* 2n: complex work buffer */
	float *fifo;                         /* output queue, fifo_cap frames */
	size_t fifo_cap, fifo_head, fifo_len;
	uint64_t hops_in;                    /* hops stored in hist */
	uint64_t k_an, k_syn;                /* next frame to analyse, to synthesise */
	uint64_t end_frames;                 /* input length once flushing (frames), else UINT64_MAX */
	size_t delay;                        /* frames of look-ahead: frame m is synthesised after frame m + delay */
	double slot_samples;                 /* samples per slot */
	int flushed;
	aimark__fft *fft;
};

#define LOOK_SLOTS 2 /* neighbour slots each side in the detector's whitening (wm_audio_detect.c, NEIGH_SPAN) */
#define W_MAX 3.0f /* largest band weight (and 1/W_MAX the smallest) */
#define BIN_W_MAX 3.0f /* largest weight of a bin within its band (and 1/BIN_W_MAX the smallest), before normalising */
#define A_MIN 0.35f /* bounds of the per-frame scale of EPS_DB */
#define A_MAX 2.0f
#define LOG_FLOOR 1e-9f /* added to bin powers before the log, as the detector does */
/*
 * Informed embedding: a share ISS_LAMBDA of the host's own residual in each
 * cell is cancelled, the residual clipped at ISS_CLIP x the nominal change
 * (docs/watermark-audio.md, "Informed embedding").
 */
#define ISS_LAMBDA 0.3f
#define ISS_CLIP 1.2f

static size_t frame_length(unsigned rate)
{
	size_t n = 128;
	while ((double)n < rate * FRAME_SEC)
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
	aimark__free(e->cur);
	aimark__free(e->hist);
	aimark__free(e->spec);
	aimark__free(e->slot_acc);
	aimark__free(e->frame_log);
	aimark__free(e->bin_power);
	aimark__free(e->bin_x);
	aimark__free(e->bin_gain);
	aimark__free(e->tail);
	aimark__free(e->outhop);
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
	e->band_target = (float)(pow(10.0, -AIMARK__WMA_BAND_SNR_DB / 10.0) * strength * strength);
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
	e->n_pairs = (e->n_mark + 1) / 2;
	e->slot_samples = AIMARK__WMA_SLOT_SEC * rate;
	/*
	 * Look-ahead: frame m (slot j) is synthesised once a frame of slot
	 * j + LOOK_SLOTS + 1 has been analysed, so that slots j - 2 .. j + 2 are
	 * complete when the host's residual of slot j is computed.
	 */
	e->delay = (size_t)ceil((LOOK_SLOTS + 1) * e->slot_samples / (double)(e->n / 2));
	e->hist_hops = e->delay + 4;
	e->spec_frames = e->delay + 3;
	e->fifo_cap = (e->delay + 4) * (e->n / 2);
	e->acc_slot = -1;
	e->end_frames = UINT64_MAX;
	for (unsigned p = 0; p < sizeof e->alpha / sizeof e->alpha[0]; p++)
		e->alpha[p] = 1.0f;
	size_t n = e->n, hc = e->hop * channels, np = e->n_pairs ? e->n_pairs : 1;
	e->bin_band = aimark__calloc(n / 2 + 1, sizeof *e->bin_band);
	e->win = aimark__calloc(n, sizeof *e->win);
	e->cur = aimark__calloc(hc, sizeof *e->cur);
	e->hist = aimark__calloc(e->hist_hops * hc, sizeof *e->hist);
	e->spec = aimark__calloc(e->spec_frames * np * 2 * n, sizeof *e->spec);
	e->slot_acc = aimark__calloc(SLOT_RING * np * AIMARK__WMA_BANDS, sizeof *e->slot_acc);
	e->frame_log = aimark__calloc(e->spec_frames * np * AIMARK__WMA_BANDS, sizeof *e->frame_log);
	e->bin_power = aimark__calloc(n / 2 + 1, sizeof *e->bin_power);
	e->bin_x = aimark__calloc(n / 2 + 1, sizeof *e->bin_x);
	e->bin_gain = aimark__calloc(n / 2 + 1, sizeof *e->bin_gain);
	e->tail = aimark__calloc(hc, sizeof *e->tail);
	e->outhop = aimark__calloc(hc, sizeof *e->outhop);
	e->buf = aimark__calloc(2 * n, sizeof *e->buf);
	e->fifo = aimark__calloc(e->fifo_cap * channels, sizeof *e->fifo);
	if (!e->bin_band || !e->win || !e->cur || !e->hist || !e->spec || !e->slot_acc || !e->frame_log || !e->bin_power ||
	    !e->bin_x || !e->bin_gain || !e->tail || !e->outhop || !e->buf || !e->fifo) {
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
			e->band_bins[b] += 1.0f;
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
	return e == NULL ? 0 : e->fifo_cap;
}

static void fifo_push(aimark_wm_audio_embedder *e, const float *block, size_t frames)
{
	size_t cap = e->fifo_cap, ch = e->channels, done = 0;
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
	size_t cap = e->fifo_cap, ch = e->channels, got = 0;
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

static int64_t slot_of(const aimark_wm_audio_embedder *e, uint64_t k)
{
	return (int64_t)((double)k * (double)e->hop / e->slot_samples);
}

/* Power of the pair's two channels in bin k of the pair spectrum `spec`. */
static float pair_power(const float *spec, size_t n, size_t k)
{
	size_t m = n - k;
	float p = spec[2 * k] * spec[2 * k] + spec[2 * k + 1] * spec[2 * k + 1];
	if (m != k)
		p += spec[2 * m] * spec[2 * m] + spec[2 * m + 1] * spec[2 * m + 1];
	return p;
}

/*
 * The host's residual of every band of slot `j` for pair `p`, as the detector
 * will compute it (log2 power; band mean removed per slot, then the mean of
 * the neighbouring slots weighted 1/distance), from the unmarked slots in
 * the ring. Returns 0 when the slot or all its neighbours are unavailable.
 */
static int host_residual(const aimark_wm_audio_embedder *e, unsigned p, int64_t j, float *h)
{
	const int B = AIMARK__WMA_BANDS;
	float a[2 * LOOK_SLOTS + 1][AIMARK__WMA_BANDS];
	int ok[2 * LOOK_SLOTS + 1];
	for (int o = -LOOK_SLOTS; o <= LOOK_SLOTS; o++) {
		int64_t t = j + o;
		int i = o + LOOK_SLOTS;
		ok[i] = t >= 0 && t <= e->acc_slot && t > e->acc_slot - SLOT_RING && e->slot_cnt[t % SLOT_RING] > 0;
		if (!ok[i])
			continue;
		const float *acc = e->slot_acc + ((size_t)(t % SLOT_RING) * e->n_pairs + p) * B;
		float inv = 1.0f / (float)e->slot_cnt[t % SLOT_RING], mean = 0;
		for (int b = 0; b < B; b++) {
			a[i][b] = acc[b] * inv;
			mean += a[i][b];
		}
		mean /= (float)B;
		for (int b = 0; b < B; b++)
			a[i][b] -= mean;
	}
	if (!ok[LOOK_SLOTS])
		return 0;
	float nb[AIMARK__WMA_BANDS] = { 0 }, ws = 0;
	for (int o = -LOOK_SLOTS; o <= LOOK_SLOTS; o++) {
		int i = o + LOOK_SLOTS;
		if (o == 0 || !ok[i])
			continue;
		float w = 1.0f / (float)(o < 0 ? -o : o);
		for (int b = 0; b < B; b++)
			nb[b] += w * a[i][b];
		ws += w;
	}
	if (ws == 0)
		return 0;
	for (int b = 0; b < B; b++)
		h[b] = a[LOOK_SLOTS][b] - nb[b] / ws;
	return 1;
}

/*
 * Energy of the change when bin k's amplitude is scaled by exp(a x_k) (bins
 * lo..hi, powers pk), and its derivative in a.
 */
static float change_energy(const float *pk, const float *xk, size_t lo, size_t hi, float a, float *slope)
{
	float m = 0, dm = 0;
	for (size_t k = lo; k <= hi; k++) {
		float t = expf(a * xk[k]), g = t - 1.0f;
		m += pk[k] * g * g;
		dm += pk[k] * g * t * xk[k];
	}
	*slope = 2.0f * dm;
	return m;
}

/*
 * The scale in [A_MIN, A_MAX] at which the change's energy meets `target`, or
 * the bound it lies beyond, to 2% of the energy. Newton's method on log
 * energy against log scale (where the energy, about a power of the scale,
 * is nearly a straight line), from `a` (the previous frame's scale:
 * neighbouring frames' are close); a step that leaves the bracket known so
 * far halves it.
 */
static float solve_scale(const float *pk, const float *xk, size_t lo, size_t hi, float target, float a)
{
	float a_lo = A_MIN, a_hi = A_MAX;
	for (int it = 0; it < 12; it++) {
		float slope, m = change_energy(pk, xk, lo, hi, a, &slope);
		if (fabsf(m - target) <= 0.02f * target)
			return a;
		if (m < target) {
			if (a == A_MAX)
				return a;
			a_lo = a;
		} else {
			if (a == A_MIN)
				return a;
			a_hi = a;
		}
		/* d log m / d log a = a m' / m; the step in log a is log(target / m) over it */
		float next = m > 0 && slope > 0 ? a * powf(target / m, m / (a * slope)) : A_MAX;
		next = next > A_MAX ? A_MAX : next < A_MIN ? A_MIN : next;
		if (!(next >= a_lo && next <= a_hi) || next == a)
			next = 0.5f * (a_lo + a_hi);
		a = next;
	}
	return a;
}

/*
 * Gain - 1 of every in-band bin for this frame (`spec`: the pair's spectrum,
 * `band_log`: each band's mean log2 bin power). A bin's change in dB is
 * EPS_DB x strength x w x v x alpha:
 *  - w = sqrt(G / P_band) clamped to [1/W_MAX, W_MAX], G the geometric mean
 *    of the frame's band powers: weak bands get a larger relative change,
 *    strong bands a smaller one;
 *  - v = (G_band / P_bin)^(1/4) clamped to [1/BIN_W_MAX, BIN_W_MAX], G_band
 *    the geometric mean of the band's bin powers, then scaled so that v
 *    averages 1 over the band: within a band, the bins between partials
 *    change more and the partials less, and the band's mean log change (what
 *    the detector reads) is unchanged.
 * The detector counts every cell, and every bin within it, alike in the log
 * domain, while a weak band's or bin's change costs little energy, so the
 * same robustness comes at a higher SNR (docs/watermark-audio.md, "How much
 * each cell changes").
 * `h` (may be NULL): the host's residual of the cells (log2 power); a share
 * of it is cancelled (informed embedding, "Informed embedding" in the doc).
 */
static void band_gains(aimark_wm_audio_embedder *e, unsigned pair, const float *spec, const float *band_log,
		       const int8_t *row, const float *h, float *gain)
{
	const int B = AIMARK__WMA_BANDS;
	const size_t n = e->n, lo = e->k_lo, hi = e->k_hi < n ? e->k_hi : n - 1;
	float *pk = e->bin_power, *xk = e->bin_x;
	float P[AIMARK__WMA_BANDS] = { 0 }, etot = 0;
	for (size_t k = 0; k < 2 * n; k++)
		etot += spec[k] * spec[k];
	for (size_t k = lo; k <= hi; k++) {
		pk[k] = pair_power(spec, n, k);
		P[e->bin_band[k]] += pk[k];
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
	float x[AIMARK__WMA_BANDS], g_band[AIMARK__WMA_BANDS], v_sum[AIMARK__WMA_BANDS] = { 0 };
	for (int b = 0; b < B; b++) {
		float w = P[b] > 0 ? expf(0.5f * (lm - logf(P[b]))) : W_MAX;
		w = w > W_MAX ? W_MAX : w < 1.0f / W_MAX ? 1.0f / W_MAX : w;
		x[b] = row[b] > 0 ? c * w : -c * w;
		if (h != NULL) {
			/* log2 power -> natural log of amplitude: x ln2 / 2 */
			float r = h[b] * (float)(M_LN2 / 2.0), lim = ISS_CLIP * c;
			r = r > lim ? lim : r < -lim ? -lim : r;
			x[b] -= ISS_LAMBDA * r;
		}
		g_band[b] = exp2f(band_log[b]);
	}
	for (size_t k = lo; k <= hi; k++) {
		int b = e->bin_band[k];
		/* the same LOG_FLOOR as the geometric mean: a silent bin gets the largest weight, not a division by 0 */
		float v = sqrtf(sqrtf(g_band[b] / (pk[k] + LOG_FLOOR)));
		v = v > BIN_W_MAX ? BIN_W_MAX : v < 1.0f / BIN_W_MAX ? 1.0f / BIN_W_MAX : v;
		xk[k] = v;
		v_sum[b] += v;
	}
	for (int b = 0; b < B; b++)
		x[b] = v_sum[b] > 0 ? x[b] * e->band_bins[b] / v_sum[b] : 0;
	for (size_t k = lo; k <= hi; k++)
		xk[k] *= x[e->bin_band[k]];
	/*
	 * Scale all bins by alpha so that the change lies TARGET_SNR_DB below
	 * the frame's whole energy (times strength^2), within [A_MIN, A_MAX]:
	 * frames whose energy lies mostly outside the band (voiced speech) take a
	 * larger change for the same audibility, frames dominated by the band a
	 * smaller one. But never less than BAND_SNR_DB below the band's own
	 * energy: in frames of bass the band's content would not hide a larger
	 * change.
	 */
	float alpha = 1.0f;
	if (etot > 0) {
		float eband = 0;
		for (int b = 0; b < B; b++)
			eband += P[b];
		float target = etot * e->target;
		if (target > eband * e->band_target)
			target = eband * e->band_target;
		alpha = e->alpha[pair] = solve_scale(pk, xk, lo, hi, target, e->alpha[pair]);
	}
	for (size_t k = lo; k <= hi; k++)
		gain[k] = expf(alpha * xk[k]) - 1.0f;
}

static const float *hist_hop(const aimark_wm_audio_embedder *e, uint64_t i)
{
	return e->hist + (size_t)(i % e->hist_hops) * e->hop * e->channels;
}

/*
 * Frame k = hops k-1 and k: transform each channel pair, keep the spectra and
 * the band log powers, and add these to the frame's slot.
 */
static void analyse_frame(aimark_wm_audio_embedder *e, uint64_t k)
{
	const int B = AIMARK__WMA_BANDS;
	size_t n = e->n, hop = e->hop, ch = e->channels;
	int64_t s = slot_of(e, k);
	if (s != e->acc_slot) {
		e->acc_slot = s;
		memset(e->slot_acc + (size_t)(s % SLOT_RING) * e->n_pairs * B, 0, e->n_pairs * B * sizeof *e->slot_acc);
		e->slot_cnt[s % SLOT_RING] = 0;
	}
	/* frames centred past the end of the input are not part of the detector's view */
	int count = (uint64_t)k * hop < e->end_frames;
	if (count)
		e->slot_cnt[s % SLOT_RING]++;
	const float *h0 = k > 0 ? hist_hop(e, k - 1) : NULL, *h1 = hist_hop(e, k);
	for (unsigned p = 0; p < e->n_pairs; p++) {
		unsigned mi = 2 * p;
		size_t c = e->mark_ch[mi], c2 = mi + 1 < e->n_mark ? e->mark_ch[mi + 1] : c;
		int pair = mi + 1 < e->n_mark;
		float *buf = e->spec + ((size_t)(k % e->spec_frames) * e->n_pairs + p) * 2 * n;
		for (size_t i = 0; i < hop; i++) {
			buf[2 * i] = h0 ? e->win[i] * h0[i * ch + c] : 0.0f;
			buf[2 * i + 1] = h0 && pair ? e->win[i] * h0[i * ch + c2] : 0.0f;
			buf[2 * (hop + i)] = e->win[hop + i] * h1[i * ch + c];
			buf[2 * (hop + i) + 1] = pair ? e->win[hop + i] * h1[i * ch + c2] : 0.0f;
		}
		aimark__fft_run(e->fft, buf, 0);
		/* mean log2 power of each band's bins, as the detector measures it */
		float *L = e->frame_log + ((size_t)(k % e->spec_frames) * e->n_pairs + p) * B;
		memset(L, 0, B * sizeof *L);
		for (size_t q = e->k_lo; q <= e->k_hi && q < n; q++)
			L[e->bin_band[q]] += log2f(pair_power(buf, n, q) + LOG_FLOOR);
		for (int b = 0; b < B; b++)
			L[b] = e->band_bins[b] > 0 ? L[b] / e->band_bins[b] : 0;
		if (!count)
			continue;
		float *acc = e->slot_acc + ((size_t)(s % SLOT_RING) * e->n_pairs + p) * B;
		for (int b = 0; b < B; b++)
			acc[b] += L[b];
	}
}

/*
 * Synthesises frame m from its kept spectrum: (gain - 1) x spectrum on the
 * in-band bins, back to time, windowed and overlap-added; queues output hop
 * m - 1 (`emit` of its frames), except for frame 0.
 */
static void synth_frame(aimark_wm_audio_embedder *e, uint64_t m, size_t emit)
{
	size_t n = e->n, hop = e->hop, ch = e->channels;
	int64_t slot = slot_of(e, m);
	const int8_t *row = e->sign + (slot % AIMARK__WMA_PERIOD) * AIMARK__WMA_BANDS;
	float *gain = e->bin_gain, h[AIMARK__WMA_BANDS];
	float *buf = e->buf;
	const float scale = 1.0f / (float)n;
	if (m > 0)
		memcpy(e->outhop, hist_hop(e, m - 1), hop * ch * sizeof *e->outhop);
	for (unsigned p = 0; p < e->n_pairs; p++) {
		unsigned mi = 2 * p;
		size_t c = e->mark_ch[mi], c2 = mi + 1 < e->n_mark ? e->mark_ch[mi + 1] : c;
		int pair = mi + 1 < e->n_mark;
		size_t kept = (size_t)(m % e->spec_frames) * e->n_pairs + p;
		memcpy(buf, e->spec + kept * 2 * n, 2 * n * sizeof *buf);
		size_t lo = e->k_lo, hi = e->k_hi;
		band_gains(e, p, buf, e->frame_log + kept * AIMARK__WMA_BANDS, row,
			   host_residual(e, p, slot, h) ? h : NULL, gain);
		if (lo > hi) {
			memset(buf, 0, 2 * n * sizeof *buf);
		} else {
			memset(buf, 0, 2 * lo * sizeof *buf);
			for (size_t k = lo; k <= hi; k++) {
				float g = gain[k];
				buf[2 * k] *= g;
				buf[2 * k + 1] *= g;
				size_t mm = n - k;
				if (mm != k) {
					buf[2 * mm] *= g;
					buf[2 * mm + 1] *= g;
				}
			}
			memset(buf + 2 * (hi + 1), 0, 2 * (n - 2 * hi - 1) * sizeof *buf);
			if (lo > 1)
				memset(buf + 2 * (n - lo + 1), 0, 2 * (lo - 1) * sizeof *buf);
		}
		aimark__fft_run(e->fft, buf, 1);
		float *o = e->outhop;
		for (size_t i = 0; i < hop; i++) {
			float w0 = e->win[i] * scale, w1 = e->win[hop + i] * scale;
			o[i * ch + c] += e->tail[i * ch + c] + w0 * buf[2 * i];
			e->tail[i * ch + c] = w1 * buf[2 * (hop + i)];
			if (pair) {
				o[i * ch + c2] += e->tail[i * ch + c2] + w0 * buf[2 * i + 1];
				e->tail[i * ch + c2] = w1 * buf[2 * (hop + i) + 1];
			}
		}
	}
	if (m > 0 && emit > 0)
		fifo_push(e, e->outhop, emit);
}

/* Stores cur as the next input hop, analyses the frame it completes and synthesises what the look-ahead allows. */
static void push_hop(aimark_wm_audio_embedder *e)
{
	memcpy(e->hist + (size_t)(e->hops_in % e->hist_hops) * e->hop * e->channels, e->cur,
	       e->hop * e->channels * sizeof *e->cur);
	e->hops_in++;
	e->fill = 0;
	while (e->k_an < e->hops_in)
		analyse_frame(e, e->k_an++);
	while (e->k_syn + e->delay < e->k_an) {
		synth_frame(e, e->k_syn, e->hop);
		e->k_syn++;
	}
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
			push_hop(e);
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
		size_t ch = e->channels, fill = e->fill, hop = e->hop;
		uint64_t total = e->hops_in * hop + fill;
		/* Output hop i comes from frame i + 1: frames up to last = ceil(total / hop), each needing hops up to its own. */
		uint64_t last = (total + hop - 1) / hop;
		e->end_frames = total;
		while (total > 0 && e->hops_in <= last) {
			memset(e->cur + e->fill * ch, 0, (hop - e->fill) * ch * sizeof *e->cur);
			e->fill = hop;
			memcpy(e->hist + (size_t)(e->hops_in % e->hist_hops) * hop * ch, e->cur, hop * ch * sizeof *e->cur);
			e->hops_in++;
			e->fill = 0;
			while (e->k_an < e->hops_in)
				analyse_frame(e, e->k_an++);
		}
		while (total > 0 && e->k_syn <= last) {
			size_t emit = e->k_syn < last ? hop : (size_t)(total - (last - 1) * hop);
			synth_frame(e, e->k_syn, emit);
			e->k_syn++;
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

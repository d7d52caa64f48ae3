/*
 * Streaming audio watermark detector.
 *
 * Feeding: the channels are mixed to mono and cut into Hann frames (30 to
 * 60 ms, FRAME_SEC; hop a quarter of that); two real frames share one complex FFT.
 * Each frame's power is spread onto FINE bins evenly spaced in
 * log-frequency (FINE_PER_BAND per watermark band, MARGIN more on each side
 * for pitch shifts) and kept in a ring of the last WINDOW_SEC seconds.
 *
 * Analysis of a window: for every time scale in TIME_SCALES and slot phase,
 * frames are summed into slots; for every frequency shift the fine bins are
 * summed into bands, log-compressed, whitened (band mean removed per slot,
 * neighbouring slots' mean removed per cell, then half the adjacent bands'
 * residual), clipped, and folded onto one block of PERIOD slots. The sync
 * pattern is correlated at every block offset; the TOP best (z-score)
 * hypotheses are refined and decoded.
 *
 * Accumulation over the whole stream: at time scale 1 the slot grid of every
 * window is anchored to the stream's first frame, so the whitened residuals of
 * each slot can also be folded, once, into one block per slot phase and
 * frequency shift that grows with the stream. When no window alone
 * authenticates, these stream-long folds are searched and decoded too: a mark
 * too weak for 10 s of audio is found in a minute of it, as long as the
 * timing is unchanged (codecs, filters, noise, resampling, pitch shifts).
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "core/internal.h"
#include "crypto/crypto.h"
#include "wm/wm_audio.h"
#include "wm/wm_fft.h"

/*
 * Frames of at least 30 ms (2048 samples at 44.1 kHz): bins of 21.5 Hz
 * resolve the 70 Hz wide lowest band, which 20 ms frames did not.
 */
#define FRAME_SEC 0.03
#define FINE_PER_BAND 4
#define MARGIN 2
#define FINE (AIMARK__WMA_BANDS * FINE_PER_BAND + 2 * MARGIN)
#define SHIFTS (2 * MARGIN + 1)
#define PHASES 4
#define TOP 3
#define WINDOW_SEC 10.4
#define STEP_SEC (AIMARK__WMA_PERIOD * AIMARK__WMA_SLOT_SEC)
#define MIN_WINDOW_SEC 2.0
#define N_SCALES 11
#define ACT_SPAN 3   /* slots each side for the activity estimate */
#define NEIGH_SPAN 2 /* slots each side in the neighbour mean (weights 1/distance) */
#define CLIP 2.5f    /* clip of normalised residuals */
#define FREQ_NEIGH 0.5f /* share of the adjacent bands' mean residual removed from each cell's (measured optimum) */
/* Slots at a window's edges whose whitening lacks neighbours; accumulation takes them from the next window. */
#define EDGE_SLOTS (ACT_SPAN > NEIGH_SPAN ? ACT_SPAN : NEIGH_SPAN)
#define ACC_FOLDS (PHASES * SHIFTS) /* stream-long folds: time scale 1, every slot phase and frequency shift */
/* Power floor (relative to a full-scale sine's bin power of about (n/4)^2: far below any real signal). */
#define LOG_FLOOR 1e-9f
static const double TIME_SCALES[N_SCALES] = { 1.0, 0.99, 1.01, 0.98, 1.02, 0.97, 1.03, 0.96, 1.04, 0.95, 1.05 };

typedef struct hyp {
	double z;
	double scale;   /* observed slot length / nominal */
	double phase;   /* slot phase in frames */
	int shift;      /* fine-bin shift */
	int offset;     /* block slot of window slot 0 */
	int key;
	int acc;        /* index of the stream-long fold, or -1 for the window's own */
} hyp;

struct aimark_wm_audio_detector {
	unsigned rate, channels;
	size_t n, hop;
	const aimark_wm_key *const *keys;
	size_t n_keys;
	aimark__wma_layout *lay;   /* one per key */
	aimark__fft *fft;
	float *win, *buf;          /* n, 2n */
	float *mono;               /* n: current frame being filled */
	size_t mono_fill;          /* samples in mono (frames start every hop) */
	float *pending;            /* a windowed frame waiting for its FFT partner */
	float *stage;              /* the partner, windowed */
	int have_pending;
	/* FFT bin -> fine bins */
	size_t k_lo, k_hi;
	int16_t *fine_idx;         /* per bin k - k_lo: lower fine bin */
	float *fine_w;             /* weight of the upper fine bin */
	/* feature ring */
	float *feat;               /* cap x FINE */
	size_t cap;
	uint64_t frames;           /* frames produced so far */
	uint64_t next_analysis;    /* frame count at which to analyse next */
	uint64_t analysed_upto;    /* frame count at the last analysis */
	double frame_sec;
	double slot_frames;        /* frames per nominal slot */
	/* scratch */
	float *slotE;              /* max_slots x FINE */
	double *cum;               /* (cap + 1) x FINE: prefix sums of the window's features */
	float *A;                  /* max_slots x BANDS */
	float *R;                  /* PERIOD x BANDS */
	uint16_t *slotN;           /* frames per slot */
	float fine_wsum[FINE];     /* total bin weight of each fine bin per frame */
	float *Rw;                 /* max_slots x BANDS: residuals */
	float *act;                /* max_slots: mean |residual| */
	size_t max_slots;
	/* stream-long folds (time scale 1; index phase * SHIFTS + shift + MARGIN) */
	float *acc;                /* ACC_FOLDS x CELLS */
	int64_t acc_next[ACC_FOLDS]; /* first stream slot not yet folded in */
	int acc_searches;          /* searches of the stream-long folds */
	/* results */
	int done;
	aimark_wm_result res;
	aimark__wma_stats st;
	double best_z;
	unsigned char guess[8];
	int guess_errors, guess_key;
};

static size_t frame_length(unsigned rate)
{
	size_t n = 256;
	while ((double)n < rate * FRAME_SEC)
		n <<= 1;
	return n;
}

void aimark_wm_audio_detector_free(aimark_wm_audio_detector *d)
{
	if (d == NULL)
		return;
	aimark__fft_free(d->fft);
	if (d->lay)
		aimark__wipe(d->lay, d->n_keys * sizeof *d->lay);
	aimark__free(d->lay);
	aimark__free(d->win);
	aimark__free(d->buf);
	aimark__free(d->mono);
	aimark__free(d->pending);
	aimark__free(d->stage);
	aimark__free(d->fine_idx);
	aimark__free(d->fine_w);
	aimark__free(d->feat);
	aimark__free(d->slotE);
	aimark__free(d->cum);
	aimark__free(d->A);
	aimark__free(d->R);
	aimark__free(d->slotN);
	aimark__free(d->Rw);
	aimark__free(d->act);
	aimark__free(d->acc);
	aimark__free(d);
}

int aimark_wm_audio_detector_new(aimark_wm_audio_detector **out, const aimark_wm_key *const *keys, size_t n_keys,
				 unsigned rate, unsigned channels)
{
	RETURN_IF(out == NULL || (keys == NULL && n_keys > 0), AIMARK_EINVAL, "audio watermark: bad argument");
	*out = NULL;
	RETURN_IF(n_keys > 64, AIMARK_EINVAL, "audio watermark: at most 64 keys at once");
	for (size_t i = 0; i < n_keys; i++)
		RETURN_IF(keys[i] == NULL, AIMARK_EINVAL, "audio watermark: key %zu is NULL", i);
	RETURN_IF(rate < AIMARK__WMA_MIN_RATE || rate > AIMARK__WMA_MAX_RATE, AIMARK_EUNSUPPORTED,
		  "audio watermark: sample rate %u Hz outside %u..%u", rate, AIMARK__WMA_MIN_RATE, AIMARK__WMA_MAX_RATE);
	RETURN_IF(channels < 1 || channels > AIMARK__WMA_MAX_CHANNELS, AIMARK_EUNSUPPORTED,
		  "audio watermark: %u channels unsupported (1..%u)", channels, AIMARK__WMA_MAX_CHANNELS);
	aimark_wm_audio_detector *d = aimark__calloc(1, sizeof *d);
	RETURN_ENOMEM_IF_NULL(d);
	d->rate = rate;
	d->channels = channels;
	d->keys = keys;
	d->n_keys = n_keys;
	d->n = frame_length(rate);
	d->hop = d->n / 4;
	d->frame_sec = (double)d->hop / rate;
	d->slot_frames = AIMARK__WMA_SLOT_SEC / d->frame_sec;
	d->cap = (size_t)ceil(WINDOW_SEC / d->frame_sec) + 2;
	d->max_slots = (size_t)(d->cap / (d->slot_frames * TIME_SCALES[9])) + 4;
	d->next_analysis = d->cap;
	d->res.key_index = -1;
	d->res.bit_errors = -1;
	d->res.false_alarm_probability = 1.0;
	d->guess_key = -1;
	d->guess_errors = -1;
	size_t n = d->n;
	/* fine-bin map */
	double oct = log2(AIMARK__WMA_F_HI / AIMARK__WMA_F_LO) / (AIMARK__WMA_BANDS * FINE_PER_BAND);
	double f_min = AIMARK__WMA_F_LO * exp2(-(MARGIN + 0.5) * oct), f_max = AIMARK__WMA_F_LO * exp2((FINE - MARGIN - 0.5) * oct);
	d->k_lo = (size_t)ceil(f_min * n / rate);
	d->k_hi = (size_t)floor(f_max * n / rate);
	if (d->k_hi >= n / 2)
		d->k_hi = n / 2 - 1;
	size_t nb = d->k_hi >= d->k_lo ? d->k_hi - d->k_lo + 1 : 1;
	d->lay = aimark__calloc(n_keys ? n_keys : 1, sizeof *d->lay);
	d->win = aimark__calloc(n, sizeof *d->win);
	d->buf = aimark__calloc(2 * n, sizeof *d->buf);
	d->mono = aimark__calloc(n, sizeof *d->mono);
	d->pending = aimark__calloc(n, sizeof *d->pending);
	d->stage = aimark__calloc(n, sizeof *d->stage);
	d->fine_idx = aimark__calloc(nb, sizeof *d->fine_idx);
	d->fine_w = aimark__calloc(nb, sizeof *d->fine_w);
	d->feat = aimark__calloc(d->cap * FINE, sizeof *d->feat);
	d->slotE = aimark__calloc(d->max_slots * FINE, sizeof *d->slotE);
	d->cum = aimark__calloc((d->cap + 1) * FINE, sizeof *d->cum);
	d->A = aimark__calloc(d->max_slots * AIMARK__WMA_BANDS, sizeof *d->A);
	d->R = aimark__calloc(AIMARK__WMA_CELLS, sizeof *d->R);
	d->slotN = aimark__calloc(d->max_slots, sizeof *d->slotN);
	d->Rw = aimark__calloc(d->max_slots * AIMARK__WMA_BANDS, sizeof *d->Rw);
	d->act = aimark__calloc(d->max_slots, sizeof *d->act);
	d->acc = aimark__calloc((size_t)ACC_FOLDS * AIMARK__WMA_CELLS, sizeof *d->acc);
	int rc = 0;
	if (!d->lay || !d->win || !d->buf || !d->mono || !d->pending || !d->stage || !d->fine_idx || !d->fine_w || !d->feat ||
	    !d->slotE || !d->cum || !d->A || !d->R || !d->slotN || !d->Rw || !d->act || !d->acc)
		rc = aimark__error_set(AIMARK_ENOMEM, "out of memory");
	if (rc == 0)
		rc = aimark__fft_new(&d->fft, n);
	for (size_t i = 0; rc == 0 && i < n_keys; i++)
		rc = aimark__wma_layout_derive(&d->lay[i], keys[i]);
	if (rc < 0) {
		aimark_wm_audio_detector_free(d);
		return rc;
	}
	for (size_t i = 0; i < n; i++)
		d->win[i] = (float)(0.5 - 0.5 * cos(2.0 * M_PI * (double)i / (double)n));
	for (size_t k = d->k_lo; k <= d->k_hi; k++) {
		double u = log2((double)k * rate / (double)n / AIMARK__WMA_F_LO) / oct + MARGIN - 0.5;
		int i0 = (int)floor(u);
		float w = (float)(u - i0);
		if (i0 < 0) {
			i0 = 0;
			w = 0;
		}
		if (i0 >= FINE - 1) {
			i0 = FINE - 2;
			w = 1;
		}
		d->fine_idx[k - d->k_lo] = (int16_t)i0;
		d->fine_w[k - d->k_lo] = w;
		d->fine_wsum[i0] += 1.0f - w;
		d->fine_wsum[i0 + 1] += w;
	}
	*out = d;
	return 0;
}

/* ---- features ---- */

static void add_power(aimark_wm_audio_detector *d, float *dst, size_t k, float p)
{
	size_t j = k - d->k_lo;
	int i0 = d->fine_idx[j];
	float w = d->fine_w[j];
	dst[i0] += (1.0f - w) * p;
	dst[i0 + 1] += w * p;
}

static float *next_feature_row(aimark_wm_audio_detector *d)
{
	float *row = d->feat + (d->frames % d->cap) * FINE;
	memset(row, 0, FINE * sizeof *row);
	return row;
}

/* Transforms the pending frame (real part) and `second` (imaginary part, may be NULL). */
static void transform(aimark_wm_audio_detector *d, const float *second)
{
	size_t n = d->n;
	float *b = d->buf;
	for (size_t i = 0; i < n; i++) {
		b[2 * i] = d->pending[i];
		b[2 * i + 1] = second ? second[i] : 0.0f;
	}
	aimark__fft_run(d->fft, b, 0);
	float *r1 = next_feature_row(d);
	d->frames++;
	float *r2 = NULL;
	if (second) {
		r2 = next_feature_row(d);
		d->frames++;
	}
	for (size_t k = d->k_lo; k <= d->k_hi; k++) {
		float ar = b[2 * k], ai = b[2 * k + 1], br = b[2 * (n - k)], bi = b[2 * (n - k) + 1];
		/* X1 = (Z[k] + conj Z[n-k]) / 2, X2 = (Z[k] - conj Z[n-k]) / 2i */
		float xr = ar + br, xi = ai - bi;
		add_power(d, r1, k, log2f(0.25f * (xr * xr + xi * xi) + LOG_FLOOR));
		if (r2) {
			float yr = ar - br, yi = ai + bi;
			add_power(d, r2, k, log2f(0.25f * (yr * yr + yi * yi) + LOG_FLOOR));
		}
	}
}

static int analyse(aimark_wm_audio_detector *d, int last);

int aimark_wm_audio_detector_feed(aimark_wm_audio_detector *d, const float *samples, size_t frames)
{
	RETURN_IF(d == NULL || (samples == NULL && frames > 0), AIMARK_EINVAL, "audio watermark: bad argument");
	if (d->done)
		return 0;
	size_t ch = d->channels, n = d->n, hop = d->hop;
	const float inv = 1.0f / (float)ch;
	for (size_t i = 0; i < frames; i++) {
		const float *s = samples + i * ch;
		float m = s[0];
		for (size_t c = 1; c < ch; c++)
			m += s[c];
		m *= inv;
		if (!(m == m) || m > 1e6f || m < -1e6f) /* NaN and absurd values carry no mark */
			m = 0;
		d->mono[d->mono_fill++] = m;
		if (d->mono_fill < n)
			continue;
		/* Window the frame; two real frames share one complex transform. */
		if (!d->have_pending) {
			for (size_t j = 0; j < n; j++)
				d->pending[j] = d->win[j] * d->mono[j];
			d->have_pending = 1;
		} else {
			for (size_t j = 0; j < n; j++)
				d->stage[j] = d->win[j] * d->mono[j];
			transform(d, d->stage);
			d->have_pending = 0;
		}
		memmove(d->mono, d->mono + hop, (n - hop) * sizeof *d->mono);
		d->mono_fill = n - hop;
		if (d->frames >= d->next_analysis) {
			RETURN_IF_ERR(analyse(d, 0));
			if (d->done)
				return 0;
		}
	}
	return 0;
}

/* ---- analysis ---- */

/* Prefix sums over the window's frames, so that each hypothesis sums a slot with one subtraction. */
static void prefix_sums(aimark_wm_audio_detector *d, uint64_t first, size_t len)
{
	double *c = d->cum;
	memset(c, 0, FINE * sizeof *c);
	for (size_t t = 0; t < len; t++) {
		const float *src = d->feat + ((first + t) % d->cap) * FINE;
		double *prev = c + t * FINE, *next = prev + FINE;
		for (int i = 0; i < FINE; i++)
			next[i] = prev[i] + src[i];
	}
}

/*
 * Sums the window's frames into slots of `slot_len` frames starting at frame
 * `phase` (frame t belongs to slot floor((t - phase) / slot_len)); needs
 * prefix_sums() of the same window. Returns the slot count.
 */
static size_t bin_slots(aimark_wm_audio_detector *d, size_t len, double slot_len, double phase)
{
	size_t nslots = phase < (double)len ? (size_t)(((double)len - phase) / slot_len) : 0;
	if (nslots > d->max_slots)
		nslots = d->max_slots;
	if (nslots == 0)
		return 0;
	double inv = 1.0 / slot_len;
	size_t j = 0, start = 0;
	int open = 0;
	for (size_t t = 0; t <= len && j < nslots; t++) {
		double x = ((double)t - phase) * inv;
		size_t slot = t < len && x >= 0 ? (size_t)x : (size_t)-1;
		if (open && slot != j) {
			/* slot j is frames [start, t) */
			const double *a = d->cum + start * FINE, *b = d->cum + t * FINE;
			float *dst = d->slotE + j * FINE;
			for (int i = 0; i < FINE; i++)
				dst[i] = (float)(b[i] - a[i]);
			d->slotN[j] = (uint16_t)(t - start);
			open = 0;
			j++;
		}
		while (!open && t < len && x >= 0 && j < nslots && slot > j) { /* a slot without frames */
			memset(d->slotE + j * FINE, 0, FINE * sizeof *d->slotE);
			d->slotN[j] = 0;
			j++;
		}
		if (!open && t < len && x >= 0 && slot == j) {
			start = t;
			open = 1;
		}
	}
	for (; j < nslots; j++) {
		memset(d->slotE + j * FINE, 0, FINE * sizeof *d->slotE);
		d->slotN[j] = 0;
	}
	return nslots;
}

/*
 * Band log-energies of the slots at fine shift `shift`, whitened, clipped and
 * folded into d->R; the whitened residuals stay in d->Rw (0 for a slot
 * without any).
 */
static void whiten_fold(aimark_wm_audio_detector *d, size_t nslots, int shift)
{
	const int B = AIMARK__WMA_BANDS;
	float *A = d->A;
	for (size_t j = 0; j < nslots; j++) {
		const float *e = d->slotE + j * FINE + MARGIN + shift;
		const float *w = d->fine_wsum + MARGIN + shift;
		float *a = A + j * B, mean = 0;
		if (d->slotN[j] == 0) {
			a[0] = NAN; /* no frame */
			continue;
		}
		/* mean log power of the band's FFT bins (a geometric mean: every bin counts, not the loudest) */
		for (int b = 0; b < B; b++) {
			const float *q = e + FINE_PER_BAND * b, *qw = w + FINE_PER_BAND * b;
			float ws = (qw[0] + qw[1] + qw[2] + qw[3]) * (float)d->slotN[j];
			a[b] = ws > 0 ? (q[0] + q[1] + q[2] + q[3]) / ws : 0;
			mean += a[b];
		}
		mean /= B;
		for (int b = 0; b < B; b++)
			a[b] -= mean;
	}
	memset(d->R, 0, AIMARK__WMA_CELLS * sizeof *d->R);
	/*
	 * r = A[j] - weighted mean of the live neighbours A[j-2..j+2] (weight
	 * 1/distance: four neighbours average out more of their own marks and
	 * cell noise than two, at little cost in envelope tracking), less half the
	 * mean r of the adjacent bands (FREQ_NEIGH). Each slot's r is
	 * divided by the mean |r| of the slots around it (host activity: steady
	 * passages count more than transients and pauses), then clipped.
	 */
	float *r = d->Rw;
	float *act = d->act;
	for (size_t j = 0; j < nslots; j++) {
		const float *a = A + j * B;
		float *rj = r + j * B;
		act[j] = 0;
		if (a[0] != a[0]) {
			memset(rj, 0, B * sizeof *rj);
			continue;
		}
		float nbm[AIMARK__WMA_BANDS] = { 0 };
		float wsum = 0;
		for (int o = -NEIGH_SPAN; o <= NEIGH_SPAN; o++) {
			if (o == 0 || (o < 0 && (size_t)(-o) > j) || j + o >= nslots)
				continue;
			const float *p = A + (j + o) * B;
			if (p[0] != p[0])
				continue;
			float w = 1.0f / (float)(o < 0 ? -o : o);
			for (int b = 0; b < B; b++)
				nbm[b] += w * p[b];
			wsum += w;
		}
		if (wsum == 0) {
			memset(rj, 0, B * sizeof *rj);
			continue;
		}
		float t[AIMARK__WMA_BANDS], s = 0;
		for (int b = 0; b < B; b++)
			t[b] = a[b] - nbm[b] / wsum;
		/*
		 * Then FREQ_NEIGH x the mean residual of the adjacent bands: the host's
		 * residual spans neighbouring bands (a formant or a note moving), the
		 * mark's signs are independent from band to band.
		 */
		for (int b = 0; b < B; b++) {
			float nb = b == 0 ? t[1] : b == B - 1 ? t[B - 2] : 0.5f * (t[b - 1] + t[b + 1]);
			rj[b] = t[b] - FREQ_NEIGH * nb;
			s += fabsf(rj[b]);
		}
		act[j] = s / B;
	}
	for (size_t j = 0; j < nslots; j++) {
		size_t lo = j >= ACT_SPAN ? j - ACT_SPAN : 0, hi = j + ACT_SPAN < nslots ? j + ACT_SPAN : nslots - 1;
		float s = 0;
		int cnt = 0;
		for (size_t i = lo; i <= hi; i++) {
			if (act[i] > 0) {
				s += act[i];
				cnt++;
			}
		}
		float *rj = r + j * B;
		if (act[j] <= 0 || cnt == 0) {
			memset(rj, 0, B * sizeof *rj);
			continue;
		}
		/* act[] of every slot is known, so rj can be overwritten with its final value */
		float g = (float)cnt / s, lim = CLIP;
		float *R = d->R + (j % AIMARK__WMA_PERIOD) * B;
		for (int b = 0; b < B; b++) {
			float v = rj[b] * g;
			rj[b] = v > lim ? lim : v < -lim ? -lim : v;
			R[b] += rj[b];
		}
	}
}

/*
 * Folds the window's whitened slots (d->Rw, nslots of them; window slot 0
 * is stream slot `slot0`) into stream-long fold `a`, each stream slot once:
 * those not folded yet whose whitening had all its neighbours, or up to the
 * window's end when it is the stream's (`last`: the stream has ended, or the
 * caller asked for a verdict; slots folded then stay folded if more follows).
 */
static void accumulate(aimark_wm_audio_detector *d, int a, size_t nslots, int64_t slot0, int first_window, int last)
{
	const int B = AIMARK__WMA_BANDS, P = AIMARK__WMA_PERIOD;
	int64_t lo = first_window ? slot0 : slot0 + EDGE_SLOTS, hi = slot0 + (int64_t)nslots - (last ? 0 : EDGE_SLOTS);
	if (lo < d->acc_next[a])
		lo = d->acc_next[a];
	float *fold = d->acc + (size_t)a * AIMARK__WMA_CELLS;
	for (int64_t J = lo; J < hi; J++) {
		const float *rj = d->Rw + (size_t)(J - slot0) * B;
		float *dst = fold + (size_t)(J % P) * B;
		for (int b = 0; b < B; b++)
			dst[b] += rj[b];
	}
	if (hi > d->acc_next[a])
		d->acc_next[a] = hi;
}

/* Correlates `fold` (one block) with key k's sync pattern at every block offset; returns the best z and its offset. */
static double correlate(const aimark_wm_audio_detector *d, const float *fold, size_t k, int *best_offset)
{
	const aimark__wma_layout *l = &d->lay[k];
	const int B = AIMARK__WMA_BANDS, P = AIMARK__WMA_PERIOD;
	double best = -DBL_MAX;
	(void)B;
	*best_offset = 0;
	/* R doubled along the block so that every offset reads a contiguous run. */
	float R2[2 * AIMARK__WMA_CELLS];
	memcpy(R2, fold, sizeof(float) * AIMARK__WMA_CELLS);
	memcpy(R2 + AIMARK__WMA_CELLS, fold, sizeof(float) * AIMARK__WMA_CELLS);
	for (int j0 = 0; j0 < P; j0++) {
		/* window fold position of block cell c: c - j0 * B (mod CELLS) */
		const float *base = R2 + (P - j0) * B;
		float s = 0, nn = 0;
		for (int i = 0; i < AIMARK__WMA_SYNC_CELLS; i++) {
			float r = base[l->sync_cell[i]];
			s += l->sync_sign[i] * r;
			nn += r * r;
		}
		double z = nn > 0 ? s / sqrt(nn) : 0;
		if (z > best) {
			best = z;
			*best_offset = j0;
		}
	}
	return best;
}

static double eval_hyp(aimark_wm_audio_detector *d, size_t len, size_t k, hyp *h)
{
	size_t ns = bin_slots(d, len, d->slot_frames * h->scale, h->phase);
	if (ns < 2) {
		memset(d->R, 0, AIMARK__WMA_CELLS * sizeof *d->R);
		return 0;
	}
	whiten_fold(d, ns, h->shift);
	return correlate(d, d->R, k, &h->offset);
}

static void keep_top(hyp *top, const hyp *h)
{
	if (h->z <= top[TOP - 1].z)
		return;
	int i = TOP - 1;
	while (i > 0 && top[i - 1].z < h->z) {
		top[i] = top[i - 1];
		i--;
	}
	top[i] = *h;
}

static double normal_tail(double z)
{
	return 0.5 * erfc(z / sqrt(2.0));
}

/* Decodes the payload under hypothesis h (d->R must hold its fold unless it is a stream-long one). */
static int decode_hyp(aimark_wm_audio_detector *d, const hyp *h)
{
	const aimark__wma_layout *l = &d->lay[h->key];
	const float *fold = h->acc >= 0 ? d->acc + (size_t)h->acc * AIMARK__WMA_CELLS : d->R;
	const int B = AIMARK__WMA_BANDS, P = AIMARK__WMA_PERIOD;
	float soft[AIMARK__WM_CODED_BITS];
	memset(soft, 0, sizeof soft);
	double ss = 0;
	for (int cell = 0; cell < AIMARK__WMA_CELLS; cell++) {
		int bit = l->cell_bit[cell];
		if (bit < 0)
			continue;
		int q = cell / B, b = cell % B, p = q - h->offset;
		if (p < 0)
			p += P;
		soft[bit] += l->cell_sign[cell] * fold[p * B + b];
	}
	for (int i = 0; i < AIMARK__WM_CODED_BITS; i++)
		ss += (double)soft[i] * soft[i];
	if (ss > 0) {
		float g = (float)(1.0 / sqrt(ss / AIMARK__WM_CODED_BITS));
		for (int i = 0; i < AIMARK__WM_CODED_BITS; i++)
			soft[i] *= g;
	}
	unsigned char payload[8], info[AIMARK__WM_INFO_BITS];
	int auth = 0, errors = 0;
	RETURN_IF_ERR(aimark__wm_decode(d->keys[h->key], soft, payload, &auth, &errors));
	d->st.decodes++;
	aimark__wm_viterbi(soft, info);
	int prefix = aimark__wm_tag_prefix_match(d->keys[h->key], info);
	if (prefix > d->st.best_tag_prefix)
		d->st.best_tag_prefix = prefix;
	if (auth || h->z > d->best_z) {
		d->best_z = h->z;
		memcpy(d->guess, payload, 8);
		d->guess_errors = errors;
		d->guess_key = h->key;
		d->st.time_scale = h->scale;
		d->st.freq_scale = exp2((double)h->shift * log2(AIMARK__WMA_F_HI / AIMARK__WMA_F_LO) /
					(AIMARK__WMA_BANDS * FINE_PER_BAND));
	}
	if (auth) {
		d->done = 1;
		d->st.accumulated = h->acc >= 0;
		d->res.detected = 1;
		d->res.authenticated = 1;
		d->res.key_index = h->key;
		memcpy(d->res.payload, payload, 8);
		d->res.bit_errors = errors;
		d->res.score = h->z;
	}
	aimark__wipe(info, sizeof info);
	return 0;
}

/* Cap on decodes so that decodes x 2^-48 stays below the threshold. */
#define MAX_DECODES 250000

/*
 * Searches the stream-long folds (each key, every block offset) and decodes
 * the TOP best. Only once the stream is longer than one window: before that
 * they hold no more than the window itself.
 */
static int search_accumulated(aimark_wm_audio_detector *d)
{
	hyp top[TOP];
	for (int i = 0; i < TOP; i++)
		top[i].z = -DBL_MAX;
	d->acc_searches++;
	for (int a = 0; a < ACC_FOLDS; a++) {
		const float *fold = d->acc + (size_t)a * AIMARK__WMA_CELLS;
		for (size_t k = 0; k < d->n_keys; k++) {
			hyp h = { 0, 1.0, d->slot_frames * (a / SHIFTS) / PHASES, a % SHIFTS - MARGIN, 0, (int)k, a };
			h.z = correlate(d, fold, k, &h.offset);
			if (h.z > d->st.best_sync_z)
				d->st.best_sync_z = h.z;
			keep_top(top, &h);
		}
	}
	for (int t = 0; t < TOP && top[t].z > -DBL_MAX && !d->done && d->st.decodes < MAX_DECODES; t++)
		RETURN_IF_ERR(decode_hyp(d, &top[t]));
	return 0;
}

/* Analyses the window ending at the newest frame; `last` when the stream has ended. */
static int analyse(aimark_wm_audio_detector *d, int last)
{
	uint64_t step = (uint64_t)ceil(STEP_SEC / d->frame_sec);
	d->analysed_upto = d->frames;
	d->next_analysis = d->frames + step;
	size_t len = d->frames < d->cap ? (size_t)d->frames : d->cap;
	if ((double)len * d->frame_sec < MIN_WINDOW_SEC || d->n_keys == 0 || d->st.decodes >= MAX_DECODES)
		return 0;
	uint64_t first = d->frames - len;
	d->st.windows++;
	prefix_sums(d, first, len);
	hyp top[TOP];
	for (int i = 0; i < TOP; i++)
		top[i].z = -DBL_MAX;
	for (int si = 0; si < N_SCALES; si++) {
		double slot_len = d->slot_frames * TIME_SCALES[si];
		/*
		 * At time scale 1 the phases are those of the stream's slot grid
		 * (stream slot J starts at frame J x slot_len + phase index x slot_len / PHASES),
		 * so that the window's slots can be accumulated.
		 */
		const double quarter = slot_len / PHASES;
		double anchor = si == 0 ? fmod(quarter - fmod((double)first, quarter), quarter) : 0;
		for (int ph = 0; ph < PHASES; ph++) {
			double phase = anchor + slot_len * ph / PHASES;
			size_t ns = bin_slots(d, len, slot_len, phase);
			if (ns < 2)
				continue;
			/* the stream phase index and stream slot of window slot 0 */
			double q = ((double)first + phase) / quarter;
			int64_t qi = (int64_t)floor(q + 0.5);
			int acc_phase = (int)(qi % PHASES);
			int64_t slot0 = qi / PHASES;
			for (int sh = -MARGIN; sh <= MARGIN; sh++) {
				whiten_fold(d, ns, sh);
				if (si == 0)
					accumulate(d, acc_phase * SHIFTS + sh + MARGIN, ns, slot0, first == 0, last);
				for (size_t k = 0; k < d->n_keys; k++) {
					hyp h = { 0, TIME_SCALES[si], phase, sh, 0, (int)k, -1 };
					h.z = correlate(d, d->R, k, &h.offset);
					if (h.z > d->st.best_sync_z)
						d->st.best_sync_z = h.z;
					keep_top(top, &h);
				}
			}
		}
	}
	for (int t = 0; t < TOP && top[t].z > -DBL_MAX; t++) {
		/* Refine scale and phase around the hypothesis. */
		hyp best = top[t];
		double slot_len = d->slot_frames * best.scale;
		for (int a = -2; a <= 2; a++) {
			for (int b = -1; b <= 1; b++) {
				if (a == 0 && b == 0)
					continue;
				hyp h = top[t];
				h.scale = top[t].scale * (1.0 + 0.0025 * a);
				h.phase = top[t].phase + b * slot_len / (2 * PHASES);
				h.z = eval_hyp(d, len, (size_t)h.key, &h);
				if (h.z > best.z)
					best = h;
			}
		}
		best.z = eval_hyp(d, len, (size_t)best.key, &best);
		if (best.z > d->st.best_sync_z)
			d->st.best_sync_z = best.z;
		RETURN_IF_ERR(decode_hyp(d, &best));
		if (d->done || d->st.decodes >= MAX_DECODES)
			return 0;
	}
	if (d->frames > d->cap)
		RETURN_IF_ERR(search_accumulated(d));
	return 0;
}

int aimark_wm_audio_detector_result(aimark_wm_audio_detector *d, aimark_wm_result *res)
{
	RETURN_IF(d == NULL || res == NULL, AIMARK_EINVAL, "audio watermark: bad argument");
	if (!d->done) {
		if (d->have_pending) {
			transform(d, NULL);
			d->have_pending = 0;
		}
		double pending_sec = (double)(d->frames - d->analysed_upto) * d->frame_sec;
		if (d->st.windows == 0 || pending_sec >= 1.0)
			RETURN_IF_ERR(analyse(d, 1));
	}
	*res = d->res;
	if (d->res.authenticated) {
		res->false_alarm_probability = d->st.decodes * ldexp(1.0, -AIMARK__WM_TAG_BITS);
		if (res->false_alarm_probability > AIMARK__WMA_MAX_FALSE_ALARM) {
			res->detected = 0;
		}
	} else {
		double hyps = ((double)d->st.windows * N_SCALES + d->acc_searches) * (double)d->n_keys * PHASES * SHIFTS *
			      AIMARK__WMA_PERIOD;
		double p = hyps * normal_tail(d->st.best_sync_z);
		res->false_alarm_probability = p > 1 || d->st.windows == 0 ? 1.0 : p;
		res->score = d->st.best_sync_z;
		res->key_index = -1;
		if (d->guess_key >= 0) {
			memcpy(res->payload, d->guess, 8);
			res->bit_errors = d->guess_errors;
		}
	}
	return 0;
}

void aimark__wm_audio_detector_stats(const aimark_wm_audio_detector *d, aimark__wma_stats *st)
{
	if (d && st)
		*st = d->st;
}

int aimark__wm_audio_detect(const float *samples, size_t frames, unsigned rate, unsigned channels,
			    const aimark_wm_key *const *keys, size_t n_keys, aimark_wm_result *res)
{
	RETURN_IF(res == NULL, AIMARK_EINVAL, "audio watermark: no result");
	memset(res, 0, sizeof *res);
	res->key_index = -1;
	res->bit_errors = -1;
	res->false_alarm_probability = 1.0;
	RETURN_IF(samples == NULL && frames > 0, AIMARK_EINVAL, "audio watermark: bad argument");
	aimark_wm_audio_detector *d = NULL;
	RETURN_IF_ERR(aimark_wm_audio_detector_new(&d, keys, n_keys, rate, channels));
	int rc = aimark_wm_audio_detector_feed(d, samples, frames);
	if (rc == 0)
		rc = aimark_wm_audio_detector_result(d, res);
	aimark_wm_audio_detector_free(d);
	return rc;
}

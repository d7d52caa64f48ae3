/*
 * Detection of the rhythm label "short-long-short-short" in audio, at any
 * pitch between 250 Hz and 4 kHz (docs/explicit-labels-audio.md,
 * "Detection").
 *
 * The signal is mixed to mono and resampled to 16 kHz. Every 5 ms a Hann-
 * windowed 512-point spectrum (32 ms, 31.25 Hz bins) gives the strongest
 * narrow peak and its share of the frame's energy ("purity"). Frames where
 * one peak holds most of the energy form runs on that frequency; a run is cut
 * into bursts at dips, and each burst's onset and end are placed where its
 * amplitude crosses half its peak (interpolated between frames, so timing is
 * finer than the 5 ms hop). Four consecutive bursts on the same frequency
 * match when their lengths are 1:3:1:1 units (unit 40-300 ms), the gaps fit,
 * the levels are steady and alike, the tone is pure, and no other burst on
 * that frequency sits right before or after (music repeating a note does not
 * match). Memory is constant in the length of the input.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "codec/audio_codec.h"
#include "core/internal.h"
#include "explicit_audio.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

#define FS ((double)AIMARK__DETECT_RATE)
#define N 512                 /* analysis window */
#define HALF (N / 2)
#define HOP 80                /* 5 ms */
#define NBINS (N / 2 + 1)
#define BIN_HZ (FS / N)
#define MAX_RUN 400           /* frames (2 s): longer tones are not bursts */
#define HISTORY 32            /* bursts kept for matching */

/* Thresholds (docs/explicit-labels-audio.md, "Detection"). */
#define TONE_LO_HZ 250.0
#define TONE_HI_HZ 4000.0
#define BAND_LO_HZ 100.0
#define BAND_HI_HZ 7000.0
#define FLOOR_POWER 1e-6      /* -60 dB re a full-scale sine */
#define MIN_PURITY 0.6        /* a frame is tonal when its peak holds this share of the band's energy */
#define MIN_MEAN_PURITY 0.7   /* ... and the four bursts on average this share */
#define MAX_LEVEL_SPREAD_DB 6.0
#define MAX_LEVEL_STD_DB 3.0
#define UNIT_MIN_S 0.040
#define UNIT_MAX_S 0.300
#define ISOLATION_UNITS 1.5
#define MIN_BURST_S 0.025     /* shorter blips (codec pre-echo) are not bursts */
#define ECHO_DB 15.0          /* bursts this far below the newest one are ignored when matching */
#define MIN_SCORE 0.75        /* purity x timing fit */
#define GUARD_DB 6.0          /* gaps and 0.5-1.5 units around the pattern: this much below the tone */
#define WIN_HALF_S ((double)HALF / FS)
#define E_RING 1024           /* frame energies kept (5.1 s) */

typedef struct burst {
	int bin;
	double on, off;     /* seconds */
	double level_db;
	double std_db;
	double purity;
	double hz;
	int is_long;
} burst;

typedef struct candidate {
	int valid;
	int bin;
	double on, off, deadline, score, hz, unit;
	double level_db;            /* of its quietest burst */
	double guard;               /* largest mean energy allowed around the pattern */
	double after_lo, after_sum; /* the guard after the pattern, summed while it streams by */
	double after_n;
} candidate;

struct aimark__rhythm_detector {
	float win[N];
	float buf[N];
	size_t fill;
	uint64_t frames;     /* analysed */
	uint64_t samples;    /* fed */
	float cos_t[N / 4], sin_t[N / 4];
	float post_c[N / 2], post_s[N / 2];
	float P[NBINS], prevP[NBINS];
	int k_tone_lo, k_tone_hi, k_band_lo, k_band_hi;
	/* the current run */
	int run_active, run_bin, run_overflow;
	uint64_t run_first;  /* frame index of its first frame */
	size_t run_n;
	double run_pre;
	float run_p[MAX_RUN], run_q[MAX_RUN], run_hz[MAX_RUN];
	/* bursts and matches */
	burst hist[HISTORY];
	size_t n_hist;
	candidate pending, best;
	unsigned occurrences;
	float e_ring[E_RING]; /* band energy of recent frames */
	float work[N];       /* FFT scratch: N/2 complex values */
};

/* ---- FFT: N real points through an N/2-point complex transform ---- */

static void fft_init(aimark__rhythm_detector *d)
{
	for (int i = 0; i < N / 4; i++) {
		d->cos_t[i] = (float)cos(2.0 * M_PI * i / (N / 2));
		d->sin_t[i] = (float)-sin(2.0 * M_PI * i / (N / 2));
	}
	for (int k = 0; k < N / 2; k++) {
		d->post_c[k] = (float)cos(2.0 * M_PI * k / N);
		d->post_s[k] = (float)-sin(2.0 * M_PI * k / N);
	}
}

/* In-place radix-2 FFT of M = N/2 complex values (re, im interleaved). */
static void fft_complex(const aimark__rhythm_detector *d, float *z)
{
	const int m = N / 2;
	for (int i = 1, j = 0; i < m; i++) {
		int bit = m >> 1;
		for (; j & bit; bit >>= 1)
			j ^= bit;
		j ^= bit;
		if (i < j) {
			float tr = z[2 * i], ti = z[2 * i + 1];
			z[2 * i] = z[2 * j];
			z[2 * i + 1] = z[2 * j + 1];
			z[2 * j] = tr;
			z[2 * j + 1] = ti;
		}
	}
	for (int len = 2; len <= m; len <<= 1) {
		int step = m / len;
		for (int i = 0; i < m; i += len) {
			for (int k = 0; k < len / 2; k++) {
				float wr = d->cos_t[k * step], wi = d->sin_t[k * step];
				float *a = &z[2 * (i + k)], *b = &z[2 * (i + k + len / 2)];
				float tr = b[0] * wr - b[1] * wi, ti = b[0] * wi + b[1] * wr;
				b[0] = a[0] - tr;
				b[1] = a[1] - ti;
				a[0] += tr;
				a[1] += ti;
			}
		}
	}
}

/* Power spectrum of the windowed buffer into d->P, scaled so that a full-scale sine gives about 1 over 3 bins. */
static void power_spectrum(aimark__rhythm_detector *d)
{
	float *z = d->work;
	for (int i = 0; i < N; i++)
		z[i] = d->buf[i] * d->win[i];
	fft_complex(d, z);
	/* split the N/2 complex bins into the N real-input bins 0..N/2 */
	const double scale = 1.0 / (1.5 * (double)N * N / 16.0);
	for (int k = 0; k <= N / 2; k++) {
		int k1 = k % (N / 2), k2 = (N / 2 - k) % (N / 2);
		double zr = z[2 * k1], zi = z[2 * k1 + 1], cr = z[2 * k2], ci = -z[2 * k2 + 1];
		double er = 0.5 * (zr + cr), ei = 0.5 * (zi + ci);     /* even samples */
		double orr = 0.5 * (zi - ci), oi = -0.5 * (zr - cr);   /* odd samples */
		double wr = k < N / 2 ? d->post_c[k] : -1.0, wi = k < N / 2 ? d->post_s[k] : 0.0;
		double xr = er + (orr * wr - oi * wi), xi = ei + (orr * wi + oi * wr);
		d->P[k] = (float)((xr * xr + xi * xi) * scale);
	}
}

static double s3(const float *P, int k) { return (double)P[k - 1] + P[k] + P[k + 1]; }

static double s3_near(const float *P, int k, int lo, int hi)
{
	double m = 0;
	for (int j = k - 1; j <= k + 1; j++)
		if (j >= lo && j <= hi && s3(P, j) > m)
			m = s3(P, j);
	return m;
}

/* ---- detector ---- */

int aimark__rhythm_detector_new(aimark__rhythm_detector **out)
{
	RETURN_IF(out == NULL, AIMARK_EINVAL, "rhythm detector: no output");
	aimark__rhythm_detector *d = aimark__calloc(1, sizeof *d);
	RETURN_ENOMEM_IF_NULL(d);
	for (int i = 0; i < N; i++)
		d->win[i] = (float)(0.5 - 0.5 * cos(2.0 * M_PI * i / N));
	fft_init(d);
	d->k_tone_lo = (int)ceil(TONE_LO_HZ / BIN_HZ);
	d->k_tone_hi = (int)floor(TONE_HI_HZ / BIN_HZ);
	d->k_band_lo = (int)ceil(BAND_LO_HZ / BIN_HZ);
	d->k_band_hi = (int)floor(BAND_HI_HZ / BIN_HZ);
	d->fill = HALF; /* half a window of silence first: frame i is centred on i x HOP */
	*out = d;
	return 0;
}

void aimark__rhythm_detector_free(aimark__rhythm_detector *d) { aimark__free(d); }

static double frame_time(uint64_t i) { return (double)i * HOP / FS; }

/* Settles the pending match: it counts when the guard after it stayed quiet. */
static void settle(aimark__rhythm_detector *d)
{
	candidate *c = &d->pending;
	if (!c->valid)
		return;
	c->valid = 0;
	if (c->after_n > 0 && c->after_sum / c->after_n > c->guard)
		return; /* something as loud as the tone right after it: part of the content */
	d->occurrences++;
	if (!d->best.valid || c->score > d->best.score) {
		d->best = *c;
		d->best.valid = 1;
	}
}

static int same_bin(int a, int b) { return a - b <= 1 && b - a <= 1; }

static int within(double v, double lo, double hi) { return v >= lo && v <= hi; }

/* Mean band energy of the kept frames centred in [lo, hi]; frames before the input count as silence. */
static double mean_energy(const aimark__rhythm_detector *d, double lo, double hi)
{
	double sum = 0, n = 0;
	for (double t = lo; t <= hi + 1e-9; t += HOP / FS) {
		if (t < 0) {
			n++;
			continue;
		}
		uint64_t i = (uint64_t)llround(t * FS / HOP);
		if (i >= d->frames || d->frames - i > E_RING)
			continue;
		sum += d->e_ring[i % E_RING];
		n++;
	}
	return n > 0 ? sum / n : 0;
}

/* A new burst: drop a pending match it follows too closely, then look for one ending here. */
static void add_burst(aimark__rhythm_detector *d, const burst *b)
{
	if (b->off - b->on < MIN_BURST_S)
		return;
	if (d->pending.valid && same_bin(b->bin, d->pending.bin) && b->on < d->pending.deadline &&
	    b->level_db > d->pending.level_db - ECHO_DB)
		d->pending.valid = 0; /* something on the same pitch follows too soon: not a label */
	if (d->n_hist == HISTORY) {
		memmove(d->hist, d->hist + 1, (HISTORY - 1) * sizeof(burst));
		d->n_hist--;
	}
	d->hist[d->n_hist++] = *b;

	/* the last five bursts on this pitch, newest last (much quieter ones are echoes) */
	const burst *s[5] = { NULL, NULL, NULL, NULL, NULL };
	int n = 0;
	for (size_t i = d->n_hist; i-- > 0 && n < 5;)
		if (same_bin(d->hist[i].bin, b->bin) && d->hist[i].level_db > b->level_db - ECHO_DB)
			s[4 - n++] = &d->hist[i];
	if (n < 4)
		return;
	const burst *b0 = s[0], *b1 = s[1], *b2 = s[2], *b3 = s[3], *b4 = s[4];
	if (b1->is_long || b2->is_long || b3->is_long || b4->is_long)
		return;
	if (!same_bin(b1->bin, b2->bin) || !same_bin(b1->bin, b3->bin) || !same_bin(b1->bin, b4->bin))
		return;
	double d1 = b1->off - b1->on, d2 = b2->off - b2->on, d3 = b3->off - b3->on, d4 = b4->off - b4->on;
	double u = (d1 + d3 + d4) / 3.0;
	if (!within(u, UNIT_MIN_S, UNIT_MAX_S))
		return;
	if (!within(d1, 0.7 * u, 1.4 * u) || !within(d3, 0.7 * u, 1.4 * u) || !within(d4, 0.7 * u, 1.4 * u) ||
	    !within(d2, 2.2 * u, 4.2 * u))
		return;
	double g1 = b2->on - b1->off, g2 = b3->on - b2->off, g3 = b4->on - b3->off;
	if (!within(g1, 0.4 * u, 2.2 * u) || !within(g2, 0.4 * u, 4.5 * u) || !within(g3, 0.4 * u, 2.2 * u))
		return;
	if (b0 && b1->on - b0->off < ISOLATION_UNITS * u)
		return;
	const burst *all[4] = { b1, b2, b3, b4 };
	double lmin = HUGE_VAL, lmax = -HUGE_VAL, q = 0, hz = 0;
	for (int i = 0; i < 4; i++) {
		if (all[i]->std_db > MAX_LEVEL_STD_DB)
			return;
		lmin = all[i]->level_db < lmin ? all[i]->level_db : lmin;
		lmax = all[i]->level_db > lmax ? all[i]->level_db : lmax;
		q += all[i]->purity / 4.0;
		hz += all[i]->hz / 4.0;
	}
	if (lmax - lmin > MAX_LEVEL_SPREAD_DB || q < MIN_MEAN_PURITY)
		return;
	double dev = fabs(d1 / u - 1.0);
	dev = fmax(dev, fabs(d3 / u - 1.0));
	dev = fmax(dev, fabs(d4 / u - 1.0));
	dev = fmax(dev, fabs(d2 / (3.0 * u) - 1.0));
	candidate c;
	memset(&c, 0, sizeof c);
	c.valid = 1;
	c.bin = b4->bin;
	c.on = b1->on;
	c.off = b4->off;
	c.deadline = b4->off + ISOLATION_UNITS * u;
	c.score = q * (1.0 - fmin(dev, 1.0));
	c.hz = hz;
	c.unit = u;
	if (c.score < MIN_SCORE)
		return;
	/* silence (or lowered content) in the gaps and just before the pattern */
	c.level_db = lmin;
	c.guard = pow(10.0, (lmin - GUARD_DB) / 10.0);
	for (int k = 0; k < 3; k++)
		if (mean_energy(d, all[k]->off + WIN_HALF_S, all[k + 1]->on - WIN_HALF_S) > c.guard)
			return;
	if (mean_energy(d, c.on - ISOLATION_UNITS * u, c.on - 0.5 * u - WIN_HALF_S) > c.guard)
		return;
	c.after_lo = c.off + 0.5 * u + WIN_HALF_S;
	settle(d); /* an earlier match on another pitch, still waiting */
	d->pending = c;
}

/* Cuts the finished run into bursts at dips of 12 dB and times their edges. */
static void close_run(aimark__rhythm_detector *d, double post)
{
	size_t n = d->run_n;
	d->run_active = 0;
	if (n == 0)
		return;
	const float *p = d->run_p;
	double peak = 0;
	for (size_t i = 0; i < n; i++)
		peak = p[i] > peak ? p[i] : peak;
	double dip = peak / 16.0;
	size_t a = 0;
	while (a < n) {
		while (a < n && p[a] < dip)
			a++;
		if (a >= n)
			break;
		size_t b = a;
		while (b + 1 < n && p[b + 1] >= dip)
			b++;
		double sp = 0;
		for (size_t i = a; i <= b; i++)
			sp = p[i] > sp ? p[i] : sp;
		double th = sp / 4.0, at = sqrt(th), hop = HOP / FS;
		size_t i = a;
		while (p[i] < th)
			i++;
		size_t j = b;
		while (p[j] < th)
			j--;
		double before = i > 0 ? p[i - 1] : d->run_pre, after = j + 1 < n ? p[j + 1] : post;
		double ai = sqrt(p[i]), ab = sqrt(before), aj = sqrt(p[j]), aa = sqrt(after);
		double on = frame_time(d->run_first + i), off = frame_time(d->run_first + j);
		on -= ab < at && ai > ab ? hop * (ai - at) / (ai - ab) : hop / 2;
		off += aa < at && aj > aa ? hop * (aj - at) / (aj - aa) : hop / 2;
		burst bu;
		memset(&bu, 0, sizeof bu);
		bu.bin = d->run_bin;
		bu.on = on;
		bu.off = off;
		bu.level_db = 10.0 * log10(sp);
		bu.is_long = d->run_overflow;
		/* steadiness and purity where the window lies wholly inside the burst */
		double win = (double)HALF / FS, s1 = 0, s2 = 0, qs = 0, hs = 0, cnt = 0;
		for (size_t k = a; k <= b; k++) {
			double t = frame_time(d->run_first + k);
			if (t < on + win || t > off - win)
				continue;
			double l = 10.0 * log10(p[k] > 1e-12 ? p[k] : 1e-12);
			s1 += l;
			s2 += l * l;
			qs += d->run_q[k];
			hs += d->run_hz[k];
			cnt++;
		}
		if (cnt == 0) {
			/* too short for a whole window inside: use its peak frame */
			size_t m = i;
			for (size_t k = i; k <= j; k++)
				m = p[k] > p[m] ? k : m;
			qs = d->run_q[m];
			hs = d->run_hz[m];
			cnt = 1;
		} else if (cnt >= 3) {
			double mean = s1 / cnt, var = s2 / cnt - mean * mean;
			bu.std_db = var > 0 ? sqrt(var) : 0;
		}
		bu.purity = qs / cnt;
		bu.hz = hs / cnt;
		add_burst(d, &bu);
		a = b + 1;
	}
	d->run_n = 0;
	d->run_overflow = 0;
}

static void analyse_frame(aimark__rhythm_detector *d)
{
	memcpy(d->prevP, d->P, sizeof d->P);
	power_spectrum(d);
	const float *P = d->P;
	double e = 0;
	for (int k = d->k_band_lo; k <= d->k_band_hi; k++)
		e += P[k];
	int kb = d->k_tone_lo;
	double best = 0;
	for (int k = d->k_tone_lo; k <= d->k_tone_hi; k++) {
		double v = s3(P, k);
		if (v > best) {
			best = v;
			kb = k;
		}
	}
	double q = e > 0 ? best / e : 0;
	int tonal = best >= FLOOR_POWER && q >= MIN_PURITY;
	uint64_t idx = d->frames++;
	d->e_ring[idx % E_RING] = (float)e;
	if (d->pending.valid) {
		double t = frame_time(idx);
		if (t > d->pending.deadline)
			settle(d);
		else if (t >= d->pending.after_lo) {
			d->pending.after_sum += e;
			d->pending.after_n++;
		}
	}
	if (d->run_active && !(tonal && same_bin(kb, d->run_bin)))
		close_run(d, s3_near(P, d->run_bin, d->k_tone_lo, d->k_tone_hi));
	if (!tonal)
		return;
	if (!d->run_active) {
		d->run_active = 1;
		d->run_bin = kb;
		d->run_first = idx;
		d->run_n = 0;
		d->run_pre = idx > 0 ? s3_near(d->prevP, kb, d->k_tone_lo, d->k_tone_hi) : 0;
	}
	if (d->run_n == MAX_RUN) {
		d->run_overflow = 1;
		return;
	}
	/* frequency of the peak, refined by a parabola through the log powers */
	double l0 = log(P[kb - 1] + 1e-20), l1 = log(P[kb] + 1e-20), l2 = log(P[kb + 1] + 1e-20);
	double den = l0 - 2 * l1 + l2, delta = den < 0 ? 0.5 * (l0 - l2) / den : 0;
	if (delta > 1 || delta < -1)
		delta = 0;
	d->run_p[d->run_n] = (float)s3_near(P, d->run_bin, d->k_tone_lo, d->k_tone_hi);
	d->run_q[d->run_n] = (float)q;
	d->run_hz[d->run_n] = (float)((kb + delta) * BIN_HZ);
	d->run_n++;
}

int aimark__rhythm_detector_feed(aimark__rhythm_detector *d, const float *x, size_t n)
{
	RETURN_IF(d == NULL || (x == NULL && n), AIMARK_EINVAL, "rhythm detector: bad arguments");
	d->samples += n;
	while (n > 0) {
		size_t m = N - d->fill;
		if (m > n)
			m = n;
		for (size_t i = 0; i < m; i++) {
			float v = x[i];
			d->buf[d->fill + i] = v == v ? v : 0.0f; /* NaN */
		}
		d->fill += m;
		x += m;
		n -= m;
		if (d->fill == N) {
			analyse_frame(d);
			memmove(d->buf, d->buf + HOP, (N - HOP) * sizeof(float));
			d->fill = N - HOP;
		}
	}
	return 0;
}

void aimark__rhythm_detector_finish(aimark__rhythm_detector *d, aimark__rhythm_detection *res)
{
	memset(res, 0, sizeof *res);
	if (d == NULL)
		return;
	/* half a window of silence after the end, so that the last samples are analysed */
	uint64_t fed = d->samples;
	static const float zeros[HALF + HOP];
	(void)aimark__rhythm_detector_feed(d, zeros, sizeof zeros / sizeof zeros[0]);
	d->samples = fed;
	if (d->run_active)
		close_run(d, 0.0);
	settle(d);
	res->duration_seconds = (double)fed / FS;
	if (!d->best.valid)
		return;
	res->detected = 1;
	res->start_seconds = d->best.on > 0 ? d->best.on : 0;
	res->end_seconds = d->best.off;
	res->score = d->best.score;
	res->pitch_hz = d->best.hz;
	res->unit_ms = d->best.unit * 1000.0;
	res->occurrences = d->occurrences;
}

/* ------------------------------------------------------------------ */
/* Interleaved input at any rate                                        */

typedef struct feeder {
	aimark__rhythm_detector *det;
	aimark__audio_resampler *rs;
	uint32_t channels;
	double w[AIMARK__AUDIO_MAX_CHANNELS];
	float *mono;
	size_t cap;
} feeder;

static int feeder_init(feeder *f, uint32_t channels, uint64_t mask, uint32_t rate)
{
	memset(f, 0, sizeof *f);
	RETURN_IF(channels < 1 || channels > AIMARK__AUDIO_MAX_CHANNELS || rate < AIMARK__AUDIO_MIN_RATE || rate > AIMARK__AUDIO_MAX_RATE,
		  AIMARK_EUNSUPPORTED, "rhythm detector: %u channels at %u Hz not supported", channels, rate);
	f->channels = channels;
	double ws = 0;
	for (uint32_t c = 0; c < channels; c++) {
		f->w[c] = aimark__audio_channel_weight(mask, channels, c) > 0 ? 1.0 : 0.0;
		ws += f->w[c];
	}
	for (uint32_t c = 0; c < channels; c++)
		f->w[c] = ws > 0 ? f->w[c] / ws : 1.0 / channels;
	RETURN_IF_ERR(aimark__rhythm_detector_new(&f->det));
	if (rate != AIMARK__DETECT_RATE)
		RETURN_IF_ERR(aimark__audio_resampler_new(&f->rs, 1, rate, AIMARK__DETECT_RATE));
	return 0;
}

/* x == NULL: flush. */
static int feeder_push(feeder *f, const float *x, size_t frames)
{
	if (x && frames > f->cap) {
		float *p = aimark__realloc(f->mono, frames * sizeof(float));
		RETURN_ENOMEM_IF_NULL(p);
		f->mono = p;
		f->cap = frames;
	}
	if (x)
		for (size_t i = 0; i < frames; i++) {
			double s = 0;
			for (uint32_t c = 0; c < f->channels; c++)
				s += f->w[c] * x[i * f->channels + c];
			f->mono[i] = (float)s;
		}
	if (f->rs == NULL)
		return x ? aimark__rhythm_detector_feed(f->det, f->mono, frames) : 0;
	const float *o = NULL;
	size_t n = 0;
	RETURN_IF_ERR(aimark__audio_resampler_run(f->rs, x ? f->mono : NULL, x ? frames : 0, &o, &n));
	return aimark__rhythm_detector_feed(f->det, o, n);
}

static void feeder_free(feeder *f)
{
	aimark__rhythm_detector_free(f->det);
	aimark__audio_resampler_free(f->rs);
	aimark__free(f->mono);
}

int aimark__rhythm_detect_pcm(const float *x, size_t frames, uint32_t channels, uint64_t mask, uint32_t rate,
			      aimark__rhythm_detection *res)
{
	RETURN_IF(res == NULL || (x == NULL && frames), AIMARK_EINVAL, "rhythm detector: bad arguments");
	memset(res, 0, sizeof *res);
	feeder f;
	int rc = feeder_init(&f, channels, mask, rate);
	for (size_t done = 0; rc == 0 && done < frames; done += 4096) {
		size_t m = frames - done > 4096 ? 4096 : frames - done;
		rc = feeder_push(&f, x + done * channels, m);
	}
	if (rc == 0)
		rc = feeder_push(&f, NULL, 0);
	if (rc == 0) {
		aimark__rhythm_detector_finish(f.det, res);
		res->duration_seconds = (double)frames / rate;
	}
	feeder_free(&f);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Files                                                               */

/* The nearest of start, middle and end to the label. */
static const char *position_name(const aimark__rhythm_detection *r)
{
	double to_start = r->start_seconds, to_end = r->duration_seconds - r->end_seconds;
	double to_middle = fabs((r->start_seconds + r->end_seconds) / 2.0 - r->duration_seconds / 2.0);
	if (to_start <= to_end && to_start <= to_middle)
		return "start";
	return to_end <= to_middle ? "end" : "middle";
}

static json_t *detection_json(const aimark__rhythm_detection *r)
{
	json_t *o = json_object();
	if (o == NULL)
		return NULL;
	int bad = json_object_set_new(o, "detected", json_boolean(r->detected));
	if (r->detected) {
		bad |= json_object_set_new(o, "kind", json_string("rhythm"));
		bad |= json_object_set_new(o, "position", json_string(position_name(r)));
		bad |= json_object_set_new(o, "start_seconds", json_real(round(r->start_seconds * 1000.0) / 1000.0));
		bad |= json_object_set_new(o, "score", json_real(round(r->score * 1000.0) / 1000.0));
		bad |= json_object_set_new(o, "pitch_hz", json_real(round(r->pitch_hz)));
		bad |= json_object_set_new(o, "unit_ms", json_real(round(r->unit_ms * 10.0) / 10.0));
		bad |= json_object_set_new(o, "occurrences", json_integer(r->occurrences));
	} else {
		bad |= json_object_set_new(o, "kind", json_null());
	}
	bad |= json_object_set_new(o, "duration_seconds", json_real(round(r->duration_seconds * 1000.0) / 1000.0));
	bad |= json_object_set_new(o, "method", json_string("rhythm short-long-short-short"));
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *error_json(const char *msg)
{
	json_t *o = json_object();
	if (o == NULL)
		return NULL;
	if (json_object_set_new(o, "detected", json_false()) || json_object_set_new(o, "kind", json_null()) ||
	    json_object_set_new(o, "error", json_string(msg))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

struct aimark__explicit_audio_scan {
	feeder f;
	uint64_t frames;
	uint32_t rate;
};

int aimark__explicit_audio_scan_new(aimark__explicit_audio_scan **out, uint32_t channels, uint64_t mask, uint32_t rate)
{
	RETURN_IF(out == NULL, AIMARK_EINVAL, "explicit audio label: no output");
	*out = NULL;
	aimark__explicit_audio_scan *s = aimark__calloc(1, sizeof *s);
	RETURN_ENOMEM_IF_NULL(s);
	s->rate = rate;
	int rc = feeder_init(&s->f, channels, mask, rate);
	if (rc < 0) {
		aimark__explicit_audio_scan_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

int aimark__explicit_audio_scan_push(aimark__explicit_audio_scan *s, const float *x, size_t frames)
{
	RETURN_IF(s == NULL || (x == NULL && frames), AIMARK_EINVAL, "explicit audio label: bad arguments");
	if (frames == 0)
		return 0;
	s->frames += frames;
	return feeder_push(&s->f, x, frames);
}

int aimark__explicit_audio_scan_finish(aimark__explicit_audio_scan *s, json_t **out)
{
	RETURN_IF(s == NULL || out == NULL, AIMARK_EINVAL, "explicit audio label: bad arguments");
	*out = NULL;
	RETURN_IF_ERR(feeder_push(&s->f, NULL, 0));
	aimark__rhythm_detection res;
	memset(&res, 0, sizeof res);
	aimark__rhythm_detector_finish(s->f.det, &res);
	res.duration_seconds = (double)s->frames / s->rate;
	*out = detection_json(&res);
	RETURN_IF(*out == NULL, AIMARK_ENOMEM, "out of memory");
	return 0;
}

void aimark__explicit_audio_scan_free(aimark__explicit_audio_scan *s)
{
	if (s == NULL)
		return;
	feeder_free(&s->f);
	aimark__free(s);
}

int aimark__explicit_audio_detect(const unsigned char *data, size_t len, const char *format, json_t **out)
{
	RETURN_IF(out == NULL, AIMARK_EINVAL, "explicit audio label: no output");
	*out = NULL;
	aimark__audio_reader *r = NULL;
	aimark__audio_info info;
	aimark__explicit_audio_scan *scan = NULL;
	float *buf = NULL;
	int rc = aimark__audio_reader_open(&r, data, len, format ? format : "", &info);
	if (rc == 0)
		rc = aimark__explicit_audio_scan_new(&scan, info.channels, info.channel_mask, info.sample_rate);
	if (rc == 0) {
		buf = aimark__malloc((size_t)4096 * info.channels * sizeof(float));
		if (buf == NULL)
			rc = aimark__error_set(AIMARK_ENOMEM, "out of memory");
	}
	while (rc == 0) {
		size_t got = 0;
		rc = aimark__audio_reader_read(r, buf, 4096, &got);
		if (rc < 0 || got == 0)
			break;
		rc = aimark__explicit_audio_scan_push(scan, buf, got);
	}
	if (rc == 0)
		rc = aimark__explicit_audio_scan_finish(scan, out);
	else
		*out = error_json(aimark_error_last());
	aimark__explicit_audio_scan_free(scan);
	aimark__free(buf);
	aimark__audio_reader_free(r);
	if (*out == NULL)
		return aimark__error_set(AIMARK_ENOMEM, "out of memory");
	return rc;
}

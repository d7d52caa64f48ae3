/*
 * Audible explicit labels: the options, the rhythm and voice renderers, the
 * loudness they are set to, and their insertion or mixing into a stream of
 * samples. Detection is in explicit_detect_audio.c. See explicit_audio.h.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "codec/audio_codec.h"
#include "core/internal.h"
#include "explicit_audio.h"
#include "explicit_text.h"

#ifdef AIMARK_HAVE_ESPEAK_NG
#include <espeak-ng/speak_lib.h>
#endif

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

#define CHUNK 4096
/* Longest input the two-pass labeller measures: 48 hours of 100 ms blocks. */
#define MAX_BLOCKS (48u * 3600u * 10u)

/* ------------------------------------------------------------------ */
/* Options                                                             */

int aimark__explicit_audio_plan_parse(const aimark_mark_options *o, aimark__explicit_audio_plan *plan)
{
	RETURN_IF(plan == NULL, AIMARK_EINVAL, "explicit audio label: no plan");
	memset(plan, 0, sizeof *plan);
	plan->rhythm = 1;
	plan->language = "zh";
	if (o == NULL)
		return 0;
	if (o->explicit_language != NULL) {
		RETURN_IF(strcmp(o->explicit_language, "zh") != 0 && strcmp(o->explicit_language, "en") != 0, AIMARK_EINVAL,
			  "explicit audio label: language \"%s\" is not supported (use \"zh\" or \"en\")", o->explicit_language);
		plan->language = o->explicit_language;
	}
	const char *def = strcmp(plan->language, "en") == 0 ? AIMARK__VOICE_TEXT_EN : AIMARK__VOICE_TEXT_ZH;
	const char *t = o->explicit_text;
	if (t == NULL || strcmp(t, "rhythm") == 0) {
		plan->text = def;
	} else if (strcmp(t, "voice") == 0) {
		plan->rhythm = 0;
		plan->voice = 1;
		plan->text = def;
	} else if (strcmp(t, "rhythm+voice") == 0) {
		plan->voice = 1;
		plan->text = def;
	} else {
		int rc = aimark__explicit_text_check(t, NULL);
		if (rc < 0) {
			aimark__error_prefix("explicit audio label: voice text (or use \"rhythm\", \"voice\", \"rhythm+voice\")");
			return rc;
		}
		plan->rhythm = 0;
		plan->voice = 1;
		plan->text = t;
	}
	const char *p = o->explicit_position;
	if (p == NULL)
		return 0;
	const char *colon = strchr(p, ':');
	size_t wl = colon ? (size_t)(colon - p) : strlen(p);
	if (wl == 5 && strncmp(p, "start", 5) == 0)
		plan->where = AIMARK__LABEL_AT_START;
	else if (wl == 3 && strncmp(p, "end", 3) == 0)
		plan->where = AIMARK__LABEL_AT_END;
	else if (wl == 6 && strncmp(p, "middle", 6) == 0)
		plan->where = AIMARK__LABEL_AT_MIDDLE;
	else
		return aimark__error_set(AIMARK_EINVAL,
					 "explicit audio label: position \"%s\" is not supported (use \"start\", \"end\" or "
					 "\"middle\", optionally with \":insert\" or \":overlay\")", p);
	if (colon) {
		if (strcmp(colon + 1, "overlay") == 0)
			plan->overlay = 1;
		else
			RETURN_IF(strcmp(colon + 1, "insert") != 0, AIMARK_EINVAL,
				  "explicit audio label: position mode \"%s\" is not supported (use \":insert\" or \":overlay\")",
				  colon + 1);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Rhythm                                                              */

/* Onset and length of each burst in units: Morse "A" (.-), a letter gap, "I" (..). */
static const double g_onset_units[4] = { 0, 2, 8, 10 };
static const double g_length_units[4] = { 1, 3, 1, 1 };
#define PATTERN_UNITS 11.0

static uint64_t ms_to_frames(double ms, uint32_t rate) { return (uint64_t)llround(ms * rate / 1000.0); }

uint64_t aimark__rhythm_layout(uint32_t rate, aimark__rhythm_burst bursts[4])
{
	for (int k = 0; k < 4; k++) {
		double on = g_onset_units[k] * AIMARK__RHYTHM_UNIT_MS;
		uint64_t a = ms_to_frames(on, rate);
		uint64_t b = ms_to_frames(on + g_length_units[k] * AIMARK__RHYTHM_UNIT_MS, rate);
		bursts[k].start = a;
		bursts[k].frames = b - a;
	}
	return ms_to_frames(PATTERN_UNITS * AIMARK__RHYTHM_UNIT_MS, rate);
}

int aimark__rhythm_render(uint32_t rate, double amplitude, float **out, size_t *frames)
{
	RETURN_IF(out == NULL || frames == NULL, AIMARK_EINVAL, "rhythm label: no output");
	*out = NULL;
	*frames = 0;
	RETURN_IF(rate < 4u * (uint32_t)AIMARK__RHYTHM_PITCH_HZ || rate > AIMARK__AUDIO_MAX_RATE, AIMARK_EUNSUPPORTED,
		  "rhythm label: a %u Hz sample rate cannot carry the %.0f Hz tone (needs %u Hz or more)", rate,
		  AIMARK__RHYTHM_PITCH_HZ, 4u * (uint32_t)AIMARK__RHYTHM_PITCH_HZ);
	RETURN_IF(!(amplitude >= 0.0 && amplitude <= 1.0), AIMARK_EINVAL, "rhythm label: amplitude %g outside 0..1", amplitude);
	aimark__rhythm_burst b[4];
	uint64_t n = aimark__rhythm_layout(rate, b);
	float *x = aimark__calloc((size_t)n, sizeof(float));
	RETURN_ENOMEM_IF_NULL(x);
	uint64_t ramp = ms_to_frames(AIMARK__RHYTHM_RAMP_MS, rate);
	double w = 2.0 * M_PI * AIMARK__RHYTHM_PITCH_HZ / rate;
	for (int k = 0; k < 4; k++) {
		uint64_t len = b[k].frames, r = ramp * 2 > len ? len / 2 : ramp;
		for (uint64_t i = 0; i < len; i++) {
			double g = 1.0;
			/* raised cosine over the first and last `r` samples; the burst's first and
			 * last samples are its first non-zero ones */
			if (i < r)
				g = 0.5 - 0.5 * cos(M_PI * (double)(i + 1) / (double)(r + 1));
			else if (i >= len - r)
				g = 0.5 - 0.5 * cos(M_PI * (double)(len - i) / (double)(r + 1));
			/* the phase restarts with each burst, so every burst is the same waveform */
			x[b[k].start + i] = (float)(amplitude * g * sin(w * (double)i + 0.25 * M_PI));
		}
	}
	*out = x;
	*frames = (size_t)n;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Loudness: BS.1770 K-weighting (shelf + high-pass) at any rate       */

typedef struct biquad {
	double b0, b1, b2, a1, a2;
} biquad;

typedef struct kfilter {
	biquad st[2];
	double z[AIMARK__AUDIO_MAX_CHANNELS][2][2];
} kfilter;

static void kfilter_init(kfilter *k, uint32_t rate)
{
	memset(k, 0, sizeof *k);
	/* stage 1: high shelf, +4 dB above about 1.7 kHz (head effects) */
	double f0 = 1681.974450955533, gain_db = 3.999843853973347, q = 0.7071752369554196;
	double K = tan(M_PI * f0 / rate);
	double vh = pow(10.0, gain_db / 20.0), vb = pow(vh, 0.4996667741545416);
	double a0 = 1.0 + K / q + K * K;
	k->st[0].b0 = (vh + vb * K / q + K * K) / a0;
	k->st[0].b1 = 2.0 * (K * K - vh) / a0;
	k->st[0].b2 = (vh - vb * K / q + K * K) / a0;
	k->st[0].a1 = 2.0 * (K * K - 1.0) / a0;
	k->st[0].a2 = (1.0 - K / q + K * K) / a0;
	/* stage 2: second-order high-pass at about 38 Hz */
	f0 = 38.13547087602444;
	q = 0.5003270373238773;
	K = tan(M_PI * f0 / rate);
	a0 = 1.0 + K / q + K * K;
	k->st[1].b0 = 1.0;
	k->st[1].b1 = -2.0;
	k->st[1].b2 = 1.0;
	k->st[1].a1 = 2.0 * (K * K - 1.0) / a0;
	k->st[1].a2 = (1.0 - K / q + K * K) / a0;
}

static inline double kfilter_step(kfilter *k, uint32_t c, double x)
{
	for (int s = 0; s < 2; s++) {
		const biquad *f = &k->st[s];
		double *z = k->z[c][s];
		double y = f->b0 * x + z[0];
		z[0] = f->b1 * x - f->a1 * y + z[1];
		z[1] = f->b2 * x - f->a2 * y;
		x = y;
	}
	return x;
}

/* |H(e^jw)|^2 of the K-weighting at `hz`. */
static double kfilter_power_gain(uint32_t rate, double hz)
{
	kfilter k;
	kfilter_init(&k, rate);
	double w = 2.0 * M_PI * hz / rate, g = 1.0;
	for (int s = 0; s < 2; s++) {
		const biquad *f = &k.st[s];
		/* H = (b0 + b1 z^-1 + b2 z^-2) / (1 + a1 z^-1 + a2 z^-2) */
		double nr = f->b0 + f->b1 * cos(w) + f->b2 * cos(2 * w), ni = -f->b1 * sin(w) - f->b2 * sin(2 * w);
		double dr = 1.0 + f->a1 * cos(w) + f->a2 * cos(2 * w), di = -f->a1 * sin(w) - f->a2 * sin(2 * w);
		g *= (nr * nr + ni * ni) / (dr * dr + di * di);
	}
	return g;
}

uint64_t aimark__audio_default_mask(uint32_t channels)
{
	switch (channels) {
	case 1: return 0x4;    /* C */
	case 2: return 0x3;    /* L R */
	case 3: return 0x7;    /* L R C */
	case 4: return 0x33;   /* L R Lb Rb */
	case 5: return 0x607;  /* L R C Ls Rs */
	case 6: return 0x60F;  /* L R C LFE Ls Rs */
	case 7: return 0x70F;  /* L R C LFE Cb Ls Rs */
	case 8: return 0x63F;  /* L R C LFE Lb Rb Ls Rs */
	default: return 0;
	}
}

double aimark__audio_channel_weight(uint64_t mask, uint32_t channels, uint32_t index)
{
	if (mask == 0 || (uint32_t)__builtin_popcountll(mask) != channels)
		mask = aimark__audio_default_mask(channels);
	uint32_t seen = 0;
	for (uint32_t b = 0; b < 64; b++) {
		if (!(mask & (UINT64_C(1) << b)))
			continue;
		if (seen++ == index) {
			uint64_t bit = UINT64_C(1) << b;
			if (bit == AIMARK__SPEAKER_LOW_FREQUENCY)
				return 0.0;
			if (bit & AIMARK__SPEAKER_SURROUND_MASK)
				return 1.41;
			return 1.0;
		}
	}
	return 1.0;
}

/* Weighted mean squares of 100 ms blocks, filled while streaming. */
typedef struct loud_acc {
	kfilter kf;
	uint32_t channels;
	double w[AIMARK__AUDIO_MAX_CHANNELS];
	size_t block_len, in_block;
	double sum;
	float *blocks;
	size_t n_blocks, cap;
} loud_acc;

static void loud_init(loud_acc *a, uint32_t channels, uint64_t mask, uint32_t rate)
{
	memset(a, 0, sizeof *a);
	kfilter_init(&a->kf, rate);
	a->channels = channels;
	for (uint32_t c = 0; c < channels; c++)
		a->w[c] = aimark__audio_channel_weight(mask, channels, c);
	a->block_len = rate / 10 ? rate / 10 : 1;
}

static int loud_feed(loud_acc *a, const float *x, size_t frames)
{
	for (size_t i = 0; i < frames; i++) {
		for (uint32_t c = 0; c < a->channels; c++) {
			double y = kfilter_step(&a->kf, c, x[i * a->channels + c]);
			a->sum += a->w[c] * y * y;
		}
		if (++a->in_block == a->block_len) {
			if (a->n_blocks == a->cap) {
				RETURN_IF(a->cap >= MAX_BLOCKS, AIMARK_ELIMIT, "explicit audio label: input longer than 48 hours");
				size_t ncap = a->cap ? a->cap * 2 : 256;
				float *p = aimark__realloc(a->blocks, ncap * sizeof(float));
				RETURN_ENOMEM_IF_NULL(p);
				a->blocks = p;
				a->cap = ncap;
			}
			a->blocks[a->n_blocks++] = (float)(a->sum / (double)a->block_len);
			a->sum = 0.0;
			a->in_block = 0;
		}
	}
	return 0;
}

static double ms_to_lufs(double ms) { return ms > 0.0 ? -0.691 + 10.0 * log10(ms) : -HUGE_VAL; }

/*
 * Gated loudness of blocks [b0, b1): 400 ms windows (four blocks, 75 %
 * overlap), absolute gate -70 LUFS, relative gate -10 LU. With fewer than
 * four blocks the plain mean is used (`tail` adds the unfinished block).
 */
static double loud_gated(const loud_acc *a, size_t b0, size_t b1, int tail)
{
	if (b1 > a->n_blocks)
		b1 = a->n_blocks;
	if (b0 >= b1 || b1 - b0 < 4) {
		double s = 0.0, n = 0.0;
		for (size_t b = b0; b < b1; b++) {
			s += a->blocks[b] * (double)a->block_len;
			n += (double)a->block_len;
		}
		if (tail && a->in_block) {
			s += a->sum;
			n += (double)a->in_block;
		}
		double l = n > 0 ? ms_to_lufs(s / n) : -HUGE_VAL;
		return l < -70.0 ? -HUGE_VAL : l;
	}
	double sum = 0.0;
	size_t cnt = 0;
	for (size_t j = b0; j + 4 <= b1; j++) {
		double z = (a->blocks[j] + a->blocks[j + 1] + a->blocks[j + 2] + a->blocks[j + 3]) / 4.0;
		if (ms_to_lufs(z) > -70.0) {
			sum += z;
			cnt++;
		}
	}
	if (cnt == 0)
		return -HUGE_VAL;
	double rel = ms_to_lufs(sum / (double)cnt) - 10.0;
	sum = 0.0;
	cnt = 0;
	for (size_t j = b0; j + 4 <= b1; j++) {
		double z = (a->blocks[j] + a->blocks[j + 1] + a->blocks[j + 2] + a->blocks[j + 3]) / 4.0;
		double l = ms_to_lufs(z);
		if (l > -70.0 && l > rel) {
			sum += z;
			cnt++;
		}
	}
	return cnt ? ms_to_lufs(sum / (double)cnt) : -HUGE_VAL;
}

double aimark__audio_loudness(const float *x, size_t frames, uint32_t channels, uint64_t mask, uint32_t rate)
{
	if (x == NULL || frames == 0 || channels < 1 || channels > AIMARK__AUDIO_MAX_CHANNELS || rate < AIMARK__AUDIO_MIN_RATE)
		return -HUGE_VAL;
	loud_acc a;
	loud_init(&a, channels, mask, rate);
	double l = -HUGE_VAL;
	if (loud_feed(&a, x, frames) == 0)
		l = loud_gated(&a, 0, a.n_blocks, 1);
	aimark__free(a.blocks);
	return l;
}

double aimark__tone_amplitude(double lufs, double hz, uint32_t rate, double weight_sum)
{
	if (weight_sum <= 0.0)
		weight_sum = 1.0;
	/* a sine of amplitude A has mean square A^2/2 before weighting */
	double ms = pow(10.0, (lufs + 0.691) / 10.0);
	return sqrt(2.0 * ms / (weight_sum * kfilter_power_gain(rate, hz)));
}

/* ------------------------------------------------------------------ */
/* Voice (espeak-ng)                                                   */

#ifdef AIMARK_HAVE_ESPEAK_NG

static pthread_mutex_t g_espeak_lock = PTHREAD_MUTEX_INITIALIZER;
static int g_espeak_rate; /* 0 not initialised, < 0 failed, else the synthesis rate */

typedef struct voice_pcm {
	int16_t *s;
	size_t n, cap, max;
	int failed;
} voice_pcm;

static int voice_cb(short *wav, int num, espeak_EVENT *ev)
{
	voice_pcm *v = ev ? ev->user_data : NULL;
	if (v == NULL || wav == NULL || num <= 0)
		return 0;
	if (v->n + (size_t)num > v->max) {
		v->failed = 1;
		return 1; /* stop: longer than any label */
	}
	if (v->n + (size_t)num > v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 65536;
		while (cap < v->n + (size_t)num)
			cap *= 2;
		int16_t *p = aimark__realloc(v->s, cap * sizeof(int16_t));
		if (p == NULL) {
			v->failed = 1;
			return 1;
		}
		v->s = p;
		v->cap = cap;
	}
	memcpy(v->s + v->n, wav, (size_t)num * sizeof(int16_t));
	v->n += (size_t)num;
	return 0;
}

/* Called with the lock held. */
static int espeak_setup(void)
{
	if (g_espeak_rate == 0) {
		int r = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, NULL, espeakINITIALIZE_DONT_EXIT);
		g_espeak_rate = r > 0 ? r : -1;
		if (r > 0)
			espeak_SetSynthCallback(voice_cb);
	}
	return g_espeak_rate;
}

/* Synthesises with the lock held; trims silence. */
static int espeak_say(const char *text, int wpm, voice_pcm *v, size_t *first, size_t *last)
{
	v->n = 0;
	v->failed = 0;
	RETURN_IF(espeak_SetParameter(espeakRATE, wpm, 0) != EE_OK, AIMARK_EUNSUPPORTED, "voice label: espeak-ng refused rate %d", wpm);
	espeak_ERROR e = espeak_Synth(text, strlen(text) + 1, 0, POS_CHARACTER, 0, espeakCHARS_UTF8, NULL, v);
	RETURN_IF(e != EE_OK, AIMARK_EUNSUPPORTED, "voice label: espeak-ng synthesis failed (error %d)", (int)e);
	RETURN_IF(v->failed && v->n >= v->max, AIMARK_EINVAL, "voice label: the text takes longer than %.0f s to say",
		  AIMARK__VOICE_MAX_S);
	RETURN_IF(v->failed, AIMARK_ENOMEM, "out of memory");
	int peak = 0;
	for (size_t i = 0; i < v->n; i++)
		peak = abs(v->s[i]) > peak ? abs(v->s[i]) : peak;
	RETURN_IF(peak == 0, AIMARK_EUNSUPPORTED, "voice label: espeak-ng produced silence for the text");
	int th = peak / 100; /* -40 dB */
	size_t a = 0, b = v->n;
	while (a < b && abs(v->s[a]) <= th)
		a++;
	while (b > a && abs(v->s[b - 1]) <= th)
		b--;
	*first = a;
	*last = b;
	return 0;
}

/* Characters (zh) or words (en) that set the speaking rate. */
static double speech_units(const char *text, int words)
{
	size_t len = strlen(text), pos = 0;
	double n = 0;
	int in_word = 0;
	while (pos < len) {
		uint32_t cp;
		if (aimark__explicit_text_next(text, len, &pos, &cp) != 0) {
			pos++;
			continue;
		}
		int alnum = (cp >= '0' && cp <= '9') || (cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z');
		int han = (cp >= 0x3400 && cp <= 0x9FFF) || (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x20000 && cp <= 0x2FFFF);
		if (words) {
			if ((alnum || han || cp == '\'') && !in_word)
				n++;
			in_word = alnum || han || cp == '\'';
		} else if (alnum || han) {
			n++;
		}
	}
	return n;
}

int aimark__explicit_voice_available(void) { return 1; }

int aimark__explicit_voice_render(const char *text, const char *language, uint32_t rate, float **out, size_t *frames,
				  double *cpm)
{
	RETURN_IF(out == NULL || frames == NULL || text == NULL, AIMARK_EINVAL, "voice label: no text or output");
	*out = NULL;
	*frames = 0;
	if (language == NULL)
		language = "zh";
	RETURN_IF(strcmp(language, "zh") != 0 && strcmp(language, "en") != 0, AIMARK_EINVAL,
		  "voice label: language \"%s\" is not supported (use \"zh\" or \"en\")", language);
	RETURN_IF(rate < 8000 || rate > AIMARK__AUDIO_MAX_RATE, AIMARK_EUNSUPPORTED, "voice label: %u Hz is below 8000 Hz", rate);
	RETURN_IF(strlen(text) > AIMARK__EXPLICIT_TEXT_MAX, AIMARK_EINVAL, "voice label: text longer than %d bytes",
		  AIMARK__EXPLICIT_TEXT_MAX);
	int en = strcmp(language, "en") == 0;
	double units = speech_units(text, en);
	RETURN_IF(units < 1, AIMARK_EINVAL, "voice label: the text has nothing to say");
	double target = en ? AIMARK__VOICE_EN_WPM : AIMARK__VOICE_ZH_CPM;

	voice_pcm v = { NULL, 0, 0, 0, 0 };
	size_t first = 0, last = 0;
	int srate = 0, rc = 0;
	double measured = 0;
	pthread_mutex_lock(&g_espeak_lock);
	srate = espeak_setup();
	if (srate <= 0) {
		rc = aimark__error_set(AIMARK_EUNSUPPORTED, "voice label: espeak-ng could not start (is espeak-ng-data installed?)");
	} else if (espeak_SetVoiceByName(en ? "en" : "cmn") != EE_OK) {
		rc = aimark__error_set(AIMARK_EUNSUPPORTED, "voice label: espeak-ng has no %s voice", en ? "English" : "Mandarin");
	} else {
		v.max = (size_t)(AIMARK__VOICE_MAX_S * srate);
		/* espeak's rate is nominal words per minute; measure and correct (at most 4 tries) */
		int wpm = en ? 140 : 160;
		for (int attempt = 0; attempt < 4; attempt++) {
			rc = espeak_say(text, wpm, &v, &first, &last);
			if (rc < 0)
				break;
			measured = units * 60.0 * srate / (double)(last - first);
			if (fabs(measured - target) <= 6.0)
				break;
			int next = (int)lround(wpm * target / measured);
			next = next < espeakRATE_MINIMUM ? espeakRATE_MINIMUM : next > espeakRATE_MAXIMUM ? espeakRATE_MAXIMUM : next;
			if (next == wpm)
				break;
			wpm = next;
		}
	}
	pthread_mutex_unlock(&g_espeak_lock);
	if (rc < 0) {
		aimark__free(v.s);
		return rc;
	}
	/* to float at the synthesis rate, then to `rate` */
	size_t n = last - first;
	float *x = aimark__malloc(n * sizeof(float));
	if (x == NULL) {
		aimark__free(v.s);
		return aimark__error_set(AIMARK_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++)
		x[i] = (float)(v.s[first + i] / 32768.0);
	aimark__free(v.s);
	float *y = x;
	size_t ny = n;
	if ((uint32_t)srate != rate) {
		aimark__audio_resampler *rs = NULL;
		rc = aimark__audio_resampler_new(&rs, 1, (uint32_t)srate, rate);
		const float *o1 = NULL, *o2 = NULL;
		size_t n1 = 0, n2 = 0;
		if (rc == 0)
			rc = aimark__audio_resampler_run(rs, x, n, &o1, &n1);
		y = NULL;
		if (rc == 0) {
			y = aimark__malloc((n1 + 1) * sizeof(float));
			if (y == NULL)
				rc = aimark__error_set(AIMARK_ENOMEM, "out of memory");
			else
				memcpy(y, o1, n1 * sizeof(float));
		}
		if (rc == 0)
			rc = aimark__audio_resampler_run(rs, NULL, 0, &o2, &n2);
		if (rc == 0 && n2) {
			float *p = aimark__realloc(y, (n1 + n2) * sizeof(float));
			if (p == NULL)
				rc = aimark__error_set(AIMARK_ENOMEM, "out of memory");
			else {
				y = p;
				memcpy(y + n1, o2, n2 * sizeof(float));
			}
		}
		ny = n1 + n2;
		aimark__audio_resampler_free(rs);
		aimark__free(x);
		if (rc < 0) {
			aimark__free(y);
			return rc;
		}
	}
	float peak = 0;
	for (size_t i = 0; i < ny; i++)
		peak = fabsf(y[i]) > peak ? fabsf(y[i]) : peak;
	if (peak > 0)
		for (size_t i = 0; i < ny; i++)
			y[i] *= 0.5f / peak;
	*out = y;
	*frames = ny;
	if (cpm)
		*cpm = measured;
	return 0;
}

#else

int aimark__explicit_voice_available(void) { return 0; }

int aimark__explicit_voice_render(const char *text, const char *language, uint32_t rate, float **out, size_t *frames,
				  double *cpm)
{
	if (out)
		*out = NULL;
	if (frames)
		*frames = 0;
	return aimark__error_set(AIMARK_EUNSUPPORTED,
				 "voice label: this build of aimark has no speech synthesiser (espeak-ng); use the rhythm label");
}

#endif

/* ------------------------------------------------------------------ */
/* The label as mono samples at the level for the content              */

typedef struct label_pcm {
	float *x;
	size_t n;
	size_t voice_at;  /* where the voice starts (n when none) */
	double tone_amp;
} label_pcm;

static int label_build(const aimark__explicit_audio_plan *plan, uint32_t rate, double target, double wsum, label_pcm *lab)
{
	memset(lab, 0, sizeof *lab);
	float *tone = NULL, *voice = NULL;
	size_t nt = 0, nv = 0;
	if (plan->rhythm) {
		lab->tone_amp = aimark__tone_amplitude(target, AIMARK__RHYTHM_PITCH_HZ, rate, wsum);
		if (lab->tone_amp > AIMARK__LABEL_TONE_PEAK)
			lab->tone_amp = AIMARK__LABEL_TONE_PEAK;
		RETURN_IF_ERR(aimark__rhythm_render(rate, lab->tone_amp, &tone, &nt));
	}
	if (plan->voice) {
		int rc = aimark__explicit_voice_render(plan->text, plan->language, rate, &voice, &nv, NULL);
		if (rc < 0) {
			aimark__free(tone);
			return rc;
		}
		/* the same loudness as the rhythm: measured as mono, then spread over the channels */
		double lv = aimark__audio_loudness(voice, nv, 1, 0x4, rate);
		double g = isfinite(lv) ? pow(10.0, (target - 10.0 * log10(wsum > 0 ? wsum : 1.0) - lv) / 20.0) : 1.0;
		float peak = 0;
		for (size_t i = 0; i < nv; i++)
			peak = fabsf(voice[i]) > peak ? fabsf(voice[i]) : peak;
		if (peak * g > AIMARK__LABEL_VOICE_PEAK)
			g = AIMARK__LABEL_VOICE_PEAK / peak;
		for (size_t i = 0; i < nv; i++)
			voice[i] = (float)(voice[i] * g);
	}
	size_t gap = (tone && voice) ? (size_t)ms_to_frames(AIMARK__LABEL_VOICE_GAP_MS, rate) : 0;
	lab->n = nt + gap + nv;
	lab->x = aimark__calloc(lab->n ? lab->n : 1, sizeof(float));
	if (lab->x == NULL) {
		aimark__free(tone);
		aimark__free(voice);
		return aimark__error_set(AIMARK_ENOMEM, "out of memory");
	}
	if (nt)
		memcpy(lab->x, tone, nt * sizeof(float));
	if (nv)
		memcpy(lab->x + nt + gap, voice, nv * sizeof(float));
	lab->voice_at = nv ? nt + gap : lab->n;
	aimark__free(tone);
	aimark__free(voice);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Two-pass streaming                                                  */

typedef struct stream_state {
	const aimark__sample_source *src;
	aimark__sample_sink sink;
	void *sink_ctx;
	uint32_t ch;
	double w[AIMARK__AUDIO_MAX_CHANNELS];
	float *buf;   /* CHUNK frames */
} stream_state;

/* Writes frames [from, to) of the mono label `x` into all weighted channels, `lead`/`tail` frames of silence around. */
static int write_label(stream_state *s, const float *x, size_t n, size_t lead, size_t tail)
{
	size_t total = lead + n + tail, done = 0;
	while (done < total) {
		size_t m = total - done > CHUNK ? CHUNK : total - done;
		for (size_t i = 0; i < m; i++) {
			size_t j = done + i;
			float v = (j >= lead && j < lead + n) ? x[j - lead] : 0.0f;
			for (uint32_t c = 0; c < s->ch; c++)
				s->buf[i * s->ch + c] = s->w[c] > 0 ? v : 0.0f;
		}
		RETURN_IF_ERR(s->sink(s->sink_ctx, s->buf, m));
		done += m;
	}
	return 0;
}

/* The content gain under an overlaid label: 1 outside, DUCK inside, raised-cosine ramps. */
static double duck_gain(uint64_t j, uint64_t span, uint64_t ramp, double duck)
{
	double t = 1.0;
	if (j < ramp)
		t = 0.5 - 0.5 * cos(M_PI * (double)(j + 1) / (double)(ramp + 1));
	else if (j >= span - ramp)
		t = 0.5 - 0.5 * cos(M_PI * (double)(span - j) / (double)(ramp + 1));
	return 1.0 + (duck - 1.0) * t;
}

int aimark__explicit_audio_stream(const aimark__sample_source *src, const aimark__explicit_audio_plan *plan,
				  aimark__sample_sink sink, void *sink_ctx, aimark__explicit_audio_placement *placement)
{
	RETURN_IF(src == NULL || plan == NULL || sink == NULL || src->read == NULL || src->rewind == NULL, AIMARK_EINVAL,
		  "explicit audio label: bad stream arguments");
	RETURN_IF(src->channels < 1 || src->channels > AIMARK__AUDIO_MAX_CHANNELS || src->sample_rate < AIMARK__AUDIO_MIN_RATE ||
		  src->sample_rate > AIMARK__AUDIO_MAX_RATE,
		  AIMARK_EUNSUPPORTED, "explicit audio label: %u channels at %u Hz not supported", src->channels, src->sample_rate);
	RETURN_IF(plan->voice && !aimark__explicit_voice_available(), AIMARK_EUNSUPPORTED,
		  "explicit audio label: this build of aimark has no speech synthesiser (espeak-ng); use the rhythm label");
	uint32_t ch = src->channels, rate = src->sample_rate;
	stream_state s;
	memset(&s, 0, sizeof s);
	s.src = src;
	s.sink = sink;
	s.sink_ctx = sink_ctx;
	s.ch = ch;
	double wsum = 0.0;
	for (uint32_t c = 0; c < ch; c++) {
		s.w[c] = aimark__audio_channel_weight(src->channel_mask, ch, c);
		wsum += s.w[c];
	}
	s.buf = aimark__malloc((size_t)CHUNK * ch * sizeof(float));
	RETURN_ENOMEM_IF_NULL(s.buf);

	/* pass 1: length and loudness of every 100 ms */
	loud_acc acc;
	loud_init(&acc, ch, src->channel_mask, rate);
	label_pcm lab = { NULL, 0, 0, 0.0 };
	uint64_t total = 0;
	int rc = 0;
	for (;;) {
		size_t got = 0;
		rc = src->read(src->ctx, s.buf, CHUNK, &got);
		if (rc < 0 || got == 0)
			break;
		rc = loud_feed(&acc, s.buf, got);
		if (rc < 0)
			break;
		total += got;
	}
	if (rc < 0)
		goto done;

	/* where, and how loud */
	size_t bl = acc.block_len, nb = acc.n_blocks, ctx_blocks = (size_t)(AIMARK__LABEL_CONTEXT_S * 10.0);
	uint64_t pad = ms_to_frames(AIMARK__LABEL_PAD_MS, rate), margin = ms_to_frames(AIMARK__LABEL_OVERLAY_MARGIN_MS, rate);
	uint64_t point = 0; /* insertion point, or first content frame under the overlay */
	size_t c0 = 0, c1 = nb;
	if (plan->where == AIMARK__LABEL_AT_START) {
		c1 = nb < ctx_blocks ? nb : ctx_blocks;
	} else if (plan->where == AIMARK__LABEL_AT_END) {
		point = total;
		c0 = nb > ctx_blocks ? nb - ctx_blocks : 0;
	} else {
		point = total / 2;
		if (!plan->overlay && nb > 0) {
			/* insert in the quietest 100 ms near the midpoint so that no word is cut */
			uint64_t reach = (uint64_t)(AIMARK__LABEL_MIDDLE_SEARCH_S * rate);
			if (reach > total / 10)
				reach = total / 10;
			size_t lo = (size_t)((point > reach ? point - reach : 0) / bl), hi = (size_t)((point + reach) / bl);
			if (hi >= nb)
				hi = nb - 1;
			size_t best = (size_t)(point / bl) < nb ? (size_t)(point / bl) : nb - 1;
			for (size_t b = lo; b <= hi; b++)
				if (acc.blocks[b] < acc.blocks[best])
					best = b;
			point = (uint64_t)best * bl + bl / 2;
			if (point > total)
				point = total;
		}
		size_t mb = (size_t)(point / bl);
		c0 = mb > ctx_blocks / 2 ? mb - ctx_blocks / 2 : 0;
		c1 = mb + ctx_blocks / 2;
	}
	double content = loud_gated(&acc, c0, c1, plan->where == AIMARK__LABEL_AT_END || c1 >= nb);
	double target = isfinite(content) ? content + AIMARK__LABEL_OFFSET_LU : AIMARK__LABEL_MIN_LUFS;
	target = target < AIMARK__LABEL_MIN_LUFS ? AIMARK__LABEL_MIN_LUFS : target > AIMARK__LABEL_MAX_LUFS ? AIMARK__LABEL_MAX_LUFS : target;
	rc = label_build(plan, rate, target, wsum, &lab);
	if (rc < 0)
		goto done;

	uint64_t span = plan->overlay ? lab.n + 2 * margin : lab.n + 2 * pad;
	if (plan->overlay) {
		if (plan->where == AIMARK__LABEL_AT_END)
			point = total > span ? total - span : 0;
		else if (plan->where == AIMARK__LABEL_AT_MIDDLE)
			point = point > span / 2 ? point - span / 2 : 0;
	}
	if (placement) {
		placement->label_start = point;
		placement->label_frames = span;
		placement->pattern_start = point + (plan->overlay ? margin : pad);
		placement->content_frames = total;
		placement->content_lufs = content;
		placement->label_lufs = target;
		placement->tone_amplitude = plan->rhythm ? lab.tone_amp : 0.0;
	}

	/* pass 2: copy with the label */
	rc = src->rewind(src->ctx);
	if (rc < 0)
		goto done;
	uint64_t pos = 0, ramp = ms_to_frames(AIMARK__LABEL_DUCK_RAMP_MS, rate);
	double duck = pow(10.0, AIMARK__LABEL_DUCK_DB / 20.0);
	if (ramp * 2 > span)
		ramp = span / 2;
	int inserted = 0;
	for (;;) {
		size_t got = 0;
		if (!plan->overlay && !inserted && pos == point) {
			rc = write_label(&s, lab.x, lab.n, (size_t)pad, (size_t)pad);
			if (rc < 0)
				break;
			inserted = 1;
		}
		size_t want = CHUNK;
		if (!plan->overlay && !inserted && point - pos < want)
			want = (size_t)(point - pos);
		rc = src->read(src->ctx, s.buf, want, &got);
		if (rc < 0 || got == 0)
			break;
		if (plan->overlay) {
			for (size_t i = 0; i < got; i++) {
				uint64_t p = pos + i;
				if (p < point || p >= point + span)
					continue;
				uint64_t j = p - point;
				double g = duck_gain(j, span, ramp, duck);
				float v = (j >= margin && j - margin < lab.n) ? lab.x[j - margin] : 0.0f;
				for (uint32_t c = 0; c < ch; c++) {
					float *y = &s.buf[i * ch + c];
					*y = (float)(*y * g) + (s.w[c] > 0 ? v : 0.0f);
					*y = *y > 1.0f ? 1.0f : *y < -1.0f ? -1.0f : *y;
				}
			}
		}
		rc = sink(sink_ctx, s.buf, got);
		if (rc < 0)
			break;
		pos += got;
	}
	if (rc < 0)
		goto done;
	if (pos != total) {
		rc = aimark__error_set(AIMARK_EFORMAT, "explicit audio label: the second decoding gave %llu frames, the first %llu",
				       (unsigned long long)pos, (unsigned long long)total);
		goto done;
	}
	if (!plan->overlay && !inserted)
		rc = write_label(&s, lab.x, lab.n, (size_t)pad, (size_t)pad);
	else if (plan->overlay && point + span > total) {
		/* content shorter than the label: the rest of the span follows it */
		uint64_t from = total - point, rest = span - from;
		uint64_t lead = from < margin ? margin - from : 0, first = from > margin ? from - margin : 0;
		uint64_t count = first < lab.n ? lab.n - first : 0;
		rc = write_label(&s, lab.x + (first < lab.n ? first : 0), (size_t)count, (size_t)lead, (size_t)(rest - lead - count));
	}
done:
	aimark__free(acc.blocks);
	aimark__free(lab.x);
	aimark__free(s.buf);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Files                                                               */

typedef struct file_source {
	const unsigned char *data;
	size_t len;
	const char *format;
	aimark__audio_reader *r;
} file_source;

static int file_read(void *ctx, float *buf, size_t max, size_t *got)
{
	file_source *f = ctx;
	return aimark__audio_reader_read(f->r, buf, max, got);
}

static int file_rewind(void *ctx)
{
	file_source *f = ctx;
	aimark__audio_reader_free(f->r);
	f->r = NULL;
	return aimark__audio_reader_open(&f->r, f->data, f->len, f->format, NULL);
}

static int writer_sink(void *ctx, const float *x, size_t n) { return aimark__audio_writer_write(ctx, x, n); }

int aimark__explicit_audio_apply(const unsigned char *data, size_t len, const char *format,
				 const aimark_mark_options *o, aimark_buf *out)
{
	RETURN_IF(out == NULL || format == NULL, AIMARK_EINVAL, "explicit audio label: no format or output");
	aimark__explicit_audio_plan plan;
	RETURN_IF_ERR(aimark__explicit_audio_plan_parse(o, &plan));
	RETURN_IF(plan.voice && !aimark__explicit_voice_available(), AIMARK_EUNSUPPORTED,
		  "explicit audio label: this build of aimark has no speech synthesiser (espeak-ng); use the rhythm label");
	file_source fs = { data, len, format, NULL };
	aimark__audio_info info;
	RETURN_IF_ERR(aimark__audio_reader_open(&fs.r, data, len, format, &info));
	size_t base = out->size;
	int rc = 0;
	for (int attempt = 0;; attempt++) {
		aimark__audio_writer *w = NULL;
		rc = attempt ? file_rewind(&fs) : 0;
		if (rc == 0)
			rc = aimark__audio_writer_open(&w, &info, data, len, out);
		if (rc == 0) {
			aimark__sample_source src = { file_read, file_rewind, &fs, info.channels, info.sample_rate, info.channel_mask };
			rc = aimark__explicit_audio_stream(&src, &plan, writer_sink, w, NULL);
		}
		if (rc == 0)
			rc = aimark__audio_writer_finish(w);
		aimark__audio_writer_free(w);
		/* an average-rate encoder that stayed under the input's bit rate: again, with more bits */
		if (rc < 0 || attempt == 2 || !aimark__audio_retry_bit_rate(&info, out->ptr + base, out->size - base))
			break;
		out->size = base;
		out->ptr[base] = '\0';
	}
	aimark__audio_reader_free(fs.r);
	return rc;
}

/* Collects the labelled frames in memory. */
typedef struct pcm_sink {
	aimark__audio *pcm;
	size_t cap;
} pcm_sink;

static int pcm_append(void *ctx, const float *x, size_t n)
{
	pcm_sink *s = ctx;
	aimark__audio *a = s->pcm;
	size_t need;
	RETURN_IF(aimark__add_size(a->frames, n, &need) != 0 || (uint64_t)need * a->channels > AIMARK__AUDIO_MAX_SAMPLES,
		  AIMARK_ELIMIT, "explicit audio label: more than %llu samples to keep decoded",
		  (unsigned long long)AIMARK__AUDIO_MAX_SAMPLES);
	if (need > s->cap) {
		size_t cap = s->cap ? s->cap : 65536;
		while (cap < need)
			cap *= 2;
		if ((uint64_t)cap * a->channels > AIMARK__AUDIO_MAX_SAMPLES)
			cap = (size_t)(AIMARK__AUDIO_MAX_SAMPLES / a->channels);
		float *p = aimark__realloc(a->samples, cap * a->channels * sizeof(float));
		RETURN_ENOMEM_IF_NULL(p);
		a->samples = p;
		s->cap = cap;
	}
	memcpy(a->samples + a->frames * a->channels, x, n * a->channels * sizeof(float));
	a->frames = need;
	return 0;
}

int aimark__explicit_audio_apply_decoded(const unsigned char *data, size_t len, const char *format,
					 const aimark_mark_options *o, aimark__audio *pcm, aimark__audio_info *info)
{
	RETURN_IF(pcm == NULL || info == NULL || format == NULL, AIMARK_EINVAL, "explicit audio label: no format or output");
	memset(pcm, 0, sizeof *pcm);
	aimark__explicit_audio_plan plan;
	RETURN_IF_ERR(aimark__explicit_audio_plan_parse(o, &plan));
	file_source fs = { data, len, format, NULL };
	RETURN_IF_ERR(aimark__audio_reader_open(&fs.r, data, len, format, info));
	pcm->channels = info->channels;
	pcm->sample_rate = info->sample_rate;
	pcm_sink sink = { pcm, 0 };
	aimark__sample_source src = { file_read, file_rewind, &fs, info->channels, info->sample_rate, info->channel_mask };
	int rc = aimark__explicit_audio_stream(&src, &plan, pcm_append, &sink, NULL);
	aimark__audio_reader_free(fs.r);
	if (rc < 0) {
		aimark__audio_dispose(pcm);
		return rc;
	}
	info->frames = pcm->frames;
	return 0;
}

/*
 * Image watermark benchmark.
 *
 *   bench_wm_image robust  OUT.md PHOTO...   attacks x photos: exact-payload rate, bit errors, PSNR
 *   bench_wm_image false   N_KEYS PHOTO...   unmarked photos x attacks x keys: false detections
 *   bench_wm_image speed   PHOTO             embed / detect time and memory at 1, 12, 48 MP
 *                                            against libjpeg-turbo decode + encode in the same run
 *
 * Test images: every photo gives the whole photo scaled to a 1280-pixel long
 * side and a 1024x768 crop at native resolution (WM_SET=main, the default),
 * or a 640x480 crop at native resolution (WM_SET=small), or all three (all).
 * Environment: WM_ATTACKS=substring filter, WM_MAX_IMAGES=n, WM_STRENGTH=s,
 * WM_EMBED=jpeg (mark through the JPEG coefficient path: each test image is
 * first stored as JPEG quality 90, which is then the reference for PSNR/SSIM),
 * WM_DETECT=jpegfile (store each attacked image as JPEG 95 and detect it both
 * through a full decode and through the luma-only JPEG path, counting
 * disagreements), WM_SIZES=1,12,48 (speed: the sizes to run).
 */
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aimark/aimark.h"
#include "bench_util.h"
#include "aimark/watermark.h"
#include "codec/image_codec.h"
#include "core/internal.h"
#include "wm/wm_image.h"

/* The attack implementations are compiled into this program (bench/ builds one file per benchmark). */
#include "attacks_image.c"

static const char *format_of(const unsigned char *p, size_t n)
{
	if (n > 3 && p[0] == 0xFF && p[1] == 0xD8)
		return "jpeg";
	if (n > 8 && memcmp(p, "\x89PNG", 4) == 0)
		return "png";
	if (n > 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WEBP", 4) == 0)
		return "webp";
	return NULL;
}

static int load_rgb(const char *path, aimark__image *img)
{
	size_t n = 0;
	unsigned char *p = bench_read_file(path, &n);
	if (!p)
		return -1;
	const char *fmt = format_of(p, n);
	aimark__image raw;
	int rc = fmt ? aimark__image_decode(p, n, fmt, &raw, NULL) : -1;
	free(p);
	if (rc)
		return -1;
	if (raw.channels == 3 && raw.bit_depth == 8) {
		*img = raw;
		return 0;
	}
	/* to 8-bit RGB */
	rc = aimark__image_alloc(img, raw.width, raw.height, 3, 8);
	for (uint32_t y = 0; rc == 0 && y < raw.height; y++)
		for (uint32_t x = 0; x < raw.width; x++)
			for (int k = 0; k < 3; k++) {
				uint32_t c = raw.channels >= 3 ? (uint32_t)k : 0;
				unsigned v = raw.bit_depth == 8 ? raw.pixels[y * raw.stride + x * raw.channels + c]
								: ((uint16_t *)(void *)(raw.pixels + y * raw.stride))[x * raw.channels + c] >> 8;
				img->pixels[y * img->stride + x * 3 + k] = (unsigned char)v;
			}
	aimark__image_dispose(&raw);
	return rc;
}

/* ---- test images ---- */

typedef struct testimg {
	char name[96];
	aimark__image img;
} testimg;

static int make_test_images(char **paths, int n, testimg **out, int *count)
{
	int max = getenv("WM_MAX_IMAGES") ? atoi(getenv("WM_MAX_IMAGES")) : 1 << 30;
	testimg *t = calloc((size_t)n * 3, sizeof *t);
	int c = 0;
	for (int i = 0; i < n && c < max; i++) {
		aimark__image src;
		if (load_rgb(paths[i], &src)) {
			fprintf(stderr, "skip %s: cannot decode\n", paths[i]);
			continue;
		}
		const char *base = strrchr(paths[i], '/') ? strrchr(paths[i], '/') + 1 : paths[i];
		const char *set = getenv("WM_SET") ? getenv("WM_SET") : "main";
		int want_main = strcmp(set, "small") != 0, want_small = strcmp(set, "main") != 0;
		double s = 1280.0 / (src.width > src.height ? src.width : src.height);
		if (want_main && s < 1) {
			snprintf(t[c].name, sizeof t[c].name, "%s@1280", base);
			if (atk_resize(&src, (uint32_t)lround(src.width * s), (uint32_t)lround(src.height * s), &t[c].img) == 0)
				c++;
		}
		if (want_main && c < max && src.width >= 1024 && src.height >= 768) {
			snprintf(t[c].name, sizeof t[c].name, "%s@1024crop", base);
			uint32_t x0 = (src.width - 1024) / 3, y0 = (src.height - 768) / 2;
			if (atk_crop(&src, x0, y0, 1024, 768, &t[c].img) == 0)
				c++;
		}
		if (want_small && c < max && src.width >= 640 && src.height >= 480) {
			snprintf(t[c].name, sizeof t[c].name, "%s@640crop", base);
			uint32_t x0 = (src.width - 640) * 3 / 4, y0 = (src.height - 480) / 5;
			if (atk_crop(&src, x0, y0, 640, 480, &t[c].img) == 0)
				c++;
		}
		aimark__image_dispose(&src);
	}
	*out = t;
	*count = c;
	return 0;
}

/* ---- attacks ---- */

typedef struct attack {
	const char *name;
	int geometric; /* PSNR against the marked image is not meaningful */
	int kind;
	double p1, p2, p3;
} attack;

enum { A_NONE, A_JPEG, A_WEBP, A_RESIZE, A_CROP, A_ROT, A_ROT90, A_FLIP, A_BRIGHT, A_CONTRAST, A_GAMMA, A_SAT, A_BLUR,
       A_NOISE, A_MEDIAN, A_SCREEN, A_CANVAS, A_COMBO };

static const attack g_attacks[] = {
	{ "none", 0, A_NONE, 0, 0, 0 },
	{ "jpeg-90", 0, A_JPEG, 90, 0, 0 },
	{ "jpeg-75", 0, A_JPEG, 75, 0, 0 },
	{ "jpeg-50", 0, A_JPEG, 50, 0, 0 },
	{ "jpeg-30", 0, A_JPEG, 30, 0, 0 },
	{ "webp-75", 0, A_WEBP, 75, 0, 0 },
	{ "webp-50", 0, A_WEBP, 50, 0, 0 },
	{ "resize-0.5", 1, A_RESIZE, 0.5, 0.5, 0 },
	{ "resize-0.75", 1, A_RESIZE, 0.75, 0.75, 0 },
	{ "resize-1.5", 1, A_RESIZE, 1.5, 1.5, 0 },
	{ "resize-2.0", 1, A_RESIZE, 2.0, 2.0, 0 },
	{ "aspect-1.1x1.0", 1, A_RESIZE, 1.1, 1.0, 0 },
	{ "aspect-1.0x0.9", 1, A_RESIZE, 1.0, 0.9, 0 },
	{ "crop-50%-random", 1, A_CROP, 0.5, 0, 0 },
	{ "crop-50%-corner", 1, A_CROP, 0.5, 1, 0 },
	{ "rotate-2", 1, A_ROT, 2, 0, 0 },
	{ "rotate-5", 1, A_ROT, 5, 0, 0 },
	{ "rotate-10", 1, A_ROT, -10, 0, 0 },
	{ "rotate-15", 1, A_ROT, 15, 0, 0 },
	{ "rotate-90", 1, A_ROT90, 1, 0, 0 },
	{ "rotate-180", 1, A_ROT90, 2, 0, 0 },
	{ "rotate-270", 1, A_ROT90, 3, 0, 0 },
	{ "hflip", 1, A_FLIP, 0, 0, 0 },
	{ "brightness+30%", 0, A_BRIGHT, 1.3, 0, 0 },
	{ "brightness-30%", 0, A_BRIGHT, 0.7, 0, 0 },
	{ "contrast+30%", 0, A_CONTRAST, 1.3, 0, 0 },
	{ "contrast-30%", 0, A_CONTRAST, 0.7, 0, 0 },
	{ "gamma-0.7", 0, A_GAMMA, 0.7, 0, 0 },
	{ "gamma-1.5", 0, A_GAMMA, 1.5, 0, 0 },
	{ "saturation-0.3", 0, A_SAT, 0.3, 0, 0 },
	{ "saturation-1.5", 0, A_SAT, 1.5, 0, 0 },
	{ "blur-sigma1", 0, A_BLUR, 1.0, 0, 0 },
	{ "noise-sigma5", 0, A_NOISE, 5.0, 0, 0 },
	{ "median-3x3", 0, A_MEDIAN, 0, 0, 0 },
	{ "screenshot(0.6,crop90%,jpeg75)", 1, A_SCREEN, 0.6, 0.9, 75 },
	{ "canvas-1.5x", 1, A_CANVAS, 1.5, 0, 0 },
	{ "rot5+resize0.8+jpeg75", 1, A_COMBO, 0, 0, 0 },
};
#define N_ATTACKS (sizeof g_attacks / sizeof g_attacks[0])

static int apply_attack(const attack *a, const aimark__image *in, uint64_t seed, aimark__image *out)
{
	aimark__image t1, t2;
	int rc;
	uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
	switch (a->kind) {
	case A_NONE: return atk_copy(in, out);
	case A_JPEG: return atk_codec(in, "jpeg", (int)a->p1, out);
	case A_WEBP: return atk_codec(in, "webp", (int)a->p1, out);
	case A_RESIZE: return atk_resize(in, (uint32_t)lround(in->width * a->p1), (uint32_t)lround(in->height * a->p2), out);
	case A_CROP: {
		/* keep half the area: a random aspect for the random crop, a square-ish corner crop otherwise */
		double fw = a->p2 ? sqrt(0.5) : 0.5 + 0.5 * (splitmix(&s) % 1000) / 1000.0;
		double fh = 0.5 / fw;
		uint32_t w = (uint32_t)(in->width * fw), h = (uint32_t)(in->height * fh);
		uint32_t x0 = a->p2 ? 0 : (uint32_t)(splitmix(&s) % (in->width - w + 1));
		uint32_t y0 = a->p2 ? in->height - h : (uint32_t)(splitmix(&s) % (in->height - h + 1));
		return atk_crop(in, x0, y0, w, h, out);
	}
	case A_ROT: return atk_rotate(in, a->p1, out);
	case A_ROT90: return atk_rot90(in, (int)a->p1, out);
	case A_FLIP: return atk_hflip(in, out);
	case A_BRIGHT: return atk_brightness(in, a->p1, out);
	case A_CONTRAST: return atk_contrast(in, a->p1, out);
	case A_GAMMA: return atk_gamma(in, a->p1, out);
	case A_SAT: return atk_saturation(in, a->p1, out);
	case A_BLUR: return atk_blur(in, a->p1, out);
	case A_NOISE: return atk_noise(in, a->p1, seed, out);
	case A_MEDIAN: return atk_median3(in, out);
	case A_SCREEN: {
		rc = atk_resize(in, (uint32_t)lround(in->width * a->p1), (uint32_t)lround(in->height * a->p1), &t1);
		if (rc)
			return rc;
		uint32_t w = (uint32_t)(t1.width * a->p2), h = (uint32_t)(t1.height * a->p2);
		uint32_t x0 = (uint32_t)(splitmix(&s) % (t1.width - w + 1)), y0 = (uint32_t)(splitmix(&s) % (t1.height - h + 1));
		rc = atk_crop(&t1, x0, y0, w, h, &t2);
		aimark__image_dispose(&t1);
		if (rc)
			return rc;
		rc = atk_codec(&t2, "jpeg", (int)a->p3, out);
		aimark__image_dispose(&t2);
		return rc;
	}
	case A_CANVAS: {
		uint32_t cw = (uint32_t)(in->width * a->p1), ch = (uint32_t)(in->height * a->p1);
		uint32_t x0 = (uint32_t)(splitmix(&s) % (cw - in->width + 1)), y0 = (uint32_t)(splitmix(&s) % (ch - in->height + 1));
		return atk_canvas(in, cw, ch, x0, y0, 240, out);
	}
	case A_COMBO: {
		rc = atk_rotate(in, 5, &t1);
		if (rc)
			return rc;
		rc = atk_resize(&t1, (uint32_t)lround(t1.width * 0.8), (uint32_t)lround(t1.height * 0.8), &t2);
		aimark__image_dispose(&t1);
		if (rc)
			return rc;
		rc = atk_codec(&t2, "jpeg", 75, out);
		aimark__image_dispose(&t2);
		return rc;
	}
	}
	return AIMARK_EINVAL;
}

static int attack_selected(const attack *a)
{
	const char *f = getenv("WM_ATTACKS");
	if (!f || !*f)
		return 1;
	char buf[512];
	snprintf(buf, sizeof buf, "%s", f);
	for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ","))
		if (strstr(a->name, tok))
			return 1;
	return 0;
}

static void key_from_seed(aimark_wm_key **k, unsigned seed)
{
	unsigned char b[32];
	uint64_t s = seed;
	for (int i = 0; i < 32; i++)
		b[i] = (unsigned char)splitmix(&s);
	if (aimark_wm_key_new(k, b) != 0) {
		fprintf(stderr, "key: %s\n", aimark_error_last());
		exit(1);
	}
}

/* ---- robust ---- */

/*
 * WM_DETECT=jpegfile: the attacked image stored as JPEG q95 and detected both
 * ways (full decode + pixel detector, and the luma-only DCT-scaled path that
 * aimark-verify uses); `r` is the luma-only result.
 */
static int detect_as_jpeg(const aimark__image *att, const aimark_wm_key *const *keys, aimark_wm_result *r, int *disagree,
			  const unsigned char payload[8])
{
	aimark__image_coding jc;
	memset(&jc, 0, sizeof jc);
	strcpy(jc.format, "jpeg");
	jc.quality = 95;
	aimark_buf f = AIMARK_BUF_INIT;
	aimark__image dec;
	aimark_wm_result full;
	int rc = aimark__image_encode(att, &jc, NULL, 0, &f);
	if (rc == 0)
		rc = aimark__image_decode(f.ptr, f.size, "jpeg", &dec, NULL);
	if (rc == 0) {
		rc = aimark__wm_image_detect(&dec, keys, 1, &full);
		aimark__image_dispose(&dec);
	}
	if (rc == 0)
		rc = aimark__wm_jpeg_detect(f.ptr, f.size, keys, 1, r);
	if (rc == 0) {
		int a = full.detected && full.authenticated && memcmp(full.payload, payload, 8) == 0;
		int b = r->detected && r->authenticated && memcmp(r->payload, payload, 8) == 0;
		*disagree += a != b;
		if (a != b && getenv("WM_VERBOSE"))
			printf("    paths disagree: full decode %s, luma path %s (z %.2f / %.2f)\n", a ? "exact" : "miss", b ? "exact" : "miss",
			       full.score, r->score);
	}
	aimark_buf_dispose(&f);
	return rc;
}

static int cmd_robust(const char *md_path, char **paths, int n)
{
	testimg *t;
	int count;
	make_test_images(paths, n, &t, &count);
	if (count == 0) {
		fprintf(stderr, "no test images\n");
		return 1;
	}
	float strength = getenv("WM_STRENGTH") ? (float)atof(getenv("WM_STRENGTH")) : 1.0f;
	int jpegfile = getenv("WM_DETECT") && strcmp(getenv("WM_DETECT"), "jpegfile") == 0, disagree = 0;
	aimark_wm_key *key;
	key_from_seed(&key, 1);
	const aimark_wm_key *keys[1] = { key };
	aimark__image *marked = calloc((size_t)count, sizeof *marked);
	unsigned char (*payloads)[8] = calloc((size_t)count, 8);
	double psnr_sum = 0, psnr_min = 99, ssim_sum = 0, ssim_min = 1;
	for (int i = 0; i < count; i++) {
		uint64_t s = (uint64_t)i + 77;
		for (int b = 0; b < 8; b++)
			payloads[i][b] = (unsigned char)splitmix(&s);
		if (getenv("WM_EMBED") && strcmp(getenv("WM_EMBED"), "jpeg") == 0) {
			/* the JPEG coefficient path: the test image as JPEG q90 is the original */
			aimark__image_coding jc;
			memset(&jc, 0, sizeof jc);
			strcpy(jc.format, "jpeg");
			jc.quality = 90;
			aimark_buf orig = AIMARK_BUF_INIT, out = AIMARK_BUF_INIT;
			aimark__image dec;
			if (aimark__image_encode(&t[i].img, &jc, NULL, 0, &orig) || aimark__wm_jpeg_embed(orig.ptr, orig.size, key, payloads[i], strength, &out) ||
			    aimark__image_decode(out.ptr, out.size, "jpeg", &marked[i], NULL) ||
			    aimark__image_decode(orig.ptr, orig.size, "jpeg", &dec, NULL)) {
				fprintf(stderr, "jpeg embed %s: %s\n", t[i].name, aimark_error_last());
				return 1;
			}
			aimark__image_dispose(&t[i].img);
			t[i].img = dec; /* PSNR and SSIM against the unmarked JPEG */
			aimark_buf_dispose(&orig);
			aimark_buf_dispose(&out);
		} else {
			atk_copy(&t[i].img, &marked[i]);
			if (aimark__wm_image_embed(&marked[i], key, payloads[i], strength) != 0) {
				fprintf(stderr, "embed %s: %s\n", t[i].name, aimark_error_last());
				return 1;
			}
		}
		double p = atk_psnr(&t[i].img, &marked[i]), q = atk_ssim(&t[i].img, &marked[i]);
		psnr_sum += p, ssim_sum += q;
		psnr_min = p < psnr_min ? p : psnr_min;
		ssim_min = q < ssim_min ? q : ssim_min;
		if (getenv("WM_VERBOSE"))
			printf("  %-28s %ux%u  PSNR %.2f dB  SSIM %.4f\n", t[i].name, t[i].img.width, t[i].img.height, p, q);
	}
	FILE *md = fopen(md_path, "w");
	printf("images: %d  strength %.2f  embedding PSNR mean %.2f dB (min %.2f)  SSIM mean %.4f (min %.4f)\n", count, strength,
	       psnr_sum / count, psnr_min, ssim_sum / count, ssim_min);
	if (md) {
		fprintf(md, "Images: %d, strength %.2f. Embedding: PSNR mean %.2f dB (min %.2f), SSIM mean %.4f (min %.4f).\n\n", count,
			strength, psnr_sum / count, psnr_min, ssim_sum / count, ssim_min);
		fprintf(md, "| attack | exact payload | mean bit errors (of %d coded) | mean sync z | PSNR vs marked (dB) | ms/detect |\n",
			AIMARK__WM_CODED_BITS);
		fprintf(md, "|---|---|---|---|---|---|\n");
	}
	printf("%-32s %8s %10s %8s %8s %8s\n", "attack", "exact", "bit-err", "sync-z", "PSNR", "ms");
	int all_ok = 1;
	for (size_t ai = 0; ai < N_ATTACKS; ai++) {
		const attack *a = &g_attacks[ai];
		if (!attack_selected(a))
			continue;
		int exact = 0, decoded = 0;
		double errs = 0, zsum = 0, psum = 0, ms = 0;
		int pn = 0;
		for (int i = 0; i < count; i++) {
			aimark__image att;
			if (apply_attack(a, &marked[i], (uint64_t)i * 31 + ai, &att) != 0) {
				fprintf(stderr, "attack %s failed on %s: %s\n", a->name, t[i].name, aimark_error_last());
				continue;
			}
			if (!a->geometric) {
				psum += atk_psnr(&marked[i], &att);
				pn++;
			}
			aimark_wm_result r;
			double t0 = bench_now_ms();
			if (jpegfile) {
				/* what aimark-verify sees for a JPEG: the file, detected full-decode + pixels and luma-only */
				if (detect_as_jpeg(&att, keys, &r, &disagree, payloads[i]) != 0)
					fprintf(stderr, "detect: %s\n", aimark_error_last());
			} else if (aimark__wm_image_detect(&att, keys, 1, &r) != 0)
				fprintf(stderr, "detect: %s\n", aimark_error_last());
			ms += bench_now_ms() - t0;
			zsum += r.score;
			int ok = r.detected && r.authenticated && memcmp(r.payload, payloads[i], 8) == 0;
			exact += ok;
			if (r.authenticated) {
				decoded++;
				errs += r.bit_errors;
			}
			if (!ok && getenv("WM_VERBOSE"))
				printf("    miss %-28s %ux%u z=%.2f det=%d auth=%d\n", t[i].name, att.width, att.height, r.score, r.detected, r.authenticated);
			aimark__image_dispose(&att);
		}
		double rate = 100.0 * exact / count;
		if (rate < 95)
			all_ok = 0;
		char pbuf[32];
		if (pn)
			snprintf(pbuf, sizeof pbuf, "%.2f", psum / pn);
		else
			snprintf(pbuf, sizeof pbuf, "n/a");
		printf("%-32s %7.1f%% %10.1f %8.2f %8s %8.1f\n", a->name, rate, decoded ? errs / decoded : -1.0, zsum / count, pbuf,
		       ms / count);
		fflush(stdout);
		if (md) {
			char ebuf[32];
			if (decoded)
				snprintf(ebuf, sizeof ebuf, "%.1f", errs / decoded);
			else
				snprintf(ebuf, sizeof ebuf, "-");
			fprintf(md, "| %s | %d/%d (%.1f%%) | %s | %.1f | %s | %.0f |\n", a->name, exact, count, rate, ebuf, zsum / count, pbuf,
				ms / count);
			fflush(md);
		}
	}
	if (jpegfile)
		printf("JPEG files (q95): luma-only path and full decode disagree on the exact payload in %d cases\n", disagree);
	printf("every attack >= 95%% exact payload: %s\n", all_ok ? "yes" : "no");
	if (md)
		fprintf(md, "\nEvery listed attack at >= 95%% exact payload: %s.\n", all_ok ? "yes" : "no");
	if (md)
		fclose(md);
	for (int i = 0; i < count; i++) {
		aimark__image_dispose(&marked[i]);
		aimark__image_dispose(&t[i].img);
	}
	free(marked);
	free(payloads);
	free(t);
	aimark_wm_key_free(key);
	return 0;
}

/* ---- false detections ---- */

static int cmd_false(int n_keys, char **paths, int n)
{
	testimg *t;
	int count;
	make_test_images(paths, n, &t, &count);
	if (count == 0 || n_keys < 1)
		return 1;
	aimark_wm_key **keys = calloc((size_t)n_keys, sizeof *keys);
	for (int k = 0; k < n_keys; k++)
		key_from_seed(&keys[k], 1000 + (unsigned)k);
	long calls = 0, trials = 0, false_det = 0, false_auth = 0, attempts = 0;
	long prefix_hist[AIMARK__WM_TAG_BITS + 1] = { 0 };
	long z_over[4] = { 0 }; /* sync z above 4, 5, 6, 7 */
	double z_max = 0, ms = 0;
	for (size_t ai = 0; ai < N_ATTACKS; ai++) {
		const attack *a = &g_attacks[ai];
		if (!attack_selected(a))
			continue;
		for (int i = 0; i < count; i++) {
			aimark__image att;
			if (apply_attack(a, &t[i].img, (uint64_t)i * 31 + ai, &att) != 0)
				continue;
			aimark_wm_result r;
			/* every sync peak decoded: the tag-prefix tail needs decodes, and the false detections counted
			   are then a superset of the detector's own (it leaves peaks below its z gate undecoded) */
			aimark__wm_detect_stats st = { .decode_every_peak = 1 };
			double t0 = bench_now_ms();
			if (aimark__wm_image_detect_ex(&att, (const aimark_wm_key *const *)keys, (size_t)n_keys, &r, &st) != 0)
				fprintf(stderr, "detect: %s\n", aimark_error_last());
			ms += bench_now_ms() - t0;
			calls++;
			trials += n_keys;
			false_det += r.detected;
			false_auth += r.authenticated;
			attempts += st.attempts;
			prefix_hist[st.best_tag_prefix]++;
			for (int k = 0; k < 4; k++)
				z_over[k] += st.best_sync_z > 4 + k;
			if (st.best_sync_z > z_max)
				z_max = st.best_sync_z;
			aimark__image_dispose(&att);
		}
		printf("  %-32s done (%ld calls so far)\n", a->name, calls);
		fflush(stdout);
	}
	printf("unmarked images %d, attacks x images = %ld detector calls, %d keys each: %ld key trials\n", count, calls, n_keys, trials);
	printf("false detections: %ld (authenticated %ld)\n", false_det, false_auth);
	printf("payload decodes tried: %ld (%.1f per call)\n", attempts, (double)attempts / calls);
	printf("tag-prefix check (each decode matches k leading tag bits with probability 2^-k):\n");
	printf("  k   calls with best prefix >= k   expected\n");
	for (int k = 4; k <= 24; k += 2) {
		long ge = 0;
		for (int j = k; j <= AIMARK__WM_TAG_BITS; j++)
			ge += prefix_hist[j];
		/* expected: calls * (1 - (1 - 2^-k)^(attempts per call)) */
		double per = (double)attempts / calls;
		double exp_ge = calls * (1 - pow(1 - ldexp(1, -k), per));
		printf("  %2d  %10ld                   %10.2f\n", k, ge, exp_ge);
	}
	printf("sync z: max %.2f; calls with z > 4, 5, 6, 7: %ld %ld %ld %ld\n", z_max, z_over[0], z_over[1], z_over[2], z_over[3]);
	printf("mean detect time with %d keys: %.1f ms\n", n_keys, ms / calls);
	for (int k = 0; k < n_keys; k++)
		aimark_wm_key_free(keys[k]);
	free(keys);
	for (int i = 0; i < count; i++)
		aimark__image_dispose(&t[i].img);
	free(t);
	return false_det ? 3 : 0;
}

/* ---- speed and memory ---- */

static double cpu_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static long vm_kb(const char *field)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long v = -1;
	size_t n = strlen(field);
	while (f && fgets(line, sizeof line, f))
		if (strncmp(line, field, n) == 0)
			v = atol(line + n);
	if (f)
		fclose(f);
	return v;
}

static void reset_peak(void)
{
	FILE *f = fopen("/proc/self/clear_refs", "w");
	if (f) {
		fputs("5", f);
		fclose(f);
	}
}

typedef struct speed_ctx {
	const unsigned char *jpg;     /* the unmarked JPEG */
	size_t len;
	const unsigned char *marked;  /* the same, marked through the coefficient path */
	size_t marked_len;
	const aimark_wm_key *key;
	aimark__image img;            /* decoded, unmarked */
	aimark__image work;           /* scratch copy for in-place embedding */
	aimark__image marked_img;     /* decoded marked JPEG */
	aimark__image_coding coding;
} speed_ctx;

enum { OP_DECODE, OP_ENCODE, OP_DECENC, OP_EMBED_CORE, OP_EMBED_JPEG, OP_EMBED_PIXEL_FILE, OP_DETECT_CORE, OP_DETECT_FILE,
       OP_DETECT_NEG, N_OPS };

static int run_op(speed_ctx *c, int op)
{
	static const unsigned char payload[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	aimark__image im;
	aimark_buf b = AIMARK_BUF_INIT;
	aimark_wm_result r;
	int rc = 0;
	const aimark_wm_key *keys[1] = { c->key };
	switch (op) {
	case OP_DECODE:
		rc = aimark__image_decode(c->jpg, c->len, "jpeg", &im, NULL);
		aimark__image_dispose(&im);
		break;
	case OP_ENCODE:
		rc = aimark__image_encode(&c->img, &c->coding, NULL, 0, &b);
		break;
	case OP_DECENC:
		rc = aimark__image_decode(c->jpg, c->len, "jpeg", &im, NULL);
		if (rc == 0)
			rc = aimark__image_encode(&im, &c->coding, c->jpg, c->len, &b);
		aimark__image_dispose(&im);
		break;
	case OP_EMBED_CORE:
		rc = aimark__wm_image_embed(&c->work, c->key, payload, 1.0f); /* a fresh copy each time (see measure) */
		break;
	case OP_EMBED_JPEG:
		rc = aimark__wm_jpeg_embed(c->jpg, c->len, c->key, payload, 1.0f, &b);
		break;
	case OP_EMBED_PIXEL_FILE:
		rc = aimark__image_decode(c->jpg, c->len, "jpeg", &im, NULL);
		if (rc == 0)
			rc = aimark__wm_image_embed(&im, c->key, payload, 1.0f);
		if (rc == 0)
			rc = aimark__image_encode(&im, &c->coding, c->jpg, c->len, &b);
		aimark__image_dispose(&im);
		break;
	case OP_DETECT_CORE:
		rc = aimark__wm_image_detect(&c->marked_img, keys, 1, &r);
		if (rc == 0 && !r.authenticated)
			rc = aimark__error_set(AIMARK_EINVAL, "speed: the marked image was not detected");
		break;
	case OP_DETECT_FILE:
		rc = aimark_wm_image_detect_memory(c->marked, c->marked_len, "jpeg", keys, 1, &r);
		if (rc == 0 && !r.authenticated)
			rc = aimark__error_set(AIMARK_EINVAL, "speed: the marked file was not detected");
		break;
	case OP_DETECT_NEG:
		rc = aimark_wm_image_detect_memory(c->jpg, c->len, "jpeg", keys, 1, &r);
		if (rc == 0 && r.detected)
			rc = aimark__error_set(AIMARK_EINVAL, "speed: false detection");
		break;
	}
	aimark_buf_dispose(&b);
	return rc;
}

static void refresh_work(speed_ctx *c)
{
	memcpy(c->work.pixels, c->img.pixels, c->img.stride * c->img.height);
}

/* Best (minimum) wall and CPU time of `reps` runs. */
static void measure(speed_ctx *c, int op, int reps, double *wall, double *cpu)
{
	*wall = *cpu = 1e30;
	for (int i = 0; i < reps; i++) {
		if (op == OP_EMBED_CORE)
			refresh_work(c);
		double w0 = bench_now_ms(), c0 = cpu_ms();
		if (run_op(c, op) != 0) {
			fprintf(stderr, "op %d: %s\n", op, aimark_error_last());
			exit(1);
		}
		double w = bench_now_ms() - w0, cp = cpu_ms() - c0;
		*wall = w < *wall ? w : *wall;
		*cpu = cp < *cpu ? cp : *cpu;
	}
}

/*
 * Peak memory of one operation, measured in a fresh process (so that no freed
 * heap is reused): `memop OP FILE` prepares its inputs, records its resident
 * size, runs OP once and prints the growth of the high-water mark in kB.
 */
static int prepare(speed_ctx *c, const unsigned char *jpg, size_t len, aimark_wm_key *key, aimark_buf *marked)
{
	memset(c, 0, sizeof *c);
	c->jpg = jpg;
	c->len = len;
	c->key = key;
	static const unsigned char payload[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	if (aimark__image_decode(jpg, len, "jpeg", &c->img, &c->coding))
		return -1;
	if (aimark__image_alloc(&c->work, c->img.width, c->img.height, c->img.channels, 8))
		return -1;
	refresh_work(c);
	if (aimark__wm_jpeg_embed(jpg, len, key, payload, 1.0f, marked))
		return -1;
	c->marked = marked->ptr;
	c->marked_len = marked->size;
	return aimark__image_decode(marked->ptr, marked->size, "jpeg", &c->marked_img, NULL);
}

static int cmd_memop(int op, const char *file)
{
	/*
	 * A fixed mmap threshold (glibc's initial 128 KiB): with the default dynamic one, freeing a
	 * large block moves later allocations of that size onto the heap, whose freed holes stay
	 * resident, so the high-water mark would depend on the order of earlier frees rather than on
	 * what the operation holds at once.
	 */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	size_t len = 0;
	unsigned char *jpg = bench_read_file(file, &len);
	aimark_wm_key *key;
	key_from_seed(&key, 1);
	speed_ctx c;
	aimark_buf marked = AIMARK_BUF_INIT;
	if (!jpg || prepare(&c, jpg, len, key, &marked))
		return 1;
	/* what an operation does not need is not resident: the pixel operations keep their input only */
	long base = vm_kb("VmRSS:");
	reset_peak();
	if (run_op(&c, op) != 0)
		return 1;
	long hwm = vm_kb("VmHWM:");
	printf("%ld\n", hwm > base ? hwm - base : 0);
	return 0;
}

static long child_peak_kb(int op, const char *file)
{
	char cmd[4096];
	snprintf(cmd, sizeof cmd, "/proc/%d/exe memop %d '%s'", (int)getpid(), op, file);
	FILE *p = popen(cmd, "r");
	long kb = -1;
	if (p) {
		if (fscanf(p, "%ld", &kb) != 1)
			kb = -1;
		pclose(p);
	}
	return kb;
}

/* `name` is an item of the comma-separated `list`. */
static int list_has(const char *list, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = list; *p;) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len == n && strncmp(p, name, n) == 0)
			return 1;
		p += len + (e != NULL);
	}
	return 0;
}

static int cmd_speed(const char *photo, int reps)
{
	aimark__image src;
	if (load_rgb(photo, &src)) {
		fprintf(stderr, "cannot read %s\n", photo);
		return 1;
	}
	aimark_wm_key *key;
	key_from_seed(&key, 1);
	static const double mps[3] = { 1, 12, 48 };
	printf("%-6s %-36s %9s %9s %10s %9s %s\n", "size", "operation", "wall ms", "cpu ms", "cpu/base", "peak MB", "(x decoded)");
	/* WM_SIZES=1 (or 1,12): only those sizes, for iterating */
	const char *sizes = getenv("WM_SIZES");
	for (int s = 0; s < 3; s++) {
		char tag[8];
		snprintf(tag, sizeof tag, "%.0f", mps[s]);
		if (sizes && !list_has(sizes, tag))
			continue;
		double f = sqrt(mps[s] * 1e6 / ((double)src.width * src.height));
		aimark__image big;
		if (atk_resize(&src, (uint32_t)lround(src.width * f), (uint32_t)lround(src.height * f), &big))
			return 1;
		aimark__image_coding coding;
		memset(&coding, 0, sizeof coding);
		strcpy(coding.format, "jpeg");
		coding.quality = 90;
		aimark_buf jb = AIMARK_BUF_INIT, marked = AIMARK_BUF_INIT;
		if (aimark__image_encode(&big, &coding, NULL, 0, &jb))
			return 1;
		aimark__image_dispose(&big);
		char file[256];
		snprintf(file, sizeof file, "/tmp/bench_wm_image_%d_%.0fmp.jpg", (int)getpid(), mps[s]);
		FILE *fo = fopen(file, "wb");
		if (!fo || fwrite(jb.ptr, 1, jb.size, fo) != jb.size)
			return 1;
		fclose(fo);
		speed_ctx c;
		if (prepare(&c, jb.ptr, jb.size, key, &marked)) {
			fprintf(stderr, "prepare: %s\n", aimark_error_last());
			return 1;
		}
		double decoded_mb = (double)c.img.stride * c.img.height / 1048576.0;
		int r = mps[s] > 20 ? (reps + 2) / 3 : reps;
		static const char *names[] = { "libjpeg-turbo decode", "libjpeg-turbo encode", "decode + encode (baseline)",
					       "embed: pixel core", "embed: JPEG coefficient path (file)", "embed: decode + mark + encode",
					       "detect: pixel core (marked)", "detect: JPEG file (marked)", "detect: JPEG file (unmarked)" };
		double base_c = 0;
		char label[32];
		snprintf(label, sizeof label, "%.0fMP", mps[s]);
		printf("%-6s %ux%u JPEG q90, %zu bytes, decoded %.1f MB, %d runs, best of\n", label, c.img.width, c.img.height, jb.size,
		       decoded_mb, r);
		/* Round robin (every operation once per round, best of the rounds), so that a change in the
		   machine's load during the run affects the baseline and the watermark alike. */
		double w[N_OPS], cp[N_OPS];
		for (int op = 0; op < N_OPS; op++)
			w[op] = cp[op] = 1e30;
		for (int i = 0; i < r; i++)
			for (int op = 0; op < N_OPS; op++) {
				double w1, c1;
				measure(&c, op, 1, &w1, &c1);
				w[op] = w1 < w[op] ? w1 : w[op];
				cp[op] = c1 < cp[op] ? c1 : cp[op];
			}
		base_c = cp[OP_DECENC];
		for (int op = 0; op < N_OPS; op++) {
			long pk = child_peak_kb(op, file);
			printf("%-6s %-36s %9.1f %9.1f %10.2f %9.1f (%.2fx)\n", label, names[op], w[op], cp[op], base_c > 0 ? cp[op] / base_c : 0,
			       pk / 1024.0, pk / 1024.0 / decoded_mb);
			fflush(stdout);
		}
		remove(file);
		aimark__image_dispose(&c.img);
		aimark__image_dispose(&c.work);
		aimark__image_dispose(&c.marked_img);
		aimark_buf_dispose(&jb);
		aimark_buf_dispose(&marked);
	}
	aimark__image_dispose(&src);
	aimark_wm_key_free(key);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "false") == 0)
		return cmd_false(atoi(argv[2]), argv + 3, argc - 3);
	if (argc >= 4 && strcmp(argv[1], "memop") == 0)
		return cmd_memop(atoi(argv[2]), argv[3]);
	if (argc >= 3 && strcmp(argv[1], "speed") == 0)
		return cmd_speed(argv[2], argc > 3 ? atoi(argv[3]) : 5);
	if (argc >= 3 && strcmp(argv[1], "robust") == 0)
		return cmd_robust(argv[2], argv + 3, argc - 3);
	fprintf(stderr, "usage: %s robust OUT.md PHOTO... | false N_KEYS PHOTO... | speed PHOTO [REPS]\n", argv[0]);
	return 2;
}

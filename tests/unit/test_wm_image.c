/* Image watermark: embed -> (attack) -> detect on synthetic textured images, bad input, the JPEG coefficient path. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "aimark/watermark.h"
#include "codec/image_codec.h"
#include "core/internal.h"
#include "wm/wm_fft.h"
#include "wm/wm_image.h"

static const unsigned char PAYLOAD[8] = { 0x5a, 0x17, 0xc3, 0x00, 0xff, 0x42, 0x99, 0x08 };

static aimark_wm_key *make_key(unsigned char seed)
{
	unsigned char b[AIMARK_WM_KEY_BYTES];
	for (int i = 0; i < AIMARK_WM_KEY_BYTES; i++)
		b[i] = (unsigned char)(seed * 131 + i * 7);
	aimark_wm_key *k = NULL;
	assert_int_equal(aimark_wm_key_new(&k, b), 0);
	return k;
}

static uint32_t hash2(int x, int y, uint32_t s)
{
	uint32_t h = (uint32_t)x * 374761393u + (uint32_t)y * 668265263u + s * 2246822519u;
	h = (h ^ (h >> 13)) * 1274126177u;
	return h ^ (h >> 16);
}

/* Smooth value noise in [0, 1]. */
static double vnoise(double x, double y, uint32_t s)
{
	int x0 = (int)floor(x), y0 = (int)floor(y);
	double fx = x - x0, fy = y - y0;
	fx = fx * fx * (3 - 2 * fx);
	fy = fy * fy * (3 - 2 * fy);
	double v00 = (hash2(x0, y0, s) & 0xffff) / 65535.0, v10 = (hash2(x0 + 1, y0, s) & 0xffff) / 65535.0;
	double v01 = (hash2(x0, y0 + 1, s) & 0xffff) / 65535.0, v11 = (hash2(x0 + 1, y0 + 1, s) & 0xffff) / 65535.0;
	return (1 - fy) * ((1 - fx) * v00 + fx * v10) + fy * ((1 - fx) * v01 + fx * v11);
}

/* A photo-like test image: smooth regions, textured regions (texture amplitude `tex_amp`), an edge, some grain. */
static void make_image_tex(aimark__image *img, uint32_t w, uint32_t h, uint32_t ch, uint32_t depth, uint32_t seed, double tex_amp)
{
	assert_int_equal(aimark__image_alloc(img, w, h, ch, depth), 0);
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++) {
			double base = 0;
			double amp = 60, f = 1.0 / 96;
			for (int o = 0; o < 5; o++, amp *= 0.55, f *= 2.1)
				base += amp * (vnoise(x * f, y * f, seed + (uint32_t)o) - 0.5);
			double tex = x > w / 3 ? tex_amp * (vnoise(x / 2.5, y / 2.5, seed + 9) - 0.5) : 0;
			double grain = 3 * ((hash2((int)x, (int)y, seed + 77) & 0xff) / 255.0 - 0.5);
			double v = 120 + base + tex + grain + (y > h * 2 / 3 ? 30 : 0);
			for (uint32_t c = 0; c < ch; c++) {
				double vc = v;
				int is_alpha = (ch == 2 || ch == 4) && c == ch - 1;
				if (is_alpha)
					vc = 100 + (x % 50);
				else if (ch >= 3)
					vc = v + (c == 0 ? 20 : c == 2 ? -25 : 0);
				vc = vc < 0 ? 0 : vc > 255 ? 255 : vc;
				if (depth == 8)
					img->pixels[y * img->stride + x * ch + c] = (unsigned char)lround(vc);
				else
					((uint16_t *)(void *)(img->pixels + y * img->stride))[x * ch + c] = (uint16_t)lround(vc * 257);
			}
		}
}

static void make_image(aimark__image *img, uint32_t w, uint32_t h, uint32_t ch, uint32_t depth, uint32_t seed)
{
	make_image_tex(img, w, h, ch, depth, seed, 25);
}

static void copy_image(const aimark__image *a, aimark__image *b)
{
	assert_int_equal(aimark__image_alloc(b, a->width, a->height, a->channels, a->bit_depth), 0);
	memcpy(b->pixels, a->pixels, a->stride * a->height);
}

static double psnr8(const aimark__image *a, const aimark__image *b)
{
	double se = 0;
	size_t n = (size_t)a->stride * a->height;
	for (size_t i = 0; i < n; i++) {
		double d = (double)a->pixels[i] - b->pixels[i];
		se += d * d;
	}
	return 10 * log10(255.0 * 255.0 / (se / n + 1e-12));
}

static void detect_one(const aimark__image *img, const aimark_wm_key *key, aimark_wm_result *r)
{
	const aimark_wm_key *keys[1] = { key };
	assert_int_equal(aimark__wm_image_detect(img, keys, 1, r), 0);
}

static void assert_found(const aimark_wm_result *r, int key_index)
{
	assert_int_equal(r->detected, 1);
	assert_int_equal(r->authenticated, 1);
	assert_int_equal(r->key_index, key_index);
	assert_memory_equal(r->payload, PAYLOAD, 8);
	assert_true(r->false_alarm_probability <= 1e-9);
	assert_true(r->bit_errors >= 0);
}

static void test_roundtrip_rgb(void **state)
{
	(void)state;
	aimark_wm_key *k = make_key(1);
	aimark__image orig, img;
	make_image(&orig, 512, 384, 3, 8, 1);
	copy_image(&orig, &img);
	assert_int_equal(aimark__wm_image_embed(&img, k, PAYLOAD, 1.0f), 0);
	double p = psnr8(&orig, &img);
	assert_true(p >= 42.0);
	assert_true(p < 70.0); /* something was embedded */
	aimark_wm_result r;
	detect_one(&img, k, &r);
	assert_found(&r, 0);
	assert_true(r.score > 8);
	/* the original carries nothing */
	detect_one(&orig, k, &r);
	assert_int_equal(r.detected, 0);
	assert_int_equal(r.authenticated, 0);
	assert_int_equal(r.key_index, -1);
	assert_true(r.false_alarm_probability > 1e-9);
	aimark__image_dispose(&orig);
	aimark__image_dispose(&img);
	aimark_wm_key_free(k);
}

static void test_keyed(void **state)
{
	(void)state;
	aimark_wm_key *k1 = make_key(2), *k2 = make_key(3), *k3 = make_key(4);
	aimark__image img;
	make_image(&img, 512, 384, 3, 8, 2);
	assert_int_equal(aimark__wm_image_embed(&img, k2, PAYLOAD, 1.0f), 0);
	aimark_wm_result r;
	detect_one(&img, k1, &r); /* another key finds nothing */
	assert_int_equal(r.detected, 0);
	const aimark_wm_key *keys[3] = { k1, k3, k2 };
	assert_int_equal(aimark__wm_image_detect(&img, keys, 3, &r), 0);
	assert_found(&r, 2);
	assert_int_equal(aimark__wm_image_detect(&img, keys, 0, &r), 0); /* no keys: nothing to find */
	assert_int_equal(r.detected, 0);
	aimark__image_dispose(&img);
	aimark_wm_key_free(k1);
	aimark_wm_key_free(k2);
	aimark_wm_key_free(k3);
}

/* rotate by 90 degrees clockwise, then keep the lower-right 75% x 75% */
static void rot90_crop(const aimark__image *a, aimark__image *b)
{
	uint32_t W = a->height, H = a->width, ch = a->channels;
	aimark__image r;
	assert_int_equal(aimark__image_alloc(&r, W, H, ch, 8), 0);
	for (uint32_t y = 0; y < H; y++)
		for (uint32_t x = 0; x < W; x++)
			memcpy(r.pixels + y * r.stride + x * ch, a->pixels + (a->height - 1 - x) * a->stride + y * ch, ch);
	uint32_t w = W * 3 / 4, h = H * 3 / 4;
	assert_int_equal(aimark__image_alloc(b, w, h, ch, 8), 0);
	for (uint32_t y = 0; y < h; y++)
		memcpy(b->pixels + y * b->stride, r.pixels + (y + H - h) * r.stride + (W - w) * ch, b->stride);
	aimark__image_dispose(&r);
}

static void test_geometry(void **state)
{
	(void)state;
	aimark_wm_key *k = make_key(5);
	aimark__image img, att;
	make_image(&img, 640, 480, 3, 8, 3);
	assert_int_equal(aimark__wm_image_embed(&img, k, PAYLOAD, 1.0f), 0);
	aimark_wm_result r;
	rot90_crop(&img, &att);
	detect_one(&att, k, &r);
	assert_found(&r, 0);
	aimark__image_dispose(&att);
	/* horizontal flip */
	copy_image(&img, &att);
	for (uint32_t y = 0; y < att.height; y++)
		for (uint32_t x = 0; x < att.width; x++)
			memcpy(att.pixels + y * att.stride + x * 3, img.pixels + y * img.stride + (img.width - 1 - x) * 3, 3);
	detect_one(&att, k, &r);
	assert_found(&r, 0);
	aimark__image_dispose(&att);
	/* JPEG quality 60 through the project's codec */
	aimark__image_coding c;
	memset(&c, 0, sizeof c);
	strcpy(c.format, "jpeg");
	c.quality = 60;
	aimark_buf buf = AIMARK_BUF_INIT;
	assert_int_equal(aimark__image_encode(&img, &c, NULL, 0, &buf), 0);
	assert_int_equal(aimark__image_decode(buf.ptr, buf.size, "jpeg", &att, NULL), 0);
	detect_one(&att, k, &r);
	assert_found(&r, 0);
	aimark_buf_dispose(&buf);
	aimark__image_dispose(&att);
	aimark__image_dispose(&img);
	aimark_wm_key_free(k);
}

/*
 * A smooth marked image (a weak mark) pasted into a canvas of 1.8x its sides: its chips shrink below what the
 * decimated lattice search sees, and the full-resolution fallback must find it. The unmarked canvas is
 * searched twice but decodes nothing: its sync peaks stay below the decoding gate.
 */
static void test_canvas_fallback(void **state)
{
	(void)state;
	aimark_wm_key *k = make_key(11);
	aimark__image img, canvas;
	make_image_tex(&img, 1280, 800, 3, 8, 21, 0);
	assert_int_equal(aimark__wm_image_embed(&img, k, PAYLOAD, 1.0f), 0);
	assert_int_equal(aimark__image_alloc(&canvas, 2304, 1440, 3, 8), 0);
	memset(canvas.pixels, 235, canvas.stride * canvas.height);
	for (uint32_t y = 0; y < img.height; y++)
		memcpy(canvas.pixels + (y + 320) * canvas.stride + 3 * 341, img.pixels + y * img.stride, img.stride);
	const aimark_wm_key *keys[1] = { k };
	aimark_wm_result r;
	aimark__wm_detect_stats st = { 0 };
	assert_int_equal(aimark__wm_image_detect_ex(&canvas, keys, 1, &r, &st), 0);
	assert_found(&r, 0);
	assert_int_equal(st.searches, 2);

	aimark__image plain;
	make_image(&plain, 2304, 1440, 3, 8, 22);
	assert_int_equal(aimark__wm_image_detect_ex(&plain, keys, 1, &r, &st), 0);
	assert_int_equal(r.detected, 0);
	assert_int_equal(st.searches, 2);
	assert_int_equal(st.attempts, 0);
	assert_true(st.best_sync_z < 6.0);
	/* the benchmark's calibration mode decodes those peaks anyway */
	st.decode_every_peak = 1;
	assert_int_equal(aimark__wm_image_detect_ex(&plain, keys, 1, &r, &st), 0);
	assert_int_equal(r.detected, 0);
	assert_true(st.attempts > 0);
	aimark__image_dispose(&plain);
	aimark__image_dispose(&canvas);
	aimark__image_dispose(&img);
	aimark_wm_key_free(k);
}

static void test_layouts(void **state)
{
	(void)state;
	aimark_wm_key *k = make_key(6);
	static const uint32_t chans[] = { 1, 2, 4 };
	for (size_t i = 0; i < 3; i++) {
		aimark__image orig, img;
		make_image(&orig, 480, 360, chans[i], 8, 10 + (uint32_t)i);
		copy_image(&orig, &img);
		assert_int_equal(aimark__wm_image_embed(&img, k, PAYLOAD, 1.0f), 0);
		if (chans[i] == 2 || chans[i] == 4) {
			/* alpha left alone */
			for (uint32_t y = 0; y < img.height; y++)
				for (uint32_t x = 0; x < img.width; x++) {
					size_t o = y * img.stride + x * chans[i] + chans[i] - 1;
					assert_int_equal(img.pixels[o], orig.pixels[o]);
				}
		}
		aimark_wm_result r;
		detect_one(&img, k, &r);
		assert_found(&r, 0);
		aimark__image_dispose(&orig);
		aimark__image_dispose(&img);
	}
	/* 16-bit RGB: the change scales to 16-bit units */
	aimark__image orig, img;
	make_image(&orig, 480, 360, 3, 16, 20);
	copy_image(&orig, &img);
	assert_int_equal(aimark__wm_image_embed(&img, k, PAYLOAD, 1.0f), 0);
	double se = 0;
	for (uint32_t y = 0; y < img.height; y++)
		for (uint32_t x = 0; x < img.width * 3; x++) {
			double d = ((uint16_t *)(void *)(img.pixels + y * img.stride))[x] - (double)((uint16_t *)(void *)(orig.pixels + y * orig.stride))[x];
			se += d * d;
		}
	double p = 10 * log10(65535.0 * 65535.0 / (se / ((double)img.width * img.height * 3)));
	assert_true(p >= 42.0 && p < 70.0);
	aimark_wm_result r;
	detect_one(&img, k, &r);
	assert_found(&r, 0);
	aimark__image_dispose(&orig);
	aimark__image_dispose(&img);
	aimark_wm_key_free(k);
}

static void test_bad_input(void **state)
{
	(void)state;
	aimark_wm_key *k = make_key(7);
	aimark__image img;
	make_image(&img, 63, 200, 3, 8, 4);
	assert_int_equal(aimark__wm_image_embed(&img, k, PAYLOAD, 1.0f), AIMARK_ELIMIT);
	aimark_wm_result r;
	detect_one(&img, k, &r); /* too small to hold a mark: not detected, not an error */
	assert_int_equal(r.detected, 0);
	aimark__image_dispose(&img);
	make_image(&img, 128, 128, 3, 8, 4);
	assert_int_equal(aimark__wm_image_embed(&img, k, PAYLOAD, -1.0f), AIMARK_EINVAL);
	assert_int_equal(aimark__wm_image_embed(&img, k, PAYLOAD, 100.0f), AIMARK_EINVAL);
	assert_int_equal(aimark__wm_image_embed(NULL, k, PAYLOAD, 1.0f), AIMARK_EINVAL);
	assert_int_equal(aimark__wm_image_embed(&img, NULL, PAYLOAD, 1.0f), AIMARK_EINVAL);
	const aimark_wm_key *nullkey[1] = { NULL };
	assert_int_equal(aimark__wm_image_detect(&img, nullkey, 1, &r), AIMARK_EINVAL);
	assert_int_equal(aimark__wm_image_detect(&img, NULL, 1, &r), AIMARK_EINVAL);
	img.channels = 5;
	assert_int_equal(aimark__wm_image_embed(&img, k, PAYLOAD, 1.0f), AIMARK_EUNSUPPORTED);
	img.channels = 3;
	img.stride = 10; /* lying stride */
	assert_int_equal(aimark__wm_image_embed(&img, k, PAYLOAD, 1.0f), AIMARK_EINVAL);
	img.stride = 128 * 3;
	/* a 256x256 image is the smallest size that must work */
	aimark__image_dispose(&img);
	make_image(&img, 256, 256, 3, 8, 5);
	assert_int_equal(aimark__wm_image_embed(&img, k, PAYLOAD, 1.0f), 0);
	detect_one(&img, k, &r);
	assert_found(&r, 0);
	aimark__image_dispose(&img);
	aimark_wm_key_free(k);
}

/* A JPEG with a COM segment and an APP1 segment after SOI. */
static void make_jpeg(aimark_buf *out, int quality, int progressive)
{
	aimark__image img;
	make_image(&img, 640, 480, 3, 8, 30);
	aimark__image_coding c;
	memset(&c, 0, sizeof c);
	strcpy(c.format, "jpeg");
	c.quality = quality;
	c.progressive = progressive;
	aimark_buf raw = AIMARK_BUF_INIT;
	assert_int_equal(aimark__image_encode(&img, &c, NULL, 0, &raw), 0);
	static const unsigned char seg[] = { 0xFF, 0xFE, 0x00, 0x0B, 'a', 'i', 'm', 'a', 'r', 'k', '-', 'w', 'm',
					     0xFF, 0xE1, 0x00, 0x08, 'T', 'e', 's', 't', 0x00, 0x01 };
	assert_int_equal(aimark__buf_append(out, raw.ptr, 2), 0);
	assert_int_equal(aimark__buf_append(out, seg, sizeof seg), 0);
	assert_int_equal(aimark__buf_append(out, raw.ptr + 2, raw.size - 2), 0);
	aimark_buf_dispose(&raw);
	aimark__image_dispose(&img);
}

static int contains(const aimark_buf *b, const void *needle, size_t n)
{
	for (size_t i = 0; i + n <= b->size; i++)
		if (memcmp(b->ptr + i, needle, n) == 0)
			return 1;
	return 0;
}

static void test_jpeg_coefficients(void **state)
{
	(void)state;
	aimark_wm_key *k = make_key(8);
	for (int prog = 0; prog <= 1; prog++) {
		aimark_buf jpg = AIMARK_BUF_INIT, marked = AIMARK_BUF_INIT;
		make_jpeg(&jpg, 85, prog);
		assert_int_equal(aimark__wm_jpeg_embed(jpg.ptr, jpg.size, k, PAYLOAD, 1.0f, &marked), 0);
		/* metadata kept, coding kept */
		assert_true(contains(&marked, "aimark-wm", 9));
		assert_true(contains(&marked, "Test\0\1", 6));
		aimark__image a, b;
		aimark__image_coding ca, cb;
		assert_int_equal(aimark__image_decode(jpg.ptr, jpg.size, "jpeg", &a, &ca), 0);
		assert_int_equal(aimark__image_decode(marked.ptr, marked.size, "jpeg", &b, &cb), 0);
		assert_int_equal(ca.quality, cb.quality);
		assert_int_equal(cb.progressive, prog);
		double p = psnr8(&a, &b);
		assert_true(p >= 40.0 && p < 70.0);
		aimark_wm_result r;
		detect_one(&b, k, &r);
		assert_found(&r, 0);
		/* the public in-memory calls agree */
		const aimark_wm_key *keys[1] = { k };
		assert_int_equal(aimark_wm_image_detect_memory(marked.ptr, marked.size, NULL, keys, 1, &r), 0);
		assert_found(&r, 0);
		assert_int_equal(aimark_wm_image_detect_memory(jpg.ptr, jpg.size, "jpeg", keys, 1, &r), 0);
		assert_int_equal(r.detected, 0);
		aimark__image_dispose(&a);
		aimark__image_dispose(&b);
		/* hostile input */
		aimark_buf junk = AIMARK_BUF_INIT;
		/* cut inside the headers: an error; cut inside the scan: tolerated like the codec (libjpeg warns) */
		assert_int_equal(aimark__wm_jpeg_embed(jpg.ptr, 30, k, PAYLOAD, 1.0f, &junk), AIMARK_EFORMAT);
		assert_non_null(strstr(aimark_error_last(), "JPEG"));
		int rc = aimark__wm_jpeg_embed(jpg.ptr, jpg.size / 3, k, PAYLOAD, 1.0f, &junk);
		assert_true(rc == 0 || rc == AIMARK_EFORMAT);
		aimark__buf_clear(&junk);
		assert_int_equal(aimark__wm_jpeg_embed((const unsigned char *)"\xff\xd8\xff\xe0", 4, k, PAYLOAD, 1.0f, &junk), AIMARK_EFORMAT);
		assert_int_equal(aimark__wm_jpeg_embed((const unsigned char *)"GIF89a", 6, k, PAYLOAD, 1.0f, &junk), AIMARK_EFORMAT);
		assert_int_equal(aimark_wm_image_embed_memory("GIF89a", 6, NULL, k, PAYLOAD, 1.0f, &junk), AIMARK_EUNSUPPORTED);
		assert_int_equal(junk.size, 0);
		aimark_buf_dispose(&junk);
		aimark_buf_dispose(&jpg);
		aimark_buf_dispose(&marked);
	}
	aimark_wm_key_free(k);
}

static void test_png_memory(void **state)
{
	(void)state;
	aimark_wm_key *k = make_key(9);
	aimark__image img;
	make_image(&img, 400, 300, 4, 8, 40);
	aimark__image_coding c;
	memset(&c, 0, sizeof c);
	strcpy(c.format, "png");
	c.lossless = 1;
	aimark_buf png = AIMARK_BUF_INIT, marked = AIMARK_BUF_INIT;
	assert_int_equal(aimark__image_encode(&img, &c, NULL, 0, &png), 0);
	assert_int_equal(aimark_wm_image_embed_memory(png.ptr, png.size, NULL, k, PAYLOAD, 0.0f, &marked), 0);
	const aimark_wm_key *keys[1] = { k };
	aimark_wm_result r;
	assert_int_equal(aimark_wm_image_detect_memory(marked.ptr, marked.size, "png", keys, 1, &r), 0);
	assert_found(&r, 0);
	assert_int_equal(aimark_wm_image_detect_memory(png.ptr, png.size / 2, "png", keys, 1, &r), AIMARK_EFORMAT);
	aimark_buf_dispose(&png);
	aimark_buf_dispose(&marked);
	aimark__image_dispose(&img);
	aimark_wm_key_free(k);
}

/* A 16-bit PNG of `ch` channels in `png`; the image stays in `img`. */
static void make_png16(aimark__image *img, uint32_t w, uint32_t h, uint32_t ch, uint32_t seed, aimark_buf *png)
{
	make_image(img, w, h, ch, 16, seed);
	aimark__image_coding c;
	memset(&c, 0, sizeof c);
	strcpy(c.format, "png");
	c.lossless = 1;
	assert_int_equal(aimark__image_encode(img, &c, NULL, 0, png), 0);
}

/* 16-bit PNGs stay 16-bit: only the watermark changes them, alpha is untouched, the mark is found. */
static void test_png16(void **state)
{
	(void)state;
	aimark_wm_key *k = make_key(11);
	const aimark_wm_key *keys[1] = { k };
	static const uint32_t chans[] = { 3, 1, 4 };
	static const unsigned char types[5] = { 0, 0, 4, 2, 6 }; /* PNG colour type per channel count */
	for (size_t i = 0; i < 3; i++) {
		uint32_t ch = chans[i];
		aimark__image img;
		aimark_buf png = AIMARK_BUF_INIT, marked = AIMARK_BUF_INIT;
		make_image(&img, 420, 300, ch, 16, 50 + (uint32_t)i);
		/* use the low byte too, so that an 8-bit path would show */
		for (size_t j = 0; j < img.stride * img.height / 2; j++)
			((uint16_t *)(void *)img.pixels)[j] ^= (uint16_t)(j * 7919 % 97);
		aimark__image_coding c;
		memset(&c, 0, sizeof c);
		strcpy(c.format, "png");
		c.lossless = 1;
		assert_int_equal(aimark__image_encode(&img, &c, NULL, 0, &png), 0);
		assert_int_equal(aimark_wm_image_embed_memory(png.ptr, png.size, NULL, k, PAYLOAD, 0.0f, &marked), 0);
		assert_memory_equal(marked.ptr + 12, "IHDR", 4);
		assert_int_equal(marked.ptr[24], 16);
		assert_int_equal(marked.ptr[25], types[ch]);
		aimark__image back;
		assert_int_equal(aimark__image_decode(marked.ptr, marked.size, "png", &back, NULL), 0);
		assert_int_equal(back.bit_depth, 16);
		assert_int_equal(back.channels, ch);
		/* every colour sample moves by the same bounded amount per pixel; alpha not at all */
		size_t changed = 0, n = (size_t)img.width * img.height;
		double se = 0;
		for (size_t px = 0; px < n; px++) {
			const uint16_t *a = (const uint16_t *)(const void *)img.pixels + px * ch;
			const uint16_t *b = (const uint16_t *)(const void *)back.pixels + px * ch;
			if (ch == 4)
				assert_int_equal(a[3], b[3]);
			int d = (int)b[0] - (int)a[0];
			assert_true(abs(d) <= 7 * 257);
			se += (double)d * d / (257.0 * 257.0);
			changed += d != 0;
		}
		assert_true(changed > n / 2);
		assert_true(10 * log10(255.0 * 255.0 / (se / (double)n)) >= 42.0);
		aimark_wm_result r;
		assert_int_equal(aimark_wm_image_detect_memory(marked.ptr, marked.size, NULL, keys, 1, &r), 0);
		assert_found(&r, 0);
		assert_int_equal(aimark_wm_image_detect_memory(png.ptr, png.size, NULL, keys, 1, &r), 0);
		assert_int_equal(r.detected, 0);
		aimark__image_dispose(&back);
		aimark__image_dispose(&img);
		aimark_buf_dispose(&png);
		aimark_buf_dispose(&marked);
	}
	aimark_wm_key_free(k);
}

/* The same through aimark_mark_memory (what aimark-mark --watermark does): the label and the mark, still 16-bit. */
static void test_png16_pipeline(void **state)
{
	(void)state;
	aimark_wm_key *k = make_key(12);
	const aimark_wm_key *keys[1] = { k };
	aimark__image img;
	aimark_buf png = AIMARK_BUF_INIT, marked = AIMARK_BUF_INIT;
	make_png16(&img, 400, 320, 3, 60, &png);
	aimark_mark_options o = AIMARK_MARK_OPTIONS_INIT;
	o.content_producer = "p16";
	o.produce_id = "png16-id";
	o.layers = AIMARK_LAYER_WATERMARK;
	o.watermark_key = k;
	assert_int_equal(aimark_mark_memory(png.ptr, png.size, &o, &marked, NULL), 0);
	assert_int_equal(marked.ptr[24], 16);
	assert_int_equal(marked.ptr[25], 2);
	assert_true(contains(&marked, "png16-id", 8));
	aimark_wm_result r;
	assert_int_equal(aimark_wm_image_detect_memory(marked.ptr, marked.size, NULL, keys, 1, &r), 0);
	assert_int_equal(r.detected, 1);
	assert_int_equal(r.authenticated, 1);
	aimark__image_dispose(&img);
	aimark_buf_dispose(&png);
	aimark_buf_dispose(&marked);
	aimark_wm_key_free(k);
}

/* The FFT the detector (and the audio engine) runs on: every length against a direct DFT, both directions. */
static void test_fft_matches_dft(void **state)
{
	(void)state;
	for (size_t n = 2; n <= 1024; n *= 2) {
		aimark__fft *f = NULL;
		assert_int_equal(aimark__fft_new(&f, n), 0);
		assert_int_equal(aimark__fft_size(f), n);
		float *x = malloc(2 * n * sizeof *x), *y = malloc(2 * n * sizeof *y);
		for (size_t i = 0; i < 2 * n; i++)
			x[i] = (float)((hash2((int)i, (int)n, 5) & 0xffff) / 32768.0 - 1.0);
		for (int inv = 0; inv <= 1; inv++) {
			memcpy(y, x, 2 * n * sizeof *y);
			aimark__fft_run(f, y, inv);
			double worst = 0;
			for (size_t k = 0; k < n; k++) {
				double re = 0, im = 0;
				for (size_t j = 0; j < n; j++) {
					double a = (inv ? 2 : -2) * M_PI * (double)((j * k) % n) / (double)n;
					re += x[2 * j] * cos(a) - x[2 * j + 1] * sin(a);
					im += x[2 * j] * sin(a) + x[2 * j + 1] * cos(a);
				}
				worst = fmax(worst, fmax(fabs(re - y[2 * k]), fabs(im - y[2 * k + 1])));
			}
			if (worst > 1e-4 * sqrt((double)n) * log2((double)n) + 1e-5)
				fail_msg("fft n=%zu inverse=%d: error %g", n, inv, worst);
		}
		free(x);
		free(y);
		aimark__fft_free(f);
	}
	aimark__fft *f = NULL;
	assert_int_equal(aimark__fft_new(&f, 96), AIMARK_EINVAL);
	assert_null(f);
	assert_int_equal(aimark__fft_new(&f, 1), AIMARK_EINVAL);
}

/*
 * The 2-D transform (the detector's folded tile and sync correlation) runs its column transforms across
 * the rows: against a direct 2-D DFT for small shapes, and against the 1-D transform applied to each
 * gathered column at the detector's 128 x 128, both directions.
 */
static void test_fft2d_matches_dft(void **state)
{
	(void)state;
	static const size_t shapes[][2] = { { 2, 2 }, { 2, 8 }, { 8, 2 }, { 4, 16 }, { 16, 4 }, { 32, 8 }, { 8, 64 }, { 32, 32 } };
	for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
		const size_t rows = shapes[si][0], cols = shapes[si][1], n = rows * cols;
		float *x = malloc(2 * n * sizeof *x), *y = malloc(2 * n * sizeof *y);
		for (size_t i = 0; i < 2 * n; i++)
			x[i] = (float)((hash2((int)i, (int)n, 9) & 0xffff) / 32768.0 - 1.0);
		aimark__fft2d f;
		assert_int_equal(aimark__fft2d_init(&f, rows, cols), 0);
		for (int inv = 0; inv <= 1; inv++) {
			memcpy(y, x, 2 * n * sizeof *y);
			aimark__fft2d_run(&f, y, inv);
			double worst = 0;
			for (size_t ky = 0; ky < rows; ky++)
				for (size_t kx = 0; kx < cols; kx++) {
					double re = 0, im = 0;
					for (size_t py = 0; py < rows; py++)
						for (size_t px = 0; px < cols; px++) {
							double ph = (double)((py * ky) % rows) / rows + (double)((px * kx) % cols) / cols;
							double a = (inv ? 2 : -2) * M_PI * ph;
							const float *v = x + 2 * (py * cols + px);
							re += v[0] * cos(a) - v[1] * sin(a);
							im += v[0] * sin(a) + v[1] * cos(a);
						}
					const float *o = y + 2 * (ky * cols + kx);
					worst = fmax(worst, fmax(fabs(re - o[0]), fabs(im - o[1])));
				}
			if (worst > 1e-4 * sqrt((double)n) * log2((double)n) + 1e-5)
				fail_msg("fft2d %zux%zu inverse=%d: error %g", rows, cols, inv, worst);
			/* the one-shot form gives the same */
			float *z = malloc(2 * n * sizeof *z);
			memcpy(z, x, 2 * n * sizeof *z);
			assert_int_equal(aimark__fft_2d(z, rows, cols, inv), 0);
			for (size_t i = 0; i < 2 * n; i++)
				if (fabs(z[i] - y[i]) > 1e-6 * (1 + fabs(y[i])))
					fail_msg("fft_2d %zux%zu differs at %zu: %g %g", rows, cols, i, z[i], y[i]);
			free(z);
		}
		aimark__fft2d_dispose(&f);
		free(x);
		free(y);
	}
	/* 128 x 128: rows then gathered columns through the 1-D transform */
	const size_t N = 128;
	float *x = malloc(2 * N * N * sizeof *x), *y = malloc(2 * N * N * sizeof *y), col[2 * 128];
	aimark__fft2d f;
	aimark__fft *f1 = NULL;
	assert_int_equal(aimark__fft2d_init(&f, N, N), 0);
	assert_int_equal(aimark__fft_new(&f1, N), 0);
	for (int inv = 0; inv <= 1; inv++) {
		for (size_t i = 0; i < 2 * N * N; i++)
			x[i] = y[i] = (float)((hash2((int)i, inv, 11) & 0xffff) / 32768.0 - 1.0);
		aimark__fft2d_run(&f, y, inv);
		for (size_t r = 0; r < N; r++)
			aimark__fft_run(f1, x + 2 * r * N, inv);
		double worst = 0;
		for (size_t c = 0; c < N; c++) {
			for (size_t r = 0; r < N; r++) {
				col[2 * r] = x[2 * (r * N + c)];
				col[2 * r + 1] = x[2 * (r * N + c) + 1];
			}
			aimark__fft_run(f1, col, inv);
			for (size_t r = 0; r < N; r++)
				worst = fmax(worst, fmax(fabs(col[2 * r] - y[2 * (r * N + c)]), fabs(col[2 * r + 1] - y[2 * (r * N + c) + 1])));
		}
		if (worst > 1e-3)
			fail_msg("fft2d 128x128 inverse=%d: differs from the 1-D transform by %g", inv, worst);
	}
	aimark__fft_free(f1);
	aimark__fft2d_dispose(&f);
	free(x);
	free(y);
}

/* aimark_verify reads a JPEG's watermark through the luma-only path: the same answer as the public detector gives. */
static void test_verify_jpeg_same_as_detect(void **state)
{
	(void)state;
	aimark_wm_key *k = make_key(13);
	const aimark_wm_key *keys[1] = { k };
	aimark_buf jpg = AIMARK_BUF_INIT, marked = AIMARK_BUF_INIT;
	/* large enough (2.2 MP) for the luma path to decode at half scale */
	aimark__image img;
	make_image(&img, 1800, 1230, 3, 8, 31);
	aimark__image_coding c;
	memset(&c, 0, sizeof c);
	strcpy(c.format, "jpeg");
	c.quality = 85;
	assert_int_equal(aimark__image_encode(&img, &c, NULL, 0, &jpg), 0);
	aimark__image_dispose(&img);
	aimark_mark_options o = AIMARK_MARK_OPTIONS_INIT;
	o.content_producer = "pj";
	o.produce_id = "jpeg-verify-id";
	o.layers = AIMARK_LAYER_WATERMARK;
	o.watermark_key = k;
	assert_int_equal(aimark_mark_memory(jpg.ptr, jpg.size, &o, &marked, NULL), 0);
	aimark_wm_result r;
	assert_int_equal(aimark_wm_image_detect_memory(marked.ptr, marked.size, NULL, keys, 1, &r), 0);
	assert_int_equal(r.authenticated, 1);
	/* a full decode + the pixel detector gives a different score, so the comparison below tells the paths apart */
	aimark__image full;
	aimark_wm_result rp;
	assert_int_equal(aimark__image_decode(marked.ptr, marked.size, "jpeg", &full, NULL), 0);
	detect_one(&full, k, &rp);
	assert_int_equal(rp.authenticated, 1);
	if (!(fabs(rp.score - r.score) > 1e-3))
		fail_msg("pixel path score %.6f, luma path %.6f: the test cannot tell them apart", rp.score, r.score);
	aimark__image_dispose(&full);
	static const unsigned int layer_sets[2] = { AIMARK_LAYER_WATERMARK, 0 }; /* watermark alone; every layer */
	for (int i = 0; i < 2; i++) {
		aimark_verify_options vo = AIMARK_VERIFY_OPTIONS_INIT;
		vo.layers = layer_sets[i];
		vo.watermark_keys = keys;
		vo.n_watermark_keys = 1;
		aimark_report *rep = NULL;
		assert_int_equal(aimark_verify_memory(marked.ptr, marked.size, &vo, &rep), 0);
		aimark_buf js = AIMARK_BUF_INIT;
		assert_int_equal(aimark_report_to_json(rep, 0, &js), 0);
		json_error_t err;
		json_t *root = json_loads((const char *)js.ptr, 0, &err);
		assert_non_null(root);
		json_t *w = json_object_get(root, "watermark");
		if (w == NULL)
			w = json_object_get(json_object_get(root, "layers"), "watermark");
		assert_non_null(w);
		assert_true(json_is_true(json_object_get(w, "detected")));
		assert_true(json_is_true(json_object_get(w, "matches_label")));
		char hex[17];
		for (int b = 0; b < 8; b++)
			snprintf(hex + 2 * b, 3, "%02x", r.payload[b]);
		assert_string_equal(json_string_value(json_object_get(w, "payload")), hex);
		/* the same detector run on the same working image: the same score */
		if (fabs(json_real_value(json_object_get(w, "score")) - r.score) >= 1e-4) /* the report rounds to 4 decimals */
			fail_msg("layers %u: verify score %.17g, detector %.17g", layer_sets[i], json_real_value(json_object_get(w, "score")), r.score);
		json_decref(root);
		aimark_buf_dispose(&js);
		aimark_report_free(rep);
	}
	aimark_buf_dispose(&jpg);
	aimark_buf_dispose(&marked);
	aimark_wm_key_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fft_matches_dft),
		cmocka_unit_test(test_fft2d_matches_dft),
		cmocka_unit_test(test_roundtrip_rgb),
		cmocka_unit_test(test_keyed),
		cmocka_unit_test(test_geometry),
		cmocka_unit_test(test_canvas_fallback),
		cmocka_unit_test(test_layouts),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_jpeg_coefficients),
		cmocka_unit_test(test_png_memory),
		cmocka_unit_test(test_png16),
		cmocka_unit_test(test_png16_pipeline),
		cmocka_unit_test(test_verify_jpeg_same_as_detect),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

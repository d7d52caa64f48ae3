#define _GNU_SOURCE
/* Visible explicit labels on images: the text rule, geometry, contrast, errors, and detection after attacks. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/image_codec.h"
#include "label/explicit_image.h"
#include "testutil.h"

#define FONT_FILE AIMARK_SAMPLES_DIR "/../fonts/AimarkLabelSans-Bold.otf"
#define ZH_AI_GEN "AI\xe7\x94\x9f\xe6\x88\x90"                                 /* AI生成 */
#define ZH_RENGONG_HECHENG "\xe4\xba\xba\xe5\xb7\xa5\xe6\x99\xba\xe8\x83\xbd\xe5\x90\x88\xe6\x88\x90" /* 人工智能合成 */

/* ---- helpers ---- */

static uint32_t rng_state = 12345;
static uint32_t rng(void)
{
	rng_state = rng_state * 1664525u + 1013904223u;
	return rng_state >> 8;
}

static void make_image(aimark__image *img, uint32_t w, uint32_t h, uint32_t channels)
{
	assert_int_equal(aimark__image_alloc(img, w, h, channels, 8), 0);
}

static void fill_flat(aimark__image *img, unsigned v)
{
	for (uint32_t y = 0; y < img->height; y++)
		for (uint32_t x = 0; x < img->width; x++)
			for (uint32_t k = 0; k < img->channels; k++)
				img->pixels[y * img->stride + (size_t)x * img->channels + k] = (unsigned char)v;
}

static void fill_noise(aimark__image *img)
{
	for (uint32_t y = 0; y < img->height; y++)
		for (uint32_t x = 0; x < img->width; x++)
			for (uint32_t k = 0; k < img->channels; k++)
				img->pixels[y * img->stride + (size_t)x * img->channels + k] = (unsigned char)(rng() & 255);
}

/* Smooth colour fields with soft blobs and a little grain, like an out-of-focus photograph. */
static void fill_natural(aimark__image *img, uint32_t seed)
{
	rng_state = seed;
	double cx[6], cy[6], rad[6], amp[6][3];
	for (int b = 0; b < 6; b++) {
		cx[b] = rng() % img->width, cy[b] = rng() % img->height, rad[b] = 20 + rng() % (img->width / 2);
		for (int k = 0; k < 3; k++)
			amp[b][k] = (double)(rng() % 160) - 80;
	}
	for (uint32_t y = 0; y < img->height; y++)
		for (uint32_t x = 0; x < img->width; x++)
			for (uint32_t k = 0; k < img->channels && k < 3; k++) {
				double v = 90 + 60.0 * x / img->width + 40.0 * sin(y * 0.02 + k);
				for (int b = 0; b < 6; b++) {
					double dx = x - cx[b], dy = y - cy[b];
					v += amp[b][k] * exp(-(dx * dx + dy * dy) / (2 * rad[b] * rad[b]));
				}
				v += (double)(rng() % 9) - 4;
				img->pixels[y * img->stride + (size_t)x * img->channels + k] = (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : v);
			}
}

static void copy_image(const aimark__image *src, aimark__image *dst)
{
	assert_int_equal(aimark__image_alloc(dst, src->width, src->height, src->channels, src->bit_depth), 0);
	memcpy(dst->pixels, src->pixels, src->stride * src->height);
}

static aimark__image load_sample(const char *name, const char *format)
{
	size_t len;
	unsigned char *data = tu_read_file(tu_path("%s/%s", AIMARK_SAMPLES_DIR, name), &len);
	aimark__image img;
	assert_int_equal(aimark__image_decode(data, len, format, &img, NULL), 0);
	free(data);
	return img;
}

/* Area-average downscale or bilinear upscale of an 8-bit image (any channel count). */
static void resize(const aimark__image *in, double f, aimark__image *out)
{
	uint32_t w = (uint32_t)lround(in->width * f), h = (uint32_t)lround(in->height * f);
	uint32_t c = in->channels;
	assert_int_equal(aimark__image_alloc(out, w, h, c, 8), 0);
	double sx = (double)in->width / w, sy = (double)in->height / h;
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++)
			for (uint32_t k = 0; k < c; k++) {
				double v;
				if (f < 1.0) {
					double x0 = x * sx, x1 = (x + 1) * sx, y0 = y * sy, y1 = (y + 1) * sy, s = 0, a = 0;
					for (long yy = (long)floor(y0); yy < (long)ceil(y1) && yy < (long)in->height; yy++) {
						double wy = fmin(y1, yy + 1.0) - fmax(y0, (double)yy);
						for (long xx = (long)floor(x0); xx < (long)ceil(x1) && xx < (long)in->width; xx++) {
							double wx = fmin(x1, xx + 1.0) - fmax(x0, (double)xx);
							s += wx * wy * in->pixels[yy * in->stride + xx * c + k];
							a += wx * wy;
						}
					}
					v = s / a;
				} else {
					double fx = fmax(0.0, (x + 0.5) * sx - 0.5), fy = fmax(0.0, (y + 0.5) * sy - 0.5);
					long x0 = (long)fx, y0 = (long)fy;
					long x1 = x0 + 1 < (long)in->width ? x0 + 1 : x0, y1 = y0 + 1 < (long)in->height ? y0 + 1 : y0;
					double ax = fx - x0, ay = fy - y0;
#define PX(X, Y) in->pixels[(Y) * in->stride + (X) * c + k]
					v = (1 - ay) * ((1 - ax) * PX(x0, y0) + ax * PX(x1, y0)) + ay * ((1 - ax) * PX(x0, y1) + ax * PX(x1, y1));
#undef PX
				}
				out->pixels[y * out->stride + (size_t)x * c + k] = (unsigned char)lround(v);
			}
}

static void jpeg_encode(const aimark__image *in, int quality, aimark_buf *out)
{
	aimark__image_coding coding;
	memset(&coding, 0, sizeof coding);
	strcpy(coding.format, "jpeg");
	coding.quality = quality;
	assert_int_equal(aimark__image_encode(in, &coding, NULL, 0, out), 0);
}

static void jpeg_round_trip(const aimark__image *in, int quality, aimark__image *out)
{
	aimark_buf buf = AIMARK_BUF_INIT;
	jpeg_encode(in, quality, &buf);
	aimark__image_coding back;
	assert_int_equal(aimark__image_decode(buf.ptr, buf.size, "jpeg", out, &back), 0);
	assert_true(abs(back.quality - quality) <= 2);
	aimark_buf_dispose(&buf);
}

static json_t *detect(const aimark__image *img, const char *hint)
{
	json_t *o = NULL;
	int rc = aimark__explicit_image_detect(img, hint, &o);
	if (rc != 0)
		fail_msg("detect: %s", aimark_error_last());
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "kind")), "visible-text");
	assert_true(json_is_boolean(json_object_get(o, "detected")));
	assert_true(json_is_number(json_object_get(o, "score")));
	return o;
}

static void assert_detected(const aimark__image *img, const char *hint, const char *text, const char *position, const char *what)
{
	json_t *o = detect(img, hint);
	if (!json_is_true(json_object_get(o, "detected")))
		fail_msg("%s: label not detected (score %.3f)", what, json_number_value(json_object_get(o, "score")));
	assert_string_equal(json_string_value(json_object_get(o, "text")), text);
	assert_string_equal(json_string_value(json_object_get(o, "position")), position);
	json_decref(o);
}

static void assert_not_detected(const aimark__image *img, const char *what)
{
	json_t *o = detect(img, NULL);
	if (json_is_true(json_object_get(o, "detected")))
		fail_msg("%s: false detection of \"%s\" at %s (score %.3f)", what, json_string_value(json_object_get(o, "text")),
			 json_string_value(json_object_get(o, "position")), json_number_value(json_object_get(o, "score")));
	assert_true(json_is_null(json_object_get(o, "text")));
	json_decref(o);
}

static int apply(aimark__image *img, const char *text, const char *position, const char *language, aimark__explicit_image_info *info)
{
	aimark_mark_options o = AIMARK_MARK_OPTIONS_INIT;
	o.layers = AIMARK_LAYER_EXPLICIT;
	o.explicit_text = text;
	o.explicit_position = position;
	o.explicit_language = language;
	return aimark__explicit_image_apply(img, &o, info);
}

static double lum8(unsigned v)
{
	double c = v / 255.0;
	return c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4);
}

static double pixel_lum(const aimark__image *img, uint32_t x, uint32_t y)
{
	const unsigned char *p = img->pixels + y * img->stride + (size_t)x * img->channels;
	if (img->channels >= 3)
		return 0.2126 * lum8(p[0]) + 0.7152 * lum8(p[1]) + 0.0722 * lum8(p[2]);
	return lum8(p[0]);
}

static int pixel_changed(const aimark__image *a, const aimark__image *b, uint32_t x, uint32_t y)
{
	size_t bpp = (size_t)a->channels * (a->bit_depth / 8);
	return memcmp(a->pixels + y * a->stride + x * bpp, b->pixels + y * b->stride + x * bpp, bpp) != 0;
}

/* ---- the text rule (GB 45438 5.1 b) ---- */

static void test_text_elements(void **state)
{
	(void)state;
	unsigned int f = 0;
	assert_int_equal(aimark__explicit_text_check(ZH_AI_GEN, &f), 0);
	assert_int_equal(f, AIMARK__EXPLICIT_AI_LATIN | AIMARK__EXPLICIT_GEN_SC);
	assert_int_equal(aimark__explicit_text_check(ZH_RENGONG_HECHENG, &f), 0);
	assert_int_equal(f, AIMARK__EXPLICIT_AI_ZH | AIMARK__EXPLICIT_GEN_HC);
	assert_int_equal(aimark__explicit_text_check("AI-generated", &f), 0);
	assert_int_equal(f, AIMARK__EXPLICIT_AI_LATIN | AIMARK__EXPLICIT_GEN_EN);
	assert_int_equal(aimark__explicit_text_check("Synthesised by artificial intelligence", &f), 0);
	assert_int_equal(f, AIMARK__EXPLICIT_AI_EN | AIMARK__EXPLICIT_GEN_EN);
	assert_int_equal(aimark__explicit_text_check("\xe6\x9c\xac\xe5\x9b\xbe\xe7\x94\xb1" "AIGC" "\xe7\x94\x9f\xe6\x88\x90", &f), 0);
	assert_int_equal(aimark__explicit_text_check("\xef\xbc\xa1\xef\xbc\xa9\xe5\x90\x88\xe6\x88\x90", &f), 0); /* ＡＩ合成 */

	/* AI alone: no generation element. */
	assert_int_equal(aimark__explicit_text_check("AI", &f), AIMARK_EINVAL);
	assert_int_equal(f, 0);
	assert_non_null(strstr(aimark_error_last(), "lacks the generation element"));
	assert_int_equal(aimark__explicit_text_check("Made with AI", NULL), AIMARK_EINVAL);
	assert_non_null(strstr(aimark_error_last(), "generation element"));
	assert_non_null(strstr(aimark_error_last(), "Made with AI"));
	/* Generation alone: no AI element; "AI" inside a word is not the element. */
	assert_int_equal(aimark__explicit_text_check("\xe7\x94\x9f\xe6\x88\x90", NULL), AIMARK_EINVAL);
	assert_non_null(strstr(aimark_error_last(), "lacks the AI element"));
	assert_int_equal(aimark__explicit_text_check("PAID generated", NULL), AIMARK_EINVAL);
	assert_non_null(strstr(aimark_error_last(), "AI element"));
	assert_int_equal(aimark__explicit_text_check("OpenAI\xe7\x94\x9f\xe6\x88\x90", NULL), AIMARK_EINVAL);
	assert_int_equal(aimark__explicit_text_check("ai generated", NULL), AIMARK_EINVAL);
	assert_int_equal(aimark__explicit_text_check("Hello", NULL), AIMARK_EINVAL);
	assert_non_null(strstr(aimark_error_last(), "lacks both"));
	/* Malformed texts. */
	assert_int_equal(aimark__explicit_text_check("", NULL), AIMARK_EINVAL);
	assert_int_equal(aimark__explicit_text_check(NULL, NULL), AIMARK_EINVAL);
	assert_int_equal(aimark__explicit_text_check("AI\xff\xe7\x94\x9f\xe6\x88\x90", NULL), AIMARK_EINVAL);
	assert_non_null(strstr(aimark_error_last(), "UTF-8"));
	assert_int_equal(aimark__explicit_text_check("AI\xe7\x94", NULL), AIMARK_EINVAL);         /* truncated sequence */
	assert_int_equal(aimark__explicit_text_check("AI\xc0\xaf generated", NULL), AIMARK_EINVAL); /* overlong */
	assert_int_equal(aimark__explicit_text_check("AI\xed\xa0\x80 generated", NULL), AIMARK_EINVAL); /* surrogate */
	assert_int_equal(aimark__explicit_text_check("AI\n\xe7\x94\x9f\xe6\x88\x90", NULL), AIMARK_EINVAL);
	assert_non_null(strstr(aimark_error_last(), "U+000A"));
	assert_int_equal(aimark__explicit_text_check("A\xe2\x80\x8bI generated", NULL), AIMARK_EINVAL); /* zero-width space */
	char long_text[AIMARK__EXPLICIT_TEXT_MAX + 8];
	memset(long_text, 'x', sizeof long_text - 1);
	memcpy(long_text, "AI-generated ", 13);
	long_text[sizeof long_text - 1] = '\0';
	assert_int_equal(aimark__explicit_text_check(long_text, NULL), AIMARK_EINVAL);
	assert_non_null(strstr(aimark_error_last(), "bytes long"));

	assert_string_equal(aimark__explicit_text_default(NULL), ZH_AI_GEN);
	assert_string_equal(aimark__explicit_text_default("zh"), ZH_AI_GEN);
	assert_string_equal(aimark__explicit_text_default("en"), "AI-generated");
	assert_null(aimark__explicit_text_default("fr"));
	char desc[64];
	aimark__explicit_text_describe(AIMARK__EXPLICIT_AI_LATIN | AIMARK__EXPLICIT_GEN_SC, desc, sizeof desc);
	assert_string_equal(desc, "AI + \xe7\x94\x9f\xe6\x88\x90");
	aimark__explicit_text_describe(AIMARK__EXPLICIT_AI_LATIN | AIMARK__EXPLICIT_GEN_SC, desc, 6);
	assert_string_equal(desc, "AI"); /* no half-written name */
}

static void test_positions(void **state)
{
	(void)state;
	static const char *names[] = { "top-left", "top-right", "bottom-left", "bottom-right", "top", "bottom" };
	for (int i = 0; i < 6; i++) {
		assert_int_equal(aimark__explicit_position_parse(names[i]), i);
		assert_string_equal(aimark__explicit_position_name(i), names[i]);
	}
	assert_int_equal(aimark__explicit_position_parse(NULL), AIMARK__EXPLICIT_BOTTOM_RIGHT);
	assert_int_equal(aimark__explicit_position_parse("middle"), AIMARK_EINVAL);
	assert_non_null(strstr(aimark_error_last(), "bottom-right"));
}

/* ---- geometry ---- */

static void check_geometry(uint32_t w, uint32_t h, uint32_t channels, const char *position, const char *language)
{
	aimark__image img, orig;
	make_image(&img, w, h, channels);
	fill_flat(&img, 255);
	copy_image(&img, &orig);
	aimark__explicit_image_info info;
	int rc = apply(&img, NULL, position, language, &info);
	if (rc != 0)
		fail_msg("%ux%u %s %s: %s", w, h, position, language, aimark_error_last());
	const aimark__explicit_image_geometry *g = &info.geometry;
	uint32_t shortest = w < h ? w : h;
	uint32_t req = (uint32_t)ceil(shortest * 0.05);
	if (req < AIMARK__EXPLICIT_IMAGE_MIN_TEXT_PX)
		req = AIMARK__EXPLICIT_IMAGE_MIN_TEXT_PX;
	assert_int_equal(g->required_height, req);
	assert_true(g->text_height >= req);
	assert_true(g->text_height * 20 >= shortest);
	/* The box lies inside the image, off its edges by the margin, and holds the ink. */
	assert_true(g->margin >= 2);
	assert_true(g->box_x >= g->margin && g->box_y >= g->margin);
	assert_true(g->box_x + g->box_width + g->margin <= w);
	assert_true(g->box_y + g->box_height + g->margin <= h);
	assert_true(g->ink_x >= g->box_x && g->ink_x + g->ink_width <= g->box_x + g->box_width);
	assert_true(g->ink_y >= g->box_y && g->ink_y + g->ink_height <= g->box_y + g->box_height);
	/* On a corner or an edge, as asked. */
	int left = g->box_x == g->margin, right = g->box_x + g->box_width + g->margin == w;
	int top = g->box_y == g->margin, bottom = g->box_y + g->box_height + g->margin == h;
	if (strcmp(position, "top-left") == 0)
		assert_true(left && top);
	else if (strcmp(position, "top-right") == 0)
		assert_true(right && top);
	else if (strcmp(position, "bottom-left") == 0)
		assert_true(left && bottom);
	else if (strcmp(position, "bottom-right") == 0)
		assert_true(right && bottom);
	else if (strcmp(position, "top") == 0)
		assert_true(top && abs((int)(g->box_x * 2 + g->box_width) - (int)w) <= 1);
	else
		assert_true(bottom && abs((int)(g->box_x * 2 + g->box_width) - (int)w) <= 1);
	assert_string_equal(info.position, position);

	/*
	 * Measured on the pixels: dark text on white; every changed pixel is in
	 * the box, and the rows holding at least half-dark text pixels span at
	 * least the required height.
	 */
	assert_int_equal(info.dark_text, 1);
	assert_int_equal(info.boxed, 0);
	int first = -1, last = -1;
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++) {
			if (!pixel_changed(&img, &orig, x, y))
				continue;
			assert_true(x >= g->box_x && x < g->box_x + g->box_width && y >= g->box_y && y < g->box_y + g->box_height);
			if (img.pixels[y * img.stride + (size_t)x * channels] < 128) {
				if (first < 0)
					first = (int)y;
				last = (int)y;
			}
		}
	assert_true(first >= 0);
	if ((uint32_t)(last - first + 1) < req)
		fail_msg("%ux%u %s: ink rows %d < %u", w, h, position, last - first + 1, req);
	aimark__image_dispose(&img);
	aimark__image_dispose(&orig);
}

static void test_geometry_all_positions(void **state)
{
	(void)state;
	static const char *positions[] = { "top-left", "top-right", "bottom-left", "bottom-right", "top", "bottom" };
	for (int i = 0; i < 6; i++) {
		check_geometry(640, 480, 3, positions[i], "zh");
		check_geometry(640, 480, 3, positions[i], "en");
		check_geometry(300, 900, 1, positions[i], "zh");
		check_geometry(1920, 1080, 4, positions[i], "zh");
		check_geometry(120, 90, 3, positions[i], "zh");
	}
	check_geometry(2000, 333, 2, "bottom-right", "en");
}

static void test_default_texts_and_info(void **state)
{
	(void)state;
	aimark__image img;
	make_image(&img, 400, 300, 3);
	fill_flat(&img, 20);
	aimark__explicit_image_info info;
	assert_int_equal(apply(&img, NULL, NULL, NULL, &info), 0);
	assert_string_equal(info.text, ZH_AI_GEN);
	assert_string_equal(info.position, "bottom-right");
	assert_int_equal(info.elements, AIMARK__EXPLICIT_AI_LATIN | AIMARK__EXPLICIT_GEN_SC);
	assert_int_equal(info.dark_text, 0); /* white text on a dark image */
	assert_true(info.contrast_ratio > 15.0);
	assert_int_equal(info.alpha_min, 255);
	assert_true(info.font[0] != '\0');
	fill_flat(&img, 20);
	assert_int_equal(apply(&img, NULL, "top", "en", &info), 0);
	assert_string_equal(info.text, "AI-generated");
	assert_int_equal(apply(&img, ZH_RENGONG_HECHENG, NULL, "en", &info), 0);
	assert_string_equal(info.text, ZH_RENGONG_HECHENG); /* an explicit text wins over the language */
	/* A NULL info is allowed. */
	assert_int_equal(apply(&img, NULL, NULL, NULL, NULL), 0);
	aimark__image_dispose(&img);
}

/* ---- contrast ---- */

/*
 * Contrast measured on the output: the text pixels (exactly the text
 * colour; a box never composites to it) against the label's other pixels
 * near the text (within the box padding, at least 2 pixels from any text
 * pixel, so that anti-aliased edges do not count).
 */
static double surround_pass_share(const aimark__image *img, const aimark__explicit_image_info *info, double *text_to_worst)
{
	const aimark__explicit_image_geometry *g = &info->geometry;
	unsigned tv = info->dark_text ? 0 : 255;
	double tl = info->dark_text ? 0.0 : 1.0;
	uint32_t bw = g->box_width, bh = g->box_height;
	unsigned char *is_text = calloc((size_t)bw * bh, 1);
	assert_non_null(is_text);
	size_t ntext = 0;
	for (uint32_t y = 0; y < bh; y++)
		for (uint32_t x = 0; x < bw; x++) {
			const unsigned char *p = img->pixels + (g->box_y + y) * img->stride + (size_t)(g->box_x + x) * img->channels;
			int all = 1;
			for (uint32_t k = 0; k < (img->channels >= 3 ? 3u : 1u); k++)
				all &= p[k] == tv;
			if (all)
				is_text[y * bw + x] = 1, ntext++;
		}
	assert_true(ntext > 20);
	uint32_t grow = g->pad / 2 < 1 ? 1 : g->pad / 2;
	size_t n = 0, pass = 0;
	double worst = 21.0;
	for (uint32_t y = g->pad - grow; y < g->pad + g->ink_height + grow; y++)
		for (uint32_t x = g->pad - grow; x < g->pad + g->ink_width + grow; x++) {
			int near = 0;
			for (int dy = -2; dy <= 2 && !near; dy++)
				for (int dx = -2; dx <= 2 && !near; dx++) {
					long yy = (long)y + dy, xx = (long)x + dx;
					if (yy >= 0 && xx >= 0 && yy < (long)bh && xx < (long)bw && is_text[yy * bw + xx])
						near = 1;
				}
			if (near)
				continue;
			double l = pixel_lum(img, g->box_x + x, g->box_y + y);
			double r = (fmax(l, tl) + 0.05) / (fmin(l, tl) + 0.05);
			n++;
			pass += r >= AIMARK__EXPLICIT_IMAGE_MIN_CONTRAST;
			if (r < worst)
				worst = r;
		}
	free(is_text);
	assert_true(n > 20);
	*text_to_worst = worst;
	return (double)pass / n;
}

static void check_contrast(aimark__image *img, const char *what, int expect_box)
{
	aimark__image orig;
	copy_image(img, &orig);
	aimark__explicit_image_info info;
	assert_int_equal(apply(img, NULL, NULL, NULL, &info), 0);
	if (info.contrast_ratio < AIMARK__EXPLICIT_IMAGE_MIN_CONTRAST)
		fail_msg("%s: reported contrast %.2f", what, info.contrast_ratio);
	if (expect_box >= 0 && info.boxed != expect_box)
		fail_msg("%s: boxed %d, expected %d", what, info.boxed, expect_box);
	const aimark__explicit_image_geometry *g = &info.geometry;
	for (uint32_t y = 0; y < img->height; y++)
		for (uint32_t x = 0; x < img->width; x++)
			if (x < g->box_x || x >= g->box_x + g->box_width || y < g->box_y || y >= g->box_y + g->box_height)
				assert_false(pixel_changed(img, &orig, x, y));
	double worst;
	double share = surround_pass_share(img, &info, &worst);
	if (info.boxed) {
		assert_true(info.box_opacity >= 0.75 && info.box_opacity <= 1.0);
		if (worst < AIMARK__EXPLICIT_IMAGE_MIN_CONTRAST)
			fail_msg("%s: boxed label, worst contrast %.2f", what, worst);
	} else if (share < 0.98) {
		fail_msg("%s: only %.1f%% of the text's surroundings reach 4.5:1", what, share * 100);
	}
	aimark__image_dispose(&orig);
}

static void test_contrast_backgrounds(void **state)
{
	(void)state;
	aimark__image img;
	make_image(&img, 480, 360, 3);
	fill_flat(&img, 255);
	check_contrast(&img, "white", 0);
	fill_flat(&img, 0);
	check_contrast(&img, "black", 0);
	fill_flat(&img, 128);
	check_contrast(&img, "mid-grey", 0);
	fill_flat(&img, 118); /* near the grey where white and black text do equally well */
	check_contrast(&img, "grey 118", 0);
	/* Black and white stripes: no text colour suits both, so a box. */
	for (uint32_t y = 0; y < img.height; y++)
		for (uint32_t x = 0; x < img.width; x++)
			memset(img.pixels + y * img.stride + (size_t)x * 3, (x / 6) % 2 ? 255 : 0, 3);
	check_contrast(&img, "stripes", 1);
	rng_state = 7;
	fill_noise(&img);
	check_contrast(&img, "noise", 1);
	fill_natural(&img, 99);
	check_contrast(&img, "natural", -1);
	aimark__image_dispose(&img);

	aimark__image grey;
	make_image(&grey, 300, 300, 1);
	rng_state = 8;
	fill_noise(&grey);
	check_contrast(&grey, "grey noise", 1);
	aimark__image_dispose(&grey);
}

static void test_alpha_left_alone(void **state)
{
	(void)state;
	for (uint32_t channels = 2; channels <= 4; channels += 2) {
		aimark__image img, orig;
		make_image(&img, 320, 240, channels);
		fill_natural(&img, 5);
		for (uint32_t y = 0; y < img.height; y++)
			for (uint32_t x = 0; x < img.width; x++)
				img.pixels[y * img.stride + (size_t)x * channels + channels - 1] = (unsigned char)(x + y);
		copy_image(&img, &orig);
		aimark__explicit_image_info info;
		assert_int_equal(apply(&img, NULL, "top-left", NULL, &info), 0);
		size_t changed = 0;
		for (uint32_t y = 0; y < img.height; y++)
			for (uint32_t x = 0; x < img.width; x++) {
				size_t i = y * img.stride + (size_t)x * channels;
				assert_int_equal(img.pixels[i + channels - 1], orig.pixels[i + channels - 1]);
				changed += img.pixels[i] != orig.pixels[i];
			}
		assert_true(changed > 100);
		/* Alpha is x + y: its lowest value under the label is at the box's top-left pixel. */
		assert_int_equal(info.alpha_min, info.geometry.box_x + info.geometry.box_y);
		aimark__image_dispose(&img);
		aimark__image_dispose(&orig);
	}
}

static void test_sixteen_bit(void **state)
{
	(void)state;
	aimark__image img;
	assert_int_equal(aimark__image_alloc(&img, 400, 300, 3, 16), 0);
	uint16_t *p = (uint16_t *)img.pixels;
	for (size_t i = 0; i < (size_t)400 * 300 * 3; i++)
		p[i] = 60000;
	aimark__explicit_image_info info;
	assert_int_equal(apply(&img, NULL, NULL, NULL, &info), 0);
	assert_int_equal(info.dark_text, 1);
	const aimark__explicit_image_geometry *g = &info.geometry;
	size_t dark = 0;
	for (uint32_t y = g->box_y; y < g->box_y + g->box_height; y++)
		for (uint32_t x = g->box_x; x < g->box_x + g->box_width; x++)
			dark += p[(y * 400 + x) * 3] == 0;
	assert_true(dark > 50);
	assert_int_equal(p[0], 60000);
	aimark__image_dispose(&img);
}

/* ---- errors ---- */

static void test_bad_options(void **state)
{
	(void)state;
	aimark__image img, orig;
	make_image(&img, 320, 240, 3);
	fill_natural(&img, 3);
	copy_image(&img, &orig);
	assert_int_equal(apply(&img, "AI", NULL, NULL, NULL), AIMARK_EINVAL);
	assert_non_null(strstr(aimark_error_last(), "generation element"));
	assert_int_equal(apply(&img, "Made with AI", NULL, NULL, NULL), AIMARK_EINVAL);
	assert_non_null(strstr(aimark_error_last(), "generation element"));
	assert_int_equal(apply(&img, "\xe5\x90\x88\xe6\x88\x90", NULL, NULL, NULL), AIMARK_EINVAL);
	assert_non_null(strstr(aimark_error_last(), "AI element"));
	assert_int_equal(apply(&img, NULL, "centre", NULL, NULL), AIMARK_EINVAL);
	assert_non_null(strstr(aimark_error_last(), "position"));
	assert_int_equal(apply(&img, NULL, NULL, "fr", NULL), AIMARK_EINVAL);
	assert_non_null(strstr(aimark_error_last(), "language"));
	/* A character the bundled font lacks (画). */
	assert_int_equal(apply(&img, "AI\xe7\x94\x9f\xe6\x88\x90\xe7\x94\xbb", NULL, NULL, NULL), AIMARK_EUNSUPPORTED);
	assert_non_null(strstr(aimark_error_last(), "U+753B"));
	/* A label that cannot fit. */
	aimark__image tiny;
	make_image(&tiny, 16, 16, 3);
	fill_flat(&tiny, 200);
	assert_int_equal(apply(&tiny, NULL, NULL, NULL, NULL), AIMARK_ELIMIT);
	assert_non_null(strstr(aimark_error_last(), "cannot fit"));
	assert_non_null(strstr(aimark_error_last(), "16x16"));
	aimark__image narrow;
	make_image(&narrow, 90, 600, 3);
	fill_flat(&narrow, 200);
	assert_int_equal(apply(&narrow, "AI-generated", NULL, NULL, NULL), AIMARK_ELIMIT);
	assert_non_null(strstr(aimark_error_last(), "90x600"));
	assert_int_equal(apply(&narrow, ZH_AI_GEN, NULL, NULL, NULL), 0); /* the short label fits */
	/* Fonts: missing file, not a font. */
	aimark_mark_options o = AIMARK_MARK_OPTIONS_INIT;
	o.explicit_font = "/nonexistent/font.otf";
	assert_int_equal(aimark__explicit_image_apply(&img, &o, NULL), AIMARK_EUNSUPPORTED);
	assert_non_null(strstr(aimark_error_last(), "/nonexistent/font.otf"));
	o.explicit_font = AIMARK_SAMPLES_DIR "/images/cellauto.png";
	assert_int_equal(aimark__explicit_image_apply(&img, &o, NULL), AIMARK_EUNSUPPORTED);
	assert_non_null(strstr(aimark_error_last(), "cellauto.png"));
	assert_int_equal(aimark__explicit_image_apply(&img, NULL, NULL), AIMARK_EINVAL);
	assert_int_equal(aimark__explicit_image_apply(NULL, &o, NULL), AIMARK_EINVAL);
	/* Nothing was drawn by the failed calls. */
	assert_memory_equal(img.pixels, orig.pixels, img.stride * img.height);
	aimark__image_dispose(&img);
	aimark__image_dispose(&orig);
	aimark__image_dispose(&tiny);
	aimark__image_dispose(&narrow);
}

static void test_font_sources(void **state)
{
	(void)state;
	aimark__image img;
	make_image(&img, 320, 240, 3);
	fill_flat(&img, 30);
	aimark__explicit_image_info info;
	/* A font file given by path. */
	aimark_mark_options o = AIMARK_MARK_OPTIONS_INIT;
	o.explicit_font = FONT_FILE;
	assert_int_equal(aimark__explicit_image_apply(&img, &o, &info), 0);
	assert_string_equal(info.font, FONT_FILE);
	/* AIMARK_FONT_DIR: used when set, an error when the font is not there. */
	setenv("AIMARK_FONT_DIR", AIMARK_SAMPLES_DIR "/../fonts", 1);
	assert_int_equal(apply(&img, NULL, NULL, NULL, &info), 0);
	assert_non_null(strstr(info.font, "AimarkLabelSans-Bold.otf"));
	setenv("AIMARK_FONT_DIR", "/nonexistent", 1);
	assert_int_equal(apply(&img, NULL, NULL, NULL, &info), AIMARK_EUNSUPPORTED);
	assert_non_null(strstr(aimark_error_last(), "AIMARK_FONT_DIR"));
	unsetenv("AIMARK_FONT_DIR");
	assert_int_equal(apply(&img, NULL, NULL, NULL, &info), 0);
	aimark__image_dispose(&img);
}

/* ---- detection ---- */

static void label_attack_detect(const aimark__image *src, const char *text, const char *position, const char *language,
				const char *name)
{
	aimark__image img;
	copy_image(src, &img);
	aimark__explicit_image_info info;
	if (apply(&img, text, position, language, &info) != 0)
		fail_msg("%s: %s", name, aimark_error_last());
	const char *expect = info.text;
	assert_detected(&img, text, expect, position, name);
	aimark__image a, b;
	jpeg_round_trip(&img, 50, &a);
	assert_detected(&a, NULL, expect, position, "JPEG q50");
	aimark__image_dispose(&a);
	resize(&img, 0.5, &a);
	assert_detected(&a, NULL, expect, position, "resize 0.5x");
	jpeg_round_trip(&a, 70, &b);
	assert_detected(&b, NULL, expect, position, "resize 0.5x + JPEG q70");
	aimark__image_dispose(&a);
	aimark__image_dispose(&b);
	resize(&img, 2.0, &a);
	assert_detected(&a, NULL, expect, position, "resize 2x");
	aimark__image_dispose(&a);
	aimark__image_dispose(&img);
}

static void test_detect_after_attacks(void **state)
{
	(void)state;
	aimark__image m = load_sample("images/mandelbrot.jpg", "jpeg");
	label_attack_detect(&m, NULL, "bottom-right", "zh", "mandelbrot zh");
	label_attack_detect(&m, NULL, "top-left", "en", "mandelbrot en");
	aimark__image_dispose(&m);
	aimark__image c = load_sample("images/cellauto.png", "png");
	label_attack_detect(&c, NULL, "top", "zh", "cellauto (boxed)");
	aimark__image_dispose(&c);
	aimark__image n;
	make_image(&n, 512, 384, 3);
	fill_natural(&n, 42);
	label_attack_detect(&n, NULL, "bottom", "zh", "natural");
	label_attack_detect(&n, NULL, "top-right", "en", "natural en");
	aimark__image_dispose(&n);
	/* A small image: the label sits at the 10-pixel floor. */
	aimark__image s;
	make_image(&s, 160, 120, 3);
	fill_natural(&s, 43);
	label_attack_detect(&s, NULL, "bottom-left", "zh", "small");
	aimark__image_dispose(&s);
}

/*
 * Large images: the detector reads its working scale from a plane of k x k block averages (k = 3 at
 * 2560 x 1600, 4 after a 1.5x resize), and still finds the label after JPEG and resizes, but not in the
 * unlabelled image.
 */
static void test_detect_large_image(void **state)
{
	(void)state;
	aimark__image n;
	make_image(&n, 2560, 1600, 3);
	fill_natural(&n, 44);
	assert_not_detected(&n, "large unlabelled");
	label_attack_detect(&n, NULL, "bottom-right", "zh", "large");
	aimark__image img, a;
	copy_image(&n, &img);
	aimark__explicit_image_info info;
	assert_int_equal(apply(&img, NULL, "top-left", "en", &info), 0);
	resize(&img, 1.5, &a);
	assert_detected(&a, NULL, info.text, "top-left", "large, resize 1.5x");
	aimark__image_dispose(&a);
	aimark__image_dispose(&img);
	aimark__image_dispose(&n);
}

/*
 * A large JPEG's luminance decoded at a DCT scaling (what aimark_verify does): the detector, told the
 * full size, finds the label there as in the full decode; sizes that do not match are refused.
 */
static void test_detect_scaled_jpeg(void **state)
{
	(void)state;
	aimark__image img;
	make_image(&img, 2560, 1600, 3);
	fill_natural(&img, 45);
	aimark__explicit_image_info info;
	assert_int_equal(apply(&img, NULL, "bottom-left", "zh", &info), 0);
	aimark_buf jpg = AIMARK_BUF_INIT;
	jpeg_encode(&img, 80, &jpg);
	aimark__image_dispose(&img);
	assert_int_equal(aimark__explicit_image_plane_block(2560, 1600), 3);
	aimark__image luma;
	uint32_t w = 0, h = 0;
	unsigned denom = 0;
	assert_int_equal(aimark__jpeg_decode_luma(jpg.ptr, jpg.size, aimark__explicit_image_plane_block, &luma, &w, &h, &denom), 0);
	assert_int_equal(denom, 2);
	assert_int_equal(w, 2560);
	assert_int_equal(h, 1600);
	assert_int_equal(luma.width, 1280);
	assert_int_equal(luma.channels, 1);
	json_t *o = NULL;
	assert_int_equal(aimark__explicit_image_detect_scaled(&luma, w, h, denom, NULL, &o), 0);
	assert_true(json_is_true(json_object_get(o, "detected")));
	assert_string_equal(json_string_value(json_object_get(o, "text")), info.text);
	assert_string_equal(json_string_value(json_object_get(o, "position")), "bottom-left");
	json_decref(o);
	assert_int_equal(aimark__explicit_image_detect_scaled(&luma, w, h, 4, NULL, &o), AIMARK_EINVAL);
	assert_null(o);
	assert_int_equal(aimark__explicit_image_detect_scaled(&luma, w + 2, h, denom, NULL, &o), AIMARK_EINVAL);
	aimark__image_dispose(&luma);
	aimark_buf_dispose(&jpg);
}

static void test_detect_custom_text(void **state)
{
	(void)state;
	aimark__image img;
	make_image(&img, 480, 360, 3);
	fill_natural(&img, 11);
	aimark__explicit_image_info info;
	assert_int_equal(apply(&img, ZH_RENGONG_HECHENG, "top-left", NULL, &info), 0);
	/* Found with the text as a hint, also after JPEG. */
	aimark__image a;
	jpeg_round_trip(&img, 60, &a);
	assert_detected(&a, ZH_RENGONG_HECHENG, ZH_RENGONG_HECHENG, "top-left", "custom text with hint");
	aimark__image_dispose(&a);
	/* A hint the bundled font cannot draw is skipped, not an error. */
	json_t *o = detect(&img, "\xe7\x94\xbb AI\xe7\x94\x9f\xe6\x88\x90");
	json_decref(o);
	aimark__image_dispose(&img);
}

static void test_no_false_detection(void **state)
{
	(void)state;
	static const struct {
		const char *name, *format;
	} samples[] = { { "images/mandelbrot.jpg", "jpeg" }, { "images/cellauto.png", "png" }, { "images/testsrc.webp", "webp" } };
	for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
		aimark__image img = load_sample(samples[i].name, samples[i].format), half;
		assert_not_detected(&img, samples[i].name);
		resize(&img, 0.5, &half);
		assert_not_detected(&half, samples[i].name);
		aimark__image_dispose(&half);
		aimark__image_dispose(&img);
	}
	/* A real vendor image with its own visible label (another font, too faint to count). */
	size_t len;
	unsigned char *data = tu_read_file(TU_SHARED("spec/gb45438-samples/doubao-web-xmp-producer-uscc.png"), &len);
	aimark__image v;
	assert_int_equal(aimark__image_decode(data, len, "png", &v, NULL), 0);
	free(data);
	assert_not_detected(&v, "doubao sample");
	aimark__image_dispose(&v);
	/* Random noise and natural-looking images at several sizes. */
	static const uint32_t sizes[][2] = { { 640, 480 }, { 200, 150 }, { 96, 96 }, { 1200, 300 } };
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		aimark__image img;
		make_image(&img, sizes[i][0], sizes[i][1], 3);
		rng_state = (uint32_t)(100 + i);
		fill_noise(&img);
		assert_not_detected(&img, "noise");
		fill_natural(&img, (uint32_t)(200 + i));
		assert_not_detected(&img, "natural");
		aimark__image_dispose(&img);
	}
	/* Degenerate images: a single pixel, a sliver. */
	aimark__image one;
	make_image(&one, 1, 1, 1);
	assert_not_detected(&one, "1x1");
	aimark__image_dispose(&one);
	make_image(&one, 3000, 4, 3);
	assert_not_detected(&one, "sliver");
	aimark__image_dispose(&one);
	assert_int_equal(aimark__explicit_image_detect(NULL, NULL, &(json_t *){ NULL }), AIMARK_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_elements),
		cmocka_unit_test(test_positions),
		cmocka_unit_test(test_geometry_all_positions),
		cmocka_unit_test(test_default_texts_and_info),
		cmocka_unit_test(test_contrast_backgrounds),
		cmocka_unit_test(test_alpha_left_alone),
		cmocka_unit_test(test_sixteen_bit),
		cmocka_unit_test(test_bad_options),
		cmocka_unit_test(test_font_sources),
		cmocka_unit_test(test_detect_after_attacks),
		cmocka_unit_test(test_detect_large_image),
		cmocka_unit_test(test_detect_scaled_jpeg),
		cmocka_unit_test(test_detect_custom_text),
		cmocka_unit_test(test_no_false_detection),
	};
	return cmocka_run_group_tests_name("explicit_image", tests, NULL, NULL);
}

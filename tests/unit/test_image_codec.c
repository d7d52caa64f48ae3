#define _GNU_SOURCE
/* Decoding and re-encoding images for the pixel layers. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/image_codec.h"
#include "testutil.h"

static double luma(const aimark__image *im, uint32_t y, uint32_t x)
{
	const unsigned char *p = im->pixels + y * im->stride + (size_t)x * im->channels;
	return im->channels >= 3 ? 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2] : p[0];
}

/* PSNR of the luma: chroma subsampling is not idempotent on sharp colour edges, and luma is what generation loss shows in. */
static double psnr(const aimark__image *a, const aimark__image *b)
{
	assert_int_equal(a->width, b->width);
	assert_int_equal(a->height, b->height);
	assert_int_equal(a->channels, b->channels);
	double se = 0;
	size_t n = 0;
	for (uint32_t y = 0; y < a->height; y++)
		for (uint32_t x = 0; x < a->width; x++) {
			double d = luma(a, y, x) - luma(b, y, x);
			se += d * d;
			n++;
		}
	return se == 0 ? 99.0 : 10.0 * log10(255.0 * 255.0 / (se / (double)n));
}

static void round_trip(const char *file, const char *format, double min_psnr)
{
	size_t len;
	unsigned char *data = tu_read_file(tu_path("%s/images/%s", AIMARK_SAMPLES_DIR, file), &len);
	aimark__image img, back;
	aimark__image_coding coding;
	assert_int_equal(aimark__image_decode(data, len, format, &img, &coding), 0);
	assert_true(img.width > 0 && img.height > 0);
	aimark_buf out = AIMARK_BUF_INIT;
	assert_int_equal(aimark__image_encode(&img, &coding, data, len, &out), 0);
	aimark__image_coding again;
	assert_int_equal(aimark__image_decode(out.ptr, out.size, format, &back, &again), 0);
	double p = psnr(&img, &back);
	if (p < min_psnr)
		fail_msg("%s: PSNR %.1f dB after re-encoding (want >= %.1f)", file, p, min_psnr);
	aimark__image_dispose(&img);
	aimark__image_dispose(&back);
	aimark_buf_dispose(&out);
	free(data);
}

static void test_jpeg_round_trip(void **s) { (void)s; round_trip("mandelbrot.jpg", "jpeg", 35.0); }
static void test_png_round_trip_is_lossless(void **s) { (void)s; round_trip("cellauto.png", "png", 99.0); }
static void test_webp_round_trip(void **s) { (void)s; round_trip("testsrc.webp", "webp", 30.0); }

/* Quality estimation recovers the IJG quality cjpeg was given. */
static void test_jpeg_quality_estimate(void **state)
{
	(void)state;
	if (system("command -v cjpeg >/dev/null 2>&1") != 0)
		skip();
	char *dir = tu_tempdir();
	const int qualities[] = { 30, 50, 75, 90, 97 };
	for (size_t i = 0; i < sizeof qualities / sizeof qualities[0]; i++) {
		char cmd[8192];
		snprintf(cmd, sizeof cmd, "djpeg -pnm '%s/images/mandelbrot.jpg' | cjpeg -quality %d > '%s/q.jpg'",
			 AIMARK_SAMPLES_DIR, qualities[i], dir);
		assert_int_equal(system(cmd), 0);
		size_t len;
		unsigned char *data = tu_read_file(tu_path("%s/q.jpg", dir), &len);
		aimark__image img;
		aimark__image_coding coding;
		assert_int_equal(aimark__image_decode(data, len, "jpeg", &img, &coding), 0);
		if (abs(coding.quality - qualities[i]) > 1)
			fail_msg("quality %d estimated as %d", qualities[i], coding.quality);
		aimark__image_dispose(&img);
		free(data);
	}
	tu_rmtree(dir);
	free(dir);
}

/* Metadata segments survive a re-encode: a label written before pixels change is not lost. */
static void test_jpeg_keeps_metadata(void **state)
{
	(void)state;
	size_t len;
	unsigned char *data = tu_read_file(tu_path("%s/images/mandelbrot.jpg", AIMARK_SAMPLES_DIR), &len);
	aimark_mark_options o = AIMARK_MARK_OPTIONS_INIT;
	o.content_producer = "p1";
	o.produce_id = "keep-me";
	aimark_buf labelled = AIMARK_BUF_INIT, out = AIMARK_BUF_INIT;
	assert_int_equal(aimark_mark_memory(data, len, &o, &labelled, NULL), 0);
	aimark__image img;
	aimark__image_coding coding;
	assert_int_equal(aimark__image_decode(labelled.ptr, labelled.size, "jpeg", &img, &coding), 0);
	assert_int_equal(aimark__image_encode(&img, &coding, labelled.ptr, labelled.size, &out), 0);
	assert_non_null(memmem(out.ptr, out.size, "keep-me", 7));
	aimark__image_dispose(&img);
	aimark_buf_dispose(&labelled);
	aimark_buf_dispose(&out);
	free(data);
}

static void test_corrupt_inputs(void **state)
{
	(void)state;
	static const char *formats[] = { "jpeg", "png", "webp" };
	unsigned char junk[256];
	for (size_t i = 0; i < sizeof junk; i++)
		junk[i] = (unsigned char)(i * 37);
	for (size_t f = 0; f < 3; f++) {
		aimark__image img;
		int rc = aimark__image_decode(junk, sizeof junk, formats[f], &img, NULL);
		assert_true(rc == AIMARK_EFORMAT || rc == AIMARK_EUNSUPPORTED);
		assert_null(img.pixels);
	}
	aimark__image img;
	assert_int_equal(aimark__image_decode(junk, sizeof junk, "gif", &img, NULL), AIMARK_EUNSUPPORTED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jpeg_round_trip),
		cmocka_unit_test(test_png_round_trip_is_lossless),
		cmocka_unit_test(test_webp_round_trip),
		cmocka_unit_test(test_jpeg_quality_estimate),
		cmocka_unit_test(test_jpeg_keeps_metadata),
		cmocka_unit_test(test_corrupt_inputs),
	};
	return cmocka_run_group_tests_name("image_codec", tests, NULL, NULL);
}

#define _GNU_SOURCE
/* Decoding and re-encoding images for the pixel layers. */
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/image_codec.h"
#include "core/internal.h"
#include <zlib.h>
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


/* ---- 16-bit PNG: file-native samples at 16 bits, bit-exact round trip ---- */

/* A PNG written by libpng from big-endian rows, independent of aimark's encoder. */
typedef struct png_mem {
	unsigned char *p;
	size_t n;
} png_mem;

static void mem_write(png_structp png, png_bytep data, size_t n)
{
	png_mem *m = png_get_io_ptr(png);
	m->p = realloc(m->p, m->n + n);
	assert_non_null(m->p);
	memcpy(m->p + m->n, data, n);
	m->n += n;
}

static void mem_flush(png_structp png) { (void)png; }

/* Sample (x, y, c) of the reference pattern: uses all 16 bits, so an 8-bit path cannot reproduce it. */
static uint16_t sample16(uint32_t x, uint32_t y, uint32_t c)
{
	return (uint16_t)(x * 2654435761u ^ y * 40503u ^ c * 977u ^ (x * y));
}

static png_mem write_reference(uint32_t w, uint32_t h, int colour_type, int depth, int interlace, int with_trns)
{
	png_mem m = { NULL, 0 };
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	png_infop info = png_create_info_struct(png);
	assert_non_null(info);
	if (setjmp(png_jmpbuf(png)))
		fail_msg("libpng failed writing the reference");
	png_set_write_fn(png, &m, mem_write, mem_flush);
	png_set_IHDR(png, info, w, h, depth, colour_type, interlace, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_color pal[4] = { { 0, 0, 0 }, { 255, 0, 0 }, { 0, 255, 0 }, { 10, 20, 30 } };
	png_byte trns[4] = { 0, 128, 255, 255 };
	if (colour_type == PNG_COLOR_TYPE_PALETTE) {
		png_set_PLTE(png, info, pal, 4);
		if (with_trns)
			png_set_tRNS(png, info, trns, 4, NULL);
	}
	png_write_info(png, info);
	int ch = png_get_channels(png, info);
	size_t rowbytes = (size_t)w * ch * (depth / 8);
	unsigned char *row = malloc(rowbytes);
	int passes = png_set_interlace_handling(png);
	for (int p = 0; p < passes; p++)
		for (uint32_t y = 0; y < h; y++) {
			for (uint32_t x = 0; x < w; x++)
				for (int c = 0; c < ch; c++) {
					if (depth == 16)
						aimark__put_be16(row + ((size_t)x * ch + c) * 2, sample16(x, y, (uint32_t)c));
					else
						row[(size_t)x * ch + c] = (unsigned char)((x + y) % 4);
				}
			png_write_row(png, row);
		}
	png_write_end(png, info);
	png_destroy_write_struct(&png, &info);
	free(row);
	return m;
}

static void test_png16_decode_native_samples(void **state)
{
	(void)state;
	static const struct { int type; uint32_t ch; int interlace; } cases[] = {
		{ PNG_COLOR_TYPE_RGB, 3, PNG_INTERLACE_NONE },       { PNG_COLOR_TYPE_GRAY, 1, PNG_INTERLACE_NONE },
		{ PNG_COLOR_TYPE_RGB_ALPHA, 4, PNG_INTERLACE_NONE }, { PNG_COLOR_TYPE_GRAY_ALPHA, 2, PNG_INTERLACE_NONE },
		{ PNG_COLOR_TYPE_RGB, 3, PNG_INTERLACE_ADAM7 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		png_mem m = write_reference(37, 23, cases[i].type, 16, cases[i].interlace, 0);
		aimark__image img;
		aimark__image_coding coding;
		assert_int_equal(aimark__image_decode(m.p, m.n, "png", &img, &coding), 0);
		assert_int_equal(img.bit_depth, 16);
		assert_int_equal(img.channels, cases[i].ch);
		assert_int_equal(img.stride, 37u * cases[i].ch * 2);
		for (uint32_t y = 0; y < 23; y++)
			for (uint32_t x = 0; x < 37; x++)
				for (uint32_t c = 0; c < cases[i].ch; c++) {
					uint16_t got = ((const uint16_t *)(const void *)(img.pixels + y * img.stride))[x * cases[i].ch + c];
					if (got != sample16(x, y, c))
						fail_msg("case %zu: sample (%u,%u,%u) = %u, file has %u", i, x, y, c, got, sample16(x, y, c));
				}
		/* encode -> decode is bit-exact and the file stays 16-bit of the same colour type */
		aimark_buf out = AIMARK_BUF_INIT;
		assert_int_equal(aimark__image_encode(&img, &coding, m.p, m.n, &out), 0);
		assert_true(out.size > 33);
		assert_memory_equal(out.ptr + 12, "IHDR", 4);
		assert_int_equal(out.ptr[24], 16);
		assert_int_equal(out.ptr[25], cases[i].type);
		aimark__image back;
		assert_int_equal(aimark__image_decode(out.ptr, out.size, "png", &back, NULL), 0);
		assert_int_equal(back.bit_depth, 16);
		assert_int_equal(back.channels, img.channels);
		assert_memory_equal(back.pixels, img.pixels, img.stride * img.height);
		aimark__image_dispose(&back);
		aimark__image_dispose(&img);
		aimark_buf_dispose(&out);
		free(m.p);
	}
}

/* 8-bit paths as before: interlaced palette with tRNS becomes RGBA, the palette's colours and alphas exactly. */
static void test_png_palette_trns_interlaced(void **state)
{
	(void)state;
	png_mem m = write_reference(19, 11, PNG_COLOR_TYPE_PALETTE, 8, PNG_INTERLACE_ADAM7, 1);
	aimark__image img;
	assert_int_equal(aimark__image_decode(m.p, m.n, "png", &img, NULL), 0);
	assert_int_equal(img.bit_depth, 8);
	assert_int_equal(img.channels, 4);
	static const unsigned char expect[4][4] = { { 0, 0, 0, 0 }, { 255, 0, 0, 128 }, { 0, 255, 0, 255 }, { 10, 20, 30, 255 } };
	for (uint32_t y = 0; y < 11; y++)
		for (uint32_t x = 0; x < 19; x++)
			assert_memory_equal(img.pixels + y * img.stride + x * 4, expect[(x + y) % 4], 4);
	aimark__image_dispose(&img);
	free(m.p);
}

/* Hostile 16-bit PNGs: truncated, wrong magic, lying IHDR, broken IHDR CRC, garbage IDAT. */
static void test_png_bad_inputs(void **state)
{
	(void)state;
	png_mem m = write_reference(64, 40, PNG_COLOR_TYPE_RGB, 16, PNG_INTERLACE_NONE, 0);
	aimark__image img;
	unsigned char *b = malloc(m.n);
	/* truncated at every 97th length */
	for (size_t cut = 0; cut < m.n; cut += 97) {
		int rc = aimark__image_decode(m.p, cut, "png", &img, NULL);
		if (rc != AIMARK_EFORMAT)
			fail_msg("truncated at %zu: rc %d", cut, rc);
		assert_null(img.pixels);
	}
	memcpy(b, m.p, m.n);
	b[1] = 'Q';
	assert_int_equal(aimark__image_decode(b, m.n, "png", &img, NULL), AIMARK_EFORMAT);
	assert_non_null(strstr(aimark_error_last(), "signature"));
	/* IHDR claims 2^30 x 2^30 (CRC fixed up so only the size lies) */
	memcpy(b, m.p, m.n);
	aimark__put_be32(b + 16, 1u << 30);
	aimark__put_be32(b + 20, 1u << 30);
	aimark__put_be32(b + 29, (uint32_t)crc32(0, b + 12, 17));
	assert_int_equal(aimark__image_decode(b, m.n, "png", &img, NULL), AIMARK_EFORMAT);
	assert_null(img.pixels);
	/* IHDR claims 16000 x 16000 (within the pixel limit): refused before 2 GB are allocated */
	memcpy(b, m.p, m.n);
	aimark__put_be32(b + 16, 16000);
	aimark__put_be32(b + 20, 16000);
	aimark__put_be32(b + 29, (uint32_t)crc32(0, b + 12, 17));
	assert_int_equal(aimark__image_decode(b, m.n, "png", &img, NULL), AIMARK_EFORMAT);
	assert_non_null(strstr(aimark_error_last(), "cannot come from"));
	/* IHDR width doubled: the image data runs out */
	memcpy(b, m.p, m.n);
	aimark__put_be32(b + 16, 128);
	aimark__put_be32(b + 29, (uint32_t)crc32(0, b + 12, 17));
	assert_int_equal(aimark__image_decode(b, m.n, "png", &img, NULL), AIMARK_EFORMAT);
	assert_non_null(strstr(aimark_error_last(), "PNG"));
	/* IHDR CRC wrong */
	memcpy(b, m.p, m.n);
	b[30] ^= 0x55;
	assert_int_equal(aimark__image_decode(b, m.n, "png", &img, NULL), AIMARK_EFORMAT);
	/* IDAT payload garbled (CRC fixed up) */
	memcpy(b, m.p, m.n);
	size_t idat = 33;
	assert_memory_equal(b + idat + 4, "IDAT", 4);
	uint32_t n = aimark__be32(b + idat);
	for (uint32_t i = 2; i < n && i < 40; i++)
		b[idat + 8 + i] ^= 0xA5;
	aimark__put_be32(b + idat + 8 + n, (uint32_t)crc32(0, b + idat + 4, n + 4));
	assert_int_equal(aimark__image_decode(b, m.n, "png", &img, NULL), AIMARK_EFORMAT);
	assert_null(img.pixels);
	free(b);
	free(m.p);
}

/* Junk after the image data (an invalid chunk type, an unknown critical chunk) decodes leniently and is not copied into the re-encoded file. */
static void test_png_reencode_skips_junk_chunks(void **state)
{
	(void)state;
	png_mem m = write_reference(16, 16, PNG_COLOR_TYPE_RGB, 8, PNG_INTERLACE_NONE, 0);
	assert_memory_equal(m.p + m.n - 8, "IEND", 4);
	static const unsigned char extra[2][16] = {
		{ 0, 0, 0, 4, 'a', 'B', 'c', 'D', 1, 2, 3, 4, 0, 0, 0, 0 }, /* unknown ancillary: kept */
		{ 0, 0, 0, 4, 'Z', 'Z', 'Z', 'Z', 1, 2, 3, 4, 0, 0, 0, 0 }, /* unknown critical: dropped */
	};
	for (int variant = 0; variant < 3; variant++) {
		size_t n = m.n + 16;
		unsigned char *b = malloc(n);
		memcpy(b, m.p, m.n - 12);
		unsigned char *c = b + m.n - 12;
		if (variant < 2) {
			memcpy(c, extra[variant], 16);
			aimark__put_be32(c + 12, (uint32_t)crc32(0, c + 4, 8));
		} else {
			memset(c, 0, 16); /* an invalid chunk type: 0000 */
			c[3] = 4;
		}
		memcpy(c + 16, m.p + m.n - 12, 12); /* IEND */
		aimark__image img, back;
		aimark__image_coding coding;
		assert_int_equal(aimark__image_decode(b, n, "png", &img, &coding), 0);
		aimark_buf out = AIMARK_BUF_INIT;
		assert_int_equal(aimark__image_encode(&img, &coding, b, n, &out), 0);
		assert_int_equal(aimark__image_decode(out.ptr, out.size, "png", &back, NULL), 0);
		assert_memory_equal(back.pixels, img.pixels, img.stride * img.height);
		int kept = memmem(out.ptr, out.size, "aBcD", 4) != NULL;
		assert_int_equal(kept, variant == 0);
		assert_null(memmem(out.ptr, out.size, "ZZZZ", 4));
		aimark__image_dispose(&img);
		aimark__image_dispose(&back);
		aimark_buf_dispose(&out);
		free(b);
	}
	free(m.p);
}

/* Every allocation of a 16-bit PNG decode and encode failing in turn: AIMARK_ENOMEM, nothing leaked (ASan build). */
static int g_alloc_budget = -1;

static void *budget_malloc(size_t n, void *user)
{
	(void)user;
	if (g_alloc_budget == 0)
		return NULL;
	if (g_alloc_budget > 0)
		g_alloc_budget--;
	return malloc(n);
}

static void *budget_realloc(void *p, size_t n, void *user)
{
	(void)user;
	if (g_alloc_budget == 0)
		return NULL;
	if (g_alloc_budget > 0)
		g_alloc_budget--;
	return realloc(p, n);
}

static void budget_free(void *p, void *user)
{
	(void)user;
	free(p);
}

static void test_png16_allocation_failures(void **state)
{
	(void)state;
	png_mem m = write_reference(40, 30, PNG_COLOR_TYPE_RGB_ALPHA, 16, PNG_INTERLACE_ADAM7, 0);
	const aimark_allocator a = { budget_malloc, budget_realloc, budget_free, NULL };
	aimark_allocator_set(&a);
	int succeeded = 0, failures = 0;
	for (int budget = 0; budget < 200 && !succeeded; budget++) {
		g_alloc_budget = budget;
		aimark__image img;
		aimark__image_coding coding;
		int rc = aimark__image_decode(m.p, m.n, "png", &img, &coding);
		if (rc == 0) {
			aimark_buf out = AIMARK_BUF_INIT;
			rc = aimark__image_encode(&img, &coding, m.p, m.n, &out);
			aimark_buf_dispose(&out);
			aimark__image_dispose(&img);
			succeeded = rc == 0;
		}
		if (rc != 0) {
			if (rc != AIMARK_ENOMEM)
				fail_msg("budget %d: rc %d (%s), want AIMARK_ENOMEM", budget, rc, aimark_error_last());
			failures++;
		}
	}
	g_alloc_budget = -1;
	aimark_allocator_set(NULL);
	assert_true(succeeded);
	assert_true(failures > 3);
	free(m.p);
}

/* A tiny file whose header claims a huge image is refused before anything is allocated. */
static void put16(unsigned char *p, unsigned v) { p[0] = (unsigned char)(v >> 8); p[1] = (unsigned char)v; }

static void test_implausible_claims_refused(void **state)
{
	(void)state;
	/* the bound itself: up to 16 MP always, beyond that 4096 pixels per byte */
	assert_int_equal(aimark__image_check_claim(4096, 4096, 10, "JPEG"), 0);
	assert_int_equal(aimark__image_check_claim(5000, 4000, 5000, "JPEG"), 0);
	assert_int_equal(aimark__image_check_claim(5000, 4000, 4000, "JPEG"), AIMARK_ELIMIT);
	assert_non_null(strstr(aimark_error_last(), "5000x4000"));

	/* a 236-byte baseline JPEG claiming 30000x8000 grey pixels */
	unsigned char j[400];
	size_t n = 0;
	static const unsigned char soi[] = { 0xFF, 0xD8 };
	memcpy(j + n, soi, 2), n += 2;
	j[n++] = 0xFF, j[n++] = 0xDB, put16(j + n, 67), n += 2, j[n++] = 0;
	memset(j + n, 1, 64), n += 64;
	j[n++] = 0xFF, j[n++] = 0xC0, put16(j + n, 11), n += 2, j[n++] = 8;
	put16(j + n, 8000), n += 2, put16(j + n, 30000), n += 2;
	j[n++] = 1, j[n++] = 1, j[n++] = 0x11, j[n++] = 0;
	j[n++] = 0xFF, j[n++] = 0xC4, put16(j + n, 2 + 2 * 18), n += 2;
	for (int cls = 0; cls < 2; cls++) { /* one code of length 1 for symbol 0, DC then AC */
		j[n++] = (unsigned char)(cls << 4), j[n++] = 1;
		memset(j + n, 0, 15), n += 15;
		j[n++] = 0;
	}
	j[n++] = 0xFF, j[n++] = 0xDA, put16(j + n, 8), n += 2;
	j[n++] = 1, j[n++] = 1, j[n++] = 0, j[n++] = 0, j[n++] = 63, j[n++] = 0;
	memset(j + n, 0, 100), n += 100;
	j[n++] = 0xFF, j[n++] = 0xD9;
	aimark__image img;
	assert_int_equal(aimark__image_decode(j, n, "jpeg", &img, NULL), AIMARK_ELIMIT);
	assert_non_null(strstr(aimark_error_last(), "30000x8000"));

	/* a 30-byte lossless WebP claiming 16384x16384 */
	unsigned char w[30] = { 'R', 'I', 'F', 'F', 22, 0, 0, 0, 'W', 'E', 'B', 'P', 'V', 'P', '8', 'L', 10, 0, 0, 0, 0x2f };
	uint32_t bits = 16383u | (16383u << 14); /* width-1, height-1; no alpha, version 0 */
	w[21] = (unsigned char)bits, w[22] = (unsigned char)(bits >> 8), w[23] = (unsigned char)(bits >> 16), w[24] = (unsigned char)(bits >> 24);
	assert_int_equal(aimark__image_decode(w, sizeof w, "webp", &img, NULL), AIMARK_ELIMIT);
	assert_non_null(strstr(aimark_error_last(), "16384x16384"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_implausible_claims_refused),
		cmocka_unit_test(test_jpeg_round_trip),
		cmocka_unit_test(test_png_round_trip_is_lossless),
		cmocka_unit_test(test_webp_round_trip),
		cmocka_unit_test(test_jpeg_quality_estimate),
		cmocka_unit_test(test_jpeg_keeps_metadata),
		cmocka_unit_test(test_corrupt_inputs),
		cmocka_unit_test(test_png16_decode_native_samples),
		cmocka_unit_test(test_png_palette_trns_interlaced),
		cmocka_unit_test(test_png_bad_inputs),
		cmocka_unit_test(test_png_reencode_skips_junk_chunks),
		cmocka_unit_test(test_png16_allocation_failures),
	};
	return cmocka_run_group_tests_name("image_codec", tests, NULL, NULL);
}

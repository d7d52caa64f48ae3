/* WebP backend: RIFF walk, carriers, essence, simple-to-extended write and re-read. */
#define _GNU_SOURCE /* memmem */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

#include "core/internal.h"
#include "format/format.h"

extern const aimark__format_ops aimark__format_webp;
#define WEBP (&aimark__format_webp)

static const aimark__label_write LABEL_A = TU_LABEL("aimark-webp-0001");
static const aimark__label_write LABEL_B = TU_LABEL("aimark-webp-0002");

/* The label layout of gb45438-examples.md section 5 (Tencent), with a short value. */
#define TENCENT_STYLE_JSON \
	"{\"AIGC\": {\"Label\":\"1\",\"ContentProducer\":\"001191440300708461136T1WFUO\"," \
	"\"ProduceID\":\"b59c07cb3edb487486e6c268f2ba66cf-xNc9\",\"ReservedCode1\":\"\"," \
	"\"ContentPropagator\":\"001191440300708461136T1WFUO\",\"PropagateID\":\"b59c07cb3edb487486e6c268f2ba66cf-xNc9\"," \
	"\"ReservedCode2\":\"\"}}"

#define VP8X_XMP 0x04
#define VP8X_EXIF 0x08
#define VP8X_ALPHA 0x10
#define VP8X_ANIM 0x02

/* ---- byte helpers ---- */

typedef tu_blob blob;

static void fix_riff(blob *b)
{
	aimark__put_le32(b->p + 4, (uint32_t)(b->n - 8));
}

/* Appends a chunk (with pad) at the end of the RIFF data and fixes the RIFF size. */
static blob with_chunk(blob b, const char *cc, const void *data, size_t len)
{
	size_t total = 8 + len + (len & 1);
	unsigned char *c = calloc(1, total);
	assert_non_null(c);
	memcpy(c, cc, 4);
	aimark__put_le32(c + 4, (uint32_t)len);
	memcpy(c + 8, data, len);
	b = tu_blob_splice(b, b.n, c, total, 0);
	free(c);
	fix_riff(&b);
	return b;
}

/* Big-endian TIFF: IFD0 -> Exif IFD -> UserComment "ASCII\0\0\0" + json (examples section 5), optional "Exif\0\0". */
static blob exif_block(const char *json, int jpeg_prefix)
{
	static const unsigned char head[] = {
		'M', 'M', 0x00, 0x2a, 0x00, 0x00, 0x00, 0x08,
		0x00, 0x01, 0x87, 0x69, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x1a, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x01, 0x92, 0x86, 0x00, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00,
		'A', 'S', 'C', 'I', 'I', 0, 0, 0,
	};
	size_t pre = jpeg_prefix ? 6 : 0, j = strlen(json);
	blob b = { malloc(pre + sizeof head + j), pre + sizeof head + j };
	assert_non_null(b.p);
	memcpy(b.p, "Exif\0\0", pre);
	memcpy(b.p + pre, head, sizeof head);
	memcpy(b.p + pre + sizeof head, json, j);
	aimark__put_be32(b.p + pre + 32, (uint32_t)(8 + j));
	return b;
}

typedef struct chunk_info {
	size_t offset;
	uint32_t size;
	char cc[5];
} chunk_info;

static size_t list_chunks(const blob *b, chunk_info *out, size_t max)
{
	size_t pos = 12, n = 0, end = 8 + (size_t)aimark__le32(b->p + 4);
	assert_true(end <= b->n);
	while (pos + 8 <= end && n < max) {
		out[n].offset = pos;
		out[n].size = aimark__le32(b->p + pos + 4);
		memcpy(out[n].cc, b->p + pos, 4);
		out[n].cc[4] = 0;
		pos += 8 + (size_t)out[n].size + (out[n].size & 1);
		n++;
	}
	assert_int_equal(pos, end);
	return n;
}

static size_t count_cc(const blob *b, const char *cc)
{
	chunk_info c[32];
	size_t n = list_chunks(b, c, 32), k = 0;
	for (size_t i = 0; i < n; i++)
		k += strcmp(c[i].cc, cc) == 0;
	return k;
}

/* ---- running the backend ---- */

/* After a write: the RIFF size is right, one XMP chunk holding `label`, the VP8X flag set. */
static void assert_labelled(const blob *out, const aimark__label_write *label)
{
	assert_memory_equal(out->p, "RIFF", 4);
	assert_memory_equal(out->p + 8, "WEBPVP8X", 8);
	assert_int_equal(aimark__le32(out->p + 16), 10);
	assert_true(out->p[20] & VP8X_XMP);
	assert_int_equal(count_cc(out, "XMP "), 1);
	assert_int_equal(count_cc(out, "VP8X"), 1);
	tu_parsed ps;
	tu_parse(WEBP, out->p, out->n, &ps);
	assert_int_equal(ps.rc, 0);
	tu_assert_carrier(&ps.meta, AIMARK__CARRIER_XMP, label->bare_json);
	assert_int_equal(aimark_findings_count_at_least(ps.findings, AIMARK_SEVERITY_WARNING), 0);
	tu_parsed_free(&ps);
}

static void assert_bad(const blob *b, const char *needle)
{
	tu_expect_read_error(WEBP, b->p, b->n, AIMARK_EFORMAT, "WebP", needle);
}

/* ---- tests ---- */

static void test_probe(void **state)
{
	(void)state;
	blob b = tu_data_file("webp", "vp8.webp");
	assert_true(WEBP->probe(b.p, b.n));
	assert_true(WEBP->probe(b.p, 12));
	assert_false(WEBP->probe(b.p, 11));
	b.p[11] = 'Q';
	assert_false(WEBP->probe(b.p, b.n));
	assert_string_equal(WEBP->name, "webp");
	free(b.p);
}

static void test_read_simple(void **state)
{
	(void)state;
	blob b = tu_data_file("webp", "vp8.webp");
	tu_parsed ps;
	tu_parse(WEBP, b.p, b.n, &ps);
	assert_int_equal(ps.rc, 0);
	assert_int_equal(ps.meta.n_carriers, 0);
	assert_int_equal(aimark_findings_count(ps.findings), 0);
	assert_int_equal(ps.meta.n_essence, 1);
	assert_int_equal(ps.meta.essence[0].offset, 12);
	assert_int_equal(ps.meta.essence[0].length, b.n - 12);
	tu_parsed_free(&ps);
	free(b.p);

	b = tu_data_file("webp", "vp8-alpha.webp"); /* VP8X ALPH VP8: VP8X is not essence */
	tu_parse(WEBP, b.p, b.n, &ps);
	assert_int_equal(ps.rc, 0);
	assert_int_equal(ps.meta.n_essence, 1);
	assert_int_equal(ps.meta.essence[0].offset, 30);
	assert_int_equal(ps.meta.essence[0].length, b.n - 30);
	tu_parsed_free(&ps);
	free(b.p);
}

/* Simple file -> extended: VP8X with the canvas size and flags, image chunk untouched, XMP last. */
static void simple_to_extended(const char *name, uint32_t w, uint32_t h, unsigned flags)
{
	blob in = tu_data_file("webp", name);
	blob out = tu_mark_blob(WEBP, &in, &LABEL_A);
	assert_int_equal(aimark__le32(out.p + 4), out.n - 8);
	assert_labelled(&out, &LABEL_A);
	assert_int_equal(out.p[20], flags);
	assert_int_equal(out.p[21] | out.p[22] | out.p[23], 0);
	assert_int_equal((out.p[24] | out.p[25] << 8 | out.p[26] << 16) + 1, w);
	assert_int_equal((out.p[27] | out.p[28] << 8 | out.p[29] << 16) + 1, h);
	/* the original chunks follow VP8X unchanged; the XMP chunk comes last */
	assert_memory_equal(out.p + 30, in.p + 12, in.n - 12);
	chunk_info c[8];
	size_t n = list_chunks(&out, c, 8);
	assert_int_equal(n, 3);
	assert_string_equal(c[2].cc, "XMP ");
	tu_assert_same_essence(WEBP, in.p, in.n, out.p, out.n, 1);
	free(out.p);
	free(in.p);
}

static void test_vp8_to_extended(void **state)
{
	(void)state;
	simple_to_extended("vp8.webp", 16, 16, VP8X_XMP);
}

static void test_vp8l_to_extended(void **state)
{
	(void)state;
	simple_to_extended("vp8l.webp", 16, 16, VP8X_XMP);
	simple_to_extended("vp8l-alpha.webp", 24, 12, VP8X_XMP | VP8X_ALPHA); /* odd-sized chunk, padded */
}

static void test_extended_append(void **state)
{
	(void)state;
	blob in = tu_data_file("webp", "vp8-alpha.webp");
	blob out = tu_mark_blob(WEBP, &in, &LABEL_A);
	assert_labelled(&out, &LABEL_A);
	assert_int_equal(out.p[20], in.p[20] | VP8X_XMP); /* alpha kept */
	assert_memory_equal(out.p + 21, in.p + 21, 9);   /* canvas unchanged */
	assert_memory_equal(out.p + 30, in.p + 30, in.n - 30);
	assert_int_equal(aimark__le32(out.p + 4), out.n - 8);
	tu_assert_same_essence(WEBP, in.p, in.n, out.p, out.n, 1);
	free(out.p);
	free(in.p);

	in = tu_data_file("webp", "anim.webp");
	out = tu_mark_blob(WEBP, &in, &LABEL_A);
	assert_labelled(&out, &LABEL_A);
	assert_int_equal(out.p[20], in.p[20] | VP8X_XMP);
	assert_true(out.p[20] & VP8X_ANIM);
	chunk_info c[8];
	size_t n = list_chunks(&out, c, 8);
	assert_int_equal(n, 5);
	assert_string_equal(c[4].cc, "XMP ");
	tu_assert_same_essence(WEBP, in.p, in.n, out.p, out.n, 1);
	free(out.p);
	free(in.p);
}

static void test_other_xmp_kept(void **state)
{
	(void)state;
	blob in = tu_data_file("webp", "vp8x-xmp.webp"); /* VP8X ALPH VP8 XMP(dc:title) */
	tu_parsed ps;
	tu_parse(WEBP, in.p, in.n, &ps);
	assert_int_equal(ps.rc, 0);
	assert_int_equal(ps.meta.n_carriers, 0);
	tu_parsed_free(&ps);
	blob out = tu_mark_blob(WEBP, &in, &LABEL_A);
	assert_labelled(&out, &LABEL_A);
	assert_non_null(memmem(out.p, out.n, "Test Title Kept", 15));
	chunk_info c[8];
	size_t n = list_chunks(&out, c, 8);
	assert_int_equal(n, 4);
	assert_string_equal(c[3].cc, "XMP ");
	tu_assert_same_essence(WEBP, in.p, in.n, out.p, out.n, 1);
	free(out.p);
	free(in.p);
}

static void test_relabel_replaces(void **state)
{
	(void)state;
	blob in = tu_data_file("webp", "vp8l.webp");
	blob a = tu_mark_blob(WEBP, &in, &LABEL_A);
	blob b = tu_mark_blob(WEBP, &a, &LABEL_B);
	assert_labelled(&b, &LABEL_B);
	assert_null(memmem(b.p, b.n, "aimark-webp-0001", 16));
	tu_parsed ps;
	tu_parse(WEBP, b.p, b.n, &ps);
	assert_int_equal(ps.meta.n_carriers, 1);
	tu_parsed_free(&ps);
	tu_assert_same_essence(WEBP, in.p, in.n, b.p, b.n, 1);
	blob c = tu_mark_blob(WEBP, &b, &LABEL_B);
	assert_int_equal(c.n, b.n);
	assert_memory_equal(c.p, b.p, b.n);
	free(a.p);
	free(b.p);
	free(c.p);
	free(in.p);
}

static void test_exif_label(void **state)
{
	(void)state;
	for (int prefix = 0; prefix < 2; prefix++) {
		blob exif = exif_block(TENCENT_STYLE_JSON, prefix);
		blob in = with_chunk(tu_data_file("webp", "vp8-alpha.webp"), "EXIF", exif.p, exif.n);
		in.p[20] |= VP8X_EXIF;
		tu_parsed ps;
		tu_parse(WEBP, in.p, in.n, &ps);
		assert_int_equal(ps.rc, 0);
		assert_int_equal(ps.meta.n_carriers, 1);
		tu_assert_carrier(&ps.meta, AIMARK__CARRIER_EXIF_USERCOMMENT, TENCENT_STYLE_JSON);
		assert_int_equal(aimark_findings_has(ps.findings, "webp-exif-prefix"), prefix);
		tu_parsed_free(&ps);

		blob out = tu_mark_blob(WEBP, &in, &LABEL_B);
		assert_labelled(&out, &LABEL_B);
		assert_true(out.p[20] & VP8X_EXIF);
		chunk_info c[8];
		size_t n = list_chunks(&out, c, 8);
		assert_int_equal(n, 5);
		assert_string_equal(c[3].cc, "EXIF"); /* XMP after EXIF */
		assert_string_equal(c[4].cc, "XMP ");
		if (prefix)
			assert_memory_equal(out.p + c[3].offset + 8, "Exif\0\0MM", 8);
		tu_parse(WEBP, out.p, out.n, &ps);
		assert_int_equal(ps.rc, 0);
		assert_int_equal(ps.meta.n_carriers, 2);
		tu_assert_carrier(&ps.meta, AIMARK__CARRIER_EXIF_USERCOMMENT, LABEL_B.wrapped_json);
		tu_parsed_free(&ps);
		tu_assert_same_essence(WEBP, in.p, in.n, out.p, out.n, 1);
		free(exif.p);
		free(out.p);
		free(in.p);
	}

	/* a simple file with a stray EXIF chunk: both flags set on conversion */
	blob exif = exif_block(TENCENT_STYLE_JSON, 0);
	blob in = with_chunk(tu_data_file("webp", "vp8.webp"), "EXIF", exif.p, exif.n);
	blob out = tu_mark_blob(WEBP, &in, &LABEL_A);
	assert_int_equal(out.p[20], VP8X_XMP | VP8X_EXIF);
	tu_parsed ps;
	tu_parse(WEBP, out.p, out.n, &ps);
	tu_assert_carrier(&ps.meta, AIMARK__CARRIER_EXIF_USERCOMMENT, LABEL_A.wrapped_json);
	tu_parsed_free(&ps);
	free(exif.p);
	free(out.p);
	free(in.p);
}

static void test_duplicate_xmp(void **state)
{
	(void)state;
	blob in = tu_data_file("webp", "vp8x-xmp.webp");
	chunk_info c[8];
	size_t n = list_chunks(&in, c, 8);
	assert_string_equal(c[n - 1].cc, "XMP ");
	in = with_chunk(in, "XMP ", in.p + c[n - 1].offset + 8, c[n - 1].size);
	tu_parsed ps;
	tu_parse(WEBP, in.p, in.n, &ps);
	assert_int_equal(ps.rc, 0);
	assert_true(aimark_findings_has(ps.findings, "webp-duplicate-xmp"));
	tu_parsed_free(&ps);
	blob out = tu_mark_blob(WEBP, &in, &LABEL_A);
	assert_labelled(&out, &LABEL_A);
	free(out.p);
	free(in.p);
}

static void test_flag_mismatch(void **state)
{
	(void)state;
	blob in = tu_data_file("webp", "vp8x-xmp.webp");
	in.p[20] &= (unsigned char)~VP8X_XMP;
	tu_parsed ps;
	tu_parse(WEBP, in.p, in.n, &ps);
	assert_int_equal(ps.rc, 0);
	assert_true(aimark_findings_has(ps.findings, "webp-vp8x-flags"));
	tu_parsed_free(&ps);
	blob out = tu_mark_blob(WEBP, &in, &LABEL_A);
	assert_labelled(&out, &LABEL_A);
	free(out.p);
	free(in.p);
}

static void test_riff_size(void **state)
{
	(void)state;
	/* RIFF size shorter than the file: a finding; the extra bytes stay after the new RIFF data */
	blob in = tu_data_file("webp", "vp8.webp");
	in = tu_blob_splice(in, in.n, "TRAILING", 8, 0);
	tu_parsed ps;
	tu_parse(WEBP, in.p, in.n, &ps);
	assert_int_equal(ps.rc, 0);
	assert_true(aimark_findings_has(ps.findings, "webp-riff-size"));
	tu_parsed_free(&ps);
	blob out = tu_mark_blob(WEBP, &in, &LABEL_A);
	assert_int_equal(aimark__le32(out.p + 4), out.n - 8 - 8);
	assert_memory_equal(out.p + out.n - 8, "TRAILING", 8);
	free(out.p);
	free(in.p);

	/* RIFF size past the end of the file */
	in = tu_data_file("webp", "vp8.webp");
	aimark__put_le32(in.p + 4, (uint32_t)in.n);
	assert_bad(&in, "passes the end of the file");
	aimark__put_le32(in.p + 4, 2);
	assert_bad(&in, "too small");
	free(in.p);
}

static void test_missing_pad(void **state)
{
	(void)state;
	blob in = tu_data_file("webp", "vp8l-alpha.webp"); /* one VP8L chunk of odd size 115 */
	in.n -= 1;
	fix_riff(&in);
	tu_parsed ps;
	tu_parse(WEBP, in.p, in.n, &ps);
	assert_int_equal(ps.rc, 0);
	assert_true(aimark_findings_has(ps.findings, "webp-missing-pad"));
	tu_parsed_free(&ps);
	blob out;
	assert_int_equal(tu_mark_blob_rc(WEBP, &in, &LABEL_A, &out), AIMARK_EFORMAT);
	assert_non_null(strstr(aimark_error_last(), "pad"));
	free(out.p);
	free(in.p);
}

static void test_bad_input(void **state)
{
	(void)state;
	blob b = { (unsigned char *)"", 0 };
	assert_bad(&b, "empty");

	b = tu_data_file("webp", "vp8.webp");
	memcpy(b.p, "RIFX", 4);
	assert_bad(&b, "not a WebP");
	memcpy(b.p, "RIFF", 4);
	memcpy(b.p + 8, "WAVE", 4);
	assert_bad(&b, "not a WebP");
	free(b.p);

	b = tu_data_file("webp", "vp8.webp");
	b.n = 100; /* truncated: the RIFF size now lies */
	assert_bad(&b, "passes the end");
	b.n = 11;
	assert_bad(&b, "not a WebP");
	free(b.p);

	b = tu_data_file("webp", "vp8.webp");
	aimark__put_le32(b.p + 16, 5000); /* VP8 chunk size lies */
	assert_bad(&b, "'VP8 ' at offset 12");
	free(b.p);

	b = tu_data_file("webp", "vp8.webp");
	b.n = 12 + 5;
	fix_riff(&b);
	assert_bad(&b, "truncated chunk header");
	b.n = 12;
	fix_riff(&b);
	assert_bad(&b, "no chunks");
	free(b.p);

	b = tu_data_file("webp", "vp8.webp");
	memcpy(b.p + 12, "JUNK", 4);
	assert_bad(&b, "expected VP8");
	free(b.p);

	b = tu_data_file("webp", "vp8-alpha.webp");
	aimark__put_le32(b.p + 16, 4); /* VP8X too short */
	assert_bad(&b, "VP8X");
	free(b.p);

	/* a simple file whose VP8 header is unreadable: read works, write cannot build VP8X */
	b = tu_data_file("webp", "vp8.webp");
	b.p[20 + 3] = 0; /* start code */
	blob out;
	assert_int_equal(tu_mark_blob_rc(WEBP, &b, &LABEL_A, &out), AIMARK_EFORMAT);
	assert_non_null(strstr(aimark_error_last(), "WebP"));
	free(out.p);
	free(b.p);
}

/* A file source (read into memory by the backend) gives the same output as memory. */
static void test_file_source(void **state)
{
	(void)state;
	tu_assert_file_mark_same(WEBP, TU_DATA("webp/vp8l-alpha.webp"), &LABEL_A);
}

static void test_pixels_identical(void **state)
{
	(void)state;
	if (!tu_have_tool("dwebp"))
		skip();
	char *dir = tu_tempdir();
	const char *names[] = { "vp8.webp", "vp8l.webp", "vp8l-alpha.webp", "vp8-alpha.webp", "vp8x-xmp.webp" };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		blob in = tu_data_file("webp", names[i]);
		blob out = tu_mark_blob(WEBP, &in, &LABEL_A);
		tu_write_file(tu_path("%s/in.webp", dir), in.p, in.n);
		tu_write_file(tu_path("%s/out.webp", dir), out.p, out.n);
		char *a = tu_run_ok("dwebp -quiet '%s/in.webp' -pam -o '%s/in.pam' && md5sum < '%s/in.pam'", dir, dir, dir);
		char *b = tu_run_ok("dwebp -quiet '%s/out.webp' -pam -o '%s/out.pam' && md5sum < '%s/out.pam'", dir, dir, dir);
		assert_non_null(a);
		assert_non_null(b);
		assert_string_equal(a, b);
		free(a);
		free(b);
		if (tu_have_tool("webpmux")) { /* the container is valid for libwebp's muxer */
			char *info = tu_run_ok("webpmux -info '%s/out.webp'", dir);
			assert_non_null(info);
			assert_non_null(strstr(info, "XMP"));
			free(info);
		}
		free(in.p);
		free(out.p);
	}
	tu_rmtree(dir);
	free(dir);
}

static void test_exiftool_reads_back(void **state)
{
	(void)state;
	if (!tu_have_tool("exiftool"))
		skip();
	char *dir = tu_tempdir();
	blob in = tu_data_file("webp", "vp8.webp");
	blob out = tu_mark_blob(WEBP, &in, &LABEL_A);
	tu_write_file(tu_path("%s/out.webp", dir), out.p, out.n);
	tu_assert_output(LABEL_A.bare_json, "exiftool -s3 -XMP:all '%s/out.webp'", dir);
	tu_assert_output("", "exiftool -s3 -Warning -Error '%s/out.webp'", dir);
	free(in.p);
	free(out.p);
	tu_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe),
		cmocka_unit_test(test_read_simple),
		cmocka_unit_test(test_vp8_to_extended),
		cmocka_unit_test(test_vp8l_to_extended),
		cmocka_unit_test(test_extended_append),
		cmocka_unit_test(test_other_xmp_kept),
		cmocka_unit_test(test_relabel_replaces),
		cmocka_unit_test(test_exif_label),
		cmocka_unit_test(test_duplicate_xmp),
		cmocka_unit_test(test_flag_mismatch),
		cmocka_unit_test(test_riff_size),
		cmocka_unit_test(test_missing_pad),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_file_source),
		cmocka_unit_test(test_pixels_identical),
		cmocka_unit_test(test_exiftool_reads_back),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

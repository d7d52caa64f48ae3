/* JPEG backend: marker walk, carriers, essence, write and re-read. */
#define _GNU_SOURCE /* memmem */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

#include "core/internal.h"
#include "core/io_internal.h"
#include "format/format.h"

extern const aimark__format_ops aimark__format_jpeg;
#define JPEG (&aimark__format_jpeg)

#define PRODUCER "001191110000802100433B10005"
#define LABEL_BARE(id) TU_LABEL_BARE_BY(PRODUCER, id)
#define LABEL_WRAPPED(id) "{\"AIGC\":" LABEL_BARE(id) "}"

static const aimark__label_write LABEL_A = TU_LABEL_OF(LABEL_BARE("aimark-test-0001"));
static const aimark__label_write LABEL_B = TU_LABEL_OF(LABEL_BARE("aimark-test-0002"));

/* The Baidu APP1 Exif segment of gb45438-examples.md section 4, byte for byte. */
static const char BAIDU_JSON[] =
	"{\"AIGC\": {\"Label\": \"1\", \"ContentProducer\": \"001191110000802100433B10005\", \"ProduceID\": "
	"\"1297407950704593831\", \"ReservedCode1\": \"\", \"ContentPropagator\": \"001191110000802100433B10005\", "
	"\"PropagateID\": \"1297407950704593831\", \"ReservedCode2\": \"\"}}";

static size_t baidu_app1(unsigned char *out)
{
	static const unsigned char head[] = {
		0xff, 0xe1, 0x01, 0x2e, 'E', 'x', 'i', 'f', 0, 0,
		/* TIFF: II*, IFD0 at 8: one entry 0x8769 -> Exif IFD at 0x1a */
		0x49, 0x49, 0x2a, 0x00, 0x08, 0x00, 0x00, 0x00, 0x01, 0x00, 0x69, 0x87, 0x04, 0x00, 0x01, 0x00,
		0x00, 0x00, 0x1a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		/* Exif IFD: one entry 0x9286 UNDEFINED count 250 at 0x2c */
		0x01, 0x00, 0x86, 0x92, 0x07, 0x00, 0xfa, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 'A', 'S', 'C', 'I', 'I', 0, 0, 0,
	};
	memcpy(out, head, sizeof head);
	memcpy(out + sizeof head, BAIDU_JSON, sizeof BAIDU_JSON - 1);
	assert_int_equal(sizeof head + sizeof BAIDU_JSON - 1, 0x130);
	return 0x130;
}

/* ---- helpers ---- */

typedef struct provider_ctx {
	const aimark__label_write *label;
	int calls;
} provider_ctx;

static int provider_get(void *ctx, const aimark__label_write **out)
{
	provider_ctx *p = ctx;
	p->calls++;
	*out = p->label;
	return 0;
}

typedef tu_blob blob;

/* An APPn/COM segment around `payload`. */
static blob segment(unsigned m, const void *payload, size_t len)
{
	blob s = { malloc(len + 4), len + 4 };
	assert_non_null(s.p);
	assert_true(len + 2 <= 0xFFFF);
	s.p[0] = 0xFF;
	s.p[1] = (unsigned char)m;
	s.p[2] = (unsigned char)((len + 2) >> 8);
	s.p[3] = (unsigned char)(len + 2);
	memcpy(s.p + 4, payload, len);
	return s;
}

/* Splices a segment after SOI + APP0 (offset 20 in the ffmpeg test images). */
static blob with_segment(blob b, unsigned m, const void *payload, size_t len)
{
	blob s = segment(m, payload, len);
	b = tu_blob_splice(b, 20, s.p, s.n, 0);
	free(s.p);
	return b;
}

static int write_label(tu_parsed *ps, const aimark__label_write *label, aimark_buf *out)
{
	provider_ctx ctx = { label, 0 };
	aimark__label_provider prov = { NULL, provider_get, &ctx };
	aimark_sink *sink;
	assert_int_equal(aimark_sink_new_buffer(&sink, out), 0);
	int rc = JPEG->write(ps->src, &ps->meta, &prov, sink);
	if (rc == 0)
		assert_int_equal(aimark_sink_commit(sink), 0);
	aimark_sink_free(sink);
	assert_int_equal(ctx.calls, 1);
	return rc;
}

/* Reads `in`, writes `label`, returns the output (the caller disposes). */
static aimark_buf relabel(const unsigned char *in, size_t n, const aimark__label_write *label)
{
	tu_parsed ps;
	aimark_buf out = AIMARK_BUF_INIT;
	tu_parse(JPEG, in, n, &ps);
	assert_int_equal(ps.rc, 0);
	int rc = write_label(&ps, label, &out);
	if (rc != 0)
		fail_msg("write failed: %s", aimark_error_last());
	tu_parsed_free(&ps);
	return out;
}

/*
 * An independent walk up to SOS: counts APP1 XMP segments and notes the
 * first one's offset and the marker order.
 */
static int count_xmp(const unsigned char *d, size_t n, size_t *first, char *order, size_t order_cap)
{
	static const char id[] = "http://ns.adobe.com/xap/1.0/";
	size_t pos = 2, k = 0;
	int count = 0;
	while (pos + 4 <= n && d[pos] == 0xFF && d[pos + 1] != 0xDA) {
		size_t len = (size_t)d[pos + 2] << 8 | d[pos + 3];
		int xmp = d[pos + 1] == 0xE1 && len - 2 >= sizeof id && memcmp(d + pos + 4, id, sizeof id) == 0;
		if (xmp && count++ == 0 && first)
			*first = pos;
		if (order && k + 1 < order_cap)
			order[k++] = xmp ? 'X' : d[pos + 1] == 0xE0 ? '0' : d[pos + 1] == 0xE1 ? 'E' : 'o';
		pos += 2 + len;
	}
	if (order)
		order[k] = 0;
	return count;
}

/* Decoded pixels, through djpeg when installed, else ffmpeg; NULL when neither is. */
static char *decode(const char *path, size_t *len)
{
	if (tu_have_tool("djpeg"))
		return tu_run_bytes(len, "djpeg -pnm '%s'", path);
	if (tu_have_tool("ffmpeg"))
		return tu_run_bytes(len, "ffmpeg -v error -i '%s' -f rawvideo -pix_fmt rgb24 -", path);
	return NULL;
}

/* ---- tests ---- */

static void test_probe(void **state)
{
	(void)state;
	static const unsigned char ok[] = { 0xFF, 0xD8, 0xFF, 0xE0 }, png[] = { 0x89, 'P', 'N', 'G' };
	assert_int_equal(JPEG->probe(ok, 4), 1);
	assert_int_equal(JPEG->probe(ok, 2), 0);
	assert_int_equal(JPEG->probe(png, 4), 0);
	assert_string_equal(JPEG->name, "jpeg");
	assert_string_equal(aimark_format_from_extension("x.JPG"), "jpeg");
	assert_string_equal(aimark_format_from_extension("x.jpeg"), "jpeg");
}

static void test_read_plain(void **state)
{
	(void)state;
	blob b = tu_data_file("jpeg", "plain.jpg");
	tu_parsed ps;
	tu_parse(JPEG, b.p, b.n, &ps);
	assert_int_equal(ps.rc, 0);
	assert_int_equal(ps.meta.n_carriers, 0);
	/* SOI, then everything after the 16-byte APP0 */
	assert_int_equal(b.p[3], 0xE0);
	size_t app0_end = 2 + 2 + ((size_t)b.p[4] << 8 | b.p[5]);
	assert_int_equal(ps.meta.n_essence, 2);
	assert_int_equal(ps.meta.essence[0].offset, 0);
	assert_int_equal(ps.meta.essence[0].length, 2);
	assert_int_equal(ps.meta.essence[1].offset, app0_end);
	assert_int_equal(ps.meta.essence[1].offset + ps.meta.essence[1].length, b.n);
	assert_int_equal(aimark_findings_count(ps.findings), 0);
	tu_parsed_free(&ps);
	free(b.p);
}

static void test_read_file_source(void **state)
{
	(void)state;
	aimark_source *src;
	aimark__meta meta;
	assert_int_equal(aimark_source_new_file(&src, TU_DATA("jpeg/baidu-exif.jpg")), 0);
	aimark__meta_init(&meta, NULL);
	assert_int_equal(JPEG->read(src, &meta), 0);
	tu_assert_carrier(&meta, AIMARK__CARRIER_EXIF_USERCOMMENT, BAIDU_JSON);
	aimark__meta_dispose(&meta);
	aimark_source_free(src);
}

static void test_write_then_read(void **state)
{
	(void)state;
	blob b = tu_data_file("jpeg", "plain.jpg");
	aimark_buf out = relabel(b.p, b.n, &LABEL_A);
	size_t first = 0;
	char order[32];
	assert_int_equal(count_xmp(out.ptr, out.size, &first, order, sizeof order), 1);
	assert_int_equal(first, 20); /* right after SOI + APP0 */
	assert_string_equal(order, "0Xooo");

	tu_parsed ps;
	tu_parse(JPEG, out.ptr, out.size, &ps);
	assert_int_equal(ps.rc, 0);
	assert_int_equal(ps.meta.n_carriers, 1);
	tu_assert_carrier(&ps.meta, AIMARK__CARRIER_XMP, LABEL_A.bare_json);
	assert_int_equal(ps.meta.carriers[0].offset, 20);
	tu_parsed_free(&ps);
	tu_assert_same_essence(JPEG, b.p, b.n, out.ptr, out.size, 1);
	/* everything but the new segment is byte-identical */
	size_t xmp_size = 2 + ((size_t)out.ptr[22] << 8 | out.ptr[23]);
	assert_int_equal(out.size, b.n + xmp_size);
	assert_memory_equal(out.ptr, b.p, 20);
	assert_memory_equal(out.ptr + 20 + xmp_size, b.p + 20, b.n - 20);
	aimark_buf_dispose(&out);
	free(b.p);
}

static void test_write_twice(void **state)
{
	(void)state;
	blob b = tu_data_file("jpeg", "plain.jpg");
	aimark_buf once = relabel(b.p, b.n, &LABEL_A);
	aimark_buf twice = relabel(once.ptr, once.size, &LABEL_B);
	assert_int_equal(count_xmp(twice.ptr, twice.size, NULL, NULL, 0), 1);
	tu_parsed ps;
	tu_parse(JPEG, twice.ptr, twice.size, &ps);
	assert_int_equal(ps.rc, 0);
	assert_int_equal(ps.meta.n_carriers, 1);
	tu_assert_carrier(&ps.meta, AIMARK__CARRIER_XMP, LABEL_B.bare_json);
	tu_parsed_free(&ps);
	assert_null(strstr((const char *)twice.ptr + 20, "aimark-test-0001"));
	tu_assert_same_essence(JPEG, b.p, b.n, twice.ptr, twice.size, 1);
	aimark_buf_dispose(&once);
	aimark_buf_dispose(&twice);
	free(b.p);
}

static void test_existing_xmp_kept(void **state)
{
	(void)state;
	blob b = tu_data_file("jpeg", "xmp-creator.jpg");
	size_t first = 0;
	assert_int_equal(count_xmp(b.p, b.n, &first, NULL, 0), 1);
	aimark_buf out = relabel(b.p, b.n, &LABEL_A);
	size_t out_first = 0;
	assert_int_equal(count_xmp(out.ptr, out.size, &out_first, NULL, 0), 1);
	assert_int_equal(out_first, first); /* merged in place */
	size_t len = (size_t)out.ptr[out_first + 2] << 8 | out.ptr[out_first + 3];
	char *seg = strndup((const char *)out.ptr + out_first + 4 + 29, len - 2 - 29);
	assert_non_null(strstr(seg, "<dc:creator>"));
	assert_non_null(strstr(seg, "<rdf:li>X</rdf:li>"));
	assert_non_null(strstr(seg, "Image::ExifTool"));
	free(seg);
	tu_parsed ps;
	tu_parse(JPEG, out.ptr, out.size, &ps);
	assert_int_equal(ps.rc, 0);
	tu_assert_carrier(&ps.meta, AIMARK__CARRIER_XMP, LABEL_A.bare_json);
	tu_parsed_free(&ps);
	tu_assert_same_essence(JPEG, b.p, b.n, out.ptr, out.size, 1);

	if (tu_have_tool("exiftool")) {
		char *dir = tu_tempdir();
		const char *path = tu_path("%s/out.jpg", dir);
		tu_write_file(path, out.ptr, out.size);
		char *creator = tu_run_bytes(NULL, "exiftool -s3 -XMP-dc:Creator '%s'", path);
		assert_string_equal(creator, "X\n");
		free(creator);
		tu_rmtree(dir);
		free(dir);
	}
	aimark_buf_dispose(&out);
	free(b.p);
}

static void test_baidu_exif(void **state)
{
	(void)state;
	unsigned char app1[0x130];
	baidu_app1(app1);
	blob b = tu_data_file("jpeg", "plain.jpg");
	b = tu_blob_splice(b, 20, app1, sizeof app1, 0);
	blob f = tu_data_file("jpeg", "baidu-exif.jpg"); /* the same splice, committed */
	assert_int_equal(f.n, b.n);
	assert_memory_equal(f.p, b.p, b.n);
	free(f.p);

	tu_parsed ps;
	tu_parse(JPEG, b.p, b.n, &ps);
	assert_int_equal(ps.rc, 0);
	assert_int_equal(ps.meta.n_carriers, 1);
	tu_assert_carrier(&ps.meta, AIMARK__CARRIER_EXIF_USERCOMMENT, BAIDU_JSON);
	assert_int_equal(ps.meta.carriers[0].offset, 20);
	tu_parsed_free(&ps);

	aimark_buf out = relabel(b.p, b.n, &LABEL_A);
	char order[32];
	assert_int_equal(count_xmp(out.ptr, out.size, NULL, order, sizeof order), 1);
	assert_string_equal(order, "0EXooo"); /* XMP after the leading APP0 + Exif */
	tu_parse(JPEG, out.ptr, out.size, &ps);
	assert_int_equal(ps.rc, 0);
	assert_int_equal(ps.meta.n_carriers, 2);
	tu_assert_carrier(&ps.meta, AIMARK__CARRIER_EXIF_USERCOMMENT, LABEL_A.wrapped_json);
	tu_assert_carrier(&ps.meta, AIMARK__CARRIER_XMP, LABEL_A.bare_json);
	tu_parsed_free(&ps);
	assert_null(strstr((const char *)out.ptr, "1297407950704593831"));
	tu_assert_same_essence(JPEG, b.p, b.n, out.ptr, out.size, 1);

	/* relabel again: both carriers follow */
	aimark_buf again = relabel(out.ptr, out.size, &LABEL_B);
	tu_parse(JPEG, again.ptr, again.size, &ps);
	assert_int_equal(ps.rc, 0);
	assert_int_equal(ps.meta.n_carriers, 2);
	tu_assert_carrier(&ps.meta, AIMARK__CARRIER_EXIF_USERCOMMENT, LABEL_B.wrapped_json);
	tu_assert_carrier(&ps.meta, AIMARK__CARRIER_XMP, LABEL_B.bare_json);
	tu_parsed_free(&ps);
	assert_int_equal(count_xmp(again.ptr, again.size, NULL, NULL, 0), 1);

	if (tu_have_tool("exiftool")) {
		char *dir = tu_tempdir();
		const char *path = tu_path("%s/out.jpg", dir);
		tu_write_file(path, again.ptr, again.size);
		char *uc = tu_run_bytes(NULL, "exiftool -s3 -UserComment '%s'", path);
		assert_non_null(strstr(uc, LABEL_B.wrapped_json));
		free(uc);
		tu_rmtree(dir);
		free(dir);
	}
	aimark_buf_dispose(&again);
	aimark_buf_dispose(&out);
	free(b.p);
}

static void test_exif_image_description(void **state)
{
	(void)state;
	static const char text[] = "{\"AIGC\":{\"Label\":\"2\",\"ContentProducer\":\"x\",\"ProduceID\":\"y\"}}";
	unsigned char pl[256];
	size_t n = 0, tlen = sizeof text; /* with the NUL */
	memcpy(pl, "Exif\0\0", 6);
	n = 6;
	static const unsigned char tiff[] = {
		'M', 'M', 0, 42, 0, 0, 0, 8,
		0, 1, 0x01, 0x0E, 0, 2, 0, 0, 0, 0 /* count */, 0, 0, 0, 26,
		0, 0, 0, 0,
	};
	memcpy(pl + n, tiff, sizeof tiff);
	pl[n + 17] = (unsigned char)tlen;
	n += sizeof tiff;
	memcpy(pl + n, text, tlen);
	n += tlen;
	blob b = with_segment(tu_data_file("jpeg", "plain.jpg"), 0xE1, pl, n);

	tu_parsed ps;
	tu_parse(JPEG, b.p, b.n, &ps);
	assert_int_equal(ps.rc, 0);
	tu_assert_carrier(&ps.meta, AIMARK__CARRIER_EXIF_DESCRIPTION, text);
	tu_parsed_free(&ps);

	aimark_buf out = relabel(b.p, b.n, &LABEL_A);
	tu_parse(JPEG, out.ptr, out.size, &ps);
	assert_int_equal(ps.rc, 0);
	tu_assert_carrier(&ps.meta, AIMARK__CARRIER_EXIF_DESCRIPTION, LABEL_A.wrapped_json);
	tu_assert_carrier(&ps.meta, AIMARK__CARRIER_XMP, LABEL_A.bare_json);
	tu_parsed_free(&ps);
	tu_assert_same_essence(JPEG, b.p, b.n, out.ptr, out.size, 1);
	aimark_buf_dispose(&out);
	free(b.p);
}

static void test_appn_blob(void **state)
{
	(void)state;
	static const char json[] = "{\"Label\":\"1\",\"ContentProducer\":\"00119144030008867405X210002\",\"ProduceID\":\"8F995586\"}";
	char pl[256];
	int n = snprintf(pl, sizeof pl, "AIGC%s", json);
	blob b = with_segment(tu_data_file("jpeg", "plain.jpg"), 0xEB, pl, (size_t)n); /* APP11 */
	/* and a COM with text around a blob, string containing braces, NUL padding */
	static const char com[] = "note: AIGC{\"Label\":\"3\",\"ProduceID\":\"a}b{\"} tail\0\0";
	b = with_segment(b, 0xFE, com, sizeof com);

	tu_parsed ps;
	tu_parse(JPEG, b.p, b.n, &ps);
	assert_int_equal(ps.rc, 0);
	assert_int_equal(ps.meta.n_carriers, 2);
	assert_string_equal(ps.meta.carriers[0].kind, AIMARK__CARRIER_JPEG_APPN);
	assert_string_equal(ps.meta.carriers[0].text, "{\"Label\":\"3\",\"ProduceID\":\"a}b{\"}");
	assert_string_equal(ps.meta.carriers[1].text, json);
	tu_parsed_free(&ps);

	aimark_buf out = relabel(b.p, b.n, &LABEL_A);
	tu_parse(JPEG, out.ptr, out.size, &ps);
	assert_int_equal(ps.rc, 0);
	assert_int_equal(ps.meta.n_carriers, 3);
	for (size_t i = 0; i < 3; i++)
		assert_string_equal(ps.meta.carriers[i].text, LABEL_A.bare_json);
	tu_parsed_free(&ps);
	/* the text around the COM blob is kept */
	assert_non_null(memmem(out.ptr, out.size, "note: AIGC{", 11));
	assert_non_null(memmem(out.ptr, out.size, "} tail\0\0", 8));
	tu_assert_same_essence(JPEG, b.p, b.n, out.ptr, out.size, 1);
	aimark_buf_dispose(&out);
	free(b.p);
}

static void test_appn_blob_too_large(void **state)
{
	(void)state;
	size_t n = 65500;
	char *pl = malloc(n);
	assert_non_null(pl);
	memset(pl, 'x', n);
	memcpy(pl, "AIGC{\"Label\":\"1\"}", 17);
	blob b = with_segment(tu_data_file("jpeg", "plain.jpg"), 0xE9, pl, n);
	free(pl);
	unsigned char *copy = malloc(b.n);
	memcpy(copy, b.p, b.n);

	tu_parsed ps;
	tu_parse(JPEG, b.p, b.n, &ps);
	assert_int_equal(ps.rc, 0);
	tu_assert_carrier(&ps.meta, AIMARK__CARRIER_JPEG_APPN, "{\"Label\":\"1\"}");
	aimark_buf out = AIMARK_BUF_INIT;
	assert_int_equal(write_label(&ps, &LABEL_A, &out), AIMARK_ELIMIT);
	assert_non_null(strstr(aimark_error_last(), "JPEG"));
	assert_non_null(strstr(aimark_error_last(), "65533"));
	assert_memory_equal(copy, b.p, b.n);
	aimark_buf_dispose(&out);
	tu_parsed_free(&ps);
	free(copy);
	free(b.p);
}

static void test_xmp_too_large(void **state)
{
	(void)state;
	static const char head[] = "http://ns.adobe.com/xap/1.0/\0<?xpacket begin=\"\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>"
		"<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">"
		"<rdf:Description rdf:about=\"\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><dc:source>";
	static const char tail[] = "</dc:source></rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end=\"w\"?>";
	size_t n = 65450;
	char *pl = malloc(n);
	assert_non_null(pl);
	memset(pl, 'y', n);
	memcpy(pl, head, sizeof head - 1);
	memcpy(pl + n - (sizeof tail - 1), tail, sizeof tail - 1);
	blob b = with_segment(tu_data_file("jpeg", "plain.jpg"), 0xE1, pl, n);
	free(pl);
	unsigned char *copy = malloc(b.n);
	memcpy(copy, b.p, b.n);

	tu_parsed ps;
	tu_parse(JPEG, b.p, b.n, &ps);
	assert_int_equal(ps.rc, 0);
	assert_int_equal(ps.meta.n_carriers, 0);
	aimark_buf out = AIMARK_BUF_INIT;
	assert_int_equal(write_label(&ps, &LABEL_A, &out), AIMARK_ELIMIT);
	assert_non_null(strstr(aimark_error_last(), "JPEG"));
	assert_non_null(strstr(aimark_error_last(), "XMP"));
	assert_memory_equal(copy, b.p, b.n);
	aimark_buf_dispose(&out);
	tu_parsed_free(&ps);
	free(copy);
	free(b.p);
}

static void test_xmp_malformed(void **state)
{
	(void)state;
	static const char pl[] = "http://ns.adobe.com/xap/1.0/\0<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF";
	blob b = with_segment(tu_data_file("jpeg", "plain.jpg"), 0xE1, pl, sizeof pl - 1);
	unsigned char *copy = malloc(b.n);
	memcpy(copy, b.p, b.n);
	tu_parsed ps;
	tu_parse(JPEG, b.p, b.n, &ps);
	assert_int_equal(ps.rc, 0); /* read leniently */
	assert_true(aimark_findings_has(ps.findings, "xmp-malformed"));
	aimark_buf out = AIMARK_BUF_INIT;
	assert_int_equal(write_label(&ps, &LABEL_A, &out), AIMARK_EFORMAT);
	assert_non_null(strstr(aimark_error_last(), "JPEG"));
	assert_memory_equal(copy, b.p, b.n);
	aimark_buf_dispose(&out);
	tu_parsed_free(&ps);
	free(copy);
	free(b.p);
}

static void test_extended_xmp_and_trailing(void **state)
{
	(void)state;
	static const char ext[] = "http://ns.adobe.com/xmp/extension/\0" "0123456789ABCDEF0123456789ABCDEF\0\0\0\x10\0\0\0\0<x:xmpmeta/>";
	blob b = with_segment(tu_data_file("jpeg", "plain.jpg"), 0xE1, ext, sizeof ext - 1);
	static const char trail[] = "TRAILING-BYTES";
	b = tu_blob_splice(b, b.n, trail, sizeof trail - 1, 0);
	tu_parsed ps;
	tu_parse(JPEG, b.p, b.n, &ps);
	assert_int_equal(ps.rc, 0);
	assert_int_equal(ps.meta.n_carriers, 0);
	assert_true(aimark_findings_has(ps.findings, "xmp-extended-ignored"));
	assert_true(aimark_findings_has(ps.findings, "trailing-data"));
	/* the essence ends with EOI */
	const aimark__range *last = &ps.meta.essence[ps.meta.n_essence - 1];
	assert_int_equal(last->offset + last->length, b.n - (sizeof trail - 1));
	tu_parsed_free(&ps);

	aimark_buf out = relabel(b.p, b.n, &LABEL_A);
	assert_int_equal(count_xmp(out.ptr, out.size, NULL, NULL, 0), 1);
	assert_memory_equal(out.ptr + out.size - (sizeof trail - 1), trail, sizeof trail - 1);
	assert_non_null(memmem(out.ptr, out.size, ext, sizeof ext - 1));
	tu_assert_same_essence(JPEG, b.p, b.n, out.ptr, out.size, 1);
	aimark_buf_dispose(&out);
	free(b.p);
}

/* Progressive, restart markers, Adobe APP14: walk, relabel, same pixels. */
static void check_image(const char *name, int adobe)
{
	blob b = tu_data_file("jpeg", name);
	tu_parsed ps;
	tu_parse(JPEG, b.p, b.n, &ps);
	if (ps.rc != 0)
		fail_msg("%s: %s", name, aimark_error_last());
	assert_int_equal(ps.meta.n_carriers, 0);
	if (adobe) {
		/* nothing is metadata: one range over the whole file */
		assert_int_equal(ps.meta.n_essence, 1);
		assert_int_equal(ps.meta.essence[0].length, b.n);
	} else {
		assert_int_equal(ps.meta.n_essence, 2);
		assert_int_equal(ps.meta.essence[1].offset, 20);
		assert_int_equal(ps.meta.essence[1].offset + ps.meta.essence[1].length, b.n);
	}
	tu_parsed_free(&ps);

	aimark_buf out = relabel(b.p, b.n, &LABEL_A);
	tu_assert_same_essence(JPEG, b.p, b.n, out.ptr, out.size, 1);
	tu_parse(JPEG, out.ptr, out.size, &ps);
	assert_int_equal(ps.rc, 0);
	tu_assert_carrier(&ps.meta, AIMARK__CARRIER_XMP, LABEL_A.bare_json);
	tu_parsed_free(&ps);

	char *dir = tu_tempdir();
	const char *in_path = tu_path("%s/in.jpg", dir);
	const char *out_path = tu_path("%s/out.jpg", dir);
	tu_write_file(in_path, b.p, b.n);
	tu_write_file(out_path, out.ptr, out.size);
	size_t an, bn;
	char *a = decode(in_path, &an);
	if (a) {
		char *o = decode(out_path, &bn);
		assert_true(an > 64 * 48);
		assert_int_equal(an, bn);
		assert_memory_equal(a, o, an);
		free(o);
		free(a);
	}
	if (tu_have_tool("exiftool")) {
		char *j = tu_run_bytes(NULL, "exiftool -j -XMP:all '%s'", out_path);
		assert_non_null(strstr(j, "aimark-test-0001"));
		assert_non_null(strstr(j, PRODUCER));
		free(j);
	}
	tu_rmtree(dir);
	free(dir);
	aimark_buf_dispose(&out);
	free(b.p);
}

static void test_images(void **state)
{
	(void)state;
	check_image("plain.jpg", 0);
	check_image("progressive.jpg", 0);
	check_image("restart.jpg", 0);
	check_image("adobe-rgb.jpg", 1);
}

static void test_adobe_essence_and_insert(void **state)
{
	(void)state;
	/* no APP0: the new XMP goes right after SOI, before the Adobe APP14 */
	blob b = tu_data_file("jpeg", "adobe-rgb.jpg");
	assert_int_equal(b.p[3], 0xEE);
	aimark_buf out = relabel(b.p, b.n, &LABEL_A);
	size_t first = 0;
	assert_int_equal(count_xmp(out.ptr, out.size, &first, NULL, 0), 1);
	assert_int_equal(first, 2);
	aimark_buf_dispose(&out);
	free(b.p);
}

static void test_synthetic_streams(void **state)
{
	(void)state;
	/* TEM, fill bytes, standalone RST, then EOI */
	static const unsigned char s1[] = { 0xFF, 0xD8, 0xFF, 0x01, 0xFF, 0xFF, 0xFF, 0xD3, 0xFF, 0xFF, 0xD9 };
	/* SOS with stuffing, RST inside the entropy data, fill before EOI */
	static const unsigned char s2[] = { 0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x08, 1, 1, 0, 0, 0x3F, 0,
					    0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56, 0xFF, 0xFF, 0xD9 };
	/* two scans; a COM between them is not essence */
	static const unsigned char s3[] = { 0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02, 0xAA, 0xFF, 0xFE, 0x00, 0x03, 'c',
					    0xFF, 0xDA, 0x00, 0x02, 0xBB, 0xFF, 0xD9 };
	tu_parsed ps;
	tu_parse(JPEG, s1, sizeof s1, &ps);
	assert_int_equal(ps.rc, 0);
	assert_int_equal(ps.meta.n_essence, 1);
	assert_int_equal(ps.meta.essence[0].length, sizeof s1);
	tu_parsed_free(&ps);
	tu_parse(JPEG, s2, sizeof s2, &ps);
	assert_int_equal(ps.rc, 0);
	assert_int_equal(ps.meta.n_essence, 1);
	assert_int_equal(ps.meta.essence[0].length, sizeof s2);
	tu_parsed_free(&ps);
	tu_parse(JPEG, s3, sizeof s3, &ps);
	assert_int_equal(ps.rc, 0);
	assert_int_equal(ps.meta.n_essence, 2);
	assert_int_equal(ps.meta.essence[0].length, 7);
	assert_int_equal(ps.meta.essence[1].offset, 12);
	assert_int_equal(ps.meta.essence[1].length, sizeof s3 - 12);
	tu_parsed_free(&ps);
}

static void expect_eformat(const unsigned char *d, size_t n, const char *what)
{
	tu_expect_read_error(JPEG, d, n, AIMARK_EFORMAT, "JPEG", what);
}

static void test_bad_input(void **state)
{
	(void)state;
	blob b = tu_data_file("jpeg", "plain.jpg");
	unsigned char *d = malloc(b.n);
	assert_non_null(d);

	expect_eformat(b.p, 0, "empty");
	expect_eformat((const unsigned char *)"GIF89a", 6, "SOI");
	expect_eformat(b.p, 1, "SOI");
	expect_eformat(b.p, 3, "ends inside a marker");
	expect_eformat(b.p, 5, "cut off");
	expect_eformat(b.p, 100, "passes the end");      /* truncated inside DHT */
	expect_eformat(b.p, 1000, "entropy-coded data");  /* truncated inside the scan */
	expect_eformat(b.p, b.n - 2, "without an EOI");   /* EOI missing */
	expect_eformat(b.p, 20, "offset 20 without an EOI"); /* SOI + APP0 only */

	memcpy(d, b.p, b.n);
	d[20] = 0x00; /* DQT's 0xFF */
	expect_eformat(d, b.n, "expected a marker at offset 20");
	memcpy(d, b.p, b.n);
	d[21] = 0x00;
	expect_eformat(d, b.n, "0xFF00 at offset 20");
	memcpy(d, b.p, b.n);
	d[21] = 0xD8;
	expect_eformat(d, b.n, "second SOI");
	memcpy(d, b.p, b.n);
	d[4] = 0xFF; /* APP0 length lies */
	d[5] = 0xFF;
	expect_eformat(d, b.n, "segment length 65535 of APP0 (0xFFE0) at offset 2 passes the end");
	memcpy(d, b.p, b.n);
	d[4] = 0;
	d[5] = 1;
	expect_eformat(d, b.n, "less than 2");
	memcpy(d, b.p, b.n);
	d[22] = 0;
	d[23] = 0xFF; /* DQT too long: lands inside the DHT data */
	expect_eformat(d, b.n, NULL);
	free(d);
	free(b.p);
}

static void test_write_misuse(void **state)
{
	(void)state;
	blob a = tu_data_file("jpeg", "plain.jpg"), b = tu_data_file("jpeg", "progressive.jpg");
	tu_parsed pa, pb;
	tu_parse(JPEG, a.p, a.n, &pa);
	tu_parse(JPEG, b.p, b.n, &pb);
	assert_int_equal(pa.rc, 0);
	assert_int_equal(pb.rc, 0);
	provider_ctx ctx = { &LABEL_A, 0 };
	aimark__label_provider prov = { NULL, provider_get, &ctx };
	aimark_buf out = AIMARK_BUF_INIT;
	aimark_sink *sink;
	assert_int_equal(aimark_sink_new_buffer(&sink, &out), 0);
	assert_int_equal(JPEG->write(pa.src, &pb.meta, &prov, sink), AIMARK_EINVAL); /* meta of another file */
	aimark__meta empty;
	aimark__meta_init(&empty, NULL);
	assert_int_equal(JPEG->write(pa.src, &empty, &prov, sink), AIMARK_EINVAL);
	assert_int_equal(aimark_sink_written(sink), 0);
	aimark_sink_free(sink);
	aimark_buf_dispose(&out);
	tu_parsed_free(&pa);
	tu_parsed_free(&pb);
	free(a.p);
	free(b.p);
}

/*
 * Writing from a file source reads only the head of the file (up to the
 * last label segment) and copies the rest from the source: the output must
 * equal the one written from memory, and a file that changed size since
 * read() is refused.
 */
static void test_write_file_source(void **state)
{
	(void)state;
	static const char *const names[] = { "plain.jpg", "baidu-exif.jpg", "xmp-creator.jpg" };
	char *dir = tu_tempdir();
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		blob b = tu_data_file("jpeg", names[i]);
		aimark_buf want = relabel(b.p, b.n, &LABEL_A);
		/* the same file with a label-bearing COM segment just before SOS: the head must reach it */
		blob late = tu_data_file("jpeg", names[i]);
		size_t sos = 2;
		while (late.p[sos] == 0xFF && late.p[sos + 1] != 0xDA)
			sos += 2 + ((size_t)late.p[sos + 2] << 8 | late.p[sos + 3]);
		assert_true(sos > 100);
		static const char com[] = "AIGC{\"Label\":\"1\",\"ContentProducer\":\"x\"}";
		blob cs = segment(0xFE, com, sizeof com - 1);
		late = tu_blob_splice(late, sos, cs.p, cs.n, 0);
		free(cs.p);
		aimark_buf want_late = relabel(late.p, late.n, &LABEL_A);
		/* the COM segment is a label carrier: relabelling rewrote it (the old JSON is gone) */
		assert_null(memmem(want_late.ptr, want_late.size, com + 4, sizeof com - 5));
		const blob *inputs[2] = { &b, &late };
		const aimark_buf *wants[2] = { &want, &want_late };
		for (int k = 0; k < 2; k++) {
			const char *path = tu_path("%s/in-%zu-%d.jpg", dir, i, k);
			tu_write_file(path, inputs[k]->p, inputs[k]->n);
			aimark_source *src = NULL;
			assert_int_equal(aimark_source_new_file(&src, path), 0);
			assert_null(aimark__source_memory(src));
			aimark__meta meta;
			aimark__meta_init(&meta, NULL);
			assert_int_equal(JPEG->read(src, &meta), 0);
			provider_ctx ctx = { &LABEL_A, 0 };
			aimark__label_provider prov = { NULL, provider_get, &ctx };
			aimark_buf got = AIMARK_BUF_INIT;
			aimark_sink *sink = NULL;
			assert_int_equal(aimark_sink_new_buffer(&sink, &got), 0);
			assert_int_equal(JPEG->write(src, &meta, &prov, sink), 0);
			aimark_sink_free(sink);
			assert_int_equal(got.size, wants[k]->size);
			assert_memory_equal(got.ptr, wants[k]->ptr, got.size);
			aimark_buf_dispose(&got);
			aimark_source_free(src);
			/* shortened after read(): refused, nothing read past the end */
			assert_int_equal(aimark_source_new_file(&src, path), 0);
			aimark__meta_dispose(&meta);
			aimark__meta_init(&meta, NULL);
			assert_int_equal(JPEG->read(src, &meta), 0);
			aimark_source_free(src);
			tu_write_file(path, inputs[k]->p, inputs[k]->n / 2);
			assert_int_equal(aimark_source_new_file(&src, path), 0);
			assert_int_equal(aimark_sink_new_buffer(&sink, &got), 0);
			assert_int_equal(JPEG->write(src, &meta, &prov, sink), AIMARK_EINVAL);
			assert_int_equal(aimark_sink_written(sink), 0);
			aimark_sink_free(sink);
			aimark_buf_dispose(&got);
			aimark_source_free(src);
			aimark__meta_dispose(&meta);
		}
		aimark_buf_dispose(&want);
		aimark_buf_dispose(&want_late);
		free(b.p);
		free(late.p);
	}
	tu_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe),
		cmocka_unit_test(test_read_plain),
		cmocka_unit_test(test_read_file_source),
		cmocka_unit_test(test_write_then_read),
		cmocka_unit_test(test_write_twice),
		cmocka_unit_test(test_existing_xmp_kept),
		cmocka_unit_test(test_baidu_exif),
		cmocka_unit_test(test_exif_image_description),
		cmocka_unit_test(test_appn_blob),
		cmocka_unit_test(test_appn_blob_too_large),
		cmocka_unit_test(test_xmp_too_large),
		cmocka_unit_test(test_xmp_malformed),
		cmocka_unit_test(test_extended_xmp_and_trailing),
		cmocka_unit_test(test_images),
		cmocka_unit_test(test_adobe_essence_and_insert),
		cmocka_unit_test(test_synthetic_streams),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_write_misuse),
		cmocka_unit_test(test_write_file_source),
	};
	return cmocka_run_group_tests_name("jpeg_meta", tests, NULL, NULL);
}

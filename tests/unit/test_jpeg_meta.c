/* JPEG backend: marker walk, carriers, essence, write and re-read. */
#define _GNU_SOURCE /* memmem */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

#include "core/internal.h"
#include "format/format.h"

extern const aimark__format_ops aimark__format_jpeg;
#define JPEG (&aimark__format_jpeg)

#define PRODUCER "001191110000802100433B10005"
#define LABEL_BARE(id) \
	"{\"Label\":\"1\",\"ContentProducer\":\"" PRODUCER "\",\"ProduceID\":\"" id "\",\"ReservedCode1\":\"\"," \
	"\"ContentPropagator\":\"" PRODUCER "\",\"PropagateID\":\"" id "\",\"ReservedCode2\":\"\"}"
#define LABEL_WRAPPED(id) "{\"AIGC\":" LABEL_BARE(id) "}"

static const aimark__label_write LABEL_A = { LABEL_BARE("aimark-test-0001"), sizeof LABEL_BARE("aimark-test-0001") - 1,
					     LABEL_WRAPPED("aimark-test-0001"), sizeof LABEL_WRAPPED("aimark-test-0001") - 1 };
static const aimark__label_write LABEL_B = { LABEL_BARE("aimark-test-0002"), sizeof LABEL_BARE("aimark-test-0002") - 1,
					     LABEL_WRAPPED("aimark-test-0002"), sizeof LABEL_WRAPPED("aimark-test-0002") - 1 };

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

typedef struct blob {
	unsigned char *p;
	size_t n;
} blob;

static blob blob_file(const char *name)
{
	blob b;
	b.p = tu_read_file(tu_path("%s/jpeg/%s", AIMARK_TEST_DATA, name), &b.n);
	return b;
}

/* Inserts `ins` at `at` (a new malloc'ed blob; the old one is freed). */
static blob blob_splice(blob b, size_t at, const void *ins, size_t ins_len, size_t remove)
{
	blob r;
	assert_true(at + remove <= b.n);
	r.n = b.n - remove + ins_len;
	r.p = malloc(r.n + 1);
	assert_non_null(r.p);
	memcpy(r.p, b.p, at);
	memcpy(r.p + at, ins, ins_len);
	memcpy(r.p + at + ins_len, b.p + at + remove, b.n - at - remove);
	free(b.p);
	return r;
}

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
	b = blob_splice(b, 20, s.p, s.n, 0);
	free(s.p);
	return b;
}

typedef struct parsed {
	aimark_source *src;
	aimark_findings *findings;
	aimark__meta meta;
	int rc;
} parsed;

static void parse(parsed *ps, const void *data, size_t n)
{
	assert_int_equal(aimark_source_new_memory(&ps->src, data, n), 0);
	assert_int_equal(aimark_findings_new(&ps->findings), 0);
	aimark__meta_init(&ps->meta, ps->findings);
	ps->rc = JPEG->read(ps->src, &ps->meta);
}

static void parsed_dispose(parsed *ps)
{
	aimark__meta_dispose(&ps->meta);
	aimark_findings_free(ps->findings);
	aimark_source_free(ps->src);
}

static int write_label(parsed *ps, const aimark__label_write *label, aimark_buf *out)
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
	parsed ps;
	aimark_buf out = AIMARK_BUF_INIT;
	parse(&ps, in, n);
	assert_int_equal(ps.rc, 0);
	int rc = write_label(&ps, label, &out);
	if (rc != 0)
		fail_msg("write failed: %s", aimark_error_last());
	parsed_dispose(&ps);
	return out;
}

static int collect(void *ctx, const void *data, size_t len) { return aimark__buf_append(ctx, data, len); }

/* The essence bytes of `data`, concatenated. */
static aimark_buf essence_of(const unsigned char *data, size_t n)
{
	parsed ps;
	aimark_buf e = AIMARK_BUF_INIT;
	parse(&ps, data, n);
	assert_int_equal(ps.rc, 0);
	assert_int_equal(aimark__meta_hash_essence(ps.src, &ps.meta, collect, &e), 0);
	parsed_dispose(&ps);
	return e;
}

static void assert_same_essence(const unsigned char *a, size_t an, const unsigned char *b, size_t bn)
{
	aimark_buf ea = essence_of(a, an), eb = essence_of(b, bn);
	assert_true(ea.size > 0);
	assert_int_equal(ea.size, eb.size);
	assert_memory_equal(ea.ptr, eb.ptr, ea.size);
	aimark_buf_dispose(&ea);
	aimark_buf_dispose(&eb);
}

static const aimark__carrier *find_carrier(const aimark__meta *m, const char *kind)
{
	for (size_t i = 0; i < m->n_carriers; i++)
		if (strcmp(m->carriers[i].kind, kind) == 0)
			return &m->carriers[i];
	return NULL;
}

static void assert_carrier(const aimark__meta *m, const char *kind, const char *text)
{
	const aimark__carrier *c = find_carrier(m, kind);
	if (c == NULL)
		fail_msg("no %s carrier", kind);
	assert_string_equal(c->text, text);
	assert_int_equal(c->len, strlen(text));
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

static int have_tool(const char *tool)
{
	char cmd[256];
	snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", tool);
	return system(cmd) == 0;
}

/* Runs a command and returns its standard output (malloc'ed). */
static char *run(const char *cmd, size_t *len)
{
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	assert_non_null(buf);
	size_t got;
	while ((got = fread(buf + n, 1, cap - n - 1, p)) > 0) {
		n += got;
		if (cap - n < 2) {
			cap *= 2;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
	}
	buf[n] = 0;
	int st = pclose(p);
	if (st != 0)
		fail_msg("command failed (%d): %s", st, cmd);
	if (len)
		*len = n;
	return buf;
}

/* Decoded pixels, through djpeg when installed, else ffmpeg; NULL when neither is. */
static char *decode(const char *path, size_t *len)
{
	char cmd[4400];
	if (have_tool("djpeg"))
		snprintf(cmd, sizeof cmd, "djpeg -pnm '%s'", path);
	else if (have_tool("ffmpeg"))
		snprintf(cmd, sizeof cmd, "ffmpeg -v error -i '%s' -f rawvideo -pix_fmt rgb24 -", path);
	else
		return NULL;
	return run(cmd, len);
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
	blob b = blob_file("plain.jpg");
	parsed ps;
	parse(&ps, b.p, b.n);
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
	parsed_dispose(&ps);
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
	assert_carrier(&meta, AIMARK__CARRIER_EXIF_USERCOMMENT, BAIDU_JSON);
	aimark__meta_dispose(&meta);
	aimark_source_free(src);
}

static void test_write_then_read(void **state)
{
	(void)state;
	blob b = blob_file("plain.jpg");
	aimark_buf out = relabel(b.p, b.n, &LABEL_A);
	size_t first = 0;
	char order[32];
	assert_int_equal(count_xmp(out.ptr, out.size, &first, order, sizeof order), 1);
	assert_int_equal(first, 20); /* right after SOI + APP0 */
	assert_string_equal(order, "0Xooo");

	parsed ps;
	parse(&ps, out.ptr, out.size);
	assert_int_equal(ps.rc, 0);
	assert_int_equal(ps.meta.n_carriers, 1);
	assert_carrier(&ps.meta, AIMARK__CARRIER_XMP, LABEL_A.bare_json);
	assert_int_equal(ps.meta.carriers[0].offset, 20);
	parsed_dispose(&ps);
	assert_same_essence(b.p, b.n, out.ptr, out.size);
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
	blob b = blob_file("plain.jpg");
	aimark_buf once = relabel(b.p, b.n, &LABEL_A);
	aimark_buf twice = relabel(once.ptr, once.size, &LABEL_B);
	assert_int_equal(count_xmp(twice.ptr, twice.size, NULL, NULL, 0), 1);
	parsed ps;
	parse(&ps, twice.ptr, twice.size);
	assert_int_equal(ps.rc, 0);
	assert_int_equal(ps.meta.n_carriers, 1);
	assert_carrier(&ps.meta, AIMARK__CARRIER_XMP, LABEL_B.bare_json);
	parsed_dispose(&ps);
	assert_null(strstr((const char *)twice.ptr + 20, "aimark-test-0001"));
	assert_same_essence(b.p, b.n, twice.ptr, twice.size);
	aimark_buf_dispose(&once);
	aimark_buf_dispose(&twice);
	free(b.p);
}

static void test_existing_xmp_kept(void **state)
{
	(void)state;
	blob b = blob_file("xmp-creator.jpg");
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
	parsed ps;
	parse(&ps, out.ptr, out.size);
	assert_int_equal(ps.rc, 0);
	assert_carrier(&ps.meta, AIMARK__CARRIER_XMP, LABEL_A.bare_json);
	parsed_dispose(&ps);
	assert_same_essence(b.p, b.n, out.ptr, out.size);

	if (have_tool("exiftool")) {
		char *dir = tu_tempdir();
		const char *path = tu_path("%s/out.jpg", dir);
		tu_write_file(path, out.ptr, out.size);
		char *creator = run(tu_path("exiftool -s3 -XMP-dc:Creator '%s'", path), NULL);
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
	blob b = blob_file("plain.jpg");
	b = blob_splice(b, 20, app1, sizeof app1, 0);
	blob f = blob_file("baidu-exif.jpg"); /* the same splice, committed */
	assert_int_equal(f.n, b.n);
	assert_memory_equal(f.p, b.p, b.n);
	free(f.p);

	parsed ps;
	parse(&ps, b.p, b.n);
	assert_int_equal(ps.rc, 0);
	assert_int_equal(ps.meta.n_carriers, 1);
	assert_carrier(&ps.meta, AIMARK__CARRIER_EXIF_USERCOMMENT, BAIDU_JSON);
	assert_int_equal(ps.meta.carriers[0].offset, 20);
	parsed_dispose(&ps);

	aimark_buf out = relabel(b.p, b.n, &LABEL_A);
	char order[32];
	assert_int_equal(count_xmp(out.ptr, out.size, NULL, order, sizeof order), 1);
	assert_string_equal(order, "0EXooo"); /* XMP after the leading APP0 + Exif */
	parse(&ps, out.ptr, out.size);
	assert_int_equal(ps.rc, 0);
	assert_int_equal(ps.meta.n_carriers, 2);
	assert_carrier(&ps.meta, AIMARK__CARRIER_EXIF_USERCOMMENT, LABEL_A.wrapped_json);
	assert_carrier(&ps.meta, AIMARK__CARRIER_XMP, LABEL_A.bare_json);
	parsed_dispose(&ps);
	assert_null(strstr((const char *)out.ptr, "1297407950704593831"));
	assert_same_essence(b.p, b.n, out.ptr, out.size);

	/* relabel again: both carriers follow */
	aimark_buf again = relabel(out.ptr, out.size, &LABEL_B);
	parse(&ps, again.ptr, again.size);
	assert_int_equal(ps.rc, 0);
	assert_int_equal(ps.meta.n_carriers, 2);
	assert_carrier(&ps.meta, AIMARK__CARRIER_EXIF_USERCOMMENT, LABEL_B.wrapped_json);
	assert_carrier(&ps.meta, AIMARK__CARRIER_XMP, LABEL_B.bare_json);
	parsed_dispose(&ps);
	assert_int_equal(count_xmp(again.ptr, again.size, NULL, NULL, 0), 1);

	if (have_tool("exiftool")) {
		char *dir = tu_tempdir();
		const char *path = tu_path("%s/out.jpg", dir);
		tu_write_file(path, again.ptr, again.size);
		char *uc = run(tu_path("exiftool -s3 -UserComment '%s'", path), NULL);
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
	blob b = with_segment(blob_file("plain.jpg"), 0xE1, pl, n);

	parsed ps;
	parse(&ps, b.p, b.n);
	assert_int_equal(ps.rc, 0);
	assert_carrier(&ps.meta, AIMARK__CARRIER_EXIF_DESCRIPTION, text);
	parsed_dispose(&ps);

	aimark_buf out = relabel(b.p, b.n, &LABEL_A);
	parse(&ps, out.ptr, out.size);
	assert_int_equal(ps.rc, 0);
	assert_carrier(&ps.meta, AIMARK__CARRIER_EXIF_DESCRIPTION, LABEL_A.wrapped_json);
	assert_carrier(&ps.meta, AIMARK__CARRIER_XMP, LABEL_A.bare_json);
	parsed_dispose(&ps);
	assert_same_essence(b.p, b.n, out.ptr, out.size);
	aimark_buf_dispose(&out);
	free(b.p);
}

static void test_appn_blob(void **state)
{
	(void)state;
	static const char json[] = "{\"Label\":\"1\",\"ContentProducer\":\"00119144030008867405X210002\",\"ProduceID\":\"8F995586\"}";
	char pl[256];
	int n = snprintf(pl, sizeof pl, "AIGC%s", json);
	blob b = with_segment(blob_file("plain.jpg"), 0xEB, pl, (size_t)n); /* APP11 */
	/* and a COM with text around a blob, string containing braces, NUL padding */
	static const char com[] = "note: AIGC{\"Label\":\"3\",\"ProduceID\":\"a}b{\"} tail\0\0";
	b = with_segment(b, 0xFE, com, sizeof com);

	parsed ps;
	parse(&ps, b.p, b.n);
	assert_int_equal(ps.rc, 0);
	assert_int_equal(ps.meta.n_carriers, 2);
	assert_string_equal(ps.meta.carriers[0].kind, AIMARK__CARRIER_JPEG_APPN);
	assert_string_equal(ps.meta.carriers[0].text, "{\"Label\":\"3\",\"ProduceID\":\"a}b{\"}");
	assert_string_equal(ps.meta.carriers[1].text, json);
	parsed_dispose(&ps);

	aimark_buf out = relabel(b.p, b.n, &LABEL_A);
	parse(&ps, out.ptr, out.size);
	assert_int_equal(ps.rc, 0);
	assert_int_equal(ps.meta.n_carriers, 3);
	for (size_t i = 0; i < 3; i++)
		assert_string_equal(ps.meta.carriers[i].text, LABEL_A.bare_json);
	parsed_dispose(&ps);
	/* the text around the COM blob is kept */
	assert_non_null(memmem(out.ptr, out.size, "note: AIGC{", 11));
	assert_non_null(memmem(out.ptr, out.size, "} tail\0\0", 8));
	assert_same_essence(b.p, b.n, out.ptr, out.size);
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
	blob b = with_segment(blob_file("plain.jpg"), 0xE9, pl, n);
	free(pl);
	unsigned char *copy = malloc(b.n);
	memcpy(copy, b.p, b.n);

	parsed ps;
	parse(&ps, b.p, b.n);
	assert_int_equal(ps.rc, 0);
	assert_carrier(&ps.meta, AIMARK__CARRIER_JPEG_APPN, "{\"Label\":\"1\"}");
	aimark_buf out = AIMARK_BUF_INIT;
	assert_int_equal(write_label(&ps, &LABEL_A, &out), AIMARK_ELIMIT);
	assert_non_null(strstr(aimark_error_last(), "JPEG"));
	assert_non_null(strstr(aimark_error_last(), "65533"));
	assert_memory_equal(copy, b.p, b.n);
	aimark_buf_dispose(&out);
	parsed_dispose(&ps);
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
	blob b = with_segment(blob_file("plain.jpg"), 0xE1, pl, n);
	free(pl);
	unsigned char *copy = malloc(b.n);
	memcpy(copy, b.p, b.n);

	parsed ps;
	parse(&ps, b.p, b.n);
	assert_int_equal(ps.rc, 0);
	assert_int_equal(ps.meta.n_carriers, 0);
	aimark_buf out = AIMARK_BUF_INIT;
	assert_int_equal(write_label(&ps, &LABEL_A, &out), AIMARK_ELIMIT);
	assert_non_null(strstr(aimark_error_last(), "JPEG"));
	assert_non_null(strstr(aimark_error_last(), "XMP"));
	assert_memory_equal(copy, b.p, b.n);
	aimark_buf_dispose(&out);
	parsed_dispose(&ps);
	free(copy);
	free(b.p);
}

static void test_xmp_malformed(void **state)
{
	(void)state;
	static const char pl[] = "http://ns.adobe.com/xap/1.0/\0<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF";
	blob b = with_segment(blob_file("plain.jpg"), 0xE1, pl, sizeof pl - 1);
	unsigned char *copy = malloc(b.n);
	memcpy(copy, b.p, b.n);
	parsed ps;
	parse(&ps, b.p, b.n);
	assert_int_equal(ps.rc, 0); /* read leniently */
	assert_true(aimark_findings_has(ps.findings, "xmp-malformed"));
	aimark_buf out = AIMARK_BUF_INIT;
	assert_int_equal(write_label(&ps, &LABEL_A, &out), AIMARK_EFORMAT);
	assert_non_null(strstr(aimark_error_last(), "JPEG"));
	assert_memory_equal(copy, b.p, b.n);
	aimark_buf_dispose(&out);
	parsed_dispose(&ps);
	free(copy);
	free(b.p);
}

static void test_extended_xmp_and_trailing(void **state)
{
	(void)state;
	static const char ext[] = "http://ns.adobe.com/xmp/extension/\0" "0123456789ABCDEF0123456789ABCDEF\0\0\0\x10\0\0\0\0<x:xmpmeta/>";
	blob b = with_segment(blob_file("plain.jpg"), 0xE1, ext, sizeof ext - 1);
	static const char trail[] = "TRAILING-BYTES";
	b = blob_splice(b, b.n, trail, sizeof trail - 1, 0);
	parsed ps;
	parse(&ps, b.p, b.n);
	assert_int_equal(ps.rc, 0);
	assert_int_equal(ps.meta.n_carriers, 0);
	assert_true(aimark_findings_has(ps.findings, "xmp-extended-ignored"));
	assert_true(aimark_findings_has(ps.findings, "trailing-data"));
	/* the essence ends with EOI */
	const aimark__range *last = &ps.meta.essence[ps.meta.n_essence - 1];
	assert_int_equal(last->offset + last->length, b.n - (sizeof trail - 1));
	parsed_dispose(&ps);

	aimark_buf out = relabel(b.p, b.n, &LABEL_A);
	assert_int_equal(count_xmp(out.ptr, out.size, NULL, NULL, 0), 1);
	assert_memory_equal(out.ptr + out.size - (sizeof trail - 1), trail, sizeof trail - 1);
	assert_non_null(memmem(out.ptr, out.size, ext, sizeof ext - 1));
	assert_same_essence(b.p, b.n, out.ptr, out.size);
	aimark_buf_dispose(&out);
	free(b.p);
}

/* Progressive, restart markers, Adobe APP14: walk, relabel, same pixels. */
static void check_image(const char *name, int adobe)
{
	blob b = blob_file(name);
	parsed ps;
	parse(&ps, b.p, b.n);
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
	parsed_dispose(&ps);

	aimark_buf out = relabel(b.p, b.n, &LABEL_A);
	assert_same_essence(b.p, b.n, out.ptr, out.size);
	parse(&ps, out.ptr, out.size);
	assert_int_equal(ps.rc, 0);
	assert_carrier(&ps.meta, AIMARK__CARRIER_XMP, LABEL_A.bare_json);
	parsed_dispose(&ps);

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
	if (have_tool("exiftool")) {
		char *j = run(tu_path("exiftool -j -XMP:all '%s'", out_path), NULL);
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
	blob b = blob_file("adobe-rgb.jpg");
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
	parsed ps;
	parse(&ps, s1, sizeof s1);
	assert_int_equal(ps.rc, 0);
	assert_int_equal(ps.meta.n_essence, 1);
	assert_int_equal(ps.meta.essence[0].length, sizeof s1);
	parsed_dispose(&ps);
	parse(&ps, s2, sizeof s2);
	assert_int_equal(ps.rc, 0);
	assert_int_equal(ps.meta.n_essence, 1);
	assert_int_equal(ps.meta.essence[0].length, sizeof s2);
	parsed_dispose(&ps);
	parse(&ps, s3, sizeof s3);
	assert_int_equal(ps.rc, 0);
	assert_int_equal(ps.meta.n_essence, 2);
	assert_int_equal(ps.meta.essence[0].length, 7);
	assert_int_equal(ps.meta.essence[1].offset, 12);
	assert_int_equal(ps.meta.essence[1].length, sizeof s3 - 12);
	parsed_dispose(&ps);
}

static void expect_eformat(const unsigned char *d, size_t n, const char *what)
{
	parsed ps;
	parse(&ps, d, n);
	if (ps.rc != AIMARK_EFORMAT)
		fail_msg("expected EFORMAT, got %d", ps.rc);
	const char *msg = aimark_error_last();
	assert_non_null(strstr(msg, "JPEG"));
	if (what && strstr(msg, what) == NULL)
		fail_msg("message \"%s\" lacks \"%s\"", msg, what);
	parsed_dispose(&ps);
}

static void test_bad_input(void **state)
{
	(void)state;
	blob b = blob_file("plain.jpg");
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
	blob a = blob_file("plain.jpg"), b = blob_file("progressive.jpg");
	parsed pa, pb;
	parse(&pa, a.p, a.n);
	parse(&pb, b.p, b.n);
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
	parsed_dispose(&pa);
	parsed_dispose(&pb);
	free(a.p);
	free(b.p);
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
	};
	return cmocka_run_group_tests_name("jpeg_meta", tests, NULL, NULL);
}

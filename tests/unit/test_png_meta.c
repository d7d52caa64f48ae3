/* PNG backend: chunk walk, carriers, essence, write and re-read. */
#define _GNU_SOURCE /* memmem */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "testutil.h"

#include "core/internal.h"
#include "format/format.h"

extern const aimark__format_ops aimark__format_png;
#define PNG (&aimark__format_png)

static const aimark__label_write LABEL_A = TU_LABEL("aimark-png-0001");
static const aimark__label_write LABEL_B = TU_LABEL("aimark-png-0002");

/* gb45438-examples.md section 3: Qwen's tEXt AIGC text, byte for byte. */
static const char QWEN_JSON[] =
	"{\"ContentPropagator\":\"001191440101MA9Y9T4H7A00000\",\"Label\":\"1\",\"ReservedCode1\":\"58nOgn3ohn"
	"aXpKm8TpzlgHTBl+prMkSQIlEoUKGldrQ=\",\"ProduceID\":\"u:1732955270041070906/task:aeade81cd33446"
	"138c5fd7bd3c4a8f62/sid:6c2340b659e745498c3bfc6fed5c9519\",\"ReservedCode2\":\"58nOgn3ohnaXpKm8"
	"TpzlgHTBl+prMkSQIlEoUKGldrQ=\",\"PropagateID\":\"u:1732955270041070906/task:aeade81cd33446138c"
	"5fd7bd3c4a8f62/sid:6c2340b659e745498c3bfc6fed5c9519\",\"ContentProducer\":\"001191440101MA9Y9T"
	"4H7A00000\"}";

/* gb45438-examples.md section 5: Tencent Yuanbao's UserComment JSON, byte for byte. */
static const char TENCENT_JSON[] =
	"{\"AIGC\": {\"Label\":\"1\",\"ContentProducer\":\"001191440300708461136T1WFUO\",\"ProduceID\":\"b59c07c"
	"b3edb487486e6c268f2ba66cf-xNc9\",\"ReservedCode1\":\"{\\\"Type\\\":\\\" TC260PG\\\",\\\"Version\\\":1,\\\"Bi"
	"ndings\\\":[{\\\"Type\\\":\\\"soft\\\",\\\"AlgID\\\":\\\"phash\\\",\\\"Value\\\":\\\"83a6ceb559b40f1c\\\"},{\\\"Type\\\""
	":\\\"hash\\\",\\\"AlgID\\\":\\\"sm3\\\",\\\"Value\\\":\\\"a55d78d15b91ff8b91f7b9ba99472c4db71a3e69fe1d5143ba"
	"51df0193c59ae7\\\"}],\\\"PubSD\\\":[{\\\"Type\\\":\\\"DS\\\",\\\"AlgID\\\":\\\"sm2\\\",\\\"TBSData\\\":{\\\"Type\\\":\\\"B"
	"inding\\\",\\\"BType\\\":\\\"hash\\\"},\\\"Signature\\\":\\\"30450220691f928febac1097459a86ad2da9f957c2c0a"
	"bcea392f643fb2c6f497597d94d022100c95480c2627606fd711957bc007f9c45f0f84b3a3d96546373b3f73d6"
	"41d536b\\\"},{\\\"Type\\\":\\\"PubKey\\\",\\\"AlgID\\\":\\\"sm2\\\",\\\"KeyValue\\\":\\\"0407f79b28a17a752b3aae430"
	"5c98b48978213832729a2571850b1310b2bc9fe8fee039ccf25ebfeac27502414d9fcef792d777183c98893d22"
	"6171c2f7a3289a2\\\"}],\\\"Extension\\\":{\\\"Timestamp\\\":1766838402,\\\"KeyVersion\\\":\\\"v1-TxLeOmf7bq"
	"U223\\\"}}\",\"ContentPropagator\":\"001191440300708461136T1WFUO\",\"PropagateID\":\"b59c07cb3edb487"
	"486e6c268f2ba66cf-xNc9\",\"ReservedCode2\":\"{\\\"Type\\\":\\\" TC260PG\\\",\\\"Version\\\":1,\\\"Bindings\\\""
	":[{\\\"Type\\\":\\\"soft\\\",\\\"AlgID\\\":\\\"phash\\\",\\\"Value\\\":\\\"83a6ceb559b40f1c\\\"},{\\\"Type\\\":\\\"hash\\"
	"\",\\\"AlgID\\\":\\\"sm3\\\",\\\"Value\\\":\\\"a55d78d15b91ff8b91f7b9ba99472c4db71a3e69fe1d5143ba51df0193"
	"c59ae7\\\"}],\\\"PubSD\\\":[{\\\"Type\\\":\\\"DS\\\",\\\"AlgID\\\":\\\"sm2\\\",\\\"TBSData\\\":{\\\"Type\\\":\\\"Binding\\\""
	",\\\"BType\\\":\\\"hash\\\"},\\\"Signature\\\":\\\"3045022051d27f1ae008f7ade6b0171472f93ffb27a95567ddeb7"
	"e6a481c14e418f7b829022100adf19411c2a96c4536fcf394c660ffec2566c073cbcd295cce88499fa9ac54b5\\"
	"\"},{\\\"Type\\\":\\\"PubKey\\\",\\\"AlgID\\\":\\\"sm2\\\",\\\"KeyValue\\\":\\\"0407f79b28a17a752b3aae4305c98b489"
	"78213832729a2571850b1310b2bc9fe8fee039ccf25ebfeac27502414d9fcef792d777183c98893d226171c2f7"
	"a3289a2\\\"}],\\\"Extension\\\":{\\\"Timestamp\\\":1766838402,\\\"KeyVersion\\\":\\\"v1-TxLeOmf7bqU223\\\"}}"
	"\"}}";

#define DOUBAO_JSON                                                                                               \
	"{\"Label\":\"1\",\"ContentProducer\":\"001191110102MACQD9K64010000\",\"ProduceID\":"                        \
	"\"e3578014edd949debed102781a8c26f7\",\"ReservedCode1\":\"\",\"ContentPropagator\":\"\",\"PropagateID\":\"\"," \
	"\"ReservedCode2\":\"\"}"
#define JIMENG_JSON                                                                                                \
	"{\"Label\":\"1\",\"ContentProducer\":\"00119144030008867405X210001\",\"ProduceID\":"                         \
	"\"tos-cn-i-tb4s082cfz/71c91abae7bf486ba7b82020b0df8d2e\",\"ReservedCode1\":\"\",\"ContentPropagator\":"     \
	"\"00119144030008867405X220001\",\"PropagateID\":\"tos-cn-i-tb4s082cfz/71c91abae7bf486ba7b82020b0df8d2e\","  \
	"\"ReservedCode2\":\"\"}"

/* ---- byte helpers ---- */

typedef tu_blob blob;

static blob blob_file(const char *path)
{
	blob b;
	b.p = tu_read_file(path, &b.n);
	return b;
}

/* Bit-at-a-time CRC-32, independent of the library's table version. */
static uint32_t crc_bits(const unsigned char *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
	}
	return ~c;
}

/* A whole chunk (length, type, data, CRC). */
static blob make_chunk(const char *type, const void *data, size_t len)
{
	blob c = { malloc(len + 12), len + 12 };
	assert_non_null(c.p);
	c.p[0] = (unsigned char)(len >> 24);
	c.p[1] = (unsigned char)(len >> 16);
	c.p[2] = (unsigned char)(len >> 8);
	c.p[3] = (unsigned char)len;
	memcpy(c.p + 4, type, 4);
	if (len)
		memcpy(c.p + 8, data, len);
	uint32_t crc = crc_bits(c.p + 4, len + 4);
	c.p[len + 8] = (unsigned char)(crc >> 24);
	c.p[len + 9] = (unsigned char)(crc >> 16);
	c.p[len + 10] = (unsigned char)(crc >> 8);
	c.p[len + 11] = (unsigned char)crc;
	return c;
}

static blob with_chunk_at(blob b, size_t at, const char *type, const void *data, size_t len)
{
	blob c = make_chunk(type, data, len);
	b = tu_blob_splice(b, at, c.p, c.n, 0);
	free(c.p);
	return b;
}

/* A text chunk body: keyword NUL text. */
static blob text_body(const char *keyword, const char *text)
{
	size_t k = strlen(keyword), t = strlen(text);
	blob b = { malloc(k + 1 + t + 1), k + 1 + t };
	assert_non_null(b.p);
	memcpy(b.p, keyword, k + 1);
	memcpy(b.p + k + 1, text, t);
	return b;
}

static blob with_text(blob b, size_t at, const char *keyword, const char *text)
{
	blob body = text_body(keyword, text);
	b = with_chunk_at(b, at, "tEXt", body.p, body.n);
	free(body.p);
	return b;
}

/* The Tencent Yuanbao eXIf layout (examples section 5): MM TIFF, IFD0 -> Exif IFD -> UserComment. */
static blob tencent_exif(const char *json)
{
	static const unsigned char head[] = {
		'M', 'M', 0x00, 0x2a, 0x00, 0x00, 0x00, 0x08,
		0x00, 0x01, 0x87, 0x69, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x1a, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x01, 0x92, 0x86, 0x00, 0x07, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00,
		'A', 'S', 'C', 'I', 'I', 0, 0, 0,
	};
	size_t j = strlen(json), count = 8 + j;
	blob b = { malloc(sizeof head + j), sizeof head + j };
	assert_non_null(b.p);
	memcpy(b.p, head, sizeof head);
	memcpy(b.p + sizeof head, json, j);
	aimark__put_be32(b.p + 32, (uint32_t)count);
	return b;
}

typedef struct chunk_info {
	size_t offset;
	uint32_t len;
	char type[5];
} chunk_info;

/* Lists the chunks of a well-formed PNG (test-side walker). */
static size_t list_chunks(const blob *b, chunk_info *out, size_t max)
{
	size_t pos = 8, n = 0;
	while (pos + 12 <= b->n && n < max) {
		uint32_t len = aimark__be32(b->p + pos);
		out[n].offset = pos;
		out[n].len = len;
		memcpy(out[n].type, b->p + pos + 4, 4);
		out[n].type[4] = 0;
		n++;
		if (memcmp(b->p + pos + 4, "IEND", 4) == 0)
			break;
		pos += 12 + (size_t)len;
	}
	return n;
}

static size_t count_type(const blob *b, const char *type)
{
	chunk_info c[64];
	size_t n = list_chunks(b, c, 64), k = 0;
	for (size_t i = 0; i < n; i++)
		k += strcmp(c[i].type, type) == 0;
	return k;
}

/* Every chunk's stored CRC matches (test-side check). */
static void assert_crcs_ok(const blob *b)
{
	chunk_info c[64];
	size_t n = list_chunks(b, c, 64);
	assert_true(n >= 3);
	for (size_t i = 0; i < n; i++) {
		const unsigned char *p = b->p + c[i].offset;
		assert_int_equal(aimark__be32(p + 8 + c[i].len), crc_bits(p + 4, c[i].len + 4));
	}
}

/* ---- running the backend ---- */

/* Reads `b`, expecting EFORMAT with a message naming PNG and containing `needle`. */
static void assert_bad(const blob *b, const char *needle)
{
	tu_expect_read_error(PNG, b->p, b->n, AIMARK_EFORMAT, "PNG", needle);
}

static void save(const char *path, const blob *b)
{
	tu_write_file(path, b->p, b->n);
}

/* ---- tests ---- */

static void test_probe(void **state)
{
	(void)state;
	blob b = tu_data_file("png", "rgb.png");
	assert_true(PNG->probe(b.p, b.n));
	assert_true(PNG->probe(b.p, 8));
	assert_false(PNG->probe(b.p, 7));
	b.p[1] = 'p';
	assert_false(PNG->probe(b.p, b.n));
	assert_string_equal(PNG->name, "png");
	free(b.p);
}

static void test_read_plain(void **state)
{
	(void)state;
	blob b = tu_data_file("png", "rgb.png"); /* IHDR pHYs IDAT IEND */
	tu_parsed ps;
	tu_parse(PNG, b.p, b.n, &ps);
	assert_int_equal(ps.rc, 0);
	assert_int_equal(ps.meta.n_carriers, 0);
	assert_int_equal(aimark_findings_count(ps.findings), 0);
	/* IHDR, then (pHYs is metadata) IDAT + IEND */
	assert_int_equal(ps.meta.n_essence, 2);
	assert_int_equal(ps.meta.essence[0].offset, 8);
	assert_int_equal(ps.meta.essence[0].length, 25);
	assert_int_equal(ps.meta.essence[1].offset, 54);
	assert_int_equal(ps.meta.essence[1].length, b.n - 54);
	tu_parsed_free(&ps);
	free(b.p);
}

static void read_vendor(const char *file, const char *json, size_t expect_size)
{
	blob b = blob_file(tu_path("%s/spec/gb45438-samples/%s", AIMARK_SHARED_DIR, file));
	assert_int_equal(b.n, expect_size);
	tu_parsed ps;
	tu_parse(PNG, b.p, b.n, &ps);
	assert_int_equal(ps.rc, 0);
	assert_int_equal(ps.meta.n_carriers, 1);
	tu_assert_carrier(&ps.meta, AIMARK__CARRIER_XMP, json);
	assert_int_equal(ps.meta.carriers[0].offset, 33);
	assert_false(aimark_findings_has(ps.findings, "png-crc"));
	/* the essence is everything but the signature and the iTXt */
	uint32_t itxt = aimark__be32(b.p + 33);
	uint64_t total = 0;
	for (size_t i = 0; i < ps.meta.n_essence; i++)
		total += ps.meta.essence[i].length;
	assert_int_equal(total, b.n - 8 - (itxt + 12));
	assert_int_equal(ps.meta.essence[0].offset, 8);
	assert_int_equal(ps.meta.essence[1].offset, 33 + itxt + 12);

	/* relabelling keeps one XMP packet, in place, and the pixels */
	blob out = tu_mark_blob(PNG, &b, &LABEL_A);
	assert_int_equal(count_type(&out, "iTXt"), 1);
	assert_memory_equal(out.p + 37, "iTXtXML:com.adobe.xmp", 21);
	tu_assert_same_essence(PNG, b.p, b.n, out.p, out.n, 1);
	tu_parsed po;
	tu_parse(PNG, out.p, out.n, &po);
	assert_int_equal(po.rc, 0);
	assert_int_equal(po.meta.n_carriers, 1);
	tu_assert_carrier(&po.meta, AIMARK__CARRIER_XMP, LABEL_A.bare_json);
	tu_parsed_free(&po);
	free(out.p);
	tu_parsed_free(&ps);
	free(b.p);
}

static void test_vendor_doubao(void **state)
{
	(void)state;
	read_vendor("doubao-web-xmp-producer-uscc.png", DOUBAO_JSON, 1003238);
}

static void test_vendor_jimeng(void **state)
{
	(void)state;
	read_vendor("jimeng-web-xmp-with-propagator.png", JIMENG_JSON, 382450);
}

static void test_round_trip(void **state)
{
	(void)state;
	blob in = tu_data_file("png", "rgb.png");
	blob out = tu_mark_blob(PNG, &in, &LABEL_A);
	chunk_info c[16];
	size_t n = list_chunks(&out, c, 16);
	assert_int_equal(n, 5);
	assert_string_equal(c[0].type, "IHDR");
	assert_string_equal(c[1].type, "iTXt"); /* new XMP straight after IHDR */
	assert_string_equal(c[2].type, "pHYs");
	assert_string_equal(c[3].type, "IDAT");
	assert_string_equal(c[4].type, "IEND");
	assert_int_equal(c[1].offset, 33);
	assert_memory_equal(out.p + 41, "XML:com.adobe.xmp\0\0\0\0\0", 22);
	assert_crcs_ok(&out);
	/* every other chunk is byte-identical */
	assert_memory_equal(out.p, in.p, 33);
	assert_int_equal(out.n - c[2].offset, in.n - 33);
	assert_memory_equal(out.p + c[2].offset, in.p + 33, in.n - 33);

	tu_parsed ps;
	tu_parse(PNG, out.p, out.n, &ps);
	assert_int_equal(ps.rc, 0);
	assert_int_equal(ps.meta.n_carriers, 1);
	tu_assert_carrier(&ps.meta, AIMARK__CARRIER_XMP, LABEL_A.bare_json);
	assert_int_equal(aimark_findings_count_at_least(ps.findings, AIMARK_SEVERITY_WARNING), 0);
	tu_parsed_free(&ps);
	tu_assert_same_essence(PNG, in.p, in.n, out.p, out.n, 1);

	/* writing without read()'s layout gives the same bytes */
	aimark_source *src = NULL;
	aimark_buf buf = AIMARK_BUF_INIT;
	aimark_sink *sink = NULL;
	assert_int_equal(aimark_source_new_memory(&src, in.p, in.n), 0);
	assert_int_equal(aimark_sink_new_buffer(&sink, &buf), 0);
	aimark__label_provider prov = { NULL, tu_label_get, (void *)&LABEL_A };
	assert_int_equal(PNG->write(src, NULL, &prov, sink), 0);
	assert_int_equal(aimark_sink_commit(sink), 0);
	assert_int_equal(buf.size, out.n);
	assert_memory_equal(buf.ptr, out.p, out.n);
	aimark_sink_free(sink);
	aimark_source_free(src);
	aimark_buf_dispose(&buf);
	free(out.p);
	free(in.p);
}

static void test_relabel_replaces(void **state)
{
	(void)state;
	blob in = tu_data_file("png", "rgba.png");
	blob a = tu_mark_blob(PNG, &in, &LABEL_A);
	blob b = tu_mark_blob(PNG, &a, &LABEL_B);
	assert_int_equal(count_type(&b, "iTXt"), 1);
	assert_null(memmem(b.p, b.n, "aimark-png-0001", 15));
	tu_parsed ps;
	tu_parse(PNG, b.p, b.n, &ps);
	assert_int_equal(ps.rc, 0);
	assert_int_equal(ps.meta.n_carriers, 1);
	tu_assert_carrier(&ps.meta, AIMARK__CARRIER_XMP, LABEL_B.bare_json);
	tu_parsed_free(&ps);
	tu_assert_same_essence(PNG, in.p, in.n, b.p, b.n, 1);
	/* writing the same label again changes nothing */
	blob c = tu_mark_blob(PNG, &b, &LABEL_B);
	assert_int_equal(c.n, b.n);
	assert_memory_equal(c.p, b.p, b.n);
	free(a.p);
	free(b.p);
	free(c.p);
	free(in.p);
}

static void test_other_xmp_kept(void **state)
{
	(void)state;
	blob in = tu_data_file("png", "xmp-title.png"); /* IHDR pHYs iTXt(XMP dc:title) IDAT IEND */
	tu_parsed ps;
	tu_parse(PNG, in.p, in.n, &ps);
	assert_int_equal(ps.rc, 0);
	assert_int_equal(ps.meta.n_carriers, 0);
	tu_parsed_free(&ps);
	blob out = tu_mark_blob(PNG, &in, &LABEL_A);
	chunk_info c[16];
	size_t n = list_chunks(&out, c, 16);
	assert_int_equal(n, 5);
	assert_string_equal(c[2].type, "iTXt"); /* merged in place, not moved */
	assert_int_equal(count_type(&out, "iTXt"), 1);
	assert_non_null(memmem(out.p, out.n, "Test Title Kept", 15));
	assert_crcs_ok(&out);
	tu_parse(PNG, out.p, out.n, &ps);
	assert_int_equal(ps.rc, 0);
	tu_assert_carrier(&ps.meta, AIMARK__CARRIER_XMP, LABEL_A.bare_json);
	tu_parsed_free(&ps);
	free(out.p);
	free(in.p);
}

static void test_compressed_xmp(void **state)
{
	(void)state;
	blob in = tu_data_file("png", "xmp-compressed.png"); /* iTXt XMP, compression flag 1 */
	tu_parsed ps;
	tu_parse(PNG, in.p, in.n, &ps);
	assert_int_equal(ps.rc, 0);
	assert_int_equal(ps.meta.n_carriers, 1);
	assert_string_equal(ps.meta.carriers[0].kind, AIMARK__CARRIER_XMP);
	assert_non_null(strstr(ps.meta.carriers[0].text, "\"ProduceID\":\"zxmp-0001\""));
	tu_parsed_free(&ps);
	/* rewritten uncompressed, in place, other properties kept */
	blob out = tu_mark_blob(PNG, &in, &LABEL_B);
	assert_int_equal(count_type(&out, "iTXt"), 1);
	assert_memory_equal(out.p + 37, "iTXtXML:com.adobe.xmp\0\0\0", 24);
	assert_non_null(memmem(out.p, out.n, "Compressed Title Kept", 21));
	assert_null(memmem(out.p, out.n, "zxmp-0001", 9));
	tu_parse(PNG, out.p, out.n, &ps);
	assert_int_equal(ps.rc, 0);
	assert_int_equal(ps.meta.n_carriers, 1);
	tu_assert_carrier(&ps.meta, AIMARK__CARRIER_XMP, LABEL_B.bare_json);
	tu_parsed_free(&ps);
	tu_assert_same_essence(PNG, in.p, in.n, out.p, out.n, 1);
	free(out.p);
	free(in.p);
}

/* A compressed text chunk body: keyword, header bytes, then `z`. */
static blob compressed_body(const char *keyword, const void *head, size_t head_len, const unsigned char *z, size_t zlen)
{
	size_t k = strlen(keyword) + 1;
	blob b = { malloc(k + head_len + zlen), k + head_len + zlen };
	assert_non_null(b.p);
	memcpy(b.p, keyword, k);
	memcpy(b.p + k, head, head_len);
	memcpy(b.p + k + head_len, z, zlen);
	return b;
}

static void test_inflate_limits(void **state)
{
	(void)state;
	/* 17 MiB of zeros deflates to a few KiB: more than the 16 MiB limit */
	uLong plain_len = 17u << 20;
	unsigned char *plain = calloc(1, plain_len);
	uLongf zlen = compressBound(plain_len);
	unsigned char *z = malloc(zlen);
	assert_non_null(plain);
	assert_non_null(z);
	assert_int_equal(compress2(z, &zlen, plain, plain_len, 9), Z_OK);
	free(plain);
	assert_true(zlen < 65536);

	blob body = compressed_body("AIGC", "\0", 1, z, zlen);
	blob in = with_chunk_at(tu_data_file("png", "rgb.png"), 33, "zTXt", body.p, body.n);
	free(body.p);
	tu_parsed ps;
	tu_parse(PNG, in.p, in.n, &ps);
	assert_int_equal(ps.rc, 0);
	assert_int_equal(ps.meta.n_carriers, 0);
	assert_true(aimark_findings_has(ps.findings, "png-inflate"));
	assert_non_null(strstr(aimark_findings_get(ps.findings, 0)->message, "16 MiB"));
	tu_parsed_free(&ps);
	blob out = tu_mark_blob(PNG, &in, &LABEL_A); /* the AIGC chunk is replaced whole */
	assert_int_equal(count_type(&out, "zTXt"), 0);
	free(out.p);
	free(in.p);

	/* the same as an XMP packet cannot be merged: write refuses */
	body = compressed_body("XML:com.adobe.xmp", "\1\0\0\0", 4, z, zlen);
	in = with_chunk_at(tu_data_file("png", "rgb.png"), 33, "iTXt", body.p, body.n);
	free(body.p);
	tu_parse(PNG, in.p, in.n, &ps);
	assert_int_equal(ps.rc, 0);
	assert_true(aimark_findings_has(ps.findings, "png-inflate"));
	tu_parsed_free(&ps);
	assert_int_equal(tu_mark_blob_rc(PNG, &in, &LABEL_A, &out), AIMARK_ELIMIT);
	assert_non_null(strstr(aimark_error_last(), "PNG"));
	free(out.p);
	free(in.p);

	/* a corrupt stream */
	z[zlen / 2] ^= 0xff;
	body = compressed_body("AIGC", "\0", 1, z, zlen / 2 + 1);
	in = with_chunk_at(tu_data_file("png", "rgb.png"), 33, "zTXt", body.p, body.n);
	free(body.p);
	tu_parse(PNG, in.p, in.n, &ps);
	assert_int_equal(ps.rc, 0);
	assert_true(aimark_findings_has(ps.findings, "png-inflate"));
	tu_parsed_free(&ps);
	free(in.p);
	free(z);
}

static void test_ztxt_aigc(void **state)
{
	(void)state;
	blob in = tu_data_file("png", "ztxt-aigc.png"); /* IHDR pHYs IDAT zTXt(AIGC) IEND */
	tu_parsed ps;
	tu_parse(PNG, in.p, in.n, &ps);
	assert_int_equal(ps.rc, 0);
	assert_int_equal(ps.meta.n_carriers, 1);
	assert_string_equal(ps.meta.carriers[0].kind, AIMARK__CARRIER_PNG_TEXT);
	assert_non_null(strstr(ps.meta.carriers[0].text, "\"ProduceID\":\"ztxt-0001\""));
	tu_parsed_free(&ps);
	/* rewritten in place as tEXt AIGC with the wrapped label */
	blob out = tu_mark_blob(PNG, &in, &LABEL_A);
	assert_int_equal(count_type(&out, "zTXt"), 0);
	chunk_info c[16];
	size_t n = list_chunks(&out, c, 16);
	assert_int_equal(n, 6);
	assert_string_equal(c[1].type, "iTXt");
	assert_string_equal(c[4].type, "tEXt");
	assert_memory_equal(out.p + c[4].offset + 8, "AIGC\0" TU_LABEL_WRAPPED("aimark-png-0001"), c[4].len);
	tu_parse(PNG, out.p, out.n, &ps);
	assert_int_equal(ps.rc, 0);
	assert_int_equal(ps.meta.n_carriers, 2);
	tu_assert_carrier(&ps.meta, AIMARK__CARRIER_XMP, LABEL_A.bare_json);
	tu_assert_carrier(&ps.meta, AIMARK__CARRIER_PNG_TEXT, LABEL_A.wrapped_json);
	tu_parsed_free(&ps);
	tu_assert_same_essence(PNG, in.p, in.n, out.p, out.n, 1);
	free(out.p);
	free(in.p);
}

static void test_qwen_text(void **state)
{
	(void)state;
	blob in = with_text(tu_data_file("png", "rgb.png"), 33, "AIGC", QWEN_JSON);
	assert_int_equal(aimark__be32(in.p + 33), 466); /* the length the real files have */
	tu_parsed ps;
	tu_parse(PNG, in.p, in.n, &ps);
	assert_int_equal(ps.rc, 0);
	assert_int_equal(ps.meta.n_carriers, 1);
	tu_assert_carrier(&ps.meta, AIMARK__CARRIER_PNG_TEXT, QWEN_JSON);
	assert_int_equal(ps.meta.carriers[0].offset, 33);
	tu_parsed_free(&ps);

	blob out = tu_mark_blob(PNG, &in, &LABEL_B);
	chunk_info c[16];
	size_t n = list_chunks(&out, c, 16);
	assert_int_equal(n, 6);
	assert_string_equal(c[1].type, "iTXt"); /* new XMP */
	assert_string_equal(c[2].type, "tEXt"); /* the AIGC chunk, where it was relative to the others */
	assert_string_equal(c[3].type, "pHYs");
	assert_null(memmem(out.p, out.n, "58nOgn3ohnaXpKm8", 16));
	assert_crcs_ok(&out);
	tu_parse(PNG, out.p, out.n, &ps);
	assert_int_equal(ps.rc, 0);
	assert_int_equal(ps.meta.n_carriers, 2);
	tu_assert_carrier(&ps.meta, AIMARK__CARRIER_XMP, LABEL_B.bare_json);
	tu_assert_carrier(&ps.meta, AIMARK__CARRIER_PNG_TEXT, LABEL_B.wrapped_json);
	tu_parsed_free(&ps);
	tu_assert_same_essence(PNG, in.p, in.n, out.p, out.n, 1);
	free(out.p);
	free(in.p);
}

static void test_description_text(void **state)
{
	(void)state;
	const char *text = "made with a tool; label: {\"AIGC\":{\"Label\":\"1\",\"ContentProducer\":\"x{y}\",\"ProduceID\":\"d-1\"}} end";
	blob in = with_text(tu_data_file("png", "rgb.png"), 54, "Description", text);
	in = with_text(in, 33, "Comment", "nothing to see {not a label}");
	tu_parsed ps;
	tu_parse(PNG, in.p, in.n, &ps);
	assert_int_equal(ps.rc, 0);
	assert_int_equal(ps.meta.n_carriers, 1);
	tu_assert_carrier(&ps.meta, AIMARK__CARRIER_PNG_TEXT, "{\"AIGC\":{\"Label\":\"1\",\"ContentProducer\":\"x{y}\",\"ProduceID\":\"d-1\"}}");
	assert_true(aimark_findings_has(ps.findings, "png-text-keyword"));
	tu_parsed_free(&ps);

	blob out = tu_mark_blob(PNG, &in, &LABEL_A);
	const char want[] = "Description\0made with a tool; label: " TU_LABEL_WRAPPED("aimark-png-0001") " end";
	assert_non_null(memmem(out.p, out.n, want, sizeof want - 1));
	assert_non_null(memmem(out.p, out.n, "Comment\0nothing to see {not a label}", 36));
	assert_crcs_ok(&out);
	tu_parse(PNG, out.p, out.n, &ps);
	assert_int_equal(ps.rc, 0);
	assert_int_equal(ps.meta.n_carriers, 2);
	tu_assert_carrier(&ps.meta, AIMARK__CARRIER_PNG_TEXT, LABEL_A.wrapped_json);
	tu_parsed_free(&ps);
	free(out.p);
	free(in.p);
}

static void test_tencent_exif(void **state)
{
	(void)state;
	blob exif = tencent_exif(TENCENT_JSON);
	assert_int_equal(exif.n, 1855); /* the chunk length the real files have */
	blob in = with_chunk_at(tu_data_file("png", "rgb.png"), 33, "eXIf", exif.p, exif.n);
	free(exif.p);
	tu_parsed ps;
	tu_parse(PNG, in.p, in.n, &ps);
	assert_int_equal(ps.rc, 0);
	assert_int_equal(ps.meta.n_carriers, 1);
	tu_assert_carrier(&ps.meta, AIMARK__CARRIER_EXIF_USERCOMMENT, TENCENT_JSON);
	assert_int_equal(ps.meta.carriers[0].offset, 33);
	tu_parsed_free(&ps);

	blob out = tu_mark_blob(PNG, &in, &LABEL_A);
	assert_int_equal(count_type(&out, "eXIf"), 1);
	assert_crcs_ok(&out);
	tu_parse(PNG, out.p, out.n, &ps);
	assert_int_equal(ps.rc, 0);
	assert_int_equal(ps.meta.n_carriers, 2);
	tu_assert_carrier(&ps.meta, AIMARK__CARRIER_XMP, LABEL_A.bare_json);
	tu_assert_carrier(&ps.meta, AIMARK__CARRIER_EXIF_USERCOMMENT, LABEL_A.wrapped_json);
	tu_parsed_free(&ps);
	tu_assert_same_essence(PNG, in.p, in.n, out.p, out.n, 1);
	free(out.p);
	free(in.p);
}

static void test_duplicate_exif(void **state)
{
	(void)state;
	blob exif = tencent_exif("{\"AIGC\":{\"Label\":\"1\",\"ContentProducer\":\"dup\",\"ProduceID\":\"e-1\"}}");
	blob in = with_chunk_at(tu_data_file("png", "rgb.png"), 54, "eXIf", exif.p, exif.n);
	in = with_chunk_at(in, 33, "eXIf", exif.p, exif.n);
	free(exif.p);
	tu_parsed ps;
	tu_parse(PNG, in.p, in.n, &ps);
	assert_int_equal(ps.rc, 0);
	assert_true(aimark_findings_has(ps.findings, "png-duplicate-exif"));
	assert_non_null(tu_carrier(&ps.meta, AIMARK__CARRIER_EXIF_USERCOMMENT, 1));
	tu_parsed_free(&ps);
	blob out = tu_mark_blob(PNG, &in, &LABEL_B);
	assert_int_equal(count_type(&out, "eXIf"), 2);
	tu_parse(PNG, out.p, out.n, &ps);
	assert_int_equal(ps.rc, 0);
	assert_int_equal(ps.meta.n_carriers, 3);
	for (size_t i = 0; i < 2; i++) {
		const aimark__carrier *c = tu_carrier(&ps.meta, AIMARK__CARRIER_EXIF_USERCOMMENT, i);
		assert_non_null(c);
		assert_string_equal(c->text, LABEL_B.wrapped_json);
	}
	tu_parsed_free(&ps);
	free(out.p);
	free(in.p);
}

static void test_duplicate_xmp(void **state)
{
	(void)state;
	blob in = tu_data_file("png", "xmp-title.png");
	blob one = tu_mark_blob(PNG, &in, &LABEL_A);
	/* copy the labelled XMP chunk once more, before IEND */
	chunk_info c[16];
	size_t n = list_chunks(&one, c, 16);
	assert_string_equal(c[2].type, "iTXt");
	blob twice = tu_blob_splice(one, c[n - 1].offset, one.p + c[2].offset, c[2].len + 12, 0);
	tu_parsed ps;
	tu_parse(PNG, twice.p, twice.n, &ps);
	assert_int_equal(ps.rc, 0);
	assert_true(aimark_findings_has(ps.findings, "png-duplicate-xmp"));
	assert_int_equal(ps.meta.n_carriers, 2);
	tu_parsed_free(&ps);
	blob out = tu_mark_blob(PNG, &twice, &LABEL_B);
	assert_int_equal(count_type(&out, "iTXt"), 1);
	tu_parse(PNG, out.p, out.n, &ps);
	assert_int_equal(ps.rc, 0);
	assert_int_equal(ps.meta.n_carriers, 1);
	tu_assert_carrier(&ps.meta, AIMARK__CARRIER_XMP, LABEL_B.bare_json);
	tu_parsed_free(&ps);
	free(out.p);
	free(twice.p);
	free(in.p);
}

static void test_malformed_xmp(void **state)
{
	(void)state;
	static const char body[] = "XML:com.adobe.xmp\0\0\0\0\0<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><unclosed>";
	blob in = with_chunk_at(tu_data_file("png", "rgb.png"), 33, "iTXt", body, sizeof body - 1);
	tu_parsed ps;
	tu_parse(PNG, in.p, in.n, &ps);
	assert_int_equal(ps.rc, 0);
	assert_true(aimark_findings_has(ps.findings, "png-xmp-malformed"));
	tu_parsed_free(&ps);
	blob out;
	assert_int_equal(tu_mark_blob_rc(PNG, &in, &LABEL_A, &out), AIMARK_EFORMAT);
	assert_non_null(strstr(aimark_error_last(), "PNG"));
	free(out.p);
	free(in.p);
}

static void test_crc_findings(void **state)
{
	(void)state;
	/* a bad CRC on the image data is reported, the file still read */
	blob in = tu_data_file("png", "rgb.png");
	in.p[54 + 12 + 111 - 1] ^= 0x55; /* IDAT's CRC */
	tu_parsed ps;
	tu_parse(PNG, in.p, in.n, &ps);
	assert_int_equal(ps.rc, 0);
	assert_true(aimark_findings_has(ps.findings, "png-crc"));
	const aimark_finding *f = aimark_findings_get(ps.findings, 0);
	assert_non_null(strstr(f->message, "IDAT"));
	assert_non_null(strstr(f->message, "offset 54"));
	assert_int_equal(f->severity, AIMARK_SEVERITY_WARNING);
	tu_parsed_free(&ps);
	/* the damaged essence chunk is copied as it is */
	blob out = tu_mark_blob(PNG, &in, &LABEL_A);
	tu_assert_same_essence(PNG, in.p, in.n, out.p, out.n, 1);
	free(out.p);
	free(in.p);

	/* on a label chunk: still read; the rewrite has a correct CRC */
	in = with_text(tu_data_file("png", "rgb.png"), 33, "AIGC", QWEN_JSON);
	in.p[33 + 8 + 10] ^= 0x01; /* flips a byte of the text, CRC now wrong */
	tu_parse(PNG, in.p, in.n, &ps);
	assert_int_equal(ps.rc, 0);
	assert_true(aimark_findings_has(ps.findings, "png-crc"));
	assert_int_equal(ps.meta.n_carriers, 1);
	tu_parsed_free(&ps);
	out = tu_mark_blob(PNG, &in, &LABEL_A);
	assert_crcs_ok(&out);
	free(out.p);
	free(in.p);
}

static void test_trailing_data(void **state)
{
	(void)state;
	blob in = tu_data_file("png", "rgb.png");
	in = tu_blob_splice(in, in.n, "JUNK", 4, 0);
	tu_parsed ps;
	tu_parse(PNG, in.p, in.n, &ps);
	assert_int_equal(ps.rc, 0);
	assert_true(aimark_findings_has(ps.findings, "png-trailing-data"));
	tu_parsed_free(&ps);
	blob out = tu_mark_blob(PNG, &in, &LABEL_A);
	assert_memory_equal(out.p + out.n - 4, "JUNK", 4);
	free(out.p);
	free(in.p);
}

static void test_bad_input(void **state)
{
	(void)state;
	blob b = { (unsigned char *)"", 0 };
	assert_bad(&b, "empty");

	b = tu_data_file("png", "rgb.png");
	b.p[0] = 'G';
	assert_bad(&b, "signature");
	free(b.p);

	b = tu_data_file("png", "rgb.png");
	b.n = 8;
	assert_bad(&b, "IHDR");
	b.n = 100; /* cut inside IDAT */
	assert_bad(&b, "'IDAT' at offset 54");
	b.n = 60; /* cut inside IDAT's header */
	assert_bad(&b, "truncated");
	free(b.p);

	b = tu_data_file("png", "rgb.png");
	b.n -= 12; /* IEND removed */
	assert_bad(&b, "IEND");
	free(b.p);

	b = tu_data_file("png", "rgb.png");
	aimark__put_be32(b.p + 54, 0x10000); /* IDAT length lies */
	assert_bad(&b, "passes the end");
	aimark__put_be32(b.p + 54, 0x80000000u);
	assert_bad(&b, "2^31-1");
	free(b.p);

	b = tu_data_file("png", "rgb.png");
	memcpy(b.p + 12, "IDAT", 4); /* first chunk is not IHDR */
	assert_bad(&b, "expected IHDR");
	free(b.p);

	b = tu_data_file("png", "rgb.png");
	aimark__put_be32(b.p + 8, 12);
	assert_bad(&b, "IHDR");
	free(b.p);

	b = tu_data_file("png", "rgb.png");
	memcpy(b.p + 37, "p#Ys", 4); /* not a chunk type */
	assert_bad(&b, "offset 33");
	free(b.p);

	/* malformed text chunks are findings, not failures */
	b = with_chunk_at(tu_data_file("png", "rgb.png"), 33, "tEXt", "no-nul-keyword", 14);
	tu_parsed ps;
	tu_parse(PNG, b.p, b.n, &ps);
	assert_int_equal(ps.rc, 0);
	assert_true(aimark_findings_has(ps.findings, "png-text-malformed"));
	tu_parsed_free(&ps);
	free(b.p);

	/* write refuses what read refuses */
	b = tu_data_file("png", "rgb.png");
	b.n -= 12;
	aimark_source *src = NULL;
	aimark_buf buf = AIMARK_BUF_INIT;
	aimark_sink *sink = NULL;
	assert_int_equal(aimark_source_new_memory(&src, b.p, b.n), 0);
	assert_int_equal(aimark_sink_new_buffer(&sink, &buf), 0);
	aimark__label_provider prov = { NULL, tu_label_get, (void *)&LABEL_A };
	assert_int_equal(PNG->write(src, NULL, &prov, sink), AIMARK_EFORMAT);
	aimark_sink_free(sink);
	aimark_source_free(src);
	aimark_buf_dispose(&buf);
	free(b.p);
}

/* A file source (read into memory by the backend) gives the same output as memory. */
static void test_file_source(void **state)
{
	(void)state;
	tu_assert_file_mark_same(PNG, TU_DATA("png/rgb.png"), &LABEL_A);
}

static void test_pixels_identical(void **state)
{
	(void)state;
	if (!tu_have_tool("ffmpeg"))
		skip();
	char *dir = tu_tempdir();
	const char *names[] = { "rgb.png", "rgba.png", "xmp-title.png" };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		blob in = tu_data_file("png", names[i]);
		blob out = tu_mark_blob(PNG, &in, &LABEL_A);
		save(tu_path("%s/in.png", dir), &in);
		save(tu_path("%s/out.png", dir), &out);
		char *a = tu_run_ok("ffmpeg -v error -i '%s/in.png' -f framemd5 -", dir);
		char *b = tu_run_ok("ffmpeg -v error -i '%s/out.png' -f framemd5 -", dir);
		assert_non_null(a);
		assert_non_null(b);
		assert_true(strlen(a) > 32);
		assert_string_equal(a, b);
		free(a);
		free(b);
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
	blob in = with_text(tu_data_file("png", "rgb.png"), 33, "AIGC", QWEN_JSON);
	blob out = tu_mark_blob(PNG, &in, &LABEL_A);
	save(tu_path("%s/out.png", dir), &out);
	tu_assert_output(LABEL_A.bare_json, "exiftool -s3 -XMP:all '%s/out.png'", dir);
	tu_assert_output(LABEL_A.wrapped_json, "exiftool -s3 -PNG:AIGC '%s/out.png'", dir);
	tu_assert_output("", "exiftool -s3 -Warning -Error '%s/out.png'", dir);
	free(in.p);
	free(out.p);
	tu_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe),
		cmocka_unit_test(test_read_plain),
		cmocka_unit_test(test_vendor_doubao),
		cmocka_unit_test(test_vendor_jimeng),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_relabel_replaces),
		cmocka_unit_test(test_other_xmp_kept),
		cmocka_unit_test(test_compressed_xmp),
		cmocka_unit_test(test_inflate_limits),
		cmocka_unit_test(test_ztxt_aigc),
		cmocka_unit_test(test_qwen_text),
		cmocka_unit_test(test_description_text),
		cmocka_unit_test(test_tencent_exif),
		cmocka_unit_test(test_duplicate_exif),
		cmocka_unit_test(test_duplicate_xmp),
		cmocka_unit_test(test_malformed_xmp),
		cmocka_unit_test(test_crc_findings),
		cmocka_unit_test(test_trailing_data),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_file_source),
		cmocka_unit_test(test_pixels_identical),
		cmocka_unit_test(test_exiftool_reads_back),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

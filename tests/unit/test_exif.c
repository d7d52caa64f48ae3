/* EXIF: finding and replacing a label in UserComment / ImageDescription. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "core/hex.h"
#include "core/internal.h"
#include "format/exif.h"

#define UC AIMARK__EXIF_TAG_USERCOMMENT
#define DESC AIMARK__EXIF_TAG_IMAGEDESCRIPTION

/* §4: the Baidu APP1 segment, complete (marker, length, "Exif\0\0", TIFF). */
static const char BAIDU_APP1_HEX[] =
	"ffe1012e45786966000049492a0008000000010069870400010000001a000000"
	"00000000010086920700fa0000002c0000000000000041534349490000007b22"
	"41494743223a207b224c6162656c223a202231222c2022436f6e74656e745072"
	"6f6475636572223a202230303131393131313030303038303231303034333342"
	"3130303035222c202250726f647563654944223a202231323937343037393530"
	"373034353933383331222c20225265736572766564436f646531223a2022222c"
	"2022436f6e74656e7450726f70616761746f72223a2022303031313931313130"
	"303030383032313030343333423130303035222c202250726f70616761746549"
	"44223a202231323937343037393530373034353933383331222c202252657365"
	"72766564436f646532223a2022227d7d";
/* §5: the JSON after "ASCII\0\0\0" in the Tencent Yuanbao eXIf UserComment. */
static const char YUANBAO_JSON[] =
	"{\"AIGC\": {\"Label\":\"1\",\"ContentProducer\":\"001191440300708461136T1WFUO\",\"ProduceID\":\"b59c"
	"07cb3edb487486e6c268f2ba66cf-xNc9\",\"ReservedCode1\":\"{\\\"Type\\\":\\\" TC260PG\\\",\\\"Version\\"
	"\":1,\\\"Bindings\\\":[{\\\"Type\\\":\\\"soft\\\",\\\"AlgID\\\":\\\"phash\\\",\\\"Value\\\":\\\"83a6"
	"ceb559b40f1c\\\"},{\\\"Type\\\":\\\"hash\\\",\\\"AlgID\\\":\\\"sm3\\\",\\\"Value\\\":\\\"a55d78d15b9"
	"1ff8b91f7b9ba99472c4db71a3e69fe1d5143ba51df0193c59ae7\\\"}],\\\"PubSD\\\":[{\\\"Type\\\":\\\"DS\\\","
	"\\\"AlgID\\\":\\\"sm2\\\",\\\"TBSData\\\":{\\\"Type\\\":\\\"Binding\\\",\\\"BType\\\":\\\"hash\\\"},"
	"\\\"Signature\\\":\\\"30450220691f928febac1097459a86ad2da9f957c2c0abcea392f643fb2c6f497597d94d022100"
	"c95480c2627606fd711957bc007f9c45f0f84b3a3d96546373b3f73d641d536b\\\"},{\\\"Type\\\":\\\"PubKey\\\","
	"\\\"AlgID\\\":\\\"sm2\\\",\\\"KeyValue\\\":\\\"0407f79b28a17a752b3aae4305c98b48978213832729a2571850b"
	"1310b2bc9fe8fee039ccf25ebfeac27502414d9fcef792d777183c98893d226171c2f7a3289a2\\\"}],\\\"Extension\\"
	"\":{\\\"Timestamp\\\":1766838402,\\\"KeyVersion\\\":\\\"v1-TxLeOmf7bqU223\\\"}}\",\"ContentPropagato"
	"r\":\"001191440300708461136T1WFUO\",\"PropagateID\":\"b59c07cb3edb487486e6c268f2ba66cf-xNc9\",\"Rese"
	"rvedCode2\":\"{\\\"Type\\\":\\\" TC260PG\\\",\\\"Version\\\":1,\\\"Bindings\\\":[{\\\"Type\\\":\\\"s"
	"oft\\\",\\\"AlgID\\\":\\\"phash\\\",\\\"Value\\\":\\\"83a6ceb559b40f1c\\\"},{\\\"Type\\\":\\\"hash\\"
	"\",\\\"AlgID\\\":\\\"sm3\\\",\\\"Value\\\":\\\"a55d78d15b91ff8b91f7b9ba99472c4db71a3e69fe1d5143ba51d"
	"f0193c59ae7\\\"}],\\\"PubSD\\\":[{\\\"Type\\\":\\\"DS\\\",\\\"AlgID\\\":\\\"sm2\\\",\\\"TBSData\\\":"
	"{\\\"Type\\\":\\\"Binding\\\",\\\"BType\\\":\\\"hash\\\"},\\\"Signature\\\":\\\"3045022051d27f1ae008"
	"f7ade6b0171472f93ffb27a95567ddeb7e6a481c14e418f7b829022100adf19411c2a96c4536fcf394c660ffec2566c073cb"
	"cd295cce88499fa9ac54b5\\\"},{\\\"Type\\\":\\\"PubKey\\\",\\\"AlgID\\\":\\\"sm2\\\",\\\"KeyValue\\\":"
	"\\\"0407f79b28a17a752b3aae4305c98b48978213832729a2571850b1310b2bc9fe8fee039ccf25ebfeac27502414d9fcef"
	"792d777183c98893d226171c2f7a3289a2\\\"}],\\\"Extension\\\":{\\\"Timestamp\\\":1766838402,\\\"KeyVers"
	"ion\\\":\\\"v1-TxLeOmf7bqU223\\\"}}\"}}";

static const char BAIDU_JSON[] =
	"{\"AIGC\": {\"Label\": \"1\", \"ContentProducer\": \"001191110000802100433B10005\", \"ProduceID\": "
	"\"1297407950704593831\", \"ReservedCode1\": \"\", \"ContentPropagator\": \"001191110000802100433B10005\", "
	"\"PropagateID\": \"1297407950704593831\", \"ReservedCode2\": \"\"}}";

/* §2: the private ByteDance JSON in Jimeng's eXIf UserComment (not a TC260 label). */
static const char JIMENG_PRIVATE[] =
	"{\"aigc_info\":{\"aigc_label_type\":0,\"source_info\":\"dreamina\"},\"data\":{\"os\":\"web\",\"product\":"
	"\"dreamina\",\"exportType\":\"generation\",\"pictureId\":\"0\"},\"trace_info\":{\"originItemId\":"
	"\"7663586644204768550\"}}";

/* The TIFF block of the Baidu APP1 (after "Exif\0\0"). */
static aimark_buf baidu_tiff(void)
{
	aimark_buf seg = AIMARK_BUF_INIT, tiff = AIMARK_BUF_INIT;
	assert_int_equal(aimark__hex_decode(BAIDU_APP1_HEX, strlen(BAIDU_APP1_HEX), &seg), 0);
	assert_int_equal(seg.size, 304);
	assert_memory_equal(seg.ptr, "\xff\xe1\x01\x2e" "Exif\0\0", 10);
	assert_int_equal(aimark__buf_append(&tiff, seg.ptr + 10, seg.size - 10), 0);
	aimark_buf_dispose(&seg);
	return tiff;
}

/* §5: big-endian TIFF, IFD0 -> Exif IFD -> UserComment "ASCII\0\0\0" + JSON (count 1811). */
static aimark_buf yuanbao_tiff(void)
{
	static const unsigned char head[] = {
		0x4d, 0x4d, 0x00, 0x2a, 0x00, 0x00, 0x00, 0x08,
		0x00, 0x01, 0x87, 0x69, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x1a, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x01, 0x92, 0x86, 0x00, 0x07, 0x00, 0x00, 0x07, 0x13, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00,
	};
	assert_int_equal(sizeof head, 0x2c);
	assert_int_equal(strlen(YUANBAO_JSON) + 8, 0x713);
	aimark_buf b = AIMARK_BUF_INIT;
	assert_int_equal(aimark__buf_append(&b, head, sizeof head), 0);
	assert_int_equal(aimark__buf_append(&b, "ASCII\0\0\0", 8), 0);
	assert_int_equal(aimark__buf_append_str(&b, YUANBAO_JSON), 0);
	return b;
}

/* ---- a small TIFF builder: IFD0 (+ Exif IFD), values placed after the IFDs ---- */

typedef struct tent {
	uint16_t tag, type;
	uint32_t count;
	const void *data; /* count * size bytes, already in the block's byte order */
	size_t len;
} tent;

static void put16(unsigned char *p, int be, uint16_t v)
{
	if (be) {
		p[0] = (unsigned char)(v >> 8);
		p[1] = (unsigned char)v;
	} else {
		p[0] = (unsigned char)v;
		p[1] = (unsigned char)(v >> 8);
	}
}

static void put32(unsigned char *p, int be, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[be ? 3 - i : i] = (unsigned char)(v >> (8 * i));
}

static uint16_t get16(const unsigned char *p, int be) { return be ? aimark__be16(p) : aimark__le16(p); }
static uint32_t get32(const unsigned char *p, int be) { return be ? aimark__be32(p) : aimark__le32(p); }

/* Builds a block; an Exif IFD pointer is added to IFD0 when n1 > 0. */
static aimark_buf build(int be, const tent *e0, size_t n0, const tent *e1, size_t n1)
{
	size_t n0p = n0 + (n1 > 0);
	size_t ifd0 = 8, ifd1 = ifd0 + 2 + 12 * n0p + 4;
	size_t data = n1 ? ifd1 + 2 + 12 * n1 + 4 : ifd1;
	unsigned char blk[8192];
	memset(blk, 0, sizeof blk);
	memcpy(blk, be ? "MM\0*" : "II*\0", 4);
	put32(blk + 4, be, (uint32_t)ifd0);
	for (int which = 0; which < 2; which++) {
		const tent *e = which ? e1 : e0;
		size_t n = which ? n1 : n0, at = which ? ifd1 : ifd0;
		if (which && n == 0)
			break;
		put16(blk + at, be, (uint16_t)(n + (!which && n1 > 0)));
		size_t pos = at + 2;
		for (size_t i = 0; i < n; i++, pos += 12) {
			put16(blk + pos, be, e[i].tag);
			put16(blk + pos + 2, be, e[i].type);
			put32(blk + pos + 4, be, e[i].count);
			if (e[i].len <= 4) {
				memcpy(blk + pos + 8, e[i].data, e[i].len);
			} else {
				put32(blk + pos + 8, be, (uint32_t)data);
				assert_true(data + e[i].len < sizeof blk);
				memcpy(blk + data, e[i].data, e[i].len);
				data += e[i].len + (e[i].len & 1);
			}
		}
		if (!which && n1 > 0) {
			put16(blk + pos, be, 0x8769);
			put16(blk + pos + 2, be, 4);
			put32(blk + pos + 4, be, 1);
			put32(blk + pos + 8, be, (uint32_t)ifd1);
		}
	}
	aimark_buf b = AIMARK_BUF_INIT;
	assert_int_equal(aimark__buf_append(&b, blk, data), 0);
	return b;
}

/* UserComment value: 8-byte code + bytes. Static storage, one at a time. */
static tent uc_entry(const char *code8, const void *text, size_t len)
{
	static unsigned char v[4096];
	memcpy(v, code8, 8);
	memcpy(v + 8, text, len);
	tent t = { UC, 7, (uint32_t)(8 + len), v, 8 + len };
	return t;
}

static tent ascii_entry(uint16_t tag, const char *s)
{
	tent t = { tag, 2, (uint32_t)(strlen(s) + 1), s, strlen(s) + 1 };
	return t;
}

typedef struct found {
	int rc;
	uint16_t tag;
	aimark_buf text;
	aimark_findings *findings;
} found;

static found find_b(const aimark_buf *b)
{
	found f = { 0, 0, AIMARK_BUF_INIT, NULL };
	assert_int_equal(aimark_findings_new(&f.findings), 0);
	f.rc = aimark__exif_find_aigc(b->ptr, b->size, &f.text, &f.tag, f.findings);
	return f;
}

static void found_dispose(found *f)
{
	aimark_buf_dispose(&f->text);
	aimark_findings_free(f->findings);
}

static void assert_finds(const aimark_buf *b, uint16_t tag, const char *text)
{
	found f = find_b(b);
	if (f.rc != 0)
		fail_msg("find failed: %s", aimark_error_last());
	assert_int_equal(f.tag, tag);
	assert_string_equal((const char *)f.text.ptr, text);
	found_dispose(&f);
}

static void assert_find_rc(const aimark_buf *b, int rc, const char *msg_part)
{
	found f = find_b(b);
	assert_int_equal(f.rc, rc);
	assert_int_equal(f.text.size, 0);
	if (msg_part && strstr(aimark_error_last(), msg_part) == NULL)
		fail_msg("message \"%s\" lacks \"%s\"", aimark_error_last(), msg_part);
	found_dispose(&f);
}

static void test_baidu(void **state)
{
	(void)state;
	aimark_buf t = baidu_tiff();
	found f = find_b(&t);
	assert_int_equal(f.rc, 0);
	assert_int_equal(f.tag, UC);
	assert_string_equal((const char *)f.text.ptr, BAIDU_JSON);
	assert_int_equal(aimark_findings_count(f.findings), 0);
	found_dispose(&f);
	aimark_buf_dispose(&t);
}

static void test_yuanbao(void **state)
{
	(void)state;
	aimark_buf t = yuanbao_tiff();
	found f = find_b(&t);
	assert_int_equal(f.rc, 0);
	assert_int_equal(f.tag, UC);
	assert_int_equal(f.text.size, 1803);
	assert_string_equal((const char *)f.text.ptr, YUANBAO_JSON);
	assert_int_equal(aimark_findings_count(f.findings), 0);
	found_dispose(&f);
	aimark_buf_dispose(&t);
}

static void test_appends_to_text(void **state)
{
	(void)state;
	aimark_buf t = baidu_tiff(), out = AIMARK_BUF_INIT;
	assert_int_equal(aimark__buf_append_str(&out, ">"), 0);
	assert_int_equal(aimark__exif_find_aigc(t.ptr, t.size, &out, NULL, NULL), 0);
	assert_int_equal(out.size, 1 + strlen(BAIDU_JSON));
	assert_int_equal(out.ptr[0], '>');
	aimark_buf_dispose(&t);
	aimark_buf_dispose(&out);
}

static void test_jimeng_private_json_is_not_a_label(void **state)
{
	(void)state;
	/* §2: IFD0 Artist (a 64-hex hash), Exif IFD with only UserComment holding ByteDance's own JSON */
	const char *hash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
	tent ifd0[] = { ascii_entry(0x013B, hash) };
	tent exif[] = { uc_entry("ASCII\0\0\0", JIMENG_PRIVATE, strlen(JIMENG_PRIVATE)) };
	aimark_buf t = build(1, ifd0, 1, exif, 1);
	assert_find_rc(&t, AIMARK_ENOTFOUND, NULL);
	aimark_buf_dispose(&t);
}

static void test_image_description(void **state)
{
	(void)state;
	/* §7: Tencent's ServiceProvider shape in ImageDescription, with a non-ASCII value */
	const char *j = "{\"AIGC\": {\"ServiceProvider\": \"\xE8\x85\xBE\xE8\xAE\xAF\xE4\xBA\x91\", \"ServiceUser\": "
			"\"1379431822\", \"Time\": \"2026-06-30 23:54:50.067\"}}";
	for (int be = 0; be < 2; be++) {
		tent ifd0[] = { ascii_entry(0x010F, "Tencent"), ascii_entry(DESC, j) };
		aimark_buf t = build(be, ifd0, 2, NULL, 0);
		assert_finds(&t, DESC, j);
		aimark_buf_dispose(&t);
	}
	/* a description without AIGC is not a label */
	tent plain[] = { ascii_entry(DESC, "A cat on a mat") };
	aimark_buf t = build(0, plain, 1, NULL, 0);
	assert_find_rc(&t, AIMARK_ENOTFOUND, NULL);
	aimark_buf_dispose(&t);
}

static void test_unicode_user_comment(void **state)
{
	(void)state;
	const char *ascii = "{\"AIGC\":{\"Label\":\"1\"}}";
	/* "{"AIGC":...}" + U+4E2D + U+1F600 (surrogate pair) in UCS-2/UTF-16 */
	const char *expect = "{\"AIGC\":{\"Label\":\"1\"}}\xE4\xB8\xAD\xF0\x9F\x98\x80";
	for (int be = 0; be < 2; be++) {
		for (int wrong_order = 0; wrong_order < 2; wrong_order++) {
			unsigned char u[128];
			size_t n = 0;
			int order = wrong_order ? !be : be;
			uint16_t units[64];
			size_t k = 0;
			for (const char *c = ascii; *c; c++)
				units[k++] = (uint16_t)*c;
			units[k++] = 0x4E2D;
			units[k++] = 0xD83D;
			units[k++] = 0xDE00;
			for (size_t i = 0; i < k; i++, n += 2)
				put16(u + n, order, units[i]);
			tent exif[] = { uc_entry("UNICODE\0", u, n) };
			aimark_buf t = build(be, NULL, 0, exif, 1);
			assert_finds(&t, UC, expect);
			aimark_buf_dispose(&t);
		}
		/* with a BOM that disagrees with the TIFF order */
		unsigned char u[64];
		size_t n = 0;
		put16(u, !be, 0xFEFF);
		n = 2;
		for (const char *c = ascii; *c; c++, n += 2)
			put16(u + n, !be, (uint16_t)*c);
		put16(u + n, !be, 0);
		n += 2;
		tent exif[] = { uc_entry("UNICODE\0", u, n) };
		aimark_buf t = build(be, NULL, 0, exif, 1);
		assert_finds(&t, UC, ascii);
		aimark_buf_dispose(&t);
	}
}

static void test_charset_codes_and_trimming(void **state)
{
	(void)state;
	const char *j = "{\"AIGC\":{\"Label\":\"1\"}}";
	char padded[64];
	snprintf(padded, sizeof padded, "%s   ", j);
	size_t plen = strlen(padded) + 3; /* and three NULs */
	tent a[] = { uc_entry("\0\0\0\0\0\0\0\0", padded, plen) };
	aimark_buf t = build(0, NULL, 0, a, 1);
	found f = find_b(&t);
	assert_int_equal(f.rc, 0);
	assert_string_equal((const char *)f.text.ptr, j);
	assert_int_equal(aimark_findings_count(f.findings), 0);
	found_dispose(&f);
	aimark_buf_dispose(&t);

	/* no character code at all: read leniently, with a finding */
	tent raw = { UC, 7, (uint32_t)strlen(j), j, strlen(j) };
	t = build(1, NULL, 0, &raw, 1);
	f = find_b(&t);
	assert_int_equal(f.rc, 0);
	assert_string_equal((const char *)f.text.ptr, j);
	assert_true(aimark_findings_has(f.findings, "exif-charset"));
	found_dispose(&f);
	aimark_buf_dispose(&t);

	/* UserComment misplaced in IFD0 */
	tent mis[] = { uc_entry("ASCII\0\0\0", j, strlen(j)) };
	t = build(0, mis, 1, NULL, 0);
	f = find_b(&t);
	assert_int_equal(f.rc, 0);
	assert_string_equal((const char *)f.text.ptr, j);
	assert_true(aimark_findings_has(f.findings, "exif-misplaced"));
	found_dispose(&f);
	aimark_buf_dispose(&t);
}

static void test_two_carriers(void **state)
{
	(void)state;
	tent ifd0[] = { ascii_entry(DESC, "{\"AIGC\":{\"Label\":\"2\"}}") };
	tent exif[] = { uc_entry("ASCII\0\0\0", "{\"AIGC\":{\"Label\":\"1\"}}", 23) };
	aimark_buf t = build(0, ifd0, 1, exif, 1);
	found f = find_b(&t);
	assert_int_equal(f.rc, 0);
	assert_int_equal(f.tag, UC);
	assert_string_equal((const char *)f.text.ptr, "{\"AIGC\":{\"Label\":\"1\"}}");
	assert_true(aimark_findings_has(f.findings, "duplicate-label"));
	found_dispose(&f);
	aimark_buf_dispose(&t);
}

static void test_malformed(void **state)
{
	(void)state;
	aimark_buf t = baidu_tiff();
	aimark_buf b = AIMARK_BUF_INIT;

	/* too short, wrong magic */
	assert_int_equal(aimark__buf_append(&b, t.ptr, 7), 0);
	assert_find_rc(&b, AIMARK_EFORMAT, "shorter than a TIFF header");
	aimark__buf_clear(&b);
	assert_int_equal(aimark__buf_append(&b, t.ptr, t.size), 0);
	b.ptr[0] = 'X';
	assert_find_rc(&b, AIMARK_EFORMAT, "byte-order");
	b.ptr[0] = 'I';
	b.ptr[2] = 0x2b; /* BigTIFF-like magic */
	assert_find_rc(&b, AIMARK_EFORMAT, "byte-order");
	b.ptr[2] = 0x2a;

	/* IFD0 offset past the end, and inside the header */
	aimark__put_le32(b.ptr + 4, 5000);
	assert_find_rc(&b, AIMARK_EFORMAT, "IFD0 offset 5000");
	aimark__put_le32(b.ptr + 4, 2);
	assert_find_rc(&b, AIMARK_EFORMAT, "IFD0 offset 2");
	aimark__put_le32(b.ptr + 4, 8);

	/* entry counts: above the limit, and lying about the end */
	b.ptr[8] = 0xE9;
	b.ptr[9] = 0x03; /* 1001 */
	assert_find_rc(&b, AIMARK_EFORMAT, "1001 entries");
	b.ptr[8] = 30;
	b.ptr[9] = 0;
	assert_find_rc(&b, AIMARK_EFORMAT, "passes the end");
	b.ptr[8] = 1;

	/* the Exif IFD pointer: past the end, looping to IFD0, wrong type */
	aimark__put_le32(b.ptr + 18, 0x10000);
	assert_find_rc(&b, AIMARK_EFORMAT, "Exif IFD offset");
	aimark__put_le32(b.ptr + 18, 8);
	assert_find_rc(&b, AIMARK_EFORMAT, "loops");
	aimark__put_le32(b.ptr + 18, 0x1a);
	b.ptr[12] = 3; /* SHORT */
	assert_find_rc(&b, AIMARK_EFORMAT, "Exif IFD pointer");
	b.ptr[12] = 4;

	/* the UserComment value: offset past the end, count*size overflow, unknown type */
	size_t uc = 0x1a + 2;
	aimark__put_le32(b.ptr + uc + 8, 0x100);
	assert_find_rc(&b, AIMARK_EFORMAT, "passes the end");
	aimark__put_le32(b.ptr + uc + 8, 0x2c);
	aimark__put_le32(b.ptr + uc + 4, 0xFFFFFFFF);
	b.ptr[uc + 2] = 12; /* DOUBLE: 8 * 0xFFFFFFFF bytes */
	assert_find_rc(&b, AIMARK_EFORMAT, "passes the end");
	b.ptr[uc + 2] = 0x55;
	assert_find_rc(&b, AIMARK_EFORMAT, "unknown type");
	b.ptr[uc + 2] = 7;
	aimark__put_le32(b.ptr + uc + 4, 251); /* one byte more than there is */
	assert_find_rc(&b, AIMARK_EFORMAT, "tag 0x9286");
	aimark__put_le32(b.ptr + uc + 4, 250);
	assert_finds(&b, UC, BAIDU_JSON);

	/* every truncation fails cleanly */
	for (size_t n = 0; n < t.size; n++) {
		aimark_buf out = AIMARK_BUF_INIT;
		int rc = aimark__exif_find_aigc(t.ptr, n, &out, NULL, NULL);
		assert_int_equal(rc, AIMARK_EFORMAT);
		assert_int_equal(out.size, 0);
		rc = aimark__exif_replace_text(t.ptr, n, UC, "x", 1, &out);
		assert_int_equal(rc, AIMARK_EFORMAT);
		assert_int_equal(out.size, 0);
	}
	aimark_buf_dispose(&b);
	aimark_buf_dispose(&t);
}

/*
 * Checks a replaced block: same bytes except the entry's type/count/offset
 * and the old value (zeroed where the new value does not cover it). The new
 * value goes into the old value's space when it fits, in place of the old
 * value when that was the block's tail, else at the (even) end.
 */
static void assert_replaced(const aimark_buf *in, const aimark_buf *out, int be, size_t entry, size_t old_off,
			    size_t old_len, uint16_t type, const void *value, size_t value_len)
{
	size_t new_off, base = in->size;
	if (value_len <= old_len) {
		new_off = old_off;
	} else {
		if (old_off + old_len == in->size)
			base = old_off;
		new_off = base + (base & 1);
	}
	assert_int_equal(out->size, value_len <= old_len ? in->size : new_off + value_len);
	for (size_t i = 0; i < base; i++) {
		if (i >= entry + 2 && i < entry + 12)
			continue;
		if (i >= new_off && i < new_off + value_len)
			continue;
		if (i >= old_off && i < old_off + old_len)
			assert_int_equal(out->ptr[i], 0);
		else if (in->ptr[i] != out->ptr[i])
			fail_msg("byte %zu changed: %02x -> %02x", i, in->ptr[i], out->ptr[i]);
	}
	assert_int_equal(get16(out->ptr + entry, be), get16(in->ptr + entry, be));
	assert_int_equal(get16(out->ptr + entry + 2, be), type);
	assert_int_equal(get32(out->ptr + entry + 4, be), value_len);
	assert_int_equal(get32(out->ptr + entry + 8, be), new_off);
	assert_memory_equal(out->ptr + new_off, value, value_len);
}

static void test_replace_baidu(void **state)
{
	(void)state;
	aimark_buf t = baidu_tiff(), out = AIMARK_BUF_INIT;
	const char *nt = "{\"AIGC\":{\"Label\":\"1\",\"ContentProducer\":\"aimark\"}}";
	assert_int_equal(aimark__exif_replace_text(t.ptr, t.size, UC, nt, strlen(nt), &out), 0);
	char v[128];
	memcpy(v, "ASCII\0\0\0", 8);
	memcpy(v + 8, nt, strlen(nt));
	assert_replaced(&t, &out, 0, 0x1a + 2, 0x2c, 250, 7, v, 8 + strlen(nt));
	assert_finds(&out, UC, nt);

	/* replacing again keeps one UserComment, reads the newest text, and reuses the old space */
	aimark_buf out2 = AIMARK_BUF_INIT;
	assert_int_equal(aimark__exif_replace_text(out.ptr, out.size, UC, "AIGC2", 5, &out2), 0);
	assert_finds(&out2, UC, "AIGC2");
	assert_int_equal(out2.size, out.size);
	/* a longer label replaces the tail value instead of appending another copy */
	char longer[400];
	memset(longer, 'A', sizeof longer - 1);
	longer[sizeof longer - 1] = '\0';
	memcpy(longer, "AIGC", 4);
	aimark_buf out3 = AIMARK_BUF_INIT, out4 = AIMARK_BUF_INIT;
	assert_int_equal(aimark__exif_replace_text(out.ptr, out.size, UC, longer, strlen(longer), &out3), 0);
	assert_int_equal(aimark__exif_replace_text(out3.ptr, out3.size, UC, longer, strlen(longer), &out4), 0);
	assert_int_equal(out4.size, out3.size);
	assert_finds(&out4, UC, longer);
	aimark_buf_dispose(&out3);
	aimark_buf_dispose(&out4);
	aimark_buf_dispose(&out2);
	aimark_buf_dispose(&out);

	/* appends to `out` */
	assert_int_equal(aimark__buf_append_str(&out, "keep"), 0);
	assert_int_equal(aimark__exif_replace_text(t.ptr, t.size, UC, nt, strlen(nt), &out), 0);
	assert_memory_equal(out.ptr, "keepII*\0", 8);
	aimark_buf_dispose(&out);
	aimark_buf_dispose(&t);
}

static void test_replace_yuanbao(void **state)
{
	(void)state;
	aimark_buf t = yuanbao_tiff(), out = AIMARK_BUF_INIT;
	assert_int_equal(t.size & 1, 1); /* odd: the new value must be padded to a word boundary */
	const char *nt = "{\"AIGC\":{\"Label\":\"1\"}}";
	assert_int_equal(aimark__exif_replace_text(t.ptr, t.size, UC, nt, strlen(nt), &out), 0);
	char v[64];
	memcpy(v, "ASCII\0\0\0", 8);
	memcpy(v + 8, nt, strlen(nt));
	assert_replaced(&t, &out, 1, 0x1a + 2, 0x2c, 0x713, 7, v, 8 + strlen(nt));
	assert_int_equal(out.ptr[t.size], 0);
	assert_finds(&out, UC, nt);
	aimark_buf_dispose(&out);
	aimark_buf_dispose(&t);
}

static void test_replace_keeps_other_tags(void **state)
{
	(void)state;
	for (int be = 0; be < 2; be++) {
		unsigned char rational[8];
		put32(rational, be, 1);
		put32(rational + 4, be, 250);
		unsigned char iso[2];
		put16(iso, be, 400);
		tent ifd0[] = { ascii_entry(0x010F, "Canon"), ascii_entry(0x0110, "EOS R5 Mark II"),
				ascii_entry(DESC, "{\"AIGC\":{\"Label\":\"1\"}}") };
		tent exif[] = { { 0x829A, 5, 1, rational, 8 }, { 0x8827, 3, 1, iso, 2 },
				uc_entry("ASCII\0\0\0", "hello", 5) };
		aimark_buf t = build(be, ifd0, 3, exif, 3);
		assert_finds(&t, DESC, "{\"AIGC\":{\"Label\":\"1\"}}");

		/* ImageDescription: ASCII + NUL, entry 3 of IFD0 */
		const char *nd = "{\"AIGC\":{\"Label\":\"0\"}}";
		aimark_buf out = AIMARK_BUF_INIT;
		assert_int_equal(aimark__exif_replace_text(t.ptr, t.size, DESC, nd, strlen(nd), &out), 0);
		size_t entry = 8 + 2 + 2 * 12;
		size_t old_off = get32(t.ptr + entry + 8, be);
		assert_replaced(&t, &out, be, entry, old_off, strlen("{\"AIGC\":{\"Label\":\"1\"}}") + 1, 2, nd,
				strlen(nd) + 1);
		assert_finds(&out, DESC, nd);

		/* UserComment without a label is replaceable too; then it is the one found */
		aimark_buf out2 = AIMARK_BUF_INIT;
		assert_int_equal(aimark__exif_replace_text(out.ptr, out.size, UC, "AIGC!", 5, &out2), 0);
		found f = find_b(&out2);
		assert_int_equal(f.rc, 0);
		assert_int_equal(f.tag, UC);
		assert_string_equal((const char *)f.text.ptr, "AIGC!");
		assert_true(aimark_findings_has(f.findings, "duplicate-label"));
		found_dispose(&f);
		/* Make, Model, ExposureTime and ISO are byte-for-byte where they were */
		size_t make = get32(out2.ptr + 8 + 2 + 8, be), model = get32(out2.ptr + 8 + 2 + 12 + 8, be);
		assert_memory_equal(out2.ptr + make, "Canon", 6);
		assert_memory_equal(out2.ptr + model, "EOS R5 Mark II", 15);
		size_t desc_entry = 8 + 2 + 2 * 12, exif_end = 8 + 2 + 12 * 4 + 4 + 2 + 12 * 2;
		assert_memory_equal(out2.ptr, t.ptr, desc_entry + 2);
		assert_memory_equal(out2.ptr + desc_entry + 12, t.ptr + desc_entry + 12, exif_end - desc_entry - 12);
		aimark_buf_dispose(&out2);
		aimark_buf_dispose(&out);
		aimark_buf_dispose(&t);
	}
}

static void test_replace_inline_values(void **state)
{
	(void)state;
	for (int be = 0; be < 2; be++) {
		/* old value inline ("ab\0"), new one inline ("xyz\0") */
		tent ifd0[] = { ascii_entry(DESC, "ab") };
		aimark_buf t = build(be, ifd0, 1, NULL, 0), out = AIMARK_BUF_INIT;
		assert_int_equal(aimark__exif_replace_text(t.ptr, t.size, DESC, "xyz", 3, &out), 0);
		assert_int_equal(out.size, t.size);
		assert_memory_equal(out.ptr + 10 + 8, "xyz\0", 4);
		assert_int_equal(get32(out.ptr + 10 + 4, be), 4);
		aimark_buf_dispose(&out);
		/* old inline, new appended */
		assert_int_equal(aimark__exif_replace_text(t.ptr, t.size, DESC, "AIGC label", 10, &out), 0);
		assert_replaced(&t, &out, be, 10, 0, 0, 2, "AIGC label", 11);
		assert_finds(&out, DESC, "AIGC label");
		aimark_buf_dispose(&out);
		aimark_buf_dispose(&t);
	}
}

static void test_replace_errors(void **state)
{
	(void)state;
	aimark_buf t = baidu_tiff(), out = AIMARK_BUF_INIT;
	assert_int_equal(aimark__exif_replace_text(t.ptr, t.size, DESC, "x", 1, &out), AIMARK_ENOTFOUND);
	assert_int_equal(aimark__exif_replace_text(t.ptr, t.size, 0x010F, "x", 1, &out), AIMARK_EINVAL);
	/* an old value that overlaps the IFD is refused rather than zeroed */
	aimark__put_le32(t.ptr + 0x1a + 2 + 8, 0x10);
	aimark__put_le32(t.ptr + 0x1a + 2 + 4, 20);
	assert_int_equal(aimark__exif_replace_text(t.ptr, t.size, UC, "x", 1, &out), AIMARK_EFORMAT);
	assert_non_null(strstr(aimark_error_last(), "overlaps"));
	assert_int_equal(out.size, 0);
	aimark_buf_dispose(&t);

	/*
	 * An Exif IFD laid over IFD0's entry table: readable, but rewriting its
	 * entry would change IFD0's entries, so replace refuses.
	 */
	static const unsigned char overlap[52] = {
		'I', 'I', 0x2a, 0, 8, 0, 0, 0,
		2, 0,
		0x69, 0x87, 4, 0, 1, 0, 0, 0, 22, 0, 0, 0,          /* Exif IFD at 22, inside IFD0 */
		0x01, 0x00, 0x86, 0x92, 7, 0, 12, 0, 0, 0, 40, 0,   /* read from 24 as UserComment, 12 bytes at 40 */
		0, 0, 0, 0, 0, 0,
		'A', 'S', 'C', 'I', 'I', 0, 0, 0, 'A', 'I', 'G', 'C',
	};
	aimark_buf ov = AIMARK_BUF_INIT;
	assert_int_equal(aimark__buf_append(&ov, overlap, sizeof overlap), 0);
	assert_finds(&ov, UC, "AIGC");
	assert_int_equal(aimark__exif_replace_text(ov.ptr, ov.size, UC, "AIGC2", 5, &out), AIMARK_EFORMAT);
	assert_non_null(strstr(aimark_error_last(), "overlaps IFD0"));
	assert_int_equal(out.size, 0);
	aimark_buf_dispose(&ov);
}

/* ---- allocation failures ---- */

static long g_fail_after = -1, g_allocs;

static void *failing_malloc(size_t size, void *user)
{
	(void)user;
	if (g_fail_after >= 0 && g_allocs++ >= g_fail_after)
		return NULL;
	return malloc(size);
}

static void *failing_realloc(void *ptr, size_t size, void *user)
{
	(void)user;
	if (g_fail_after >= 0 && g_allocs++ >= g_fail_after)
		return NULL;
	return realloc(ptr, size);
}

static void plain_free(void *ptr, void *user)
{
	(void)user;
	free(ptr);
}

static void test_allocation_failures(void **state)
{
	(void)state;
	static const aimark_allocator failing = { failing_malloc, failing_realloc, plain_free, NULL };
	const char *j = "{\"AIGC\":{\"Label\":\"1\"}}";
	tent ifd0[] = { ascii_entry(DESC, j) };
	tent exif[] = { uc_entry("UNICODE\0", "A\0I\0G\0C\0", 8) };
	aimark_buf t = build(0, ifd0, 1, exif, 1);
	int done = 0;
	for (long k = 0; k < 1000 && !done; k++) {
		aimark_findings *f = NULL;
		assert_int_equal(aimark_findings_new(&f), 0);
		aimark_buf text = AIMARK_BUF_INIT, out = AIMARK_BUF_INIT;
		g_allocs = 0;
		g_fail_after = k;
		aimark_allocator_set(&failing);
		int rc1 = aimark__exif_find_aigc(t.ptr, t.size, &text, NULL, f);
		int rc2 = aimark__exif_replace_text(t.ptr, t.size, UC, "AIGC!", 5, &out);
		aimark_allocator_set(NULL);
		g_fail_after = -1;
		assert_true(rc1 == 0 || rc1 == AIMARK_ENOMEM);
		assert_true(rc2 == 0 || rc2 == AIMARK_ENOMEM);
		if (rc1 == 0)
			assert_string_equal((const char *)text.ptr, "AIGC");
		if (rc2 == 0)
			assert_finds(&out, UC, "AIGC!");
		else
			assert_int_equal(out.size, 0);
		done = rc1 == 0 && rc2 == 0;
		aimark_buf_dispose(&text);
		aimark_buf_dispose(&out);
		aimark_findings_free(f);
	}
	assert_true(done);
	aimark_buf_dispose(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_baidu),
		cmocka_unit_test(test_yuanbao),
		cmocka_unit_test(test_appends_to_text),
		cmocka_unit_test(test_jimeng_private_json_is_not_a_label),
		cmocka_unit_test(test_image_description),
		cmocka_unit_test(test_unicode_user_comment),
		cmocka_unit_test(test_charset_codes_and_trimming),
		cmocka_unit_test(test_two_carriers),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_replace_baidu),
		cmocka_unit_test(test_replace_yuanbao),
		cmocka_unit_test(test_replace_keeps_other_tags),
		cmocka_unit_test(test_replace_inline_values),
		cmocka_unit_test(test_replace_errors),
		cmocka_unit_test(test_allocation_failures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

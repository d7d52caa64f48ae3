/* MP3 backend and ID3v2 helpers: TXXX AIGC in v2.2/2.3/2.4, unsynchronisation, trailers, essence. */
#define _GNU_SOURCE /* memmem */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "core/internal.h"
#include "format/format.h"

extern const aimark__format_ops aimark__format_mp3;
#define MP3 (&aimark__format_mp3)

static const aimark__label_write LABEL_A = TU_LABEL("aimark-mp3-0001");
static const aimark__label_write LABEL_B = TU_LABEL("aimark-mp3-0002");
/* Not Annex E conforming (a Chinese producer name), but readers must carry it through. */
#define CJK_BARE "{\"Label\":\"1\",\"ContentProducer\":\"\xe8\xb1\x86\xe5\x8c\x85\",\"ProduceID\":\"\xf0\x9f\x8e\xb5-1\"}"
static const aimark__label_write LABEL_CJK = TU_LABEL_OF(CJK_BARE);

/* What ffmpeg -metadata AIGC=... wrote into tests/data/mp3/ffmpeg-aigc*.mp3. */
#define FFMPEG_JSON "{\"Label\":\"1\",\"ContentProducer\":\"ffmpeg\",\"ProduceID\":\"x1\"}"
/* gb45438-examples.md section 9: the start of MiniMax's TXXX AIGC value (the rest was not published). */
#define MINIMAX_JSON                                                                                             \
	"{\"Label\":\"1\",\"ContentProducer\":\"MiniMax\",\"ProduceID\":\"06649909c7a9924cacafe995ce6d4656\","      \
	"\"ReservedCode1\":\"{\\\"SecurityData\\\":{\\\"Type\\\":\\\"TC260PG\\\",\\\"Version\\\":1,\\\"PubSD\\\":[{" \
	"\\\"Type\\\":\\\"DS\\\",\\\"AlgID\\\":\\\"1.2.156.10197.1.501\\\",\\\"TBSData\\\":{\\\"Type\\\":\\\"LabelMataData\\\"}}]}}\"}"

/* ---- helpers ---- */

static size_t count(const unsigned char *d, size_t n, const char *needle, size_t nl)
{
	size_t c = 0;
	for (const unsigned char *p = d; (p = memmem(p, n - (size_t)(p - d), needle, nl)) != NULL; p++)
		c++;
	return c;
}

static void put_syncsafe(unsigned char *p, uint32_t v)
{
	p[0] = (v >> 21) & 0x7f, p[1] = (v >> 14) & 0x7f, p[2] = (v >> 7) & 0x7f, p[3] = v & 0x7f;
}

static void frame(aimark_buf *b, int ver, const char *id, unsigned flags, const void *data, size_t n)
{
	unsigned char h[10];
	size_t hl = ver == 2 ? 6 : 10;
	memcpy(h, id, ver == 2 ? 3 : 4);
	if (ver == 2)
		h[3] = (unsigned char)(n >> 16), h[4] = (unsigned char)(n >> 8), h[5] = (unsigned char)n;
	else if (ver == 3)
		aimark__put_be32(h + 4, (uint32_t)n);
	else
		put_syncsafe(h + 4, (uint32_t)n);
	h[8] = (unsigned char)(flags >> 8), h[9] = (unsigned char)flags;
	assert_int_equal(aimark__buf_append(b, h, hl), 0);
	assert_int_equal(aimark__buf_append(b, data, n), 0);
}

/* TXXX content: encoding, description, value (all given as raw bytes). */
static void txxx(aimark_buf *b, int ver, unsigned flags, int enc, const void *desc, size_t dl, const void *val, size_t vl)
{
	aimark_buf c = AIMARK_BUF_INIT;
	unsigned char e = (unsigned char)enc;
	assert_int_equal(aimark__buf_append(&c, &e, 1), 0);
	assert_int_equal(aimark__buf_append(&c, desc, dl), 0);
	assert_int_equal(aimark__buf_append(&c, val, vl), 0);
	frame(b, ver, ver == 2 ? "TXX" : "TXXX", flags, c.ptr, c.size);
	aimark_buf_dispose(&c);
}

static void txxx_utf8(aimark_buf *b, int ver, const char *json)
{
	txxx(b, ver, 0, ver == 4 ? 3 : 0, "AIGC", 5, json, strlen(json));
}

static void unsync(const unsigned char *p, size_t n, aimark_buf *out)
{
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(aimark__buf_append(out, p + i, 1), 0);
		if (p[i] == 0xFF && (i + 1 == n || p[i + 1] >= 0xE0 || p[i + 1] == 0))
			assert_int_equal(aimark__buf_append(out, "", 1), 0);
	}
}

/* A whole file: a tag around `body` (plus zero padding) followed by the bare MP3. */
static void tag_file(aimark_buf *out, int ver, unsigned flags, const aimark_buf *body, size_t padding, int with_audio)
{
	unsigned char h[10] = { 'I', 'D', '3', (unsigned char)ver, 0, (unsigned char)flags };
	put_syncsafe(h + 6, (uint32_t)(body->size + padding));
	assert_int_equal(aimark__buf_append(out, h, 10), 0);
	assert_int_equal(aimark__buf_append(out, body->ptr, body->size), 0);
	unsigned char *z = calloc(1, padding + 1);
	assert_int_equal(aimark__buf_append(out, z, padding), 0);
	free(z);
	if (with_audio) {
		size_t n;
		unsigned char *a = tu_read_file(TU_DATA("mp3/sine-bare.mp3"), &n);
		assert_int_equal(aimark__buf_append(out, a, n), 0);
		free(a);
	}
}

/* ffprobe shows the label, the audio stream hash is unchanged, decoding is clean. */
static void ffmpeg_check(const char *orig, const aimark_buf *out, const aimark__label_write *label)
{
	static const tu_media m = { "mp3", "format", "0:a" };
	tu_ffmpeg_check(&m, orig, out->ptr, out->size, label->bare_json, label->bare_len, NULL);
}

/* ---- tests ---- */

static void test_probe(void **state)
{
	(void)state;
	assert_true(MP3->probe((const unsigned char *)"ID3\x04\0\0\0\0\0\0", 10));
	assert_true(MP3->probe((const unsigned char *)"ID3\x03\0\0\0\0\0\0", 10));
	assert_true(MP3->probe((const unsigned char *)"\xff\xfb\x90\x64", 4));
	assert_true(MP3->probe((const unsigned char *)"\xff\xe3\x28\xc4", 4));
	assert_false(MP3->probe((const unsigned char *)"ID3\x05\0\0\0\0\0\0", 10));
	assert_false(MP3->probe((const unsigned char *)"\xff\xf1\x50\x80", 4)); /* ADTS AAC: layer 0 */
	assert_false(MP3->probe((const unsigned char *)"\xff\xd8\xff\xe0", 4)); /* JPEG */
	assert_false(MP3->probe((const unsigned char *)"\xff\xfb\xf0\x64", 4)); /* bad bitrate */
	assert_ptr_equal(aimark__format_find("mp3"), MP3);
}

static void test_create_tag(void **state)
{
	(void)state;
	size_t n;
	unsigned char *in = tu_read_file(TU_DATA("mp3/sine-bare.mp3"), &n);
	tu_parsed p;
	tu_parse(MP3, in, n, &p);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.meta.n_carriers, 0);
	assert_int_equal(p.meta.n_essence, 1);
	assert_int_equal(p.meta.essence[0].offset, 0);
	assert_int_equal(p.meta.essence[0].length, n);
	tu_parsed_free(&p);

	aimark_buf out = AIMARK_BUF_INIT;
	tu_mark(MP3, in, n, &LABEL_A, &out);
	size_t tag = 10 + 10 + 1 + 5 + LABEL_A.bare_len;
	assert_int_equal(out.size, tag + n);
	assert_memory_equal(out.ptr, "ID3\x04\0\0", 6);
	assert_memory_equal(out.ptr + 10, "TXXX", 4);
	assert_memory_equal(out.ptr + 20, "\x03" "AIGC\0", 6);
	assert_memory_equal(out.ptr + tag, in, n);
	tu_assert_labels(MP3, out.ptr, out.size, "id3-txxx", LABEL_A.bare_json, LABEL_A.bare_len, 1);
	tu_assert_same_essence(MP3, in, n, out.ptr, out.size, 1);
	ffmpeg_check(TU_DATA("mp3/sine-bare.mp3"), &out, &LABEL_A);
	aimark_buf_dispose(&out);
	free(in);
}

static void test_ffmpeg_v24_tag(void **state)
{
	(void)state;
	size_t n;
	unsigned char *in = tu_read_file(TU_DATA("mp3/sine-v24.mp3"), &n);
	aimark_buf out = AIMARK_BUF_INIT;
	tu_mark(MP3, in, n, &LABEL_A, &out);
	assert_int_equal(out.ptr[3], 4);
	/* the TIT2 frame is kept byte for byte, before the new frame */
	assert_memory_equal(out.ptr + 10, in + 10, 16);
	assert_memory_equal(out.ptr + 26, "TXXX", 4);
	tu_assert_labels(MP3, out.ptr, out.size, "id3-txxx", LABEL_A.bare_json, LABEL_A.bare_len, 1);
	tu_assert_same_essence(MP3, in, n, out.ptr, out.size, 1);
	ffmpeg_check(TU_DATA("mp3/sine-v24.mp3"), &out, &LABEL_A);
	aimark_buf_dispose(&out);
	free(in);
}

static void test_v23_and_id3v1(void **state)
{
	(void)state;
	size_t n;
	unsigned char *in = tu_read_file(TU_DATA("mp3/sine-v23-v1.mp3"), &n);
	tu_parsed p;
	tu_parse(MP3, in, n, &p);
	assert_int_equal(p.rc, 0);
	uint64_t tag = p.meta.essence[0].offset;
	assert_int_equal(p.meta.essence[0].length, n - tag - 128); /* ID3v1 excluded */
	tu_parsed_free(&p);
	aimark_buf out = AIMARK_BUF_INIT;
	tu_mark(MP3, in, n, &LABEL_B, &out);
	assert_int_equal(out.ptr[3], 3);                                   /* stays v2.3 */
	assert_non_null(memmem(out.ptr, 200, "\0" "AIGC\0{", 7));          /* ISO-8859-1 for ASCII */
	assert_memory_equal(out.ptr + out.size - 128, in + n - 128, 128); /* ID3v1 kept */
	tu_assert_labels(MP3, out.ptr, out.size, "id3-txxx", LABEL_B.bare_json, LABEL_B.bare_len, 1);
	tu_assert_same_essence(MP3, in, n, out.ptr, out.size, 1);
	ffmpeg_check(TU_DATA("mp3/sine-v23-v1.mp3"), &out, &LABEL_B);
	aimark_buf_dispose(&out);
	free(in);
}

/* Files labelled by ffmpeg -metadata AIGC=... are read, and relabelling leaves one frame. */
static void test_ffmpeg_labelled(void **state)
{
	(void)state;
	const char *files[] = { TU_DATA("mp3/ffmpeg-aigc.mp3"), TU_DATA("mp3/ffmpeg-aigc-v23.mp3") };
	for (int i = 0; i < 2; i++) {
		size_t n;
		unsigned char *in = tu_read_file(files[i], &n);
		tu_assert_labels(MP3, in, n, "id3-txxx", FFMPEG_JSON, strlen(FFMPEG_JSON), 1);
		aimark_buf out = AIMARK_BUF_INIT;
		tu_mark(MP3, in, n, &LABEL_A, &out);
		assert_int_equal(count(out.ptr, out.size, "AIGC", 4), 1);
		/* the tag grows to hold exactly its one frame (the old padding is given up) */
		size_t old_tag = 10 + ((size_t)in[6] << 21 | (size_t)in[7] << 14 | (size_t)in[8] << 7 | in[9]);
		size_t new_tag = 10 + 10 + 1 + 5 + LABEL_A.bare_len;
		assert_true(new_tag > old_tag);
		assert_int_equal(out.size, n - old_tag + new_tag);
		tu_assert_labels(MP3, out.ptr, out.size, "id3-txxx", LABEL_A.bare_json, LABEL_A.bare_len, 1);
		tu_assert_same_essence(MP3, in, n, out.ptr, out.size, 1);
		ffmpeg_check(files[i], &out, &LABEL_A);
		aimark_buf_dispose(&out);
		free(in);
	}
}

/* Non-ASCII labels: UTF-16 with BOM in v2.3, UTF-8 in v2.4; read back as the same UTF-8. */
static void test_non_ascii(void **state)
{
	(void)state;
	size_t n;
	unsigned char *in = tu_read_file(TU_DATA("mp3/sine-v23-v1.mp3"), &n);
	aimark_buf out = AIMARK_BUF_INIT;
	tu_mark(MP3, in, n, &LABEL_CJK, &out);
	assert_non_null(memmem(out.ptr, 200, "\x01\xff\xfe" "A\0I\0G\0C\0\0\0\xff\xfe{\0", 17));
	assert_non_null(memmem(out.ptr, 200, "\x3c\xd8\xb5\xdf", 4)); /* U+1F3B5 as a surrogate pair */
	tu_assert_labels(MP3, out.ptr, out.size, "id3-txxx", LABEL_CJK.bare_json, LABEL_CJK.bare_len, 1);
	ffmpeg_check(NULL, &out, &LABEL_CJK);
	aimark_buf_dispose(&out);
	free(in);
	in = tu_read_file(TU_DATA("mp3/sine-bare.mp3"), &n);
	tu_mark(MP3, in, n, &LABEL_CJK, &out);
	tu_assert_labels(MP3, out.ptr, out.size, "id3-txxx", LABEL_CJK.bare_json, LABEL_CJK.bare_len, 1);
	aimark_buf_dispose(&out);
	free(in);
}

/* All four text encodings, both UTF-16 byte orders, lower-case description. */
static void test_encodings(void **state)
{
	(void)state;
	const char json[] = "{\"Label\":\"1\"}";
	aimark_buf body = AIMARK_BUF_INIT, file = AIMARK_BUF_INIT, v = AIMARK_BUF_INIT;
	/* enc 1, big-endian BOM */
	unsigned char d1[] = { 0xFE, 0xFF, 0, 'a', 0, 'i', 0, 'g', 0, 'c', 0, 0 };
	assert_int_equal(aimark__buf_append(&v, "\xfe\xff", 2), 0);
	for (size_t i = 0; json[i]; i++) {
		unsigned char u[2] = { 0, (unsigned char)json[i] };
		assert_int_equal(aimark__buf_append(&v, u, 2), 0);
	}
	txxx(&body, 3, 0, 1, d1, sizeof d1, v.ptr, v.size);
	/* enc 2 (UTF-16BE, no BOM) in a v2.4 tag */
	aimark_buf body4 = AIMARK_BUF_INIT;
	txxx(&body4, 4, 0, 2, d1 + 2, sizeof d1 - 2, v.ptr + 2, v.size - 2);
	tag_file(&file, 3, 0, &body, 0, 1);
	tu_assert_labels(MP3, file.ptr, file.size, "id3-txxx", json, strlen(json), 1);
	aimark__buf_clear(&file);
	tag_file(&file, 4, 0, &body4, 0, 1);
	tu_assert_labels(MP3, file.ptr, file.size, "id3-txxx", json, strlen(json), 1);
	/* ISO-8859-1 with a byte above 0x7F */
	aimark_buf body0 = AIMARK_BUF_INIT;
	txxx(&body0, 3, 0, 0, "AIGC", 5, "{\"P\":\"\xe9\"}\0", 11);
	aimark__buf_clear(&file);
	tag_file(&file, 3, 0, &body0, 0, 1);
	tu_assert_labels(MP3, file.ptr, file.size, "id3-txxx", "{\"P\":\"\xc3\xa9\"}", 10, 1);
	aimark_buf_dispose(&body);
	aimark_buf_dispose(&body4);
	aimark_buf_dispose(&body0);
	aimark_buf_dispose(&file);
	aimark_buf_dispose(&v);
}

/* v2.3 tag-level unsynchronisation: read, and kept when rewriting; other frames intact. */
static void test_unsync_v23(void **state)
{
	(void)state;
	aimark_buf body = AIMARK_BUF_INIT, enc = AIMARK_BUF_INIT, file = AIMARK_BUF_INIT;
	const unsigned char priv[] = { 'x', 0, 0xFF, 0xE3, 0x11, 0xFF, 0x00, 0xFF };
	frame(&body, 3, "PRIV", 0, priv, sizeof priv);
	txxx_utf8(&body, 3, "{\"Label\":\"2\"}");
	unsync(body.ptr, body.size, &enc);
	assert_true(enc.size > body.size);
	tag_file(&file, 3, 0x80, &enc, 0, 1);
	tu_assert_labels(MP3, file.ptr, file.size, "id3-txxx", "{\"Label\":\"2\"}", 13, 1);

	aimark_buf out = AIMARK_BUF_INIT;
	tu_mark(MP3, file.ptr, file.size, &LABEL_A, &out);
	assert_int_equal(out.ptr[3], 3);
	assert_int_equal(out.ptr[5], 0x80);
	tu_assert_labels(MP3, out.ptr, out.size, "id3-txxx", LABEL_A.bare_json, LABEL_A.bare_len, 1);
	/* the PRIV frame, unsynchronised, is where it was */
	assert_memory_equal(out.ptr + 10, enc.ptr, 10 + sizeof priv + 3);
	tu_assert_same_essence(MP3, file.ptr, file.size, out.ptr, out.size, 1);
	aimark_buf_dispose(&body);
	aimark_buf_dispose(&enc);
	aimark_buf_dispose(&file);
	aimark_buf_dispose(&out);
}

/* v2.4 frame flags: unsynchronisation + data length indicator, grouping; compressed frames reported. */
static void test_v24_frame_flags(void **state)
{
	(void)state;
	const char json[] = "{\"Label\":\"3\"}";
	aimark_buf content = AIMARK_BUF_INIT, un = AIMARK_BUF_INIT, data = AIMARK_BUF_INIT, body = AIMARK_BUF_INIT,
		   file = AIMARK_BUF_INIT;
	/* enc 1 has a BOM FF FE, which unsynchronisation must escape */
	const unsigned char head[] = { 1, 0xFF, 0xFE, 'A', 0, 'I', 0, 'G', 0, 'C', 0, 0, 0, 0xFF, 0xFE };
	assert_int_equal(aimark__buf_append(&content, head, sizeof head), 0);
	for (size_t i = 0; json[i]; i++)
		assert_int_equal(aimark__buf_append(&content, (unsigned char[]){ (unsigned char)json[i], 0 }, 2), 0);
	unsync(content.ptr, content.size, &un);
	unsigned char dli[4];
	put_syncsafe(dli, (uint32_t)content.size);
	assert_int_equal(aimark__buf_append(&data, "\x07", 1), 0); /* group id */
	assert_int_equal(aimark__buf_append(&data, dli, 4), 0);
	assert_int_equal(aimark__buf_append(&data, un.ptr, un.size), 0);
	frame(&body, 4, "TXXX", 0x0043, data.ptr, data.size);
	frame(&body, 4, "TXXX", 0x0008, "\0\0\0\x10xxxxxxxx", 12); /* compressed: not read */
	tag_file(&file, 4, 0, &body, 100, 1);
	tu_parsed p;
	tu_parse(MP3, file.ptr, file.size, &p);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.meta.n_carriers, 1);
	assert_string_equal(p.meta.carriers[0].text, json);
	assert_true(aimark_findings_has(p.findings, "id3-frame-unreadable"));
	tu_parsed_free(&p);
	/* rewriting replaces the flagged frame and keeps the compressed one */
	aimark_buf out = AIMARK_BUF_INIT;
	tu_mark(MP3, file.ptr, file.size, &LABEL_B, &out);
	assert_non_null(memmem(out.ptr, out.size, "TXXX\0\0\0\x0c\0\x08", 10));
	tu_assert_labels(MP3, out.ptr, out.size, "id3-txxx", LABEL_B.bare_json, LABEL_B.bare_len, 1);
	aimark_buf_dispose(&content);
	aimark_buf_dispose(&un);
	aimark_buf_dispose(&data);
	aimark_buf_dispose(&body);
	aimark_buf_dispose(&file);
	aimark_buf_dispose(&out);
}

/* Extended headers (v2.3 and v2.4) are skipped when reading and dropped when rewriting. */
static void test_extended_header(void **state)
{
	(void)state;
	for (int ver = 3; ver <= 4; ver++) {
		aimark_buf body = AIMARK_BUF_INIT, file = AIMARK_BUF_INIT, out = AIMARK_BUF_INIT;
		if (ver == 3)
			assert_int_equal(aimark__buf_append(&body, "\0\0\0\x06\0\0\0\0\0\0", 10), 0);
		else
			assert_int_equal(aimark__buf_append(&body, "\0\0\0\x06\x01\0", 6), 0);
		frame(&body, ver, "TIT2", 0, "\0Tone", 5);
		txxx_utf8(&body, ver, "{\"Label\":\"1\"}");
		tag_file(&file, ver, 0x40, &body, 0, 1);
		tu_assert_labels(MP3, file.ptr, file.size, "id3-txxx", "{\"Label\":\"1\"}", 13, 1);
		tu_mark(MP3, file.ptr, file.size, &LABEL_A, &out);
		assert_int_equal(out.ptr[5] & 0x40, 0);
		assert_memory_equal(out.ptr + 10, "TIT2", 4);
		tu_assert_labels(MP3, out.ptr, out.size, "id3-txxx", LABEL_A.bare_json, LABEL_A.bare_len, 1);
		tu_assert_same_essence(MP3, file.ptr, file.size, out.ptr, out.size, 1);
		aimark_buf_dispose(&body);
		aimark_buf_dispose(&file);
		aimark_buf_dispose(&out);
	}
}

/* MiniMax TTS layout: TXXX AIGC then a GEOB holding C2PA, in v2.4. */
static void test_minimax_layout(void **state)
{
	(void)state;
	aimark_buf body = AIMARK_BUF_INIT, file = AIMARK_BUF_INIT, out = AIMARK_BUF_INIT;
	txxx_utf8(&body, 4, MINIMAX_JSON);
	size_t geob_at = body.size;
	const char geob[] = "\x03" "application/c2pa\0c2pa.bin\0c2pa\0\x01\x02\x03\xff\xfe";
	frame(&body, 4, "GEOB", 0, geob, sizeof geob - 1);
	tag_file(&file, 4, 0, &body, 0, 1);
	tu_assert_labels(MP3, file.ptr, file.size, "id3-txxx", MINIMAX_JSON, strlen(MINIMAX_JSON), 1);
	tu_mark(MP3, file.ptr, file.size, &LABEL_A, &out);
	assert_memory_equal(out.ptr + 10, "TXXX", 4);
	size_t geob_len = body.size - geob_at;
	assert_non_null(memmem(out.ptr, out.size, body.ptr + geob_at, geob_len));
	tu_assert_labels(MP3, out.ptr, out.size, "id3-txxx", LABEL_A.bare_json, LABEL_A.bare_len, 1);
	ffmpeg_check(NULL, &out, &LABEL_A);
	aimark_buf_dispose(&body);
	aimark_buf_dispose(&file);
	aimark_buf_dispose(&out);
}

/* Padding absorbs the new frame: the audio keeps its offset and the file its size. */
static void test_padding_reused(void **state)
{
	(void)state;
	aimark_buf body = AIMARK_BUF_INIT, file = AIMARK_BUF_INIT, out = AIMARK_BUF_INIT;
	frame(&body, 4, "TIT2", 0, "\3Tone", 5);
	tag_file(&file, 4, 0, &body, 1024, 1);
	tu_mark(MP3, file.ptr, file.size, &LABEL_A, &out);
	assert_int_equal(out.size, file.size);
	assert_memory_equal(out.ptr + 6, file.ptr + 6, 4); /* same tag size */
	assert_memory_equal(out.ptr + 10 + body.size + 1024, file.ptr + 10 + body.size + 1024, file.size - 10 - body.size - 1024);
	tu_assert_labels(MP3, out.ptr, out.size, "id3-txxx", LABEL_A.bare_json, LABEL_A.bare_len, 1);
	aimark_buf_dispose(&body);
	aimark_buf_dispose(&file);
	aimark_buf_dispose(&out);
}

/* ID3v2.2 (three-character frame ids): TXX read and written in place. */
static void test_v22(void **state)
{
	(void)state;
	aimark_buf body = AIMARK_BUF_INIT, file = AIMARK_BUF_INIT, out = AIMARK_BUF_INIT;
	frame(&body, 2, "TT2", 0, "\0Tone", 5);
	txxx_utf8(&body, 2, "{\"Label\":\"2\"}");
	tag_file(&file, 2, 0, &body, 0, 1);
	tu_assert_labels(MP3, file.ptr, file.size, "id3-txxx", "{\"Label\":\"2\"}", 13, 1);
	tu_mark(MP3, file.ptr, file.size, &LABEL_B, &out);
	assert_int_equal(out.ptr[3], 2);
	assert_memory_equal(out.ptr + 10, "TT2", 3);
	assert_memory_equal(out.ptr + 21, "TXX", 3);
	tu_assert_labels(MP3, out.ptr, out.size, "id3-txxx", LABEL_B.bare_json, LABEL_B.bare_len, 1);
	tu_assert_same_essence(MP3, file.ptr, file.size, out.ptr, out.size, 1);
	aimark_buf_dispose(&body);
	aimark_buf_dispose(&file);
	aimark_buf_dispose(&out);
}

/*
 * sine-bare.mp3 followed by an appended ID3v2.4 tag (with a footer) around a
 * TXXX AIGC frame, its header claiming `extra` bytes more than its footer.
 * Returns the length of the audio before the tag.
 */
static size_t audio_with_trailing_tag(aimark_buf *file, aimark_buf *body, uint32_t extra)
{
	size_t n;
	unsigned char *audio = tu_read_file(TU_DATA("mp3/sine-bare.mp3"), &n);
	assert_int_equal(aimark__buf_append(file, audio, n), 0);
	free(audio);
	txxx_utf8(body, 4, "{\"Label\":\"1\",\"ContentProducer\":\"tail\"}");
	unsigned char h[10] = { 'I', 'D', '3', 4, 0, 0x10 };
	put_syncsafe(h + 6, (uint32_t)body->size + extra);
	assert_int_equal(aimark__buf_append(file, h, 10), 0);
	assert_int_equal(aimark__buf_append(file, body->ptr, body->size), 0);
	memcpy(h, "3DI", 3);
	put_syncsafe(h + 6, (uint32_t)body->size);
	assert_int_equal(aimark__buf_append(file, h, 10), 0);
	return n;
}

/* Trailing tags: an appended ID3v2.4 tag with a footer is read and rewritten; APEv2 and ID3v1 are not essence. */
static void test_trailing_tags(void **state)
{
	(void)state;
	aimark_buf file = AIMARK_BUF_INIT, body = AIMARK_BUF_INIT, out = AIMARK_BUF_INIT;
	size_t n = audio_with_trailing_tag(&file, &body, 0);
	unsigned char ape[64] = { 0 };
	memcpy(ape + 32, "APETAGEX\xd0\x07\0\0\x20\0\0\0", 16); /* size 32: footer only, no items */
	assert_int_equal(aimark__buf_append(&file, ape + 32, 32), 0);
	unsigned char v1[128] = "TAG";
	assert_int_equal(aimark__buf_append(&file, v1, 128), 0);

	tu_parsed p;
	tu_parse(MP3, file.ptr, file.size, &p);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.meta.n_carriers, 1);
	assert_int_equal(p.meta.carriers[0].offset, n + 10); /* the frame, inside the tag */
	assert_int_equal(p.meta.n_essence, 1);
	assert_int_equal(p.meta.essence[0].offset, 0);
	assert_int_equal(p.meta.essence[0].length, n);
	tu_parsed_free(&p);

	tu_mark(MP3, file.ptr, file.size, &LABEL_A, &out);
	tu_assert_labels(MP3, out.ptr, out.size, "id3-txxx", LABEL_A.bare_json, LABEL_A.bare_len, 2);
	assert_memory_equal(out.ptr + out.size - 160, file.ptr + file.size - 160, 160);
	assert_memory_equal(out.ptr + out.size - 170, "3DI\x04\0\x10", 6);
	tu_assert_same_essence(MP3, file.ptr, file.size, out.ptr, out.size, 1);
	aimark_buf_dispose(&file);
	aimark_buf_dispose(&body);
	aimark_buf_dispose(&out);
}

/*
 * A v2.4 tag holding only bytes that start no frame: the label frame written
 * in front of them must not read back with them (its syncsafe size lands on
 * the junk, its plain size on a zero byte), so the junk becomes padding.
 */
static void test_v24_junk_after_label(void **state)
{
	(void)state;
	aimark_buf body = AIMARK_BUF_INIT, file = AIMARK_BUF_INIT, out = AIMARK_BUF_INIT;
	unsigned char junk[512] = "pngX\x01\x02";
	assert_int_equal(aimark__buf_append(&body, junk, sizeof junk), 0);
	tag_file(&file, 4, 0, &body, 0, 1);
	assert_true(LABEL_A.bare_len > 127); /* a frame size whose syncsafe and plain readings differ */
	tu_assert_labels(MP3, file.ptr, file.size, "id3-txxx", "", 0, 0);

	tu_mark(MP3, file.ptr, file.size, &LABEL_A, &out);
	tu_assert_labels(MP3, out.ptr, out.size, "id3-txxx", LABEL_A.bare_json, LABEL_A.bare_len, 1);
	assert_int_equal(count(out.ptr, out.size, "pngX", 4), 0);
	tu_assert_same_essence(MP3, file.ptr, file.size, out.ptr, out.size, 1);
	aimark_buf_dispose(&body);
	aimark_buf_dispose(&file);
	aimark_buf_dispose(&out);
}

/* An appended tag whose header and footer disagree on its size is not a tag: it stays in the essence. */
static void test_trailing_tag_size_mismatch(void **state)
{
	(void)state;
	aimark_buf file = AIMARK_BUF_INIT, body = AIMARK_BUF_INIT, out = AIMARK_BUF_INIT;
	audio_with_trailing_tag(&file, &body, 16); /* the header claims more than the footer */

	tu_parsed p;
	tu_parse(MP3, file.ptr, file.size, &p);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.meta.n_carriers, 0);
	assert_int_equal(p.meta.n_essence, 1);
	assert_int_equal(p.meta.essence[0].offset, 0);
	assert_int_equal(p.meta.essence[0].length, file.size);
	tu_parsed_free(&p);

	tu_mark(MP3, file.ptr, file.size, &LABEL_A, &out);
	tu_assert_labels(MP3, out.ptr, out.size, "id3-txxx", LABEL_A.bare_json, LABEL_A.bare_len, 1);
	tu_assert_same_essence(MP3, file.ptr, file.size, out.ptr, out.size, 1);
	aimark_buf_dispose(&file);
	aimark_buf_dispose(&body);
	aimark_buf_dispose(&out);
}

static void test_bad_input(void **state)
{
	(void)state;
	size_t n;
	unsigned char *in = tu_read_file(TU_DATA("mp3/sine-v24.mp3"), &n);
	unsigned char *c = malloc(n + 16);
	tu_parsed p;

	/* tag size past the end */
	memcpy(c, in, n);
	put_syncsafe(c + 6, 100000);
	tu_parse(MP3, c, n, &p);
	assert_int_equal(p.rc, AIMARK_EFORMAT);
	assert_non_null(strstr(aimark_error_last(), "MP3"));
	assert_non_null(strstr(aimark_error_last(), "offset 0"));
	tu_parsed_free(&p);

	/* size bytes not syncsafe */
	memcpy(c, in, n);
	c[8] = 0x80;
	tu_parse(MP3, c, n, &p);
	assert_int_equal(p.rc, AIMARK_EFORMAT);
	tu_parsed_free(&p);

	/* FLAC behind an ID3 tag */
	memcpy(c, in, 36);
	memcpy(c + 36, "fLaC\0\0\0\x22", 8);
	tu_parse(MP3, c, 44, &p);
	assert_int_equal(p.rc, AIMARK_EUNSUPPORTED);
	assert_non_null(strstr(aimark_error_last(), "FLAC"));
	tu_parsed_free(&p);

	/* neither tag nor frame */
	tu_parse(MP3, "RIFFxxxxWAVE", 12, &p);
	assert_int_equal(p.rc, AIMARK_EFORMAT);
	tu_parsed_free(&p);

	/* a frame size that lies: reported, the rest kept, still writable */
	aimark_buf body = AIMARK_BUF_INIT, file = AIMARK_BUF_INIT, out = AIMARK_BUF_INIT;
	txxx_utf8(&body, 4, "{\"Label\":\"1\"}");
	frame(&body, 4, "TIT2", 0, "\3Tone", 5);
	put_syncsafe(body.ptr + body.size - 11, 9999);
	tag_file(&file, 4, 0, &body, 0, 1);
	tu_parse(MP3, file.ptr, file.size, &p);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.meta.n_carriers, 1);
	assert_true(aimark_findings_has(p.findings, "id3-garbage"));
	tu_parsed_free(&p);
	tu_mark(MP3, file.ptr, file.size, &LABEL_A, &out);
	tu_assert_labels(MP3, out.ptr, out.size, "id3-txxx", LABEL_A.bare_json, LABEL_A.bare_len, 1);
	assert_non_null(memmem(out.ptr, out.size, body.ptr + body.size - 15, 15));

	/* a damaged extended header: the tag is reported, kept, and a new tag goes in front */
	aimark_buf bad = AIMARK_BUF_INIT, badfile = AIMARK_BUF_INIT, out2 = AIMARK_BUF_INIT;
	assert_int_equal(aimark__buf_append(&bad, "\x7f\0\0\0", 4), 0);
	txxx_utf8(&bad, 3, "{\"Label\":\"1\"}");
	tag_file(&badfile, 3, 0x40, &bad, 0, 1);
	tu_parse(MP3, badfile.ptr, badfile.size, &p);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.meta.n_carriers, 0);
	assert_true(aimark_findings_has(p.findings, "id3-unreadable"));
	tu_parsed_free(&p);
	tu_mark(MP3, badfile.ptr, badfile.size, &LABEL_B, &out2);
	assert_memory_equal(out2.ptr, "ID3\x04", 4);
	assert_memory_equal(out2.ptr + out2.size - badfile.size, badfile.ptr, badfile.size);
	tu_assert_labels(MP3, out2.ptr, out2.size, "id3-txxx", LABEL_B.bare_json, LABEL_B.bare_len, 1);
	tu_assert_same_essence(MP3, badfile.ptr, badfile.size, out2.ptr, out2.size, 1);
	aimark_buf_dispose(&bad);
	aimark_buf_dispose(&badfile);
	aimark_buf_dispose(&out2);

	/* truncated: every prefix of a labelled file reads without crashing */
	tu_assert_prefixes_read(MP3, out.ptr, out.size, SIZE_MAX, 7);
	aimark_buf_dispose(&body);
	aimark_buf_dispose(&file);
	aimark_buf_dispose(&out);
	free(c);
	free(in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe),
		cmocka_unit_test(test_create_tag),
		cmocka_unit_test(test_ffmpeg_v24_tag),
		cmocka_unit_test(test_v23_and_id3v1),
		cmocka_unit_test(test_ffmpeg_labelled),
		cmocka_unit_test(test_non_ascii),
		cmocka_unit_test(test_encodings),
		cmocka_unit_test(test_unsync_v23),
		cmocka_unit_test(test_v24_frame_flags),
		cmocka_unit_test(test_extended_header),
		cmocka_unit_test(test_minimax_layout),
		cmocka_unit_test(test_padding_reused),
		cmocka_unit_test(test_v22),
		cmocka_unit_test(test_trailing_tags),
		cmocka_unit_test(test_trailing_tag_size_mismatch),
		cmocka_unit_test(test_v24_junk_after_label),
		cmocka_unit_test(test_bad_input),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

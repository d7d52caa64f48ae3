/* MP4 / QuickTime backend: read, write, offsets, vendor variants, hostile input. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "format/format.h"
#include "testutil.h"

#define LABEL TU_LABEL_BARE("test-0001")
#define FF_LABEL TU_LABEL_BARE_BY("ffmpeg-test", "ff-0001")

/* ---------------------------------------------------------------- helpers */

static const aimark__format_ops *ops(void)
{
	const aimark__format_ops *o = aimark__format_find("mp4");
	assert_non_null(o);
	return o;
}

/* Hash and length of the essence ranges read() reports. */
static uint64_t essence_hash(const unsigned char *data, size_t len, uint64_t *total)
{
	aimark__meta meta;
	assert_int_equal(tu_read_mem(ops(), data, len, &meta, NULL), 0);
	uint64_t h = TU_FNV_INIT;
	*total = 0;
	for (size_t i = 0; i < meta.n_essence; i++) {
		h = tu_fnv(h, data + meta.essence[i].offset, (size_t)meta.essence[i].length);
		*total += meta.essence[i].length;
	}
	aimark__meta_dispose(&meta);
	return h;
}

/* Every carrier of the output holds exactly `json`. */
static void assert_labelled(const unsigned char *data, size_t len, const char *json, size_t min_carriers)
{
	aimark__meta meta;
	assert_int_equal(tu_read_mem(ops(), data, len, &meta, NULL), 0);
	assert_true(meta.n_carriers >= min_carriers);
	for (size_t i = 0; i < meta.n_carriers; i++)
		assert_string_equal(meta.carriers[i].text, json);
	assert_int_equal(tu_count_kind(&meta, "mp4-keys") >= 1, 1);
	assert_int_equal(tu_count_kind(&meta, "xmp"), 1);
	aimark__meta_dispose(&meta);
}

/* Finds the first box at `path` ("moov/trak/mdia") in [pos, end); returns its offset or SIZE_MAX. */
static size_t find_box(const unsigned char *d, size_t pos, size_t end, const char *path, size_t *size_out)
{
	while (pos + 8 <= end) {
		uint64_t size = aimark__be32(d + pos);
		size_t hdr = 8;
		if (size == 1) {
			size = aimark__be64(d + pos + 8);
			hdr = 16;
		} else if (size == 0) {
			size = end - pos;
		}
		if (size < hdr || size > end - pos)
			return SIZE_MAX;
		if (memcmp(d + pos + 4, path, 4) == 0) {
			if (path[4] == '\0') {
				if (size_out)
					*size_out = (size_t)size;
				return pos;
			}
			size_t inner = pos + hdr;
			if (memcmp(path, "meta", 4) == 0 && aimark__be32(d + inner) == 0)
				inner += 4;
			size_t r = find_box(d, inner, pos + (size_t)size, path + 5, size_out);
			if (r != SIZE_MAX)
				return r;
		}
		pos += (size_t)size;
	}
	return SIZE_MAX;
}

/* ---- tools ---- */

/* ffprobe shows `json` as the format tag AIGC; streams hash as in `orig`; decoding is clean. */
static void check_with_ffmpeg(const char *orig, const unsigned char *data, size_t len, const char *json, const char *ext)
{
	const tu_media m = { ext, "format", "0" };
	tu_ffmpeg_check(&m, orig, data, len, json, strlen(json), NULL);
}

/* Labels the file `path` with LABEL through `p`; returns its bytes (`*len` long), the output in `out`. */
static unsigned char *label_file(const char *path, size_t *len, tu_provider *p, aimark_buf *out)
{
	unsigned char *d = tu_read_file(path, len);
	assert_int_equal(tu_label_mem(ops(), d, *len, LABEL, p, out, NULL), 0);
	return d;
}

/* The output carries LABEL (two carriers at least) and ffmpeg sees the streams of `orig` unchanged; disposes `out`. */
static void check_output(const char *orig, aimark_buf *out, const char *ext)
{
	assert_labelled(out->ptr, out->size, LABEL, 2);
	check_with_ffmpeg(orig, out->ptr, out->size, LABEL, ext);
	aimark_buf_dispose(out);
}

/* ---- box building for synthetic files ---- */

static void put32(aimark_buf *b, uint32_t v)
{
	unsigned char x[4];
	aimark__put_be32(x, v);
	assert_int_equal(aimark__buf_append(b, x, 4), 0);
}

static void box(aimark_buf *out, const char *type, const void *payload, size_t len)
{
	put32(out, (uint32_t)(8 + len));
	assert_int_equal(aimark__buf_append(out, type, 4), 0);
	assert_int_equal(aimark__buf_append(out, payload, len), 0);
}

static void boxb(aimark_buf *out, const char *type, aimark_buf *inner)
{
	box(out, type, inner->ptr, inner->size);
	aimark_buf_dispose(inner);
}

static void data_box(aimark_buf *out, uint32_t type, const char *text)
{
	aimark_buf d = AIMARK_BUF_INIT;
	put32(&d, type);
	put32(&d, 0);
	assert_int_equal(aimark__buf_append(&d, text, strlen(text)), 0);
	boxb(out, "data", &d);
}

static void item(aimark_buf *ilst, uint32_t index, const char *text)
{
	aimark_buf i = AIMARK_BUF_INIT;
	data_box(&i, 1, text);
	unsigned char t[4];
	aimark__put_be32(t, index);
	box(ilst, (const char *)t, i.ptr, i.size);
	aimark_buf_dispose(&i);
}

static void hdlr(aimark_buf *out, const char *handler)
{
	aimark_buf h = AIMARK_BUF_INIT;
	put32(&h, 0);
	put32(&h, 0);
	assert_int_equal(aimark__buf_append(&h, handler, 4), 0);
	static const unsigned char z[13];
	assert_int_equal(aimark__buf_append(&h, z, sizeof z), 0);
	boxb(out, "hdlr", &h);
}

static void keys(aimark_buf *out, const char *const *names, size_t n)
{
	aimark_buf k = AIMARK_BUF_INIT;
	put32(&k, 0);
	put32(&k, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		put32(&k, (uint32_t)(8 + strlen(names[i])));
		assert_int_equal(aimark__buf_append(&k, "mdta", 4), 0);
		assert_int_equal(aimark__buf_append(&k, names[i], strlen(names[i])), 0);
	}
	boxb(out, "keys", &k);
}

/* ftyp + moov{children} + mdat{"sample data"} */
static void file_with_moov(aimark_buf *out, aimark_buf *moov_children)
{
	static const unsigned char ftyp[] = { 'i', 's', 'o', 'm', 0, 0, 2, 0, 'i', 's', 'o', 'm', 'm', 'p', '4', '1' };
	box(out, "ftyp", ftyp, sizeof ftyp);
	boxb(out, "moov", moov_children);
	box(out, "mdat", "sample data", 11);
}

/* ------------------------------------------------------------------ tests */

static void test_probe(void **state)
{
	(void)state;
	static const unsigned char mp4[] = { 0, 0, 0, 0x20, 'f', 't', 'y', 'p', 'i', 's', 'o', 'm' };
	static const unsigned char heic[] = { 0, 0, 0, 0x18, 'f', 't', 'y', 'p', 'h', 'e', 'i', 'c' };
	static const unsigned char qt[] = { 0, 0, 0, 0x08, 'w', 'i', 'd', 'e' };
	static const unsigned char riff[] = { 'R', 'I', 'F', 'F', 0, 0, 0, 0, 'A', 'V', 'I', ' ' };
	assert_true(ops()->probe(mp4, sizeof mp4));
	assert_false(ops()->probe(heic, sizeof heic));
	assert_true(ops()->probe(qt, sizeof qt));
	assert_false(ops()->probe(riff, sizeof riff));
	assert_false(ops()->probe(mp4, 4));
	assert_false(ops()->probe((const unsigned char *)"Set free the text", 17));
	assert_false(ops()->probe((const unsigned char *)"Ok, ftypes", 10));
	assert_string_equal(aimark_format_from_extension("a/b.M4A"), "mp4");
	assert_string_equal(aimark_format_from_extension("x.mov"), "mp4");
}

static void test_read_plain(void **state)
{
	(void)state;
	size_t len;
	unsigned char *d = tu_read_file(TU_DATA("mp4/moov_last.mp4"), &len);
	aimark__meta meta;
	assert_int_equal(tu_read_mem(ops(), d, len, &meta, NULL), 0);
	assert_int_equal(meta.n_carriers, 0);
	size_t msz, moff = find_box(d, 0, len, "mdat", &msz);
	assert_int_equal(meta.n_essence, 1);
	assert_int_equal(meta.essence[0].offset, moff + 8);
	assert_int_equal(meta.essence[0].length, msz - 8);
	aimark__meta_dispose(&meta);
	free(d);
}

static void test_read_ffmpeg_label(void **state)
{
	(void)state;
	size_t len;
	unsigned char *d = tu_read_file(TU_DATA("mp4/ff_aigc.mp4"), &len);
	tu_parsed r;
	tu_parse(ops(), d, len, &r);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.meta.n_carriers, 1);
	assert_string_equal(r.meta.carriers[0].kind, "mp4-keys");
	assert_string_equal(r.meta.carriers[0].text, FF_LABEL);
	assert_int_equal(aimark_findings_count_at_least(r.findings, AIMARK_SEVERITY_WARNING), 0);
	tu_parsed_free(&r);
	free(d);
}

static void test_read_exiftool_keys(void **state)
{
	(void)state;
	size_t len;
	unsigned char *d = tu_read_file(TU_DATA("mp4/exif_keys.mp4"), &len);
	tu_parsed r;
	tu_parse(ops(), d, len, &r);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.meta.n_carriers, 1);
	assert_non_null(strstr(r.meta.carriers[0].text, "\"ProduceID\":\"ex-0001\""));
	assert_true(aimark_findings_has(r.findings, "mp4-key-name"));        /* com.apple.quicktime.AIGC */
	assert_true(aimark_findings_has(r.findings, "mp4-quicktime-meta"));  /* no version/flags */
	assert_true(aimark_findings_has(r.findings, "mp4-meta-location"));   /* moov/meta */
	tu_parsed_free(&r);
	free(d);
}

/* moov after mdat: the sample data is fed to the provider while copied, then get() is called. */
static void test_label_moov_last_streams(void **state)
{
	(void)state;
	size_t len;
	tu_provider p;
	aimark_buf out = AIMARK_BUF_INIT;
	unsigned char *d = label_file(TU_DATA("mp4/moov_last.mp4"), &len, &p, &out);
	uint64_t t0, t1, h0 = essence_hash(d, len, &t0), h1 = essence_hash(out.ptr, out.size, &t1);
	assert_int_equal(p.fed, t0);
	assert_true(p.fed_hash == h0);
	assert_false(p.fed_after_get);
	assert_true(h0 == h1 && t0 == t1);
	assert_labelled(out.ptr, out.size, LABEL, 2);
	/* the mdat did not move, the moov grew */
	assert_int_equal(find_box(out.ptr, 0, out.size, "mdat", NULL), find_box(d, 0, len, "mdat", NULL));
	check_with_ffmpeg(TU_DATA("mp4/moov_last.mp4"), out.ptr, out.size, LABEL, "mp4");
	aimark_buf_dispose(&out);
	free(d);
}

/* moov first: get() first, and every chunk offset moves by the growth. */
static void test_label_faststart_moves_offsets(void **state)
{
	(void)state;
	size_t len;
	tu_provider p;
	aimark_buf out = AIMARK_BUF_INIT;
	unsigned char *d = label_file(TU_DATA("mp4/faststart.mp4"), &len, &p, &out);
	assert_int_equal(p.fed, 0);
	uint64_t t0, t1;
	assert_true(essence_hash(d, len, &t0) == essence_hash(out.ptr, out.size, &t1));
	size_t m0 = find_box(d, 0, len, "mdat", NULL), m1 = find_box(out.ptr, 0, out.size, "mdat", NULL);
	assert_true(m1 > m0);
	size_t s0 = find_box(d, 0, len, "moov/trak/mdia/minf/stbl/stco", NULL);
	size_t s1 = find_box(out.ptr, 0, out.size, "moov/trak/mdia/minf/stbl/stco", NULL);
	assert_true(s0 != SIZE_MAX && s1 != SIZE_MAX);
	uint32_t n = aimark__be32(d + s0 + 12);
	assert_int_equal(n, aimark__be32(out.ptr + s1 + 12));
	for (uint32_t i = 0; i < n; i++)
		assert_int_equal(aimark__be32(out.ptr + s1 + 16 + 4 * i), aimark__be32(d + s0 + 16 + 4 * i) + (m1 - m0));
	check_output(TU_DATA("mp4/faststart.mp4"), &out, "mp4");
	free(d);
}

/* Space reserved after moov (ffmpeg -moov_size) takes the growth: the samples and offsets stay put. */
static void test_reserved_free_space(void **state)
{
	(void)state;
	size_t len;
	tu_provider p;
	aimark_buf out = AIMARK_BUF_INIT;
	unsigned char *d = label_file(TU_DATA("mp4/reserved.mp4"), &len, &p, &out);
	assert_int_equal(out.size, len);
	assert_int_equal(find_box(out.ptr, 0, out.size, "mdat", NULL), find_box(d, 0, len, "mdat", NULL));
	size_t s0 = find_box(d, 0, len, "moov/trak/mdia/minf/stbl/stco", NULL);
	size_t s1 = find_box(out.ptr, 0, out.size, "moov/trak/mdia/minf/stbl/stco", NULL);
	assert_memory_equal(out.ptr + s1, d + s0, aimark__be32(d + s0));
	check_output(TU_DATA("mp4/reserved.mp4"), &out, "mp4");
	free(d);
}

/* A callbacks source takes the chunked path; the output matches the memory path. */
typedef struct vsrc {
	const unsigned char *head;
	size_t head_len;
	uint64_t tail_off;     /* where `tail` sits in the virtual file */
	const unsigned char *tail;
	size_t tail_len;
	uint64_t readable_end; /* reads past this fail (0: none) */
} vsrc;

static int vsrc_read(void *user, uint64_t off, void *dst, size_t len)
{
	vsrc *v = user;
	if (v->readable_end && off + len > v->readable_end)
		return -1;
	unsigned char *o = dst;
	for (size_t i = 0; i < len; i++) {
		uint64_t p = off + i;
		if (p < v->head_len)
			o[i] = v->head[p];
		else if (v->tail && p >= v->tail_off && p < v->tail_off + v->tail_len)
			o[i] = v->tail[p - v->tail_off];
		else
			o[i] = 0;
	}
	return 0;
}

static void test_label_callbacks_source(void **state)
{
	(void)state;
	size_t len;
	unsigned char *d = tu_read_file(TU_DATA("mp4/moov_last.mp4"), &len);
	vsrc v = { d, len, 0, NULL, 0, 0 };
	aimark_source_callbacks cb = { AIMARK_SOURCE_CALLBACKS_VERSION, vsrc_read, len, &v, NULL };
	aimark_source *src = NULL;
	aimark_sink *sink = NULL;
	aimark_buf out = AIMARK_BUF_INIT, ref = AIMARK_BUF_INIT;
	assert_int_equal(aimark_source_new_callbacks(&src, &cb), 0);
	assert_int_equal(aimark_sink_new_buffer(&sink, &out), 0);
	aimark__meta meta;
	aimark__meta_init(&meta, NULL);
	tu_provider p;
	tu_provider_init(&p, LABEL);
	assert_int_equal(ops()->read(src, &meta), 0);
	aimark__label_provider lp = tu_provider_streaming(&p);
	assert_int_equal(ops()->write(src, &meta, &lp, sink), 0);
	uint64_t total;
	assert_true(p.fed_hash == essence_hash(d, len, &total));
	assert_int_equal(p.fed, total);
	tu_provider p2;
	assert_int_equal(tu_label_mem(ops(), d, len, LABEL, &p2, &ref, NULL), 0);
	assert_int_equal(out.size, ref.size);
	assert_memory_equal(out.ptr, ref.ptr, out.size);
	aimark__meta_dispose(&meta);
	aimark_sink_free(sink);
	aimark_source_free(src);
	aimark_buf_dispose(&out);
	aimark_buf_dispose(&ref);
	free(d);
}

/* Fragmented MP4: labelled in moov; tfhd base-data-offset and tfra follow the moved fragments. */
static void test_label_fragmented(void **state)
{
	(void)state;
	size_t len;
	unsigned char *d = tu_read_file(TU_DATA("mp4/frag.mp4"), &len);
	tu_parsed r;
	tu_parse(ops(), d, len, &r);
	assert_int_equal(r.rc, 0);
	assert_true(aimark_findings_has(r.findings, "mp4-fragmented"));
	tu_parsed_free(&r);
	aimark_buf out = AIMARK_BUF_INIT;
	tu_provider p;
	assert_int_equal(tu_label_mem(ops(), d, len, LABEL, &p, &out, NULL), 0);
	size_t f0 = find_box(d, 0, len, "moof", NULL), f1 = find_box(out.ptr, 0, out.size, "moof", NULL);
	size_t t0 = find_box(d, 0, len, "moof/traf/tfhd", NULL), t1 = find_box(out.ptr, 0, out.size, "moof/traf/tfhd", NULL);
	assert_true(f1 > f0);
	assert_true(aimark__be32(d + t0 + 8) & 1); /* ffmpeg writes base-data-offset */
	assert_int_equal(aimark__be64(d + t0 + 16), f0);
	assert_int_equal(aimark__be64(out.ptr + t1 + 16), f1);
	size_t r1 = find_box(out.ptr, 0, out.size, "mfra/tfra", NULL);
	assert_true(r1 != SIZE_MAX);
	assert_int_equal(out.ptr[r1 + 8], 1); /* version 1: 64-bit time and offset */
	assert_int_equal(aimark__be64(out.ptr + r1 + 8 + 16 + 8), f1);
	check_output(TU_DATA("mp4/frag.mp4"), &out, "mp4");
	free(d);
}

/* ffmpeg's use_metadata_tags keys: other keys kept, the AIGC value replaced in place. */
static void test_merge_ffmpeg_keys(void **state)
{
	(void)state;
	size_t len;
	tu_provider p;
	aimark_buf out = AIMARK_BUF_INIT;
	unsigned char *d = label_file(TU_DATA("mp4/ff_aigc.mp4"), &len, &p, &out);
	size_t k0 = find_box(d, 0, len, "moov/udta/meta/keys", NULL), k1 = find_box(out.ptr, 0, out.size, "moov/udta/meta/keys", NULL);
	assert_true(k0 != SIZE_MAX && k1 != SIZE_MAX);
	assert_int_equal(aimark__be32(out.ptr + k1 + 12), 5);
	assert_memory_equal(out.ptr + k1, d + k0, aimark__be32(d + k0)); /* keys box unchanged */
	assert_labelled(out.ptr, out.size, LABEL, 2);
	if (tu_have_ffmpeg()) {
		char *dir = tu_tempdir();
		tu_write_file(tu_path("%s/o.mp4", dir), out.ptr, out.size);
		char *enc = tu_run("ffprobe -v error -show_entries format_tags=encoder,major_brand -of default=nw=1 '%s/o.mp4'", dir);
		assert_non_null(strstr(enc, "TAG:encoder=Lavf"));
		assert_non_null(strstr(enc, "TAG:major_brand=isom"));
		free(enc);
		tu_rmtree(dir);
		free(dir);
	}
	check_with_ffmpeg(TU_DATA("mp4/ff_aigc.mp4"), out.ptr, out.size, LABEL, "mp4");
	aimark_buf_dispose(&out);
	free(d);
}

/* Labelling twice gives one label, one keys entry and one XMP box, and a stable size. */
static void test_relabel(void **state)
{
	(void)state;
	size_t len;
	unsigned char *d = tu_read_file(TU_DATA("mp4/faststart.mp4"), &len);
	aimark_buf a = AIMARK_BUF_INIT, b = AIMARK_BUF_INIT, c = AIMARK_BUF_INIT;
	tu_provider p;
	assert_int_equal(tu_label_mem(ops(), d, len, LABEL, &p, &a, NULL), 0);
	assert_int_equal(tu_label_mem(ops(), a.ptr, a.size, LABEL, &p, &b, NULL), 0);
	assert_int_equal(a.size, b.size);
	assert_memory_equal(a.ptr, b.ptr, a.size);
	assert_int_equal(tu_label_mem(ops(), b.ptr, b.size, "{\"Label\":\"2\"}", &p, &c, NULL), 0);
	assert_labelled(c.ptr, c.size, "{\"Label\":\"2\"}", 2);
	aimark__meta meta;
	assert_int_equal(tu_read_mem(ops(), c.ptr, c.size, &meta, NULL), 0);
	assert_int_equal(meta.n_carriers, 2);
	aimark__meta_dispose(&meta);
	check_with_ffmpeg(TU_DATA("mp4/faststart.mp4"), c.ptr, c.size, "{\"Label\":\"2\"}", "mp4");
	aimark_buf_dispose(&a);
	aimark_buf_dispose(&b);
	aimark_buf_dispose(&c);
	free(d);
}

static void test_quicktime_xmp_in_udta(void **state)
{
	(void)state;
	size_t len;
	tu_provider p;
	aimark_buf out = AIMARK_BUF_INIT;
	unsigned char *d = label_file(TU_DATA("mp4/qt.mov"), &len, &p, &out);
	assert_true(find_box(out.ptr, 0, out.size, "moov/udta/XMP_", NULL) != SIZE_MAX);
	assert_true(find_box(out.ptr, 0, out.size, "uuid", NULL) == SIZE_MAX);
	check_output(TU_DATA("mp4/qt.mov"), &out, "mov");
	free(d);
}

static void test_label_m4a_and_exiftool_file(void **state)
{
	(void)state;
	const char *files[] = { "mp4/audio.m4a", "mp4/exif_keys.mp4" };
	for (size_t i = 0; i < 2; i++) {
		size_t len;
		char path[512];
		snprintf(path, sizeof path, "%s/%s", AIMARK_TEST_DATA, files[i]);
		tu_provider p;
		aimark_buf out = AIMARK_BUF_INIT;
		unsigned char *d = label_file(path, &len, &p, &out);
		check_output(path, &out, i == 0 ? "m4a" : "mp4");
		free(d);
	}
}

/* Duplicate AIGC keys: one is kept, the other removed, and later items renumbered. */
static void test_duplicate_keys_renumbered(void **state)
{
	(void)state;
	static const char *const names[] = { "AIGC", "com.example.one", "AIGC", "com.example.two" };
	aimark_buf meta = AIMARK_BUF_INIT, ilst = AIMARK_BUF_INIT, udta = AIMARK_BUF_INIT, moov = AIMARK_BUF_INIT,
		   file = AIMARK_BUF_INIT, out = AIMARK_BUF_INIT;
	put32(&meta, 0);
	hdlr(&meta, "mdta");
	keys(&meta, names, 4);
	item(&ilst, 1, "{\"Label\":\"1\",\"ProduceID\":\"a\"}");
	item(&ilst, 2, "one");
	item(&ilst, 3, "{\"Label\":\"1\",\"ProduceID\":\"b\"}");
	item(&ilst, 4, "two");
	boxb(&meta, "ilst", &ilst);
	boxb(&udta, "meta", &meta);
	boxb(&moov, "udta", &udta);
	file_with_moov(&file, &moov);

	aimark__meta m;
	assert_int_equal(tu_read_mem(ops(), file.ptr, file.size, &m, NULL), 0);
	assert_int_equal(m.n_carriers, 2);
	aimark__meta_dispose(&m);

	tu_provider p;
	assert_int_equal(tu_label_mem(ops(), file.ptr, file.size, LABEL, &p, &out, NULL), 0);
	size_t k = find_box(out.ptr, 0, out.size, "moov/udta/meta/keys", NULL);
	assert_true(k != SIZE_MAX);
	assert_int_equal(aimark__be32(out.ptr + k + 12), 3);
	size_t il = find_box(out.ptr, 0, out.size, "moov/udta/meta/ilst", NULL);
	size_t isz = aimark__be32(out.ptr + il), pos = il + 8;
	uint32_t idx[8];
	char text[8][256];
	size_t n = 0;
	while (pos < il + isz && n < 8) {
		uint32_t sz = aimark__be32(out.ptr + pos);
		idx[n] = aimark__be32(out.ptr + pos + 4);
		uint32_t dsz = aimark__be32(out.ptr + pos + 8);
		snprintf(text[n], sizeof text[n], "%.*s", (int)(dsz - 16), (const char *)out.ptr + pos + 24);
		n++;
		pos += sz;
	}
	assert_int_equal(n, 3);
	assert_int_equal(idx[0], 1);
	assert_string_equal(text[0], LABEL);
	assert_int_equal(idx[1], 2);
	assert_string_equal(text[1], "one");
	assert_int_equal(idx[2], 3);
	assert_string_equal(text[2], "two");
	assert_labelled(out.ptr, out.size, LABEL, 2);
	aimark_buf_dispose(&file);
	aimark_buf_dispose(&out);
}

/* Doubao iOS variant 1: QuickTime-form meta directly in moov, keys artwork + AIGC. */
static void test_doubao_variant1(void **state)
{
	(void)state;
	static const char *const names[] = { "com.apple.quicktime.artwork", "AIGC" };
	const char *other = "{\"source_type\":\"\",\"data\":{\"product\":\"doubao\"}}";
	const char *label = "{\"Label\":\"1\",\"ContentProducer\":\"00119144030008867405X210002\",\"ProduceID\":\"sample-001\","
			    "\"ReservedCode1\":\"\",\"ContentPropagator\":\"\",\"PropagateID\":\"\",\"ReservedCode2\":\"\"}";
	aimark_buf meta = AIMARK_BUF_INIT, ilst = AIMARK_BUF_INIT, moov = AIMARK_BUF_INIT, file = AIMARK_BUF_INIT,
		   out = AIMARK_BUF_INIT;
	hdlr(&meta, "mdta");
	keys(&meta, names, 2);
	item(&ilst, 1, other);
	item(&ilst, 2, label);
	boxb(&meta, "ilst", &ilst);
	boxb(&moov, "meta", &meta);
	file_with_moov(&file, &moov);

	tu_parsed r;
	tu_parse(ops(), file.ptr, file.size, &r);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.meta.n_carriers, 1);
	assert_string_equal(r.meta.carriers[0].text, label);
	assert_true(aimark_findings_has(r.findings, "mp4-quicktime-meta"));
	assert_true(aimark_findings_has(r.findings, "mp4-meta-location"));
	tu_parsed_free(&r);

	tu_provider p;
	assert_int_equal(tu_label_mem(ops(), file.ptr, file.size, LABEL, &p, &out, NULL), 0);
	/* both the vendor's moov/meta and the new moov/udta/meta carry the label; the artwork item stays */
	aimark__meta m;
	assert_int_equal(tu_read_mem(ops(), out.ptr, out.size, &m, NULL), 0);
	assert_int_equal(tu_count_kind(&m, "mp4-keys"), 2);
	for (size_t i = 0; i < m.n_carriers; i++)
		assert_string_equal(m.carriers[i].text, LABEL);
	aimark__meta_dispose(&m);
	assert_true(memmem(out.ptr, out.size, other, strlen(other)) != NULL);
	assert_true(memmem(out.ptr, out.size, "sample-001", 10) == NULL);
	aimark_buf_dispose(&file);
	aimark_buf_dispose(&out);
}

/* Doubao iOS variant 2: mdir handler, no keys, ilst item index 0 holding the label. */
static void test_doubao_variant2(void **state)
{
	(void)state;
	const char *label = "{\"Label\":\"1\",\"ContentProducer\":\"doubao\",\"ProduceID\":\"x\"}";
	aimark_buf meta = AIMARK_BUF_INIT, ilst = AIMARK_BUF_INIT, udta = AIMARK_BUF_INIT, moov = AIMARK_BUF_INIT,
		   file = AIMARK_BUF_INIT, out = AIMARK_BUF_INIT;
	put32(&meta, 0);
	hdlr(&meta, "mdir");
	item(&ilst, 0, label);
	item(&ilst, 0xA9746F6F, "Lavf"); /* ©too: not a label */
	boxb(&meta, "ilst", &ilst);
	boxb(&udta, "meta", &meta);
	boxb(&moov, "udta", &udta);
	file_with_moov(&file, &moov);

	tu_parsed r;
	tu_parse(ops(), file.ptr, file.size, &r);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.meta.n_carriers, 1);
	assert_string_equal(r.meta.carriers[0].kind, "mp4-ilst");
	assert_string_equal(r.meta.carriers[0].text, label);
	assert_true(aimark_findings_has(r.findings, "mp4-unkeyed-label"));
	tu_parsed_free(&r);

	tu_provider p;
	assert_int_equal(tu_label_mem(ops(), file.ptr, file.size, LABEL, &p, &out, NULL), 0);
	aimark__meta m;
	assert_int_equal(tu_read_mem(ops(), out.ptr, out.size, &m, NULL), 0);
	assert_int_equal(tu_count_kind(&m, "mp4-ilst"), 1);
	assert_int_equal(tu_count_kind(&m, "mp4-keys"), 1);
	for (size_t i = 0; i < m.n_carriers; i++)
		assert_string_equal(m.carriers[i].text, LABEL);
	aimark__meta_dispose(&m);
	assert_true(memmem(out.ptr, out.size, "Lavf", 4) != NULL);
	aimark_buf_dispose(&file);
	aimark_buf_dispose(&out);
}

/* Kling writes JSON null values: the text is carried as is for the label parser. */
static void test_kling_null_values(void **state)
{
	(void)state;
	static const char *const names[] = { "AIGC" };
	const char *label = "{\"Label\":\"1\",\"ContentProducer\":\"001191110108335469089C10100\",\"ProduceID\":\"KLingMuse_1\","
			    "\"ReservedCode1\":null,\"ContentPropagator\":\"001191110108335469089C10100\",\"PropagateID\":\"KLingMuse_1\","
			    "\"ReservedCode2\":null}";
	aimark_buf meta = AIMARK_BUF_INIT, ilst = AIMARK_BUF_INIT, udta = AIMARK_BUF_INIT, moov = AIMARK_BUF_INIT,
		   file = AIMARK_BUF_INIT;
	put32(&meta, 0);
	hdlr(&meta, "mdta");
	keys(&meta, names, 1);
	item(&ilst, 1, label);
	boxb(&meta, "ilst", &ilst);
	boxb(&udta, "meta", &meta);
	boxb(&moov, "udta", &udta);
	file_with_moov(&file, &moov);
	aimark__meta m;
	assert_int_equal(tu_read_mem(ops(), file.ptr, file.size, &m, NULL), 0);
	assert_int_equal(m.n_carriers, 1);
	assert_string_equal(m.carriers[0].text, label);
	aimark__meta_dispose(&m);
	aimark_buf_dispose(&file);
}

/* An mdta meta without a keys box but with items: left alone (a new key would capture item 1). */
static void test_mdta_meta_without_keys(void **state)
{
	(void)state;
	aimark_buf meta = AIMARK_BUF_INIT, ilst = AIMARK_BUF_INIT, udta = AIMARK_BUF_INIT, moov = AIMARK_BUF_INIT,
		   file = AIMARK_BUF_INIT, out = AIMARK_BUF_INIT;
	put32(&meta, 0);
	hdlr(&meta, "mdta");
	item(&ilst, 1, "not a label");
	item(&ilst, 3, "{\"Label\":\"1\",\"ProduceID\":\"old\"}");
	boxb(&meta, "ilst", &ilst);
	boxb(&udta, "meta", &meta);
	boxb(&moov, "udta", &udta);
	file_with_moov(&file, &moov);
	tu_provider p;
	assert_int_equal(tu_label_mem(ops(), file.ptr, file.size, LABEL, &p, &out, NULL), 0);
	aimark__meta m;
	assert_int_equal(tu_read_mem(ops(), out.ptr, out.size, &m, NULL), 0);
	assert_int_equal(tu_count_kind(&m, "mp4-ilst"), 1);
	assert_int_equal(tu_count_kind(&m, "mp4-keys"), 1);
	assert_int_equal(tu_count_kind(&m, "xmp"), 1);
	for (size_t i = 0; i < m.n_carriers; i++)
		assert_string_equal(m.carriers[i].text, LABEL);
	aimark__meta_dispose(&m);
	assert_non_null(memmem(out.ptr, out.size, "not a label", 11));
	aimark_buf_dispose(&file);
	aimark_buf_dispose(&out);
}

/* A meta box that breaks after a good label item gives no carrier at all (it could not be rewritten). */
static void test_partly_broken_meta(void **state)
{
	(void)state;
	static const char *const names[] = { "AIGC" };
	aimark_buf meta = AIMARK_BUF_INIT, ilst = AIMARK_BUF_INIT, udta = AIMARK_BUF_INIT, moov = AIMARK_BUF_INIT,
		   file = AIMARK_BUF_INIT;
	put32(&meta, 0);
	hdlr(&meta, "mdta");
	keys(&meta, names, 1);
	item(&ilst, 1, LABEL);
	put32(&ilst, 5000); /* an item that lies about its size */
	put32(&ilst, 2);
	boxb(&meta, "ilst", &ilst);
	boxb(&udta, "meta", &meta);
	boxb(&moov, "udta", &udta);
	file_with_moov(&file, &moov);
	tu_parsed r;
	tu_parse(ops(), file.ptr, file.size, &r);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.meta.n_carriers, 0);
	assert_true(aimark_findings_has(r.findings, "mp4-meta-unreadable"));
	tu_parsed_free(&r);
	aimark_buf_dispose(&file);
}

/* Bad input: every case is a clear EFORMAT (or ELIMIT), never a crash. */
static void expect_read_error(const unsigned char *d, size_t len, int code, const char *needle)
{
	tu_expect_read_error(ops(), d, len, code, NULL, needle);
}

static void test_truncated_and_lying_sizes(void **state)
{
	(void)state;
	size_t len;
	unsigned char *d = tu_read_file(TU_DATA("mp4/faststart.mp4"), &len);
	size_t moov = find_box(d, 0, len, "moov", NULL);
	/* cut inside the movie box */
	expect_read_error(d, moov + 200, AIMARK_EFORMAT, "MP4:");
	/* cut inside a box header */
	expect_read_error(d, moov + 4, AIMARK_EFORMAT, NULL);
	/* moov claims more than the file holds */
	unsigned char *c = malloc(len);
	memcpy(c, d, len);
	aimark__put_be32(c + moov, (uint32_t)len);
	expect_read_error(c, len, AIMARK_EFORMAT, "'moov'");
	/* a size smaller than the header */
	memcpy(c, d, len);
	aimark__put_be32(c + moov, 4);
	expect_read_error(c, len, AIMARK_EFORMAT, "less than its");
	/* stco lists more entries than it holds */
	memcpy(c, d, len);
	size_t st = find_box(c, 0, len, "moov/trak/mdia/minf/stbl/stco", NULL);
	aimark__put_be32(c + st + 12, 0x10000000);
	expect_read_error(c, len, AIMARK_EFORMAT, "'stco'");
	/* a 64-bit size that lies */
	memcpy(c, d, len);
	size_t mdat = find_box(c, 0, len, "mdat", NULL);
	aimark_buf big = AIMARK_BUF_INIT;
	assert_int_equal(aimark__buf_append(&big, c, mdat), 0);
	unsigned char h[16] = { 0, 0, 0, 1, 'm', 'd', 'a', 't' };
	aimark__put_be32(h + 8, 1);
	assert_int_equal(aimark__buf_append(&big, h, 16), 0);
	expect_read_error(big.ptr, big.size, AIMARK_EFORMAT, "'mdat'");
	/* no moov at all */
	expect_read_error(d, moov, AIMARK_EFORMAT, "no 'moov'");
	/* garbage */
	expect_read_error((const unsigned char *)"not an mp4 file", 15, AIMARK_EFORMAT, NULL);
	aimark_buf_dispose(&big);
	free(c);
	free(d);
}

static void test_second_moov(void **state)
{
	(void)state;
	aimark_buf moov = AIMARK_BUF_INIT, file = AIMARK_BUF_INIT, m2 = AIMARK_BUF_INIT;
	box(&moov, "free", "", 0);
	file_with_moov(&file, &moov);
	box(&m2, "free", "", 0);
	boxb(&file, "moov", &m2);
	expect_read_error(file.ptr, file.size, AIMARK_EFORMAT, "second 'moov'");
	aimark_buf_dispose(&file);
}

static void test_nesting_bomb(void **state)
{
	(void)state;
	aimark_buf inner = AIMARK_BUF_INIT, file = AIMARK_BUF_INIT;
	box(&inner, "free", "", 0);
	for (int i = 0; i < 200; i++) {
		aimark_buf outer = AIMARK_BUF_INIT;
		boxb(&outer, i % 2 ? "trak" : "udta", &inner);
		inner = outer;
	}
	file_with_moov(&file, &inner);
	expect_read_error(file.ptr, file.size, AIMARK_EFORMAT, "deeper than");
	aimark_buf_dispose(&file);
}

/* A malformed meta box is reported and skipped, not fatal. */
static void test_bad_meta_is_a_finding(void **state)
{
	(void)state;
	aimark_buf meta = AIMARK_BUF_INIT, udta = AIMARK_BUF_INIT, moov = AIMARK_BUF_INIT, file = AIMARK_BUF_INIT;
	put32(&meta, 0);
	hdlr(&meta, "mdta");
	put32(&meta, 16); /* keys box claiming 100000 entries in 8 bytes */
	assert_int_equal(aimark__buf_append(&meta, "keys", 4), 0);
	put32(&meta, 0);
	put32(&meta, 100000);
	boxb(&udta, "meta", &meta);
	boxb(&moov, "udta", &udta);
	file_with_moov(&file, &moov);
	aimark_findings *f = NULL;
	assert_int_equal(aimark_findings_new(&f), 0);
	aimark__meta m;
	assert_int_equal(tu_read_mem(ops(), file.ptr, file.size, &m, f), 0);
	assert_true(aimark_findings_has(f, "mp4-meta-unreadable"));
	aimark__meta_dispose(&m);
	/* the broken meta is copied, a new one is made */
	aimark_buf out = AIMARK_BUF_INIT;
	tu_provider p;
	assert_int_equal(tu_label_mem(ops(), file.ptr, file.size, LABEL, &p, &out, NULL), 0);
	assert_int_equal(tu_read_mem(ops(), out.ptr, out.size, &m, NULL), 0);
	assert_int_equal(tu_count_kind(&m, "mp4-keys"), 1);
	aimark__meta_dispose(&m);
	aimark_findings_free(f);
	aimark_buf_dispose(&file);
	aimark_buf_dispose(&out);
}

/* A last mdat with size 0 runs to the end of the file; it stays that way. */
static void test_size_zero_mdat(void **state)
{
	(void)state;
	size_t len;
	unsigned char *d = tu_read_file(TU_DATA("mp4/faststart.mp4"), &len);
	size_t mdat = find_box(d, 0, len, "mdat", NULL);
	aimark__put_be32(d + mdat, 0);
	aimark__meta meta;
	assert_int_equal(tu_read_mem(ops(), d, len, &meta, NULL), 0);
	assert_int_equal(meta.essence[meta.n_essence - 1].offset + meta.essence[meta.n_essence - 1].length, len);
	aimark__meta_dispose(&meta);
	aimark_buf out = AIMARK_BUF_INIT;
	tu_provider p;
	assert_int_equal(tu_label_mem(ops(), d, len, LABEL, &p, &out, NULL), 0);
	size_t m1 = find_box(out.ptr, 0, out.size, "mdat", NULL);
	assert_int_equal(aimark__be32(out.ptr + m1), 0);
	assert_labelled(out.ptr, out.size, LABEL, 2);
	if (tu_have_ffmpeg()) {
		char *dir = tu_tempdir();
		tu_write_file(tu_path("%s/in.mp4", dir), d, len);
		check_with_ffmpeg(tu_path("%s/in.mp4", dir), out.ptr, out.size, LABEL, "mp4");
		tu_rmtree(dir);
		free(dir);
	}
	aimark_buf_dispose(&out);
	free(d);
}

/* A 64-bit mdat size is read; a 5 GiB file (virtual) with moov at the end is found. */
static void test_large_virtual_file_read(void **state)
{
	(void)state;
	const uint64_t total = UINT64_C(5) << 30;
	aimark_buf head = AIMARK_BUF_INIT, tail = AIMARK_BUF_INIT, moov = AIMARK_BUF_INIT, meta = AIMARK_BUF_INIT,
		   ilst = AIMARK_BUF_INIT, udta = AIMARK_BUF_INIT;
	static const unsigned char ftyp[] = { 'i', 's', 'o', 'm', 0, 0, 2, 0, 'i', 's', 'o', 'm' };
	box(&head, "ftyp", ftyp, sizeof ftyp);
	static const char *const names[] = { "AIGC" };
	put32(&meta, 0);
	hdlr(&meta, "mdta");
	keys(&meta, names, 1);
	item(&ilst, 1, LABEL);
	boxb(&meta, "ilst", &ilst);
	boxb(&udta, "meta", &meta);
	boxb(&moov, "udta", &udta);
	boxb(&tail, "moov", &moov);
	uint64_t mdat_off = head.size, moov_off = total - tail.size, mdat_size = moov_off - mdat_off;
	unsigned char h[16] = { 0, 0, 0, 1, 'm', 'd', 'a', 't' };
	aimark__put_be32(h + 8, (uint32_t)(mdat_size >> 32));
	aimark__put_be32(h + 12, (uint32_t)mdat_size);
	assert_int_equal(aimark__buf_append(&head, h, 16), 0);
	vsrc v = { head.ptr, head.size, moov_off, tail.ptr, tail.size, 0 };
	aimark_source_callbacks cb = { AIMARK_SOURCE_CALLBACKS_VERSION, vsrc_read, total, &v, NULL };
	aimark_source *src = NULL;
	assert_int_equal(aimark_source_new_callbacks(&src, &cb), 0);
	aimark__meta m;
	aimark__meta_init(&m, NULL);
	assert_int_equal(ops()->read(src, &m), 0);
	assert_int_equal(m.n_carriers, 1);
	assert_int_equal(m.carriers[0].offset > UINT32_MAX, 1);
	assert_int_equal(m.n_essence, 1);
	assert_int_equal(m.essence[0].offset, mdat_off + 16);
	assert_int_equal(m.essence[0].length, mdat_size - 16);
	aimark__meta_dispose(&m);
	aimark_source_free(src);
	aimark_buf_dispose(&head);
	aimark_buf_dispose(&tail);
}

/*
 * moov first with a chunk offset near 4 GiB: the growth pushes it past 32
 * bits, so stco becomes co64. The virtual source fails past the first MiB so
 * the 5 GiB copy stops early; the movie box is already in the output.
 */
static void test_stco_upgraded_to_co64(void **state)
{
	(void)state;
	const uint64_t total = UINT64_C(5) << 30;
	aimark_buf head = AIMARK_BUF_INIT, stco = AIMARK_BUF_INIT, stbl = AIMARK_BUF_INIT, minf = AIMARK_BUF_INIT,
		   mdia = AIMARK_BUF_INIT, trak = AIMARK_BUF_INIT, moov = AIMARK_BUF_INIT;
	static const unsigned char ftyp[] = { 'i', 's', 'o', 'm', 0, 0, 2, 0, 'i', 's', 'o', 'm' };
	box(&head, "ftyp", ftyp, sizeof ftyp);
	put32(&stco, 0);
	put32(&stco, 2);
	put32(&stco, 0x1000);
	put32(&stco, 0xFFFFFF00u);
	boxb(&stbl, "stco", &stco);
	boxb(&minf, "stbl", &stbl);
	boxb(&mdia, "minf", &minf);
	boxb(&trak, "mdia", &mdia);
	boxb(&moov, "trak", &trak);
	boxb(&head, "moov", &moov);
	uint64_t mdat_off = head.size, mdat_size = total - mdat_off;
	unsigned char h[16] = { 0, 0, 0, 1, 'm', 'd', 'a', 't' };
	aimark__put_be32(h + 8, (uint32_t)(mdat_size >> 32));
	aimark__put_be32(h + 12, (uint32_t)mdat_size);
	assert_int_equal(aimark__buf_append(&head, h, 16), 0);
	vsrc v = { head.ptr, head.size, 0, NULL, 0, 1u << 20 };
	aimark_source_callbacks cb = { AIMARK_SOURCE_CALLBACKS_VERSION, vsrc_read, total, &v, NULL };
	aimark_source *src = NULL;
	aimark_sink *sink = NULL;
	aimark_buf out = AIMARK_BUF_INIT;
	assert_int_equal(aimark_source_new_callbacks(&src, &cb), 0);
	assert_int_equal(aimark_sink_new_buffer(&sink, &out), 0);
	aimark__meta m;
	aimark__meta_init(&m, NULL);
	assert_int_equal(ops()->read(src, &m), 0);
	tu_provider p;
	tu_provider_init(&p, LABEL);
	aimark__label_provider lp = tu_provider_streaming(&p);
	assert_int_equal(ops()->write(src, &m, &lp, sink), AIMARK_EIO);
	assert_int_equal(p.fed, 0);
	size_t co = find_box(out.ptr, 0, out.size, "moov/trak/mdia/minf/stbl/co64", NULL);
	assert_true(co != SIZE_MAX);
	assert_true(find_box(out.ptr, 0, out.size, "moov/trak/mdia/minf/stbl/stco", NULL) == SIZE_MAX);
	assert_int_equal(aimark__be32(out.ptr + co + 12), 2);
	uint64_t e0 = aimark__be64(out.ptr + co + 16), e1 = aimark__be64(out.ptr + co + 24);
	uint64_t shift = e0 - 0x1000;
	assert_true(shift > 0x100);
	assert_int_equal(e1, UINT64_C(0xFFFFFF00) + shift);
	assert_true(e1 > UINT32_MAX);
	/* the mdat header landed exactly `shift` bytes later */
	assert_true(out.size > mdat_off + shift + 16);
	assert_memory_equal(out.ptr + mdat_off + shift, h, 16);
	aimark__meta_dispose(&m);
	aimark_sink_free(sink);
	aimark_source_free(src);
	aimark_buf_dispose(&out);
	aimark_buf_dispose(&head);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe),
		cmocka_unit_test(test_read_plain),
		cmocka_unit_test(test_read_ffmpeg_label),
		cmocka_unit_test(test_read_exiftool_keys),
		cmocka_unit_test(test_label_moov_last_streams),
		cmocka_unit_test(test_label_faststart_moves_offsets),
		cmocka_unit_test(test_reserved_free_space),
		cmocka_unit_test(test_label_callbacks_source),
		cmocka_unit_test(test_label_fragmented),
		cmocka_unit_test(test_merge_ffmpeg_keys),
		cmocka_unit_test(test_relabel),
		cmocka_unit_test(test_quicktime_xmp_in_udta),
		cmocka_unit_test(test_label_m4a_and_exiftool_file),
		cmocka_unit_test(test_duplicate_keys_renumbered),
		cmocka_unit_test(test_doubao_variant1),
		cmocka_unit_test(test_doubao_variant2),
		cmocka_unit_test(test_kling_null_values),
		cmocka_unit_test(test_mdta_meta_without_keys),
		cmocka_unit_test(test_partly_broken_meta),
		cmocka_unit_test(test_truncated_and_lying_sizes),
		cmocka_unit_test(test_second_moov),
		cmocka_unit_test(test_nesting_bomb),
		cmocka_unit_test(test_bad_meta_is_a_finding),
		cmocka_unit_test(test_size_zero_mdat),
		cmocka_unit_test(test_large_virtual_file_read),
		cmocka_unit_test(test_stco_upgraded_to_co64),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

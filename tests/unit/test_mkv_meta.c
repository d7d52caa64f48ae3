/* Matroska / WebM backend: read, write in place or appended, SeekHead, CRC-32, hostile input. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "format/ebml.h"
#include "format/format.h"
#include "testutil.h"

#define LABEL TU_LABEL_BARE("test-0001")
#define FF_LABEL TU_LABEL_BARE_BY("ffmpeg-test", "ff-0002")

/* ---------------------------------------------------------------- helpers */

static const aimark__format_ops *ops(void)
{
	const aimark__format_ops *o = aimark__format_find("mkv");
	assert_non_null(o);
	return o;
}

static int label_mem(const void *data, size_t len, const char *json, aimark_buf *out, aimark_findings *f)
{
	tu_provider p;
	return tu_label_mem(ops(), data, len, json, &p, out, f);
}

static void assert_labelled(const unsigned char *d, size_t len, const char *json)
{
	aimark__meta meta;
	assert_int_equal(tu_read_mem(ops(), d, len, &meta, NULL), 0);
	assert_int_equal(meta.n_carriers, 1);
	assert_string_equal(meta.carriers[0].kind, "mkv-simpletag");
	assert_string_equal(meta.carriers[0].text, json);
	aimark__meta_dispose(&meta);
}

/* Walks the Segment's children; checks every CRC-32; returns the offset of the first element `id` (or 0). */
static uint64_t segment_child(const unsigned char *d, size_t len, uint32_t id, uint64_t *nth_rel, int *crc_checked)
{
	aimark__ebml_elem h, seg;
	assert_int_equal(aimark__ebml_parse_mem(d, len, 0, 0, &h), 0);
	assert_int_equal(aimark__ebml_parse_mem(d, len, (size_t)(h.data + h.size), 0, &seg), 0);
	assert_int_equal(seg.id, AIMARK__MKV_ID_SEGMENT);
	uint64_t found = 0, end = seg.data + seg.size;
	for (uint64_t pos = seg.data; pos < end;) {
		aimark__ebml_elem el;
		assert_int_equal(aimark__ebml_parse_mem(d, (size_t)end, (size_t)pos, 0, &el), 0);
		if (el.size >= 6 && d[el.data] == 0xBF && d[el.data + 1] == 0x84) {
			uint32_t stored = aimark__le32(d + el.data + 2);
			assert_int_equal(stored, aimark__ebml_crc32(d + el.data + 6, (size_t)el.size - 6));
			if (crc_checked)
				(*crc_checked)++;
		}
		if (el.id == id && found == 0) {
			found = el.offset;
			if (nth_rel)
				*nth_rel = el.offset - seg.data;
		}
		if (el.unknown && el.id == AIMARK__MKV_ID_CLUSTER)
			break;
		pos = el.data + el.size;
	}
	return found;
}

/* The SeekHead's position for Tags (relative to the Segment data). */
static uint64_t seek_tags(const unsigned char *d, size_t len)
{
	uint64_t sh = segment_child(d, len, AIMARK__MKV_ID_SEEKHEAD, NULL, NULL);
	aimark__ebml_elem s;
	assert_int_equal(aimark__ebml_parse_mem(d, len, (size_t)sh, 0, &s), 0);
	const unsigned char *id = memmem(d + s.data, (size_t)s.size, "\x53\xAB\x84\x12\x54\xC3\x67", 7);
	assert_non_null(id);
	aimark__ebml_elem pe;
	assert_int_equal(aimark__ebml_parse_mem(d, len, (size_t)(id - d) + 7, 0, &pe), 0);
	assert_int_equal(pe.id, AIMARK__MKV_ID_SEEKPOSITION);
	uint64_t v;
	assert_int_equal(aimark__ebml_get_uint(d + pe.data, (size_t)pe.size, &v), 0);
	return v;
}

/* ffprobe shows the tag (when `json`), streams hash as the original, decoding is clean; returns ffprobe's tags. */
static void check_with_ffmpeg(const char *orig, const unsigned char *data, size_t len, const char *json, const char *must_have)
{
	static const tu_media mkv = { "mkv", "format", "0" };
	tu_ffmpeg_check(&mkv, orig, data, len, json, json ? strlen(json) : 0, must_have);
}

/* ---- element building ---- */

static void el(aimark_buf *out, uint32_t id, const void *data, size_t len)
{
	assert_int_equal(aimark__ebml_put_element(out, id, data, len), 0);
}

static void elb(aimark_buf *out, uint32_t id, aimark_buf *inner)
{
	el(out, id, inner->ptr, inner->size);
	aimark_buf_dispose(inner);
}

static void simpletag(aimark_buf *out, const char *name, const char *value)
{
	aimark_buf st = AIMARK_BUF_INIT;
	el(&st, AIMARK__MKV_ID_TAGNAME, name, strlen(name));
	el(&st, AIMARK__MKV_ID_TAGSTRING, value, strlen(value));
	elb(out, AIMARK__MKV_ID_SIMPLETAG, &st);
}

static void ebml_header(aimark_buf *out, const char *doctype)
{
	aimark_buf h = AIMARK_BUF_INIT;
	el(&h, AIMARK__EBML_ID_DOCTYPE, doctype, strlen(doctype));
	elb(out, AIMARK__EBML_ID_HEADER, &h);
}

/* EBML header + Segment{children} */
static void file_with_segment(aimark_buf *out, aimark_buf *children)
{
	ebml_header(out, "matroska");
	elb(out, AIMARK__MKV_ID_SEGMENT, children);
}

/* ------------------------------------------------------------------ tests */

static void test_probe(void **state)
{
	(void)state;
	size_t len;
	unsigned char *d = tu_read_file(TU_DATA("mkv/plain.webm"), &len);
	assert_true(ops()->probe(d, 64));
	assert_true(ops()->probe(d, 4));
	static const unsigned char not_ebml[8] = { 0x1A, 0x45, 0xDF, 0xA4 };
	assert_false(ops()->probe(not_ebml, sizeof not_ebml));
	free(d);
	d = tu_read_file(TU_DATA("mkv/plain.mkv"), &len);
	assert_true(ops()->probe(d, 64));
	free(d);
	assert_string_equal(aimark_format_from_extension("a.webm"), "mkv");
	assert_string_equal(aimark_format_from_extension("a.MKA"), "mkv");
}

static void test_read_plain(void **state)
{
	(void)state;
	size_t len;
	unsigned char *d = tu_read_file(TU_DATA("mkv/plain.mkv"), &len);
	aimark__meta meta;
	assert_int_equal(tu_read_mem(ops(), d, len, &meta, NULL), 0);
	assert_int_equal(meta.n_carriers, 0);
	uint64_t cl = segment_child(d, len, AIMARK__MKV_ID_CLUSTER, NULL, NULL);
	assert_int_equal(meta.n_essence, 1);
	assert_int_equal(meta.essence[0].offset, cl);
	aimark__ebml_elem c;
	assert_int_equal(aimark__ebml_parse_mem(d, len, (size_t)cl, 0, &c), 0);
	assert_int_equal(meta.essence[0].length, aimark__ebml_total(&c));
	aimark__meta_dispose(&meta);
	free(d);
}

static void test_read_ffmpeg_label(void **state)
{
	(void)state;
	size_t len;
	unsigned char *d = tu_read_file(TU_DATA("mkv/ff_aigc.mkv"), &len);
	aimark_findings *f = NULL;
	assert_int_equal(aimark_findings_new(&f), 0);
	aimark__meta meta;
	assert_int_equal(tu_read_mem(ops(), d, len, &meta, f), 0);
	assert_int_equal(meta.n_carriers, 1);
	assert_string_equal(meta.carriers[0].text, FF_LABEL);
	assert_int_equal(aimark_findings_count_at_least(f, AIMARK_SEVERITY_WARNING), 0);
	aimark__meta_dispose(&meta);
	aimark_findings_free(f);
	free(d);
}

/* ffmpeg's Tags sit before the clusters with no room: voided, appended, SeekHead updated. */
static void test_label_appends_and_updates_seekhead(void **state)
{
	(void)state;
	const char *files[] = { "mkv/plain.mkv", "mkv/plain.webm", "mkv/ff_aigc.mkv" };
	for (size_t i = 0; i < 3; i++) {
		char path[512];
		size_t len;
		snprintf(path, sizeof path, "%s/%s", AIMARK_TEST_DATA, files[i]);
		unsigned char *d = tu_read_file(path, &len);
		aimark_buf out = AIMARK_BUF_INIT;
		assert_int_equal(label_mem(d, len, LABEL, &out, NULL), 0);
		assert_labelled(out.ptr, out.size, LABEL);
		tu_assert_same_essence(ops(), d, len, out.ptr, out.size, 1);
		/* the clusters did not move */
		assert_int_equal(segment_child(out.ptr, out.size, AIMARK__MKV_ID_CLUSTER, NULL, NULL),
				 segment_child(d, len, AIMARK__MKV_ID_CLUSTER, NULL, NULL));
		uint64_t rel = 0;
		int crcs = 0;
		uint64_t tags = segment_child(out.ptr, out.size, AIMARK__MKV_ID_TAGS, &rel, &crcs);
		assert_true(tags > segment_child(out.ptr, out.size, AIMARK__MKV_ID_CLUSTER, NULL, NULL));
		assert_int_equal(seek_tags(out.ptr, out.size), rel);
		if (i != 1)
			assert_true(crcs >= 4); /* SeekHead, Info, Tracks, Tags (+Cues) all verified */
		check_with_ffmpeg(path, out.ptr, out.size, LABEL, "ENCODER=Lavf");
		aimark_buf_dispose(&out);
		free(d);
	}
}

/* Relabelling: same length in place, shorter in place with a Void, longer appended again. */
static void test_relabel_in_place(void **state)
{
	(void)state;
	size_t len;
	unsigned char *d = tu_read_file(TU_DATA("mkv/plain.mkv"), &len);
	aimark_buf a = AIMARK_BUF_INIT, b = AIMARK_BUF_INIT, c = AIMARK_BUF_INIT, e = AIMARK_BUF_INIT;
	assert_int_equal(label_mem(d, len, LABEL, &a, NULL), 0);
	assert_int_equal(label_mem(a.ptr, a.size, LABEL, &b, NULL), 0);
	assert_int_equal(a.size, b.size);
	assert_memory_equal(a.ptr, b.ptr, a.size);
	assert_int_equal(label_mem(b.ptr, b.size, "{\"Label\":\"2\"}", &c, NULL), 0);
	assert_int_equal(c.size, b.size);
	assert_labelled(c.ptr, c.size, "{\"Label\":\"2\"}");
	char longer[2048];
	snprintf(longer, sizeof longer, "{\"Label\":\"3\",\"ContentProducer\":\"%0900d\"}", 7);
	assert_int_equal(label_mem(c.ptr, c.size, longer, &e, NULL), 0);
	assert_true(e.size > c.size);
	assert_labelled(e.ptr, e.size, longer);
	tu_assert_same_essence(ops(), d, len, e.ptr, e.size, 1);
	uint64_t rel = 0;
	segment_child(e.ptr, e.size, AIMARK__MKV_ID_TAGS, &rel, NULL);
	assert_int_equal(seek_tags(e.ptr, e.size), rel);
	check_with_ffmpeg(TU_DATA("mkv/plain.mkv"), e.ptr, e.size, longer, "ENCODER=Lavf");
	aimark_buf_dispose(&a);
	aimark_buf_dispose(&b);
	aimark_buf_dispose(&c);
	aimark_buf_dispose(&e);
	free(d);
}

/* A Tags element followed by a Void: written in place, nothing else changes size. */
static void test_in_place_with_void_room(void **state)
{
	(void)state;
	aimark_buf seg = AIMARK_BUF_INIT, tags = AIMARK_BUF_INIT, tag = AIMARK_BUF_INIT, file = AIMARK_BUF_INIT,
		   out = AIMARK_BUF_INIT;
	el(&tag, AIMARK__MKV_ID_TARGETS, NULL, 0);
	simpletag(&tag, "ENCODER", "test");
	elb(&tags, AIMARK__MKV_ID_TAG, &tag);
	elb(&seg, AIMARK__MKV_ID_TAGS, &tags);
	static unsigned char zeros[600];
	el(&seg, AIMARK__EBML_ID_VOID, zeros, sizeof zeros);
	el(&seg, AIMARK__MKV_ID_CLUSTER, "\xE7\x81\x00", 3);
	file_with_segment(&file, &seg);
	aimark_findings *f = NULL;
	assert_int_equal(aimark_findings_new(&f), 0);
	assert_int_equal(label_mem(file.ptr, file.size, LABEL, &out, f), 0);
	assert_int_equal(out.size, file.size);
	assert_false(aimark_findings_has(f, "mkv-no-seekhead")); /* nothing was appended */
	assert_labelled(out.ptr, out.size, LABEL);
	assert_non_null(memmem(out.ptr, out.size, "ENCODER", 7));
	tu_assert_same_essence(ops(), file.ptr, file.size, out.ptr, out.size, 1);
	/* the label went into the existing whole-file Tag: one Tag only */
	uint64_t t = segment_child(out.ptr, out.size, AIMARK__MKV_ID_TAGS, NULL, NULL);
	aimark__ebml_elem te, tg;
	assert_int_equal(aimark__ebml_parse_mem(out.ptr, out.size, (size_t)t, 0, &te), 0);
	assert_int_equal(aimark__ebml_parse_mem(out.ptr, out.size, (size_t)te.data, 0, &tg), 0);
	assert_int_equal(tg.id, AIMARK__MKV_ID_TAG);
	assert_int_equal(tg.data + tg.size, te.data + te.size);
	aimark_findings_free(f);
	aimark_buf_dispose(&file);
	aimark_buf_dispose(&out);
}

/* No Tags, no SeekHead: appended, with a finding. A second Tags holding AIGC is voided. */
static void test_no_tags_and_second_tags(void **state)
{
	(void)state;
	aimark_buf seg = AIMARK_BUF_INIT, file = AIMARK_BUF_INIT, out = AIMARK_BUF_INIT;
	el(&seg, AIMARK__MKV_ID_CLUSTER, "\xE7\x81\x00", 3);
	file_with_segment(&file, &seg);
	aimark_findings *f = NULL;
	assert_int_equal(aimark_findings_new(&f), 0);
	assert_int_equal(label_mem(file.ptr, file.size, LABEL, &out, f), 0);
	assert_true(aimark_findings_has(f, "mkv-no-seekhead"));
	assert_labelled(out.ptr, out.size, LABEL);
	aimark_findings_free(f);
	aimark_buf_dispose(&file);
	aimark_buf_dispose(&out);

	/* two Tags elements, the second (with a CRC-32) holding another label */
	aimark_buf t1 = AIMARK_BUF_INIT, t2 = AIMARK_BUF_INIT, tag = AIMARK_BUF_INIT, content = AIMARK_BUF_INIT;
	el(&tag, AIMARK__MKV_ID_TARGETS, NULL, 0);
	simpletag(&tag, "TITLE", "x");
	elb(&t1, AIMARK__MKV_ID_TAG, &tag);
	elb(&seg, AIMARK__MKV_ID_TAGS, &t1);
	el(&seg, AIMARK__MKV_ID_CLUSTER, "\xE7\x81\x00", 3);
	el(&tag, AIMARK__MKV_ID_TARGETS, NULL, 0);
	simpletag(&tag, "aigc", "{\"Label\":\"1\",\"ProduceID\":\"old\"}");
	simpletag(&tag, "COMMENT", "kept");
	elb(&content, AIMARK__MKV_ID_TAG, &tag);
	unsigned char crc[6] = { 0xBF, 0x84 };
	aimark__put_le32(crc + 2, aimark__ebml_crc32(content.ptr, content.size));
	assert_int_equal(aimark__buf_append(&t2, crc, 6), 0);
	assert_int_equal(aimark__buf_append(&t2, content.ptr, content.size), 0);
	aimark_buf_dispose(&content);
	elb(&seg, AIMARK__MKV_ID_TAGS, &t2);
	file_with_segment(&file, &seg);
	assert_int_equal(aimark_findings_new(&f), 0);
	aimark__meta m;
	assert_int_equal(tu_read_mem(ops(), file.ptr, file.size, &m, f), 0);
	assert_int_equal(m.n_carriers, 1);
	assert_true(aimark_findings_has(f, "mkv-tag-name"));
	aimark__meta_dispose(&m);
	aimark_findings_free(f);
	assert_int_equal(label_mem(file.ptr, file.size, LABEL, &out, NULL), 0);
	assert_labelled(out.ptr, out.size, LABEL);
	assert_null(memmem(out.ptr, out.size, "\"old\"", 5));
	assert_non_null(memmem(out.ptr, out.size, "kept", 4));
	/* the first Tags became a Void (no room), so the first Tags ID now is the second Tags, same size, right CRC-32 */
	const unsigned char *p = memmem(out.ptr, out.size, "\x12\x54\xC3\x67", 4);
	assert_non_null(p);
	const unsigned char *q = memmem(file.ptr, file.size, "\x12\x54\xC3\x67", 4);
	q = memmem(q + 4, file.size - (size_t)(q + 4 - file.ptr), "\x12\x54\xC3\x67", 4);
	/* (the Segment's 1-byte size field became 8 bytes wide, moving everything by 7) */
	uint64_t moved = segment_child(out.ptr, out.size, AIMARK__MKV_ID_CLUSTER, NULL, NULL) -
			 segment_child(file.ptr, file.size, AIMARK__MKV_ID_CLUSTER, NULL, NULL);
	assert_int_equal(moved, 7);
	assert_int_equal(p - out.ptr, q - file.ptr + 7);
	aimark__ebml_elem t2e;
	assert_int_equal(aimark__ebml_parse_mem(out.ptr, out.size, (size_t)(p - out.ptr), 0, &t2e), 0);
	assert_int_equal(out.ptr[t2e.data], 0xBF);
	assert_int_equal(aimark__le32(out.ptr + t2e.data + 2), aimark__ebml_crc32(out.ptr + t2e.data + 6, (size_t)t2e.size - 6));
	aimark_buf_dispose(&file);
	aimark_buf_dispose(&out);
}

/* Unknown-size Segment (ffmpeg to a pipe) and an unknown-size Cluster. */
static void test_unknown_sizes(void **state)
{
	(void)state;
	size_t len;
	unsigned char *d = tu_read_file(TU_DATA("mkv/live.mkv"), &len);
	aimark__meta meta;
	assert_int_equal(tu_read_mem(ops(), d, len, &meta, NULL), 0);
	assert_int_equal(meta.n_carriers, 1);
	aimark__meta_dispose(&meta);
	/* make the Cluster's size unknown too (its 2-byte size field all ones) */
	uint64_t cl = segment_child(d, len, AIMARK__MKV_ID_CLUSTER, NULL, NULL);
	assert_int_equal(d[cl + 4] & 0xC0, 0x40);
	d[cl + 4] = 0x7F;
	d[cl + 5] = 0xFF;
	assert_int_equal(tu_read_mem(ops(), d, len, &meta, NULL), 0);
	assert_int_equal(meta.n_essence, 1);
	assert_int_equal(meta.essence[0].offset + meta.essence[0].length, len);
	aimark__meta_dispose(&meta);
	aimark_buf out = AIMARK_BUF_INIT;
	assert_int_equal(label_mem(d, len, LABEL, &out, NULL), 0);
	assert_labelled(out.ptr, out.size, LABEL);
	tu_assert_same_essence(ops(), d, len, out.ptr, out.size, 1);
	assert_memory_equal(out.ptr + 40, d + 40, 12); /* the Segment size stays unknown */
	if (tu_have_ffmpeg()) {
		char *dir = tu_tempdir();
		tu_write_file(tu_path("%s/in.mkv", dir), d, len);
		check_with_ffmpeg(tu_path("%s/in.mkv", dir), out.ptr, out.size, NULL, NULL);
		tu_rmtree(dir);
		free(dir);
	}
	aimark_buf_dispose(&out);
	free(d);
}

/* A Tags element that ends an unknown-size Cluster stays a Tags element; the label is appended. */
static void test_tags_ending_unknown_cluster(void **state)
{
	(void)state;
	aimark_buf seg = AIMARK_BUF_INIT, tags = AIMARK_BUF_INIT, tag = AIMARK_BUF_INIT, file = AIMARK_BUF_INIT,
		   out = AIMARK_BUF_INIT;
	static unsigned char room[64];
	el(&seg, AIMARK__MKV_ID_SEEKHEAD, NULL, 0); /* a SeekHead with no Tags entry, and room after it */
	el(&seg, AIMARK__EBML_ID_VOID, room, sizeof room);
	assert_int_equal(aimark__buf_append(&seg, "\x1F\x43\xB6\x75\xFF", 5), 0); /* Cluster, unknown size */
	el(&seg, 0xE7, "\x00", 1);
	el(&seg, 0xA3, "\x81\x00\x00\x80" "frame", 9);
	el(&tag, AIMARK__MKV_ID_TARGETS, NULL, 0);
	simpletag(&tag, "TITLE", "kept");
	simpletag(&tag, "AIGC", "{\"Label\":\"1\",\"ProduceID\":\"old\"}");
	elb(&tags, AIMARK__MKV_ID_TAG, &tag);
	size_t tags_at = seg.size;
	elb(&seg, AIMARK__MKV_ID_TAGS, &tags);
	file_with_segment(&file, &seg);
	aimark__meta m;
	assert_int_equal(tu_read_mem(ops(), file.ptr, file.size, &m, NULL), 0);
	assert_int_equal(m.n_carriers, 1);
	aimark__meta_dispose(&m);
	assert_int_equal(label_mem(file.ptr, file.size, LABEL, &out, NULL), 0);
	assert_labelled(out.ptr, out.size, LABEL);
	tu_assert_same_essence(ops(), file.ptr, file.size, out.ptr, out.size, 1);
	assert_null(memmem(out.ptr, out.size, "\"old\"", 5));
	assert_non_null(memmem(out.ptr, out.size, "kept", 4));
	/* the old Tags is still a Tags element where it was (after a possibly wider Segment size) */
	aimark__ebml_elem h, sg_in, sg_out, old_tags;
	assert_int_equal(aimark__ebml_parse_mem(file.ptr, file.size, 0, 0, &h), 0);
	assert_int_equal(aimark__ebml_parse_mem(file.ptr, file.size, (size_t)(h.data + h.size), 0, &sg_in), 0);
	assert_int_equal(aimark__ebml_parse_mem(out.ptr, out.size, (size_t)(h.data + h.size), 0, &sg_out), 0);
	size_t old_at = (size_t)sg_out.data + tags_at;
	assert_int_equal(aimark__ebml_parse_mem(out.ptr, out.size, old_at, 0, &old_tags), 0);
	assert_int_equal(old_tags.id, AIMARK__MKV_ID_TAGS);
	/* the appended Tags follows it, and the SeekHead lists it */
	uint64_t appended = old_tags.data + old_tags.size;
	assert_memory_equal(out.ptr + appended, "\x12\x54\xC3\x67", 4);
	assert_int_equal(seek_tags(out.ptr, out.size), appended - sg_out.data);
	aimark_buf_dispose(&file);
	aimark_buf_dispose(&out);
}

static void expect_read_error(const unsigned char *d, size_t len, int code, const char *needle)
{
	tu_expect_read_error(ops(), d, len, code, NULL, needle);
}

static void test_bad_input(void **state)
{
	(void)state;
	size_t len;
	unsigned char *d = tu_read_file(TU_DATA("mkv/plain.mkv"), &len);
	unsigned char *c = malloc(len);
	/* truncated: the Segment declares more than the file holds */
	expect_read_error(d, len / 2, AIMARK_EFORMAT, "Matroska:");
	expect_read_error(d, 30, AIMARK_EFORMAT, "Matroska:");
	/* a child that passes the end of the Segment */
	memcpy(c, d, len);
	uint64_t tr = segment_child(d, len, AIMARK__MKV_ID_TRACKS, NULL, NULL);
	c[tr + 4] = 0x10; /* 4-byte size field: 0x10xxxxxx, about 268 MB... */
	c[tr + 5] = 0xFF;
	expect_read_error(c, len, AIMARK_EFORMAT, "declares");
	/* an invalid ID byte */
	memcpy(c, d, len);
	c[tr] = 0x00;
	expect_read_error(c, len, AIMARK_EFORMAT, "invalid element ID");
	/* an unknown size on a Tags element */
	memcpy(c, d, len);
	uint64_t tg = segment_child(d, len, AIMARK__MKV_ID_TAGS, NULL, NULL);
	assert_int_equal(c[tg + 4] & 0xC0, 0x40);
	c[tg + 4] = 0x7F;
	c[tg + 5] = 0xFF;
	expect_read_error(c, len, AIMARK_EFORMAT, "unknown size");
	/* not Matroska */
	aimark_buf f = AIMARK_BUF_INIT, seg = AIMARK_BUF_INIT;
	ebml_header(&f, "notmkv");
	elb(&f, AIMARK__MKV_ID_SEGMENT, &seg);
	expect_read_error(f.ptr, f.size, AIMARK_EUNSUPPORTED, "DocType");
	aimark_buf_dispose(&f);
	/* no Segment */
	ebml_header(&f, "webm");
	expect_read_error(f.ptr, f.size, AIMARK_EFORMAT, "no Segment");
	aimark_buf_dispose(&f);
	expect_read_error((const unsigned char *)"\x1A\x45\xDF\xA3", 4, AIMARK_EFORMAT, NULL);
	free(c);
	free(d);
}

/* Deeply nested SimpleTags are refused, not recursed into without end. */
static void test_nesting_bomb(void **state)
{
	(void)state;
	aimark_buf inner = AIMARK_BUF_INIT, tags = AIMARK_BUF_INIT, tag = AIMARK_BUF_INIT, seg = AIMARK_BUF_INIT,
		   file = AIMARK_BUF_INIT;
	el(&inner, AIMARK__MKV_ID_TAGNAME, "AIGC", 4);
	for (int i = 0; i < 100; i++) {
		aimark_buf outer = AIMARK_BUF_INIT;
		elb(&outer, AIMARK__MKV_ID_SIMPLETAG, &inner);
		inner = outer;
	}
	el(&tag, AIMARK__MKV_ID_TARGETS, NULL, 0);
	assert_int_equal(aimark__buf_append(&tag, inner.ptr, inner.size), 0);
	aimark_buf_dispose(&inner);
	elb(&tags, AIMARK__MKV_ID_TAG, &tag);
	elb(&seg, AIMARK__MKV_ID_TAGS, &tags);
	file_with_segment(&file, &seg);
	expect_read_error(file.ptr, file.size, AIMARK_EFORMAT, "nested deeper");
	aimark_buf_dispose(&file);
}

/* A 5 GiB (virtual) file: a Cluster with an 8-byte size, and the Tags after it. */
typedef struct vsrc {
	const unsigned char *head;
	size_t head_len;
	uint64_t tail_off;
	const unsigned char *tail;
	size_t tail_len;
} vsrc;

static int vsrc_read(void *user, uint64_t off, void *dst, size_t len)
{
	vsrc *v = user;
	unsigned char *o = dst;
	for (size_t i = 0; i < len; i++) {
		uint64_t p = off + i;
		o[i] = p < v->head_len ? v->head[p] : p >= v->tail_off && p < v->tail_off + v->tail_len ? v->tail[p - v->tail_off] : 0;
	}
	return 0;
}

static void test_large_virtual_file(void **state)
{
	(void)state;
	const uint64_t total = UINT64_C(5) << 30;
	aimark_buf head = AIMARK_BUF_INIT, tail = AIMARK_BUF_INIT, tags = AIMARK_BUF_INIT, tag = AIMARK_BUF_INIT;
	el(&tag, AIMARK__MKV_ID_TARGETS, NULL, 0);
	simpletag(&tag, "AIGC", LABEL);
	elb(&tags, AIMARK__MKV_ID_TAG, &tag);
	elb(&tail, AIMARK__MKV_ID_TAGS, &tags);
	ebml_header(&head, "matroska");
	uint64_t seg_data = head.size + 12;
	assert_int_equal(aimark__ebml_put_id(&head, AIMARK__MKV_ID_SEGMENT), 0);
	assert_int_equal(aimark__ebml_put_size(&head, total - seg_data, 8), 0);
	uint64_t cl_data = seg_data + 12, tail_off = total - tail.size;
	assert_int_equal(aimark__ebml_put_id(&head, AIMARK__MKV_ID_CLUSTER), 0);
	assert_int_equal(aimark__ebml_put_size(&head, tail_off - cl_data, 8), 0);
	vsrc v = { head.ptr, head.size, tail_off, tail.ptr, tail.size };
	aimark_source_callbacks cb = { AIMARK_SOURCE_CALLBACKS_VERSION, vsrc_read, total, &v, NULL };
	aimark_source *src = NULL;
	assert_int_equal(aimark_source_new_callbacks(&src, &cb), 0);
	aimark__meta m;
	aimark__meta_init(&m, NULL);
	assert_int_equal(ops()->read(src, &m), 0);
	assert_int_equal(m.n_carriers, 1);
	assert_string_equal(m.carriers[0].text, LABEL);
	assert_true(m.carriers[0].offset > UINT32_MAX);
	assert_int_equal(m.n_essence, 1);
	assert_int_equal(m.essence[0].offset, seg_data);
	assert_int_equal(m.essence[0].length, tail_off - seg_data);
	aimark__meta_dispose(&m);
	aimark_source_free(src);
	aimark_buf_dispose(&head);
	aimark_buf_dispose(&tail);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe),
		cmocka_unit_test(test_read_plain),
		cmocka_unit_test(test_read_ffmpeg_label),
		cmocka_unit_test(test_label_appends_and_updates_seekhead),
		cmocka_unit_test(test_relabel_in_place),
		cmocka_unit_test(test_in_place_with_void_room),
		cmocka_unit_test(test_no_tags_and_second_tags),
		cmocka_unit_test(test_unknown_sizes),
		cmocka_unit_test(test_tags_ending_unknown_cluster),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_nesting_bomb),
		cmocka_unit_test(test_large_virtual_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

#define _GNU_SOURCE
/* End to end through the public API: mark -> verify for every image format, and what goes wrong. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "core/internal.h"
#include "testutil.h"

#define PRODUCER "001191110102MACQD9K64010000"

static const char *const g_samples[] = { "images/mandelbrot.jpg", "images/cellauto.png", "images/testsrc.webp" };
static const char *const g_formats[] = { "jpeg", "png", "webp" };
#define N_SAMPLES (sizeof g_samples / sizeof g_samples[0])

typedef struct fixture {
	aimark_key *key;
	aimark_trust *trust;
} fixture;

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof *f);
	assert_int_equal(aimark_key_generate(&f->key, AIMARK_ALG_SM2), 0);
	assert_int_equal(aimark_trust_new(&f->trust), 0);
	assert_int_equal(aimark_trust_add_key(f->trust, f->key), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	aimark_key_free(f->key);
	aimark_trust_free(f->trust);
	free(f);
	return 0;
}

static unsigned char *sample(size_t i, size_t *len)
{
	return tu_read_file(tu_path("%s/%s", AIMARK_SAMPLES_DIR, g_samples[i]), len);
}

static aimark_report *verify_buf(const aimark_buf *b, const aimark_trust *trust)
{
	aimark_verify_options vo = AIMARK_VERIFY_OPTIONS_INIT;
	vo.trust = trust;
	aimark_report *r = NULL;
	assert_int_equal(aimark_verify_memory(b->ptr, b->size, &vo, &r), 0);
	return r;
}

static void mark_ok(fixture *f, const void *data, size_t len, aimark_buf *out, aimark_mark_result *res)
{
	aimark_mark_options o = AIMARK_MARK_OPTIONS_INIT;
	o.content_producer = PRODUCER;
	o.key = f->key;
	if (aimark_mark_memory(data, len, &o, out, res) != 0)
		fail_msg("mark failed: %s", aimark_error_last());
}

static void test_round_trip_every_format(void **state)
{
	fixture *f = *state;
	for (size_t i = 0; i < N_SAMPLES; i++) {
		size_t len;
		unsigned char *in = sample(i, &len);
		aimark_buf out = AIMARK_BUF_INIT;
		aimark_mark_result res;
		mark_ok(f, in, len, &out, &res);
		assert_string_equal(res.format, g_formats[i]);
		assert_int_equal(strlen(res.produce_id), 32);

		aimark_report *r = verify_buf(&out, f->trust);
		assert_string_equal(aimark_report_format(r), g_formats[i]);
		assert_int_equal(aimark_report_verdict(r), AIMARK_VERDICT_AUTHENTIC);
		assert_int_equal(aimark_report_signature(r), AIMARK_SIG_VALID);
		assert_int_equal(aimark_report_content(r), AIMARK_CONTENT_UNCHANGED);
		const aimark_label *l = aimark_report_label(r);
		assert_string_equal(aimark_label_get(l, AIMARK_FIELD_CONTENT_PRODUCER), PRODUCER);
		assert_string_equal(aimark_label_get(l, AIMARK_FIELD_PRODUCE_ID), res.produce_id);
		/* Annex E note 1: the propagator fields repeat the producer's on first write. */
		assert_string_equal(aimark_label_get(l, AIMARK_FIELD_CONTENT_PROPAGATOR), PRODUCER);
		assert_int_equal(aimark_findings_count_at_least(aimark_report_findings(r), AIMARK_SEVERITY_WARNING), 0);
		aimark_report_free(r);

		/* Without trusting the key: valid signature, unknown key. */
		r = verify_buf(&out, NULL);
		assert_int_equal(aimark_report_verdict(r), AIMARK_VERDICT_UNVERIFIED);
		assert_int_equal(aimark_report_signature(r), AIMARK_SIG_UNKNOWN_KEY);
		aimark_report_free(r);

		/* The unlabelled input. */
		aimark_report *u = NULL;
		assert_int_equal(aimark_verify_memory(in, len, NULL, &u), 0);
		assert_int_equal(aimark_report_verdict(u), AIMARK_VERDICT_NOT_LABELLED);
		assert_null(aimark_report_label(u));
		aimark_report_free(u);
		aimark_buf_dispose(&out);
		free(in);
	}
}

static void test_relabel_replaces(void **state)
{
	fixture *f = *state;
	for (size_t i = 0; i < N_SAMPLES; i++) {
		size_t len;
		unsigned char *in = sample(i, &len);
		aimark_buf once = AIMARK_BUF_INIT, twice = AIMARK_BUF_INIT;
		aimark_mark_result r1, r2;
		mark_ok(f, in, len, &once, &r1);
		mark_ok(f, once.ptr, once.size, &twice, &r2);
		assert_string_not_equal(r1.produce_id, r2.produce_id);
		aimark_report *r = verify_buf(&twice, f->trust);
		assert_int_equal(aimark_report_verdict(r), AIMARK_VERDICT_AUTHENTIC);
		assert_string_equal(aimark_label_get(aimark_report_label(r), AIMARK_FIELD_PRODUCE_ID), r2.produce_id);
		assert_false(aimark_findings_has(aimark_report_findings(r), "duplicate-label"));
		assert_false(aimark_findings_has(aimark_report_findings(r), "multiple-carriers"));
		/* Relabelling adds no bytes beyond the new label's own growth. */
		assert_true(twice.size < once.size + 64);
		aimark_report_free(r);
		aimark_buf_dispose(&once);
		aimark_buf_dispose(&twice);
		free(in);
	}
}

/* Flips a byte inside the essence: the signature stays valid, the content hash does not. */
static void test_content_change_is_tampered(void **state)
{
	fixture *f = *state;
	for (size_t i = 0; i < N_SAMPLES; i++) {
		size_t len;
		unsigned char *in = sample(i, &len);
		aimark_buf out = AIMARK_BUF_INIT;
		mark_ok(f, in, len, &out, NULL);
		/* The last bytes before the end are image data in all three samples (JPEG: before EOI; PNG: IEND CRC; WebP: VP8). */
		size_t at = i == 1 ? out.size - 20 : out.size - 40;
		if (i == 2) {
			/* WebP: the XMP chunk is written last; tamper with the VP8 data right after the headers instead. */
			at = 40;
		}
		out.ptr[at] ^= 0x01;
		aimark_report *r = verify_buf(&out, f->trust);
		aimark_verdict v = aimark_report_verdict(r);
		if (v != AIMARK_VERDICT_TAMPERED)
			fail_msg("%s: verdict %s after a content change", g_formats[i], aimark_verdict_name(v));
		assert_int_equal(aimark_report_content(r), AIMARK_CONTENT_CHANGED);
		assert_int_equal(aimark_report_signature(r), AIMARK_SIG_VALID);
		aimark_report_free(r);
		aimark_buf_dispose(&out);
		free(in);
	}
}

/* Edits the ProduceID inside the written label: the signature breaks. */
static void test_label_edit_is_invalid(void **state)
{
	fixture *f = *state;
	size_t len;
	unsigned char *in = sample(0, &len);
	aimark_buf out = AIMARK_BUF_INIT;
	aimark_mark_options o = AIMARK_MARK_OPTIONS_INIT;
	o.content_producer = PRODUCER;
	o.produce_id = "ID-0001";
	o.key = f->key;
	assert_int_equal(aimark_mark_memory(in, len, &o, &out, NULL), 0);
	unsigned char *hit = memmem(out.ptr, out.size, "ID-0001", 7);
	assert_non_null(hit);
	while (hit) { /* every copy, as a forger would */
		hit[6] = '2';
		hit = memmem(hit, out.size - (size_t)(hit - out.ptr), "ID-0001", 7);
	}
	aimark_report *r = verify_buf(&out, f->trust);
	assert_int_equal(aimark_report_verdict(r), AIMARK_VERDICT_INVALID);
	assert_int_equal(aimark_report_signature(r), AIMARK_SIG_INVALID);
	aimark_buf json = AIMARK_BUF_INIT;
	assert_int_equal(aimark_report_to_json(r, 0, &json), 0);
	assert_non_null(strstr((char *)json.ptr, "\"verdict\":\"invalid\""));
	assert_non_null(strstr((char *)json.ptr, "\"signature\":\"invalid\""));
	aimark_buf_dispose(&json);
	aimark_report_free(r);
	aimark_buf_dispose(&out);
	free(in);
}

static void test_propagator_workflow(void **state)
{
	fixture *f = *state;
	aimark_key *platform = NULL;
	assert_int_equal(aimark_key_generate(&platform, AIMARK_ALG_ED25519), 0);
	for (size_t i = 0; i < N_SAMPLES; i++) {
		size_t len;
		unsigned char *in = sample(i, &len);
		aimark_buf produced = AIMARK_BUF_INIT, propagated = AIMARK_BUF_INIT;
		aimark_mark_result res;
		mark_ok(f, in, len, &produced, &res);
		aimark_mark_options o = AIMARK_MARK_OPTIONS_INIT;
		o.role = AIMARK_ROLE_PROPAGATOR;
		o.content_propagator = "00119144030008867405X220001";
		o.key = platform;
		assert_int_equal(aimark_mark_memory(produced.ptr, produced.size, &o, &propagated, NULL), 0);

		aimark_trust *both = NULL;
		assert_int_equal(aimark_trust_new(&both), 0);
		assert_int_equal(aimark_trust_add_key(both, f->key), 0);
		assert_int_equal(aimark_trust_add_key(both, platform), 0);
		aimark_report *r = verify_buf(&propagated, both);
		assert_int_equal(aimark_report_verdict(r), AIMARK_VERDICT_AUTHENTIC);
		assert_int_equal(aimark_report_signature(r), AIMARK_SIG_VALID);
		assert_int_equal(aimark_report_propagator_signature(r), AIMARK_SIG_VALID);
		const aimark_label *l = aimark_report_label(r);
		assert_string_equal(aimark_label_get(l, AIMARK_FIELD_CONTENT_PRODUCER), PRODUCER);
		assert_string_equal(aimark_label_get(l, AIMARK_FIELD_PRODUCE_ID), res.produce_id);
		assert_string_equal(aimark_label_get(l, AIMARK_FIELD_CONTENT_PROPAGATOR), "00119144030008867405X220001");
		assert_string_equal(aimark_label_get(l, AIMARK_FIELD_PROPAGATE_ID), res.produce_id);
		aimark_report_free(r);

		/* Trusting only the producer: still authentic through the producer's signature. */
		r = verify_buf(&propagated, f->trust);
		assert_int_equal(aimark_report_verdict(r), AIMARK_VERDICT_AUTHENTIC);
		assert_int_equal(aimark_report_propagator_signature(r), AIMARK_SIG_UNKNOWN_KEY);
		aimark_report_free(r);
		aimark_trust_free(both);
		aimark_buf_dispose(&produced);
		aimark_buf_dispose(&propagated);
		free(in);
	}
	aimark_key_free(platform);
}

static void test_refusals(void **state)
{
	fixture *f = *state;
	size_t len;
	unsigned char *in = sample(0, &len);
	aimark_buf out = AIMARK_BUF_INIT, again = AIMARK_BUF_INIT;
	mark_ok(f, in, len, &out, NULL);

	/* Another producer may not overwrite the label (Labeling Measures Art. 10). */
	aimark_mark_options o = AIMARK_MARK_OPTIONS_INIT;
	o.content_producer = "someone-else";
	o.key = f->key;
	assert_int_equal(aimark_mark_memory(out.ptr, out.size, &o, &again, NULL), AIMARK_EEXISTS);
	assert_non_null(strstr(aimark_error_last(), PRODUCER));
	assert_int_equal(again.size, 0);

	/* Propagator role on an unlabelled file. */
	aimark_mark_options p = AIMARK_MARK_OPTIONS_INIT;
	p.role = AIMARK_ROLE_PROPAGATOR;
	p.content_propagator = "platform";
	assert_int_equal(aimark_mark_memory(in, len, &p, &again, NULL), AIMARK_ENOTFOUND);

	/* Bad options. */
	aimark_mark_options b = AIMARK_MARK_OPTIONS_INIT;
	assert_int_equal(aimark_mark_memory(in, len, &b, &again, NULL), AIMARK_EINVAL); /* no producer */
	b.content_producer = "豆包";
	assert_int_equal(aimark_mark_memory(in, len, &b, &again, NULL), AIMARK_EINVAL);
	assert_non_null(strstr(aimark_error_last(), "Annex E"));
	b.content_producer = PRODUCER;
	b.label = "4";
	assert_int_equal(aimark_mark_memory(in, len, &b, &again, NULL), AIMARK_EINVAL);
	b.label = NULL;
	b.produce_id = "has space";
	assert_int_equal(aimark_mark_memory(in, len, &b, &again, NULL), AIMARK_EINVAL);
	b.produce_id = NULL;
	b.version = 99;
	assert_int_equal(aimark_mark_memory(in, len, &b, &again, NULL), AIMARK_EINVAL);
	assert_int_equal(again.size, 0);

	/* Not an image format. */
	b.version = AIMARK_MARK_OPTIONS_VERSION;
	assert_int_equal(aimark_mark_memory("hello world, not an image", 25, &b, &again, NULL), AIMARK_EUNSUPPORTED);

	aimark_buf_dispose(&out);
	aimark_buf_dispose(&again);
	free(in);
}

/* Each class of bad input: a clear error, and the input file unchanged. */
static void test_bad_inputs_leave_file_unchanged(void **state)
{
	fixture *f = *state;
	char *dir = tu_tempdir();
	for (size_t i = 0; i < N_SAMPLES; i++) {
		size_t len;
		unsigned char *in = sample(i, &len);
		struct { const char *name; size_t keep; } cases[] = { { "truncated", len / 2 }, { "header-only", 16 } };
		for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
			const char *path = tu_path("%s/%s-%s", dir, cases[c].name, g_formats[i]);
			tu_write_file(path, in, cases[c].keep);
			aimark_mark_options o = AIMARK_MARK_OPTIONS_INIT;
			o.content_producer = PRODUCER;
			o.key = f->key;
			int rc = aimark_mark_file(path, path, 0, &o, NULL);
			if (rc != AIMARK_EFORMAT)
				fail_msg("%s %s: rc %d (%s)", cases[c].name, g_formats[i], rc, aimark_error_last());
			assert_non_null(strstr(aimark_error_last(), path));
			size_t after_len;
			unsigned char *after = tu_read_file(path, &after_len);
			assert_int_equal(after_len, cases[c].keep);
			assert_memory_equal(after, in, after_len);
			free(after);
			/* Verify reports it as an error, not a failure to run. */
			aimark_report *r = NULL;
			assert_int_equal(aimark_verify_file(path, NULL, &r), 0);
			assert_int_equal(aimark_report_verdict(r), AIMARK_VERDICT_ERROR);
			assert_int_equal(aimark_verdict_exit_code(aimark_report_verdict(r)), 4);
			aimark_report_free(r);
		}
		free(in);
	}
	/* No temporary files left behind. */
	char cmd[4300];
	snprintf(cmd, sizeof cmd, "ls -A '%s' | grep -c '^\\.' > /dev/null", dir);
	assert_int_not_equal(system(cmd), 0);
	tu_rmtree(dir);
	free(dir);
}

static void test_mark_file_in_place_keeps_mode(void **state)
{
	fixture *f = *state;
	char *dir = tu_tempdir();
	size_t len;
	unsigned char *in = sample(1, &len);
	const char *path = tu_path("%s/in.png", dir);
	tu_write_file(path, in, len);
	assert_int_equal(chmod(path, 0640), 0);
	aimark_mark_options o = AIMARK_MARK_OPTIONS_INIT;
	o.content_producer = PRODUCER;
	o.key = f->key;
	assert_int_equal(aimark_mark_file(path, path, 0, &o, NULL), 0);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	/* A different existing output is refused without overwrite. */
	const char *other = tu_path("%s/other.png", dir);
	tu_write_file(other, "x", 1);
	assert_int_equal(aimark_mark_file(path, other, 0, &o, NULL), AIMARK_EEXISTS);
	assert_int_equal(aimark_mark_file(path, other, 1, &o, NULL), 0);
	aimark_report *r = NULL;
	aimark_verify_options vo = AIMARK_VERIFY_OPTIONS_INIT;
	vo.trust = f->trust;
	assert_int_equal(aimark_verify_file(other, &vo, &r), 0);
	assert_int_equal(aimark_report_verdict(r), AIMARK_VERDICT_AUTHENTIC);
	aimark_report_free(r);
	free(in);
	tu_rmtree(dir);
	free(dir);
}

/* The two real vendor PNGs: read exactly, reported as unsigned. */
static void test_vendor_samples(void **state)
{
	(void)state;
	static const struct { const char *file, *producer, *id, *propagator; } v[] = {
		{ "doubao-web-xmp-producer-uscc.png", "001191110102MACQD9K64010000", "e3578014edd949debed102781a8c26f7", "" },
		{ "jimeng-web-xmp-with-propagator.png", "00119144030008867405X210001",
		  "tos-cn-i-tb4s082cfz/71c91abae7bf486ba7b82020b0df8d2e", "00119144030008867405X220001" },
	};
	for (size_t i = 0; i < 2; i++) {
		aimark_report *r = NULL;
		assert_int_equal(aimark_verify_file(tu_path("%s/spec/gb45438-samples/%s", AIMARK_SHARED_DIR, v[i].file), NULL, &r), 0);
		assert_int_equal(aimark_report_verdict(r), AIMARK_VERDICT_UNVERIFIED);
		assert_int_equal(aimark_report_signature(r), AIMARK_SIG_ABSENT);
		const aimark_label *l = aimark_report_label(r);
		assert_non_null(l);
		assert_string_equal(aimark_label_get(l, AIMARK_FIELD_CONTENT_PRODUCER), v[i].producer);
		assert_string_equal(aimark_label_get(l, AIMARK_FIELD_PRODUCE_ID), v[i].id);
		assert_string_equal(aimark_label_get(l, AIMARK_FIELD_CONTENT_PROPAGATOR), v[i].propagator);
		assert_int_equal(aimark_findings_has(aimark_report_findings(r), "propagator-empty"), i == 0);
		aimark_report_free(r);
	}
}

/* A platform labels a vendor file it received: the vendor's fields stay, the platform signs. */
static void test_propagate_vendor_file(void **state)
{
	fixture *f = *state;
	size_t len;
	unsigned char *in = tu_read_file(tu_path("%s/spec/gb45438-samples/doubao-web-xmp-producer-uscc.png", AIMARK_SHARED_DIR), &len);
	aimark_mark_options o = AIMARK_MARK_OPTIONS_INIT;
	o.role = AIMARK_ROLE_PROPAGATOR;
	o.content_propagator = "00119144030008867405X220001";
	o.key = f->key;
	aimark_buf out = AIMARK_BUF_INIT;
	assert_int_equal(aimark_mark_memory(in, len, &o, &out, NULL), 0);
	aimark_report *r = verify_buf(&out, f->trust);
	assert_int_equal(aimark_report_verdict(r), AIMARK_VERDICT_AUTHENTIC);
	assert_int_equal(aimark_report_signature(r), AIMARK_SIG_ABSENT);
	assert_int_equal(aimark_report_propagator_signature(r), AIMARK_SIG_VALID);
	assert_string_equal(aimark_label_get(aimark_report_label(r), AIMARK_FIELD_PRODUCE_ID), "e3578014edd949debed102781a8c26f7");
	aimark_report_free(r);
	aimark_buf_dispose(&out);
	free(in);
}

/* Inserts a tEXt chunk (keyword AIGC) right after IHDR of a PNG. */
static void add_png_text(const unsigned char *png, size_t len, const char *text, aimark_buf *out)
{
	size_t klen = 5, tlen = strlen(text);
	unsigned char head[8];
	aimark__put_be32(head, (uint32_t)(klen + tlen));
	memcpy(head + 4, "tEXt", 4);
	uLong crc = crc32(0, head + 4, 4);
	crc = crc32(crc, (const Bytef *)"AIGC\0", 5);
	crc = crc32(crc, (const Bytef *)text, (uInt)tlen);
	unsigned char tail[4];
	aimark__put_be32(tail, (uint32_t)crc);
	assert_int_equal(aimark__buf_append(out, png, 33), 0);
	assert_int_equal(aimark__buf_append(out, head, 8), 0);
	assert_int_equal(aimark__buf_append(out, "AIGC\0", 5), 0);
	assert_int_equal(aimark__buf_append(out, text, tlen), 0);
	assert_int_equal(aimark__buf_append(out, tail, 4), 0);
	assert_int_equal(aimark__buf_append(out, png + 33, len - 33), 0);
}

static aimark_report *verify_with_text(fixture *f, const unsigned char *png, size_t len, const char *text)
{
	aimark_buf b = AIMARK_BUF_INIT;
	add_png_text(png, len, text, &b);
	aimark_report *r = verify_buf(&b, f->trust);
	aimark_buf_dispose(&b);
	return r;
}

/* Labels that are wrong in themselves: each is a verdict with a finding naming the problem, never a crash. */
static void test_bad_labels(void **state)
{
	fixture *f = *state;
	size_t len;
	unsigned char *png = sample(1, &len);

	/* Not JSON. */
	aimark_report *r = verify_with_text(f, png, len, "{\"Label\":\"1\",");
	assert_int_equal(aimark_report_verdict(r), AIMARK_VERDICT_INVALID);
	assert_true(aimark_findings_has(aimark_report_findings(r), "label-unreadable"));
	aimark_report_free(r);

	/* A Label value Annex E does not have. */
	r = verify_with_text(f, png, len, "{\"Label\":\"7\",\"ContentProducer\":\"p\",\"ProduceID\":\"i\"}");
	assert_int_equal(aimark_report_verdict(r), AIMARK_VERDICT_INVALID);
	assert_true(aimark_findings_has(aimark_report_findings(r), "label-value"));
	aimark_report_free(r);

	/* A bad charset is reported, and does not by itself make the label invalid. */
	r = verify_with_text(f, png, len, "{\"Label\":\"1\",\"ContentProducer\":\"my company\",\"ProduceID\":\"i\"}");
	assert_int_equal(aimark_report_verdict(r), AIMARK_VERDICT_UNVERIFIED);
	assert_true(aimark_findings_has(aimark_report_findings(r), "charset"));
	aimark_report_free(r);

	/* Two carriers that disagree: one label per file. */
	aimark_buf labelled = AIMARK_BUF_INIT;
	mark_ok(f, png, len, &labelled, NULL);
	r = verify_with_text(f, labelled.ptr, labelled.size, "{\"Label\":\"1\",\"ContentProducer\":\"other\",\"ProduceID\":\"x\"}");
	assert_int_equal(aimark_report_verdict(r), AIMARK_VERDICT_INVALID);
	assert_true(aimark_findings_has(aimark_report_findings(r), "conflicting-labels"));
	aimark_report_free(r);

	/* The right signature checked against the wrong trusted key: valid, but not trusted. */
	aimark_key *other = NULL;
	aimark_trust *wrong = NULL;
	assert_int_equal(aimark_key_generate(&other, AIMARK_ALG_SM2), 0);
	assert_int_equal(aimark_trust_new(&wrong), 0);
	assert_int_equal(aimark_trust_add_key(wrong, other), 0);
	r = verify_buf(&labelled, wrong);
	assert_int_equal(aimark_report_verdict(r), AIMARK_VERDICT_UNVERIFIED);
	assert_int_equal(aimark_report_signature(r), AIMARK_SIG_UNKNOWN_KEY);
	aimark_report_free(r);
	aimark_trust_free(wrong);
	aimark_key_free(other);
	aimark_buf_dispose(&labelled);
	free(png);
}

/* A file whose first matching format declines it is read by the format that accepts it. */
static void test_declined_format_falls_back(void **state)
{
	fixture *f = *state;
	size_t len;
	unsigned char *in = tu_read_file(TU_DATA("flac/id3-prefixed.flac"), &len);
	aimark_buf out = AIMARK_BUF_INIT;
	aimark_mark_result res;
	mark_ok(f, in, len, &out, &res);
	assert_string_equal(res.format, "flac");
	aimark_report *r = verify_buf(&out, f->trust);
	assert_string_equal(aimark_report_format(r), "flac");
	assert_int_equal(aimark_report_verdict(r), AIMARK_VERDICT_AUTHENTIC);
	aimark_report_free(r);
	aimark_buf_dispose(&out);
	free(in);
}

/* Text is hashed normalised: re-wrapping is not an edit, a changed word is. */
static void test_text_normalised_hash(void **state)
{
	fixture *f = *state;
	const char *md = "# Title\n\nThe quick brown fox jumps over the lazy dog.\n";
	aimark_mark_options o = AIMARK_MARK_OPTIONS_INIT;
	o.content_producer = PRODUCER;
	o.key = f->key;
	o.format = "markdown";
	aimark_buf out = AIMARK_BUF_INIT;
	assert_int_equal(aimark_mark_memory(md, strlen(md), &o, &out, NULL), 0);
	char *text = strdup((char *)out.ptr);
	aimark_verify_options vo = AIMARK_VERIFY_OPTIONS_INIT;
	vo.trust = f->trust;
	vo.format = "markdown";
	char *wrapped = strdup(text);
	char *at = strstr(wrapped, "fox jumps");
	assert_non_null(at);
	at[3] = '\n'; /* "fox\njumps": the same words, wrapped */
	aimark_report *r = NULL;
	assert_int_equal(aimark_verify_memory(wrapped, strlen(wrapped), &vo, &r), 0);
	assert_int_equal(aimark_report_content(r), AIMARK_CONTENT_UNCHANGED);
	aimark_report_free(r);
	at = strstr(text, "lazy dog");
	memcpy(at, "lazy cat", 8);
	assert_int_equal(aimark_verify_memory(text, strlen(text), &vo, &r), 0);
	assert_int_equal(aimark_report_verdict(r), AIMARK_VERDICT_TAMPERED);
	aimark_report_free(r);
	free(text);
	free(wrapped);
	aimark_buf_dispose(&out);
}

/* ---- allocation-failure injection through the allocator hook ---- */
static long g_fail_at, g_count;
static void *failing_malloc(size_t n, void *u) { (void)u; return ++g_count == g_fail_at ? NULL : malloc(n); }
static void *failing_realloc(void *p, size_t n, void *u) { (void)u; return ++g_count == g_fail_at ? NULL : realloc(p, n); }
static void plain_free(void *p, void *u) { (void)u; free(p); }

static void test_allocation_failures(void **state)
{
	fixture *f = *state;
	size_t len;
	unsigned char *in = sample(1, &len);
	aimark_allocator a = { failing_malloc, failing_realloc, plain_free, NULL };
	int failures = 0;
	for (g_fail_at = 1; g_fail_at < 400; g_fail_at++) {
		g_count = 0;
		aimark_allocator_set(&a);
		aimark_buf out = AIMARK_BUF_INIT;
		aimark_mark_options o = AIMARK_MARK_OPTIONS_INIT;
		o.content_producer = PRODUCER;
		o.key = f->key;
		int rc = aimark_mark_memory(in, len, &o, &out, NULL);
		aimark_report *r = NULL;
		int vrc = rc == 0 ? aimark_verify_memory(out.ptr, out.size, NULL, &r) : 0;
		aimark_allocator_set(NULL);
		if (rc != 0) {
			assert_int_equal(rc, AIMARK_ENOMEM);
			assert_int_equal(out.size, 0);
			failures++;
		} else if (vrc != 0) {
			assert_int_equal(vrc, AIMARK_ENOMEM);
			failures++;
		}
		aimark_report_free(r);
		aimark_buf_dispose(&out);
		if (g_count < g_fail_at)
			break; /* the whole run needed fewer allocations: every point was tried */
	}
	assert_true(failures > 10);
	free(in);
}

/* Version-1 verify options (before explicit_text) are still accepted, and never read past their end. */
static void test_verify_options_version_1(void **state)
{
	(void)state;
	size_t v1_size = offsetof(aimark_verify_options, explicit_text);
	aimark_verify_options *v1 = malloc(v1_size); /* exactly a version-1 caller's struct: ASan sees a read past it */
	assert_non_null(v1);
	assert_int_equal(aimark_verify_options_init(v1, 1), 0);
	assert_int_equal(v1->version, 1);
	assert_null(v1->c2pa_trust_anchors);
	size_t n;
	unsigned char *d = tu_read_file(TU_DATA("jpeg/plain.jpg"), &n);
	aimark_report *r = NULL;
	assert_int_equal(aimark_verify_memory(d, n, v1, &r), 0);
	assert_int_equal(aimark_report_verdict(r), AIMARK_VERDICT_NOT_LABELLED);
	aimark_report_free(r);
	/* versions the library does not know are refused */
	aimark_verify_options o = AIMARK_VERIFY_OPTIONS_INIT;
	o.version = AIMARK_VERIFY_OPTIONS_VERSION + 1;
	assert_int_equal(aimark_verify_memory(d, n, &o, &r), AIMARK_EINVAL);
	assert_int_equal(aimark_verify_options_init(&o, 0), AIMARK_EINVAL);
	assert_int_equal(aimark_verify_options_init(&o, AIMARK_VERIFY_OPTIONS_VERSION + 1), AIMARK_EINVAL);
	free(d);
	free(v1);
}

/* Mark options version 2 collect what reading and writing noticed; version-1 structs still work. */
static void test_mark_findings(void **state)
{
	(void)state;
	size_t n;
	unsigned char *d = tu_read_file(TU_DATA("jpeg/plain.jpg"), &n);
	unsigned char *junk = malloc(n + 5);
	memcpy(junk, d, n);
	memcpy(junk + n, "JUNK!", 5); /* bytes after EOI: the info finding trailing-data */
	aimark_findings *f = NULL;
	assert_int_equal(aimark_findings_new(&f), 0);
	aimark_mark_options o = AIMARK_MARK_OPTIONS_INIT;
	o.content_producer = "AimarkUnitTest";
	o.findings = f;
	aimark_buf out = AIMARK_BUF_INIT;
	assert_int_equal(aimark_mark_memory(junk, n + 5, &o, &out, NULL), 0);
	assert_true(aimark_findings_has(f, "trailing-data"));
	aimark_buf_dispose(&out);
	aimark_findings_free(f);

	size_t v1_size = offsetof(aimark_mark_options, findings);
	aimark_mark_options *v1 = malloc(v1_size); /* exactly a version-1 caller's struct */
	assert_int_equal(aimark_mark_options_init(v1, 1), 0);
	assert_int_equal(v1->version, 1);
	v1->content_producer = "AimarkUnitTest";
	assert_int_equal(aimark_mark_memory(junk, n + 5, v1, &out, NULL), 0);
	assert_true(out.size > n);
	aimark_buf_dispose(&out);
	v1->version = AIMARK_MARK_OPTIONS_VERSION + 1;
	assert_int_equal(aimark_mark_memory(junk, n + 5, v1, &out, NULL), AIMARK_EINVAL);
	free(v1);
	free(junk);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_every_format),
		cmocka_unit_test(test_verify_options_version_1),
		cmocka_unit_test(test_mark_findings),
		cmocka_unit_test(test_relabel_replaces),
		cmocka_unit_test(test_content_change_is_tampered),
		cmocka_unit_test(test_label_edit_is_invalid),
		cmocka_unit_test(test_propagator_workflow),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_bad_inputs_leave_file_unchanged),
		cmocka_unit_test(test_mark_file_in_place_keeps_mode),
		cmocka_unit_test(test_vendor_samples),
		cmocka_unit_test(test_propagate_vendor_file),
		cmocka_unit_test(test_bad_labels),
		cmocka_unit_test(test_declined_format_falls_back),
		cmocka_unit_test(test_text_normalised_hash),
		cmocka_unit_test(test_allocation_failures),
	};
	return cmocka_run_group_tests_name("pipeline", tests, setup, teardown);
}

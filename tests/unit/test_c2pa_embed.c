/* Signing and embedding C2PA manifests: round trips per format, tampering, re-signing, signer loading. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "aimark/c2pa.h"
#include "c2pa/c2pa_stage.h"

static char *keydir;
static aimark_c2pa_signer *signer;

static int setup(void **st)
{
	(void)st;
	keydir = tu_tempdir();
	const char *dir = tu_path("%s/keys", keydir);
	if (aimark_c2pa_keydir_create_test(dir, "Aimark Test Org", "unit test signer", 30) != 0)
		return -1;
	return aimark_c2pa_signer_load_dir(&signer, dir);
}

static int teardown(void **st)
{
	(void)st;
	aimark_c2pa_signer_free(signer);
	tu_rmtree(keydir);
	free(keydir);
	return 0;
}

static const char *root_pem(void)
{
	return tu_path("%s/keys/%s", keydir, AIMARK_C2PA_KEYDIR_ROOT);
}

static json_t *verify_mem(const unsigned char *d, size_t n, const char *format, const char *anchors)
{
	aimark_source *src = NULL;
	assert_int_equal(aimark_source_new_memory(&src, d, n), 0);
	json_t *r = NULL;
	assert_int_equal(aimark__c2pa_verify(src, format, anchors, &r), 0);
	aimark_source_free(src);
	return r;
}

static int has_failure(const json_t *r, const char *code)
{
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(json_object_get(r, "codes"), "failure"), i, v)
		if (strcmp(json_string_value(json_object_get(v, "code")), code) == 0)
			return 1;
	return 0;
}

/* A labelled file from the GB 45438 pipeline, then the C2PA manifest on top. */
static void mark_and_embed(const char *path, const char *format, aimark_buf *out, aimark_label **label_out)
{
	size_t n;
	unsigned char *d = tu_read_file(path, &n);
	aimark_mark_options o = AIMARK_MARK_OPTIONS_INIT;
	o.content_producer = "AimarkUnitTest";
	o.format = format;
	aimark_buf labelled = AIMARK_BUF_INIT;
	aimark_mark_result res;
	int rc = aimark_mark_memory(d, n, &o, &labelled, &res);
	const unsigned char *in = rc == 0 ? labelled.ptr : d; /* formats still without a label writer: sign as is */
	size_t in_len = rc == 0 ? labelled.size : n;
	aimark_label *label = NULL;
	assert_int_equal(aimark_label_new(&label), 0);
	assert_int_equal(aimark_label_set(label, AIMARK_FIELD_LABEL, "1"), 0);
	assert_int_equal(aimark_label_set(label, AIMARK_FIELD_CONTENT_PRODUCER, "AimarkUnitTest"), 0);
	assert_int_equal(aimark_label_set(label, AIMARK_FIELD_PRODUCE_ID, rc == 0 ? res.produce_id : "0"), 0);
	assert_int_equal(aimark__c2pa_embed(format, in, in_len, signer, label, out), 0);
	assert_true(out->size > in_len);
	aimark_buf_dispose(&labelled);
	free(d);
	if (label_out)
		*label_out = label;
	else
		aimark_label_free(label);
}

static void round_trip(const char *path, const char *format, int bmff, size_t tamper_from_end)
{
	aimark_buf out = AIMARK_BUF_INIT;
	aimark_label *label = NULL;
	mark_and_embed(path, format, &out, &label);

	json_t *r = verify_mem(out.ptr, out.size, format, root_pem());
	assert_non_null(r);
	assert_string_equal(json_string_value(json_object_get(r, "state")), "Trusted");
	assert_int_equal(json_array_size(json_object_get(json_object_get(r, "codes"), "failure")), 0);
	json_t *signer_info = json_object_get(r, "signer");
	assert_string_equal(json_string_value(json_object_get(signer_info, "organization")), "Aimark Test Org");
	json_t *aigc = json_object_get(json_object_get(r, "aigc"), "AIGC");
	assert_string_equal(json_string_value(json_object_get(aigc, "ContentProducer")), "AimarkUnitTest");
	assert_string_equal(json_string_value(json_object_get(aigc, "ProduceID")),
			    aimark_label_get(label, AIMARK_FIELD_PRODUCE_ID));
	assert_int_equal(json_integer_value(json_object_get(r, "claim_version")), 2);
	json_decref(r);

	r = verify_mem(out.ptr, out.size, format, NULL);
	assert_string_equal(json_string_value(json_object_get(r, "state")), "Valid");
	assert_true(has_failure(r, "signingCredential.untrusted"));
	json_decref(r);

	/* one byte of the content changed */
	size_t at = tamper_from_end ? out.size - tamper_from_end : 20;
	out.ptr[at] ^= 0x01;
	r = verify_mem(out.ptr, out.size, format, root_pem());
	assert_string_equal(json_string_value(json_object_get(r, "state")), "Invalid");
	assert_true(has_failure(r, bmff ? "assertion.bmffHash.mismatch" : "assertion.dataHash.mismatch"));
	json_decref(r);
	out.ptr[at] ^= 0x01;

	/* a platform re-signs: the first manifest becomes the parent ingredient */
	aimark_buf again = AIMARK_BUF_INIT;
	assert_int_equal(aimark__c2pa_embed(format, out.ptr, out.size, signer, label, &again), 0);
	r = verify_mem(again.ptr, again.size, format, root_pem());
	assert_string_equal(json_string_value(json_object_get(r, "state")), "Trusted");
	assert_int_equal(json_integer_value(json_object_get(r, "manifests")), 2);
	json_t *ing = json_array_get(json_object_get(r, "ingredients"), 0);
	assert_string_equal(json_string_value(json_object_get(ing, "relationship")), "parentOf");
	assert_true(json_is_string(json_object_get(ing, "manifest")));
	json_decref(r);
	aimark_buf_dispose(&again);
	aimark_label_free(label);
	aimark_buf_dispose(&out);
}

static void test_jpeg(void **st) { (void)st; round_trip(TU_DATA("jpeg/plain.jpg"), "jpeg", 0, 3); }
static void test_png(void **st) { (void)st; round_trip(TU_DATA("png/rgb.png"), "png", 0, 3); }
static void test_wav(void **st) { (void)st; round_trip(TU_DATA("wav/sine.wav"), "wav", 0, 0); }
static void test_mp3(void **st) { (void)st; round_trip(TU_DATA("mp3/sine-v24.mp3"), "mp3", 0, 3); }
static void test_mp3_v23(void **st) { (void)st; round_trip(TU_DATA("mp3/sine-v23-v1.mp3"), "mp3", 0, 3); }
static void test_mp4(void **st) { (void)st; round_trip(TU_DATA("mp4/faststart.mp4"), "mp4", 1, 3); }
static void test_mp4_moov_last(void **st) { (void)st; round_trip(TU_DATA("mp4/moov_last.mp4"), "mp4", 1, 3); }
static void test_mov(void **st) { (void)st; round_trip(TU_DATA("mp4/qt.mov"), "mp4", 1, 3); }
static void test_webp(void **st) { (void)st; round_trip(TU_DATA("webp/vp8x-xmp.webp"), "webp", 0, 0); }

/* A large JPEG store is split over several APP11 segments. */
static void test_jpeg_multi_segment(void **st)
{
	(void)st;
	size_t n;
	unsigned char *d = tu_read_file(AIMARK_SHARED_DIR "/c2pa-fixtures/CACA.jpg", &n);
	aimark_buf out = AIMARK_BUF_INIT;
	assert_int_equal(aimark__c2pa_embed("jpeg", d, n, signer, NULL, &out), 0);
	size_t segments = 0;
	for (size_t i = 0; i + 6 < out.size && i < 400000; i++)
		if (out.ptr[i] == 0xFF && out.ptr[i + 1] == 0xEB && out.ptr[i + 4] == 'J' && out.ptr[i + 5] == 'P')
			segments++;
	assert_true(segments >= 4);
	json_t *r = verify_mem(out.ptr, out.size, "jpeg", AIMARK_SHARED_DIR "/c2pa-fixtures/trust_root_bundle.pem");
	assert_int_equal(json_integer_value(json_object_get(r, "manifests")), 3);
	assert_int_equal(json_array_size(json_object_get(json_object_get(r, "codes"), "failure")), 1); /* our signer: untrusted here */
	assert_true(has_failure(r, "signingCredential.untrusted"));
	json_decref(r);
	aimark_buf_dispose(&out);
	free(d);
}

/* verify compares the manifest's cn.org.tc260.aigc assertion with the metadata label */
static json_t *verify_report(const unsigned char *d, size_t n, aimark_report **r)
{
	aimark_verify_options vo = AIMARK_VERIFY_OPTIONS_INIT;
	vo.layers = AIMARK_LAYER_C2PA;
	vo.c2pa_trust_anchors = root_pem();
	assert_int_equal(aimark_verify_memory(d, n, &vo, r), 0);
	aimark_buf json = AIMARK_BUF_INIT;
	assert_int_equal(aimark_report_to_json(*r, 0, &json), 0);
	json_t *j = json_loads((const char *)json.ptr, 0, NULL);
	aimark_buf_dispose(&json);
	assert_non_null(j);
	return j;
}

static void test_aigc_against_label(void **st)
{
	(void)st;
	size_t n;
	unsigned char *d = tu_read_file(TU_DATA("jpeg/plain.jpg"), &n);
	aimark_key *key = NULL;
	assert_int_equal(aimark_key_generate(&key, AIMARK_ALG_ED25519), 0);

	/* one call writes both: they agree */
	aimark_mark_options o = AIMARK_MARK_OPTIONS_INIT;
	o.content_producer = "AimarkUnitTest";
	o.key = key;
	o.layers = AIMARK_LAYER_C2PA;
	o.c2pa_signer = signer;
	aimark_buf both = AIMARK_BUF_INIT;
	assert_int_equal(aimark_mark_memory(d, n, &o, &both, NULL), 0);
	aimark_report *r = NULL;
	json_t *j = verify_report(both.ptr, both.size, &r);
	assert_true(json_is_true(json_object_get(json_object_get(j, "c2pa"), "aigc_matches_label")));
	assert_false(aimark_findings_has(aimark_report_findings(r), "c2pa-label-mismatch"));
	assert_false(aimark_findings_has(aimark_report_findings(r), "c2pa-label-only"));
	json_decref(j);
	aimark_report_free(r);

	/* a manifest whose label is not the file's (here: without the signature in ReservedCode1) */
	aimark_buf other = AIMARK_BUF_INIT;
	mark_and_embed(TU_DATA("jpeg/plain.jpg"), "jpeg", &other, NULL);
	j = verify_report(other.ptr, other.size, &r);
	assert_true(json_is_false(json_object_get(json_object_get(j, "c2pa"), "aigc_matches_label")));
	assert_true(aimark_findings_has(aimark_report_findings(r), "c2pa-label-mismatch"));
	json_decref(j);
	aimark_report_free(r);

	/* a manifest on a file without a metadata label */
	aimark_label *label = NULL;
	assert_int_equal(aimark_label_new(&label), 0);
	assert_int_equal(aimark_label_set(label, AIMARK_FIELD_LABEL, "1"), 0);
	aimark_buf only = AIMARK_BUF_INIT;
	assert_int_equal(aimark__c2pa_embed("jpeg", d, n, signer, label, &only), 0);
	j = verify_report(only.ptr, only.size, &r);
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "c2pa"), "state")), "Trusted");
	assert_true(json_is_false(json_object_get(json_object_get(j, "c2pa"), "aigc_matches_label")));
	assert_true(aimark_findings_has(aimark_report_findings(r), "c2pa-label-only"));
	json_decref(j);
	aimark_report_free(r);

	aimark_label_free(label);
	aimark_buf_dispose(&only);
	aimark_buf_dispose(&other);
	aimark_buf_dispose(&both);
	aimark_key_free(key);
	free(d);
}

static void test_refusals(void **st)
{
	(void)st;
	aimark_buf out = AIMARK_BUF_INIT;
	static const unsigned char text[] = "# hello\n";
	assert_int_equal(aimark__c2pa_embed("markdown", text, sizeof text - 1, signer, NULL, &out), AIMARK_EUNSUPPORTED);
	size_t n;
	unsigned char *frag = tu_read_file(TU_DATA("mp4/frag.mp4"), &n);
	assert_int_equal(aimark__c2pa_embed("mp4", frag, n, signer, NULL, &out), AIMARK_EUNSUPPORTED);
	free(frag);
	static const unsigned char notjpeg[] = { 0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x50, 'J' };
	assert_int_equal(aimark__c2pa_embed("jpeg", notjpeg, sizeof notjpeg, signer, NULL, &out), AIMARK_EFORMAT);
	assert_non_null(strstr(aimark_error_last(), "JPEG"));
	unsigned char *vp8 = tu_read_file(TU_DATA("webp/vp8.webp"), &n);
	assert_int_equal(aimark__c2pa_embed("webp", vp8, n, signer, NULL, &out), AIMARK_EUNSUPPORTED);
	free(vp8);
	assert_int_equal(out.size, 0);
}

static void test_signer_loading(void **st)
{
	(void)st;
	aimark_c2pa_signer *s = NULL;
	assert_string_equal(aimark_c2pa_signer_algorithm(signer), "ES256");
	assert_string_equal(aimark_c2pa_signer_organization(signer), "Aimark Test Org");
	/* the reference's own test credentials load (ES256, PS256, Ed25519) */
	static const char *const algs[][2] = { { "es256", "ES256" }, { "ps256", "PS256" }, { "ed25519", "Ed25519" } };
	for (int i = 0; i < 3; i++) {
		char chain[512], key[512];
		snprintf(chain, sizeof chain, AIMARK_SHARED_DIR "/c2pa-fixtures/certs_%s.pub", algs[i][0]);
		snprintf(key, sizeof key, AIMARK_SHARED_DIR "/c2pa-fixtures/certs_%s.pem", algs[i][0]);
		assert_int_equal(aimark_c2pa_signer_load_files(&s, chain, key), 0);
		assert_string_equal(aimark_c2pa_signer_algorithm(s), algs[i][1]);
		/* and what they sign validates */
		size_t n;
		unsigned char *d = tu_read_file(TU_DATA("jpeg/plain.jpg"), &n);
		aimark_buf out = AIMARK_BUF_INIT;
		assert_int_equal(aimark__c2pa_embed("jpeg", d, n, s, NULL, &out), 0);
		json_t *r = verify_mem(out.ptr, out.size, "jpeg", AIMARK_SHARED_DIR "/c2pa-fixtures/trust_root_bundle.pem");
		assert_string_equal(json_string_value(json_object_get(r, "state")), "Trusted");
		json_decref(r);
		aimark_buf_dispose(&out);
		free(d);
		aimark_c2pa_signer_free(s);
		s = NULL;
	}
	/* the key of another certificate */
	assert_int_equal(aimark_c2pa_signer_load_files(&s, AIMARK_SHARED_DIR "/c2pa-fixtures/certs_es256.pub",
						       tu_path("%s/keys/%s", keydir, AIMARK_C2PA_KEYDIR_KEY)),
			 AIMARK_EFORMAT);
	assert_null(s);
	/* a CA certificate as the signer fails the profile */
	assert_int_equal(aimark_c2pa_signer_load_files(&s, root_pem(), tu_path("%s/keys/%s", keydir, AIMARK_C2PA_KEYDIR_KEY)),
			 AIMARK_EFORMAT); /* the root's key is not in the directory */
	static const char garbage[] = "not a PEM";
	assert_int_equal(aimark_c2pa_signer_load_pem(&s, garbage, sizeof garbage, garbage, sizeof garbage), AIMARK_EFORMAT);
	assert_int_equal(aimark_c2pa_signer_load_dir(&s, "/nonexistent/dir"), AIMARK_ENOTFOUND);
	/* refusing to overwrite, and O= is required */
	assert_int_equal(aimark_c2pa_keydir_create_test(tu_path("%s/keys", keydir), "X", NULL, 0), AIMARK_EEXISTS);
	assert_int_equal(aimark_c2pa_keydir_create_test(tu_path("%s/k2", keydir), "", NULL, 0), AIMARK_EINVAL);
	aimark_c2pa_signer_free(NULL);
}

/* An ID3 tag that announces an extended header but ends before its size field (exact-size heap copies for ASan). */
static void test_mp3_short_extended_header(void **st)
{
	(void)st;
	static const unsigned char tags[][10] = {
		{ 'I', 'D', '3', 3, 0, 0x40, 0, 0, 0, 0 }, /* v2.3: 4-byte size */
		{ 'I', 'D', '3', 4, 0, 0x40, 0, 0, 0, 0 }, /* v2.4: syncsafe size */
	};
	for (size_t t = 0; t < 2; t++) {
		for (size_t extra = 0; extra < 4; extra++) { /* the tag size covers 0..3 bytes of the extended header */
			size_t n = 10 + extra;
			unsigned char *d = calloc(1, n);
			assert_non_null(d);
			memcpy(d, tags[t], 10);
			d[9] = (unsigned char)extra;
			aimark_buf out = AIMARK_BUF_INIT;
			assert_int_equal(aimark__c2pa_embed("mp3", d, n, signer, NULL, &out), AIMARK_EFORMAT);
			assert_non_null(strstr(aimark_error_last(), "extended header"));
			assert_int_equal(out.size, 0);
			aimark_buf_dispose(&out);
			free(d);
		}
	}
}

/* Signing and validating concurrently with one signer and one trust bundle: each thread's files must come out Trusted. */
typedef struct sign_job {
	const char *path, *format;
	const char *anchors;
	int failures;
} sign_job;

static void *sign_worker(void *arg)
{
	sign_job *j = arg;
	size_t n;
	unsigned char *d = tu_read_file(j->path, &n);
	for (int round = 0; round < 4; round++) {
		aimark_buf out = AIMARK_BUF_INIT;
		aimark_source *src = NULL;
		json_t *r = NULL;
		if (aimark__c2pa_embed(j->format, d, n, signer, NULL, &out) != 0 || aimark_source_new_memory(&src, out.ptr, out.size) != 0 ||
		    aimark__c2pa_verify(src, j->format, j->anchors, &r) != 0 || r == NULL ||
		    strcmp(json_string_value(json_object_get(r, "state")), "Trusted") != 0)
			j->failures++;
		json_decref(r);
		aimark_source_free(src);
		aimark_buf_dispose(&out);
	}
	free(d);
	return NULL;
}

static void test_concurrent_signing(void **st)
{
	(void)st;
	char *anchors = strdup(root_pem());
	assert_non_null(anchors);
	sign_job jobs[] = { { TU_DATA("jpeg/plain.jpg"), "jpeg", anchors, 0 }, { TU_DATA("png/rgb.png"), "png", anchors, 0 },
			    { TU_DATA("wav/sine.wav"), "wav", anchors, 0 }, { TU_DATA("mp4/faststart.mp4"), "mp4", anchors, 0 } };
	enum { N = sizeof jobs / sizeof jobs[0] };
	pthread_t th[N];
	for (size_t i = 0; i < N; i++)
		assert_int_equal(pthread_create(&th[i], NULL, sign_worker, &jobs[i]), 0);
	for (size_t i = 0; i < N; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(jobs[i].failures, 0);
	}
	free(anchors);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jpeg),
		cmocka_unit_test(test_png),
		cmocka_unit_test(test_wav),
		cmocka_unit_test(test_mp3),
		cmocka_unit_test(test_mp3_v23),
		cmocka_unit_test(test_mp4),
		cmocka_unit_test(test_mp4_moov_last),
		cmocka_unit_test(test_mov),
		cmocka_unit_test(test_webp),
		cmocka_unit_test(test_jpeg_multi_segment),
		cmocka_unit_test(test_aigc_against_label),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_mp3_short_extended_header),
		cmocka_unit_test(test_signer_loading),
		cmocka_unit_test(test_concurrent_signing),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

/* C2PA validation against the reference's verdicts on its own test files, and hostile stores. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "c2pa/c2pa_internal.h"
#include "c2pa/c2pa_stage.h"
#include "core/internal.h"

#define FIX(name) AIMARK_SHARED_DIR "/c2pa-fixtures/" name
#define ANCHORS FIX("trust_root_bundle.pem")

static json_t *verify_file(const char *path, const char *format, const char *anchors)
{
	aimark_source *src = NULL;
	assert_int_equal(aimark_source_new_file(&src, path), 0);
	json_t *r = NULL;
	assert_int_equal(aimark__c2pa_verify(src, format, anchors, &r), 0);
	aimark_source_free(src);
	return r;
}

static int has_code(const json_t *codes, const char *kind, const char *code)
{
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(codes, kind), i, v)
		if (strcmp(json_string_value(json_object_get(v, "code")), code) == 0)
			return 1;
	return 0;
}

static size_t n_codes(const json_t *codes, const char *kind)
{
	return json_array_size(json_object_get(codes, kind));
}

static const char *state(const json_t *r)
{
	return json_string_value(json_object_get(r, "state"));
}

static void test_c_trusted(void **st)
{
	(void)st;
	json_t *r = verify_file(FIX("C.jpg"), "jpeg", ANCHORS);
	assert_non_null(r);
	assert_string_equal(state(r), "Trusted");
	json_t *codes = json_object_get(r, "codes");
	assert_int_equal(n_codes(codes, "failure"), 0);
	assert_true(has_code(codes, "success", "claimSignature.validated"));
	assert_true(has_code(codes, "success", "assertion.dataHash.match"));
	assert_true(has_code(codes, "success", "signingCredential.trusted"));
	assert_true(has_code(codes, "success", "timeStamp.validated"));
	assert_string_equal(json_string_value(json_object_get(json_object_get(r, "signer"), "organization")), "C2PA Test Signing Cert");
	json_decref(r);
	/* without anchors: valid but untrusted */
	r = verify_file(FIX("C.jpg"), "jpeg", NULL);
	assert_string_equal(state(r), "Valid");
	assert_true(has_code(json_object_get(r, "codes"), "failure", "signingCredential.untrusted"));
	json_decref(r);
}

static void test_ca_ingredient(void **st)
{
	(void)st;
	json_t *r = verify_file(FIX("CA.jpg"), "jpeg", ANCHORS);
	assert_string_equal(state(r), "Trusted");
	json_t *ings = json_object_get(r, "ingredients");
	assert_int_equal(json_array_size(ings), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(ings, 0), "title")), "A.jpg");
	assert_true(has_code(json_object_get(json_array_get(ings, 0), "codes"), "informational", "ingredient.unknownProvenance"));
	json_decref(r);
}

static void test_caca_chain(void **st)
{
	(void)st;
	json_t *r = verify_file(FIX("CACA.jpg"), "jpeg", ANCHORS);
	assert_string_equal(state(r), "Trusted");
	json_t *ings = json_object_get(r, "ingredients");
	assert_true(json_array_size(ings) >= 2);
	json_t *first = json_array_get(ings, 0);
	assert_true(json_is_string(json_object_get(first, "manifest")));
	assert_true(has_code(json_object_get(first, "codes"), "success", "ingredient.manifest.validated"));
	assert_int_equal(json_integer_value(json_object_get(r, "claim_version")), 2);
	json_decref(r);
}

static void test_e_sig_invalid(void **st)
{
	(void)st;
	json_t *r = verify_file(FIX("E-sig-CA.jpg"), "jpeg", ANCHORS);
	assert_string_equal(state(r), "Invalid");
	json_t *codes = json_object_get(r, "codes");
	assert_true(has_code(codes, "failure", "claimSignature.mismatch"));
	assert_int_equal(n_codes(codes, "failure"), 1);
	assert_true(has_code(codes, "informational", "timeStamp.mismatch"));
	json_decref(r);
}

static void test_xca_hash_mismatch(void **st)
{
	(void)st;
	json_t *r = verify_file(FIX("XCA.jpg"), "jpeg", ANCHORS);
	assert_string_equal(state(r), "Invalid");
	json_t *codes = json_object_get(r, "codes");
	assert_true(has_code(codes, "failure", "assertion.dataHash.mismatch"));
	assert_int_equal(n_codes(codes, "failure"), 1);
	assert_true(has_code(codes, "success", "claimSignature.validated"));
	json_decref(r);
}

static void test_video_valid_untrusted_ingredient(void **st)
{
	(void)st;
	json_t *r = verify_file(FIX("video1.mp4"), "mp4", ANCHORS);
	assert_string_equal(state(r), "Valid");
	json_t *codes = json_object_get(r, "codes");
	assert_int_equal(n_codes(codes, "failure"), 0);
	assert_true(has_code(codes, "success", "assertion.bmffHash.match"));
	json_t *ing = json_array_get(json_object_get(r, "ingredients"), 0);
	assert_non_null(ing);
	assert_true(has_code(json_object_get(ing, "codes"), "failure", "signingCredential.untrusted"));
	json_decref(r);
}

static void test_no_manifest(void **st)
{
	(void)st;
	json_t *r = verify_file(TU_DATA("jpeg/plain.jpg"), "jpeg", ANCHORS);
	assert_null(r);
	/* a format with no C2PA carrier */
	r = verify_file(TU_DATA("jpeg/plain.jpg"), "markdown", NULL);
	assert_null(r);
}

static void test_missing_anchors_is_eio(void **st)
{
	(void)st;
	aimark_source *src = NULL;
	assert_int_equal(aimark_source_new_file(&src, FIX("C.jpg")), 0);
	json_t *r = NULL;
	assert_int_equal(aimark__c2pa_verify(src, "jpeg", "/nonexistent/anchors.pem", &r), AIMARK_EIO);
	assert_null(r);
	aimark_source_free(src);
}

/* Damaging the store in place: every variant must give a report, never a crash. */
static void test_corrupted_stores(void **st)
{
	(void)st;
	size_t len;
	unsigned char *orig = tu_read_file(FIX("C.jpg"), &len);
	const size_t offsets[] = { 20 + 12, 20 + 16, 20 + 20, 20 + 40, 20 + 60, 20 + 200, 20 + 5000, 20 + 40000 };
	for (size_t k = 0; k < sizeof offsets / sizeof offsets[0]; k++) {
		for (int v = 0; v < 3; v++) {
			unsigned char *d = malloc(len);
			memcpy(d, orig, len);
			d[offsets[k]] = v == 0 ? 0xFF : v == 1 ? 0x00 : (unsigned char)(d[offsets[k]] ^ 0x5A);
			aimark_source *src = NULL;
			assert_int_equal(aimark_source_new_memory(&src, d, len), 0);
			json_t *r = NULL;
			assert_int_equal(aimark__c2pa_verify(src, "jpeg", ANCHORS, &r), 0);
			if (r) {
				/* structure bytes must break the manifest; deeper ones may hit unsigned padding */
				if (k < 5 && d[offsets[k]] != orig[offsets[k]])
					assert_string_not_equal(state(r), "Trusted");
				json_decref(r);
			}
			aimark_source_free(src);
			free(d);
		}
	}
	free(orig);
}

static void test_jumbf_bad_boxes(void **st)
{
	(void)st;
	aimark__jumbf j;
	/* box length smaller than its header */
	static const unsigned char small[] = { 0, 0, 0, 4, 'j', 'u', 'm', 'b' };
	assert_int_equal(aimark__jumbf_parse(&j, small, sizeof small), AIMARK_EFORMAT);
	assert_non_null(strstr(aimark_error_last(), "smaller than its header"));
	/* lying length */
	static const unsigned char lying[] = { 0, 0, 1, 0, 'j', 'u', 'm', 'b', 0, 0, 0, 8, 'j', 'u', 'm', 'd' };
	assert_int_equal(aimark__jumbf_parse(&j, lying, sizeof lying), AIMARK_EFORMAT);
	assert_non_null(strstr(aimark_error_last(), "passes the end"));
	/* superbox without a description box */
	static const unsigned char nodesc[] = { 0, 0, 0, 16, 'j', 'u', 'm', 'b', 0, 0, 0, 8, 'c', 'b', 'o', 'r' };
	assert_int_equal(aimark__jumbf_parse(&j, nodesc, sizeof nodesc), AIMARK_EFORMAT);
	/* unterminated label */
	unsigned char unterminated[8 + 8 + 17 + 3];
	memset(unterminated, 'A', sizeof unterminated);
	aimark__put_be32(unterminated, sizeof unterminated);
	memcpy(unterminated + 4, "jumb", 4);
	aimark__put_be32(unterminated + 8, sizeof unterminated - 8);
	memcpy(unterminated + 12, "jumd", 4);
	unterminated[16 + 16] = 0x03;
	assert_int_equal(aimark__jumbf_parse(&j, unterminated, sizeof unterminated), AIMARK_EFORMAT);
	assert_non_null(strstr(aimark_error_last(), "NUL"));
	/* deep nesting is refused, not recursed into */
	size_t depth = 40, n = depth * 33;
	unsigned char *deep = calloc(1, n);
	for (size_t i = 0; i < depth; i++) {
		unsigned char *p = deep + i * 33;
		aimark__put_be32(p, (uint32_t)(n - i * 33));
		memcpy(p + 4, "jumb", 4);
		aimark__put_be32(p + 8, 25);
		memcpy(p + 12, "jumd", 4);
	}
	assert_int_equal(aimark__jumbf_parse(&j, deep, n), AIMARK_ELIMIT);
	free(deep);
}

static void test_cbor_scan_limits(void **st)
{
	(void)st;
	size_t used;
	char why[128];
	/* an array claiming 2^32 items in 9 bytes */
	static const unsigned char huge[] = { 0x9b, 0, 0, 0, 1, 0, 0, 0, 0 };
	assert_int_equal(aimark__cbor_scan(huge, sizeof huge, &used, why, sizeof why), AIMARK_EFORMAT);
	/* 64 nested arrays */
	unsigned char nested[65];
	memset(nested, 0x81, 64);
	nested[64] = 0x00;
	assert_int_equal(aimark__cbor_scan(nested, sizeof nested, &used, why, sizeof why), AIMARK_EFORMAT);
	assert_non_null(strstr(why, "deeper"));
	/* truncated string, reserved info, stray break */
	static const unsigned char trunc[] = { 0x65, 'a', 'b' };
	assert_int_equal(aimark__cbor_scan(trunc, sizeof trunc, &used, why, sizeof why), AIMARK_EFORMAT);
	static const unsigned char reserved[] = { 0x1c };
	assert_int_equal(aimark__cbor_scan(reserved, sizeof reserved, &used, why, sizeof why), AIMARK_EFORMAT);
	static const unsigned char brk[] = { 0xff };
	assert_int_equal(aimark__cbor_scan(brk, sizeof brk, &used, why, sizeof why), AIMARK_EFORMAT);
	/* well-formed: {"a": [1, h'00'], "b": indefinite "xy"} */
	static const unsigned char good[] = { 0xa2, 0x61, 'a', 0x82, 0x01, 0x41, 0x00, 0x61, 'b', 0x7f, 0x62, 'x', 'y', 0xff };
	assert_int_equal(aimark__cbor_scan(good, sizeof good, &used, why, sizeof why), 0);
	assert_int_equal(used, sizeof good);
}

static void test_cose_bad(void **st)
{
	(void)st;
	aimark__cose c;
	static const unsigned char not_array[] = { 0xd2, 0xa0 };
	assert_int_equal(aimark__cose_parse(&c, not_array, sizeof not_array), AIMARK_EFORMAT);
	static const unsigned char wrong_tag[] = { 0xd8, 0x11, 0x84, 0x40, 0xa0, 0xf6, 0x40 };
	assert_int_equal(aimark__cose_parse(&c, wrong_tag, sizeof wrong_tag), AIMARK_EFORMAT);
	/* protected header that is not a map */
	static const unsigned char bad_prot[] = { 0xd2, 0x84, 0x41, 0x01, 0xa0, 0xf6, 0x40 };
	assert_int_equal(aimark__cose_parse(&c, bad_prot, sizeof bad_prot), AIMARK_EFORMAT);
	/* minimal valid structure: no certificate */
	static const unsigned char minimal[] = { 0xd2, 0x84, 0x43, 0xa1, 0x01, 0x26, 0xa0, 0xf6, 0x42, 0x01, 0x02 };
	assert_int_equal(aimark__cose_parse(&c, minimal, sizeof minimal), 0);
	assert_int_equal(c.alg, -7);
	assert_int_equal(c.n_certs, 0);
	aimark__cose_dispose(&c);
}

/*
 * Validation runs concurrently on different files with one trust bundle
 * (the parsed-certificate and trust-anchor caches are shared), while one
 * thread switches between two bundle paths so the anchor cache is replaced
 * under the others. Every result must equal the single-threaded one.
 */
#define CONC_THREADS 4
#define CONC_ROUNDS 6

static const struct {
	const char *file, *format;
} conc_files[] = { { FIX("C.jpg"), "jpeg" }, { FIX("CA.jpg"), "jpeg" }, { FIX("CACA.jpg"), "jpeg" },
		   { FIX("XCA.jpg"), "jpeg" }, { FIX("E-sig-CA.jpg"), "jpeg" }, { FIX("video1.mp4"), "mp4" } };
#define CONC_FILES (sizeof conc_files / sizeof conc_files[0])

typedef struct conc_job {
	int index;
	const char *anchors[2];   /* the bundle, and a copy of it at another path */
	char expect[CONC_FILES][16];
	int failures;
} conc_job;

static int conc_state(const char *file, const char *format, const char *anchors, char out[16])
{
	aimark_source *src = NULL;
	json_t *r = NULL;
	if (aimark_source_new_file(&src, file) != 0)
		return -1;
	int rc = aimark__c2pa_verify(src, format, anchors, &r);
	aimark_source_free(src);
	const char *s = r ? json_string_value(json_object_get(r, "state")) : NULL;
	snprintf(out, 16, "%s", s ? s : "(none)");
	json_decref(r);
	return rc;
}

static void *conc_worker(void *arg)
{
	conc_job *j = arg;
	for (int round = 0; round < CONC_ROUNDS; round++) {
		for (size_t k = 0; k < CONC_FILES; k++) {
			size_t f = (k + (size_t)j->index) % CONC_FILES; /* threads start on different files */
			/* thread 0 alternates the bundle path: the cached store is replaced while others use it */
			const char *anchors = j->index == 0 ? j->anchors[(round + k) & 1] : j->anchors[0];
			char got[16];
			if (conc_state(conc_files[f].file, conc_files[f].format, anchors, got) != 0 || strcmp(got, j->expect[f]) != 0)
				j->failures++;
		}
	}
	return NULL;
}

static void test_concurrent_validation(void **st)
{
	(void)st;
	char *dir = tu_tempdir();
	size_t n;
	unsigned char *pem = tu_read_file(ANCHORS, &n);
	const char *copy = tu_path("%s/anchors-copy.pem", dir);
	tu_write_file(copy, pem, n);
	free(pem);
	char *copy_path = strdup(copy);
	assert_non_null(copy_path);

	conc_job jobs[CONC_THREADS];
	memset(jobs, 0, sizeof jobs);
	for (size_t f = 0; f < CONC_FILES; f++) {
		assert_int_equal(conc_state(conc_files[f].file, conc_files[f].format, ANCHORS, jobs[0].expect[f]), 0);
		char again[16];
		assert_int_equal(conc_state(conc_files[f].file, conc_files[f].format, copy_path, again), 0);
		assert_string_equal(again, jobs[0].expect[f]);
	}
	assert_string_equal(jobs[0].expect[0], "Trusted"); /* C.jpg: the anchors are really used */
	pthread_t th[CONC_THREADS];
	for (int i = 0; i < CONC_THREADS; i++) {
		jobs[i].index = i;
		jobs[i].anchors[0] = ANCHORS;
		jobs[i].anchors[1] = copy_path;
		memcpy(jobs[i].expect, jobs[0].expect, sizeof jobs[0].expect);
		assert_int_equal(pthread_create(&th[i], NULL, conc_worker, &jobs[i]), 0);
	}
	for (int i = 0; i < CONC_THREADS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(jobs[i].failures, 0);
	}
	free(copy_path);
	tu_rmtree(dir);
	free(dir);
}

/* The cached trust bundle follows the file: rewritten with other anchors, it no longer trusts the old signer. */
static void test_anchor_cache_follows_the_file(void **st)
{
	(void)st;
	char *dir = tu_tempdir();
	char *path = strdup(tu_path("%s/anchors.pem", dir));
	assert_non_null(path);
	size_t n;
	unsigned char *pem = tu_read_file(ANCHORS, &n);
	tu_write_file(path, pem, n);
	json_t *r = verify_file(FIX("C.jpg"), "jpeg", path);
	assert_string_equal(state(r), "Trusted");
	json_decref(r);
	/* another root in place of the bundle */
	unsigned char *other = tu_read_file(FIX("certs_ed25519.pub"), &n);
	tu_write_file(path, other, n);
	r = verify_file(FIX("C.jpg"), "jpeg", path);
	assert_string_equal(state(r), "Valid");
	json_decref(r);
	/* and back */
	pem = (free(pem), tu_read_file(ANCHORS, &n));
	tu_write_file(path, pem, n);
	r = verify_file(FIX("C.jpg"), "jpeg", path);
	assert_string_equal(state(r), "Trusted");
	json_decref(r);
	free(pem);
	free(other);
	free(path);
	tu_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_c_trusted),
		cmocka_unit_test(test_ca_ingredient),
		cmocka_unit_test(test_caca_chain),
		cmocka_unit_test(test_e_sig_invalid),
		cmocka_unit_test(test_xca_hash_mismatch),
		cmocka_unit_test(test_video_valid_untrusted_ingredient),
		cmocka_unit_test(test_no_manifest),
		cmocka_unit_test(test_missing_anchors_is_eio),
		cmocka_unit_test(test_corrupted_stores),
		cmocka_unit_test(test_jumbf_bad_boxes),
		cmocka_unit_test(test_cbor_scan_limits),
		cmocka_unit_test(test_cose_bad),
		cmocka_unit_test(test_concurrent_validation),
		cmocka_unit_test(test_anchor_cache_follows_the_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

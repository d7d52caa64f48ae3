/* The GB 45438 Annex E record: strict encoding, lenient decoding, validation. */
#include <string.h>

#include "testutil.h"

static aimark_label *parse_ok(const char *text, aimark_findings *f)
{
	aimark_label *l = NULL;
	int rc = aimark_label_parse_json(&l, text, strlen(text), f);
	if (rc != 0)
		fail_msg("parse failed: %s", aimark_error_last());
	return l;
}

static void test_encode_is_annex_e_exact(void **state)
{
	(void)state;
	aimark_label *l = NULL;
	assert_int_equal(aimark_label_new(&l), 0);
	assert_int_equal(aimark_label_set(l, AIMARK_FIELD_LABEL, "1"), 0);
	assert_int_equal(aimark_label_set(l, AIMARK_FIELD_CONTENT_PRODUCER, "001191110102MACQD9K64010000"), 0);
	assert_int_equal(aimark_label_set(l, AIMARK_FIELD_PRODUCE_ID, "id-1"), 0);
	aimark_buf bare = AIMARK_BUF_INIT, wrapped = AIMARK_BUF_INIT;
	assert_int_equal(aimark_label_to_json(l, 0, &bare), 0);
	assert_int_equal(aimark_label_to_json(l, 1, &wrapped), 0);
	assert_string_equal((char *)bare.ptr,
			    "{\"Label\":\"1\",\"ContentProducer\":\"001191110102MACQD9K64010000\",\"ProduceID\":\"id-1\","
			    "\"ReservedCode1\":\"\",\"ContentPropagator\":\"\",\"PropagateID\":\"\",\"ReservedCode2\":\"\"}");
	assert_int_equal(wrapped.size, bare.size + strlen("{\"AIGC\":}"));
	assert_memory_equal(wrapped.ptr, "{\"AIGC\":{\"Label\"", 16);
	aimark_buf_dispose(&bare);
	aimark_buf_dispose(&wrapped);
	aimark_label_free(l);
}

static void test_encode_escapes_quotes(void **state)
{
	(void)state;
	aimark_label *l = NULL;
	assert_int_equal(aimark_label_new(&l), 0);
	assert_int_equal(aimark_label_set(l, AIMARK_FIELD_RESERVED_CODE1, "{\"a\":1}"), 0);
	aimark_buf b = AIMARK_BUF_INIT;
	assert_int_equal(aimark_label_to_json(l, 0, &b), 0);
	assert_non_null(strstr((char *)b.ptr, "\"ReservedCode1\":\"{\\\"a\\\":1}\""));
	aimark_label *back = parse_ok((char *)b.ptr, NULL);
	assert_string_equal(aimark_label_get(back, AIMARK_FIELD_RESERVED_CODE1), "{\"a\":1}");
	aimark_label_free(back);
	aimark_buf_dispose(&b);
	aimark_label_free(l);
}

/* Baidu: {"AIGC": {...}} with Python json.dumps spacing (examples file §4). */
static void test_parse_baidu_wrapped_spaces(void **state)
{
	(void)state;
	const char *text = "{\"AIGC\": {\"Label\": \"1\", \"ContentProducer\": \"001191110000802100433B10005\", \"ProduceID\": "
			   "\"1297407950704593831\", \"ReservedCode1\": \"\", \"ContentPropagator\": \"001191110000802100433B10005\", "
			   "\"PropagateID\": \"1297407950704593831\", \"ReservedCode2\": \"\"}}";
	aimark_findings *f = NULL;
	assert_int_equal(aimark_findings_new(&f), 0);
	aimark_label *l = parse_ok(text, f);
	assert_string_equal(aimark_label_get(l, AIMARK_FIELD_PRODUCE_ID), "1297407950704593831");
	assert_int_equal(aimark_label_validate(l, f), 0);
	assert_false(aimark_findings_has(f, "producer-code"));
	aimark_label_free(l);
	aimark_findings_free(f);
}

/* Qwen: bare object, non-Annex-E key order (examples file §3). */
static void test_parse_qwen_order(void **state)
{
	(void)state;
	const char *text = "{\"ContentPropagator\":\"001191440101MA9Y9T4H7A00000\",\"Label\":\"1\",\"ReservedCode1\":\"58nOgn3ohnaXpKm8TpzlgHTBl+prMkSQIlEoUKGldrQ=\","
			   "\"ProduceID\":\"u:1/task:a/sid:b\",\"ReservedCode2\":\"x\",\"PropagateID\":\"u:1/task:a/sid:b\",\"ContentProducer\":\"001191440101MA9Y9T4H7A00000\"}";
	aimark_findings *f = NULL;
	assert_int_equal(aimark_findings_new(&f), 0);
	aimark_label *l = parse_ok(text, f);
	assert_string_equal(aimark_label_get(l, AIMARK_FIELD_CONTENT_PRODUCER), "001191440101MA9Y9T4H7A00000");
	assert_int_equal(aimark_label_validate(l, f), 0);
	/* Qwen's service digit is 0: reported, not failed. */
	assert_true(aimark_findings_has(f, "service-type"));
	aimark_label_free(l);
	aimark_findings_free(f);
}

/* Kling writes null reserved codes; Honor nested objects (examples §10, §12). */
static void test_parse_null_and_objects(void **state)
{
	(void)state;
	aimark_findings *f = NULL;
	assert_int_equal(aimark_findings_new(&f), 0);
	aimark_label *l = parse_ok("{\"Label\":\"1\",\"ContentProducer\":\"kling\",\"ProduceID\":\"K\",\"ReservedCode1\":null,"
				   "\"ReservedCode2\":{\"SecurityData\":{\"Type\":\"TC260PG\"}}}", f);
	assert_null(aimark_label_get(l, AIMARK_FIELD_RESERVED_CODE1));
	assert_string_equal(aimark_label_get(l, AIMARK_FIELD_RESERVED_CODE2), "{\"SecurityData\":{\"Type\":\"TC260PG\"}}");
	assert_true(aimark_findings_has(f, "null-value"));
	assert_true(aimark_findings_has(f, "non-string-value"));
	assert_int_equal(aimark_label_validate(l, f), 0);
	assert_true(aimark_findings_has(f, "producer-code")); /* a bare name */
	assert_true(aimark_findings_has(f, "absent-field"));
	aimark_label_free(l);
	aimark_findings_free(f);
}

static void test_parse_prefix_and_string_wrapper(void **state)
{
	(void)state;
	aimark_findings *f = NULL;
	assert_int_equal(aimark_findings_new(&f), 0);
	aimark_label *l = parse_ok("  AIGC{\"Label\":\"1\",\"ContentProducer\":\"00119144030008867405X210002\",\"ProduceID\":\"8F995586\"}\n", f);
	assert_string_equal(aimark_label_get(l, AIMARK_FIELD_PRODUCE_ID), "8F995586");
	assert_true(aimark_findings_has(f, "aigc-prefix"));
	aimark_label_free(l);
	l = parse_ok("{\"AIGC\":\"{\\\"Label\\\":\\\"2\\\",\\\"ContentProducer\\\":\\\"p\\\",\\\"ProduceID\\\":\\\"i\\\"}\"}", f);
	assert_string_equal(aimark_label_get(l, AIMARK_FIELD_LABEL), "2");
	assert_true(aimark_findings_has(f, "label-as-string"));
	aimark_label_free(l);
	aimark_findings_free(f);
}

static void test_parse_rejects(void **state)
{
	(void)state;
	static const char *bad[] = { "", "not json", "[1,2]", "{\"foo\":\"bar\"}", "{\"Label\":\"1\"", "\"AIGC\"",
				     "{\"AIGC\":\"not json\"}" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		aimark_label *l = NULL;
		assert_int_equal(aimark_label_parse_json(&l, bad[i], strlen(bad[i]), NULL), AIMARK_EFORMAT);
		assert_null(l);
		assert_non_null(strstr(aimark_error_last(), "label"));
	}
}

static void test_parse_duplicate_keys(void **state)
{
	(void)state;
	aimark_findings *f = NULL;
	assert_int_equal(aimark_findings_new(&f), 0);
	aimark_label *l = parse_ok("{\"Label\":\"1\",\"Label\":\"2\",\"ContentProducer\":\"p\",\"ProduceID\":\"i\"}", f);
	assert_true(aimark_findings_has(f, "json-duplicate-key"));
	aimark_label_free(l);
	aimark_findings_free(f);
}

static void test_validate_errors(void **state)
{
	(void)state;
	aimark_findings *f = NULL;
	assert_int_equal(aimark_findings_new(&f), 0);
	aimark_label *l = parse_ok("{\"Label\":\"4\",\"ContentProducer\":\"\",\"ProduceID\":\"has space\"}", f);
	assert_int_equal(aimark_label_validate(l, f), 2); /* label value, empty producer */
	assert_true(aimark_findings_has(f, "label-value"));
	assert_true(aimark_findings_has(f, "missing-field"));
	assert_true(aimark_findings_has(f, "charset"));
	aimark_label_free(l);
	aimark_findings_free(f);
}

static void test_charset(void **state)
{
	(void)state;
	assert_true(aimark_label_charset_ok("tos-cn-i-tb4s082cfz/71c91abae7bf486ba7b82020b0df8d2e"));
	assert_true(aimark_label_charset_ok("{\"quoted\":1}"));
	assert_false(aimark_label_charset_ok("a b"));
	assert_false(aimark_label_charset_ok("a\\b"));
	assert_false(aimark_label_charset_ok("豆包"));
	assert_false(aimark_label_charset_ok("tab\there"));
}

/* Every real producer code quoted in the examples file passes the coding rule and the USCC check. */
static void test_real_producer_codes(void **state)
{
	(void)state;
	static const char *real[] = {
		"001191110102MACQD9K64010000", "00119144030008867405X210001", "00119144030008867405X220001",
		"001191110000802100433B10005", "001191440300708461136T1WFUO", "001191440300708461136T1XGW3",
		"001191310104MACE0YX63918020", "001191110108335469089C10100", "001191330106MA2CFLDG4R10001",
		"001191440300MA5G49LC9K1YO01",
	};
	for (size_t i = 0; i < sizeof real / sizeof real[0]; i++)
		if (!aimark_label_code_is_valid(real[i]))
			fail_msg("real code %s rejected", real[i]);
	assert_false(aimark_label_code_is_valid("001191440101MA9Y9T4H7A00000")); /* service digit 0 */
	assert_false(aimark_label_code_is_valid("001191110102MACQD9K65010000")); /* check character altered */
	assert_false(aimark_label_code_is_valid("doubao"));
	assert_false(aimark_label_code_is_valid("001191110102MACQD9K6401000"));  /* 26 chars */
}

static void test_clone_and_fields(void **state)
{
	(void)state;
	assert_string_equal(aimark_label_field_name(AIMARK_FIELD_RESERVED_CODE2), "ReservedCode2");
	assert_null(aimark_label_field_name(AIMARK_FIELD_COUNT));
	aimark_label *a = parse_ok("{\"Label\":\"1\",\"ContentProducer\":\"p\",\"ProduceID\":\"i\"}", NULL);
	aimark_label *b = NULL;
	assert_int_equal(aimark_label_clone(&b, a), 0);
	assert_string_equal(aimark_label_get(b, AIMARK_FIELD_PRODUCE_ID), "i");
	assert_int_equal(aimark_label_set(b, AIMARK_FIELD_PRODUCE_ID, NULL), 0);
	assert_null(aimark_label_get(b, AIMARK_FIELD_PRODUCE_ID));
	assert_string_equal(aimark_label_get(a, AIMARK_FIELD_PRODUCE_ID), "i");
	assert_int_equal(aimark_label_set(b, AIMARK_FIELD_COUNT, "x"), AIMARK_EINVAL);
	aimark_label_free(a);
	aimark_label_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_is_annex_e_exact),
		cmocka_unit_test(test_encode_escapes_quotes),
		cmocka_unit_test(test_parse_baidu_wrapped_spaces),
		cmocka_unit_test(test_parse_qwen_order),
		cmocka_unit_test(test_parse_null_and_objects),
		cmocka_unit_test(test_parse_prefix_and_string_wrapper),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_parse_duplicate_keys),
		cmocka_unit_test(test_validate_errors),
		cmocka_unit_test(test_charset),
		cmocka_unit_test(test_real_producer_codes),
		cmocka_unit_test(test_clone_and_fields),
	};
	return cmocka_run_group_tests_name("label", tests, NULL, NULL);
}

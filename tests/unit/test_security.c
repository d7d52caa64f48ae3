/* SecurityData: aimark's signatures and the vendor layouts it recognises. */
#include <string.h>

#include "label/security.h"
#include "testutil.h"

static aimark_label *make_label(void)
{
	aimark_label *l = NULL;
	assert_int_equal(aimark_label_new(&l), 0);
	assert_int_equal(aimark_label_set(l, AIMARK_FIELD_LABEL, "1"), 0);
	assert_int_equal(aimark_label_set(l, AIMARK_FIELD_CONTENT_PRODUCER, "001191110102MACQD9K64010000"), 0);
	assert_int_equal(aimark_label_set(l, AIMARK_FIELD_PRODUCE_ID, "abc123"), 0);
	assert_int_equal(aimark_label_set(l, AIMARK_FIELD_CONTENT_PROPAGATOR, "001191110102MACQD9K64010000"), 0);
	assert_int_equal(aimark_label_set(l, AIMARK_FIELD_PROPAGATE_ID, "abc123"), 0);
	return l;
}

static void sign_into(aimark_label *l, aimark_role role, const aimark_key *key, const unsigned char digest[32])
{
	aimark_buf rc = AIMARK_BUF_INIT;
	assert_int_equal(aimark__security_sign(l, role, key, "aimark.essence.v1/png", digest, 32, &rc), 0);
	assert_true(aimark_label_charset_ok((char *)rc.ptr));
	assert_int_equal(aimark_label_set(l, role == AIMARK_ROLE_PRODUCER ? AIMARK_FIELD_RESERVED_CODE1 : AIMARK_FIELD_RESERVED_CODE2,
					  (char *)rc.ptr), 0);
	aimark_buf_dispose(&rc);
}

static void check_round_trip(aimark_key_alg alg)
{
	aimark_key *key = NULL;
	aimark_trust *trust = NULL;
	assert_int_equal(aimark_key_generate(&key, alg), 0);
	assert_int_equal(aimark_trust_new(&trust), 0);
	unsigned char digest[32];
	memset(digest, 0x5a, sizeof digest);
	aimark_label *l = make_label();
	sign_into(l, AIMARK_ROLE_PRODUCER, key, digest);

	aimark__security_check c;
	assert_int_equal(aimark__security_verify(l, AIMARK_ROLE_PRODUCER, trust, &c, NULL), 0);
	assert_int_equal(c.status, AIMARK_SIG_UNKNOWN_KEY);
	assert_string_equal(c.scheme, "aimark");
	assert_true(c.content_covered);
	assert_memory_equal(c.digest, digest, 32);
	assert_string_equal(c.cntsel, "aimark.essence.v1/png");
	assert_int_equal(c.hash_alg, alg == AIMARK_ALG_SM2 ? AIMARK__HASH_SM3 : AIMARK__HASH_SHA256);

	assert_int_equal(aimark_trust_add_key(trust, key), 0);
	assert_int_equal(aimark__security_verify(l, AIMARK_ROLE_PRODUCER, trust, &c, NULL), 0);
	assert_int_equal(c.status, AIMARK_SIG_VALID);

	/* The propagator fields are not covered by the producer: changing them keeps it valid. */
	assert_int_equal(aimark_label_set(l, AIMARK_FIELD_CONTENT_PROPAGATOR, "platform"), 0);
	assert_int_equal(aimark__security_verify(l, AIMARK_ROLE_PRODUCER, trust, &c, NULL), 0);
	assert_int_equal(c.status, AIMARK_SIG_VALID);

	/* Changing a covered field breaks it. */
	aimark_findings *f = NULL;
	assert_int_equal(aimark_findings_new(&f), 0);
	assert_int_equal(aimark_label_set(l, AIMARK_FIELD_PRODUCE_ID, "abc124"), 0);
	assert_int_equal(aimark__security_verify(l, AIMARK_ROLE_PRODUCER, trust, &c, f), 0);
	assert_int_equal(c.status, AIMARK_SIG_INVALID);
	assert_true(aimark_findings_has(f, "signature-invalid"));
	assert_int_equal(aimark_label_set(l, AIMARK_FIELD_PRODUCE_ID, "abc123"), 0);
	assert_int_equal(aimark_label_set(l, AIMARK_FIELD_LABEL, "2"), 0);
	assert_int_equal(aimark__security_verify(l, AIMARK_ROLE_PRODUCER, trust, &c, NULL), 0);
	assert_int_equal(c.status, AIMARK_SIG_INVALID);

	aimark_findings_free(f);
	aimark_label_free(l);
	aimark_trust_free(trust);
	aimark_key_free(key);
}

static void test_round_trip_sm2(void **s) { (void)s; check_round_trip(AIMARK_ALG_SM2); }
static void test_round_trip_ed25519(void **s) { (void)s; check_round_trip(AIMARK_ALG_ED25519); }
static void test_round_trip_p256(void **s) { (void)s; check_round_trip(AIMARK_ALG_P256); }

static void test_propagator_binds_producer_fields(void **state)
{
	(void)state;
	aimark_key *producer = NULL, *platform = NULL;
	assert_int_equal(aimark_key_generate(&producer, AIMARK_ALG_SM2), 0);
	assert_int_equal(aimark_key_generate(&platform, AIMARK_ALG_ED25519), 0);
	unsigned char digest[32] = { 1, 2, 3 };
	aimark_label *l = make_label();
	sign_into(l, AIMARK_ROLE_PRODUCER, producer, digest);
	assert_int_equal(aimark_label_set(l, AIMARK_FIELD_CONTENT_PROPAGATOR, "00119144030008867405X220001"), 0);
	sign_into(l, AIMARK_ROLE_PROPAGATOR, platform, digest);
	aimark__security_check c;
	assert_int_equal(aimark__security_verify(l, AIMARK_ROLE_PRODUCER, NULL, &c, NULL), 0);
	assert_int_equal(c.status, AIMARK_SIG_UNKNOWN_KEY);
	assert_int_equal(aimark__security_verify(l, AIMARK_ROLE_PROPAGATOR, NULL, &c, NULL), 0);
	assert_int_equal(c.status, AIMARK_SIG_UNKNOWN_KEY);
	assert_int_equal(c.alg, AIMARK_ALG_ED25519);
	/* The propagator's signature covers the producer's fields too. */
	assert_int_equal(aimark_label_set(l, AIMARK_FIELD_CONTENT_PRODUCER, "other"), 0);
	assert_int_equal(aimark__security_verify(l, AIMARK_ROLE_PROPAGATOR, NULL, &c, NULL), 0);
	assert_int_equal(c.status, AIMARK_SIG_INVALID);
	aimark_label_free(l);
	aimark_key_free(producer);
	aimark_key_free(platform);
}

static void test_absent_and_opaque(void **state)
{
	(void)state;
	aimark_label *l = make_label();
	aimark__security_check c;
	assert_int_equal(aimark__security_verify(l, AIMARK_ROLE_PRODUCER, NULL, &c, NULL), 0);
	assert_int_equal(c.status, AIMARK_SIG_ABSENT);
	/* Qwen: base64 of 32 opaque bytes. */
	assert_int_equal(aimark_label_set(l, AIMARK_FIELD_RESERVED_CODE1, "58nOgn3ohnaXpKm8TpzlgHTBl+prMkSQIlEoUKGldrQ="), 0);
	assert_int_equal(aimark__security_verify(l, AIMARK_ROLE_PRODUCER, NULL, &c, NULL), 0);
	assert_int_equal(c.status, AIMARK_SIG_UNVERIFIABLE);
	/* SecurityData without signatures. */
	assert_int_equal(aimark_label_set(l, AIMARK_FIELD_RESERVED_CODE1, "{\"SecurityData\":{\"Type\":\"TC260PG\",\"PubSD\":[]}}"), 0);
	assert_int_equal(aimark__security_verify(l, AIMARK_ROLE_PRODUCER, NULL, &c, NULL), 0);
	assert_int_equal(c.status, AIMARK_SIG_UNVERIFIABLE);
	aimark_label_free(l);
}

/* StepFun signs SM3 of the A.1 string (examples file §8); the key is a DER SPKI in uppercase hex. */
static void test_vendor_stepfun(void **state)
{
	(void)state;
	const char *text =
		"{\"Label\":\"1\",\"ContentProducer\":\"001191310104MACE0YX63918020\",\"ProduceID\":\"142569260085903360\","
		"\"ReservedCode1\":\"{\\\"SecurityData\\\":{\\\"Type\\\":\\\"TC260PG\\\",\\\"Version\\\":1,\\\"PubSD\\\":[{\\\"Type\\\":\\\"DS\\\","
		"\\\"AlgID\\\":\\\"1.2.156.10197.1.501\\\",\\\"TBSData\\\":{\\\"Type\\\":\\\"LabelMataData\\\"},\\\"Signature\\\":"
		"\\\"3046022100AE6B84B3342128AE301A597596FCD9EECF3EA0FC2DB6C250BAF234E167298E9002210097223ABB647B786A90D0A1B93CB9382EA879563B2C7F025FA006BE16AE926C14\\\"},"
		"{\\\"Type\\\":\\\"PubKey\\\",\\\"AlgID\\\":\\\"1.2.156.10197.1.501\\\",\\\"KeyValue\\\":"
		"\\\"3059301306072A8648CE3D020106082A811CCF5501822D034200045728F08C58D9C72150A705693EF7337859F8FF216E802630041AFAE5C036F0A67CB1FDF8C57F5F8B623284AE09E4E545464B7140B26BBDA51BAE965F854C57AA\\\"}]}}\","
		"\"ContentPropagator\":\"001191310104MACE0YX63918020\",\"PropagateID\":\"142569260085903360\",\"ReservedCode2\":\"\"}";
	aimark_label *l = NULL;
	assert_int_equal(aimark_label_parse_json(&l, text, strlen(text), NULL), 0);
	aimark__security_check c;
	assert_int_equal(aimark__security_verify(l, AIMARK_ROLE_PRODUCER, NULL, &c, NULL), 0);
	assert_int_equal(c.status, AIMARK_SIG_UNKNOWN_KEY);
	assert_string_equal(c.scheme, "label-a1-sm3");
	assert_int_equal(c.alg, AIMARK_ALG_SM2);
	assert_false(c.content_covered);
	/* One changed digit of ProduceID: the vendor signature no longer matches any known message. */
	assert_int_equal(aimark_label_set(l, AIMARK_FIELD_PRODUCE_ID, "142569260085903361"), 0);
	assert_int_equal(aimark__security_verify(l, AIMARK_ROLE_PRODUCER, NULL, &c, NULL), 0);
	assert_int_equal(c.status, AIMARK_SIG_UNVERIFIABLE);
	aimark_label_free(l);
}

/* Tencent Yuanbao signs the raw SM3 binding value (examples file §5); unwrapped SecurityData, " TC260PG". */
static void test_vendor_tencent(void **state)
{
	(void)state;
	const char *rc1 =
		"{\"Type\":\" TC260PG\",\"Version\":1,\"Bindings\":[{\"Type\":\"soft\",\"AlgID\":\"phash\",\"Value\":\"83a6ceb559b40f1c\"},"
		"{\"Type\":\"hash\",\"AlgID\":\"sm3\",\"Value\":\"a55d78d15b91ff8b91f7b9ba99472c4db71a3e69fe1d5143ba51df0193c59ae7\"}],"
		"\"PubSD\":[{\"Type\":\"DS\",\"AlgID\":\"sm2\",\"TBSData\":{\"Type\":\"Binding\",\"BType\":\"hash\"},\"Signature\":"
		"\"30450220691f928febac1097459a86ad2da9f957c2c0abcea392f643fb2c6f497597d94d022100c95480c2627606fd711957bc007f9c45f0f84b3a3d96546373b3f73d641d536b\"},"
		"{\"Type\":\"PubKey\",\"AlgID\":\"sm2\",\"KeyValue\":"
		"\"0407f79b28a17a752b3aae4305c98b48978213832729a2571850b1310b2bc9fe8fee039ccf25ebfeac27502414d9fcef792d777183c98893d226171c2f7a3289a2\"}],"
		"\"Extension\":{\"Timestamp\":1766838402,\"KeyVersion\":\"v1-TxLeOmf7bqU223\"}}";
	aimark_label *l = make_label();
	assert_int_equal(aimark_label_set(l, AIMARK_FIELD_RESERVED_CODE1, rc1), 0);
	aimark__security_check c;
	assert_int_equal(aimark__security_verify(l, AIMARK_ROLE_PRODUCER, NULL, &c, NULL), 0);
	assert_int_equal(c.status, AIMARK_SIG_UNKNOWN_KEY);
	assert_string_equal(c.scheme, "binding-hash");
	aimark_label_free(l);
}

static void test_malformed_security_data_never_fails(void **state)
{
	(void)state;
	static const char *bad[] = {
		"{\"SecurityData\":{\"PubSD\":[{\"Type\":\"DS\",\"Signature\":\"zz\"},{\"Type\":\"PubKey\",\"KeyValue\":\"04\"}]}}",
		"{\"SecurityData\":{\"PubSD\":[{\"Type\":\"DS\",\"TBSData\":{\"Type\":\"LabelMetaData+Binding\"},\"Signature\":\"3000\"}]}}",
		"{\"SecurityData\":{\"PubSD\":\"notarray\"}}",
		"{\"PubSd\":[1,2,3]}",
		"{}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		aimark_label *l = make_label();
		assert_int_equal(aimark_label_set(l, AIMARK_FIELD_RESERVED_CODE1, bad[i]), 0);
		aimark__security_check c;
		assert_int_equal(aimark__security_verify(l, AIMARK_ROLE_PRODUCER, NULL, &c, NULL), 0);
		assert_true(c.status == AIMARK_SIG_UNVERIFIABLE || c.status == AIMARK_SIG_INVALID);
		aimark_label_free(l);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_sm2),
		cmocka_unit_test(test_round_trip_ed25519),
		cmocka_unit_test(test_round_trip_p256),
		cmocka_unit_test(test_propagator_binds_producer_fields),
		cmocka_unit_test(test_absent_and_opaque),
		cmocka_unit_test(test_vendor_stepfun),
		cmocka_unit_test(test_vendor_tencent),
		cmocka_unit_test(test_malformed_security_data_never_fails),
	};
	return cmocka_run_group_tests_name("security", tests, NULL, NULL);
}

/* Watermark payload coding: convolutional code, Viterbi decoder, authenticator. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "aimark/watermark.h"
#include "wm/wm_key.h"
#include "wm/wm_payload.h"

static aimark_wm_key *make_key(unsigned char seed)
{
	unsigned char b[AIMARK_WM_KEY_BYTES];
	for (int i = 0; i < AIMARK_WM_KEY_BYTES; i++)
		b[i] = (unsigned char)(seed * 31 + i);
	aimark_wm_key *k = NULL;
	assert_int_equal(aimark_wm_key_new(&k, b), 0);
	return k;
}

static uint64_t g_rng = 88172645463325252ull;
static double uniform(void)
{
	g_rng ^= g_rng << 13;
	g_rng ^= g_rng >> 7;
	g_rng ^= g_rng << 17;
	return (g_rng >> 11) / 9007199254740992.0;
}

static double gauss(void)
{
	double u = uniform() + 1e-12, v = uniform();
	return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

/* Coded bits as soft values (+1 / -1) plus Gaussian noise of `sigma`. */
static void to_soft(const unsigned char *coded, float *soft, double sigma)
{
	for (int i = 0; i < AIMARK__WM_CODED_BITS; i++)
		soft[i] = (float)((coded[i] ? 1.0 : -1.0) + sigma * gauss());
}

static void test_roundtrip_clean(void **state)
{
	(void)state;
	aimark_wm_key *k = make_key(1);
	const unsigned char payload[8] = { 0xde, 0xad, 0xbe, 0xef, 0x01, 0x23, 0x45, 0x67 };
	unsigned char coded[AIMARK__WM_CODED_BITS], got[8];
	float soft[AIMARK__WM_CODED_BITS];
	assert_int_equal(aimark__wm_encode(k, payload, coded), 0);
	to_soft(coded, soft, 0);
	int auth = 0, errors = -1;
	assert_int_equal(aimark__wm_decode(k, soft, got, &auth, &errors), 0);
	assert_int_equal(auth, 1);
	assert_int_equal(errors, 0);
	assert_memory_equal(got, payload, 8);
	aimark_wm_key_free(k);
}

static void test_roundtrip_noisy(void **state)
{
	(void)state;
	aimark_wm_key *k = make_key(2);
	int ok = 0, max_errors = 0;
	for (int trial = 0; trial < 50; trial++) {
		unsigned char payload[8], coded[AIMARK__WM_CODED_BITS], got[8];
		for (int i = 0; i < 8; i++)
			payload[i] = (unsigned char)(uniform() * 256);
		float soft[AIMARK__WM_CODED_BITS];
		assert_int_equal(aimark__wm_encode(k, payload, coded), 0);
		to_soft(coded, soft, 0.8); /* about 11% raw bit errors */
		int auth = 0, errors = 0;
		assert_int_equal(aimark__wm_decode(k, soft, got, &auth, &errors), 0);
		if (auth && memcmp(got, payload, 8) == 0)
			ok++;
		if (errors > max_errors)
			max_errors = errors;
	}
	assert_true(ok >= 48);      /* rate-1/3, K=9 corrects this comfortably */
	assert_true(max_errors > 0); /* the error count reflects the noise */
	aimark_wm_key_free(k);
}

static void test_wrong_key_fails_authentication(void **state)
{
	(void)state;
	aimark_wm_key *a = make_key(3), *b = make_key(4);
	const unsigned char payload[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	unsigned char coded[AIMARK__WM_CODED_BITS], got[8];
	float soft[AIMARK__WM_CODED_BITS];
	assert_int_equal(aimark__wm_encode(a, payload, coded), 0);
	to_soft(coded, soft, 0);
	int auth = 1, errors = 0;
	assert_int_equal(aimark__wm_decode(b, soft, got, &auth, &errors), 0);
	assert_memory_equal(got, payload, 8); /* the bits decode ... */
	assert_int_equal(auth, 0);           /* ... but the tag belongs to another key */
	aimark_wm_key_free(a);
	aimark_wm_key_free(b);
}

static void test_tampered_payload_fails(void **state)
{
	(void)state;
	aimark_wm_key *k = make_key(5);
	const unsigned char payload[8] = { 9, 9, 9, 9, 9, 9, 9, 9 };
	unsigned char info[AIMARK__WM_INFO_BITS], tag[6], coded[AIMARK__WM_CODED_BITS], got[8];
	assert_int_equal(aimark__wm_tag(k, payload, tag), 0);
	for (int i = 0; i < 64; i++)
		info[i] = (payload[i >> 3] >> (7 - (i & 7))) & 1;
	for (int i = 0; i < 48; i++)
		info[64 + i] = (tag[i >> 3] >> (7 - (i & 7))) & 1;
	assert_int_equal(aimark__wm_tag_prefix_match(k, info), 48);
	info[5] ^= 1; /* a different payload with the old tag */
	assert_true(aimark__wm_tag_prefix_match(k, info) < 48);
	aimark__wm_conv_encode(info, coded);
	float soft[AIMARK__WM_CODED_BITS];
	to_soft(coded, soft, 0);
	int auth = 1, errors = 0;
	assert_int_equal(aimark__wm_decode(k, soft, got, &auth, &errors), 0);
	assert_int_equal(auth, 0);
	aimark_wm_key_free(k);
}

static void test_noise_rarely_authenticates(void **state)
{
	(void)state;
	/* Pure noise: the 48-bit tag must never match; the first 8 bits match about 1 in 256. */
	aimark_wm_key *k = make_key(6);
	int auth_count = 0, prefix8 = 0;
	for (int trial = 0; trial < 2000; trial++) {
		float soft[AIMARK__WM_CODED_BITS];
		for (int i = 0; i < AIMARK__WM_CODED_BITS; i++)
			soft[i] = (float)gauss();
		unsigned char got[8], info[AIMARK__WM_INFO_BITS];
		int auth = 0, errors = 0;
		assert_int_equal(aimark__wm_decode(k, soft, got, &auth, &errors), 0);
		auth_count += auth;
		aimark__wm_viterbi(soft, info);
		prefix8 += aimark__wm_tag_prefix_match(k, info) >= 8;
	}
	assert_int_equal(auth_count, 0);
	assert_true(prefix8 <= 25); /* expected 7.8 */
	aimark_wm_key_free(k);
}

static void test_chase_recovers_flipped_bits(void **state)
{
	(void)state;
	/* Strong, clean values except a few wrong and weak ones: plain Viterbi may fail, Chase must not. */
	aimark_wm_key *k = make_key(7);
	const unsigned char payload[8] = { 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80 };
	unsigned char coded[AIMARK__WM_CODED_BITS], got[8];
	assert_int_equal(aimark__wm_encode(k, payload, coded), 0);
	float soft[AIMARK__WM_CODED_BITS];
	to_soft(coded, soft, 0);
	/* a burst of 4 wrong coded bits in one place, weakly held */
	for (int i = 60; i < 64; i++)
		soft[i] = coded[i] ? -0.05f : 0.05f;
	int auth = 0, errors = 0, decodes = 0;
	assert_int_equal(aimark__wm_decode_chase(k, soft, 4, got, &auth, &errors, &decodes), 0);
	assert_int_equal(auth, 1);
	assert_memory_equal(got, payload, 8);
	assert_true(decodes >= 1 && decodes <= 16);
	assert_int_equal(errors, 4);
	/* zero flips is plain decoding: one decode */
	assert_int_equal(aimark__wm_decode_chase(k, soft, 0, got, &auth, &errors, &decodes), 0);
	assert_int_equal(decodes, 1);
	/* noise: never authenticates, and reports every decode it ran */
	for (int i = 0; i < AIMARK__WM_CODED_BITS; i++)
		soft[i] = (float)gauss();
	assert_int_equal(aimark__wm_decode_chase(k, soft, 5, got, &auth, &errors, &decodes), 0);
	assert_int_equal(auth, 0);
	assert_int_equal(decodes, 32);
	aimark_wm_key_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_clean),
		cmocka_unit_test(test_roundtrip_noisy),
		cmocka_unit_test(test_wrong_key_fails_authentication),
		cmocka_unit_test(test_tampered_payload_fails),
		cmocka_unit_test(test_noise_rarely_authenticates),
		cmocka_unit_test(test_chase_recovers_flipped_bits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

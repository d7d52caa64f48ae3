/* Watermark keys: ids, derived layouts, key files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testutil.h"
#include "aimark/watermark.h"
#include "wm/wm_key.h"

static void test_id_is_stable_and_distinct(void **state)
{
	(void)state;
	unsigned char a[32] = { 0 }, b[32] = { 0 };
	b[31] = 1;
	aimark_wm_key *k1 = NULL, *k2 = NULL, *k3 = NULL;
	assert_int_equal(aimark_wm_key_new(&k1, a), 0);
	assert_int_equal(aimark_wm_key_new(&k2, a), 0);
	assert_int_equal(aimark_wm_key_new(&k3, b), 0);
	char i1[17], i2[17], i3[17];
	assert_int_equal(aimark_wm_key_id(k1, i1), 0);
	assert_int_equal(aimark_wm_key_id(k2, i2), 0);
	assert_int_equal(aimark_wm_key_id(k3, i3), 0);
	assert_int_equal(strlen(i1), 16);
	assert_string_equal(i1, i2);
	assert_string_not_equal(i1, i3);
	/* the id is not the key */
	assert_true(strspn(i1, "0123456789abcdef") == 16);
	assert_string_not_equal(i1, "0000000000000000");
	/* equal keys derive equal layouts; different keys different ones */
	assert_memory_equal(&k1->image, &k2->image, sizeof k1->image);
	assert_memory_not_equal(&k1->image, &k3->image, sizeof k1->image);
	int sync = 0;
	for (int i = 0; i < AIMARK__WM_TILE_CHIPS; i++)
		sync += k1->image.bit[i] < 0;
	assert_int_equal(sync, AIMARK__WM_SYNC_CHIPS);
	aimark_wm_key_free(k1);
	aimark_wm_key_free(k2);
	aimark_wm_key_free(k3);
}

static void test_generate_and_bad_args(void **state)
{
	(void)state;
	aimark_wm_key *k1 = NULL, *k2 = NULL;
	assert_int_equal(aimark_wm_key_generate(&k1), 0);
	assert_int_equal(aimark_wm_key_generate(&k2), 0);
	char i1[17], i2[17];
	assert_int_equal(aimark_wm_key_id(k1, i1), 0);
	assert_int_equal(aimark_wm_key_id(k2, i2), 0);
	assert_string_not_equal(i1, i2);
	unsigned char zero[32] = { 0 };
	assert_int_equal(aimark_wm_key_new(NULL, zero), AIMARK_EINVAL);
	aimark_wm_key *k3 = NULL;
	assert_int_equal(aimark_wm_key_new(&k3, NULL), AIMARK_EINVAL);
	assert_null(k3);
	assert_int_equal(aimark_wm_key_id(NULL, i1), AIMARK_EINVAL);
	aimark_wm_key_free(NULL);
	aimark_wm_key_free(k1);
	aimark_wm_key_free(k2);
}

static void test_keydir_roundtrip(void **state)
{
	(void)state;
	char *dir = tu_tempdir();
	const char *sub = tu_path("%s/keys/wm", dir);
	assert_int_equal(aimark_keydir_create_watermark(sub), 0);
	const char *file = tu_path("%s/keys/wm/%s", dir, AIMARK_KEYDIR_WATERMARK_KEY);
	struct stat st;
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, 65);
	/* refuses to overwrite */
	assert_int_equal(aimark_keydir_create_watermark(sub), AIMARK_EEXISTS);
	aimark_wm_key *k = NULL, *k2 = NULL;
	assert_int_equal(aimark_keydir_load_watermark(&k, sub), 0);
	/* the file holds the key: loading it by hand gives the same id */
	size_t len = 0;
	unsigned char *text = tu_read_file(file, &len);
	unsigned char bytes[32];
	for (int i = 0; i < 32; i++) {
		unsigned v = 0;
		assert_int_equal(sscanf((const char *)text + 2 * i, "%2x", &v), 1);
		bytes[i] = (unsigned char)v;
	}
	free(text);
	assert_int_equal(aimark_wm_key_new(&k2, bytes), 0);
	char i1[17], i2[17];
	assert_int_equal(aimark_wm_key_id(k, i1), 0);
	assert_int_equal(aimark_wm_key_id(k2, i2), 0);
	assert_string_equal(i1, i2);
	aimark_wm_key_free(k);
	aimark_wm_key_free(k2);
	tu_rmtree(dir);
	free(dir);
}

static void test_keydir_bad_files(void **state)
{
	(void)state;
	char *dir = tu_tempdir();
	aimark_wm_key *k = NULL;
	assert_int_equal(aimark_keydir_load_watermark(&k, dir), AIMARK_ENOTFOUND);
	assert_null(k);
	const char *file = tu_path("%s/%s", dir, AIMARK_KEYDIR_WATERMARK_KEY);
	static const char *bad[] = {
		"",                                                                    /* empty */
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\n",  /* 63 digits */
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0\n", /* 65 digits */
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg\n",  /* not hex */
		"0123456789abcdef0123456789abcdef 0123456789abcdef0123456789abcdef\n", /* split */
		"-----BEGIN PRIVATE KEY-----\n",                                       /* wrong kind of key */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		tu_write_file(file, bad[i], strlen(bad[i]));
		assert_int_equal(aimark_keydir_load_watermark(&k, dir), AIMARK_EFORMAT);
		assert_null(k);
		assert_non_null(strstr(aimark_error_last(), "watermark key"));
	}
	/* a huge file is refused without reading it all */
	char *big = malloc(10000);
	memset(big, 'a', 10000);
	tu_write_file(file, big, 10000);
	free(big);
	assert_int_equal(aimark_keydir_load_watermark(&k, dir), AIMARK_EFORMAT);
	/* surrounding white space and upper case are accepted */
	const char *ok = "  0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef \r\n";
	tu_write_file(file, ok, strlen(ok));
	assert_int_equal(aimark_keydir_load_watermark(&k, dir), 0);
	aimark_wm_key_free(k);
	assert_int_equal(aimark_keydir_create_watermark(NULL), AIMARK_EINVAL);
	assert_int_equal(aimark_keydir_load_watermark(NULL, dir), AIMARK_EINVAL);
	tu_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_id_is_stable_and_distinct),
		cmocka_unit_test(test_generate_and_bad_args),
		cmocka_unit_test(test_keydir_roundtrip),
		cmocka_unit_test(test_keydir_bad_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

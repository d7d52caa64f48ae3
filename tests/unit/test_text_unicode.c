/* UTF-8 decoding and NFC of the text layers (src/text/text_unicode.c). */
#include <string.h>

#include "testutil.h"

#include "core/internal.h"
#include "text/text_unicode.h"

static void nfc_utf8(const char *in, aimark_buf *out)
{
	size_t n = strlen(in), m = 0;
	uint32_t cps[64];
	for (size_t i = 0; i < n;) {
		int valid;
		i += aimark__utf8_decode((const unsigned char *)in, n, i, &cps[m++], &valid);
	}
	assert_int_equal(aimark__uni_nfc(cps, m, out), 0);
}

/* Expected values from Python's unicodedata.normalize("NFC", ...), Unicode 14.0. */
static void test_nfc_vectors(void **state)
{
	(void)state;
	static const struct { const char *in, *out; } v[] = {
		{ "\x65\xcc\x81", "\xc3\xa9" },
		{ "\x41\xcc\x8a\xcc\x81", "\xc7\xba" },
		{ "\xe1\x84\x80\xe1\x85\xa1\xe1\x86\xa8", "\xea\xb0\x81" },
		{ "\xea\xb0\x80\xe1\x86\xa8", "\xea\xb0\x81" },
		{ "\x61\xcc\xa8\xcc\x81\xcc\xa3", "\xc4\x85\xcc\xa3\xcc\x81" },
		{ "\xe1\xba\x9b\xcc\xa3", "\xe1\xba\x9b\xcc\xa3" },
		{ "\xe0\xa5\x98", "\xe0\xa4\x95\xe0\xa4\xbc" },
		{ "\xe2\x84\xa6", "\xce\xa9" },
		{ "\xe2\x84\xab", "\xc3\x85" },
		{ "\xe0\xad\x87\xe0\xac\xbe", "\xe0\xad\x8b" },
		{ "\x71\xcc\x87\xcc\xa3", "\x71\xcc\xa3\xcc\x87" },
		{ "\xc3\x85\xcc\x96", "\xc3\x85\xcc\x96" },
		{ "\xe1\xbe\x82", "\xe1\xbe\x82" },
		{ "\x41\xcc\x81\xcc\x80\xcc\xa7", "\xc3\x81\xcc\xa7\xcc\x80" },
		{ "\xc4\x92\xcc\x80", "\xe1\xb8\x94" },
		{ "\xd7\x90\xd6\xb7\xd6\xbc", "\xd7\x90\xd6\xb7\xd6\xbc" },
		{ "\xcd\x84", "\xcc\x88\xcc\x81" },
		{ "\xe0\xbd\xb3", "\xe0\xbd\xb1\xe0\xbd\xb2" },
		{ "\xe2\x80\x80\x20\xe2\x80\x81", "\xe2\x80\x82\x20\xe2\x80\x83" },
		{ "\xef\xac\x81", "\xef\xac\x81" },
		{ "\xf0\x9d\x85\x9e", "\xf0\x9d\x85\x97\xf0\x9d\x85\xa5" },
		/* the invisible mark's characters are NFC-stable and block nothing they should not */
		{ "e\xf3\xa0\x84\x80\xcc\x81", "e\xf3\xa0\x84\x80\xcc\x81" },
		{ "\xc3\xa9\xf3\xa0\x86\x80", "\xc3\xa9\xf3\xa0\x86\x80" },
	};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		aimark_buf out = AIMARK_BUF_INIT;
		nfc_utf8(v[i].in, &out);
		if (out.size != strlen(v[i].out) || memcmp(out.ptr, v[i].out, out.size) != 0)
			fail_msg("NFC vector %zu differs", i);
		aimark_buf_dispose(&out);
	}
}

/* Long runs of combining marks take the counting-sort path and stay in canonical order. */
static void test_nfc_long_run(void **state)
{
	(void)state;
	uint32_t cps[101];
	cps[0] = 'a';
	for (int i = 1; i <= 100; i++)
		cps[i] = i % 2 ? 0x301 : 0x323; /* acute (230) and dot below (220) alternate */
	aimark_buf out = AIMARK_BUF_INIT;
	assert_int_equal(aimark__uni_nfc(cps, 101, &out), 0);
	/* a + dot below composes to U+1EA1, then 49 dots below, then 50 acutes */
	assert_memory_equal(out.ptr, "\xe1\xba\xa1", 3);
	size_t pos = 3;
	for (int i = 0; i < 49; i++, pos += 2)
		assert_memory_equal(out.ptr + pos, "\xcc\xa3", 2);
	for (int i = 0; i < 50; i++, pos += 2)
		assert_memory_equal(out.ptr + pos, "\xcc\x81", 2);
	assert_int_equal(out.size, pos);
	aimark_buf_dispose(&out);
}

static void test_utf8_decode(void **state)
{
	(void)state;
	static const struct { const char *s; size_t len, used; uint32_t cp; int valid; } v[] = {
		{ "A", 1, 1, 'A', 1 },
		{ "\xc3\xa9", 2, 2, 0xE9, 1 },
		{ "\xe4\xba\xba", 3, 3, 0x4EBA, 1 },
		{ "\xf3\xa0\x84\x80", 4, 4, 0xE0100, 1 },
		{ "\xc0\xaf", 2, 1, 0xFFFD, 0 },          /* overlong lead */
		{ "\xe0\x80\xaf", 3, 1, 0xFFFD, 0 },      /* overlong 3-byte */
		{ "\xed\xa0\x80", 3, 1, 0xFFFD, 0 },      /* surrogate */
		{ "\xf4\x90\x80\x80", 4, 1, 0xFFFD, 0 },  /* beyond U+10FFFF */
		{ "\xe4\xba", 2, 2, 0xFFFD, 0 },          /* truncated: maximal subpart */
		{ "\xe4\xba" "A", 3, 2, 0xFFFD, 0 },
		{ "\x80", 1, 1, 0xFFFD, 0 },              /* stray continuation */
		{ "\xff", 1, 1, 0xFFFD, 0 },
	};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		uint32_t cp;
		int valid;
		size_t used = aimark__utf8_decode((const unsigned char *)v[i].s, v[i].len, 0, &cp, &valid);
		if (used != v[i].used || cp != v[i].cp || valid != v[i].valid)
			fail_msg("UTF-8 case %zu: used %zu cp %X valid %d", i, used, cp, valid);
	}
}

static void test_classes(void **state)
{
	(void)state;
	assert_true(aimark__uni_nfc_boundary('a'));
	assert_true(aimark__uni_nfc_boundary(0x4E00));
	assert_false(aimark__uni_nfc_boundary(0x301));   /* combining */
	assert_false(aimark__uni_nfc_boundary(0x1161));  /* Hangul vowel joins a leading consonant */
	assert_false(aimark__uni_nfc_boundary(0x0B3E));  /* Oriya vowel sign joins U+0B47 */
	assert_int_equal(aimark__uni_ccc_of(0xE0100), 0);
	assert_int_equal(aimark__uni_ccc_of(0x301), 230);
	assert_true(aimark__uni_is_space(0x3000));
	assert_false(aimark__uni_is_space(0x200B));
	assert_true(aimark__uni_is_wide(0x4EBA));
	assert_true(aimark__uni_is_han(0x4EBA));
	assert_false(aimark__uni_is_han(0x3002));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nfc_vectors),
		cmocka_unit_test(test_nfc_long_run),
		cmocka_unit_test(test_utf8_decode),
		cmocka_unit_test(test_classes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* src/crypto: hashes, signatures, SPKI and raw SM2 points, HMAC, secrets, vendor SM2 vectors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "core/hex.h"
#include "core/internal.h"
#include "crypto/crypto.h"

/* Decodes a hex constant into a fresh buffer; fails the test on bad hex. */
static aimark_buf unhex(const char *hex)
{
	aimark_buf b = AIMARK_BUF_INIT;
	assert_int_equal(aimark__hex_decode(hex, strlen(hex), &b), 0);
	return b;
}

static void assert_digest_hex(const unsigned char *md, const char *hex)
{
	aimark_buf h = AIMARK_BUF_INIT;
	assert_int_equal(aimark__hex_encode(md, 32, 0, &h), 0);
	assert_string_equal((const char *)h.ptr, hex);
	aimark_buf_dispose(&h);
}

/* ---- hashes ---- */

static void test_hash_known_answers(void **state)
{
	(void)state;
	unsigned char md[AIMARK__HASH_MAX];
	assert_int_equal(aimark__hash_oneshot(AIMARK__HASH_SHA256, "abc", 3, md), 0);
	assert_digest_hex(md, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(aimark__hash_oneshot(AIMARK__HASH_SM3, "abc", 3, md), 0);
	assert_digest_hex(md, "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");
	assert_int_equal(aimark__hash_oneshot(AIMARK__HASH_SHA256, NULL, 0, md), 0);
	assert_digest_hex(md, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	/* GB/T 32905 example 2: "abcd" repeated 16 times. */
	char abcd[65];
	for (int i = 0; i < 16; i++)
		memcpy(abcd + 4 * i, "abcd", 4);
	assert_int_equal(aimark__hash_oneshot(AIMARK__HASH_SM3, abcd, 64, md), 0);
	assert_digest_hex(md, "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732");
	assert_int_equal(aimark__hash_oneshot((aimark__hash_alg)99, "abc", 3, md), AIMARK_EINVAL);
}

static void test_hash_streaming_matches_oneshot(void **state)
{
	(void)state;
	static const char text[] = "The quick brown fox jumps over the lazy dog, several times over.";
	const aimark__hash_alg algs[] = { AIMARK__HASH_SHA256, AIMARK__HASH_SM3 };
	for (size_t a = 0; a < 2; a++) {
		unsigned char one[AIMARK__HASH_MAX], streamed[AIMARK__HASH_MAX];
		assert_int_equal(aimark__hash_oneshot(algs[a], text, sizeof text - 1, one), 0);
		aimark__hash *h = NULL;
		assert_int_equal(aimark__hash_new(&h, algs[a]), 0);
		for (size_t i = 0; i < sizeof text - 1; i += 7) {
			size_t n = sizeof text - 1 - i < 7 ? sizeof text - 1 - i : 7;
			assert_int_equal(aimark__hash_update(h, text + i, n), 0);
		}
		assert_int_equal(aimark__hash_update(h, NULL, 0), 0);
		assert_int_equal(aimark__hash_final(h, streamed), 0);
		aimark__hash_free(h);
		assert_memory_equal(one, streamed, 32);
	}
	aimark__hash *h = NULL;
	assert_int_equal(aimark__hash_new(&h, (aimark__hash_alg)0), AIMARK_EINVAL);
	assert_null(h);
	aimark__hash_free(NULL);
}

static void test_hash_alg_names(void **state)
{
	(void)state;
	aimark__hash_alg alg = 0;
	assert_int_equal(aimark__hash_alg_parse("  SM3\t", &alg), 0);
	assert_int_equal(alg, AIMARK__HASH_SM3);
	assert_int_equal(aimark__hash_alg_parse("1.2.156.10197.1.401", &alg), 0);
	assert_int_equal(alg, AIMARK__HASH_SM3);
	assert_int_equal(aimark__hash_alg_parse("Sha256", &alg), 0);
	assert_int_equal(alg, AIMARK__HASH_SHA256);
	assert_int_equal(aimark__hash_alg_parse(" 2.16.840.1.101.3.4.2.1 ", &alg), 0);
	assert_int_equal(alg, AIMARK__HASH_SHA256);
	assert_int_equal(aimark__hash_alg_parse("phash", &alg), AIMARK_EUNSUPPORTED);
	assert_int_equal(aimark__hash_alg_parse("sm", &alg), AIMARK_EUNSUPPORTED);
	assert_int_equal(aimark__hash_alg_parse("sm3x", &alg), AIMARK_EUNSUPPORTED);
	assert_int_equal(aimark__hash_alg_parse("", &alg), AIMARK_EUNSUPPORTED);
	assert_string_equal(aimark__hash_alg_name(AIMARK__HASH_SM3), "sm3");
	assert_string_equal(aimark__hash_alg_oid(AIMARK__HASH_SHA256), "2.16.840.1.101.3.4.2.1");
}

/* ---- signatures ---- */

static const aimark_key_alg all_algs[] = { AIMARK_ALG_SM2, AIMARK_ALG_P256, AIMARK_ALG_ED25519 };

static void test_sign_verify_round_trip(void **state)
{
	(void)state;
	static const char msg[] = "\"Label\":\"1\",\"ContentProducer\":\"x\",\"ProduceID\":\"y\"";
	for (size_t i = 0; i < 3; i++) {
		aimark_key *key = NULL, *other = NULL;
		assert_int_equal(aimark_key_generate(&key, all_algs[i]), 0);
		assert_int_equal(aimark_key_generate(&other, all_algs[i]), 0);
		aimark_buf sig = AIMARK_BUF_INIT;
		assert_int_equal(aimark__sign(key, msg, sizeof msg - 1, &sig), 0);
		if (all_algs[i] == AIMARK_ALG_ED25519)
			assert_int_equal(sig.size, 64);
		else
			assert_int_equal(sig.ptr[0], 0x30); /* DER SEQUENCE{r,s} */
		assert_int_equal(aimark__verify(key, msg, sizeof msg - 1, sig.ptr, sig.size), 1);

		/* tampered message */
		char bad[sizeof msg];
		memcpy(bad, msg, sizeof msg);
		bad[10] ^= 1;
		assert_int_equal(aimark__verify(key, bad, sizeof msg - 1, sig.ptr, sig.size), 0);
		assert_int_equal(aimark__verify(key, msg, sizeof msg - 2, sig.ptr, sig.size), 0);
		/* tampered signature: a flipped bit near the end */
		sig.ptr[sig.size - 3] ^= 0x10;
		assert_int_equal(aimark__verify(key, msg, sizeof msg - 1, sig.ptr, sig.size), 0);
		sig.ptr[sig.size - 3] ^= 0x10;
		/* wrong key */
		assert_int_equal(aimark__verify(other, msg, sizeof msg - 1, sig.ptr, sig.size), 0);
		/* malformed signatures are "not valid", never an error */
		assert_int_equal(aimark__verify(key, msg, sizeof msg - 1, sig.ptr, sig.size - 1), 0);
		assert_int_equal(aimark__verify(key, msg, sizeof msg - 1, sig.ptr, 1), 0);
		assert_int_equal(aimark__verify(key, msg, sizeof msg - 1, NULL, 0), 0);
		static const unsigned char junk[80] = { 0x30, 0x7f, 0x02, 0x81 };
		assert_int_equal(aimark__verify(key, msg, sizeof msg - 1, junk, sizeof junk), 0);
		assert_int_equal(aimark__verify(key, msg, sizeof msg - 1, junk, 64), 0);

		/* empty message signs and verifies */
		assert_int_equal(aimark__sign(key, NULL, 0, &sig), 0);
		assert_int_equal(aimark__verify(key, "", 0, sig.ptr, sig.size), 1);
		assert_int_equal(aimark__verify(key, "x", 1, sig.ptr, sig.size), 0);

		/* a public-only copy verifies but cannot sign */
		aimark_buf der = AIMARK_BUF_INIT;
		aimark_key *pub = NULL;
		assert_int_equal(aimark__key_spki_der(key, &der), 0);
		assert_int_equal(aimark__key_from_spki_der(&pub, der.ptr, der.size), 0);
		assert_int_equal(aimark_key_has_private(pub), 0);
		assert_int_equal(aimark_key_algorithm(pub), all_algs[i]);
		assert_int_equal(aimark__verify(pub, "", 0, sig.ptr, sig.size), 1);
		aimark_buf sig2 = AIMARK_BUF_INIT;
		assert_int_equal(aimark__sign(pub, "x", 1, &sig2), AIMARK_EINVAL);
		assert_int_equal(sig2.size, 0);

		aimark_buf_dispose(&der);
		aimark_buf_dispose(&sig);
		aimark_key_free(pub);
		aimark_key_free(key);
		aimark_key_free(other);
	}
}

static void test_sm2_signatures_are_randomised(void **state)
{
	(void)state;
	/* Two SM2 signatures over one message differ (random k) but both verify. */
	aimark_key *key = NULL;
	assert_int_equal(aimark_key_generate(&key, AIMARK_ALG_SM2), 0);
	aimark_buf s1 = AIMARK_BUF_INIT, s2 = AIMARK_BUF_INIT;
	assert_int_equal(aimark__sign(key, "abc", 3, &s1), 0);
	assert_int_equal(aimark__sign(key, "abc", 3, &s2), 0);
	assert_false(s1.size == s2.size && memcmp(s1.ptr, s2.ptr, s1.size) == 0);
	assert_int_equal(aimark__verify(key, "abc", 3, s1.ptr, s1.size), 1);
	assert_int_equal(aimark__verify(key, "abc", 3, s2.ptr, s2.size), 1);
	assert_int_equal(aimark__key_hash_alg(key), AIMARK__HASH_SM3);
	assert_string_equal(aimark__key_sig_oid(key), "1.2.156.10197.1.501");
	aimark_buf_dispose(&s1);
	aimark_buf_dispose(&s2);
	aimark_key_free(key);
}

static void test_sig_alg_names(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		aimark_key_alg alg;
	} ok[] = {
		{ "1.2.156.10197.1.501", AIMARK_ALG_SM2 }, { " sm2 ", AIMARK_ALG_SM2 },
		{ "SM3withSM2", AIMARK_ALG_SM2 },           { "1.2.840.10045.4.3.2", AIMARK_ALG_P256 },
		{ "ECDSA-with-SHA256", AIMARK_ALG_P256 },    { "p256", AIMARK_ALG_P256 },
		{ "1.3.101.112", AIMARK_ALG_ED25519 },      { "\tEd25519\n", AIMARK_ALG_ED25519 },
	};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		aimark_key_alg alg = 0;
		assert_int_equal(aimark__sig_alg_parse(ok[i].text, &alg), 0);
		assert_int_equal(alg, ok[i].alg);
	}
	aimark_key_alg alg = 0;
	assert_int_equal(aimark__sig_alg_parse("1.2.840.113549.1.1.11", &alg), AIMARK_EUNSUPPORTED);
	assert_int_equal(aimark__sig_alg_parse("rsa", &alg), AIMARK_EUNSUPPORTED);
	assert_int_equal(aimark__sig_alg_parse("1.2.156.10197.1.50", &alg), AIMARK_EUNSUPPORTED);
	assert_int_equal(aimark__sig_alg_parse("", &alg), AIMARK_EUNSUPPORTED);

	const aimark_key_alg algs[] = { AIMARK_ALG_P256, AIMARK_ALG_ED25519 };
	const char *oids[] = { "1.2.840.10045.4.3.2", "1.3.101.112" };
	for (size_t i = 0; i < 2; i++) {
		aimark_key *key = NULL;
		assert_int_equal(aimark_key_generate(&key, algs[i]), 0);
		assert_string_equal(aimark__key_sig_oid(key), oids[i]);
		assert_int_equal(aimark__key_hash_alg(key), AIMARK__HASH_SHA256);
		/* the OID we write parses back to the key's algorithm */
		assert_int_equal(aimark__sig_alg_parse(aimark__key_sig_oid(key), &alg), 0);
		assert_int_equal(alg, algs[i]);
		aimark_key_free(key);
	}
}

/* ---- SPKI and raw SM2 points ---- */

/* The last 65 bytes of an SM2 or P-256 SPKI are the uncompressed point 04||X||Y. */
static void key_point(const aimark_key *key, unsigned char point[65])
{
	aimark_buf der = AIMARK_BUF_INIT;
	assert_int_equal(aimark__key_spki_der(key, &der), 0);
	assert_true(der.size > 65);
	memcpy(point, der.ptr + der.size - 65, 65);
	assert_int_equal(point[0], 0x04);
	aimark_buf_dispose(&der);
}

static void assert_same_key_id(const aimark_key *a, const aimark_key *b)
{
	char ia[65], ib[65];
	assert_int_equal(aimark_key_id(a, ia), 0);
	assert_int_equal(aimark_key_id(b, ib), 0);
	assert_string_equal(ia, ib);
}

static void test_sm2_point_forms(void **state)
{
	(void)state;
	int seen_even = 0, seen_odd = 0;
	for (int round = 0; round < 200 && !(seen_even && seen_odd); round++) {
		aimark_key *key = NULL;
		assert_int_equal(aimark_key_generate(&key, AIMARK_ALG_SM2), 0);
		unsigned char pt[65];
		key_point(key, pt);
		int odd = pt[64] & 1;
		if ((odd && seen_odd) || (!odd && seen_even)) {
			aimark_key_free(key);
			continue;
		}
		seen_odd |= odd;
		seen_even |= !odd;

		aimark_buf sig = AIMARK_BUF_INIT;
		assert_int_equal(aimark__sign(key, "point", 5, &sig), 0);

		unsigned char forms[4][65];
		size_t lens[4] = { 65, 64, 33, 33 };
		memcpy(forms[0], pt, 65);                     /* 04||X||Y */
		memcpy(forms[1], pt + 1, 64);                 /* X||Y */
		forms[2][0] = (unsigned char)(0x02 | odd);    /* compressed */
		memcpy(forms[2] + 1, pt + 1, 32);
		forms[3][0] = 0x00;                           /* vendor x-only */
		memcpy(forms[3] + 1, pt + 1, 32);
		for (int f = 0; f < 4; f++) {
			aimark_key *imp = NULL;
			assert_int_equal(aimark__key_from_sm2_point(&imp, forms[f], lens[f]), 0);
			assert_int_equal(aimark_key_algorithm(imp), AIMARK_ALG_SM2);
			assert_int_equal(aimark_key_has_private(imp), 0);
			int expect = (f == 3 && odd) ? 0 : 1;
			assert_int_equal(aimark__verify(imp, "point", 5, sig.ptr, sig.size), expect);
			unsigned char ipt[65];
			key_point(imp, ipt);
			assert_memory_equal(ipt + 1, pt + 1, 32); /* same X in every form */
			if (expect)
				assert_same_key_id(key, imp);
			else
				assert_int_equal(ipt[64] & 1, 0); /* x-only lifts to the even y */
			aimark_key_free(imp);
			/* from_any_public accepts the same forms */
			assert_int_equal(aimark__key_from_any_public(&imp, forms[f], lens[f]), 0);
			assert_int_equal(aimark__verify(imp, "point", 5, sig.ptr, sig.size), expect);
			aimark_key_free(imp);
		}
		/* the wrong parity of a compressed point is the other key */
		forms[2][0] ^= 1;
		aimark_key *imp = NULL;
		assert_int_equal(aimark__key_from_sm2_point(&imp, forms[2], 33), 0);
		assert_int_equal(aimark__verify(imp, "point", 5, sig.ptr, sig.size), 0);
		aimark_key_free(imp);

		aimark_buf_dispose(&sig);
		aimark_key_free(key);
	}
	assert_true(seen_even && seen_odd);
}

static void test_sm2_point_rejects_bad_points(void **state)
{
	(void)state;
	aimark_buf good = unhex("0407f79b28a17a752b3aae4305c98b48978213832729a2571850b1310b2bc9fe8f"
				"ee039ccf25ebfeac27502414d9fcef792d777183c98893d226171c2f7a3289a2");
	aimark_key *key = NULL;
	assert_int_equal(aimark__key_from_sm2_point(&key, good.ptr, good.size), 0);
	aimark_key_free(key);
	key = NULL;

	unsigned char p[65];
	/* off the curve */
	memcpy(p, good.ptr, 65);
	p[64] ^= 1;
	assert_int_equal(aimark__key_from_sm2_point(&key, p, 65), AIMARK_EFORMAT);
	assert_null(key);
	assert_int_equal(aimark__key_from_any_public(&key, p, 65), AIMARK_EFORMAT);
	/* wrong prefix for 65 bytes (hybrid 06 is not accepted) */
	memcpy(p, good.ptr, 65);
	p[0] = 0x06;
	assert_int_equal(aimark__key_from_sm2_point(&key, p, 65), AIMARK_EFORMAT);
	/* wrong prefix for 33 bytes */
	p[0] = 0x04;
	assert_int_equal(aimark__key_from_sm2_point(&key, p, 33), AIMARK_EFORMAT);
	/* truncated and over-long points */
	assert_int_equal(aimark__key_from_sm2_point(&key, good.ptr, 64 - 1), AIMARK_EFORMAT);
	assert_int_equal(aimark__key_from_sm2_point(&key, good.ptr, 32), AIMARK_EFORMAT);
	assert_int_equal(aimark__key_from_sm2_point(&key, good.ptr, 0), AIMARK_EFORMAT);
	assert_int_equal(aimark__key_from_any_public(&key, good.ptr, 66), AIMARK_EFORMAT);
	assert_int_equal(aimark__key_from_any_public(&key, good.ptr, 1), AIMARK_EFORMAT);
	assert_int_equal(aimark__key_from_any_public(&key, good.ptr, 0), AIMARK_EFORMAT);
	/* X not below the field prime */
	memset(p, 0xff, sizeof p);
	p[0] = 0x02;
	assert_int_equal(aimark__key_from_sm2_point(&key, p, 33), AIMARK_EFORMAT);
	p[0] = 0x04;
	assert_int_equal(aimark__key_from_sm2_point(&key, p, 65), AIMARK_EFORMAT);
	/* some small X have no point (x^3 + ax + b is not a square) */
	int rejected = 0, accepted = 0;
	for (int x = 1; x <= 24; x++) {
		memset(p, 0, 33);
		p[32] = (unsigned char)x;
		int rc = aimark__key_from_sm2_point(&key, p, 33);
		if (rc == 0) {
			accepted++;
			aimark_key_free(key);
			key = NULL;
		} else {
			assert_int_equal(rc, AIMARK_EFORMAT);
			rejected++;
		}
	}
	assert_true(rejected > 0 && accepted > 0);
	assert_null(key);
	aimark_buf_dispose(&good);
}

static const char stepfun_spki[] =
	"3059301306072A8648CE3D020106082A811CCF5501822D034200045728F08C58D9C72150A705693EF7337859F8FF216E80"
	"2630041AFAE5C036F0A67CB1FDF8C57F5F8B623284AE09E4E545464B7140B26BBDA51BAE965F854C57AA";

static void test_spki_round_trip_and_errors(void **state)
{
	(void)state;
	aimark_buf der = unhex(stepfun_spki);
	aimark_key *key = NULL;
	assert_int_equal(aimark__key_from_spki_der(&key, der.ptr, der.size), 0);
	assert_int_equal(aimark_key_algorithm(key), AIMARK_ALG_SM2);
	/* re-encoding gives the vendor's bytes back, so key ids are stable across tools */
	aimark_buf again = AIMARK_BUF_INIT;
	assert_int_equal(aimark__key_spki_der(key, &again), 0);
	assert_int_equal(again.size, der.size);
	assert_memory_equal(again.ptr, der.ptr, der.size);
	char id1[65], id2[65];
	assert_int_equal(aimark_key_id(key, id1), 0);
	assert_int_equal(aimark_key_id(key, id2), 0);
	assert_string_equal(id1, id2);
	assert_int_equal(strlen(id1), 64);
	for (size_t i = 0; i < 64; i++)
		assert_non_null(strchr("0123456789abcdef", id1[i]));
	/* the id is SHA-256 of the DER */
	unsigned char md[32];
	assert_int_equal(aimark__hash_oneshot(AIMARK__HASH_SHA256, der.ptr, der.size, md), 0);
	assert_digest_hex(md, id1);
	aimark_key_free(key);
	key = NULL;

	/* the SPKI and the bare point are the same key */
	assert_int_equal(aimark__key_from_any_public(&key, der.ptr + der.size - 65, 65), 0);
	assert_int_equal(aimark_key_id(key, id2), 0);
	assert_string_equal(id1, id2);
	aimark_key_free(key);
	key = NULL;

	/* truncated, trailing garbage, lying length, wrong curve */
	assert_int_equal(aimark__key_from_spki_der(&key, der.ptr, der.size - 1), AIMARK_EFORMAT);
	assert_int_equal(aimark__key_from_spki_der(&key, der.ptr, 20), AIMARK_EFORMAT);
	assert_int_equal(aimark__key_from_any_public(&key, der.ptr, der.size - 1), AIMARK_EFORMAT);
	unsigned char buf[200];
	memcpy(buf, der.ptr, der.size);
	buf[der.size] = 0;
	assert_int_equal(aimark__key_from_spki_der(&key, buf, der.size + 1), AIMARK_EFORMAT);
	memcpy(buf, der.ptr, der.size);
	buf[1] = 0x7f; /* outer length longer than the data */
	assert_int_equal(aimark__key_from_spki_der(&key, buf, der.size), AIMARK_EFORMAT);
	memcpy(buf, der.ptr, der.size);
	buf[der.size - 1] ^= 1; /* point off the curve */
	assert_int_equal(aimark__key_from_spki_der(&key, buf, der.size), AIMARK_EFORMAT);
	assert_int_equal(aimark__key_from_spki_der(&key, "", 0), AIMARK_EFORMAT);
	assert_null(key);
	assert_true(strlen(aimark_error_last()) > 0);

	/* an RSA key is well-formed but unsupported */
	aimark_buf rsa = unhex("30819f300d06092a864886f70d010101050003818d0030818902818100c96e081965b1240553c256ba997178"
			       "f2463fdf97b58339a318ddcb5fa983a20a9922e34401a020e0b8bce241576021ff3dbb3fcf11b56b736032"
			       "10272eb216f1fddda0bec5ba93261ebbd0ef11f9cbd506611a70ec375e9c1391ead4584cb37b1d7a7319b9"
			       "2315b9ee73827146611d3e13684ba930415b4bad09e0fa61a75ad30203010001");
	assert_int_equal(aimark__key_from_spki_der(&key, rsa.ptr, rsa.size), AIMARK_EUNSUPPORTED);
	assert_int_equal(aimark__key_from_any_public(&key, rsa.ptr, rsa.size), AIMARK_EUNSUPPORTED);
	assert_null(key);
	aimark_buf_dispose(&rsa);
	aimark_buf_dispose(&again);
	aimark_buf_dispose(&der);
}

/* ---- vendor vectors (spec/gb45438-examples.md) ---- */

static void test_vendor_stepfun_sm2(void **state)
{
	(void)state;
	/* §8: RC1 signs SM3 of the A.1 string; the 32 digest bytes are the message. */
	static const struct {
		const char *produce_id;
		const char *sig;
	} files[] = {
		{ "142569260085903360",
		  "3046022100AE6B84B3342128AE301A597596FCD9EECF3EA0FC2DB6C250BAF234E167298E9002210097223ABB647B786A"
		  "90D0A1B93CB9382EA879563B2C7F025FA006BE16AE926C14" },
		{ "147392816552226816",
		  "3045022100E816A5872275AE5414E7E0FD3D9B2C30F7B7FD68609D6486A38DF7CFAA1417B902201A510FBBE50819BAF"
		  "F1FCC7B8527FF23CD40447D41A6776E6BCF1F773AE0DBBC" },
	};
	aimark_buf der = unhex(stepfun_spki);
	aimark_key *key = NULL;
	assert_int_equal(aimark__key_from_any_public(&key, der.ptr, der.size), 0);
	assert_int_equal(aimark_key_algorithm(key), AIMARK_ALG_SM2);
	for (size_t i = 0; i < 2; i++) {
		char a1[160];
		snprintf(a1, sizeof a1, "\"Label\":\"1\",\"ContentProducer\":\"001191310104MACE0YX63918020\",\"ProduceID\":\"%s\"",
			files[i].produce_id);
		unsigned char digest[32];
		assert_int_equal(aimark__hash_oneshot(AIMARK__HASH_SM3, a1, strlen(a1), digest), 0);
		aimark_buf sig = unhex(files[i].sig);
		assert_int_equal(aimark__verify(key, digest, 32, sig.ptr, sig.size), 1);
		/* the vendor did not sign the raw string */
		assert_int_equal(aimark__verify(key, a1, strlen(a1), sig.ptr, sig.size), 0);
		digest[0] ^= 1;
		assert_int_equal(aimark__verify(key, digest, 32, sig.ptr, sig.size), 0);
		aimark_buf_dispose(&sig);
	}
	aimark_key_free(key);
	aimark_buf_dispose(&der);
}

static void test_vendor_tencent_yuanbao_sm2(void **state)
{
	(void)state;
	/* §5: key 04||X||Y, message = the 32 raw bytes of the sm3 binding value; RC1 and RC2 signatures. */
	static const char *sigs[] = {
		"30450220691f928febac1097459a86ad2da9f957c2c0abcea392f643fb2c6f497597d94d022100c95480c2627606fd"
		"711957bc007f9c45f0f84b3a3d96546373b3f73d641d536b",
		"3045022051d27f1ae008f7ade6b0171472f93ffb27a95567ddeb7e6a481c14e418f7b829022100adf19411c2a96c45"
		"36fcf394c660ffec2566c073cbcd295cce88499fa9ac54b5",
	};
	aimark_buf point = unhex("0407f79b28a17a752b3aae4305c98b48978213832729a2571850b1310b2bc9fe8fee039ccf25ebfeac27"
				 "502414d9fcef792d777183c98893d226171c2f7a3289a2");
	aimark_buf msg = unhex("a55d78d15b91ff8b91f7b9ba99472c4db71a3e69fe1d5143ba51df0193c59ae7");
	aimark_key *key = NULL;
	assert_int_equal(aimark__key_from_any_public(&key, point.ptr, point.size), 0);
	for (size_t i = 0; i < 2; i++) {
		aimark_buf sig = unhex(sigs[i]);
		assert_int_equal(aimark__verify(key, msg.ptr, msg.size, sig.ptr, sig.size), 1);
		msg.ptr[31] ^= 0x80;
		assert_int_equal(aimark__verify(key, msg.ptr, msg.size, sig.ptr, sig.size), 0);
		msg.ptr[31] ^= 0x80;
		aimark_buf_dispose(&sig);
	}
	/* the x-only form of this key (its y is even) verifies too */
	assert_int_equal(point.ptr[64] & 1, 0);
	unsigned char xonly[33] = { 0 };
	memcpy(xonly + 1, point.ptr + 1, 32);
	aimark_key *lifted = NULL;
	assert_int_equal(aimark__key_from_any_public(&lifted, xonly, sizeof xonly), 0);
	aimark_buf sig = unhex(sigs[0]);
	assert_int_equal(aimark__verify(lifted, msg.ptr, msg.size, sig.ptr, sig.size), 1);
	assert_same_key_id(key, lifted);
	aimark_buf_dispose(&sig);
	aimark_key_free(lifted);
	aimark_key_free(key);
	aimark_buf_dispose(&msg);
	aimark_buf_dispose(&point);
}

/* ---- MAC, randomness, secrets ---- */

static void test_hmac_sha256(void **state)
{
	(void)state;
	unsigned char mac[32];
	/* RFC 4231 test case 2 */
	assert_int_equal(aimark__hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, mac), 0);
	assert_digest_hex(mac, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	/* RFC 4231 test case 1 */
	unsigned char key[20];
	memset(key, 0x0b, sizeof key);
	assert_int_equal(aimark__hmac_sha256(key, sizeof key, "Hi There", 8, mac), 0);
	assert_digest_hex(mac, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	/* RFC 4231 test case 6: a key longer than the block */
	unsigned char long_key[131];
	memset(long_key, 0xaa, sizeof long_key);
	static const char text[] = "Test Using Larger Than Block-Size Key - Hash Key First";
	assert_int_equal(aimark__hmac_sha256(long_key, sizeof long_key, text, sizeof text - 1, mac), 0);
	assert_digest_hex(mac, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
	/* empty key and message are allowed */
	assert_int_equal(aimark__hmac_sha256(NULL, 0, NULL, 0, mac), 0);
	assert_digest_hex(mac, "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

static void test_random_and_secrets(void **state)
{
	(void)state;
	unsigned char a[32], b[32], zero[32] = { 0 };
	assert_int_equal(aimark__random_bytes(a, sizeof a), 0);
	assert_int_equal(aimark__random_bytes(b, sizeof b), 0);
	assert_false(memcmp(a, b, 32) == 0);
	assert_false(memcmp(a, zero, 32) == 0);
	assert_int_equal(aimark__random_bytes(NULL, 0), 0);

	assert_int_equal(aimark__ct_equal(a, a, 32), 1);
	memcpy(b, a, 32);
	assert_int_equal(aimark__ct_equal(a, b, 32), 1);
	b[31] ^= 1;
	assert_int_equal(aimark__ct_equal(a, b, 32), 0);
	b[31] ^= 1;
	b[0] ^= 0x80;
	assert_int_equal(aimark__ct_equal(a, b, 32), 0);
	assert_int_equal(aimark__ct_equal(a, b, 0), 1);

	aimark__wipe(a, sizeof a);
	assert_memory_equal(a, zero, 32);
	aimark__wipe(NULL, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_known_answers),
		cmocka_unit_test(test_hash_streaming_matches_oneshot),
		cmocka_unit_test(test_hash_alg_names),
		cmocka_unit_test(test_sign_verify_round_trip),
		cmocka_unit_test(test_sm2_signatures_are_randomised),
		cmocka_unit_test(test_sig_alg_names),
		cmocka_unit_test(test_sm2_point_forms),
		cmocka_unit_test(test_sm2_point_rejects_bad_points),
		cmocka_unit_test(test_spki_round_trip_and_errors),
		cmocka_unit_test(test_vendor_stepfun_sm2),
		cmocka_unit_test(test_vendor_tencent_yuanbao_sm2),
		cmocka_unit_test(test_hmac_sha256),
		cmocka_unit_test(test_random_and_secrets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Public key API: generation, PEM files, key ids, key directories, trust sets. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

#include "crypto/crypto.h"

static const aimark_key_alg all_algs[] = { AIMARK_ALG_SM2, AIMARK_ALG_P256, AIMARK_ALG_ED25519 };

/* A self-signed P-256 certificate and the SHA-256 of its key's SPKI (computed with openssl). */
static const char p256_cert[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBgjCCASmgAwIBAgIUFiOGLSs246n5S/CjmYaE2LbRySEwCgYIKoZIzj0EAwIw\n"
	"FjEUMBIGA1UEAwwLYWltYXJrLXRlc3QwIBcNMjYxMTI4MDE1MzMzWhgPMjEyNjEx\n"
	"MDQwMTUzMzNaMBYxFDASBgNVBAMMC2FpbWFyay10ZXN0MFkwEwYHKoZIzj0CAQYI\n"
	"KoZIzj0DAQcDQgAEgme8fV3hMZn3SXEqHhyScSZKzrX/GTdRTHdDEHHRn2cuknsl\n"
	"3EQ8eofCd1gOWmwrp0P8jhnz+JiYlaXzF9cjqqNTMFEwHQYDVR0OBBYEFATQzZCa\n"
	"fmhKqVuo5RsLiZrIWK8tMB8GA1UdIwQYMBaAFATQzZCafmhKqVuo5RsLiZrIWK8t\n"
	"MA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDRwAwRAIgN81/dvVbg2Pzt2ZC\n"
	"5Uato/1mtsTqMQB2ctSmdhe/y40CIBg0k4SO84IzgriOv5EeNziQyPQxqzt0kgu1\n"
	"dCjUNcmV\n"
	"-----END CERTIFICATE-----\n";
static const char p256_cert_key_id[] = "3a78ea7e304ee21c92b6eada1cd20a0365c68ddf77c114010ae1bfb369b76451";

/* A self-signed SM2 certificate (SM3withSM2). */
static const char sm2_cert[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBgTCCASegAwIBAgIUBFNzS+cPsCB5ZBu6gvfQHZ/ESvEwCgYIKoEcz1UBg3Uw\n"
	"FTETMBEGA1UEAwwKYWltYXJrLXNtMjAgFw0yNjExMjgwMTUzMzNaGA8yMTI2MTEw\n"
	"NDAxNTMzM1owFTETMBEGA1UEAwwKYWltYXJrLXNtMjBZMBMGByqGSM49AgEGCCqB\n"
	"HM9VAYItA0IABJ8UWIZrZrY/Wry/hpQNgl7V1gVGuOAI+4S89WLzyyl3TUfgjTGo\n"
	"UhjWNPwjLi1qzJOnp3ASDl9lqGBH8IjuBdejUzBRMB0GA1UdDgQWBBTf4UOH7kad\n"
	"mtNQqBgUua0x7ea1qDAfBgNVHSMEGDAWgBTf4UOH7kadmtNQqBgUua0x7ea1qDAP\n"
	"BgNVHRMBAf8EBTADAQH/MAoGCCqBHM9VAYN1A0gAMEUCIQD8EsHNoi0JiKoU5MdJ\n"
	"RYfu4qJGVT47G/7vnQSIN3PySQIgSB/ukw+j+OQOg2452vyRaGUSBopMEEy9Hubw\n"
	"P04JkSY=\n"
	"-----END CERTIFICATE-----\n";
static const char sm2_cert_key_id[] = "a50f3d6e1f7fd28f799faf7e1c2bca54c7f29eb999ccd558c981f8366ae630db";

/* `openssl ecparam -genkey` output: EC PARAMETERS, then a SEC1 EC PRIVATE KEY. */
static const char sec1_key[] =
	"-----BEGIN EC PARAMETERS-----\n"
	"BggqhkjOPQMBBw==\n"
	"-----END EC PARAMETERS-----\n"
	"-----BEGIN EC PRIVATE KEY-----\n"
	"MHcCAQEEIOnqYlytj/vSZJvX52sZGXtKIhc/xw6UqxOCQSLTPoA4oAoGCCqGSM49\n"
	"AwEHoUQDQgAErkf+eOFWRixSU10u+b1yVKVFZinY1ywxU92e4w0Hb77+I4N5l5au\n"
	"FZgxIHBfPTAy2QxDvSt5effYaEz85Wz8JQ==\n"
	"-----END EC PRIVATE KEY-----\n";
static const char sec1_key_id[] = "4f4c4f456920b7161d22ff1376ff68aac2abe654fa1cecb10ecf22966ee3ec0a";

/* sec1_key with one private-scalar byte changed: the stored public key no longer belongs to it. */
static const char sec1_mismatched[] =
	"-----BEGIN EC PRIVATE KEY-----\n"
	"MHcCAQEEIOnqYlytj/vSZJvX5G2ZXstKIhc/xw6UqxOCQSLTPoA4oAoGCCqGSM49\n"
	"AwEHoUQDQgAErkf+eOFWRixSU10u+b1yVKVFZinY1ywxU92e4w0Hb77+I4N5l5au\n"
	"FZgxIHBfPTAy2QxDvSt5effYaEz85Wz8JQ==\n"
	"-----END EC PRIVATE KEY-----\n";

static const char rsa_pub[] =
	"-----BEGIN PUBLIC KEY-----\n"
	"MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDJbggZZbEkBVPCVrqZcXjyRj/f\n"
	"l7WDOaMY3ctfqYOiCpki40QBoCDguLziQVdgIf89uz/PEbVrc2AyECcushbx/d2g\n"
	"vsW6kyYeu9DvEfnL1QZhGnDsN16cE5Hq1FhMs3sdenMZuSMVue5zgnFGYR0+E2hL\n"
	"qTBBW0utCeD6Yada0wIDAQAB\n"
	"-----END PUBLIC KEY-----\n";

static const char p384_pub[] =
	"-----BEGIN PUBLIC KEY-----\n"
	"MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAE403MJX+areD18kTXilgDDOdtCCbF0QpM\n"
	"F4muYHyTBAAfVcKfmKI7bOHVroA6RVABEEJAK8KfmsHlFlWIIE51b+pok7oJVIbb\n"
	"RCPajrNpB21uVAyrixQdXRUYF3LOJvc9\n"
	"-----END PUBLIC KEY-----\n";

static const char encrypted_key[] =
	"-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
	"MIGbMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAiJ/okc6GIR6wICCAAw\n"
	"DAYIKoZIhvcNAgkFADAdBglghkgBZQMEASoEEGkTrYrsSCXfLw0Zp35K17kEQIjv\n"
	"PqydbX9TvswaSB8G3zrDjGTbhUrSMARYfVvOhrDaTtERiLjlOlBHBCKZGufdfhRl\n"
	"SNVOkqSywmCY/5AoabM=\n"
	"-----END ENCRYPTED PRIVATE KEY-----\n";

static char *key_id_of(const aimark_key *key)
{
	static char ids[4][65];
	static int next;
	char *id = ids[next++ % 4];
	assert_int_equal(aimark_key_id(key, id), 0);
	return id;
}

static void test_alg_names(void **state)
{
	(void)state;
	aimark_key_alg alg = 0;
	for (size_t i = 0; i < 3; i++) {
		const char *name = aimark_key_alg_name(all_algs[i]);
		assert_non_null(name);
		assert_int_equal(aimark_key_alg_parse(name, &alg), 0);
		assert_int_equal(alg, all_algs[i]);
	}
	assert_string_equal(aimark_key_alg_name(AIMARK_ALG_P256), "p256");
	assert_int_equal(aimark_key_alg_parse("ecdsa-p256", &alg), 0);
	assert_int_equal(alg, AIMARK_ALG_P256);
	assert_int_equal(aimark_key_alg_parse("SM2", &alg), 0);
	assert_int_equal(alg, AIMARK_ALG_SM2);
	assert_int_equal(aimark_key_alg_parse("rsa", &alg), AIMARK_EINVAL);
	assert_int_equal(aimark_key_alg_parse("", &alg), AIMARK_EINVAL);
	assert_null(aimark_key_alg_name((aimark_key_alg)42));
	aimark_key *key = NULL;
	assert_int_equal(aimark_key_generate(&key, (aimark_key_alg)42), AIMARK_EINVAL);
	assert_null(key);
}

static void test_generate_and_pem_round_trip(void **state)
{
	(void)state;
	for (size_t i = 0; i < 3; i++) {
		aimark_key *key = NULL, *priv = NULL, *pub = NULL;
		assert_int_equal(aimark_key_generate(&key, all_algs[i]), 0);
		assert_int_equal(aimark_key_algorithm(key), all_algs[i]);
		assert_int_equal(aimark_key_has_private(key), 1);

		aimark_buf priv_pem = AIMARK_BUF_INIT, pub_pem = AIMARK_BUF_INIT;
		assert_int_equal(aimark_key_private_pem(key, &priv_pem), 0);
		assert_int_equal(aimark_key_public_pem(key, &pub_pem), 0);
		assert_non_null(strstr((const char *)priv_pem.ptr, "-----BEGIN PRIVATE KEY-----")); /* PKCS#8 */
		assert_non_null(strstr((const char *)pub_pem.ptr, "-----BEGIN PUBLIC KEY-----"));
		assert_null(strstr((const char *)pub_pem.ptr, "PRIVATE"));

		assert_int_equal(aimark_key_load_pem(&priv, priv_pem.ptr, priv_pem.size), 0);
		assert_int_equal(aimark_key_load_pem(&pub, pub_pem.ptr, pub_pem.size), 0);
		assert_int_equal(aimark_key_algorithm(priv), all_algs[i]);
		assert_int_equal(aimark_key_algorithm(pub), all_algs[i]);
		assert_int_equal(aimark_key_has_private(priv), 1);
		assert_int_equal(aimark_key_has_private(pub), 0);
		assert_string_equal(key_id_of(key), key_id_of(priv));
		assert_string_equal(key_id_of(key), key_id_of(pub));

		/* the reloaded private key signs, the original and the public copy verify */
		aimark_buf sig = AIMARK_BUF_INIT;
		assert_int_equal(aimark__sign(priv, "pem", 3, &sig), 0);
		assert_int_equal(aimark__verify(key, "pem", 3, sig.ptr, sig.size), 1);
		assert_int_equal(aimark__verify(pub, "pem", 3, sig.ptr, sig.size), 1);

		/* a public key has no private PEM */
		aimark_buf none = AIMARK_BUF_INIT;
		assert_int_equal(aimark_key_private_pem(pub, &none), AIMARK_EINVAL);
		assert_int_equal(none.size, 0);

		/* a different key has a different id */
		aimark_key *other = NULL;
		assert_int_equal(aimark_key_generate(&other, all_algs[i]), 0);
		assert_string_not_equal(key_id_of(key), key_id_of(other));
		aimark_key_free(other);

		aimark_buf_dispose(&sig);
		aimark_buf_dispose(&priv_pem);
		aimark_buf_dispose(&pub_pem);
		aimark_key_free(key);
		aimark_key_free(priv);
		aimark_key_free(pub);
	}
	aimark_key_free(NULL);
}

static void test_load_certificates_and_sec1(void **state)
{
	(void)state;
	aimark_key *key = NULL;
	assert_int_equal(aimark_key_load_pem(&key, p256_cert, strlen(p256_cert)), 0);
	assert_int_equal(aimark_key_algorithm(key), AIMARK_ALG_P256);
	assert_int_equal(aimark_key_has_private(key), 0);
	assert_string_equal(key_id_of(key), p256_cert_key_id);
	aimark_key_free(key);

	assert_int_equal(aimark_key_load_pem(&key, sm2_cert, strlen(sm2_cert)), 0);
	assert_int_equal(aimark_key_algorithm(key), AIMARK_ALG_SM2);
	assert_string_equal(key_id_of(key), sm2_cert_key_id);
	aimark_key_free(key);

	/* EC PARAMETERS are skipped; the SEC1 key that follows is used */
	assert_int_equal(aimark_key_load_pem(&key, sec1_key, strlen(sec1_key)), 0);
	assert_int_equal(aimark_key_algorithm(key), AIMARK_ALG_P256);
	assert_int_equal(aimark_key_has_private(key), 1);
	assert_string_equal(key_id_of(key), sec1_key_id);
	aimark_key_free(key);

	/* a certificate followed by a private key: the private key wins */
	aimark_key *gen = NULL;
	assert_int_equal(aimark_key_generate(&gen, AIMARK_ALG_ED25519), 0);
	aimark_buf both = AIMARK_BUF_INIT, priv = AIMARK_BUF_INIT;
	assert_int_equal(aimark_key_private_pem(gen, &priv), 0);
	size_t cert_len = strlen(p256_cert);
	both.ptr = malloc(cert_len + priv.size + 1);
	assert_non_null(both.ptr);
	memcpy(both.ptr, p256_cert, cert_len);
	memcpy(both.ptr + cert_len, priv.ptr, priv.size);
	both.size = cert_len + priv.size;
	assert_int_equal(aimark_key_load_pem(&key, both.ptr, both.size), 0);
	assert_int_equal(aimark_key_algorithm(key), AIMARK_ALG_ED25519);
	assert_int_equal(aimark_key_has_private(key), 1);
	aimark_key_free(key);
	free(both.ptr);
	aimark_buf_dispose(&priv);
	aimark_key_free(gen);
}

static void expect_pem_error(const char *text, size_t len, int code)
{
	aimark_key *key = (aimark_key *)&key; /* must be reset to NULL */
	assert_int_equal(aimark_key_load_pem(&key, text, len), code);
	assert_null(key);
	assert_int_equal(aimark_error_last_code(), code);
	assert_true(strlen(aimark_error_last()) > 0);
}

static void test_load_pem_bad_input(void **state)
{
	(void)state;
	expect_pem_error("", 0, AIMARK_EFORMAT);
	expect_pem_error("hello, not a key\n", 17, AIMARK_EFORMAT);
	/* unsupported key types */
	expect_pem_error(rsa_pub, strlen(rsa_pub), AIMARK_EFORMAT);
	assert_non_null(strstr(aimark_error_last(), "RSA"));
	expect_pem_error(p384_pub, strlen(p384_pub), AIMARK_EFORMAT);
	expect_pem_error(encrypted_key, strlen(encrypted_key), AIMARK_EFORMAT);
	assert_non_null(strstr(aimark_error_last(), "encrypted"));
	/* a private key whose stored public key is not its own */
	expect_pem_error(sec1_mismatched, strlen(sec1_mismatched), AIMARK_EFORMAT);
	assert_non_null(strstr(aimark_error_last(), "does not match"));
	/* only EC PARAMETERS */
	expect_pem_error(sec1_key, 80, AIMARK_EFORMAT);
	/* truncated: no END line */
	expect_pem_error(p256_cert, strlen(p256_cert) / 2, AIMARK_EFORMAT);
	/* a block whose body is not the structure its label claims */
	static const char lying[] = "-----BEGIN PUBLIC KEY-----\nMIIBgjCCASmgAwIBAgIUFiOGLSs2\n-----END PUBLIC KEY-----\n";
	expect_pem_error(lying, sizeof lying - 1, AIMARK_EFORMAT);
	/* bad base64 */
	static const char bad64[] = "-----BEGIN PUBLIC KEY-----\n!!!!****\n-----END PUBLIC KEY-----\n";
	expect_pem_error(bad64, sizeof bad64 - 1, AIMARK_EFORMAT);
	/* a certificate body cut short (valid base64, truncated DER) */
	char cut[1024];
	size_t body = strlen("-----BEGIN CERTIFICATE-----\n") + 65 * 4;
	memcpy(cut, p256_cert, body);
	strcpy(cut + body, "-----END CERTIFICATE-----\n");
	expect_pem_error(cut, strlen(cut), AIMARK_EFORMAT);
}

static void test_load_file(void **state)
{
	(void)state;
	char *dir = tu_tempdir();
	aimark_key *key = NULL;
	assert_int_equal(aimark_key_load_file(&key, tu_path("%s/missing.pem", dir)), AIMARK_EIO);
	assert_null(key);
	assert_int_equal(aimark_key_load_file(&key, dir), AIMARK_EIO); /* a directory */
	tu_write_file(tu_path("%s/cert.pem", dir), p256_cert, strlen(p256_cert));
	assert_int_equal(aimark_key_load_file(&key, tu_path("%s/cert.pem", dir)), 0);
	assert_string_equal(key_id_of(key), p256_cert_key_id);
	aimark_key_free(key);
	key = NULL;
	tu_write_file(tu_path("%s/junk.pem", dir), "junk", 4);
	assert_int_equal(aimark_key_load_file(&key, tu_path("%s/junk.pem", dir)), AIMARK_EFORMAT);
	assert_non_null(strstr(aimark_error_last(), "junk.pem"));
	assert_null(key);
	tu_rmtree(dir);
	free(dir);
}

static void test_keydir(void **state)
{
	(void)state;
	char *base = tu_tempdir();
	char *dir = strdup(tu_path("%s/keys/nested", base));
	assert_int_equal(aimark_keydir_create(dir, AIMARK_ALG_SM2), 0);

	struct stat st;
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(stat(tu_path("%s/" AIMARK_KEYDIR_SIGNING_KEY, dir), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(tu_path("%s/" AIMARK_KEYDIR_SIGNING_PUB, dir), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);

	aimark_key *signing = NULL, *pub = NULL;
	assert_int_equal(aimark_keydir_load_signing(&signing, dir), 0);
	assert_int_equal(aimark_key_algorithm(signing), AIMARK_ALG_SM2);
	assert_int_equal(aimark_key_has_private(signing), 1);
	assert_int_equal(aimark_key_load_file(&pub, tu_path("%s/" AIMARK_KEYDIR_SIGNING_PUB, dir)), 0);
	assert_int_equal(aimark_key_has_private(pub), 0);
	assert_string_equal(key_id_of(signing), key_id_of(pub));

	/* refuses to overwrite, and leaves the existing key untouched */
	size_t before_len = 0, after_len = 0;
	unsigned char *before = tu_read_file(tu_path("%s/" AIMARK_KEYDIR_SIGNING_KEY, dir), &before_len);
	assert_int_equal(aimark_keydir_create(dir, AIMARK_ALG_ED25519), AIMARK_EEXISTS);
	unsigned char *after = tu_read_file(tu_path("%s/" AIMARK_KEYDIR_SIGNING_KEY, dir), &after_len);
	assert_int_equal(before_len, after_len);
	assert_memory_equal(before, after, before_len);
	free(before);
	free(after);

	/* either file existing is enough to refuse */
	char *dir2 = strdup(tu_path("%s/only-pub", base));
	assert_int_equal(mkdir(dir2, 0700), 0);
	tu_write_file(tu_path("%s/" AIMARK_KEYDIR_SIGNING_PUB, dir2), "x", 1);
	assert_int_equal(aimark_keydir_create(dir2, AIMARK_ALG_P256), AIMARK_EEXISTS);
	assert_int_equal(access(tu_path("%s/" AIMARK_KEYDIR_SIGNING_KEY, dir2), F_OK), -1);

	/* missing key, public key in place of the private one, path that is a file */
	aimark_key *none = NULL;
	assert_int_equal(aimark_keydir_load_signing(&none, tu_path("%s/absent", base)), AIMARK_ENOTFOUND);
	assert_int_equal(aimark_keydir_load_signing(&none, dir2), AIMARK_ENOTFOUND);
	aimark_buf pem = AIMARK_BUF_INIT;
	assert_int_equal(aimark_key_public_pem(pub, &pem), 0);
	tu_write_file(tu_path("%s/" AIMARK_KEYDIR_SIGNING_KEY, dir2), pem.ptr, pem.size);
	assert_int_equal(aimark_keydir_load_signing(&none, dir2), AIMARK_EFORMAT);
	assert_null(none);
	tu_write_file(tu_path("%s/plainfile", base), "x", 1);
	assert_int_equal(aimark_keydir_create(tu_path("%s/plainfile", base), AIMARK_ALG_P256), AIMARK_EIO);
	assert_int_equal(aimark_keydir_create(tu_path("%s/bad-alg", base), (aimark_key_alg)0), AIMARK_EINVAL);

	/* every algorithm */
	for (size_t i = 0; i < 3; i++) {
		const char *d = tu_path("%s/alg%zu", base, i);
		assert_int_equal(aimark_keydir_create(d, all_algs[i]), 0);
		aimark_key *k = NULL;
		assert_int_equal(aimark_keydir_load_signing(&k, d), 0);
		assert_int_equal(aimark_key_algorithm(k), all_algs[i]);
		aimark_key_free(k);
	}

	aimark_buf_dispose(&pem);
	aimark_key_free(signing);
	aimark_key_free(pub);
	tu_rmtree(base);
	free(dir);
	free(dir2);
	free(base);
}

static void write_pem(const char *path, const aimark_key *key, int private_part)
{
	aimark_buf pem = AIMARK_BUF_INIT;
	assert_int_equal(private_part ? aimark_key_private_pem(key, &pem) : aimark_key_public_pem(key, &pem), 0);
	tu_write_file(path, pem.ptr, pem.size);
	aimark_buf_dispose(&pem);
}

static void test_trust(void **state)
{
	(void)state;
	char *dir = tu_tempdir();
	aimark_key *a = NULL, *b = NULL, *c = NULL, *d = NULL;
	assert_int_equal(aimark_key_generate(&a, AIMARK_ALG_SM2), 0);
	assert_int_equal(aimark_key_generate(&b, AIMARK_ALG_ED25519), 0);
	assert_int_equal(aimark_key_generate(&c, AIMARK_ALG_P256), 0);
	assert_int_equal(aimark_key_generate(&d, AIMARK_ALG_P256), 0);
	write_pem(tu_path("%s/a.pub", dir), a, 0);
	write_pem(tu_path("%s/b.key", dir), b, 1); /* a private key contributes its public part */
	tu_write_file(tu_path("%s/cert.PEM", dir), p256_cert, strlen(p256_cert));
	write_pem(tu_path("%s/c.txt", dir), c, 0); /* wrong suffix: ignored */
	tu_write_file(tu_path("%s/README.pem", dir), "not a key\n", 10); /* not a key: skipped */
	tu_write_file(tu_path("%s/rsa.pub", dir), rsa_pub, strlen(rsa_pub)); /* unsupported: skipped */
	assert_int_equal(mkdir(tu_path("%s/sub.pem", dir), 0700), 0);   /* a directory: skipped */

	aimark_trust *trust = NULL;
	assert_int_equal(aimark_trust_new(&trust), 0);
	assert_int_equal(aimark_trust_count(trust), 0);
	assert_int_equal(aimark_trust_add_path(trust, dir), 0);
	assert_int_equal(aimark_trust_count(trust), 3);
	assert_int_equal(aimark_trust_contains_id(trust, key_id_of(a)), 1);
	assert_int_equal(aimark_trust_contains_id(trust, key_id_of(b)), 1);
	assert_int_equal(aimark_trust_contains_id(trust, p256_cert_key_id), 1);
	assert_int_equal(aimark_trust_contains_id(trust, key_id_of(c)), 0);

	/* ids match in either case; anything but 64 characters never matches */
	char upper[65];
	strcpy(upper, key_id_of(a));
	for (char *p = upper; *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	assert_int_equal(aimark_trust_contains_id(trust, upper), 1);
	char prefix[65];
	strcpy(prefix, key_id_of(a));
	prefix[63] = '\0';
	assert_int_equal(aimark_trust_contains_id(trust, prefix), 0);
	assert_int_equal(aimark_trust_contains_id(trust, ""), 0);
	assert_int_equal(aimark_trust_contains_id(trust, NULL), 0);

	/* a single file, a key added directly, and duplicates counting once */
	write_pem(tu_path("%s/c.txt", dir), c, 0);
	assert_int_equal(aimark_trust_add_path(trust, tu_path("%s/c.txt", dir)), 0);
	assert_int_equal(aimark_trust_count(trust), 4);
	assert_int_equal(aimark_trust_contains_id(trust, key_id_of(c)), 1);
	assert_int_equal(aimark_trust_add_key(trust, d), 0);
	assert_int_equal(aimark_trust_count(trust), 5);
	assert_int_equal(aimark_trust_add_key(trust, d), 0);
	assert_int_equal(aimark_trust_add_path(trust, dir), 0);
	assert_int_equal(aimark_trust_count(trust), 5);

	/* a file that is not a key, a missing path, a directory without keys */
	assert_int_equal(aimark_trust_add_path(trust, tu_path("%s/README.pem", dir)), AIMARK_EFORMAT);
	assert_int_equal(aimark_trust_add_path(trust, tu_path("%s/nothing-here", dir)), AIMARK_ENOTFOUND);
	assert_int_equal(aimark_trust_add_path(trust, tu_path("%s/sub.pem", dir)), AIMARK_ENOTFOUND);
	tu_write_file(tu_path("%s/sub.pem/notes.pub", dir), "nope", 4);
	assert_int_equal(aimark_trust_add_path(trust, tu_path("%s/sub.pem", dir)), AIMARK_ENOTFOUND);
	assert_int_equal(aimark_trust_count(trust), 5);

	/* many keys grow the set */
	for (int i = 0; i < 20; i++) {
		aimark_key *k = NULL;
		assert_int_equal(aimark_key_generate(&k, AIMARK_ALG_ED25519), 0);
		assert_int_equal(aimark_trust_add_key(trust, k), 0);
		aimark_key_free(k);
	}
	assert_int_equal(aimark_trust_count(trust), 25);
	assert_int_equal(aimark_trust_contains_id(trust, key_id_of(a)), 1);

	aimark_trust_free(trust);
	aimark_trust_free(NULL);
	aimark_key_free(a);
	aimark_key_free(b);
	aimark_key_free(c);
	aimark_key_free(d);
	tu_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alg_names),
		cmocka_unit_test(test_generate_and_pem_round_trip),
		cmocka_unit_test(test_load_certificates_and_sec1),
		cmocka_unit_test(test_load_pem_bad_input),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_keydir),
		cmocka_unit_test(test_trust),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

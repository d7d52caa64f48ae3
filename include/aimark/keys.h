/*
 * aimark/keys.h - signing keys, key directories and trust sets.
 *
 * THREAD SAFETY: a key or trust set is immutable once built and may be shared
 * by any number of threads for signing and verifying. Building (add/load)
 * must happen on one thread before sharing.
 */
#ifndef AIMARK_KEYS_H
#define AIMARK_KEYS_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Signature algorithms for the GB 45438 SecurityData. */
typedef enum aimark_key_alg {
	AIMARK_ALG_SM2 = 1,     /* SM2 with SM3, user id "1234567812345678" (default) */
	AIMARK_ALG_ED25519 = 2, /* Ed25519 (content hash SHA-256) */
	AIMARK_ALG_P256 = 3     /* ECDSA P-256 with SHA-256 */
} aimark_key_alg;

typedef struct aimark_key aimark_key;

/** "sm2", "ed25519" or "p256"; NULL for an unknown value. */
AIMARK_API const char *aimark_key_alg_name(aimark_key_alg alg);

/** Parses "sm2", "ed25519", "p256" (also "ecdsa-p256"). Returns 0 or AIMARK_EINVAL. */
AIMARK_API AIMARK_NODISCARD int aimark_key_alg_parse(const char *name, aimark_key_alg *out);

/** Generates a new key pair. Returns 0, AIMARK_EINVAL or AIMARK_ECRYPTO. */
AIMARK_API AIMARK_NODISCARD int aimark_key_generate(aimark_key **out, aimark_key_alg alg);

/**
 * Loads a PEM private key (PKCS#8) or public key (SubjectPublicKeyInfo), or
 * an X.509 certificate (its public key). SM2 keys are recognised by their
 * curve. Returns 0, AIMARK_EFORMAT (not PEM, or an unsupported key type) or
 * AIMARK_ENOMEM.
 */
AIMARK_API AIMARK_NODISCARD int aimark_key_load_pem(aimark_key **out, const void *pem, size_t len);

/** aimark_key_load_pem() on a file's contents; AIMARK_EIO if unreadable. */
AIMARK_API AIMARK_NODISCARD int aimark_key_load_file(aimark_key **out, const char *path);

/** Writes the private key as PKCS#8 PEM. AIMARK_EINVAL if the key is public only. */
AIMARK_API AIMARK_NODISCARD int aimark_key_private_pem(const aimark_key *key, aimark_buf *out);

/** Writes the public key as SubjectPublicKeyInfo PEM. */
AIMARK_API AIMARK_NODISCARD int aimark_key_public_pem(const aimark_key *key, aimark_buf *out);

/** 1 when the key holds a private part, else 0. */
AIMARK_API int aimark_key_has_private(const aimark_key *key);

AIMARK_API aimark_key_alg aimark_key_algorithm(const aimark_key *key);

/**
 * The key identifier: lowercase hex SHA-256 of the DER SubjectPublicKeyInfo,
 * 64 characters plus NUL written to `out`. Returns 0 or AIMARK_ECRYPTO.
 */
AIMARK_API AIMARK_NODISCARD int aimark_key_id(const aimark_key *key, char out[65]);

/** Frees (wiping private material). Accepts NULL. */
AIMARK_API void aimark_key_free(aimark_key *key);

/** File names inside a key directory. */
#define AIMARK_KEYDIR_SIGNING_KEY "signing.key"
#define AIMARK_KEYDIR_SIGNING_PUB "signing.pub"

/**
 * Creates `dir` (if absent) and writes a fresh key pair as dir/signing.key
 * (mode 0600) and dir/signing.pub. Refuses with AIMARK_EEXISTS when either
 * file exists. Returns 0, AIMARK_EEXISTS, AIMARK_EIO or AIMARK_ECRYPTO.
 */
AIMARK_API AIMARK_NODISCARD int aimark_keydir_create(const char *dir, aimark_key_alg alg);

/** Loads dir/signing.key. Returns 0, AIMARK_ENOTFOUND, AIMARK_EIO or AIMARK_EFORMAT. */
AIMARK_API AIMARK_NODISCARD int aimark_keydir_load_signing(aimark_key **out, const char *dir);

/** A set of public keys a verifier trusts. */
typedef struct aimark_trust aimark_trust;

AIMARK_API AIMARK_NODISCARD int aimark_trust_new(aimark_trust **out);

/** Adds a copy of the public part of `key`. */
AIMARK_API AIMARK_NODISCARD int aimark_trust_add_key(aimark_trust *trust, const aimark_key *key);

/**
 * Adds the key in a PEM file. For a key directory (one holding signing.pub),
 * adds its signing key only; for any other directory, every *.pub, *.pem and
 * *.key file in it that holds a key (private keys contribute their public
 * part). A directory with no key is AIMARK_ENOTFOUND.
 */
AIMARK_API AIMARK_NODISCARD int aimark_trust_add_path(aimark_trust *trust, const char *path);

/** Number of keys in the set. */
AIMARK_API size_t aimark_trust_count(const aimark_trust *trust);

/** 1 when a key with this id (aimark_key_id) is trusted. */
AIMARK_API int aimark_trust_contains_id(const aimark_trust *trust, const char *key_id);

AIMARK_API void aimark_trust_free(aimark_trust *trust);

#ifdef __cplusplus
}
#endif
#endif

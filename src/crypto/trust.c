/* Trust sets: the public keys a verifier accepts, matched by key id. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/internal.h"
#include "crypto/crypto.h"

struct aimark_trust {
	aimark_key **keys;
	char (*ids)[65];
	size_t count;
	size_t cap;
};

int aimark_trust_new(aimark_trust **out)
{
	RETURN_IF(out == NULL, AIMARK_EINVAL, "trust: no output pointer");
	*out = aimark__calloc(1, sizeof **out);
	RETURN_ENOMEM_IF_NULL(*out);
	return 0;
}

void aimark_trust_free(aimark_trust *trust)
{
	if (trust == NULL)
		return;
	for (size_t i = 0; i < trust->count; i++)
		aimark_key_free(trust->keys[i]);
	aimark__free(trust->keys);
	aimark__free(trust->ids);
	aimark__free(trust);
}

size_t aimark_trust_count(const aimark_trust *trust)
{
	return trust ? trust->count : 0;
}

static int hex_id_equal(const char *a, const char *b)
{
	for (size_t i = 0; i < 64; i++) {
		char x = a[i], y = b[i];
		if (x >= 'A' && x <= 'F')
			x = (char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'F')
			y = (char)(y - 'A' + 'a');
		if (x != y)
			return 0;
	}
	return 1;
}

int aimark_trust_contains_id(const aimark_trust *trust, const char *key_id)
{
	if (trust == NULL || key_id == NULL || strnlen(key_id, 65) != 64)
		return 0;
	for (size_t i = 0; i < trust->count; i++) {
		if (hex_id_equal(trust->ids[i], key_id))
			return 1;
	}
	return 0;
}

static int grow(aimark_trust *trust)
{
	if (trust->count < trust->cap)
		return 0;
	size_t cap = trust->cap ? trust->cap * 2 : 8;
	RETURN_IF(cap < trust->cap || cap > SIZE_MAX / sizeof(char[65]), AIMARK_ENOMEM, "trust: too many keys");
	aimark_key **keys = aimark__realloc(trust->keys, cap * sizeof *keys);
	RETURN_ENOMEM_IF_NULL(keys);
	trust->keys = keys;
	char (*ids)[65] = aimark__realloc(trust->ids, cap * sizeof *ids);
	RETURN_ENOMEM_IF_NULL(ids);
	trust->ids = ids;
	trust->cap = cap;
	return 0;
}

int aimark_trust_add_key(aimark_trust *trust, const aimark_key *key)
{
	RETURN_IF(trust == NULL || key == NULL, AIMARK_EINVAL, "trust: bad argument");
	char id[65];
	RETURN_IF_ERR(aimark_key_id(key, id));
	if (aimark_trust_contains_id(trust, id))
		return 0; /* a set: the same key twice counts once */

	/* Keep only the public part: a round trip through SPKI DER drops the private key. */
	aimark_buf der = AIMARK_BUF_INIT;
	aimark_key *pub = NULL;
	int rc = aimark__key_spki_der(key, &der);
	if (rc == 0)
		rc = aimark__key_from_spki_der(&pub, der.ptr, der.size);
	aimark_buf_dispose(&der);
	if (rc == 0)
		rc = grow(trust);
	if (rc < 0) {
		aimark_key_free(pub);
		return rc;
	}
	trust->keys[trust->count] = pub;
	memcpy(trust->ids[trust->count], id, sizeof id);
	trust->count++;
	return 0;
}

static int has_key_suffix(const char *name)
{
	static const char *const suffixes[] = { ".pub", ".pem", ".key" };
	size_t n = strlen(name);
	for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
		size_t s = strlen(suffixes[i]);
		if (n > s && strcasecmp(name + n - s, suffixes[i]) == 0)
			return 1;
	}
	return 0;
}

static int add_file(aimark_trust *trust, const char *path)
{
	aimark_key *key = NULL;
	RETURN_IF_ERR(aimark_key_load_file(&key, path));
	int rc = aimark_trust_add_key(trust, key);
	aimark_key_free(key);
	return rc;
}

static int add_dir(aimark_trust *trust, const char *dir)
{
	DIR *d = opendir(dir);
	RETURN_IF(d == NULL, AIMARK_EIO, "%s: cannot open directory: %s", dir, strerror(errno));
	size_t found = 0;
	int rc = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || !has_key_suffix(e->d_name))
			continue;
		char path[4096];
		int n = snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		if (n < 0 || (size_t)n >= sizeof path)
			continue;
		struct stat st;
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		rc = add_file(trust, path);
		if (rc == AIMARK_ENOMEM)
			break;
		if (rc < 0) {
			/* Not a key (a README.pem, a parameters file): skip it. */
			rc = 0;
			continue;
		}
		found++;
	}
	closedir(d);
	if (rc < 0)
		return rc;
	RETURN_IF(found == 0, AIMARK_ENOTFOUND, "%s: no key in any *.pub, *.pem or *.key file", dir);
	return 0;
}

int aimark_trust_add_path(aimark_trust *trust, const char *path)
{
	RETURN_IF(trust == NULL || path == NULL, AIMARK_EINVAL, "trust: bad argument");
	struct stat st;
	if (stat(path, &st) != 0) {
		RETURN_IF(errno == ENOENT, AIMARK_ENOTFOUND, "%s: no such file or directory", path);
		return aimark__error_set(AIMARK_EIO, "%s: %s", path, strerror(errno));
	}
	if (S_ISDIR(st.st_mode)) {
		/*
		 * A key directory contributes its signing key only: the C2PA
		 * certificates and keys beside it sign manifests, not labels.
		 */
		char pub[4096];
		int n = snprintf(pub, sizeof pub, "%s/%s", path, AIMARK_KEYDIR_SIGNING_PUB);
		if (n > 0 && (size_t)n < sizeof pub && stat(pub, &st) == 0 && S_ISREG(st.st_mode))
			return add_file(trust, pub);
		return add_dir(trust, path);
	}
	return add_file(trust, path);
}

/* Key directories: dir/signing.key (PKCS#8 PEM, mode 0600) and dir/signing.pub (SPKI PEM). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fs_internal.h"
#include "core/internal.h"
#include "crypto/crypto.h"

static int refuse_existing(const char *path)
{
	struct stat st;
	if (lstat(path, &st) == 0)
		return aimark__error_set(AIMARK_EEXISTS, "%s: exists, refusing to overwrite", path);
	RETURN_IF(errno != ENOENT, AIMARK_EIO, "%s: %s", path, strerror(errno));
	return 0;
}

int aimark_keydir_create(const char *dir, aimark_key_alg alg)
{
	RETURN_IF(dir == NULL, AIMARK_EINVAL, "key directory: no path");
	RETURN_IF(aimark_key_alg_name(alg) == NULL, AIMARK_EINVAL, "key directory: unknown algorithm %d", (int)alg);
	char key_path[AIMARK__PATH_CAP], pub_path[AIMARK__PATH_CAP];
	RETURN_IF_ERR(aimark__path_join(key_path, dir, AIMARK_KEYDIR_SIGNING_KEY));
	RETURN_IF_ERR(aimark__path_join(pub_path, dir, AIMARK_KEYDIR_SIGNING_PUB));
	RETURN_IF_ERR(aimark__mkdir_p(dir));
	RETURN_IF_ERR(refuse_existing(key_path));
	RETURN_IF_ERR(refuse_existing(pub_path));

	aimark_key *key = NULL;
	aimark_buf priv = AIMARK_BUF_INIT, pub = AIMARK_BUF_INIT;
	int rc = aimark_key_generate(&key, alg);
	if (rc == 0)
		rc = aimark_key_private_pem(key, &priv);
	if (rc == 0)
		rc = aimark_key_public_pem(key, &pub);
	if (rc == 0)
		rc = aimark__write_new_file(key_path, priv.ptr, priv.size, 0600);
	if (rc == 0) {
		rc = aimark__write_new_file(pub_path, pub.ptr, pub.size, 0644);
		if (rc < 0)
			unlink(key_path); /* leave no half-made key pair behind */
	}
	if (priv.ptr != NULL)
		aimark__wipe(priv.ptr, priv.capacity);
	aimark_buf_dispose(&priv);
	aimark_buf_dispose(&pub);
	aimark_key_free(key);
	return rc;
}

int aimark_keydir_load_signing(aimark_key **out, const char *dir)
{
	RETURN_IF(out == NULL || dir == NULL, AIMARK_EINVAL, "key directory: bad argument");
	*out = NULL;
	char key_path[AIMARK__PATH_CAP];
	RETURN_IF_ERR(aimark__path_join(key_path, dir, AIMARK_KEYDIR_SIGNING_KEY));
	struct stat st;
	if (stat(key_path, &st) != 0) {
		RETURN_IF(errno == ENOENT || errno == ENOTDIR, AIMARK_ENOTFOUND, "%s: no signing key (%s)", key_path,
			strerror(errno));
		return aimark__error_set(AIMARK_EIO, "%s: %s", key_path, strerror(errno));
	}
	aimark_key *key = NULL;
	RETURN_IF_ERR(aimark_key_load_file(&key, key_path));
	if (!aimark_key_has_private(key)) {
		aimark_key_free(key);
		return aimark__error_set(AIMARK_EFORMAT, "%s: holds a public key, not a private signing key", key_path);
	}
	*out = key;
	return 0;
}

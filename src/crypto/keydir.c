/* Key directories: dir/signing.key (PKCS#8 PEM, mode 0600) and dir/signing.pub (SPKI PEM). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/internal.h"
#include "crypto/crypto.h"

#define PATH_CAP 4096

static int join_path(char out[PATH_CAP], const char *dir, const char *name)
{
	int n = snprintf(out, PATH_CAP, "%s/%s", dir, name);
	RETURN_IF(n < 0 || n >= PATH_CAP, AIMARK_EINVAL, "key directory: path too long: %.200s", dir);
	return 0;
}

/* Creates `dir` and any missing parents with mode 0700 (mkdir -p). */
static int make_dirs(const char *dir)
{
	char path[PATH_CAP];
	size_t len = strlen(dir);
	RETURN_IF(len == 0, AIMARK_EINVAL, "key directory: empty path");
	RETURN_IF(len >= sizeof path, AIMARK_EINVAL, "key directory: path too long: %.200s", dir);
	memcpy(path, dir, len + 1);
	for (size_t i = 1; i <= len; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		char saved = path[i];
		path[i] = '\0';
		if (mkdir(path, 0700) != 0 && errno != EEXIST)
			return aimark__error_set(AIMARK_EIO, "%s: cannot create directory: %s", path, strerror(errno));
		path[i] = saved;
	}
	struct stat st;
	RETURN_IF(stat(dir, &st) != 0, AIMARK_EIO, "%s: %s", dir, strerror(errno));
	RETURN_IF(!S_ISDIR(st.st_mode), AIMARK_EIO, "%s: exists and is not a directory", dir);
	return 0;
}

/* Writes a new file; never replaces an existing one. */
static int write_new_file(const char *path, const unsigned char *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0) {
		if (errno == EEXIST)
			return aimark__error_set(AIMARK_EEXISTS, "%s: exists, refusing to overwrite", path);
		return aimark__error_set(AIMARK_EIO, "%s: cannot create: %s", path, strerror(errno));
	}
	int rc = 0;
	/* The umask may have removed bits from `mode`; set it exactly. */
	if (fchmod(fd, mode) != 0)
		rc = aimark__error_set(AIMARK_EIO, "%s: cannot set mode %o: %s", path, (unsigned)mode, strerror(errno));
	size_t done = 0;
	while (rc == 0 && done < len) {
		ssize_t n = write(fd, data + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			rc = aimark__error_set(AIMARK_EIO, "%s: write failed: %s", path, n < 0 ? strerror(errno) : "no progress");
		else
			done += (size_t)n;
	}
	if (rc == 0 && fsync(fd) != 0)
		rc = aimark__error_set(AIMARK_EIO, "%s: fsync failed: %s", path, strerror(errno));
	if (close(fd) != 0 && rc == 0)
		rc = aimark__error_set(AIMARK_EIO, "%s: close failed: %s", path, strerror(errno));
	if (rc < 0)
		unlink(path);
	return rc;
}

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
	char key_path[PATH_CAP], pub_path[PATH_CAP];
	RETURN_IF_ERR(join_path(key_path, dir, AIMARK_KEYDIR_SIGNING_KEY));
	RETURN_IF_ERR(join_path(pub_path, dir, AIMARK_KEYDIR_SIGNING_PUB));
	RETURN_IF_ERR(make_dirs(dir));
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
		rc = write_new_file(key_path, priv.ptr, priv.size, 0600);
	if (rc == 0) {
		rc = write_new_file(pub_path, pub.ptr, pub.size, 0644);
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
	char key_path[PATH_CAP];
	RETURN_IF_ERR(join_path(key_path, dir, AIMARK_KEYDIR_SIGNING_KEY));
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

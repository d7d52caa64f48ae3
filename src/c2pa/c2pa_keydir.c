/* C2PA key directories: DIR/c2pa-chain.pem, DIR/c2pa.key and, for test directories, DIR/c2pa-root.pem. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aimark/c2pa.h"
#include "core/internal.h"
#include "crypto/crypto.h"
#include "crypto/x509_c2pa.h"

#define PATH_CAP 4096
#define FILE_MAX (1024 * 1024)

static int read_small_file(const char *path, aimark_buf *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return aimark__error_set(errno == ENOENT ? AIMARK_ENOTFOUND : AIMARK_EIO, "%s: %s", path, strerror(errno));
	int rc = 0;
	unsigned char buf[8192];
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = aimark__error_set(AIMARK_EIO, "%s: %s", path, strerror(errno));
			break;
		}
		if (n == 0)
			break;
		if (out->size + (size_t)n > FILE_MAX) {
			rc = aimark__error_set(AIMARK_ELIMIT, "%s: larger than %d bytes", path, FILE_MAX);
			break;
		}
		if ((rc = aimark__buf_append(out, buf, (size_t)n)) < 0)
			break;
	}
	close(fd);
	return rc;
}

int aimark_c2pa_signer_load_files(aimark_c2pa_signer **out, const char *chain_path, const char *key_path)
{
	RETURN_IF(out == NULL || chain_path == NULL || key_path == NULL, AIMARK_EINVAL, "C2PA signer: NULL argument");
	*out = NULL;
	aimark_buf chain = AIMARK_BUF_INIT, key = AIMARK_BUF_INIT;
	int rc = read_small_file(chain_path, &chain);
	if (rc == 0)
		rc = read_small_file(key_path, &key);
	if (rc == 0) {
		rc = aimark_c2pa_signer_load_pem(out, chain.ptr, chain.size, key.ptr, key.size);
		if (rc < 0)
			aimark__error_prefix("%s", chain_path);
	}
	if (key.ptr)
		aimark__wipe(key.ptr, key.size);
	aimark_buf_dispose(&chain);
	aimark_buf_dispose(&key);
	return rc;
}

static int join(char out[PATH_CAP], const char *dir, const char *name)
{
	int n = snprintf(out, PATH_CAP, "%s/%s", dir, name);
	RETURN_IF(n < 0 || n >= PATH_CAP, AIMARK_EINVAL, "C2PA key directory: path too long: %.200s", dir);
	return 0;
}

int aimark_c2pa_signer_load_dir(aimark_c2pa_signer **out, const char *dir)
{
	RETURN_IF(out == NULL || dir == NULL, AIMARK_EINVAL, "C2PA signer: NULL argument");
	char chain[PATH_CAP], key[PATH_CAP];
	RETURN_IF_ERR(join(chain, dir, AIMARK_C2PA_KEYDIR_CHAIN));
	RETURN_IF_ERR(join(key, dir, AIMARK_C2PA_KEYDIR_KEY));
	return aimark_c2pa_signer_load_files(out, chain, key);
}

static int write_new(const char *path, const aimark_buf *b, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return aimark__error_set(errno == EEXIST ? AIMARK_EEXISTS : AIMARK_EIO, "%s: %s", path,
					 errno == EEXIST ? "exists, refusing to overwrite" : strerror(errno));
	int rc = fchmod(fd, mode) == 0 ? 0 : aimark__error_set(AIMARK_EIO, "%s: %s", path, strerror(errno));
	size_t done = 0;
	while (rc == 0 && done < b->size) {
		ssize_t n = write(fd, b->ptr + done, b->size - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			rc = aimark__error_set(AIMARK_EIO, "%s: %s", path, strerror(errno));
		else
			done += (size_t)n;
	}
	if (rc == 0 && fsync(fd) != 0)
		rc = aimark__error_set(AIMARK_EIO, "%s: %s", path, strerror(errno));
	if (close(fd) != 0 && rc == 0)
		rc = aimark__error_set(AIMARK_EIO, "%s: %s", path, strerror(errno));
	if (rc < 0)
		unlink(path);
	return rc;
}

static int make_dirs(const char *dir)
{
	char path[PATH_CAP];
	size_t len = strlen(dir);
	RETURN_IF(len == 0 || len >= sizeof path, AIMARK_EINVAL, "C2PA key directory: bad path");
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
	RETURN_IF(stat(dir, &st) != 0 || !S_ISDIR(st.st_mode), AIMARK_EIO, "%s: not a directory", dir);
	return 0;
}

int aimark_c2pa_keydir_create_test(const char *dir, const char *organization, const char *common_name, unsigned int days)
{
	RETURN_IF(dir == NULL, AIMARK_EINVAL, "C2PA key directory: no path");
	RETURN_IF(organization == NULL || *organization == '\0', AIMARK_EINVAL,
		  "C2PA key directory: an organization (O=) is required by the C2PA certificate profile");
	RETURN_IF(strlen(organization) > 64 || (common_name && strlen(common_name) > 64), AIMARK_EINVAL,
		  "C2PA key directory: organization and common name are limited to 64 characters");
	RETURN_IF(days > 36500, AIMARK_EINVAL, "C2PA key directory: validity of %u days is too long", days);
	char chain[PATH_CAP], key[PATH_CAP], root[PATH_CAP];
	RETURN_IF_ERR(join(chain, dir, AIMARK_C2PA_KEYDIR_CHAIN));
	RETURN_IF_ERR(join(key, dir, AIMARK_C2PA_KEYDIR_KEY));
	RETURN_IF_ERR(join(root, dir, AIMARK_C2PA_KEYDIR_ROOT));
	RETURN_IF_ERR(make_dirs(dir));
	const char *paths[3] = { chain, key, root };
	for (int i = 0; i < 3; i++)
		RETURN_IF(access(paths[i], F_OK) == 0, AIMARK_EEXISTS, "%s: exists, refusing to overwrite", paths[i]);
	aimark_buf leaf = AIMARK_BUF_INIT, leaf_key = AIMARK_BUF_INIT, root_pem = AIMARK_BUF_INIT;
	int rc = aimark__x509_make_test_ca(organization, common_name ? common_name : "aimark C2PA signer",
					   days ? (int)days : 825, &leaf, &leaf_key, &root_pem);
	if (rc == 0)
		rc = write_new(key, &leaf_key, 0600);
	if (rc == 0) {
		rc = write_new(chain, &leaf, 0644);
		if (rc < 0)
			unlink(key);
	}
	if (rc == 0) {
		rc = write_new(root, &root_pem, 0644);
		if (rc < 0) {
			unlink(key);
			unlink(chain);
		}
	}
	if (leaf_key.ptr)
		aimark__wipe(leaf_key.ptr, leaf_key.size);
	aimark_buf_dispose(&leaf);
	aimark_buf_dispose(&leaf_key);
	aimark_buf_dispose(&root_pem);
	return rc;
}

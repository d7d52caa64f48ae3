/* C2PA key directories: DIR/c2pa-chain.pem, DIR/c2pa.key and, for test directories, DIR/c2pa-root.pem. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aimark/c2pa.h"
#include "core/fs_internal.h"
#include "core/internal.h"
#include "crypto/crypto.h"
#include "crypto/x509_c2pa.h"

#define FILE_MAX (1024 * 1024)

static int read_small_file(const char *path, aimark_buf *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return aimark__error_set(errno == ENOENT ? AIMARK_ENOTFOUND : AIMARK_EIO, "%s: %s", path, strerror(errno));
	int rc = 0;
	/* One allocation of the file's size, so that a private key leaves no copy in memory freed by a realloc. */
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 && st.st_size <= FILE_MAX)
		rc = aimark__buf_reserve_exact(out, (size_t)st.st_size);
	unsigned char buf[8192];
	while (rc == 0) {
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
	aimark__wipe(buf, sizeof buf);
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

int aimark_c2pa_signer_load_dir(aimark_c2pa_signer **out, const char *dir)
{
	RETURN_IF(out == NULL || dir == NULL, AIMARK_EINVAL, "C2PA signer: NULL argument");
	char chain[AIMARK__PATH_CAP], key[AIMARK__PATH_CAP];
	RETURN_IF_ERR(aimark__path_join(chain, dir, AIMARK_C2PA_KEYDIR_CHAIN));
	RETURN_IF_ERR(aimark__path_join(key, dir, AIMARK_C2PA_KEYDIR_KEY));
	return aimark_c2pa_signer_load_files(out, chain, key);
}

int aimark_c2pa_keydir_create_test(const char *dir, const char *organization, const char *common_name, unsigned int days)
{
	RETURN_IF(dir == NULL, AIMARK_EINVAL, "C2PA key directory: no path");
	RETURN_IF(organization == NULL || *organization == '\0', AIMARK_EINVAL,
		  "C2PA key directory: an organization (O=) is required by the C2PA certificate profile");
	RETURN_IF(strlen(organization) > 64 || (common_name && strlen(common_name) > 64), AIMARK_EINVAL,
		  "C2PA key directory: organization and common name are limited to 64 characters");
	RETURN_IF(days > 36500, AIMARK_EINVAL, "C2PA key directory: validity of %u days is too long", days);
	char chain[AIMARK__PATH_CAP], key[AIMARK__PATH_CAP], root[AIMARK__PATH_CAP];
	RETURN_IF_ERR(aimark__path_join(chain, dir, AIMARK_C2PA_KEYDIR_CHAIN));
	RETURN_IF_ERR(aimark__path_join(key, dir, AIMARK_C2PA_KEYDIR_KEY));
	RETURN_IF_ERR(aimark__path_join(root, dir, AIMARK_C2PA_KEYDIR_ROOT));
	RETURN_IF_ERR(aimark__mkdir_p(dir));
	const char *paths[3] = { chain, key, root };
	for (int i = 0; i < 3; i++)
		RETURN_IF(access(paths[i], F_OK) == 0, AIMARK_EEXISTS, "%s: exists, refusing to overwrite", paths[i]);
	aimark_buf leaf = AIMARK_BUF_INIT, leaf_key = AIMARK_BUF_INIT, root_pem = AIMARK_BUF_INIT;
	int rc = aimark__x509_make_test_ca(organization, common_name ? common_name : "aimark C2PA signer",
					   days ? (int)days : 825, &leaf, &leaf_key, &root_pem);
	if (rc == 0)
		rc = aimark__write_new_file(key, leaf_key.ptr, leaf_key.size, 0600);
	if (rc == 0) {
		rc = aimark__write_new_file(chain, leaf.ptr, leaf.size, 0644);
		if (rc < 0)
			unlink(key);
	}
	if (rc == 0) {
		rc = aimark__write_new_file(root, root_pem.ptr, root_pem.size, 0644);
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

/* Watermark key files: dir/watermark.key holds the 32-byte secret as 64 hex digits (mode 0600). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aimark/watermark.h"
#include "core/internal.h"
#include "crypto/crypto.h"

#define PATH_CAP 4096
#define FILE_CAP 256 /* a key file is 65 bytes; anything much larger is not one */

static int key_path(char out[PATH_CAP], const char *dir)
{
	int n = snprintf(out, PATH_CAP, "%s/%s", dir, AIMARK_KEYDIR_WATERMARK_KEY);
	RETURN_IF(n < 0 || n >= PATH_CAP, AIMARK_EINVAL, "key directory: path too long: %.200s", dir);
	return 0;
}

static int make_dir(const char *dir)
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

int aimark_keydir_create_watermark(const char *dir)
{
	RETURN_IF(dir == NULL, AIMARK_EINVAL, "key directory: no path");
	char path[PATH_CAP];
	RETURN_IF_ERR(key_path(path, dir));
	RETURN_IF_ERR(make_dir(dir));
	unsigned char secret[AIMARK_WM_KEY_BYTES];
	char text[2 * AIMARK_WM_KEY_BYTES + 1];
	RETURN_IF_ERR(aimark__random_bytes(secret, sizeof secret));
	static const char hexd[] = "0123456789abcdef";
	for (size_t i = 0; i < sizeof secret; i++) {
		text[2 * i] = hexd[secret[i] >> 4];
		text[2 * i + 1] = hexd[secret[i] & 15];
	}
	text[2 * sizeof secret] = '\n';
	aimark__wipe(secret, sizeof secret);
	int rc = 0;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = errno == EEXIST ? aimark__error_set(AIMARK_EEXISTS, "%s: exists, refusing to overwrite", path)
				     : aimark__error_set(AIMARK_EIO, "%s: cannot create: %s", path, strerror(errno));
		aimark__wipe(text, sizeof text);
		return rc;
	}
	if (fchmod(fd, 0600) != 0)
		rc = aimark__error_set(AIMARK_EIO, "%s: cannot set mode 600: %s", path, strerror(errno));
	size_t done = 0;
	while (rc == 0 && done < sizeof text) {
		ssize_t n = write(fd, text + done, sizeof text - done);
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
	aimark__wipe(text, sizeof text);
	return rc;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int aimark_keydir_load_watermark(aimark_wm_key **out, const char *dir)
{
	RETURN_IF(out == NULL || dir == NULL, AIMARK_EINVAL, "key directory: bad argument");
	*out = NULL;
	char path[PATH_CAP];
	RETURN_IF_ERR(key_path(path, dir));
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		RETURN_IF(errno == ENOENT || errno == ENOTDIR, AIMARK_ENOTFOUND, "%s: no watermark key (%s)", path, strerror(errno));
		return aimark__error_set(AIMARK_EIO, "%s: %s", path, strerror(errno));
	}
	char text[FILE_CAP];
	size_t len = 0;
	int rc = 0;
	for (;;) {
		ssize_t n = read(fd, text + len, sizeof text - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = aimark__error_set(AIMARK_EIO, "%s: read failed: %s", path, strerror(errno));
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == sizeof text) {
			rc = aimark__error_set(AIMARK_EFORMAT, "%s: watermark key: file longer than %d bytes", path, FILE_CAP - 1);
			break;
		}
	}
	close(fd);
	unsigned char secret[AIMARK_WM_KEY_BYTES];
	if (rc == 0) {
		size_t i = 0, digits = 0;
		while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n'))
			i++;
		for (; i < len && digits < 2 * sizeof secret; i++, digits++) {
			int v = hexval((unsigned char)text[i]);
			if (v < 0)
				break;
			if (digits % 2 == 0)
				secret[digits / 2] = (unsigned char)(v << 4);
			else
				secret[digits / 2] |= (unsigned char)v;
		}
		size_t stop = i;
		while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n'))
			i++;
		if (digits != 2 * sizeof secret || i != len)
			rc = aimark__error_set(AIMARK_EFORMAT, "%s: watermark key: expected 64 hex digits, problem at offset %zu", path,
					       digits != 2 * sizeof secret ? stop : i);
	}
	if (rc == 0)
		rc = aimark_wm_key_new(out, secret);
	aimark__wipe(secret, sizeof secret);
	aimark__wipe(text, sizeof text);
	return rc;
}

/* Watermark key files: dir/watermark.key holds the 32-byte secret as 64 hex digits (mode 0600). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aimark/watermark.h"
#include "core/fs_internal.h"
#include "core/internal.h"
#include "crypto/crypto.h"

#define FILE_CAP 256 /* a key file is 65 bytes; anything much larger is not one */

static int key_path(char out[AIMARK__PATH_CAP], const char *dir)
{
	return aimark__path_join(out, dir, AIMARK_KEYDIR_WATERMARK_KEY);
}

int aimark_keydir_create_watermark(const char *dir)
{
	RETURN_IF(dir == NULL, AIMARK_EINVAL, "key directory: no path");
	char path[AIMARK__PATH_CAP];
	RETURN_IF_ERR(key_path(path, dir));
	RETURN_IF_ERR(aimark__mkdir_p(dir));
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
	int rc = aimark__write_new_file(path, text, sizeof text, 0600);
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
	char path[AIMARK__PATH_CAP];
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

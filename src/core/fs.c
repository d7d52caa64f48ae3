/* Files the key directories are made of (fs_internal.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fs_internal.h"
#include "core/internal.h"

int aimark__path_join(char out[AIMARK__PATH_CAP], const char *dir, const char *name)
{
	int n = snprintf(out, AIMARK__PATH_CAP, "%s/%s", dir, name);
	RETURN_IF(n < 0 || n >= AIMARK__PATH_CAP, AIMARK_EINVAL, "key directory: path too long: %.200s", dir);
	return 0;
}

int aimark__mkdir_p(const char *dir)
{
	char path[AIMARK__PATH_CAP];
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

int aimark__write_new_file(const char *path, const void *data, size_t len, mode_t mode)
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
	const unsigned char *p = data;
	size_t done = 0;
	while (rc == 0 && done < len) {
		ssize_t n = write(fd, p + done, len - done);
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

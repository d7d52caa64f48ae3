/* File and path helpers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tool_fs.h"

char *tool_path_join(const char *dir, const char *name)
{
	size_t dl = strlen(dir), nl = strlen(name);
	while (dl > 1 && dir[dl - 1] == '/')
		dl--;
	int slash = !(dl > 0 && dir[dl - 1] == '/');
	char *p = malloc(dl + (size_t)slash + nl + 1);
	if (p == NULL)
		return NULL;
	memcpy(p, dir, dl);
	if (slash)
		p[dl] = '/';
	memcpy(p + dl + (size_t)slash, name, nl + 1);
	return p;
}

int tool_path_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

int tool_is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int tool_is_regular(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int tool_same_file(const char *a, const char *b)
{
	struct stat sa, sb;
	if (stat(a, &sa) != 0 || stat(b, &sb) != 0)
		return 0;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }

int tool_read_first_line(const char *path, size_t max, char **out)
{
	*out = NULL;
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return errno == ENOENT ? 0 : -1;
	char *buf = malloc(max + 1);
	if (buf == NULL) {
		fclose(f);
		errno = ENOMEM;
		return -1;
	}
	size_t n = fread(buf, 1, max, f);
	int read_error = ferror(f);
	int more = !read_error && n == max && fgetc(f) != EOF;
	fclose(f);
	if (read_error) {
		free(buf);
		errno = EIO;
		return -1;
	}
	buf[n] = '\0';
	char *nl = memchr(buf, '\n', n);
	if (nl)
		*nl = '\0';
	else if (more) {
		free(buf);
		errno = EFBIG;
		return -1;
	}
	char *start = buf;
	while (*start && is_space(*start))
		start++;
	size_t len = strlen(start);
	while (len > 0 && is_space(start[len - 1]))
		len--;
	memmove(buf, start, len);
	buf[len] = '\0';
	*out = buf;
	return 1;
}

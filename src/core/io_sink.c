/* Sequential output: memory buffer, or a temp file renamed into place on commit. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aimark/io.h"
#include "internal.h"
#include "io_internal.h"

#define FILE_BUFFER_SIZE (256 * 1024)

struct aimark_sink {
	aimark_buf *mem;     /* memory sink target */
	int fd;              /* file sink temp file */
	char *path;          /* destination */
	char *tmp_path;      /* temp file beside it */
	unsigned char *wbuf; /* write-behind buffer for file sinks */
	size_t wlen;
	uint64_t written;
	int committed;
	int failed;
	uint64_t expect;     /* memory sinks: bytes to make room for at the first write (0: grow as needed) */
};

int aimark_sink_new_buffer(aimark_sink **out, aimark_buf *buf)
{
	RETURN_IF(out == NULL || buf == NULL, AIMARK_EINVAL, "sink: NULL argument");
	aimark_sink *s = aimark__calloc(1, sizeof *s);
	RETURN_ENOMEM_IF_NULL(s);
	s->mem = buf;
	s->fd = -1;
	*out = s;
	return 0;
}

static int file_mode_for(const char *mode_from)
{
	struct stat st;
	if (mode_from && stat(mode_from, &st) == 0 && S_ISREG(st.st_mode))
		return (int)(st.st_mode & 07777);
	mode_t mask = umask(0);
	umask(mask);
	return (int)(0666 & ~mask);
}

int aimark_sink_new_file(aimark_sink **out, const char *path, int overwrite, const char *mode_from)
{
	RETURN_IF(out == NULL || path == NULL || *path == '\0', AIMARK_EINVAL, "sink: empty output path");
	struct stat st;
	if (stat(path, &st) == 0) {
		RETURN_IF(S_ISDIR(st.st_mode), AIMARK_EIO, "%s: is a directory", path);
		RETURN_IF(!overwrite, AIMARK_EEXISTS, "%s: already exists (refusing to overwrite)", path);
	}
	aimark_sink *s = aimark__calloc(1, sizeof *s);
	RETURN_ENOMEM_IF_NULL(s);
	s->fd = -1;
	s->path = aimark__strdup(path);
	size_t n = strlen(path) + 32;
	s->tmp_path = aimark__malloc(n);
	s->wbuf = aimark__malloc(FILE_BUFFER_SIZE);
	if (!s->path || !s->tmp_path || !s->wbuf) {
		aimark_sink_free(s);
		return aimark__error_set(AIMARK_ENOMEM, "out of memory");
	}
	/* The temp file lives in the destination's directory so rename() is atomic. */
	char *dircopy = aimark__strdup(path);
	char *basecopy = aimark__strdup(path);
	if (!dircopy || !basecopy) {
		aimark__free(dircopy);
		aimark__free(basecopy);
		aimark_sink_free(s);
		return aimark__error_set(AIMARK_ENOMEM, "out of memory");
	}
	snprintf(s->tmp_path, n, "%s/.%s.XXXXXX", dirname(dircopy), basename(basecopy));
	aimark__free(dircopy);
	aimark__free(basecopy);
	s->fd = mkstemp(s->tmp_path);
	if (s->fd < 0) {
		int err = errno;
		aimark__free(s->tmp_path);
		s->tmp_path = NULL;
		aimark_sink_free(s);
		return aimark__error_set(AIMARK_EIO, "%s: cannot create temporary file: %s", path, strerror(err));
	}
	(void)fchmod(s->fd, (mode_t)file_mode_for(mode_from));
	*out = s;
	return 0;
}

static int flush_file(aimark_sink *s)
{
	size_t off = 0;
	while (off < s->wlen) {
		ssize_t n = write(s->fd, s->wbuf + off, s->wlen - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			s->failed = 1;
			return aimark__error_set(AIMARK_EIO, "%s: write failed: %s", s->path, strerror(errno));
		}
		off += (size_t)n;
	}
	s->wlen = 0;
	return 0;
}

int aimark_sink_write(aimark_sink *s, const void *data, size_t len)
{
	RETURN_IF(s == NULL || (data == NULL && len > 0), AIMARK_EINVAL, "sink: bad write arguments");
	RETURN_IF(s->committed || s->failed, AIMARK_EINVAL, "sink: write after commit or failure");
	if (s->mem) {
		if (s->expect > 0 && len > 0) {
			/* one exact allocation: growing by doubling would copy and hold up to three times the output */
			uint64_t want = s->expect;
			s->expect = 0;
			if (want < SIZE_MAX && want > s->mem->size && want - s->mem->size > len)
				RETURN_IF_ERR(aimark__buf_reserve_exact(s->mem, (size_t)(want - s->mem->size)));
		}
		RETURN_IF_ERR(aimark__buf_append(s->mem, data, len));
	} else {
		const unsigned char *p = data;
		size_t left = len;
		while (left > 0) {
			size_t room = FILE_BUFFER_SIZE - s->wlen;
			size_t n = left < room ? left : room;
			memcpy(s->wbuf + s->wlen, p, n);
			s->wlen += n;
			p += n;
			left -= n;
			if (s->wlen == FILE_BUFFER_SIZE)
				RETURN_IF_ERR(flush_file(s));
		}
	}
	s->written += len;
	return 0;
}

uint64_t aimark_sink_written(const aimark_sink *s) { return s ? s->written : 0; }

void aimark__sink_expect(aimark_sink *s, uint64_t bytes)
{
	if (s && s->mem)
		s->expect = bytes;
}

int aimark_sink_commit(aimark_sink *s)
{
	RETURN_IF(s == NULL || s->committed || s->failed, AIMARK_EINVAL, "sink: nothing to commit");
	if (s->fd >= 0) {
		RETURN_IF_ERR(flush_file(s));
		if (fsync(s->fd) != 0) {
			s->failed = 1;
			return aimark__error_set(AIMARK_EIO, "%s: fsync failed: %s", s->path, strerror(errno));
		}
		int rc = close(s->fd);
		s->fd = -1;
		if (rc != 0) {
			s->failed = 1;
			return aimark__error_set(AIMARK_EIO, "%s: close failed: %s", s->path, strerror(errno));
		}
		if (rename(s->tmp_path, s->path) != 0) {
			s->failed = 1;
			return aimark__error_set(AIMARK_EIO, "%s: rename failed: %s", s->path, strerror(errno));
		}
		aimark__free(s->tmp_path);
		s->tmp_path = NULL;
	}
	s->committed = 1;
	return 0;
}

void aimark_sink_free(aimark_sink *s)
{
	if (s == NULL)
		return;
	if (s->fd >= 0)
		close(s->fd);
	if (s->tmp_path && !s->committed)
		unlink(s->tmp_path);
	aimark__free(s->tmp_path);
	aimark__free(s->path);
	aimark__free(s->wbuf);
	aimark__free(s);
}

int aimark__sink_copy_range(aimark_sink *sink, aimark_source *src, uint64_t offset, uint64_t len)
{
	const unsigned char *mem = aimark__source_memory(src);
	if (mem) {
		RETURN_IF(offset > aimark_source_size(src) || len > aimark_source_size(src) - offset, AIMARK_EFORMAT, "copy past the end of input");
		return aimark_sink_write(sink, mem + offset, (size_t)len);
	}
	unsigned char chunk[64 * 1024];
	while (len > 0) {
		size_t n = len < sizeof chunk ? (size_t)len : sizeof chunk;
		RETURN_IF_ERR(aimark_source_read(src, offset, chunk, n));
		RETURN_IF_ERR(aimark_sink_write(sink, chunk, n));
		offset += n;
		len -= n;
	}
	return 0;
}

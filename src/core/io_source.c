/* Random-access input: memory, file (pread), or caller callbacks. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aimark/io.h"
#include "internal.h"
#include "io_internal.h"

enum source_kind { SOURCE_MEMORY, SOURCE_FILE, SOURCE_CALLBACKS };

struct aimark_source {
	enum source_kind kind;
	uint64_t size;
	char *name;
	const unsigned char *mem;
	int fd;
	aimark_source_callbacks cb;
};

static int source_alloc(aimark_source **out, enum source_kind kind, const char *name)
{
	RETURN_IF(out == NULL, AIMARK_EINVAL, "source: out is NULL");
	aimark_source *s = aimark__calloc(1, sizeof *s);
	RETURN_ENOMEM_IF_NULL(s);
	s->kind = kind;
	s->fd = -1;
	s->name = aimark__strdup(name);
	if (s->name == NULL) {
		aimark__free(s);
		return aimark__error_set(AIMARK_ENOMEM, "out of memory");
	}
	*out = s;
	return 0;
}

int aimark_source_new_memory(aimark_source **out, const void *data, size_t len)
{
	RETURN_IF(data == NULL && len > 0, AIMARK_EINVAL, "source: NULL data with non-zero length");
	RETURN_IF_ERR(source_alloc(out, SOURCE_MEMORY, "<memory>"));
	(*out)->mem = data;
	(*out)->size = len;
	return 0;
}

int aimark_source_new_file(aimark_source **out, const char *path)
{
	RETURN_IF(path == NULL, AIMARK_EINVAL, "source: path is NULL");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	RETURN_IF(fd < 0, AIMARK_EIO, "%s: cannot open: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		int err = errno;
		close(fd);
		return aimark__error_set(AIMARK_EIO, "%s: %s", path, S_ISDIR(st.st_mode) ? "is a directory" : (err ? strerror(err) : "not a regular file"));
	}
	int rc = source_alloc(out, SOURCE_FILE, path);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	(*out)->fd = fd;
	(*out)->size = (uint64_t)st.st_size;
	return 0;
}

int aimark_source_new_callbacks(aimark_source **out, const aimark_source_callbacks *cb)
{
	RETURN_IF(cb == NULL || cb->read_at == NULL, AIMARK_EINVAL, "source: callbacks need read_at");
	RETURN_IF(cb->version != AIMARK_SOURCE_CALLBACKS_VERSION, AIMARK_EINVAL, "source: callbacks version %u unsupported", cb->version);
	RETURN_IF_ERR(source_alloc(out, SOURCE_CALLBACKS, "<callbacks>"));
	(*out)->cb = *cb;
	(*out)->size = cb->size;
	return 0;
}

uint64_t aimark_source_size(const aimark_source *src) { return src ? src->size : 0; }
const char *aimark_source_name(const aimark_source *src) { return src ? src->name : ""; }

int aimark_source_read(aimark_source *src, uint64_t offset, void *dst, size_t len)
{
	RETURN_IF(src == NULL || (dst == NULL && len > 0), AIMARK_EINVAL, "source: bad read arguments");
	if (len == 0)
		return 0;
	RETURN_IF(offset > src->size || len > src->size - offset, AIMARK_EFORMAT,
		  "truncated: needs %zu bytes at offset %llu but the input has %llu", len,
		  (unsigned long long)offset, (unsigned long long)src->size);
	switch (src->kind) {
	case SOURCE_MEMORY:
		memcpy(dst, src->mem + offset, len);
		return 0;
	case SOURCE_FILE: {
		unsigned char *p = dst;
		while (len > 0) {
			ssize_t n = pread(src->fd, p, len, (off_t)offset);
			if (n < 0 && errno == EINTR)
				continue;
			RETURN_IF(n < 0, AIMARK_EIO, "%s: read failed: %s", src->name, strerror(errno));
			RETURN_IF(n == 0, AIMARK_EFORMAT, "%s: file shrank while reading", src->name);
			p += n;
			offset += (uint64_t)n;
			len -= (size_t)n;
		}
		return 0;
	}
	case SOURCE_CALLBACKS:
		RETURN_IF(src->cb.read_at(src->cb.user, offset, dst, len) != 0, AIMARK_EIO, "read callback failed at offset %llu", (unsigned long long)offset);
		return 0;
	}
	return aimark__error_set(AIMARK_EINVAL, "source: bad kind");
}

const unsigned char *aimark__source_memory(const aimark_source *src)
{
	return src && src->kind == SOURCE_MEMORY ? src->mem : NULL;
}

int aimark__source_load(aimark_source *src, uint64_t max_size, aimark_buf *storage, const unsigned char **data)
{
	RETURN_IF(src->size > max_size, AIMARK_ELIMIT, "%s: %llu bytes exceeds the %llu-byte limit for this format",
		  src->name, (unsigned long long)src->size, (unsigned long long)max_size);
	if (src->kind == SOURCE_MEMORY) {
		*data = src->mem;
		return 0;
	}
	RETURN_IF(src->size > SIZE_MAX - 1, AIMARK_ELIMIT, "%s: too large for memory", src->name);
	aimark__buf_clear(storage);
	RETURN_IF_ERR(aimark__buf_reserve(storage, (size_t)src->size));
	RETURN_IF_ERR(aimark_source_read(src, 0, storage->ptr, (size_t)src->size));
	storage->size = (size_t)src->size;
	storage->ptr[storage->size] = '\0';
	*data = storage->ptr;
	return 0;
}

void aimark_source_free(aimark_source *src)
{
	if (src == NULL)
		return;
	if (src->fd >= 0)
		close(src->fd);
	if (src->kind == SOURCE_CALLBACKS && src->cb.close)
		src->cb.close(src->cb.user);
	aimark__free(src->name);
	aimark__free(src);
}

/* aimark_buf: growable byte buffers handed to callers, always NUL-terminated. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

void aimark_buf_dispose(aimark_buf *buf)
{
	if (buf == NULL)
		return;
	aimark__free(buf->ptr);
	buf->ptr = NULL;
	buf->size = buf->capacity = 0;
}

/* Room for `extra` more bytes and the NUL: exactly that much, or doubling from the current capacity. */
static int reserve(aimark_buf *buf, size_t extra, int exact)
{
	size_t need;
	if (aimark__add_size(buf->size, extra, &need) || aimark__add_size(need, 1, &need))
		return aimark__error_set(AIMARK_ENOMEM, "buffer size overflow");
	if (need <= buf->capacity)
		return 0;
	size_t cap = exact ? need : buf->capacity ? buf->capacity : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	unsigned char *p = aimark__realloc(buf->ptr, cap);
	RETURN_ENOMEM_IF_NULL(p);
	buf->ptr = p;
	buf->capacity = cap;
	return 0;
}

int aimark__buf_reserve(aimark_buf *buf, size_t extra) { return reserve(buf, extra, 0); }

int aimark__buf_reserve_exact(aimark_buf *buf, size_t extra) { return reserve(buf, extra, 1); }

int aimark__buf_append(aimark_buf *buf, const void *data, size_t len)
{
	RETURN_IF_ERR(aimark__buf_reserve(buf, len));
	if (len)
		memcpy(buf->ptr + buf->size, data, len);
	buf->size += len;
	buf->ptr[buf->size] = '\0';
	return 0;
}

int aimark__buf_append_str(aimark_buf *buf, const char *s)
{
	return aimark__buf_append(buf, s, strlen(s));
}

int aimark__buf_printf(aimark_buf *buf, const char *fmt, ...)
{
	va_list ap, ap2;
	va_start(ap, fmt);
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		va_end(ap2);
		return aimark__error_set(AIMARK_EINVAL, "bad format string");
	}
	int rc = aimark__buf_reserve(buf, (size_t)n);
	if (rc == 0) {
		vsnprintf((char *)buf->ptr + buf->size, (size_t)n + 1, fmt, ap2);
		buf->size += (size_t)n;
	}
	va_end(ap2);
	return rc;
}

void aimark__buf_clear(aimark_buf *buf)
{
	buf->size = 0;
	if (buf->ptr)
		buf->ptr[0] = '\0';
}

void aimark__buf_move(aimark_buf *dst, aimark_buf *src)
{
	aimark_buf_dispose(dst);
	*dst = *src;
	src->ptr = NULL;
	src->size = src->capacity = 0;
}

int aimark__array_grow(void **items, size_t *cap, size_t n, size_t item_size, size_t first)
{
	if (n < *cap)
		return 0;
	size_t want = *cap ? *cap * 2 : first;
	RETURN_IF(want < *cap || want > SIZE_MAX / item_size, AIMARK_ENOMEM, "array size overflow");
	void *grown = aimark__realloc(*items, want * item_size);
	RETURN_ENOMEM_IF_NULL(grown);
	*items = grown;
	*cap = want;
	return 0;
}

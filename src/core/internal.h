/*
 * Private helpers shared by every module: allocation, error recording, and
 * growable buffers. Not installed.
 */
#ifndef AIMARK_CORE_INTERNAL_H
#define AIMARK_CORE_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "aimark/common.h"
#include "aimark/errors.h"

/* ---- allocation (goes through the allocator hook) ---- */
void *aimark__malloc(size_t size);
void *aimark__calloc(size_t n, size_t size); /* overflow-checked */
void *aimark__realloc(void *ptr, size_t size);
void aimark__free(void *ptr);
char *aimark__strdup(const char *s);
char *aimark__strndup(const char *s, size_t n);

/* ---- errors ----
 * aimark__error_set records a message for this thread and returns `code`, so
 * that `return aimark__error_set(AIMARK_EFORMAT, "...")` reads naturally. */
int aimark__error_set(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int aimark__error_setv(int code, const char *fmt, va_list ap);
/* Prefixes the current message with "context: " (e.g. the file name). */
void aimark__error_prefix(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Fails with `code` and a message when `cond` holds. */
#define RETURN_IF(cond, code, ...)                                  \
	do {                                                            \
		if (cond)                                                   \
			return aimark__error_set((code), __VA_ARGS__);          \
	} while (0)

/* Propagates a negative result unchanged (the message is already set). */
#define RETURN_IF_ERR(expr)                                         \
	do {                                                            \
		int aimark__rc_ = (expr);                                   \
		if (aimark__rc_ < 0)                                        \
			return aimark__rc_;                                     \
	} while (0)

#define RETURN_ENOMEM_IF_NULL(p) RETURN_IF((p) == NULL, AIMARK_ENOMEM, "out of memory")

/* ---- overflow-checked size arithmetic: return 0 on success, -1 on overflow ---- */
static inline int aimark__add_size(size_t a, size_t b, size_t *out)
{
	if (a > SIZE_MAX - b)
		return -1;
	*out = a + b;
	return 0;
}

/*
 * Growable arrays: makes room for one more item when `n` has reached `*cap`
 * (doubling from `first`); `*items` may move. Returns 0 or AIMARK_ENOMEM.
 */
int aimark__array_grow(void **items, size_t *cap, size_t n, size_t item_size, size_t first);
/* The same for a typed array `arr` (through a real void *, so no pointer is reinterpreted); returns on failure. */
#define RETURN_IF_ARRAY_FULL_GROW(arr, cap, n, first)                                         \
	do {                                                                                 \
		void *aimark__items_ = (arr);                                                    \
		RETURN_IF_ERR(aimark__array_grow(&aimark__items_, &(cap), (n), sizeof *(arr), (first))); \
		(arr) = aimark__items_;                                                          \
	} while (0)

/* ---- aimark_buf helpers (the buffer keeps a NUL after `size`) ---- */
int aimark__buf_reserve(aimark_buf *buf, size_t extra);
/* Room for exactly `extra` more bytes (and the NUL), no more: for one large block of known size. */
int aimark__buf_reserve_exact(aimark_buf *buf, size_t extra);
int aimark__buf_append(aimark_buf *buf, const void *data, size_t len);
int aimark__buf_append_str(aimark_buf *buf, const char *s);
int aimark__buf_printf(aimark_buf *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void aimark__buf_clear(aimark_buf *buf); /* size = 0, memory kept */
/* Moves `src`'s memory into `dst` (dst disposed first); src becomes empty. */
void aimark__buf_move(aimark_buf *dst, aimark_buf *src);

/* ---- big-endian / little-endian loads and stores ---- */
static inline uint16_t aimark__be16(const unsigned char *p) { return (uint16_t)((p[0] << 8) | p[1]); }
static inline uint32_t aimark__be32(const unsigned char *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline uint64_t aimark__be64(const unsigned char *p)
{
	return ((uint64_t)aimark__be32(p) << 32) | aimark__be32(p + 4);
}
static inline uint16_t aimark__le16(const unsigned char *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t aimark__le32(const unsigned char *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline void aimark__put_be16(unsigned char *p, uint16_t v) { p[0] = (unsigned char)(v >> 8); p[1] = (unsigned char)v; }
static inline void aimark__put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24); p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8); p[3] = (unsigned char)v;
}
static inline void aimark__put_le32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16); p[3] = (unsigned char)(v >> 24);
}

#endif

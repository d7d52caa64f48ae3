/*
 * aimark/common.h - export macros, version, byte buffers and the allocator hook.
 *
 * THREAD SAFETY: aimark_version() and aimark_buf_* are safe from any thread on
 * distinct buffers. aimark_allocator_set() must be called before any other
 * aimark function and never while other threads use the library.
 */
#ifndef AIMARK_COMMON_H
#define AIMARK_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#  define AIMARK_API __declspec(dllexport)
#elif defined(__GNUC__) || defined(__clang__)
#  define AIMARK_API __attribute__((visibility("default")))
#else
#  define AIMARK_API
#endif

#if defined(__GNUC__) || defined(__clang__)
#  define AIMARK_NODISCARD __attribute__((warn_unused_result))
#else
#  define AIMARK_NODISCARD
#endif

#define AIMARK_VERSION_MAJOR 0
#define AIMARK_VERSION_MINOR 1
#define AIMARK_VERSION_PATCH 0
#define AIMARK_VERSION_STRING "0.1.0"

/** Returns the library's version string ("MAJOR.MINOR.PATCH"); static storage. */
AIMARK_API const char *aimark_version(void);

/** Fills the run-time version numbers; any pointer may be NULL. */
AIMARK_API void aimark_version_numbers(int *major, int *minor, int *patch);

/**
 * Bytes the library hands to the caller. Zero-initialise (AIMARK_BUF_INIT)
 * before first use; release with aimark_buf_dispose(), never free().
 * `ptr` is NUL-terminated one past `size` whenever it is not NULL, so text
 * results can be printed directly.
 */
typedef struct aimark_buf {
	unsigned char *ptr;
	size_t size;
	size_t capacity;
} aimark_buf;

#define AIMARK_BUF_INIT { NULL, 0, 0 }

/** Frees the buffer's memory and resets it to empty. Accepts NULL. */
AIMARK_API void aimark_buf_dispose(aimark_buf *buf);

/**
 * Optional allocator hook. All library allocations go through it.
 * The functions follow the contracts of malloc, realloc and free.
 * Passing NULL restores the C library's allocator.
 */
typedef struct aimark_allocator {
	void *(*malloc_fn)(size_t size, void *user);
	void *(*realloc_fn)(void *ptr, size_t size, void *user);
	void (*free_fn)(void *ptr, void *user);
	void *user;
} aimark_allocator;

/** Installs the allocator (copied). Call before any other aimark function. */
AIMARK_API void aimark_allocator_set(const aimark_allocator *allocator);

#ifdef __cplusplus
}
#endif
#endif

/* The allocator hook and checked allocation helpers. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static void *default_malloc(size_t size, void *user) { (void)user; return malloc(size); }
static void *default_realloc(void *ptr, size_t size, void *user) { (void)user; return realloc(ptr, size); }
static void default_free(void *ptr, void *user) { (void)user; free(ptr); }

static aimark_allocator g_alloc = { default_malloc, default_realloc, default_free, NULL };

void aimark_allocator_set(const aimark_allocator *allocator)
{
	if (allocator == NULL || allocator->malloc_fn == NULL || allocator->realloc_fn == NULL || allocator->free_fn == NULL) {
		g_alloc = (aimark_allocator){ default_malloc, default_realloc, default_free, NULL };
		return;
	}
	g_alloc = *allocator;
}

void *aimark__malloc(size_t size)
{
	return g_alloc.malloc_fn(size ? size : 1, g_alloc.user);
}

void *aimark__calloc(size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		return NULL;
	void *p = aimark__malloc(n * size);
	if (p)
		memset(p, 0, n * size);
	return p;
}

void *aimark__realloc(void *ptr, size_t size)
{
	return g_alloc.realloc_fn(ptr, size ? size : 1, g_alloc.user);
}

void aimark__free(void *ptr)
{
	if (ptr)
		g_alloc.free_fn(ptr, g_alloc.user);
}

char *aimark__strndup(const char *s, size_t n)
{
	if (s == NULL || n == SIZE_MAX)
		return NULL;
	char *p = aimark__malloc(n + 1);
	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

char *aimark__strdup(const char *s)
{
	return s ? aimark__strndup(s, strlen(s)) : NULL;
}

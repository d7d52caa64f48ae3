/* Open-addressing hash set of strings (FNV-1a, linear probing, load <= 1/2). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tool_strset.h"

struct tool_strset {
	char **slots;
	size_t cap; /* power of two */
	size_t count;
};

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		h ^= *p;
		h *= 0x100000001b3ull;
	}
	return h;
}

tool_strset *tool_strset_new(void)
{
	tool_strset *set = calloc(1, sizeof *set);
	if (set == NULL)
		return NULL;
	set->cap = 64;
	set->slots = calloc(set->cap, sizeof *set->slots);
	if (set->slots == NULL) {
		free(set);
		return NULL;
	}
	return set;
}

static size_t find_slot(char **slots, size_t cap, const char *s)
{
	size_t i = (size_t)fnv1a(s) & (cap - 1);
	while (slots[i] != NULL && strcmp(slots[i], s) != 0)
		i = (i + 1) & (cap - 1);
	return i;
}

static int grow(tool_strset *set)
{
	if (set->cap > SIZE_MAX / 2 / sizeof(char *))
		return -1;
	size_t ncap = set->cap * 2;
	char **ns = calloc(ncap, sizeof *ns);
	if (ns == NULL)
		return -1;
	for (size_t i = 0; i < set->cap; i++)
		if (set->slots[i] != NULL)
			ns[find_slot(ns, ncap, set->slots[i])] = set->slots[i];
	free(set->slots);
	set->slots = ns;
	set->cap = ncap;
	return 0;
}

int tool_strset_add(tool_strset *set, const char *s)
{
	if ((set->count + 1) * 2 > set->cap && grow(set) != 0)
		return -1;
	size_t i = find_slot(set->slots, set->cap, s);
	if (set->slots[i] != NULL)
		return 0;
	set->slots[i] = strdup(s);
	if (set->slots[i] == NULL)
		return -1;
	set->count++;
	return 1;
}

int tool_strset_has(const tool_strset *set, const char *s)
{
	return set->slots[find_slot(set->slots, set->cap, s)] != NULL;
}

size_t tool_strset_count(const tool_strset *set) { return set->count; }

void tool_strset_free(tool_strset *set)
{
	if (set == NULL)
		return;
	for (size_t i = 0; i < set->cap; i++)
		free(set->slots[i]);
	free(set->slots);
	free(set);
}

/* The list of container formats and the meta helpers they share. */
#include <string.h>
#include <strings.h>

#include "aimark/format.h"
#include "core/internal.h"
#include "core/io_internal.h"
#include "format.h"
#include "format_list.h"

/*
 * Each src/format/<name>_meta.c defines `aimark__format_<name>`; the build
 * generates AIMARK__FORMAT_LIST from the files present, in probing order
 * (more specific magic first; see AIMARK_FORMAT_ORDER in CMakeLists.txt).
 */
#define FORMAT_DECLARE(name) extern const aimark__format_ops aimark__format_##name;
AIMARK__FORMAT_LIST(FORMAT_DECLARE)
#undef FORMAT_DECLARE

#define FORMAT_PTR(name) &aimark__format_##name,
static const aimark__format_ops *const g_formats[] = { AIMARK__FORMAT_LIST(FORMAT_PTR) };
#undef FORMAT_PTR

#define N_FORMATS (sizeof g_formats / sizeof g_formats[0])
#define PROBE_BYTES 64

const aimark__format_ops *aimark__format_find(const char *name)
{
	for (size_t i = 0; name && i < N_FORMATS; i++)
		if (strcasecmp(g_formats[i]->name, name) == 0)
			return g_formats[i];
	return NULL;
}

const aimark__format_ops *aimark__format_detect(aimark_source *src)
{
	return aimark__format_detect_after(src, NULL);
}

const aimark__format_ops *aimark__format_detect_after(aimark_source *src, const aimark__format_ops *after)
{
	unsigned char head[PROBE_BYTES];
	uint64_t size = aimark_source_size(src);
	size_t n = size < PROBE_BYTES ? (size_t)size : PROBE_BYTES;
	if (aimark_source_read(src, 0, head, n) != 0)
		return NULL;
	size_t i = 0;
	if (after != NULL) {
		while (i < N_FORMATS && g_formats[i] != after)
			i++;
		i++;
	}
	for (; i < N_FORMATS; i++)
		if (g_formats[i]->probe(head, n))
			return g_formats[i];
	return NULL;
}

const char *aimark_format_detect(aimark_source *src)
{
	const aimark__format_ops *ops = src ? aimark__format_detect(src) : NULL;
	return ops ? ops->name : NULL;
}

size_t aimark_format_count(void) { return N_FORMATS; }

const char *aimark_format_name(size_t i) { return i < N_FORMATS ? g_formats[i]->name : NULL; }

const char *aimark_format_from_extension(const char *path)
{
	const char *dot = path ? strrchr(path, '.') : NULL;
	if (dot == NULL || strchr(dot, '/'))
		return NULL;
	for (size_t i = 0; i < N_FORMATS; i++)
		for (const char *const *e = g_formats[i]->extensions; e && *e; e++)
			if (strcasecmp(dot + 1, *e) == 0)
				return g_formats[i]->name;
	return NULL;
}

void aimark__meta_init(aimark__meta *meta, aimark_findings *findings)
{
	memset(meta, 0, sizeof *meta);
	meta->findings = findings;
}

void aimark__meta_dispose(aimark__meta *meta)
{
	if (meta == NULL)
		return;
	for (size_t i = 0; i < meta->n_carriers; i++)
		aimark__free(meta->carriers[i].text);
	aimark__free(meta->carriers);
	aimark__free(meta->essence);
	if (meta->priv && meta->priv_free)
		meta->priv_free(meta->priv);
	memset(meta, 0, sizeof *meta);
}

int aimark__meta_add_carrier(aimark__meta *meta, const char *kind, const char *text, size_t len, uint64_t offset)
{
	RETURN_IF_ARRAY_FULL_GROW(meta->carriers, meta->cap_carriers, meta->n_carriers, 4);
	char *copy = aimark__strndup(text, len);
	RETURN_ENOMEM_IF_NULL(copy);
	meta->carriers[meta->n_carriers++] = (aimark__carrier){ kind, copy, len, offset };
	return 0;
}

int aimark__meta_add_essence(aimark__meta *meta, uint64_t offset, uint64_t length)
{
	if (length == 0)
		return 0;
	if (meta->n_essence > 0) {
		aimark__range *last = &meta->essence[meta->n_essence - 1];
		if (last->offset + last->length == offset) {
			last->length += length;
			return 0;
		}
	}
	RETURN_IF_ARRAY_FULL_GROW(meta->essence, meta->cap_essence, meta->n_essence, 16);
	meta->essence[meta->n_essence++] = (aimark__range){ offset, length };
	return 0;
}

int aimark__meta_hash_essence(aimark_source *src, const aimark__meta *meta,
			      int (*update)(void *ctx, const void *data, size_t len), void *ctx)
{
	const unsigned char *mem = aimark__source_memory(src);
	unsigned char chunk[64 * 1024];
	for (size_t i = 0; i < meta->n_essence; i++) {
		uint64_t off = meta->essence[i].offset, left = meta->essence[i].length;
		RETURN_IF(off > aimark_source_size(src) || left > aimark_source_size(src) - off, AIMARK_EFORMAT,
			  "essence range passes the end of the input");
		if (mem) {
			RETURN_IF_ERR(update(ctx, mem + off, (size_t)left));
			continue;
		}
		while (left > 0) {
			size_t n = left < sizeof chunk ? (size_t)left : sizeof chunk;
			RETURN_IF_ERR(aimark_source_read(src, off, chunk, n));
			RETURN_IF_ERR(update(ctx, chunk, n));
			off += n;
			left -= n;
		}
	}
	return 0;
}

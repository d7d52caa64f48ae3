#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tool_common.h"
#include "tool_fs.h"
#include "tool_trust.h"

int tool_trust_init(tool_trust *t)
{
	memset(t, 0, sizeof *t);
	if (aimark_trust_new(&t->keys) != 0) {
		tool_error_lib(NULL);
		return -1;
	}
	return 0;
}

static int remember_root(tool_trust *t, const char *path)
{
	char **p = realloc(t->c2pa_roots, (t->n_c2pa_roots + 1) * sizeof *p);
	char *copy = strdup(path);
	if (p == NULL || copy == NULL) {
		free(copy);
		if (p)
			t->c2pa_roots = p;
		tool_error(path, "out of memory");
		return -1;
	}
	t->c2pa_roots = p;
	t->c2pa_roots[t->n_c2pa_roots++] = copy;
	return 0;
}

int tool_trust_add(tool_trust *t, const char *path)
{
	if (aimark_trust_add_path(t->keys, path) != 0) {
		tool_error_lib(path);
		return -1;
	}
	struct stat st;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		char *root = tool_path_join(path, AIMARK_C2PA_KEYDIR_ROOT);
		int rc = root && tool_path_exists(root) ? remember_root(t, root) : 0;
		free(root);
		return rc;
	}
	return 0;
}

int tool_trust_add_c2pa(tool_trust *t, const char *pem)
{
	if (!tool_path_exists(pem)) {
		tool_error(pem, "%s", strerror(ENOENT));
		return -1;
	}
	return remember_root(t, pem);
}

int tool_trust_set_layers(tool_trust *t, const char *list)
{
	static const struct { const char *name; unsigned int bit; } names[] = {
		{ "metadata", AIMARK_LAYER_METADATA }, { "explicit", AIMARK_LAYER_EXPLICIT },
		{ "watermark", AIMARK_LAYER_WATERMARK }, { "c2pa", AIMARK_LAYER_C2PA }, { "all", AIMARK_LAYER_ALL },
	};
	unsigned int bits = 0;
	const char *p = list;
	while (*p) {
		size_t n = strcspn(p, ",");
		size_t i;
		for (i = 0; i < sizeof names / sizeof names[0]; i++)
			if (strlen(names[i].name) == n && strncmp(p, names[i].name, n) == 0)
				break;
		if (i == sizeof names / sizeof names[0]) {
			tool_usage_error("--layers: unknown layer '%.*s' (metadata, explicit, watermark, c2pa, all)", (int)n, p);
			return -1;
		}
		bits |= names[i].bit;
		p += n + (p[n] == ',');
	}
	t->layers = bits | AIMARK_LAYER_METADATA;
	return 0;
}

int tool_trust_add_watermark_key(tool_trust *t, const char *dir)
{
	aimark_wm_key *key = NULL;
	if (aimark_keydir_load_watermark(&key, dir) != 0) {
		tool_error_lib(dir);
		return -1;
	}
	aimark_wm_key **p = realloc(t->wm_keys, (t->n_wm_keys + 1) * sizeof *p);
	if (p == NULL) {
		aimark_wm_key_free(key);
		tool_error(dir, "out of memory");
		return -1;
	}
	t->wm_keys = p;
	t->wm_keys[t->n_wm_keys++] = key;
	return 0;
}

/* Several anchor files become one bundle file, since the library takes one path. */
static int write_bundle(tool_trust *t)
{
	char tmpl[] = "/tmp/aimark-c2pa-anchors-XXXXXX";
	int fd = mkstemp(tmpl);
	if (fd < 0) {
		tool_error(tmpl, "%s", strerror(errno));
		return -1;
	}
	FILE *out = fdopen(fd, "w");
	int ok = out != NULL;
	for (size_t i = 0; ok && i < t->n_c2pa_roots; i++) {
		FILE *in = fopen(t->c2pa_roots[i], "r");
		char buf[8192];
		size_t n;
		ok = in != NULL;
		while (ok && (n = fread(buf, 1, sizeof buf, in)) > 0)
			ok = fwrite(buf, 1, n, out) == n;
		if (in)
			fclose(in);
		if (ok)
			ok = fputc('\n', out) != EOF;
	}
	if (out && fclose(out) != 0)
		ok = 0;
	if (!ok) {
		tool_error(tmpl, "cannot write the C2PA anchor bundle");
		unlink(tmpl);
		return -1;
	}
	t->c2pa_bundle = strdup(tmpl);
	return t->c2pa_bundle ? 0 : -1;
}

int tool_trust_apply(tool_trust *t, aimark_verify_options *opts)
{
	opts->trust = t->keys;
	opts->layers = t->layers;
	opts->watermark_keys = (const aimark_wm_key *const *)t->wm_keys;
	opts->n_watermark_keys = t->n_wm_keys;
	opts->explicit_text = t->explicit_text;
	if (t->n_c2pa_roots == 1)
		opts->c2pa_trust_anchors = t->c2pa_roots[0];
	else if (t->n_c2pa_roots > 1) {
		if (t->c2pa_bundle == NULL && write_bundle(t) != 0)
			return -1;
		opts->c2pa_trust_anchors = t->c2pa_bundle;
	}
	return 0;
}

void tool_trust_free(tool_trust *t)
{
	aimark_trust_free(t->keys);
	for (size_t i = 0; i < t->n_c2pa_roots; i++)
		free(t->c2pa_roots[i]);
	free(t->c2pa_roots);
	for (size_t i = 0; i < t->n_wm_keys; i++)
		aimark_wm_key_free(t->wm_keys[i]);
	free(t->wm_keys);
	if (t->c2pa_bundle) {
		unlink(t->c2pa_bundle);
		free(t->c2pa_bundle);
	}
	memset(t, 0, sizeof *t);
}

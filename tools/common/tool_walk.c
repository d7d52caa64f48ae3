/* Directory-tree walk for aimark-scan: every regular file once, in a stable order. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tool_fs.h"
#include "tool_walk.h"

/* Set of (device, inode) pairs of the directories entered so far. */
struct tool_walk_seen {
	struct seen_slot {
		dev_t dev;
		ino_t ino;
		int used;
	} *slots;
	size_t cap;
	size_t count;
};

static size_t slot_hash(dev_t dev, ino_t ino)
{
	uint64_t h = ((uint64_t)dev * 0x9E3779B97F4A7C15ull) ^ ((uint64_t)ino * 0xC2B2AE3D27D4EB4Full);
	return (size_t)(h ^ (h >> 29));
}

/* Returns 1 when added, 0 when already present, -1 when out of memory. */
static int seen_add(tool_walk *w, dev_t dev, ino_t ino)
{
	tool_walk_seen *s = w->seen;
	if (s == NULL) {
		s = calloc(1, sizeof *s);
		if (s == NULL)
			return -1;
		w->seen = s;
	}
	if ((s->count + 1) * 2 > s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 64;
		struct seen_slot *ns = calloc(ncap, sizeof *ns);
		if (ns == NULL)
			return -1;
		for (size_t i = 0; i < s->cap; i++) {
			if (!s->slots[i].used)
				continue;
			size_t j = slot_hash(s->slots[i].dev, s->slots[i].ino) & (ncap - 1);
			while (ns[j].used)
				j = (j + 1) & (ncap - 1);
			ns[j] = s->slots[i];
		}
		free(s->slots);
		s->slots = ns;
		s->cap = ncap;
	}
	size_t j = slot_hash(dev, ino) & (s->cap - 1);
	while (s->slots[j].used) {
		if (s->slots[j].dev == dev && s->slots[j].ino == ino)
			return 0;
		j = (j + 1) & (s->cap - 1);
	}
	s->slots[j].dev = dev;
	s->slots[j].ino = ino;
	s->slots[j].used = 1;
	s->count++;
	return 1;
}

void tool_walk_dispose(tool_walk *w)
{
	if (w->seen) {
		free(w->seen->slots);
		free(w->seen);
		w->seen = NULL;
	}
}

static void report(tool_walk *w, const char *path, const char *message)
{
	w->errors++;
	if (w->on_error)
		w->on_error(path, message, w->user);
}

static int stopped(const tool_walk *w) { return w->stop != NULL && atomic_load(w->stop) != 0; }

typedef struct entry {
	char *name;
	unsigned char type; /* d_type, DT_UNKNOWN when the file system does not say */
} entry;

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const entry *)a)->name, ((const entry *)b)->name);
}

static void free_entries(entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(e[i].name);
	free(e);
}

/* Reads every name of `path` except "." and "..". Returns 0 or -1 (errno set). */
static int read_entries(const char *path, entry **out, size_t *count)
{
	DIR *d = opendir(path);
	if (d == NULL)
		return -1;
	entry *list = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 32;
			entry *nl = realloc(list, ncap * sizeof *nl);
			if (nl == NULL)
				goto nomem;
			list = nl;
			cap = ncap;
		}
		list[n].name = strdup(de->d_name);
		if (list[n].name == NULL)
			goto nomem;
		list[n].type = de->d_type;
		n++;
		errno = 0;
	}
	if (errno != 0) {
		int e = errno;
		closedir(d);
		free_entries(list, n);
		errno = e;
		return -1;
	}
	closedir(d);
	if (n > 1)
		qsort(list, n, sizeof *list, entry_cmp);
	*out = list;
	*count = n;
	return 0;
nomem:
	closedir(d);
	free_entries(list, n);
	errno = ENOMEM;
	return -1;
}

static int walk_dir(tool_walk *w, const char *path, const struct stat *st);

/* Visits one path whose type may already be known from its directory entry. */
static int visit(tool_walk *w, const char *path, unsigned char type, int follow)
{
	if (stopped(w))
		return 1;
	struct stat st;
	int have_stat = 0;
	if (type == DT_UNKNOWN || type == DT_LNK || type == DT_DIR) {
		if (lstat(path, &st) != 0) {
			report(w, path, strerror(errno));
			return 0;
		}
		have_stat = 1;
		if (S_ISLNK(st.st_mode)) {
			if (!follow) {
				w->skipped++;
				return 0;
			}
			if (stat(path, &st) != 0) {
				report(w, path, errno == ENOENT ? "dangling symbolic link" : strerror(errno));
				return 0;
			}
		}
	}
	if ((have_stat && S_ISREG(st.st_mode)) || (!have_stat && type == DT_REG)) {
		w->files++;
		return w->on_file(path, w->user) != 0 ? 1 : 0;
	}
	if (have_stat && S_ISDIR(st.st_mode))
		return walk_dir(w, path, &st);
	w->skipped++;
	return 0;
}

static int walk_dir(tool_walk *w, const char *path, const struct stat *st)
{
	int added = seen_add(w, st->st_dev, st->st_ino);
	if (added < 0) {
		report(w, path, "out of memory");
		return -1;
	}
	if (added == 0)
		return 0; /* already walked: a link loop or a second link to it */
	entry *list = NULL;
	size_t n = 0;
	if (read_entries(path, &list, &n) != 0) {
		int e = errno;
		report(w, path, strerror(e));
		return e == ENOMEM ? -1 : 0;
	}
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		char *child = tool_path_join(path, list[i].name);
		if (child == NULL) {
			report(w, path, "out of memory");
			rc = -1;
			break;
		}
		rc = visit(w, child, list[i].type, w->follow_symlinks);
		free(child);
	}
	free_entries(list, n);
	return rc;
}

int tool_walk_path(tool_walk *w, const char *root)
{
	struct stat st;
	if (stat(root, &st) != 0) {
		report(w, root, strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode))
		return walk_dir(w, root, &st);
	if (S_ISREG(st.st_mode)) {
		w->files++;
		return w->on_file(root, w->user) != 0 ? 1 : 0;
	}
	w->skipped++;
	return 0;
}

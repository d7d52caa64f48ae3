#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

#include "core/internal.h"

unsigned char *tu_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	unsigned char *p = malloc((size_t)n + 1);
	assert_non_null(p);
	if (n > 0 && fread(p, 1, (size_t)n, f) != (size_t)n)
		fail_msg("cannot read %s", path);
	fclose(f);
	p[n] = 0;
	*len = (size_t)n;
	return p;
}

void tu_write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		fail_msg("cannot create %s", path);
	if (len && fwrite(data, 1, len, f) != len)
		fail_msg("cannot write %s", path);
	fclose(f);
}

char *tu_tempdir(void)
{
	char tmpl[] = "/tmp/aimark-test-XXXXXX";
	char *d = mkdtemp(tmpl);
	if (!d)
		fail_msg("mkdtemp failed");
	return strdup(d);
}

void tu_rmtree(const char *path)
{
	char cmd[4200];
	if (path == NULL || strncmp(path, "/tmp/aimark-test-", 17) != 0)
		return;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
	if (system(cmd) != 0)
		fprintf(stderr, "warning: could not remove %s\n", path);
}

tu_blob tu_blob_splice(tu_blob b, size_t at, const void *ins, size_t ins_len, size_t remove)
{
	tu_blob r;
	assert_true(at <= b.n && remove <= b.n - at);
	r.n = b.n - remove + ins_len;
	r.p = malloc(r.n + 1);
	assert_non_null(r.p);
	memcpy(r.p, b.p, at);
	if (ins_len)
		memcpy(r.p + at, ins, ins_len);
	memcpy(r.p + at + ins_len, b.p + at + remove, b.n - at - remove);
	free(b.p);
	return r;
}

tu_blob tu_data_file(const char *dir, const char *name)
{
	tu_blob b;
	b.p = tu_read_file(tu_path("%s/%s/%s", AIMARK_TEST_DATA, dir, name), &b.n);
	return b;
}

const char *tu_path(const char *fmt, ...)
{
	static char bufs[8][4096];
	static int next;
	char *b = bufs[next++ % 8];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(b, sizeof bufs[0], fmt, ap);
	va_end(ap);
	return b;
}

/* ---- external tools ---- */

int tu_have_tool(const char *name)
{
	char cmd[256];
	snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", name);
	return system(cmd) == 0;
}

int tu_have_ffmpeg(void)
{
	static int have = -1;
	if (have < 0)
		have = tu_have_tool("ffmpeg") && tu_have_tool("ffprobe");
	return have;
}

/* Runs `cmd`; returns its output (`*len` bytes when `len`) and stores its exit status in `*status`. */
static char *run_cmd(const char *cmd, int *status, size_t *len)
{
	FILE *p = popen(cmd, "r");
	if (!p)
		fail_msg("cannot run %s", cmd);
	size_t cap = 4096, n = 0, k;
	char *out = malloc(cap);
	assert_non_null(out);
	while ((k = fread(out + n, 1, cap - n - 1, p)) > 0) {
		n += k;
		if (cap - n < 2) {
			cap *= 2;
			out = realloc(out, cap);
			assert_non_null(out);
		}
	}
	out[n] = '\0';
	*status = pclose(p);
	if (len)
		*len = n;
	return out;
}

static char *run_va(int *status, size_t *len, const char *fmt, va_list ap)
{
	char cmd[8192];
	int n = vsnprintf(cmd, sizeof cmd, fmt, ap);
	if (n < 0 || (size_t)n >= sizeof cmd)
		fail_msg("command too long: %s", fmt);
	return run_cmd(cmd, status, len);
}

static void chomp(char *s)
{
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

char *tu_run(const char *fmt, ...)
{
	int status;
	va_list ap;
	va_start(ap, fmt);
	char *out = run_va(&status, NULL, fmt, ap);
	va_end(ap);
	return out;
}

char *tu_run_ok(const char *fmt, ...)
{
	int status;
	va_list ap;
	va_start(ap, fmt);
	char *out = run_va(&status, NULL, fmt, ap);
	va_end(ap);
	if (status != 0) {
		free(out);
		return NULL;
	}
	chomp(out);
	return out;
}

void tu_sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	if (system(cmd) != 0)
		fail_msg("command failed: %s", cmd);
}

char *tu_run_bytes(size_t *len, const char *fmt, ...)
{
	int status;
	va_list ap;
	va_start(ap, fmt);
	char *out = run_va(&status, len, fmt, ap);
	va_end(ap);
	if (status != 0)
		fail_msg("command failed (%d): %s", status, fmt);
	return out;
}

void tu_assert_output(const char *expect, const char *fmt, ...)
{
	int status;
	va_list ap;
	va_start(ap, fmt);
	char *out = run_va(&status, NULL, fmt, ap);
	va_end(ap);
	if (status != 0)
		fail_msg("command failed (%d): %s", status, fmt);
	chomp(out);
	assert_string_equal(out, expect);
	free(out);
}

void tu_ffmpeg_check(const tu_media *m, const char *orig, const void *data, size_t len, const char *json, size_t json_len,
		     const char *must_have)
{
	if (!tu_have_ffmpeg())
		return;
	char *dir = tu_tempdir();
	char path[4200];
	snprintf(path, sizeof path, "%s/out.%s", dir, m->ext);
	tu_write_file(path, data, len);
	if (json) {
		char *tag = tu_run("ffprobe -v error -show_entries %s_tags=AIGC -of default=nw=1:nk=1 '%s'", m->tag_scope, path);
		if (strlen(tag) != json_len + 1 || memcmp(tag, json, json_len) != 0 || tag[json_len] != '\n')
			fail_msg("ffprobe shows AIGC as \"%s\"", tag);
		free(tag);
	}
	if (must_have) {
		char *tags = tu_run("ffprobe -v error -show_entries format_tags -of default=nw=1 '%s'", path);
		if (strstr(tags, must_have) == NULL)
			fail_msg("ffprobe tags lack %s: %s", must_have, tags);
		free(tags);
	}
	if (orig) {
		char *ha = tu_run("ffmpeg -v error -i '%s' -map %s -c copy -f streamhash - 2>&1", orig, m->map);
		char *hb = tu_run("ffmpeg -v error -i '%s' -map %s -c copy -f streamhash - 2>&1", path, m->map);
		assert_non_null(strstr(ha, "SHA256"));
		assert_string_equal(ha, hb);
		free(ha);
		free(hb);
	}
	char *dec = tu_run("ffmpeg -v error -i '%s' -f null - 2>&1", path);
	assert_string_equal(dec, "");
	free(dec);
	tu_rmtree(dir);
	free(dir);
}

/* ---- format backends ---- */

int tu_label_get(void *ctx, const aimark__label_write **out)
{
	*out = ctx;
	return 0;
}

uint64_t tu_fnv(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001B3ull;
	return h;
}

static int provider_update(void *ctx, const void *data, size_t len)
{
	tu_provider *p = ctx;
	if (p->got)
		p->fed_after_get = 1;
	p->fed += len;
	p->fed_hash = tu_fnv(p->fed_hash, data, len);
	return 0;
}

static int provider_get(void *ctx, const aimark__label_write **out)
{
	tu_provider *p = ctx;
	p->got = 1;
	*out = &p->lw;
	return 0;
}

void tu_provider_init(tu_provider *p, const char *json)
{
	memset(p, 0, sizeof *p);
	p->lw = (aimark__label_write){ json, strlen(json), json, strlen(json) };
	p->fed_hash = TU_FNV_INIT;
}

aimark__label_provider tu_provider_streaming(tu_provider *p)
{
	return (aimark__label_provider){ provider_update, provider_get, p };
}

void tu_parse_source(const aimark__format_ops *ops, aimark_source *src, tu_parsed *p)
{
	p->src = src;
	assert_int_equal(aimark_findings_new(&p->findings), 0);
	aimark__meta_init(&p->meta, p->findings);
	p->rc = ops->read(p->src, &p->meta);
}

void tu_parse(const aimark__format_ops *ops, const void *data, size_t len, tu_parsed *p)
{
	aimark_source *src = NULL;
	assert_int_equal(aimark_source_new_memory(&src, data, len), 0);
	tu_parse_source(ops, src, p);
}

void tu_parsed_free(tu_parsed *p)
{
	aimark__meta_dispose(&p->meta);
	aimark_findings_free(p->findings);
	aimark_source_free(p->src);
}

int tu_read_mem(const aimark__format_ops *ops, const void *data, size_t len, aimark__meta *meta, aimark_findings *f)
{
	aimark_source *src = NULL;
	assert_int_equal(aimark_source_new_memory(&src, data, len), 0);
	aimark__meta_init(meta, f);
	int rc = ops->read(src, meta);
	aimark_source_free(src);
	return rc;
}

int tu_mark_source(const aimark__format_ops *ops, aimark_source *src, const aimark__label_write *label, aimark_buf *out)
{
	tu_parsed p;
	tu_parse_source(ops, src, &p);
	if (p.rc != 0)
		fail_msg("read failed: %s", aimark_error_last());
	aimark_sink *sink = NULL;
	assert_int_equal(aimark_sink_new_buffer(&sink, out), 0);
	aimark__label_provider prov = { NULL, tu_label_get, (void *)label };
	int rc = ops->write(src, &p.meta, &prov, sink);
	if (rc == 0)
		assert_int_equal(aimark_sink_commit(sink), 0);
	aimark_sink_free(sink);
	aimark__meta_dispose(&p.meta);
	aimark_findings_free(p.findings);
	return rc;
}

int tu_mark_rc(const aimark__format_ops *ops, const void *data, size_t len, const aimark__label_write *label, aimark_buf *out)
{
	aimark_source *src = NULL;
	assert_int_equal(aimark_source_new_memory(&src, data, len), 0);
	int rc = tu_mark_source(ops, src, label, out);
	aimark_source_free(src);
	return rc;
}

void tu_mark(const aimark__format_ops *ops, const void *data, size_t len, const aimark__label_write *label, aimark_buf *out)
{
	if (tu_mark_rc(ops, data, len, label, out) != 0)
		fail_msg("write failed: %s", aimark_error_last());
}

void tu_assert_file_mark_same(const aimark__format_ops *ops, const char *path, const aimark__label_write *label)
{
	size_t n;
	unsigned char *d = tu_read_file(path, &n);
	aimark_buf want = AIMARK_BUF_INIT, got = AIMARK_BUF_INIT;
	tu_mark(ops, d, n, label, &want);
	aimark_source *src = NULL;
	assert_int_equal(aimark_source_new_file(&src, path), 0);
	assert_int_equal(tu_mark_source(ops, src, label, &got), 0);
	assert_int_equal(got.size, want.size);
	assert_memory_equal(got.ptr, want.ptr, want.size);
	aimark_source_free(src);
	aimark_buf_dispose(&want);
	aimark_buf_dispose(&got);
	free(d);
}

int tu_mark_blob_rc(const aimark__format_ops *ops, const tu_blob *in, const aimark__label_write *label, tu_blob *out)
{
	aimark_buf buf = AIMARK_BUF_INIT;
	int rc = tu_mark_rc(ops, in->p, in->n, label, &buf);
	out->p = buf.ptr;
	out->n = buf.size;
	return rc;
}

tu_blob tu_mark_blob(const aimark__format_ops *ops, const tu_blob *in, const aimark__label_write *label)
{
	tu_blob out;
	if (tu_mark_blob_rc(ops, in, label, &out) != 0)
		fail_msg("write failed: %s", aimark_error_last());
	return out;
}

int tu_write_mem(const aimark__format_ops *ops, const void *data, size_t len, const aimark__label_write *label, aimark_buf *out)
{
	aimark_source *src = NULL;
	aimark_sink *sink = NULL;
	aimark__meta meta;
	aimark__label_provider prov = { NULL, tu_label_get, (void *)label };
	assert_int_equal(aimark_source_new_memory(&src, data, len), 0);
	assert_int_equal(aimark_sink_new_buffer(&sink, out), 0);
	aimark__meta_init(&meta, NULL);
	int rc = ops->read(src, &meta);
	if (rc == 0)
		rc = ops->write(src, &meta, &prov, sink);
	aimark__meta_dispose(&meta);
	aimark_sink_free(sink);
	aimark_source_free(src);
	if (out->ptr == NULL)
		assert_int_equal(aimark__buf_append(out, "", 0), 0);
	return rc;
}

int tu_label_mem(const aimark__format_ops *ops, const void *data, size_t len, const char *json, tu_provider *p,
		 aimark_buf *out, aimark_findings *f)
{
	aimark_source *src = NULL;
	aimark_sink *sink = NULL;
	aimark__meta meta;
	assert_int_equal(aimark_source_new_memory(&src, data, len), 0);
	assert_int_equal(aimark_sink_new_buffer(&sink, out), 0);
	aimark__meta_init(&meta, f);
	tu_provider_init(p, json);
	int rc = ops->read(src, &meta);
	if (rc == 0) {
		aimark__label_provider lp = tu_provider_streaming(p);
		rc = ops->write(src, &meta, &lp, sink);
	}
	aimark__meta_dispose(&meta);
	aimark_sink_free(sink);
	aimark_source_free(src);
	return rc;
}

static int append(void *ctx, const void *data, size_t len) { return aimark__buf_append(ctx, data, len); }

void tu_essence(const aimark__format_ops *ops, const void *data, size_t len, aimark_buf *out)
{
	tu_parsed p;
	tu_parse(ops, data, len, &p);
	if (p.rc != 0)
		fail_msg("read failed: %s", aimark_error_last());
	assert_int_equal(aimark__meta_hash_essence(p.src, &p.meta, append, out), 0);
	tu_parsed_free(&p);
}

void tu_assert_same_essence(const aimark__format_ops *ops, const void *a, size_t alen, const void *b, size_t blen,
			    size_t min_size)
{
	aimark_buf ea = AIMARK_BUF_INIT, eb = AIMARK_BUF_INIT;
	tu_essence(ops, a, alen, &ea);
	tu_essence(ops, b, blen, &eb);
	assert_true(ea.size >= min_size);
	assert_int_equal(ea.size, eb.size);
	assert_memory_equal(ea.ptr, eb.ptr, ea.size);
	aimark_buf_dispose(&ea);
	aimark_buf_dispose(&eb);
}

void tu_assert_essence_is(const aimark__format_ops *ops, const void *data, size_t len, const void *expect, size_t expect_len)
{
	aimark_buf e = AIMARK_BUF_INIT;
	tu_essence(ops, data, len, &e);
	assert_int_equal(e.size, expect_len);
	if (expect_len)
		assert_memory_equal(e.ptr, expect, expect_len);
	aimark_buf_dispose(&e);
}

void tu_expect_read_error(const aimark__format_ops *ops, const void *data, size_t len, int code, const char *format,
			  const char *needle)
{
	tu_parsed p;
	aimark_error_clear();
	tu_parse(ops, data, len, &p);
	if (p.rc != code)
		fail_msg("read gave %d (%s), want %d", p.rc, aimark_error_last(), code);
	const char *msg = aimark_error_last();
	if ((format && strstr(msg, format) == NULL) || (needle && strstr(msg, needle) == NULL))
		fail_msg("message \"%s\" lacks \"%s\" or \"%s\"", msg, format ? format : "", needle ? needle : "");
	tu_parsed_free(&p);
}

void tu_assert_prefixes_read(const aimark__format_ops *ops, const void *data, size_t len, size_t limit, size_t step)
{
	for (size_t k = 0; k < limit && k < len; k += step) {
		tu_parsed p;
		tu_parse(ops, data, k, &p);
		if (p.rc != 0 && p.rc != AIMARK_EFORMAT)
			fail_msg("prefix of %zu bytes: %d (%s)", k, p.rc, aimark_error_last());
		tu_parsed_free(&p);
	}
}

const aimark__carrier *tu_carrier(const aimark__meta *meta, const char *kind, size_t nth)
{
	for (size_t i = 0; i < meta->n_carriers; i++)
		if (strcmp(meta->carriers[i].kind, kind) == 0 && nth-- == 0)
			return &meta->carriers[i];
	return NULL;
}

size_t tu_count_kind(const aimark__meta *meta, const char *kind)
{
	size_t n = 0;
	for (size_t i = 0; i < meta->n_carriers; i++)
		n += strcmp(meta->carriers[i].kind, kind) == 0;
	return n;
}

void tu_assert_carrier(const aimark__meta *meta, const char *kind, const char *text)
{
	const aimark__carrier *c = tu_carrier(meta, kind, 0);
	if (c == NULL)
		fail_msg("no %s carrier", kind);
	assert_string_equal(c->text, text);
	assert_int_equal(c->len, strlen(text));
}

void tu_assert_label(const aimark__format_ops *ops, const void *data, size_t len, const char *kind, const char *json)
{
	tu_assert_labels(ops, data, len, kind, json, strlen(json), 1);
}

void tu_assert_labels(const aimark__format_ops *ops, const void *data, size_t len, const char *kind, const char *json,
		      size_t json_len, size_t expect)
{
	tu_parsed p;
	tu_parse(ops, data, len, &p);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.meta.n_carriers, expect);
	for (size_t i = 0; i < expect; i++) {
		assert_string_equal(p.meta.carriers[i].kind, kind);
		assert_int_equal(p.meta.carriers[i].len, json_len);
		assert_memory_equal(p.meta.carriers[i].text, json, json_len);
	}
	tu_parsed_free(&p);
}

/* Helpers shared by the cmocka unit tests. */
#ifndef AIMARK_TESTUTIL_H
#define AIMARK_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "aimark/aimark.h"
#include "format/format.h"

/* Reads a whole file into a malloc'ed block (NUL-terminated); fails the test if unreadable. */
unsigned char *tu_read_file(const char *path, size_t *len);
/* Writes a file; fails the test on error. */
void tu_write_file(const char *path, const void *data, size_t len);
/* A fresh temporary directory (malloc'ed path); removed with tu_rmtree. */
char *tu_tempdir(void);
void tu_rmtree(const char *path);
/* A malloc'ed byte string (free p). */
typedef struct tu_blob {
	unsigned char *p;
	size_t n;
} tu_blob;
/* tests/data/<dir>/<name> as a blob. */
tu_blob tu_data_file(const char *dir, const char *name);
/* Replaces `remove` bytes at `at` with `ins`: a new blob; the old one is freed. */
tu_blob tu_blob_splice(tu_blob b, size_t at, const void *ins, size_t ins_len, size_t remove);
/* snprintf into a static rotating buffer: tu_path("%s/x.jpg", dir). */
const char *tu_path(const char *fmt, ...);
/* Test data locations. */
#define TU_DATA(name) AIMARK_TEST_DATA "/" name
#define TU_SHARED(name) AIMARK_SHARED_DIR "/" name
#define TU_SAMPLE(name) AIMARK_SAMPLES_DIR "/" name

/* ---- external tools ---- */

/* 1 when `name` is on the PATH. */
int tu_have_tool(const char *name);
/* 1 when both ffmpeg and ffprobe are on the PATH (asked once). */
int tu_have_ffmpeg(void);
/* Runs a shell command (printf-style) and returns its standard output (malloc'ed), whatever its exit status. */
char *tu_run(const char *fmt, ...);
/* The same, but NULL when the command exits non-zero; trailing newlines removed. */
char *tu_run_ok(const char *fmt, ...);
/* Runs a shell command (printf-style), its output passing through; fails the test when it fails. */
void tu_sh(const char *fmt, ...);
/* Runs a command (printf-style) that must succeed; returns its output (malloc'ed, `*len` bytes when `len`). */
char *tu_run_bytes(size_t *len, const char *fmt, ...);
/* Runs a command (printf-style) that must succeed and print exactly `expect` (trailing newlines aside). */
void tu_assert_output(const char *expect, const char *fmt, ...);

/*
 * How ffmpeg sees a container: the file extension to save it under, where
 * ffprobe shows the AIGC tag ("format" or "stream" tags) and which streams
 * to hash ("0" all, "0:a" audio).
 */
typedef struct tu_media {
	const char *ext;
	const char *tag_scope;
	const char *map;
} tu_media;

/*
 * When ffmpeg is installed: saves `data` as out.<ext> in a temporary
 * directory and checks that ffprobe shows exactly `json` (one line) as its
 * AIGC tag (unless `json` is NULL), that the format tags contain `must_have`
 * (unless NULL), that the streams hash as those of the file `orig` (unless
 * NULL), and that decoding is clean.
 */
void tu_ffmpeg_check(const tu_media *m, const char *orig, const void *data, size_t len, const char *json, size_t json_len,
		     const char *must_have);

/* ---- format backends (src/format/format.h) ---- */

/* A conforming Annex E label with producer and propagator set, in both forms. */
#define TU_PRODUCER "001191110102MACQD9K64010000"
#define TU_LABEL_BARE_BY(producer, id) \
	"{\"Label\":\"1\",\"ContentProducer\":\"" producer "\",\"ProduceID\":\"" id "\",\"ReservedCode1\":\"\"," \
	"\"ContentPropagator\":\"" producer "\",\"PropagateID\":\"" id "\",\"ReservedCode2\":\"\"}"
#define TU_LABEL_BARE(id) TU_LABEL_BARE_BY(TU_PRODUCER, id)
#define TU_LABEL_WRAPPED(id) "{\"AIGC\":" TU_LABEL_BARE(id) "}"
/* An aimark__label_write initializer for the bare label literal `bare` (and its wrapped form). */
#define TU_LABEL_OF(bare) { bare, sizeof bare - 1, "{\"AIGC\":" bare "}", sizeof bare + 8 }
#define TU_LABEL(id) TU_LABEL_OF(TU_LABEL_BARE(id))

/* aimark__label_provider.get for a provider whose ctx is the aimark__label_write to hand out. */
int tu_label_get(void *ctx, const aimark__label_write **out);

/*
 * A provider that also takes the essence as a streaming writer feeds it:
 * counts and hashes (FNV-1a) what it is fed and notes whether anything was
 * fed after the label was asked for.
 */
typedef struct tu_provider {
	aimark__label_write lw;
	uint64_t fed;
	uint64_t fed_hash;
	int got;
	int fed_after_get;
} tu_provider;

#define TU_FNV_INIT 0xCBF29CE484222325ull
uint64_t tu_fnv(uint64_t h, const void *data, size_t len);
/* Resets `p` to hand out `json` as both label forms. */
void tu_provider_init(tu_provider *p, const char *json);
aimark__label_provider tu_provider_streaming(tu_provider *p);

/* One read() of a memory buffer; `rc` is its result. */
typedef struct tu_parsed {
	aimark_source *src;
	aimark_findings *findings;
	aimark__meta meta;
	int rc;
} tu_parsed;

void tu_parse(const aimark__format_ops *ops, const void *data, size_t len, tu_parsed *p);
/* The same for a source of the caller's, which tu_parsed_free() then frees. */
void tu_parse_source(const aimark__format_ops *ops, aimark_source *src, tu_parsed *p);
void tu_parsed_free(tu_parsed *p);
/* read() of memory into `meta` (the caller disposes it) with findings `f` (may be NULL); returns read()'s result. */
int tu_read_mem(const aimark__format_ops *ops, const void *data, size_t len, aimark__meta *meta, aimark_findings *f);

/*
 * Reads `src` (the test fails if it does not read) and writes `label`;
 * returns write()'s result, the output appended to `out`. `src` stays the caller's.
 */
int tu_mark_source(const aimark__format_ops *ops, aimark_source *src, const aimark__label_write *label, aimark_buf *out);
/* The same for a memory buffer. */
int tu_mark_rc(const aimark__format_ops *ops, const void *data, size_t len, const aimark__label_write *label, aimark_buf *out);
/* The same; the test fails if the write fails. */
void tu_mark(const aimark__format_ops *ops, const void *data, size_t len, const aimark__label_write *label, aimark_buf *out);
/* Marking the file at `path` through a file source gives the same bytes as through memory. */
void tu_assert_file_mark_same(const aimark__format_ops *ops, const char *path, const aimark__label_write *label);
/* tu_mark_rc() and tu_mark() of a blob, the output in a new blob. */
int tu_mark_blob_rc(const aimark__format_ops *ops, const tu_blob *in, const aimark__label_write *label, tu_blob *out);
tu_blob tu_mark_blob(const aimark__format_ops *ops, const tu_blob *in, const aimark__label_write *label);
/* read() then write() of `label`; returns the first failure's result, the output appended to `out` (never NULL). */
int tu_write_mem(const aimark__format_ops *ops, const void *data, size_t len, const aimark__label_write *label, aimark_buf *out);
/*
 * read() then write() of `json` through the streaming provider `p` (reset
 * first); returns the first failure's result, the output appended to `out`.
 */
int tu_label_mem(const aimark__format_ops *ops, const void *data, size_t len, const char *json, tu_provider *p,
		 aimark_buf *out, aimark_findings *f);

/* The essence bytes of `data` (it must read), appended to `out`. */
void tu_essence(const aimark__format_ops *ops, const void *data, size_t len, aimark_buf *out);
/* Both read, and their essences are equal and `min_size` bytes long at least. */
void tu_assert_same_essence(const aimark__format_ops *ops, const void *a, size_t alen, const void *b, size_t blen,
			    size_t min_size);
/* `data` reads and its essence is exactly `expect` (`expect_len` bytes). */
void tu_assert_essence_is(const aimark__format_ops *ops, const void *data, size_t len, const void *expect, size_t expect_len);

/*
 * Reading `data` fails with `code`, and the message names `format` and
 * contains `needle` (each unless NULL).
 */
void tu_expect_read_error(const aimark__format_ops *ops, const void *data, size_t len, int code, const char *format,
			  const char *needle);
/* Every `step`-th prefix of `data` shorter than `limit` reads, or fails with AIMARK_EFORMAT. */
void tu_assert_prefixes_read(const aimark__format_ops *ops, const void *data, size_t len, size_t limit, size_t step);
/* The `nth` carrier of `kind` (NULL when there is none) and how many there are. */
const aimark__carrier *tu_carrier(const aimark__meta *meta, const char *kind, size_t nth);
size_t tu_count_kind(const aimark__meta *meta, const char *kind);
/* The first carrier of `kind` holds exactly `text`. */
void tu_assert_carrier(const aimark__meta *meta, const char *kind, const char *text);
/* `data` reads with exactly one carrier, of `kind`, holding exactly `json`. */
void tu_assert_label(const aimark__format_ops *ops, const void *data, size_t len, const char *kind, const char *json);
/* `data` reads with exactly `expect` carriers, all of `kind`, each holding exactly `json` (`len` bytes). */
void tu_assert_labels(const aimark__format_ops *ops, const void *data, size_t len, const char *kind, const char *json,
		      size_t json_len, size_t expect);

#endif

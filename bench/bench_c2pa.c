/*
 * C2PA sign-and-embed and validate timings on synthetic media: a 4 MB JPEG, a 5 MB WAV and a
 * 4 MB MP4 built in memory (valid containers, filler essence). Prints one line per case:
 *   bench_c2pa <format> <bytes> embed_ms=<median> verify_ms=<median>
 * Usage: bench_c2pa [iterations]
 *
 * On real files, against the reference in the same run (bench/c2pa_reference.mjs):
 *   bench_c2pa --files ITERATIONS OUTDIR FILE...
 * labels each FILE (.jpg, .wav, .mp4) with the GB 45438 metadata label (outside
 * the timing), writes that to OUTDIR/input-labelled.<ext> (the reference signs
 * the same bytes), then times, median over ITERATIONS (wall-clock and CPU time
 * of the thread):
 *   embed      the C2PA stage: manifest built, signed (ES256, the
 *              aimark_c2pa_keydir_create_test() certificate) and embedded
 *   validate   the C2PA validation of the signed file (trust anchors: the
 *              test root), in memory like the reference's fromBytes()
 *   mark       aimark_mark_memory() with the metadata and C2PA layers (the
 *              whole pipeline from the unlabelled file)
 *   verify     aimark_verify_memory() with the C2PA layer
 * and the peak resident memory of fresh processes that run once: the stage
 * alone (labelled file read into memory, signed into a file through a sink, as the pipeline does),
 * aimark_mark_file() (metadata + C2PA) and aimark_verify_file(); and of one
 * that does nothing. Writes OUTDIR/aimark-signed.<ext> and the key directory
 * OUTDIR/c2pa-keys; prints one JSON object per file.
 * Child mode (peak memory): bench_c2pa --child nothing|embed|mark|verify FILE KEYDIR OUT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aimark/aimark.h"
#include "bench_util.h"
#include "aimark/label.h"
#include "aimark/c2pa.h"
#include "c2pa/c2pa_stage.h"
#include "core/internal.h"

static void fill(unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (unsigned char)(seed >> 16);
	}
}

/* SOI, APP0, one big COM-free entropy run inside a fake scan (bytes never 0xFF), EOI. */
static unsigned char *make_jpeg(size_t n, size_t *len)
{
	unsigned char *p = malloc(n);
	static const unsigned char head[] = { 0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0,
					      0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00 };
	memcpy(p, head, sizeof head);
	fill(p + sizeof head, n - sizeof head - 2, 1);
	for (size_t i = sizeof head; i < n - 2; i++)
		if (p[i] == 0xFF)
			p[i] = 0xFE;
	p[n - 2] = 0xFF;
	p[n - 1] = 0xD9;
	*len = n;
	return p;
}

static unsigned char *make_wav(size_t n, size_t *len)
{
	unsigned char *p = malloc(n);
	size_t data = n - 44;
	memcpy(p, "RIFF", 4);
	aimark__put_le32(p + 4, (uint32_t)(n - 8));
	memcpy(p + 8, "WAVEfmt ", 8);
	aimark__put_le32(p + 16, 16);
	static const unsigned char fmt[16] = { 1, 0, 2, 0, 0x44, 0xAC, 0, 0, 0x10, 0xB1, 2, 0, 4, 0, 16, 0 };
	memcpy(p + 20, fmt, 16);
	memcpy(p + 36, "data", 4);
	aimark__put_le32(p + 40, (uint32_t)data);
	fill(p + 44, data, 2);
	*len = n;
	return p;
}

/* ftyp, moov/trak/mdia/minf/stbl/stco (one chunk), mdat. */
static unsigned char *make_mp4(size_t n, size_t *len)
{
	unsigned char *p = calloc(1, n);
	size_t pos = 0;
	static const unsigned char ftyp[] = { 0, 0, 0, 20, 'f', 't', 'y', 'p', 'i', 's', 'o', 'm', 0, 0, 2, 0, 'i', 's', 'o', 'm' };
	memcpy(p, ftyp, sizeof ftyp);
	pos = sizeof ftyp;
	const char *path[] = { "moov", "trak", "mdia", "minf", "stbl" };
	size_t stco = 8 + 4 + 4 + 4, inner = stco;
	size_t sizes[5];
	for (int i = 4; i >= 0; i--) {
		inner += 8;
		sizes[i] = inner;
	}
	for (int i = 0; i < 5; i++) {
		aimark__put_be32(p + pos, (uint32_t)sizes[i]);
		memcpy(p + pos + 4, path[i], 4);
		pos += 8;
	}
	aimark__put_be32(p + pos, (uint32_t)stco);
	memcpy(p + pos + 4, "stco", 4);
	aimark__put_be32(p + pos + 12, 1);
	size_t chunk_at = pos + 16;
	pos += stco;
	aimark__put_be32(p + chunk_at, (uint32_t)(pos + 8));
	aimark__put_be32(p + pos, (uint32_t)(n - pos));
	memcpy(p + pos + 4, "mdat", 4);
	fill(p + pos + 8, n - pos - 8, 3);
	*len = n;
	return p;
}


/* ---- real files, against the reference ---- */

typedef struct tick {
	double wall, cpu;
} tick;

static tick now2(void)
{
	struct timespec w, c;
	clock_gettime(CLOCK_MONOTONIC, &w);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c);
	tick t = { w.tv_sec * 1e3 + w.tv_nsec / 1e6, c.tv_sec * 1e3 + c.tv_nsec / 1e6 };
	return t;
}

static int spill(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	int ok = fwrite(p, 1, n, f) == n;
	return fclose(f) == 0 && ok ? 0 : -1;
}

static const char *format_of(const char *path, const char **ext)
{
	const char *dot = strrchr(path, '.');
	*ext = dot ? dot + 1 : "";
	if (dot && (strcmp(dot, ".jpg") == 0 || strcmp(dot, ".jpeg") == 0))
		return "jpeg";
	if (dot && strcmp(dot, ".wav") == 0)
		return "wav";
	if (dot && strcmp(dot, ".mp4") == 0)
		return "mp4";
	return NULL;
}

static void fail(const char *what)
{
	fprintf(stderr, "bench_c2pa: %s: %s\n", what, aimark_error_last());
	exit(1);
}

/* The options both the pipeline runs and the child use: metadata (signed with `key`) and C2PA. */
static aimark_mark_options c2pa_options(const aimark_key *key, const aimark_c2pa_signer *signer)
{
	aimark_mark_options o = AIMARK_MARK_OPTIONS_INIT;
	o.content_producer = "001191110102MACQD9K64010000";
	o.produce_id = "0123456789abcdef0123456789abcdef";
	o.key = key;
	o.layers = AIMARK_LAYER_C2PA;
	o.c2pa_signer = signer;
	return o;
}

/* The child counts the library's heap (every aimark allocation goes through the hook): a size header per block. */
static size_t heap_now, heap_peak;

static void *count_malloc(size_t n, void *user)
{
	size_t *p = malloc(n + 16);
	if (!p)
		return NULL;
	p[0] = n;
	heap_now += n;
	if (heap_now > heap_peak)
		heap_peak = heap_now;
	return (unsigned char *)p + 16;
}

static void count_free(void *ptr, void *user)
{
	if (!ptr)
		return;
	size_t *p = (size_t *)((unsigned char *)ptr - 16);
	heap_now -= p[0];
	free(p);
}

static void *count_realloc(void *ptr, size_t n, void *user)
{
	if (!ptr)
		return count_malloc(n, user);
	size_t *p = (size_t *)((unsigned char *)ptr - 16), old = p[0];
	size_t *q = realloc(p, n + 16);
	if (!q)
		return NULL;
	q[0] = n;
	heap_now = heap_now - old + n;
	if (heap_now > heap_peak)
		heap_peak = heap_now;
	return (unsigned char *)q + 16;
}

/*
 * --child: one operation in a fresh process; prints its VmHWM in KiB and the
 * peak of the library's heap in bytes (plus the input the caller holds, for
 * the stage alone).
 */
static int child(const char *what, const char *file, const char *keys, const char *out)
{
	if (strcmp(what, "nothing") == 0) {
		printf("%ld 0\n", bench_vm_hwm_kb());
		return 0;
	}
	aimark_allocator counting = { count_malloc, count_realloc, count_free, NULL };
	aimark_allocator_set(&counting);
	size_t held = 0; /* bytes the caller holds outside the library */
	char root[4096];
	snprintf(root, sizeof root, "%s/%s", keys, AIMARK_C2PA_KEYDIR_ROOT);
	int rc;
	if (strcmp(what, "embed") == 0) {
		/* the stage alone as the pipeline runs it: from the labelled file in memory to the signed file on disk */
		const char *ext, *format = format_of(file, &ext);
		aimark_c2pa_signer *signer = NULL;
		aimark_sink *sink = NULL;
		size_t len;
		unsigned char *data = bench_read_file(file, &len);
		if (!format || !data || aimark_c2pa_signer_load_dir(&signer, keys) != 0 || aimark_sink_new_file(&sink, out, 1, NULL) != 0)
			fail("child setup");
		held = len;
		rc = aimark__c2pa_embed_to_sink(format, data, len, signer, NULL, sink);
		if (rc == 0)
			rc = aimark_sink_commit(sink);
		aimark_sink_free(sink);
		aimark_c2pa_signer_free(signer);
		free(data);
	} else if (strcmp(what, "mark") == 0) {
		aimark_c2pa_signer *signer = NULL;
		aimark_key *key = NULL;
		if (aimark_c2pa_signer_load_dir(&signer, keys) != 0 || aimark_key_generate(&key, AIMARK_ALG_SM2) != 0)
			fail("child setup");
		aimark_mark_options o = c2pa_options(key, signer);
		rc = aimark_mark_file(file, out, 1, &o, NULL);
		aimark_key_free(key);
		aimark_c2pa_signer_free(signer);
	} else {
		aimark_verify_options vo = AIMARK_VERIFY_OPTIONS_INIT;
		vo.layers = AIMARK_LAYER_C2PA;
		vo.c2pa_trust_anchors = root;
		aimark_report *r = NULL;
		rc = aimark_verify_file(file, &vo, &r);
		aimark_report_free(r);
	}
	if (rc != 0)
		fail(what);
	printf("%ld %zu\n", bench_vm_hwm_kb(), heap_peak + held);
	return 0;
}

static long child_peak(const char *what, const char *file, const char *keys, const char *out, size_t *heap)
{
	char cmd[16384];
	snprintf(cmd, sizeof cmd, "/proc/%ld/exe --child '%s' '%s' '%s' '%s'", (long)getpid(), what, file, keys, out);
	fflush(NULL);
	FILE *p = popen(cmd, "r");
	long kb = -1;
	if (!p)
		return -1;
	if (fscanf(p, "%ld %zu", &kb, heap) != 2)
		kb = -1;
	if (pclose(p) != 0)
		kb = -1;
	return kb;
}

static int files_mode(int iters, const char *outdir, int nfiles, char **files)
{
	char keys[4096], root[4200];
	snprintf(keys, sizeof keys, "%s/c2pa-keys", outdir);
	snprintf(root, sizeof root, "%s/%s", keys, AIMARK_C2PA_KEYDIR_ROOT);
	if (access(root, R_OK) != 0 && aimark_c2pa_keydir_create_test(keys, "Aimark Bench", NULL, 0) != 0)
		fail("keydir");
	aimark_c2pa_signer *signer = NULL;
	aimark_key *key = NULL;
	if (aimark_c2pa_signer_load_dir(&signer, keys) != 0 || aimark_key_generate(&key, AIMARK_ALG_SM2) != 0)
		fail("signer");
	aimark_mark_options o = c2pa_options(key, signer);
	aimark_mark_options meta_only = o;
	meta_only.layers = 0;
	meta_only.c2pa_signer = NULL;
	char nothing_out[4300];
	snprintf(nothing_out, sizeof nothing_out, "%s/bench-nothing", outdir);
	size_t no_heap = 0;
	long baseline_kb = child_peak("nothing", "-", keys, nothing_out, &no_heap);

	double *w[4], *c[4];
	for (int k = 0; k < 4; k++) {
		w[k] = calloc((size_t)iters, sizeof(double));
		c[k] = calloc((size_t)iters, sizeof(double));
		if (!w[k] || !c[k])
			fail("calloc");
	}
	for (int f = 0; f < nfiles; f++) {
		const char *ext, *format = format_of(files[f], &ext);
		if (!format) {
			fprintf(stderr, "bench_c2pa: %s: not .jpg, .wav or .mp4\n", files[f]);
			return 1;
		}
		size_t len;
		unsigned char *data = bench_read_file(files[f], &len);
		if (!data)
			fail(files[f]);
		/* the GB 45438 label first, outside the timing, as the pipeline does before the C2PA stage */
		aimark_buf labelled = AIMARK_BUF_INIT;
		aimark_report *lr = NULL;
		aimark_label *label = NULL;
		if (aimark_mark_memory(data, len, &meta_only, &labelled, NULL) != 0 ||
		    aimark_verify_memory(labelled.ptr, labelled.size, NULL, &lr) != 0 || aimark_report_label(lr) == NULL ||
		    aimark_label_clone(&label, aimark_report_label(lr)) != 0)
			fail("label");
		aimark_report_free(lr);
		char path[4400];
		snprintf(path, sizeof path, "%s/input-labelled.%s", outdir, ext);
		if (spill(path, labelled.ptr, labelled.size) != 0)
			fail(path);

		aimark_buf signed_file = AIMARK_BUF_INIT;
		char state[16] = "?";
		for (int i = 0; i < iters; i++) {
			signed_file.size = 0;
			tick t0 = now2();
			if (aimark__c2pa_embed(format, labelled.ptr, labelled.size, signer, label, &signed_file) != 0)
				fail("embed");
			tick t1 = now2();
			aimark_source *src = NULL;
			json_t *r = NULL;
			if (aimark_source_new_memory(&src, signed_file.ptr, signed_file.size) != 0 || aimark__c2pa_verify(src, format, root, &r) != 0)
				fail("validate");
			tick t2 = now2();
			snprintf(state, sizeof state, "%s", r ? json_string_value(json_object_get(r, "state")) : "none");
			json_decref(r);
			aimark_source_free(src);
			w[0][i] = t1.wall - t0.wall;
			c[0][i] = t1.cpu - t0.cpu;
			w[1][i] = t2.wall - t1.wall;
			c[1][i] = t2.cpu - t1.cpu;

			aimark_buf whole = AIMARK_BUF_INIT;
			t0 = now2();
			if (aimark_mark_memory(data, len, &o, &whole, NULL) != 0)
				fail("mark");
			t1 = now2();
			aimark_verify_options vo = AIMARK_VERIFY_OPTIONS_INIT;
			vo.layers = AIMARK_LAYER_C2PA;
			vo.c2pa_trust_anchors = root;
			aimark_report *rep = NULL;
			if (aimark_verify_memory(whole.ptr, whole.size, &vo, &rep) != 0)
				fail("verify");
			t2 = now2();
			aimark_report_free(rep);
			aimark_buf_dispose(&whole);
			w[2][i] = t1.wall - t0.wall;
			c[2][i] = t1.cpu - t0.cpu;
			w[3][i] = t2.wall - t1.wall;
			c[3][i] = t2.cpu - t1.cpu;
		}
		snprintf(path, sizeof path, "%s/aimark-signed.%s", outdir, ext);
		if (spill(path, signed_file.ptr, signed_file.size) != 0)
			fail(path);
		char child_out[4400];
		snprintf(child_out, sizeof child_out, "%s/bench-child.%s", outdir, ext);
		snprintf(path, sizeof path, "%s/input-labelled.%s", outdir, ext);
		size_t embed_heap = 0, mark_heap = 0, verify_heap = 0;
		long embed_kb = child_peak("embed", path, keys, child_out, &embed_heap);
		long mark_kb = child_peak("mark", files[f], keys, child_out, &mark_heap);
		long verify_kb = child_peak("verify", child_out, keys, "-", &verify_heap);
		remove(child_out);
		printf("{\"format\":\"%s\",\"file\":\"%s\",\"bytes\":%zu,\"labelled_bytes\":%zu,\"signed_bytes\":%zu,\"iterations\":%d,"
		       "\"state\":\"%s\",\"embed_ms\":%.3f,\"embed_cpu_ms\":%.3f,\"validate_ms\":%.3f,\"validate_cpu_ms\":%.3f,"
		       "\"mark_ms\":%.3f,\"mark_cpu_ms\":%.3f,\"verify_ms\":%.3f,\"verify_cpu_ms\":%.3f,"
		       "\"process_baseline_peak_rss_kb\":%ld,\"embed_peak_rss_kb\":%ld,\"mark_file_peak_rss_kb\":%ld,\"verify_file_peak_rss_kb\":%ld,"
		       "\"embed_peak_heap\":%zu,\"mark_file_peak_heap\":%zu,\"verify_file_peak_heap\":%zu}\n",
		       format, files[f], len, labelled.size, signed_file.size, iters, state, bench_median(w[0], iters), bench_median(c[0], iters),
		       bench_median(w[1], iters), bench_median(c[1], iters), bench_median(w[2], iters), bench_median(c[2], iters), bench_median(w[3], iters), bench_median(c[3], iters),
		       baseline_kb, embed_kb, mark_kb, verify_kb, embed_heap, mark_heap, verify_heap);
		fflush(stdout);
		aimark_buf_dispose(&signed_file);
		aimark_buf_dispose(&labelled);
		aimark_label_free(label);
		free(data);
	}
	for (int k = 0; k < 4; k++) {
		free(w[k]);
		free(c[k]);
	}
	aimark_key_free(key);
	aimark_c2pa_signer_free(signer);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 6 && strcmp(argv[1], "--child") == 0)
		return child(argv[2], argv[3], argv[4], argv[5]);
	if (argc >= 5 && strcmp(argv[1], "--files") == 0) {
		int n = atoi(argv[2]);
		if (n < 1 || n > 1000) {
			fprintf(stderr, "bench_c2pa: ITERATIONS must be 1..1000\n");
			return 64;
		}
		return files_mode(n, argv[3], argc - 4, argv + 4);
	}
	int iters = argc > 1 ? atoi(argv[1]) : 9;
	if (iters < 1 || iters > 1000)
		iters = 9;
	char dir[] = "/tmp/aimark-bench-c2pa-XXXXXX";
	if (mkdtemp(dir) == NULL)
		return 1;
	char keys[256], root[300];
	snprintf(keys, sizeof keys, "%s/keys", dir);
	snprintf(root, sizeof root, "%s/%s", keys, AIMARK_C2PA_KEYDIR_ROOT);
	aimark_c2pa_signer *signer = NULL;
	if (aimark_c2pa_keydir_create_test(keys, "Aimark Bench", NULL, 0) || aimark_c2pa_signer_load_dir(&signer, keys)) {
		fprintf(stderr, "bench_c2pa: %s\n", aimark_error_last());
		return 1;
	}
	struct { const char *format; size_t size; unsigned char *(*make)(size_t, size_t *); } cases[] = {
		{ "jpeg", 4u << 20, make_jpeg }, { "wav", 5u << 20, make_wav }, { "mp4", 4u << 20, make_mp4 },
	};
	int rc = 0;
	double *te = calloc((size_t)iters, sizeof *te), *tv = calloc((size_t)iters, sizeof *tv);
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		size_t len;
		unsigned char *data = cases[c].make(cases[c].size, &len);
		char state[16] = "?";
		for (int i = 0; i < iters; i++) {
			aimark_buf out = AIMARK_BUF_INIT;
			double t0 = bench_now_ms();
			if (aimark__c2pa_embed(cases[c].format, data, len, signer, NULL, &out) != 0) {
				fprintf(stderr, "bench_c2pa: %s: %s\n", cases[c].format, aimark_error_last());
				rc = 1;
				break;
			}
			double t1 = bench_now_ms();
			aimark_source *src = NULL;
			json_t *r = NULL;
			if (aimark_source_new_memory(&src, out.ptr, out.size) != 0 || aimark__c2pa_verify(src, cases[c].format, root, &r) != 0)
				rc = 1;
			double t2 = bench_now_ms();
			snprintf(state, sizeof state, "%s", r ? json_string_value(json_object_get(r, "state")) : "none");
			if (strcmp(state, "Trusted") != 0)
				rc = 1;
			te[i] = t1 - t0;
			tv[i] = t2 - t1;
			json_decref(r);
			aimark_source_free(src);
			aimark_buf_dispose(&out);
		}
		qsort(te, (size_t)iters, sizeof *te, bench_cmp_double);
		qsort(tv, (size_t)iters, sizeof *tv, bench_cmp_double);
		printf("bench_c2pa %s %zu embed_ms=%.2f verify_ms=%.2f state=%s\n", cases[c].format, len, te[iters / 2], tv[iters / 2],
		       state);
		free(data);
	}
	free(te);
	free(tv);
	aimark_c2pa_signer_free(signer);
	char cmd[400];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		rc = 1;
	return rc;
}

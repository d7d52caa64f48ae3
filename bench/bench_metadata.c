/*
 * Speed and memory of the metadata layer on one file:
 *   bench_metadata FILE REPS OUTDIR
 * prints one JSON object. Every time is the median (and minimum) over REPS
 * runs, in milliseconds, both wall-clock and CPU time of the thread (the CPU
 * time does not count the time the thread waits for a core on a loaded
 * machine, nor I/O waits), for each signing algorithm (SM2 with SM3,
 * Ed25519 with SHA-256):
 *   mark_file     aimark_mark_file(): read, hash, sign, write a temporary
 *                 file, fsync, rename (what aimark-mark does per file)
 *   mark_memory   aimark_mark_memory() on the file already in memory
 *   verify_file   aimark_verify_file() of the labelled file (metadata layer)
 *   verify_memory aimark_verify_memory() of the labelled file
 * and the verification split into its parts, each timed on its own:
 *   read          reading the labelled file into memory (page cache)
 *   parse         format detection and the container parse (label carriers,
 *                 essence ranges)
 *   label         parsing the label JSON of every carrier
 *   signature     checking the SecurityData signature (SM2 / Ed25519)
 *   hash          the content hash over the essence ranges (SM3 / SHA-256)
 *   rest          verify_memory - parse - label - signature - hash (the
 *                 report and everything else; per run, then the median)
 * Peak memory: the program runs itself in a fresh process that labels the
 * file once with aimark_mark_file() and prints its VmHWM, and in one that
 * only starts and exits (the baseline of a process: libraries, key).
 *
 * Profiling modes (one operation, for valgrind --tool=callgrind):
 *   bench_metadata --once mark|verify KEYDIR FILE OUTDIR
 * Child mode (used for the peak memory):
 *   bench_metadata --child nothing|mark sm2|ed25519 FILE OUT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "aimark/aimark.h"
#include "bench_util.h"
#include "format/format.h"
#include "label/security.h"
#include "pipeline/pipeline_internal.h"

#define PRODUCER "001191110102MACQD9K64010000"

typedef struct tick {
	double wall, cpu;
} tick;

static tick now(void)
{
	struct timespec w, c;
	clock_gettime(CLOCK_MONOTONIC, &w);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c);
	tick t = { w.tv_sec * 1e3 + w.tv_nsec / 1e6, c.tv_sec * 1e3 + c.tv_nsec / 1e6 };
	return t;
}

/* One measured quantity over the runs. */
typedef struct series {
	double *wall, *cpu;
	int n;
} series;

static void die(const char *what)
{
	fprintf(stderr, "bench_metadata: %s: %s\n", what, aimark_error_last());
	exit(1);
}

static void series_init(series *s, int reps)
{
	s->wall = calloc((size_t)reps, sizeof *s->wall);
	s->cpu = calloc((size_t)reps, sizeof *s->cpu);
	s->n = 0;
	if (!s->wall || !s->cpu)
		die("calloc");
}

static void series_add(series *s, tick t0)
{
	tick t1 = now();
	s->wall[s->n] = t1.wall - t0.wall;
	s->cpu[s->n] = t1.cpu - t0.cpu;
	s->n++;
}

static void series_free(series *s)
{
	free(s->wall);
	free(s->cpu);
}

static double median(const double *v, int n)
{
	double *t = malloc((size_t)n * sizeof *t);
	if (!t)
		die("malloc");
	memcpy(t, v, (size_t)n * sizeof *t);
	qsort(t, (size_t)n, sizeof *t, bench_cmp_double);
	double m = n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
	free(t);
	return m;
}

static double minimum(const double *v, int n)
{
	double m = v[0];
	for (int i = 1; i < n; i++)
		if (v[i] < m)
			m = v[i];
	return m;
}

static void print_series(const char *name, const series *s, int last)
{
	printf("\"%s_ms\":%.3f,\"%s_min_ms\":%.3f,\"%s_cpu_ms\":%.3f%s", name, median(s->wall, s->n), name, minimum(s->wall, s->n), name,
	       median(s->cpu, s->n), last ? "" : ",");
}

static aimark_key_alg parse_alg(const char *name)
{
	aimark_key_alg alg;
	if (aimark_key_alg_parse(name, &alg) != 0)
		die(name);
	return alg;
}

/* This process's peak resident memory (VmHWM, KiB), or -1. */
/*
 * Peak RSS (KiB) of this program run in a fresh process as "--child what alg
 * in out", which prints its own VmHWM (a fresh address space: the figure
 * does not include this parent's memory, as wait4's ru_maxrss can), or -1.
 */
static long child_peak_kb(const char *what, const char *alg, const char *in, const char *out)
{
	char cmd[8192];
	snprintf(cmd, sizeof cmd, "/proc/%ld/exe --child '%s' '%s' '%s' '%s'", (long)getpid(), what, alg, in, out);
	fflush(NULL);
	FILE *p = popen(cmd, "r");
	long kb = -1;
	if (!p)
		return -1;
	if (fscanf(p, "%ld", &kb) != 1)
		kb = -1;
	if (pclose(p) != 0)
		kb = -1;
	return kb;
}

typedef struct alg_result {
	const char *alg;
	series mark_file, mark_memory, verify_file, verify_memory, read, parse, label, sig, hash, rest;
	long mark_file_peak_kb;
	uint64_t essence_bytes;
} alg_result;

static void verify_parts(const unsigned char *p, size_t n, const aimark_trust *trust, aimark__hash_alg halg, alg_result *res)
{
	aimark_source *src = NULL;
	if (aimark_source_new_memory(&src, p, n) != 0)
		die("source");
	aimark__meta meta;
	aimark__meta_init(&meta, NULL);
	tick t0 = now();
	const aimark__format_ops *ops = aimark__pipeline_format(src, NULL, NULL);
	if (ops == NULL || ops->read(src, &meta) != 0)
		die("parse");
	series_add(&res->parse, t0);

	aimark_findings *f = NULL;
	aimark_label *label = NULL;
	const char *carrier = NULL;
	if (aimark_findings_new(&f) != 0)
		die("findings");
	t0 = now();
	if (aimark__pipeline_primary_label(&meta, f, &label, &carrier) != 0 || label == NULL)
		die("label");
	series_add(&res->label, t0);

	aimark__security_check check;
	memset(&check, 0, sizeof check);
	t0 = now();
	if (aimark__security_verify(label, AIMARK_ROLE_PRODUCER, trust, &check, f) != 0 || check.status != AIMARK_SIG_VALID)
		die("signature");
	series_add(&res->sig, t0);

	unsigned char digest[AIMARK__HASH_MAX];
	t0 = now();
	if (aimark__pipeline_essence_digest(src, &meta, halg, digest) != 0)
		die("hash");
	series_add(&res->hash, t0);
	if (memcmp(digest, check.digest, 32) != 0)
		die("hash differs from the signed one");

	res->essence_bytes = 0;
	for (size_t k = 0; k < meta.n_essence; k++)
		res->essence_bytes += meta.essence[k].length;
	aimark_label_free(label);
	aimark_findings_free(f);
	aimark__meta_dispose(&meta);
	aimark_source_free(src);
}

static void bench_alg(const char *alg_name, const char *in, const char *outdir, const unsigned char *data,
		      size_t len, int reps, alg_result *res)
{
	aimark_key_alg alg = parse_alg(alg_name);
	aimark_key *key = NULL;
	if (aimark_key_generate(&key, alg) != 0)
		die("keygen");
	res->alg = aimark_key_alg_name(alg);
	aimark_mark_options o = AIMARK_MARK_OPTIONS_INIT;
	o.content_producer = PRODUCER;
	o.key = key;
	series *all[] = { &res->mark_file, &res->mark_memory, &res->verify_file, &res->verify_memory, &res->read,
			  &res->parse, &res->label, &res->sig, &res->hash, &res->rest };
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		series_init(all[i], reps);

	char out[4096];
	snprintf(out, sizeof out, "%s/bench-out-%s.jpg", outdir, res->alg);
	for (int i = 0; i < reps; i++) {
		tick t0 = now();
		if (aimark_mark_file(in, out, 1, &o, NULL) != 0)
			die("mark_file");
		series_add(&res->mark_file, t0);
	}
	char child_out[4200];
	snprintf(child_out, sizeof child_out, "%s.child", out);
	res->mark_file_peak_kb = child_peak_kb("mark", alg_name, in, child_out);
	remove(child_out);

	aimark_buf labelled = AIMARK_BUF_INIT;
	for (int i = 0; i < reps; i++) {
		labelled.size = 0;
		tick t0 = now();
		if (aimark_mark_memory(data, len, &o, &labelled, NULL) != 0)
			die("mark_memory");
		series_add(&res->mark_memory, t0);
	}

	aimark_trust *trust = NULL;
	if (aimark_trust_new(&trust) != 0 || aimark_trust_add_key(trust, key) != 0)
		die("trust");
	aimark_verify_options vo = AIMARK_VERIFY_OPTIONS_INIT;
	vo.trust = trust;
	vo.layers = AIMARK_LAYER_METADATA;
	aimark__hash_alg halg = aimark__key_hash_alg(key);
	for (int i = 0; i < reps; i++) {
		aimark_report *r = NULL;
		tick t0 = now();
		if (aimark_verify_file(out, &vo, &r) != 0 || aimark_report_verdict(r) != AIMARK_VERDICT_AUTHENTIC)
			die("verify_file");
		series_add(&res->verify_file, t0);
		aimark_report_free(r);

		size_t n;
		t0 = now();
		unsigned char *copy = bench_read_file(out, &n);
		if (!copy)
			die("read");
		series_add(&res->read, t0);
		free(copy);

		t0 = now();
		if (aimark_verify_memory(labelled.ptr, labelled.size, &vo, &r) != 0 || aimark_report_verdict(r) != AIMARK_VERDICT_AUTHENTIC)
			die("verify_memory");
		series_add(&res->verify_memory, t0);
		aimark_report_free(r);

		verify_parts(labelled.ptr, labelled.size, trust, halg, res);
		res->rest.wall[i] = res->verify_memory.wall[i] - res->parse.wall[i] - res->label.wall[i] - res->sig.wall[i] - res->hash.wall[i];
		res->rest.cpu[i] = res->verify_memory.cpu[i] - res->parse.cpu[i] - res->label.cpu[i] - res->sig.cpu[i] - res->hash.cpu[i];
		res->rest.n++;
	}
	remove(out);
	aimark_buf_dispose(&labelled);
	aimark_trust_free(trust);
	aimark_key_free(key);
}

/* --child: one operation in a fresh process, for its peak RSS. */
static int child(const char *what, const char *alg_name, const char *in, const char *out)
{
	if (strcmp(what, "nothing") == 0) {
		printf("%ld\n", bench_vm_hwm_kb());
		return 0;
	}
	aimark_key *key = NULL;
	if (aimark_key_generate(&key, parse_alg(alg_name)) != 0)
		die("keygen");
	aimark_mark_options o = AIMARK_MARK_OPTIONS_INIT;
	o.content_producer = PRODUCER;
	o.key = key;
	int rc = aimark_mark_file(in, out, 1, &o, NULL);
	aimark_key_free(key);
	printf("%ld\n", bench_vm_hwm_kb());
	return rc == 0 ? 0 : 1;
}

/*
 * --once: one labelling (FILE to OUTDIR/bench-once.jpg) or one verification
 * (of OUTDIR/bench-once.jpg, in memory) with the key of KEYDIR, for callgrind:
 * run "mark" first, then "verify".
 */
static int once(const char *what, const char *keydir, const char *in, const char *outdir)
{
	aimark_key *key = NULL;
	if (aimark_keydir_load_signing(&key, keydir) != 0)
		die("key");
	char out[4096];
	snprintf(out, sizeof out, "%s/bench-once.jpg", outdir);
	if (strcmp(what, "mark") == 0) {
		aimark_mark_options o = AIMARK_MARK_OPTIONS_INIT;
		o.content_producer = PRODUCER;
		o.key = key;
		if (aimark_mark_file(in, out, 1, &o, NULL) != 0)
			die("mark_file");
	} else {
		size_t len;
		unsigned char *data = bench_read_file(out, &len);
		aimark_trust *trust = NULL;
		if (!data || aimark_trust_new(&trust) != 0 || aimark_trust_add_key(trust, key) != 0)
			die("setup");
		aimark_verify_options vo = AIMARK_VERIFY_OPTIONS_INIT;
		vo.trust = trust;
		vo.layers = AIMARK_LAYER_METADATA;
		aimark_report *r = NULL;
		if (aimark_verify_memory(data, len, &vo, &r) != 0 || aimark_report_verdict(r) != AIMARK_VERDICT_AUTHENTIC)
			die("verify");
		aimark_report_free(r);
		aimark_trust_free(trust);
		free(data);
		remove(out);
	}
	aimark_key_free(key);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 6 && strcmp(argv[1], "--child") == 0)
		return child(argv[2], argv[3], argv[4], argv[5]);
	if (argc == 6 && strcmp(argv[1], "--once") == 0)
		return once(argv[2], argv[3], argv[4], argv[5]);
	if (argc != 4) {
		fprintf(stderr, "usage: bench_metadata FILE REPS OUTDIR\n"
				"       bench_metadata --once mark|verify KEYDIR FILE OUTDIR\n");
		return 64;
	}
	const char *in = argv[1], *outdir = argv[3];
	int reps = atoi(argv[2]);
	if (reps < 1 || reps > 100000) {
		fprintf(stderr, "bench_metadata: REPS must be 1..100000\n");
		return 64;
	}
	size_t len;
	unsigned char *data = bench_read_file(in, &len);
	if (!data)
		die("read");
	char nothing_out[4096];
	snprintf(nothing_out, sizeof nothing_out, "%s/bench-nothing", outdir);
	long baseline_kb = child_peak_kb("nothing", "sm2", in, nothing_out);
	alg_result res[2];
	bench_alg("sm2", in, outdir, data, len, reps, &res[0]);
	bench_alg("ed25519", in, outdir, data, len, reps, &res[1]);

	printf("{\"file\":\"%s\",\"bytes\":%zu,\"reps\":%d,\"process_baseline_peak_rss_kb\":%ld,", in, len, reps, baseline_kb);
	/* the SM2 figures at top level: the default algorithm */
	printf("\"mark_file_ms\":%.3f,\"mark_memory_ms\":%.3f,\"verify_memory_ms\":%.3f,\"algs\":[", median(res[0].mark_file.wall, reps),
	       median(res[0].mark_memory.wall, reps), median(res[0].verify_memory.wall, reps));
	for (int i = 0; i < 2; i++) {
		printf("%s{\"alg\":\"%s\",\"essence_bytes\":%llu,\"mark_file_peak_rss_kb\":%ld,", i ? "," : "", res[i].alg,
		       (unsigned long long)res[i].essence_bytes, res[i].mark_file_peak_kb);
		print_series("mark_file", &res[i].mark_file, 0);
		print_series("mark_memory", &res[i].mark_memory, 0);
		print_series("verify_file", &res[i].verify_file, 0);
		print_series("verify_memory", &res[i].verify_memory, 0);
		print_series("verify_read", &res[i].read, 0);
		print_series("verify_parse", &res[i].parse, 0);
		print_series("verify_label", &res[i].label, 0);
		print_series("verify_signature", &res[i].sig, 0);
		print_series("verify_hash", &res[i].hash, 0);
		print_series("verify_rest", &res[i].rest, 1);
		printf("}");
		series *all[] = { &res[i].mark_file, &res[i].mark_memory, &res[i].verify_file, &res[i].verify_memory, &res[i].read,
				  &res[i].parse, &res[i].label, &res[i].sig, &res[i].hash, &res[i].rest };
		for (size_t k = 0; k < sizeof all / sizeof all[0]; k++)
			series_free(all[k]);
	}
	printf("]}\n");
	free(data);
	return 0;
}

/*
 * Speed and memory of the metadata layer on one file:
 *   bench_metadata FILE REPS OUTDIR
 * prints one JSON object: mean milliseconds per label (file to file, atomic
 * write), per label in memory, per verification in memory, and the peak
 * resident memory the labelling added, next to the file size.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "aimark/aimark.h"

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static long peak_rss_kb(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static unsigned char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	unsigned char *p = malloc((size_t)n);
	if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
		free(p);
		p = NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return p;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_metadata: %s: %s\n", what, aimark_error_last());
	exit(1);
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: bench_metadata FILE REPS OUTDIR\n");
		return 64;
	}
	const char *in = argv[1], *outdir = argv[3];
	int reps = atoi(argv[2]);
	aimark_key *key = NULL;
	if (aimark_key_generate(&key, AIMARK_ALG_SM2) != 0)
		die("keygen");
	aimark_mark_options o = AIMARK_MARK_OPTIONS_INIT;
	o.content_producer = "001191110102MACQD9K64010000";
	o.key = key;

	/* File to file: what aimark-mark does (read, sign, write a temp file, fsync, rename). */
	long rss_before = peak_rss_kb();
	char out[4096];
	snprintf(out, sizeof out, "%s/bench-out", outdir);
	double t0 = now_ms();
	for (int i = 0; i < reps; i++)
		if (aimark_mark_file(in, out, 1, &o, NULL) != 0)
			die("mark_file");
	double file_ms = (now_ms() - t0) / reps;
	long rss_file = peak_rss_kb() - rss_before;

	size_t len;
	unsigned char *data = read_all(in, &len);
	if (!data)
		die("read");
	aimark_buf labelled = AIMARK_BUF_INIT;
	t0 = now_ms();
	for (int i = 0; i < reps; i++) {
		labelled.size = 0;
		if (aimark_mark_memory(data, len, &o, &labelled, NULL) != 0)
			die("mark_memory");
	}
	double mem_ms = (now_ms() - t0) / reps;

	aimark_trust *trust = NULL;
	if (aimark_trust_new(&trust) != 0 || aimark_trust_add_key(trust, key) != 0)
		die("trust");
	aimark_verify_options vo = AIMARK_VERIFY_OPTIONS_INIT;
	vo.trust = trust;
	vo.layers = AIMARK_LAYER_METADATA;
	t0 = now_ms();
	for (int i = 0; i < reps; i++) {
		aimark_report *r = NULL;
		if (aimark_verify_memory(labelled.ptr, labelled.size, &vo, &r) != 0 || aimark_report_verdict(r) != AIMARK_VERDICT_AUTHENTIC)
			die("verify");
		aimark_report_free(r);
	}
	double verify_ms = (now_ms() - t0) / reps;

	printf("{\"file\":\"%s\",\"bytes\":%zu,\"reps\":%d,\"mark_file_ms\":%.3f,\"mark_memory_ms\":%.3f,"
	       "\"verify_memory_ms\":%.3f,\"mark_file_peak_rss_added_kb\":%ld}\n",
	       in, len, reps, file_ms, mem_ms, verify_ms, rss_file);
	aimark_buf_dispose(&labelled);
	aimark_trust_free(trust);
	aimark_key_free(key);
	free(data);
	return 0;
}

/*
 * C2PA sign-and-embed and validate timings on synthetic media: a 4 MB JPEG, a 5 MB WAV and a
 * 4 MB MP4 built in memory (valid containers, filler essence). Prints one line per case:
 *   bench_c2pa <format> <bytes> embed_ms=<median> verify_ms=<median>
 * Usage: bench_c2pa [iterations]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aimark/aimark.h"
#include "aimark/c2pa.h"
#include "c2pa/c2pa_stage.h"
#include "core/internal.h"

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

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

int main(int argc, char **argv)
{
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
			double t0 = now_ms();
			if (aimark__c2pa_embed(cases[c].format, data, len, signer, NULL, &out) != 0) {
				fprintf(stderr, "bench_c2pa: %s: %s\n", cases[c].format, aimark_error_last());
				rc = 1;
				break;
			}
			double t1 = now_ms();
			aimark_source *src = NULL;
			json_t *r = NULL;
			if (aimark_source_new_memory(&src, out.ptr, out.size) != 0 || aimark__c2pa_verify(src, cases[c].format, root, &r) != 0)
				rc = 1;
			double t2 = now_ms();
			snprintf(state, sizeof state, "%s", r ? json_string_value(json_object_get(r, "state")) : "none");
			if (strcmp(state, "Trusted") != 0)
				rc = 1;
			te[i] = t1 - t0;
			tv[i] = t2 - t1;
			json_decref(r);
			aimark_source_free(src);
			aimark_buf_dispose(&out);
		}
		qsort(te, (size_t)iters, sizeof *te, cmp);
		qsort(tv, (size_t)iters, sizeof *tv, cmp);
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

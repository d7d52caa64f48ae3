/* aimark-scan: verify every file under some paths in parallel and write one JSON line per file. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "aimark/aimark.h"
#include "tool_common.h"
#include "tool_trust.h"
#include "tool_json.h"
#include "tool_queue.h"
#include "tool_strset.h"
#include "tool_walk.h"

#define MAX_JOBS 1024
#define EXIT_INTERRUPTED 130
#define VERDICT_COUNT 6 /* AIMARK_VERDICT_AUTHENTIC .. AIMARK_VERDICT_ERROR */
#define MAX_FORMATS 64

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: aimark-scan [options] PATH...\n"
		"\n"
		"Verifies every regular file under each PATH (directories are walked\n"
		"recursively, hidden files included) with N parallel workers, and writes one\n"
		"JSON report per file as a line (JSON Lines, see docs/report-schema.md).\n"
		"A summary (counts by verdict and by format) ends the run.\n"
		"\n"
		"Options:\n"
		"  -j, --jobs N            worker threads (default: the number of online CPUs)\n"
		"  -o, --jsonl FILE        write the rows to FILE (default: stdout); an existing\n"
		"                          non-empty FILE is refused unless --resume or --force\n"
		"  -r, --resume            skip the files FILE already lists (by \"file\") and\n"
		"                          append rows for the others\n"
		"      --force             overwrite an existing --jsonl FILE\n"
		"  -t, --trust PATH        trust a public key file, or every key in a directory;\n"
		"                          repeatable (as aimark-verify --trust; a key directory's\n"
		"                          c2pa-root.pem is also a C2PA trust anchor)\n"
		"      --c2pa-trust PEM    trust the C2PA root certificates in PEM; repeatable\n"
		"      --key DIR           detect watermarks with DIR/watermark.key; repeatable\n"
		"      --layers LIST       layers to check: metadata, c2pa, watermark, explicit or all,\n"
		"                          comma-separated (default: metadata,c2pa,watermark; explicit-label\n"
		"                          detection decodes every file, so it is opt-in here)\n"
		"      --explicit-text TEXT also look for this visible label text in images (with\n"
		"                          --layers explicit)\n"
		"      --summary-json FILE also write the summary as a JSON object to FILE\n"
		"  -L, --follow-symlinks   follow symbolic links below the PATHs (each directory\n"
		"                          is still scanned once); PATHs themselves are always followed\n"
		"      --progress          show progress on stderr even when it is not a terminal\n"
		"  -q, --quiet             no progress and no summary table\n"
		"  -h, --help              show this help and exit\n"
		"  -V, --version           show the version and exit\n"
		"\n"
		"The summary table goes to stderr, or to stdout when --jsonl is given.\n"
		"Files that cannot be read or parsed are rows with \"verdict\":\"error\".\n"
		"\n"
		"Exit codes: 0 the scan ran (whatever the verdicts), 1 it could not run\n"
		"            (missing PATH, unwritable output, bad --trust), 64 usage error,\n"
		"            130 interrupted (rows written so far are complete: use --resume).\n"
		"\n"
		"Example:\n"
		"  aimark-scan --jobs 8 --trust keys/producer.pub --jsonl scan.jsonl --resume /srv/archive\n");
}

typedef struct format_count {
	char name[32];
	unsigned long long count;
} format_count;

typedef struct scan {
	/* Settings. */
	long jobs;
	const char *jsonl_path;
	const char *summary_path;
	int resume;
	int force;
	int follow_symlinks;
	int progress;
	int quiet;
	int tty_progress;          /* progress redraws one line (stderr is a terminal) */
	aimark_verify_options vopts;
	/* Shared state. */
	tool_queue *queue;
	tool_strset *already;      /* files listed in the JSONL being resumed */
	FILE *out;
	const char *out_base;      /* basename of --jsonl, to keep the scan off its own output */
	dev_t out_dev;
	ino_t out_ino;
	pthread_mutex_t lock;      /* guards `out` and the counters below */
	pthread_cond_t finished_cv;
	int finished;
	unsigned long long done;
	unsigned long long by_verdict[VERDICT_COUNT];
	format_count formats[MAX_FORMATS];
	size_t nformats;
	unsigned long long other_formats; /* beyond MAX_FORMATS distinct names */
	unsigned long long skipped_resume;
	int write_failed;
	int write_errno;
	double start;
} scan;

/* Set by SIGINT/SIGTERM or a failed write; read by every thread (lock-free, so safe in a handler). */
static atomic_int interrupted;

static void on_signal(int sig)
{
	int saved = errno;
	(void)sig;
	atomic_store(&interrupted, 1);
	errno = saved;
}

static void clear_progress_line(const scan *sc)
{
	if (sc->tty_progress)
		fputs("\r\033[K", stderr);
}

static void count_format(scan *sc, const char *name)
{
	for (size_t i = 0; i < sc->nformats; i++) {
		if (strcmp(sc->formats[i].name, name) == 0) {
			sc->formats[i].count++;
			return;
		}
	}
	if (sc->nformats == MAX_FORMATS) {
		sc->other_formats++;
		return;
	}
	format_count *f = &sc->formats[sc->nformats++];
	snprintf(f->name, sizeof f->name, "%s", name);
	f->count = 1;
}

/* A row for a file the library could not check at all. */
static void error_row(tool_str *row, const char *path, const char *message)
{
	tool_str_reset(row);
	tool_json_error_report(row, path, message, 0);
}

static void scan_one(scan *sc, const char *path, tool_str *row)
{
	aimark_report *r = NULL;
	aimark_verdict verdict = AIMARK_VERDICT_ERROR;
	char format[32] = "unknown";
	/* Reports name the file in UTF-8; --resume looks names up in the same spelling (on_file). */
	int oom = 0;
	char *display = tool_display_name(path, &oom);
	aimark_verify_options vopts = sc->vopts;
	vopts.display_name = display;
	aimark_error_clear();
	if (oom) {
		error_row(row, path, "out of memory");
	} else if (aimark_verify_file(path, &vopts, &r) != 0) {
		error_row(row, path, aimark_error_last());
	} else {
		aimark_buf buf = AIMARK_BUF_INIT;
		if (aimark_report_to_json(r, 0, &buf) != 0) {
			error_row(row, path, aimark_error_last());
		} else {
			verdict = aimark_report_verdict(r);
			const char *f = aimark_report_format(r);
			if (f && *f)
				snprintf(format, sizeof format, "%s", f);
			tool_str_reset(row);
			tool_str_append(row, (const char *)buf.ptr, buf.size);
			/* Raw newlines can only be white space in JSON: keep the row on one line. */
			while (row->len > 0 && (row->ptr[row->len - 1] == '\n' || row->ptr[row->len - 1] == '\r'))
				row->ptr[--row->len] = '\0';
			for (size_t i = 0; i < row->len; i++)
				if (row->ptr[i] == '\n' || row->ptr[i] == '\r')
					row->ptr[i] = ' ';
		}
		aimark_buf_dispose(&buf);
		aimark_report_free(r);
	}
	free(display);
	if (row->failed) {
		tool_str_free(row);
		error_row(row, path, "out of memory");
		if (row->failed)
			return;
		verdict = AIMARK_VERDICT_ERROR;
	}
	if ((unsigned)verdict >= VERDICT_COUNT)
		verdict = AIMARK_VERDICT_ERROR;

	pthread_mutex_lock(&sc->lock);
	if (!sc->write_failed) {
		fwrite(row->ptr, 1, row->len, sc->out);
		fputc('\n', sc->out);
		/* Rows reach the file whole and in time, so --resume after a crash loses nothing written. */
		if (fflush(sc->out) != 0 || ferror(sc->out)) {
			sc->write_failed = 1;
			sc->write_errno = errno;
			atomic_store(&interrupted, 1); /* nothing more can be recorded: stop the scan */
		}
	}
	sc->done++;
	sc->by_verdict[verdict]++;
	count_format(sc, format);
	pthread_mutex_unlock(&sc->lock);
}

static void *worker(void *arg)
{
	scan *sc = arg;
	tool_str row = TOOL_STR_INIT;
	char *path;
	while ((path = tool_queue_pop(sc->queue)) != NULL) {
		if (!atomic_load(&interrupted))
			scan_one(sc, path, &row);
		free(path);
	}
	tool_str_free(&row);
	return NULL;
}

static void *progress_thread(void *arg)
{
	scan *sc = arg;
	pthread_mutex_lock(&sc->lock);
	while (!sc->finished) {
		struct timespec deadline;
		clock_gettime(CLOCK_REALTIME, &deadline);
		deadline.tv_sec += 1;
		pthread_cond_timedwait(&sc->finished_cv, &sc->lock, &deadline);
		if (sc->finished)
			break;
		double elapsed = tool_now() - sc->start;
		double rate = elapsed > 0 ? (double)sc->done / elapsed : 0.0;
		if (sc->tty_progress)
			fprintf(stderr, "\r\033[K%s: %llu files, %.1f files/s, %.0f s", tool_name(), sc->done, rate, elapsed);
		else
			fprintf(stderr, "%s: %llu files, %.1f files/s, %.0f s\n", tool_name(), sc->done, rate, elapsed);
		fflush(stderr);
	}
	pthread_mutex_unlock(&sc->lock);
	return NULL;
}

/* Walker callback: queue the file unless the JSONL being resumed lists it. */
/* 1 when `path` is the JSONL this scan writes (scanning a tree that holds its own output). */
static int is_own_output(const scan *sc, const char *path)
{
	if (sc->out_base == NULL)
		return 0;
	const char *slash = strrchr(path, '/');
	if (strcmp(slash ? slash + 1 : path, sc->out_base) != 0)
		return 0;
	struct stat st;
	return stat(path, &st) == 0 && st.st_dev == sc->out_dev && st.st_ino == sc->out_ino;
}

static int on_file(const char *path, void *user)
{
	scan *sc = user;
	if (is_own_output(sc, path))
		return 0;
	if (sc->already) {
		int oom = 0;
		char *display = tool_display_name(path, &oom);
		int seen = !oom && tool_strset_has(sc->already, display ? display : path);
		free(display);
		if (seen) {
			sc->skipped_resume++;
			return 0;
		}
	}
	char *copy = strdup(path);
	if (copy == NULL) {
		clear_progress_line(sc);
		tool_error(path, "out of memory");
		return 1;
	}
	return tool_queue_push(sc->queue, copy) != 0;
}

static void on_walk_error(const char *path, const char *message, void *user)
{
	clear_progress_line(user);
	tool_error(path, "%s", message);
}

/*
 * Loads the "file" of every row of an existing JSONL. A last line without
 * its newline (a crash mid-write) is cut off so that appending starts clean.
 * Returns 0, or -1 after printing why.
 */
static int load_resume(scan *sc)
{
	sc->already = tool_strset_new();
	if (sc->already == NULL) {
		tool_error(NULL, "out of memory");
		return -1;
	}
	FILE *f = fopen(sc->jsonl_path, "r+");
	if (f == NULL) {
		if (errno == ENOENT)
			return 0;
		tool_error(sc->jsonl_path, "%s", strerror(errno));
		return -1;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	off_t good_end = 0, pos = 0;
	unsigned long long lineno = 0, bad = 0;
	int rc = 0;
	while ((n = getline(&line, &cap, f)) > 0) {
		lineno++;
		pos += n;
		if (line[n - 1] != '\n') {
			clear_progress_line(sc);
			tool_error(sc->jsonl_path, "line %llu is incomplete (interrupted write): dropping it", lineno);
			break;
		}
		good_end = pos;
		size_t len = (size_t)n - 1;
		if (len == 0)
			continue;
		char *file = NULL;
		int got = tool_json_get_string(line, len, "file", &file);
		if (got == 1) {
			if (tool_strset_add(sc->already, file) < 0) {
				free(file);
				tool_error(NULL, "out of memory");
				rc = -1;
				break;
			}
			free(file);
		} else {
			bad++;
		}
	}
	if (rc == 0 && ferror(f)) {
		tool_error(sc->jsonl_path, "read failed: %s", strerror(errno));
		rc = -1;
	}
	if (rc == 0 && good_end < pos && ftruncate(fileno(f), good_end) != 0) {
		tool_error(sc->jsonl_path, "cannot drop the incomplete last line: %s", strerror(errno));
		rc = -1;
	}
	if (rc == 0 && bad)
		tool_error(sc->jsonl_path, "%llu line(s) without a \"file\" member ignored", bad);
	free(line);
	fclose(f);
	return rc;
}

static int open_output(scan *sc)
{
	if (sc->jsonl_path == NULL) {
		sc->out = stdout;
		return 0;
	}
	if (sc->resume) {
		if (load_resume(sc) != 0)
			return -1;
		sc->out = fopen(sc->jsonl_path, "a");
	} else {
		struct stat st;
		if (!sc->force && stat(sc->jsonl_path, &st) == 0 && (!S_ISREG(st.st_mode) || st.st_size > 0)) {
			tool_error(sc->jsonl_path, "already exists (use --resume to continue that scan or --force to overwrite it)");
			return -1;
		}
		sc->out = fopen(sc->jsonl_path, "w");
	}
	if (sc->out == NULL) {
		tool_error(sc->jsonl_path, "%s", strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fileno(sc->out), &st) == 0 && S_ISREG(st.st_mode)) {
		const char *slash = strrchr(sc->jsonl_path, '/');
		sc->out_base = slash ? slash + 1 : sc->jsonl_path;
		sc->out_dev = st.st_dev;
		sc->out_ino = st.st_ino;
	}
	return 0;
}

static int format_cmp(const void *a, const void *b)
{
	return strcmp(((const format_count *)a)->name, ((const format_count *)b)->name);
}

static void print_summary(const scan *sc, FILE *out, const tool_walk *w, double elapsed)
{
	double rate = elapsed > 0 ? (double)sc->done / elapsed : 0.0;
	fprintf(out, "%s summary%s\n", tool_name(), interrupted ? " (interrupted)" : "");
	fprintf(out, "  %-22s %12llu\n", "files scanned", sc->done);
	if (sc->resume)
		fprintf(out, "  %-22s %12llu\n", "already in the JSONL", sc->skipped_resume);
	fprintf(out, "  %-22s %12llu\n", "not regular (skipped)", w->skipped);
	fprintf(out, "  %-22s %12llu\n", "unreadable entries", w->errors);
	fprintf(out, "  %-22s %12.2f s (%.1f files/s, %ld jobs)\n", "elapsed", elapsed, rate, sc->jobs);
	fprintf(out, "  by verdict:\n");
	for (int v = 0; v < VERDICT_COUNT; v++)
		fprintf(out, "    %-20s %12llu\n", aimark_verdict_name((aimark_verdict)v), sc->by_verdict[v]);
	fprintf(out, "  by format:\n");
	for (size_t i = 0; i < sc->nformats; i++)
		fprintf(out, "    %-20s %12llu\n", sc->formats[i].name, sc->formats[i].count);
	if (sc->other_formats)
		fprintf(out, "    %-20s %12llu\n", "(others)", sc->other_formats);
	fprintf(out, "  %-22s %12llu\n", "total", sc->done);
	fflush(out);
}

static int write_summary_json(const scan *sc, const tool_walk *w, double elapsed)
{
	tool_str j = TOOL_STR_INIT;
	tool_str_printf(&j, "{\"files\":%llu,\"skipped_resume\":%llu,\"skipped_not_regular\":%llu,"
	                "\"unreadable_entries\":%llu,\"elapsed_seconds\":%.3f,\"files_per_second\":%.1f,"
	                "\"jobs\":%ld,\"interrupted\":%s,\"by_verdict\":{",
	                sc->done, sc->skipped_resume, w->skipped, w->errors, elapsed,
	                elapsed > 0 ? (double)sc->done / elapsed : 0.0, sc->jobs, interrupted ? "true" : "false");
	for (int v = 0; v < VERDICT_COUNT; v++)
		tool_str_printf(&j, "%s\"%s\":%llu", v ? "," : "", aimark_verdict_name((aimark_verdict)v), sc->by_verdict[v]);
	tool_str_puts(&j, "},\"by_format\":{");
	for (size_t i = 0; i < sc->nformats; i++) {
		if (i)
			tool_str_puts(&j, ",");
		tool_str_json_string(&j, sc->formats[i].name);
		tool_str_printf(&j, ":%llu", sc->formats[i].count);
	}
	if (sc->other_formats)
		tool_str_printf(&j, "%s\"(others)\":%llu", sc->nformats ? "," : "", sc->other_formats);
	tool_str_puts(&j, "}}\n");
	if (j.failed) {
		tool_str_free(&j);
		tool_error(sc->summary_path, "out of memory");
		return -1;
	}
	FILE *f = fopen(sc->summary_path, "w");
	int ok = f != NULL && fwrite(j.ptr, 1, j.len, f) == j.len;
	if (f != NULL && fclose(f) != 0)
		ok = 0;
	if (!ok)
		tool_error(sc->summary_path, "%s", strerror(errno));
	tool_str_free(&j);
	return ok ? 0 : -1;
}

static int parse_args(scan *sc, int argc, char **argv, tool_trust *trust, int *exit_now)
{
	enum { OPT_SUMMARY_JSON = 256, OPT_PROGRESS, OPT_FORCE, OPT_C2PA_TRUST, OPT_LAYERS, OPT_KEY, OPT_EXPLICIT_TEXT };
	static const struct option longopts[] = {
		{ "jobs", required_argument, NULL, 'j' },
		{ "jsonl", required_argument, NULL, 'o' },
		{ "resume", no_argument, NULL, 'r' },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "trust", required_argument, NULL, 't' },
		{ "c2pa-trust", required_argument, NULL, OPT_C2PA_TRUST },
		{ "layers", required_argument, NULL, OPT_LAYERS },
		{ "key", required_argument, NULL, OPT_KEY },
		{ "explicit-text", required_argument, NULL, OPT_EXPLICIT_TEXT },
		{ "summary-json", required_argument, NULL, OPT_SUMMARY_JSON },
		{ "follow-symlinks", no_argument, NULL, 'L' },
		{ "progress", no_argument, NULL, OPT_PROGRESS },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	*exit_now = -1;
	while ((c = getopt_long(argc, argv, "j:o:rt:LqhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			if (tool_parse_long(optarg, 1, MAX_JOBS, &sc->jobs) != 0) {
				*exit_now = tool_usage_error("--jobs must be a number from 1 to %d", MAX_JOBS);
				return -1;
			}
			break;
		case 'o': sc->jsonl_path = optarg; break;
		case 'r': sc->resume = 1; break;
		case OPT_FORCE: sc->force = 1; break;
		case 't':
		case OPT_C2PA_TRUST:
			if ((c == 't' ? tool_trust_add(trust, optarg) : tool_trust_add_c2pa(trust, optarg)) != 0) {
				*exit_now = TOOL_EXIT_FAILURE;
				return -1;
			}
			break;
		case OPT_KEY:
			if (tool_trust_add_watermark_key(trust, optarg) != 0) {
				*exit_now = TOOL_EXIT_FAILURE;
				return -1;
			}
			break;
		case OPT_LAYERS:
			if (tool_trust_set_layers(trust, optarg) != 0) {
				*exit_now = TOOL_EXIT_USAGE;
				return -1;
			}
			break;
		case OPT_EXPLICIT_TEXT: trust->explicit_text = optarg; break;
		case OPT_SUMMARY_JSON: sc->summary_path = optarg; break;
		case 'L': sc->follow_symlinks = 1; break;
		case OPT_PROGRESS: sc->progress = 1; break;
		case 'q': sc->quiet = 1; break;
		case 'h': usage(stdout); *exit_now = TOOL_EXIT_OK; return -1;
		case 'V': tool_print_version(); *exit_now = TOOL_EXIT_OK; return -1;
		default: usage(stderr); *exit_now = TOOL_EXIT_USAGE; return -1;
		}
	}
	if (optind >= argc) {
		*exit_now = tool_usage_error("no PATH to scan");
		return -1;
	}
	if (sc->resume && sc->jsonl_path == NULL) {
		*exit_now = tool_usage_error("--resume needs --jsonl FILE");
		return -1;
	}
	if (sc->resume && sc->force) {
		*exit_now = tool_usage_error("--resume and --force exclude each other");
		return -1;
	}
	if (sc->force && sc->jsonl_path == NULL) {
		*exit_now = tool_usage_error("--force only applies to --jsonl FILE");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	tool_init("aimark-scan");
	scan sc;
	memset(&sc, 0, sizeof sc);
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	sc.jobs = cpus < 1 ? 1 : (cpus > MAX_JOBS ? MAX_JOBS : cpus);
	tool_trust trust;
	if (tool_trust_init(&trust) != 0)
		return TOOL_EXIT_FAILURE;
	/* Scans check the cheap layers unless told otherwise: explicit-label detection decodes every file. */
	trust.layers = AIMARK_LAYER_METADATA | AIMARK_LAYER_C2PA | AIMARK_LAYER_WATERMARK;
	int exit_now;
	if (parse_args(&sc, argc, argv, &trust, &exit_now) != 0) {
		tool_trust_free(&trust);
		return exit_now;
	}
	/* Every PATH must exist before anything is written. */
	for (int i = optind; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0) {
			tool_error(argv[i], "%s", strerror(errno));
			tool_trust_free(&trust);
			return TOOL_EXIT_FAILURE;
		}
	}
	if (aimark_verify_options_init(&sc.vopts, AIMARK_VERIFY_OPTIONS_VERSION) != 0) {
		tool_error_lib(NULL);
		tool_trust_free(&trust);
		return TOOL_EXIT_FAILURE;
	}
	if (tool_trust_apply(&trust, &sc.vopts) != 0) {
		tool_trust_free(&trust);
		return TOOL_EXIT_FAILURE;
	}
	if (open_output(&sc) != 0) {
		tool_strset_free(sc.already);
		tool_trust_free(&trust);
		return TOOL_EXIT_FAILURE;
	}
	sc.queue = tool_queue_new((size_t)sc.jobs * 16 + 64);
	pthread_t *workers = calloc((size_t)sc.jobs, sizeof *workers);
	if (sc.queue == NULL || workers == NULL) {
		tool_error(NULL, "out of memory");
		return TOOL_EXIT_FAILURE;
	}
	pthread_mutex_init(&sc.lock, NULL);
	pthread_cond_init(&sc.finished_cv, NULL);
	int show_progress = !sc.quiet && (sc.progress || isatty(STDERR_FILENO));
	sc.tty_progress = show_progress && isatty(STDERR_FILENO);

	/* Workers never take the signals: the walker (this thread) sees the flag and stops feeding them. */
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	sc.start = tool_now();
	long started = 0;
	for (; started < sc.jobs; started++)
		if (pthread_create(&workers[started], NULL, worker, &sc) != 0)
			break;
	pthread_t progress;
	int have_progress = show_progress && pthread_create(&progress, NULL, progress_thread, &sc) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESETHAND | SA_RESTART; /* a second Ctrl-C ends the process at once */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	tool_walk w;
	memset(&w, 0, sizeof w);
	w.follow_symlinks = sc.follow_symlinks;
	w.stop = &interrupted;
	w.on_file = on_file;
	w.on_error = on_walk_error;
	w.user = &sc;
	int fatal = started == 0;
	if (fatal)
		tool_error(NULL, "cannot start worker threads");
	/* A root that vanished since the check above or cannot be read is reported and counted; the rest is scanned. */
	for (int i = optind; i < argc && !fatal && !interrupted; i++)
		(void)tool_walk_path(&w, argv[i]);
	tool_queue_close(sc.queue);
	for (long i = 0; i < started; i++)
		pthread_join(workers[i], NULL);
	double elapsed = tool_now() - sc.start;
	if (have_progress) {
		pthread_mutex_lock(&sc.lock);
		sc.finished = 1;
		pthread_cond_signal(&sc.finished_cv);
		pthread_mutex_unlock(&sc.lock);
		pthread_join(progress, NULL);
		clear_progress_line(&sc);
		if (!sc.tty_progress)
			fflush(stderr);
	}

	int rc = fatal ? TOOL_EXIT_FAILURE : TOOL_EXIT_OK;
	if (sc.out != stdout && fclose(sc.out) != 0 && !sc.write_failed) {
		sc.write_failed = 1;
		sc.write_errno = errno;
	} else if (sc.out == stdout && fflush(stdout) != 0 && !sc.write_failed) {
		sc.write_failed = 1;
		sc.write_errno = errno;
	}
	if (sc.write_failed) {
		tool_error(sc.jsonl_path ? sc.jsonl_path : "<stdout>", "write failed: %s", strerror(sc.write_errno));
		rc = TOOL_EXIT_FAILURE;
	}
	qsort(sc.formats, sc.nformats, sizeof sc.formats[0], format_cmp);
	if (!sc.quiet)
		print_summary(&sc, sc.jsonl_path ? stdout : stderr, &w, elapsed);
	if (sc.summary_path && write_summary_json(&sc, &w, elapsed) != 0)
		rc = TOOL_EXIT_FAILURE;
	if (interrupted && !sc.write_failed && rc == TOOL_EXIT_OK)
		rc = EXIT_INTERRUPTED;

	tool_walk_dispose(&w);
	tool_queue_free(sc.queue);
	free(workers);
	tool_strset_free(sc.already);
	pthread_cond_destroy(&sc.finished_cv);
	pthread_mutex_destroy(&sc.lock);
	tool_trust_free(&trust);
	return rc;
}

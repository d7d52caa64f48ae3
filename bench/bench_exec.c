/*
 * Times whole commands, one process per run, the runs of several commands
 * interleaved (A B C A B C ...) so that a change in the machine's load
 * touches them alike:
 *   bench_exec REPS [-r PATH] NAME -- CMD ARG... [';' [-r PATH] NAME -- CMD ARG...]...
 * (';' as its own argument separates the commands; -r PATH removes PATH before
 * each run of that command, outside the timing). Output and error of the
 * commands go to /dev/null. Prints one JSON object: per command the median and
 * minimum wall time, the median CPU time (user + system, wait4, children
 * included) and its two parts, the largest ru_maxrss, and the load average
 * before and after the runs. Exits 1 if a run fails.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"

#define MAX_CMDS 16

typedef struct command {
	const char *name, *remove;
	char **argv;
	double *wall, *cpu, *user, *sys;
	long maxrss_kb;
} command;

static int run_once(command *c, int i)
{
	if (c->remove)
		unlink(c->remove);
	double t0 = bench_now_ms();
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0) {
			dup2(null, 1);
			dup2(null, 2);
		}
		execvp(c->argv[0], c->argv);
		_exit(127);
	}
	int status;
	struct rusage ru;
	if (wait4(pid, &status, 0, &ru) != pid)
		return -1;
	c->wall[i] = bench_now_ms() - t0;
	c->user[i] = ru.ru_utime.tv_sec * 1e3 + ru.ru_utime.tv_usec / 1e3;
	c->sys[i] = ru.ru_stime.tv_sec * 1e3 + ru.ru_stime.tv_usec / 1e3;
	c->cpu[i] = c->user[i] + c->sys[i];
	if (ru.ru_maxrss > c->maxrss_kb)
		c->maxrss_kb = ru.ru_maxrss;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: bench_exec REPS [-r PATH] NAME -- CMD ARG... [';' [-r PATH] NAME -- CMD ARG...]...\n");
		return 64;
	}
	int reps = atoi(argv[1]);
	if (reps < 1 || reps > 10000)
		return 64;
	command cmds[MAX_CMDS];
	int n = 0;
	for (int i = 2; i < argc;) {
		if (n == MAX_CMDS)
			return 64;
		command *c = &cmds[n++];
		memset(c, 0, sizeof *c);
		if (strcmp(argv[i], "-r") == 0 && i + 1 < argc) {
			c->remove = argv[i + 1];
			i += 2;
		}
		if (i + 2 >= argc || strcmp(argv[i + 1], "--") != 0) {
			fprintf(stderr, "bench_exec: expected NAME -- CMD\n");
			return 64;
		}
		c->name = argv[i];
		c->argv = &argv[i + 2];
		int j = i + 2;
		while (j < argc && strcmp(argv[j], ";") != 0)
			j++;
		if (j < argc)
			argv[j] = NULL; /* ends this command's argv */
		i = j + 1;
		c->wall = calloc((size_t)reps, sizeof(double));
		c->cpu = calloc((size_t)reps, sizeof(double));
		c->user = calloc((size_t)reps, sizeof(double));
		c->sys = calloc((size_t)reps, sizeof(double));
		if (!c->wall || !c->cpu || !c->user || !c->sys)
			return 1;
	}
	double load[3] = { 0, 0, 0 };
	if (getloadavg(load, 3) < 0)
		load[0] = -1;
	for (int r = 0; r < reps; r++)
		for (int k = 0; k < n; k++)
			if (run_once(&cmds[k], r) != 0) {
				fprintf(stderr, "bench_exec: %s failed (run %d)\n", cmds[k].name, r + 1);
				return 1;
			}
	double load_after[3] = { 0, 0, 0 };
	if (getloadavg(load_after, 3) < 0)
		load_after[0] = -1;
	printf("{\"reps\":%d,\"load_before\":%.2f,\"load_after\":%.2f,\"commands\":{", reps, load[0], load_after[0]);
	for (int k = 0; k < n; k++) {
		command *c = &cmds[k];
		double mn = c->wall[0];
		for (int r = 1; r < reps; r++)
			if (c->wall[r] < mn)
				mn = c->wall[r];
		printf("%s\"%s\":{\"wall_ms\":%.3f,\"wall_min_ms\":%.3f,\"cpu_ms\":%.3f,\"user_ms\":%.3f,\"sys_ms\":%.3f,"
		       "\"maxrss_kb\":%ld}",
		       k ? "," : "", c->name, bench_median(c->wall, reps), mn, bench_median(c->cpu, reps), bench_median(c->user, reps), bench_median(c->sys, reps),
		       c->maxrss_kb);
		free(c->wall);
		free(c->cpu);
		free(c->user);
		free(c->sys);
	}
	printf("}}\n");
	return 0;
}

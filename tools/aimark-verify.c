/* aimark-verify: check the labels a file carries and exit with the verdict. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aimark/aimark.h"
#include "tool_common.h"
#include "tool_json.h"
#include "tool_trust.h"

/* Exit codes (fixed by aimark_verdict_exit_code; a usage error counts as "error"). */
enum {
	VERIFY_EXIT_AUTHENTIC = 0,
	VERIFY_EXIT_ERROR = 4
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: aimark-verify [--json [--pretty]] [--trust PUBKEY_OR_DIR]... [--c2pa-trust PEM]...\n"
		"                     [--key DIR]... [--layers LIST] [--explicit-text TEXT] [--quiet] FILE...\n"
		"\n"
		"Checks the GB 45438 metadata label of each FILE: is it labelled, by whom,\n"
		"does its signature verify with a key you trust, and is the content unchanged.\n"
		"\n"
		"Options:\n"
		"  -t, --trust PATH  trust the public key in PATH (PEM key or certificate), or\n"
		"                    every key in the *.pub, *.pem and *.key files of\n"
		"                    directory PATH (e.g. a key directory); repeatable.\n"
		"                    Without it nothing is trusted: signed files are 'unverified'.\n"
		"                    A key directory's C2PA root (c2pa-root.pem) is also trusted\n"
		"                    as a C2PA anchor\n"
		"      --c2pa-trust PEM  trust the C2PA root certificates in PEM; repeatable\n"
		"  -k, --key DIR     detect the invisible watermark with DIR/watermark.key (a\n"
		"                    producer's secret); repeatable: all keys are tried in one pass\n"
		"      --layers LIST  check only these layers: metadata, c2pa, watermark, explicit,\n"
		"                    comma-separated, or all (default); metadata is always checked\n"
		"      --explicit-text TEXT  also look for this visible label text in images (the\n"
		"                    text given to aimark-mark --explicit-text; the defaults are\n"
		"                    always looked for)\n"
		"  -j, --json        print the report as JSON (one object per line with several files)\n"
		"      --pretty      indent the JSON\n"
		"  -q, --quiet       print nothing; only the exit code tells the verdict\n"
		"  -h, --help        show this help and exit\n"
		"  -V, --version     show the version and exit\n"
		"\n"
		"Exit codes (with several files: the highest among them):\n"
		"  0  authentic: labelled, signature valid from a trusted key, content unchanged\n"
		"  1  not labelled\n"
		"  2  invalid (malformed or conflicting label, bad signature) or tampered (content changed)\n"
		"  3  unverified: labelled, but unsigned or signed by a key not trusted\n"
		"  4  error: unreadable or malformed input, or a usage error\n"
		"\n"
		"Example:\n"
		"  aimark-verify --trust keys/producer/signing.pub image.png\n");
}

typedef struct settings {
	int json;
	int pretty;
	int quiet;
	int several;
} settings;

/* A file the library could not even open: reported like a report, counted as an error. */
static void print_open_error(const settings *s, const char *path)
{
	const char *msg = aimark_error_last();
	if (s->quiet)
		return;
	tool_error_lib(path);
	if (!s->json)
		return;
	tool_str j = TOOL_STR_INIT;
	tool_json_error_report(&j, path, msg, s->pretty);
	tool_str_puts(&j, "\n");
	if (!j.failed)
		fputs(j.ptr, stdout);
	tool_str_free(&j);
}

static int print_report(const settings *s, const aimark_report *r, const char *path, int first)
{
	if (s->quiet)
		return 0;
	aimark_buf buf = AIMARK_BUF_INIT;
	int rc = s->json ? aimark_report_to_json(r, s->pretty, &buf) : aimark_report_to_text(r, &buf);
	if (rc != 0) {
		tool_error_lib(path);
		aimark_buf_dispose(&buf);
		return -1;
	}
	if (!s->json && s->several && !first)
		fputc('\n', stdout);
	if (buf.size)
		fwrite(buf.ptr, 1, buf.size, stdout);
	if (buf.size == 0 || buf.ptr[buf.size - 1] != '\n')
		fputc('\n', stdout);
	aimark_buf_dispose(&buf);
	return 0;
}

int main(int argc, char **argv)
{
	tool_init("aimark-verify");
	enum { OPT_PRETTY = 256, OPT_C2PA_TRUST, OPT_LAYERS, OPT_KEY, OPT_EXPLICIT_TEXT };
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "pretty", no_argument, NULL, OPT_PRETTY },
		{ "trust", required_argument, NULL, 't' },
		{ "c2pa-trust", required_argument, NULL, OPT_C2PA_TRUST },
		{ "layers", required_argument, NULL, OPT_LAYERS },
		{ "key", required_argument, NULL, OPT_KEY },
		{ "explicit-text", required_argument, NULL, OPT_EXPLICIT_TEXT },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	settings s = { 0 };
	tool_trust trust;
	if (tool_trust_init(&trust) != 0)
		return VERIFY_EXIT_ERROR;
	int c, exit_code = VERIFY_EXIT_AUTHENTIC;
	while ((c = getopt_long(argc, argv, "jt:k:qhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'j': s.json = 1; break;
		case OPT_PRETTY: s.pretty = 1; break;
		case 'q': s.quiet = 1; break;
		case OPT_EXPLICIT_TEXT: trust.explicit_text = optarg; break;
		case 't':
		case OPT_C2PA_TRUST:
		case OPT_LAYERS:
		case OPT_KEY:
		case 'k':
			if (c == 'k')
				c = OPT_KEY;
			if ((c == 't' ? tool_trust_add(&trust, optarg)
				      : c == OPT_C2PA_TRUST ? tool_trust_add_c2pa(&trust, optarg)
				      : c == OPT_KEY ? tool_trust_add_watermark_key(&trust, optarg) : tool_trust_set_layers(&trust, optarg)) != 0) {
				tool_trust_free(&trust);
				return VERIFY_EXIT_ERROR;
			}
			break;
		case 'h': usage(stdout); tool_trust_free(&trust); return 0;
		case 'V': tool_print_version(); tool_trust_free(&trust); return 0;
		default:
			usage(stderr);
			tool_trust_free(&trust);
			return VERIFY_EXIT_ERROR;
		}
	}
	if (optind >= argc) {
		tool_trust_free(&trust);
		tool_usage_error("no file to verify");
		return VERIFY_EXIT_ERROR;
	}
	if (s.pretty && !s.json) {
		tool_trust_free(&trust);
		tool_usage_error("--pretty needs --json");
		return VERIFY_EXIT_ERROR;
	}
	s.several = argc - optind > 1;

	aimark_verify_options opts = AIMARK_VERIFY_OPTIONS_INIT;
	if (tool_trust_apply(&trust, &opts) != 0) {
		tool_trust_free(&trust);
		return VERIFY_EXIT_ERROR;
	}
	for (int i = optind; i < argc; i++) {
		const char *path = argv[i];
		aimark_report *r = NULL;
		int code;
		/* File names need not be UTF-8; the report's "file" must be. */
		int oom = 0;
		char *display = tool_display_name(path, &oom);
		opts.display_name = display;
		aimark_error_clear();
		if (oom) {
			tool_error(path, "out of memory");
			code = VERIFY_EXIT_ERROR;
		} else if (aimark_verify_file(path, &opts, &r) != 0) {
			print_open_error(&s, path);
			code = VERIFY_EXIT_ERROR;
		} else {
			code = aimark_verdict_exit_code(aimark_report_verdict(r));
			if (print_report(&s, r, path, i == optind) != 0)
				code = VERIFY_EXIT_ERROR;
			aimark_report_free(r);
		}
		free(display);
		if (code > exit_code)
			exit_code = code;
	}
	fflush(stdout);
	tool_trust_free(&trust);
	return exit_code;
}

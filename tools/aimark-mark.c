/* aimark-mark: write a signed GB 45438 metadata label into a file (producer or propagator role). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aimark/aimark.h"
#include "tool_common.h"
#include "tool_fs.h"
#include "tool_json.h"

#define PRODUCER_FILE "producer"
#define PRODUCER_FILE_MAX 1024

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: aimark-mark --key DIR [options] IN -o OUT\n"
		"       aimark-mark --key DIR [options] --in-place IN...\n"
		"\n"
		"Writes a GB 45438-2025 Annex E metadata label into IN, signed with the key\n"
		"in DIR (see aimark-keygen). The output is written to a temporary file and\n"
		"renamed into place only when everything succeeded; on failure nothing changes.\n"
		"\n"
		"Roles:\n"
		"  producer    (default) writes Label, ContentProducer, ProduceID and signs\n"
		"              ReservedCode1. The propagator fields repeat the producer's\n"
		"              unless --propagator or --leave-propagator-empty is given.\n"
		"  propagator  chosen by --propagator without --producer: the file must\n"
		"              already carry a label; its producer fields and ReservedCode1\n"
		"              are kept byte for byte, ContentPropagator and PropagateID are\n"
		"              set and ReservedCode2 is signed with the key in DIR.\n"
		"\n"
		"Options:\n"
		"  -k, --key DIR                 key directory (DIR/signing.key); required unless --no-sign\n"
		"  -p, --producer CODE           ContentProducer (provider code or name). Required in the\n"
		"                                producer role unless DIR/producer holds it (one line)\n"
		"      --produce-id ID           ProduceID (default: a random 32-hex-digit id)\n"
		"  -l, --label 1|2|3             Label: 1 AI-generated (default), 2 possibly, 3 suspected\n"
		"      --propagator CODE         ContentPropagator; without --producer: propagator role\n"
		"      --propagate-id ID         PropagateID (default: the ProduceID)\n"
		"      --leave-propagator-empty  producer role: leave ContentPropagator/PropagateID empty\n"
		"      --replace-foreign-label   producer role: replace a label written by another producer\n"
		"      --no-sign                 write an unsigned label (empty ReservedCode)\n"
		"\n"
		"Layers besides the metadata label:\n"
		"      --c2pa                    also sign a C2PA manifest with DIR/c2pa-chain.pem and DIR/c2pa.key\n"
		"                                (the default when DIR holds them and the format can carry one)\n"
		"      --no-c2pa                 never add a C2PA manifest\n"
		"      --watermark               embed the invisible watermark keyed by DIR/watermark.key\n"
		"      --strength F              watermark strength, up to 8 (default 1.0; 2.0 survives harsher attacks;\n"
		"                                audio uses at most 4)\n"
		"      --explicit                add the visible/audible explicit label (GB 45438 section 5)\n"
		"      --explicit-text TEXT      its text (must name AI and generation; default per language)\n"
		"      --explicit-position POS   images: top-left, top-right, bottom-left, bottom-right (default),\n"
		"                                top, bottom; audio: start (default), middle, end; text: start, end, both\n"
		"      --explicit-lang zh|en     language of the default text (default zh)\n"
		"      --font FILE               font for image labels (default: the bundled CJK subset)\n"
		"\n"
		"Output:\n"
		"  -f, --format NAME             container format instead of detecting it from the content\n"
		"  -o, --output OUT              write the labelled file to OUT (one IN only)\n"
		"  -i, --in-place                label each IN in place (file mode kept)\n"
		"      --force                   overwrite an existing OUT\n"
		"      --json                    print one JSON object per file instead of a line of text\n"
		"  -h, --help                    show this help and exit\n"
		"  -V, --version                 show the version and exit\n"
		"\n"
		"Exit codes: 0 every file labelled, 1 a file could not be labelled, 64 usage error.\n"
		"\n"
		"Examples:\n"
		"  aimark-mark --key keys/producer --producer 001191110102MACQD9K64010000 \\\n"
		"      image.png -o image.labelled.png\n"
		"  aimark-mark --key keys/platform --propagator 00119144030008867405X220001 --in-place image.png\n");
}

enum {
	OPT_PRODUCE_ID = 256,
	OPT_PROPAGATOR,
	OPT_PROPAGATE_ID,
	OPT_LEAVE_EMPTY,
	OPT_REPLACE_FOREIGN,
	OPT_NO_SIGN,
	OPT_FORCE,
	OPT_JSON,
	OPT_C2PA,
	OPT_NO_C2PA,
	OPT_WATERMARK,
	OPT_STRENGTH,
	OPT_EXPLICIT,
	OPT_EXPLICIT_TEXT,
	OPT_EXPLICIT_POSITION,
	OPT_EXPLICIT_LANG,
	OPT_FONT
};

typedef struct settings {
	const char *key_dir;
	const char *producer;
	const char *produce_id;
	const char *label;
	const char *propagator;
	const char *propagate_id;
	const char *format;
	const char *output;
	int leave_empty;
	int replace_foreign;
	int no_sign;
	int in_place;
	int force;
	int json;
	int c2pa;       /* 1 forced, -1 refused, 0 automatic */
	int watermark;
	float strength;
	int explicit_label;
	const char *explicit_text, *explicit_position, *explicit_lang, *font;
} settings;

/* The container format of `path`, as the library will see it (NULL when unknown). */
static const char *file_format(const char *path, const char *forced)
{
	if (forced)
		return forced;
	aimark_source *src = NULL;
	const char *name = NULL;
	if (aimark_source_new_file(&src, path) == 0)
		name = aimark_format_detect(src);
	aimark_source_free(src);
	aimark_error_clear();
	return name ? name : aimark_format_from_extension(path);
}

static int format_known(const char *name)
{
	for (size_t i = 0; i < aimark_format_count(); i++) {
		const char *f = aimark_format_name(i);
		if (f && strcmp(f, name) == 0)
			return 1;
	}
	return 0;
}

static void print_known_formats(void)
{
	fprintf(stderr, "%s: known formats:", tool_name());
	for (size_t i = 0; i < aimark_format_count(); i++)
		fprintf(stderr, " %s", aimark_format_name(i));
	fputc('\n', stderr);
}

static void print_result(const settings *s, aimark_role role, const char *in, const char *out,
                         const aimark_mark_result *res, const aimark_findings *findings, int failed)
{
	size_t n_findings = failed ? 0 : aimark_findings_count(findings);
	if (!s->json) {
		if (!failed)
			printf("%s -> %s: %s (%s, ProduceID %s, %s%s)\n", in, out,
			       role == AIMARK_ROLE_PRODUCER ? "labelled" : "propagation fields added",
			       res->format, res->produce_id, res->key_id[0] ? "key " : "",
			       res->key_id[0] ? res->key_id : "unsigned");
		/* what the writer noticed (e.g. a file it could not index), on stderr with the file's name */
		for (size_t i = 0; i < n_findings; i++) {
			const aimark_finding *f = aimark_findings_get(findings, i);
			fprintf(stderr, "aimark-mark: %s: %s %s: %s\n", in, aimark_severity_name(f->severity), f->code, f->message);
		}
		return;
	}
	tool_str j = TOOL_STR_INIT;
	tool_str_puts(&j, "{\"input\":");
	tool_str_json_string(&j, in);
	tool_str_puts(&j, ",\"output\":");
	tool_str_json_string(&j, out);
	tool_str_printf(&j, ",\"role\":\"%s\"", role == AIMARK_ROLE_PRODUCER ? "producer" : "propagator");
	if (failed) {
		tool_str_printf(&j, ",\"status\":\"error\",\"error_code\":\"%s\",\"error\":",
		                aimark_error_name(aimark_error_last_code()));
		tool_str_json_string(&j, aimark_error_last());
	} else {
		tool_str_puts(&j, ",\"status\":\"labelled\",\"format\":");
		tool_str_json_string(&j, res->format);
		tool_str_puts(&j, ",\"produce_id\":");
		tool_str_json_string(&j, res->produce_id);
		tool_str_puts(&j, ",\"key_id\":");
		if (res->key_id[0])
			tool_str_json_string(&j, res->key_id);
		else
			tool_str_puts(&j, "null");
		tool_str_puts(&j, ",\"findings\":[");
		for (size_t i = 0; i < n_findings; i++) {
			const aimark_finding *f = aimark_findings_get(findings, i);
			tool_str_printf(&j, "%s{\"severity\":\"%s\",\"code\":", i ? "," : "", aimark_severity_name(f->severity));
			tool_str_json_string(&j, f->code);
			tool_str_puts(&j, ",\"message\":");
			tool_str_json_string(&j, f->message);
			tool_str_puts(&j, "}");
		}
		tool_str_puts(&j, "]");
	}
	tool_str_puts(&j, "}\n");
	if (!j.failed)
		fputs(j.ptr, stdout);
	tool_str_free(&j);
}

/* Validates the option combination; returns 0 or a usage exit code after printing why. */
static int check_settings(const settings *s, int nin, aimark_role role)
{
	if (nin == 0)
		return tool_usage_error("no input file");
	if (s->output && s->in_place)
		return tool_usage_error("-o and --in-place exclude each other");
	if (!s->output && !s->in_place)
		return tool_usage_error("say where the result goes: -o OUT or --in-place");
	if (s->output && nin > 1)
		return tool_usage_error("-o takes one input file; use --in-place to label several");
	if (s->force && s->in_place)
		return tool_usage_error("--force only applies to -o OUT");
	if (!s->no_sign && !s->key_dir)
		return tool_usage_error("--key DIR is required (or --no-sign for an unsigned label)");
	if ((s->c2pa > 0 || s->watermark) && !s->key_dir)
		return tool_usage_error("--c2pa and --watermark take their keys from --key DIR");
	if (s->explicit_lang && strcmp(s->explicit_lang, "zh") != 0 && strcmp(s->explicit_lang, "en") != 0)
		return tool_usage_error("--explicit-lang must be zh or en");
	if (role == AIMARK_ROLE_PROPAGATOR && (s->watermark || s->explicit_label))
		return tool_usage_error("--watermark and --explicit belong to the producer role (give --producer)");
	if (s->label && strcmp(s->label, "1") != 0 && strcmp(s->label, "2") != 0 && strcmp(s->label, "3") != 0)
		return tool_usage_error("--label must be 1, 2 or 3");
	if (s->format && !format_known(s->format)) {
		int rc = tool_usage_error("unknown format '%s'", s->format);
		print_known_formats();
		return rc;
	}
	if (role == AIMARK_ROLE_PROPAGATOR) {
		if (s->produce_id || s->label || s->leave_empty || s->replace_foreign)
			return tool_usage_error("--produce-id, --label, --leave-propagator-empty and --replace-foreign-label "
			                        "belong to the producer role (give --producer)");
	} else if (s->leave_empty && (s->propagator || s->propagate_id)) {
		return tool_usage_error("--leave-propagator-empty excludes --propagator and --propagate-id");
	}
	const char *values[] = { s->producer, s->produce_id, s->propagator, s->propagate_id };
	const char *names[] = { "--producer", "--produce-id", "--propagator", "--propagate-id" };
	for (size_t i = 0; i < 4; i++)
		if (values[i] && *values[i] == '\0')
			return tool_usage_error("%s must not be empty", names[i]);
	return 0;
}

int main(int argc, char **argv)
{
	tool_init("aimark-mark");
	static const struct option longopts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "producer", required_argument, NULL, 'p' },
		{ "produce-id", required_argument, NULL, OPT_PRODUCE_ID },
		{ "label", required_argument, NULL, 'l' },
		{ "propagator", required_argument, NULL, OPT_PROPAGATOR },
		{ "propagate-id", required_argument, NULL, OPT_PROPAGATE_ID },
		{ "leave-propagator-empty", no_argument, NULL, OPT_LEAVE_EMPTY },
		{ "replace-foreign-label", no_argument, NULL, OPT_REPLACE_FOREIGN },
		{ "no-sign", no_argument, NULL, OPT_NO_SIGN },
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "in-place", no_argument, NULL, 'i' },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "c2pa", no_argument, NULL, OPT_C2PA },
		{ "no-c2pa", no_argument, NULL, OPT_NO_C2PA },
		{ "watermark", no_argument, NULL, OPT_WATERMARK },
		{ "strength", required_argument, NULL, OPT_STRENGTH },
		{ "explicit", no_argument, NULL, OPT_EXPLICIT },
		{ "explicit-text", required_argument, NULL, OPT_EXPLICIT_TEXT },
		{ "explicit-position", required_argument, NULL, OPT_EXPLICIT_POSITION },
		{ "explicit-lang", required_argument, NULL, OPT_EXPLICIT_LANG },
		{ "font", required_argument, NULL, OPT_FONT },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	settings s = { 0 };
	int c;
	while ((c = getopt_long(argc, argv, "k:p:l:f:o:ihV", longopts, NULL)) != -1) {
		switch (c) {
		case 'k': s.key_dir = optarg; break;
		case 'p': s.producer = optarg; break;
		case OPT_PRODUCE_ID: s.produce_id = optarg; break;
		case 'l': s.label = optarg; break;
		case OPT_PROPAGATOR: s.propagator = optarg; break;
		case OPT_PROPAGATE_ID: s.propagate_id = optarg; break;
		case OPT_LEAVE_EMPTY: s.leave_empty = 1; break;
		case OPT_REPLACE_FOREIGN: s.replace_foreign = 1; break;
		case OPT_NO_SIGN: s.no_sign = 1; break;
		case 'f': s.format = optarg; break;
		case 'o': s.output = optarg; break;
		case 'i': s.in_place = 1; break;
		case OPT_FORCE: s.force = 1; break;
		case OPT_JSON: s.json = 1; break;
		case OPT_C2PA: s.c2pa = 1; break;
		case OPT_NO_C2PA: s.c2pa = -1; break;
		case OPT_WATERMARK: s.watermark = 1; break;
		case OPT_STRENGTH: {
			char *end = NULL;
			s.strength = strtof(optarg, &end);
			if (end == optarg || *end != '\0' || !(s.strength > 0.0f && s.strength <= 8.0f))
				return tool_usage_error("--strength takes a number in (0, 8]");
			break;
		}
		case OPT_EXPLICIT: s.explicit_label = 1; break;
		case OPT_EXPLICIT_TEXT: s.explicit_text = optarg; s.explicit_label = 1; break;
		case OPT_EXPLICIT_POSITION: s.explicit_position = optarg; s.explicit_label = 1; break;
		case OPT_EXPLICIT_LANG: s.explicit_lang = optarg; s.explicit_label = 1; break;
		case OPT_FONT: s.font = optarg; s.explicit_label = 1; break;
		case 'h': usage(stdout); return TOOL_EXIT_OK;
		case 'V': tool_print_version(); return TOOL_EXIT_OK;
		default: usage(stderr); return TOOL_EXIT_USAGE;
		}
	}
	int nin = argc - optind;
	aimark_role role = (s.propagator && !s.producer) ? AIMARK_ROLE_PROPAGATOR : AIMARK_ROLE_PRODUCER;
	int rc = check_settings(&s, nin, role);
	if (rc != 0)
		return rc;

	/* The producer code may live in the key directory. */
	char *producer_from_file = NULL;
	if (role == AIMARK_ROLE_PRODUCER && !s.producer) {
		char *ppath = s.key_dir ? tool_path_join(s.key_dir, PRODUCER_FILE) : NULL;
		int got = ppath ? tool_read_first_line(ppath, PRODUCER_FILE_MAX, &producer_from_file) : 0;
		if (got < 0) {
			tool_error(ppath, "%s", strerror(errno));
			free(ppath);
			return TOOL_EXIT_FAILURE;
		}
		free(ppath);
		if (got == 0 || producer_from_file[0] == '\0') {
			free(producer_from_file);
			return tool_usage_error("--producer CODE is required (or write it to %s/%s)",
			                        s.key_dir ? s.key_dir : "KEYDIR", PRODUCER_FILE);
		}
		s.producer = producer_from_file;
	}

	aimark_key *key = NULL;
	if (!s.no_sign && aimark_keydir_load_signing(&key, s.key_dir) != 0) {
		tool_error_lib(s.key_dir);
		free(producer_from_file);
		return TOOL_EXIT_FAILURE;
	}

	/* Layer keys from the key directory. */
	aimark_wm_key *wm_key = NULL;
	aimark_c2pa_signer *signer = NULL;
	if (s.watermark && aimark_keydir_load_watermark(&wm_key, s.key_dir) != 0) {
		tool_error_lib(s.key_dir);
		aimark_key_free(key);
		free(producer_from_file);
		return TOOL_EXIT_FAILURE;
	}
	if (s.c2pa >= 0 && s.key_dir) {
		char *chain = tool_path_join(s.key_dir, AIMARK_C2PA_KEYDIR_CHAIN);
		int present = chain && tool_path_exists(chain);
		free(chain);
		if ((present || s.c2pa > 0) && aimark_c2pa_signer_load_dir(&signer, s.key_dir) != 0) {
			tool_error_lib(s.key_dir);
			if (s.c2pa == 0)
				fprintf(stderr, "%s: give --no-c2pa to label without a C2PA manifest\n", tool_name());
			aimark_wm_key_free(wm_key);
			aimark_key_free(key);
			free(producer_from_file);
			return TOOL_EXIT_FAILURE;
		}
	}

	aimark_mark_options opts = AIMARK_MARK_OPTIONS_INIT;
	opts.role = role;
	opts.label = s.label;
	opts.content_producer = role == AIMARK_ROLE_PRODUCER ? s.producer : NULL;
	opts.produce_id = s.produce_id;
	opts.content_propagator = s.propagator;
	opts.propagate_id = s.propagate_id;
	opts.leave_propagator_empty = s.leave_empty;
	opts.key = key;
	opts.replace_foreign_label = s.replace_foreign;
	opts.format = s.format;
	opts.watermark_key = wm_key;
	opts.watermark_strength = s.strength;
	opts.c2pa_signer = signer;
	opts.explicit_text = s.explicit_text;
	opts.explicit_position = s.explicit_position;
	opts.explicit_language = s.explicit_lang;
	opts.explicit_font = s.font;
	unsigned int base_layers = (s.watermark ? AIMARK_LAYER_WATERMARK : 0) | (s.explicit_label ? AIMARK_LAYER_EXPLICIT : 0);

	int failures = 0;
	for (int i = optind; i < argc; i++) {
		const char *in = argv[i];
		const char *out = s.in_place ? in : s.output;
		/* The same file under another spelling is in-place labelling too. */
		if (!s.in_place && strcmp(in, out) != 0 && tool_same_file(in, out))
			out = in;
		aimark_mark_result res;
		memset(&res, 0, sizeof res);
		aimark_findings *findings = NULL;
		if (aimark_findings_new(&findings) != 0) {
			tool_error_lib(in);
			failures++;
			break;
		}
		opts.findings = findings;
		aimark_error_clear();
		/* C2PA by default only where the format can carry a manifest; --c2pa insists. */
		opts.layers = base_layers;
		if (signer && (s.c2pa > 0 || aimark_c2pa_format_supported(file_format(in, s.format))))
			opts.layers |= AIMARK_LAYER_C2PA;
		int failed = aimark_mark_file(in, out, s.force, &opts, &res) != 0;
		if (failed) {
			failures++;
			tool_error_lib(in);
			if (aimark_error_last_code() == AIMARK_EEXISTS) {
				if (out != in && strcmp(in, out) != 0 && tool_path_exists(out))
					tool_error(out, "exists: give --force to overwrite it");
				else
					tool_error(in, "give --replace-foreign-label to replace that label, or --propagator "
					           "without --producer to add propagation fields next to it");
			}
		}
		print_result(&s, role, in, out, &res, findings, failed);
		opts.findings = NULL;
		aimark_findings_free(findings);
	}
	fflush(stdout);
	aimark_c2pa_signer_free(signer);
	aimark_wm_key_free(wm_key);
	aimark_key_free(key);
	free(producer_from_file);
	return failures ? TOOL_EXIT_FAILURE : TOOL_EXIT_OK;
}

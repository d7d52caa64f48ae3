/*
 * How an auditor checks a file against one provider's key directory:
 *   verify_file KEYDIR FILE
 * Trusts KEYDIR's public keys for the metadata label, looks for the
 * watermark of KEYDIR/watermark.key when it exists, and takes
 * KEYDIR/c2pa-root.pem as the C2PA trust anchor when it exists.
 * Prints the verdict, the label, the findings and the JSON report, and
 * exits with the aimark-verify exit code of the verdict.
 */
#include <stdio.h>
#include <string.h>

#include <aimark/aimark.h>

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s KEYDIR FILE\n", argv[0]);
		return 64;
	}
	const char *keydir = argv[1], *path = argv[2];

	/* Trust and keys: built once, then shareable by any number of threads. */
	aimark_trust *trust = NULL;
	if (aimark_trust_new(&trust) != 0 || aimark_trust_add_path(trust, keydir) != 0) {
		fprintf(stderr, "trust: %s\n", aimark_error_last());
		aimark_trust_free(trust);
		return 4;
	}
	aimark_wm_key *wm_key = NULL;
	if (aimark_keydir_load_watermark(&wm_key, keydir) != 0) {
		if (aimark_error_last_code() != AIMARK_ENOTFOUND) {
			fprintf(stderr, "watermark key: %s\n", aimark_error_last());
			aimark_trust_free(trust);
			return 4;
		}
		aimark_error_clear(); /* no watermark key: no watermark detection */
	}
	char anchors[4096];
	snprintf(anchors, sizeof anchors, "%s/%s", keydir, AIMARK_C2PA_KEYDIR_ROOT);
	FILE *probe = fopen(anchors, "r");
	if (probe)
		fclose(probe);

	aimark_verify_options opts = AIMARK_VERIFY_OPTIONS_INIT;
	opts.trust = trust;
	opts.layers = 0; /* every layer */
	const aimark_wm_key *keys[1] = { wm_key };
	if (wm_key) {
		opts.watermark_keys = keys;
		opts.n_watermark_keys = 1;
	}
	opts.c2pa_trust_anchors = probe ? anchors : NULL;

	aimark_report *report = NULL;
	if (aimark_verify_file(path, &opts, &report) != 0) {
		/* The check could not run (unreadable file, out of memory). */
		fprintf(stderr, "%s\n", aimark_error_last());
		aimark_wm_key_free(wm_key);
		aimark_trust_free(trust);
		return 4;
	}

	aimark_verdict v = aimark_report_verdict(report);
	printf("%s: %s (%s)\n", path, aimark_verdict_name(v), aimark_report_format(report));
	const aimark_label *label = aimark_report_label(report);
	if (label) {
		for (int f = 0; f < AIMARK_FIELD_COUNT; f++) {
			if (f == AIMARK_FIELD_RESERVED_CODE1 || f == AIMARK_FIELD_RESERVED_CODE2)
				continue;
			const char *value = aimark_label_get(label, (aimark_label_field)f);
			printf("  %-18s %s\n", aimark_label_field_name((aimark_label_field)f), value ? value : "(absent)");
		}
		printf("  %-18s %s\n", "signature", aimark_sig_status_name(aimark_report_signature(report)));
		printf("  %-18s %s\n", "content", aimark_content_status_name(aimark_report_content(report)));
	}
	const aimark_findings *findings = aimark_report_findings(report);
	for (size_t i = 0; i < aimark_findings_count(findings); i++) {
		const aimark_finding *f = aimark_findings_get(findings, i);
		printf("  %s %s: %s\n", aimark_severity_name(f->severity), f->code, f->message);
	}

	/* The watermark, explicit-label and C2PA results are in the JSON report. */
	aimark_buf json = AIMARK_BUF_INIT;
	if (aimark_report_to_json(report, 1, &json) == 0)
		printf("%s\n", (const char *)json.ptr);
	aimark_buf_dispose(&json);

	int code = aimark_verdict_exit_code(v);
	aimark_report_free(report);
	aimark_wm_key_free(wm_key);
	aimark_trust_free(trust);
	return code;
}

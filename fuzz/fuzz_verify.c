/*
 * The whole pipeline on arbitrary bytes: aimark_verify_memory through format
 * detection with the cheap layers (metadata label and C2PA), then
 * aimark_mark_memory with an Ed25519 key. Whenever marking succeeds, the
 * output must verify as authentic with the content unchanged under a trust
 * set holding that key, and as unverified without one.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "aimark/aimark.h"

#define INPUT_MAX (256 * 1024)

static aimark_key *g_key;
static aimark_trust *g_trust;

/* An invariant broke: show the report and crash. */
static void fail(const char *what, const aimark_report *r)
{
	aimark_buf json = AIMARK_BUF_INIT;
	fprintf(stderr, "fuzz_verify: %s (%s)\n", what, aimark_error_last());
	if (r && aimark_report_to_json(r, 1, &json) == 0)
		fprintf(stderr, "%s\n", (const char *)json.ptr);
	aimark_buf_dispose(&json);
	abort();
}

static void setup(void)
{
	if (aimark_key_generate(&g_key, AIMARK_ALG_ED25519) != 0 || aimark_trust_new(&g_trust) != 0 ||
	    aimark_trust_add_key(g_trust, g_key) != 0)
		fail("setup", NULL);
}

/* Verifies `data`; a failure to run on memory input is a bug, the verdict is not checked. */
static aimark_report *verify(const void *data, size_t size, const aimark_trust *trust)
{
	aimark_verify_options vo = AIMARK_VERIFY_OPTIONS_INIT;
	vo.trust = trust;
	vo.layers = AIMARK_LAYER_METADATA | AIMARK_LAYER_C2PA;
	aimark_report *r = NULL;
	int rc = aimark_verify_memory(data, size, &vo, &r);
	if (rc == AIMARK_ENOMEM)
		return NULL;
	if (rc != 0 || r == NULL)
		fail("verify could not run on memory input", NULL);
	aimark_buf text = AIMARK_BUF_INIT, json = AIMARK_BUF_INIT;
	if (aimark_report_to_text(r, &text) != 0 || aimark_report_to_json(r, 0, &json) != 0)
		fail("report rendering", r);
	aimark_buf_dispose(&text);
	aimark_buf_dispose(&json);
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (g_key == NULL)
		setup();
	if (size > INPUT_MAX)
		return 0;
	aimark_report_free(verify(data, size, g_trust));

	aimark_mark_options mo = AIMARK_MARK_OPTIONS_INIT;
	mo.content_producer = "001191110102MACQD9K64010000";
	mo.produce_id = "fuzz-0001";
	mo.key = g_key;
	mo.replace_foreign_label = 1;
	aimark_buf out = AIMARK_BUF_INIT;
	if (aimark_mark_memory(data, size, &mo, &out, NULL) == 0) {
		aimark_report *r = verify(out.ptr, out.size, g_trust);
		if (r && (aimark_report_verdict(r) != AIMARK_VERDICT_AUTHENTIC || aimark_report_content(r) != AIMARK_CONTENT_UNCHANGED))
			fail("marked output does not verify as authentic and unchanged", r);
		aimark_report_free(r);
		r = verify(out.ptr, out.size, NULL);
		if (r && (aimark_report_verdict(r) != AIMARK_VERDICT_UNVERIFIED || aimark_report_content(r) != AIMARK_CONTENT_UNCHANGED))
			fail("marked output does not verify as unverified and unchanged without trust", r);
		aimark_report_free(r);
	}
	aimark_buf_dispose(&out);
	aimark_error_clear();
	return 0;
}

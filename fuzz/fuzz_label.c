/* Fuzzes the lenient label decoder, validation, SecurityData checks and the encoder. */
#include <stddef.h>
#include <stdint.h>

#include "aimark/aimark.h"
#include "label/security.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	aimark_findings *f = NULL;
	aimark_label *label = NULL;
	if (aimark_findings_new(&f) != 0)
		return 0;
	if (aimark_label_parse_json(&label, (const char *)data, size, f) == 0) {
		(void)aimark_label_validate(label, f);
		aimark__security_check check;
		(void)aimark__security_verify(label, AIMARK_ROLE_PRODUCER, NULL, &check, f);
		(void)aimark__security_verify(label, AIMARK_ROLE_PROPAGATOR, NULL, &check, f);
		aimark_buf out = AIMARK_BUF_INIT;
		if (aimark_label_to_json(label, 1, &out) != 0)
			aimark_error_clear();
		aimark_buf_dispose(&out);
		aimark_label_free(label);
	}
	aimark_findings_free(f);
	aimark_error_clear();
	return 0;
}

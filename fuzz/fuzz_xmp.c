/*
 * XMP find and set on arbitrary packets. Besides not crashing, checks the
 * round trip: whenever set() accepts a packet, find() on its output returns
 * exactly the value written, with no duplicate left behind.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aimark/findings.h"
#include "core/internal.h"
#include "format/xmp.h"

static const char *const VALUES[] = {
	"{\"Label\":\"1\",\"ContentProducer\":\"<a&b>\",\"ProduceID\":\"it's \\\"q\\\"\"}",
	"",
	"line\nbreak\ttab\r\ncr",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	aimark_findings *f = NULL;
	if (aimark_findings_new(&f) != 0)
		return 0;
	aimark_buf json = AIMARK_BUF_INIT, out = AIMARK_BUF_INIT;
	(void)aimark__xmp_find_aigc((const char *)data, size, &json, f);

	const char *v = VALUES[size % (sizeof VALUES / sizeof VALUES[0])];
	if (aimark__xmp_set_aigc((const char *)data, size, v, strlen(v), &out) == 0) {
		aimark_findings *g = NULL;
		aimark_buf back = AIMARK_BUF_INIT;
		if (aimark_findings_new(&g) != 0)
			abort();
		if (aimark__xmp_find_aigc((const char *)out.ptr, out.size, &back, g) != 0)
			abort();
		if (back.size != strlen(v) || memcmp(back.ptr, v, back.size) != 0)
			abort();
		if (aimark_findings_has(g, "duplicate-label"))
			abort();
		aimark_buf_dispose(&back);
		aimark_findings_free(g);
	}
	aimark_buf_dispose(&json);
	aimark_buf_dispose(&out);
	aimark_findings_free(f);
	return 0;
}

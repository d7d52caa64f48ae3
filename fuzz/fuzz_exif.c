/*
 * EXIF find and replace on arbitrary TIFF blocks. Besides not crashing,
 * checks that a replaced UserComment or ImageDescription reads back.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aimark/findings.h"
#include "core/internal.h"
#include "format/exif.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char text[] = "{\"AIGC\":{\"Label\":\"1\"}}";
	aimark_findings *f = NULL;
	if (aimark_findings_new(&f) != 0)
		return 0;
	aimark_buf found = AIMARK_BUF_INIT;
	uint16_t tag = 0;
	int rc = aimark__exif_find_aigc(data, size, &found, &tag, f);
	if (rc == 0 && tag != AIMARK__EXIF_TAG_USERCOMMENT && tag != AIMARK__EXIF_TAG_IMAGEDESCRIPTION)
		abort();

	static const uint16_t tags[] = { AIMARK__EXIF_TAG_USERCOMMENT, AIMARK__EXIF_TAG_IMAGEDESCRIPTION };
	for (size_t i = 0; i < 2; i++) {
		aimark_buf out = AIMARK_BUF_INIT, back = AIMARK_BUF_INIT;
		if (aimark__exif_replace_text(data, size, tags[i], text, strlen(text), &out) == 0) {
			uint16_t t2 = 0;
			if (aimark__exif_find_aigc(out.ptr, out.size, &back, &t2, NULL) != 0)
				abort();
			/* UserComment is preferred, so only it is sure to come back */
			if (tags[i] == AIMARK__EXIF_TAG_USERCOMMENT &&
			    (t2 != tags[i] || back.size != strlen(text) || memcmp(back.ptr, text, back.size) != 0))
				abort();
			if (out.size < size)
				abort();
		}
		aimark_buf_dispose(&out);
		aimark_buf_dispose(&back);
	}
	aimark_buf_dispose(&found);
	aimark_findings_free(f);
	return 0;
}

/*
 * JPEG backend: read any input; when it reads, write a label and check the
 * output: it reads, every XMP carrier (one at least) and a raw APPn label
 * hold the bare form, every other carrier the wrapped form, and the essence
 * bytes did not change.
 */
#include "streaming_roundtrip.h"

extern const aimark__format_ops aimark__format_jpeg;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* a file may carry several XMP packets: each is relabelled, none removed */
	const roundtrip_spec spec = { &aimark__format_jpeg, AIMARK__CARRIER_XMP, 0, 1, AIMARK__CARRIER_JPEG_APPN };
	return streaming_check(&spec, data, size);
}

/*
 * PNG backend: read any input; when it reads, write a label and check the
 * output: it reads, its XMP carries the label once, every other carrier holds
 * the same label (wrapped form), and the essence bytes did not change.
 */
#include "streaming_roundtrip.h"

extern const aimark__format_ops aimark__format_png;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return image_roundtrip(&aimark__format_png, data, size);
}

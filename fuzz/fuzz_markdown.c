/*
 * Fuzz target: the Markdown (and plain-text) backend. Reads hostile input; when it parses,
 * writes a label and checks that the output reads back with that label and
 * the same essence bytes.
 */
#include "document_roundtrip.h"

extern const aimark__format_ops aimark__format_markdown;
extern const aimark__format_ops aimark__format_text;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check(&aimark__format_markdown, data, size);
	check(&aimark__format_text, data, size);
	return 0;
}

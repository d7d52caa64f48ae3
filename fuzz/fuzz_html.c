/*
 * Fuzz target: the HTML backend. Reads hostile input; when it parses,
 * writes a label and checks that the output reads back with that label and
 * the same essence bytes.
 */
#include "document_roundtrip.h"

extern const aimark__format_ops aimark__format_html;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check(&aimark__format_html, data, size);
	return 0;
}

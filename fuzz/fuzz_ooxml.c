/*
 * Fuzz target: the OOXML (ZIP) backend. Reads hostile input; when it parses,
 * writes a label and checks that the output reads back with that label and
 * the same essence bytes.
 */
#include "document_roundtrip.h"

extern const aimark__format_ops aimark__format_ooxml;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check(&aimark__format_ooxml, data, size);
	return 0;
}

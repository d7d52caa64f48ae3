/*
 * Matroska / WebM backend: read any input; when it reads, write a label (feeding the
 * essence when the writer streams), then check that the output reads, that
 * every carrier holds the label, that the primary carrier is there, and that
 * the essence is unchanged (and equals what was fed).
 */
#include "streaming_roundtrip.h"

extern const aimark__format_ops aimark__format_mkv;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return streaming_roundtrip(&aimark__format_mkv, "mkv-simpletag", data, size);
}

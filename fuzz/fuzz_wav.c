/*
 * WAV backend: read any input; when it reads, write a label and check
 * that the output reads back with that label in every carrier (the primary
 * one among them) and the same essence bytes.
 */
#include "streaming_roundtrip.h"

extern const aimark__format_ops aimark__format_wav;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return streaming_roundtrip(&aimark__format_wav, "wav-aigc-chunk", data, size);
}

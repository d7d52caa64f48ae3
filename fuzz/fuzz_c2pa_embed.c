/*
 * Fuzz target: signing a C2PA manifest into arbitrary bytes. The first byte
 * picks the carrier (jpeg, png, webp, wav, mp3, mp4), the rest is the file.
 * Embedding must fail cleanly or give a file whose manifest validates: the
 * hard binding covers exactly the bytes written, and nothing we sign may
 * come back Invalid. Also checks that the sink path writes the same bytes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aimark/c2pa.h"
#include "c2pa/c2pa_stage.h"
#include "core/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static aimark_c2pa_signer *signer;

/* One test signer for the whole run, made in a scratch directory that is removed once it is loaded. */
static void make_signer(void)
{
	static const char *files[] = { AIMARK_C2PA_KEYDIR_CHAIN, AIMARK_C2PA_KEYDIR_KEY, AIMARK_C2PA_KEYDIR_ROOT };
	char dir[] = "/tmp/aimark-fuzz-c2pa-XXXXXX";
	char keys[64], path[96];
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(keys, sizeof keys, "%s/k", dir);
	if (aimark_c2pa_keydir_create_test(keys, "Aimark Fuzz", NULL, 30) != 0 || aimark_c2pa_signer_load_dir(&signer, keys) != 0)
		abort();
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", keys, files[i]);
		unlink(path);
	}
	if (rmdir(keys) != 0 || rmdir(dir) != 0)
		abort(); /* the key directory holds files this harness does not know of */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *formats[] = { "jpeg", "png", "webp", "wav", "mp3", "mp4" };
	if (size < 1 || size > (1u << 20))
		return 0;
	if (signer == NULL)
		make_signer();
	const char *format = formats[data[0] % 6];
	data++;
	size--;
	aimark_buf out = AIMARK_BUF_INIT;
	if (aimark__c2pa_embed(format, data, size, signer, NULL, &out) == 0) {
		aimark_source *src = NULL;
		json_t *r = NULL;
		if (aimark_source_new_memory(&src, out.ptr, out.size) != 0 || aimark__c2pa_verify(src, format, NULL, &r) != 0)
			abort();
		/* the signer is not anchored here, so "Valid" is the best and the expected state */
		const char *state = r ? json_string_value(json_object_get(r, "state")) : NULL;
		if (state == NULL || strcmp(state, "Valid") != 0) {
			fprintf(stderr, "signed %s validates as %s\n", format, state ? state : "(no manifest)");
			abort();
		}
		json_decref(r);
		aimark_source_free(src);

		/* the streaming form writes the same layout (new UUIDs and signature, same size) */
		aimark_buf streamed = AIMARK_BUF_INIT;
		aimark_sink *sink = NULL;
		if (aimark_sink_new_buffer(&sink, &streamed) != 0 ||
		    aimark__c2pa_embed_to_sink(format, data, size, signer, NULL, sink) != 0 || streamed.size != out.size)
			abort();
		aimark_sink_free(sink);
		aimark_buf_dispose(&streamed);
	}
	aimark_buf_dispose(&out);
	aimark_error_clear();
	return 0;
}

/*
 * Signs one labelled file per C2PA format and checks each with aimark's validator. With
 * AIMARK_C2PA_INTEROP_DIR set, the keys (DIR/keys) and the signed files (DIR/out) stay there
 * for tests/cli/test_c2pa_interop.sh to hand to the reference validator.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testutil.h"
#include "aimark/c2pa.h"
#include "c2pa/c2pa_stage.h"
#include "core/internal.h"

static const struct sample {
	const char *path, *format, *out;
} samples[] = {
	{ "jpeg/plain.jpg", "jpeg", "signed.jpg" },     { "png/rgb.png", "png", "signed.png" },
	{ "webp/vp8x-xmp.webp", "webp", "signed.webp" }, { "wav/sine.wav", "wav", "signed.wav" },
	{ "mp3/sine-v24.mp3", "mp3", "signed.mp3" },     { "mp3/sine-bare.mp3", "mp3", "signed-bare.mp3" },
	{ "mp4/faststart.mp4", "mp4", "signed.mp4" },    { "mp4/moov_last.mp4", "mp4", "signed-moov-last.mp4" },
	{ "mp4/qt.mov", "mp4", "signed.mov" },           { "mp4/audio.m4a", "mp4", "signed.m4a" },
};

static void sign_all(void **st)
{
	(void)st;
	const char *keep = getenv("AIMARK_C2PA_INTEROP_DIR");
	char *tmp = keep ? NULL : tu_tempdir();
	const char *dir = keep ? keep : tmp;
	char keys[1024], outdir[1024];
	snprintf(keys, sizeof keys, "%s/keys", dir);
	snprintf(outdir, sizeof outdir, "%s/out", dir);
	mkdir(outdir, 0755);
	assert_int_equal(aimark_c2pa_keydir_create_test(keys, "Aimark Interop Test", NULL, 0), 0);
	aimark_c2pa_signer *signer = NULL;
	assert_int_equal(aimark_c2pa_signer_load_dir(&signer, keys), 0);
	char root[1100];
	snprintf(root, sizeof root, "%s/%s", keys, AIMARK_C2PA_KEYDIR_ROOT);
	aimark_buf first_jpeg = AIMARK_BUF_INIT;
	for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
		size_t n;
		unsigned char *d = tu_read_file(tu_path("%s/%s", AIMARK_TEST_DATA, samples[i].path), &n);
		aimark_mark_options o = AIMARK_MARK_OPTIONS_INIT;
		o.content_producer = "AimarkInterop";
		o.format = samples[i].format;
		aimark_buf labelled = AIMARK_BUF_INIT, out = AIMARK_BUF_INIT;
		aimark_mark_result res;
		int marked = aimark_mark_memory(d, n, &o, &labelled, &res) == 0;
		aimark_label *label = NULL;
		assert_int_equal(aimark_label_new(&label), 0);
		assert_int_equal(aimark_label_set(label, AIMARK_FIELD_LABEL, "1"), 0);
		assert_int_equal(aimark_label_set(label, AIMARK_FIELD_CONTENT_PRODUCER, "AimarkInterop"), 0);
		assert_int_equal(aimark__c2pa_embed(samples[i].format, marked ? labelled.ptr : d, marked ? labelled.size : n,
						    signer, label, &out),
				 0);
		aimark_source *src = NULL;
		assert_int_equal(aimark_source_new_memory(&src, out.ptr, out.size), 0);
		json_t *r = NULL;
		assert_int_equal(aimark__c2pa_verify(src, samples[i].format, root, &r), 0);
		assert_string_equal(json_string_value(json_object_get(r, "state")), "Trusted");
		json_decref(r);
		aimark_source_free(src);
		tu_write_file(tu_path("%s/%s", outdir, samples[i].out), out.ptr, out.size);
		if (i == 0)
			aimark__buf_append(&first_jpeg, out.ptr, out.size) == 0 ? (void)0 : fail();
		aimark_label_free(label);
		aimark_buf_dispose(&labelled);
		aimark_buf_dispose(&out);
		free(d);
	}
	/* a platform's re-signature over the first one: parent ingredient */
	aimark_buf again = AIMARK_BUF_INIT;
	assert_int_equal(aimark__c2pa_embed("jpeg", first_jpeg.ptr, first_jpeg.size, signer, NULL, &again), 0);
	tu_write_file(tu_path("%s/resigned.jpg", outdir), again.ptr, again.size);
	aimark_buf_dispose(&again);
	aimark_buf_dispose(&first_jpeg);
	aimark_c2pa_signer_free(signer);
	if (tmp) {
		tu_rmtree(tmp);
		free(tmp);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(sign_all) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* FFmpeg is loaded on first use: labelling never loads it, decoding an MP3 does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "codec/audio_codec.h"

/* 1 when a library whose name contains `name` is mapped into this process. */
static int mapped(const char *name)
{
	FILE *f = fopen("/proc/self/maps", "r");
	assert_non_null(f);
	char line[4096];
	int found = 0;
	while (!found && fgets(line, sizeof line, f))
		found = strstr(line, name) != NULL;
	fclose(f);
	return found;
}

static void test_loaded_on_first_use(void **st)
{
	(void)st;
	assert_false(mapped("libavcodec"));

	/* a metadata label on a JPEG and on a WAV needs no FFmpeg */
	const char *files[] = { TU_DATA("jpeg/plain.jpg"), TU_DATA("wav/sine.wav") };
	for (size_t i = 0; i < 2; i++) {
		size_t n;
		unsigned char *d = tu_read_file(files[i], &n);
		aimark_mark_options o = AIMARK_MARK_OPTIONS_INIT;
		o.content_producer = "AimarkUnitTest";
		aimark_buf out = AIMARK_BUF_INIT;
		assert_int_equal(aimark_mark_memory(d, n, &o, &out, NULL), 0);
		aimark_buf_dispose(&out);
		free(d);
	}
	/* WAV samples come through libsndfile */
	size_t n;
	unsigned char *wav = tu_read_file(TU_DATA("wav/sine.wav"), &n);
	aimark__audio pcm;
	assert_int_equal(aimark__audio_decode(wav, n, "wav", &pcm, NULL), 0);
	assert_true(pcm.frames > 0);
	aimark__audio_dispose(&pcm);
	free(wav);
	assert_false(mapped("libavcodec"));

	/* MP3 samples need FFmpeg: now it is loaded, and it works */
	unsigned char *mp3 = tu_read_file(TU_DATA("mp3/sine-v24.mp3"), &n);
	assert_int_equal(aimark__audio_decode(mp3, n, "mp3", &pcm, NULL), 0);
	assert_true(pcm.frames > 1000);
	aimark__audio_dispose(&pcm);
	free(mp3);
	assert_true(mapped("libavcodec"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loaded_on_first_use),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

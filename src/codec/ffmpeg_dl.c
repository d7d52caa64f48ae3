/* Loads FFmpeg at run time (see ffmpeg_dl.h for why). */
#define AIMARK__FFMPEG_DL_IMPL
#include "ffmpeg_dl.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

#include "core/internal.h"

#define AIMARK__SONAME(lib, major) "lib" lib ".so." AV_STRINGIFY(major)

aimark__ffmpeg_api aimark__ffmpeg;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static char load_error[256]; /* "" once loaded */
static void *handles[4];

/* The first of the FFmpeg libraries that exports `name`. */
static void *find_symbol(const char *name)
{
	for (size_t i = 0; i < sizeof handles / sizeof handles[0]; i++) {
		void *p = dlsym(handles[i], name);
		if (p)
			return p;
	}
	return NULL;
}

static void load(void)
{
	static const char *const sonames[4] = {
		AIMARK__SONAME("avutil", LIBAVUTIL_VERSION_MAJOR),
		AIMARK__SONAME("swresample", LIBSWRESAMPLE_VERSION_MAJOR),
		AIMARK__SONAME("avcodec", LIBAVCODEC_VERSION_MAJOR),
		AIMARK__SONAME("avformat", LIBAVFORMAT_VERSION_MAJOR),
	};
	for (size_t i = 0; i < 4; i++) {
		handles[i] = dlopen(sonames[i], RTLD_NOW | RTLD_LOCAL);
		if (handles[i] == NULL) {
			const char *why = dlerror();
			snprintf(load_error, sizeof load_error, "FFmpeg is needed for this audio format and %s cannot be loaded: %s",
				 sonames[i], why ? why : "not found");
			return;
		}
	}
#define AIMARK__FFMPEG_RESOLVE(name)                                                                               \
	if ((*(void **)&aimark__ffmpeg.name = find_symbol(#name)) == NULL) {                                       \
		snprintf(load_error, sizeof load_error, "FFmpeg: the installed libraries lack %s", #name);          \
		return;                                                                                             \
	}
	AIMARK__FFMPEG_FUNCTIONS(AIMARK__FFMPEG_RESOLVE)
#undef AIMARK__FFMPEG_RESOLVE
	load_error[0] = '\0';
}

int aimark__ffmpeg_load(void)
{
	if (pthread_once(&load_once, load) != 0)
		return aimark__error_set(AIMARK_EUNSUPPORTED, "FFmpeg: cannot initialise");
	if (load_error[0] != '\0')
		return aimark__error_set(AIMARK_EUNSUPPORTED, "%s", load_error);
	return 0;
}

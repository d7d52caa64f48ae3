/*
 * Four-float vectors through the GCC/clang vector extensions (SSE on x86-64,
 * NEON on ARM, no intrinsics) for the DSP loops of the watermarks and the
 * JPEG coefficient path, with unaligned loads and stores.
 */
#ifndef AIMARK_CORE_VEC4_H
#define AIMARK_CORE_VEC4_H

#include <stdint.h>
#include <string.h>

typedef float v4f __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));
typedef uint32_t v4u __attribute__((vector_size(16)));

static inline v4f v4f_load(const float *p)
{
	v4f v;
	memcpy(&v, p, sizeof v);
	return v;
}

static inline void v4f_store(float *p, v4f v)
{
	memcpy(p, &v, sizeof v);
}

#endif

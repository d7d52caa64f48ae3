/*
 * aimark/errors.h - error codes and the per-thread last error.
 *
 * THREAD SAFETY: the last-error message is kept per thread; every function
 * here is safe to call from any thread.
 */
#ifndef AIMARK_ERRORS_H
#define AIMARK_ERRORS_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Every fallible function returns AIMARK_OK (0) or one of these (< 0). */
typedef enum aimark_error_code {
	AIMARK_OK = 0,
	AIMARK_EINVAL = -1,       /* a bad argument or option */
	AIMARK_ENOMEM = -2,       /* an allocation failed */
	AIMARK_EFORMAT = -3,      /* the input is malformed */
	AIMARK_EUNSUPPORTED = -4, /* a format or feature aimark does not handle */
	AIMARK_ECRYPTO = -5,      /* a key or signature operation failed */
	AIMARK_EIO = -6,          /* reading or writing failed */
	AIMARK_ENOTFOUND = -7,    /* the thing asked for is absent */
	AIMARK_EEXISTS = -8,      /* refusing to overwrite */
	AIMARK_ELIMIT = -9        /* the input exceeds a documented limit */
} aimark_error_code;

/**
 * Returns the message of the last error raised on this thread, or "" when
 * none. The pointer stays valid until the next failing aimark call on the
 * same thread.
 */
AIMARK_API const char *aimark_error_last(void);

/** Returns the code of the last error raised on this thread (AIMARK_OK if none). */
AIMARK_API int aimark_error_last_code(void);

/** Clears this thread's last error. */
AIMARK_API void aimark_error_clear(void);

/** Returns a short static name for a code, e.g. "EFORMAT". */
AIMARK_API const char *aimark_error_name(int code);

#ifdef __cplusplus
}
#endif
#endif

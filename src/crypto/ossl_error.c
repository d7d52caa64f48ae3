/* Translation of OpenSSL's error queue into aimark's per-thread error. */
#include <stdarg.h>
#include <stdio.h>

#include <openssl/err.h>

#include "core/internal.h"
#include "crypto/key_internal.h"

int aimark__crypto_ossl_error(int code, const char *fmt, ...)
{
	char what[512];
	char reason[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);

	/* The first queued error is usually the root cause. */
	unsigned long e = ERR_get_error();
	ERR_clear_error();
	if (e == 0)
		return aimark__error_set(code, "%s", what);
	ERR_error_string_n(e, reason, sizeof reason);
	return aimark__error_set(code, "%s (OpenSSL: %s)", what, reason);
}

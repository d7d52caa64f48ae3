/* Per-thread last error: a code and a message, never a process global. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define MESSAGE_MAX 1024

static _Thread_local int t_code;
static _Thread_local char t_message[MESSAGE_MAX];

int aimark__error_setv(int code, const char *fmt, va_list ap)
{
	t_code = code;
	vsnprintf(t_message, sizeof t_message, fmt, ap);
	return code;
}

int aimark__error_set(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	aimark__error_setv(code, fmt, ap);
	va_end(ap);
	return code;
}

void aimark__error_prefix(const char *fmt, ...)
{
	char prefix[256];
	char old[MESSAGE_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof prefix, fmt, ap);
	va_end(ap);
	memcpy(old, t_message, sizeof old);
	size_t plen = strlen(prefix);
	if (plen + 2 >= sizeof t_message)
		return;
	memcpy(t_message, prefix, plen);
	memcpy(t_message + plen, ": ", 2);
	/* keep as much of the old message as fits */
	size_t room = sizeof t_message - plen - 3;
	size_t olen = strnlen(old, room);
	memcpy(t_message + plen + 2, old, olen);
	t_message[plen + 2 + olen] = '\0';
}

const char *aimark_error_last(void) { return t_message; }
int aimark_error_last_code(void) { return t_code; }

void aimark_error_clear(void)
{
	t_code = AIMARK_OK;
	t_message[0] = '\0';
}

const char *aimark_error_name(int code)
{
	switch (code) {
	case AIMARK_OK: return "OK";
	case AIMARK_EINVAL: return "EINVAL";
	case AIMARK_ENOMEM: return "ENOMEM";
	case AIMARK_EFORMAT: return "EFORMAT";
	case AIMARK_EUNSUPPORTED: return "EUNSUPPORTED";
	case AIMARK_ECRYPTO: return "ECRYPTO";
	case AIMARK_EIO: return "EIO";
	case AIMARK_ENOTFOUND: return "ENOTFOUND";
	case AIMARK_EEXISTS: return "EEXISTS";
	case AIMARK_ELIMIT: return "ELIMIT";
	default: return "EUNKNOWN";
	}
}

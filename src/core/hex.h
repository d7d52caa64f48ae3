/* Hex and base64 text encodings used in labels and reports. */
#ifndef AIMARK_CORE_HEX_H
#define AIMARK_CORE_HEX_H

#include <stddef.h>

#include "aimark/common.h"

/* Appends lowercase (or uppercase) hex of `len` bytes to `out`. */
int aimark__hex_encode(const void *data, size_t len, int upper, aimark_buf *out);
/* Decodes hex (either case, even length, nothing else) and appends the bytes. AIMARK_EFORMAT on bad input. */
int aimark__hex_decode(const char *hex, size_t len, aimark_buf *out);

#endif

#include "hex.h"
#include "internal.h"

int aimark__hex_encode(const void *data, size_t len, int upper, aimark_buf *out)
{
	static const char lo[] = "0123456789abcdef", up[] = "0123456789ABCDEF";
	const char *digits = upper ? up : lo;
	const unsigned char *p = data;
	size_t n;
	RETURN_IF(len > SIZE_MAX / 2, AIMARK_ENOMEM, "hex: too long");
	RETURN_IF_ERR(aimark__buf_reserve(out, len * 2));
	for (n = 0; n < len; n++) {
		out->ptr[out->size++] = (unsigned char)digits[p[n] >> 4];
		out->ptr[out->size++] = (unsigned char)digits[p[n] & 15];
	}
	out->ptr[out->size] = '\0';
	return 0;
}

static int nibble(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

int aimark__hex_decode(const char *hex, size_t len, aimark_buf *out)
{
	RETURN_IF(len % 2 != 0, AIMARK_EFORMAT, "hex: odd length %zu", len);
	RETURN_IF_ERR(aimark__buf_reserve(out, len / 2));
	for (size_t i = 0; i < len; i += 2) {
		int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
		RETURN_IF(hi < 0 || lo < 0, AIMARK_EFORMAT, "hex: bad digit at %zu", i);
		out->ptr[out->size++] = (unsigned char)(hi << 4 | lo);
	}
	out->ptr[out->size] = '\0';
	return 0;
}

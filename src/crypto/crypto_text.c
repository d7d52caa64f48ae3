/* Lenient matching of algorithm names and OIDs read from labels. */
#include <stddef.h>
#include <string.h>

#include "crypto/key_internal.h"

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static char lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

int aimark__crypto_text_is(const char *text, const char *name)
{
	if (text == NULL || name == NULL)
		return 0;
	size_t len = strlen(text);
	while (len > 0 && is_space(*text)) {
		text++;
		len--;
	}
	while (len > 0 && is_space(text[len - 1]))
		len--;
	if (len != strlen(name))
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (lower(text[i]) != lower(name[i]))
			return 0;
	}
	return 1;
}

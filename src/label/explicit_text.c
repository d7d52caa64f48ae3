/* GB 45438 section 5.1 b) check of an explicit label's text. */
#include <stdio.h>
#include <string.h>

#include "core/internal.h"
#include "label/explicit_text.h"

int aimark__explicit_text_next(const char *s, size_t len, size_t *pos, uint32_t *cp)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = *pos;
	if (i >= len)
		return -1;
	uint32_t c = p[i];
	size_t n;
	uint32_t min;
	if (c < 0x80) {
		*cp = c;
		*pos = i + 1;
		return 0;
	} else if ((c & 0xE0) == 0xC0) {
		n = 1, min = 0x80, c &= 0x1F;
	} else if ((c & 0xF0) == 0xE0) {
		n = 2, min = 0x800, c &= 0x0F;
	} else if ((c & 0xF8) == 0xF0) {
		n = 3, min = 0x10000, c &= 0x07;
	} else {
		return -1;
	}
	if (len - i - 1 < n)
		return -1;
	for (size_t k = 1; k <= n; k++) {
		if ((p[i + k] & 0xC0) != 0x80)
			return -1;
		c = (c << 6) | (p[i + k] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return -1;
	*cp = c;
	*pos = i + n + 1;
	return 0;
}

static int is_ascii_alnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int is_ascii_alpha(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static unsigned char lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

/* 1 when `word` (lower-case ASCII) occurs in text at `at`, ignoring case. */
static int match_ci(const char *text, size_t len, size_t at, const char *word)
{
	size_t n = strlen(word);
	if (at > len || len - at < n)
		return 0;
	for (size_t k = 0; k < n; k++)
		if (lower((unsigned char)text[at + k]) != (unsigned char)word[k])
			return 0;
	return 1;
}

/*
 * 1 when `word` occurs at `at` as a whole word: not preceded or followed by
 * an ASCII letter (or, for `strict`, an ASCII letter or digit).
 */
static int word_at(const char *text, size_t len, size_t at, const char *word, int case_insensitive, int strict)
{
	size_t n = strlen(word);
	if (case_insensitive) {
		if (!match_ci(text, len, at, word))
			return 0;
	} else if (at > len || len - at < n || memcmp(text + at, word, n) != 0) {
		return 0;
	}
	unsigned char before = at > 0 ? (unsigned char)text[at - 1] : ' ';
	unsigned char after = at + n < len ? (unsigned char)text[at + n] : ' ';
	if (strict)
		return !is_ascii_alnum(before) && !is_ascii_alnum(after);
	return !is_ascii_alpha(before) && !is_ascii_alpha(after);
}

static int contains(const char *text, size_t len, const char *needle)
{
	size_t n = strlen(needle);
	if (n > len)
		return 0;
	for (size_t i = 0; i + n <= len; i++)
		if (memcmp(text + i, needle, n) == 0)
			return 1;
	return 0;
}

unsigned int aimark__explicit_text_scan(const char *text, size_t len)
{
	unsigned int found = 0;
	if (text == NULL)
		return 0;
	/* UTF-8 is self-synchronising: a byte search for a whole sequence cannot match mid-character. */
	if (contains(text, len, "\xe4\xba\xba\xe5\xb7\xa5\xe6\x99\xba\xe8\x83\xbd")) /* 人工智能 */
		found |= AIMARK__EXPLICIT_AI_ZH;
	if (contains(text, len, "\xef\xbc\xa1\xef\xbc\xa9")) /* ＡＩ */
		found |= AIMARK__EXPLICIT_AI_LATIN;
	if (contains(text, len, "\xe7\x94\x9f\xe6\x88\x90")) /* 生成 */
		found |= AIMARK__EXPLICIT_GEN_SC;
	if (contains(text, len, "\xe5\x90\x88\xe6\x88\x90")) /* 合成 */
		found |= AIMARK__EXPLICIT_GEN_HC;
	for (size_t i = 0; i < len; i++) {
		if (word_at(text, len, i, "AI", 0, 1) || word_at(text, len, i, "AIGC", 0, 1))
			found |= AIMARK__EXPLICIT_AI_LATIN;
		if (word_at(text, len, i, "artificial intelligence", 1, 0))
			found |= AIMARK__EXPLICIT_AI_EN;
		if (word_at(text, len, i, "generated", 1, 0) || word_at(text, len, i, "synthesized", 1, 0) ||
		    word_at(text, len, i, "synthesised", 1, 0))
			found |= AIMARK__EXPLICIT_GEN_EN;
	}
	return found;
}

/* Code points a one-line visible label must not hold: controls, line breaks, invisible formatting. */
static int forbidden_cp(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || (cp >= 0x200B && cp <= 0x200F) ||
	       (cp >= 0x2028 && cp <= 0x202E) || (cp >= 0x2060 && cp <= 0x2069) || cp == 0xFEFF;
}

/* Length of a prefix of valid UTF-8 `text` of at most `max` bytes that ends on a character boundary. */
static int quoted_len(const char *text, size_t len, size_t max)
{
	size_t pos = 0;
	while (pos < len) {
		size_t next = pos;
		uint32_t cp;
		if (aimark__explicit_text_next(text, len, &next, &cp) != 0 || next > max)
			break;
		pos = next;
	}
	return (int)pos;
}

int aimark__explicit_text_check(const char *text, unsigned int *found)
{
	if (found != NULL)
		*found = 0;
	RETURN_IF(text == NULL || text[0] == '\0', AIMARK_EINVAL, "explicit label text is empty");
	size_t len = strlen(text);
	RETURN_IF(len > AIMARK__EXPLICIT_TEXT_MAX, AIMARK_EINVAL, "explicit label text is %zu bytes long (at most %d)", len,
		  AIMARK__EXPLICIT_TEXT_MAX);
	size_t pos = 0;
	while (pos < len) {
		uint32_t cp;
		size_t at = pos;
		RETURN_IF(aimark__explicit_text_next(text, len, &pos, &cp) != 0, AIMARK_EINVAL,
			  "explicit label text is not valid UTF-8 (byte %zu)", at);
		RETURN_IF(forbidden_cp(cp), AIMARK_EINVAL,
			  "explicit label text holds U+%04X at byte %zu (control or invisible formatting character)", (unsigned)cp, at);
	}
	unsigned int f = aimark__explicit_text_scan(text, len);
	int q = quoted_len(text, len, 60);
	const char *more = (size_t)q < len ? "..." : "";
	if (!(f & AIMARK__EXPLICIT_AI_ANY) && !(f & AIMARK__EXPLICIT_GEN_ANY))
		return aimark__error_set(AIMARK_EINVAL,
			"explicit label text \"%.*s%s\" lacks both elements GB 45438 5.1 b) requires: an AI element "
			"(\"AI\" or \"\xe4\xba\xba\xe5\xb7\xa5\xe6\x99\xba\xe8\x83\xbd\") and a generation element "
			"(\"\xe7\x94\x9f\xe6\x88\x90\" or \"\xe5\x90\x88\xe6\x88\x90\"; in English \"generated\")",
			q, text, more);
	if (!(f & AIMARK__EXPLICIT_AI_ANY))
		return aimark__error_set(AIMARK_EINVAL,
			"explicit label text \"%.*s%s\" lacks the AI element GB 45438 5.1 b) requires: "
			"add \"AI\" or \"\xe4\xba\xba\xe5\xb7\xa5\xe6\x99\xba\xe8\x83\xbd\"", q, text, more);
	if (!(f & AIMARK__EXPLICIT_GEN_ANY))
		return aimark__error_set(AIMARK_EINVAL,
			"explicit label text \"%.*s%s\" lacks the generation element GB 45438 5.1 b) requires: "
			"add \"\xe7\x94\x9f\xe6\x88\x90\" or \"\xe5\x90\x88\xe6\x88\x90\" (in English \"generated\")", q, text, more);
	if (found != NULL)
		*found = f;
	return 0;
}

const char *aimark__explicit_text_default(const char *language)
{
	if (language == NULL || strcmp(language, "zh") == 0)
		return AIMARK__EXPLICIT_TEXT_ZH;
	if (strcmp(language, "en") == 0)
		return AIMARK__EXPLICIT_TEXT_EN;
	return NULL;
}

void aimark__explicit_text_describe(unsigned int found, char *out, size_t n)
{
	static const struct {
		unsigned int bit;
		const char *name;
	} names[] = {
		{ AIMARK__EXPLICIT_AI_LATIN, "AI" },
		{ AIMARK__EXPLICIT_AI_ZH, "\xe4\xba\xba\xe5\xb7\xa5\xe6\x99\xba\xe8\x83\xbd" },
		{ AIMARK__EXPLICIT_AI_EN, "artificial intelligence" },
		{ AIMARK__EXPLICIT_GEN_SC, "\xe7\x94\x9f\xe6\x88\x90" },
		{ AIMARK__EXPLICIT_GEN_HC, "\xe5\x90\x88\xe6\x88\x90" },
		{ AIMARK__EXPLICIT_GEN_EN, "generated" },
	};
	if (n == 0)
		return;
	out[0] = '\0';
	size_t used = 0;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (!(found & names[i].bit))
			continue;
		int w = snprintf(out + used, n - used, "%s%s", used ? " + " : "", names[i].name);
		if (w < 0 || (size_t)w >= n - used) {
			out[used] = '\0'; /* no partial name (nor a cut UTF-8 sequence) */
			return;
		}
		used += (size_t)w;
	}
}

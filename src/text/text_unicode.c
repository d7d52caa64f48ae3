/* UTF-8, canonical composition (NFC) and character classes for the text layers. */
#include <string.h>

#include "core/internal.h"
#include "text/text_unicode.h"

size_t aimark__utf8_decode(const unsigned char *s, size_t len, size_t i, uint32_t *cp, int *valid)
{
	unsigned char b = s[i];
	*valid = 1;
	if (b < 0x80) {
		*cp = b;
		return 1;
	}
	size_t need;
	unsigned char lo = 0x80, hi = 0xBF;
	uint32_t c;
	if (b >= 0xC2 && b <= 0xDF) {
		need = 1;
		c = b & 0x1F;
	} else if (b >= 0xE0 && b <= 0xEF) {
		need = 2;
		c = b & 0x0F;
		if (b == 0xE0)
			lo = 0xA0;
		else if (b == 0xED)
			hi = 0x9F;
	} else if (b >= 0xF0 && b <= 0xF4) {
		need = 3;
		c = b & 0x07;
		if (b == 0xF0)
			lo = 0x90;
		else if (b == 0xF4)
			hi = 0x8F;
	} else {
		*cp = AIMARK__UNI_REPLACEMENT;
		*valid = 0;
		return 1;
	}
	size_t k = 1;
	for (; k <= need; k++) {
		if (i + k >= len)
			break;
		unsigned char t = s[i + k];
		if (t < lo || t > hi)
			break;
		lo = 0x80;
		hi = 0xBF;
		c = (c << 6) | (t & 0x3F);
	}
	if (k <= need) {
		*cp = AIMARK__UNI_REPLACEMENT;
		*valid = 0;
		return k;
	}
	*cp = c;
	return need + 1;
}

size_t aimark__utf8_len(uint32_t cp)
{
	return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

int aimark__utf8_append(aimark_buf *out, uint32_t cp)
{
	unsigned char b[4];
	size_t n = aimark__utf8_len(cp);
	if (n == 1) {
		b[0] = (unsigned char)cp;
	} else if (n == 2) {
		b[0] = (unsigned char)(0xC0 | (cp >> 6));
		b[1] = (unsigned char)(0x80 | (cp & 0x3F));
	} else if (n == 3) {
		b[0] = (unsigned char)(0xE0 | (cp >> 12));
		b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		b[2] = (unsigned char)(0x80 | (cp & 0x3F));
	} else {
		b[0] = (unsigned char)(0xF0 | (cp >> 18));
		b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
		b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		b[3] = (unsigned char)(0x80 | (cp & 0x3F));
	}
	return aimark__buf_append(out, b, n);
}

unsigned aimark__uni_ccc_of(uint32_t cp)
{
	if (cp < 0x300)
		return 0;
	size_t lo = 0, hi = aimark__uni_ccc_count;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (aimark__uni_ccc[mid].last < cp)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < aimark__uni_ccc_count && aimark__uni_ccc[lo].first <= cp ? aimark__uni_ccc[lo].ccc : 0;
}

/* Hangul syllable arithmetic (Unicode chapter 3.12). */
#define S_BASE 0xAC00u
#define L_BASE 0x1100u
#define V_BASE 0x1161u
#define T_BASE 0x11A7u
#define L_COUNT 19u
#define V_COUNT 21u
#define T_COUNT 28u
#define N_COUNT (V_COUNT * T_COUNT)
#define S_COUNT (L_COUNT * N_COUNT)

static const aimark__uni_decomp_entry *find_decomp(uint32_t cp)
{
	size_t lo = 0, hi = aimark__uni_decomp_count;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (aimark__uni_decomp[mid].cp < cp)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < aimark__uni_decomp_count && aimark__uni_decomp[lo].cp == cp ? &aimark__uni_decomp[lo] : NULL;
}

/* Writes the full canonical decomposition of cp to d (room for 4); returns its length. */
static size_t decompose(uint32_t cp, uint32_t d[4])
{
	if (cp >= S_BASE && cp < S_BASE + S_COUNT) {
		uint32_t s = cp - S_BASE;
		d[0] = L_BASE + s / N_COUNT;
		d[1] = V_BASE + (s % N_COUNT) / T_COUNT;
		if (s % T_COUNT == 0)
			return 2;
		d[2] = T_BASE + s % T_COUNT;
		return 3;
	}
	const aimark__uni_decomp_entry *e = cp >= 0xC0 ? find_decomp(cp) : NULL;
	if (e == NULL) {
		d[0] = cp;
		return 1;
	}
	memcpy(d, aimark__uni_decomp_data + e->offset, e->len * sizeof *d);
	return e->len;
}

static uint32_t compose(uint32_t a, uint32_t b)
{
	if (a >= L_BASE && a < L_BASE + L_COUNT && b >= V_BASE && b < V_BASE + V_COUNT)
		return S_BASE + ((a - L_BASE) * V_COUNT + (b - V_BASE)) * T_COUNT;
	if (a >= S_BASE && a < S_BASE + S_COUNT && (a - S_BASE) % T_COUNT == 0 && b > T_BASE && b < T_BASE + T_COUNT)
		return a + (b - T_BASE);
	size_t lo = 0, hi = aimark__uni_comp_count;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const aimark__uni_comp_entry *e = &aimark__uni_comp[mid];
		if (e->first < a || (e->first == a && e->second < b))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < aimark__uni_comp_count && aimark__uni_comp[lo].first == a && aimark__uni_comp[lo].second == b)
		return aimark__uni_comp[lo].composite;
	return 0;
}

/* Stable sort of a run of non-starters by combining class. */
static int reorder(uint32_t *run, unsigned char *cls, size_t n)
{
	if (n < 2)
		return 0;
	if (n <= 16) {
		for (size_t i = 1; i < n; i++)
			for (size_t j = i; j > 0 && cls[j - 1] > cls[j]; j--) {
				uint32_t t = run[j];
				run[j] = run[j - 1];
				run[j - 1] = t;
				unsigned char c = cls[j];
				cls[j] = cls[j - 1];
				cls[j - 1] = c;
			}
		return 0;
	}
	size_t count[257] = { 0 };
	uint32_t *tmp = aimark__calloc(n, sizeof *tmp);
	RETURN_ENOMEM_IF_NULL(tmp);
	for (size_t i = 0; i < n; i++)
		count[cls[i] + 1]++;
	for (size_t k = 1; k < 257; k++)
		count[k] += count[k - 1];
	for (size_t i = 0; i < n; i++)
		tmp[count[cls[i]]++] = run[i];
	memcpy(run, tmp, n * sizeof *run);
	for (size_t i = 0; i < n; i++)
		cls[i] = (unsigned char)aimark__uni_ccc_of(run[i]);
	aimark__free(tmp);
	return 0;
}

int aimark__uni_nfc(const uint32_t *cps, size_t n, aimark_buf *out)
{
	int quick = 1;
	for (size_t i = 0; i < n && quick; i++)
		quick = cps[i] < 0x300;
	if (quick) {
		for (size_t i = 0; i < n; i++)
			RETURN_IF_ERR(aimark__utf8_append(out, cps[i]));
		return 0;
	}
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		uint32_t tmp[4];
		m += decompose(cps[i], tmp);
	}
	uint32_t *d = aimark__calloc(m + 1, sizeof *d);
	unsigned char *cls = aimark__calloc(m + 1, 1);
	int rc = 0;
	if (d == NULL || cls == NULL)
		rc = aimark__error_set(AIMARK_ENOMEM, "out of memory");
	m = 0;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		uint32_t tmp[4];
		size_t k = decompose(cps[i], tmp);
		for (size_t j = 0; j < k; j++) {
			d[m] = tmp[j];
			cls[m] = (unsigned char)aimark__uni_ccc_of(tmp[j]);
			m++;
		}
	}
	/* canonical ordering of each run of non-starters */
	for (size_t i = 0; rc == 0 && i < m;) {
		if (cls[i] == 0) {
			i++;
			continue;
		}
		size_t j = i;
		while (j < m && cls[j] != 0)
			j++;
		rc = reorder(d + i, cls + i, j - i);
		i = j;
	}
	/* canonical composition, in place */
	size_t w = 0;
	long starter = -1;
	for (size_t i = 0; rc == 0 && i < m; i++) {
		uint32_t ch = d[i];
		unsigned cc = cls[i];
		if (starter >= 0) {
			int adjacent = (size_t)starter == w - 1;
			unsigned last = adjacent ? 0 : cls[w - 1];
			if (adjacent || (last != 0 && last < cc)) {
				uint32_t c = compose(d[starter], ch);
				if (c != 0) {
					d[starter] = c;
					continue;
				}
			}
		}
		if (cc == 0)
			starter = (long)w;
		d[w] = ch;
		cls[w] = (unsigned char)cc;
		w++;
	}
	for (size_t i = 0; rc == 0 && i < w; i++)
		rc = aimark__utf8_append(out, d[i]);
	aimark__free(d);
	aimark__free(cls);
	return rc;
}

int aimark__uni_nfc_boundary(uint32_t cp)
{
	if (cp < 0x300)
		return 1;
	if ((cp >= V_BASE && cp < V_BASE + V_COUNT) || (cp > T_BASE && cp < T_BASE + T_COUNT) || aimark__uni_ccc_of(cp) != 0)
		return 0;
	for (size_t i = 0; i < aimark__uni_starter_seconds_count; i++)
		if (aimark__uni_starter_seconds[i] == cp)
			return 0;
	return 1;
}

int aimark__uni_is_space(uint32_t cp)
{
	return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
	       (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F ||
	       cp == 0x3000;
}

int aimark__uni_is_wide(uint32_t cp)
{
	return (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0x303E) || (cp >= 0x3041 && cp <= 0x33FF) ||
	       (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0xA000 && cp <= 0xA4CF) ||
	       (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0xFE30 && cp <= 0xFE4F) ||
	       (cp >= 0xFF00 && cp <= 0xFF60) || (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x20000 && cp <= 0x3FFFD);
}

int aimark__uni_is_han(uint32_t cp)
{
	return (cp >= 0x3005 && cp <= 0x3007) || (cp >= 0x3021 && cp <= 0x3029) || (cp >= 0x3400 && cp <= 0x4DBF) ||
	       (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x20000 && cp <= 0x3FFFF);
}

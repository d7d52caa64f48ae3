/* EBML element headers: variable-length IDs and sizes, encoders, CRC-32. */
#include <pthread.h>
#include <string.h>

#include "core/internal.h"
#include "ebml.h"

int aimark__ebml_decode_header(const unsigned char *hdr, size_t avail, uint64_t off, uint64_t end, aimark__ebml_elem *el)
{
	memset(el, 0, sizeof *el);
	uint64_t left = off <= end ? end - off : 0;
	if ((uint64_t)avail > left)
		avail = (size_t)left;
	RETURN_IF(avail < 2, AIMARK_EFORMAT, "Matroska: truncated element header at offset %llu", (unsigned long long)off);
	/* ID: 1..4 bytes, the length given by the leading zero bits of the first byte */
	unsigned b = hdr[0];
	size_t il = 1;
	while (il <= 4 && !(b & (0x80u >> (il - 1))))
		il++;
	RETURN_IF(il > 4, AIMARK_EFORMAT, "Matroska: invalid element ID byte 0x%02X at offset %llu", b, (unsigned long long)off);
	RETURN_IF(avail < il + 1, AIMARK_EFORMAT, "Matroska: truncated element header at offset %llu", (unsigned long long)off);
	uint32_t id = 0;
	for (size_t i = 0; i < il; i++)
		id = (id << 8) | hdr[i];
	/* an ID whose value bits are all ones is reserved */
	uint32_t vmask = il == 4 ? 0x0FFFFFFFu : ((1u << (7 * il)) - 1);
	RETURN_IF((id & vmask) == vmask, AIMARK_EFORMAT, "Matroska: reserved element ID 0x%X at offset %llu", id,
		  (unsigned long long)off);
	/* size: 1..8 bytes */
	b = hdr[il];
	size_t sl = 1;
	while (sl <= 8 && !(b & (0x80u >> (sl - 1))))
		sl++;
	RETURN_IF(sl > 8, AIMARK_EFORMAT, "Matroska: invalid size field (byte 0x00) at offset %llu", (unsigned long long)(off + il));
	RETURN_IF(avail < il + sl, AIMARK_EFORMAT, "Matroska: truncated element header at offset %llu", (unsigned long long)off);
	uint64_t size = b & (0xFFu >> sl);
	int all_ones = size == (0xFFu >> sl);
	for (size_t i = 1; i < sl; i++) {
		size = (size << 8) | hdr[il + i];
		all_ones = all_ones && hdr[il + i] == 0xFF;
	}
	el->offset = off;
	el->id = id;
	el->id_len = (uint8_t)il;
	el->size_len = (uint8_t)sl;
	el->data = off + il + sl;
	if (all_ones) {
		el->unknown = 1;
		el->size = end - el->data;
		return 0;
	}
	RETURN_IF(size > end - el->data, AIMARK_EFORMAT,
		  "Matroska: element 0x%X at offset %llu declares %llu bytes but only %llu remain in its parent", id,
		  (unsigned long long)off, (unsigned long long)size, (unsigned long long)(end - el->data));
	el->size = size;
	return 0;
}

int aimark__ebml_read_header(aimark_source *src, uint64_t off, uint64_t end, aimark__ebml_elem *el)
{
	unsigned char hdr[12];
	uint64_t n = off < end ? end - off : 0;
	if (n > sizeof hdr)
		n = sizeof hdr;
	if (n > 0)
		RETURN_IF_ERR(aimark_source_read(src, off, hdr, (size_t)n));
	return aimark__ebml_decode_header(hdr, (size_t)n, off, end, el);
}

int aimark__ebml_parse_mem(const unsigned char *p, size_t len, size_t pos, uint64_t base, aimark__ebml_elem *el)
{
	size_t avail = pos <= len ? len - pos : 0;
	return aimark__ebml_decode_header(p + (pos <= len ? pos : len), avail, base + pos, base + len, el);
}

uint64_t aimark__ebml_size_max(size_t width)
{
	if (width == 0 || width > 8)
		return 0;
	return (UINT64_C(1) << (7 * width)) - 2;
}

size_t aimark__ebml_size_width(uint64_t size)
{
	size_t w = 1;
	while (w < 8 && size > aimark__ebml_size_max(w))
		w++;
	return w;
}

int aimark__ebml_put_id(aimark_buf *out, uint32_t id)
{
	unsigned char b[4];
	size_t n = id > 0xFFFFFFu ? 4 : id > 0xFFFFu ? 3 : id > 0xFFu ? 2 : 1;
	for (size_t i = 0; i < n; i++)
		b[i] = (unsigned char)(id >> (8 * (n - 1 - i)));
	return aimark__buf_append(out, b, n);
}

int aimark__ebml_put_size(aimark_buf *out, uint64_t size, size_t width)
{
	if (width == 0)
		width = aimark__ebml_size_width(size);
	RETURN_IF(width > 8 || size > aimark__ebml_size_max(width), AIMARK_EINVAL,
		  "Matroska: size %llu does not fit a %zu-byte size field", (unsigned long long)size, width);
	unsigned char b[8];
	for (size_t i = 0; i < width; i++)
		b[i] = (unsigned char)(size >> (8 * (width - 1 - i)));
	b[0] |= (unsigned char)(0x80u >> (width - 1));
	return aimark__buf_append(out, b, width);
}

int aimark__ebml_put_element(aimark_buf *out, uint32_t id, const void *data, size_t len)
{
	RETURN_IF_ERR(aimark__ebml_put_id(out, id));
	RETURN_IF_ERR(aimark__ebml_put_size(out, len, 0));
	return aimark__buf_append(out, data, len);
}

int aimark__ebml_put_uint(aimark_buf *out, uint32_t id, uint64_t value, size_t min_width)
{
	unsigned char b[8];
	size_t n = 1;
	while (n < 8 && (value >> (8 * n)) != 0)
		n++;
	if (n < min_width && min_width <= 8)
		n = min_width;
	for (size_t i = 0; i < n; i++)
		b[i] = (unsigned char)(value >> (8 * (n - 1 - i)));
	return aimark__ebml_put_element(out, id, b, n);
}

size_t aimark__ebml_void_header(unsigned char hdr[9], uint64_t total)
{
	/* ID 0xEC, then a 1-byte size when it fits, else an 8-byte one */
	hdr[0] = (unsigned char)AIMARK__EBML_ID_VOID;
	if (total - 2 <= aimark__ebml_size_max(1)) {
		hdr[1] = (unsigned char)(0x80u | (total - 2));
		return 2;
	}
	uint64_t size = total - 9;
	hdr[1] = 0x01;
	for (int i = 0; i < 7; i++)
		hdr[2 + i] = (unsigned char)(size >> (8 * (6 - i)));
	return 9;
}

int aimark__ebml_get_uint(const unsigned char *p, size_t len, uint64_t *out)
{
	RETURN_IF(len > 8, AIMARK_EFORMAT, "Matroska: unsigned integer of %zu bytes", len);
	uint64_t v = 0;
	for (size_t i = 0; i < len; i++)
		v = (v << 8) | p[i];
	*out = v;
	return 0;
}

static uint32_t g_crc_table[256];
static pthread_once_t g_crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
		g_crc_table[i] = c;
	}
}

uint32_t aimark__ebml_crc32(const void *data, size_t len)
{
	pthread_once(&g_crc_once, crc_init);
	const unsigned char *p = data;
	uint32_t crc = 0xFFFFFFFFu;
	for (size_t i = 0; i < len; i++)
		crc = g_crc_table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
	return crc ^ 0xFFFFFFFFu;
}

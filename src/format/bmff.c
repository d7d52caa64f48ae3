/* ISO BMFF box headers: bounds-checked decoding and encoding. */
#include <stdio.h>
#include <string.h>

#include "bmff.h"
#include "core/internal.h"

const unsigned char aimark__bmff_xmp_uuid[16] = {
	0xBE, 0x7A, 0xCF, 0xCB, 0x97, 0xA9, 0x42, 0xE8, 0x9C, 0x71, 0x99, 0x94, 0x91, 0xE3, 0xAF, 0xAC
};

int aimark__bmff_type_is_plausible(uint32_t type)
{
	for (int i = 0; i < 4; i++) {
		unsigned c = (type >> (24 - 8 * i)) & 0xFF;
		if (!((c >= 0x20 && c < 0x7F) || c == 0xA9))
			return 0;
	}
	return 1;
}

const char *aimark__bmff_type_name(uint32_t type, char buf[16])
{
	int printable = 1;
	for (int i = 0; i < 4; i++) {
		unsigned c = (type >> (24 - 8 * i)) & 0xFF;
		if (c < 0x20 || c >= 0x7F || c == '\'')
			printable = 0;
	}
	if (printable)
		snprintf(buf, 16, "'%c%c%c%c'", (char)(type >> 24), (char)(type >> 16), (char)(type >> 8), (char)type);
	else
		snprintf(buf, 16, "0x%08X", (unsigned)type);
	return buf;
}

int aimark__bmff_decode_header(const unsigned char *hdr, size_t avail, uint64_t off, uint64_t end,
			       aimark__bmff_box *box)
{
	char tn[16];
	memset(box, 0, sizeof *box);
	RETURN_IF(off > end || end - off < 8 || avail < 8, AIMARK_EFORMAT,
		  "MP4: truncated box header at offset %llu (%llu bytes left in its parent)", (unsigned long long)off,
		  (unsigned long long)(off > end ? 0 : end - off));
	uint64_t size = aimark__be32(hdr);
	box->offset = off;
	box->type = aimark__be32(hdr + 4);
	box->hdr_len = 8;
	if (size == 1) {
		RETURN_IF(end - off < 16 || avail < 16, AIMARK_EFORMAT,
			  "MP4: box %s at offset %llu: truncated 64-bit size", aimark__bmff_type_name(box->type, tn),
			  (unsigned long long)off);
		size = aimark__be64(hdr + 8);
		box->hdr_len = 16;
		box->large = 1;
	} else if (size == 0) {
		size = end - off;
		box->to_end = 1;
	}
	if (box->type == AIMARK__FOURCC('u', 'u', 'i', 'd')) {
		RETURN_IF(end - off < box->hdr_len + 16u || avail < box->hdr_len + 16u, AIMARK_EFORMAT,
			  "MP4: 'uuid' box at offset %llu: truncated extended type", (unsigned long long)off);
		memcpy(box->uuid, hdr + box->hdr_len, 16);
		box->hdr_len += 16;
	}
	RETURN_IF(size < box->hdr_len, AIMARK_EFORMAT, "MP4: box %s at offset %llu declares %llu bytes, less than its %u-byte header",
		  aimark__bmff_type_name(box->type, tn), (unsigned long long)off, (unsigned long long)size, box->hdr_len);
	RETURN_IF(size > end - off, AIMARK_EFORMAT,
		  "MP4: box %s at offset %llu declares %llu bytes but only %llu remain in its parent",
		  aimark__bmff_type_name(box->type, tn), (unsigned long long)off, (unsigned long long)size,
		  (unsigned long long)(end - off));
	box->size = size;
	return 0;
}

int aimark__bmff_read_header(aimark_source *src, uint64_t off, uint64_t end, aimark__bmff_box *box)
{
	unsigned char hdr[32];
	uint64_t n = end > off ? end - off : 0;
	if (n > sizeof hdr)
		n = sizeof hdr;
	if (n >= 8)
		RETURN_IF_ERR(aimark_source_read(src, off, hdr, (size_t)n));
	return aimark__bmff_decode_header(hdr, (size_t)n, off, end, box);
}

int aimark__bmff_parse_mem(const unsigned char *p, size_t len, size_t pos, uint64_t base, aimark__bmff_box *box)
{
	size_t avail = pos <= len ? len - pos : 0;
	RETURN_IF_ERR(aimark__bmff_decode_header(p + (pos <= len ? pos : len), avail, base + pos, base + len, box));
	return 0;
}

uint64_t aimark__bmff_box_size(uint64_t payload, uint32_t header_extra, int force_large)
{
	uint64_t small = 8 + (uint64_t)header_extra + payload;
	if (!force_large && small <= UINT32_MAX)
		return small;
	return small + 8;
}

int aimark__bmff_put_header(aimark_buf *out, uint32_t type, uint64_t size, int large)
{
	unsigned char h[16];
	if (!large && size <= UINT32_MAX) {
		aimark__put_be32(h, (uint32_t)size);
		aimark__put_be32(h + 4, type);
		return aimark__buf_append(out, h, 8);
	}
	aimark__put_be32(h, 1);
	aimark__put_be32(h + 4, type);
	aimark__put_be32(h + 8, (uint32_t)(size >> 32));
	aimark__put_be32(h + 12, (uint32_t)size);
	return aimark__buf_append(out, h, 16);
}

int aimark__bmff_put_box(aimark_buf *out, uint32_t type, const void *payload, size_t len)
{
	RETURN_IF_ERR(aimark__bmff_put_header(out, type, aimark__bmff_box_size(len, 0, 0), 0));
	return aimark__buf_append(out, payload, len);
}

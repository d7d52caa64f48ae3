/* C2PA in PNG: the manifest store in a caBX chunk right after IHDR. */
#include <string.h>
#include <zlib.h>

#include "c2pa/c2pa_internal.h"
#include "core/internal.h"

static const unsigned char png_sig[8] = { 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A };

static int png_extract(aimark_source *src, aimark_buf *store)
{
	uint64_t size = aimark_source_size(src), pos = 8;
	unsigned char h[8];
	RETURN_IF(size < 8, AIMARK_EFORMAT, "PNG: file of %llu bytes", (unsigned long long)size);
	RETURN_IF_ERR(aimark_source_read(src, 0, h, 8));
	RETURN_IF(memcmp(h, png_sig, 8) != 0, AIMARK_EFORMAT, "PNG: bad signature");
	while (size - pos >= 12) {
		RETURN_IF_ERR(aimark_source_read(src, pos, h, 8));
		uint64_t n = aimark__be32(h);
		RETURN_IF(n > 0x7FFFFFFFu || n + 12 > size - pos, AIMARK_EFORMAT,
			  "PNG: chunk length %llu at offset %llu passes the end of the file", (unsigned long long)n, (unsigned long long)pos);
		if (memcmp(h + 4, "caBX", 4) == 0) {
			RETURN_IF(n > AIMARK__C2PA_MAX_STORE, AIMARK_ELIMIT, "PNG: caBX chunk of %llu bytes (limit %u)", (unsigned long long)n,
				  AIMARK__C2PA_MAX_STORE);
			RETURN_IF_ERR(aimark__buf_reserve(store, (size_t)n));
			RETURN_IF_ERR(aimark_source_read(src, pos + 8, store->ptr, (size_t)n));
			store->size = (size_t)n;
			store->ptr[n] = '\0';
			return 0;
		}
		if (memcmp(h + 4, "IEND", 4) == 0)
			break;
		pos += n + 12;
	}
	return 0;
}

static int png_embed(const unsigned char *data, size_t len, const unsigned char *store, size_t store_len, aimark__c2pa_out *out,
		     uint64_t *excl_start, uint64_t *excl_len)
{
	RETURN_IF(len < 8 || memcmp(data, png_sig, 8) != 0, AIMARK_EFORMAT, "PNG: bad signature");
	RETURN_IF(store_len > 0x7FFFFFFFu, AIMARK_ELIMIT, "PNG: manifest store too large for a chunk");
	RETURN_IF_ERR(aimark__c2pa_out_append(out, data, 8));
	size_t pos = 8;
	int first = 1, done = 0;
	while (pos < len) {
		RETURN_IF(len - pos < 12, AIMARK_EFORMAT, "PNG: truncated chunk at offset %zu", pos);
		size_t n = aimark__be32(data + pos);
		RETURN_IF(n > 0x7FFFFFFFu || n + 12 > len - pos, AIMARK_EFORMAT,
			  "PNG: chunk length %zu at offset %zu passes the end of the file", n, pos);
		const unsigned char *type = data + pos + 4;
		RETURN_IF(first && memcmp(type, "IHDR", 4) != 0, AIMARK_EFORMAT, "PNG: the first chunk is not IHDR");
		if (memcmp(type, "caBX", 4) != 0)
			RETURN_IF_ERR(aimark__c2pa_out_append(out, data + pos, n + 12));
		pos += n + 12;
		if (first) {
			unsigned char h[8];
			aimark__put_be32(h, (uint32_t)store_len);
			memcpy(h + 4, "caBX", 4);
			*excl_start = out->size;
			RETURN_IF_ERR(aimark__c2pa_out_append(out, h, 8));
			RETURN_IF_ERR(aimark__c2pa_out_append(out, store, store_len));
			uLong crc = crc32(0L, h + 4, 4);
			size_t done_bytes = 0;
			while (done_bytes < store_len) { /* zlib takes uInt lengths */
				size_t step = store_len - done_bytes > (1u << 30) ? (1u << 30) : store_len - done_bytes;
				crc = crc32(crc, store + done_bytes, (uInt)step);
				done_bytes += step;
			}
			unsigned char c[4];
			aimark__put_be32(c, (uint32_t)crc);
			RETURN_IF_ERR(aimark__c2pa_out_append(out, c, 4));
			*excl_len = store_len + 12;
			first = 0;
			done = 1;
		}
		if (memcmp(type, "IEND", 4) == 0) {
			RETURN_IF_ERR(aimark__c2pa_out_append(out, data + pos, len - pos)); /* keep trailing bytes */
			break;
		}
	}
	RETURN_IF(!done, AIMARK_EFORMAT, "PNG: no IHDR chunk");
	return 0;
}

const aimark__c2pa_format aimark__c2pa_format_png = { "png", "image/png", 0, png_extract, png_embed };

/*
 * C2PA in RIFF files (WAV, WebP): a top-level "C2PA" chunk appended at the
 * end, the RIFF size updated. WebP needs its extended format (VP8X), which
 * a GB 45438 label (an XMP chunk) already implies.
 */
#include <string.h>

#include "c2pa/c2pa_internal.h"
#include "core/internal.h"

static int riff_extract(aimark_source *src, aimark_buf *store, const char *form)
{
	uint64_t size = aimark_source_size(src), pos = 12;
	unsigned char h[12];
	RETURN_IF(size < 12, AIMARK_EFORMAT, "RIFF: file of %llu bytes", (unsigned long long)size);
	RETURN_IF_ERR(aimark_source_read(src, 0, h, 12));
	RETURN_IF(memcmp(h, "RIFF", 4) != 0 || memcmp(h + 8, form, 4) != 0, AIMARK_EFORMAT, "RIFF: not a RIFF %.4s file", form);
	uint64_t end = (uint64_t)aimark__le32(h + 4) + 8;
	if (end > size)
		end = size; /* lenient: a short RIFF size is common */
	while (end - pos >= 8) {
		RETURN_IF_ERR(aimark_source_read(src, pos, h, 8));
		uint64_t n = aimark__le32(h + 4);
		RETURN_IF(n > end - pos - 8, AIMARK_EFORMAT, "RIFF: chunk %.4s of %llu bytes at offset %llu passes the end", h,
			  (unsigned long long)n, (unsigned long long)pos);
		if (memcmp(h, "C2PA", 4) == 0) {
			RETURN_IF(n > AIMARK__C2PA_MAX_STORE, AIMARK_ELIMIT, "RIFF: C2PA chunk of %llu bytes (limit %u)",
				  (unsigned long long)n, AIMARK__C2PA_MAX_STORE);
			RETURN_IF_ERR(aimark__buf_reserve(store, (size_t)n));
			RETURN_IF_ERR(aimark_source_read(src, pos + 8, store->ptr, (size_t)n));
			store->size = (size_t)n;
			store->ptr[n] = '\0';
			return 0;
		}
		pos += 8 + n + (n & 1);
	}
	return 0;
}

static int riff_embed(const unsigned char *data, size_t len, const unsigned char *store, size_t store_len, aimark__c2pa_out *out,
		      uint64_t *excl_start, uint64_t *excl_len, const char *form)
{
	RETURN_IF(len < 12 || memcmp(data, "RIFF", 4) != 0 || memcmp(data + 8, form, 4) != 0, AIMARK_EFORMAT,
		  "RIFF: not a RIFF %.4s file", form);
	RETURN_IF(store_len > UINT32_MAX - 64, AIMARK_ELIMIT, "RIFF: manifest store too large for a chunk");
	size_t end = (size_t)aimark__le32(data + 4) + 8;
	RETURN_IF(end > len, AIMARK_EFORMAT, "RIFF: RIFF size %zu passes the end of the file (%zu bytes)", end, len);
	RETURN_IF_ERR(aimark__c2pa_out_append_copy(out, data, 12)); /* a copy: its size field is patched below */
	size_t pos = 12;
	int vp8x = 0;
	while (end - pos >= 8) {
		size_t n = aimark__le32(data + pos + 4);
		RETURN_IF(n > end - pos - 8, AIMARK_EFORMAT, "RIFF: chunk %.4s of %zu bytes at offset %zu passes the end",
			  (const char *)data + pos, n, pos);
		size_t whole = 8 + n + (n & 1);
		if (whole > end - pos)
			whole = end - pos; /* a missing final pad byte */
		if (memcmp(data + pos, "VP8X", 4) == 0)
			vp8x = 1;
		if (memcmp(data + pos, "C2PA", 4) != 0)
			RETURN_IF_ERR(aimark__c2pa_out_append(out, data + pos, whole));
		pos += whole;
	}
	RETURN_IF(memcmp(form, "WEBP", 4) == 0 && !vp8x, AIMARK_EUNSUPPORTED,
		  "WebP: C2PA needs the extended format (a VP8X chunk)");
	if (out->size & 1)
		RETURN_IF_ERR(aimark__c2pa_out_append(out, "", 1));
	unsigned char h[8];
	memcpy(h, "C2PA", 4);
	aimark__put_le32(h + 4, (uint32_t)store_len);
	*excl_start = out->size;
	RETURN_IF_ERR(aimark__c2pa_out_append(out, h, 8));
	RETURN_IF_ERR(aimark__c2pa_out_append(out, store, store_len));
	*excl_len = 8 + (uint64_t)store_len; /* the reference's manifest location: header and data, not the pad byte */
	if (store_len & 1)
		RETURN_IF_ERR(aimark__c2pa_out_append(out, "", 1));
	/* a stray tail shorter than a chunk header stays, after the manifest, where readers skip it */
	RETURN_IF_ERR(aimark__c2pa_out_append(out, data + pos, end - pos));
	RETURN_IF(out->size - 8 > UINT32_MAX, AIMARK_ELIMIT, "RIFF: file larger than 4 GiB");
	unsigned char *riff_size = aimark__c2pa_out_own_at(out, 4, 4);
	RETURN_IF(riff_size == NULL, AIMARK_EFORMAT, "RIFF: the header is not where it was written");
	aimark__put_le32(riff_size, (uint32_t)(out->size - 8));
	/* bytes after the RIFF chunk (rare) are kept after it */
	RETURN_IF_ERR(aimark__c2pa_out_append(out, data + end, len - end));
	return 0;
}

static int wav_extract(aimark_source *src, aimark_buf *store) { return riff_extract(src, store, "WAVE"); }
static int webp_extract(aimark_source *src, aimark_buf *store) { return riff_extract(src, store, "WEBP"); }

static int wav_embed(const unsigned char *d, size_t len, const unsigned char *s, size_t sl, aimark__c2pa_out *out, uint64_t *es,
		     uint64_t *el)
{
	return riff_embed(d, len, s, sl, out, es, el, "WAVE");
}

static int webp_embed(const unsigned char *d, size_t len, const unsigned char *s, size_t sl, aimark__c2pa_out *out, uint64_t *es,
		      uint64_t *el)
{
	return riff_embed(d, len, s, sl, out, es, el, "WEBP");
}

const aimark__c2pa_format aimark__c2pa_format_wav = { "wav", "audio/wav", 0, wav_extract, wav_embed };
const aimark__c2pa_format aimark__c2pa_format_webp = { "webp", "image/webp", 0, webp_extract, webp_embed };

/* Vorbis comment blocks: find and set the AIGC field (FLAC and Ogg share this). */
#include <string.h>

#include "core/findings_internal.h"
#include "core/internal.h"
#include "vorbis_comment.h"

#define AIGC_KEY "AIGC="
#define AIGC_KEY_LEN 5

typedef struct vc_layout {
	size_t vendor_off, vendor_len;
	uint32_t count;
	size_t fields_off; /* first field's length word */
	size_t end;        /* just past the last field */
} vc_layout;

static int vc_parse(const unsigned char *d, size_t len, const char *what, uint64_t base, vc_layout *l)
{
	RETURN_IF(len < 4, AIMARK_EFORMAT, "%s: Vorbis comment at offset %llu is truncated before the vendor length",
		  what, (unsigned long long)base);
	uint32_t vlen = aimark__le32(d);
	RETURN_IF(vlen > len - 4 || len - 4 - vlen < 4, AIMARK_EFORMAT,
		  "%s: Vorbis comment vendor length %u at offset %llu passes the end of the block (%zu bytes)", what,
		  vlen, (unsigned long long)base, len);
	l->vendor_off = 4;
	l->vendor_len = vlen;
	size_t pos = 4 + (size_t)vlen;
	l->count = aimark__le32(d + pos);
	pos += 4;
	RETURN_IF(l->count > (len - pos) / 4, AIMARK_EFORMAT,
		  "%s: Vorbis comment count %u at offset %llu cannot fit in the %zu bytes left", what, l->count,
		  (unsigned long long)(base + pos - 4), len - pos);
	l->fields_off = pos;
	for (uint32_t i = 0; i < l->count; i++) {
		RETURN_IF(len - pos < 4, AIMARK_EFORMAT, "%s: Vorbis comment field %u at offset %llu is truncated", what,
			  i, (unsigned long long)(base + pos));
		uint32_t flen = aimark__le32(d + pos);
		RETURN_IF(flen > len - pos - 4, AIMARK_EFORMAT,
			  "%s: Vorbis comment field %u at offset %llu declares %u bytes but %zu remain", what, i,
			  (unsigned long long)(base + pos), flen, len - pos - 4);
		pos += 4 + (size_t)flen;
	}
	l->end = pos;
	return 0;
}

static int is_aigc(const unsigned char *field, size_t flen)
{
	if (flen < AIGC_KEY_LEN)
		return 0;
	for (size_t i = 0; i < AIGC_KEY_LEN; i++) {
		unsigned char c = field[i];
		if (c >= 'a' && c <= 'z')
			c = (unsigned char)(c - 'a' + 'A');
		if (c != (unsigned char)AIGC_KEY[i])
			return 0;
	}
	return 1;
}

int aimark__vorbis_comment_read(const unsigned char *data, size_t len, const char *what, uint64_t file_offset,
				aimark__meta *meta, size_t *end)
{
	vc_layout l;
	RETURN_IF_ERR(vc_parse(data, len, what, file_offset, &l));
	int found = 0;
	size_t pos = l.fields_off;
	for (uint32_t i = 0; i < l.count; i++) {
		size_t flen = aimark__le32(data + pos);
		const unsigned char *field = data + pos + 4;
		if (is_aigc(field, flen)) {
			if (meta)
				RETURN_IF_ERR(aimark__meta_add_carrier(meta, AIMARK__CARRIER_VORBIS_COMMENT,
								       (const char *)field + AIGC_KEY_LEN, flen - AIGC_KEY_LEN,
								       file_offset + pos));
			found++;
		}
		pos += 4 + flen;
	}
	if (found > 1 && meta)
		RETURN_IF_ERR(aimark__findings_add(meta->findings, AIMARK_SEVERITY_WARNING, "duplicate-label",
						   "%s: the Vorbis comment holds %d AIGC fields", what, found));
	if (end)
		*end = l.end;
	return found;
}

static int put_field(aimark_buf *out, const char *json, size_t json_len)
{
	RETURN_IF(json_len > UINT32_MAX - AIGC_KEY_LEN, AIMARK_ELIMIT, "Vorbis comment: label too large");
	unsigned char w[4];
	aimark__put_le32(w, (uint32_t)(json_len + AIGC_KEY_LEN));
	RETURN_IF_ERR(aimark__buf_append(out, w, 4));
	RETURN_IF_ERR(aimark__buf_append(out, AIGC_KEY, AIGC_KEY_LEN));
	return aimark__buf_append(out, json, json_len);
}

int aimark__vorbis_comment_set(const unsigned char *data, size_t len, const char *what, const char *json,
			       size_t json_len, aimark_buf *out, size_t *end)
{
	unsigned char w[4];
	if (data == NULL) {
		size_t vl = strlen(AIMARK__VORBIS_COMMENT_VENDOR);
		aimark__put_le32(w, (uint32_t)vl);
		RETURN_IF_ERR(aimark__buf_append(out, w, 4));
		RETURN_IF_ERR(aimark__buf_append(out, AIMARK__VORBIS_COMMENT_VENDOR, vl));
		aimark__put_le32(w, 1);
		RETURN_IF_ERR(aimark__buf_append(out, w, 4));
		RETURN_IF_ERR(put_field(out, json, json_len));
		if (end)
			*end = 0;
		return 0;
	}
	vc_layout l;
	RETURN_IF_ERR(vc_parse(data, len, what, 0, &l));
	/* vendor length, vendor and a count patched below */
	RETURN_IF_ERR(aimark__buf_append(out, data, l.fields_off));
	size_t count_at = out->size - 4;
	uint32_t count = 0;
	int placed = 0;
	size_t pos = l.fields_off;
	for (uint32_t i = 0; i < l.count; i++) {
		size_t flen = aimark__le32(data + pos);
		if (!is_aigc(data + pos + 4, flen)) {
			RETURN_IF_ERR(aimark__buf_append(out, data + pos, 4 + flen));
			count++;
		} else if (!placed) {
			RETURN_IF_ERR(put_field(out, json, json_len));
			placed = 1;
			count++;
		}
		pos += 4 + flen;
	}
	if (!placed) {
		RETURN_IF_ERR(put_field(out, json, json_len));
		count++;
	}
	aimark__put_le32(out->ptr + count_at, count);
	if (end)
		*end = l.end;
	return 0;
}

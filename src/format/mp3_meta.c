/*
 * MP3 (MPEG audio with ID3 tags): the GB 45438 label is an ID3v2 TXXX frame
 * described "AIGC" in the tag at the start of the file. Read from every
 * leading ID3v2 tag and from an ID3v2.4 tag appended at the end (found by
 * its footer); written into the first leading tag (created as v2.4 when
 * the file has none) and rewritten wherever else it was found.
 *
 * Essence: the bytes between the leading ID3v2 tags and the trailing tags
 * (ID3v2 with footer, APEv2, Lyrics3v2, ID3v1), i.e. the MPEG frames.
 */
#include <string.h>

#include "core/findings_internal.h"
#include "core/internal.h"
#include "core/io_internal.h"
#include "format.h"
#include "id3.h"

#define MAX_LEADING_TAGS 8
#define MAX_TRAILERS 8

typedef struct mp3_tag {
	uint64_t off, len;
	int has_aigc;
} mp3_tag;

typedef struct mp3_layout {
	mp3_tag lead[MAX_LEADING_TAGS];
	size_t n_lead;
	int has_tail;
	mp3_tag tail; /* ID3v2 tag with a footer after the audio */
	uint64_t audio_start, audio_end, file_size;
} mp3_layout;

static void layout_free(void *p) { aimark__free(p); }

static int mpeg_sync(const unsigned char *h)
{
	return h[0] == 0xFF && (h[1] & 0xE0) == 0xE0 && ((h[1] >> 3) & 3) != 1 && ((h[1] >> 1) & 3) != 0 &&
	       (h[2] >> 4) != 15 && ((h[2] >> 2) & 3) != 3;
}

static int mp3_probe(const unsigned char *h, size_t len)
{
	if (len >= 10 && memcmp(h, "ID3", 3) == 0 && h[3] >= 2 && h[3] <= 4)
		return 1;
	return len >= 4 && mpeg_sync(h);
}

static int load(aimark_source *src, uint64_t off, uint64_t len, aimark_buf *b)
{
	RETURN_IF(len > AIMARK__MAX_METADATA_BLOCK, AIMARK_ELIMIT, "MP3: %llu-byte ID3v2 tag at offset %llu exceeds the %u-byte limit",
		  (unsigned long long)len, (unsigned long long)off, AIMARK__MAX_METADATA_BLOCK);
	aimark__buf_clear(b);
	RETURN_IF_ERR(aimark__buf_reserve(b, (size_t)len));
	RETURN_IF_ERR(aimark_source_read(src, off, b->ptr, (size_t)len));
	b->size = (size_t)len;
	return 0;
}

static int read_tag(aimark_source *src, aimark__meta *meta, mp3_tag *t, aimark_buf *tmp)
{
	RETURN_IF_ERR(load(src, t->off, t->len, tmp));
	int n = aimark__id3_find_aigc(tmp->ptr, tmp->size, "MP3", t->off, meta);
	RETURN_IF_ERR(n);
	t->has_aigc = n > 0;
	return 0;
}

static int find_leading(aimark_source *src, aimark__meta *meta, mp3_layout *l, aimark_buf *tmp)
{
	uint64_t pos = 0;
	while (l->file_size - pos >= AIMARK__ID3_HEADER_SIZE) {
		unsigned char h[AIMARK__ID3_HEADER_SIZE];
		uint64_t total;
		RETURN_IF_ERR(aimark_source_read(src, pos, h, sizeof h));
		if (memcmp(h, "ID3", 3) != 0)
			break;
		RETURN_IF(l->n_lead == MAX_LEADING_TAGS, AIMARK_ELIMIT, "MP3: more than %d ID3v2 tags at the start", MAX_LEADING_TAGS);
		RETURN_IF(aimark__id3_header_parse(h, 0, &total) != 0, AIMARK_EFORMAT,
			  "MP3: invalid ID3v2 header at offset %llu (version 2.%u, size bytes not syncsafe?)",
			  (unsigned long long)pos, h[3]);
		RETURN_IF(total > l->file_size - pos, AIMARK_EFORMAT,
			  "MP3: ID3v2 tag at offset %llu declares %llu bytes but %llu remain", (unsigned long long)pos,
			  (unsigned long long)total, (unsigned long long)(l->file_size - pos));
		mp3_tag *t = &l->lead[l->n_lead++];
		t->off = pos;
		t->len = total;
		RETURN_IF_ERR(read_tag(src, meta, t, tmp));
		pos += total;
	}
	l->audio_start = pos;
	return 0;
}

static int at_end(aimark_source *src, uint64_t end, size_t n, const char *magic)
{
	unsigned char b[16];
	return end >= n && aimark_source_read(src, end - n, b, strlen(magic)) == 0 && memcmp(b, magic, strlen(magic)) == 0;
}

/* Strips trailing tags from the end of the audio; the appended ID3v2 tag is read. */
static int find_trailing(aimark_source *src, aimark__meta *meta, mp3_layout *l, aimark_buf *tmp)
{
	uint64_t end = l->file_size;
	int v1 = 0;
	for (int i = 0; i < MAX_TRAILERS; i++) {
		uint64_t room = end - l->audio_start;
		unsigned char b[32];
		if (!v1 && room >= 128 && at_end(src, end, 128, "TAG")) {
			end -= 128;
			v1 = 1;
			continue;
		}
		if (room >= 32 && at_end(src, end, 32, "APETAGEX")) {
			RETURN_IF_ERR(aimark_source_read(src, end - 32, b, 32));
			uint64_t total = (uint64_t)aimark__le32(b + 12) + ((aimark__le32(b + 20) & 0x80000000u) ? 32 : 0);
			if (total >= 32 && total <= room) {
				end -= total;
				continue;
			}
			break;
		}
		if (room >= 15 && at_end(src, end, 9, "LYRICS200")) {
			RETURN_IF_ERR(aimark_source_read(src, end - 15, b, 6));
			uint64_t n = 0;
			int ok = 1;
			for (int k = 0; k < 6; k++) {
				ok &= b[k] >= '0' && b[k] <= '9';
				n = n * 10 + (uint64_t)(b[k] - '0');
			}
			if (ok && n + 15 <= room && at_end(src, end - 15 - n + 11, 11, "LYRICSBEGIN")) {
				end -= n + 15;
				continue;
			}
			break;
		}
		if (!l->has_tail && room >= 20 && at_end(src, end, 10, "3DI")) {
			uint64_t total, head_total;
			RETURN_IF_ERR(aimark_source_read(src, end - 10, b, 10));
			if (aimark__id3_header_parse(b, 1, &total) != 0 || total > room)
				break;
			RETURN_IF_ERR(aimark_source_read(src, end - total, b, 10));
			/* the header must declare the footer's size, or the tag would start elsewhere */
			if (aimark__id3_header_parse(b, 0, &head_total) != 0 || head_total != total)
				break;
			l->has_tail = 1;
			l->tail.off = end - total;
			l->tail.len = total;
			RETURN_IF_ERR(read_tag(src, meta, &l->tail, tmp));
			end -= total;
			continue;
		}
		break;
	}
	l->audio_end = end;
	return 0;
}

static int mp3_read(aimark_source *src, aimark__meta *meta)
{
	mp3_layout *l = aimark__calloc(1, sizeof *l);
	RETURN_ENOMEM_IF_NULL(l);
	l->file_size = aimark_source_size(src);
	aimark_buf tmp = AIMARK_BUF_INIT;
	int rc = find_leading(src, meta, l, &tmp);
	if (rc >= 0) {
		unsigned char h[4] = { 0 };
		uint64_t left = l->file_size - l->audio_start;
		if (left >= 4)
			rc = aimark_source_read(src, l->audio_start, h, 4);
		if (rc >= 0 && left >= 4 && memcmp(h, "fLaC", 4) == 0)
			rc = aimark__error_set(AIMARK_EUNSUPPORTED, "MP3: FLAC data follows the ID3v2 tag at offset %llu; handle the file as FLAC",
					       (unsigned long long)l->audio_start);
		else if (rc >= 0 && l->n_lead == 0 && (left < 4 || !mpeg_sync(h)))
			rc = aimark__error_set(AIMARK_EFORMAT, "MP3: neither an ID3v2 tag nor an MPEG audio frame at offset 0");
	}
	if (rc >= 0)
		rc = find_trailing(src, meta, l, &tmp);
	if (rc >= 0)
		rc = aimark__meta_add_essence(meta, l->audio_start, l->audio_end - l->audio_start);
	aimark_buf_dispose(&tmp);
	if (rc < 0) {
		layout_free(l);
		return rc;
	}
	meta->priv = l;
	meta->priv_free = layout_free;
	return 0;
}

/*
 * Writes tag `t` with the label set, or a new v2.4 tag when `t` is NULL.
 * A leading tag that cannot be rewritten (compressed v2.2, a damaged
 * extended header) gets a new tag in front of it, while the file has room
 * for one more leading tag (`n_lead` so far).
 */
static int write_tag(aimark_source *src, const mp3_tag *t, size_t n_lead, const aimark__label_write *lw, aimark_sink *sink)
{
	aimark_buf old = AIMARK_BUF_INIT, out = AIMARK_BUF_INIT;
	int rc = t ? load(src, t->off, t->len, &old) : 0;
	if (rc >= 0)
		rc = aimark__id3_set_aigc(t ? old.ptr : NULL, old.size, "MP3", lw->bare_json, lw->bare_len, &out);
	if ((rc == AIMARK_EUNSUPPORTED || rc == AIMARK_EFORMAT) && t && n_lead < MAX_LEADING_TAGS) {
		/* a tag we cannot rewrite (compressed v2.2, damaged): put a new one in front of it, keep it */
		rc = aimark__id3_set_aigc(NULL, 0, "MP3", lw->bare_json, lw->bare_len, &out);
		if (rc >= 0)
			rc = aimark__buf_append(&out, old.ptr, old.size);
	}
	if (rc >= 0)
		rc = aimark_sink_write(sink, out.ptr, out.size);
	aimark_buf_dispose(&old);
	aimark_buf_dispose(&out);
	return rc;
}

static int mp3_write(aimark_source *src, const aimark__meta *meta, const aimark__label_provider *label, aimark_sink *sink)
{
	const mp3_layout *l = meta->priv;
	RETURN_IF(l == NULL, AIMARK_EINVAL, "MP3: write without a successful read");
	const aimark__label_write *lw;
	RETURN_IF_ERR(label->get(label->ctx, &lw));
	if (l->n_lead == 0)
		RETURN_IF_ERR(write_tag(src, NULL, 0, lw, sink));
	for (size_t i = 0; i < l->n_lead; i++) {
		if (i == 0 || l->lead[i].has_aigc)
			RETURN_IF_ERR(write_tag(src, &l->lead[i], l->n_lead, lw, sink));
		else
			RETURN_IF_ERR(aimark__sink_copy_range(sink, src, l->lead[i].off, l->lead[i].len));
	}
	if (l->has_tail && l->tail.has_aigc) {
		RETURN_IF_ERR(aimark__sink_copy_range(sink, src, l->audio_start, l->tail.off - l->audio_start));
		RETURN_IF_ERR(write_tag(src, &l->tail, MAX_LEADING_TAGS, lw, sink));
		uint64_t after = l->tail.off + l->tail.len;
		return aimark__sink_copy_range(sink, src, after, l->file_size - after);
	}
	return aimark__sink_copy_range(sink, src, l->audio_start, l->file_size - l->audio_start);
}

static const char *const mp3_extensions[] = { "mp3", "mp2", "mpga", NULL };

const aimark__format_ops aimark__format_mp3 = {
	.name = "mp3",
	.extensions = mp3_extensions,
	.probe = mp3_probe,
	.read = mp3_read,
	.write = mp3_write,
};

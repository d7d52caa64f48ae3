/*
 * JUMBF boxes (ISO/IEC 19566-5) as C2PA uses them: a bounded reader that
 * builds a box tree over borrowed bytes, and small writers. JUMBF has no
 * maintained C library, so this is written here.
 */
#include <string.h>

#include "c2pa/c2pa_internal.h"
#include "core/internal.h"

static const unsigned char c2pa_uuid_tail[12] = { 0x00, 0x11, 0x00, 0x10, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71 };

void aimark__jumbf_uuid(unsigned char out[16], const char *four)
{
	memcpy(out, four, 4);
	memcpy(out + 4, c2pa_uuid_tail, sizeof c2pa_uuid_tail);
}

void aimark__jumbf_dispose(aimark__jumbf *j)
{
	aimark__free(j->box);
	memset(j, 0, sizeof *j);
}

static int add_box(aimark__jumbf *j, size_t *index)
{
	RETURN_IF(j->n >= AIMARK__JUMBF_MAX_BOXES, AIMARK_ELIMIT, "JUMBF: more than %d boxes", AIMARK__JUMBF_MAX_BOXES);
	RETURN_IF_ARRAY_FULL_GROW(j->box, j->cap, j->n, 32);
	memset(&j->box[j->n], 0, sizeof j->box[j->n]);
	j->box[j->n].parent = j->box[j->n].first = j->box[j->n].next = AIMARK__JNONE;
	*index = j->n++;
	return 0;
}

/* Reads a box header at `off` within [off, end). */
static int box_header(const unsigned char *d, size_t off, size_t end, uint32_t *type, size_t *size, size_t *hdr)
{
	RETURN_IF(end - off < 8, AIMARK_EFORMAT, "JUMBF: truncated box header at offset %zu", off);
	uint64_t len = aimark__be32(d + off);
	*type = aimark__be32(d + off + 4);
	*hdr = 8;
	if (len == 1) {
		RETURN_IF(end - off < 16, AIMARK_EFORMAT, "JUMBF: truncated 64-bit box size at offset %zu", off);
		len = aimark__be64(d + off + 8);
		*hdr = 16;
	} else if (len == 0) {
		len = end - off; /* to the end of the enclosing box */
	}
	RETURN_IF(len < *hdr, AIMARK_EFORMAT, "JUMBF: box size %llu at offset %zu is smaller than its header",
		  (unsigned long long)len, off);
	RETURN_IF(len > end - off, AIMARK_EFORMAT, "JUMBF: box size %llu at offset %zu passes the end of its parent (%zu bytes left)",
		  (unsigned long long)len, off, end - off);
	*size = (size_t)len;
	return 0;
}

/* The description box at the start of superbox `sb`. */
static int parse_jumd(aimark__jumbf *j, size_t sb, size_t off, size_t size, size_t hdr)
{
	aimark__jbox *b = &j->box[sb];
	const unsigned char *p = j->data + off + hdr;
	size_t n = size - hdr;
	RETURN_IF(n < 17, AIMARK_EFORMAT, "JUMBF: description box at offset %zu is %zu bytes, 17 at least", off, n);
	memcpy(b->uuid, p, 16);
	b->toggles = p[16];
	size_t pos = 17;
	if (b->toggles & 0x02) {
		const unsigned char *nul = memchr(p + pos, 0, n - pos);
		RETURN_IF(nul == NULL, AIMARK_EFORMAT, "JUMBF: label at offset %zu is not NUL-terminated", off + hdr + pos);
		b->has_label = 1;
		b->label_off = off + hdr + pos;
		b->label_len = (size_t)(nul - (p + pos));
		pos += b->label_len + 1;
	}
	if (b->toggles & 0x04) {
		RETURN_IF(n - pos < 4, AIMARK_EFORMAT, "JUMBF: description box at offset %zu lacks its ID", off);
		pos += 4;
	}
	if (b->toggles & 0x08) {
		RETURN_IF(n - pos < 32, AIMARK_EFORMAT, "JUMBF: description box at offset %zu lacks its signature", off);
		pos += 32;
	}
	if (b->toggles & 0x10) {
		uint32_t type;
		size_t psize, phdr;
		RETURN_IF_ERR(box_header(j->data, off + hdr + pos, off + size, &type, &psize, &phdr));
		if (type == AIMARK__4CC("c2sh")) {
			b->has_salt = 1;
			b->salt_off = off + hdr + pos + phdr;
			b->salt_len = psize - phdr;
		}
	}
	return 0;
}

static int parse_super(aimark__jumbf *j, size_t off, size_t size, size_t hdr, size_t parent, int depth, size_t *index)
{
	RETURN_IF(depth > AIMARK__JUMBF_MAX_DEPTH, AIMARK_ELIMIT, "JUMBF: superboxes nested deeper than %d at offset %zu",
		  AIMARK__JUMBF_MAX_DEPTH, off);
	size_t sb;
	RETURN_IF_ERR(add_box(j, &sb));
	j->box[sb].type = AIMARK__4CC("jumb");
	j->box[sb].off = off;
	j->box[sb].size = size;
	j->box[sb].hdr = hdr;
	j->box[sb].parent = parent;
	*index = sb;

	size_t pos = off + hdr, end = off + size, last = AIMARK__JNONE;
	int first = 1;
	while (pos < end) {
		uint32_t type;
		size_t bsize, bhdr, child;
		RETURN_IF_ERR(box_header(j->data, pos, end, &type, &bsize, &bhdr));
		if (first) {
			RETURN_IF(type != AIMARK__4CC("jumd"), AIMARK_EFORMAT,
				  "JUMBF: superbox at offset %zu does not start with a description box", off);
			RETURN_IF_ERR(parse_jumd(j, sb, pos, bsize, bhdr));
			first = 0;
			pos += bsize;
			continue;
		}
		if (type == AIMARK__4CC("jumb")) {
			RETURN_IF_ERR(parse_super(j, pos, bsize, bhdr, sb, depth + 1, &child));
		} else {
			RETURN_IF_ERR(add_box(j, &child));
			j->box[child].type = type;
			j->box[child].off = pos;
			j->box[child].size = bsize;
			j->box[child].hdr = bhdr;
			j->box[child].parent = sb;
		}
		if (last == AIMARK__JNONE)
			j->box[sb].first = child;
		else
			j->box[last].next = child;
		last = child;
		pos += bsize;
	}
	RETURN_IF(first, AIMARK_EFORMAT, "JUMBF: empty superbox at offset %zu", off);
	return 0;
}

int aimark__jumbf_parse(aimark__jumbf *j, const unsigned char *data, size_t len)
{
	memset(j, 0, sizeof *j);
	j->data = data;
	j->len = len;
	uint32_t type;
	size_t size, hdr, root;
	int rc = box_header(data, 0, len, &type, &size, &hdr);
	if (rc == 0 && type != AIMARK__4CC("jumb"))
		rc = aimark__error_set(AIMARK_EFORMAT, "JUMBF: the manifest store does not start with a superbox");
	if (rc == 0)
		rc = parse_super(j, 0, size, hdr, AIMARK__JNONE, 0, &root);
	if (rc < 0)
		aimark__jumbf_dispose(j);
	return rc;
}

int aimark__jumbf_label_is(const aimark__jumbf *j, size_t i, const char *label)
{
	if (i == AIMARK__JNONE || !j->box[i].has_label)
		return 0;
	size_t n = strlen(label);
	return j->box[i].label_len == n && memcmp(j->data + j->box[i].label_off, label, n) == 0;
}

char *aimark__jumbf_label_dup(const aimark__jumbf *j, size_t i)
{
	if (i == AIMARK__JNONE || !j->box[i].has_label)
		return aimark__strdup("");
	return aimark__strndup((const char *)j->data + j->box[i].label_off, j->box[i].label_len);
}

size_t aimark__jumbf_child(const aimark__jumbf *j, size_t parent, const char *label)
{
	if (parent == AIMARK__JNONE)
		return AIMARK__JNONE;
	for (size_t c = j->box[parent].first; c != AIMARK__JNONE; c = j->box[c].next)
		if (j->box[c].type == AIMARK__4CC("jumb") && aimark__jumbf_label_is(j, c, label))
			return c;
	return AIMARK__JNONE;
}

size_t aimark__jumbf_content(const aimark__jumbf *j, size_t parent, uint32_t type)
{
	if (parent == AIMARK__JNONE)
		return AIMARK__JNONE;
	for (size_t c = j->box[parent].first; c != AIMARK__JNONE; c = j->box[c].next)
		if (j->box[c].type == type)
			return c;
	return AIMARK__JNONE;
}

const unsigned char *aimark__jumbf_payload(const aimark__jumbf *j, size_t i, size_t *len)
{
	*len = j->box[i].size - j->box[i].hdr;
	return j->data + j->box[i].off + j->box[i].hdr;
}

int aimark__jumbf_is(const aimark__jumbf *j, size_t i, const char *four)
{
	unsigned char u[16];
	aimark__jumbf_uuid(u, four);
	return i != AIMARK__JNONE && j->box[i].type == AIMARK__4CC("jumb") && memcmp(j->box[i].uuid, u, 16) == 0;
}

int aimark__jumbf_begin(aimark_buf *b, const char *type, size_t *start)
{
	*start = b->size;
	unsigned char h[8] = { 0, 0, 0, 0 };
	memcpy(h + 4, type, 4);
	return aimark__buf_append(b, h, 8);
}

int aimark__jumbf_end(aimark_buf *b, size_t start)
{
	size_t len = b->size - start;
	RETURN_IF(len > UINT32_MAX, AIMARK_ELIMIT, "JUMBF: box larger than 4 GiB");
	aimark__put_be32(b->ptr + start, (uint32_t)len);
	return 0;
}

int aimark__jumbf_put_jumd(aimark_buf *b, const unsigned char uuid[16], const char *label)
{
	size_t start;
	static const unsigned char toggles = 0x03;
	RETURN_IF_ERR(aimark__jumbf_begin(b, "jumd", &start));
	RETURN_IF_ERR(aimark__buf_append(b, uuid, 16));
	RETURN_IF_ERR(aimark__buf_append(b, &toggles, 1));
	RETURN_IF_ERR(aimark__buf_append(b, label, strlen(label) + 1));
	return aimark__jumbf_end(b, start);
}

int aimark__jumbf_put_box(aimark_buf *b, const char *type, const void *data, size_t len)
{
	size_t start;
	RETURN_IF_ERR(aimark__jumbf_begin(b, type, &start));
	RETURN_IF_ERR(aimark__buf_append(b, data, len));
	return aimark__jumbf_end(b, start);
}

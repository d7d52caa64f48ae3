/*
 * The output of a C2PA carrier as a list of pieces instead of a copy of the
 * file: most of a signed file is the input unchanged, so a piece refers to
 * the input, to the manifest store, or to the few bytes the carrier made
 * (headers, a rewritten moov). Hashing and writing walk the pieces; nothing
 * holds a second copy of the file.
 */
#include <string.h>

#include "c2pa/c2pa_internal.h"
#include "core/internal.h"

enum { PIECE_INPUT, PIECE_STORE, PIECE_OWN };

void aimark__c2pa_out_init(aimark__c2pa_out *o, const unsigned char *input, size_t input_len, const unsigned char *store,
			   size_t store_len)
{
	memset(o, 0, sizeof *o);
	o->input = input;
	o->input_len = input_len;
	o->store = store;
	o->store_len = store_len;
}

void aimark__c2pa_out_dispose(aimark__c2pa_out *o)
{
	aimark__free(o->piece);
	aimark_buf_dispose(&o->own);
	memset(o, 0, sizeof *o);
}

static const unsigned char *piece_bytes(const aimark__c2pa_out *o, const aimark__c2pa_piece *p)
{
	switch (p->kind) {
	case PIECE_INPUT: return o->input + p->from;
	case PIECE_STORE: return o->store + p->from;
	default: return o->own.ptr + p->from;
	}
}

static int add_piece(aimark__c2pa_out *o, int kind, size_t from, size_t n)
{
	if (n == 0)
		return 0;
	RETURN_IF((uint64_t)n > UINT64_MAX - o->size, AIMARK_ELIMIT, "C2PA: output too large");
	if (o->n > 0) {
		aimark__c2pa_piece *last = &o->piece[o->n - 1];
		if (last->kind == kind && last->from + last->len == from) {
			last->len += n;
			o->size += n;
			return 0;
		}
	}
	RETURN_IF_ARRAY_FULL_GROW(o->piece, o->cap, o->n, 16);
	o->piece[o->n++] = (aimark__c2pa_piece){ kind, from, o->size, n };
	o->size += n;
	return 0;
}

static int within(const unsigned char *p, size_t n, const unsigned char *base, size_t len)
{
	return base != NULL && p >= base && p <= base + len && n <= (size_t)(base + len - p);
}

int aimark__c2pa_out_append(aimark__c2pa_out *o, const void *data, size_t n)
{
	const unsigned char *p = data;
	if (n > 0 && within(p, n, o->input, o->input_len))
		return add_piece(o, PIECE_INPUT, (size_t)(p - o->input), n);
	if (n > 0 && within(p, n, o->store, o->store_len))
		return add_piece(o, PIECE_STORE, (size_t)(p - o->store), n);
	return aimark__c2pa_out_append_copy(o, data, n);
}

int aimark__c2pa_out_append_copy(aimark__c2pa_out *o, const void *data, size_t n)
{
	size_t from = o->own.size;
	RETURN_IF_ERR(aimark__buf_append(&o->own, data, n));
	return add_piece(o, PIECE_OWN, from, n);
}

/* The piece holding output byte `pos` (binary search; pieces are in output order). */
static size_t find_piece(const aimark__c2pa_out *o, uint64_t pos)
{
	size_t lo = 0, hi = o->n;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (o->piece[mid].at <= pos)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

unsigned char *aimark__c2pa_out_own_at(aimark__c2pa_out *o, uint64_t pos, size_t n)
{
	if (o->n == 0 || pos >= o->size)
		return NULL;
	const aimark__c2pa_piece *p = &o->piece[find_piece(o, pos)];
	if (p->kind != PIECE_OWN || pos - p->at >= p->len || n > p->len - (pos - p->at))
		return NULL;
	return o->own.ptr + p->from + (pos - p->at);
}

static int read_at(void *user, uint64_t offset, void *dst, size_t len)
{
	const aimark__c2pa_out *o = user;
	if (offset > o->size || len > o->size - offset)
		return -1;
	unsigned char *d = dst;
	size_t i = len ? find_piece(o, offset) : 0;
	while (len > 0) {
		const aimark__c2pa_piece *p = &o->piece[i++];
		size_t skip = (size_t)(offset - p->at), n = p->len - skip;
		if (n > len)
			n = len;
		memcpy(d, piece_bytes(o, p) + skip, n);
		d += n;
		offset += n;
		len -= n;
	}
	return 0;
}

int aimark__c2pa_out_source(const aimark__c2pa_out *o, aimark_source **src)
{
	aimark_source_callbacks cb = { AIMARK_SOURCE_CALLBACKS_VERSION, read_at, o->size, (void *)o, NULL };
	return aimark_source_new_callbacks(src, &cb);
}

int aimark__c2pa_out_write(const aimark__c2pa_out *o, aimark_sink *sink)
{
	for (size_t i = 0; i < o->n; i++)
		RETURN_IF_ERR(aimark_sink_write(sink, piece_bytes(o, &o->piece[i]), o->piece[i].len));
	return 0;
}

/*
 * MP4 / QuickTime / M4A / 3GP (ISO base media file format) backend.
 *
 * Reading walks the top-level boxes and the movie box tree and finds the
 * label in:
 *  - meta boxes (moov/udta/meta as TC260-PG-20257A says, but also moov/meta,
 *    trak/udta/meta and file-level meta; ISO FullBox or QuickTime form):
 *    the ilst item whose key (keys box) is "AIGC", a freeform '----' item
 *    named AIGC, or an unkeyed item whose text is a label (Doubao iOS);
 *  - XMP: the top-level uuid box BE7ACFCB-97A9-42E8-9C71-999491E3AFAC, and
 *    moov/udta/XMP_ (QuickTime).
 * The essence is the payload of every mdat box (sample data only), so edits
 * to the movie box leave it unchanged.
 *
 * Writing merges the label into moov/udta/meta (handler mdta, keys + ilst),
 * rewrites every other label item and XMP packet, and creates an XMP packet
 * when there is none (top-level uuid box after moov for MP4, moov/udta/XMP_
 * for QuickTime files). The movie box is streamed: only meta and XMP boxes
 * are held in memory. When boxes ahead of sample data change size, every
 * absolute offset is moved by the growth: stco/co64 (stco becomes co64 when
 * a value would pass 32 bits), saio in sample tables, tfhd base-data-offset
 * in movie fragments, and tfra entries. When moov follows all mdat boxes,
 * the sample data is copied first while it is hashed, so large files are
 * read once. Free space reserved right after moov takes the growth when it
 * is big enough, and then nothing moves.
 */
#include <string.h>
#include <strings.h>

#include "bmff.h"
#include "core/findings_internal.h"
#include "core/internal.h"
#include "core/io_internal.h"
#include "format.h"
#include "xmp.h"

#define CARRIER_MP4_KEYS "mp4-keys" /* ilst item under the mdta key AIGC */
#define CARRIER_MP4_ITEM "mp4-ilst" /* ilst item found by name ('----') or by content */

#define MP4_MAX_TOP_BOXES (1u << 20)
#define MP4_MAX_NODES (1u << 16)
#define MP4_MAX_KEYS 65536u
#define MP4_MAX_LOADED ((uint64_t)AIMARK__MAX_METADATA_BLOCK) /* meta, XMP, moof, mfra, saio held whole */
#define MP4_MAX_FILE (UINT64_C(1) << 62)
#define MP4_COPY_CHUNK (64 * 1024)
#define MP4_MAX_REWRITTEN (UINT64_C(64) << 20) /* all rewritten meta and XMP boxes together */

#define T_FTYP AIMARK__FOURCC('f', 't', 'y', 'p')
#define T_MOOV AIMARK__FOURCC('m', 'o', 'o', 'v')
#define T_MDAT AIMARK__FOURCC('m', 'd', 'a', 't')
#define T_MOOF AIMARK__FOURCC('m', 'o', 'o', 'f')
#define T_MFRA AIMARK__FOURCC('m', 'f', 'r', 'a')
#define T_TRAF AIMARK__FOURCC('t', 'r', 'a', 'f')
#define T_TFHD AIMARK__FOURCC('t', 'f', 'h', 'd')
#define T_TFRA AIMARK__FOURCC('t', 'f', 'r', 'a')
#define T_TRAK AIMARK__FOURCC('t', 'r', 'a', 'k')
#define T_MDIA AIMARK__FOURCC('m', 'd', 'i', 'a')
#define T_MINF AIMARK__FOURCC('m', 'i', 'n', 'f')
#define T_STBL AIMARK__FOURCC('s', 't', 'b', 'l')
#define T_STCO AIMARK__FOURCC('s', 't', 'c', 'o')
#define T_CO64 AIMARK__FOURCC('c', 'o', '6', '4')
#define T_SAIO AIMARK__FOURCC('s', 'a', 'i', 'o')
#define T_UDTA AIMARK__FOURCC('u', 'd', 't', 'a')
#define T_META AIMARK__FOURCC('m', 'e', 't', 'a')
#define T_HDLR AIMARK__FOURCC('h', 'd', 'l', 'r')
#define T_KEYS AIMARK__FOURCC('k', 'e', 'y', 's')
#define T_ILST AIMARK__FOURCC('i', 'l', 's', 't')
#define T_DATA AIMARK__FOURCC('d', 'a', 't', 'a')
#define T_NAME AIMARK__FOURCC('n', 'a', 'm', 'e')
#define T_FREEFORM AIMARK__FOURCC('-', '-', '-', '-')
#define T_MDTA AIMARK__FOURCC('m', 'd', 't', 'a')
#define T_UUID AIMARK__FOURCC('u', 'u', 'i', 'd')
#define T_XMP_ AIMARK__FOURCC('X', 'M', 'P', '_')
#define T_QT AIMARK__FOURCC('q', 't', ' ', ' ')

/* ---------------------------------------------------------------- layout */

enum node_kind { NK_LEAF, NK_CONTAINER, NK_META, NK_XMP, NK_STCO, NK_CO64, NK_SAIO };

/* One box of the movie box tree, in pre-order; nodes[0] is moov. */
typedef struct mp4_node {
	aimark__bmff_box box;
	uint32_t parent;     /* UINT32_MAX for moov */
	uint32_t n_desc;     /* descendants following this node in the array */
	uint8_t kind;
	uint8_t has_label;   /* META / XMP: holds an AIGC label */
	uint8_t meta_ok;     /* META: parsed; may be rewritten */
	uint8_t meta_mdta;   /* META: handler 'mdta' and the AIGC key can be merged in */
	uint64_t tail_off;   /* CONTAINER: bytes after the last child (QuickTime 0 terminator) */
	uint64_t tail_len;
	uint32_t count;      /* STCO / CO64: entries */
} mp4_node;

enum top_kind { TK_OTHER, TK_MDAT, TK_MOOV, TK_XMP, TK_META, TK_MOOF, TK_MFRA };

typedef struct mp4_top {
	aimark__bmff_box box;
	uint8_t kind;
	uint8_t has_label; /* TK_META: holds a label; TK_XMP: parsed */
} mp4_top;

typedef struct mp4_layout {
	uint64_t file_size;
	int quicktime;      /* major brand 'qt  ' or no ftyp: XMP goes to moov/udta/XMP_ */
	int fragmented;
	mp4_top *top;
	size_t n_top, cap_top;
	size_t moov;        /* index into top */
	mp4_node *nodes;
	size_t n_nodes, cap_nodes;
	size_t primary;     /* node: moov/udta/meta with handler mdta, or SIZE_MAX */
	size_t udta;        /* node: first moov/udta, or SIZE_MAX */
	size_t n_xmp;       /* XMP boxes found (top-level and in moov) */
} mp4_layout;

static void layout_free(void *p)
{
	mp4_layout *lay = p;
	if (lay == NULL)
		return;
	aimark__free(lay->top);
	aimark__free(lay->nodes);
	aimark__free(lay);
}

static int add_top(mp4_layout *lay, const aimark__bmff_box *box, uint8_t kind)
{
	RETURN_IF(lay->n_top >= MP4_MAX_TOP_BOXES, AIMARK_ELIMIT, "MP4: more than %u top-level boxes (at offset %llu)",
		  MP4_MAX_TOP_BOXES, (unsigned long long)box->offset);
	RETURN_IF_ARRAY_FULL_GROW(lay->top, lay->cap_top, lay->n_top, 16);
	lay->top[lay->n_top++] = (mp4_top){ *box, kind, 0 };
	return 0;
}

static int add_node(mp4_layout *lay, const aimark__bmff_box *box, uint32_t parent, size_t *idx)
{
	RETURN_IF(lay->n_nodes >= MP4_MAX_NODES, AIMARK_ELIMIT, "MP4: more than %u boxes in the movie box (at offset %llu)",
		  MP4_MAX_NODES, (unsigned long long)box->offset);
	RETURN_IF_ARRAY_FULL_GROW(lay->nodes, lay->cap_nodes, lay->n_nodes, 64);
	memset(&lay->nodes[lay->n_nodes], 0, sizeof lay->nodes[0]);
	lay->nodes[lay->n_nodes].box = *box;
	lay->nodes[lay->n_nodes].parent = parent;
	*idx = lay->n_nodes++;
	return 0;
}

/* Loads the payload of a box (after its header, uuid included) into `buf`. */
static int load_payload(aimark_source *src, const aimark__bmff_box *box, aimark_buf *buf)
{
	char tn[16];
	uint64_t len = box->size - box->hdr_len;
	RETURN_IF(len > MP4_MAX_LOADED, AIMARK_ELIMIT, "MP4: box %s at offset %llu holds %llu bytes, over the %llu-byte limit",
		  aimark__bmff_type_name(box->type, tn), (unsigned long long)box->offset, (unsigned long long)len,
		  (unsigned long long)MP4_MAX_LOADED);
	aimark__buf_clear(buf);
	RETURN_IF_ERR(aimark__buf_reserve(buf, (size_t)len));
	RETURN_IF_ERR(aimark_source_read(src, box->offset + box->hdr_len, buf->ptr, (size_t)len));
	buf->size = (size_t)len;
	buf->ptr[len] = '\0';
	return 0;
}

/* ------------------------------------------------------------ meta boxes */

typedef struct meta_key {
	size_t pos;        /* entry start in the meta payload */
	size_t len;        /* whole entry */
	uint32_t ns;
	size_t name_pos, name_len;
	int aigc;
} meta_key;

/* A parsed meta box payload held in memory. Positions are into `m`. */
typedef struct meta_view {
	const unsigned char *m;
	size_t len;
	uint64_t base;      /* file offset of m[0] */
	int fullbox;
	size_t first_child; /* 4 for a FullBox, 0 for the QuickTime form */
	uint32_t handler;
	int has_keys, has_ilst;
	aimark__bmff_box keys_box, ilst_box; /* offsets are file offsets */
	meta_key *keys;
	uint32_t n_keys;
} meta_view;

static void meta_view_dispose(meta_view *v)
{
	aimark__free(v->keys);
	v->keys = NULL;
}

static size_t rel(const meta_view *v, uint64_t file_off) { return (size_t)(file_off - v->base); }

/* Child types that can start a QuickTime-form meta (no version/flags). */
static int is_meta_child_type(uint32_t t)
{
	static const uint32_t known[] = {
		T_HDLR, T_KEYS, T_ILST, AIMARK__FOURCC('f', 'r', 'e', 'e'), AIMARK__FOURCC('x', 'm', 'l', ' '),
		AIMARK__FOURCC('i', 'l', 'o', 'c'), AIMARK__FOURCC('i', 'i', 'n', 'f'), AIMARK__FOURCC('p', 'i', 't', 'm'),
		AIMARK__FOURCC('i', 'd', 'a', 't'), AIMARK__FOURCC('I', 'D', '3', '2'), AIMARK__FOURCC('c', 't', 'r', 'y'),
		AIMARK__FOURCC('l', 'a', 'n', 'g'),
	};
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
		if (t == known[i])
			return 1;
	return 0;
}

static int key_is_aigc(const unsigned char *name, size_t len, int *exact)
{
	*exact = len == 4 && memcmp(name, "AIGC", 4) == 0;
	if (len == 4 && strncasecmp((const char *)name, "AIGC", 4) == 0)
		return 1;
	/* reverse-DNS keys ending in ".AIGC" */
	return len > 5 && name[len - 5] == '.' && strncasecmp((const char *)name + len - 4, "AIGC", 4) == 0;
}

static int parse_keys(meta_view *v)
{
	const unsigned char *m = v->m;
	size_t pos = rel(v, v->keys_box.offset) + v->keys_box.hdr_len;
	size_t end = rel(v, v->keys_box.offset) + (size_t)v->keys_box.size;
	RETURN_IF(end - pos < 8, AIMARK_EFORMAT, "MP4: 'keys' box at offset %llu is too short",
		  (unsigned long long)v->keys_box.offset);
	uint32_t count = aimark__be32(m + pos + 4);
	pos += 8;
	RETURN_IF(count > MP4_MAX_KEYS || count > (end - pos) / 8, AIMARK_EFORMAT,
		  "MP4: 'keys' box at offset %llu lists %u keys, more than it can hold", (unsigned long long)v->keys_box.offset,
		  count);
	v->keys = aimark__calloc(count ? count : 1, sizeof *v->keys);
	RETURN_ENOMEM_IF_NULL(v->keys);
	for (uint32_t i = 0; i < count; i++) {
		RETURN_IF(end - pos < 8, AIMARK_EFORMAT, "MP4: 'keys' entry %u at offset %llu is truncated", i + 1,
			  (unsigned long long)(v->base + pos));
		uint32_t ksize = aimark__be32(m + pos);
		RETURN_IF(ksize < 8 || ksize > end - pos, AIMARK_EFORMAT,
			  "MP4: 'keys' entry %u at offset %llu declares %u bytes (%zu remain)", i + 1,
			  (unsigned long long)(v->base + pos), ksize, end - pos);
		meta_key *k = &v->keys[i];
		int exact;
		k->pos = pos;
		k->len = ksize;
		k->ns = aimark__be32(m + pos + 4);
		k->name_pos = pos + 8;
		k->name_len = ksize - 8;
		k->aigc = key_is_aigc(m + k->name_pos, k->name_len, &exact);
		pos += ksize;
	}
	v->n_keys = count;
	return 0;
}

/* Parses a meta payload (everything after the meta box header). */
static int meta_parse(const unsigned char *m, size_t len, uint64_t base, meta_view *v)
{
	memset(v, 0, sizeof *v);
	v->m = m;
	v->len = len;
	v->base = base;
	v->fullbox = 1;
	if (len >= 8) {
		uint32_t sz = aimark__be32(m), t = aimark__be32(m + 4);
		if (sz >= 8 && sz <= len && is_meta_child_type(t))
			v->fullbox = 0;
	}
	RETURN_IF(v->fullbox && len < 4, AIMARK_EFORMAT, "MP4: 'meta' box at offset %llu is too short", (unsigned long long)base);
	v->first_child = v->fullbox ? 4 : 0;
	size_t pos = v->first_child;
	while (pos < len) {
		aimark__bmff_box b;
		if (len - pos < 8)
			break; /* trailing padding */
		RETURN_IF_ERR(aimark__bmff_parse_mem(m, len, pos, base, &b));
		if (b.type == T_HDLR && v->handler == 0 && b.size - b.hdr_len >= 12)
			v->handler = aimark__be32(m + pos + b.hdr_len + 8);
		else if (b.type == T_KEYS && !v->has_keys) {
			v->has_keys = 1;
			v->keys_box = b;
		} else if (b.type == T_ILST && !v->has_ilst) {
			v->has_ilst = 1;
			v->ilst_box = b;
		}
		pos += (size_t)b.size;
	}
	if (v->has_keys)
		RETURN_IF_ERR(parse_keys(v));
	return 0;
}

/* The key an ilst item refers to, or NULL (index 0, out of range, no keys box). */
static const meta_key *item_key(const meta_view *v, uint32_t type)
{
	if (!v->has_keys || type == 0 || type > v->n_keys)
		return NULL;
	return &v->keys[type - 1];
}

/* The value of a 'data' box: type indicator, locale, bytes. */
typedef struct data_value {
	uint32_t type;
	size_t pos, len; /* value bytes in the meta payload */
} data_value;

static int data_parse(const meta_view *v, const aimark__bmff_box *b, data_value *d)
{
	size_t pos = rel(v, b->offset) + b->hdr_len, len = (size_t)b->size - b->hdr_len;
	RETURN_IF(len < 8, AIMARK_EFORMAT, "MP4: 'data' box at offset %llu is too short", (unsigned long long)b->offset);
	d->type = aimark__be32(v->m + pos) & 0x00FFFFFFu;
	d->pos = pos + 8;
	d->len = len - 8;
	return 0;
}

/* 1 when bytes look like a GB 45438 label: a JSON object mentioning "Label". */
static int looks_like_label(const unsigned char *p, size_t len)
{
	size_t i = 0;
	if (len >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF)
		i = 3;
	while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
		i++;
	if (i >= len || p[i] != '{')
		return 0;
	for (; i + 5 <= len; i++)
		if (memcmp(p + i, "Label", 5) == 0)
			return 1;
	return 0;
}

static int data_is_label(const meta_view *v, const data_value *d)
{
	return (d->type == 1 || d->type == 0) && looks_like_label(v->m + d->pos, d->len);
}

/* For a freeform '----' item: 1 when its 'name' box says AIGC. */
static int freeform_is_aigc(const meta_view *v, const aimark__bmff_box *item)
{
	size_t pos = rel(v, item->offset) + item->hdr_len, end = rel(v, item->offset) + (size_t)item->size;
	while (end - pos >= 8) {
		aimark__bmff_box c;
		if (aimark__bmff_parse_mem(v->m, end, pos, v->base, &c) != 0) {
			aimark_error_clear();
			return 0;
		}
		if (c.type == T_NAME && c.size - c.hdr_len >= 4) {
			int exact;
			return key_is_aigc(v->m + pos + c.hdr_len + 4, (size_t)c.size - c.hdr_len - 4, &exact);
		}
		pos += (size_t)c.size;
	}
	return 0;
}

enum item_role {
	IR_OTHER,   /* not ours */
	IR_KEYED,   /* key AIGC: every data box is the label */
	IR_FREEFORM,/* '----' named AIGC: every data box is the label */
	IR_CONTENT  /* no key: the data boxes whose text is a label */
};

static enum item_role item_role(const meta_view *v, const aimark__bmff_box *item)
{
	const meta_key *k = item_key(v, item->type);
	if (k)
		return k->aigc ? IR_KEYED : IR_OTHER;
	if (item->type == T_FREEFORM)
		return freeform_is_aigc(v, item) ? IR_FREEFORM : IR_OTHER;
	size_t pos = rel(v, item->offset) + item->hdr_len, end = rel(v, item->offset) + (size_t)item->size;
	while (end - pos >= 8) {
		aimark__bmff_box c;
		data_value d;
		if (aimark__bmff_parse_mem(v->m, end, pos, v->base, &c) != 0) {
			aimark_error_clear();
			return IR_OTHER;
		}
		if (c.type == T_DATA && data_parse(v, &c, &d) == 0 && data_is_label(v, &d))
			return IR_CONTENT;
		aimark_error_clear();
		pos += (size_t)c.size;
	}
	return IR_OTHER;
}

/* Adds the label carriers of one meta box. `where` names its place for findings. */
static int meta_collect(const meta_view *v, aimark__meta *meta, const char *where, int normative, int *found)
{
	*found = 0;
	if (!v->has_ilst)
		return 0;
	size_t pos = rel(v, v->ilst_box.offset) + v->ilst_box.hdr_len;
	size_t end = rel(v, v->ilst_box.offset) + (size_t)v->ilst_box.size;
	while (end - pos >= 8) {
		aimark__bmff_box item;
		RETURN_IF_ERR(aimark__bmff_parse_mem(v->m, end, pos, v->base, &item));
		enum item_role role = item_role(v, &item);
		size_t ipos = pos + item.hdr_len, iend = pos + (size_t)item.size;
		pos = iend;
		if (role == IR_OTHER)
			continue;
		while (iend - ipos >= 8) {
			aimark__bmff_box c;
			data_value d;
			RETURN_IF_ERR(aimark__bmff_parse_mem(v->m, iend, ipos, v->base, &c));
			ipos += (size_t)c.size;
			if (c.type != T_DATA)
				continue;
			RETURN_IF_ERR(data_parse(v, &c, &d));
			if (role == IR_CONTENT && !data_is_label(v, &d))
				continue;
			if (d.type != 1 && d.type != 0) {
				RETURN_IF_ERR(aimark__findings_add(meta->findings, AIMARK_SEVERITY_WARNING, "mp4-data-type",
								   "MP4: AIGC item at offset %llu has data type %u, not UTF-8 text; skipped",
								   (unsigned long long)c.offset, (unsigned)d.type));
				continue;
			}
			size_t n = d.len;
			while (n > 0 && v->m[d.pos + n - 1] == '\0')
				n--;
			RETURN_IF_ERR(aimark__meta_add_carrier(meta, role == IR_KEYED ? CARRIER_MP4_KEYS : CARRIER_MP4_ITEM,
							       (const char *)v->m + d.pos, n, c.offset));
			*found = 1;
			if (d.type == 0)
				RETURN_IF_ERR(aimark__findings_add(meta->findings, AIMARK_SEVERITY_WARNING, "mp4-data-type",
								   "MP4: AIGC item at offset %llu is marked binary (type 0), not UTF-8 (type 1)",
								   (unsigned long long)c.offset));
			if (role == IR_KEYED) {
				const meta_key *k = item_key(v, item.type);
				int exact;
				key_is_aigc(v->m + k->name_pos, k->name_len, &exact);
				if (!exact)
					RETURN_IF_ERR(aimark__findings_add(meta->findings, AIMARK_SEVERITY_WARNING, "mp4-key-name",
									   "MP4: label key \"%.*s\" is not exactly \"AIGC\"",
									   (int)(k->name_len > 64 ? 64 : k->name_len),
									   (const char *)v->m + k->name_pos));
			} else if (role == IR_FREEFORM) {
				RETURN_IF_ERR(aimark__findings_add(meta->findings, AIMARK_SEVERITY_WARNING, "mp4-freeform",
								   "MP4: label in an iTunes freeform '----' item at offset %llu, not under an mdta key",
								   (unsigned long long)item.offset));
			} else {
				RETURN_IF_ERR(aimark__findings_add(meta->findings, AIMARK_SEVERITY_WARNING, "mp4-unkeyed-label",
								   "MP4: label recognised by its content in an ilst item without an AIGC key at offset %llu",
								   (unsigned long long)item.offset));
			}
		}
	}
	if (*found && !v->fullbox)
		RETURN_IF_ERR(aimark__findings_add(meta->findings, AIMARK_SEVERITY_WARNING, "mp4-quicktime-meta",
						   "MP4: label in a QuickTime-form meta box (no version/flags) in %s", where));
	if (*found && !normative)
		RETURN_IF_ERR(aimark__findings_add(meta->findings, AIMARK_SEVERITY_WARNING, "mp4-meta-location",
						   "MP4: label in %s, not moov/udta/meta", where));
	return 0;
}

/*
 * 1 when the label can be merged into this mdta meta: it has an AIGC key, or
 * a key appended at index n+1 would not capture an existing item (ilst items
 * without a keys box, or with out-of-range indexes, are left alone).
 */
static int can_take_key(const meta_view *v)
{
	if (!v->has_ilst)
		return 1;
	if (!v->has_keys)
		return 0;
	for (uint32_t i = 0; i < v->n_keys; i++)
		if (v->keys[i].aigc)
			return 1;
	size_t pos = rel(v, v->ilst_box.offset) + v->ilst_box.hdr_len;
	size_t end = rel(v, v->ilst_box.offset) + (size_t)v->ilst_box.size;
	while (end - pos >= 8) {
		aimark__bmff_box item;
		if (aimark__bmff_parse_mem(v->m, end, pos, v->base, &item) != 0) {
			aimark_error_clear();
			return 0;
		}
		if (item.type == v->n_keys + 1)
			return 0;
		pos += (size_t)item.size;
	}
	return 1;
}

/* Loads and scans a meta box; a malformed or oversized one is reported and skipped. */
static int scan_meta(aimark_source *src, const aimark__bmff_box *box, aimark__meta *meta, const char *where,
		     int normative, int *ok, int *mergeable, int *found)
{
	aimark_buf buf = AIMARK_BUF_INIT;
	meta_view v;
	size_t n_before = meta->n_carriers;
	*ok = *mergeable = *found = 0;
	memset(&v, 0, sizeof v);
	int rc = load_payload(src, box, &buf);
	if (rc == 0)
		rc = meta_parse(buf.ptr, buf.size, box->offset + box->hdr_len, &v);
	if (rc == 0)
		rc = meta_collect(&v, meta, where, normative, found);
	if (rc == AIMARK_EFORMAT || rc == AIMARK_ELIMIT) {
		/* a meta box that cannot be rewritten contributes no label */
		while (meta->n_carriers > n_before)
			aimark__free(meta->carriers[--meta->n_carriers].text);
		rc = aimark__findings_add(meta->findings, AIMARK_SEVERITY_WARNING, "mp4-meta-unreadable",
					  "MP4: %s at offset %llu skipped: %s", where, (unsigned long long)box->offset,
					  aimark_error_last());
		aimark_error_clear();
		*found = 0;
	} else if (rc == 0) {
		*ok = 1;
		*mergeable = v.handler == T_MDTA && can_take_key(&v);
	}
	meta_view_dispose(&v);
	aimark_buf_dispose(&buf);
	return rc;
}

/* Loads an XMP packet and adds its label; malformed XMP is a finding. */
static int scan_xmp(aimark_source *src, const aimark__bmff_box *box, aimark__meta *meta, int *found)
{
	aimark_buf buf = AIMARK_BUF_INIT, json = AIMARK_BUF_INIT;
	*found = 0;
	int rc = load_payload(src, box, &buf);
	if (rc == 0) {
		rc = aimark__xmp_find_aigc((const char *)buf.ptr, buf.size, &json, meta->findings);
		if (rc == 0) {
			rc = aimark__meta_add_carrier(meta, AIMARK__CARRIER_XMP, json.ptr ? (const char *)json.ptr : "", json.size,
						      box->offset);
			*found = rc == 0;
		} else if (rc == AIMARK_ENOTFOUND) {
			aimark_error_clear();
			rc = 0;
		}
	}
	if (rc == AIMARK_EFORMAT || rc == AIMARK_ELIMIT) {
		rc = aimark__findings_add(meta->findings, AIMARK_SEVERITY_WARNING, "xmp-malformed",
					  "MP4: XMP packet at offset %llu skipped: %s", (unsigned long long)box->offset,
					  aimark_error_last());
		aimark_error_clear();
	}
	aimark_buf_dispose(&buf);
	aimark_buf_dispose(&json);
	return rc;
}

/* ------------------------------------------------------------------ read */

static int is_xmp_box(const aimark__bmff_box *b)
{
	return b->type == T_XMP_ || (b->type == T_UUID && memcmp(b->uuid, aimark__bmff_xmp_uuid, 16) == 0);
}

static int is_container(uint32_t type)
{
	return type == T_TRAK || type == T_MDIA || type == T_MINF || type == T_STBL || type == T_UDTA;
}

static int classify_table(aimark_source *src, mp4_node *n)
{
	char tn[16];
	unsigned char h[8];
	uint64_t payload = n->box.size - n->box.hdr_len;
	RETURN_IF(payload < 8, AIMARK_EFORMAT, "MP4: %s box at offset %llu is too short",
		  aimark__bmff_type_name(n->box.type, tn), (unsigned long long)n->box.offset);
	RETURN_IF_ERR(aimark_source_read(src, n->box.offset + n->box.hdr_len, h, 8));
	uint32_t count = aimark__be32(h + 4);
	uint64_t width = n->box.type == T_STCO ? 4 : 8;
	RETURN_IF((uint64_t)count > (payload - 8) / width, AIMARK_EFORMAT,
		  "MP4: %s box at offset %llu lists %u chunk offsets but holds room for %llu",
		  aimark__bmff_type_name(n->box.type, tn), (unsigned long long)n->box.offset, count,
		  (unsigned long long)((payload - 8) / width));
	n->kind = n->box.type == T_STCO ? NK_STCO : NK_CO64;
	n->count = count;
	return 0;
}

static const char *place_name(const mp4_layout *lay, size_t parent)
{
	if (parent == 0)
		return "moov/meta";
	const mp4_node *p = &lay->nodes[parent];
	if (p->box.type == T_UDTA && p->parent == 0)
		return "moov/udta/meta";
	if (p->box.type == T_UDTA)
		return "trak/udta/meta";
	return "a nested meta box";
}

static int parse_children(aimark_source *src, mp4_layout *lay, aimark__meta *meta, size_t parent, int depth)
{
	aimark__bmff_box pbox = lay->nodes[parent].box;
	RETURN_IF(depth > AIMARK__BMFF_MAX_DEPTH, AIMARK_EFORMAT, "MP4: boxes nested deeper than %d levels at offset %llu",
		  AIMARK__BMFF_MAX_DEPTH, (unsigned long long)pbox.offset);
	uint64_t pos = pbox.offset + pbox.hdr_len, end = pbox.offset + pbox.size;
	while (pos < end) {
		if (end - pos < 8) {
			lay->nodes[parent].tail_off = pos;
			lay->nodes[parent].tail_len = end - pos;
			break;
		}
		aimark__bmff_box b;
		size_t idx;
		RETURN_IF_ERR(aimark__bmff_read_header(src, pos, end, &b));
		RETURN_IF_ERR(add_node(lay, &b, (uint32_t)parent, &idx));
		pos += b.size;
		uint32_t ptype = pbox.type;
		if (is_container(b.type)) {
			lay->nodes[idx].kind = NK_CONTAINER;
			if (b.type == T_UDTA && parent == 0 && lay->udta == SIZE_MAX)
				lay->udta = idx;
			RETURN_IF_ERR(parse_children(src, lay, meta, idx, depth + 1));
		} else if (b.type == T_META) {
			int ok, mdta, found;
			int normative = ptype == T_UDTA && lay->nodes[parent].parent == 0;
			RETURN_IF_ERR(scan_meta(src, &b, meta, place_name(lay, parent), normative, &ok, &mdta, &found));
			mp4_node *n = &lay->nodes[idx];
			n->kind = NK_META;
			n->meta_ok = (uint8_t)ok;
			n->meta_mdta = (uint8_t)mdta;
			n->has_label = (uint8_t)found;
			if (normative && ok && mdta && lay->primary == SIZE_MAX)
				lay->primary = idx;
		} else if (is_xmp_box(&b) && (ptype == T_UDTA || parent == 0)) {
			int found;
			RETURN_IF_ERR(scan_xmp(src, &b, meta, &found));
			lay->nodes[idx].kind = NK_XMP;
			lay->nodes[idx].has_label = (uint8_t)found;
			lay->n_xmp++;
		} else if ((b.type == T_STCO || b.type == T_CO64) && ptype == T_STBL) {
			RETURN_IF_ERR(classify_table(src, &lay->nodes[idx]));
		} else if (b.type == T_SAIO && ptype == T_STBL) {
			lay->nodes[idx].kind = NK_SAIO;
		}
		lay->nodes[idx].n_desc = (uint32_t)(lay->n_nodes - idx - 1);
	}
	return 0;
}

/* Still-image HEIF/AVIF brands: not handled here. */
static int image_brand(uint32_t b)
{
	return b == AIMARK__FOURCC('m', 'i', 'f', '1') || b == AIMARK__FOURCC('h', 'e', 'i', 'c') ||
	       b == AIMARK__FOURCC('h', 'e', 'i', 'x') || b == AIMARK__FOURCC('h', 'e', 'i', 'm') ||
	       b == AIMARK__FOURCC('h', 'e', 'i', 's') || b == AIMARK__FOURCC('a', 'v', 'i', 'f') ||
	       b == AIMARK__FOURCC('a', 'v', 'c', 'i');
}

static int mp4_probe(const unsigned char *h, size_t len)
{
	if (len < 8)
		return 0;
	uint32_t size = aimark__be32(h), type = aimark__be32(h + 4);
	if (type == T_FTYP)
		return size >= 12 && size < (1u << 24) && !(len >= 12 && image_brand(aimark__be32(h + 8)));
	/*
	 * QuickTime files without ftyp. The first size byte below 0x20 keeps text
	 * such as "Set free..." from matching.
	 */
	if (type == T_MOOV || type == T_MDAT || type == AIMARK__FOURCC('w', 'i', 'd', 'e') ||
	    type == AIMARK__FOURCC('f', 'r', 'e', 'e') || type == AIMARK__FOURCC('s', 'k', 'i', 'p') ||
	    type == AIMARK__FOURCC('p', 'n', 'o', 't'))
		return size == 1 || (size >= 8 && h[0] < 0x20);
	return 0;
}

static int mp4_read(aimark_source *src, aimark__meta *meta)
{
	mp4_layout *lay = aimark__calloc(1, sizeof *lay);
	RETURN_ENOMEM_IF_NULL(lay);
	meta->priv = lay;
	meta->priv_free = layout_free;
	lay->moov = lay->primary = lay->udta = SIZE_MAX;
	lay->quicktime = 1;
	uint64_t size = aimark_source_size(src);
	lay->file_size = size;
	RETURN_IF(size > MP4_MAX_FILE, AIMARK_ELIMIT, "MP4: %llu bytes is over the supported size", (unsigned long long)size);
	RETURN_IF(size < 8, AIMARK_EFORMAT, "MP4: %llu bytes is too short for a box", (unsigned long long)size);
	uint64_t pos = 0;
	int first = 1;
	while (pos < size) {
		aimark__bmff_box b;
		uint8_t kind = TK_OTHER;
		int found = 0;
		if (size - pos < 8) {
			RETURN_IF_ERR(aimark__findings_add(meta->findings, AIMARK_SEVERITY_WARNING, "mp4-trailing-bytes",
							   "MP4: %llu stray bytes at the end of the file", (unsigned long long)(size - pos)));
			break;
		}
		RETURN_IF_ERR(aimark__bmff_read_header(src, pos, size, &b));
		if (b.type == T_FTYP && first && b.size - b.hdr_len >= 4) {
			unsigned char brand[4];
			RETURN_IF_ERR(aimark_source_read(src, b.offset + b.hdr_len, brand, 4));
			lay->quicktime = aimark__be32(brand) == T_QT;
		} else if (b.type == T_MOOV) {
			RETURN_IF(lay->moov != SIZE_MAX, AIMARK_EFORMAT, "MP4: a second 'moov' box at offset %llu",
				  (unsigned long long)b.offset);
			kind = TK_MOOV;
			size_t idx;
			RETURN_IF_ERR(add_node(lay, &b, UINT32_MAX, &idx));
			lay->nodes[0].kind = NK_CONTAINER;
			RETURN_IF_ERR(parse_children(src, lay, meta, 0, 1));
			lay->nodes[0].n_desc = (uint32_t)(lay->n_nodes - 1);
		} else if (b.type == T_MDAT) {
			kind = TK_MDAT;
			RETURN_IF_ERR(aimark__meta_add_essence(meta, b.offset + b.hdr_len, b.size - b.hdr_len));
		} else if (b.type == T_MOOF) {
			kind = TK_MOOF;
			lay->fragmented = 1;
		} else if (b.type == T_MFRA) {
			kind = TK_MFRA;
		} else if (is_xmp_box(&b) && b.type == T_UUID) {
			kind = TK_XMP;
			RETURN_IF_ERR(scan_xmp(src, &b, meta, &found));
			lay->n_xmp++;
		} else if (b.type == T_META) {
			int ok, mdta;
			RETURN_IF_ERR(scan_meta(src, &b, meta, "a file-level meta box", 0, &ok, &mdta, &found));
			if (found && ok)
				kind = TK_META;
		}
		if (kind == TK_MOOV)
			lay->moov = lay->n_top;
		RETURN_IF_ERR(add_top(lay, &b, kind));
		lay->top[lay->n_top - 1].has_label = (uint8_t)found;
		pos += b.size;
		first = 0;
	}
	RETURN_IF(lay->moov == SIZE_MAX, AIMARK_EFORMAT, "MP4: no 'moov' (movie) box in %llu bytes", (unsigned long long)size);
	if (lay->fragmented)
		RETURN_IF_ERR(aimark__findings_add(meta->findings, AIMARK_SEVERITY_INFO, "mp4-fragmented",
						   "MP4: fragmented file (moof boxes); the label is in the movie box"));
	return 0;
}

/* ----------------------------------------------------------------- write */

/* A top-level change of size, for moving absolute offsets. */
typedef struct mp4_edit {
	uint64_t off;      /* old offset */
	uint64_t old_size; /* 0: an insertion at `off` */
	uint64_t new_size;
} mp4_edit;

typedef struct mp4_repl {
	size_t node;       /* node index, or top index when `top` */
	int top;
	aimark_buf payload;/* new payload after the (unchanged-type) header */
} mp4_repl;

typedef struct mp4_writer {
	aimark_source *src;
	const mp4_layout *lay;
	aimark_sink *sink;
	const aimark__label_write *lw;
	mp4_repl *repl;
	size_t n_repl;
	uint64_t *new_size;      /* per node */
	uint8_t *upgrade;        /* per node: stco written as co64 */
	uint64_t *max_entry;     /* per node: largest chunk offset */
	aimark_buf add_udta;     /* boxes appended to the target udta (meta, XMP_) */
	aimark_buf add_moov;     /* a new udta appended to moov when there is none */
	aimark_buf add_top;      /* a new top-level XMP uuid box after moov */
	mp4_edit *edits;
	size_t n_edits;
	int64_t max_shift;
	size_t free_top;         /* a free/skip box after moov that absorbs the growth, or SIZE_MAX */
	uint64_t free_new;       /* its new size (0: removed) */
	unsigned char *chunk;
} mp4_writer;

static void writer_dispose(mp4_writer *w)
{
	for (size_t i = 0; i < w->n_repl; i++)
		aimark_buf_dispose(&w->repl[i].payload);
	aimark__free(w->repl);
	aimark__free(w->new_size);
	aimark__free(w->upgrade);
	aimark__free(w->max_entry);
	aimark_buf_dispose(&w->add_udta);
	aimark_buf_dispose(&w->add_moov);
	aimark_buf_dispose(&w->add_top);
	aimark__free(w->edits);
	aimark__free(w->chunk);
}

static const mp4_repl *find_repl(const mp4_writer *w, size_t idx, int top)
{
	for (size_t i = 0; i < w->n_repl; i++)
		if (w->repl[i].node == idx && w->repl[i].top == top)
			return &w->repl[i];
	return NULL;
}

static aimark_buf *new_repl(mp4_writer *w, size_t idx, int top)
{
	uint64_t total = 0;
	for (size_t i = 0; i < w->n_repl; i++)
		total += w->repl[i].payload.size;
	if (total > MP4_MAX_REWRITTEN) {
		aimark__error_set(AIMARK_ELIMIT, "MP4: the metadata boxes to rewrite hold over %llu bytes",
				  (unsigned long long)MP4_MAX_REWRITTEN);
		return NULL;
	}
	mp4_repl *p = aimark__realloc(w->repl, (w->n_repl + 1) * sizeof *p);
	if (p == NULL) {
		aimark__error_set(AIMARK_ENOMEM, "out of memory");
		return NULL;
	}
	w->repl = p;
	p[w->n_repl] = (mp4_repl){ idx, top, AIMARK_BUF_INIT };
	return &p[w->n_repl++].payload;
}

/* Box writing into a memory buffer: start with a placeholder size, patch at the end. */
static int box_begin(aimark_buf *out, uint32_t type, size_t *start)
{
	*start = out->size;
	return aimark__bmff_put_header(out, type, 8, 0);
}

static int box_end(aimark_buf *out, size_t start)
{
	size_t len = out->size - start;
	RETURN_IF(len > UINT32_MAX, AIMARK_ELIMIT, "MP4: metadata box over 4 GiB");
	aimark__put_be32(out->ptr + start, (uint32_t)len);
	return 0;
}

/* Copies a box from memory; a size-0 box ("to the end") gets its explicit size, since boxes may follow it now. */
static int put_raw_box(aimark_buf *out, const unsigned char *m, size_t pos, const aimark__bmff_box *b)
{
	if (!b->to_end)
		return aimark__buf_append(out, m + pos, (size_t)b->size);
	uint32_t extra = b->type == AIMARK__FOURCC('u', 'u', 'i', 'd') ? 16 : 0;
	size_t payload = (size_t)b->size - b->hdr_len;
	RETURN_IF_ERR(aimark__bmff_put_header(out, b->type, aimark__bmff_box_size(payload, extra, 0), 0));
	if (extra)
		RETURN_IF_ERR(aimark__buf_append(out, b->uuid, 16));
	return aimark__buf_append(out, m + pos + b->hdr_len, payload);
}

static int put_be32(aimark_buf *out, uint32_t v)
{
	unsigned char b[4];
	aimark__put_be32(b, v);
	return aimark__buf_append(out, b, 4);
}

static int put_data_box(aimark_buf *out, const char *json, size_t len)
{
	size_t s;
	RETURN_IF_ERR(box_begin(out, T_DATA, &s));
	RETURN_IF_ERR(put_be32(out, 1)); /* well-known type 1: UTF-8 */
	RETURN_IF_ERR(put_be32(out, 0)); /* default locale */
	RETURN_IF_ERR(aimark__buf_append(out, json, len));
	return box_end(out, s);
}

static int put_label_item(aimark_buf *out, uint32_t index, const char *json, size_t len)
{
	size_t s;
	RETURN_IF_ERR(box_begin(out, index, &s));
	RETURN_IF_ERR(put_data_box(out, json, len));
	return box_end(out, s);
}

/* Copies an item, replacing its label data box(es) by one data box. */
static int put_item_rewritten(aimark_buf *out, const meta_view *v, const aimark__bmff_box *item, uint32_t type,
			      enum item_role role, const char *json, size_t jlen)
{
	size_t s, pos = rel(v, item->offset) + item->hdr_len, end = rel(v, item->offset) + (size_t)item->size;
	int done = 0;
	RETURN_IF_ERR(box_begin(out, type, &s));
	while (end - pos >= 8) {
		aimark__bmff_box c;
		data_value d;
		RETURN_IF_ERR(aimark__bmff_parse_mem(v->m, end, pos, v->base, &c));
		int label = 0;
		if (c.type == T_DATA) {
			RETURN_IF_ERR(data_parse(v, &c, &d));
			label = role != IR_CONTENT || data_is_label(v, &d);
		}
		if (!label)
			RETURN_IF_ERR(put_raw_box(out, v->m, pos, &c));
		else if (!done) {
			RETURN_IF_ERR(put_data_box(out, json, jlen));
			done = 1;
		}
		pos += (size_t)c.size;
	}
	if (!done)
		RETURN_IF_ERR(put_data_box(out, json, jlen));
	return box_end(out, s);
}

static int put_keys(aimark_buf *out, const meta_view *v, const uint32_t *map, int add_aigc, uint32_t count)
{
	size_t s;
	RETURN_IF_ERR(box_begin(out, T_KEYS, &s));
	if (v->has_keys)
		RETURN_IF_ERR(aimark__buf_append(out, v->m + rel(v, v->keys_box.offset) + v->keys_box.hdr_len, 4));
	else
		RETURN_IF_ERR(put_be32(out, 0));
	RETURN_IF_ERR(put_be32(out, count));
	for (uint32_t i = 0; i < v->n_keys; i++)
		if (map[i + 1])
			RETURN_IF_ERR(aimark__buf_append(out, v->m + v->keys[i].pos, v->keys[i].len));
	if (add_aigc) {
		RETURN_IF_ERR(put_be32(out, 12));
		RETURN_IF_ERR(put_be32(out, T_MDTA));
		RETURN_IF_ERR(aimark__buf_append(out, "AIGC", 4));
	}
	return box_end(out, s);
}

static int put_ilst(aimark_buf *out, const meta_view *v, int primary, const uint32_t *map, uint32_t label_index,
		    const char *json, size_t jlen)
{
	size_t s;
	int emitted = 0;
	RETURN_IF_ERR(box_begin(out, T_ILST, &s));
	if (v->has_ilst) {
		size_t pos = rel(v, v->ilst_box.offset) + v->ilst_box.hdr_len;
		size_t end = rel(v, v->ilst_box.offset) + (size_t)v->ilst_box.size;
		while (end - pos >= 8) {
			aimark__bmff_box item;
			RETURN_IF_ERR(aimark__bmff_parse_mem(v->m, end, pos, v->base, &item));
			enum item_role role = item_role(v, &item);
			const meta_key *k = item_key(v, item.type);
			if (role == IR_KEYED && primary) {
				if (!emitted)
					RETURN_IF_ERR(put_label_item(out, label_index, json, jlen));
				emitted = 1; /* items of duplicate AIGC keys are dropped */
			} else if (role != IR_OTHER) {
				RETURN_IF_ERR(put_item_rewritten(out, v, &item, k ? map[item.type] : item.type, role, json, jlen));
			} else if (k && map[item.type] != item.type) {
				size_t ip = (size_t)(item.size - item.hdr_len);
				RETURN_IF_ERR(aimark__bmff_put_header(out, map[item.type], aimark__bmff_box_size(ip, 0, 0), 0));
				RETURN_IF_ERR(aimark__buf_append(out, v->m + pos + item.hdr_len, ip));
			} else if (!k || map[item.type] != 0) {
				RETURN_IF_ERR(put_raw_box(out, v->m, pos, &item));
			}
			pos += (size_t)item.size;
		}
	}
	if (primary && !emitted)
		RETURN_IF_ERR(put_label_item(out, label_index, json, jlen));
	return box_end(out, s);
}

/*
 * Rebuilds a meta payload with the label set. The primary meta gets exactly
 * one AIGC key (kept in place, or appended) and one item; duplicate AIGC keys
 * are removed and the remaining item indexes renumbered. Other metas only get
 * their label items' data replaced.
 */
static int meta_rebuild(const unsigned char *m, size_t len, uint64_t base, int primary, const char *json, size_t jlen,
			aimark_buf *out)
{
	meta_view v;
	uint32_t *map = NULL;
	int rc = meta_parse(m, len, base, &v);
	if (rc == 0) {
		map = aimark__calloc((size_t)v.n_keys + 1, sizeof *map);
		if (map == NULL)
			rc = aimark__error_set(AIMARK_ENOMEM, "out of memory");
	}
	uint32_t count = 0, first_aigc = 0, label_index = 0;
	if (rc == 0) {
		for (uint32_t i = 1; i <= v.n_keys; i++) {
			if (primary && v.keys[i - 1].aigc && first_aigc != 0)
				continue; /* a duplicate AIGC key: removed */
			if (v.keys[i - 1].aigc && first_aigc == 0)
				first_aigc = i;
			map[i] = ++count;
		}
		label_index = first_aigc ? map[first_aigc] : count + 1;
	}
	int add_key = primary && first_aigc == 0;
	int keys_done = !primary, ilst_done = 0;
	size_t pos = v.first_child, tail = len;
	if (rc == 0 && v.fullbox)
		rc = aimark__buf_append(out, m, 4);
	while (rc == 0 && pos < len) {
		aimark__bmff_box b;
		if (len - pos < 8) {
			tail = pos; /* a few trailing bytes stay last */
			break;
		}
		rc = aimark__bmff_parse_mem(m, len, pos, base, &b);
		if (rc)
			break;
		if (b.offset == v.keys_box.offset && v.has_keys && primary) {
			if (!keys_done) /* else already written ahead of an earlier ilst */
				rc = put_keys(out, &v, map, add_key, count + (uint32_t)add_key);
			keys_done = 1;
		} else if (b.offset == v.ilst_box.offset && v.has_ilst) {
			if (!keys_done) {
				rc = put_keys(out, &v, map, add_key, count + (uint32_t)add_key);
				keys_done = 1;
			}
			if (rc == 0)
				rc = put_ilst(out, &v, primary, map, label_index, json, jlen);
			ilst_done = 1;
		} else {
			rc = put_raw_box(out, m, pos, &b);
		}
		pos += (size_t)b.size;
	}
	if (rc == 0 && !keys_done)
		rc = put_keys(out, &v, map, add_key, count + (uint32_t)add_key);
	if (rc == 0 && primary && !ilst_done)
		rc = put_ilst(out, &v, primary, map, label_index, json, jlen);
	if (rc == 0 && tail < len)
		rc = aimark__buf_append(out, m + tail, len - tail);
	aimark__free(map);
	meta_view_dispose(&v);
	return rc;
}

/* A new moov/udta/meta box: FullBox, hdlr mdta, keys [AIGC], ilst [1 -> data]. */
static int build_new_meta(aimark_buf *out, const char *json, size_t jlen)
{
	size_t s, h;
	static const unsigned char hdlr_tail[13] = { 0 }; /* reserved[3] + empty name */
	RETURN_IF_ERR(box_begin(out, T_META, &s));
	RETURN_IF_ERR(put_be32(out, 0));
	RETURN_IF_ERR(box_begin(out, T_HDLR, &h));
	RETURN_IF_ERR(put_be32(out, 0));
	RETURN_IF_ERR(put_be32(out, 0));
	RETURN_IF_ERR(put_be32(out, T_MDTA));
	RETURN_IF_ERR(aimark__buf_append(out, hdlr_tail, sizeof hdlr_tail));
	RETURN_IF_ERR(box_end(out, h));
	meta_view empty;
	memset(&empty, 0, sizeof empty);
	uint32_t map[1] = { 0 };
	RETURN_IF_ERR(put_keys(out, &empty, map, 1, 1));
	RETURN_IF_ERR(put_ilst(out, &empty, 1, map, 1, json, jlen));
	return box_end(out, s);
}

static int build_xmp_packet(const aimark_buf *old, const aimark__label_write *lw, aimark_buf *out, uint64_t off)
{
	int rc = aimark__xmp_set_aigc(old ? (const char *)old->ptr : NULL, old ? old->size : 0, lw->bare_json, lw->bare_len, out);
	if (rc < 0)
		aimark__error_prefix("MP4: XMP packet at offset %llu", (unsigned long long)off);
	return rc;
}

/* Builds every replacement payload and new box once the label is known. */
static int prepare(mp4_writer *w)
{
	const mp4_layout *lay = w->lay;
	const char *json = w->lw->bare_json;
	size_t jlen = w->lw->bare_len;
	aimark_buf tmp = AIMARK_BUF_INIT;
	int rc = 0;
	for (size_t i = 0; i < lay->n_nodes && rc == 0; i++) {
		const mp4_node *n = &lay->nodes[i];
		if (n->kind == NK_META && n->meta_ok && (n->has_label || i == lay->primary)) {
			aimark_buf *out = new_repl(w, i, 0);
			rc = out ? load_payload(w->src, &n->box, &tmp) : aimark_error_last_code();
			if (rc == 0)
				rc = meta_rebuild(tmp.ptr, tmp.size, n->box.offset + n->box.hdr_len, i == lay->primary, json, jlen, out);
		} else if (n->kind == NK_XMP) {
			aimark_buf *out = new_repl(w, i, 0);
			rc = out ? load_payload(w->src, &n->box, &tmp) : aimark_error_last_code();
			if (rc == 0)
				rc = build_xmp_packet(&tmp, w->lw, out, n->box.offset);
		}
	}
	for (size_t i = 0; i < lay->n_top && rc == 0; i++) {
		const mp4_top *t = &lay->top[i];
		if (t->kind != TK_XMP && t->kind != TK_META)
			continue;
		aimark_buf *out = new_repl(w, i, 1);
		rc = out ? load_payload(w->src, &t->box, &tmp) : aimark_error_last_code();
		if (rc == 0 && t->kind == TK_XMP)
			rc = build_xmp_packet(&tmp, w->lw, out, t->box.offset);
		else if (rc == 0)
			rc = meta_rebuild(tmp.ptr, tmp.size, t->box.offset + t->box.hdr_len, 0, json, jlen, out);
	}
	aimark_buf_dispose(&tmp);
	RETURN_IF_ERR(rc);

	aimark_buf *boxes = lay->udta != SIZE_MAX ? &w->add_udta : &w->add_moov;
	size_t udta_start = 0;
	if (lay->udta == SIZE_MAX)
		RETURN_IF_ERR(box_begin(boxes, T_UDTA, &udta_start));
	if (lay->primary == SIZE_MAX)
		RETURN_IF_ERR(build_new_meta(boxes, json, jlen));
	if (lay->n_xmp == 0) {
		aimark_buf packet = AIMARK_BUF_INIT;
		rc = build_xmp_packet(NULL, w->lw, &packet, 0);
		if (rc == 0 && lay->quicktime)
			rc = aimark__bmff_put_box(boxes, T_XMP_, packet.ptr, packet.size);
		else if (rc == 0) {
			rc = aimark__bmff_put_header(&w->add_top, T_UUID, aimark__bmff_box_size(packet.size, 16, 0), 0);
			if (rc == 0)
				rc = aimark__buf_append(&w->add_top, aimark__bmff_xmp_uuid, 16);
			if (rc == 0)
				rc = aimark__buf_append(&w->add_top, packet.ptr, packet.size);
		}
		aimark_buf_dispose(&packet);
		RETURN_IF_ERR(rc);
	}
	if (lay->udta == SIZE_MAX)
		RETURN_IF_ERR(box_end(boxes, udta_start));
	return 0;
}

/* Header length and size of a rewritten box with `payload` bytes. */
static uint64_t rewritten_size(const aimark__bmff_box *b, uint64_t payload)
{
	return aimark__bmff_box_size(payload, b->type == T_UUID ? 16 : 0, b->large);
}

static void compute_sizes(mp4_writer *w)
{
	const mp4_layout *lay = w->lay;
	for (size_t i = lay->n_nodes; i-- > 0;) {
		const mp4_node *n = &lay->nodes[i];
		const mp4_repl *r = find_repl(w, i, 0);
		uint64_t payload;
		if (r)
			payload = r->payload.size;
		else if (n->kind == NK_STCO || n->kind == NK_CO64)
			payload = 8 + (uint64_t)n->count * (n->kind == NK_CO64 || w->upgrade[i] ? 8 : 4);
		else if (n->kind == NK_CONTAINER) {
			payload = n->tail_len;
			for (size_t c = i + 1; c <= i + n->n_desc; c += lay->nodes[c].n_desc + 1)
				payload += w->new_size[c];
			if (i == lay->udta)
				payload += w->add_udta.size;
			if (i == 0)
				payload += w->add_moov.size;
		} else {
			w->new_size[i] = n->box.size;
			continue;
		}
		w->new_size[i] = rewritten_size(&n->box, payload);
	}
}

static int build_edits(mp4_writer *w)
{
	const mp4_layout *lay = w->lay;
	w->n_edits = 0;
	w->free_top = SIZE_MAX;
	for (size_t i = 0; i < lay->n_top; i++) {
		const mp4_top *t = &lay->top[i];
		const mp4_repl *r = find_repl(w, i, 1);
		if (t->kind == TK_MOOV) {
			w->edits[w->n_edits++] = (mp4_edit){ t->box.offset, t->box.size, w->new_size[0] };
			if (w->add_top.size)
				w->edits[w->n_edits++] = (mp4_edit){ t->box.offset + t->box.size, 0, w->add_top.size };
			/* free space reserved after moov (ffmpeg -moov_size) takes the growth: nothing after it moves */
			const mp4_top *f = i + 1 < lay->n_top ? &lay->top[i + 1] : NULL;
			uint64_t growth = w->new_size[0] + w->add_top.size;
			if (f && f->kind == TK_OTHER && !f->box.large && !f->box.to_end && growth > t->box.size &&
			    (f->box.type == AIMARK__FOURCC('f', 'r', 'e', 'e') || f->box.type == AIMARK__FOURCC('s', 'k', 'i', 'p'))) {
				growth -= t->box.size;
				if (growth == f->box.size || (growth < f->box.size && f->box.size - growth >= 8)) {
					w->free_top = i + 1;
					w->free_new = f->box.size - growth;
					w->edits[w->n_edits++] = (mp4_edit){ f->box.offset, f->box.size, w->free_new };
				}
			}
		} else if (r) {
			w->edits[w->n_edits++] = (mp4_edit){ t->box.offset, t->box.size, rewritten_size(&t->box, r->payload.size) };
		}
	}
	int64_t d = 0;
	w->max_shift = 0;
	for (size_t i = 0; i < w->n_edits; i++) {
		d += (int64_t)w->edits[i].new_size - (int64_t)w->edits[i].old_size;
		if (d > w->max_shift)
			w->max_shift = d;
	}
	return 0;
}

/* How far a byte at old offset `o` moves. Bytes inside a rewritten box move with its start. */
static int64_t shift_at(const mp4_writer *w, uint64_t o)
{
	int64_t d = 0;
	for (size_t i = 0; i < w->n_edits; i++) {
		const mp4_edit *e = &w->edits[i];
		if (e->old_size == 0 ? e->off <= o : e->off + e->old_size <= o)
			d += (int64_t)e->new_size - (int64_t)e->old_size;
		else
			break;
	}
	return d;
}

static int total_shift_nonzero(const mp4_writer *w)
{
	for (size_t i = 0; i < w->n_edits; i++)
		if (w->edits[i].new_size != w->edits[i].old_size)
			return 1;
	return 0;
}

static int move_offset(const mp4_writer *w, uint64_t o, uint64_t *out, const char *what, uint64_t where)
{
	int64_t d = shift_at(w, o);
	if (d >= 0) {
		RETURN_IF(o > UINT64_MAX - (uint64_t)d, AIMARK_EFORMAT, "MP4: %s at offset %llu overflows when moved",
			  what, (unsigned long long)where);
		*out = o + (uint64_t)d;
	} else {
		RETURN_IF((uint64_t)(-d) > o, AIMARK_EFORMAT, "MP4: %s at offset %llu points before the start of the file",
			  what, (unsigned long long)where);
		*out = o - (uint64_t)(-d);
	}
	return 0;
}

/* Largest entry of each chunk offset table (one pass over the tables). */
static int scan_tables(mp4_writer *w)
{
	const mp4_layout *lay = w->lay;
	for (size_t i = 0; i < lay->n_nodes; i++) {
		const mp4_node *n = &lay->nodes[i];
		if (n->kind != NK_STCO && n->kind != NK_CO64)
			continue;
		size_t width = n->kind == NK_STCO ? 4 : 8;
		uint64_t off = n->box.offset + n->box.hdr_len + 8, left = n->count, max = 0;
		while (left > 0) {
			size_t k = left < MP4_COPY_CHUNK / 8 ? (size_t)left : MP4_COPY_CHUNK / 8;
			RETURN_IF_ERR(aimark_source_read(w->src, off, w->chunk, k * width));
			for (size_t j = 0; j < k; j++) {
				uint64_t v = width == 4 ? aimark__be32(w->chunk + j * 4) : aimark__be64(w->chunk + j * 8);
				if (v > max)
					max = v;
			}
			off += k * width;
			left -= k;
		}
		w->max_entry[i] = max;
	}
	return 0;
}

/* Sizes and edits until no further stco needs the 64-bit form. */
static int plan(mp4_writer *w)
{
	const mp4_layout *lay = w->lay;
	RETURN_IF_ERR(scan_tables(w));
	for (;;) {
		compute_sizes(w);
		RETURN_IF_ERR(build_edits(w));
		int changed = 0;
		for (size_t i = 0; i < lay->n_nodes; i++)
			if (lay->nodes[i].kind == NK_STCO && !w->upgrade[i] && lay->nodes[i].count > 0 &&
			    w->max_entry[i] + (uint64_t)w->max_shift > UINT32_MAX) {
				w->upgrade[i] = 1;
				changed = 1;
			}
		if (!changed)
			return 0;
	}
}

static int sink_header(mp4_writer *w, const aimark__bmff_box *b, uint32_t type, uint64_t size)
{
	aimark_buf h = AIMARK_BUF_INIT;
	int rc = aimark__bmff_put_header(&h, type, size, b->large);
	if (rc == 0 && type == T_UUID)
		rc = aimark__buf_append(&h, b->uuid, 16);
	if (rc == 0)
		rc = aimark_sink_write(w->sink, h.ptr, h.size);
	aimark_buf_dispose(&h);
	return rc;
}

static int emit_table(mp4_writer *w, size_t i)
{
	const mp4_node *n = &w->lay->nodes[i];
	int in64 = n->kind == NK_CO64, out64 = in64 || w->upgrade[i];
	size_t win = in64 ? 8 : 4, wout = out64 ? 8 : 4;
	unsigned char vf[8];
	RETURN_IF_ERR(sink_header(w, &n->box, out64 ? T_CO64 : T_STCO, w->new_size[i]));
	RETURN_IF_ERR(aimark_source_read(w->src, n->box.offset + n->box.hdr_len, vf, 8));
	RETURN_IF_ERR(aimark_sink_write(w->sink, vf, 8));
	uint64_t off = n->box.offset + n->box.hdr_len + 8, left = n->count;
	unsigned char *obuf = w->chunk + MP4_COPY_CHUNK / 2;
	while (left > 0) {
		size_t k = left < MP4_COPY_CHUNK / 16 ? (size_t)left : MP4_COPY_CHUNK / 16;
		RETURN_IF_ERR(aimark_source_read(w->src, off, w->chunk, k * win));
		for (size_t j = 0; j < k; j++) {
			uint64_t v = in64 ? aimark__be64(w->chunk + j * 8) : aimark__be32(w->chunk + j * 4), nv;
			RETURN_IF_ERR(move_offset(w, v, &nv, "chunk offset", off + j * win));
			if (out64) {
				aimark__put_be32(obuf + j * 8, (uint32_t)(nv >> 32));
				aimark__put_be32(obuf + j * 8 + 4, (uint32_t)nv);
			} else {
				RETURN_IF(nv > UINT32_MAX, AIMARK_EFORMAT, "MP4: chunk offset at %llu does not fit 32 bits",
					  (unsigned long long)(off + j * win));
				aimark__put_be32(obuf + j * 4, (uint32_t)nv);
			}
		}
		RETURN_IF_ERR(aimark_sink_write(w->sink, obuf, k * wout));
		off += k * win;
		left -= k;
	}
	return 0;
}

/* saio in a sample table holds absolute offsets. */
static int emit_saio(mp4_writer *w, size_t i)
{
	const mp4_node *n = &w->lay->nodes[i];
	aimark_buf buf = AIMARK_BUF_INIT;
	int rc = load_payload(w->src, &n->box, &buf);
	size_t len = buf.size, pos = 4;
	if (rc == 0 && len < 8)
		rc = aimark__error_set(AIMARK_EFORMAT, "MP4: 'saio' box at offset %llu is too short", (unsigned long long)n->box.offset);
	if (rc == 0) {
		int v1 = buf.ptr[0] == 1;
		if (aimark__be32(buf.ptr) & 1)
			pos += 8; /* aux_info_type and parameter */
		uint32_t count = len >= pos + 4 ? aimark__be32(buf.ptr + pos) : 0;
		size_t width = v1 ? 8 : 4;
		pos += 4;
		if (len < pos || count > (len - pos) / width)
			rc = aimark__error_set(AIMARK_EFORMAT, "MP4: 'saio' box at offset %llu is truncated", (unsigned long long)n->box.offset);
		for (uint32_t j = 0; rc == 0 && j < count; j++) {
			unsigned char *p = buf.ptr + pos + (size_t)j * width;
			uint64_t o = v1 ? aimark__be64(p) : aimark__be32(p), nv = 0;
			rc = move_offset(w, o, &nv, "'saio' offset", n->box.offset);
			if (rc == 0 && !v1 && nv > UINT32_MAX)
				rc = aimark__error_set(AIMARK_EUNSUPPORTED, "MP4: a 32-bit 'saio' offset at %llu would pass 4 GiB",
						       (unsigned long long)n->box.offset);
			if (rc == 0 && v1) {
				aimark__put_be32(p, (uint32_t)(nv >> 32));
				aimark__put_be32(p + 4, (uint32_t)nv);
			} else if (rc == 0) {
				aimark__put_be32(p, (uint32_t)nv);
			}
		}
	}
	if (rc == 0)
		rc = sink_header(w, &n->box, n->box.type, n->box.size);
	if (rc == 0)
		rc = aimark_sink_write(w->sink, buf.ptr, buf.size);
	aimark_buf_dispose(&buf);
	return rc;
}

static int emit_node(mp4_writer *w, size_t i)
{
	const mp4_layout *lay = w->lay;
	const mp4_node *n = &lay->nodes[i];
	const mp4_repl *r = find_repl(w, i, 0);
	if (r) {
		RETURN_IF_ERR(sink_header(w, &n->box, n->box.type, w->new_size[i]));
		return aimark_sink_write(w->sink, r->payload.ptr, r->payload.size);
	}
	switch (n->kind) {
	case NK_CONTAINER:
		RETURN_IF_ERR(sink_header(w, &n->box, n->box.type, w->new_size[i]));
		for (size_t c = i + 1; c <= i + n->n_desc; c += lay->nodes[c].n_desc + 1)
			RETURN_IF_ERR(emit_node(w, c));
		if (i == lay->udta)
			RETURN_IF_ERR(aimark_sink_write(w->sink, w->add_udta.ptr, w->add_udta.size));
		if (i == 0)
			RETURN_IF_ERR(aimark_sink_write(w->sink, w->add_moov.ptr, w->add_moov.size));
		return aimark__sink_copy_range(w->sink, w->src, n->tail_off, n->tail_len);
	case NK_STCO:
	case NK_CO64:
		return emit_table(w, i);
	case NK_SAIO:
		if (total_shift_nonzero(w))
			return emit_saio(w, i);
		break;
	default:
		break;
	}
	if (n->box.to_end) {
		/* a size-0 box ends its parent; give it an explicit size */
		RETURN_IF_ERR(sink_header(w, &n->box, n->box.type, n->box.size));
		return aimark__sink_copy_range(w->sink, w->src, n->box.offset + n->box.hdr_len, n->box.size - n->box.hdr_len);
	}
	return aimark__sink_copy_range(w->sink, w->src, n->box.offset, n->box.size);
}

/* Movie fragment: tfhd base-data-offset is absolute. */
static int emit_moof(mp4_writer *w, const aimark__bmff_box *box)
{
	aimark_buf buf = AIMARK_BUF_INIT;
	int rc = load_payload(w->src, box, &buf);
	uint64_t base = box->offset + box->hdr_len;
	size_t pos = 0;
	while (rc == 0 && buf.size - pos >= 8) {
		aimark__bmff_box traf;
		rc = aimark__bmff_parse_mem(buf.ptr, buf.size, pos, base, &traf);
		if (rc == 0 && traf.type == T_TRAF) {
			size_t tpos = pos + traf.hdr_len, tend = pos + (size_t)traf.size;
			while (rc == 0 && tend - tpos >= 8) {
				aimark__bmff_box c;
				rc = aimark__bmff_parse_mem(buf.ptr, tend, tpos, base, &c);
				if (rc == 0 && c.type == T_TFHD) {
					unsigned char *p = buf.ptr + tpos + c.hdr_len;
					size_t plen = (size_t)c.size - c.hdr_len;
					if (plen < 8)
						rc = aimark__error_set(AIMARK_EFORMAT, "MP4: 'tfhd' box at offset %llu is too short",
								       (unsigned long long)c.offset);
					else if ((aimark__be32(p) & 1) != 0) {
						uint64_t nv = 0;
						if (plen < 16)
							rc = aimark__error_set(AIMARK_EFORMAT, "MP4: 'tfhd' box at offset %llu is truncated",
									       (unsigned long long)c.offset);
						if (rc == 0)
							rc = move_offset(w, aimark__be64(p + 8), &nv, "'tfhd' base data offset", c.offset);
						if (rc == 0) {
							aimark__put_be32(p + 8, (uint32_t)(nv >> 32));
							aimark__put_be32(p + 12, (uint32_t)nv);
						}
					}
				}
				if (rc == 0)
					tpos += (size_t)c.size;
			}
		}
		if (rc == 0)
			pos += (size_t)traf.size;
	}
	if (rc == 0)
		rc = sink_header(w, box, box->type, box->size);
	if (rc == 0)
		rc = aimark_sink_write(w->sink, buf.ptr, buf.size);
	aimark_buf_dispose(&buf);
	return rc;
}

/* Movie fragment random access: tfra entries hold absolute moof offsets. */
static int patch_tfra(mp4_writer *w, unsigned char *p, size_t len, uint64_t off)
{
	RETURN_IF(len < 12, AIMARK_EFORMAT, "MP4: 'tfra' box at offset %llu is too short", (unsigned long long)off);
	int v1 = p[0] == 1;
	uint32_t sizes = aimark__be32(p + 8);
	size_t extra = (size_t)((sizes >> 4) & 3) + ((sizes >> 2) & 3) + (sizes & 3) + 3;
	size_t entry = (v1 ? 16 : 8) + extra;
	RETURN_IF(len < 16, AIMARK_EFORMAT, "MP4: 'tfra' box at offset %llu is truncated", (unsigned long long)off);
	uint32_t count = aimark__be32(p + 12);
	RETURN_IF(count > (len - 16) / entry, AIMARK_EFORMAT, "MP4: 'tfra' box at offset %llu lists %u entries, more than it holds",
		  (unsigned long long)off, count);
	for (uint32_t i = 0; i < count; i++) {
		unsigned char *e = p + 16 + (size_t)i * entry + (v1 ? 8 : 4);
		uint64_t o = v1 ? aimark__be64(e) : aimark__be32(e), nv;
		RETURN_IF_ERR(move_offset(w, o, &nv, "'tfra' moof offset", off));
		if (v1) {
			aimark__put_be32(e, (uint32_t)(nv >> 32));
			aimark__put_be32(e + 4, (uint32_t)nv);
		} else {
			RETURN_IF(nv > UINT32_MAX, AIMARK_EUNSUPPORTED, "MP4: a 32-bit 'tfra' offset at %llu would pass 4 GiB",
				  (unsigned long long)off);
			aimark__put_be32(e, (uint32_t)nv);
		}
	}
	return 0;
}

static int emit_mfra(mp4_writer *w, const aimark__bmff_box *box)
{
	aimark_buf buf = AIMARK_BUF_INIT;
	int rc = load_payload(w->src, box, &buf);
	uint64_t base = box->offset + box->hdr_len;
	size_t pos = 0;
	while (rc == 0 && buf.size - pos >= 8) {
		aimark__bmff_box c;
		rc = aimark__bmff_parse_mem(buf.ptr, buf.size, pos, base, &c);
		if (rc == 0 && c.type == T_TFRA)
			rc = patch_tfra(w, buf.ptr + pos + c.hdr_len, (size_t)c.size - c.hdr_len, c.offset);
		if (rc == 0)
			pos += (size_t)c.size;
	}
	if (rc == 0)
		rc = sink_header(w, box, box->type, box->size);
	if (rc == 0)
		rc = aimark_sink_write(w->sink, buf.ptr, buf.size);
	aimark_buf_dispose(&buf);
	return rc;
}

static int emit_top(mp4_writer *w, size_t i)
{
	const mp4_top *t = &w->lay->top[i];
	const mp4_repl *r = find_repl(w, i, 1);
	if (t->kind == TK_MOOV) {
		RETURN_IF_ERR(emit_node(w, 0));
		return aimark_sink_write(w->sink, w->add_top.ptr, w->add_top.size);
	}
	if (i == w->free_top) {
		if (w->free_new == 0)
			return 0;
		RETURN_IF_ERR(sink_header(w, &t->box, t->box.type, w->free_new));
		memset(w->chunk, 0, MP4_COPY_CHUNK);
		for (uint64_t left = w->free_new - 8; left > 0;) {
			size_t n = left < MP4_COPY_CHUNK ? (size_t)left : MP4_COPY_CHUNK;
			RETURN_IF_ERR(aimark_sink_write(w->sink, w->chunk, n));
			left -= n;
		}
		return 0;
	}
	if (r) {
		RETURN_IF_ERR(sink_header(w, &t->box, t->box.type, rewritten_size(&t->box, r->payload.size)));
		return aimark_sink_write(w->sink, r->payload.ptr, r->payload.size);
	}
	if (t->kind == TK_MOOF && total_shift_nonzero(w))
		return emit_moof(w, &t->box);
	if (t->kind == TK_MFRA && total_shift_nonzero(w))
		return emit_mfra(w, &t->box);
	return aimark__sink_copy_range(w->sink, w->src, t->box.offset, t->box.size);
}

/* Copies a range to the sink and feeds it to the label provider as essence. */
static int copy_feeding(mp4_writer *w, const aimark__label_provider *label, uint64_t off, uint64_t len)
{
	const unsigned char *mem = aimark__source_memory(w->src);
	if (mem) {
		RETURN_IF_ERR(label->essence_update(label->ctx, mem + off, (size_t)len));
		return aimark_sink_write(w->sink, mem + off, (size_t)len);
	}
	while (len > 0) {
		size_t n = len < MP4_COPY_CHUNK ? (size_t)len : MP4_COPY_CHUNK;
		RETURN_IF_ERR(aimark_source_read(w->src, off, w->chunk, n));
		RETURN_IF_ERR(label->essence_update(label->ctx, w->chunk, n));
		RETURN_IF_ERR(aimark_sink_write(w->sink, w->chunk, n));
		off += n;
		len -= n;
	}
	return 0;
}

static int writer_run(mp4_writer *w, const aimark__label_provider *label)
{
	const mp4_layout *lay = w->lay;
	/* Streaming: every mdat comes before the first box that changes. */
	size_t first_change = lay->moov, start = 0;
	for (size_t i = 0; i < lay->n_top; i++)
		if ((lay->top[i].kind == TK_XMP || lay->top[i].kind == TK_META) && i < first_change)
			first_change = i;
	int streaming = label->essence_update != NULL;
	for (size_t i = first_change; i < lay->n_top; i++)
		if (lay->top[i].kind == TK_MDAT)
			streaming = 0;
	if (streaming) {
		for (; start < first_change; start++) {
			const aimark__bmff_box *b = &lay->top[start].box;
			if (lay->top[start].kind != TK_MDAT) {
				RETURN_IF_ERR(aimark__sink_copy_range(w->sink, w->src, b->offset, b->size));
				continue;
			}
			RETURN_IF_ERR(aimark__sink_copy_range(w->sink, w->src, b->offset, b->hdr_len));
			RETURN_IF_ERR(copy_feeding(w, label, b->offset + b->hdr_len, b->size - b->hdr_len));
		}
	}
	RETURN_IF_ERR(label->get(label->ctx, &w->lw));
	RETURN_IF(w->lw == NULL || w->lw->bare_json == NULL, AIMARK_EINVAL, "MP4: the label provider returned no label");
	RETURN_IF_ERR(prepare(w));
	RETURN_IF_ERR(plan(w));
	for (size_t i = start; i < lay->n_top; i++)
		RETURN_IF_ERR(emit_top(w, i));
	return 0;
}

static int mp4_write(aimark_source *src, const aimark__meta *meta, const aimark__label_provider *label, aimark_sink *sink)
{
	const mp4_layout *lay = meta ? meta->priv : NULL;
	RETURN_IF(lay == NULL || label == NULL || label->get == NULL || sink == NULL, AIMARK_EINVAL,
		  "MP4: write needs the layout from read(), a label and a sink");
	RETURN_IF(lay->file_size != aimark_source_size(src), AIMARK_EINVAL, "MP4: the source changed since it was read");
	mp4_writer w;
	memset(&w, 0, sizeof w);
	w.src = src;
	w.lay = lay;
	w.sink = sink;
	size_t n = lay->n_nodes ? lay->n_nodes : 1;
	w.new_size = aimark__calloc(n, sizeof *w.new_size);
	w.upgrade = aimark__calloc(n, 1);
	w.max_entry = aimark__calloc(n, sizeof *w.max_entry);
	w.edits = aimark__calloc(lay->n_top + 1, sizeof *w.edits);
	w.chunk = aimark__malloc(MP4_COPY_CHUNK);
	int rc;
	if (!w.new_size || !w.upgrade || !w.max_entry || !w.edits || !w.chunk)
		rc = aimark__error_set(AIMARK_ENOMEM, "out of memory");
	else
		rc = writer_run(&w, label);
	writer_dispose(&w);
	return rc;
}

static const char *const mp4_extensions[] = { "mp4", "m4v", "mov", "m4a", "3gp", NULL };

const aimark__format_ops aimark__format_mp4 = {
	.name = "mp4",
	.extensions = mp4_extensions,
	.probe = mp4_probe,
	.read = mp4_read,
	.write = mp4_write,
};

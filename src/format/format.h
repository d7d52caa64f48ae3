/*
 * Private container-format interface. Each format file (jpeg_meta.c,
 * png_meta.c, webp_meta.c, ...) fills one aimark__format_ops table; the
 * registry in format.c lists them.
 *
 * Reading finds every carrier of an AIGC label and the byte ranges of the
 * content essence (what the producer's content hash covers: everything that
 * decodes to the content, nothing that is metadata). Writing sets the label
 * in every carrier at once, so a file never holds two different labels.
 */
#ifndef AIMARK_FORMAT_FORMAT_H
#define AIMARK_FORMAT_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "aimark/findings.h"
#include "aimark/io.h"

/* Carrier kinds (static strings, used in reports). */
#define AIMARK__CARRIER_XMP "xmp"                          /* XMP TC260:AIGC property */
#define AIMARK__CARRIER_EXIF_USERCOMMENT "exif-usercomment" /* EXIF 0x9286 */
#define AIMARK__CARRIER_EXIF_DESCRIPTION "exif-imagedescription" /* EXIF 0x010E */
#define AIMARK__CARRIER_PNG_TEXT "png-text"                /* tEXt/zTXt/iTXt keyword AIGC */
#define AIMARK__CARRIER_JPEG_APPN "jpeg-appn-raw"          /* bare AIGC{...} in an APPn */

/* One label as found in one carrier. */
typedef struct aimark__carrier {
	const char *kind;    /* AIMARK__CARRIER_* */
	char *text;          /* the label text (JSON), unescaped from its container; NUL-terminated */
	size_t len;
	uint64_t offset;     /* where the carrier starts in the file (for messages) */
} aimark__carrier;

typedef struct aimark__range {
	uint64_t offset;
	uint64_t length;
} aimark__range;

/* What a format reader found. */
typedef struct aimark__meta {
	const char *format;            /* set by the registry */
	aimark__carrier *carriers;
	size_t n_carriers, cap_carriers;
	aimark__range *essence;        /* in file order, non-overlapping */
	size_t n_essence, cap_essence;
	aimark_findings *findings;     /* borrowed; may be NULL */
	void *priv;                    /* format-private layout kept for write */
	void (*priv_free)(void *priv);
} aimark__meta;

/* The label to write, in the two Annex E forms. */
typedef struct aimark__label_write {
	const char *bare_json;    /* {"Label":...} */
	size_t bare_len;
	const char *wrapped_json; /* {"AIGC":{"Label":...}} */
	size_t wrapped_len;
} aimark__label_write;

/*
 * Hands the label to a writer. Simple writers call get() first. A writer
 * that streams large media may instead feed the essence bytes, in file order,
 * to essence_update() as it copies them and call get() afterwards: when the
 * bytes fed are exactly the essence, the provider signs their digest and
 * the media is read only once; otherwise it hashes the essence itself.
 */
typedef struct aimark__label_provider {
	int (*essence_update)(void *ctx, const void *data, size_t len);
	int (*get)(void *ctx, const aimark__label_write **out);
	void *ctx;
} aimark__label_provider;

typedef struct aimark__format_ops {
	const char *name;                /* "jpeg" */
	const char *const *extensions;   /* lowercase, NULL-terminated: {"jpg", "jpeg", NULL} */
	/* 1 when `head` (the first `len` bytes, len may be small) starts this format. */
	int (*probe)(const unsigned char *head, size_t len);
	/*
	 * Parses `src` and fills carriers, essence ranges and findings. Returns 0,
	 * or AIMARK_EFORMAT with a message naming the problem ("JPEG: segment
	 * length 70000 at offset 20 passes the end of the file").
	 */
	int (*read)(aimark_source *src, aimark__meta *meta);
	/*
	 * Writes `src` with the label set: the format's primary carrier (XMP for
	 * images) is created or merged (other properties kept), and every other
	 * carrier found by read() that holds an AIGC label is rewritten to the
	 * same label. Essence bytes are copied unchanged. `meta` is what read()
	 * returned for this `src`.
	 */
	int (*write)(aimark_source *src, const aimark__meta *meta, const aimark__label_provider *label, aimark_sink *sink);
} aimark__format_ops;

/* Registry. */
const aimark__format_ops *aimark__format_find(const char *name);
/* Detects by content; NULL when no format matches. */
const aimark__format_ops *aimark__format_detect(aimark_source *src);
/*
 * The next format after `after` (in registry order) whose probe matches:
 * for a file whose first match declines it (read() returns
 * AIMARK_EUNSUPPORTED, e.g. a FLAC stream behind an ID3 tag).
 */
const aimark__format_ops *aimark__format_detect_after(aimark_source *src, const aimark__format_ops *after);

/* meta helpers */
void aimark__meta_init(aimark__meta *meta, aimark_findings *findings);
void aimark__meta_dispose(aimark__meta *meta);
/* Copies `len` bytes of `text`. */
int aimark__meta_add_carrier(aimark__meta *meta, const char *kind, const char *text, size_t len, uint64_t offset);
/* Appends a range, merging with the previous one when contiguous. */
int aimark__meta_add_essence(aimark__meta *meta, uint64_t offset, uint64_t length);

/* Feeds the essence ranges of `src` to `update` in order (bounded buffer). */
int aimark__meta_hash_essence(aimark_source *src, const aimark__meta *meta,
			      int (*update)(void *ctx, const void *data, size_t len), void *ctx);

/* Limits every parser applies to hostile input. */
#define AIMARK__MAX_IMAGE_FILE (UINT64_C(2) << 30)   /* images are read whole: 2 GiB */
#define AIMARK__MAX_METADATA_BLOCK (16u << 20)       /* one XMP/EXIF/text block: 16 MiB */

#endif

/*
 * Visible explicit labels on images (GB 45438 section 5.1 b): one line of
 * text holding an AI element and a generation element, on an edge or in a
 * corner, legible, its text height at least 5% of the image's shortest side.
 * docs/explicit-labels.md describes the geometry, the contrast rule and the
 * detector.
 */
#ifndef AIMARK_LABEL_EXPLICIT_IMAGE_H
#define AIMARK_LABEL_EXPLICIT_IMAGE_H

#include <stdint.h>

#include <jansson.h>

#include "aimark/mark.h"
#include "codec/image_codec.h"
#include "label/explicit_render.h"
#include "label/explicit_text.h"

/* Text height: at least this share of the shortest side (per mille; 50 = 5%)... */
#define AIMARK__EXPLICIT_IMAGE_HEIGHT_PERMILLE 50
/* ...and never below this many pixels, under which Han characters stop being legible. */
#define AIMARK__EXPLICIT_IMAGE_MIN_TEXT_PX 10
/* WCAG 2 contrast ratio the label's text keeps against what surrounds it (AA for normal text). */
#define AIMARK__EXPLICIT_IMAGE_MIN_CONTRAST 4.5

/* Label positions; the default is bottom-right. */
enum {
	AIMARK__EXPLICIT_TOP_LEFT = 0,
	AIMARK__EXPLICIT_TOP_RIGHT,
	AIMARK__EXPLICIT_BOTTOM_LEFT,
	AIMARK__EXPLICIT_BOTTOM_RIGHT,
	AIMARK__EXPLICIT_TOP,    /* top edge, centred */
	AIMARK__EXPLICIT_BOTTOM, /* bottom edge, centred */
	AIMARK__EXPLICIT_POSITION_COUNT
};

/*
 * Parses a position name ("top-left", "top-right", "bottom-left",
 * "bottom-right", "top", "bottom"; NULL means "bottom-right"). Returns the
 * position (>= 0) or AIMARK_EINVAL with a message listing the names.
 */
int aimark__explicit_position_parse(const char *name);
const char *aimark__explicit_position_name(int position);

/* Where a label goes and how large it is, in pixels of the image. */
typedef struct aimark__explicit_image_geometry {
	uint32_t required_height;  /* max(ceil(5% of the shortest side), AIMARK__EXPLICIT_IMAGE_MIN_TEXT_PX) */
	uint32_t pixel_size;       /* FreeType pixel size (em): the smallest whose text height >= required_height */
	uint32_t text_height;      /* measured at pixel_size (explicit_render.h says what is measured) */
	double halo;               /* outline radius */
	uint32_t pad;              /* label box padding around the text's ink */
	uint32_t margin;           /* label box distance from the image edges it touches */
	uint32_t box_x, box_y, box_width, box_height; /* the label box */
	uint32_t ink_x, ink_y, ink_width, ink_height; /* the text's ink box, inside the label box */
} aimark__explicit_image_geometry;

/* max(ceil(5% of the shortest side), AIMARK__EXPLICIT_IMAGE_MIN_TEXT_PX). */
uint32_t aimark__explicit_image_required_height(uint32_t width, uint32_t height);

/*
 * Places a label whose text, at `pixel_size`, measures `m` (from
 * aimark__label_fit) on a `width` x `height` image at `position`.
 * Errors: AIMARK_ELIMIT (it does not fit: message gives both sizes), AIMARK_EINVAL.
 */
int aimark__explicit_image_place(const aimark__label_metrics *m, uint32_t pixel_size, int position, uint32_t width,
				 uint32_t height, aimark__explicit_image_geometry *out);

/*
 * Lays out the label of `text` for a `width` x `height` image at `position`
 * (aimark__label_fit at the required height, then aimark__explicit_image_place).
 * Errors: AIMARK_ELIMIT (the label does not fit: message gives both sizes),
 * AIMARK_EINVAL, AIMARK_EUNSUPPORTED (a glyph is missing), AIMARK_ENOMEM.
 */
int aimark__explicit_image_layout(aimark__label_font *font, const char *text, int position, uint32_t width, uint32_t height,
				  aimark__explicit_image_geometry *out);

/* What aimark__explicit_image_apply drew. */
typedef struct aimark__explicit_image_info {
	char text[AIMARK__EXPLICIT_TEXT_MAX + 1]; /* the label text (UTF-8) */
	char position[16];                        /* position name */
	char font[256];                           /* "embedded", or the font file's path (truncated) */
	unsigned int elements;                    /* AIMARK__EXPLICIT_* elements of the text */
	aimark__explicit_image_geometry geometry;
	int boxed;             /* 1: text on a semi-opaque backing box; 0: text with an outline */
	int dark_text;         /* 1: black text on a light outline or box; 0: white text on a dark one */
	double box_opacity;    /* 0 without a box */
	/*
	 * WCAG 2 contrast ratio of the text colour against its surroundings:
	 * with a box, against the box composited over the darkest or brightest
	 * background pixel under it (the worst pixel); with an outline, against
	 * the 98th-percentile worst background pixel under the label box (the
	 * outline covers the text's edge wherever the rest falls short).
	 */
	double contrast_ratio;
	unsigned int alpha_min; /* lowest alpha (0-255) under the label box; 255 without alpha. The alpha channel is left alone. */
} aimark__explicit_image_info;

/*
 * Draws the label of `o` (explicit_text or the default "AI生成" /
 * "AI-generated" for explicit_language "en", explicit_position,
 * explicit_font or the bundled font) into `img` in place; fills `info` (may
 * be NULL) with the geometry and contrast achieved. Errors: AIMARK_EINVAL
 * (text lacks an element: message says which; unknown position or
 * language), AIMARK_ELIMIT (the label cannot fit: image too small),
 * AIMARK_EUNSUPPORTED (font unusable or lacking a glyph of the text),
 * AIMARK_ENOMEM. On error the image is unchanged.
 */
int aimark__explicit_image_apply(aimark__image *img, const aimark_mark_options *o, aimark__explicit_image_info *info);

/*
 * Looks for a label this library renders; sets *out to a new jansson object
 * {"detected":bool,"kind":"visible-text","text":...,"position":...,
 * "score":...} (always an object on success; "text" and "position" are null
 * when nothing is detected, and "threshold" and "method" are added).
 * `hint_text` (may be NULL) is the label text to look for besides the
 * defaults. Only labels drawn with the bundled font are found. Errors (no
 * object then): AIMARK_EINVAL (no image), AIMARK_EUNSUPPORTED (no bundled
 * font or no FreeType), AIMARK_ENOMEM.
 */
int aimark__explicit_image_detect(const aimark__image *img, const char *hint_text, json_t **out);

/*
 * The same for a `width` x `height` image held at 1/scale (`img` is ceil(width / scale) x
 * ceil(height / scale), e.g. a JPEG decoded at a DCT scaling; its luma is enough). Positions and sizes
 * are those of the full-size image. AIMARK_EINVAL when the sizes do not match.
 */
int aimark__explicit_image_detect_scaled(const aimark__image *img, uint32_t width, uint32_t height, uint32_t scale,
					 const char *hint_text, json_t **out);

/*
 * The detector's finest detail on a `width` x `height` image, in pixels: it averages over blocks of this
 * size, so the image may be held at any 1/scale with scale up to it (1 for images whose label may sit at the
 * legibility floor).
 */
uint32_t aimark__explicit_image_plane_block(uint32_t width, uint32_t height);

#endif

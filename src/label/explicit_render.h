/*
 * Lays out one line of UTF-8 label text with FreeType and rasterises it into
 * coverage masks: the glyphs themselves ("fill") and the glyphs grown by a
 * halo radius ("halo", drawn as the outline). Shared by the visible-label
 * renderer and its detector, so both see identical shapes.
 *
 * Glyphs are unhinted outlines placed at fractional pen positions (advances
 * from the font's unhinted metrics, plus 'kern' table kerning when present);
 * no complex shaping, which labels in Han and Latin script do not need.
 *
 * Text height (what GB 45438's "text height >= 5% of the shortest side" is
 * checked against): the smallest ink height among the text's measured
 * characters, where a pixel row counts as ink when some pixel in it is at
 * least half covered. Han characters and letters of other scripts are
 * measured on their own glyph; Latin letters and digits are measured by the
 * capital "I" (the cap height), as signage standards measure character
 * height; spaces, punctuation and symbols are not measured.
 */
#ifndef AIMARK_LABEL_EXPLICIT_RENDER_H
#define AIMARK_LABEL_EXPLICIT_RENDER_H

#include <stddef.h>
#include <stdint.h>

#include "label/explicit_font.h"

/* Largest pixel size (em) a label is drawn at. */
#define AIMARK__LABEL_MAX_PIXEL_SIZE 4096

/* Geometry of a line of text at one size, origin at the pen start on the baseline, y down. */
typedef struct aimark__label_metrics {
	int ink_left, ink_top, ink_right, ink_bottom; /* box of all fill pixels (coverage > 0), right/bottom exclusive */
	uint32_t text_height;                         /* see above */
} aimark__label_metrics;

/* Coverage masks of a rendered line, `pad` pixels of margin around the fill's ink box. */
typedef struct aimark__label_mask {
	uint32_t width, height;
	unsigned char *fill;    /* width*height, 0-255 */
	unsigned char *halo;    /* width*height, 0-255; NULL when rendered without a halo; includes the fill */
	uint32_t ink_x, ink_y;  /* the fill's ink box inside the mask (= pad, pad) */
	uint32_t ink_width, ink_height;
	uint32_t text_height;
} aimark__label_mask;

/*
 * Measures `text` (UTF-8, NUL-terminated) at pixel size `size` (> 0, may be
 * fractional) with the pen starting `phase_x`, `phase_y` pixels (0 <= phase
 * < 1) right of and below the origin. Errors: AIMARK_EINVAL (malformed UTF-8,
 * size out of range, nothing visible), AIMARK_EUNSUPPORTED (the font has no
 * glyph for a character: message names it), AIMARK_ENOMEM.
 */
int aimark__label_measure(aimark__label_font *font, const char *text, double size, double phase_x, double phase_y,
			  aimark__label_metrics *out);

/*
 * Finds the smallest whole pixel size at which the text height is at least
 * `target` pixels. Errors as aimark__label_measure, and AIMARK_ELIMIT when
 * that takes more than AIMARK__LABEL_MAX_PIXEL_SIZE.
 */
int aimark__label_fit(aimark__label_font *font, const char *text, uint32_t target, uint32_t *size_out,
		      aimark__label_metrics *metrics_out);

/*
 * Renders `text` as aimark__label_measure lays it out, into masks whose fill
 * ink box starts at (pad, pad). `halo` > 0 also renders the halo mask with
 * that radius in pixels (pad should be at least ceil(halo) + 1 for it to fit).
 * The caller disposes `out`. Errors as aimark__label_measure, plus
 * AIMARK_ELIMIT for a mask above 2^26 pixels.
 */
int aimark__label_render(aimark__label_font *font, const char *text, double size, double phase_x, double phase_y,
			 double halo, uint32_t pad, aimark__label_mask *out);
void aimark__label_mask_dispose(aimark__label_mask *mask);

/* 1 when the font has a glyph for every character of `text` (0 too for malformed UTF-8). */
int aimark__label_font_covers(aimark__label_font *font, const char *text);

#endif

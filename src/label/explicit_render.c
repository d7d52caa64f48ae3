/* One line of label text laid out and rasterised with FreeType. */
#include <math.h>
#include <string.h>

#include "core/internal.h"
#include "label/explicit_render.h"
#include "label/explicit_text.h"

#ifdef AIMARK__HAVE_FREETYPE

#include FT_GLYPH_H
#include FT_STROKER_H

#define MAX_MASK_PIXELS (UINT64_C(1) << 26)

typedef struct placed_glyph {
	FT_BitmapGlyph fill;
	FT_BitmapGlyph halo; /* NULL without a halo */
	uint32_t cp;
} placed_glyph;

typedef struct line {
	placed_glyph *glyphs;
	size_t count;
} line;

static void line_dispose(line *ln)
{
	for (size_t i = 0; i < ln->count; i++) {
		if (ln->glyphs[i].fill != NULL)
			FT_Done_Glyph((FT_Glyph)ln->glyphs[i].fill);
		if (ln->glyphs[i].halo != NULL)
			FT_Done_Glyph((FT_Glyph)ln->glyphs[i].halo);
	}
	aimark__free(ln->glyphs);
	ln->glyphs = NULL;
	ln->count = 0;
}

static int ft_fail(FT_Error err, const char *what)
{
	const char *s = FT_Error_String(err);
	return aimark__error_set(err == FT_Err_Out_Of_Memory ? AIMARK_ENOMEM : AIMARK_EUNSUPPORTED, "FreeType: %s: %s", what,
				 s != NULL ? s : "error");
}

static int set_size(FT_Face face, double size)
{
	RETURN_IF(!(size > 0.0) || size > AIMARK__LABEL_MAX_PIXEL_SIZE, AIMARK_EINVAL, "label pixel size %.2f out of range", size);
	/* A character size in 1/64 points at 72 dpi is that many 1/64 pixels. */
	FT_Error err = FT_Set_Char_Size(face, 0, (FT_F26Dot6)lround(size * 64.0), 72, 72);
	if (err)
		return ft_fail(err, "cannot set the size");
	return 0;
}

/* Loads glyph `gi` as an outline glyph translated by (dx, dy) in 26.6 (FreeType's y-up axes). */
static int load_outline(FT_Face face, FT_UInt gi, FT_Pos dx, FT_Pos dy, FT_Glyph *out, FT_Fixed *advance)
{
	*out = NULL;
	FT_Error err = FT_Load_Glyph(face, gi, FT_LOAD_NO_HINTING | FT_LOAD_NO_BITMAP);
	if (err)
		return ft_fail(err, "cannot load a glyph");
	RETURN_IF(face->glyph->format != FT_GLYPH_FORMAT_OUTLINE, AIMARK_EUNSUPPORTED, "label font has a glyph that is not an outline");
	if (advance != NULL)
		*advance = face->glyph->linearHoriAdvance; /* 16.16, unhinted */
	err = FT_Get_Glyph(face->glyph, out);
	if (err)
		return ft_fail(err, "cannot copy a glyph");
	FT_Vector d = { dx, dy };
	err = FT_Glyph_Transform(*out, NULL, &d);
	if (err) {
		FT_Done_Glyph(*out);
		*out = NULL;
		return ft_fail(err, "cannot place a glyph");
	}
	return 0;
}

static int to_bitmap(FT_Glyph *g, FT_BitmapGlyph *out)
{
	FT_Error err = FT_Glyph_To_Bitmap(g, FT_RENDER_MODE_NORMAL, NULL, 1);
	if (err) {
		FT_Done_Glyph(*g);
		*g = NULL;
		return ft_fail(err, "cannot rasterise a glyph");
	}
	FT_BitmapGlyph b = (FT_BitmapGlyph)*g;
	if (b->bitmap.pixel_mode != FT_PIXEL_MODE_GRAY || b->bitmap.num_grays != 256 || b->bitmap.pitch < 0 ||
	    (b->bitmap.rows > 0 && (unsigned)b->bitmap.pitch < b->bitmap.width)) {
		FT_Done_Glyph(*g);
		*g = NULL;
		return aimark__error_set(AIMARK_EUNSUPPORTED, "FreeType produced an unexpected bitmap format");
	}
	*out = b;
	return 0;
}

static int is_measured(uint32_t cp)
{
	if (cp < 0x80)
		return (cp >= '0' && cp <= '9') || (cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z');
	if (cp <= 0xBF || (cp >= 0x2000 && cp <= 0x2BFF) || (cp >= 0x3000 && cp <= 0x303F) || (cp >= 0xFE30 && cp <= 0xFE4F) ||
	    (cp >= 0xFF00 && cp <= 0xFF0F) || (cp >= 0xFF1A && cp <= 0xFF20) || (cp >= 0xFF3B && cp <= 0xFF40) ||
	    (cp >= 0xFF5B && cp <= 0xFF65) || cp == 0x00D7 || cp == 0x00F7)
		return 0;
	return 1;
}

static int is_latin_alnum(uint32_t cp)
{
	return (cp >= '0' && cp <= '9') || (cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z') || (cp >= 0xC0 && cp <= 0x24F);
}

/* Rows with a pixel at least half covered: their span, or 0 when none. */
static uint32_t ink_rows(const FT_Bitmap *bm)
{
	int first = -1, last = -1;
	for (unsigned r = 0; r < bm->rows; r++) {
		const unsigned char *row = bm->buffer + (size_t)r * (unsigned)bm->pitch;
		for (unsigned c = 0; c < bm->width; c++) {
			if (row[c] >= 128) {
				if (first < 0)
					first = (int)r;
				last = (int)r;
				break;
			}
		}
	}
	return first < 0 ? 0 : (uint32_t)(last - first + 1);
}

/* Ink height of the glyph of `cp` alone at the current size and vertical phase. */
static int glyph_ink_height(FT_Face face, uint32_t cp, FT_Pos dy, uint32_t *out)
{
	*out = 0;
	FT_UInt gi = FT_Get_Char_Index(face, cp);
	if (gi == 0)
		return 0;
	FT_Glyph g;
	RETURN_IF_ERR(load_outline(face, gi, 0, dy, &g, NULL));
	FT_BitmapGlyph b;
	RETURN_IF_ERR(to_bitmap(&g, &b));
	*out = ink_rows(&b->bitmap);
	FT_Done_Glyph((FT_Glyph)b);
	return 0;
}

static int make_stroker(FT_Face face, double halo, FT_Stroker *out)
{
	FT_Error err = FT_Stroker_New(face->glyph->library, out);
	if (err)
		return ft_fail(err, "cannot create a stroker");
	FT_Stroker_Set(*out, (FT_Fixed)lround(halo * 64.0), FT_STROKER_LINECAP_ROUND, FT_STROKER_LINEJOIN_ROUND, 0);
	return 0;
}

/* Lays out and rasterises every glyph of `text`. */
static int lay_out(aimark__label_font *font, const char *text, double size, double phase_x, double phase_y, double halo,
		   line *ln, aimark__label_metrics *m)
{
	memset(ln, 0, sizeof *ln);
	memset(m, 0, sizeof *m);
	FT_Face face = aimark__label_font_face(font);
	RETURN_IF(text == NULL, AIMARK_EINVAL, "no label text");
	size_t len = strlen(text);
	RETURN_IF(len == 0 || len > AIMARK__EXPLICIT_TEXT_MAX, AIMARK_EINVAL, "label text of %zu bytes (1 to %d)", len,
		  AIMARK__EXPLICIT_TEXT_MAX);
	RETURN_IF(!(phase_x >= 0.0 && phase_x < 1.0 && phase_y >= 0.0 && phase_y < 1.0), AIMARK_EINVAL, "label phase out of range");
	RETURN_IF_ERR(set_size(face, size));
	ln->glyphs = aimark__calloc(len, sizeof *ln->glyphs);
	RETURN_ENOMEM_IF_NULL(ln->glyphs);

	FT_Stroker stroker = NULL;
	int rc = 0;
	if (halo > 0.0 && (rc = make_stroker(face, halo, &stroker)) < 0)
		goto fail;
	FT_Pos pen = (FT_Pos)lround(phase_x * 64.0);
	FT_Pos dy = -(FT_Pos)lround(phase_y * 64.0);
	FT_UInt prev = 0;
	uint32_t min_height = UINT32_MAX;
	int latin = 0, any_ink = 0;
	int left = 0, top = 0, right = 0, bottom = 0;
	size_t pos = 0;
	while (pos < len) {
		uint32_t cp;
		size_t at = pos;
		if (aimark__explicit_text_next(text, len, &pos, &cp) != 0) {
			rc = aimark__error_set(AIMARK_EINVAL, "label text is not valid UTF-8 (byte %zu)", at);
			goto fail;
		}
		FT_UInt gi = FT_Get_Char_Index(face, cp);
		if (gi == 0) {
			rc = aimark__error_set(AIMARK_EUNSUPPORTED,
					       "label font %s has no glyph for U+%04X (\"%.*s\"); give a font that has it",
					       aimark__label_font_source(font), (unsigned)cp, (int)(pos - at), text + at);
			goto fail;
		}
		if (prev != 0 && FT_HAS_KERNING(face)) {
			FT_Vector k;
			if (FT_Get_Kerning(face, prev, gi, FT_KERNING_UNFITTED, &k) == 0)
				pen += k.x;
		}
		prev = gi;
		placed_glyph *pg = &ln->glyphs[ln->count++]; /* counted now so that line_dispose frees it */
		pg->cp = cp;
		FT_Glyph g;
		FT_Fixed adv;
		if ((rc = load_outline(face, gi, pen, dy, &g, &adv)) < 0)
			goto fail;
		pen += (FT_Pos)(adv >> 10);
		if (stroker != NULL) {
			FT_Glyph h = NULL;
			FT_Error err = FT_Glyph_Copy(g, &h);
			if (!err) {
				err = FT_Glyph_StrokeBorder(&h, stroker, 0, 1); /* frees h on success only */
				if (err)
					FT_Done_Glyph(h);
			}
			if (err) {
				FT_Done_Glyph(g);
				rc = ft_fail(err, "cannot stroke a glyph");
				goto fail;
			}
			if ((rc = to_bitmap(&h, &pg->halo)) < 0) {
				FT_Done_Glyph(g);
				goto fail;
			}
		}
		if ((rc = to_bitmap(&g, &pg->fill)) < 0)
			goto fail;

		/* Ink box of the fill, from pixels actually covered. */
		const FT_Bitmap *bm = &pg->fill->bitmap;
		for (unsigned r = 0; r < bm->rows; r++) {
			const unsigned char *row = bm->buffer + (size_t)r * (unsigned)bm->pitch;
			for (unsigned c = 0; c < bm->width; c++) {
				if (row[c] == 0)
					continue;
				int x = pg->fill->left + (int)c, y = -pg->fill->top + (int)r;
				if (!any_ink) {
					left = x, right = x + 1, top = y, bottom = y + 1;
					any_ink = 1;
				} else {
					if (x < left) left = x;
					if (x + 1 > right) right = x + 1;
					if (y < top) top = y;
					if (y + 1 > bottom) bottom = y + 1;
				}
			}
		}
		if (is_latin_alnum(cp)) {
			latin = 1;
		} else if (is_measured(cp)) {
			uint32_t h = ink_rows(bm);
			if (h > 0 && h < min_height)
				min_height = h;
		}
	}
	if (!any_ink) {
		rc = aimark__error_set(AIMARK_EINVAL, "label text draws nothing visible");
		goto fail;
	}
	if (latin) {
		/* Latin letters and digits: the cap height, measured on "I". */
		uint32_t h = 0;
		if ((rc = glyph_ink_height(face, 'I', dy, &h)) < 0)
			goto fail;
		if (h == 0)
			h = (uint32_t)(bottom - top);
		if (h < min_height)
			min_height = h;
	}
	if (min_height == UINT32_MAX)
		min_height = (uint32_t)(bottom - top);
	m->ink_left = left, m->ink_top = top, m->ink_right = right, m->ink_bottom = bottom;
	m->text_height = min_height;
	if (stroker != NULL)
		FT_Stroker_Done(stroker);
	return 0;
fail:
	if (stroker != NULL)
		FT_Stroker_Done(stroker);
	line_dispose(ln);
	return rc;
}

int aimark__label_measure(aimark__label_font *font, const char *text, double size, double phase_x, double phase_y,
			  aimark__label_metrics *out)
{
	line ln;
	RETURN_IF_ERR(lay_out(font, text, size, phase_x, phase_y, 0.0, &ln, out));
	line_dispose(&ln);
	return 0;
}

int aimark__label_fit(aimark__label_font *font, const char *text, uint32_t target, uint32_t *size_out,
		      aimark__label_metrics *metrics_out)
{
	aimark__label_metrics m;
	RETURN_IF(target == 0, AIMARK_EINVAL, "label text height 0");
	RETURN_IF_ERR(aimark__label_measure(font, text, 64.0, 0.0, 0.0, &m));
	RETURN_IF(m.text_height == 0, AIMARK_EINVAL, "label text has no measurable height");
	double guess = ceil((double)target * 64.0 / m.text_height);
	uint32_t s = guess < 1.0 ? 1u : guess > AIMARK__LABEL_MAX_PIXEL_SIZE ? AIMARK__LABEL_MAX_PIXEL_SIZE : (uint32_t)guess;
	RETURN_IF_ERR(aimark__label_measure(font, text, s, 0.0, 0.0, &m));
	/* Grow until tall enough, then shrink while still tall enough; each bounded. */
	for (int i = 0; m.text_height < target; i++) {
		RETURN_IF(s >= AIMARK__LABEL_MAX_PIXEL_SIZE || i >= 64, AIMARK_ELIMIT,
			  "label text cannot reach a height of %u pixels (at most pixel size %d)", target, AIMARK__LABEL_MAX_PIXEL_SIZE);
		s++;
		RETURN_IF_ERR(aimark__label_measure(font, text, s, 0.0, 0.0, &m));
	}
	for (int i = 0; s > 1 && i < 64; i++) {
		aimark__label_metrics smaller;
		RETURN_IF_ERR(aimark__label_measure(font, text, s - 1, 0.0, 0.0, &smaller));
		if (smaller.text_height < target)
			break;
		s--;
		m = smaller;
	}
	*size_out = s;
	if (metrics_out != NULL)
		*metrics_out = m;
	return 0;
}

static void blit_max(unsigned char *dst, uint32_t w, uint32_t h, const FT_BitmapGlyph g, int ox, int oy)
{
	const FT_Bitmap *bm = &g->bitmap;
	for (unsigned r = 0; r < bm->rows; r++) {
		long y = (long)oy - g->top + (long)r;
		if (y < 0 || y >= (long)h)
			continue;
		const unsigned char *row = bm->buffer + (size_t)r * (unsigned)bm->pitch;
		unsigned char *out = dst + (size_t)y * w;
		for (unsigned c = 0; c < bm->width; c++) {
			long x = (long)ox + g->left + (long)c;
			if (x < 0 || x >= (long)w || row[c] == 0)
				continue;
			if (row[c] > out[x])
				out[x] = row[c];
		}
	}
}

int aimark__label_render(aimark__label_font *font, const char *text, double size, double phase_x, double phase_y,
			 double halo, uint32_t pad, aimark__label_mask *out)
{
	memset(out, 0, sizeof *out);
	RETURN_IF(pad > 1u << 16, AIMARK_EINVAL, "label padding %u too large", pad);
	line ln;
	aimark__label_metrics m;
	RETURN_IF_ERR(lay_out(font, text, size, phase_x, phase_y, halo, &ln, &m));
	uint64_t w = (uint64_t)(m.ink_right - m.ink_left) + 2u * pad;
	uint64_t h = (uint64_t)(m.ink_bottom - m.ink_top) + 2u * pad;
	int rc = 0;
	if (w * h > MAX_MASK_PIXELS) {
		rc = aimark__error_set(AIMARK_ELIMIT, "label of %llux%llu pixels exceeds the %llu-pixel limit", (unsigned long long)w,
				       (unsigned long long)h, (unsigned long long)MAX_MASK_PIXELS);
		goto done;
	}
	out->fill = aimark__calloc((size_t)(w * h), 1);
	if (out->fill == NULL || (halo > 0.0 && (out->halo = aimark__calloc((size_t)(w * h), 1)) == NULL)) {
		rc = aimark__error_set(AIMARK_ENOMEM, "out of memory");
		goto done;
	}
	out->width = (uint32_t)w;
	out->height = (uint32_t)h;
	out->ink_x = pad;
	out->ink_y = pad;
	out->ink_width = (uint32_t)(m.ink_right - m.ink_left);
	out->ink_height = (uint32_t)(m.ink_bottom - m.ink_top);
	out->text_height = m.text_height;
	/* Mask coordinates of the pen origin. */
	int ox = (int)pad - m.ink_left, oy = (int)pad - m.ink_top;
	for (size_t i = 0; i < ln.count; i++) {
		blit_max(out->fill, out->width, out->height, ln.glyphs[i].fill, ox, oy);
		if (out->halo != NULL && ln.glyphs[i].halo != NULL)
			blit_max(out->halo, out->width, out->height, ln.glyphs[i].halo, ox, oy);
	}
	if (out->halo != NULL)
		for (size_t i = 0; i < (size_t)(w * h); i++)
			if (out->fill[i] > out->halo[i])
				out->halo[i] = out->fill[i];
done:
	line_dispose(&ln);
	if (rc < 0)
		aimark__label_mask_dispose(out);
	return rc;
}

int aimark__label_font_covers(aimark__label_font *font, const char *text)
{
	FT_Face face = aimark__label_font_face(font);
	size_t len = strlen(text), pos = 0;
	while (pos < len) {
		uint32_t cp;
		if (aimark__explicit_text_next(text, len, &pos, &cp) != 0 || FT_Get_Char_Index(face, cp) == 0)
			return 0;
	}
	return 1;
}

#else /* !AIMARK__HAVE_FREETYPE */

static int no_freetype(void)
{
	return aimark__error_set(AIMARK_EUNSUPPORTED, "visible labels need FreeType, and this build of aimark has none");
}

int aimark__label_measure(aimark__label_font *font, const char *text, double size, double phase_x, double phase_y,
			  aimark__label_metrics *out)
{
	(void)font, (void)text, (void)size, (void)phase_x, (void)phase_y, (void)out;
	return no_freetype();
}

int aimark__label_fit(aimark__label_font *font, const char *text, uint32_t target, uint32_t *size_out,
		      aimark__label_metrics *metrics_out)
{
	(void)font, (void)text, (void)target, (void)size_out, (void)metrics_out;
	return no_freetype();
}

int aimark__label_render(aimark__label_font *font, const char *text, double size, double phase_x, double phase_y,
			 double halo, uint32_t pad, aimark__label_mask *out)
{
	(void)font, (void)text, (void)size, (void)phase_x, (void)phase_y, (void)halo, (void)pad;
	memset(out, 0, sizeof *out);
	return no_freetype();
}

int aimark__label_font_covers(aimark__label_font *font, const char *text)
{
	(void)font, (void)text;
	return 0;
}

#endif

void aimark__label_mask_dispose(aimark__label_mask *mask)
{
	if (mask == NULL)
		return;
	aimark__free(mask->fill);
	aimark__free(mask->halo);
	memset(mask, 0, sizeof *mask);
}

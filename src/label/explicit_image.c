/* Draws a visible explicit label into an image: geometry, automatic contrast, blending. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/internal.h"
#include "label/explicit_image.h"

static const char *const position_names[AIMARK__EXPLICIT_POSITION_COUNT] = {
	"top-left", "top-right", "bottom-left", "bottom-right", "top", "bottom",
};

int aimark__explicit_position_parse(const char *name)
{
	if (name == NULL)
		return AIMARK__EXPLICIT_BOTTOM_RIGHT;
	for (int i = 0; i < AIMARK__EXPLICIT_POSITION_COUNT; i++)
		if (strcmp(name, position_names[i]) == 0)
			return i;
	return aimark__error_set(AIMARK_EINVAL,
				 "unknown explicit label position \"%.40s\" (top-left, top-right, bottom-left, bottom-right, top, bottom)", name);
}

const char *aimark__explicit_position_name(int position)
{
	return position >= 0 && position < AIMARK__EXPLICIT_POSITION_COUNT ? position_names[position] : "?";
}

uint32_t aimark__explicit_image_required_height(uint32_t width, uint32_t height)
{
	uint32_t shortest = width < height ? width : height;
	uint64_t req = ((uint64_t)shortest * AIMARK__EXPLICIT_IMAGE_HEIGHT_PERMILLE + 999) / 1000;
	return req < AIMARK__EXPLICIT_IMAGE_MIN_TEXT_PX ? AIMARK__EXPLICIT_IMAGE_MIN_TEXT_PX : (uint32_t)req;
}

int aimark__explicit_image_place(const aimark__label_metrics *m, uint32_t pixel_size, int position, uint32_t width,
				 uint32_t height, aimark__explicit_image_geometry *g)
{
	memset(g, 0, sizeof *g);
	RETURN_IF(position < 0 || position >= AIMARK__EXPLICIT_POSITION_COUNT, AIMARK_EINVAL, "bad label position %d", position);
	RETURN_IF(width == 0 || height == 0, AIMARK_EINVAL, "image of %ux%u pixels", width, height);
	uint32_t shortest = width < height ? width : height;
	g->required_height = aimark__explicit_image_required_height(width, height);
	g->pixel_size = pixel_size;
	g->text_height = m->text_height;
	g->halo = pixel_size * 0.07 < 1.0 ? 1.0 : pixel_size * 0.07;
	uint32_t pad = (uint32_t)lround(m->text_height * 0.25);
	uint32_t min_pad = (uint32_t)ceil(g->halo) + 1;
	g->pad = pad < min_pad ? min_pad : pad;
	long margin = lround(shortest * 0.02);
	g->margin = margin < 2 ? 2 : (uint32_t)margin;
	g->ink_width = (uint32_t)(m->ink_right - m->ink_left);
	g->ink_height = (uint32_t)(m->ink_bottom - m->ink_top);
	uint64_t bw = (uint64_t)g->ink_width + 2u * g->pad, bh = (uint64_t)g->ink_height + 2u * g->pad;
	RETURN_IF(bw + 2u * g->margin > width || bh + 2u * g->margin > height, AIMARK_ELIMIT,
		  "the explicit label cannot fit: at text height %u pixels (5%% of the shortest side, at least %d) it needs "
		  "%llux%llu pixels plus a %u-pixel margin, but the image is %ux%u",
		  g->required_height, AIMARK__EXPLICIT_IMAGE_MIN_TEXT_PX, (unsigned long long)bw, (unsigned long long)bh, g->margin,
		  width, height);
	g->box_width = (uint32_t)bw;
	g->box_height = (uint32_t)bh;
	uint32_t left = g->margin, right = width - g->margin - g->box_width, centre = (width - g->box_width) / 2;
	uint32_t top = g->margin, bottom = height - g->margin - g->box_height;
	switch (position) {
	case AIMARK__EXPLICIT_TOP_LEFT: g->box_x = left, g->box_y = top; break;
	case AIMARK__EXPLICIT_TOP_RIGHT: g->box_x = right, g->box_y = top; break;
	case AIMARK__EXPLICIT_BOTTOM_LEFT: g->box_x = left, g->box_y = bottom; break;
	case AIMARK__EXPLICIT_BOTTOM_RIGHT: g->box_x = right, g->box_y = bottom; break;
	case AIMARK__EXPLICIT_TOP: g->box_x = centre, g->box_y = top; break;
	default: g->box_x = centre, g->box_y = bottom; break;
	}
	g->ink_x = g->box_x + g->pad;
	g->ink_y = g->box_y + g->pad;
	return 0;
}

int aimark__explicit_image_layout(aimark__label_font *font, const char *text, int position, uint32_t width, uint32_t height,
				  aimark__explicit_image_geometry *g)
{
	memset(g, 0, sizeof *g);
	RETURN_IF(position < 0 || position >= AIMARK__EXPLICIT_POSITION_COUNT, AIMARK_EINVAL, "bad label position %d", position);
	RETURN_IF(width == 0 || height == 0, AIMARK_EINVAL, "image of %ux%u pixels", width, height);
	uint32_t req = aimark__explicit_image_required_height(width, height);
	/* The label can never be shorter than its text: fail early and clearly on small images. */
	RETURN_IF((uint64_t)req + 2 > height || (uint64_t)req + 2 > width, AIMARK_ELIMIT,
		  "the explicit label cannot fit: its text must be at least %u pixels high (5%% of the shortest side, at least %d), "
		  "but the image is %ux%u", req, AIMARK__EXPLICIT_IMAGE_MIN_TEXT_PX, width, height);
	aimark__label_metrics m;
	uint32_t size;
	RETURN_IF_ERR(aimark__label_fit(font, text, req, &size, &m));
	return aimark__explicit_image_place(&m, size, position, width, height, g);
}

/* ---- colour ---- */

/* WCAG 2 relative luminance of an 8-bit sRGB value, per channel. */
static double linear(unsigned v)
{
	double c = v / 255.0;
	return c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4);
}

typedef struct lum_table {
	double lin[256];
} lum_table;

static void lum_table_init(lum_table *t)
{
	for (unsigned i = 0; i < 256; i++)
		t->lin[i] = linear(i);
}

static double ratio(double a, double b)
{
	return a > b ? (a + 0.05) / (b + 0.05) : (b + 0.05) / (a + 0.05);
}

/* 8-bit view of sample `k` of pixel `p` (16-bit images: the high byte). */
static unsigned sample8(const aimark__image *img, const unsigned char *p, uint32_t k)
{
	if (img->bit_depth == 16) {
		uint16_t v;
		memcpy(&v, p + 2 * k, 2);
		return v >> 8;
	}
	return p[k];
}

static double pixel_lum(const aimark__image *img, const lum_table *t, const unsigned char *p)
{
	if (img->channels >= 3)
		return 0.2126 * t->lin[sample8(img, p, 0)] + 0.7152 * t->lin[sample8(img, p, 1)] + 0.0722 * t->lin[sample8(img, p, 2)];
	return t->lin[sample8(img, p, 0)];
}

/* Luminance after compositing `colour` (0 or 255) at opacity `a` over the pixel, as blend() will write it. */
static double composite_lum(const aimark__image *img, const lum_table *t, const unsigned char *p, unsigned colour, double a)
{
	uint32_t colours = img->channels >= 3 ? 3 : 1;
	unsigned v[3];
	for (uint32_t k = 0; k < colours; k++) {
		double s = sample8(img, p, k);
		long r = lround(s + (colour - s) * a);
		v[k] = r < 0 ? 0 : r > 255 ? 255 : (unsigned)r;
	}
	if (colours == 3)
		return 0.2126 * t->lin[v[0]] + 0.7152 * t->lin[v[1]] + 0.0722 * t->lin[v[2]];
	return t->lin[v[0]];
}

#define LUM_BINS 1024

/* Background statistics under the label box. */
typedef struct background {
	double lo, hi;  /* 2nd and 98th percentile luminance (conservative bin edges) */
	unsigned alpha_min;
} background;

static void measure_background(const aimark__image *img, const lum_table *t, const aimark__explicit_image_geometry *g,
			       background *bg)
{
	static const double tail = 0.02;
	uint32_t hist[LUM_BINS];
	memset(hist, 0, sizeof hist);
	size_t bpp = (size_t)img->channels * (img->bit_depth / 8);
	int has_alpha = img->channels == 2 || img->channels == 4;
	bg->alpha_min = 255;
	uint64_t n = 0;
	for (uint32_t y = g->box_y; y < g->box_y + g->box_height; y++) {
		const unsigned char *row = img->pixels + (size_t)y * img->stride;
		for (uint32_t x = g->box_x; x < g->box_x + g->box_width; x++) {
			const unsigned char *p = row + (size_t)x * bpp;
			double l = pixel_lum(img, t, p);
			int b = (int)(l * LUM_BINS);
			hist[b < 0 ? 0 : b >= LUM_BINS ? LUM_BINS - 1 : b]++;
			n++;
			if (has_alpha) {
				unsigned a = sample8(img, p, img->channels - 1);
				if (a < bg->alpha_min)
					bg->alpha_min = a;
			}
		}
	}
	uint64_t cut = (uint64_t)floor(n * tail), acc = 0;
	int b = 0;
	for (; b < LUM_BINS - 1; b++) {
		acc += hist[b];
		if (acc > cut)
			break;
	}
	bg->lo = (double)b / LUM_BINS;
	acc = 0;
	b = LUM_BINS - 1;
	for (; b > 0; b--) {
		acc += hist[b];
		if (acc > cut)
			break;
	}
	bg->hi = (double)(b + 1) / LUM_BINS;
	if (bg->hi > 1.0)
		bg->hi = 1.0;
}

/* Worst contrast of `text_lum` against the box composited at opacity `a` over every pixel under it. */
static double box_worst_ratio(const aimark__image *img, const lum_table *t, const aimark__explicit_image_geometry *g,
			      unsigned box_colour, double text_lum, double a)
{
	size_t bpp = (size_t)img->channels * (img->bit_depth / 8);
	double worst = 21.0;
	for (uint32_t y = g->box_y; y < g->box_y + g->box_height; y++) {
		const unsigned char *row = img->pixels + (size_t)y * img->stride;
		for (uint32_t x = g->box_x; x < g->box_x + g->box_width; x++) {
			double r = ratio(text_lum, composite_lum(img, t, row + (size_t)x * bpp, box_colour, a));
			if (r < worst)
				worst = r;
		}
	}
	return worst;
}

/* ---- drawing ---- */

/* Coverage (0-1) of a rounded rectangle w x h with corner radius `rad` at pixel (x, y). */
static double rounded_cover(uint32_t x, uint32_t y, uint32_t w, uint32_t h, double rad)
{
	double px = x + 0.5, py = y + 0.5;
	double cx = px < rad ? rad : px > w - rad ? w - rad : px;
	double cy = py < rad ? rad : py > h - rad ? h - rad : py;
	double dx = px - cx, dy = py - cy;
	if (dx == 0.0 && dy == 0.0)
		return 1.0;
	double d = sqrt(dx * dx + dy * dy);
	double c = rad + 0.5 - d;
	return c <= 0.0 ? 0.0 : c >= 1.0 ? 1.0 : c;
}

typedef struct style {
	int boxed, dark_text;
	double box_opacity;
} style;

static void blend(aimark__image *img, const aimark__explicit_image_geometry *g, const aimark__label_mask *mask, const style *s)
{
	uint32_t colours = img->channels >= 3 ? 3 : 1;
	size_t sample = img->bit_depth / 8;
	size_t bpp = (size_t)img->channels * sample;
	double full = img->bit_depth == 16 ? 65535.0 : 255.0;
	double text = s->dark_text ? 0.0 : full, back = s->dark_text ? full : 0.0;
	double rad = g->pad * 0.8;
	for (uint32_t y = 0; y < mask->height; y++) {
		unsigned char *row = img->pixels + (size_t)(g->box_y + y) * img->stride;
		for (uint32_t x = 0; x < mask->width; x++) {
			size_t i = (size_t)y * mask->width + x;
			double under = s->boxed ? s->box_opacity * rounded_cover(x, y, mask->width, mask->height, rad)
						: mask->halo[i] / 255.0;
			double over = mask->fill[i] / 255.0;
			if (under == 0.0 && over == 0.0)
				continue;
			unsigned char *p = row + (size_t)(g->box_x + x) * bpp;
			for (uint32_t k = 0; k < colours; k++) {
				double v;
				if (sample == 2) {
					uint16_t u;
					memcpy(&u, p + 2 * k, 2);
					v = u;
				} else {
					v = p[k];
				}
				v += (back - v) * under;
				v += (text - v) * over;
				long r = lround(v);
				r = r < 0 ? 0 : r > (long)full ? (long)full : r;
				if (sample == 2) {
					uint16_t u = (uint16_t)r;
					memcpy(p + 2 * k, &u, 2);
				} else {
					p[k] = (unsigned char)r;
				}
			}
		}
	}
}

/* Picks outline or box, polarity and box opacity; returns the contrast ratio achieved. */
static double choose_style(const aimark__image *img, const aimark__explicit_image_geometry *g, style *s, unsigned *alpha_min)
{
	lum_table t;
	lum_table_init(&t);
	background bg;
	measure_background(img, &t, g, &bg);
	*alpha_min = bg.alpha_min;
	double white = ratio(1.0, bg.hi), black = ratio(0.0, bg.lo);
	memset(s, 0, sizeof *s);
	s->dark_text = black > white;
	double best = s->dark_text ? black : white;
	if (best >= AIMARK__EXPLICIT_IMAGE_MIN_CONTRAST)
		return best;
	/* A busy or mid-tone background: a backing box, as transparent as the contrast allows. */
	s->boxed = 1;
	unsigned box_colour = s->dark_text ? 255 : 0;
	double text_lum = s->dark_text ? 0.0 : 1.0;
	for (int step = 15; step <= 20; step++) { /* 0.75 to 1: a fainter box lets busy detail through */
		double a = step * 0.05;
		double r = box_worst_ratio(img, &t, g, box_colour, text_lum, a);
		if (r >= AIMARK__EXPLICIT_IMAGE_MIN_CONTRAST || step == 20) {
			s->box_opacity = a;
			return r;
		}
	}
	return 0.0; /* not reached */
}

int aimark__explicit_image_apply(aimark__image *img, const aimark_mark_options *o, aimark__explicit_image_info *info)
{
	if (info != NULL)
		memset(info, 0, sizeof *info);
	RETURN_IF(img == NULL || img->pixels == NULL || img->width == 0 || img->height == 0, AIMARK_EINVAL, "explicit label: no image");
	RETURN_IF(img->channels < 1 || img->channels > 4 || (img->bit_depth != 8 && img->bit_depth != 16), AIMARK_EUNSUPPORTED,
		  "explicit label: %u channels at %u bits unsupported", img->channels, img->bit_depth);
	RETURN_IF(img->stride < (size_t)img->width * img->channels * (img->bit_depth / 8), AIMARK_EINVAL, "explicit label: bad image stride");
	RETURN_IF(o == NULL, AIMARK_EINVAL, "explicit label: no options");
	const char *text = o->explicit_text;
	if (text == NULL) {
		text = aimark__explicit_text_default(o->explicit_language);
		RETURN_IF(text == NULL, AIMARK_EINVAL, "unknown explicit label language \"%.20s\" (zh or en)", o->explicit_language);
	}
	unsigned int elements;
	RETURN_IF_ERR(aimark__explicit_text_check(text, &elements));
	int position = aimark__explicit_position_parse(o->explicit_position);
	RETURN_IF_ERR(position);

	aimark__label_font *font = NULL;
	RETURN_IF_ERR(aimark__label_font_open(&font, o->explicit_font));
	aimark__explicit_image_geometry g;
	aimark__label_mask mask;
	memset(&mask, 0, sizeof mask);
	int rc = aimark__explicit_image_layout(font, text, position, img->width, img->height, &g);
	if (rc == 0)
		rc = aimark__label_render(font, text, g.pixel_size, 0.0, 0.0, g.halo, g.pad, &mask);
	if (rc == 0 && (mask.width != g.box_width || mask.height != g.box_height))
		rc = aimark__error_set(AIMARK_EUNSUPPORTED, "explicit label: the font rendered %ux%u pixels, laid out as %ux%u",
				       mask.width, mask.height, g.box_width, g.box_height);
	if (rc < 0)
		goto done;

	style s;
	unsigned alpha_min;
	double contrast = choose_style(img, &g, &s, &alpha_min);
	blend(img, &g, &mask, &s);
	if (info != NULL) {
		snprintf(info->text, sizeof info->text, "%s", text);
		snprintf(info->position, sizeof info->position, "%s", aimark__explicit_position_name(position));
		snprintf(info->font, sizeof info->font, "%s", aimark__label_font_source(font));
		info->elements = elements;
		info->geometry = g;
		info->boxed = s.boxed;
		info->dark_text = s.dark_text;
		info->box_opacity = s.box_opacity;
		info->contrast_ratio = contrast;
		info->alpha_min = alpha_min;
	}
done:
	aimark__label_mask_dispose(&mask);
	aimark__label_font_close(font);
	return rc;
}

/*
 * Finds a visible label this library drew, by template matching: the
 * candidate texts are re-rendered with the bundled font where and as large
 * as aimark__explicit_image_apply would have put them (for the image's
 * size, for sizes it may have had before a 0.45x-2.2x resize, and a few
 * neighbouring sizes), and compared with the image's luma by normalised
 * cross-correlation over the glyphs and their outline, within a small
 * search window. Work happens at a reduced scale where the text is about
 * 20 pixels high, so the cost does not grow with the image.
 */
#include <math.h>
#include <string.h>

#include "core/internal.h"
#include "label/explicit_image.h"

/* |NCC| at or above which a label is reported, and the least luma step between text and outline. */
#define DETECT_THRESHOLD 0.60
#define DETECT_MIN_STEP 40.0
/* Text height at the working scale. */
#define WORK_TEXT_HEIGHT 20.0
/* Resize factors considered when the original label was at the legibility floor. */
#define RESIZE_MIN 0.45
#define RESIZE_MAX 2.2

typedef struct candidate {
	double score;       /* |NCC| */
	double step;        /* mean luma of text minus that of the outline, signed by the polarity */
	int light_text;
	const char *text;
	int position;
	double text_height; /* in image pixels */
} candidate;

/* Luma (0-255) of the image at integer pixel (x, y). */
static double luma_at(const aimark__image *img, uint32_t x, uint32_t y)
{
	const unsigned char *p = img->pixels + (size_t)y * img->stride + (size_t)x * img->channels * (img->bit_depth / 8);
	unsigned v[3];
	uint32_t n = img->channels >= 3 ? 3 : 1;
	for (uint32_t k = 0; k < n; k++) {
		if (img->bit_depth == 16) {
			uint16_t u;
			memcpy(&u, p + 2 * k, 2);
			v[k] = u >> 8;
		} else {
			v[k] = p[k];
		}
	}
	if (n == 1)
		return v[0];
	return 0.299 * v[0] + 0.587 * v[1] + 0.114 * v[2];
}

/*
 * The image's luma averaged over k x k blocks (the last blocks clipped to the image). The work scale's cells
 * span several image pixels on all but small images: read from this plane they cost k^2 times fewer reads.
 */
typedef struct luma_plane {
	float *px;
	uint32_t w, h, k;
} luma_plane;

/*
 * What the detector examines: an image of `width` x `height` pixels, held as `img` at 1/scale of that
 * (a JPEG decoded at a DCT scaling), and its plane when it has one (always when scale > 1).
 */
typedef struct view {
	const aimark__image *img;
	uint32_t width, height, scale;
	const luma_plane *pl;
} view;

static int plane_make(const aimark__image *img, uint32_t k, uint32_t unit, luma_plane *p)
{
	p->k = k * unit; /* in pixels of the full-size image, whose pixels are `unit` x `unit` of this one's */
	p->w = (img->width + k - 1) / k;
	p->h = (img->height + k - 1) / k;
	p->px = aimark__calloc((size_t)p->w * p->h, sizeof *p->px);
	double *acc = aimark__calloc(p->w, sizeof *acc);
	if (p->px == NULL || acc == NULL) {
		aimark__free(p->px);
		aimark__free(acc);
		p->px = NULL;
		return aimark__error_set(AIMARK_ENOMEM, "out of memory");
	}
	for (uint32_t by = 0; by < p->h; by++) {
		const uint32_t y0 = by * k, y1 = y0 + k < img->height ? y0 + k : img->height;
		for (uint32_t i = 0; i < p->w; i++)
			acc[i] = 0.0;
		for (uint32_t y = y0; y < y1; y++) {
			const unsigned char *row = img->pixels + (size_t)y * img->stride;
			for (uint32_t i = 0, x = 0; i < p->w; i++) {
				const uint32_t x1 = x + k < img->width ? x + k : img->width;
				double sum = 0.0;
				if (img->bit_depth == 8 && img->channels >= 3) { /* luma_at's weights, in the common case without its loop */
					const unsigned char *q = row + (size_t)x * img->channels;
					for (; x < x1; x++, q += img->channels)
						sum += 0.299 * q[0] + 0.587 * q[1] + 0.114 * q[2];
				} else {
					for (; x < x1; x++)
						sum += luma_at(img, x, y);
				}
				acc[i] += sum;
			}
		}
		for (uint32_t i = 0; i < p->w; i++) {
			const uint32_t x0 = i * k, x1 = x0 + k < img->width ? x0 + k : img->width;
			p->px[(size_t)by * p->w + i] = (float)(acc[i] / ((double)(x1 - x0) * (y1 - y0)));
		}
	}
	aimark__free(acc);
	return 0;
}

/* Luma at integer (x, y) of the plane when there is one, else of the image. */
static inline double sample_at(const aimark__image *img, const luma_plane *pl, long x, long y)
{
	return pl ? pl->px[(size_t)y * pl->w + (size_t)x] : luma_at(img, (uint32_t)x, (uint32_t)y);
}

/*
 * The image's luma over cells of d x d image pixels: cell (i, j) averages the
 * pixels whose centres fall in [x0 + i*d, x0 + (i+1)*d) x [y0 + j*d, ...).
 * Cells with no pixel inside the image are NaN. Large cells are sampled on
 * a grid of about 4 x 4 pixels, which is enough to average them. With a
 * plane `pl` whose blocks are no larger than the cells, its block averages
 * stand in for the pixels (block centres in the cell).
 */
static int work_luma(const view *v, double x0, double y0, double d, uint32_t w, uint32_t h, float **out)
{
	*out = NULL;
	const aimark__image *img = v->img;
	const luma_plane *pl = v->pl;
	long W = (long)img->width, H = (long)img->height;
	if (pl != NULL && (d >= pl->k || v->scale > 1)) { /* a scaled image is read through its plane only */
		x0 /= pl->k, y0 /= pl->k, d /= pl->k;
		W = (long)pl->w, H = (long)pl->h;
	} else {
		pl = NULL;
	}
	long step = d >= 8.0 ? (long)(d / 4.0) : 1;
	float *buf = aimark__calloc((size_t)w * h, sizeof *buf);
	RETURN_ENOMEM_IF_NULL(buf);
	for (uint32_t j = 0; j < h; j++) {
		double ya = y0 + j * d, yb = ya + d;
		long r0 = (long)ceil(ya - 0.5), r1 = (long)ceil(yb - 0.5); /* rows whose centre y+0.5 is in [ya, yb) */
		if (r0 < 0) r0 = 0;
		if (r1 > H) r1 = H;
		for (uint32_t i = 0; i < w; i++) {
			double xa = x0 + i * d, xb = xa + d;
			long c0 = (long)ceil(xa - 0.5), c1 = (long)ceil(xb - 0.5);
			if (c0 < 0) c0 = 0;
			if (c1 > W) c1 = W;
			double sum = 0.0;
			long n = 0;
			for (long y = r0 + step / 2; y < r1; y += step)
				for (long x = c0 + step / 2; x < c1; x += step, n++)
					sum += sample_at(img, pl, x, y);
			buf[(size_t)j * w + i] = n > 0 ? (float)(sum / n) : NAN;
		}
	}
	*out = buf;
	return 0;
}

/* The template: fill coverage over the support (glyphs plus outline). */
typedef struct tmpl {
	uint32_t width, height;
	uint32_t ink_x, ink_y;
	size_t n;
	uint32_t *index;  /* support pixels, as y * width + x */
	float *t;         /* centred template values on the support */
	unsigned char *kind; /* 2 text core, 1 outline ring, 0 edge */
	double norm;      /* sqrt(sum t^2) */
} tmpl;

static void tmpl_dispose(tmpl *t)
{
	aimark__free(t->index);
	aimark__free(t->t);
	aimark__free(t->kind);
	memset(t, 0, sizeof *t);
}

static int tmpl_make(aimark__label_font *font, const char *text, double size, double halo, double phase_x, double phase_y, tmpl *out)
{
	memset(out, 0, sizeof *out);
	if (halo < 1.2)
		halo = 1.2; /* keep an outline ring wide enough to sample at small scales */
	uint32_t pad = (uint32_t)ceil(halo) + 1;
	aimark__label_mask m;
	RETURN_IF_ERR(aimark__label_render(font, text, size, phase_x, phase_y, halo, pad, &m));
	size_t total = (size_t)m.width * m.height, n = 0;
	for (size_t i = 0; i < total; i++)
		n += m.halo[i] >= 128;
	int rc = 0;
	out->index = aimark__calloc(n ? n : 1, sizeof *out->index);
	out->t = aimark__calloc(n ? n : 1, sizeof *out->t);
	out->kind = aimark__calloc(n ? n : 1, 1);
	if (out->index == NULL || out->t == NULL || out->kind == NULL) {
		rc = aimark__error_set(AIMARK_ENOMEM, "out of memory");
		goto done;
	}
	double mean = 0.0;
	for (size_t i = 0, k = 0; i < total; i++) {
		if (m.halo[i] < 128)
			continue;
		out->index[k] = (uint32_t)i;
		out->t[k] = m.fill[i] / 255.0f;
		out->kind[k] = m.fill[i] >= 230 ? 2 : m.fill[i] <= 25 ? 1 : 0;
		mean += out->t[k];
		k++;
	}
	out->n = n;
	if (n > 0)
		mean /= (double)n;
	double ss = 0.0;
	for (size_t k = 0; k < n; k++) {
		out->t[k] -= (float)mean;
		ss += (double)out->t[k] * out->t[k];
	}
	out->norm = sqrt(ss);
	out->width = m.width;
	out->height = m.height;
	out->ink_x = m.ink_x;
	out->ink_y = m.ink_y;
done:
	aimark__label_mask_dispose(&m);
	if (rc < 0)
		tmpl_dispose(out);
	return rc;
}

/*
 * NCC of the template placed with its top-left at (ox, oy) of the luma
 * buffer; NAN when it does not fit or the image is flat there. `off` holds
 * the support pixels' offsets in the buffer (y * lw + x).
 */
static double ncc_at(const tmpl *t, const size_t *off, const float *luma, uint32_t lw, uint32_t lh, long ox, long oy, double *step)
{
	if (ox < 0 || oy < 0 || ox + (long)t->width > (long)lw || oy + (long)t->height > (long)lh || t->n < 16 || t->norm <= 0.0)
		return NAN;
	const float *base = luma + (size_t)oy * lw + (size_t)ox;
	double sx = 0.0, sxx = 0.0, stx = 0.0, core = 0.0, ring = 0.0;
	size_t ncore = 0, nring = 0;
	for (size_t k = 0; k < t->n; k++) {
		double v = base[off[k]];
		if (isnan(v))
			return NAN;
		sx += v;
		sxx += v * v;
		stx += t->t[k] * v;
		if (t->kind[k] == 2)
			core += v, ncore++;
		else if (t->kind[k] == 1)
			ring += v, nring++;
	}
	double var = sxx - sx * sx / (double)t->n;
	if (var <= 1e-6)
		return NAN;
	*step = (ncore && nring) ? core / ncore - ring / nring : 0.0;
	return stx / (t->norm * sqrt(var));
}

/* |NCC| over every `stride`-th support pixel, for a first pass over the search window; -1 when undefined. */
static double ncc_coarse(const tmpl *t, const size_t *off, const float *luma, size_t stride)
{
	double sx = 0.0, sxx = 0.0, stx = 0.0, st = 0.0, stt = 0.0;
	size_t n = 0;
	for (size_t k = 0; k < t->n; k += stride, n++) {
		double v = luma[off[k]];
		if (isnan(v))
			return -1.0;
		double tk = t->t[k];
		sx += v, sxx += v * v, stx += tk * v, st += tk, stt += tk * tk;
	}
	if (n < 8)
		return -1.0;
	double vx = sxx - sx * sx / n, vt = stt - st * st / n;
	if (vx <= 1e-6 || vt <= 1e-12)
		return -1.0;
	return fabs(stx - st * sx / n) / sqrt(vx * vt);
}

/* One hypothesis: where the label's ink starts, and its text height, in the examined image. */
typedef struct predicted {
	double ink_x, ink_y;
	double text_height;
} predicted;

/* The geometry `g` (laid out for some image) resized by `r` (positions and sizes) and `j` (sizes only, about the anchor). */
static void predict(const aimark__explicit_image_geometry *g, int position, uint32_t width, uint32_t height, double r, double j,
		    predicted *p)
{
	double s = r * j;
	double bw = g->box_width * s, bh = g->box_height * s, margin = g->margin * r, pad = g->pad * s;
	double bx, by;
	switch (position) {
	case AIMARK__EXPLICIT_TOP_LEFT: bx = margin, by = margin; break;
	case AIMARK__EXPLICIT_TOP_RIGHT: bx = width - margin - bw, by = margin; break;
	case AIMARK__EXPLICIT_BOTTOM_LEFT: bx = margin, by = height - margin - bh; break;
	case AIMARK__EXPLICIT_BOTTOM_RIGHT: bx = width - margin - bw, by = height - margin - bh; break;
	case AIMARK__EXPLICIT_TOP: bx = (width - bw) / 2.0, by = margin; break;
	default: bx = (width - bw) / 2.0, by = height - margin - bh; break;
	}
	p->ink_x = bx + pad;
	p->ink_y = by + pad;
	p->text_height = g->text_height * s;
}

/* Matches template `t` (rendered at 1/d of the predicted size) around prediction `p`; updates *best. */
static int match(const view *src, const tmpl *t, double d, const char *text, int position, const predicted *p, candidate *best)
{
	uint32_t shortest = src->width < src->height ? src->width : src->height;
	long win = 3 + lround(0.005 * shortest / d);
	/* Work-scale origin: the template's top-left at offset (win, win) when the prediction is exact. */
	double x0 = p->ink_x - (t->ink_x + win) * d, y0 = p->ink_y - (t->ink_y + win) * d;
	uint32_t lw = t->width + 2 * (uint32_t)win, lh = t->height + 2 * (uint32_t)win;
	float *luma = NULL;
	size_t *off = aimark__calloc(t->n ? t->n : 1, sizeof *off);
	RETURN_ENOMEM_IF_NULL(off);
	for (size_t k = 0; k < t->n; k++)
		off[k] = (size_t)(t->index[k] / t->width) * lw + t->index[k] % t->width;
	int rc = work_luma(src, x0, y0, d, lw, lh, &luma);
	if (rc < 0) {
		aimark__free(off);
		return rc;
	}
	/* A coarse pass over the window, then the few best offsets in full. */
	enum { KEEP = 4 };
	long keep_x[KEEP], keep_y[KEEP];
	double keep_v[KEEP];
	int kept = 0;
	size_t stride = t->n >= 600 ? 3 : 1;
	for (long oy = 0; oy <= 2 * win; oy++) {
		for (long ox = 0; ox <= 2 * win; ox++) {
			if (ox + (long)t->width > (long)lw || oy + (long)t->height > (long)lh)
				continue;
			double v = ncc_coarse(t, off, luma + (size_t)oy * lw + (size_t)ox, stride);
			if (v < 0.0)
				continue;
			int at = kept < KEEP ? kept++ : KEEP - 1;
			if (at == KEEP - 1 && kept == KEEP && v <= keep_v[at])
				continue;
			keep_x[at] = ox, keep_y[at] = oy, keep_v[at] = v;
			for (int i = at; i > 0 && keep_v[i] > keep_v[i - 1]; i--) { /* keep sorted, best first */
				double tv = keep_v[i]; keep_v[i] = keep_v[i - 1]; keep_v[i - 1] = tv;
				long tx = keep_x[i]; keep_x[i] = keep_x[i - 1]; keep_x[i - 1] = tx;
				long ty = keep_y[i]; keep_y[i] = keep_y[i - 1]; keep_y[i - 1] = ty;
			}
		}
	}
	for (int i = 0; i < kept; i++) {
		double step = 0.0;
		double v = ncc_at(t, off, luma, lw, lh, keep_x[i], keep_y[i], &step);
		if (isnan(v))
			continue;
		/*
		 * A label's text and outline (or box) differ strongly, in the
		 * direction the correlation says: shapes alone do not count.
		 */
		int light = v > 0;
		double contrast = light ? step : -step;
		double score = fabs(v);
		if (contrast < DETECT_MIN_STEP || score <= best->score)
			continue;
		best->score = score;
		best->step = contrast;
		best->light_text = light;
		best->text = text;
		best->position = position;
		best->text_height = p->text_height;
	}
	aimark__free(luma);
	aimark__free(off);
	return 0;
}

/* Fits of one text, by required height (a detection needs at most a few). */
typedef struct fit_cache {
	uint32_t target[4], size[4];
	aimark__label_metrics metrics[4];
	int n;
} fit_cache;

static int cached_fit(aimark__label_font *font, const char *text, uint32_t target, fit_cache *c, uint32_t *size,
		      aimark__label_metrics *m)
{
	for (int i = 0; i < c->n; i++) {
		if (c->target[i] == target) {
			*size = c->size[i];
			*m = c->metrics[i];
			return 0;
		}
	}
	RETURN_IF_ERR(aimark__label_fit(font, text, target, size, m));
	int i = c->n < 4 ? c->n++ : 3;
	c->target[i] = target, c->size[i] = *size, c->metrics[i] = *m;
	return 0;
}

/*
 * One size hypothesis: the label drawn on a `w0` x `h0` original, the image
 * then resized by `r`, and the label's size off by `j` about its anchor.
 */
static int try_size(aimark__label_font *font, const view *v, const char *text, fit_cache *fits, uint32_t w0, uint32_t h0,
		    double r, double j, candidate *best)
{
	uint32_t size;
	aimark__label_metrics m;
	int rc = cached_fit(font, text, aimark__explicit_image_required_height(w0, h0), fits, &size, &m);
	if (rc < 0)
		return rc == AIMARK_ENOMEM ? rc : 0;
	double s = r * j;
	double text_height = m.text_height * s;
	if (text_height < 4.0)
		return 0;
	double d = text_height / WORK_TEXT_HEIGHT;
	if (d < 1.0)
		d = 1.0;
	/* Where the label would be at each position that has room for it. */
	predicted where[AIMARK__EXPLICIT_POSITION_COUNT];
	int room[AIMARK__EXPLICIT_POSITION_COUNT], any = 0;
	double halo = 0.0;
	for (int pos = 0; pos < AIMARK__EXPLICIT_POSITION_COUNT; pos++) {
		aimark__explicit_image_geometry g;
		room[pos] = aimark__explicit_image_place(&m, size, pos, w0, h0, &g) == 0;
		if (room[pos]) {
			predict(&g, pos, v->width, v->height, r, j, &where[pos]);
			halo = g.halo;
			any = 1;
		}
	}
	if (!any)
		return 0;
	/* Small text: also templates shifted by half a pixel, as a resize rarely lands on whole pixels. */
	int phases = text_height / d < 10.0 ? 2 : 1;
	for (int ph = 0; ph < phases * phases && rc == 0; ph++) {
		tmpl t;
		rc = tmpl_make(font, text, size * s / d, halo * s / d, 0.5 * (ph % phases), 0.5 * (ph / phases), &t);
		if (rc < 0)
			return rc == AIMARK_ENOMEM ? rc : 0; /* an unrenderable size is no match */
		for (int pos = 0; pos < AIMARK__EXPLICIT_POSITION_COUNT && rc == 0; pos++)
			if (room[pos])
				rc = match(v, &t, d, text, pos, &where[pos], best);
		tmpl_dispose(&t);
	}
	return rc;
}

/* The label as drawn on an image of this size, which a proportional resize keeps, give or take JITTER_MIN. */
static const double JITTER[] = { 1.0, 0.96, 1.04, 0.92, 1.08 };
#define JITTER_MIN 0.92
/* Shortest side of an original whose label is at the legibility floor: 20x the floor. */
#define FLOOR_SIDE (AIMARK__EXPLICIT_IMAGE_MIN_TEXT_PX * 1000.0 / AIMARK__EXPLICIT_IMAGE_HEIGHT_PERMILLE)

static int search_text(aimark__label_font *font, const view *v, const char *text, candidate *best)
{
	uint32_t W = v->width, H = v->height;
	uint32_t shortest = W < H ? W : H;
	fit_cache fits;
	memset(&fits, 0, sizeof fits);
	for (size_t k = 0; k < sizeof JITTER / sizeof JITTER[0]; k++)
		RETURN_IF_ERR(try_size(font, v, text, &fits, W, H, 1.0, JITTER[k], best));
	/*
	 * Labels drawn at the legibility floor do not scale with the image: an
	 * original whose shortest side was below 20x the floor, resized by
	 * 0.45x-2.2x, has a label of another relative size.
	 */
	for (double r = RESIZE_MAX; r >= RESIZE_MIN; r /= 1.05) {
		if (shortest / r >= FLOOR_SIDE || fabs(r - 1.0) < 0.02)
			continue;
		uint32_t w0 = (uint32_t)lround(W / r), h0 = (uint32_t)lround(H / r);
		if (w0 == 0 || h0 == 0)
			continue;
		RETURN_IF_ERR(try_size(font, v, text, &fits, w0, h0, r, 1.0, best));
	}
	aimark_error_clear();
	return 0;
}

uint32_t aimark__explicit_image_plane_block(uint32_t width, uint32_t height)
{
	/*
	 * Below the smallest work-scale cell of any hypothesis. An image too large to have had its label at
	 * the legibility floor before a resize (the resize hypotheses of search_text) has text at least
	 * JITTER_MIN x its required height, so cells of at least that / WORK_TEXT_HEIGHT.
	 */
	const uint32_t shortest = width < height ? width : height;
	if (shortest < FLOOR_SIDE * RESIZE_MAX)
		return 1;
	const double cell = JITTER_MIN * aimark__explicit_image_required_height(width, height) / WORK_TEXT_HEIGHT;
	const uint32_t k = cell >= 2.0 ? (uint32_t)floor(0.9 * cell) : 1;
	return k > 16 ? 16 : k;
}

int aimark__explicit_image_detect(const aimark__image *img, const char *hint_text, json_t **out)
{
	*out = NULL;
	RETURN_IF(img == NULL, AIMARK_EINVAL, "explicit label: no image");
	return aimark__explicit_image_detect_scaled(img, img->width, img->height, 1, hint_text, out);
}

int aimark__explicit_image_detect_scaled(const aimark__image *img, uint32_t width, uint32_t height, uint32_t scale,
					 const char *hint_text, json_t **out)
{
	*out = NULL;
	RETURN_IF(img == NULL || img->pixels == NULL || img->width == 0 || img->height == 0, AIMARK_EINVAL, "explicit label: no image");
	RETURN_IF(img->channels < 1 || img->channels > 4 || (img->bit_depth != 8 && img->bit_depth != 16), AIMARK_EUNSUPPORTED,
		  "explicit label: %u channels at %u bits unsupported", img->channels, img->bit_depth);
	RETURN_IF(scale == 0 || (uint64_t)img->width * scale < width || (uint64_t)img->height * scale < height ||
			  (img->width - 1) * (uint64_t)scale >= width || (img->height - 1) * (uint64_t)scale >= height,
		  AIMARK_EINVAL, "explicit label: a %ux%u image is not %ux%u at 1/%u", img->width, img->height, width, height, scale);
	/* the plane's block in image pixels: a whole number of them, and at least one */
	const uint32_t block = aimark__explicit_image_plane_block(width, height);
	const uint32_t k = block / scale > 1 ? block / scale : 1;
	luma_plane plane = { NULL, 0, 0, 1 };
	int rc = k > 1 || scale > 1 ? plane_make(img, k, scale, &plane) : 0;
	if (rc < 0)
		return rc;
	view v = { img, width, height, scale, plane.px ? &plane : NULL };
	aimark__label_font *font = NULL;
	rc = aimark__label_font_open(&font, NULL);
	if (rc < 0) {
		aimark__free(plane.px);
		return rc;
	}
	const char *texts[3];
	size_t ntexts = 0;
	if (hint_text != NULL && hint_text[0] != '\0' && strlen(hint_text) <= AIMARK__EXPLICIT_TEXT_MAX &&
	    aimark__label_font_covers(font, hint_text))
		texts[ntexts++] = hint_text;
	if (hint_text == NULL || strcmp(hint_text, AIMARK__EXPLICIT_TEXT_ZH) != 0)
		texts[ntexts++] = AIMARK__EXPLICIT_TEXT_ZH;
	if (hint_text == NULL || strcmp(hint_text, AIMARK__EXPLICIT_TEXT_EN) != 0)
		texts[ntexts++] = AIMARK__EXPLICIT_TEXT_EN;
	candidate best;
	memset(&best, 0, sizeof best);
	for (size_t i = 0; i < ntexts && rc == 0; i++)
		rc = search_text(font, &v, texts[i], &best);
	aimark__free(plane.px);
	aimark__label_font_close(font);
	if (rc < 0)
		return rc;

	int detected = best.text != NULL && best.score >= DETECT_THRESHOLD;
	json_t *o = json_object();
	RETURN_ENOMEM_IF_NULL(o);
	int bad = 0;
	bad |= json_object_set_new(o, "detected", json_boolean(detected));
	bad |= json_object_set_new(o, "kind", json_string("visible-text"));
	bad |= json_object_set_new(o, "text", detected ? json_string(best.text) : json_null());
	bad |= json_object_set_new(o, "position", detected ? json_string(aimark__explicit_position_name(best.position)) : json_null());
	bad |= json_object_set_new(o, "score", json_real(round(best.score * 1000.0) / 1000.0));
	bad |= json_object_set_new(o, "threshold", json_real(DETECT_THRESHOLD));
	bad |= json_object_set_new(o, "method", json_string("template-ncc"));
	if (detected) {
		bad |= json_object_set_new(o, "text_height", json_integer((json_int_t)lround(best.text_height)));
		bad |= json_object_set_new(o, "polarity", json_string(best.light_text ? "light-text" : "dark-text"));
	}
	if (bad) {
		json_decref(o);
		return aimark__error_set(AIMARK_ENOMEM, "out of memory");
	}
	*out = o;
	return 0;
}

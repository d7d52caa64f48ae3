/* Image attacks for bench_wm_image (8-bit images; alpha, when present, is treated as a colour-less channel). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "aimark/aimark.h"
#include "attacks_image.h"

static int alloc_like(const aimark__image *in, uint32_t w, uint32_t h, aimark__image *out)
{
	return aimark__image_alloc(out, w, h, in->channels, 8);
}

static unsigned char clamp8(double v)
{
	return (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : (int)(v + 0.5));
}

static int colour_channels(const aimark__image *im)
{
	return (im->channels == 2 || im->channels == 4) ? (int)im->channels - 1 : (int)im->channels;
}

int atk_copy(const aimark__image *in, aimark__image *out)
{
	int rc = alloc_like(in, in->width, in->height, out);
	if (rc == 0)
		for (uint32_t y = 0; y < in->height; y++)
			memcpy(out->pixels + y * out->stride, in->pixels + y * in->stride, out->stride);
	return rc;
}

int atk_codec(const aimark__image *in, const char *format, int quality, aimark__image *out)
{
	aimark__image_coding c;
	memset(&c, 0, sizeof c);
	strcpy(c.format, format);
	c.quality = quality;
	aimark_buf buf = AIMARK_BUF_INIT;
	int rc = aimark__image_encode(in, &c, NULL, 0, &buf);
	if (rc == 0)
		rc = aimark__image_decode(buf.ptr, buf.size, format, out, NULL);
	aimark_buf_dispose(&buf);
	return rc;
}

/* Separable resampling with a triangle kernel widened by the shrink factor. */
static void resample_axis(const float *src, int n_in, int stride_in, float *dst, int n_out, int stride_out, int count,
			  int cstride)
{
	double scale = (double)n_in / n_out;
	double support = scale > 1 ? scale : 1;
	for (int o = 0; o < n_out; o++) {
		double centre = (o + 0.5) * scale - 0.5;
		int lo = (int)floor(centre - support), hi = (int)ceil(centre + support);
		double wsum = 0;
		double acc[64];
		for (int c = 0; c < count; c++)
			acc[c] = 0;
		for (int i = lo; i <= hi; i++) {
			double w = 1 - fabs(i - centre) / support;
			if (w <= 0)
				continue;
			int ii = i < 0 ? 0 : i >= n_in ? n_in - 1 : i;
			for (int c = 0; c < count; c++)
				acc[c] += w * src[ii * stride_in + c * cstride];
			wsum += w;
		}
		for (int c = 0; c < count; c++)
			dst[o * stride_out + c * cstride] = (float)(acc[c] / wsum);
	}
}

int atk_resize(const aimark__image *in, uint32_t w, uint32_t h, aimark__image *out)
{
	int ch = (int)in->channels;
	float *a = malloc(sizeof(float) * in->width * in->height * ch);
	float *b = malloc(sizeof(float) * w * in->height * ch);
	float *c = malloc(sizeof(float) * w * h * ch);
	float *col_in = malloc(sizeof(float) * in->height * ch), *col_out = malloc(sizeof(float) * h * ch);
	int rc = alloc_like(in, w, h, out);
	if (!a || !b || !c || !col_in || !col_out || rc) {
		free(a), free(b), free(c), free(col_in), free(col_out);
		return rc ? rc : AIMARK_ENOMEM;
	}
	for (uint32_t y = 0; y < in->height; y++)
		for (uint32_t x = 0; x < in->width * ch; x++)
			a[y * in->width * ch + x] = in->pixels[y * in->stride + x];
	for (uint32_t y = 0; y < in->height; y++)
		resample_axis(a + y * in->width * ch, (int)in->width, ch, b + y * w * ch, (int)w, ch, ch, 1);
	for (uint32_t x = 0; x < w; x++) {
		for (uint32_t y = 0; y < in->height; y++)
			for (int k = 0; k < ch; k++)
				col_in[y * ch + k] = b[(y * w + x) * ch + k];
		resample_axis(col_in, (int)in->height, ch, col_out, (int)h, ch, ch, 1);
		for (uint32_t y = 0; y < h; y++)
			for (int k = 0; k < ch; k++)
				c[(y * w + x) * ch + k] = col_out[y * ch + k];
	}
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w * ch; x++)
			out->pixels[y * out->stride + x] = clamp8(c[y * w * ch + x]);
	free(a), free(b), free(c), free(col_in), free(col_out);
	return 0;
}

int atk_crop(const aimark__image *in, uint32_t x0, uint32_t y0, uint32_t w, uint32_t h, aimark__image *out)
{
	if (x0 + w > in->width || y0 + h > in->height)
		return AIMARK_EINVAL;
	int rc = alloc_like(in, w, h, out);
	if (rc == 0)
		for (uint32_t y = 0; y < h; y++)
			memcpy(out->pixels + y * out->stride, in->pixels + (y0 + y) * in->stride + x0 * in->channels, out->stride);
	return rc;
}

static void bilinear(const aimark__image *in, double x, double y, unsigned char *px)
{
	int ch = (int)in->channels;
	if (x < 0 || y < 0 || x > in->width - 1 || y > in->height - 1) {
		memset(px, 0, ch);
		if (ch == 2 || ch == 4)
			px[ch - 1] = 255;
		return;
	}
	int x0 = (int)x, y0 = (int)y;
	int x1 = x0 + 1 < (int)in->width ? x0 + 1 : x0, y1 = y0 + 1 < (int)in->height ? y0 + 1 : y0;
	double fx = x - x0, fy = y - y0;
	for (int k = 0; k < ch; k++) {
		double v = (1 - fy) * ((1 - fx) * in->pixels[y0 * in->stride + x0 * ch + k] + fx * in->pixels[y0 * in->stride + x1 * ch + k]) +
			   fy * ((1 - fx) * in->pixels[y1 * in->stride + x0 * ch + k] + fx * in->pixels[y1 * in->stride + x1 * ch + k]);
		px[k] = clamp8(v);
	}
}

int atk_rotate(const aimark__image *in, double deg, aimark__image *out)
{
	int rc = alloc_like(in, in->width, in->height, out);
	if (rc)
		return rc;
	double a = deg * M_PI / 180, ca = cos(a), sa = sin(a);
	double cx = (in->width - 1) / 2.0, cy = (in->height - 1) / 2.0;
	for (uint32_t y = 0; y < out->height; y++)
		for (uint32_t x = 0; x < out->width; x++) {
			double dx = x - cx, dy = y - cy;
			double sx = ca * dx + sa * dy + cx, sy = -sa * dx + ca * dy + cy;
			bilinear(in, sx, sy, out->pixels + y * out->stride + x * out->channels);
		}
	return 0;
}

int atk_rot90(const aimark__image *in, int q, aimark__image *out)
{
	q &= 3;
	uint32_t w = q & 1 ? in->height : in->width, h = q & 1 ? in->width : in->height;
	int rc = alloc_like(in, w, h, out);
	if (rc)
		return rc;
	int ch = (int)in->channels;
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++) {
			uint32_t sx, sy;
			switch (q) {
			case 0: sx = x; sy = y; break;
			case 1: sx = y; sy = in->height - 1 - x; break;
			case 2: sx = in->width - 1 - x; sy = in->height - 1 - y; break;
			default: sx = in->width - 1 - y; sy = x; break;
			}
			memcpy(out->pixels + y * out->stride + x * ch, in->pixels + sy * in->stride + sx * ch, ch);
		}
	return 0;
}

int atk_hflip(const aimark__image *in, aimark__image *out)
{
	int rc = alloc_like(in, in->width, in->height, out);
	if (rc)
		return rc;
	int ch = (int)in->channels;
	for (uint32_t y = 0; y < in->height; y++)
		for (uint32_t x = 0; x < in->width; x++)
			memcpy(out->pixels + y * out->stride + x * ch, in->pixels + y * in->stride + (in->width - 1 - x) * ch, ch);
	return 0;
}

static int tone(const aimark__image *in, aimark__image *out, int kind, double p)
{
	int rc = atk_copy(in, out);
	if (rc)
		return rc;
	unsigned char lut[256];
	for (int v = 0; v < 256; v++) {
		double r = v;
		if (kind == 0)
			r = v * p;
		else if (kind == 1)
			r = (v - 127.5) * p + 127.5;
		else
			r = 255.0 * pow(v / 255.0, p);
		lut[v] = clamp8(r);
	}
	int ch = (int)in->channels, cc = colour_channels(in);
	for (uint32_t y = 0; y < in->height; y++)
		for (uint32_t x = 0; x < in->width; x++)
			for (int k = 0; k < cc; k++) {
				unsigned char *p8 = out->pixels + y * out->stride + x * ch + k;
				*p8 = lut[*p8];
			}
	return 0;
}

int atk_brightness(const aimark__image *in, double f, aimark__image *out) { return tone(in, out, 0, f); }
int atk_contrast(const aimark__image *in, double f, aimark__image *out) { return tone(in, out, 1, f); }
int atk_gamma(const aimark__image *in, double g, aimark__image *out) { return tone(in, out, 2, g); }

int atk_saturation(const aimark__image *in, double f, aimark__image *out)
{
	int rc = atk_copy(in, out);
	if (rc || colour_channels(in) < 3)
		return rc;
	int ch = (int)in->channels;
	for (uint32_t y = 0; y < in->height; y++)
		for (uint32_t x = 0; x < in->width; x++) {
			unsigned char *p = out->pixels + y * out->stride + x * ch;
			double l = 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
			for (int k = 0; k < 3; k++)
				p[k] = clamp8(l + (p[k] - l) * f);
		}
	return 0;
}

int atk_blur(const aimark__image *in, double sigma, aimark__image *out)
{
	int r = (int)ceil(3 * sigma);
	double k[64];
	double s = 0;
	for (int i = -r; i <= r; i++)
		s += k[i + r] = exp(-i * i / (2 * sigma * sigma));
	for (int i = 0; i <= 2 * r; i++)
		k[i] /= s;
	int ch = (int)in->channels;
	uint32_t w = in->width, h = in->height;
	float *t = malloc(sizeof(float) * w * h * ch);
	int rc = alloc_like(in, w, h, out);
	if (!t || rc) {
		free(t);
		return rc ? rc : AIMARK_ENOMEM;
	}
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++)
			for (int c = 0; c < ch; c++) {
				double a = 0;
				for (int i = -r; i <= r; i++) {
					int xx = (int)x + i;
					xx = xx < 0 ? 0 : xx >= (int)w ? (int)w - 1 : xx;
					a += k[i + r] * in->pixels[y * in->stride + xx * ch + c];
				}
				t[(y * w + x) * ch + c] = (float)a;
			}
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++)
			for (int c = 0; c < ch; c++) {
				double a = 0;
				for (int i = -r; i <= r; i++) {
					int yy = (int)y + i;
					yy = yy < 0 ? 0 : yy >= (int)h ? (int)h - 1 : yy;
					a += k[i + r] * t[(yy * w + x) * ch + c];
				}
				out->pixels[y * out->stride + x * ch + c] = clamp8(a);
			}
	free(t);
	return 0;
}

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static double gauss(uint64_t *s)
{
	double u1 = ((splitmix(s) >> 11) + 1.0) / 9007199254740993.0, u2 = (splitmix(s) >> 11) / 9007199254740992.0;
	return sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
}

int atk_noise(const aimark__image *in, double sigma, uint64_t seed, aimark__image *out)
{
	int rc = atk_copy(in, out);
	if (rc)
		return rc;
	int ch = (int)in->channels, cc = colour_channels(in);
	for (uint32_t y = 0; y < in->height; y++)
		for (uint32_t x = 0; x < in->width; x++)
			for (int k = 0; k < cc; k++) {
				unsigned char *p = out->pixels + y * out->stride + x * ch + k;
				*p = clamp8(*p + sigma * gauss(&seed));
			}
	return 0;
}

int atk_median3(const aimark__image *in, aimark__image *out)
{
	int rc = alloc_like(in, in->width, in->height, out);
	if (rc)
		return rc;
	int ch = (int)in->channels;
	int w = (int)in->width, h = (int)in->height;
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++)
			for (int c = 0; c < ch; c++) {
				unsigned char v[9];
				int n = 0;
				for (int dy = -1; dy <= 1; dy++)
					for (int dx = -1; dx <= 1; dx++) {
						int xx = x + dx < 0 ? 0 : x + dx >= w ? w - 1 : x + dx;
						int yy = y + dy < 0 ? 0 : y + dy >= h ? h - 1 : y + dy;
						v[n++] = in->pixels[yy * in->stride + xx * ch + c];
					}
				for (int i = 1; i < 9; i++)
					for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
						unsigned char t = v[j];
						v[j] = v[j - 1];
						v[j - 1] = t;
					}
				out->pixels[y * out->stride + x * ch + c] = v[4];
			}
	return 0;
}

int atk_canvas(const aimark__image *in, uint32_t cw, uint32_t chh, uint32_t x0, uint32_t y0, int bg, aimark__image *out)
{
	if (x0 + in->width > cw || y0 + in->height > chh)
		return AIMARK_EINVAL;
	int rc = alloc_like(in, cw, chh, out);
	if (rc)
		return rc;
	memset(out->pixels, bg, out->stride * chh);
	for (uint32_t y = 0; y < in->height; y++)
		memcpy(out->pixels + (y0 + y) * out->stride + x0 * in->channels, in->pixels + y * in->stride, in->stride);
	return 0;
}

static double luma_at(const aimark__image *im, uint32_t x, uint32_t y)
{
	const unsigned char *p = im->pixels + y * im->stride + x * im->channels;
	return im->channels >= 3 ? 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2] : p[0];
}

double atk_psnr(const aimark__image *a, const aimark__image *b)
{
	if (a->width != b->width || a->height != b->height || a->channels != b->channels)
		return -1;
	double se = 0;
	int cc = colour_channels(a);
	for (uint32_t y = 0; y < a->height; y++)
		for (uint32_t x = 0; x < a->width; x++)
			for (int k = 0; k < cc; k++) {
				double d = (double)a->pixels[y * a->stride + x * a->channels + k] - b->pixels[y * b->stride + x * b->channels + k];
				se += d * d;
			}
	double mse = se / ((double)a->width * a->height * cc);
	return mse <= 0 ? 99.0 : 10 * log10(255.0 * 255.0 / mse);
}

double atk_ssim(const aimark__image *a, const aimark__image *b)
{
	if (a->width != b->width || a->height != b->height)
		return -1;
	const double c1 = 6.5025, c2 = 58.5225;
	double total = 0;
	long n = 0;
	for (uint32_t by = 0; by + 8 <= a->height; by += 4)
		for (uint32_t bx = 0; bx + 8 <= a->width; bx += 4) {
			double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
			for (uint32_t y = by; y < by + 8; y++)
				for (uint32_t x = bx; x < bx + 8; x++) {
					double va = luma_at(a, x, y), vb = luma_at(b, x, y);
					sa += va, sb += vb, saa += va * va, sbb += vb * vb, sab += va * vb;
				}
			double ma = sa / 64, mb = sb / 64;
			double va = saa / 64 - ma * ma, vb = sbb / 64 - mb * mb, cov = sab / 64 - ma * mb;
			total += ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2));
			n++;
		}
	return n ? total / n : 1;
}

/*
 * JPEG watermarking in the DCT domain (libjpeg-turbo's coefficient API):
 * entropy-decode the coefficients, add the watermark's luminance change to
 * the Y component's quantised coefficients, entropy-encode again. No
 * inverse or forward DCT of the image and no colour conversion, so it costs
 * less than decode + encode and adds no generation loss. The change is the
 * same as the pixel path's (wm_image_embed.c): perceptual mask x bilinear
 * chip pattern, with the mask's activity measured from the coefficients
 * themselves and the change rounded to quantisation steps with a dither so
 * that small changes survive on average.
 */
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

#include "codec/image_codec.h"
#include "core/internal.h"
#include "crypto/crypto.h"
#include "wm/wm_image.h"

/* Changes smaller than this many quantisation steps are dropped rather than dithered. */
#define DITHER_FLOOR 0.3f

typedef struct coef_err {
	struct jpeg_error_mgr pub;
	jmp_buf jmp;
	char msg[JMSG_LENGTH_MAX];
} coef_err;

static void on_error(j_common_ptr c)
{
	coef_err *e = (coef_err *)c->err;
	(*c->err->format_message)(c, e->msg);
	longjmp(e->jmp, 1);
}

static void on_message(j_common_ptr c)
{
	(void)c; /* warnings (e.g. corrupt data recovered) are not errors here */
}

/* Orthonormal 8-point DCT basis: basis[u][x]. */
static void dct_basis(float basis[8][8])
{
	for (int u = 0; u < 8; u++)
		for (int x = 0; x < 8; x++)
			basis[u][x] = (float)((u == 0 ? sqrt(1.0 / 8) : 0.5) * cos((2 * x + 1) * u * M_PI / 16));
}

/* Per-pixel activity of a block (mean absolute second difference, h + v) from its dequantised coefficients. */
static float block_activity(const JCOEF *c, const UINT16 *q, const float g2[8])
{
	float eh = 0, ev = 0;
	for (int i = 1; i < 64; i++) {
		if (c[i] == 0) /* most are */
			continue;
		float f = (float)c[i] * q[i];
		f *= f;
		eh += f * g2[i & 7];
		ev += f * g2[i >> 3];
	}
	/* mean |x| = 0.8 sigma for Gaussian-like detail */
	return 0.8f * (sqrtf(eh / 64) + sqrtf(ev / 64));
}

static uint32_t mix32(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352dU;
	x ^= x >> 15;
	x *= 0x846ca68bU;
	x ^= x >> 16;
	return x;
}

typedef struct coef_job {
	struct jpeg_decompress_struct in;
	struct jpeg_compress_struct out;
	coef_err ein, eout;
	int in_made, out_made;
	unsigned char *mem;
	unsigned long mem_len;
	float *mask, *mask2, *delta, *prow, *mrow, *xf, *cf;
	uint32_t *xi, *ci;
	aimark__wm_plan *plan;
} coef_job;

static void job_free(coef_job *j)
{
	if (j->out_made)
		jpeg_destroy_compress(&j->out);
	if (j->in_made)
		jpeg_destroy_decompress(&j->in);
	free(j->mem); /* allocated by libjpeg's memory destination */
	aimark__free(j->mask);
	aimark__free(j->mask2);
	aimark__free(j->delta);
	aimark__free(j->prow);
	aimark__free(j->mrow);
	aimark__free(j->xf);
	aimark__free(j->cf);
	aimark__free(j->xi);
	aimark__free(j->ci);
	if (j->plan) {
		aimark__wipe(j->plan, sizeof *j->plan);
		aimark__free(j->plan);
	}
}

/* Everything that may longjmp lives here; `j` is volatile-safe because it is a pointer to stable memory. */
static int embed_coefficients(coef_job *j, const unsigned char *jpeg, size_t len, const aimark_wm_key *key,
			      const unsigned char payload[8], float strength)
{
	struct jpeg_decompress_struct *in = &j->in;
	in->err = jpeg_std_error(&j->ein.pub);
	j->ein.pub.error_exit = on_error;
	j->ein.pub.output_message = on_message;
	if (setjmp(j->ein.jmp))
		return aimark__error_set(AIMARK_EFORMAT, "JPEG: %s", j->ein.msg);
	jpeg_create_decompress(in);
	j->in_made = 1;
	jpeg_mem_src(in, jpeg, (unsigned long)len);
	jpeg_save_markers(in, JPEG_COM, 0xFFFF);
	for (int m = 0; m < 16; m++)
		jpeg_save_markers(in, JPEG_APP0 + m, 0xFFFF);
	jpeg_read_header(in, TRUE);
	RETURN_IF(in->jpeg_color_space != JCS_YCbCr && in->jpeg_color_space != JCS_GRAYSCALE, AIMARK_EUNSUPPORTED,
		  "JPEG: colour space %d has no luminance component to mark in the DCT domain", (int)in->jpeg_color_space);
	RETURN_IF(in->data_precision != 8, AIMARK_EUNSUPPORTED, "JPEG: %d-bit samples", in->data_precision);
	const uint32_t W = in->image_width, H = in->image_height;
	RETURN_IF(W < AIMARK__WM_MIN_SIDE || H < AIMARK__WM_MIN_SIDE, AIMARK_ELIMIT, "watermark: image %ux%u is smaller than %dx%d",
		  W, H, AIMARK__WM_MIN_SIDE, AIMARK__WM_MIN_SIDE);
	RETURN_IF((uint64_t)W * H > (UINT64_C(1) << 28), AIMARK_ELIMIT, "JPEG: %ux%u exceeds the 2^28-pixel limit", W, H);
	RETURN_IF_ERR(aimark__image_check_claim(W, H, len, "JPEG"));
	jpeg_component_info *y = &in->comp_info[0];
	RETURN_IF(y->h_samp_factor != in->max_h_samp_factor || y->v_samp_factor != in->max_v_samp_factor, AIMARK_EUNSUPPORTED,
		  "JPEG: subsampled luminance");
	jvirt_barray_ptr *coefs = jpeg_read_coefficients(in);
	RETURN_IF(y->quant_table == NULL, AIMARK_EFORMAT, "JPEG: no quantisation table for the luminance");
	const UINT16 *q = y->quant_table->quantval;
	for (int i = 0; i < 64; i++)
		RETURN_IF(q[i] == 0, AIMARK_EFORMAT, "JPEG: zero quantisation step");

	j->plan = aimark__malloc(sizeof *j->plan);
	RETURN_ENOMEM_IF_NULL(j->plan);
	RETURN_IF_ERR(aimark__wm_image_plan(j->plan, key, payload, W, H));
	const uint32_t bw = y->width_in_blocks, bh = y->height_in_blocks, T = AIMARK__WM_TILE;
	const double inv_chip = 1.0 / j->plan->chip;
	j->mask = aimark__calloc((size_t)bw * bh, sizeof *j->mask);
	j->mask2 = aimark__calloc((size_t)bw * bh, sizeof *j->mask2);
	j->delta = aimark__malloc((size_t)bw * 64 * sizeof *j->delta);
	j->prow = aimark__malloc((T + 1) * sizeof *j->prow);
	j->mrow = aimark__malloc(((size_t)bw + 1) * sizeof *j->mrow);
	j->xi = aimark__malloc((size_t)bw * 8 * sizeof *j->xi);
	j->xf = aimark__malloc((size_t)bw * 8 * sizeof *j->xf);
	j->ci = aimark__malloc((size_t)bw * 8 * sizeof *j->ci);
	j->cf = aimark__malloc((size_t)bw * 8 * sizeof *j->cf);
	RETURN_IF(!j->mask || !j->mask2 || !j->delta || !j->prow || !j->mrow || !j->xi || !j->xf || !j->ci || !j->cf, AIMARK_ENOMEM,
		  "out of memory");

	/* 1. Mask per block from its AC energy, smoothed, within the mean-square budget. */
	float g2[8];
	for (int u = 0; u < 8; u++) {
		float g = (float)(2 - 2 * cos(u * M_PI / 8));
		g2[u] = g * g;
	}
	for (uint32_t by = 0; by < bh; by++) {
		JBLOCKARRAY rows = (*in->mem->access_virt_barray)((j_common_ptr)in, coefs[0], by, 1, FALSE);
		for (uint32_t bx = 0; bx < bw; bx++)
			j->mask2[(size_t)by * bw + bx] = aimark__wm_mask_from_activity(block_activity(rows[0][bx], q, g2));
	}
	double sum2 = 0;
	for (uint32_t by = 0; by < bh; by++)
		for (uint32_t bx = 0; bx < bw; bx++) {
			float s = 0;
			int n = 0;
			for (int dy = -1; dy <= 1; dy++)
				for (int dx = -1; dx <= 1; dx++) {
					int yy = (int)by + dy, xx = (int)bx + dx;
					if (yy < 0 || xx < 0 || yy >= (int)bh || xx >= (int)bw)
						continue;
					s += j->mask2[(size_t)yy * bw + xx];
					n++;
				}
			j->mask[(size_t)by * bw + bx] = s / (float)n;
			sum2 += (double)(s / n) * (s / n);
		}
	double mse = sum2 / ((double)bw * bh) * (4.0 / 9.0);
	float scale = strength;
	if (mse > AIMARK__WM_MAX_MSE)
		scale *= (float)sqrt(AIMARK__WM_MAX_MSE / mse);
	for (size_t i = 0; i < (size_t)bw * bh; i++)
		j->mask[i] *= scale;

	/* 2. Per column: chip index and fraction; mask block and fraction (block centres at 8b + 3.5). */
	for (uint32_t x = 0; x < bw * 8; x++) {
		double t = x * inv_chip, fl = floor(t);
		j->xi[x] = (uint32_t)((uint64_t)fl % T);
		j->xf[x] = (float)(t - fl);
		double c = (x - 3.5) / 8.0;
		if (c < 0)
			c = 0;
		uint32_t c0 = (uint32_t)c;
		if (c0 >= bw - 1) {
			j->ci[x] = bw - 1;
			j->cf[x] = 0;
		} else {
			j->ci[x] = c0;
			j->cf[x] = (float)(c - c0);
		}
	}
	const double chip = j->plan->chip;
	const int K = chip < 3 ? 8 : chip < 6 ? 6 : 4; /* the pattern is smooth: only low frequencies matter */
	/*
	 * Chips of 8 px and more: the change is piecewise bilinear at that scale, so every other
	 * pixel of every other row is enough; odd samples are linear interpolations of even ones
	 * (the last one extrapolated), folded into the basis as half[u][k] for samples x = 2k.
	 */
	const int sub = chip >= 8;
	float inv_q[64];
	for (int i = 0; i < 64; i++)
		inv_q[i] = 1.0f / (float)q[i];
	float basis[8][8], basis_t[8][8], half[8][4];
	dct_basis(basis);
	for (int u = 0; u < 8; u++)
		for (int x = 0; x < 8; x++)
			basis_t[x][u] = basis[u][x];
	for (int u = 0; u < 8; u++)
		for (int k = 0; k < 4; k++) {
			static const float w_odd[4][4] = { /* weight of even sample k in f(1), f(3), f(5), f(7) */
				{ 0.5f, 0.5f, 0, 0 }, { 0, 0.5f, 0.5f, 0 }, { 0, 0, 0.5f, 0.5f }, { 0, 0, -0.5f, 1.5f } };
			float w = basis[u][2 * k];
			for (int o = 0; o < 4; o++)
				w += w_odd[o][k] * basis[u][2 * o + 1];
			half[u][k] = w;
		}

	/* 3. Block row by block row: the change in pixels, its low-frequency DCT, dithered quantisation. */
	for (uint32_t by = 0; by < bh; by++) {
		for (int r = 0; r < 8; r += sub ? 2 : 1) {
			uint32_t yy = by * 8 + (uint32_t)r;
			double t = yy * inv_chip, fl = floor(t);
			uint32_t iy = (uint32_t)((uint64_t)fl % T), iy1 = (iy + 1) % T;
			float wy = (float)(t - fl);
			for (uint32_t i = 0; i < T; i++)
				j->prow[i] = j->plan->tile[iy * T + i] + wy * (j->plan->tile[iy1 * T + i] - j->plan->tile[iy * T + i]);
			j->prow[T] = j->prow[0];
			double c = (yy - 3.5) / 8.0;
			if (c < 0)
				c = 0;
			uint32_t c0 = (uint32_t)c, c1 = c0 + 1 < bh ? c0 + 1 : c0;
			float wc = c0 + 1 < bh ? (float)(c - c0) : 0;
			const float *m0 = j->mask + (size_t)c0 * bw, *m1 = j->mask + (size_t)c1 * bw;
			for (uint32_t i = 0; i < bw; i++)
				j->mrow[i] = m0[i] + wc * (m1[i] - m0[i]);
			j->mrow[bw] = j->mrow[bw - 1];
			for (uint32_t x = 0; x < bw * 8; x += sub ? 2 : 1) {
				uint32_t a = j->xi[x], m = j->ci[x];
				float p = j->prow[a] + j->xf[x] * (j->prow[a + 1] - j->prow[a]);
				float amp = j->mrow[m] + j->cf[x] * (j->mrow[m + 1] - j->mrow[m]);
				j->delta[(size_t)(x >> 3) * 64 + (size_t)r * 8 + (x & 7)] = p * amp;
			}
		}
		JBLOCKARRAY rows = (*in->mem->access_virt_barray)((j_common_ptr)in, coefs[0], by, 1, TRUE);
		for (uint32_t bx = 0; bx < bw; bx++) {
			const float *d = j->delta + (size_t)bx * 64;
			float tmp[8][8]; /* tmp[row][u]: horizontal transform */
			if (sub) {
				for (int r = 0; r < 8; r += 2)
					for (int u = 0; u < 8; u++)
						tmp[r][u] = half[u][0] * d[r * 8] + half[u][1] * d[r * 8 + 2] + half[u][2] * d[r * 8 + 4] +
							    half[u][3] * d[r * 8 + 6];
			} else {
				/* all 8 frequencies in fixed-length loops (the compiler vectorises them), the K needed kept */
				for (int r = 0; r < 8; r++) {
					float acc[8] = { 0 };
					for (int x = 0; x < 8; x++) {
						const float dx = d[r * 8 + x];
						for (int u = 0; u < 8; u++)
							acc[u] += basis_t[x][u] * dx;
					}
					memcpy(tmp[r], acc, sizeof acc);
				}
			}
			JCOEF *blk = rows[0][bx];
			for (int v = 0; v < K; v++) {
				float col[8] = { 0 };
				if (sub) {
					for (int u = 0; u < 8; u++)
						col[u] = half[v][0] * tmp[0][u] + half[v][1] * tmp[2][u] + half[v][2] * tmp[4][u] + half[v][3] * tmp[6][u];
				} else {
					for (int r = 0; r < 8; r++) {
						const float b = basis[v][r];
						for (int u = 0; u < 8; u++)
							col[u] += b * tmp[r][u];
					}
				}
				for (int u = 0; u < K; u++) {
					float s = col[u];
					int idx = v * 8 + u;
					float steps = s * inv_q[idx];
					/* a change far below one step would mostly add dither noise: leave it out */
					if (steps > -DITHER_FLOOR && steps < DITHER_FLOOR)
						continue;
					uint32_t h = mix32(((by * bw + bx) << 6) ^ (uint32_t)idx ^ 0x9e3779b9U);
					float dither = (float)(h >> 8) * (1.0f / 16777216.0f);
					float t = steps + dither;
					int add = (int)t;
					add -= t < (float)add; /* floor */
					if (add == 0)
						continue;
					int v2 = blk[idx] + add;
					int lim = idx == 0 ? 2047 : 1023;
					blk[idx] = (JCOEF)(v2 > lim ? lim : v2 < -lim ? -lim : v2);
				}
			}
		}
	}

	/* 4. Write: same parameters and coding, markers copied in order. */
	struct jpeg_compress_struct *out = &j->out;
	out->err = jpeg_std_error(&j->eout.pub);
	j->eout.pub.error_exit = on_error;
	j->eout.pub.output_message = on_message;
	if (setjmp(j->eout.jmp))
		return aimark__error_set(AIMARK_EFORMAT, "JPEG: writing: %s", j->eout.msg);
	jpeg_create_compress(out);
	j->out_made = 1;
	jpeg_mem_dest(out, &j->mem, &j->mem_len);
	jpeg_copy_critical_parameters(in, out);
	if (in->progressive_mode)
		jpeg_simple_progression(out);
	out->optimize_coding = TRUE;
	out->restart_interval = in->restart_interval;
	jpeg_write_coefficients(out, coefs);
	for (jpeg_saved_marker_ptr m = in->marker_list; m != NULL; m = m->next) {
		/* libjpeg writes its own JFIF and Adobe markers when the source had them */
		if (out->write_JFIF_header && m->marker == JPEG_APP0 && m->data_length >= 5 && memcmp(m->data, "JFIF", 5) == 0)
			continue;
		if (out->write_Adobe_marker && m->marker == JPEG_APP0 + 14 && m->data_length >= 5 && memcmp(m->data, "Adobe", 5) == 0)
			continue;
		jpeg_write_marker(out, m->marker, m->data, m->data_length);
	}
	jpeg_finish_compress(out);
	jpeg_finish_decompress(in);
	return 0;
}

int aimark__wm_jpeg_embed(const unsigned char *jpeg, size_t len, const aimark_wm_key *key, const unsigned char payload[8],
			  float strength, aimark_buf *out)
{
	RETURN_IF(jpeg == NULL || key == NULL || payload == NULL || out == NULL, AIMARK_EINVAL, "watermark: bad argument");
	RETURN_IF(len < 4 || jpeg[0] != 0xFF || jpeg[1] != 0xD8, AIMARK_EFORMAT, "JPEG: no SOI marker at offset 0");
	RETURN_IF(len > ULONG_MAX, AIMARK_ELIMIT, "JPEG: too large");
	if (strength == 0)
		strength = 1.0f;
	RETURN_IF(!(strength > 0 && strength <= 16), AIMARK_EINVAL, "watermark: strength %g outside (0, 16]", (double)strength);
	coef_job *j = aimark__calloc(1, sizeof *j);
	RETURN_ENOMEM_IF_NULL(j);
	int rc = embed_coefficients(j, jpeg, len, key, payload, strength);
	if (rc == 0)
		rc = aimark__buf_append(out, j->mem, j->mem_len);
	job_free(j);
	aimark__free(j);
	return rc;
}

/*
 * Detection input from a JPEG: only the luminance, and at the largest DCT
 * scaling (1/2, 1/4, 1/8) that still leaves at least twice the detector's
 * working area. Chroma is never inverse-transformed and the image is never
 * decoded at full size, so this costs a fraction of a full decode.
 */
typedef struct luma_job {
	struct jpeg_decompress_struct in;
	coef_err err;
	int made;
} luma_job;

static int decode_luma(luma_job *j, const unsigned char *jpeg, size_t len, double min_area, aimark__image *img)
{
	j->in.err = jpeg_std_error(&j->err.pub);
	j->err.pub.error_exit = on_error;
	j->err.pub.output_message = on_message;
	if (setjmp(j->err.jmp))
		return aimark__error_set(AIMARK_EFORMAT, "JPEG: %s", j->err.msg);
	jpeg_create_decompress(&j->in);
	j->made = 1;
	jpeg_mem_src(&j->in, jpeg, (unsigned long)len);
	jpeg_read_header(&j->in, TRUE);
	RETURN_IF((uint64_t)j->in.image_width * j->in.image_height > (UINT64_C(1) << 28), AIMARK_ELIMIT,
		  "JPEG: %ux%u exceeds the 2^28-pixel limit", j->in.image_width, j->in.image_height);
	RETURN_IF_ERR(aimark__image_check_claim(j->in.image_width, j->in.image_height, len, "JPEG"));
	RETURN_IF(j->in.jpeg_color_space == JCS_CMYK || j->in.jpeg_color_space == JCS_YCCK, AIMARK_EUNSUPPORTED,
		  "JPEG: CMYK images are not supported");
	if (j->in.jpeg_color_space == JCS_YCbCr || j->in.jpeg_color_space == JCS_GRAYSCALE)
		j->in.out_color_space = JCS_GRAYSCALE;
	double area = (double)j->in.image_width * j->in.image_height;
	unsigned denom = 1;
	while (denom < 8 && area / ((double)denom * denom * 4) >= min_area)
		denom *= 2;
	j->in.scale_num = 1;
	j->in.scale_denom = denom;
	/* the accurate IDCT, as a full decode uses: the fast one loses enough of a compressed mark's
	   sub-level detail to miss detections the pixel path makes (bench: WM_DETECT=jpegfile) */
	j->in.dct_method = JDCT_ISLOW;
	jpeg_start_decompress(&j->in);
	RETURN_IF(j->in.output_components != 1 && j->in.output_components != 3, AIMARK_EUNSUPPORTED, "JPEG: %d output components",
		  j->in.output_components);
	RETURN_IF_ERR(aimark__image_alloc(img, j->in.output_width, j->in.output_height, (uint32_t)j->in.output_components, 8));
	while (j->in.output_scanline < j->in.output_height) {
		JSAMPROW row = img->pixels + (size_t)j->in.output_scanline * img->stride;
		jpeg_read_scanlines(&j->in, &row, 1);
	}
	jpeg_finish_decompress(&j->in);
	return 0;
}

int aimark__wm_jpeg_detect(const unsigned char *jpeg, size_t len, const aimark_wm_key *const *keys, size_t n_keys,
			   aimark_wm_result *res)
{
	RETURN_IF(jpeg == NULL || res == NULL, AIMARK_EINVAL, "watermark: bad argument");
	RETURN_IF(len < 4 || jpeg[0] != 0xFF || jpeg[1] != 0xD8, AIMARK_EFORMAT, "JPEG: no SOI marker at offset 0");
	RETURN_IF(len > ULONG_MAX, AIMARK_ELIMIT, "JPEG: too large");
	luma_job *j = aimark__calloc(1, sizeof *j);
	RETURN_ENOMEM_IF_NULL(j);
	aimark__image img;
	memset(&img, 0, sizeof img);
	int rc = decode_luma(j, jpeg, len, 2 * AIMARK__WM_WORK_AREA, &img);
	if (j->made)
		jpeg_destroy_decompress(&j->in);
	aimark__free(j);
	if (rc == 0)
		rc = aimark__wm_image_detect(&img, keys, n_keys, res);
	aimark__image_dispose(&img);
	return rc;
}

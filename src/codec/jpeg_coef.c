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
#include "core/vec4.h"
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

/*
 * Per-pixel activity of a block (mean absolute second difference, h + v) from its dequantised
 * coefficients: gh[i] and gv[i] are the second difference's power gain at coefficient i
 * horizontally and vertically (0 for the DC).
 */
static float block_activity(const JCOEF *c, const float qf[64], const float gh[64], const float gv[64])
{
	v4f eh = { 0 }, ev = { 0 };
	for (int i = 0; i < 64; i += 4) {
		v4f f = { (float)c[i], (float)c[i + 1], (float)c[i + 2], (float)c[i + 3] };
		f *= v4f_load(qf + i);
		f *= f;
		eh += f * v4f_load(gh + i);
		ev += f * v4f_load(gv + i);
	}
	float h = eh[0] + eh[1] + eh[2] + eh[3], v = ev[0] + ev[1] + ev[2] + ev[3];
	/* mean |x| = 0.8 sigma for Gaussian-like detail */
	return 0.8f * (sqrtf(h / 64) + sqrtf(v / 64));
}

typedef struct coef_job {
	struct jpeg_decompress_struct in;
	struct jpeg_compress_struct out;
	coef_err ein, eout;
	int in_made, out_made;
	unsigned char *mem;
	unsigned long mem_len;
	float *mask, *mask2;
	float *delta; /* 8 pixel rows of the change, W8 wide */
	aimark__wm_field field;
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
	aimark__wm_field_dispose(&j->field);
	if (j->plan) {
		aimark__wipe(j->plan, sizeof *j->plan);
		aimark__free(j->plan);
	}
}

/*
 * 8 x 8 DCT tables. basis[u][x] is the orthonormal basis; half[u][k] folds the odd samples of a
 * row into its even ones (x = 2k) for changes that are linear between even samples (the last
 * odd one extrapolated). bt and ht hold the same as vectors over u.
 */
typedef struct dct_tables {
	int K; /* frequencies kept per axis */
	float basis[8][8], half[8][4];
	v4f bt[8][2], ht[4][2];
} dct_tables;

static void dct_tables_init(dct_tables *t, int K)
{
	static const float w_odd[4][4] = { /* weight of even sample k in f(1), f(3), f(5), f(7) */
		{ 0.5f, 0.5f, 0, 0 }, { 0, 0.5f, 0.5f, 0 }, { 0, 0, 0.5f, 0.5f }, { 0, 0, -0.5f, 1.5f } };
	t->K = K;
	dct_basis(t->basis);
	for (int u = 0; u < 8; u++)
		for (int k = 0; k < 4; k++) {
			float w = t->basis[u][2 * k];
			for (int o = 0; o < 4; o++)
				w += w_odd[o][k] * t->basis[u][2 * o + 1];
			t->half[u][k] = w;
		}
	for (int x = 0; x < 8; x++)
		for (int u = 0; u < 8; u++)
			t->bt[x][u >> 2][u & 3] = t->basis[u][x];
	for (int k = 0; k < 4; k++)
		for (int u = 0; u < 8; u++)
			t->ht[k][u >> 2][u & 3] = t->half[u][k];
}

/*
 * dct[v][u] for v < K, all u: the block whose row r starts at d + r * stride. The vertical pass
 * comes first, on whole rows as vectors, so that the horizontal one only runs for the K rows kept.
 */
static void block_dct(const dct_tables *t, const float *d, size_t stride, float dct[8][8])
{
	v4f rows[8][2];
	for (int r = 0; r < 8; r++) {
		rows[r][0] = v4f_load(d + (size_t)r * stride);
		rows[r][1] = v4f_load(d + (size_t)r * stride + 4);
	}
	for (int v = 0; v < t->K; v++) {
		v4f c0 = { 0 }, c1 = { 0 };
#pragma GCC unroll 8
		for (int r = 0; r < 8; r++) {
			c0 += rows[r][0] * t->basis[v][r];
			c1 += rows[r][1] * t->basis[v][r];
		}
		float col[8];
		v4f_store(col, c0);
		v4f_store(col + 4, c1);
		v4f a0 = { 0 }, a1 = { 0 };
#pragma GCC unroll 8
		for (int x = 0; x < 8; x++) {
			a0 += t->bt[x][0] * col[x];
			a1 += t->bt[x][1] * col[x];
		}
		v4f_store(dct[v], a0);
		v4f_store(dct[v] + 4, a1);
	}
}

/* The same from the even samples of the even rows only. */
static void block_dct_sub(const dct_tables *t, const float *d, size_t stride, float dct[8][8])
{
	v4f tmp[4][2];
	for (int k = 0; k < 4; k++) {
		const float *row = d + (size_t)(2 * k) * stride;
		v4f a0 = { 0 }, a1 = { 0 };
		for (int x = 0; x < 4; x++) {
			a0 += t->ht[x][0] * row[2 * x];
			a1 += t->ht[x][1] * row[2 * x];
		}
		tmp[k][0] = a0;
		tmp[k][1] = a1;
	}
	for (int v = 0; v < t->K; v++) {
		v4f c0 = { 0 }, c1 = { 0 };
		for (int k = 0; k < 4; k++) {
			c0 += tmp[k][0] * t->half[v][k];
			c1 += tmp[k][1] * t->half[v][k];
		}
		v4f_store(dct[v], c0);
		v4f_store(dct[v] + 4, c1);
	}
}

static inline v4u mix32x4(v4u x)
{
	x ^= x >> 16;
	x *= 0x7feb352dU;
	x ^= x >> 15;
	x *= 0x846ca68bU;
	x ^= x >> 16;
	return x;
}

/*
 * Adds the change to one block's quantised coefficients, in steps, with a dither keyed by block
 * and frequency (mix32 of (block << 6) ^ index). Branch-free over four frequencies at a time:
 * whether a change clears the floor is close to a coin toss, which a branch predicts badly.
 */
static void quantise_block(JCOEF *blk, const float dct[8][8], int K, const float inv_q[64], uint32_t block_index)
{
	const v4u lane = { 0, 1, 2, 3 };
	const v4u seed = (v4u){ 0, 0, 0, 0 } + ((block_index << 6) ^ 0x9e3779b9U);
	const v4f floor_v = { DITHER_FLOOR, DITHER_FLOOR, DITHER_FLOOR, DITHER_FLOOR };
	for (int v = 0; v < K; v++) {
		int32_t add[8];
		for (int h = 0; h < 2; h++) {
			const uint32_t idx0 = (uint32_t)(v * 8 + h * 4);
			v4f steps = v4f_load(dct[v] + h * 4) * v4f_load(inv_q + idx0);
			v4i bits = (v4i)(mix32x4(seed ^ (lane + idx0)) >> 8);
			v4f t = steps + __builtin_convertvector(bits, v4f) * (1.0f / 16777216.0f);
			v4i a = __builtin_convertvector(t, v4i); /* truncates toward zero */
			a += (v4i)(t < __builtin_convertvector(a, v4f)); /* -1 where that rounded up: floor */
			/* a change far below one step would mostly add dither noise: leave it out */
			a &= (v4i)(steps >= floor_v) | (v4i)(steps <= -floor_v);
			memcpy(add + h * 4, &a, sizeof a);
		}
		/* coefficients stay within what 8-bit JPEG can code: +-2047 for the DC, +-1023 for the AC */
		JCOEF *row = blk + v * 8;
		int u = 0;
		if (v == 0) {
			const int dc = row[0] + add[0];
			row[0] = (JCOEF)(dc > 2047 ? 2047 : dc < -2047 ? -2047 : dc);
			u = 1;
		}
		for (; u < K; u++) {
			int c = row[u] + add[u];
			c = c > 1023 ? 1023 : c;
			row[u] = (JCOEF)(c < -1023 ? -1023 : c);
		}
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
	const uint32_t bw = y->width_in_blocks, bh = y->height_in_blocks;
	j->mask = aimark__calloc((size_t)bw * bh, sizeof *j->mask);
	j->mask2 = aimark__calloc((size_t)bw * bh, sizeof *j->mask2);
	const uint32_t W8 = bw * 8; /* whole blocks: a multiple of 8, so the row loops run in 4-float vectors */
	j->delta = aimark__malloc((size_t)W8 * 8 * sizeof *j->delta);
	RETURN_IF(!j->mask || !j->mask2 || !j->delta, AIMARK_ENOMEM, "out of memory");

	/* 1. Mask per block from its AC energy, smoothed, within the mean-square budget. */
	float gh[64], gv[64], qf[64];
	for (int i = 0; i < 64; i++) {
		float g_h = (float)(2 - 2 * cos((i & 7) * M_PI / 8)), g_v = (float)(2 - 2 * cos((i >> 3) * M_PI / 8));
		gh[i] = i == 0 ? 0 : g_h * g_h;
		gv[i] = i == 0 ? 0 : g_v * g_v;
		qf[i] = (float)q[i];
	}
	for (uint32_t by = 0; by < bh; by++) {
		JBLOCKARRAY rows = (*in->mem->access_virt_barray)((j_common_ptr)in, coefs[0], by, 1, FALSE);
		for (uint32_t bx = 0; bx < bw; bx++)
			j->mask2[(size_t)by * bw + bx] = aimark__wm_mask_from_activity(block_activity(rows[0][bx], qf, gh, gv));
	}
	aimark__wm_mask_smooth(j->mask2, j->mask, bw, bh, strength);

	/* 2. The change, pixel row by pixel row (wm_image_field.c), over cells that are the 8 x 8 blocks. */
	RETURN_IF_ERR(aimark__wm_field_init(&j->field, j->plan, j->mask, bw, bh, 8, W8));
	dct_tables tab;
	const double chip = j->plan->chip;
	dct_tables_init(&tab, chip < 3 ? 8 : chip < 6 ? 6 : 4); /* the pattern is smooth: only low frequencies matter */
	/*
	 * Chips of 8 px and more: the change is piecewise bilinear at that scale, so every other
	 * pixel of every other row is enough (see dct_tables_init).
	 */
	const int sub = chip >= 8;
	float inv_q[64];
	for (int i = 0; i < 64; i++)
		inv_q[i] = 1.0f / (float)q[i];

	/* 3. Block row by block row: the change in pixels, its low-frequency DCT, dithered quantisation. */
	for (uint32_t by = 0; by < bh; by++) {
		for (int r = 0; r < 8; r += sub ? 2 : 1)
			aimark__wm_field_row(&j->field, by * 8 + (uint32_t)r, j->delta + (size_t)r * W8);
		JBLOCKARRAY rows = (*in->mem->access_virt_barray)((j_common_ptr)in, coefs[0], by, 1, TRUE);
		for (uint32_t bx = 0; bx < bw; bx++) {
			float dct[8][8];
			if (sub)
				block_dct_sub(&tab, j->delta + (size_t)bx * 8, W8, dct);
			else
				block_dct(&tab, j->delta + (size_t)bx * 8, W8, dct);
			quantise_block(rows[0][bx], dct, tab.K, inv_q, by * bw + bx);
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
 * Detection input from a JPEG: only the luminance, at a DCT scaling (1/2, 1/4,
 * 1/8) that the caller bounds. Chroma is never inverse-transformed and the
 * image is never decoded at full size, so this costs a fraction of a full decode.
 */
typedef struct luma_job {
	struct jpeg_decompress_struct in;
	coef_err err;
	int made;
} luma_job;

static int decode_luma(luma_job *j, const unsigned char *jpeg, size_t len, uint32_t (*max_denom)(uint32_t, uint32_t),
		       aimark__image *img, uint32_t *width, uint32_t *height, unsigned *denom_out)
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
	const uint32_t limit = max_denom(j->in.image_width, j->in.image_height);
	unsigned denom = 1;
	while (denom < 8 && denom * 2 <= limit)
		denom *= 2;
	*width = j->in.image_width;
	*height = j->in.image_height;
	*denom_out = denom;
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

int aimark__jpeg_decode_luma(const unsigned char *jpeg, size_t len, uint32_t (*max_denom)(uint32_t width, uint32_t height),
			     aimark__image *img, uint32_t *width, uint32_t *height, unsigned *denom)
{
	memset(img, 0, sizeof *img);
	RETURN_IF(jpeg == NULL || max_denom == NULL, AIMARK_EINVAL, "JPEG: bad argument");
	RETURN_IF(len < 4 || jpeg[0] != 0xFF || jpeg[1] != 0xD8, AIMARK_EFORMAT, "JPEG: no SOI marker at offset 0");
	RETURN_IF(len > ULONG_MAX, AIMARK_ELIMIT, "JPEG: too large");
	luma_job *j = aimark__calloc(1, sizeof *j);
	RETURN_ENOMEM_IF_NULL(j);
	int rc = decode_luma(j, jpeg, len, max_denom, img, width, height, denom);
	if (j->made)
		jpeg_destroy_decompress(&j->in);
	aimark__free(j);
	if (rc < 0)
		aimark__image_dispose(img);
	return rc;
}

/* The DCT scaling's own low-pass stands in for most of the working image's area averaging. */
uint32_t aimark__wm_jpeg_max_denom(uint32_t width, uint32_t height)
{
	const double area = (double)width * height;
	uint32_t denom = 1;
	while (denom < 8 && area / ((double)denom * denom * 4) >= 0.9 * AIMARK__WM_WORK_AREA)
		denom *= 2;
	return denom;
}

int aimark__wm_jpeg_detect(const unsigned char *jpeg, size_t len, const aimark_wm_key *const *keys, size_t n_keys,
			   aimark_wm_result *res)
{
	RETURN_IF(jpeg == NULL || res == NULL, AIMARK_EINVAL, "watermark: bad argument");
	aimark__image img;
	uint32_t width, height;
	unsigned denom;
	RETURN_IF_ERR(aimark__jpeg_decode_luma(jpeg, len, aimark__wm_jpeg_max_denom, &img, &width, &height, &denom));
	int rc = aimark__wm_image_detect(&img, keys, n_keys, res);
	aimark__image_dispose(&img);
	return rc;
}

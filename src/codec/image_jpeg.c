/* JPEG through libjpeg-turbo: decode to 8-bit grey/RGB, re-encode at the estimated quality keeping APPn/COM segments. */
#include <limits.h>
#include <stdio.h>
#include <jpeglib.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "image_formats.h"

typedef struct error_mgr {
	struct jpeg_error_mgr pub;
	jmp_buf jump;
	char message[JMSG_LENGTH_MAX];
} error_mgr;

static void on_error(j_common_ptr cinfo)
{
	error_mgr *e = (error_mgr *)cinfo->err;
	(*cinfo->err->format_message)(cinfo, e->message);
	longjmp(e->jump, 1);
}

static void on_message(j_common_ptr cinfo, int level)
{
	(void)cinfo;
	(void)level; /* warnings about corrupt data are tolerated like libjpeg's tools do */
}

/* The IJG standard luminance table (natural order) that quality scaling starts from. */
static const uint16_t g_std_luma[64] = {
	16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
	14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
	18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
	49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
};

int aimark__jpeg_estimate_quality(const uint16_t table[64])
{
	int best_q = 75;
	long best_err = -1;
	for (int q = 1; q <= 100; q++) {
		int scale = q < 50 ? 5000 / q : 200 - q * 2;
		long err = 0;
		for (int i = 0; i < 64; i++) {
			long v = ((long)g_std_luma[i] * scale + 50) / 100;
			if (v < 1) v = 1;
			if (v > 255) v = 255;
			long d = v - table[i];
			err += d < 0 ? -d : d;
		}
		if (best_err < 0 || err < best_err) {
			best_err = err;
			best_q = q;
		}
	}
	return best_q;
}

int aimark__jpeg_decode(const unsigned char *data, size_t len, aimark__image *img, aimark__image_coding *coding)
{
	struct jpeg_decompress_struct cinfo;
	error_mgr err;
	volatile int allocated = 0;
	memset(&cinfo, 0, sizeof cinfo);
	cinfo.err = jpeg_std_error(&err.pub);
	err.pub.error_exit = on_error;
	err.pub.emit_message = on_message;
	if (setjmp(err.jump)) {
		jpeg_destroy_decompress(&cinfo);
		if (allocated)
			aimark__image_dispose(img);
		return aimark__error_set(AIMARK_EFORMAT, "JPEG: %s", err.message);
	}
	RETURN_IF(len > ULONG_MAX, AIMARK_ELIMIT, "JPEG: too large");
	jpeg_create_decompress(&cinfo);
	jpeg_mem_src(&cinfo, data, (unsigned long)len);
	jpeg_read_header(&cinfo, TRUE);
	if (aimark__image_check_claim(cinfo.image_width, cinfo.image_height, len, "JPEG") < 0) {
		jpeg_destroy_decompress(&cinfo);
		return AIMARK_ELIMIT;
	}
	if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
		jpeg_destroy_decompress(&cinfo);
		return aimark__error_set(AIMARK_EUNSUPPORTED, "JPEG: CMYK images are not supported for pixel layers");
	}
	cinfo.out_color_space = cinfo.num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
	if (cinfo.quant_tbl_ptrs[0]) {
		uint16_t table[64];
		for (int i = 0; i < 64; i++) /* libjpeg keeps quantval in natural order */
			table[i] = cinfo.quant_tbl_ptrs[0]->quantval[i];
		coding->quality = aimark__jpeg_estimate_quality(table);
	} else {
		coding->quality = 90;
	}
	coding->progressive = cinfo.progressive_mode;
	coding->chroma_444 = cinfo.num_components == 1 ||
			     (cinfo.comp_info[0].h_samp_factor == 1 && cinfo.comp_info[0].v_samp_factor == 1);
	jpeg_start_decompress(&cinfo);
	int rc = aimark__image_alloc(img, cinfo.output_width, cinfo.output_height, (uint32_t)cinfo.output_components, 8);
	if (rc < 0) {
		jpeg_destroy_decompress(&cinfo);
		return rc;
	}
	allocated = 1;
	while (cinfo.output_scanline < cinfo.output_height) {
		JSAMPROW row = img->pixels + (size_t)cinfo.output_scanline * img->stride;
		jpeg_read_scanlines(&cinfo, &row, 1);
	}
	jpeg_finish_decompress(&cinfo);
	jpeg_destroy_decompress(&cinfo);
	return 0;
}

/* Copies the APPn (except JFIF APP0 and Adobe APP14, which libjpeg writes) and COM segments of `original`. */
static void copy_markers(j_compress_ptr cinfo, const unsigned char *p, size_t len)
{
	size_t i = 2;
	if (len < 4 || p[0] != 0xFF || p[1] != 0xD8)
		return;
	while (i + 4 <= len && p[i] == 0xFF) {
		unsigned marker = p[i + 1];
		if (marker == 0xDA || marker == 0xD9)
			break;
		size_t seg = ((size_t)p[i + 2] << 8) | p[i + 3];
		if (seg < 2 || i + 2 + seg > len)
			break;
		int is_app = marker >= 0xE0 && marker <= 0xEF;
		int jfif = marker == 0xE0 && seg >= 7 && memcmp(p + i + 4, "JFIF", 4) == 0;
		int adobe = marker == 0xEE && seg >= 7 && memcmp(p + i + 4, "Adobe", 5) == 0;
		if ((is_app && !jfif && !adobe) || marker == 0xFE)
			jpeg_write_marker(cinfo, (int)marker, p + i + 4, (unsigned)(seg - 2));
		i += 2 + seg;
	}
}

int aimark__jpeg_encode(const aimark__image *img, const aimark__image_coding *coding, const unsigned char *original,
			size_t original_len, aimark_buf *out)
{
	RETURN_IF(img->bit_depth != 8 || (img->channels != 1 && img->channels != 3), AIMARK_EUNSUPPORTED,
		  "JPEG: can only encode 8-bit grey or RGB (got %u channels, %u bits)", img->channels, img->bit_depth);
	struct jpeg_compress_struct cinfo;
	error_mgr err;
	unsigned char *mem = NULL;
	unsigned long mem_len = 0;
	memset(&cinfo, 0, sizeof cinfo);
	cinfo.err = jpeg_std_error(&err.pub);
	err.pub.error_exit = on_error;
	err.pub.emit_message = on_message;
	if (setjmp(err.jump)) {
		jpeg_destroy_compress(&cinfo);
		free(mem);
		return aimark__error_set(AIMARK_EFORMAT, "JPEG encode: %s", err.message);
	}
	jpeg_create_compress(&cinfo);
	jpeg_mem_dest(&cinfo, &mem, &mem_len);
	cinfo.image_width = img->width;
	cinfo.image_height = img->height;
	cinfo.input_components = (int)img->channels;
	cinfo.in_color_space = img->channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
	jpeg_set_defaults(&cinfo);
	jpeg_set_quality(&cinfo, coding->quality > 0 ? coding->quality : 90, TRUE);
	if (coding->chroma_444 && img->channels == 3)
		cinfo.comp_info[0].h_samp_factor = cinfo.comp_info[0].v_samp_factor = 1;
	if (coding->progressive)
		jpeg_simple_progression(&cinfo);
	cinfo.optimize_coding = TRUE;
	jpeg_start_compress(&cinfo, TRUE);
	if (original)
		copy_markers(&cinfo, original, original_len);
	while (cinfo.next_scanline < cinfo.image_height) {
		JSAMPROW row = img->pixels + (size_t)cinfo.next_scanline * img->stride;
		jpeg_write_scanlines(&cinfo, &row, 1);
	}
	jpeg_finish_compress(&cinfo);
	jpeg_destroy_compress(&cinfo);
	int rc = aimark__buf_append(out, mem, mem_len);
	free(mem);
	return rc;
}

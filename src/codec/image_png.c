/* PNG through libpng: decode any PNG to 8/16-bit grey/RGB(+alpha); encode keeping the original's ancillary chunks. */
#include <png.h>
#include <stdio.h>
#include <string.h>

#include "core/internal.h"
#include "image_formats.h"

/*
 * Decoding goes through libpng's low-level reader rather than the simplified
 * API: the simplified API turns 16-bit files into linear light, while the
 * layers that change pixels want the file's own samples at the file's own
 * depth (a 16-bit file stays 16-bit and only the watermark changes it).
 * Palettes and tRNS become RGB(A) / grey+alpha, low-bit grey becomes 8-bit;
 * no gamma or colour conversion, so the original's colour chunks, which the
 * encoder carries over, still describe the pixels.
 */

/* The read position and the first error message: libpng reports errors by longjmp. */
typedef struct png_io {
	const unsigned char *data;
	size_t len, pos;
	int oom;          /* an allocation failed (libpng then reports an error) */
	char msg[160];
} png_io;

static void png_io_error(png_structp png, png_const_charp msg)
{
	png_io *io = png_get_error_ptr(png);
	if (io->msg[0] == 0)
		snprintf(io->msg, sizeof io->msg, "%s", msg ? msg : "error");
	png_longjmp(png, 1);
}

static void png_io_warning(png_structp png, png_const_charp msg)
{
	(void)png;
	(void)msg; /* read leniently: warnings (bad ancillary CRCs, odd chunks) are not failures */
}

static void png_io_read(png_structp png, png_bytep out, size_t n)
{
	png_io *io = png_get_io_ptr(png);
	if (n > io->len - io->pos)
		png_error(png, "truncated");
	memcpy(out, io->data + io->pos, n);
	io->pos += n;
}

/* libpng's mem_ptr is the context's out-of-memory flag, so that a failed allocation becomes AIMARK_ENOMEM. */
static png_voidp png_mem_alloc(png_structp png, png_alloc_size_t n)
{
	void *p = aimark__malloc(n);
	int *oom = png_get_mem_ptr(png);
	if (p == NULL && oom != NULL)
		*oom = 1;
	return p;
}

static void png_mem_free(png_structp png, png_voidp p)
{
	(void)png;
	aimark__free(p);
}

static int host_is_little_endian(void)
{
	const uint16_t one = 1;
	return *(const unsigned char *)&one == 1;
}

/* Everything that can longjmp, kept out of the function that calls setjmp so that no local needs to be volatile. */
static int png_read_all(png_structp png, png_infop info, aimark__image *img, size_t len)
{
	png_set_user_limits(png, 1u << 20, 1u << 20);
	png_set_chunk_malloc_max(png, (png_alloc_size_t)16 << 20);
	/* Pixels only: text, profiles and unknown chunks are skipped unread (the metadata layers read them). */
	png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, NULL, 0);
	static const png_byte skip[] = "iCCP\0iTXt\0tEXt\0zTXt\0sPLT\0eXIf\0tIME\0pCAL\0sCAL\0hIST\0oFFs\0pHYs\0sBIT\0bKGD\0";
	png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, skip, (int)(sizeof skip / 5));
	png_read_info(png, info);
	png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
	int colour_type = png_get_color_type(png, info), depth = png_get_bit_depth(png, info);
	/* deflate expands at most 1032:1, so a header that claims more pixels than the file can hold is
	   refused before its pixels are allocated */
	uint64_t raw = ((uint64_t)png_get_rowbytes(png, info) + 1) * h;
	if (raw / 1032 > (uint64_t)len)
		return aimark__error_set(AIMARK_EFORMAT, "PNG: a %ux%u image cannot come from %zu bytes", (unsigned)w, (unsigned)h, len);
	if (colour_type == PNG_COLOR_TYPE_PALETTE)
		png_set_palette_to_rgb(png);
	if (colour_type == PNG_COLOR_TYPE_GRAY && depth < 8)
		png_set_expand_gray_1_2_4_to_8(png);
	if (png_get_valid(png, info, PNG_INFO_tRNS))
		png_set_tRNS_to_alpha(png);
	if (depth == 16 && host_is_little_endian())
		png_set_swap(png);
	int passes = png_set_interlace_handling(png);
	png_read_update_info(png, info);
	uint32_t channels = png_get_channels(png, info);
	uint32_t out_depth = png_get_bit_depth(png, info);
	int rc = aimark__image_alloc(img, w, h, channels, out_depth);
	if (rc < 0)
		return rc;
	if (png_get_rowbytes(png, info) != img->stride)
		return aimark__error_set(AIMARK_EFORMAT, "PNG: unexpected row size %zu", (size_t)png_get_rowbytes(png, info));
	for (int p = 0; p < passes; p++)
		for (uint32_t y = 0; y < h; y++)
			png_read_row(png, img->pixels + (size_t)y * img->stride, NULL);
	/* No png_read_end: what follows the image data (text, IEND) does not change the pixels. */
	return 0;
}

/* The setjmp frame: a libpng error longjmps here and becomes AIMARK_EFORMAT with the position reached. */
static int png_read_guarded(png_structp png, png_infop info, aimark__image *img, const png_io *io)
{
	if (setjmp(png_jmpbuf(png)))
		return io->oom ? aimark__error_set(AIMARK_ENOMEM, "out of memory")
			       : aimark__error_set(AIMARK_EFORMAT, "PNG: %s (near offset %zu)", io->msg, io->pos);
	return png_read_all(png, info, img, io->len);
}

int aimark__png_decode(const unsigned char *data, size_t len, aimark__image *img, aimark__image_coding *coding)
{
	memset(img, 0, sizeof *img);
	RETURN_IF(len < 8 || png_sig_cmp(data, 0, 8) != 0, AIMARK_EFORMAT, "PNG: bad signature at offset 0");
	png_io io = { data, len, 8, 0, { 0 } };
	png_structp png = png_create_read_struct_2(PNG_LIBPNG_VER_STRING, &io, png_io_error, png_io_warning, &io.oom,
						   png_mem_alloc, png_mem_free);
	RETURN_ENOMEM_IF_NULL(png);
	png_infop info = png_create_info_struct(png);
	if (info == NULL) {
		png_destroy_read_struct(&png, NULL, NULL);
		return aimark__error_set(AIMARK_ENOMEM, "out of memory");
	}
	png_set_read_fn(png, &io, png_io_read);
	png_set_sig_bytes(png, 8);
	int rc = png_read_guarded(png, info, img, &io);
	png_destroy_read_struct(&png, &info, NULL);
	if (rc < 0) {
		aimark__image_dispose(img);
		return rc;
	}
	coding->lossless = 1;
	coding->quality = 0;
	return 0;
}

/* Chunks the encoder writes itself or that describe the pixels it replaces. */
static int encoder_owns(const unsigned char *type)
{
	static const char *const owned[] = { "IHDR", "PLTE", "IDAT", "IEND", "tRNS", "sBIT", "bKGD", "hIST", "sRGB", "gAMA", "cHRM", "iCCP" };
	for (size_t i = 0; i < sizeof owned / sizeof owned[0]; i++)
		if (memcmp(type, owned[i], 4) == 0)
			return 1;
	return 0;
}

/* PNG chunk types are four ASCII letters; past anything else the original is not walked further. */
static int chunk_type_valid(const unsigned char *t)
{
	for (int i = 0; i < 4; i++)
		if (!((t[i] >= 'A' && t[i] <= 'Z') || (t[i] >= 'a' && t[i] <= 'z')))
			return 0;
	return 1;
}

/* Appends `encoded` with the ancillary chunks of `original` inserted after IHDR. */
static int splice_ancillary(const unsigned char *encoded, size_t enc_len, const unsigned char *original, size_t orig_len, aimark_buf *out)
{
	const size_t ihdr_end = 8 + 8 + 13 + 4;
	RETURN_IF(enc_len < ihdr_end, AIMARK_EFORMAT, "PNG encode: short output");
	RETURN_IF_ERR(aimark__buf_append(out, encoded, ihdr_end));
	size_t i = 8;
	while (original && i + 12 <= orig_len) {
		uint32_t n = aimark__be32(original + i);
		if (n > orig_len - i - 12)
			break;
		const unsigned char *type = original + i + 4;
		if (memcmp(type, "IEND", 4) == 0 || !chunk_type_valid(type))
			break;
		/* ancillary only (lower-case first letter): an unknown critical chunk would make the output unreadable */
		if (!encoder_owns(type) && (type[0] & 0x20))
			RETURN_IF_ERR(aimark__buf_append(out, original + i, (size_t)n + 12));
		i += (size_t)n + 12;
	}
	return aimark__buf_append(out, encoded + ihdr_end, enc_len - ihdr_end);
}

/* Keeps the colour-describing chunks of the original (sRGB, gAMA, cHRM, iCCP) too: the pixels are in that space. */
static int splice_colour(const unsigned char *original, size_t orig_len, aimark_buf *out)
{
	static const char *const colour[] = { "sRGB", "gAMA", "cHRM", "iCCP" };
	size_t i = 8;
	while (original && i + 12 <= orig_len) {
		uint32_t n = aimark__be32(original + i);
		if (n > orig_len - i - 12 || !chunk_type_valid(original + i + 4))
			break;
		for (size_t c = 0; c < 4; c++)
			if (memcmp(original + i + 4, colour[c], 4) == 0)
				RETURN_IF_ERR(aimark__buf_append(out, original + i, (size_t)n + 12));
		i += (size_t)n + 12;
	}
	return 0;
}

/* Output of the low-level writer, appended to a buffer. */
typedef struct png_out {
	aimark_buf buf;
	int failed;       /* an allocation failed */
	char msg[160];
} png_out;

static void png_out_write(png_structp png, png_bytep data, size_t n)
{
	png_out *o = png_get_io_ptr(png);
	if (aimark__buf_append(&o->buf, data, n) < 0) {
		o->failed = 1;
		png_error(png, "out of memory");
	}
}

static void png_out_flush(png_structp png)
{
	(void)png;
}

static void png_out_error(png_structp png, png_const_charp msg)
{
	png_out *o = png_get_error_ptr(png);
	if (o->msg[0] == 0)
		snprintf(o->msg, sizeof o->msg, "%s", msg ? msg : "error");
	png_longjmp(png, 1);
}

static void png_write_all(png_structp png, png_infop info, const aimark__image *img)
{
	static const int types[5] = { 0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGB_ALPHA };
	png_set_IHDR(png, info, img->width, img->height, (int)img->bit_depth, types[img->channels], PNG_INTERLACE_NONE,
		     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	if (img->bit_depth == 16 && host_is_little_endian())
		png_set_swap(png);
	for (uint32_t y = 0; y < img->height; y++)
		png_write_row(png, img->pixels + (size_t)y * img->stride);
	png_write_end(png, info);
}

static int png_write_guarded(png_structp png, png_infop info, const aimark__image *img, const png_out *o)
{
	if (setjmp(png_jmpbuf(png)))
		return o->failed ? aimark__error_set(AIMARK_ENOMEM, "out of memory")
				 : aimark__error_set(AIMARK_EFORMAT, "PNG encode: %s", o->msg);
	png_write_all(png, info, img);
	return 0;
}

/* 16-bit images: the simplified writer takes 16-bit data as linear light (and premultiplied alpha), so write IHDR/IDAT/IEND directly. */
static int encode_16(const aimark__image *img, aimark_buf *out)
{
	png_out o;
	memset(&o, 0, sizeof o);
	png_structp png = png_create_write_struct_2(PNG_LIBPNG_VER_STRING, &o, png_out_error, png_io_warning, &o.failed,
						    png_mem_alloc, png_mem_free);
	RETURN_ENOMEM_IF_NULL(png);
	png_infop info = png_create_info_struct(png);
	int rc;
	if (info == NULL) {
		rc = aimark__error_set(AIMARK_ENOMEM, "out of memory");
	} else {
		png_set_write_fn(png, &o, png_out_write, png_out_flush);
		rc = png_write_guarded(png, info, img, &o);
	}
	png_destroy_write_struct(&png, &info);
	if (rc == 0)
		aimark__buf_move(out, &o.buf);
	aimark_buf_dispose(&o.buf);
	return rc;
}

/* 8-bit images: libpng's simplified writer (what aimark has always written). */
static int encode_8(const aimark__image *img, aimark_buf *out)
{
	png_image pi;
	memset(&pi, 0, sizeof pi);
	pi.version = PNG_IMAGE_VERSION;
	pi.width = img->width;
	pi.height = img->height;
	static const png_uint_32 formats[5] = { 0, PNG_FORMAT_GRAY, PNG_FORMAT_GA, PNG_FORMAT_RGB, PNG_FORMAT_RGBA };
	pi.format = formats[img->channels];
	png_alloc_size_t size = 0;
	RETURN_IF(!png_image_write_get_memory_size(pi, size, 0, img->pixels, (png_int_32)img->stride, NULL), AIMARK_EFORMAT,
		  "PNG encode: %s", pi.message);
	unsigned char *mem = aimark__malloc(size);
	RETURN_ENOMEM_IF_NULL(mem);
	if (!png_image_write_to_memory(&pi, mem, &size, 0, img->pixels, (png_int_32)img->stride, NULL)) {
		aimark__free(mem);
		return aimark__error_set(AIMARK_EFORMAT, "PNG encode: %s", pi.message);
	}
	int rc = aimark__buf_append(out, mem, size);
	aimark__free(mem);
	return rc;
}

int aimark__png_encode(const aimark__image *img, const aimark__image_coding *coding, const unsigned char *original,
		       size_t original_len, aimark_buf *out)
{
	(void)coding;
	RETURN_IF(img->bit_depth != 8 && img->bit_depth != 16, AIMARK_EUNSUPPORTED, "PNG encode: %u-bit samples", img->bit_depth);
	RETURN_IF(img->channels < 1 || img->channels > 4, AIMARK_EUNSUPPORTED, "PNG encode: %u channels", img->channels);
	aimark_buf enc = AIMARK_BUF_INIT;
	RETURN_IF_ERR(img->bit_depth == 16 ? encode_16(img, &enc) : encode_8(img, &enc));
	const unsigned char *mem = enc.ptr;
	size_t size = enc.size;
	/* The simplified writer adds its own sRGB/gAMA; drop those in favour of the original's colour chunks. */
	aimark_buf plain = AIMARK_BUF_INIT;
	int rc = 0;
	size_t i = 8;
	rc = aimark__buf_append(&plain, mem, 8);
	while (rc == 0 && i + 12 <= size) {
		uint32_t n = aimark__be32(mem + i);
		const unsigned char *type = mem + i + 4;
		int keep = !(memcmp(type, "sRGB", 4) == 0 || memcmp(type, "gAMA", 4) == 0 || memcmp(type, "cHRM", 4) == 0);
		if (keep)
			rc = aimark__buf_append(&plain, mem + i, (size_t)n + 12);
		if (rc == 0 && memcmp(type, "IHDR", 4) == 0)
			rc = splice_colour(original, original_len, &plain);
		i += (size_t)n + 12;
	}
	aimark_buf_dispose(&enc);
	if (rc == 0)
		rc = splice_ancillary(plain.ptr, plain.size, original, original_len, out);
	aimark_buf_dispose(&plain);
	return rc;
}

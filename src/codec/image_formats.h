/* Per-codec entry points behind aimark__image_decode / aimark__image_encode. */
#ifndef AIMARK_CODEC_IMAGE_FORMATS_H
#define AIMARK_CODEC_IMAGE_FORMATS_H

#include "image_codec.h"

int aimark__jpeg_decode(const unsigned char *data, size_t len, aimark__image *img, aimark__image_coding *coding);
int aimark__jpeg_encode(const aimark__image *img, const aimark__image_coding *coding, const unsigned char *original,
			size_t original_len, aimark_buf *out);
int aimark__png_decode(const unsigned char *data, size_t len, aimark__image *img, aimark__image_coding *coding);
int aimark__png_encode(const aimark__image *img, const aimark__image_coding *coding, const unsigned char *original,
		       size_t original_len, aimark_buf *out);
int aimark__webp_decode(const unsigned char *data, size_t len, aimark__image *img, aimark__image_coding *coding);
int aimark__webp_encode(const aimark__image *img, const aimark__image_coding *coding, const unsigned char *original,
			size_t original_len, aimark_buf *out);

#endif

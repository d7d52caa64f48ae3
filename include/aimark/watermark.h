/*
 * aimark/watermark.h - keyed invisible watermarks bound to the signed label.
 *
 * A watermark key is 256 secret bits. Without it the mark can neither be read
 * nor located. The payload is 64 bits chosen by the caller (aimark writes the
 * first 8 bytes of SHA-256(ProduceID)), protected by a 48-bit authenticator
 * (HMAC-SHA256 under a key derived from the watermark key), a convolutional
 * code and a geometric synchronisation pattern. docs/watermark-image.md
 * describes the method, the payload format and the false-alarm derivation.
 *
 * THREAD SAFETY: a key is immutable once made and may be shared by any number
 * of threads embedding or detecting at the same time. Results are plain
 * structs owned by the caller.
 */
#ifndef AIMARK_WATERMARK_H
#define AIMARK_WATERMARK_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct aimark_wm_key aimark_wm_key;

#define AIMARK_WM_KEY_BYTES 32
#define AIMARK_WM_PAYLOAD_BYTES 8
/** Length of the short key id written by aimark_wm_key_id (hex digits, without the NUL). */
#define AIMARK_WM_KEY_ID_LEN 16
/** File name of the watermark key inside a key directory. */
#define AIMARK_KEYDIR_WATERMARK_KEY "watermark.key"

/**
 * Makes a key from 32 secret bytes (copied; wipe your copy). Returns 0,
 * AIMARK_EINVAL (NULL argument) or AIMARK_ENOMEM/AIMARK_ECRYPTO. The caller
 * frees *out with aimark_wm_key_free().
 */
AIMARK_API AIMARK_NODISCARD int aimark_wm_key_new(aimark_wm_key **out, const unsigned char bytes[AIMARK_WM_KEY_BYTES]);

/** Makes a key from 32 bytes of the system's random generator. Returns 0, AIMARK_ECRYPTO or AIMARK_ENOMEM. */
AIMARK_API AIMARK_NODISCARD int aimark_wm_key_generate(aimark_wm_key **out);

/** Wipes and frees a key. Accepts NULL. */
AIMARK_API void aimark_wm_key_free(aimark_wm_key *key);

/**
 * Writes the key's short public id, 16 lowercase hex digits plus NUL, to
 * `out`. The id is a one-way function of the key (it reveals nothing usable
 * to read or find the mark). Returns 0 or AIMARK_EINVAL.
 */
AIMARK_API AIMARK_NODISCARD int aimark_wm_key_id(const aimark_wm_key *key, char out[AIMARK_WM_KEY_ID_LEN + 1]);

/**
 * Creates `dir` if needed and writes a fresh key as dir/watermark.key: 64 hex
 * digits and a newline, mode 0600. Refuses with AIMARK_EEXISTS when the file
 * exists. Returns 0, AIMARK_EEXISTS, AIMARK_EIO, AIMARK_EINVAL or AIMARK_ECRYPTO.
 */
AIMARK_API AIMARK_NODISCARD int aimark_keydir_create_watermark(const char *dir);

/**
 * Loads dir/watermark.key. Returns 0, AIMARK_ENOTFOUND (no such file),
 * AIMARK_EIO, AIMARK_EFORMAT (not 64 hex digits) or AIMARK_ENOMEM.
 */
AIMARK_API AIMARK_NODISCARD int aimark_keydir_load_watermark(aimark_wm_key **out, const char *dir);

/** What a detection found. */
typedef struct aimark_wm_result {
	int detected;         /* 1 when a watermark of one of the keys is present */
	int key_index;        /* index into the keys passed in, -1 when none */
	unsigned char payload[AIMARK_WM_PAYLOAD_BYTES]; /* valid when authenticated; a best guess otherwise */
	int authenticated;    /* 1 when the payload's authenticator verified under the key */
	/*
	 * Probability that an unmarked image (or one marked with another key)
	 * gives evidence at least this strong: an upper bound from the number of
	 * hypotheses tried. Detection requires <= 1e-9.
	 */
	double false_alarm_probability;
	double score;         /* synchronisation peak as a z-score (below about 6.5 when absent, 15-30 when intact) */
	int bit_errors;       /* hard-decision errors corrected among the coded bits; -1 when not decoded */
} aimark_wm_result;

/**
 * Decodes an image file in memory ("jpeg", "png" or "webp"; NULL to detect
 * from the magic bytes), embeds `payload` keyed by `key` and appends the
 * re-encoded file to `out`, keeping its metadata. JPEG input is marked in the
 * DCT coefficients (no generation loss); PNG and WebP through pixels at the
 * source's coding. `strength` 1.0 (or 0) is the default; larger is more
 * robust and less transparent. Returns 0, AIMARK_EINVAL, AIMARK_EFORMAT,
 * AIMARK_EUNSUPPORTED, AIMARK_ELIMIT (the image is smaller than 64x64 or
 * larger than the codec's limit) or AIMARK_ENOMEM. Thread-safe.
 */
AIMARK_API AIMARK_NODISCARD int aimark_wm_image_embed_memory(const void *data, size_t len, const char *format,
	const aimark_wm_key *key, const unsigned char payload[AIMARK_WM_PAYLOAD_BYTES], float strength, aimark_buf *out);

/**
 * Decodes an image file in memory and looks for a watermark of any of the
 * `n_keys` keys in one pass. Fills `res`; "not detected" is a result, not an
 * error. Returns 0, AIMARK_EINVAL, AIMARK_EFORMAT, AIMARK_EUNSUPPORTED or
 * AIMARK_ENOMEM. Thread-safe.
 */
AIMARK_API AIMARK_NODISCARD int aimark_wm_image_detect_memory(const void *data, size_t len, const char *format,
	const aimark_wm_key *const *keys, size_t n_keys, aimark_wm_result *res);

#ifdef __cplusplus
}
#endif
#endif

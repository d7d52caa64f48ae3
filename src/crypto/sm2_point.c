/*
 * SM2 public keys from raw curve points, as vendors put them in labels:
 * 04||X||Y, X||Y, 02||X / 03||X (compressed) and 00||X (x only, even y).
 */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/params.h>

#include "core/internal.h"
#include "crypto/crypto.h"
#include "crypto/key_internal.h"

#define COORD 32

/*
 * Builds the validated uncompressed encoding 04||X||Y in `enc`. For the
 * compressed and x-only forms y is solved from y^2 = x^3 + ax + b.
 */
static int sm2_point_uncompressed(const unsigned char *b, size_t len, unsigned char enc[1 + 2 * COORD])
{
	const unsigned char *xb, *yb = NULL;
	int y_odd = 0;

	switch (len) {
	case 1 + 2 * COORD:
		RETURN_IF(b[0] != 0x04, AIMARK_EFORMAT,
			"SM2 point: a 65-byte point must start with 04, found %02x at offset 0", b[0]);
		xb = b + 1;
		yb = b + 1 + COORD;
		break;
	case 2 * COORD:
		xb = b;
		yb = b + COORD;
		break;
	case 1 + COORD:
		RETURN_IF(b[0] != 0x00 && b[0] != 0x02 && b[0] != 0x03, AIMARK_EFORMAT,
			"SM2 point: a 33-byte point must start with 00, 02 or 03, found %02x at offset 0", b[0]);
		xb = b + 1;
		y_odd = b[0] == 0x03;
		break;
	default:
		return aimark__error_set(AIMARK_EFORMAT,
			"SM2 point: %zu bytes is not a point (expected 65, 64 or 33 bytes)", len);
	}

	int rc = 0;
	EC_GROUP *group = EC_GROUP_new_by_curve_name(NID_sm2);
	EC_POINT *pt = group ? EC_POINT_new(group) : NULL;
	BN_CTX *bn = BN_CTX_new();
	BIGNUM *p = BN_new(), *x = BN_new(), *y = BN_new();
	if (group == NULL || pt == NULL || bn == NULL || p == NULL || x == NULL || y == NULL ||
	    EC_GROUP_get_curve(group, p, NULL, NULL, bn) != 1 || BN_bin2bn(xb, COORD, x) == NULL ||
	    (yb != NULL && BN_bin2bn(yb, COORD, y) == NULL)) {
		rc = aimark__crypto_ossl_error(AIMARK_ECRYPTO, "SM2 point: cannot set up the curve");
		goto done;
	}
	/* OpenSSL reduces coordinates modulo p; a coordinate >= p is malformed. */
	if (BN_cmp(x, p) >= 0 || (yb != NULL && BN_cmp(y, p) >= 0)) {
		rc = aimark__error_set(AIMARK_EFORMAT, "SM2 point: coordinate not below the field prime");
		goto done;
	}
	if (yb != NULL) {
		if (EC_POINT_set_affine_coordinates(group, pt, x, y, bn) != 1 || EC_POINT_is_on_curve(group, pt, bn) != 1) {
			ERR_clear_error();
			rc = aimark__error_set(AIMARK_EFORMAT, "SM2 point: (X, Y) is not on the SM2 curve");
			goto done;
		}
	} else if (EC_POINT_set_compressed_coordinates(group, pt, x, y_odd, bn) != 1) {
		ERR_clear_error();
		rc = aimark__error_set(AIMARK_EFORMAT, "SM2 point: no point on the SM2 curve has this X");
		goto done;
	}
	if (EC_POINT_point2oct(group, pt, POINT_CONVERSION_UNCOMPRESSED, enc, 1 + 2 * COORD, bn) != 1 + 2 * COORD)
		rc = aimark__crypto_ossl_error(AIMARK_ECRYPTO, "SM2 point: cannot encode the point");
done:
	BN_free(p);
	BN_free(x);
	BN_free(y);
	BN_CTX_free(bn);
	EC_POINT_free(pt);
	EC_GROUP_free(group);
	return rc;
}

int aimark__key_from_sm2_point(aimark_key **out, const void *bytes, size_t len)
{
	RETURN_IF(out == NULL || (bytes == NULL && len != 0), AIMARK_EINVAL, "SM2 point: bad argument");
	*out = NULL;
	unsigned char enc[1 + 2 * COORD];
	RETURN_IF_ERR(sm2_point_uncompressed(bytes, len, enc));

	char group_name[] = "SM2";
	OSSL_PARAM params[] = {
		OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group_name, 0),
		OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, enc, sizeof enc),
		OSSL_PARAM_END,
	};
	EVP_PKEY *pkey = NULL;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "SM2", NULL);
	int ok = ctx != NULL && EVP_PKEY_fromdata_init(ctx) == 1 &&
		EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) == 1;
	EVP_PKEY_CTX_free(ctx);
	if (!ok) {
		EVP_PKEY_free(pkey);
		return aimark__crypto_ossl_error(AIMARK_ECRYPTO, "SM2 point: cannot build the key");
	}
	return aimark__key_wrap(out, pkey, 0);
}

int aimark__key_from_any_public(aimark_key **out, const void *bytes, size_t len)
{
	RETURN_IF(out == NULL || (bytes == NULL && len != 0), AIMARK_EINVAL, "public key: bad argument");
	*out = NULL;
	const unsigned char *b = bytes;
	/* A DER SEQUENCE first; a raw point may also start with 0x30, so fall through on EFORMAT. */
	if (len >= 2 && b[0] == 0x30) {
		int rc = aimark__key_from_spki_der(out, bytes, len);
		if (rc != AIMARK_EFORMAT)
			return rc;
	}
	if (len == 1 + 2 * COORD || len == 2 * COORD || len == 1 + COORD)
		return aimark__key_from_sm2_point(out, bytes, len);
	return aimark__error_set(AIMARK_EFORMAT,
		"public key: %zu bytes are neither a DER SubjectPublicKeyInfo nor an SM2 point "
		"(65 bytes 04||X||Y, 64 bytes X||Y, 33 bytes 00/02/03||X)", len);
}

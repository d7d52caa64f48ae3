/* Payload frame, authenticator, convolutional code and soft Viterbi decoder. */
#include <float.h>
#include <string.h>

#include "core/internal.h"
#include "crypto/crypto.h"
#include "wm/wm_key.h"
#include "wm/wm_payload.h"

#define STATES (1 << (AIMARK__WM_CONSTRAINT - 1))
#define STEPS (AIMARK__WM_INFO_BITS + AIMARK__WM_TAIL_BITS)

static const unsigned g_gen[3] = { 0557, 0663, 0711 };

static int parity(unsigned v)
{
	return __builtin_parity(v);
}

int aimark__wm_tag(const aimark_wm_key *key, const unsigned char payload[8], unsigned char tag[6])
{
	unsigned char mac[32];
	unsigned char msg[16] = "aimark-wm-v1 tag";
	unsigned char data[24];
	memcpy(data, msg, 16);
	memcpy(data + 16, payload, 8);
	RETURN_IF_ERR(aimark__hmac_sha256(key->auth_key, sizeof key->auth_key, data, sizeof data, mac));
	memcpy(tag, mac, 6);
	aimark__wipe(mac, sizeof mac);
	return 0;
}

static void frame_bits(const unsigned char payload[8], const unsigned char tag[6], unsigned char info[AIMARK__WM_INFO_BITS])
{
	for (int i = 0; i < 64; i++)
		info[i] = (payload[i >> 3] >> (7 - (i & 7))) & 1;
	for (int i = 0; i < AIMARK__WM_TAG_BITS; i++)
		info[64 + i] = (tag[i >> 3] >> (7 - (i & 7))) & 1;
}

void aimark__wm_conv_encode(const unsigned char info[AIMARK__WM_INFO_BITS], unsigned char coded[AIMARK__WM_CODED_BITS])
{
	unsigned state = 0;
	for (int t = 0; t < STEPS; t++) {
		unsigned b = t < AIMARK__WM_INFO_BITS ? info[t] & 1 : 0;
		unsigned reg = (b << (AIMARK__WM_CONSTRAINT - 1)) | state;
		for (int k = 0; k < 3; k++)
			coded[3 * t + k] = (unsigned char)parity(reg & g_gen[k]);
		state = reg >> 1;
	}
}

int aimark__wm_encode(const aimark_wm_key *key, const unsigned char payload[8], unsigned char coded[AIMARK__WM_CODED_BITS])
{
	unsigned char tag[6], info[AIMARK__WM_INFO_BITS];
	RETURN_IF_ERR(aimark__wm_tag(key, payload, tag));
	frame_bits(payload, tag, info);
	aimark__wm_conv_encode(info, coded);
	return 0;
}

void aimark__wm_viterbi(const float soft[AIMARK__WM_CODED_BITS], unsigned char info[AIMARK__WM_INFO_BITS])
{
	/* Output bits of each of the 512 register values (cheap; kept local so that threads share nothing). */
	unsigned char out_of[2 * STATES];
	for (unsigned r = 0; r < 2 * STATES; r++) {
		unsigned char o = 0;
		for (int k = 0; k < 3; k++)
			o |= (unsigned char)(parity(r & g_gen[k]) << k);
		out_of[r] = o;
	}
	float metric[STATES], next[STATES];
	unsigned char decision[STEPS][STATES / 8];
	for (int s = 0; s < STATES; s++)
		metric[s] = -1e30f;
	metric[0] = 0;
	for (int t = 0; t < STEPS; t++) {
		float bm[8];
		for (int o = 0; o < 8; o++) {
			float m = 0;
			for (int k = 0; k < 3; k++)
				m += (o >> k) & 1 ? soft[3 * t + k] : -soft[3 * t + k];
			bm[o] = m;
		}
		memset(decision[t], 0, sizeof decision[t]);
		int tail = t >= AIMARK__WM_INFO_BITS;
		for (int n = 0; n < STATES; n++) {
			unsigned b = (unsigned)n >> (AIMARK__WM_CONSTRAINT - 2);
			if (tail && b) {
				next[n] = -1e30f;
				continue;
			}
			unsigned s0 = ((unsigned)n << 1) & (STATES - 1), s1 = s0 | 1;
			unsigned r0 = (b << (AIMARK__WM_CONSTRAINT - 1)) | s0, r1 = (b << (AIMARK__WM_CONSTRAINT - 1)) | s1;
			float m0 = metric[s0] + bm[out_of[r0]], m1 = metric[s1] + bm[out_of[r1]];
			if (m1 > m0) {
				next[n] = m1;
				decision[t][n >> 3] |= (unsigned char)(1u << (n & 7));
			} else {
				next[n] = m0;
			}
		}
		memcpy(metric, next, sizeof metric);
	}
	unsigned n = 0;
	for (int t = STEPS - 1; t >= 0; t--) {
		unsigned b = n >> (AIMARK__WM_CONSTRAINT - 2);
		if (t < AIMARK__WM_INFO_BITS)
			info[t] = (unsigned char)b;
		unsigned x = (decision[t][n >> 3] >> (n & 7)) & 1;
		n = ((n << 1) & (STATES - 1)) | x;
	}
}

int aimark__wm_decode(const aimark_wm_key *key, const float soft[AIMARK__WM_CODED_BITS], unsigned char payload[8],
		      int *authenticated, int *bit_errors)
{
	unsigned char info[AIMARK__WM_INFO_BITS], coded[AIMARK__WM_CODED_BITS], tag[6], got[6];
	aimark__wm_viterbi(soft, info);
	memset(payload, 0, 8);
	memset(got, 0, sizeof got);
	for (int i = 0; i < 64; i++)
		payload[i >> 3] |= (unsigned char)(info[i] << (7 - (i & 7)));
	for (int i = 0; i < AIMARK__WM_TAG_BITS; i++)
		got[i >> 3] |= (unsigned char)(info[64 + i] << (7 - (i & 7)));
	RETURN_IF_ERR(aimark__wm_tag(key, payload, tag));
	*authenticated = aimark__ct_equal(tag, got, sizeof tag);
	aimark__wm_conv_encode(info, coded);
	int errors = 0;
	for (int i = 0; i < AIMARK__WM_CODED_BITS; i++)
		errors += (soft[i] > 0) != (coded[i] != 0);
	*bit_errors = errors;
	return 0;
}

int aimark__wm_tag_prefix_match(const aimark_wm_key *key, const unsigned char info[AIMARK__WM_INFO_BITS])
{
	unsigned char payload[8] = { 0 }, tag[6];
	for (int i = 0; i < 64; i++)
		payload[i >> 3] |= (unsigned char)(info[i] << (7 - (i & 7)));
	if (aimark__wm_tag(key, payload, tag) < 0)
		return 0;
	int n = 0;
	while (n < AIMARK__WM_TAG_BITS && ((tag[n >> 3] >> (7 - (n & 7))) & 1) == info[64 + n])
		n++;
	return n;
}

int aimark__wm_decode_chase(const aimark_wm_key *key, const float soft[AIMARK__WM_CODED_BITS], int flips, unsigned char payload[8],
			    int *authenticated, int *bit_errors, int *decodes)
{
	int n = 1;
	RETURN_IF_ERR(aimark__wm_decode(key, soft, payload, authenticated, bit_errors));
	if (flips > 8)
		flips = 8;
	if (*authenticated || flips <= 0) {
		if (decodes)
			*decodes = n;
		return 0;
	}
	/* the `flips` smallest |soft| positions */
	int pos[8];
	int np = 0;
	for (int i = 0; i < AIMARK__WM_CODED_BITS; i++) {
		float a = soft[i] < 0 ? -soft[i] : soft[i];
		int k = np < flips ? np : flips;
		if (k == flips && a >= (soft[pos[k - 1]] < 0 ? -soft[pos[k - 1]] : soft[pos[k - 1]]))
			continue;
		while (k > 0) {
			float b = soft[pos[k - 1]] < 0 ? -soft[pos[k - 1]] : soft[pos[k - 1]];
			if (b <= a)
				break;
			if (k < flips)
				pos[k] = pos[k - 1];
			k--;
		}
		pos[k] = i;
		if (np < flips)
			np++;
	}
	float trial[AIMARK__WM_CODED_BITS];
	unsigned char got[8];
	int auth = 0, errors = 0;
	for (unsigned mask = 1; mask < (1u << np); mask++) {
		memcpy(trial, soft, sizeof trial);
		for (int j = 0; j < np; j++)
			if (mask & (1u << j))
				trial[pos[j]] = -trial[pos[j]];
		RETURN_IF_ERR(aimark__wm_decode(key, trial, got, &auth, &errors));
		n++;
		if (auth) {
			memcpy(payload, got, 8);
			*authenticated = 1;
			/* errors against the received (unflipped) values */
			unsigned char info[AIMARK__WM_INFO_BITS], coded[AIMARK__WM_CODED_BITS];
			for (int i = 0; i < 64; i++)
				info[i] = (got[i >> 3] >> (7 - (i & 7))) & 1;
			unsigned char tag[6];
			RETURN_IF_ERR(aimark__wm_tag(key, got, tag));
			for (int i = 0; i < AIMARK__WM_TAG_BITS; i++)
				info[64 + i] = (tag[i >> 3] >> (7 - (i & 7))) & 1;
			aimark__wm_conv_encode(info, coded);
			int e = 0;
			for (int i = 0; i < AIMARK__WM_CODED_BITS; i++)
				e += (soft[i] > 0) != (coded[i] != 0);
			*bit_errors = e;
			break;
		}
	}
	if (decodes)
		*decodes = n;
	return 0;
}

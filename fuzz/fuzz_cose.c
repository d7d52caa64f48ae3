/* Fuzz target: a COSE_Sign1 signature box, its certificate chain and its timestamp. */
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "c2pa/c2pa_internal.h"
#include "core/internal.h"
#include "crypto/x509_c2pa.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > (1u << 20))
		return 0;
	aimark__cose c;
	if (aimark__cose_parse(&c, data, size) == 0) {
		static const unsigned char claim[] = { 0xa0 };
		aimark_buf tbs = AIMARK_BUF_INIT;
		if (c.n_certs > 0 && c.have_alg &&
		    aimark__cose_sig_structure(c.protected_bytes, c.protected_len, claim, sizeof claim, &tbs) == 0)
			(void)aimark__c2pa_verify_sig(c.certs[0], c.cert_lens[0], c.alg, tbs.ptr, tbs.size, c.sig, c.sig_len);
		if (c.n_certs > 0) {
			char why[128];
			aimark__x509_info info;
			(void)aimark__x509_profile_check(c.certs[0], c.cert_lens[0], why, sizeof why);
			(void)aimark__x509_info_get(c.certs[0], c.cert_lens[0], &info);
		}
		if (c.tst) {
			time_t t;
			char why[128], tsa[64];
			(void)aimark__x509_tst_check(c.tst, c.tst_len, c.tst_v2, claim, sizeof claim, &t, tsa, sizeof tsa, NULL, why, sizeof why);
		}
		aimark_buf_dispose(&tbs);
		aimark__cose_dispose(&c);
	}
	aimark_error_clear();
	return 0;
}

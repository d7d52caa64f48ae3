/* Fuzz target: a C2PA manifest store (JUMBF) parsed and validated as it comes out of a file. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "c2pa/c2pa_internal.h"
#include "core/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > (1u << 20))
		return 0;
	aimark_buf b = AIMARK_BUF_INIT;
	if (aimark__buf_append(&b, data, size) < 0)
		return 0;
	aimark__c2pa_store s;
	if (aimark__c2pa_store_parse(&s, &b) == 0) {
		json_t *r = NULL;
		if (aimark__c2pa_validate(&s, NULL, "jpeg", NULL, &r) == 0)
			json_decref(r);
		aimark__c2pa_store_dispose(&s);
	}
	aimark_buf_dispose(&b);
	aimark_error_clear();
	return 0;
}

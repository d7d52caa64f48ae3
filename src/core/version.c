/* Version API. */
#include "internal.h"

const char *aimark_version(void) { return AIMARK_VERSION_STRING; }

void aimark_version_numbers(int *major, int *minor, int *patch)
{
	if (major) *major = AIMARK_VERSION_MAJOR;
	if (minor) *minor = AIMARK_VERSION_MINOR;
	if (patch) *patch = AIMARK_VERSION_PATCH;
}

/* Helpers shared by the cmocka unit tests. */
#ifndef AIMARK_TESTUTIL_H
#define AIMARK_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "aimark/aimark.h"

/* Reads a whole file into a malloc'ed block (NUL-terminated); fails the test if unreadable. */
unsigned char *tu_read_file(const char *path, size_t *len);
/* Writes a file; fails the test on error. */
void tu_write_file(const char *path, const void *data, size_t len);
/* A fresh temporary directory (malloc'ed path); removed with tu_rmtree. */
char *tu_tempdir(void);
void tu_rmtree(const char *path);
/* snprintf into a static rotating buffer: tu_path("%s/x.jpg", dir). */
const char *tu_path(const char *fmt, ...);
/* Test data locations. */
#define TU_DATA(name) AIMARK_TEST_DATA "/" name
#define TU_SHARED(name) AIMARK_SHARED_DIR "/" name
#define TU_SAMPLE(name) AIMARK_SAMPLES_DIR "/" name

#endif

/*
 * aimark.h - umbrella header for libaimark.
 *
 * THREAD SAFETY: see each header; in short, handles are used by one thread at
 * a time, and keys and trust sets are shareable once built.
 */
#ifndef AIMARK_AIMARK_H
#define AIMARK_AIMARK_H

#include "common.h"
#include "errors.h"
#include "findings.h"
#include "io.h"
#include "keys.h"
#include "label.h"
#include "format.h"
#include "mark.h"
#include "verify.h"
#include "watermark.h"
#include "watermark_audio.h"
#include "c2pa.h"
#include "textwm.h"

#endif

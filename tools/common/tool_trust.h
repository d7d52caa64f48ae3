/*
 * tool_trust.h - what aimark-verify and aimark-scan trust, from their options:
 *   --trust PATH       GB 45438 signing keys (a key file, or every key in a
 *                      directory); a key directory's C2PA root
 *                      (c2pa-root.pem) is also taken as a C2PA trust anchor
 *   --c2pa-trust PEM   a C2PA trust-anchor bundle
 *   --layers LIST      which layers to check (metadata is always checked)
 *   --key DIR          a key directory whose secret watermark key detects marks
 *   --explicit-text T  a custom visible label text to look for in images
 *
 * THREAD SAFETY: built on one thread; the verify options it fills may then
 * be shared by worker threads.
 */
#ifndef AIMARK_TOOL_TRUST_H
#define AIMARK_TOOL_TRUST_H

#include "aimark/aimark.h"

typedef struct tool_trust {
	aimark_trust *keys;
	char **c2pa_roots;      /* anchor files, in the order given */
	size_t n_c2pa_roots;
	char *c2pa_bundle;      /* a temporary bundle when several roots were given */
	unsigned int layers;    /* AIMARK_LAYER_* bits, 0 for all */
	aimark_wm_key **wm_keys; /* watermark keys to try */
	size_t n_wm_keys;
	const char *explicit_text; /* borrowed from argv */
} tool_trust;

/* Returns 0, or -1 after printing why. */
int tool_trust_init(tool_trust *t);
int tool_trust_add(tool_trust *t, const char *path);        /* --trust */
int tool_trust_add_c2pa(tool_trust *t, const char *pem);    /* --c2pa-trust */
int tool_trust_set_layers(tool_trust *t, const char *list); /* --layers metadata,c2pa,watermark,explicit|all */
int tool_trust_add_watermark_key(tool_trust *t, const char *dir); /* --key DIR: DIR/watermark.key */
/* Fills the trust fields of `opts`; may write a temporary anchor bundle. Returns 0 or -1. */
int tool_trust_apply(tool_trust *t, aimark_verify_options *opts);
void tool_trust_free(tool_trust *t);

#endif

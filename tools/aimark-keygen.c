/* aimark-keygen: create a signing key directory (signing.key, signing.pub, optional producer file). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aimark/aimark.h"
#include "tool_common.h"
#include "tool_fs.h"

#define PRODUCER_FILE "producer"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: aimark-keygen [--alg sm2|ed25519|p256] [--producer CODE] [--c2pa [--c2pa-org ORG]] --out DIR\n"
		"\n"
		"Creates DIR (if needed) with a new signing key pair for aimark-mark:\n"
		"  DIR/signing.key  private key, PKCS#8 PEM, mode 0600: keep it secret\n"
		"  DIR/signing.pub  public key, PEM: give it to verifiers (aimark-verify --trust)\n"
		"  DIR/watermark.key  the secret 256-bit watermark key, mode 0600 (aimark-mark\n"
		"                   --watermark embeds with it; only its holders can detect the mark)\n"
		"With --c2pa also a test C2PA certificate chain (a private root CA and a leaf\n"
		"that passes the C2PA certificate profile, ECDSA P-256):\n"
		"  DIR/c2pa-chain.pem, DIR/c2pa.key (0600), DIR/c2pa-root.pem (the anchor\n"
		"  verifiers trust: aimark-verify --trust DIR or --c2pa-trust DIR/c2pa-root.pem).\n"
		"A real deployment uses its own certificate chain in those two files instead.\n"
		"Existing key files are never overwritten.\n"
		"\n"
		"Options:\n"
		"  -a, --alg ALG        signature algorithm: sm2 (default, SM2 with SM3),\n"
		"                       ed25519, or p256 (ECDSA P-256 with SHA-256)\n"
		"  -o, --out DIR        the key directory to create (required)\n"
		"  -p, --producer CODE  also write DIR/producer holding CODE, the default\n"
		"                       ContentProducer for aimark-mark --key DIR\n"
		"      --c2pa           also create the test C2PA certificate chain\n"
		"      --c2pa-org ORG   the organization (O=) of the C2PA certificates\n"
		"                       (default: the producer code, else \"aimark test signer\")\n"
		"  -h, --help           show this help and exit\n"
		"  -V, --version        show the version and exit\n"
		"\n"
		"Exit codes: 0 created, 1 failed (including: key files already exist),\n"
		"            64 usage error.\n"
		"\n"
		"Example:\n"
		"  aimark-keygen --alg sm2 --producer 001191110102MACQD9K64010000 --out keys/producer\n");
}

/* Writes DIR/producer with O_EXCL so an existing file is never replaced. */
static int write_producer(const char *dir, const char *code)
{
	char *path = tool_path_join(dir, PRODUCER_FILE);
	if (path == NULL) {
		tool_error(dir, "out of memory");
		return -1;
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (fd < 0) {
		tool_error(path, "%s", errno == EEXIST ? "already exists (refusing to overwrite)" : strerror(errno));
		free(path);
		return -1;
	}
	size_t len = strlen(code);
	int ok = write(fd, code, len) == (ssize_t)len && write(fd, "\n", 1) == 1;
	if (close(fd) != 0)
		ok = 0;
	if (!ok) {
		tool_error(path, "write failed: %s", strerror(errno));
		unlink(path);
		free(path);
		return -1;
	}
	free(path);
	return 0;
}

int main(int argc, char **argv)
{
	tool_init("aimark-keygen");
	static const struct option longopts[] = {
		{ "alg", required_argument, NULL, 'a' },
		{ "out", required_argument, NULL, 'o' },
		{ "producer", required_argument, NULL, 'p' },
		{ "c2pa", no_argument, NULL, 'C' },
		{ "c2pa-org", required_argument, NULL, 'O' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	aimark_key_alg alg = AIMARK_ALG_SM2;
	const char *dir = NULL, *producer = NULL, *c2pa_org = NULL;
	int c2pa = 0;
	int c;
	while ((c = getopt_long(argc, argv, "a:o:p:hVCO:", longopts, NULL)) != -1) {
		switch (c) {
		case 'a':
			if (aimark_key_alg_parse(optarg, &alg) != 0)
				return tool_usage_error("unknown algorithm '%s' (use sm2, ed25519 or p256)", optarg);
			break;
		case 'o': dir = optarg; break;
		case 'p': producer = optarg; break;
		case 'C': c2pa = 1; break;
		case 'O': c2pa_org = optarg; c2pa = 1; break;
		case 'h': usage(stdout); return TOOL_EXIT_OK;
		case 'V': tool_print_version(); return TOOL_EXIT_OK;
		default: usage(stderr); return TOOL_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return tool_usage_error("unexpected argument '%s' (the directory is given with --out)", argv[optind]);
	if (dir == NULL || *dir == '\0')
		return tool_usage_error("--out DIR is required");
	if (producer != NULL && (*producer == '\0' || !aimark_label_charset_ok(producer)))
		return tool_usage_error("--producer '%s' is empty or uses characters GB 45438 Annex E does not allow "
		                        "(no space, backslash, '\"' or non-ASCII)", producer);
	/* Refuse before writing anything: a half-made key directory helps nobody. */
	const char *targets[] = { AIMARK_KEYDIR_SIGNING_KEY, AIMARK_KEYDIR_SIGNING_PUB, "watermark.key",
				  producer ? PRODUCER_FILE : NULL, c2pa ? AIMARK_C2PA_KEYDIR_CHAIN : NULL,
				  c2pa ? AIMARK_C2PA_KEYDIR_KEY : NULL, c2pa ? AIMARK_C2PA_KEYDIR_ROOT : NULL };
	for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
		if (targets[i] == NULL)
			continue;
		char *tpath = tool_path_join(dir, targets[i]);
		int exists = tpath != NULL && tool_path_exists(tpath);
		if (exists)
			tool_error(tpath, "already exists (refusing to overwrite; nothing was written)");
		free(tpath);
		if (exists)
			return TOOL_EXIT_FAILURE;
	}

	if (aimark_keydir_create(dir, alg) != 0) {
		tool_error_lib(dir);
		if (aimark_error_last_code() == AIMARK_EEXISTS)
			fprintf(stderr, "%s: %s: choose another directory or remove the old key files first\n", tool_name(), dir);
		return TOOL_EXIT_FAILURE;
	}

	aimark_key *key = NULL;
	char id[65] = "";
	if (aimark_keydir_load_signing(&key, dir) != 0 || aimark_key_id(key, id) != 0) {
		tool_error_lib(dir);
		aimark_key_free(key);
		return TOOL_EXIT_FAILURE;
	}
	aimark_key_free(key);
	if (producer != NULL && write_producer(dir, producer) != 0)
		return TOOL_EXIT_FAILURE;
	if (aimark_keydir_create_watermark(dir) != 0) {
		tool_error_lib(dir);
		return TOOL_EXIT_FAILURE;
	}
	if (c2pa && aimark_c2pa_keydir_create_test(dir, c2pa_org ? c2pa_org : producer ? producer : "aimark test signer", NULL, 0) != 0) {
		tool_error_lib(dir);
		return TOOL_EXIT_FAILURE;
	}

	char *priv = tool_path_join(dir, AIMARK_KEYDIR_SIGNING_KEY);
	char *pub = tool_path_join(dir, AIMARK_KEYDIR_SIGNING_PUB);
	if (priv == NULL || pub == NULL) {
		free(priv);
		free(pub);
		tool_error(dir, "out of memory");
		return TOOL_EXIT_FAILURE;
	}
	printf("key id:      %s\n", id);
	printf("algorithm:   %s\n", aimark_key_alg_name(alg));
	printf("private key: %s (mode 0600, keep it secret)\n", priv);
	printf("public key:  %s (give it to verifiers: aimark-verify --trust %s)\n", pub, pub);
	if (producer != NULL) {
		char *ppath = tool_path_join(dir, PRODUCER_FILE);
		printf("producer:    %s (%s)\n", ppath ? ppath : PRODUCER_FILE, producer);
		free(ppath);
	}
	printf("watermark:   %s/watermark.key (mode 0600, secret: detecting the watermark needs it)\n", dir);
	if (c2pa) {
		printf("c2pa chain:  %s/%s (leaf certificate issued by a test root CA; key %s/%s)\n", dir, AIMARK_C2PA_KEYDIR_CHAIN, dir,
		       AIMARK_C2PA_KEYDIR_KEY);
		printf("c2pa root:   %s/%s (give it to verifiers as a C2PA trust anchor)\n", dir, AIMARK_C2PA_KEYDIR_ROOT);
	}
	free(priv);
	free(pub);
	return TOOL_EXIT_OK;
}

/* PDF backend: Info /AIGC through classic tables and xref streams, incremental updates, essence. */
#define _GNU_SOURCE /* memmem */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

#include "core/internal.h"
#include "format/format.h"

extern const aimark__format_ops aimark__format_pdf;
#define PDF (&aimark__format_pdf)

#define PRODUCER "001191310104MACE0YX63918020"
#define LABEL_BARE(id) \
	"{\"Label\":\"1\",\"ContentProducer\":\"" PRODUCER "\",\"ProduceID\":\"" id "\",\"ReservedCode1\":\"\"," \
	"\"ContentPropagator\":\"" PRODUCER "\",\"PropagateID\":\"" id "\",\"ReservedCode2\":\"\"}"
#define LW(id) { LABEL_BARE(id), sizeof LABEL_BARE(id) - 1, "{\"AIGC\":" LABEL_BARE(id) "}", sizeof LABEL_BARE(id) + 8 }

static const aimark__label_write LABEL_A = LW("pdf-0001");
static const aimark__label_write LABEL_B = LW("pdf-0002");
/* the label of tests/data/pdf/make_pdfs.py */
#define VENDOR_LABEL LABEL_BARE("142569260085903360")

typedef struct blob {
	unsigned char *p;
	size_t n;
} blob;

static blob load(const char *name)
{
	blob b;
	b.p = tu_read_file(tu_path("%s/pdf/%s", AIMARK_TEST_DATA, name), &b.n);
	return b;
}

static int prov_get(void *ctx, const aimark__label_write **out)
{
	*out = ctx;
	return 0;
}

static int do_read(const void *data, size_t len, aimark__meta *meta, aimark_findings *f)
{
	aimark_source *src = NULL;
	assert_int_equal(aimark_source_new_memory(&src, data, len), 0);
	aimark__meta_init(meta, f);
	int rc = PDF->read(src, meta);
	aimark_source_free(src);
	return rc;
}

static int do_write(const void *data, size_t len, const aimark__label_write *lw, aimark_buf *out)
{
	aimark_source *src = NULL;
	aimark_sink *sink = NULL;
	aimark__meta meta;
	aimark__label_provider prov = { NULL, prov_get, (void *)lw };
	assert_int_equal(aimark_source_new_memory(&src, data, len), 0);
	assert_int_equal(aimark_sink_new_buffer(&sink, out), 0);
	aimark__meta_init(&meta, NULL);
	int rc = PDF->read(src, &meta);
	if (rc == 0)
		rc = PDF->write(src, &meta, &prov, sink);
	aimark__meta_dispose(&meta);
	aimark_sink_free(sink);
	aimark_source_free(src);
	return rc;
}

/* The essence bytes, concatenated. */
static void essence(const void *data, size_t len, aimark_buf *out)
{
	aimark__meta meta;
	assert_int_equal(do_read(data, len, &meta, NULL), 0);
	for (size_t i = 0; i < meta.n_essence; i++) {
		assert_true(meta.essence[i].offset + meta.essence[i].length <= len);
		assert_int_equal(aimark__buf_append(out, (const unsigned char *)data + meta.essence[i].offset,
						    (size_t)meta.essence[i].length), 0);
	}
	aimark__meta_dispose(&meta);
}

static void assert_same_essence(const void *a, size_t an, const void *b, size_t bn)
{
	aimark_buf ea = AIMARK_BUF_INIT, eb = AIMARK_BUF_INIT;
	essence(a, an, &ea);
	essence(b, bn, &eb);
	assert_int_equal(ea.size, eb.size);
	assert_memory_equal(ea.ptr, eb.ptr, ea.size);
	aimark_buf_dispose(&ea);
	aimark_buf_dispose(&eb);
}

static void assert_label(const void *data, size_t len, const char *json)
{
	aimark__meta meta;
	assert_int_equal(do_read(data, len, &meta, NULL), 0);
	assert_int_equal(meta.n_carriers, 1);
	assert_string_equal(meta.carriers[0].kind, "pdf-info");
	assert_string_equal(meta.carriers[0].text, json);
	aimark__meta_dispose(&meta);
}

static int have(const char *tool)
{
	char cmd[256];
	snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", tool);
	return system(cmd) == 0;
}

/* qpdf --check exits 0 (clean) or 3 (warnings only); pdfinfo must parse it. */
static void assert_pdf_opens(const aimark_buf *pdf, const char *expect_info_line)
{
	char *dir = tu_tempdir();
	const char *path = tu_path("%s/out.pdf", dir);
	tu_write_file(path, pdf->ptr, pdf->size);
	if (have("qpdf")) {
		int st = system(tu_path("qpdf --check '%s' >'%s/qpdf.log' 2>&1", path, dir));
		if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0))
			system(tu_path("cat '%s/qpdf.log'", dir));
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	} else
		print_message("qpdf not installed: skipping qpdf --check\n");
	if (have("pdfinfo")) {
		int st = system(tu_path("pdfinfo -custom '%s' >'%s/info.txt' 2>&1", path, dir));
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		size_t n;
		unsigned char *txt = tu_read_file(tu_path("%s/info.txt", dir), &n);
		assert_non_null(strstr((char *)txt, "AIGC:"));
		if (expect_info_line && strstr((char *)txt, expect_info_line) == NULL)
			fail_msg("pdfinfo lacks \"%s\":\n%s", expect_info_line, txt);
		free(txt);
	} else
		print_message("pdfinfo not installed: skipping\n");
	tu_rmtree(dir);
	free(dir);
}

static void test_probe(void **state)
{
	assert_true(PDF->probe((const unsigned char *)"%PDF-1.7\n", 9));
	assert_true(PDF->probe((const unsigned char *)"\n\n%PDF-1.4", 10));
	assert_false(PDF->probe((const unsigned char *)"%!PS-Adobe", 10));
	assert_false(PDF->probe((const unsigned char *)"%PD", 3));
}

static void test_minimal_unlabelled(void **state)
{
	blob b = load("minimal.pdf");
	aimark__meta meta;
	assert_int_equal(do_read(b.p, b.n, &meta, NULL), 0);
	assert_int_equal(meta.n_carriers, 0);
	assert_int_equal(meta.n_essence, 1);
	assert_int_equal(meta.essence[0].offset, 0);
	assert_int_equal(meta.essence[0].length, b.n);
	aimark__meta_dispose(&meta);
	free(b.p);
}

static void test_classic_round_trip(void **state)
{
	blob b = load("minimal.pdf");
	aimark_buf out = AIMARK_BUF_INIT, out2 = AIMARK_BUF_INIT;
	assert_int_equal(do_write(b.p, b.n, &LABEL_A, &out), 0);
	/* incremental: the original bytes come first, untouched */
	assert_true(out.size > b.n);
	assert_memory_equal(out.ptr, b.p, b.n);
	assert_label(out.ptr, out.size, LABEL_A.bare_json);
	/* the Info entries were copied */
	assert_non_null(memmem(out.ptr + b.n, out.size - b.n, "/Title (Test \\(document\\))", 26));
	assert_non_null(memmem(out.ptr + b.n, out.size - b.n, "/Prev ", 6));
	assert_non_null(memmem(out.ptr + b.n, out.size - b.n, "/ID [<00112233", 14));
	assert_same_essence(b.p, b.n, out.ptr, out.size);
	assert_pdf_opens(&out, "Test (document)");

	/* relabel: a second update, same essence, one label */
	assert_int_equal(do_write(out.ptr, out.size, &LABEL_B, &out2), 0);
	assert_label(out2.ptr, out2.size, LABEL_B.bare_json);
	assert_same_essence(b.p, b.n, out2.ptr, out2.size);
	assert_non_null(memmem(out2.ptr + out.size, out2.size - out.size, "/Title (Test \\(document\\))", 26));
	assert_pdf_opens(&out2, "Producer:        aimark tests");
	aimark_buf_dispose(&out);
	aimark_buf_dispose(&out2);
	free(b.p);
}

static void test_no_info_no_newline(void **state)
{
	blob b = load("noinfo.pdf");
	assert_int_equal(b.p[b.n - 1], 'F'); /* ends with %%EOF, no EOL */
	aimark_buf out = AIMARK_BUF_INIT, out2 = AIMARK_BUF_INIT;
	assert_int_equal(do_write(b.p, b.n, &LABEL_A, &out), 0);
	assert_label(out.ptr, out.size, LABEL_A.bare_json);
	assert_same_essence(b.p, b.n, out.ptr, out.size);
	assert_pdf_opens(&out, NULL);
	assert_int_equal(do_write(out.ptr, out.size, &LABEL_B, &out2), 0);
	assert_same_essence(b.p, b.n, out2.ptr, out2.size);
	aimark_buf_dispose(&out);
	aimark_buf_dispose(&out2);
	free(b.p);
}

static void test_xref_stream(void **state)
{
	blob b = load("xrefstream.pdf");
	aimark__meta meta;
	assert_int_equal(do_read(b.p, b.n, &meta, NULL), 0);
	assert_int_equal(meta.n_carriers, 0);
	aimark__meta_dispose(&meta);
	aimark_buf out = AIMARK_BUF_INIT, out2 = AIMARK_BUF_INIT;
	assert_int_equal(do_write(b.p, b.n, &LABEL_A, &out), 0);
	assert_memory_equal(out.ptr, b.p, b.n);
	/* the update is an xref stream too, and the Info entries came from an object stream */
	assert_non_null(memmem(out.ptr + b.n, out.size - b.n, "/Type/XRef", 10));
	assert_non_null(memmem(out.ptr + b.n, out.size - b.n, "/Title (Test \\(document\\))", 26));
	assert_label(out.ptr, out.size, LABEL_A.bare_json);
	assert_same_essence(b.p, b.n, out.ptr, out.size);
	assert_pdf_opens(&out, "Test (document)");
	assert_int_equal(do_write(out.ptr, out.size, &LABEL_B, &out2), 0);
	assert_label(out2.ptr, out2.size, LABEL_B.bare_json);
	assert_same_essence(b.p, b.n, out2.ptr, out2.size);
	assert_pdf_opens(&out2, NULL);
	aimark_buf_dispose(&out);
	aimark_buf_dispose(&out2);
	free(b.p);
}

static void test_vendor_hex_utf16(void **state)
{
	blob b = load("vendor-hex.pdf");
	assert_label(b.p, b.n, VENDOR_LABEL);
	aimark_buf out = AIMARK_BUF_INIT;
	assert_int_equal(do_write(b.p, b.n, &LABEL_A, &out), 0);
	assert_label(out.ptr, out.size, LABEL_A.bare_json);
	/* the old /AIGC is not copied into the new Info, /Producer is */
	const unsigned char *upd = out.ptr + b.n;
	size_t un = out.size - b.n;
	assert_non_null(memmem(upd, un, "/Producer (vendor)", 18));
	assert_null(memmem(upd, un, "<FEFF", 5));
	/* the vendor file had its label in the original body: all of it is essence */
	assert_same_essence(b.p, b.n, out.ptr, out.size);
	aimark_buf_dispose(&out);
	free(b.p);
}

static void test_label_in_earlier_revision(void **state)
{
	blob b = load("vendor-old.pdf");
	aimark__meta meta;
	aimark_findings *f = NULL;
	assert_int_equal(aimark_findings_new(&f), 0);
	assert_int_equal(do_read(b.p, b.n, &meta, f), 0);
	assert_int_equal(meta.n_carriers, 1);
	assert_string_equal(meta.carriers[0].text, VENDOR_LABEL);
	assert_true(aimark_findings_has(f, "pdf-label-earlier-revision"));
	aimark__meta_dispose(&meta);
	aimark_findings_free(f);
	free(b.p);
}

static void test_literal_escapes(void **state)
{
	static const char *const objs[] = {
		"1 0 obj\n<</Type/Catalog/Pages 2 0 R>>\nendobj\n",
		"2 0 obj\n<</Type/Pages/Kids[]/Count 0>>\nendobj\n",
		/* escaped braces and parentheses, a backslash, a line continuation, octal */
		"3 0 obj\n<</AIGC (\\{\"a\":\"\\(x\\)\\\\\",\\\n\"b\":\"\\101\\102\"\\})>>\nendobj\n",
	};
	aimark_buf pdf = AIMARK_BUF_INIT;
	size_t off[3];
	assert_int_equal(aimark__buf_append_str(&pdf, "%PDF-1.4\n"), 0);
	for (int i = 0; i < 3; i++) {
		off[i] = pdf.size;
		assert_int_equal(aimark__buf_append_str(&pdf, objs[i]), 0);
	}
	size_t x = pdf.size;
	assert_int_equal(aimark__buf_printf(&pdf, "xref\n0 4\n0000000000 65535 f \n%010zu 00000 n \n%010zu 00000 n \n"
					    "%010zu 00000 n \ntrailer\n<</Size 4/Root 1 0 R/Info 3 0 R>>\nstartxref\n%zu\n%%%%EOF\n",
					    off[0], off[1], off[2], x), 0);
	assert_label(pdf.ptr, pdf.size, "{\"a\":\"(x)\\\",\"b\":\"AB\"}");
	aimark_buf_dispose(&pdf);
}

static void test_page_edit_changes_essence(void **state)
{
	blob b = load("minimal.pdf");
	aimark_buf out = AIMARK_BUF_INIT, ea = AIMARK_BUF_INIT, eb = AIMARK_BUF_INIT;
	assert_int_equal(do_write(b.p, b.n, &LABEL_A, &out), 0);
	/* an editor appends an update replacing the page content stream (object 4) */
	size_t prev = 0;
	const unsigned char *sx = out.ptr;
	for (const unsigned char *q; (q = memmem(sx, out.size - (size_t)(sx - out.ptr), "startxref", 9)) != NULL; sx = q + 1)
		prev = (size_t)strtoul((const char *)q + 10, NULL, 10);
	size_t obj = out.size;
	assert_int_equal(aimark__buf_printf(&out, "4 0 obj\n<</Length 10>>\nstream\nBT (X) Tj ET\nendstream\nendobj\n"), 0);
	size_t xref = out.size;
	assert_int_equal(aimark__buf_printf(&out, "xref\n4 1\n%010zu 00000 n \ntrailer\n<</Size 8/Root 1 0 R/Info 7 0 R/Prev %zu>>\n"
					    "startxref\n%zu\n%%%%EOF\n", obj, prev, xref), 0);
	assert_label(out.ptr, out.size, LABEL_A.bare_json);
	essence(b.p, b.n, &ea);
	essence(out.ptr, out.size, &eb);
	assert_true(ea.size != eb.size || memcmp(ea.ptr, eb.ptr, ea.size) != 0);
	/* and relabelling after the edit keeps the edited essence */
	aimark_buf out2 = AIMARK_BUF_INIT;
	assert_int_equal(do_write(out.ptr, out.size, &LABEL_B, &out2), 0);
	assert_same_essence(out.ptr, out.size, out2.ptr, out2.size);
	aimark_buf_dispose(&out);
	aimark_buf_dispose(&out2);
	aimark_buf_dispose(&ea);
	aimark_buf_dispose(&eb);
	free(b.p);
}

static void test_bad_inputs(void **state)
{
	aimark__meta meta;
	aimark_buf out = AIMARK_BUF_INIT;
	/* wrong magic */
	static const char notpdf[] = "Hello, this is not a PDF file at all.\n";
	assert_int_equal(do_read(notpdf, sizeof notpdf - 1, &meta, NULL), AIMARK_EFORMAT);
	assert_non_null(strstr(aimark_error_last(), "PDF"));
	aimark__meta_dispose(&meta);

	blob b = load("minimal.pdf");
	/* truncated: the xref is gone; reading scans leniently, writing refuses */
	aimark_findings *f = NULL;
	assert_int_equal(aimark_findings_new(&f), 0);
	assert_int_equal(do_read(b.p, b.n / 2, &meta, f), 0);
	assert_true(aimark_findings_has(f, "pdf-xref-damaged"));
	assert_int_equal(meta.n_essence, 1);
	aimark__meta_dispose(&meta);
	aimark_findings_free(f);
	assert_int_equal(do_write(b.p, b.n / 2, &LABEL_A, &out), AIMARK_EFORMAT);
	assert_non_null(strstr(aimark_error_last(), "PDF"));

	/* startxref lies (points into the middle of an object) */
	unsigned char *lie = malloc(b.n + 1);
	memcpy(lie, b.p, b.n);
	unsigned char *sx = memmem(lie, b.n, "startxref\n", 10);
	assert_non_null(sx);
	memcpy(sx + 10, "00000", 5);
	aimark__buf_clear(&out);
	assert_int_equal(do_write(lie, b.n, &LABEL_A, &out), AIMARK_EFORMAT);
	free(lie);

	/* a /Prev loop: the trailer names its own table as the previous one */
	aimark_buf loop = AIMARK_BUF_INIT;
	unsigned char *root = memmem(b.p, b.n, "/Root 1 0 R", 11);
	unsigned char *last = memmem(b.p, b.n, "startxref\n", 10);
	assert_non_null(root);
	assert_non_null(last);
	assert_int_equal(aimark__buf_append(&loop, b.p, (size_t)(root - b.p)), 0);
	assert_int_equal(aimark__buf_printf(&loop, "/Prev %lu ", strtoul((const char *)last + 10, NULL, 10)), 0);
	assert_int_equal(aimark__buf_append(&loop, root, b.n - (size_t)(root - b.p)), 0);
	aimark__buf_clear(&out);
	assert_int_equal(do_write(loop.ptr, loop.size, &LABEL_B, &out), AIMARK_EFORMAT);
	assert_non_null(strstr(aimark_error_last(), "loops"));
	aimark_buf_dispose(&loop);
	aimark_buf_dispose(&out);
	free(b.p);
}

static void test_trailing_bytes(void **state)
{
	blob b = load("minimal.pdf");
	aimark_buf pdf = AIMARK_BUF_INIT, out = AIMARK_BUF_INIT;
	/* white space after %%EOF is repeated after ours, and the essence holds */
	assert_int_equal(aimark__buf_append(&pdf, b.p, b.n), 0);
	assert_int_equal(aimark__buf_append_str(&pdf, "\r\n  \n"), 0);
	assert_int_equal(do_write(pdf.ptr, pdf.size, &LABEL_A, &out), 0);
	assert_memory_equal(out.ptr + out.size - 11, "%%EOF\n\r\n  \n", 11);
	assert_same_essence(pdf.ptr, pdf.size, out.ptr, out.size);
	/* data after %%EOF (here a stale startxref) could hide the update from readers: refused */
	aimark__buf_clear(&pdf);
	aimark__buf_clear(&out);
	assert_int_equal(aimark__buf_append(&pdf, b.p, b.n), 0);
	assert_int_equal(aimark__buf_append_str(&pdf, "startxref\n509\n"), 0);
	assert_int_equal(do_write(pdf.ptr, pdf.size, &LABEL_A, &out), AIMARK_EUNSUPPORTED);
	assert_non_null(strstr(aimark_error_last(), "follow the last %%EOF"));
	aimark_buf_dispose(&pdf);
	aimark_buf_dispose(&out);
	free(b.p);
}

static void test_nesting_bomb(void **state)
{
	/* an Info dictionary nested 100000 deep must not recurse without bound */
	aimark_buf pdf = AIMARK_BUF_INIT;
	assert_int_equal(aimark__buf_append_str(&pdf, "%PDF-1.4\n1 0 obj\n<</Type/Catalog>>\nendobj\n"), 0);
	size_t o2 = pdf.size;
	assert_int_equal(aimark__buf_append_str(&pdf, "2 0 obj\n<</X "), 0);
	for (int i = 0; i < 100000; i++)
		assert_int_equal(aimark__buf_append(&pdf, "[", 1), 0);
	assert_int_equal(aimark__buf_append_str(&pdf, ">>\nendobj\n"), 0);
	size_t x = pdf.size;
	assert_int_equal(aimark__buf_printf(&pdf, "xref\n0 3\n0000000000 65535 f \n%010d 00000 n \n%010zu 00000 n \n"
					    "trailer\n<</Size 3/Root 1 0 R/Info 2 0 R>>\nstartxref\n%zu\n%%%%EOF\n", 9, o2, x), 0);
	aimark__meta meta;
	aimark_findings *f = NULL;
	assert_int_equal(aimark_findings_new(&f), 0);
	assert_int_equal(do_read(pdf.ptr, pdf.size, &meta, f), 0);
	assert_int_equal(meta.n_carriers, 0);
	assert_true(aimark_findings_has(f, "pdf-info-unreadable"));
	aimark__meta_dispose(&meta);
	aimark_findings_free(f);
	aimark_buf out = AIMARK_BUF_INIT;
	assert_int_equal(do_write(pdf.ptr, pdf.size, &LABEL_A, &out), AIMARK_EFORMAT);
	aimark_buf_dispose(&out);
	aimark_buf_dispose(&pdf);
}

static void test_encrypted_refused(void **state)
{
	blob b = load("minimal.pdf");
	aimark_buf pdf = AIMARK_BUF_INIT, out = AIMARK_BUF_INIT;
	/* same file with /Encrypt in the trailer (the dictionary itself is never read) */
	unsigned char *t = memmem(b.p, b.n, "/Root 1 0 R", 11);
	assert_non_null(t);
	assert_int_equal(aimark__buf_append(&pdf, b.p, (size_t)(t - b.p)), 0);
	assert_int_equal(aimark__buf_append_str(&pdf, "/Encrypt 6 0 R "), 0);
	assert_int_equal(aimark__buf_append(&pdf, t, b.n - (size_t)(t - b.p)), 0);
	aimark__meta meta;
	aimark_findings *f = NULL;
	assert_int_equal(aimark_findings_new(&f), 0);
	assert_int_equal(do_read(pdf.ptr, pdf.size, &meta, f), 0);
	assert_true(aimark_findings_has(f, "pdf-encrypted"));
	aimark__meta_dispose(&meta);
	aimark_findings_free(f);
	assert_int_equal(do_write(pdf.ptr, pdf.size, &LABEL_A, &out), AIMARK_EUNSUPPORTED);
	aimark_buf_dispose(&pdf);
	aimark_buf_dispose(&out);
	free(b.p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe),
		cmocka_unit_test(test_minimal_unlabelled),
		cmocka_unit_test(test_classic_round_trip),
		cmocka_unit_test(test_no_info_no_newline),
		cmocka_unit_test(test_xref_stream),
		cmocka_unit_test(test_vendor_hex_utf16),
		cmocka_unit_test(test_label_in_earlier_revision),
		cmocka_unit_test(test_literal_escapes),
		cmocka_unit_test(test_page_edit_changes_essence),
		cmocka_unit_test(test_bad_inputs),
		cmocka_unit_test(test_trailing_bytes),
		cmocka_unit_test(test_nesting_bomb),
		cmocka_unit_test(test_encrypted_refused),
	};
	return cmocka_run_group_tests_name("pdf_meta", tests, NULL, NULL);
}

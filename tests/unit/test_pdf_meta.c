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
#define LABEL_BARE(id) TU_LABEL_BARE_BY(PRODUCER, id)

static const aimark__label_write LABEL_A = TU_LABEL_OF(LABEL_BARE("pdf-0001"));
static const aimark__label_write LABEL_B = TU_LABEL_OF(LABEL_BARE("pdf-0002"));
/* the label of tests/data/pdf/make_pdfs.py */
#define VENDOR_LABEL LABEL_BARE("142569260085903360")

/* qpdf --check exits 0 (clean) or 3 (warnings only); pdfinfo must parse it. */
static void assert_pdf_opens(const aimark_buf *pdf, const char *expect_info_line)
{
	char *dir = tu_tempdir();
	const char *path = tu_path("%s/out.pdf", dir);
	tu_write_file(path, pdf->ptr, pdf->size);
	if (tu_have_tool("qpdf")) {
		int st = system(tu_path("qpdf --check '%s' >'%s/qpdf.log' 2>&1", path, dir));
		if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0))
			system(tu_path("cat '%s/qpdf.log'", dir));
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	} else
		print_message("qpdf not installed: skipping qpdf --check\n");
	if (tu_have_tool("pdfinfo")) {
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
	tu_blob b = tu_data_file("pdf", "minimal.pdf");
	aimark__meta meta;
	assert_int_equal(tu_read_mem(PDF, b.p, b.n, &meta, NULL), 0);
	assert_int_equal(meta.n_carriers, 0);
	assert_int_equal(meta.n_essence, 1);
	assert_int_equal(meta.essence[0].offset, 0);
	assert_int_equal(meta.essence[0].length, b.n);
	aimark__meta_dispose(&meta);
	free(b.p);
}

static void test_classic_round_trip(void **state)
{
	tu_blob b = tu_data_file("pdf", "minimal.pdf");
	aimark_buf out = AIMARK_BUF_INIT, out2 = AIMARK_BUF_INIT;
	assert_int_equal(tu_write_mem(PDF, b.p, b.n, &LABEL_A, &out), 0);
	/* incremental: the original bytes come first, untouched */
	assert_true(out.size > b.n);
	assert_memory_equal(out.ptr, b.p, b.n);
	tu_assert_label(PDF, out.ptr, out.size, "pdf-info", LABEL_A.bare_json);
	/* the Info entries were copied */
	assert_non_null(memmem(out.ptr + b.n, out.size - b.n, "/Title (Test \\(document\\))", 26));
	assert_non_null(memmem(out.ptr + b.n, out.size - b.n, "/Prev ", 6));
	assert_non_null(memmem(out.ptr + b.n, out.size - b.n, "/ID [<00112233", 14));
	tu_assert_same_essence(PDF, b.p, b.n, out.ptr, out.size, 0);
	assert_pdf_opens(&out, "Test (document)");

	/* relabel: a second update, same essence, one label */
	assert_int_equal(tu_write_mem(PDF, out.ptr, out.size, &LABEL_B, &out2), 0);
	tu_assert_label(PDF, out2.ptr, out2.size, "pdf-info", LABEL_B.bare_json);
	tu_assert_same_essence(PDF, b.p, b.n, out2.ptr, out2.size, 0);
	assert_non_null(memmem(out2.ptr + out.size, out2.size - out.size, "/Title (Test \\(document\\))", 26));
	assert_pdf_opens(&out2, "Producer:        aimark tests");
	aimark_buf_dispose(&out);
	aimark_buf_dispose(&out2);
	free(b.p);
}

static void test_no_info_no_newline(void **state)
{
	tu_blob b = tu_data_file("pdf", "noinfo.pdf");
	assert_int_equal(b.p[b.n - 1], 'F'); /* ends with %%EOF, no EOL */
	aimark_buf out = AIMARK_BUF_INIT, out2 = AIMARK_BUF_INIT;
	assert_int_equal(tu_write_mem(PDF, b.p, b.n, &LABEL_A, &out), 0);
	tu_assert_label(PDF, out.ptr, out.size, "pdf-info", LABEL_A.bare_json);
	tu_assert_same_essence(PDF, b.p, b.n, out.ptr, out.size, 0);
	assert_pdf_opens(&out, NULL);
	assert_int_equal(tu_write_mem(PDF, out.ptr, out.size, &LABEL_B, &out2), 0);
	tu_assert_same_essence(PDF, b.p, b.n, out2.ptr, out2.size, 0);
	aimark_buf_dispose(&out);
	aimark_buf_dispose(&out2);
	free(b.p);
}

static void test_xref_stream(void **state)
{
	tu_blob b = tu_data_file("pdf", "xrefstream.pdf");
	aimark__meta meta;
	assert_int_equal(tu_read_mem(PDF, b.p, b.n, &meta, NULL), 0);
	assert_int_equal(meta.n_carriers, 0);
	aimark__meta_dispose(&meta);
	aimark_buf out = AIMARK_BUF_INIT, out2 = AIMARK_BUF_INIT;
	assert_int_equal(tu_write_mem(PDF, b.p, b.n, &LABEL_A, &out), 0);
	assert_memory_equal(out.ptr, b.p, b.n);
	/* the update is an xref stream too, and the Info entries came from an object stream */
	assert_non_null(memmem(out.ptr + b.n, out.size - b.n, "/Type/XRef", 10));
	assert_non_null(memmem(out.ptr + b.n, out.size - b.n, "/Title (Test \\(document\\))", 26));
	tu_assert_label(PDF, out.ptr, out.size, "pdf-info", LABEL_A.bare_json);
	tu_assert_same_essence(PDF, b.p, b.n, out.ptr, out.size, 0);
	assert_pdf_opens(&out, "Test (document)");
	assert_int_equal(tu_write_mem(PDF, out.ptr, out.size, &LABEL_B, &out2), 0);
	tu_assert_label(PDF, out2.ptr, out2.size, "pdf-info", LABEL_B.bare_json);
	tu_assert_same_essence(PDF, b.p, b.n, out2.ptr, out2.size, 0);
	assert_pdf_opens(&out2, NULL);
	aimark_buf_dispose(&out);
	aimark_buf_dispose(&out2);
	free(b.p);
}

static void test_vendor_hex_utf16(void **state)
{
	tu_blob b = tu_data_file("pdf", "vendor-hex.pdf");
	tu_assert_label(PDF, b.p, b.n, "pdf-info", VENDOR_LABEL);
	aimark_buf out = AIMARK_BUF_INIT;
	assert_int_equal(tu_write_mem(PDF, b.p, b.n, &LABEL_A, &out), 0);
	tu_assert_label(PDF, out.ptr, out.size, "pdf-info", LABEL_A.bare_json);
	/* the old /AIGC is not copied into the new Info, /Producer is */
	const unsigned char *upd = out.ptr + b.n;
	size_t un = out.size - b.n;
	assert_non_null(memmem(upd, un, "/Producer (vendor)", 18));
	assert_null(memmem(upd, un, "<FEFF", 5));
	/* the vendor file had its label in the original body: all of it is essence */
	tu_assert_same_essence(PDF, b.p, b.n, out.ptr, out.size, 0);
	aimark_buf_dispose(&out);
	free(b.p);
}

static void test_label_in_earlier_revision(void **state)
{
	tu_blob b = tu_data_file("pdf", "vendor-old.pdf");
	aimark__meta meta;
	aimark_findings *f = NULL;
	assert_int_equal(aimark_findings_new(&f), 0);
	assert_int_equal(tu_read_mem(PDF, b.p, b.n, &meta, f), 0);
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
	tu_assert_label(PDF, pdf.ptr, pdf.size, "pdf-info", "{\"a\":\"(x)\\\",\"b\":\"AB\"}");
	aimark_buf_dispose(&pdf);
}

static void test_page_edit_changes_essence(void **state)
{
	tu_blob b = tu_data_file("pdf", "minimal.pdf");
	aimark_buf out = AIMARK_BUF_INIT, ea = AIMARK_BUF_INIT, eb = AIMARK_BUF_INIT;
	assert_int_equal(tu_write_mem(PDF, b.p, b.n, &LABEL_A, &out), 0);
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
	tu_assert_label(PDF, out.ptr, out.size, "pdf-info", LABEL_A.bare_json);
	tu_essence(PDF, b.p, b.n, &ea);
	tu_essence(PDF, out.ptr, out.size, &eb);
	assert_true(ea.size != eb.size || memcmp(ea.ptr, eb.ptr, ea.size) != 0);
	/* and relabelling after the edit keeps the edited essence */
	aimark_buf out2 = AIMARK_BUF_INIT;
	assert_int_equal(tu_write_mem(PDF, out.ptr, out.size, &LABEL_B, &out2), 0);
	tu_assert_same_essence(PDF, out.ptr, out.size, out2.ptr, out2.size, 0);
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
	assert_int_equal(tu_read_mem(PDF, notpdf, sizeof notpdf - 1, &meta, NULL), AIMARK_EFORMAT);
	assert_non_null(strstr(aimark_error_last(), "PDF"));
	aimark__meta_dispose(&meta);

	tu_blob b = tu_data_file("pdf", "minimal.pdf");
	/* truncated: the xref is gone; reading scans leniently, writing refuses */
	aimark_findings *f = NULL;
	assert_int_equal(aimark_findings_new(&f), 0);
	assert_int_equal(tu_read_mem(PDF, b.p, b.n / 2, &meta, f), 0);
	assert_true(aimark_findings_has(f, "pdf-xref-damaged"));
	assert_int_equal(meta.n_essence, 1);
	aimark__meta_dispose(&meta);
	aimark_findings_free(f);
	assert_int_equal(tu_write_mem(PDF, b.p, b.n / 2, &LABEL_A, &out), AIMARK_EFORMAT);
	assert_non_null(strstr(aimark_error_last(), "PDF"));

	/* startxref lies (points into the middle of an object) */
	unsigned char *lie = malloc(b.n + 1);
	memcpy(lie, b.p, b.n);
	unsigned char *sx = memmem(lie, b.n, "startxref\n", 10);
	assert_non_null(sx);
	memcpy(sx + 10, "00000", 5);
	aimark__buf_clear(&out);
	assert_int_equal(tu_write_mem(PDF, lie, b.n, &LABEL_A, &out), AIMARK_EFORMAT);
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
	assert_int_equal(tu_write_mem(PDF, loop.ptr, loop.size, &LABEL_B, &out), AIMARK_EFORMAT);
	assert_non_null(strstr(aimark_error_last(), "loops"));
	aimark_buf_dispose(&loop);
	aimark_buf_dispose(&out);
	free(b.p);
}

static void test_trailing_bytes(void **state)
{
	tu_blob b = tu_data_file("pdf", "minimal.pdf");
	aimark_buf pdf = AIMARK_BUF_INIT, out = AIMARK_BUF_INIT;
	/* white space after %%EOF is repeated after ours, and the essence holds */
	assert_int_equal(aimark__buf_append(&pdf, b.p, b.n), 0);
	assert_int_equal(aimark__buf_append_str(&pdf, "\r\n  \n"), 0);
	assert_int_equal(tu_write_mem(PDF, pdf.ptr, pdf.size, &LABEL_A, &out), 0);
	assert_memory_equal(out.ptr + out.size - 11, "%%EOF\n\r\n  \n", 11);
	tu_assert_same_essence(PDF, pdf.ptr, pdf.size, out.ptr, out.size, 0);
	/* data after %%EOF (here a stale startxref) could hide the update from readers: refused */
	aimark__buf_clear(&pdf);
	aimark__buf_clear(&out);
	assert_int_equal(aimark__buf_append(&pdf, b.p, b.n), 0);
	assert_int_equal(aimark__buf_append_str(&pdf, "startxref\n509\n"), 0);
	assert_int_equal(tu_write_mem(PDF, pdf.ptr, pdf.size, &LABEL_A, &out), AIMARK_EUNSUPPORTED);
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
	assert_int_equal(tu_read_mem(PDF, pdf.ptr, pdf.size, &meta, f), 0);
	assert_int_equal(meta.n_carriers, 0);
	assert_true(aimark_findings_has(f, "pdf-info-unreadable"));
	aimark__meta_dispose(&meta);
	aimark_findings_free(f);
	aimark_buf out = AIMARK_BUF_INIT;
	assert_int_equal(tu_write_mem(PDF, pdf.ptr, pdf.size, &LABEL_A, &out), AIMARK_EFORMAT);
	aimark_buf_dispose(&out);
	aimark_buf_dispose(&pdf);
}

static void test_encrypted_refused(void **state)
{
	tu_blob b = tu_data_file("pdf", "minimal.pdf");
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
	assert_int_equal(tu_read_mem(PDF, pdf.ptr, pdf.size, &meta, f), 0);
	assert_true(aimark_findings_has(f, "pdf-encrypted"));
	aimark__meta_dispose(&meta);
	aimark_findings_free(f);
	assert_int_equal(tu_write_mem(PDF, pdf.ptr, pdf.size, &LABEL_A, &out), AIMARK_EUNSUPPORTED);
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

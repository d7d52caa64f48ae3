/* OOXML backend: docProps/custom.xml AIGC property, raw-copied entries, essence, bad packages. */
#define _GNU_SOURCE /* memmem */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "testutil.h"

#include "core/internal.h"
#include "format/format.h"
#include "format/zip_edit.h"

extern const aimark__format_ops aimark__format_ooxml;
#define OOXML (&aimark__format_ooxml)

#define PRODUCER "001191440300708461136T1XGW3"
#define LABEL_BARE(id) TU_LABEL_BARE_BY(PRODUCER, id)

static const aimark__label_write LABEL_A = TU_LABEL_OF(LABEL_BARE("docx-<0001>&"));
static const aimark__label_write LABEL_B = TU_LABEL_OF(LABEL_BARE("docx-0002"));

/* The uncompressed text of one entry (malloc'ed). */
static char *entry_text(const aimark_buf *zipdata, const char *name)
{
	aimark__zip zip;
	aimark_buf text = AIMARK_BUF_INIT;
	assert_int_equal(aimark__zip_open(&zip, zipdata->ptr, zipdata->size, "test"), 0);
	const aimark__zip_entry *e = aimark__zip_find(&zip, name, 0);
	assert_non_null(e);
	assert_int_equal(aimark__zip_extract(&zip, e, 1u << 20, &text), 0);
	char *s = strdup(text.ptr ? (char *)text.ptr : "");
	aimark_buf_dispose(&text);
	aimark__zip_close(&zip);
	return s;
}

/* Every entry except the edited ones has identical CRC, sizes and compressed bytes. */
static void assert_raw_entries_kept(const void *a, size_t an, const aimark_buf *b)
{
	aimark__zip za, zb;
	assert_int_equal(aimark__zip_open(&za, a, an, "in"), 0);
	assert_int_equal(aimark__zip_open(&zb, b->ptr, b->size, "out"), 0);
	size_t kept = 0;
	for (size_t i = 0; i < za.n_entries; i++) {
		const aimark__zip_entry *x = &za.entries[i];
		char name[256];
		snprintf(name, sizeof name, "%.*s", (int)x->name_len, (const char *)x->name);
		const aimark__zip_entry *y = aimark__zip_find(&zb, name, 0);
		assert_non_null(y);
		if (strcmp(name, "docProps/custom.xml") == 0 || strcmp(name, "[Content_Types].xml") == 0 ||
		    strcmp(name, "_rels/.rels") == 0)
			continue;
		assert_int_equal(x->crc, y->crc);
		assert_int_equal(x->comp_size, y->comp_size);
		assert_int_equal(x->method, y->method);
		assert_memory_equal((const unsigned char *)a + x->data_offset, b->ptr + y->data_offset, (size_t)x->comp_size);
		kept++;
	}
	assert_true(kept >= 1);
	aimark__zip_close(&za);
	aimark__zip_close(&zb);
}

static void assert_zip_tools_accept(const aimark_buf *z)
{
	char *dir = tu_tempdir();
	const char *path = tu_path("%s/out.docx", dir);
	tu_write_file(path, z->ptr, z->size);
	int st = system(tu_path("python3 -m zipfile -t '%s' >/dev/null 2>&1", path));
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	if (tu_have_tool("unzip")) {
		st = system(tu_path("unzip -tqq '%s' >/dev/null 2>&1", path));
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	tu_rmtree(dir);
	free(dir);
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

static void test_probe(void **state)
{
	tu_blob b = tu_data_file("ooxml", "minimal.docx");
	assert_true(OOXML->probe(b.p, b.n < 64 ? b.n : 64));
	assert_false(OOXML->probe((const unsigned char *)"PK\3\4 not an office package at all, really not", 48));
	assert_false(OOXML->probe((const unsigned char *)"%PDF-1.4", 8));
	free(b.p);
}

static void test_create_custom_part(void **state)
{
	tu_blob b = tu_data_file("ooxml", "minimal.docx");
	aimark__meta meta;
	assert_int_equal(tu_read_mem(OOXML, b.p, b.n, &meta, NULL), 0);
	assert_int_equal(meta.n_carriers, 0);
	assert_true(meta.n_essence >= 1); /* word/document.xml: local header and data, contiguous */
	aimark__meta_dispose(&meta);

	aimark_buf out = AIMARK_BUF_INIT;
	assert_int_equal(tu_write_mem(OOXML, b.p, b.n, &LABEL_A, &out), 0);
	tu_assert_label(OOXML, out.ptr, out.size, "ooxml-custom-property", LABEL_A.bare_json);
	char *custom = entry_text(&out, "docProps/custom.xml");
	assert_non_null(strstr(custom, "name=\"AIGC\"><vt:lpwstr>{&quot;Label&quot;:&quot;1&quot;"));
	assert_non_null(strstr(custom, "docx-&lt;0001&gt;&amp;"));
	assert_non_null(strstr(custom, "fmtid=\"{D5CDD505-2E9C-101B-9397-08002B2CF9AE}\" pid=\"2\""));
	char *types = entry_text(&out, "[Content_Types].xml");
	assert_non_null(strstr(types, "<Override PartName=\"/docProps/custom.xml\" ContentType=\"application/vnd."
				      "openxmlformats-officedocument.custom-properties+xml\"/></Types>"));
	char *rels = entry_text(&out, "_rels/.rels");
	assert_non_null(strstr(rels, "Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
				     "custom-properties\" Target=\"docProps/custom.xml\"/></Relationships>"));
	assert_raw_entries_kept(b.p, b.n, &out);
	tu_assert_same_essence(OOXML, b.p, b.n, out.ptr, out.size, 1);
	assert_zip_tools_accept(&out);

	/* relabel: custom.xml now exists; nothing is added twice */
	aimark_buf out2 = AIMARK_BUF_INIT;
	assert_int_equal(tu_write_mem(OOXML, out.ptr, out.size, &LABEL_B, &out2), 0);
	tu_assert_label(OOXML, out2.ptr, out2.size, "ooxml-custom-property", LABEL_B.bare_json);
	char *custom2 = entry_text(&out2, "docProps/custom.xml");
	char *types2 = entry_text(&out2, "[Content_Types].xml");
	char *rels2 = entry_text(&out2, "_rels/.rels");
	assert_int_equal(count(custom2, "name=\"AIGC\""), 1);
	assert_int_equal(count(types2, "custom.xml"), 1);
	assert_int_equal(count(rels2, "custom-properties"), 1);
	tu_assert_same_essence(OOXML, b.p, b.n, out2.ptr, out2.size, 1);
	assert_zip_tools_accept(&out2);
	free(custom);
	free(types);
	free(rels);
	free(custom2);
	free(types2);
	free(rels2);
	aimark_buf_dispose(&out);
	aimark_buf_dispose(&out2);
	free(b.p);
}

static void test_existing_custom_part(void **state)
{
	tu_blob b = tu_data_file("ooxml", "custom.docx");
	aimark_buf out = AIMARK_BUF_INIT, out2 = AIMARK_BUF_INIT;
	assert_int_equal(tu_write_mem(OOXML, b.p, b.n, &LABEL_A, &out), 0);
	char *custom = entry_text(&out, "docProps/custom.xml");
	/* other properties kept; the document's own prefixes used; next pid */
	assert_non_null(strstr(custom, "name=\"Company\"><t:lpwstr>ACME &amp; Co</t:lpwstr>"));
	assert_non_null(strstr(custom, "name=\"Reviewed\"><t:bool>true</t:bool>"));
	assert_non_null(strstr(custom, "<op:property fmtid=\"{D5CDD505-2E9C-101B-9397-08002B2CF9AE}\" pid=\"6\" name=\"AIGC\"><t:lpwstr>"));
	tu_assert_label(OOXML, out.ptr, out.size, "ooxml-custom-property", LABEL_A.bare_json);
	/* relationship and content type already existed: those entries are copied raw too */
	aimark__zip za, zb;
	assert_int_equal(aimark__zip_open(&za, b.p, b.n, "in"), 0);
	assert_int_equal(aimark__zip_open(&zb, out.ptr, out.size, "out"), 0);
	assert_int_equal(aimark__zip_find(&za, "_rels/.rels", 0)->crc, aimark__zip_find(&zb, "_rels/.rels", 0)->crc);
	assert_int_equal(aimark__zip_find(&za, "[Content_Types].xml", 0)->crc,
			 aimark__zip_find(&zb, "[Content_Types].xml", 0)->crc);
	aimark__zip_close(&za);
	aimark__zip_close(&zb);
	assert_raw_entries_kept(b.p, b.n, &out);
	tu_assert_same_essence(OOXML, b.p, b.n, out.ptr, out.size, 1);

	assert_int_equal(tu_write_mem(OOXML, out.ptr, out.size, &LABEL_B, &out2), 0);
	char *custom2 = entry_text(&out2, "docProps/custom.xml");
	assert_int_equal(count(custom2, "name=\"AIGC\""), 1);
	assert_non_null(strstr(custom2, "ACME &amp; Co"));
	tu_assert_label(OOXML, out2.ptr, out2.size, "ooxml-custom-property", LABEL_B.bare_json);
	tu_assert_same_essence(OOXML, b.p, b.n, out2.ptr, out2.size, 1);
	assert_zip_tools_accept(&out2);
	free(custom);
	free(custom2);
	aimark_buf_dispose(&out);
	aimark_buf_dispose(&out2);
	free(b.p);
}

static void test_stored_entries_and_comment(void **state)
{
	tu_blob b = tu_data_file("ooxml", "stored.xlsx");
	aimark_buf out = AIMARK_BUF_INIT;
	assert_int_equal(tu_write_mem(OOXML, b.p, b.n, &LABEL_A, &out), 0);
	tu_assert_label(OOXML, out.ptr, out.size, "ooxml-custom-property", LABEL_A.bare_json);
	assert_raw_entries_kept(b.p, b.n, &out);
	assert_true(out.size > 15 && memcmp(out.ptr + out.size - 15, "archive comment", 15) == 0);
	assert_zip_tools_accept(&out);
	aimark_buf_dispose(&out);
	free(b.p);
}

static void test_zip64(void **state)
{
	tu_blob b = tu_data_file("ooxml", "zip64.docx");
	aimark__zip z;
	assert_int_equal(aimark__zip_open(&z, b.p, b.n, "t"), 0);
	assert_true(z.zip64);
	assert_int_equal(z.n_entries, 4);
	aimark__zip_close(&z);
	aimark_buf out = AIMARK_BUF_INIT, out2 = AIMARK_BUF_INIT;
	assert_int_equal(tu_write_mem(OOXML, b.p, b.n, &LABEL_A, &out), 0);
	tu_assert_label(OOXML, out.ptr, out.size, "ooxml-custom-property", LABEL_A.bare_json);
	assert_raw_entries_kept(b.p, b.n, &out);
	tu_assert_same_essence(OOXML, b.p, b.n, out.ptr, out.size, 1);
	assert_zip_tools_accept(&out);
	assert_int_equal(tu_write_mem(OOXML, out.ptr, out.size, &LABEL_B, &out2), 0);
	tu_assert_label(OOXML, out2.ptr, out2.size, "ooxml-custom-property", LABEL_B.bare_json);
	assert_zip_tools_accept(&out2);
	aimark_buf_dispose(&out);
	aimark_buf_dispose(&out2);
	free(b.p);
}

static void test_content_edit_changes_essence(void **state)
{
	tu_blob b = tu_data_file("ooxml", "minimal.docx");
	aimark__zip z;
	assert_int_equal(aimark__zip_open(&z, b.p, b.n, "t"), 0);
	const aimark__zip_entry *doc = aimark__zip_find(&z, "word/document.xml", 0);
	assert_non_null(doc);
	aimark_buf ea = AIMARK_BUF_INIT, eb = AIMARK_BUF_INIT;
	tu_essence(OOXML, b.p, b.n, &ea);
	unsigned char *edited = malloc(b.n);
	memcpy(edited, b.p, b.n);
	edited[doc->data_offset + 3] ^= 0x40; /* a changed byte of compressed content */
	tu_essence(OOXML, edited, b.n, &eb);
	assert_int_equal(ea.size, eb.size);
	assert_memory_not_equal(ea.ptr, eb.ptr, ea.size);
	/* while an edit of docProps/core.xml does not count */
	memcpy(edited, b.p, b.n);
	const aimark__zip_entry *core = aimark__zip_find(&z, "docProps/core.xml", 0);
	edited[core->data_offset + 2] ^= 0x40;
	aimark_buf_dispose(&eb);
	tu_essence(OOXML, edited, b.n, &eb);
	assert_memory_equal(ea.ptr, eb.ptr, ea.size);
	aimark__zip_close(&z);
	aimark_buf_dispose(&ea);
	aimark_buf_dispose(&eb);
	free(edited);
	free(b.p);
}

static void expect_bad(const void *data, size_t len, int code, const char *msg_part)
{
	tu_expect_read_error(OOXML, data, len, code, NULL, msg_part);
}

static void test_bad_packages(void **state)
{
	tu_blob b = tu_data_file("ooxml", "minimal.docx");
	expect_bad("hello world, not a zip", 22, AIMARK_EFORMAT, "OOXML");
	/* truncated: the end record is gone */
	expect_bad(b.p, b.n - 30, AIMARK_EFORMAT, "end of central directory");
	expect_bad(b.p, 10, AIMARK_EFORMAT, "OOXML");

	/* a central directory size that lies */
	unsigned char *x = malloc(b.n);
	memcpy(x, b.p, b.n);
	unsigned char *eocd = memmem(x, b.n, "PK\5\6", 4);
	assert_non_null(eocd);
	aimark__put_le32(eocd + 12, 0x7FFFFFF0u);
	expect_bad(x, b.n, AIMARK_EFORMAT, "central directory");

	/* a compressed size that passes the end */
	memcpy(x, b.p, b.n);
	unsigned char *cd = memmem(x, b.n, "PK\1\2", 4);
	assert_non_null(cd);
	aimark__put_le32(cd + 20, 0x00FFFFFFu);
	expect_bad(x, b.n, AIMARK_EFORMAT, "compressed size");

	/* a local header offset pointing elsewhere */
	memcpy(x, b.p, b.n);
	aimark__put_le32(cd + 42, 5);
	expect_bad(x, b.n, AIMARK_EFORMAT, "local header");

	/* 64-bit markers without ZIP64 records */
	memcpy(x, b.p, b.n);
	aimark__put_le32(cd + 20, 0xFFFFFFFFu);
	expect_bad(x, b.n, AIMARK_EFORMAT, "ZIP64");

	/* a damaged _rels/.rels (CRC mismatch) */
	memcpy(x, b.p, b.n);
	aimark__zip z;
	assert_int_equal(aimark__zip_open(&z, b.p, b.n, "t"), 0);
	const aimark__zip_entry *rels = aimark__zip_find(&z, "_rels/.rels", 0);
	size_t cd_rel = (size_t)(rels->name - b.p) - 46;
	aimark__put_le32(x + cd_rel + 16, rels->crc ^ 1);
	expect_bad(x, b.n, AIMARK_EFORMAT, "CRC-32");
	aimark__zip_close(&z);
	free(x);
	free(b.p);
}

/* A package built here: a plain zip without [Content_Types].xml, and one with a DOCTYPE in custom.xml. */
static void put_put(aimark_buf *out, const char *const *names, const char *const *texts, size_t n)
{
	/* an empty archive edited with puts gives a fresh archive with exactly these entries */
	static const unsigned char empty[22] = { 'P', 'K', 5, 6 };
	aimark__zip z;
	aimark__zip_put puts[8];
	aimark_sink *sink = NULL;
	assert_int_equal(aimark__zip_open(&z, empty, sizeof empty, "t"), 0);
	for (size_t i = 0; i < n; i++)
		puts[i] = (aimark__zip_put){ names[i], (const unsigned char *)texts[i], strlen(texts[i]) };
	assert_int_equal(aimark_sink_new_buffer(&sink, out), 0);
	assert_int_equal(aimark__zip_write(&z, puts, n, sink), 0);
	aimark_sink_free(sink);
	aimark__zip_close(&z);
}

static void test_bad_parts(void **state)
{
	aimark_buf z = AIMARK_BUF_INIT;
	const char *n1[] = { "a.txt" }, *t1[] = { "hello" };
	put_put(&z, n1, t1, 1);
	expect_bad(z.ptr, z.size, AIMARK_EFORMAT, "[Content_Types].xml");
	aimark_buf_dispose(&z);

	const char *n2[] = { "[Content_Types].xml", "_rels/.rels", "docProps/custom.xml" };
	const char *t2[] = { "<Types/>", "<Relationships></Relationships>",
			     "<!DOCTYPE x [<!ENTITY a \"aaaa\">]><Properties>&a;</Properties>" };
	put_put(&z, n2, t2, 3);
	expect_bad(z.ptr, z.size, AIMARK_EFORMAT, "DOCTYPE");
	aimark_buf_dispose(&z);

	const char *t3[] = { "<Types/>", "<Relationships></Relationships>", "<Properties><property name=\"AIGC\">" };
	put_put(&z, n2, t3, 3);
	expect_bad(z.ptr, z.size, AIMARK_EFORMAT, "not well-formed");
	aimark_buf_dispose(&z);

	/* a lenient read: lower-case name and an lpstr value; duplicates reported */
	const char *t4[] = { "<Types/>", "<Relationships></Relationships>",
			     "<Properties xmlns:vt=\"" "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes" "\">"
			     "<property name=\"aigc\" pid=\"2\"><vt:lpstr>{&quot;Label&quot;:&quot;1&quot;}</vt:lpstr></property>"
			     "<property name=\"AIGC\" pid=\"3\"><vt:lpwstr>{}</vt:lpwstr></property></Properties>" };
	put_put(&z, n2, t4, 3);
	aimark__meta meta;
	aimark_findings *f = NULL;
	assert_int_equal(aimark_findings_new(&f), 0);
	assert_int_equal(tu_read_mem(OOXML, z.ptr, z.size, &meta, f), 0);
	assert_int_equal(meta.n_carriers, 1);
	assert_string_equal(meta.carriers[0].text, "{\"Label\":\"1\"}");
	assert_true(aimark_findings_has(f, "ooxml-property-name"));
	assert_true(aimark_findings_has(f, "ooxml-value-type"));
	assert_true(aimark_findings_has(f, "duplicate-label"));
	assert_true(aimark_findings_has(f, "ooxml-custom-unreferenced"));
	aimark__meta_dispose(&meta);
	aimark_findings_free(f);
	/* writing keeps one property only */
	aimark_buf out = AIMARK_BUF_INIT;
	assert_int_equal(tu_write_mem(OOXML, z.ptr, z.size, &LABEL_A, &out), 0);
	char *custom = entry_text(&out, "docProps/custom.xml");
	assert_int_equal(count(custom, "<property"), 1);
	assert_non_null(strstr(custom, "<vt:lpstr>{&quot;Label&quot;:&quot;1&quot;,"));
	free(custom);
	tu_assert_label(OOXML, out.ptr, out.size, "ooxml-custom-property", LABEL_A.bare_json);
	aimark_buf_dispose(&out);
	aimark_buf_dispose(&z);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe),
		cmocka_unit_test(test_create_custom_part),
		cmocka_unit_test(test_existing_custom_part),
		cmocka_unit_test(test_stored_entries_and_comment),
		cmocka_unit_test(test_zip64),
		cmocka_unit_test(test_content_edit_changes_essence),
		cmocka_unit_test(test_bad_packages),
		cmocka_unit_test(test_bad_parts),
	};
	return cmocka_run_group_tests_name("ooxml_meta", tests, NULL, NULL);
}

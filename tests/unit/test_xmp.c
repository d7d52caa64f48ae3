/* XMP: finding and setting the TC260:AIGC property. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "testutil.h"

#include "core/internal.h"
#include "format/format.h"
#include "format/xmp.h"

#define NS AIMARK__TC260_NS
#define RDFNS "http://www.w3.org/1999/02/22-rdf-syntax-ns#"

/* §1 of gb45438-examples.md: Doubao web download, byte for byte. */
static const char DOUBAO[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?><?xpacket begin=\"\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?\?><x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"><rdf:Description rdf:about=\"\" xmlns:TC260=\"http://www.tc260.org.cn/ns/AIGC/1.0/\"><TC260:AIGC>{&quot;Label&quot;:&quot;1&quot;,&quot;ContentProducer&quot;:&quot;001191110102MACQD9K64010000&quot;,&quot;ProduceID&quot;:&quot;e3578014edd949debed102781a8c26f7&quot;,&quot;ReservedCode1&quot;:&quot;&quot;,&quot;ContentPropagator&quot;:&quot;&quot;,&quot;PropagateID&quot;:&quot;&quot;,&quot;ReservedCode2&quot;:&quot;&quot;}</TC260:AIGC></rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end=\"w\"?>";
static const char DOUBAO_JSON[] =
	"{\"Label\":\"1\",\"ContentProducer\":\"001191110102MACQD9K64010000\",\"ProduceID\":\"e3578014edd949debed102781a8c26f7\",\"ReservedCode1\":\"\",\"ContentPropagator\":\"\",\"PropagateID\":\"\",\"ReservedCode2\":\"\"}";

/* §1 source B: same template, bare producer "doubao". */
static const char DOUBAO_B[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?><?xpacket begin=\"\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?\?><x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"><rdf:Description rdf:about=\"\" xmlns:TC260=\"http://www.tc260.org.cn/ns/AIGC/1.0/\"><TC260:AIGC>{&quot;Label&quot;:&quot;1&quot;,&quot;ContentProducer&quot;:&quot;doubao&quot;,&quot;ProduceID&quot;:&quot;b4f55116708349f485f2f23b79373eff&quot;,&quot;ReservedCode1&quot;:&quot;&quot;,&quot;ContentPropagator&quot;:&quot;&quot;,&quot;PropagateID&quot;:&quot;&quot;,&quot;ReservedCode2&quot;:&quot;&quot;}</TC260:AIGC></rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end=\"w\"?>";

/* §2: Jimeng / Dreamina web download. */
static const char JIMENG[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?><?xpacket begin=\"\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?\?><x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"><rdf:Description rdf:about=\"\" xmlns:TC260=\"http://www.tc260.org.cn/ns/AIGC/1.0/\"><TC260:AIGC>{&quot;Label&quot;:&quot;1&quot;,&quot;ContentProducer&quot;:&quot;00119144030008867405X210001&quot;,&quot;ProduceID&quot;:&quot;tos-cn-i-tb4s082cfz/71c91abae7bf486ba7b82020b0df8d2e&quot;,&quot;ReservedCode1&quot;:&quot;&quot;,&quot;ContentPropagator&quot;:&quot;00119144030008867405X220001&quot;,&quot;PropagateID&quot;:&quot;tos-cn-i-tb4s082cfz/71c91abae7bf486ba7b82020b0df8d2e&quot;,&quot;ReservedCode2&quot;:&quot;&quot;}</TC260:AIGC></rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end=\"w\"?>";
static const char JIMENG_JSON[] =
	"{\"Label\":\"1\",\"ContentProducer\":\"00119144030008867405X210001\",\"ProduceID\":\"tos-cn-i-tb4s082cfz/71c91abae7bf486ba7b82020b0df8d2e\",\"ReservedCode1\":\"\",\"ContentPropagator\":\"00119144030008867405X220001\",\"PropagateID\":\"tos-cn-i-tb4s082cfz/71c91abae7bf486ba7b82020b0df8d2e\",\"ReservedCode2\":\"\"}";

/* A packet with other properties and no label, laid out the way Adobe tools write it. */
static const char OTHER_PROPS[] =
	"<?xpacket begin=\"\xEF\xBB\xBF\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n"
	"<x:xmpmeta xmlns:x=\"adobe:ns:meta/\" x:xmptk=\"Adobe XMP Core 5.6-c140\">\n"
	" <rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n"
	"  <rdf:Description rdf:about=\"\"\n"
	"    xmlns:dc=\"http://purl.org/dc/elements/1.1/\"\n"
	"    xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\"\n"
	"   xmp:CreatorTool=\"Adobe Photoshop 2024 (Windows)\">\n"
	"   <dc:creator>\n"
	"    <rdf:Seq>\n"
	"     <rdf:li>Zhang San &amp; Li Si</rdf:li>\n"
	"    </rdf:Seq>\n"
	"   </dc:creator>\n"
	"  </rdf:Description>\n"
	" </rdf:RDF>\n"
	"</x:xmpmeta>\n"
	"                                                                                                    \n"
	"                                                                                                    \n"
	"<?xpacket end=\"w\"?>";

typedef struct found {
	int rc;
	aimark_buf json;
	aimark_findings *findings;
} found;

static found find_n(const char *xmp, size_t len)
{
	found f = { 0, AIMARK_BUF_INIT, NULL };
	assert_int_equal(aimark_findings_new(&f.findings), 0);
	f.rc = aimark__xmp_find_aigc(xmp, len, &f.json, f.findings);
	return f;
}

static found find_s(const char *xmp) { return find_n(xmp, strlen(xmp)); }

static void found_dispose(found *f)
{
	aimark_buf_dispose(&f->json);
	aimark_findings_free(f->findings);
}

static void assert_found(const char *xmp, const char *json)
{
	found f = find_s(xmp);
	assert_int_equal(f.rc, 0);
	assert_string_equal((const char *)f.json.ptr, json);
	found_dispose(&f);
}

static void test_doubao(void **state)
{
	(void)state;
	found f = find_s(DOUBAO);
	assert_int_equal(f.rc, 0);
	assert_string_equal((const char *)f.json.ptr, DOUBAO_JSON);
	assert_int_equal(aimark_findings_count(f.findings), 0);
	found_dispose(&f);
	assert_found(DOUBAO_B, "{\"Label\":\"1\",\"ContentProducer\":\"doubao\",\"ProduceID\":"
			       "\"b4f55116708349f485f2f23b79373eff\",\"ReservedCode1\":\"\",\"ContentPropagator\":\"\","
			       "\"PropagateID\":\"\",\"ReservedCode2\":\"\"}");
}

static void test_jimeng(void **state)
{
	(void)state;
	found f = find_s(JIMENG);
	assert_int_equal(f.rc, 0);
	assert_string_equal((const char *)f.json.ptr, JIMENG_JSON);
	assert_int_equal(aimark_findings_count(f.findings), 0);
	found_dispose(&f);
}

static void test_find_appends(void **state)
{
	(void)state;
	aimark_buf b = AIMARK_BUF_INIT;
	assert_int_equal(aimark__buf_append_str(&b, "X"), 0);
	assert_int_equal(aimark__xmp_find_aigc(JIMENG, strlen(JIMENG), &b, NULL), 0);
	assert_int_equal(b.size, 1 + strlen(JIMENG_JSON));
	assert_memory_equal(b.ptr + 1, JIMENG_JSON, b.size - 1);
	aimark_buf_dispose(&b);
}

static void test_attribute_form(void **state)
{
	(void)state;
	const char *x = "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"" RDFNS "\">"
			"<rdf:Description rdf:about=\"\" xmlns:TC260=\"" NS "\" "
			"TC260:AIGC=\"{&quot;Label&quot;:&quot;1&quot;,&quot;ContentProducer&quot;:&quot;picwish&quot;}\"/>"
			"</rdf:RDF></x:xmpmeta>";
	found f = find_s(x);
	assert_int_equal(f.rc, 0);
	assert_string_equal((const char *)f.json.ptr, "{\"Label\":\"1\",\"ContentProducer\":\"picwish\"}");
	assert_true(aimark_findings_has(f.findings, "xmp-attribute-form"));
	assert_false(aimark_findings_has(f.findings, "xmp-prefix"));
	assert_int_equal(aimark_findings_count_at_least(f.findings, AIMARK_SEVERITY_WARNING), 0);
	found_dispose(&f);
}

static void test_lowercase_prefix(void **state)
{
	(void)state;
	const char *x = "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"" RDFNS "\">"
			"<rdf:Description rdf:about=\"\" xmlns:tc260=\"" NS "\"><tc260:AIGC>{}</tc260:AIGC>"
			"</rdf:Description></rdf:RDF></x:xmpmeta>";
	found f = find_s(x);
	assert_int_equal(f.rc, 0);
	assert_string_equal((const char *)f.json.ptr, "{}");
	assert_true(aimark_findings_has(f.findings, "xmp-prefix"));
	assert_int_equal(aimark_findings_get(f.findings, 0)->severity, AIMARK_SEVERITY_WARNING);
	found_dispose(&f);

	/* default namespace: no prefix at all */
	const char *y = "<rdf:RDF xmlns:rdf=\"" RDFNS "\"><rdf:Description rdf:about=\"\">"
			"<AIGC xmlns=\"" NS "\">{\"a\"}</AIGC></rdf:Description></rdf:RDF>";
	f = find_s(y);
	assert_int_equal(f.rc, 0);
	assert_string_equal((const char *)f.json.ptr, "{\"a\"}");
	assert_true(aimark_findings_has(f.findings, "xmp-prefix"));
	found_dispose(&f);
}

static void test_wrong_namespace(void **state)
{
	(void)state;
	/* a tool binds TC260 to Adobe's tc namespace (attribute form) */
	const char *x = "<rdf:RDF xmlns:rdf=\"" RDFNS "\"><rdf:Description rdf:about=\"\" "
			"xmlns:TC260=\"http://ns.adobe.com/xap/1.0/tc/\" TC260:AIGC=\"{&quot;Label&quot;:&quot;1&quot;}\"/>"
			"</rdf:RDF>";
	found f = find_s(x);
	assert_int_equal(f.rc, AIMARK_ENOTFOUND);
	assert_int_equal(f.json.size, 0);
	assert_true(aimark_findings_has(f.findings, "xmp-namespace"));
	found_dispose(&f);

	/* element form under a wrong URI, next to the real one: the real one wins, no duplicate */
	const char *y = "<rdf:RDF xmlns:rdf=\"" RDFNS "\"><rdf:Description rdf:about=\"\">"
			"<TC260:AIGC xmlns:TC260=\"http://example.com/tc260\">wrong</TC260:AIGC>"
			"<TC260:AIGC xmlns:TC260=\"" NS "\">right</TC260:AIGC></rdf:Description></rdf:RDF>";
	f = find_s(y);
	assert_int_equal(f.rc, 0);
	assert_string_equal((const char *)f.json.ptr, "right");
	assert_true(aimark_findings_has(f.findings, "xmp-namespace"));
	assert_false(aimark_findings_has(f.findings, "duplicate-label"));
	found_dispose(&f);

	/* another namespace's AIGC with another prefix is silently not the label */
	const char *z = "<rdf:RDF xmlns:rdf=\"" RDFNS "\"><rdf:Description rdf:about=\"\" "
			"xmlns:AIGC=\"http://www.aigc.gov.cn/ns/1.0/\"><AIGC:AIGC>x</AIGC:AIGC></rdf:Description></rdf:RDF>";
	f = find_s(z);
	assert_int_equal(f.rc, AIMARK_ENOTFOUND);
	assert_int_equal(aimark_findings_count(f.findings), 0);
	found_dispose(&f);
}

static void test_entities_and_split_text(void **state)
{
	(void)state;
	/* entities, a character reference, a CDATA section and a line break all split the character data */
	const char *x = "<rdf:RDF xmlns:rdf=\"" RDFNS "\"><rdf:Description rdf:about=\"\" xmlns:TC260=\"" NS "\">"
			"<TC260:AIGC>{&quot;P&quot;:&quot;a&amp;b&lt;c&gt;d&apos;&#x4E2D;&#25991;\n<![CDATA[<x>&]]>&quot;}"
			"</TC260:AIGC></rdf:Description></rdf:RDF>";
	assert_found(x, "{\"P\":\"a&b<c>d'\xE4\xB8\xAD\xE6\x96\x87\n<x>&\"}");
}

static void test_alt_wrapper(void **state)
{
	(void)state;
	const char *x = "<rdf:RDF xmlns:rdf=\"" RDFNS "\"><rdf:Description rdf:about=\"\" xmlns:TC260=\"" NS "\">\n"
			" <TC260:AIGC>\n  <rdf:Alt>\n   <rdf:li xml:lang=\"x-default\">{&quot;Label&quot;:&quot;1&quot;}</rdf:li>\n"
			"   <rdf:li xml:lang=\"zh-CN\">other</rdf:li>\n  </rdf:Alt>\n </TC260:AIGC>\n"
			"</rdf:Description></rdf:RDF>";
	found f = find_s(x);
	assert_int_equal(f.rc, 0);
	assert_string_equal((const char *)f.json.ptr, "{\"Label\":\"1\"}");
	assert_false(aimark_findings_has(f.findings, "duplicate-label"));
	found_dispose(&f);
}

static void test_duplicates(void **state)
{
	(void)state;
	const char *x = "<rdf:RDF xmlns:rdf=\"" RDFNS "\"><rdf:Description rdf:about=\"\" xmlns:TC260=\"" NS "\" "
			"TC260:AIGC=\"first\"/><rdf:Description rdf:about=\"\" xmlns:T=\"" NS "\"><T:AIGC>second</T:AIGC>"
			"</rdf:Description></rdf:RDF>";
	found f = find_s(x);
	assert_int_equal(f.rc, 0);
	assert_string_equal((const char *)f.json.ptr, "first");
	assert_true(aimark_findings_has(f.findings, "duplicate-label"));
	assert_int_equal(aimark_findings_count_at_least(f.findings, AIMARK_SEVERITY_ERROR), 1);
	found_dispose(&f);
}

static void test_bom_padding_nuls(void **state)
{
	(void)state;
	/* UTF-8 BOM, then an xpacket wrapper with trailing padding and NUL fill */
	aimark_buf b = AIMARK_BUF_INIT;
	assert_int_equal(aimark__buf_append_str(&b, "\xEF\xBB\xBF"), 0);
	assert_int_equal(aimark__buf_append_str(&b, JIMENG + strlen("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")), 0);
	for (int i = 0; i < 40; i++)
		assert_int_equal(aimark__buf_append_str(&b, "                                                  \n"), 0);
	assert_int_equal(aimark__buf_append(&b, "\0\0\0\0", 4), 0);
	found f = find_n((const char *)b.ptr, b.size);
	assert_int_equal(f.rc, 0);
	assert_string_equal((const char *)f.json.ptr, JIMENG_JSON);
	found_dispose(&f);

	/* whitespace before the XML declaration is tolerated */
	aimark__buf_clear(&b);
	assert_int_equal(aimark__buf_append_str(&b, "\n  "), 0);
	assert_int_equal(aimark__buf_append_str(&b, DOUBAO), 0);
	f = find_n((const char *)b.ptr, b.size);
	assert_int_equal(f.rc, 0);
	assert_string_equal((const char *)f.json.ptr, DOUBAO_JSON);
	found_dispose(&f);
	aimark_buf_dispose(&b);
}

static void test_utf16_packet(void **state)
{
	(void)state;
	/* find() follows the packet's encoding (XMP allows UTF-16) */
	const char *x = "<a xmlns:TC260=\"" NS "\"><TC260:AIGC>v</TC260:AIGC></a>";
	size_t n = strlen(x);
	unsigned char *u = malloc(2 * n + 2);
	u[0] = 0xFF;
	u[1] = 0xFE;
	for (size_t i = 0; i < n; i++) {
		u[2 + 2 * i] = (unsigned char)x[i];
		u[3 + 2 * i] = 0;
	}
	found f = find_n((const char *)u, 2 * n + 2);
	assert_int_equal(f.rc, 0);
	assert_string_equal((const char *)f.json.ptr, "v");
	found_dispose(&f);
	/* set() only rewrites UTF-8 */
	aimark_buf out = AIMARK_BUF_INIT;
	assert_int_equal(aimark__xmp_set_aigc((const char *)u, 2 * n + 2, "{}", 2, &out), AIMARK_EFORMAT);
	assert_int_equal(out.size, 0);
	free(u);
}

static void test_not_found(void **state)
{
	(void)state;
	found f = find_s(OTHER_PROPS);
	assert_int_equal(f.rc, AIMARK_ENOTFOUND);
	assert_int_equal(aimark_findings_count(f.findings), 0);
	found_dispose(&f);
	f = find_n("", 0);
	assert_int_equal(f.rc, AIMARK_ENOTFOUND);
	found_dispose(&f);
	f = find_s("  \n ");
	assert_int_equal(f.rc, AIMARK_ENOTFOUND);
	found_dispose(&f);
}

static void assert_find_eformat(const char *x, const char *msg_part)
{
	found f = find_s(x);
	assert_int_equal(f.rc, AIMARK_EFORMAT);
	assert_int_equal(f.json.size, 0);
	if (msg_part && strstr(aimark_error_last(), msg_part) == NULL)
		fail_msg("message \"%s\" lacks \"%s\"", aimark_error_last(), msg_part);
	found_dispose(&f);
}

static void test_malformed(void **state)
{
	(void)state;
	/* truncated in the middle of the value */
	char trunc[200];
	memcpy(trunc, DOUBAO, sizeof trunc - 1);
	trunc[sizeof trunc - 1] = 0;
	assert_find_eformat(trunc, "XMP: ");
	assert_find_eformat("<a><b></a></b>", "mismatched tag");
	assert_find_eformat("<a xmlns:TC260=\"" NS "\"><TC260:AIGC>&nbsp;</TC260:AIGC></a>", "undefined entity");
	assert_find_eformat("<a><TC260:AIGC>x</TC260:AIGC></a>", "unbound prefix");
	assert_find_eformat("not xml at all", "offset");
	assert_find_eformat("<a/><b/>", "junk after document element");
	assert_find_eformat("<a>\x01</a>", NULL);
	assert_find_eformat("<a>\xC3\x28</a>", NULL);
	/* the message names the line and offset */
	assert_find_eformat("<a>\n<b>\n</c></a>", "line 3");
}

static void test_doctype_refused(void **state)
{
	(void)state;
	const char *lol = "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">"
			  "<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">"
			  "<!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">]>"
			  "<a xmlns:TC260=\"" NS "\"><TC260:AIGC>&lol2;</TC260:AIGC></a>";
	assert_find_eformat(lol, "DOCTYPE");
	assert_find_eformat("<!DOCTYPE a SYSTEM \"file:///etc/passwd\"><a/>", "DOCTYPE");
	aimark_buf out = AIMARK_BUF_INIT;
	assert_int_equal(aimark__xmp_set_aigc(lol, strlen(lol), "{}", 2, &out), AIMARK_EFORMAT);
	assert_non_null(strstr(aimark_error_last(), "DOCTYPE"));
	assert_int_equal(out.size, 0);
}

static void test_limits(void **state)
{
	(void)state;
	size_t n = AIMARK__MAX_METADATA_BLOCK + 1;
	char *big = malloc(n);
	memset(big, ' ', n);
	memcpy(big, "<a>", 3);
	aimark_buf out = AIMARK_BUF_INIT;
	assert_int_equal(aimark__xmp_find_aigc(big, n, &out, NULL), AIMARK_ELIMIT);
	assert_int_equal(aimark__xmp_set_aigc(big, n, "{}", 2, &out), AIMARK_ELIMIT);
	assert_int_equal(out.size, 0);
	free(big);

	/* deep nesting is refused, not followed */
	aimark_buf deep = AIMARK_BUF_INIT;
	for (int i = 0; i < 1000; i++)
		assert_int_equal(aimark__buf_append_str(&deep, "<a>"), 0);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(aimark__buf_append_str(&deep, "</a>"), 0);
	assert_int_equal(aimark__xmp_find_aigc((const char *)deep.ptr, deep.size, &out, NULL), AIMARK_EFORMAT);
	assert_non_null(strstr(aimark_error_last(), "nested"));
	aimark_buf_dispose(&deep);
}

/* ---- set ---- */

static const char NEW_PACKET_PREFIX[] =
	"<?xpacket begin=\"\xEF\xBB\xBF\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?><x:xmpmeta xmlns:x=\"adobe:ns:meta/\">"
	"<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"><rdf:Description rdf:about=\"\" "
	"xmlns:TC260=\"http://www.tc260.org.cn/ns/AIGC/1.0/\"><TC260:AIGC>";
static const char NEW_PACKET_SUFFIX[] = "</TC260:AIGC></rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end=\"w\"?>";

static char *set_s(const char *xmp, const char *json)
{
	aimark_buf out = AIMARK_BUF_INIT;
	int rc = aimark__xmp_set_aigc(xmp, xmp ? strlen(xmp) : 0, json, strlen(json), &out);
	if (rc != 0)
		fail_msg("set failed: %d %s", rc, aimark_error_last());
	return (char *)out.ptr;
}

static void test_set_new_packet(void **state)
{
	(void)state;
	char *p = set_s(NULL, DOUBAO_JSON);
	char expect[2048];
	snprintf(expect, sizeof expect, "%s%s%s", NEW_PACKET_PREFIX,
		 "{&quot;Label&quot;:&quot;1&quot;,&quot;ContentProducer&quot;:&quot;001191110102MACQD9K64010000&quot;,"
		 "&quot;ProduceID&quot;:&quot;e3578014edd949debed102781a8c26f7&quot;,&quot;ReservedCode1&quot;:&quot;&quot;,"
		 "&quot;ContentPropagator&quot;:&quot;&quot;,&quot;PropagateID&quot;:&quot;&quot;,"
		 "&quot;ReservedCode2&quot;:&quot;&quot;}",
		 NEW_PACKET_SUFFIX);
	assert_string_equal(p, expect);
	found f = find_s(p);
	assert_int_equal(f.rc, 0);
	assert_string_equal((const char *)f.json.ptr, DOUBAO_JSON);
	assert_int_equal(aimark_findings_count(f.findings), 0);
	found_dispose(&f);
	aimark__free(p);

	/* empty and blank input also make a new packet */
	p = set_s("", "{}");
	assert_non_null(strstr(p, "<TC260:AIGC>{}</TC260:AIGC>"));
	aimark__free(p);
}

static void test_set_escaping_round_trip(void **state)
{
	(void)state;
	const char *json = "{\"P\":\"a&b<c>d'e\",\n\t\"Q\":\"\xE4\xB8\xAD\r\"}";
	char *p = set_s(NULL, json);
	assert_non_null(strstr(p, "{&quot;P&quot;:&quot;a&amp;b&lt;c&gt;d'e&quot;,"));
	assert_null(strstr(p, "\r"));
	assert_found(p, json);
	/* the same through the attribute form */
	const char *attr = "<rdf:RDF xmlns:rdf=\"" RDFNS "\"><rdf:Description rdf:about=\"\" xmlns:TC260=\"" NS
			   "\" TC260:AIGC='old'/></rdf:RDF>";
	char *q = set_s(attr, json);
	assert_non_null(strstr(q, "TC260:AIGC='{&quot;P&quot;:&quot;a&amp;b&lt;c&gt;d&apos;e&quot;,&#10;&#9;"));
	assert_found(q, json);
	aimark__free(p);
	aimark__free(q);
}

static void test_set_rejects_bad_text(void **state)
{
	(void)state;
	aimark_buf out = AIMARK_BUF_INIT;
	assert_int_equal(aimark__xmp_set_aigc(NULL, 0, "{\x01}", 3, &out), AIMARK_EINVAL);
	assert_int_equal(aimark__xmp_set_aigc(NULL, 0, "{\xC3}", 2, &out), AIMARK_EINVAL);
	assert_int_equal(aimark__xmp_set_aigc(NULL, 0, "{\xED\xA0\x80}", 5, &out), AIMARK_EINVAL);
	assert_int_equal(out.size, 0);
}

/* Asserts out == in with [start, start+old_len) replaced by `repl`. */
static void assert_spliced(const char *in, const char *out, size_t start, size_t old_len, const char *repl)
{
	size_t in_len = strlen(in), repl_len = strlen(repl);
	assert_int_equal(strlen(out), in_len - old_len + repl_len);
	assert_memory_equal(out, in, start);
	assert_memory_equal(out + start, repl, repl_len);
	assert_string_equal(out + start + repl_len, in + start + old_len);
}

static void test_set_replaces_in_place(void **state)
{
	(void)state;
	char *p = set_s(DOUBAO, JIMENG_JSON);
	const char *s = strstr(DOUBAO, "<TC260:AIGC>") + strlen("<TC260:AIGC>");
	const char *e = strstr(DOUBAO, "</TC260:AIGC>");
	const char *j = strstr(JIMENG, "<TC260:AIGC>") + strlen("<TC260:AIGC>");
	char repl[2048];
	snprintf(repl, sizeof repl, "%.*s", (int)(strstr(JIMENG, "</TC260:AIGC>") - j), j);
	assert_spliced(DOUBAO, p, (size_t)(s - DOUBAO), (size_t)(e - s), repl);
	/* Doubao's template with Jimeng's label is exactly Jimeng's packet */
	assert_string_equal(p, JIMENG);
	found f = find_s(p);
	assert_int_equal(f.rc, 0);
	assert_string_equal((const char *)f.json.ptr, JIMENG_JSON);
	assert_false(aimark_findings_has(f.findings, "duplicate-label"));
	found_dispose(&f);

	/* setting again replaces, never adds a second property */
	char *q = set_s(p, "{}");
	const char *first = strstr(q, "AIGC>");
	assert_non_null(first);
	assert_non_null(strstr(q, "<TC260:AIGC>{}</TC260:AIGC>"));
	int n = 0;
	for (const char *t = q; (t = strstr(t, "<TC260:AIGC>")) != NULL; t++)
		n++;
	assert_int_equal(n, 1);
	aimark__free(p);
	aimark__free(q);
}

static void test_set_inserts_keeping_other_properties(void **state)
{
	(void)state;
	char *p = set_s(OTHER_PROPS, "{\"Label\":\"1\"}");
	size_t at = (size_t)(strstr(OTHER_PROPS, "</rdf:RDF>") - OTHER_PROPS);
	assert_spliced(OTHER_PROPS, p, at, 0,
		       "<rdf:Description rdf:about=\"\" xmlns:TC260=\"" NS "\"><TC260:AIGC>{&quot;Label&quot;:&quot;1&quot;}"
		       "</TC260:AIGC></rdf:Description>");
	assert_non_null(strstr(p, "xmp:CreatorTool=\"Adobe Photoshop 2024 (Windows)\""));
	assert_non_null(strstr(p, "<rdf:li>Zhang San &amp; Li Si</rdf:li>"));
	assert_found(p, "{\"Label\":\"1\"}");
	/* and a second set replaces the inserted one */
	char *q = set_s(p, "{\"Label\":\"2\"}");
	assert_spliced(OTHER_PROPS, q, at, 0,
		       "<rdf:Description rdf:about=\"\" xmlns:TC260=\"" NS "\"><TC260:AIGC>{&quot;Label&quot;:&quot;2&quot;}"
		       "</TC260:AIGC></rdf:Description>");
	aimark__free(p);
	aimark__free(q);
}

static void test_set_attribute_form(void **state)
{
	(void)state;
	const char *x = "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"" RDFNS "\">"
			"<rdf:Description rdf:about=\"\" xmlns:tc260=\"" NS "\"\n   tc260:AIGC = \"{&quot;old&quot;}\" "
			"xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\" xmp:Rating=\"5\"/></rdf:RDF></x:xmpmeta>";
	char *p = set_s(x, "{\"new\":\"<&>\"}");
	const char *v = strstr(x, "{&quot;old&quot;}");
	assert_spliced(x, p, (size_t)(v - x), strlen("{&quot;old&quot;}"), "{&quot;new&quot;:&quot;&lt;&amp;&gt;&quot;}");
	found f = find_s(p);
	assert_int_equal(f.rc, 0);
	assert_string_equal((const char *)f.json.ptr, "{\"new\":\"<&>\"}");
	assert_true(aimark_findings_has(f.findings, "xmp-attribute-form"));
	assert_true(aimark_findings_has(f.findings, "xmp-prefix"));
	found_dispose(&f);
	aimark__free(p);
}

static void test_set_removes_duplicates(void **state)
{
	(void)state;
	const char *x = "<rdf:RDF xmlns:rdf=\"" RDFNS "\"><rdf:Description rdf:about=\"\" xmlns:TC260=\"" NS "\" "
			"TC260:AIGC=\"first\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">"
			"<dc:format>image/png</dc:format><TC260:AIGC>second</TC260:AIGC><TC260:AIGC/>"
			"</rdf:Description></rdf:RDF>";
	char *p = set_s(x, "{\"Label\":\"1\"}");
	assert_string_equal(p, "<rdf:RDF xmlns:rdf=\"" RDFNS "\"><rdf:Description rdf:about=\"\" xmlns:TC260=\"" NS "\" "
			       "TC260:AIGC=\"{&quot;Label&quot;:&quot;1&quot;}\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">"
			       "<dc:format>image/png</dc:format></rdf:Description></rdf:RDF>");
	found f = find_s(p);
	assert_int_equal(f.rc, 0);
	assert_false(aimark_findings_has(f.findings, "duplicate-label"));
	found_dispose(&f);
	aimark__free(p);
}

static void test_set_empty_elements_and_alt(void **state)
{
	(void)state;
	const char *x = "<rdf:RDF xmlns:rdf=\"" RDFNS "\"><rdf:Description rdf:about=\"\" xmlns:T=\"" NS "\">"
			"<T:AIGC /></rdf:Description></rdf:RDF>";
	char *p = set_s(x, "{}");
	assert_string_equal(p, "<rdf:RDF xmlns:rdf=\"" RDFNS "\"><rdf:Description rdf:about=\"\" xmlns:T=\"" NS "\">"
			       "<T:AIGC >{}</T:AIGC></rdf:Description></rdf:RDF>");
	aimark__free(p);

	const char *r = "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><RDF xmlns=\"" RDFNS "\"/></x:xmpmeta>";
	p = set_s(r, "{}");
	assert_string_equal(p, "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><RDF xmlns=\"" RDFNS "\">"
			       "<Description xmlns:rdf=\"" RDFNS "\" rdf:about=\"\" xmlns:TC260=\"" NS "\">"
			       "<TC260:AIGC>{}</TC260:AIGC></Description></RDF></x:xmpmeta>");
	assert_found(p, "{}");
	aimark__free(p);

	const char *alt = "<r:RDF xmlns:r=\"" RDFNS "\"><r:Description xmlns:T=\"" NS "\"><T:AIGC><r:Alt>"
			  "<r:li xml:lang=\"x-default\">old</r:li></r:Alt></T:AIGC></r:Description></r:RDF>";
	p = set_s(alt, "{\"a\":1}");
	assert_string_equal(p, "<r:RDF xmlns:r=\"" RDFNS "\"><r:Description xmlns:T=\"" NS "\"><T:AIGC><r:Alt>"
			       "<r:li xml:lang=\"x-default\">{&quot;a&quot;:1}</r:li></r:Alt></T:AIGC></r:Description></r:RDF>");
	aimark__free(p);

	/* the prefix of rdf:RDF is used for the inserted description */
	const char *pr = "<r:RDF xmlns:r=\"" RDFNS "\"></r:RDF>";
	p = set_s(pr, "{}");
	assert_string_equal(p, "<r:RDF xmlns:r=\"" RDFNS "\"><r:Description r:about=\"\" xmlns:TC260=\"" NS "\">"
			       "<TC260:AIGC>{}</TC260:AIGC></r:Description></r:RDF>");
	assert_found(p, "{}");
	aimark__free(p);
}

static void test_set_keeps_bom_and_padding(void **state)
{
	(void)state;
	aimark_buf in = AIMARK_BUF_INIT;
	assert_int_equal(aimark__buf_append_str(&in, "\xEF\xBB\xBF"), 0);
	assert_int_equal(aimark__buf_append_str(&in, OTHER_PROPS), 0);
	assert_int_equal(aimark__buf_append(&in, "\0\0", 2), 0);
	aimark_buf out = AIMARK_BUF_INIT;
	assert_int_equal(aimark__xmp_set_aigc((const char *)in.ptr, in.size, "{}", 2, &out), 0);
	const char *ins = "<rdf:Description rdf:about=\"\" xmlns:TC260=\"" NS "\"><TC260:AIGC>{}</TC260:AIGC></rdf:Description>";
	size_t at = 3 + (size_t)(strstr(OTHER_PROPS, "</rdf:RDF>") - OTHER_PROPS);
	assert_int_equal(out.size, in.size + strlen(ins));
	assert_memory_equal(out.ptr, in.ptr, at);
	assert_memory_equal(out.ptr + at, ins, strlen(ins));
	assert_memory_equal(out.ptr + at + strlen(ins), in.ptr + at, in.size - at);
	aimark_buf_dispose(&in);
	aimark_buf_dispose(&out);
}

static void test_set_errors(void **state)
{
	(void)state;
	aimark_buf out = AIMARK_BUF_INIT;
	const char *no_rdf = "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><foo/></x:xmpmeta>";
	assert_int_equal(aimark__xmp_set_aigc(no_rdf, strlen(no_rdf), "{}", 2, &out), AIMARK_EFORMAT);
	assert_string_equal(aimark_error_last(), "XMP: no rdf:RDF element");
	const char *bad = "<rdf:RDF xmlns:rdf=\"" RDFNS "\"><rdf:Description></rdf:RDF>";
	assert_int_equal(aimark__xmp_set_aigc(bad, strlen(bad), "{}", 2, &out), AIMARK_EFORMAT);
	assert_non_null(strstr(aimark_error_last(), "mismatched tag"));
	const char *latin = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rdf:RDF xmlns:rdf=\"" RDFNS "\"/>";
	assert_int_equal(aimark__xmp_set_aigc(latin, strlen(latin), "{}", 2, &out), AIMARK_EFORMAT);
	assert_non_null(strstr(aimark_error_last(), "ISO-8859-1"));
	assert_int_equal(out.size, 0);
	assert_null(out.ptr);
}

/* ---- exiftool interoperability ---- */

static int have_exiftool(void)
{
	return system("exiftool -ver >/dev/null 2>&1") == 0;
}

static char *run_capture(const char *cmd)
{
	FILE *f = popen(cmd, "r");
	assert_non_null(f);
	aimark_buf b = AIMARK_BUF_INIT;
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		assert_int_equal(aimark__buf_append(&b, chunk, n), 0);
	assert_int_equal(pclose(f), 0);
	return b.ptr ? (char *)b.ptr : aimark__strdup("");
}

/* The string value of the first key ending in ":Aigc" (any case) in exiftool's -j -G1 output. */
static char *exiftool_aigc(const char *json_text)
{
	json_error_t err;
	json_t *root = json_loads(json_text, 0, &err);
	if (root == NULL)
		fail_msg("exiftool printed no JSON: %s", json_text);
	json_t *obj = json_array_get(root, 0);
	const char *key;
	json_t *val;
	char *ret = NULL;
	json_object_foreach(obj, key, val) {
		size_t kl = strlen(key);
		if (kl >= 5 && strcasecmp(key + kl - 5, ":aigc") == 0 && json_is_string(val))
			ret = aimark__strdup(json_string_value(val));
	}
	json_decref(root);
	return ret;
}

static void test_exiftool_reads_ours(void **state)
{
	(void)state;
	if (!have_exiftool())
		skip();
	char *dir = tu_tempdir();
	const char *json = "{\"Label\":\"1\",\"ContentProducer\":\"a&b<c>\",\"ProduceID\":\"x\\\"y\"}";
	/* a fresh packet and one merged into a packet with other properties */
	for (int round = 0; round < 2; round++) {
		char *p = set_s(round == 0 ? NULL : OTHER_PROPS, json);
		const char *path = tu_path("%s/x%d.xmp", dir, round);
		tu_write_file(path, p, strlen(p));
		char *outp = run_capture(tu_path("exiftool -j -G1 -XMP:all '%s'", path));
		char *v = exiftool_aigc(outp);
		if (v == NULL)
			fail_msg("exiftool did not list the AIGC property: %s", outp);
		assert_string_equal(v, json);
		if (round == 1)
			assert_non_null(strstr(outp, "Adobe Photoshop 2024 (Windows)"));
		aimark__free(v);
		aimark__free(outp);
		aimark__free(p);
	}
	tu_rmtree(dir);
	free(dir);
}

static void test_exiftool_writes_we_read(void **state)
{
	(void)state;
	if (!have_exiftool())
		skip();
	char *dir = tu_tempdir();
	const char *cfg = TU_DATA("exiftool-tc260.config");
	const char *json = "{\"Label\":\"1\",\"ContentProducer\":\"a&b<c>\",\"ProduceID\":\"p'q\"}";
	static const char *const modes[] = { "", "-api Compact=Shorthand" };
	for (int m = 0; m < 2; m++) {
		const char *path = tu_path("%s/e%d.xmp", dir, m);
		char *o = run_capture(tu_path("exiftool -config '%s' %s '-XMP-TC260:AIGC=%s' '%s' 2>&1", cfg, modes[m],
					      "{\"Label\":\"1\",\"ContentProducer\":\"a&b<c>\",\"ProduceID\":\"p'\\''q\"}",
					      path));
		aimark__free(o);
		size_t len;
		unsigned char *x = tu_read_file(path, &len);
		found f = find_n((const char *)x, len);
		assert_int_equal(f.rc, 0);
		assert_string_equal((const char *)f.json.ptr, json);
		assert_int_equal(aimark_findings_has(f.findings, "xmp-attribute-form"), m == 1);
		assert_false(aimark_findings_has(f.findings, "xmp-prefix"));
		found_dispose(&f);

		/* replace exiftool's value and let exiftool read ours back */
		aimark_buf out = AIMARK_BUF_INIT;
		assert_int_equal(aimark__xmp_set_aigc((const char *)x, len, "{\"Label\":\"2\"}", 13, &out), 0);
		tu_write_file(path, out.ptr, out.size);
		char *r = run_capture(tu_path("exiftool -j -G1 -XMP:all '%s'", path));
		char *v = exiftool_aigc(r);
		assert_non_null(v);
		assert_string_equal(v, "{\"Label\":\"2\"}");
		aimark__free(v);
		aimark__free(r);
		aimark_buf_dispose(&out);
		free(x);
	}
	tu_rmtree(dir);
	free(dir);
}

/* ---- allocation failures ---- */

static long g_fail_after = -1, g_allocs;

static void *failing_malloc(size_t size, void *user)
{
	(void)user;
	if (g_fail_after >= 0 && g_allocs++ >= g_fail_after)
		return NULL;
	return malloc(size);
}

static void *failing_realloc(void *ptr, size_t size, void *user)
{
	(void)user;
	if (g_fail_after >= 0 && g_allocs++ >= g_fail_after)
		return NULL;
	return realloc(ptr, size);
}

static void plain_free(void *ptr, void *user)
{
	(void)user;
	free(ptr);
}

/* Runs find and set with the k-th allocation failing, for every k until both succeed. */
static void test_allocation_failures(void **state)
{
	(void)state;
	static const aimark_allocator failing = { failing_malloc, failing_realloc, plain_free, NULL };
	const char *dups = "<rdf:RDF xmlns:rdf=\"" RDFNS "\"><rdf:Description rdf:about=\"\" xmlns:t=\"" NS "\" "
			   "t:AIGC=\"a\"><t:AIGC>b</t:AIGC></rdf:Description></rdf:RDF>";
	const char *inputs[] = { DOUBAO, OTHER_PROPS, dups };
	for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
		int find_done = 0, set_done = 0;
		for (long k = 0; k < 10000 && !(find_done && set_done); k++) {
			aimark_findings *f = NULL;
			assert_int_equal(aimark_findings_new(&f), 0);
			aimark_buf json = AIMARK_BUF_INIT, out = AIMARK_BUF_INIT;
			g_allocs = 0;
			g_fail_after = k;
			aimark_allocator_set(&failing);
			int rc1 = find_done ? 0 : aimark__xmp_find_aigc(inputs[i], strlen(inputs[i]), &json, f);
			int rc2 = set_done ? 0 : aimark__xmp_set_aigc(inputs[i], strlen(inputs[i]), "{}", 2, &out);
			aimark_allocator_set(NULL);
			g_fail_after = -1;
			if (!find_done) {
				if (rc1 != AIMARK_ENOMEM && rc1 != (i == 1 ? AIMARK_ENOTFOUND : 0))
					fail_msg("find with allocation %ld failing: %d %s", k, rc1, aimark_error_last());
				find_done = rc1 != AIMARK_ENOMEM;
			}
			if (!set_done) {
				if (rc2 != AIMARK_ENOMEM && rc2 != 0)
					fail_msg("set with allocation %ld failing: %d %s", k, rc2, aimark_error_last());
				if (rc2 == 0)
					assert_found((const char *)out.ptr, "{}");
				else
					assert_int_equal(out.size, 0);
				set_done = rc2 == 0;
			}
			aimark_buf_dispose(&json);
			aimark_buf_dispose(&out);
			aimark_findings_free(f);
		}
		assert_true(find_done && set_done);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_doubao),
		cmocka_unit_test(test_jimeng),
		cmocka_unit_test(test_find_appends),
		cmocka_unit_test(test_attribute_form),
		cmocka_unit_test(test_lowercase_prefix),
		cmocka_unit_test(test_wrong_namespace),
		cmocka_unit_test(test_entities_and_split_text),
		cmocka_unit_test(test_alt_wrapper),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_bom_padding_nuls),
		cmocka_unit_test(test_utf16_packet),
		cmocka_unit_test(test_not_found),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_doctype_refused),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_set_new_packet),
		cmocka_unit_test(test_set_escaping_round_trip),
		cmocka_unit_test(test_set_rejects_bad_text),
		cmocka_unit_test(test_set_replaces_in_place),
		cmocka_unit_test(test_set_inserts_keeping_other_properties),
		cmocka_unit_test(test_set_attribute_form),
		cmocka_unit_test(test_set_removes_duplicates),
		cmocka_unit_test(test_set_empty_elements_and_alt),
		cmocka_unit_test(test_set_keeps_bom_and_padding),
		cmocka_unit_test(test_set_errors),
		cmocka_unit_test(test_allocation_failures),
		cmocka_unit_test(test_exiftool_reads_ours),
		cmocka_unit_test(test_exiftool_writes_we_read),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * XMP packets: find and set the GB 45438 property
 *   namespace http://www.tc260.org.cn/ns/AIGC/1.0/, local name AIGC,
 * matched by namespace URI (any prefix: TC260, tc260, ...), in element or
 * attribute form. Parsing uses expat; writing splices text so that every
 * other property and the packet's layout are kept.
 */
#ifndef AIMARK_FORMAT_XMP_H
#define AIMARK_FORMAT_XMP_H

#include <stddef.h>

#include "aimark/common.h"
#include "aimark/findings.h"

#define AIMARK__TC260_NS "http://www.tc260.org.cn/ns/AIGC/1.0/"

/*
 * Finds the AIGC property. On success appends its text value (XML entities
 * decoded) to `json` and returns 0; AIMARK_ENOTFOUND when the packet has
 * none; AIMARK_EFORMAT when the packet is not well-formed XML (message says
 * where). Adds findings for deviations: prefix other than TC260
 * ("xmp-prefix"), attribute form ("xmp-attribute-form"), more than one AIGC
 * property ("duplicate-label"), a wrong namespace URI for prefix TC260
 * ("xmp-namespace").
 */
int aimark__xmp_find_aigc(const char *xmp, size_t len, aimark_buf *json, aimark_findings *findings);

/*
 * Builds a packet with the AIGC property set to `json` (escaped as XML text:
 * & < > " become entities), appended to `out`:
 *  - `xmp` NULL or empty: a new minimal packet (xpacket wrapper, x:xmpmeta,
 *    rdf:RDF, one rdf:Description declaring xmlns:TC260, element form);
 *  - an existing AIGC property (either form, any prefix): its value replaced
 *    in place, every other byte kept;
 *  - otherwise: a new rdf:Description with the property inserted before
 *    </rdf:RDF>.
 * Returns 0, AIMARK_EFORMAT (existing packet not well-formed XML) or AIMARK_ENOMEM.
 */
int aimark__xmp_set_aigc(const char *xmp, size_t len, const char *json, size_t json_len, aimark_buf *out);

#endif

/*
 * The font visible labels are drawn with: a font file the caller names, or
 * the bundled subset (fonts/AimarkLabelSans-Bold.otf, SIL OFL 1.1), looked up
 * in this order (docs/explicit-labels.md):
 *   1. $AIMARK_FONT_DIR/AimarkLabelSans-Bold.otf, when AIMARK_FONT_DIR is set
 *      (a set variable without the file is an error, not a silent fallback);
 *   2. the copy embedded in the library at build time (AIMARK_EMBEDDED_FONT);
 *   3. the installed copy, AIMARK_FONT_INSTALL_DIR (${datadir}/aimark/fonts);
 *   4. fonts/ of the source tree the library was built from.
 * FreeType renders the glyphs; a build without FreeType's headers compiles
 * and answers AIMARK_EUNSUPPORTED.
 */
#ifndef AIMARK_LABEL_EXPLICIT_FONT_H
#define AIMARK_LABEL_EXPLICIT_FONT_H

#if defined(__has_include)
#  if __has_include(<ft2build.h>)
#    define AIMARK__HAVE_FREETYPE 1
#  endif
#endif

#ifdef AIMARK__HAVE_FREETYPE
#  include <ft2build.h>
#  include FT_FREETYPE_H
#endif

#define AIMARK__LABEL_FONT_FILE "AimarkLabelSans-Bold.otf"

typedef struct aimark__label_font aimark__label_font;

/*
 * Opens `path` (face 0 of a collection), or the bundled font when `path` is
 * NULL. Each handle owns its own FreeType library instance: use one handle
 * per thread. Errors: AIMARK_EUNSUPPORTED (built without FreeType; the file
 * is missing, unreadable or not a scalable outline font: message names it),
 * AIMARK_ENOMEM.
 */
int aimark__label_font_open(aimark__label_font **out, const char *path);
void aimark__label_font_close(aimark__label_font *font);

/* Where the font came from: "embedded" or a file path (borrowed). */
const char *aimark__label_font_source(const aimark__label_font *font);

/* 1 when the font was opened as the bundled font (embedded or found on disk). */
int aimark__label_font_is_bundled(const aimark__label_font *font);

#ifdef AIMARK__HAVE_FREETYPE
/* The FreeType face (borrowed; valid until close). */
FT_Face aimark__label_font_face(aimark__label_font *font);
#endif

#endif

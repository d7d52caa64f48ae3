#!/bin/sh
# Regenerates fonts/AimarkLabelSans-Bold.otf, the font aimark draws visible
# labels with when no font is given. Needs the Debian packages fonts-noto-cjk
# (the source font, SIL OFL 1.1) and python3-fonttools (pyftsubset); neither is
# needed to build or run aimark. Usage: sh fonts/make-subset.sh [source.ttc]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=${1:-/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc}
out=$here/AimarkLabelSans-Bold.otf
py=${PYTHON:-/usr/bin/python3}

# Face 2 of the collection is Noto Sans CJK SC Bold (Simplified Chinese forms).
# Characters: printable ASCII, the GB 45438 label elements, words that common
# label texts use, and full-width punctuation.
"$py" -m fontTools.subset "$src" --font-number=2 \
	--unicodes=U+0020-007E \
	--text="人工智能生成合成本内容由图像片视频音文字经过辅助深度技术制作：，。（）、·" \
	--layout-features='' --no-hinting --desubroutinize \
	--name-IDs='*' --name-languages=0x409 --name-legacy \
	--output-file="$out.tmp"

# A subset is a Modified Version under the OFL: give it its own name and say
# where it comes from; the copyright, licence and trademark records stay.
"$py" - "$out.tmp" <<'PY'
import sys
from fontTools.ttLib import TTFont
path = sys.argv[1]
f = TTFont(path, recalcTimestamp=False)
name = f["name"]
for rec in list(name.names):
    if rec.nameID in (1, 3, 4, 6, 16, 17, 10, 18, 21, 22):
        name.removeNames(nameID=rec.nameID)
fam, style = "Aimark Label Sans", "Bold"
for pid, eid, lid in ((3, 1, 0x409), (1, 0, 0)):
    name.setName(fam, 1, pid, eid, lid)
    name.setName(style, 2, pid, eid, lid)
    name.setName("2.004;AIMARK;AimarkLabelSans-Bold", 3, pid, eid, lid)
    name.setName(fam + " " + style, 4, pid, eid, lid)
    name.setName("AimarkLabelSans-Bold", 6, pid, eid, lid)
    name.setName("Subset of Noto Sans CJK SC Bold 2.004 (SIL Open Font License 1.1) "
                 "holding the glyphs of aimark's default visible AI-generated labels.", 10, pid, eid, lid)
if "CFF " in f:
    cff = f["CFF "].cff
    cff.fontNames = ["AimarkLabelSans-Bold"]
    top = cff.topDictIndex[0]
    top.FullName = "Aimark Label Sans Bold"
    top.FamilyName = "Aimark Label Sans"
f.save(path)
PY
mv "$out.tmp" "$out"
ls -l "$out"

#!/usr/bin/env python3
"""Writes the small test PDFs of this directory (see docs/format-documents.md).

minimal.pdf      one page, classic xref table, Info with /Title and /Producer
noinfo.pdf       one page, no Info dictionary, no trailing newline after %%EOF
vendor-hex.pdf   Info /AIGC as a UTF-16BE hex string (a vendor-style label)
vendor-old.pdf   /AIGC only in the Info of the first revision; an update drops it
xrefstream.pdf   made from minimal.pdf by: qpdf --object-streams=generate
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
LABEL = '{"Label":"1","ContentProducer":"001191310104MACE0YX63918020","ProduceID":"142569260085903360","ReservedCode1":"","ContentPropagator":"001191310104MACE0YX63918020","PropagateID":"142569260085903360","ReservedCode2":""}'


def build(objects, info=None, eol=b"\n"):
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    trailer = b"<< /Size %d /Root 1 0 R" % (len(objects) + 1)
    if info:
        trailer += b" /Info %d 0 R" % info
    trailer += b" /ID [<00112233445566778899aabbccddeeff> <00112233445566778899aabbccddeeff>] >>"
    out += b"trailer\n" + trailer + b"\nstartxref\n%d\n%%%%EOF" % xref + eol
    return bytes(out)


def page_objects(text=b"Hello"):
    content = b"BT /F1 24 Tf 20 40 Td (" + text + b") Tj ET"
    return [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]


def append_update(base, objs, size, info):
    """An incremental update redefining `objs` {num: body}."""
    out = bytearray(base)
    prev = int(base.rsplit(b"startxref", 1)[1].split()[0])
    offs = {}
    for num, body in objs.items():
        offs[num] = len(out)
        out += b"%d 0 obj\n" % num + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n"
    for num in sorted(offs):
        out += b"%d 1\n%010d 00000 n \n" % (num, offs[num])
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n" % (size, info, prev, xref)
    return bytes(out)


def write(name, data):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)


def main():
    info = b"<< /Title (Test \\(document\\)) /Producer (aimark tests) /CreationDate (D:20250101000000Z) >>"
    write("minimal.pdf", build(page_objects() + [info], info=6))
    write("noinfo.pdf", build(page_objects(), eol=b""))
    u16 = ("\ufeff" + LABEL).encode("utf-16-be").hex().upper().encode()
    write("vendor-hex.pdf", build(page_objects() + [b"<< /Producer (vendor) /AIGC <" + u16 + b"> >>"], info=6))
    lit = LABEL.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)").encode()
    first = build(page_objects() + [b"<< /Producer (vendor) /AIGC (" + lit + b") >>"], info=6)
    write("vendor-old.pdf", append_update(first, {7: b"<< /Producer (editor) >>"}, 8, 7))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Writes the small test packages of this directory (see docs/format-documents.md).

minimal.docx      [Content_Types].xml, _rels/.rels, word/document.xml, docProps/core.xml
custom.docx       as minimal.docx plus docProps/custom.xml with two other properties
                  (Company, and a prefixed-namespace document) and its relationship
stored.xlsx       a minimal workbook whose entries are stored, not deflated, with an archive comment
zip64.docx        minimal.docx written by hand with ZIP64 records everywhere: local and central
                  ZIP64 extra fields (sizes and offsets 0xFFFFFFFF), ZIP64 end record and locator
"""
import os
import struct
import zipfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
FIXED = (2024, 5, 6, 7, 8, 10)

CT = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
      '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
      '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
      '<Default Extension="xml" ContentType="application/xml"/>'
      '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
      '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
      '%s</Types>')
RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>'
        '%s</Relationships>')
DOC = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
       '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
       '<w:body><w:p><w:r><w:t>Hello from a generated document. ' + 'Lorem ipsum dolor sit amet. ' * 20 +
       '</w:t></w:r></w:p></w:body></w:document>')
CORE = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Test</dc:title></cp:coreProperties>')
CUSTOM = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
          '<op:Properties xmlns:op="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" '
          'xmlns:t="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
          '<op:property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="2" name="Company"><t:lpwstr>ACME &amp; Co</t:lpwstr></op:property>'
          '<op:property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="5" name="Reviewed"><t:bool>true</t:bool></op:property>'
          '</op:Properties>')
CUSTOM_CT = '<Override PartName="/docProps/custom.xml" ContentType="application/vnd.openxmlformats-officedocument.custom-properties+xml"/>'
CUSTOM_REL = '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties" Target="docProps/custom.xml"/>'


def write(name, parts, compression=zipfile.ZIP_DEFLATED, force_zip64=False, comment=b""):
    with zipfile.ZipFile(os.path.join(HERE, name), "w", compression) as z:
        for part, text in parts:
            info = zipfile.ZipInfo(part, FIXED)
            info.compress_type = compression
            with z.open(info, "w", force_zip64=force_zip64) as f:
                f.write(text.encode())
        z.comment = comment


def write_zip64(name, parts):
    out = bytearray()
    central = bytearray()
    for part, text in parts:
        data = text.encode()
        comp = zlib.compressobj(6, zlib.DEFLATED, -15)
        cdata = comp.compress(data) + comp.flush()
        crc = zlib.crc32(data)
        fname = part.encode()
        offset = len(out)
        extra = struct.pack("<HHQQ", 1, 16, len(data), len(cdata))
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, 8, 0x3901, 0x58A6, crc, 0xFFFFFFFF, 0xFFFFFFFF,
                           len(fname), len(extra)) + fname + extra + cdata
        cextra = struct.pack("<HHQQQ", 1, 24, len(data), len(cdata), offset)
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, 8, 0x3901, 0x58A6, crc, 0xFFFFFFFF,
                               0xFFFFFFFF, len(fname), len(cextra), 0, 0, 0, 0, 0xFFFFFFFF) + fname + cextra
    cd_off = len(out)
    out += central
    eocd64 = len(out)
    out += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, len(parts), len(parts), len(central), cd_off)
    out += struct.pack("<IIQI", 0x07064B50, 0, eocd64, 1)
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(out)


def main():
    base = [("[Content_Types].xml", CT % ""), ("_rels/.rels", RELS % ""), ("word/document.xml", DOC),
            ("docProps/core.xml", CORE)]
    write("minimal.docx", base)
    write("custom.docx", [("[Content_Types].xml", CT % CUSTOM_CT), ("_rels/.rels", RELS % CUSTOM_REL),
                          ("word/document.xml", DOC), ("docProps/core.xml", CORE), ("docProps/custom.xml", CUSTOM)])
    sheet = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
             '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheets/></workbook>')
    write("stored.xlsx", [("[Content_Types].xml", CT % ""), ("_rels/.rels", RELS % ""), ("xl/workbook.xml", sheet)],
          compression=zipfile.ZIP_STORED, comment=b"archive comment")
    write_zip64("zip64.docx", base)


if __name__ == "__main__":
    main()

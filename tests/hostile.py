"""Hostile files for the pre-check and the inbox, built by code from one good workbook.

Each case is a file a lead might drop in the inbox (a PDF, a copy still in
progress, a password-protected workbook) or one made to harm a reader (a zip
bomb, a far-away cell, an XML entity). Nothing binary is kept in the
repository: every file is derived here from a valid ``.xlsx``.
"""

from __future__ import annotations

import dataclasses
import io
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

ZERO_BOMB_SIZE = 1 << 30  # 1 GiB of zeros, about 1 MB once deflated

_MAIN_TYPE = b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
_MACRO_MAIN_TYPE = b"application/vnd.ms-excel.sheet.macroEnabled.main+xml"
_XML_DECLARATION = re.compile(rb"^\s*<\?xml[^>]*\?>\s*")


@dataclass(frozen=True)
class Case:
    """One hostile file and the pre-check code that must refuse it."""

    name: str
    path: Path
    expected_code: str


def build_corpus(good_xlsx: Path, outdir: Path) -> list[Case]:
    """Write one file per case into ``outdir`` (named ``<case>.xlsx``) and list them."""
    outdir.mkdir(parents=True, exist_ok=True)
    good = Path(good_xlsx).read_bytes()
    cases = []
    for name, code, build in _CASES:
        path = outdir / f"{name}.xlsx"
        build(good, path)
        cases.append(Case(name, path, code))
    return cases


def rezip(
    src: Path,
    dst: Path,
    replace: Mapping[str, bytes],
    add: Mapping[str, bytes] | None = None,
    drop: Collection[str] = (),
) -> Path:
    """Copy the zip ``src`` to ``dst`` with some members replaced, added or dropped.

    Members keep their order; added ones come last. Everything is deflated as
    Excel does.
    """
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename in drop:
                continue
            data = replace.get(info.filename)
            if data is None:
                data = zin.read(info)
            zout.writestr(
                zipfile.ZipInfo(info.filename, info.date_time), data, zipfile.ZIP_DEFLATED
            )
        for name, data in (add or {}).items():
            zout.writestr(zipfile.ZipInfo(name, (2026, 1, 1, 0, 0, 0)), data, zipfile.ZIP_DEFLATED)
    return dst


# --- a zip writer that writes whatever it is told -------------------------------------


@dataclass(frozen=True)
class _Entry:
    """One member as stored: packed bytes plus the header fields, which may lie."""

    name: str
    packed: bytes
    crc: int
    size: int


def _deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(6, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush()


def _entry(name: str, data: bytes) -> _Entry:
    return _Entry(name, _deflate(data), zlib.crc32(data), len(data))


def _entries(good: bytes) -> list[_Entry]:
    return [_entry(name, data) for name, data in _members(good)]


def _write_zip(dst: Path, entries: list[_Entry]) -> None:
    """Write a deflate zip exactly as ``entries`` declare it, checksums and sizes included."""
    central = []
    offset = 0
    with open(dst, "wb") as out:
        for entry in entries:
            name = entry.name.encode("utf-8")
            fields = (20, 0x800, 8, 0, 0x5C21, entry.crc, len(entry.packed), entry.size)
            out.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", *fields, len(name), 0))
            out.write(name)
            out.write(entry.packed)
            central.append(
                struct.pack(
                    "<4s6H3L5H2L", b"PK\x01\x02", 20, *fields, len(name), 0, 0, 0, 0, 0, offset
                )
                + name
            )
            offset += 30 + len(name) + len(entry.packed)
        directory = b"".join(central)
        out.write(directory)
        out.write(
            struct.pack(
                "<4s4H2LH",
                b"PK\x05\x06",
                0,
                0,
                len(entries),
                len(entries),
                len(directory),
                offset,
                0,
            )
        )


def _members(good: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(good)) as zf:
        return [(info.filename, zf.read(info)) for info in zf.infolist()]


def _first_sheet(good: bytes) -> str:
    return next(
        name for name, _ in _members(good) if re.fullmatch(r"xl/worksheets/[^/]+\.xml", name)
    )


def _member(good: bytes, name: str) -> bytes:
    return dict(_members(good))[name]


def _strings_part(good: bytes) -> str:
    names = [name for name, _ in _members(good)]
    return "xl/sharedStrings.xml" if "xl/sharedStrings.xml" in names else _first_sheet(good)


def _rewrite(good: bytes, dst: Path, replace: Mapping[str, bytes], **kwargs) -> None:
    src = dst.with_suffix(".good.tmp")
    src.write_bytes(good)
    try:
        rezip(src, dst, replace, **kwargs)
    finally:
        src.unlink()


def _edit_sheet(good: bytes, dst: Path, edit: Callable[[bytes], bytes]) -> None:
    sheet = _first_sheet(good)
    _rewrite(good, dst, {sheet: edit(_member(good, sheet))})


def _with_doctype(good: bytes, dst: Path, doctype: bytes, reference: bytes) -> None:
    """The strings part with ``doctype`` after its declaration and ``reference`` in its text."""
    part = _strings_part(good)
    xml = _member(good, part)
    declaration = _XML_DECLARATION.match(xml)
    head = declaration.group(0) if declaration else b""
    text = rb"<t\1>" + reference + rb"</t>"
    body = re.sub(rb"<t([^>]*)>[^<]*</t>", text, xml[len(head) :], count=1)
    _rewrite(good, dst, {part: head + doctype + b"\n" + body})


# --- OLE compound files ---------------------------------------------------------------

_END_OF_CHAIN = 0xFFFFFFFE
_FAT_SECTOR = 0xFFFFFFFD
_FREE = 0xFFFFFFFF
_NO_STREAM = 0xFFFFFFFF


def _ole(streams: Mapping[str, bytes]) -> bytes:
    """A compound file (version 3, 512-byte sectors) holding ``streams`` at its root.

    Streams are padded to the 4096-byte mini-stream cutoff, as Excel pads its
    Workbook stream, so that every stream lives in ordinary sectors.
    """
    sector = 512
    names = list(streams)
    data = [streams[name].ljust(4096, b"\x00") for name in names]
    dir_sectors = -(-(1 + len(names)) // 4)
    data_sectors = [-(-len(d) // sector) for d in data]
    fat_sectors = 1
    while fat_sectors * 128 < fat_sectors + dir_sectors + sum(data_sectors):
        fat_sectors += 1

    fat = [_FAT_SECTOR] * fat_sectors
    first_dir = len(fat)
    starts = []
    for count in [dir_sectors, *data_sectors]:
        start = len(fat)
        starts.append(start)
        fat += [start + i + 1 for i in range(count - 1)] + [_END_OF_CHAIN]
    fat += [_FREE] * (fat_sectors * 128 - len(fat))

    # Siblings form a binary search tree ordered by name length, then upper-case name.
    order = sorted(range(len(names)), key=lambda i: (len(names[i]), names[i].upper()))
    left: dict[int, int] = {}
    right: dict[int, int] = {}

    def tree(lo: int, hi: int) -> int:
        if lo >= hi:
            return _NO_STREAM
        mid = (lo + hi) // 2
        node = 1 + order[mid]
        left[node], right[node] = tree(lo, mid), tree(mid + 1, hi)
        return node

    root_child = tree(0, len(order))
    directory = [_dir_entry("Root Entry", 5, child=root_child, start=_END_OF_CHAIN, size=0)]
    for i, name in enumerate(names):
        node = 1 + i
        directory.append(
            _dir_entry(
                name, 2, left=left[node], right=right[node], start=starts[1 + i], size=len(data[i])
            )
        )
    directory += [_dir_entry("", 0)] * (dir_sectors * 4 - len(directory))

    header = struct.pack(
        "<8s16s5H6s9L",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        bytes(16),
        0x3E,
        3,
        0xFFFE,
        9,
        6,
        bytes(6),
        0,
        fat_sectors,
        first_dir,
        0,
        4096,
        _END_OF_CHAIN,
        0,
        _END_OF_CHAIN,
        0,
    ) + struct.pack("<109L", *(list(range(fat_sectors)) + [_FREE] * (109 - fat_sectors)))
    body = struct.pack(f"<{len(fat)}L", *fat) + b"".join(directory)
    for chunk, count in zip(data, data_sectors, strict=True):
        body += chunk.ljust(count * sector, b"\x00")
    return header + body


def _dir_entry(
    name: str,
    kind: int,
    *,
    left: int = _NO_STREAM,
    right: int = _NO_STREAM,
    child: int = _NO_STREAM,
    start: int = 0,
    size: int = 0,
) -> bytes:
    encoded = (name + "\x00").encode("utf-16-le") if name else b""
    return struct.pack(
        "<64sHBB3L16sLQQLQ",
        encoded,
        len(encoded),
        kind,
        1,
        left,
        right,
        child,
        bytes(16),
        0,
        0,
        0,
        start,
        size,
    )


def _biff_workbook() -> bytes:
    """A small BIFF8 Workbook stream: globals naming one sheet, then that sheet."""

    def record(kind: int, payload: bytes = b"") -> bytes:
        return struct.pack("<HH", kind, len(payload)) + payload

    def bof(substream: int) -> bytes:
        return record(0x0809, struct.pack("<4H2L", 0x0600, substream, 0x2775, 0x07CD, 0xC1, 0x06))

    name = b"Sheet1"

    def boundsheet(position: int) -> bytes:
        return record(0x0085, struct.pack("<LBBBB", position, 0, 0, len(name), 0) + name)

    sheet_at = len(bof(0x05) + boundsheet(0) + record(0x000A))
    return bof(0x05) + boundsheet(sheet_at) + record(0x000A) + bof(0x10) + record(0x000A)


def _encrypt(good: bytes, password: str) -> bytes:
    """The workbook encrypted as Excel does, or a container with the same streams."""
    try:
        from msoffcrypto.format.ooxml import OOXMLFile
    except ImportError:
        return _ole(
            {"EncryptionInfo": b"\x04\x00\x04\x00\x40\x00\x00\x00", "EncryptedPackage": good}
        )
    out = io.BytesIO()
    OOXMLFile(io.BytesIO(good)).encrypt(password, out)
    return out.getvalue()


# --- other formats --------------------------------------------------------------------


def _png() -> bytes:
    def chunk(kind: bytes, payload: bytes) -> bytes:
        return (
            struct.pack(">L", len(payload))
            + kind
            + payload
            + struct.pack(">L", zlib.crc32(kind + payload))
        )

    header = struct.pack(">2L5B", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


_PDF = b"""%PDF-1.4
1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj
2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj
3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >> endobj
trailer << /Root 1 0 R >>
%%EOF
"""


# Other spreadsheet formats: each holds the ratings, and a Save As in a spreadsheet
# program turns it into a workbook SeQuIn reads. Minimal but faithful to the format.

_ODF_SPREADSHEET = "application/vnd.oasis.opendocument.spreadsheet"
_ODF_TEXT = "application/vnd.oasis.opendocument.text"


def _odf_zip(dst: Path, media_type: str, body: str) -> None:
    """An OpenDocument package as LibreOffice writes it: ``mimetype`` first, stored."""
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"'
        ' manifest:version="1.3">'
        f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{media_type}"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.3">'
        f"<office:body>{body}</office:body></office:document-content>"
    )
    with zipfile.ZipFile(dst, "w") as zf:
        zf.writestr(zipfile.ZipInfo("mimetype", (2026, 1, 1, 0, 0, 0)), media_type)
        for name, data in (("content.xml", content), ("META-INF/manifest.xml", manifest)):
            info = zipfile.ZipInfo(name, (2026, 1, 1, 0, 0, 0))
            zf.writestr(info, data, zipfile.ZIP_DEFLATED)


_ODS_TABLE = (
    '<office:spreadsheet><table:table table:name="1 Involvement"><table:table-row>'
    '<table:table-cell office:value-type="string"><text:p>Met</text:p></table:table-cell>'
    "</table:table-row></table:table></office:spreadsheet>"
)


def _ods(good: bytes, dst: Path) -> None:
    _odf_zip(dst, _ODF_SPREADSHEET, _ODS_TABLE)


def _odt(good: bytes, dst: Path) -> None:
    _odf_zip(dst, _ODF_TEXT, "<office:text><text:p>Our SeQuIn return</text:p></office:text>")


def _flat_ods(good: bytes, dst: Path) -> None:
    dst.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.3"'
        f' office:mimetype="{_ODF_SPREADSHEET}"><office:body>{_ODS_TABLE}</office:body>'
        "</office:document>\n",
        encoding="utf-8",
    )


def _excel_2003_xml(good: bytes, dst: Path) -> None:
    dst.write_text(
        '<?xml version="1.0"?>\n<?mso-application progid="Excel.Sheet"?>\n'
        '<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"'
        ' xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet">'
        '<Worksheet ss:Name="1 Involvement"><Table><Row><Cell><Data ss:Type="String">Met'
        "</Data></Cell></Row></Table></Worksheet></Workbook>\n",
        encoding="utf-8",
    )


def xlsb_bytes() -> bytes:
    """A minimal Excel binary workbook (.xlsb): its parts and content types, as Excel names them."""
    content_types = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="bin" ContentType="application/vnd.ms-excel.sheet.binary.macroEnabled'
        '.main"/><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.bin" ContentType="application/vnd.ms-excel.'
        'worksheet"/></Types>'
    )
    rels = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="xl/workbook.bin"/></Relationships>'
    )
    # BrtBeginBook (0x83) and BrtEndBook (0x84), each a one-byte record type and length 0.
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in (
            ("[Content_Types].xml", content_types.encode()),
            ("_rels/.rels", rels.encode()),
            ("xl/workbook.bin", b"\x83\x01\x00\x84\x01\x00"),
            ("xl/worksheets/sheet1.bin", b"\x81\x01\x00\x82\x01\x00"),
        ):
            zf.writestr(zipfile.ZipInfo(name, (2026, 1, 1, 0, 0, 0)), data, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _xlsb(good: bytes, dst: Path) -> None:
    dst.write_bytes(xlsb_bytes())


def _numbers(good: bytes, dst: Path) -> None:
    """An Apple Numbers document: its parts are Snappy-framed protobuf (.iwa) files."""
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in (
            ("Index/Document.iwa", b"\x00\x05\x00\x00\x10\x00\x00\x00"),
            ("Index/CalculationEngine.iwa", b"\x00\x05\x00\x00\x10\x00\x00\x00"),
            ("Metadata/DocumentIdentifier", b"4C0A9F3E-0000-0000-0000-000000000000"),
            ("Metadata/Properties.plist", b"bplist00\xd0\x08\x00\x00\x00\x00\x00"),
        ):
            zf.writestr(zipfile.ZipInfo(name, (2026, 1, 1, 0, 0, 0)), data)


def _zero_bomb_stream(size: int) -> bytes:
    """Raw deflate data for ``size`` zero bytes (a multiple of 1 MiB), built a block at a time.

    A full flush makes each block independent of what came before, so one
    compressed megabyte can be repeated instead of compressing the whole.
    """
    block = zlib.compressobj(9, zlib.DEFLATED, -15)
    packed = block.compress(bytes(1 << 20)) + block.flush(zlib.Z_FULL_FLUSH)
    final = zlib.compressobj(9, zlib.DEFLATED, -15).flush(zlib.Z_FINISH)
    return packed * (size >> 20) + final


def _zeros_crc(size: int) -> int:
    crc, block = 0, bytes(1 << 20)
    for _ in range(size >> 20):
        crc = zlib.crc32(block, crc)
    return crc


# --- the cases ------------------------------------------------------------------------


def _empty(good: bytes, dst: Path) -> None:
    dst.write_bytes(b"")


def _text(good: bytes, dst: Path) -> None:
    dst.write_text("Hi, please find our SeQuIn return for this month attached.\nThanks\n")


def _csv(good: bytes, dst: Path) -> None:
    dst.write_text("ID,Standard,Rating,Evidence\nINV-01,Service users are involved,Met,Minutes\n")


def _pdf(good: bytes, dst: Path) -> None:
    dst.write_bytes(_PDF)


def _png_file(good: bytes, dst: Path) -> None:
    dst.write_bytes(_png())


def _old_xls(good: bytes, dst: Path) -> None:
    dst.write_bytes(_ole({"Workbook": _biff_workbook()}))


def _encrypted(good: bytes, dst: Path) -> None:
    dst.write_bytes(_encrypt(good, "Secure1"))


def _macro_content_type(good: bytes) -> bytes:
    content_types = _member(good, "[Content_Types].xml").replace(_MAIN_TYPE, _MACRO_MAIN_TYPE)
    return content_types.replace(
        b"<Default ",
        b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/><Default ',
        1,
    )


def _xlsm_renamed(good: bytes, dst: Path) -> None:
    rels = _member(good, "xl/_rels/workbook.xml.rels").replace(
        b"</Relationships>",
        b'<Relationship Id="rIdVba" Type="http://schemas.microsoft.com/office/2006/'
        b'relationships/vbaProject" Target="vbaProject.bin"/></Relationships>',
    )
    vba = _ole({"PROJECT": b'ID="{00000000-0000-0000-0000-000000000000}"\r\nName="VBAProject"\r\n'})
    _rewrite(
        good,
        dst,
        {"[Content_Types].xml": _macro_content_type(good), "xl/_rels/workbook.xml.rels": rels},
        add={"xl/vbaProject.bin": vba},
    )


def _macro_type_only(good: bytes, dst: Path) -> None:
    _rewrite(good, dst, {"[Content_Types].xml": _macro_content_type(good)})


def _plain_zip(good: bytes, dst: Path) -> None:
    _write_zip(dst, [_entry("SeQuIn notes.txt", b"Our return is attached separately.\n")])


def _truncated(good: bytes, dst: Path) -> None:
    dst.write_bytes(good[: len(good) * 6 // 10])


def _unfinished_copy(good: bytes, dst: Path) -> None:
    # Some copies set the final size first and fill in the bytes afterwards.
    dst.write_bytes(bytes(len(good)))


def _replace_entry(good: bytes, name: str, entry: _Entry) -> list[_Entry]:
    return [entry if e.name == name else e for e in _entries(good)]


def _zip_bomb(good: bytes, dst: Path) -> None:
    sheet = _first_sheet(good)
    bomb = _Entry(
        sheet, _zero_bomb_stream(ZERO_BOMB_SIZE), _zeros_crc(ZERO_BOMB_SIZE), ZERO_BOMB_SIZE
    )
    _write_zip(dst, _replace_entry(good, sheet, bomb))


def _lying_sizes(good: bytes, dst: Path) -> None:
    sheet = _first_sheet(good)
    honest = _entry(sheet, _member(good, sheet))
    _write_zip(dst, _replace_entry(good, sheet, dataclasses.replace(honest, size=honest.size // 2)))


def _lying_size_bomb(good: bytes, dst: Path) -> None:
    # Declares about 1 MB (a ratio of 1) but inflates to 1 GiB.
    packed = _zero_bomb_stream(ZERO_BOMB_SIZE)
    sheet = _first_sheet(good)
    _write_zip(dst, _replace_entry(good, sheet, _Entry(sheet, packed, 0, len(packed))))


def _bad_crc(good: bytes, dst: Path) -> None:
    sheet = _first_sheet(good)
    honest = _entry(sheet, _member(good, sheet))
    _write_zip(
        dst, _replace_entry(good, sheet, dataclasses.replace(honest, crc=honest.crc ^ 0x5A5A))
    )


def _duplicate_part(good: bytes, dst: Path) -> None:
    entries = _entries(good)
    sheet = _first_sheet(good)
    twin = _entry(
        sheet, b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>'
    )
    _write_zip(dst, [*entries, twin])


def _path_traversal(good: bytes, dst: Path) -> None:
    _write_zip(dst, [*_entries(good), _entry("../../startup/evil.xml", b"<x/>")])


def _too_many_parts(good: bytes, dst: Path) -> None:
    extra = {f"customXml/item{i}.xml": b"<item/>" for i in range(300)}
    _rewrite(good, dst, {}, add=extra)


def _far_cell(good: bytes, dst: Path) -> None:
    _edit_sheet(
        good, dst, lambda xml: xml.replace(b"</row>", b'<c r="XFD1048576"><v>1</v></c></row>', 1)
    )


def _far_dimension(good: bytes, dst: Path) -> None:
    _edit_sheet(
        good,
        dst,
        lambda xml: re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD1048576"', xml),
    )


def _far_row(good: bytes, dst: Path) -> None:
    _edit_sheet(
        good, dst, lambda xml: xml.replace(b"</sheetData>", b'<row r="1048576"/></sheetData>')
    )


def _unnumbered_cells(good: bytes, dst: Path) -> None:
    # Cells without r="..." sit one after another: the 13th is in column M.
    row = b'<row r="21">' + b"<c><v>1</v></c>" * 20 + b"</row>"
    _edit_sheet(good, dst, lambda xml: xml.replace(b"</sheetData>", row + b"</sheetData>"))


def _external_entity(good: bytes, dst: Path) -> None:
    doctype = b'<!DOCTYPE sst [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    _with_doctype(good, dst, doctype, b"&xxe;")


def _billion_laughs(good: bytes, dst: Path) -> None:
    lines = [b'<!ENTITY lol0 "lol">']
    for level in range(1, 10):
        lines.append(b'<!ENTITY lol%d "%s">' % (level, b"&lol%d;" % (level - 1) * 10))
    _with_doctype(good, dst, b"<!DOCTYPE sst [\n" + b"\n".join(lines) + b"\n]>", b"&lol9;")


def _utf16_entity(good: bytes, dst: Path) -> None:
    part = _strings_part(good)
    xml = _XML_DECLARATION.sub(b"", _member(good, part))
    text = (
        '<?xml version="1.0" encoding="UTF-16" standalone="yes"?>\n'
        '<!DOCTYPE sst [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
        + xml.decode("utf-8").replace("</t>", "&xxe;</t>", 1)
    )
    _rewrite(good, dst, {part: text.encode("utf-16")})


def _utf7_entity(good: bytes, dst: Path) -> None:
    part = _strings_part(good)
    xml = _XML_DECLARATION.sub(b"", _member(good, part))
    body = '<!DOCTYPE sst [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n' + xml.decode("utf-8")
    # UTF-7 may spell '<' as "+ADw-", out of sight of a byte scan for "<!DOCTYPE".
    hidden = body.encode("utf-7").replace(b"<", b"+ADw-")
    _rewrite(good, dst, {part: b'<?xml version="1.0" encoding="UTF-7"?>\n' + hidden})


_CASES: list[tuple[str, str, Callable[[bytes, Path], None]]] = [
    ("empty", "file-empty", _empty),
    ("text-renamed", "not-a-spreadsheet", _text),
    ("csv-renamed", "not-a-spreadsheet", _csv),
    ("pdf-renamed", "not-a-spreadsheet", _pdf),
    ("png-renamed", "not-a-spreadsheet", _png_file),
    ("old-xls", "old-xls-format", _old_xls),
    ("ods", "save-as-xlsx", _ods),
    ("flat-ods", "save-as-xlsx", _flat_ods),
    ("xlsb", "save-as-xlsx", _xlsb),
    ("numbers", "save-as-xlsx", _numbers),
    ("excel-2003-xml", "save-as-xlsx", _excel_2003_xml),
    ("odt", "not-a-workbook", _odt),
    ("encrypted", "workbook-encrypted", _encrypted),
    ("xlsm-renamed", "macro-enabled", _xlsm_renamed),
    ("macro-content-type", "macro-enabled", _macro_type_only),
    ("plain-zip", "not-a-workbook", _plain_zip),
    ("truncated", "file-truncated", _truncated),
    ("unfinished-copy", "file-truncated", _unfinished_copy),
    ("zip-bomb", "zip-bomb", _zip_bomb),
    ("lying-sizes", "zip-corrupt", _lying_sizes),
    ("lying-size-bomb", "zip-corrupt", _lying_size_bomb),
    ("bad-crc", "zip-corrupt", _bad_crc),
    ("duplicate-part", "zip-corrupt", _duplicate_part),
    ("path-traversal", "zip-corrupt", _path_traversal),
    ("too-many-parts", "too-many-parts", _too_many_parts),
    ("far-cell", "cell-out-of-range", _far_cell),
    ("far-dimension", "cell-out-of-range", _far_dimension),
    ("far-row", "cell-out-of-range", _far_row),
    ("unnumbered-cells", "cell-out-of-range", _unnumbered_cells),
    ("external-entity", "xml-doctype", _external_entity),
    ("billion-laughs", "xml-doctype", _billion_laughs),
    ("utf16-entity", "xml-doctype", _utf16_entity),
    ("utf7-entity", "xml-doctype", _utf7_entity),
]

#: Every case name, in the order ``build_corpus`` writes them.
CASE_NAMES = tuple(name for name, _, _ in _CASES)

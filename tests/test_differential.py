"""The engine reads a return as LibreOffice shows it, or refuses it: never a silent difference.

One real return (the engine's own workbook, filled in with ratings, evidence in
several scripts and nine actions) is rewritten in many ways a file can be
written: rich text and phonetic runs, inline strings, character references,
``_x000D_`` escapes, cells and rows out of order or without positions, other
text encodings, namespace prefixes, parts moved elsewhere, whitespace,
formulas, booleans, errors... and in ways no spreadsheet program writes, which
programs read differently (a hidden inline string behind a shared string, a
shared-string number that is not one).

Each variant is taken in by the engine (the real sandbox worker, pre-check and
reader) and shown by a real LibreOffice: every sheet exported as displayed, in
one ``soffice --convert-to csv`` run for all variants. What LibreOffice shows is
checked by the engine's own checks, exactly as a read return is, and the two
must agree on everything the engine keeps (each standard's rating, evidence and
notes, sign-offs, actions, findings and scores), or the engine must refuse the
file with the finding the variant names. A refused variant must really read
differently elsewhere: python-calamine's reading of it (the engine's reader
without its checks) differs from LibreOffice's.

A cell showing an error (``#N/A``) counts as empty on the LibreOffice side: the
engine reads errors as empty (an error is not an answer), and says so with a
``rating-missing`` or ``evidence-missing`` finding.
"""

from __future__ import annotations

import csv
import dataclasses
import re
import subprocess
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from engine import reader
from engine import template as T
from engine.bank import known_banks
from engine.checks import check_return
from engine.findings import ERROR
from engine.home import init_home
from engine.pipeline import Intake
from engine.sandbox import ReadFailed
from engine.scoring import score
from engine.synthetic import synthetic_actions, synthetic_answers

from .conftest import PERIOD, make_return
from .conftest_libreoffice import require_libreoffice
from .libreoffice import _SOFFICE_FLAGS, LibreOfficeError, _kill_group, soffice_path

pytestmark = pytest.mark.slow

UNIT = "M01"
NAME = T.file_name(UNIT, PERIOD)
REFUSED = "changed-outside-spreadsheet"
MAIN = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
# Every sheet, each to its own file named "<file>-<sheet>.csv": UTF-8, as displayed.
CSV_FILTER = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true,false,false,-1"
ERRORS = {"#N/A", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!"}
# Evidence in several scripts, with XML's special characters, for the encodings.
EVIDENCE = (
    "Minutes of the café meeting: £5 vouchers & “thank you” cards <kept>",
    'Ward meeting — Ελληνικά, русский, 中文 😀 "quoted"',
    "Care plans seen: ½ signed, 'most' in the person’s own words",
)


# --- the return and its parts -------------------------------------------------------------


@dataclass
class Book:
    """A workbook's parts by name, in order, with the engine's layout of them."""

    parts: dict[str, bytes]

    @classmethod
    def load(cls, path: Path) -> Book:
        with zipfile.ZipFile(path) as z:
            return cls({info.filename: z.read(info) for info in z.infolist()})

    def copy(self) -> Book:
        return Book(dict(self.parts))

    def save(self, path: Path) -> Path:
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
            for name, data in self.parts.items():
                z.writestr(zipfile.ZipInfo(name, (2026, 11, 20, 9, 0, 0)), data)
        return path

    def sheet_parts(self) -> dict[str, str]:
        """Sheet name -> part name, for the engine's own workbook."""
        workbook = self.parts["xl/workbook.xml"].decode()
        rels = self.parts["xl/_rels/workbook.xml.rels"].decode()
        targets = dict(re.findall(r'Id="([^"]+)"[^>]*Target="([^"]+)"', rels))
        found = re.findall(
            r'<sheet name="([^"]+)" sheetId="\d+"(?: state="\w+")? r:id="(\w+)"', workbook
        )
        return {name.replace("&amp;", "&"): "xl/" + targets[rid] for name, rid in found}

    def read_sheets(self) -> list[str]:
        """The parts of the sheets the engine reads."""
        return [part for name, part in self.sheet_parts().items() if name not in reader.SKIP]

    def edit(self, names, change: Callable[[bytes], bytes]) -> Book:
        for name in [names] if isinstance(names, str) else names:
            self.parts[name] = change(self.parts[name])
        return self

    def strings(self) -> list[bytes]:
        return re.findall(rb"<si>.*?</si>", self.parts["xl/sharedStrings.xml"], re.S)

    def rename(self, old: str, new: str) -> Book:
        """Move part ``old`` to ``new``, in the relationships and content types too."""
        self.parts = {new if k == old else k: v for k, v in self.parts.items()}
        rel_old, rel_new = old.removeprefix("xl/").encode(), new.removeprefix("xl/").encode()
        self.edit(
            "xl/_rels/workbook.xml.rels",
            lambda x: x.replace(b'Target="%s"' % rel_old, b'Target="%s"' % rel_new),
        )
        return self.edit(
            "[Content_Types].xml",
            lambda x: x.replace(b'"/%s"' % old.encode(), b'"/%s"' % new.encode()),
        )


_CELL = re.compile(rb'<c r="([A-Z]+)(\d+)"( s="\d+")?( t="s")?(?:/>|><v>([^<]*)</v></c>)')


def cells_at(xml: bytes, change: Callable[[str, int, re.Match], bytes | None]) -> bytes:
    """``xml`` with each plain cell replaced by ``change(column, row, match)`` when not None."""

    def put(m: re.Match) -> bytes:
        new = change(m[1].decode(), int(m[2]), m)
        return m[0] if new is None else new

    return _CELL.sub(put, xml)


def in_rows(xml: bytes, change: Callable[[list[bytes]], list[bytes]]) -> bytes:
    """``xml`` with the cells of each row changed as a list."""

    def row(m: re.Match) -> bytes:
        cells = re.findall(rb"<c [^>]*/>|<c [^>]*>.*?</c>", m[2], re.S)
        return m[1] + b"".join(change(cells)) + m[3]

    return re.sub(rb"(<row[^>]*>)(.*?)(</row>)", row, xml, flags=re.S)


_DECLARATION = re.compile(rb"\A<\?xml[^>]*\?>")


def encoded(xml: bytes, codec: str, label: str, bom: bool = False) -> bytes:
    """A part in another encoding, its declaration naming ``label``; characters the encoding
    lacks as character references, as XML allows."""
    body = _DECLARATION.sub(b"", xml).decode("utf-8")
    text = f'<?xml version="1.0" encoding="{label}" standalone="yes"?>' + body
    data = text.encode(codec, "xmlcharrefreplace")
    return ("\ufeff".encode(codec) if bom else b"") + data


def xml_parts(book: Book) -> list[str]:
    return [n for n in book.parts if n.endswith((".xml", ".rels"))]


# --- the variants ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    name: str
    change: Callable[[Book], Book]
    refused: str = ""  # the code the engine must refuse it with; "" when it reads it
    same: bool = True  # True if it shows exactly the return it was made from


def _rich_runs(book: Book) -> Book:
    def runs(m: re.Match) -> bytes:
        text = m[2]
        cut = text.find(b" ", len(text) // 2)
        if cut < 0:
            return m[0]
        first, second = text[:cut], text[cut:]
        return (
            b'<si><r><rPr><b/><sz val="11"/><rFont val="Arial"/></rPr><t xml:space="preserve">'
            + first
            + b'</t></r><r><rPr><i/></rPr><t xml:space="preserve">'
            + second
            + b"</t></r></si>"
        )

    return book.edit(
        "xl/sharedStrings.xml",
        lambda x: re.sub(rb'<si><t( xml:space="preserve")?>([^<]+)</t></si>', runs, x),
    )


def _phonetic(book: Book) -> Book:
    guide = '<rPh sb="0" eb="1"><t>よみ</t></rPh><phoneticPr fontId="1" type="noConversion"/>'
    return book.edit(
        "xl/sharedStrings.xml",
        lambda x: re.sub(rb"(<si><t[^>]*>[^<]*</t>)(</si>)", rb"\1" + guide.encode() + rb"\2", x),
    )


def _inline(book: Book, cdata: bool = False) -> Book:
    strings = [re.sub(rb"^<si>|</si>$", b"", s) for s in book.strings()]

    def inline(col: str, row: int, m: re.Match) -> bytes | None:
        if not m[4]:
            return None
        content = strings[int(m[5])]
        if cdata:
            content = re.sub(
                rb"<t([^>]*)>([^<]*)</t>",
                lambda t: b"<t%s><![CDATA[%s]]></t>" % (t[1], reader_text(t[2])),
                content,
            )
        return b'<c r="%s%d"%s t="inlineStr"><is>%s</is></c>' % (m[1], row, m[3] or b"", content)

    return book.edit(book.read_sheets(), lambda x: cells_at(x, inline))


def reader_text(escaped: bytes) -> bytes:
    """XML text unescaped, for a CDATA section (which cannot hold "]]>")."""
    return escaped.replace(b"&lt;", b"<").replace(b"&gt;", b">").replace(b"&amp;", b"&")


def _references(book: Book) -> Book:
    def refs(m: re.Match) -> bytes:
        text = m[2].replace(b"e", b"&#101;").replace(b"M", b"&#x4D;").replace(b"'", b"&apos;")
        return b"<t%s>%s</t>" % (m[1], text.replace(b'"', b"&quot;"))

    return book.edit("xl/sharedStrings.xml", lambda x: re.sub(rb"<t([^>]*)>([^<]*)</t>", refs, x))


def _area_parts(book: Book) -> list[str]:
    return [p for n, p in book.sheet_parts().items() if n not in reader.SKIP | set(reader.BLOCKS)]


def _evidence_strings(book: Book) -> set[int]:
    """The shared strings the evidence cells (column F of the standards) show."""
    found = set()
    for part in _area_parts(book):
        for m in _CELL.finditer(book.parts[part]):
            if m[1] == b"F" and m[4] and T.FIRST_STANDARD_ROW <= int(m[2]) < 16:
                found.add(int(m[5]))
    return found


def _escaped_evidence(book: Book, escape: Callable[[bytes], bytes]) -> Book:
    chosen = _evidence_strings(book)
    count = iter(range(10**6))

    def each(m: re.Match) -> bytes:
        return escape(m[0]) if next(count) in chosen else m[0]

    return book.edit(
        "xl/sharedStrings.xml", lambda x: re.sub(rb"<si>.*?</si>", each, x, flags=re.S)
    )


def _control_escapes(book: Book) -> Book:
    # A line break, a tab and text that only looks like an escape, as Excel writes them.
    return _escaped_evidence(
        book,
        lambda si: re.sub(rb"(<t[^>]*>[^< ]*) ", rb"\1_x000D__x000A_", si, count=1).replace(
            b"</t>", b"_x0009_(_x005F_x0041_)</t>", 1
        ),
    )


def _reverse_cells(book: Book) -> Book:
    return book.edit(book.read_sheets(), lambda x: in_rows(x, lambda cells: cells[::-1]))


def _reverse_rows(book: Book) -> Book:
    def rows(m: re.Match) -> bytes:
        found = re.findall(rb"<row[^>]*/>|<row[^>]*>.*?</row>", m[1], re.S)
        return b"<sheetData>" + b"".join(found[::-1]) + b"</sheetData>"

    return book.edit(
        book.read_sheets(), lambda x: re.sub(rb"<sheetData>(.*)</sheetData>", rows, x, flags=re.S)
    )


def _no_cell_positions(book: Book) -> Book:
    return book.edit(book.read_sheets(), lambda x: re.sub(rb'<c r="[A-Z]+\d+"', b"<c", x))


def _no_row_positions(book: Book) -> Book:
    def rows(xml: bytes) -> bytes:
        out, last = [], 0

        def row(m: re.Match) -> bytes:
            nonlocal last
            number = int(m[1])
            gap = b"<row></row>" * (number - last - 1)  # rows no one wrote, kept as empty ones
            last = number
            return gap + b"<row" + m[2]

        out = re.sub(rb'<row r="(\d+)"([ />])', row, xml)
        return out

    return book.edit(book.read_sheets(), rows)


def _encoding(codec: str, label: str, bom: bool, parts: str = "all") -> Callable[[Book], Book]:
    def change(book: Book) -> Book:
        names = {
            "all": xml_parts(book),
            "sheets": book.read_sheets(),
            "strings": ["xl/sharedStrings.xml"],
        }[parts]
        return book.edit(names, lambda x: encoded(x, codec, label, bom))

    return change


def _utf8_bom(book: Book) -> Book:
    return book.edit(xml_parts(book), lambda x: b"\xef\xbb\xbf" + x)


_PREFIXED = re.compile(rb"<(/?)(sheetData|row|c|v|f|is|t|r|rPr|si|sst|sheets|sheet)(?=[\s/>])")


def _prefix(names: Callable[[Book], list[str]], root: bytes) -> Callable[[Book], Book]:
    def change(book: Book) -> Book:
        def prefixed(xml: bytes) -> bytes:
            xml = _PREFIXED.sub(rb"<\1x:\2", xml)
            return xml.replace(b"<" + root + b" ", b"<" + root + b' xmlns:x="' + MAIN + b'" ', 1)

        return book.edit(names(book), prefixed)

    return change


def _prefixed_strings(book: Book) -> Book:
    def prefixed(xml: bytes) -> bytes:
        xml = _PREFIXED.sub(rb"<\1x:\2", xml)
        return xml.replace(b"<x:sst ", b'<x:sst xmlns:x="' + MAIN + b'" ', 1)

    return book.edit("xl/sharedStrings.xml", prefixed)


def _moved_sheets(book: Book) -> Book:
    for part in book.read_sheets():
        book.rename(part, part.replace("xl/worksheets/sheet", "xl/pages/page"))
    return book


def _moved_strings(book: Book) -> Book:
    return book.rename("xl/sharedStrings.xml", "xl/text/strings.xml")


def _absolute_targets(book: Book) -> Book:
    return book.edit(
        "xl/_rels/workbook.xml.rels", lambda x: x.replace(b'Target="', b'Target="/xl/')
    )


def _pretty(newline: bytes) -> Callable[[Book], Book]:
    def change(book: Book) -> Book:
        # Between tags, never inside a text, value or formula.
        return book.edit(
            [*book.read_sheets(), "xl/sharedStrings.xml", "xl/workbook.xml"],
            lambda x: re.sub(rb">(?=<(?!/(?:t|v|f)>))", b">" + newline + b"  ", x),
        )

    return change


def _loose_tags(book: Book) -> Book:
    def loose(col: str, row: int, m: re.Match) -> bytes:
        style = m[3].strip().replace(b'"', b"'") if m[3] else b""
        kind = b'  t = "s"' if m[4] else b""
        head = b"<c\n r = '%s%d' %s%s " % (m[1], row, style, kind)
        return head + (b"/>" if m[5] is None else b"><v>%s</v></c >" % m[5])

    return book.edit(book.read_sheets(), lambda x: cells_at(x, loose))


def _label_cells(book: Book, change: Callable[[bytes, bytes, bytes], bytes | None]) -> Book:
    """Rating cells (column E of the standards) changed as ``change(ref, style, label)``."""
    strings = [re.sub(rb"<[^>]+>", b"", s) for s in book.strings()]

    def each(col: str, row: int, m: re.Match) -> bytes | None:
        if col != "E" or not m[4] or not T.FIRST_STANDARD_ROW <= row < 16:
            return None
        return change(b"E%d" % row, m[3] or b"", strings[int(m[5])])

    return book.edit(_area_parts(book), lambda x: cells_at(x, each))


def _formulas(book: Book) -> Book:
    return _label_cells(
        book,
        lambda ref, style, label: (
            b'<c r="%s"%s t="str"><f>"%s"</f><v>%s</v></c>' % (ref, style, label, label)
        ),
    )


def _evidence_as(values: dict[int, bytes]) -> Callable[[Book], Book]:
    """Evidence cells of the first area rewritten: row -> the XML after the cell's style."""

    def change(book: Book) -> Book:
        def each(col: str, row: int, m: re.Match) -> bytes | None:
            if col != "F" or row not in values:
                return None
            return b'<c r="F%d"%s%s</c>' % (row, m[3] or b"", values[row])

        return book.edit(book.sheet_parts()["1 Involvement"], lambda x: cells_at(x, each))

    return change


def _comments(book: Book) -> Book:
    return book.edit(book.read_sheets(), lambda x: x.replace(b"</c><c ", b"</c><!-- seen --><c "))


def _first_area(change: Callable[[bytes], bytes]) -> Callable[[Book], Book]:
    return lambda book: book.edit(book.sheet_parts()["1 Involvement"], change)


def _first_area_cell(
    ref: str, inner: Callable[[Book, bytes | None], bytes]
) -> Callable[[Book], Book]:
    """Cell ``ref`` of the first area rewritten: ``inner(book, its value)`` is the XML after
    its style."""
    col, row = ref[0], int(ref[1:])

    def change(book: Book) -> Book:
        def each(c: str, r: int, m: re.Match) -> bytes | None:
            if (c, r) != (col, row):
                return None
            return b'<c r="%s"%s%s</c>' % (ref.encode(), m[3] or b"", inner(book, m[5]))

        return book.edit(book.sheet_parts()["1 Involvement"], lambda x: cells_at(x, each))

    return change


def _rating_cell(inner: Callable[[Book, bytes], bytes]) -> Callable[[Book], Book]:
    """The first rating (E6 of the first area, Not met) rewritten."""
    return _first_area_cell(f"E{T.FIRST_STANDARD_ROW}", inner)


def _hidden_met(book: Book, index: bytes) -> bytes:
    return b' t="s"><v>%s</v><is><t>Met</t></is>' % index


def _then(*changes: Callable[[Book], Book]) -> Callable[[Book], Book]:
    def change(book: Book) -> Book:
        for each in changes:
            book = each(book)
        return book

    return change


def _index_of(book: Book, label: bytes) -> bytes:
    texts = [re.sub(rb"<[^>]+>", b"", s) for s in book.strings()]
    return b"%d" % texts.index(label)


VARIANTS = [
    Variant("as-generated", lambda book: book),
    Variant("rich-text-runs", _rich_runs),
    Variant("phonetic-runs", _phonetic),
    Variant("inline-strings", _inline),
    Variant("inline-strings-cdata", lambda book: _inline(book, cdata=True)),
    Variant("character-references", _references),
    Variant("control-escapes", _control_escapes, same=False),
    Variant("cells-out-of-order", _reverse_cells),
    Variant("rows-out-of-order", _reverse_rows),
    Variant("cells-without-positions", _no_cell_positions),
    Variant("rows-without-positions", _no_row_positions),
    Variant("utf16-le-bom", _encoding("utf-16-le", "UTF-16", bom=True)),
    Variant("utf16-be-bom", _encoding("utf-16-be", "UTF-16", bom=True)),
    Variant("utf16-le-declared", _encoding("utf-16-le", "UTF-16LE", bom=False, parts="sheets")),
    Variant("iso-8859-1-strings", _encoding("latin-1", "ISO-8859-1", bom=False, parts="strings")),
    Variant("windows-1252", _encoding("cp1252", "windows-1252", bom=False)),
    Variant("utf8-bom", _utf8_bom),
    Variant("prefixed-sheets", _prefix(Book.read_sheets, b"worksheet")),
    Variant("prefixed-strings", _prefixed_strings),
    Variant("prefixed-workbook", _prefix(lambda book: ["xl/workbook.xml"], b"workbook")),
    Variant("moved-sheets", _moved_sheets),
    Variant("moved-strings", _moved_strings),
    Variant("absolute-targets", _absolute_targets),
    Variant("indented", _pretty(b"\n")),
    Variant("crlf-lines", _pretty(b"\r\n")),
    Variant("loose-tags", _loose_tags),
    Variant(
        "end-tags-with-spaces",
        lambda book: book.edit(
            _area_parts(book), lambda x: re.sub(rb'(<c r="E[^>]*>.*?)</c>', rb"\1</c >", x)
        ),
    ),
    Variant("comments", _comments),
    Variant("formulas-with-results", _formulas),
    Variant(
        "booleans-numbers-errors",
        _evidence_as(
            {
                6: b' t="b"><v>1</v>',
                7: b' t="b"><v>0</v>',
                8: b"><v>42.5</v>",
                9: b' t="e"><f>NA()</f><v>#N/A</v>',
                10: b' t="str"><f>"Seen "&amp;"twice"</f><v>Seen twice</v>',
            }
        ),
        same=False,
    ),
    Variant("empty-values", _evidence_as({6: b' t="s"><v/>', 7: b' t="str"><v></v>'}), same=False),
    Variant("leading-zeros", _rating_cell(lambda book, index: b' t="s"><v>000%s</v>' % index)),
    # Written as no spreadsheet program writes them, and read differently by programs.
    Variant("met-behind-not-met", _rating_cell(_hidden_met), REFUSED),
    Variant(
        "met-behind-not-met-prefixed",
        _then(_rating_cell(_hidden_met), _prefix(Book.read_sheets, b"worksheet")),
        REFUSED,
    ),
    Variant(
        "met-behind-not-met-utf16",
        _then(_rating_cell(_hidden_met), _encoding("utf-16-le", "UTF-16", bom=True)),
        REFUSED,
    ),
    Variant(
        "met-behind-a-number", _rating_cell(lambda b, i: b"><v>7</v><is><t>Met</t></is>"), REFUSED
    ),
    Variant(
        "value-and-inline-string",
        _rating_cell(lambda b, i: b' t="inlineStr"><v>Not met</v><is><t>Met</t></is>'),
        REFUSED,
    ),
    Variant("index-out-of-range", _rating_cell(lambda b, i: b' t="s"><v>99999</v>'), REFUSED),
    Variant(
        "index-not-an-integer",
        _rating_cell(lambda book, i: b' t="s"><v>%s.0</v>' % _index_of(book, b"Met")),
        REFUSED,
    ),
    Variant(
        "formula-in-a-shared-string",
        _rating_cell(lambda b, i: b' t="s"><f>"%s"</f><v>%s</v>' % (b"Met", i)),
        REFUSED,
    ),
    Variant("boolean-as-a-word", _evidence_as({6: b' t="b"><v>true</v>'}), REFUSED),
    Variant(
        "date-with-spaces",
        _first_area_cell(T.SIGNOFF_CELLS["date_agreed"], lambda book, v: b"><v> %s </v>" % v),
        REFUSED,
    ),
    Variant(
        "escape-programs-decode-differently",
        lambda book: _escaped_evidence(book, lambda si: si.replace(b"</t>", b"_x00E9_</t>", 1)),
        REFUSED,
    ),
    Variant(
        "run-spaces-not-preserved",
        lambda book: _escaped_evidence(
            book,
            lambda si: re.sub(
                rb'<si><t xml:space="preserve">([^ <]+) ([^<]*)</t></si>',
                rb"<si><r><t>\1</t></r><r><t> \2</t></r></si>",
                si,
            ),
        ),
        REFUSED,
    ),
    Variant(
        "sheet-in-another-namespace",
        _first_area(lambda x: x.replace(b'xmlns="' + MAIN + b'"', b'xmlns="urn:not-excel"', 1)),
        REFUSED,
    ),
    Variant(
        "strings-not-related",
        lambda book: book.edit(
            "xl/_rels/workbook.xml.rels",
            lambda x: re.sub(rb"<Relationship [^>]*/sharedStrings\"[^>]*/>", b"", x),
        ),
        REFUSED,
    ),
    Variant(
        "attribute-written-twice",
        _first_area(lambda x: x.replace(b'<c r="F9" ', b'<c r="F9" s="11" ', 1)),
        REFUSED,
    ),
]


# --- what each side reads -------------------------------------------------------------------


def convert_all(files: list[Path], outdir: Path, timeout: float = 300.0) -> None:
    """Every sheet of every file as displayed, in one ``soffice --convert-to csv`` run."""
    with tempfile.TemporaryDirectory(prefix="sequin-lo-csv-") as profile:
        proc = subprocess.Popen(
            [
                soffice_path(),
                *_SOFFICE_FLAGS,
                f"-env:UserInstallation={Path(profile).as_uri()}",
                "--convert-to",
                CSV_FILTER,
                "--outdir",
                str(outdir),
                *map(str, files),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        try:
            proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise LibreOfficeError(
                f"converting {len(files)} files took over {timeout:.0f} s"
            ) from None
        finally:
            _kill_group(proc, grace=2.0)


def shown(outdir: Path, stem: str, sheets: list[list[str]]) -> dict:
    """What LibreOffice displays, in the shape the engine's reader gives (errors as empty)."""
    cells = {}
    for name, _visible in sheets:
        if name in reader.SKIP:
            continue
        path = outdir / f"{stem}-{name}.csv"
        rows = list(csv.reader(path.open(encoding="utf-8", newline=""))) if path.exists() else []
        entries = [
            (r, c, "" if value in ERRORS else value)
            for r, row in enumerate(rows, 1)
            for c, value in enumerate(row, 1)
        ]

        def upto(last_row: int, last_col: int, entries=entries):
            return ((r, c, v) for r, c, v in entries if r <= last_row and c <= last_col)

        cells[name] = reader.sheet_cells(name, upto)
    return {"sheets": sheets, "cells": cells, "saved_at": ""}


def answers(home, findings, ret) -> dict:
    """Everything the engine keeps of a return, to compare."""
    if ret is None:
        return {"findings": sorted((f.code, f.sheet, f.cell) for f in findings)}
    bank = home.bank()
    return {
        "findings": sorted((f.code, f.sheet, f.cell, f.question_id) for f in findings),
        "answers": [dataclasses.astuple(a) for a in ret.answers],
        "signoffs": [dataclasses.astuple(s) for s in ret.signoffs],
        "actions": [dataclasses.astuple(a) for a in ret.actions],
        "scores": score(bank, home.network, ret.ratings()).to_dict(),
    }


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """Each variant: what the engine, python-calamine and LibreOffice read of it."""
    require_libreoffice()
    tmp = tmp_path_factory.mktemp("differential")
    home = init_home(tmp / "home")
    bank = home.bank()
    cells = synthetic_answers(bank, home.network, UNIT, PERIOD)
    cells.update(synthetic_actions(bank, UNIT, PERIOD, count=9))
    sheet = T.area_sheet_name(1, bank.areas[0].short_name)
    for pos, text in enumerate(EVIDENCE):
        cells[(sheet, T.answer_cells(pos).evidence)] = text
    cells[(sheet, T.answer_cells(0).rating)] = "Not met"  # a Met hidden behind it matters
    base = Book.load(make_return(home, UNIT, cells=cells, folder=tmp / "base"))

    files = {}
    for variant in VARIANTS:
        files[variant.name] = variant.change(base.copy()).save(tmp / f"{variant.name}.xlsx")
    started = time.monotonic()
    convert_all(list(files.values()), tmp / "csv")
    converted = time.monotonic() - started

    banks, secret = known_banks(home.banks_dir), home.secret()

    def check(raw: dict) -> dict:
        findings, ret = check_return(
            raw, network=home.network, banks=banks, secret=secret, file_name=NAME
        )
        return answers(home, findings, ret)

    results = {}
    with Intake(home) as intake:
        sheets = intake.sandbox.read(files["as-generated"])["ok"]["sheets"]
        for variant in VARIANTS:
            path = files[variant.name]
            v = intake.validate(path, NAME)
            try:
                answer = intake.sandbox.read(path)
            except ReadFailed:
                answer = {"read_by": "failed"}
            try:
                calamine = check(reader.read_return(str(path)))
            except Exception as exc:  # noqa: BLE001 - python-calamine refusing is a difference too
                calamine = {"failed": type(exc).__name__}
            results[variant.name] = {
                "engine": answers(home, v.findings, v.ret),
                "valid": not any(f.severity == ERROR for f in v.findings),
                "read_by": answer.get("read_by", "refused"),
                "calamine": calamine,
                "shown": check(shown(tmp / "csv", variant.name, sheets)),
            }
    results["as-generated"]["seconds"] = converted
    return results


# --- the comparison ---------------------------------------------------------------------------


def test_there_are_enough_variants_of_each_kind():
    assert len(VARIANTS) >= 30 and len({v.name for v in VARIANTS}) == len(VARIANTS)
    assert sum(not v.refused for v in VARIANTS) >= 30


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.name)
def test_the_engine_reads_what_libreoffice_shows_or_refuses(compared, variant):
    got = compared[variant.name]
    if variant.refused:
        refused = {code for code, *_where in got["engine"]["findings"]}
        assert not got["valid"] and refused == {variant.refused}, got["engine"]["findings"]
        assert got["calamine"] != got["shown"], "refused, yet every reader reads it alike"
        return
    assert got["engine"] == got["shown"], f"{variant.name}: the engine reads another return"
    if variant.same:
        assert got["shown"] == compared["as-generated"]["shown"], "the variant changed the return"


def test_the_return_itself_is_valid_and_read_in_full(compared):
    base = compared["as-generated"]
    assert base["valid"] and base["read_by"] == "fast"
    assert len(base["engine"]["answers"]) == 120 and len(base["engine"]["actions"]) == 9
    evidence = {a[0]: a[3] for a in base["engine"]["answers"]}
    assert evidence["INV-02"] == EVIDENCE[1]
    print(f"\nLibreOffice converted {len(VARIANTS)} variants in {base['seconds']:.1f} s")


def test_both_readers_take_part(compared):
    """Plain variants go the fast way, unusual ones to python-calamine: both are compared."""
    read_by = {compared[v.name]["read_by"] for v in VARIANTS if not v.refused}
    assert read_by == {"fast", "calamine"}

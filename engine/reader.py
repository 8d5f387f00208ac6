"""The reader: the raw values of a returned workbook, read by position, nothing interpreted.

A unit's return (either unit form) and a family and friends response are read
alike: each sheet by its name, only the cells the template uses.

Runs inside the sandbox worker process on files that passed the pre-check.
It imports only python-calamine (and defusedxml, for the thorough check of
unusual files), so the worker stays small. Values come back
as plain Python (str, float, bool, or ``{"date": iso}``) so they cross a pipe.

Two things stand between a file and python-calamine, because a return must
read as a spreadsheet shows it:

* **Text encodings and part names.** An XML part may be written in UTF-16 or
  a single-byte encoding its declaration names, and the shared strings and
  styles may lie wherever the workbook's relationships say; Excel and
  LibreOffice read them so, while python-calamine reads every part as UTF-8
  (a UTF-16 sheet as empty) and those two parts at fixed names.
  :func:`read_return` hands python-calamine a copy it reads as spreadsheets
  do (:func:`calamine_copy`).
* **Cells that read differently in different programs** (:func:`check_cells`).
  A cell typed as a shared string that also carries an inline string, a
  shared-string number that is not one (or points past the table), a
  boolean written ``true``: Excel and LibreOffice show one thing and
  python-calamine reads another. Files saved by a spreadsheet program never
  hold these, so such a cell is refused (:class:`Unclear`) rather than read.
  Only the cells the engine reads count (:func:`is_read`).
"""

from __future__ import annotations

import codecs
import datetime as dt
import functools
import hashlib
import io
import posixpath
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator

from . import template as T
from .findings import Finding, error
from .precheck import column_letters

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Columns holding the locked wording of each standard: sent back as a digest,
# which is all the checks need, instead of the whole text.
_WORDING_COLUMNS = {2, 3}
_STANDARD_ROWS = range(T.FIRST_STANDARD_ROW, T.FIRST_STANDARD_ROW + T.STANDARDS_PER_AREA)
_SIGNOFF_COL = ord(T.SIGNOFF_COL) - 64


def wording_digest(value) -> str:
    """A short fingerprint of a cell's wording, ignoring spacing and invisible characters."""
    return _digest(value if type(value) is str else str(value))


@functools.lru_cache(maxsize=4096)  # the same standards' wording, file after file
def _digest(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    text = " ".join(_CONTROL.sub("", text).split())
    return hashlib.blake2b(text.encode("utf-8"), digest_size=12).hexdigest()


_SKIP = {T.START_SHEET, T.SUMMARY_SHEET, T.LISTS_SHEET}
_AREA_LAST_ROW = T.SIGNOFF_DATE_ROW
_AREA_LAST_COL = max(layout.last_col for layout in T.LAYOUTS.values())  # G (unit/2)
_ACTION_ROWS = (T.FIRST_ACTION_ROW, T.FIRST_ACTION_ROW + T.ACTION_ROWS - 1)
_ACTION_COLS = (1, 6)  # A Ref to F Status; G (history) is the engine's own
_FAMILY_ROWS = (T.FIRST_FAMILY_ROW, T.FIRST_FAMILY_ROW + 11)  # the 12 areas
_FAMILY_COLS = (2, T.FAMILY_LAST_COL)  # B part of ward life to E comment
_FAMILY_SKIP_COL = ord(T.FAMILY_COL_RESULT) - 64  # what the ward said: not checked


def _plain(value):
    if type(value) is str:
        return value
    if isinstance(value, (dt.datetime, dt.date)):
        return {"date": value.isoformat()}
    if isinstance(value, dt.time):
        return {"time": value.isoformat()}
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    return value


def _rows(sheet) -> tuple[list[list], int, int]:
    """The sheet's rows, with the 0-based row and column of the first one.

    With ``skip_empty_area=False`` python-calamine returns rows from A1 on, whatever
    the first used cell (a sheet whose row 1 or column A is empty included). Should
    a version return them from the first used cell instead, that cell's position is
    taken as the offset, so values never land in the wrong cells.
    """
    rows = sheet.to_python(skip_empty_area=False)
    start, end = sheet.start, getattr(sheet, "end", None)
    if not start or not end or start == (0, 0) or not rows:
        return rows, 0, 0
    trimmed = len(rows) == end[0] - start[0] + 1 and len(rows[0]) == end[1] - start[1] + 1
    return (rows, start[0], start[1]) if trimmed else (rows, 0, 0)


def _entries(sheet, last_row: int, last_col: int) -> Iterator[tuple[int, int, object]]:
    """``(row, column, value)`` of the sheet's cells up to ``(last_row, last_col)``, 1-based."""
    rows, start_row, start_col = _rows(sheet)
    for r, row in enumerate(rows):
        row_no = start_row + r + 1
        if row_no > last_row:
            break
        for c, value in enumerate(row):
            col_no = start_col + c + 1
            if col_no > last_col:
                break
            yield row_no, col_no, value


def area_cells(entries: Iterable[tuple[int, int, object]]) -> dict[str, object]:
    """Non-empty cells of an area sheet, keyed by A1 reference, the wording as digests.

    ``entries`` are ``(row, column, value)`` within A1 to (sign-off date row, G), in order.
    """
    out: dict[str, object] = {}
    for row_no, col_no, value in entries:
        if value == "" or value is None:
            continue
        if row_no not in _STANDARD_ROWS and (
            row_no < T.FIRST_STANDARD_ROW or col_no != _SIGNOFF_COL
        ):
            continue  # titles, headers and sign-off labels: the template's own text
        if col_no in _WORDING_COLUMNS and row_no in _STANDARD_ROWS:
            out[f"{chr(64 + col_no)}{row_no}"] = {"digest": wording_digest(value)}
            continue
        out[f"{chr(64 + col_no)}{row_no}"] = _plain(value)
    return out


def block_cells(
    entries: Iterable[tuple[int, int, object]], first_row: int, first_col: int, skip_col: int = 0
) -> dict:
    """Non-empty cells from ``(first_row, first_col)`` on, keyed by A1 reference, in order.

    ``entries`` are ``(row, column, value)`` already within the block's last row and column.
    """
    out: dict[str, object] = {}
    for row_no, col_no, value in entries:
        if row_no < first_row or col_no < first_col or col_no == skip_col:
            continue
        if value == "" or value is None:
            continue
        out[f"{chr(64 + col_no)}{row_no}"] = _plain(value)
    return out


#: What is read of each sheet: (first row, first column, last row, last column, column
#: skipped), 1-based; area sheets (every sheet not named here) use ``AREA_BOUNDS``.
BLOCKS = {
    T.META_SHEET: (1, 1, len(T.META_ROWS), 2, 0),
    T.ACTIONS_SHEET: (*_ACTION_ROWS[:1], _ACTION_COLS[0], _ACTION_ROWS[1], _ACTION_COLS[1], 0),
    T.FAMILY_SHEET: (
        _FAMILY_ROWS[0],
        _FAMILY_COLS[0],
        _FAMILY_ROWS[1],
        _FAMILY_COLS[1],
        _FAMILY_SKIP_COL,
    ),
}
AREA_BOUNDS = (_AREA_LAST_ROW, _AREA_LAST_COL)
SKIP = _SKIP


def sheet_cells(name: str, entries_upto) -> dict:
    """The cells read of sheet ``name``; ``entries_upto(last_row, last_col)`` gives its entries."""
    block = BLOCKS.get(name)
    if block is None:
        return area_cells(entries_upto(*AREA_BOUNDS))
    first_row, first_col, last_row, last_col, skip_col = block
    return block_cells(entries_upto(last_row, last_col), first_row, first_col, skip_col)


def is_read(name: str, row: int, col: int) -> bool:
    """True if the engine reads the cell at ``row``, ``col`` (1-based) of sheet ``name``.

    The same cells :func:`sheet_cells` keeps (empty or not): a cell outside them
    cannot change what the engine reads, whatever it holds.
    """
    if name in _SKIP:
        return False
    block = BLOCKS.get(name)
    if block is None:
        if row > _AREA_LAST_ROW or col > _AREA_LAST_COL:
            return False
        return row in _STANDARD_ROWS or (row >= T.FIRST_STANDARD_ROW and col == _SIGNOFF_COL)
    first_row, first_col, last_row, last_col, skip_col = block
    return first_row <= row <= last_row and first_col <= col <= last_col and col != skip_col


_MODIFIED = re.compile(rb"<dcterms:modified\b[^>]*>\s*([^<]{1,64}?)\s*</dcterms:modified>")


def saved_at(path: str | io.BytesIO) -> str:
    """When the workbook was last saved, from ``docProps/core.xml``, as ISO 8601 UTC; or ``""``.

    Excel and LibreOffice set it on every save; a workbook that nobody saved
    keeps the time the engine wrote into it. Only a plain timestamp is taken.
    """
    try:
        with zipfile.ZipFile(path) as zf:
            info = zf.getinfo("docProps/core.xml")
            if info.file_size > CORE_LIMIT:
                return ""
            return saved_at_from(zf.read(info))
    except (KeyError, OSError, zipfile.BadZipFile, ValueError, EOFError):
        return ""


#: A real ``docProps/core.xml`` is under 1 KB; a larger one is not looked at.
CORE_LIMIT = 64 * 1024


def saved_at_from(core: bytes) -> str:
    """:func:`saved_at` from the bytes of ``docProps/core.xml``, in whatever encoding it names."""
    if not core.startswith(_UTF8_DECLARATION):
        try:
            core = utf8_xml(core) or core
        except ValueError:
            return ""
    m = _MODIFIED.search(core)
    if not m:
        return ""
    try:
        when = dt.datetime.fromisoformat(m.group(1).decode("ascii").replace("Z", "+00:00"))
    except (UnicodeDecodeError, ValueError):
        return ""
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return when.astimezone(dt.timezone.utc).replace(microsecond=0).isoformat()


def read_return(path: str) -> dict:
    """Sheet names, visibility, the cells the template uses, and when the file was saved.

    Area sheets are read to column G (the widest unit form) with the locked wording
    as digests; the Actions sheet (rows 6-35, A:F), the family form's sheet (the 12
    area rows, B, D and E) and Metadata (up to 6 rows, A:B) as raw values. A file
    python-calamine would read otherwise than a spreadsheet program is read through
    a copy (see :func:`calamine_copy`).

    Returns ``{"sheets": [[name, visibility], ...], "cells": {sheet: {ref: value}},
    "saved_at": iso or ""}``.
    """
    from python_calamine import CalamineWorkbook

    copy = calamine_copy(path)
    saved = saved_at(copy if copy is not None else path)
    if copy is not None:
        copy.seek(0)
        wb = CalamineWorkbook.from_filelike(copy)
    else:
        wb = CalamineWorkbook.from_path(path)
    sheets = [[m.name, str(m.visible).rsplit(".", 1)[-1].lower()] for m in wb.sheets_metadata]
    cells: dict[str, dict] = {}
    for name, _visible in sheets:
        if name in _SKIP:
            continue
        sheet = wb.get_sheet_by_name(name)
        cells[name] = sheet_cells(name, lambda rows, cols, sheet=sheet: _entries(sheet, rows, cols))
    return {"sheets": sheets, "cells": cells, "saved_at": saved}


# --- text encodings -------------------------------------------------------------------

_UTF8_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"'
_DECLARED = re.compile(rb"\s*<\?xml[^>]*?\sencoding\s*=\s*[\"']([A-Za-z0-9._:\-]{1,40})[\"']")
_DECLARED_TEXT = re.compile(r"\A(\s*<\?xml[^>]*?\sencoding\s*=\s*[\"'])[A-Za-z0-9._:\-]{1,40}")
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def xml_encoding(data: bytes) -> tuple[str, int]:
    """The text encoding of an XML part (a Python codec name), and its byte order mark's length.

    As XML decides it: a byte order mark first; then UTF-16 by its first character
    (``<`` with a zero byte after or before it); then the encoding the declaration
    names; UTF-8 when it names none. The pre-check has already refused the
    encodings that could hide markup from its scan (UTF-32, UTF-7, EBCDIC).
    Raises ``ValueError`` for an encoding Python does not know.
    """
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name, len(bom)
    if data.startswith(b"<\x00"):
        return "utf-16-le", 0
    if data.startswith(b"\x00<"):
        return "utf-16-be", 0
    match = _DECLARED.match(data)
    if match is None:
        return "utf-8", 0
    try:
        return codecs.lookup(match.group(1).decode("ascii")).name, 0
    except LookupError:
        raise ValueError(f"unknown text encoding {match.group(1)!r}") from None


def _plain_utf8(head: bytes) -> bool:
    """True if an XML part starting with ``head`` is UTF-8 without a byte order mark."""
    return head.startswith(_UTF8_DECLARATION) or (
        head[:1] == b"<" and xml_encoding(head)[0] == "utf-8"
    )


def xml_text(data: bytes) -> str:
    """An XML part as text, decoded as it says; its declaration, if any, then names UTF-8.

    Raises ``ValueError`` (``UnicodeDecodeError`` is one) when the part is not
    written in the encoding it names, or names one Python does not know.
    """
    encoding, skip = xml_encoding(data)
    text = data[skip:].decode(encoding)
    if encoding != "utf-8":
        text = _DECLARED_TEXT.sub(r"\1UTF-8", text, count=1)
    return text


def utf8_xml(data: bytes) -> bytes | None:
    """An XML part re-encoded as UTF-8 (see :func:`xml_text`), or ``None`` if it already is."""
    if _plain_utf8(data[:256]):
        return None
    return xml_text(data).encode("utf-8")


_XML_PART_NAMES = (".xml", ".rels")
_WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"
#: Where python-calamine looks for these parts, whatever the relationships say.
_FIXED_PARTS = {"sharedStrings": "xl/sharedStrings.xml", "styles": "xl/styles.xml"}


def _relationships(zf: zipfile.ZipFile) -> dict[str, str] | None:
    """The workbook's relationships: id -> part name, and type (``sharedStrings``...) -> part
    name for the first of each type; ``None`` without them. Raises ``ValueError`` when the
    part is damaged."""
    from defusedxml import ElementTree

    try:
        data = zf.read(_WORKBOOK_RELS)
    except KeyError:
        return None
    try:
        root = ElementTree.fromstring(xml_text(data))
    except ElementTree.ParseError as exc:
        raise ValueError(str(exc)) from None
    found: dict[str, str] = {}
    for rel in root.iter():
        if _split(rel.tag)[1] != "Relationship":
            continue
        target = rel.get("Target", "").replace("\\", "/")
        target = target[1:] if target.startswith("/") else posixpath.join("xl", target)
        name = posixpath.normpath(target)
        found.setdefault(rel.get("Id", ""), name)
        found.setdefault("type:" + rel.get("Type", "").rsplit("/", 1)[-1], name)
    return found


def calamine_copy(path) -> io.BytesIO | None:
    """A copy of the workbook python-calamine reads as spreadsheet programs read it, or ``None``
    when it reads the file itself so.

    python-calamine reads every part as UTF-8, and takes the shared strings and the
    styles from ``xl/sharedStrings.xml`` and ``xl/styles.xml`` whatever the
    relationships say. The copy has every XML part in UTF-8, and there the parts
    the relationships name (or none, if they name none). Only the first bytes of
    each part are read to tell; the pre-check has bounded every part's size.
    Raises ``ValueError`` when a part is not written in the encoding it names.
    """
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
        names = {info.filename for info in infos}
        odd = set()
        for info in infos:
            if info.filename.lower().endswith(_XML_PART_NAMES):
                with zf.open(info) as fh:
                    if not _plain_utf8(fh.read(256)):
                        odd.add(info.filename)
        moved: dict[str, str | None] = {}
        rels = _relationships(zf)
        for kind, fixed in _FIXED_PARTS.items() if rels is not None else ():
            named = rels.get("type:" + kind)
            if named != fixed and (fixed in names or named in names):
                moved[fixed] = named if named in names else None
        if not odd and not moved:
            return None
        copy = io.BytesIO()
        with zipfile.ZipFile(copy, "w", zipfile.ZIP_DEFLATED) as out:
            for info in infos:
                if info.filename not in moved:
                    out.writestr(info, _as_utf8(zf.read(info), info.filename in odd))
            for fixed, named in moved.items():
                if named is not None:
                    data = zf.read(named)
                    out.writestr(fixed, _as_utf8(data, not _plain_utf8(data[:256])))
    copy.seek(0)
    return copy


def _as_utf8(data: bytes, odd: bool) -> bytes:
    return xml_text(data).encode("utf-8") if odd else data


# --- cells that read differently in different programs -------------------------------


class Unclear(Exception):
    """A cell the engine reads would show differently in different programs.

    ``finding`` (code ``changed-outside-spreadsheet``) says which cell and what to do.
    """

    def __init__(self, finding: Finding):
        super().__init__(finding.message)
        self.finding = finding


# What is wrong with a cell, completing "cell E6 on sheet '1 Involvement' ...".
HIDDEN = "holds a second, hidden value besides the one it shows"
MISSING_TEXT = "points to a text that is not in the file"
TEXT_NUMBER = "points to its text in a way Excel never writes"
FORMULA = "holds a formula written in a way Excel never writes"
BOOLEAN = "holds a TRUE or FALSE written in a way Excel never writes"
NUMBER = "holds a number written in a way Excel never writes"
CODED = "holds text with a coded character (such as _x0041_) that programs decode differently"
SPACES = "holds formatted text whose spaces programs keep or drop differently"
STRUCTURE = "is written in a way Excel never writes"


def unclear_cell(sheet: str, cell: str, what: str) -> Unclear:
    """The refusal of cell ``cell`` of ``sheet``; ``what`` is one of the phrases above."""
    return Unclear(
        error(
            "changed-outside-spreadsheet",
            f"This file was changed outside a spreadsheet program: cell {cell} on sheet "
            f"'{sheet}' {what}. Excel, LibreOffice and SeQuIn could each show something "
            "different in that cell, so the file was not read. Ask the unit to open the "
            "return in Excel, check that cell, save it and send it again (or copy their "
            "answers into a fresh copy of the workbook they were sent).",
            sheet=sheet,
            cell=cell,
        )
    )


def unclear_part(what: str, sheet: str = "") -> Unclear:
    """The refusal of a whole part: ``what`` completes "This file was changed ...: ..."."""
    return Unclear(
        error(
            "changed-outside-spreadsheet",
            f"This file was changed outside a spreadsheet program: {what}, so Excel, "
            "LibreOffice and SeQuIn could each show something different. It was not read. "
            "Ask the unit to open the return in Excel, save it and send it again (or copy "
            "their answers into a fresh copy of the workbook they were sent).",
            sheet=sheet,
        )
    )


_XESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def unclear_escapes(text: str) -> bool:
    """True if ``text`` holds an ``_xHHHH_`` escape that programs decode differently.

    Excel decodes every one; LibreOffice only control characters and ``_x005F_``;
    python-calamine any up to ``_x00FF_``. They agree on the control characters
    (``_x0001_`` to ``_x001F_``: a tab, a line break, a carriage return) and on
    ``_x005F_``, which Excel writes before text that only looks like an escape.
    Escapes are read left to right, as every reader reads them.
    """
    for match in _XESCAPE.finditer(text):
        code = int(match.group(1), 16)
        if not (0 < code < 0x20 or code == 0x5F):
            return True
    return False


#: Worksheets and shared strings in Excel's namespace (transitional, or strict).
MAIN_NAMESPACES = frozenset(
    {
        "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
        "http://purl.oclc.org/ooxml/spreadsheetml/main",
    }
)
_XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
_NUMBER = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_CELL_REF = re.compile(r"([A-Z]{1,3})([0-9]{1,7})")
_TRIM = " \t\n\r"


def _split(tag: str) -> tuple[str, str]:
    """``(namespace, local name)`` of an ElementTree tag."""
    if tag[:1] == "{":
        namespace, _, local = tag[1:].partition("}")
        return namespace, local
    return "", tag


def _column(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    return number


def string_problem(item, namespace: str) -> str | None:
    """What makes a shared string (``<si>``) or inline string (``<is>``) read differently.

    A string is one ``<t>``, or runs (``<r>``) each with one ``<t>``; phonetic
    guides beside them are shown by no reader. Two texts side by side, spaces at
    the edge of a run without ``xml:space="preserve"`` (python-calamine drops
    them, spreadsheets keep them) and escapes programs decode differently are not.
    """
    texts, runs = [], 0
    for child in item:
        child_namespace, name = _split(child.tag)
        if name not in ("t", "r"):
            continue
        if child_namespace != namespace:
            return STRUCTURE
        if name == "t":
            texts.append(child)
            continue
        runs += 1
        in_run = [t for t in child if _split(t.tag) == (namespace, "t")]
        if len(in_run) > 1:
            return STRUCTURE
        texts += in_run
    if (runs and len(texts) > runs) or (not runs and len(texts) > 1):
        return STRUCTURE
    for t in texts:
        text = t.text or ""
        if runs > 1 and text != text.strip(_TRIM) and t.get(_XML_SPACE) != "preserve":
            return SPACES
        if "_x" in text and unclear_escapes(text):
            return CODED
    return None


def cell_problem(
    cell, namespace: str, count: int, strings: dict[int, str | None], items
) -> str | None:
    """What makes a ``<c>`` element read differently in different programs, or ``None``.

    ``count`` is the number of shared strings, ``items`` them (``<si>`` elements);
    ``strings`` remembers what :func:`string_problem` said of each one looked at.
    """
    kind = cell.get("t", "n")
    found: dict[str, list] = {"v": [], "is": [], "f": []}
    for child in cell:
        child_namespace, name = _split(child.tag)
        if name in found:
            if child_namespace != namespace:
                return STRUCTURE
            found[name].append(child)
    values, inline, formulas = found["v"], found["is"], found["f"]
    if len(values) > 1 or len(inline) > 1 or len(formulas) > 1:
        return HIDDEN
    if inline and (kind != "inlineStr" or values):
        return HIDDEN
    value = (values[0].text or "") if values else ""
    if kind in ("s", "inlineStr") and formulas:
        return FORMULA
    if kind == "s":
        if not value:
            return None
        if not (value.isascii() and value.isdigit()):
            return TEXT_NUMBER
        index = int(value)
        if index >= count:
            return MISSING_TEXT
        if index not in strings:
            strings[index] = string_problem(items[index], namespace)
        return strings[index]
    if kind == "inlineStr":
        if values:
            return STRUCTURE
        return string_problem(inline[0], namespace) if inline else None
    if kind == "b":
        return None if value in ("", "0", "1") else BOOLEAN
    if kind == "n":
        return None if not value or _NUMBER.fullmatch(value) else NUMBER
    if kind == "str" and "_x" in value and unclear_escapes(value):
        return CODED
    return None


def check_cells(path) -> None:
    """Refuse (:class:`Unclear`) a file whose cells read differently in different programs.

    Looks at every cell the engine reads (:func:`is_read`) of every sheet it reads,
    parsed with a full XML parser: the thorough check, for files the fast reader
    leaves to python-calamine (:mod:`engine.xlsx_fast` makes the same checks on
    the files it reads itself). Also refused: a sheet or shared-strings part that
    is not well-formed XML (LibreOffice stops reading a sheet at the first fault,
    python-calamine reads on) or not in the encoding it names. Files saved by
    Excel or LibreOffice always pass.
    """
    from defusedxml import ElementTree

    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())

        def tree(name: str, what: str, sheet: str = ""):
            try:
                return ElementTree.fromstring(xml_text(zf.read(name)))
            except (ElementTree.ParseError, ValueError):
                raise unclear_part(
                    f"{what} is damaged or not in the text encoding it names", sheet
                ) from None

        try:
            targets = _relationships(zf)
        except ValueError:
            raise unclear_part(
                "its list of parts is damaged or not in the text encoding it names"
            ) from None
        # Without relationships python-calamine still finds the shared strings; spreadsheets
        # show none, so a cell pointing to one points to a text that is not there.
        strings_part = (targets or {}).get("type:sharedStrings", "")
        sheets = []
        for sheet in tree("xl/workbook.xml", "its list of sheets").iter():
            if _split(sheet.tag)[1] == "sheet":
                rel_id = next((v for k, v in sheet.attrib.items() if k.endswith("}id")), "")
                sheets.append((sheet.get("name", ""), (targets or {}).get(rel_id, "")))
        items: list = []
        if strings_part in names:
            root = tree(strings_part, "the text of its cells")
            namespace = _split(root.tag)[0]
            if namespace not in MAIN_NAMESPACES:
                raise unclear_part("the text of its cells is written in a way Excel never writes")
            items = [item for item in root if _split(item.tag) == (namespace, "si")]
        strings: dict[int, str | None] = {}
        for name, part in sheets:
            if name in _SKIP or part not in names:
                continue
            root = tree(part, f"sheet '{name}'", name)
            namespace = _split(root.tag)[0]
            if namespace not in MAIN_NAMESPACES:
                raise unclear_part(f"sheet '{name}' is written in a way Excel never writes", name)
            _check_sheet_cells(root, namespace, name, items, strings)


def _check_sheet_cells(root, namespace: str, name: str, items: list, strings: dict) -> None:
    """Raise :class:`Unclear` for the first cell of sheet ``name`` the engine reads unclearly.

    Positions follow the cells' ``r`` attributes; a cell or row without one comes
    after the one before it, as every reader places it.
    """
    for data in root:
        if _split(data.tag)[1] != "sheetData":
            continue
        row_no = 0
        for row in data:
            row_namespace, tag = _split(row.tag)
            if tag != "row":
                continue
            number = row.get("r", "")
            row_no = int(number) if number.isdigit() else row_no + 1
            col_no = 0
            for cell in row:
                cell_namespace, tag = _split(cell.tag)
                if tag != "c":
                    continue
                ref = _CELL_REF.fullmatch(cell.get("r", ""))
                if ref:
                    col_no, cell_row = _column(ref.group(1)), int(ref.group(2))
                else:
                    col_no, cell_row = col_no + 1, row_no
                if not is_read(name, cell_row, col_no):
                    continue
                where = f"{column_letters(col_no)}{cell_row}"
                if row_namespace != namespace or cell_namespace != namespace:
                    raise unclear_cell(name, where, STRUCTURE)
                problem = cell_problem(cell, namespace, len(items), strings, items)
                if problem:
                    raise unclear_cell(name, where, problem)

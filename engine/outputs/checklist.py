"""The spreadsheet checklist every output workbook is held to.

UK public bodies release statistics in spreadsheets that anyone can use,
including with a screen reader (the Analysis Function's guidance, which the
ONS package ``gptables`` follows). The rules kept here:

1. a cover sheet first, then a contents sheet, then a notes sheet;
2. the contents sheet links to every sheet;
3. every sheet starts with its title in cell A1;
4. every table is an Excel table with one header row and a name (no header
   cell outside a table);
5. no merged cells inside a table;
6. no empty cell inside a table: a value, or a reason (``[x]`` not returned,
   ``[z]`` not applicable);
7. notes are marked ``[note 1]``, and each marker has its note;
8. every chart and image has alt text;
9. the document language is set;
10. every sheet opens at A1 (no frozen or split panes, nothing else selected).

Two readers of the same rules: :func:`check_book` looks at a workbook as it is
built (the engine records the result on the workbook's notes sheet), and
:func:`check_file` reads a finished ``.xlsx`` (the tests, and anyone who wants
to check a file written elsewhere). The file reader parses XML with
``defusedxml``, as a workbook may come from anywhere.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass

from defusedxml import ElementTree

RULES = (
    ("order", "A cover sheet first, then contents, then notes"),
    ("contents", "The contents sheet links to every sheet"),
    ("titles", "Every sheet has its title in cell A1"),
    ("tables", "Every table is a named Excel table with one header row"),
    ("merged", "No merged cells inside tables"),
    ("blanks", "No empty cells inside tables: a value, or [x] or [z] with the reason"),
    ("notes", "Notes are marked [note 1] and every marker has its note"),
    ("alt-text", "Every chart and image has alt text"),
    ("language", "The document language is set"),
    ("a1", "Every sheet opens at cell A1, with no frozen or split panes"),
)
FRONT = ("Cover", "Contents", "Notes")
NOTE = re.compile(r"\[note (\d+)\]")
OLD_MARKER = re.compile(r"(?<![\w*])\*(?=\s|$)|\(\*\)")  # a bare '*' used as a note marker
SHOWN = 3  # places named per broken rule


@dataclass(frozen=True)
class Result:
    """One rule, whether it is met, and where it is not."""

    key: str
    rule: str
    met: bool
    detail: str = ""


def _results(problems: dict[str, list[str]]) -> list[Result]:
    out = []
    for key, rule in RULES:
        found = problems.get(key, [])
        detail = ""
        if found:
            detail = "; ".join(found[:SHOWN]) + (
                f" and {len(found) - SHOWN} more" if len(found) > SHOWN else ""
            )
        out.append(Result(key, rule, not found, detail))
    return out


def _inside(r: int, c: int, box: tuple[int, int, int, int]) -> bool:
    return box[0] <= r <= box[2] and box[1] <= c <= box[3]


def _overlaps(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return not (a[2] < b[0] or b[2] < a[0] or a[3] < b[1] or b[3] < a[1])


def _cell_name(r: int, c: int) -> str:
    letters = ""
    c += 1
    while c:
        c, rem = divmod(c - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{letters}{r + 1}"


# --- a workbook as it is built ------------------------------------------------------------------


def check_book(book) -> list[Result]:
    """Check an :class:`~engine.outputs.sheets.Book` before it is closed.

    The cover, contents and notes sheets are written by the book itself from
    what it was given; everything else is read from XlsxWriter's own record of
    the sheets, so a sheet written around the book's helpers is caught too.
    """
    problems: dict[str, list[str]] = {}
    add = lambda key, text: problems.setdefault(key, []).append(text)  # noqa: E731
    sheets = book.wb.worksheets()
    names = [ws.name for ws in sheets]
    if tuple(names[:3]) != FRONT:
        add("order", f"the first sheets are {', '.join(names[:3])}")
    listed = {e.name for e in book.entries}
    for name in names[3:]:
        if name not in listed:
            add("contents", f"'{name}' is not listed")
    strings = {i: s for s, i in book.wb.str_table.string_table.items()}
    header = book.f.__dict__.get("header")
    tables: dict[str, list[tuple[int, int, int, int]]] = {}
    for ws, r1, c1, r2, c2 in book.tables:
        tables.setdefault(ws.name, []).append((r1, c1, r2, c2))
    markers: set[int] = set()
    for ws in sheets:
        boxes = tables.get(ws.name, [])
        cells = ws.table
        if ws.name not in FRONT:
            first = cells.get(0, {}).get(0)
            if first is None or type(first).__name__ != "String":
                add("titles", f"'{ws.name}' has no title in A1")
        for box in boxes:
            for merge in ws.merge:
                if _overlaps(tuple(merge), box):
                    add("merged", f"'{ws.name}' {_cell_name(merge[0], merge[1])}")
            for r in range(box[0] + 1, box[2] + 1):
                row = cells.get(r, {})
                for c in range(box[1], box[3] + 1):
                    cell = row.get(c)
                    if (
                        cell is None
                        or type(cell).__name__ == "Blank"
                        or (type(cell).__name__ == "String" and not strings.get(cell.string, ""))
                    ):
                        add("blanks", f"'{ws.name}' {_cell_name(r, c)}")
        for r, row in cells.items():
            for c, cell in row.items():
                kind = type(cell).__name__
                is_header = header is not None and getattr(cell, "format", None) is header
                if is_header and not any(_inside(r, c, b) for b in boxes):
                    add("tables", f"'{ws.name}' header {_cell_name(r, c)} is not in a table")
                if kind == "String":
                    text = strings.get(cell.string, "")
                    if "[note" in text:
                        markers.update(int(n) for n in NOTE.findall(text))
                    if "*" in text and OLD_MARKER.search(text):
                        add("notes", f"'{ws.name}' {_cell_name(r, c)} marks a note with '*'")
        for chart in ws.charts:
            if not (chart[8] or "").strip() and not chart[9]:
                add("alt-text", f"a chart on '{ws.name}'")
        for image in ws.images:
            if not (getattr(image, "_description", "") or "").strip() and not image._decorative:
                add("alt-text", f"an image on '{ws.name}'")
        if ws.panes:
            add("a1", f"'{ws.name}' has frozen or split panes")
        if ws.top_left_cell not in ("", "A1"):
            add("a1", f"'{ws.name}' opens at {ws.top_left_cell}")
        for sel in ws.selections:
            if sel[1] not in ("", "A1"):
                add("a1", f"'{ws.name}' has {sel[1]} selected")
    for n in sorted(markers):
        if not 1 <= n <= len(book.notes):
            add("notes", f"[note {n}] has no note")
    if not book.wb.doc_properties.get("language"):
        add("language", "no language in the document properties")
    return _results(problems)


# --- a finished file ----------------------------------------------------------------------------


def check_file(data: bytes, header_fill: str = "") -> list[Result]:
    """Check a finished ``.xlsx`` against the same rules.

    ``header_fill`` (``#1F4E79``) is the fill of table header cells: a cell with
    it outside an Excel table is a table that was not made one.
    """
    from openpyxl import load_workbook

    problems: dict[str, list[str]] = {}
    add = lambda key, text: problems.setdefault(key, []).append(text)  # noqa: E731
    wb = load_workbook(io.BytesIO(data))
    names = wb.sheetnames
    if tuple(names[:3]) != FRONT:
        add("order", f"the first sheets are {', '.join(names[:3])}")
    links: set[str] = set()
    if "Contents" in names:
        for row in wb["Contents"].iter_rows():
            for cell in row:
                if cell.hyperlink is not None and cell.hyperlink.location:
                    links.add(cell.hyperlink.location.split("!")[0].strip("'"))
    for name in names:
        if name != "Contents" and name not in links:
            add("contents", f"'{name}' has no link")
    notes_found: set[int] = set()
    markers: set[int] = set()
    for ws in wb.worksheets:
        if ws.title not in FRONT and not isinstance(ws["A1"].value, str):
            add("titles", f"'{ws.title}' has no title in A1")
        boxes = []
        for table in ws.tables.values():
            (c1, r1), (c2, r2) = _bounds(table.ref)
            box = (r1, c1, r2, c2)
            boxes.append(box)
            if table.headerRowCount not in (None, 1) or not table.displayName:
                add("tables", f"'{ws.title}' table {table.displayName or '?'}")
            for merge in ws.merged_cells.ranges:
                m = (merge.min_row - 1, merge.min_col - 1, merge.max_row - 1, merge.max_col - 1)
                if _overlaps(m, box):
                    add("merged", f"'{ws.title}' {merge.coord}")
            for r in range(r1 + 1, r2 + 1):
                for c in range(c1, c2 + 1):
                    value = ws.cell(r + 1, c + 1).value
                    if value is None or (isinstance(value, str) and not value.strip()):
                        add("blanks", f"'{ws.title}' {_cell_name(r, c)}")
        fill = header_fill.lstrip("#").upper()
        for row in ws.iter_rows():
            for cell in row:
                colour = (cell.fill.fgColor.rgb or "") if cell.fill is not None else ""
                if fill and isinstance(colour, str) and colour.upper().endswith(fill):
                    r, c = cell.row - 1, cell.column - 1
                    if not any(_inside(r, c, b) for b in boxes):
                        add("tables", f"'{ws.title}' header {cell.coordinate} is not in a table")
                if isinstance(cell.value, str):
                    if "[note" in cell.value:
                        found = {int(n) for n in NOTE.findall(cell.value)}
                        if ws.title == "Notes" and cell.column == 1:
                            notes_found |= found
                        else:
                            markers |= found
                    if "*" in cell.value and OLD_MARKER.search(cell.value):
                        add("notes", f"'{ws.title}' {cell.coordinate} marks a note with '*'")
        view = ws.sheet_view
        if view.pane is not None:
            add("a1", f"'{ws.title}' has frozen or split panes")
        if view.topLeftCell not in (None, "A1"):
            add("a1", f"'{ws.title}' opens at {view.topLeftCell}")
        for sel in view.selection:
            if sel.activeCell not in (None, "A1"):
                add("a1", f"'{ws.title}' has {sel.activeCell} selected")
    for n in sorted(markers - notes_found):
        add("notes", f"[note {n}] has no note")
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for part in z.namelist():
            if part.startswith("xl/drawings/drawing") and part.endswith(".xml"):
                root = ElementTree.fromstring(z.read(part))
                for el in root.iter():
                    if el.tag.endswith("}cNvPr") and not (el.get("descr") or "").strip():
                        decorative = any(x.tag.endswith("}decorative") for x in el.iter())
                        if not decorative:
                            add("alt-text", f"'{el.get('name', '?')}' in {part}")
        core = ElementTree.fromstring(z.read("docProps/core.xml"))
        language = [el.text for el in core.iter() if el.tag.endswith("}language")]
        if not any((x or "").strip() for x in language):
            add("language", "no dc:language in docProps/core.xml")
    return _results(problems)


def _bounds(ref: str) -> tuple[tuple[int, int], tuple[int, int]]:
    from openpyxl.utils.cell import range_boundaries

    c1, r1, c2, r2 = range_boundaries(ref)
    return (c1 - 1, r1 - 1), (c2 - 1, r2 - 1)


def broken(results: list[Result]) -> list[Result]:
    """The rules not met."""
    return [r for r in results if not r.met]

"""The reader: the raw values of a returned workbook, read by position, nothing interpreted.

A unit's return (either unit form) and a family and friends response are read
alike: each sheet by its name, only the cells the template uses.

Runs inside the sandbox worker process on files that passed the pre-check.
It imports only python-calamine, so the worker stays small. Values come back
as plain Python (str, float, bool, or ``{"date": iso}``) so they cross a pipe.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
import unicodedata
from collections.abc import Iterable, Iterator

from . import template as T

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


_MODIFIED = re.compile(rb"<dcterms:modified\b[^>]*>\s*([^<]{1,64}?)\s*</dcterms:modified>")


def saved_at(path: str) -> str:
    """When the workbook was last saved, from ``docProps/core.xml``, as ISO 8601 UTC; or ``""``.

    Excel and LibreOffice set it on every save; a workbook that nobody saved
    keeps the time the engine wrote into it. Only a plain timestamp is taken.
    """
    import zipfile

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
    """:func:`saved_at` from the bytes of ``docProps/core.xml``."""
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
    area rows, B, D and E) and Metadata (up to 6 rows, A:B) as raw values.

    Returns ``{"sheets": [[name, visibility], ...], "cells": {sheet: {ref: value}},
    "saved_at": iso or ""}``.
    """
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(path)
    sheets = [[m.name, str(m.visible).rsplit(".", 1)[-1].lower()] for m in wb.sheets_metadata]
    cells: dict[str, dict] = {}
    for name, _visible in sheets:
        if name in _SKIP:
            continue
        sheet = wb.get_sheet_by_name(name)
        cells[name] = sheet_cells(name, lambda rows, cols, sheet=sheet: _entries(sheet, rows, cols))
    return {"sheets": sheets, "cells": cells, "saved_at": saved_at(path)}

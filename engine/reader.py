"""The reader: the raw values of a returned workbook, read by position, nothing interpreted.

A unit's return (either unit form) and a family and friends response are read
alike: each sheet by its name, only the cells the template uses.

Runs inside the sandbox worker process on files that passed the pre-check.
It imports only python-calamine, so the worker stays small. Values come back
as plain Python (str, float, bool, or ``{"date": iso}``) so they cross a pipe.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata

from . import template as T

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Columns holding the locked wording of each standard: sent back as a digest,
# which is all the checks need, instead of the whole text.
_WORDING_COLUMNS = {2, 3}
_STANDARD_ROWS = range(T.FIRST_STANDARD_ROW, T.FIRST_STANDARD_ROW + T.STANDARDS_PER_AREA)
_SIGNOFF_COL = ord(T.SIGNOFF_COL) - 64


def wording_digest(value) -> str:
    """A short fingerprint of a cell's wording, ignoring spacing and invisible characters."""
    text = unicodedata.normalize("NFC", str(value))
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


def _cells(sheet, last_row: int, last_col: int, digest_wording: bool = False) -> dict[str, object]:
    """Non-empty cells of an area sheet within A1 to (last_row, last_col), keyed by A1 reference."""
    out: dict[str, object] = {}
    rows, start_row, start_col = _rows(sheet)
    for r, row in enumerate(rows):
        row_no = start_row + r + 1
        if row_no > last_row:
            break
        for c, value in enumerate(row):
            col_no = start_col + c + 1
            if col_no > last_col:
                break
            if value == "" or value is None:
                continue
            if (
                digest_wording
                and row_no not in _STANDARD_ROWS
                and (row_no < T.FIRST_STANDARD_ROW or col_no != _SIGNOFF_COL)
            ):
                continue  # titles, headers and sign-off labels: the template's own text
            if digest_wording and col_no in _WORDING_COLUMNS and row_no in _STANDARD_ROWS:
                out[f"{chr(64 + col_no)}{row_no}"] = {"digest": wording_digest(value)}
                continue
            out[f"{chr(64 + col_no)}{row_no}"] = _plain(value)
    return out


def _block(sheet, rows: tuple[int, int], cols: tuple[int, int], skip_col: int = 0) -> dict:
    """Non-empty cells of ``sheet`` in the rows and columns given (1-based, inclusive)."""
    out: dict[str, object] = {}
    first_row, last_row = rows
    first_col, last_col = cols
    data, start_row, start_col = _rows(sheet)
    for r, row in enumerate(data):
        row_no = start_row + r + 1
        if row_no > last_row:
            break
        if row_no < first_row:
            continue
        for c, value in enumerate(row):
            col_no = start_col + c + 1
            if col_no > last_col:
                break
            if col_no < first_col or col_no == skip_col or value == "" or value is None:
                continue
            out[f"{chr(64 + col_no)}{row_no}"] = _plain(value)
    return out


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
            if info.file_size > 64 * 1024:  # a real one is under 1 KB
                return ""
            m = _MODIFIED.search(zf.read(info))
    except (KeyError, OSError, zipfile.BadZipFile, ValueError, EOFError):
        return ""
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
        if name == T.META_SHEET:
            cells[name] = _block(sheet, (1, len(T.META_ROWS)), (1, 2))
        elif name == T.ACTIONS_SHEET:
            cells[name] = _block(sheet, _ACTION_ROWS, _ACTION_COLS)
        elif name == T.FAMILY_SHEET:
            cells[name] = _block(sheet, _FAMILY_ROWS, _FAMILY_COLS, _FAMILY_SKIP_COL)
        else:
            cells[name] = _cells(sheet, _AREA_LAST_ROW, _AREA_LAST_COL, digest_wording=True)
    return {"sheets": sheets, "cells": cells, "saved_at": saved_at(path)}

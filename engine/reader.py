"""The reader: the raw values of a return, read by position, nothing interpreted.

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
_AREA_LAST_COL = 6  # F


def _plain(value):
    if isinstance(value, (dt.datetime, dt.date)):
        return {"date": value.isoformat()}
    if isinstance(value, dt.time):
        return {"time": value.isoformat()}
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    return value


def _cells(sheet, last_row: int, last_col: int, digest_wording: bool = False) -> dict[str, object]:
    """Non-empty cells of ``sheet`` within A1 to (last_row, last_col), keyed by A1 reference."""
    out: dict[str, object] = {}
    start_row, start_col = sheet.start or (0, 0)
    for r, row in enumerate(sheet.to_python(skip_empty_area=False)):
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
            cells[name] = _cells(sheet, len(T.META_ROWS), 2)
        else:
            cells[name] = _cells(sheet, _AREA_LAST_ROW, _AREA_LAST_COL, digest_wording=True)
    return {"sheets": sheets, "cells": cells, "saved_at": saved_at(path)}

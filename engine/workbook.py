"""The unit workbook generator: one protected .xlsx per unit per month.

Positions come from :mod:`engine.template`, wording from the question bank,
and fixed texts, widths and colours from ``workbook_templates``. The output is
deterministic: the same bank, unit, period and secret give the same bytes.
"""

from __future__ import annotations

import io
import math
import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from importlib import resources
from pathlib import Path

import xlsxwriter
from xlsxwriter.utility import xl_rowcol_to_cell

from . import template as T
from .bank import Area, Bank
from .files import write_atomic
from .errors import ConfigError
from .home import Home, Network, check_period, check_units, make_token

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]


@lru_cache(maxsize=1)
def presentation() -> dict:
    """Texts, widths and colours of the unit workbook."""
    text = (resources.files("workbook_templates") / "unit_workbook.toml").read_text("utf-8")
    return tomllib.loads(text)


def month_name(period: str) -> str:
    """``2026-11`` as ``November 2026``."""
    year, month = period.split("-")
    return f"{MONTHS[int(month) - 1]} {year}"


def _row_height(texts: list[tuple[str, int]], line: float = 16.0, minimum: float = 60.0) -> float:
    """Row height that shows wrapped text in full (Excel does not autofit on open)."""
    lines = 1
    for text, width in texts:
        # Average character is a little narrower than the column unit.
        per_line = max(1, int(width * 1.15))
        lines = max(lines, sum(math.ceil(max(1, len(p)) / per_line) for p in text.split("\n")))
    return max(minimum, lines * line + 6)


@dataclass
class _Formats:
    title: object
    text: object
    heading: object
    header: object
    locked: object
    locked_id: object
    answer: object
    answer_date: object
    percent: object
    number: object
    bold: object
    green: object
    amber: object
    red: object


def _formats(wb: xlsxwriter.Workbook) -> _Formats:
    p = presentation()
    font, c = p["fonts"], p["colours"]
    base = {"font_name": font["name"], "font_size": font["body"], "valign": "top"}
    border = {"border": 1, "border_color": c["answer_border"]}

    def fmt(**kw):
        return wb.add_format({**base, **kw})

    return _Formats(
        title=fmt(bold=True, font_size=font["title"], valign="vcenter"),
        text=fmt(text_wrap=True),
        heading=fmt(bold=True, font_size=font["heading"]),
        header=fmt(
            bold=True, text_wrap=True, font_color=c["header_text"], bg_color=c["header_fill"], **border
        ),
        locked=fmt(text_wrap=True, bg_color=c["locked_fill"], **border),
        locked_id=fmt(bold=True, bg_color=c["locked_fill"], **border),
        answer=fmt(text_wrap=True, locked=False, bg_color=c["answer_fill"], **border),
        answer_date=fmt(locked=False, num_format="dd/mm/yyyy", bg_color=c["answer_fill"], **border),
        percent=fmt(num_format="0.0%", **border),
        number=fmt(**border),
        bold=fmt(bold=True, **border),
        green=wb.add_format({"bg_color": c["green_fill"]}),
        amber=wb.add_format({"bg_color": c["amber_fill"]}),
        red=wb.add_format({"bg_color": c["red_fill"]}),
    )


_PREPARED_FORMULAS: dict[tuple, str] = {}


def _reuse_prepared_formulas(ws) -> None:
    """Remember XlsxWriter's formula rewriting across workbooks.

    XlsxWriter runs well over a hundred regular expressions over every formula
    and validation source it writes; ours are the same in every workbook, so
    the result is kept. The output bytes are unchanged (the workbook snapshot
    and determinism tests pin them). If XlsxWriter ever drops this private
    method, nothing is replaced and generation is merely slower.
    """
    original = getattr(ws, "_prepare_formula", None)
    if original is None:
        return

    def prepare(formula, expand_future_functions=False):
        key = (formula, expand_future_functions, ws.use_future_functions)
        found = _PREPARED_FORMULAS.get(key)
        if found is None:
            found = _PREPARED_FORMULAS[key] = original(formula, expand_future_functions)
        return found

    ws._prepare_formula = prepare


def _protect(ws, password: str) -> None:
    # Row heights and column widths may change (room for long evidence);
    # nothing else can be edited except unlocked answer cells.
    ws.protect(password, {"format_rows": True, "format_columns": True})


def _print_setup(ws, repeat_row: int | None = None) -> None:
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    if repeat_row is not None:
        ws.repeat_rows(repeat_row)


def _start_sheet(wb, f: _Formats, network: Network, unit_code: str, period: str) -> None:
    p = presentation()["start_sheet"]
    ws = wb.add_worksheet(T.START_SHEET)
    ws.set_column(0, 0, 22)
    ws.set_column(1, 1, 95)
    unit = network.unit(unit_code)
    values = {
        "unit": unit_code,
        "unit_name": unit.name if unit else unit_code,
        "month": month_name(period),
        "return_instructions": network.return_instructions,
    }
    ws.merge_range(0, 0, 0, 1, p["title"], f.title)
    ws.set_row(0, 28)
    row = 2
    headings = {"What is this?", "How to fill it in", "What the ratings mean", "When you have finished"}
    for line in p["lines"]:
        text = line.format(**values)
        if text == "What the ratings mean":
            ws.merge_range(row, 0, row, 1, text, f.heading)
            row += 1
            for label, meaning in p["rating_help"]:
                ws.write_string(row, 0, label, f.bold)
                ws.write_string(row, 1, meaning, f.locked)
                row += 1
            continue
        if text:
            ws.merge_range(row, 0, row, 1, text, f.heading if text in headings else f.text)
            ws.set_row(row, _row_height([(text, 117)], minimum=17))
        row += 1
    ws.activate()
    _print_setup(ws)
    ws.fit_to_pages(1, 1)
    ws.set_portrait()
    ws.hide_gridlines(2)
    _protect(ws, network.sheet_password)


def _count_formula(network: Network, ref: str, which: str) -> str:
    """Formula counting labels in ``ref``: points, applicable answers, or all answers."""
    parts = []
    for s in network.scale:
        if which == "points":
            if s.applicable and s.points:
                parts.append(f'{s.points}*COUNTIF({ref},"{s.label}")')
        elif which == "applicable":
            if s.applicable:
                parts.append(f'COUNTIF({ref},"{s.label}")')
        else:
            parts.append(f'COUNTIF({ref},"{s.label}")')
    return "=" + ("+".join(parts) or "0")


def _summary_sheet(wb, f: _Formats, network: Network, bank: Bank) -> None:
    p = presentation()["summary_sheet"]
    ws = wb.add_worksheet(T.SUMMARY_SHEET)
    _reuse_prepared_formulas(ws)
    ws.set_column(0, 0, 40)
    ws.set_column(1, 6, 14)
    ws.set_column(6, 6, 16)
    ws.merge_range(0, 0, 0, 6, p["title"], f.title)
    ws.set_row(0, 28)
    ws.merge_range(1, 0, 1, 6, p["intro"], f.text)
    ws.set_row(1, 36)
    header = 3
    ws.set_row(header, 34)
    for col, text in enumerate(p["headers"]):
        ws.write_string(header, col, text, f.header)
    green, amber, most = network.green / 100, network.amber / 100, network.max_points
    first = header + 1
    for i, area in enumerate(bank.areas):
        row = first + i
        sheet = T.area_sheet_name(area.index, area.short_name)
        ref = (
            f"'{sheet}'!${T.COL_RATING}${T.FIRST_STANDARD_ROW}:"
            f"${T.COL_RATING}${T.FIRST_STANDARD_ROW + T.STANDARDS_PER_AREA - 1}"
        )
        b, c, d, e = (xl_rowcol_to_cell(row, col) for col in (1, 2, 3, 4))
        ws.write_string(row, 0, f"{area.index}. {area.name}", f.bold)
        ws.write_formula(row, 1, _count_formula(network, ref, "answered"), f.number, 0)
        ws.write_formula(row, 2, _count_formula(network, ref, "applicable"), f.number, 0)
        ws.write_formula(row, 3, _count_formula(network, ref, "points"), f.number, 0)
        ws.write_formula(row, 4, f'=IF({c}=0,"",{d}/({most}*{c}))', f.percent, "")
        ws.write_formula(
            row, 5,
            f'=IF({e}="","{p["not_yet"]}",IF({e}>={green},"Green",IF({e}>={amber},"Amber","Red")))',
            f.number, p["not_yet"],
        )
        su = f"'{sheet}'!{T.SIGNOFF_CELLS['service_user']}"
        ws.write_formula(row, 6, f'=IF({su}="","",{su})', f.number, "")
        _ = b
    total = first + len(bank.areas)
    last = total - 1
    ws.write_string(total, 0, p["overall"], f.header)
    for col in (1, 2, 3):
        top, bottom = xl_rowcol_to_cell(first, col), xl_rowcol_to_cell(last, col)
        ws.write_formula(total, col, f"=SUM({top}:{bottom})", f.bold, 0)
    c, d, e = (xl_rowcol_to_cell(total, col) for col in (2, 3, 4))
    ws.write_formula(total, 4, f'=IF({c}=0,"",{d}/({most}*{c}))', f.percent, "")
    ws.write_formula(
        total, 5,
        f'=IF({e}="","{p["not_yet"]}",IF({e}>={green},"Green",IF({e}>={amber},"Amber","Red")))',
        f.bold, p["not_yet"],
    )
    rag_range = f"F{first + 1}:F{total + 1}"
    for word, fmt in (("Green", f.green), ("Amber", f.amber), ("Red", f.red)):
        ws.conditional_format(
            rag_range, {"type": "cell", "criteria": "==", "value": f'"{word}"', "format": fmt}
        )
    ws.freeze_panes(header + 1, 0)
    _print_setup(ws, header)
    _protect(ws, network.sheet_password)


def _area_sheet(wb, f: _Formats, network: Network, bank: Bank, area: Area) -> None:
    p = presentation()["area_sheet"]
    ws = wb.add_worksheet(T.area_sheet_name(area.index, area.short_name))
    _reuse_prepared_formulas(ws)
    widths = p["widths"]
    for col, width in enumerate(widths):
        ws.set_column(col, col, width)
    ws.merge_range(0, 0, 0, 5, f"Area {area.index} of {len(bank.areas)}: {area.name}", f.title)
    ws.set_row(0, 28)
    ws.merge_range(1, 0, 1, 5, area.description, f.text)
    ws.set_row(1, _row_height([(area.description, sum(widths))], minimum=20))
    ws.merge_range(2, 0, 2, 5, p["how_to"], f.text)
    ws.set_row(2, _row_height([(p["how_to"], sum(widths))], minimum=20))
    header = T.HEADER_ROW - 1
    for col, text in enumerate(p["headers"]):
        ws.write_string(header, col, text, f.header)
    ws.set_row(header, 34)
    labels = f"={T.LISTS_SHEET}!$A$1:$A${len(network.scale)}"
    choices = ", ".join(network.labels)
    for pos, std in enumerate(area.standards):
        row = T.standard_row(pos) - 1
        ws.write_string(row, 0, std.id, f.locked_id)
        ws.write_string(row, 1, std.text, f.locked)
        ws.write_string(row, 2, std.easy_read, f.locked)
        for col in (3, 4, 5):
            ws.write_blank(row, col, None, f.answer)
        ws.set_row(row, _row_height([(std.text, widths[1]), (std.easy_read, widths[2])]))
    # One validation for the whole Rating column (cheaper to write than one per row).
    first, last = T.FIRST_STANDARD_ROW - 1, T.FIRST_STANDARD_ROW + len(area.standards) - 2
    ws.data_validation(
        first, 3, last, 3,
        {
            "validate": "list",
            "source": labels,
            "input_title": "Rating",
            "input_message": f"Choose one: {choices}",
            "error_title": "Please use the list",
            "error_message": f"Choose one of: {choices}.",
        },
    )
    top = T.SIGNOFF_HEADING_ROW - 1
    ws.merge_range(top, 0, top, 5, p["signoff_heading"], f.heading)
    rows = (
        (T.SIGNOFF_ROLE_ROW, p["signoff_role"]),
        (T.SIGNOFF_SERVICE_USER_ROW, p["signoff_service_user"]),
        (T.SIGNOFF_DATE_ROW, p["signoff_date"]),
    )
    for row1, label in rows:
        row = row1 - 1
        ws.merge_range(row, 0, row, 2, label, f.locked)
        fmt = f.answer_date if row1 == T.SIGNOFF_DATE_ROW else f.answer
        ws.merge_range(row, 3, row, 5, None, fmt)
        ws.set_row(row, 36)
    ws.data_validation(
        T.SIGNOFF_ROLE_ROW - 1, 3, T.SIGNOFF_ROLE_ROW - 1, 3,
        {"validate": "length", "criteria": "<=", "value": 100,
         "error_message": "Please write the role only (100 characters at most)."},
    )
    ws.data_validation(
        T.SIGNOFF_SERVICE_USER_ROW - 1, 3, T.SIGNOFF_SERVICE_USER_ROW - 1, 3,
        {"validate": "list", "source": f"={T.LISTS_SHEET}!$B$1:$B$2",
         "error_message": "Choose Yes or No."},
    )
    ws.data_validation(
        T.SIGNOFF_DATE_ROW - 1, 3, T.SIGNOFF_DATE_ROW - 1, 3,
        {"validate": "date", "criteria": "between",
         "minimum": datetime(2020, 1, 1), "maximum": datetime(2099, 12, 31),
         "input_message": "Type the date, for example 14/11/2026",
         "error_message": "Please type a date, for example 14/11/2026."},
    )
    ws.freeze_panes(T.HEADER_ROW, 0)
    _print_setup(ws, header)
    _protect(ws, network.sheet_password)


def _lists_sheet(wb, network: Network) -> None:
    ws = wb.add_worksheet(T.LISTS_SHEET)
    for i, label in enumerate(network.labels):
        ws.write_string(i, 0, label)
    for i, word in enumerate(T.YES_NO):
        ws.write_string(i, 1, word)
    ws.hide()
    _protect(ws, network.sheet_password)


def _meta_sheet(wb, network: Network, values: dict[str, str]) -> None:
    ws = wb.add_worksheet(T.META_SHEET)
    for i, key in enumerate(T.META_ROWS):
        ws.write_string(i, 0, key)
        ws.write_string(i, 1, values[key])
    ws.very_hidden()
    _protect(ws, network.sheet_password)


class _StructureLockedWorkbook(xlsxwriter.Workbook):
    """A workbook whose sheets cannot be added, deleted, renamed, moved or unhidden in Excel.

    XlsxWriter has no public call for this, so the ``<workbookProtection>``
    element is written here, right after ``<workbookPr>`` where the schema
    wants it. LibreOffice drops it when it saves; the engine's checks do not
    rely on it (sheets are checked against the template on every return).
    """

    def _write_workbook_pr(self) -> None:
        super()._write_workbook_pr()
        self._xml_empty_tag("workbookProtection", [("lockStructure", "1")])


def build_workbook(network: Network, bank: Bank, unit: str, period: str, token: str) -> bytes:
    """The bytes of one unit's workbook for one period."""
    check_period(period)
    if network.unit(unit) is None:
        raise KeyError(unit)
    buffer = io.BytesIO()
    wb = _StructureLockedWorkbook(
        buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    year, month = (int(x) for x in period.split("-"))
    wb.set_properties(
        {
            "title": f"SeQuIn {unit} {period}",
            "subject": f"SeQuIn workbook for {unit}, {month_name(period)}",
            "author": network.name,
            "created": datetime(year, month, 1),
        }
    )
    f = _formats(wb)
    _start_sheet(wb, f, network, unit, period)
    _summary_sheet(wb, f, network, bank)
    for area in bank.areas:
        _area_sheet(wb, f, network, bank, area)
    _lists_sheet(wb, network)
    _meta_sheet(
        wb,
        network,
        {
            "unit": unit,
            "period": period,
            "bank_version": bank.version,
            "token": token,
            "generated_by": "SeQuIn engine",
        },
    )
    wb.close()
    return buffer.getvalue()


def workbooks_folder(home: Home, period: str) -> Path:
    """Where a period's workbooks for the units are written."""
    return home.outbox / period / "workbooks"


# Below this many workbooks, starting helper processes costs more than it saves.
PARALLEL_FROM = 60


def _write_workbooks(network: Network, bank: Bank, secret: bytes, period: str, codes: list[str],
                     folder: Path) -> list[Path]:
    paths = []
    for code in codes:
        data = build_workbook(network, bank, code, period, make_token(secret, code, period, bank.version))
        paths.append(write_atomic(folder / T.file_name(code, period), data))
    return paths


def generate(home: Home, period: str, units: list[str] | None = None) -> list[Path]:
    """Write the period's workbooks (all units, or those listed); returns their paths.

    A large network's workbooks are built on every core: each workbook is
    independent and the same inputs give the same bytes in any process.
    """
    check_period(period)
    network = home.network
    codes = units or [u.code for u in network.units]
    check_units(network, codes)
    bank = home.bank()
    secret = home.secret()
    folder = workbooks_folder(home, period)
    workers = min(os.cpu_count() or 1, 8)
    if len(codes) < PARALLEL_FROM or workers < 2:
        return _write_workbooks(network, bank, secret, period, codes, folder)
    chunks = [codes[i::workers] for i in range(workers)]
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    try:
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            done = pool.map(_write_workbooks, *zip(*[(network, bank, secret, period, c, folder)
                                                     for c in chunks]))
            by_code = {p.name: p for paths in done for p in paths}
    except BrokenProcessPool:
        # Helper processes could not start here: the same workbooks, one after another.
        return _write_workbooks(network, bank, secret, period, codes, folder)
    return [by_code[T.file_name(code, period)] for code in codes]

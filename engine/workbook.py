"""The unit workbook generator: one protected .xlsx per unit per month (form ``unit/2``).

Positions come from :mod:`engine.template`, wording from the question bank,
and fixed texts, widths and colours from ``workbook_templates``. Each area
sheet shows, locked beside each standard, the rating the unit agreed last
month; the Actions sheet carries forward the unit's open actions with their
history (both read from the ledger, see :func:`engine.generation.read_carry`).
The output is deterministic: the same bank, unit, period, secret and ledger
give the same bytes. A month's workbooks are written by :mod:`engine.generation`.
"""

from __future__ import annotations

import io
import re
import sys
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from importlib import resources

import xlsxwriter
from xlsxwriter.utility import xl_rowcol_to_cell
from xlsxwriter.worksheet import Worksheet

from . import template as T
from .bank import Area, Bank
from .home import Network, check_period
from .ledger.carry import CarriedAction, PreviousRatings
from .outputs.sheets import (
    MONTHS,
    long_date,
    month_name,
    print_a4,
    row_height,
    set_widths,
    text_lines,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


@lru_cache(maxsize=1)
def presentation() -> dict:
    """Texts, widths and colours of the unit workbook."""
    text = (resources.files("workbook_templates") / "unit_workbook.toml").read_text("utf-8")
    return tomllib.loads(text)


#: The cell format properties that keep a cell's text as text (see :func:`_answer_cell`):
#: the quote prefix, and, for short text only, Excel's built-in Text number format (49, ``@``).
TEXT_KEPT = {"num_format": 49, "quote_prefix": True}
LONG_TEXT_KEPT = {"quote_prefix": True}


@dataclass
class _Formats:
    title: object
    text: object
    strong: object
    heading: object
    header: object
    locked: object
    locked_id: object
    essential_id: object
    answer: object
    answer_date: object
    answer_text: object
    answer_long_text: object
    percent: object
    number: object
    bold: object
    green: object
    amber: object
    red: object


def _formats(wb: xlsxwriter.Workbook) -> _Formats:
    p = presentation()
    font, c = p["fonts"], p["colours"]
    # No theme font scheme: Excel would show the theme's font (Calibri) instead.
    base = {
        "font_name": font["name"],
        "font_scheme": "none",
        "font_size": font["body"],
        "valign": "top",
    }
    border = {"border": 1, "border_color": c["answer_border"]}
    essential = {"border": 2, "border_color": c["essential_border"]}

    def fmt(**kw):
        return wb.add_format({**base, **kw})

    return _Formats(
        title=fmt(bold=True, font_size=font["title"], valign="vcenter"),
        text=fmt(text_wrap=True),
        strong=fmt(bold=True, text_wrap=True),
        heading=fmt(bold=True, font_size=font["heading"]),
        header=fmt(
            bold=True,
            text_wrap=True,
            font_color=c["header_text"],
            bg_color=c["header_fill"],
            **border,
        ),
        locked=fmt(text_wrap=True, bg_color=c["locked_fill"], **border),
        locked_id=fmt(bold=True, bg_color=c["locked_fill"], **border),
        essential_id=fmt(text_wrap=True, bg_color=c["essential_fill"], **essential),
        answer=fmt(text_wrap=True, locked=False, bg_color=c["answer_fill"], **border),
        answer_date=fmt(locked=False, num_format="dd/mm/yyyy", bg_color=c["answer_fill"], **border),
        answer_text=fmt(
            text_wrap=True, locked=False, bg_color=c["answer_fill"], **border, **TEXT_KEPT
        ),
        answer_long_text=fmt(
            text_wrap=True, locked=False, bg_color=c["answer_fill"], **border, **LONG_TEXT_KEPT
        ),
        percent=fmt(num_format="0.0%", **border),
        number=fmt(**border),
        bold=fmt(bold=True, text_wrap=True, **border),
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


def _print_setup(ws, footer: str, repeat_row: int | None = None, portrait: bool = False) -> None:
    """A4, one page wide; the widths of every sheet fit it at 88 % or more (no small print)."""
    p = presentation()["print"]
    print_a4(
        ws,
        landscape=not portrait,
        header_row=repeat_row,
        margins=p["margins"],
        footer=footer,
        footer_margin=p["footer_margin"],
    )


def _start_sheet(
    wb,
    f: _Formats,
    network: Network,
    bank: Bank,
    unit_code: str,
    period: str,
    footer: str,
    last_month: str,
) -> None:
    p = presentation()["start_sheet"]
    size = presentation()["fonts"]["body"]
    ws = wb.add_worksheet(T.START_SHEET)
    widths = p["widths"]
    set_widths(ws, widths)
    unit = network.unit(unit_code)
    values = {
        "unit": unit_code,
        "unit_name": unit.name if unit else unit_code,
        "month": month_name(period),
        "return_instructions": network.return_instructions,
        "due_date": long_date(network.due_date(period)),
        "last_month": last_month,
        "not_met": network.not_met_label,
    }
    ws.merge_range(0, 0, 0, 1, p["title"], f.title)
    ws.set_row(0, 28)
    row = 2
    headings = set(p["headings"])
    essential = p["essential_lines"] if bank.essentials else []
    lines = [x for y in p["lines"] for x in (essential if y == "@essential" else [y])]
    for line in lines:
        text = line.format(**values)
        if text == "What the ratings mean":
            ws.merge_range(row, 0, row, 1, text, f.heading)
            row += 1
            for label, meaning in p["rating_help"]:
                ws.write_string(row, 0, label, f.bold)
                ws.write_string(row, 1, meaning, f.locked)
                lines = (
                    text_lines(label, widths[0], size * 1.1),
                    text_lines(meaning, widths[1], size),
                )
                ws.set_row(row, row_height(max(lines), size))
                row += 1
            continue
        if text:
            # The due date stands out; the rest is plain text under its headings.
            fmt = f.heading if text in headings else f.strong if "{due_date}" in line else f.text
            ws.merge_range(row, 0, row, 1, text, fmt)
            ws.set_row(row, row_height(text_lines(text, sum(widths), size * 1.1), size))
        row += 1
    ws.activate()
    _print_setup(ws, footer, portrait=True)
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


@lru_cache(maxsize=256)
def _header_lines(text: str, width: float, size: float) -> int:
    """Lines a short bold header takes in a column ``width`` wide, wrapped word by word
    (the paragraph estimate is far too pessimistic for "Last month" in a narrow column);
    1.228 characters of 11 pt text per unit of width, with 5 % to spare."""
    room = max(1, int(width * 1.228 * 11 / size * 0.95))
    lines, used = 1, 0
    for word in text.split():
        if used and used + 1 + len(word) > room:
            lines, used = lines + 1, 0
        used = used + 1 + len(word) if used else len(word)
        while used > room:  # a word longer than the column breaks
            lines, used = lines + 1, used - room
    return lines


def _header_height(headers: list[str], widths: list[float], size: float) -> float:
    """Height of a row of bold, wrapped column headers."""
    return row_height(max(_header_lines(t, w, size * 1.1) for t, w in zip(headers, widths)), size)


def _percent_formula(applicable: str, points: str, most: int) -> str:
    """The score as a fraction, rounded to the tenth of a percent the ``0.0%`` format shows.

    Excel shows 23 of 80 (28.75 %) as 28.8 %, but LibreOffice shows the binary
    value just under it, 28.7 %. ``ROUND`` to three places first makes every
    spreadsheet show what the engine says (half away from zero on the exact
    fraction, :mod:`engine.numbers`).
    """
    return f'=IF({applicable}=0,"",ROUND({points}/({most}*{applicable}),3))'


def _rag_formula(applicable: str, points: str, most: int, green, amber, p: dict) -> str:
    """The RAG word, decided on the exact fraction (never on the rounded score)."""
    exact = f"{points}/({most}*{applicable})"
    return (
        f'=IF({applicable}=0,"{p["not_yet"]}",IF({exact}>={green},"Green",'
        f'IF({exact}>={amber},"Amber","Red")))'
    )


def _summary_sheet(wb, f: _Formats, network: Network, bank: Bank, footer: str) -> None:
    p = presentation()["summary_sheet"]
    size = presentation()["fonts"]["body"]
    ws = wb.add_worksheet(T.SUMMARY_SHEET)
    _reuse_prepared_formulas(ws)
    widths = p["widths"]
    set_widths(ws, widths)
    ws.merge_range(0, 0, 0, 6, p["title"], f.title)
    ws.set_row(0, 28)
    ws.merge_range(1, 0, 1, 6, p["intro"], f.text)
    ws.set_row(1, row_height(text_lines(p["intro"], sum(widths), size), size))
    header = 3
    ws.set_row(header, _header_height(p["headers"], widths, size))
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
        c, d = (xl_rowcol_to_cell(row, col) for col in (2, 3))
        name = f"{area.index}. {area.name}"
        ws.write_string(row, 0, name, f.bold)
        lines = text_lines(name, widths[0], size * 1.1)
        if lines > 1:
            ws.set_row(row, row_height(lines, size))
        ws.write_formula(row, 1, _count_formula(network, ref, "answered"), f.number, 0)
        ws.write_formula(row, 2, _count_formula(network, ref, "applicable"), f.number, 0)
        ws.write_formula(row, 3, _count_formula(network, ref, "points"), f.number, 0)
        ws.write_formula(row, 4, _percent_formula(c, d, most), f.percent, "")
        ws.write_formula(row, 5, _rag_formula(c, d, most, green, amber, p), f.number, p["not_yet"])
        su = f"'{sheet}'!{T.SIGNOFF_CELLS['service_user']}"
        ws.write_formula(row, 6, f'=IF({su}="","",{su})', f.number, "")
    total = first + len(bank.areas)
    last = total - 1
    ws.write_string(total, 0, p["overall"], f.header)
    for col in (1, 2, 3):
        top, bottom = xl_rowcol_to_cell(first, col), xl_rowcol_to_cell(last, col)
        ws.write_formula(total, col, f"=SUM({top}:{bottom})", f.bold, 0)
    c, d = (xl_rowcol_to_cell(total, col) for col in (2, 3))
    ws.write_formula(total, 4, _percent_formula(c, d, most), f.percent, "")
    ws.write_formula(total, 5, _rag_formula(c, d, most, green, amber, p), f.bold, p["not_yet"])
    rag_range = f"F{first + 1}:F{total + 1}"
    for word, fmt in (("Green", f.green), ("Amber", f.amber), ("Red", f.red)):
        ws.conditional_format(
            rag_range, {"type": "cell", "criteria": "==", "value": f'"{word}"', "format": fmt}
        )
    ws.freeze_panes(header + 1, 0)
    _print_setup(ws, footer, header)
    _protect(ws, network.sheet_password)


class _GrowingRowsWorksheet(Worksheet):
    """A worksheet whose answer rows grow with the evidence typed into them.

    XlsxWriter marks every row it gives a height as set by hand
    (``customHeight``), and neither Excel nor LibreOffice ever resizes such a
    row: evidence longer than the room left for it would be cut off, on screen
    and on paper. Rows in ``growing_rows`` (0-based) keep their height but not
    the mark, so both applications fit the row to its text as soon as someone
    types in it. Only the ``<row>`` element's attributes change; if XlsxWriter
    ever writes rows another way, the rows simply keep a fixed height.
    """

    def __init__(self) -> None:
        super().__init__()
        self.growing_rows: set[int] = set()
        self._growing = False

    def _write_row(self, row, *args, **kwargs) -> None:
        self._growing = row in self.growing_rows
        try:
            super()._write_row(row, *args, **kwargs)
        finally:
            self._growing = False

    def _xml_start_tag_unencoded(self, tag, attributes=()) -> None:
        if self._growing and tag == "row":
            attributes = [a for a in attributes if a[0] != "customHeight"]
        super()._xml_start_tag_unencoded(tag, attributes)


LAYOUT = T.LAYOUTS[T.UNIT_FORM]


def _col(letter: str) -> int:
    """0-based column number of a column letter (A-Z)."""
    return ord(letter) - ord("A")


@lru_cache(maxsize=4096)
def _answer_row_height(text: str, easy_read: str, widths: tuple, room: int, size: float) -> float:
    """Height of a standard's row: its wording and ``room`` characters of evidence in full."""
    evidence = widths[_col(LAYOUT.col_evidence)]
    lines = (text, widths[1]), (easy_read, widths[2]), ("x" * room, evidence)
    return row_height(max(text_lines(t, w, size) for t, w in lines), size)


def _text_row(ws, row: int, last: int, text: str, fmt, widths: list, size: float) -> None:
    """A paragraph across columns A to ``last`` (0-based), tall enough for its text."""
    ws.merge_range(row, 0, row, last, text, fmt)
    ws.set_row(row, row_height(text_lines(text, sum(widths), size), size))


def _area_sheet(
    wb,
    f: _Formats,
    network: Network,
    bank: Bank,
    area: Area,
    footer: str,
    last_month: str,
    previous: PreviousRatings | None,
) -> None:
    p = presentation()["area_sheet"]
    size = presentation()["fonts"]["body"]
    ws = wb.add_worksheet(
        T.area_sheet_name(area.index, area.short_name), worksheet_class=_GrowingRowsWorksheet
    )
    _reuse_prepared_formulas(ws)
    widths = p["widths"]
    set_widths(ws, widths)
    last = LAYOUT.last_col - 1
    c_last, c_rating = _col(LAYOUT.col_last_month), _col(LAYOUT.col_rating)
    c_evidence, c_notes = _col(LAYOUT.col_evidence), _col(LAYOUT.col_notes)
    ws.merge_range(0, 0, 0, last, f"Area {area.index} of {len(bank.areas)}: {area.name}", f.title)
    ws.set_row(0, 28)
    _text_row(ws, 1, last, area.description, f.text, widths, size)
    how_to = p["how_to"]
    if any(s.essential for s in area.standards):
        how_to = f"{how_to} {p['essential_note'].format(not_met=network.not_met_label)}"
    _text_row(ws, 2, last, how_to, f.text, widths, size)
    _text_row(ws, 3, last, last_month, f.strong, widths, size * 1.1)
    header = T.HEADER_ROW - 1
    for col, text in enumerate(p["headers"]):
        ws.write_string(header, col, text, f.header)
    ws.set_row(header, _header_height(p["headers"], widths, size))
    labels = f"={T.LISTS_SHEET}!$A$1:$A${len(network.scale)}"
    choices = ", ".join(network.labels)
    room = int(p["evidence_room"])
    found = previous is not None and previous.found
    for pos, std in enumerate(area.standards):
        row = T.standard_row(pos) - 1
        if std.essential:  # "INV-01" in bold, "Essential" under it
            word = T.id_cell_text(std.id, True)[len(std.id) :]
            ws.write_rich_string(row, 0, f.strong, std.id, f.text, word, f.essential_id)
        else:
            ws.write_string(row, 0, std.id, f.locked_id)
        ws.write_string(row, 1, std.text, f.locked)
        ws.write_string(row, 2, std.easy_read, f.locked)
        if found:
            ws.write_string(row, c_last, previous.ratings.get(std.id) or p["not_rated"], f.locked)
        else:
            ws.write_blank(row, c_last, None, f.locked)
        for col in (c_rating, c_evidence, c_notes):
            ws.write_blank(row, col, None, f.answer)
        ws.set_row(row, _answer_row_height(std.text, std.easy_read, tuple(widths), room, size))
        ws.growing_rows.add(row)
    # One validation for the whole Rating column (cheaper to write than one per row).
    first, end = T.FIRST_STANDARD_ROW - 1, T.FIRST_STANDARD_ROW + len(area.standards) - 2
    ws.data_validation(first, c_rating, end, c_rating, _list_rule(labels, "Rating", choices))
    top = T.SIGNOFF_HEADING_ROW - 1
    ws.merge_range(top, 0, top, last, p["signoff_heading"], f.heading)
    rows = (
        (T.SIGNOFF_ROLE_ROW, p["signoff_role"]),
        (T.SIGNOFF_SERVICE_USER_ROW, p["signoff_service_user"]),
        (T.SIGNOFF_DATE_ROW, p["signoff_date"]),
    )
    signoff = _col(T.SIGNOFF_COL)
    for row1, label in rows:
        row = row1 - 1
        ws.merge_range(row, 0, row, signoff - 1, label, f.locked)
        fmt = f.answer_date if row1 == T.SIGNOFF_DATE_ROW else f.answer
        ws.merge_range(row, signoff, row, last, None, fmt)
        # Merged cells never grow with their text: room for the label and two lines.
        ws.set_row(row, row_height(max(2, text_lines(label, sum(widths[:signoff]), size)), size))
    role, user = T.SIGNOFF_ROLE_ROW - 1, T.SIGNOFF_SERVICE_USER_ROW - 1
    ws.data_validation(role, signoff, role, signoff, _length_rule(p["signoff_role_error"]))
    yes_no = {"validate": "list", "source": f"={T.LISTS_SHEET}!$B$1:$B$2"}
    ws.data_validation(
        user, signoff, user, signoff, {**yes_no, "error_message": "Choose Yes or No."}
    )
    ws.data_validation(T.SIGNOFF_DATE_ROW - 1, signoff, T.SIGNOFF_DATE_ROW - 1, signoff, _DATE_RULE)
    ws.freeze_panes(T.HEADER_ROW, 0)
    _print_setup(ws, footer, header)
    _protect(ws, network.sheet_password)


def _list_rule(source: str, title: str, choices: str, message: str = "") -> dict:
    """A drop-down that accepts only its list, saying what the choices are."""
    return {
        "validate": "list",
        "source": source,
        "input_title": title,
        "input_message": message or f"Choose one: {choices}",
        "error_title": "Please use the list",
        "error_message": message or f"Choose one of: {choices}.",
    }


def _length_rule(error: str, hint: str = "") -> dict:
    """Text of 100 characters at most."""
    rule = {"validate": "length", "criteria": "<=", "value": 100, "error_message": error}
    return {**rule, "input_message": hint} if hint else rule


_DATE_RULE = {
    "validate": "date",
    "criteria": "between",
    "minimum": datetime(2020, 1, 1),
    "maximum": datetime(2099, 12, 31),
    "input_message": "Type the date, for example 14/11/2026",
    "error_message": "Please type a date, for example 14/11/2026.",
}


_PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def _month_words(period: str, otherwise: str = "last month") -> str:
    """``2026-10`` as ``October 2026``; anything that is not a month as ``otherwise``."""
    return month_name(period) if _PERIOD.match(period) else otherwise


@dataclass(frozen=True)
class Carry:
    """What a unit's workbook carries from its earlier returns (read from the ledger)."""

    previous: PreviousRatings | None = None  # None: no earlier return was read
    actions: tuple[CarriedAction, ...] = ()  # open actions, oldest first


def last_month_note(previous: PreviousRatings | None) -> str:
    """Where the Last month column comes from, in a sentence (or why it is blank)."""
    p = presentation()["area_sheet"]
    if previous is None:
        return p["last_month_no_ledger"]
    words = month_name(previous.period)
    if not previous.found:
        return p["last_month_none"].format(previous=words)
    return p["last_month_found"].format(previous=words, received=_day(previous.received_at))


def area_choice(area: Area) -> str:
    """How an area is offered in the Actions sheet's Area drop-down: ``1. Involvement``."""
    return f"{area.index}. {area.name}"


def _day(iso: str) -> str:
    """``2026-11-03T10:15:00+00:00`` as ``3 November 2026``."""
    try:
        d = date.fromisoformat(iso[:10])
    except (TypeError, ValueError):
        return str(iso)
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}"


def history_text(history: tuple[tuple[str, str], ...]) -> str:
    """``Written October 2026 (Not started); November 2026: In progress``."""
    p = presentation()["actions_sheet"]
    parts = []
    for i, (month, status) in enumerate(history):
        form = p["written"] if i == 0 else p["month_status"]
        parts.append(form.format(month=_month_words(month, month), status=status))
    return "; ".join(parts)


def _actions_sheet(
    wb, f: _Formats, network: Network, bank: Bank, footer: str, carry: Carry | None
) -> None:
    p = presentation()["actions_sheet"]
    size = presentation()["fonts"]["body"]
    ws = wb.add_worksheet(T.ACTIONS_SHEET, worksheet_class=_GrowingRowsWorksheet)
    _reuse_prepared_formulas(ws)
    widths = p["widths"]
    set_widths(ws, widths)
    last = len(T.ACTION_COLS) - 1
    ws.merge_range(0, 0, 0, last, p["title"], f.title)
    ws.set_row(0, 28)
    _text_row(ws, 1, last, p["intro"], f.text, widths, size)
    _text_row(ws, 2, last, p["how_to"], f.text, widths, size)
    actions = list(carry.actions) if carry else []
    room = T.ACTION_ROWS - int(p["keep_empty"])
    carried, left = actions[:room], actions[room:]
    n, more = len(carried), len(left)
    month = _month_words(carried[0].history[-1][0] if n and carried[0].history else "")
    note = p["carried"] if n else p["carried_none"]
    if more:
        note += " " + p["not_carried"]
    note = note.format(
        count=n,
        actions="action" + "s" * (n != 1),
        them="them" if n != 1 else "it",
        month=month,
        more=more,
        more_actions="action" + "s" * (more != 1),
        refs=", ".join(a.ref for a in left),
    )
    _text_row(ws, 3, last, note, f.strong, widths, size * 1.1)
    header = T.ACTIONS_HEADER_ROW - 1
    for col, text in enumerate(p["headers"]):
        ws.write_string(header, col, text, f.header)
    ws.set_row(header, _header_height(p["headers"], widths, size))
    areas = {a.id: area_choice(a) for a in bank.areas}
    for i in range(T.ACTION_ROWS):
        # Carried actions first (B:F filled in, for the team to update), then empty rows.
        a = carried[i] if i < len(carried) else _NO_ACTION
        history, area = history_text(a.history), areas.get(a.area_id, "")
        values = (a.ref, a.what, area, a.lead, _iso_date(a.due) or a.due, a.status, history)
        text = f.answer_text
        formats = (f.locked_id, f.answer_long_text, text, text, f.answer_date, text, f.locked)
        row = T.action_row(i) - 1
        for col, (value, fmt) in enumerate(zip(values, formats)):
            _answer_cell(ws, row, col, value, fmt)
        lines = (a.what, widths[1]), (area, widths[2]), (a.lead, widths[3]), (history, widths[6])
        ws.set_row(row, row_height(max(2, *(text_lines(t, w, size) for t, w in lines)), size))
        ws.growing_rows.add(row)
    first, end = T.FIRST_ACTION_ROW - 1, T.FIRST_ACTION_ROW + T.ACTION_ROWS - 2
    areas_list = f"={T.LISTS_SHEET}!$C$1:$C${len(bank.areas)}"
    ws.data_validation(first, 2, end, 2, _list_rule(areas_list, "Area", "", p["area_message"]))
    ws.data_validation(first, 3, end, 3, _length_rule(p["lead_error"], p["lead_hint"]))
    ws.data_validation(first, 4, end, 4, _DATE_RULE)
    statuses = f"={T.LISTS_SHEET}!$D$1:$D${len(T.ACTION_STATUSES)}"
    ws.data_validation(
        first, 5, end, 5, _list_rule(statuses, "Status", ", ".join(T.ACTION_STATUSES))
    )
    ws.freeze_panes(T.ACTIONS_HEADER_ROW, 0)
    _print_setup(ws, footer, header)
    _protect(ws, network.sheet_password)


_NO_ACTION = CarriedAction("", "", "", "", "", "")


def _answer_cell(ws, row: int, col: int, value: str | datetime, fmt) -> None:
    """One cell of an action's row: blank, a date, or text written as text.

    What a unit typed last month comes back into cells it edits again, and text
    such as ``=HYPERLINK("...")``, ``+44 123``, ``-5 points`` or ``@risk`` must
    stay the words the unit wrote. It is written with ``write_string``, never
    parsed, in a format (:data:`TEXT_KEPT`) with both of these:

    - the quote prefix (``quotePrefix``), which is what Excel itself records when
      someone types a leading apostrophe: Excel shows the apostrophe in the formula
      bar, so editing the cell (F2, Enter) keeps it text;
    - on the short columns (Area, Who leads, Status: at most 100 characters by their
      validation), also the Text number format (``@``, Excel's built-in format 49):
      whatever is typed into the cell later, in Excel or in LibreOffice (which does
      not act on the quote prefix when a cell is typed into), is kept as text.
      The What column, whose text may run to several hundred characters, has the
      quote prefix only: Excel shows a Text-formatted cell holding more than 255
      characters as ``####``, and the unit must always see its own words.

    Every text cell a unit fills in on the sheet has this format, on carried and
    empty rows alike, so a new action typed in keeps its words too. The value itself is unchanged (no apostrophe is added to it), so the
    engine reads back exactly what was written. The By when column keeps its date
    format.
    """
    if not value:
        ws.write_blank(row, col, None, fmt)
    elif isinstance(value, datetime):
        ws.write_datetime(row, col, value, fmt)
    else:
        ws.write_string(row, col, value, fmt)


def _iso_date(text: str) -> datetime | None:
    try:
        return datetime.combine(date.fromisoformat(text), datetime.min.time())
    except (TypeError, ValueError):
        return None


def _lists_sheet(wb, network: Network, bank: Bank) -> None:
    ws = wb.add_worksheet(T.LISTS_SHEET)
    for i, label in enumerate(network.labels):
        ws.write_string(i, 0, label)
    for i, word in enumerate(T.YES_NO):
        ws.write_string(i, 1, word)
    for i, area in enumerate(bank.areas):
        ws.write_string(i, 2, area_choice(area))
    for i, status in enumerate(T.ACTION_STATUSES):
        ws.write_string(i, 3, status)
    ws.hide()
    _protect(ws, network.sheet_password)


def meta_sheet(wb, values: dict[str, str], protect) -> None:
    """The very hidden Metadata sheet of a form (``T.META_ROWS``), protected by ``protect(ws)``."""
    ws = wb.add_worksheet(T.META_SHEET)
    for i, key in enumerate(T.META_ROWS):
        ws.write_string(i, 0, key)
        ws.write_string(i, 1, values[key])
    ws.very_hidden()
    protect(ws)


def _meta_sheet(wb, network: Network, values: dict[str, str]) -> None:
    meta_sheet(wb, values, lambda ws: _protect(ws, network.sheet_password))


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


def build_workbook(
    network: Network,
    bank: Bank,
    unit: str,
    period: str,
    token: str,
    carry: Carry | None = None,
) -> bytes:
    """The bytes of one unit's workbook for one period (form ``unit/2``).

    ``carry`` is what the unit's earlier returns bring forward (see
    :func:`engine.generation.read_carry`): last month's ratings and the open actions. Without it
    the Last month column is blank, saying there is no earlier return, and no
    actions are carried. ``token`` must be made for the form ``unit/2``.
    """
    return _build(network, bank, unit, period, token, carry)[1]


def new_workbook(buffer: io.BytesIO) -> xlsxwriter.Workbook:
    """An empty unit workbook writing to ``buffer``, with the options every one is built with."""
    font = presentation()["fonts"]
    return _StructureLockedWorkbook(
        buffer,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            # The Normal style, whose digits Excel measures column widths in.
            "default_format_properties": {
                "font_name": font["name"],
                "font_size": font["default"],
                "font_scheme": "none",
            },
        },
    )


def unit_title(unit: str, period: str) -> tuple[str, str]:
    """The title and subject of a unit's workbook (document properties)."""
    return f"SeQuIn {unit} {period}", f"SeQuIn workbook for {unit}, {month_name(period)}"


def unit_footer(unit: str, period: str) -> str:
    """The footer of every printed sheet of a unit's workbook."""
    # "&" starts a code in a header or footer; "&&" prints one.
    return presentation()["print"]["footer"].format(
        unit=unit.replace("&", "&&"), month=month_name(period)
    )


def _build(
    network: Network,
    bank: Bank,
    unit: str,
    period: str,
    token: str,
    carry: Carry | None = None,
) -> tuple[xlsxwriter.Workbook, bytes]:
    """The closed workbook (its shared strings table is read by the patcher) and its bytes."""
    check_period(period)
    if network.unit(unit) is None:
        raise KeyError(unit)
    buffer = io.BytesIO()
    wb = new_workbook(buffer)
    year, month = (int(x) for x in period.split("-"))
    title, subject = unit_title(unit, period)
    wb.set_properties(
        {
            "title": title,
            "subject": subject,
            "author": network.name,
            "created": datetime(year, month, 1),
        }
    )
    f = _formats(wb)
    footer = unit_footer(unit, period)
    previous = carry.previous if carry else None
    note = last_month_note(previous)
    _start_sheet(wb, f, network, bank, unit, period, footer, note)
    _summary_sheet(wb, f, network, bank, footer)
    for area in bank.areas:
        _area_sheet(wb, f, network, bank, area, footer, note, previous)
    _actions_sheet(wb, f, network, bank, footer, carry)
    _lists_sheet(wb, network, bank)
    meta = {"unit": unit, "period": period, "bank_version": bank.version, "token": token}
    _meta_sheet(wb, network, {**meta, "generated_by": "SeQuIn engine", "form": T.UNIT_FORM})
    wb.close()
    return wb, buffer.getvalue()

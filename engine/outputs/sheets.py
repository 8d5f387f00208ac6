"""The sheet-writing layer: formats, cells, paragraphs, print set-up and fixed workbook properties.

Shared by every output workbook and by the unit workbook generator, so a format,
a print rule or a row-height estimate is written once.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING

import xlsxwriter
from xlsxwriter.core import Core
from xlsxwriter.packager import Packager

from ..numbers import percent_text

if TYPE_CHECKING:
    from .figures import PeriodData

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

# Text from a return must never become a formula, a link or a number.
WORKBOOK_OPTIONS = {
    "in_memory": True,
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
}
PERCENT = '0.0"%"'

MAX_CELL = 32_767
# Control characters, and lone surrogates that no file can hold.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
A4 = 9  # XlsxWriter's paper code


def clean(text: object) -> str:
    """Text safe to write into a cell: control characters removed, within Excel's limit."""
    if text is None:
        return ""
    return _CONTROL.sub("", str(text))[:MAX_CELL]


def period_start(period: str) -> dt.date:
    """The first day of the month ``YYYY-MM``."""
    year, month = (int(x) for x in period.split("-"))
    return dt.date(year, month, 1)


def month_name(period: str) -> str:
    """``2026-11`` as ``November 2026``."""
    year, month = period.split("-")
    return f"{MONTHS[int(month) - 1]} {year}"


def long_date(day) -> str:
    """A date in plain words: ``Thursday 10 December 2026`` (whatever the locale)."""
    return f"{DAYS[day.weekday()]} {day.day} {MONTHS[day.month - 1]} {day.year}"


# Row heights. Excel does not fit rows to their text when a file opens, and
# LibreOffice does not either when it prints one, so every wrapped row is given
# a height here. Measured with Arial (LibreOffice: Liberation Sans) on the
# question bank's texts and long evidence, columns 12 to 70 characters wide: a
# line of a column w characters wide holds at least 1.23 w - 3.3 characters of
# 11 pt text (what a line loses to wrapping whole words is about 3 characters),
# and a 12 pt line takes 13.4 pt in LibreOffice, about 14 pt in Excel. The
# estimate allows 5 % fewer characters a line and 1.25 x the font size a line.
_CHARS_PER_UNIT_11PT = 1.228
_WRAP_LOSS = 3.3
_SAFETY = 0.95
_LINE = 1.25
_PAD = 4.0
# Excel's tallest row: a taller one is cut down to this (so text that needs more is cut off).
MAX_ROW_HEIGHT = 409.0


@lru_cache(maxsize=8192)
def text_lines(text: str, width: float, size: float) -> int:
    """Lines ``text`` takes when wrapped in a column ``width`` characters wide at ``size`` pt.

    A safe estimate (it may say one line more, never fewer), cheap enough to run
    for every wrapped cell: the bank's texts repeat in every workbook and are cached.
    """
    per_line = max(1, int((width * _CHARS_PER_UNIT_11PT * 11 / size - _WRAP_LOSS) * _SAFETY))
    return sum(-(-max(1, len(part)) // per_line) for part in text.split("\n"))


def row_height(lines: int, size: float) -> float:
    """Height in points of a row showing ``lines`` lines of ``size`` pt text (409 at most)."""
    return min(MAX_ROW_HEIGHT, lines * size * _LINE + _PAD)


def set_widths(ws, widths: list[float]) -> None:
    """Column widths, in characters, from column A."""
    for col, width in enumerate(widths):
        ws.set_column(col, col, width)


def print_a4(
    ws,
    *,
    landscape: bool,
    header_row: int | None = None,
    margins: dict | None = None,
    footer: str | None = None,
    footer_margin: float | None = None,
) -> None:
    """A4, one page wide (as many pages down as it takes), header row repeated on each page."""
    if landscape:
        ws.set_landscape()
    else:
        ws.set_portrait()
    ws.set_paper(A4)
    ws.fit_to_pages(1, 0)
    ws.set_margins(**(margins or {"left": 0.4, "right": 0.4, "top": 0.5, "bottom": 0.5}))
    if footer is not None:
        ws.set_footer(footer, {"margin": footer_margin} if footer_margin is not None else {})
    if header_row is not None:
        ws.repeat_rows(header_row)


POINTS = "+0.0;-0.0;0.0"


@lru_cache(maxsize=1)
def presentation() -> dict:
    """Fixed texts, colours and fonts of the benchmark outputs."""
    text = (resources.files("workbook_templates") / "reports.toml").read_text("utf-8")
    return tomllib.loads(text)


class FormatMap:
    """Formats keyed by a word (RAG, rating label), each made on first use."""

    def __init__(self, make, keys):
        self._make = make
        self._keys = set(keys)
        self._made: dict = {}

    def __getitem__(self, key):
        if key not in self._keys:
            raise KeyError(key)
        if key not in self._made:
            self._made[key] = self._make(key)
        return self._made[key]

    def get(self, key, default=None):
        return self[key] if key in self._keys else default


class Formats:
    """The formats of one report workbook, each made on first use and then reused.

    Making only the formats a workbook uses keeps its styles small, which counts
    when hundreds of feedback workbooks are written in one rebuild.
    """

    def __init__(self, wb, roles: dict[str, str]):
        p = presentation()
        font, c = p["fonts"], p["colours"]
        self._wb = wb
        base = {"font_name": font["name"], "font_size": font["body"], "valign": "top"}
        border = {"border": 1, "border_color": c["border"]}
        easy = {**base, "font_size": font["easy_read"], "valign": "vcenter"}
        self._specs = {
            "title": {**base, "bold": True, "font_size": font["title"], "valign": "vcenter"},
            "title_wrap": {
                **base,
                "bold": True,
                "font_size": font["title"],
                "valign": "vcenter",
                "text_wrap": True,
            },
            "heading": {**base, "bold": True, "font_size": font["heading"], "valign": "vcenter"},
            "text": {**base, "text_wrap": True},
            "muted": {**base, "italic": True, "font_color": c["muted_text"], "text_wrap": True},
            "header": {
                **base,
                "bold": True,
                "text_wrap": True,
                "font_color": c["header_text"],
                "bg_color": c["header_fill"],
                **border,
            },
            "cell": {**base, **border},
            "link": {**base, "font_color": "#0563C1", "underline": 1, **border},
            "wrap": {**base, "text_wrap": True, **border},
            "bold": {**base, "bold": True, **border},
            "bold_wrap": {**base, "bold": True, "text_wrap": True, **border},
            "pct": {**base, "num_format": PERCENT, **border},
            "points": {**base, "num_format": POINTS, **border},
            "int": {**base, "num_format": "0", **border},
            "net_label": {**base, "bold": True, "bg_color": c["network_fill"], **border},
            "net_pct": {
                **base,
                "bold": True,
                "num_format": PERCENT,
                "bg_color": c["network_fill"],
                **border,
            },
            "net_cell": {**base, "bold": True, "bg_color": c["network_fill"], **border},
            "missing": {**base, "italic": True, "font_color": c["muted_text"], **border},
            "key_label": {**base, "bold": True, "text_wrap": True, "valign": "vcenter", **border},
            "key_value": {**base, "text_wrap": True, "valign": "vcenter", **border},
            "unlocked": {
                **base,
                "text_wrap": True,
                "locked": False,
                "bg_color": c["unlocked_fill"],
                **border,
            },
            "easy": {**easy, "text_wrap": True},
            "easy_bold": {**easy, "bold": True, "text_wrap": True},
            "easy_title": {**easy, "bold": True, "font_size": font["easy_read_title"]},
            "easy_cell": {**easy, "text_wrap": True, **border},
            "easy_header": {
                **easy,
                "bold": True,
                "text_wrap": True,
                "font_color": c["header_text"],
                "bg_color": c["header_fill"],
                **border,
            },
        }
        fills = {
            "Green": c["green_fill"],
            "Amber": c["amber_fill"],
            "Red": c["red_fill"],
            "": c["none_fill"],
        }
        self.rag = FormatMap(
            lambda k: wb.add_format({**base, "bg_color": fills[k], **border}), fills
        )
        self.rag_bold = FormatMap(
            lambda k: wb.add_format({**base, "bg_color": fills[k], "bold": True, **border}), fills
        )
        # For narrow columns: "Amber (incomplete)" wraps rather than being cut off.
        self.rag_wrap = FormatMap(
            lambda k: wb.add_format({**base, "bg_color": fills[k], "text_wrap": True, **border}),
            fills,
        )
        self.easy_rag = FormatMap(
            lambda k: wb.add_format(
                {**easy, "bold": True, "align": "center", "bg_color": fills[k], **border}
            ),
            fills,
        )
        self.cf = FormatMap(
            lambda k: wb.add_format({"bg_color": fills[k]}), ("Green", "Amber", "Red")
        )
        by_role = {"best": "Green", "middle": "Amber", "worst": "Red", "na": ""}
        self.rating = FormatMap(
            lambda label: self.rag[by_role[roles[label]]] if label else self.missing, [*roles, ""]
        )

    def __getattr__(self, name: str):
        # Called only for formats not made yet.
        specs = self.__dict__.get("_specs", {})
        if name not in specs:
            raise AttributeError(name)
        made = self._wb.add_format(specs[name])
        setattr(self, name, made)
        return made


def put(ws, row: int, col: int, value, fmt=None) -> None:
    """Write a number, a string (as text, never a formula or link) or a blank."""
    if value is None or value == "":
        if fmt is not None:
            ws.write_blank(row, col, None, fmt)
    elif isinstance(value, str):
        ws.write_string(row, col, clean(value), fmt)
    else:
        ws.write_number(row, col, value, fmt)


def wrapped_lines(text: str, width: float, font_size: float = 11) -> int:
    """Lines that wrapped text takes in a column ``width`` characters wide (the shared estimate)."""
    return text_lines(text, width, font_size)


def paragraph(
    ws,
    row: int,
    first: int,
    last: int,
    text: str,
    fmt,
    width: float,
    line_height: float = 15.5,
    font_size: float = 11,
) -> None:
    """Wrapped text across merged columns, with a row tall enough to show it all."""
    if first == last:
        put(ws, row, first, text, fmt)
    else:
        ws.merge_range(row, first, row, last, "", fmt)
        put(ws, row, first, text, fmt)
    ws.set_row(row, max(18.0, wrapped_lines(text, width, font_size) * line_height + 4))


def print_wide(ws, header_row: int | None = None, landscape: bool = True) -> None:
    """The outputs' print set-up: A4, one page wide, header row repeated."""
    print_a4(ws, landscape=landscape, header_row=header_row)


def pct_text(value: float | None) -> str:
    return percent_text(value)


LANGUAGE = "en-GB"  # the document language every workbook declares (docProps/core.xml)
TABLE_STYLE = "Table Style Light 1"  # plain banding; cell formats give the colours


class _LanguageCore(Core):
    """``docProps/core.xml`` with ``<dc:language>``, which XlsxWriter does not write."""

    def _write_cp_keywords(self) -> None:
        super()._write_cp_keywords()
        self._xml_data_element("dc:language", self.properties.get("language", LANGUAGE))


class _Packager(Packager):
    def _write_core_file(self) -> None:
        core = _LanguageCore()
        core._set_properties(self.workbook.doc_properties)
        core._set_xml_writer(self._filename("docProps/core.xml"))
        core._assemble_xml_file()


class Workbook(xlsxwriter.Workbook):
    """An XlsxWriter workbook that also declares its language (``en-GB``)."""

    def _get_packager(self):
        return _Packager()


def table_name(text: str, taken: set[str]) -> str:
    """A valid, unique Excel table name from ``text`` (letters, digits and ``_`` only)."""
    base = re.sub(r"[^0-9A-Za-z_]+", "_", text).strip("_") or "Table"
    if not (base[0].isalpha() or base[0] == "_"):
        base = "T_" + base
    base = base[:200]
    name, n = base, 2
    while name.lower() in taken or re.fullmatch(r"[A-Za-z]{1,3}[0-9]+|[RrCc]", name):
        name, n = f"{base}_{n}", n + 1
    taken.add(name.lower())
    return name


@dataclass
class SheetEntry:
    """A sheet as the contents sheet lists it."""

    name: str
    about: str


@dataclass
class Cover:
    """What the cover sheet says: every field of the checklist's cover."""

    title: str
    about: str
    month: str
    as_at: str
    next_due: str
    contact: str
    how_to_read: list[str] = field(default_factory=list)


class Book:
    """An in-memory output workbook that meets the spreadsheet checklist by construction.

    It opens with a cover sheet, a contents sheet (a link to every sheet) and a
    notes sheet; data sheets come after, each added with :meth:`sheet`. Tables
    are Excel tables with one header row and a name (:meth:`table`); notes are
    numbered ``[note 1]`` (:meth:`note`); charts and images carry alt text
    (:meth:`insert_chart`, :meth:`insert_image`). On :meth:`close` the checklist
    (:mod:`engine.outputs.checklist`) is run over the workbook and its result is
    written on the notes sheet. Properties are fixed, so rebuilding gives the
    same bytes.
    """

    def __init__(self, data: PeriodData, title: str, cover: Cover):
        self.buffer = io.BytesIO()
        self.wb = Workbook(self.buffer, WORKBOOK_OPTIONS)
        start = period_start(data.period)
        self.wb.set_properties(
            {
                "title": title,
                "subject": f"SeQuIn benchmark, {data.month}",
                "author": data.network.name,
                "company": data.network.name,
                "created": dt.datetime(start.year, start.month, start.day),
                "language": LANGUAGE,
            }
        )
        self.f = Formats(self.wb, data.labels)
        self.cover = cover
        self.entries: list[SheetEntry] = []
        self.notes: list[str] = []
        self.tables: list[tuple] = []  # (worksheet, first row, first col, last row, last col)
        self.alt_texts: list[tuple[str, str]] = []  # (sheet, alt text) of each chart and image
        self._table_names: set[str] = set()
        self._cover_ws = self.wb.add_worksheet("Cover")
        self._contents_ws = self.wb.add_worksheet("Contents")
        self._notes_ws = self.wb.add_worksheet("Notes")

    # --- building ---------------------------------------------------------------

    def sheet(self, name: str, about: str):
        """A new data sheet, listed on the contents sheet with what it shows."""
        ws = self.wb.add_worksheet(name)
        self.entries.append(SheetEntry(name, about))
        return ws

    def note(self, text: str) -> str:
        """The marker of a note (``[note 2]``); the same text always gets the same number."""
        if text not in self.notes:
            self.notes.append(text)
        return f"[note {self.notes.index(text) + 1}]"

    def table(
        self,
        ws,
        top: int,
        left: int,
        headers: list[str],
        rows: int,
        name: str,
        header_format=None,
        autofilter: bool = True,
    ) -> int:
        """An Excel table: one header row at ``top``, ``rows`` data rows below it.

        Write the data cells afterwards with :func:`put` (each with its own
        format); a cell left without a value must say why (``[x]`` or ``[z]``).
        Returns the first data row.
        """
        last_row = top + max(rows, 1)
        last_col = left + len(headers) - 1
        fmt = self.f.header if header_format is None else header_format
        ws.add_table(
            top,
            left,
            last_row,
            last_col,
            {
                "name": table_name(name, self._table_names),
                "style": TABLE_STYLE,
                "autofilter": autofilter,
                "columns": [{"header": clean(h), "header_format": fmt} for h in headers],
            },
        )
        self.tables.append((ws, top, left, last_row, last_col))
        return top + 1

    def insert_chart(self, ws, row: int, col: int, chart, alt: str, options=None) -> None:
        """A native chart with its alt text (what it shows, in a sentence or two)."""
        ws.insert_chart(row, col, chart, {**(options or {}), "description": clean(alt)})
        self.alt_texts.append((ws.name, alt))

    def insert_image(self, ws, row: int, col: int, png: bytes, name: str, alt: str, options=None):
        """A PNG image with its alt text."""
        ws.insert_image(
            row,
            col,
            name,
            {**(options or {}), "image_data": io.BytesIO(png), "description": clean(alt)},
        )
        self.alt_texts.append((ws.name, alt))

    # --- finishing --------------------------------------------------------------

    def close(self) -> bytes:
        from .checklist import check_book  # the checklist reads what this class builds

        _write_cover(self)
        _write_contents(self)
        _write_notes(self, check_book(self))
        self.wb.close()
        return self.buffer.getvalue()


def _write_cover(book: Book) -> None:
    f, ws, c = book.f, book._cover_ws, book.cover
    ws.set_column(0, 0, COVER_WIDTH)
    ws.hide_gridlines(2)
    # Wrapped: a long title must not run past the column, or printing would shrink the page.
    size = presentation()["fonts"]["title"]
    ws.write_string(0, 0, clean(c.title), f.title_wrap)
    ws.set_row(0, row_height(text_lines(c.title, COVER_WIDTH, size), size))
    row = 2
    for heading, text in (
        ("What this is", c.about),
        ("Month", c.month),
        ("Figures as at", c.as_at),
        ("Next edition", c.next_due),
        ("Contact", c.contact),
    ):
        put(ws, row, 0, heading, f.heading)
        paragraph(ws, row + 1, 0, 0, text, f.text, COVER_WIDTH)
        row += 3
    if c.how_to_read:
        put(ws, row, 0, "How to read it", f.heading)
        row += 1
        for line in c.how_to_read:
            paragraph(ws, row, 0, 0, line, f.text, COVER_WIDTH)
            row += 1
    print_wide(ws, landscape=False)


def _write_contents(book: Book) -> None:
    f, ws = book.f, book._contents_ws
    ws.set_column(0, 0, 24)
    ws.set_column(1, 1, 46)
    ws.hide_gridlines(2)
    put(ws, 0, 0, "Contents", f.title)
    ws.set_row(0, 26)
    paragraph(ws, 1, 0, 1, "Select a sheet name to go to it.", f.text, 70)
    entries = [
        SheetEntry("Cover", "What this workbook is, for which month, and who to ask"),
        SheetEntry("Notes", "Notes used in this workbook, and its accessibility check"),
    ]
    entries += book.entries
    row = book.table(ws, 3, 0, ["Sheet", "What it shows"], len(entries), "Contents")
    for e in entries:
        ws.write_url(row, 0, f"internal:'{e.name}'!A1", f.link, string=e.name)
        paragraph(ws, row, 1, 1, e.about, f.wrap, 46)
        row += 1
    print_wide(ws, 3, landscape=False)


# Widths in characters. LibreOffice prints a character of column width as up to 7.5 pt
# (Calibri is shown as a wider font where it is not installed): 70 fits A4 portrait.
COVER_WIDTH = 70


def _write_notes(book: Book, results: list) -> None:
    f, ws = book.f, book._notes_ws
    ws.set_column(0, 0, 12)
    ws.set_column(1, 1, 56)
    ws.set_column(2, 2, 34)
    ws.hide_gridlines(2)
    put(ws, 0, 0, "Notes", f.title)
    ws.set_row(0, 26)
    paragraph(ws, 1, 0, 2, "Notes are marked in the sheets like this: [note 1].", f.text, 102)
    notes = book.notes or ["This workbook has no notes."]
    row = book.table(ws, 3, 0, ["Note number", "Note text"], len(notes), "Notes")
    for i, text in enumerate(notes, start=1):
        put(ws, row, 0, f"[note {i}]" if book.notes else "[z]", f.cell)
        paragraph(ws, row, 1, 1, text, f.wrap, 56)
        row += 1
    row += 1
    put(ws, row, 0, "Accessibility check", f.heading)
    row += 1
    met = sum(r.met for r in results)
    paragraph(
        ws,
        row,
        0,
        1,
        f"When it was written, this workbook was checked against the rules for releasing "
        f"statistics in spreadsheets: {met} of {len(results)} rules met.",
        f.text,
        68,
    )
    row += 2
    row = book.table(
        ws, row, 0, ["Rule met", "Rule", "What was found"], len(results), "Accessibility_check"
    )
    for r in results:
        put(ws, row, 0, "Yes" if r.met else "No", f.cell)
        put(ws, row, 1, r.rule, f.wrap)
        put(ws, row, 2, r.detail or "[z]", f.wrap)
        lines = max(text_lines(r.rule, 56, 11), text_lines(r.detail or "[z]", 34, 11))
        ws.set_row(row, row_height(lines, 11))
        row += 1
    print_wide(ws, 3, landscape=True)


def rag_cf(ws, f: Formats, first_row: int, first_col: int, last_row: int, last_col: int) -> None:
    """Colour RAG words (also 'Amber (incomplete)') with conditional formatting."""
    if last_row < first_row:
        return
    for word in ("Green", "Amber", "Red"):
        ws.conditional_format(
            first_row,
            first_col,
            last_row,
            last_col,
            {
                "type": "text",
                "criteria": "begins with",
                "value": word,
                "format": f.cf[word],
            },
        )

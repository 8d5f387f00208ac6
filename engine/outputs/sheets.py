"""The sheet-writing layer: formats, cells, paragraphs, print set-up and fixed workbook properties.

Shared by every output workbook and by the unit workbook generator, so a format,
a print rule or a row-height estimate is written once.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import sys
from functools import lru_cache
from importlib import resources

import xlsxwriter

from .figures import PeriodData, clean, period_start

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
    """Lines that wrapped text takes in a column ``width`` characters wide (an estimate)."""
    per_line = max(1, int(width * 1.2 * 11 / font_size))
    return sum(math.ceil(max(1, len(part)) / per_line) for part in text.split("\n"))


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
    if landscape:
        ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)
    if header_row is not None:
        ws.repeat_rows(header_row)


def set_widths(ws, widths: list[float]) -> None:
    for col, width in enumerate(widths):
        ws.set_column(col, col, width)


def pct_text(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}%"


class Book:
    """An in-memory report workbook with fixed properties (so rebuilding gives the same bytes)."""

    def __init__(self, data: PeriodData, title: str):
        self.buffer = io.BytesIO()
        self.wb = xlsxwriter.Workbook(self.buffer, WORKBOOK_OPTIONS)
        start = period_start(data.period)
        self.wb.set_properties(
            {
                "title": title,
                "subject": f"SeQuIn benchmark, {data.month}",
                "author": data.network.name,
                "company": data.network.name,
                "created": dt.datetime(start.year, start.month, start.day),
            }
        )
        self.f = Formats(self.wb, data.labels)

    def close(self) -> bytes:
        self.wb.close()
        return self.buffer.getvalue()


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



"""Easy read: a page per ward for its noticeboard, and a page for all the wards.

Easy read puts a picture beside every line (picture on the left, a short
sentence on the right), one idea per line, in short everyday words and large
print. Each page prints on one A4 portrait page at 100 %: it is made to fit by
its layout (row heights and column widths), never by shrinking, so every word
prints at the size set in ``[easy_read]`` of ``reports.toml`` (14 pt or more).

The pictures are drawn by the project (:mod:`.pictures`) and shipped as PNG
files; each carries alt text saying what it shows.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from ..numbers import rounded
from . import facts as F
from .common import cover
from .facts import network_trend, unit_facts
from .figures import PeriodData, month_name, months_before
from .pictures import AREA_PICTURES, PICTURES, picture
from .sheets import Book, presentation, put

# Layout of the page: three (picture, words) pairs across; a line of its own
# puts its words across the five columns right of its picture.
# The widths fit A4 portrait in both Excel (Calibri: 7 pixels a character) and
# LibreOffice where Calibri is missing (DejaVu Sans: about 9.5 pixels a character,
# so the same columns come out a third wider); the page must never spill over.
PICTURE_WIDTH = 8.0  # characters: 61 pixels in Excel
WORDS_WIDTH = 16.5  # characters: 120 pixels in Excel; 13 letters of 14 pt a line
COLUMNS = 6
PICTURE_PX = 58  # about 1.5 cm
PAGE_HEIGHT_PT = 11.69 * 72  # A4 portrait
MARGIN_IN = {"left": 0.3, "right": 0.3, "top": 0.35, "bottom": 0.35}
SPARE_PT = 14  # room left at the foot of the page for rounding in spreadsheet programs
ROW_PT = 56  # the height of a line when the page has room to spare
PER_ROW = 3  # parts of ward life side by side


@dataclass(frozen=True)
class Line:
    """One line of the page: a picture and a sentence, in a style."""

    picture: str
    text: str
    style: str = "text"  # text | title | month | green | amber | red


@dataclass(frozen=True)
class Parts:
    """Parts of ward life side by side, each with its picture (area ids)."""

    areas: tuple[str, ...]


@dataclass(frozen=True)
class Verdicts:
    """The parts of ward life sorted by how they are going (area ids, in bank order).

    ``look`` holds Green parts that are not called "going well": an essential
    standard Not met, or most families who answered disagree (:mod:`.facts`).
    """

    green: tuple[str, ...]
    amber: tuple[str, ...]
    red: tuple[str, ...]
    not_done: tuple[str, ...]
    look: tuple[str, ...] = ()


def _words() -> dict:
    return presentation()["easy_read"]


def _count(key: str, n: int, prefix: str = "") -> str:
    forms = _words()[key]
    text = forms["none" if n == 0 else "one" if n == 1 else "many"].format(n=n)
    if prefix and text:
        text = prefix + text[0].lower() + text[1:]
    return text


def _verdict_lines(v: Verdicts, prefix: str = "") -> list:
    """How many parts are going well, getting there and need work, with the good and the bad."""
    rows: list = []
    for key, image, style, areas in (
        ("going_well", "going_well", "green", v.green),
        ("closer_look", "look", "amber", v.look),
        ("getting_there", "getting_there", "amber", v.amber),
        ("needs_work", "needs_work", "red", v.red),
    ):
        if key == "closer_look" and not areas:
            continue  # said only when there is such a part
        # The colour band marks parts that are there; a count of none is a plain line.
        rows.append(Line(image, _count(key, len(areas), prefix), style if areas else "text"))
        if key != "getting_there":
            rows += _grid(areas)
    if v.not_done:
        rows.append(Line("not_done", _count("not_done", len(v.not_done), prefix)))
    return rows


def _grid(areas: tuple[str, ...]) -> list[Parts]:
    return [Parts(areas[i : i + PER_ROW]) for i in range(0, len(areas), PER_ROW)]


# --- what each page says --------------------------------------------------------------------


def unit_lines(data: PeriodData, code: str) -> list:
    """The lines of a ward's own page (a :class:`Line` or a row of :class:`Parts` each)."""
    w = _words()
    facts = unit_facts(data, code)
    n = len(data.areas)
    verdicts = Verdicts(
        facts.standing(F.GOING_WELL),
        facts.standing(F.GETTING_THERE),
        facts.standing(F.NEEDS_WORK),
        facts.standing(F.NOT_DONE),
        facts.standing(F.CLOSER_LOOK),
    )

    signed = data.signoffs.get(code, {})
    yes = sum(1 for area in data.areas if signed.get(area.id) == "Yes")
    if yes == n:
        helped = w["helped_all"].format(n=n)
    elif yes:
        helped = w["helped_some"].format(yes=yes, n=n)
    else:
        helped = w["helped_none"]

    rows: list = [
        Line("ward", ward_name(data, code), "title"),
        Line("calendar", w["unit_month"].format(month=data.month), "month"),
        Line("look", w["unit_looked"].format(n=n)),
        Line("together", helped),
        *_verdict_lines(verdicts),
    ]
    trend = facts.trend
    if trend is None:
        rows.append(Line("calendar", w["no_compare"]))
    elif facts.compared_with == months_before(data.period, 1):
        rows.append(Line(trend, w[trend]))
    else:
        since = w[f"{trend}_since"].format(month=month_name(facts.compared_with).split()[0])
        rows.append(Line(trend, since))
    if verdicts.red:
        rows.append(Line("plan", w["unit_next"]))
    elif verdicts.look:
        rows.append(Line("plan", w["unit_next_look"]))
    else:
        rows.append(Line("plan", w["unit_next_all_good"]))
    rows += [Line("question", w["ask_more"]), Line("speech", w["ask_who"])]
    return rows


def network_lines(data: PeriodData) -> list:
    """The lines of the page for all the wards."""
    w = _words()
    rows: list = [
        Line("ward", w["all_heading"], "title"),
        Line("calendar", w["all_month"].format(month=data.month), "month"),
    ]
    if not data.units:
        rows += [
            Line("not_done", w["no_returns"]),
            Line("calendar", w["no_returns_next"]),
            Line("question", w["ask_more"]),
            Line("speech", w["ask_who"]),
        ]
        return rows
    c = data.counts()
    rows += [
        Line(
            "post", w["all_returned"].format(returned=c["returned"], units=len(data.network.units))
        ),
        Line("look", w["all_looked"].format(n=len(data.areas))),
    ]
    share = data.coproduction_share()
    if share is not None:
        tenths = int(rounded(share / 10, 0))
        if share == 100:
            helped = w["all_helped_all"]
        elif tenths == 10:
            helped = w["all_helped_nearly_all"]
        elif share == 0:
            helped = w["all_helped_none"]
        else:
            helped = w["all_helped"].format(share=max(1, tenths))
        rows.append(Line("together", helped))
    sorted_areas: dict[str, list[str]] = {"Green": [], "Amber": [], "Red": [], "": []}
    for area in data.areas:
        median = data.area_spread[area.id].median
        rag = data.network.rag(median) if median is not None else ""
        sorted_areas.get(rag, sorted_areas[""]).append(area.id)
    verdicts = Verdicts(*(tuple(sorted_areas[k]) for k in ("Green", "Amber", "Red", "")))
    rows += _verdict_lines(verdicts, w["all_prefix"])
    trend = network_trend(data)
    if trend is not None:
        rows.append(Line(trend, w[f"all_{trend}"]))
    rows += [
        Line("plan", w["all_next"]),
        Line("question", w["ask_more"]),
        Line("speech", w["ask_who"]),
    ]
    return rows


# --- writing a page -------------------------------------------------------------------------


class _Styles:
    """The formats of the easy-read pages (made once per workbook)."""

    def __init__(self, book: Book):
        p = presentation()
        w, c, font = p["easy_read"], p["colours"], p["fonts"]["name"]
        base = {"font_name": font, "valign": "vcenter", "text_wrap": True}
        add = book.wb.add_format
        self.title_size = w["title_size"]
        self.formats = {
            "title": add({**base, "bold": True, "font_size": w["title_size"], "bottom": 2}),
            "month": add({**base, "bold": True, "font_size": w["month_size"]}),
            "text": add({**base, "font_size": w["size"]}),
            "area": add({**base, "font_size": w["area_size"]}),
            "title_picture": add({**base, "font_size": w["size"], "bottom": 2}),
        }
        for style, fill in (("green", "green_fill"), ("amber", "amber_fill"), ("red", "red_fill")):
            self.formats[style] = add(
                {**base, "bold": True, "font_size": w["size"], "bg_color": c[fill]}
            )


def _title_height(text: str, size: float) -> float:
    """The height of the title line: one line of large print, or two for a long name."""
    across = (COLUMNS // 2 - 1) * (PICTURE_WIDTH + WORDS_WIDTH) + PICTURE_WIDTH
    per_line = max(1, int(across * 7 * 0.75 / (0.58 * size)))  # points across / points a letter
    lines = -(-len(text) // per_line)
    return float(max(ROW_PT, math.ceil(lines * size * 1.25 + 8)))


def _row_height(rows: int, taken: float = 0.0) -> float:
    """The height of the other lines: as tall as there is room for, up to :data:`ROW_PT`."""
    room = PAGE_HEIGHT_PT - 72 * (MARGIN_IN["top"] + MARGIN_IN["bottom"]) - SPARE_PT - taken
    return float(min(ROW_PT, int(room / max(rows, 1))))


def _place(book: Book, ws, row: int, col: int, name: str, height_pt: float, right: bool = False):
    """A picture in a cell, middle of the row; at the right end of a words column if ``right``."""
    size = min(PICTURE_PX, int(height_pt * 4 / 3) - 6)
    png = picture(name)
    width_px, dpi = _png_size(png)
    scale = size / (width_px * 96 / dpi)
    col_px = int((WORDS_WIDTH if right else PICTURE_WIDTH) * 7 + 5)
    x = col_px - size - 6 if right else (col_px - size) // 2
    y = max(0, (int(height_pt * 4 / 3) - size) // 2)
    book.insert_image(
        ws,
        row,
        col,
        png,
        PICTURES[name].file,
        PICTURES[name].alt,
        {"x_scale": scale, "y_scale": scale, "x_offset": x, "y_offset": y, "object_position": 1},
    )


def _png_size(png: bytes) -> tuple[int, float]:
    """Width in pixels and dots per inch of a PNG (96 when it does not say)."""
    width = int.from_bytes(png[16:20], "big")
    at = png.find(b"pHYs")
    if at < 0:
        return width, 96.0
    per_metre = int.from_bytes(png[at + 4 : at + 8], "big")
    unit = png[at + 12]
    return width, (per_metre * 0.0254 if unit == 1 and per_metre else 96.0)


def write_page(book: Book, st: _Styles, name: str, about: str, rows: list) -> None:
    """An easy-read sheet: its lines with their pictures, on one A4 portrait page at 100 %."""
    areas = _words()["areas"]
    ws = book.sheet(name, about)
    for col in range(COLUMNS):
        ws.set_column(col, col, PICTURE_WIDTH if col % 2 == 0 else WORDS_WIDTH)
    title = rows[0]
    top = _title_height(title.text, st.title_size)
    height = _row_height(len(rows) - 1, top)
    for r, row in enumerate(rows):
        ws.set_row(r, top if r == 0 else height)
        if r == 0:
            # The title is in A1, so its picture sits at the right end of the line.
            ws.merge_range(r, 0, r, COLUMNS - 2, "", st.formats["title"])
            put(ws, r, 0, row.text, st.formats["title"])
            put(ws, r, COLUMNS - 1, "", st.formats["title_picture"])
            _place(book, ws, r, COLUMNS - 1, row.picture, top, right=True)
        elif isinstance(row, Line):
            fmt = st.formats[row.style]
            ws.merge_range(r, 1, r, COLUMNS - 1, "", fmt)
            put(ws, r, 1, row.text, fmt)
            _place(book, ws, r, 0, row.picture, height)
        else:
            for i, area in enumerate(row.areas):
                put(ws, r, 2 * i + 1, areas[area], st.formats["area"])
                _place(book, ws, r, 2 * i, AREA_PICTURES[area], height)
    ws.hide_gridlines(2)
    ws.set_portrait()
    ws.set_paper(9)  # A4
    ws.set_margins(**MARGIN_IN)
    ws.set_print_scale(100)
    ws.center_horizontally()
    ws.print_area(0, 0, len(rows) - 1, COLUMNS - 1)


# --- the workbooks --------------------------------------------------------------------------


def _cover(data: PeriodData, title: str, unit_page: bool):
    """The cover: what these pages are, and (in plain words) which sheet to print."""
    w = _words()
    lines = [
        line.format(unit_sheet=w["unit_sheet"], all_sheet=w["all_sheet"])
        for line in w["cover_lines"]
    ]
    base = cover(data, title, w["cover_about"])
    return dataclasses.replace(base, how_to_read=lines if unit_page else lines[1:])


def easy_read_workbook(data: PeriodData) -> bytes:
    """The easy-read page for all the wards: one A4 page in plain words with pictures."""
    w = _words()
    title = w["title"].format(month=data.month)
    book = Book(data, title, _cover(data, title, unit_page=False))
    write_page(book, _Styles(book), w["all_sheet"], w["all_sheet_about"], network_lines(data))
    return book.close()


def ward_name(data: PeriodData, code: str) -> str:
    """The ward's own name: its page is for its own noticeboard, as its feedback is for its
    own team, so it is named even where shared outputs show codes only."""
    unit = data.network.unit(code)
    return unit.name if unit and unit.name else code


def unit_easy_read_workbook(data: PeriodData, code: str) -> bytes:
    """A ward's easy-read page for its noticeboard (one A4 page), then the page for all wards.

    ``code`` must be a unit with a return counted for the month (``KeyError`` if not).
    """
    if code not in data.results:
        raise KeyError(f"{code} has no return counted for {data.month}")
    w = _words()
    title = w["unit_title"].format(unit=ward_name(data, code), month=data.month)
    book = Book(data, title, _cover(data, title, unit_page=True))
    styles = _Styles(book)
    write_page(book, styles, w["unit_sheet"], w["unit_sheet_about"], unit_lines(data, code))
    write_page(book, styles, w["all_sheet"], w["all_sheet_about"], network_lines(data))
    return book.close()

"""The family and friends workbook: a short signed easy-read form per unit and month.

Families and friends of the people on a ward say, for each of the 12 parts of
ward life, whether they agree with the ward's own result and what they would
tell the ward. Nothing asks for a name. Positions come from
:mod:`engine.template` (form ``family/1``); texts, widths and colours from
``workbook_templates/family_workbook.toml``.

The workbook is one sheet, ``Your say``, in easy read: a picture beside every
line, large print (14 pt and more; the page footer 12 pt), printed on A4
portrait at 100 % on two pages at most, so it can be handed out on paper,
filled in by hand and typed in by the involvement lead. Like the unit
workbook it is protected, its structure locked, and signed: its token is made
for the family form (:data:`engine.template.FAMILY_FORM`), so it can never
pass as a unit's return. The same inputs give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import sys
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources

from . import template as T
from .bank import Area, Bank
from .home import Network, check_period
from .outputs.pictures import AREA_PICTURES, PICTURES, picture
from .outputs.sheets import WORKBOOK_OPTIONS, clean, month_name, row_height, text_lines
from .outputs.sheets import Workbook as _LanguageWorkbook
from .outputs.sheets import presentation as _reports
from .workbook import _StructureLockedWorkbook, meta_sheet

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

RAG_WORDS = ("Green", "Amber", "Red")
_FOOTER_NAME = 60  # characters of the ward's name in the page footer (Excel allows 255 in all)


def area_words(area_id: str, fallback: str | None = None) -> str:
    """The plain name of a part of ward life ("Having a say"), as the family form shows it.

    An area the easy-read words do not know raises ``KeyError``, unless a
    ``fallback`` is given.
    """
    words = _reports()["easy_read"]["areas"]
    if fallback is not None:
        return words.get(area_id, fallback)
    return words[area_id]


@lru_cache(maxsize=1)
def presentation() -> dict:
    """Texts, widths and colours of the family and friends workbook."""
    text = (resources.files("workbook_templates") / "family_workbook.toml").read_text("utf-8")
    return tomllib.loads(text)


def said_text(rag: str) -> str:
    """What the ward said about a part, in plain words: ``The ward says: going well``."""
    said = presentation()["text"]["said"]
    return said[rag] if rag in RAG_WORDS else said["none"]


class _FamilyWorkbook(_StructureLockedWorkbook, _LanguageWorkbook):
    """Structure locked (no sheet can be added, unhidden or renamed) and declared en-GB."""


@lru_cache(maxsize=64)
def _picture(name: str) -> tuple[bytes, float]:
    """A picture's PNG bytes and the scale that draws it ``picture_px`` pixels across."""
    png = picture(name)
    width = int.from_bytes(png[16:20], "big")
    dpi = 96.0
    at = png.find(b"pHYs")
    if at >= 0 and png[at + 12] == 1:
        per_metre = int.from_bytes(png[at + 4 : at + 8], "big")
        dpi = per_metre * 0.0254 or 96.0
    return png, presentation()["layout"]["picture_px"] / (width * 96 / dpi)


def _place(ws, row: int, name: str, height_pt: float) -> None:
    """Picture ``name`` in column A of ``row``, in the middle of the cell, with its alt text."""
    if name not in PICTURES:
        name = "ward"
    png, scale = _picture(name)
    size = presentation()["layout"]["picture_px"]
    col_px = int(presentation()["layout"]["widths"][0] * 7 + 5)
    ws.insert_image(
        row,
        0,
        PICTURES[name].file,
        {
            "image_data": io.BytesIO(png),
            "description": PICTURES[name].alt,
            "x_scale": scale,
            "y_scale": scale,
            "x_offset": max(0, (col_px - size) // 2),
            "y_offset": max(0, (int(height_pt * 4 / 3) - size) // 2),
            "object_position": 2,
        },
    )


class _Formats:
    def __init__(self, wb):
        p = presentation()
        font, c = p["fonts"], p["colours"]
        base = {"font_name": font["name"], "font_scheme": "none", "valign": "vcenter"}
        border = {"border": 1, "border_color": c["border"]}
        table = {**base, "font_size": font["table"], "text_wrap": True, **border}

        def fmt(**kw):
            return wb.add_format(kw)

        self.title = fmt(**base, bold=True, font_size=font["title"], text_wrap=True)
        self.line = fmt(**base, font_size=font["line"], text_wrap=True)
        self.picture = fmt(**base, **border, bg_color=c["locked_fill"])
        self.header = fmt(
            **table, bold=True, font_color=c["header_text"], bg_color=c["header_fill"]
        )
        self.area = fmt(**table, bold=True, bg_color=c["locked_fill"])
        fills = {rag: c[f"{rag.lower()}_fill"] for rag in RAG_WORDS}
        self.said = {rag: fmt(**table, bg_color=fill) for rag, fill in fills.items()}
        self.said[""] = fmt(**table, bg_color=c["none_fill"])
        self.agree = fmt(**table, locked=False, bg_color=c["answer_fill"])
        self.comment = fmt(**{**table, "valign": "top"}, locked=False, bg_color=c["answer_fill"])


def _line_height(text: str, width: float, size: float, least: float) -> float:
    return max(least, row_height(text_lines(text, width, size), size))


def _your_say(
    wb,
    f: _Formats,
    network: Network,
    bank: Bank,
    period: str,
    results: Mapping[str, str],
    ward: str,
    footer: str,
) -> None:
    p = presentation()
    font, lay, words = p["fonts"], p["layout"], p["text"]
    widths = lay["widths"]
    across = sum(widths[1:])
    ws = wb.add_worksheet(T.FAMILY_SHEET)
    for col, width in enumerate(widths):
        ws.set_column(col, col, width)
    last = T.FAMILY_LAST_COL - 1
    values = {"ward": ward, "month": month_name(period), "n": len(bank.areas)}

    def line(row: int, picture_name: str, text: str, fmt, size: float) -> None:
        text = clean(text)
        height = _line_height(text, across, size, lay["line_row"])
        ws.set_row(row, height)
        ws.write_blank(row, 0, None)
        ws.merge_range(row, 1, row, last, "", fmt)
        ws.write_string(row, 1, text, fmt)
        _place(ws, row, picture_name, height)

    # Rows 1-5: the title and what the form is for.
    line(0, "ward", words["title"].format(**values), f.title, font["title"] * 1.1)
    for i, (picture_name, text) in enumerate(words["lines"], start=1):
        line(i, picture_name, text.format(**values), f.line, font["line"])

    # Row 6: the headers.
    header = T.FAMILY_HEADER_ROW - 1
    size = font["table"]
    for col, text in enumerate(words["headers"]):
        ws.write_string(header, col, text, f.header)
    ws.set_row(
        header,
        max(
            row_height(text_lines(t, w, size * 1.1), size) for t, w in zip(words["headers"], widths)
        ),
    )
    ws.repeat_rows(header)

    # Rows 7-18: the parts of ward life, in bank order.
    for area in bank.areas:
        _area_row(ws, f, area, results.get(area.id, ""), size)
    first, end = T.family_row(1) - 1, T.family_row(len(bank.areas)) - 1
    ws.data_validation(
        first,
        3,
        end,
        3,
        {
            "validate": "list",
            "source": f"={T.LISTS_SHEET}!$A$1:$A${len(T.AGREE_CHOICES)}",
            "input_title": words["agree_title"],
            "input_message": words["agree_message"],
            "error_title": words["agree_title"],
            "error_message": words["agree_error"],
        },
    )
    ws.data_validation(
        first,
        4,
        end,
        4,
        {
            "validate": "any",
            "input_title": words["comment_title"],
            "input_message": words["comment_message"],
        },
    )

    # After a blank row: how to send the form back, and how it works on paper.
    own = network.extra.get("family_return_instructions")
    if isinstance(own, str) and own.strip():
        computer = words["return_computer"].format(family_return_instructions=own.strip())
    else:
        computer = words["return_computer_plain"]
    row = end + 2
    ws.set_row(end + 1, 12)
    for picture_name, text in (
        ("post", words["return_paper"]),
        ("phones", computer),
        ("plan", words["paper"]),
    ):
        line(row, picture_name, text, f.line, font["line"])
        row += 1

    ws.hide_gridlines(2)
    ws.set_portrait()
    ws.set_paper(9)  # A4
    ws.set_print_scale(100)
    ws.set_margins(**p["print"]["margins"])
    ws.set_footer(footer, {"margin": p["print"]["footer_margin"]})
    ws.print_area(0, 0, row - 1, last)
    ws.activate()
    _protect(ws, network.sheet_password)


def _area_row(ws, f: _Formats, area: Area, rag: str, size: float) -> None:
    lay = presentation()["layout"]
    widths = lay["widths"]
    row = T.family_row(area.index) - 1
    name = area_words(area.id, fallback=area.short_name)
    said = said_text(rag)
    height = max(
        lay["area_row"],
        row_height(text_lines(name, widths[1], size * 1.1), size),
        row_height(text_lines(said, widths[2], size), size),
    )
    ws.set_row(row, height)
    ws.write_blank(row, 0, None, f.picture)
    ws.write_string(row, 1, name, f.area)
    ws.write_string(row, 2, said, f.said[rag if rag in RAG_WORDS else ""])
    ws.write_blank(row, 3, None, f.agree)
    ws.write_blank(row, 4, None, f.comment)
    _place(ws, row, AREA_PICTURES.get(area.id, "ward"), height)


def _protect(ws, password: str) -> None:
    # Row heights may change (room for a long comment); nothing else but the answer cells.
    ws.protect(password, {"format_rows": True})


def _lists_sheet(wb, network: Network) -> None:
    ws = wb.add_worksheet(T.LISTS_SHEET)
    for i, word in enumerate(T.AGREE_CHOICES):
        ws.write_string(i, 0, word)
    ws.hide()
    _protect(ws, network.sheet_password)


def _meta_sheet(wb, network: Network, values: dict[str, str]) -> None:
    meta_sheet(wb, values, lambda ws: _protect(ws, network.sheet_password))


def build_family_workbook(
    network: Network,
    bank: Bank,
    unit_code: str,
    period: str,
    token: str,
    results: Mapping[str, str],
    ward_name: str = "",
) -> bytes:
    """The bytes of one unit's family and friends workbook for one month.

    ``results`` gives the unit's RAG word (``Green``, ``Amber`` or ``Red``) for each
    area id of the month; an area missing or with any other value was not finished.
    ``token`` must be made for :data:`engine.template.FAMILY_FORM`
    (``engine.home.make_token(secret, unit, period, bank.version, T.FAMILY_FORM)``).
    ``ward_name`` is how the form names the ward (by default the unit's name, or its code).
    """
    check_period(period)
    unit = network.unit(unit_code)
    if unit is None:
        raise KeyError(unit_code)
    ward = clean(ward_name or unit.name or unit_code).strip() or unit_code
    p = presentation()
    buffer = io.BytesIO()
    wb = _FamilyWorkbook(
        buffer,
        {
            **WORKBOOK_OPTIONS,
            # The Normal style, whose digits Excel measures column widths in.
            "default_format_properties": {
                "font_name": p["fonts"]["name"],
                "font_size": p["fonts"]["default"],
                "font_scheme": "none",
            },
        },
    )
    year, month = (int(x) for x in period.split("-"))
    wb.set_properties(
        {
            "title": f"SeQuIn family and friends {unit_code} {period}",
            "subject": f"Your say about {ward}, {month_name(period)}",
            "author": network.name,
            "created": dt.datetime(year, month, 1),
            "language": "en-GB",
        }
    )
    # "&" starts a code in a header or footer; "&&" prints one.
    short = ward if len(ward) <= _FOOTER_NAME else ward[: _FOOTER_NAME - 3].rstrip() + "..."
    footer = p["print"]["footer"].format(ward=short.replace("&", "&&"), month=month_name(period))
    _your_say(wb, _Formats(wb), network, bank, period, results, ward, footer)
    _lists_sheet(wb, network)
    _meta_sheet(
        wb,
        network,
        {
            "unit": unit_code,
            "period": period,
            "bank_version": bank.version,
            "token": token,
            "generated_by": "SeQuIn engine",
            "form": T.FAMILY_FORM,
        },
    )
    wb.close()
    return buffer.getvalue()

"""Printed workbooks: rendered by LibreOffice, every word on every page measured.

Teams print the unit workbook for their monthly meeting and the feedback
workbook afterwards. Each is rendered to PDF by a real LibreOffice, and
``pdftotext -bbox`` gives every printed word with its box: the box height of a
word is its printed font size times a factor of the font, measured here by
printing text of a known size at 100 %. Body text must print at 10 pt or more
(titles are larger; the unit workbook's page footer at 9 pt or more), and the
text of every cell must be there in full, not cut off by a row too short for it.
"""

from __future__ import annotations

import html
import re
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import xlsxwriter
from openpyxl import load_workbook

from engine import template as T
from engine import workbook as W
from engine.outputs import build as reports
from engine.outputs.sheets import presentation as report_presentation
from engine.pipeline import Intake
from engine.synthetic import fill_workbook

from .conftest import PERIOD, blank_workbook, full_answers, make_return

pytestmark = pytest.mark.slow

MIN_BODY_PT = 10.0
MIN_FOOTER_PT = 9.0
EVIDENCE_CHARS = 600


@dataclass(frozen=True)
class Word:
    text: str
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def height(self) -> float:
        return self.y1 - self.y0


@dataclass(frozen=True)
class Page:
    number: int
    width: float
    height: float
    words: tuple[Word, ...]


_PAGE = re.compile(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', re.DOTALL)
_WORD = re.compile(
    r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>'
)


def pdf_pages(pdf: Path) -> list[Page]:
    """Every page of ``pdf`` with every word and its box (points, from the top left)."""
    xml = subprocess.run(
        ["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    pages = []
    for n, (width, height, body) in enumerate(_PAGE.findall(xml), start=1):
        words = tuple(
            Word(html.unescape(m[4]), float(m[0]), float(m[1]), float(m[2]), float(m[3]))
            for m in _WORD.findall(body)
        )
        pages.append(Page(n, float(width), float(height), words))
    return pages


def pdf_text(pdf: Path) -> str:
    """The PDF's text in the order it was drawn (a wrapped cell's lines stay together),
    as :func:`flat` puts it."""
    raw = subprocess.run(
        ["pdftotext", "-raw", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    return flat(raw)


def flat(text: str) -> str:
    """White space as single spaces, and none after a hyphen (a line may end at one)."""
    return re.sub(r"- ", "-", " ".join(text.split()))


def render(xlsx: Path, outdir: Path) -> Path:
    from libreoffice import convert_to_pdf

    return convert_to_pdf(xlsx, outdir)


@pytest.fixture(scope="module")
def box_per_point(tmp_path_factory) -> dict[str, float]:
    """Word box height per point of font size, per font, printed at 100 %.

    The factor depends on the font LibreOffice prints with (Liberation Sans for
    Arial; Carlito, or DejaVu Sans where it is missing, for Calibri), so it is
    measured on this machine rather than assumed.
    """
    from conftest_libreoffice import require_libreoffice, require_pdftoppm

    require_libreoffice()
    require_pdftoppm()  # poppler-utils, which also gives pdftotext
    folder = tmp_path_factory.mktemp("calibrate")
    fonts = sorted({W.presentation()["fonts"]["name"], report_presentation()["fonts"]["name"]})
    path = folder / "calibrate.xlsx"
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet()
    ws.set_column(0, 0, 40)
    for row, font in enumerate(fonts):
        fmt = wb.add_format({"font_name": font, "font_size": 10, "font_scheme": "none"})
        ws.write_string(row, 0, f"Calibrate{row} Wordy gyp", fmt)
    ws.set_paper(9)
    ws.set_print_scale(100)
    wb.close()
    words = {w.text: w for page in pdf_pages(render(path, folder)) for w in page.words}
    return {font: words[f"Calibrate{row}"].height / 10 for row, font in enumerate(fonts)}


def printed_sizes(pdf: Path, factor: float, footer_from: float | None = None):
    """Per page, the printed size (pt) of its smallest body word and of its smallest footer word."""
    out = []
    for page in pdf_pages(pdf):
        body = [
            w.height / factor
            for w in page.words
            if footer_from is None or w.y0 < page.height - footer_from
        ]
        foot = [
            w.height / factor
            for w in page.words
            if footer_from is not None and w.y0 >= page.height - footer_from
        ]
        out.append((page.number, min(body, default=None), min(foot, default=None)))
    return out


def row_heights(xlsx: Path, sheet: str) -> dict[int, tuple[float, bool]]:
    """Row number -> (height, set by hand) as the file says (openpyxl cannot tell the mark)."""
    with zipfile.ZipFile(xlsx) as zf:
        index = load_workbook(xlsx, read_only=True).sheetnames.index(sheet) + 1
        xml = zf.read(f"xl/worksheets/sheet{index}.xml").decode()
    out = {}
    for attrs in re.findall(r"<row ([^>]*)>", xml):
        found = dict(re.findall(r'(\w+)="([^"]*)"', attrs))
        if "ht" in found:
            custom = found.get("customHeight", "0") in ("1", "true")
            out[int(found["r"])] = (float(found["ht"]), custom)
    return out


def long_text(tag: str, length: int = EVIDENCE_CHARS) -> str:
    """Evidence of exactly ``length`` characters that ends with a word unique to it."""
    body = (
        "We looked at the community meeting minutes, the ward round notes and the care plans, "
        "and talked with service users and staff about what really happens each week. "
    ) * (length // 100 + 2)
    end = f" End{tag}."
    return body[: length - len(end)] + end


def assert_every_page_readable(
    sizes, name: str, footer: bool, minimum: float = MIN_BODY_PT
) -> None:
    assert sizes, f"{name}: no pages"
    small = [(n, round(b, 2)) for n, b, _f in sizes if b is None or b < minimum - 0.05]
    assert not small, f"{name}: pages whose body text prints under {minimum} pt: {small}"
    if footer:
        feet = [(n, f) for n, _b, f in sizes if f is None or f < MIN_FOOTER_PT - 0.05]
        assert not feet, f"{name}: pages without a footer of {MIN_FOOTER_PT} pt or more: {feet}"


# --- the unit workbook -----------------------------------------------------------------


def test_unit_workbook_prints_at_10_pt_with_every_text_in_full(home, tmp_path, box_per_point):
    bank = home.bank()
    cells = full_answers(home, "M01")
    evidence = {}
    for area in bank.areas:
        sheet = T.area_sheet_name(area.index, area.short_name)
        for pos in (0, 4, 9):
            std = area.standards[pos]
            text = long_text(std.id.replace("-", ""))
            assert len(text) == EVIDENCE_CHARS
            cells[(sheet, T.answer_cells(pos).evidence)] = text
            evidence[std.id] = text
    path = tmp_path / T.file_name("M01", PERIOD)
    path.write_bytes(fill_workbook(blank_workbook(home, "M01"), cells))
    pdf = render(path, tmp_path / "pdf")

    factor = box_per_point[W.presentation()["fonts"]["name"]]
    footer_from = W.presentation()["print"]["margins"]["bottom"] * 72
    sizes = printed_sizes(pdf, factor, footer_from)
    assert_every_page_readable(sizes, "unit workbook", footer=True)
    # Start here, Summary, then about three pages per area: not a page per standard.
    assert len(bank.areas) + 2 <= len(sizes) <= 4 * len(bank.areas) + 2
    print("unit workbook: min body pt per page", [round(b, 1) for _n, b, _f in sizes])

    text = pdf_text(pdf)
    missing = [qid for qid, ev in evidence.items() if flat(ev) not in text]
    assert not missing, f"600-character evidence cut off for {missing}"
    cut = [
        s.id for s in bank.standards if flat(s.text) not in text or flat(s.easy_read) not in text
    ]
    assert not cut, f"standard or easy-read wording cut off for {cut}"
    due = W.long_date(home.network.due_date(PERIOD))
    assert f"Please send it back by {due}." in text
    assert flat(home.network.return_instructions) in text


def test_longer_evidence_typed_in_a_spreadsheet_grows_its_row(
    home, tmp_path, libreoffice, box_per_point
):
    """An answer row is not fixed: evidence longer than the room left for it, entered
    in a spreadsheet application (here LibreOffice, as a person would), makes it taller."""
    src = tmp_path / "blank.xlsx"
    src.write_bytes(blank_workbook(home, "M01"))
    area = home.bank().areas[0]
    sheet = T.area_sheet_name(area.index, area.short_name)
    texts = {pos: long_text(f"Typed{pos}", 3 * EVIDENCE_CHARS) for pos in (0, 5)}
    dst = tmp_path / "typed.xlsx"
    libreoffice.fill(
        [
            {
                "src": str(src),
                "dst": str(dst),
                "cells": [
                    {"sheet": sheet, "cell": T.answer_cells(pos).evidence, "value": text}
                    for pos, text in texts.items()
                ],
            }
        ]
    )
    before, after = row_heights(src, sheet), row_heights(dst, sheet)
    for pos in texts:
        row = T.standard_row(pos)
        assert not before[row][1], "answer rows are not marked as sized by hand"
        assert after[row][0] > 2 * before[row][0], "the row grew with the evidence"
    untouched = T.standard_row(1)
    assert after[untouched][0] == pytest.approx(before[untouched][0], abs=1)

    pdf = render(dst, tmp_path / "pdf")
    footer_from = W.presentation()["print"]["margins"]["bottom"] * 72
    sizes = printed_sizes(pdf, box_per_point[W.presentation()["fonts"]["name"]], footer_from)
    assert_every_page_readable(sizes, "typed unit workbook", footer=True)
    text = pdf_text(pdf)
    for typed in texts.values():
        # LibreOffice fits the row to the text as laid out on screen; printed, the
        # same text can wrap onto one line more, which its own fit then cuts off
        # (text the engine sizes has room to spare: see the test above).
        shown = flat(typed)[: len(flat(typed)) * 9 // 10]
        assert shown in text


# --- the unit feedback workbook --------------------------------------------------------


def test_feedback_and_commissioner_workbooks_print_readably_in_full(home, tmp_path, box_per_point):
    """The feedback workbook at 10 pt or more, the commissioner summary at 9 pt or more."""
    bank = home.bank()
    first = bank.areas[0]
    sheet = T.area_sheet_name(first.index, first.short_name)
    # M01 has not met the first area; M02 met it with long evidence, which M01's
    # feedback offers as ideas; L01 is a third unit for the network figures.
    m01 = full_answers(home, "M01")
    m02 = full_answers(home, "M02")
    ideas = {}
    for pos, std in enumerate(first.standards):
        m01[(sheet, T.answer_cells(pos).rating)] = "Not met"
        m01[(sheet, T.answer_cells(pos).notes)] = long_text(f"Note{pos}", 300)
        ideas[std.id] = long_text(f"Idea{pos}")
        m02[(sheet, T.answer_cells(pos).evidence)] = ideas[std.id]
    paths = [
        make_return(home, "M01", cells=m01),
        make_return(home, "M02", cells=m02),
        make_return(home, "L01", synthetic=True),
    ]
    with Intake(home) as intake:
        assert {o.outcome for o in intake.process_many(paths)} == {"accepted"}
    ledger = home.open_ledger()
    try:
        reports.refresh_outputs(home, [PERIOD], ledger=ledger)
    finally:
        ledger.close()
    path = home.outbox / PERIOD / "feedback" / f"SeQuIn_feedback_M01_{PERIOD}.xlsx"
    pdf = render(path, tmp_path / "pdf")

    factor = box_per_point[report_presentation()["fonts"]["name"]]
    sizes = printed_sizes(pdf, factor)  # every page: cover, contents and notes included
    assert_every_page_readable(sizes, "feedback workbook", footer=False, minimum=MIN_REPORT_PT)
    print("feedback workbook: min body pt per page", [round(b, 1) for _n, b, _f in sizes])

    text = pdf_text(pdf)
    missing = [qid for qid, idea in ideas.items() if flat(f"Idea: {idea}") not in text]
    assert not missing, f"ideas cut off for {missing}"
    cut = [s.id for s in bank.standards if flat(s.text) not in text]
    assert not cut, f"standard wording cut off for {cut}"
    # The charts mark the unit's own values; other units are never named.
    assert "Your unit" in text
    for other in ("M02", "L01"):
        assert other not in text

    # The commissioner summary of the same month: every page at 9 pt or more, and its
    # first sheet (the summary for a board pack) on one page.
    summary = home.outbox / PERIOD / f"SeQuIn_commissioners_{PERIOD}.xlsx"
    pdf = render(summary, tmp_path / "pdf")
    sizes = printed_sizes(pdf, factor)
    small = [(n, round(b, 2)) for n, b, _f in sizes if b is None or b < MIN_REPORT_PT - 0.05]
    assert not small, f"commissioner summary: pages under {MIN_REPORT_PT} pt: {small}"
    print("commissioner summary: min body pt per page", [round(b, 1) for _n, b, _f in sizes])
    pages = {page.number: page for page in pdf_pages(pdf)}
    first = next(
        n for n, page in pages.items() if n > 1 and page_title(page).startswith("SeQuIn summary")
    )
    assert "Areas this month" in page_text(pages[first])
    assert page_title(pages[first + 1]).startswith("Essential standards rated")


MIN_REPORT_PT = 9.0  # outputs other than what units fill in


def page_title(page: Page) -> str:
    """The first line of a printed page."""
    words = sorted(page.words, key=lambda w: (round(w.y0), w.x0))
    if not words:
        return ""
    top = round(words[0].y0)
    return " ".join(w.text for w in words if round(w.y0) == top)


def page_text(page: Page) -> str:
    return " ".join(w.text for w in sorted(page.words, key=lambda w: (round(w.y0), w.x0)))


def own_pages(pdf: Path, sizes, first_sheet: str):
    """The sizes of the cover page and of the pages from the first data sheet on (its
    title contains ``first_sheet``): the contents and notes sheets between them are
    written by the shared sheet layer, which every output workbook has."""
    pages = pdf_pages(pdf)
    start = next(p.number for p in pages[1:] if first_sheet in page_title(p))
    return [s for s in sizes if s[0] == 1 or s[0] >= start]

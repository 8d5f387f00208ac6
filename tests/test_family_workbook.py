"""The family and friends workbook (form family/1): layout, protection, signing and print.

One protected easy-read sheet per unit and month: the unit's result for each of
the 12 parts of ward life in plain words, a drop-down "Do you agree?" and a free
text "What would you tell the ward?" per part, nothing that asks for a name.
The month's outputs hold one for every unit with a counted return. A real
LibreOffice fills one in and saves it, and prints it: A4 portrait, at most two
pages, no text under 12 pt.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from engine import template as T
from engine.family import area_words, build_family_workbook, presentation, said_text
from engine.home import make_token, verify_token
from engine.outputs import pictures as P
from engine.outputs.build import build_period, family_results
from engine.outputs.figures import collect
from engine.precheck import precheck

from .conftest import PERIOD
from .conftest_libreoffice import require_pyphen
from .test_easy_read import reading_ease, sheet_pictures

RAGS = ("Green", "Amber", "Red", "")
MIN_PRINTED_PT = 12.0


def results_for(bank) -> dict[str, str]:
    """Every kind of result: Green, Amber, Red and not finished, in turn."""
    return {area.id: RAGS[i % 4] for i, area in enumerate(bank.areas)}


def family_bytes(home, unit: str = "M01", results: dict | None = None, **kw) -> bytes:
    bank = home.bank()
    token = make_token(home.secret(), unit, PERIOD, bank.version, T.FAMILY_FORM)
    return build_family_workbook(
        home.network,
        bank,
        unit,
        PERIOD,
        token,
        results_for(bank) if results is None else results,
        **kw,
    )


@pytest.fixture
def family_path(home, tmp_path) -> Path:
    path = tmp_path / T.family_file_name("M01", PERIOD)
    path.write_bytes(family_bytes(home))
    return path


def _unlocked(ws) -> set[str]:
    return {
        c.coordinate
        for row in ws.iter_rows()
        for c in row
        if c.protection is not None and c.protection.locked is False
    }


def _texts(path: Path, messages: bool = True) -> list[str]:
    """Every text a person can see: cells, and the messages shown when a cell is chosen."""
    wb = openpyxl.load_workbook(path)
    ws = wb[T.FAMILY_SHEET]
    out = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    if messages:
        for dv in ws.data_validations.dataValidation:
            out += [t for t in (dv.promptTitle, dv.prompt, dv.errorTitle, dv.error) if t]
    return out


# --- the workbook ---------------------------------------------------------------------------


def test_one_visible_sheet_then_lists_and_metadata_every_sheet_protected(family_path):
    wb = openpyxl.load_workbook(family_path)
    assert wb.sheetnames == [T.FAMILY_SHEET, T.LISTS_SHEET, T.META_SHEET]
    states = [ws.sheet_state for ws in wb.worksheets]
    assert states == ["visible", "hidden", "veryHidden"]
    for ws in wb.worksheets:
        assert ws.protection.sheet, ws.title
    assert wb.security.lockStructure
    with zipfile.ZipFile(family_path) as zf:
        names = zf.namelist()
        assert not any("vbaProject" in n or n.endswith(".bin") for n in names)
        assert b"macroEnabled" not in zf.read("[Content_Types].xml")
        assert b"<dc:language>en-GB</dc:language>" in zf.read("docProps/core.xml")
    assert precheck(family_path) == []  # within the template's bounds, no macros


def test_the_layout_of_family_1(family_path, bank):
    wb = openpyxl.load_workbook(family_path)
    ws = wb[T.FAMILY_SHEET]
    results = results_for(bank)
    headers = [ws.cell(T.FAMILY_HEADER_ROW, c).value for c in range(2, T.FAMILY_LAST_COL + 1)]
    assert headers == [
        "Part of ward life",
        "What the ward said",
        "Do you agree?",
        "What would you tell the ward?",
    ]
    assert len(bank.areas) == 12
    for area in bank.areas:
        row = T.family_row(area.index)
        assert ws[f"{T.FAMILY_COL_AREA}{row}"].value == area_words(area.id)
        said = ws[f"{T.FAMILY_COL_RESULT}{row}"].value
        assert said == said_text(results[area.id])
        assert ws[f"{T.FAMILY_COL_AGREE}{row}"].value is None
        assert ws[f"{T.FAMILY_COL_COMMENT}{row}"].value is None
        assert ws[f"{T.FAMILY_COL_COMMENT}{row}"].alignment.wrap_text
    words = [said_text(r) for r in RAGS]
    assert words == [
        "The ward says: going well",
        "The ward says: getting there",
        "The ward says: needs work",
        "The ward says: not finished this month",
    ]
    assert said_text("Amber (incomplete)") == words[-1]
    # Nothing beyond the template's bounds on any sheet.
    for sheet in wb.worksheets:
        assert sheet.max_row <= T.MAX_ROW and sheet.max_column <= T.MAX_COL, sheet.title


def test_only_the_answer_cells_are_unlocked(family_path):
    wb = openpyxl.load_workbook(family_path)
    answers = {
        f"{col}{T.family_row(i)}"
        for i in range(1, 13)
        for col in (T.FAMILY_COL_AGREE, T.FAMILY_COL_COMMENT)
    }
    assert _unlocked(wb[T.FAMILY_SHEET]) == answers
    for col in "ABC":
        for i in range(1, 13):
            cell = wb[T.FAMILY_SHEET][f"{col}{T.family_row(i)}"]
            assert cell.protection.locked is not False, cell.coordinate
    assert _unlocked(wb[T.LISTS_SHEET]) == set() and _unlocked(wb[T.META_SHEET]) == set()


def test_do_you_agree_is_a_drop_down_of_the_three_choices(family_path):
    wb = openpyxl.load_workbook(family_path)
    lists = wb[T.LISTS_SHEET]
    assert tuple(lists[f"A{i}"].value for i in (1, 2, 3)) == T.AGREE_CHOICES
    assert lists.max_row == 3
    ws = wb[T.FAMILY_SHEET]
    [dv] = [dv for dv in ws.data_validations.dataValidation if dv.type == "list"]
    assert str(dv.sqref) == "D7:D18"
    assert dv.formula1 == "Lists!$A$1:$A$3"
    assert dv.showErrorMessage and dv.errorStyle in (None, "stop")
    assert dv.showInputMessage and "Agree, Not sure or Disagree" in dv.prompt
    [comment] = [dv for dv in ws.data_validations.dataValidation if dv.type is None]
    assert str(comment.sqref) == "E7:E18" and "names" in comment.prompt


def test_metadata_names_the_family_form_and_its_token_verifies_only_as_family(family_path, home):
    wb = openpyxl.load_workbook(family_path)
    meta = {r[0].value: r[1].value for r in wb[T.META_SHEET].iter_rows(max_col=2)}
    assert list(meta) == list(T.META_ROWS)
    bank = home.bank()
    assert meta["unit"] == "M01" and meta["period"] == PERIOD
    assert meta["bank_version"] == bank.version and meta["form"] == T.FAMILY_FORM
    secret = home.secret()
    args = (secret, meta["token"], "M01", PERIOD, bank.version)
    assert verify_token(*args, form=T.FAMILY_FORM)
    assert not verify_token(*args, form=T.UNIT_FORM)
    assert not verify_token(*args, form=T.FORM_UNIT_1)
    assert not verify_token(secret, meta["token"], "M02", PERIOD, bank.version, T.FAMILY_FORM)
    with zipfile.ZipFile(family_path) as zf:
        for name in zf.namelist():
            assert secret not in zf.read(name)


def test_nothing_asks_for_a_name(family_path):
    texts = _texts(family_path)
    said = [t for t in texts if re.search(r"\bnames?\b", t, re.IGNORECASE)]
    assert said, "the form says not to write names"
    for text in said:
        assert re.search(r"\bnot\b", text), f"a text that may ask for a name: {text!r}"
    assert not [t for t in texts if re.search(r"\b(sign|signature|initials)\b", t, re.I)]


def test_the_intro_says_who_it_is_for_and_how_to_send_it_back(family_path):
    text = " ".join(_texts(family_path))
    assert "Your say about Calder House" in text  # M01's name in the default network
    assert "family and friends of people on the ward" in text
    assert "November 2026" in text
    assert "give this form to the ward staff or to the involvement lead" in text
    assert "On paper?" in text and "The involvement lead will type them in" in text


def test_a_network_may_say_how_families_send_it_from_a_computer(home):
    import dataclasses

    network = dataclasses.replace(
        home.network, extra={"family_return_instructions": "Email it to family@example.org."}
    )
    bank = home.bank()
    data = build_family_workbook(network, bank, "M01", PERIOD, "t", results_for(bank))
    ws = openpyxl.load_workbook(io.BytesIO(data))[T.FAMILY_SHEET]
    cells = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert "On a computer? Email it to family@example.org." in cells


def test_every_line_and_every_area_has_a_picture_with_alt_text(family_path):
    wb = openpyxl.load_workbook(family_path)
    ws = wb[T.FAMILY_SHEET]
    pictures = sheet_pictures(family_path, T.FAMILY_SHEET)
    alts = {p.alt for p in P.PICTURES.values()}
    by_row = {row: (col, alt, size) for row, col, alt, size in pictures}
    assert len(by_row) == len(pictures), "one picture a row"
    text_rows = {
        c.row for r in ws.iter_rows() for c in r if isinstance(c.value, str) and c.column == 2
    } - {T.FAMILY_HEADER_ROW}
    assert set(range(T.family_row(1), T.family_row(12) + 1)) <= text_rows
    assert set(by_row) == text_rows
    for row, (col, alt, size) in by_row.items():
        assert col == 0 and alt in alts and size > 500, row
    for area_index in range(1, 13):
        assert by_row[T.family_row(area_index)][1], "an area's picture has alt text"


def test_every_line_is_in_plain_words(family_path):
    pyphen = require_pyphen()
    dic = pyphen.Pyphen(lang="en_GB")
    wb = openpyxl.load_workbook(family_path)
    ws = wb[T.FAMILY_SHEET]
    lines = [ws.cell(r, 2).value for r in range(1, ws.max_row + 1)]
    lines = [t for t in lines if t and t.count(" ") >= 4]
    assert len(lines) >= 6
    hard = [(t, round(reading_ease(t, dic))) for t in lines if reading_ease(t, dic) < 70]
    assert not hard


def test_prints_a4_portrait_at_100_percent_in_large_print(family_path):
    wb = openpyxl.load_workbook(family_path)
    ws = wb[T.FAMILY_SHEET]
    setup = ws.page_setup
    assert setup.orientation == "portrait" and int(setup.paperSize) == 9
    assert int(setup.scale or 100) == 100
    fit = ws.sheet_properties.pageSetUpPr
    assert fit is None or not fit.fitToPage  # made to fit by its layout, never shrunk
    sizes = {c.font.sz for r in ws.iter_rows() for c in r if c.value}
    assert min(sizes) >= 14
    footer = ws.oddFooter.center
    assert footer.size == 12 and "page &P of &N" in footer.text
    assert ws.print_title_rows == f"${T.FAMILY_HEADER_ROW}:${T.FAMILY_HEADER_ROW}"
    # The columns fit across A4 portrait at 100 % (LibreOffice: 6.24 points a character).
    width = sum(presentation()["layout"]["widths"])
    m = ws.page_margins
    assert 6.24 * width <= 595.3 - 72 * (m.left + m.right)
    # Every answer row has room to write by hand on paper.
    for i in range(1, 13):
        assert ws.row_dimensions[T.family_row(i)].height >= 60


def test_same_inputs_give_the_same_bytes(home):
    assert family_bytes(home) == family_bytes(home)
    assert family_bytes(home, "M02") != family_bytes(home)
    assert family_bytes(home, results={}) != family_bytes(home)


def test_a_long_ward_name_and_awkward_characters(home, tmp_path):
    name = 'St Mary & St John\'s "Willow" Ward <east> ' * 4
    path = tmp_path / "long.xlsx"
    path.write_bytes(family_bytes(home, ward_name=name))
    ws = openpyxl.load_workbook(path)[T.FAMILY_SHEET]
    assert ws["B1"].value == f"Your say about {name.strip()}"
    assert len(ws.oddFooter.center.text) < 255
    assert precheck(path) == []


def test_an_unknown_unit_or_month_is_refused(home):
    from engine.errors import UsageError

    bank = home.bank()
    with pytest.raises(KeyError):
        build_family_workbook(home.network, bank, "Z99", PERIOD, "t", {})
    with pytest.raises(UsageError):
        build_family_workbook(home.network, bank, "M01", "2026-13", "t", {})


# --- the month's outputs --------------------------------------------------------------------


def test_a_unit_with_a_counted_return_gets_its_family_workbook(taken_home):
    home = taken_home
    ledger = home.open_ledger()
    try:
        written = build_period(home, ledger, PERIOD)
        data = collect(home, ledger, PERIOD)
    finally:
        ledger.close()
    folder = home.outbox / PERIOD / "family"
    assert sorted(p.name for p in folder.iterdir()) == [
        T.family_file_name("M01", PERIOD),
        T.family_file_name("M02", PERIOD),
    ]
    assert folder / T.family_file_name("M01", PERIOD) in written
    assert not (folder / T.family_file_name("M03", PERIOD)).exists()  # no return, no workbook
    path = folder / T.family_file_name("M01", PERIOD)
    wb = CalamineWorkbook.from_path(str(path))
    rows = wb.get_sheet_by_name(T.FAMILY_SHEET).to_python(skip_empty_area=False)
    bank = home.bank()
    results = family_results(data, "M01")
    assert set(results.values()) == {"Green"}  # every standard Met
    for area in bank.areas:
        row = rows[T.family_row(area.index) - 1]
        assert row[1] == area_words(area.id) and row[2] == said_text("Green")
    meta = {r[0]: r[1] for r in wb.get_sheet_by_name(T.META_SHEET).to_python(skip_empty_area=False)}
    assert verify_token(
        home.secret(), meta["token"], "M01", PERIOD, meta["bank_version"], T.FAMILY_FORM
    )
    # Rebuilding gives the same bytes.
    before = path.read_bytes()
    ledger = home.open_ledger()
    try:
        build_period(home, ledger, PERIOD)
    finally:
        ledger.close()
    assert path.read_bytes() == before


def test_family_results_say_not_finished_for_an_incomplete_area():
    from types import SimpleNamespace

    from engine.outputs.figures import AreaResult

    data = SimpleNamespace(
        results={
            "M01": SimpleNamespace(
                areas={
                    "INV": AreaResult(90.0, "Green", True),
                    "REC": AreaResult(60.0, "Amber", False),
                    "COL": AreaResult(None, "", True),
                }
            )
        }
    )
    assert family_results(data, "M01") == {"INV": "Green", "REC": "", "COL": ""}


# --- through LibreOffice --------------------------------------------------------------------


@pytest.mark.slow
def test_filled_in_and_saved_by_libreoffice(home, libreoffice, family_path, tmp_path):
    sheet = T.FAMILY_SHEET
    comment = "Staff listen to us — thank you. Visits could be longer."
    cells = [
        {"sheet": sheet, "cell": f"{T.FAMILY_COL_AGREE}{T.family_row(1)}", "value": "Agree"},
        {"sheet": sheet, "cell": f"{T.FAMILY_COL_AGREE}{T.family_row(2)}", "value": "Disagree"},
        {"sheet": sheet, "cell": f"{T.FAMILY_COL_AGREE}{T.family_row(12)}", "value": "Not sure"},
        {"sheet": sheet, "cell": f"{T.FAMILY_COL_COMMENT}{T.family_row(2)}", "value": comment},
        # Typing into a locked cell is refused by the sheet's protection.
        {
            "sheet": sheet,
            "cell": f"{T.FAMILY_COL_RESULT}{T.family_row(1)}",
            "value": "x",
            "typed": True,
        },
    ]
    dst = tmp_path / "lo" / family_path.name
    dst.parent.mkdir()
    [res] = libreoffice.fill([{"src": str(family_path), "dst": str(dst), "cells": cells}])
    assert res["ok"], res
    assert res["refused"] == [{"sheet": sheet, "cell": f"C{T.family_row(1)}"}]

    wb = CalamineWorkbook.from_path(str(dst))
    rows = wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False)

    def at(col: str, index: int):
        row = rows[T.family_row(index) - 1]
        i = "ABCDE".index(col)
        return row[i] if i < len(row) else ""

    assert at(T.FAMILY_COL_AGREE, 1) == "Agree"
    assert at(T.FAMILY_COL_AGREE, 2) == "Disagree"
    assert at(T.FAMILY_COL_AGREE, 12) == "Not sure"
    assert at(T.FAMILY_COL_COMMENT, 2) == comment
    assert at(T.FAMILY_COL_AGREE, 3) == "" and at(T.FAMILY_COL_COMMENT, 1) == ""
    bank = home.bank()
    for area in bank.areas:
        assert at(T.FAMILY_COL_AREA, area.index) == area_words(area.id)
    assert rows[T.FAMILY_HEADER_ROW - 1][3] == "Do you agree?"
    meta = {
        r[0]: r[1]
        for r in wb.get_sheet_by_name(T.META_SHEET).to_python(skip_empty_area=False)
        if r and r[0]
    }
    assert meta["form"] == T.FAMILY_FORM and meta["unit"] == "M01"
    assert verify_token(home.secret(), meta["token"], "M01", PERIOD, bank.version, T.FAMILY_FORM)
    assert precheck(dst) == []


@pytest.mark.slow
def test_printed_on_at_most_two_a4_pages_with_no_text_under_12_pt(home, family_path, tmp_path):
    import xlsxwriter
    from conftest_libreoffice import require_libreoffice, require_pdftoppm

    from .test_print import flat, pdf_pages, pdf_text, render

    require_libreoffice()
    require_pdftoppm()
    font = presentation()["fonts"]["name"]
    calibrate = tmp_path / "calibrate.xlsx"
    wb = xlsxwriter.Workbook(calibrate)
    ws = wb.add_worksheet()
    ws.set_column(0, 0, 40)
    ws.write_string(
        0, 0, "Calibrate Wordy gyp", wb.add_format({"font_name": font, "font_size": 10})
    )
    ws.set_paper(9)
    ws.set_print_scale(100)
    wb.close()
    words = {w.text: w for page in pdf_pages(render(calibrate, tmp_path)) for w in page.words}
    box_per_point = words["Calibrate"].height / 10

    pdf = render(family_path, tmp_path / "pdf")
    pages = pdf_pages(pdf)
    assert 1 <= len(pages) <= 2
    sizes = []
    for page in pages:
        assert round(page.width) == 595 and round(page.height) == 842  # A4 portrait
        sizes += [w.height / box_per_point for w in page.words]
        assert max(w.x1 for w in page.words) <= page.width - 0.25 * 72
    assert min(sizes) >= MIN_PRINTED_PT - 0.2, min(sizes)
    # Every text of the sheet is printed in full.
    text = pdf_text(pdf)
    cut = [t for t in _texts(family_path, messages=False) if flat(t) not in text]
    assert not cut
    print(
        f"family workbook: {len(pages)} pages, printed sizes "
        f"{min(sizes):.1f} to {max(sizes):.1f} pt"
    )

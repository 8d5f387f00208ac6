"""Tests of the LibreOffice harness against a real headless LibreOffice."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

_TESTS_DIR = str(Path(__file__).resolve().parent)
if _TESTS_DIR not in sys.path:
    sys.path.append(_TESTS_DIR)

from conftest_libreoffice import require_libreoffice, require_pdftoppm
from libreoffice import LibreOfficeError, convert_to_pdf, pdf_to_pngs

pytestmark = pytest.mark.slow

AREA = "1 Involvement"
SUMMARY = "Summary"
LISTS = "Lists"
CHOICES = ("Met", "Partly met", "Not met")
QUESTION = "People who use the service help decide how it is run."


def build_workbook(path: Path) -> Path:
    """A small protected workbook shaped like a unit return.

    ``1 Involvement``: locked text in A6, unlocked answer cells D6:F15 and
    D20, a drop-down on D6:D15 fed from the hidden ``Lists`` sheet; the sheet
    is protected. ``Summary!C5`` counts the "Met" answers.
    """
    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False})
    wb.set_properties({"created": dt.datetime(2025, 1, 1)})
    area = wb.add_worksheet(AREA)
    summary = wb.add_worksheet(SUMMARY)
    lists = wb.add_worksheet(LISTS)
    unlocked = wb.add_format({"locked": False})

    area.write_string("A5", "ID")
    area.write_string("D5", "Rating")
    area.write_string("A6", QUESTION)
    for row in range(6, 16):
        for col in "DEF":
            area.write_blank(f"{col}{row}", None, unlocked)
    area.write_blank("D20", None, unlocked)
    for i, choice in enumerate(CHOICES):
        lists.write_string(i, 0, choice)
    area.data_validation(
        "D6:D15", {"validate": "list", "source": f"={LISTS}!$A$1:$A${len(CHOICES)}"}
    )
    area.protect("sequin")
    lists.hide()

    summary.write_string("B5", "Met")
    summary.write_formula("C5", f"=COUNTIF('{AREA}'!D6:D15,\"Met\")")
    summary.protect("sequin")
    wb.close()
    return path


@pytest.fixture
def workbook(tmp_path: Path) -> Path:
    """A freshly built protected test workbook."""
    return build_workbook(tmp_path / "return.xlsx")


def cell_spec(cell: str, **kwargs) -> dict:
    """A cell entry on the area sheet."""
    return {"sheet": AREA, "cell": cell, **kwargs}


def test_fill_saves_answer_and_keeps_protection(libreoffice, workbook, tmp_path):
    dst = tmp_path / "filled.xlsx"
    [result] = libreoffice.fill(
        [{"src": workbook, "dst": dst, "cells": [cell_spec("D6", value="Met")]}]
    )

    assert result["ok"]
    assert result["cells"] == [{"sheet": AREA, "cell": "D6", "status": "set"}]
    assert result["refused"] == []
    saved = openpyxl.load_workbook(dst)
    sheet = saved[AREA]
    assert sheet["D6"].value == "Met"
    assert sheet["A6"].value == QUESTION
    assert sheet.protection.sheet
    assert not sheet["D6"].protection.locked
    assert sheet["A6"].protection.locked
    assert [str(dv.sqref) for dv in sheet.data_validations.dataValidation] == ["D6:D15"]
    assert saved[LISTS].sheet_state == "hidden"


def test_recalc_read_evaluates_workbook_formulas(libreoffice, workbook, tmp_path):
    before = libreoffice.recalc_read(workbook, [(SUMMARY, "C5")])
    assert before[(SUMMARY, "C5")]["value"] == 0

    dst = tmp_path / "filled.xlsx"
    libreoffice.fill([{"src": workbook, "dst": dst, "cells": [cell_spec("D6", value="Met")]}])
    after = libreoffice.recalc_read(dst, [{"sheet": SUMMARY, "cell": "C5"}, (AREA, "A6")])

    assert after[(SUMMARY, "C5")]["value"] == 1
    assert after[(SUMMARY, "C5")]["string"] == "1"
    assert after[(SUMMARY, "C5")]["type"] == "FORMULA"
    assert after[(SUMMARY, "C5")]["error"] == 0
    assert after[(AREA, "A6")] | {"formula": None} == {
        "sheet": AREA,
        "cell": "A6",
        "string": QUESTION,
        "value": None,
        "type": "TEXT",
        "formula": None,
        "error": 0,
    }


def test_fill_can_read_in_the_same_job(libreoffice, workbook, tmp_path):
    dst = tmp_path / "filled.xlsx"
    [result] = libreoffice.fill(
        [
            {
                "src": workbook,
                "dst": dst,
                "cells": [cell_spec(f"D{row}", value="Met") for row in (6, 7, 9)],
                "read": [{"sheet": SUMMARY, "cell": "C5"}],
            }
        ]
    )

    assert result["read"][0]["value"] == 3
    assert dst.is_file()


def test_numbers_dates_and_clearing(libreoffice, workbook, tmp_path):
    first = tmp_path / "first.xlsx"
    libreoffice.fill(
        [
            {
                "src": workbook,
                "dst": first,
                "cells": [
                    cell_spec("E6", value=3.5),
                    cell_spec("E7", value=12),
                    cell_spec("D20", date="2026-11-05"),
                    cell_spec("F6", value="to be cleared"),
                ],
            }
        ]
    )
    second = tmp_path / "second.xlsx"
    libreoffice.fill([{"src": first, "dst": second, "cells": [cell_spec("F6", value=None)]}])

    sheet = openpyxl.load_workbook(second)[AREA]
    assert sheet["E6"].value == 3.5
    assert sheet["E7"].value == 12
    assert sheet["D20"].value == dt.datetime(2026, 11, 5)
    assert sheet["D20"].is_date
    assert sheet["F6"].value is None


def test_api_writes_pass_through_protection_and_validation(libreoffice, workbook, tmp_path):
    """Plain writes behave like a paste: neither locks nor drop-downs stop them."""
    dst = tmp_path / "pasted.xlsx"
    [result] = libreoffice.fill(
        [
            {
                "src": workbook,
                "dst": dst,
                "cells": [
                    cell_spec("A6", value="overwritten"),
                    cell_spec("D6", value="Not a choice"),
                ],
            }
        ]
    )

    assert result["refused"] == []
    sheet = openpyxl.load_workbook(dst)[AREA]
    assert sheet["A6"].value == "overwritten"
    assert sheet["D6"].value == "Not a choice"


def test_typed_formula_becomes_a_formula(libreoffice, workbook, tmp_path):
    dst = tmp_path / "typed.xlsx"
    [result] = libreoffice.fill(
        [
            {
                "src": workbook,
                "dst": dst,
                "cells": [
                    cell_spec("E6", value="=1+1", typed=True),
                    cell_spec("E7", value="007", typed=True),
                    cell_spec("E8", value="=1+1"),
                ],
            }
        ]
    )

    assert [c["status"] for c in result["cells"]] == ["typed", "typed", "set"]
    sheet = openpyxl.load_workbook(dst)[AREA]
    assert sheet["E6"].value == "=1+1"
    assert sheet["E6"].data_type == "f"
    assert sheet["E7"].value == 7
    assert sheet["E8"].value == "=1+1"
    assert sheet["E8"].data_type == "s"
    assert libreoffice.recalc_read(dst, [(AREA, "E6")])[(AREA, "E6")]["value"] == 2


def test_typing_into_a_locked_cell_is_refused(libreoffice, workbook, tmp_path):
    dst = tmp_path / "refused.xlsx"
    [result] = libreoffice.fill(
        [
            {
                "src": workbook,
                "dst": dst,
                "cells": [
                    cell_spec("A6", value="typed over the question", typed=True),
                    cell_spec("D6", value="Met", typed=True),
                ],
            }
        ]
    )

    assert result["ok"]
    assert result["refused"] == [{"sheet": AREA, "cell": "A6"}]
    assert [c["status"] for c in result["cells"]] == ["refused", "typed"]
    sheet = openpyxl.load_workbook(dst)[AREA]
    assert sheet["A6"].value == QUESTION
    assert sheet["D6"].value == "Met"


def test_bad_job_raises_with_details(libreoffice, workbook, tmp_path):
    with pytest.raises(LibreOfficeError, match="no sheet named 'Nowhere'"):
        libreoffice.fill(
            [
                {
                    "src": workbook,
                    "dst": tmp_path / "never.xlsx",
                    "cells": [{"sheet": "Nowhere", "cell": "A1", "value": "x"}],
                }
            ]
        )
    assert not (tmp_path / "never.xlsx").exists()
    with pytest.raises(LibreOfficeError, match="source file not found"):
        libreoffice.recalc_read(tmp_path / "missing.xlsx", [(SUMMARY, "C5")])


def test_fill_many_cells_in_one_job(libreoffice, tmp_path):
    """A return-sized fill: 12 sheets x 10 rows x 2 answer cells = 240 cells."""
    src = tmp_path / "big.xlsx"
    wb = xlsxwriter.Workbook(str(src))
    unlocked = wb.add_format({"locked": False})
    names = [f"{i} Area" for i in range(1, 13)]
    for name in names:
        sheet = wb.add_worksheet(name)
        for row in range(6, 16):
            sheet.write_blank(f"D{row}", None, unlocked)
            sheet.write_blank(f"E{row}", None, unlocked)
        sheet.protect()
    wb.close()
    cells = [
        {"sheet": name, "cell": f"{col}{row}", "value": f"{name} {col}{row}"}
        for name in names
        for row in range(6, 16)
        for col in "DE"
    ]
    dst = tmp_path / "big-filled.xlsx"

    [result] = libreoffice.fill([{"src": src, "dst": dst, "cells": cells}])

    assert len(result["cells"]) == 240
    saved = openpyxl.load_workbook(dst)
    assert all(saved[c["sheet"]][c["cell"]].value == c["value"] for c in cells)


def test_pdf_and_png_rendering(libreoffice, workbook, tmp_path):
    require_libreoffice()
    require_pdftoppm()
    pdf = convert_to_pdf(workbook, tmp_path / "pdf")

    assert pdf == tmp_path / "pdf" / "return.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    pngs = pdf_to_pngs(pdf, tmp_path / "png", first_page=1, last_page=1, dpi=50)
    assert len(pngs) == 1
    assert pngs[0].read_bytes().startswith(b"\x89PNG\r\n\x1a\n")

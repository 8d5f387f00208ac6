"""One rounding rule: every percentage reads as the unit's own Summary shows it.

The Summary sheet of the unit workbook works out each area's score and the
overall score with formulas, shown under a ``0.0%`` format by the spreadsheet.
The engine must write the same text (81.3 % for 13 of 16 points, where
Python's own rounding gives 81.2 %). The slow tests here have a real
LibreOffice compute and display every points / available pair that 120
standards allow, and compare its text with the engine's.
"""

from __future__ import annotations

import io
import json
from fractions import Fraction

import openpyxl
import pytest
import xlsxwriter
from click.testing import CliRunner

from engine import template as T
from engine.generation import generate
from engine.numbers import percent_of, percent_text, points_text, rounded
from engine.pipeline import Intake

from .conftest import PERIOD, blank_workbook, full_answers, make_return

STANDARDS = 120
PER_AREA = 10


def _half_away(points: int, available: int) -> str:
    """The text by long division with integers only: no floats anywhere."""
    tenths, rest = divmod(1000 * points, available)
    if 2 * rest >= available:
        tenths += 1
    return f"{tenths // 10}.{tenths % 10}%"


def test_ties_round_half_away_from_zero_as_a_spreadsheet_shows_them():
    assert percent_of(13, 16) == 81.3  # round(81.25, 1) is 81.2
    assert percent_of(9, 16) == 56.3  # round(56.25, 1) is 56.2
    assert percent_text(percent_of(13, 16)) == "81.3%"
    assert percent_text(81.25, sep=" ") == "81.3 %"
    assert rounded(-1.25) == -1.3 and points_text(-1.25) == "-1.3"
    assert points_text(0.04) == "0.0" and points_text(1.25) == "+1.3"
    assert rounded(0.1 + 0.2) == 0.3  # the shortest decimal form, as a spreadsheet shows it
    assert percent_text(None) == "-"


def test_every_pair_120_standards_allow_rounds_from_the_exact_fraction():
    for applicable in range(1, STANDARDS + 1):
        available = 2 * applicable
        for points in range(available + 1):
            expected = _half_away(points, available)
            assert percent_text(percent_of(points, available)) == expected, (points, available)
            # A stored score, shown again, keeps its text (no double rounding drift).
            assert percent_text(percent_of(points, available)) == percent_text(
                Fraction(100 * points, available)
            )


def _area_with(points: int, applicable: int) -> list[str]:
    """Ten ratings of one area giving ``points`` of ``2 x applicable``."""
    met, partly = divmod(points, 2)
    out = ["Met"] * met + ["Partly met"] * partly
    out += ["Not met"] * (applicable - len(out))
    return out + ["N/A"] * (PER_AREA - applicable)


def _area_pairs() -> list[tuple[int, int]]:
    return [(p, k) for k in range(1, PER_AREA + 1) for p in range(2 * k + 1)]


def test_validate_json_gives_81_3_for_13_of_16_points(home, tmp_path):
    cells = full_answers(home, "M03")
    area = home.bank().areas[0]
    sheet = T.area_sheet_name(area.index, area.short_name)
    for pos, label in enumerate(_area_with(13, 8)):
        cells[(sheet, T.answer_cells(pos).rating)] = label
    path = make_return(home, "M03", cells=cells, folder=tmp_path)
    from cli import main

    result = CliRunner().invoke(main, ["validate", str(path), "--json", "--home", str(home.root)])
    assert result.exit_code == 0, result.output
    got = json.loads(result.output)["scores"]["areas"][area.id]
    assert (got["percent"], got["points"], got["applicable"]) == (81.3, 13, 8)
    with Intake(home) as intake:
        v = intake.validate(path)
    assert percent_text(v.scores.areas[area.id].percent) == "81.3%"


# --- through a real spreadsheet application -----------------------------------------------


@pytest.mark.slow
def test_every_area_score_reads_as_the_summary_shows_it_in_libreoffice(home, libreoffice, tmp_path):
    """Returns filled and recalculated by LibreOffice cover all 120 area pairs (10 per return)."""
    bank = home.bank()
    pairs = _area_pairs()
    assert len(pairs) == 120
    [src] = generate(home, PERIOD, ["M03"])
    jobs, expected = [], []
    for n, start in enumerate(range(0, len(pairs), len(bank.areas))):
        chunk = pairs[start : start + len(bank.areas)]
        cells = []
        for area, (points, applicable) in zip(bank.areas, chunk):
            sheet = T.area_sheet_name(area.index, area.short_name)
            for pos, label in enumerate(_area_with(points, applicable)):
                cells.append({"sheet": sheet, "cell": T.answer_cells(pos).rating, "value": label})
        dst = tmp_path / f"filled-{n}.xlsx"
        jobs.append({"src": str(src), "dst": str(dst), "cells": cells})
        expected.append((dst, chunk))
    for res in libreoffice.fill(jobs):
        assert res["ok"], res
    total_row = 5 + len(bank.areas)
    for dst, chunk in expected:
        wanted = [(T.SUMMARY_SHEET, f"E{5 + i}") for i in range(len(bank.areas))]
        wanted.append((T.SUMMARY_SHEET, f"E{total_row}"))
        shown = libreoffice.recalc_read(dst, wanted)
        with Intake(home) as intake:
            v = intake.validate(dst)
        for i, (area, (points, applicable)) in enumerate(zip(bank.areas, chunk)):
            a = v.scores.areas[area.id]
            assert (a.points, a.applicable) == (points, applicable)
            cell = shown[(T.SUMMARY_SHEET, f"E{5 + i}")]["string"]
            assert percent_text(a.percent) == cell, (area.id, points, applicable)
        overall = shown[(T.SUMMARY_SHEET, f"E{total_row}")]["string"]
        assert percent_text(v.scores.overall_percent) == overall


@pytest.mark.slow
def test_every_overall_pair_reads_as_libreoffice_displays_the_summary_formula(
    home, libreoffice, tmp_path
):
    """All 14,640 overall pairs, through the Summary's own formula and number format."""
    summary = openpyxl.load_workbook(io.BytesIO(blank_workbook(home, "M03")))[T.SUMMARY_SHEET]
    total_row = 5 + len(home.bank().areas)
    total = summary[f"E{total_row}"]
    formula, number_format = total.value, total.number_format
    assert f"D{total_row}" in formula and f"C{total_row}" in formula, formula
    path = tmp_path / "pairs.xlsx"
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet("Pairs")
    fmt = book.add_format({"num_format": number_format})
    pairs = []
    row = 0
    for applicable in range(1, STANDARDS + 1):
        for points in range(2 * applicable + 1):
            ws.write_number(row, 2, applicable)
            ws.write_number(row, 3, points)
            own = formula.replace(f"C{total_row}", f"C{row + 1}").replace(
                f"D{total_row}", f"D{row + 1}"
            )
            ws.write_formula(row, 4, own, fmt)
            pairs.append((points, 2 * applicable))
            row += 1
    book.close()
    assert len(pairs) == sum(2 * k + 1 for k in range(1, STANDARDS + 1)) == 14_640
    shown = libreoffice.recalc_read(path, [("Pairs", f"E{r + 1}") for r in range(len(pairs))])
    wrong = [
        (p, a, shown[("Pairs", f"E{r + 1}")]["string"], percent_text(percent_of(p, a)))
        for r, (p, a) in enumerate(pairs)
        if shown[("Pairs", f"E{r + 1}")]["string"] != percent_text(percent_of(p, a))
    ]
    assert not wrong, wrong[:10]

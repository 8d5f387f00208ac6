"""Family and friends responses, end to end, through a running watcher and a real LibreOffice.

A unit's return is accepted; the month's outputs then hold the unit's family and
friends workbook; two families fill it in LibreOffice (a mix of Agree and
Disagree, one comment with an NHS number) and it is dropped into the inbox; both
responses are accepted, and the unit's feedback counts them per area and shows
the comment masked, while the commissioner summary shows counts only. A family
workbook renamed as a unit's return, and a unit's return renamed as a family
response, are both refused with a coded finding.
"""

from __future__ import annotations

import shutil

import pytest
from python_calamine import CalamineWorkbook

from engine import template as T

from .conftest import PERIOD, full_answers, make_return, report_path

pytestmark = pytest.mark.slow

NHS_NUMBER = "943 476 5919"
COMMENT = f"Staff were kind to my son, NHS number {NHS_NUMBER}, but visits got cancelled"


def strings(path) -> list[str]:
    """Every text cell of every sheet of a workbook."""
    wb = CalamineWorkbook.from_path(str(path))
    out = []
    for name in wb.sheet_names:
        for row in wb.get_sheet_by_name(name).to_python(skip_empty_area=True):
            out.extend(str(v) for v in row if isinstance(v, str) and v)
    return out


def sheet_rows(path, sheet: str) -> list[list]:
    """The rows of one sheet, whole numbers as ints."""
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python()
    return [[int(v) if isinstance(v, float) and v.is_integer() else v for v in r] for r in rows]


def family_cells(answers: dict[int, str], comments: dict[int, str]) -> list[dict]:
    cells = []
    for index, word in answers.items():
        row = T.family_row(index)
        cells.append({"sheet": T.FAMILY_SHEET, "cell": f"{T.FAMILY_COL_AGREE}{row}", "value": word})
    for index, text in comments.items():
        row = T.family_row(index)
        cells.append(
            {"sheet": T.FAMILY_SHEET, "cell": f"{T.FAMILY_COL_COMMENT}{row}", "value": text}
        )
    return cells


def test_family_responses_through_the_watcher(home, libreoffice, tmp_path):
    from .test_watcher import WatchProcess

    # Every standard Met: every area of M03 is Green.
    src = make_return(home, "M03", cells=full_answers(home, "M03"), folder=tmp_path / "unit")
    other = make_return(home, "M04", cells=full_answers(home, "M04"), folder=tmp_path / "unit")
    family_name = T.family_file_name("M03", PERIOD)
    with WatchProcess(home) as w:
        w.drop_copy(src, T.file_name("M03", PERIOD))
        assert "accepted" in w.wait_for(T.file_name("M03", PERIOD), timeout=20)
        w.wait_for("outputs refreshed", timeout=60)
        blank = home.outbox / PERIOD / "family" / family_name
        assert blank.exists(), "the month's outputs hold the unit's family workbook"

        # Two families fill it in: area 1 both disagree (most disagree with a Green rating),
        # area 2 one agrees and one disagrees, area 3 one is not sure.
        first = family_cells({1: "Disagree", 2: "Agree", 3: "Not sure", 4: "Agree"}, {1: COMMENT})
        second = family_cells({1: "Disagree", 2: "Disagree", 4: "Agree"}, {})
        third = family_cells({5: "Agree"}, {5: "The new cook is brilliant"})
        jobs = []
        for n, cells in enumerate((first, second, third), start=1):
            dst = tmp_path / "lo" / f"response{n}" / family_name
            dst.parent.mkdir(parents=True)
            jobs.append({"src": str(blank), "dst": str(dst), "cells": cells})
        results = libreoffice.fill(jobs)
        assert all(r["ok"] for r in results), results
        filled = [tmp_path / "lo" / f"response{n}" / family_name for n in (1, 2, 3)]

        w.drop_copy(filled[0], family_name)
        assert "accepted" in w.wait_for(family_name, timeout=20)
        w.drop_copy(filled[1], family_name.replace(".xlsx", " (2).xlsx"))
        assert "accepted" in w.wait_for("(2).xlsx", timeout=20)
        # The same bytes again count once.
        w.drop_copy(filled[1], family_name.replace(".xlsx", " (copy).xlsx"))
        assert "accepted" in w.wait_for("(copy).xlsx", timeout=20)

        # A family workbook renamed as the unit's return; a unit return renamed as a family one.
        w.drop_copy(filled[2], "SeQuIn_M03_2026-11 final.xlsx")
        assert "rejected" in w.wait_for("final.xlsx", timeout=20)
        w.drop_copy(other, "SeQuIn_family_M04_2026-11.xlsx")
        assert "rejected" in w.wait_for("SeQuIn_family_M04", timeout=20)
        w.wait_for("outputs refreshed", timeout=60)

    for name in ("SeQuIn_M03_2026-11 final.xlsx", "SeQuIn_family_M04_2026-11.xlsx"):
        report = report_path(home, name).read_text(encoding="utf-8-sig")
        assert "wrong-kind" in report, report
        assert (home.inbox / name).exists(), "a refused file is kept where it was"

    receipt = report_path(home, family_name).read_text(encoding="utf-8-sig")
    assert "family" in receipt.lower() and "M03" in receipt

    import sqlite3

    db = sqlite3.connect(home.ledger_path)
    counted = db.execute(
        "SELECT COUNT(*) FROM responses WHERE unit = 'M03' AND period = ? AND held IS NULL",
        (PERIOD,),
    ).fetchone()[0]
    assert counted == 2, "two responses, the second sent twice, count as two"
    answers = dict(
        db.execute(
            "SELECT a.area_id || ':' || a.agree, COUNT(*) FROM response_answers a "
            "JOIN responses r ON r.id = a.response_id GROUP BY 1"
        ).fetchall()
    )
    db.close()
    bank = home.bank()
    inv, rec, col = bank.areas[0].id, bank.areas[1].id, bank.areas[2].id
    assert answers[f"{inv}:Disagree"] == 2
    assert answers[f"{rec}:Agree"] == 1 and answers[f"{rec}:Disagree"] == 1
    assert answers[f"{col}:Not sure"] == 1

    folder = home.outbox / PERIOD
    feedback = strings(folder / "feedback" / f"SeQuIn_feedback_M03_{PERIOD}.xlsx")
    text = "\n".join(feedback)
    assert "[removed]" in text, "the comment is shown, masked"
    assert "visits got cancelled" in text
    assert NHS_NUMBER not in text and NHS_NUMBER.replace(" ", "") not in text
    assert bank.areas[0].name in text
    rows = sheet_rows(folder / "feedback" / f"SeQuIn_feedback_M03_{PERIOD}.xlsx", "Families")
    counts: dict = {}
    for r in rows:  # the counts table comes first; the comments, by area, after it
        if str(r[0])[:3] in ("1. ", "2. ", "3. "):
            counts.setdefault(r[0], r[3:7])
    assert counts[f"1. {bank.areas[0].name}"] == [0, 0, 2, 0], counts  # agreed ... no answer
    assert counts[f"2. {bank.areas[1].name}"] == [1, 0, 1, 0], counts
    assert counts[f"3. {bank.areas[2].name}"] == [0, 1, 0, 1], counts
    # The Green area most families disagree with is called out to the unit.
    assert any("disagree" in s.lower() and bank.areas[0].name in s for s in feedback), feedback

    for shared in (f"SeQuIn_commissioners_{PERIOD}.xlsx", f"SeQuIn_network_{PERIOD}.xlsx"):
        got = strings(folder / shared)
        assert not [t for t in got if "visits got cancelled" in t], shared
        # Counts only: per area across the network, and how many units had any response.
        rows = sheet_rows(folder / shared, "Families")
        assert any("for 1 of the 15 units" in str(r[0]) for r in rows), rows
        counts = {r[0]: r[1:5] for r in rows if str(r[0])[:3] in ("1. ", "2. ", "3. ")}
        assert counts[f"1. {bank.areas[0].name}"] == [0, 0, 2, 0], counts
        assert counts[f"2. {bank.areas[1].name}"] == [1, 0, 1, 0], counts
        assert counts[f"3. {bank.areas[2].name}"] == [0, 1, 0, 1], counts
    # Nothing anywhere in the outbox holds the NHS number.
    for path in folder.rglob("*"):
        if path.suffix in (".xlsx", ".csv") and path.is_file():
            if path.suffix == ".csv":
                body = path.read_text(encoding="utf-8-sig")
            else:
                body = "\n".join(strings(path))
            assert NHS_NUMBER not in body and NHS_NUMBER.replace(" ", "") not in body, path
    shutil.rmtree(tmp_path / "lo")

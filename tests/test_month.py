"""A lead's month, end to end, through the real commands.

Generate with a due date; returns dropped into the inbox and taken by
``sequin watch --once``; accepted returns filed under ``returns/<month>/<unit>/``;
a replacement told; a rejected return corrected and its problems report
retired; the month closed; a late return held, shown by ``status`` and counted
only after ``release``; ``chase`` naming the missing units with days overdue.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine import template as T

from .conftest import PERIOD, full_answers, make_return

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def sequin(
    home, *args: str, today: str = "2026-12-14", check: bool = True
) -> subprocess.CompletedProcess:
    env = dict(os.environ, SEQUIN_TODAY=today)
    proc = subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), *args, "--home", str(home.root)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env=env,
        check=False,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    if check:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def status(home, today: str = "2026-12-14") -> dict:
    data = json.loads(sequin(home, "status", "--period", PERIOD, "--json", today=today).stdout)
    return {u["unit"]: u for u in data["units"]} | {"_": data}


def unit_dir(home, unit: str) -> Path:
    (folder,) = (home.root / "returns" / PERIOD).glob(f"{unit} *")
    return folder


def test_a_month_as_a_lead_lives_it(home, tmp_path):
    # 1. Generate: the workbook says when it is due.
    sequin(home, "generate", "--period", PERIOD)
    start = home.outbox / PERIOD / "workbooks"
    assert len(list(start.glob("*.xlsx"))) == 15

    # 2. Returns arrive; accepted ones are filed by month and unit.
    make_return(home, "M01", synthetic=True)
    make_return(home, "M02", cells=full_answers(home, "M02", rating="Partly met"))
    cells = full_answers(home, "L01")
    cells[("1 Involvement", T.answer_cells(3).rating)] = "Mostly"
    make_return(home, "L01", cells=cells)
    out = sequin(home, "watch", "--once", check=False)
    assert "accepted  SeQuIn_M01" in out.stdout and "rejected  SeQuIn_L01" in out.stdout
    m01 = unit_dir(home, "M01")
    assert m01.name == "M01 Calder House"
    assert (m01 / "SeQuIn_M01_2026-11.xlsx").exists()
    assert (m01 / "SeQuIn_M01_2026-11.xlsx.receipt.txt").exists()
    inbox = sorted(p.name for p in home.inbox.iterdir() if not p.name.startswith("."))
    assert inbox == ["SeQuIn_L01_2026-11.xlsx", "SeQuIn_L01_2026-11.xlsx.problems.txt"], (
        "the inbox holds only what needs the lead"
    )

    # 3. A replacement says what it replaced and how the score changed.
    make_return(home, "M02", cells=full_answers(home, "M02", rating="Met"))
    sequin(home, "watch", "--once")
    m02 = unit_dir(home, "M02")
    receipt = (m02 / "SeQuIn_M02_2026-11.xlsx.receipt.txt").read_text("utf-8-sig")
    assert "REPLACES the one counted before" in receipt
    assert "50.0 % Amber -> 100.0 % Green" in receipt
    earlier = sorted(p.name for p in (m02 / "earlier").iterdir())
    assert len(earlier) == 2 and earlier[0].endswith("SeQuIn_M02_2026-11.xlsx")
    assert (m02 / "earlier" / earlier[1]).read_text("utf-8-sig").startswith("REPLACED")

    # 4. The rejected return is corrected; its problems report is retired beside it.
    make_return(home, "L01", name="SeQuIn_L01_2026-11 corrected.xlsx")
    sequin(home, "watch", "--once")
    l01 = unit_dir(home, "L01")
    assert (l01 / "SeQuIn_L01_2026-11 corrected.xlsx").exists()
    retired = list((l01 / "earlier").glob("*.problems (superseded).txt"))
    assert len(retired) == 1 and retired[0].read_text("utf-8-sig").startswith("SUPERSEDED")
    assert [p for p in home.inbox.iterdir() if not p.name.startswith(".")] == []

    # 5. Chase: the missing units by name, with days overdue, and a CSV for mail merge.
    chase = sequin(home, "chase", "--period", PERIOD)
    assert "Ashworth" not in chase.stdout  # synthetic names only
    assert "4 day(s) overdue" in chase.stdout
    data = json.loads(sequin(home, "chase", "--period", PERIOD, "--json").stdout)
    names = {u["unit"]: u for u in data["units"]}
    assert set(names) == {u.code for u in home.network.units} - {"M01", "M02", "L01"}
    assert all(u["days_overdue"] == 4 for u in data["units"])
    with open(data["csv"], encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["unit"] for r in rows} == set(names) and rows[0]["name"]
    st = status(home)
    assert st["M03"]["status"] == "missing" and st["M03"]["name"] and st["M03"]["days_overdue"] == 4
    assert st["_"]["due_date"] == "2026-12-10"

    # 6. The month is closed; a late return is held, shown, and counted only after release.
    sequin(home, "report", "--period", PERIOD)
    sequin(home, "close", "--period", PERIOD)
    late = make_return(home, "M03", synthetic=True)
    out = sequin(home, "watch", "--once", today="2026-12-20")
    assert "NOT counted" in out.stdout
    receipt = (home.inbox / (late.name + ".receipt.txt")).read_text("utf-8-sig")
    assert receipt.startswith("SeQuIn return KEPT, NOT COUNTED")
    assert "closed" in receipt and "sequin release" in receipt and "its first" in receipt
    st = status(home, today="2026-12-20")
    assert st["M03"]["status"] == "held" and st["M03"]["held"][0]["why"] == "closed-month"
    assert "M03" not in {r["unit"] for r in _current(home)}
    rel = sequin(home, "release", late.name, today="2026-12-20")
    assert "now counted" in rel.stdout
    st = status(home, today="2026-12-20")
    assert st["M03"]["status"] == "returned" and st["M03"]["held"] == []
    assert (unit_dir(home, "M03") / late.name).exists() and not late.exists()
    receipt = (unit_dir(home, "M03") / (late.name + ".receipt.txt")).read_text("utf-8-sig")
    assert "SeQuIn return ACCEPTED" in receipt and "RELEASED" in receipt
    assert "NOT COUNTED" not in receipt, "a counted return's receipt, written afresh"

    # 7. Every file can be found: sequin returns lists where each one is.
    listing = json.loads(sequin(home, "returns", "--period", PERIOD, "--json").stdout)["returns"]
    for r in listing:
        assert (home.root / r["where"]).exists(), r


def _current(home):
    import sqlite3

    db = sqlite3.connect(home.ledger_path)
    db.row_factory = sqlite3.Row
    try:
        return db.execute(
            "SELECT unit FROM returns WHERE superseded_by IS NULL AND held IS NULL"
        ).fetchall()
    finally:
        db.close()


def test_a_return_for_another_month_says_so_first(home):
    sequin(home, "generate", "--period", "2026-10", "--unit", "M01")
    sequin(home, "generate", "--period", PERIOD, "--unit", "M01")
    make_return(home, "M01", period="2026-10", synthetic=True)
    sequin(home, "watch", "--once")
    receipt = unit_dir_for(home, "2026-10", "M01") / "SeQuIn_M01_2026-10.xlsx.receipt.txt"
    first = receipt.read_text("utf-8-sig").splitlines()[0]
    assert first == (
        "This is the workbook for October 2026, not November 2026 (the newest month sent out)."
    )


def unit_dir_for(home, period: str, unit: str) -> Path:
    (folder,) = (home.root / "returns" / period).glob(f"{unit} *")
    return folder


def test_the_workbook_says_when_it_is_due(home):
    from python_calamine import CalamineWorkbook

    sequin(home, "generate", "--period", PERIOD, "--unit", "M01")
    (path,) = (home.outbox / PERIOD / "workbooks").glob("*M01*.xlsx")
    wb = CalamineWorkbook.from_path(str(path))
    text = " ".join(str(c) for row in wb.get_sheet_by_name(T.START_SHEET).to_python() for c in row)
    assert "10 December 2026" in text, "the Start here sheet shows the due date"


def test_a_corrected_return_named_like_the_rejected_one(home):
    """The lead drops the corrected file over the rejected one (same name): nothing is mislabelled."""
    cells = full_answers(home, "L02")
    cells[("1 Involvement", T.answer_cells(0).rating)] = "Mostly"
    bad = make_return(home, "L02", cells=cells)
    bad_bytes = bad.read_bytes()
    sequin(home, "watch", "--once", check=False)
    good = make_return(home, "L02")  # same name: overwrites the rejected file in the inbox
    good_bytes = good.read_bytes()
    sequin(home, "watch", "--once")
    folder = unit_dir(home, "L02")
    assert (folder / good.name).read_bytes() == good_bytes
    for p in (folder / "earlier").glob("*.xlsx"):
        assert p.read_bytes() != good_bytes, "the accepted bytes are not filed as the rejected file"
    assert bad_bytes != good_bytes
    retired = list((folder / "earlier").glob("*.problems (superseded).txt"))
    assert len(retired) == 1
    assert [p for p in home.inbox.iterdir() if not p.name.startswith(".")] == []

"""Last month beside this month, and actions carried forward from one month to the next.

The ledger reads (:class:`engine.ledger.carry.CarryReads`) are checked on rows
written with plain SQL; then a return goes through the real pipeline and the
next month's workbook is read back, as a unit would open it.
"""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from engine import template as T
from engine.generation import generate, read_carry
from engine.ledger import Ledger
from engine.ledger.carry import CarriedAction, month_before
from engine.pipeline import Intake
from engine.synthetic import action_cells, fill_workbook, synthetic_answers
from engine.workbook import area_choice, build_workbook

MONTH, NEXT = "2026-10", "2026-11"
_SHA = itertools.count()


# --- the ledger reads, on rows written by hand ---------------------------------------


@pytest.fixture
def ledger(tmp_path: Path):
    led = Ledger(tmp_path / "ledger.sqlite")
    yield led
    led.close()


def add_return(
    ledger: Ledger,
    unit: str,
    period: str,
    ratings: dict[str, str] | None = None,
    actions: tuple = (),
    received: str = "2026-11-03T10:15:00+00:00",
    held: str | None = None,
) -> int:
    """A return as the ledger records it; it replaces the unit's counted one unless held.

    ``actions``: (ref, what, area_id, lead, due, status) in sheet order.
    """
    db = ledger.db
    rid = db.execute(
        "INSERT INTO returns(sha256, unit, period, bank_version, received_at, points, available, "
        "answered, applicable, overall_rag, held) VALUES (?, ?, ?, '2026.2', ?, 0, 0, 0, 0, "
        "'Red', ?)",
        (f"sha{next(_SHA)}", unit, period, received, held),
    ).lastrowid
    if not held:
        db.execute(
            "UPDATE returns SET superseded_by = ? WHERE unit = ? AND period = ? AND id != ? "
            "AND superseded_by IS NULL AND held IS NULL",
            (rid, unit, period, rid),
        )
    db.executemany(
        "INSERT INTO answers VALUES (?, ?, ?, ?, '', '')",
        [(rid, qid, qid[:3], rating) for qid, rating in (ratings or {}).items()],
    )
    db.executemany(
        "INSERT INTO actions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(rid, a[0], i, *a[1:]) for i, a in enumerate(actions)],
    )
    return rid


def test_month_before_crosses_the_year():
    assert month_before("2026-11") == "2026-10"
    assert month_before("2027-01") == "2026-12"


def test_previous_ratings_come_from_the_counted_return_of_the_month_before(ledger):
    add_return(ledger, "M01", MONTH, {"INV-01": "Met", "INV-02": "Not met"}, received="2026-11-01")
    add_return(ledger, "M01", MONTH, {"INV-01": "Partly met", "INV-02": ""}, received="2026-11-03")
    add_return(ledger, "M01", MONTH, {"INV-01": "N/A"}, received="2026-11-04", held="older-save")
    add_return(ledger, "M01", "2026-09", {"INV-03": "Met"})
    add_return(ledger, "M02", MONTH, {"INV-01": "Met"}, received="2026-11-05")

    prev = ledger.previous_ratings("M01", NEXT)
    assert (prev.period, prev.received_at, prev.found) == (MONTH, "2026-11-03", True)
    assert prev.ratings == {"INV-01": "Partly met", "INV-02": ""}

    # A unit that sent nothing for the month before: nothing, even with an older month.
    none = ledger.previous_ratings("M01", "2026-12")
    assert (none.period, none.received_at, none.found, none.ratings) == ("2026-11", None, False, {})
    many = ledger.previous_ratings_for(["M01", "M02", "L01"], NEXT)
    assert many["M01"] == prev and many["M02"].ratings == {"INV-01": "Met"}
    assert not many["L01"].found


def test_open_actions_are_carried_with_their_history_oldest_first(ledger):
    add_return(
        ledger,
        "M01",
        "2026-08",
        actions=(("2026-08.1", "Debriefs", "RRP", "Ward manager", "2026-09-30", "Not started"),),
    )
    # September: held back (a late older draft), so it is not part of the history.
    add_return(
        ledger,
        "M01",
        "2026-09",
        actions=(("2026-08.1", "Debriefs", "RRP", "Ward manager", "2026-09-30", "Done"),),
        held="closed-month",
    )
    add_return(
        ledger,
        "M01",
        "2026-09",
        actions=(
            ("2026-08.1", "Debriefs", "RRP", "Ward manager", "2026-10-31", "In progress"),
            ("2026-09.2", "Menu forum", "DIN", "Chef", "", "Not started"),
            ("2026-09.3", "Tablets", "TEC", "IT lead", "", "Dropped"),
        ),
    )
    add_return(
        ledger,
        "M01",
        MONTH,
        actions=(
            ("2026-09.2", "Menu forum", "DIN", "Chef", "2026-12-01", "In progress"),
            ("2026-08.1", "Debriefs after every incident", "RRP", "Nurse", "", "In progress"),
            ("2026-10.3", "Carers' letters", "FFC", "Carer lead", "2026-11-30", "Not started"),
            ("2026-10.4", "Rules review", "RRP", "Ward manager", "", "Done"),
        ),
    )
    got = ledger.open_actions("M01", NEXT)
    assert [a.ref for a in got] == ["2026-08.1", "2026-09.2", "2026-10.3"]
    first = got[0]
    assert first == CarriedAction(
        "2026-08.1",
        "Debriefs after every incident",
        "RRP",
        "Nurse",
        "",
        "In progress",
        (("2026-08", "Not started"), ("2026-09", "In progress"), (MONTH, "In progress")),
    )
    assert got[1].history == (("2026-09", "Not started"), (MONTH, "In progress"))
    assert got[2].history == ((MONTH, "Not started"),)
    # Nothing is carried into a month from that month itself or a later one.
    assert [a.ref for a in ledger.open_actions("M01", MONTH)] == ["2026-08.1", "2026-09.2"]
    assert ledger.open_actions("M01", "2026-08") == []


def test_a_unit_that_missed_a_month_still_carries_its_actions(ledger):
    add_return(
        ledger,
        "M01",
        "2026-09",
        actions=(("2026-09.1", "Debriefs", "RRP", "Ward manager", "", "In progress"),),
    )
    got = ledger.open_actions_for(["M01", "M02"], NEXT)  # nothing counted for October
    assert [a.ref for a in got["M01"]] == ["2026-09.1"] and got["M02"] == []
    assert got["M01"][0].history == (("2026-09", "In progress"),)
    assert not ledger.previous_ratings("M01", NEXT).found


# --- through the pipeline: a return for one month, the workbook for the next ----------


def _sheet(path: Path, name: str) -> list[list]:
    """The sheet's values from A1, down to row 40 (rows of blank cells read as "")."""
    sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(name)
    rows = [list(r) + [""] * (7 - len(r)) for r in sheet.to_python(skip_empty_area=False)]
    return rows + [[""] * 7 for _ in range(40 - len(rows))]


@pytest.fixture
def carried_home(home):
    """M01 sent a return for MONTH with synthetic answers and two actions; M02 sent nothing."""
    bank = home.bank()
    cells = synthetic_answers(bank, home.network, "M01", MONTH)
    cells.update(
        action_cells(
            bank,
            0,
            what="Offer a debrief within 72 hours of every incident",
            area_id="RRP",
            lead="Ward manager",
            due=dt.date(2026, 12, 15),
            status="In progress",
        )
    )
    cells.update(
        action_cells(
            bank,
            1,
            what="Hold a menu tasting session",
            area_id="DIN",
            lead="Catering lead",
            due=dt.date(2026, 10, 30),
            status="Done",
        )
    )
    token = home.token("M01", MONTH, bank.version)
    data = fill_workbook(build_workbook(home.network, bank, "M01", MONTH, token), cells)
    path = home.inbox / T.file_name("M01", MONTH)
    path.write_bytes(data)
    with Intake(home) as intake:
        [outcome] = intake.process_many([path])
    assert outcome.outcome == "accepted"
    return home


def test_next_months_workbook_shows_last_months_rating_beside_every_standard(carried_home):
    home = carried_home
    bank = home.bank()
    ledger = home.open_ledger()
    try:
        current = ledger.current_return("M01", MONTH)
        agreed = dict(
            ledger.db.execute(
                "SELECT question_id, rating FROM answers WHERE return_id = ?", (current["id"],)
            ).fetchall()
        )
    finally:
        ledger.close()
    assert len(agreed) == 120
    m01, m02 = generate(home, NEXT, ["M01", "M02"])
    col = ord(T.LAYOUTS[T.UNIT_FORM].col_last_month) - 65
    rating = ord(T.LAYOUTS[T.UNIT_FORM].col_rating) - 65
    received = dt.date.fromisoformat(current["received_at"][:10])
    seen = 0
    for area in bank.areas:
        rows = _sheet(m01, T.area_sheet_name(area.index, area.short_name))
        note = rows[3][0]
        assert f"for October 2026, from your return received {received.day} " in note
        assert note.endswith(f"{received.year}. Rate each standard as it is now.")
        for pos, std in enumerate(area.standards):
            row = rows[T.standard_row(pos) - 1]
            assert row[0].split("\n")[0] == std.id
            assert row[col] == (agreed[std.id] or "Not rated"), std.id
            assert row[rating] == "", "the rating cell stays empty"
            seen += 1
        # M02 sent nothing for October: blank, and the reason in words.
        rows = _sheet(m02, T.area_sheet_name(area.index, area.short_name))
        assert rows[3][0] == (
            "No return for October 2026 was counted, so there is nothing from last month."
        )
        assert all(rows[T.standard_row(p) - 1][col] == "" for p in range(10))
    assert seen == 120


def test_the_open_action_is_carried_and_the_done_one_is_not(carried_home):
    home = carried_home
    bank = home.bank()
    m01, m02 = generate(home, NEXT, ["M01", "M02"])
    rows = _sheet(m01, T.ACTIONS_SHEET)
    first = rows[T.action_row(0) - 1]
    assert first[:4] == [
        f"{MONTH}.1",
        "Offer a debrief within 72 hours of every incident",
        area_choice(bank.area("RRP")),
        "Ward manager",
    ]
    assert first[4] in (dt.date(2026, 12, 15), dt.datetime(2026, 12, 15))
    assert first[5:] == ["In progress", "Written October 2026 (In progress)"]
    later = [rows[T.action_row(i) - 1] for i in range(1, T.ACTION_ROWS)]
    assert all(all(v == "" for v in row[:7]) for row in later), "the Done action is not carried"
    assert not any("menu tasting" in str(v).lower() for row in rows for v in row)
    assert rows[3][0].startswith("1 open action carried forward from your return for October 2026")
    # M02 has nothing to carry.
    rows = _sheet(m02, T.ACTIONS_SHEET)
    assert all(v == "" for i in range(T.ACTION_ROWS) for v in rows[T.action_row(i) - 1][:7])
    # What the workbook shows is what the ledger says is open.
    carry = read_carry(home, NEXT, ["M01"])["M01"]
    assert [a.ref for a in carry.actions] == [f"{MONTH}.1"]


def test_a_carried_action_updated_and_returned_keeps_its_ref_and_grows_its_history(
    carried_home,
):
    """December's workbook shows the action's October and November statuses."""
    home = carried_home
    bank = home.bank()
    [m01] = generate(home, NEXT, ["M01"])
    cells = synthetic_answers(bank, home.network, "M01", NEXT, month_index=1)
    cells.update(action_cells(bank, 0, status="Not started"))  # slipped back
    data = fill_workbook(m01.read_bytes(), cells)
    path = home.inbox / T.file_name("M01", NEXT)
    path.write_bytes(data)
    with Intake(home) as intake:
        [outcome] = intake.process_many([path])
    assert outcome.outcome == "accepted"
    [dec] = generate(home, "2026-12", ["M01"])
    first = _sheet(dec, T.ACTIONS_SHEET)[T.action_row(0) - 1]
    assert first[0] == f"{MONTH}.1" and first[5] == "Not started"
    assert first[6] == "Written October 2026 (In progress); November 2026: Not started"


def test_generation_is_the_same_bytes_for_the_same_ledger(carried_home):
    home = carried_home
    [a] = generate(home, NEXT, ["M01"])
    first = a.read_bytes()
    [b] = generate(home, NEXT, ["M01"])
    assert b.read_bytes() == first

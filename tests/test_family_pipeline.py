"""Family and friends responses and actions through the pipeline, the ledger and the receipts.

The ledger is checked directly (actions kept with their return; responses, copies sent
again, many per unit and month, a closed month); then real family workbooks go through the
real pipeline, and the receipts are read as the lead reads them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3

import pytest

from engine import template as T
from engine.checks import Action, Answer, FamilyAnswer, FamilyResponse, Return
from engine.ledger import Ledger
from engine.pipeline import Intake
from engine.receipts import family_receipt_text, problems_text, receipt_text
from engine.release import ReleaseError, release
from engine.scoring import score
from engine.status import period_status, returns_list
from engine.synthetic import fill_workbook

from .conftest import PERIOD, full_answers, make_return, report_path

AGREE = ("Agree", "Not sure", "Disagree")


def _ledger(home) -> Ledger:
    home.ensure_folders()
    return home.open_ledger()


def _response(bank, unit="M01", period=PERIOD, agree="Agree", comment="") -> FamilyResponse:
    answers = [FamilyAnswer(a.id, agree, comment if a.index == 1 else "") for a in bank.areas]
    return FamilyResponse(unit, period, bank.version, answers)


def _record_response(ledger, sha, resp=None, *, held=None, response_id=None, bank=None):
    return ledger.record(
        sha256=sha,
        original_name=T.family_file_name("M01", PERIOD),
        size=10,
        arrived_at="2026-12-03T10:15:00+00:00",
        outcome="accepted",
        findings=[],
        ret=resp,
        held=held,
        response_id=response_id,
        unit="M01" if resp is None else None,
        period=PERIOD if resp is None else None,
        form=T.FAMILY_FORM,
    )


def _counted(ledger, unit="M01", period=PERIOD) -> int:
    return ledger.counted_response_count(unit, period)


# --- the ledger -------------------------------------------------------------------------


def test_a_returns_actions_are_kept_with_it_and_a_left_action_keeps_its_last_row(home, bank):
    ledger = _ledger(home)
    ratings = {s.id: "Met" for a in bank.areas for s in a.standards}
    answers_of = [Answer(s.id, a.id, "Met", "seen", "") for a in bank.areas for s in a.standards]
    october = Return(
        "M01",
        "2026-10",
        bank.version,
        answers=answers_of,
        actions=[
            Action(
                "2026-10.1", 0, "Weekly community meeting", "INV", "Ward manager", "", "In progress"
            ),
            Action("2026-10.2", 1, "New menu", "DEH", "Chef", "2026-12-01", "Not started"),
        ],
    )
    scores = score(bank, home.network, ratings)
    ledger.record(
        sha256="a" * 64,
        original_name="oct.xlsx",
        size=1,
        arrived_at="2026-11-05T09:00:00+00:00",
        outcome="accepted",
        findings=[],
        ret=october,
        scores=scores,
    )
    october_id = ledger.return_by_sha("a" * 64)["id"]
    assert ledger.return_row(october_id)["form"] == T.UNIT_FORM
    assert ledger.receipt_actions(october_id) == october.actions
    november = Return(
        "M01",
        PERIOD,
        bank.version,
        answers=answers_of,
        actions=[
            Action("2026-10.1", 0, "Weekly community meeting", "INV", "Ward manager", "", "Done"),
            Action("2026-11.2", 1, "Garden open daily", "MAC", "OT", "", "Not started"),
        ],
        kept=["2026-10.2"],  # its row was emptied: it stays as it was
    )
    ledger.record(
        sha256="b" * 64,
        original_name="nov.xlsx",
        size=1,
        arrived_at="2026-12-05T09:00:00+00:00",
        outcome="accepted",
        findings=[],
        ret=november,
        scores=scores,
    )
    got = ledger.receipt_actions(ledger.return_by_sha("b" * 64)["id"])
    assert [(a.ref, a.status) for a in got] == [
        ("2026-10.1", "Done"),
        ("2026-11.2", "Not started"),
        ("2026-10.2", "Not started"),
    ]
    assert got[2].what == "New menu" and got[2].position == T.ACTION_ROWS
    ledger.close()


def test_responses_all_count_the_same_bytes_once_and_a_closed_month_holds(home, bank):
    ledger = _ledger(home)
    for period in ledger.dirty_periods():
        ledger.clear_dirty(period)
    first = _record_response(ledger, "1" * 64, _response(bank, comment="Kind staff"))
    assert first.response_id is not None and first.return_id is None and first.is_family
    assert ledger.response_by_sha("1" * 64)["id"] == first.response_id
    assert ledger.dirty_periods() == [PERIOD], "a counted response rebuilds the month"
    answers = ledger.response_answers_of(first.response_id)
    by_area = {a.area_id: a for a in answers}
    assert len(by_area) == 12 and by_area[bank.areas[0].id].comment == "Kind staff"
    # Many responses for one unit and month: every one counts, none replaces another.
    _record_response(ledger, "2" * 64, _response(bank, agree="Disagree"))
    _record_response(ledger, "3" * 64, _response(bank, agree="Not sure"))
    assert _counted(ledger) == 3
    # The same bytes again: a drop pointing at the same response, counted once.
    copy = _record_response(ledger, "1" * 64, response_id=first.response_id)
    assert copy.response_id == first.response_id and copy.id != first.id
    assert ledger.first_drop_of_response(first.response_id).id == first.id
    assert _counted(ledger) == 3
    # A closed month: kept, not counted, nothing rebuilt; released, it counts.
    ledger.clear_dirty(PERIOD)
    held = _record_response(ledger, "4" * 64, _response(bank), held="closed-month")
    assert _counted(ledger) == 3 and ledger.dirty_periods() == []
    assert [r["id"] for r in ledger.held_responses(PERIOD)] == [held.response_id]
    ledger.release_response(held.response_id)
    assert _counted(ledger) == 4 and ledger.dirty_periods() == [PERIOD]
    assert ledger.held_responses(PERIOD) == []
    # Responses are not the unit's own return: the month's drop reads leave them out.
    assert ledger.latest_drops(PERIOD) == [] and ledger.last_drops(PERIOD) == []
    ledger.close()


def test_an_older_ledger_gets_the_new_tables_and_columns(home):
    ledger = _ledger(home)
    ledger.close()
    db = sqlite3.connect(home.ledger_path)
    if sqlite3.sqlite_version_info < (3, 35):
        pytest.skip("this SQLite cannot drop columns to make an older ledger")
    db.executescript(
        "DROP INDEX IF EXISTS drops_response; DROP TABLE response_answers; DROP TABLE responses; "
        "DROP TABLE actions; ALTER TABLE drops DROP COLUMN response_id; "
        "ALTER TABLE drops DROP COLUMN form; ALTER TABLE returns DROP COLUMN form;"
    )
    db.close()
    ledger = Ledger(home.ledger_path)
    tables = {r[0] for r in ledger.db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"actions", "responses", "response_answers"} <= tables
    drops = {r[1] for r in ledger.db.execute("PRAGMA table_info(drops)")}
    assert {"response_id", "form"} <= drops
    assert "form" in {r[1] for r in ledger.db.execute("PRAGMA table_info(returns)")}
    assert ledger.get_meta("schema_version") == "5"
    ledger.close()


# --- receipts ---------------------------------------------------------------------------


def _essential(bank):
    """A bank with an essential standard (the newest bank has them; older ones get one here)."""
    if bank.essentials:
        return bank, bank.essentials[0]
    area = bank.areas[0]
    std = dataclasses.replace(area.standards[0], essential=True)
    areas = (dataclasses.replace(area, standards=(std, *area.standards[1:])), *bank.areas[1:])
    return dataclasses.replace(bank, areas=areas), std


def test_the_receipt_names_an_essential_standard_not_met_in_a_green_area(home, bank):
    bank, std = _essential(bank)
    not_met = home.network.not_met_label
    area = next(a for a in bank.areas if std in a.standards)
    ratings = {s.id: "Met" for a in bank.areas for s in a.standards}
    ratings[std.id] = not_met
    scores = score(bank, home.network, ratings)
    assert scores.areas[area.id].rag == "Green", "nine of ten Met keeps the area Green"
    text = receipt_text(
        file_name="SeQuIn_M01_2026-11.xlsx",
        unit="M01",
        unit_name="Calder House",
        period=PERIOD,
        received="2026-12-03T10:15:00+00:00",
        scores=scores,
        bank=bank,
        findings=[],
        ratings=ratings,
        not_met=not_met,
        actions=[
            Action("2026-10.1", 0, "a", "INV", "b", "", "Done"),
            Action("2026-11.2", 1, "c", "INV", "d", "", "In progress"),
            Action("2026-11.3", 2, "e", "INV", "f", "", "Dropped"),
        ],
        form=T.UNIT_FORM,
    )
    sentence = f"Essential standard {std.id} is {not_met} (area {area.name}, rated Green overall)"
    assert sentence in text
    assert text.index(sentence) < text.index("Overall score"), "named near the top"
    assert (
        "Actions read: 3 (2 new this month, 1 carried forward); 1 Done, 1 Dropped, 1 still open."
        in text
    )
    # Without essentials (an older bank) or with it met, nothing is named.
    ratings[std.id] = "Met"
    again = receipt_text(
        file_name="x.xlsx",
        unit="M01",
        unit_name="Calder House",
        period=PERIOD,
        received="2026-12-03T10:15:00+00:00",
        scores=score(bank, home.network, ratings),
        bank=bank,
        findings=[],
        ratings=ratings,
        not_met=not_met,
        form=T.UNIT_FORM,
    )
    assert "Essential standard" not in again
    assert "Actions: none written on the Actions sheet." in again


def test_the_family_receipt_says_whose_month_and_each_answer_and_never_quotes_comments(bank):
    answers = [FamilyAnswer(a.id, AGREE[a.index % 3], "") for a in bank.areas[:11]]
    answers[0] = FamilyAnswer(bank.areas[0].id, "Agree", "Ask for Jo on 07700 900123")
    text = family_receipt_text(
        file_name="SeQuIn_family_M01_2026-11.xlsx",
        unit="M01",
        unit_name="Calder House",
        period=PERIOD,
        received="2026-12-03T10:15:00+00:00",
        bank=bank,
        answers=answers,
        findings=[],
        responses_counted=2,
    )
    first = text.splitlines()[0]
    assert first == (
        "SeQuIn family and friends response for unit M01 (Calder House), November 2026, "
        "received 3 December 2026 at 10:15 UTC: ACCEPTED and counted"
    )
    assert "M01 has 2 family and friends response(s) counted for November 2026" in text
    lines = {line.split("  ")[0].strip(): line for line in text.splitlines() if ". " in line[:4]}
    assert (
        "Agree" in lines[f"1. {bank.areas[0].name}"]
        and "written" in lines[f"1. {bank.areas[0].name}"]
    )
    assert "no answer" in lines[f"12. {bank.areas[11].name}"]
    assert "07700" not in text and "Jo" not in text, "comments are counted, never quoted"
    assert "personal details (NHS numbers, dates of birth) masked" in text
    held = family_receipt_text(
        file_name="x.xlsx",
        unit="M01",
        unit_name="Calder House",
        period=PERIOD,
        received="2026-12-03T10:15:00+00:00",
        bank=bank,
        answers=answers,
        findings=[],
        note="HELD, NOT COUNTED. November 2026 was closed.",
        counted=False,
    )
    assert held.splitlines()[0].endswith(": KEPT, NOT COUNTED")
    assert "HELD, NOT COUNTED" in held and "counted for November 2026" not in held
    problems = problems_text(
        file_name="x.xlsx", received="2026-12-03T10:15:00+00:00", findings=[], family=True
    )
    assert problems.startswith("SeQuIn family and friends response NOT ACCEPTED")


# --- through the pipeline ----------------------------------------------------------------


def _family_workbook(home, unit="M01", period=PERIOD, agree="Agree", comment="") -> bytes:
    family = pytest.importorskip("engine.family")
    if not hasattr(family, "build_family_workbook"):
        pytest.skip("engine.family has no family workbook generator yet")
    bank = home.bank()
    token = home.token(unit, period, bank.version, T.FAMILY_FORM)
    blank = family.build_family_workbook(
        home.network, bank, unit, period, token, {a.id: "Green" for a in bank.areas}
    )
    cells = {}
    for a in bank.areas:
        row = T.family_row(a.index)
        cells[(T.FAMILY_SHEET, f"{T.FAMILY_COL_AGREE}{row}")] = agree
        if comment and a.index == 1:
            cells[(T.FAMILY_SHEET, f"{T.FAMILY_COL_COMMENT}{row}")] = comment
    return fill_workbook(blank, cells)


def _drop(home, data: bytes, name: str):
    (home.inbox / name).write_bytes(data)
    with Intake(home) as intake:
        (outcome,) = intake.process_many([home.inbox / name])
    return outcome


def _text(path) -> str:
    return path.read_text(encoding="utf-8-sig")


def test_family_responses_are_taken_in_filed_counted_and_shown_in_status(home):
    first = _family_workbook(home, comment="Staff listened to us")
    o = _drop(home, first, T.family_file_name("M01", PERIOD))
    assert (o.outcome, o.kind, o.counted, o.duplicate) == ("accepted", "family", True, False)
    assert o.scores is None and not [f for f in o.findings if f.severity == "error"]
    assert not (home.inbox / T.family_file_name("M01", PERIOD)).exists(), "filed, not in the inbox"
    assert o.report.parent.name == "family" and o.report.parent.parent.name.startswith("M01")
    assert o.report.with_name(o.report.name.removesuffix(".receipt.txt")).read_bytes() == first
    receipt = _text(o.report)
    assert receipt.startswith("SeQuIn family and friends response for unit M01 (")
    assert "Staff listened" not in receipt and "Comments written: 1." in receipt
    with Intake(home) as intake:
        assert PERIOD in intake.ledger.dirty_periods()

    # A second family's response, under the same name: both count.
    second = _family_workbook(home, agree="Disagree")
    o2 = _drop(home, second, T.family_file_name("M01", PERIOD))
    assert o2.counted and not o2.duplicate and o2.report != o.report
    assert "M01 has 2 family and friends response(s) counted" in _text(o2.report)

    # The same bytes again: counted once, and the receipt says so.
    again = _drop(home, first, "copy of the first.xlsx")
    assert again.duplicate and again.counted and again.kind == "family"
    assert again.report.parent.name == "earlier" and again.report.parent.parent.name == "family"
    text = _text(again.report)
    assert "counted once" in text and "M01 has 2 family and friends response(s)" in text

    ledger = _ledger(home)
    status = period_status(home, ledger, PERIOD)
    m01 = next(u for u in status["units"] if u["unit"] == "M01")
    assert m01["family_responses"] == 2 and m01["status"] == "missing", "its own return is missing"
    states = [r["state"] for r in returns_list(home, ledger, "M01", PERIOD)]
    assert states == [
        "family response, counted",
        "family response, counted",
        "family response, copy sent again",
    ]
    with pytest.raises(ReleaseError, match="already counts"):
        release(
            home, ledger, str(again.report.with_name(again.report.name[: -len(".receipt.txt")]))
        )
    ledger.close()


def test_a_response_for_a_closed_month_is_held_until_released(home):
    with Intake(home) as intake:
        intake.ledger.close_period(PERIOD)
        for period in intake.ledger.dirty_periods():
            intake.ledger.clear_dirty(period)
    name = T.family_file_name("M02", PERIOD)
    o = _drop(home, _family_workbook(home, unit="M02"), name)
    assert o.outcome == "accepted" and not o.counted
    assert (home.inbox / name).exists(), "it waits in the inbox for the lead"
    receipt = _text(home.inbox / f"{name}.receipt.txt")
    assert receipt.splitlines()[0].endswith("KEPT, NOT COUNTED")
    assert "HELD, NOT COUNTED. It arrived " in receipt
    assert ", after November 2026 (2026-11) was closed " in receipt
    assert f'sequin release "{name}"' in receipt
    # Taken again from the inbox: it is the same file, not a new one.
    with Intake(home) as intake:
        (seen,) = intake.process_many([home.inbox / name])
        assert seen.outcome == "skipped"
        assert (
            intake.ledger.dirty_periods() == []
            and intake.ledger.counted_response_count("M02", PERIOD) == 0
        )
    ledger = _ledger(home)
    m02 = next(u for u in period_status(home, ledger, PERIOD)["units"] if u["unit"] == "M02")
    assert m02["family_responses"] == 0 and [h["file"] for h in m02["family_held"]] == [name]
    result = release(home, ledger, name)
    assert result["kind"] == "family" and result["responses_counted"] == 1
    assert PERIOD in ledger.dirty_periods()
    assert not (home.inbox / name).exists(), "released, it is filed with the unit's month"
    filed = next((home.root / "returns" / PERIOD).glob("M02*/family/*.receipt.txt"))
    assert _text(filed).startswith("RELEASED: this family and friends response is now counted")
    ledger.close()


def test_a_unit_receipt_names_an_essential_not_met_through_the_pipeline(home):
    bank = home.bank()
    if not bank.essentials:
        pytest.skip("the newest bank marks no essential standards yet")
    std = bank.essentials[0]
    area = next(a for a in bank.areas if std in a.standards)
    cells = full_answers(home, "M01")
    sheet = T.area_sheet_name(area.index, area.short_name)
    cells[(sheet, T.answer_cells(area.standards.index(std)).rating)] = home.network.not_met_label
    row = T.action_row(0)
    cells[(T.ACTIONS_SHEET, f"B{row}")] = "Weekly community meeting"
    cells[(T.ACTIONS_SHEET, f"D{row}")] = "Ward manager"
    cells[(T.ACTIONS_SHEET, f"E{row}")] = dt.date(2026, 12, 20)
    make_return(home, "M01", cells=cells)
    with Intake(home) as intake:
        (o,) = intake.process_many(intake.pending())
    assert o.outcome == "accepted", [f.to_dict() for f in o.findings if f.severity == "error"]
    text = _text(report_path(home, T.file_name("M01", PERIOD)))
    rag = o.scores.areas[area.id].rag
    assert f"Essential standard {std.id} is Not met (area {area.name}, rated {rag} overall)" in text
    assert "Actions read: 1 (1 new this month, 0 carried forward)" in text

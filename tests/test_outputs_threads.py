"""Family and friends responses, actions and essential standards in the month's outputs.

Returns go through the real pipeline; the actions and responses of those returns are
written into the ledger directly, so these tests read only what the outputs make of them.
"""

from __future__ import annotations

import dataclasses
import io
import sqlite3
import types
from pathlib import Path

import pytest
from openpyxl import load_workbook

from engine import bank as B
from engine import template as T
from engine.home import init_home
from engine.ledger import Ledger
from engine.outputs import build as R
from engine.outputs import figures as FIG
from engine.outputs.checklist import broken, check_file
from engine.outputs.sheets import presentation
from engine.pipeline import Intake

from .conftest import full_answers, make_return
from .test_print import box_per_point, pdf_pages, render  # noqa: F401 (box_per_point: a fixture)

PERIOD = "2026-11"
EARLIER = "2026-10"
NHS_NUMBER = "943 476 5919"  # passes the modulus 11 check
SECRET = "Ask Sam about the garden key"  # a comment from M02: only in M02's feedback
ESSENTIAL = "INV-03"


def _area_sheet(bank, area_id: str) -> str:
    area = bank.area(area_id)
    return T.area_sheet_name(area.index, area.short_name)


def _cells(home, unit: str, period: str) -> dict:
    """M01: every standard Met but INV-03 Not met (Involvement 90 %, Green); M02: every
    standard Partly met but INV-03 Not met (Involvement Red, the rest Amber)."""
    cells = full_answers(home, unit, period, "Partly met" if unit == "M02" else "Met")
    if unit in ("M01", "M02"):
        inv = _area_sheet(home.bank(), "INV")
        cells[(inv, T.answer_cells(2).rating)] = "Not met"
    return cells


def _essential_banks(real):
    """The banks as the outputs see them, with INV-03 essential in every version."""

    def mark(std):
        if std.id != ESSENTIAL:
            return std
        if any(f.name == "essential" for f in dataclasses.fields(std)):
            return dataclasses.replace(std, essential=True)
        return types.SimpleNamespace(**dataclasses.asdict(std), essential=True)

    def banks(extra_dir=None):
        out = {}
        for version, bank in real(extra_dir).items():
            areas = tuple(
                dataclasses.replace(a, standards=tuple(mark(s) for s in a.standards))
                for a in bank.areas
            )
            out[version] = dataclasses.replace(bank, areas=areas)
        return out

    return banks


def _seed(db: sqlite3.Connection) -> None:
    """Actions and responses, as the pipeline records them."""
    rid = {
        (u, p): i
        for i, u, p in db.execute(
            "SELECT id, unit, period FROM returns WHERE superseded_by IS NULL AND held IS NULL"
        )
    }
    actions = [
        # M01 in October: two actions, carried into November.
        (
            rid["M01", EARLIER],
            "2026-10.1",
            0,
            "Weekly community meeting",
            "INV",
            "Ward manager",
            "2026-11-15",
            "Not started",
        ),
        (
            rid["M01", EARLIER],
            "2026-10.3",
            2,
            "New menu with patients",
            "DIN",
            "Chef",
            "2026-11-30",
            "In progress",
        ),
        # M01 in November: one carried and still open (overdue), one carried and done,
        # one new and open, one new and dropped.
        (
            rid["M01", PERIOD],
            "2026-10.1",
            0,
            "Weekly community meeting",
            "INV",
            "Ward manager",
            "2026-11-15",
            "In progress",
        ),
        (
            rid["M01", PERIOD],
            "2026-10.3",
            1,
            "New menu with patients",
            "DIN",
            "Chef",
            "2026-11-30",
            "Done",
        ),
        (
            rid["M01", PERIOD],
            "2026-11.3",
            2,
            f"Check care plans (NHS {NHS_NUMBER})",
            "CPA",
            "Consultant",
            "2027-01-31",
            "Not started",
        ),
        (rid["M01", PERIOD], "2026-11.4", 3, "Phone rota", "TEC", "", "", "Dropped"),
        # M02 in November: one new action with no area, due in the past.
        (
            rid["M02", PERIOD],
            "2026-11.1",
            0,
            "Ward round with patients",
            "",
            "Deputy",
            "2026-11-02",
            "Not started",
        ),
    ]
    db.executemany("INSERT INTO actions VALUES (?, ?, ?, ?, ?, ?, ?, ?)", actions)
    # L01 sent the older workbook, which had no Actions sheet (its form is recorded).
    if "form" not in {row[1] for row in db.execute("PRAGMA table_info(returns)")}:
        db.execute("ALTER TABLE returns ADD COLUMN form TEXT")
    db.execute("UPDATE returns SET form = ? WHERE unit = 'L01'", (T.FORM_UNIT_1,))
    responses = [
        # (id, unit, held, {area: (agree, comment)})
        (
            1,
            "M01",
            None,
            {
                "INV": ("Disagree", f"My son (NHS {NHS_NUMBER}) is never asked"),
                "DIN": ("Agree", "Good food on Fridays"),
            },
        ),
        (2, "M01", None, {"INV": ("Disagree", ""), "DIN": ("Not sure", "")}),
        (3, "M01", None, {"INV": ("Agree", ""), "DIN": ("", "")}),
        # Held back (its month was closed): never counted.
        (4, "M01", "closed-month", {"INV": ("Agree", "Held comment"), "DIN": ("Agree", "")}),
        (5, "M02", None, {"INV": ("Agree", SECRET)}),
    ]
    for rid_, unit, held, answers in responses:
        db.execute(
            "INSERT INTO responses(id, sha256, unit, period, bank_version, received_at, held) "
            "VALUES (?, ?, ?, ?, '2026.1', '2026-12-03T10:00:00+00:00', ?)",
            (rid_, f"sha{rid_}", unit, PERIOD, held),
        )
        db.executemany(
            "INSERT INTO response_answers VALUES (?, ?, ?, ?)",
            [(rid_, area, agree, comment) for area, (agree, comment) in answers.items()],
        )
    db.commit()


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    home = init_home(tmp_path_factory.mktemp("threads") / "home")
    with Intake(home) as intake:
        for period, units in ((EARLIER, ("M01",)), (PERIOD, ("M01", "M02", "M03", "L01"))):
            for unit in units:
                path = make_return(home, unit, period, cells=_cells(home, unit, period))
                assert intake.process(path).outcome == "accepted"
    db = sqlite3.connect(home.ledger_path)
    _seed(db)
    db.close()
    ledger = Ledger(home.ledger_path)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(FIG, "known_banks", _essential_banks(B.known_banks))
        R.build_period(home, ledger, PERIOD)
    ledger.close()
    return home


def _book(home, name: str):
    path = home.outbox / PERIOD / name
    return path, load_workbook(io.BytesIO(path.read_bytes()))


def feedback(home, unit: str):
    return _book(home, f"feedback/SeQuIn_feedback_{unit}_{PERIOD}.xlsx")


def _table(ws, name: str) -> list[list]:
    """The rows of an Excel table, header row first."""
    from openpyxl.utils.cell import range_boundaries

    c1, r1, c2, r2 = range_boundaries(ws.tables[name].ref)
    return [[ws.cell(r, c).value for c in range(c1, c2 + 1)] for r in range(r1, r2 + 1)]


def _texts(wb) -> str:
    return "\n".join(
        str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row if v
    )


def _texts_of(ws) -> str:
    return "\n".join(str(v) for row in ws.iter_rows(values_only=True) for v in row if v)


def _rows_by(table: list[list], key_col: int = 0) -> dict:
    return {row[key_col]: row for row in table[1:]}


def test_every_workbook_keeps_the_checklist(built):
    fill = presentation()["colours"]["header_fill"]
    # The outputs, not the forms sent out to be filled in (unit and family workbooks).
    books = sorted(
        p
        for p in (built.outbox / PERIOD).rglob("*.xlsx")
        if not {"family", "workbooks"} & set(p.relative_to(built.outbox).parts)
    )
    assert len(books) >= 5
    for path in books:
        problems = [(r.key, r.detail) for r in broken(check_file(path.read_bytes(), fill))]
        assert problems == [], f"{path.name}: {problems}"


def test_feedback_counts_family_answers_per_area_and_masks_comments(built):
    _path, wb = feedback(built, "M01")
    ws = wb["Families"]
    rows = _rows_by(_table(ws, "Family_responses"))
    inv, din, tec = (
        rows["1. Involvement"],
        rows["8. Dining & Healthy Weight"],
        rows["12. Technology"],
    )
    # Area, what families said, your RAG, agreed, not sure, disagreed, no answer
    assert inv[2:] == ["Green", 1, 0, 2, 0]
    assert inv[1] == "Most disagree with your Green rating."
    assert din[3:] == [1, 1, 0, 1]
    assert tec[3:] == [0, 0, 0, 3]  # no answer at all for the area
    assert tec[1] == "No one answered for this area."
    comments = _table(ws, "Family_comments")
    assert comments[0] == ["Area", "Comment", "Their answer"]
    said = [row[1] for row in comments[1:]]
    assert said == ["My son (NHS [removed]) is never asked", "Good food on Fridays"]
    assert [row[0] for row in comments[1:]] == ["1. Involvement", "8. Dining & Healthy Weight"]
    text = _texts(wb)
    assert NHS_NUMBER not in text and NHS_NUMBER.replace(" ", "") not in text
    assert "Held comment" not in text and SECRET not in text


def test_green_area_most_families_disagree_with_is_called_out(built):
    _path, wb = feedback(built, "M01")
    top = wb["Families"]["A2"].value
    assert top.startswith("Families disagree") and "1. Involvement (2 of 3 disagree)" in top
    summary = [wb["Your results"].cell(r, 1).value or "" for r in range(1, 6)]
    said = [t for t in summary if "Families disagree" in t]
    assert said and "1. Involvement (2 of 3 disagree)" in said[0], summary
    assert said[0].endswith("See the 'Families' sheet.")
    # M02 is Amber everywhere: nothing to call out, and its one response is counted.
    _path, wb2 = feedback(built, "M02")
    assert "Families disagree" not in _texts(wb2)
    assert SECRET in _texts(wb2)


def test_no_responses_is_said_plainly(built):
    _path, wb = feedback(built, "M03")
    ws = wb["Families"]
    assert ws["A2"].value.startswith("No family and friends responses for November 2026")
    assert not ws.tables


@pytest.mark.parametrize(
    "name", [f"SeQuIn_network_{PERIOD}.xlsx", f"SeQuIn_commissioners_{PERIOD}.xlsx"]
)
def test_shared_outputs_show_family_counts_only(built, name):
    _path, wb = _book(built, name)
    ws = wb["Families"]
    assert ws["A2"].value.startswith("4 responses from families and friends about November")
    assert "for 2 of the 15 units" in ws["A2"].value
    rows = _rows_by(_table(ws, "Family_responses_by_area"))
    assert rows["1. Involvement"][1:] == [2, 0, 2, 0]  # M01 and M02 added up, held left out
    assert rows["8. Dining & Healthy Weight"][1:] == [1, 1, 0, 2]
    text = _texts(wb)
    for comment in (SECRET, "Good food on Fridays", "never asked", "Held comment", NHS_NUMBER):
        assert comment not in text, comment


def test_feedback_action_plan_is_built_from_the_units_actions(built):
    _path, wb = feedback(built, "M01")
    ws = wb["Action plan"]
    assert "Actions sheet of your next workbook (for December 2026)" in ws["A2"].value
    open_rows = _rows_by(_table(ws, "Open_actions"))
    assert list(open_rows) == ["2026-10.1", "2026-11.3"]
    late = open_rows["2026-10.1"]
    # Ref, what, area, who leads, by when, status, history, overdue
    assert late[1:6] == [
        "Weekly community meeting",
        "1. Involvement",
        "Ward manager",
        "2026-11-15",
        "In progress",
    ]
    assert late[6] == "Oct 2026: Not started; Nov 2026: In progress"
    assert late[7] == "Overdue"
    assert open_rows["2026-11.3"][7] == "No"
    assert open_rows["2026-11.3"][1] == "Check care plans (NHS [removed])"
    closed = _rows_by(_table(ws, "Actions_closed_this_month"))
    assert {k: v[5] for k, v in closed.items()} == {"2026-10.3": "Done", "2026-11.4": "Dropped"}
    assert closed["2026-11.4"][3] == "Not given"  # no lead written
    assert NHS_NUMBER not in _texts(wb)
    # M03 recorded no actions: said so, with where to write them.
    _path, wb3 = feedback(built, "M03")
    intro = wb3["Action plan"]["A2"].value
    assert "recorded no actions" in intro and "Actions sheet of your next workbook" in intro


@pytest.mark.parametrize(
    "name", [f"SeQuIn_network_{PERIOD}.xlsx", f"SeQuIn_commissioners_{PERIOD}.xlsx"]
)
def test_shared_outputs_count_actions_per_unit_and_across_the_network(built, name):
    _path, wb = _book(built, name)
    rows = _rows_by(_table(wb["Actions"], "Actions_by_unit"))
    # Unit, opened this month, done this month, open, overdue
    assert rows["M01"][1:] == [2, 1, 2, 1]
    assert rows["M02"][1:] == [1, 0, 1, 1]
    assert rows["M03"][1:] == [0, 0, 0, 0]
    assert rows["M04"][1:] == ["[x]"] * 4  # not returned
    assert rows["Network total"][1:] == [3, 1, 3, 2]


def test_essential_not_met_is_named_although_its_area_is_green(built):
    _path, wb = feedback(built, "M01")
    results = _rows_by(_table(wb["Your results"], "Your_results"))
    assert results["1. Involvement"][2] == "Green"
    summary = [wb["Your results"].cell(r, 1).value or "" for r in range(1, 6)]
    named = [t for t in summary if ESSENTIAL in t]
    assert named and "1. Involvement (area Green)" in named[0], summary
    _path, wb = _book(built, f"SeQuIn_commissioners_{PERIOD}.xlsx")
    rows = _table(wb["Essential standards"], "Essential_standards_not_met")
    assert rows[0] == ["Unit", "Standard ID", "Standard", "Area", "Area RAG for the unit"]
    wording = next(s.text for s in built.bank().standards if s.id == ESSENTIAL)
    assert rows[1:] == [
        ["M01", ESSENTIAL, wording, "1. Involvement", "Green"],
        ["M02", ESSENTIAL, wording, "1. Involvement", "Red"],
    ]
    key = {wb["Summary"].cell(r, 1).value: wb["Summary"].cell(r, 2).value for r in range(1, 20)}
    assert key["Essential standards"].startswith("2 rated Not met, in 2 units")
    # M02 has family responses but none disagree: its families sheet calls nothing out, and
    # its essential standard is named on its summary page only.
    _path, wb2 = feedback(built, "M02")
    summary = [str(wb2["Your results"].cell(r, 1).value or "") for r in range(1, 6)]
    assert any(t.startswith(f"Essential standard Not met: {ESSENTIAL}") for t in summary)
    families = _texts_of(wb2["Families"])
    assert ESSENTIAL not in families and "Families disagree" not in families


def test_older_return_without_actions_sheet_is_said_so(built):
    _path, wb = feedback(built, "L01")
    ws = wb["Action plan"]
    assert "came from the older workbook, which had no Actions sheet" in ws["A2"].value
    assert not ws.tables
    for name in (f"SeQuIn_network_{PERIOD}.xlsx", f"SeQuIn_commissioners_{PERIOD}.xlsx"):
        _path, wb = _book(built, name)
        rows = _table(wb["Actions"], "Actions_by_unit")
        row = next(r for r in rows if str(r[0]).startswith("L01 [note"))
        assert row[1:] == ["[x]"] * 4
        assert "which had no Actions sheet" in _texts(wb)


# Titles that start the printed pages of the sheets shown here.
PRINTED = (
    "What families and friends said",
    "What families and friends would tell the ward",
    "Action plan,",
    "Done or dropped this month",
    "Essential standards rated",
    "Actions,",
    "Family and friends responses,",
    "SeQuIn summary for",
    "Calder House (M01): SeQuIn feedback",
)


@pytest.mark.slow
def test_new_sheets_print_on_a4_at_9_pt_or_more(built, tmp_path, box_per_point):  # noqa: F811
    factor = box_per_point[presentation()["fonts"]["name"]]
    names = [
        f"feedback/SeQuIn_feedback_M01_{PERIOD}.xlsx",
        f"SeQuIn_commissioners_{PERIOD}.xlsx",
        f"SeQuIn_network_{PERIOD}.xlsx",
    ]
    seen = set()
    for name in names:
        pdf = render(built.outbox / PERIOD / name, tmp_path / Path(name).stem)
        for page in pdf_pages(pdf):
            start = " ".join(w.text for w in page.words[:12])
            title = next((t for t in PRINTED if start.startswith(t)), None)
            if title is None:
                continue
            seen.add(title)
            assert sorted((round(page.width), round(page.height))) == [595, 842], (name, page)
            smallest = min(w.height for w in page.words) / factor
            assert smallest >= 9 - 0.05, f"{name} page {page.number} ({title}): {smallest:.2f} pt"
    assert seen >= set(PRINTED) - {"Done or dropped this month"}, seen

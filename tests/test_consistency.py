"""No two outputs say opposite things about one unit and area (see ``tests/consistency.py``).

A hand-made unit: Involvement is Green (90 %), but its essential standard
INV-01 is Not met and every family who answered disagrees. Its feedback must
not call Involvement a strength, its ward page must not say it is going well,
and both must say why. A second unit's score rises by ten points in a month:
its process control chart calls that common cause, so its page says "about the
same". The demo's last month is read the same way in ``test_outputs_demo.py``.
"""

from __future__ import annotations

import pytest
from openpyxl import load_workbook

from engine import template as T
from engine.ledger import Ledger
from engine.outputs.build import build_period
from engine.outputs.facts import families_said
from engine.outputs.figures import FamilyCounts
from engine.outputs.sheets import presentation
from engine.pipeline import Intake
from engine.synthetic import fill_workbook

from .conftest import full_answers, make_return
from .consistency import easy_read_claims, feedback_claims, month_contradictions

BEFORE, MONTH = "2026-10", "2026-11"


def _family(home, unit: str, period: str, agree: dict[str, str]) -> bytes:
    from engine.family import build_family_workbook

    bank = home.bank()
    token = home.token(unit, period, bank.version, T.FAMILY_FORM)
    blank = build_family_workbook(
        home.network, bank, unit, period, token, {a.id: "Green" for a in bank.areas}
    )
    cells = {}
    for a in bank.areas:
        if a.id in agree:
            cells[(T.FAMILY_SHEET, f"{T.FAMILY_COL_AGREE}{T.family_row(a.index)}")] = agree[a.id]
    return fill_workbook(blank, cells)


def _rated(home, unit: str, period: str, overrides: dict[str, str]) -> dict:
    cells = full_answers(home, unit, period)
    for area in home.bank().areas:
        sheet = T.area_sheet_name(area.index, area.short_name)
        for pos, std in enumerate(area.standards):
            if std.id in overrides:
                cells[(sheet, T.answer_cells(pos).rating)] = overrides[std.id]
    return cells


def _share(home, unit, period, share_met: int) -> dict:
    """Every area rated with ``share_met`` of its 10 standards Met, the rest Partly met."""
    over = {}
    for area in home.bank().areas:
        for pos, std in enumerate(area.standards):
            over[std.id] = "Met" if pos < share_met else "Partly met"
    return _rated(home, unit, period, over)


@pytest.fixture
def month(home, tmp_path):
    """M01 (Green Involvement, INV-01 Not met, 3 of 3 families disagree), M02 up 10 points."""
    files = []
    for period in (BEFORE, MONTH):
        files.append(make_return(home, "M03", period, folder=tmp_path / period))
    files.append(make_return(home, "M01", BEFORE, folder=tmp_path / "b"))
    files.append(
        make_return(
            home,
            "M01",
            MONTH,
            _rated(home, "M01", MONTH, {"INV-01": "Not met"}),
            folder=tmp_path / "m",
        )
    )
    files.append(
        make_return(home, "M02", BEFORE, _share(home, "M02", BEFORE, 4), folder=tmp_path / "c")
    )
    files.append(
        make_return(home, "M02", MONTH, _share(home, "M02", MONTH, 6), folder=tmp_path / "d")
    )
    for i in range(3):
        path = tmp_path / f"family-{i}" / T.family_file_name("M01", MONTH)
        path.parent.mkdir()
        other = {"COL": ("Agree", "Not sure", "Disagree")[i]}  # three different families
        path.write_bytes(_family(home, "M01", MONTH, {"INV": "Disagree", "REC": "Agree", **other}))
        files.append(path)
    path = tmp_path / "family-m02" / T.family_file_name("M02", MONTH)
    path.parent.mkdir()
    path.write_bytes(_family(home, "M02", MONTH, {"INV": "Agree", "REC": "Not sure"}))
    files.append(path)
    with Intake(home) as intake:
        outcomes = intake.process_many(files)
    assert all(o.outcome == "accepted" for o in outcomes), [o.findings for o in outcomes]
    ledger = Ledger(home.ledger_path)
    try:
        build_period(home, ledger, MONTH)
    finally:
        ledger.close()
    return home, home.outbox / MONTH


def test_a_green_area_with_an_essential_miss_and_families_disagreeing_is_never_a_strength(month):
    home, folder = month
    bank = home.bank()
    found = month_contradictions(folder, bank)
    assert found.keys() >= {"M01", "M02", "M03"}
    assert not any(found.values()), found

    fb = feedback_claims(folder / "feedback" / f"SeQuIn_feedback_M01_{MONTH}.xlsx", bank)
    inv = fb["areas"]["INV"]
    assert {("rag", "Green"), "essential-not-met", "families-disagree", "priority"} <= inv
    assert "strength" not in inv
    er = easy_read_claims(folder / "easy_read" / f"SeQuIn_easy_read_M01_{MONTH}.xlsx", bank)
    assert er["standing"]["INV"] == "closer_look"
    assert er["standing"]["REC"] == "going_well"  # Green, nothing holding it back

    # The priority says why, in words.
    sp = load_workbook(folder / "feedback" / f"SeQuIn_feedback_M01_{MONTH}.xlsx")[
        "Strengths and priorities"
    ]
    why = [
        r[-1]
        for r in sp.iter_rows(values_only=True)
        if r[0] == "1. Involvement" and r[2] == "Whole area"
    ]
    assert why == [
        "Essential standard INV-01 rated Not met; 3 of 3 families who answered disagree."
    ]


def test_a_common_cause_rise_is_about_the_same_in_words(month):
    home, folder = month
    er = easy_read_claims(folder / "easy_read" / f"SeQuIn_easy_read_M02_{MONTH}.xlsx", home.bank())
    assert er["trend"] == "same"  # up 10 points; two months are common cause


def test_few_family_answers_are_counts_not_a_summary(month):
    home, folder = month
    fb = feedback_claims(folder / "feedback" / f"SeQuIn_feedback_M02_{MONTH}.xlsx", home.bank())
    said = {c[1] for c in fb["areas"]["INV"] if isinstance(c, tuple) and c[0] == "families-said"}
    assert said == {"1 family answered: agreed."}
    said = {c[1] for c in fb["areas"]["REC"] if isinstance(c, tuple) and c[0] == "families-said"}
    assert said == {"1 family answered: not sure."}


def test_what_families_said_follows_the_counts():
    w = presentation()["families"]
    assert families_said(FamilyCounts(agree=1), w, "Green") == "1 family answered: agreed."
    assert families_said(FamilyCounts(agree=1, disagree=1), w, "") == (
        "2 families answered: 1 agreed, 1 disagreed."
    )
    assert families_said(FamilyCounts(not_sure=1), w, "") == "1 family answered: not sure."
    assert families_said(FamilyCounts(agree=2, not_sure=1), w, "") == w["said_agree"]
    assert families_said(FamilyCounts(agree=1, not_sure=1, disagree=1), w, "") == w["said_mixed"]
    assert families_said(FamilyCounts(disagree=3), w, "Green") == w["said_disagree_green"]
    assert families_said(FamilyCounts(no_answer=2), w, "") == w["said_none"]


def test_a_standard_shows_how_many_units_gave_each_rating_not_a_median(month):
    _home, folder = month
    ws = load_workbook(folder / "feedback" / f"SeQuIn_feedback_M01_{MONTH}.xlsx")["Standards"]
    rows = list(ws[ws.tables["Standards"].ref])
    header = [c.value for c in rows[0]]
    assert "Network median (%)" not in header
    col = header.index("How many units rated it")
    by_id = {r[1].value: r[col].value for r in rows[1:]}
    assert by_id["INV-01"] == "Met 2, Not met 1"  # M02 and M03 Met it, M01 did not
    assert by_id["INV-10"] == "Met 2, Partly met 1"
    net = load_workbook(folder / f"SeQuIn_network_{MONTH}.xlsx")
    headers = {
        c.value for ws in net.worksheets for t in ws.tables.values() for c in next(iter(ws[t.ref]))
    }
    assert "Network median (%)" in headers  # areas still have one
    assert "How many units rated it" in headers


def test_areas_as_often_red_or_amber_as_the_last_named_are_named_with_it():
    from types import SimpleNamespace

    from engine.outputs.commissioner import _gap_names
    from engine.outputs.figures import Spread

    areas = [SimpleNamespace(id=f"A{i}", index=i, name=f"Area {i}") for i in range(1, 6)]
    rag = {"A1": (0, 2, 2), "A2": (1, 1, 2), "A3": (2, 1, 1), "A4": (2, 2, 0), "A5": (4, 0, 0)}
    data = SimpleNamespace(
        areas=areas,
        area_rag=rag,
        area_spread={a.id: Spread(70.0, 50.0, 90.0, 4) for a in areas},
    )
    # A1 4 of 4, A2 3 of 4, then A3 and A4 both 2 of 4: neither is dropped.
    assert _gap_names(data) == "Area 1, Area 2, Area 3, Area 4"

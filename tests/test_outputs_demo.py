"""The demo's last month, read as its readers would: every output workbook against the checklist,
the process limits boards see, and an easy-read page with pictures for every unit that returned."""

from __future__ import annotations

import datetime as dt
import io
import re
import statistics
import zipfile
from itertools import pairwise
from pathlib import Path

import pytest
from openpyxl import load_workbook

from engine.demo import run_demo
from engine.home import init_home
from engine.outputs.checklist import broken, check_file
from engine.outputs.sheets import presentation

from .test_print import box_per_point  # noqa: F401 (a fixture)

TODAY = dt.date(2026, 11, 20)


RESULTS: dict = {}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    home = init_home(tmp_path_factory.mktemp("demo") / "home")
    result = run_demo(home, today=TODAY)
    RESULTS["demo"] = result
    return home, result.periods[-1]


def _workbooks(folder: Path) -> list[Path]:
    # The unit workbooks and the family and friends forms are forms to fill, not reports.
    return sorted(
        p for p in folder.rglob("*.xlsx") if "workbooks" not in p.parts and "family" not in p.parts
    )


def test_every_output_workbook_keeps_the_checklist(demo):
    home, period = demo
    folder = home.outbox / period
    books = _workbooks(folder)
    kinds = {re.sub(r"_[A-Z]\d+_", "_UNIT_", p.name) for p in books}
    assert {
        f"SeQuIn_network_{period}.xlsx",
        f"SeQuIn_commissioners_{period}.xlsx",
        f"SeQuIn_easy_read_{period}.xlsx",
        f"SeQuIn_feedback_UNIT_{period}.xlsx",
        f"SeQuIn_easy_read_UNIT_{period}.xlsx",
    } <= kinds, kinds
    fill = presentation()["colours"]["header_fill"]
    for path in books:
        data = path.read_bytes()
        problems = [(r.key, r.detail) for r in broken(check_file(data, fill))]
        assert problems == [], f"{path.name}: {problems}"
        wb = load_workbook(io.BytesIO(data))
        assert wb.sheetnames[:3] == ["Cover", "Contents", "Notes"], path.name
        notes = [c for row in wb["Notes"].iter_rows(values_only=True) for c in row if c]
        assert any("10 of 10 rules met" in str(t) for t in notes), path.name
        data_sheets = [ws for ws in wb.worksheets[3:] if ws.tables]
        if "easy_read" not in path.name:
            assert data_sheets, f"{path.name} has no Excel table"
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
            drawings = "".join(
                z.read(n).decode() for n in z.namelist() if n.startswith("xl/drawings/drawing")
            )
        # Every chart is anchored in a drawing whose frame carries alt text (checked above).
        assert drawings.count("<c:chart ") == len(charts), path.name


def _xmr_limits(values: list[float]) -> tuple[float, float, float]:
    # Every month (no rebase date in the demo), moving ranges above 3.267 x their mean left out.
    mean = statistics.fmean(values)
    ranges = [abs(b - a) for a, b in pairwise(values)]
    mr = statistics.fmean(r for r in ranges if r <= 3.267 * statistics.fmean(ranges))
    return mean, mean + 2.66 * mr, mean - 2.66 * mr


def test_the_commissioner_summary_shows_process_limits_from_the_ledger(demo):
    home, period = demo
    wb = load_workbook(home.outbox / period / f"SeQuIn_commissioners_{period}.xlsx")
    assert "SPC" in wb.sheetnames
    ws = wb["SPC"]
    table = next(t for t in ws.tables.values() if "network" in t.displayName.lower())
    rows = list(ws[table.ref])
    header = [c.value for c in rows[0]]
    col = {h: i for i, h in enumerate(header)}
    body = [[c.value for c in r] for r in rows[1:]]
    medians = [r[col["Score (%)"]] for r in body]
    assert len(medians) == 14
    mean, upper, lower = _xmr_limits(medians)
    for r in body:
        assert r[col["Mean (%)"]] == pytest.approx(mean, abs=0.05)
        assert r[col["Upper process limit (%)"]] == pytest.approx(min(100.0, upper), abs=0.05)
        assert r[col["Lower process limit (%)"]] == pytest.approx(max(0.0, lower), abs=0.05)
    text = " ".join(str(c) for row in ws.iter_rows(values_only=True) for c in row if c)
    assert "variation" in text.lower() and "target" in text.lower()


def test_an_easy_read_page_with_a_picture_per_line_for_every_unit_that_returned(demo):
    home, period = demo
    from engine.ledger import Ledger

    ledger = Ledger(home.ledger_path)
    try:
        returned = sorted({r["unit"] for r in ledger.current_returns(period)})
    finally:
        ledger.close()
    assert len(returned) >= 10
    folder = home.outbox / period / "easy_read"
    for code in returned:
        path = folder / f"SeQuIn_easy_read_{code}_{period}.xlsx"
        assert path.exists(), path
        data = path.read_bytes()
        wb = load_workbook(io.BytesIO(data))
        page = wb.worksheets[3]
        text_rows = {
            c.row
            for row in page.iter_rows()
            for c in row
            if isinstance(c.value, str) and c.value.strip() and c.row > 1
        }
        pictured = {img.anchor._from.row + 1 for img in page._images}
        assert text_rows and text_rows <= pictured, (code, sorted(text_rows - pictured))


@pytest.mark.slow
def test_network_feedback_and_commissioner_pages_print_at_9_pt_or_more(
    demo,
    tmp_path,
    box_per_point,  # noqa: F811 (the fixture imported above)
):
    """Every printed A4 page of the network, one feedback and the commissioner workbook."""
    from .test_print import printed_sizes, render

    home, period = demo
    out = home.outbox / period
    factor = box_per_point[presentation()["fonts"]["name"]]
    for path in (
        out / f"SeQuIn_commissioners_{period}.xlsx",
        out / "feedback" / f"SeQuIn_feedback_L05_{period}.xlsx",
        out / f"SeQuIn_network_{period}.xlsx",
    ):
        pdf = render(path, tmp_path / path.stem)
        sizes = printed_sizes(pdf, factor)
        assert len(sizes) > 3, path.name
        small = [(n, round(b, 2)) for n, b, _f in sizes if b is None or b < 9.0 - 0.05]
        assert not small, f"{path.name}: pages under 9 pt: {small}"
        print(
            path.name, len(sizes), "pages, smallest", round(min(b for _n, b, _f in sizes), 1), "pt"
        )


def test_the_demo_shows_families_actions_last_month_and_an_essential_standard(demo):
    """What the demo is for: family responses, actions carried over months, last month's
    ratings beside this month's, and an essential standard Not met inside a Green area."""
    import sqlite3

    from python_calamine import CalamineWorkbook

    from engine import template as T
    from engine.demo import ESSENTIAL_UNIT, FAMILY_RESPONSES

    home, period = demo
    result = RESULTS["demo"]
    db = sqlite3.connect(home.ledger_path)
    units = dict(
        db.execute(
            "SELECT unit, COUNT(*) FROM responses WHERE period = ? AND held IS NULL GROUP BY unit",
            (period,),
        ).fetchall()
    )
    assert units == FAMILY_RESPONSES
    # Actions: one carried through at least three months, and some done along the way.
    spans = db.execute(
        "SELECT r.unit, a.ref, COUNT(DISTINCT r.period) FROM actions a JOIN returns r "
        "ON r.id = a.return_id WHERE r.superseded_by IS NULL GROUP BY r.unit, a.ref"
    ).fetchall()
    assert max(n for _u, _r, n in spans) >= 3, spans
    done = db.execute("SELECT COUNT(*) FROM actions WHERE status = 'Done'").fetchone()[0]
    assert done > 0

    # This month's workbook shows last month's counted ratings and carries the open actions.
    previous = result.periods[-2]
    rid = db.execute(
        "SELECT id FROM returns WHERE unit = ? AND period = ? AND superseded_by IS NULL "
        "AND held IS NULL",
        (ESSENTIAL_UNIT, previous),
    ).fetchone()[0]
    ratings = dict(
        db.execute("SELECT question_id, rating FROM answers WHERE return_id = ?", (rid,))
    )
    open_refs = {
        ref
        for (ref,) in db.execute(
            "SELECT ref FROM actions WHERE return_id = ? AND status NOT IN ('Done', 'Dropped')",
            (rid,),
        )
    }
    db.close()
    wb = CalamineWorkbook.from_path(
        str(home.outbox / period / "workbooks" / T.file_name(ESSENTIAL_UNIT, period))
    )
    bank = home.bank()
    for area in bank.areas:
        rows = wb.get_sheet_by_name(T.area_sheet_name(area.index, area.short_name)).to_python()
        for pos, std in enumerate(area.standards):
            row = rows[T.standard_row(pos) - 1]
            assert row[3] == (ratings.get(std.id) or "Not rated"), std.id
            assert row[4] == "", "the rating cell stays empty"
    actions = wb.get_sheet_by_name(T.ACTIONS_SHEET).to_python()
    carried = {r[0] for r in actions[T.FIRST_ACTION_ROW - 1 :] if r and r[0]}
    assert carried == open_refs and carried

    # An essential standard Not met inside a Green area, named to the unit and commissioners.
    unit, std_id = result.essential.split()
    feedback = CalamineWorkbook.from_path(
        str(home.outbox / period / "feedback" / f"SeQuIn_feedback_{unit}_{period}.xlsx")
    )
    text = " ".join(
        str(v) for r in feedback.get_sheet_by_name("Your results").to_python() for v in r
    )
    assert f"Essential standard Not met: {std_id}" in text and "(area Green)" in text
    summary = CalamineWorkbook.from_path(
        str(home.outbox / period / f"SeQuIn_commissioners_{period}.xlsx")
    ).get_sheet_by_name("Essential standards")
    assert [unit, std_id] in [r[:2] for r in summary.to_python()]


def test_no_two_outputs_of_the_last_month_say_opposite_things(demo):
    """Every unit's feedback and ward page, read cell by cell: no contradiction anywhere."""
    from .consistency import month_contradictions

    home, period = demo
    found = month_contradictions(home.outbox / period, home.bank())
    assert len(found) >= 10, found.keys()
    assert not {code: lines for code, lines in found.items() if lines}

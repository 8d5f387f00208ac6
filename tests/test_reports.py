"""The benchmark outputs, built from returns that went through the real pipeline."""

from __future__ import annotations

import random
import re
import statistics
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest

from engine import template as T
from engine.files import TEMP_PREFIX
from engine.home import Home, default_config_text, init_home
from engine.ledger import Ledger
from engine.outputs import build as R
from engine.outputs.figures import MAX_CELL, clean
from engine.pipeline import Intake
from engine.scoring import score
from engine.synthetic import EVIDENCE_OPENERS, unit_profile

from .conftest import full_answers, make_return

MONTHS = ("2026-01", "2026-02", "2026-03")
PERIOD = MONTHS[-1]
UNITS = ("M01", "M02", "M03", "L01", "L02")
NAMES = {
    "M01": "Alder Rise",
    "M02": "Birchwood Lodge",
    "M03": "Cedar Court",
    "L01": "Damson Ward",
    "L02": "Elmstead House",
}
NHS_NUMBER = "943 476 5919"  # passes the modulus 11 check
INJECTIONS = ('=HYPERLINK("http://example.invalid","x")', "=1+1", "http://example.invalid")


def network_config(units: dict[str, str], **outputs: bool) -> str:
    """The default network.toml with other units (and output switches)."""
    text = default_config_text()
    head = text.split("[[units]]", 1)[0]
    for key, value in outputs.items():
        head = re.sub(
            rf"^{key} = \w+$", f"{key} = {'true' if value else 'false'}", head, flags=re.MULTILINE
        )
    body = "".join(
        f'[[units]]\ncode = "{c}"\nname = "{n}"\nsecurity = "low"\n' for c, n in units.items()
    )
    return head + body


def _area_sheet(bank, area_id: str) -> str:
    area = bank.area(area_id)
    return T.area_sheet_name(area.index, area.short_name)


def march_cells(home: Home, unit: str) -> dict:
    """Hand-made answers for the last month, so the network figures can be checked by hand.

    M01 rates everything Met (100 % per area), M02 everything Partly met (50 %),
    L01 everything Not met (0 %) but leaves one Involvement standard unrated, so
    its Involvement area is incomplete and left out of the median.
    """
    bank = home.bank()
    rating = {"M01": "Met", "M02": "Partly met", "L01": "Not met"}[unit]
    cells = full_answers(home, unit, PERIOD, rating)
    inv = _area_sheet(bank, "INV")
    if unit == "M01":
        for pos, text in enumerate(INJECTIONS):
            cells[(inv, T.answer_cells(pos).evidence)] = text
        cells[(inv, T.answer_cells(3).evidence)] = f"Care plan seen for NHS number {NHS_NUMBER}"
    if unit == "M02":
        cells[(inv, T.answer_cells(0).notes)] = "=1+1"
    if unit == "L01":
        del cells[(inv, T.answer_cells(9).rating)]
    return cells


def _build_home(root: Path) -> Home:
    home = init_home(root)
    home.config_path.write_text(network_config(NAMES), encoding="utf-8")
    home = Home(root)
    with Intake(home) as intake:
        for i, period in enumerate(MONTHS):
            for unit in UNITS:
                last = period == PERIOD
                if last and unit == "L02":
                    continue  # missing this month
                if last and unit == "M03":
                    # Not a rating: the file is rejected.
                    cells = full_answers(home, unit, period)
                    cells[(_area_sheet(home.bank(), "INV"), T.answer_cells(0).rating)] = "Maybe"
                elif last:
                    cells = march_cells(home, unit)
                else:
                    cells = None
                path = make_return(
                    home, unit, period, cells=cells, synthetic=cells is None, month_index=i
                )
                outcome = intake.process(path)
                assert outcome.outcome == ("rejected" if last and unit == "M03" else "accepted")
    return home


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A home with three months of returns and the last month's outputs built."""
    home = _build_home(tmp_path_factory.mktemp("reports") / "home")
    ledger = Ledger(home.ledger_path)
    paths = R.build_period(home, ledger, PERIOD)
    yield home, ledger, paths
    ledger.close()


def folder(home: Home) -> Path:
    return home.outbox / PERIOD


def _xlsx(paths: list[Path]) -> list[Path]:
    return [p for p in paths if p.suffix == ".xlsx"]


def _stored_scores(ledger: Ledger) -> dict[str, dict]:
    rows = ledger.db.execute(
        "SELECT r.unit, r.overall_percent, s.area_id, s.percent, s.rag, s.complete FROM returns r "
        "JOIN area_scores s ON s.return_id = r.id WHERE r.period = ? AND r.superseded_by IS NULL",
        (PERIOD,),
    ).fetchall()
    out: dict[str, dict] = {}
    for unit, overall, area, pct, rag, complete in rows:
        out.setdefault(unit, {"overall": overall, "areas": {}})["areas"][area] = (
            pct,
            rag,
            complete,
        )
    return out


def fits_one_page(ws) -> bool:
    """Printed fit to one page wide and tall (1 is the file format's default, often left out)."""
    setup = ws.page_setup
    return bool(ws.sheet_properties.pageSetUpPr.fitToPage) and (
        (setup.fitToWidth or 1),
        (setup.fitToHeight if setup.fitToHeight is not None else 1),
    ) == (1, 1)


def _overview(path: Path):
    """The Overview sheet's tables read as one: headers, and each row by its first cell.

    The units grid is split into tables of a few areas each (so a page prints at a
    readable size); every table lists the same rows, so a row is the first table's
    cells followed by the other tables' cells after their 'Unit' column.
    """
    ws = openpyxl.load_workbook(path)["Overview"]
    header, rows = [], {}
    for i, table in enumerate(sorted(ws.tables.values(), key=lambda t: _bounds(t.ref)[0][1])):
        (c1, r1), (c2, r2) = _bounds(table.ref)
        skip = 0 if i == 0 else 1
        header += [c.value for c in ws[r1 + 1][c1 + skip : c2 + 1]]
        for r in range(r1 + 2, r2 + 2):
            cells = ws[r][c1 : c2 + 1]
            rows.setdefault(cells[0].value, []).extend(cells if i == 0 else cells[1:])
    return ws, header, rows


def _bounds(ref: str):
    from openpyxl.utils.cell import range_boundaries

    c1, r1, c2, r2 = range_boundaries(ref)
    return (c1 - 1, r1 - 1), (c2 - 1, r2 - 1)


def _table_rows(ws, name_part: str) -> tuple[list, list]:
    """The header and the data rows (values) of the one table of ``ws`` named with ``name_part``."""
    [table] = [t for t in ws.tables.values() if name_part in t.displayName]
    (c1, r1), (c2, r2) = _bounds(table.ref)
    values = [[c.value for c in ws[r + 1][c1 : c2 + 1]] for r in range(r1, r2 + 1)]
    return values[0], values[1:]


# --- files --------------------------------------------------------------------------------------


def test_every_output_of_the_month_is_written(built):
    home, _ledger, paths = built
    out = folder(home)
    expected = {
        out / f"SeQuIn_network_{PERIOD}.xlsx",
        out / f"SeQuIn_commissioners_{PERIOD}.xlsx",
        out / f"SeQuIn_easy_read_{PERIOD}.xlsx",
        *(out / "feedback" / f"SeQuIn_feedback_{u}_{PERIOD}.xlsx" for u in ("M01", "M02", "L01")),
        *(out / "easy_read" / f"SeQuIn_easy_read_{u}_{PERIOD}.xlsx" for u in ("M01", "M02", "L01")),
        *(out / "family" / f"SeQuIn_family_{u}_{PERIOD}.xlsx" for u in ("M01", "M02", "L01")),
    }
    pngs = {
        out / "charts" / f"SeQuIn_{name}_{PERIOD}.png"
        for name in ("units_by_area", "area_ratings", "network_trend", "network_spc")
    }
    csvs = {out / f"SeQuIn_scores_{PERIOD}.csv", out / f"SeQuIn_evidence_{PERIOD}.csv"}
    # No feedback for M03 (rejected) or L02 (missing).
    assert set(paths) == expected | pngs | csvs
    for p in paths:
        assert p.exists() and p.stat().st_size > 0
        if p.suffix == ".png":
            assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # Atomic writes leave no temporary files behind.
    assert not [p for p in home.outbox.rglob("*") if p.name.startswith(TEMP_PREFIX)]


def test_outputs_are_deterministic(built):
    home, ledger, paths = built
    before = {p: p.read_bytes() for p in paths}
    again = R.build_period(home, ledger, PERIOD)
    assert sorted(again) == sorted(paths)
    for p in again:
        assert p.read_bytes() == before[p], p.name


def test_refresh_outputs_rebuilds_and_clears_the_dirty_mark(built):
    home, ledger, _paths = built
    # The pipeline marks each period it records; building alone does not clear the mark.
    assert set(MONTHS) <= set(ledger.dirty_periods())
    written = R.refresh_outputs(home, [PERIOD, MONTHS[0]], ledger=ledger)
    assert folder(home) / f"SeQuIn_network_{PERIOD}.xlsx" in written
    assert home.outbox / MONTHS[0] / f"SeQuIn_network_{MONTHS[0]}.xlsx" in written
    assert PERIOD not in ledger.dirty_periods() and MONTHS[0] not in ledger.dirty_periods()


# --- the figures --------------------------------------------------------------------------------


def test_overview_figures_equal_the_stored_scores(built):
    home, ledger, _paths = built
    stored = _stored_scores(ledger)
    assert set(stored) == {"M01", "M02", "L01"}
    bank = home.bank()
    _ws, header, rows = _overview(folder(home) / f"SeQuIn_network_{PERIOD}.xlsx")
    for unit, scores in stored.items():
        row = rows[unit]
        assert row[1].value == pytest.approx(scores["overall"])
        for area in bank.areas:
            col = header.index(f"{area.index}. {area.short_name} (%)")
            pct, rag, complete = scores["areas"][area.id]
            assert row[col].value == pytest.approx(pct), (unit, area.id)
            word = row[col + 1].value
            assert word.startswith(rag), (unit, area.id)
            assert ("incomplete" in word) == (not complete), (unit, area.id)


def test_network_medians_and_ranges_checked_by_hand(built):
    home, _ledger, _paths = built
    bank = home.bank()
    _ws, header, rows = _overview(folder(home) / f"SeQuIn_network_{PERIOD}.xlsx")
    inv = header.index("1. Involvement (%)")
    rec = header.index("2. Recovery Pathway (%)")
    assert header[inv + 1] == "1. Involvement RAG" and header[:3] == [
        "Unit",
        "Overall (%)",
        "Overall RAG",
    ]
    median, low, high, counted = (
        rows[k] for k in ("Network median", "Lowest", "Highest", "Units counted")
    )

    def figures(col: int) -> tuple:
        return median[col].value, low[col].value, high[col].value, counted[col].value

    # Involvement: L01 is incomplete, so only M01 (100) and M02 (50) count.
    assert figures(inv) == (75, 50, 100, 2)
    assert median[inv + 1].value == "Amber"
    # The lowest and highest are figures, not ratings: their RAG cells say it does not apply.
    assert low[inv + 1].value == "[z]" and counted[inv + 1].value == "[z]"
    # Recovery Pathway: 100, 50 and 0.
    assert figures(rec) == (50, 0, 100, 3)
    # Overall: L01's return has an incomplete area, so M01 and M02 only.
    assert median[1].value == pytest.approx(statistics.median([100.0, 50.0]))
    # Units that did not return are listed, without figures ([x]: none to show).
    assert rows["M03"][2].value == "Rejected" and rows["L02"][2].value == "Not returned"
    assert {c.value for c in rows["M03"][3:]} == {"[x]"} and rows["L02"][1].value == "[x]"
    # The area sheet: how many units gave each rating to each standard (not a median).
    area_ws = openpyxl.load_workbook(folder(home) / f"SeQuIn_network_{PERIOD}.xlsx")[
        T.area_sheet_name(1, bank.area("INV").short_name)
    ]
    heads, lines = _table_rows(area_ws, "standards")
    values = {r[0].split(":")[0]: r for r in lines}
    assert "Network median (%)" not in heads
    rated = heads.index("How many units rated it")
    # INV-10 was rated by M01 (Met) and M02 (Partly met) only.
    assert values["INV-10"][rated] == "Met 1, Partly met 1"
    who = dict(zip(heads, values["INV-10"]))
    assert who["Met (units)"] == "M01" and who["Partly met (units)"] == "M02"
    assert "L01" in who["Not rated (units)"]
    heads, scores = _table_rows(area_ws, "scores")
    assert heads[:3] == ["Unit", "Score (%)", "RAG"]
    assert {r[0]: r[1] for r in scores}["Network median"] == 75


def test_completion_and_coproduction(built):
    home, _ledger, _paths = built
    ws = openpyxl.load_workbook(folder(home) / f"SeQuIn_network_{PERIOD}.xlsx")["Completion"]
    status = {r[0].value: r for r in ws.iter_rows() if r[0].value in UNITS}
    assert {u: status[u][1].value for u in UNITS} == {
        "M01": "Returned",
        "M02": "Returned",
        "M03": "Rejected",
        "L01": "Returned",
        "L02": "Not returned",
    }
    assert "rating-invalid" not in status["M03"][6].value  # people read messages, not codes
    assert "Maybe" in status["M03"][6].value and "SeQuIn_M03" in status["M03"][6].value
    # Every March area was agreed with a service user (full_answers says Yes).
    assert status["M01"][3].value == 12 and status["M01"][5].value == 100


def test_gaps_rank_standards_most_units_did_not_meet(built):
    home, _ledger, _paths = built
    ws = openpyxl.load_workbook(folder(home) / f"SeQuIn_network_{PERIOD}.xlsx")["Gaps"]
    values = [[c.value for c in r] for r in ws.iter_rows()]
    # Two of three units rated every standard below Met, so most standards and areas are gaps.
    # Not Involvement: L01's is incomplete, leaving M01 Green and M02 Amber (not most).
    # Not INV-10: L01 left it unrated, leaving M01 Met and M02 Partly met (not most).
    areas = [r for r in values if isinstance(r[0], int) and r[2] == 3]
    standards = [r for r in values if isinstance(r[0], int) and isinstance(r[2], str)]
    assert len(areas) == 11 and "1. Involvement" not in [r[1] for r in areas]
    assert len(standards) == 119 and "INV-10" not in [r[2] for r in standards]
    # Ranked: the most widespread gaps first (Not met by L01, Partly met by M02: 2 of 3).
    assert [r[0] for r in standards] == list(range(1, 120))


def test_feedback_has_action_plan_for_every_red_and_amber_area(built):
    home, ledger, _paths = built
    wb = openpyxl.load_workbook(folder(home) / "feedback" / f"SeQuIn_feedback_M02_{PERIOD}.xlsx")
    assert wb.sheetnames == [
        "Cover",
        "Contents",
        "Notes",
        "Your results",
        "Standards",
        "Trend",
        "SPC",
        "Strengths and priorities",
        "Families",
        "Action plan",
    ]
    results = wb["Your results"]
    assert "Birchwood Lodge (M02)" in results["A1"].value
    plan = wb["Action plan"]
    # The plan is built from the unit's actions; new ones are written in the next workbook.
    assert "Actions sheet of your next workbook" in plan["A2"].value
    # Other units are never named in a unit's feedback.
    text = " ".join(
        str(c.value) for ws in wb.worksheets for r in ws.iter_rows() for c in r if c.value
    )
    for other, name in NAMES.items():
        if other != "M02":
            assert other not in text and name not in text
    # The unit's trend covers every month on record, and each area's change since last month.
    assert [wb["Trend"].cell(row=r, column=1).value for r in range(5, 8)] == list(MONTHS)
    header = [c.value for c in results[4]]
    col = header.index("Change since February 2026 (points)")
    february = dict(
        ledger.db.execute(
            "SELECT s.area_id, s.percent FROM area_scores s JOIN returns r ON r.id = s.return_id "
            "WHERE r.unit = 'M02' AND r.period = ? AND r.superseded_by IS NULL",
            (MONTHS[1],),
        ).fetchall()
    )
    inv = next(r for r in results.iter_rows(min_row=5) if r[0].value == "1. Involvement")
    assert inv[col].value == pytest.approx(50 - february["INV"])


def test_commissioner_summary_is_one_page_anonymous_and_without_ranking(built):
    home, _ledger, _paths = built
    wb = openpyxl.load_workbook(folder(home) / f"SeQuIn_commissioners_{PERIOD}.xlsx")
    first = wb.worksheets[3]
    assert first.title == "Summary"
    assert fits_one_page(first)
    assert wb.sheetnames[3:] == [
        "Summary",
        "Essential standards",
        "Ratings",
        "Areas",
        "Units",
        "Trend",
        "SPC",
        "SPC by unit",
        "Completion",
        "Actions",
        "Families",
    ]
    assert "Ranking" not in wb.sheetnames
    text = " ".join(
        str(c.value) for ws in wb.worksheets for r in ws.iter_rows() for c in r if c.value
    )
    assert "M01" in text
    assert not any(name in text for name in NAMES.values())


def test_names_and_ranking_when_the_network_asks_for_them(tmp_path):
    home = _small_home(tmp_path / "home", show_unit_names=True, show_ranking=True)
    with Intake(home) as intake:
        for unit, rating in (("M01", "Met"), ("M02", "Not met")):
            intake.process(
                make_return(home, unit, PERIOD, cells=full_answers(home, unit, PERIOD, rating))
            )
        paths = R.refresh_outputs(home, intake.ledger.dirty_periods(), ledger=intake.ledger)
    wb = openpyxl.load_workbook(home.outbox / PERIOD / f"SeQuIn_commissioners_{PERIOD}.xlsx")
    assert "Ranking" in wb.sheetnames
    ranking = [[c.value for c in r] for r in wb["Ranking"].iter_rows(min_row=5)]
    assert ranking[0][:3] == [1, "Alder Rise (M01)", 100]
    assert ranking[1][:3] == [2, "Birchwood Lodge (M02)", 0]
    # 3 network-wide workbooks, 2 feedback, 2 easy-read and 2 family workbooks, 4 images,
    # 2 CSV files
    assert len(paths) == 3 + 2 + 2 + 2 + 4 + 2
    _ws, _header, rows = _overview(home.outbox / PERIOD / f"SeQuIn_network_{PERIOD}.xlsx")
    assert "Alder Rise (M01)" in rows


def _small_home(root: Path, **outputs: bool) -> Home:
    home = init_home(root)
    home.config_path.write_text(
        network_config({"M01": "Alder Rise", "M02": "Birchwood Lodge"}, **outputs)
    )
    return Home(home.root)


def test_a_resubmission_replaces_the_earlier_return(tmp_path):
    home = _small_home(tmp_path / "home")
    with Intake(home) as intake:
        for unit, rating in (("M01", "Met"), ("M02", "Not met"), ("M01", "Partly met")):
            cells = full_answers(home, unit, PERIOD, rating)
            assert (
                intake.process(make_return(home, unit, PERIOD, cells=cells)).outcome == "accepted"
            )
        R.refresh_outputs(home, intake.ledger.dirty_periods(), ledger=intake.ledger)
        assert intake.ledger.dirty_periods() == []
    _ws, _header, rows = _overview(home.outbox / PERIOD / f"SeQuIn_network_{PERIOD}.xlsx")
    assert rows["M01"][1].value == 50 and rows["M02"][1].value == 0
    assert rows["Network median"][1].value == 25


def test_a_file_open_elsewhere_keeps_the_month_marked_for_rebuilding(tmp_path, monkeypatch):
    home = _small_home(tmp_path / "home")
    with Intake(home) as intake:
        intake.process(make_return(home, "M01", PERIOD, cells=full_answers(home, "M01", PERIOD)))
        real = R.write_atomic

        def refuse_network(path, data):
            if "network" in path.name:
                raise PermissionError(13, "The process cannot access the file")
            return real(path, data)

        monkeypatch.setattr(R, "write_atomic", refuse_network)
        written = R.refresh_outputs(home, [PERIOD], ledger=intake.ledger)
        assert intake.ledger.dirty_periods() == [PERIOD]
        assert not any("network" in p.name for p in written)
        assert home.outbox / PERIOD / f"SeQuIn_commissioners_{PERIOD}.xlsx" in written
        monkeypatch.setattr(R, "write_atomic", real)
        R.refresh_outputs(home, [PERIOD], ledger=intake.ledger)
        assert intake.ledger.dirty_periods() == []


def test_a_month_without_returns_still_gets_its_network_outputs(built):
    home, ledger, _paths = built
    paths = R.build_period(home, ledger, "2026-04")
    assert sorted(p.name for p in paths) == [
        "SeQuIn_commissioners_2026-04.xlsx",
        "SeQuIn_easy_read_2026-04.xlsx",
        "SeQuIn_evidence_2026-04.csv",
        "SeQuIn_network_2026-04.xlsx",
        "SeQuIn_scores_2026-04.csv",
    ]
    ws = openpyxl.load_workbook(home.outbox / "2026-04" / "SeQuIn_easy_read_2026-04.xlsx")[
        "All wards"
    ]
    assert "No ward has sent in results for this month yet." in [
        c.value for r in ws.iter_rows() for c in r
    ]
    trend = openpyxl.load_workbook(home.outbox / "2026-04" / "SeQuIn_network_2026-04.xlsx")[
        "Trends"
    ]
    assert [trend.cell(row=r, column=1).value for r in range(5, 8)] == list(MONTHS)


def test_easy_read_fits_one_portrait_page(built):
    home, _ledger, _paths = built
    ws = openpyxl.load_workbook(folder(home) / f"SeQuIn_easy_read_{PERIOD}.xlsx")["All wards"]
    assert ws.page_setup.orientation == "portrait"
    # Printed at 100 %: the page fits by its layout, never by shrinking the text.
    assert ws.page_setup.scale in (None, 100) and not ws.sheet_properties.pageSetUpPr.fitToPage
    text = " ".join(str(c.value) for r in ws.iter_rows() for c in r if c.value)
    assert "3 out of 5 wards told us how they did." in text
    assert all(c.font.sz >= 14 for r in ws.iter_rows() for c in r if c.value)


# --- safety of text from returns -----------------------------------------------------------------


def test_text_from_returns_is_never_a_formula_or_a_link(built):
    home, _ledger, paths = built
    seen = set()
    for path in _xlsx(paths):
        wb = openpyxl.load_workbook(path)
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", (path.name, ws.title, cell.coordinate)
                    link = cell.hyperlink
                    if ws.title == "Contents" and link is not None:
                        # The contents sheet links to the workbook's own sheets, nothing else.
                        target = link.location.split("!")[0].strip("'")
                        assert not link.target and target == cell.value in wb.sheetnames
                    else:
                        assert link is None, (path.name, ws.title, cell.coordinate)
                    if isinstance(cell.value, str):
                        seen.update(t for t in INJECTIONS if t in cell.value)
        with zipfile.ZipFile(path) as zf:
            for name in zf.namelist():
                if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                    xml = zf.read(name)
                    assert b"<f>" not in xml and b"<f " not in xml, (path.name, name)
                    links = re.findall(rb"<hyperlink [^>]*>", xml)
                    if name != "xl/worksheets/sheet2.xml":  # the contents sheet
                        assert not links, (path.name, name)
                    assert all(b"location=" in x and b"r:id" not in x for x in links), path.name
                if name.startswith("xl/worksheets/_rels/"):
                    assert b"relationships/hyperlink" not in zf.read(name), (path.name, name)
    # The evidence is there, as plain text (evidence library; M02's own note in its feedback).
    assert seen == set(INJECTIONS)
    fb = openpyxl.load_workbook(folder(home) / "feedback" / f"SeQuIn_feedback_M02_{PERIOD}.xlsx")
    notes = [
        c.value
        for r in fb["Strengths and priorities"].iter_rows()
        for c in r
        if isinstance(c.value, str) and "Your note" in c.value
    ]
    assert any("Your note: =1+1" in n for n in notes)


def test_personal_data_is_masked_in_shared_outputs(built):
    home, _ledger, paths = built
    shared = [p for p in _xlsx(paths) if "feedback" not in p.parts]
    shared += [p for p in _xlsx(paths) if "feedback" in p.parts and "_M01_" not in p.name]
    for path in shared:
        with zipfile.ZipFile(path) as zf:
            blob = b"".join(zf.read(n) for n in zf.namelist() if n.endswith(".xml"))
        assert (
            NHS_NUMBER.encode() not in blob and NHS_NUMBER.replace(" ", "").encode() not in blob
        ), path
    ws = openpyxl.load_workbook(folder(home) / f"SeQuIn_network_{PERIOD}.xlsx")["Evidence library"]
    evidence = [r[4].value for r in ws.iter_rows(min_row=5) if r[1].value == "INV-04"]
    assert "Care plan seen for NHS number [removed]" in evidence


def test_clean_strips_control_characters():
    assert clean("a\x00b\x07c\x1fd\ne\tf\x7f") == "abcd\ne\tf"
    assert len(clean("x" * 40_000)) == MAX_CELL


# --- a real spreadsheet application --------------------------------------------------------------


@pytest.mark.slow
def test_outputs_open_and_print_in_libreoffice(built, tmp_path):
    from conftest_libreoffice import require_libreoffice, require_pdftoppm
    from libreoffice import convert_to_pdf, pdf_to_pngs

    require_libreoffice()
    require_pdftoppm()
    home, _ledger, _paths = built
    out = folder(home)
    for path in (
        out / f"SeQuIn_commissioners_{PERIOD}.xlsx",
        out / f"SeQuIn_network_{PERIOD}.xlsx",
        out / f"SeQuIn_easy_read_{PERIOD}.xlsx",
        out / "feedback" / f"SeQuIn_feedback_M02_{PERIOD}.xlsx",
    ):
        pdf = convert_to_pdf(path, tmp_path / "pdf")
        info = subprocess.run(
            ["pdfinfo", str(pdf)], capture_output=True, text=True, check=True
        ).stdout
        pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
        assert pages >= 1, path.name
        if "easy_read" in path.name:
            # Cover, contents, notes, then the easy-read page itself on one A4 page
            # (each ward's page is measured in tests/test_easy_read.py).
            assert pages == 4, pages
    # The commissioner summary's first sheet is one printed page: the next page is the next sheet.
    wb = openpyxl.load_workbook(out / f"SeQuIn_commissioners_{PERIOD}.xlsx")
    assert fits_one_page(wb["Summary"])
    pdf = convert_to_pdf(out / f"SeQuIn_commissioners_{PERIOD}.xlsx", tmp_path / "pdf")

    def page_text(page: int) -> str:
        return subprocess.run(
            ["pdftotext", "-f", str(page), "-l", str(page), str(pdf), "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    # Page 1 is the cover, which carries the same title.
    first = next(n for n in range(2, 12) if "SeQuIn summary for March 2026" in page_text(n))
    assert "Areas this month" in page_text(first)
    assert "Essential standards rated" in page_text(first + 1)
    [png] = pdf_to_pngs(pdf, tmp_path / "png", first_page=first, last_page=first, dpi=40)
    assert png.stat().st_size > 1000


# --- benchmark-scale ledgers ----------------------------------------------------------------------


def big_home(root: Path, units: int) -> tuple[Home, list[str]]:
    """A new home whose network has ``units`` fictional units; returns it and their codes."""
    codes = [f"U{i:03d}" for i in range(1, units + 1)]
    home = init_home(root)
    home.config_path.write_text(network_config({c: f"Unit {c}" for c in codes}), encoding="utf-8")
    return Home(root), codes


def fill_ledger(home: Home, periods: list[str], units: list[str], seed: int = 0) -> None:
    """Insert synthetic returns straight into the ledger (no workbooks), month by month.

    Ratings follow the same unit profiles as :mod:`engine.synthetic`; scores come from
    the real scorer, so the stored figures are consistent with the answers.
    """
    network, bank = home.network, home.bank()
    met, partly, not_met, na = (s.label for s in network.scale)
    ledger = Ledger(home.ledger_path)
    rid = ledger.db.execute("SELECT COALESCE(MAX(id), 0) FROM returns").fetchone()[0]
    try:
        for month_index, period in enumerate(periods):
            returns, drops, answers, signoffs, areas = [], [], [], [], []
            for unit in units:
                rng = random.Random(f"{seed}-{unit}-{period}")
                profile = unit_profile(unit)
                ratings = {}
                for area in bank.areas:
                    area_rng = random.Random(f"area-{unit}-{area.id}")
                    level = min(
                        0.97,
                        max(
                            0.05,
                            profile.base
                            + area_rng.uniform(-0.3, 0.3)
                            + profile.trend * month_index,
                        ),
                    )
                    for std in area.standards:
                        roll = rng.random()
                        rating = (
                            na
                            if roll < 0.03
                            else met
                            if roll < 0.03 + level * 0.97
                            else partly
                            if rng.random() < 0.6
                            else not_met
                        )
                        ratings[std.id] = rating
                        example = std.evidence[rng.randrange(len(std.evidence))].rstrip(".")
                        evidence = (
                            f"{EVIDENCE_OPENERS[rng.randrange(5)]} {example.lower()}, "
                            f"up to date this month."
                            if rating == met
                            else "Not in place yet."
                        )
                        note = (
                            "Raise at the governance meeting."
                            if rating in (partly, not_met)
                            else ""
                        )
                        answers.append((rid + 1, std.id, area.id, rating, evidence, note))
                    signoffs.append(
                        (
                            rid + 1,
                            area.id,
                            "Ward manager",
                            "Yes" if rng.random() < profile.joint else "No",
                            f"{period}-12",
                        )
                    )
                rid += 1
                s = score(bank, network, ratings)
                received = f"{period}-{rng.randint(3, 26):02d}T10:00:00+00:00"
                returns.append(
                    (
                        rid,
                        f"{rid:064x}",
                        unit,
                        period,
                        bank.version,
                        received,
                        s.points,
                        s.available,
                        s.answered,
                        s.applicable,
                        s.overall_percent,
                        s.overall_rag,
                    )
                )
                drops.append(
                    (
                        f"{rid:064x}",
                        f"SeQuIn_{unit}_{period}.xlsx",
                        100_000,
                        received,
                        received,
                        "accepted",
                        "done",
                        rid,
                        unit,
                        period,
                        bank.version,
                        f"SeQuIn_{unit}_{period}.xlsx.receipt.txt",
                    )
                )
                areas.extend(
                    (
                        rid,
                        a.area_id,
                        a.points,
                        a.available,
                        a.answered,
                        a.applicable,
                        a.percent,
                        a.rag,
                        int(a.complete),
                    )
                    for a in s.areas.values()
                )
            with ledger.transaction() as db:
                db.executemany(
                    "INSERT INTO returns(id, sha256, unit, period, bank_version, received_at, "
                    "points, available, answered, applicable, overall_percent, overall_rag) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    returns,
                )
                db.executemany(
                    "INSERT INTO drops(sha256, original_name, size, arrived_at, processed_at, "
                    "outcome, state, return_id, unit, period, bank_version, report_name) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    drops,
                )
                db.executemany("INSERT INTO answers VALUES (?,?,?,?,?,?)", answers)
                db.executemany("INSERT INTO signoffs VALUES (?,?,?,?,?)", signoffs)
                db.executemany("INSERT INTO area_scores VALUES (?,?,?,?,?,?,?,?,?)", areas)
                db.execute("INSERT OR IGNORE INTO dirty_periods(period) VALUES (?)", (period,))
    finally:
        ledger.close()


def month_list(count: int, first_year: int = 2024) -> list[str]:
    return [f"{first_year + i // 12}-{i % 12 + 1:02d}" for i in range(count)]


def test_bulk_ledger_builds_every_output(tmp_path):
    home, codes = big_home(tmp_path / "home", 20)
    periods = month_list(4)
    fill_ledger(home, periods, codes)
    ledger = Ledger(home.ledger_path)
    try:
        data = R.collect(home, ledger, periods[-1])
        paths = R.build_period(home, ledger, periods[-1])
    finally:
        ledger.close()
    assert len(data.months) == 4 and len(data.units) == 20
    assert len([p for p in paths if "feedback" in p.parts]) == 20
    # Medians are over complete areas of the units that returned.
    for area in data.areas:
        values = [
            data.results[u].areas[area.id].percent
            for u in codes
            if data.results[u].areas[area.id].complete
        ]
        assert data.area_spread[area.id].median == pytest.approx(statistics.median(values))

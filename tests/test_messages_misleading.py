"""Reports that must not send the lead the wrong way, read as the lead reads them.

Each case drops a real file into a real home's inbox, takes it in through the
intake the watcher uses, and reads the problems report written beside it:

- one of the engine's own output workbooks is told it is one, not a return,
  and that nothing needs doing (never "delete anything typed outside the form");
- a return (or family and friends response) whose name claims another month or
  unit is given the exact name to rename it to, and told that renaming is the
  whole fix; following the advice gets it accepted;
- a workbook whose hidden month or unit was typed in (its signature does not
  vouch for them) never has that month or unit repeated, nor made into a file
  name or folder to look in.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from engine import template as T
from engine.family import build_family_workbook
from engine.home import Home, init_home
from engine.outputs.build import build_period
from engine.pipeline import Intake
from engine.synthetic import fill_workbook

from .conftest import PERIOD, full_answers, make_return, report_path

META_ROW = {key: row for row, key in enumerate(T.META_ROWS, start=1)}
RETURN_PATTERN = "SeQuIn_<unit code>_<YYYY-MM>.xlsx"


def take(home: Home, name: str, data: bytes | None = None):
    """Put ``data`` in the inbox as ``name`` (or take the file already there): outcome, report."""
    path = home.inbox / name
    if data is not None:
        path.write_bytes(data)
    with Intake(home) as intake:
        (outcome,) = intake.process_many([path])
    return outcome, report_path(home, name).read_text(encoding="utf-8-sig")


def without_file_line(text: str) -> str:
    """The report without its ``File:`` line, which shows the name the file arrived under."""
    return "\n".join(line for line in text.splitlines() if not line.startswith("File:"))


def family_response(home: Home, unit: str = "M01", period: str = PERIOD) -> bytes:
    bank = home.bank()
    blank = build_family_workbook(
        home.network,
        bank,
        unit,
        period,
        home.token(unit, period, bank.version, T.FAMILY_FORM),
        {a.id: "Green" for a in bank.areas},
    )
    cells = {
        (T.FAMILY_SHEET, f"{T.FAMILY_COL_AGREE}{T.family_row(a.index)}"): "Agree"
        for a in bank.areas
    }
    return fill_workbook(blank, cells)


def with_hidden(data: bytes, tmp_path: Path, **hidden: str) -> bytes:
    """The workbook with rows of its hidden Metadata sheet typed over (its signature unchanged)."""
    path = tmp_path / "edited.xlsx"
    path.write_bytes(data)
    wb = openpyxl.load_workbook(path)
    for key, value in hidden.items():
        wb[T.META_SHEET][f"B{META_ROW[key]}"] = value
    wb.save(path)
    return path.read_bytes()


# --- the engine's own output workbooks ---------------------------------------------


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A month's real outputs, built from two units' returns taken in through the intake."""
    home = init_home(tmp_path_factory.mktemp("outputs") / "home")
    paths = [make_return(home, unit) for unit in ("M01", "M02")]
    with Intake(home) as intake:
        assert [o.outcome for o in intake.process_many(paths)] == ["accepted", "accepted"]
        build_period(home, intake.ledger, PERIOD)
    return home.outbox / PERIOD


@pytest.mark.parametrize(
    ("output", "kind"),
    [
        (f"feedback/SeQuIn_feedback_M01_{PERIOD}.xlsx", "a unit's feedback workbook"),
        (f"SeQuIn_network_{PERIOD}.xlsx", "the network's benchmark workbook"),
        (f"SeQuIn_commissioners_{PERIOD}.xlsx", "the summary workbook for commissioners"),
        (f"easy_read/SeQuIn_easy_read_M01_{PERIOD}.xlsx", "a ward's easy-read page"),
        (f"SeQuIn_easy_read_{PERIOD}.xlsx", "the easy-read page for all wards"),
    ],
)
def test_an_output_workbook_in_the_inbox_is_told_it_is_not_a_return(
    home: Home, outputs: Path, output: str, kind: str
) -> None:
    name = Path(output).name
    outcome, text = take(home, name, (outputs / output).read_bytes())
    assert outcome.outcome == "rejected"
    assert text.startswith("SeQuIn output workbook: NOT A RETURN"), text
    assert f"by its sheets, {kind}" in text
    assert "nothing needs putting right or sending back" in text
    assert "Take the file out of" in text
    assert (
        f"A unit's return is the workbook made for the unit to fill in, named {RETURN_PATTERN}"
        in text
    )
    assert [f.code for f in outcome.findings] == ["output-workbook"]
    for wrong in (
        "outside the form",
        "send it again",
        "ask the unit",
        "forward this report",
        "drop the corrected workbook",
        "not a sequin workbook",
    ):
        assert wrong not in text.lower(), wrong
    # Nothing read from it is stated as a fact: no unit or month, and no unit is marked rejected.
    assert "Unit:" not in text and "Month:" not in text
    assert not outcome.unit and not outcome.period


# --- a return named for another month or unit: renaming is the whole fix -----------


@pytest.mark.parametrize(
    "name",
    [
        T.file_name("M01", "2026-10"),  # last month's name
        "SeQuIn_M01_2026-12 final.xlsx",  # next month's, with a word added
        T.file_name("M01", "2031-12"),  # a month never sent out
        T.file_name("M02", PERIOD),  # another unit's name
        T.file_name("M02", "2026-10"),  # another unit and another month
    ],
)
def test_a_return_under_the_wrong_name_is_given_the_name_to_rename_it_to(
    home: Home, tmp_path: Path, name: str
) -> None:
    right = T.file_name("M01", PERIOD)
    data = make_return(home, "M01", folder=tmp_path).read_bytes()
    outcome, text = take(home, name, data)
    assert outcome.outcome == "rejected"
    assert {f.code for f in outcome.findings} <= {
        "file-name-period-mismatch",
        "file-name-unit-mismatch",
    }
    assert f"Rename it to {right} and put it in the inbox again." in text
    assert "Renaming the file is the whole fix" in text
    assert "What to do: rename the file as below" in text
    lowered = text.lower()
    for wrong in (
        "send the workbook",
        "send it again",
        "ask the unit",
        "ask them",
        "forward this report",
        "check which month",
        "fill in and send",
    ):
        assert wrong not in lowered, wrong
    # Doing what the report says is all it takes.
    (home.inbox / name).rename(home.inbox / right)
    outcome, receipt = take(home, right)
    assert outcome.outcome == "accepted", receipt


@pytest.mark.parametrize(
    "name",
    [T.family_file_name("M01", "2026-10"), "SeQuIn_family_M02_2026-11.xlsx"],
)
def test_a_family_response_under_the_wrong_name_is_given_the_name_to_rename_it_to(
    home: Home, name: str
) -> None:
    right = T.family_file_name("M01", PERIOD)
    outcome, text = take(home, name, family_response(home))
    assert outcome.outcome == "rejected"
    assert f"Rename it to {right} and put it in the inbox again." in text
    assert "Renaming the file is the whole fix" in text
    lowered = text.lower()
    for wrong in ("type them into", "type the answers", "if not,", "forward this report"):
        assert wrong not in lowered, wrong
    (home.inbox / name).rename(home.inbox / right)
    outcome, receipt = take(home, right)
    assert outcome.outcome == "accepted", receipt


# --- hidden details typed in: never repeated, never made into a name or a folder ---


@pytest.mark.parametrize(
    ("name", "hidden"),
    [
        ("SeQuIn_family_M01_2031-12.xlsx", {"period": "2031-12"}),
        ("family-M01-2031-13.xlsx", {"period": "2031-12"}),
        (T.family_file_name("M01", PERIOD), {"period": "2031-12"}),
        (T.family_file_name("M01", PERIOD), {"unit": "Q77"}),
    ],
)
def test_a_forged_family_month_or_unit_is_never_echoed(
    home: Home, tmp_path: Path, name: str, hidden: dict
) -> None:
    outcome, text = take(home, name, with_hidden(family_response(home), tmp_path, **hidden))
    assert outcome.outcome == "rejected"
    assert [f.code for f in outcome.findings if f.severity == "error"] == ["token-invalid"]
    shown = without_file_line(text)
    for forged in ("2031", "Q77", "outbox/", "SeQuIn_family_", "Month:"):
        assert forged not in shown, forged
    assert "fresh copy of the unit's family and friends form for the month" in shown


@pytest.mark.parametrize(
    ("name", "hidden"),
    [
        ("SeQuIn_M03_2031-12.xlsx", {"period": "2031-12"}),
        (T.file_name("M03", PERIOD), {"period": "2031-12"}),
        (T.file_name("M03", PERIOD), {"unit": "Q77"}),
    ],
)
def test_a_forged_return_month_or_unit_is_never_echoed(
    home: Home, tmp_path: Path, name: str, hidden: dict
) -> None:
    (home.outbox / PERIOD / "workbooks").mkdir(parents=True)  # the newest month sent out
    cells = full_answers(home, "M03")
    cells[("1 Involvement", T.SIGNOFF_CELLS["date_agreed"])] = "soon"  # asks for an example date
    data = make_return(home, "M03", cells=cells, folder=tmp_path).read_bytes()
    outcome, text = take(home, name, with_hidden(data, tmp_path, **hidden))
    assert outcome.outcome == "rejected"
    assert "token-invalid" in {f.code for f in outcome.findings}
    shown = without_file_line(text)
    for forged in ("2031", "Q77", "This is the workbook for", "Rename", "SeQuIn_M03", "Month:"):
        assert forged not in shown, forged
    assert "Send the unit the workbook generated for them for the month" in shown

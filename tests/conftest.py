"""Shared fixtures: a fresh home, its bank, and returns filled the way a person would."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from engine import template as T
from engine.home import Home, init_home
from engine.synthetic import fill_workbook, synthetic_answers
from engine.workbook import build_workbook

pytest_plugins = ["tests.conftest_libreoffice"]

PERIOD = "2026-11"


@pytest.fixture
def home(tmp_path: Path) -> Home:
    """A new home with the default network, in its own folder."""
    return init_home(tmp_path / "home")


@pytest.fixture
def bank(home: Home):
    return home.bank()


def full_answers(home: Home, unit: str, period: str = PERIOD, rating: str = "Met") -> dict:
    """Every standard rated ``rating`` with evidence, every area signed off."""
    bank = home.bank()
    year, month = (int(x) for x in period.split("-"))
    cells = {}
    for area in bank.areas:
        sheet = T.area_sheet_name(area.index, area.short_name)
        for pos, std in enumerate(area.standards):
            ref = T.answer_cells(pos)
            cells[(sheet, ref.rating)] = rating
            cells[(sheet, ref.evidence)] = f"Minutes for {std.id} seen"
        cells[(sheet, T.SIGNOFF_CELLS["staff_role"])] = "Ward manager"
        cells[(sheet, T.SIGNOFF_CELLS["service_user"])] = "Yes"
        cells[(sheet, T.SIGNOFF_CELLS["date_agreed"])] = dt.date(year, month, 10)
    return cells


def blank_workbook(home: Home, unit: str, period: str = PERIOD) -> bytes:
    bank = home.bank()
    return build_workbook(home.network, bank, unit, period, home.token(unit, period, bank.version))


def make_return(
    home: Home,
    unit: str,
    period: str = PERIOD,
    cells: dict | None = None,
    name: str | None = None,
    folder: Path | None = None,
    synthetic: bool = False,
    month_index: int = 0,
) -> Path:
    """Write a filled-in return for ``unit`` and return its path (in the inbox by default)."""
    if cells is None:
        cells = (
            synthetic_answers(home.bank(), home.network, unit, period, month_index)
            if synthetic
            else full_answers(home, unit, period)
        )
    data = fill_workbook(blank_workbook(home, unit, period), cells)
    folder = folder or home.inbox
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (name or T.file_name(unit, period))
    path.write_bytes(data)
    return path


@pytest.fixture(scope="session")
def _taken_home_template(tmp_path_factory) -> Path:
    from engine.pipeline import Intake

    home = init_home(tmp_path_factory.mktemp("taken") / "home")
    paths = [make_return(home, unit) for unit in ("M01", "M02")]
    with Intake(home) as intake:
        outcomes = intake.process_many(paths)
    assert [o.outcome for o in outcomes] == ["accepted", "accepted"]
    return home.root


@pytest.fixture
def taken_home(_taken_home_template: Path, tmp_path: Path) -> Home:
    """A home that has taken in two accepted returns (M01 and M02 for PERIOD) through the pipeline."""
    import shutil

    root = shutil.copytree(_taken_home_template, tmp_path / "taken")
    return Home(root)


def report_path(home: Home, name: str) -> Path:
    """Where the lead finds the receipt or problems report of the file that arrived as ``name``.

    A counted return's receipt is filed with it under ``returns/``; every other
    report stays in the inbox beside its file (see engine/filing.py).
    """
    import sqlite3

    db = sqlite3.connect(home.ledger_path)
    try:
        row = db.execute(
            "SELECT filed_as, report_name, outcome FROM drops WHERE original_name = ? "
            "ORDER BY id DESC LIMIT 1",
            (name,),
        ).fetchone()
    finally:
        db.close()
    assert row is not None, f"no drop named {name!r}"
    filed_as, report, outcome = row
    if filed_as:
        suffix = ".receipt.txt" if outcome == "accepted" else ".problems (superseded).txt"
        return home.root / (filed_as + suffix)
    return home.inbox / report


def pytest_addoption(parser):
    parser.addoption(
        "--update-snapshots",
        action="store_true",
        default=False,
        help="write the workbook snapshots in tests/snapshots/ instead of comparing with them",
    )
    parser.addoption(
        "--crash-seed",
        type=int,
        default=None,
        metavar="N",
        help="seed of the crash points tests/test_crash.py kills at (default: SEQUIN_CRASH_SEED, "
        "else today's date as YYYYMMDD); a failure names the seed that replays it",
    )
    parser.addoption(
        "--crash-all",
        action="store_true",
        default=False,
        help="kill at every crash point in tests/test_crash.py, not a sample (or SEQUIN_CRASH_ALL=1)",
    )

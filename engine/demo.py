"""The demo: the whole monthly cycle on the default network, with synthetic returns.

Generates each month's workbooks, fills them in as unit teams would (varied,
some units improving, some missing a month, one return sent back with a
mistake and then corrected), drops them into the inbox and takes them in
through the watcher's pipeline, which then writes every output. The earlier
months are then closed, as a lead closes a month once its outputs are
shared, and one unit sends last month's workbook again late: it is held.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import template as T
from .errors import SequinError
from .home import Home
from .pipeline import Intake, Outcome
from .synthetic import fill_workbook, synthetic_answers
from .watcher import Watcher
from .workbook import build_workbook, generate

# (unit, month index) pairs that miss a month, relative to the demo's first month.
MISSING = {("L07", 2), ("M04", 1), ("L09", -1), ("L02", -1), ("L10", 3)}
# The unit whose last return first arrives with a pasted invalid rating.
CORRECTED_UNIT = "L05"
# The unit that sends last month's workbook again after that month was closed.
LATE_UNIT = "M02"


@dataclass
class DemoResult:
    periods: list[str]
    outcomes: list[Outcome] = field(default_factory=list)
    outbox: Path | None = None
    held: str = ""  # the late return held because its month was closed


def demo_periods(months: int, today: dt.date | None = None) -> list[str]:
    """The ``months`` months up to and including the current one."""
    today = today or dt.date.today()
    y, m = today.year, today.month
    out = []
    for _ in range(months):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return out[::-1]


def _guard(home: Home) -> None:
    """Refuse to mix synthetic returns into a ledger that holds real ones."""
    if not home.ledger_path.exists():
        return
    ledger = home.open_ledger()
    try:
        real = ledger.drop_count()
        if real and ledger.get_meta("demo") != "1":
            raise SequinError(
                f"the home {home.root} already holds real returns",
                hint="Run the demo in another folder: sequin demo --home /some/new/folder",
            )
    finally:
        ledger.close()


def run_demo(
    home: Home, months: int = 14, on_outcome=None, today: dt.date | None = None
) -> DemoResult:
    """Run the whole cycle; returns the periods, every outcome and the outbox.

    Like ``init``, the demo makes the home (folders and secret) when there is none.
    """
    _guard(home)
    home.ensure_folders()
    home.create_secret()
    periods = demo_periods(months, today)
    ledger = home.open_ledger()
    ledger.set_meta("demo", "1")
    network, bank = home.network, home.bank()
    result = DemoResult(periods, outbox=home.outbox)
    stamp = int(time.time()) - 100_000
    for index, period in enumerate(periods):
        generate(home, period)
        last = index == len(periods) - 1
        for unit in network.units:
            if (unit.code, index) in MISSING or (last and (unit.code, -1) in MISSING):
                continue
            cells = synthetic_answers(bank, network, unit.code, period, index)
            blank = build_workbook(
                network, bank, unit.code, period, home.token(unit.code, period, bank.version)
            )
            name = T.file_name(unit.code, period)
            if last and unit.code == CORRECTED_UNIT:
                first_sheet = T.area_sheet_name(bank.areas[2].index, bank.areas[2].short_name)
                wrong = dict(cells)
                wrong[(first_sheet, T.answer_cells(3).rating)] = "Mostly"
                stamp += 1
                _drop(home.inbox / name, fill_workbook(blank, wrong), stamp)
                name = name.replace(".xlsx", " corrected.xlsx")
            stamp += 1
            _drop(home.inbox / name, fill_workbook(blank, cells), stamp)
    with Intake(home, ledger=ledger) as intake:
        from .outputs import refresh_outputs

        def collect(o: Outcome) -> None:
            result.outcomes.append(o)
            if on_outcome:
                on_outcome(o)

        watcher = Watcher(
            intake,
            on_outcome=collect,
            refresh=lambda ps: refresh_outputs(home, ps, ledger=intake.ledger),
        )
        watcher.run(once=True)
        if len(periods) >= 2:
            # Earlier months' outputs have been shared: they are closed. Then a unit sends
            # last month's workbook again, late, with other ratings: it is held, not counted.
            for period in periods[:-1]:
                intake.ledger.close_period(period)
            previous = periods[-2]
            cells = dict(synthetic_answers(bank, network, LATE_UNIT, previous, len(periods) - 2))
            for area in bank.areas[:3]:  # second thoughts on three areas
                sheet = T.area_sheet_name(area.index, area.short_name)
                for pos in range(len(area.standards)):
                    cells[(sheet, T.answer_cells(pos).rating)] = "Met"
            blank = build_workbook(
                network, bank, LATE_UNIT, previous, home.token(LATE_UNIT, previous, bank.version)
            )
            stamp += 1
            late = home.inbox / T.file_name(LATE_UNIT, previous).replace(".xlsx", " late.xlsx")
            _drop(late, fill_workbook(blank, cells), stamp)
            result.held = late.name
            Watcher(
                intake,
                on_outcome=collect,
                refresh=lambda ps: refresh_outputs(home, ps, ledger=intake.ledger),
            ).run(once=True)
    return result


def _drop(path: Path, data: bytes, stamp: int) -> None:
    """Put a return in the inbox as a lead would, keeping arrival order by modification time."""
    if path.exists() and path.read_bytes() == data:
        return
    path.write_bytes(data)
    os.utime(path, (stamp, stamp))

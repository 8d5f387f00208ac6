"""The demo: the whole monthly cycle on the default network, with synthetic returns.

Month after month it generates the workbooks, fills them in as unit teams
would (varied, some units improving, some missing a month, one return sent
back with a mistake and then corrected), drops them into the inbox and takes
them in, so that each month's workbook shows the ratings of the month before
and carries the unit's open actions (which move on from Not started to Done
over the months). In the last month one unit rates an essential standard Not
met inside a Green area. The watcher's pipeline then writes every output, and
families and friends of four units return their family and friends workbooks:
at one unit most of them disagree with a Green area. The earlier months are
then closed, as a lead closes a month once its outputs are shared, and one unit
sends last month's workbook again late: it is held.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import template as T
from .errors import SequinError
from .generation import generate, workbooks_folder
from .home import Home
from .pipeline import Intake, Outcome
from .synthetic import (
    action_cells,
    family_answers,
    fill_workbook,
    synthetic_actions,
    synthetic_answers,
)
from .watcher import Watcher
from .workbook import build_workbook

# (unit, month index) pairs that miss a month, relative to the demo's first month.
MISSING = {("L07", 2), ("M04", 1), ("L09", -1), ("L02", -1), ("L10", 3)}
# The unit whose last return first arrives with a pasted invalid rating.
CORRECTED_UNIT = "L05"
# The unit that sends last month's workbook again after that month was closed.
LATE_UNIT = "M02"
# The unit that rates an essential standard Not met in a Green area in the last month,
# and whose families mostly disagree with that area's Green.
ESSENTIAL_UNIT = "M01"
# Units whose families and friends send responses in the last month, and how many.
FAMILY_RESPONSES = {"M01": 4, "M03": 2, "L01": 3, "L04": 1}


@dataclass
class DemoResult:
    periods: list[str]
    outcomes: list[Outcome] = field(default_factory=list)
    outbox: Path | None = None
    held: str = ""  # the late return held because its month was closed
    essential: str = ""  # "M01 RSK-03": the essential standard Not met in a Green area
    family: list[str] = field(default_factory=list)  # family responses dropped


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


def _action_updates(bank, ledger, unit: str, period: str, index: int) -> dict:
    """Cells that move the unit's carried actions on and, now and then, add new ones."""
    rng = random.Random(f"demo-actions-{unit}-{period}")
    carried = ledger.open_actions(unit, period)
    cells: dict = {}
    for i, action in enumerate(carried[: T.ACTION_ROWS - 5]):
        roll = rng.random()
        if action.status == "Not started" and roll < 0.6:
            cells.update(action_cells(bank, i, status="In progress"))
        elif action.status == "In progress" and roll < 0.35:
            cells.update(action_cells(bank, i, status="Done"))
        elif roll > 0.97:
            cells.update(action_cells(bank, i, status="Dropped"))
    if index % 3 == 0 or rng.random() < 0.2:
        first = min(len(carried), T.ACTION_ROWS - 5)
        cells.update(synthetic_actions(bank, unit, period, rng.randint(1, 2), first))
    return cells


def _essential_in_green(bank, network, cells: dict) -> str:
    """Make one essential standard Not met in an otherwise Met area; returns its ID."""
    area = next(a for a in bank.areas if any(s.essential for s in a.standards))
    sheet = T.area_sheet_name(area.index, area.short_name)
    met, not_met = network.labels[0], network.not_met_label
    chosen = ""
    for pos, std in enumerate(area.standards):
        ref = T.answer_cells(pos)
        if std.essential and not chosen:
            chosen = std.id
            cells[(sheet, ref.rating)] = not_met
            cells[(sheet, ref.evidence)] = "Not in place this month: the new lead starts next week."
        else:
            cells[(sheet, ref.rating)] = met
            cells[(sheet, ref.evidence)] = f"Seen together: {std.evidence[0].lower()}."
    return f"{area.id}:{chosen}"


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

    def collect(o: Outcome) -> None:
        if o.outcome == "skipped":
            return
        result.outcomes.append(o)
        if on_outcome:
            on_outcome(o)

    with Intake(home, ledger=ledger) as intake:
        from .outputs import refresh_outputs

        def watch() -> None:
            Watcher(
                intake,
                on_outcome=collect,
                refresh=lambda ps: refresh_outputs(home, ps, ledger=intake.ledger),
            ).run(once=True)

        for index, period in enumerate(periods):
            # Each month's workbooks are made once the month before is in, as a lead does.
            generate(home, period)
            last = index == len(periods) - 1
            for unit in network.units:
                if (unit.code, index) in MISSING or (last and (unit.code, -1) in MISSING):
                    continue
                cells = synthetic_answers(bank, network, unit.code, period, index)
                cells.update(_action_updates(bank, intake.ledger, unit.code, period, index))
                if last and unit.code == ESSENTIAL_UNIT:
                    area_id, std_id = _essential_in_green(bank, network, cells).split(":")
                    result.essential = f"{unit.code} {std_id}"
                name = T.file_name(unit.code, period)
                blank = (workbooks_folder(home, period) / name).read_bytes()
                if last and unit.code == CORRECTED_UNIT:
                    first_sheet = T.area_sheet_name(bank.areas[2].index, bank.areas[2].short_name)
                    wrong = dict(cells)
                    wrong[(first_sheet, T.answer_cells(3).rating)] = "Mostly"
                    stamp += 1
                    _drop(home.inbox / name, fill_workbook(blank, wrong), stamp)
                    name = name.replace(".xlsx", " corrected.xlsx")
                stamp += 1
                _drop(home.inbox / name, fill_workbook(blank, cells), stamp)
            if last:
                watch()  # the last month's returns, then every month's outputs
            else:
                for o in intake.process_many(intake.pending()):
                    collect(o)

        # Families and friends answer the family workbooks the outputs hold for the last month.
        period = periods[-1]
        area_id = result.essential and _essential_area(bank, result.essential)
        for unit, count in FAMILY_RESPONSES.items():
            blank_path = home.outbox / period / "family" / T.family_file_name(unit, period)
            if not blank_path.exists():
                continue
            blank = blank_path.read_bytes()
            for n in range(count):
                # At the essential unit, most families disagree with its Green area.
                disagree = (area_id,) if unit == ESSENTIAL_UNIT and n < 3 else ()
                cells = family_answers(bank, unit, period, n, disagree)
                name = T.family_file_name(unit, period)
                if n:
                    name = name.replace(".xlsx", f" ({n + 1}).xlsx")
                stamp += 1
                _drop(home.inbox / name, fill_workbook(blank, cells), stamp)
                result.family.append(name)
        watch()

        if len(periods) >= 2:
            # Earlier months' outputs have been shared: they are closed. Then a unit sends
            # last month's workbook again, late, with other ratings: it is held, not counted.
            for p in periods[:-1]:
                intake.ledger.close_period(p)
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
            watch()
    return result


def _essential_area(bank, essential: str) -> str:
    """The area of the standard named in ``"M01 RSK-03"``."""
    std_id = essential.split()[-1]
    return next(a.id for a in bank.areas if any(s.id == std_id for s in a.standards))


def _drop(path: Path, data: bytes, stamp: int) -> None:
    """Put a return in the inbox as a lead would, saved at ``stamp`` (as a copy keeps it).

    It arrives when the engine first sees it; files seen together are taken in
    the order they were saved (see :meth:`engine.pipeline.Intake.pending`).
    """
    if path.exists() and path.read_bytes() == data:
        return
    path.write_bytes(data)
    os.utime(path, (stamp, stamp))

"""Writing a month's outputs: every file atomically, then the month marked up to date."""

from __future__ import annotations

import gc
import logging
from pathlib import Path

from ..files import write_atomic
from ..home import Home
from ..ledger import Ledger
from .commissioner import commissioner_workbook
from .csv_files import evidence_csv, scores_csv
from .easy_read import easy_read_workbook, unit_easy_read_workbook
from .feedback import feedback_workbook
from .figures import PeriodData, collect
from .images import chart_images
from .network import network_workbook

log = logging.getLogger(__name__)


def period_folder(home: Home, period: str) -> Path:
    """Where a period's benchmark outputs go."""
    return home.outbox / period


def build_period(home: Home, ledger: Ledger, period: str) -> list[Path]:
    """Rebuild every benchmark output of ``period`` from the ledger; returns the paths written."""
    written, _locked = write_outputs(home, collect(home, ledger, period))
    return written


def write_outputs(home: Home, data: PeriodData) -> tuple[list[Path], list[Path]]:
    """Write the outputs of gathered figures, each atomically: ``(written, locked)``.

    A file that another program holds open (Windows refuses to replace it) is
    left as it was and listed in ``locked``; every other output is still written.
    """
    period = data.period
    folder = period_folder(home, period)
    written: list[Path] = []
    locked: list[Path] = []
    # The month's figures live until every file is written; without this the
    # collector rescans them again and again as workbooks are built, which is
    # the one cost that grew faster than the number of units.
    gc.freeze()
    try:

        def emit(path: Path, make) -> None:
            try:
                written.append(write_atomic(path, make()))
            except PermissionError as exc:
                log.warning("could not replace %s (%s); it is left as it was", path, exc.strerror)
                locked.append(path)

        emit(folder / f"SeQuIn_network_{period}.xlsx", lambda: network_workbook(data))
        emit(folder / f"SeQuIn_commissioners_{period}.xlsx", lambda: commissioner_workbook(data))
        emit(folder / f"SeQuIn_easy_read_{period}.xlsx", lambda: easy_read_workbook(data))
        for code in data.units:
            emit(
                folder / "feedback" / f"SeQuIn_feedback_{code}_{period}.xlsx",
                lambda code=code: feedback_workbook(data, code),
            )
        for code in data.units:
            emit(
                folder / "easy_read" / f"SeQuIn_easy_read_{code}_{period}.xlsx",
                lambda code=code: unit_easy_read_workbook(data, code),
            )
        for name, png in chart_images(data).items():
            emit(folder / "charts" / name, lambda png=png: png)
        emit(folder / f"SeQuIn_scores_{period}.csv", lambda: scores_csv(data))
        emit(folder / f"SeQuIn_evidence_{period}.csv", lambda: evidence_csv(data))
    finally:
        gc.unfreeze()
    return written, locked


def refresh_outputs(home: Home, periods: list[str], ledger: Ledger | None = None) -> list[Path]:
    """Rebuild the outputs of ``periods`` and mark them up to date in the ledger.

    A period stays marked as needing a rebuild if a new return for it arrived
    while its outputs were being built, or if one of its files was open in
    another program and could not be replaced.
    """
    own = ledger is None
    if own:
        home.ensure_folders()
        ledger = home.open_ledger()
    try:
        written: list[Path] = []
        for period in sorted(set(periods)):
            data = collect(home, ledger, period)
            done, locked = write_outputs(home, data)
            written.extend(done)
            if locked:
                continue
            with ledger.transaction():  # no return can arrive between the check and the clear
                if ledger.newest_return_id(period) == data.max_return_id:
                    ledger.clear_dirty(period)
        return written
    finally:
        if own:
            ledger.close()


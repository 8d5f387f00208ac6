"""Writing a month's outputs: every file atomically, then the month marked up to date.

Outputs are written atomically (a temporary file renamed into place, so nobody opens
a half-written one) but not forced to disk one by one: every output can be rebuilt
from the ledger at any time (``sequin report``), and the ledger itself is kept fully
synced. A power cut at the wrong moment can at worst leave an output to be rebuilt;
forcing each of a month's hundreds of files to disk would cost more than building them.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from .. import files
from .. import template as T
from ..family import build_family_workbook
from ..home import Home, make_token
from ..ledger import Ledger
from .commissioner import commissioner_workbook
from .csv_files import evidence_csv, scores_csv
from .easy_read import easy_read_workbook, unit_easy_read_workbook, ward_name
from .feedback import feedback_workbook
from .figures import PeriodData, collect
from .images import chart_images
from .network import network_workbook

log = logging.getLogger(__name__)

# Each unit's own workbooks (feedback, easy read) are built on every core once a month has
# this many units; below it, starting the workers costs more than it saves.
PARALLEL_FROM = 8
_FIGURES: PeriodData | None = None  # what forked workers build from


def write_atomic(path: Path, data: bytes) -> Path:
    """Write one output atomically, without forcing it to disk: it can be rebuilt from the
    ledger at any time, and the ledger itself is always forced to disk."""
    return files.write_atomic(path, data, durable=False)


def _unit_books_of(data: PeriodData, code: str) -> tuple[str, bytes, bytes]:
    """A unit's feedback and easy-read workbooks."""
    return code, feedback_workbook(data, code), unit_easy_read_workbook(data, code)


def _unit_books(code: str) -> tuple[str, bytes, bytes]:
    assert _FIGURES is not None  # set before the workers were forked
    return _unit_books_of(_FIGURES, code)


def _images() -> dict[str, bytes]:
    assert _FIGURES is not None
    return chart_images(_FIGURES)


def _workers(data: PeriodData) -> int:
    """How many processes build the units' workbooks (0: build them here, in order).

    Workers are forked, so they share the month's figures without copying them; a
    process with other threads running (the watcher) is never forked.
    """
    cores = os.cpu_count() or 1
    if (
        cores < 2
        or len(data.units) < PARALLEL_FROM
        or threading.active_count() > 1
        or "fork" not in multiprocessing.get_all_start_methods()
    ):
        return 0
    return min(cores, len(data.units))


def _each_unit(data: PeriodData, then, images) -> Iterator[tuple[str, bytes, bytes]]:
    """Every unit's workbooks, in unit order.

    ``then()`` runs here while the workers build them, and ``images(pngs)`` is given
    the chart images, which a worker draws first (drawing them is the longest single
    piece of a month's outputs).
    """
    global _FIGURES
    workers = _workers(data)
    if not workers:
        then()
        images(chart_images(data))
        for code in data.units:
            yield _unit_books_of(data, code)
        return
    _FIGURES = data
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            drawn = pool.submit(_images)
            chunk = max(1, len(data.units) // (workers * 4))
            results = pool.map(_unit_books, data.units, chunksize=chunk)
            then()
            images(drawn.result())
            yield from results
    finally:
        _FIGURES = None


def family_results(data: PeriodData, code: str) -> dict[str, str]:
    """A unit's result for each area of the month, as its family and friends workbook shows it:
    the RAG word of a finished area, ``""`` for an area not finished."""
    areas = data.results[code].areas
    return {
        area_id: res.rag if res.complete and res.percent is not None else ""
        for area_id, res in areas.items()
    }


def _family_books(home: Home, data: PeriodData):
    """A maker of each unit's family and friends workbook (``None`` without a counted return).

    The bank and the signing secret are read once per month built; each workbook then
    takes a few milliseconds, so it is built here rather than in the workers.
    """
    if not data.units:
        return None
    bank = home.bank()
    secret = home.secret()

    def make(code: str) -> bytes:
        token = make_token(secret, code, data.period, bank.version, T.FAMILY_FORM)
        return build_family_workbook(
            data.network,
            bank,
            code,
            data.period,
            token,
            family_results(data, code),
            ward_name=ward_name(data, code),
        )

    return make


def family_folder(home: Home, period: str) -> Path:
    """Where a period's family and friends workbooks go (one per unit with a counted return)."""
    return period_folder(home, period) / "family"


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

        def shared() -> None:
            emit(folder / f"SeQuIn_network_{period}.xlsx", lambda: network_workbook(data))
            emit(
                folder / f"SeQuIn_commissioners_{period}.xlsx", lambda: commissioner_workbook(data)
            )
            emit(folder / f"SeQuIn_easy_read_{period}.xlsx", lambda: easy_read_workbook(data))

        def images(pngs: dict[str, bytes]) -> None:
            for name, png in pngs.items():
                emit(folder / "charts" / name, lambda png=png: png)

        family = _family_books(home, data)
        for code, feedback, easy in _each_unit(data, shared, images):
            emit(
                folder / "feedback" / f"SeQuIn_feedback_{code}_{period}.xlsx", lambda b=feedback: b
            )
            emit(folder / "easy_read" / f"SeQuIn_easy_read_{code}_{period}.xlsx", lambda b=easy: b)
            if family is not None:
                emit(
                    family_folder(home, period) / T.family_file_name(code, period),
                    lambda code=code: family(code),
                )
        emit(folder / f"SeQuIn_scores_{period}.csv", lambda: scores_csv(data))
        emit(folder / f"SeQuIn_evidence_{period}.csv", lambda: evidence_csv(data))
    finally:
        # What the month left behind was frozen too: thaw it and collect it now, so
        # that building month after month in one process keeps its memory flat.
        gc.unfreeze()
        gc.collect()
    return written, locked


def refresh_outputs(home: Home, periods: list[str], ledger: Ledger | None = None) -> list[Path]:
    """Rebuild the outputs of ``periods`` and mark them up to date in the ledger.

    A period stays marked as needing a rebuild if a new return for it arrived, or
    anything marked it again (a release, a family response), while its outputs were
    being built, or if one of its files was open in another program and could not
    be replaced.
    """
    own = ledger is None
    if own:
        home.ensure_folders()
        ledger = home.open_ledger()
    try:
        written: list[Path] = []
        for period in sorted(set(periods)):
            mark = ledger.dirty_mark(period)  # marked again during the build: stays marked
            data = collect(home, ledger, period)
            done, locked = write_outputs(home, data)
            written.extend(done)
            if locked:
                continue
            with ledger.transaction():  # no return can arrive between the check and the clear
                if ledger.newest_return_id(period) == data.max_return_id:
                    ledger.clear_dirty(period, mark)
        return written
    finally:
        if own:
            ledger.close()

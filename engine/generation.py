"""A month's unit workbooks: what each carries from the ledger, built once and derived per unit.

:func:`generate` reads, for every unit at once, what its workbook carries from
its earlier returns (:func:`read_carry`: last month's ratings and open actions),
builds the month's workbook once per shape and derives each unit's from it
(:mod:`engine.patched`, byte for byte what :func:`engine.workbook.build_workbook`
gives), and writes them to ``outbox/<period>/workbooks/``, on every core for a
large network.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from . import template as T
from .bank import Bank
from .files import write_atomic
from .home import Home, Network, check_period, check_units, make_token
from .ledger.carry import PreviousRatings, month_before
from .patched import MonthWorkbooks
from .workbook import Carry


def workbooks_folder(home: Home, period: str) -> Path:
    """Where a period's workbooks for the units are written."""
    return home.outbox / period / "workbooks"


# Below this many workbooks, starting helper processes costs more than it saves.
PARALLEL_FROM = 60


def read_carry(home: Home, period: str, codes: list[str]) -> dict[str, Carry]:
    """What each unit's workbook for ``period`` carries from its earlier returns.

    One read of the ledger for all the units. A home that has no ledger yet (and
    no archived returns) has no earlier returns: nothing is carried. A ledger that
    cannot be trusted is refused by :meth:`Home.open_ledger`, never read as empty.
    """
    if not home.ledger_path.exists() and not home.archive_has_files():
        return {code: Carry(PreviousRatings(month_before(period), None, {})) for code in codes}
    ledger = home.open_ledger()
    try:
        with ledger.snapshot() as snap:
            previous = snap.previous_ratings_for(codes, period)
            actions = snap.open_actions_for(codes, period)
    finally:
        ledger.close()
    return {code: Carry(previous[code], tuple(actions[code])) for code in codes}


def _write_workbooks(
    network: Network,
    bank: Bank,
    secret: bytes,
    period: str,
    codes: list[str],
    folder: Path,
    carry: dict[str, Carry] | None = None,
) -> list[Path]:
    # The month's workbook is built once per shape; each unit's is derived from it,
    # byte for byte the workbook build_workbook gives (see engine.patched).
    month = MonthWorkbooks(network, bank, period)
    paths = []
    for code in codes:
        token = make_token(secret, code, period, bank.version, T.UNIT_FORM)
        data = month.build(code, token, (carry or {}).get(code))
        paths.append(write_atomic(folder / T.file_name(code, period), data))
    return paths


def generate(home: Home, period: str, units: list[str] | None = None) -> list[Path]:
    """Write the period's workbooks (all units, or those listed); returns their paths.

    Each unit's workbook shows the ratings of its counted return for the month
    before, and carries its open actions (read from the ledger once, for all).
    The month's workbook is built once and each unit's derived from it
    (:mod:`engine.patched`): the same bytes as :func:`engine.workbook.build_workbook` gives.
    A large network's workbooks are built on every core: each workbook is
    independent and the same inputs give the same bytes in any process.
    The month is then recorded in the ledger as generated, with its due date.
    """
    check_period(period)
    network = home.network
    codes = units or [u.code for u in network.units]
    check_units(network, codes)
    bank = home.bank()
    secret = home.secret()
    carry = read_carry(home, period, codes)
    folder = workbooks_folder(home, period)
    paths = _write_all(network, bank, secret, period, codes, folder, carry)
    record_generated(home, period)
    return paths


def record_generated(home: Home, period: str) -> None:
    """Note in the ledger that ``period``'s workbooks were generated, with the due date they show.

    ``status``, ``chase``, ``close`` and ``report`` tell (or refuse) a month that
    was never generated. One insert, after the workbooks are written.
    """
    ledger = home.open_ledger()
    try:
        ledger.record_generated(period, home.network.due_date(period).isoformat())
    finally:
        ledger.close()


def _write_all(
    network: Network,
    bank: Bank,
    secret: bytes,
    period: str,
    codes: list[str],
    folder: Path,
    carry: dict[str, Carry],
) -> list[Path]:
    """Every unit's workbook, on every core for a large network."""
    workers = min(os.cpu_count() or 1, 8)
    if len(codes) < PARALLEL_FROM or workers < 2:
        return _write_workbooks(network, bank, secret, period, codes, folder, carry)
    chunks = [codes[i::workers] for i in range(workers)]
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    try:
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            done = pool.map(
                _write_workbooks,
                *zip(
                    *[
                        (network, bank, secret, period, c, folder, {k: carry[k] for k in c})
                        for c in chunks
                    ]
                ),
            )
            by_code = {p.name: p for paths in done for p in paths}
    except BrokenProcessPool:
        # Helper processes could not start here: the same workbooks, one after another.
        return _write_workbooks(network, bank, secret, period, codes, folder, carry)
    return [by_code[T.file_name(code, period)] for code in codes]

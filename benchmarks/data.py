"""Synthetic data for the benchmarks, made with the engine itself.

- Homes with the default network or with ``n`` invented units (``U001`` ...).
- Returns: the engine's own workbooks, filled in by :mod:`engine.synthetic`
  the way a spreadsheet application saves them (shared strings, date serials).
- Ledgers with years of history, filled without workbooks: each return's
  answers are what the reader would give for a filled workbook, checked and
  scored by the engine, and recorded with the engine's own ledger writer,
  without forcing each return to disk.

All units, people and answers are invented.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
import sqlite3
import tempfile
from collections.abc import Iterable
from pathlib import Path

from engine import template as T
from engine.bank import known_banks
from engine.checks import check_return
from engine.findings import has_errors
from engine.home import Home, default_config_text, init_home
from engine.ledger import Ledger
from engine.scoring import score
from engine.synthetic import fill_workbook, synthetic_answers
from engine.workbook import build_workbook

FIRST_MONTH = "2024-01"


def unit_codes(count: int) -> list[str]:
    """Codes of ``count`` invented units: ``U001``, ``U002``, ..., ``U999``, ``U1000``, ..."""
    return [f"U{i:03d}" for i in range(1, count + 1)]


def unit_number(code: str) -> int:
    """The number of an invented unit's code: ``U002`` is 2, ``U1000`` is 1000.

    Codes are ordered by this number, never as text (as text, ``U1000`` sorts
    before ``U500``).
    """
    if not code.startswith("U") or not code[1:].isdigit():
        raise ValueError(f"not an invented unit code: {code!r}")
    return int(code[1:])


def network_config(units: int) -> str:
    """The default ``network.toml`` with ``units`` invented units instead of its own."""
    head = default_config_text().split("[[units]]", 1)[0]
    body = "".join(
        f'[[units]]\ncode = "{code}"\nname = "Invented Unit {code[1:]}"\nsecurity = "low"\n'
        for code in unit_codes(units)
    )
    return head + body


def months(count: int, first: str = FIRST_MONTH) -> list[str]:
    """``count`` consecutive months as ``YYYY-MM``, starting at ``first``."""
    year, month = (int(x) for x in first.split("-"))
    out = []
    for _ in range(count):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def make_home(root: Path, units: int | None = None) -> Home:
    """A new home; with ``units``, its network lists that many invented units."""
    home = init_home(root)
    if units is not None:
        home.config_path.write_text(network_config(units), encoding="utf-8")
        home = Home(root)
    return home


def copy_home(template: Path, root: Path) -> Home:
    """A copy of a home (configuration and secret) under ``root``."""
    shutil.copytree(template, root)
    return Home(root)


def filled_return(home: Home, unit: str, period: str, month_index: int = 0) -> bytes:
    """The bytes of ``unit``'s workbook for ``period``, filled in with synthetic answers."""
    network, bank = home.network, home.bank()
    blank = build_workbook(network, bank, unit, period, home.token(unit, period, bank.version))
    return fill_workbook(blank, synthetic_answers(bank, network, unit, period, month_index))


def write_returns(home: Home, folder: Path, count: int) -> list[Path]:
    """``count`` filled returns, every unit of the network month after month, in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    codes = [u.code for u in home.network.units]
    periods = months(-(-count // len(codes)))
    paths = []
    for index in range(count):
        month_index, unit = divmod(index, len(codes))
        period = periods[month_index]
        path = folder / T.file_name(codes[unit], period)
        path.write_bytes(filled_return(home, codes[unit], period, month_index))
        paths.append(path)
    return paths


class _RawReturns:
    """What the sandboxed reader gives for filled workbooks, without writing the workbooks.

    One blank workbook is read for real; each return then has its metadata and
    answer cells set as the reader shows them (text as ``str``, dates as
    ``{"date": iso}``).
    """

    def __init__(self, home: Home):
        from engine.reader import read_return

        self.home = home
        self.network, self.bank = home.network, home.bank()
        unit = self.network.units[0].code
        period = FIRST_MONTH
        data = build_workbook(
            self.network, self.bank, unit, period, home.token(unit, period, self.bank.version)
        )
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / T.file_name(unit, period)
            path.write_bytes(data)
            self.template = read_return(str(path))

    def raw(self, unit: str, period: str, month_index: int) -> dict:
        cells = {sheet: dict(values) for sheet, values in self.template["cells"].items()}
        meta = cells[T.META_SHEET]
        for i, key in enumerate(T.META_ROWS, start=1):
            if key == "unit":
                meta[f"B{i}"] = unit
            elif key == "period":
                meta[f"B{i}"] = period
            elif key == "token":
                meta[f"B{i}"] = self.home.token(unit, period, self.bank.version)
        answers = synthetic_answers(self.bank, self.network, unit, period, month_index)
        for (sheet, ref), value in answers.items():
            cells[sheet][ref] = {"date": value.isoformat()} if isinstance(value, dt.date) else value
        return {"sheets": self.template["sheets"], "cells": cells}


def fill_ledger(
    home: Home,
    periods: list[str],
    units: Iterable[str] | None = None,
    checked_units: int | None = None,
) -> int:
    """Record a synthetic accepted return per unit and period; returns how many.

    Each return is checked and scored by the engine and recorded with
    :meth:`engine.ledger.Ledger.record`, as the pipeline does, but with the
    ledger's writes not forced to disk one by one (``synchronous=OFF``).

    With ``checked_units``, only the first ``checked_units`` units of each month
    are checked and scored; the unit at position ``i`` beyond them takes the
    checked return of the unit at position ``i % checked_units`` of the same
    month, under its own code (same answers, scores and findings). The rows
    written are those of a return of its own; only the checking is saved, so
    that ledgers of thousands of units are quick to make. Ledgers of up to
    ``checked_units`` units are the same either way.
    """
    network = home.network
    codes = list(units) if units is not None else [u.code for u in network.units]
    raws = _RawReturns(home)
    banks = known_banks(home.banks_dir)
    secret = home.secret()
    home.ensure_folders()
    ledger = Ledger(home.ledger_path)
    count = 0
    try:
        ledger.db.execute("PRAGMA synchronous=OFF")
        for month_index, period in enumerate(periods):
            checked: list[tuple] = []
            for position, unit in enumerate(codes):
                name = T.file_name(unit, period)
                if checked_units and position >= checked_units:
                    findings, ret, scores = checked[position % checked_units]
                    ret = dataclasses.replace(ret, unit=unit)
                else:
                    findings, ret = check_return(
                        raws.raw(unit, period, month_index),
                        network=network,
                        banks=banks,
                        secret=secret,
                        file_name=name,
                    )
                    if ret is None or has_errors(findings):
                        raise RuntimeError(
                            f"synthetic return {name} was not accepted: {findings[:3]}"
                        )
                    scores = score(banks[ret.bank_version], network, ret.ratings())
                    if checked_units:
                        checked.append((findings, ret, scores))
                day = 3 + (position * 7 + month_index) % 24
                arrived = f"{period}-{day:02d}T10:00:00+00:00"
                count += 1
                ledger.record(
                    sha256=f"{count:064x}",
                    original_name=name,
                    size=43_000,
                    arrived_at=arrived,
                    outcome="accepted",
                    findings=findings,
                    ret=ret,
                    scores=scores,
                    report_name=name + ".receipt.txt",
                )
        ledger.db.execute("UPDATE drops SET state = 'done'")
        ledger.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        ledger.close()
    return count


def subset_ledger(source: Home, root: Path, units: int, last_period: str) -> Home:
    """A new home whose ledger holds ``source``'s returns for units ``U001`` to ``U<units>``
    up to ``last_period``: the same rows a fill of that size would have written.

    The units are chosen by their number (:func:`unit_number`), not by comparing
    codes as text.
    """
    home = make_home(root, units)
    secret = source.secret_path.read_bytes()
    home.secret_path.write_bytes(secret)
    Ledger(home.ledger_path).close()  # the schema
    db = sqlite3.connect(home.ledger_path, isolation_level=None)
    try:
        db.execute("ATTACH DATABASE ? AS src", (str(source.ledger_path),))
        db.execute("CREATE TEMP TABLE kept_units(code TEXT PRIMARY KEY)")
        units_on_record = [r[0] for r in db.execute("SELECT DISTINCT unit FROM src.returns")]
        db.executemany(
            "INSERT INTO temp.kept_units VALUES (?)",
            [(code,) for code in units_on_record if unit_number(code) <= units],
        )
        db.execute("BEGIN")
        db.execute(
            "INSERT INTO returns SELECT * FROM src.returns "
            "WHERE unit IN (SELECT code FROM temp.kept_units) AND period <= ?",
            (last_period,),
        )
        kept = "SELECT id FROM main.returns"
        for table in ("answers", "signoffs", "actions", "area_scores"):
            db.execute(f"INSERT INTO {table} SELECT * FROM src.{table} WHERE return_id IN ({kept})")
        db.execute(f"INSERT INTO drops SELECT * FROM src.drops WHERE return_id IN ({kept})")
        db.execute(
            "INSERT INTO findings SELECT * FROM src.findings "
            "WHERE drop_id IN (SELECT id FROM main.drops)"
        )
        db.execute(
            "INSERT OR IGNORE INTO dirty_periods (period) SELECT DISTINCT period FROM main.returns"
        )
        db.execute("COMMIT")
        db.execute("DETACH DATABASE src")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()
    return home


def ledger_bytes(path: Path) -> int:
    """Size of a ledger file once its write-ahead log is folded in."""
    db = sqlite3.connect(path)
    try:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()
    return path.stat().st_size


def folder_bytes(folder: Path) -> tuple[int, int]:
    """Total size and number of the files under ``folder``."""
    sizes = [p.stat().st_size for p in folder.rglob("*") if p.is_file()]
    return sum(sizes), len(sizes)

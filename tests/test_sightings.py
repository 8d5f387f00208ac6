"""A return arrived when the engine first saw it in the inbox, never at its modification time.

A copy made by Windows Explorer keeps the unit's save time as its modification
time, days before it reached the inbox. Every date the lead reads (receipts,
``sequin returns`` and ``status``, the ledger, the names of filed copies, the
outputs' "figures as at", and holding a return for a closed month) must be the
arrival, and the first sighting must survive a restart of the watcher.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import shutil
import sqlite3
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from cli import main
from engine.generation import generate
from engine.home import Home
from engine.outputs import refresh_outputs
from engine.pipeline import Intake
from engine.receipts import when
from engine.synthetic import with_saved_at
from engine.watcher import Watcher

from .conftest import PERIOD, full_answers, make_return

CLOSED = "2026-10"
DAY = 24 * 3600


def _utc(iso: str) -> dt.datetime:
    return dt.datetime.fromisoformat(iso)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def _explorer_copy(home: Home, src: Path, days_old: float) -> tuple[Path, str]:
    """Copy ``src`` into the inbox as Windows Explorer does: the copy keeps the unit's save time
    as its modification time. Returns the copy and that save time (ISO, UTC)."""
    saved = _now() - dt.timedelta(seconds=days_old * DAY)
    src.write_bytes(with_saved_at(src.read_bytes(), saved.replace(tzinfo=None)))
    target = home.inbox / src.name
    shutil.copyfile(src, target)
    os.utime(target, (saved.timestamp(), saved.timestamp()))
    return target, saved.isoformat()


def _watch_once(home: Home) -> None:
    """``sequin watch --once`` in process: the real observer, stability checks and refresh."""
    with Intake(home) as intake:
        Watcher(intake, refresh=lambda ps: refresh_outputs(home, ps, ledger=intake.ledger)).run(
            once=True
        )


def _rows(home: Home, sql: str, *args) -> list[tuple]:
    db = sqlite3.connect(home.ledger_path)
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()


def _sequin(home: Home, *args: str):
    result = CliRunner().invoke(main, [*args, "--home", str(home.root)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def _figures_as_at(home: Home, period: str) -> set[str]:
    """Every "Figures as at" the month's output workbooks show on their cover."""
    found = set()
    for path in (home.outbox / period).rglob("*.xlsx"):
        if "workbooks" in path.parts or "family" in path.parts:
            continue  # the month's blank forms, not outputs
        wb = load_workbook(path, read_only=True)
        try:
            for ws in wb.worksheets:
                column = [row[0] for row in ws.iter_rows(max_row=30, max_col=1, values_only=True)]
                for heading, text in itertools.pairwise(column):
                    if heading == "Figures as at":  # the cover: a heading, its text below
                        found.add(str(text))
        finally:
            wb.close()
    return found


def test_an_explorer_copy_arrives_when_it_is_first_seen_everywhere(home, tmp_path):
    for period in (CLOSED, PERIOD):
        generate(home, period)
    with Intake(home) as intake:
        intake.ledger.close_period(CLOSED)  # the October meeting is over
    closed_at = _rows(home, "SELECT closed_at FROM closed_periods")[0][0]

    # Ten days after the unit saved it, the lead copies a return into the inbox (and a unit's
    # October return, saved before October was closed, comes in only now).
    cells = full_answers(home, "M01", rating="Partly met")
    first, first_saved = _explorer_copy(
        home, make_return(home, "M01", folder=tmp_path / "a", cells=cells), 10
    )
    late, late_saved = _explorer_copy(
        home, make_return(home, "M02", CLOSED, folder=tmp_path / "late"), 10
    )
    assert _utc(late_saved) < _utc(closed_at), "saved before the month was closed"
    start = _now()
    _watch_once(home)
    # The unit's final version, saved nine days ago, replaces the first one.
    final, final_saved = _explorer_copy(home, make_return(home, "M01", folder=tmp_path / "b"), 9)
    _watch_once(home)
    end = _now()

    def arrived(iso: str) -> dt.datetime:
        t = _utc(iso)
        assert start <= t <= end, f"arrived {iso}, not between {start} and {end}"
        return t

    # The ledger: every drop and return arrived when it was taken in, not when it was saved.
    drops = _rows(home, "SELECT id, unit, arrived_at FROM drops ORDER BY id")
    at = {drop_id: arrived(iso) for drop_id, _unit, iso in drops}
    (a, b), (c,) = [[i for i, u, _t in drops if u == unit] for unit in ("M01", "M02")]
    t_first, t_final, t_late = at[a], at[b], at[c]
    received = _rows(home, "SELECT unit, period, received_at, saved_at FROM returns ORDER BY id")
    assert {(unit, period, saved) for unit, period, _r, saved in received} == {
        ("M01", PERIOD, first_saved),
        ("M02", CLOSED, late_saved),
        ("M01", PERIOD, final_saved),
    }
    assert sorted(arrived(r) for _u, _p, r, _s in received) == sorted(at.values())

    # Receipts: "Received" is the arrival.
    (m01,) = (home.root / "returns" / PERIOD).glob("M01 *")
    receipt = (m01 / f"{final.name}.receipt.txt").read_text("utf-8-sig")
    received = next(line for line in receipt.splitlines() if line.startswith("Received:"))
    assert received == f"Received:  {when(t_final.isoformat())}"
    assert "REPLACES the one counted before" in receipt
    assert f"received {when(t_first.isoformat())}" in receipt

    # The filed name of the replaced return starts with when it arrived.
    earlier = sorted(p.name for p in (m01 / "earlier").iterdir() if p.suffix == ".xlsx")
    assert earlier == [f"{t_first:%Y-%m-%d %H%M} {first.name}"]

    # The held return: received now, after the close, and saved before it; never both.
    held = (home.inbox / f"{late.name}.receipt.txt").read_text("utf-8-sig")
    assert held.startswith("This is the workbook for October 2026")
    assert "SeQuIn return KEPT, NOT COUNTED" in held
    assert f"Received:  {when(t_late.isoformat())}" in held
    assert f"Saved:     {when(late_saved)}" in held
    assert (
        f"HELD, NOT COUNTED. It arrived {when(t_late.isoformat())}, after October 2026 (2026-10) "
        f"was closed {when(closed_at)}"
    ) in held
    assert "before October 2026" not in held

    # sequin returns --json, and its lines.
    listing = json.loads(_sequin(home, "returns", "--json"))["returns"]
    assert {r["id"]: arrived(r["arrived_at"]) for r in listing} == at
    (held_row,) = [r for r in listing if r["period"] == CLOSED]
    assert held_row["state"] == "held (month closed)" and held_row["saved_at"] == late_saved
    lines = _sequin(home, "returns", "--period", CLOSED)
    assert f"{t_late:%Y-%m-%d %H:%M}" in lines
    assert f"(saved {_utc(late_saved):%Y-%m-%d %H:%M})" in lines

    # sequin status --json, and its lines.
    status = json.loads(_sequin(home, "status", "--period", PERIOD, "--json"))
    (unit,) = [u for u in status["units"] if u["unit"] == "M01"]
    assert arrived(unit["received_at"]) == t_final and unit["saved_at"] == final_saved
    status = json.loads(_sequin(home, "status", "--period", CLOSED, "--json"))
    (unit,) = [u for u in status["units"] if u["unit"] == "M02"]
    assert unit["status"] == "held"
    (h,) = unit["held"]
    assert arrived(h["received_at"]) == t_late and h["saved_at"] == late_saved
    assert _utc(h["received_at"]) >= _utc(closed_at)
    lines = _sequin(home, "status", "--period", CLOSED)
    assert (
        f"held: the month was closed; arrived {t_late:%Y-%m-%d %H:%M}, "
        f"saved {_utc(late_saved):%Y-%m-%d %H:%M}"
    ) in lines

    # The outputs' "figures as at" is the day the last counted return arrived.
    day = f"{t_final.day} {t_final:%B %Y}"
    assert _figures_as_at(home, PERIOD) == {f"{day}: the date of the last return counted."}

    # Nothing is left of the sightings once every file has its outcome.
    assert _rows(home, "SELECT COUNT(*) FROM sightings") == [(0,)]


@pytest.mark.slow
def test_a_sighting_survives_a_restart_and_a_replaced_file_is_a_new_one(home, tmp_path):
    kept, _saved = _explorer_copy(home, make_return(home, "M03", folder=tmp_path / "a"), 10)
    replaced, _saved = _explorer_copy(home, make_return(home, "M04", folder=tmp_path / "b"), 10)

    # The watcher sees both files, but stops before either is still for long enough.
    with Intake(home) as intake:
        watcher = Watcher(intake)
        watcher.start()
        try:
            watcher._drain_events()
            assert not watcher._check_candidates(), "nothing is taken at the first look"
        finally:
            watcher.stop()
    seen = dict(_rows(home, "SELECT CAST(name AS TEXT), first_seen FROM sightings"))
    assert set(seen) == {kept.name, replaced.name}
    first_seen = _utc(seen[kept.name])
    assert abs((first_seen - _now()).total_seconds()) < 5, "when it was seen, not saved"

    # While the engine is stopped, another file replaces one of them under the same name.
    time.sleep(2)
    fresh = make_return(
        home, "M04", folder=tmp_path / "c", cells=full_answers(home, "M04", rating="Partly met")
    )
    os.replace(fresh, replaced)
    restart = _now()
    _watch_once(home)

    arrivals = dict(_rows(home, "SELECT original_name, arrived_at FROM drops"))
    assert _utc(arrivals[kept.name]) == first_seen < restart, "arrived at its first sighting"
    assert _utc(arrivals[replaced.name]) >= restart, "a new file under the same name is new"
    received = dict(_rows(home, "SELECT unit, received_at FROM returns"))
    assert received == {"M03": arrivals[kept.name], "M04": arrivals[replaced.name]}
    assert _rows(home, "SELECT COUNT(*) FROM sightings") == [(0,)]


def test_a_busy_ledger_never_stops_a_sighting_and_it_is_written_later(home, tmp_path):
    path, _saved = _explorer_copy(home, make_return(home, "L01", folder=tmp_path), 10)
    st = os.lstat(path)
    stamp = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
    with Intake(home) as intake:
        intake.recover()  # the watcher's start: the ledger is open
        other = sqlite3.connect(home.ledger_path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another process holds the ledger
        try:
            began = time.monotonic()
            first = intake.sightings.see(os.fsencode(path.name), stamp)
            assert time.monotonic() - began < 2, "a sighting waits only briefly"
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert _rows(home, "SELECT COUNT(*) FROM sightings") == [(0,)]
        assert intake.sightings.see(os.fsencode(path.name), stamp) == first
        assert _rows(home, "SELECT first_seen FROM sightings") == [(first,)]
        (o,) = intake.process_many(intake.pending())
        assert o.outcome == "accepted"
        assert _rows(home, "SELECT arrived_at FROM drops") == [(first,)]
        # A file seen but gone from the inbox before it was taken is forgotten.
        gone = make_return(home, "L02")
        st = os.lstat(gone)
        intake.sightings.see(
            os.fsencode(gone.name), (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
        )
        gone.unlink()
        assert intake.pending() == []
    assert _rows(home, "SELECT COUNT(*) FROM sightings") == [(0,)]


def test_a_held_receipt_says_truthfully_when_it_arrived_either_side_of_the_close():
    from engine.receipts import held_reason

    closed = "2026-12-07T09:00:00+00:00"
    late = held_reason(CLOSED, closed, "2026-12-07T09:05:00+00:00")
    assert late == (
        "It arrived 7 December 2026 at 09:05 UTC, after October 2026 (2026-10) was closed "
        "7 December 2026 at 09:00 UTC once its outputs were shared"
    )
    # Seen before the close, but taken in after it (the engine was stopped): held, and told so.
    waiting = held_reason(CLOSED, closed, "2026-12-07T08:55:00+00:00")
    assert waiting.startswith(
        "It arrived 7 December 2026 at 08:55 UTC, before October 2026 (2026-10) was closed "
        "7 December 2026 at 09:00 UTC, but had not been taken in by then"
    )
    assert "after" not in waiting

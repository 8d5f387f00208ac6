"""A ledger held by another program never stops the watcher.

A real separate process holds the ledger (``BEGIN EXCLUSIVE``, as a database
tool does) for longer than the ledger's busy timeout, while a real ``sequin
watch`` runs on a real inbox (rebuilding the outputs of the return it has just
taken), or is started while the ledger is held, or is started while it is
held so that it cannot even be read (``locking_mode=EXCLUSIVE``). A valid
return dropped meanwhile is left alone, then taken once the ledger is free;
the log says the watcher is waiting, once, not once a try.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from contextlib import ExitStack
from datetime import datetime, timezone

import pytest

from engine.ledger import BUSY_TIMEOUT
from engine.pipeline import Intake
from engine.watcher import WAIT_LOG_EVERY

from .conftest import PERIOD, make_return, report_path
from .test_watcher import ROOT, WatchProcess, ledger_rows

pytestmark = pytest.mark.slow

HOLD = 40.0  # seconds the other program holds the ledger: longer than BUSY_TIMEOUT
TAKEN_WITHIN = 30.0  # seconds after the ledger is free by which the return must be in
WAITING = "in use by another program"

HOLDER = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
if sys.argv[3] == "unreadable":
    db.execute("PRAGMA locking_mode=EXCLUSIVE")
db.execute("BEGIN EXCLUSIVE")
db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('held by', 'a database tool')")
print("held", flush=True)
time.sleep(float(sys.argv[2]))
db.execute("ROLLBACK")
db.close()
print("released", flush=True)
"""


class LedgerHolder:
    """Another program holding the ledger in an exclusive transaction for ``seconds``."""

    def __init__(self, path, seconds: float, how: str = "writing"):
        self.proc = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(path), str(seconds), how],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout.readline().strip() == "held"
        self.since = time.monotonic()

    def released(self) -> tuple[float, datetime]:
        """Wait until it lets the ledger go; when that was (monotonic, and UTC)."""
        assert self.proc.stdout.readline().strip() == "released"
        self.proc.wait(10)
        return time.monotonic(), datetime.now(timezone.utc)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


class StartedWatch(WatchProcess):
    """``sequin watch`` started; it may say it is waiting for the ledger before it watches."""

    def __enter__(self) -> StartedWatch:
        cli = [sys.executable, str(ROOT / "cli.py"), "watch", "--home", str(self.home.root)]
        self.proc = subprocess.Popen(
            cli, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT
        )
        threading.Thread(target=self._pump, daemon=True).start()
        return self


@pytest.mark.parametrize(
    "held",
    ["while watching", "at start", "at start, unreadable"],
)
def test_a_watcher_waits_for_a_ledger_another_program_holds_and_then_takes_the_return(
    home, tmp_path, held
):
    assert HOLD > BUSY_TIMEOUT
    first = make_return(home, "M01", folder=tmp_path / "first", synthetic=True)
    src = make_return(home, "M02", folder=tmp_path, synthetic=True)
    with Intake(home) as intake:
        intake.recover()  # a home that has run before: its ledger is there
    watcher = StartedWatch(home)
    holder = None
    with ExitStack() as stack:
        stack.callback(lambda: holder and holder.kill())
        if held == "while watching":
            stack.enter_context(watcher)
            watcher.wait_for("watching", timeout=30)
            watcher.drop_copy(first, first.name)
            line = watcher.wait_for(first.name, timeout=10)
            report = home.inbox / f"{first.name}.problems.txt"
            assert "accepted" in line, report.read_text() if report.exists() else line
            # Taken while the outputs of that return are being rebuilt.
            holder = LedgerHolder(home.ledger_path, HOLD)
        else:
            how = "unreadable" if held.endswith("unreadable") else "writing"
            holder = LedgerHolder(home.ledger_path, HOLD, how)
            stack.enter_context(watcher)  # started while the ledger is held
            if how == "writing":  # it can read the ledger: it watches, and waits to write
                watcher.wait_for("watching", timeout=30)
        time.sleep(1)
        watcher.drop_copy(src, src.name)
        dropped = datetime.now(timezone.utc).replace(microsecond=0)
        watcher.wait_for(WAITING, timeout=HOLD / 2)

        freed, freed_utc = holder.released()
        assert watcher.alive(), f"the watcher stopped while the ledger was held: {watcher.seen}"
        assert (home.inbox / src.name).exists(), "nothing is taken while the ledger is held"

        line = watcher.wait_for(src.name, timeout=TAKEN_WITHIN)
        took = time.monotonic() - freed
        assert "accepted" in line, watcher.seen
        assert took < TAKEN_WITHIN
        if held == "while watching" and not any("outputs refreshed" in s for s in watcher.seen):
            watcher.wait_for("outputs refreshed", timeout=TAKEN_WITHIN + BUSY_TIMEOUT)
        assert watcher.alive()
    while not watcher.lines.empty():  # what it said up to the end
        watcher.seen.append(watcher.lines.get()[1])

    # Recorded once, finished, and filed with its receipt; nothing half done.
    drops = ledger_rows(
        home, "SELECT original_name, outcome, state, arrived_at FROM drops ORDER BY id"
    )
    earlier = [(first.name, "accepted", "done")] if held == "while watching" else []
    assert [d[:3] for d in drops] == [*earlier, (src.name, "accepted", "done")]
    units = ledger_rows(home, "SELECT unit, period FROM returns ORDER BY id")
    assert units == [("M01", PERIOD)] * len(earlier) + [("M02", PERIOD)]
    assert report_path(home, src.name).exists()
    assert not (home.inbox / src.name).exists()
    assert ledger_rows(home, "SELECT COUNT(*) FROM sightings") == [(0,)]
    assert ledger_rows(home, "SELECT COUNT(*) FROM meta WHERE key = 'held by'") == [(0,)]
    arrived = datetime.fromisoformat(drops[-1][3]).timestamp()
    if held.endswith("unreadable"):  # first seen once it could start
        assert dropped.timestamp() <= arrived <= freed_utc.timestamp() + TAKEN_WITHIN
    else:  # first seen when it was dropped, not when the ledger came free
        assert dropped.timestamp() - 2 <= arrived < freed_utc.timestamp()

    # Waiting is said once, then at most once a minute; never an error, never each try.
    waited = freed - holder.since
    said = [s for s in watcher.seen if WAITING in s or "Still waiting" in s]
    assert 1 <= len(said) <= 1 + int(waited // WAIT_LOG_EVERY), said
    assert any("free again" in s for s in watcher.seen), watcher.seen
    failed = ("Error", "Traceback", "could not", "busy")
    assert not any(word in s for s in watcher.seen for word in failed), watcher.seen

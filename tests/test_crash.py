"""Crash safety: the engine killed (as by kill -9) at every step, then restarted.

The engine passes numbered crash points while it takes files in and writes
outputs (``engine/faults.py``). For each point N, a fresh copy of the same
home runs ``sequin watch --once`` with ``SEQUIN_CRASH_AT=N``, dies there with
SIGKILL, and is run again normally. After the restart nothing may be lost,
nothing counted twice, and no half-written file left behind.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from engine import template as T
from engine.home import Home, init_home

from .conftest import PERIOD, full_answers, make_return, report_path

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
MIN_KILL_POINTS = 50


@pytest.fixture(scope="module")
def template_home(tmp_path_factory):
    """A home with eight files waiting in the inbox: good, duplicate, resubmitted and bad."""
    home = init_home(tmp_path_factory.mktemp("crash") / "home")
    for unit in ("M01", "M02", "M03", "M04"):
        make_return(home, unit, synthetic=True)
    shutil.copyfile(
        home.inbox / T.file_name("M01", PERIOD), home.inbox / "SeQuIn_M01_2026-11 copy.xlsx"
    )
    make_return(
        home,
        "M02",
        cells=full_answers(home, "M02", rating="Partly met"),
        name="SeQuIn_M02_2026-11 v2.xlsx",
    )
    (home.inbox / "minutes.xlsx").write_text("not a workbook")
    cells = full_answers(home, "L01")
    cells[("1 Involvement", "E7")] = "Mostly"
    make_return(home, "L01", cells=cells)
    for i, p in enumerate(sorted(home.inbox.iterdir())):
        os.utime(p, (1_790_000_000 + i, 1_790_000_000 + i))
    return home


def run_watch_once(home_root: Path, crash_at: int | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("SEQUIN_CRASH_AT", None)
    if crash_at:
        env["SEQUIN_CRASH_AT"] = str(crash_at)
    return subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), "watch", "--once", "--home", str(home_root)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env=env,
    )


def check_invariants(root: Path, originals: dict[str, bytes]) -> None:
    db = sqlite3.connect(root / "ledger.sqlite")
    try:
        drops = db.execute("SELECT original_name, outcome, state, sha256 FROM drops").fetchall()
        returns = db.execute("SELECT COUNT(*) FROM returns").fetchone()[0]
        current = db.execute(
            "SELECT unit, COUNT(*) FROM returns WHERE superseded_by IS NULL GROUP BY unit"
        ).fetchall()
        dirty = db.execute("SELECT COUNT(*) FROM dirty_periods").fetchone()[0]
    finally:
        db.close()
    names = sorted(n for n, *_ in drops)
    assert names == sorted(originals), "every file exactly one outcome"
    assert all(state == "done" for _n, _o, state, _s in drops)
    assert returns == 5, "four units, one resubmission; the duplicate is not counted again"
    assert dict(current) == {"M01": 1, "M02": 1, "M03": 1, "M04": 1}
    assert dirty == 0, "outputs were refreshed"
    inbox = root / "inbox"
    for name, outcome, _state, sha in drops:
        if outcome == "accepted":
            archived = root / "archive" / sha[:2] / f"{sha}.xlsx"
            assert archived.exists() and hashlib.sha256(archived.read_bytes()).hexdigest() == sha
            assert archived.read_bytes() == originals[name]
            assert not (inbox / name).exists()
            assert report_path(Home(root), name).exists()
        else:
            assert (inbox / name).read_bytes() == originals[name], "rejected originals untouched"
            assert (inbox / f"{name}.problems.txt").exists()
    accepted = sum(o == "accepted" for _n, o, *_ in drops)
    rejected = sum(o == "rejected" for _n, o, *_ in drops)
    assert (accepted, rejected) == (6, 2)
    assert len(originals) == accepted + rejected
    leftovers = [p for p in root.rglob("*") if p.name.startswith(".sequin-tmp-")]
    assert leftovers == [], "no half-written file left behind"
    staged = root / ".intake"
    assert not staged.exists() or list(staged.iterdir()) == [], "no private copy left behind"
    outputs = list((root / "outbox" / PERIOD).glob("*.xlsx"))
    assert outputs, "the month's outputs were written"


def test_killed_at_every_point_a_restart_loses_nothing_and_doubles_nothing(template_home, tmp_path):
    originals = {p.name: p.read_bytes() for p in template_home.inbox.iterdir()}
    kill_points = 0
    n = 0
    while True:
        n += 1
        root = tmp_path / f"run{n}"
        shutil.copytree(template_home.root, root)
        first = run_watch_once(root, crash_at=n)
        if first.returncode == 0:
            break  # ran to the end without reaching point n: every point has been tried
        assert first.returncode == -signal.SIGKILL, first.stderr[-2000:]
        kill_points += 1
        second = run_watch_once(root)
        assert second.returncode == 0, second.stderr[-2000:]
        check_invariants(root, originals)
        shutil.rmtree(root)
    print(f"\n{kill_points} kill points exercised; nothing lost or doubled after any of them")
    assert kill_points >= MIN_KILL_POINTS, f"only {kill_points} kill points exercised"
    check_invariants(root, originals)

"""Crash safety: the engine killed (as by kill -9) at its steps, then restarted.

The engine passes numbered crash points while it takes files in and writes
outputs (``engine/faults.py``). One uninterrupted ``sequin watch --once`` of
the home first counts the points it passes and names each one. Then, for each
point N of a sample, a fresh copy of the same home runs ``sequin watch --once``
with ``SEQUIN_CRASH_AT=N``, dies there with SIGKILL, and is run again
normally. After the restart nothing may be lost, nothing counted twice, and no
half-written file left behind.

The sample always holds the first and the last point, every point named in
``ESSENTIAL_POINTS``, and one point of every kind of step; the rest are drawn
at random up to ``SAMPLE_SIZE``. The seed is printed and named in every
failure: ``--crash-seed N`` (or ``SEQUIN_CRASH_SEED=N``) draws the same sample
again, and is today's date (YYYYMMDD) otherwise. ``--crash-all`` (or
``SEQUIN_CRASH_ALL=1``) kills at every point.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import random
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
SAMPLE_SIZE = 12
# Killed at every occurrence, whatever the seed: the ledger says done, no file has moved yet.
ESSENTIAL_POINTS = ("batch committed, nothing moved yet",)
NEVER = 10**9  # a crash point no run reaches: the points are counted, none is killed at

# Runs cli.py with every crash point passed noted by name; at exit writes how many were
# passed and their names (as JSON) to the file named by its first argument.
COUNT_POINTS = """
import atexit, json, os, runpy, sys
import engine.faults as faults
out, script, sys.argv = sys.argv[1], sys.argv[2], sys.argv[2:]
names, pid, crashpoint = [], os.getpid(), faults.crashpoint
def noted(name=""):
    names.append(name)
    crashpoint(name)
faults.crashpoint = noted
def write():
    if os.getpid() == pid:
        with open(out, "w", encoding="utf-8") as fh:
            json.dump({"passed": faults._count, "names": names}, fh)
atexit.register(write)
runpy.run_path(script, run_name="__main__")
"""


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


def run_watch_once(
    home_root: Path,
    crash_at: int | None = None,
    crash_log: Path | None = None,
    count_to: Path | None = None,
) -> subprocess.CompletedProcess:
    """``sequin watch --once``, killed at point ``crash_at`` (noted in ``crash_log``); or, given
    ``count_to``, noting there the crash points it passes (see COUNT_POINTS), killed at none."""
    env = dict(os.environ)
    env.pop("SEQUIN_CRASH_AT", None)
    env.pop("SEQUIN_CRASH_LOG", None)
    if crash_at:
        env["SEQUIN_CRASH_AT"] = str(crash_at)
    if crash_log is not None:
        env["SEQUIN_CRASH_LOG"] = str(crash_log)
    cli = [str(ROOT / "cli.py"), "watch", "--once", "--home", str(home_root)]
    if count_to is not None:
        env["SEQUIN_CRASH_AT"] = str(NEVER)
        cli = ["-c", COUNT_POINTS, str(count_to), *cli]
    return subprocess.run(
        [sys.executable, *cli],
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


def kind(name: str) -> str:
    """The step a crash point stands for, without the file it is about."""
    return "before rename" if name.startswith("before rename ") else name


def sample(names: list[str], seed: int) -> list[int]:
    """The points (numbered from 1) to kill at: the first, the last, the essential ones, one of
    each kind of step, and random others up to SAMPLE_SIZE."""
    rng = random.Random(seed)
    total = len(names)
    chosen = {1, total} | {n for n, name in enumerate(names, 1) if name in ESSENTIAL_POINTS}
    kinds: dict[str, list[int]] = {}
    for n, name in enumerate(names, 1):
        kinds.setdefault(kind(name), []).append(n)
    chosen |= {rng.choice(kinds[k]) for k in sorted(kinds)}
    rest = sorted(set(range(1, total + 1)) - chosen)
    chosen |= set(rng.sample(rest, min(len(rest), max(0, SAMPLE_SIZE - len(chosen)))))
    return sorted(chosen)


def crash_seed(config: pytest.Config) -> int:
    seed = config.getoption("--crash-seed")
    if seed is None and os.environ.get("SEQUIN_CRASH_SEED"):
        seed = int(os.environ["SEQUIN_CRASH_SEED"])
    return int(dt.date.today().strftime("%Y%m%d")) if seed is None else seed


def checked(context: str, check, *args) -> None:
    """Run ``check``; a failure names ``context`` (the point and the seed that replays it)."""
    try:
        check(*args)
    except AssertionError as exc:
        raise AssertionError(f"{context}: {exc}") from exc


def test_killed_at_crash_points_a_restart_loses_nothing_and_doubles_nothing(
    template_home, tmp_path, request
):
    originals = {p.name: p.read_bytes() for p in template_home.inbox.iterdir()}

    # Uninterrupted: how many points there are, and what each one is.
    counted = tmp_path / "counted"
    shutil.copytree(template_home.root, counted)
    noted = tmp_path / "points.json"
    run = run_watch_once(counted, count_to=noted)
    assert run.returncode == 0, run.stderr[-2000:]
    found = json.loads(noted.read_text(encoding="utf-8"))
    names = found["names"]
    assert found["passed"] == len(names), "every crash point passed was noted by name"
    total = len(names)
    assert total >= MIN_KILL_POINTS, f"only {total} kill points reached"
    checked("after the uninterrupted run", check_invariants, counted, originals)

    everything = request.config.getoption("--crash-all") or os.environ.get(
        "SEQUIN_CRASH_ALL", ""
    ) not in ("", "0")
    seed = crash_seed(request.config)
    points = list(range(1, total + 1)) if everything else sample(names, seed)
    replay = "--crash-all" if everything else f"--crash-seed {seed}"
    print(f"\n{total} crash points; killing at {len(points)} of them (seed {seed}): {points}")
    print(f"replay with: pytest tests/test_crash.py {replay}")

    for n in points:
        context = f"killed at point {n} of {total} ({names[n - 1]}); replay with {replay}"
        root = tmp_path / f"run{n}"
        shutil.copytree(template_home.root, root)
        log = tmp_path / f"run{n}.log"
        first = run_watch_once(root, crash_at=n, crash_log=log)
        assert first.returncode == -signal.SIGKILL, f"{context}: {first.stderr[-2000:]}"
        assert log.exists(), f"{context}: the crash point was not noted"
        killed = log.read_text(encoding="utf-8").split(" ", 1)[1].rstrip("\n")
        assert kind(killed) == kind(names[n - 1]), f"{context}: killed at {killed!r} instead"
        second = run_watch_once(root)
        assert second.returncode == 0, f"{context}: {second.stderr[-2000:]}"
        checked(context, check_invariants, root, originals)
        shutil.rmtree(root)
    print(f"{len(points)} kill points exercised; nothing lost or doubled after any of them")

"""The watcher as it lives for weeks: returns hours apart, poison entries, and a soak.

Real ``sequin watch`` processes on a real folder, with real idle gaps longer
than every time limit in the engine (the worker's read limit is 30 s; the
stability checks, the zip grace and the rescan are seconds). These tests
sleep for real and are marked slow; CI runs them.
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from engine import template as T
from engine.sandbox import DEFAULT_TIMEOUT

from .conftest import PERIOD, full_answers, make_return, report_path
from .test_watcher import WatchProcess, ledger_rows

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent


def rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, in MB (Linux /proc)."""
    total = 0
    pids = [pid]
    while pids:
        p = pids.pop()
        try:
            with open(f"/proc/{p}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            with open(f"/proc/{p}/task/{p}/children") as fh:
                pids += [int(c) for c in fh.read().split()]
        except OSError:
            continue
    return total / 1024


def test_returns_45_and_35_seconds_apart_are_all_accepted(home, tmp_path):
    """Gaps longer than the worker's 30 s limit: each file is timed from its own hand-over."""
    assert DEFAULT_TIMEOUT < 35
    files = [
        make_return(home, unit, folder=tmp_path / unit, synthetic=True)
        for unit in ("M01", "M02", "M03")
    ]
    with WatchProcess(home) as w:
        w.drop_copy(files[0], files[0].name)
        assert "accepted" in w.wait_for(files[0].name, timeout=10)
        time.sleep(45)
        w.drop_copy(files[1], files[1].name)
        dropped = time.monotonic()
        line = w.wait_for(files[1].name, timeout=10)
        assert "accepted" in line, w.seen
        assert time.monotonic() - dropped < 10
        time.sleep(35)
        w.drop_copy(files[2], files[2].name)
        assert "accepted" in w.wait_for(files[2].name, timeout=10), w.seen
    assert not any("file-unreadable" in s for s in w.seen)
    assert ledger_rows(home, "SELECT outcome, COUNT(*) FROM drops GROUP BY outcome") == [
        ("accepted", 3)
    ]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are a POSIX thing")
def test_poison_entries_then_a_good_return_within_seconds_and_little_memory(home, tmp_path):
    good = make_return(home, "L05", folder=tmp_path, synthetic=True)
    other = make_return(home, "L06", folder=tmp_path, synthetic=True)
    inbox = os.fsencode(home.inbox)
    with WatchProcess(home) as w:
        with open(os.path.join(inbox, b"SeQuIn_L06_2026-11 \xe9t\xe9.xlsx"), "wb") as fh:
            fh.write(other.read_bytes())
        os.mkfifo(home.inbox / "pipe.xlsx")
        os.symlink("/dev/zero", home.inbox / "zero.xlsx")
        time.sleep(2)
        peak = 0.0
        w.drop_copy(good, good.name)
        dropped = time.monotonic()
        line = w.wait_for(good.name, timeout=10)
        took = time.monotonic() - dropped
        for _ in range(10):
            peak = max(peak, rss_mb(w.proc.pid))
            time.sleep(0.2)
        w.wait_for("pipe.xlsx", timeout=10) if not any("pipe.xlsx" in s for s in w.seen) else None
        assert w.alive(), w.seen
    assert "accepted" in line and took < 10, w.seen
    assert peak < 500, f"watcher and workers used {peak:.0f} MB"
    seen = "\n".join(w.seen)
    assert "Traceback" not in seen
    assert "rejected  pipe.xlsx  not-a-regular-file" in seen
    assert "rejected  zero.xlsx  not-a-regular-file" in seen
    assert "accepted  SeQuIn_L06_2026-11 \ufffdt\ufffd.xlsx" in seen
    print(f"\ngood return accepted {took:.1f} s after the drop; peak memory {peak:.0f} MB")


# --- the soak ------------------------------------------------------------------------------

SOAK_SECONDS = float(os.environ.get("SEQUIN_SOAK_SECONDS", "600"))


class Service:
    """``sequin watch`` as a service that can be killed like a power cut and started again."""

    def __init__(self, home, log: list[str]):
        self.home = home
        self.log = log
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "cli.py"), "watch", "--home", str(self.home.root)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=ROOT,
            start_new_session=True,
        )
        ready = threading.Event()

        def pump(proc=self.proc):
            for line in proc.stdout:
                self.log.append(line.rstrip("\n"))
                if "watching" in line:
                    ready.set()

        threading.Thread(target=pump, daemon=True).start()
        assert ready.wait(30), self.log[-20:]

    def kill(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)  # the watcher, its worker and any rebuild
        self.proc.wait(10)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.kill()


def _soak_files(home, tmp_path, rng: random.Random) -> list[tuple[str, Path, str]]:
    """What arrives, in order: (name, source, unit or '' for a broken file)."""
    units = ["M01", "M02", "M03", "L01", "L02", "L03"]
    plan: list[tuple[str, Path, str]] = []
    accepted_sources: list[tuple[Path, str]] = []
    count = max(12, int(SOAK_SECONDS / 45) + 2)
    for i in range(count):
        kind = rng.choice(["new", "new", "resubmit", "duplicate", "broken"])
        if kind in ("duplicate",) and accepted_sources:
            src, unit = rng.choice(accepted_sources)
            plan.append((f"SeQuIn_{unit}_{PERIOD} copy {i}.xlsx", src, unit))
        elif kind == "broken":
            bad = tmp_path / "src" / f"broken{i}.xlsx"
            bad.parent.mkdir(parents=True, exist_ok=True)
            if i % 2:
                bad.write_text("minutes of the meeting, not the workbook")
            else:
                good = make_return(
                    home, "M01", folder=tmp_path / f"t{i}", synthetic=True
                ).read_bytes()
                bad.write_bytes(good[: len(good) // 2])
            plan.append((f"broken {i}.xlsx", bad, ""))
        else:
            unit = rng.choice(units)
            rating = rng.choice(["Met", "Partly met", "Not met"])
            cells = full_answers(home, unit, rating=rating)
            cells[("1 Involvement", T.answer_cells(i % 10).evidence)] = f"Soak evidence {i}"
            src = make_return(home, unit, folder=tmp_path / f"s{i}", cells=cells)
            accepted_sources.append((src, unit))
            plan.append((f"SeQuIn_{unit}_{PERIOD} v{i}.xlsx", src, unit))
    return plan


def test_soak_a_watcher_for_ten_minutes_with_kills(home, tmp_path):
    seed = int(os.environ.get("SEQUIN_SOAK_SEED", str(int(time.time()))))
    rng = random.Random(seed)
    print(f"\nsoak seed {seed} (set SEQUIN_SOAK_SEED to replay)")
    plan = _soak_files(home, tmp_path, rng)
    log: list[str] = []
    service = Service(home, log)
    service.start()
    started = time.monotonic()
    kills = sorted(rng.uniform(0.15, 0.85) * SOAK_SECONDS for _ in range(2))
    dropped: list[tuple[float, str, str, str]] = []  # (when, name, sha, unit)
    try:
        for i, (name, src, unit) in enumerate(plan):
            data = src.read_bytes()
            tmp = home.inbox / f"~${i}.tmp"
            tmp.write_bytes(data)
            os.replace(tmp, home.inbox / name)  # as a copy tool does: temp file, then rename
            dropped.append((time.monotonic(), name, hashlib.sha256(data).hexdigest(), unit))
            end = time.monotonic() + rng.uniform(0, 90)
            if i == len(plan) - 1:
                end = max(end, started + SOAK_SECONDS)  # the whole soak, however the gaps fell
            while time.monotonic() < end:
                if kills and time.monotonic() - started >= kills[0]:
                    kills.pop(0)
                    service.kill()
                    log.append("--- killed ---")
                    time.sleep(rng.uniform(0, 20))
                    service.start()
                time.sleep(0.5)
        # Let it settle: every file seen, every outcome written.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            n = ledger_rows(home, "SELECT COUNT(*) FROM drops WHERE state = 'done'")[0][0]
            if n >= len(dropped):
                break
            time.sleep(1)
        time.sleep(3)
    finally:
        service.stop()

    print(
        f"{len(dropped)} files over {time.monotonic() - started:.0f} s, {log.count('--- killed ---')} kills"
    )
    assert log.count("--- killed ---") == 2
    assert not any("Traceback" in line for line in log), "\n".join(log[-40:])
    db = sqlite3.connect(home.ledger_path)
    try:
        drops = db.execute("SELECT original_name, outcome, state, sha256 FROM drops").fetchall()
        current = db.execute(
            "SELECT unit, period, COUNT(*), sha256 FROM returns "
            "WHERE superseded_by IS NULL GROUP BY unit, period"
        ).fetchall()
        returns = db.execute("SELECT sha256 FROM returns").fetchall()
    finally:
        db.close()
    names = [d[0] for d in drops]
    assert sorted(names) == sorted(n for _t, n, _s, _u in dropped), "every file exactly one outcome"
    accepted = sum(1 for d in drops if d[1] == "accepted")
    rejected = sum(1 for d in drops if d[1] == "rejected")
    assert accepted + rejected == len(dropped)
    assert all(d[2] == "done" for d in drops)
    assert all(count == 1 for _u, _p, count, _s in current), "one current return per unit and month"
    by_unit: dict[str, list[tuple[float, str]]] = {}
    first_seen: set[str] = set()
    for t, _n, sha, unit in dropped:
        if unit and sha not in first_seen:  # a copy sent again does not make an older one count
            first_seen.add(sha)
            by_unit.setdefault(unit, []).append((t, sha))
    for unit, _p, _c, sha in current:
        arrivals = by_unit[unit]
        # The return counted is the last one the unit sent (all share a save time), unless the
        # last two arrived too close together to say which came first.
        if len(arrivals) < 2 or arrivals[-1][0] - arrivals[-2][0] > 5:
            assert sha == arrivals[-1][1], unit
    for (sha,) in returns:
        archived = home.archive / sha[:2] / f"{sha}.xlsx"
        assert hashlib.sha256(archived.read_bytes()).hexdigest() == sha
    left = sorted(p.name for p in home.inbox.iterdir() if not p.name.endswith(".txt"))
    assert left == sorted(d[0] for d in drops if d[1] == "rejected"), (
        "the inbox holds rejected files only"
    )
    assert list((home.root / ".intake").iterdir()) == []
    for unit, period, _c, sha in current:
        (folder,) = (home.root / "returns" / period).glob(f"{unit} *")
        top = [p for p in folder.iterdir() if p.is_file() and p.suffix == ".xlsx"]
        assert [hashlib.sha256(p.read_bytes()).hexdigest() for p in top] == [sha], unit
        assert (folder / (top[0].name + ".receipt.txt")).exists()
    shutil.rmtree(tmp_path / "src", ignore_errors=True)


def test_final_then_an_older_draft_then_final_again_through_the_watcher(home, tmp_path):
    """What the lead sent last is told truthfully: receipts and status agree at every step."""
    import datetime as dt
    import json

    from engine.synthetic import with_saved_at

    def saved(rating: str, when: dt.datetime, folder: str) -> Path:
        cells = full_answers(home, "M04", rating=rating)
        src = make_return(home, "M04", folder=tmp_path / folder, cells=cells)
        src.write_bytes(with_saved_at(src.read_bytes(), when))
        return src

    final = saved("Met", dt.datetime(2026, 12, 5, 16, 30), "final")
    draft = saved("Not met", dt.datetime(2026, 12, 2, 9, 0), "draft")

    def status() -> dict:
        out = subprocess.run(
            [
                sys.executable,
                str(ROOT / "cli.py"),
                "status",
                "--period",
                PERIOD,
                "--json",
                "--home",
                str(home.root),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=ROOT,
        )
        return next(u for u in json.loads(out.stdout)["units"] if u["unit"] == "M04")

    with WatchProcess(home) as w:
        w.drop_copy(final, "SeQuIn_M04_2026-11 final.xlsx")
        assert "accepted" in w.wait_for("final.xlsx", timeout=10)
        w.drop_copy(draft, "SeQuIn_M04_2026-11 draft.xlsx")
        line = w.wait_for("draft.xlsx", timeout=10)
        assert "NOT counted" in line, line
        assert status()["overall_percent"] == 100.0
        w.drop_copy(final, "SeQuIn_M04_2026-11 final again.xlsx")
        line = w.wait_for("final again.xlsx", timeout=10)
    receipt = report_path(home, "SeQuIn_M04_2026-11 final again.xlsx").read_text("utf-8-sig")
    assert receipt.startswith("SeQuIn return ACCEPTED") and "are the return counted" in receipt
    m04 = status()
    assert m04["overall_percent"] == 100.0
    assert [h["file"] for h in m04["held"]] == ["SeQuIn_M04_2026-11 draft.xlsx"]
    draft_receipt = (home.inbox / "SeQuIn_M04_2026-11 draft.xlsx.receipt.txt").read_text(
        "utf-8-sig"
    )
    assert draft_receipt.startswith("SeQuIn return KEPT, NOT COUNTED")
    assert "sequin release" in draft_receipt

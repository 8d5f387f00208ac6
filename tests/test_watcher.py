"""The watcher: a real watchdog observer on a real folder, run as the real command."""

from __future__ import annotations

import os
import queue
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from engine import template as T

from .conftest import PERIOD, full_answers, make_return, report_path

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent


class WatchProcess:
    """``sequin watch`` in a child process, with its log lines collected as they come."""

    def __init__(self, home, *extra: str):
        self.home = home
        self.extra = extra
        self.lines: queue.Queue[tuple[float, str]] = queue.Queue()
        self.seen: list[str] = []

    def __enter__(self) -> WatchProcess:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "cli.py"),
                "watch",
                "--home",
                str(self.home.root),
                *self.extra,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=ROOT,
        )
        threading.Thread(target=self._pump, daemon=True).start()
        self.wait_for("watching", timeout=30)
        return self

    def _pump(self) -> None:
        for line in self.proc.stdout:
            self.lines.put((time.monotonic(), line.rstrip("\n")))

    def wait_for(self, text: str, timeout: float) -> str:
        """The first new log line containing ``text``; fails after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no line with {text!r} within {timeout} s; saw {self.seen}")
            try:
                _t, line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            self.seen.append(line)
            if text in line:
                return line

    def drop_copy(self, src: Path, name: str) -> None:
        shutil.copyfile(src, self.home.inbox / name)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def ledger_rows(home, sql: str):
    db = sqlite3.connect(home.ledger_path)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def test_a_copied_return_is_accepted_within_seconds(home, tmp_path):
    src = make_return(home, "M01", folder=tmp_path, synthetic=True)
    with WatchProcess(home) as w:
        w.drop_copy(src, src.name)
        copied = time.monotonic()
        line = w.wait_for(src.name, timeout=5)
        took = time.monotonic() - copied
    assert "accepted" in line and took < 5
    assert report_path(home, src.name).exists()


def test_a_slow_copy_in_chunks_is_read_only_once_complete(home, tmp_path):
    src = make_return(home, "M02", folder=tmp_path, synthetic=True)
    data = src.read_bytes()
    with WatchProcess(home) as w:
        target = home.inbox / src.name
        with open(target, "wb") as fh:
            step = len(data) // 6 + 1
            for i in range(0, len(data), step):
                fh.write(data[i : i + step])
                fh.flush()
                os.fsync(fh.fileno())
                time.sleep(0.8)  # longer than the stability window: the zip check must hold it
        line = w.wait_for(src.name, timeout=5)
    assert "accepted" in line, w.seen
    assert not any("rejected" in s for s in w.seen)
    assert ledger_rows(home, "SELECT COUNT(*) FROM drops") == [(1,)]


def test_a_return_renamed_into_place_is_accepted(home, tmp_path):
    src = make_return(home, "M03", folder=tmp_path, synthetic=True)
    with WatchProcess(home) as w:
        tmp = home.inbox / "~$upload.tmp"
        shutil.copyfile(src, tmp)
        os.replace(tmp, home.inbox / src.name)
        line = w.wait_for(src.name, timeout=5)
    assert "accepted" in line


def test_polling_observer_for_network_shares(home, tmp_path):
    src = make_return(home, "M04", folder=tmp_path, synthetic=True)
    with WatchProcess(home, "--poll", "0.5") as w:
        w.drop_copy(src, src.name)
        line = w.wait_for(src.name, timeout=5)
    assert "accepted" in line


def test_lock_and_temp_files_are_ignored(home, tmp_path):
    src = make_return(home, "M05", folder=tmp_path, synthetic=True)
    with WatchProcess(home) as w:
        (home.inbox / "~$SeQuIn_M05_2026-11.xlsx").write_bytes(b"owner")
        (home.inbox / ".~lock.SeQuIn_M05_2026-11.xlsx#").write_bytes(b"lock")
        (home.inbox / "upload.tmp").write_bytes(b"partial")
        w.drop_copy(src, src.name)
        w.wait_for(src.name, timeout=5)
        time.sleep(1.0)
    assert not any("~$" in s or ".~lock" in s or "upload.tmp" in s for s in w.seen)
    assert ledger_rows(home, "SELECT COUNT(*) FROM drops") == [(1,)]


def test_duplicates_and_resubmissions_keep_the_ledger_right(home, tmp_path):
    first = make_return(home, "L01", folder=tmp_path / "a")
    again = tmp_path / "again.xlsx"
    shutil.copyfile(first, again)
    cells = full_answers(home, "L01", rating="Partly met")
    second = make_return(home, "L01", folder=tmp_path / "b", cells=cells)
    broken = tmp_path / "notes.xlsx"
    broken.write_text("just some notes")
    with WatchProcess(home) as w:
        w.drop_copy(first, first.name)
        w.wait_for(first.name, timeout=5)
        w.drop_copy(again, "SeQuIn_L01_2026-11 (copy).xlsx")
        dup = w.wait_for("(copy)", timeout=5)
        w.drop_copy(second, "SeQuIn_L01_2026-11 v2.xlsx")
        w.wait_for(" v2.xlsx", timeout=5)
        w.drop_copy(broken, broken.name)
        w.wait_for(broken.name, timeout=5)
    assert "a COPY sent again of a return already counted" in dup
    current = ledger_rows(
        home,
        "SELECT overall_percent FROM returns WHERE superseded_by IS NULL "
        f"AND unit = 'L01' AND period = '{PERIOD}'",
    )
    assert current == [(50.0,)]
    assert ledger_rows(home, "SELECT COUNT(*) FROM returns") == [(2,)]
    outcomes = dict(ledger_rows(home, "SELECT outcome, COUNT(*) FROM drops GROUP BY outcome"))
    files_in = 4
    archived = len(list(home.archive.rglob("*.xlsx")))
    rejected_kept = sum(1 for p in home.inbox.iterdir() if p.suffix in (".xlsx",))
    assert outcomes == {"accepted": 3, "rejected": 1}
    assert archived == 2  # two distinct accepted files (the duplicate shares its bytes)
    assert files_in == outcomes["accepted"] + outcomes["rejected"]
    assert rejected_kept == 1 and (home.inbox / "notes.xlsx").read_text() == "just some notes"
    assert (home.inbox / "notes.xlsx.problems.txt").exists()


def test_watch_once_takes_what_is_waiting_and_exits(home):
    make_return(home, "L02", synthetic=True)
    make_return(home, "L03", synthetic=True, name=T.file_name("L04", PERIOD))
    proc = subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), "watch", "--once", "--home", str(home.root)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    assert "accepted  SeQuIn_L02" in proc.stdout
    assert "rejected  SeQuIn_L04" in proc.stdout and "file-name-unit-mismatch" in proc.stdout
    status = subprocess.run(
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
    import json

    data = json.loads(status.stdout)
    by_unit = {u["unit"]: u for u in data["units"]}
    assert by_unit["L02"]["status"] == "returned"
    assert by_unit["L03"]["status"] == "rejected"
    assert by_unit["L03"]["why"][0]["code"] == "file-name-unit-mismatch"
    assert data["counts"] == {"returned": 1, "rejected": 1, "held": 0, "missing": 13}

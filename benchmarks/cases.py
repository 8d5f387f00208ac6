"""The measurements. Each runs in a fresh process of its own::

    python -m benchmarks.cases NAME PARAMS_PATH RESULT_PATH

so that its peak memory is that process's own (``VmHWM``) and no measurement
warms another. A case writes one JSON object to ``RESULT_PATH``: raw timings
(seconds, or lists of milliseconds) and sizes; :mod:`benchmarks.run`
computes medians and ratios. Setup cases make the data the measuring cases
use, in separate processes, so data making never counts in a peak.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import glob
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import warnings
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

from . import data as D

REPO = Path(__file__).resolve().parent.parent
MB = 1024 * 1024


# --- helpers -----------------------------------------------------------------------------


def peak_mb(pid: int | str = "self") -> float | None:
    """Peak resident memory of a process in MiB (``VmHWM``), or None if unknown."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    if pid == "self":
        import resource

        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return rss / MB if sys.platform == "darwin" else rss / 1024
    return None


def children(pid: int) -> list[int]:
    """Process ids of the direct children of ``pid`` (Linux)."""
    out = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as fh:
                out.extend(int(x) for x in fh.read().split())
    except OSError:
        pass
    return out


class Stages:
    """Time spent per named stage, per file, by wrapping the functions that do the work."""

    def __init__(self):
        self.current: dict[str, float] = defaultdict(float)
        self.files: list[dict[str, float]] = []
        self.active: dict[str, int] = defaultdict(int)  # stages running now

    def wrap(self, stage: str, func):
        @functools.wraps(func)
        def timed(*args, **kwargs):
            start = time.perf_counter()
            self.active[stage] += 1
            try:
                return func(*args, **kwargs)
            finally:
                self.active[stage] -= 1
                self.current[stage] += time.perf_counter() - start

        return timed

    def next_file(self) -> None:
        self.files.append({k: v * 1000 for k, v in self.current.items()})
        self.current = defaultdict(float)


def _ms(seconds: float) -> float:
    return seconds * 1000


# --- generation -----------------------------------------------------------------------------


def generation(p: dict) -> dict:
    """``generate()`` of one month's workbooks for a network of ``units`` units."""
    from engine import workbook

    home = D.make_home(Path(p["root"]), p["units"])
    stages = Stages()
    workbook.write_atomic = stages.wrap("write", workbook.write_atomic)
    start, cpu = time.perf_counter(), _cpu_with_children()
    paths = workbook.generate(home, p["period"])
    seconds, cpu = time.perf_counter() - start, _cpu_with_children() - cpu
    stages.next_file()
    sizes = [path.stat().st_size for path in paths]
    write = stages.files[0].get("write")
    if write is None:
        # Built in helper processes: time the same writes again here.
        scratch = Path(p["root"]) / "rewrite"
        begin = time.perf_counter()
        for path in paths:
            workbook.write_atomic(scratch / path.name, path.read_bytes())
        write = (time.perf_counter() - begin) * 1000
    return {
        "workbooks": len(paths),
        "seconds": seconds,
        "cpu_seconds": cpu,
        "write_seconds": write / 1000,
        "mean_bytes": sum(sizes) / len(sizes),
    }


def _cpu_with_children() -> float:
    """CPU time of this process and of the helper processes it has waited for."""
    import resource

    own, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


# --- intake -----------------------------------------------------------------------------------


def intake_setup(p: dict) -> dict:
    """A home (configuration and secret only) and ``returns`` filled returns for it."""
    root = Path(p["root"])
    start = time.perf_counter()
    home = D.make_home(root / "home-template")
    files = D.write_returns(home, root / "returns", p["returns"])
    return {
        "template": str(home.root),
        "files": [str(f) for f in files],
        "seconds": time.perf_counter() - start,
        "mean_bytes": sum(f.stat().st_size for f in files) / len(files),
    }


def _read_with_calamine(path: Path) -> None:
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(str(path))
    for name in wb.sheet_names:
        wb.get_sheet_by_name(name).to_python()


def _load_with_openpyxl(path: Path) -> None:
    import openpyxl

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        openpyxl.load_workbook(path)


def _expect_accepted(outcome) -> None:
    if outcome.outcome != "accepted" or outcome.duplicate:
        codes = [f.code for f in outcome.findings]
        raise RuntimeError(f"{outcome.name}: {outcome.outcome} {codes}")


def intake_steady(p: dict) -> dict:
    """Per return: ``Intake.process`` of a file in the inbox, and the reference readers on it.

    The worker is started by the warm-up files. Each file is copied into the
    inbox (not timed), read by python-calamine and loaded by openpyxl, then
    processed; accepted files move to the archive.
    """
    import openpyxl  # noqa: F401 - imported before timing
    import python_calamine  # noqa: F401

    from engine.pipeline import Intake

    home = D.copy_home(Path(p["template"]), Path(p["root"]) / "home")
    files = [Path(f) for f in p["files"]]
    calamine, openpyxl_ms, intake = [], [], []
    with Intake(home) as engine:
        for src in files:
            path = home.inbox / src.name
            shutil.copyfile(src, path)
            gc.collect()
            start = time.perf_counter()
            _read_with_calamine(path)
            calamine.append(_ms(time.perf_counter() - start))
            gc.collect()
            start = time.perf_counter()
            _load_with_openpyxl(path)
            openpyxl_ms.append(_ms(time.perf_counter() - start))
            gc.collect()
            start = time.perf_counter()
            outcome = engine.process(path)
            intake.append(_ms(time.perf_counter() - start))
            _expect_accepted(outcome)
        worker_peak = peak_mb(engine.sandbox.pid) if engine.sandbox.pid else None
    returns = len(files)
    archive, archived = D.folder_bytes(home.archive)
    return {
        "warmup": p["warmup"],
        "intake_ms": intake,
        "calamine_ms": calamine,
        "openpyxl_ms": openpyxl_ms,
        "worker_peak_mb": worker_peak,
        "returns": returns,
        "ledger_bytes": D.ledger_bytes(home.ledger_path),
        "archive_bytes": archive,
        "archived_files": archived,
        "mean_return_bytes": sum(f.stat().st_size for f in files) / returns,
    }


def intake_batch(p: dict) -> dict:
    """``Intake.process_many`` over every file in the inbox at once, after warm-up files."""
    from engine.pipeline import Intake

    home = D.copy_home(Path(p["template"]), Path(p["root"]) / "home")
    files = [Path(f) for f in p["files"]]
    paths = []
    for src in files:
        paths.append(home.inbox / src.name)
        shutil.copyfile(src, paths[-1])
    warmup = p["warmup"]
    with Intake(home) as engine:
        for outcome in engine.process_many(paths[:warmup]):
            _expect_accepted(outcome)
        gc.collect()
        start = time.perf_counter()
        outcomes = engine.process_many(paths[warmup:])
        seconds = time.perf_counter() - start
        for outcome in outcomes:
            _expect_accepted(outcome)
        worker_peak = peak_mb(engine.sandbox.pid) if engine.sandbox.pid else None
    return {"returns": len(outcomes), "seconds": seconds, "worker_peak_mb": worker_peak}


def _timed_commits(stages: Stages, transaction):
    """``Ledger.transaction`` that also times each commit (stage ``commit``).

    The part of a commit that happens inside ``Ledger.record`` is noted as
    ``commit_in_record`` too, so that it is not counted twice.
    """

    @contextlib.contextmanager
    def timed():
        manager = transaction()
        db = manager.__enter__()
        try:
            yield db
        except BaseException as exc:
            if not manager.__exit__(type(exc), exc, exc.__traceback__):
                raise
        else:
            start = time.perf_counter()
            manager.__exit__(None, None, None)
            spent = time.perf_counter() - start
            stages.current["commit"] += spent
            if stages.active["record"]:
                stages.current["commit_in_record"] += spent

    return timed


def intake_breakdown(p: dict) -> dict:
    """Where the time of ``Intake.process`` goes, stage by stage, on the same files.

    The pre-check and the reader run in the worker process; they are timed
    here by calling them directly on each file. The stages in this process
    are timed by wrapping the functions the pipeline calls.
    """
    from engine import pipeline
    from engine.pipeline import Intake
    from engine.precheck import precheck
    from engine.reader import read_return

    home = D.copy_home(Path(p["template"]), Path(p["root"]) / "home")
    files = [Path(f) for f in p["files"]]
    stages = Stages()
    for name, stage in (
        ("check_return", "checks"),
        ("score", "score"),
        ("sha256_file", "hash"),
        ("write_atomic", "archive_write"),
        ("write_text_atomic", "receipt_write"),
    ):
        setattr(pipeline, name, stages.wrap(stage, getattr(pipeline, name)))
    fsync = []
    with Intake(home) as engine:
        sandbox, ledger = engine.sandbox, engine.ledger
        sandbox.submit = stages.wrap("worker", sandbox.submit)
        sandbox.collect = stages.wrap("worker", sandbox.collect)
        ledger.drops_for = stages.wrap("lookup", ledger.drops_for)
        ledger.return_by_sha = stages.wrap("lookup", ledger.return_by_sha)
        ledger.record = stages.wrap("record", ledger.record)
        ledger.transaction = _timed_commits(stages, ledger.transaction)
        ledger.mark_done = stages.wrap("mark_done", ledger.mark_done)
        engine._finish = stages.wrap("finish", engine._finish)
        for src in files:
            path = home.inbox / src.name
            shutil.copyfile(src, path)
            gc.collect()
            start = time.perf_counter()
            if precheck(path):
                raise RuntimeError(f"{path.name} refused by the pre-check")
            stages.current["precheck"] = time.perf_counter() - start
            start = time.perf_counter()
            read_return(str(path))
            stages.current["read"] = time.perf_counter() - start
            gc.collect()
            start = time.perf_counter()
            outcome = engine.process(path)
            stages.current["total"] = time.perf_counter() - start
            _expect_accepted(outcome)
            stages.next_file()
            # The disk's floor: one durable write of a file this size.
            data = src.read_bytes()
            start = time.perf_counter()
            with open(home.root / "fsync-probe", "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            fsync.append(_ms(time.perf_counter() - start))
    return {"warmup": p["warmup"], "files": stages.files, "fsync_ms": fsync}


# --- reporting -------------------------------------------------------------------------------


def report_setup(p: dict) -> dict:
    """Ledgers for every size: the largest filled once, the others copied out of it.

    ``sizes`` is a list of ``[units, months]``; the largest must cover the
    others. Each smaller ledger holds the rows a fill of its own size would
    have written (same units, same months, same answers).
    """
    root = Path(p["root"])
    sizes = [tuple(s) for s in p["sizes"]]
    units = max(u for u, _m in sizes)
    count = max(m for _u, m in sizes)
    periods = D.months(count)
    start = time.perf_counter()
    full = D.make_home(root / f"ledger-{units}x{count}", units)
    returns = D.fill_ledger(full, periods)
    fill_seconds = time.perf_counter() - start
    homes = {}
    for u, m in sizes:
        if (u, m) == (units, count):
            home = full
        else:
            home = D.subset_ledger(full, root / f"ledger-{u}x{m}", u, periods[m - 1])
        db = sqlite3.connect(home.ledger_path)
        n = db.execute("SELECT COUNT(*) FROM returns").fetchone()[0]
        db.close()
        homes[f"{u}x{m}"] = {
            "home": str(home.root),
            "period": periods[m - 1],
            "returns": n,
            "ledger_bytes": D.ledger_bytes(home.ledger_path),
        }
    return {"homes": homes, "filled": returns, "fill_seconds": fill_seconds}


def report_build(p: dict) -> dict:
    """``build_period`` of one month from a ledger with history; outputs rebuilt from scratch."""
    from engine.home import Home
    from engine.ledger import Ledger
    from engine.outputs import build as R

    home = Home(p["home"])
    outbox = home.outbox / p["period"]
    if outbox.exists():
        shutil.rmtree(outbox)
    stages = Stages()
    for name in (
        "collect",
        "network_workbook",
        "commissioner_workbook",
        "easy_read_workbook",
        "feedback_workbook",
        "chart_images",
        "write_atomic",
    ):
        if hasattr(R, name):
            setattr(R, name, stages.wrap(name, getattr(R, name)))
    ledger = Ledger(home.ledger_path)
    try:
        gc.collect()
        start, cpu = time.perf_counter(), time.process_time()
        paths = R.build_period(home, ledger, p["period"])
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    finally:
        ledger.close()
    stages.next_file()
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "outputs": len(paths),
        "bytes": sum(x.stat().st_size for x in paths),
        "stages_ms": stages.files[0],
    }


# --- watcher ----------------------------------------------------------------------------------


class _Watch:
    """``sequin watch`` (the repository's ``cli.py``) on a home, in a child process."""

    def __init__(self, home: Path, poll: float | None, log: Path):
        self.home, self.poll, self.log = home, poll, log
        args = [sys.executable, str(REPO / "cli.py"), "watch", "--home", str(home)]
        if poll:
            args += ["--poll", f"{poll:g}"]
        self.fh = open(log, "wb")  # noqa: SIM115 - closed by stop()
        self.proc = subprocess.Popen(args, stdout=self.fh, stderr=subprocess.STDOUT, cwd=REPO)

    def wait_ready(self) -> None:
        """Wait until the watcher has opened its ledger and started observing."""
        # The log line comes just before the watcher opens its ledger and starts observing.
        deadline = time.monotonic() + 60
        while b"watching" not in self.log.read_bytes() or self.dirty_periods() is None:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"the watcher did not start: {self.log.read_text(errors='replace')}"
                )
            time.sleep(0.05)
        time.sleep(1.0)

    def dirty_periods(self) -> int | None:
        """How many months the watcher has still to rebuild outputs for (None: no ledger yet)."""
        path = self.home / "ledger.sqlite"
        if not path.exists():
            return None
        try:
            db = sqlite3.connect(path, timeout=5)
            try:
                return db.execute("SELECT COUNT(*) FROM dirty_periods").fetchone()[0]
            finally:
                db.close()
        except sqlite3.Error:
            return None

    def check(self) -> None:
        if self.proc.poll() is not None:
            raise RuntimeError(
                f"the watcher stopped: {self.log.read_text(errors='replace')[-2000:]}"
            )

    def stop(self) -> None:
        """Stop the watcher as Ctrl+C would, and make sure its worker has gone too."""
        workers = children(self.proc.pid)
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.fh.close()
        for pid in workers:
            try:
                os.kill(pid, 0)
            except OSError:
                continue
            time.sleep(0.5)
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


@contextlib.contextmanager
def _watching(home: Path, poll: float | None, log: Path) -> Iterator[_Watch]:
    w = _Watch(home, poll, log)
    try:
        w.wait_ready()
        yield w
    finally:
        w.stop()


def _drop(inbox: Path, src: Path) -> float:
    """Copy ``src`` into ``inbox`` under a hidden name and rename it into place; the time it appeared."""
    tmp = inbox / f".bench-{src.name}.tmp"
    shutil.copyfile(src, tmp)
    os.rename(tmp, inbox / src.name)
    return time.monotonic()


def _wait_for_receipt(w: _Watch, inbox: Path, name: str, deadline: float) -> float:
    """Check every 20 ms until the file's receipt is written; the time it was seen.

    An accepted return's receipt is filed with it under ``returns/<month>/<unit>/``
    (a rejected file's problems report stays in the inbox).
    """
    problems = inbox / f"{name}.problems.txt"
    returns = inbox.parent / "returns"

    def receipt_written() -> bool:
        return any(returns.glob(f"*/*/{glob.escape(name)}.receipt.txt"))

    while not receipt_written():
        if problems.exists():
            raise RuntimeError(f"{name} was rejected: {problems.read_text('utf-8-sig')}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"no receipt for {name} in time")
        w.check()
        time.sleep(0.02)
    return time.monotonic()


def watcher(p: dict) -> dict:
    """Latency from a complete file appearing in the inbox to its receipt, through ``sequin watch``.

    Each file is copied under a hidden temporary name and renamed into the
    inbox, so it is complete when it appears. The inbox is checked every 20 ms
    for the receipt. The next file is dropped once the watcher has also
    rebuilt the month's outputs (the ledger has no period left to refresh),
    after a random pause of up to half a second.
    """
    root = Path(p["root"])
    home = D.copy_home(Path(p["template"]), root / "home")
    rng = random.Random(p.get("seed", 0))
    latencies, refreshed = [], []
    with _watching(home.root, p.get("poll"), root / "watch.log") as w:
        for src in map(Path, p["files"]):
            start = _drop(home.inbox, src)
            deadline = start + 120
            latencies.append(_wait_for_receipt(w, home.inbox, src.name, deadline) - start)
            while w.dirty_periods() != 0:
                if time.monotonic() > deadline:
                    raise RuntimeError("the watcher did not rebuild the outputs within 120 s")
                w.check()
                time.sleep(0.02)
            refreshed.append(time.monotonic() - start)
            time.sleep(rng.uniform(0, 0.5))
        w.check()
        peaks = _watch_peaks(w)
    return {
        "poll": p.get("poll"),
        "warmup": p["warmup"],
        "latency_s": latencies,
        "refreshed_s": refreshed,
        **peaks,
    }


def _watch_peaks(w: _Watch) -> dict:
    worker_peaks = [x for x in (peak_mb(pid) for pid in children(w.proc.pid)) if x is not None]
    return {
        "watcher_peak_mb": peak_mb(w.proc.pid),
        "worker_peak_mb": max(worker_peaks, default=None),
    }


def watcher_busy(p: dict) -> dict:
    """Latency of returns arriving while the watcher rebuilds a large month's outputs.

    A copy of a reporting home (its ledger with years of history, outputs
    taken as up to date) is watched; new returns for the last month on record
    (each superseding that unit's return) are dropped one at a time, each
    ``gap`` seconds after the previous one's receipt, by when the watcher has
    started rebuilding the month's outputs for the previous return.
    """
    root = Path(p["root"])
    home = D.copy_home(Path(p["source"]), root / "home")
    shutil.rmtree(home.outbox / p["period"], ignore_errors=True)
    db = sqlite3.connect(home.ledger_path)
    try:
        db.execute("DELETE FROM dirty_periods")
        db.commit()
    finally:
        db.close()
    files = []
    folder = root / "returns"
    folder.mkdir()
    for unit in D.unit_codes(p["files"]):
        path = folder / f"SeQuIn_{unit}_{p['period']}.xlsx"
        path.write_bytes(D.filled_return(home, unit, p["period"], p["month_index"]))
        files.append(path)
    latencies = []
    with _watching(home.root, None, root / "watch.log") as w:
        for src in files:
            start = _drop(home.inbox, src)
            latencies.append(_wait_for_receipt(w, home.inbox, src.name, start + 600) - start)
            time.sleep(p["gap"])
        w.check()
        peaks = _watch_peaks(w)
    return {"warmup": p["warmup"], "gap": p["gap"], "latency_s": latencies, **peaks}


CASES = {
    "generation": generation,
    "intake_setup": intake_setup,
    "intake_steady": intake_steady,
    "intake_batch": intake_batch,
    "intake_breakdown": intake_breakdown,
    "report_setup": report_setup,
    "report_build": report_build,
    "watcher": watcher,
    "watcher_busy": watcher_busy,
}


def main(argv: list[str]) -> int:
    """Run one case (parameters read from a JSON file) and write its result, with this
    process's peak memory, as JSON."""
    name, params, out = argv
    result = CASES[name](json.loads(Path(params).read_text(encoding="utf-8")))
    result["peak_mb"] = peak_mb()
    Path(out).write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

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
import zipfile
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from xml.parsers import expat

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
    from engine import generation

    if p.get("cores"):
        # The helper processes generate() starts inherit this.
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[: p["cores"]])
    home = D.make_home(Path(p["root"]), p["units"])
    stages = Stages()
    generation.write_atomic = stages.wrap("write", generation.write_atomic)
    start, cpu = time.perf_counter(), _cpu_with_children()
    paths = generation.generate(home, p["period"])
    seconds, cpu = time.perf_counter() - start, _cpu_with_children() - cpu
    stages.next_file()
    sizes = [path.stat().st_size for path in paths]
    write = stages.files[0].get("write")
    if write is None:
        # Built in helper processes: time the same writes again here.
        scratch = Path(p["root"]) / "rewrite"
        begin = time.perf_counter()
        for path in paths:
            generation.write_atomic(scratch / path.name, path.read_bytes())
        write = (time.perf_counter() - begin) * 1000
    return {
        "workbooks": len(paths),
        "cores": len(os.sched_getaffinity(0)),
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


def _expat_part(data: bytes, start, end=None, text=None) -> None:
    """Parse one XML part with expat and the given handlers."""
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.StartElementHandler = start
    if end is not None:
        parser.EndElementHandler = end
    if text is not None:
        parser.CharacterDataHandler = text
    parser.Parse(data, True)


def _shared_strings(data: bytes) -> list[str]:
    """The text of each ``<si>`` of a shared strings part."""
    strings: list[str] = []
    parts: list[str] = []
    inside = False

    def start(name, attrs):
        nonlocal inside
        if name == "t":
            inside = True
        elif name == "si":
            parts.clear()

    def end(name):
        nonlocal inside
        inside = False
        if name == "si":
            strings.append("".join(parts))

    def text(data):
        if inside:
            parts.append(data)

    _expat_part(data, start, end, text)
    return strings


def _cell_values(data: bytes, strings: list[str], values: list) -> None:
    """Every cell value of a worksheet part, appended to ``values``."""
    shared = inside = False

    def start(name, attrs):
        nonlocal shared, inside
        if name == "c":
            shared = attrs.get("t") == "s"
        elif name == "v" or name == "t":
            inside = True

    def end(name):
        nonlocal inside
        inside = False

    def text(data):
        if inside:
            values.append(strings[int(data)] if shared else data)

    _expat_part(data, start, end, text)


def expat_floor(path: Path) -> list:
    """The floor of reading a workbook's values: inflate and parse with expat only the parts
    a reader needs, collecting every cell's value.

    ``xl/workbook.xml`` (the sheets, in order), its relationships (where each
    sheet is), ``xl/sharedStrings.xml`` (the text of shared-string cells) and
    every worksheet, each inflated once (:mod:`zipfile`); a cell's value is the
    text of its ``<v>`` (a shared string's text for ``t="s"``) or of its
    inline ``<t>``.
    """
    values: list = []
    sheet_ids: list[str] = []
    targets: dict[str, str] = {}

    def workbook_start(name, attrs):
        if name == "sheet":
            sheet_ids.append(attrs["r:id"])

    def rels_start(name, attrs):
        if name == "Relationship":
            targets[attrs["Id"]] = attrs["Target"]

    with zipfile.ZipFile(path) as z:
        _expat_part(z.read("xl/workbook.xml"), workbook_start)
        _expat_part(z.read("xl/_rels/workbook.xml.rels"), rels_start)
        strings = (
            _shared_strings(z.read("xl/sharedStrings.xml"))
            if "xl/sharedStrings.xml" in z.NameToInfo
            else []
        )
        for rid in sheet_ids:
            target = targets[rid]
            part = target[1:] if target.startswith("/") else "xl/" + target
            _cell_values(z.read(part), strings, values)
    return values


def _expect_accepted(outcome) -> None:
    if outcome.outcome != "accepted" or outcome.duplicate:
        codes = [f.code for f in outcome.findings]
        raise RuntimeError(f"{outcome.name}: {outcome.outcome} {codes}")


def intake_steady(p: dict) -> dict:
    """Per return, interleaved on the same file: python-calamine, the expat floor, ``Intake.process``.

    The worker is started by the warm-up files. Each file is copied into the
    inbox (not timed), read by python-calamine (every sheet's values), read by
    the expat floor (:func:`expat_floor`), then processed; accepted files move
    to the archive.
    """
    import python_calamine  # noqa: F401 - imported before timing

    from engine.pipeline import Intake

    home = D.copy_home(Path(p["template"]), Path(p["root"]) / "home")
    files = [Path(f) for f in p["files"]]
    calamine, floor, intake = [], [], []
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
            if not expat_floor(path):
                raise RuntimeError(f"{path.name}: the expat floor read no values")
            floor.append(_ms(time.perf_counter() - start))
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
        "expat_ms": floor,
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


def intake_history(p: dict) -> dict:
    """Intake with a large ledger on record against intake on an empty one, interleaved.

    Returns for the month after the last on record are made for the first
    ``returns`` units; each is taken in by a home holding the whole history
    (``home``) and by a new home with the same network and secret but an empty
    ledger, one after the other. Growth in the per-return time comes from the
    ledger's lookups (a missing index reads every row on record).
    """
    from engine import template as T
    from engine.home import Home
    from engine.pipeline import Intake

    big = Home(p["home"])
    root = Path(p["root"])
    period = D.months(2, p["period"])[1]
    empty_root = root / "empty-ledger"
    empty_root.mkdir(parents=True)
    for source in (big.config_path, big.secret_path):
        shutil.copy2(source, empty_root / source.name)
    empty = Home(empty_root)
    empty.ensure_folders()
    folder = root / "returns"
    folder.mkdir()
    files = []
    for code in [u.code for u in big.network.units][: p["returns"]]:
        path = folder / T.file_name(code, period)
        path.write_bytes(D.filled_return(big, code, period, p["months"]))
        files.append(path)
    db = sqlite3.connect(big.ledger_path)
    on_record = db.execute("SELECT COUNT(*) FROM returns").fetchone()[0]
    db.close()
    timings: dict[str, list[float]] = {"history": [], "empty": []}
    with Intake(big) as with_history, Intake(empty) as without:
        for index, src in enumerate(files):
            for name, engine in (("empty", without), ("history", with_history)):
                path = engine.home.inbox / src.name
                shutil.copyfile(src, path)
                gc.collect()
                start = time.perf_counter()
                outcome = engine.process(path)
                spent = _ms(time.perf_counter() - start)
                _expect_accepted(outcome)
                if index >= p["warmup"]:
                    timings[name].append(spent)
    return {
        "history_ms": timings["history"],
        "empty_ms": timings["empty"],
        "returns_on_record": on_record,
        "ledger_bytes": D.ledger_bytes(big.ledger_path),
        "period": period,
    }


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
    from engine.precheck import precheck_parts
    from engine.xlsx_fast import FAST, read_return_parts

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
            refused, parts = precheck_parts(path)
            if refused:
                raise RuntimeError(f"{path.name} refused by the pre-check")
            stages.current["precheck"] = time.perf_counter() - start
            start = time.perf_counter()
            _raw, how = read_return_parts(str(path), parts)
            stages.current["read"] = time.perf_counter() - start
            if how != FAST:
                raise RuntimeError(f"{path.name} was not read by the fast reader")
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
    returns = D.fill_ledger(full, periods, checked_units=p.get("checked_units"))
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


def library_floor(p: dict) -> dict:
    """What the two writing libraries alone cost for one month's outputs, in CPU seconds.

    In one fresh process, one workbook after another: every workbook of the month
    is built as ``build_period`` builds it (the shared ones, then each unit's
    feedback, easy-read and family and friends workbooks), and the CPU time spent
    inside XlsxWriter's ``Workbook.close()`` (turning what was written into the
    parts and zipping them) is added up; the key charts are then drawn as PNG
    images, with importing matplotlib timed on its own. Those are work no engine
    code can take away while XlsxWriter writes these workbooks and matplotlib draws
    these charts: divided by the cores, they are the fastest the month could be
    built on this machine with these libraries, whatever the engine does around them.
    """
    import xlsxwriter

    from engine.home import Home
    from engine.ledger import Ledger
    from engine.outputs import build as R

    home = Home(p["home"])
    ledger = Ledger(home.ledger_path)
    try:
        data = R.collect(home, ledger, p["period"])
    finally:
        ledger.close()
    inside = [0.0]
    close = xlsxwriter.Workbook.close

    def timed_close(self):
        start = time.process_time()
        try:
            return close(self)
        finally:
            inside[0] += time.process_time() - start

    xlsxwriter.Workbook.close = timed_close
    family = R._family_books(home, data)
    books = [
        lambda: R.network_workbook(data),
        lambda: R.commissioner_workbook(data),
        lambda: R.easy_read_workbook(data),
    ]
    for code in data.units:
        books.append(lambda code=code: R.feedback_workbook(data, code))
        books.append(lambda code=code: R.unit_easy_read_workbook(data, code))
        if family is not None:
            books.append(lambda code=code: family(code))
    gc.collect()
    start = time.process_time()
    for make in books:
        make()
    books_cpu = time.process_time() - start
    xlsxwriter.Workbook.close = close
    start = time.process_time()
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: F401
    from matplotlib.figure import Figure  # noqa: F401

    import_cpu = time.process_time() - start
    start = time.process_time()
    images = R.chart_images(data)
    images_cpu = time.process_time() - start
    return {
        "workbooks": len(books),
        "units": len(data.units),
        "books_cpu_s": books_cpu,
        "xlsxwriter_close_cpu_s": inside[0],
        "matplotlib_import_cpu_s": import_cpu,
        "images": len(images),
        "images_cpu_s": images_cpu,
        "cores": os.cpu_count() or 1,
    }


def _cli(*args: str) -> list[str]:
    """The command line of ``sequin ARGS`` (the repository's ``cli.py``) in a fresh process."""
    return [sys.executable, str(REPO / "cli.py"), *args]


def _timed_command(args: list[str]) -> float:
    """Wall-clock seconds of one command in a fresh process; it must succeed."""
    start = time.perf_counter()
    proc = subprocess.run(args, cwd=REPO, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(
            f"{' '.join(args[1:])} exited with {proc.returncode}: {proc.stderr[-2000:]}"
        )
    return seconds


def _children_peak_mb() -> float:
    """The largest peak resident memory of the child processes waited for so far, in MiB."""
    import resource

    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def report_command(p: dict) -> dict:
    """``sequin report --period P`` in a fresh process, wall clock, ``runs`` times.

    Before each run (not timed) the month's outbox folder is removed, so every
    output is rebuilt. Interleaved with each run, the reference: ``sequin
    --version`` in a fresh process (starting Python and the command line).
    """
    home = Path(p["home"])
    outbox = home / "outbox" / p["period"]
    command, reference = [], []
    for _ in range(p["runs"]):
        reference.append(_timed_command(_cli("--version")))
        shutil.rmtree(outbox, ignore_errors=True)
        command.append(_timed_command(_cli("report", "--period", p["period"], "--home", str(home))))
    return {
        "command_s": command,
        "reference_s": reference,
        "children_peak_mb": _children_peak_mb(),
    }


def _settled_copy(p: dict, root: Path):
    """A copy of the source home whose outputs count as up to date (no month left to rebuild)."""
    home = D.copy_home(Path(p["source"]), root / "home")
    db = sqlite3.connect(home.ledger_path)
    try:
        db.execute("DELETE FROM dirty_periods")
        db.commit()
    finally:
        db.close()
    return home


def process_command(p: dict) -> dict:
    """``sequin process FILE`` of one new return in a fresh process, wall clock, with and
    without ``--no-outputs``, alternately.

    On a copy of a reporting home (its outputs taken as up to date), each run
    takes in a new return for the last month on record, superseding that
    unit's return; with outputs, the command also rebuilds that month's outputs.
    When ``sequin process --help`` does not offer ``--no-outputs``, only the
    runs with outputs are made and the result says why.
    """
    root = Path(p["root"])
    home = _settled_copy(p, root)
    help_text = subprocess.run(
        _cli("process", "--help"), cwd=REPO, capture_output=True, text=True, check=False
    ).stdout
    has_flag = "--no-outputs" in help_text
    folder = root / "returns"
    folder.mkdir()
    runs = p["runs"]
    files = []
    for unit in D.unit_codes(2 * runs):
        path = folder / f"SeQuIn_{unit}_{p['period']}.xlsx"
        path.write_bytes(D.filled_return(home, unit, p["period"], p["month_index"]))
        files.append(path)
    with_outputs, without = [], []
    for i in range(runs):
        order = (True, False) if i % 2 == 0 else (False, True)
        for j, outputs in enumerate(order):
            src = files[2 * i + j]
            if not outputs and not has_flag:
                continue
            args = ["process", "--home", str(home.root), str(src)]
            if not outputs:
                args.insert(1, "--no-outputs")
            (with_outputs if outputs else without).append(_timed_command(_cli(*args)))
    return {
        "with_outputs_s": with_outputs,
        "no_outputs_s": without,
        "skipped": None
        if has_flag
        else "`sequin process --help` does not offer `--no-outputs` in this engine",
        "children_peak_mb": _children_peak_mb(),
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
    home = _settled_copy(p, root)
    shutil.rmtree(home.outbox / p["period"], ignore_errors=True)
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
    "intake_history": intake_history,
    "report_setup": report_setup,
    "report_build": report_build,
    "report_command": report_command,
    "library_floor": library_floor,
    "process_command": process_command,
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

"""Run the benchmark suite and write ``BENCHMARKS.md``::

    python -m benchmarks.run [--quick] [--jobs N] [--out BENCHMARKS.md] [--json RESULTS.json] [--keep]

Every measurement runs in a fresh process (:mod:`benchmarks.cases`), on data
made in a temporary folder that is removed at the end (``--keep`` keeps it).
``--quick`` uses tiny sizes to check that the suite works; without ``--out``
it writes to a temporary file and prints its path. ``--jobs N`` runs up to N
measurements at once, each as soon as the data it needs is made: quicker, but
the measurements then share the machine, so it is for checking that the suite
works, not for figures to compare. The exit code is 0 when
every measurement ran (whether or not the targets are met), 1 otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from . import report

REPO = Path(__file__).resolve().parent.parent
GENERATION_PERIOD = "2026-01"
REPORT_BUDGET_S = 180.0  # more runs of one reporting size only while under this
CHECKED_UNITS = (
    500  # units checked and scored per month when filling ledgers (see data.fill_ledger)
)


@dataclass(frozen=True)
class Plan:
    """Sizes and repeats of one run."""

    generation: tuple[tuple[int, int, int | None], ...]  # (workbooks, runs, cores or None: all)
    intake_returns: int  # including the warm-up
    intake_warmup: int
    reporting: tuple[tuple[int, int, int], ...]  # (units, months, runs), in process
    report_command: tuple[tuple[int, int, int], ...]  # (units, months, runs), `sequin report`
    process: tuple[int, int, int]  # (units, months, runs of each kind), `sequin process`
    watcher_files: int  # including the warm-up
    watcher_warmup: int
    busy: tuple[int, int, int, int]  # (units, months, files including the warm-up, warm-up)
    history_returns: int = 60  # intake into the largest ledger: returns, including the warm-up
    history_warmup: int = 5
    poll: float = 1.0
    busy_gap: float = 2.0  # seconds from one receipt to the next file, in the busy run


FULL = Plan(
    generation=((15, 3, None), (500, 3, None), (500, 3, 1)),
    intake_returns=210,
    intake_warmup=10,
    reporting=(
        (15, 24, 5),
        (100, 36, 3),
        (250, 36, 3),
        (500, 36, 5),
        (1000, 36, 3),
        (2000, 36, 2),
    ),
    report_command=((15, 24, 5), (500, 36, 3)),
    process=(15, 24, 5),
    watcher_files=22,
    watcher_warmup=2,
    busy=(500, 36, 6, 1),
)
QUICK = Plan(
    generation=((3, 1, None), (3, 1, 1)),
    intake_returns=6,
    intake_warmup=1,
    reporting=((2, 2, 1), (3, 2, 1)),
    report_command=((3, 2, 1),),
    process=(3, 2, 1),
    watcher_files=1,
    watcher_warmup=0,
    busy=(3, 2, 2, 0),
    history_returns=3,
    history_warmup=1,
)


class CaseFailed(Exception):
    """A measurement process failed."""


# How many measurement processes may run at once (``--jobs``); None: one at a time.
_slots: threading.BoundedSemaphore | None = None


def log(message: str) -> None:
    """Progress on standard error."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def machine_busy_seconds() -> float | None:
    """CPU time spent by every process on the machine since boot, in seconds (Linux)."""
    try:
        with open("/proc/stat", encoding="ascii") as fh:
            fields = [int(x) for x in fh.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def speed_probe() -> float:
    """Milliseconds a fixed CPU workload takes here and now (median of 5); lower is faster.

    The same figure at different times shows how fast the machine was running
    then, so runs made at different times can be compared.
    """
    data = bytes(range(256)) * 4096
    times = []
    for _ in range(5):
        start = time.perf_counter()
        sum(i * i for i in range(300_000))
        zlib.compress(data, 6)
        times.append((time.perf_counter() - start) * 1000)
    return sorted(times)[2]


def own_cpu_seconds() -> float:
    """CPU time of this process and of every child process it has waited for."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def run_case(name: str, params: dict, work: Path, timeout: float) -> dict:
    """Run one case in a fresh process and return its result.

    The result also says how busy the rest of the machine was meanwhile
    (``other_cores``: CPU time of other processes divided by the wall time).
    """
    fd, name_in = tempfile.mkstemp(prefix=f"{name}-params-", suffix=".json", dir=work)
    os.close(fd)
    fd, name_out = tempfile.mkstemp(prefix=f"{name}-result-", suffix=".json", dir=work)
    os.close(fd)
    params_path, out = Path(name_in), Path(name_out)
    params_path.write_text(json.dumps(params), encoding="utf-8")
    with _slots if _slots is not None else contextlib.nullcontext():
        busy, ours, started = machine_busy_seconds(), own_cpu_seconds(), time.monotonic()
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "benchmarks.cases", name, str(params_path), str(out)],
                cwd=REPO,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise CaseFailed(f"{name}: no result within {timeout:g} s") from None
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-12:]
        raise CaseFailed(f"{name} exited with {proc.returncode}: " + " / ".join(tail))
    result = json.loads(out.read_text(encoding="utf-8"))
    out.unlink()
    params_path.unlink()
    after = machine_busy_seconds()
    if busy is not None and after is not None:
        mine = own_cpu_seconds() - ours
        result["other_cores"] = max(
            0.0, (after - busy - mine) / max(time.monotonic() - started, 1e-6)
        )
    return result


def _fresh(work: Path, name: str) -> Path:
    """An empty folder ``name`` under ``work``."""
    path = work / name
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def measure_generation(plan: Plan, work: Path) -> list[dict]:
    """Each generation size, run after run, each run in a new home."""
    out = []
    for count, runs, cores in plan.generation:
        results = []
        for i in range(runs):
            root = _fresh(work, f"generation-{count}-{i}")
            r = run_case(
                "generation",
                {
                    "root": str(root / "home"),
                    "units": count,
                    "period": GENERATION_PERIOD,
                    "cores": cores,
                },
                work,
                900,
            )
            shutil.rmtree(root)
            log(
                f"generation, {count} workbooks on {r['cores']} core(s), run {i + 1}/{runs}: "
                f"{r['seconds']:.2f} s, peak {r['peak_mb']:.0f} MiB"
            )
            results.append(r)
        out.append({"workbooks": count, "cores": cores, "runs": results})
    return out


def measure_intake(plan: Plan, work: Path) -> tuple[dict, dict]:
    """Returns made once; then the per-return loop, the batch and the breakdown on them.

    Also gives the setup (home template and files), which the watcher runs reuse.
    """
    root = _fresh(work, "intake")
    setup = run_case(
        "intake_setup", {"root": str(root / "data"), "returns": plan.intake_returns}, work, 1800
    )
    log(f"intake: {len(setup['files'])} returns made in {setup['seconds']:.1f} s")
    common = {"template": setup["template"], "files": setup["files"], "warmup": plan.intake_warmup}
    results = {}
    for name in ("intake_steady", "intake_batch", "intake_breakdown"):
        case_root = _fresh(root, name)
        results[name.split("_")[1]] = run_case(name, {**common, "root": str(case_root)}, work, 1800)
        shutil.rmtree(case_root)
        log(f"{name} done")
    return results, setup


def measure_reporting(plan: Plan, work: Path) -> dict:
    """Ledgers of every size (the largest filled once, the others copied out of it), then
    ``build_period`` runs on each, each in a fresh process.

    Stops repeating a size once its runs have taken ``REPORT_BUDGET_S`` (after
    at least two, or after one that alone took that long). Keeps, in ``homes``, the ledgers the command, process and
    busy watcher runs need; removes the others once measured.
    """
    root = _fresh(work, "reporting")
    sizes = [[u, m] for u, m, _runs in plan.reporting]
    setup = run_case(
        "report_setup",
        {"root": str(root), "sizes": sizes, "checked_units": CHECKED_UNITS},
        work,
        3600,
    )
    log(f"reporting: {setup['filled']} returns recorded in {setup['fill_seconds']:.1f} s")
    out = {
        "fill": {
            "filled": setup["filled"],
            "seconds": setup["fill_seconds"],
            "checked_units": CHECKED_UNITS,
        },
        "sizes": [],
        "budget_s": REPORT_BUDGET_S,
        "homes": {},
    }
    keep = {(u, m) for u, m, _r in plan.report_command} | {plan.process[:2], plan.busy[:2]}
    for units, months, runs in plan.reporting:
        info = setup["homes"][f"{units}x{months}"]
        entry = {
            "units": units,
            "months": months,
            "returns": info["returns"],
            "ledger_bytes": info["ledger_bytes"],
            "planned_runs": runs,
            "runs": [],
        }
        out["sizes"].append(entry)
        spent = 0.0
        for i in range(runs):
            # Enough once the runs have taken the budget: after two runs, or after one
            # run that alone took it (the largest ledgers, while reporting is slow).
            if spent > REPORT_BUDGET_S and (i >= 2 or spent / i > REPORT_BUDGET_S):
                break
            r = run_case(
                "report_build", {"home": info["home"], "period": info["period"]}, work, 1800
            )
            spent += r["seconds"]
            entry["runs"].append(r)
            log(
                f"reporting {units} x {months}, run {i + 1}/{runs}: {r['seconds']:.2f} s, "
                f"peak {r['peak_mb']:.0f} MiB"
            )
        if (units, months) == max((u, m) for u, m, _r in plan.reporting):
            out["history"] = measure_intake_history(plan, work, info, units, months, keep)
        if (units, months) in keep:
            out["homes"][(units, months)] = info
        else:
            shutil.rmtree(info["home"], ignore_errors=True)
    return out


def measure_intake_history(
    plan: Plan, work: Path, info: dict, units: int, months: int, keep: set
) -> dict:
    """Intake into the largest ledger against an empty one (on a copy if the ledger is kept
    for later measurements: returns for a new month are added to it)."""
    root = _fresh(work, "intake-history")
    home = info["home"]
    if (units, months) in keep:
        home = str(root / "home")
        shutil.copytree(info["home"], home, ignore=shutil.ignore_patterns("outbox", "archive"))
    r = run_case(
        "intake_history",
        {
            "home": home,
            "root": str(root / "work"),
            "period": info["period"],
            "months": months,
            "returns": min(units, plan.history_returns),
            "warmup": plan.history_warmup,
        },
        work,
        1800,
    )
    shutil.rmtree(root, ignore_errors=True)
    log(
        f"intake with {r['returns_on_record']} returns on record: median "
        f"{report.median(r['history_ms']):.1f} ms (empty ledger "
        f"{report.median(r['empty_ms']):.1f} ms)"
    )
    return {**r, "units": units, "months": months}


def measure_commands(plan: Plan, work: Path, homes: dict) -> dict:
    """``sequin report --period P`` and ``sequin process FILE`` as commands, each run a
    fresh process timed by the wall clock."""
    return {
        "report": measure_report_command(plan, work, homes),
        "process": measure_process_command(plan, work, homes),
    }


def measure_report_command(plan: Plan, work: Path, homes: dict) -> list[dict]:
    """``sequin report --period P`` for each size of ``plan.report_command``."""
    out = []
    for units, months, runs in plan.report_command:
        info = homes[(units, months)]
        r = run_case(
            "report_command",
            {"home": info["home"], "period": info["period"], "runs": runs},
            work,
            3600,
        )
        log(
            f"sequin report, {units} x {months}: median {report.median(r['command_s']):.2f} s "
            f"over {runs} runs"
        )
        out.append({**r, "units": units, "months": months})
    return out


def measure_process_command(plan: Plan, work: Path, homes: dict) -> dict:
    """``sequin process FILE`` of one new return, with and without ``--no-outputs``."""
    units, months, runs = plan.process
    info = homes[(units, months)]
    root = _fresh(work, "process-command")
    r = run_case(
        "process_command",
        {
            "source": info["home"],
            "root": str(root),
            "period": info["period"],
            "month_index": months - 1,
            "runs": runs,
        },
        work,
        1800,
    )
    shutil.rmtree(root)
    log(
        f"sequin process, {units} x {months}: with outputs median "
        f"{report.median(r['with_outputs_s']):.2f} s"
        + (f"; skipped without: {r['skipped']}" if r["skipped"] else "")
    )
    return {**r, "units": units, "months": months}


def measure_floor(plan: Plan, work: Path, homes: dict) -> list[dict]:
    """What XlsxWriter and matplotlib alone cost for the months the commands rebuild."""
    out = []
    for units, months, _runs in plan.report_command:
        info = homes[(units, months)]
        r = run_case("library_floor", {"home": info["home"], "period": info["period"]}, work, 1800)
        t = report.library_totals(r)
        log(
            f"libraries alone, {units} x {months}: {t['library_cpu_s']:.2f} s of CPU "
            f"({t['per_core_s']:.2f} s on {r['cores']} cores)"
        )
        out.append({**r, "units": units, "months": months})
    return out


def measure_watcher(
    plan: Plan, work: Path, setup: dict, polls: tuple[float | None, ...] | None = None
) -> list[dict]:
    """Watcher latency with native events, then with polling (or as ``polls`` says)."""
    files = setup["files"][: plan.watcher_files]
    out = []
    for poll in (None, plan.poll) if polls is None else polls:
        root = _fresh(work, f"watcher-{'poll' if poll else 'native'}")
        r = run_case(
            "watcher",
            {
                "template": setup["template"],
                "root": str(root),
                "files": files,
                "warmup": plan.watcher_warmup,
                "poll": poll,
            },
            work,
            1800,
        )
        shutil.rmtree(root)
        lat = r["latency_s"][plan.watcher_warmup :]
        log(
            f"watcher ({'poll' if poll else 'native'}): median {report.median(lat):.2f} s over {len(lat)} files"
        )
        out.append(r)
    return out


def measure_watcher_busy(plan: Plan, work: Path, info: dict) -> dict:
    """Watcher latency for returns arriving while a large month's outputs are rebuilt."""
    units, months, files, warmup = plan.busy
    root = _fresh(work, "watcher-busy")
    r = run_case(
        "watcher_busy",
        {
            "source": info["home"],
            "root": str(root),
            "period": info["period"],
            "month_index": months - 1,
            "files": files,
            "warmup": warmup,
            "gap": plan.busy_gap,
        },
        work,
        3600,
    )
    shutil.rmtree(root)
    lat = r["latency_s"][warmup:]
    log(
        f"watcher ({units} units x {months} months, busy): median {report.median(lat):.2f} s "
        f"over {len(lat)} files"
    )
    return {**r, "units": units, "months": months}


def measure_in_turn(plan: Plan, work: Path, attempt, results: dict, probes: list) -> None:
    """Every measurement, one after another, with a speed probe between the stages."""
    gen = attempt("generation", measure_generation, plan, work)
    probes.append(("after generation", speed_probe()))
    if gen is not None:
        results["generation"] = gen
    intake = attempt("intake", measure_intake, plan, work)
    setup = None
    if intake is not None:
        results["intake"], setup = intake
    probes.append(("after intake", speed_probe()))
    rep = attempt("reporting", measure_reporting, plan, work)
    probes.append(("after reporting", speed_probe()))
    homes = rep.pop("homes") if rep is not None else {}
    if rep is not None:
        results["reporting"] = rep
        commands = attempt("commands", measure_commands, plan, work, homes)
        if commands is not None:
            results["commands"] = commands
        floor = attempt("library floor", measure_floor, plan, work, homes)
        if floor is not None:
            results["floor"] = floor
        probes.append(("after the commands", speed_probe()))
    if setup is not None:
        watch = attempt("watcher latency", measure_watcher, plan, work, setup)
        if watch is not None:
            results["watcher"] = watch
    else:
        results["errors"].append("watcher latency: not measured (no returns made)")
    if plan.busy[:2] in homes:
        busy = attempt(
            "watcher latency while rebuilding outputs",
            measure_watcher_busy,
            plan,
            work,
            homes[plan.busy[:2]],
        )
        if busy is not None:
            results["watcher_busy"] = busy
    else:
        results["errors"].append(
            "watcher latency while rebuilding outputs: not measured (no ledger)"
        )


def measure_together(plan: Plan, work: Path, attempt, results: dict, jobs: int) -> None:
    """Every measurement as soon as the data it needs is made, up to ``jobs`` processes at once.

    The watcher runs need the returns made for intake; the commands, the library floor
    and the busy watcher need the reporting ledgers (measured first, as they are in turn).
    """
    global _slots
    _slots = threading.BoundedSemaphore(jobs)
    try:
        with ThreadPoolExecutor(max_workers=9) as pool:
            gen = pool.submit(attempt, "generation", measure_generation, plan, work)
            intake = pool.submit(attempt, "intake", measure_intake, plan, work)
            rep = pool.submit(attempt, "reporting", measure_reporting, plan, work)

            def watch(poll):
                made = intake.result()
                if made is None:
                    return None
                return attempt("watcher latency", measure_watcher, plan, work, made[1], (poll,))

            def on_ledgers(label, func, *extra):
                measured = rep.result()
                if measured is None:
                    return None
                return attempt(label, func, plan, work, measured["homes"], *extra)

            def busy():
                homes = rep.result()["homes"] if rep.result() is not None else {}
                if plan.busy[:2] not in homes:
                    return None
                return attempt(
                    "watcher latency while rebuilding outputs",
                    measure_watcher_busy,
                    plan,
                    work,
                    homes[plan.busy[:2]],
                )

            watchers = [pool.submit(watch, poll) for poll in (None, plan.poll)]
            report_cmd = pool.submit(on_ledgers, "commands", measure_report_command)
            process_cmd = pool.submit(on_ledgers, "commands", measure_process_command)
            floor = pool.submit(on_ledgers, "library floor", measure_floor)
            busy_run = pool.submit(busy)
    finally:
        _slots = None
    if gen.result() is not None:
        results["generation"] = gen.result()
    if intake.result() is not None:
        results["intake"] = intake.result()[0]
        if all(w.result() is not None for w in watchers):
            results["watcher"] = [w.result()[0] for w in watchers]
    else:
        results["errors"].append("watcher latency: not measured (no returns made)")
    measured = rep.result()
    homes = measured.pop("homes") if measured is not None else {}
    if measured is not None:
        results["reporting"] = measured
        if report_cmd.result() is not None and process_cmd.result() is not None:
            results["commands"] = {"report": report_cmd.result(), "process": process_cmd.result()}
        if floor.result() is not None:
            results["floor"] = floor.result()
    if busy_run.result() is not None:
        results["watcher_busy"] = busy_run.result()
    elif plan.busy[:2] not in homes:
        results["errors"].append(
            "watcher latency while rebuilding outputs: not measured (no ledger)"
        )


def main(argv: list[str] | None = None) -> int:
    """Run every measurement and write the results; 0 if all ran."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes, to check that the suite works"
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="where to write the results (default BENCHMARKS.md; with --quick a temporary file)",
    )
    parser.add_argument("--json", type=Path, help="also write the raw results as JSON here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data folder")
    parser.add_argument(
        "--jobs",
        type=int,
        default=1,
        metavar="N",
        help="run up to N measurements at once (default 1): quicker, but they then share the "
        "machine, so for checking that the suite works, not for figures to compare",
    )
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    out = args.out
    if out is None:
        if args.quick:
            fd, name = tempfile.mkstemp(prefix="BENCHMARKS-quick-", suffix=".md")
            os.close(fd)
            out = Path(name)
        else:
            out = REPO / "BENCHMARKS.md"
    command = "python -m benchmarks.run" + (" --quick" if args.quick else "")
    command += f" --jobs {args.jobs}" if args.jobs > 1 else ""
    work = Path(tempfile.mkdtemp(prefix="sequin-bench-"))
    started = time.monotonic()
    results: dict = {"errors": []}
    meta = {
        "command": command,
        "date": report.now(),
        "quick": args.quick,
        "jobs": args.jobs,
        "load_start": os.getloadavg()[0],
        "machine": report.machine(work),
    }
    busy_start, ours_start = machine_busy_seconds(), own_cpu_seconds()
    log(f"data in {work}")

    def attempt(label: str, func, *a):
        try:
            return func(*a)
        except CaseFailed as exc:
            log(f"FAILED {label}: {exc}")
            results["errors"].append(f"{label}: {exc}")
            return None

    probes = [("start", speed_probe())]
    try:
        if args.jobs > 1:
            measure_together(plan, work, attempt, results, args.jobs)
        else:
            measure_in_turn(plan, work, attempt, results, probes)
        probes.append(("end", speed_probe()))
    finally:
        if args.keep:
            log(f"data kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    meta["speed_probes"] = probes
    meta["duration_s"] = time.monotonic() - started
    meta["load_end"] = os.getloadavg()[0]
    busy_end, ours_end = machine_busy_seconds(), own_cpu_seconds()
    if busy_start is not None and busy_end is not None:
        mine = ours_end - ours_start
        meta["other_cores"] = max(0.0, (busy_end - busy_start - mine) / meta["duration_s"])
    results["meta"] = meta
    if args.json:
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")
    out.write_text(report.render(results), encoding="utf-8")
    log(f"wrote {out}")
    print(out)
    return 1 if results["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())

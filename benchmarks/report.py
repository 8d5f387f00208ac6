"""The machine description and the Markdown file of results (``BENCHMARKS.md``)."""

from __future__ import annotations

import datetime as dt
import itertools
import math
import os
import platform
import sqlite3
import statistics
import subprocess
from importlib import metadata
from pathlib import Path

PACKAGES = ("openpyxl", "XlsxWriter", "python-calamine", "watchdog", "matplotlib")

# Targets from the issue. Memory is in MiB throughout.
INTAKE_VS_CALAMINE = 3.0  # median intake at most 3 x python-calamine reading every value
INTAKE_VS_EXPAT = 2.0  # and at most 2 x the expat floor
GENERATION_MS = 5.0  # per workbook, on one core
GENERATION_500_S = 3.0  # 500 workbooks
REPORT_SMALL = (15, 24, 1.0)  # units, months, seconds: as a command and in process
REPORT_LARGE = (500, 36, 10.0)
REPORT_LARGE_MB = 500.0  # peak, in MB (10^6 bytes)
GROWTH_UP_TO = (2000, 36)  # growth linear in units up to this size
WATCHER_S = 3.0
MIB_TO_MB = 1024 * 1024 / 1e6

# Column note: how busy the rest of the machine was during the runs.
OTHERS_NOTE = " (mean, max of runs)"


# --- statistics -----------------------------------------------------------------------------


def median(values: list[float]) -> float:
    """The median."""
    return statistics.median(values)


def p90(values: list[float]) -> float:
    """The 90th percentile, nearest rank."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


def exponent(size_a: float, time_a: float, size_b: float, time_b: float) -> float:
    """``k`` in time ~ size^k between two sizes (1 is linear)."""
    return math.log(time_b / time_a) / math.log(size_b / size_a)


# --- machine ----------------------------------------------------------------------------------


def _first(path: str, key: str) -> str:
    """The value of the first line of a ``key: value`` or ``key=value`` file starting with ``key``."""
    try:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                if line.startswith(key):
                    return line.split(":", 1)[1].strip() if ":" in line else line.split("=", 1)[1]
    except OSError:
        pass
    return ""


def _filesystem(path: Path) -> str:
    """The file system type of the mount holding ``path`` (Linux), or ""."""
    best, kind = "", ""
    try:
        with open("/proc/mounts", encoding="utf-8") as fh:
            for line in fh:
                fields = line.split()
                mount = fields[1]
                if str(path).startswith(mount) and len(mount) > len(best):
                    best, kind = mount, fields[2]
    except OSError:
        pass
    return kind


def engine_version(repo: Path) -> str:
    """The repository's commit, and whether the engine has changes not yet committed."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=repo,
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "engine", "cli.py", "workbook_templates"],
            cwd=repo,
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"commit {commit}" + (", with uncommitted changes to the engine" if dirty else "")


def machine(work: Path) -> dict[str, str]:
    """What the figures were measured on."""
    mem_kb = _first("/proc/meminfo", "MemTotal")
    memory = f"{int(mem_kb.split()[0]) / 1024 / 1024:.1f} GiB" if mem_kb else ""
    system = _first("/etc/os-release", "PRETTY_NAME").strip().strip('"')
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 0
    versions = []
    for name in PACKAGES:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name} (not installed)")
    return {
        "Engine": engine_version(Path(__file__).resolve().parent.parent),
        "CPU": _first("/proc/cpuinfo", "model name") or platform.processor() or platform.machine(),
        "Cores": f"{os.cpu_count()} logical, {usable} usable by this process",
        "Memory": memory,
        "Operating system": f"{system or platform.system()}, kernel {platform.release()}",
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
        "SQLite": sqlite3.sqlite_version,
        "Packages": ", ".join(versions),
        "Data folder file system": _filesystem(work) or "unknown",
    }


# --- formatting -------------------------------------------------------------------------------


def _ms(x: float | None) -> str:
    return "-" if x is None else f"{x:.1f} ms" if x < 100 else f"{x:.0f} ms"


def _s(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f} s"


def _mib(x: float | None) -> str:
    return "-" if x is None else f"{x:.0f} MiB"


def _kb(x: float | None) -> str:
    return "-" if x is None else f"{x / 1000:.1f} kB"


def _size(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x / 1e6:.1f} MB" if x >= 1e6 else f"{x / 1000:.1f} kB"


def _cores(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f} cores"


def _others(runs: list[dict]) -> str:
    """How busy the rest of the machine was during these runs, in cores: mean and max (or the one value)."""
    values = [r["other_cores"] for r in runs if r.get("other_cores") is not None]
    if not values:
        return "-"
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{statistics.fmean(values):.2f}, {max(values):.2f}"


def _ratio(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def _yes(ok: bool | None) -> str:
    return "not measured" if ok is None else ("**yes**" if ok else "**no**")


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    """A Markdown table, followed by a blank line."""
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return out + [""]


# --- figures ----------------------------------------------------------------------------------


def _generation_rows(results: dict) -> list[dict]:
    """Per generation size and number of cores: medians over its runs."""
    rows = []
    for g in results.get("generation", []):
        runs = g["runs"]
        total = median([r["seconds"] for r in runs])
        n = runs[0]["workbooks"]
        rows.append(
            {
                "workbooks": n,
                "cores": runs[0].get("cores"),
                "one_core": g.get("cores") == 1,
                "runs": len(runs),
                "total_s": total,
                "per_ms": total / n * 1000,
                "per_min_ms": min(r["seconds"] for r in runs) / n * 1000,
                "per_max_ms": max(r["seconds"] for r in runs) / n * 1000,
                "write_ms": median([r["write_seconds"] for r in runs]) / n * 1000,
                "cpu_ms": median([r["cpu_seconds"] for r in runs]) / n * 1000,
                "peak": max(r["peak_mb"] for r in runs),
                "bytes": runs[0]["mean_bytes"],
                "min_s": min(r["seconds"] for r in runs),
                "max_s": max(r["seconds"] for r in runs),
                "others": _others(runs),
            }
        )
    return rows


def _intake_figures(results: dict) -> dict | None:
    """Per-return times after the warm-up, and the ratios of the medians to the references."""
    intake = results.get("intake")
    if not intake or "steady" not in intake:
        return None
    st = intake["steady"]
    w = st["warmup"]
    out = {
        "returns": len(st["intake_ms"]) - w,
        "warmup": w,
        "intake": st["intake_ms"][w:],
        "calamine": st["calamine_ms"][w:],
        "expat": st["expat_ms"][w:],
        "steady": st,
    }
    out["ratio_calamine"] = median(out["intake"]) / median(out["calamine"])
    out["ratio_expat"] = median(out["intake"]) / median(out["expat"])
    if "batch" in intake:
        b = intake["batch"]
        out["batch_ms"] = b["seconds"] / b["returns"] * 1000
        out["batch"] = b
    return out


def _spread(values: list[float], fmt) -> str:
    """``min / median / max`` of values, each formatted with ``fmt``."""
    if not values:
        return "-"
    return f"{fmt(min(values))} / {fmt(median(values))} / {fmt(max(values))}"


def _report_rows(results: dict) -> list[dict]:
    """Per reporting size: medians over its runs, and time by function."""
    rows = []
    for r in results.get("reporting", {}).get("sizes", []):
        runs = r["runs"]
        if not runs:
            continue
        stages: dict[str, list[float]] = {}
        for run in runs:
            for k, v in run.get("stages_ms", {}).items():
                stages.setdefault(k, []).append(v)
        rows.append(
            {
                "units": r["units"],
                "months": r["months"],
                "returns": r["returns"],
                "n": len(runs),
                "time": median([x["seconds"] for x in runs]),
                "times": [x["seconds"] for x in runs],
                "peaks": [x["peak_mb"] for x in runs],
                "planned": r.get("planned_runs", len(runs)),
                "min": min(x["seconds"] for x in runs),
                "cpu": median([x["cpu_seconds"] for x in runs]),
                "max": max(x["seconds"] for x in runs),
                "peak": max(x["peak_mb"] for x in runs),
                "outputs": runs[0]["outputs"],
                "bytes": runs[0]["bytes"],
                "ledger_bytes": r["ledger_bytes"],
                "stages": {k: median(v) for k, v in stages.items()},
                "others": _others(runs),
            }
        )
    return rows


def _watcher_rows(results: dict) -> list[dict]:
    """Per watcher mode: latency figures after the warm-up."""
    rows = []
    for w in results.get("watcher", []):
        k = w["warmup"]
        lat, ref = w["latency_s"][k:], w["refreshed_s"][k:]
        rows.append(
            {
                "mode": "native events (default)"
                if not w["poll"]
                else f"polling every {w['poll']:g} s (--poll {w['poll']:g})",
                "native": not w["poll"],
                "files": len(lat),
                "warmup": k,
                "median": median(lat),
                "p90": p90(lat),
                "max": max(lat),
                "refreshed": median(ref),
                "watcher_peak": w["watcher_peak_mb"],
                "worker_peak": w["worker_peak_mb"],
                "others": _others([w]),
            }
        )
    return rows


# --- the document -----------------------------------------------------------------------------


def render(results: dict) -> str:
    """The whole of ``BENCHMARKS.md`` from the results of one run."""
    meta = results["meta"]
    gen = _generation_rows(results)
    intake = _intake_figures(results)
    reports = _report_rows(results)
    watch = _watcher_rows(results)
    lines = [
        "# SeQuIn engine benchmarks",
        "",
        (
            f"Generated by `{meta['command']}` on {meta['date']} in {meta['duration_s'] / 60:.1f} minutes. "
            "Every figure below comes from that one run; run the same command to regenerate this file."
        ),
        "",
        (
            "Each measurement runs in a fresh process. Times are wall-clock medians over repeated runs "
            "or files; CPU time, where shown, is the measuring process's own user + system time; "
            "other work is the CPU time of every other process on the machine during a measurement "
            "divided by its wall time (2.00 would be both cores kept busy by other work); "
            "peak memory is the measuring process's peak resident set (`VmHWM`), in MiB. All data is "
            "synthetic, made by the engine: workbooks generated, then filled in and saved the way a "
            "spreadsheet application saves them (shared strings)."
        ),
        "",
    ]
    if meta.get("quick"):
        lines += [
            (
                "**Quick run (`--quick`): tiny sizes, for checking that the suite works; the "
                "figures are not comparable with the targets.**"
            ),
            "",
        ]
    if meta.get("jobs", 1) > 1:
        lines += [
            (
                f"**Up to {meta['jobs']} measurements ran at once (`--jobs {meta['jobs']}`): each "
                "shared the machine with the others, so no figure stands for the engine alone.**"
            ),
            "",
        ]
    if results.get("errors"):
        lines += (
            ["**Some measurements failed:**", ""] + [f"- {e}" for e in results["errors"]] + [""]
        )

    lines += ["## Machine", ""]
    rows = [[k, v] for k, v in meta["machine"].items()]
    rows.append(
        [
            "Load average (1 min) at start / end",
            f"{meta['load_start']:.2f} / {meta['load_end']:.2f}",
        ]
    )
    rows.append(
        [
            "Other work on the machine during the run (CPU time of other processes / wall time)",
            _cores(meta.get("other_cores")),
        ]
    )
    if meta.get("speed_probes"):
        rows.append(
            [
                (
                    "Speed probe: a fixed CPU workload in the driving process, lower is faster "
                    "(at start, after each section, at the end)"
                ),
                ", ".join(f"{label} {value:.0f} ms" for label, value in meta["speed_probes"]),
            ]
        )
    lines += _table(["", ""], rows)

    lines += ["## Targets", ""]
    lines += [
        (
            "One line per target of the issue. Figure: min / median / max over the runs or files; the "
            "verdict is on the median. The reference is measured in the same run (for intake, "
            "interleaved with it on the same files); the ratio is the figure's median over the limit."
        ),
        "",
    ]
    lines += _table(
        [
            "Target",
            "Figure (min / median / max)",
            "Limit",
            "Reference in this run",
            "Ratio",
            "Meets target",
        ],
        _target_rows(results, gen, intake, reports, watch),
    )

    lines += _generation_section(gen)
    lines += _intake_section(intake, results)
    lines += _reporting_section(reports, results)
    lines += _watcher_section(watch, _busy_row(results))
    lines += _ledger_section(intake, reports)
    return "\n".join(lines).rstrip() + "\n"


def _target_rows(results, gen, intake, reports, watch) -> list[list[str]]:
    """One row per target of the issue: figure (min / median / max), limit, the reference
    measured in the same run, ratio, and whether the target is met."""
    rows = []
    if intake:
        i, c, x = median(intake["intake"]), median(intake["calamine"]), median(intake["expat"])
        n = intake["returns"]
        rows.append(
            [
                (
                    f"Intake of one return (`Intake.process`), median over {n} returns, at most "
                    f"{INTAKE_VS_CALAMINE:g} x python-calamine reading every value (interleaved)"
                ),
                _spread(intake["intake"], _ms),
                f"{INTAKE_VS_CALAMINE:g} x {_ms(c)} = {_ms(INTAKE_VS_CALAMINE * c)}",
                f"python-calamine {_spread(intake['calamine'], _ms)}",
                _ratio(i / c),
                _yes(i / c <= INTAKE_VS_CALAMINE),
            ]
        )
        rows.append(
            [
                (
                    f"Intake of one return, median over {n} returns, at most {INTAKE_VS_EXPAT:g} x "
                    "the expat floor (inflating and parsing the parts a reader needs; interleaved)"
                ),
                _spread(intake["intake"], _ms),
                f"{INTAKE_VS_EXPAT:g} x {_ms(x)} = {_ms(INTAKE_VS_EXPAT * x)}",
                f"expat floor {_spread(intake['expat'], _ms)}",
                _ratio(i / x),
                _yes(i / x <= INTAKE_VS_EXPAT),
            ]
        )
    else:
        rows.append(["Intake of one return against its references", "-", "-", "-", "-", _yes(None)])

    one = next((g for g in gen if g["one_core"] and g["workbooks"] == 500), None)
    one = one or next((g for g in gen if g["one_core"]), None)
    rows.append(
        [
            (
                f"Generation: at most {GENERATION_MS:g} ms per workbook on one core"
                + (
                    f" ({one['workbooks']} workbooks, {one['runs']} run{'s' if one['runs'] != 1 else ''})"
                    if one
                    else ""
                )
            ),
            f"{_ms(one['per_min_ms'])} / {_ms(one['per_ms'])} / {_ms(one['per_max_ms'])}"
            if one
            else "-",
            f"{GENERATION_MS:g} ms",
            f"writing the file {_ms(one['write_ms'])} per workbook" if one else "-",
            _ratio(one["per_ms"] / GENERATION_MS) if one else "-",
            _yes(one["per_ms"] <= GENERATION_MS if one else None),
        ]
    )
    g500 = next((g for g in gen if g["workbooks"] == 500 and not g["one_core"]), None)
    rows.append(
        [
            f"Generation: 500 workbooks in under {GENERATION_500_S:g} s (every core)",
            f"{_s(g500['min_s'])} / {_s(g500['total_s'])} / {_s(g500['max_s'])}" if g500 else "-",
            f"{GENERATION_500_S:g} s",
            f"writing the 500 files {_s(g500['write_ms'] * 500 / 1000)}" if g500 else "-",
            _ratio(g500["total_s"] / GENERATION_500_S) if g500 else "-",
            _yes(g500["total_s"] < GENERATION_500_S if g500 else None),
        ]
    )

    commands = {(c["units"], c["months"]): c for c in results.get("commands", {}).get("report", [])}
    units, months, limit = REPORT_SMALL
    c = commands.get((units, months))
    rows.append(
        [
            (
                f"Reporting as a command: `sequin report --period P` in a fresh process, wall clock, "
                f"{units} units x {months} months, under {limit:g} s"
            ),
            _spread(c["command_s"], _s) if c else "-",
            f"{limit:g} s",
            f"`sequin --version` {_spread(c['reference_s'], _s)}"
            + _floor_text(results, units, months)
            if c
            else "-",
            _ratio(median(c["command_s"]) / limit) if c else "-",
            _yes(median(c["command_s"]) < limit if c else None),
        ]
    )
    for units, months, limit in (REPORT_SMALL, REPORT_LARGE):
        r = next((x for x in reports if (x["units"], x["months"]) == (units, months)), None)
        rows.append(
            [
                (
                    f"Reporting in process: `build_period`, {units} units x {months} months, "
                    f"under {limit:g} s"
                ),
                _spread(r["times"], _s) if r else "-",
                f"{limit:g} s",
                f"writing the output files (`write_atomic`) {_s(r['stages'].get('write_atomic', 0) / 1000)}"
                + _floor_text(results, units, months)
                if r
                else "-",
                _ratio(r["time"] / limit) if r else "-",
                _yes(r["time"] < limit if r else None),
            ]
        )
    r = next((x for x in reports if (x["units"], x["months"]) == REPORT_LARGE[:2]), None)
    small = next((x for x in reports if (x["units"], x["months"]) == REPORT_SMALL[:2]), None)
    rows.append(
        [
            (
                f"Reporting: peak memory under {REPORT_LARGE_MB:g} MB, {REPORT_LARGE[0]} units x "
                f"{REPORT_LARGE[1]} months"
            ),
            _spread([p * MIB_TO_MB for p in r["peaks"]], _mb) if r else "-",
            f"{REPORT_LARGE_MB:g} MB",
            f"{REPORT_SMALL[0]} x {REPORT_SMALL[1]}: {_mb(small['peak'] * MIB_TO_MB)}"
            if small
            else "-",
            _ratio(r["peak"] * MIB_TO_MB / REPORT_LARGE_MB) if r else "-",
            _yes(r["peak"] * MIB_TO_MB < REPORT_LARGE_MB if r else None),
        ]
    )
    growth = _growth(reports)
    reached = any((x["units"], x["months"]) == GROWTH_UP_TO for x in reports)
    if growth:
        worst = max(growth, key=lambda g: g["exponent"])
        series = ", ".join(f"{x['units']}" for x in _growth_series(reports))
        rows.append(
            [
                (
                    f"Reporting: growth linear in units up to {GROWTH_UP_TO[0]} units x "
                    f"{GROWTH_UP_TO[1]} months (largest exponent k in time ~ units^k between "
                    f"consecutive sizes of {series} units x {worst['to']['months']} months; here "
                    f"{worst['from']['units']} to {worst['to']['units']})"
                    + ("" if reached else f"; {GROWTH_UP_TO[0]} units not measured")
                ),
                f"k = {worst['low']:.2f} / {worst['exponent']:.2f} / {worst['high']:.2f}",
                "k = 1",
                "-",
                _ratio(worst["exponent"]),
                _linear(worst) if reached else _yes(None),
            ]
        )
    else:
        rows.append(
            [
                f"Reporting: growth linear in units up to {GROWTH_UP_TO[0]} x {GROWTH_UP_TO[1]}",
                "-",
                "k = 1",
                "-",
                "-",
                _yes(None),
            ]
        )
    proc = results.get("commands", {}).get("process")
    if proc:
        with_o, without = proc["with_outputs_s"], proc["no_outputs_s"]
        rows.append(
            [
                (
                    f"`sequin process FILE` of one return ({proc['units']} units x "
                    f"{proc['months']} months on record), with the month's outputs rebuilt / "
                    "with `--no-outputs` (measured; no limit set)"
                ),
                f"{_spread(with_o, _s)} / "
                + (_spread(without, _s) if without else f"skipped: {proc['skipped']}"),
                "-",
                "-",
                _ratio(median(with_o) / median(without)) if without else "-",
                "-",
            ]
        )
    h = results.get("reporting", {}).get("history")
    if h:
        rows.append(
            [
                (
                    f"Intake of one return with {h['returns_on_record']:,} returns on record "
                    f"(the {h['units']} units x {h['months']} months ledger, "
                    f"{_size(h['ledger_bytes'])}), median over {len(h['history_ms'])} returns "
                    "(measured; no limit set: it should not grow with the ledger)"
                ),
                _spread(h["history_ms"], _ms),
                "-",
                f"the same returns into an empty ledger {_spread(h['empty_ms'], _ms)}",
                _ratio(median(h["history_ms"]) / median(h["empty_ms"])),
                "-",
            ]
        )
    return rows


def _mb(x: float | None) -> str:
    return "-" if x is None else f"{x:.0f} MB"


def _generation_section(gen: list[dict]) -> list[str]:
    """The generation section."""
    lines = [
        "## Generation",
        "",
        (
            "`engine.generation.generate()`: one month's workbooks for a network of that many units, "
            "written to the outbox (each file forced to disk). Median of the runs; each run is a "
            "fresh process. On one core: the process (and the helper processes it starts) may run "
            "on the first usable core only (`sched_setaffinity`)."
        ),
        "",
    ]
    rows = [
        [
            g["workbooks"],
            "one" if g["one_core"] else f"every ({g['cores']})",
            g["runs"],
            _s(g["total_s"]),
            f"{_s(g['min_s'])} / {_s(g['max_s'])}",
            _ms(g["per_ms"]),
            _ms(g["cpu_ms"]),
            _ms(g["write_ms"]),
            _kb(g["bytes"]),
            _mib(g["peak"]),
            g["others"],
            f"{GENERATION_MS:g} ms" if g["one_core"] else "-",
            _yes(g["per_ms"] <= GENERATION_MS) if g["one_core"] else "-",
        ]
        for g in gen
    ]
    lines += _table(
        [
            "Workbooks",
            "Cores",
            "Runs",
            "Total",
            "Min / max",
            "Per workbook",
            "CPU time per workbook",
            "Writing the file",
            "Workbook size",
            "Peak memory",
            f"Other work, cores{OTHERS_NOTE}",
            "Target per workbook (one core)",
            "Meets target",
        ],
        rows,
    )
    return lines


def _intake_section(intake: dict | None, results: dict) -> list[str]:
    """The intake section."""
    lines = ["## Intake per return", ""]
    if not intake:
        return lines + ["Not measured.", ""]
    st = intake["steady"]
    lines += [
        (
            f"{intake['returns']} returns ({intake['warmup']} more before them as warm-up, not counted), "
            f"each {_kb(st['mean_return_bytes'])}, every one accepted. In one process and one loop, "
            "interleaved on the same file: python-calamine opens it and reads every sheet's values "
            "(`CalamineWorkbook.from_path`, then `get_sheet_by_name(name).to_python()` for each sheet); "
            "the expat floor inflates (`zipfile`) and parses with `xml.parsers.expat` only the parts a "
            "reader needs (`xl/workbook.xml`, its relationships, `xl/sharedStrings.xml` and every "
            "worksheet), collecting each cell's value with a tiny handler; then `Intake.process` takes "
            "it from the inbox to its outcome: pre-check, read (in the reusable worker process), "
            "checks, score, ledger record, archive and receipt. The watcher's wait for a complete "
            "file is not included."
        ),
        "",
    ]
    rows = [
        [
            "`Intake.process`, end to end",
            _spread(intake["intake"], _ms),
            _ms(p90(intake["intake"])),
            "1.00",
            "-",
        ],
        [
            "python-calamine: open + every sheet's values",
            _spread(intake["calamine"], _ms),
            _ms(p90(intake["calamine"])),
            _ratio(intake["ratio_calamine"]),
            f"at most {INTAKE_VS_CALAMINE:g}: {_yes(intake['ratio_calamine'] <= INTAKE_VS_CALAMINE)}",
        ],
        [
            "expat floor: inflate + parse the parts a reader needs",
            _spread(intake["expat"], _ms),
            _ms(p90(intake["expat"])),
            _ratio(intake["ratio_expat"]),
            f"at most {INTAKE_VS_EXPAT:g}: {_yes(intake['ratio_expat'] <= INTAKE_VS_EXPAT)}",
        ],
    ]
    lines += _table(
        [
            "Per return",
            "Min / median / max",
            "p90",
            "Intake / this (medians)",
            "Target for the ratio",
        ],
        rows,
    )
    if "batch" in intake:
        b = intake["batch"]
        lines += [
            (
                f"Batch throughput: `Intake.process_many` over {b['returns']} returns already in the inbox "
                "(the worker reads the next file while the engine records the previous one):"
            ),
            "",
        ]
        lines += _table(
            [
                "Per return",
                "Intake / python-calamine",
                "Intake / expat floor",
                "Engine peak memory",
                "Worker peak memory",
            ],
            [
                [
                    _ms(intake["batch_ms"]),
                    _ratio(intake["batch_ms"] / median(intake["calamine"])),
                    _ratio(intake["batch_ms"] / median(intake["expat"])),
                    _mib(b["peak_mb"]),
                    _mib(b["worker_peak_mb"]),
                ]
            ],
        )
    lines += [
        (
            f"Peak memory of the loop above (engine, python-calamine and the expat floor in one "
            f"process): {_mib(st['peak_mb'])}; its worker: {_mib(st['worker_peak_mb'])}. Other work on "
            f"the machine meanwhile, in cores: {_others([st])} during the loop, "
            f"{_others([intake['batch']]) if 'batch' in intake else '-'} during the batch."
        ),
        "",
    ]
    lines += _breakdown(results.get("intake", {}).get("breakdown"))
    return lines


BREAKDOWN = (
    (
        "precheck",
        "Pre-check, keeping the parts it inflated (`engine.precheck.precheck_parts`)",
        "worker",
    ),
    ("read", "Read from those parts (`engine.xlsx_fast.read_return_parts`)", "worker"),
    (
        "worker",
        "Worker round trip: submit to answer (pre-check + read + JSON over a pipe)",
        "engine",
    ),
    ("checks", "Checks against the template (`check_return`)", "engine"),
    ("score", "Score", "engine"),
    ("hash", "SHA-256 of the file", "engine"),
    ("lookup", "Duplicate look-up in the ledger", "engine"),
    ("rows", "Ledger rows written (`Ledger.record`, before the commit)", "engine"),
    ("commit", "Ledger commit (forced to disk, `synchronous=FULL`)", "engine"),
    ("archive_write", "Archive copy (written and forced to disk)", "engine"),
    ("receipt_write", "Receipt written", "engine"),
    ("mark_done", "Drop marked done", "engine"),
    ("finish_other", "Rest of archiving (moving the original out of the inbox)", "engine"),
    ("other", "Everything else in `Intake.process`", "engine"),
    ("total", "`Intake.process`, end to end", "engine"),
)
ENGINE_STAGES = ("worker", "checks", "score", "hash", "lookup", "rows", "commit", "finish")


def _breakdown(b: dict | None) -> list[str]:
    """The table of where one return's time goes."""
    lines = ["### Where the time of one return goes", ""]
    if not b:
        return lines + ["Not measured.", ""]
    files = b["files"][b["warmup"] :]
    for f in files:
        f["rows"] = f.get("record", 0) - f.get("commit_in_record", 0)
        f["finish_other"] = (
            f.get("finish", 0)
            - f.get("archive_write", 0)
            - f.get("receipt_write", 0)
            - f.get("mark_done", 0)
        )
        f["other"] = f["total"] - sum(f.get(k, 0) for k in ENGINE_STAGES)
    total = median([f["total"] for f in files])
    lines += [
        (
            f"Timed separately on the same {len(files)} files (after {b['warmup']} warm-up files), each "
            "stage by wrapping the function the pipeline calls. The pre-check and the read run in the worker "
            "process; they are timed here by calling them directly on each file, and the engine waits for "
            "them inside the worker round trip. Shares are of the end-to-end median."
        ),
        "",
    ]
    rows = []
    for key, label, where in BREAKDOWN:
        values = [f.get(key, 0.0) for f in files]
        rows.append(
            [
                label,
                where,
                _ms(median(values)),
                _ms(p90(values)),
                f"{median(values) / total * 100:.0f} %",
            ]
        )
    fs = b["fsync_ms"][b["warmup"] :]
    rows.append(
        [
            "Reference: writing a file of the same size and forcing it to disk",
            "-",
            _ms(median(fs)),
            _ms(p90(fs)),
            "-",
        ]
    )
    lines += _table(["Stage", "Process", "Median", "p90", "Share"], rows)
    return lines


def _growth_series(reports: list[dict]) -> list[dict]:
    """The sizes growth is measured on: those with the most months, by units."""
    if not reports:
        return []
    months = max(r["months"] for r in reports)
    return sorted((r for r in reports if r["months"] == months), key=lambda r: r["units"])


def _growth(reports: list[dict]) -> list[dict]:
    """Time and memory growth in units between consecutive sizes of the same months."""
    out = []
    for a, b in itertools.pairwise(_growth_series(reports)):
        sa, sb = a["units"], b["units"]
        if sb > sa:
            out.append(
                {
                    "from": a,
                    "to": b,
                    "size": sb / sa,
                    "time": b["time"] / a["time"],
                    "exponent": exponent(sa, a["time"], sb, b["time"]),
                    "low": exponent(sa, a["max"], sb, b["min"]),
                    "high": exponent(sa, a["min"], sb, b["max"]),
                    "memory": exponent(sa, a["peak"], sb, b["peak"]),
                }
            )
    return out


def _linear(g: dict) -> str:
    """Whether one step grows no faster than linearly, with the runs' spread taken into account.

    Yes when the exponent of the medians is at most 1; no when even the most
    favourable pairing of runs (slowest smaller size, fastest larger size)
    gives more than 1; otherwise the medians say more than 1 but the runs'
    spread includes 1.
    """
    if g["exponent"] <= 1.0:
        return _yes(True)
    if g["low"] > 1.0:
        return _yes(False)
    return f"**within the runs' spread** (k from {g['low']:.2f} to {g['high']:.2f})"


def _reporting_section(reports: list[dict], results: dict) -> list[str]:
    """The reporting section."""
    lines = ["## Reporting", ""]
    if not reports:
        return lines + ["Not measured.", ""]
    fill = results.get("reporting", {}).get("fill", {})
    lines += [
        (
            "`engine.outputs.build_period()` for the last month on record: every output of that month "
            "(network, commissioner and easy-read workbooks, one feedback workbook per unit, chart "
            "images) rebuilt from the ledger, the month's outbox folder removed first. Each run is a "
            "fresh process. The ledgers hold one accepted return per unit per month, each checked, "
            "scored and recorded by the engine (answers as the reader gives them for filled workbooks; "
            f"{fill.get('filled', 0)} returns recorded in {_s(fill.get('seconds'))}, the smaller ledgers "
            "copied out of the largest, their units chosen by number)."
            + (
                f" To keep the largest ledger quick to make, only the first {fill['checked_units']} "
                "units of each month are checked and scored one by one; each unit beyond them is "
                f"recorded with the checked return of the unit {fill['checked_units']} places before "
                "it (same answers and scores, under its own code), rows of its own all the same. "
                f"Ledgers of up to {fill['checked_units']} units are unaffected."
                if fill.get("checked_units")
                else ""
            )
            + (
                " Sizes with fewer runs than the others: "
                + ", ".join(
                    f"{r['units']} x {r['months']} ({r['n']} runs)"
                    for r in reports
                    if r["n"] < max(x["n"] for x in reports)
                )
                + " (fewer planned, each of these runs taking long; and a size stops repeating "
                f"once its runs have taken "
                f"{results.get('reporting', {}).get('budget_s', 180):g} s, after two runs or "
                "after one that alone took that long)."
                if any(r["n"] < max(x["n"] for x in reports) for r in reports)
                else ""
            )
        ),
        "",
    ]
    rows = []
    for r in reports:
        limit = next(
            (
                lim
                for u, m, lim in (REPORT_SMALL, REPORT_LARGE)
                if (u, m) == (r["units"], r["months"])
            ),
            None,
        )
        large = (r["units"], r["months"]) == REPORT_LARGE[:2]
        meets = (
            None
            if limit is None
            else r["time"] < limit and (not large or r["peak"] * MIB_TO_MB < REPORT_LARGE_MB)
        )
        target = (
            "-"
            if limit is None
            else f"< {limit:g} s" + (f", < {REPORT_LARGE_MB:g} MB" if large else "")
        )
        rows.append(
            [
                f"{r['units']} x {r['months']}",
                r["returns"],
                r["n"],
                _s(r["time"]),
                f"{_s(r['min'])} / {_s(r['max'])}",
                _s(r["cpu"]),
                _mib(r["peak"]),
                f"{r['time'] * 1000 / (r['units'] * r['months']):.2f} ms",
                r["outputs"],
                f"{r['bytes'] / 1e6:.1f} MB",
                r["others"],
                target,
                "-" if meets is None else _yes(meets),
            ]
        )
    lines += _table(
        [
            "Units x months",
            "Returns on record",
            "Runs",
            "Median",
            "Min / max",
            "CPU time",
            "Peak memory",
            "Per unit-month",
            "Output files",
            "Output size",
            f"Other work, cores{OTHERS_NOTE}",
            "Target",
            "Meets target",
        ],
        rows,
    )
    names = sorted({k for r in reports for k in r["stages"]})
    if names:
        lines += [
            (
                "Time inside `build_period` by function (median of the runs; `write_atomic` is the "
                "writing of every output file):"
            ),
            "",
        ]
        lines += _table(
            ["Units x months"] + [f"`{n}`" for n in names],
            [
                [f"{r['units']} x {r['months']}"]
                + [_s(r["stages"].get(n, 0) / 1000) for n in names]
                for r in reports
            ],
        )
    lines += _commands_section(results.get("commands"))
    lines += _floor_section(results.get("floor"))
    lines += ["### Growth", ""]
    growth = _growth(reports)
    if not growth:
        return lines + ["Only one size measured.", ""]
    lines += [
        (
            "Exponent k in time ~ units^k between consecutive sizes with the same number of months "
            f"({growth[0]['from']['months']}), from the medians: 1 is linear, below 1 slower than "
            "linear. The range pairs the slowest run of the smaller size with the fastest of the "
            "larger, and the other way round."
        ),
        "",
    ]
    lines += _table(
        [
            "From",
            "To",
            "Units ratio",
            "Time ratio",
            "Exponent k (time)",
            "k from the runs' spread",
            "Exponent (peak memory)",
            "No faster than linear",
        ],
        [
            [
                f"{g['from']['units']} x {g['from']['months']}",
                f"{g['to']['units']} x {g['to']['months']}",
                f"{g['size']:.2f}",
                f"{g['time']:.2f}",
                f"{g['exponent']:.2f}",
                f"{g['low']:.2f} to {g['high']:.2f}",
                f"{g['memory']:.2f}",
                _linear(g),
            ]
            for g in growth
        ],
    )
    return lines


def library_totals(f: dict) -> dict:
    """One size's library floor with its total and its share per core."""
    total = f["xlsxwriter_close_cpu_s"] + f["matplotlib_import_cpu_s"] + f["images_cpu_s"]
    return {**f, "library_cpu_s": total, "per_core_s": total / f["cores"]}


def _floor_of(results: dict, units: int, months: int) -> dict | None:
    """The library floor measured for one size, with its totals."""
    f = next(
        (x for x in results.get("floor") or [] if (x["units"], x["months"]) == (units, months)),
        None,
    )
    return None if f is None else library_totals(f)


def _floor_text(results: dict, units: int, months: int) -> str:
    f = _floor_of(results, units, months)
    if f is None:
        return ""
    return (
        f"; XlsxWriter and matplotlib alone: {_s(f['library_cpu_s'])} of CPU, "
        f"{_s(f['per_core_s'])} on {f['cores']} cores"
    )


def _floor_section(floor: list[dict] | None) -> list[str]:
    """What XlsxWriter and matplotlib alone cost for a month's outputs (CPU seconds)."""
    lines = ["### What the libraries alone cost", ""]
    if not floor:
        return lines + ["Not measured.", ""]
    lines += [
        (
            "In a fresh process, one workbook after another, every workbook of the month is built "
            "as `build_period` builds it, and the CPU time spent inside XlsxWriter's "
            "`Workbook.close()` (turning what was written into the file's parts and zipping them) "
            "is added up; then the key charts are drawn as PNG images, after importing matplotlib "
            "(timed on its own). No engine code can take that work away while XlsxWriter writes "
            "these workbooks and matplotlib draws these charts, and it does not yet count the "
            "XlsxWriter calls that write each cell, chart and format. Divided by the cores, it is "
            "a lower bound on building the month on this machine with these libraries."
        ),
        "",
    ]
    limits = {(u, m): lim for u, m, lim in (REPORT_SMALL, REPORT_LARGE)}
    rows = []
    for f in floor:
        g = library_totals(f)
        limit = limits.get((f["units"], f["months"]))
        rows.append(
            [
                f"{f['units']} x {f['months']}",
                f"{f['workbooks']}",
                _s(f["books_cpu_s"]),
                _s(f["xlsxwriter_close_cpu_s"]),
                _s(f["matplotlib_import_cpu_s"]),
                f"{f['images']}: {_s(f['images_cpu_s'])}",
                _s(g["library_cpu_s"]),
                f"{_s(g['per_core_s'])} on {f['cores']}",
                "-" if limit is None else f"< {limit:g} s",
                "-" if limit is None else _yes(g["per_core_s"] < limit),
            ]
        )
    lines += _table(
        [
            "Units x months",
            "Workbooks",
            "Building them, CPU",
            "of which XlsxWriter `close()`",
            "Importing matplotlib",
            "PNG charts drawn",
            "Libraries alone, CPU",
            "Divided by the cores",
            "Target (whole month)",
            "Target still reachable",
        ],
        rows,
    )
    return lines


def _commands_section(commands: dict | None) -> list[str]:
    """The commands: ``sequin report`` and ``sequin process`` in fresh processes."""
    lines = ["### As commands", ""]
    if not commands:
        return lines + ["Not measured.", ""]
    lines += [
        (
            "`sequin report --period P --home HOME` (the repository's `cli.py`) in a fresh process, "
            "timed by the wall clock from start to exit, the month's outbox folder removed before "
            "each run; interleaved with the reference, `sequin --version` in a fresh process (starting "
            "Python and the command line). Peak memory: the largest of the command processes."
        ),
        "",
    ]
    rows = []
    for c in commands.get("report", []):
        limit = next(
            (lim for u, m, lim in (REPORT_SMALL,) if (u, m) == (c["units"], c["months"])), None
        )
        rows.append(
            [
                f"{c['units']} x {c['months']}",
                len(c["command_s"]),
                _spread(c["command_s"], _s),
                _spread(c["reference_s"], _s),
                _mib(c.get("children_peak_mb")),
                "-" if limit is None else f"< {limit:g} s",
                "-" if limit is None else _yes(median(c["command_s"]) < limit),
            ]
        )
    lines += _table(
        [
            "Units x months",
            "Runs",
            "`sequin report`, min / median / max",
            "`sequin --version`, min / median / max",
            "Peak memory",
            "Target",
            "Meets target",
        ],
        rows,
    )
    proc = commands.get("process")
    if proc:
        lines += [
            (
                f"`sequin process --home HOME FILE` of one new return in a fresh process, wall clock, "
                f"on a copy of the {proc['units']} units x {proc['months']} months ledger (its outputs "
                "taken as up to date): each run takes in a return for the last month on record, "
                "superseding that unit's; with outputs the command then rebuilds that month's outputs, "
                "with `--no-outputs` it does not. The two kinds alternate."
            ),
            "",
        ]
        rows = [
            [
                "with the month's outputs",
                len(proc["with_outputs_s"]),
                _spread(proc["with_outputs_s"], _s),
            ]
        ]
        if proc["no_outputs_s"]:
            rows.append(
                ["`--no-outputs`", len(proc["no_outputs_s"]), _spread(proc["no_outputs_s"], _s)]
            )
        else:
            rows.append(["`--no-outputs`", 0, f"skipped: {proc['skipped']}"])
        lines += _table(["`sequin process`", "Runs", "Min / median / max"], rows)
    return lines


def _busy_row(results: dict) -> dict | None:
    """Latency figures of the busy watcher run, after its warm-up."""
    b = results.get("watcher_busy")
    if not b:
        return None
    lat = b["latency_s"][b["warmup"] :]
    return {
        "units": b["units"],
        "months": b["months"],
        "files": len(lat),
        "warmup": b["warmup"],
        "gap": b["gap"],
        "median": median(lat),
        "p90": p90(lat),
        "max": max(lat),
        "watcher_peak": b["watcher_peak_mb"],
        "worker_peak": b["worker_peak_mb"],
        "others": _others([b]),
    }


def _watcher_section(watch: list[dict], busy: dict | None) -> list[str]:
    """The watcher section."""
    lines = ["## Watcher latency", ""]
    if not watch:
        return lines + ["Not measured.", ""]
    lines += [
        (
            "The real `sequin watch` (`python cli.py watch --home HOME`, default settings; the polling run "
            "adds `--poll 1`, since the command's polling has no default interval) on a fresh home. Each "
            "file is copied into the inbox under a hidden temporary name and renamed, so it is complete "
            "when it appears; the latency runs from the rename to its receipt appearing in the inbox "
            "(checked every 20 ms). The next file is dropped after the watcher has rebuilt the month's "
            "outputs, plus a random pause of up to 0.5 s. The first files of each run are warm-up and "
            "not counted (the worker process starts with the first file)."
        ),
        "",
    ]
    rows = [
        [
            w["mode"],
            w["files"],
            w["warmup"],
            _s(w["median"]),
            _s(w["p90"]),
            _s(w["max"]),
            _s(w["refreshed"]),
            _mib(w["watcher_peak"]),
            _mib(w["worker_peak"]),
            w["others"],
            f"< {WATCHER_S:g} s",
            _yes(w["median"] < WATCHER_S)
            + ("" if w["native"] else " (target set for the default)"),
        ]
        for w in watch
    ]
    lines += _table(
        [
            "Mode",
            "Files",
            "Warm-up",
            "Median",
            "p90",
            "Max",
            "Outputs rebuilt (median)",
            "Watcher peak memory",
            "Worker peak memory",
            "Other work, cores",
            "Target (median)",
            "Meets target",
        ],
        rows,
    )
    if busy:
        lines += [
            (
                f"While the outputs are rebuilt: the same command with default settings on a copy of the "
                f"{busy['units']} units x {busy['months']} months reporting ledger (its outputs taken as up "
                "to date). New returns for the last month on record, each superseding that unit's return, "
                f"are dropped one at a time, {busy['gap']:g} s after the previous one's receipt, by when the "
                "watcher is rebuilding that month's outputs for the previous return. The first file is "
                "warm-up and not counted."
            ),
            "",
        ]
        lines += _table(
            [
                "Mode",
                "Files",
                "Warm-up",
                "Median",
                "p90",
                "Max",
                "Watcher peak memory",
                "Worker peak memory",
                "Other work, cores",
                "Target (median)",
                "Meets target",
            ],
            [
                [
                    f"native events (default), {busy['units']} x {busy['months']}, arriving during a rebuild",
                    busy["files"],
                    busy["warmup"],
                    _s(busy["median"]),
                    _s(busy["p90"]),
                    _s(busy["max"]),
                    _mib(busy["watcher_peak"]),
                    _mib(busy["worker_peak"]),
                    busy["others"],
                    f"< {WATCHER_S:g} s",
                    _yes(busy["median"] < WATCHER_S),
                ]
            ],
        )
    return lines


def _ledger_section(intake: dict | None, reports: list[dict]) -> list[str]:
    """The ledger section."""
    lines = [
        "## Ledger size",
        "",
        (
            "Size of `ledger.sqlite` after `PRAGMA wal_checkpoint(TRUNCATE)`, divided by the returns "
            "it holds."
        ),
        "",
    ]
    rows = []
    if intake:
        st = intake["steady"]
        rows.append(
            [
                "Intake run above (files taken in by `Intake.process`)",
                st["returns"],
                _size(st["ledger_bytes"]),
                _kb(st["ledger_bytes"] / st["returns"]),
                _kb(st["archive_bytes"] / st["returns"]),
                _kb(st["mean_return_bytes"]),
            ]
        )
    for r in reports:
        rows.append(
            [
                f"Reporting ledger {r['units']} x {r['months']}",
                r["returns"],
                _size(r["ledger_bytes"]),
                _kb(r["ledger_bytes"] / r["returns"]),
                "-",
                "-",
            ]
        )
    if not rows:
        return lines + ["Not measured.", ""]
    lines += _table(
        [
            "Ledger",
            "Returns",
            "Ledger size",
            "Ledger per return",
            "Archive per return",
            "Return file size",
        ],
        rows,
    )
    return lines


def now() -> str:
    """The current time, to the minute, in UTC."""
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")

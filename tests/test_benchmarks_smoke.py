"""The benchmark suite, at tiny sizes: it runs end to end and writes every section with figures.

Timings are not asserted here; ``python -m benchmarks.run`` measures them at full size. The
measurements run several at once (``--jobs``), which keeps this a matter of seconds.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SECTIONS = (
    "## Machine",
    "## Targets",
    "## Generation",
    "## Intake per return",
    "### Where the time of one return goes",
    "## Reporting",
    "### As commands",
    "### Growth",
    "## Watcher latency",
    "## Ledger size",
)
NUMBER = re.compile(r"\d+(\.\d+)? (ms|s|MiB|kB|MB)\b")
RATIO = re.compile(r"\| \d+\.\d\d \|")


def _sections(text: str) -> dict[str, str]:
    """Each heading of SECTIONS with the text up to the next heading of any level."""
    out = {}
    for heading in SECTIONS:
        start = text.index(heading + "\n")
        body = text[start + len(heading) :]
        following = re.search(r"^#{2,3} ", body, flags=re.MULTILINE)
        out[heading] = body[: following.start()] if following else body
    return out


def test_quick_benchmark_writes_every_section(tmp_path):
    out = tmp_path / "BENCHMARKS.md"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--quick", "--jobs", "4", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = out.read_text(encoding="utf-8")
    assert "python -m benchmarks.run --quick --jobs 4" in text
    assert "ran at once" in text, "a run of several at once says its figures are not comparable"
    assert "failed" not in text.lower()
    sections = _sections(text)
    for heading, body in sections.items():
        if heading == "## Machine":
            assert "CPU" in body and "Python" in body and "openpyxl" in body
        elif heading == "### Growth":
            assert RATIO.search(body), "no exponents under the growth heading"
        else:
            assert NUMBER.search(body), f"no figures under {heading}"
    targets = sections["## Targets"]
    assert "**yes**" in targets or "**no**" in targets
    intake = sections["## Intake per return"]
    for reader in ("Intake.process", "python-calamine", "expat floor", "process_many"):
        assert reader in intake
    # One line per target, each with its verdict and, where measured, min / median / max.
    lines = [x for x in targets.splitlines() if x.startswith("| ") and "---" not in x][1:]
    for needle in (
        "python-calamine",
        "expat floor",
        "per workbook on one core",
        "500 workbooks",
        "as a command",
        "in process",
        "peak memory under 500 MB",
        "growth linear in units",
        "sequin process",
    ):
        assert any(needle in line for line in lines), f"no target line about {needle!r}"
    intake_line = next(x for x in lines if "python-calamine" in x)
    assert intake_line.count(" / ") >= 4 and ("**yes**" in intake_line or "**no**" in intake_line)
    commands = sections["### As commands"]
    assert "sequin report" in commands and "sequin --version" in commands
    assert "--no-outputs" in commands
    assert "native events" in sections["## Watcher latency"]
    assert "polling every 1 s" in sections["## Watcher latency"]
    assert "arriving during a rebuild" in sections["## Watcher latency"]
    assert re.search(r"\| 3 x 2 \| 6 \|", sections["## Reporting"])
    assert re.search(r"Ledger per return", sections["## Ledger size"])


def _units_on_record(home) -> list[str]:
    import sqlite3

    db = sqlite3.connect(home.ledger_path)
    try:
        return [r[0] for r in db.execute("SELECT unit FROM returns ORDER BY id")]
    finally:
        db.close()


def test_unit_codes_are_ordered_by_number():
    from benchmarks import data as D

    codes = D.unit_codes(1000)
    assert codes[:2] == ["U001", "U002"] and codes[-1] == "U1000"
    assert sorted(["U1000", "U500", "U10", "U2"], key=D.unit_number) == [
        "U2",
        "U10",
        "U500",
        "U1000",
    ]
    # As text the order is wrong; that is what the subset must not rely on.
    assert "U1000" < "U500"


def test_subset_ledger_selects_units_by_number(tmp_path):
    """A subset of a 1,000-unit ledger: U1000 is beyond U500 and U999, whatever its text sorts as."""
    from benchmarks import data as D

    source = D.make_home(tmp_path / "source", 1000)
    picked = ["U001", "U002", "U010", "U500", "U999", "U1000"]
    assert D.fill_ledger(source, D.months(1), units=picked) == len(picked)
    period = D.months(1)[0]

    half = D.subset_ledger(source, tmp_path / "half", 500, period)
    assert sorted(_units_on_record(half), key=D.unit_number) == ["U001", "U002", "U010", "U500"]
    almost = D.subset_ledger(source, tmp_path / "almost", 999, period)
    assert "U1000" not in _units_on_record(almost)
    assert len(_units_on_record(almost)) == 5
    every = D.subset_ledger(source, tmp_path / "every", 1000, period)
    assert sorted(_units_on_record(every), key=D.unit_number) == picked


def test_fill_ledger_reuses_checked_returns_beyond_checked_units(tmp_path):
    """Units beyond ``checked_units`` get rows of their own (their code) with a checked unit's answers."""
    import sqlite3

    from benchmarks import data as D

    home = D.make_home(tmp_path / "home", 5)
    assert D.fill_ledger(home, D.months(2), checked_units=2) == 10
    db = sqlite3.connect(home.ledger_path)
    try:
        rows = db.execute(
            "SELECT unit, period, points, overall_percent FROM returns ORDER BY id"
        ).fetchall()
        answers = dict(
            db.execute(
                "SELECT r.unit || r.period, group_concat(a.rating, '') FROM answers a "
                "JOIN returns r ON r.id = a.return_id GROUP BY r.id"
            ).fetchall()
        )
    finally:
        db.close()
    assert [r[0] for r in rows] == D.unit_codes(5) * 2
    first = D.months(2)[0]
    assert answers["U003" + first] == answers["U001" + first]
    assert answers["U004" + first] == answers["U002" + first]

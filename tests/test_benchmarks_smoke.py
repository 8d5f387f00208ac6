"""The benchmark suite, at tiny sizes: it runs end to end and writes every section with figures.

Timings are not asserted here; ``python -m benchmarks.run`` measures them at full size.
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
        [sys.executable, "-m", "benchmarks.run", "--quick", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = out.read_text(encoding="utf-8")
    assert "python -m benchmarks.run --quick" in text
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
    for reader in ("Intake.process", "python-calamine", "openpyxl", "process_many"):
        assert reader in intake
    assert "native events" in sections["## Watcher latency"]
    assert "polling every 1 s" in sections["## Watcher latency"]
    assert "arriving during a rebuild" in sections["## Watcher latency"]
    assert re.search(r"\| 3 x 2 \| 6 \|", sections["## Reporting"])
    assert re.search(r"Ledger per return", sections["## Ledger size"])

"""Every kind of workbook the engine writes, pinned part by part against a reviewed snapshot.

A small fixed home (four units, three months, fixed secret and arrival times) is
built through the real pipeline; each output workbook of its last month, and
the unit workbook for the month after, is read into its canonical form
(``tests/snapshot.py``) and compared with ``tests/snapshots/<kind>.json``.

When a change to a workbook is intended, write the snapshots again and review
their diff with the change:

    .venv/bin/python -m pytest tests/test_snapshots.py --update-snapshots
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from engine import entries
from engine import template as T
from engine.generation import read_carry
from engine.home import Home, default_config_text, init_home
from engine.ledger import Ledger
from engine.outputs.build import build_period
from engine.pipeline import Intake
from engine.synthetic import synthetic_answers
from engine.workbook import build_workbook

from .conftest import make_return
from .snapshot import canonical, compare, dumps

SNAPSHOTS = Path(__file__).parent / "snapshots"
ROOT = Path(__file__).resolve().parent.parent
MONTHS = ("2026-09", "2026-10", "2026-11")
PERIOD = MONTHS[-1]
NEXT_PERIOD = "2026-12"
UNITS = {
    "M01": ("Alder Rise", "medium"),
    "M02": ("Birchwood Lodge", "medium"),
    "L01": ("Cedar Court", "low"),
    "L02": ("Damson Ward", "low"),
}
MISSING = "L02"  # sends nothing for the last month
INCOMPLETE = "L01"  # leaves one Involvement standard unrated in the last month
UNIT = INCOMPLETE  # whose own outputs and workbook are pinned
SECRET = "5e9a" * 16  # fixed, so the unit workbook's signature is the same every run

# Kind -> (path in the month's outbox folder, whether every build has it yet).
OUTPUTS = {
    "network": ("SeQuIn_network_{period}.xlsx", True),
    "commissioners": ("SeQuIn_commissioners_{period}.xlsx", True),
    "easy_read": ("SeQuIn_easy_read_{period}.xlsx", True),
    "feedback": ("feedback/SeQuIn_feedback_{unit}_{period}.xlsx", True),
    "easy_read_unit": ("easy_read/SeQuIn_easy_read_{unit}_{period}.xlsx", False),
    "family": ("family/SeQuIn_family_{unit}_{period}.xlsx", True),
}
UNIT_WORKBOOK = "unit_workbook_parts"
UPDATE = "--update-snapshots"


def network_toml() -> str:
    head = default_config_text().split("[[units]]", 1)[0]
    return head + "".join(
        f'[[units]]\ncode = "{code}"\nname = "{name}"\nsecurity = "{security}"\n'
        for code, (name, security) in UNITS.items()
    )


def arrival(period: str, unit: str) -> float:
    """A fixed arrival time: the 5th of the next month, units a quarter of an hour apart."""
    year, month = (int(x) for x in period.split("-"))
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    minute = 15 * list(UNITS).index(unit)
    when = dt.datetime(year, month, 5, 9, minute, tzinfo=dt.timezone.utc)
    return when.timestamp()


def build_home(root: Path) -> Home:
    """Four units, three months of synthetic returns, taken in through the pipeline."""
    root.mkdir(parents=True)
    (root / "network.toml").write_text(network_toml(), encoding="utf-8")
    secret = root / ".sequin-secret"
    secret.write_text(SECRET + "\n", encoding="ascii")
    secret.chmod(0o600)
    home = init_home(root)
    with Intake(home) as intake:
        for i, period in enumerate(MONTHS):
            for unit in UNITS:
                if period == PERIOD and unit == MISSING:
                    continue
                cells = synthetic_answers(home.bank(), home.network, unit, period, i)
                if period == PERIOD and unit == INCOMPLETE:
                    area = home.bank().areas[0]
                    sheet = T.area_sheet_name(area.index, area.short_name)
                    del cells[(sheet, T.answer_cells(9).rating)]
                path = make_return(home, unit, period, cells=cells)
                # A return arrives when the engine first sees it: pin that moment.
                when = arrival(period, unit)
                with pytest.MonkeyPatch.context() as mp:
                    mp.setattr(entries, "clock", lambda when=when: when)
                    assert intake.process(path).outcome == "accepted", (unit, period)
    return home


def unit_workbook(home: Home) -> bytes:
    bank = home.bank()
    token = home.token(UNIT, NEXT_PERIOD, bank.version)
    # With last month's ratings beside each standard, read from the ledger.
    carry = read_carry(home, NEXT_PERIOD, [UNIT])[UNIT]
    return build_workbook(home.network, bank, UNIT, NEXT_PERIOD, token, carry=carry)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Home:
    home = build_home(tmp_path_factory.mktemp("snapshots") / "home")
    ledger = Ledger(home.ledger_path)
    try:
        build_period(home, ledger, PERIOD)
    finally:
        ledger.close()
    return home


def output_path(home: Home, kind: str) -> Path:
    pattern, _required = OUTPUTS[kind]
    return home.outbox / PERIOD / pattern.format(unit=UNIT, period=PERIOD)


def check_snapshot(request, kind: str, data: bytes | None, label: str) -> None:
    """Compare ``data`` with the kind's snapshot, or write it with ``--update-snapshots``."""
    path = SNAPSHOTS / f"{kind}.json"
    update = request.config.getoption(UPDATE)
    if data is None:
        if update:
            path.unlink(missing_ok=True)
            pytest.skip(f"{label} is not written yet; no snapshot kept")
        assert not path.exists(), (
            f"{label} is no longer written, but {path.name} pins it: if that is intended, "
            f"delete the snapshot or run pytest tests/test_snapshots.py {UPDATE}"
        )
        pytest.skip(f"{label} is not written yet")
    actual = json.loads(json.dumps(canonical(data)))
    if update:
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_text(dumps(actual) + "\n", encoding="utf-8")
    if not path.exists():
        pytest.fail(
            f"No snapshot of {label}: write it with\n"
            f"    .venv/bin/python -m pytest tests/test_snapshots.py {UPDATE}\n"
            f"then review tests/snapshots/{path.name} and keep it with the change.",
            pytrace=False,
        )
    expected = json.loads(path.read_text(encoding="utf-8"))
    differences = compare(expected, actual)
    if differences:
        pytest.fail(
            f"{label} differs from tests/snapshots/{path.name}:\n  - "
            + "\n  - ".join(differences)
            + f"\nIf the change is intended: pytest tests/test_snapshots.py {UPDATE}, "
            "then review the snapshot's diff.",
            pytrace=False,
        )


@pytest.mark.parametrize("kind", list(OUTPUTS))
def test_output_workbook_matches_its_snapshot(request, built, kind):
    path = output_path(built, kind)
    required = OUTPUTS[kind][1]
    if required:
        assert path.exists(), f"{path.relative_to(built.root)} was not written"
    data = path.read_bytes() if path.exists() else None
    check_snapshot(request, kind, data, path.name)


def test_unit_workbook_matches_its_snapshot(request, built):
    check_snapshot(request, UNIT_WORKBOOK, unit_workbook(built), T.file_name(UNIT, NEXT_PERIOD))


def test_every_output_workbook_is_pinned(built):
    """A new kind of workbook in the outbox needs a kind here and a snapshot."""
    codes = "(?:" + "|".join(UNITS) + ")"
    patterns = [
        re.compile(
            re.escape(pattern.format(unit="UNITCODE", period=PERIOD)).replace("UNITCODE", codes)
        )
        for pattern, _required in OUTPUTS.values()
    ]
    folder = built.outbox / PERIOD
    workbooks = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.xlsx"))
    assert workbooks, "no workbook was written"
    unknown = [w for w in workbooks if not any(p.fullmatch(w) for p in patterns)]
    assert unknown == [], f"workbooks of no pinned kind (add them to OUTPUTS): {unknown}"
    feedback = [w for w in workbooks if w.startswith("feedback/")]
    assert len(feedback) == len(UNITS) - 1, feedback  # every unit that returned


REBUILD = """
import sys
from engine.home import Home
from engine.ledger import Ledger
from engine.outputs.build import build_period
from engine.generation import read_carry
from engine.workbook import build_workbook
home, period, unit, next_period = Home(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
ledger = Ledger(home.ledger_path)
build_period(home, ledger, period)
ledger.close()
bank = home.bank()
token = home.token(unit, next_period, bank.version)
carry = read_carry(home, next_period, [unit])[unit]
data = build_workbook(home.network, bank, unit, next_period, token, carry=carry)
(home.outbox / period / "unit workbook.xlsx").write_bytes(data)
"""


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def test_same_ledger_gives_the_same_bytes(built, tmp_path):
    """Every output, and the unit workbook, rebuilt from the same ledger in other processes.

    Each process has its own hash seed, so an order that depends on a set of
    strings shows up here.
    """
    first = _files(built.outbox / PERIOD)
    assert any(name.endswith(".xlsx") for name in first)
    first["unit workbook.xlsx"] = unit_workbook(built)
    copy = Home(shutil.copytree(built.root, tmp_path / "copy", symlinks=True))
    shutil.rmtree(copy.outbox / PERIOD)
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        run = subprocess.run(
            [sys.executable, "-c", REBUILD, str(copy.root), PERIOD, UNIT, NEXT_PERIOD],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert run.returncode == 0, run.stderr
        again = _files(copy.outbox / PERIOD)
        shutil.rmtree(copy.outbox / PERIOD)
        assert sorted(again) == sorted(first)
        changed = [name for name in first if again[name] != first[name]]
        assert changed == [], f"rebuilt with PYTHONHASHSEED={seed}, these differ: {changed}"


def test_unit_workbook_is_the_same_bytes_every_time(built):
    assert unit_workbook(built) == unit_workbook(built)

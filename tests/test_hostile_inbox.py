"""Hostile and broken returns through the real watcher: nothing crashes, nothing is lost.

The corpus is built here by code: the pre-check cases of ``hostile.py`` plus
returns that are real workbooks but wrong (another network, another unit or
month, extra or missing sheets, an older bank version), awkward text (100,000
characters, every script, emoji, control characters) and awkward file names.
All of it is dropped into the inbox of a running ``sequin watch`` at once,
with one good return dropped last.
"""

from __future__ import annotations

import copy
import shutil
import sqlite3
import sys
import time
from pathlib import Path

import openpyxl
import pytest

from engine import template as T
from engine.bank import load_bank, parse_bank
from engine.home import init_home, make_token
from engine.synthetic import fill_workbook
from engine.workbook import build_workbook

from .conftest import PERIOD, full_answers, make_return, report_path
from .hostile import build_corpus
from .test_watcher import WatchProcess

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

pytestmark = pytest.mark.slow
OLD_VERSION = "2025.1"


def older_bank_toml() -> str:
    """A copy of the current bank as an older version whose INV-01 was worded differently."""
    from importlib import resources

    folder = resources.files("engine") / "data" / "banks"
    current = load_bank()
    text = next(p for p in folder.iterdir() if current.version in p.name).read_text("utf-8")
    data = tomllib.loads(text)
    old = copy.deepcopy(data)
    old["bank_version"] = OLD_VERSION
    old["areas"][0]["standards"][0]["text"] = "People are asked to help write their own care plan."
    parse_bank(old)  # still a valid bank
    lines = text.replace(f'bank_version = "{current.version}"', f'bank_version = "{OLD_VERSION}"')
    return lines.replace(
        data["areas"][0]["standards"][0]["text"], old["areas"][0]["standards"][0]["text"], 1
    )


def build_cases(home, tmp_path: Path) -> dict[str, tuple[Path, str, str]]:
    """name -> (file, expected outcome, expected code)."""
    cases: dict[str, tuple[Path, str, str]] = {}
    work = tmp_path / "work"
    good = make_return(home, "M01", folder=work, synthetic=True)
    for case in build_corpus(good, work / "precheck"):
        cases[case.name] = (case.path, "rejected", case.expected_code)

    other = init_home(tmp_path / "other-network")
    cases["another-network"] = (
        make_return(other, "M02", folder=work / "o"),
        "rejected",
        "token-invalid",
    )
    p = make_return(home, "M03", folder=work / "u", name=T.file_name("M04", PERIOD))
    cases["another-unit"] = (p, "rejected", "file-name-unit-mismatch")
    p = make_return(home, "M03", folder=work / "m", name=T.file_name("M03", "2026-09"))
    cases["another-month"] = (p, "rejected", "file-name-period-mismatch")

    p = make_return(home, "M05", folder=work / "extra")
    wb = openpyxl.load_workbook(p)
    wb.create_sheet("Our own notes")
    wb.save(p)
    cases["extra-sheet"] = (p, "rejected", "sheet-unexpected")
    p = make_return(home, "L01", folder=work / "missing")
    wb = openpyxl.load_workbook(p)
    del wb["7 MDT Standards"]
    wb.save(p)
    cases["missing-sheet"] = (p, "rejected", "sheet-missing")

    # An older bank version the engine knows (in the home's banks/) is scored against it.
    (home.banks_dir).mkdir(exist_ok=True)
    (home.banks_dir / f"bank-{OLD_VERSION}.toml").write_text(older_bank_toml(), encoding="utf-8")
    old_bank = load_bank(OLD_VERSION, home.banks_dir)
    secret = home.secret()
    blank = build_workbook(
        home.network, old_bank, "L02", PERIOD, make_token(secret, "L02", PERIOD, OLD_VERSION)
    )
    p = work / "old" / T.file_name("L02", PERIOD)
    p.parent.mkdir(parents=True)
    p.write_bytes(fill_workbook(blank, full_answers(home, "L02")))
    cases["older-known-bank"] = (p, "accepted", "")
    # A bank version nobody knows is refused with a clear reason.
    unknown = parse_bank({**tomllib.loads(older_bank_toml()), "bank_version": "2019.9"})
    blank = build_workbook(
        home.network, unknown, "L03", PERIOD, make_token(secret, "L03", PERIOD, "2019.9")
    )
    p = work / "unknown" / T.file_name("L03", PERIOD)
    p.parent.mkdir(parents=True)
    p.write_bytes(fill_workbook(blank, full_answers(home, "L03")))
    cases["unknown-bank"] = (p, "rejected", "unknown-bank-version")

    cells = full_answers(home, "L04")
    cells[("1 Involvement", "F6")] = "evidence " * 12_500  # 112,500 characters
    p = make_return(home, "L04", folder=work / "long", cells=cells)
    cases["evidence-100k"] = (p, "accepted", "text-too-long")

    cells = full_answers(home, "L05")
    cells[("1 Involvement", "F6")] = (
        "Ward meeting — Ελληνικά, русский, العربية, עברית, 中文, हिन्दी 😀👍🏽"
    )
    cells[("1 Involvement", "F7")] = "Bell\x07 and tab\t and nul\x01 removed"
    p = make_return(home, "L05", folder=work / "scripts", cells=cells)
    cases["every-script-emoji-control"] = (p, "accepted", "")

    p = make_return(
        home, "L06", folder=work / "names", name="-SeQuIn L06 'Nov' \"final\" café.xlsx"
    )
    cases["awkward-file-name"] = (p, "accepted", "")
    return cases


def test_hostile_corpus_through_the_real_watcher(home, tmp_path):
    cases = build_cases(home, tmp_path)
    names = {}
    for case, (src, _outcome, _code) in cases.items():
        name = src.name if case in ("awkward-file-name",) else f"{case}-{src.name}"
        names[name] = case
    last_good = make_return(home, "L07", folder=tmp_path / "last", synthetic=True)
    with WatchProcess(home) as w:
        for name, case in names.items():
            shutil.copyfile(cases[case][0], home.inbox / name)
        time.sleep(0.5)
        shutil.copyfile(last_good, home.inbox / last_good.name)
        w.wait_for(last_good.name, timeout=120)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            db = sqlite3.connect(home.ledger_path)
            count = db.execute("SELECT COUNT(*) FROM drops").fetchone()[0]
            db.close()
            if count >= len(names) + 1:
                break
            time.sleep(0.25)
        time.sleep(1)  # anything extra would show up as a second outcome
        assert w.alive(), "the watcher survived the whole corpus"
        peak_kb = int(
            next(
                line.split()[1]
                for line in Path(f"/proc/{w.proc.pid}/status").read_text().splitlines()
                if line.startswith("VmHWM")
            )
        )
    assert peak_kb < 500 * 1024, f"engine process peaked at {peak_kb / 1024:.0f} MB"
    print(f"\nwatcher peak memory over the corpus: {peak_kb / 1024:.0f} MB")

    db = sqlite3.connect(home.ledger_path)
    drops = db.execute("SELECT id, original_name, outcome FROM drops").fetchall()
    findings = {}
    for drop_id, code in db.execute("SELECT drop_id, code FROM findings"):
        findings.setdefault(drop_id, set()).add(code)
    db.close()
    by_name = {}
    for drop_id, name, outcome in drops:
        assert name not in by_name, f"{name} has more than one outcome"
        by_name[name] = (outcome, findings.get(drop_id, set()))
    assert set(by_name) == set(names) | {last_good.name}, "every file has an outcome"
    for name, case in names.items():
        outcome, codes = by_name[name]
        _src, want_outcome, want_code = cases[case]
        assert outcome == want_outcome, (case, outcome, codes)
        if want_code:
            assert want_code in codes, (case, codes)
        report = report_path(home, name)
        text = report.read_text(encoding="utf-8-sig")
        assert "Traceback" not in text and (want_code in text if want_code else True), case
    assert by_name[last_good.name][0] == "accepted"

    archived = len(list(home.archive.rglob("*.xlsx")))
    rejected = [n for n, (o, _c) in by_name.items() if o == "rejected"]
    files_in = len(names) + 1
    assert files_in == archived + len(rejected)
    for name in rejected:
        src = cases[names[name]][0]
        assert (home.inbox / name).read_bytes() == src.read_bytes(), "rejected originals untouched"


def test_text_in_any_script_is_kept_and_control_characters_removed(home, tmp_path):
    from engine.pipeline import Intake

    cells = full_answers(home, "L05")
    cells[("1 Involvement", "F6")] = "Ward meeting — Ελληνικά, русский, 中文 😀👍🏽"
    cells[("1 Involvement", "F7")] = "Bell\x07 here"
    with Intake(home) as intake:
        v = intake.validate(make_return(home, "L05", cells=cells))
    ev = {a.question_id: a.evidence for a in v.ret.answers}
    assert ev["INV-01"] == "Ward meeting — Ελληνικά, русский, 中文 😀👍🏽"
    assert ev["INV-02"] == "Bell here"

"""Load: 1,000 files dropped at once, good, bad and duplicated, through the real watcher."""

from __future__ import annotations

import shutil
import sqlite3
import time
from pathlib import Path

import pytest

from engine import template as T

from .conftest import make_return, report_path
from .hostile import build_corpus
from .test_watcher import WatchProcess

pytestmark = pytest.mark.slow
PERIODS = [f"2025-{m:02d}" for m in range(1, 13)] + ["2026-01", "2026-02"]


def test_a_thousand_files_at_once(home, tmp_path):
    src = tmp_path / "src"
    goods = [
        make_return(home, u.code, p, folder=src / p, synthetic=True, month_index=i)
        for i, p in enumerate(PERIODS)
        for u in home.network.units
    ]
    corpus = build_corpus(goods[0], tmp_path / "corpus")
    files: list[tuple[Path, str]] = [(g, g.name) for g in goods]
    k = 0
    while len(files) < 460:
        g = goods[k % len(goods)]
        files.append((g, f"copy {k} of {g.name}"))
        k += 1
    k = 0
    while len(files) < 1000:
        case = corpus[k % len(corpus)]
        files.append((case.path, f"bad {k} {case.name}.xlsx"))
        k += 1
    late = make_return(home, "M01", "2026-03", folder=src / "late", synthetic=True)

    with WatchProcess(home) as w:
        started = time.monotonic()
        for path, name in files:
            shutil.copyfile(path, home.inbox / name)
        dropped = time.monotonic()
        shutil.copyfile(late, home.inbox / late.name)
        w.wait_for(late.name, timeout=600)
        deadline = time.monotonic() + 600
        stamps = []
        while time.monotonic() < deadline:
            db = sqlite3.connect(home.ledger_path)
            count = db.execute("SELECT COUNT(*) FROM drops").fetchone()[0]
            db.close()
            stamps.append((time.monotonic(), count))
            if count >= len(files) + 1:
                break
            time.sleep(0.5)
        finished = time.monotonic()
        assert w.alive()
        peak_kb = int(
            next(
                line.split()[1]
                for line in Path(f"/proc/{w.proc.pid}/status").read_text().splitlines()
                if line.startswith("VmHWM")
            )
        )
    print(
        f"\n1,001 files: copied in {dropped - started:.1f} s, all outcomes after "
        f"{finished - started:.1f} s; watcher peak memory {peak_kb / 1024:.0f} MB"
    )

    db = sqlite3.connect(home.ledger_path)
    drops = db.execute("SELECT original_name, outcome, sha256 FROM drops").fetchall()
    returns = db.execute("SELECT COUNT(*) FROM returns").fetchone()[0]
    db.close()
    names = [n for n, _o, _s in drops]
    assert len(names) == len(set(names)) == len(files) + 1, "each file exactly one outcome"
    accepted = [s for _n, o, s in drops if o == "accepted"]
    rejected = [n for n, o, _s in drops if o == "rejected"]
    assert len(accepted) == 460 + 1 and len(rejected) == 540
    assert returns == len(goods) + 1, "duplicates are not counted again"
    assert len(list(home.archive.rglob("*.xlsx"))) == len(set(accepted))
    assert len(files) + 1 == len(accepted) + len(rejected)
    assert all((home.inbox / n).exists() for n in rejected)
    assert report_path(home, late.name).exists()
    assert not (home.inbox / T.file_name("M01", "2026-03")).exists()

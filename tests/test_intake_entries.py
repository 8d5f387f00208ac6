"""Taking files in: odd inbox entries, names, changing files, older drafts, idle workers.

Every test drops something into a real home's inbox and takes it through the
real pipeline (real worker process, real SQLite), then checks what the lead
would see: the outcome, the report beside the file, the ledger, the archive.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine import template as T
from engine.entries import take
from engine.files import NAME_MAX, display_name
from engine.pipeline import Intake
from engine.receipts import report_name
from engine.sandbox import Sandbox
from engine.status import period_status
from engine.synthetic import with_saved_at

from .conftest import PERIOD, full_answers, make_return, report_path

ROOT = Path(__file__).resolve().parent.parent


def rows(home, sql: str, *args):
    db = sqlite3.connect(home.ledger_path)
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()


def reports_in(home) -> list[str]:
    return sorted(
        os.fsdecode(n)
        for n in os.listdir(os.fsencode(home.inbox))
        if os.fsdecode(n).endswith((".receipt.txt", ".problems.txt"))
    )


# --- entries that are not files ----------------------------------------------------------


def test_a_link_to_dev_zero_is_never_followed_and_gets_a_report(home):
    link = home.inbox / "SeQuIn_M01_2026-11.xlsx"
    os.symlink("/dev/zero", link)
    with Intake(home) as intake:
        (o,) = intake.process_many(intake.pending())
    assert o.outcome == "rejected"
    assert [f.code for f in o.findings] == ["not-a-regular-file"]
    text = (home.inbox / "SeQuIn_M01_2026-11.xlsx.problems.txt").read_text(encoding="utf-8-sig")
    assert "symbolic link" in text and "Move it out of the inbox" in text
    assert os.path.islink(link), "the link is left where it is"
    # Seen again (a restart): recognised, not recorded twice.
    with Intake(home) as intake:
        (again,) = intake.process_many(intake.pending())
    assert again.outcome == "skipped"
    assert rows(home, "SELECT COUNT(*) FROM drops") == [(1,)]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are a POSIX thing")
def test_a_named_pipe_never_blocks_and_the_next_return_is_taken(home, tmp_path):
    os.mkfifo(home.inbox / "pipe.xlsx")
    good = make_return(home, "M02", synthetic=True)
    started = time.monotonic()
    with Intake(home) as intake:
        outcomes = {o.name: o for o in intake.process_many(intake.pending())}
    assert time.monotonic() - started < 30
    assert outcomes["pipe.xlsx"].outcome == "rejected"
    assert outcomes["pipe.xlsx"].findings[0].code == "not-a-regular-file"
    assert "named pipe" in outcomes["pipe.xlsx"].findings[0].message
    assert outcomes[good.name].outcome == "accepted"


def test_a_link_to_a_real_return_is_not_followed(home, tmp_path):
    real = make_return(home, "M03", folder=tmp_path, synthetic=True)
    os.symlink(real, home.inbox / real.name)
    with Intake(home) as intake:
        (o,) = intake.process_many(intake.pending())
    assert o.outcome == "rejected" and o.findings[0].code == "not-a-regular-file"
    assert real.exists() and rows(home, "SELECT COUNT(*) FROM returns") == [(0,)]


# --- any name the file system allows --------------------------------------------------------


def test_a_name_that_is_not_utf8_goes_end_to_end(home, tmp_path):
    data = make_return(home, "M04", folder=tmp_path, synthetic=True).read_bytes()
    raw = b"SeQuIn_M04_2026-11 caf\xe9 \xff.xlsx"  # Latin-1 bytes, as an old PC writes them
    with open(os.path.join(os.fsencode(home.inbox), raw), "wb") as fh:
        fh.write(data)
    with Intake(home) as intake:
        (o,) = intake.process_many(intake.pending())
    assert o.outcome == "accepted", o.findings
    assert "\ufffd" in o.name and "\udce9" not in o.name
    filed = filed_files(home)
    assert [p.name for p in filed] == [
        "SeQuIn_M04_2026-11 caf\ufffd \ufffd.xlsx",
        "SeQuIn_M04_2026-11 caf\ufffd \ufffd.xlsx.receipt.txt",
    ]
    text = filed[1].read_text(encoding="utf-8-sig")
    assert "ACCEPTED" in text and "M04" in text
    assert os.listdir(os.fsencode(home.inbox)) == [], "original filed, inbox empty"
    (name,) = rows(home, "SELECT original_name FROM drops")[0]
    assert name == o.name


def filed_files(home) -> list[Path]:
    """Every file under returns/, sorted."""
    return sorted(p for p in (home.root / "returns").rglob("*") if p.is_file())


def test_a_rejected_file_with_an_undecodable_name_stays_and_is_not_taken_twice(home):
    raw = os.path.join(os.fsencode(home.inbox), b"notes \xe9t\xe9.xlsx")
    with open(raw, "wb") as fh:
        fh.write(b"plain text, not a workbook")
    for _ in range(2):
        with Intake(home) as intake:
            intake.process_many(intake.pending())
    assert os.path.exists(raw), "the original is kept"
    assert rows(home, "SELECT outcome, COUNT(*) FROM drops GROUP BY outcome") == [("rejected", 1)]
    (report,) = reports_in(home)
    report.encode("utf-8")  # a name a person and a log can show
    assert report.endswith(".problems.txt")


def test_a_name_too_long_for_its_report_gets_a_shortened_unique_one(home, tmp_path):
    stem = (
        "SeQuIn_M05_2026-11 " + "é" * 110
    )  # 220 bytes of accents: the name fits, + .problems.txt not
    names = [stem + " a.xlsx", stem + " b.xlsx", stem + " c.xlsx"]
    assert all(len(n.encode()) <= NAME_MAX for n in names)
    (home.inbox / names[0]).write_bytes(b"minutes, not a workbook")
    (home.inbox / names[1]).write_bytes(b"other minutes, not a workbook")
    good = make_return(home, "M05", folder=tmp_path, synthetic=True).read_bytes()
    (home.inbox / names[2]).write_bytes(good)
    with Intake(home) as intake:
        outcomes = intake.process_many(intake.pending())
    assert [o.outcome for o in outcomes] == ["rejected", "rejected", "accepted"]
    reports = reports_in(home)
    assert len(reports) == 2 and len(set(reports)) == 2
    assert all(
        len(r.encode()) <= NAME_MAX and r.startswith("SeQuIn_M05_2026-11 éé") for r in reports
    )
    filed = filed_files(home)
    assert len(filed) == 2 and all(len(p.name.encode()) <= NAME_MAX for p in filed)
    # A restart in this home works (it used to wedge every later run).
    with Intake(home) as intake:
        assert intake.recover() == []
        assert [o.outcome for o in intake.process_many(intake.pending())] == ["skipped", "skipped"]


@pytest.mark.parametrize(
    "name", ["SeQuIn_M05_2026-11\nsecond line.xlsx", "-rf SeQuIn_M05_2026-11.xlsx", "--help.xlsx"]
)
def test_newlines_and_leading_dashes_in_names(home, tmp_path, name):
    data = make_return(home, "M05", folder=tmp_path, synthetic=True).read_bytes()
    (home.inbox / name).write_bytes(data)
    (home.inbox / ("broken " + name)).write_bytes(b"not a workbook")
    with Intake(home) as intake:
        outcomes = {o.outcome: o for o in intake.process_many(intake.pending())}
    assert "\n" not in outcomes["accepted"].name and "\n" not in outcomes["rejected"].name
    (report,) = reports_in(home)
    assert "\n" not in report and report == report_name("broken " + name, False)
    assert all("\n" not in p.name for p in filed_files(home))
    assert len(filed_files(home)) == 2


def test_process_command_takes_a_file_named_with_a_leading_dash(home, tmp_path):
    src = make_return(home, "M01", folder=tmp_path, synthetic=True)
    odd = tmp_path / "-SeQuIn_M01_2026-11.xlsx"
    src.rename(odd)
    proc = subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), "process", "--home", str(home.root), "--", str(odd)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "accepted" in proc.stdout and "Traceback" not in proc.stderr


def test_display_name_is_one_line_of_valid_text():
    assert display_name("a\nb\tc.xlsx") == "a?b?c.xlsx"
    assert display_name(os.fsdecode(b"x\xff.xlsx")) == "x\ufffd.xlsx"


# --- read once, hash what was read ---------------------------------------------------------


def test_the_bytes_checked_hashed_and_archived_are_the_bytes_read(home, tmp_path):
    first = make_return(home, "L01", folder=tmp_path).read_bytes()
    cells = full_answers(home, "L01", rating="Not met")
    other = make_return(home, "L01", folder=tmp_path / "b", cells=cells).read_bytes()
    path = home.inbox / T.file_name("L01", PERIOD)
    path.write_bytes(first)
    with Intake(home) as intake:
        t = take(path, intake.staging)
        # Overwritten in place after it was read, before it was recorded.
        path.write_bytes(other)
        os.utime(path, ns=(time.time_ns() + 10**9,) * 2)
        plan = intake._record_safely(t, intake.validate(t.staged, path.name))
        outcome = intake._finish(*plan[0], stamp=t.stamp, **plan[1])
    assert outcome.outcome == "accepted" and outcome.scores.overall_percent == 100.0
    sha = hashlib.sha256(first).hexdigest()
    assert rows(home, "SELECT sha256 FROM drops") == [(sha,)]
    archived = home.archive / sha[:2] / f"{sha}.xlsx"
    assert archived.read_bytes() == first
    # The overwritten file is a new file: it stays in the inbox and is taken next.
    assert path.read_bytes() == other
    with Intake(home) as intake:
        (again,) = intake.process_many(intake.pending())
    assert again.outcome == "accepted" and again.scores.overall_percent == 0.0


def test_a_file_that_changes_while_it_is_read_is_taken_again(home, tmp_path):
    path = home.inbox / "growing.xlsx"
    path.write_bytes(b"PK\x03\x04" + b"\0" * 1000)
    st = os.stat(path)
    t = take(path, None)
    assert not t.changing
    with open(path, "ab") as fh:
        fh.write(b"more")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5))
    with Intake(home) as intake:
        t2 = take(path, intake.staging)
        # Simulate the write landing between the read and the check after it.
        t2.changing = True
        out = intake._record_safely(t2, None)
    assert out.outcome == "skipped" and out.retry
    assert rows(home, "SELECT COUNT(*) FROM drops") == [(0,)]


def test_process_of_a_file_outside_the_inbox_killed_anywhere_recovers_it(home, tmp_path):
    """``sequin process`` of a file in another folder, killed at every crash point in turn."""
    src = make_return(home, "L02", folder=tmp_path / "email", synthetic=True)
    original = src.read_bytes()
    sha = hashlib.sha256(original).hexdigest()
    points = 0
    for n in range(1, 40):
        root = tmp_path / f"run{n}"
        shutil.copytree(home.root, root)
        copy = tmp_path / f"email{n}" / src.name
        copy.parent.mkdir()
        copy.write_bytes(original)
        env = dict(os.environ, SEQUIN_CRASH_AT=str(n))
        proc = subprocess.run(
            [sys.executable, str(ROOT / "cli.py"), "process", "--home", str(root), str(copy)],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=ROOT,
            env=env,
        )
        if proc.returncode == 0:
            break
        points += 1
        from engine.home import Home

        moved = Home(root)
        recorded = rows(moved, "SELECT state FROM drops")
        if recorded:
            copy.unlink()  # the lead tidies the email folder before the engine runs again
        with Intake(moved) as intake:
            intake.recover()
            if not recorded:
                intake.process_many([src])  # never recorded: simply taken again
        assert rows(moved, "SELECT state FROM drops") == [("done",)], n
        assert (moved.archive / sha[:2] / f"{sha}.xlsx").read_bytes() == original, n
        assert list((moved.root / ".intake").iterdir()) == [], n
    assert points >= 4, f"only {points} crash points reached"


# --- older drafts --------------------------------------------------------------------------


def _saved(home, tmp_path, rating: str, when: dt.datetime, folder: str) -> bytes:
    cells = full_answers(home, "M01", rating=rating)
    data = make_return(home, "M01", folder=tmp_path / folder, cells=cells).read_bytes()
    return with_saved_at(data, when)


def test_final_then_older_draft_then_final_again(home, tmp_path):
    draft = _saved(home, tmp_path, "Partly met", dt.datetime(2026, 12, 3, 10, 0), "draft")
    final = _saved(home, tmp_path, "Met", dt.datetime(2026, 12, 5, 16, 30), "final")
    name = T.file_name("M01", PERIOD)

    def drop(data: bytes, as_name: str):
        (home.inbox / as_name).write_bytes(data)
        with Intake(home) as intake:
            (o,) = intake.process_many([home.inbox / as_name])
        return o

    first = drop(final, name)
    assert first.outcome == "accepted" and first.counted
    late = drop(draft, "SeQuIn_M01_2026-11 draft.xlsx")
    assert late.outcome == "accepted" and not late.counted
    assert [f.code for f in late.findings][:1] == ["older-save"]
    receipt = (home.inbox / "SeQuIn_M01_2026-11 draft.xlsx.receipt.txt").read_text(
        encoding="utf-8-sig"
    )
    assert receipt.startswith("SeQuIn return KEPT, NOT COUNTED")
    assert 'sequin release "SeQuIn_M01_2026-11 draft.xlsx"' in receipt
    assert name in receipt, "the receipt names the return that stays counted"
    status = period_status(home, _ledger(home), PERIOD)
    m01 = next(u for u in status["units"] if u["unit"] == "M01")
    assert m01["status"] == "returned" and m01["overall_percent"] == 100.0
    assert [h["file"] for h in m01["held"]] == ["SeQuIn_M01_2026-11 draft.xlsx"]

    again = drop(final, "SeQuIn_M01_2026-11 (2).xlsx")
    assert again.outcome == "accepted" and again.duplicate and again.counted
    assert not (home.inbox / "SeQuIn_M01_2026-11 (2).xlsx").exists()
    receipt = report_path(home, "SeQuIn_M01_2026-11 (2).xlsx").read_text(encoding="utf-8-sig")
    assert receipt.startswith("SeQuIn return ACCEPTED") and "are the return counted" in receipt
    assert "Overall score: 100.0 %" in receipt
    status = period_status(home, _ledger(home), PERIOD)
    assert next(u for u in status["units"] if u["unit"] == "M01")["overall_percent"] == 100.0

    # The draft's bytes sent again: the receipt says they are not counted, as status does.
    draft_again = drop(draft, "draft again.xlsx")
    assert draft_again.duplicate and not draft_again.counted
    receipt = (home.inbox / "draft again.xlsx.receipt.txt").read_text(encoding="utf-8-sig")
    assert receipt.startswith("SeQuIn return KEPT, NOT COUNTED")


def test_a_later_save_replaces_and_unknown_save_times_go_by_arrival(home, tmp_path):
    draft = _saved(home, tmp_path, "Partly met", dt.datetime(2026, 12, 3, 10, 0), "draft")
    final = _saved(home, tmp_path, "Met", dt.datetime(2026, 12, 5, 16, 30), "final")
    for data, name in ((draft, "a.xlsx"), (final, "SeQuIn_M01_2026-11.xlsx")):
        (home.inbox / name).write_bytes(data)
        with Intake(home) as intake:
            (o,) = intake.process_many([home.inbox / name])
        assert o.counted
    assert rows(home, "SELECT overall_percent FROM returns WHERE superseded_by IS NULL") == [
        (100.0,)
    ]


def test_release_makes_a_kept_draft_count(home, tmp_path):
    draft = _saved(home, tmp_path, "Partly met", dt.datetime(2026, 12, 3, 10, 0), "draft")
    final = _saved(home, tmp_path, "Met", dt.datetime(2026, 12, 5, 16, 30), "final")
    (home.inbox / "final.xlsx").write_bytes(final)
    (home.inbox / "draft.xlsx").write_bytes(draft)
    with Intake(home) as intake:
        intake.process_many([home.inbox / "final.xlsx"])
        intake.process_many([home.inbox / "draft.xlsx"])
    proc = subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), "release", "--home", str(home.root), "draft.xlsx"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "now counted" in proc.stdout
    assert rows(home, "SELECT overall_percent FROM returns WHERE superseded_by IS NULL") == [
        (50.0,)
    ]
    status = period_status(home, _ledger(home), PERIOD)
    m01 = next(u for u in status["units"] if u["unit"] == "M01")
    assert m01["overall_percent"] == 50.0 and m01.get("held", []) == []


def _ledger(home):
    from engine.ledger import Ledger

    return Ledger(home.ledger_path)


# --- the worker's time limit -----------------------------------------------------------------


def test_an_idle_worker_takes_the_next_file_as_a_fresh_one_would(home, tmp_path):
    good = make_return(home, "L03", folder=tmp_path, synthetic=True)
    with Sandbox(timeout=2.0) as sandbox:
        assert "ok" in sandbox.read(good)
        time.sleep(3.0)  # idle for longer than the limit
        assert "ok" in sandbox.read(good), "an idle spell must not count against the next file"
        # Queued back to back, each file gets its own limit from when the worker starts it.
        for _ in range(3):
            sandbox.submit(good)
        for _ in range(3):
            assert "ok" in sandbox.collect()


def test_staged_copies_are_cleared_after_taking(home):
    make_return(home, "L04", synthetic=True)
    (home.inbox / "broken.xlsx").write_bytes(b"not a workbook")
    with Intake(home) as intake:
        intake.process_many(intake.pending())
    assert list((home.root / ".intake").iterdir()) == []
    shutil.rmtree(home.root / ".intake")

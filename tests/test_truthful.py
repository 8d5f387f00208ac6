"""What the engine says is what happened: outcomes, receipts and where a file really is.

Each test takes real files through the real intake (worker process, SQLite
ledger, filing) and reads what the lead reads: the command's one line, the
receipt, ``sequin returns`` and ``sequin status``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from cli import main
from engine import template as T
from engine.ledger import Ledger
from engine.lock import HomeLock, holder
from engine.pipeline import Intake
from engine.synthetic import with_saved_at

from .conftest import PERIOD, full_answers, make_return, report_path

ROOT = Path(__file__).resolve().parent.parent


def _saved(home, tmp_path, rating: str, when: dt.datetime, folder: str) -> bytes:
    cells = full_answers(home, "M01", rating=rating)
    data = make_return(home, "M01", folder=tmp_path / folder, cells=cells).read_bytes()
    return with_saved_at(data, when)


def _drop(home, data: bytes, name: str):
    (home.inbox / name).write_bytes(data)
    with Intake(home) as intake:
        (o,) = intake.process_many([home.inbox / name])
    return o


# --- an impossible save time ---------------------------------------------------------------


def test_a_save_time_in_2099_is_unknown_so_the_correction_after_it_counts(home, tmp_path):
    future = _saved(home, tmp_path, "Partly met", dt.datetime(2099, 1, 1, 9, 0), "future")
    fixed = _saved(home, tmp_path, "Met", dt.datetime(2026, 12, 5, 16, 30), "fixed")

    first = _drop(home, future, T.file_name("M01", PERIOD))
    assert first.outcome == "accepted" and first.counted
    assert [f.code for f in first.findings][:1] == ["save-time-unknown"]
    receipt = report_path(home, T.file_name("M01", PERIOD)).read_text(encoding="utf-8-sig")
    assert "2099" in receipt and "cannot be right" in receipt
    assert "the one that arrives last counts" in receipt

    second = _drop(home, fixed, "SeQuIn_M01_2026-11 corrected.xlsx")
    assert second.outcome == "accepted" and second.counted, [f.code for f in second.findings]
    assert "older-save" not in [f.code for f in second.findings]
    ledger = Ledger(home.ledger_path)
    try:
        assert ledger.current_return("M01", PERIOD)["overall_percent"] == 100.0
    finally:
        ledger.close()
    db = sqlite3.connect(home.ledger_path)
    try:
        saved = [r[0] for r in db.execute("SELECT saved_at FROM returns ORDER BY id")]
    finally:
        db.close()
    assert saved[0] is None, "the impossible save time is not kept as if it were true"


def test_a_save_time_in_2099_already_in_an_older_ledger_is_not_trusted(home, tmp_path):
    """A ledger written before the rule keeps the 2099 time: the rule still sets it aside."""
    future = _saved(home, tmp_path, "Partly met", dt.datetime(2099, 1, 1, 9, 0), "future")
    fixed = _saved(home, tmp_path, "Met", dt.datetime(2026, 12, 5, 16, 30), "fixed")
    _drop(home, future, T.file_name("M01", PERIOD))
    db = sqlite3.connect(home.ledger_path)
    try:
        with db:
            db.execute("UPDATE returns SET saved_at = '2099-01-01T09:00:00+00:00'")
    finally:
        db.close()
    second = _drop(home, fixed, "SeQuIn_M01_2026-11 corrected.xlsx")
    assert second.counted and "older-save" not in [f.code for f in second.findings]


def test_a_save_time_a_few_hours_ahead_is_still_trusted(home, tmp_path):
    """A PC in another time zone, or a little fast: within a day, the save order still holds."""
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    ahead = _saved(home, tmp_path, "Met", now + dt.timedelta(hours=5), "ahead")
    older = _saved(home, tmp_path, "Partly met", now - dt.timedelta(days=2), "older")
    first = _drop(home, ahead, T.file_name("M01", PERIOD))
    assert first.counted and "save-time-unknown" not in [f.code for f in first.findings]
    late = _drop(home, older, "SeQuIn_M01_2026-11 draft.xlsx")
    assert not late.counted and [f.code for f in late.findings][:1] == ["older-save"]


# --- each command's one line names what happened --------------------------------------------


def sequin(home, *args: str):
    result = CliRunner().invoke(
        main,
        [*args, "--home", str(home.root)],
        env={"SEQUIN_TODAY": "2026-12-05"},
        catch_exceptions=False,
    )
    assert "Traceback" not in result.output
    return result


def watch_once(home) -> str:
    """A real `sequin watch --once` process: its log, as the lead reads it."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), "watch", "--once", "--home", str(home.root)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env=dict(os.environ, SEQUIN_TODAY="2026-12-05"),
        check=False,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def _line(output: str, name: str) -> str:
    lines = [ln for ln in output.splitlines() if name in ln]
    assert lines, output
    return lines[0]


def test_the_one_line_outcome_says_counted_replaced_kept_copy_held_and_rejected(home, tmp_path):
    final = _saved(home, tmp_path, "Met", dt.datetime(2026, 12, 5, 16, 30), "final")
    later = _saved(home, tmp_path, "Partly met", dt.datetime(2026, 12, 6, 9, 0), "later")
    draft = _saved(home, tmp_path, "Not met", dt.datetime(2026, 12, 1, 9, 0), "draft")
    out = tmp_path / "given"
    out.mkdir()
    steps = [
        ("a.xlsx", final, "COUNTED  unit M01"),
        ("b.xlsx", later, "COUNTED, replacing the return counted before"),
        ("c.xlsx", draft, "KEPT, NOT counted: saved before the return already counted"),
        ("d.xlsx", later, "a COPY sent again of a return already counted"),
    ]
    for name, data, said in steps:
        (out / name).write_bytes(data)
        result = sequin(home, "process", "--no-outputs", str(out / name))
        assert result.exit_code == 0, result.output
        line = _line(result.output, name)
        assert said in line, line
        assert line.startswith("accepted  ")
    assert "COUNTED" not in _line(
        sequin(home, "process", "--no-outputs", str(out / "c.xlsx")).output, "c.xlsx"
    ).replace("NOT counted", "")
    bad = out / "SeQuIn_M02_2026-11.xlsx"
    bad.write_bytes(b"not a workbook")
    line = _line(sequin(home, "process", "--no-outputs", str(bad)).output, bad.name)
    assert line.startswith("rejected  ") and f"report: {bad}.problems.txt" in line

    sequin(home, "close", "--period", PERIOD, "--force")
    held = make_return(home, "M03", folder=out)
    line = _line(sequin(home, "process", "--no-outputs", str(held)).output, held.name)
    assert "HELD, NOT counted: the month is closed" in line, line
    assert f"report: {held}.receipt.txt" in line, "the line says where its receipt really is"


def test_the_watcher_log_names_what_happened(home, tmp_path):
    final = _saved(home, tmp_path, "Met", dt.datetime(2026, 12, 5, 16, 30), "final")
    later = _saved(home, tmp_path, "Partly met", dt.datetime(2026, 12, 6, 9, 0), "later")
    (home.inbox / "one.xlsx").write_bytes(final)
    assert "COUNTED  unit M01" in _line(watch_once(home), "one.xlsx")
    (home.inbox / "two.xlsx").write_bytes(later)
    assert "COUNTED, replacing" in _line(watch_once(home), "two.xlsx")


# --- a held return given from outside the inbox ------------------------------------------------


def test_a_held_return_from_outside_the_inbox_has_its_receipt_beside_it_and_returns_says_where(
    home, tmp_path
):
    make_return(home, "M01")
    assert (
        sequin(
            home, "process", "--no-outputs", str(home.inbox / T.file_name("M01", PERIOD))
        ).exit_code
        == 0
    )
    sequin(home, "close", "--period", PERIOD, "--force")
    cells = full_answers(home, "M01", rating="Partly met")
    outside = make_return(home, "M01", folder=tmp_path / "downloads", cells=cells)
    sequin(home, "process", "--no-outputs", str(outside))
    receipt = outside.with_name(outside.name + ".receipt.txt")
    assert receipt.read_text(encoding="utf-8-sig").lstrip().startswith(
        "SeQuIn return HELD"
    ) or "HELD, NOT COUNTED" in receipt.read_text(encoding="utf-8-sig")
    listing = json.loads(sequin(home, "returns", "--json").stdout)["returns"]
    held = [r for r in listing if r["state"].startswith("held")]
    assert [r["where"] for r in held] == [str(outside)], "not inbox/, where it never was"
    assert not (home.inbox / outside.name).exists()

    # Released: the counted copy and a new receipt sit where a counted return lives.
    result = sequin(home, "release", str(outside))
    assert result.exit_code == 0, result.output
    folder = next((home.root / "returns" / PERIOD).glob("M01 *"))
    new = (folder / (outside.name + ".receipt.txt")).read_text(encoding="utf-8-sig")
    assert new.lstrip().startswith("SeQuIn return ACCEPTED")
    assert "RELEASED" in new and "KEPT, NOT COUNTED" not in new and "would change" not in new
    assert "arrived after its month was closed" in new
    assert (folder / outside.name).read_bytes() == outside.read_bytes()
    old = receipt.read_text(encoding="utf-8-sig")
    assert old.lstrip().startswith("RELEASED") and "would change" not in old
    listing = json.loads(sequin(home, "returns", "--json").stdout)["returns"]
    counted = [r for r in listing if r["state"] == "counted"]
    assert [r["where"] for r in counted] == [f"returns/{PERIOD}/{folder.name}/{outside.name}"]


def _held_late_return(home, name: str):
    """M01 counted for a month then closed, and a later return for it taken in and held."""
    make_return(home, "M01")
    sequin(home, "process", "--no-outputs", str(home.inbox / T.file_name("M01", PERIOD)))
    sequin(home, "close", "--period", PERIOD, "--force")
    cells = full_answers(home, "M01", rating="Partly met")
    late = make_return(home, "M01", cells=cells, name=name)
    watch_once(home)
    return late


# --- release: the file moves, the old receipt retires, the outputs are told truly ---------------


def test_release_files_the_return_with_a_new_receipt_and_the_next_watch_changes_nothing(home):
    late = _held_late_return(home, "SeQuIn_M01_2026-11 late.xlsx")
    old_receipt = home.inbox / (late.name + ".receipt.txt")
    assert "HELD, NOT COUNTED" in old_receipt.read_text(encoding="utf-8-sig")

    result = sequin(home, "release", late.name)
    assert result.exit_code == 0, result.output
    assert "Outputs: rebuilt." in result.output
    assert sorted(p.name for p in home.inbox.iterdir()) == [], "file and old receipt both moved"
    folder = next((home.root / "returns" / PERIOD).glob("M01 *"))
    receipt = (folder / (late.name + ".receipt.txt")).read_text(encoding="utf-8-sig")
    assert receipt.lstrip().startswith("SeQuIn return ACCEPTED")
    assert "RELEASED" in receipt and "REPLACES the one counted before" in receipt
    assert "HELD, NOT COUNTED" not in receipt and "would change" not in receipt
    assert f"Its receipt: returns/{PERIOD}/{folder.name}/{late.name}.receipt.txt" in result.output

    again = watch_once(home)
    assert "copy" not in again.lower(), again
    assert (folder / late.name).exists(), "the counted return stays at the top of its folder"
    status = json.loads(sequin(home, "status", "--period", PERIOD, "--json").stdout)
    m01 = next(u for u in status["units"] if u["unit"] == "M01")
    assert m01["status"] == "returned" and m01["overall_percent"] == 50.0


def test_release_while_another_command_holds_the_home_says_run_report_not_a_watcher(home):
    late = _held_late_return(home, "late.xlsx")
    busy = HomeLock(home.root)  # a `sequin process` still running, say: not a watcher
    busy.acquire()
    try:
        result = sequin(home, "release", late.name)
    finally:
        busy.release()
    assert result.exit_code == 0, result.output
    assert "watcher" not in result.output
    assert "NOT rebuilt" in result.output and f"sequin report --period {PERIOD}" in result.output


def test_release_while_a_watcher_holds_the_home_says_the_watcher_rebuilds(home):
    late = _held_late_return(home, "late.xlsx")
    watching = HomeLock(home.root, "watch")
    watching.acquire()
    try:
        assert holder(home.root) == "watch"
        result = sequin(home, "release", late.name)
    finally:
        watching.release()
    assert holder(home.root) is None
    assert "the running watcher rebuilds them" in result.output


# --- a folder in the inbox ----------------------------------------------------------------------


def test_a_folder_in_the_inbox_gets_a_report_naming_what_it_holds(home, caplog):
    folder = home.inbox / "returns from M01"
    make_return(home, "M01", folder=folder)
    with Intake(home) as intake, caplog.at_level(logging.INFO):
        assert intake.pending() == []
        report = home.inbox / "returns from M01.problems.txt"
        text = report.read_text(encoding="utf-8-sig")
        assert "FOLDER" in text and "SeQuIn_M01_2026-11.xlsx" in text and "1 workbook:" in text
        assert "move each workbook out of this folder into the inbox itself" in text
        first = report.stat().st_mtime_ns
        intake.pending()  # the next scan: told once, not rewritten
        assert report.stat().st_mtime_ns == first
    told = [r.getMessage() for r in caplog.records if "returns from M01" in r.getMessage()]
    assert len(told) == 1 and "a folder" in told[0]

    result = watch_once(home)  # the lead's watcher tells it too
    assert "returns from M01" in result and "a folder" in result

    # The lead moves the workbook out: it is taken in, and the folder's report goes.
    (folder / "SeQuIn_M01_2026-11.xlsx").rename(home.inbox / "SeQuIn_M01_2026-11.xlsx")
    folder.rmdir()
    result = watch_once(home)
    assert "COUNTED" in _line(result, "SeQuIn_M01_2026-11.xlsx")
    assert not report.exists()


def test_a_release_during_an_output_build_leaves_the_month_marked_for_rebuilding(home, monkeypatch):
    """The build read the month before the release: its outputs lack it, so it stays marked."""
    from engine.outputs import build

    _held_late_return(home, "late.xlsx")  # the month is built; the late return is held
    ledger = Ledger(home.ledger_path)
    try:
        assert ledger.dirty_periods() == []
        ledger._mark_dirty(ledger.db, PERIOD)  # something asks for a rebuild ...
        real = build.collect

        def collect_then_release(home_, ledger_, period):
            data = real(home_, ledger_, period)
            other = Ledger(home.ledger_path)  # ... and `sequin release` runs meanwhile
            try:
                held = other.db.execute("SELECT id FROM returns WHERE held IS NOT NULL").fetchone()
                other.release(held[0])
            finally:
                other.close()
            return data

        monkeypatch.setattr(build, "collect", collect_then_release)
        build.refresh_outputs(home, [PERIOD], ledger=ledger)
        assert PERIOD in ledger.dirty_periods(), "the outputs lack the release: still marked"
        monkeypatch.setattr(build, "collect", real)
        build.refresh_outputs(home, [PERIOD], ledger=ledger)
        assert ledger.dirty_periods() == []
    finally:
        ledger.close()

"""Months nobody questions: a month never generated, or not yet due, is named as such.

``sequin generate`` records the month (and the due date its workbooks show) in
the ledger. ``chase`` before the due date says nothing is overdue yet; ``chase``
and ``report`` refuse a month never generated; ``close`` needs ``--force`` for a
month never generated or not yet due; ``status`` and ``returns`` warn. Homes
from before months were recorded count a month with returns, or with workbooks
in the outbox, as generated. Through the real command line.
"""

from __future__ import annotations

import csv
import json
import sqlite3

from click.testing import CliRunner

from cli import main

from .conftest import PERIOD

AFTER = "2027-01 is after the newest month generated (2026-12): no workbooks have been sent for it"


def sequin(home, *args: str, today: str = "2026-12-05"):
    """Run a command on ``home`` as of ``today`` (before 2026-12's due date, 2027-01-10)."""
    result = CliRunner().invoke(
        main,
        [*args, "--home", str(home.root)],
        env={"SEQUIN_TODAY": today},
        catch_exceptions=False,
    )
    assert "Traceback" not in result.output
    return result


def generate(home, period: str = "2026-12", *units: str) -> None:
    extra = [a for u in units for a in ("--unit", u)]
    assert sequin(home, "generate", "--period", period, *extra).exit_code == 0


def closed_at(home, period: str):
    return json.loads(sequin(home, "status", "--period", period, "--json").stdout)["closed_at"]


def test_generate_records_the_month_and_the_due_date_its_workbooks_show(home):
    generate(home, "2026-12", "M01")
    db = sqlite3.connect(home.ledger_path)
    try:
        rows = db.execute("SELECT period, due_date FROM generated_periods").fetchall()
    finally:
        db.close()
    assert rows == [("2026-12", "2027-01-10")]
    data = json.loads(sequin(home, "status", "--period", "2026-12", "--json").stdout)
    assert data["sent"] is True and data["warning"] is None
    assert data["newest_generated"] == "2026-12" and data["due_date"] == "2027-01-10"


def test_chase_before_the_due_date_says_nothing_is_overdue_and_who_has_not_sent(home):
    generate(home)
    result = sequin(home, "chase", "--period", "2026-12")
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "were were" not in text and "were due" not in text
    assert "day(s) overdue" not in text
    assert (
        "December 2026 returns are due 2027-01-10 (in 36 day(s)): nothing is overdue yet. "
        "Not sent yet:" in text
    )
    assert (
        "Calder House (M01): not sent yet. Please send the December 2026 SeQuIn return "
        "by 10 January 2027" in text
    )
    data = json.loads(sequin(home, "chase", "--period", "2026-12", "--json").stdout)
    assert data["overdue"] is False and data["due_in_days"] == 36
    assert len(data["units"]) == 15
    assert {u["status"] for u in data["units"]} == {"not sent yet"}
    assert {u["days_overdue"] for u in data["units"]} == {None}
    with open(data["csv"], encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 15
    assert {r["status"] for r in rows} == {"not sent yet"}, "the mail merge says the same"
    assert {r["days_overdue"] for r in rows} == {""}
    assert all(r["what_is_needed"].endswith("by 10 January 2027") for r in rows)


def test_chase_after_the_due_date_counts_days_overdue(home):
    generate(home)
    text = sequin(home, "chase", "--period", "2026-12", today="2027-01-14").stdout
    assert "December 2026 returns were due 2027-01-10, 4 day(s) overdue. To chase:" in text
    assert "were were" not in text
    assert "Calder House (M01): missing. Please send the December 2026 SeQuIn return\n" in text
    data = json.loads(
        sequin(home, "chase", "--period", "2026-12", "--json", today="2027-01-14").stdout
    )
    assert data["overdue"] is True
    with open(data["csv"], encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert {(r["status"], r["days_overdue"]) for r in rows} == {("missing", "4")}


def test_chase_on_the_due_date_itself_is_not_overdue(home):
    generate(home)
    text = sequin(home, "chase", "--period", "2026-12", today="2027-01-10").stdout
    assert "returns are due 2027-01-10 (today): nothing is overdue yet" in text


def test_chase_of_a_month_never_generated_is_refused_and_writes_no_csv(home):
    generate(home)
    result = sequin(home, "chase", "--period", "2027-01")
    assert result.exit_code == 1
    assert f"Error: {AFTER}\n" in result.stderr
    assert (
        "Hint: Generate its workbooks first (sequin generate --period 2027-01), or use the "
        "newest month sent out: sequin chase --period 2026-12." in result.stderr
    )
    assert result.stdout == ""
    assert not (home.root / "returns" / "2027-01").exists()


def test_close_of_a_month_never_generated_needs_force(home):
    generate(home)
    result = sequin(home, "close", "--period", "2031-05", today="2031-07-01")
    assert result.exit_code == 1
    assert (
        "Error: 2031-05 is after the newest month generated (2026-12): no workbooks have been "
        "sent for it\n" in result.stderr
    )
    assert "Hint: " in result.stderr
    assert "run 'sequin close --period 2031-05 --force'" in result.stderr
    assert closed_at(home, "2031-05") is None, "nothing was closed"
    forced = sequin(home, "close", "--period", "2031-05", "--force", today="2031-07-01")
    assert forced.exit_code == 0, forced.output
    assert closed_at(home, "2031-05") is not None


def test_close_before_the_due_date_needs_force(home):
    generate(home)
    result = sequin(home, "close", "--period", "2026-12", today="2027-01-10")
    assert result.exit_code == 1
    assert (
        "Error: the due date of 2026-12 has not passed: returns for it are due 2027-01-10 "
        "(today)\n" in result.stderr
    )
    assert "Hint: " in result.stderr and "'sequin close --period 2026-12 --force'" in result.stderr
    assert closed_at(home, "2026-12") is None
    assert sequin(home, "close", "--period", "2026-12", "--force").exit_code == 0
    assert closed_at(home, "2026-12") is not None
    assert sequin(home, "close", "--period", "2026-12", "--reopen").exit_code == 0
    done = sequin(home, "close", "--period", "2026-12", today="2027-01-11")
    assert done.exit_code == 0, done.output
    assert "December 2026 is closed" in done.stdout


def test_report_of_a_month_never_generated_with_no_returns_is_refused(home):
    generate(home)
    result = sequin(home, "report", "--period", "2031-05")
    assert result.exit_code == 1
    assert (
        "Error: 2031-05 is after the newest month generated (2026-12): no workbooks have been "
        "sent for it, and no return for it is on record: there is nothing to report\n"
        in result.stderr
    )
    assert "Hint: Generate its workbooks first (sequin generate --period 2031-05)" in result.stderr
    assert not (home.outbox / "2031-05").exists(), "no outputs written"


def test_status_and_returns_warn_of_a_month_after_the_newest_generated(home):
    generate(home)
    result = sequin(home, "status", "--period", "2027-01")
    assert result.exit_code == 0
    assert result.stderr == f"Warning: {AFTER}.\n"
    assert "15 missing" in result.stdout
    data = json.loads(sequin(home, "status", "--period", "2027-01", "--json").stdout)
    assert data["sent"] is False and data["warning"] == AFTER
    listed = sequin(home, "returns", "--period", "2027-01")
    assert listed.exit_code == 0 and listed.stderr == f"Warning: {AFTER}.\n"
    data = json.loads(sequin(home, "returns", "--period", "2027-01", "--json").stdout)
    assert data == {"returns": [], "warning": AFTER}
    assert sequin(home, "status", "--period", "2026-12").stderr == ""
    assert json.loads(sequin(home, "returns", "--json").stdout)["warning"] is None


def test_a_home_that_never_generated_says_so(home):
    result = sequin(home, "status", "--period", PERIOD)
    assert result.stderr == (
        "Warning: no month has been generated in this home yet: no workbooks have been sent "
        f"for {PERIOD}.\n"
    )


def test_an_older_home_counts_months_with_returns_as_generated(taken_home):
    """Returns taken in (M01, M02 for 2026-11), never generated through the ledger."""
    data = json.loads(sequin(taken_home, "status", "--period", PERIOD, "--json").stdout)
    assert data["sent"] is True and data["warning"] is None
    after = sequin(taken_home, "status", "--period", "2026-12")
    assert after.stderr == (
        "Warning: 2026-12 is after the newest month generated (2026-11): no workbooks have been "
        "sent for it.\n"
    )
    assert sequin(taken_home, "chase", "--period", PERIOD, today="2026-12-14").exit_code == 0
    assert sequin(taken_home, "close", "--period", PERIOD, today="2026-12-14").exit_code == 0


def test_an_older_home_counts_months_with_workbooks_in_the_outbox_as_generated(home):
    generate(home, "2026-12", "M01")
    db = sqlite3.connect(home.ledger_path)  # as a ledger from before months were recorded
    try:
        db.execute("DELETE FROM generated_periods")
        db.commit()
    finally:
        db.close()
    data = json.loads(sequin(home, "status", "--period", "2026-12", "--json").stdout)
    assert data["sent"] is True and data["newest_generated"] == "2026-12"
    assert sequin(home, "close", "--period", "2026-12", today="2027-01-11").exit_code == 0
    for name in (home.outbox / "2026-12" / "workbooks").iterdir():
        name.unlink()  # an empty folder holds no workbooks
    data = json.loads(sequin(home, "status", "--period", "2026-12", "--json").stdout)
    assert data["sent"] is False

"""``sequin status``: every count on the first line agrees with what is listed below it.

A real home takes in returns through ``sequin process``: counted ones, an older save,
a rejected one; the month is closed; late returns and a family and friends response
are held, a later file of a unit that returned is rejected. The first line of
``status`` (and ``counts`` and ``files`` in ``--json``) must count exactly what
the lines below it list.
"""

from __future__ import annotations

import datetime as dt
import json
import re

from click.testing import CliRunner

from cli import main
from engine import template as T
from engine.family import build_family_workbook
from engine.synthetic import fill_workbook, with_saved_at

from .conftest import PERIOD, full_answers, make_return

TODAY = "2026-12-14"  # after the 2026-11 due date, so the month can be closed


def sequin(home, *args: str):
    result = CliRunner().invoke(main, [*args, "--home", str(home.root)], catch_exceptions=False)
    assert "Traceback" not in result.output
    return result


def take(home, path):
    return sequin(home, "process", str(path), "--no-outputs")


def saved(path, when: dt.datetime):
    path.write_bytes(with_saved_at(path.read_bytes(), when))
    return path


def bad_cells(home, unit: str) -> dict:
    cells = full_answers(home, unit)
    cells[("1 Involvement", T.answer_cells(0).rating)] = "Mostly"
    return cells


def family_response(home, unit: str):
    bank = home.bank()
    token = home.token(unit, PERIOD, bank.version, T.FAMILY_FORM)
    blank = build_family_workbook(
        home.network, bank, unit, PERIOD, token, {a.id: "Green" for a in bank.areas}
    )
    cells = {
        (T.FAMILY_SHEET, f"{T.FAMILY_COL_AGREE}{T.family_row(a.index)}"): "Agree"
        for a in bank.areas
    }
    path = home.inbox / T.family_file_name(unit, PERIOD)
    path.write_bytes(fill_workbook(blank, cells))
    return path


HEADLINE = {
    # count on the first line -> the phrase that says it
    "returned": r"(\d+) returned",
    "rejected": r"(\d+) rejected",
    "held_units": r"(\d+) held \(nothing counted yet\)",
    "missing": r"(\d+) missing",
    "held": r"(\d+) returns? held \(the month was closed\)",
    "older_saves": r"(\d+) older saves?",
    "later_rejected": r"(\d+) later files?",
    "unidentified_rejected": r"(\d+) files? not from any unit",
    "family_counted": r"family and friends: (\d+) response\(s\) counted",
    "family_held": r"response\(s\) counted, (\d+) held",
}


def headline_counts(first: str) -> dict:
    counts = {}
    for key, pattern in HEADLINE.items():
        found = re.search(pattern, first)
        counts[key] = int(found.group(1)) if found else 0
    return counts


def listed_counts(lines: list[str]) -> dict:
    """What the lines below the first one list, counted line by line."""
    unit_line = re.compile(r"^  .{5} .{24} (returned|rejected|held|missing)\b")
    statuses = [m.group(1) for line in lines if (m := unit_line.match(line))]
    return {
        "returned": statuses.count("returned"),
        "rejected": statuses.count("rejected"),
        "held_units": statuses.count("held"),
        "missing": statuses.count("missing"),
        "held": sum(
            "kept, NOT counted (held: the month was closed" in x and "family" not in x
            for x in lines
        ),
        "older_saves": sum("kept, NOT counted (an older save" in x for x in lines),
        "later_rejected": sum("a later file was rejected" in x for x in lines),
        "unidentified_rejected": sum("rejected file not from any unit" in x for x in lines),
        "family_counted": sum(
            int(m.group(1))
            for x in lines
            if (m := re.search(r"family and friends: (\d+) response\(s\) counted", x))
        ),
        "family_held": sum("family and friends response kept, NOT counted" in x for x in lines),
    }


def json_counts(data: dict) -> dict:
    c, f = data["counts"], data["files"]
    return {
        "returned": c["returned"],
        "rejected": c["rejected"],
        "held_units": c["held"],
        "missing": c["missing"],
        **{k: f[k] for k in HEADLINE if k in f},
    }


def json_listed(data: dict) -> dict:
    units = data["units"]
    kept = [h for u in units for h in u["held"]]
    return {
        "returned": sum(u["status"] == "returned" for u in units),
        "rejected": sum(u["status"] == "rejected" for u in units),
        "held_units": sum(u["status"] == "held" for u in units),
        "missing": sum(u["status"] == "missing" for u in units),
        "held": sum(h["why"] == "closed-month" for h in kept),
        "older_saves": sum(h["why"] != "closed-month" for h in kept),
        "later_rejected": sum(bool(u.get("later_rejected")) for u in units),
        "unidentified_rejected": len(data["unidentified_rejected_files"]),
        "family_counted": sum(u["family_responses"] for u in units),
        "family_held": sum(len(u["family_held"]) for u in units),
    }


def test_the_first_line_counts_what_is_listed_for_a_closed_month(home, monkeypatch):
    monkeypatch.setenv("SEQUIN_TODAY", TODAY)
    assert sequin(home, "generate", "--period", PERIOD).exit_code == 0
    nov = dt.datetime(2026, 11, 1)
    # Counted: M01, M02, M04 (saved on the 20th); family and friends of M01.
    for unit in ("M01", "M02"):
        assert take(home, make_return(home, unit, synthetic=True)).exit_code == 0
    final = saved(make_return(home, "M04"), nov.replace(day=20))
    assert take(home, final).exit_code == 0
    assert take(home, family_response(home, "M01")).exit_code == 0
    # An older save of M04 sent after the final one: kept, not counted.
    draft = make_return(home, "M04", synthetic=True, name="SeQuIn_M04_2026-11 draft.xlsx")
    assert take(home, saved(draft, nov.replace(day=5))).exit_code == 0
    # L02's return is rejected; nothing of L02 counts.
    assert take(home, make_return(home, "L02", cells=bad_cells(home, "L02"))).exit_code == 1
    # The month is closed: what arrives now is held.
    assert sequin(home, "close", "--period", PERIOD).exit_code == 0
    late = make_return(home, "M02", name="SeQuIn_M02_2026-11 late.xlsx")
    assert take(home, late).exit_code == 0  # M02 still counts its first return
    assert take(home, make_return(home, "M03", synthetic=True)).exit_code == 0  # nothing else
    assert take(home, family_response(home, "M02")).exit_code == 0
    # A later file of M01 is rejected: its return still counts.
    rejected = make_return(home, "M01", cells=bad_cells(home, "M01"), name="M01 again.xlsx")
    assert take(home, rejected).exit_code == 1

    text = sequin(home, "status", "--period", PERIOD)
    assert text.exit_code == 0, text.output
    first, *rest = text.output.splitlines()
    assert "CLOSED" in first
    shown, listed = headline_counts(first), listed_counts(rest)
    assert shown == listed, (first, text.output)
    assert listed == {
        "returned": 3,
        "rejected": 1,
        "held_units": 1,
        "missing": 10,
        "held": 2,
        "older_saves": 1,
        "later_rejected": 1,
        "unidentified_rejected": 0,
        "family_counted": 1,
        "family_held": 1,
    }, text.output
    assert sum(shown[k] for k in ("returned", "rejected", "held_units", "missing")) == 15

    data = json.loads(sequin(home, "status", "--period", PERIOD, "--json").output)
    assert json_counts(data) == json_listed(data) == listed


def test_a_file_from_no_unit_is_counted_on_the_first_line(home, monkeypatch):
    """A rejected file that names no month is shown under the month it arrived in."""
    monkeypatch.setenv("SEQUIN_TODAY", TODAY)
    junk = home.inbox / "minutes.xlsx"
    junk.write_bytes(b"not a workbook at all")
    assert take(home, junk).exit_code == 1
    month = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m")
    text = sequin(home, "status", "--period", month)
    lines = [x for x in text.output.splitlines() if not x.startswith("Warning:")]
    first, *rest = lines
    assert headline_counts(first) == listed_counts(rest), text.output
    assert listed_counts(rest)["unidentified_rejected"] == 1
    data = json.loads(sequin(home, "status", "--period", month, "--json").output)
    assert json_counts(data) == json_listed(data)

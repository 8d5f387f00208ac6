"""The command line: help and README for every command, exit codes, JSON shapes, errors."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main

from .conftest import PERIOD, full_answers, make_return

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.mark.parametrize("name", sorted(main.commands))
def test_every_command_has_help_and_is_in_the_readme(name):
    result = run(name, "--help")
    assert result.exit_code == 0
    assert len(main.commands[name].help or "") > 20
    assert f"sequin {name}" in README


def test_init_then_generate_json_lists_fifteen_workbooks(tmp_path):
    assert run("init", str(tmp_path / "h")).exit_code == 0
    result = run("generate", "--period", PERIOD, "--json", "--home", str(tmp_path / "h"))
    assert result.exit_code == 0
    paths = json.loads(result.output)["workbooks"]
    assert len(paths) == 15 and all(Path(p).exists() for p in paths)


@pytest.mark.parametrize("command", ["generate", "status", "report"])
@pytest.mark.parametrize("period", ["2026-13", "2026-1", "0000-01", "26-11", ""])
def test_bad_period_is_a_usage_error_not_a_traceback(home, command, period):
    result = run(command, "--period", period, "--home", str(home.root))
    assert result.exit_code == 2
    assert f"Error: period '{period}' is not a month" in result.output
    assert "Hint: Write it as YYYY-MM" in result.output
    assert "Traceback" not in result.output
    assert list(home.outbox.iterdir()) == []


def test_unknown_unit_is_a_usage_error(home):
    result = run("generate", "--period", PERIOD, "--unit", "ZZ9", "--home", str(home.root))
    assert result.exit_code == 2 and "unit ZZ9 is not in the network" in result.output
    assert "Hint: Units: M01" in result.output
    assert not (home.outbox / PERIOD).exists()


def test_usage_error_exits_2(home):
    assert run("generate", "--home", str(home.root)).exit_code == 2


def test_world_readable_secret_is_refused(home):
    os.chmod(home.secret_path, 0o644)
    result = run("generate", "--period", PERIOD, "--home", str(home.root))
    assert result.exit_code == 1 and "can be read by other users" in result.output
    ok = run(
        "generate",
        "--period",
        PERIOD,
        "--unit",
        "M01",
        "--allow-open-secret",
        "--home",
        str(home.root),
    )
    assert ok.exit_code == 0


def test_validate_json_shape_and_exit_codes(home, tmp_path):
    good = make_return(home, "M01", folder=tmp_path)
    result = run("validate", str(good), "--json", "--home", str(home.root))
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert {"valid", "unit", "period", "bank_version", "findings", "scores"} <= set(data)
    assert data["valid"] and data["unit"] == "M01" and data["period"] == PERIOD
    assert data["scores"]["overall_percent"] == 100.0
    assert set(data["scores"]["areas"]["INV"]) >= {"percent", "rag", "answered", "applicable"}
    cells = full_answers(home, "M02")
    cells[("1 Involvement", "E6")] = "Yes"
    bad = make_return(home, "M02", folder=tmp_path, cells=cells)
    result = run("validate", str(bad), "--json", "--home", str(home.root))
    assert result.exit_code == 1
    finding = json.loads(result.output)["findings"][0]
    assert set(finding) == {"code", "severity", "sheet", "cell", "question_id", "message"}
    assert (finding["code"], finding["cell"], finding["question_id"]) == (
        "rating-invalid",
        "E6",
        "INV-01",
    )


def test_validate_records_nothing(home, tmp_path):
    result = run(
        "validate", str(make_return(home, "M01", folder=tmp_path)), "--home", str(home.root)
    )
    assert result.exit_code == 0 and "VALID" in result.output
    assert not home.ledger_path.exists()
    assert list(home.archive.iterdir()) == []


def test_process_then_status(home):
    make_return(home, "M01")
    make_return(home, "M02", name="-odd 'name' café.xlsx")
    result = run(
        "process",
        str(home.inbox / "SeQuIn_M01_2026-11.xlsx"),
        str(home.inbox / "-odd 'name' café.xlsx"),
        "--json",
        "--home",
        str(home.root),
    )
    assert result.exit_code == 0, result.output
    outcomes = json.loads(result.output)["outcomes"]
    assert [o["outcome"] for o in outcomes] == ["accepted", "accepted"]
    status = json.loads(
        run("status", "--period", PERIOD, "--json", "--home", str(home.root)).output
    )
    assert status["counts"] == {"returned": 2, "rejected": 0, "held": 0, "missing": 13}
    text = run("status", "--period", PERIOD, "--home", str(home.root)).output
    assert re.search(r"M01\s+Calder House\s+returned\s+100\.0% Green", text)


def test_process_takes_the_files_in_one_batch_and_times_the_outputs(home, monkeypatch):
    from engine.pipeline import Intake

    batches = []
    real = Intake.process_many

    def spy(self, paths):
        batches.append(list(paths))
        return real(self, paths)

    monkeypatch.setattr(Intake, "process_many", spy)
    first = make_return(home, "M01")
    second = make_return(home, "M02")
    result = run("process", str(first), str(second), str(first), "--home", str(home.root))
    assert result.exit_code == 0, result.output
    assert [[p.name for p in b] for b in batches] == [[first.name, second.name]]
    assert re.search(rf"^outputs rebuilt for {PERIOD} in \d+\.\d s$", result.output, re.M)
    assert (home.outbox / PERIOD / f"SeQuIn_scores_{PERIOD}.csv").exists()


def test_process_no_outputs_records_but_leaves_the_month_to_rebuild(home):
    make_return(home, "M01")
    result = run(
        "process",
        str(home.inbox / "SeQuIn_M01_2026-11.xlsx"),
        "--no-outputs",
        "--json",
        "--home",
        str(home.root),
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [o["outcome"] for o in data["outcomes"]] == ["accepted"] and data["outputs"] == []
    assert not (home.outbox / PERIOD).exists()
    ledger = home.open_ledger()
    try:
        assert ledger.dirty_periods() == [PERIOD]
    finally:
        ledger.close()
    text = run("process", str(make_return(home, "M02")), "--no-outputs", "--home", str(home.root))
    assert f"outputs not rebuilt for {PERIOD}" in text.output
    assert not (home.outbox / PERIOD).exists()
    rebuilt = run("process", str(make_return(home, "M03")), "--json", "--home", str(home.root))
    outputs = json.loads(rebuilt.output)["outputs"]
    assert [o["period"] for o in outputs] == [PERIOD] and outputs[0]["files"] > 0
    assert (home.outbox / PERIOD / f"SeQuIn_scores_{PERIOD}.csv").exists()


def test_secret_is_never_printed(home, tmp_path):
    secret = home.secret().decode()
    outputs = [
        run("init", str(home.root)).output,
        run("generate", "--period", PERIOD, "--json", "--home", str(home.root)).output,
    ]
    assert all(secret not in o for o in outputs)

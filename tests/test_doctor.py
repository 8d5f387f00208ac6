"""``sequin doctor``: a healthy home says so (exit 0); each broken home names its problem (exit 1)."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3

import pytest
from click.testing import CliRunner

from cli import main
from engine.doctor import check_home
from engine.outputs import refresh_outputs

from .conftest import PERIOD


def doctor(home_root, *extra: str):
    result = CliRunner().invoke(
        main, ["doctor", "--home", str(home_root), *extra], catch_exceptions=False
    )
    assert "Traceback" not in result.output
    return result


def checks(home_root) -> dict:
    result = doctor(home_root, "--json")
    data = json.loads(result.output)
    assert result.exit_code == (0 if data["healthy"] else 1)
    return {c["name"]: c for c in data["checks"]}


def test_healthy_home_says_so(taken_home):
    refresh_outputs(taken_home, [PERIOD])  # its outputs built, as the engine leaves a home
    result = doctor(taken_home.root)
    assert result.exit_code == 0, result.output
    assert result.output.rstrip().endswith("The home is healthy.")
    assert "PROBLEM" not in result.output
    assert "2 archived original(s), each matching its sha256" in result.output


def test_json_shape(taken_home):
    data = json.loads(doctor(taken_home.root, "--json").output)
    assert set(data) == {"home", "healthy", "problems", "warnings", "checks"}
    assert (
        data["healthy"] is True and data["problems"] == 0 and data["home"] == str(taken_home.root)
    )
    assert [c["name"] for c in data["checks"]] == [
        "home",
        "config",
        "secret",
        "ledger",
        "archive",
        "originals",
        "unfinished",
        "outputs",
        "folders",
        "disk",
    ]
    for c in data["checks"]:
        assert set(c) == {"name", "status", "message", "action", "files"}
        assert c["status"] in {"ok", "warning", "problem"}


def test_new_home_is_healthy_and_the_doctor_changes_nothing(home):
    before = sorted(p.relative_to(home.root) for p in home.root.rglob("*"))
    assert doctor(home.root).exit_code == 0
    assert sorted(p.relative_to(home.root) for p in home.root.rglob("*")) == before


def test_ledger_is_read_only_for_the_doctor(taken_home):
    before = hashlib.sha256(taken_home.ledger_path.read_bytes()).hexdigest()
    assert doctor(taken_home.root).exit_code == 0
    assert hashlib.sha256(taken_home.ledger_path.read_bytes()).hexdigest() == before


def test_not_a_home(tmp_path):
    result = doctor(tmp_path / "nowhere")
    assert result.exit_code == 1
    assert "PROBLEM  home" in result.output and "is not a SeQuIn home" in result.output
    assert "sequin init" in result.output
    assert not (tmp_path / "nowhere").exists()
    found = checks(tmp_path / "nowhere")
    assert list(found) == ["home"] and found["home"]["status"] == "problem"


def test_lost_secret(taken_home):
    taken_home.secret_path.unlink()
    result = doctor(taken_home.root)
    assert result.exit_code == 1
    assert (
        "PROBLEM  secret" in result.output
        and "is missing, but the ledger holds 2 file(s)" in result.output
    )
    assert "Put back .sequin-secret from your backup" in result.output
    assert not taken_home.secret_path.exists()


def test_replaced_secret(taken_home):
    assert doctor(taken_home.root).exit_code == 0
    taken_home.secret()  # every command records the secret's fingerprint in the ledger
    taken_home.secret_path.write_text("f" * 64 + "\n")
    found = checks(taken_home.root)
    assert found["secret"]["status"] == "problem"
    assert "is not the secret this home's ledger was started with" in found["secret"]["message"]
    assert "backup" in found["secret"]["action"]


def test_secret_others_can_read(taken_home):
    os.chmod(taken_home.secret_path, 0o644)
    found = checks(taken_home.root)
    assert found["secret"]["status"] == "problem" and "chmod 600" in found["secret"]["action"]


def test_truncated_ledger(taken_home):
    size = taken_home.ledger_path.stat().st_size
    with open(taken_home.ledger_path, "r+b") as fh:
        fh.truncate(size // 2)
    result = doctor(taken_home.root)
    assert result.exit_code == 1
    assert "PROBLEM  ledger" in result.output and "is damaged or cannot be read" in result.output
    assert "put back ledger.sqlite from your latest backup" in result.output


def test_ledger_deleted_while_the_archive_holds_returns(taken_home):
    taken_home.ledger_path.unlink()
    found = checks(taken_home.root)
    assert found["ledger"]["status"] == "problem"
    assert "is missing, but archive/ holds accepted returns" in found["ledger"]["message"]
    assert not taken_home.ledger_path.exists()


def test_archived_original_changed(taken_home):
    original = next(taken_home.archive.rglob("*.xlsx"))
    original.write_bytes(original.read_bytes() + b"\0")
    found = checks(taken_home.root)
    assert found["archive"]["status"] == "problem"
    assert original.name in found["archive"]["message"] and found["archive"]["files"] == [
        str(original)
    ]


def test_archived_original_missing(taken_home):
    original = next(taken_home.archive.rglob("*.xlsx"))
    original.unlink()
    found = checks(taken_home.root)
    assert found["originals"]["status"] == "problem"
    assert found["originals"]["files"] == [original.stem]
    assert "1 accepted return(s) have no original in archive/" in found["originals"]["message"]


def test_interrupted_run_is_a_warning_saying_how_to_finish_it(taken_home):
    refresh_outputs(taken_home, [PERIOD])
    db = sqlite3.connect(taken_home.ledger_path)
    with db:
        db.execute("UPDATE drops SET state = 'recorded' WHERE id = (SELECT MIN(id) FROM drops)")
    db.close()
    result = doctor(taken_home.root)
    assert result.exit_code == 0, result.output
    assert "warning  unfinished" in result.output and "sequin watch --once" in result.output
    assert "The home is healthy (1 warning: see above)." in result.output


def test_unwritable_folder(taken_home):
    if os.geteuid() == 0:
        pytest.skip("root may write anywhere")
    os.chmod(taken_home.inbox, 0o555)
    try:
        found = checks(taken_home.root)
    finally:
        os.chmod(taken_home.inbox, 0o755)
    assert (
        found["folders"]["status"] == "problem"
        and str(taken_home.inbox) in found["folders"]["files"]
    )


def test_low_disk_space_is_a_warning(taken_home):
    diagnosis = check_home(taken_home.root, min_free=1 << 60)
    disk = next(c for c in diagnosis.checks if c.name == "disk")
    assert disk.status == "warning" and "free on the disk holding" in disk.message
    assert diagnosis.healthy


def test_a_fresh_repository_like_home_only_warns_about_the_secret(tmp_path):
    (tmp_path / "inbox").mkdir()
    (tmp_path / "outbox").mkdir()
    found = checks(tmp_path)
    assert found["secret"]["status"] == "warning" and "sequin init" in found["secret"]["action"]
    assert all(c["status"] != "problem" for c in found.values())

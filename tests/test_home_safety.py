"""A home is a home: a wrong home, a lost or replaced secret and a broken ledger are refused in
plain words, and no command answers with a traceback (bad month, full disk, closed pipe)."""

from __future__ import annotations

import errno
import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from engine.errors import ConfigError
from engine.home import Home, init_home, is_home, open_home, secret_fingerprint

from .conftest import PERIOD, make_return

ROOT = Path(__file__).parent.parent


def run(*args: str, env: dict | None = None):
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    assert "Traceback" not in result.output
    return result


def commands_on(home_root: Path, tmp_path: Path) -> list[list[str]]:
    """Every command that works on a home, as a lead would type it."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(exist_ok=True)
    file = elsewhere / f"SeQuIn_M01_{PERIOD}.xlsx"
    file.write_bytes(b"PK\x03\x04 not really a workbook")
    return [
        ["status", "--period", PERIOD],
        ["report", "--period", PERIOD],
        ["generate", "--period", PERIOD, "--unit", "M03"],
        ["validate", str(file)],
        ["process", str(file)],
        ["watch", "--once"],
    ]


# --- a wrong home -------------------------------------------------------------------------


@pytest.mark.parametrize("index", range(6))
def test_mistyped_home_is_refused_and_nothing_is_created(tmp_path, index):
    wrong = tmp_path / "sequin-hoem"
    args = commands_on(wrong, tmp_path)[index]
    result = run(*args, "--home", str(wrong))
    assert result.exit_code == 1, result.output
    assert f"Error: {wrong} is not a SeQuIn home (there is no such folder)" in result.output
    assert (
        f"Hint: Run 'sequin init {wrong}' to make one, or check --home / SEQUIN_HOME."
        in result.output
    )
    assert not wrong.exists()


def test_mistyped_sequin_home_variable_is_refused_and_nothing_is_created(tmp_path):
    wrong = tmp_path / "srv" / "sequni"
    result = run("status", "--period", PERIOD, env={"SEQUIN_HOME": str(wrong)})
    assert result.exit_code == 1
    assert f"{wrong} is not a SeQuIn home" in result.output and "SEQUIN_HOME" in result.output
    assert not wrong.exists() and not wrong.parent.exists()


def test_an_unrelated_folder_or_a_file_is_not_a_home(tmp_path):
    documents = tmp_path / "Documents"
    documents.mkdir()
    (documents / "minutes.docx").write_bytes(b"x")
    result = run("generate", "--period", PERIOD, "--home", str(documents))
    assert result.exit_code == 1
    assert "is not a SeQuIn home (it has no network.toml" in result.output
    assert sorted(p.name for p in documents.iterdir()) == ["minutes.docx"]
    result = run("status", "--period", PERIOD, "--home", str(documents / "minutes.docx"))
    assert result.exit_code == 1 and "(it is a file, not a folder)" in result.output


def test_the_repository_and_a_folder_with_inbox_and_outbox_are_homes(tmp_path):
    assert is_home(ROOT)
    (tmp_path / "inbox").mkdir()
    (tmp_path / "outbox").mkdir()
    result = run("status", "--period", PERIOD, "--json", "--home", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert '"missing": 15' in result.output


def test_generate_never_makes_a_secret_only_init_does(tmp_path):
    (tmp_path / "inbox").mkdir()
    (tmp_path / "outbox").mkdir()
    result = run("generate", "--period", PERIOD, "--home", str(tmp_path))
    assert result.exit_code == 1
    assert "there is no signing secret (.sequin-secret)" in result.output
    assert f"run 'sequin init {tmp_path}'" in result.output
    assert not (tmp_path / ".sequin-secret").exists()
    assert run("init", str(tmp_path)).exit_code == 0
    assert (
        run("generate", "--period", PERIOD, "--unit", "M01", "--home", str(tmp_path)).exit_code == 0
    )


def test_demo_makes_a_home_in_a_new_folder_but_not_in_an_unrelated_one(tmp_path):
    new = tmp_path / "try-sequin"
    result = run("demo", "--months", "1", "--home", str(new))
    assert result.exit_code == 0, result.output
    assert is_home(new) and (new / ".sequin-secret").exists()
    assert run("doctor", "--home", str(new)).exit_code == 0
    empty = tmp_path / "empty"
    empty.mkdir()
    assert open_home(empty, new_ok=True).root == empty
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    result = run("demo", "--months", "1", "--home", str(busy))
    assert result.exit_code == 1 and "is not a SeQuIn home" in result.output
    assert [p.name for p in busy.iterdir()] == ["notes.txt"]


# --- a lost or replaced secret ------------------------------------------------------------


@pytest.mark.parametrize("index", range(6))
def test_lost_secret_is_refused_saying_to_restore_it_never_regenerated(taken_home, tmp_path, index):
    taken_home.secret_path.unlink()
    args = commands_on(taken_home.root, tmp_path)[index]
    result = run(*args, "--home", str(taken_home.root))
    assert result.exit_code == 1, result.output
    assert f"Error: the signing secret {taken_home.secret_path} is missing" in result.output
    assert "Put back .sequin-secret from your backup" in result.output
    assert "Do not make a new one" in result.output and "made by another network" in result.output
    assert not taken_home.secret_path.exists()


def test_init_will_not_replace_a_lost_secret(taken_home):
    taken_home.secret_path.unlink()
    result = run("init", str(taken_home.root))
    assert result.exit_code == 1 and "is missing" in result.output and "backup" in result.output
    assert not taken_home.secret_path.exists()


def test_replaced_secret_is_refused_not_taken_for_another_network(taken_home, tmp_path):
    good = make_return(taken_home, "M03", folder=tmp_path)  # signed with the home's own secret
    taken_home.secret_path.unlink()
    fd = os.open(taken_home.secret_path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, uuid.uuid4().hex.encode() * 2 + b"\n")
    os.close(fd)
    for args in (["validate", str(good)], ["process", str(good)], ["status", "--period", PERIOD]):
        result = run(*args, "--home", str(taken_home.root))
        assert result.exit_code == 1, result.output
        assert "is not the one this home's ledger was started with" in result.output
        assert "Put back the original .sequin-secret from your backup" in result.output
    assert good.exists()


def test_secret_fingerprint_is_kept_in_the_ledger_not_the_secret(taken_home):
    import engine.ledger

    secret = taken_home.secret()
    ledger = engine.ledger.Ledger(taken_home.ledger_path)
    try:
        assert ledger.get_meta("secret_fingerprint") == secret_fingerprint(secret)
    finally:
        ledger.close()
    assert secret not in taken_home.ledger_path.read_bytes()


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
def test_secret_restored_through_notepad_is_read_as_it_was(taken_home, tmp_path, encoding):
    secret = taken_home.secret().decode()
    good = make_return(taken_home, "M04", folder=tmp_path)
    taken_home.secret_path.write_bytes(f"{secret}\r\n".encode(encoding))
    assert Home(taken_home.root).secret() == secret.encode()
    result = run("validate", str(good), "--home", str(taken_home.root))
    assert result.exit_code == 0 and "VALID" in result.output


# --- a broken ledger ----------------------------------------------------------------------


def test_ledger_truncated_to_half_is_a_plain_refusal(taken_home, tmp_path):
    path = taken_home.ledger_path
    assert not path.with_name(path.name + "-wal").exists()
    size = path.stat().st_size
    with open(path, "r+b") as fh:
        fh.truncate(size // 2)
    for args in commands_on(taken_home.root, tmp_path):
        result = run(*args, "--home", str(taken_home.root))
        assert result.exit_code == 1, (args, result.output)
        assert f"Error: the ledger {path} is damaged" in result.output, (args, result.output)
        assert "put back ledger.sqlite from your latest backup" in result.output
        assert "sequin doctor" in result.output
    assert path.stat().st_size == size // 2


def test_ledger_deleted_while_the_archive_holds_returns_is_refused(taken_home, tmp_path):
    taken_home.ledger_path.unlink()
    for args in commands_on(taken_home.root, tmp_path):
        result = run(*args, "--home", str(taken_home.root))
        assert result.exit_code == 1, (args, result.output)
        assert "is missing, but archive/ holds accepted returns" in result.output
        assert "Put back ledger.sqlite from your latest backup" in result.output
        assert not taken_home.ledger_path.exists()


def test_emptied_ledger_does_not_start_a_new_history(taken_home):
    taken_home.ledger_path.write_bytes(b"")
    result = run("status", "--period", PERIOD, "--home", str(taken_home.root))
    assert result.exit_code == 1
    assert "holds no returns, but archive/ holds accepted ones" in result.output


def test_library_refuses_the_same_way(taken_home):
    taken_home.secret_path.unlink()
    with pytest.raises(ConfigError, match="is missing"):
        Home(taken_home.root).secret()
    with pytest.raises(ConfigError, match="is missing"):
        Home(taken_home.root).open_ledger()


# --- every engine error is a message ------------------------------------------------------


def test_full_disk_names_the_folder(home, monkeypatch):
    import engine.generation

    target = home.outbox / PERIOD / "workbooks" / "SeQuIn_M01_2026-11.xlsx"

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(target))

    monkeypatch.setattr(engine.generation, "generate", full)
    result = run("generate", "--period", PERIOD, "--home", str(home.root))
    assert result.exit_code == 1
    assert f"Error: the disk holding {target.parent} is full" in result.output
    assert "Hint: Free some space on that disk" in result.output


def test_full_ledger_disk_and_other_file_errors_are_messages(home, monkeypatch):
    import engine.status

    def full(*args, **kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(engine.status, "period_status", full)
    result = run("status", "--period", PERIOD, "--home", str(home.root))
    assert result.exit_code == 1 and f"the disk holding {home.root} is full" in result.output

    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(home.outbox / PERIOD))

    monkeypatch.setattr(engine.status, "period_status", denied)
    result = run("status", "--period", PERIOD, "--home", str(home.root))
    assert result.exit_code == 1
    assert f"Error: Permission denied: {home.outbox / PERIOD}" in result.output
    assert "Hint: Check that you may read and write there" in result.output


@pytest.fixture
def tiny_disk(tmp_path):
    """A real 512 kB file system (tmpfs), where one can be mounted (root on Linux)."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    if sys.platform != "linux" or os.geteuid() != 0:
        pytest.skip("mounting a small file system needs root on Linux")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(mount)],
        check=False,
        capture_output=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_a_really_full_disk_is_a_message(tiny_disk):
    home = init_home(tiny_disk / "home")
    result = run("generate", "--period", PERIOD, "--home", str(home.root))
    assert result.exit_code == 1, result.output
    assert f"Error: the disk holding {home.root}" in result.output and "is full" in result.output
    assert "Free some space on that disk" in result.output


@pytest.mark.parametrize("command", ["status", "doctor"])
def test_closed_pipe_ends_quietly(taken_home, command):
    read, write = os.pipe()
    os.close(read)  # like '| head -1' that has already stopped reading
    args = [command, "--period", PERIOD] if command == "status" else [command]
    try:
        proc = subprocess.run(
            [sys.executable, str(ROOT / "cli.py"), *args, "--home", str(taken_home.root)],
            stdout=write,
            stderr=subprocess.PIPE,
            timeout=120,
            cwd=ROOT,
            check=False,
        )
    finally:
        os.close(write)
    assert proc.returncode == 1
    assert proc.stderr == b""

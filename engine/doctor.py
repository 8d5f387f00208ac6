"""The doctor: checks a home and says what to do about each problem.

Each check gives a name, a status (``ok``, ``warning`` or ``problem``), a
message and what to do. A home with no problem is healthy (warnings allowed).
The doctor only reads: it opens the ledger read-only and changes nothing.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .errors import SequinError
from .files import sha256_file
from .home import (
    CONFIG_FILE,
    LEDGER_FILE,
    PERIOD,
    SECRET_FILE,
    Home,
    is_home,
    not_a_home,
    secret_fingerprint,
)
from .ledger import LedgerFacts as _LedgerFacts
from .ledger import read_facts

OK, WARNING, PROBLEM = "ok", "warning", "problem"
MIN_FREE_BYTES = 200 * 1024 * 1024
_ARCHIVED = re.compile(r"^([0-9a-f]{64})\.xlsx$")
_SHOWN = 5  # file names shown in a message; the JSON lists them all


@dataclass(frozen=True)
class Check:
    """The result of one check."""

    name: str
    status: str
    message: str
    action: str = ""
    files: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "status": self.status,
            "message": self.message,
            "action": self.action,
            "files": list(self.files),
        }


@dataclass
class Diagnosis:
    """Every check of a home, in order."""

    home: str
    checks: list[Check] = field(default_factory=list)

    @property
    def problems(self) -> list[Check]:
        return [c for c in self.checks if c.status == PROBLEM]

    @property
    def warnings(self) -> list[Check]:
        return [c for c in self.checks if c.status == WARNING]

    @property
    def healthy(self) -> bool:
        """No problem (warnings allowed)."""
        return not self.problems

    @property
    def summary(self) -> str:
        """One line: healthy, or how many problems and warnings."""
        p, w = len(self.problems), len(self.warnings)
        warned = f" ({w} warning{'s' * (w != 1)}: see above)" if w else ""
        if not p:
            return f"The home is healthy{warned}."
        return (
            f"{p} problem{'s' * (p != 1)}{' and ' + str(w) + ' warning' + 's' * (w != 1) if w else ''}"
            ": do what each says, then run 'sequin doctor' again."
        )

    def to_dict(self) -> dict:
        return {
            "home": self.home,
            "healthy": self.healthy,
            "problems": len(self.problems),
            "warnings": len(self.warnings),
            "checks": [c.to_dict() for c in self.checks],
        }


def _names(paths) -> str:
    paths = list(paths)
    shown = ", ".join(str(p) for p in paths[:_SHOWN])
    return shown + (f" and {len(paths) - _SHOWN} more" if len(paths) > _SHOWN else "")


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):,.0f} MB"


def check_home(root: Path | str, *, min_free: int = MIN_FREE_BYTES) -> Diagnosis:
    """Check the home at ``root``: is it a home, its config, secret, ledger, archive, folders, disk."""
    root = Path(root).absolute()
    result = Diagnosis(str(root))
    add = result.checks.append
    if not is_home(root):
        error = not_a_home(root)
        add(Check("home", PROBLEM, str(error), error.hint))
        return result
    home = Home(root, allow_open_secret=True)
    add(
        Check(
            "home",
            OK,
            f"a SeQuIn home{' with ' + CONFIG_FILE if home.config_path.exists() else ''}",
        )
    )
    add(_check_config(home))
    ledger_check, facts = _check_ledger(home)
    add(_check_secret(home, facts))
    add(ledger_check)
    add(_check_archive(home))
    if facts is not None:
        add(_check_originals(home, facts))
        add(_check_unfinished(facts))
        add(_check_outputs(home, facts))
    add(_check_folders(home))
    add(_check_disk(home, min_free))
    return result


def _check_config(home: Home) -> Check:
    try:
        network = home.network
    except SequinError as exc:
        return Check("config", PROBLEM, str(exc), exc.hint)
    except OSError as exc:
        return Check(
            "config",
            PROBLEM,
            f"{home.config_path} cannot be read ({exc.strerror})",
            "Check that you may read it.",
        )
    where = CONFIG_FILE if home.config_path.exists() else "the embedded default network"
    return Check("config", OK, f"{where}: {network.name}, {len(network.units)} units")


def _read_ledger(path: Path) -> _LedgerFacts:
    return read_facts(path)


def _check_ledger(home: Home) -> tuple[Check, _LedgerFacts | None]:
    path = home.ledger_path
    restore = (
        f"Stop the engine and put back {LEDGER_FILE} from your latest backup (the archive/ folder "
        "keeps every accepted original), then run 'sequin doctor' again."
    )
    if not path.exists():
        if home.archive_has_files():
            return Check(
                "ledger",
                PROBLEM,
                f"{path} is missing, but archive/ holds accepted returns",
                restore,
            ), None
        return Check(
            "ledger", OK, "no ledger yet: the first file taken in starts it"
        ), _LedgerFacts()
    try:
        facts = _read_ledger(path)
    except sqlite3.Error as exc:
        return Check(
            "ledger", PROBLEM, f"{path} is damaged or cannot be read ({exc})", restore
        ), None
    if not facts.returns and home.archive_has_files():
        return Check(
            "ledger",
            PROBLEM,
            f"{path} holds no returns, but archive/ holds accepted ones "
            "(the ledger was emptied or replaced)",
            restore,
        ), None
    return Check(
        "ledger",
        OK,
        f"integrity check passed; {facts.drops} file(s) taken in, "
        f"{len(facts.returns)} accepted return(s)",
    ), facts


def _outbox_workbooks(home: Home) -> bool:
    return next(home.outbox.glob("*/workbooks/*.xlsx"), None) is not None


def _check_secret(home: Home, facts: _LedgerFacts | None) -> Check:
    path = home.secret_path
    restore = (
        f"Put back {SECRET_FILE} from your backup, the same file (then 'chmod 600 {path}'). "
        "Never make a new one: every workbook already sent to units is signed with it, and "
        "would be rejected as made by another network."
    )
    if not path.exists():
        if facts is not None and (facts.drops or facts.fingerprint):
            return Check(
                "secret",
                PROBLEM,
                f"{path} is missing, but the ledger holds {facts.drops} file(s) taken in with it",
                restore,
            )
        if _outbox_workbooks(home):
            return Check(
                "secret",
                PROBLEM,
                f"{path} is missing, but outbox/ holds workbooks signed with it",
                restore + f" If none was ever sent, run 'sequin init {home.root}' "
                "and generate them again.",
            )
        return Check(
            "secret",
            WARNING,
            "no signing secret yet",
            f"Run 'sequin init {home.root}' to make one before generating workbooks.",
        )
    try:
        found = home._read_secret()
    except SequinError as exc:
        return Check("secret", PROBLEM, str(exc), exc.hint)
    except OSError as exc:
        return Check(
            "secret",
            PROBLEM,
            f"{path} cannot be read ({exc.strerror})",
            "Check that the account running sequin owns it and may read it.",
        )
    if os.name == "posix":
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            return Check(
                "secret",
                PROBLEM,
                f"{path} can be read by other users (mode {mode:o})",
                f"Run 'chmod 600 {path}': anyone who can read it can make a workbook pass "
                "as another unit's.",
            )
    if facts is None:
        return Check(
            "secret",
            OK,
            "present and readable by its owner only (not compared: the ledger cannot be read)",
        )
    if facts.fingerprint is None:
        return Check(
            "secret",
            OK,
            "present and readable by its owner only; its fingerprint is "
            "recorded in the ledger on the next run",
        )
    if facts.fingerprint != secret_fingerprint(found[1]):
        return Check(
            "secret",
            PROBLEM,
            f"{path} is not the secret this home's ledger was started with",
            restore,
        )
    return Check(
        "secret", OK, "present, readable by its owner only, and the one the ledger was started with"
    )


def _archived_files(home: Home) -> list[Path]:
    if not home.archive.is_dir():
        return []
    return sorted(p for p in home.archive.rglob("*") if p.is_file())


def _check_archive(home: Home) -> Check:
    files = _archived_files(home)
    changed, stray = [], []
    for path in files:
        m = _ARCHIVED.match(path.name)
        if not m or path.parent.name != m.group(1)[:2] or path.parent.parent != home.archive:
            stray.append(path)
            continue
        try:
            if sha256_file(path) != m.group(1):
                changed.append(path)
        except OSError:
            changed.append(path)
    if changed:
        return Check(
            "archive",
            PROBLEM,
            f"{len(changed)} archived original(s) do not match their sha256 name (changed or "
            f"damaged): {_names(p.name for p in changed)}",
            "Put these files back from your backup: the originals are the record of what "
            "units sent. Scores in the ledger are not affected.",
            tuple(str(p) for p in changed),
        )
    if stray:
        return Check(
            "archive",
            WARNING,
            f"{len(stray)} file(s) in archive/ that the engine did not put there: "
            f"{_names(p.name for p in stray)}",
            "Move them out of archive/ (a leftover '.sequin-tmp-' file is removed by the next "
            "run).",
            tuple(str(p) for p in stray),
        )
    return Check("archive", OK, f"{len(files)} archived original(s), each matching its sha256")


def _check_originals(home: Home, facts: _LedgerFacts) -> Check:
    unfinished = {sha for sha, _, _ in facts.unfinished}
    archived = {m.group(1) for p in _archived_files(home) if (m := _ARCHIVED.match(p.name))}
    missing = sorted(facts.returns - archived - unfinished)
    unknown = sorted(archived - facts.returns)
    if missing:
        return Check(
            "originals",
            PROBLEM,
            f"{len(missing)} accepted return(s) have no original in archive/: {_names(missing)}",
            "Put archive/ back from your backup (each original is archive/<first two "
            "characters>/<sha256>.xlsx).",
            tuple(missing),
        )
    if unknown:
        return Check(
            "originals",
            WARNING,
            f"{len(unknown)} archived original(s) are not in the ledger (was it put back from an "
            f"older backup?): {_names(unknown)}",
            "Copy each of them into the inbox to take it in again.",
            tuple(unknown),
        )
    return Check(
        "originals",
        OK,
        f"every accepted return ({len(facts.returns)}) has its original in archive/",
    )


def _check_unfinished(facts: _LedgerFacts) -> Check:
    if facts.unfinished:
        names = [name for _, name, _ in facts.unfinished]
        return Check(
            "unfinished",
            WARNING,
            f"{len(names)} file(s) were recorded but not finished (an interrupted run): "
            f"{_names(names)}",
            "Run 'sequin watch --once' (or start the watcher, or 'sequin process FILE') to "
            "finish them.",
            tuple(names),
        )
    return Check("unfinished", OK, "no interrupted work")


def _built(home: Home, period: str) -> bool:
    """Whether the month's outputs were built: its network workbook is in the outbox."""
    return (home.outbox / period / f"SeQuIn_network_{period}.xlsx").is_file()


def _check_outputs(home: Home, facts: _LedgerFacts) -> Check:
    """Each month's outputs against the ledger.

    The ledger marks a month to be rebuilt in the same transaction that counts,
    replaces or releases a return or a family and friends response for it (or for an
    earlier month, whose figures its trends show), and clears the mark once the
    month's outputs are built from it. A month still marked whose outputs are there
    shows what counted before; a month with something counted and no outputs was
    never built (or its outputs were removed).
    """
    dirty, counted = set(facts.dirty), set(facts.counted)
    stale, never = [], []
    for period in sorted(dirty | counted):
        if not PERIOD.match(period):
            continue
        if _built(home, period):
            if period in dirty:
                stale.append(period)
        elif period in counted:
            never.append(period)
    if not stale and not never:
        if not counted:
            return Check("outputs", OK, "no return counted yet: no outputs to build")
        return Check(
            "outputs",
            OK,
            f"every month with returns counted ({len(counted)}) has its outputs, built after "
            "its last change",
        )
    said = []
    if stale:
        said.append(
            f"the outputs of {_months(stale)} are out of date: returns or family and friends "
            "responses were counted, replaced or released after they were built"
        )
    if never:
        said.append(
            f"{_months(never)} {'has' if len(never) == 1 else 'have'} returns counted but no "
            "outputs in outbox/ (never built, or removed)"
        )
    months = sorted(stale + never)
    run = ", then ".join(f"'sequin report --period {p}'" for p in months)
    return Check(
        "outputs",
        WARNING,
        "; ".join(said),
        f"Run {run} to build them from the ledger before sharing them. (If the watcher is "
        "running, it may be rebuilding them now: run 'sequin doctor' again in a minute.)",
        tuple(months),
    )


def _months(periods: list[str]) -> str:
    if len(periods) == 1:
        return periods[0]
    return ", ".join(periods[:-1]) + " and " + periods[-1]


def _writable(folder: Path) -> bool:
    try:
        with tempfile.TemporaryFile(dir=folder, prefix=".sequin-tmp-doctor-"):
            return True
    except OSError:
        return False


def _check_folders(home: Home) -> Check:
    missing, read_only = [], []
    for folder in (home.root, home.inbox, home.outbox, home.archive):
        if not folder.is_dir():
            missing.append(folder)
        elif not _writable(folder):
            read_only.append(folder)
    if read_only:
        return Check(
            "folders",
            PROBLEM,
            f"cannot write to {_names(read_only)}",
            "Give the account that runs sequin permission to write there.",
            tuple(str(p) for p in read_only),
        )
    if missing:
        return Check(
            "folders",
            WARNING,
            f"missing: {_names(p.name + '/' for p in missing)}",
            "The next run creates them ('sequin init' too).",
            tuple(str(p) for p in missing),
        )
    return Check("folders", OK, "inbox/, outbox/ and archive/ are there and writable")


def _check_disk(home: Home, min_free: int) -> Check:
    try:
        free = shutil.disk_usage(home.root).free
    except OSError as exc:
        return Check("disk", WARNING, f"free space unknown ({exc.strerror})")
    if free < min_free:
        return Check(
            "disk",
            WARNING,
            f"only {_mb(free)} free on the disk holding {home.root}",
            "Free some space: returns, outputs and the ledger need room to be written.",
        )
    return Check("disk", OK, f"{_mb(free)} free")

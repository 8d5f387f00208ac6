"""The pipeline: one path from a file in the inbox to one recorded outcome.

pre-check -> read (sandboxed) -> check -> score -> record -> archive -> tell the lead.

Used by the watcher and by ``sequin process``. Any exception while handling
one file becomes a finding for that file, so every file gets an outcome.

Crash safety: the outcome is recorded in one transaction *before* the
original is moved or the report written (state ``recorded``); those steps are
idempotent and the drop is then marked ``done``. A restart calls
:func:`Intake.recover`, which finishes any drop left ``recorded``. A file
whose outcome was never committed is still in the inbox and is simply
processed again. So nothing is lost and nothing is counted twice.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from . import template as T
from .bank import known_banks
from .checks import Return, check_return
from .faults import crashpoint
from .files import clean_up_temp_files, sha256_file, write_atomic, write_text_atomic
from .findings import Finding, error, has_errors
from .home import Home
from .ledger import Drop, Ledger
from .lock import HomeLock
from .receipts import is_report, problems_text, receipt_text, report_name
from .sandbox import ReadFailed, Sandbox
from .scoring import Scores, score

IGNORED_PREFIXES = ("~$", ".~lock.", ".", "~")
IGNORED_SUFFIXES = (".tmp", ".part", ".crdownload", "#")


def is_ignored(name: str) -> bool:
    """Lock files, temporary files, dotfiles and the engine's own reports are not returns."""
    return (
        name.startswith(IGNORED_PREFIXES)
        or name.lower().endswith(IGNORED_SUFFIXES)
        or is_report(name)
    )


@dataclass
class Outcome:
    """What happened to one file."""

    name: str
    outcome: str  # accepted | rejected | skipped
    findings: list[Finding] = field(default_factory=list)
    unit: str = ""
    period: str = ""
    bank_version: str = ""
    scores: Scores | None = None
    report: Path | None = None
    duplicate: bool = False
    drop_id: int | None = None

    @property
    def valid(self) -> bool:
        return self.outcome == "accepted"

    def to_dict(self) -> dict:
        return {
            "file": self.name,
            "outcome": self.outcome,
            "valid": self.valid,
            "duplicate": self.duplicate,
            "unit": self.unit,
            "period": self.period,
            "bank_version": self.bank_version,
            "report": str(self.report) if self.report else None,
            "findings": [f.to_dict() for f in self.findings],
            "scores": self.scores.to_dict() if self.scores else None,
        }


@dataclass
class Validation:
    """The result of checking one file, before anything is recorded."""

    findings: list[Finding]
    ret: Return | None
    scores: Scores | None

    @property
    def valid(self) -> bool:
        return self.ret is not None and not has_errors(self.findings)


def _read_failed_finding(exc: ReadFailed) -> Finding:
    if exc.kind == "timeout":
        return error(
            "file-unreadable",
            "Reading this file took far longer than a SeQuIn workbook ever should, so it was "
            "stopped. Ask the unit to send the workbook again.",
        )
    return error(
        "file-unreadable",
        "This file could not be read as a workbook (it may be damaged or made by a program that "
        "writes unusual files). Ask the unit to open it in Excel, save it, and send it again.",
    )


class Intake:
    """Everything the pipeline needs for a home, opened once and reused file after file."""

    def __init__(self, home: Home, *, sandbox: Sandbox | None = None, ledger: Ledger | None = None):
        self.home = home
        self.network = home.network
        self.banks = known_banks(home.banks_dir)
        self.secret = home.secret()
        self._sandbox = sandbox
        self._ledger = ledger
        self._lock = HomeLock(home.root)
        self._batch: set[int] = set()  # drops recorded in the batch being processed

    @property
    def sandbox(self) -> Sandbox:
        if self._sandbox is None:
            self._sandbox = Sandbox()
        return self._sandbox

    @property
    def ledger(self) -> Ledger:
        if self._ledger is None:
            self.home.ensure_folders()
            self._ledger = Ledger(self.home.ledger_path)
        return self._ledger

    def close(self) -> None:
        if self._sandbox is not None:
            self._sandbox.close()
        if self._ledger is not None:
            self._ledger.close()
        self._lock.release()

    def __enter__(self) -> Intake:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- checking (records nothing) -------------------------------------------------

    def validate(self, path: Path, file_name: str | None = None) -> Validation:
        """Pre-check, read, check and score one file. Records nothing."""
        path = Path(path)
        self.sandbox.submit(path)
        return self._collect(path, file_name)

    def _collect(self, path: Path, file_name: str | None = None) -> Validation:
        """The worker's answer for ``path`` (submitted before), checked and scored."""
        try:
            try:
                answer = self.sandbox.collect()
            except ReadFailed as exc:
                return Validation([_read_failed_finding(exc)], None, None)
            if "refused" in answer:
                return Validation([Finding(**f) for f in answer["refused"]], None, None)
            findings, ret = check_return(
                answer["ok"], network=self.network, banks=self.banks, secret=self.secret,
                file_name=file_name if file_name is not None else path.name,
            )
            scores = None
            if ret is not None:
                scores = score(self.banks[ret.bank_version], self.network, ret.ratings())
            return Validation(findings, ret, scores)
        except Exception as exc:  # noqa: BLE001 - a file must never stop the engine
            return Validation(
                [error("engine-error", f"The engine could not check this file ({type(exc).__name__}). "
                       "The file is kept; please report this to whoever runs the engine.")],
                None, None,
            )

    # --- processing (records the outcome) -------------------------------------------

    def archive_path(self, sha256: str) -> Path:
        """Where an accepted original is kept, named by its content."""
        return self.home.archive / sha256[:2] / f"{sha256}.xlsx"

    def process(self, path: Path) -> Outcome:
        """Take one file from the inbox (or anywhere) to one recorded outcome."""
        return self.process_many([path])[0]

    def process_many(self, paths: list[Path]) -> list[Outcome]:
        """Take files to their outcomes, in order.

        The worker pre-checks and reads the next file while this one is
        checked and recorded, and the outcomes of the whole batch are
        committed to the ledger in one transaction before any original is
        moved or report written. A crash before the commit leaves every file
        of the batch in the inbox, to be taken again; after it, the restart
        finishes what was recorded.
        """
        self._lock.acquire()
        unique = list(dict.fromkeys(Path(p).absolute() for p in paths))
        submitted = 0
        plans: list[Outcome | tuple] = []
        self._batch = set()
        with self.ledger.transaction():
            for i, path in enumerate(unique):
                while submitted < min(i + 2, len(unique)):
                    self.sandbox.submit(unique[submitted])
                    submitted += 1
                plan = self._record(path, self._collect(path, path.name))
                if not isinstance(plan, Outcome):
                    self._batch.add(plan[0][0].id)
                plans.append(plan)
                crashpoint("recorded in the batch, not yet committed")
        self._batch = set()
        crashpoint("batch committed, nothing moved yet")
        return [p if isinstance(p, Outcome) else self._finish(*p[0], **p[1]) for p in plans]

    def _record(self, path: Path, v: Validation) -> Outcome | tuple:
        """Record the outcome of one checked file.

        Returns a final Outcome, or the arguments of :meth:`_finish`, which
        archives the original or writes its report once the record is committed.
        """
        name = path.name
        try:
            st = path.stat()
            sha = sha256_file(path)
        except OSError as exc:
            return Outcome(name, "skipped", [error("file-gone", f"The file could not be opened ({exc.strerror}).")])
        arrived = dt.datetime.fromtimestamp(st.st_mtime, dt.timezone.utc).replace(microsecond=0).isoformat()
        previous = self.ledger.drops_for(sha)
        for drop in previous:
            if drop.state == "recorded" and drop.original_name == name and drop.id not in self._batch:
                return (drop, path), {}  # an interrupted run recorded this very file
            if drop.outcome == "rejected" and drop.original_name == name and path.parent == self.home.inbox:
                # The rejected original stays beside its report; it is not a new file.
                if not (path.parent / (drop.report_name or "")).exists():
                    return (drop, path), {"skipped": True}  # the report was deleted: write it again
                return Outcome(name, "skipped", drop_id=drop.id)
        existing = self.ledger.return_by_sha(sha)
        if existing is not None:
            first = next((d for d in previous if d.outcome == "accepted"), None)
            when = first.arrived_at if first else existing["received_at"]
            note = (f"These exact bytes were already received ({when}); this copy is kept in the "
                    f"history but not counted again.")
            drop = self.ledger.record(
                sha256=sha, original_name=name, size=st.st_size, arrived_at=arrived,
                outcome="accepted", findings=[], duplicate_of=existing["id"],
                report_name=report_name(name, True),
            )
            bank = self.banks[existing["bank_version"]]
            scores = self._stored_scores(existing["id"], existing)
            return (drop, path), {"scores": scores, "bank": bank, "note": note}

        accepted = v.valid
        drop = self.ledger.record(
            sha256=sha, original_name=name, size=st.st_size, arrived_at=arrived,
            outcome="accepted" if accepted else "rejected", findings=v.findings,
            ret=v.ret, scores=v.scores if accepted else None,
            report_name=report_name(name, accepted),
        )
        return (drop, path), {"findings": v.findings, "scores": v.scores, "ret": v.ret}

    def _stored_scores(self, return_id: int, row) -> Scores:
        from .scoring import AreaScore

        areas = {}
        for r in self.ledger.db.execute(
            "SELECT * FROM area_scores WHERE return_id = ?", (return_id,)
        ):
            areas[r["area_id"]] = AreaScore(
                r["area_id"], r["points"], r["available"], r["answered"], r["applicable"],
                T.STANDARDS_PER_AREA, r["percent"], r["rag"], bool(r["complete"]),
            )
        return Scores(areas, row["points"], row["available"], row["answered"], row["applicable"],
                      row["overall_percent"], row["overall_rag"])

    def _finish(self, drop: Drop, path: Path, *, findings=None, scores=None, ret=None, bank=None,
                note: str = "", skipped: bool = False) -> Outcome:
        """Archive or report a recorded drop; idempotent, so a restart can redo it."""
        crashpoint("recorded, before archive or report")
        if findings is None:
            findings = self.ledger.findings_for(drop.id)
        folder = path.parent if path.parent.exists() else self.home.inbox
        report = folder / (drop.report_name or report_name(drop.original_name, drop.outcome == "accepted"))
        unit, period = drop.unit or "", drop.period or ""
        if drop.outcome == "accepted":
            row = self.ledger.db.execute("SELECT * FROM returns WHERE id = ?", (drop.return_id,)).fetchone()
            if scores is None:
                scores = self._stored_scores(row["id"], row)
            bank = bank or self.banks[row["bank_version"]]
            unit, period = row["unit"], row["period"]
            if drop.duplicate_of and not note:
                note = "These exact bytes were already received; this copy is not counted again."
            target = self.archive_path(drop.sha256)
            if not target.exists() and path.exists():
                write_atomic(target, path.read_bytes())
            u = self.network.unit(unit)
            # Reports can be rewritten from the ledger, so they are not forced to disk.
            write_text_atomic(report, receipt_text(
                file_name=drop.original_name, unit=unit, unit_name=u.name if u else unit,
                period=period, received=drop.arrived_at, scores=scores, bank=bank,
                findings=findings, duplicate_note=note,
            ), durable=False)
            if target.exists() and path.exists() and path.parent == self.home.inbox:
                crashpoint("archived, before removing from the inbox")
                os.unlink(path)
                crashpoint("removed from the inbox, before done")
        else:
            write_text_atomic(report, problems_text(
                file_name=drop.original_name, received=drop.arrived_at, findings=findings,
                unit=unit, period=period,
            ), durable=False)
        self.ledger.mark_done(drop.id)
        if skipped:
            return Outcome(drop.original_name, "skipped", drop_id=drop.id)
        return Outcome(
            drop.original_name, drop.outcome, findings, unit, period,
            ret.bank_version if ret else "", scores if drop.outcome == "accepted" else None,
            report, bool(drop.duplicate_of), drop.id,
        )

    def recover(self) -> list[Outcome]:
        """Finish drops an interrupted run recorded but did not archive or report.

        Also removes temporary files an interrupted write left behind. Takes
        the home's lock first: only one engine works in a home at a time.
        """
        self._lock.acquire()
        for folder in (self.home.outbox, self.home.archive, self.home.inbox):
            clean_up_temp_files(folder)
        outcomes = []
        for drop in self.ledger.unfinished_drops():
            path = self.home.inbox / drop.original_name
            outcomes.append(self._finish(drop, path))
        return outcomes

    def pending(self) -> list[Path]:
        """Files waiting in the inbox, oldest first."""
        inbox = self.home.inbox
        if not inbox.is_dir():
            return []
        files = []
        with os.scandir(inbox) as it:
            for entry in it:
                if entry.is_file(follow_symlinks=False) and not is_ignored(entry.name):
                    files.append((entry.stat().st_mtime, entry.name, Path(entry.path)))
        return [p for _m, _n, p in sorted(files)]


def copy_into(path: Path, folder: Path) -> Path:
    """Copy a file into ``folder`` under its own name (for ``sequin process`` of outside files)."""
    target = folder / path.name
    shutil.copyfile(path, target)
    return target

"""The pipeline: one path from a file in the inbox to one recorded outcome.

take -> pre-check -> read (sandboxed) -> check -> score -> record -> archive -> tell the lead.

Used by the watcher and by ``sequin process``. Any exception while handling
one file becomes that file's outcome, so every file gets one and no file
stops the next.

**Taking a file.** An inbox entry is looked at without following it: only a
regular file is ever opened, and it is opened non-blocking, never following
a symbolic link, after its size has been checked. A symbolic link, named pipe,
socket or device gets a ``not-a-regular-file`` problems report and is left
where it is. A regular file is read *once*, into memory; those bytes are
hashed, and a private copy of exactly those bytes (``.intake/<sha256>.xlsx``
in the home) is what the worker checks and what the archive keeps. A file
whose size or modification time changed while it was read is not recorded:
it is taken again once it is still. The original is removed from the inbox
only if it is still the file that was read.

**Arrival.** A file arrived when the engine first saw it in the inbox (the
watcher's first event or scan, before the file is complete; see
:mod:`engine.sightings`), or, given to ``sequin process`` from elsewhere, when
it was looked at; never at its modification time, which is when the unit saved
it (a copy made by Windows Explorer keeps that). The sighting is forgotten in
the transaction that records the file's outcome. Files first seen together
are taken in the order they were saved (:meth:`Intake.pending`).

**Closed months.** A return or response for a month closed before it was
taken in is held (kept, not counted) until ``sequin release``: the month's
outputs were shared without it. Its receipt says when it arrived and when the
month was closed, truthfully either way round.

**Crash safety.** The outcome is recorded in one transaction *before* the
original is moved or the report written (state ``recorded``); those steps are
idempotent and the drop is then marked ``done``. A restart calls
:meth:`Intake.recover`, which finishes every drop left ``recorded``, wherever
its original was (the ledger keeps the original's path, and the private copy
outlives the process). A file whose outcome was never committed is still
where it was and is simply taken again. So nothing is lost and nothing is
counted twice.

**Older saves.** A workbook records when it was last saved. An accepted
return saved *before* the return already counted for its unit and month (an
older draft sent after the final version) is kept and archived but not
counted; its receipt says so and gives the command that makes it count
(``sequin release FILE``). When either save time is unknown, the return that
arrived last counts, as before.

**Family and friends responses** come through the same inbox and path. Every
accepted response of a unit and month counts (there is no older save and
nothing is replaced), except that the same bytes twice count once, and a
response for a closed month is kept but held until ``sequin release`` counts
it. A counted response marks its month's outputs for rebuilding. The original
is archived like a return and filed, with its receipt, in the unit's
``family/`` folder (see :mod:`engine.filing`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import sqlite3
import stat
from pathlib import Path

from . import template as T
from .bank import known_banks
from .checks import FamilyResponse, check_return
from .entries import Taken, iso_time, stamp_of, take
from .faults import crashpoint
from .files import (
    clean_up_temp_files,
    display_name,
    sha256_file,  # noqa: F401 - timed by the benchmarks
    sync_quietly,
    write_atomic,
    write_text_atomic,
)
from .filing import RETURNS, Filing, archive_path, keep_original, remove_original, report_of
from .findings import Finding, error, warning
from .home import Home
from .ledger import Drop, Ledger, is_counted, save_time_impossible
from .lock import HomeLock
from .outcome import (
    Notes,
    Outcome,
    Validation,
    claimed_by_name,
    month_line,
    read_failed_finding,
)
from .receipts import (
    PROBLEMS_SUFFIX,
    family_receipt_text,
    is_report,
    problems_text,
    report_name,
    response_copy_note,
    response_held_message,
    when,
)
from .sandbox import ReadFailed, Sandbox
from .scoring import score
from .sightings import Sightings, now_iso

log = logging.getLogger("sequin.intake")

IGNORED_PREFIXES = ("~$", ".~lock.", ".", "~")
IGNORED_SUFFIXES = (".tmp", ".part", ".crdownload", "#")
STAGING = ".intake"  # private copies of what was read, in the home

# Codes that mean the file's hidden unit and month cannot be trusted.
_UNTRUSTED = {"token-invalid", "unknown-unit", "unknown-bank-version", "not-a-sequin-workbook"}


def is_ignored(name: str) -> bool:
    """Lock files, temporary files, dotfiles and the engine's own reports are not returns."""
    return (
        name.startswith(IGNORED_PREFIXES)
        or name.lower().endswith(IGNORED_SUFFIXES)
        or is_report(name)
    )


class Intake:
    """Everything the pipeline needs for a home, opened once and reused file after file."""

    def __init__(
        self,
        home: Home,
        *,
        sandbox: Sandbox | None = None,
        ledger: Ledger | None = None,
        role: str = "",
    ):
        self.home = home
        self.network = home.network
        self.banks = known_banks(home.banks_dir)
        self.secret = home.secret()
        self._sandbox = sandbox
        self._ledger = ledger
        self._lock = HomeLock(home.root, role)  # role "watch": see engine.lock
        self._batch: set[int] = set()  # drops recorded in the batch being processed
        self.sightings = Sightings(lambda: self.ledger)  # when each inbox entry was first seen
        self._folders_told: dict[str, str] = {}  # folder name -> first seen (see tell_folders)

    @property
    def sandbox(self) -> Sandbox:
        if self._sandbox is None:
            self._sandbox = Sandbox()
        return self._sandbox

    @property
    def ledger(self) -> Ledger:
        if self._ledger is None:
            self.home.ensure_folders()
            self._ledger = self.home.open_ledger()
        return self._ledger

    @property
    def staging(self) -> Path:
        """Private copies of files being taken in (same disk as the archive)."""
        return self.home.root / STAGING

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
        t = take(path, None)
        if t.refused is not None:
            return Validation([t.refused], None, None)
        if t.gone or t.changing:
            return Validation(
                [
                    error(
                        "file-gone",
                        "The file could not be read: "
                        f"{t.gone or 'it was changing while it was read'}. "
                        "Try again once it has been saved or copied completely.",
                    )
                ],
                None,
                None,
            )
        self.sandbox.submit(path)
        return self._collect(path, file_name)

    def _collect(self, path: Path, file_name: str | None = None) -> Validation:
        """The worker's answer for ``path`` (submitted before), checked and scored."""
        try:
            try:
                answer = self.sandbox.collect()
            except ReadFailed as exc:
                return Validation([read_failed_finding(exc)], None, None)
            if "refused" in answer:
                return Validation([Finding(**f) for f in answer["refused"]], None, None)
            findings, ret = check_return(
                answer["ok"],
                network=self.network,
                banks=self.banks,
                secret=self.secret,
                file_name=file_name if file_name is not None else path.name,
            )
            scores = None
            if ret is not None and not isinstance(ret, FamilyResponse):  # responses are not scored
                scores = score(self.banks[ret.bank_version], self.network, ret.ratings())
            return Validation(findings, ret, scores, str(answer["ok"].get("saved_at") or ""))
        except Exception as exc:  # noqa: BLE001 - a file must never stop the engine
            return Validation(
                [
                    error(
                        "engine-error",
                        f"The engine could not check this file ({type(exc).__name__}). "
                        "The file is kept; please report this to whoever runs the engine.",
                    )
                ],
                None,
                None,
            )

    # --- processing (records the outcome) -------------------------------------------

    def archive_path(self, sha256: str) -> Path:
        """Where an accepted original is kept, named by its content."""
        return archive_path(self.home, sha256)

    def process(self, path: Path) -> Outcome:
        """Take one file from the inbox (or anywhere) to one recorded outcome."""
        return self.process_many([path])[0]

    def process_many(self, paths: list[Path]) -> list[Outcome]:
        """Take files to their outcomes, in order.

        Each file is read once and a copy of those bytes goes to the worker,
        which pre-checks and reads the next file while this one is checked and
        recorded. The outcomes of the whole batch are committed to the ledger
        in one transaction before any original is moved or report written. A
        crash before the commit leaves every file where it was, to be taken
        again; after it, the restart finishes what was recorded.
        """
        self._lock.acquire()
        unique = list(dict.fromkeys(Path(os.path.abspath(p)) for p in paths))
        taken = [self._take(p) for p in unique]
        for t in taken:
            self._arrival(t)
        work = [t for t in taken if t.staged is not None and self._needs_reading(t)]
        to_read = {id(t) for t in work}
        submitted = collected = 0
        plans: list[Outcome | tuple] = []
        self._batch = set()
        with self.ledger.transaction():
            for t in taken:
                v = None
                if id(t) in to_read:
                    # Keep the worker one file ahead: it reads the next while this one is recorded.
                    while submitted < min(collected + 2, len(work)):
                        self.sandbox.submit(work[submitted].staged)
                        # Forced to disk while the worker reads it: an accepted file's copy
                        # is what the archive keeps, and this wait is otherwise idle.
                        sync_quietly(work[submitted].staged)
                        submitted += 1
                    v = self._collect(t.staged, t.path.name)
                    collected += 1
                plan = self._record_safely(t, v)
                if not isinstance(plan, Outcome) or not (plan.retry or plan.problem):
                    self._forget_sighting(t)  # its outcome is known: committed together
                if not isinstance(plan, Outcome):
                    self._batch.add(plan[0][0].id)
                plans.append(plan)
                crashpoint("recorded in the batch, not yet committed")
        self._batch = set()
        crashpoint("batch committed, nothing moved yet")
        out = []
        for t, plan in zip(taken, plans):
            if isinstance(plan, Outcome):
                self._discard_staged(t)
                out.append(plan)
            else:
                out.append(self._finish_safely(*plan[0], stamp=t.stamp, **plan[1]))
        return out

    def _arrival(self, t: Taken) -> None:
        """When ``t`` arrived: when it was first seen in the inbox, else when it was looked at.

        Never its modification time, which is when the unit saved it (see
        :mod:`engine.sightings`).
        """
        if t.stamp and t.path.parent == self.home.inbox:
            t.arrived = self.sightings.arrival(os.fsencode(t.path.name), t.stamp) or t.arrived

    def _forget_sighting(self, t: Taken) -> None:
        if t.path.parent != self.home.inbox:
            return
        try:
            self.sightings.forget([os.fsencode(t.path.name)])
        except sqlite3.Error as exc:  # a sighting left behind is pruned once the file is gone
            log.warning(f"could not forget when {t.name} was first seen: {exc}")

    def _take(self, path: Path) -> Taken:
        try:
            return take(path, self.staging)
        except OSError as exc:  # the home's own disk: the private copy could not be written
            t = Taken(path=path, name=display_name(path.name), source=os.fsencode(path))
            t.gone = f"SeQuIn could not keep a copy of it ({exc.strerror or exc})"
            return t

    def _needs_reading(self, t: Taken) -> bool:
        """False when the outcome is known without reading (the same bytes seen before)."""
        if self.ledger.return_by_sha(t.sha256) is not None:
            return False
        if self.ledger.response_by_sha(t.sha256) is not None:
            return False
        return not any(
            self._stays_in_inbox(d) and self._same_entry(d, t)
            for d in self.ledger.drops_for(t.sha256)
        )

    def _stays_in_inbox(self, drop: Drop) -> bool:
        """A finished drop whose file stays in the inbox: rejected, or kept but not counted."""
        if drop.state != "done" or drop.filed_as:
            return False
        if drop.outcome == "rejected":
            return True
        if drop.response_id:
            row = self.ledger.response_row(drop.response_id)
            return row is not None and row["held"] is not None
        row = self.ledger.return_row(drop.return_id) if drop.return_id else None
        return row is not None and row["held"] is not None and not is_counted(row)

    def _same_entry(self, drop: Drop, t: Taken) -> bool:
        if drop.source is not None:
            return drop.source == t.source
        return drop.original_name == t.name and t.path.parent == self.home.inbox

    def _discard_staged(self, t: Taken) -> None:
        if t.staged is not None and not self.ledger.unfinished_for(t.sha256):
            try:
                os.unlink(t.staged)
            except OSError:
                pass

    def _record_safely(self, t: Taken, v: Validation | None) -> Outcome | tuple:
        """Record one file; a failure to record becomes its outcome, never the batch's."""
        try:
            with self.ledger.transaction():  # a savepoint: a failure undoes this file only
                return self._record(t, v)
        except Exception as exc:  # noqa: BLE001
            log.error(f"could not record {t.name}: {type(exc).__name__}: {exc}")
            finding = error(
                "engine-error",
                f"The engine could not record this file ({type(exc).__name__}). The file is kept; "
                "please report this to whoever runs the engine.",
            )
            try:
                with self.ledger.transaction():
                    drop = self.ledger.record(
                        sha256=t.sha256 or hashlib.sha256(t.source).hexdigest(),
                        original_name=t.name,
                        size=t.size,
                        arrived_at=t.arrived or iso_time(0),
                        outcome="rejected",
                        findings=[finding],
                        report_name=report_name(t.path.name, False),
                        source=t.source,
                        form=_claimed_form(t.path.name),
                    )
                return (drop, t.path), {"findings": [finding]}
            except Exception as exc2:  # noqa: BLE001
                log.error(f"could not record {t.name} at all: {type(exc2).__name__}: {exc2}")
                return Outcome(t.name, "skipped", [finding], problem=str(exc2))

    def _record(self, t: Taken, v: Validation | None) -> Outcome | tuple:
        """Record the outcome of one taken file.

        Returns a final Outcome, or the arguments of :meth:`_finish`, which
        archives the original or writes its report once the record is committed.
        """
        name = t.name
        if t.gone:
            return Outcome(
                name, "skipped", [error("file-gone", f"The file could not be opened ({t.gone}).")]
            )
        if t.changing:
            return Outcome(name, "skipped", retry=True)
        sha = t.sha256
        previous = self.ledger.drops_for(sha)
        for drop in previous:
            if (
                drop.state == "recorded"
                and self._same_entry(drop, t)
                and drop.id not in self._batch
            ):
                return (drop, t.path), {}  # an interrupted run recorded this very file
            if (
                self._stays_in_inbox(drop)
                and self._same_entry(drop, t)
                and t.path.parent == self.home.inbox
            ):
                # A rejected original stays beside its report, and a return kept but not counted
                # beside its receipt, until the lead acts: it is not a new file.
                if not (t.path.parent / (drop.report_name or "")).exists():
                    return (drop, t.path), {
                        "skipped": True
                    }  # the report was deleted: write it again
                return Outcome(name, "skipped", drop_id=drop.id)
        if t.refused is not None:
            drop = self.ledger.record(
                sha256=sha,
                original_name=name,
                size=t.size,
                arrived_at=t.arrived,
                outcome="rejected",
                findings=[t.refused],
                report_name=report_name(t.path.name, False),
                source=t.source,
                form=_claimed_form(t.path.name),
            )
            return (drop, t.path), {"findings": [t.refused]}
        existing = self.ledger.return_by_sha(sha)
        if existing is not None:
            note, findings = self.notes.duplicate_note(existing, previous)
            drop = self.ledger.record(
                sha256=sha,
                original_name=name,
                size=t.size,
                arrived_at=t.arrived,
                outcome="accepted",
                findings=findings,
                duplicate_of=existing["id"],
                report_name=report_name(t.path.name, True),
                source=t.source,
                unit=existing["unit"],
                period=existing["period"],
            )
            bank = self.banks[existing["bank_version"]]
            scores = self.notes.stored_scores(existing["id"], existing)
            return (drop, t.path), {
                "scores": scores,
                "bank": bank,
                "note": note,
                "findings": findings,
            }
        response = self.ledger.response_by_sha(sha)
        if response is not None:  # the same bytes again: one response, counted once
            drop = self.ledger.record(
                sha256=sha,
                original_name=name,
                size=t.size,
                arrived_at=t.arrived,
                outcome="accepted",
                findings=[],
                response_id=response["id"],
                report_name=report_name(t.path.name, True),
                source=t.source,
                unit=response["unit"],
                period=response["period"],
                form=T.FAMILY_FORM,
            )
            return (drop, t.path), {"findings": []}
        if v is None:  # not read, yet not known: cannot happen unless the ledger changed meanwhile
            v = Validation(
                [
                    error(
                        "engine-error",
                        "The engine lost track of this file while taking it "
                        "in. The file is kept; drop it into the inbox again.",
                    )
                ],
                None,
                None,
            )
        accepted = v.valid
        findings = list(v.findings)
        older_than = None
        keep = {"ret": v.ret, "form": getattr(v.ret, "form", None) or _claimed_form(t.path.name)}
        if accepted and isinstance(v.ret, FamilyResponse):
            # Every response counts: no older save, nothing replaced; a closed month holds it.
            closed = self.ledger.closed_at(v.ret.period)
            if closed:
                keep["held"] = "closed-month"
                who = self.notes.unit_label(v.ret.unit)
                message = response_held_message(who, v.ret.period, closed, t.name, t.arrived)
                findings.insert(0, warning("closed-month", message))
        elif accepted:
            closed = self.ledger.closed_at(v.ret.period)
            if closed:
                keep["held"] = "closed-month"
                findings.insert(0, self.notes.closed_month_finding(v, closed, t))
            else:
                if save_time_impossible(v.saved_at, t.arrived):
                    # A clock set wrong: the save order cannot be known, so the last arrival counts.
                    findings.insert(0, self.notes.save_time_unknown_finding(v.saved_at, t.arrived))
                    v.saved_at = ""
                older_than = self.ledger.later_save(v.ret.unit, v.ret.period, v.saved_at)
                if older_than is not None:
                    findings.insert(0, self.notes.older_save_finding(v, older_than, t))
        elif any(f.code in _UNTRUSTED for f in findings):
            # Its hidden unit and month are unverified: keep only what the file name claims.
            unit, period = claimed_by_name(t.path.name, self.network)
            keep = {"ret": None, "unit": unit, "period": period, "form": _claimed_form(t.path.name)}
        drop = self.ledger.record(
            sha256=sha,
            original_name=name,
            size=t.size,
            arrived_at=t.arrived,
            outcome="accepted" if accepted else "rejected",
            findings=findings,
            scores=v.scores if accepted else None,
            report_name=report_name(t.path.name, accepted),
            source=t.source,
            saved_at=v.saved_at,
            older_than=older_than["id"] if older_than is not None else None,
            **keep,
        )
        return (drop, t.path), {"findings": findings, "scores": v.scores, "ret": v.ret}

    def _finish_safely(self, drop: Drop, path: Path, **kwargs) -> Outcome:
        """Finish a recorded drop; a failure is reported and left for the restart to finish."""
        try:
            return self._finish(drop, path, **kwargs)
        except Exception as exc:  # noqa: BLE001 - one file must never stop the next
            problem = f"{type(exc).__name__}: {exc}"
            log.error(
                f"{drop.original_name} was recorded as {drop.outcome}, but could not be "
                f"finished ({problem}); it is finished later: the watcher tries again, and so "
                "does the next start"
            )
            return Outcome(
                drop.original_name,
                drop.outcome,
                unit=drop.unit or "",
                period=drop.period or "",
                drop_id=drop.id,
                problem=problem,
            )

    def _keep_original(self, drop: Drop, path: Path) -> Path:
        """Put the accepted original into the archive (see :func:`engine.filing.keep_original`)."""
        return keep_original(self.home, self.staging, drop.sha256, path)

    def _finish(
        self,
        drop: Drop,
        path: Path,
        *,
        findings=None,
        scores=None,
        ret=None,
        bank=None,
        note: str = "",
        skipped: bool = False,
        stamp: tuple = (),
    ) -> Outcome:
        """Archive, file and report a recorded drop; idempotent, so a restart can redo it.

        An accepted return counted (or a copy sent again) is filed under
        ``returns/`` with its receipt and leaves the inbox; a return kept but not
        counted stays in the inbox with its receipt, for the lead to decide; a
        rejected file stays beside its problems report (see :mod:`engine.filing`).
        """
        crashpoint("recorded, before archive or report")
        if findings is None:
            findings = self.ledger.findings_for(drop.id)
        in_inbox = path.parent == self.home.inbox
        folder = path.parent if path.parent.is_dir() else self.home.inbox
        report = folder / (drop.report_name or report_name(path.name, drop.outcome == "accepted"))
        unit, period = drop.unit or "", drop.period or ""
        counted, family, replaced, placed_at = True, False, False, None
        first_line = self._month_line(period)
        if drop.outcome == "accepted" and drop.response_id is not None:
            return self._finish_response(
                drop, path, findings, note, report, first_line, in_inbox, skipped, stamp
            )
        if drop.outcome == "accepted":
            row = self.ledger.return_row(drop.return_id)
            if scores is None:
                scores = self.notes.stored_scores(row["id"], row)
            bank = bank or self.banks[row["bank_version"]]
            unit, period = row["unit"], row["period"]
            counted = is_counted(row)
            if drop.duplicate_of and not note:
                note, _ = self.notes.duplicate_note(row, self.ledger.drops_for(drop.sha256))
            elif not drop.duplicate_of:
                replacing = self.notes.replaced_note(row)
                replaced = bool(replacing) and counted
                note = replacing or note
            shown = findings
            held = [f for f in findings if f.code in ("older-save", "closed-month")]
            if held and not counted:
                # Why it is not counted is the first thing the lead reads, not one warning of many.
                note = held[0].message
                shown = [f for f in findings if f is not held[0]]
            target = self._keep_original(drop, path)
            placed = self.filing.lay_out(unit, period, finishing=drop)
            if placed is not None:
                # A readable copy of the archived original, where a person looks for it.
                write_atomic(placed, target.read_bytes(), durable=False)
                report = report_of(placed, "accepted")
            # Reports can be rewritten from the ledger, so they are not forced to disk.
            write_text_atomic(
                report,
                self.notes.return_receipt(
                    drop,
                    row,
                    scores=scores,
                    bank=bank,
                    findings=shown,
                    note=note,
                    first_line=first_line,
                ),
                durable=False,
            )
            if placed is not None:
                self.ledger.set_filed(drop.id, placed.relative_to(self.home.root).as_posix())
                placed_at = placed
                if in_inbox:
                    remove_original(drop.sha256, path, stamp)
        else:
            family = drop.is_family or _claimed_form(drop.original_name) is not None
            write_text_atomic(
                report,
                problems_text(
                    file_name=drop.original_name,
                    received=drop.arrived_at,
                    findings=findings,
                    unit=unit,
                    period=period,
                    first_line=first_line,
                    family=family,
                ),
                durable=False,
            )
        self.ledger.mark_done(drop.id)
        self._discard_staged_sha(drop.sha256)
        if skipped:
            return Outcome(drop.original_name, "skipped", drop_id=drop.id)
        return Outcome(
            drop.original_name,
            drop.outcome,
            findings,
            unit,
            period,
            ret.bank_version if ret else "",
            scores if drop.outcome == "accepted" else None,
            report,
            bool(drop.duplicate_of),
            drop.id,
            counted=counted,
            kind="family" if drop.outcome == "rejected" and family else "return",
            replaced=replaced,
            # Given from outside the inbox and not filed: say where its report is.
            receipt_note="" if in_inbox or placed_at else f"report: {report}",
        )

    def _finish_response(
        self, drop, path, findings, note, report, first_line, in_inbox, skipped, stamp
    ) -> Outcome:
        """Archive, file and write the receipt of an accepted family and friends response."""
        row = self.ledger.response_row(drop.response_id)
        unit, period = row["unit"], row["period"]
        counted = row["held"] is None
        first = self.ledger.first_drop_of_response(row["id"])
        duplicate = first is not None and first.id != drop.id
        who = self.notes.unit_label(unit)
        if duplicate and not note:
            note = response_copy_note(who, period, first.arrived_at, counted, first.original_name)
        shown = findings
        held = [f for f in findings if f.code == "closed-month"]
        if held and not counted:
            note, shown = held[0].message, [f for f in findings if f is not held[0]]
        target = self._keep_original(drop, path)
        placed = self.filing.lay_out(unit, period, finishing=drop)
        if placed is not None:
            write_atomic(placed, target.read_bytes(), durable=False)
            report = report_of(placed, "accepted")
        u = self.network.unit(unit)
        text = family_receipt_text(
            file_name=drop.original_name,
            unit=unit,
            unit_name=u.name if u else unit,
            period=period,
            received=drop.arrived_at,
            bank=self.banks[row["bank_version"]],
            answers=self.ledger.response_answers_of(row["id"]),
            findings=shown,
            note=note,
            counted=counted,
            duplicate=duplicate,
            responses_counted=self.ledger.counted_response_count(unit, period),
            first_line=first_line,
        )
        write_text_atomic(report, text, durable=False)
        if placed is not None:
            self.ledger.set_filed(drop.id, placed.relative_to(self.home.root).as_posix())
            if in_inbox:
                remove_original(drop.sha256, path, stamp)
        self.ledger.mark_done(drop.id)
        self._discard_staged_sha(drop.sha256)
        if skipped:
            return Outcome(drop.original_name, "skipped", drop_id=drop.id)
        return Outcome(
            drop.original_name,
            "accepted",
            findings,
            unit,
            period,
            row["bank_version"],
            None,
            report,
            duplicate,
            drop.id,
            counted=counted,
            kind="family",
        )

    @property
    def notes(self) -> Notes:
        return Notes(self.ledger, self.network)

    @property
    def filing(self) -> Filing:
        return Filing(self.home, self.ledger, self.archive_path)

    def _month_line(self, period: str) -> str:
        return month_line(self.home, period)

    def tell_folders(self, folders: list[Path]) -> None:
        """Write a report beside each folder in the inbox, and log it once.

        A lead who drops a folder (an email's attachments saved together, say)
        must not see silence while ``chase`` calls the unit missing. The report
        is rewritten only when what the folder holds changes; a report left by a
        folder that has gone is removed.
        """
        told = self._folders_told
        for folder in folders:
            report = folder.parent / report_name(folder.name, False)
            try:
                before = report.read_text(encoding="utf-8-sig")
            except OSError:
                before = ""
            seen = told.get(folder.name) or (before and _seen_in(before)) or now_iso()
            text = folder_report_text(folder, seen)
            if text.replace("\r\n", "\n") != before.replace("\r\n", "\n"):
                try:
                    write_text_atomic(report, text, durable=False)
                except OSError as exc:
                    log.error(f"could not write the report beside the folder {folder.name}: {exc}")
            if folder.name not in told:
                log.info(
                    f"not taken {display_name(folder.name)}  a folder: move the workbooks in it "
                    f"into the inbox itself (see {report.name})"
                )
            told[folder.name] = seen
        here = {f.name for f in folders}
        for name in [n for n in told if n not in here]:
            del told[name]
        try:
            with os.scandir(self.home.inbox) as it:
                stale = [
                    Path(e.path)
                    for e in it
                    if e.name.endswith(PROBLEMS_SUFFIX)
                    and e.name[: -len(PROBLEMS_SUFFIX)] not in here
                    and not os.path.lexists(e.path[: -len(PROBLEMS_SUFFIX)])
                ]
        except OSError:
            stale = []
        for report in stale:
            try:
                if report.read_text(encoding="utf-8-sig").startswith(FOLDER_REPORT_TITLE):
                    report.unlink()
            except OSError:
                pass

    def _discard_staged_sha(self, sha: str) -> None:
        if not self.ledger.unfinished_for(sha):
            try:
                os.unlink(self.staging / f"{sha}.xlsx")
            except OSError:
                pass

    def recover(self) -> list[Outcome]:
        """Finish drops an interrupted run recorded but did not archive or report.

        Wherever the original was (the inbox, or a file given to ``sequin
        process``), the private copy of the bytes that were recorded is
        archived. Also removes temporary files and private copies an
        interrupted run left behind. Takes the home's lock first: only one
        engine works in a home at a time.
        """
        self._lock.acquire()
        for folder in (
            self.home.outbox,
            self.home.archive,
            self.home.inbox,
            self.staging,
            self.home.root / RETURNS,
        ):
            clean_up_temp_files(folder)
        outcomes = []
        for drop in self.ledger.unfinished_drops():
            path = drop.source_path or self.home.inbox / drop.original_name
            outcomes.append(self._finish_safely(drop, path))
        if self.staging.is_dir():
            for staged in self.staging.iterdir():
                if not self.ledger.unfinished_for(staged.stem):
                    try:
                        staged.unlink()
                    except OSError:
                        pass
        return outcomes

    def pending(self) -> list[Path]:
        """Entries waiting in the inbox, first seen first: every file, link or pipe, not folders.

        Entries first seen at the same moment (files dropped together, or found
        at start-up) are taken in the order they were saved, by modification
        time: which of them came first cannot be known, and the save order is
        the best guess of which of two versions is the later (the one that
        counts, see the older-save rule). The modification time only orders
        them; it never says when a file arrived. Also forgets sightings of
        entries gone from the inbox.
        """
        inbox = self.home.inbox
        if not inbox.is_dir():
            return []
        files, folders = {}, []
        with os.scandir(inbox) as it:
            for entry in it:
                if is_ignored(entry.name):
                    continue
                try:
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                if stat.S_ISDIR(st.st_mode):
                    folders.append(Path(entry.path))
                else:
                    files[os.fsencode(entry.name)] = (st, Path(entry.path))
        self.tell_folders(folders)
        first = self.sightings.prune({name: stamp_of(st) for name, (st, _p) in files.items()})
        now = now_iso()
        order = sorted(
            (first.get(name, now), st.st_mtime_ns, name, path) for name, (st, path) in files.items()
        )
        return [path for *_key, path in order]


FOLDER_REPORT_TITLE = "SeQuIn: a FOLDER in the inbox, NOT TAKEN IN"


def folder_report_text(folder: Path, seen: str) -> str:
    """The report beside a folder dropped into the inbox: what is in it and what to do."""
    names = []
    try:
        with os.scandir(folder) as it:
            for entry in it:
                if entry.name.lower().endswith((".xlsx", ".xlsm", ".xls")) and not is_ignored(
                    entry.name
                ):
                    names.append(display_name(entry.name))
    except OSError:
        pass
    names.sort()
    if names:
        shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
        inside = (
            f"It holds {len(names)} workbook{'s' if len(names) != 1 else ''}: {shown}. "
            "None of them has been taken in or counted."
        )
    else:
        inside = "It holds no workbook."
    return "\n".join(
        [
            FOLDER_REPORT_TITLE,
            "",
            f"Folder:    {display_name(folder.name)}",
            f"Seen:      {when(seen)}",
            "",
            "SeQuIn takes in only workbook files put straight into the inbox: it does not "
            f"look inside folders. {inside}",
            "",
            "What to do: move each workbook out of this folder into the inbox itself. It is "
            "then taken in as usual. The empty folder and this report can be deleted.",
            "",
        ]
    )


def _seen_in(report: str) -> str:
    """When a folder report says the folder was first seen (ISO), or ``""``."""
    for line in report.splitlines():
        if line.startswith("Seen:"):
            text = line.split(":", 1)[1].strip()
            try:
                return (
                    dt.datetime.strptime(text, "%d %B %Y at %H:%M UTC")
                    .replace(tzinfo=dt.timezone.utc)
                    .isoformat()
                )
            except ValueError:
                return ""
    return ""


def _claimed_form(name: str) -> str | None:
    """The family form for a file whose name claims to be a family and friends response."""
    return T.FAMILY_FORM if T.claimed_form(display_name(name)) == "family" else None

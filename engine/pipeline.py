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
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import stat
from pathlib import Path

from . import template as T
from .bank import known_banks
from .checks import check_return
from .entries import Taken, iso_time, read_regular, stamp_of, take
from .faults import crashpoint
from .files import clean_up_temp_files, display_name, sha256_file, write_atomic, write_text_atomic
from .filing import RETURNS, Filing, archive_path, report_of
from .findings import Finding, error, warning
from .home import Home
from .ledger import Drop, Ledger, is_counted
from .lock import HomeLock
from .outcome import Outcome, Validation, claimed_by_name, read_failed_finding
from .receipts import (
    is_report,
    month,
    month_words,
    problems_text,
    receipt_text,
    report_name,
    when,
)
from .sandbox import ReadFailed, Sandbox
from .scoring import Scores, score

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
            if ret is not None:
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
                        submitted += 1
                    v = self._collect(t.staged, t.path.name)
                    collected += 1
                plan = self._record_safely(t, v)
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
            )
            return (drop, t.path), {"findings": [t.refused]}
        existing = self.ledger.return_by_sha(sha)
        if existing is not None:
            note, findings = self._duplicate_note(existing, previous)
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
            scores = self._stored_scores(existing["id"], existing)
            return (drop, t.path), {
                "scores": scores,
                "bank": bank,
                "note": note,
                "findings": findings,
            }
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
        keep = {"ret": v.ret}
        if accepted:
            closed = self.ledger.closed_at(v.ret.period)
            if closed:
                keep["held"] = "closed-month"
                findings.insert(0, self._closed_month_finding(v, closed, t))
            else:
                older_than = self.ledger.later_save(v.ret.unit, v.ret.period, v.saved_at)
                if older_than is not None:
                    findings.insert(0, self._older_save_finding(v, older_than, t))
        elif any(f.code in _UNTRUSTED for f in findings):
            # Its hidden unit and month are unverified: keep only what the file name claims.
            unit, period = claimed_by_name(t.path.name, self.network)
            keep = {"ret": None, "unit": unit, "period": period}
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

    def _describe_return(self, row) -> str:
        first = self.ledger.first_drop_of_return(row["id"])
        name = first.original_name if first else "(unknown file)"
        saved = f", saved {when(row['saved_at'])}" if row["saved_at"] else ""
        return f"'{name}' (received {when(row['received_at'])}{saved})"

    def _older_save_finding(self, v: Validation, later, t: Taken) -> Finding:
        u = self.network.unit(v.ret.unit)
        return warning(
            "older-save",
            f"KEPT, NOT COUNTED. This workbook was saved {when(v.saved_at)}, before the return "
            f"already counted for {v.ret.unit}{f' ({u.name})' if u else ''}, {month(v.ret.period)}: "
            f"{self._describe_return(later)}. It looks like an earlier draft, so the later save "
            f"stays counted and this one is kept in the history. If this one is the right one, "
            f'run:  sequin release "{t.name}"',
        )

    def _closed_month_finding(self, v: Validation, closed: str, t: Taken) -> Finding:
        u = self.network.unit(v.ret.unit)
        who = f"{v.ret.unit}{f' ({u.name})' if u else ''}"
        current = self.ledger.current_return(v.ret.unit, v.ret.period)

        def pct(value) -> str:
            return "-" if value is None else f"{value:.1f} %"

        if current is None:
            change = f"{who} had no return counted for that month; this one would be its first"
        else:
            change = (
                f"it would replace {self._describe_return(current)} and change {who}'s "
                f"overall score from {pct(current['overall_percent'])} "
                f"{current['overall_rag']} to {pct(v.scores.overall_percent)} "
                f"{v.scores.overall_rag}"
            )
        return warning(
            "closed-month",
            f"HELD, NOT COUNTED. {month(v.ret.period)} was closed {when(closed)}, after its "
            f"outputs were shared, so this return is kept but changes nothing in that month's "
            f"scores or outputs. If counted, {change}. To count it, run:  sequin release "
            f'"{t.name}"  (the month\'s outputs are then rebuilt).',
        )

    def _duplicate_note(self, existing, previous: list[Drop]) -> tuple[str, list[Finding]]:
        """What a receipt says about bytes already received, true to what is counted now."""
        first = next((d for d in previous if d.outcome == "accepted"), None)
        received = when(first.arrived_at if first else existing["received_at"])
        if is_counted(existing):
            return (
                f"These exact bytes were already received ({received}) and are the return "
                f"counted for {existing['unit']}, {month(existing['period'])}. This copy is kept "
                f"in the history; nothing changes."
            ), []
        current = self.ledger.current_return(existing["unit"], existing["period"])
        name = first.original_name if first else "this file"
        counted = (
            f"{self._describe_return(current)} is"
            if current is not None
            else "no return is (the month is closed)"
        )
        note = (
            f"KEPT, NOT COUNTED. These exact bytes were already received ({received}), but they "
            f"are not the return counted for {existing['unit']}, {month(existing['period'])}: "
            f"{counted}. Sending the same file again does not change that. If this one is the "
            f'right one, run:  sequin release "{name}"'
        )
        return note, []

    def _stored_scores(self, return_id: int, row) -> Scores:
        from .scoring import AreaScore

        areas = {}
        for r in self.ledger.area_scores_of(return_id):
            areas[r["area_id"]] = AreaScore(
                r["area_id"],
                r["points"],
                r["available"],
                r["answered"],
                r["applicable"],
                T.STANDARDS_PER_AREA,
                r["percent"],
                r["rag"],
                bool(r["complete"]),
            )
        return Scores(
            areas,
            row["points"],
            row["available"],
            row["answered"],
            row["applicable"],
            row["overall_percent"],
            row["overall_rag"],
        )

    def _finish_safely(self, drop: Drop, path: Path, **kwargs) -> Outcome:
        """Finish a recorded drop; a failure is reported and left for the restart to finish."""
        try:
            return self._finish(drop, path, **kwargs)
        except Exception as exc:  # noqa: BLE001 - one file must never stop the next
            problem = f"{type(exc).__name__}: {exc}"
            log.error(
                f"{drop.original_name} was recorded as {drop.outcome}, but could not be "
                f"finished ({problem}); it will be finished at the next start"
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
        """Put the accepted original into the archive, from the bytes that were read and hashed.

        The private copy made when the file was taken is moved into the archive
        after its hash is checked and it is forced to disk; if it is gone (a
        power cut), the original is used, again only if its hash matches.
        """
        target = self.archive_path(drop.sha256)
        if target.exists():
            return target
        staged = self.staging / f"{drop.sha256}.xlsx"
        for candidate in (staged, path):
            data = read_regular(candidate)
            if data is None or hashlib.sha256(data).hexdigest() != drop.sha256:
                continue
            if candidate == staged:
                try:
                    fd = os.open(staged, os.O_RDONLY | getattr(os, "O_BINARY", 0))
                    try:
                        os.fsync(fd)
                    finally:
                        os.close(fd)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(staged, target)
                    return target
                except OSError:
                    pass  # another disk, or no fsync here: write a copy instead
            write_atomic(target, data)
            return target
        raise FileNotFoundError(
            errno.ENOENT,
            "neither the private copy nor the original of this return is left",
            str(path),
        )

    def _remove_original(self, drop: Drop, path: Path, stamp: tuple) -> None:
        """Remove the inbox copy, but only if it is still the file whose bytes were recorded."""
        try:
            st = os.lstat(path)
        except OSError:
            return
        if not stat.S_ISREG(st.st_mode):
            return
        if stamp:
            if stamp_of(st) != stamp:
                return  # overwritten since it was read: it is a new file, taken again
        elif sha256_file(path) != drop.sha256:
            return
        crashpoint("archived, before removing from the inbox")
        os.unlink(path)
        crashpoint("removed from the inbox, before done")

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
        counted = True
        first_line = self._month_line(period)
        if drop.outcome == "accepted":
            row = self.ledger.return_row(drop.return_id)
            if scores is None:
                scores = self._stored_scores(row["id"], row)
            bank = bank or self.banks[row["bank_version"]]
            unit, period = row["unit"], row["period"]
            counted = is_counted(row)
            if drop.duplicate_of and not note:
                note, _ = self._duplicate_note(row, self.ledger.drops_for(drop.sha256))
            elif not drop.duplicate_of:
                note = self._replaced_note(row) or note
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
            u = self.network.unit(unit)
            # Reports can be rewritten from the ledger, so they are not forced to disk.
            write_text_atomic(
                report,
                receipt_text(
                    file_name=drop.original_name,
                    unit=unit,
                    unit_name=u.name if u else unit,
                    period=period,
                    received=drop.arrived_at,
                    scores=scores,
                    bank=bank,
                    findings=shown,
                    duplicate_note=note,
                    counted=counted,
                    first_line=first_line,
                ),
                durable=False,
            )
            if placed is not None:
                self.ledger.set_filed(drop.id, placed.relative_to(self.home.root).as_posix())
                if in_inbox:
                    self._remove_original(drop, path, stamp)
        else:
            write_text_atomic(
                report,
                problems_text(
                    file_name=drop.original_name,
                    received=drop.arrived_at,
                    findings=findings,
                    unit=unit,
                    period=period,
                    first_line=first_line,
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
        )

    @property
    def filing(self) -> Filing:
        return Filing(self.home, self.ledger, self.archive_path)

    def _month_line(self, period: str) -> str:
        """A first line for a return that is not for the newest month sent out, in words."""
        newest = self.home.newest_generated()
        if not period or not newest or period == newest:
            return ""
        return (
            f"This is the workbook for {month_words(period)}, not {month_words(newest)} "
            f"(the newest month sent out)."
        )

    def _replaced_note(self, row) -> str:
        """What a counted return replaced: which file, when it arrived, and the score change."""
        if not is_counted(row):
            return ""
        old = self.ledger.replaced_by(row["id"])
        if old is None:
            return ""

        def pct(value) -> str:
            return "-" if value is None else f"{value:.1f} %"

        return (
            f"This return REPLACES the one counted before: {self._describe_return(old)}. "
            f"Overall score {pct(old['overall_percent'])} {old['overall_rag']} -> "
            f"{pct(row['overall_percent'])} {row['overall_rag']}. The earlier return is kept "
            f"in the history."
        )

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
        """Entries waiting in the inbox, oldest first: every file, link or pipe, not folders."""
        inbox = self.home.inbox
        if not inbox.is_dir():
            return []
        files = []
        with os.scandir(inbox) as it:
            for entry in it:
                if is_ignored(entry.name):
                    continue
                try:
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                if not stat.S_ISDIR(st.st_mode):
                    files.append((st.st_mtime, entry.name, Path(entry.path)))
        return [p for _m, _n, p in sorted(files)]

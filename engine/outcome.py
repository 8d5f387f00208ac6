"""What the intake says of one file: its outcome, what checking it found, and the notes its
receipt gives when a return is kept, held, replaced or sent again."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from . import template as T
from .checks import FamilyResponse, Return
from .files import display_name
from .findings import Finding, error, has_errors, warning
from .ledger import Drop, Ledger, is_counted
from .numbers import percent_text
from .receipts import held_reason, month, month_words, receipt_text, when
from .sandbox import ReadFailed
from .scoring import AreaScore, Scores

_PERIOD_IN_NAME = re.compile(r"(20\d\d)[-_ .]?(0[1-9]|1[0-2])(?!\d)")


@dataclass
class Outcome:
    """What happened to one file.

    ``outcome`` is ``accepted``, ``rejected`` or ``skipped`` (nothing new to
    record: a rejected file still beside its report, or a file that vanished).
    ``retry`` means the file changed while it was read: it was not recorded
    and should be taken again once it is still. ``counted`` is False for an
    accepted return kept but not counted (an older save, or a closed month).
    ``problem`` says what went wrong after the outcome was recorded (a report
    that could not be written); the restart finishes it. ``kind`` is
    ``family`` for a family and friends response, which has no scores.
    """

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
    counted: bool = True
    retry: bool = False
    problem: str = ""
    kind: str = "return"  # "return", or "family" for a family and friends response
    replaced: bool = False  # counted in place of a return counted before
    receipt_note: str = ""  # where the receipt is, when it is not beside the file

    @property
    def valid(self) -> bool:
        return self.outcome == "accepted"

    @property
    def what(self) -> str:
        """What happened, in one word: counted, replaced, held, kept, copy, rejected or skipped.

        ``held``: kept, not counted, because the month is closed; ``kept``: kept,
        not counted, because it is an older save than the return counted;
        ``copy``: the same bytes as a return already in, sent again.
        """
        if self.outcome != "accepted":
            return self.outcome
        codes = [f.code for f in self.findings]
        if self.duplicate:
            return "copy"
        if not self.counted:
            return "held" if "closed-month" in codes else "kept"
        return "replaced" if self.replaced else "counted"

    def line(self) -> str:
        """The one line a command or the watcher's log gives for this file: what happened to it."""
        if self.problem:
            return (
                f"{self.outcome:9} {self.name}  recorded, but not finished: {self.problem} "
                "(retried at the next start)"
            )
        what = self.what
        if what == "rejected":
            codes = sorted({f.code for f in self.findings if f.severity == "error"})
            where = f"  see {self.report.name}" if self.report else ""
            if self.receipt_note:
                where = f"  ({self.receipt_note})"
            return f"rejected  {self.name}  {', '.join(codes)}{where}"
        if what == "skipped":
            return f"skipped   {self.name}  (nothing new to record)"
        warnings = sum(1 for f in self.findings if f.severity == "warning")
        tail = f"  {warnings} {'warning' if warnings == 1 else 'warnings'}" if warnings else ""
        if self.kind == "family":
            about = f"family and friends response, unit {self.unit} {self.period}"
        else:
            overall = self.scores.overall_percent if self.scores else None
            rag = self.scores.overall_rag if self.scores else ""
            about = (
                f"unit {self.unit} {self.period}  overall {percent_text(overall)} {rag}".rstrip()
            )
        said = {
            "counted": "COUNTED",
            "replaced": "COUNTED, replacing the return counted before",
            "held": "HELD, NOT counted: the month is closed",
            "kept": "KEPT, NOT counted: saved before the return already counted",
            "copy": (
                "a COPY sent again of a return already counted: counted once"
                if self.counted
                else "a COPY sent again of a return kept, NOT counted"
            ),
        }[what]
        note = f"  ({self.receipt_note})" if self.receipt_note else ""
        if not self.counted and not note:
            note = "  (see its receipt)"
        return f"accepted  {self.name}  {said}  {about}{tail}{note}"

    def to_dict(self) -> dict:
        return {
            "file": self.name,
            "kind": self.kind,
            "outcome": self.outcome,
            "valid": self.valid,
            "duplicate": self.duplicate,
            "counted": self.counted if self.outcome == "accepted" else False,
            "what": self.what,
            "replaced": self.replaced,
            "unit": self.unit,
            "period": self.period,
            "bank_version": self.bank_version,
            "report": str(self.report) if self.report else None,
            "findings": [f.to_dict() for f in self.findings],
            "scores": self.scores.to_dict() if self.scores else None,
            "problem": self.problem or None,
        }


@dataclass
class Validation:
    """The result of checking one file, before anything is recorded."""

    findings: list[Finding]
    ret: Return | FamilyResponse | None  # a family and friends response has no scores
    scores: Scores | None
    saved_at: str = ""

    @property
    def valid(self) -> bool:
        return self.ret is not None and not has_errors(self.findings)


def read_failed_finding(exc: ReadFailed) -> Finding:
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


def claimed_by_name(name: str, network) -> tuple[str | None, str | None]:
    """The unit and month a file's *name* claims, if the unit is one of the network's."""
    stem = Path(display_name(name)).stem
    # "family" and the like name the kind of form, never a unit.
    words = {w for w in re.split(r"[^A-Za-z0-9]+", stem.upper()) if w.lower() not in T.FAMILY_WORDS}
    units = [u.code for u in network.units if u.code.upper() in words]
    m = _PERIOD_IN_NAME.search(stem)
    return (units[0] if len(units) == 1 else None), (f"{m.group(1)}-{m.group(2)}" if m else None)


def month_line(home, period: str) -> str:
    """A receipt's first line for a return that is not for the newest month sent out, in words."""
    newest = home.newest_generated()
    if not period or not newest or period == newest:
        return ""
    return (
        f"This is the workbook for {month_words(period)}, not {month_words(newest)} "
        f"(the newest month sent out)."
    )


class Notes:
    """What a receipt says of a return kept, held, replaced or sent again, read from the ledger."""

    def __init__(self, ledger: Ledger, network):
        self.ledger = ledger
        self.network = network

    def unit_label(self, unit: str) -> str:
        u = self.network.unit(unit)
        return f"{unit}{f' ({u.name})' if u else ''}"

    def describe_return(self, row) -> str:
        first = self.ledger.first_drop_of_return(row["id"])
        name = first.original_name if first else "(unknown file)"
        saved = f", saved {when(row['saved_at'])}" if row["saved_at"] else ""
        return f"'{name}' (received {when(row['received_at'])}{saved})"

    def older_save_finding(self, v: Validation, later, t) -> Finding:
        u = self.network.unit(v.ret.unit)
        return warning(
            "older-save",
            f"KEPT, NOT COUNTED. This workbook was saved {when(v.saved_at)}, before the return "
            f"already counted for {v.ret.unit}{f' ({u.name})' if u else ''}, {month(v.ret.period)}: "
            f"{self.describe_return(later)}. It looks like an earlier draft, so the later save "
            f"stays counted and this one is kept in the history. If this one is the right one, "
            f'run:  sequin release "{t.name}"',
        )

    def return_receipt(
        self,
        drop: Drop,
        row,
        *,
        scores: Scores,
        bank,
        findings: list[Finding],
        note: str = "",
        first_line: str = "",
    ) -> str:
        """The receipt of an accepted return's drop, from the ledger's record of the return."""
        u = self.network.unit(row["unit"])
        counted = is_counted(row)
        return receipt_text(
            file_name=drop.original_name,
            unit=row["unit"],
            unit_name=u.name if u else row["unit"],
            period=row["period"],
            received=drop.arrived_at,
            scores=scores,
            bank=bank,
            findings=findings,
            duplicate_note=note,
            counted=counted,
            first_line=first_line,
            ratings=self.ledger.receipt_ratings(row["id"]),
            not_met=self.network.not_met_label,
            actions=self.ledger.receipt_actions(row["id"]),
            form=row["form"],
            # Kept, not counted: when the unit saved it matters beside when it came.
            saved="" if counted else (row["saved_at"] or ""),
        )

    def save_time_unknown_finding(self, saved_at: str, arrived_at: str) -> Finding:
        """Why a workbook's impossible save time is set aside (see ``save_time_impossible``)."""
        return warning(
            "save-time-unknown",
            f"The workbook says it was saved {when(saved_at)}, more than a day after it "
            f"arrived ({when(arrived_at)}). That cannot be right: the clock of the computer it "
            "was saved on is probably set wrong. SeQuIn treats its save time as unknown, so of "
            "this unit's returns for the month the one that arrives last counts. Nothing needs "
            "doing, unless an earlier return should count instead: then put that one in the "
            "inbox again.",
        )

    def closed_month_finding(self, v: Validation, closed: str, t) -> Finding:
        """Why a return for a closed month is held, true to when it arrived (``t.arrived``)."""
        u = self.network.unit(v.ret.unit)
        who = f"{v.ret.unit}{f' ({u.name})' if u else ''}"
        current = self.ledger.current_return(v.ret.unit, v.ret.period)

        def pct(value) -> str:
            return percent_text(value, sep=" ")

        if current is None:
            change = f"{who} had no return counted for that month; this one would be its first"
        else:
            change = (
                f"it would replace {self.describe_return(current)} and change {who}'s "
                f"overall score from {pct(current['overall_percent'])} "
                f"{current['overall_rag']} to {pct(v.scores.overall_percent)} "
                f"{v.scores.overall_rag}"
            )
        return warning(
            "closed-month",
            f"HELD, NOT COUNTED. {held_reason(v.ret.period, closed, t.arrived)}, so this return "
            f"is kept but changes nothing in that month's scores or outputs. If counted, {change}. "
            f'To count it, run:  sequin release "{t.name}"  (the month\'s outputs are then '
            "rebuilt).",
        )

    def duplicate_note(self, existing, previous: list[Drop]) -> tuple[str, list[Finding]]:
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
            f"{self.describe_return(current)} is"
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

    def stored_scores(self, return_id: int, row) -> Scores:
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

    def replaced_note(self, row) -> str:
        """What a counted return replaced: which file, when it arrived, and the score change."""
        if not is_counted(row):
            return ""
        old = self.ledger.replaced_by(row["id"])
        if old is None:
            return ""

        def pct(value) -> str:
            return percent_text(value, sep=" ")

        return (
            f"This return REPLACES the one counted before: {self.describe_return(old)}. "
            f"Overall score {pct(old['overall_percent'])} {old['overall_rag']} -> "
            f"{pct(row['overall_percent'])} {row['overall_rag']}. The earlier return is kept "
            f"in the history."
        )

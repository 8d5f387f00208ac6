"""What the intake says of one file: its outcome, and what checking it found."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .checks import Return
from .files import display_name
from .findings import Finding, error, has_errors
from .sandbox import ReadFailed
from .scoring import Scores

_PERIOD_IN_NAME = re.compile(r"(20\d\d)[-_ .]?(0[1-9]|1[0-2])(?!\d)")


@dataclass
class Outcome:
    """What happened to one file.

    ``outcome`` is ``accepted``, ``rejected`` or ``skipped`` (nothing new to
    record: a rejected file still beside its report, or a file that vanished).
    ``retry`` means the file changed while it was read: it was not recorded
    and should be taken again once it is still. ``counted`` is False for an
    accepted return kept but not counted (an older save). ``problem`` says what
    went wrong after the outcome was recorded (a report that could not be
    written); the restart finishes it.
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

    @property
    def valid(self) -> bool:
        return self.outcome == "accepted"

    def to_dict(self) -> dict:
        return {
            "file": self.name,
            "outcome": self.outcome,
            "valid": self.valid,
            "duplicate": self.duplicate,
            "counted": self.counted if self.outcome == "accepted" else False,
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
    ret: Return | None
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
    words = set(re.split(r"[^A-Za-z0-9]+", stem.upper()))
    units = [u.code for u in network.units if u.code.upper() in words]
    m = _PERIOD_IN_NAME.search(stem)
    return (units[0] if len(units) == 1 else None), (f"{m.group(1)}-{m.group(2)}" if m else None)

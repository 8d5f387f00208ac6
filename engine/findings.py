"""Findings: what is wrong (or worth knowing) about a return, as data.

A finding never stops a run. Checks collect every finding at once and the
pipeline decides: any ``error`` rejects the return, ``warning`` findings are
reported with an accepted return. Every code, with its severity and what to
do about it, is listed in :mod:`engine.catalogue`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from .catalogue import lookup

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    """One problem found in a file.

    ``code`` is a stable kebab-case identifier (tests and tools rely on it);
    ``message`` is for people: it says where the problem is and what to do.
    ``sheet``, ``cell`` and ``question_id`` are empty when they do not apply.
    """

    code: str
    severity: str
    message: str
    sheet: str = ""
    cell: str = ""
    question_id: str = ""

    def to_dict(self) -> dict:
        """The finding as the JSON shape of ``validate --json``."""
        return asdict(self)

    @property
    def where(self) -> str:
        """Sheet, cell and question as one short phrase, for reports."""
        parts = []
        if self.sheet:
            parts.append(f"sheet '{self.sheet}'")
        if self.cell:
            parts.append(f"cell {self.cell}")
        if self.question_id:
            parts.append(f"standard {self.question_id}")
        return ", ".join(parts) or "whole file"


def _catalogued(code: str, severity: str) -> str:
    """``code`` if the catalogue lists it with ``severity``; a programming error otherwise."""
    entry = lookup(code)  # KeyError for a code missing from engine/catalogue.py
    if entry.severity != severity:
        raise ValueError(f"finding code {code!r} is catalogued as {entry.severity}, not {severity}")
    return code


def error(code: str, message: str, **where: str) -> Finding:
    """A finding that rejects the return. ``code`` must be catalogued as an error."""
    return Finding(code=_catalogued(code, ERROR), severity=ERROR, message=message, **where)


def warning(code: str, message: str, **where: str) -> Finding:
    """A finding reported with an accepted return. ``code`` must be catalogued as a warning."""
    return Finding(code=_catalogued(code, WARNING), severity=WARNING, message=message, **where)


def has_errors(findings: list[Finding]) -> bool:
    """True when any finding is an error."""
    return any(f.severity == ERROR for f in findings)


def flatten(findings: list[Finding]) -> list[tuple[str, str, str]]:
    """``(code, sheet, cell)`` per finding: lets a test pin a case in one line."""
    return [(f.code, f.sheet, f.cell) for f in findings]

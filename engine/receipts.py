"""Receipts and problems reports: plain text files a lead can open anywhere and forward.

They are written beside the return in the inbox and named after it, so they
sort next to it: ``SeQuIn_M01_2026-11.xlsx.receipt.txt`` for an accepted
return, ``... .problems.txt`` for a rejected one.
"""

from __future__ import annotations

import datetime as dt

from .bank import Bank
from .files import name_beside
from .findings import ERROR, Finding
from .rollup import summary_lines
from .scoring import Scores

RECEIPT_SUFFIX = ".receipt.txt"
PROBLEMS_SUFFIX = ".problems.txt"


def report_name(original_name: str, accepted: bool) -> str:
    """The file name of the receipt or problems report for ``original_name``.

    Any name the file system allows gets a report that fits and can be shown:
    see :func:`engine.files.name_beside`.
    """
    return name_beside(original_name, RECEIPT_SUFFIX if accepted else PROBLEMS_SUFFIX)


def is_report(name: str) -> bool:
    """True for a receipt or problems report the engine wrote."""
    return name.endswith((RECEIPT_SUFFIX, PROBLEMS_SUFFIX))


def when(iso: str) -> str:
    """``2026-11-22T02:12:14+00:00`` as ``22 November 2026 at 02:12 UTC``."""
    try:
        t = dt.datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return str(iso)
    return f"{t.day} {t:%B %Y} at {t:%H:%M} UTC"


def month_words(period: str) -> str:
    """``2026-11`` as ``November 2026``."""
    try:
        return f"{dt.date(int(period[:4]), int(period[5:7]), 1):%B %Y}"
    except (TypeError, ValueError):
        return str(period)


def month(period: str) -> str:
    """``2026-11`` as ``November 2026 (2026-11)``."""
    try:
        return f"{dt.date(int(period[:4]), int(period[5:7]), 1):%B %Y} ({period})"
    except (TypeError, ValueError):
        return str(period)


def _pct(value: float | None) -> str:
    return "  -  " if value is None else f"{value:5.1f} %"


def _finding_lines(findings: list[Finding], limit: int | None = None) -> list[str]:
    """The findings as numbered lines, after a summary by area when there are many.

    The summary (see :mod:`engine.rollup`) gives one line per area; the full
    list below it has every finding (``limit`` cuts it short only if given).
    """
    lines = []
    summary = summary_lines(findings)
    if summary:
        lines += ["Summary, one line per area (every item is in the full list below):", ""]
        lines += [f"- {line}" for line in summary]
        lines += ["", f"Full list ({len(findings)}):", ""]
    shown = findings if limit is None else findings[:limit]
    for i, f in enumerate(shown, start=1):
        where = "file name" if f.code.startswith("file-name") else f.where
        lines.append(f"{i}. [{where}] {f.message}  ({f.code})")
    if len(findings) > len(shown):
        lines.append(f"... and {len(findings) - len(shown)} more of the same kinds.")
    return lines


def receipt_text(
    *,
    file_name: str,
    unit: str,
    unit_name: str,
    period: str,
    received: str,
    scores: Scores,
    bank: Bank,
    findings: list[Finding],
    duplicate_note: str = "",
    counted: bool = True,
    first_line: str = "",
) -> str:
    """The receipt for an accepted return: area scores and any warnings.

    ``counted`` is False for a return kept in the history but not counted (an
    older save, or the same bytes as such a return); the first line says so.
    """
    lines = [first_line, ""] if first_line else []
    lines += [
        "SeQuIn return ACCEPTED" if counted else "SeQuIn return KEPT, NOT COUNTED",
        "",
        f"File:      {file_name}",
        f"Unit:      {unit} ({unit_name})",
        f"Month:     {month(period)}",
        f"Received:  {when(received)}",
    ]
    if duplicate_note:
        lines += ["", duplicate_note]
    overall = scores.overall_percent
    lines += [
        "",
        f"Overall score: {_pct(overall).strip()} {scores.overall_rag}".rstrip()
        + f"   ({scores.answered} of {sum(len(a.standards) for a in bank.areas)} standards rated)",
        "",
        f"{'Area':42} {'Score':>8}  {'Rating':8} Rated",
    ]
    for area in bank.areas:
        a = scores.areas[area.id]
        note = "" if a.complete else "  incomplete"
        lines.append(
            f"{(str(area.index) + '. ' + area.name)[:42]:42} {_pct(a.percent):>8}  "
            f"{a.rag or 'none':8} {a.answered}/{a.total}{note}"
        )
    if findings:
        lines += ["", "Please look at these (the return is accepted, but they need attention):", ""]
        lines += _finding_lines(findings)
    lines += [
        "",
        "The original workbook has been archived unchanged. This receipt can be forwarded to the unit.",
    ]
    return "\n".join(lines) + "\n"


def problems_text(
    *,
    file_name: str,
    received: str,
    findings: list[Finding],
    unit: str = "",
    period: str = "",
    first_line: str = "",
) -> str:
    """The problems report for a rejected file: every problem, where, and what to do."""
    errors = [f for f in findings if f.severity == ERROR]
    warnings = [f for f in findings if f.severity != ERROR]
    lines = [first_line, ""] if first_line else []
    lines += [
        "SeQuIn return NOT ACCEPTED",
        "",
        f"File:      {file_name}",
    ]
    if unit:
        lines.append(f"Unit:      {unit}")
    if period:
        lines.append(f"Month:     {month(period)}")
    lines += [
        f"Received:  {when(received)}",
        "",
        "The file has been kept exactly as it arrived, next to this report.",
        "What to do: put right the problems below (or forward this report to the unit),",
        "then drop the corrected workbook into the inbox again.",
        "",
        f"Problems that stop the return being accepted ({len(errors)}):",
        "",
    ]
    lines += _finding_lines(errors)
    if warnings:
        lines += ["", f"Also worth checking ({len(warnings)}):", ""]
        lines += _finding_lines(warnings)
    return "\n".join(lines) + "\n"

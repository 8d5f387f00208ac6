"""Receipts and problems reports: plain text files a lead can open anywhere and forward.

They are written beside the return in the inbox and named after it, so they
sort next to it: ``SeQuIn_M01_2026-11.xlsx.receipt.txt`` for an accepted
return, ``... .problems.txt`` for a rejected one.

A unit's receipt names every essential standard rated Not met (even in a
Green area) near the top, and counts the actions read from its Actions sheet.
A family and friends response gets its own receipt: whose month it is about,
the answer given for each area, and that any comments are kept and shown to
the unit with personal details masked. Comments themselves are not quoted.
"""

from __future__ import annotations

import datetime as dt

from . import template as T
from .bank import Bank
from .catalogue import RENAME_ONLY, UNVERIFIED
from .files import name_beside
from .findings import ERROR, Finding
from .numbers import percent_text
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
    return "  -  " if value is None else f"{percent_text(value, sep=' '):>7}"


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


def essential_not_met(
    bank: Bank, scores: Scores, ratings: dict[str, str], not_met: str
) -> list[str]:
    """One sentence per essential standard rated ``not_met``, in bank order, with its area's rating."""
    out = []
    for area in bank.areas:
        a = scores.areas.get(area.id)
        rag = f"rated {a.rag} overall" if a is not None and a.rag else "not rated overall"
        for std in area.standards:
            if getattr(std, "essential", False) and not_met and ratings.get(std.id) == not_met:
                out.append(f"Essential standard {std.id} is {not_met} (area {area.name}, {rag})")
    return out


def action_lines(actions: list, period: str, form: str | None = None) -> list[str]:
    """The actions read from a return's Actions sheet, counted: new, carried forward, closed."""
    if not actions:
        if form and form != T.FORM_UNIT_1 and not T.is_family(form):
            return ["Actions: none written on the Actions sheet."]
        return []
    new = sum(a.ref.startswith(f"{period}.") for a in actions)
    done = sum(a.status == "Done" for a in actions)
    dropped = sum(a.status == "Dropped" for a in actions)
    still = len(actions) - done - dropped
    return [
        f"Actions read: {len(actions)} ({new} new this month, {len(actions) - new} carried "
        f"forward); {done} Done, {dropped} Dropped, {still} still open."
    ]


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
    ratings: dict[str, str] | None = None,
    not_met: str = "",
    actions: list | None = None,
    form: str | None = None,
    saved: str = "",
) -> str:
    """The receipt for an accepted return: essential standards Not met, area scores, actions and
    any warnings.

    ``received`` is when the file arrived (first seen in the inbox); ``saved``,
    when given, is when the unit last saved the workbook (its own properties),
    shown beside it where the two matter (a return kept but not counted).

    ``counted`` is False for a return kept in the history but not counted (an
    older save, or the same bytes as such a return); the first line says so.
    ``ratings`` (standard -> rating) and ``not_met`` (the network's lowest
    applicable rating) name the essential standards of ``bank`` rated Not met.
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
    if saved:
        lines.append(f"Saved:     {when(saved)} (by the unit, as the workbook records)")
    if duplicate_note:
        lines += ["", duplicate_note]
    essentials = essential_not_met(bank, scores, ratings or {}, not_met)
    if essentials:
        lines += [
            "",
            f"Essential standards rated {not_met} ({len(essentials)}), named even where "
            "the area is Green:",
        ]
        lines += [f"- {sentence}." for sentence in essentials]
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
    actions_read = action_lines(actions or [], period, form)
    if actions_read:
        lines += [""] + actions_read
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
    family: bool = False,
) -> str:
    """The problems report for a rejected file: every problem, where, and what to do.

    ``family`` is True for a family and friends response (by its form, or its name)."""
    errors = [f for f in findings if f.severity == ERROR]
    warnings = [f for f in findings if f.severity != ERROR]
    kind = "family and friends response" if family else "return"
    codes = {f.code for f in errors}
    output = "output-workbook" in codes
    unverified = bool(codes & UNVERIFIED)
    if unverified:  # the unit and month are only what the file name claims: never a fact
        first_line, period = "", ""
    lines = [first_line, ""] if first_line else []
    lines += [
        "SeQuIn output workbook: NOT A RETURN" if output else f"SeQuIn {kind} NOT ACCEPTED",
        "",
        f"File:      {file_name}",
    ]
    if unit:
        lines.append(f"Unit:      {unit}" + (" (as the file name says; not verified)" * unverified))
    if period:
        lines.append(f"Month:     {month(period)}")
    if output:
        what_to_do = [
            "What to do: nothing needs putting right or sending back. Take the file out of",
            "the inbox, with this report.",
        ]
    elif codes and codes <= RENAME_ONLY:
        what_to_do = [
            "What to do: rename the file as below and put it in the inbox again. That is",
            "all: nothing needs filling in again or sending back to the unit.",
        ]
    else:
        what_to_do = [
            "What to do: put right the problems below (or forward this report to the unit),",
            "then drop the corrected workbook into the inbox again."
            if not family
            else "then drop the corrected workbook into the inbox again. A response filled in "
            "on paper can be typed into the unit's family and friends workbook for the month.",
        ]
    lines += [
        f"Received:  {when(received)}",
        "",
        "The file has been kept exactly as it arrived, next to this report.",
        *what_to_do,
        "",
        "About this file:"
        if output
        else f"Problems that stop the {kind} being accepted ({len(errors)}):",
        "",
    ]
    lines += _finding_lines(errors)
    if warnings:
        lines += ["", f"Also worth checking ({len(warnings)}):", ""]
        lines += _finding_lines(warnings)
    return "\n".join(lines) + "\n"


def family_receipt_text(
    *,
    file_name: str,
    unit: str,
    unit_name: str,
    period: str,
    received: str,
    bank: Bank,
    answers: list,
    findings: list[Finding],
    note: str = "",
    counted: bool = True,
    duplicate: bool = False,
    responses_counted: int = 0,
    first_line: str = "",
) -> str:
    """The receipt for an accepted family and friends response: the answer given for each area.

    ``answers`` are :class:`engine.checks.FamilyAnswer`; comments are counted, never quoted.
    ``counted`` is False for a response held because its month was closed; ``duplicate`` is
    True for the same bytes sent again (counted once); ``note`` says why, in plain words.
    """
    if not counted:
        state = "KEPT, NOT COUNTED"
    elif duplicate:
        state = "ACCEPTED (a copy already counted, counted once)"
    else:
        state = "ACCEPTED and counted"
    lines = [
        f"SeQuIn family and friends response for unit {unit} ({unit_name}), {month_words(period)}, "
        f"received {when(received)}: {state}",
        "",
    ]
    if first_line:
        lines += [first_line, ""]
    lines += [
        f"File:      {file_name}",
        f"Unit:      {unit} ({unit_name})",
        f"Month:     {month(period)}",
        f"Received:  {when(received)}",
    ]
    if note:
        lines += ["", note]
    if counted and responses_counted:
        lines += [
            "",
            f"{unit} has {responses_counted} family and friends response(s) counted for "
            f"{month_words(period)}. Every response counts; none replaces another.",
        ]
    by_area = {a.area_id: a for a in answers}
    lines += ["", "What was said about each area:", "", f"{'Area':42} {'Do you agree?':14} Comment"]
    for area in bank.areas:
        a = by_area.get(area.id)
        agree = a.agree if a is not None and a.agree else "no answer"
        comment = "written" if a is not None and a.comment.strip() else "-"
        lines.append(f"{(str(area.index) + '. ' + area.name)[:42]:42} {agree:14} {comment}")
    comments = sum(1 for a in answers if a.comment.strip())
    if comments:
        lines += [
            "",
            f"Comments written: {comments}. They are kept, and shown to the unit in its feedback "
            "with personal details (NHS numbers, dates of birth) masked. The network and "
            "commissioner outputs show counts only, never the comments.",
        ]
    else:
        lines += ["", "No comments were written."]
    if findings:
        lines += [
            "",
            "Please look at these (the response is accepted, but they need attention):",
            "",
        ]
        lines += _finding_lines(findings)
    lines += [
        "",
        "The original workbook has been archived unchanged.",
    ]
    return "\n".join(lines) + "\n"


def _earlier(a: str, b: str) -> bool:
    """True if ISO time ``a`` is before ISO time ``b``."""
    try:
        return dt.datetime.fromisoformat(a) < dt.datetime.fromisoformat(b)
    except (TypeError, ValueError):
        return a < b


def held_reason(period: str, closed: str, arrived: str) -> str:
    """Why a return or response for a closed month is held, true to when it arrived.

    Held because the month was closed before it was taken in: normally it also
    arrived after the close; one that arrived before (the engine was stopped,
    say) is held all the same, since the month's outputs were shared without it,
    and the sentence says so rather than that it came late.
    """
    if not arrived:
        return f"{month(period)} was closed {when(closed)}, after its outputs were shared"
    if _earlier(arrived, closed):
        return (
            f"It arrived {when(arrived)}, before {month(period)} was closed {when(closed)}, but "
            "had not been taken in by then, and the month's outputs were shared without it"
        )
    return (
        f"It arrived {when(arrived)}, after {month(period)} was closed {when(closed)} once its "
        "outputs were shared"
    )


def response_held_message(
    unit_label: str, period: str, closed: str, name: str, arrived: str = ""
) -> str:
    """Why a family and friends response for a closed month is kept but not counted."""
    return (
        f"HELD, NOT COUNTED. {held_reason(period, closed, arrived)}, so this family and friends "
        f"response for {unit_label} is kept but changes nothing in that month's outputs. To "
        f'count it, run:  sequin release "{name}"  (the month\'s outputs are then rebuilt).'
    )


def response_copy_note(
    unit_label: str, period: str, received: str, counted: bool, name: str
) -> str:
    """What the receipt of a family and friends response sent again says: it counts once."""
    if counted:
        return (
            f"These exact bytes were already received ({when(received)}) and are counted once, "
            f"as a family and friends response for {unit_label}, {month(period)}. This copy is "
            "kept in the history; nothing changes."
        )
    return (
        f"KEPT, NOT COUNTED. These exact bytes were already received ({when(received)}) and are "
        f"held: {month(period)} was closed before they were taken in. Sending the same file "
        f'again does not change that. To count them, run:  sequin release "{name}"'
    )

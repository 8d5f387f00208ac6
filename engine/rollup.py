"""The roll-up: many findings told in a few lines a lead can read and forward.

A half-finished return can have a hundred and more findings (one per unrated
standard, one per rating without evidence, one per blank sign-off cell). A
report that lists them one by one hides what matters, so a report with many
findings starts with a summary, **one line per area**, and then gives the full
list as before. One line reads (here wrapped)::

    Area 4 Reducing Restrictive Practices: 8 standards not rated: RRP-01 to RRP-08;
    2 standards rated without evidence: RRP-09, RRP-10; sign-off not filled in

Each line names the area as its sheet is named ("4 Reducing Restrictive
Practices", see :func:`engine.template.area_sheet_name`), then one clause per
kind of finding in that area, each with the standards (or cells) it concerns:
runs of three or more consecutive IDs are written as ranges ("RRP-01 to
RRP-03"), others are listed ("RRP-05, RRP-09"). Errors come before warnings;
within each, findings about the whole file (or a sheet that is not an area)
come first as they arrived, one line each with the catalogue's title, then the
areas in the bank's order. A return with all twelve areas half done therefore
gets a summary of about twelve lines, whatever the number of findings.

A summary is given only when it helps: when one area has more than
:data:`ROLL_UP_OVER` findings of the same kind, or there are more than
:data:`SUMMARY_OVER` findings in all. Otherwise the report is the plain
numbered list.

Everything here is a pure function of a list of :class:`engine.findings.Finding`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from . import template as T
from .catalogue import CATALOGUE, lookup
from .findings import ERROR, Finding

# An area with more findings of one code than this gets a summary.
ROLL_UP_OVER = 3
# So does a list with more findings than this in all.
SUMMARY_OVER = 10
# A run of this many consecutive IDs or cells (or more) is written as a range.
MIN_RUN = 3

_AREA_SHEET = re.compile(r"(\d{1,3}) \S.*")
_NUMBERED = re.compile(r"(.*?)(\d+)")
_ORDER = {e.code: i for i, e in enumerate(CATALOGUE)}

# What each sign-off cell asks for, as a summary says it is missing.
SIGNOFF_FIELDS = {
    T.SIGNOFF_CELLS["staff_role"]: "the staff role",
    T.SIGNOFF_CELLS["service_user"]: "whether a service user took part",
    T.SIGNOFF_CELLS["date_agreed"]: "the date agreed",
}

# How a summary counts the findings of a code: (one, many, what is listed).
# "standards" lists question IDs, "cells" lists cell references.
_NOUNS = {
    "rating-missing": ("standard not rated", "standards not rated", "standards"),
    "evidence-missing": (
        "standard rated without evidence",
        "standards rated without evidence",
        "standards",
    ),
    "rating-invalid": ("rating not understood", "ratings not understood", "standards"),
    "locked-text-changed": ("standard changed", "standards changed", "standards"),
    "personal-data": (
        "cell with possible patient details",
        "cells with possible patient details",
        "cells",
    ),
    "text-too-long": ("cell with too much text", "cells with too much text", "cells"),
}


def ranges(labels: Iterable[str], min_run: int = MIN_RUN) -> str:
    """Labels joined with commas, runs of ``min_run`` or more consecutive ones as ranges.

    ``["RRP-01", "RRP-02", "RRP-03", "RRP-05", "RRP-09"]`` gives
    ``"RRP-01 to RRP-03, RRP-05, RRP-09"``; cells work alike (``"D6 to D15"``).
    Consecutive means the same text before the number and the next number;
    the order given is kept and repeated labels are shown once.
    """
    parts: list[str] = []
    run: list[str] = []
    last: tuple[str, int] | None = None

    def flush() -> None:
        if len(run) >= min_run:
            parts.append(f"{run[0]} to {run[-1]}")
        else:
            parts.extend(run)

    for label in dict.fromkeys(labels):
        m = _NUMBERED.fullmatch(label)
        key = (m.group(1), int(m.group(2))) if m else None
        if run and key and last and key[0] == last[0] and key[1] == last[1] + 1:
            run.append(label)
        else:
            flush()
            run = [label]
        last = key
    flush()
    return ", ".join(parts)


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def area_of(finding: Finding) -> tuple[int, str] | None:
    """``(index, sheet)`` of the area a finding is about, or None for the file or another sheet."""
    if finding.code == "sheet-unexpected" or not finding.sheet:
        return None  # an extra sheet is never one of ours, whatever it is called
    m = _AREA_SHEET.fullmatch(finding.sheet)
    return (int(m.group(1)), finding.sheet) if m else None


def _title(code: str) -> str:
    try:
        return lookup(code).title
    except KeyError:
        return code


def _clause(code: str, found: list[Finding]) -> str:
    """What the findings of one code in one area come to, as a few words and a list."""
    if code == "signoff-missing":
        fields = [SIGNOFF_FIELDS.get(f.cell, f"cell {f.cell}") for f in found]
        fields = list(dict.fromkeys(fields))
        if len(fields) >= len(SIGNOFF_FIELDS):
            return "sign-off not filled in"
        return f"sign-off missing {_and(fields)}"
    if code == "signoff-invalid":
        fields = list(dict.fromkeys(SIGNOFF_FIELDS.get(f.cell, f"cell {f.cell}") for f in found))
        return f"sign-off not understood: {_and(fields)}"
    if code == "sheet-missing":
        return "sheet missing"
    one, many, listed = _NOUNS.get(code, (None, None, "cells"))
    if listed == "standards":
        items = [f.question_id or f"cell {f.cell}" for f in found if f.question_id or f.cell]
    else:
        items = [f.cell for f in found if f.cell]
    items = list(dict.fromkeys(items))
    if one is None:  # a code with no wording of its own here: the catalogue's title
        title = _title(code)
        title = title[:1].lower() + title[1:]
        return f"{title}: {ranges(items)}" if items else title
    count = len(items) or len(found)
    noun = one if count == 1 else many
    return f"{count} {noun}: {ranges(items)}" if items else f"{count} {noun}"


def _whole_file_line(finding: Finding) -> str:
    if finding.code.startswith("file-name"):
        where = "File name"
    elif finding.sheet:
        where = f"Sheet '{finding.sheet}'"
    else:
        where = "Whole file"
    return f"{where}: {_title(finding.code)}"


def needs_summary(findings: list[Finding]) -> bool:
    """True when the findings are many enough for a summary before the full list."""
    if len(findings) > SUMMARY_OVER:
        return True
    counts: dict[tuple, int] = {}
    for f in findings:
        area = area_of(f)
        if area is not None:
            key = (f.severity, area, f.code)
            counts[key] = counts.get(key, 0) + 1
            if counts[key] > ROLL_UP_OVER:
                return True
    return False


def summary_lines(findings: list[Finding]) -> list[str]:
    """One line per area (and per finding about the whole file), errors first; [] if not needed."""
    if not needs_summary(findings):
        return []
    lines: list[str] = []
    for errors in (True, False):
        group = [f for f in findings if (f.severity == ERROR) == errors]
        by_area: dict[tuple[int, str], dict[str, list[Finding]]] = {}
        for f in group:
            area = area_of(f)
            if area is None:
                lines.append(_whole_file_line(f))
            else:
                by_area.setdefault(area, {}).setdefault(f.code, []).append(f)
        for (_index, sheet), codes in sorted(by_area.items()):
            clauses = [
                _clause(code, codes[code])
                for code in sorted(codes, key=lambda c: (_ORDER.get(c, len(_ORDER)), c))
            ]
            lines.append(f"Area {sheet}: " + "; ".join(clauses))
    return lines

"""The personal data guard: NHS numbers and dates of birth in free text.

Evidence is not meant to hold patient details. Text that looks like an NHS
number (10 digits, spaced or not, passing the modulus 11 check) or a date of
birth is reported to the lead as a warning and masked in every output that
leaves the unit.

A date counts as a date of birth when a phrase such as "DOB", "date of birth"
or "born" comes just before it, or when its year is more than 16 years before
the current year (evidence is about recent events; birthdays are not).
"""

from __future__ import annotations

import datetime as dt
import re

MASK = "[removed]"

_NHS = re.compile(r"(?<![\d])(\d{3})[ \-]?(\d{3})[ \-]?(\d{4})(?![\d])")
_DATE = (
    r"(?:\d{1,2}[/.\-]\d{1,2}[/.\-](?:\d{4}|\d{2})"
    r"|\d{4}-\d{2}-\d{2}"
    r"|\d{1,2}(?:st|nd|rd|th)?\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{4})"
)
_DOB_KEYWORD = re.compile(
    r"(?:\bd\.?\s?o\.?\s?b\.?|\bdate\s+of\s+birth|\bborn(?:\s+on)?)\s*[:\-]?\s*(" + _DATE + ")",
    re.IGNORECASE,
)
_ANY_DATE = re.compile(r"(?<![\d])(" + _DATE + r")(?![\d])", re.IGNORECASE)
_YEAR = re.compile(r"(\d{4})")
_DIGIT = re.compile(r"\d")


def nhs_number_valid(digits: str) -> bool:
    """The NHS number modulus 11 check on a 10-digit string."""
    if len(digits) != 10 or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1)))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def _old_year(text: str, today: dt.date) -> bool:
    m = _YEAR.search(text)
    if not m:
        return False
    year = int(m.group(1))
    return 1900 <= year <= today.year - 16


def find_personal_data(text: str, today: dt.date | None = None) -> list[tuple[int, int, str]]:
    """Spans ``(start, end, kind)`` of likely NHS numbers and dates of birth in ``text``."""
    if not text or not _DIGIT.search(text):
        return []
    today = today or dt.date.today()
    spans: list[tuple[int, int, str]] = []
    for m in _NHS.finditer(text):
        if nhs_number_valid("".join(m.groups())):
            spans.append((m.start(), m.end(), "an NHS number"))
    for m in _DOB_KEYWORD.finditer(text):
        spans.append((m.start(), m.end(), "a date of birth"))
    for m in _ANY_DATE.finditer(text):
        if _old_year(m.group(1), today) and not any(s <= m.start() < e for s, e, _ in spans):
            spans.append((m.start(1), m.end(1), "a date of birth"))
    return sorted(spans)


def mask_personal_data(text: str, today: dt.date | None = None) -> str:
    """``text`` with every likely NHS number and date of birth replaced by a marker."""
    spans = find_personal_data(text, today)
    if not spans:
        return text
    out, pos = [], 0
    for start, end, _kind in spans:
        if start < pos:
            continue
        out.append(text[pos:start])
        out.append(MASK)
        pos = end
    out.append(text[pos:])
    return "".join(out)

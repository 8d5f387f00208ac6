"""The personal data guard: NHS numbers and dates of birth in free text.

Evidence is not meant to hold patient details. Text that looks like an NHS
number (10 digits, spaced or not, passing the modulus 11 check) or a date of
birth is reported to the lead as a warning and masked in every output that
leaves the unit.

An NHS number is found whatever separates its 3-3-4 groups: nothing, or a run
of up to three spaces of any kind (including no-break, thin and ideographic
spaces, and the invisible zero-width ones), dots, slashes or dashes of any
kind. Digits may be written in any script (full-width digits, say); the
modulus 11 check on the digits decides.

A date counts as a date of birth when a phrase such as "DOB", "date of birth"
or "born" comes just before it, or when its year is more than 16 years before
the current year (evidence is about recent events; birthdays are not).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

MASK = "[removed]"

# What may stand between the groups of an NHS number: spaces of every kind (ASCII, tab, line break,
# no-break, narrow no-break, the U+2000-U+200A family with figure and thin space, medium
# mathematical, ideographic), zero-width characters and the soft hyphen, dots, slashes, and
# dashes of every kind (hyphen-minus, U+2010-U+2015, minus sign, small and full-width forms).
NHS_SEPARATORS = (
    " \t\n\r\u00a0\u202f\u205f\u3000"
    + "".join(chr(c) for c in range(0x2000, 0x200B))
    + "\u200b\u200c\u200d\u2060\ufeff\u00ad"
    + "./\uff0e\uff0f\u2044\u2215"
    + "-"
    + "".join(chr(c) for c in range(0x2010, 0x2016))
    + "\u2212\ufe58\ufe63\uff0d"
)
_SEP = "[" + re.escape(NHS_SEPARATORS) + "]{0,3}"
_NHS = re.compile(r"(?<!\d)(\d{3})" + _SEP + r"(\d{3})" + _SEP + r"(\d{4})(?!\d)")
_DATE = (
    r"(?:\d{1,2}[/.\-\u2010-\u2015\u2212\uff0d]\d{1,2}[/.\-\u2010-\u2015\u2212\uff0d](?:\d{4}|\d{2})"
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
    """The NHS number modulus 11 check on a 10-digit string (digits of any script)."""
    if len(digits) != 10 or not digits.isdecimal():
        return False
    values = [unicodedata.decimal(d) for d in digits]
    total = sum(v * w for v, w in zip(values[:9], range(10, 1, -1)))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == values[9]


def _nhs_numbers(text: str) -> list[tuple[int, int]]:
    """Spans of 3-3-4 digit groups passing the modulus 11 check.

    A candidate that fails the check is not allowed to hide a valid one that starts inside it.
    """
    spans = []
    pos = 0
    while True:
        m = _NHS.search(text, pos)
        if m is None:
            return spans
        if nhs_number_valid("".join(m.groups())):
            spans.append((m.start(), m.end()))
            pos = m.end()
        else:
            pos = m.start() + 1


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
    for start, end in _nhs_numbers(text):
        spans.append((start, end, "an NHS number"))
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
        if start < pos:  # overlaps the span just masked: mask the rest of it too
            pos = max(pos, end)
            continue
        out.append(text[pos:start])
        out.append(MASK)
        pos = end
    out.append(text[pos:])
    return "".join(out)

"""The personal data guard: NHS numbers and dates of birth in free text.

Evidence is not meant to hold patient details. Text that looks like an NHS
number (10 digits passing the modulus 11 check, however they are grouped) or a
date of birth is reported to the lead as a warning and masked in every output
that leaves the unit.

An NHS number is found in any grouping: 3-3-4 as printed on a letter, 5-5 or
4-3-3 as read out over a phone, single digits spaced apart, or no grouping at
all. Between two of its digits may stand nothing, or up to four characters that
are neither letters nor digits: spaces of any kind (tabs, line breaks,
no-break, thin and ideographic spaces, the invisible zero-width ones), dots,
commas, slashes, brackets, dashes of any kind, and so on. Five such characters,
or any letter, break the number. Digits may be written in any script
(full-width digits, say); the modulus 11 check on the digits decides, so a near
miss that fails it is left alone.

Digits joined this way make a chain of groups (runs of digits written
together). A number never begins or ends in the middle of a group: "19434765919"
is an eleven-digit number, not an NHS number with a 1 before it. In a chain
longer than ten digits, every stretch of whole groups holding exactly ten
digits is checked, and one that passes is masked on its own ("Ref 123 [removed]"
for "Ref 123 943 4765919"): text that joins a number to the one before it must
not hide it. A UK phone number written in its usual groups (0161 496 0000,
01632 960 001, 07700 900 123) holds no such stretch and is never masked. The
price of finding every grouping is that other runs of small numbers written
only with separators (a phone number in international form, +44 20 7946 0000;
ten scores in a list, "4, 5, 3, ...") hold a ten-digit stretch too, and about
one in eleven of those passes the check by chance: it is masked and the lead
warned, which costs a word of rewording rather than a patient's identifier in a
shared output. A letter written against the digits does not stop them counting
("NHS9434765919"). The mask covers the digits and what lies between them, and a
bracket left half inside it, as in "(943) 476 5919", is taken in with its pair.

The search is one pass over the digit runs of the text with no backtracking,
so a cell of thousands of digits and separators costs no more than its length.

A date counts as a date of birth when a phrase such as "DOB", "date of birth"
or "born" comes just before it, or when its year is more than 16 years before
the current year (evidence is about recent events; birthdays are not).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

MASK = "[removed]"

NHS_DIGITS = 10
# The most characters (none of them a letter or a digit) that may stand between two digits of an
# NHS number.
NHS_MAX_GAP = 4
_DIGIT_RUN = re.compile(r"\d+")
# Brackets a mask takes in with their pair rather than leaving one of them outside.
_BRACKETS = {"(": ")", "[": "]", "{": "}", "\uff08": "\uff09", "\uff3b": "\uff3d"}
_CLOSING = frozenset(_BRACKETS.values())
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


def _joined(text: str, end: int, start: int) -> bool:
    """Whether the characters between two runs of digits (``text[end:start]``) join them."""
    return start - end <= NHS_MAX_GAP and not any(ch.isalnum() for ch in text[end:start])


def _digit_chains(text: str) -> list[list[tuple[int, int]]]:
    """The runs of digits of ``text`` (as spans), in chains of runs joined only by separators."""
    chains: list[list[tuple[int, int]]] = []
    for m in _DIGIT_RUN.finditer(text):
        if chains and _joined(text, chains[-1][-1][1], m.start()):
            chains[-1].append(m.span())
        else:
            chains.append([m.span()])
    return chains


def _with_brackets(text: str, start: int, end: int) -> tuple[int, int]:
    """The span widened over a bracket just outside it whose pair is inside it, unmatched."""
    opened: list[str] = []
    unmatched_closing: list[str] = []
    for ch in text[start:end]:
        if ch in _BRACKETS:
            opened.append(ch)
        elif ch in _CLOSING:
            if opened and _BRACKETS[opened[-1]] == ch:
                opened.pop()
            else:
                unmatched_closing.append(ch)
    if start and unmatched_closing and _BRACKETS.get(text[start - 1]) == unmatched_closing[0]:
        start -= 1
    if end < len(text) and opened and text[end] == _BRACKETS[opened[-1]]:
        end += 1
    return start, end


def _nhs_numbers(text: str) -> list[tuple[int, int]]:
    """Spans of ten digits in whole runs, joined only by separators, passing the modulus 11 check.

    Each run of a chain is tried as the first of a number: at most ten runs are read from it,
    so the work stays in proportion to the text however long the chain. A candidate that fails
    the check is not allowed to hide a valid one that starts inside it; one that passes is
    masked whole and the next is looked for after it.
    """
    spans = []
    for runs in _digit_chains(text):
        first = 0
        while first < len(runs):
            count, last = 0, first
            while last < len(runs) and count < NHS_DIGITS:
                count += runs[last][1] - runs[last][0]
                last += 1
            if count == NHS_DIGITS:
                digits = "".join(text[s:e] for s, e in runs[first:last])
                if nhs_number_valid(digits):
                    spans.append(_with_brackets(text, runs[first][0], runs[last - 1][1]))
                    first = last
                    continue
            first += 1
    return spans


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

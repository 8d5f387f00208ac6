"""The checks: what a return says, compared with the engine's own template.

Never trusts what the returned file says about itself beyond the metadata
that the token vouches for: wording, IDs, sheet names and the rating scale all
come from the bank version the workbook was issued with and from the network.
Every finding is collected; nothing stops at the first problem.

Messages are for an involvement lead to read and forward. Each is written for
its own case (one sentence per sign-off field, one per kind of locked text),
says where (the cell, and the standard or area) and what to do. Messages never
quote the hidden details of a workbook, and quote what was typed in a cell
(masked and cut short) only when the workbook's signature was verified.

``evidence-missing`` is reported for every rating with an empty Evidence cell,
and asks for what fits the rating: for the best rating (Met), what shows it is
met; for the lowest (Not met), a note of what is missing or what is planned;
for a rating between (Partly met), what is in place and what is still missing;
for a rating that is not applicable (N/A), why the standard does not apply to
the unit, as the workbook's own guidance asks. The kind is taken from the
network's scale (points, and whether the label is applicable), so a network
that renames its labels gets the same sentences.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import PurePath

from . import template as T
from .bank import Bank
from .findings import Finding, error, warning
from .home import PERIOD, Network, verify_token
from .privacy import find_personal_data, mask_personal_data
from .reader import wording_digest


@dataclass
class Answer:
    """One standard's answer as read from a return."""

    question_id: str
    area_id: str
    rating: str  # canonical scale label, or "" when unanswered or invalid
    evidence: str
    notes: str


@dataclass
class SignOff:
    """Who agreed an area's ratings."""

    area_id: str
    staff_role: str
    service_user: str  # "Yes", "No" or ""
    date_agreed: str  # ISO date or ""


@dataclass
class Return:
    """What a return says, after checking."""

    unit: str
    period: str
    bank_version: str
    answers: list[Answer] = field(default_factory=list)
    signoffs: list[SignOff] = field(default_factory=list)

    def ratings(self) -> dict[str, str]:
        return {a.question_id: a.rating for a in self.answers if a.rating}


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_PERIOD_IN_NAME = re.compile(r"(?<!\d)(\d{4})[-_ ]?(0[1-9]|1[0-2])(?!\d)")


def clean_text(value) -> str:
    """A cell value as text: numbers without '.0', control characters removed, NFC."""
    if value is None:
        return ""
    if type(value) is str and value.isprintable() and unicodedata.is_normalized("NFC", value):
        return value.strip()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dict):
        return str(next(iter(value.values()), ""))
    text = unicodedata.normalize("NFC", str(value)).replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", text).strip()


@lru_cache(maxsize=4096)
def _expected_digest(expected: str) -> str:
    return wording_digest(expected)


def _same_wording(found, expected: str) -> bool:
    if found == expected:
        return True
    if isinstance(found, dict) and "digest" in found:
        return found["digest"] == _expected_digest(expected)
    return " ".join(clean_text(found).split()) == " ".join(expected.split())


def _excel_date(value) -> str:
    """An ISO date from a cell value (date, Excel serial number or typed text), or ""."""
    if isinstance(value, dict) and "date" in value:
        return value["date"][:10]
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 20000 < value < 80000:
        return (dt.date(1899, 12, 30) + dt.timedelta(days=int(value))).isoformat()
    if isinstance(value, str):
        text = value.strip()
        for fmt in (
            "%d/%m/%Y",
            "%d/%m/%y",
            "%Y-%m-%d",
            "%d.%m.%Y",
            "%d-%m-%Y",
            "%d %B %Y",
            "%d %b %Y",
        ):
            try:
                return dt.datetime.strptime(text, fmt).date().isoformat()
            except ValueError:
                continue
    return ""


_ECHO_MAX = 40
UNKNOWN_UNIT = "a unit this network does not have"


def _echo(text: str) -> str:
    """Text read from a file, fit to quote in a message: personal data masked, length capped."""
    text = " ".join(mask_personal_data(text).split())
    return text if len(text) <= _ECHO_MAX else text[: _ECHO_MAX - 3] + "..."


def _unit_named(unit: str, network: Network) -> str:
    """How a message names the unit a file claims: its code only if the network has it."""
    return f"unit {unit}" if network.unit(unit) is not None else UNKNOWN_UNIT


def _or_list(items: list[str]) -> str:
    """``["Met", "Partly met", "Not met", "N/A"]`` as ``Met, Partly met, Not met or N/A``."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def _month_words(period: str) -> str:
    """``2026-11`` as ``November 2026 (2026-11)``; anything else as it is."""
    try:
        return f"{dt.date(int(period[:4]), int(period[5:7]), 1):%B %Y} ({period})"
    except (TypeError, ValueError):
        return period


def _example_date(period: str) -> str:
    """A date in the return's month, written the way the sign-off asks: ``14/11/2026``."""
    return f"14/{period[5:7]}/{period[:4]}" if PERIOD.match(period) else "14/11/2026"


def _evidence_message(std_id: str, rating: str, cell: str, network: Network) -> str:
    """What an empty Evidence cell should hold, for the rating given (see the module docstring)."""
    scale = {s.label: s for s in network.scale}.get(rating)
    applicable = [s.points for s in network.scale if s.applicable]
    if scale is not None and not scale.applicable:
        return (
            f"Standard {std_id} is rated '{rating}' but no reason is given. In the Evidence "
            f"cell ({cell}), write why the standard does not apply to this unit."
        )
    if scale is not None and scale.points >= max(applicable):
        return (
            f"Standard {std_id} is rated '{rating}' but has no evidence. In the Evidence cell "
            f"({cell}), write what shows it is met: a document, a meeting, what staff and "
            f"service users say."
        )
    if scale is not None and scale.points <= min(applicable):
        return (
            f"Standard {std_id} is rated '{rating}' and the Evidence cell ({cell}) is empty. "
            f"Write a short note there of what is missing, or of what is planned to meet it."
        )
    return (
        f"Standard {std_id} is rated '{rating}' but has no evidence. In the Evidence cell "
        f"({cell}), write what is already in place and what is still missing."
    )


def _file_name_findings(name: str, network: Network, unit: str, period: str) -> list[Finding]:
    """The file name should not claim another unit or month than the workbook's own."""
    findings = []
    stem = PurePath(name).stem
    words = set(re.split(r"[^A-Za-z0-9]+", stem.upper()))
    named = [u.code for u in network.units if u.code.upper() in words]
    if named and unit and unit.upper() not in {c.upper() for c in named}:
        if network.unit(unit) is not None:
            message = (
                f"The file is named for unit {named[0]}, but the workbook inside was issued to "
                f"unit {unit}. A unit must return its own workbook: if this is unit {unit}'s "
                f"return, rename the file to {T.file_name(unit, period)}; if it is meant to be "
                f"unit {named[0]}'s, ask them to fill in and send the workbook made for them."
            )
        else:  # the hidden unit is not one of ours: never echo it
            message = (
                f"The file is named for unit {named[0]}, but the workbook inside was issued to "
                f"{UNKNOWN_UNIT}. If it is meant to be unit {named[0]}'s, ask them to fill in "
                f"and send the workbook made for them."
            )
        findings.append(error("file-name-unit-mismatch", message))
    m = _PERIOD_IN_NAME.search(stem)
    if m and period:
        named_period = f"{m.group(1)}-{m.group(2)}"
        if named_period != period:
            findings.append(
                error(
                    "file-name-period-mismatch",
                    f"The file name says {_month_words(named_period)}, but the workbook inside "
                    f"is for {_month_words(period)}. Check which month this return is for and ask "
                    f"the unit to send the workbook issued for that month.",
                )
            )
    return findings


def expected_sheets(bank: Bank) -> list[str]:
    """The sheet names a workbook of this bank version has, in order."""
    return (
        [T.START_SHEET, T.SUMMARY_SHEET]
        + [T.area_sheet_name(a.index, a.short_name) for a in bank.areas]
        + [T.LISTS_SHEET, T.META_SHEET]
    )


def check_return(
    raw: dict,
    *,
    network: Network,
    banks: dict[str, Bank],
    secret: bytes,
    file_name: str = "",
    today: dt.date | None = None,
) -> tuple[list[Finding], Return | None]:
    """Check a read return. Returns every finding and, if it could be understood, the Return."""
    findings: list[Finding] = []
    cells = raw.get("cells", {})
    sheet_names = [name for name, _vis in raw.get("sheets", [])]
    meta_cells = cells.get(T.META_SHEET)
    meta = {}
    if meta_cells:
        for i, key in enumerate(T.META_ROWS, start=1):
            if clean_text(meta_cells.get(f"A{i}")) == key:
                meta[key] = clean_text(meta_cells.get(f"B{i}"))
    unit, period, version, token = (
        meta.get(k, "") for k in ("unit", "period", "bank_version", "token")
    )
    if not (unit and period and version and token):
        findings.append(
            error(
                "not-a-sequin-workbook",
                "This is a spreadsheet, but not a SeQuIn workbook issued by this network (its hidden "
                "details are missing). Ask the unit to fill in the SeQuIn workbook they were sent "
                "for the month and send that back.",
            )
        )
        return findings, None
    if version not in banks:
        findings.append(
            error(
                "unknown-bank-version",
                "This workbook was made with a version of the SeQuIn standards that this engine "
                "does not know, so it cannot be checked. Send the unit a new workbook for the "
                "month ('sequin generate --period YYYY-MM') and ask them to copy their answers "
                "into it.",
                sheet=T.META_SHEET,
            )
        )
        return findings, None
    bank = banks[version]
    if not PERIOD.match(period):
        findings.append(
            error(
                "token-invalid",
                "The month recorded inside this workbook has been changed, so "
                "it cannot be checked. Send the unit the workbook generated for them for the "
                "month and ask them to return that one.",
                sheet=T.META_SHEET,
            )
        )
        return findings, None
    trusted = verify_token(secret, token, unit, period, version)
    if not trusted:
        findings.append(
            error(
                "token-invalid",
                f"This workbook's signature does not match {_unit_named(unit, network)} for "
                f"{period}: it was made by "
                f"another network, or its hidden details were changed. Send the unit the workbook "
                f"generated for them for {period} and ask them to return that one.",
                sheet=T.META_SHEET,
            )
        )
    if network.unit(unit) is None:
        findings.append(
            error(
                "unknown-unit",
                "This workbook was issued to a unit that is not in this network's list of units. "
                "Check the units in network.toml, or send the unit a workbook from this network.",
                sheet=T.META_SHEET,
            )
        )
    if file_name:
        findings.extend(_file_name_findings(file_name, network, unit, period))

    expected = expected_sheets(bank)
    for name in expected:
        if name not in sheet_names:
            findings.append(
                error(
                    "sheet-missing",
                    f"The sheet '{name}' is missing. Sheets must not be deleted or renamed: "
                    f"ask the unit to copy their answers into a fresh workbook for "
                    f"{_month_words(period)} and send it again.",
                    sheet=name,
                )
            )
    for name in sheet_names:
        if name not in expected:
            findings.append(
                error(
                    "sheet-unexpected",
                    f"The sheet '{_echo(name)}' is not part of the SeQuIn workbook. Ask the unit "
                    f"to delete it (right-click its tab, then Delete) or copy their answers into a "
                    f"fresh workbook, and send it again.",
                    sheet=name,
                )
            )

    ret = Return(unit=unit, period=period, bank_version=version)
    labels = {s.label.casefold(): s.label for s in network.scale}
    choices = _or_list(network.labels)
    example_date = _example_date(period)
    not_applicable = next((s.label for s in network.scale if not s.applicable), "")
    if_na = f" ({not_applicable} if it does not apply)" if not_applicable else ""
    for area in bank.areas:
        sheet = T.area_sheet_name(area.index, area.short_name)
        if sheet not in sheet_names:
            continue
        sc = cells.get(sheet, {})
        for pos, std in enumerate(area.standards):
            row = T.standard_row(pos)
            changed = "has been changed, moved or deleted."
            for col, expect, what in (
                (
                    T.COL_ID,
                    std.id,
                    f"Cell {T.COL_ID}{row} should hold the standard ID {std.id}, but it {changed}",
                ),
                (
                    T.COL_TEXT,
                    std.text,
                    f"The wording of standard {std.id} in cell {T.COL_TEXT}{row} {changed}",
                ),
                (
                    T.COL_EASY,
                    std.easy_read,
                    f"The easy-read wording of standard {std.id} in cell {T.COL_EASY}{row} {changed}",
                ),
            ):
                if not _same_wording(sc.get(f"{col}{row}"), expect):
                    findings.append(
                        error(
                            "locked-text-changed",
                            f"{what} The standards must stay as issued: ask the unit to undo the "
                            f"change (or copy their answers into a fresh workbook) and send it again.",
                            sheet=sheet,
                            cell=f"{col}{row}",
                            question_id=std.id,
                        )
                    )
            cells_ = T.answer_cells(pos)
            raw_rating = sc.get(cells_.rating)
            rating = ""
            text = clean_text(raw_rating)
            if text:
                rating = (
                    labels.get(" ".join(text.split()).casefold(), "")
                    if isinstance(raw_rating, str)
                    else ""
                )
                if not rating:
                    findings.append(
                        error(
                            "rating-invalid",
                            (
                                f"'{_echo(text)}' in cell {cells_.rating} is not a rating. "
                                if trusted
                                else f"What is in cell {cells_.rating} is not a rating. "
                            )
                            + f"Choose {choices} for standard {std.id} from the drop-down list "
                            f"in that cell.",
                            sheet=sheet,
                            cell=cells_.rating,
                            question_id=std.id,
                        )
                    )
            else:
                findings.append(
                    warning(
                        "rating-missing",
                        f"Standard {std.id} has no rating. In cell {cells_.rating}, choose "
                        f"{choices} from the drop-down list{if_na}. Until it is rated, the "
                        f"{area.name} area is marked incomplete and left out of the network "
                        f"figures.",
                        sheet=sheet,
                        cell=cells_.rating,
                        question_id=std.id,
                    )
                )
            evidence, notes = clean_text(sc.get(cells_.evidence)), clean_text(sc.get(cells_.notes))
            for ref, value, field_name in (
                (cells_.evidence, evidence, "evidence"),
                (cells_.notes, notes, "actions / notes"),
            ):
                if len(value) > T.MAX_TEXT:
                    findings.append(
                        warning(
                            "text-too-long",
                            f"The {field_name} for standard {std.id} (cell {ref}) is "
                            f"{len(value):,} characters long; only the first {T.MAX_TEXT:,} are "
                            f"kept. Ask the unit to shorten it.",
                            sheet=sheet,
                            cell=ref,
                            question_id=std.id,
                        )
                    )
                for _s, _e, kind in find_personal_data(value, today)[:1]:
                    findings.append(
                        warning(
                            "personal-data",
                            f"The {field_name} for standard {std.id} (cell {ref}) seems to contain "
                            f"{kind}. Patient details must not be written in the workbook: it is "
                            f"masked in every shared output, but ask the unit to remove it.",
                            sheet=sheet,
                            cell=ref,
                            question_id=std.id,
                        )
                    )
            evidence, notes = evidence[: T.MAX_TEXT], notes[: T.MAX_TEXT]
            if rating and not evidence:
                findings.append(
                    warning(
                        "evidence-missing",
                        _evidence_message(std.id, rating, cells_.evidence, network),
                        sheet=sheet,
                        cell=cells_.evidence,
                        question_id=std.id,
                    )
                )
            ret.answers.append(Answer(std.id, area.id, rating, evidence, notes))
        role = clean_text(sc.get(T.SIGNOFF_CELLS["staff_role"]))[:200]
        su_raw = clean_text(sc.get(T.SIGNOFF_CELLS["service_user"]))
        su = {"yes": "Yes", "no": "No", "y": "Yes", "n": "No"}.get(su_raw.casefold(), "")
        date_raw = sc.get(T.SIGNOFF_CELLS["date_agreed"])
        date = _excel_date(date_raw)
        role_cell, su_cell, date_cell = (
            T.SIGNOFF_CELLS[k] for k in ("staff_role", "service_user", "date_agreed")
        )
        signoff = f"The sign-off for the {area.name} area"
        missing = []
        if not role:
            missing.append(
                (
                    role_cell,
                    (
                        f"{signoff} has no staff role. In cell {role_cell} at the bottom of the sheet, "
                        f"write the role of the member of staff who agreed the ratings (for example, "
                        f"Ward manager)."
                    ),
                )
            )
        if not su_raw:
            missing.append(
                (
                    su_cell,
                    (
                        f"{signoff} does not say whether a service user took part. In cell {su_cell} at "
                        f"the bottom of the sheet, choose Yes or No."
                    ),
                )
            )
        if date_raw in (None, ""):
            missing.append(
                (
                    date_cell,
                    (
                        f"{signoff} has no date. In cell {date_cell} at the bottom of the sheet, type the "
                        f"date the ratings were agreed, such as {example_date}."
                    ),
                )
            )
        for ref, message in missing:
            findings.append(warning("signoff-missing", message, sheet=sheet, cell=ref))
        if su_raw and not su:
            said = (
                f"'{_echo(su_raw)}' in cell {su_cell}" if trusted else f"What is in cell {su_cell}"
            )
            findings.append(
                warning(
                    "signoff-invalid",
                    f"{said} does not say whether a service user took part in agreeing the "
                    f"ratings for the {area.name} area. Choose Yes or No from the drop-down "
                    f"list.",
                    sheet=sheet,
                    cell=su_cell,
                )
            )
        if date_raw not in (None, "") and not date:
            said = (
                f"'{_echo(clean_text(date_raw))}' in cell {date_cell}"
                if trusted
                else f"What is in cell {date_cell}"
            )
            findings.append(
                warning(
                    "signoff-invalid",
                    f"{said} is not a date. Type the date the ratings for the {area.name} area "
                    f"were agreed, such as {example_date}.",
                    sheet=sheet,
                    cell=date_cell,
                )
            )
        for _s, _e, kind in find_personal_data(role, today)[:1]:
            findings.append(
                warning(
                    "personal-data",
                    f"The staff role in the sign-off for the {area.name} area (cell "
                    f"{role_cell}) seems to contain {kind}. Ask the unit to write the role "
                    f"only (for example, Ward manager) and remove the rest.",
                    sheet=sheet,
                    cell=role_cell,
                )
            )
        ret.signoffs.append(SignOff(area.id, role, su, date))

    if (
        ret.answers
        and not any(a.rating for a in ret.answers)
        and not any(f.code == "rating-invalid" for f in findings)
    ):
        findings.append(
            error(
                "return-empty",
                "None of the standards has been rated. Ask the unit to choose a rating for each "
                "standard (from the drop-down list in the Rating column of each area's sheet) "
                "and send the workbook again.",
            )
        )
    return findings, ret

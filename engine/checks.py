"""The checks: what a return says, compared with the engine's own template.

Never trusts what the returned file says about itself beyond the metadata
that the token vouches for: wording, IDs, sheet names and the rating scale all
come from the bank version the workbook was issued with and from the network.
Every finding is collected; nothing stops at the first problem.
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
        for fmt in ("%d/%m/%Y", "%d/%m/%y", "%Y-%m-%d", "%d.%m.%Y", "%d-%m-%Y", "%d %B %Y", "%d %b %Y"):
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
                    f"The file is named for {named_period}, but the workbook inside is for {period}. "
                    f"Check which month this return is for and send the workbook issued for that month.",
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
    unit, period, version, token = (meta.get(k, "") for k in ("unit", "period", "bank_version", "token"))
    if not (unit and period and version and token):
        findings.append(
            error(
                "not-a-sequin-workbook",
                "This is a spreadsheet, but not a SeQuIn workbook issued by this network (its hidden "
                "details are missing). Ask the unit to fill in the workbook they were sent and return that.",
            )
        )
        return findings, None
    if version not in banks:
        findings.append(
            error(
                "unknown-bank-version",
                f"This workbook uses question set version {_echo(version)}, which this engine "
                f"does not know. "
                f"Send the unit a new workbook for this month ('sequin generate').",
                sheet=T.META_SHEET,
            )
        )
        return findings, None
    bank = banks[version]
    if not PERIOD.match(period):
        findings.append(
            error("token-invalid", "The workbook's hidden month has been altered. "
                  "Send the unit a new workbook for this month.", sheet=T.META_SHEET)
        )
        return findings, None
    if not verify_token(secret, token, unit, period, version):
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
                f"This workbook was issued to {UNKNOWN_UNIT}: its unit is not in this network's "
                f"list of units. Check network.toml, or send the unit a workbook from this "
                f"network.",
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
                    f"ask the unit to copy their answers into a fresh workbook for {period}.",
                    sheet=name,
                )
            )
    for name in sheet_names:
        if name not in expected:
            findings.append(
                error(
                    "sheet-unexpected",
                    f"The sheet '{name}' is not part of the SeQuIn workbook. Remove it (right-click "
                    f"the tab, Delete) or copy the answers into a fresh workbook, and send it again.",
                    sheet=name,
                )
            )

    ret = Return(unit=unit, period=period, bank_version=version)
    labels = {s.label.casefold(): s.label for s in network.scale}
    choices = ", ".join(network.labels)
    for area in bank.areas:
        sheet = T.area_sheet_name(area.index, area.short_name)
        if sheet not in sheet_names:
            continue
        sc = cells.get(sheet, {})
        for pos, std in enumerate(area.standards):
            row = T.standard_row(pos)
            for col, expect, what in (
                (T.COL_ID, std.id, "standard ID"),
                (T.COL_TEXT, std.text, "wording of the standard"),
                (T.COL_EASY, std.easy_read, "easy-read wording"),
            ):
                if not _same_wording(sc.get(f"{col}{row}"), expect):
                    findings.append(
                        error(
                            "locked-text-changed",
                            f"The {what} in this cell has been changed, moved or deleted. The standards "
                            f"must stay as issued: undo the change (or copy the answers into a fresh "
                            f"workbook) and send it again.",
                            sheet=sheet, cell=f"{col}{row}", question_id=std.id,
                        )
                    )
            cells_ = T.answer_cells(pos)
            raw_rating = sc.get(cells_.rating)
            rating = ""
            text = clean_text(raw_rating)
            if text:
                rating = labels.get(" ".join(text.split()).casefold(), "") if isinstance(
                    raw_rating, str
                ) else ""
                if not rating:
                    findings.append(
                        error(
                            "rating-invalid",
                            f"'{_echo(text)}' is not a rating. Choose one of {choices} from the "
                            f"drop-down list in this cell.",
                            sheet=sheet, cell=cells_.rating, question_id=std.id,
                        )
                    )
            else:
                findings.append(
                    warning(
                        "rating-missing",
                        f"Standard {std.id} has no rating. Choose one of {choices} (use N/A if it "
                        f"does not apply). Until it is rated, this area counts as incomplete.",
                        sheet=sheet, cell=cells_.rating, question_id=std.id,
                    )
                )
            evidence, notes = clean_text(sc.get(cells_.evidence)), clean_text(sc.get(cells_.notes))
            for ref, value in ((cells_.evidence, evidence), (cells_.notes, notes)):
                if len(value) > T.MAX_TEXT:
                    findings.append(
                        warning(
                            "text-too-long",
                            f"This cell holds {len(value):,} characters; only the first "
                            f"{T.MAX_TEXT:,} are kept. Please shorten it.",
                            sheet=sheet, cell=ref, question_id=std.id,
                        )
                    )
                for _s, _e, kind in find_personal_data(value, today)[:1]:
                    findings.append(
                        warning(
                            "personal-data",
                            f"This text seems to contain {kind}. Patient details must not be written "
                            f"in the workbook: it is hidden in shared reports, but please ask the "
                            f"unit to remove it.",
                            sheet=sheet, cell=ref, question_id=std.id,
                        )
                    )
            evidence, notes = evidence[: T.MAX_TEXT], notes[: T.MAX_TEXT]
            if rating and not evidence:
                findings.append(
                    warning(
                        "evidence-missing",
                        f"Standard {std.id} is rated '{rating}' but has no evidence. Say what shows "
                        f"it (a document, a meeting, what people say).",
                        sheet=sheet, cell=cells_.evidence, question_id=std.id,
                    )
                )
            ret.answers.append(Answer(std.id, area.id, rating, evidence, notes))
        role = clean_text(sc.get(T.SIGNOFF_CELLS["staff_role"]))[:200]
        su_raw = clean_text(sc.get(T.SIGNOFF_CELLS["service_user"]))
        su = {"yes": "Yes", "no": "No", "y": "Yes", "n": "No"}.get(su_raw.casefold(), "")
        date_raw = sc.get(T.SIGNOFF_CELLS["date_agreed"])
        date = _excel_date(date_raw)
        missing = []
        if not role:
            missing.append(("staff role", T.SIGNOFF_CELLS["staff_role"]))
        if not su_raw:
            missing.append(("whether a service user took part", T.SIGNOFF_CELLS["service_user"]))
        if date_raw in (None, ""):
            missing.append(("date agreed", T.SIGNOFF_CELLS["date_agreed"]))
        for what, ref in missing:
            findings.append(
                warning(
                    "signoff-missing",
                    f"Who agreed the ratings for {area.name}: the {what} is not filled in. "
                    f"Please complete it at the bottom of the sheet.",
                    sheet=sheet, cell=ref,
                )
            )
        if su_raw and not su:
            findings.append(
                warning("signoff-invalid", f"'{su_raw[:20]}' should be Yes or No.",
                        sheet=sheet, cell=T.SIGNOFF_CELLS["service_user"])
            )
        if date_raw not in (None, "") and not date:
            findings.append(
                warning("signoff-invalid", f"'{clean_text(date_raw)[:20]}' is not a date. "
                        "Type it like 14/11/2026.", sheet=sheet, cell=T.SIGNOFF_CELLS["date_agreed"])
            )
        for _s, _e, kind in find_personal_data(role, today)[:1]:
            findings.append(
                warning("personal-data", f"This text seems to contain {kind}. Please remove it.",
                        sheet=sheet, cell=T.SIGNOFF_CELLS["staff_role"])
            )
        ret.signoffs.append(SignOff(area.id, role, su, date))

    if ret.answers and not any(a.rating for a in ret.answers) and not any(
        f.code == "rating-invalid" for f in findings
    ):
        findings.append(
            error(
                "return-empty",
                "No standard has been rated. Ask the unit to fill in the workbook and send it again.",
            )
        )
    return findings, ret

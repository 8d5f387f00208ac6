"""The checks: what a returned workbook says, compared with the engine's own template.

Three forms are checked (see :mod:`engine.template`): a unit's return in the
earlier layout (``unit/1``) or the current one with its Actions sheet
(``unit/2``), and a family and friends response (``family/1``). The form is
read from the Metadata and is part of what the token signs, so no workbook is
ever read as another form: a changed or deleted ``form`` row fails the token.

Never trusts what the returned file says about itself beyond the metadata
that the token vouches for: wording, IDs, sheet names and the rating scale all
come from the bank version the workbook was issued with and from the network.
Every finding is collected; nothing stops at the first problem.

Messages are for an involvement lead to read and forward. Each is written for
its own case (one sentence per sign-off field, one per kind of locked text),
says where (the cell, and the standard or area) and what to do. Messages never
quote the hidden details of a workbook, and quote what was typed in a cell
(masked and cut short) only when the workbook's signature was verified. The
unit and month a workbook is for are named only when its signature vouches for
them, and only then is a file name (to rename it to) or a folder in the outbox
made from them; a file named for another unit or month than its signed own is
told the exact name to rename it to, which is the whole fix. One of the
engine's own output workbooks put in the inbox is told it is one, not a return
(:func:`output_finding`; the pre-check gives it, from the sheets alone).

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
class Action:
    """One row of a return's Actions sheet (form unit/2), as checked."""

    ref: str  # "2026-10.3": the month it was first written and its row then; kept when carried
    position: int  # 0-based row on this return's Actions sheet
    what: str
    area_id: str  # "" when no area was chosen
    lead: str
    due: str  # ISO date or ""
    status: str  # one of template.ACTION_STATUSES


@dataclass
class Return:
    """What a return says, after checking."""

    unit: str
    period: str
    bank_version: str
    answers: list[Answer] = field(default_factory=list)
    signoffs: list[SignOff] = field(default_factory=list)
    form: str = T.UNIT_FORM
    actions: list[Action] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # refs of carried actions left as they were

    def ratings(self) -> dict[str, str]:
        return {a.question_id: a.rating for a in self.answers if a.rating}


@dataclass
class FamilyAnswer:
    """What one family and friends response says about one area."""

    area_id: str
    agree: str  # one of template.AGREE_CHOICES, or "" when not answered
    comment: str


@dataclass
class FamilyResponse:
    """A family and friends response (form family/1), after checking."""

    unit: str
    period: str
    bank_version: str
    answers: list[FamilyAnswer] = field(default_factory=list)
    form: str = T.FAMILY_FORM


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


_DATE_FORMATS = ("%d/%m/%Y", "%d/%m/%y", "%Y-%m-%d", "%d.%m.%Y", "%d-%m-%Y", "%d %B %Y", "%d %b %Y")


def _excel_date(value) -> str:
    """An ISO date from a cell value (date, Excel serial number or typed text), or ""."""
    if isinstance(value, dict) and "date" in value:
        return value["date"][:10]
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 20000 < value < 80000:
        return (dt.date(1899, 12, 30) + dt.timedelta(days=int(value))).isoformat()
    if isinstance(value, str):
        text = value.strip()
        for fmt in _DATE_FORMATS:
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
    """``2026-11`` as ``November 2026 (2026-11)``; ``""`` (not verified) as ``the month``."""
    if not period:
        return "the month"
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


_KIND = {
    T.FORM_UNIT_1: "a unit workbook of the earlier layout",
    T.FORM_UNIT_2: "a unit workbook",
    T.FORM_FAMILY_1: "a family and friends form",
}
_PATIENT = (
    "Patient details must not be written in the workbook: it is masked in every shared output, "
    "but ask the unit to remove it."
)
_ASK_AGAIN = (
    "the unit to fill in the SeQuIn workbook they were sent for the month and send that back"
)
_NOT_OURS = (
    "This is a spreadsheet, but not a SeQuIn workbook issued by this network (its hidden details "
    f"are missing). Ask {_ASK_AGAIN}."
)
# What each of the engine's output workbooks is (see engine.template.output_kind).
_OUTPUT_WORDS = {
    "feedback": "a unit's feedback workbook",
    "network": "the network's benchmark workbook",
    "commissioners": "the summary workbook for commissioners",
    "ward easy read": "a ward's easy-read page",
    "easy read": "the easy-read page for all wards",
}


def output_finding(kind: str) -> Finding:
    """What the lead is told of one of the engine's own output workbooks put in the inbox.

    ``kind`` is from :func:`engine.template.output_kind`. Nothing read from the file
    (its title, unit or month) is repeated: an output carries no signature, so none of
    it is verified. The pre-check gives this finding before any sheet is looked at.
    """
    what = _OUTPUT_WORDS.get(kind)
    named = f" (by its sheets, {what})" if what else ""
    return_name = T.file_name("<unit code>", "<YYYY-MM>")
    return error(
        "output-workbook",
        f"This is not a return: it is one of the workbooks SeQuIn writes for people to "
        f"read{named}, which the engine keeps in the outbox folder. Nothing in it was "
        "counted, and nothing needs doing about it: take it out of the inbox, with this "
        f"report. A unit's return is the workbook made for the unit to fill in, named "
        f"{return_name} (the unit's code and the month), as sent from the month's "
        "workbooks folder in the outbox.",
    )


_UNKNOWN_FORM = (
    "This spreadsheet's hidden details say it is a kind of SeQuIn workbook that this engine does "
    f"not know, so it cannot be checked. If it is a unit's return, ask {_ASK_AGAIN}. If it is a "
    "family and friends response, type the answers into the unit's family and friends form for "
    "the month (in the outbox) and put that in the inbox."
)
_UNKNOWN_BANK = (
    "This workbook was made with a version of the SeQuIn standards that this engine does not "
    "know, so it cannot be checked. Send the unit a new workbook for the month ('sequin generate "
    "--period YYYY-MM') and ask them to copy their answers into it."
)
_MONTH_CHANGED = (
    "The month recorded inside this workbook has been changed, so it cannot be checked. Send the "
    "unit the workbook generated for them for the month and ask them to return that one."
)


def _forged(unit: str, network: Network) -> str:
    """A signature that vouches for nothing: the month it names is never repeated."""
    unit = f"unit {unit} and the month" if network.unit(unit) is not None else "the unit and month"
    return (
        f"This workbook's signature does not match {unit} its hidden details name, so they "
        "cannot be trusted: it was made by another network, or its hidden details were changed. "
    )


_UNKNOWN_UNIT = (
    "This workbook was issued to a unit that is not in this network's list of units. Check the "
    "units in network.toml, or send the unit a workbook from this network."
)


def _fresh(form: str, unit: str, period: str, network: Network) -> str:
    """What to do when a workbook must be replaced by the one issued for it.

    ``unit`` and ``period`` are ``""`` when the workbook's signature did not vouch for
    them: the advice is then given without them, and no file name is made up from them.
    """
    month = _month_words(period)
    if not T.is_family(form):
        return (
            f"Send the unit the workbook generated for them for {month} and ask them to return "
            "that one."
        )
    if not (unit and period and network.unit(unit) is not None and PERIOD.match(period)):
        return (
            "Type the answers into a fresh copy of the unit's family and friends form for the "
            "month (in the outbox, in the month's family folder) and put that in the inbox."
        )
    where = f"outbox/{period}/family/{T.family_file_name(unit, period)}"
    return (
        f"Type the answers into a fresh copy of the family and friends form for "
        f"{_unit_named(unit, network)}, {month}, and put that in the inbox. The form is {where}."
    )


_RENAME_ONLY = (
    "Renaming the file is the whole fix: nothing needs filling in again, and nothing needs to "
    "go back to the unit."
)


def _file_name_findings(
    name: str, network: Network, unit: str, period: str, form: str = T.UNIT_FORM
) -> list[Finding]:
    """The file name should not claim another unit or month than the workbook's own.

    Called only for a workbook whose signature vouches for ``unit`` and ``period``, so
    the name to rename it to is the engine's own name for it, and renaming is the fix.
    """
    findings = []
    stem = PurePath(name).stem
    family = T.is_family(form)
    rename = (T.family_file_name if family else T.file_name)(unit, period)
    # "family", "friends" and the like say which kind of form it is: never a unit code.
    words = {w for w in re.split(r"[^A-Za-z0-9]+", stem.upper()) if T.claimed_form(w) != "family"}
    named = [u.code for u in network.units if u.code.upper() in words]
    ours = network.unit(unit) is not None
    month = _month_words(period)
    kind = "the family and friends form" if family else "the workbook"
    signed = (
        f"Its signature shows it was made for {_unit_named(unit, network)}, {month}."
        if family
        else f"Its signature shows it is unit {unit}'s return for {month}."
    )
    fix = f"{signed} {_RENAME_ONLY} Rename it to {rename} and put it in the inbox again."
    if named and unit and unit.upper() not in {c.upper() for c in named}:
        other = named[0]
        if ours:
            made = "made for" if family else "issued to"
            message = f"The file is named for unit {other}, but {kind} inside was {made} unit {unit}. {fix}"
        else:  # the hidden unit is not one of ours: never echo it
            message = (
                f"The file is named for unit {other}, but the workbook inside was issued to "
                f"{UNKNOWN_UNIT}. If it is meant to be unit {other}'s, ask them to fill in and "
                "send the workbook made for them."
            )
        findings.append(error("file-name-unit-mismatch", message))
    m = _PERIOD_IN_NAME.search(stem)
    if m and period and f"{m.group(1)}-{m.group(2)}" != period:
        said = _month_words(f"{m.group(1)}-{m.group(2)}")
        message = f"The file name says {said}, but {kind} inside is for {month}. " + (
            fix if ours else "Nothing in it was counted."
        )
        findings.append(error("file-name-period-mismatch", message))
    return findings


def _kind_findings(name: str, form: str, unit: str, period: str) -> list[Finding]:
    """A family form named as a unit's return, or a unit's return named as a family form."""
    claimed, month = T.claimed_form(name), _month_words(period)
    if not claimed or (claimed == "family") == T.is_family(form):
        return []
    message = (
        f"This is a family and friends response for unit {unit}, {month}, but its file name "
        f"says it is the unit's own return. Nothing in it was counted. {_RENAME_ONLY} Rename "
        f"it to {T.family_file_name(unit, period)} and put it in the inbox again."
        if T.is_family(form)
        else f"This is unit {unit}'s own return for {month}, but its file name says it is a "
        f"family and friends response. Nothing in it was counted. {_RENAME_ONLY} Rename it "
        f"to {T.file_name(unit, period)} and put it in the inbox again."
    )
    return [error("wrong-kind", message)]


def expected_sheets(bank: Bank, form: str = T.UNIT_FORM) -> list[str]:
    """The sheet names a workbook of this bank version and form has, in order."""
    if T.is_family(form):
        return [T.FAMILY_SHEET, T.LISTS_SHEET, T.META_SHEET]
    areas = [T.area_sheet_name(a.index, a.short_name) for a in bank.areas]
    actions = [] if form == T.FORM_UNIT_1 else [T.ACTIONS_SHEET]
    return [T.START_SHEET, T.SUMMARY_SHEET, *areas, *actions, T.LISTS_SHEET, T.META_SHEET]


def _sheet_findings(expected, sheet_names, form, unit, period, network) -> list[Finding]:
    findings = []
    family = T.is_family(form)
    for name in (n for n in expected if n not in sheet_names):
        message = (
            f"The sheet '{name}' is missing from this family and friends form. "
            + _fresh(form, unit, period, network)
            if family
            else f"The sheet '{name}' is missing. Sheets must not be deleted or renamed: ask the "
            f"unit to copy their answers into a fresh workbook for {_month_words(period)} and "
            "send it again."
        )
        findings.append(error("sheet-missing", message, sheet=name))
    for name in (n for n in sheet_names if n not in expected):
        message = (
            f"The sheet '{_echo(name)}' is not part of the family and friends form. Delete it "
            "(right-click its tab, then Delete) and put the form in the inbox again."
            if family
            else f"The sheet '{_echo(name)}' is not part of the SeQuIn workbook. Ask the unit to "
            "delete it (right-click its tab, then Delete) or copy their answers into a fresh "
            "workbook, and send it again."
        )
        findings.append(error("sheet-unexpected", message, sheet=name))
    return findings


def _text_findings(text: str, today, named: str, personal: str, **where) -> list[Finding]:
    """``text-too-long`` and ``personal-data`` for one free-text cell called ``named``."""
    found = [
        warning("personal-data", f"{named} seems to contain {kind}. {personal}", **where)
        for _s, _e, kind in find_personal_data(text, today)[:1]
    ]
    if len(text) > T.MAX_TEXT:
        message = (
            f"{named} is {len(text):,} characters long; only the first {T.MAX_TEXT:,} are kept."
        )
        found.insert(0, warning("text-too-long", message, **where))
    return found


def check_return(
    raw: dict,
    *,
    network: Network,
    banks: dict[str, Bank],
    secret: bytes,
    file_name: str = "",
    today: dt.date | None = None,
) -> tuple[list[Finding], Return | FamilyResponse | None]:
    """Check a read workbook: a unit's return (unit/1, unit/2) or a family and friends response.

    Returns every finding and, if the workbook could be understood, the Return or
    the FamilyResponse.
    """
    findings: list[Finding] = []
    cells = raw.get("cells", {})
    sheet_names = [name for name, _vis in raw.get("sheets", [])]
    meta, meta_cells = {}, cells.get(T.META_SHEET) or {}
    for i, key in enumerate(T.META_ROWS, start=1):
        if clean_text(meta_cells.get(f"A{i}")) == key:
            meta[key] = clean_text(meta_cells.get(f"B{i}"))
    unit, period, version, token = (
        meta.get(k, "") for k in ("unit", "period", "bank_version", "token")
    )
    form = meta.get("form") or T.FORM_UNIT_1  # unit/1 workbooks have no "form" row
    stop = None
    if not (unit and period and version and token):
        kind = T.output_kind(sheet_names)
        stop = output_finding(kind) if kind else error("not-a-sequin-workbook", _NOT_OURS)
    elif form not in T.FORMS:
        stop = error("not-a-sequin-workbook", _UNKNOWN_FORM, sheet=T.META_SHEET)
    elif version not in banks:
        stop = error("unknown-bank-version", _UNKNOWN_BANK, sheet=T.META_SHEET)
    elif not PERIOD.match(period):
        stop = error("token-invalid", _MONTH_CHANGED, sheet=T.META_SHEET)
    if stop:
        return [stop], None
    bank = banks[version]

    def signed_as(f: str) -> bool:
        return verify_token(secret, token, unit, period, version, form=f)

    trusted = signed_as(form)
    if not trusted:
        # Signed as another form: the "form" row was changed or deleted. The layout is then
        # not known, so nothing more is read (no workbook is ever read as another form).
        issued = next((f for f in T.FORMS if f != form and signed_as(f)), "")
        message = (
            f"The hidden details of this workbook were changed: it was issued as {_KIND[issued]} "
            f"for {_unit_named(unit, network)}, {_month_words(period)}, but now says it is "
            f"{_KIND[form]}, so it cannot be checked. "
            if issued
            else _forged(unit, network)
        ) + (_fresh(issued, unit, period, network) if issued else _fresh(form, "", "", network))
        findings.append(error("token-invalid", message, sheet=T.META_SHEET))
        if issued:
            return findings, None
    # Messages name the unit and month only when the signature vouches for them: a month
    # or unit that was typed in is never repeated, nor made into a file name or a folder.
    said_unit, said_period = (unit, period) if trusted else ("", "")
    if trusted and network.unit(unit) is None:
        findings.append(error("unknown-unit", _UNKNOWN_UNIT, sheet=T.META_SHEET))
    if file_name and trusted:
        if network.unit(unit) is not None:
            findings.extend(_kind_findings(file_name, form, unit, period))
        findings.extend(_file_name_findings(file_name, network, unit, period, form))
    expected = expected_sheets(bank, form)
    findings.extend(_sheet_findings(expected, sheet_names, form, said_unit, said_period, network))
    if T.is_family(form):
        fresh = _fresh(form, said_unit, said_period, network)
        answers = _family_answers(cells, sheet_names, bank, trusted, today, findings, fresh)
        return findings, FamilyResponse(unit, period, version, answers, form)
    ret = Return(unit=unit, period=period, bank_version=version, form=form)
    _check_areas(ret, cells, sheet_names, bank, network, trusted, today, findings)
    if form != T.FORM_UNIT_1 and T.ACTIONS_SHEET in sheet_names:
        _check_actions(ret, cells.get(T.ACTIONS_SHEET, {}), bank, trusted, today, findings)
    return findings, ret


def _check_areas(ret, cells, sheet_names, bank, network, trusted, today, findings) -> None:
    """The area sheets of a unit return, in the layout of its form: answers and sign-offs."""
    add = findings.append
    labels = {s.label.casefold(): s.label for s in network.scale}
    choices = _or_list(network.labels)
    not_applicable = next((s.label for s in network.scale if not s.applicable), "")
    if_na = f" ({not_applicable} if it does not apply)" if not_applicable else ""
    changed = "has been changed, moved or deleted."
    keep = (
        "The standards must stay as issued: ask the unit to undo the change (or copy their "
        "answers into a fresh workbook) and send it again."
    )
    for area in bank.areas:
        sheet = T.area_sheet_name(area.index, area.short_name)
        if sheet not in sheet_names:
            continue
        sc = cells.get(sheet, {})
        for pos, std in enumerate(area.standards):
            row = T.standard_row(pos)
            id_text = T.id_cell_text(std.id, std.essential, ret.form)
            for col, expect in (
                (T.COL_ID, id_text),
                (T.COL_TEXT, std.text),
                (T.COL_EASY, std.easy_read),
            ):
                if not _same_wording(sc.get(f"{col}{row}"), expect):
                    # The message is only worded for a cell that was changed.
                    if col == T.COL_ID:
                        marked = f" marked {T.ESSENTIAL_WORD}" if id_text != std.id else ""
                        what = f"Cell A{row} should hold the standard ID {std.id}{marked}, but it"
                    else:
                        kind = "The" if col == T.COL_TEXT else "The easy-read"
                        what = f"{kind} wording of standard {std.id} in cell {col}{row}"
                    where = {"sheet": sheet, "cell": f"{col}{row}", "question_id": std.id}
                    add(error("locked-text-changed", f"{what} {changed} {keep}", **where))
            # The last-month column of unit/2 is the engine's own, for information: not read.
            cells_ = T.answer_cells(pos, ret.form)
            raw_rating = sc.get(cells_.rating)
            rating = ""
            text = clean_text(raw_rating)
            where = {"sheet": sheet, "cell": cells_.rating, "question_id": std.id}
            if text:
                if isinstance(raw_rating, str):
                    rating = labels.get(" ".join(text.split()).casefold(), "")
                if not rating:
                    said = f"'{_echo(text)}'" if trusted else "What is"
                    message = (
                        f"{said} in cell {cells_.rating} is not a rating. Choose {choices} for "
                        f"standard {std.id} from the drop-down list in that cell."
                    )
                    add(error("rating-invalid", message, **where))
            else:
                message = (
                    f"Standard {std.id} has no rating. In cell {cells_.rating}, choose {choices} "
                    f"from the drop-down list{if_na}. Until it is rated, the {area.name} area is "
                    f"marked incomplete and left out of the network figures."
                )
                add(warning("rating-missing", message, **where))
            evidence, notes = clean_text(sc.get(cells_.evidence)), clean_text(sc.get(cells_.notes))
            for ref, value, field_name in (
                (cells_.evidence, evidence, "evidence"),
                (cells_.notes, notes, "actions / notes"),
            ):
                if not value:  # nothing to find in an empty cell
                    continue
                named = f"The {field_name} for standard {std.id} (cell {ref})"
                where = {"sheet": sheet, "cell": ref, "question_id": std.id}
                for f in _text_findings(value, today, named, _PATIENT, **where):
                    if f.code == "text-too-long":
                        f = warning(f.code, f"{f.message} Ask the unit to shorten it.", **where)
                    add(f)
            evidence, notes = evidence[: T.MAX_TEXT], notes[: T.MAX_TEXT]
            if rating and not evidence:
                message = _evidence_message(std.id, rating, cells_.evidence, network)
                where = {"sheet": sheet, "cell": cells_.evidence, "question_id": std.id}
                add(warning("evidence-missing", message, **where))
            ret.answers.append(Answer(std.id, area.id, rating, evidence, notes))
        period = ret.period if trusted else ""  # never an example date in an unverified month
        ret.signoffs.append(_signoff(area, sheet, sc, trusted, today, period, findings))
    if (
        ret.answers
        and not any(a.rating for a in ret.answers)
        and not any(f.code == "rating-invalid" for f in findings)
    ):
        message = (
            "None of the standards has been rated. Ask the unit to choose a rating for each "
            "standard (from the drop-down list in the Rating column of each area's sheet) and "
            "send the workbook again."
        )
        add(error("return-empty", message))


def _signoff(area, sheet, sc, trusted, today, period, findings) -> SignOff:
    """Who agreed an area's ratings, from the bottom of its sheet."""
    role_cell, su_cell, date_cell = (
        T.SIGNOFF_CELLS[k] for k in ("staff_role", "service_user", "date_agreed")
    )
    role = clean_text(sc.get(role_cell))[:200]
    su_raw = clean_text(sc.get(su_cell))
    su = {"yes": "Yes", "no": "No", "y": "Yes", "n": "No"}.get(su_raw.casefold(), "")
    date_raw = sc.get(date_cell)
    date = _excel_date(date_raw)
    signoff, bottom = f"The sign-off for the {area.name} area", "at the bottom of the sheet"
    example = _example_date(period)

    def note(code: str, cell: str, message: str) -> None:
        findings.append(warning(code, message, sheet=sheet, cell=cell))

    if not role:
        message = (
            f"{signoff} has no staff role. In cell {role_cell} {bottom}, write the role of the "
            "member of staff who agreed the ratings (for example, Ward manager)."
        )
        note("signoff-missing", role_cell, message)
    if not su_raw:
        message = (
            f"{signoff} does not say whether a service user took part. In cell {su_cell} "
            f"{bottom}, choose Yes or No."
        )
        note("signoff-missing", su_cell, message)
    if date_raw in (None, ""):
        message = (
            f"{signoff} has no date. In cell {date_cell} {bottom}, type the date the ratings "
            f"were agreed, such as {example}."
        )
        note("signoff-missing", date_cell, message)
    if su_raw and not su:
        said = f"'{_echo(su_raw)}' in cell {su_cell}" if trusted else f"What is in cell {su_cell}"
        message = (
            f"{said} does not say whether a service user took part in agreeing the ratings for "
            f"the {area.name} area. Choose Yes or No from the drop-down list."
        )
        note("signoff-invalid", su_cell, message)
    if date_raw not in (None, "") and not date:
        said = f"'{_echo(clean_text(date_raw))}'" if trusted else "What is"
        message = (
            f"{said} in cell {date_cell} is not a date. Type the date the ratings for the "
            f"{area.name} area were agreed, such as {example}."
        )
        note("signoff-invalid", date_cell, message)
    for f in _text_findings(
        role,
        today,
        f"The staff role in the sign-off for the {area.name} area (cell {role_cell})",
        "Ask the unit to write the role only (for example, Ward manager) and remove the rest.",
        sheet=sheet,
        cell=role_cell,
    ):
        if f.code == "personal-data":  # the role is cut to 200 characters without a word
            findings.append(f)
    return SignOff(area.id, role, su, date)


_REF = re.compile(r"^(\d{4}-(?:0[1-9]|1[0-2]))\.(\d{1,2})$")


def _fold(text: str) -> str:
    return "".join(text.split()).casefold()


def _area_lookup(bank: Bank) -> dict[str, str]:
    """Area ID by each way an action's Area cell may name it, folded: "1. Involvement", "INV"."""
    found = {}
    for a in bank.areas:
        for name in (a.id, a.name, a.short_name):
            for key in (name, f"{a.index}.{name}", f"{a.index}{name}", f"{a.index}){name}"):
                found[_fold(key)] = a.id
    return found


def _check_actions(ret: Return, sc: dict, bank: Bank, trusted, today, findings) -> None:
    """The Actions sheet of a unit/2 return. Its problems are warnings: a return always counts.

    A blank Ref cell is a new action, ``{period}.{row}``; a carried action keeps its ref.
    A carried action whose row is emptied, or left without What will change, is listed in
    ``kept`` instead of ``actions``: it stays as it was (its last recorded state stands).
    Status is matched ignoring case and spaces (blank is Not started); Area by the
    drop-down text ("1. Involvement"), the area's name or its ID.
    """
    statuses = {_fold(s): s for s in T.ACTION_STATUSES}
    areas: dict[str, str] = {}
    seen: set[str] = set()
    first, last = bank.areas[0], bank.areas[-1]
    again = "and send the workbook again."

    def note(code: str, cell: str, message: str) -> None:
        findings.append(warning(code, message, sheet=T.ACTIONS_SHEET, cell=cell))

    def said(text: str, cell: str) -> str:
        return f"'{_echo(text)}' in cell {cell}" if trusted else f"cell {cell}"

    for i in range(T.ACTION_ROWS):
        row = T.action_row(i)
        ref, what, area_raw, lead, due_raw, status_raw = (
            clean_text(sc.get(f"{c}{row}")) for c in "ABCDEF"
        )
        if not (ref or what or area_raw or lead or due_raw or status_raw):
            continue
        m = _REF.match(ref)
        carried = m and m.group(1) < ret.period and 1 <= int(m.group(2)) <= T.ACTION_ROWS
        if ref and (ref in seen or not carried):
            message = (
                f"Cell A{row} of the Actions sheet should be empty or hold the reference of an "
                "action carried forward from an earlier month (such as 2026-10.3), each on one "
                "row only. It holds something else, so the row is taken as a new action. The "
                f"references must stay as issued: ask the unit to undo the change {again}"
            )
            note("action-invalid", f"A{row}", message)
            ref = ""
        seen.add(ref)
        if not what:
            emptied = not (area_raw or lead or due_raw or status_raw)
            message = (
                f"Row {row} of the Actions sheet is partly filled in but has nothing under What "
                f"will change (cell B{row}), so it is not counted as an action. Ask the unit to "
                f"write what will change, or clear the row, {again}"
            )
            if ref:
                ret.kept.append(ref)
                message = (
                    f"Action {ref} (row {row} of the Actions sheet) was carried forward from an "
                    "earlier month, but "
                    + ("its row has been emptied" if emptied else "What will change is empty")
                    + f", so it stays as it was. An action stops only when Done or Dropped is "
                    f"chosen in its Status cell (F{row}). Ask the unit to put it back {again}"
                )
            code = "action-cleared" if ref and emptied else "action-incomplete"
            note(code, f"B{row}", message)
            continue
        name = f"action {ref}" if ref else "the action"
        name += f" in row {row} of the Actions sheet"
        area_id = ""
        if area_raw:
            areas = areas or _area_lookup(bank)
            area_id = areas.get(_fold(area_raw), "")
        if area_raw and not area_id:
            message = (
                f"The area of {name} ({said(area_raw, f'C{row}')}) is not one of the "
                f"{len(bank.areas)} areas, so the action is counted without one. Ask the unit to "
                f"choose one from the drop-down list in that cell ({first.index}. {first.name} "
                f"to {last.index}. {last.name}) {again}"
            )
            note("action-invalid", f"C{row}", message)
        due = _excel_date(sc.get(f"E{row}")) if due_raw else ""
        if due_raw and not due:
            message = (
                f"The By when date of {name} ({said(due_raw, f'E{row}')}) is not a date, so the "
                f"action has no date. Ask the unit to type a date such as "
                f"{_example_date(ret.period if trusted else '')} {again}"
            )
            note("action-invalid", f"E{row}", message)
        status = statuses.get(_fold(status_raw), "") if status_raw else T.ACTION_STATUSES[0]
        if not status:
            status = T.ACTION_STATUSES[0]
            message = (
                f"The status of {name} ({said(status_raw, f'F{row}')}) is not one of "
                f"{_or_list(list(T.ACTION_STATUSES))}, so it is taken as {status}. Ask the unit "
                f"to choose one from the drop-down list in that cell {again}"
            )
            note("action-invalid", f"F{row}", message)
        for col, text, label in (("B", what, "What will change"), ("D", lead, "Who leads")):
            named = f"{label} for {name} (cell {col}{row})"
            where = {"sheet": T.ACTIONS_SHEET, "cell": f"{col}{row}"}
            findings.extend(_text_findings(text, today, named, _PATIENT, **where))
        ref = ref or f"{ret.period}.{i + 1}"
        what, lead = what[: T.MAX_TEXT], lead[: T.MAX_TEXT]
        ret.actions.append(Action(ref, i, what, area_id, lead, due, status))


_AGREE = {_fold(c): c for c in T.AGREE_CHOICES} | {"unsure": "Not sure"}


def _family_answers(cells, sheet_names, bank, trusted, today, findings, fresh) -> list:
    """The answers of a family and friends response, one per area answered.

    "Do you agree?" is matched to Agree, Not sure or Disagree ignoring case and spaces
    ("not sure", "NotSure"); "Unsure" is taken as Not sure. Warnings here never ask for
    the form to be put in the inbox again: a corrected copy would count as a second response.
    """
    from .family import area_words

    if T.FAMILY_SHEET not in sheet_names:
        return []
    sc, sheet, answers = cells.get(T.FAMILY_SHEET, {}), T.FAMILY_SHEET, []
    masked = (
        "It is masked in every output, so nothing needs doing; keep any paper copy safe and "
        "destroy it once typed in."
    )
    for area in bank.areas:
        row, words = T.family_row(area.index), area_words(area.id, area.short_name)
        area_cell = f"{T.FAMILY_COL_AREA}{row}"
        agree_cell, comment_cell = f"{T.FAMILY_COL_AGREE}{row}", f"{T.FAMILY_COL_COMMENT}{row}"
        if not _same_wording(sc.get(area_cell), words):
            message = (
                f"Cell {area_cell} of the family and friends form should read '{words}', but it "
                "has been changed, moved or deleted, so the answers cannot be matched to the "
                f"parts of ward life. The form must stay as issued. {fresh}"
            )
            findings.append(error("locked-text-changed", message, sheet=sheet, cell=area_cell))
        agree_raw, comment = clean_text(sc.get(agree_cell)), clean_text(sc.get(comment_cell))
        agree = _AGREE.get(_fold(agree_raw), "") if agree_raw else ""
        if agree_raw and not agree:
            said = f"'{_echo(agree_raw)}' in cell {agree_cell}" if trusted else f"Cell {agree_cell}"
            message = (
                f"{said} ({words}) is not one of the answers to Do you agree? "
                f"({_or_list(list(T.AGREE_CHOICES))}), so it is counted as no answer for that "
                "part. Nothing needs doing: the rest of the response counts (a corrected copy put "
                "in the inbox would count as a second response)."
            )
            findings.append(warning("agree-invalid", message, sheet=sheet, cell=agree_cell))
        named = f"The comment about {words} (cell {comment_cell})"
        findings.extend(
            _text_findings(comment, today, named, masked, sheet=sheet, cell=comment_cell)
        )
        if agree or comment:
            answers.append(FamilyAnswer(area.id, agree, comment[: T.MAX_TEXT]))
    if not answers:
        message = (
            "Nothing in this family and friends response is filled in: no part of ward life has "
            "Agree, Not sure or Disagree chosen, or a comment. If it was filled in on paper, type "
            "the answers in from the paper copy (Do you agree? in column D, comments in column E) "
            "and put it in the inbox again; an empty form can be thrown away."
        )
        findings.append(error("response-empty", message, sheet=sheet))
    return answers

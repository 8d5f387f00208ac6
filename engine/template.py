"""The template definition: where everything sits in a unit workbook.

The generator writes to these positions and the reader and checks read
from them. Returns are always checked against this definition, never
against what a returned file says about itself.

**Forms.** Each workbook the engine issues is of one *form*, named in its
Metadata sheet and signed into its token, so one form can never pass as
another (see :func:`engine.home.make_token`):

- ``unit/2``: the unit workbook issued now (area sheets with last month's
  rating beside each standard, and an Actions sheet);
- ``unit/1``: the unit workbook issued before; it has no ``form`` row in its
  Metadata. Returns of it are still read and checked, by its own layout;
- ``family/1``: the family and friends response workbook for a unit and month.

Area sheet layout (one sheet per area, same grid on every area sheet)::

    row 1   title            row 2  description     row 3  how to fill in
    row 5   headers, unit/2: A ID | B Standard | C Easy read | D Last month | E Rating |
                             F Evidence | G Actions / notes
            headers, unit/1: A ID | B Standard | C Easy read | D Rating | E Evidence |
                             F Actions / notes
    rows 6-15  the 10 standards (A:C, and D in unit/2, locked; the rest unlocked answer cells)
    row 17  "Who agreed these ratings"
    row 18  staff role (D18)   row 19  service user took part (D19)   row 20  date agreed (D20)

Actions sheet (unit/2)::

    row 1 title, rows 2-3 what it is for and how to fill it in
    row 5   headers: A Ref | B What will change | C Area | D Who leads | E By when |
                     F Status | G History
    rows 6-35  one action a row: A and G locked (the reference and history of an action
               carried forward; blank on new rows), B:F unlocked

Family and friends form (family/1), one visible sheet ``Your say``::

    rows 1-5 title and what it is for (in easy read)
    row 6   headers: A picture | B Part of ward life | C What the ward said |
                     D Do you agree? | E What would you tell the ward?
    rows 7-18  the 12 areas in bank order: A:C locked, D (drop-down) and E unlocked
"""

from __future__ import annotations

from dataclasses import dataclass

START_SHEET = "Start here"
SUMMARY_SHEET = "Summary"
LISTS_SHEET = "Lists"
META_SHEET = "Metadata"

HEADER_ROW = 5
FIRST_STANDARD_ROW = 6
STANDARDS_PER_AREA = 10
COL_ID, COL_TEXT, COL_EASY = "ABC"

# --- forms ------------------------------------------------------------------------
FORM_UNIT_1 = "unit/1"
FORM_UNIT_2 = "unit/2"
FORM_FAMILY_1 = "family/1"
UNIT_FORM = FORM_UNIT_2  # the unit workbook issued now
FAMILY_FORM = FORM_FAMILY_1
FORMS = (FORM_UNIT_1, FORM_UNIT_2, FORM_FAMILY_1)


def is_family(form: str) -> bool:
    return form.startswith("family/")


@dataclass(frozen=True)
class Layout:
    """Where the answer columns of an area sheet are, in one unit form."""

    form: str
    col_last_month: str  # "" when the form has no such column
    col_rating: str
    col_evidence: str
    col_notes: str
    last_col: int  # the last column an area sheet uses (1-based)


LAYOUTS = {
    FORM_UNIT_1: Layout(FORM_UNIT_1, "", "D", "E", "F", 6),
    FORM_UNIT_2: Layout(FORM_UNIT_2, "D", "E", "F", "G", 7),
}
# The current form's columns, for code that only ever writes the current form.
COL_LAST_MONTH, COL_RATING, COL_EVIDENCE, COL_NOTES = (
    LAYOUTS[UNIT_FORM].col_last_month,
    LAYOUTS[UNIT_FORM].col_rating,
    LAYOUTS[UNIT_FORM].col_evidence,
    LAYOUTS[UNIT_FORM].col_notes,
)
# The ID cell of an essential standard (unit/2) reads "INV-01" and "Essential" on a second line.
ESSENTIAL_WORD = "Essential"


def id_cell_text(std_id: str, essential: bool, form: str = UNIT_FORM) -> str:
    """What the locked ID cell of a standard holds in a workbook of ``form``."""
    if essential and form != FORM_UNIT_1:
        return f"{std_id}\n{ESSENTIAL_WORD}"
    return std_id


# --- Actions sheet (unit/2) ---------------------------------------------------------
ACTIONS_SHEET = "Actions"
ACTIONS_HEADER_ROW = 5
FIRST_ACTION_ROW = 6
ACTION_ROWS = 30  # rows 6-35
ACTION_COLS = "ABCDEFG"  # Ref, What, Area, Who leads, By when, Status, History
ACTION_STATUSES = ("Not started", "In progress", "Done", "Dropped")
ACTION_CLOSED = ("Done", "Dropped")


def action_row(index: int) -> int:
    """Worksheet row of the action at 0-based ``index``."""
    return FIRST_ACTION_ROW + index


# --- family and friends form (family/1) ---------------------------------------------
FAMILY_SHEET = "Your say"
FAMILY_HEADER_ROW = 6
FIRST_FAMILY_ROW = 7  # the 12 areas, rows 7-18, in bank order
FAMILY_COL_AREA, FAMILY_COL_RESULT, FAMILY_COL_AGREE, FAMILY_COL_COMMENT = "BCDE"
FAMILY_LAST_COL = 5
AGREE_CHOICES = ("Agree", "Not sure", "Disagree")


def family_row(area_index: int) -> int:
    """Worksheet row of the area at 1-based ``area_index`` on the family form."""
    return FIRST_FAMILY_ROW + area_index - 1


def family_file_name(unit: str, period: str) -> str:
    """The name the engine gives a family and friends workbook."""
    return f"SeQuIn_family_{unit}_{period}.xlsx"


FAMILY_WORDS = {"family", "friends", "carers", "carer"}


def claimed_form(file_name: str) -> str:
    """Which kind of workbook a file name claims: ``"family"``, ``"unit"`` or ``""`` (neither).

    A name with "family", "friends" or "carers" in it claims a family and friends
    response; any other name starting "SeQuIn" claims a unit's return. Other names
    (``Book1.xlsx``) claim nothing, and the workbook is taken for what it is.
    """
    import re
    from pathlib import PurePath

    words = set(re.split(r"[^a-z0-9]+", PurePath(file_name).stem.casefold()))
    if words & FAMILY_WORDS:
        return "family"
    if PurePath(file_name).stem.casefold().startswith("sequin"):
        return "unit"
    return ""


SIGNOFF_HEADING_ROW = 17
SIGNOFF_ROLE_ROW = 18
SIGNOFF_SERVICE_USER_ROW = 19
SIGNOFF_DATE_ROW = 20
SIGNOFF_COL = "D"
YES_NO = ("Yes", "No")

# Metadata sheet: label in column A, value in column B, one row each. Forms after
# unit/1 add a sixth row, "form".
META_ROWS = ("unit", "period", "bank_version", "token", "generated_by", "form")
META_ROWS_UNIT_1 = META_ROWS[:5]

# The furthest cell any sheet of ours uses (row, column number). The
# pre-check refuses files with cells beyond this, before any parser runs.
MAX_ROW = 60
MAX_COL = 12  # L

# Longest text kept from one answer cell (Excel's own cell limit is 32,767).
MAX_TEXT = 32_000


def area_sheet_name(index: int, short_name: str) -> str:
    """Sheet name for the area at 1-based ``index``: ``"1 Involvement"``."""
    return f"{index} {short_name}"


def standard_row(position: int) -> int:
    """Worksheet row of the standard at 0-based ``position`` in its area."""
    return FIRST_STANDARD_ROW + position


@dataclass(frozen=True)
class AnswerCells:
    """The three answer cells of one standard."""

    rating: str
    evidence: str
    notes: str


def answer_cells(position: int, form: str = UNIT_FORM) -> AnswerCells:
    """A1 references of the answer cells of the standard at ``position``, in ``form``."""
    row = standard_row(position)
    lay = LAYOUTS[form]
    return AnswerCells(
        f"{lay.col_rating}{row}", f"{lay.col_evidence}{row}", f"{lay.col_notes}{row}"
    )


SIGNOFF_CELLS = {
    "staff_role": f"{SIGNOFF_COL}{SIGNOFF_ROLE_ROW}",
    "service_user": f"{SIGNOFF_COL}{SIGNOFF_SERVICE_USER_ROW}",
    "date_agreed": f"{SIGNOFF_COL}{SIGNOFF_DATE_ROW}",
}


def file_name(unit: str, period: str) -> str:
    """The name the engine gives a unit's workbook: ``SeQuIn_M01_2026-11.xlsx``."""
    return f"SeQuIn_{unit}_{period}.xlsx"


# --- the engine's own output workbooks (engine/outputs) ------------------------------
# Outputs are written for people to read, never to be returned, yet they end up in the
# inbox. They carry no signature, so they are told apart by their sheets: every output
# opens with these three, and each kind has sheets of its own, which outputs written
# before the first three existed have too. A workbook with a Metadata sheet is never one.
OUTPUT_FIRST_SHEETS = ("Cover", "Contents", "Notes")
OUTPUT_KINDS = (  # (kind, the sheets every workbook of that kind has), first match wins
    ("feedback", frozenset({"Your results", "Standards", "Trend", "Strengths and priorities"})),
    ("network", frozenset({"Overview", "Areas", "Trends", "Gaps", "Evidence library"})),
    ("commissioners", frozenset({"Summary", "Areas", "Trend", "Completion", "Units"})),
)
# Short easy-read pages are told apart only with the three first sheets.
OUTPUT_PAGES = (("ward easy read", "Our ward"), ("easy read", "All wards"))


def output_kind(sheet_names) -> str:
    """Which of the engine's output workbooks has these sheets, or ``""`` for none.

    ``"feedback"``, ``"network"``, ``"commissioners"``, ``"ward easy read"``,
    ``"easy read"``, or ``"output"`` for a workbook that opens like every output
    but whose other sheets are not known.
    """
    names = [str(n) for n in sheet_names]
    if META_SHEET in names:
        return ""
    present = set(names)
    for kind, sheets in OUTPUT_KINDS:
        if sheets <= present:
            return kind
    if tuple(names[:3]) != OUTPUT_FIRST_SHEETS:
        return ""
    return next((kind for kind, sheet in OUTPUT_PAGES if sheet in present), "output")

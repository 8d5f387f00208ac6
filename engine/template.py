"""The template definition: where everything sits in a unit workbook.

The generator writes to these positions and the reader and checks read
from them. Returns are always checked against this definition, never
against what a returned file says about itself.

Layout (one sheet per area, same grid on every area sheet)::

    row 1   title            row 2  description     row 3  how to fill in
    row 5   headers: A ID | B Standard | C Easy read | D Rating | E Evidence | F Actions / notes
    rows 6-15  the 10 standards (A:C locked, D:F unlocked answer cells)
    row 17  "Who agreed these ratings"
    row 18  staff role (D18)   row 19  service user took part (D19)   row 20  date agreed (D20)
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
COL_ID, COL_TEXT, COL_EASY, COL_RATING, COL_EVIDENCE, COL_NOTES = "ABCDEF"
SIGNOFF_HEADING_ROW = 17
SIGNOFF_ROLE_ROW = 18
SIGNOFF_SERVICE_USER_ROW = 19
SIGNOFF_DATE_ROW = 20
SIGNOFF_COL = "D"
YES_NO = ("Yes", "No")

# Metadata sheet: label in column A, value in column B, one row each.
META_ROWS = ("unit", "period", "bank_version", "token", "generated_by")

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


def answer_cells(position: int) -> AnswerCells:
    """A1 references of the answer cells of the standard at ``position``."""
    row = standard_row(position)
    return AnswerCells(f"{COL_RATING}{row}", f"{COL_EVIDENCE}{row}", f"{COL_NOTES}{row}")


SIGNOFF_CELLS = {
    "staff_role": f"{SIGNOFF_COL}{SIGNOFF_ROLE_ROW}",
    "service_user": f"{SIGNOFF_COL}{SIGNOFF_SERVICE_USER_ROW}",
    "date_agreed": f"{SIGNOFF_COL}{SIGNOFF_DATE_ROW}",
}


def file_name(unit: str, period: str) -> str:
    """The name the engine gives a unit's workbook: ``SeQuIn_M01_2026-11.xlsx``."""
    return f"SeQuIn_{unit}_{period}.xlsx"

"""Reports a lead can forward: many findings roll up by area, and every message reads well."""

from __future__ import annotations

import re

import openpyxl
import pytest

from engine import template as T
from engine.findings import error, warning
from engine.pipeline import Intake
from engine.rollup import ranges, summary_lines

from .conftest import full_answers, make_return, report_path

SUMMARY_HEADING = "Summary, one line per area (every item is in the full list below):"
DOUBLED = re.compile(r"\b(\w+)\s+\1\b", re.IGNORECASE)


# --- ranges -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "labels, expected",
    [
        ([], ""),
        (["RRP-01"], "RRP-01"),
        (["RRP-01", "RRP-02"], "RRP-01, RRP-02"),  # a pair is listed, not a range
        ([f"RRP-{i:02d}" for i in range(1, 9)], "RRP-01 to RRP-08"),
        (["RRP-01", "RRP-02", "RRP-03", "RRP-05", "RRP-09"], "RRP-01 to RRP-03, RRP-05, RRP-09"),
        (["RRP-08", "RRP-09", "RRP-10"], "RRP-08 to RRP-10"),  # across a change of width
        (
            ["INV-09", "INV-10", "REC-01", "REC-02"],
            "INV-09, INV-10, REC-01, REC-02",
        ),  # prefix changes
        (["INV-01", "INV-01", "INV-02", "INV-03"], "INV-01 to INV-03"),  # repeats shown once
        ([f"D{r}" for r in range(6, 16)], "D6 to D15"),  # cells too
        (["E7", "F7", "F8", "F9"], "E7, F7 to F9"),
        (["staff role", "INV-04"], "staff role, INV-04"),  # not numbered: listed as it is
    ],
)
def test_ranges(labels, expected):
    assert ranges(labels) == expected


def test_ranges_keep_the_order_given():
    assert ranges(["RRP-05", "RRP-01", "RRP-02", "RRP-03"]) == "RRP-05, RRP-01 to RRP-03"


# --- summary lines ------------------------------------------------------------------------------

RRP = "4 Restrictive Practices"


def _missing(sheet: str, ids: list[str]) -> list:
    return [
        warning("rating-missing", "m", sheet=sheet, cell=f"D{6 + i}", question_id=q)
        for i, q in enumerate(ids)
    ]


def test_a_few_findings_get_no_summary():
    few = _missing(RRP, ["RRP-01", "RRP-02", "RRP-03"])
    assert summary_lines(few) == []


def test_more_than_three_of_a_kind_in_an_area_roll_up():
    found = _missing(RRP, [f"RRP-{i:02d}" for i in range(1, 9)])
    assert summary_lines(found) == [
        "Area 4 Restrictive Practices: 8 standards not rated: RRP-01 to RRP-08"
    ]


def test_errors_first_then_the_file_then_areas_in_the_banks_order():
    found = (
        _missing("12 Technology", [f"TEC-{i:02d}" for i in range(1, 5)])
        + [
            warning("signoff-missing", "m", sheet="2 Recovery Pathway", cell=c)
            for c in ("D18", "D20")
        ]
        + [warning("older-save", "m")]
        + [error("rating-invalid", "m", sheet="10 Shared Risk", cell="E7", question_id="RSK-02")]
    )
    assert summary_lines(found) == [
        "Area 10 Shared Risk: 1 rating not understood: RSK-02",
        "Whole file: Older than the counted return",
        "Area 2 Recovery Pathway: sign-off missing the staff role and the date agreed",
        "Area 12 Technology: 4 standards not rated: TEC-01 to TEC-04",
    ]


def test_an_extra_sheet_named_like_an_area_is_not_an_area():
    found = _missing(RRP, [f"RRP-{i:02d}" for i in range(1, 5)]) + [
        error("sheet-unexpected", "m", sheet="13 My notes")
    ]
    assert summary_lines(found)[0] == "Sheet '13 My notes': Extra sheet"


# --- through the pipeline, as a lead meets it ---------------------------------------------------


def _half_finished(home, *, spread: bool = False) -> dict:
    """48 of 120 standards rated; several 'Not met' without evidence; sign-offs left blank.

    ``spread`` rates every other standard of every area instead (the worst case for a summary).
    """
    cells = full_answers(home, "M01")
    for area in home.bank().areas:
        sheet = T.area_sheet_name(area.index, area.short_name)
        for pos, _std in enumerate(area.standards):
            ref = T.answer_cells(pos)
            if spread:
                keep = pos % 2 == 0
            else:
                keep = (
                    area.index <= 3
                    or (area.index in (4, 5) and pos < 7)
                    or (area.index == 6 and pos in (0, 2, 5, 6))
                )
            if not keep:
                del cells[(sheet, ref.rating)], cells[(sheet, ref.evidence)]
            elif area.index == 4 and pos < 5:
                cells[(sheet, ref.rating)] = "Not met"
                del cells[(sheet, ref.evidence)]
            elif area.index == 5 and pos == 3:
                cells[(sheet, ref.rating)] = "Partly met"
                del cells[(sheet, ref.evidence)]
            elif area.index == 2 and pos == 3:
                cells[(sheet, ref.rating)] = "N/A"
                del cells[(sheet, ref.evidence)]
            elif area.index == 1 and pos == 0:
                del cells[(sheet, ref.evidence)]  # Met, no evidence
        if area.index >= 5 or spread:
            for key in ("staff_role", "service_user", "date_agreed"):
                del cells[(sheet, T.SIGNOFF_CELLS[key])]
    return cells


def _take(home, cells, name=None):
    path = make_return(home, "M01", cells=cells, name=name)
    with Intake(home) as intake:
        (outcome,) = intake.process_many([path])
    text = report_path(home, path.name).read_text(encoding="utf-8-sig")
    return outcome, text


def _summary(text: str, after: str = "") -> list[str]:
    """The summary lines (without their dashes) of the first summary after ``after``."""
    lines = text.splitlines()
    start = lines.index(SUMMARY_HEADING, lines.index(after) if after else 0) + 2
    end = next(i for i in range(start, len(lines)) if lines[i].startswith("Full list ("))
    assert lines[end - 1] == ""
    return [line.removeprefix("- ") for line in lines[start : end - 1]]


def _full_list(text: str, after: str = "") -> list[str]:
    lines = text.splitlines()
    start = (
        next(
            i
            for i in range(lines.index(after) if after else 0, len(lines))
            if lines[i].startswith("Full list (")
        )
        + 2
    )
    out = []
    for line in lines[start:]:
        if not re.match(r"\d+\. \[", line):
            break
        out.append(line)
    return out


def _assert_reads_well(findings):
    for f in findings:
        m = f.message
        assert not DOUBLED.search(m), m
        assert "the whether" not in m.lower() and "  " not in m, m
        assert m[0].isupper() or m[0] == "'", m
        assert m.rstrip().endswith("."), m


def test_a_half_finished_return_gets_a_short_summary_and_the_full_list(home):
    outcome, text = _take(home, _half_finished(home))
    assert outcome.outcome == "accepted"
    assert len(outcome.findings) == 104
    summary = _summary(text)
    assert summary == [
        "Area 1 Involvement: 1 standard rated without evidence: INV-01",
        "Area 2 Recovery Pathway: 1 standard rated without evidence: REC-04",
        (
            "Area 4 Restrictive Practices: 3 standards not rated: RRP-08 to RRP-10; "
            "5 standards rated without evidence: RRP-01 to RRP-05"
        ),
        (
            "Area 5 CPA Standards: 3 standards not rated: CPA-08 to CPA-10; "
            "1 standard rated without evidence: CPA-04; sign-off not filled in"
        ),
        (
            "Area 6 Friends, Family, Carers: 6 standards not rated: FFC-02, FFC-04, FFC-05, "
            "FFC-08 to FFC-10; sign-off not filled in"
        ),
        "Area 7 MDT Standards: 10 standards not rated: MDT-01 to MDT-10; sign-off not filled in",
        (
            "Area 8 Dining & Healthy Weight: 10 standards not rated: DIN-01 to DIN-10; "
            "sign-off not filled in"
        ),
        "Area 9 Meaningful Activity: 10 standards not rated: ACT-01 to ACT-10; sign-off not filled in",
        (
            "Area 10 Shared Risk Assessment: 10 standards not rated: RSK-01 to RSK-10; "
            "sign-off not filled in"
        ),
        (
            "Area 11 Recruitment & Selection: 10 standards not rated: RAS-01 to RAS-10; "
            "sign-off not filled in"
        ),
        "Area 12 Technology: 10 standards not rated: TEC-01 to TEC-10; sign-off not filled in",
    ]
    full = _full_list(text)
    assert text.index(SUMMARY_HEADING) < text.index("Full list (104):")
    assert len(full) == len(outcome.findings)
    for i, (line, f) in enumerate(zip(full, outcome.findings), start=1):
        assert line.startswith(f"{i}. [") and line.endswith(f"] {f.message}  ({f.code})"), line
    _assert_reads_well(outcome.findings)


def test_evidence_messages_fit_the_rating(home):
    outcome, _ = _take(home, _half_finished(home))
    by_id = {f.question_id: f.message for f in outcome.findings if f.code == "evidence-missing"}
    assert set(by_id) == {
        "INV-01",
        "REC-04",
        "RRP-01",
        "RRP-02",
        "RRP-03",
        "RRP-04",
        "RRP-05",
        "CPA-04",
    }
    for q in ("RRP-01", "RRP-05"):  # Not met: what is missing or planned, never "what shows it"
        assert "what shows it" not in by_id[q]
        assert by_id[q] == (
            f"Standard {q} is rated 'Not met' and the Evidence cell "
            f"(F{5 + int(q[-2:])}) is empty. Write a short note there of what is "
            f"missing, or of what is planned to meet it."
        )
    assert "what shows it is met" in by_id["INV-01"]
    assert "what is already in place and what is still missing" in by_id["CPA-04"]
    assert "why the standard does not apply" in by_id["REC-04"]


def test_sign_off_messages_read_well_for_each_missing_field(home):
    outcome, text = _take(home, _half_finished(home))
    found = {
        f.cell: f.message
        for f in outcome.findings
        if f.code == "signoff-missing" and f.sheet == "7 MDT Standards"
    }
    assert found == {
        "D18": "The sign-off for the MDT Standards area has no staff role. In cell D18 at the "
        "bottom of the sheet, write the role of the member of staff who agreed the ratings "
        "(for example, Ward manager).",
        "D19": "The sign-off for the MDT Standards area does not say whether a service user took "
        "part. In cell D19 at the bottom of the sheet, choose Yes or No.",
        "D20": "The sign-off for the MDT Standards area has no date. In cell D20 at the bottom of "
        "the sheet, type the date the ratings were agreed, such as 14/11/2026.",
    }
    assert "the whether" not in text and not DOUBLED.search(text.replace("Month:     ", ""))


def test_the_worst_half_finished_return_still_gets_about_a_dozen_summary_lines(home):
    outcome, text = _take(home, _half_finished(home, spread=True))
    summary = _summary(text)
    assert len(summary) == 12, summary
    assert summary[3] == (
        "Area 4 Restrictive Practices: 5 standards not rated: RRP-02, RRP-04, "
        "RRP-06, RRP-08, RRP-10; 3 standards rated without evidence: RRP-01, "
        "RRP-03, RRP-05; sign-off not filled in"
    )
    assert len(_full_list(text)) == len(outcome.findings) == 100


def test_a_rejected_half_finished_return_lists_its_error_first_then_the_summary(home):
    cells = _half_finished(home)
    cells[("1 Involvement", "E9")] = "Mostly"
    outcome, text = _take(home, cells)
    assert outcome.outcome == "rejected"
    errors = "Problems that stop the return being accepted (1):"
    assert errors in text
    first = text.splitlines()[text.splitlines().index(errors) + 2]
    assert first == (
        "1. [sheet '1 Involvement', cell E9, standard INV-04] 'Mostly' in cell E9 is "
        "not a rating. Choose Met, Partly met, Not met or N/A for standard INV-04 "
        "from the drop-down list in that cell.  (rating-invalid)"
    )
    assert text.index(errors) < text.index(SUMMARY_HEADING)  # one error: no summary for it
    warnings = next(line for line in text.splitlines() if line.startswith("Also worth checking"))
    assert len(_summary(text, warnings)) == 11
    assert len(_full_list(text, warnings)) == len(outcome.findings) - 1


def test_every_check_message_reads_well(home, tmp_path):
    """Each message template of engine/checks.py, on a return that has one of everything."""
    cells = full_answers(home, "M01")
    inv, rec = "1 Involvement", "2 Recovery Pathway"
    cells[(inv, "E9")] = "Mostly"
    cells[(inv, "F7")] = "Care plan for patient NHS 943 476 5919 reviewed"
    cells[(inv, "G8")] = "x" * (T.MAX_TEXT + 5)
    cells[(inv, T.SIGNOFF_CELLS["service_user"])] = "Maybe"
    cells[(inv, T.SIGNOFF_CELLS["date_agreed"])] = "next Tuesday"
    cells[(inv, T.SIGNOFF_CELLS["staff_role"])] = "Nurse, DOB 12/03/1984"
    del cells[(rec, "E6")], cells[(rec, "F7")], cells[(rec, T.SIGNOFF_CELLS["staff_role"])]
    path = make_return(home, "M01", cells=cells, name="SeQuIn_M02_2026-10.xlsx")
    wb = openpyxl.load_workbook(path)
    wb[rec]["B8"] = "Something easier to meet"
    wb[rec]["A9"] = "REC-99"
    wb.create_sheet("My notes")
    wb.save(path)
    with Intake(home) as intake:
        v = intake.validate(path)
    codes = {f.code for f in v.findings}
    assert {
        "rating-invalid",
        "personal-data",
        "text-too-long",
        "signoff-invalid",
        "signoff-missing",
        "rating-missing",
        "evidence-missing",
        "locked-text-changed",
        "sheet-unexpected",
        "file-name-unit-mismatch",
        "file-name-period-mismatch",
    } <= codes
    _assert_reads_well(v.findings)
    msg = {(f.code, f.cell): f.message for f in v.findings}
    assert msg[("locked-text-changed", "A9")].startswith(
        "Cell A9 should hold the standard ID REC-04, but it has been changed"
    )
    assert msg[("locked-text-changed", "B8")].startswith(
        "The wording of standard REC-03 in cell B8 has been changed"
    )
    assert msg[("file-name-period-mismatch", "")].startswith(
        "The file name says October 2026 (2026-10), but the workbook inside is for "
        "November 2026 (2026-11)."
    )
    assert msg[("signoff-invalid", "D19")].startswith("'Maybe' in cell D19 does not say whether")
    assert msg[("signoff-invalid", "D20")].startswith("'next Tuesday' in cell D20 is not a date.")
    assert msg[("personal-data", "D18")].startswith(
        "The staff role in the sign-off for the Involvement area (cell D18) seems to contain a "
        "date of birth."
    )
    assert "12/03/1984" not in " ".join(f.message for f in v.findings)
    assert msg[("text-too-long", "G8")].startswith(
        "The actions / notes for standard INV-03 (cell G8) is 32,005 characters long"
    )


def test_an_unverified_return_never_has_its_cells_quoted(home, tmp_path):
    from engine.home import init_home

    other = init_home(tmp_path / "other")
    cells = full_answers(other, "M01")
    cells[("1 Involvement", "E9")] = "Mostly"
    cells[("1 Involvement", T.SIGNOFF_CELLS["service_user"])] = "Perhaps"
    with Intake(home) as intake:
        v = intake.validate(make_return(other, "M01", cells=cells, folder=tmp_path))
    assert "token-invalid" in {f.code for f in v.findings}
    text = " ".join(f.message for f in v.findings)
    assert "Mostly" not in text and "Perhaps" not in text
    assert "What is in cell E9 is not a rating." in text
    _assert_reads_well(v.findings)

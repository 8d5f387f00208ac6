"""Validation: each broken return gets the right finding codes at the right cells."""

from __future__ import annotations

import openpyxl
import pytest

from engine import template as T
from engine.findings import flatten
from engine.pipeline import Intake

from .conftest import PERIOD, full_answers, make_return

INV = "1 Involvement"
REC = "2 Recovery Pathway"
# Answer cells of the unit workbook issued now (the current form's layout).
R6, R7, R9 = (f"{T.COL_RATING}{row}" for row in (6, 7, 9))
EV6, EV7, NO8 = f"{T.COL_EVIDENCE}6", f"{T.COL_EVIDENCE}7", f"{T.COL_NOTES}8"


@pytest.fixture
def intake(home):
    with Intake(home) as i:
        yield i


def codes_at(validation, severity=None):
    return {
        (f.code, f.sheet, f.cell)
        for f in validation.findings
        if severity is None or f.severity == severity
    }


def test_a_complete_return_is_valid_with_no_findings(home, intake):
    v = intake.validate(make_return(home, "M01"))
    assert v.valid, flatten(v.findings)
    assert v.findings == []
    assert v.scores.overall_percent == 100.0


def test_unit_a_workbook_renamed_as_unit_b(home, intake):
    path = make_return(home, "M01", name=T.file_name("M02", PERIOD))
    v = intake.validate(path)
    assert not v.valid
    assert ("file-name-unit-mismatch", "", "") in codes_at(v)


def test_wrong_period_for_the_file_name(home, intake):
    path = make_return(home, "M01", name=T.file_name("M01", "2026-10"))
    assert ("file-name-period-mismatch", "", "") in codes_at(intake.validate(path))


def test_edited_standard_wording(home, intake, tmp_path):
    path = make_return(home, "M01")
    wb = openpyxl.load_workbook(path)
    wb[REC]["B8"] = "Something easier to meet"
    wb.save(path)
    v = intake.validate(path)
    assert not v.valid
    assert next(f for f in v.findings if f.code == "locked-text-changed").question_id == "REC-03"
    assert ("locked-text-changed", REC, "B8") in codes_at(v, "error")


def test_moved_standard_ids(home, intake):
    path = make_return(home, "M01")
    wb = openpyxl.load_workbook(path)
    ws = wb[INV]
    ws["A6"], ws["A7"] = "INV-02", "INV-01"
    wb.save(path)
    found = codes_at(intake.validate(path), "error")
    assert {("locked-text-changed", INV, "A6"), ("locked-text-changed", INV, "A7")} <= found


def test_pasted_invalid_rating(home, intake):
    cells = full_answers(home, "M01")
    cells[(INV, R9)] = "Mostly"
    v = intake.validate(make_return(home, "M01", cells=cells))
    assert not v.valid
    assert codes_at(v, "error") == {("rating-invalid", INV, R9)}


def test_rating_with_spaces_and_other_case_is_accepted(home, intake):
    cells = full_answers(home, "M01")
    cells[(INV, R9)] = "  partly MET "
    v = intake.validate(make_return(home, "M01", cells=cells))
    assert v.valid and v.scores.areas["INV"].points == 19


def test_unanswered_standards_are_warnings_and_mark_the_area_incomplete(home, intake):
    cells = full_answers(home, "M01")
    del cells[(REC, R6)], cells[(REC, R7)]
    v = intake.validate(make_return(home, "M01", cells=cells))
    assert v.valid
    assert {("rating-missing", REC, R6), ("rating-missing", REC, R7)} <= codes_at(v, "warning")
    assert not v.scores.areas["REC"].complete
    assert v.scores.areas["REC"].answered == 8


def test_rating_without_evidence_is_a_warning(home, intake):
    cells = full_answers(home, "M01")
    del cells[(INV, EV6)]
    v = intake.validate(make_return(home, "M01", cells=cells))
    assert v.valid and codes_at(v) == {("evidence-missing", INV, EV6)}


def test_missing_signoff_is_a_warning_per_cell(home, intake):
    cells = full_answers(home, "M01")
    del cells[(INV, "D18")], cells[(INV, "D20")]
    v = intake.validate(make_return(home, "M01", cells=cells))
    assert v.valid
    assert codes_at(v) == {("signoff-missing", INV, "D18"), ("signoff-missing", INV, "D20")}


def test_empty_return_is_rejected(home, intake):
    v = intake.validate(make_return(home, "M01", cells={}))
    assert not v.valid and ("return-empty", "", "") in codes_at(v)


def test_token_from_another_network_is_rejected(home, intake, tmp_path):
    from engine.home import init_home

    other = init_home(tmp_path / "other")
    v = intake.validate(make_return(other, "M01", folder=tmp_path))
    assert ("token-invalid", T.META_SHEET, "") in codes_at(v, "error")


def test_altered_metadata_unit_fails_the_token(home, intake):
    path = make_return(home, "M01")
    wb = openpyxl.load_workbook(path)
    wb[T.META_SHEET]["B1"] = "M02"
    wb.save(path)
    path = path.rename(path.with_name(T.file_name("M02", PERIOD)))
    v = intake.validate(path)
    assert ("token-invalid", T.META_SHEET, "") in codes_at(v, "error")


def test_extra_and_missing_sheets(home, intake):
    path = make_return(home, "M01")
    wb = openpyxl.load_workbook(path)
    wb.create_sheet("My notes")
    del wb["12 Technology"]
    wb.save(path)
    found = codes_at(intake.validate(path), "error")
    assert {("sheet-unexpected", "My notes", ""), ("sheet-missing", "12 Technology", "")} <= found


def test_personal_data_in_evidence_is_a_warning_at_its_cell(home, intake):
    cells = full_answers(home, "M01")
    cells[(INV, EV7)] = "Care plan for patient NHS 943 476 5919 reviewed"
    cells[(INV, NO8)] = "Service user DOB 12/03/1984 attended"
    v = intake.validate(make_return(home, "M01", cells=cells))
    assert v.valid
    assert {("personal-data", INV, EV7), ("personal-data", INV, NO8)} <= codes_at(v, "warning")


def test_every_finding_message_says_what_to_do(home, intake):
    cells = full_answers(home, "M01")
    cells[(INV, R9)] = "Mostly"
    del cells[(REC, R6)]
    v = intake.validate(make_return(home, "M01", cells=cells, name="SeQuIn_M02_2026-10.xlsx"))
    for f in v.findings:
        assert f.message and "Traceback" not in f.message
        assert f.code == f.code.lower() and " " not in f.code

"""The three forms a returned workbook can be: unit/1, unit/2 (with Actions) and family/1.

Most tests check raw values as the reader returns them; the last ones write real
workbooks and read them back, so reader and checks are tested together.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import openpyxl
import pytest

from engine import template as T
from engine.bank import Bank
from engine.checks import (
    Action,
    FamilyAnswer,
    FamilyResponse,
    Return,
    check_return,
    expected_sheets,
)
from engine.family import area_words, build_family_workbook
from engine.findings import flatten
from engine.home import make_token
from engine.reader import read_return, wording_digest
from engine.synthetic import fill_workbook
from engine.workbook import build_workbook

from .conftest import full_answers

PERIOD = "2026-11"
INV = "1 Involvement"
U1, U2, FAM = T.FORM_UNIT_1, T.FORM_UNIT_2, T.FORM_FAMILY_1


def _with_essential(bank: Bank, std_id: str) -> Bank:
    """A copy of ``bank`` (under another version) where only ``std_id`` is essential."""
    areas = tuple(
        dataclasses.replace(
            a,
            standards=tuple(dataclasses.replace(s, essential=s.id == std_id) for s in a.standards),
        )
        for a in bank.areas
    )
    return dataclasses.replace(bank, version=f"{bank.version}-ess", areas=areas)


def _meta(home, unit: str, period: str, version: str, form: str, signed_as: str = "") -> dict:
    values = {
        "unit": unit,
        "period": period,
        "bank_version": version,
        "token": make_token(home.secret(), unit, period, version, signed_as or form),
        "generated_by": "SeQuIn engine",
    }
    if form != U1:
        values["form"] = form
    cells = {}
    for i, (key, value) in enumerate(values.items(), start=1):
        cells[f"A{i}"], cells[f"B{i}"] = key, value
    return cells


def unit_raw(home, form: str = U2, unit: str = "M01", bank: Bank | None = None) -> dict:
    """A complete return of ``form`` as the reader gives it: every standard Met, all signed off."""
    bank = bank or home.bank()
    cells: dict[str, dict] = {}
    for area in bank.areas:
        sheet = cells[T.area_sheet_name(area.index, area.short_name)] = {}
        for pos, std in enumerate(area.standards):
            row = T.standard_row(pos)
            sheet[f"A{row}"] = T.id_cell_text(std.id, std.essential, form)
            sheet[f"B{row}"] = {"digest": wording_digest(std.text)}
            sheet[f"C{row}"] = {"digest": wording_digest(std.easy_read)}
            if form == U2:  # last month's rating: the engine's own, never checked
                sheet[f"D{row}"] = "Mostly"
            ref = T.answer_cells(pos, form)
            sheet[ref.rating], sheet[ref.evidence] = "Met", f"Minutes for {std.id} seen"
            sheet[ref.notes] = f"Notes on {std.id}"
        sheet.update({"D18": "Ward manager", "D19": "Yes", "D20": {"date": "2026-11-10T00:00:00"}})
    if form != U1:
        cells[T.ACTIONS_SHEET] = {}
    cells[T.META_SHEET] = _meta(home, unit, PERIOD, bank.version, form)
    sheets = [
        [n, "hidden" if n in (T.LISTS_SHEET, T.META_SHEET) else "visible"]
        for n in expected_sheets(bank, form)
    ]
    return {"sheets": sheets, "cells": cells, "saved_at": ""}


def family_raw(home, answers: dict[str, tuple[str, str]], unit: str = "M01") -> dict:
    """A family and friends response: ``answers`` maps area IDs to (agree, comment)."""
    bank = home.bank()
    sheet = {}
    for area in bank.areas:
        row = T.family_row(area.index)
        sheet[f"B{row}"] = area_words(area.id)
        agree, comment = answers.get(area.id, ("", ""))
        if agree:
            sheet[f"D{row}"] = agree
        if comment:
            sheet[f"E{row}"] = comment
    cells = {T.FAMILY_SHEET: sheet, T.META_SHEET: _meta(home, unit, PERIOD, bank.version, FAM)}
    sheets = [[T.FAMILY_SHEET, "visible"], [T.LISTS_SHEET, "hidden"], [T.META_SHEET, "hidden"]]
    return {"sheets": sheets, "cells": cells, "saved_at": ""}


def check(home, raw: dict, name: str = "", bank: Bank | None = None):
    bank = bank or home.bank()
    return check_return(
        raw, network=home.network, banks={bank.version: bank}, secret=home.secret(), file_name=name
    )


def codes(findings, severity=None) -> set:
    return {(f.code, f.sheet, f.cell) for f in findings if severity in (None, f.severity)}


def errors(findings) -> list:
    return [f for f in findings if f.severity == "error"]


# --- unit/1 and unit/2 --------------------------------------------------------------


def test_a_unit_1_return_is_still_accepted_and_read_from_d_e_f(home):
    raw = unit_raw(home, U1)
    assert "form" not in raw["cells"][T.META_SHEET].values()
    findings, ret = check(home, raw, T.file_name("M01", PERIOD))
    assert findings == []
    assert isinstance(ret, Return) and ret.form == U1 and ret.actions == []
    first = ret.answers[0]
    assert (first.rating, first.evidence, first.notes) == (
        "Met",
        "Minutes for INV-01 seen",
        "Notes on INV-01",
    )
    assert T.answer_cells(0, U1).rating == "D6"


def test_a_unit_2_return_is_read_from_e_f_g_and_last_month_is_not_checked(home):
    findings, ret = check(home, unit_raw(home, U2))
    assert findings == []
    assert ret.form == U2 and len(ret.ratings()) == 120
    assert (ret.answers[3].evidence, ret.answers[3].notes) == (
        "Minutes for INV-04 seen",
        "Notes on INV-04",
    )


def test_a_unit_2_return_with_its_ratings_in_column_d_is_not_read_as_unit_1(home):
    raw = unit_raw(home, U2)
    for name, sheet in raw["cells"].items():
        if name not in (T.META_SHEET, T.ACTIONS_SHEET):
            for pos in range(T.STANDARDS_PER_AREA):
                sheet[f"D{T.standard_row(pos)}"] = sheet.pop(T.answer_cells(pos, U2).rating)
    findings, ret = check(home, raw)
    assert ("return-empty", "", "") in codes(findings, "error")
    assert ret.ratings() == {}


def test_each_form_has_its_own_sheets(home):
    raw = unit_raw(home, U2)
    raw["sheets"] = [s for s in raw["sheets"] if s[0] != T.ACTIONS_SHEET]
    assert codes(check(home, raw)[0], "error") == {("sheet-missing", T.ACTIONS_SHEET, "")}
    raw = unit_raw(home, U1)
    raw["sheets"].insert(-2, [T.ACTIONS_SHEET, "visible"])
    assert codes(check(home, raw)[0], "error") == {("sheet-unexpected", T.ACTIONS_SHEET, "")}


def test_the_id_cell_of_an_essential_standard(home):
    bank = _with_essential(home.bank(), "INV-02")
    raw = unit_raw(home, U2, bank=bank)
    assert raw["cells"][INV]["A7"] == "INV-02\nEssential"
    findings, ret = check(home, raw, bank=bank)
    assert findings == [] and ret.ratings()["INV-02"] == "Met"
    raw["cells"][INV]["A7"] = "  INV-02   Essential "  # spacing does not matter
    assert check(home, raw, bank=bank)[0] == []
    for changed in ("INV-02", "INV-03\nEssential", "INV-02\nOptional"):
        raw["cells"][INV]["A7"] = changed
        findings, _ = check(home, raw, bank=bank)
        assert codes(findings) == {("locked-text-changed", INV, "A7")}
        assert "INV-02 marked Essential" in findings[0].message
    # the earlier layout never marked essential standards
    raw = unit_raw(home, U1, bank=bank)
    assert raw["cells"][INV]["A7"] == "INV-02"
    assert check(home, raw, bank=bank)[0] == []


# --- Actions (unit/2) -------------------------------------------------------------------


def _with_actions(home, rows: dict[int, dict[str, object]]) -> dict:
    """A complete unit/2 return whose Actions sheet has ``rows`` (0-based index -> cells)."""
    raw = unit_raw(home, U2)
    sheet = raw["cells"][T.ACTIONS_SHEET]
    for i, values in rows.items():
        for col, value in values.items():
            sheet[f"{col}{T.action_row(i)}"] = value
    return raw


def test_actions_are_parsed_with_new_and_carried_refs(home):
    raw = _with_actions(
        home,
        {
            0: {
                "B": "Weekly community meeting",
                "C": "1. Involvement",
                "D": "Ward manager",
                "E": {"date": "2026-12-15T00:00:00"},
            },
            1: {
                "A": "2026-10.3",
                "B": "Discharge plans in easy read",
                "C": "Recovery Pathway",
                "E": "15/01/2027",
                "F": "in progress",
            },
            2: {"B": "Review the ward rules", "C": "rrp", "E": 46054.0, "F": "DONE"},
            4: {"B": "Phones on the ward", "C": " 12.  technology ", "F": "not  started"},
            5: {"A": "2025-12.30", "B": "Old action", "C": "INVOLVEMENT", "F": "Dropped"},
        },
    )
    findings, ret = check(home, raw)
    assert findings == []
    assert ret.actions == [
        Action(
            "2026-11.1",
            0,
            "Weekly community meeting",
            "INV",
            "Ward manager",
            "2026-12-15",
            "Not started",
        ),
        Action(
            "2026-10.3", 1, "Discharge plans in easy read", "REC", "", "2027-01-15", "In progress"
        ),
        Action("2026-11.3", 2, "Review the ward rules", "RRP", "", "2026-02-01", "Done"),
        Action("2026-11.5", 4, "Phones on the ward", "TEC", "", "", "Not started"),
        Action("2025-12.30", 5, "Old action", "INV", "", "", "Dropped"),
    ]
    assert ret.kept == []


def test_action_problems_are_warnings_that_say_where_and_what_to_choose(home):
    raw = _with_actions(
        home,
        {
            0: {"B": "Menus with pictures", "C": "Kitchen", "E": "next week", "F": "Complete"},
            1: {"D": "Ward manager"},  # no What will change
            2: {"A": "2026-09.4"},  # carried, then emptied
            3: {"A": "2026-10.1", "D": "Charge nurse", "F": "Done"},  # carried, What emptied
            4: {"B": "Patient NHS 943 476 5919 to be asked", "F": "Done"},
        },
    )
    findings, ret = check(home, raw)
    assert errors(findings) == []
    A = T.ACTIONS_SHEET
    assert codes(findings) == {
        ("action-invalid", A, "C6"),
        ("action-invalid", A, "E6"),
        ("action-invalid", A, "F6"),
        ("action-incomplete", A, "B7"),
        ("action-cleared", A, "B8"),
        ("action-incomplete", A, "B9"),
        ("personal-data", A, "B10"),
    }
    by_cell = {f.cell: f.message for f in findings}
    assert (
        "'Kitchen' in cell C6" in by_cell["C6"]
        and "1. Involvement to 12. Technology" in by_cell["C6"]
    )
    assert "'next week' in cell E6" in by_cell["E6"] and "14/11/2026" in by_cell["E6"]
    assert "Not started, In progress, Done or Dropped" in by_cell["F6"]
    assert "taken as Not started" in by_cell["F6"]
    assert (
        "2026-09.4" in by_cell["B8"]
        and "Dropped" in by_cell["B8"]
        and "stays as it was" in by_cell["B8"]
    )
    assert "5919" not in by_cell["B10"]
    assert [(a.ref, a.area_id, a.due, a.status) for a in ret.actions] == [
        ("2026-11.1", "", "", "Not started"),
        ("2026-11.5", "", "", "Done"),
    ]
    assert ret.kept == ["2026-09.4", "2026-10.1"]


def test_a_ref_that_the_engine_did_not_write_makes_a_new_action(home):
    raw = _with_actions(
        home,
        {
            0: {"A": "hello", "B": "One"},
            1: {"A": "2026-11.1", "B": "Two"},  # this month's refs are never carried ones
            2: {"A": "2026-10.2", "B": "Three"},
            3: {"A": "2026-10.2", "B": "Three again"},  # the same carried action twice
            4: {"A": "2026-10.31", "B": "Four"},  # past the last row
        },
    )
    findings, ret = check(home, raw)
    A = T.ACTIONS_SHEET
    assert codes(findings) == {("action-invalid", A, f"A{r}") for r in (6, 7, 9, 10)}
    assert [a.ref for a in ret.actions] == [
        "2026-11.1",
        "2026-11.2",
        "2026-10.2",
        "2026-11.4",
        "2026-11.5",
    ]
    assert len({a.ref for a in ret.actions}) == 5


def test_long_action_text_is_cut(home):
    raw = _with_actions(home, {0: {"B": "x" * (T.MAX_TEXT + 10), "D": "Ward manager"}})
    findings, ret = check(home, raw)
    assert codes(findings) == {("text-too-long", T.ACTIONS_SHEET, "B6")}
    assert len(ret.actions[0].what) == T.MAX_TEXT


# --- family and friends (family/1) --------------------------------------------------------


def test_a_family_response_is_read(home):
    raw = family_raw(
        home,
        {
            "INV": ("Agree", "Staff listen"),
            "REC": (" not SURE ", ""),
            "COL": ("NotSure", ""),
            "RRP": ("Unsure", ""),
            "CPA": ("DISAGREE", ""),
            "TEC": ("", "More phone time please"),
        },
    )
    findings, resp = check(home, raw, T.family_file_name("M01", PERIOD))
    assert findings == []
    assert isinstance(resp, FamilyResponse)
    assert (resp.unit, resp.period, resp.bank_version, resp.form) == (
        "M01",
        PERIOD,
        home.bank().version,
        FAM,
    )
    assert resp.answers == [
        FamilyAnswer("INV", "Agree", "Staff listen"),
        FamilyAnswer("REC", "Not sure", ""),
        FamilyAnswer("COL", "Not sure", ""),
        FamilyAnswer("RRP", "Not sure", ""),
        FamilyAnswer("CPA", "Disagree", ""),
        FamilyAnswer("TEC", "", "More phone time please"),
    ]


def test_an_answer_that_is_not_a_choice_counts_as_no_answer(home):
    raw = family_raw(
        home, {"INV": ("Maybe", "Sometimes"), "REC": ("Yes!", ""), "COL": ("Agree", "")}
    )
    findings, resp = check(home, raw)
    S = T.FAMILY_SHEET
    assert codes(findings) == {("agree-invalid", S, "D7"), ("agree-invalid", S, "D8")}
    assert all(f.severity == "warning" for f in findings)
    message = findings[0].message
    assert "'Maybe' in cell D7" in message and "Agree, Not sure or Disagree" in message
    assert area_words("INV") in message and "Nothing needs doing" in message
    assert resp.answers == [FamilyAnswer("INV", "", "Sometimes"), FamilyAnswer("COL", "Agree", "")]


def test_an_empty_response_is_refused(home):
    findings, resp = check(home, family_raw(home, {}))
    assert codes(findings, "error") == {("response-empty", T.FAMILY_SHEET, "")}
    assert "paper copy" in findings[0].message
    assert resp.answers == []
    findings, _ = check(home, family_raw(home, {"INV": ("Maybe", "")}))
    assert codes(findings) == {
        ("agree-invalid", T.FAMILY_SHEET, "D7"),
        ("response-empty", T.FAMILY_SHEET, ""),
    }


def test_personal_data_in_a_comment_is_a_warning(home):
    raw = family_raw(home, {"RRP": ("Disagree", "My son (DOB 12/03/1984) was restrained")})
    findings, resp = check(home, raw)
    assert codes(findings) == {("personal-data", T.FAMILY_SHEET, "E10")}
    assert findings[0].severity == "warning" and "masked" in findings[0].message
    assert "1984" not in findings[0].message
    assert resp.answers[0].agree == "Disagree"


def test_long_comments_are_cut(home):
    findings, resp = check(home, family_raw(home, {"INV": ("Agree", "y" * (T.MAX_TEXT + 1))}))
    assert codes(findings) == {("text-too-long", T.FAMILY_SHEET, "E7")}
    assert len(resp.answers[0].comment) == T.MAX_TEXT


def test_the_part_of_ward_life_must_stay_as_issued(home):
    raw = family_raw(home, {"INV": ("Agree", "")})
    sheet = raw["cells"][T.FAMILY_SHEET]
    sheet["B8"] = "  " + area_words("REC").replace(" ", "\n  ")  # spacing does not matter
    assert check(home, raw)[0] == []
    sheet["B7"], sheet["B9"] = area_words("COL"), area_words("INV")  # rows swapped
    findings, _ = check(home, raw)
    assert codes(findings) == {
        ("locked-text-changed", T.FAMILY_SHEET, "B7"),
        ("locked-text-changed", T.FAMILY_SHEET, "B9"),
    }
    assert f"outbox/{PERIOD}/family/{T.family_file_name('M01', PERIOD)}" in findings[0].message


def test_a_family_form_has_only_its_own_sheets(home):
    raw = family_raw(home, {"INV": ("Agree", "")})
    raw["sheets"].append(["1 Involvement", "visible"])
    findings, _ = check(home, raw)
    assert codes(findings) == {("sheet-unexpected", "1 Involvement", "")}


# --- kind, file name and form -----------------------------------------------------------


def test_a_family_response_named_as_the_units_return(home):
    raw = family_raw(home, {"INV": ("Agree", "")})
    findings, _ = check(home, raw, T.file_name("M01", PERIOD))
    assert codes(findings) == {("wrong-kind", "", "")}
    message = findings[0].message
    assert "family and friends response for unit M01, November 2026" in message
    assert T.family_file_name("M01", PERIOD) in message


def test_a_units_return_named_as_a_family_response(home):
    findings, _ = check(home, unit_raw(home, U2), T.family_file_name("M01", PERIOD))
    assert codes(findings) == {("wrong-kind", "", "")}
    assert T.file_name("M01", PERIOD) in findings[0].message
    findings, _ = check(home, unit_raw(home, U1), "M01 friends and family 2026-11.xlsx")
    assert codes(findings) == {("wrong-kind", "", "")}


def test_a_family_file_name_is_checked_for_unit_and_month(home):
    raw = family_raw(home, {"INV": ("Agree", "")})
    assert check(home, raw, "SeQuIn_family_M01_2026-11 (2).xlsx")[0] == []
    findings, _ = check(home, raw, T.family_file_name("M02", "2026-10"))
    assert codes(findings) == {
        ("file-name-unit-mismatch", "", ""),
        ("file-name-period-mismatch", "", ""),
    }
    assert all(T.family_file_name("M01", PERIOD) in f.message for f in findings)


def test_the_word_family_is_never_taken_for_a_unit_code(home):
    network = dataclasses.replace(
        home.network,
        units=(*home.network.units, dataclasses.replace(home.network.units[0], code="FAMILY")),
    )
    bank = home.bank()
    raw = family_raw(home, {"INV": ("Agree", "")})
    findings, _ = check_return(
        raw,
        network=network,
        banks={bank.version: bank},
        secret=home.secret(),
        file_name=T.family_file_name("M01", PERIOD),
    )
    assert findings == []


@pytest.mark.parametrize(
    ("made", "says"),
    [(FAM, U2), (FAM, U1), (FAM, ""), (U2, FAM), (U2, U1), (U2, ""), (U1, U2), (U1, FAM)],
)
def test_a_changed_or_deleted_form_row_fails_the_token(home, made, says):
    raw = unit_raw(home, made) if made != FAM else family_raw(home, {"INV": ("Agree", "")})
    meta = raw["cells"][T.META_SHEET]
    meta.pop("A6", None), meta.pop("B6", None)
    if says and says != U1:
        meta["A6"], meta["B6"] = "form", says
    findings, result = check(home, raw)
    assert flatten(findings) == [("token-invalid", T.META_SHEET, "")]
    assert result is None
    assert "hidden details of this workbook were changed" in findings[0].message


def test_a_token_of_another_unit_is_not_taken_for_a_changed_form(home):
    raw = family_raw(home, {"INV": ("Agree", "")})
    raw["cells"][T.META_SHEET]["B4"] = make_token(
        home.secret(), "M02", PERIOD, home.bank().version, FAM
    )
    findings, resp = check(home, raw)
    assert codes(findings, "error") == {("token-invalid", T.META_SHEET, "")}
    assert "signature does not match unit M01" in findings[0].message
    assert "family and friends form" in findings[0].message
    assert isinstance(resp, FamilyResponse)  # still read, for the receipt; the error refuses it


def test_an_unknown_form_is_not_a_sequin_workbook(home):
    raw = unit_raw(home, U2)
    raw["cells"][T.META_SHEET]["B6"] = "unit/9"
    findings, result = check(home, raw)
    assert flatten(findings) == [("not-a-sequin-workbook", T.META_SHEET, "")]
    assert result is None and "unit/9" not in findings[0].message


# --- real workbooks through the reader -------------------------------------------------


def _write(raw: dict, texts: dict[str, str], path) -> None:
    """A workbook holding ``raw``'s values, with the full wording where ``raw`` has digests."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, state in raw["sheets"]:
        ws = wb.create_sheet(name)
        ws.sheet_state = state
        for ref, value in raw["cells"].get(name, {}).items():
            if isinstance(value, dict) and "digest" in value:
                value = texts[value["digest"]]
            elif isinstance(value, dict):
                value = dt.datetime.fromisoformat(value["date"])
            ws[ref] = value
    wb.save(path)


def _texts(home) -> dict[str, str]:
    return {wording_digest(t): t for s in home.bank().standards for t in (s.text, s.easy_read)}


def test_the_reader_reads_each_form_where_the_checks_look(home, tmp_path):
    u2 = _with_actions(
        home,
        {
            0: {
                "B": "Weekly community meeting",
                "C": "1. Involvement",
                "E": {"date": "2026-12-15T00:00:00"},
            },
            1: {"A": "2026-10.3", "B": "Carried", "F": "In progress", "G": "history, not read"},
        },
    )
    family = family_raw(home, {"INV": ("Agree", "Staff listen"), "TEC": ("Disagree", "")})
    family["cells"][T.FAMILY_SHEET]["C7"] = "What the ward said: not read"
    for raw, name in ((unit_raw(home, U1), "u1.xlsx"), (u2, "u2.xlsx"), (family, "f.xlsx")):
        # No titles in row 1 or column A on the Actions and family sheets: cells stay in place.
        _write(raw, _texts(home), tmp_path / name)
        read = read_return(str(tmp_path / name))
        assert [s[0] for s in read["sheets"]] == [s[0] for s in raw["sheets"]]
        expected = {n: c for n, c in raw["cells"].items() if n not in (T.LISTS_SHEET,)}
        expected.get(T.ACTIONS_SHEET, {}).pop("G7", None)
        expected.get(T.FAMILY_SHEET, {}).pop("C7", None)
        assert _normal(read["cells"]) == _normal(expected)
    findings, ret = check(home, read_return(str(tmp_path / "u2.xlsx")))
    assert findings == [] and [a.ref for a in ret.actions] == ["2026-11.1", "2026-10.3"]
    findings, resp = check(home, read_return(str(tmp_path / "f.xlsx")))
    assert findings == [] and [a.area_id for a in resp.answers] == ["INV", "TEC"]
    findings, ret = check(home, read_return(str(tmp_path / "u1.xlsx")))
    assert findings == [] and ret.form == U1


def _normal(cells: dict) -> dict:
    """Dates cut to their day: the two sides write the time differently."""
    out = {}
    for name, sheet in cells.items():
        out[name] = {
            ref: {"date": v["date"][:10]} if isinstance(v, dict) and "date" in v else v
            for ref, v in sheet.items()
        }
    return out


def test_workbooks_the_engine_issues_are_read_and_checked(home, tmp_path):
    bank, secret = home.bank(), home.secret()
    blank = build_family_workbook(
        home.network,
        bank,
        "M01",
        PERIOD,
        make_token(secret, "M01", PERIOD, bank.version, FAM),
        {"INV": "Green", "REC": "Red"},
    )
    path = tmp_path / T.family_file_name("M01", PERIOD)
    path.write_bytes(blank)
    findings, resp = check(home, read_return(str(path)), path.name)
    assert flatten(findings) == [("response-empty", T.FAMILY_SHEET, "")]
    filled = {(T.FAMILY_SHEET, "D7"): "Agree", (T.FAMILY_SHEET, "E8"): "Better plans"}
    path.write_bytes(fill_workbook(blank, filled))
    findings, resp = check(home, read_return(str(path)), path.name)
    assert findings == []
    assert resp.answers == [
        FamilyAnswer("INV", "Agree", ""),
        FamilyAnswer("REC", "", "Better plans"),
    ]

    unit = build_workbook(
        home.network, bank, "M01", PERIOD, home.token("M01", PERIOD, bank.version)
    )
    cells = full_answers(home, "M01")
    cells[(T.ACTIONS_SHEET, "B6")] = "Weekly community meeting"
    cells[(T.ACTIONS_SHEET, "F6")] = "In progress"
    path = tmp_path / T.file_name("M01", PERIOD)
    path.write_bytes(fill_workbook(unit, cells))
    findings, ret = check(home, read_return(str(path)), path.name)
    assert findings == [] and ret.form == T.UNIT_FORM
    assert [(a.ref, a.what, a.status) for a in ret.actions] == [
        ("2026-11.1", "Weekly community meeting", "In progress")
    ]

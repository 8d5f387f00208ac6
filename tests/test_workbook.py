"""The unit workbook: structure, protection, validation, metadata and determinism."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils import get_column_letter

from engine import template as T
from engine.generation import generate
from engine.home import verify_token
from engine.ledger.carry import CarriedAction, PreviousRatings
from engine.workbook import Carry, build_workbook

from .conftest import PERIOD, blank_workbook

ANSWER_COLUMNS = {T.COL_RATING, T.COL_EVIDENCE, T.COL_NOTES}
LAYOUT = T.LAYOUTS[T.FORM_UNIT_2]


def sheet_order(bank) -> list[str]:
    """The sheets of a unit/2 workbook, in order."""
    areas = [T.area_sheet_name(a.index, a.short_name) for a in bank.areas]
    return [T.START_SHEET, T.SUMMARY_SHEET, *areas, T.ACTIONS_SHEET, T.LISTS_SHEET, T.META_SHEET]


def _unlocked(ws) -> list[str]:
    return sorted(
        c.coordinate
        for row in ws.iter_rows()
        for c in row
        if c.protection is not None and c.protection.locked is False
    )


@pytest.fixture
def workbook_path(home, tmp_path) -> Path:
    path = tmp_path / T.file_name("M01", PERIOD)
    path.write_bytes(blank_workbook(home, "M01"))
    return path


def test_generate_writes_fifteen_small_complete_workbooks(home):
    paths = generate(home, PERIOD)
    assert len(paths) == 15
    assert len({p.name for p in paths}) == 15
    for path in paths:
        assert path.stat().st_size < 200 * 1024
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
            assert not any("vbaProject" in n or n.endswith(".bin") for n in names)
            assert b"macroEnabled" not in zf.read("[Content_Types].xml")
    wb = openpyxl.load_workbook(paths[0])
    bank = home.bank()
    assert wb.sheetnames == sheet_order(bank)
    ids = [
        wb[T.area_sheet_name(a.index, a.short_name)][f"A{T.standard_row(i)}"].value
        for a in bank.areas
        for i in range(10)
    ]
    assert len(ids) == 120 and len(set(ids)) == 120
    assert ids == [T.id_cell_text(s.id, s.essential) for s in bank.standards]
    assert [i.split("\n")[0] for i in ids] == [s.id for s in bank.standards]


def test_every_sheet_protected_and_only_answer_and_signoff_cells_unlocked(workbook_path, bank):
    wb = openpyxl.load_workbook(workbook_path)
    signoff = set(T.SIGNOFF_CELLS.values())
    for ws in wb.worksheets:
        assert ws.protection.sheet, ws.title
        unlocked = set(_unlocked(ws))
        if ws.title[0].isdigit():
            answers = {f"{c}{T.standard_row(i)}" for i in range(10) for c in ANSWER_COLUMNS}
            # Merged sign-off inputs span D:G; only their top-left cell holds a value.
            merged = {f"{c}{r}" for r in (18, 19, 20) for c in "EFG"}
            assert answers | signoff <= unlocked, ws.title
            assert unlocked <= answers | signoff | merged, ws.title
            assert not {f"{LAYOUT.col_last_month}{T.standard_row(i)}" for i in range(10)} & unlocked
        elif ws.title == T.ACTIONS_SHEET:
            rows = range(T.FIRST_ACTION_ROW, T.FIRST_ACTION_ROW + T.ACTION_ROWS)
            assert unlocked == {f"{c}{r}" for r in rows for c in "BCDEF"}
        else:
            assert unlocked == set(), ws.title


def test_every_rating_cell_is_a_dropdown_of_exactly_the_scale(workbook_path, bank):
    wb = openpyxl.load_workbook(workbook_path)
    lists = wb[T.LISTS_SHEET]
    assert [lists[f"A{i}"].value for i in range(1, 5)] == ["Met", "Partly met", "Not met", "N/A"]
    for area in bank.areas:
        ws = wb[T.area_sheet_name(area.index, area.short_name)]
        for i in range(10):
            cell = f"E{T.standard_row(i)}"
            assert T.answer_cells(i).rating == cell
            [dv] = [dv for dv in ws.data_validations.dataValidation if cell in dv.sqref]
            assert dv.type == "list"
            assert dv.formula1 == "Lists!$A$1:$A$4"
            assert dv.showErrorMessage and dv.errorStyle in (None, "stop")


def test_metadata_is_very_hidden_and_lists_hidden(workbook_path, home):
    wb = openpyxl.load_workbook(workbook_path)
    assert wb[T.META_SHEET].sheet_state == "veryHidden"
    assert wb[T.LISTS_SHEET].sheet_state == "hidden"
    meta = {r[0].value: r[1].value for r in wb[T.META_SHEET].iter_rows(max_col=2)}
    bank = home.bank()
    assert (
        meta["unit"] == "M01" and meta["period"] == PERIOD and meta["bank_version"] == bank.version
    )
    assert meta["form"] == T.FORM_UNIT_2 == T.UNIT_FORM
    assert list(meta) == list(T.META_ROWS)
    assert meta["token"] == home.token("M01", PERIOD, bank.version, T.FORM_UNIT_2)
    secret = home.secret()
    assert verify_token(secret, meta["token"], "M01", PERIOD, bank.version, T.FORM_UNIT_2)
    for other in (T.FORM_UNIT_1, T.FORM_FAMILY_1):
        assert not verify_token(secret, meta["token"], "M01", PERIOD, bank.version, other)
    for ws in wb.worksheets:
        if ws.sheet_state == "visible":
            assert wb.index(ws) < wb.index(wb[T.LISTS_SHEET])


def test_secret_never_appears_in_a_workbook(workbook_path, home):
    secret = home.secret()
    with zipfile.ZipFile(workbook_path) as zf:
        for name in zf.namelist():
            assert secret not in zf.read(name)


def test_fonts_are_at_least_11_point(workbook_path):
    with zipfile.ZipFile(workbook_path) as zf:
        styles = zf.read("xl/styles.xml").decode()
    import re

    sizes = [float(s) for s in re.findall(r'<sz val="([0-9.]+)"', styles)]
    assert sizes and min(sizes) >= 11


def test_same_inputs_give_the_same_bytes(home):
    assert blank_workbook(home, "L03") == blank_workbook(home, "L03")
    assert blank_workbook(home, "L03") != blank_workbook(home, "L04")


def test_workbook_structure_is_locked(workbook_path):
    with zipfile.ZipFile(workbook_path) as zf:
        xml = zf.read("xl/workbook.xml").decode()
    assert '<workbookProtection lockStructure="1"/>' in xml
    assert xml.index("<workbookPr") < xml.index("<workbookProtection") < xml.index("<bookViews")
    assert openpyxl.load_workbook(workbook_path).security.lockStructure


def test_a_large_network_is_generated_on_every_core_with_the_same_bytes(home):
    import engine.generation as W
    from engine.home import Home, default_config_text

    units = "\n".join(
        f'[[units]]\ncode = "U{i:03d}"\nname = "Unit {i}"' for i in range(W.PARALLEL_FROM)
    )
    home.config_path.write_text(default_config_text().split("# Fictional units.")[0] + units)
    big = Home(home.root)
    paths = generate(big, PERIOD)
    assert [p.name for p in paths] == [
        T.file_name(f"U{i:03d}", PERIOD) for i in range(W.PARALLEL_FROM)
    ]
    parallel = paths[5].read_bytes()
    [serial] = generate(big, PERIOD, ["U005"])  # below the threshold: built in this process
    assert serial.read_bytes() == parallel


def _rows(path: Path, sheet_index: int) -> dict[int, dict[str, str]]:
    """Row number -> the attributes of its ``<row>`` element, as written."""
    with zipfile.ZipFile(path) as zf:
        xml = zf.read(f"xl/worksheets/sheet{sheet_index}.xml").decode()
    return {
        int(found["r"]): found
        for found in (
            dict(re.findall(r'(\w+)="([^"]*)"', a)) for a in re.findall(r"<row ([^>]*)>", xml)
        )
    }


def test_start_here_says_by_when_and_how_to_send_it_back(workbook_path, home):
    ws = openpyxl.load_workbook(workbook_path)[T.START_SHEET]
    lines = [r[0].value for r in ws.iter_rows() if r[0].value]
    due = lines.index("Please send it back by Thursday 10 December 2026.")
    assert lines[due - 1] == "When you have finished"
    assert lines[due + 1] == home.network.return_instructions
    cell = next(r[0] for r in ws.iter_rows() if r[0].value == lines[due])
    assert cell.font.b, "the due date stands out"


def test_long_date_is_plain_words_whatever_the_locale():
    import datetime as dt

    from engine.workbook import long_date

    assert long_date(dt.date(2026, 12, 10)) == "Thursday 10 December 2026"
    assert long_date(dt.date(2027, 1, 1)) == "Friday 1 January 2027"


def test_answer_rows_grow_with_evidence_and_other_rows_keep_their_height(workbook_path, bank):
    answer_rows = {T.standard_row(i) for i in range(T.STANDARDS_PER_AREA)}
    action_rows = {T.action_row(i) for i in range(T.ACTION_ROWS)}
    wb = openpyxl.load_workbook(workbook_path)
    for index, ws in enumerate(wb.worksheets, start=1):
        for number, row in _rows(workbook_path, index).items():
            if "ht" not in row:
                continue
            growing = (ws.title[0].isdigit() and number in answer_rows) or (
                ws.title == T.ACTIONS_SHEET and number in action_rows
            )
            # An answer row has a height but not the "set by hand" mark, so Excel and
            # LibreOffice make it taller as evidence is typed; other rows stay as set.
            assert ("customHeight" not in row) == growing, (ws.title, number)
            if growing and ws.title != T.ACTIONS_SHEET:
                assert float(row["ht"]) >= 120, "room for 600 characters of evidence"
            assert float(row["ht"]) <= 409, "Excel's tallest row"


def test_every_sheet_prints_on_a4_one_page_wide_with_text_at_10_5_pt_or_more(workbook_path):
    """No fit-to-width shrinking into small print: the columns fit across A4 at 87.5 %
    or more, so 12 pt text prints at 10.5 pt or more (tests/test_print.py measures it).

    LibreOffice prints a column of width w (as the file says it) 6.24 w points wide
    with Arial as the Normal font (Excel a little narrower), measured.
    """
    from engine.workbook import presentation

    body = presentation()["fonts"]["body"]
    wb = openpyxl.load_workbook(workbook_path)
    for ws in wb.worksheets:
        if ws.sheet_state != "visible":
            continue
        setup = ws.page_setup
        assert setup.paperSize == 9, ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        assert (setup.fitToWidth or 1, setup.fitToHeight) == (1, 0), ws.title
        page = 595.3 if setup.orientation == "portrait" else 841.9
        printable = page - 72 * (ws.page_margins.left + ws.page_margins.right)
        used = max(row[-1].column for row in ws.iter_rows())
        width = sum(ws.column_dimensions[get_column_letter(c)].width for c in range(1, used + 1))
        assert body * min(1.0, printable / (6.24 * width)) >= 10.5, (ws.title, width)
        assert "page &P of &N" in ws.oddFooter.center.text, ws.title


# --- unit/2: last month, essential standards, actions ------------------------------------


def _carry(bank, n_actions: int = 2) -> Carry:
    ratings = {s.id: "Partly met" for s in bank.standards}
    ratings[bank.standards[0].id] = ""  # answered blank last month
    del ratings[bank.standards[1].id]  # not in last month's return at all
    actions = tuple(
        CarriedAction(
            f"2026-09.{i + 1}",
            f"Change number {i + 1}",
            "RRP",
            "Ward manager",
            "2026-12-15",
            "In progress",
            (("2026-09", "Not started"), ("2026-10", "In progress")),
        )
        for i in range(n_actions)
    )
    return Carry(PreviousRatings("2026-10", "2026-11-03T10:15:00+00:00", ratings), actions)


def _build(home, carry: Carry | None, tmp_path, name="carry.xlsx") -> openpyxl.Workbook:
    bank = home.bank()
    token = home.token("M01", PERIOD, bank.version)
    path = tmp_path / name
    path.write_bytes(build_workbook(home.network, bank, "M01", PERIOD, token, carry))
    return openpyxl.load_workbook(path)


def _texts(ws) -> list[str]:
    return [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]


def test_last_month_is_blank_and_says_why_without_an_earlier_return(workbook_path, bank):
    wb = openpyxl.load_workbook(workbook_path)
    for area in bank.areas:
        ws = wb[T.area_sheet_name(area.index, area.short_name)]
        assert ws[f"{LAYOUT.col_last_month}{T.HEADER_ROW}"].value == "Last month"
        for i in range(10):
            cell = ws[f"{LAYOUT.col_last_month}{T.standard_row(i)}"]
            assert cell.value is None and cell.protection.locked is not False
            assert ws[T.answer_cells(i).rating].value is None
        assert any("no earlier return" in t for t in _texts(ws)), ws.title
    assert any("no earlier return" in t for t in _texts(wb[T.START_SHEET]))


def test_last_month_shows_the_counted_ratings_and_not_rated(home, bank, tmp_path):
    wb = _build(home, _carry(bank), tmp_path)
    first = wb[T.area_sheet_name(1, bank.areas[0].short_name)]
    col = LAYOUT.col_last_month
    assert first[f"{col}{T.standard_row(0)}"].value == "Not rated"
    assert first[f"{col}{T.standard_row(1)}"].value == "Not rated"
    assert first[f"{col}{T.standard_row(2)}"].value == "Partly met"
    note = "Last month: your ratings for October 2026, from your return received 3 November 2026."
    assert any(t.startswith(note) for t in _texts(first))
    for area in bank.areas:
        ws = wb[T.area_sheet_name(area.index, area.short_name)]
        for i in range(10):
            assert ws[f"{col}{T.standard_row(i)}"].protection.locked is not False
            assert ws[T.answer_cells(i).rating].value is None, "the rating cell stays empty"


def test_no_counted_return_last_month_says_so(home, bank, tmp_path):
    wb = _build(home, Carry(PreviousRatings("2026-10", None, {})), tmp_path)
    ws = wb[T.area_sheet_name(1, bank.areas[0].short_name)]
    reason = "No return for October 2026 was counted, so there is nothing from last month."
    assert reason in _texts(ws)
    assert all(ws[f"{LAYOUT.col_last_month}{T.standard_row(i)}"].value is None for i in range(10))


def test_essential_standards_carry_the_word_and_a_style_of_their_own(workbook_path, bank):
    wb = openpyxl.load_workbook(workbook_path, rich_text=True)
    essentials = [s for s in bank.standards if s.essential]
    assert essentials
    for area in bank.areas:
        ws = wb[T.area_sheet_name(area.index, area.short_name)]
        for i, std in enumerate(area.standards):
            cell = ws[f"A{T.standard_row(i)}"]
            assert str(cell.value) == T.id_cell_text(std.id, std.essential)
            assert (T.ESSENTIAL_WORD in str(cell.value)) == std.essential
            assert cell.protection.locked is not False
            if std.essential:
                assert cell.fill.fgColor.rgb.endswith("FCE4D6") and cell.alignment.wrap_text
            else:
                assert cell.fill.fgColor.rgb.endswith("F2F2F2")


def test_actions_sheet_is_protected_with_lists_and_a_date(workbook_path, bank):
    wb = openpyxl.load_workbook(workbook_path)
    ws = wb[T.ACTIONS_SHEET]
    assert ws.protection.sheet
    headers = [ws.cell(T.ACTIONS_HEADER_ROW, c).value for c in range(1, 8)]
    assert headers == [
        "Ref",
        "What will change",
        "Area",
        "Who leads",
        "By when",
        "Status",
        "History",
    ]
    first, last = T.FIRST_ACTION_ROW, T.FIRST_ACTION_ROW + T.ACTION_ROWS - 1
    assert last == 35
    rules = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    area, status, due = (
        rules[f"C{first}:C{last}"],
        rules[f"F{first}:F{last}"],
        rules[f"E{first}:E{last}"],
    )
    assert (area.type, area.formula1) == ("list", "Lists!$C$1:$C$12")
    assert (status.type, status.formula1) == ("list", "Lists!$D$1:$D$4")
    assert due.type == "date" and all(dv.showErrorMessage for dv in (area, status, due))
    lists = wb[T.LISTS_SHEET]
    assert [lists[f"C{i}"].value for i in range(1, 13)] == [
        f"{a.index}. {a.name}" for a in bank.areas
    ]
    assert tuple(lists[f"D{i}"].value for i in range(1, 5)) == T.ACTION_STATUSES
    for row in range(first, last + 1):
        assert all(ws.cell(row, c).value is None for c in range(1, 8))
    setup = ws.page_setup
    assert setup.orientation == "landscape" and (setup.fitToWidth or 1, setup.fitToHeight) == (1, 0)
    assert wb.sheetnames.index(T.ACTIONS_SHEET) == wb.sheetnames.index(T.LISTS_SHEET) - 1


def test_carried_actions_come_first_with_their_history(home, bank, tmp_path):
    import datetime as dt

    wb = _build(home, _carry(bank), tmp_path)
    ws = wb[T.ACTIONS_SHEET]
    row = [ws.cell(T.action_row(0), c).value for c in range(1, 8)]
    assert row[:4] == [
        "2026-09.1",
        "Change number 1",
        "4. Reducing Restrictive Practices",
        "Ward manager",
    ]
    assert row[4] == dt.datetime(2026, 12, 15) and row[5] == "In progress"
    assert row[6] == "Written September 2026 (Not started); October 2026: In progress"
    assert ws.cell(T.action_row(1), 1).value == "2026-09.2"
    assert all(ws.cell(T.action_row(2), c).value is None for c in range(1, 8))
    assert ws[f"A{T.action_row(0)}"].protection.locked is not False
    assert ws[f"G{T.action_row(0)}"].protection.locked is not False
    assert all(ws.cell(T.action_row(0), c).protection.locked is False for c in range(2, 7))
    assert any(
        t.startswith("2 open actions carried forward from your return for October 2026")
        for t in _texts(ws)
    )


def test_more_open_actions_than_fit_are_counted_never_dropped_in_silence(home, bank, tmp_path):
    wb = _build(home, _carry(bank, n_actions=T.ACTION_ROWS + 2), tmp_path)
    ws = wb[T.ACTIONS_SHEET]
    refs = [ws.cell(T.action_row(i), 1).value for i in range(T.ACTION_ROWS)]
    carried = [r for r in refs if r]
    assert carried == [f"2026-09.{i + 1}" for i in range(T.ACTION_ROWS - 5)], "room for 5 new ones"
    note = next(t for t in _texts(ws) if "did not fit" in t)
    assert "7 more open actions from October 2026 did not fit" in note
    assert "2026-09.26" in note and "2026-09.32" in note


def test_start_sheet_explains_last_month_essentials_and_actions(workbook_path):
    text = " ".join(_texts(openpyxl.load_workbook(workbook_path)[T.START_SHEET]))
    for words in ("Last month column", "Essential", "Actions sheet", "Not started, In progress"):
        assert words in text, words

"""Text a unit typed comes back into its next workbook as text, and stays text when edited.

An action such as ``=HYPERLINK("http://x")``, ``+44 123``, ``-5 points`` or ``@risk``
is carried into next month's workbook as the words the unit wrote: a string cell in
a format with the quote prefix and the Text number format, in a full build and in a
workbook derived by :mod:`engine.patched`. Typed again in a real spreadsheet
application (LibreOffice), it is saved as text, and the engine reads, checks and
scores the return as it would any other.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

import openpyxl
import pytest

from engine import template as T
from engine.generation import generate, read_carry
from engine.patched import MonthWorkbooks
from engine.pipeline import Intake
from engine.reader import read_return
from engine.synthetic import action_cells, fill_workbook, synthetic_answers
from engine.workbook import build_workbook

MONTH, NEXT = "2026-10", "2026-11"
# What will change, and who leads, of each action: text a spreadsheet could take for
# a formula or a number.
WHAT = ('=HYPERLINK("http://x")', "+44 123", "-5 points", "@risk")
LEAD = ("=Ward manager", "+Deputy manager", "-Staff nurse", "@Chef")
RECEIVED = "2026-11-03T10:15:00+00:00"


def _send(home, unit: str, period: str, data: bytes) -> None:
    path = home.inbox / T.file_name(unit, period)
    path.write_bytes(data)
    with Intake(home) as intake:
        [outcome] = intake.process_many([path])
    assert outcome.outcome == "accepted", outcome


@pytest.fixture
def carried_home(home):
    """M01's October return holds the four actions; M03's has none (same shape of workbook)."""
    bank = home.bank()
    for unit in ("M03", "M01"):
        cells = synthetic_answers(bank, home.network, unit, MONTH)
        if unit == "M01":
            for i, (what, lead) in enumerate(zip(WHAT, LEAD)):
                cells.update(
                    action_cells(
                        bank,
                        i,
                        what=what,
                        area_id="RRP",
                        lead=lead,
                        due=dt.date(2026, 12, 15),
                        status="In progress",
                    )
                )
        token = home.token(unit, MONTH, bank.version)
        built = build_workbook(home.network, bank, unit, MONTH, token)
        _send(home, unit, MONTH, fill_workbook(built, cells))
    # Both returns received the same day: the note above last month's ratings is the same.
    ledger = home.open_ledger()
    try:
        ledger.db.execute("UPDATE returns SET received_at = ?", (RECEIVED,))
        ledger.db.commit()
    finally:
        ledger.close()
    return home


def _action_refs() -> list[tuple[str, str]]:
    """(What, Who leads) cell of each carried action, in order."""
    return [(f"B{T.action_row(i)}", f"D{T.action_row(i)}") for i in range(len(WHAT))]


def assert_text_kept(data: bytes) -> None:
    """Each carried text is a string cell (never a formula) in a format that keeps it text."""
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb[T.ACTIONS_SHEET]
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        sheet = wb.sheetnames.index(T.ACTIONS_SHEET) + 1
        xml = z.read(f"xl/worksheets/sheet{sheet}.xml").decode("utf-8")
    for (what_ref, lead_ref), what, lead in zip(_action_refs(), WHAT, LEAD):
        for ref, text in ((what_ref, what), (lead_ref, lead)):
            cell = ws[ref]
            assert (cell.value, cell.data_type) == (text, "s"), ref
            # What may be long: quote prefix only (Excel shows long Text-format cells as ####).
            assert cell.number_format == ("General" if ref == what_ref else "@"), ref
            assert cell.quotePrefix, ref
            assert not cell.protection.locked, ref
            [xml_cell] = re.findall(rf'<c r="{ref}"[^>]*>.*?</c>', xml)
            assert 't="s"' in xml_cell and "<f>" not in xml_cell, xml_cell
    # A new action typed into an empty row is kept as text as well.
    empty = ws[f"B{T.action_row(len(WHAT))}"]
    assert empty.value is None and empty.quotePrefix
    empty = ws[f"D{T.action_row(len(WHAT))}"]
    assert empty.value is None and empty.number_format == "@" and empty.quotePrefix


def test_carried_actions_come_back_as_text_in_a_text_format(carried_home):
    home = carried_home
    [m01] = generate(home, NEXT, ["M01"])
    data = m01.read_bytes()
    assert_text_kept(data)
    # The engine reads back the very words (no apostrophe added, nothing evaluated).
    cells = read_return(str(m01))["cells"][T.ACTIONS_SHEET]
    for (what_ref, lead_ref), what, lead in zip(_action_refs(), WHAT, LEAD):
        assert (cells[what_ref], cells[lead_ref]) == (what, lead)


def test_a_derived_workbook_keeps_the_text_format_and_the_bytes_of_a_full_build(carried_home):
    home = carried_home
    bank, network = home.bank(), home.network
    carry = read_carry(home, NEXT, ["M03", "M01"])
    assert not carry["M03"].actions and len(carry["M01"].actions) == len(WHAT)
    month = MonthWorkbooks(network, bank, NEXT)
    tokens = {u: home.token(u, NEXT, bank.version) for u in ("M03", "M01")}
    month.build("M03", tokens["M03"], carry["M03"])
    derived = month.build("M01", tokens["M01"], carry["M01"])
    assert month.full_builds == 1, "M01's workbook is derived from M03's, not built in full"
    assert derived == build_workbook(network, bank, "M01", NEXT, tokens["M01"], carry["M01"])
    assert_text_kept(derived)


@pytest.mark.slow
def test_carried_text_typed_again_in_libreoffice_stays_text(carried_home, libreoffice, tmp_path):
    """The unit types each carried text again (as it is shown) and saves: the engine gets
    the same words back, and checks and scores the return as one written by the engine."""
    home = carried_home
    bank = home.bank()
    [m01] = generate(home, NEXT, ["M01"])
    answers = synthetic_answers(bank, home.network, "M01", NEXT, month_index=1)
    filled = tmp_path / "filled.xlsx"
    filled.write_bytes(fill_workbook(m01.read_bytes(), answers))
    # LibreOffice acts on the Text format, not on the quote prefix, when a cell is typed
    # into: the short columns are typed again here. (Excel keeps a quote-prefixed cell
    # text when it is edited; the What column's quote prefix is checked in the file.)
    typed = [
        {"sheet": T.ACTIONS_SHEET, "cell": lead_ref, "value": lead, "typed": True}
        for (_what_ref, lead_ref), lead in zip(_action_refs(), LEAD)
    ]
    # A new action in the first empty row, typed the same way.
    new_row = T.action_row(len(WHAT))
    typed.append(
        {"sheet": T.ACTIONS_SHEET, "cell": f"B{new_row}", "value": "Weekly check-in", "typed": True}
    )
    typed.append({"sheet": T.ACTIONS_SHEET, "cell": f"D{new_row}", "value": "=1+1", "typed": True})
    reads = [{"sheet": T.ACTIONS_SHEET, "cell": c["cell"]} for c in typed]
    saved = tmp_path / "lo" / T.file_name("M01", NEXT)
    saved.parent.mkdir()
    [res] = libreoffice.fill(
        [{"src": str(filled), "dst": str(saved), "cells": typed, "read": reads}]
    )
    assert res["ok"], res
    assert [c["status"] for c in res["cells"]] == ["typed"] * len(typed)
    for spec, got in zip(typed, res["read"]):
        assert (got["type"], got["string"]) == ("TEXT", spec["value"]), got

    with Intake(home) as intake:
        by_lo, by_engine = intake.validate(saved), intake.validate(filled)
    assert by_lo.valid and by_engine.valid
    actions = [(a.ref, a.what, a.lead, a.status) for a in by_lo.ret.actions]
    carried = [(a.ref, a.what, a.lead, a.status) for a in by_engine.ret.actions]
    assert carried == [
        (f"{MONTH}.{i + 1}", w, ld, "In progress") for i, (w, ld) in enumerate(zip(WHAT, LEAD))
    ]
    new_action = (f"{NEXT}.{len(WHAT) + 1}", "Weekly check-in", "=1+1", "Not started")
    assert actions == [*carried, new_action]
    # Checked and scored as the same return written by the engine.
    assert by_lo.scores == by_engine.scores

    def codes(v):
        return sorted((f.code, f.severity, f.sheet, f.cell) for f in v.findings)

    new = (f"B{new_row}", f"D{new_row}")
    assert [c for c in codes(by_lo) if c[3] not in new] == codes(by_engine)

"""The spreadsheet checklist: each rule is caught when broken, by both readers."""

from __future__ import annotations

import io

import pytest
import xlsxwriter

from engine.home import Network, ScaleLabel, Unit
from engine.outputs.checklist import RULES, broken, check_book, check_file
from engine.outputs.common import cover
from engine.outputs.sheets import Book, presentation, put

from .conftest import PERIOD


class _Data:
    """Just enough of PeriodData for a Book and its cover."""

    def __init__(self):
        self.network = Network(
            name="Test Network",
            units=(Unit("M01", "Ward One"),),
            scale=(ScaleLabel("Met", 2, True), ScaleLabel("Not met", 0, True)),
            contact="The network lead: lead@example.org",
        )
        self.period = PERIOD
        self.month = "November 2026"
        self.labels = {"Met": "best", "Not met": "worst"}
        self.received_up_to = "2026-11-20"

    def rag_rule(self):
        return "Green 80% or more"

    def scale_rule(self):
        return "Met 2 points, Not met 0"

    def standard_rule(self):
        return "Met 100%, Not met 0%"


def _book() -> Book:
    data = _Data()
    return Book(data, "A test workbook", cover(data, "A test workbook", "What it is."))


def _good(book: Book):
    ws = book.sheet("Scores", "Scores by unit")
    put(ws, 0, 0, "Scores " + book.note("Scores are percentages."), book.f.title)
    row = book.table(ws, 2, 0, ["Unit", "Score %", "RAG"], 2, "Scores")
    for unit, score, rag in (("M01", 85.0, "Green"), ("M02", None, None)):
        put(ws, row, 0, unit, book.f.cell)
        put(ws, row, 1, score if score is not None else "[x]", book.f.pct)
        put(ws, row, 2, rag or "[x]", book.f.cell)
        row += 1
    chart = book.wb.add_chart({"type": "bar"})
    chart.add_series({"values": ["Scores", 3, 1, 4, 1], "categories": ["Scores", 3, 0, 4, 0]})
    return ws, chart


def _keys(results) -> set[str]:
    return {r.key for r in broken(results)}


def _both(book: Book) -> tuple[set[str], set[str]]:
    model = _keys(check_book(book))
    data = book.close()
    return model, _keys(check_file(data, presentation()["colours"]["header_fill"]))


def test_a_workbook_that_keeps_every_rule_passes_both_readers():
    book = _book()
    ws, chart = _good(book)
    book.insert_chart(ws, 6, 0, chart, "A bar chart of each unit's score: M01 85%.")
    model, found = _both(book)
    assert model == set() and found == set()
    assert len(RULES) == 10


@pytest.mark.parametrize(
    "breakage, rule",
    [
        ("merge", "merged"),
        ("blank", "blanks"),
        ("no-alt", "alt-text"),
        ("star", "notes"),
        ("missing-note", "notes"),
        ("loose-header", "tables"),
        ("frozen", "a1"),
        ("no-title", "titles"),
    ],
)
def test_each_broken_rule_is_caught_by_both_readers(breakage, rule):
    book = _book()
    ws, chart = _good(book)
    alt = "A bar chart of each unit's score."
    if breakage == "merge":
        # XlsxWriter refuses merge_range() over a table; a merge recorded any other way
        # (or made by another program) must still be caught.
        with pytest.raises(xlsxwriter.exceptions.OverlappingRange):
            ws.merge_range(3, 1, 3, 2, "", book.f.cell)
        ws.merge.append([3, 1, 3, 2])
    elif breakage == "blank":
        ws.write_blank(4, 2, None, book.f.cell)
    elif breakage == "no-alt":
        alt = ""
    elif breakage == "star":
        put(ws, 8, 0, "Figures are provisional *", book.f.text)
    elif breakage == "missing-note":
        put(ws, 8, 0, "See [note 7]", book.f.text)
    elif breakage == "loose-header":
        put(ws, 10, 0, "A header outside any table", book.f.header)
    elif breakage == "frozen":
        ws.freeze_panes(3, 0)
    elif breakage == "no-title":
        other = book.sheet("Empty", "Nothing")
        put(other, 2, 0, 1, book.f.cell)
    if alt:
        book.insert_chart(ws, 6, 0, chart, alt)
    else:
        ws.insert_chart(6, 0, chart)
    model, found = _both(book)
    assert rule in model, model
    assert rule in found, found


def test_the_notes_sheet_records_the_check():
    from openpyxl import load_workbook

    book = _book()
    ws, chart = _good(book)
    ws.insert_chart(6, 0, chart)  # no alt text: one rule broken
    data = book.close()
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames[:3] == ["Cover", "Contents", "Notes"]
    text = [c for row in wb["Notes"].iter_rows(values_only=True) for c in row if c]
    assert any("9 of 10 rules met" in str(t) for t in text), text
    assert "Scores are percentages." in text
    cover_text = [c for row in wb["Cover"].iter_rows(values_only=True) for c in row if c]
    assert "The network lead: lead@example.org" in cover_text
    assert any("December 2026" in str(t) for t in cover_text)  # the next edition


def test_a_foreign_workbook_breaks_the_front_rules():
    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer, {"in_memory": True})
    wb.add_worksheet("Data").write(0, 0, "x")
    wb.close()
    found = _keys(check_file(buffer.getvalue()))
    assert {"order", "contents", "language"} <= found

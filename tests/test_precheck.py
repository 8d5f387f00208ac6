"""The safety pre-check: good workbooks pass, every hostile file is refused plainly."""

from __future__ import annotations

import datetime as dt
import logging
import random
import re
import tracemalloc
import zipfile
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from engine.findings import ERROR
from engine.precheck import (
    EXPORT_FROM_NUMBERS,
    SAVE_AS_XLSX,
    SAVE_AS_XLSX_FROM_ODS,
    precheck,
)
from engine.synthetic import fill_workbook, synthetic_answers
from engine.workbook import build_workbook
from tests.hostile import CASE_NAMES, ZERO_BOMB_SIZE, Case, build_corpus, rezip

CODES = {
    "file-empty",
    "file-too-large",
    "file-unreadable",
    "not-a-spreadsheet",
    "old-xls-format",
    "save-as-xlsx",
    "workbook-encrypted",
    "macro-enabled",
    "not-a-workbook",
    "file-truncated",
    "zip-bomb",
    "zip-corrupt",
    "cell-out-of-range",
    "xml-doctype",
    "too-many-parts",
}
PYTHON_NOISE = re.compile(
    r"Traceback|Error\b|Exception|errno|BadZip|zipfile|zlib|\bstruct\b|\bNone\b|\\x[0-9a-f]{2}"
)
FIRST_SHEET = "Start here"  # the hostile cases edit the first sheet


@pytest.fixture(scope="session")
def good_xlsx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small valid workbook: three sheets, everything within A1:F20, shared strings."""
    path = tmp_path_factory.mktemp("good") / "good.xlsx"
    wb = xlsxwriter.Workbook(path, {"strings_to_formulas": False, "strings_to_urls": False})
    wb.set_properties({"created": dt.datetime(2026, 1, 1)})
    bold = wb.add_format({"bold": True})
    start = wb.add_worksheet(FIRST_SHEET)
    start.merge_range("A1:F1", "SeQuIn return", bold)
    start.write_string("A3", "Fill in one sheet per area.")
    area = wb.add_worksheet("1 Involvement")
    for row in range(20):
        for col in range(6):
            if col == 3:
                area.write_string(row, col, ("Met", "Partly met", "Not met", "N/A")[row % 4])
            else:
                area.write_string(row, col, f"Standard {row + 1}, column {col + 1}")
    area.write_number("F20", 42)
    area.data_validation("D6:D15", {"validate": "list", "source": "=Lists!$A$1:$A$4"})
    area.protect()
    lists = wb.add_worksheet("Lists")
    lists.write_column("A1", ["Met", "Partly met", "Not met", "N/A"])
    lists.hide()
    wb.close()
    return path


@pytest.fixture(scope="session")
def corpus(good_xlsx: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Case]:
    cases = build_corpus(good_xlsx, tmp_path_factory.mktemp("corpus"))
    return {case.name: case for case in cases}


def test_good_workbook_passes(good_xlsx: Path) -> None:
    assert precheck(good_xlsx) == []


def test_corpus_has_every_case(corpus: dict[str, Case]) -> None:
    assert list(corpus) == list(CASE_NAMES)
    assert {case.expected_code for case in corpus.values()} == CODES - {
        "file-too-large",
        "file-unreadable",
    }


@pytest.mark.parametrize("name", CASE_NAMES)
def test_hostile_file_is_refused(corpus: dict[str, Case], name: str) -> None:
    case = corpus[name]
    findings = precheck(case.path)
    assert [f.code for f in findings] == [case.expected_code]
    finding = findings[0]
    assert finding.severity == ERROR
    assert len(finding.message) > 40 and finding.message.endswith(".")
    assert not PYTHON_NOISE.search(finding.message), finding.message


def test_far_cell_names_sheet_and_cell(corpus: dict[str, Case]) -> None:
    (finding,) = precheck(corpus["far-cell"].path)
    assert (finding.sheet, finding.cell) == (FIRST_SHEET, "XFD1048576")
    assert "XFD1048576" in finding.message and FIRST_SHEET in finding.message


def test_file_over_the_limit_is_refused(good_xlsx: Path) -> None:
    (finding,) = precheck(good_xlsx, max_bytes=1024)
    assert finding.code == "file-too-large"
    assert "NHSmail" in finding.message


def test_missing_file_and_folder_are_refused(tmp_path: Path) -> None:
    assert [f.code for f in precheck(tmp_path / "gone.xlsx")] == ["file-unreadable"]
    assert [f.code for f in precheck(tmp_path)] == ["file-unreadable"]


def test_generated_and_filled_returns_pass(home, tmp_path: Path) -> None:
    bank = home.bank()
    unit = home.network.units[0].code
    blank = build_workbook(
        home.network, bank, unit, "2026-11", home.token(unit, "2026-11", bank.version)
    )
    filled = fill_workbook(blank, synthetic_answers(bank, home.network, unit, "2026-11"))
    for name, data in (("blank.xlsx", blank), ("filled.xlsx", filled)):
        path = tmp_path / name
        path.write_bytes(data)
        assert precheck(path) == [], name


def test_openpyxl_saved_copy_passes(good_xlsx: Path, tmp_path: Path) -> None:
    copy = tmp_path / "openpyxl.xlsx"
    openpyxl.load_workbook(good_xlsx).save(copy)
    assert precheck(copy) == []


@pytest.mark.slow
def test_return_filled_in_libreoffice_passes(home, libreoffice, tmp_path: Path) -> None:
    bank = home.bank()
    area = bank.areas[0]
    sheet = f"{area.index} {area.short_name}"
    unit = home.network.units[0].code
    blank = tmp_path / "blank.xlsx"
    blank.write_bytes(
        build_workbook(
            home.network, bank, unit, "2026-11", home.token(unit, "2026-11", bank.version)
        )
    )
    filled = tmp_path / "filled.xlsx"
    cells = [
        {"sheet": sheet, "cell": "D6", "value": "Met"},
        {"sheet": sheet, "cell": "E6", "value": "Minutes of the community meeting. " * 200},
        {"sheet": sheet, "cell": "D18", "value": "Ward manager"},
        {"sheet": sheet, "cell": "D20", "date": "2026-11-05"},
    ]
    libreoffice.fill([{"src": blank, "dst": filled, "cells": cells}])
    assert precheck(filled) == []


def _mutations(good: bytes, count: int, seed: int = 20261101):
    """Bit flips, truncations, overwrites and insertions, biased towards the zip headers."""
    rng = random.Random(seed)
    for i in range(count):
        data = bytearray(good)
        kind = i % 5
        if kind == 0:
            for _ in range(rng.randint(1, 8)):
                data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        elif kind == 1:
            del data[rng.randrange(1, len(data)) :]
        elif kind == 2:
            start = rng.randrange(len(data))
            data[start : start + rng.randint(1, 64)] = rng.randbytes(rng.randint(1, 64))
        elif kind == 3:
            # The table of contents and end record sit in the last kilobyte or so.
            tail = max(len(data) - 1500, 0)
            for _ in range(rng.randint(1, 4)):
                data[rng.randrange(tail, len(data))] = rng.randrange(256)
        else:
            data = bytearray(good[:4] + rng.randbytes(rng.randint(0, 4096)))
        yield bytes(data)


def _xml_mutations(good: Path, count: int, seed: int = 20261102):
    """Valid zips whose XML parts have tags, quotes and positions broken or inserted."""
    rng = random.Random(seed)
    with zipfile.ZipFile(good) as zf:
        parts = {name: zf.read(name) for name in zf.namelist() if name.endswith((".xml", ".rels"))}
    pieces = [b" r=", b"<c ", b"<row ", b'<x:c r="A1">', b'<dimension ref="']
    pieces += b'< > " \' r=" XFD 1048576 /> : <! &# \x00 A1:'.split()
    for _ in range(count):
        name = rng.choice(sorted(parts))
        data = bytearray(parts[name])
        for _ in range(rng.randint(1, 5)):
            pos = rng.randrange(len(data) + 1)
            if rng.random() < 0.5:
                data[pos:pos] = rng.choice(pieces)
            else:
                del data[pos : pos + rng.randint(1, 20)]
        yield name, bytes(data)


def _assert_plain_answer(findings: list) -> None:
    assert len(findings) <= 1
    for finding in findings:
        assert finding.severity == ERROR and finding.code in CODES
        assert not PYTHON_NOISE.search(finding.message), finding.message


def test_fuzzed_files_never_raise(
    good_xlsx: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "fuzzed.xlsx"
    refused = 0
    with caplog.at_level(logging.ERROR, logger="engine.precheck"):
        for data in _mutations(good_xlsx.read_bytes(), 400):
            path.write_bytes(data)
            findings = precheck(path)
            _assert_plain_answer(findings)
            refused += bool(findings)
        for name, data in _xml_mutations(good_xlsx, 150):
            rezip(good_xlsx, path, {name: data})
            _assert_plain_answer(precheck(path))
    assert not caplog.records, "the pre-check met an input it did not expect"
    assert refused > 300


def test_bombs_are_refused_in_bounded_memory(corpus: dict[str, Case]) -> None:
    peaks = {}
    for case in corpus.values():
        tracemalloc.start()
        try:
            precheck(case.path)
            peaks[case.name] = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert max(peaks.values()) < 100 * 1024 * 1024, peaks
    assert peaks["zip-bomb"] < 10 * 1024 * 1024
    assert peaks["lying-size-bomb"] < 10 * 1024 * 1024


def test_corpus_files_are_the_real_thing(corpus: dict[str, Case]) -> None:
    with zipfile.ZipFile(corpus["zip-bomb"].path) as zf:
        sheet = zf.getinfo("xl/worksheets/sheet1.xml")
        assert sheet.file_size == ZERO_BOMB_SIZE and sheet.compress_size < 2 * 1024 * 1024
        with zf.open(sheet) as stream:
            assert stream.read(1 << 20) == bytes(1 << 20)
    olefile = pytest.importorskip("olefile")
    with olefile.OleFileIO(str(corpus["old-xls"].path)) as ole:
        assert ole.exists("Workbook")
    with olefile.OleFileIO(str(corpus["encrypted"].path)) as ole:
        assert ole.exists("EncryptionInfo") and ole.exists("EncryptedPackage")


# --- other formats: the ratings are intact, so the lead is told how to Save As ----------

SAVED_AS_ADVICE = {
    "old-xls": SAVE_AS_XLSX,
    "xlsb": SAVE_AS_XLSX,
    "excel-2003-xml": SAVE_AS_XLSX,
    "ods": SAVE_AS_XLSX_FROM_ODS,
    "flat-ods": SAVE_AS_XLSX_FROM_ODS,
    "numbers": EXPORT_FROM_NUMBERS,
}
# Asking for the workbook to be filled in (again) is never right from the pre-check: it
# only ever sees the file, and a unit that sent the wrong file still has its ratings.
REFILL = re.compile(r"fill(?:ed)? (?:it )?in (?:and|again)|start again|retype", re.IGNORECASE)


@pytest.mark.parametrize("name", sorted(SAVED_AS_ADVICE))
def test_other_spreadsheet_formats_lead_with_the_save_as_advice(
    corpus: dict[str, Case], name: str
) -> None:
    (finding,) = precheck(corpus[name].path)
    advice = SAVED_AS_ADVICE[name]
    assert finding.message.startswith(advice + " "), finding.message
    assert "nothing needs filling in again" in advice and "\n" not in advice
    assert ".xlsx" in advice and ("Save As" in advice or "Export To > Excel" in advice)


def test_the_advice_names_the_programs_that_open_the_format(corpus: dict[str, Case]) -> None:
    assert SAVE_AS_XLSX_FROM_ODS.startswith("Open this file in LibreOffice or Excel ")
    assert "Excel 2007-365 (.xlsx)" in SAVE_AS_XLSX_FROM_ODS  # LibreOffice's name for it
    assert SAVE_AS_XLSX.startswith("Open this file in Excel or LibreOffice ")
    (ods,) = precheck(corpus["ods"].path)
    assert "(OpenDocument format, .ods)" in ods.message
    (xlsb,) = precheck(corpus["xlsb"].path)
    assert "(.xlsb)" in xlsb.message


@pytest.mark.parametrize("name", CASE_NAMES)
def test_no_message_asks_for_the_workbook_to_be_filled_in_again(
    corpus: dict[str, Case], name: str
) -> None:
    (finding,) = precheck(corpus[name].path)
    assert not REFILL.search(finding.message), finding.message


def test_an_opendocument_text_is_not_taken_for_a_spreadsheet(corpus: dict[str, Case]) -> None:
    (finding,) = precheck(corpus["odt"].path)
    assert finding.code == "not-a-workbook"
    assert "text document" in finding.message and "Save As" not in finding.message
    assert "the .xlsx file they filled in" in finding.message


def test_an_opendocument_file_that_does_not_say_what_it_is(tmp_path: Path) -> None:
    path = tmp_path / "unlabelled.ods"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("META-INF/manifest.xml", "<manifest:manifest/>")
        zf.writestr("content.xml", "<office:document-content/>")
    (finding,) = precheck(path)
    assert finding.code == "not-a-workbook" and "OpenDocument file" in finding.message


def test_an_opendocument_spreadsheet_known_by_its_manifest_alone(
    corpus: dict[str, Case], tmp_path: Path
) -> None:
    path = tmp_path / "no-mimetype.ods"
    rezip(corpus["ods"].path, path, {}, drop=["mimetype"])
    assert [f.code for f in precheck(path)] == ["save-as-xlsx"]


def test_a_damaged_opendocument_file_is_still_named(
    corpus: dict[str, Case], tmp_path: Path
) -> None:
    data = bytearray(corpus["ods"].path.read_bytes())
    at = data.index(b"application/vnd.oasis")
    data[at : at + 4] = b"XXXX"  # the stored mimetype no longer matches its checksum
    path = tmp_path / "damaged.ods"
    path.write_bytes(bytes(data))
    # The mimetype cannot be trusted; the manifest still says what the file is.
    assert [f.code for f in precheck(path)] == ["save-as-xlsx"]


def test_a_zip_holding_the_workbook_says_to_take_it_out(corpus: dict[str, Case]) -> None:
    (finding,) = precheck(corpus["plain-zip"].path)
    assert "Extract All" in finding.message


def test_the_intakes_private_copy_name_is_not_quoted(
    corpus: dict[str, Case], tmp_path: Path
) -> None:
    """The intake pre-checks a copy named by its sha256: never 'its name ends in .xlsx'."""
    copy = tmp_path / ("0123456789abcdef" * 4 + ".xlsx")
    for name in ("old-xls", "pdf-renamed", "odt", "xlsb"):
        copy.write_bytes(corpus[name].path.read_bytes())
        (finding,) = precheck(copy)
        assert "its name ends in" not in finding.message, (name, finding.message)
        # Under its own name, a file that is not what its name says is told so.
        (named,) = precheck(corpus[name].path)
        assert "even though its name ends in .xlsx" in named.message, name
    right = tmp_path / "SeQuIn_M01_2026-11.xls"
    right.write_bytes(corpus["old-xls"].path.read_bytes())
    assert "its name ends in" not in precheck(right)[0].message

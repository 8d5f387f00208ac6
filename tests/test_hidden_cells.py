"""A return reads as a spreadsheet shows it, or is refused: hidden values and text encodings.

Each return here is a real filled-in workbook, changed in its XML the way a
tool (not a spreadsheet program) could change it, and taken in through
``sequin process`` as a lead would: the outcome, the problems report or the
receipt are what is checked.

* A rating cell can keep the shared string Excel and LibreOffice show ("Not met")
  and also carry an inline string ("Met") that python-calamine reads instead;
  the same hides behind a number, FALSE, #N/A, a formula's result or a cell that
  shows nothing. Such a cell is refused with ``changed-outside-spreadsheet``,
  never scored as what nobody sees.
* A sheet saved in UTF-16 reads as every spreadsheet reads it: an Actions sheet
  keeps its actions, an area sheet its standards' wording.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from engine import template as T
from engine.precheck import precheck

from .conftest import PERIOD, full_answers, make_return, report_path
from .hostile import rezip
from .test_fast_reader import reader_sheet_part

CODE = "changed-outside-spreadsheet"
AREA = "1 Involvement"


def process(home, *paths: Path) -> tuple[int, list[dict]]:
    """``sequin process --json --no-outputs``: its exit code and the outcomes."""
    result = CliRunner().invoke(
        main,
        ["process", *map(str, paths), "--json", "--no-outputs", "--home", str(home.root)],
        catch_exceptions=False,
    )
    return result.exit_code, json.loads(result.output)["outcomes"]


def _part(path: Path, sheet: str) -> tuple[str, bytes]:
    with zipfile.ZipFile(path) as z:
        name = reader_sheet_part(z, sheet)
        return name, z.read(name)


def _strings(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as z:
        sst = z.read("xl/sharedStrings.xml").decode("utf-8")
    return [re.sub(r"<[^>]+>", "", item) for item in re.findall(r"<si>(.*?)</si>", sst, re.S)]


def _cell(xml: bytes, ref: str) -> re.Match:
    found = re.search(rb'<c r="' + ref.encode() + rb'"( s="\d+")?( t="s")?><v>(\d+)</v></c>', xml)
    assert found, ref
    return found


def _rewrite_cells(path: Path, dst: Path, sheet: str, cells: dict[str, bytes]) -> Path:
    """A copy of ``path`` whose ``cells`` (ref: the XML after the style) of ``sheet`` are replaced."""
    name, xml = _part(path, sheet)
    for ref, inner in cells.items():
        found = _cell(xml, ref)
        xml = xml.replace(found.group(0), b'<c r="%s"%s%s</c>' % (ref.encode(), found[1], inner))
    return rezip(path, dst, {name: xml})


def _rating(ref: int) -> str:
    return T.answer_cells(ref).rating


def _refused_at(home, outcome: dict, name: str, cell: str) -> None:
    """Rejected for the cell, with a problems report that says what to do, and no score."""
    assert outcome["outcome"] == "rejected" and outcome["scores"] is None, outcome
    [finding] = outcome["findings"]
    assert (finding["code"], finding["sheet"], finding["cell"]) == (CODE, AREA, cell)
    report = report_path(home, name).read_text(encoding="utf-8-sig")
    assert CODE in report and f"cell {cell}" in report
    assert "changed outside a spreadsheet program" in report
    assert "open the return in Excel" in report and "Traceback" not in report


# --- a hidden answer behind what the sheet shows -------------------------------------


def test_a_met_hidden_behind_every_not_met_is_refused_not_scored_green(home, tmp_path):
    """The return shows 60.7 % Amber; with Met hidden behind each Not met it read 100.0 % Green."""
    cells = full_answers(home, "M01")
    bank = home.bank()
    not_met = []
    for area in bank.areas:
        sheet = T.area_sheet_name(area.index, area.short_name)
        for pos in range(len(area.standards)):
            n = (area.index - 1) * 10 + pos
            if n < 3:
                cells[(sheet, _rating(pos))] = "N/A"
            elif n < 3 + 46:  # 46 of the 117 standards that apply: 71 Met, 142 points of 234
                cells[(sheet, _rating(pos))] = "Not met"
                if sheet == AREA:
                    not_met.append(_rating(pos))
    shown = make_return(home, "M01", cells=cells, folder=tmp_path / "shown")
    code, [outcome] = process(home, shown)
    assert code == 0 and outcome["scores"]["overall_percent"] == 60.7
    assert outcome["scores"]["overall_rag"] == "Amber"

    # The same return with an inline "Met" behind every Not met of the first area.
    index = _strings(shown).index("Not met")
    hidden = dict.fromkeys(not_met, b"><v>%d</v><is><t>Met</t></is>" % index)
    name = T.file_name("M02", PERIOD)
    src = make_return(home, "M02", cells=cells, folder=tmp_path / "src")
    _rewrite_cells(src, home.inbox / name, AREA, hidden)
    original = (home.inbox / name).read_bytes()
    code, [outcome] = process(home, home.inbox / name)
    assert code == 1
    _refused_at(home, outcome, name, not_met[0])
    assert (home.inbox / name).read_bytes() == original, "the original is kept untouched"


# What the cell shows in Excel and LibreOffice, and the XML after its style.
HIDDEN = {
    "a number": b"><v>5</v><is><t>Met</t></is>",
    "FALSE": b' t="b"><v>0</v><is><t>Met</t></is>',
    "#N/A": b' t="e"><v>#N/A</v><is><t>Met</t></is>',
    "a formula's result": b' t="str"><f>"Not met"</f><v>Not met</v><is><t>Met</t></is>',
    "nothing, typed as a shared string": b' t="s"><is><t>Met</t></is>',
    "nothing, typed as a number": b"><is><t>Met</t></is>",
    "an inline string's other value": b' t="inlineStr"><v>Not met</v><is><t>Met</t></is>',
}


@pytest.mark.parametrize("shows", list(HIDDEN))
def test_a_met_hidden_behind_any_cell_is_refused(home, tmp_path, shows):
    name = T.file_name("M01", PERIOD)
    src = make_return(
        home, "M01", folder=tmp_path, cells=full_answers(home, "M01", rating="Not met")
    )
    _rewrite_cells(src, home.inbox / name, AREA, {"E6": HIDDEN[shows]})
    code, [outcome] = process(home, home.inbox / name)
    assert code == 1
    _refused_at(home, outcome, name, "E6")


@pytest.mark.parametrize(
    ("what", "value"),
    [
        ("past the end of the table", b"99999"),
        ("a number in another form", b"4.77e2"),
        ("with spaces", b" 12 "),
        ("negative", b"-1"),
    ],
)
def test_a_shared_string_number_that_is_not_one_is_refused(home, tmp_path, what, value):
    name = T.file_name("M01", PERIOD)
    src = make_return(home, "M01", folder=tmp_path)
    _rewrite_cells(src, home.inbox / name, AREA, {"F7": b' t="s"><v>' + value + b"</v>"})
    code, [outcome] = process(home, home.inbox / name)
    assert code == 1
    _refused_at(home, outcome, name, "F7")


def test_a_hidden_value_in_a_cell_the_engine_does_not_read_is_no_reason_to_refuse(home, tmp_path):
    """Row 3 of an area sheet is the template's own text: nothing there is read."""
    name = T.file_name("M01", PERIOD)
    src = make_return(home, "M01", folder=tmp_path)
    _rewrite_cells(src, home.inbox / name, AREA, {"A3": b' t="s"><v>0</v><is><t>x</t></is>'})
    code, [outcome] = process(home, home.inbox / name)
    assert code == 0 and outcome["outcome"] == "accepted", outcome


# --- text encodings ------------------------------------------------------------------

_DECLARATION = re.compile(rb"^<\?xml[^>]*\?>")


def _utf16(xml: bytes, codec: str) -> bytes:
    """The part in UTF-16, with a byte order mark and a declaration naming UTF-16."""
    body = _DECLARATION.sub(b"", xml).decode("utf-8")
    bom = "\ufeff".encode(codec)
    return bom + ('<?xml version="1.0" encoding="UTF-16" standalone="yes"?>' + body).encode(codec)


def _with_actions(home, folder: Path) -> Path:
    from engine.synthetic import synthetic_actions

    cells = full_answers(home, "M01")
    cells.update(synthetic_actions(home.bank(), "M01", PERIOD, count=9))
    return make_return(home, "M01", cells=cells, folder=folder)


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_an_actions_sheet_in_utf16_keeps_its_actions(home, tmp_path, codec):
    src = _with_actions(home, tmp_path / "src")
    part, xml = _part(src, T.ACTIONS_SHEET)
    name = T.file_name("M01", PERIOD)
    rezip(src, home.inbox / name, {part: _utf16(xml, codec)})
    code, [outcome] = process(home, home.inbox / name)
    assert code == 0 and outcome["outcome"] == "accepted", outcome
    assert outcome["findings"] == []
    receipt = report_path(home, name).read_text(encoding="utf-8-sig")
    assert "Actions read: 9 (9 new this month" in receipt


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_an_area_sheet_in_utf16_reads_its_wording_and_ratings(home, tmp_path, codec):
    cells = full_answers(home, "M01")
    cells[(AREA, _rating(0))] = "Partly met"
    cells[(AREA, _rating(1))] = "Not met"
    src = make_return(home, "M01", cells=cells, folder=tmp_path / "src")
    part, xml = _part(src, AREA)
    name = T.file_name("M01", PERIOD)
    rezip(src, home.inbox / name, {part: _utf16(xml, codec)})
    code, [outcome] = process(home, home.inbox / name)
    assert code == 0 and outcome["outcome"] == "accepted", outcome
    assert [f["code"] for f in outcome["findings"]] == []
    assert outcome["scores"]["areas"]["INV"]["percent"] == 85.0


def test_shared_strings_in_utf16_and_a_sheet_in_iso_8859_1_read_their_text(home, tmp_path):
    cells = full_answers(home, "M01")
    cells[(AREA, T.answer_cells(0).evidence)] = "Minutes of the café meeting, £5 vouchers"
    src = make_return(home, "M01", cells=cells, folder=tmp_path / "src")
    part, xml = _part(src, AREA)
    latin = _DECLARATION.sub(b"", xml).decode("utf-8")
    latin = latin.replace(
        '<c r="F7" s="11" t="s">', '<c r="F7" s="11" t="inlineStr"><is><t>Ward café</t></is>', 1
    )
    latin = re.sub(
        r'(<c r="F7" s="11" t="inlineStr"><is><t>Ward café</t></is>)<v>\d+</v>', r"\1", latin
    )
    with zipfile.ZipFile(src) as z:
        sst = z.read("xl/sharedStrings.xml")
    name = T.file_name("M01", PERIOD)
    rezip(
        src,
        home.inbox / name,
        {
            part: b'<?xml version="1.0" encoding="ISO-8859-1"?>' + latin.encode("latin-1"),
            "xl/sharedStrings.xml": _utf16(sst, "utf-16-le"),
        },
    )
    from engine.pipeline import Intake

    with Intake(home) as intake:
        v = intake.validate(home.inbox / name)
    assert [f.code for f in v.findings if f.severity == "error"] == []
    evidence = {a.question_id: a.evidence for a in v.ret.answers}
    assert evidence["INV-01"] == "Minutes of the café meeting, £5 vouchers"
    assert evidence["INV-02"] == "Ward café"


def test_a_sheet_not_in_the_encoding_it_names_is_refused_not_read_as_empty(home, tmp_path):
    src = make_return(home, "M01", folder=tmp_path / "src")
    part, xml = _part(src, AREA)
    name = T.file_name("M01", PERIOD)
    rezip(src, home.inbox / name, {part: xml.replace(b"</sheetData>", b"\xff</sheetData>")})
    code, [outcome] = process(home, home.inbox / name)
    assert code == 1 and outcome["outcome"] == "rejected"
    assert [(f["code"], f["sheet"]) for f in outcome["findings"]] == [(CODE, AREA)]


def test_a_sheet_named_only_in_utf16_parts_is_still_checked_by_the_pre_check(home, tmp_path):
    """Readers follow UTF-16 relationships to a sheet anywhere: the pre-check must too."""
    src = make_return(home, "M01", folder=tmp_path / "src")
    part, xml = _part(src, AREA)
    moved = "xl/elsewhere/area.xml"
    far = xml.replace(
        b"</sheetData>", b'<row r="20000"><c r="A20000"><v>1</v></c></row></sheetData>'
    )
    with zipfile.ZipFile(src) as z:
        rels = z.read("xl/_rels/workbook.xml.rels").replace(
            part.removeprefix("xl/").encode(), b"elsewhere/area.xml"
        )
        types = z.read("[Content_Types].xml").replace(b"/" + part.encode(), b"/" + moved.encode())
    dst = tmp_path / "moved.xlsx"
    rezip(
        src,
        dst,
        {
            "xl/_rels/workbook.xml.rels": _utf16(rels, "utf-16-le"),
            "[Content_Types].xml": _utf16(types, "utf-16-le"),
        },
        add={moved: far},
        drop=(part,),
    )
    [finding] = precheck(dst)
    assert (finding.code, finding.sheet) == ("cell-out-of-range", AREA)
    assert "Row 20000" in finding.message


# --- the fast reader and the thorough check refuse alike ------------------------------

_MAIN = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _prefixed(xml: bytes) -> bytes:
    """The sheet with its cells' tags prefixed: the fast reader leaves it to python-calamine."""
    xml = re.sub(rb"<(/?)(sheetData|row|c|v|f|is|t|r)(?=[\s/>])", rb"<\1x:\2", xml)
    return xml.replace(b"<worksheet ", b'<worksheet xmlns:x="' + _MAIN + b'" ', 1)


def _shared(text: bytes) -> Callable[[bytes, int], tuple[bytes, bytes]]:
    """A cell showing a new shared string ``text`` (the XML of an ``<si>``'s content)."""

    def change(sst: bytes, count: int) -> tuple[bytes, bytes]:
        return sst.replace(b"</sst>", b"<si>" + text + b"</si></sst>"), b' t="s"><v>%d</v>' % count

    return change


UNCLEAR = {
    "a boolean written true": lambda sst, count: (sst, b' t="b"><v>true</v>'),
    "an escape programs decode differently": _shared(b"<t>Minutes seen_x00E9_</t>"),
    "runs whose spaces are not kept": _shared(b"<r><t>Minutes</t></r><r><t> seen</t></r>"),
    "a text number with a decimal point": lambda sst, count: (sst, b' t="s"><v>3.0</v>'),
    "an inline string with an escape": lambda sst, count: (
        sst,
        b' t="inlineStr"><is><t>Minutes_x0041_</t></is>',
    ),
}


@pytest.mark.parametrize("prefixed", [False, True], ids=["plain", "prefixed"])
@pytest.mark.parametrize("what", list(UNCLEAR))
def test_the_fast_reader_and_the_thorough_check_refuse_alike(home, tmp_path, what, prefixed):
    """A plain sheet is read by the fast reader; a prefixed one goes to the thorough check."""
    src = make_return(home, "M01", folder=tmp_path / "src")
    part, xml = _part(src, AREA)
    with zipfile.ZipFile(src) as z:
        sst = z.read("xl/sharedStrings.xml")
    sst, inner = UNCLEAR[what](sst, len(_strings(src)))
    found = _cell(xml, "F8")
    xml = xml.replace(found.group(0), b'<c r="F8"%s%s</c>' % (found[1], inner))
    name = T.file_name("M01", PERIOD)
    rezip(
        src,
        home.inbox / name,
        {part: _prefixed(xml) if prefixed else xml, "xl/sharedStrings.xml": sst},
    )
    code, [outcome] = process(home, home.inbox / name)
    assert code == 1
    _refused_at(home, outcome, name, "F8")

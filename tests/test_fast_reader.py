"""The fast reader (engine/xlsx_fast.py) gives exactly what python-calamine gives, or steps aside.

Every test is differential: the same file is read by the calamine reader
(``engine.reader.read_return``) and by the fast reader from the parts the
pre-check kept, and the two answers must be equal value for value and type
for type (``1.0``, ``1`` and ``True`` are equal in Python, so types are
compared too). Normal files must take the fast path, so the speed-up cannot
silently vanish; every unusual construct must make it fall back to calamine,
with the same answer.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import pytest

from engine import reader, xlsx_fast
from engine import template as T
from engine.precheck import precheck_parts
from engine.sandbox import Sandbox
from engine.synthetic import fill_workbook
from engine.xlsx_fast import CALAMINE, FAST, format_kind, read_parts, read_return_parts

from .conftest import PERIOD, blank_workbook, full_answers, make_return
from .hostile import rezip

# --- comparing ----------------------------------------------------------------------------


def _types(value):
    """The value's shape with the type of every leaf, so 1.0, 1 and True differ."""
    if isinstance(value, dict):
        return {k: _types(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_types(v) for v in value]
    return type(value).__name__


def _expect(path: Path, fast: bool = True) -> dict:
    """Read ``path`` both ways; the answers must be identical, by the path expected."""
    findings, parts = precheck_parts(path)
    assert findings == [], findings
    expected = reader.read_return(str(path))
    got = read_parts(parts)
    if fast:
        assert got is not None, "the fast reader stepped aside on a normal file"
        assert got == expected
        assert _types(got) == _types(expected)
    else:
        assert got is None, "the fast reader read what it should leave to calamine"
    raw, how = read_return_parts(str(path), parts)
    assert how == (FAST if fast else CALAMINE)
    assert raw == expected and _types(raw) == _types(expected)
    return raw


# --- a small hand-made workbook -----------------------------------------------------------

_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_TYPES = (
    _DECL + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/'
    'sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
    'worksheet+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.'
    'openxmlformats-officedocument.spreadsheetml.styles+xml"/><Override PartName="/xl/'
    'sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.'
    'spreadsheetml.sharedStrings+xml"/></Types>'
)
_ROOT_RELS = (
    _DECL + '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
    f'relationships"><Relationship Id="rId1" Type="{_R}/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)


def _book(
    path: Path,
    cells: str = "",
    strings: tuple[str, ...] = (),
    formats: tuple[tuple[int, str], ...] = (),
    xfs: tuple[int, ...] = (0,),
    workbook_pr: str = "",
    sheet_name: str = "Data",
    sheet: str | None = None,
    target: str = "worksheets/sheet1.xml",
) -> Path:
    """A one-sheet workbook; ``cells`` is the XML of the rows (rows 6 on are read as answers)."""
    num_fmts = "".join(
        f'<numFmt numFmtId="{number}" formatCode="{code}"/>' for number, code in formats
    )
    cell_xfs = "".join(f'<xf numFmtId="{n}" fontId="0" fillId="0" borderId="0"/>' for n in xfs)
    styles = (
        f'{_DECL}<styleSheet xmlns="{_NS}"><numFmts count="{len(formats)}">{num_fmts}</numFmts>'
        f'<cellXfs count="{len(xfs)}">{cell_xfs}</cellXfs></styleSheet>'
    )
    sst = f'{_DECL}<sst xmlns="{_NS}" count="{len(strings)}">{"".join(strings)}</sst>'
    workbook = (
        f'{_DECL}<workbook xmlns="{_NS}" xmlns:r="{_R}">{workbook_pr}<sheets>'
        f'<sheet name="{sheet_name}" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    rels = (
        _DECL + '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
        f'relationships"><Relationship Id="rId1" Type="{_R}/worksheet" Target="{target}"/>'
        f'<Relationship Id="rId2" Type="{_R}/styles" Target="styles.xml"/>'
        f'<Relationship Id="rId3" Type="{_R}/sharedStrings" Target="sharedStrings.xml"/>'
        "</Relationships>"
    )
    if sheet is None:
        sheet = f'{_DECL}<worksheet xmlns="{_NS}"><sheetData>{cells}</sheetData></worksheet>'
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", _TYPES)
        z.writestr("_rels/.rels", _ROOT_RELS)
        z.writestr("xl/workbook.xml", workbook)
        z.writestr("xl/_rels/workbook.xml.rels", rels)
        z.writestr("xl/styles.xml", styles)
        z.writestr("xl/sharedStrings.xml", sst)
        z.writestr("xl/" + target.lstrip("/").removeprefix("xl/"), sheet)
    path.write_bytes(buffer.getvalue())
    return path


def _row(number: int, *cells: str) -> str:
    return f'<row r="{number}">{"".join(cells)}</row>'


def _shared(*refs: str) -> str:
    """Cells D6, E6, ... each showing shared string 0, 1, ... in turn."""
    cols = "DEFG"
    return "".join(
        _row(6 + i // 4, *[f'<c r="{cols[i % 4]}{6 + i // 4}" t="s"><v>{i}</v></c>'])
        for i in range(len(refs))
    )


# --- what python-calamine does, and the fast reader with it -------------------------------

_FAST_CELLS = {
    "numbers": _row(
        6,
        '<c r="D6"><v>3</v></c>',
        '<c r="E6" t="n"><v>3.5</v></c>',
        '<c r="F6"><v>-0.25</v></c>',
        '<c r="G6"><v>1E3</v></c>',
    )
    + _row(7, '<c r="D7"><v>-0</v></c>', '<c r="E7"><v>.5</v></c>', '<c r="F7"><v>5.</v></c>'),
    "booleans": _row(
        6,
        '<c r="D6" t="b"><v>1</v></c>',
        '<c r="E6" t="b"><v>0</v></c>',
        '<c r="F6" t="b"><v>true</v></c>',
        '<c r="G6" t="b"><v>false</v></c>',
    ),
    "errors are empty": _row(
        6,
        *[
            f'<c r="{c}6" t="e"><v>{e}</v></c>'
            for c, e in zip("DEFG", ["#DIV/0!", "#N/A", "#NAME?", "#REF!"], strict=True)
        ],
    )
    + _row(
        7,
        *[
            f'<c r="{c}7" t="e"><f>1/0</f><v>{e}</v></c>'
            for c, e in zip("DEF", ["#VALUE!", "#NUM!", "#NULL!"], strict=True)
        ],
    ),
    "formula text with entities and escapes": _row(
        6,
        '<c r="D6" t="str"><f>A1</f><v>a &amp; b &lt;c&gt; &quot;q&quot; &apos;s&apos;</v></c>',
        '<c r="E6" t="str"><v>&#65;&#x42; _x0041_ _x005F_x0041_ _x00e9_ _x20AC_ _X0041_</v></c>',
        '<c r="F6" t="str"><v>  kept  </v></c>',
        '<c r="G6" t="str"><v>&#11;tab&#9;</v></c>',
    ),
    "inline strings": _row(
        6,
        '<c r="D6" t="inlineStr"><is><t> trimmed </t></is></c>',
        '<c r="E6" t="inlineStr"><is><t xml:space="preserve"> kept </t></is></c>',
        '<c r="F6" t="inlineStr"><is><r><t>ri</t></r><r><rPr><b/><sz val="11"/></rPr>'
        '<t xml:space="preserve">ch _x0041_</t></r></is></c>',
        '<c r="G6" t="inlineStr"><is><t>&amp;&#x20AC;_x0009_</t></is></c>',
    ),
    "empty values": _row(
        6,
        '<c r="D6"><v></v></c>',
        '<c r="E6" t="str"><v></v></c>',
        '<c r="F6" s="0"/>',
        '<c r="G6" t="s"><v></v></c>',
    )
    + _row(7, '<c r="D7" t="str"><f>""</f><v/></c>', '<c r="E7"></c>'),
    "formulas": _row(
        6,
        '<c r="D6"><f t="shared" ref="D6:D7" si="0">1+1</f><v>2</v></c>',
        '<c r="E6"><f aca="false">2*2</f><v>4</v></c>',
    )
    + _row(7, '<c r="D7"><f t="shared" si="0"/><v>2</v></c>'),
    "blank after a value keeps the value": _row(
        6, '<c r="D6" t="str"><v>first</v></c>', '<c r="D6" s="0"/>'
    ),
    "cells out of order": _row(7, '<c r="E7" t="str"><v>b</v></c>')
    + _row(6, '<c r="G6" t="str"><v>c</v></c>', '<c r="D6" t="str"><v>a</v></c>'),
    "wording digests and sign-off": _row(
        6, '<c r="B6" t="str"><v> Some  wording\n</v></c>', '<c r="C6" t="b"><v>1</v></c>'
    )
    + _row(3, '<c r="A3" t="str"><v>a title</v></c>')
    + _row(20, '<c r="D20" t="str"><v>signed</v></c>', '<c r="E20" t="str"><v>not read</v></c>'),
}


@pytest.mark.parametrize("case", sorted(_FAST_CELLS))
def test_cells_are_typed_as_calamine_types_them(tmp_path, case):
    _expect(_book(tmp_path / "b.xlsx", _FAST_CELLS[case]))


def test_shared_strings_plain_rich_phonetic_trimmed_and_escaped(tmp_path):
    strings = (
        "<si><t>plain</t></si>",
        '<si><t xml:space="preserve">  kept  </t></si>',
        "<si><t> \ttrimmed\n </t></si>",
        "<si><t>&#32;trimmed after unescaping&#10;</t></si>",
        "<si><t>_x0020_escaped after trimming_x0020_</t></si>",
        "<si><t/></si>",
        '<si><r><t>ri</t></r><r><rPr><b/><color rgb="FFFF0000"/></rPr><t>ch</t></r></si>',
        '<si><r><t xml:space="preserve">a </t></r><r><t> b</t></r></si>',
        "<si><r><t>_x00</t></r><r><t>41_</t></r></si>",
        '<si><t>x</t><rPh sb="0" eb="1"><t>ph</t></rPh><phoneticPr fontId="1"/></si>',
        "<si><t>&lt;&amp;&gt; &#x41;&#66; _x0000_ _xFFFF_ _xD83D_</t></si>",
        "<si><t>\u00a0nbsp\u3000 caf\u00e9 \u2713</t></si>",
    )
    _expect(_book(tmp_path / "b.xlsx", _shared(*strings), strings=strings))


@pytest.mark.parametrize(
    ("formats", "xf"),
    [
        ((), 14),  # a built-in date
        ((), 22),
        ((), 30),
        ((), 57),
        ((), 1),  # built-in numbers
        ((), 10),
        ((), 49),
        (((164, "dd/mm/yyyy"),), 164),
        (((164, "[$-809]dd/mm/yyyy;@"),), 164),
        (((164, "yyyy\\-mm\\-dd"),), 164),
        (((164, "d mmm yyyy"),), 164),
        (((164, "0.0%"),), 164),
        (((164, "General"),), 164),
        (((164, "@"),), 164),
        (((164, "[Red]0;[Blue]-0"),), 164),
        (((164, "&quot;day&quot; 0"),), 164),
        (((164, "\\d0"),), 164),
    ],
)
def test_numbers_and_dates_by_the_cell_style(tmp_path, formats, xf):
    cells = _row(
        6,
        '<c r="D6" s="1"><v>46338</v></c>',
        '<c r="E6" s="1"><v>61</v></c>',
        '<c r="F6" s="1"><v>2958465</v></c>',
        '<c r="G6" s="0"><v>46338</v></c>',
    ) + _row(7, '<c r="D7"><v>46338</v></c>', '<c r="E7" s="9"><v>46338</v></c>')
    _expect(_book(tmp_path / "b.xlsx", cells, formats=formats, xfs=(0, xf)))


_FORMATS = [
    "dd/mm/yyyy",
    "DD/MM/YYYY",
    "[$-809]DD/MM/YYYY",
    "yyyy-mm-dd",
    "mm:ss",
    "h:mm AM/PM",
    "am/pm 0",
    "YYYY",
    "[$-F800]dddd\\, mmmm dd\\, yyyy",
    "0.0%",
    "0",
    "#,##0.00",
    "General",
    "@",
    '"x"0',
    '"day"0',
    "[Red]0",
    "0;[Red]-0",
    "[$£-809]#,##0.00",
    "0.00E+00",
    "# ?/?",
    'General;"d"',
    "\\d0",
    "_d0",
    "[DBNum1]0",
    "A",
    "e",
    "b",
    "0.0_);(0.0)",
    "[h]:mm",
    "[mm]:ss",
    "[s]",
    "[hh]",
    "[Red][h]",
    "a",
    "ap",
    "[a]m",
]


@pytest.mark.parametrize("code", _FORMATS)
def test_custom_number_formats_are_classified_as_calamine_classifies_them(tmp_path, code):
    escaped = code.replace("&", "&amp;").replace('"', "&quot;")
    path = _book(
        tmp_path / "b.xlsx",
        _row(6, '<c r="D6" s="1"><v>46338</v></c>'),
        formats=((164, escaped),),
        xfs=(0, 164),
    )
    value = reader.read_return(str(path))["cells"]["Data"]["D6"]
    kind = format_kind(code)
    if value == 46338.0:
        assert kind == "number"
    elif isinstance(value, dict) and "date" in value:
        assert kind == "date"
    else:
        assert kind == "timedelta"
    _expect(path, fast=kind != "timedelta")


# --- unusual files: the fast reader steps aside, the answer is the same -------------------

_FALLBACK = {
    "prefixed cell": _row(6, f'<x:c xmlns:x="{_NS}" r="D6" t="str"><x:v>x</x:v></x:c>'),
    "cell without position": _row(6, '<c t="str"><v>x</v></c>', '<c t="str"><v>y</v></c>'),
    "attributes in another order": _row(6, '<c t="str" r="D6"><v>x</v></c>'),
    "unknown attribute": _row(6, '<c r="D6" t="str" cm="1"><v>x</v></c>'),
    "ISO date cell": _row(6, '<c r="D6" t="d"><v>2026-11-12T00:00:00</v></c>'),
    "a cell written twice": _row(
        6, '<c r="D6" t="str"><v>first</v></c>', '<c r="D6" t="str"><v>second</v></c>'
    ),
    "comment": _row(6, '<c r="D6" t="str"><v>a<!-- c -->b</v></c>'),
    "CDATA": _row(6, '<c r="D6" t="str"><v><![CDATA[<x>]]></v></c>'),
    "carriage return": _row(6, '<c r="D6" t="str"><v>a\r\nb</v></c>'),
    "number with spaces": _row(6, '<c r="D6"><v> 3</v></c>'),
    "value with attributes": _row(6, '<c r="D6" t="str"><v xml:space="preserve"> x </v></c>'),
    "date with a time": _row(6, '<c r="D6" s="1"><v>46338.5</v></c>'),
    "early date": _row(6, '<c r="D6" s="1"><v>59</v></c>'),
    "time": _row(6, '<c r="D6" s="1"><v>0.25</v></c>'),
}


@pytest.mark.parametrize("case", sorted(_FALLBACK))
def test_unusual_cells_fall_back_to_calamine(tmp_path, case):
    _expect(_book(tmp_path / "b.xlsx", _FALLBACK[case], xfs=(0, 14)), fast=False)


def test_namespace_prefixed_workbook_falls_back(tmp_path):
    sheet = (
        f'{_DECL}<x:worksheet xmlns:x="{_NS}"><x:sheetData><x:row r="6">'
        '<x:c r="D6" t="str"><x:v>prefixed</x:v></x:c></x:row></x:sheetData></x:worksheet>'
    )
    raw = _expect(_book(tmp_path / "b.xlsx", sheet=sheet), fast=False)
    assert raw["cells"]["Data"] == {"D6": "prefixed"}


@pytest.mark.parametrize(
    "kwargs",
    [
        {"workbook_pr": '<workbookPr date1904="1"/>'},
        {"formats": ((100, "0"),), "xfs": (0, 100)},  # a custom format under 164
        {"xfs": (0, 120)},  # a built-in id python-calamine may not know
        {"formats": ((164, "[h]:mm"),), "xfs": (0, 164)},  # an elapsed time
        {"sheet_name": "Data_x0041_"},
        {"target": "/xl/worksheets/sheet1.xml"},
        {"strings": ("<si><t>a</t><t>b</t></si>",)},
        {"strings": ('<si><t xml:space="default"> x </t></si>',)},
        {"strings": ("<si></si>",)},
        {"strings": ("<si><t>_xZZZZ_</t></si>",)},
    ],
    ids=lambda kwargs: next(iter(kwargs)),
)
def test_unusual_workbooks_fall_back_to_calamine(tmp_path, kwargs):
    cells = _row(6, '<c r="D6" s="1"><v>46338</v></c>', '<c r="E6" t="s"><v>0</v></c>')
    kwargs.setdefault("xfs", (0, 14))
    kwargs.setdefault("strings", ("<si><t>s</t></si>",))
    _expect(_book(tmp_path / "b.xlsx", cells, **kwargs), fast=False)


def test_files_calamine_refuses_are_refused_the_same(tmp_path):
    for cells, strings in [
        (_row(6, '<c r="D6" t="b"><v>2</v></c>'), ()),
        (_row(6, '<c r="D6" t="zz"><v>1</v></c>'), ()),
        (_row(6, '<c r="D6" t="e"><v>#SPILL!</v></c>'), ()),
        (_row(6, '<c r="D6" t="s"><v>5</v></c>'), ("<si><t>only</t></si>",)),
        (_row(6, '<c r="D6" t="s"><v>0</v></c>'), ("<si><t>&unknown;</t></si>",)),
    ]:
        path = _book(tmp_path / "b.xlsx", cells, strings=strings)
        findings, parts = precheck_parts(path)
        assert findings == []
        assert read_parts(parts) is None
        with pytest.raises(Exception):  # noqa: B017 - whatever python-calamine raises
            reader.read_return(str(path))
        with pytest.raises(Exception):  # noqa: B017
            read_return_parts(str(path), parts)


def test_no_parts_or_too_large_means_calamine(tmp_path, monkeypatch):
    path = _book(tmp_path / "b.xlsx", _row(6, '<c r="D6" t="str"><v>x</v></c>'))
    raw, how = read_return_parts(str(path), {})
    assert how == CALAMINE and raw == reader.read_return(str(path))
    parts = precheck_parts(path)[1]
    monkeypatch.setattr(xlsx_fast, "FAST_LIMIT", sum(map(len, parts.values())) - 1)
    raw, how = read_return_parts(str(path), parts)
    assert how == CALAMINE and raw == reader.read_return(str(path))
    assert parts == {}  # given back before python-calamine reads


# --- the engine's own workbooks, filled in ------------------------------------------------


def test_generated_returns_filled_in_take_the_fast_path(home):
    for unit, month_index in (("M01", 0), ("M02", 1), ("M03", 2)):
        path = make_return(home, unit, synthetic=True, month_index=month_index, name=f"{unit}.xlsx")
        raw = _expect(path)
        assert raw["saved_at"]


def test_a_return_with_dates_booleans_numbers_and_odd_text(home):
    cells = full_answers(home, "M01")
    sheet = T.area_sheet_name(1, home.bank().areas[0].short_name)
    evidence = [T.answer_cells(pos).evidence for pos in range(4)]
    cells[(sheet, evidence[0])] = "  lead & <trail> _x0041_ \u2713 caf\u00e9 "
    cells[(sheet, evidence[1])] = 3.25
    cells[(sheet, evidence[2])] = dt.date(2026, 11, 30)
    cells[(sheet, evidence[3])] = "line one\nline two\ttab"
    path = make_return(home, "M01", cells=cells)
    raw = _expect(path)
    assert raw["cells"][sheet][T.SIGNOFF_CELLS["date_agreed"]] == {"date": f"{PERIOD}-10"}


def test_a_blank_workbook_and_a_family_form(home, tmp_path):
    (tmp_path / "blank.xlsx").write_bytes(blank_workbook(home, "M01"))
    _expect(tmp_path / "blank.xlsx")
    family = pytest.importorskip("engine.family")
    bank = home.bank()
    token = home.token("M01", PERIOD, bank.version, T.FAMILY_FORM)
    blank = family.build_family_workbook(
        home.network, bank, "M01", PERIOD, token, {a.id: "Green" for a in bank.areas}
    )
    cells = {}
    for area in bank.areas:
        row = T.family_row(area.index)
        cells[(T.FAMILY_SHEET, f"{T.FAMILY_COL_AGREE}{row}")] = "Not sure"
        cells[(T.FAMILY_SHEET, f"{T.FAMILY_COL_COMMENT}{row}")] = f"Comment & {area.index} <ok>"
    (tmp_path / "family.xlsx").write_bytes(fill_workbook(blank, cells))
    raw = _expect(tmp_path / "family.xlsx")
    assert raw["cells"][T.FAMILY_SHEET]


def test_a_return_with_a_prefixed_sheet_falls_back_with_the_same_answer(home, tmp_path):
    good = make_return(home, "M01", folder=tmp_path, name="good.xlsx")
    with zipfile.ZipFile(good) as z:
        target = reader_sheet_part(z, T.area_sheet_name(1, home.bank().areas[0].short_name))
        data = z.read(target)
    prefixed = data.replace(b"<c ", b"<x:c ").replace(b"</c>", b"</x:c>")
    prefixed = prefixed.replace(b"<v>", b"<x:v>").replace(b"</v>", b"</x:v>")
    prefixed = prefixed.replace(b"<worksheet ", f'<worksheet xmlns:x="{_NS}" '.encode(), 1)
    bad = rezip(good, tmp_path / "prefixed.xlsx", {target: prefixed})
    _expect(bad, fast=False)


def reader_sheet_part(z: zipfile.ZipFile, name: str) -> str:
    """The part name of sheet ``name`` in an open workbook (the engine's own layout)."""
    import re

    workbook = z.read("xl/workbook.xml").decode()
    rels = z.read("xl/_rels/workbook.xml.rels").decode()
    escaped = name.replace("&", "&amp;")
    rid = re.search(rf'<sheet name="{re.escape(escaped)}" sheetId="\d+" r:id="(\w+)"', workbook)
    target = re.search(rf'Id="{rid.group(1)}"[^>]*Target="([^"]+)"', rels) or re.search(
        rf'Target="([^"]+)"[^>]*Id="{rid.group(1)}"', rels
    )
    return "xl/" + target.group(1)


# --- the worker ---------------------------------------------------------------------------


def test_the_worker_reads_normal_files_fast_and_unusual_ones_with_calamine(home, tmp_path):
    good = make_return(home, "M01", synthetic=True)
    odd = _book(tmp_path / "odd.xlsx", _FALLBACK["ISO date cell"])
    with Sandbox() as sandbox:
        answer = sandbox.read(good)
        assert answer["read_by"] == FAST
        assert answer["ok"] == _json(reader.read_return(str(good)))
        answer = sandbox.read(odd)
        assert answer["read_by"] == CALAMINE
        assert answer["ok"] == _json(reader.read_return(str(odd)))


def _json(value):
    import json

    return json.loads(json.dumps(value))


# --- a workbook really filled in and saved by LibreOffice ---------------------------------


@pytest.mark.slow
def test_a_return_filled_and_saved_by_libreoffice_takes_the_fast_path(home, libreoffice, tmp_path):
    from engine.generation import generate

    from .test_real_spreadsheet import lo_answers

    [src] = generate(home, PERIOD, ["M03"])
    cells, _ratings = lo_answers(home, "M03")
    sheet = T.area_sheet_name(1, home.bank().areas[0].short_name)
    cells += [
        {"sheet": sheet, "cell": "G6", "value": "=1/0", "typed": True},
        {"sheet": sheet, "cell": "G7", "value": "=1=1", "typed": True},
        {"sheet": sheet, "cell": "G8", "value": 3.25},
        {"sheet": sheet, "cell": "G9", "value": "  lead & <trail> _x0041_ "},
        {"sheet": sheet, "cell": "G10", "value": '="made "&"by a formula"', "typed": True},
        {"sheet": sheet, "cell": "G11", "date": f"{PERIOD}-20"},
    ]
    dst = tmp_path / "lo" / src.name
    dst.parent.mkdir()
    [result] = libreoffice.fill([{"src": str(src), "dst": str(dst), "cells": cells}])
    assert result["ok"], result
    raw = _expect(dst)
    got = raw["cells"][sheet]
    assert got["G7"] is True and got["G8"] == 3.25 and "G6" not in got
    assert got["G9"] == "  lead & <trail> _x0041_ "
    assert got["G11"] == {"date": f"{PERIOD}-20"}
    assert xlsx_fast.read_parts(precheck_parts(dst)[1]) is not None

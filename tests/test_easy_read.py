"""Easy read: a page per ward for its noticeboard, and a page for all the wards.

Built from a small home with three months of returns through the real pipeline.
Every line of the easy-read sheets must have a picture beside it (with alt
text), be in plain words (Flesch reading ease of 70 or more, syllables counted
with the en_GB hyphenation dictionary) without jargon, and the page must print
on one A4 page with every word at 14 pt or more.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import openpyxl
import pytest

from engine import template as T
from engine.home import Home, default_config_text, init_home
from engine.ledger import Ledger
from engine.outputs import easy_read as E
from engine.outputs import pictures as P
from engine.outputs import spc
from engine.outputs.checklist import broken, check_file
from engine.outputs.figures import collect
from engine.outputs.sheets import presentation
from engine.pipeline import Intake

from .conftest import full_answers, make_return
from .conftest_libreoffice import require_pyphen

MONTHS = ("2026-01", "2026-02", "2026-03")
PERIOD = MONTHS[-1]
UNITS = ("M01", "M02", "M03", "L01", "L02")
UNIT_SHEET = presentation()["easy_read"]["unit_sheet"]
ALL_SHEET = presentation()["easy_read"]["all_sheet"]
JARGON = (
    "sequin",
    "network",
    "standard",
    "cpa",
    "co-production",
    "coproduction",
    "benchmark",
    "rag",
    "median",
)
MIN_READING_EASE = 70
MIN_PT = 14.0


def _area_sheet(bank, index: int) -> str:
    area = bank.areas[index]
    return T.area_sheet_name(area.index, area.short_name)


def last_month_cells(home: Home, unit: str) -> dict | None:
    """Hand-made answers for some units in the last month, to reach the longest pages.

    M02: ten parts Met, one Not met, and one with a standard left unrated (not finished):
    the most lines a page can have. L01: everything Met (every part going well), with
    service users not taking part in one area. Others: synthetic answers.
    """
    bank = home.bank()
    if unit == "M02":
        cells = full_answers(home, unit, PERIOD, "Met")
        cells.update(
            {
                k: "Not met"
                for k, v in full_answers(home, unit, PERIOD, "Not met").items()
                if k[0] == _area_sheet(bank, 10) and v == "Not met"
            }
        )
        del cells[(_area_sheet(bank, 11), T.answer_cells(0).rating)]
        return cells
    if unit == "L01":
        cells = full_answers(home, unit, PERIOD, "Met")
        cells[(_area_sheet(bank, 3), T.SIGNOFF_CELLS["service_user"])] = "No"
        return cells
    return None


@pytest.fixture(scope="module")
def easy(tmp_path_factory):
    """A home with three months of returns (L02 missing in the last); the month's figures."""
    root = tmp_path_factory.mktemp("easy") / "home"
    home = init_home(root)
    text = default_config_text().replace("show_unit_names = false", "show_unit_names = true")
    home.config_path.write_text(text, encoding="utf-8")
    home = Home(root)
    with Intake(home) as intake:
        for i, period in enumerate(MONTHS):
            for unit in UNITS:
                last = period == PERIOD
                if last and unit == "L02":
                    continue
                cells = last_month_cells(home, unit) if last else None
                path = make_return(
                    home, unit, period, cells=cells, synthetic=cells is None, month_index=i
                )
                assert intake.process(path).outcome == "accepted"
    ledger = Ledger(home.ledger_path)
    try:
        data = collect(home, ledger, PERIOD)
    finally:
        ledger.close()
    folder = root.parent / "easy_read"
    folder.mkdir()
    books = {}
    for code in data.units:
        path = folder / f"SeQuIn_easy_read_{code}_{PERIOD}.xlsx"
        path.write_bytes(E.unit_easy_read_workbook(data, code))
        books[code] = path
    network = folder / f"SeQuIn_easy_read_{PERIOD}.xlsx"
    network.write_bytes(E.easy_read_workbook(data))
    return home, data, books, network


# --- reading the files ---------------------------------------------------------------------


def sheet_lines(path: Path, sheet: str) -> dict[int, list[str]]:
    """Row number (1-based) -> the texts written in that row of ``sheet``."""
    ws = openpyxl.load_workbook(path)[sheet]
    rows: dict[int, list[str]] = {}
    for row in ws.iter_rows():
        for cell in row:
            if isinstance(cell.value, str) and cell.value.strip():
                rows.setdefault(cell.row, []).append(cell.value)
    return rows


_NS = {
    "xdr": "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
    "main": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
}


def sheet_pictures(path: Path, sheet: str) -> list[tuple[int, int, str, int]]:
    """Every picture on ``sheet``: (row 1-based, column 0-based, alt text, PNG size in bytes)."""
    with zipfile.ZipFile(path) as zf:
        book = ElementTree.fromstring(zf.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
        targets = {r.get("Id"): r.get("Target") for r in rels.findall("rel:Relationship", _NS)}
        rid = next(
            s.get(f"{{{_NS['r']}}}id")
            for s in book.find("main:sheets", _NS)
            if s.get("name") == sheet
        )
        part = "xl/" + targets[rid].lstrip("/").removeprefix("xl/")
        sheet_rels = part.replace("worksheets/", "worksheets/_rels/") + ".rels"
        if sheet_rels not in zf.namelist():
            return []
        drawing = next(
            r.get("Target")
            for r in ElementTree.fromstring(zf.read(sheet_rels)).findall("rel:Relationship", _NS)
            if r.get("Type").endswith("/drawing")
        )
        drawing = "xl/" + drawing.replace("../", "")
        drawing_rels = drawing.replace("drawings/", "drawings/_rels/") + ".rels"
        media = {
            r.get("Id"): "xl/" + r.get("Target").replace("../", "")
            for r in ElementTree.fromstring(zf.read(drawing_rels)).findall("rel:Relationship", _NS)
        }
        root = ElementTree.fromstring(zf.read(drawing))
        out = []
        for anchor in root:
            start = anchor.find("xdr:from", _NS)
            pic = anchor.find("xdr:pic", _NS)
            if start is None or pic is None:
                continue
            props = pic.find("xdr:nvPicPr/xdr:cNvPr", _NS)
            blip = next(el for el in pic.iter() if el.tag.endswith("}blip"))
            png = zf.read(media[blip.get(f"{{{_NS['r']}}}embed")])
            out.append(
                (
                    int(start.find("xdr:row", _NS).text) + 1,
                    int(start.find("xdr:col", _NS).text),
                    props.get("descr") or "",
                    len(png),
                )
            )
        return out


# --- plain words ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hyphenator():
    pyphen = require_pyphen()
    return pyphen.Pyphen(lang="en_GB")


def reading_ease(text: str, dic) -> float:
    """Flesch reading ease: 206.835 - 1.015 words per sentence - 84.6 syllables per word.

    A syllable is a part of a word between hyphenation points of the en_GB dictionary;
    a number is read as one word of one syllable. A line is at least one sentence.
    """
    words = re.findall(r"[A-Za-z]+(?:['’-][A-Za-z]+)*|\d+", text)
    sentences = max(1, len(re.findall(r"[.!?:]+(?=\s|$)", text)))
    syllables = sum(
        1 if w.isdigit() else sum(len(dic.positions(part)) + 1 for part in re.split(r"['’-]", w))
        for w in words
    )
    return 206.835 - 1.015 * len(words) / sentences - 84.6 * syllables / len(words)


def test_reading_ease_formula(hyphenator):
    # One-syllable words in a short sentence read very easily; long words do not.
    assert reading_ease("We did well.", hyphenator) == pytest.approx(206.835 - 1.015 * 3 - 84.6 * 1)
    assert reading_ease("Organisational accountability considerations.", hyphenator) < 0


def all_lines(easy) -> dict[tuple[str, str], list[str]]:
    _home, _data, books, network = easy
    out = {}
    for code, path in books.items():
        for sheet in (UNIT_SHEET, ALL_SHEET):
            out[(code, sheet)] = [t for texts in sheet_lines(path, sheet).values() for t in texts]
    out[("network", ALL_SHEET)] = [
        t for texts in sheet_lines(network, ALL_SHEET).values() for t in texts
    ]
    return out


def test_every_line_is_in_plain_words(easy, hyphenator):
    hard = []
    scores = []
    # A ward's own name heads its page: a name is not a sentence to score.
    names = {u.name for u in easy[1].network.units}
    for where, lines in all_lines(easy).items():
        assert lines, where
        for line in lines:
            if line in names:
                continue
            score = reading_ease(line, hyphenator)
            scores.append(score)
            if score < MIN_READING_EASE:
                hard.append((where, line, round(score)))
    assert not hard, f"lines under {MIN_READING_EASE} reading ease: {hard}"
    assert sum(scores) / len(scores) >= 90  # on the whole, very easy to read


def test_no_jargon_and_no_official_area_names(easy):
    _home, data, _books, _network = easy
    official = {a.name for a in data.areas} | {a.short_name for a in data.areas}
    for where, lines in all_lines(easy).items():
        for line in lines:
            words = set(re.findall(r"[a-z]+(?:-[a-z]+)*", line.lower()))
            found = [j for j in JARGON if j in words or j + "s" in words]
            assert not found, (where, line, found)
            # Official area names (as written, capitals and all) never appear.
            assert not [name for name in official if name in line], (where, line)


# --- pictures -------------------------------------------------------------------------------


def test_every_picture_is_saved_and_redraws_the_same():
    from PIL import Image, ImageChops

    needed = {
        "ward",
        "together",
        "going_well",
        "getting_there",
        "needs_work",
        "calendar",
        "better",
        "worse",
        "same",
        "speech",
        "question",
        "look",
        "plan",
        "not_done",
        "post",
    }
    assert needed <= set(P.PICTURES)
    assert sorted(P.AREA_PICTURES) == sorted(presentation()["easy_read"]["areas"])
    assert set(P.AREA_PICTURES.values()) <= set(P.PICTURES)
    for name, pic in P.PICTURES.items():
        saved = P.picture(name)
        assert saved[:8] == b"\x89PNG\r\n\x1a\n", name
        assert pic.alt.strip().endswith("."), name
        a = Image.open(io.BytesIO(saved)).convert("RGB")
        b = Image.open(io.BytesIO(P.draw(name))).convert("RGB")
        assert a.size == b.size == (240, 240), name
        diff = ImageChops.difference(a, b).convert("L")
        changed = sum(diff.histogram()[41:])
        assert changed <= 0.005 * 240 * 240, (
            f"{name}.png differs from its drawing: run python -m engine.outputs.pictures"
        )
    assert (P.folder() / "LICENCE.md").exists()
    assert {p.name for p in P.folder().glob("*.png")} == {p.file for p in P.PICTURES.values()}


def test_every_picture_a_page_uses_is_shipped(easy):
    _home, data, _books, _network = easy
    pages = [E.unit_lines(data, code) for code in data.units] + [E.network_lines(data)]
    used = {row.picture for rows in pages for row in rows if isinstance(row, E.Line)}
    used |= {
        P.AREA_PICTURES[a]
        for rows in pages
        for row in rows
        if isinstance(row, E.Parts)
        for a in row.areas
    }
    assert {
        "ward",
        "calendar",
        "look",
        "together",
        "going_well",
        "getting_there",
        "needs_work",
        "plan",
        "question",
        "speech",
    } <= used
    for name in used:
        assert P.picture(name)[:4] == b"\x89PNG", name


def test_a_picture_with_alt_text_beside_every_line(easy):
    _home, _data, books, network = easy
    alts = {p.alt for p in P.PICTURES.values()}
    for path in [*books.values(), network]:
        sheets = (UNIT_SHEET, ALL_SHEET) if path != network else (ALL_SHEET,)
        for sheet in sheets:
            lines = sheet_lines(path, sheet)
            pics = sheet_pictures(path, sheet)
            assert lines and pics, (path.name, sheet)
            rows_with_pictures = {row for row, _col, _alt, _size in pics}
            bare = sorted(set(lines) - rows_with_pictures)
            assert not bare, f"{path.name} {sheet}: rows without a picture: {bare}"
            for row, _col, alt, size in pics:
                assert alt in alts, (path.name, sheet, row, alt)
                assert size > 500, (path.name, sheet, row)
            # Parts of ward life: a picture for each, in the column before its words.
            for row, texts in lines.items():
                in_row = [p for p in pics if p[0] == row]
                assert len(in_row) >= len(texts), (path.name, sheet, row, texts)


def test_the_workbooks_meet_the_spreadsheet_checklist(easy):
    _home, _data, books, network = easy
    fill = presentation()["colours"]["header_fill"]
    for path in [*books.values(), network]:
        problems = broken(check_file(path.read_bytes(), fill))
        assert not problems, (path.name, problems)
        wb = openpyxl.load_workbook(path)
        assert wb.sheetnames[:3] == ["Cover", "Contents", "Notes"]
        assert wb.sheetnames[3:] == ([UNIT_SHEET, ALL_SHEET] if path != network else [ALL_SHEET])


# --- what the ward's page says ------------------------------------------------------------


def test_each_ward_page_says_what_the_ward_found(easy):
    home, data, books, _network = easy
    w = presentation()["easy_read"]
    areas = w["areas"]
    for code, path in books.items():
        ws = openpyxl.load_workbook(path)[UNIT_SHEET]
        assert ws["A1"].value == data.network.unit(code).name  # its own name, not a code
        assert home.network.unit(code).name in ws["A1"].value
        text = [t for texts in sheet_lines(path, UNIT_SHEET).values() for t in texts]
        assert w["unit_month"].format(month="March 2026") in text
        assert "We looked at how we do in 12 parts of ward life." in text
        result = data.results[code]
        done = {a: r for a, r in result.areas.items() if r.complete and r.percent is not None}
        # A Green part with an essential standard Not met, or that most families who
        # answered disagree with, is never "going well": it needs a closer look.
        held = {m.area_id for m in data.essentials.get(code, [])}
        held |= {a for a, c in data.family_counts.get(code, {}).items() if c.most_disagree}
        all_green = [a.id for a in data.areas if a.id in done and done[a.id].rag == "Green"]
        green = [a for a in all_green if a not in held]
        look = [a for a in all_green if a in held]
        red = [a.id for a in data.areas if a.id in done and done[a.id].rag == "Red"]
        amber = len(done) - len(all_green) - len(red)
        for key, n in (
            ("going_well", len(green)),
            ("closer_look", len(look)),
            ("getting_there", amber),
            ("needs_work", len(red)),
        ):
            forms = w[key]
            if n or forms["none"]:
                assert forms["none" if n == 0 else "one" if n == 1 else "many"].format(n=n) in text
        # The parts going well, needing a closer look and needing work, in that order.
        shown = [t for t in text if t in areas.values()]
        assert shown == [areas[a] for a in green + look + red]
        # Compared with the ward's own last month: better or worse only when the process
        # control chart says special cause on that side; otherwise about the same.
        before = {p: o for p, o, _r in data.unit_months[code]}[MONTHS[1]]
        diff = result.overall - before
        variation = spc.unit_xmr(data, code).variation
        key = (
            "better"
            if variation == "improvement" and diff > 0
            else "worse"
            if variation == "concern" and diff < 0
            else "same"
        )
        assert w[key] in text, (code, result.overall, before, variation)
        assert w["ask_who"] in text and w["ask_more"] in text


def test_the_longest_page_and_the_all_good_page(easy):
    _home, _data, books, _network = easy
    w = presentation()["easy_read"]
    m02 = [t for texts in sheet_lines(books["M02"], UNIT_SHEET).values() for t in texts]
    assert "10 parts are going well:" in m02
    assert "1 part needs work:" in m02
    assert "1 part was not finished." in m02
    assert w["areas"]["RAS"] in m02  # the part that needs work
    l01 = [t for texts in sheet_lines(books["L01"], UNIT_SHEET).values() for t in texts]
    assert "12 parts are going well:" in l01
    assert "No part needs a lot of work." in l01
    assert w["helped_some"].format(yes=11, n=12) in l01
    assert w["unit_next_all_good"] in l01


def test_the_page_for_all_wards(easy):
    _home, data, books, network = easy
    text = [t for texts in sheet_lines(network, ALL_SHEET).values() for t in texts]
    assert "4 out of 15 wards told us how they did." in text
    w = presentation()["easy_read"]
    share = data.coproduction_share()  # L01 agreed one part without service users
    assert 90 <= share < 100
    assert w["all_helped_nearly_all"] in text
    assert "For most wards, " in " ".join(text)
    # The same page follows each ward's own page.
    for path in books.values():
        assert [t for texts in sheet_lines(path, ALL_SHEET).values() for t in texts] == text


def test_same_figures_give_the_same_bytes(easy):
    _home, data, books, network = easy
    for code, path in books.items():
        assert E.unit_easy_read_workbook(data, code) == path.read_bytes()
    assert E.easy_read_workbook(data) == network.read_bytes()
    with pytest.raises(KeyError):
        E.unit_easy_read_workbook(data, "L02")  # no return this month


def test_printed_at_100_percent_on_a4_portrait(easy):
    _home, _data, books, _network = easy
    for path in books.values():
        wb = openpyxl.load_workbook(path)
        for sheet in (UNIT_SHEET, ALL_SHEET):
            ws = wb[sheet]
            assert ws.page_setup.orientation == "portrait"
            assert ws.page_setup.paperSize in (9, "9")
            assert int(ws.page_setup.scale or 100) == 100
            fit = ws.sheet_properties.pageSetUpPr
            assert fit is None or not fit.fitToPage  # fits by its layout, never shrunk
            sizes = {c.font.sz for r in ws.iter_rows() for c in r if c.value}
            assert min(sizes) >= MIN_PT


# --- printed -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def box_per_point(tmp_path_factory) -> float:
    """Word box height per point of font size for the easy-read font, printed at 100 %."""
    import xlsxwriter
    from conftest_libreoffice import require_libreoffice, require_pdftoppm

    from .test_print import pdf_pages, render

    require_libreoffice()
    require_pdftoppm()
    folder = tmp_path_factory.mktemp("calibrate_easy")
    path = folder / "calibrate.xlsx"
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet()
    ws.set_column(0, 0, 40)
    font = presentation()["fonts"]["name"]
    ws.write_string(
        0, 0, "Calibrate Wordy gyp", wb.add_format({"font_name": font, "font_size": 10})
    )
    ws.set_paper(9)
    ws.set_print_scale(100)
    wb.close()
    words = {w.text: w for page in pdf_pages(render(path, folder)) for w in page.words}
    return words["Calibrate"].height / 10


@pytest.mark.slow
def test_each_page_prints_on_one_a4_page_at_14_pt_or_more(easy, tmp_path, box_per_point):
    from .test_print import flat, pdf_pages, pdf_text, render

    _home, _data, books, _network = easy
    for code, path in books.items():
        pdf = render(path, tmp_path / "pdf")
        pages = pdf_pages(pdf)
        texts = [flat(" ".join(w.text for w in page.words)) for page in pages]
        unit = [t for texts_ in sheet_lines(path, UNIT_SHEET).values() for t in texts_]
        every = [t for texts_ in sheet_lines(path, ALL_SHEET).values() for t in texts_]
        # The last two pages: the ward's page, then the page for all wards, one page each.
        assert texts[-2].startswith(flat(unit[0])), (code, texts[-2][:80])
        assert texts[-1].startswith(flat(every[0])), (code, texts[-1][:80])
        assert len(pages) >= 5
        for page in (pages[-2], pages[-1]):
            assert round(page.width) == 595 and round(page.height) == 842  # A4 portrait
            small = [w.text for w in page.words if w.height / box_per_point < MIN_PT - 0.2]
            assert not small, (code, page.number, small[:10])
            assert min(w.height for w in page.words) / box_per_point >= MIN_PT - 0.2
            assert max(w.x1 for w in page.words) <= page.width - 0.25 * 72
            assert max(w.y1 for w in page.words) <= page.height - 0.3 * 72
        # Every line in full: nothing cut off by a row or a page edge.
        text = pdf_text(pdf)
        cut = [line for line in unit + every if flat(line) not in text]
        assert not cut, (code, cut)
        print(
            code,
            "smallest printed size",
            round(min(w.height for w in pages[-2].words) / box_per_point, 1),
            "pt",
        )


def test_a_month_without_returns(easy, tmp_path):
    home, _data, _books, _network = easy
    ledger = Ledger(home.ledger_path)
    try:
        data = collect(home, ledger, "2026-04")
    finally:
        ledger.close()
    path = tmp_path / "empty.xlsx"
    path.write_bytes(E.easy_read_workbook(data))
    lines = sheet_lines(path, ALL_SHEET)
    text = [t for texts in lines.values() for t in texts]
    assert presentation()["easy_read"]["no_returns"] in text
    assert set(lines) <= {row for row, *_ in sheet_pictures(path, ALL_SHEET)}
    assert not broken(check_file(path.read_bytes(), presentation()["colours"]["header_fill"]))


def longest_page(data) -> list:
    """The most lines a page can have: parts going well, needing a closer look and needing
    work, each on two rows or one, some getting there, and one not finished."""
    ids = [a.id for a in data.areas]
    verdicts = E.Verdicts(
        tuple(ids[:4]), tuple(ids[9:11]), (ids[8],), (ids[11],), look=tuple(ids[4:8])
    )
    rows = E.network_lines(data)
    head = [r for r in rows[:5] if isinstance(r, E.Line)]
    tail = rows[-4:]
    return head + E._verdict_lines(verdicts, presentation()["easy_read"]["all_prefix"]) + tail


@pytest.mark.slow
def test_the_longest_page_still_prints_on_one_page(easy, tmp_path, box_per_point):
    from engine.outputs.sheets import Book

    from .test_print import pdf_pages, render

    _home, data, _books, _network = easy
    rows = longest_page(data)
    assert len(rows) == 19
    book = Book(data, "Longest page", E._cover(data, "Longest page", unit_page=False))
    E.write_page(book, E._Styles(book), ALL_SHEET, "The longest page", rows)
    path = tmp_path / "longest.xlsx"
    path.write_bytes(book.close())
    page = pdf_pages(render(path, tmp_path / "pdf"))[-1]
    text = " ".join(w.text for w in page.words)
    first, last = rows[0].text, rows[-1].text
    assert text.startswith(first) and text.endswith(last), text
    assert min(w.height for w in page.words) / box_per_point >= MIN_PT - 0.2

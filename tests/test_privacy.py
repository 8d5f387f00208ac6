"""Personal data in any spelling stays out of every shared output, and so does a forged return.

An NHS number is written however a keyboard, a phone or a copied letter spells it: in 3-3-4,
5-5 or 4-3-3 groups or one digit at a time, spaced, dotted, dashed, with commas, brackets,
line breaks, no-break or thin spaces. Whatever the spelling it is warned about at its cell and
masked in every output under ``outbox/``. A return whose hidden details were forged
(its token check fails) gives the shared outputs nothing but its file name's unit code.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re
import time
import unicodedata
import zipfile
from pathlib import Path

import openpyxl
import pytest

from engine import template as T
from engine.home import Home
from engine.outputs import refresh_outputs
from engine.pipeline import Intake
from engine.privacy import MASK, find_personal_data, mask_personal_data, nhs_number_valid

from .conftest import PERIOD, full_answers, make_return

DIGITS = "9434765919"  # passes the modulus 11 check
TODAY = dt.date(2026, 11, 1)

# Each separator style an NHS number may be written in: (name, the number so written).
STYLES = [
    ("no separator", "9434765919"),
    ("spaces", "943 476 5919"),
    ("double spaces", "943  476  5919"),
    ("three spaces", "943   476   5919"),
    ("tab", "943\t476\t5919"),
    ("no-break space", "943\u00a0476\u00a05919"),
    ("narrow no-break space", "943\u202f476\u202f5919"),
    ("thin space", "943\u2009476\u20095919"),
    ("figure space", "943\u2007476\u20075919"),
    ("en quad", "943\u2000476\u20005919"),
    ("hair space", "943\u200a476\u200a5919"),
    ("ideographic space", "943\u3000476\u30005919"),
    ("dots", "943.476.5919"),
    ("slashes", "943/476/5919"),
    ("hyphens", "943-476-5919"),
    ("unicode hyphen", "943\u2010476\u20105919"),
    ("non-breaking hyphen", "943\u2011476\u20115919"),
    ("figure dash", "943\u2012476\u20125919"),
    ("en dashes", "943\u2013476\u20135919"),
    ("em dashes", "943\u2014476\u20145919"),
    ("horizontal bar", "943\u2015476\u20155919"),
    ("minus sign", "943\u2212476\u22125919"),
    ("small em dash", "943\ufe58476\ufe585919"),
    ("small hyphen-minus", "943\ufe63476\ufe635919"),
    ("full-width hyphen", "943\uff0d476\uff0d5919"),
    ("spaced en dashes", "943 \u2013 476 \u2013 5919"),
    ("mixed", "943.476 \u2013 5919"),
    ("no-break and slash", "943\u00a0/476/\u00a05919"),
    ("one gap only", "943476 5919"),
    ("full-width digits", "\uff19\uff14\uff13\uff14\uff17\uff16\uff15\uff19\uff11\uff19"),
    # Other groupings, and separators other than spaces, dots, slashes and dashes.
    ("5-5", "94347 65919"),
    ("4-3-3", "9434 765 919"),
    ("2-8", "94 34765919"),
    ("single spaced digits", "9 4 3 4 7 6 5 9 1 9"),
    ("digits in pairs", "94-34-76-59-19"),
    ("commas", "943,476,5919"),
    ("commas and spaces", "943, 476, 5919"),
    ("parentheses", "(943) 476 5919"),
    ("last group in brackets", "943 476 [5919]"),
    ("four spaces", "943    476    5919"),
    ("line breaks", "943\n476\n5919"),
    ("tab and line break", "943\t\n476\n\t5919"),
    ("colons", "943:476:5919"),
    ("underscores", "943_476_5919"),
    ("middle dots", "943\u00b7476\u00b75919"),
    ("spaced bullets", "943 \u2022 476 \u2022 5919"),
    ("four zero-width spaces", "943\u200b\u200b\u200b\u200b476 5919"),
    ("mixed groups and separators", "94 3-4.7 6,5/9 1:9"),
    ("Arabic-Indic digits", "\u0669\u0664\u0663 \u0664\u0667\u0666 \u0665\u0669\u0661\u0669"),
    ("mixed scripts", "943 476 \uff15\uff19\uff11\uff19"),
]

NEAR_MISSES = [
    ("fails modulus 11", "943 476 5918"),
    ("fails modulus 11, no spaces", "9434765918"),
    ("eleven digits", "94347659190"),
    ("eleven digits, led by one", "19434765919"),
    ("phone number", "0161 496 0000"),
    ("phone number, dashed", "0161-496-0000"),
    ("phone number, 5-3-3", "01632 960 001"),
    ("phone number, 5-6", "07700 900123"),
    ("five separators in a gap", "943     476 5919"),
    ("five spaces among single digits", "9 4 3 4 7     6 5 9 1 9"),
    ("letter between groups", "943 476 x 5919"),
    ("two groups", "943 476"),
    ("fails modulus 11, 5-5", "94347 65918"),
    ("fails modulus 11, 4-3-3", "9434 765 918"),
    ("fails modulus 11, commas", "943,476,5918"),
    ("fails modulus 11, single spaced digits", "9 4 3 4 7 6 5 9 1 8"),
    ("eleven digits, 6-5", "194347 65919"),
    ("eleven digits, 5-6", "94347 659190"),
    ("nine digits", "943 476 591"),
]


def _flat(text: str) -> str:
    """Text as a search for the digits sees it: unescaped, folded, every character that is not a
    letter or a digit removed, and digits of every script written as ASCII digits."""
    text = re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", html.unescape(text)))
    if text.isascii():
        return text
    return re.sub(r"\d", lambda m: str(unicodedata.decimal(m.group())), text)


# --- the finder ---------------------------------------------------------------------------------


def test_the_number_used_here_passes_the_check():
    assert nhs_number_valid(DIGITS)
    assert not nhs_number_valid("9434765918")


@pytest.mark.parametrize("written", [w for _n, w in STYLES], ids=[n for n, _w in STYLES])
def test_an_nhs_number_is_found_and_masked_in_every_spelling(written):
    assert _flat(written) == DIGITS
    text = f"Care plan for {written} reviewed"
    spans = find_personal_data(text, TODAY)
    assert spans == [(14, 14 + len(written), "an NHS number")]
    masked = mask_personal_data(text, TODAY)
    assert masked == f"Care plan for {MASK} reviewed"
    assert DIGITS not in _flat(masked)


@pytest.mark.parametrize("written", [w for _n, w in NEAR_MISSES], ids=[n for n, _w in NEAR_MISSES])
def test_near_misses_are_not_flagged(written):
    text = f"Ref {written} noted"
    assert find_personal_data(text, TODAY) == []
    assert mask_personal_data(text, TODAY) == text


def test_a_failing_candidate_does_not_hide_a_valid_number_inside_it():
    # "123 943 4765919": the first 3-3-4 reading (123 943 4765) fails the check and the
    # number starting at 943 still has to be found.
    text = "Ref 123 943 4765919"
    assert mask_personal_data(text, TODAY) == f"Ref 123 {MASK}"


def test_two_numbers_in_one_cell_are_both_masked():
    text = "943.476.5919 and 943\u2013476\u20135919"
    assert mask_personal_data(text, TODAY) == f"{MASK} and {MASK}"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        # Ten digits in whole groups inside a longer chain: masked on their own.
        ("Ref 1 9434765919", f"Ref 1 {MASK}"),
        ("Ref 9434765919 2", f"Ref {MASK} 2"),
        ("Ref 12, 94347 65919", f"Ref 12, {MASK}"),
        ("Ref 0 9 4 3 4 7 6 5 9 1 9", f"Ref 0 {MASK}"),
        # Two numbers written one after the other, each in its own grouping.
        ("943 476 5919 94347 65919", f"{MASK} {MASK}"),
        # A number never starts or ends inside a group of digits written together.
        ("Ref 19434765919 2", "Ref 19434765919 2"),
        ("Ref 943 476 59190", "Ref 943 476 59190"),
        # A letter written against the digits does not stop them counting.
        ("NHS9434765919", f"NHS{MASK}"),
        ("No.943 476 5919.", f"No.{MASK}."),
    ],
)
def test_a_number_is_ten_digits_in_whole_groups_of_a_chain(text, masked):
    assert mask_personal_data(text, TODAY) == masked


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("Ref (943) 476 5919 seen", f"Ref {MASK} seen"),
        ("Ref 943 (476) 5919 seen", f"Ref {MASK} seen"),
        ("Ref 943 476 (5919) seen", f"Ref {MASK} seen"),
        ("Ref (943 476 5919) seen", f"Ref ({MASK}) seen"),
        ("Ref [943 476 5919] seen", f"Ref [{MASK}] seen"),
        ("Ref (943) (476) 5919 seen", f"Ref {MASK} seen"),
        ("Ref [943] [476] [5919] seen", f"Ref {MASK} seen"),
        ("Ref \uff08943\uff09476 5919 seen", f"Ref {MASK} seen"),
    ],
)
def test_a_bracket_half_inside_the_mask_goes_with_its_pair(text, masked):
    assert mask_personal_data(text, TODAY) == masked


# Long cells of digits and separators, each followed by a number to find after them.
LONG_TEXTS = [
    ("one run", "9" * 10_000),
    ("pairs", "12 " * 5_000),
    ("four separators", "1 \t,\n" * 2_500),
    ("five separators", "1     " * 2_000),
    ("date-like", "1/2/" * 2_500),
    ("bracketed", "(1) " * 2_500),
    ("nines", "9 " * 10_000),
]


@pytest.mark.parametrize("text", [t for _n, t in LONG_TEXTS], ids=[n for n, _t in LONG_TEXTS])
def test_long_runs_of_digits_and_separators_are_searched_quickly(text):
    text += " NHS 94347 65919"
    started = time.perf_counter()
    masked = mask_personal_data(text, TODAY)
    assert time.perf_counter() - started < 1.0
    assert masked.endswith(f" NHS {MASK}")


def test_the_check_takes_digits_of_any_script_and_refuses_other_numerals():
    assert nhs_number_valid("\uff19\uff14\uff13\uff14\uff17\uff16\uff15\uff19\uff11\uff19")
    assert not nhs_number_valid("943476591\u00b9")  # a superscript one is no digit
    assert not nhs_number_valid("94347659")


def test_text_without_digits_costs_nothing():
    assert find_personal_data("Minutes of the community meeting seen", TODAY) == []
    assert mask_personal_data("", TODAY) == ""


# --- end to end: a return with the number in every spelling --------------------------------------


def _shared_texts(home: Home) -> dict[str, str]:
    """The text of every shared output: each part of every workbook, each CSV, each image."""
    out = {}
    for path in sorted(p for p in home.outbox.rglob("*") if p.is_file()):
        rel = str(path.relative_to(home.outbox))
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as zf:
                for name in zf.namelist():
                    out[f"{rel}!{name}"] = zf.read(name).decode("utf-8", "replace")
        elif path.suffix == ".csv":
            out[rel] = path.read_text(encoding="utf-8-sig")
        else:
            out[rel] = path.read_bytes().decode("latin-1")
    return out


def _assert_absent(home: Home, *needles: str) -> dict[str, str]:
    texts = _shared_texts(home)
    assert any(k.endswith(".csv") for k in texts) and any(".xlsx!" in k for k in texts)
    for where, text in texts.items():
        flat = _flat(text)
        assert DIGITS not in flat, where
        for needle in needles:
            assert needle not in text and _flat(needle) not in flat, (where, needle)
    return texts


def _sheets(home: Home) -> list[str]:
    return [T.area_sheet_name(a.index, a.short_name) for a in home.bank().areas]


def test_an_nhs_number_in_every_spelling_is_warned_about_and_absent_from_shared_outputs(home):
    sheets = _sheets(home)
    used = -(-len(STYLES) // T.STANDARDS_PER_AREA)  # areas needed to hold every spelling
    slots = [(sheet, pos) for sheet in sheets[:used] for pos in range(T.STANDARDS_PER_AREA)]
    assert len(slots) >= len(STYLES) and used < len(sheets)
    m01 = full_answers(home, "M01")
    placed = {}
    for (sheet, pos), (_name, written) in zip(slots, STYLES):
        cell = T.answer_cells(pos).evidence
        m01[(sheet, cell)] = f"Care plan for {written} seen at review"
        placed[(sheet, cell)] = written
    # An area rated Not met, with the number in the notes: the unit's feedback quotes them.
    weak = sheets[-1]
    for pos, (_name, written) in enumerate(STYLES[-T.STANDARDS_PER_AREA :]):
        ref = T.answer_cells(pos)
        m01[(weak, ref.rating)] = "Not met"
        m01[(weak, ref.notes)] = f"Follow up {written} next month"
        placed[(weak, ref.notes)] = written
    # M02 has not met the first areas, so its feedback offers M01's evidence as ideas.
    m02 = full_answers(home, "M02")
    for sheet in sheets[:used]:
        for pos in range(T.STANDARDS_PER_AREA):
            m02[(sheet, T.answer_cells(pos).rating)] = "Not met"
    paths = [make_return(home, "M01", cells=m01), make_return(home, "M02", cells=m02)]
    with Intake(home) as intake:
        outcomes = intake.process_many(paths)
        assert [o.outcome for o in outcomes] == ["accepted", "accepted"]
        refresh_outputs(home, [PERIOD], ledger=intake.ledger)

    # The lead is told at each cell (the receipt is the lead's, not a shared output).
    warned = {(f.sheet, f.cell) for f in outcomes[0].findings if f.code == "personal-data"}
    assert warned == set(placed)
    receipt = outcomes[0].report.read_text(encoding="utf-8")
    for sheet, cell in placed:
        assert f"[sheet '{sheet}', cell {cell}," in receipt
    assert receipt.count("(personal-data)") == len(placed)

    texts = _assert_absent(home)
    evidence = next(v for k, v in texts.items() if k.endswith(f"evidence_{PERIOD}.csv"))
    masked = [
        r["evidence"]
        for r in csv.DictReader(io.StringIO(evidence))
        if r["evidence"].startswith("Care plan for")
    ]
    assert masked and all(e == f"Care plan for {MASK} seen at review" for e in masked)
    assert len(masked) == len(STYLES)
    network = openpyxl.load_workbook(home.outbox / PERIOD / f"SeQuIn_network_{PERIOD}.xlsx")
    library = {
        c.value
        for row in network["Evidence library"].iter_rows()
        for c in row
        if isinstance(c.value, str) and c.value.startswith("Care plan for")
    }
    assert library == {f"Care plan for {MASK} seen at review"}
    feedback = "".join(v for k, v in texts.items() if "feedback_M01" in k)
    assert f"Your note: Follow up {MASK} next month" in feedback
    ideas = "".join(v for k, v in texts.items() if "feedback_M02" in k)
    assert f"Idea: Care plan for {MASK} seen at review" in ideas


# --- end to end: a return whose hidden details were forged --------------------------------------

FORGED = "Forged Ward 943 476 5919"


def _forge(path: Path, unit_text: str) -> Path:
    wb = openpyxl.load_workbook(path)
    assert wb[T.META_SHEET]["A1"].value == "unit"
    wb[T.META_SHEET]["B1"] = unit_text
    wb.save(path)
    return path


def _completion_units(home: Home) -> list[str]:
    wb = openpyxl.load_workbook(home.outbox / PERIOD / f"SeQuIn_network_{PERIOD}.xlsx")
    ws = wb["Completion"]
    head = next(r for r in range(1, 20) if ws.cell(r, 1).value == "Unit")
    units = []
    for r in range(head + 1, ws.max_row + 1):
        value = ws.cell(r, 1).value
        if value in (None, "", "Co-production by area"):
            break
        units.append(value)
    return units


def _forged_returns(home: Home) -> list[Path]:
    cells = full_answers(home, "M03")
    cells[(_sheets(home)[0], T.answer_cells(0).evidence)] = "Seen for 943.476.5919"
    named = _forge(make_return(home, "M03", cells=cells), FORGED)
    unnamed = _forge(
        make_return(home, "M03", cells=cells, name="return from the ward.xlsx"),
        "Other Ward 943\u00a0476\u00a05919",
    )
    return [make_return(home, "M01"), named, unnamed]


def test_a_forged_return_gives_shared_outputs_nothing_but_its_file_names_unit(home):
    with Intake(home) as intake:
        outcomes = intake.process_many(_forged_returns(home))
        assert [o.outcome for o in outcomes] == ["accepted", "rejected", "rejected"]
        for o in outcomes[1:]:
            assert "token-invalid" in {f.code for f in o.findings}
            for f in o.findings:  # the lead's report does not echo the forged text either
                assert "Ward" not in f.message and DIGITS not in _flat(f.message), f.message
        refresh_outputs(home, [PERIOD], ledger=intake.ledger)

    _assert_absent(home, FORGED, "Forged Ward", "Other Ward")
    units = [u.code for u in home.network.units]
    assert _completion_units(home) == units  # no extra row, M03 shown as rejected
    data = openpyxl.load_workbook(home.outbox / PERIOD / f"SeQuIn_commissioners_{PERIOD}.xlsx")
    names = {
        c.value
        for ws in data.worksheets
        for row in ws.iter_rows()
        for c in row
        if isinstance(c.value, str)
    }
    assert not any("Ward" in n for n in names)


def test_outputs_are_safe_from_a_ledger_that_still_holds_a_forged_unit(home):
    """An older ledger kept the forged unit of a rejected drop, and quoted it in its findings."""
    with Intake(home) as intake:
        outcomes = intake.process_many(_forged_returns(home))
        assert [o.outcome for o in outcomes] == ["accepted", "rejected", "rejected"]
        with intake.ledger.transaction() as db:
            for o in outcomes[1:]:
                db.execute(
                    "UPDATE drops SET unit = ?, period = ? WHERE id = ?",
                    (FORGED, PERIOD, o.drop_id),
                )
                db.execute(
                    "UPDATE findings SET message = ? WHERE drop_id = ? AND code = 'token-invalid'",
                    (
                        f"This workbook's signature does not match unit {FORGED} for {PERIOD}.",
                        o.drop_id,
                    ),
                )
            # and an accepted return filed under a unit the network does not have
            db.execute("UPDATE returns SET unit = ? WHERE unit = 'M01'", ("Other Ward 9434765919",))
        refresh_outputs(home, [PERIOD], ledger=intake.ledger)

    _assert_absent(home, FORGED, "Forged Ward", "Other Ward")
    assert _completion_units(home) == [u.code for u in home.network.units]
    assert not list((home.outbox / PERIOD / "feedback").glob("*Ward*"))

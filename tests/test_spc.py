"""Statistical process control: XmR limits, the four special-cause rules, icons and the SPC sheet.

Every expected figure below is worked out by hand in the comment beside it.
"""

from __future__ import annotations

import io
import re
import zipfile
from types import SimpleNamespace

import pytest
from openpyxl import load_workbook

from engine.outputs import spc
from engine.outputs.checklist import broken, check_file
from engine.outputs.sheets import Book, Cover, presentation

ALTERNATING = [40.0, 80.0] * 6  # mean 60, every moving range 40: limits 60 -/+ 106.4
ALTERNATING_DOWN = [80.0, 40.0] * 6  # the same, ending below the mean
NARROW = [58.0, 62.0] * 6  # mean 60, MR-bar 4: limits 49.36 to 70.64, 2 sigma 7.09


def months(n: int, start: int = 2025) -> list[str]:
    return [f"{start + m // 12}-{m % 12 + 1:02d}" for m in range(n)]


def chart(values, target=80.0):
    return spc.xmr(months(len(values)), values, target)


def rules(x: spc.XmR) -> list[set[tuple[int, bool]]]:
    return [{(s.rule, s.high) for s in p.signals} for p in x.points]


# --- limits ------------------------------------------------------------------------------


def test_limits_from_mean_and_average_moving_range():
    x = chart([50, 54, 52, 56, 58])
    # mean 270 / 5 = 54; moving ranges 4, 2, 4, 2: MR-bar 3; limits 54 -/+ 2.66 * 3 = 7.98
    assert x.mean == pytest.approx(54)
    assert x.mr_bar == pytest.approx(3)
    assert x.upper == pytest.approx(61.98)
    assert x.lower == pytest.approx(46.02)
    assert x.sigma == pytest.approx(3 / 1.128)
    assert (x.trial, x.baseline, x.n) == (True, 5, 5)
    assert rules(x) == [set()] * 5
    assert x.variation == "common"
    assert x.assurance == "misses"  # upper 61.98 < 80


def test_limits_are_fixed_from_the_first_12_points():
    twelve = chart(NARROW)
    later = chart(NARROW + [70, 30, 61])
    assert twelve.trial is False and later.trial is False
    assert later.baseline == 12
    # The later points do not move the mean or the limits.
    assert (later.mean, later.upper, later.lower) == (twelve.mean, twelve.upper, twelve.lower)
    assert later.mean == pytest.approx(60)
    assert later.upper == pytest.approx(70.64)
    assert "fixed from the first 12 months (2025-01 to 2025-12)" in later.summary
    assert "trial" not in later.summary


def test_fewer_than_12_points_give_trial_limits_from_every_point():
    eleven = chart(NARROW[:11])
    # 58, 62, ... 58: mean (6 * 58 + 5 * 62) / 11 = 59.818..., MR-bar 4
    assert eleven.trial is True
    assert eleven.mean == pytest.approx(658 / 11)
    assert eleven.mr_bar == pytest.approx(4)
    assert eleven.summary.endswith("Limits are trial limits (11 months).")
    assert eleven.limit_word == "trial limit"
    assert chart(NARROW).limit_word == "process limit"


def test_missing_months_are_left_out():
    periods = months(6)
    x = spc.xmr(periods, [50, None, 56, None, 52, 60], 80)
    assert [p.period for p in x.points] == ["2025-01", "2025-03", "2025-05", "2025-06"]
    # mean (50 + 56 + 52 + 60) / 4 = 54.5; moving ranges between the months shown: 6, 4, 8
    assert x.mean == pytest.approx(54.5)
    assert x.mr_bar == pytest.approx(6)
    assert x.summary.endswith("Limits are trial limits (4 months).")
    with pytest.raises(ValueError):
        spc.xmr(periods, [50, 51], 80)


def test_fewer_than_two_points_give_no_limits_but_say_why():
    none = spc.xmr(months(3), [None, None, None], 80)
    assert none.n == 0 and not none.has_limits
    assert none.summary == "No months on record, so there is no chart."
    one = spc.xmr(months(3), [None, 72.5, None], 80)
    assert one.n == 1 and not one.has_limits
    assert (one.upper, one.lower, one.variation, one.assurance) == (None, None, "", "")
    assert one.summary.startswith("Only one month on record (2025-02: 72.5%)")
    assert "at least 2 months" in one.summary


def test_a_flat_series_has_limits_equal_to_the_mean():
    x = chart([70.0] * 5)
    assert x.mr_bar == 0
    assert x.mean == x.upper == x.lower == 70
    assert rules(x) == [set()] * 5
    assert x.variation == "common"
    assert x.assurance == "misses"  # upper 70 < 80
    assert chart([70.0] * 5, target=70).assurance == "meets"  # lower 70 >= 70
    assert "the same score" in x.summary
    # Fixed at 70 after 12 flat months, any other score is beyond a limit.
    later = chart([70.0] * 12 + [71, 69])
    assert rules(later)[12:] == [{(1, True)}, {(1, False)}]


def test_limits_shown_are_clipped_to_0_to_100():
    x = chart(ALTERNATING)
    assert x.upper == pytest.approx(166.4) and x.lower == pytest.approx(-46.4)
    assert (x.shown_upper, x.shown_lower) == (100, 0)
    assert x.clipped
    assert not chart(NARROW).clipped


# --- special-cause rules -------------------------------------------------------------------


def test_rule_1_a_point_beyond_a_limit():
    # Limits 49.36 to 70.64 from the first 12.
    x = chart(NARROW + [71, 49, 60])
    assert rules(x)[12:] == [{(1, True)}, {(1, False)}, set()]
    assert x.points[12].rules_text == "Above the upper limit"
    assert x.points[13].rules_text == "Below the lower limit"
    assert x.points[14].rules_text == "None"


def test_rule_2_a_run_of_7_on_one_side_of_the_mean():
    # Mean 60 and wide limits; 65/70 alternate, so no trend and nothing near a limit. The
    # baseline ends below the mean, so the run is the 7 new points.
    run = [65, 70] * 3 + [65]
    x = chart(ALTERNATING_DOWN + run)
    assert rules(x)[:12] == [set()] * 12
    assert rules(x)[12:] == [{(2, True)}] * 7
    assert x.variation == "improvement"
    below = chart(ALTERNATING + [55, 50] * 3 + [55])
    assert rules(below)[12:] == [{(2, False)}] * 7
    assert below.variation == "concern"
    assert rules(chart(ALTERNATING_DOWN + run[:6]))[12:] == [set()] * 6  # 6 are not enough
    # A point on the mean ends a run: 3 above, 60, 4 above.
    on_mean = chart(ALTERNATING_DOWN + [65, 70, 65, 60, 70, 65, 70, 65])
    assert rules(on_mean)[12:] == [set()] * 8


def test_rule_3_a_trend_of_7_rising_or_falling():
    # From the last baseline point (80) down to 54, then 54 < 56 < ... < 66: 7 rising points
    # that cross the mean (60 is on it), so no run; limits are wide.
    rising = [54, 56, 58, 60, 62, 64, 66]
    x = chart(ALTERNATING + rising)
    assert rules(x)[12:] == [{(3, True)}] * 7
    assert x.points[-1].rules_text == "Rising trend"
    assert x.variation == "improvement"
    falling = chart(ALTERNATING[:11] + list(reversed(rising)))  # 40 then 66 > 64 > ... > 54
    assert rules(falling)[11:] == [{(3, False)}] * 7
    assert falling.variation == "concern"
    assert rules(chart(ALTERNATING + rising[:6]))[12:] == [set()] * 6  # 6 are not enough
    # An equal pair ends a trend.
    assert rules(chart(ALTERNATING + [54, 56, 58, 58, 60, 62, 64]))[12:] == [set()] * 7


def test_rule_4_two_of_three_beyond_two_thirds_of_the_way_to_a_limit():
    # Mean 60, sigma 4 / 1.128 = 3.546: beyond 67.09 or below 52.91, inside 49.36 to 70.64.
    x = chart(NARROW + [68, 60, 68])
    assert rules(x)[12:] == [{(4, True)}, set(), {(4, True)}]
    assert x.points[12].rules_text == "2 of 3 near the upper limit"
    assert x.variation == "improvement"
    low = chart(NARROW + [52, 60, 51])
    assert rules(low)[12:] == [{(4, False)}, set(), {(4, False)}]
    assert low.variation == "concern"
    assert rules(chart(NARROW + [68, 60, 60]))[12:] == [set()] * 3  # only 1 of 3
    assert rules(chart(NARROW + [68, 52, 60]))[12:] == [set()] * 3  # not on the same side


def test_several_rules_on_one_point_are_all_named():
    # Rising from 61 above the mean (60): run, trend, and from 68 on near and beyond the limit.
    x = chart(NARROW + [61, 62, 63, 64, 65, 68, 72])
    assert rules(x)[-1] == {(1, True), (2, True), (3, True), (4, True)}
    assert x.points[-1].rules_text == (
        "Above the upper limit; run above the mean; rising trend; 2 of 3 near the upper limit"
    )


def test_variation_when_the_latest_point_has_causes_on_both_sides():
    # Falling for 7 months, all above the mean: a run above (high) and a falling trend (low).
    x = chart(ALTERNATING + [75, 74, 73, 72, 71, 70, 69])
    assert rules(x)[-1] == {(2, True), (3, False)}
    assert x.variation == "concern"
    # A point beyond a limit decides: above the upper limit at the end of a falling trend.
    y = chart(NARROW + [90, 89, 88, 87, 86, 85, 84])
    assert {(1, True), (3, False)} <= rules(y)[-1]
    assert y.variation == "improvement"


# --- icons and summary ---------------------------------------------------------------------


def test_assurance_against_the_target():
    # Limits 49.36 to 70.64.
    meets = spc.xmr(months(12), NARROW, 49)
    assert meets.assurance == "meets"
    assert meets.assurance_text == "✓ Consistently meets the target"
    assert spc.xmr(months(12), NARROW, 49.4).assurance == "hit-and-miss"  # just above lower
    assert spc.xmr(months(12), NARROW, 60).assurance == "hit-and-miss"
    assert spc.xmr(months(12), NARROW, 70.6).assurance == "hit-and-miss"
    misses = spc.xmr(months(12), NARROW, 71)
    assert misses.assurance == "misses"
    assert misses.assurance_text == "✗ Consistently misses the target"
    none = spc.xmr(months(12), NARROW, None)
    assert (none.assurance, none.assurance_text) == ("", "")


def test_icons_have_a_symbol_and_words():
    w = presentation()["spc"]
    assert chart(NARROW + [71]).variation_text == f"▲ {w['improvement']}"
    assert chart(NARROW + [49]).variation_text == f"▼ {w['concern']}"
    assert chart(NARROW).variation_text == "● Common cause variation: no significant change"
    hit = spc.xmr(months(8), [50, 55, 48, 100, 52, 51, 49, 60], 80)
    assert hit.assurance_text == "~ Hit and miss: the target may or may not be met"


def test_summary_is_one_plain_sentence_with_the_limits_kind():
    x = spc.xmr(months(8), [50, 55, 48, 100, 52, 51, 49, 60], 80)
    assert x.summary == (
        "Common cause variation; hit and miss against the 80% target. "
        "Limits are trial limits (8 months)."
    )
    y = chart(NARROW + [49])
    assert y.summary.startswith("Special cause variation: concern; consistently misses the 80%")
    assert spc.xmr(months(3), [50, 51, 52], None).summary == (
        "Common cause variation. Limits are trial limits (3 months)."
    )


# --- the workbook --------------------------------------------------------------------------


def _book() -> Book:
    data = SimpleNamespace(
        period="2026-11",
        month="November 2026",
        network=SimpleNamespace(name="Test network", green=80.0),
        labels={"Met": "best", "Partly met": "middle", "Not met": "worst", "N/A": "na"},
    )
    cover = Cover(
        "SPC test",
        "Process control charts.",
        "November 2026",
        "1 December 2026",
        "January 2027",
        "The network lead",
    )
    return Book(data, "SPC test", cover)


def _blocks():
    fixed = spc.xmr(months(15), NARROW + [71, 60, None], 80)  # 14 months, one special cause
    trial = spc.xmr(months(8), [50, 55, None, 48, 100, 52, 51, 49], 80)  # clipped upper limit
    one = spc.xmr(months(2), [None, 55], 80)
    return [("Overall score", fixed), ("1. Involvement", trial), ("2. Recovery", one)]


def _sheet_book() -> bytes:
    book = _book()
    spc.add_spc_sheet(book, "SPC", "Process control charts", "Process control charts", _blocks())
    return book.close()


def test_spc_sheet_meets_the_spreadsheet_checklist():
    data = _sheet_book()
    assert broken(check_file(data, presentation()["colours"]["header_fill"])) == []
    assert data == _sheet_book()  # same data, same bytes


def test_spc_sheet_tables_charts_and_words():
    data = _sheet_book()
    wb = load_workbook(io.BytesIO(data))
    ws = wb["SPC"]
    assert ws["A1"].value == "Process control charts"
    assert ws["A2"].value.startswith("How to read these charts.")
    tables = {t.displayName: t for t in ws.tables.values()}
    assert len(tables) == 2  # no table for a single month
    texts = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert "Overall score" in texts and "2. Recovery" in texts
    assert any(t.startswith("Only one month on record (2025-02: 55.0%)") for t in texts)
    assert (
        "Variation in the latest month (2026-02, 60.0%): ● Common cause variation: "
        "no significant change." in texts
    )
    assert "Against the target of 80%: ✗ Consistently misses the target." in texts

    fixed, trial = sorted(
        tables.values(), key=lambda t: int(re.sub(r"\D", "", t.ref.split(":")[0]))
    )
    first_row = int(re.sub(r"\D", "", fixed.ref.split(":")[0]))
    headers = [c.value for c in ws[first_row][:7]]
    assert headers == [
        "Month",
        "Score (%)",
        "Mean (%)",
        "Upper process limit (%)",
        "Lower process limit (%)",
        "Target (%)",
        "Special cause",
    ]
    assert fixed.ref.endswith(str(first_row + 14))  # 14 months with a value
    special = [
        (r[0].value, r[6].value, r[7].value)
        for r in ws.iter_rows(min_row=first_row + 1, max_row=first_row + 14)
        if r[6].value != "None"
    ]
    assert special == [("2026-01", "Above the upper limit", 71)]

    trial_row = int(re.sub(r"\D", "", trial.ref.split(":")[0]))
    trial_headers = [c.value for c in ws[trial_row][:7]]
    notes = dict(_notes(wb))
    upper, lower = trial_headers[3], trial_headers[4]
    assert upper.startswith("Upper trial limit (%) [note ") and lower.startswith(
        "Lower trial limit"
    )
    marks = re.findall(r"\[note \d+\]", upper)
    assert [notes[m] for m in marks] == [
        presentation()["spc"]["trial_note"],
        presentation()["spc"]["clipped_note"],
    ]
    assert re.findall(r"\[note \d+\]", lower) == marks[:1]  # the lower limit is not clipped
    row = [c.value for c in ws[trial_row + 4]]  # 2025-05, the 100 % month
    # mean 405 / 7; MR-bar (5 + 7 + 52 + 48 + 1 + 2) / 6; upper 108.8 shown as 100
    mean, mr_bar = 405 / 7, 115 / 6
    assert row[:6] == [
        "2025-05",
        100,
        pytest.approx(mean),
        100,
        pytest.approx(mean - 2.66 * mr_bar),
        80,
    ]

    with zipfile.ZipFile(io.BytesIO(data)) as z:
        charts = sorted(n for n in z.namelist() if re.match(r"xl/charts/chart\d+\.xml", n))
        xml = [z.read(n).decode() for n in charts]
        drawing = z.read("xl/drawings/drawing1.xml").decode()
    assert len(xml) == 2
    assert "Upper process limit" in xml[0] and "trial" not in xml[0]
    assert "Upper trial limit" in xml[1] and "process control chart, trial limits" in xml[1]
    for part, table in zip(xml, (fixed, trial)):
        assert 'prstDash val="dash"' in part
        # The special-cause markers are a series only where the table lists a special cause.
        causes = [r[6].value for r in ws[table.ref][1:]]
        special = any(c != "None" for c in causes)
        assert ("Special cause" in part and 'val="diamond"' in part) == special, causes
    assert (
        'descr="Process control chart of Overall score, 2025-01 to 2026-02 (14 months)' in drawing
    )


def _notes(wb):
    ws = wb["Notes"]
    for row in ws.iter_rows(values_only=True):
        if isinstance(row[0], str) and row[0].startswith("[note"):
            yield row[0], row[1]


def test_blocks_stack_and_return_the_next_free_row():
    book = _book()
    ws = book.sheet("Blocks", "Blocks of our own")
    ws.write_string(0, 0, "Blocks")
    blocks = _blocks()
    first = spc.add_spc_block(book, ws, 2, *blocks[0])
    # heading, 3 lines, a gap, the chart's rows, the header row, 14 months, 2 spare rows
    assert first == 2 + 1 + 3 + 1 + spc.CHART_ROWS + 1 + 14 + 2
    second = spc.add_spc_block(book, ws, first, *blocks[2])
    assert second == first + 3  # heading, the sentence, and a spare row
    assert [t[1] for t in book.tables if t[0] is ws] == [2 + 1 + 3 + 1 + spc.CHART_ROWS]
    assert len(ws.charts) == 1
    book.close()


def test_trial_limits_with_no_target():
    book = _book()
    x = spc.xmr(months(3), [50, 60, 55], None)
    spc.add_spc_sheet(book, "SPC", "Charts", "Charts", [("Overall score", x)])
    data = book.close()
    ws = load_workbook(io.BytesIO(data))["SPC"]
    values = [c.value for row in ws.iter_rows() for c in row]
    assert "[z]" in values  # the target column says it does not apply
    assert not any(isinstance(v, str) and v.startswith("Against the target") for v in values)


# --- the image -----------------------------------------------------------------------------


def test_png_is_the_same_for_the_same_data():
    x = chart(NARROW + [71, 60])
    png = spc.xmr_png(x, "Overall score: process control chart")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert png == spc.xmr_png(x, "Overall score: process control chart")
    assert png != spc.xmr_png(chart(NARROW + [60, 71]), "Overall score: process control chart")
    assert b"Software" not in png
    assert spc.xmr_png(chart([55]), "One month")[:8] == b"\x89PNG\r\n\x1a\n"

"""Statistical process control: XmR limits, the four special-cause rules, periods between
rebase dates, icons, the SPC sheet and the image, as Making Data Count draws and words them.

Every expected figure below is worked out by hand in the comment beside it.
"""

from __future__ import annotations

import io
import re
import zipfile
from types import SimpleNamespace

import pytest
from openpyxl import load_workbook

from engine.errors import ConfigError
from engine.home import default_config_text, parse_network
from engine.outputs import charts as C
from engine.outputs import spc
from engine.outputs.checklist import broken, check_file
from engine.outputs.sheets import Book, Cover, presentation

ALTERNATING = [40.0, 80.0] * 6  # mean 60, every moving range 40: limits 60 -/+ 106.4
ALTERNATING_DOWN = [80.0, 40.0] * 6  # the same, ending below the mean
NARROW = [58.0, 62.0] * 6  # mean 60, MR-bar 4: limits 49.36 to 70.64, 2 sigma 7.09
# The demo's unit L07: a steady climb to 84.9 % against an 80 % target.
L07 = [59.1, 62.3, 65.7, 71.1, 70.3, 71.5, 70.7, 73.3, 75.8, 75.9, 75.2, 76.8, 84.9]


def months(n: int, start: int = 2025) -> list[str]:
    return [f"{start + m // 12}-{m % 12 + 1:02d}" for m in range(n)]


def chart(values, target=80.0, **kw):
    return spc.xmr(months(len(values)), values, target, **kw)


def rules(x: spc.XmR) -> list[set[tuple[int, bool]]]:
    return [{(s.rule, s.high) for s in p.signals} for p in x.points]


def flags(values, mean=60.0, mr_bar=4.0) -> list[set[tuple[int, bool]]]:
    """The rules each value meets against a given mean and MR-bar."""
    spread = 2.66 * mr_bar
    found = spc.special_causes(values, mean, mean + spread, mean - spread, mr_bar / 1.128)
    return [{(s.rule, s.high) for s in f} for f in found]


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
    assert x.assurance == "misses"  # upper 61.98 < 80, and the latest month is common cause


def test_limits_use_every_point_of_the_period_and_screen_large_moving_ranges():
    # Not fixed on the first 12: the 15 months give mean 900 / 15 = 60. Moving ranges: 4 (x 11),
    # 13, 30, 15: average 102 / 14 = 7.29; 30 > 3.267 * 7.29 = 23.8 is left out, so MR-bar is
    # (44 + 13 + 15) / 13 = 72 / 13 = 5.54; limits 60 -/+ 2.66 * 72 / 13 = 45.27 to 74.73.
    x = chart(NARROW + [75, 45, 60])
    assert x.mean == pytest.approx(60)
    assert x.mr_bar == pytest.approx(72 / 13)
    assert x.upper == pytest.approx(60 + 2.66 * 72 / 13)
    assert x.lower == pytest.approx(60 - 2.66 * 72 / 13)
    assert (x.trial, x.baseline, x.phase.screened) == (False, 15, 1)
    assert rules(x)[12:] == [{(1, True)}, {(1, False)}, set()]
    assert x.points[12].rules_text == "Above the upper limit"
    assert x.points[13].rules_text == "Below the lower limit"
    assert "Limits from all 15 months (2025-01 to 2026-03)." in x.summary
    assert "One unusually large month-to-month change" in x.summary
    assert "fixed" not in x.summary
    # Later months move the limits: the first 12 alone give 49.36 to 70.64.
    assert chart(NARROW).upper == pytest.approx(70.64)


def test_under_12_points_the_limits_are_trial_limits_with_a_warning():
    eleven = chart(NARROW[:11])
    # 58, 62, ... 58: mean (6 * 58 + 5 * 62) / 11 = 59.818..., MR-bar 4
    assert eleven.trial is True
    assert eleven.mean == pytest.approx(658 / 11)
    assert eleven.mr_bar == pytest.approx(4)
    assert eleven.summary.endswith(
        "Trial limits from only 11 months (2025-01 to 2025-11): they will move as months are "
        "added, and settle at 12."
    )
    assert eleven.limit_word == "trial limit"
    twelve = chart(NARROW)
    assert twelve.trial is False and twelve.limit_word == "process limit"
    assert twelve.summary.endswith("Limits from all 12 months (2025-01 to 2025-12).")


def test_missing_months_are_left_out():
    periods = months(6)
    x = spc.xmr(periods, [50, None, 56, None, 52, 60], 80)
    assert [p.period for p in x.points] == ["2025-01", "2025-03", "2025-05", "2025-06"]
    # mean (50 + 56 + 52 + 60) / 4 = 54.5; moving ranges between the months shown: 6, 4, 8
    assert x.mean == pytest.approx(54.5)
    assert x.mr_bar == pytest.approx(6)
    assert "Trial limits from only 4 months (2025-01 to 2025-06)" in x.summary
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
    # 12 flat months then 71, 69: moving ranges 0 (x 11), 1, 2, average 3 / 13; the 1 and the
    # 2 are above 3.267 times it and left out, so the limits stay at the mean, 980 / 14 = 70.
    later = chart([70.0] * 12 + [71, 69])
    assert (later.mean, later.mr_bar, later.phase.screened) == (70, 0, 2)
    assert rules(later)[12:] == [{(1, True)}, {(1, False)}]
    assert "the same score" not in later.summary


def test_limits_shown_are_clipped_to_0_to_100():
    x = chart(ALTERNATING)
    assert x.upper == pytest.approx(166.4) and x.lower == pytest.approx(-46.4)
    assert (x.shown_upper, x.shown_lower) == (100, 0)
    assert x.clipped
    assert not chart(NARROW).clipped


# --- the unit at 84.9 % and its first months -----------------------------------------------


def test_a_unit_above_its_upper_limit_is_never_said_to_consistently_miss_the_target():
    # Fixed on its first 12 months (upper limit 76.0 %) it read "Consistently misses the
    # target" at 84.9 %. From all 13: mean 932.6 / 13 = 71.74; moving ranges sum 30.4, average
    # 2.53 (none above 8.28); upper limit 71.74 + 2.66 * 2.53 = 78.48, still below 80, but the
    # latest month is beyond it, so the limits no longer describe the process.
    x = spc.xmr(months(13, 2026)[-13:], L07, 80)
    assert x.mean == pytest.approx(932.6 / 13)
    assert x.upper == pytest.approx(932.6 / 13 + 2.66 * 30.4 / 12)
    assert x.variation == "improvement"
    assert x.assurance == "unstable"
    assert x.assurance_text.startswith("? No assurance yet: the latest month is special cause")
    assert "onsistently misses" not in x.summary
    assert x.summary.startswith(
        "Special cause variation: improvement; no assurance against the 80% target until the "
        "process is stable or rebased."
    )
    how_to_read = presentation()["spc"]["how_to_read"]  # which explains every symbol
    texts = [
        t for t in _texts(_one_block_book("Unit L07: overall score", x)) if t not in how_to_read
    ]
    assert not any("onsistently misses" in t for t in texts)
    assert "Against the target of 80%: ? No assurance yet: the latest month is special cause, " in (
        " ".join(texts)
    )


def test_a_units_first_months_are_not_judged_by_a_narrow_first_year():
    # A gentle climb of 1 a month for a year, then a second year moving up and down by about 7.
    # Fixed on the first year (mean 69.5, MR-bar 1: lower limit 66.84), 64, 65 and 66 were
    # "below the lower limit". From all 24: mean 1676 / 24 = 69.83; moving ranges 1 (x 11) and
    # 9, 8, 6, 7, 10, 7, 5, 9, 10, 7, 4, 2: MR-bar 95 / 23 = 4.13; lower 69.83 - 10.99 = 58.85.
    first = [float(v) for v in range(64, 76)]
    second = [66.0, 74, 68, 75, 65, 72, 67, 76, 66, 73, 69, 71]
    x = chart(first + second)
    assert x.lower == pytest.approx(1676 / 24 - 2.66 * 95 / 23)
    assert not any((1, False) in r for r in rules(x))
    assert all(p.rules_text != "Below the lower limit" for p in x.points[:12])


# --- special-cause rules -------------------------------------------------------------------


def test_rule_1_a_point_beyond_a_limit():
    # Mean 60, MR-bar 4: limits 49.36 to 70.64.
    assert flags([71, 49, 60]) == [{(1, True)}, {(1, False)}, set()]


def test_rule_2_a_run_of_7_on_one_side_of_the_mean():
    # Wide limits (MR-bar 40); 65/70 alternate, so no trend and nothing near a limit.
    run = [65, 70] * 3 + [65]
    assert flags(run, mr_bar=40) == [{(2, True)}] * 7
    assert flags([55, 50] * 3 + [55], mr_bar=40) == [{(2, False)}] * 7
    assert flags(run[:6], mr_bar=40) == [set()] * 6  # 6 are not enough
    # A point on the mean ends a run: 3 above, 60, 4 above.
    assert flags([65, 70, 65, 60, 70, 65, 70, 65], mr_bar=40) == [set()] * 8
    # Through xmr: the baseline ends below the mean (1190 / 19 = 62.6), then 7 above.
    x = chart(ALTERNATING_DOWN + run)
    assert rules(x)[:12] == [set()] * 12
    assert rules(x)[12:] == [{(2, True)}] * 7
    assert x.variation == "improvement"


def test_rule_3_a_trend_of_7_rising_or_falling():
    # 54 < 56 < ... < 66 crosses the mean (60 is on it), so no run; limits are wide.
    rising = [54, 56, 58, 60, 62, 64, 66]
    assert flags(rising, mr_bar=40) == [{(3, True)}] * 7
    assert flags(list(reversed(rising)), mr_bar=40) == [{(3, False)}] * 7
    assert flags(rising[:6], mr_bar=40) == [set()] * 6  # 6 are not enough
    # An equal pair ends a trend.
    assert flags([54, 56, 58, 58, 60, 62, 64], mr_bar=40) == [set()] * 7
    x = chart(ALTERNATING + rising)
    assert rules(x)[12:] == [{(3, True)}] * 7
    assert x.points[-1].rules_text == "Rising trend"
    assert x.variation == "improvement"


def test_rule_4_two_of_three_beyond_two_thirds_of_the_way_to_a_limit():
    # Mean 60, sigma 4 / 1.128 = 3.546: beyond 67.09 or below 52.91, inside 49.36 to 70.64.
    assert flags([68, 60, 68]) == [{(4, True)}, set(), {(4, True)}]
    assert flags([52, 60, 51]) == [{(4, False)}, set(), {(4, False)}]
    assert flags([68, 60, 60]) == [set()] * 3  # only 1 of 3
    assert flags([68, 52, 60]) == [set()] * 3  # not on the same side


def test_several_rules_on_one_point_are_all_named():
    # Rising from 61 above the mean (60): run, trend, and from 68 on near and beyond the limit.
    found = flags([61, 62, 63, 64, 65, 68, 72])
    assert found[-1] == {(1, True), (2, True), (3, True), (4, True)}
    signals = spc.special_causes([61, 62, 63, 64, 65, 68, 72], 60, 70.64, 49.36, 4 / 1.128)
    assert spc.Point("2026-01", 72, tuple(signals[-1])).rules_text == (
        "Above the upper limit; run above the mean; rising trend; 2 of 3 near the upper limit"
    )


def test_variation_when_a_point_has_causes_on_both_sides():
    # Falling while above the mean: a run above (high) and a falling trend (low): a concern.
    both = (spc.Signal(2, True), spc.Signal(3, False))
    assert spc.Point("2026-01", 70, both).variation == "concern"
    # A point beyond a limit decides.
    beyond = (spc.Signal(1, True), spc.Signal(3, False))
    assert spc.Point("2026-01", 90, beyond).variation == "improvement"
    assert spc.Point("2026-01", 60).variation == "common"


# --- periods between rebase dates ----------------------------------------------------------


def test_a_rebased_series_has_a_mean_and_limits_for_each_period():
    # 2025: 70, 72 alternating (mean 71, MR-bar 2: 65.68 to 76.32). From the rebase date
    # 2026-01: 80, 82 alternating for 6 months (mean 81, MR-bar 2: 75.68 to 86.32, trial).
    values = [70.0, 72.0] * 6 + [80.0, 82.0] * 3
    x = chart(values, rebase=["2026-01"])
    first, second = x.phases
    assert (first.first, first.last, first.rebase) == (0, 11, "")
    assert (second.first, second.last, second.rebase) == (12, 17, "2026-01")
    assert (first.mean, first.upper) == (pytest.approx(71), pytest.approx(76.32))
    assert (second.mean, second.upper) == (pytest.approx(81), pytest.approx(86.32))
    assert (x.mean, x.trial, x.baseline) == (pytest.approx(81), True, 6)
    assert rules(x) == [set()] * 18  # each month against its own period's limits
    assert x.assurance == "hit-and-miss"  # 75.68 < 80 < 86.32
    assert "Trial limits from only 6 months since the rebase date 2026-01 (2026-01 to" in (
        x.summary
    )
    assert "The months before the rebase date 2026-01 have their own mean and limits." in (
        x.summary
    )
    # Without the rebase date the 6 new months are all above one set of limits.
    assert all((1, True) in r for r in rules(chart(values))[12:])

    # On the sheet: each month's own mean and limits, and two sets of lines on the chart.
    data = _one_block_book("Overall score", x)
    ws = load_workbook(io.BytesIO(data))["SPC"]
    table = next(iter(ws.tables.values()))
    rows = [[c.value for c in r] for r in ws[table.ref]]
    assert rows[0][2:5] == ["Mean (%)", rows[0][3], rows[0][4]]
    assert rows[0][3].startswith("Upper limit (%) [note")  # process and trial limits both
    assert [r[2] for r in rows[1:]] == [pytest.approx(71)] * 12 + [pytest.approx(81)] * 6
    assert [r[3] for r in rows[1:]] == [pytest.approx(76.32)] * 12 + [pytest.approx(86.32)] * 6
    xml = _charts(data)[0]
    assert xml.count("<c:v>Mean</c:v>") == 2
    assert xml.count("<c:v>Upper limit</c:v>") == 2
    assert xml.count("<c:legendEntry>") == 3  # the second period's lines are not listed twice
    assert "Trial limits from only 6 months since the rebase date 2026-01" in " ".join(_texts(data))


def test_a_rebase_date_starts_the_period_at_the_first_month_on_or_after_it():
    periods = ["2025-10", "2025-11", "2026-01", "2026-02", "2026-03"]
    values = [70, 72, 80, 82, 81]
    x = spc.xmr(periods, values, 80, rebase=["2025-12"])
    assert [(ph.first, ph.last, ph.rebase) for ph in x.phases] == [(0, 1, ""), (2, 4, "2025-12")]
    # Dates before the first month or after the latest start no period.
    assert len(spc.xmr(periods, values, 80, rebase=["2025-01", "2026-04"]).phases) == 1
    # A new period with one month so far: no limits for it yet, but the chart stays.
    y = spc.xmr(periods, values, 80, rebase=["2026-03"])
    assert y.charted and not y.has_limits
    assert (y.variation, y.assurance) == ("", "")
    assert y.summary.startswith("A new period began at the rebase date 2026-03: its limits need")
    texts = _texts(_one_block_book("Overall score", y))
    assert "Latest month: 2026-03, 81.0%." in texts


def test_the_rebase_dates_are_read_from_network_toml_for_the_network_and_for_a_unit():
    text = default_config_text()
    assert "[spc]\nrebase = []" in text  # `sequin init` writes the setting, with its comment
    assert parse_network(text).rebase == ()
    text = text.replace("[spc]\nrebase = []", '[spc]\nrebase = ["2026-04"]')
    text = text.replace('code = "M01"\n', 'code = "M01"\nrebase = ["2026-07", "2025-12"]\n')
    network = parse_network(text)
    assert network.rebase == ("2026-04",)
    assert network.rebase_for("M01") == ("2025-12", "2026-04", "2026-07")
    assert network.rebase_for("M02") == ("2026-04",)
    assert network.rebase_for(None) == ("2026-04",)
    # Wired through to a unit's chart: three rebase dates within its months, four periods.
    data = SimpleNamespace(
        period="2026-11",
        network=network,
        unit_months={"M01": [(p, 70.0 + i % 2, "Amber") for i, p in enumerate(months(23))]},
    )
    assert [ph.rebase for ph in spc.unit_xmr(data, "M01").phases] == [
        "",
        "2025-12",
        "2026-04",
        "2026-07",
    ]
    assert [ph.rebase for ph in spc.unit_xmr(data, "M02").phases] == []  # no months


@pytest.mark.parametrize(
    "setting, message",
    [
        ('[spc]\nrebase = "2026-04"', r"\[spc\] rebase must be a list of months written YYYY-MM"),
        ('[spc]\nrebase = ["2026-4"]', r"\[spc\] rebase: '2026-4' is not a month written YYYY-MM"),
        ('[spc]\nrebase = ["2026-04", "2026-04"]', r"\[spc\] rebase: 2026-04 is listed twice"),
        ("[spc]\nrebase = [202604]", r"\[spc\] rebase: 202604 is not a month"),
    ],
)
def test_a_wrong_rebase_setting_is_refused_with_a_clear_error(setting, message):
    text = default_config_text().replace("[spc]\nrebase = []", setting)
    with pytest.raises(ConfigError, match=message) as caught:
        parse_network(text, "network.toml")
    assert str(caught.value).startswith("network.toml: ")
    unit = default_config_text().replace('code = "M03"\n', 'code = "M03"\nrebase = ["April"]\n')
    with pytest.raises(ConfigError, match="unit M03 rebase: 'April' is not a month"):
        parse_network(unit)


def test_a_sustained_shift_suggests_a_rebase_date_but_does_not_rebase():
    # 2025 alternates 80, 40; from 2026-01, 7 months of 65 and 70 sit above the mean of all 19,
    # 1190 / 19 = 62.6: a run of 7 at the end.
    x = chart(ALTERNATING_DOWN + [65, 70] * 3 + [65])
    assert len(x.phases) == 1 and x.mean == pytest.approx(1190 / 19)
    assert x.shift_from == "2026-01"
    assert x.summary.endswith(
        "The last 7 months (2026-01 to 2026-07) are all above the mean: a sustained shift. The "
        "engine does not rebase by itself: consider setting a rebase date of 2026-01 in "
        "network.toml if the process changed then."
    )
    assert x.assurance == "unstable"
    # A run that has ended suggests nothing; after rebasing there, the shift is a period.
    assert chart(ALTERNATING_DOWN + [65, 70] * 3 + [65, 40]).shift_from == ""
    rebased = chart(ALTERNATING_DOWN + [65, 70] * 3 + [65], rebase=["2026-01"])
    assert rebased.shift_from == "" and "sustained shift" not in rebased.summary


# --- icons and summary ---------------------------------------------------------------------


def test_assurance_against_the_target():
    # Limits 49.36 to 70.64; the latest month (62) is common cause.
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
    # NARROW + [75]: mean 61.15, MR-bar 57 / 12 = 4.75, upper 73.8: 75 is above it.
    up = chart(NARROW + [75])
    assert up.variation_text == f"▲ {w['improvement']}"
    assert up.assurance_text == f"? {w['unstable']}"
    # NARROW + [45]: the move of 17 is screened out (average 61 / 12 = 5.08, 3.267 x = 16.6),
    # so MR-bar is 4 and the lower limit 58.85 - 10.64 = 48.2: 45 is below it.
    assert chart(NARROW + [45]).variation_text == f"▼ {w['concern']}"
    assert chart(NARROW).variation_text == "● Common cause variation: no significant change"
    hit = spc.xmr(months(8), [50, 55, 48, 100, 52, 51, 49, 60], 80)
    assert hit.assurance_text == "~ Hit and miss: the target may or may not be met"


def test_summary_is_plain_sentences_with_the_limits_kind():
    x = spc.xmr(months(8), [50, 55, 48, 100, 52, 51, 49, 60], 80)
    assert x.summary == (
        "Common cause variation; hit and miss against the 80% target. "
        "Trial limits from only 8 months (2025-01 to 2025-08): they will move as months are "
        "added, and settle at 12."
    )
    y = chart(NARROW + [45])
    assert y.summary.startswith(
        "Special cause variation: concern; no assurance against the 80% target"
    )
    assert spc.xmr(months(3), [50, 51, 52], None).summary.startswith(
        "Common cause variation. Trial limits from only 3 months"
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


def _one_block_book(title: str, x: spc.XmR, compact: bool = False) -> bytes:
    book = _book()
    spc.add_spc_sheet(book, "SPC", "Charts", "Charts", [(title, x)], compact=compact)
    return book.close()


def _texts(data: bytes) -> list[str]:
    ws = load_workbook(io.BytesIO(data))["SPC"]
    return [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]


def _charts(data: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        names = sorted(
            (n for n in z.namelist() if re.match(r"xl/charts/chart\d+\.xml", n)),
            key=lambda n: int(re.sub(r"\D", "", n)),
        )
        return [z.read(n).decode() for n in names]


def _series(xml: str) -> dict[str, str]:
    """Each series of a chart's XML by its name."""
    parts = xml.split("<c:ser>")[1:]
    return {re.search(r"<c:v>([^<]*)</c:v>", p).group(1): p for p in parts}


def _blocks():
    # 14 months: NARROW then 85 and 60. Moving ranges 4 (x 11), 23, 25: average 92 / 13 = 7.08;
    # 25 > 3.267 x 7.08 = 23.1 is left out, MR-bar 67 / 12 = 5.58; mean 865 / 14 = 61.79;
    # upper limit 61.79 + 14.85 = 76.6: 85 is above it.
    fixed = spc.xmr(months(15), NARROW + [85, 60, None], 80)
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
        (r[0].value, r[6].value, r[8].value)  # column I: the chart's improvement markers
        for r in ws.iter_rows(min_row=first_row + 1, max_row=first_row + 14)
        if r[6].value != "None"
    ]
    assert special == [("2026-01", "Above the upper limit", 85)]
    # The chart's own data is in hidden columns after the sheet's.
    hidden = ws.column_dimensions["I"]  # I to N: markers, target, mean and limits
    assert hidden.hidden and (hidden.min, hidden.max) == (9, 14)
    assert not ws.column_dimensions["H"].hidden

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

    xml = _charts(data)
    drawing = zipfile.ZipFile(io.BytesIO(data)).read("xl/drawings/drawing1.xml").decode()
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


def test_improvement_concern_and_common_cause_have_their_own_colours():
    # 75 is above the upper limit (improvement), 45 below the lower (concern); see above.
    x = chart(NARROW + [75, 45, 60])
    pal = presentation()["chart_colours"]
    assert (pal["improvement"], pal["concern"], pal["common"]) == ("#289DE0", "#FAB428", "#7B7D7D")
    for compact in (False, True):
        series = _series(_charts(_one_block_book("Overall score", x, compact))[0])
        assert 'val="289DE0"' in series["Special cause: improvement"]
        assert 'val="FAB428"' in series["Special cause: concern"]
        assert 'val="diamond"' in series["Special cause: concern"]  # a shape, not colour only
        assert 'val="7B7D7D"' in series["Score"]
        for name in ("Score", "Special cause: concern"):
            assert 'val="289DE0"' not in series[name]
    # The words stay beside the colours.
    texts = _texts(_one_block_book("Overall score", x))
    assert "Above the upper limit" in texts and "Below the lower limit" in texts

    from PIL import Image

    image = Image.open(io.BytesIO(spc.xmr_png(x, "Overall score"))).convert("RGB")
    colours = image.getcolors(maxcolors=1 << 20)

    def near(rgb: str) -> int:
        want = tuple(int(rgb[i : i + 2], 16) for i in (1, 3, 5))
        return sum(n for n, c in colours if all(abs(a - b) <= 6 for a, b in zip(c, want)))

    assert near("#289DE0") > 30 and near("#FAB428") > 30 and near("#7B7D7D") > 100


def test_the_value_axis_fits_the_data():
    # Scores 73 and 77 (mean 75, limits 64.36 to 85.64) and the target 80: a margin of a tenth
    # of 85.64 - 64.36, rounded out to steps of 5: 60 % to 90 %, not 0 % to 100 %.
    x = spc.xmr(months(12), [73.0, 77.0] * 6, 80)
    xml = _charts(_one_block_book("Overall score", x))[0]
    val_axis = xml[xml.index("<c:valAx>") :]
    assert '<c:max val="90"/>' in val_axis and '<c:min val="60"/>' in val_axis
    assert '<c:majorUnit val="5"/>' in val_axis
    assert C.fitted_axis([70, 90]) == (65, 95, 5)
    assert C.fitted_axis([0, 100]) == (0, 100, 20)
    assert C.fitted_axis([98, 100]) == (97, 100, 1)  # never beyond 100 %


def test_a_score_at_a_limit_is_written_with_enough_decimals_to_tell_which_side():
    # 78, 80 (x 5), 79, 85.82: mean 954.82 / 12 = 79.568; moving ranges 2 (x 9), 1, 6.82:
    # MR-bar 25.82 / 11 = 2.347; upper limit 79.568 + 6.244 = 85.812, lower 73.325. The latest
    # month is above the upper limit, and both read 85.8 % at one decimal.
    x = spc.xmr(months(12), [78.0, 80.0] * 5 + [79.0, 85.82], 80)
    assert x.upper == pytest.approx(954.82 / 12 + 2.66 * 25.82 / 11)
    assert x.points[-1].rules_text == "Above the upper limit"
    assert x.value_text(11) == "85.82%" and x.value_text(0) == "78.0%"

    data = _one_block_book("Overall score", x)
    texts = _texts(data)
    assert "Variation in the latest month (2025-12, 85.82%): ▲ Special cause variation: " in (
        " ".join(texts)
    )
    ws = load_workbook(io.BytesIO(data))["SPC"]
    table = next(iter(ws.tables.values()))
    last = ws[table.ref][-1]
    assert (last[1].value, last[1].number_format) == (85.82, '0.00"%"')
    assert last[3].number_format == '0.00"%"'  # the upper limit: 85.81 %
    assert ws[table.ref][1][1].number_format == '0.0"%"'  # 78.0: nowhere near a line

    compact = _texts(_one_block_book("Overall score", x, compact=True))
    assert (
        "Mean 79.57%; upper process limit 85.81%; lower process limit 73.32%; target 80%."
        in compact
    )


def test_a_unit_that_did_not_return_shows_its_latest_month_as_its_own():
    network = parse_network(default_config_text())
    data = SimpleNamespace(
        period="2026-11",
        network=network,
        unit_months={
            "M01": [("2026-08", 70.0, "Amber"), ("2026-09", 74.0, "Amber"), ("2026-10", 72.0, "")],
            "M02": [("2026-09", 74.0, "Amber"), ("2026-10", 72.0, ""), ("2026-11", 71.0, "")],
            "M03": [("2026-09", 74.0, "Amber"), ("2026-10", 72.0, ""), ("2026-11", None, "")],
        },
        unit_area_months={"M03": {"INV": {"2026-09": 70.0, "2026-10": 75.0}}},
    )
    x = spc.unit_xmr(data, "M01")
    assert x.latest.period == "2026-10" and x.earlier
    assert x.latest_label == "2026-10 (no return for 2026-11)"
    data_book = _one_block_book("Unit M01: overall score", x)
    texts = _texts(data_book)
    assert (
        "Latest: 2026-10 (no return for 2026-11), 72.0%. Variation then: ● Common cause "
        "variation: no significant change." in texts
    )
    assert not any(t.startswith("Variation in the latest month") for t in texts)
    drawing = zipfile.ZipFile(io.BytesIO(data_book)).read("xl/drawings/drawing1.xml").decode()
    assert "Latest 2026-10 (no return for 2026-11): 72.0%" in drawing
    # A unit that returned this month shows it as this month's.
    returned = spc.unit_xmr(data, "M02")
    assert returned.latest_label == "2026-11" and not returned.earlier
    assert spc.unit_xmr(data, "M03").latest_label == "2026-10 (no overall score for 2026-11)"
    area = spc.unit_area_xmr(data, "M03", "INV")
    assert area.latest_label == "2026-10 (area not complete for 2026-11)"


# --- the image -----------------------------------------------------------------------------


def test_png_is_the_same_for_the_same_data():
    x = chart(NARROW + [71, 60])
    png = spc.xmr_png(x, "Overall score: process control chart")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert png == spc.xmr_png(x, "Overall score: process control chart")
    assert png != spc.xmr_png(chart(NARROW + [60, 71]), "Overall score: process control chart")
    assert b"Software" not in png
    assert spc.xmr_png(chart([55]), "One month")[:8] == b"\x89PNG\r\n\x1a\n"
    rebased = chart([70.0, 72.0] * 6 + [80.0, 82.0] * 3, rebase=["2026-01"])
    assert spc.xmr_png(rebased, "Rebased")[:8] == b"\x89PNG\r\n\x1a\n"

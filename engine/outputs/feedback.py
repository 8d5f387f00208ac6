"""The feedback workbook of one unit: its results against the network, its trend,
strengths, priorities, what families and friends said, and its action plan.

Other units are never named here: the charts show the range of all units and how
many units score in each band, with the unit's own values picked out as "Your unit".
"""

from __future__ import annotations

from functools import lru_cache

from ..bank import Area
from ..numbers import number_text, percent_text, points_text
from . import charts as C
from . import spc
from .common import (
    IDEAS_PER_STANDARD,
    callout_format,
    callouts,
    cover,
    families_unit_sheet,
    rag_word,
)
from .facts import unit_facts
from .figures import (
    AreaResult,
    PeriodData,
    StandardLine,
    UnitResult,
    band_of,
    months_before,
)
from .images import chart_palette
from .sheets import (
    Book,
    month_name,
    paragraph,
    pct_text,
    presentation,
    print_wide,
    put,
    row_height,
    set_widths,
    text_lines,
    wrapped_lines,
)

MISSING = "[x]"  # no figure: nothing returned or nothing to count
NOT_APPLICABLE = "[z]"  # the column does not apply to the row


def feedback_workbook(data: PeriodData, code: str) -> bytes:
    """The feedback workbook of one unit that returned for the month."""
    p = presentation()["feedback"]
    unit = data.network.unit(code)
    unit_name = f"{unit.name} ({code})" if unit else code
    title = p["title"].format(unit_name=unit_name, month=data.month)
    book = Book(data, title, cover(data, title, p["about"].format(unit_name=unit_name)))
    result = data.results[code]
    _feedback_results(book, data, p, code, unit_name, result)
    _feedback_standards(book, data, p, code)
    _feedback_trend(book, data, p, code)
    _feedback_spc(book, data, code)
    _feedback_strengths(book, data, p, code, result)
    families_unit_sheet(book, data, code, FEEDBACK_WIDTHS["families"])
    _feedback_action_plan(book, data, code, result)
    return book.close()


# The unit feedback workbook prints one page wide with its text at 10 pt or more even
# where LibreOffice stands in a wider font for Calibri (its columns come out wider than
# Excel's): every sheet's widths add up to about 110 characters or less (A4 landscape),
# and charts are at most 760 pixels wide.
FEEDBACK_WIDTHS = {
    # Area, Your score, Your RAG, median, lowest, highest, range, difference, service user;
    "results": [22, 8, 11, 8, 8, 8, 8, 9, 8],
    # then one column per earlier month compared.
    "change": 9,
    # Area, ID, Standard, Your rating, how many units rated it, units Met.
    "standards": [15, 8, 46, 12, 19, 12],
    "trend": [12, 10, 12, 10, 10, 10],
    # Area, ID, Standard, Your rating, Your score, median, units Met, why / ideas.
    "strengths": [13, 7, 22, 11, 7, 8, 8, 35],
    # Ref, what will change, area, who leads, by when, status, history, overdue.
    "plan": [8, 27, 13, 12, 10.5, 10.5, 20, 9],
    # Area, what families said (or the comment), your RAG (their answer), then four counts.
    "families": [22, 40, 11, 9, 9, 9, 9],
}
FEEDBACK_CHART_WIDTH = 760
# Months the trend table can list with its chart below it on the same page.
FEEDBACK_TREND_ROWS_WITH_CHART = 7
FEEDBACK_FONT_SIZE = 11
BAND = 5  # points per band of the overall score chart (0 to 4.9, 5 to 9.9, ... 95 to 100)


@lru_cache(maxsize=4096)
def std_height(text: str) -> float:
    """The height of a row showing a standard's wording in a column 70 characters wide."""
    return max(18.0, wrapped_lines(text, 70) * 15.5 + 4)


def _value(ws, row: int, col: int, value, fmt, missing_fmt, reason: str = MISSING) -> None:
    """A figure, or ``[x]`` (``reason``) where there is none: no cell in a table is empty."""
    if value is None or value == "":
        put(ws, row, col, reason, missing_fmt)
    else:
        put(ws, row, col, value, fmt)


def _fb_fit(ws, row: int, *cells: tuple[str, float, bool], minimum: int = 1) -> None:
    """Give ``row`` the height that shows each (text, column width, bold) in full."""
    size = FEEDBACK_FONT_SIZE
    lines = max(
        [minimum]
        + [text_lines(text, width, size * 1.1 if bold else size) for text, width, bold in cells]
    )
    if lines > 1:
        ws.set_row(row, row_height(lines, size))


def _fb_header_height(headers: list[str], widths: list[float]) -> float:
    size = FEEDBACK_FONT_SIZE
    return row_height(max(text_lines(t, w, size * 1.1) for t, w in zip(headers, widths)), size)


def _title(ws, book: Book, text: str) -> None:
    put(ws, 0, 0, text, book.f.title)
    ws.set_row(0, 26)


def _start(book: Book, name: str, about: str, widths: list[float], title: str, intro: str):
    """A feedback sheet: its widths, its title in A1 and its introduction across the columns."""
    ws = book.sheet(name, about)
    set_widths(ws, widths)
    _title(ws, book, title)
    paragraph(ws, 1, 0, len(widths) - 1, intro, book.f.text, sum(widths))
    return ws


def _feedback_results(
    book, data: PeriodData, p: dict, code: str, unit_name: str, result: UnitResult
):
    f = book.f
    sheet = "Your results"
    ws = book.sheet(sheet, "Your scores in each area against the network, and how they changed")
    changes = _changes(data, code)
    widths = FEEDBACK_WIDTHS["results"] + [FEEDBACK_WIDTHS["change"]] * len(changes)
    set_widths(ws, widths)
    last_col = len(widths) - 1
    _title(ws, book, p["title"].format(unit_name=unit_name, month=data.month))
    rag = result.overall_rag or presentation()["words"]["no_score"]
    intro = p["intro"].format(
        overall=pct_text(result.overall),
        rag=rag,
        median=pct_text(data.overall.median),
        n=len(data.units),
    )
    paragraph(ws, 1, 0, last_col, intro, f.text, sum(widths))
    # What to look at first: Green areas families disagree with, essential standards not met.
    look_first = callouts(data, code)
    for i, text in enumerate(look_first):
        paragraph(ws, 2 + i, 0, last_col, text, callout_format(book), sum(widths), font_size=12.1)
    head = 3 + len(look_first) + (1 if look_first else 0)
    headers = [
        "Area",
        "Your score (%)",
        "Your RAG",
        "Network median (%)",
        "Network lowest (%)",
        "Network highest (%)",
        "Range, lowest to highest (points)",
        "Difference from median (points)",
        "Service user took part",
    ] + [c[0] for c in changes]
    row = book.table(ws, head, 0, headers, len(data.areas) + 1, "Your_results")
    ws.set_row(head, _fb_header_height(headers, widths))
    yes_no = data.signoffs.get(code, {})
    miss = f.missing
    for area in data.areas:
        res = result.areas.get(area.id)
        s = data.area_spread[area.id]
        pct = res.percent if res else None
        word = rag_word(data, res)
        put(ws, row, 0, data.area_short(area), f.bold_wrap)
        _fb_fit(ws, row, (data.area_short(area), widths[0], True), (word, widths[2], False))
        _value(ws, row, 1, pct, f.pct, miss)
        _value(
            ws, row, 2, word, f.rag_wrap.get(res.rag if res and res.complete else "", f.wrap), miss
        )
        _value(ws, row, 3, s.median, f.pct, miss)
        _value(ws, row, 4, s.low, f.pct, miss)
        _value(ws, row, 5, s.high, f.pct, miss)
        span = None if s.low is None or s.high is None else s.high - s.low
        _value(ws, row, 6, span, f.points, miss)
        diff = None if pct is None or s.median is None else pct - s.median
        _value(ws, row, 7, diff, f.points, miss)
        _value(ws, row, 8, yes_no.get(area.id, ""), f.cell, miss)
        for k, (_h, before, _total) in enumerate(changes):
            then = before.get(area.id)
            _value(
                ws, row, 9 + k, None if pct is None or then is None else pct - then, f.points, miss
            )
        row += 1
    last = row - 1
    s = data.overall
    put(ws, row, 0, "Overall", f.net_label)
    _value(ws, row, 1, result.overall, f.net_pct, miss)
    _value(ws, row, 2, result.overall_rag, f.rag_bold.get(result.overall_rag, f.net_cell), miss)
    _value(ws, row, 3, s.median, f.net_pct, miss)
    _value(ws, row, 4, s.low, f.net_pct, miss)
    _value(ws, row, 5, s.high, f.net_pct, miss)
    _value(ws, row, 6, None if s.low is None or s.high is None else s.high - s.low, f.points, miss)
    diff = None if result.overall is None or s.median is None else result.overall - s.median
    _value(ws, row, 7, diff, f.points, miss)
    put(ws, row, 8, NOT_APPLICABLE, f.net_cell)
    for k, (_h, _before, then) in enumerate(changes):
        value = None if result.overall is None or then is None else result.overall - then
        _value(ws, row, 9 + k, value, f.points, miss)
    table_end = row
    # Page 2: where the unit stands in each area, against the range of all units.
    chart_row = table_end + 2
    pal = chart_palette()
    chart = C.unit_in_range(
        book.wb,
        title=f"Your score in each area against the range of all units, {data.month}",
        categories=(sheet, head + 1, 0, last, 0),
        lows=(sheet, head + 1, 4, last, 4),
        spans=(sheet, head + 1, 6, last, 6),
        medians=(sheet, head + 1, 3, last, 3),
        values=(sheet, head + 1, 1, last, 1),
        values_name="Your unit",
        palette=pal,
        size=(FEEDBACK_CHART_WIDTH, 520),
    )
    below = [
        (pct, data.area_spread[a.id].median, data.area_short(a))
        for a in data.areas
        if (pct := (result.areas[a.id].percent if a.id in result.areas else None)) is not None
        and data.area_spread[a.id].median is not None
    ]
    under = [name for pct, median, name in below if pct < median]
    book.insert_chart(
        ws,
        chart_row,
        0,
        chart,
        f"Chart of your score in each of the {len(data.areas)} areas as a large blue dot, "
        f"with the network median as an orange diamond and the range from the lowest to the "
        f"highest unit as a grey bar (other units are not named). You are below the network "
        f"median in {len(under)} of {len(below)} areas with a score"
        + (f": {', '.join(under)}." if under else "."),
    )
    # Page 3: how many units score in each band, the unit's own band picked out.
    band_row = chart_row + 28
    _overall_bands(book, ws, data, result, band_row, sheet)
    # One page wide at full size: a chart split by a page break prints in two halves.
    print_wide(ws)
    # With something to look at first, the table starts the next page rather than split.
    ws.set_h_pagebreaks(([head] if look_first else []) + [table_end + 1, band_row])


def _overall_bands(book, ws, data: PeriodData, result: UnitResult, top: int, sheet: str) -> None:
    """A table and a chart of how many units score in each band of the overall score."""
    f = book.f
    counts = data.overall_bands(BAND)
    mine = result.overall if result.complete else None
    bands = len(counts)
    own = band_of(mine, BAND) if mine is not None else None
    put(ws, top, 0, f"Overall scores of all units, {data.month}", f.heading)
    ws.set_row(top, 22)
    intro = (
        "How many units have an overall score in each band. Other units are not named; "
        "your unit is the blue block labelled 'Your unit'."
    )
    if mine is None:
        intro += " Your overall score is not counted this month: some of your areas are incomplete."
    widths = FEEDBACK_WIDTHS["results"]
    paragraph(ws, top + 1, 0, 2, intro, f.text, sum(widths[:3]))
    head = top + 2
    headers = ["Overall score band (%)", "Other units (number)", "Your unit (number)"]
    row = book.table(ws, head, 0, headers, bands, "Units_by_overall_score")
    ws.set_row(head, _fb_header_height(headers, widths[:3]))
    first = row
    for i in range(bands):
        low = i * BAND
        label = f"{low} to 100" if i == bands - 1 else f"{low} to {low + BAND - 0.1:g}"
        put(ws, row, 0, label, f.cell)
        put(ws, row, 1, counts[i] - (1 if i == own else 0), f.int)
        put(ws, row, 2, 1 if i == own else 0, f.int)
        row += 1
    chart = C.units_by_band(
        book.wb,
        title="Units by overall score",
        categories=(sheet, first, 0, row - 1, 0),
        others=(sheet, first, 1, row - 1, 1),
        own=(sheet, first, 2, row - 1, 2),
        own_band=own,
        most=max(counts),
        palette=chart_palette(),
        size=(440, 480),
    )
    if own is None:
        where = "Your overall score is not counted this month."
    else:
        same = counts[own] - 1
        where = (
            f"Your unit ({percent_text(mine)}) is in the {own * BAND} to "
            f"{'100' if own == bands - 1 else f'{own * BAND + BAND - 0.1:g}'}% band, "
            f"with {same} other unit{'s' if same != 1 else ''}."
        )
    book.insert_chart(
        ws,
        head,
        3,
        chart,
        f"Bar chart of how many of the {sum(counts)} units with a complete return have "
        f"an overall score in each {BAND}-point band; other units are grey and not named, "
        f"your unit is the blue block labelled 'Your unit'. {where}",
        {"x_offset": 12},
    )


def _feedback_standards(book, data: PeriodData, p: dict, code: str) -> None:
    f = book.f
    widths = FEEDBACK_WIDTHS["standards"]
    ws = _start(
        book,
        "Standards",
        "Every standard: your rating, how many units gave each rating, and the share that met it",
        widths,
        f"Standard by standard, {data.month}",
        p["standards_intro"],
    )
    head = 3
    headers = [
        "Area",
        "ID",
        "Standard",
        "Your rating",
        "How many units rated it",
        f"Units rating it {data.best_label} (%)",
    ]
    labels = [sc.label for sc in data.network.scale]
    n = sum(len(data.standards.get(a.id, [])) for a in data.areas)
    row = book.table(ws, head, 0, headers, n, "Standards")
    ws.set_row(head, _fb_header_height(headers, widths))
    ratings = data.ratings.get(code, {})
    if not n:
        for col in range(len(headers)):
            put(ws, row, col, MISSING, f.missing)
    for area in data.areas:
        for line in data.standards.get(area.id, []):
            st = data.standard_stats[line.id]
            label = ratings.get(line.id, "")
            put(ws, row, 0, data.area_short(area), f.wrap)
            put(ws, row, 1, line.id, f.cell)
            put(ws, row, 2, line.text, f.wrap)
            put(ws, row, 3, label or "Not rated", f.rating.get(label, f.cell))
            rated = st.rated_text(labels)
            put(ws, row, 4, rated, f.wrap)
            _value(ws, row, 5, st.share_met, f.pct, f.missing)
            _fb_fit(
                ws,
                row,
                (line.text, widths[2], False),
                (data.area_short(area), widths[0], False),
                (rated, widths[4], False),
            )
            row += 1
    print_wide(ws, head)


def _feedback_trend(book, data: PeriodData, p: dict, code: str) -> None:
    f = book.f
    widths = FEEDBACK_WIDTHS["trend"]
    ws = _start(
        book,
        "Trend",
        "Your overall score month by month, next to the network median and range",
        widths,
        f"Your trend up to {data.month}",
        p["trend_intro"],
    )
    head = 3
    headers = [
        "Month",
        "Your overall (%)",
        "Your RAG",
        "Network median (%)",
        "Network lowest (%)",
        "Network highest (%)",
    ]
    months = data.unit_months.get(code, [])
    row = book.table(ws, head, 0, headers, len(months), "Your_trend")
    ws.set_row(head, _fb_header_height(headers, widths))
    network = {m.period: m.overall for m in data.months}
    if not months:
        for col in range(len(headers)):
            put(ws, row, col, MISSING, f.missing)
    for per, overall, word in months:
        spread = network.get(per)
        put(ws, row, 0, per, f.bold)
        _value(ws, row, 1, overall, f.pct, f.missing)
        _value(ws, row, 2, word, f.rag.get(word, f.cell), f.missing)
        _value(ws, row, 3, spread.median if spread else None, f.pct, f.missing)
        _value(ws, row, 4, spread.low if spread else None, f.pct, f.missing)
        _value(ws, row, 5, spread.high if spread else None, f.pct, f.missing)
        row += 1
    last = max(row - 1, head + 1)
    pal = chart_palette()
    cats = ("Trend", head + 1, 0, last, 0)
    chart = C.trend_lines(
        book.wb,
        title=f"Your overall score against the network by month, up to {data.month}",
        categories=cats,
        series=[
            ("Your unit", ("Trend", head + 1, 1, last, 1), pal.unit, "solid", 4),
            ("Network median", ("Trend", head + 1, 3, last, 3), pal.network, "dash", 2.25),
            ("Lowest unit", ("Trend", head + 1, 4, last, 4), pal.other, "round_dot", 1.5),
            ("Highest unit", ("Trend", head + 1, 5, last, 5), pal.other, "round_dot", 1.5),
        ],
        size=(FEEDBACK_CHART_WIDTH, 400),
    )
    if months and months[-1][1] is not None:
        first_value = next((v for _p, v, _w in months if v is not None), None)
        change = months[-1][1] - first_value if first_value is not None else 0.0
        summary = (
            f"Your overall score was {percent_text(months[-1][1])} in {month_name(months[-1][0])}, "
            f"{points_text(change)} points since {month_name(months[0][0])}."
        )
    else:
        summary = "There is no overall score of yours to show yet."
    book.insert_chart(
        ws,
        row + 1,
        0,
        chart,
        "Line chart of your overall score by month (thick blue line, 'Your unit') against the "
        "network median (dashed orange) and the lowest and highest unit (dotted grey; other "
        f"units are not named). {summary}",
    )
    print_wide(ws, head)
    if row - head > FEEDBACK_TREND_ROWS_WITH_CHART:
        ws.set_h_pagebreaks([row])  # the chart on a page of its own, never split


def _changes(
    data: PeriodData, code: str
) -> list[tuple[str, dict[str, float | None], float | None]]:
    """Per comparison month: its header, the unit's area scores then, and its overall then."""
    out = []
    overall = {per: value for per, value, _rag in data.unit_months.get(code, [])}
    for key in ("previous", "year"):
        per = data.compare.get(key, "")
        if not per or any(per == o[0] for o in out):
            continue
        out.append((per, data.history.get((code, per), {}), overall.get(per)))
    return [(f"Change since {month_name(per)} (points)", areas, total) for per, areas, total in out]


def _ideas(data: PeriodData, code: str, qid: str) -> list[str]:
    out = []
    for e in data.library_by_standard.get(qid, ()):
        if e.units != (code,):
            out.append(e.text)
            if len(out) == IDEAS_PER_STANDARD:
                break
    return out


def _feedback_strengths(book, data: PeriodData, p: dict, code: str, result: UnitResult) -> None:
    f = book.f
    ws = book.sheet(
        "Strengths and priorities",
        "What is going well and what to work on, with ideas from other units",
    )
    widths = FEEDBACK_WIDTHS["strengths"]
    set_widths(ws, widths)
    _title(ws, book, f"Strengths and priorities, {data.month}")
    headers = [
        "Area",
        "ID",
        "Standard",
        "Your rating",
        "Your score (%)",
        "Network median (%)",
        f"Units rating it {data.best_label} (%)",
    ]
    ratings = data.ratings.get(code, {})
    own_notes = data.notes.get(code, {})
    best = data.best_label
    row = 2

    def section(title: str, intro: str, last_header: str, rows: int, name: str) -> None:
        nonlocal row
        put(ws, row, 0, title, f.heading)
        ws.set_row(row, 22)
        paragraph(ws, row + 1, 0, 7, intro, f.text, sum(widths))
        row = book.table(ws, row + 2, 0, headers + [last_header], rows, name)
        ws.set_row(row - 1, _fb_header_height(headers + [last_header], widths))

    def area_row(area: Area, res: AreaResult, extra: str) -> None:
        nonlocal row
        word = rag_word(data, res)
        put(ws, row, 0, data.area_label(area), f.bold_wrap)
        put(ws, row, 1, NOT_APPLICABLE, f.missing)
        put(ws, row, 2, "Whole area", f.bold)
        _value(ws, row, 3, word, f.rag_wrap.get(res.rag if res.complete else "", f.wrap), f.missing)
        _value(ws, row, 4, res.percent, f.pct, f.missing)
        _value(ws, row, 5, data.area_spread[area.id].median, f.pct, f.missing)
        put(ws, row, 6, NOT_APPLICABLE, f.missing)
        put(ws, row, 7, extra or NOT_APPLICABLE, f.wrap if extra else f.missing)
        _fb_fit(
            ws,
            row,
            (data.area_label(area), widths[0], True),
            (word, widths[3], False),
            (extra, widths[7], False),
        )
        row += 1

    def standard_row(area: Area, line: StandardLine, label: str, extra: str) -> None:
        nonlocal row
        st = data.standard_stats[line.id]
        put(ws, row, 0, data.area_label(area), f.wrap)
        put(ws, row, 1, line.id, f.cell)
        put(ws, row, 2, line.text, f.wrap)
        put(ws, row, 3, label or "Not rated", f.rating.get(label, f.cell))
        put(ws, row, 4, NOT_APPLICABLE, f.missing)
        put(ws, row, 5, NOT_APPLICABLE, f.missing)  # a standard has no network median
        _value(ws, row, 6, st.share_met, f.pct, f.missing)
        _value(ws, row, 7, extra, f.wrap, f.missing)
        _fb_fit(
            ws,
            row,
            (data.area_label(area), widths[0], False),
            (line.text, widths[2], False),
            (extra, widths[7], False),
        )
        row += 1

    facts = unit_facts(data, code)
    strong = []
    for area in data.areas:
        res = result.areas.get(area.id)
        if res is None or res.percent is None or not facts.areas[area.id].strength:
            continue
        strong.append((-res.percent, area.index, area, res))
    strong.sort(key=lambda x: x[:2])
    rare = []
    for area in data.areas:
        for line in data.standards.get(area.id, []):
            st = data.standard_stats[line.id]
            if ratings.get(line.id) == best and st.share_met is not None and st.share_met < 50:
                rare.append((area, line))
    if not strong and not rare:
        put(ws, row, 0, p["strengths_title"], f.heading)
        paragraph(ws, row + 1, 0, 7, p["no_strengths"], f.muted, sum(widths))
        row += 2
    else:
        section(
            p["strengths_title"], p["strengths_intro"], "Why", len(strong) + len(rare), "Strengths"
        )
    for _k, _i, area, res in strong:
        median = data.area_spread[area.id].median
        why = []
        if res.rag == "Green":
            why.append("Rated Green")
        if median is not None and res.percent > median:
            why.append(f"{number_text(res.percent - median)} points above the network median")
        area_row(area, res, "; ".join(why) + ".")
    for area, line in rare:
        share = data.standard_stats[line.id].share_met
        standard_row(
            area,
            line,
            best,
            f"You met this; only {share:.0f}% of units did. Others could learn from your evidence.",
        )
    row += 1
    weak = []
    for area in data.areas:
        res = result.areas.get(area.id)
        if res is None or res.percent is None:
            continue
        held = facts.areas[area.id].held_back
        if res.rag in ("Red", "Amber") or (res.rag == "Green" and held):
            weak.append((res.percent, area.index, area, res))
    weak.sort(key=lambda x: x[:2])
    todo = {
        area.id: [
            line
            for line in data.standards.get(area.id, [])
            if ratings.get(line.id, "") != best
            and data.labels.get(ratings.get(line.id, "")) != "na"
        ]
        for _pct, _i, area, _res in weak
    }
    if not weak:
        put(ws, row, 0, p["priorities_title"], f.heading)
        paragraph(ws, row + 1, 0, 7, p["no_priorities"], f.muted, sum(widths))
        row += 2
    else:
        section(
            p["priorities_title"],
            p["priorities_intro"],
            "Ideas from other units and your notes",
            len(weak) + sum(len(v) for v in todo.values()),
            "Priorities",
        )
    for _pct, _i, area, res in weak:
        held = facts.areas[area.id].held_back
        area_row(area, res, "; ".join(held) + "." if held else "")
        for line in todo[area.id]:
            label = ratings.get(line.id, "")
            parts = [f"Idea: {t}" for t in _ideas(data, code, line.id)]
            note = own_notes.get(line.id)
            if note:
                parts.append(f"Your note: {note}")
            standard_row(area, line, label, "\n".join(parts))
    print_wide(ws)


def _feedback_action_plan(book, data: PeriodData, code: str, result: UnitResult) -> None:
    """The unit's actions from its return: open ones (overdue marked), those closed this
    month, and where to write new ones."""
    f = book.f
    w = presentation()["actions"]
    widths = FEEDBACK_WIDTHS["plan"]
    following = month_name(months_before(data.period, -1))
    lines = data.actions.get(code, [])
    old_form = data.no_actions_sheet(code)
    intro = w["plan_old_form" if old_form else "plan_intro"].format(
        month=data.month, next=following
    )
    if not lines and not old_form:
        intro += " " + w["plan_none"].format(month=data.month)
    ws = _start(book, "Action plan", w["plan_about"], widths, f"Action plan, {data.month}", intro)
    if old_form:
        print_wide(ws)
        return
    areas = {a.id: a for a in data.areas}
    headers = ["Ref", "What will change", "Area", "Who leads", "By when", "Status", "History"]
    not_given = "Not given"
    row = 3

    def section(title: str, items: list, none: str, name: str, overdue: bool) -> None:
        nonlocal row
        put(ws, row, 0, title, f.heading)
        ws.set_row(row, 22)
        row += 1
        if not items:
            paragraph(ws, row, 0, len(widths) - 1, none, f.muted, sum(widths))
            row += 2
            return
        cols = headers + (["Overdue"] if overdue else [])
        row = book.table(ws, row, 0, cols, len(items), name)
        ws.set_row(row - 1, _fb_header_height(cols, widths))
        for a in items:
            area = areas.get(a.area_id)
            cells = [
                a.ref or MISSING,
                a.what or MISSING,
                data.area_short(area) if area else (a.area_id or not_given),
                a.lead or not_given,
                a.due or not_given,
                a.status or MISSING,
                a.history or MISSING,
            ]
            for col, text in enumerate(cells):
                put(ws, row, col, text, f.missing if text == MISSING else f.wrap)
            if overdue:
                put(
                    ws,
                    row,
                    7,
                    "Overdue" if a.overdue else "No",
                    f.rag_wrap["Red"] if a.overdue else f.wrap,
                )
            _fb_fit(ws, row, *((t, wd, False) for t, wd in zip(cells, widths)))
            row += 1
        row += 1

    open_items = [a for a in lines if a.open]
    late = sum(a.overdue for a in open_items)
    if open_items:
        summary = (
            f"{len(open_items)} open, {late} overdue. {w['overdue_note'].format(month=data.month)}"
        )
        paragraph(ws, row, 0, len(widths) - 1, summary, f.text, sum(widths))
        row += 1
    section(w["open_heading"], open_items, w["open_none"], "Open_actions", True)
    closed = [a for a in lines if a.closed]
    section(w["closed_heading"], closed, w["closed_none"], "Actions_closed_this_month", False)
    covered = {a.area_id for a in open_items}
    uncovered = [
        data.area_short(a)
        for a in data.areas
        if (res := result.areas.get(a.id)) is not None
        and res.rag in ("Red", "Amber")
        and a.id not in covered
    ]
    if uncovered:
        text = w["uncovered"].format(areas=", ".join(uncovered))
        paragraph(ws, row, 0, len(widths) - 1, text, f.text, sum(widths))
    print_wide(ws)


def _feedback_spc(book: Book, data: PeriodData, code: str) -> None:
    """The unit's overall score and each area as process control charts."""
    blocks = [("Overall score", spc.unit_xmr(data, code))]
    for area in data.areas:
        blocks.append((data.area_label(area), spc.unit_area_xmr(data, code, area.id)))
    spc.add_spc_sheet(
        book,
        "SPC",
        "Your overall score and each area as process control charts, month by month",
        f"Your scores as process control charts, up to {data.month}",
        blocks,
        compact=True,
    )

"""The commissioner summary: one printed page first, then the detail."""

from __future__ import annotations

from ..numbers import percent_text, points_text
from . import charts as C
from . import spc
from .common import (
    AREA_HEADERS,
    MAX_UNITS_ON_SUMMARY,
    actions_shared_sheet,
    area_medians_chart,
    completion_table,
    cover,
    day_text,
    families_shared_sheet,
    fit_row,
    rag_of,
    rag_word,
    ranking_sheet,
    units_grid,
)
from .figures import PeriodData
from .images import chart_palette
from .sheets import (
    Book,
    month_name,
    paragraph,
    pct_text,
    presentation,
    print_wide,
    put,
    rag_cf,
    row_height,
    set_widths,
    text_lines,
    wrapped_lines,
)

MISSING = "[x]"  # no figure: nothing returned or nothing to count
NOT_APPLICABLE = "[z]"  # the column does not apply to the row

# The summary is one A4 portrait page at 10 pt or more: the key figures, the area table,
# then the score chart and the co-production chart, one under the other.
SUMMARY_WIDTHS = [27, 9, 9, 8, 8, 8]
SUMMARY_CHART = (520, 218)  # pixels, each of the two charts
# The trend table: header row and first month (0-based rows), read by the summary's charts.
TREND_HEAD = 3
TREND_WIDTHS = [12, 9, 9, 9, 9, 9]
AREA_TREND_WIDTH = 8.5
FONT = 11


def commissioner_workbook(data: PeriodData) -> bytes:
    """The commissioner summary: one printed page first, then the detail."""
    p = presentation()["commissioners"]
    title = p["title"].format(network=data.network.name, month=data.month)
    book = Book(data, title, cover(data, title, p["about"]))
    _commissioner_summary(book, data, p)
    _commissioner_essentials(book, data)
    _commissioner_ratings(book, data, p)
    _commissioner_areas(book, data)
    units = book.sheet("Units", "Area scores and RAG ratings by unit")
    put(units, 0, 0, f"Area scores by unit, {data.month}", book.f.title)
    units.set_row(0, 26)
    units_grid(book, data, units, 2, include_missing=True)
    print_wide(units)
    _commissioner_trend(book, data)
    _commissioner_spc(book, data)
    _commissioner_completion(book, data)
    actions_shared_sheet(book, data)
    families_shared_sheet(book, data)
    if data.network.show_ranking:
        ranking_sheet(book, data, presentation()["network"]["ranking_intro"])
    return book.close()


def _value(ws, row: int, col: int, value, fmt, missing_fmt, reason: str = MISSING) -> None:
    """A figure, or ``[x]`` (``reason``) where there is none: no cell in a table is empty."""
    if value is None or value == "":
        put(ws, row, col, reason, missing_fmt)
    else:
        put(ws, row, col, value, fmt)


def _header_height(headers: list[str], widths: list[float]) -> float:
    return row_height(max(text_lines(t, w, FONT * 1.1) for t, w in zip(headers, widths)), FONT)


def _change_phrase(data: PeriodData) -> str:
    prev = data.previous()
    now = data.overall.median
    if prev is None or prev.overall.median is None or now is None:
        return "No earlier month on record"
    diff = now - prev.overall.median
    return f"{points_text(diff)} points (from {percent_text(prev.overall.median)} in {month_name(prev.period)})"


def _gap_names(data: PeriodData, limit: int = 3) -> str:
    ranked = []
    for area in data.areas:
        g, a, r = data.area_rag[area.id]
        n = g + a + r
        if n and a + r:
            ranked.append(
                (-(a + r) / n, data.area_spread[area.id].median or 0, area.index, area.name)
            )
    ranked.sort()
    # Areas as often Red or Amber as the last one named are named with it: a tie is never cut.
    shown = ranked[:limit]
    while len(shown) < len(ranked) and ranked[len(shown)][0] == shown[-1][0]:
        shown.append(ranked[len(shown)])
    return ", ".join(x[3] for x in shown) or "None"


def _essential_phrase(data: PeriodData) -> str:
    """How many essential standards were rated Not met, and where they are named."""
    not_met = data.network.not_met_label
    n = sum(len(v) for v in data.essentials.values())
    if not n:
        return f"None rated {not_met}"
    units = len(data.essentials)
    return (
        f"{n} rated {not_met}, in {units} unit{'s' if units != 1 else ''} (named on the "
        f"'{presentation()['essential']['sheet']}' sheet)"
    )


def _trend_rows(data: PeriodData) -> tuple[int, int]:
    """First and last row of the trend table's months the summary charts show (twelve at most)."""
    last = TREND_HEAD + len(data.months)
    return max(TREND_HEAD + 1, last - 11), last


def _commissioner_summary(book: Book, data: PeriodData, p: dict) -> None:
    f = book.f
    ws = book.sheet("Summary", "The month on one page: key figures, each area and the trends")
    widths = SUMMARY_WIDTHS
    set_widths(ws, widths)
    last_col = len(widths) - 1
    ws.hide_gridlines(2)
    put(ws, 0, 0, p["summary_title"].format(month=data.month), f.title)
    ws.set_row(0, 26)
    naming = p["naming_names"] if data.network.show_unit_names else p["naming_codes"]
    subtitle = p["subtitle"].format(
        network=data.network.name, naming=naming, rag_rule=data.rag_rule()
    )
    paragraph(ws, 1, 0, last_col, subtitle, f.text, sum(widths))
    ws.set_row(1, row_height(text_lines(subtitle, sum(widths), FONT), FONT))
    ws.set_row(2, 8)
    # The key figures, a line each: a label and a sentence (not a table of figures).
    put(ws, 3, 0, "Key figures", f.heading)
    ws.set_row(3, 22)
    c = data.counts()
    s = data.overall
    share = data.coproduction_share()
    figures = [
        (
            "Units that returned",
            f"{c['returned']} of {len(data.network.units)} "
            f"({c['rejected']} rejected, {c['missing']} missing)",
        ),
        (
            "Network median score",
            f"{pct_text(s.median)} ({rag_of(data, s.median) or 'no score'}), range "
            f"{pct_text(s.low)} to {pct_text(s.high)}"
            if s.median is not None
            else "No complete returns",
        ),
        ("Change since last month", _change_phrase(data)),
        (
            "Service user took part",
            f"In {pct_text(share)} of area ratings" if share is not None else "None recorded",
        ),
        ("Areas most often Red or Amber", _gap_names(data)),
        ("Essential standards", _essential_phrase(data)),
        (
            "Returns received up to",
            day_text(data.received_up_to) if data.received_up_to else "None yet",
        ),
    ]
    font = presentation()["fonts"]
    label_fmt = book.wb.add_format(
        {
            "font_name": font["name"],
            "font_size": FONT,
            "bold": True,
            "text_wrap": True,
            "valign": "top",
        }
    )
    value_width = sum(widths[1:])
    row = 4
    for label, value in figures:
        ws.merge_range(row, 1, row, last_col, "", f.text)
        put(ws, row, 0, label, label_fmt)
        put(ws, row, 1, value, f.text)
        lines = max(text_lines(label, widths[0], FONT * 1.1), text_lines(value, value_width, FONT))
        ws.set_row(row, row_height(lines, FONT))
        row += 1
    ws.set_row(row, 8)
    # Each area this month.
    row += 1
    put(ws, row, 0, f"Areas this month {book.note(p['footnote'])}", f.heading)
    ws.set_row(row, 22)
    head = row + 1
    headers = [
        "Area",
        "Network median (%)",
        "RAG of median",
        "Green (units)",
        "Amber (units)",
        "Red (units)",
    ]
    row = book.table(ws, head, 0, headers, len(data.areas), "Summary_areas")
    ws.set_row(head, _header_height(headers, widths))
    for area in data.areas:
        s = data.area_spread[area.id]
        word = rag_of(data, s.median)
        put(ws, row, 0, data.area_short(area), f.bold)
        _value(ws, row, 1, s.median, f.pct, f.missing)
        _value(ws, row, 2, word, f.rag.get(word, f.cell), f.missing)
        for k in range(3):
            put(ws, row, 3 + k, data.area_rag[area.id][k], f.int)
        row += 1
    # Below: the score and the co-production share by month, each on its own axis.
    pal = chart_palette()
    chart_row = row + 1
    if data.months:
        a, b = _trend_rows(data)
        cats = ("Trend", a, 0, b, 0)
        span = f"{month_name(data.months[max(0, len(data.months) - 12)].period)} to {data.month}"
        now = data.months[-1]
        score = C.trend_lines(
            book.wb,
            title="Network median score by month",
            categories=cats,
            series=[
                ("Network median", ("Trend", a, 2, b, 2), pal.unit, "solid", 3),
                ("Lowest unit", ("Trend", a, 3, b, 3), pal.other, "round_dot", 1.5),
                ("Highest unit", ("Trend", a, 4, b, 4), pal.other, "round_dot", 1.5),
            ],
            size=SUMMARY_CHART,
        )
        book.insert_chart(
            ws,
            chart_row,
            0,
            score,
            f"Line chart of the network median score by month, {span}, with the lowest and "
            f"highest unit. In {month_name(now.period)} the median was "
            f"{pct_text(now.overall.median)}, from {pct_text(now.overall.low)} to "
            f"{pct_text(now.overall.high)}.",
        )
        copro = C.trend_lines(
            book.wb,
            title="Service user took part, by month",
            categories=cats,
            series=[
                (
                    "Area ratings agreed with a service user",
                    ("Trend", a, 5, b, 5),
                    pal.coproduction,
                    "solid",
                    3,
                )
            ],
            y_title="Area ratings (%)",
            size=SUMMARY_CHART,
        )
        book.insert_chart(
            ws,
            chart_row,
            0,
            copro,
            f"Line chart of the share of area ratings agreed with a service user taking part, "
            f"by month, {span}. In {month_name(now.period)} it was {pct_text(now.coproduction)}.",
            {"y_offset": SUMMARY_CHART[1] + 8},
        )
    # One A4 portrait page: the key figures, the area table and the two charts below it.
    ws.set_portrait()
    ws.set_paper(9)
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)
    ws.fit_to_pages(1, 1)
    # Rows of the default height (15 pt) that the two charts cover, and a little room.
    chart_rows = (2 * SUMMARY_CHART[1] + 8) * 0.75 / 15 + 1 if data.months else 0
    ws.print_area(0, 0, chart_row + int(chart_rows), last_col)


ESSENTIAL_WIDTHS = [20, 9, 50, 18, 13]


def _commissioner_essentials(book: Book, data: PeriodData) -> None:
    """Every essential standard rated Not met, by unit, with its area and the area's RAG."""
    f = book.f
    w = presentation()["essential"]
    not_met = data.network.not_met_label
    ws = book.sheet(w["sheet"], w["about"])
    widths = ESSENTIAL_WIDTHS
    set_widths(ws, widths)
    put(ws, 0, 0, w["title"].format(not_met=not_met, month=data.month), f.title)
    ws.set_row(0, 26)
    rows = [(code, miss) for code in data.units for miss in data.essentials.get(code, [])]
    if not rows:
        text = w["none"].format(not_met=not_met, month=data.month)
        paragraph(ws, 1, 0, 4, text, f.text, sum(widths))
        print_wide(ws)
        return
    paragraph(ws, 1, 0, 4, w["intro"].format(not_met=not_met, month=data.month), f.text, 100)
    head = 3
    headers = ["Unit", "Standard ID", "Standard", "Area", "Area RAG for the unit"]
    row = book.table(ws, head, 0, headers, len(rows), "Essential_standards_not_met")
    fit_row(ws, head, zip(headers, widths), bold=True)
    areas = {a.id: a for a in data.areas}
    for code, miss in rows:
        area = areas.get(miss.area_id)
        area_text = data.area_short(area) if area else miss.area_id
        res = data.results[code].areas.get(miss.area_id)
        word = rag_word(data, res) or MISSING
        fill = res.rag if res is not None and res.complete and res.percent is not None else ""
        put(ws, row, 0, data.name(code), f.bold_wrap)
        put(ws, row, 1, miss.standard_id, f.cell)
        put(ws, row, 2, miss.text, f.wrap)
        put(ws, row, 3, area_text, f.wrap)
        put(ws, row, 4, word, f.rag_wrap[fill] if word != MISSING else f.missing)
        fit_row(ws, row, zip((data.name(code), "", miss.text, area_text, word), widths))
        row += 1
    print_wide(ws, head)


def _commissioner_ratings(book: Book, data: PeriodData, p: dict) -> None:
    """Every unit's RAG rating in every area: one row per unit, one column per area."""
    f = book.f
    words = presentation()["words"]
    ws = book.sheet("Ratings", "The RAG rating of each unit in each area")
    areas = data.areas
    widths = [20] + [7.5] * len(areas)
    set_widths(ws, widths)
    put(ws, 0, 0, f"Area ratings by unit, {data.month}", f.title)
    ws.set_row(0, 26)
    incomplete = book.note(
        "Incomplete: the unit has not rated every standard in the area. Its rating is shown "
        "but the area is left out of the network figures."
    )
    paragraph(
        ws,
        1,
        0,
        len(widths) - 1,
        f"Each unit's rating in each area this month. A rating marked {incomplete} is for an "
        f"incomplete area. {book.note(p['footnote'])}",
        f.text,
        sum(widths),
    )
    head = 3
    headers = ["Unit"] + [f"{a.index}. {a.short_name}" for a in areas]
    row = book.table(ws, head, 0, headers, len(data.completion), "Ratings_by_unit")
    ws.set_row(head, _header_height(headers, widths))
    first = row
    for entry in data.completion:
        returned = entry.status == "returned"
        put(ws, row, 0, data.name(entry.code), f.bold if returned else f.missing)
        tall = False
        for i, area in enumerate(areas):
            if not returned:
                word = words["rejected"] if entry.status == "rejected" else words["not_returned"]
                put(ws, row, 1 + i, word if i == 0 else MISSING, f.missing)
                continue
            res = data.results[entry.code].areas.get(area.id)
            if res is None:
                put(ws, row, 1 + i, MISSING, f.missing)
            elif res.percent is None:
                put(ws, row, 1 + i, words["no_score"], f.wrap)
                tall = True
            elif res.complete:
                put(ws, row, 1 + i, res.rag, f.cell)
            else:
                put(ws, row, 1 + i, f"{res.rag} {incomplete}", f.wrap)
                tall = True
        if tall:
            ws.set_row(row, row_height(2, FONT))
        row += 1
    rag_cf(ws, f, first, 1, row - 1, len(areas))
    print_wide(ws, head)


def _commissioner_areas(book: Book, data: PeriodData) -> None:
    f = book.f
    ws = book.sheet("Areas", "Each area across the network: median, range and RAG counts")
    widths = [24, 8, 8, 8, 8, 8, 9, 7, 7, 7, 10, 10]
    set_widths(ws, widths)
    put(ws, 0, 0, f"Areas across the network, {data.month}", f.title)
    ws.set_row(0, 26)
    paragraph(ws, 1, 0, 11, presentation()["network"]["areas_intro"], f.text, sum(widths))
    head = 3
    headers = [*AREA_HEADERS, "Change in median since last month (points)"]
    row = book.table(ws, head, 0, headers, len(data.areas), "Areas")
    ws.set_row(head, _header_height(headers, widths))
    prev = data.previous()
    miss = f.missing
    for area in data.areas:
        s = data.area_spread[area.id]
        g, a, r = data.area_rag[area.id]
        yes, total = data.area_coproduction.get(area.id, (0, 0))
        word = rag_of(data, s.median)
        put(ws, row, 0, data.area_short(area), f.bold)
        _value(ws, row, 1, s.median, f.pct, miss)
        _value(ws, row, 2, word, f.rag.get(word, f.cell), miss)
        _value(ws, row, 3, s.low, f.pct, miss)
        _value(ws, row, 4, s.high, f.pct, miss)
        for col, value in enumerate((s.n, data.area_incomplete[area.id], g, a, r), start=5):
            put(ws, row, col, value, f.int)
        _value(ws, row, 10, 100.0 * yes / total if total else None, f.pct, miss)
        before = prev.areas[area.id].median if prev else None
        change = None if before is None or s.median is None else s.median - before
        _value(ws, row, 11, change, f.points, miss)
        row += 1
    if data.units:
        area_medians_chart(book, ws, data, head, row + 1, 760)
    print_wide(ws, head)


def _commissioner_trend(book: Book, data: PeriodData) -> None:
    f = book.f
    ws = book.sheet("Trend", "The network median, range and co-production by month, and each area")
    areas = data.areas
    widths = TREND_WIDTHS + [AREA_TREND_WIDTH] * max(0, len(areas) - len(TREND_WIDTHS) + 1)
    set_widths(ws, widths)
    put(ws, 0, 0, f"Network trend up to {data.month}", f.title)
    ws.set_row(0, 26)
    paragraph(
        ws,
        1,
        0,
        len(TREND_WIDTHS) - 1,
        "The network by month: units that returned, the median score and its range, and the "
        "share of area ratings agreed with a service user taking part. Each area's median "
        "by month is in the second table.",
        f.text,
        sum(TREND_WIDTHS),
    )
    head = TREND_HEAD
    headers = [
        "Month",
        "Units returned",
        "Network median (%)",
        "Lowest (%)",
        "Highest (%)",
        "Service user took part (% of area ratings)",
    ]
    # The summary's charts read this table: months from row TREND_HEAD + 1 (0-based).
    row = book.table(ws, head, 0, headers, len(data.months), "Network_trend")
    ws.set_row(head, _header_height(headers, widths))
    if not data.months:
        for col in range(len(headers)):
            put(ws, row, col, MISSING, f.missing)
    for m in data.months:
        put(ws, row, 0, m.period, f.bold)
        put(ws, row, 1, m.returned, f.int)
        _value(ws, row, 2, m.overall.median, f.pct, f.missing)
        _value(ws, row, 3, m.overall.low, f.pct, f.missing)
        _value(ws, row, 4, m.overall.high, f.pct, f.missing)
        _value(ws, row, 5, m.coproduction, f.pct, f.missing)
        row += 1
    row = max(row, head + 2) + 1
    put(ws, row, 0, "Each area's network median by month (%)", f.heading)
    ws.set_row(row, 22)
    head2 = row + 1
    area_headers = ["Month"] + [f"{a.index}. {a.short_name}" for a in areas]
    row = book.table(ws, head2, 0, area_headers, len(data.months), "Area_trend")
    ws.set_row(head2, _header_height(area_headers, widths))
    if not data.months:
        for col in range(len(area_headers)):
            put(ws, row, col, MISSING, f.missing)
    for m in data.months:
        put(ws, row, 0, m.period, f.bold)
        for i, a in enumerate(areas):
            _value(ws, row, 1 + i, m.areas[a.id].median, f.pct, f.missing)
        row += 1
    print_wide(ws, head)


def _commissioner_completion(book: Book, data: PeriodData) -> None:
    f = book.f
    ws = book.sheet("Completion", "Who returned, who was rejected and who is missing")
    set_widths(ws, [22, 11, 12, 12, 9, 9])
    put(ws, 0, 0, f"Completion and co-production, {data.month}", f.title)
    ws.set_row(0, 26)
    head = 2
    completion_table(ws, f, data, head, notes=False, book=book, name="Completion")
    print_wide(ws, head, landscape=False)


def _commissioner_spc(book: Book, data: PeriodData) -> None:
    """Process control: the network median, then each unit's overall score.

    Each unit gets a chart only while the network is small enough to read them all
    (``MAX_UNITS_ON_SUMMARY``); every unit's variation and assurance is in the
    table on the "SPC by unit" sheet whatever the size, and each unit's own charts
    are in its feedback.
    """
    w = spc.words()
    codes = [u.code for u in data.network.units if data.unit_months.get(u.code)]
    blocks = [("Network median score", spc.network_xmr(data))]
    if len(codes) <= MAX_UNITS_ON_SUMMARY:
        blocks += [
            (f"Unit {data.name(code)}: overall score", spc.unit_xmr(data, code)) for code in codes
        ]
    spc.add_spc_sheet(
        book,
        "SPC",
        "Process control charts: the network median and each unit's overall score by month",
        f"Process control charts up to {data.month}",
        blocks,
    )
    ws = book.sheet("SPC by unit", "Each unit's variation and assurance, in words and symbols")
    widths = [16, 9, 16, 16, 34, 34]
    set_widths(ws, widths)
    put(ws, 0, 0, f"Each unit's overall score as a process: {data.month}", book.f.title)
    ws.set_row(0, 26)
    intro = w["by_unit_intro"].format(target=f"{data.network.green:g}%")
    paragraph(ws, 1, 0, 5, intro, book.f.text, sum(widths))
    headers = ["Unit", "Months", "Latest month", "Latest score (%)", "Variation", "Assurance"]
    row = book.table(ws, 3, 0, headers, max(1, len(codes)), "SPC_by_unit")
    if not codes:
        for col in range(6):
            put(ws, row, col, "[x]", book.f.cell)
    for code in codes:
        x = spc.unit_xmr(data, code)
        put(ws, row, 0, data.name(code), book.f.bold)
        put(ws, row, 1, x.n, book.f.int)
        # The month of the latest score, saying so when it is not this month's.
        put(ws, row, 2, x.latest_label or "[x]", book.f.wrap)
        put(ws, row, 3, x.points[-1].value if x.points else "[x]", book.f.pct)
        put(ws, row, 4, x.variation_text or "[x]", book.f.wrap)
        put(ws, row, 5, x.assurance_text or "[x]", book.f.wrap)
        lines = max(
            wrapped_lines(x.latest_label, 16),
            wrapped_lines(x.variation_text or "", 34),
            wrapped_lines(x.assurance_text or "", 34),
        )
        ws.set_row(row, 15.5 * lines + 4)
        row += 1
    print_wide(ws, 3, landscape=True)

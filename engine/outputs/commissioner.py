"""The commissioner summary: one printed page first, then the detail."""

from __future__ import annotations

from ..workbook import month_name
from . import charts as C
from .common import (
    GRID_AREA_WIDTHS,
    GRID_WIDTHS,
    MAX_UNITS_ON_SUMMARY,
    area_spread_row,
    completion_table,
    cover,
    day_text,
    rag_of,
    ranking_sheet,
    units_grid,
)
from .figures import PeriodData
from .images import chart_palette
from .sheets import Book, paragraph, pct_text, presentation, print_wide, put, rag_cf, set_widths


def commissioner_workbook(data: PeriodData) -> bytes:
    """The commissioner summary: one printed page first, then the detail."""
    p = presentation()["commissioners"]
    title = p["title"].format(network=data.network.name, month=data.month)
    book = Book(data, title, cover(data, title, p["about"]))
    _commissioner_summary(book, data, p)
    _commissioner_areas(book, data)
    units = book.sheet("Units", "Area scores by unit")
    set_widths(units, GRID_WIDTHS + GRID_AREA_WIDTHS * len(data.areas))
    put(units, 0, 0, f"Area scores by unit, {data.month}", book.f.title)
    units.set_row(0, 26)
    units_grid(book, data, units, 2, include_missing=True)
    print_wide(units, 3)
    _commissioner_trend(book, data)
    _commissioner_completion(book, data)
    if data.network.show_ranking:
        ranking_sheet(book, data, presentation()["network"]["ranking_intro"])
    return book.close()


def _change_phrase(data: PeriodData) -> str:
    prev = data.previous()
    now = data.overall.median
    if prev is None or prev.overall.median is None or now is None:
        return "No earlier month on record"
    diff = now - prev.overall.median
    return f"{diff:+.1f} points (from {prev.overall.median:.1f}% in {month_name(prev.period)})"


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
    return ", ".join(x[3] for x in ranked[:limit]) or "None"


def _commissioner_summary(book: Book, data: PeriodData, p: dict) -> None:
    f = book.f
    words = presentation()["words"]
    ws = book.sheet("Summary", "The month on one page: headline figures, areas and key points")
    areas = data.areas
    last_col = len(areas)
    set_widths(ws, [22] + [11.5] * len(areas))
    put(ws, 0, 0, p["title"].format(network=data.network.name, month=data.month), f.title)
    ws.set_row(0, 26)
    naming = p["naming_names"] if data.network.show_unit_names else p["naming_codes"]
    paragraph(
        ws,
        1,
        0,
        last_col,
        p["subtitle"].format(naming=naming, rag_rule=data.rag_rule()),
        f.text,
        140,
    )
    put(ws, 3, 0, "Key figures", f.heading)
    c = data.counts()
    s = data.overall
    share = data.coproduction_share()
    figures = [
        (
            "Units that returned",
            (
                f"{c['returned']} of {len(data.network.units)} "
                f"({c['rejected']} rejected, {c['missing']} missing)"
            ),
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
            (f"{pct_text(share)} of area ratings were agreed with a service user taking part"),
        ),
        ("Areas most often Red or Amber", _gap_names(data)),
        ("Returns received up to", day_text(data.received_up_to) if data.received_up_to else "-"),
    ]
    row = 4
    for label, value in figures:
        ws.merge_range(row, 0, row, 1, "", f.key_label)
        put(ws, row, 0, label, f.key_label)
        ws.merge_range(row, 2, row, 5, "", f.key_value)
        put(ws, row, 2, value, f.key_value)
        ws.set_row(row, 46)
        row += 1
    if data.months:
        pal = chart_palette()
        last = 3 + len(data.months)
        first = max(4, last - 11)  # the last twelve months at most
        chart = C.trend_lines(
            book.wb,
            title="Network median score by month",
            categories=("Trend", first, 0, last, 0),
            series=[
                ("Network median", ("Trend", first, 2, last, 2), pal.unit, "solid"),
                (
                    "Service user took part (% of areas)",
                    ("Trend", first, 5, last, 5),
                    pal.coproduction,
                    "round_dot",
                ),
            ],
            size=(600, 300),
        )
        ws.insert_chart(3, 6, chart, {"x_offset": 10, "y_offset": 2})
    row += 1
    put(ws, row, 0, "Area ratings by unit", f.heading)
    row += 1
    put(ws, row, 0, "Unit", f.header)
    for i, area in enumerate(areas):
        put(ws, row, 1 + i, f"{area.index}. {area.short_name}", f.header)
    ws.set_row(row, 48)
    row += 1
    put(ws, row, 0, "Network median", f.net_label)
    for i, area in enumerate(areas):
        put(ws, row, 1 + i, data.area_spread[area.id].median, f.net_pct)
    row += 1
    for k, word in enumerate(("Green", "Amber", "Red")):
        put(ws, row, 0, f"{word} (units)", f.rag_bold[word])
        for i, area in enumerate(areas):
            put(ws, row, 1 + i, data.area_rag[area.id][k], f.int)
        row += 1
    if len(data.completion) <= MAX_UNITS_ON_SUMMARY:
        first_unit = row
        for entry in data.completion:
            put(
                ws,
                row,
                0,
                data.name(entry.code),
                f.bold if entry.status == "returned" else f.missing,
            )
            if entry.status != "returned":
                ws.merge_range(row, 1, row, last_col, "", f.missing)
                word = words["rejected"] if entry.status == "rejected" else words["not_returned"]
                put(ws, row, 1, word, f.missing)
            else:
                r = data.results[entry.code]
                for i, area in enumerate(areas):
                    res = r.areas.get(area.id)
                    if res is None or res.percent is None:
                        put(ws, row, 1 + i, words["no_score"] if res else "", f.cell)
                    else:
                        put(ws, row, 1 + i, res.rag if res.complete else f"{res.rag}*", f.cell)
            row += 1
        rag_cf(ws, f, first_unit, 1, row - 1, last_col)
    else:
        paragraph(
            ws, row, 0, last_col, p["too_many_units"].format(n=len(data.units)), f.muted, 140
        )
        row += 1
    paragraph(ws, row, 0, last_col, "* incomplete. " + p["footnote"], f.muted, 140)
    ws.hide_gridlines(2)
    ws.set_landscape()
    ws.set_paper(9)
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)
    ws.fit_to_pages(1, 1)
    ws.print_area(0, 0, row, last_col)


def _commissioner_areas(book: Book, data: PeriodData) -> None:
    f = book.f
    ws = book.sheet("Areas", "Each area across the network: median, range and RAG counts")
    set_widths(ws, [28, 12, 12, 11, 11, 11, 11, 11, 11, 11, 14, 14])
    put(ws, 0, 0, f"Areas across the network, {data.month}", f.title)
    ws.set_row(0, 26)
    paragraph(ws, 1, 0, 11, presentation()["network"]["areas_intro"], f.text, 150)
    head = 3
    for col, text in enumerate(
        [
            "Area",
            "Network median (%)",
            "RAG of median",
            "Lowest (%)",
            "Highest (%)",
            "Units counted",
            "Incomplete",
            "Green (units)",
            "Amber (units)",
            "Red (units)",
            "Service user took part (% of units)",
            "Change in median since last month (points)",
        ]
    ):
        put(ws, head, col, text, f.header)
    ws.set_row(head, 62)
    prev = data.previous()
    row = head + 1
    for area in data.areas:
        s = area_spread_row(ws, f, data, area, row)
        before = prev.areas[area.id].median if prev else None
        put(
            ws, row, 11, None if before is None or s.median is None else s.median - before, f.points
        )
        row += 1
    last = row - 1
    if data.units:
        chart = C.medians_with_range(
            book.wb,
            title=f"Network median per area with lowest and highest unit, {data.month}",
            categories=("Areas", head + 1, 0, last, 0),
            medians=("Areas", head + 1, 1, last, 1),
            lows=("Areas", head + 1, 3, last, 3),
            highs=("Areas", head + 1, 4, last, 4),
            palette=chart_palette(),
            size=(980, 460),
        )
        ws.insert_chart(row + 1, 0, chart)
    print_wide(ws, head)


def _commissioner_trend(book: Book, data: PeriodData) -> None:
    f = book.f
    ws = book.sheet("Trend", "The network median by month")
    areas = data.areas
    set_widths(ws, [12, 10, 12, 10, 10, 13] + [12] * len(areas))
    put(ws, 0, 0, f"Network trend up to {data.month}", f.title)
    ws.set_row(0, 26)
    head = 2
    headers = [
        "Month",
        "Units returned",
        "Network median (%)",
        "Lowest (%)",
        "Highest (%)",
        "Service user took part (% of areas)",
    ] + [f"{a.index}. {a.short_name}: median (%)" for a in areas]
    # The summary's chart reads rows 5 onwards of this sheet (first month at row index 4).
    ws.set_row(1, 18)
    for col, text in enumerate(headers):
        put(ws, head + 1, col, text, f.header)
    ws.set_row(head + 1, 62)
    row = head + 2
    for m in data.months:
        put(ws, row, 0, m.period, f.bold)
        put(ws, row, 1, m.returned, f.int)
        put(ws, row, 2, m.overall.median, f.pct)
        put(ws, row, 3, m.overall.low, f.pct)
        put(ws, row, 4, m.overall.high, f.pct)
        put(ws, row, 5, m.coproduction, f.pct)
        for i, a in enumerate(areas):
            put(ws, row, 6 + i, m.areas[a.id].median, f.pct)
        row += 1
    print_wide(ws, head + 1)


def _commissioner_completion(book: Book, data: PeriodData) -> None:
    f = book.f
    ws = book.sheet("Completion", "Who returned, who was rejected and who is missing")
    set_widths(ws, [30, 14, 12, 14, 11, 11])
    put(ws, 0, 0, f"Completion and co-production, {data.month}", f.title)
    ws.set_row(0, 26)
    head = 2
    completion_table(ws, f, data, head, notes=False)
    print_wide(ws, head, landscape=False)


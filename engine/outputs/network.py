"""The network benchmark workbook: every unit against every area, per area, trends, gaps,
the evidence library and completion.
"""

from __future__ import annotations

from .. import template as T
from ..bank import Area
from . import charts as C
from .common import (
    GRID_AREA_WIDTHS,
    GRID_WIDTHS,
    UNITS_LISTED,
    area_spread_row,
    completion_table,
    cover,
    rag_of,
    rag_word,
    ranking_sheet,
    received_phrase,
    units_grid,
)
from .feedback import std_height
from .figures import PeriodData, unit_order
from .images import chart_palette
from .sheets import (
    Book,
    paragraph,
    pct_text,
    presentation,
    print_wide,
    put,
    set_widths,
    wrapped_lines,
)


def network_workbook(data: PeriodData) -> bytes:
    """The network benchmark workbook for the month."""
    p = presentation()["network"]
    title = p["title"].format(network=data.network.name, month=data.month)
    book = Book(data, title, cover(data, title, p["about"]))
    _network_overview(book, data, p)
    _network_areas(book, data, p)
    for area in data.areas:
        _network_area_sheet(book, data, p, area)
    _network_trends(book, data, p)
    _network_gaps(book, data, p)
    _network_library(book, data, p)
    _network_completion(book, data, p)
    if data.network.show_ranking:
        ranking_sheet(book, data, p["ranking_intro"])
    return book.close()


def _network_overview(book: Book, data: PeriodData, p: dict) -> None:
    f = book.f
    ws = book.sheet("Overview", "Every unit against every area this month, with the network median, lowest and highest")
    ncols = 3 + 2 * len(data.areas)
    set_widths(ws, GRID_WIDTHS + GRID_AREA_WIDTHS * len(data.areas))
    put(ws, 0, 0, p["title"].format(network=data.network.name, month=data.month), f.title)
    ws.set_row(0, 26)
    counts = data.counts()
    intro = p["overview_intro"].format(
        returned=counts["returned"],
        units=len(data.network.units),
        month=data.month,
        received=received_phrase(data),
        rag_rule=data.rag_rule(),
    )
    paragraph(ws, 1, 0, min(ncols - 1, 16), intro, f.text, 180)
    units_grid(book, data, ws, 3, include_missing=True)
    print_wide(ws, 4)


def _network_areas(book: Book, data: PeriodData, p: dict) -> None:
    f = book.f
    ws = book.sheet("Areas", "Each area across the network: median, range and how many units are Green, Amber or Red")
    headers = [
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
    ]
    set_widths(ws, [28, 12, 12, 11, 11, 11, 11, 11, 11, 11, 14])
    put(ws, 0, 0, f"Areas across the network, {data.month}", f.title)
    ws.set_row(0, 26)
    paragraph(ws, 1, 0, 10, p["areas_intro"], f.text, 150)
    head = 3
    for col, text in enumerate(headers):
        put(ws, head, col, text, f.header)
    ws.set_row(head, 48)
    row = head + 1
    for area in data.areas:
        s = area_spread_row(ws, f, data, area, row)
        row += 1
    s = data.overall
    put(ws, row, 0, "Overall (complete returns)", f.net_label)
    put(ws, row, 1, s.median, f.net_pct)
    word = rag_of(data, s.median)
    put(ws, row, 2, word, f.rag_bold[word])
    put(ws, row, 3, s.low, f.net_pct)
    put(ws, row, 4, s.high, f.net_pct)
    put(ws, row, 5, s.n, f.net_cell)
    for col in range(6, 10):
        put(ws, row, col, "", f.net_cell)
    put(ws, row, 10, data.coproduction_share(), f.net_pct)
    last = head + len(data.areas)
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
        ws.insert_chart(row + 2, 0, chart)
    print_wide(ws, head)


def _network_area_sheet(book: Book, data: PeriodData, p: dict, area: Area) -> None:
    f = book.f
    name = T.area_sheet_name(area.index, area.short_name)
    ws = book.sheet(name, f"Area {area.index}, {area.name}: each unit against the network, standard by standard")
    lines = data.standards.get(area.id, [])
    n_std = len(lines)
    set_widths(ws, [20, 10, 17, 11, 12] + [12] * max(1, n_std))
    last_col = 4 + n_std
    put(ws, 0, 0, f"Area {area.index} of {len(data.areas)}: {area.name}", f.title)
    ws.set_row(0, 26)
    paragraph(ws, 1, 0, last_col, area.description, f.text, 160)
    s = data.area_spread[area.id]
    paragraph(
        ws,
        2,
        0,
        last_col,
        p["area_intro"].format(
            median=pct_text(s.median),
            low=pct_text(s.low),
            high=pct_text(s.high),
            n=s.n,
            standard_rule=data.standard_rule(),
        ),
        f.text,
        160,
    )
    head = 4
    for col, text in enumerate(
        ["Unit", "Score (%)", "RAG", "Network median (%)", "Difference from median (points)"]
    ):
        put(ws, head, col, text, f.header)
    for i, line in enumerate(lines):
        put(ws, head, 5 + i, line.id, f.header)
    ws.set_row(head, 48)
    row = head + 1
    put(ws, row, 0, "Network median", f.net_label)
    put(ws, row, 1, s.median, f.net_pct)
    word = rag_of(data, s.median)
    put(ws, row, 2, word, f.rag_bold[word])
    put(ws, row, 3, "", f.net_cell)
    put(ws, row, 4, "", f.net_cell)
    for i, line in enumerate(lines):
        put(ws, row, 5 + i, data.standard_stats[line.id].median, f.net_pct)
    row += 1
    put(ws, row, 0, "Rated Met (% of units)", f.net_label)
    for col in range(1, 5):
        put(ws, row, col, "", f.net_cell)
    for i, line in enumerate(lines):
        put(ws, row, 5 + i, data.standard_stats[line.id].share_met, f.net_pct)
    row += 1
    first = row
    for code in data.units:
        res = data.results[code].areas.get(area.id)
        pct = res.percent if res else None
        put(ws, row, 0, data.name(code), f.bold)
        put(ws, row, 1, pct, f.pct)
        word = rag_word(data, res)
        put(ws, row, 2, word, f.rag.get(res.rag if res and res.complete else "", f.cell))
        put(ws, row, 3, s.median, f.pct)
        diff = None if pct is None or s.median is None else pct - s.median
        put(ws, row, 4, diff, f.points)
        ratings = data.ratings.get(code, {})
        for i, line in enumerate(lines):
            label = ratings.get(line.id, "")
            put(ws, row, 5 + i, label or "Not rated", f.rating.get(label, f.cell))
        row += 1
    last = row - 1
    row += 1
    if data.units:
        chart = C.bars_against_network(
            book.wb,
            title=f"{area.name}: each unit's score against the network median, {data.month}",
            categories=(name, first, 0, last, 0),
            values=(name, first, 1, last, 1),
            network=(name, first, 3, last, 3),
            values_name="Unit score",
            network_name="Network median",
            x_title="Unit",
            palette=chart_palette(),
            size=(min(1400, max(760, 40 * len(data.units))), 400),
            rotate=-45 if len(data.units) > 12 else 0,
        )
        ws.insert_chart(row, 0, chart)
        row += 22
    put(ws, row, 0, "The standards", f.heading)
    row += 1
    put(ws, row, 0, "ID", f.header)
    ws.merge_range(row, 1, row, last_col, "Standard", f.header)
    row += 1
    for line in lines:
        put(ws, row, 0, line.id, f.bold)
        ws.merge_range(row, 1, row, last_col, "", f.wrap)
        put(ws, row, 1, line.text, f.wrap)
        ws.set_row(row, max(18, wrapped_lines(line.text, 70 + 12 * n_std) * 15.5 + 4))
        row += 1
    print_wide(ws, head)


def _network_trends(book: Book, data: PeriodData, p: dict) -> None:
    f = book.f
    ws = book.sheet("Trends", "The network median and range by month")
    areas = data.areas
    set_widths(ws, [20, 10, 12, 10, 10, 13] + [12] * len(areas))
    put(ws, 0, 0, f"Trends up to {data.month}", f.title)
    ws.set_row(0, 26)
    paragraph(ws, 1, 0, 10, p["trends_intro"].format(month=data.month), f.text, 120)
    head = 3
    headers = [
        "Month",
        "Units returned",
        "Network median (%)",
        "Lowest (%)",
        "Highest (%)",
        "Service user took part (% of areas)",
    ] + [f"{a.index}. {a.short_name}: median (%)" for a in areas]
    for col, text in enumerate(headers):
        put(ws, head, col, text, f.header)
    ws.set_row(head, 62)
    row = head + 1
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
    last = row - 1
    row += 1
    if data.months:
        pal = chart_palette()
        chart = C.trend_lines(
            book.wb,
            title=f"Network median score and range by month, up to {data.month}",
            categories=("Trends", head + 1, 0, last, 0),
            series=[
                ("Network median", ("Trends", head + 1, 2, last, 2), pal.unit, "solid"),
                ("Lowest unit", ("Trends", head + 1, 3, last, 3), pal.red, "dash"),
                ("Highest unit", ("Trends", head + 1, 4, last, 4), pal.green, "dash"),
                (
                    "Service user took part (% of areas)",
                    ("Trends", head + 1, 5, last, 5),
                    pal.coproduction,
                    "round_dot",
                ),
            ],
            size=(900, 400),
        )
        ws.insert_chart(row, 0, chart)
        row += 22
    put(ws, row, 0, "Overall score (%) by unit and month", f.heading)
    row += 1
    put(ws, row, 0, "Unit", f.header)
    for i, m in enumerate(data.months):
        put(ws, row, 1 + i, m.period, f.header)
    row += 1
    index = {m.period: i for i, m in enumerate(data.months)}
    for code in sorted(data.unit_months, key=unit_order(data.network)):
        put(ws, row, 0, data.name(code), f.bold)
        for per, overall, _rag in data.unit_months.get(code, []):
            put(ws, row, 1 + index[per], overall, f.pct)
        row += 1
    print_wide(ws, head)


def _network_gaps(book: Book, data: PeriodData, p: dict) -> None:
    f = book.f
    ws = book.sheet("Gaps", "Areas and standards where most units are not there yet")
    set_widths(ws, [7, 30, 10, 11, 11, 11, 11, 12, 12])
    put(ws, 0, 0, f"Gaps in provision, {data.month}", f.title)
    ws.set_row(0, 26)
    paragraph(ws, 1, 0, 9, p["gaps_intro"], f.text, 190)
    row = 3
    put(ws, row, 0, "Areas where most units are Red or Amber", f.heading)
    row += 1
    for col, text in enumerate(
        [
            "Rank",
            "Area",
            "Units counted",
            "Red (units)",
            "Amber (units)",
            "Green (units)",
            "Red or Amber (%)",
            "Network median (%)",
        ]
    ):
        put(ws, row, col, text, f.header)
    ws.set_row(row, 34)
    row += 1
    gaps = []
    for area in data.areas:
        g, a, r = data.area_rag[area.id]
        n = g + a + r
        if n and (a + r) * 2 > n:
            gaps.append(
                (-(a + r) / n, data.area_spread[area.id].median or 0, area.index, area, g, a, r, n)
            )
    gaps.sort(key=lambda x: x[:3])
    if not gaps:
        paragraph(ws, row, 0, 9, p["gaps_none_areas"], f.muted, 190)
        row += 1
    for rank, (_share, _m, _i, area, g, a, r, n) in enumerate(gaps, start=1):
        put(ws, row, 0, rank, f.int)
        put(ws, row, 1, data.area_label(area), f.bold_wrap)
        for col, value in enumerate((n, r, a, g), start=2):
            put(ws, row, col, value, f.int)
        put(ws, row, 6, 100.0 * (a + r) / n, f.pct)
        put(ws, row, 7, data.area_spread[area.id].median, f.pct)
        row += 1
    row += 1
    put(ws, row, 0, f"Standards that most units did not rate {data.best_label}", f.heading)
    row += 1
    labels = [s.label for s in data.network.scale]
    order = [
        lab
        for role in ("worst", "middle", "best", "na")
        for lab in labels
        if data.labels[lab] == role
    ]
    below_col = 3 + len(order)
    std_col = below_col + 2
    head = ["Rank", "Area", "ID"] + [f"{lab} (units)" for lab in order]
    head += [f"Below {data.best_label} (%)", "Network median (%)", "Standard"]
    for col, text in enumerate(head):
        put(ws, row, col, text, f.header)
    ws.set_column(std_col, std_col, 70)
    ws.set_row(row, 34)
    row += 1
    area_by_id = {a.id: a for a in data.areas}
    gaps_std = []
    for lines in data.standards.values():
        for line in lines:
            st = data.standard_stats[line.id]
            if st.share_below is not None and st.share_below > 50:
                worst = sum(st.counts.get(lab, 0) for lab in labels if data.labels[lab] == "worst")
                gaps_std.append((-st.share_below, -worst, line.id, line, st))
    gaps_std.sort(key=lambda x: x[:3])
    if not gaps_std:
        paragraph(ws, row, 0, std_col, p["gaps_none_standards"], f.muted, 190)
    for rank, (_s, _w, _id, line, st) in enumerate(gaps_std, start=1):
        area = area_by_id.get(line.area_id)
        put(ws, row, 0, rank, f.int)
        put(ws, row, 1, data.area_label(area) if area else line.area_id, f.bold_wrap)
        put(ws, row, 2, line.id, f.cell)
        for k, lab in enumerate(order):
            put(ws, row, 3 + k, st.counts.get(lab, 0), f.int)
        put(ws, row, below_col, st.share_below, f.pct)
        put(ws, row, below_col + 1, st.median, f.pct)
        put(ws, row, std_col, line.text, f.wrap)
        ws.set_row(row, std_height(line.text))
        row += 1
    print_wide(ws)


def _units_phrase(data: PeriodData, units: tuple[str, ...]) -> str:
    names = [data.name(u) for u in units[:UNITS_LISTED]]
    if len(units) > UNITS_LISTED:
        names.append(f"and {len(units) - UNITS_LISTED} more")
    return ", ".join(names)


def _network_library(book: Book, data: PeriodData, p: dict) -> None:
    f = book.f
    ws = book.sheet("Evidence library", "Good practice to learn from: evidence of standards rated Met, by standard")
    set_widths(ws, [26, 9, 50, 16, 70])
    put(ws, 0, 0, f"Evidence library: good practice, {data.month}", f.title)
    ws.set_row(0, 26)
    paragraph(ws, 1, 0, 4, p["library_intro"], f.text, 170)
    head = 3
    for col, text in enumerate(["Area", "ID", "Standard", "Unit(s)", "Evidence"]):
        put(ws, head, col, text, f.header)
    row = head + 1
    area_by_id = {a.id: a for a in data.areas}
    texts = {line.id: line.text for lines in data.standards.values() for line in lines}
    if not data.library:
        paragraph(ws, row, 0, 4, p["library_none"], f.muted, 170)
    for e in data.library:
        area = area_by_id.get(e.area_id)
        put(ws, row, 0, area.name if area else e.area_id, f.wrap)
        put(ws, row, 1, e.standard_id, f.cell)
        std = texts.get(e.standard_id, "")
        put(ws, row, 2, std, f.wrap)
        put(ws, row, 3, _units_phrase(data, e.units), f.wrap)
        put(ws, row, 4, e.text, f.wrap)
        ws.set_row(row, max(18, max(wrapped_lines(std, 50), wrapped_lines(e.text, 70)) * 15.5 + 4))
        row += 1
    if data.library:
        ws.autofilter(head, 0, row - 1, 4)
    print_wide(ws, head)


def _network_completion(book: Book, data: PeriodData, p: dict) -> None:
    f = book.f
    ws = book.sheet("Completion", "Who returned, who was rejected and who is missing, and co-production")
    set_widths(ws, [30, 14, 12, 13, 11, 12, 80])
    put(ws, 0, 0, f"Completion and co-production, {data.month}", f.title)
    ws.set_row(0, 26)
    paragraph(ws, 1, 0, 6, p["completion_intro"].format(month=data.month), f.text, 170)
    c = data.counts()
    share = data.coproduction_share()
    summary = (
        f"{c['returned']} returned, {c['rejected']} rejected, {c['missing']} missing, of "
        f"{len(data.network.units)} units. Areas agreed with a service user taking part: "
        f"{pct_text(share)}."
    )
    paragraph(ws, 2, 0, 6, summary, f.text, 170)
    row = 3
    if data.unidentified:
        paragraph(ws, row, 0, 6, p["unidentified"].format(n=data.unidentified), f.muted, 170)
        row += 1
    head = row + 1
    row = completion_table(ws, f, data, head, notes=True)
    row += 1
    put(ws, row, 0, "Co-production by area", f.heading)
    row += 1
    for col, text in enumerate(["Area", "Returns", "With a service user", "Share (%)"]):
        put(ws, row, col, text, f.header)
    ws.set_row(row, 34)
    row += 1
    for area in data.areas:
        yes, total = data.area_coproduction.get(area.id, (0, 0))
        put(ws, row, 0, data.area_label(area), f.bold)
        put(ws, row, 1, total, f.int)
        put(ws, row, 2, yes, f.int)
        put(ws, row, 3, 100.0 * yes / total if total else None, f.pct)
        row += 1
    print_wide(ws, head)



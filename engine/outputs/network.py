"""The network benchmark workbook: every unit against every area, per area, trends, gaps,
the evidence library, completion, actions and family and friends responses (counts only).

Every table is an Excel table with one header row, and every printed page is A4
at 9 pt or more: wide figures are split into several tables (the units grid,
the area medians by month, unit scores by month) rather than shrunk to fit.
"""

from __future__ import annotations

from .. import template as T
from ..bank import Area
from . import charts as C
from .common import (
    AREA_HEADERS,
    AREAS_PER_TABLE,
    COMPLETION_NOTE_WIDTH,
    MISSING,
    NOT_APPLICABLE,
    UNITS_LISTED,
    actions_shared_sheet,
    area_medians_chart,
    area_spread_row,
    completion_table,
    cover,
    families_shared_sheet,
    fit_row,
    no_figure_note,
    rag_of,
    rag_word,
    ranking_sheet,
    received_phrase,
    shown,
    units_grid,
)
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
)

AREA_WIDTHS = [22, 9, 9, 9, 9, 9, 11, 9, 9, 9, 13]
AREA_SHEET_WIDTHS = [36, 10, 11, 14, 14, 14, 14, 14]
TREND_WIDTHS = [20] + [13] * 6
TREND_AREAS_PER_TABLE = 6
TREND_MONTHS_PER_TABLE = 6
# Rank, area, ID (or units counted), four ratings (or RAG counts), below Met, standard.
GAP_WIDTHS = [6, 16, 8, 9, 9, 9, 9, 9, 51]
LIBRARY_WIDTHS = [14, 9, 36, 12, 56]
COMPLETION_WIDTHS = [22, 12, 12, 12, 10, 9, COMPLETION_NOTE_WIDTH]


def _px(widths: list[float]) -> int:
    """Pixels the columns take (a chart is placed by them): no chart is wider than its tables,
    so it never makes a printed page wider than the tables do."""
    return sum(int(w * 7 + 5) for w in widths)


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
    actions_shared_sheet(book, data)
    families_shared_sheet(book, data)
    if data.network.show_ranking:
        ranking_sheet(book, data, p["ranking_intro"])
    return book.close()


def _title(ws, f, text: str) -> None:
    put(ws, 0, 0, text, f.title)
    ws.set_row(0, 26)


def _pct(f, value):
    """A percentage cell: the figure, or ``[x]``."""
    return shown(value), (f.pct if value is not None else f.missing)


def _network_overview(book: Book, data: PeriodData, p: dict) -> None:
    f = book.f
    ws = book.sheet(
        "Overview",
        "Every unit against every area this month, with the network median, lowest and highest",
    )
    per = AREAS_PER_TABLE
    width = sum(AREA_SHEET_WIDTHS)
    _title(ws, f, p["title"].format(network=data.network.name, month=data.month))
    counts = data.counts()
    intro = p["overview_intro"].format(
        returned=counts["returned"],
        units=len(data.network.units),
        month=data.month,
        received=received_phrase(data),
        rag_rule=data.rag_rule(),
    )
    last_col = 2 * (per + 1)
    paragraph(ws, 1, 0, last_col, f"{intro} {no_figure_note(book)}", f.text, width)
    tables = max(1, -(-len(data.areas) // per))
    paragraph(ws, 2, 0, last_col, p["overview_tables"].format(n=tables, per=per), f.text, width)
    units_grid(book, data, ws, 4, include_missing=True, per_table=per, name="Overview")
    print_wide(ws)


def _network_areas(book: Book, data: PeriodData, p: dict) -> None:
    f = book.f
    ws = book.sheet(
        "Areas",
        "Each area across the network: median, range and how many units are Green, Amber or Red",
    )
    set_widths(ws, AREA_WIDTHS)
    _title(ws, f, f"Areas across the network, {data.month}")
    paragraph(ws, 1, 0, 10, f"{p['areas_intro']} {no_figure_note(book)}", f.text, sum(AREA_WIDTHS))
    head = 3
    row = book.table(ws, head, 0, AREA_HEADERS, len(data.areas) + 1, "Areas")
    fit_row(ws, head, zip(AREA_HEADERS, AREA_WIDTHS), bold=True)
    for area in data.areas:
        area_spread_row(ws, f, data, area, row)
        fit_row(ws, row, [(data.area_short(area), AREA_WIDTHS[0])], bold=True)
        row += 1
    s = data.overall
    put(ws, row, 0, "Overall score", f.net_label)
    put(ws, row, 1, shown(s.median), f.net_pct)
    word = rag_of(data, s.median)
    put(ws, row, 2, word or MISSING, f.rag_bold[word] if word else f.net_cell)
    put(ws, row, 3, shown(s.low), f.net_pct)
    put(ws, row, 4, shown(s.high), f.net_pct)
    put(ws, row, 5, s.n, f.net_cell)
    for col in range(6, 10):
        put(ws, row, col, NOT_APPLICABLE, f.net_cell)
    put(ws, row, 10, shown(data.coproduction_share()), f.net_pct)
    fit_row(ws, row, [("Overall score", AREA_WIDTHS[0])], bold=True)
    if data.units and data.areas:
        area_medians_chart(book, ws, data, head, row + 2, _px(AREA_WIDTHS) - 10)
    print_wide(ws)


def _network_area_sheet(book: Book, data: PeriodData, p: dict, area: Area) -> None:
    f = book.f
    name = T.area_sheet_name(area.index, area.short_name)
    ws = book.sheet(
        name, f"Area {area.index}, {area.name}: each unit against the network, standard by standard"
    )
    widths = AREA_SHEET_WIDTHS
    set_widths(ws, widths)
    lines = data.standards.get(area.id, [])
    last_col = len(widths) - 1
    _title(ws, f, f"Area {area.index} of {len(data.areas)}: {area.name}")
    paragraph(ws, 1, 0, last_col, area.description, f.text, sum(widths))
    s = data.area_spread[area.id]
    intro = p["area_intro"].format(
        median=pct_text(s.median),
        low=pct_text(s.low),
        high=pct_text(s.high),
        n=s.n,
    )
    paragraph(ws, 2, 0, last_col, f"{intro} {no_figure_note(book)}", f.text, sum(widths))

    # Each unit's score against the network median.
    head = 4
    headers = ["Unit", "Score (%)", "RAG", "Network median (%)", "Difference from median (points)"]
    row = book.table(ws, head, 0, headers, len(data.units) + 1, f"Area_{area.index}_scores")
    fit_row(ws, head, zip(headers, widths), bold=True)
    put(ws, row, 0, "Network median", f.net_label)
    put(ws, row, 1, shown(s.median), f.net_pct)
    word = rag_of(data, s.median)
    put(ws, row, 2, word or MISSING, f.rag_bold[word] if word else f.net_cell)
    put(ws, row, 3, NOT_APPLICABLE, f.net_cell)
    put(ws, row, 4, NOT_APPLICABLE, f.net_cell)
    row += 1
    first = row
    for code in data.units:
        res = data.results[code].areas.get(area.id)
        pct = res.percent if res else None
        put(ws, row, 0, data.name(code), f.bold)
        put(ws, row, 1, *_pct(f, pct))
        word = rag_word(data, res) or MISSING
        fill = res.rag if res and res.complete and res.percent is not None else ""
        put(ws, row, 2, word, f.rag_wrap[fill] if word != MISSING else f.missing)
        put(ws, row, 3, *_pct(f, s.median))
        diff = None if pct is None or s.median is None else pct - s.median
        put(ws, row, 4, shown(diff), f.points if diff is not None else f.missing)
        fit_row(ws, row, [(word, widths[2]), (data.name(code), widths[0])])
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
            size=(_px(widths) - 10, 400),
            rotate=-45 if len(data.units) > 12 else 0,
        )
        alt = (
            f"Column chart of each unit's score in {area.name} for {data.month}, with the network "
            f"median ({pct_text(s.median)}) marked against each unit. Scores of units that "
            f"completed the area range from {pct_text(s.low)} to {pct_text(s.high)}."
        )
        # The chart starts a printed page; the standards follow it.
        ws.set_h_pagebreaks([row])
        book.insert_chart(ws, row, 0, chart, alt)
        row += 22

    # Standard by standard: the network figures and which units gave which rating.
    put(ws, row, 0, p["standards_heading"], f.heading)
    ws.set_row(row, 22)
    row += 1
    paragraph(
        ws,
        row,
        0,
        last_col,
        p["standards_intro"].format(best=data.best_label),
        f.text,
        sum(widths),
    )
    row += 1
    if not lines:
        return print_wide(ws)
    labels = [sc.label for sc in data.network.scale]
    not_rated = presentation()["words"]["not_rated"]
    headers = ["Standard", "How many units rated it", f"Rated {data.best_label} (% of units)"]
    headers += [f"{label} (units)" for label in labels] + [f"{not_rated} (units)"]
    head = row
    row = book.table(ws, head, 0, headers, len(lines), f"Area_{area.index}_standards")
    fit_row(ws, head, zip(headers, widths), bold=True)
    for line in lines:
        st = data.standard_stats[line.id]
        by_label: dict[str, list[str]] = {label: [] for label in labels + [""]}
        for code in data.units:
            label = data.ratings.get(code, {}).get(line.id, "")
            by_label.setdefault(label, []).append(code)
        text = f"{line.id}: {line.text}"
        put(ws, row, 0, text, f.wrap)
        rated = st.rated_text(labels)
        put(ws, row, 1, rated, f.wrap)
        put(ws, row, 2, *_pct(f, st.share_met))
        cells = [(text, widths[0]), (rated, widths[1])]
        for k, label in enumerate(labels + [""]):
            units = by_label.get(label, [])
            listed = ", ".join(data.name(u) for u in units) if units else "None"
            put(ws, row, 3 + k, listed, f.wrap if units else f.missing)
            cells.append((listed, widths[3 + k] if 3 + k < len(widths) else widths[-1]))
        fit_row(ws, row, cells)
        row += 1
    print_wide(ws)


def _network_trends(book: Book, data: PeriodData, p: dict) -> None:
    f = book.f
    ws = book.sheet("Trends", "The network median and range by month")
    areas = data.areas
    widths = TREND_WIDTHS
    set_widths(ws, widths)
    last_col = len(widths) - 1
    _title(ws, f, f"Trends up to {data.month}")
    intro = p["trends_intro"].format(month=data.month)
    paragraph(ws, 1, 0, last_col, f"{intro} {no_figure_note(book)}", f.text, sum(widths))
    head = 3
    headers = [
        "Month",
        "Units returned",
        "Network median (%)",
        "Lowest (%)",
        "Highest (%)",
        "Service user took part (% of areas)",
    ]
    row = book.table(ws, head, 0, headers, len(data.months), "Trends")
    fit_row(ws, head, zip(headers, widths), bold=True)
    for m in data.months:
        put(ws, row, 0, m.period, f.bold)
        put(ws, row, 1, m.returned, f.int)
        for col, value in enumerate(
            (m.overall.median, m.overall.low, m.overall.high, m.coproduction), start=2
        ):
            put(ws, row, col, *_pct(f, value))
        row += 1
    if not data.months:
        for col in range(len(headers)):
            put(ws, row, col, MISSING, f.missing)
        row += 1
    last = row - 1
    row += 1
    breaks = []
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
            size=(_px(widths) - 10, 400),
        )
        latest = data.months[-1]
        alt = (
            f"Line chart of the network median overall score by month, {data.months[0].period} "
            f"to {latest.period}, with the lowest and highest unit and the share of areas agreed "
            f"with a service user. Median in {latest.period}: {pct_text(latest.overall.median)}."
        )
        breaks.append(row)  # the chart starts a printed page; the area medians follow it
        book.insert_chart(ws, row, 0, chart, alt)
        row += 22

    # Each area's network median by month, in tables of up to six areas.
    put(ws, row, 0, p["trends_areas_heading"], f.heading)
    ws.set_row(row, 22)
    row += 1
    step = TREND_AREAS_PER_TABLE
    for i in range(0, len(areas), step):
        group = areas[i : i + step]
        headers = ["Month"] + [f"{data.area_short(a)} (%)" for a in group]
        name = f"Trends_areas_{group[0].index}_to_{group[-1].index}"
        top = row
        row = book.table(ws, top, 0, headers, max(1, len(data.months)), name)
        fit_row(ws, top, zip(headers, widths), bold=True)
        for m in data.months:
            put(ws, row, 0, m.period, f.bold)
            for k, a in enumerate(group):
                put(ws, row, 1 + k, *_pct(f, m.areas[a.id].median))
            row += 1
        if not data.months:
            for col in range(len(headers)):
                put(ws, row, col, MISSING, f.missing)
            row += 1
        row += 1

    # Each unit's overall score by month, in tables of up to six months.
    codes = sorted(data.unit_months, key=unit_order(data.network))
    if codes and data.months:
        breaks.append(row)
        put(ws, row, 0, p["trends_units_heading"], f.heading)
        ws.set_row(row, 22)
        row += 1
        periods = [m.period for m in data.months]
        step = TREND_MONTHS_PER_TABLE
        # The latest months make a full table; the earliest table may have fewer.
        starts = list(range(len(periods) - step, -step, -step))[::-1]
        for start in starts:
            chunk = periods[max(0, start) : start + step]
            headers = ["Unit"] + chunk
            top = row
            row = book.table(
                ws, top, 0, headers, len(codes), f"Trends_units_{chunk[0]}_to_{chunk[-1]}"
            )
            fit_row(ws, top, zip(headers, widths), bold=True)
            for code in codes:
                scores = {per: overall for per, overall, _rag in data.unit_months.get(code, [])}
                put(ws, row, 0, data.name(code), f.bold)
                for k, per in enumerate(chunk):
                    put(ws, row, 1 + k, *_pct(f, scores.get(per)))
                row += 1
            row += 1
    ws.set_h_pagebreaks(breaks)
    print_wide(ws)


def _network_gaps(book: Book, data: PeriodData, p: dict) -> None:
    f = book.f
    ws = book.sheet("Gaps", "Areas and standards where most units are not there yet")
    widths = GAP_WIDTHS
    set_widths(ws, widths)
    last_col = len(widths) - 1
    _title(ws, f, f"Gaps in provision, {data.month}")
    paragraph(ws, 1, 0, last_col, p["gaps_intro"], f.text, sum(widths))
    row = 3
    put(ws, row, 0, "Areas where most units are Red or Amber", f.heading)
    ws.set_row(row, 22)
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
        paragraph(ws, row, 0, last_col, p["gaps_none_areas"], f.muted, sum(widths))
        row += 1
    else:
        headers = [
            "Rank",
            "Area",
            "Units counted",
            "Red (units)",
            "Amber (units)",
            "Green (units)",
            "Red or Amber (%)",
            "Network median (%)",
        ]
        top = row
        row = book.table(ws, top, 0, headers, len(gaps), "Gaps_areas")
        fit_row(ws, top, zip(headers, widths), bold=True)
        for rank, (_share, _m, _i, area, g, a, r, n) in enumerate(gaps, start=1):
            put(ws, row, 0, rank, f.int)
            put(ws, row, 1, data.area_short(area), f.bold_wrap)
            for col, value in enumerate((n, r, a, g), start=2):
                put(ws, row, col, value, f.int)
            put(ws, row, 6, 100.0 * (a + r) / n, f.pct)
            put(ws, row, 7, *_pct(f, data.area_spread[area.id].median))
            fit_row(ws, row, [(data.area_short(area), widths[1])], bold=True)
            row += 1
    row += 1
    put(ws, row, 0, f"Standards that most units did not rate {data.best_label}", f.heading)
    ws.set_row(row, 22)
    row += 1
    labels = [s.label for s in data.network.scale]
    order = [
        lab
        for role in ("worst", "middle", "best", "na")
        for lab in labels
        if data.labels[lab] == role
    ]
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
        paragraph(ws, row, 0, last_col, p["gaps_none_standards"], f.muted, sum(widths))
        print_wide(ws)
        return
    headers = ["Rank", "Area", "ID"] + [f"{lab} (units)" for lab in order]
    headers += [f"Below {data.best_label} (%)", "Standard"]
    std_col = len(headers) - 1
    top = row
    row = book.table(ws, top, 0, headers, len(gaps_std), "Gaps_standards")
    col_widths = widths[:std_col] + [widths[-1]]
    fit_row(ws, top, zip(headers, col_widths), bold=True)
    if std_col != len(widths) - 1:
        ws.set_column(std_col, std_col, widths[-1])
    for rank, (_s, _w, _id, line, st) in enumerate(gaps_std, start=1):
        area = area_by_id.get(line.area_id)
        area_text = data.area_short(area) if area else line.area_id
        put(ws, row, 0, rank, f.int)
        put(ws, row, 1, area_text, f.bold_wrap)
        put(ws, row, 2, line.id, f.cell)
        for k, lab in enumerate(order):
            put(ws, row, 3 + k, st.counts.get(lab, 0), f.int)
        put(ws, row, std_col - 1, *_pct(f, st.share_below))
        put(ws, row, std_col, line.text, f.wrap)
        fit_row(ws, row, [(line.text, widths[-1]), (area_text, widths[1])])
        row += 1
    print_wide(ws, top)


def _units_phrase(data: PeriodData, units: tuple[str, ...]) -> str:
    names = [data.name(u) for u in units[:UNITS_LISTED]]
    if len(units) > UNITS_LISTED:
        names.append(f"and {len(units) - UNITS_LISTED} more")
    return ", ".join(names)


def _network_library(book: Book, data: PeriodData, p: dict) -> None:
    f = book.f
    ws = book.sheet(
        "Evidence library",
        "Good practice to learn from: evidence of standards rated Met, by standard",
    )
    widths = LIBRARY_WIDTHS
    set_widths(ws, widths)
    _title(ws, f, f"Evidence library: good practice, {data.month}")
    paragraph(ws, 1, 0, 4, p["library_intro"], f.text, sum(widths))
    head = 3
    if not data.library:
        paragraph(ws, head, 0, 4, p["library_none"], f.muted, sum(widths))
        print_wide(ws)
        return
    headers = ["Area", "ID", "Standard", "Unit(s)", "Evidence"]
    row = book.table(ws, head, 0, headers, len(data.library), "Evidence_library")
    fit_row(ws, head, zip(headers, widths), bold=True)
    area_by_id = {a.id: a for a in data.areas}
    texts = {line.id: line.text for lines in data.standards.values() for line in lines}
    for e in data.library:
        area = area_by_id.get(e.area_id)
        area_text = data.area_short(area) if area else e.area_id
        std = texts.get(e.standard_id, "") or MISSING
        units = _units_phrase(data, e.units) or MISSING
        put(ws, row, 0, area_text, f.wrap)
        put(ws, row, 1, e.standard_id, f.cell)
        put(ws, row, 2, std, f.wrap)
        put(ws, row, 3, units, f.wrap)
        put(ws, row, 4, e.text or MISSING, f.wrap)
        fit_row(ws, row, zip((area_text, e.standard_id, std, units, e.text), widths))
        row += 1
    print_wide(ws, head)


def _network_completion(book: Book, data: PeriodData, p: dict) -> None:
    f = book.f
    ws = book.sheet(
        "Completion", "Who returned, who was rejected and who is missing, and co-production"
    )
    widths = COMPLETION_WIDTHS
    set_widths(ws, widths)
    last_col = len(widths) - 1
    _title(ws, f, f"Completion and co-production, {data.month}")
    intro = p["completion_intro"].format(month=data.month)
    paragraph(ws, 1, 0, last_col, f"{intro} {no_figure_note(book)}", f.text, sum(widths))
    c = data.counts()
    share = data.coproduction_share()
    summary = (
        f"{c['returned']} returned, {c['rejected']} rejected, {c['missing']} missing, of "
        f"{len(data.network.units)} units. Areas agreed with a service user taking part: "
        f"{pct_text(share)}."
    )
    paragraph(ws, 2, 0, last_col, summary, f.text, sum(widths))
    row = 3
    if data.unidentified:
        paragraph(
            ws,
            row,
            0,
            last_col,
            p["unidentified"].format(n=data.unidentified),
            f.muted,
            sum(widths),
        )
        row += 1
    head = row + 1
    if data.completion:
        row = completion_table(ws, f, data, head, notes=True, book=book, name="Completion")
        fit_row(
            ws,
            head,
            zip(["Areas agreed with a service user"] * len(widths), widths[3:4]),
            bold=True,
        )
        row += 1
    else:
        row = head
    put(ws, row, 0, "Co-production by area", f.heading)
    ws.set_row(row, 22)
    row += 1
    headers = ["Area", "Returns", "With a service user", "Share (%)"]
    top = row
    row = book.table(ws, top, 0, headers, len(data.areas), "Coproduction_by_area")
    fit_row(ws, top, zip(headers, widths), bold=True)
    for area in data.areas:
        yes, total = data.area_coproduction.get(area.id, (0, 0))
        put(ws, row, 0, data.area_short(area), f.bold_wrap)
        put(ws, row, 1, total, f.int)
        put(ws, row, 2, yes, f.int)
        put(ws, row, 3, *_pct(f, 100.0 * yes / total if total else None))
        fit_row(ws, row, [(data.area_short(area), widths[0])], bold=True)
        row += 1
    print_wide(ws, head)

"""The feedback workbook of one unit: its results against the network, its trend,
strengths, priorities and an action plan to fill in.
"""

from __future__ import annotations

from functools import lru_cache

from ..bank import Area
from ..workbook import month_name, row_height, text_lines
from . import charts as C
from .common import IDEAS_PER_STANDARD, cover, rag_word
from .figures import AreaResult, PeriodData, StandardLine, UnitResult
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
    _feedback_strengths(book, data, p, code, result)
    _feedback_action_plan(book, data, p, result)
    return book.close()


def _feedback_results(
    book, data: PeriodData, p: dict, code: str, unit_name: str, result: UnitResult
):
    f = book.f
    ws = book.sheet("Your results", "Your scores in each area against the network, and how they changed")
    changes = _changes(data, code)
    widths = FEEDBACK_WIDTHS["results"] + [FEEDBACK_WIDTHS["change"]] * len(changes)
    set_widths(ws, widths)
    last_col = 7 + len(changes)
    put(ws, 0, 0, p["title"].format(unit_name=unit_name, month=data.month), f.title)
    ws.set_row(0, 26)
    rag = result.overall_rag or presentation()["words"]["no_score"]
    intro = p["intro"].format(
        overall=pct_text(result.overall),
        rag=rag,
        median=pct_text(data.overall.median),
        n=len(data.units),
    )
    paragraph(ws, 1, 0, last_col, intro, f.text, sum(widths))
    head = 3
    headers = [
        "Area",
        "Your score (%)",
        "Your RAG",
        "Network median (%)",
        "Network lowest (%)",
        "Network highest (%)",
        "Difference from median (points)",
        "Service user took part",
    ] + [c[0] for c in changes]
    for col, text in enumerate(headers):
        put(ws, head, col, text, f.header)
    ws.set_row(head, _fb_header_height(headers, widths))
    row = head + 1
    yes_no = data.signoffs.get(code, {})
    for area in data.areas:
        res = result.areas.get(area.id)
        s = data.area_spread[area.id]
        pct = res.percent if res else None
        put(ws, row, 0, data.area_short(area), f.bold_wrap)
        _fb_fit(
            ws,
            row,
            (data.area_short(area), widths[0], True),
            (rag_word(data, res), widths[2], False),
        )
        put(ws, row, 1, pct, f.pct)
        put(
            ws,
            row,
            2,
            rag_word(data, res),
            f.rag_wrap.get(res.rag if res and res.complete else "", f.wrap),
        )
        put(ws, row, 3, s.median, f.pct)
        put(ws, row, 4, s.low, f.pct)
        put(ws, row, 5, s.high, f.pct)
        put(ws, row, 6, None if pct is None or s.median is None else pct - s.median, f.points)
        put(ws, row, 7, yes_no.get(area.id, ""), f.cell)
        for k, (_h, before, _total) in enumerate(changes):
            then = before.get(area.id)
            put(ws, row, 8 + k, None if pct is None or then is None else pct - then, f.points)
        row += 1
    last = row - 1
    s = data.overall
    put(ws, row, 0, "Overall", f.net_label)
    put(ws, row, 1, result.overall, f.net_pct)
    put(ws, row, 2, result.overall_rag, f.rag_bold.get(result.overall_rag, f.net_cell))
    put(ws, row, 3, s.median, f.net_pct)
    put(ws, row, 4, s.low, f.net_pct)
    put(ws, row, 5, s.high, f.net_pct)
    diff = None if result.overall is None or s.median is None else result.overall - s.median
    put(ws, row, 6, diff, f.points)
    put(ws, row, 7, "", f.net_cell)
    for k, (_h, _before, then) in enumerate(changes):
        value = None if result.overall is None or then is None else result.overall - then
        put(ws, row, 8 + k, value, f.points)
    chart = C.bars_against_network(
        book.wb,
        title=f"Your score in each area against the network median, {data.month}",
        categories=("Your results", head + 1, 0, last, 0),
        values=("Your results", head + 1, 1, last, 1),
        network=("Your results", head + 1, 3, last, 3),
        values_name="Your score",
        network_name="Network median",
        x_title="Area",
        palette=chart_palette(),
        size=(FEEDBACK_CHART_WIDTH, 500),
        rotate=-45,
    )
    ws.insert_chart(row + 2, 0, chart)
    # One page wide at full size: the table on the first page, the chart on the next
    # (a chart split by a page break prints in two halves).
    print_wide(ws)
    ws.set_h_pagebreaks([row + 1])


def _feedback_standards(book, data: PeriodData, p: dict, code: str) -> None:
    f = book.f
    ws = book.sheet("Standards", "Every standard: your rating, the network median and the share of units that met it")
    widths = FEEDBACK_WIDTHS["standards"]
    set_widths(ws, widths)
    put(ws, 0, 0, f"Standard by standard, {data.month}", f.title)
    ws.set_row(0, 26)
    paragraph(ws, 1, 0, 4, p["standards_intro"], f.text, sum(widths))
    head = 3
    headers = [
        "ID",
        "Standard",
        "Your rating",
        "Network median (%)",
        f"Units rating it {data.best_label} (%)",
    ]
    for col, text in enumerate(headers):
        put(ws, head, col, text, f.header)
    ws.set_row(head, _fb_header_height(headers, widths))
    row = head + 1
    ratings = data.ratings.get(code, {})
    for area in data.areas:
        ws.merge_range(row, 0, row, 4, "", f.net_label)
        put(ws, row, 0, data.area_label(area), f.net_label)
        row += 1
        for line in data.standards.get(area.id, []):
            st = data.standard_stats[line.id]
            label = ratings.get(line.id, "")
            put(ws, row, 0, line.id, f.cell)
            put(ws, row, 1, line.text, f.wrap)
            put(ws, row, 2, label or "Not rated", f.rating.get(label, f.cell))
            put(ws, row, 3, st.median, f.pct)
            put(ws, row, 4, st.share_met, f.pct)
            _fb_fit(ws, row, (line.text, widths[1], False))
            row += 1
    print_wide(ws, head)


@lru_cache(maxsize=4096)
def std_height(text: str) -> float:
    return max(18.0, wrapped_lines(text, 70) * 15.5 + 4)


# The unit feedback workbook prints one page wide at 93 % or more (11 pt text at
# 10.2 pt or more) even where LibreOffice stands in a wider font for Calibri
# (DejaVu Sans: its columns come out 1.37 x as wide as Excel's): every sheet's
# widths add up to 110 characters or less, and charts are at most 760 pixels wide.
FEEDBACK_WIDTHS = {
    # Area, Your score, Your RAG, median, lowest, highest, difference, service user;
    "results": [24, 8, 12, 8, 8, 8, 10, 8],
    # then one column per earlier month compared.
    "change": 10,
    "standards": [8, 66, 12, 10, 12],
    "trend": [12, 13, 13, 13, 13],
    # Area, ID, Standard, Your rating, Your score, median, units Met, why / ideas.
    "strengths": [13, 7, 22, 11, 7, 8, 8, 35],
    # Area, Your score, RAG, standards to work on, what will change, who leads, by when.
    "plan": [18, 8, 12, 18, 30, 14, 10],
}
FEEDBACK_CHART_WIDTH = 760
# Months the trend table can list with its chart below it on the same page.
FEEDBACK_TREND_ROWS_WITH_CHART = 7
FEEDBACK_FONT_SIZE = 11


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


def _feedback_trend(book, data: PeriodData, p: dict, code: str) -> None:
    f = book.f
    ws = book.sheet("Trend", "Your overall score month by month, next to the network median")
    widths = FEEDBACK_WIDTHS["trend"]
    set_widths(ws, widths)
    put(ws, 0, 0, f"Your trend up to {data.month}", f.title)
    ws.set_row(0, 26)
    paragraph(ws, 1, 0, 4, p["trend_intro"], f.text, sum(widths))
    head = 3
    headers = ["Month", "Your overall (%)", "Your RAG", "Network median (%)"]
    for col, text in enumerate(headers):
        put(ws, head, col, text, f.header)
    ws.set_row(head, _fb_header_height(headers, widths))
    medians = {m.period: m.overall.median for m in data.months}
    row = head + 1
    for per, overall, word in data.unit_months.get(code, []):
        put(ws, row, 0, per, f.bold)
        put(ws, row, 1, overall, f.pct)
        put(ws, row, 2, word, f.rag.get(word, f.cell))
        put(ws, row, 3, medians.get(per), f.pct)
        row += 1
    last = row - 1
    pal = chart_palette()
    chart = C.trend_lines(
        book.wb,
        title=f"Your overall score and the network median by month, up to {data.month}",
        categories=("Trend", head + 1, 0, last, 0),
        series=[
            ("Your overall score", ("Trend", head + 1, 1, last, 1), pal.unit, "solid"),
            ("Network median", ("Trend", head + 1, 3, last, 3), pal.network, "dash"),
        ],
        size=(FEEDBACK_CHART_WIDTH, 380),
    )
    # Below the table, not beside it: side by side they would not fit a page at full size.
    ws.insert_chart(row + 1, 0, chart)
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
    ws = book.sheet("Strengths and priorities", "What is going well and what to work on, with ideas from other units")
    widths = FEEDBACK_WIDTHS["strengths"]
    set_widths(ws, widths)
    headers = [
        "Area",
        "ID",
        "Standard",
        "Your rating",
        "Your score (%)",
        "Network median (%)",
        f"Units rating it {data.best_label} (%)",
        "",
    ]
    ratings = data.ratings.get(code, {})
    own_notes = data.notes.get(code, {})
    best = data.best_label
    row = 0

    def section(title: str, intro: str, last_header: str) -> None:
        nonlocal row
        put(ws, row, 0, title, f.title)
        ws.set_row(row, 26)
        paragraph(ws, row + 1, 0, 7, intro, f.text, sum(widths))
        for col, text in enumerate(headers[:-1] + [last_header]):
            put(ws, row + 2, col, text, f.header)
        ws.set_row(row + 2, _fb_header_height(headers[:-1] + [last_header], widths))
        row += 3

    def area_row(area: Area, res: AreaResult) -> None:
        nonlocal row
        word = rag_word(data, res)
        put(ws, row, 0, data.area_label(area), f.bold_wrap)
        put(ws, row, 1, "", f.cell)
        put(ws, row, 2, "Whole area", f.bold)
        put(ws, row, 3, word, f.rag_wrap.get(res.rag if res.complete else "", f.wrap))
        put(ws, row, 4, res.percent, f.pct)
        put(ws, row, 5, data.area_spread[area.id].median, f.pct)
        put(ws, row, 6, "", f.cell)
        put(ws, row, 7, "", f.cell)
        _fb_fit(ws, row, (data.area_label(area), widths[0], True), (word, widths[3], False))
        row += 1

    def standard_row(area: Area, line: StandardLine, label: str, extra: str) -> None:
        nonlocal row
        st = data.standard_stats[line.id]
        put(ws, row, 0, data.area_label(area), f.wrap)
        put(ws, row, 1, line.id, f.cell)
        put(ws, row, 2, line.text, f.wrap)
        put(ws, row, 3, label or "Not rated", f.rating.get(label, f.cell))
        put(ws, row, 4, "", f.cell)
        put(ws, row, 5, st.median, f.pct)
        put(ws, row, 6, st.share_met, f.pct)
        put(ws, row, 7, extra, f.wrap)
        _fb_fit(
            ws,
            row,
            (data.area_label(area), widths[0], False),
            (line.text, widths[2], False),
            (extra, widths[7], False),
        )
        row += 1

    section(p["strengths_title"], p["strengths_intro"], "Why")
    strong = []
    for area in data.areas:
        res = result.areas.get(area.id)
        median = data.area_spread[area.id].median
        if res is None or res.percent is None:
            continue
        if res.rag == "Green" or (median is not None and res.percent > median):
            strong.append((-res.percent, area.index, area, res))
    strong.sort(key=lambda x: x[:2])
    rare = []
    for area in data.areas:
        for line in data.standards.get(area.id, []):
            st = data.standard_stats[line.id]
            if ratings.get(line.id) == best and st.share_met is not None and st.share_met < 50:
                rare.append((area, line))
    if not strong and not rare:
        paragraph(ws, row, 0, 7, p["no_strengths"], f.muted, sum(widths))
        row += 1
    for _k, _i, area, res in strong:
        area_row(area, res)
    for area, line in rare:
        share = data.standard_stats[line.id].share_met
        standard_row(
            area,
            line,
            best,
            f"You met this; only {share:.0f}% of units did. Others could learn from your evidence.",
        )
    row += 1
    section(p["priorities_title"], p["priorities_intro"], "Ideas from other units / your notes")
    weak = []
    for area in data.areas:
        res = result.areas.get(area.id)
        if res is not None and res.rag in ("Red", "Amber") and res.percent is not None:
            weak.append((res.percent, area.index, area, res))
    weak.sort(key=lambda x: x[:2])
    if not weak:
        paragraph(ws, row, 0, 7, p["no_priorities"], f.muted, sum(widths))
        row += 1
    for _pct, _i, area, res in weak:
        area_row(area, res)
        for line in data.standards.get(area.id, []):
            label = ratings.get(line.id, "")
            if label == best or data.labels.get(label) == "na":
                continue
            parts = [f"Idea: {t}" for t in _ideas(data, code, line.id)]
            note = own_notes.get(line.id)
            if note:
                parts.append(f"Your note: {note}")
            standard_row(area, line, label, "\n".join(parts))
    print_wide(ws)


def _feedback_action_plan(book, data: PeriodData, p: dict, result: UnitResult) -> None:
    f = book.f
    ws = book.sheet("Action plan", "Your plan for the areas rated Red or Amber: fill in the white cells")
    widths = FEEDBACK_WIDTHS["plan"]
    set_widths(ws, widths)
    put(ws, 0, 0, f"Action plan, {data.month}", f.title)
    ws.set_row(0, 26)
    paragraph(ws, 1, 0, 6, p["action_intro"], f.text, sum(widths))
    head = 3
    headers = [
        "Area",
        "Your score (%)",
        "RAG",
        "Standards to work on",
        "What will change",
        "Who leads",
        "By when",
    ]
    for col, text in enumerate(headers):
        put(ws, head, col, text, f.header)
    ws.set_row(head, _fb_header_height(headers, widths))
    row = head + 1
    ratings = data.ratings.get(result.code, {})
    weak = []
    for area in data.areas:
        res = result.areas.get(area.id)
        if res is not None and res.rag in ("Red", "Amber"):
            weak.append((res.percent if res.percent is not None else 0, area.index, area, res))
    weak.sort(key=lambda x: x[:2])
    if not weak:
        paragraph(ws, row, 0, 6, p["action_none"], f.muted, sum(widths))
        row += 1
    for _pct, _i, area, res in weak:
        todo = [
            line.id
            for line in data.standards.get(area.id, [])
            if ratings.get(line.id, "") != data.best_label
            and data.labels.get(ratings.get(line.id, "")) != "na"
        ]
        put(ws, row, 0, data.area_label(area), f.bold_wrap)
        put(ws, row, 1, res.percent, f.pct)
        word = rag_word(data, res)
        put(ws, row, 2, word, f.rag_wrap.get(res.rag if res.complete else "", f.wrap))
        put(ws, row, 3, ", ".join(todo), f.wrap)
        for col in (4, 5, 6):
            ws.write_blank(row, col, None, f.unlocked)
        # Room to write four lines in the plan cells, and the area and standards in full.
        _fb_fit(
            ws,
            row,
            (data.area_label(area), widths[0], True),
            (word, widths[2], False),
            (", ".join(todo), widths[3], False),
            minimum=4,
        )
        row += 1
    for _ in range(int(p.get("spare_rows", 5))):
        for col in range(7):
            ws.write_blank(row, col, None, f.unlocked)
        ws.set_row(row, row_height(4, FEEDBACK_FONT_SIZE))
        row += 1
    # Only the plan cells can be typed in; rows and columns can be resized for long text.
    ws.protect("", {"format_rows": True, "format_columns": True})
    print_wide(ws, head)


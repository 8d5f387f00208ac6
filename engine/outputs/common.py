"""Tables and phrases that more than one output shows (units grid, completion, ranking)."""

from __future__ import annotations

import datetime as dt

from ..bank import Area
from ..workbook import long_date, month_name
from .figures import AreaResult, PeriodData, Spread, months_before, unit_order
from .sheets import (
    Book,
    Cover,
    Formats,
    paragraph,
    presentation,
    print_wide,
    put,
    rag_cf,
    set_widths,
    wrapped_lines,
)

GRID_WIDTHS = [20, 7, 10]  # unit, overall %, overall RAG


GRID_AREA_WIDTHS = [7, 10]  # per area: %, RAG


MAX_UNITS_ON_SUMMARY = 30  # more units than this do not fit the commissioners' one page


IDEAS_PER_STANDARD = 2


UNITS_LISTED = 8  # evidence library: units named per piece of evidence before "and n more"


def rag_word(data: PeriodData, result: AreaResult | None) -> str:
    if result is None:
        return ""
    word = presentation()["words"]
    if result.percent is None:
        return word["no_score"]
    return result.rag if result.complete else f"{result.rag} ({word['incomplete']})"


def rag_of(data: PeriodData, value: float | None) -> str:
    return data.network.rag(value)


def cover(data: PeriodData, title: str, about: str) -> Cover:
    """The cover of an output workbook: what it is, for when, as at when, what comes next, who to ask."""
    net = data.network
    following = months_before(data.period, -1)
    if data.received_up_to:
        as_at = f"{day_text(data.received_up_to)}: the date of the last return counted."
    else:
        as_at = f"No return for {data.month} has been counted yet."
    next_due = (
        f"The {month_name(following)} edition follows the returns for {month_name(following)}, "
        f"due on {long_date(net.due_date(following))}. This workbook is rebuilt whenever a "
        f"return for {data.month} arrives."
    )
    lines = presentation()["notes"]["lines"][1:]
    how = [
        line.format(
            rag_rule=data.rag_rule(),
            scale_rule=data.scale_rule(),
            standard_rule=data.standard_rule(),
        )
        for line in lines
    ]
    return Cover(
        title=title,
        about=about,
        month=data.month,
        as_at=as_at,
        next_due=next_due,
        contact=net.contact or f"The involvement lead of {net.name}.",
        how_to_read=how,
    )


def area_table_header(ws, f: Formats, row: int, areas: list[Area], first_col: int) -> None:
    """Two header rows: each area's name over its '%' and 'RAG' columns."""
    for i, area in enumerate(areas):
        col = first_col + 2 * i
        ws.merge_range(row, col, row, col + 1, f"{area.index}. {area.short_name}", f.header)
        put(ws, row + 1, col, "%", f.header)
        put(ws, row + 1, col + 1, "RAG", f.header)


def units_grid(book: Book, data: PeriodData, ws, top: int, *, include_missing: bool) -> int:
    """Every unit against every area (percent and RAG), network rows first. Returns next row."""
    f = book.f
    words = presentation()["words"]
    areas = data.areas
    ws.merge_range(top, 0, top + 1, 0, "Unit", f.header)
    ws.merge_range(top, 1, top, 2, "Overall", f.header)
    put(ws, top + 1, 1, "%", f.header)
    put(ws, top + 1, 2, "RAG", f.header)
    area_table_header(ws, f, top, areas, 3)
    ws.set_row(top, 48)
    row = top + 2
    net_rows = (
        ("Network median", lambda s: s.median, True),
        ("Lowest", lambda s: s.low, False),
        ("Highest", lambda s: s.high, False),
    )
    for label, pick, with_rag in net_rows:
        put(ws, row, 0, label, f.net_label)
        value = pick(data.overall)
        put(ws, row, 1, value, f.net_pct)
        put(ws, row, 2, rag_of(data, value) if with_rag else "", f.net_cell)
        for i, area in enumerate(areas):
            value = pick(data.area_spread[area.id])
            put(ws, row, 3 + 2 * i, value, f.net_pct)
            put(ws, row, 4 + 2 * i, rag_of(data, value) if with_rag else "", f.net_cell)
        row += 1
    put(ws, row, 0, "Units counted", f.net_label)
    put(ws, row, 1, data.overall.n, f.net_cell)
    put(ws, row, 2, "", f.net_cell)
    for i, area in enumerate(areas):
        put(ws, row, 3 + 2 * i, data.area_spread[area.id].n, f.net_cell)
        put(ws, row, 4 + 2 * i, "", f.net_cell)
    row += 1
    rag_cf(ws, f, top + 2, 2, row - 1, 2 + 2 * len(areas))
    first_unit = row
    for code in data.units:
        r = data.results[code]
        put(ws, row, 0, data.name(code), f.bold)
        put(ws, row, 1, r.overall, f.pct)
        overall_word = r.overall_rag if r.complete else f"{r.overall_rag} ({words['incomplete']})"
        put(ws, row, 2, overall_word if r.overall is not None else words["no_score"], f.wrap)
        for i, area in enumerate(areas):
            res = r.areas.get(area.id)
            put(ws, row, 3 + 2 * i, res.percent if res else None, f.pct)
            put(ws, row, 4 + 2 * i, rag_word(data, res), f.wrap)
        row += 1
    rag_cf(ws, f, first_unit, 2, row - 1, 2 + 2 * len(areas))
    if include_missing:
        for c in data.completion:
            if c.status == "returned":
                continue
            put(ws, row, 0, data.name(c.code), f.missing)
            word = words["rejected"] if c.status == "rejected" else words["not_returned"]
            ws.merge_range(row, 1, row, 2, "", f.missing)
            put(ws, row, 1, word, f.missing)
            row += 1
    return row


def received_phrase(data: PeriodData) -> str:
    if not data.received_up_to:
        return ""
    return f" (returns received up to {day_text(data.received_up_to)})"


def day_text(iso: str) -> str:
    """``2026-11-22`` as ``22 November 2026``."""
    try:
        day = dt.date.fromisoformat(iso[:10])
    except ValueError:
        return iso
    return f"{day.day} {month_name(day.strftime('%Y-%m'))}"


def area_spread_row(ws, f, data: PeriodData, area: Area, row: int) -> Spread:
    """One area's network figures in columns A to K: median, RAG, range, counts, co-production."""
    s = data.area_spread[area.id]
    g, a, r = data.area_rag[area.id]
    yes, total = data.area_coproduction.get(area.id, (0, 0))
    put(ws, row, 0, data.area_short(area), f.bold)
    put(ws, row, 1, s.median, f.pct)
    word = rag_of(data, s.median)
    put(ws, row, 2, word, f.rag[word])
    put(ws, row, 3, s.low, f.pct)
    put(ws, row, 4, s.high, f.pct)
    for col, value in enumerate((s.n, data.area_incomplete[area.id], g, a, r), start=5):
        put(ws, row, col, value, f.int)
    put(ws, row, 10, 100.0 * yes / total if total else None, f.pct)
    return s


def completion_table(ws, f, data: PeriodData, head: int, notes: bool) -> int:
    """Who returned, was rejected or is missing, with co-production; returns the next free row."""
    words = presentation()["words"]
    headers = ["Unit", "Status", "Received", "Areas agreed with a service user",
               "Areas recorded", "Share (%)"] + (["Note"] if notes else [])
    for col, text in enumerate(headers):
        put(ws, head, col, text, f.header)
    ws.set_row(head, 34 if notes else 48)
    row = head + 1
    status_fmt = {"returned": f.rag["Green"], "rejected": f.rag["Red"], "missing": f.rag["Amber"]}
    status_word = {"returned": words["returned"], "rejected": words["rejected"],
                   "missing": words["not_returned"]}
    for entry in data.completion:
        yes, total = data.coproduction.get(entry.code, (None, None))
        put(ws, row, 0, data.name(entry.code), f.bold)
        put(ws, row, 1, status_word[entry.status], status_fmt[entry.status])
        put(ws, row, 2, entry.received, f.cell)
        put(ws, row, 3, yes, f.int)
        put(ws, row, 4, total, f.int)
        put(ws, row, 5, 100.0 * yes / total if total else None, f.pct)
        if notes:
            note = ""
            if entry.status == "rejected":
                note = f"Latest file {entry.file} was not accepted: " + " ".join(entry.reasons)
            elif entry.later_rejected:
                note = (f"A later file ({entry.later_rejected}) was not accepted; "
                        "this return still counts.")
            put(ws, row, 6, note, f.wrap)
            if note:
                ws.set_row(row, max(18, wrapped_lines(note, 80) * 15.5 + 4))
        row += 1
    return row


def ranking_sheet(book: Book, data: PeriodData, intro: str) -> None:
    f = book.f
    ws = book.sheet("Ranking", "Units ordered by overall score")
    set_widths(ws, [8, 30, 12, 12])
    put(ws, 0, 0, f"Ranking by overall score, {data.month}", f.title)
    paragraph(ws, 1, 0, 3, intro, f.text, 60)
    for col, text in enumerate(["Rank", "Unit", "Overall (%)", "RAG"]):
        put(ws, 3, col, text, f.header)
    ranked = sorted(
        (u for u in data.units if data.results[u].overall is not None),
        key=lambda u: (-data.results[u].overall, unit_order(data.network)(u)),
    )
    row = 4
    for rank, code in enumerate(ranked, start=1):
        r = data.results[code]
        put(ws, row, 0, rank, f.int)
        put(ws, row, 1, data.name(code), f.bold)
        put(ws, row, 2, r.overall, f.pct)
        put(ws, row, 3, r.overall_rag, f.rag.get(r.overall_rag, f.cell))
        row += 1
    print_wide(ws, 3, landscape=False)

"""Tables and phrases that more than one output shows (units grid, completion, ranking)."""

from __future__ import annotations

import datetime as dt

from ..bank import Area
from ..workbook import long_date, month_name
from . import charts as C
from .facts import families_said
from .figures import AreaResult, FamilyCounts, PeriodData, Spread, months_before, unit_order
from .sheets import (
    Book,
    Cover,
    paragraph,
    pct_text,
    presentation,
    print_wide,
    put,
    rag_cf,
    row_height,
    set_widths,
    text_lines,
)

GRID_WIDTHS = [16]  # unit


GRID_AREA_WIDTHS = [11, 11]  # per area (and overall): percent, RAG


AREAS_PER_TABLE = 4  # areas in each table of the units grid: A4 landscape at 9 pt or more


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
    """The cover of an output workbook: what it is, for when, as at when, what comes next,
    who to ask."""
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


MISSING = "[x]"  # no figure: nothing returned, or no unit to count
NOT_APPLICABLE = "[z]"  # the cell does not apply (the RAG of the lowest score, say)


def shown(value):
    """A figure, or ``[x]`` where there is none (a table cell is never left empty)."""
    return MISSING if value is None or value == "" else value


def fit_row(ws, row: int, cells, minimum: float = 18.0, bold: bool = False) -> None:
    """Give ``row`` the height its tallest wrapped text needs: ``cells`` are (text, width)."""
    size = presentation()["fonts"]["body"] * (1.1 if bold else 1.0)
    lines = max([1] + [text_lines(str(text), width, size) for text, width in cells if text])
    ws.set_row(row, max(minimum, row_height(lines, size)))


def no_figure_note(book: Book) -> str:
    """The marker of the note that says what ``[x]`` and ``[z]`` stand for."""
    return book.note(presentation()["words"]["no_figure_note"])


def grid_widths(per_table: int = AREAS_PER_TABLE) -> list[float]:
    """Column widths of the units grid: unit, then (percent, RAG) pairs."""
    return GRID_WIDTHS + GRID_AREA_WIDTHS * (per_table + 1)


def units_grid(
    book: Book,
    data: PeriodData,
    ws,
    top: int,
    *,
    include_missing: bool,
    per_table: int = AREAS_PER_TABLE,
    name: str | None = None,
) -> int:
    """Every unit against every area (percent and RAG), network rows first. Returns next row.

    One Excel table per ``per_table`` areas (the first also with the overall
    score), each under its own heading and starting a new printed page, so a
    page is never wider than A4 landscape at a readable size. Every table has
    one header row: ``1. Involvement (%)``, ``1. Involvement RAG`` and so on.
    """
    f = book.f
    words = presentation()["words"]
    prefix = name or ws.name
    widths = grid_widths(per_table)
    set_widths(ws, widths)
    groups = [data.areas[i : i + per_table] for i in range(0, len(data.areas), per_table)] or [[]]
    missing = [c for c in data.completion if c.status != "returned"] if include_missing else []
    net_rows = (
        ("Network median", lambda s: s.median, True),
        ("Lowest", lambda s: s.low, False),
        ("Highest", lambda s: s.high, False),
    )
    row = top
    breaks = []
    for g, areas in enumerate(groups):
        with_overall = g == 0
        if g:
            breaks.append(row)
        if areas:
            heading = f"Areas {areas[0].index} to {areas[-1].index}"
            heading += " and the overall score" if with_overall else ""
        else:
            heading = "Overall score"
        put(ws, row, 0, heading, f.heading)
        ws.set_row(row, 22)
        row += 1
        # (header, spread, per-unit figure, width) for each percent / RAG pair
        pairs = []
        if with_overall:
            pairs.append(("Overall", data.overall, None))
        pairs += [(data.area_short(a), data.area_spread[a.id], a) for a in areas]
        headers = ["Unit"]
        for label, _s, _a in pairs:
            headers += [f"{label} (%)", f"{label} RAG"]
        n_rows = len(net_rows) + 1 + len(data.units) + len(missing)
        table_label = f"{prefix}_areas_{areas[0].index}_to_{areas[-1].index}" if areas else prefix
        first = book.table(ws, row, 0, headers, n_rows, table_label)
        fit_row(ws, row, zip(headers, widths), bold=True)
        row = first
        for label, pick, with_rag in net_rows:
            put(ws, row, 0, label, f.net_label)
            for i, (_l, spread, _a) in enumerate(pairs):
                value = pick(spread)
                put(ws, row, 1 + 2 * i, shown(value), f.net_pct if value is not None else f.missing)
                word = (rag_of(data, value) or MISSING) if with_rag else NOT_APPLICABLE
                put(ws, row, 2 + 2 * i, word, f.net_cell)
            row += 1
        put(ws, row, 0, "Units counted", f.net_label)
        for i, (_l, spread, _a) in enumerate(pairs):
            put(ws, row, 1 + 2 * i, spread.n, f.net_cell)
            put(ws, row, 2 + 2 * i, NOT_APPLICABLE, f.net_cell)
        row += 1
        for code in data.units:
            r = data.results[code]
            put(ws, row, 0, data.name(code), f.bold_wrap)
            cells = [(data.name(code), widths[0])]
            for i, (_l, _s, area) in enumerate(pairs):
                if area is None:
                    value = r.overall
                    if r.overall is None:
                        word = words["no_score"]
                    elif r.complete:
                        word = r.overall_rag
                    else:
                        word = f"{r.overall_rag} ({words['incomplete']})"
                else:
                    res = r.areas.get(area.id)
                    value = res.percent if res else None
                    word = rag_word(data, res) or MISSING
                put(ws, row, 1 + 2 * i, shown(value), f.pct if value is not None else f.missing)
                put(ws, row, 2 + 2 * i, word, f.wrap)
                cells.append((word, widths[2 + 2 * i]))
            fit_row(ws, row, cells)
            row += 1
        rag_cf(ws, f, first, 2, row - 1, 2 * len(pairs))
        for c in missing:
            put(ws, row, 0, data.name(c.code), f.missing)
            status = words["rejected"] if c.status == "rejected" else words["not_returned"]
            for i, (_l, _s, area) in enumerate(pairs):
                put(ws, row, 1 + 2 * i, MISSING, f.missing)
                put(ws, row, 2 + 2 * i, status if area is None else MISSING, f.missing)
            row += 1
        row += 1
    if breaks:
        ws.set_h_pagebreaks(breaks)
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


AREA_HEADERS = [
    "Area",
    "Network median (%)",
    "RAG of median",
    "Lowest (%)",
    "Highest (%)",
    "Units counted",
    "Incomplete (units)",
    "Green (units)",
    "Amber (units)",
    "Red (units)",
    "Service user took part (% of units)",
]


def area_spread_row(ws, f, data: PeriodData, area: Area, row: int) -> Spread:
    """One area's network figures in columns A to K (:data:`AREA_HEADERS`): median, RAG,
    range, counts, co-production. A figure there is none of is ``[x]``."""
    s = data.area_spread[area.id]
    g, a, r = data.area_rag[area.id]
    yes, total = data.area_coproduction.get(area.id, (0, 0))
    put(ws, row, 0, data.area_short(area), f.bold_wrap)
    put(ws, row, 1, shown(s.median), f.pct if s.median is not None else f.missing)
    word = rag_of(data, s.median)
    put(ws, row, 2, word or MISSING, f.rag[word] if word else f.missing)
    put(ws, row, 3, shown(s.low), f.pct if s.low is not None else f.missing)
    put(ws, row, 4, shown(s.high), f.pct if s.high is not None else f.missing)
    for col, value in enumerate((s.n, data.area_incomplete[area.id], g, a, r), start=5):
        put(ws, row, col, value, f.int)
    share = 100.0 * yes / total if total else None
    put(ws, row, 10, shown(share), f.pct if share is not None else f.missing)
    return s


COMPLETION_HEADERS = [
    "Unit",
    "Status",
    "Received",
    "Areas agreed with a service user",
    "Areas recorded",
    "Share (%)",
]


def completion_table(
    ws,
    f,
    data: PeriodData,
    head: int,
    notes: bool,
    *,
    book: Book | None = None,
    name: str = "Completion",
) -> int:
    """Who returned, was rejected or is missing, with co-production; returns the next free row.

    With ``book`` the rows are an Excel table (one header row at ``head``); a
    figure there is none of is ``[x]``, a note that does not apply ``[z]``.
    """
    words = presentation()["words"]
    headers = COMPLETION_HEADERS + (["Note"] if notes else [])
    if book is not None:
        book.table(ws, head, 0, headers, len(data.completion), name)
    else:
        for col, text in enumerate(headers):
            put(ws, head, col, text, f.header)
    ws.set_row(head, 34 if notes else 48)
    row = head + 1
    status_fmt = {"returned": f.rag["Green"], "rejected": f.rag["Red"], "missing": f.rag["Amber"]}
    status_word = {
        "returned": words["returned"],
        "rejected": words["rejected"],
        "missing": words["not_returned"],
    }
    for entry in data.completion:
        yes, total = data.coproduction.get(entry.code, (None, None))
        share = 100.0 * yes / total if total else None
        put(ws, row, 0, data.name(entry.code), f.bold)
        put(ws, row, 1, status_word[entry.status], status_fmt[entry.status])
        put(ws, row, 2, shown(entry.received), f.cell if entry.received else f.missing)
        put(ws, row, 3, shown(yes), f.int if yes is not None else f.missing)
        put(ws, row, 4, shown(total), f.int if total is not None else f.missing)
        put(ws, row, 5, shown(share), f.pct if share is not None else f.missing)
        if notes:
            note = ""
            if entry.status == "rejected":
                note = f"Latest file {entry.file} was not accepted: " + " ".join(entry.reasons)
            elif entry.later_rejected:
                note = (
                    f"A later file ({entry.later_rejected}) was not accepted; "
                    "this return still counts."
                )
            put(ws, row, 6, note or NOT_APPLICABLE, f.wrap if note else f.missing)
            if note:
                fit_row(ws, row, [(note, COMPLETION_NOTE_WIDTH)])
        row += 1
    return row


COMPLETION_NOTE_WIDTH = 50


def ranking_sheet(book: Book, data: PeriodData, intro: str) -> None:
    f = book.f
    ws = book.sheet("Ranking", "Units ordered by overall score")
    set_widths(ws, [8, 30, 12, 12])
    put(ws, 0, 0, f"Ranking by overall score, {data.month}", f.title)
    paragraph(ws, 1, 0, 3, intro, f.text, 60)
    order = unit_order(data.network)  # once: it indexes every unit of the network
    ranked = sorted(
        (u for u in data.units if data.results[u].overall is not None),
        key=lambda u: (-data.results[u].overall, order(u)),
    )
    if not ranked:
        paragraph(ws, 3, 0, 3, "No unit has an overall score this month.", f.muted, 60)
        print_wide(ws, landscape=False)
        return
    row = book.table(ws, 3, 0, ["Rank", "Unit", "Overall (%)", "RAG"], len(ranked), "Ranking")
    for rank, code in enumerate(ranked, start=1):
        r = data.results[code]
        put(ws, row, 0, rank, f.int)
        put(ws, row, 1, data.name(code), f.bold)
        put(ws, row, 2, r.overall, f.pct)
        put(ws, row, 3, r.overall_rag or MISSING, f.rag.get(r.overall_rag, f.cell))
        row += 1
    print_wide(ws, 3, landscape=False)


def area_medians_chart(book: Book, ws, data: PeriodData, head: int, at: int, width: int) -> None:
    """The network median of each area with its lowest and highest unit, from the areas table
    whose header row is ``head`` (areas in column A, median B, lowest D, highest E), placed at
    row ``at`` on a printed page of its own."""
    last = head + len(data.areas)
    chart = C.medians_with_range(
        book.wb,
        title=f"Network median per area with lowest and highest unit, {data.month}",
        categories=(ws.name, head + 1, 0, last, 0),
        medians=(ws.name, head + 1, 1, last, 1),
        lows=(ws.name, head + 1, 3, last, 3),
        highs=(ws.name, head + 1, 4, last, 4),
        palette=C.Palette.from_dict(presentation().get("chart_colours", {})),
        size=(width, 460),
    )
    ws.set_h_pagebreaks([at])
    book.insert_chart(ws, at, 0, chart, _areas_alt(data))


def _areas_alt(data: PeriodData) -> str:
    medians = [
        (data.area_spread[a.id].median, a)
        for a in data.areas
        if data.area_spread[a.id].median is not None
    ]
    text = (
        f"Column chart of the network median score of each of the {len(data.areas)} areas "
        f"in {data.month}, with markers for the lowest and highest unit."
    )
    if medians:
        top = max(medians, key=lambda m: m[0])
        low = min(medians, key=lambda m: m[0])
        text += (
            f" Highest median: {top[1].name}, {pct_text(top[0])}. "
            f"Lowest median: {low[1].name}, {pct_text(low[0])}."
        )
    return text


# --- family and friends responses, and actions: the shared outputs (counts only) -------------

FAMILY_WIDTHS = [26, 12, 12, 12, 12]
ACTION_WIDTHS = [26, 12, 12, 12, 12]
FAMILY_HEADERS = ["Agreed (responses)", "Not sure (responses)", "Disagreed (responses)"]


def action_counts(data: PeriodData, code: str) -> tuple[int, int, int, int]:
    """A unit's actions this month: opened, done, open, overdue."""
    lines = data.actions.get(code, [])
    return (
        sum(a.opened for a in lines),
        sum(a.closed and a.status == "Done" for a in lines),
        sum(a.open for a in lines),
        sum(a.overdue for a in lines),
    )


def action_totals(data: PeriodData) -> tuple[int, int, int, int]:
    """Opened, done, open and overdue actions across the units that returned."""
    each = [action_counts(data, code) for code in data.units]
    return tuple(sum(c[k] for c in each) for k in range(4))  # type: ignore[return-value]


def family_totals(data: PeriodData) -> tuple[int, int]:
    """Family and friends responses across the network, and how many units had any."""
    counts = [n for n in data.family_responses.values() if n]
    return sum(counts), len(counts)


def families_shared_sheet(book: Book, data: PeriodData) -> None:
    """Family and friends answers per area, added up across the network: counts only, never a
    comment, and no unit named or counted on its own."""
    f = book.f
    w = presentation()["families"]
    ws = book.sheet(w["sheet"], w["shared_about"])
    widths = FAMILY_WIDTHS
    set_widths(ws, widths)
    put(ws, 0, 0, w["shared_title"].format(month=data.month), f.title)
    ws.set_row(0, 26)
    responses, with_any = family_totals(data)
    if not responses:
        paragraph(ws, 1, 0, 4, w["shared_none"].format(month=data.month), f.text, sum(widths))
        print_wide(ws, landscape=False)
        return
    intro = w["shared_intro"].format(
        responses=plural(responses, "response"),
        month=data.month,
        with_any=with_any,
        units=len(data.network.units),
    )
    paragraph(ws, 1, 0, 4, intro, f.text, sum(widths))
    head = 3
    headers = ["Area", *FAMILY_HEADERS, "No answer (responses)"]
    row = book.table(ws, head, 0, headers, len(data.areas), "Family_responses_by_area")
    fit_row(ws, head, zip(headers, widths), bold=True)
    totals = data.family_area_totals()
    for area in data.areas:
        c = totals[area.id]
        put(ws, row, 0, data.area_short(area), f.bold_wrap)
        for col, value in enumerate((c.agree, c.not_sure, c.disagree, c.no_answer), start=1):
            put(ws, row, col, value, f.int)
        fit_row(ws, row, [(data.area_short(area), widths[0])], bold=True)
        row += 1
    print_wide(ws, head, landscape=False)


def actions_shared_sheet(book: Book, data: PeriodData) -> None:
    """Each unit's actions this month (opened, done, open, overdue), with network totals."""
    f = book.f
    w = presentation()["actions"]
    ws = book.sheet("Actions", w["shared_about"])
    widths = ACTION_WIDTHS
    set_widths(ws, widths)
    put(ws, 0, 0, f"Actions, {data.month}", f.title)
    ws.set_row(0, 26)
    intro = f"{w['shared_intro'].format(month=data.month)} {no_figure_note(book)}"
    paragraph(ws, 1, 0, 4, intro, f.text, sum(widths))
    head = 3
    headers = ["Unit", "Opened this month", "Done this month", "Open", "Overdue"]
    row = book.table(ws, head, 0, headers, len(data.completion) + 1, "Actions_by_unit")
    fit_row(ws, head, zip(headers, widths), bold=True)
    put(ws, row, 0, "Network total", f.net_label)
    for col, value in enumerate(action_totals(data), start=1):
        put(ws, row, col, value, f.net_cell)
    row += 1
    for entry in data.completion:
        name = data.name(entry.code)
        if entry.status != "returned":
            put(ws, row, 0, name, f.missing)
            for col in range(1, 5):
                put(ws, row, col, MISSING, f.missing)
        elif data.no_actions_sheet(entry.code):
            label = f"{name} {book.note(w['no_sheet_note'])}"
            put(ws, row, 0, label, f.bold_wrap)
            fit_row(ws, row, [(label, widths[0])], bold=True)
            for col in range(1, 5):
                put(ws, row, col, MISSING, f.missing)
        else:
            put(ws, row, 0, name, f.bold_wrap)
            fit_row(ws, row, [(name, widths[0])], bold=True)
            for col, value in enumerate(action_counts(data, entry.code), start=1):
                put(ws, row, col, value, f.int)
        row += 1
    print_wide(ws, head, landscape=False)


def families_unit_sheet(book: Book, data: PeriodData, code: str, widths: list[float]) -> None:
    """What families and friends said: counts per area, a call-out where most disagree with a
    Green rating, and every comment (masked), by area."""
    f = book.f
    w = presentation()["families"]
    result = data.results[code]
    last_col = len(widths) - 1
    n = data.family_responses.get(code, 0)
    ws = book.sheet(w["sheet"], w["unit_about"])
    set_widths(ws, widths)
    put(ws, 0, 0, w["unit_title"].format(month=data.month), f.title)
    ws.set_row(0, 26)
    if not n:
        paragraph(ws, 1, 0, last_col, w["unit_none"].format(month=data.month), f.text, 109)
        print_wide(ws)
        return
    row = 1
    for text in callouts(data, code, families_sheet=True):
        paragraph(ws, row, 0, last_col, text, callout_format(book), sum(widths), font_size=12.1)
        row += 1
    intro = w["unit_intro"].format(responses=plural(n, "response"), month=data.month)
    paragraph(ws, row, 0, last_col, intro, f.text, sum(widths))
    head = row + 2
    headers = ["Area", "What families said", "Your RAG", "Agreed", "Not sure", "Disagreed"]
    headers.append("No answer")
    row = book.table(ws, head, 0, headers, len(data.areas), "Family_responses")
    fit_row(ws, head, zip(headers, widths), bold=True)
    counts = data.family_counts.get(code, {})
    for area in data.areas:
        c = counts.get(area.id) or FamilyCounts(no_answer=n)  # no row: nobody answered
        res = result.areas.get(area.id)
        word = rag_word(data, res)
        said = families_said(c, w, res.rag if res is not None else "")
        put(ws, row, 0, data.area_short(area), f.bold_wrap)
        put(ws, row, 1, said, f.rag_wrap["Red"] if c.most_disagree else f.wrap)
        fill = res.rag if res is not None and res.complete and res.percent is not None else ""
        put(ws, row, 2, word or MISSING, f.rag_wrap[fill] if word else f.missing)
        for col, value in enumerate((c.agree, c.not_sure, c.disagree, c.no_answer), start=3):
            put(ws, row, col, value, f.int)
        fit_row(
            ws,
            row,
            [(data.area_short(area), widths[0]), (said, widths[1]), (word, widths[2])],
            bold=True,
        )
        row += 1
    row += 1
    put(ws, row, 0, w["comments_heading"], f.heading)
    ws.set_row(row, 22)
    row += 1
    order = {a.id: i for i, a in enumerate(data.areas)}
    comments = sorted(data.family_comments.get(code, []), key=lambda c: order.get(c[0], len(order)))
    if not comments:
        paragraph(ws, row, 0, last_col, w["no_comments"], f.muted, sum(widths))
    else:
        cols = ["Area", "Comment", "Their answer"]
        row = book.table(ws, row, 0, cols, len(comments), "Family_comments")
        fit_row(ws, row - 1, zip(cols, widths), bold=True)
        areas = {a.id: a for a in data.areas}
        for area_id, agree, text in comments:
            area = areas.get(area_id)
            label = data.area_short(area) if area else area_id
            put(ws, row, 0, label, f.wrap)
            put(ws, row, 1, text, f.wrap)
            put(ws, row, 2, agree or "No answer", f.wrap)
            fit_row(ws, row, [(label, widths[0]), (text, widths[1])])
            row += 1
    print_wide(ws)


def callout_format(book):
    """Bold text on the red fill, for what the unit should look at first (made once)."""
    fmt = getattr(book, "_callout_fmt", None)
    if fmt is None:
        c, font = presentation()["colours"], presentation()["fonts"]
        fmt = book.wb.add_format(
            {
                "font_name": font["name"],
                "font_size": font["body"],
                "bold": True,
                "text_wrap": True,
                "valign": "top",
                "bg_color": c["red_fill"],
                "border": 1,
                "border_color": c["border"],
            }
        )
        book._callout_fmt = fmt
    return fmt


def plural(n: int, word: str) -> str:
    """``1 response``, ``3 responses``."""
    return f"{n} {word}{'' if n == 1 else 's'}"


def callouts(data: PeriodData, code: str, families_sheet: bool = False) -> list[str]:
    """In plain words: Green areas where most families disagree, then (not on the families
    sheet) each essential standard rated Not met, named whatever its area's rating."""
    out = []
    counts = data.family_counts.get(code, {})
    disagree = data.families_disagree(code)
    if disagree:
        names = ", ".join(
            f"{data.area_short(a)} ({counts[a.id].disagree} of {counts[a.id].answered} disagree)"
            for a in disagree
        )
        w = presentation()["families"]
        text = w["callout"].format(areas=names)
        if not families_sheet:
            text += " " + w["callout_see"].format(sheet=w["sheet"])
        out.append(text)
    if families_sheet:  # the families sheet calls out only what families said
        return out
    e = presentation()["essential"]
    areas = {a.id: a for a in data.areas}
    result = data.results[code]
    for m in data.essentials.get(code, []):
        out.append(
            e["callout"].format(
                not_met=data.network.not_met_label,
                id=m.standard_id,
                area=data.area_short(areas[m.area_id]) if m.area_id in areas else m.area_id,
                rag=rag_word(data, result.areas.get(m.area_id)) or "not scored",
                text=m.text.rstrip(". "),
            )
        )
    return out

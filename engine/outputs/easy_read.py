"""Easy read: plain words with a picture beside every line, for the ward's noticeboard."""

from __future__ import annotations

from .common import cover, rag_of
from .figures import PeriodData
from .sheets import Book, paragraph, presentation, put, wrapped_lines


def easy_read_workbook(data: PeriodData) -> bytes:
    """One A4 page in plain words for service users and carers."""
    pres = presentation()
    p, words = pres["easy_read"], pres["words"]
    title = p["title"].format(month=data.month)
    book = Book(data, title, cover(data, title, p["cover_about"]))
    f = book.f
    ws = book.sheet("Easy read", "The month in plain words with pictures")
    ws.set_column(0, 0, 52)
    ws.set_column(1, 1, 20)
    width = 72
    size = pres["fonts"]["easy_read"]
    line = 1.45 * size
    put(ws, 0, 0, p["title"].format(month=data.month), f.easy_title)
    ws.set_row(0, 34)
    row = 2
    paragraph(ws, row, 0, 1, p["about"], f.easy, width, line, size)
    row += 2
    c = data.counts()
    if not data.units:
        paragraph(ws, row, 0, 1, p["no_returns"], f.easy_bold, width, line, size)
        row += 2
    else:
        paragraph(
            ws,
            row,
            0,
            1,
            p["returned"].format(returned=c["returned"], units=len(data.network.units)),
            f.easy,
            width,
            line,
            size,
        )
        row += 1
        share = data.coproduction_share()
        if share is not None:
            paragraph(
                ws,
                row,
                0,
                1,
                p["coproduction"].format(share=round(share / 10)),
                f.easy,
                width,
                line,
                size,
            )
            row += 1
        row += 1
        put(ws, row, 0, p["table_heading"], f.easy_bold)
        ws.set_row(row, 24)
        row += 1
        put(ws, row, 0, "What it is about", f.easy_header)
        put(ws, row, 1, "How it is going", f.easy_header)
        ws.set_row(row, 24)
        row += 1
        easy_words = {
            "Green": words["easy_green"],
            "Amber": words["easy_amber"],
            "Red": words["easy_red"],
        }
        good, work = [], []
        for area in data.areas:
            median = data.area_spread[area.id].median
            rag = rag_of(data, median)
            phrase = p.get("areas", {}).get(area.id, area.name)
            put(ws, row, 0, phrase, f.easy_cell)
            put(ws, row, 1, easy_words.get(rag, "-"), f.easy_rag[rag])
            ws.set_row(row, max(24.0, wrapped_lines(phrase, 52, size) * line + 2))
            if rag == "Green":
                good.append(area.name)
            elif rag == "Red":
                work.append(area.name)
            row += 1
        row += 1
        if good:
            paragraph(
                ws,
                row,
                0,
                1,
                p["going_well"].format(areas=", ".join(good)),
                f.easy,
                width,
                line,
                size,
            )
            row += 1
        paragraph(
            ws,
            row,
            0,
            1,
            p["needs_work"].format(areas=", ".join(work)) if work else p["nothing_needs_work"],
            f.easy,
            width,
            line,
            size,
        )
        row += 1
        prev = data.previous()
        now = data.overall.median
        if prev is not None and prev.overall.median is not None and now is not None:
            diff = now - prev.overall.median
            key = "trend_up" if diff >= 1 else "trend_down" if diff <= -1 else "trend_same"
            paragraph(ws, row, 0, 1, p[key], f.easy, width, line, size)
            row += 1
    row += 1
    paragraph(ws, row, 0, 1, p["next"], f.easy, width, line, size)
    ws.hide_gridlines(2)
    ws.set_portrait()
    ws.set_paper(9)
    ws.set_margins(left=0.6, right=0.6, top=0.6, bottom=0.6)
    ws.fit_to_pages(1, 1)
    ws.print_area(0, 0, row, 1)
    return book.close()


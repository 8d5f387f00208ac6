"""CSV exports of a month's figures, for analysts who load them into other tools.

Spreadsheet applications run a CSV cell that starts with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return as a formula. Every text cell is made inert
by a leading apostrophe, which the application shows as plain text.
"""

from __future__ import annotations

import csv
import io

_ACTIVE = ("=", "+", "-", "@", "\t", "\r")


def inert(value: object) -> object:
    """A CSV cell that no spreadsheet application will treat as a formula."""
    if isinstance(value, str) and value.startswith(_ACTIVE):
        return "'" + value
    return value


def to_csv(header: list[str], rows: list[list[object]]) -> bytes:
    """CSV bytes (UTF-8 with a byte-order mark, so Excel shows accents) with every cell inert."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else inert(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def scores_csv(data) -> bytes:
    """One row per unit and area: the month's scores as recorded in the ledger."""
    rows = []
    for code in data.units:
        result = data.results[code]
        name = data.network.display_name(code)
        for area in data.areas:
            a = result.areas.get(area.id)
            if a is None:
                continue
            rows.append(
                [
                    data.period,
                    name,
                    area.id,
                    area.name,
                    a.percent,
                    a.rag,
                    "yes" if a.complete else "no",
                ]
            )
        rows.append([data.period, name, "ALL", "Overall", result.overall, result.overall_rag, ""])
    return to_csv(["period", "unit", "area_id", "area", "percent", "rag", "complete"], rows)


def evidence_csv(data) -> bytes:
    """The evidence library (already masked for personal data) as CSV."""
    names = {a.id: a.name for a in data.areas}
    rows = [
        [
            data.period,
            e.area_id,
            names.get(e.area_id, e.area_id),
            e.standard_id,
            e.text,
            " ".join(data.network.display_name(u) for u in e.units),
        ]
        for e in data.library
    ]
    return to_csv(["period", "area_id", "area", "standard_id", "evidence", "units"], rows)

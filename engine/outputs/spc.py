"""Statistical process control for boards: XmR charts as in NHS England's "Making Data Count".

A score (a percentage, higher is better) month by month becomes an XmR chart:
its mean, the average moving range (MR-bar, the mean of the changes from one
month to the next) and process limits at the mean plus and minus 2.66 x MR-bar.
The limits come from the first 12 months and then stay fixed; with fewer than
12 months they are *trial limits*, worked out from every month so far, and are
labelled so wherever they are shown. At least 2 months are needed for limits.
Months without a value are left out: the chart lists only months with one.

Special-cause rules (each point is flagged with every rule it meets):

1. a point above the upper or below the lower limit;
2. a run of 7 or more points in a row on the same side of the mean (a point
   exactly on the mean ends a run);
3. a trend of 7 or more points in a row, each higher (or each lower) than the
   one before (an equal pair ends a trend);
4. 2 of 3 points in a row beyond two thirds of the way from the mean to a limit
   (mean +/- 2 sigma, sigma = MR-bar / 1.128) on the same side; the points
   beyond are flagged.

The *variation* of the latest point: a special cause on the high side is an
improvement, on the low side a concern, otherwise common cause. When the latest
point has special causes on both sides (a falling trend still above the mean),
a point beyond a limit decides; failing that it is a concern. The *assurance*
against a target (the network's Green threshold): the lower limit at or above
it consistently meets it, the upper limit below it consistently misses it,
otherwise hit and miss.

Example::

    from engine.outputs import spc

    x = spc.xmr(["2026-01", "2026-02", "2026-03"], [70.0, None, 74.5], target=80)
    x.summary      # 'Common cause variation; hit and miss against the 80% target. ...'
    x.variation    # 'common'        (x.variation_text: '● Common cause variation: ...')
    x.assurance    # 'hit-and-miss'  (x.assurance_text: '~ Hit and miss: ...')

    # One sheet: title in A1, how to read the charts, then a block per score.
    spc.add_spc_sheet(book, "SPC", "Process control charts of your scores",
                      "Your scores as process control charts",
                      [("Overall score", x), ("1. Involvement", y)])
    # Or blocks on a sheet of your own (widths: spc.WIDTHS); each returns the next free row.
    row = spc.add_spc_block(book, ws, row, "Overall score", x)

    png = spc.xmr_png(x, "Overall score: process control chart")

Words and symbols live in ``workbook_templates/reports.toml`` under ``[spc]``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from itertools import pairwise

from . import charts as C
from .sheets import Book, paragraph, presentation, print_wide, put, set_widths, wrapped_lines

BASELINE = 12  # points the limits are fixed from
MIN_POINTS = 2  # points needed for any limits
LIMIT_FACTOR = 2.66  # 3 / d2, d2 = 1.128 for moving ranges of 2
D2 = 1.128
RUN = 7  # rule 2
TREND = 7  # rule 3

VARIATIONS = ("improvement", "concern", "common")
ASSURANCES = ("meets", "misses", "hit-and-miss")

# Layout of a block: columns Month, Score, Mean, Upper, Lower, Target, Special cause, and
# (outside the table) the chart's special-cause points. 81 characters: A4 portrait at about
# 10 pt when LibreOffice prints Calibri with a wider font.
WIDTHS = [8, 7, 7, 9, 9, 7, 25, 9]
# The compact block (a unit's feedback: 13 charts per workbook, hundreds of workbooks): the
# table is Month, Score, Special cause; the mean, the limits and the target are said in words
# above it, and the chart draws them from hidden columns holding the first and last months only.
COMPACT_WIDTHS = [10, 9, 48, 12, 8, 8, 8, 8]
COMPACT_HIDDEN = (4, 8)  # first and last+1 of the hidden chart columns: mean, upper, lower, target
CHART_SIZE = (600, 380)  # pixels
ROW_PX = 20  # a row of the default height (15 pt)
CHART_ROWS = math.ceil(CHART_SIZE[1] / ROW_PX) + 1
PAGE_PT = 770.0  # A4 portrait height less 0.5" margins top and bottom
PRINTABLE_PT = 538.0  # A4 portrait width less 0.4" margins left and right
LINE_PT = 15.0

LIMIT_COLOUR = "#595959"


def words() -> dict:
    """The ``[spc]`` words and symbols."""
    return presentation()["spc"]


@dataclass(frozen=True)
class Signal:
    """One special-cause rule met by a point, and on which side of the mean."""

    rule: int  # 1 to 4
    high: bool  # True: the high (better) side

    @property
    def text(self) -> str:
        return words()[f"rule_{self.rule}_{'high' if self.high else 'low'}"]


@dataclass(frozen=True)
class Point:
    """A month with a value, and the special-cause rules it meets."""

    period: str
    value: float
    signals: tuple[Signal, ...] = ()

    @property
    def special(self) -> bool:
        return bool(self.signals)

    @property
    def rules_text(self) -> str:
        """The rules in words (``Above the upper limit; Rising trend of 7 or more``) or ``None``."""
        texts = [s.text for s in self.signals]
        if not texts:
            return words()["no_rule"]
        return "; ".join([texts[0]] + [t[:1].lower() + t[1:] for t in texts[1:]])


@dataclass(frozen=True)
class XmR:
    """An XmR chart of one score. Limits are ``None`` with fewer than 2 points.

    ``upper`` and ``lower`` are the limits as worked out (they may lie outside
    0 to 100); ``shown_upper`` and ``shown_lower`` are clipped to 0 to 100.
    ``variation`` is one of ``improvement``, ``concern``, ``common``;
    ``assurance`` one of ``meets``, ``misses``, ``hit-and-miss`` (each ``""``
    without limits, and ``assurance`` also without a target).
    """

    points: tuple[Point, ...]
    target: float | None
    mean: float | None
    mr_bar: float | None
    upper: float | None
    lower: float | None
    trial: bool
    baseline: int  # points the mean and limits come from
    variation: str
    assurance: str
    summary: str

    @property
    def n(self) -> int:
        return len(self.points)

    @property
    def has_limits(self) -> bool:
        return self.mean is not None and self.upper is not None

    @property
    def sigma(self) -> float | None:
        return None if self.mr_bar is None else self.mr_bar / D2

    @property
    def shown_upper(self) -> float | None:
        return None if self.upper is None else min(100.0, max(0.0, self.upper))

    @property
    def shown_lower(self) -> float | None:
        return None if self.lower is None else min(100.0, max(0.0, self.lower))

    @property
    def clipped(self) -> bool:
        """Whether a limit shown differs from the one worked out."""
        return self.has_limits and (
            self.shown_upper != self.upper or self.shown_lower != self.lower
        )

    @property
    def latest(self) -> Point | None:
        return self.points[-1] if self.points else None

    @property
    def variation_text(self) -> str:
        """Symbol and words (``▲ Special cause variation: improvement``), or ``""``."""
        return _icon(self.variation)

    @property
    def assurance_text(self) -> str:
        """Symbol and words (``✓ Consistently meets the target``), or ``""``."""
        return _icon(self.assurance)

    @property
    def limit_word(self) -> str:
        """``trial limit`` or ``process limit``: how the limits are named where shown."""
        return "trial limit" if self.trial else "process limit"


def _icon(key: str) -> str:
    if not key:
        return ""
    w = words()
    k = key.replace("-", "_")
    return f"{w[k + '_symbol']} {w[k]}"


def pct(value: float) -> str:
    return f"{value:.1f}%"


# --- computation --------------------------------------------------------------------------


def xmr(periods: Sequence[str], values: Sequence[float | None], target: float | None) -> XmR:
    """The XmR chart of ``values`` by period; ``None`` values (missing months) are left out."""
    if len(periods) != len(values):
        raise ValueError("periods and values differ in length")
    pairs = [(str(p), float(v)) for p, v in zip(periods, values) if v is not None]
    vals = [v for _p, v in pairs]
    n = len(vals)
    if n < MIN_POINTS:
        points = tuple(Point(p, v) for p, v in pairs)
        return XmR(
            points,
            target,
            vals[0] if vals else None,
            None,
            None,
            None,
            False,
            n,
            "",
            "",
            _summary_without_limits(pairs),
        )
    baseline = min(n, BASELINE)
    base = vals[:baseline]
    mean = sum(base) / baseline
    mr_bar = sum(abs(b - a) for a, b in pairwise(base)) / (baseline - 1)
    upper, lower = mean + LIMIT_FACTOR * mr_bar, mean - LIMIT_FACTOR * mr_bar
    signals = special_causes(vals, mean, upper, lower, mr_bar / D2)
    points = tuple(Point(p, v, tuple(s)) for (p, v), s in zip(pairs, signals))
    variation = _variation(points[-1].signals)
    assurance = _assurance(upper, lower, target)
    trial = n < BASELINE
    x = XmR(points, target, mean, mr_bar, upper, lower, trial, baseline, variation, assurance, "")
    return replace(x, summary=_summary(x))


def special_causes(
    values: Sequence[float], mean: float, upper: float, lower: float, sigma: float
) -> list[list[Signal]]:
    """Per value, the special-cause rules it meets (rule order, high side before low)."""
    n = len(values)
    found: list[set[tuple[int, bool]]] = [set() for _ in values]
    for i, v in enumerate(values):  # rule 1
        if v > upper:
            found[i].add((1, True))
        elif v < lower:
            found[i].add((1, False))
    side = [1 if v > mean else -1 if v < mean else 0 for v in values]  # rule 2
    for start, end, s in _stretches(side):
        if s and end - start >= RUN:
            for i in range(start, end):
                found[i].add((2, s > 0))
    steps = [0] + [  # rule 3: the direction of each step; a trend of k points has k - 1 steps
        1 if b > a else -1 if b < a else 0 for a, b in pairwise(values)
    ]
    for start, end, s in _stretches(steps):
        if s and end - start >= TREND - 1:
            for i in range(start - 1, end):
                found[i].add((3, s > 0))
    high, low = mean + 2 * sigma, mean - 2 * sigma  # rule 4
    for i in range(max(0, n - 2)):
        window = range(i, min(n, i + 3))
        for beyond, is_high in (
            ([j for j in window if values[j] > high], True),
            ([j for j in window if values[j] < low], False),
        ):
            if len(beyond) >= 2:
                for j in beyond:
                    found[j].add((4, is_high))
    return [[Signal(r, h) for r, h in sorted(f, key=lambda x: (x[0], not x[1]))] for f in found]


def _stretches(marks: list[int]):
    """(start, end, mark) of each stretch of equal marks (end exclusive)."""
    start = 0
    for i in range(1, len(marks) + 1):
        if i == len(marks) or marks[i] != marks[start]:
            yield start, i, marks[start]
            start = i


def _variation(signals: Sequence[Signal]) -> str:
    beyond = [s for s in signals if s.rule == 1]
    if beyond:
        return "improvement" if beyond[0].high else "concern"
    if any(not s.high for s in signals):
        return "concern"
    if signals:
        return "improvement"
    return "common"


def _assurance(upper: float, lower: float, target: float | None) -> str:
    if target is None:
        return ""
    if lower >= target:
        return "meets"
    if upper < target:
        return "misses"
    return "hit-and-miss"


def _summary_without_limits(pairs: list[tuple[str, float]]) -> str:
    w = words()
    if not pairs:
        return w["no_months"]
    return w["one_month"].format(first=pairs[0][0], value=pct(pairs[0][1]))


def _summary(x: XmR) -> str:
    w = words()
    text = w[f"{x.variation}_short"]
    if x.assurance:
        text += f"; {w[x.assurance.replace('-', '_') + '_short']} the {x.target:g}% target"
    text += ". "
    if x.trial:
        text += w["trial_limits"].format(n=x.n)
    else:
        text += w["fixed_limits"].format(
            first=x.points[0].period, last=x.points[BASELINE - 1].period
        )
    if x.mr_bar == 0:
        text += " " + w["flat"]
    return text


# --- workbook -----------------------------------------------------------------------------


def _scale(widths: Sequence[float]) -> float:
    """Print scale of a sheet of these column widths, fitted to A4 portrait width."""
    points = sum((w * 7 + 5) * 0.75 for w in widths)
    return min(1.0, PRINTABLE_PT / points)


def _row(ws, row: int, height: float) -> float:
    ws.set_row(row, height)
    return height


def _fit(ws, row: int, cells: Sequence[tuple[str, float]], bold: bool = False) -> float:
    lines = max(wrapped_lines(text, width, 12.1 if bold else 11) for text, width in cells)
    return _row(ws, row, lines * LINE_PT + 4)


def add_spc_block(book: Book, ws, row: int, title: str, x: XmR, widths=WIDTHS) -> int:
    """One SPC block on ``ws`` from ``row``: heading, icons, summary, chart and table.

    The sheet's column widths should be :data:`WIDTHS` (as :func:`add_spc_sheet`
    sets them). Returns the next free row, so blocks can be stacked.
    """
    return _write_block(book, ws, row, title, x, widths)[0]


def _write_block(
    book: Book, ws, row: int, title: str, x: XmR, widths, compact: bool = False
) -> tuple[int, float, float]:
    """As :func:`add_spc_block`; also the block's height in points, and the height of its
    part to keep together on a page (heading to the table's first rows)."""
    f, w = book.f, words()
    has_target = x.target is not None
    cols = 3 if compact else len(widths) - 1  # table columns; the next is the chart's
    table_width = sum(widths[:cols])
    put(ws, row, 0, title, f.heading)
    height = _row(ws, row, 20)
    row += 1
    if not x.has_limits:
        paragraph(ws, row, 0, cols - 1, x.summary, f.text, table_width)
        height += _fit(ws, row, [(x.summary, table_width)])
        return row + 2, height + 2 * LINE_PT, height
    latest = x.latest
    variation = f"({latest.period}, {pct(latest.value)}): {x.variation_text}."
    lines = [f"Variation in the latest month {variation}"]
    if has_target:
        lines.append(f"Against the target of {x.target:g}%: {x.assurance_text}.")
    lines.append(x.summary)
    if compact:
        limit_name = "trial limit" if x.trial else "process limit"
        target = f"; target {x.target:g}%" if has_target else ""
        lines.append(
            f"Mean {pct(x.mean)}; upper {limit_name} {pct(x.shown_upper)}; "
            f"lower {limit_name} {pct(x.shown_lower)}{target}."
        )
    for text in lines:
        paragraph(ws, row, 0, cols - 1, text, f.text, table_width)
        height += _fit(ws, row, [(text, table_width)])
        row += 1

    # The table, written first so the chart can point at it; the chart goes above it.
    chart_row = row + 1
    head = chart_row + CHART_ROWS
    height += (CHART_ROWS + 1) * LINE_PT
    limit = x.limit_word
    trial_mark = f" {book.note(w['trial_note'])}" if x.trial else ""

    def clip_mark(shown, worked_out) -> str:
        return f" {book.note(w['clipped_note'])}" if shown != worked_out else ""

    headers = (
        ["Month", "Score (%)", "Special cause"]
        if compact
        else [
            "Month",
            "Score (%)",
            "Mean (%)",
            f"Upper {limit} (%){trial_mark}{clip_mark(x.shown_upper, x.upper)}",
            f"Lower {limit} (%){trial_mark}{clip_mark(x.shown_lower, x.lower)}",
            "Target (%)",
            "Special cause",
        ]
    )
    first = book.table(ws, head, 0, headers, x.n, f"SPC {ws.name} {title}")
    chart_col = cols
    chart_label = "Chart: special cause (%)"
    put(ws, head, chart_col, chart_label, f.muted)
    height += _fit(ws, head, [*zip(headers, widths), (chart_label, widths[cols])], bold=True)
    r = first
    keep = 0.0
    for i, p in enumerate(x.points):
        if compact:
            values = [p.period, p.value, p.rules_text]
            fmts = [f.bold, f.pct, f.bold_wrap if p.special else f.wrap]
            if i in (0, x.n - 1):  # the chart's straight lines: first and last month only
                lines_at = [x.mean, x.shown_upper, x.shown_lower]
                lines_at.append(x.target if has_target else None)
                for c, value in enumerate(lines_at, start=COMPACT_HIDDEN[0]):
                    put(ws, r, c, value, f.pct)
        else:
            values = [p.period, p.value, x.mean, x.shown_upper, x.shown_lower]
            values += [x.target if has_target else "[z]", p.rules_text]
            fmts = [f.bold, f.pct, f.pct, f.pct, f.pct, f.pct if has_target else f.cell]
            fmts.append(f.bold_wrap if p.special else f.wrap)
        for c, (value, fmt) in enumerate(zip(values, fmts)):
            put(ws, r, c, value, fmt)
        if p.special:
            put(ws, r, chart_col, p.value, f.pct)
        if p.special:
            height += _fit(ws, r, [(p.rules_text, widths[cols - 1])], bold=True)
        else:  # "None": one line at the default row height
            height += LINE_PT
        if r - first == min(2, x.n - 1):
            keep = height
        r += 1
    last = r - 1
    book.insert_chart(
        ws,
        chart_row,
        0,
        _chart(book, ws.name, title, x, first, last, cols, compact),
        _alt_text(title, x),
    )
    return r + 2, height + 2 * LINE_PT, keep


def _chart(
    book: Book, sheet: str, title: str, x: XmR, first: int, last: int, cols: int, compact: bool
):
    pal = _palette()
    chart = book.wb.add_chart({"type": "line"})
    # Compact: the straight lines come from hidden columns with the first and last month only,
    # joined across the months between.
    lines_from = COMPACT_HIDDEN[0] - 2 if compact else 0

    def col(c: int) -> list:
        return [sheet, first, c, last, c]

    cats = col(0)
    limit = x.limit_word

    def line(name, c, colour, width, dash="solid", marker=None):
        # Every series shares the first one's months (no need to repeat them in each).
        chart.add_series(
            {
                "name": name,
                **({"categories": cats} if c == 1 else {}),
                "values": col(c if c == 1 else c + lines_from),
                "line": {"color": colour, "width": width, "dash_type": dash},
                "marker": marker or {"type": "none"},
            }
        )

    line(
        "Score",
        1,
        pal.unit,
        2.25,
        marker={
            "type": "circle",
            "size": 5,
            "fill": {"color": pal.unit},
            "border": {"color": pal.unit},
        },
    )
    line("Mean", 2, pal.text, 1.25)
    line(f"Upper {limit}", 3, LIMIT_COLOUR, 1.5, "dash")
    line(f"Lower {limit}", 4, LIMIT_COLOUR, 1.5, "dash")
    if x.target is not None:
        line("Target", 5, pal.green, 1.75, "round_dot")
    if any(p.special for p in x.points):
        chart.add_series(
            {
                "name": "Special cause",
                "values": col(cols),
                "line": {"none": True},
                "marker": C.diamond(pal.red, pal.text),
            }
        )
    if compact:
        chart.show_blanks_as("span")
        chart.show_hidden_data()
    else:
        chart.show_blanks_as("gap")
    trial = ", trial limits" if x.trial else ""
    chart.set_title(C._title(f"{title}: process control chart{trial}"))
    # At most 12 month labels, level; more would crowd or need turning.
    axis = C._category_axis("Month")
    axis["interval_unit"] = math.ceil(x.n / 12)
    axis["interval_tick"] = 1
    chart.set_x_axis(axis)
    chart.set_y_axis(C._percent_axis("Score (%)"))
    chart.set_legend({"position": "bottom", "font": C._font(11)})
    chart.set_size({"width": CHART_SIZE[0], "height": CHART_SIZE[1]})
    return chart


def _alt_text(title: str, x: XmR) -> str:
    special = sum(p.special for p in x.points)
    kind = "trial limits" if x.trial else "process limits"
    text = (
        f"Process control chart of {title}, {x.points[0].period} to {x.points[-1].period} "
        f"({x.n} months): mean {pct(x.mean)}, {kind} {pct(x.shown_lower)} to "
        f"{pct(x.shown_upper)}; {special} month{'s' if special != 1 else ''} with special "
        f"cause variation. Latest {x.latest.period}: {pct(x.latest.value)}. {x.summary}"
    )
    return text


def add_spc_sheet(
    book: Book,
    name: str,
    about: str,
    title: str,
    blocks: Sequence[tuple[str, XmR]],
    compact: bool = False,
):
    """A sheet of SPC blocks: ``title`` in A1, how to read the charts, then each block.

    ``blocks`` are (heading, XmR) pairs, for example the overall score then each
    area. A block starts on a new printed page when it would not fit on the
    current one. Returns the worksheet.
    """
    f = book.f
    ws = book.sheet(name, about)
    widths = COMPACT_WIDTHS if compact else WIDTHS
    set_widths(ws, widths)
    if compact:
        ws.set_column(COMPACT_HIDDEN[0], COMPACT_HIDDEN[1] - 1, None, None, {"hidden": True})
    shown = widths[: COMPACT_HIDDEN[0]] if compact else widths
    ws.hide_gridlines(2)
    put(ws, 0, 0, title, f.title)
    ws.set_row(0, 26)
    width = sum(shown)
    last_col = len(shown) - 1
    used = 26.0
    row = 1
    for text in words()["how_to_read"]:
        paragraph(ws, row, 0, last_col, text, f.text, width)
        used += wrapped_lines(text, width) * 15.5 + 4
        row += 1
    row += 1
    used += LINE_PT
    page = PAGE_PT / _scale(shown) * 0.97
    breaks = []
    for heading, x in blocks:
        start = row
        row, height, keep = _write_block(book, ws, row, heading, x, widths, compact)
        # A new page when the block would fit one but not the rest of this one, or when
        # its heading, chart and first rows would not fit the rest of this one.
        if used > 0 and (used + keep > page or (used + height > page and height <= page)):
            breaks.append(start)
            used = 0.0
        used += height
    if breaks:
        ws.set_h_pagebreaks(breaks)
    print_wide(ws, landscape=False)
    return ws


# --- the series the outputs chart ---------------------------------------------------------


def network_xmr(data) -> XmR:
    """The network median month by month as an XmR chart, against the Green threshold."""
    months = [m for m in data.months if m.overall.median is not None]
    return xmr([m.period for m in months], [m.overall.median for m in months], data.network.green)


def unit_xmr(data, code: str) -> XmR:
    """A unit's overall score month by month as an XmR chart."""
    series = [
        (per, value) for per, value, _rag in data.unit_months.get(code, []) if value is not None
    ]
    return xmr([p for p, _ in series], [v for _, v in series], data.network.green)


def _palette() -> C.Palette:
    return C.Palette.from_dict(presentation().get("chart_colours", {}))


# --- image --------------------------------------------------------------------------------


def xmr_png(x: XmR, title: str) -> bytes:
    """The XmR chart as a PNG image (same data, same bytes)."""
    pal = _palette()
    turned = x.n > 8  # month labels turned so they do not overlap
    fig = C._figure(10, 5.6, left=0.9, bottom=1.9 if turned else 1.5, top=1.0)
    ax = fig.add_subplot()
    xs = list(range(x.n))
    ax.plot(
        xs,
        [p.value for p in x.points],
        color=pal.unit,
        linewidth=2.2,
        marker="o",
        markersize=5,
        label="Score",
        zorder=3,
    )
    if x.has_limits:
        limit = x.limit_word
        span = (-0.3, max(xs) + 0.3)
        ax.plot(span, [x.mean] * 2, color=pal.text, linewidth=1.2, label="Mean", zorder=2)
        ax.plot(
            span,
            [x.shown_upper] * 2,
            color=LIMIT_COLOUR,
            linewidth=1.5,
            linestyle=(0, (6, 3)),
            label=f"Upper {limit}",
            zorder=2,
        )
        ax.plot(
            span,
            [x.shown_lower] * 2,
            color=LIMIT_COLOUR,
            linewidth=1.5,
            linestyle=(0, (6, 3)),
            label=f"Lower {limit}",
            zorder=2,
        )
        if x.target is not None:
            ax.plot(
                span,
                [x.target] * 2,
                color=pal.green,
                linewidth=1.8,
                linestyle=(0, (1, 2)),
                label="Target",
                zorder=2,
            )
        special = [(i, p.value) for i, p in enumerate(x.points) if p.special]
        if special:
            ax.scatter(
                [s[0] for s in special],
                [s[1] for s in special],
                marker="D",
                s=70,
                color=pal.red,
                edgecolors=pal.text,
                linewidths=0.8,
                label="Special cause",
                zorder=4,
                clip_on=False,
            )
    step = max(1, math.ceil(x.n / 18))
    periods = [p.period for p in x.points]
    ax.set_xticks(
        xs[::step],
        periods[::step],
        rotation=45 if turned else 0,
        ha="right" if turned else "center",
        fontsize=11,
    )
    ax.set_xlim(-0.5, max(0, x.n - 1) + 0.5)
    ax.set_ylim(0, 100)
    ax.set_xlabel("Month", fontsize=11)
    ax.set_ylabel("Score (%)", fontsize=11)
    ax.grid(axis="y", color="#D9D9D9", linewidth=0.8)
    ax.set_axisbelow(True)
    C._style_axis(ax, pal)
    C._title_and_legend(fig, ax, title, 3)
    lines = [t for t in (x.variation_text, x.assurance_text) if t] or [x.summary]
    fig.text(
        0.015, 1 - 0.5 / 5.6, "    ".join(lines), ha="left", va="top", fontsize=11, color=pal.text
    )
    return C._png(fig)

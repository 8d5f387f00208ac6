"""Statistical process control for boards: XmR charts as NHS England's "Making Data Count"
draws and words them (NHS-R's NHSRplotthedots is its reference implementation).

A score (a percentage, higher is better) month by month becomes an XmR chart.
Months without a value are left out: the chart lists only months with one.

*Periods.* The months fall into periods separated by *rebase dates*, which the
network lead sets in ``network.toml`` (``[spc] rebase`` for the network and every
unit, ``rebase`` in a unit's ``[[units]]`` entry for that unit) when they know the
process changed. A period starts at its first month on or after its rebase date;
each period has its own mean and limits, and the chart shows the step. The engine
never rebases by itself.

*Limits* of a period: its mean, the average moving range (MR-bar, the mean of the
changes from one month to the next) and process limits at the mean plus and minus
2.66 x MR-bar, all from every month of the period. Moving ranges above 3.267 x
their mean are screened out first (one unusual jump would widen the limits), and
MR-bar is the mean of the rest. With fewer than 12 months they are *trial limits*,
labelled so with a warning: they will move as months are added. A period needs 2
months for limits.

Special-cause rules, each point against its own period's mean and limits (a run
or a trend does not cross a rebase date); a point is flagged with every rule it
meets:

1. a point above the upper or below the lower limit;
2. a run of 7 or more points in a row on the same side of the mean (a point
   exactly on the mean ends a run);
3. a trend of 7 or more points in a row, each higher (or each lower) than the
   one before (an equal pair ends a trend);
4. 2 of 3 points in a row beyond two thirds of the way from the mean to a limit
   (mean +/- 2 sigma, sigma = MR-bar / 1.128) on the same side; the points
   beyond are flagged.

The *variation* of a point: special cause on the high side is an improvement
(drawn blue), on the low side a concern (orange), otherwise common cause (grey).
When a point has special causes on both sides (a falling trend still above the
mean), a point beyond a limit decides; failing that it is a concern. A chart's
variation is its latest point's.

The *assurance* against a target (the network's Green threshold) is read from
the current period's limits, and only while the latest month sits within them
as common cause: the lower limit at or above the target consistently meets it,
the upper limit below it consistently misses it, otherwise hit and miss. When
the latest month is special cause the limits no longer describe the process, so
the assurance is ``unstable``: none is given until it is stable or rebased.

A *sustained shift*: when the latest month ends a run of 7 or more on one side
of the mean (rule 2), the summary says so and suggests the month the run began
as a rebase date, for the lead to set if the process changed then.

Figures are written by :mod:`engine.numbers` (half away from zero). A score that
would read the same as its period's mean or a limit at 1 decimal is written, with
that line, to 2 or 3 decimals, so the page shows which side of it the score is.

Example::

    from engine.outputs import spc

    x = spc.xmr(["2026-01", "2026-02", "2026-03"], [70.0, None, 74.5], target=80)
    x.summary      # 'Common cause variation; hit and miss against the 80% target. Trial ...'
    x.variation    # 'common'        (x.variation_text: '● Common cause variation: ...')
    x.assurance    # 'hit-and-miss'  (x.assurance_text: '~ Hit and miss: ...')
    spc.xmr(periods, values, 80, rebase=["2026-04"])   # two periods, each with its limits
    spc.unit_xmr(data, "M01")   # a unit's overall score, with the network's rebase dates

    # One sheet: title in A1, how to read the charts, then a block per score.
    spc.add_spc_sheet(book, "SPC", "Process control charts of your scores",
                      "Your scores as process control charts",
                      [("Overall score", x), ("1. Involvement", y)])
    # Or blocks on a sheet of your own (widths: spc.WIDTHS); each returns the next free row.
    row = spc.add_spc_block(book, ws, row, "Overall score", x)

    png = spc.xmr_png(x, "Overall score: process control chart")

Words and symbols live in ``workbook_templates/reports.toml`` under ``[spc]``, the
colours under ``[chart_colours]``.
"""

from __future__ import annotations

import bisect
import math
import textwrap
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from itertools import pairwise

from ..numbers import number_text, percent_text
from . import charts as C
from .sheets import Book, paragraph, presentation, print_wide, put, set_widths, wrapped_lines

BASELINE = 12  # points from which limits are no longer trial limits
MIN_POINTS = 2  # points a period needs for limits
LIMIT_FACTOR = 2.66  # 3 / d2, d2 = 1.128 for moving ranges of 2
D2 = 1.128
SCREEN_FACTOR = 3.267  # moving ranges above this times their mean are left out of MR-bar
RUN = 7  # rule 2
TREND = 7  # rule 3
MAX_PLACES = 3  # decimals a score is written with, at most, to tell it from a limit

VARIATIONS = ("improvement", "concern", "common")
ASSURANCES = ("meets", "misses", "hit-and-miss", "unstable")

# Layout of a block: columns Month, Score, Mean, Upper, Lower, Target, Special cause, and a
# margin the chart spans. 81 characters: A4 portrait at about 10 pt when LibreOffice prints
# Calibri with a wider font. The chart's own data (special-cause markers, target, each
# period's mean and limits at its first and last month) sits in hidden columns after these.
WIDTHS = [8, 7, 7, 9, 9, 7, 25, 9]
# The compact block (a unit's feedback: 13 charts per workbook, hundreds of workbooks): the
# table is Month, Score, Special cause; the mean, the limits and the target are said in words
# above it.
COMPACT_WIDTHS = [10, 9, 48, 12]
CHART_SIZE = (600, 380)  # pixels
ROW_PX = 20  # a row of the default height (15 pt)
CHART_ROWS = math.ceil(CHART_SIZE[1] / ROW_PX) + 1
PAGE_PT = 770.0  # A4 portrait height less 0.5" margins top and bottom
PRINTABLE_PT = 538.0  # A4 portrait width less 0.4" margins left and right
LINE_PT = 15.0

LIMIT_COLOUR = "#595959"
TEXT_TOP = 0.45  # inches from the top of the image to its variation and assurance words
PNG_LINE = 0.2  # inches a line of those words takes (11 pt)


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
    """A month with a value, the special-cause rules it meets and the period it is in."""

    period: str
    value: float
    signals: tuple[Signal, ...] = ()
    phase: int = 0  # index of its period in ``XmR.phases``

    @property
    def special(self) -> bool:
        return bool(self.signals)

    @property
    def variation(self) -> str:
        """``improvement``, ``concern`` or ``common``: how the chart colours the point."""
        return _variation(self.signals)

    @property
    def rules_text(self) -> str:
        """The rules in words (``Above the upper limit; Rising trend of 7 or more``) or ``None``."""
        texts = [s.text for s in self.signals]
        if not texts:
            return words()["no_rule"]
        return "; ".join([texts[0]] + [t[:1].lower() + t[1:] for t in texts[1:]])


@dataclass(frozen=True)
class Phase:
    """A period of the chart: its points (``first`` to ``last``, indexes into the points),
    the rebase date it starts at (``""`` for the first) and its own mean and limits.

    ``mr_bar``, ``upper`` and ``lower`` are ``None`` for a period of 1 point.
    """

    first: int
    last: int
    rebase: str
    mean: float
    mr_bar: float | None
    upper: float | None
    lower: float | None
    screened: int = 0  # moving ranges left out of MR-bar

    @property
    def n(self) -> int:
        return self.last - self.first + 1

    @property
    def has_limits(self) -> bool:
        return self.upper is not None

    @property
    def trial(self) -> bool:
        return self.has_limits and self.n < BASELINE

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
    def lines(self) -> list[float | None]:
        """The mean and the limits as shown."""
        return [self.mean, self.shown_upper, self.shown_lower]


@dataclass(frozen=True)
class XmR:
    """An XmR chart of one score.

    ``mean``, ``mr_bar``, ``upper``, ``lower``, ``trial`` and ``baseline`` are
    those of the current (last) period; every period is in ``phases``. Limits
    are ``None`` while the current period has fewer than 2 points. ``upper`` and
    ``lower`` are the limits as worked out (they may lie outside 0 to 100);
    ``shown_upper`` and ``shown_lower`` are clipped to 0 to 100.
    ``variation`` is one of ``improvement``, ``concern``, ``common``;
    ``assurance`` one of ``meets``, ``misses``, ``hit-and-miss``, ``unstable``
    (each ``""`` without limits, and ``assurance`` also without a target).
    ``shift_from`` is the month a sustained shift at the end began (a rebase
    date to suggest), or ``""``. ``as_of`` is the report's month and ``missing``
    why it has no point (``no return``), when the chart was made for a month.
    """

    points: tuple[Point, ...]
    target: float | None
    mean: float | None
    mr_bar: float | None
    upper: float | None
    lower: float | None
    trial: bool
    baseline: int  # points the current mean and limits come from
    variation: str
    assurance: str
    summary: str
    phases: tuple[Phase, ...] = ()
    shift_from: str = ""
    as_of: str = ""
    missing: str = ""
    _places: tuple[int, ...] = field(default=(), repr=False, compare=False)

    @property
    def n(self) -> int:
        return len(self.points)

    @property
    def phase(self) -> Phase | None:
        """The current period."""
        return self.phases[-1] if self.phases else None

    @property
    def has_limits(self) -> bool:
        """Whether the current period has limits (and so a variation and an assurance)."""
        return self.mean is not None and self.upper is not None

    @property
    def charted(self) -> bool:
        """Whether there is a chart: some period has limits."""
        return any(ph.has_limits for ph in self.phases)

    @property
    def sigma(self) -> float | None:
        return self.phase.sigma if self.phase else None

    @property
    def shown_upper(self) -> float | None:
        """The current period's upper limit within 0 to 100."""
        return self.phase.shown_upper if self.phase else None

    @property
    def shown_lower(self) -> float | None:
        return self.phase.shown_lower if self.phase else None

    @property
    def clipped(self) -> bool:
        """Whether a limit shown differs from the one worked out, in any period."""
        return any(
            ph.shown_upper != ph.upper or ph.shown_lower != ph.lower
            for ph in self.phases
            if ph.has_limits
        )

    @property
    def latest(self) -> Point | None:
        return self.points[-1] if self.points else None

    @property
    def earlier(self) -> bool:
        """Whether the latest point is from before the report's month (``as_of``)."""
        return bool(self.as_of and self.points and self.points[-1].period != self.as_of)

    @property
    def latest_label(self) -> str:
        """The latest point's month, saying so when it is not the report's:
        ``2026-10 (no return for 2026-11)``."""
        if not self.points:
            return ""
        period = self.points[-1].period
        if self.earlier:
            return f"{period} ({self.missing or 'no figure'} for {self.as_of})"
        return period

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
        """How the limits are named where shown: ``trial limit`` when every period's are
        trial limits, ``process limit`` when none are, else ``limit``."""
        kinds = {ph.trial for ph in self.phases if ph.has_limits}
        if kinds == {True}:
            return "trial limit"
        if kinds == {False}:
            return "process limit"
        return "limit"

    @property
    def any_trial(self) -> bool:
        return any(ph.trial for ph in self.phases)

    def places(self, i: int) -> int:
        """Decimals point ``i`` is written with: 1, or more where it would read the same
        as its period's mean or a limit."""
        return self._places[i] if self._places else 1

    def value_text(self, i: int) -> str:
        """Point ``i``'s value as written (``83.04%`` beside a limit of ``83.01%``)."""
        return percent_text(self.points[i].value, self.places(i))

    def line_places(self, ph: Phase) -> int:
        """Decimals a period's mean and limits are written with: as many as its most
        precise point, and enough to tell each from the target."""
        places = [self.places(i) for i in range(ph.first, ph.last + 1)]
        if self.target is not None:
            places += [_places(v, [self.target]) for v in ph.lines if v is not None]
        return max(places, default=1)


def _icon(key: str) -> str:
    if not key:
        return ""
    w = words()
    k = key.replace("-", "_")
    return f"{w[k + '_symbol']} {w[k]}"


def pct(value: float, places: int = 1) -> str:
    return percent_text(value, places)


def _places(value: float, others: Iterable[float | None]) -> int:
    """Decimals (1 to 3) that write ``value`` differently from each of ``others`` it is
    not equal to, when both are written with them."""
    for places in range(1, MAX_PLACES):
        text = number_text(value, places)
        if all(o is None or o == value or number_text(o, places) != text for o in others):
            return places
    return MAX_PLACES


# --- computation --------------------------------------------------------------------------


def xmr(
    periods: Sequence[str],
    values: Sequence[float | None],
    target: float | None,
    rebase: Iterable[str] = (),
    *,
    as_of: str = "",
    missing: str = "",
) -> XmR:
    """The XmR chart of ``values`` by period (in month order); ``None`` values (missing
    months) are left out.

    ``rebase``: months (``YYYY-MM``) at which a new period, with its own mean and
    limits, starts. ``as_of``: the report's month, and ``missing`` why it has no
    value (``no return``), so a latest point from an earlier month says so.
    """
    if len(periods) != len(values):
        raise ValueError("periods and values differ in length")
    pairs = [(str(p), float(v)) for p, v in zip(periods, values) if v is not None]
    vals = [v for _p, v in pairs]
    phases = tuple(_phase(vals, first, last, date) for first, last, date in _spans(pairs, rebase))
    found: list[list[Signal]] = []
    for ph in phases:
        own = vals[ph.first : ph.last + 1]
        if ph.has_limits:
            found += special_causes(own, ph.mean, ph.upper, ph.lower, ph.sigma)
        else:
            found += [[] for _ in own]
    phase_of = [k for k, ph in enumerate(phases) for _ in range(ph.n)]
    points = tuple(Point(p, v, tuple(s), k) for (p, v), s, k in zip(pairs, found, phase_of))
    current = phases[-1] if phases else None
    places = tuple(
        _places(p.value, phases[p.phase].lines) if phases[p.phase].has_limits else 1 for p in points
    )
    x = XmR(
        points,
        target,
        current.mean if current else None,
        current.mr_bar if current else None,
        current.upper if current else None,
        current.lower if current else None,
        bool(current and current.trial),
        current.n if current else 0,
        "",
        "",
        "",
        phases,
        "",
        as_of,
        missing,
        places,
    )
    if current is None or not current.has_limits:
        return replace(x, summary=_summary_without_limits(x))
    latest = points[-1]
    variation = latest.variation
    assurance = ""
    if target is not None:
        assurance = "unstable" if latest.special else _assurance(current, target)
    x = replace(x, variation=variation, assurance=assurance, shift_from=_shift(points, current))
    return replace(x, summary=_summary(x))


def _spans(pairs: list[tuple[str, float]], rebase: Iterable[str]) -> list[tuple[int, int, str]]:
    """(first, last, rebase date) of each period. A date moves its period's start to the
    first month on or after it; a date before the first month or after the last starts none."""
    if not pairs:
        return []
    periods = [p for p, _v in pairs]
    starts: dict[int, str] = {}
    for date in sorted(set(rebase)):
        i = bisect.bisect_left(periods, date)
        if 0 < i < len(periods):
            starts[i] = date  # the later of two dates with no month between them
    bounds = [0, *sorted(starts), len(periods)]
    return [(a, b - 1, starts.get(a, "")) for a, b in pairwise(bounds)]


def _phase(vals: list[float], first: int, last: int, date: str) -> Phase:
    own = vals[first : last + 1]
    mean = sum(own) / len(own)
    if len(own) < MIN_POINTS:
        return Phase(first, last, date, mean, None, None, None)
    ranges = [abs(b - a) for a, b in pairwise(own)]
    average = sum(ranges) / len(ranges)
    kept = [r for r in ranges if r <= SCREEN_FACTOR * average]
    mr_bar = sum(kept) / len(kept)
    spread = LIMIT_FACTOR * mr_bar
    return Phase(
        first, last, date, mean, mr_bar, mean + spread, mean - spread, len(ranges) - len(kept)
    )


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
    for start, end, s in _stretches(_sides(values, mean)):  # rule 2
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


def _sides(values: Sequence[float], mean: float) -> list[int]:
    return [1 if v > mean else -1 if v < mean else 0 for v in values]


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


def _assurance(ph: Phase, target: float) -> str:
    if ph.lower >= target:
        return "meets"
    if ph.upper < target:
        return "misses"
    return "hit-and-miss"


def _shift(points: tuple[Point, ...], ph: Phase) -> str:
    """The month a run on one side of the mean (rule 2) that the latest point ends began,
    if it began after the period's first month; else ``""``."""
    if not any(s.rule == 2 for s in points[-1].signals):
        return ""
    sides = _sides([p.value for p in points[ph.first :]], ph.mean)
    start = len(sides) - 1
    while start > 0 and sides[start - 1] == sides[-1]:
        start -= 1
    return points[ph.first + start].period if start > 0 else ""


def _summary_without_limits(x: XmR) -> str:
    w = words()
    if not x.points:
        return w["no_months"]
    if x.n < MIN_POINTS:
        return w["one_month"].format(first=x.points[0].period, value=x.value_text(0))
    text = w["new_period"].format(date=x.phase.rebase)
    return f"{text} {_rebased_text(x)}".strip()


def _summary(x: XmR) -> str:
    w = words()
    ph = x.phase
    text = w[f"{x.variation}_short"]
    if x.assurance:
        key = x.assurance.replace("-", "_") + "_short"
        text += "; " + w[key].format(target=f"{x.target:g}%")
    text += ". "
    since = w["since"].format(date=ph.rebase) if ph.rebase else ""
    first, last = x.points[ph.first].period, x.points[ph.last].period
    kind = "trial_limits" if ph.trial else "limits"
    text += w[kind].format(n=ph.n, since=since, first=first, last=last)
    if ph.screened == 1:
        text += " " + w["screened_one"]
    elif ph.screened:
        text += " " + w["screened_many"].format(n=ph.screened)
    if len({p.value for p in x.points[ph.first : ph.last + 1]}) == 1:
        text += " " + w["flat"]
    if len(x.phases) > 1:
        text += " " + _rebased_text(x)
    if x.shift_from:
        start = next(i for i, p in enumerate(x.points) if p.period == x.shift_from)
        side = "above" if x.points[-1].value > ph.mean else "below"
        text += " " + w["shift"].format(
            n=x.n - start, first=x.shift_from, last=x.points[-1].period, side=side
        )
    return text


def _rebased_text(x: XmR) -> str:
    dates = [ph.rebase for ph in x.phases if ph.rebase]
    return words()["rebased"].format(date=dates[-1]) if dates else ""


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


_PCT_FORMATS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _pct_format(book: Book, places: int):
    """The percentage cell format with ``places`` decimals (the book's own for 1)."""
    if places == 1:
        return book.f.pct
    made = _PCT_FORMATS.setdefault(book, {})
    if places not in made:
        p = presentation()
        made[places] = book.wb.add_format(
            {
                "font_name": p["fonts"]["name"],
                "font_size": p["fonts"]["body"],
                "valign": "top",
                "num_format": f'0.{"0" * places}"%"',
                "border": 1,
                "border_color": p["colours"]["border"],
            }
        )
    return made[places]


def add_spc_block(book: Book, ws, row: int, title: str, x: XmR, widths=WIDTHS) -> int:
    """One SPC block on ``ws`` from ``row``: heading, icons, summary, chart and table.

    The sheet's column widths should be :data:`WIDTHS` (as :func:`add_spc_sheet`
    sets them); the chart's data goes in hidden columns after them. Returns the
    next free row, so blocks can be stacked.
    """
    return _write_block(book, ws, row, title, x, widths)[0]


def _first_lines(x: XmR) -> list[str]:
    """The block's sentences above the chart: the latest month, the target, the summary."""
    w = words()
    latest = x.latest
    value = x.value_text(x.n - 1)
    if not x.has_limits:
        return [w["latest_no_limits"].format(period=x.latest_label, value=value), x.summary]
    if x.earlier:
        first = w["latest_earlier"].format(
            period=latest.period,
            why=x.missing or "no figure",
            month=x.as_of,
            value=value,
            variation=x.variation_text,
        )
    else:
        first = w["latest"].format(period=latest.period, value=value, variation=x.variation_text)
    lines = [first]
    if x.target is not None:
        lines.append(f"Against the target of {x.target:g}%: {x.assurance_text}.")
    lines.append(x.summary)
    return lines


def _period_figures(x: XmR, ph: Phase) -> tuple[str, str, str, str]:
    """A period's months (``2026-03 to 2026-12``; ``""`` when it is the only period) and its
    mean, upper and lower limit as written."""
    places = x.line_places(ph)
    span = f"{x.points[ph.first].period} to {x.points[ph.last].period}" if len(x.phases) > 1 else ""
    return span, pct(ph.mean, places), pct(ph.shown_upper, places), pct(ph.shown_lower, places)


def _limit_lines(x: XmR) -> list[str]:
    """The compact block's mean and limits in words, a line per period with limits."""
    lines = []
    for ph in x.phases:
        if ph.has_limits:
            span, mean, upper, lower = _period_figures(x, ph)
            name = "trial limit" if ph.trial else "process limit"
            text = f"mean {mean}; upper {name} {upper}; lower {name} {lower}"
            lines.append(f"{span}: {text}" if span else text[0].upper() + text[1:])
    if x.target is not None and lines:
        lines[-1] += f"; target {x.target:g}%"
    return [line + "." for line in lines]


def _write_block(
    book: Book, ws, row: int, title: str, x: XmR, widths, compact: bool = False
) -> tuple[int, float, float]:
    """As :func:`add_spc_block`; also the block's height in points, and the height of its
    part to keep together on a page (heading to the table's first rows)."""
    f, w = book.f, words()
    has_target = x.target is not None
    cols = 3 if compact else len(widths) - 1  # table columns; the last one is the chart's margin
    table_width = sum(widths[:cols])
    put(ws, row, 0, title, f.heading)
    height = _row(ws, row, 20)
    row += 1
    if not x.charted:
        paragraph(ws, row, 0, cols - 1, x.summary, f.text, table_width)
        height += _fit(ws, row, [(x.summary, table_width)])
        return row + 2, height + 2 * LINE_PT, height
    lines = _first_lines(x)
    if compact:
        lines += _limit_lines(x)
    for text in lines:
        paragraph(ws, row, 0, cols - 1, text, f.text, table_width)
        height += _fit(ws, row, [(text, table_width)])
        row += 1

    # The table, written first so the chart can point at it; the chart goes above it.
    chart_row = row + 1
    head = chart_row + CHART_ROWS
    height += (CHART_ROWS + 1) * LINE_PT
    limit = x.limit_word
    trial_mark = f" {book.note(w['trial_note'])}" if x.any_trial else ""

    def clip_mark(side: str) -> str:
        clipped = any(
            getattr(ph, f"shown_{side}") != getattr(ph, side) for ph in x.phases if ph.has_limits
        )
        return f" {book.note(w['clipped_note'])}" if clipped else ""

    headers = (
        ["Month", "Score (%)", "Special cause"]
        if compact
        else [
            "Month",
            "Score (%)",
            "Mean (%)",
            f"Upper {limit} (%){trial_mark}{clip_mark('upper')}",
            f"Lower {limit} (%){trial_mark}{clip_mark('lower')}",
            "Target (%)",
            "Special cause",
        ]
    )
    first = book.table(ws, head, 0, headers, x.n, f"SPC {ws.name} {title}")
    height += _fit(ws, head, list(zip(headers, widths)), bold=True)
    data_col = len(widths)  # the chart's data: hidden columns after the sheet's own
    line_places = [x.line_places(ph) for ph in x.phases]
    r = first
    keep = 0.0
    for i, p in enumerate(x.points):
        ph = x.phases[p.phase]
        score = _pct_format(book, x.places(i))
        if compact:
            values = [p.period, p.value, p.rules_text]
            fmts = [f.bold, score, f.bold_wrap if p.special else f.wrap]
        else:
            lines_fmt = _pct_format(book, line_places[p.phase])
            limits = [ph.shown_upper, ph.shown_lower] if ph.has_limits else ["[x]", "[x]"]
            values = [p.period, p.value, ph.mean, *limits]
            values += [x.target if has_target else "[z]", p.rules_text]
            fmts = [f.bold, score, lines_fmt]
            fmts += [lines_fmt if ph.has_limits else f.cell] * 2
            fmts += [f.pct if has_target else f.cell, f.bold_wrap if p.special else f.wrap]
        for c, (value, fmt) in enumerate(zip(values, fmts)):
            put(ws, r, c, value, fmt)
        if p.special:
            height += _fit(ws, r, [(p.rules_text, widths[cols - 1])], bold=True)
        else:  # "None": one line at the default row height
            height += LINE_PT
        if r - first == min(2, x.n - 1):
            keep = height
        r += 1
    last = r - 1
    used = _chart_data(ws, f.pct, x, first, data_col)
    ws.set_column(data_col, data_col + used - 1, None, None, {"hidden": True})
    book.insert_chart(
        ws,
        chart_row,
        0,
        _chart(book, ws.name, title, x, first, last, data_col),
        _alt_text(title, x),
    )
    return r + 2, height + 2 * LINE_PT, keep


def _chart_data(ws, fmt, x: XmR, first: int, col: int) -> int:
    """The chart's data in the columns from ``col``: special causes (improvement, concern),
    the target, then each period's mean, upper and lower limit at its first and last month
    (the chart joins them across the months between). Returns the columns used."""
    for i, p in enumerate(x.points):
        if p.variation == "improvement":
            put(ws, first + i, col, p.value, fmt)
        elif p.variation == "concern":
            put(ws, first + i, col + 1, p.value, fmt)
    if x.target is not None:
        for i in {0, x.n - 1}:
            put(ws, first + i, col + 2, x.target, fmt)
    for k, ph in enumerate(x.phases):
        if ph.has_limits:
            for i in (ph.first, ph.last):
                for c, value in enumerate(ph.lines):
                    put(ws, first + i, col + 3 + 3 * k + c, value, fmt)
    return 3 + 3 * len(x.phases)


def _axis(x: XmR) -> tuple[float, float, float]:
    """The value axis: fitted to the points, every period's lines and the target."""
    values = [p.value for p in x.points] + [x.target]
    values += [v for ph in x.phases if ph.has_limits for v in ph.lines]
    return C.fitted_axis(values)


def _chart(book: Book, sheet: str, title: str, x: XmR, first: int, last: int, data_col: int):
    pal = _palette()
    chart = book.wb.add_chart({"type": "line"})

    def col(c: int) -> list:
        return [sheet, first, c, last, c]

    limit = x.limit_word
    count = 0
    hidden_in_legend = []

    def series(name, c, line, marker=None, legend=True):
        nonlocal count
        chart.add_series(
            {
                "name": name,
                # Every series shares the first one's months (no need to repeat them in each).
                **({"categories": col(0)} if count == 0 else {}),
                "values": col(c),
                "line": line,
                "marker": marker or {"type": "none"},
            }
        )
        if not legend:
            hidden_in_legend.append(count)
        count += 1

    series(
        "Score",
        1,
        {"color": pal.common, "width": 2.25},
        {
            "type": "circle",
            "size": 5,
            "fill": {"color": pal.common},
            "border": {"color": pal.common},
        },
    )
    shown = [k for k, ph in enumerate(x.phases) if ph.has_limits]
    for k in shown:
        base = data_col + 3 + 3 * k
        legend = k == shown[0]  # one legend entry for each kind of line, not one per period
        series("Mean", base, {"color": pal.text, "width": 1.25}, legend=legend)
        dashed = {"color": LIMIT_COLOUR, "width": 1.5, "dash_type": "dash"}
        series(f"Upper {limit}", base + 1, dashed, legend=legend)
        series(f"Lower {limit}", base + 2, dashed, legend=legend)
    if x.target is not None:
        series(
            "Target", data_col + 2, {"color": pal.green, "width": 1.75, "dash_type": "round_dot"}
        )
    kinds = {p.variation for p in x.points}
    for c, kind, colour in ((0, "improvement", pal.improvement), (1, "concern", pal.concern)):
        if kind in kinds:
            series(
                f"Special cause: {kind}", data_col + c, {"none": True}, C.diamond(colour, pal.text)
            )
    chart.show_blanks_as("span")
    chart.show_hidden_data()
    trial = ", trial limits" if x.trial else ""
    chart.set_title(C._title(f"{title}: process control chart{trial}"))
    # At most 12 month labels, level; more would crowd or need turning.
    axis = C._category_axis("Month")
    axis["interval_unit"] = math.ceil(x.n / 12)
    axis["interval_tick"] = 1
    chart.set_x_axis(axis)
    chart.set_y_axis(C._percent_axis("Score (%)", *_axis(x)))
    legend = {"position": "bottom", "font": C._font(11)}
    if hidden_in_legend:
        legend["delete_series"] = hidden_in_legend
    chart.set_legend(legend)
    chart.set_size({"width": CHART_SIZE[0], "height": CHART_SIZE[1]})
    return chart


def _alt_text(title: str, x: XmR) -> str:
    special = sum(p.special for p in x.points)
    periods = []
    for ph in x.phases:
        if ph.has_limits:
            span, mean, upper, lower = _period_figures(x, ph)
            kind = "trial limits" if ph.trial else "process limits"
            figures = f"mean {mean}, {kind} {lower} to {upper}"
            periods.append(f"{span}: {figures}" if span else figures)
    return (
        f"Process control chart of {title}, {x.points[0].period} to {x.points[-1].period} "
        f"({x.n} months): {'; '.join(periods)}; {special} month{'s' if special != 1 else ''} "
        f"with special cause variation. Latest {x.latest_label}: {x.value_text(x.n - 1)}. "
        f"{x.summary}"
    )


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
    ws.hide_gridlines(2)
    put(ws, 0, 0, title, f.title)
    ws.set_row(0, 26)
    width = sum(widths)
    last_col = len(widths) - 1
    used = 26.0
    row = 1
    for text in words()["how_to_read"]:
        paragraph(ws, row, 0, last_col, text, f.text, width)
        used += wrapped_lines(text, width) * 15.5 + 4
        row += 1
    row += 1
    used += LINE_PT
    page = PAGE_PT / _scale(widths) * 0.97
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
    """The network median month by month as an XmR chart, against the Green threshold,
    with the network's rebase dates."""
    months = [m for m in data.months if m.overall.median is not None]
    return xmr(
        [m.period for m in months],
        [m.overall.median for m in months],
        data.network.green,
        data.network.rebase_for(None),
        as_of=data.period,
        missing="no median",
    )


def unit_xmr(data, code: str) -> XmR:
    """A unit's overall score month by month as an XmR chart, with the rebase dates of the
    network and of the unit; its latest point says so when it is not this month's."""
    rows = data.unit_months.get(code, [])
    series = [(per, value) for per, value, _rag in rows if value is not None]
    returned = any(per == data.period for per, _v, _rag in rows)
    return xmr(
        [p for p, _ in series],
        [v for _, v in series],
        data.network.green,
        data.network.rebase_for(code),
        as_of=data.period,
        missing="no overall score" if returned else "no return",
    )


def unit_area_xmr(data, code: str, area_id: str) -> XmR:
    """A unit's score in one area (complete months only) as an XmR chart, as :func:`unit_xmr`."""
    scores = data.unit_area_months.get(code, {}).get(area_id, {})
    months = sorted(scores)
    returned = any(per == data.period for per, _v, _rag in data.unit_months.get(code, []))
    return xmr(
        months,
        [scores[m] for m in months],
        data.network.green,
        data.network.rebase_for(code),
        as_of=data.period,
        missing="area not complete" if returned else "no return",
    )


def _palette() -> C.Palette:
    return C.Palette.from_dict(presentation().get("chart_colours", {}))


# --- image --------------------------------------------------------------------------------


def xmr_png(x: XmR, title: str) -> bytes:
    """The XmR chart as a PNG image (same data, same bytes)."""
    pal = _palette()
    turned = x.n > 8  # month labels turned so they do not overlap
    # Variation and assurance above the chart, in words, wrapped to the figure's width.
    said = [t for t in (x.variation_text, x.assurance_text) if t] or [x.summary]
    if x.earlier:
        said.insert(0, f"Latest: {x.latest_label}.")
    said = [part for text in said for part in textwrap.wrap(text, 110)]
    top = TEXT_TOP + PNG_LINE * len(said) + 0.2
    fig = C._figure(10, 5.6, left=0.9, bottom=1.9 if turned else 1.5, top=top)
    ax = fig.add_subplot()
    xs = list(range(x.n))
    ax.plot(
        xs,
        [p.value for p in x.points],
        color=pal.common,
        linewidth=2.2,
        marker="o",
        markersize=5,
        label="Score",
        zorder=3,
    )
    limit = x.limit_word
    dashed = {"color": LIMIT_COLOUR, "linewidth": 1.5, "linestyle": (0, (6, 3)), "zorder": 2}
    labelled = False
    for ph in x.phases:
        if not ph.has_limits:
            continue
        span = (ph.first - 0.3, ph.last + 0.3)
        labels = ("Mean", f"Upper {limit}", f"Lower {limit}")
        if labelled:  # one legend entry for each kind of line, not one per period
            labels = ("_nolegend_",) * 3
        ax.plot(span, [ph.mean] * 2, color=pal.text, linewidth=1.2, label=labels[0], zorder=2)
        ax.plot(span, [ph.shown_upper] * 2, label=labels[1], **dashed)
        ax.plot(span, [ph.shown_lower] * 2, label=labels[2], **dashed)
        labelled = True
    if x.charted and x.target is not None:
        ax.plot(
            (-0.3, max(xs) + 0.3),
            [x.target] * 2,
            color=pal.green,
            linewidth=1.8,
            linestyle=(0, (1, 2)),
            label="Target",
            zorder=2,
        )
    for kind, colour in (("improvement", pal.improvement), ("concern", pal.concern)):
        special = [(i, p.value) for i, p in enumerate(x.points) if p.variation == kind]
        if special:
            ax.scatter(
                [s[0] for s in special],
                [s[1] for s in special],
                marker="D",
                s=70,
                color=colour,
                edgecolors=pal.text,
                linewidths=0.8,
                label=f"Special cause: {kind}",
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
    low, high, gap = _axis(x)
    ax.set_ylim(low, high)
    ticks = [low + gap * k for k in range(round((high - low) / gap) + 1)]
    ax.set_yticks(ticks, [percent_text(t, 0) for t in ticks])
    ax.set_xlabel("Month", fontsize=11)
    ax.set_ylabel("Score (%)", fontsize=11)
    ax.grid(axis="y", color="#D9D9D9", linewidth=0.8)
    ax.set_axisbelow(True)
    C._style_axis(ax, pal)
    C._title_and_legend(fig, ax, title, 4)
    fig.text(
        0.015, 1 - TEXT_TOP / 5.6, "\n".join(said), ha="left", va="top", fontsize=11, color=pal.text
    )
    return C._png(fig)

"""The benchmark outputs: what the outbox holds for each month, rebuilt from the ledger.

For a period, :func:`build_period` writes under ``outbox/<period>/``:

- ``SeQuIn_network_<period>.xlsx``: every unit against every area and the
  network median and range, one sheet per area (each unit against the network
  per standard), trends, gaps in provision, the evidence library of good
  practice, completion and co-production;
- ``feedback/SeQuIn_feedback_<UNIT>_<period>.xlsx``: one per unit that
  returned: the unit against the network, its trend, strengths, priorities and
  an action plan to fill in;
- ``SeQuIn_commissioners_<period>.xlsx``: a one-page summary, then the detail;
- ``SeQuIn_easy_read_<period>.xlsx``: one A4 page in plain words for service
  users and carers;
- ``charts/*.png``: the key network charts as images for board papers.

Rules kept here:

- Every figure comes from the ledger (``area_scores`` and ``returns``), using
  each unit's current return (``superseded_by IS NULL AND held IS NULL``). Trends use the
  periods on record up to and including the one built.
- Incomplete areas are shown, marked, and left out of medians and ranges;
  medians are over units that returned.
- Text that came from a return is written as a string, never as a formula or
  link, with control characters removed; evidence shared beyond its unit has
  likely personal data masked.
- Outputs are deterministic (fixed workbook dates, sorted data) and written
  atomically.
- The ledger is read with a handful of set-based queries inside one read
  transaction, so the outputs reflect one consistent state.
"""

from __future__ import annotations

import datetime as dt
import gc
import io
import logging
import math
import re
import statistics
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import xlsxwriter

from . import charts as C
from . import template as T
from .bank import Area, Bank, known_banks, version_key
from .exports import evidence_csv, scores_csv
from .files import write_atomic
from .home import Home, Network, check_period
from .ledger import Ledger
from .privacy import mask_personal_data
from .workbook import month_name, row_height, text_lines

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

# Text from a return must never become a formula, a link or a number.
WORKBOOK_OPTIONS = {
    "in_memory": True,
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
}
PERCENT = '0.0"%"'
GRID_WIDTHS = [20, 7, 10]  # unit, overall %, overall RAG
GRID_AREA_WIDTHS = [7, 10]  # per area: %, RAG
POINTS = "+0.0;-0.0;0.0"
MAX_CELL = 32_767
MAX_UNITS_ON_SUMMARY = 30  # more units than this do not fit the commissioners' one page
IDEAS_PER_STANDARD = 2
UNITS_LISTED = 8  # evidence library: units named per piece of evidence before "and n more"

# Control characters, and lone surrogates that no file can hold.
log = logging.getLogger(__name__)

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")

# Finding codes that mean a file's hidden unit and month could not be verified.
UNVERIFIED_CODES = frozenset(
    {"token-invalid", "unknown-unit", "unknown-bank-version", "not-a-sequin-workbook"}
)
# What shared outputs say of such a file instead of its findings, which may quote those details.
UNVERIFIED_REASON = (
    "its hidden details could not be verified (it was made by another network, or changed). "
    "The unit should return the workbook generated for them."
)


@lru_cache(maxsize=1)
def presentation() -> dict:
    """Fixed texts, colours and fonts of the benchmark outputs."""
    text = (resources.files("workbook_templates") / "reports.toml").read_text("utf-8")
    return tomllib.loads(text)


def clean(text: object) -> str:
    """Text safe to write into a cell: control characters removed, within Excel's limit."""
    if text is None:
        return ""
    return _CONTROL.sub("", str(text))[:MAX_CELL]


# --- the figures of one month ---------------------------------------------------------------


@dataclass(frozen=True)
class AreaResult:
    """One unit's score in one area, as stored."""

    percent: float | None
    rag: str
    complete: bool


@dataclass(frozen=True)
class Spread:
    """Median and range of a set of scores (``n`` scores)."""

    median: float | None = None
    low: float | None = None
    high: float | None = None
    n: int = 0

    @classmethod
    def of(cls, values: list[float]) -> Spread:
        if not values:
            return cls()
        return cls(statistics.median(values), min(values), max(values), len(values))


@dataclass
class UnitResult:
    """A unit's current return for the month."""

    code: str
    overall: float | None
    overall_rag: str
    received_at: str
    areas: dict[str, AreaResult] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return bool(self.areas) and all(a.complete for a in self.areas.values())


@dataclass(frozen=True)
class StandardLine:
    """A standard as shown in the outputs."""

    id: str
    area_id: str
    text: str


@dataclass(frozen=True)
class StandardStats:
    """How the units rated one standard this month."""

    counts: dict[str, int]
    unrated: int
    applicable: int
    median: float | None  # standard score: best rating 100 %, worst 0 %
    share_met: float | None  # percent of applicable ratings at the best label

    @property
    def share_below(self) -> float | None:
        return None if self.share_met is None else 100.0 - self.share_met


@dataclass(frozen=True)
class Month:
    """Network figures for one month on record."""

    period: str
    returned: int
    overall: Spread
    areas: dict[str, Spread]
    coproduction: float | None


@dataclass(frozen=True)
class Completion:
    """Whether a unit returned for the month."""

    code: str
    status: str  # returned | rejected | missing
    received: str
    file: str = ""
    reasons: tuple[str, ...] = ()
    later_rejected: str = ""


@dataclass(frozen=True)
class Evidence:
    """One piece of good-practice evidence (masked), with the units that gave it."""

    area_id: str
    standard_id: str
    text: str
    units: tuple[str, ...]


@dataclass
class PeriodData:
    """Everything the outputs of one month show, gathered from the ledger."""

    network: Network
    period: str
    month: str
    areas: list[Area]
    standards: dict[str, list[StandardLine]]
    units: list[str]  # units with a current return, in network order
    results: dict[str, UnitResult]
    ratings: dict[str, dict[str, str]]
    notes: dict[str, dict[str, str]]
    coproduction: dict[str, tuple[int, int]]
    area_coproduction: dict[str, tuple[int, int]]
    area_spread: dict[str, Spread]
    area_rag: dict[str, tuple[int, int, int]]
    area_incomplete: dict[str, int]
    overall: Spread
    standard_stats: dict[str, StandardStats]
    months: list[Month]
    unit_months: dict[str, list[tuple[str, float | None, str]]]  # unit -> (period, overall, RAG)
    compare: dict[str, str]  # "previous" / "year" -> the period compared with ("" if none)
    history: dict[tuple[str, str], dict[str, float | None]]  # (unit, compared period) -> areas
    completion: list[Completion]
    unidentified: int
    library: list[Evidence]
    library_by_standard: dict[str, list[Evidence]]
    signoffs: dict[str, dict[str, str]]  # unit -> area -> "Yes" | "No" | ""
    received_up_to: str
    max_return_id: int
    labels: dict[str, str]  # role of each scale label: best | middle | worst | na

    @property
    def best_label(self) -> str:
        return next((k for k, v in self.labels.items() if v == "best"), "Met")

    def name(self, code: str) -> str:
        """How shared outputs name a unit."""
        return self.network.display_name(code)

    def previous(self) -> Month | None:
        """The month on record before this one, if any."""
        earlier = [m for m in self.months if m.period < self.period]
        return earlier[-1] if earlier else None

    def coproduction_share(self) -> float | None:
        yes = sum(y for y, _n in self.coproduction.values())
        total = sum(n for _y, n in self.coproduction.values())
        return 100.0 * yes / total if total else None

    def counts(self) -> dict[str, int]:
        """Units of the network that returned, were rejected or are missing."""
        codes = {u.code for u in self.network.units}
        c = Counter(x.status for x in self.completion if x.code in codes)
        return {s: c.get(s, 0) for s in ("returned", "rejected", "missing")}

    def scale_rule(self) -> str:
        """The rating scale in words: ``Met 2 points, Partly met 1, Not met 0; N/A is left out``."""
        counted = [s for s in self.network.scale if s.applicable]
        left_out = [s.label for s in self.network.scale if not s.applicable]
        parts = [
            f"{s.label} {s.points} point{'s' if s.points != 1 else ''}"
            if i == 0
            else f"{s.label} {s.points}"
            for i, s in enumerate(counted)
        ]
        text = ", ".join(parts)
        return text + (f"; {' and '.join(left_out)} is left out" if left_out else "")

    def standard_rule(self) -> str:
        """How a standard's score is read: ``Met 100%, Partly met 50%, Not met 0%``."""
        best = self.network.max_points or 1
        return ", ".join(
            f"{s.label} {100 * s.points / best:g}%" for s in self.network.scale if s.applicable
        )

    def rag_rule(self) -> str:
        n = self.network
        return f"Green {n.green:g}% or more, Amber {n.amber:g}% or more, Red below {n.amber:g}%"

    def area_label(self, area: Area) -> str:
        return f"{area.index}. {area.name}"

    def area_short(self, area: Area) -> str:
        """The area's short label, used where a chart names the areas."""
        return f"{area.index}. {area.short_name}"


def _scale_roles(network: Network) -> dict[str, str]:
    best = network.max_points
    roles = {}
    for s in network.scale:
        if not s.applicable:
            roles[s.label] = "na"
        elif s.points == best:
            roles[s.label] = "best"
        elif s.points == 0:
            roles[s.label] = "worst"
        else:
            roles[s.label] = "middle"
    return roles


def _months_before(period: str, n: int) -> str:
    """The period ``n`` months before ``period``."""
    year, month = (int(x) for x in period.split("-"))
    index = year * 12 + month - 1 - n
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _period_start(period: str) -> dt.date:
    year, month = (int(x) for x in period.split("-"))
    return dt.date(year, month, 1)


def _layout_bank(home: Home, versions: list[str]) -> tuple[Bank, dict[str, Bank]]:
    banks = known_banks(home.banks_dir)
    usable = [v for v in versions if v in banks]
    if usable:
        return banks[max(usable, key=version_key)], banks
    return home.bank(), banks


def _unit_order(network: Network):
    position = {u.code: i for i, u in enumerate(network.units)}
    return lambda code: (position.get(code, len(position)), code)


def collect(home: Home, ledger: Ledger, period: str) -> PeriodData:
    """Gather the month's figures from the ledger in one consistent read."""
    check_period(period)
    db = ledger.db
    own_txn = not db.in_transaction
    if own_txn:
        db.execute("BEGIN")
    try:
        return _collect(home, db, period)
    finally:
        if own_txn:
            db.execute("COMMIT")


def _collect(home: Home, db, period: str) -> PeriodData:
    network = home.network
    cur = db.cursor()
    cur.row_factory = None  # plain tuples: leaner than sqlite3.Row for large reads
    order = _unit_order(network)
    roles = _scale_roles(network)
    points = {s.label: s.points for s in network.scale if s.applicable}
    best_points = network.max_points or 1
    today = _period_start(period)
    # Only the network's own units are ever shown, whatever the ledger holds.
    known = {u.code for u in network.units}

    returns = [
        r
        for r in cur.execute(
            "SELECT id, unit, period, bank_version, received_at, overall_percent, overall_rag "
            "FROM returns WHERE superseded_by IS NULL AND held IS NULL AND period <= ? ORDER BY period, unit",
            (period,),
        )
        if r[1] in known
    ]
    current = {r[1]: r for r in returns if r[2] == period}
    bank, banks = _layout_bank(home, sorted({r[3] for r in current.values()}))
    areas = list(bank.areas)
    area_ids = [a.id for a in areas]

    # The months each unit's areas are compared with: the month on record before this one,
    # and the earliest month on record within the last year.
    on_record = sorted({r[2] for r in returns})
    earlier = [per for per in on_record if per < period]
    year_ago = _months_before(period, 11)
    compare = {
        "previous": earlier[-1] if earlier else "",
        "year": next((per for per in earlier if per >= year_ago), ""),
    }
    wanted = {v for v in compare.values() if v}

    # Area scores of every current return up to this month, in one pass: this month's in
    # full, the comparison months' per unit, and the rest only as network figures.
    current_areas: dict[str, dict[str, AreaResult]] = defaultdict(dict)
    history: dict[tuple[str, str], dict[str, float | None]] = defaultdict(dict)
    area_values: dict[tuple[str, str], list[float]] = defaultdict(list)
    incomplete_returns: set[tuple[str, str]] = set()
    for unit, per, area_id, percent, rag, complete in cur.execute(
        "SELECT r.unit, r.period, s.area_id, s.percent, s.rag, s.complete FROM area_scores s "
        "JOIN returns r ON r.id = s.return_id WHERE r.superseded_by IS NULL AND r.held IS NULL AND r.period <= ?",
        (period,),
    ):
        if unit not in known:
            continue
        if per == period:
            current_areas[unit][area_id] = AreaResult(percent, rag, bool(complete))
        elif per in wanted:
            history[(unit, per)][area_id] = percent
        if not complete:
            incomplete_returns.add((unit, per))
        elif percent is not None:
            area_values[(per, area_id)].append(percent)

    copro_counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for unit, per, yes, total in cur.execute(
        "SELECT r.unit, r.period, SUM(s.service_user = 'Yes'), COUNT(*) FROM signoffs s "
        "JOIN returns r ON r.id = s.return_id WHERE r.superseded_by IS NULL AND r.held IS NULL AND r.period <= ? "
        "GROUP BY r.unit, r.period",
        (period,),
    ):
        if unit in known:
            copro_counts[per][0] += yes
            copro_counts[per][1] += total
    copro_by_month = {
        per: (100.0 * yes / total if total else None) for per, (yes, total) in copro_counts.items()
    }

    # Months on record: network spread per area and overall; each unit's overall line.
    months: list[Month] = []
    unit_months: dict[str, list[tuple[str, float | None, str]]] = defaultdict(list)
    by_period: dict[str, list] = defaultdict(list)
    for r in returns:
        by_period[r[2]].append(r)
    for per in on_record:
        rows = by_period[per]
        overall_values = [
            r[5] for r in rows if r[5] is not None and (r[1], per) not in incomplete_returns
        ]
        for r in rows:
            unit_months[r[1]].append((per, r[5], r[6]))
        months.append(
            Month(
                per,
                len(rows),
                Spread.of(overall_values),
                {a: Spread.of(area_values.get((per, a), [])) for a in area_ids},
                copro_by_month.get(per),
            )
        )
    del area_values

    units = sorted(current, key=order)
    results = {}
    for code in units:
        r = current[code]
        results[code] = UnitResult(code, r[5], r[6], r[4], dict(current_areas.get(code, {})))
    del current_areas

    area_spread, area_rag, area_incomplete = {}, {}, {}
    for a in area_ids:
        values, rag = [], Counter()
        incomplete = 0
        for code in units:
            res = results[code].areas.get(a)
            if res is None:
                continue
            if not res.complete:
                incomplete += 1
            elif res.percent is not None:
                values.append(res.percent)
                rag[res.rag] += 1
        area_spread[a] = Spread.of(values)
        area_rag[a] = (rag["Green"], rag["Amber"], rag["Red"])
        area_incomplete[a] = incomplete
    overall = months[-1].overall if months and months[-1].period == period else Spread()

    # Answers of this month: ratings, notes for what is not yet met, evidence of good practice.
    best = next((k for k, v in roles.items() if v == "best"), "")
    ratings: dict[str, dict[str, str]] = defaultdict(dict)
    notes: dict[str, dict[str, str]] = defaultdict(dict)
    evidence: dict[tuple[str, str], set[str]] = defaultdict(set)
    masked: dict[str, str] = {}
    seen_ids: dict[str, str] = {}
    for unit, qid, area_id, rating, text, note in cur.execute(
        "SELECT r.unit, a.question_id, a.area_id, a.rating, "
        "CASE WHEN a.rating = ? THEN a.evidence ELSE '' END, "
        "CASE WHEN a.rating = ? THEN '' ELSE a.notes END "
        "FROM answers a JOIN returns r ON r.id = a.return_id "
        "WHERE r.period = ? AND r.superseded_by IS NULL AND r.held IS NULL",
        (best, best, period),
    ):
        if unit not in known:
            continue
        seen_ids[qid] = area_id
        ratings[unit][qid] = rating
        if note:
            notes[unit][qid] = mask_personal_data(clean(note).strip(), today)
        if text:
            shown = masked.get(text)
            if shown is None:
                shown = clean(text).strip()
                if any(ch.isdigit() for ch in shown):
                    shown = mask_personal_data(shown, today)
                masked[text] = shown
            if shown:
                evidence[(qid, shown)].add(unit)

    standards: dict[str, list[StandardLine]] = {
        a.id: [StandardLine(s.id, a.id, s.text) for s in a.standards] for a in areas
    }
    known_ids = {s.id for lines in standards.values() for s in lines}
    for qid in sorted(set(seen_ids) - known_ids):
        text = next((s.text for b in banks.values() for s in b.standards if s.id == qid), qid)
        standards.setdefault(seen_ids[qid], []).append(StandardLine(qid, seen_ids[qid], text))
    position = {s.id: i for i, s in enumerate(s for lines in standards.values() for s in lines)}

    standard_stats = {}
    for qid in position:
        counts = Counter()
        unrated = 0
        values = []
        for code in units:
            label = ratings.get(code, {}).get(qid, "")
            if not label:
                unrated += 1
                continue
            counts[label] += 1
            if label in points:
                values.append(100.0 * points[label] / best_points)
        applicable = len(values)
        standard_stats[qid] = StandardStats(
            dict(counts),
            unrated,
            applicable,
            statistics.median(values) if values else None,
            100.0 * counts.get(best, 0) / applicable if applicable else None,
        )

    library = [
        Evidence(seen_ids.get(qid, ""), qid, text, tuple(sorted(us, key=order)))
        for (qid, text), us in evidence.items()
    ]
    library.sort(key=lambda e: (position.get(e.standard_id, len(position)), e.standard_id, e.text))

    library_by_standard: dict[str, list[Evidence]] = defaultdict(list)
    for e in library:
        library_by_standard[e.standard_id].append(e)

    signoffs: dict[str, dict[str, str]] = defaultdict(dict)
    coproduction: dict[str, list[int]] = {c: [0, 0] for c in units}
    area_copro: dict[str, list[int]] = {a: [0, 0] for a in area_ids}
    for unit, area_id, service_user in cur.execute(
        "SELECT r.unit, s.area_id, s.service_user FROM signoffs s "
        "JOIN returns r ON r.id = s.return_id WHERE r.period = ? AND r.superseded_by IS NULL AND r.held IS NULL",
        (period,),
    ):
        if unit not in known:
            continue
        yes = int(service_user == "Yes")
        signoffs[unit][area_id] = service_user
        coproduction.setdefault(unit, [0, 0])
        coproduction[unit][0] += yes
        coproduction[unit][1] += 1
        area_copro.setdefault(area_id, [0, 0])
        area_copro[area_id][0] += yes
        area_copro[area_id][1] += 1

    completion, unidentified = _completion(cur, network, period, results, order, today)
    max_id = (
        cur.execute("SELECT MAX(id) FROM returns WHERE period = ?", (period,)).fetchone()[0] or 0
    )
    received = max((r.received_at for r in results.values()), default="")

    return PeriodData(
        network=network,
        period=period,
        month=month_name(period),
        areas=areas,
        standards=standards,
        units=units,
        results=results,
        ratings=dict(ratings),
        notes=dict(notes),
        coproduction={k: tuple(v) for k, v in coproduction.items()},
        area_coproduction={k: tuple(v) for k, v in area_copro.items()},
        area_spread=area_spread,
        area_rag=area_rag,
        area_incomplete=area_incomplete,
        overall=overall,
        standard_stats=standard_stats,
        months=months,
        unit_months=dict(unit_months),
        compare=compare,
        history=dict(history),
        completion=completion,
        unidentified=unidentified,
        library=library,
        library_by_standard=dict(library_by_standard),
        signoffs=dict(signoffs),
        received_up_to=received[:10],
        max_return_id=max_id,
        labels=roles,
    )


def _completion(cur, network: Network, period: str, results: dict, order, today: dt.date):
    # A drop's unit and month may come from a file that failed its checks (older ledgers keep
    # even a forged unit): only the network's own units become rows, and the rest count as
    # files that could not be linked to a unit.
    known = {u.code for u in network.units}
    latest = {
        row[0]: row
        for row in cur.execute(
            "SELECT d.unit, d.id, d.outcome, d.original_name, d.arrived_at FROM drops d "
            "JOIN (SELECT unit, MAX(id) AS id FROM drops WHERE period = ? GROUP BY unit) m "
            "ON d.id = m.id",
            (period,),
        )
        if row[0] in known
    }
    reasons: dict[int, list[str]] = defaultdict(list)
    untrusted: set[int] = set()
    for drop_id, code, message in cur.execute(
        "SELECT drop_id, code, message FROM findings WHERE severity = 'error' AND drop_id IN "
        "(SELECT MAX(id) FROM drops WHERE period = ? GROUP BY unit) ORDER BY drop_id, rowid",
        (period,),
    ):
        if code in UNVERIFIED_CODES:
            untrusted.add(drop_id)
        if len(reasons[drop_id]) < 3:
            reasons[drop_id].append(mask_personal_data(clean(message), today))
    for drop_id in untrusted:  # its messages may quote the file's unverified hidden details
        reasons[drop_id] = [UNVERIFIED_REASON]
    accepted_drop = dict(
        cur.execute(
            "SELECT unit, MAX(id) FROM drops WHERE period = ? AND outcome = 'accepted' "
            "GROUP BY unit",
            (period,),
        ).fetchall()
    )
    unidentified = cur.execute(
        "SELECT COUNT(*) FROM drops WHERE period IS NULL AND outcome = 'rejected' "
        "AND substr(arrived_at, 1, 7) = ?",
        (period,),
    ).fetchone()[0]
    unidentified += sum(
        unit not in known
        for (unit,) in cur.execute(
            "SELECT unit FROM drops WHERE period = ? AND outcome = 'rejected'", (period,)
        )
    )
    codes = sorted(known, key=order)
    rows = []
    for code in codes:
        drop = latest.get(code)
        if code in results:
            later = ""
            if (
                drop is not None
                and drop[2] == "rejected"
                and drop[1] > (accepted_drop.get(code) or 0)
            ):
                later = mask_personal_data(clean(drop[3]), today)
            rows.append(
                Completion(code, "returned", results[code].received_at[:10], later_rejected=later)
            )
        elif drop is not None and drop[2] == "rejected":
            rows.append(
                Completion(
                    code,
                    "rejected",
                    (drop[4] or "")[:10],
                    mask_personal_data(clean(drop[3]), today),
                    tuple(reasons.get(drop[1], ())),
                )
            )
        else:
            rows.append(Completion(code, "missing", ""))
    return rows, unidentified


# --- writing cells --------------------------------------------------------------------------


class _FormatMap:
    """Formats keyed by a word (RAG, rating label), each made on first use."""

    def __init__(self, make, keys):
        self._make = make
        self._keys = set(keys)
        self._made: dict = {}

    def __getitem__(self, key):
        if key not in self._keys:
            raise KeyError(key)
        if key not in self._made:
            self._made[key] = self._make(key)
        return self._made[key]

    def get(self, key, default=None):
        return self[key] if key in self._keys else default


class _Formats:
    """The formats of one report workbook, each made on first use and then reused.

    Making only the formats a workbook uses keeps its styles small, which counts
    when hundreds of feedback workbooks are written in one rebuild.
    """

    def __init__(self, wb, roles: dict[str, str]):
        p = presentation()
        font, c = p["fonts"], p["colours"]
        self._wb = wb
        base = {"font_name": font["name"], "font_size": font["body"], "valign": "top"}
        border = {"border": 1, "border_color": c["border"]}
        easy = {**base, "font_size": font["easy_read"], "valign": "vcenter"}
        self._specs = {
            "title": {**base, "bold": True, "font_size": font["title"], "valign": "vcenter"},
            "heading": {**base, "bold": True, "font_size": font["heading"], "valign": "vcenter"},
            "text": {**base, "text_wrap": True},
            "muted": {**base, "italic": True, "font_color": c["muted_text"], "text_wrap": True},
            "header": {
                **base,
                "bold": True,
                "text_wrap": True,
                "font_color": c["header_text"],
                "bg_color": c["header_fill"],
                **border,
            },
            "cell": {**base, **border},
            "wrap": {**base, "text_wrap": True, **border},
            "bold": {**base, "bold": True, **border},
            "bold_wrap": {**base, "bold": True, "text_wrap": True, **border},
            "pct": {**base, "num_format": PERCENT, **border},
            "points": {**base, "num_format": POINTS, **border},
            "int": {**base, "num_format": "0", **border},
            "net_label": {**base, "bold": True, "bg_color": c["network_fill"], **border},
            "net_pct": {
                **base,
                "bold": True,
                "num_format": PERCENT,
                "bg_color": c["network_fill"],
                **border,
            },
            "net_cell": {**base, "bold": True, "bg_color": c["network_fill"], **border},
            "missing": {**base, "italic": True, "font_color": c["muted_text"], **border},
            "key_label": {**base, "bold": True, "text_wrap": True, "valign": "vcenter", **border},
            "key_value": {**base, "text_wrap": True, "valign": "vcenter", **border},
            "unlocked": {
                **base,
                "text_wrap": True,
                "locked": False,
                "bg_color": c["unlocked_fill"],
                **border,
            },
            "easy": {**easy, "text_wrap": True},
            "easy_bold": {**easy, "bold": True, "text_wrap": True},
            "easy_title": {**easy, "bold": True, "font_size": font["easy_read_title"]},
            "easy_cell": {**easy, "text_wrap": True, **border},
            "easy_header": {
                **easy,
                "bold": True,
                "text_wrap": True,
                "font_color": c["header_text"],
                "bg_color": c["header_fill"],
                **border,
            },
        }
        fills = {
            "Green": c["green_fill"],
            "Amber": c["amber_fill"],
            "Red": c["red_fill"],
            "": c["none_fill"],
        }
        self.rag = _FormatMap(
            lambda k: wb.add_format({**base, "bg_color": fills[k], **border}), fills
        )
        self.rag_bold = _FormatMap(
            lambda k: wb.add_format({**base, "bg_color": fills[k], "bold": True, **border}), fills
        )
        # For narrow columns: "Amber (incomplete)" wraps rather than being cut off.
        self.rag_wrap = _FormatMap(
            lambda k: wb.add_format({**base, "bg_color": fills[k], "text_wrap": True, **border}),
            fills,
        )
        self.easy_rag = _FormatMap(
            lambda k: wb.add_format(
                {**easy, "bold": True, "align": "center", "bg_color": fills[k], **border}
            ),
            fills,
        )
        self.cf = _FormatMap(
            lambda k: wb.add_format({"bg_color": fills[k]}), ("Green", "Amber", "Red")
        )
        by_role = {"best": "Green", "middle": "Amber", "worst": "Red", "na": ""}
        self.rating = _FormatMap(
            lambda label: self.rag[by_role[roles[label]]] if label else self.missing, [*roles, ""]
        )

    def __getattr__(self, name: str):
        # Called only for formats not made yet.
        specs = self.__dict__.get("_specs", {})
        if name not in specs:
            raise AttributeError(name)
        made = self._wb.add_format(specs[name])
        setattr(self, name, made)
        return made


def _put(ws, row: int, col: int, value, fmt=None) -> None:
    """Write a number, a string (as text, never a formula or link) or a blank."""
    if value is None or value == "":
        if fmt is not None:
            ws.write_blank(row, col, None, fmt)
    elif isinstance(value, str):
        ws.write_string(row, col, clean(value), fmt)
    else:
        ws.write_number(row, col, value, fmt)


def _lines(text: str, width: float, font_size: float = 11) -> int:
    """Lines that wrapped text takes in a column ``width`` characters wide (an estimate)."""
    per_line = max(1, int(width * 1.2 * 11 / font_size))
    return sum(math.ceil(max(1, len(part)) / per_line) for part in text.split("\n"))


def _paragraph(
    ws,
    row: int,
    first: int,
    last: int,
    text: str,
    fmt,
    width: float,
    line_height: float = 15.5,
    font_size: float = 11,
) -> None:
    """Wrapped text across merged columns, with a row tall enough to show it all."""
    if first == last:
        _put(ws, row, first, text, fmt)
    else:
        ws.merge_range(row, first, row, last, "", fmt)
        _put(ws, row, first, text, fmt)
    ws.set_row(row, max(18.0, _lines(text, width, font_size) * line_height + 4))


def _print_wide(ws, header_row: int | None = None, landscape: bool = True) -> None:
    if landscape:
        ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)
    if header_row is not None:
        ws.repeat_rows(header_row)


def _widths(ws, widths: list[float]) -> None:
    for col, width in enumerate(widths):
        ws.set_column(col, col, width)


def _pct_text(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}%"


def _rag_word(data: PeriodData, result: AreaResult | None) -> str:
    if result is None:
        return ""
    word = presentation()["words"]
    if result.percent is None:
        return word["no_score"]
    return result.rag if result.complete else f"{result.rag} ({word['incomplete']})"


def _rag_of(data: PeriodData, value: float | None) -> str:
    return data.network.rag(value)


class _Book:
    """An in-memory report workbook with fixed properties (so rebuilding gives the same bytes)."""

    def __init__(self, data: PeriodData, title: str):
        self.buffer = io.BytesIO()
        self.wb = xlsxwriter.Workbook(self.buffer, WORKBOOK_OPTIONS)
        start = _period_start(data.period)
        self.wb.set_properties(
            {
                "title": title,
                "subject": f"SeQuIn benchmark, {data.month}",
                "author": data.network.name,
                "company": data.network.name,
                "created": dt.datetime(start.year, start.month, start.day),
            }
        )
        self.f = _Formats(self.wb, data.labels)

    def close(self) -> bytes:
        self.wb.close()
        return self.buffer.getvalue()


def _rag_cf(ws, f: _Formats, first_row: int, first_col: int, last_row: int, last_col: int) -> None:
    """Colour RAG words (also 'Amber (incomplete)') with conditional formatting."""
    if last_row < first_row:
        return
    for word in ("Green", "Amber", "Red"):
        ws.conditional_format(
            first_row,
            first_col,
            last_row,
            last_col,
            {
                "type": "text",
                "criteria": "begins with",
                "value": word,
                "format": f.cf[word],
            },
        )


def _notes_sheet(book: _Book, data: PeriodData, name: str = "How to read") -> None:
    f = book.f
    ws = book.wb.add_worksheet(name)
    ws.set_column(0, 0, 110)
    lines = presentation()["notes"]["lines"]
    _put(ws, 0, 0, lines[0], f.title)
    ws.set_row(0, 26)
    for i, line in enumerate(lines[1:], start=2):
        text = line.format(
            rag_rule=data.rag_rule(),
            scale_rule=data.scale_rule(),
            standard_rule=data.standard_rule(),
        )
        _paragraph(ws, i, 0, 0, text, f.text, 110)
    ws.hide_gridlines(2)
    _print_wide(ws, landscape=False)


def _area_table_header(ws, f: _Formats, row: int, areas: list[Area], first_col: int) -> None:
    """Two header rows: each area's name over its '%' and 'RAG' columns."""
    for i, area in enumerate(areas):
        col = first_col + 2 * i
        ws.merge_range(row, col, row, col + 1, f"{area.index}. {area.short_name}", f.header)
        _put(ws, row + 1, col, "%", f.header)
        _put(ws, row + 1, col + 1, "RAG", f.header)


def _units_grid(book: _Book, data: PeriodData, ws, top: int, *, include_missing: bool) -> int:
    """Every unit against every area (percent and RAG), network rows first. Returns next row."""
    f = book.f
    words = presentation()["words"]
    areas = data.areas
    ws.merge_range(top, 0, top + 1, 0, "Unit", f.header)
    ws.merge_range(top, 1, top, 2, "Overall", f.header)
    _put(ws, top + 1, 1, "%", f.header)
    _put(ws, top + 1, 2, "RAG", f.header)
    _area_table_header(ws, f, top, areas, 3)
    ws.set_row(top, 48)
    row = top + 2
    net_rows = (
        ("Network median", lambda s: s.median, True),
        ("Lowest", lambda s: s.low, False),
        ("Highest", lambda s: s.high, False),
    )
    for label, pick, with_rag in net_rows:
        _put(ws, row, 0, label, f.net_label)
        value = pick(data.overall)
        _put(ws, row, 1, value, f.net_pct)
        _put(ws, row, 2, _rag_of(data, value) if with_rag else "", f.net_cell)
        for i, area in enumerate(areas):
            value = pick(data.area_spread[area.id])
            _put(ws, row, 3 + 2 * i, value, f.net_pct)
            _put(ws, row, 4 + 2 * i, _rag_of(data, value) if with_rag else "", f.net_cell)
        row += 1
    _put(ws, row, 0, "Units counted", f.net_label)
    _put(ws, row, 1, data.overall.n, f.net_cell)
    _put(ws, row, 2, "", f.net_cell)
    for i, area in enumerate(areas):
        _put(ws, row, 3 + 2 * i, data.area_spread[area.id].n, f.net_cell)
        _put(ws, row, 4 + 2 * i, "", f.net_cell)
    row += 1
    _rag_cf(ws, f, top + 2, 2, row - 1, 2 + 2 * len(areas))
    first_unit = row
    for code in data.units:
        r = data.results[code]
        _put(ws, row, 0, data.name(code), f.bold)
        _put(ws, row, 1, r.overall, f.pct)
        overall_word = r.overall_rag if r.complete else f"{r.overall_rag} ({words['incomplete']})"
        _put(ws, row, 2, overall_word if r.overall is not None else words["no_score"], f.wrap)
        for i, area in enumerate(areas):
            res = r.areas.get(area.id)
            _put(ws, row, 3 + 2 * i, res.percent if res else None, f.pct)
            _put(ws, row, 4 + 2 * i, _rag_word(data, res), f.wrap)
        row += 1
    _rag_cf(ws, f, first_unit, 2, row - 1, 2 + 2 * len(areas))
    if include_missing:
        for c in data.completion:
            if c.status == "returned":
                continue
            _put(ws, row, 0, data.name(c.code), f.missing)
            word = words["rejected"] if c.status == "rejected" else words["not_returned"]
            ws.merge_range(row, 1, row, 2, "", f.missing)
            _put(ws, row, 1, word, f.missing)
            row += 1
    return row


# --- the network workbook -------------------------------------------------------------------


def network_workbook(data: PeriodData) -> bytes:
    """The network benchmark workbook for the month."""
    p = presentation()["network"]
    book = _Book(data, f"SeQuIn network benchmark {data.period}")
    _network_overview(book, data, p)
    _network_areas(book, data, p)
    for area in data.areas:
        _network_area_sheet(book, data, p, area)
    _network_trends(book, data, p)
    _network_gaps(book, data, p)
    _network_library(book, data, p)
    _network_completion(book, data, p)
    if data.network.show_ranking:
        _ranking_sheet(book, data, p["ranking_intro"])
    _notes_sheet(book, data)
    return book.close()


def _received_phrase(data: PeriodData) -> str:
    if not data.received_up_to:
        return ""
    return f" (returns received up to {_day(data.received_up_to)})"


def _day(iso: str) -> str:
    """``2026-11-22`` as ``22 November 2026``."""
    try:
        day = dt.date.fromisoformat(iso[:10])
    except ValueError:
        return iso
    return f"{day.day} {month_name(day.strftime('%Y-%m'))}"


def _network_overview(book: _Book, data: PeriodData, p: dict) -> None:
    f = book.f
    ws = book.wb.add_worksheet("Overview")
    ws.activate()
    ncols = 3 + 2 * len(data.areas)
    _widths(ws, GRID_WIDTHS + GRID_AREA_WIDTHS * len(data.areas))
    _put(ws, 0, 0, p["title"].format(network=data.network.name, month=data.month), f.title)
    ws.set_row(0, 26)
    counts = data.counts()
    intro = p["overview_intro"].format(
        returned=counts["returned"],
        units=len(data.network.units),
        month=data.month,
        received=_received_phrase(data),
        rag_rule=data.rag_rule(),
    )
    _paragraph(ws, 1, 0, min(ncols - 1, 16), intro, f.text, 180)
    _units_grid(book, data, ws, 3, include_missing=True)
    ws.freeze_panes(9, 1)
    _print_wide(ws, 4)


def _network_areas(book: _Book, data: PeriodData, p: dict) -> None:
    f = book.f
    ws = book.wb.add_worksheet("Areas")
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
    _widths(ws, [28, 12, 12, 11, 11, 11, 11, 11, 11, 11, 14])
    _put(ws, 0, 0, f"Areas across the network, {data.month}", f.title)
    ws.set_row(0, 26)
    _paragraph(ws, 1, 0, 10, p["areas_intro"], f.text, 150)
    head = 3
    for col, text in enumerate(headers):
        _put(ws, head, col, text, f.header)
    ws.set_row(head, 48)
    row = head + 1
    for area in data.areas:
        s = _area_spread_row(ws, f, data, area, row)
        row += 1
    s = data.overall
    _put(ws, row, 0, "Overall (complete returns)", f.net_label)
    _put(ws, row, 1, s.median, f.net_pct)
    word = _rag_of(data, s.median)
    _put(ws, row, 2, word, f.rag_bold[word])
    _put(ws, row, 3, s.low, f.net_pct)
    _put(ws, row, 4, s.high, f.net_pct)
    _put(ws, row, 5, s.n, f.net_cell)
    for col in range(6, 10):
        _put(ws, row, col, "", f.net_cell)
    _put(ws, row, 10, data.coproduction_share(), f.net_pct)
    last = head + len(data.areas)
    if data.units:
        chart = C.medians_with_range(
            book.wb,
            title=f"Network median per area with lowest and highest unit, {data.month}",
            categories=("Areas", head + 1, 0, last, 0),
            medians=("Areas", head + 1, 1, last, 1),
            lows=("Areas", head + 1, 3, last, 3),
            highs=("Areas", head + 1, 4, last, 4),
            palette=_palette(),
            size=(980, 460),
        )
        ws.insert_chart(row + 2, 0, chart)
    ws.freeze_panes(head + 1, 1)
    _print_wide(ws, head)


def _network_area_sheet(book: _Book, data: PeriodData, p: dict, area: Area) -> None:
    f = book.f
    name = T.area_sheet_name(area.index, area.short_name)
    ws = book.wb.add_worksheet(name)
    lines = data.standards.get(area.id, [])
    n_std = len(lines)
    _widths(ws, [20, 10, 17, 11, 12] + [12] * max(1, n_std))
    last_col = 4 + n_std
    _put(ws, 0, 0, f"Area {area.index} of {len(data.areas)}: {area.name}", f.title)
    ws.set_row(0, 26)
    _paragraph(ws, 1, 0, last_col, area.description, f.text, 160)
    s = data.area_spread[area.id]
    _paragraph(
        ws,
        2,
        0,
        last_col,
        p["area_intro"].format(
            median=_pct_text(s.median),
            low=_pct_text(s.low),
            high=_pct_text(s.high),
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
        _put(ws, head, col, text, f.header)
    for i, line in enumerate(lines):
        _put(ws, head, 5 + i, line.id, f.header)
    ws.set_row(head, 48)
    row = head + 1
    _put(ws, row, 0, "Network median", f.net_label)
    _put(ws, row, 1, s.median, f.net_pct)
    word = _rag_of(data, s.median)
    _put(ws, row, 2, word, f.rag_bold[word])
    _put(ws, row, 3, "", f.net_cell)
    _put(ws, row, 4, "", f.net_cell)
    for i, line in enumerate(lines):
        _put(ws, row, 5 + i, data.standard_stats[line.id].median, f.net_pct)
    row += 1
    _put(ws, row, 0, "Rated Met (% of units)", f.net_label)
    for col in range(1, 5):
        _put(ws, row, col, "", f.net_cell)
    for i, line in enumerate(lines):
        _put(ws, row, 5 + i, data.standard_stats[line.id].share_met, f.net_pct)
    row += 1
    first = row
    for code in data.units:
        res = data.results[code].areas.get(area.id)
        pct = res.percent if res else None
        _put(ws, row, 0, data.name(code), f.bold)
        _put(ws, row, 1, pct, f.pct)
        word = _rag_word(data, res)
        _put(ws, row, 2, word, f.rag.get(res.rag if res and res.complete else "", f.cell))
        _put(ws, row, 3, s.median, f.pct)
        diff = None if pct is None or s.median is None else pct - s.median
        _put(ws, row, 4, diff, f.points)
        ratings = data.ratings.get(code, {})
        for i, line in enumerate(lines):
            label = ratings.get(line.id, "")
            _put(ws, row, 5 + i, label or "Not rated", f.rating.get(label, f.cell))
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
            palette=_palette(),
            size=(min(1400, max(760, 40 * len(data.units))), 400),
            rotate=-45 if len(data.units) > 12 else 0,
        )
        ws.insert_chart(row, 0, chart)
        row += 22
    _put(ws, row, 0, "The standards", f.heading)
    row += 1
    _put(ws, row, 0, "ID", f.header)
    ws.merge_range(row, 1, row, last_col, "Standard", f.header)
    row += 1
    for line in lines:
        _put(ws, row, 0, line.id, f.bold)
        ws.merge_range(row, 1, row, last_col, "", f.wrap)
        _put(ws, row, 1, line.text, f.wrap)
        ws.set_row(row, max(18, _lines(line.text, 70 + 12 * n_std) * 15.5 + 4))
        row += 1
    ws.freeze_panes(first, 1)
    _print_wide(ws, head)


def _network_trends(book: _Book, data: PeriodData, p: dict) -> None:
    f = book.f
    ws = book.wb.add_worksheet("Trends")
    areas = data.areas
    _widths(ws, [20, 10, 12, 10, 10, 13] + [12] * len(areas))
    _put(ws, 0, 0, f"Trends up to {data.month}", f.title)
    ws.set_row(0, 26)
    _paragraph(ws, 1, 0, 10, p["trends_intro"].format(month=data.month), f.text, 120)
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
        _put(ws, head, col, text, f.header)
    ws.set_row(head, 62)
    row = head + 1
    for m in data.months:
        _put(ws, row, 0, m.period, f.bold)
        _put(ws, row, 1, m.returned, f.int)
        _put(ws, row, 2, m.overall.median, f.pct)
        _put(ws, row, 3, m.overall.low, f.pct)
        _put(ws, row, 4, m.overall.high, f.pct)
        _put(ws, row, 5, m.coproduction, f.pct)
        for i, a in enumerate(areas):
            _put(ws, row, 6 + i, m.areas[a.id].median, f.pct)
        row += 1
    last = row - 1
    row += 1
    if data.months:
        pal = _palette()
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
    _put(ws, row, 0, "Overall score (%) by unit and month", f.heading)
    row += 1
    _put(ws, row, 0, "Unit", f.header)
    for i, m in enumerate(data.months):
        _put(ws, row, 1 + i, m.period, f.header)
    row += 1
    index = {m.period: i for i, m in enumerate(data.months)}
    for code in sorted(data.unit_months, key=_unit_order(data.network)):
        _put(ws, row, 0, data.name(code), f.bold)
        for per, overall, _rag in data.unit_months.get(code, []):
            _put(ws, row, 1 + index[per], overall, f.pct)
        row += 1
    ws.freeze_panes(head + 1, 1)
    _print_wide(ws, head)


def _network_gaps(book: _Book, data: PeriodData, p: dict) -> None:
    f = book.f
    ws = book.wb.add_worksheet("Gaps")
    _widths(ws, [7, 30, 10, 11, 11, 11, 11, 12, 12])
    _put(ws, 0, 0, f"Gaps in provision, {data.month}", f.title)
    ws.set_row(0, 26)
    _paragraph(ws, 1, 0, 9, p["gaps_intro"], f.text, 190)
    row = 3
    _put(ws, row, 0, "Areas where most units are Red or Amber", f.heading)
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
        _put(ws, row, col, text, f.header)
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
        _paragraph(ws, row, 0, 9, p["gaps_none_areas"], f.muted, 190)
        row += 1
    for rank, (_share, _m, _i, area, g, a, r, n) in enumerate(gaps, start=1):
        _put(ws, row, 0, rank, f.int)
        _put(ws, row, 1, data.area_label(area), f.bold_wrap)
        for col, value in enumerate((n, r, a, g), start=2):
            _put(ws, row, col, value, f.int)
        _put(ws, row, 6, 100.0 * (a + r) / n, f.pct)
        _put(ws, row, 7, data.area_spread[area.id].median, f.pct)
        row += 1
    row += 1
    _put(ws, row, 0, f"Standards that most units did not rate {data.best_label}", f.heading)
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
        _put(ws, row, col, text, f.header)
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
        _paragraph(ws, row, 0, std_col, p["gaps_none_standards"], f.muted, 190)
    for rank, (_s, _w, _id, line, st) in enumerate(gaps_std, start=1):
        area = area_by_id.get(line.area_id)
        _put(ws, row, 0, rank, f.int)
        _put(ws, row, 1, data.area_label(area) if area else line.area_id, f.bold_wrap)
        _put(ws, row, 2, line.id, f.cell)
        for k, lab in enumerate(order):
            _put(ws, row, 3 + k, st.counts.get(lab, 0), f.int)
        _put(ws, row, below_col, st.share_below, f.pct)
        _put(ws, row, below_col + 1, st.median, f.pct)
        _put(ws, row, std_col, line.text, f.wrap)
        ws.set_row(row, _std_height(line.text))
        row += 1
    ws.freeze_panes(3, 0)
    _print_wide(ws)


def _units_phrase(data: PeriodData, units: tuple[str, ...]) -> str:
    names = [data.name(u) for u in units[:UNITS_LISTED]]
    if len(units) > UNITS_LISTED:
        names.append(f"and {len(units) - UNITS_LISTED} more")
    return ", ".join(names)


def _network_library(book: _Book, data: PeriodData, p: dict) -> None:
    f = book.f
    ws = book.wb.add_worksheet("Evidence library")
    _widths(ws, [26, 9, 50, 16, 70])
    _put(ws, 0, 0, f"Evidence library: good practice, {data.month}", f.title)
    ws.set_row(0, 26)
    _paragraph(ws, 1, 0, 4, p["library_intro"], f.text, 170)
    head = 3
    for col, text in enumerate(["Area", "ID", "Standard", "Unit(s)", "Evidence"]):
        _put(ws, head, col, text, f.header)
    row = head + 1
    area_by_id = {a.id: a for a in data.areas}
    texts = {line.id: line.text for lines in data.standards.values() for line in lines}
    if not data.library:
        _paragraph(ws, row, 0, 4, p["library_none"], f.muted, 170)
    for e in data.library:
        area = area_by_id.get(e.area_id)
        _put(ws, row, 0, area.name if area else e.area_id, f.wrap)
        _put(ws, row, 1, e.standard_id, f.cell)
        std = texts.get(e.standard_id, "")
        _put(ws, row, 2, std, f.wrap)
        _put(ws, row, 3, _units_phrase(data, e.units), f.wrap)
        _put(ws, row, 4, e.text, f.wrap)
        ws.set_row(row, max(18, max(_lines(std, 50), _lines(e.text, 70)) * 15.5 + 4))
        row += 1
    if data.library:
        ws.autofilter(head, 0, row - 1, 4)
    ws.freeze_panes(head + 1, 0)
    _print_wide(ws, head)


def _area_spread_row(ws, f, data: PeriodData, area: Area, row: int) -> Spread:
    """One area's network figures in columns A to K: median, RAG, range, counts, co-production."""
    s = data.area_spread[area.id]
    g, a, r = data.area_rag[area.id]
    yes, total = data.area_coproduction.get(area.id, (0, 0))
    _put(ws, row, 0, data.area_short(area), f.bold)
    _put(ws, row, 1, s.median, f.pct)
    word = _rag_of(data, s.median)
    _put(ws, row, 2, word, f.rag[word])
    _put(ws, row, 3, s.low, f.pct)
    _put(ws, row, 4, s.high, f.pct)
    for col, value in enumerate((s.n, data.area_incomplete[area.id], g, a, r), start=5):
        _put(ws, row, col, value, f.int)
    _put(ws, row, 10, 100.0 * yes / total if total else None, f.pct)
    return s


def _completion_table(ws, f, data: PeriodData, head: int, notes: bool) -> int:
    """Who returned, was rejected or is missing, with co-production; returns the next free row."""
    words = presentation()["words"]
    headers = ["Unit", "Status", "Received", "Areas agreed with a service user",
               "Areas recorded", "Share (%)"] + (["Note"] if notes else [])
    for col, text in enumerate(headers):
        _put(ws, head, col, text, f.header)
    ws.set_row(head, 34 if notes else 48)
    row = head + 1
    status_fmt = {"returned": f.rag["Green"], "rejected": f.rag["Red"], "missing": f.rag["Amber"]}
    status_word = {"returned": words["returned"], "rejected": words["rejected"],
                   "missing": words["not_returned"]}
    for entry in data.completion:
        yes, total = data.coproduction.get(entry.code, (None, None))
        _put(ws, row, 0, data.name(entry.code), f.bold)
        _put(ws, row, 1, status_word[entry.status], status_fmt[entry.status])
        _put(ws, row, 2, entry.received, f.cell)
        _put(ws, row, 3, yes, f.int)
        _put(ws, row, 4, total, f.int)
        _put(ws, row, 5, 100.0 * yes / total if total else None, f.pct)
        if notes:
            note = ""
            if entry.status == "rejected":
                note = f"Latest file {entry.file} was not accepted: " + " ".join(entry.reasons)
            elif entry.later_rejected:
                note = (f"A later file ({entry.later_rejected}) was not accepted; "
                        "this return still counts.")
            _put(ws, row, 6, note, f.wrap)
            if note:
                ws.set_row(row, max(18, _lines(note, 80) * 15.5 + 4))
        row += 1
    return row


def _network_completion(book: _Book, data: PeriodData, p: dict) -> None:
    f = book.f
    ws = book.wb.add_worksheet("Completion")
    _widths(ws, [30, 14, 12, 13, 11, 12, 80])
    _put(ws, 0, 0, f"Completion and co-production, {data.month}", f.title)
    ws.set_row(0, 26)
    _paragraph(ws, 1, 0, 6, p["completion_intro"].format(month=data.month), f.text, 170)
    c = data.counts()
    share = data.coproduction_share()
    summary = (
        f"{c['returned']} returned, {c['rejected']} rejected, {c['missing']} missing, of "
        f"{len(data.network.units)} units. Areas agreed with a service user taking part: "
        f"{_pct_text(share)}."
    )
    _paragraph(ws, 2, 0, 6, summary, f.text, 170)
    row = 3
    if data.unidentified:
        _paragraph(ws, row, 0, 6, p["unidentified"].format(n=data.unidentified), f.muted, 170)
        row += 1
    head = row + 1
    row = _completion_table(ws, f, data, head, notes=True)
    row += 1
    _put(ws, row, 0, "Co-production by area", f.heading)
    row += 1
    for col, text in enumerate(["Area", "Returns", "With a service user", "Share (%)"]):
        _put(ws, row, col, text, f.header)
    ws.set_row(row, 34)
    row += 1
    for area in data.areas:
        yes, total = data.area_coproduction.get(area.id, (0, 0))
        _put(ws, row, 0, data.area_label(area), f.bold)
        _put(ws, row, 1, total, f.int)
        _put(ws, row, 2, yes, f.int)
        _put(ws, row, 3, 100.0 * yes / total if total else None, f.pct)
        row += 1
    ws.freeze_panes(head + 1, 1)
    _print_wide(ws, head)


def _ranking_sheet(book: _Book, data: PeriodData, intro: str) -> None:
    f = book.f
    ws = book.wb.add_worksheet("Ranking")
    _widths(ws, [8, 30, 12, 12])
    _put(ws, 0, 0, f"Ranking by overall score, {data.month}", f.title)
    _paragraph(ws, 1, 0, 3, intro, f.text, 60)
    for col, text in enumerate(["Rank", "Unit", "Overall (%)", "RAG"]):
        _put(ws, 3, col, text, f.header)
    ranked = sorted(
        (u for u in data.units if data.results[u].overall is not None),
        key=lambda u: (-data.results[u].overall, _unit_order(data.network)(u)),
    )
    row = 4
    for rank, code in enumerate(ranked, start=1):
        r = data.results[code]
        _put(ws, row, 0, rank, f.int)
        _put(ws, row, 1, data.name(code), f.bold)
        _put(ws, row, 2, r.overall, f.pct)
        _put(ws, row, 3, r.overall_rag, f.rag.get(r.overall_rag, f.cell))
        row += 1
    ws.freeze_panes(4, 0)
    _print_wide(ws, 3, landscape=False)


# --- unit feedback --------------------------------------------------------------------------


def feedback_workbook(data: PeriodData, code: str) -> bytes:
    """The feedback workbook of one unit that returned for the month."""
    p = presentation()["feedback"]
    unit = data.network.unit(code)
    unit_name = f"{unit.name} ({code})" if unit else code
    book = _Book(data, f"SeQuIn feedback {code} {data.period}")
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
    ws = book.wb.add_worksheet("Your results")
    ws.activate()
    changes = _changes(data, code)
    widths = FEEDBACK_WIDTHS["results"] + [FEEDBACK_WIDTHS["change"]] * len(changes)
    _widths(ws, widths)
    last_col = 7 + len(changes)
    _put(ws, 0, 0, p["title"].format(unit_name=unit_name, month=data.month), f.title)
    ws.set_row(0, 26)
    rag = result.overall_rag or presentation()["words"]["no_score"]
    intro = p["intro"].format(
        overall=_pct_text(result.overall),
        rag=rag,
        median=_pct_text(data.overall.median),
        n=len(data.units),
    )
    _paragraph(ws, 1, 0, last_col, intro, f.text, sum(widths))
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
        _put(ws, head, col, text, f.header)
    ws.set_row(head, _fb_header_height(headers, widths))
    row = head + 1
    yes_no = data.signoffs.get(code, {})
    for area in data.areas:
        res = result.areas.get(area.id)
        s = data.area_spread[area.id]
        pct = res.percent if res else None
        _put(ws, row, 0, data.area_short(area), f.bold_wrap)
        _fb_fit(
            ws,
            row,
            (data.area_short(area), widths[0], True),
            (_rag_word(data, res), widths[2], False),
        )
        _put(ws, row, 1, pct, f.pct)
        _put(
            ws,
            row,
            2,
            _rag_word(data, res),
            f.rag_wrap.get(res.rag if res and res.complete else "", f.wrap),
        )
        _put(ws, row, 3, s.median, f.pct)
        _put(ws, row, 4, s.low, f.pct)
        _put(ws, row, 5, s.high, f.pct)
        _put(ws, row, 6, None if pct is None or s.median is None else pct - s.median, f.points)
        _put(ws, row, 7, yes_no.get(area.id, ""), f.cell)
        for k, (_h, before, _total) in enumerate(changes):
            then = before.get(area.id)
            _put(ws, row, 8 + k, None if pct is None or then is None else pct - then, f.points)
        row += 1
    last = row - 1
    s = data.overall
    _put(ws, row, 0, "Overall", f.net_label)
    _put(ws, row, 1, result.overall, f.net_pct)
    _put(ws, row, 2, result.overall_rag, f.rag_bold.get(result.overall_rag, f.net_cell))
    _put(ws, row, 3, s.median, f.net_pct)
    _put(ws, row, 4, s.low, f.net_pct)
    _put(ws, row, 5, s.high, f.net_pct)
    diff = None if result.overall is None or s.median is None else result.overall - s.median
    _put(ws, row, 6, diff, f.points)
    _put(ws, row, 7, "", f.net_cell)
    for k, (_h, _before, then) in enumerate(changes):
        value = None if result.overall is None or then is None else result.overall - then
        _put(ws, row, 8 + k, value, f.points)
    chart = C.bars_against_network(
        book.wb,
        title=f"Your score in each area against the network median, {data.month}",
        categories=("Your results", head + 1, 0, last, 0),
        values=("Your results", head + 1, 1, last, 1),
        network=("Your results", head + 1, 3, last, 3),
        values_name="Your score",
        network_name="Network median",
        x_title="Area",
        palette=_palette(),
        size=(FEEDBACK_CHART_WIDTH, 500),
        rotate=-45,
    )
    ws.insert_chart(row + 2, 0, chart)
    ws.freeze_panes(head + 1, 1)
    # One page wide at full size: the table on the first page, the chart on the next
    # (a chart split by a page break prints in two halves).
    _print_wide(ws)
    ws.set_h_pagebreaks([row + 1])


def _feedback_standards(book, data: PeriodData, p: dict, code: str) -> None:
    f = book.f
    ws = book.wb.add_worksheet("Standards")
    widths = FEEDBACK_WIDTHS["standards"]
    _widths(ws, widths)
    _put(ws, 0, 0, f"Standard by standard, {data.month}", f.title)
    ws.set_row(0, 26)
    _paragraph(ws, 1, 0, 4, p["standards_intro"], f.text, sum(widths))
    head = 3
    headers = [
        "ID",
        "Standard",
        "Your rating",
        "Network median (%)",
        f"Units rating it {data.best_label} (%)",
    ]
    for col, text in enumerate(headers):
        _put(ws, head, col, text, f.header)
    ws.set_row(head, _fb_header_height(headers, widths))
    row = head + 1
    ratings = data.ratings.get(code, {})
    for area in data.areas:
        ws.merge_range(row, 0, row, 4, "", f.net_label)
        _put(ws, row, 0, data.area_label(area), f.net_label)
        row += 1
        for line in data.standards.get(area.id, []):
            st = data.standard_stats[line.id]
            label = ratings.get(line.id, "")
            _put(ws, row, 0, line.id, f.cell)
            _put(ws, row, 1, line.text, f.wrap)
            _put(ws, row, 2, label or "Not rated", f.rating.get(label, f.cell))
            _put(ws, row, 3, st.median, f.pct)
            _put(ws, row, 4, st.share_met, f.pct)
            _fb_fit(ws, row, (line.text, widths[1], False))
            row += 1
    ws.freeze_panes(head + 1, 0)
    _print_wide(ws, head)


@lru_cache(maxsize=4096)
def _std_height(text: str) -> float:
    return max(18.0, _lines(text, 70) * 15.5 + 4)


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
    ws = book.wb.add_worksheet("Trend")
    widths = FEEDBACK_WIDTHS["trend"]
    _widths(ws, widths)
    _put(ws, 0, 0, f"Your trend up to {data.month}", f.title)
    ws.set_row(0, 26)
    _paragraph(ws, 1, 0, 4, p["trend_intro"], f.text, sum(widths))
    head = 3
    headers = ["Month", "Your overall (%)", "Your RAG", "Network median (%)"]
    for col, text in enumerate(headers):
        _put(ws, head, col, text, f.header)
    ws.set_row(head, _fb_header_height(headers, widths))
    medians = {m.period: m.overall.median for m in data.months}
    row = head + 1
    for per, overall, word in data.unit_months.get(code, []):
        _put(ws, row, 0, per, f.bold)
        _put(ws, row, 1, overall, f.pct)
        _put(ws, row, 2, word, f.rag.get(word, f.cell))
        _put(ws, row, 3, medians.get(per), f.pct)
        row += 1
    last = row - 1
    pal = _palette()
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
    ws.freeze_panes(head + 1, 1)
    _print_wide(ws, head)
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
    ws = book.wb.add_worksheet("Strengths and priorities")
    widths = FEEDBACK_WIDTHS["strengths"]
    _widths(ws, widths)
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
        _put(ws, row, 0, title, f.title)
        ws.set_row(row, 26)
        _paragraph(ws, row + 1, 0, 7, intro, f.text, sum(widths))
        for col, text in enumerate(headers[:-1] + [last_header]):
            _put(ws, row + 2, col, text, f.header)
        ws.set_row(row + 2, _fb_header_height(headers[:-1] + [last_header], widths))
        row += 3

    def area_row(area: Area, res: AreaResult) -> None:
        nonlocal row
        word = _rag_word(data, res)
        _put(ws, row, 0, data.area_label(area), f.bold_wrap)
        _put(ws, row, 1, "", f.cell)
        _put(ws, row, 2, "Whole area", f.bold)
        _put(ws, row, 3, word, f.rag_wrap.get(res.rag if res.complete else "", f.wrap))
        _put(ws, row, 4, res.percent, f.pct)
        _put(ws, row, 5, data.area_spread[area.id].median, f.pct)
        _put(ws, row, 6, "", f.cell)
        _put(ws, row, 7, "", f.cell)
        _fb_fit(ws, row, (data.area_label(area), widths[0], True), (word, widths[3], False))
        row += 1

    def standard_row(area: Area, line: StandardLine, label: str, extra: str) -> None:
        nonlocal row
        st = data.standard_stats[line.id]
        _put(ws, row, 0, data.area_label(area), f.wrap)
        _put(ws, row, 1, line.id, f.cell)
        _put(ws, row, 2, line.text, f.wrap)
        _put(ws, row, 3, label or "Not rated", f.rating.get(label, f.cell))
        _put(ws, row, 4, "", f.cell)
        _put(ws, row, 5, st.median, f.pct)
        _put(ws, row, 6, st.share_met, f.pct)
        _put(ws, row, 7, extra, f.wrap)
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
        _paragraph(ws, row, 0, 7, p["no_strengths"], f.muted, sum(widths))
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
        _paragraph(ws, row, 0, 7, p["no_priorities"], f.muted, sum(widths))
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
    ws.freeze_panes(0, 0)
    _print_wide(ws)


def _feedback_action_plan(book, data: PeriodData, p: dict, result: UnitResult) -> None:
    f = book.f
    ws = book.wb.add_worksheet("Action plan")
    widths = FEEDBACK_WIDTHS["plan"]
    _widths(ws, widths)
    _put(ws, 0, 0, f"Action plan, {data.month}", f.title)
    ws.set_row(0, 26)
    _paragraph(ws, 1, 0, 6, p["action_intro"], f.text, sum(widths))
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
        _put(ws, head, col, text, f.header)
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
        _paragraph(ws, row, 0, 6, p["action_none"], f.muted, sum(widths))
        row += 1
    for _pct, _i, area, res in weak:
        todo = [
            line.id
            for line in data.standards.get(area.id, [])
            if ratings.get(line.id, "") != data.best_label
            and data.labels.get(ratings.get(line.id, "")) != "na"
        ]
        _put(ws, row, 0, data.area_label(area), f.bold_wrap)
        _put(ws, row, 1, res.percent, f.pct)
        word = _rag_word(data, res)
        _put(ws, row, 2, word, f.rag_wrap.get(res.rag if res.complete else "", f.wrap))
        _put(ws, row, 3, ", ".join(todo), f.wrap)
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
    ws.freeze_panes(head + 1, 0)
    _print_wide(ws, head)


# --- commissioner summary -------------------------------------------------------------------


def commissioner_workbook(data: PeriodData) -> bytes:
    """The commissioner summary: one printed page first, then the detail."""
    p = presentation()["commissioners"]
    book = _Book(data, f"SeQuIn commissioner summary {data.period}")
    _commissioner_summary(book, data, p)
    _commissioner_areas(book, data)
    units = book.wb.add_worksheet("Units")
    _widths(units, GRID_WIDTHS + GRID_AREA_WIDTHS * len(data.areas))
    _put(units, 0, 0, f"Area scores by unit, {data.month}", book.f.title)
    units.set_row(0, 26)
    _units_grid(book, data, units, 2, include_missing=True)
    units.freeze_panes(8, 1)
    _print_wide(units, 3)
    _commissioner_trend(book, data)
    _commissioner_completion(book, data)
    if data.network.show_ranking:
        _ranking_sheet(book, data, presentation()["network"]["ranking_intro"])
    _notes_sheet(book, data, "Notes")
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


def _commissioner_summary(book: _Book, data: PeriodData, p: dict) -> None:
    f = book.f
    words = presentation()["words"]
    ws = book.wb.add_worksheet("Summary")
    ws.activate()
    areas = data.areas
    last_col = len(areas)
    _widths(ws, [22] + [11.5] * len(areas))
    _put(ws, 0, 0, p["title"].format(network=data.network.name, month=data.month), f.title)
    ws.set_row(0, 26)
    naming = p["naming_names"] if data.network.show_unit_names else p["naming_codes"]
    _paragraph(
        ws,
        1,
        0,
        last_col,
        p["subtitle"].format(naming=naming, rag_rule=data.rag_rule()),
        f.text,
        140,
    )
    _put(ws, 3, 0, "Key figures", f.heading)
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
            f"{_pct_text(s.median)} ({_rag_of(data, s.median) or 'no score'}), range "
            f"{_pct_text(s.low)} to {_pct_text(s.high)}"
            if s.median is not None
            else "No complete returns",
        ),
        ("Change since last month", _change_phrase(data)),
        (
            "Service user took part",
            (f"{_pct_text(share)} of area ratings were agreed with a service user taking part"),
        ),
        ("Areas most often Red or Amber", _gap_names(data)),
        ("Returns received up to", _day(data.received_up_to) if data.received_up_to else "-"),
    ]
    row = 4
    for label, value in figures:
        ws.merge_range(row, 0, row, 1, "", f.key_label)
        _put(ws, row, 0, label, f.key_label)
        ws.merge_range(row, 2, row, 5, "", f.key_value)
        _put(ws, row, 2, value, f.key_value)
        ws.set_row(row, 46)
        row += 1
    if data.months:
        pal = _palette()
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
    _put(ws, row, 0, "Area ratings by unit", f.heading)
    row += 1
    _put(ws, row, 0, "Unit", f.header)
    for i, area in enumerate(areas):
        _put(ws, row, 1 + i, f"{area.index}. {area.short_name}", f.header)
    ws.set_row(row, 48)
    row += 1
    _put(ws, row, 0, "Network median", f.net_label)
    for i, area in enumerate(areas):
        _put(ws, row, 1 + i, data.area_spread[area.id].median, f.net_pct)
    row += 1
    for k, word in enumerate(("Green", "Amber", "Red")):
        _put(ws, row, 0, f"{word} (units)", f.rag_bold[word])
        for i, area in enumerate(areas):
            _put(ws, row, 1 + i, data.area_rag[area.id][k], f.int)
        row += 1
    if len(data.completion) <= MAX_UNITS_ON_SUMMARY:
        first_unit = row
        for entry in data.completion:
            _put(
                ws,
                row,
                0,
                data.name(entry.code),
                f.bold if entry.status == "returned" else f.missing,
            )
            if entry.status != "returned":
                ws.merge_range(row, 1, row, last_col, "", f.missing)
                word = words["rejected"] if entry.status == "rejected" else words["not_returned"]
                _put(ws, row, 1, word, f.missing)
            else:
                r = data.results[entry.code]
                for i, area in enumerate(areas):
                    res = r.areas.get(area.id)
                    if res is None or res.percent is None:
                        _put(ws, row, 1 + i, words["no_score"] if res else "", f.cell)
                    else:
                        _put(ws, row, 1 + i, res.rag if res.complete else f"{res.rag}*", f.cell)
            row += 1
        _rag_cf(ws, f, first_unit, 1, row - 1, last_col)
    else:
        _paragraph(
            ws, row, 0, last_col, p["too_many_units"].format(n=len(data.units)), f.muted, 140
        )
        row += 1
    _paragraph(ws, row, 0, last_col, "* incomplete. " + p["footnote"], f.muted, 140)
    ws.hide_gridlines(2)
    ws.set_landscape()
    ws.set_paper(9)
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)
    ws.fit_to_pages(1, 1)
    ws.print_area(0, 0, row, last_col)


def _commissioner_areas(book: _Book, data: PeriodData) -> None:
    f = book.f
    ws = book.wb.add_worksheet("Areas")
    _widths(ws, [28, 12, 12, 11, 11, 11, 11, 11, 11, 11, 14, 14])
    _put(ws, 0, 0, f"Areas across the network, {data.month}", f.title)
    ws.set_row(0, 26)
    _paragraph(ws, 1, 0, 11, presentation()["network"]["areas_intro"], f.text, 150)
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
        _put(ws, head, col, text, f.header)
    ws.set_row(head, 62)
    prev = data.previous()
    row = head + 1
    for area in data.areas:
        s = _area_spread_row(ws, f, data, area, row)
        before = prev.areas[area.id].median if prev else None
        _put(
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
            palette=_palette(),
            size=(980, 460),
        )
        ws.insert_chart(row + 1, 0, chart)
    ws.freeze_panes(head + 1, 1)
    _print_wide(ws, head)


def _commissioner_trend(book: _Book, data: PeriodData) -> None:
    f = book.f
    ws = book.wb.add_worksheet("Trend")
    areas = data.areas
    _widths(ws, [12, 10, 12, 10, 10, 13] + [12] * len(areas))
    _put(ws, 0, 0, f"Network trend up to {data.month}", f.title)
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
        _put(ws, head + 1, col, text, f.header)
    ws.set_row(head + 1, 62)
    row = head + 2
    for m in data.months:
        _put(ws, row, 0, m.period, f.bold)
        _put(ws, row, 1, m.returned, f.int)
        _put(ws, row, 2, m.overall.median, f.pct)
        _put(ws, row, 3, m.overall.low, f.pct)
        _put(ws, row, 4, m.overall.high, f.pct)
        _put(ws, row, 5, m.coproduction, f.pct)
        for i, a in enumerate(areas):
            _put(ws, row, 6 + i, m.areas[a.id].median, f.pct)
        row += 1
    ws.freeze_panes(head + 2, 1)
    _print_wide(ws, head + 1)


def _commissioner_completion(book: _Book, data: PeriodData) -> None:
    f = book.f
    ws = book.wb.add_worksheet("Completion")
    _widths(ws, [30, 14, 12, 14, 11, 11])
    _put(ws, 0, 0, f"Completion and co-production, {data.month}", f.title)
    ws.set_row(0, 26)
    head = 2
    _completion_table(ws, f, data, head, notes=False)
    ws.freeze_panes(head + 1, 1)
    _print_wide(ws, head, landscape=False)


# --- easy read ------------------------------------------------------------------------------


def easy_read_workbook(data: PeriodData) -> bytes:
    """One A4 page in plain words for service users and carers."""
    pres = presentation()
    p, words = pres["easy_read"], pres["words"]
    book = _Book(data, f"SeQuIn easy read summary {data.period}")
    f = book.f
    ws = book.wb.add_worksheet("Easy read")
    ws.set_column(0, 0, 52)
    ws.set_column(1, 1, 20)
    width = 72
    size = pres["fonts"]["easy_read"]
    line = 1.45 * size
    _put(ws, 0, 0, p["title"].format(month=data.month), f.easy_title)
    ws.set_row(0, 34)
    row = 2
    _paragraph(ws, row, 0, 1, p["about"], f.easy, width, line, size)
    row += 2
    c = data.counts()
    if not data.units:
        _paragraph(ws, row, 0, 1, p["no_returns"], f.easy_bold, width, line, size)
        row += 2
    else:
        _paragraph(
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
            _paragraph(
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
        _put(ws, row, 0, p["table_heading"], f.easy_bold)
        ws.set_row(row, 24)
        row += 1
        _put(ws, row, 0, "What it is about", f.easy_header)
        _put(ws, row, 1, "How it is going", f.easy_header)
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
            rag = _rag_of(data, median)
            phrase = p.get("areas", {}).get(area.id, area.name)
            _put(ws, row, 0, phrase, f.easy_cell)
            _put(ws, row, 1, easy_words.get(rag, "-"), f.easy_rag[rag])
            ws.set_row(row, max(24.0, _lines(phrase, 52, size) * line + 2))
            if rag == "Green":
                good.append(area.name)
            elif rag == "Red":
                work.append(area.name)
            row += 1
        row += 1
        if good:
            _paragraph(
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
        _paragraph(
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
            _paragraph(ws, row, 0, 1, p[key], f.easy, width, line, size)
            row += 1
    row += 1
    _paragraph(ws, row, 0, 1, p["next"], f.easy, width, line, size)
    ws.hide_gridlines(2)
    ws.set_portrait()
    ws.set_paper(9)
    ws.set_margins(left=0.6, right=0.6, top=0.6, bottom=0.6)
    ws.fit_to_pages(1, 1)
    ws.print_area(0, 0, row, 1)
    ws.activate()
    return book.close()


# --- chart images ---------------------------------------------------------------------------


def _palette() -> C.Palette:
    return C.Palette.from_dict(presentation().get("chart_colours", {}))


def chart_images(data: PeriodData) -> dict[str, bytes]:
    """The key network charts as PNG images, by file name (none when nothing was returned)."""
    if not data.units:
        return {}
    pal = _palette()
    names = [f"{a.index}. {a.short_name}" for a in data.areas]
    spreads = [data.area_spread[a.id] for a in data.areas]
    net = data.network
    per = data.period
    images = {
        f"SeQuIn_units_by_area_{per}.png": C.units_by_area_png(
            title=f"Each unit's score per area against the network median: {data.month}",
            areas=names,
            scores=[
                [
                    r.areas[a.id].percent
                    for r in data.results.values()
                    if a.id in r.areas
                    and r.areas[a.id].complete
                    and r.areas[a.id].percent is not None
                ]
                for a in data.areas
            ],
            medians=[s.median for s in spreads],
            green=net.green,
            amber=net.amber,
            palette=pal,
        ),
        f"SeQuIn_area_ratings_{per}.png": C.rag_counts_png(
            title=f"Units rated Green, Amber and Red in each area: {data.month}",
            areas=names,
            counts=[data.area_rag[a.id] for a in data.areas],
            palette=pal,
        ),
        f"SeQuIn_network_trend_{per}.png": C.network_trend_png(
            title=f"Network median score and co-production by month, up to {data.month}",
            months=[m.period for m in data.months],
            medians=[m.overall.median for m in data.months],
            lows=[m.overall.low for m in data.months],
            highs=[m.overall.high for m in data.months],
            coproduction=[m.coproduction for m in data.months],
            palette=pal,
        ),
    }
    return images


# --- building the outbox --------------------------------------------------------------------


def period_folder(home: Home, period: str) -> Path:
    """Where a period's benchmark outputs go."""
    return home.outbox / period


def build_period(home: Home, ledger: Ledger, period: str) -> list[Path]:
    """Rebuild every benchmark output of ``period`` from the ledger; returns the paths written."""
    written, _locked = write_outputs(home, collect(home, ledger, period))
    return written


def write_outputs(home: Home, data: PeriodData) -> tuple[list[Path], list[Path]]:
    """Write the outputs of gathered figures, each atomically: ``(written, locked)``.

    A file that another program holds open (Windows refuses to replace it) is
    left as it was and listed in ``locked``; every other output is still written.
    """
    period = data.period
    folder = period_folder(home, period)
    written: list[Path] = []
    locked: list[Path] = []
    # The month's figures live until every file is written; without this the
    # collector rescans them again and again as workbooks are built, which is
    # the one cost that grew faster than the number of units.
    gc.freeze()
    try:

        def put(path: Path, make) -> None:
            try:
                written.append(write_atomic(path, make()))
            except PermissionError as exc:
                log.warning("could not replace %s (%s); it is left as it was", path, exc.strerror)
                locked.append(path)

        put(folder / f"SeQuIn_network_{period}.xlsx", lambda: network_workbook(data))
        put(folder / f"SeQuIn_commissioners_{period}.xlsx", lambda: commissioner_workbook(data))
        put(folder / f"SeQuIn_easy_read_{period}.xlsx", lambda: easy_read_workbook(data))
        for code in data.units:
            put(
                folder / "feedback" / f"SeQuIn_feedback_{code}_{period}.xlsx",
                lambda code=code: feedback_workbook(data, code),
            )
        for name, png in chart_images(data).items():
            put(folder / "charts" / name, lambda png=png: png)
        put(folder / f"SeQuIn_scores_{period}.csv", lambda: scores_csv(data))
        put(folder / f"SeQuIn_evidence_{period}.csv", lambda: evidence_csv(data))
    finally:
        gc.unfreeze()
    return written, locked


def refresh_outputs(home: Home, periods: list[str], ledger: Ledger | None = None) -> list[Path]:
    """Rebuild the outputs of ``periods`` and mark them up to date in the ledger.

    A period stays marked as needing a rebuild if a new return for it arrived
    while its outputs were being built, or if one of its files was open in
    another program and could not be replaced.
    """
    own = ledger is None
    if own:
        home.ensure_folders()
        ledger = home.open_ledger()
    try:
        written: list[Path] = []
        for period in sorted(set(periods)):
            data = collect(home, ledger, period)
            done, locked = write_outputs(home, data)
            written.extend(done)
            if locked:
                continue
            with ledger.transaction() as db:
                newest = db.execute(
                    "SELECT MAX(id) FROM returns WHERE period = ?", (period,)
                ).fetchone()[0]
                if (newest or 0) == data.max_return_id:
                    ledger.clear_dirty(period)
        return written
    finally:
        if own:
            ledger.close()

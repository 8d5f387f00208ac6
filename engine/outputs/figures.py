"""The figures of one month, read from the ledger in one consistent read.

Every number and word the outputs show is computed here, from each unit's counted
return; the output modules only lay them out. Text from returns is cleaned here
(and masked where it is shared beyond its unit).
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from .. import template as T
from ..bank import Area, Bank, known_banks, version_key
from ..home import Home, Network, check_period
from ..ledger import Ledger
from ..privacy import mask_personal_data
from .sheets import MAX_CELL, clean, month_name, period_start  # noqa: F401 (re-exported)

# Finding codes that mean a file's hidden unit and month could not be verified.
UNVERIFIED_CODES = frozenset(
    {"token-invalid", "unknown-unit", "unknown-bank-version", "not-a-sequin-workbook"}
)


# What shared outputs say of such a file instead of its findings, which may quote those details.
UNVERIFIED_REASON = (
    "its hidden details could not be verified (it was made by another network, or changed). "
    "The unit should return the workbook generated for them."
)


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

    counts: dict[str, int]  # units by rating label
    unrated: int
    applicable: int
    share_met: float | None  # percent of applicable ratings at the best label

    def rated_text(self, labels: list[str]) -> str:
        """How many units gave each rating, in scale order: ``Met 9, Partly met 3, Not met 1``.

        Said instead of a median of the standard's scores, which is the best score
        for nearly every standard and so says nothing.
        """
        parts = [f"{label} {self.counts[label]}" for label in labels if self.counts.get(label)]
        return ", ".join(parts) or "No unit rated it"

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


@dataclass(frozen=True)
class FamilyCounts:
    """How a unit's family and friends responses answered "Do you agree?" for one area."""

    agree: int = 0
    not_sure: int = 0
    disagree: int = 0
    no_answer: int = 0

    @property
    def answered(self) -> int:
        return self.agree + self.not_sure + self.disagree

    @property
    def most_disagree(self) -> bool:
        """More than half of the responses that answered for the area disagree."""
        return self.disagree * 2 > self.answered > 0

    def __add__(self, other: FamilyCounts) -> FamilyCounts:
        return FamilyCounts(
            self.agree + other.agree,
            self.not_sure + other.not_sure,
            self.disagree + other.disagree,
            self.no_answer + other.no_answer,
        )


@dataclass(frozen=True)
class ActionLine:
    """One action of a unit's counted return, with what the months on record say of it."""

    ref: str
    what: str
    area_id: str
    lead: str
    due: str  # ISO date or ""
    status: str
    history: str  # "Sep 2026: Not started; Oct 2026: In progress"
    opened: bool  # first written this month
    closed: bool  # marked Done or Dropped this month
    overdue: bool  # still open and due before the end of the month

    @property
    def open(self) -> bool:
        return self.status not in T.ACTION_CLOSED


@dataclass(frozen=True)
class EssentialMiss:
    """An essential standard rated Not met in a unit's counted return."""

    standard_id: str
    text: str
    area_id: str


def band_of(value: float, width: int) -> int:
    """The band of ``width`` points an overall score falls in (100 % is in the top band)."""
    return min(100 // width - 1, int(value // width))


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
    # unit -> area -> period -> score of a complete area (months on record up to this one)
    unit_area_months: dict[str, dict[str, dict[str, float]]]
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
    # Family and friends responses (counted), by unit: how many, counts per area, comments
    # (masked, for the unit's own feedback only: shared outputs show network counts only).
    family_responses: dict[str, int] = field(default_factory=dict)
    family_counts: dict[str, dict[str, FamilyCounts]] = field(default_factory=dict)
    family_comments: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)
    actions: dict[str, list[ActionLine]] = field(default_factory=dict)  # unit -> its actions
    forms: dict[str, str] = field(default_factory=dict)  # unit -> workbook form, where recorded
    essentials: dict[str, list[EssentialMiss]] = field(default_factory=dict)
    # unit -> its facts for the month, made once by :func:`.facts.unit_facts`
    unit_facts: dict = field(default_factory=dict, repr=False, compare=False)

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
        known = self.__dict__.get("_counts")  # counted once: every unit's workbook asks
        if known is None:
            codes = {u.code for u in self.network.units}
            c = Counter(x.status for x in self.completion if x.code in codes)
            known = {s: c.get(s, 0) for s in ("returned", "rejected", "missing")}
            self.__dict__["_counts"] = known
        return dict(known)

    def overall_bands(self, width: int) -> list[int]:
        """How many units with a complete return have an overall score in each band of
        ``width`` points (0 to width - 0.1, ..., the last band up to and including 100)."""
        cache = self.__dict__.setdefault("_overall_bands", {})  # every unit's workbook asks
        if width not in cache:
            bands = 100 // width
            counts = [0] * bands
            for r in self.results.values():
                if r.complete and r.overall is not None:
                    counts[band_of(r.overall, width)] += 1
            cache[width] = counts
        return list(cache[width])

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

    def rag_rule(self) -> str:
        n = self.network
        return f"Green {n.green:g}% or more, Amber {n.amber:g}% or more, Red below {n.amber:g}%"

    def family_area_totals(self) -> dict[str, FamilyCounts]:
        """Family and friends counts per area across the network's units."""
        out = {a.id: FamilyCounts() for a in self.areas}
        for by_area in self.family_counts.values():
            for area_id, counts in by_area.items():
                if area_id in out:
                    out[area_id] = out[area_id] + counts
        return out

    def families_disagree(self, code: str) -> list[Area]:
        """Areas the unit rated Green where most family and friends answering disagree."""
        counts = self.family_counts.get(code, {})
        result = self.results.get(code)
        return [
            a
            for a in self.areas
            if result is not None
            and (res := result.areas.get(a.id)) is not None
            and res.rag == "Green"
            and a.id in counts
            and counts[a.id].most_disagree
        ]

    def no_actions_sheet(self, code: str) -> bool:
        """The unit's counted return came from the older workbook, which had no Actions sheet."""
        return self.forms.get(code) == T.FORM_UNIT_1

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


def months_before(period: str, n: int) -> str:
    """The period ``n`` months before ``period``."""
    year, month = (int(x) for x in period.split("-"))
    index = year * 12 + month - 1 - n
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _layout_bank(home: Home, versions: list[str]) -> tuple[Bank, dict[str, Bank]]:
    banks = known_banks(home.banks_dir)
    usable = [v for v in versions if v in banks]
    if usable:
        return banks[max(usable, key=version_key)], banks
    return home.bank(), banks


def unit_order(network: Network):
    position = {u.code: i for i, u in enumerate(network.units)}
    return lambda code: (position.get(code, len(position)), code)


def collect(home: Home, ledger: Ledger, period: str) -> PeriodData:
    """Gather the month's figures from the ledger in one consistent read."""
    check_period(period)
    with ledger.snapshot():
        return _collect(home, ledger, period)


def _collect(home: Home, ledger: Ledger, period: str) -> PeriodData:
    network = home.network
    order = unit_order(network)
    roles = _scale_roles(network)
    points = {s.label: s.points for s in network.scale if s.applicable}
    best_points = network.max_points or 1
    today = period_start(period)
    # Only the network's own units are ever shown, whatever the ledger holds.
    known = {u.code for u in network.units}

    returns = [r for r in ledger.counted_returns_up_to(period) if r[1] in known]
    current = {r[1]: r for r in returns if r[2] == period}
    bank, banks = _layout_bank(home, sorted({r[3] for r in current.values()}))
    areas = list(bank.areas)
    area_ids = [a.id for a in areas]

    # The months each unit's areas are compared with: the month on record before this one,
    # and the earliest month on record within the last year.
    on_record = sorted({r[2] for r in returns})
    earlier = [per for per in on_record if per < period]
    year_ago = months_before(period, 11)
    compare = {
        "previous": earlier[-1] if earlier else "",
        "year": next((per for per in earlier if per >= year_ago), ""),
    }
    wanted = {v for v in compare.values() if v}

    # Area scores of every current return up to this month, in one pass: this month's in
    # full, the comparison months' per unit, and the rest only as network figures.
    current_areas: dict[str, dict[str, AreaResult]] = defaultdict(dict)
    history: dict[tuple[str, str], dict[str, float | None]] = defaultdict(dict)
    unit_area_months: dict[str, dict[str, dict[str, float]]] = defaultdict(
        lambda: defaultdict(dict)
    )
    area_values: dict[tuple[str, str], list[float]] = defaultdict(list)
    incomplete_returns: set[tuple[str, str]] = set()
    for unit, per, area_id, percent, rag, complete in ledger.counted_area_scores_up_to(period):
        if unit not in known:
            continue
        if per == period:
            current_areas[unit][area_id] = AreaResult(percent, rag, bool(complete))
        elif per in wanted:
            history[(unit, per)][area_id] = percent
        if complete and percent is not None:
            unit_area_months[unit][area_id][per] = percent
        if not complete:
            incomplete_returns.add((unit, per))
        elif percent is not None:
            area_values[(per, area_id)].append(percent)

    copro_counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for unit, per, yes, total in ledger.coproduction_up_to(period):
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
    for unit, qid, area_id, rating, text, note in ledger.counted_answers(period, best):
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
    for unit, area_id, service_user in ledger.counted_signoffs(period):
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

    threads = _threads(
        ledger, network, period, units, current, banks, ratings, known, today, area_ids
    )
    completion, unidentified = _completion(ledger, network, period, results, order, today)
    max_id = ledger.newest_return_id(period)
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
        unit_area_months={u: dict(a) for u, a in unit_area_months.items()},
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
        **threads,
    )


def _month_short(period: str) -> str:
    return f"{month_name(period)[:3]} {period[:4]}"


def _masked(text: str, today: dt.date) -> str:
    """Text from a return or response, cleaned, with likely personal data masked (only text
    with a digit can hold an NHS number or a date of birth)."""
    text = clean(text).strip()
    return mask_personal_data(text, today) if any(ch.isdigit() for ch in text) else text


def _history(steps: list[tuple[str, str]]) -> str:
    """An action's statuses month by month, a run of the same status as one entry:
    ``Sep 2026: Not started; Oct 2026 to Dec 2026: In progress``."""
    runs: list[list[str]] = []
    for per, status in steps:
        if runs and runs[-1][2] == status:
            runs[-1][1] = per
        else:
            runs.append([per, per, status])
    return "; ".join(
        f"{_month_short(a)}{'' if a == b else ' to ' + _month_short(b)}: {s or 'no status'}"
        for a, b, s in runs
    )


def _threads(
    ledger: Ledger, network: Network, period, units, current, banks, ratings, known, today, area_ids
):
    """Family and friends responses, actions and essential standards Not met, each read in
    one query for the whole month."""
    totals = {u: n for u, n in ledger.response_totals(period) if u in known}
    raw: dict[str, dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
    for unit, area_id, agree, n in ledger.response_counts(period):
        if unit in totals:
            raw[unit][area_id][agree] += n
    counts: dict[str, dict[str, FamilyCounts]] = {}
    for unit in totals:
        by_area = raw.get(unit, {})
        counts[unit] = {}
        # Every area of the bank, and any other area answered: no row means no answer.
        for area_id in [*area_ids, *(a for a in by_area if a not in area_ids)]:
            c = by_area.get(area_id, Counter())
            agree, unsure, disagree = (c.get(k, 0) for k in T.AGREE_CHOICES)
            answered = agree + unsure + disagree
            counts[unit][area_id] = FamilyCounts(
                agree, unsure, disagree, max(0, totals[unit] - answered)
            )
    comments: dict[str, list[tuple[str, str, str]]] = defaultdict(list)  # (area, agree, text)
    for unit, area_id, agree, comment in ledger.response_comments(period):
        text = _masked(comment, today) if unit in totals else ""
        if text:
            comments[unit].append((area_id, agree, text))

    # Actions: this month's, each with its statuses in the months on record.
    seen: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for unit, ref, per, status in ledger.action_history(period):
        seen[(unit, ref)].append((per, status))
    month_end = period_start(months_before(period, -1))
    actions: dict[str, list[ActionLine]] = defaultdict(list)
    for unit, ref, _pos, what, area_id, lead, due, status in ledger.month_actions(period):
        if unit not in known:
            continue
        steps = seen.get((unit, ref)) or [(period, status)]
        before = [s for per, s in steps if per < period]
        due = clean(due).strip()
        try:
            due_date: dt.date | None = dt.date.fromisoformat(due)
        except ValueError:
            due_date = None
        actions[unit].append(
            ActionLine(
                ref=clean(ref),
                what=_masked(what, today),
                area_id=area_id,
                lead=_masked(lead, today),
                due=due_date.isoformat() if due_date else due,
                status=status,
                history=_history(steps),
                opened=not before,
                closed=status in T.ACTION_CLOSED
                and (not before or before[-1] not in T.ACTION_CLOSED),
                overdue=status not in T.ACTION_CLOSED
                and due_date is not None
                and due_date < month_end,
            )
        )

    # Essential standards rated Not met, from the bank each unit's return was checked against.
    not_met = network.not_met_label
    essential_of: dict[str, list[tuple[str, str, str]]] = {}
    essentials: dict[str, list[EssentialMiss]] = {}
    for code in units:
        version = current[code][3]
        if version not in essential_of:
            b = banks.get(version)
            essential_of[version] = [
                (s.id, s.text, a.id)
                for a in (b.areas if b else ())
                for s in a.standards
                if getattr(s, "essential", False)
            ]
        own = ratings.get(code, {})
        missed = [EssentialMiss(*e) for e in essential_of[version] if own.get(e[0]) == not_met]
        if missed:
            essentials[code] = missed
    return {
        "family_responses": totals,
        "family_counts": counts,
        "family_comments": dict(comments),
        "actions": dict(actions),
        "forms": {u: f for u, f in ledger.counted_forms(period).items() if u in known},
        "essentials": essentials,
    }


def _completion(
    ledger: Ledger, network: Network, period: str, results: dict, order, today: dt.date
):
    # A drop's unit and month may come from a file that failed its checks (older ledgers keep
    # even a forged unit): only the network's own units become rows, and the rest count as
    # files that could not be linked to a unit.
    known = {u.code for u in network.units}
    latest = {row[0]: row for row in ledger.last_drops(period) if row[0] in known}
    reasons: dict[int, list[str]] = defaultdict(list)
    untrusted: set[int] = set()
    for drop_id, code, message in ledger.last_drop_errors(period):
        if code in UNVERIFIED_CODES:
            untrusted.add(drop_id)
        if len(reasons[drop_id]) < 3:
            reasons[drop_id].append(mask_personal_data(clean(message), today))
    for drop_id in untrusted:  # its messages may quote the file's unverified hidden details
        reasons[drop_id] = [UNVERIFIED_REASON]
    accepted_drop = ledger.last_accepted_drops(period)
    unidentified = ledger.unlinked_rejections(period)
    unidentified += sum(unit not in known for unit in ledger.rejected_units(period))
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

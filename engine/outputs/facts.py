"""One set of facts per unit and month, from which every sentence about a unit is made.

The feedback workbook, the ward's easy read page, the families sheet and the
process control charts all talk about the same unit and area. Each used to
decide on its own what counts as a strength or as going well, and whether a
change is better or worse, so they could say opposite things: an area called a
strength while its essential standard was Not met, "we did not do as well" for
a fall the process control chart calls common cause. Here those words are
decided once, by these rules:

- **Strength / going well.** An area with an essential standard rated Not met,
  or where more than half of the families and friends who answered for it
  disagree, is never called a strength or "going well". A Green area held
  back like this needs a closer look, and says why.
- **Better or worse.** A change is called better or worse only when the
  process control chart of the score (:mod:`.spc`) marks the month as special
  cause on the same side (improvement for a rise, concern for a fall).
  Otherwise (common cause, no limits yet) the words are "about the same",
  whatever the change in points; the points are still shown as numbers.
- **What families said.** Under :data:`FEW_RESPONSES` answers for an area,
  only the counts are given ("1 family answered: agreed"), never a summary
  such as "most agree".

Example::

    facts = unit_facts(data, "M03")
    facts.areas["INV"].strength          # False: INV-01 Not met
    facts.areas["INV"].held_back         # ('Essential standard INV-01 rated Not met',)
    facts.trend                          # 'same' | 'better' | 'worse' | None
"""

from __future__ import annotations

from dataclasses import dataclass

from . import spc
from .figures import FamilyCounts, PeriodData

FEW_RESPONSES = 3  # fewer answers than this: counts only, no summary sentence

# How an area is going, as the easy read sorts it (and the names of its pictures' lines).
GOING_WELL, CLOSER_LOOK, GETTING_THERE, NEEDS_WORK, NOT_DONE = (
    "going_well",
    "closer_look",
    "getting_there",
    "needs_work",
    "not_done",
)


@dataclass(frozen=True)
class AreaFacts:
    """What may be said of one unit's area this month."""

    area_id: str
    percent: float | None
    rag: str
    complete: bool
    above_median: bool
    essentials_not_met: tuple[str, ...]  # standard ids rated Not met
    families: FamilyCounts
    held_back: tuple[str, ...]  # why the area is not a strength, though its score says so

    @property
    def families_disagree(self) -> bool:
        """More than half of the families and friends who answered disagree."""
        return self.families.most_disagree

    @property
    def strength(self) -> bool:
        """Green or above the network median, and nothing holding it back."""
        scored = self.percent is not None and (self.rag == "Green" or self.above_median)
        return scored and not self.held_back

    @property
    def standing(self) -> str:
        """``going_well``, ``closer_look`` (Green but held back), ``getting_there``,
        ``needs_work`` or ``not_done`` (not complete or not scored)."""
        if self.percent is None or not self.complete:
            return NOT_DONE
        if self.rag == "Green":
            return CLOSER_LOOK if self.held_back else GOING_WELL
        return {"Amber": GETTING_THERE, "Red": NEEDS_WORK}.get(self.rag, NOT_DONE)


@dataclass(frozen=True)
class UnitFacts:
    """What may be said of one unit this month."""

    code: str
    areas: dict[str, AreaFacts]
    compared_with: str | None  # the latest earlier month with an overall score
    change: float | None  # overall points since then
    variation: str  # the overall score's process control chart, this month: improvement ...
    trend: str | None  # better | worse | same; None with nothing to compare

    def standing(self, kind: str) -> tuple[str, ...]:
        """Area ids of one standing, in bank order."""
        return tuple(a for a, f in self.areas.items() if f.standing == kind)


def change_word(change: float | None, variation: str) -> str | None:
    """``better``, ``worse`` or ``same`` for a change, as its process control chart reads it."""
    if change is None:
        return None
    if variation == "improvement" and change > 0:
        return "better"
    if variation == "concern" and change < 0:
        return "worse"
    return "same"


def families_said(counts: FamilyCounts, words: dict, rag: str) -> str:
    """What families said of an area, in words that follow the counts."""
    n = counts.answered
    if not n:
        return words["said_none"]
    if n < FEW_RESPONSES:
        form = "only" if n == 1 else "count"  # "1 family answered: agreed."
        parts = [
            words[f"{form}_{key}"].format(n=value)
            for key, value in (
                ("agree", counts.agree),
                ("not_sure", counts.not_sure),
                ("disagree", counts.disagree),
            )
            if value
        ]
        head = words["count_one" if n == 1 else "count_many"].format(n=n)
        return f"{head}: {', '.join(parts)}."
    if counts.most_disagree:
        return words["said_disagree_green" if rag == "Green" else "said_disagree"]
    if counts.agree * 2 > n:
        return words["said_agree"]
    return words["said_mixed"]


def unit_facts(data: PeriodData, code: str) -> UnitFacts:
    """The facts of ``code``'s counted return for the month (kept on ``data``: made once)."""
    if code not in data.unit_facts:
        data.unit_facts[code] = _unit_facts(data, code)
    return data.unit_facts[code]


def _this_month(chart: spc.XmR, period: str) -> str:
    """The chart's variation when its latest point is ``period``'s, else ``""``."""
    latest = chart.latest
    return chart.variation if latest is not None and latest.period == period else ""


def _unit_facts(data: PeriodData, code: str) -> UnitFacts:
    result = data.results[code]
    counts = data.family_counts.get(code, {})
    not_met: dict[str, list[str]] = {}
    for miss in data.essentials.get(code, []):
        not_met.setdefault(miss.area_id, []).append(miss.standard_id)
    label = data.network.not_met_label
    areas = {}
    for area in data.areas:
        res = result.areas.get(area.id)
        median = data.area_spread[area.id].median
        percent = res.percent if res is not None else None
        fam = counts.get(area.id) or FamilyCounts()
        missed = tuple(not_met.get(area.id, ()))
        why = [f"Essential standard {sid} rated {label}" for sid in missed]
        if fam.most_disagree:
            who = (
                "family who answered disagrees"
                if fam.answered == 1
                else ("families who answered disagree")
            )
            why.append(f"{fam.disagree} of {fam.answered} {who}")
        areas[area.id] = AreaFacts(
            area.id,
            percent,
            res.rag if res is not None else "",
            bool(res is not None and res.complete),
            percent is not None and median is not None and percent > median,
            missed,
            fam,
            tuple(why),
        )
    earlier = [
        (per, overall)
        for per, overall, _rag in data.unit_months.get(code, [])
        if per < data.period and overall is not None
    ]
    compared_with = earlier[-1][0] if earlier else None
    change = None if not earlier or result.overall is None else result.overall - earlier[-1][1]
    variation = _this_month(spc.unit_xmr(data, code), data.period)
    return UnitFacts(code, areas, compared_with, change, variation, change_word(change, variation))


def network_trend(data: PeriodData) -> str | None:
    """``better``, ``worse`` or ``same`` for the network median against the month before."""
    prev = data.previous()
    if prev is None or prev.overall.median is None or data.overall.median is None:
        return None
    variation = _this_month(spc.network_xmr(data), data.period)
    return change_word(data.overall.median - prev.overall.median, variation)

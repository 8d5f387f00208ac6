"""Scoring, exactly as the product brief defines it.

Each rating has points (default ``Met`` 2, ``Partly met`` 1, ``Not met`` 0);
``N/A`` is not applicable and leaves the denominator. An area's percentage is
points / (best points x applicable answered standards); the overall
percentage is total points / total available over every applicable answered
standard. RAG compares the exact fraction with the thresholds (no rounding
first); percentages are rounded to one decimal place half away from zero on
the exact fraction, as the workbook's own Summary shows them (:mod:`engine.numbers`).

An area with any standard unanswered is *incomplete*: it is scored on what was
answered, and the benchmark leaves it out of network medians and ranges.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from fractions import Fraction

from .bank import Bank
from .home import Network
from .numbers import rounded


@dataclass(frozen=True)
class AreaScore:
    area_id: str
    points: int
    available: int
    answered: int
    applicable: int
    total: int
    percent: float | None
    rag: str
    complete: bool

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Scores:
    areas: dict[str, AreaScore]
    points: int
    available: int
    answered: int
    applicable: int
    overall_percent: float | None
    overall_rag: str

    def to_dict(self) -> dict:
        """The JSON shape of ``validate --json``'s ``scores``."""
        return {
            "overall_percent": self.overall_percent,
            "overall_rag": self.overall_rag,
            "answered": self.answered,
            "applicable": self.applicable,
            "areas": {
                k: {
                    "percent": a.percent,
                    "rag": a.rag,
                    "answered": a.answered,
                    "applicable": a.applicable,
                    "points": a.points,
                    "complete": a.complete,
                }
                for k, a in self.areas.items()
            },
        }


def _percent_and_rag(network: Network, points: int, available: int) -> tuple[float | None, str]:
    if available == 0:
        return None, ""
    exact = Fraction(100 * points, available)
    if exact >= Fraction(network.green).limit_denominator():
        rag = "Green"
    elif exact >= Fraction(network.amber).limit_denominator():
        rag = "Amber"
    else:
        rag = "Red"
    return rounded(exact), rag


def score(bank: Bank, network: Network, ratings: dict[str, str]) -> Scores:
    """Scores from ``ratings`` (standard ID -> canonical scale label, missing = unanswered)."""
    by_label = {s.label: s for s in network.scale}
    best = network.max_points
    areas = {}
    tot_points = tot_available = tot_answered = tot_applicable = 0
    for area in bank.areas:
        points = answered = applicable = 0
        for std in area.standards:
            label = ratings.get(std.id)
            if not label or label not in by_label:
                continue
            answered += 1
            choice = by_label[label]
            if choice.applicable:
                applicable += 1
                points += choice.points
        available = best * applicable
        percent, rag = _percent_and_rag(network, points, available)
        areas[area.id] = AreaScore(
            area.id,
            points,
            available,
            answered,
            applicable,
            len(area.standards),
            percent,
            rag,
            answered == len(area.standards),
        )
        tot_points += points
        tot_available += available
        tot_answered += answered
        tot_applicable += applicable
    percent, rag = _percent_and_rag(network, tot_points, tot_available)
    return Scores(areas, tot_points, tot_available, tot_answered, tot_applicable, percent, rag)

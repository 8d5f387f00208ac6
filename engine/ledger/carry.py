"""Ledger reads for the next month's unit workbook: last month's ratings and open actions.

What a unit agreed last month is read from its *counted* return for that month
(neither replaced by a later one nor held back). Open actions come from the
unit's latest counted return of any earlier month, so a unit that missed a month
still gets its actions back, with their history month by month.

Each read has a form for one unit and a form for many units at once; the
generator uses the second, so a large network costs a few queries, not a few
per unit.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from .. import template as T

_COUNTED = "superseded_by IS NULL AND held IS NULL"
_COUNTED_R = "r.superseded_by IS NULL AND r.held IS NULL"
_CHUNK = 500  # values bound in one IN (...) list
_PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def month_before(period: str) -> str:
    """``2026-11`` -> ``2026-10``; ``2027-01`` -> ``2026-12``."""
    year, month = (int(x) for x in period.split("-"))
    year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return f"{year:04d}-{month:02d}"


@dataclass(frozen=True)
class PreviousRatings:
    """What a unit agreed the month before: its counted return for ``period``, if any."""

    period: str  # the month before the workbook's month
    received_at: str | None  # when that return was received (ISO, UTC); None: no counted return
    ratings: dict[str, str] = field(default_factory=dict)  # question_id -> rating ("" unrated)

    @property
    def found(self) -> bool:
        return self.received_at is not None


@dataclass(frozen=True)
class CarriedAction:
    """An action still open (not Done or Dropped) in a unit's latest counted return."""

    ref: str
    what: str
    area_id: str
    lead: str
    due: str  # ISO date or ""
    status: str
    history: tuple[tuple[str, str], ...] = ()  # (period, status) of each month, oldest first

    @property
    def first_period(self) -> str:
        """The month the action was first written (its first month in the history)."""
        return self.history[0][0] if self.history else self.ref.split(".")[0]


def _chunks(values: list, size: int = _CHUNK):
    for i in range(0, len(values), size):
        yield values[i : i + size]


class CarryReads:
    """Mixed into :class:`engine.ledger.Ledger`; uses its ``db``."""

    def _carry_rows(self, sql: str, params: tuple = ()):
        cur = self.db.cursor()
        cur.row_factory = None
        return cur.execute(sql, params)

    # --- last month's ratings ----------------------------------------------------------

    def previous_ratings(self, unit: str, period: str) -> PreviousRatings:
        """The ratings of ``unit``'s counted return for the month before ``period``."""
        return self.previous_ratings_for([unit], period)[unit]

    def previous_ratings_for(self, units: Iterable[str], period: str) -> dict[str, PreviousRatings]:
        """:meth:`previous_ratings` for each of ``units`` (two queries for any number)."""
        wanted = list(dict.fromkeys(units))
        before = month_before(period)
        found: dict[str, tuple[int, str]] = {}
        for unit, rid, received in self._carry_rows(
            f"SELECT unit, id, received_at FROM returns WHERE period = ? AND {_COUNTED}",
            (before,),
        ):
            found[unit] = (rid, received)
        by_return: dict[int, dict[str, str]] = {found[u][0]: {} for u in wanted if u in found}
        for ids in _chunks(sorted(by_return)):
            marks = ",".join("?" * len(ids))
            for rid, qid, rating in self._carry_rows(
                f"SELECT return_id, question_id, rating FROM answers WHERE return_id IN ({marks})",
                tuple(ids),
            ):
                by_return[rid][qid] = rating
        out = {}
        for unit in wanted:
            if unit in found:
                rid, received = found[unit]
                out[unit] = PreviousRatings(before, received, by_return[rid])
            else:
                out[unit] = PreviousRatings(before, None, {})
        return out

    # --- open actions ------------------------------------------------------------------

    def open_actions(self, unit: str, period: str) -> list[CarriedAction]:
        """The actions of ``unit`` still open before ``period``, oldest first."""
        return self.open_actions_for([unit], period)[unit]

    def open_actions_for(self, units: Iterable[str], period: str) -> dict[str, list[CarriedAction]]:
        """:meth:`open_actions` for each of ``units``.

        The actions come from each unit's latest counted return of a month before
        ``period`` (not only the month just before), leaving out Done and Dropped
        ones. The history of each is the status it had in every counted return of
        the unit that holds it, oldest month first. Oldest action first (the month
        it was first written, then its row then).
        """
        wanted = list(dict.fromkeys(units))
        out: dict[str, list[CarriedAction]] = {u: [] for u in wanted}
        latest: dict[str, tuple[int, str]] = {}
        for ids in _chunks(wanted):
            marks = ",".join("?" * len(ids))
            for unit, rid, month in self._carry_rows(
                "SELECT r.unit, r.id, r.period FROM returns r JOIN ("
                f"SELECT unit, MAX(period) AS month FROM returns WHERE period < ? AND {_COUNTED} "
                f"AND unit IN ({marks}) GROUP BY unit) l ON r.period = l.month AND r.unit = l.unit "
                f"WHERE {_COUNTED_R}",
                (period, *ids),
            ):
                latest[unit] = (rid, month)
        if not latest:
            return out
        unit_of = {rid: unit for unit, (rid, _m) in latest.items()}
        closed = ",".join("?" * len(T.ACTION_CLOSED))
        rows: dict[str, list[tuple]] = {}
        for ids in _chunks(sorted(unit_of)):
            marks = ",".join("?" * len(ids))
            for rid, *row in self._carry_rows(
                "SELECT return_id, ref, position, what, area_id, lead, due, status FROM actions "
                f"WHERE return_id IN ({marks}) AND status NOT IN ({closed})",
                (*ids, *T.ACTION_CLOSED),
            ):
                rows.setdefault(unit_of[rid], []).append(tuple(row))
        if not rows:
            return out
        since = min(month for _rid, month in latest.values())
        for found in rows.values():
            for row in found:
                first = row[0].partition(".")[0]
                if _PERIOD.match(first):
                    since = min(since, first)
        history = self._action_history(rows, period, since)
        for unit, found in rows.items():
            actions = [
                (
                    position,
                    CarriedAction(
                        ref, what, area_id, lead, due, status, tuple(history.get((unit, ref), ()))
                    ),
                )
                for ref, position, what, area_id, lead, due, status in found
            ]
            actions.sort(key=lambda pa: (pa[1].first_period, pa[0], pa[1].ref))
            out[unit] = [a for _p, a in actions]
        return out

    def _action_history(
        self, rows: dict[str, list[tuple]], period: str, since: str
    ) -> dict[tuple[str, str], list[tuple[str, str]]]:
        """(unit, ref) -> [(period, status), ...] over the unit's counted returns from
        ``since`` to before ``period``, for the refs in ``rows``, oldest first. (A reference
        starts with the month it was first written: no older return can hold it.)"""
        wanted = {(unit, r[0]) for unit, found in rows.items() for r in found}
        units = sorted(rows)
        history: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for ids in _chunks(units):
            marks = ",".join("?" * len(ids))
            for unit, ref, month, status in self._carry_rows(
                "SELECT r.unit, a.ref, r.period, a.status FROM actions a "
                f"JOIN returns r ON r.id = a.return_id WHERE {_COUNTED_R} "
                f"AND r.period < ? AND r.period >= ? AND r.unit IN ({marks}) "
                "ORDER BY r.period",
                (period, since, *ids),
            ):
                if (unit, ref) in wanted:
                    history.setdefault((unit, ref), []).append((month, status))
        return history

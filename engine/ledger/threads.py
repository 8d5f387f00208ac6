"""Ledger reads for the outputs: family and friends responses, actions, essential standards.

Each read is one query for the whole month (never one per unit), returning plain tuples.
Counted returns are neither replaced nor held; counted responses are not held.
"""

from __future__ import annotations

_COUNTED_R = "r.superseded_by IS NULL AND r.held IS NULL"


class ThreadReads:
    """Mixed into :class:`engine.ledger.Ledger`; uses its ``db``."""

    def _tuples(self, sql: str, params: tuple = ()):
        cur = self.db.cursor()
        cur.row_factory = None
        return cur.execute(sql, params)

    # --- family and friends responses ------------------------------------------------

    def response_totals(self, period: str) -> list[tuple]:
        """``(unit, responses)``: how many counted family and friends responses each unit has."""
        return self._tuples(
            "SELECT unit, COUNT(*) FROM responses WHERE period = ? AND held IS NULL GROUP BY unit",
            (period,),
        ).fetchall()

    def response_counts(self, period: str) -> list[tuple]:
        """``(unit, area_id, agree, count)`` of the month's counted responses (``agree`` is
        ``''`` where the area was left unanswered)."""
        return self._tuples(
            "SELECT r.unit, a.area_id, a.agree, COUNT(*) FROM response_answers a "
            "JOIN responses r ON r.id = a.response_id WHERE r.period = ? AND r.held IS NULL "
            "GROUP BY r.unit, a.area_id, a.agree",
            (period,),
        ).fetchall()

    def response_comments(self, period: str) -> list[tuple]:
        """``(unit, area_id, agree, comment)`` of every comment in the month's counted
        responses, in the order they arrived."""
        return self._tuples(
            "SELECT r.unit, a.area_id, a.agree, a.comment FROM response_answers a "
            "JOIN responses r ON r.id = a.response_id WHERE r.period = ? AND r.held IS NULL "
            "AND a.comment != '' ORDER BY r.unit, r.id, a.area_id",
            (period,),
        ).fetchall()

    # --- actions -----------------------------------------------------------------------

    def month_actions(self, period: str) -> list[tuple]:
        """``(unit, ref, position, what, area_id, lead, due, status)`` of the actions of each
        unit's counted return for the month, in the order of its Actions sheet."""
        return self._tuples(
            "SELECT r.unit, a.ref, a.position, a.what, a.area_id, a.lead, a.due, a.status "
            f"FROM actions a JOIN returns r ON r.id = a.return_id WHERE r.period = ? AND {_COUNTED_R} "
            "ORDER BY r.unit, a.position",
            (period,),
        ).fetchall()

    def action_history(self, period: str) -> list[tuple]:
        """``(unit, ref, period, status)`` of every counted return up to ``period`` holding an
        action that the unit's counted return for ``period`` holds, oldest month first."""
        return self._tuples(
            "SELECT r.unit, a.ref, r.period, a.status FROM actions a "
            f"JOIN returns r ON r.id = a.return_id WHERE {_COUNTED_R} AND r.period <= ? "
            "AND (r.unit, a.ref) IN (SELECT r2.unit, a2.ref FROM actions a2 "
            "JOIN returns r2 ON r2.id = a2.return_id WHERE r2.period = ? "
            "AND r2.superseded_by IS NULL AND r2.held IS NULL) "
            "ORDER BY r.unit, a.ref, r.period",
            (period, period),
        ).fetchall()

    def counted_forms(self, period: str) -> dict[str, str]:
        """The workbook form of each unit's counted return for the month (``unit/1`` has no
        Actions sheet); empty when the ledger does not record forms."""
        have = {row[1] for row in self._tuples("PRAGMA table_info(returns)")}
        if "form" not in have:
            return {}
        return {
            unit: form
            for unit, form in self._tuples(
                f"SELECT unit, form FROM returns r WHERE period = ? AND {_COUNTED_R}", (period,)
            )
            if form
        }

"""The ledger's lookups by return stay indexed, so taking in a return does not slow down as
years of returns pile up (each of these read every row on record before they had an index)."""

from __future__ import annotations

import pytest

from engine.ledger import Ledger

# Every lookup made for each return taken in, by the column it looks up.
LOOKUPS = {
    "drops_return": [
        "SELECT * FROM drops WHERE return_id = 7 ORDER BY id LIMIT 1",
        "SELECT MAX(id) FROM drops WHERE return_id = 7 AND outcome = 'accepted'",
    ],
    "returns_superseded": [
        "SELECT * FROM returns WHERE superseded_by = 7 AND held IS NULL ORDER BY id DESC LIMIT 1",
    ],
}


def _plan(ledger: Ledger, sql: str) -> str:
    return " / ".join(row[3] for row in ledger.db.execute("EXPLAIN QUERY PLAN " + sql))


@pytest.mark.parametrize("index", sorted(LOOKUPS))
def test_each_lookup_by_return_uses_its_index(tmp_path, index):
    ledger = Ledger(tmp_path / "ledger.sqlite")
    try:
        for sql in LOOKUPS[index]:
            plan = _plan(ledger, sql)
            assert f"USING INDEX {index}" in plan, (sql, plan)
            assert not plan.startswith("SCAN"), (sql, plan)
    finally:
        ledger.close()


def test_a_ledger_written_before_the_indexes_gets_them_when_opened(tmp_path):
    path = tmp_path / "ledger.sqlite"
    ledger = Ledger(path)
    ledger.db.execute("DROP INDEX drops_return")
    ledger.db.execute("DROP INDEX returns_superseded")
    sql = LOOKUPS["drops_return"][0]
    assert _plan(ledger, sql).startswith("SCAN")  # what an older ledger does
    ledger.close()
    ledger = Ledger(path)
    try:
        names = {r[0] for r in ledger.db.execute("SELECT name FROM sqlite_master")}
        assert {"drops_return", "returns_superseded"} <= names
        assert "USING INDEX drops_return" in _plan(ledger, sql)
    finally:
        ledger.close()

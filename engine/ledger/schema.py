"""The ledger's tables, the columns added to older ledgers since the first schema, and what can
be read from a ledger file of any schema without changing it (for ``sequin doctor``)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

SCHEMA_VERSION = "5"  # 5: percentages rounded as a spreadsheet shows them

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS returns (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL UNIQUE,
    unit TEXT NOT NULL,
    period TEXT NOT NULL,
    bank_version TEXT NOT NULL,
    received_at TEXT NOT NULL,
    superseded_by INTEGER REFERENCES returns(id),
    points INTEGER NOT NULL,
    available INTEGER NOT NULL,
    answered INTEGER NOT NULL,
    applicable INTEGER NOT NULL,
    overall_percent REAL,
    overall_rag TEXT NOT NULL,
    saved_at TEXT,
    held TEXT
);
CREATE INDEX IF NOT EXISTS returns_period_unit ON returns(period, unit);
-- The return a new one replaced, looked up for each return taken in.
CREATE INDEX IF NOT EXISTS returns_superseded ON returns(superseded_by)
    WHERE superseded_by IS NOT NULL;
CREATE TABLE IF NOT EXISTS drops (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL,
    original_name TEXT NOT NULL,
    size INTEGER NOT NULL,
    arrived_at TEXT NOT NULL,
    processed_at TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('accepted', 'rejected')),
    state TEXT NOT NULL CHECK (state IN ('recorded', 'done')),
    duplicate_of INTEGER REFERENCES returns(id),
    return_id INTEGER REFERENCES returns(id),
    unit TEXT,
    period TEXT,
    bank_version TEXT,
    report_name TEXT,
    source BLOB
);
CREATE INDEX IF NOT EXISTS drops_sha ON drops(sha256);
CREATE INDEX IF NOT EXISTS drops_period ON drops(period, unit);
-- A return's drops, looked up for each return taken in.
CREATE INDEX IF NOT EXISTS drops_return ON drops(return_id) WHERE return_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS answers (
    return_id INTEGER NOT NULL REFERENCES returns(id),
    question_id TEXT NOT NULL,
    area_id TEXT NOT NULL,
    rating TEXT NOT NULL,
    evidence TEXT NOT NULL,
    notes TEXT NOT NULL,
    PRIMARY KEY (return_id, question_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS signoffs (
    return_id INTEGER NOT NULL REFERENCES returns(id),
    area_id TEXT NOT NULL,
    staff_role TEXT NOT NULL,
    service_user TEXT NOT NULL,
    date_agreed TEXT NOT NULL,
    PRIMARY KEY (return_id, area_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS area_scores (
    return_id INTEGER NOT NULL REFERENCES returns(id),
    area_id TEXT NOT NULL,
    points INTEGER NOT NULL,
    available INTEGER NOT NULL,
    answered INTEGER NOT NULL,
    applicable INTEGER NOT NULL,
    percent REAL,
    rag TEXT NOT NULL,
    complete INTEGER NOT NULL,
    PRIMARY KEY (return_id, area_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS findings (
    drop_id INTEGER NOT NULL REFERENCES drops(id),
    code TEXT NOT NULL,
    severity TEXT NOT NULL,
    sheet TEXT NOT NULL,
    cell TEXT NOT NULL,
    question_id TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS findings_drop ON findings(drop_id);
CREATE TABLE IF NOT EXISTS actions (
    return_id INTEGER NOT NULL REFERENCES returns(id),
    ref TEXT NOT NULL,
    position INTEGER NOT NULL,
    what TEXT NOT NULL,
    area_id TEXT NOT NULL,
    lead TEXT NOT NULL,
    due TEXT NOT NULL,
    status TEXT NOT NULL,
    PRIMARY KEY (return_id, ref)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS responses (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL UNIQUE,
    unit TEXT NOT NULL,
    period TEXT NOT NULL,
    bank_version TEXT NOT NULL,
    received_at TEXT NOT NULL,
    held TEXT
);
CREATE INDEX IF NOT EXISTS responses_period_unit ON responses(period, unit);
CREATE TABLE IF NOT EXISTS response_answers (
    response_id INTEGER NOT NULL REFERENCES responses(id),
    area_id TEXT NOT NULL,
    agree TEXT NOT NULL,
    comment TEXT NOT NULL,
    PRIMARY KEY (response_id, area_id)
) WITHOUT ROWID;
-- Inbox entries seen but not yet taken in: when each was first seen is when it arrived (a
-- file's modification time is when it was saved). Rows go once the entry is taken or gone.
CREATE TABLE IF NOT EXISTS sightings (
    name BLOB PRIMARY KEY,
    device INTEGER NOT NULL,
    inode INTEGER NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    first_seen TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS dirty_periods (period TEXT PRIMARY KEY, marked INTEGER);
CREATE TABLE IF NOT EXISTS closed_periods (period TEXT PRIMARY KEY, closed_at TEXT NOT NULL);
-- Months whose workbooks were generated, with the due date they show (sequin generate).
CREATE TABLE IF NOT EXISTS generated_periods (
    period TEXT PRIMARY KEY,
    due_date TEXT NOT NULL,
    generated_at TEXT NOT NULL
);
"""

# Columns added after the first schema: (table, column, declaration), added to older ledgers.
_ADDED_COLUMNS = (
    ("returns", "saved_at", "TEXT"),
    ("returns", "held", "TEXT"),
    ("drops", "source", "BLOB"),
    ("drops", "filed_as", "TEXT"),
    ("drops", "response_id", "INTEGER REFERENCES responses(id)"),
    ("drops", "form", "TEXT"),
    ("returns", "form", "TEXT"),
    ("dirty_periods", "marked", "INTEGER"),
)

# Indexes on added columns, created once the columns exist.
ADDED_INDEXES = (
    "CREATE INDEX IF NOT EXISTS drops_response ON drops(response_id) WHERE response_id IS NOT NULL",
)

# A drop that is not a family and friends response (the unit's own returns and their rejections).
NOT_FAMILY = "(form IS NULL OR form NOT LIKE 'family/%')"


@dataclass
class LedgerFacts:
    """What can be read from a ledger file without changing it (for ``sequin doctor``)."""

    fingerprint: str | None = None
    drops: int = 0
    returns: set[str] = field(default_factory=set)  # returns and family responses, by sha256
    unfinished: list[tuple[str, str, str]] = field(default_factory=list)  # (sha256, name, outcome)
    dirty: list[str] = field(default_factory=list)  # months whose outputs are to be rebuilt
    counted: list[str] = field(default_factory=list)  # months with a return or response counted


def read_facts(path: Path) -> LedgerFacts:
    """Read-only: integrity, fingerprint, drops, returns and unfinished drops, the months whose
    outputs are to be rebuilt and those with something counted (raises sqlite3.Error).

    Opened read-only and never migrated, so a damaged or foreign file is only looked at.
    """
    db = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    try:
        bad = [r[0] for r in db.execute("PRAGMA integrity_check(20)")]
        if bad != ["ok"]:
            raise sqlite3.DatabaseError("; ".join(bad[:3]))
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        facts = LedgerFacts()
        if not {"meta", "drops", "returns"} <= tables:
            return facts  # a ledger that was never written to
        row = db.execute("SELECT value FROM meta WHERE key = 'secret_fingerprint'").fetchone()
        facts.fingerprint = row[0] if row else None
        facts.drops = db.execute("SELECT COUNT(*) FROM drops").fetchone()[0]
        facts.returns = {r[0] for r in db.execute("SELECT sha256 FROM returns")}
        if "responses" in tables:  # family and friends responses are archived originals too
            facts.returns |= {r[0] for r in db.execute("SELECT sha256 FROM responses")}
        facts.unfinished = [
            tuple(r)
            for r in db.execute(
                "SELECT sha256, original_name, outcome FROM drops WHERE state = 'recorded' "
                "ORDER BY id"
            )
        ]
        if "dirty_periods" in tables:
            facts.dirty = [r[0] for r in db.execute("SELECT period FROM dirty_periods")]
        facts.counted = sorted(
            {r[0] for t in ("returns", "responses") if t in tables for r in _counted(db, t)}
        )
        return facts
    finally:
        db.close()


def _counted(db: sqlite3.Connection, table: str):
    """The months with a return (or response) counted: neither replaced nor held."""
    columns = {r[1] for r in db.execute(f"PRAGMA table_info({table})")}
    where = [c + " IS NULL" for c in ("superseded_by", "held") if c in columns]
    return db.execute(
        f"SELECT DISTINCT period FROM {table}" + (" WHERE " + " AND ".join(where) if where else "")
    )

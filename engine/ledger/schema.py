"""The ledger's tables, and the columns added to older ledgers since the first schema."""

SCHEMA_VERSION = "2"

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
CREATE TABLE IF NOT EXISTS dirty_periods (period TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS closed_periods (period TEXT PRIMARY KEY, closed_at TEXT NOT NULL);
"""

# Columns added after the first schema: (table, column, declaration), added to older ledgers.
_ADDED_COLUMNS = (
    ("returns", "saved_at", "TEXT"),
    ("returns", "held", "TEXT"),
    ("drops", "source", "BLOB"),
    ("drops", "filed_as", "TEXT"),
)

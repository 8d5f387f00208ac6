"""The ledger: every file that reached the inbox, every return, answer, finding and score.

One SQLite file in the home, written in transactions. Outbox outputs are
derived from it and can be rebuilt at any time.

- ``drops``: one row per file that reached the inbox, with its one outcome
  (``accepted`` or ``rejected``). ``state`` is ``recorded`` until the original
  is archived (or its problems report written), then ``done``; a restart
  finishes any drop left ``recorded``.
- ``returns``: one row per distinct accepted return (by sha256). One return
  per unit and period is *current* (``superseded_by`` is NULL); the others
  stay in the history. A return normally supersedes the current one, except
  a return the unit saved *before* the current one (``saved_at``, from the
  workbook's own properties): that is an older draft sent late. It is kept,
  marked ``held = 'older-save'``, and never silently replaces the later save.
  A return for a *closed* month (``closed_periods``) is kept too, marked
  ``held = 'closed-month'``, and changes nothing. Current means
  ``superseded_by IS NULL AND held IS NULL``; :meth:`Ledger.release` makes a
  held return current when the lead says so.
- ``actions``: the Actions sheet of each return (form unit/2), one row per
  action per return, keyed by its ``ref`` (kept when an action is carried); a
  carried action the unit left empty keeps its last recorded row.
- ``responses`` and ``response_answers``: one row per distinct family and
  friends response (by sha256), with its answer per area. Every response of
  a unit and month counts (there is no superseding and no older save); the
  same bytes again are a drop pointing at the same response
  (``drops.response_id``), so they count once. A response for a closed month
  is kept with ``held = 'closed-month'`` and counts once released
  (:meth:`Ledger.release_response`). Counted means ``held IS NULL``.
- ``generated_periods``: each month whose workbooks ``sequin generate`` wrote,
  with the due date they show. A month is also taken as generated if any
  return or response for it was accepted (older ledgers did not record months).
- ``drops.filed_as``: where the file is now, relative to the home (the inbox,
  or the month's ``returns/`` folder), kept up to date by the filing;
  ``drops.form``: the workbook form the file is (``unit/2``, ``family/1``) or
  claims by its name when it could not be read (NULL when unknown).
- ``drops.arrived_at`` and ``returns.received_at``: when the file arrived, that
  is when the engine first saw it in the inbox (``sightings``, see
  :mod:`engine.sightings`), or when ``sequin process`` looked at a file given
  from elsewhere; never the file's modification time, which is when it was
  saved (a copy keeps the unit's save time). ``returns.saved_at`` is that save
  time, as the workbook itself records it.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from .. import template as T
from ..checks import Action, FamilyAnswer, FamilyResponse, Return
from ..faults import crashpoint
from ..findings import Finding
from ..numbers import percent_of
from ..scoring import Scores
from .carry import CarryReads
from .schema import (  # noqa: F401 - read by sequin doctor
    _ADDED_COLUMNS,
    ADDED_INDEXES,
    NOT_FAMILY,
    SCHEMA,
    SCHEMA_VERSION,
    LedgerFacts,
    read_facts,
)
from .sightings import SightingRecords
from .threads import ThreadReads

# A counted return: neither replaced by a later one nor held back (see the module notes).
COUNTED = "superseded_by IS NULL AND held IS NULL"
COUNTED_R = "r.superseded_by IS NULL AND r.held IS NULL"


def is_counted(row) -> bool:
    """True for the return counted for its unit and month (not replaced, not held)."""
    return row["superseded_by"] is None and row["held"] is None


def now_utc() -> str:
    """The current time as an ISO string in UTC, to the second."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


# --- a ledger in use by another program ----------------------------------------------

BUSY_TIMEOUT = 30.0  # seconds a command waits for a ledger another program is writing


def is_busy_text(text: str) -> bool:
    """True when an SQLite message says another program holds the ledger."""
    text = text.lower()  # "database is locked", "database table is locked", ...
    return "database" in text and "is locked" in text


def is_busy(exc: BaseException | None) -> bool:
    """True when ``exc``, or the error that led to it, is the ledger being held by another
    program (a backup, a database tool, another engine): a wait, not a fault."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, sqlite3.OperationalError):
            name = getattr(exc, "sqlite_errorname", "") or ""
            if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or is_busy_text(str(exc)):
                return True
        exc = exc.__cause__ or exc.__context__
    return False


def ledger_access(path: Path | str, wait: float) -> str:
    """How the ledger at ``path`` can be used now, waiting up to ``wait`` seconds for it.

    ``free``: it can be written. ``read``: another program is writing it, so
    it can only be read. ``busy``: it cannot even be read. Asked on a
    connection of its own, which holds nothing afterwards. A ledger that does
    not exist yet, or fails in any other way, counts as ``free``: the work
    that follows says what is wrong with it.
    """
    path = Path(path)
    if not path.exists():
        return "free"
    try:
        db = sqlite3.connect(path, timeout=wait, isolation_level=None, check_same_thread=False)
    except sqlite3.Error:
        return "free"
    try:
        try:
            db.execute("BEGIN IMMEDIATE")
            db.execute("ROLLBACK")
            return "free"
        except sqlite3.Error as exc:
            if not is_busy(exc):
                return "free"
        try:
            db.execute("PRAGMA busy_timeout = 100")
            db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            return "read"
        except sqlite3.Error as exc:
            return "busy" if is_busy(exc) else "free"
    finally:
        db.close()


@dataclass(frozen=True)
class Drop:
    """A file that reached the inbox, as recorded."""

    id: int
    sha256: str
    original_name: str
    size: int
    arrived_at: str
    outcome: str
    state: str
    duplicate_of: int | None
    return_id: int | None
    unit: str | None
    period: str | None
    report_name: str | None
    source: bytes | None = None  # where the original was, as file-system bytes
    filed_as: str | None = None  # where the file is now, relative to the home
    response_id: int | None = None  # the family and friends response these bytes are
    form: str | None = None  # the workbook form ("unit/2", "family/1"), None when unknown

    @property
    def is_family(self) -> bool:
        """True for a family and friends response (accepted, or rejected but one by its form)."""
        return self.response_id is not None or (self.form or "").startswith("family/")

    @property
    def source_path(self):
        """The original's path as it was taken in, or None (older ledgers)."""
        return Path(os.fsdecode(self.source)) if self.source else None


_DROP_FIELDS = tuple(Drop.__dataclass_fields__)


#: A save time this long after the file arrived is impossible: the clock of the PC that saved it
#: was wrong. A day allows for any time zone a PC may be set to.
SAVE_TIME_SLACK = timedelta(days=1)


def save_time_impossible(saved_at: str, arrived_at: str) -> bool:
    """True when a workbook says it was saved more than a day after it arrived.

    Such a save time cannot be true (a PC's clock set to 2099, say), and
    trusting it would make every genuine correction after it look like an
    older draft. It is treated as unknown, so the return that arrives last
    counts; the receipt says why.
    """
    if not saved_at or not arrived_at:
        return False
    try:
        saved = datetime.fromisoformat(saved_at)
        arrived = datetime.fromisoformat(arrived_at)
    except ValueError:
        return False
    if saved.tzinfo is None or arrived.tzinfo is None:
        saved, arrived = saved.replace(tzinfo=None), arrived.replace(tzinfo=None)
    return saved > arrived + SAVE_TIME_SLACK


class Ledger(CarryReads, ThreadReads, SightingRecords):
    """The SQLite ledger of a home."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False
        )
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("PRAGMA foreign_keys=ON")
        # One transaction: a new ledger's tables cost one commit forced to disk, not one each.
        # A ledger already up to date is only read here, so it opens while another program
        # is writing it (a database tool, say): the watcher then waits for it to be free.
        self.db.executescript(f"BEGIN;\n{SCHEMA}\nCOMMIT;")
        self._migrate()

    def _migrate(self) -> None:
        """Bring a ledger written by an earlier version up to this schema (columns only added)."""
        for table, column, decl in _ADDED_COLUMNS:
            have = {r[1] for r in self.db.execute(f"PRAGMA table_info({table})")}
            if column not in have:
                self.db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {decl}")
        for sql in ADDED_INDEXES:
            self.db.execute(sql)
        before = self.get_meta("schema_version")
        if before is not None and before.isdigit() and int(before) < 5:
            self._round_as_shown()
        if before != SCHEMA_VERSION:
            self.db.execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES ('schema_version', ?)",
                (SCHEMA_VERSION,),
            )

    def _round_as_shown(self) -> None:
        """Percentages stored before schema 5 were rounded half to even (81.25 as 81.2).

        They are worked out again from the points and the points available, which
        are stored exactly, by the one rule (:mod:`engine.numbers`), so a ledger
        from an earlier version says what the unit's own workbook shows.
        """
        with self.transaction() as db:
            for sql, update in (
                (
                    "SELECT id, points, available, overall_percent FROM returns",
                    "UPDATE returns SET overall_percent = ? WHERE id = ?",
                ),
                (
                    "SELECT return_id, area_id, points, available, percent FROM area_scores",
                    "UPDATE area_scores SET percent = ? WHERE return_id = ? AND area_id = ?",
                ),
            ):
                for *key, points, available, stored in db.execute(sql).fetchall():
                    shown = percent_of(points, available)
                    if shown != stored:
                        db.execute(update, (shown, *key))

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def patience(self, seconds: float) -> Iterator[Ledger]:
        """Inside this block, wait at most ``seconds`` for a ledger another program holds
        (instead of :data:`BUSY_TIMEOUT`), then fail with a busy error (see :func:`is_busy`)."""
        before = self.db.execute("PRAGMA busy_timeout").fetchone()[0]
        self.db.execute(f"PRAGMA busy_timeout = {int(seconds * 1000)}")
        try:
            yield self
        finally:
            self.db.execute(f"PRAGMA busy_timeout = {int(before)}")

    def writable(self, wait: float) -> bool:
        """True if the ledger can be written now, after waiting up to ``wait`` seconds for
        another program to let it go; nothing is written."""
        if self.db.in_transaction:
            return True
        with self.patience(wait):
            try:
                self.db.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                if is_busy(exc):
                    return False
                raise
        self.db.execute("ROLLBACK")
        return True

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic unit of work: all of it lands, or none of it.

        Inside an outer transaction this is part of the outer one.
        """
        if self.db.in_transaction:
            # A savepoint: a failure inside undoes only this part, and the outer work goes on.
            self.db.execute("SAVEPOINT part")
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK TO part")
                self.db.execute("RELEASE part")
                raise
            else:
                self.db.execute("RELEASE part")
            return
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        else:
            self.db.execute("COMMIT")

    # --- reading -----------------------------------------------------------------

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    def _drop(self, row) -> Drop | None:
        if row is None:
            return None
        return Drop(**{name: row[name] for name in _DROP_FIELDS})

    def drop(self, drop_id: int) -> Drop | None:
        return self._drop(
            self.db.execute("SELECT * FROM drops WHERE id = ?", (drop_id,)).fetchone()
        )

    def drops_for(self, sha256: str) -> list[Drop]:
        """Every recorded drop of these bytes, oldest first."""
        rows = self.db.execute("SELECT * FROM drops WHERE sha256 = ? ORDER BY id", (sha256,))
        return [self._drop(r) for r in rows]

    def unfinished_drops(self) -> list[Drop]:
        """Drops recorded but not yet archived or reported (an interrupted run)."""
        rows = self.db.execute("SELECT * FROM drops WHERE state = 'recorded' ORDER BY id")
        return [self._drop(r) for r in rows]

    def unfinished_for(self, sha256: str) -> bool:
        """True while a drop of these bytes is recorded but not finished."""
        return (
            self.db.execute(
                "SELECT 1 FROM drops WHERE sha256 = ? AND state = 'recorded' LIMIT 1", (sha256,)
            ).fetchone()
            is not None
        )

    def later_save(self, unit: str, period: str, saved_at: str) -> sqlite3.Row | None:
        """The counted return for ``unit`` and ``period`` if it was saved after ``saved_at``.

        That makes a return saved at ``saved_at`` an older draft. None when either
        save time is unknown (or impossible, see :func:`save_time_impossible`):
        then the return that arrives last counts.
        """
        current = self.current_return(unit, period)
        if current is None or not saved_at or not current["saved_at"]:
            return None
        if save_time_impossible(current["saved_at"], current["received_at"]):
            return None  # recorded before impossible save times were set aside: unknown
        return current if saved_at < current["saved_at"] else None

    def return_by_sha(self, sha256: str) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM returns WHERE sha256 = ?", (sha256,)).fetchone()

    def findings_for(self, drop_id: int) -> list[Finding]:
        rows = self.db.execute(
            "SELECT code, severity, message, sheet, cell, question_id FROM findings "
            "WHERE drop_id = ? ORDER BY rowid",
            (drop_id,),
        )
        return [Finding(*r) for r in rows]

    def current_return(self, unit: str, period: str) -> sqlite3.Row | None:
        """The return counted for ``unit`` and ``period``, or None."""
        return self.db.execute(
            "SELECT * FROM returns WHERE unit = ? AND period = ? AND superseded_by IS NULL "
            "AND held IS NULL",
            (unit, period),
        ).fetchone()

    def return_row(self, return_id: int) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM returns WHERE id = ?", (return_id,)).fetchone()

    def first_drop_of_return(self, return_id: int) -> Drop | None:
        """The drop that first brought this return in (its file name and arrival)."""
        return self._drop(
            self.db.execute(
                "SELECT * FROM drops WHERE return_id = ? ORDER BY id LIMIT 1", (return_id,)
            ).fetchone()
        )

    def held_returns(self, period: str) -> list[sqlite3.Row]:
        """Returns kept for ``period`` but not counted (an older save, or held because the month
        was closed), with their file names."""
        return self.db.execute(
            "SELECT r.*, (SELECT original_name FROM drops d WHERE d.return_id = r.id "
            "ORDER BY d.id LIMIT 1) AS original_name FROM returns r "
            "WHERE r.period = ? AND r.held IS NOT NULL ORDER BY r.unit, r.id",
            (period,),
        ).fetchall()

    def returns_named(self, original_name: str) -> list[sqlite3.Row]:
        """Distinct accepted returns that arrived under this file name, newest first."""
        return self.db.execute(
            "SELECT DISTINCT r.* FROM returns r JOIN drops d ON d.return_id = r.id "
            "WHERE d.original_name = ? ORDER BY r.id DESC",
            (original_name,),
        ).fetchall()

    def current_returns(self, period: str) -> list[sqlite3.Row]:
        """The current (not superseded) accepted return of each unit for ``period``."""
        return self.db.execute(
            "SELECT * FROM returns WHERE period = ? AND superseded_by IS NULL AND held IS NULL "
            "ORDER BY unit",
            (period,),
        ).fetchall()

    def latest_drops(self, period: str) -> list[sqlite3.Row]:
        """The newest drop per unit for ``period`` (any outcome; not family responses)."""
        return self.db.execute(
            "SELECT d.* FROM drops d JOIN (SELECT unit, MAX(id) AS id FROM drops WHERE period = ? "
            f"AND {NOT_FAMILY} GROUP BY unit) m ON d.id = m.id ORDER BY d.unit",
            (period,),
        ).fetchall()

    def dirty_periods(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT period FROM dirty_periods ORDER BY period")]

    def dirty_mark(self, period: str) -> int | None:
        """How many times ``period`` was marked for rebuilding since it was last built, or
        None when it is not marked: read before a build, given back to ``clear_dirty``."""
        row = self.db.execute(
            "SELECT COALESCE(marked, 0) FROM dirty_periods WHERE period = ?", (period,)
        ).fetchone()
        return None if row is None else row[0]

    def clear_dirty(self, period: str, seen: int | None = -1) -> None:
        """Mark ``period``'s outputs up to date; with ``seen`` (from ``dirty_mark`` before the
        build), only if nothing marked it again meanwhile."""
        if seen == -1:
            self.db.execute("DELETE FROM dirty_periods WHERE period = ?", (period,))
        elif seen is not None:
            self.db.execute(
                "DELETE FROM dirty_periods WHERE period = ? AND COALESCE(marked, 0) = ?",
                (period, seen),
            )

    # --- writing -----------------------------------------------------------------

    def record(
        self,
        *,
        sha256: str,
        original_name: str,
        size: int,
        arrived_at: str,
        outcome: str,
        findings: list[Finding],
        ret: Return | FamilyResponse | None = None,
        scores: Scores | None = None,
        duplicate_of: int | None = None,
        report_name: str = "",
        source: bytes | None = None,
        saved_at: str = "",
        older_than: int | None = None,
        held: str | None = None,
        unit: str | None = None,
        period: str | None = None,
        response_id: int | None = None,
        form: str | None = None,
    ) -> Drop:
        """Record one file's outcome (and, if accepted, its return or response) in one transaction.

        ``unit`` and ``period`` default to the return's; the pipeline passes them
        explicitly for a rejected file whose hidden details cannot be trusted.
        ``ret`` may be a family and friends response (no scores); ``response_id``
        names the response these bytes already are (sent again: counted once).
        """
        with self.transaction() as db:
            return_id = duplicate_of
            if outcome == "accepted" and isinstance(ret, FamilyResponse):
                if response_id is None:
                    response_id = self._insert_response(db, sha256, ret, arrived_at, held)
            elif (
                outcome == "accepted"
                and duplicate_of is None
                and ret is not None
                and scores is not None
            ):
                return_id = self._insert_return(
                    db, sha256, ret, scores, arrived_at, saved_at, older_than, held
                )
            if unit is None and period is None and ret is not None:
                unit, period = ret.unit, ret.period
            version = ret.bank_version if ret else None
            cur = db.execute(
                "INSERT INTO drops(sha256, original_name, size, arrived_at, processed_at, outcome, "
                "state, duplicate_of, return_id, unit, period, bank_version, report_name, source, "
                "response_id, form) VALUES (?, ?, ?, ?, ?, ?, 'recorded', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    sha256,
                    original_name,
                    size,
                    arrived_at,
                    now_utc(),
                    outcome,
                    duplicate_of,
                    return_id,
                    unit,
                    period,
                    version,
                    report_name,
                    source,
                    response_id,
                    form or getattr(ret, "form", None),
                ),
            )
            drop_id = cur.lastrowid
            db.executemany(
                "INSERT INTO findings(drop_id, code, severity, sheet, cell, question_id, message) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (drop_id, f.code, f.severity, f.sheet, f.cell, f.question_id, f.message)
                    for f in findings
                ],
            )
            crashpoint("inside the transaction, before commit")
        return self.drop(drop_id)

    def _insert_return(
        self,
        db,
        sha256: str,
        ret: Return,
        scores: Scores,
        received_at: str,
        saved_at: str = "",
        older_than: int | None = None,
        held: str | None = None,
    ) -> int:
        """Insert an accepted return; it becomes current unless ``older_than`` names the
        later-saved return that stays current (see :meth:`later_save`), or it is ``held``
        (its month is closed)."""
        if older_than and not held:
            held = "older-save"
        cur = db.execute(
            "INSERT INTO returns(sha256, unit, period, bank_version, received_at, points, available, "
            "answered, applicable, overall_percent, overall_rag, saved_at, held, superseded_by, "
            "form) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                sha256,
                ret.unit,
                ret.period,
                ret.bank_version,
                received_at,
                scores.points,
                scores.available,
                scores.answered,
                scores.applicable,
                scores.overall_percent,
                scores.overall_rag,
                saved_at or None,
                held,
                older_than,
                getattr(ret, "form", None),
            ),
        )
        rid = cur.lastrowid
        if not held:
            db.execute(
                "UPDATE returns SET superseded_by = ? WHERE unit = ? AND period = ? AND id != ? "
                "AND superseded_by IS NULL AND held IS NULL",
                (rid, ret.unit, ret.period, rid),
            )
        db.executemany(
            "INSERT INTO answers VALUES (?, ?, ?, ?, ?, ?)",
            [(rid, a.question_id, a.area_id, a.rating, a.evidence, a.notes) for a in ret.answers],
        )
        db.executemany(
            "INSERT INTO signoffs VALUES (?, ?, ?, ?, ?)",
            [(rid, s.area_id, s.staff_role, s.service_user, s.date_agreed) for s in ret.signoffs],
        )
        db.executemany(
            "INSERT INTO actions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (rid, a.ref, a.position, a.what, a.area_id, a.lead, a.due, a.status)
                for a in getattr(ret, "actions", None) or []
            ],
        )
        for i, ref in enumerate(getattr(ret, "kept", None) or []):
            # A carried action left as it was: its last recorded state stands (after the sheet).
            db.execute(
                "INSERT OR IGNORE INTO actions SELECT ?, a.ref, ?, a.what, a.area_id, a.lead, "
                f"a.due, a.status FROM actions a JOIN returns r ON r.id = a.return_id WHERE {COUNTED_R} "
                "AND r.unit = ? AND r.period < ? AND a.ref = ? ORDER BY r.period DESC LIMIT 1",
                (rid, T.ACTION_ROWS + i, ret.unit, ret.period, ref),
            )
        db.executemany(
            "INSERT INTO area_scores VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    rid,
                    a.area_id,
                    a.points,
                    a.available,
                    a.answered,
                    a.applicable,
                    a.percent,
                    a.rag,
                    int(a.complete),
                )
                for a in scores.areas.values()
            ],
        )
        if not held:
            self._mark_dirty(db, ret.period)
        return rid

    def _insert_response(
        self, db, sha256: str, resp: FamilyResponse, received_at: str, held: str | None
    ) -> int:
        """Insert a family and friends response; counted (month marked dirty) unless ``held``."""
        rid = db.execute(
            "INSERT INTO responses(sha256, unit, period, bank_version, received_at, held) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (sha256, resp.unit, resp.period, resp.bank_version, received_at, held),
        ).lastrowid
        db.executemany(
            "INSERT INTO response_answers VALUES (?, ?, ?, ?)",
            [(rid, a.area_id, a.agree, a.comment) for a in resp.answers],
        )
        if not held:
            self._mark_dirty(db, resp.period)
        return rid

    @staticmethod
    def _mark_dirty(db, period: str) -> None:
        # Later months show this one in their trends, so they are rebuilt too. Each marking
        # counts up ``marked``, so a build that read the month before it was marked again
        # (a release during a rebuild) leaves it marked (see ``dirty_mark``).
        db.execute(
            "INSERT INTO dirty_periods(period, marked) VALUES (?, 1) ON CONFLICT(period) "
            "DO UPDATE SET marked = COALESCE(marked, 0) + 1",
            (period,),
        )
        db.execute(
            "INSERT INTO dirty_periods(period, marked) SELECT DISTINCT period, 1 FROM returns "
            "WHERE period > ? ON CONFLICT(period) DO UPDATE SET marked = COALESCE(marked, 0) + 1",
            (period,),
        )

    def release(self, return_id: int) -> None:
        """Make a kept return the one counted for its unit and month (the lead's decision)."""
        with self.transaction() as db:
            row = self.return_row(return_id)
            db.execute(
                "UPDATE returns SET superseded_by = ? WHERE unit = ? AND period = ? AND id != ? "
                "AND superseded_by IS NULL AND held IS NULL",
                (return_id, row["unit"], row["period"], return_id),
            )
            db.execute(
                "UPDATE returns SET superseded_by = NULL, held = NULL WHERE id = ?", (return_id,)
            )
            self._mark_dirty(db, row["period"])

    def release_response(self, response_id: int) -> None:
        """Count a family and friends response held because its month was closed."""
        with self.transaction() as db:
            row = self.response_row(response_id)
            db.execute("UPDATE responses SET held = NULL WHERE id = ?", (response_id,))
            self._mark_dirty(db, row["period"])

    # --- family and friends responses and actions --------------------------------

    def response_by_sha(self, sha256: str) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM responses WHERE sha256 = ?", (sha256,)).fetchone()

    def response_row(self, response_id: int) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM responses WHERE id = ?", (response_id,)).fetchone()

    def response_answers_of(self, response_id: int) -> list[FamilyAnswer]:
        """What one response said, per area, as recorded."""
        sql = "SELECT area_id, agree, comment FROM response_answers WHERE response_id = ?"
        return [FamilyAnswer(*r) for r in self.db.execute(sql, (response_id,))]

    def first_drop_of_response(self, response_id: int) -> Drop | None:
        """The drop that first brought this response in (later drops are copies sent again)."""
        return self._drop(
            self.db.execute(
                "SELECT * FROM drops WHERE response_id = ? ORDER BY id LIMIT 1", (response_id,)
            ).fetchone()
        )

    def counted_response_count(self, unit: str, period: str) -> int:
        """How many family and friends responses count for a unit and month."""
        return self.db.execute(
            "SELECT COUNT(*) FROM responses WHERE unit = ? AND period = ? AND held IS NULL",
            (unit, period),
        ).fetchone()[0]

    def held_responses(self, period: str) -> list[sqlite3.Row]:
        """Family and friends responses kept for ``period`` but not counted, with file names."""
        return self.db.execute(
            "SELECT p.*, (SELECT original_name FROM drops d WHERE d.response_id = p.id "
            "ORDER BY d.id LIMIT 1) AS original_name FROM responses p "
            "WHERE p.period = ? AND p.held IS NOT NULL ORDER BY p.unit, p.id",
            (period,),
        ).fetchall()

    def responses_named(self, original_name: str) -> list[sqlite3.Row]:
        """Distinct family and friends responses that arrived under this file name, newest first."""
        return self.db.execute(
            "SELECT DISTINCT p.* FROM responses p JOIN drops d ON d.response_id = p.id "
            "WHERE d.original_name = ? ORDER BY p.id DESC",
            (original_name,),
        ).fetchall()

    def receipt_ratings(self, return_id: int) -> dict[str, str]:
        """``{standard: rating}`` of one return, as recorded."""
        sql = "SELECT question_id, rating FROM answers WHERE return_id = ?"
        return dict(self.db.execute(sql, (return_id,)).fetchall())

    def receipt_actions(self, return_id: int) -> list[Action]:
        """The actions read from one return's Actions sheet, in sheet order."""
        rows = self.db.execute(
            "SELECT ref, position, what, area_id, lead, due, status FROM actions "
            "WHERE return_id = ? ORDER BY position",
            (return_id,),
        )
        return [Action(*r) for r in rows]

    # --- closed months ------------------------------------------------------------

    def closed_at(self, period: str) -> str | None:
        """When ``period`` was closed, or None while it is open."""
        row = self.db.execute(
            "SELECT closed_at FROM closed_periods WHERE period = ?", (period,)
        ).fetchone()
        return row[0] if row else None

    def close_period(self, period: str) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO closed_periods(period, closed_at) VALUES (?, ?)",
                (period, now_utc()),
            )

    def reopen_period(self, period: str) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM closed_periods WHERE period = ?", (period,))

    # --- months generated -----------------------------------------------------------

    def record_generated(self, period: str, due_date: str) -> None:
        """Note that ``period``'s workbooks were generated, showing ``due_date`` (one insert).

        Generating a month again keeps one row, with the due date the newest
        workbooks show.
        """
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO generated_periods(period, due_date, generated_at) "
                "VALUES (?, ?, ?)",
                (period, due_date, now_utc()),
            )

    def generated_due_date(self, period: str) -> str | None:
        """The due date ``period``'s workbooks show, or None if ``sequin generate`` never
        recorded the month (it was not generated, or generated before months were recorded)."""
        row = self.db.execute(
            "SELECT due_date FROM generated_periods WHERE period = ?", (period,)
        ).fetchone()
        return row[0] if row else None

    def has_returns(self, period: str) -> bool:
        """True if any return or family and friends response for ``period`` was accepted
        (counted, replaced or held): its workbooks were sent out."""
        return (
            self.db.execute(
                "SELECT EXISTS (SELECT 1 FROM returns WHERE period = ?) "
                "OR EXISTS (SELECT 1 FROM responses WHERE period = ?)",
                (period, period),
            ).fetchone()[0]
            == 1
        )

    def newest_sent_period(self) -> str | None:
        """The newest month generated or with any accepted return or response (None if none)."""
        return self.db.execute(
            "SELECT MAX(p) FROM (SELECT MAX(period) AS p FROM generated_periods "
            "UNION ALL SELECT MAX(period) FROM returns UNION ALL SELECT MAX(period) FROM responses)"
        ).fetchone()[0]

    def set_filed(self, drop_id: int, filed_as: str | None) -> None:
        """Where a drop's file is now (relative to the home); not forced to disk (rebuilt by filing)."""
        self._unforced("UPDATE drops SET filed_as = ? WHERE id = ?", (filed_as, drop_id))

    def _unforced(self, sql: str, params: tuple) -> None:
        """One statement committed without forcing the ledger to disk.

        Only for bookkeeping a restart redoes: a power cut may lose it, never
        an earlier commit (the write-ahead log keeps commits in order).
        """
        if self.db.in_transaction:  # part of a larger commit, forced or not with it
            self.db.execute(sql, params)
            return
        self.db.execute("PRAGMA synchronous=NORMAL")
        try:
            self.db.execute(sql, params)
        finally:
            self.db.execute("PRAGMA synchronous=FULL")

    def drops_of(self, unit: str, period: str) -> list[Drop]:
        """Every drop recorded for a unit and month, oldest first."""
        rows = self.db.execute(
            "SELECT * FROM drops WHERE unit = ? AND period = ? ORDER BY id", (unit, period)
        )
        return [self._drop(r) for r in rows]

    def mark_done(self, drop_id: int) -> None:
        """The drop's original is archived (or its report written): it is finished.

        Not forced to disk: if a power cut loses this one update, the restart
        redoes the finishing steps, which are idempotent.
        """
        self._unforced("UPDATE drops SET state = 'done' WHERE id = ?", (drop_id,))

    # --- reads for the outputs: plain tuples, lean for large months ----------------

    @contextmanager
    def snapshot(self) -> Iterator[Ledger]:
        """One read transaction, so the outputs reflect one consistent state."""
        own = not self.db.in_transaction
        if own:
            self.db.execute("BEGIN")
        try:
            yield self
        finally:
            if own:
                self.db.execute("COMMIT")

    def _rows(self, sql: str, params: tuple = ()) -> sqlite3.Cursor:
        cur = self.db.cursor()
        cur.row_factory = None
        return cur.execute(sql, params)

    def counted_returns_up_to(self, period: str) -> list[tuple]:
        """``(id, unit, period, bank_version, received_at, overall_percent, overall_rag)``
        of every counted return up to ``period``, by period and unit."""
        return self._rows(
            "SELECT id, unit, period, bank_version, received_at, overall_percent, overall_rag "
            f"FROM returns WHERE {COUNTED} AND period <= ? ORDER BY period, unit",
            (period,),
        ).fetchall()

    def counted_area_scores_up_to(self, period: str) -> sqlite3.Cursor:
        """``(unit, period, area_id, percent, rag, complete)`` of counted returns."""
        return self._rows(
            "SELECT r.unit, r.period, s.area_id, s.percent, s.rag, s.complete FROM area_scores s "
            f"JOIN returns r ON r.id = s.return_id WHERE {COUNTED_R} AND r.period <= ?",
            (period,),
        )

    def coproduction_up_to(self, period: str) -> sqlite3.Cursor:
        """``(unit, period, areas signed with a service user, areas signed)``."""
        return self._rows(
            "SELECT r.unit, r.period, SUM(s.service_user = 'Yes'), COUNT(*) FROM signoffs s "
            f"JOIN returns r ON r.id = s.return_id WHERE {COUNTED_R} AND r.period <= ? "
            "GROUP BY r.unit, r.period",
            (period,),
        )

    def counted_answers(self, period: str, best: str) -> sqlite3.Cursor:
        """``(unit, question, area, rating, evidence, notes)`` of the month's counted returns:
        evidence only where the rating is ``best``, notes only where it is not."""
        return self._rows(
            "SELECT r.unit, a.question_id, a.area_id, a.rating, "
            "CASE WHEN a.rating = ? THEN a.evidence ELSE '' END, "
            "CASE WHEN a.rating = ? THEN '' ELSE a.notes END "
            f"FROM answers a JOIN returns r ON r.id = a.return_id WHERE r.period = ? AND {COUNTED_R}",
            (best, best, period),
        )

    def counted_signoffs(self, period: str) -> sqlite3.Cursor:
        """``(unit, area, service_user)`` of the month's counted returns."""
        return self._rows(
            "SELECT r.unit, s.area_id, s.service_user FROM signoffs s "
            f"JOIN returns r ON r.id = s.return_id WHERE r.period = ? AND {COUNTED_R}",
            (period,),
        )

    def last_drops(self, period: str) -> list[tuple]:
        """``(unit, id, outcome, original_name, arrived_at)`` of each unit's latest drop (of its
        own returns: family and friends responses are not the unit's return)."""
        return self._rows(
            "SELECT d.unit, d.id, d.outcome, d.original_name, d.arrived_at FROM drops d "
            f"JOIN (SELECT unit, MAX(id) AS id FROM drops WHERE period = ? AND {NOT_FAMILY} "
            "GROUP BY unit) m ON d.id = m.id",
            (period,),
        ).fetchall()

    def last_drop_errors(self, period: str) -> sqlite3.Cursor:
        """``(drop_id, code, message)`` of the errors of each unit's latest drop."""
        return self._rows(
            "SELECT drop_id, code, message FROM findings WHERE severity = 'error' AND drop_id IN "
            f"(SELECT MAX(id) FROM drops WHERE period = ? AND {NOT_FAMILY} GROUP BY unit) "
            "ORDER BY drop_id, rowid",
            (period,),
        )

    def last_accepted_drops(self, period: str) -> dict[str, int]:
        """Each unit's latest accepted drop of the month."""
        return dict(
            self._rows(
                "SELECT unit, MAX(id) FROM drops WHERE period = ? AND outcome = 'accepted' "
                f"AND {NOT_FAMILY} GROUP BY unit",
                (period,),
            ).fetchall()
        )

    def unlinked_rejections(self, period: str) -> int:
        """Rejected files of the month that named no month (counted by arrival)."""
        return self._rows(
            "SELECT COUNT(*) FROM drops WHERE period IS NULL AND outcome = 'rejected' "
            "AND substr(arrived_at, 1, 7) = ?",
            (period,),
        ).fetchone()[0]

    def rejected_units(self, period: str) -> list[str]:
        """The unit each rejected file of the month named (one entry per file)."""
        return [
            u
            for (u,) in self._rows(
                "SELECT unit FROM drops WHERE period = ? AND outcome = 'rejected'", (period,)
            )
        ]

    def newest_return_id(self, period: str) -> int:
        """A mark that grows with every return or family response recorded for the month
        (0 if none): outputs built at the same mark are current."""
        row = self._rows(
            "SELECT (SELECT COALESCE(MAX(id), 0) FROM returns WHERE period = ?) + "
            "(SELECT COALESCE(MAX(id), 0) FROM responses WHERE period = ?)",
            (period, period),
        ).fetchone()
        return row[0] or 0

    # --- reads for status, the intake and the watcher --------------------------------

    def area_scores_of(self, return_id: int) -> list[sqlite3.Row]:
        """Every area score stored for one return."""
        return self.db.execute(
            "SELECT * FROM area_scores WHERE return_id = ?", (return_id,)
        ).fetchall()

    def unlinked_rejected_drops(self, period: str) -> list[sqlite3.Row]:
        """Rejected drops that named no month, arrived in ``period``."""
        return self.db.execute(
            "SELECT * FROM drops WHERE period IS NULL AND outcome = 'rejected' "
            "AND substr(arrived_at, 1, 7) = ? ORDER BY id",
            (period,),
        ).fetchall()

    def accepted_drop_of(self, return_id: int) -> int:
        """The latest accepted drop that gave this return (0 if none)."""
        row = self.db.execute(
            "SELECT MAX(id) FROM drops WHERE return_id = ? AND outcome = 'accepted'", (return_id,)
        ).fetchone()
        return row[0] or 0

    def drops_with_returns(self, unit: str | None, period: str | None) -> list[sqlite3.Row]:
        """Drops (of a unit, of a month, or all) with their return's score and state."""
        sql = (
            "SELECT d.*, r.overall_percent, r.overall_rag, r.held, r.superseded_by, r.saved_at, "
            "p.held AS response_held, (SELECT MIN(x.id) FROM drops x WHERE x.response_id = "
            "d.response_id) AS response_first FROM drops d LEFT JOIN returns r ON r.id = d.return_id "
            "LEFT JOIN responses p ON p.id = d.response_id WHERE 1=1"
        )
        args: list = []
        if unit:
            sql += " AND d.unit = ?"
            args.append(unit)
        if period:
            sql += " AND d.period = ?"
            args.append(period)
        return self.db.execute(sql + " ORDER BY d.id", args).fetchall()

    def replaced_by(self, return_id: int) -> sqlite3.Row | None:
        """The return this one replaced (the latest, not a held one), if any."""
        return self.db.execute(
            "SELECT * FROM returns WHERE superseded_by = ? AND held IS NULL ORDER BY id DESC LIMIT 1",
            (return_id,),
        ).fetchone()

    def drop_count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM drops").fetchone()[0]

    def return_count(self) -> int:
        """Accepted returns and family responses: each has its original in the archive."""
        return self.db.execute(
            "SELECT (SELECT COUNT(*) FROM returns) + (SELECT COUNT(*) FROM responses)"
        ).fetchone()[0]

    def newest_return(self) -> int:
        """A mark that grows with every return or family response recorded (0 if none)."""
        return self.db.execute(
            "SELECT (SELECT COALESCE(MAX(id), 0) FROM returns) + "
            "(SELECT COALESCE(MAX(id), 0) FROM responses)"
        ).fetchone()[0]

    def quick_check(self) -> str:
        """SQLite's quick integrity check: ``ok`` or the first problem."""
        return self.db.execute("PRAGMA quick_check(1)").fetchone()[0]

"""Ledger rows for sightings: when the engine first saw each inbox entry not yet taken in.

One row per inbox entry name (file-system bytes), with the identity stamp it
had when last seen (device, inode, size, modification time in ns) and
``first_seen``, its arrival. A row lives only while its entry waits: it is
deleted in the same transaction as the entry's recorded outcome, or once the
entry leaves the inbox, so the table holds no more rows than the inbox holds
files. What counts as the same file is decided in :mod:`engine.sightings`.

Every write here is small and not forced to disk (a power cut loses at most a
sighting, and then the file is seen again), and outside a transaction it
waits only briefly for a busy ledger: a sighting must never hold up or stop
the watcher. A write that finds the ledger busy raises
:class:`sqlite3.OperationalError` for the caller to retry later.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

_BRIEF_WAIT_MS = 200  # how long a sighting waits for a busy ledger before it is retried later


class SightingRecords:
    """Reads and writes of the ``sightings`` table (mixed into :class:`engine.ledger.Ledger`)."""

    db: sqlite3.Connection

    def sighting(self, name: bytes) -> tuple[tuple, str] | None:
        """``(stamp, first_seen)`` recorded for the inbox entry ``name``, or None."""
        row = self.db.execute(
            "SELECT device, inode, size, mtime_ns, first_seen FROM sightings WHERE name = ?",
            (name,),
        ).fetchone()
        return None if row is None else (tuple(row[:4]), row[4])

    def all_sightings(self) -> dict[bytes, tuple[tuple, str]]:
        """Every recorded sighting: ``{name: (stamp, first_seen)}`` (as many as entries waiting)."""
        rows = self.db.execute(
            "SELECT name, device, inode, size, mtime_ns, first_seen FROM sightings"
        ).fetchall()
        return {bytes(r[0]): (tuple(r[1:5]), r[5]) for r in rows}

    def record_sighting(self, name: bytes, stamp: tuple, first_seen: str) -> None:
        """Note (or update) the entry ``name``, seen with ``stamp``, first seen at ``first_seen``."""
        self._brief(
            "INSERT OR REPLACE INTO sightings(name, device, inode, size, mtime_ns, first_seen) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (name, *stamp, first_seen),
        )

    def forget_sightings(self, names: Iterable[bytes]) -> None:
        """Forget entries taken in (inside the outcome's transaction) or gone from the inbox."""
        for name in names:
            self._brief("DELETE FROM sightings WHERE name = ?", (name,))

    def _brief(self, sql: str, params: tuple) -> None:
        """One statement, not forced to disk, waiting only briefly for a busy ledger."""
        if self.db.in_transaction:  # part of a larger commit, which has the ledger already
            self.db.execute(sql, params)
            return
        wait = self.db.execute("PRAGMA busy_timeout").fetchone()[0]
        self.db.execute(f"PRAGMA busy_timeout = {_BRIEF_WAIT_MS}")
        self.db.execute("PRAGMA synchronous=NORMAL")
        try:
            self.db.execute(sql, params)
        finally:
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.execute(f"PRAGMA busy_timeout = {int(wait)}")

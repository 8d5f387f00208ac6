"""Sightings: a return arrived when the engine first saw it in the inbox.

A file's modification time says when it was last *saved*, not when it reached
the inbox: a copy made by Windows Explorer (or ``cp -p``, or a sync tool)
keeps the unit's save time, days before it came. So the engine notes the
moment it first sees each inbox entry, and that moment is the file's arrival
everywhere: receipts, ``sequin returns`` and ``status``, the ledger, the names
of filed copies, due dates and days overdue, the outputs' "figures as at", and
holding a return for a closed month. (What the workbook itself says about when
it was saved is ``returns.saved_at``, shown beside the arrival where it
matters.)

- The watcher notes an entry at its first event or scan, before the file is
  complete; ``watch --once`` when it first looks at the inbox; ``sequin process``
  when it takes the file.
- Sightings are kept in the ledger (:mod:`engine.ledger.sightings`), so a file
  seen before a restart keeps its arrival. A sighting is the entry's name and
  identity stamp (device, inode, size, modification time). While the watcher
  follows a file being written, the same device and inode is the same file,
  however it grows; across a restart the whole stamp must match, else it is a
  new sighting (nobody watched what happened meanwhile). A file replaced by
  another under the same name is a new sighting.
- A sighting is forgotten in the same transaction as the entry's recorded
  outcome, or when the entry leaves the inbox, so the table holds no more rows
  than the inbox holds files.
- A sighting is a cheap write not forced to disk, and a busy ledger never
  stops the watcher: the sighting is kept in memory and written at the next
  look.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterable

from .entries import arrival_now
from .ledger import Ledger

log = logging.getLogger("sequin.intake")


def now_iso() -> str:
    """This moment as an arrival (ISO, UTC, to the second)."""
    return arrival_now()


class Sightings:
    """When each inbox entry was first seen, in memory for this run and in the ledger."""

    def __init__(self, ledger_of: Callable[[], Ledger]):
        self._ledger_of = ledger_of  # the intake opens its ledger lazily
        self._seen: dict[bytes, tuple[tuple, str]] = {}  # followed in this run: (stamp, first)
        self._unsaved: set[bytes] = set()  # noted while the ledger was busy: written later

    @property
    def ledger(self) -> Ledger:
        return self._ledger_of()

    def see(self, name: bytes, stamp: tuple) -> str:
        """Note that the inbox entry ``name`` is there with ``stamp``; returns when it arrived.

        Never raises for a busy ledger: the sighting is then written at a later look.
        """
        stamp = tuple(stamp)
        old = self._seen.get(name)
        if old is not None and old[0][:2] == stamp[:2]:
            first = old[1]  # the same file, followed in this run (still being written, perhaps)
            changed = old[0] != stamp
        else:
            recorded = self._recorded(name, stamp)  # seen before a restart, unchanged since
            first = recorded or now_iso()
            changed = recorded is None
        self._seen[name] = (stamp, first)
        if changed or name in self._unsaved:
            self._save(name, stamp, first)
        return first

    def arrival(self, name: bytes, stamp: tuple) -> str | None:
        """When the entry ``name`` with ``stamp`` was first seen, or None if it never was."""
        stamp = tuple(stamp)
        old = self._seen.get(name)
        if old is not None and old[0][:2] == stamp[:2]:
            return old[1]
        return self._recorded(name, stamp)

    def forget(self, names: Iterable[bytes]) -> None:
        """Forget entries taken in or gone (inside the outcome's transaction when there is one)."""
        names = list(names)
        for name in names:
            self._seen.pop(name, None)
            self._unsaved.discard(name)
        try:
            self.ledger.forget_sightings(names)
        except sqlite3.Error as exc:
            if self.ledger.db.in_transaction:
                raise  # part of recording an outcome: that fails as a whole
            # Left behind, it is pruned once the entry is gone from the inbox (see prune).
            log.debug(f"could not forget {len(names)} sighting(s) yet: {exc}")

    def prune(self, present: dict[bytes, tuple]) -> dict[bytes, str]:
        """Forget sightings of entries no longer in the inbox.

        ``present`` maps each entry in the inbox to its stamp now; returns when
        each of them was first seen, for those seen before (one ledger read).
        """
        try:
            recorded = self.ledger.all_sightings()
        except sqlite3.Error:
            recorded = {}
        gone = [name for name in {*recorded, *self._seen} if name not in present]
        if gone:
            self.forget(gone)
        first = {}
        for name, stamp in present.items():
            old = self._seen.get(name)
            if old is not None and old[0][:2] == tuple(stamp)[:2]:
                first[name] = old[1]
            elif name in recorded and recorded[name][0] == tuple(stamp):
                first[name] = recorded[name][1]
        return first

    def _recorded(self, name: bytes, stamp: tuple) -> str | None:
        """The first sighting recorded in the ledger for this very file (the whole stamp)."""
        try:
            row = self.ledger.sighting(name)
        except sqlite3.Error:  # busy: seen as new now, never a reason to stop
            return None
        return row[1] if row is not None and row[0] == tuple(stamp) else None

    def _save(self, name: bytes, stamp: tuple, first: str) -> None:
        try:
            self.ledger.record_sighting(name, stamp, first)
        except sqlite3.Error as exc:  # busy (or failing): kept in memory, written at a later look
            self._unsaved.add(name)
            log.debug(f"sighting not written yet (the ledger is busy): {exc}")
        else:
            self._unsaved.discard(name)

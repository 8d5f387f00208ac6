"""The watcher: takes every file that lands in the inbox through the pipeline.

Uses a real watchdog observer (native events on a local disk, or polling for
network shares, where other machines' writes raise no events). A file arrives
when the watcher first sees it (its first event or scan), before it is
complete; that moment is kept across restarts (see :mod:`engine.sightings`).
It is read only once it is complete: its size and modification time
unchanged over two checks and, for a zip, the zip's directory readable. A
file that never becomes a readable zip is taken once it has been still for a
while, so a broken file gets its problems report instead of waiting forever.

Outputs are refreshed after accepted returns, once the inbox has been quiet
for a moment, never once per file during a burst.
"""

from __future__ import annotations

import logging
import os
import queue
import stat
import threading
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.polling import PollingObserver

from .entries import stamp_of
from .files import display_name, open_regular
from .numbers import percent_text
from .pipeline import Intake, Outcome, is_ignored
from .refresher import BackgroundRefresh

log = logging.getLogger("sequin.watch")

CHECK_INTERVAL = 0.25  # seconds between stability checks
STABLE_CHECKS = 2  # unchanged size and mtime this many checks in a row
NOT_ZIP_GRACE = 3.0  # a file still this long but not a readable zip is taken anyway
RESCAN_INTERVAL = 10.0  # full inbox scan, in case an event was missed
QUIET_BEFORE_REFRESH = 1.5  # seconds without new files before outputs are refreshed
REFRESH_RETRY = 30.0  # seconds before retrying outputs that could not be replaced
BATCH = 50  # files taken in one go; the log shows progress between batches


def describe(o: Outcome) -> str:
    """One log line for an outcome."""
    if o.problem:
        return f"{o.outcome:9} {o.name}  recorded, but not finished: {o.problem} (retried at the next start)"
    if o.outcome == "accepted":
        overall = o.scores.overall_percent if o.scores else None
        pct = percent_text(overall)
        warn = sum(1 for f in o.findings if f.severity == "warning")
        if not o.counted:
            dup = " (kept, NOT counted: see its receipt)"
        else:
            dup = " (duplicate, not counted again)" if o.duplicate else ""
        if o.kind == "family":
            return (
                f"accepted  {o.name}  family and friends response, unit {o.unit} {o.period}  "
                f"{warn} warning(s){dup}"
            )
        return (
            f"accepted  {o.name}  unit {o.unit} {o.period}  overall {pct} "
            f"{o.scores.overall_rag if o.scores else ''}  {warn} warning(s){dup}"
        )
    if o.outcome == "rejected":
        codes = sorted({f.code for f in o.findings if f.severity == "error"})
        return f"rejected  {o.name}  {', '.join(codes)}  see {o.report.name if o.report else ''}"
    return f"skipped   {o.name}"


@dataclass
class _Candidate:
    size: int = -1
    mtime: int = -1
    stable: int = 0
    still_since: float = 0.0


class _Events(FileSystemEventHandler):
    def __init__(self, inbox: Path, q: queue.Queue[str]):
        self.inbox = inbox
        self.q = q

    def _offer(self, path: str) -> None:
        p = Path(path)
        if p.parent == self.inbox and not is_ignored(p.name):
            self.q.put(p.name)

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory:
            return
        dest = getattr(event, "dest_path", "")
        if dest:
            self._offer(os.fsdecode(dest))
        if event.event_type != "deleted":
            self._offer(os.fsdecode(event.src_path))


def _zip_complete(path: Path) -> bool:
    """True when the file's zip directory can be read (a copy has finished arriving).

    Opened without following a link and without blocking, and only if it is a
    regular file: an inbox entry must never be able to hang the watcher.
    """
    with open_regular(path) as fd:
        if fd is None:
            return False
        try:
            with os.fdopen(os.dup(fd), "rb") as fh, zipfile.ZipFile(fh) as zf:
                zf.infolist()
            return True
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
            return False


class Watcher:
    """Watches a home's inbox and processes what arrives."""

    def __init__(
        self,
        intake: Intake,
        *,
        poll: float | None = None,
        on_outcome: Callable[[Outcome], None] | None = None,
        refresh: Callable[[list[str]], None] | None = None,
        background_refresh: bool = False,
    ):
        self.intake = intake
        self.inbox = intake.home.inbox
        self.poll = poll
        self.on_outcome = on_outcome or (lambda o: log.info(describe(o)))
        self.refresh = refresh
        self._background = BackgroundRefresh(intake.home.root) if background_refresh else None
        self._q: queue.Queue[str] = queue.Queue()
        self._candidates: dict[str, _Candidate] = {}
        self._done: dict[str, tuple[int, int]] = {}
        self._folders_seen: set[str] = set()
        self._stop = threading.Event()
        self._observer = None
        self._last_activity = 0.0
        self._next_refresh = 0.0
        self._newest_at_start = 0
        self.processed = 0

    # --- public ----------------------------------------------------------------------

    def start(self) -> None:
        """Recover interrupted work, start the observer, queue what is already waiting."""
        self.intake.home.ensure_folders()
        for o in self.intake.recover():
            self.on_outcome(o)
        handler = _Events(self.inbox, self._q)
        if self.poll:
            self._observer = PollingObserver(timeout=self.poll)
        else:
            self._observer = Observer()
        self._observer.schedule(handler, str(self.inbox), recursive=False)
        self._observer.daemon = True
        self._observer.start()
        self._scan()

    def run(self, once: bool = False) -> None:
        """Process files until stopped (or, with ``once``, until the inbox is settled)."""
        self.start()
        next_scan = time.monotonic() + RESCAN_INTERVAL
        try:
            while not self._stop.is_set():
                self._drain_events()
                took = self._check_candidates()
                now = time.monotonic()
                if now >= next_scan:
                    self._scan()
                    next_scan = now + RESCAN_INTERVAL
                if not self._candidates and now - self._last_activity >= QUIET_BEFORE_REFRESH:
                    self._refresh_outputs()
                if once and not self._candidates and self._q.empty():
                    self._refresh_outputs(wait=True)
                    break
                if not took:
                    self._stop.wait(CHECK_INTERVAL)
        finally:
            self.stop()

    def stop(self) -> None:
        """Stop watching."""
        self._stop.set()
        if self._observer is not None:
            self._observer.stop()
            try:
                self._observer.join(5)
            except RuntimeError:
                pass
            self._observer = None

    # --- internals ---------------------------------------------------------------------

    def _scan(self) -> None:
        for path in self.intake.pending():
            self._q.put(path.name)

    def _drain_events(self) -> None:
        while True:
            try:
                name = self._q.get_nowait()
            except queue.Empty:
                return
            self._candidates.setdefault(name, _Candidate())

    def _check_candidates(self) -> bool:
        """Take every candidate that is complete now, as one batch; True if any was taken."""
        now = time.monotonic()
        ready: list[tuple[Path, tuple[int, int]]] = []
        for name in list(self._candidates):
            cand = self._candidates[name]
            path = self.inbox / name
            try:
                st = os.lstat(path)  # never follow a link dropped into the inbox
            except OSError:
                del self._candidates[name]
                self.intake.sightings.forget([os.fsencode(name)])  # gone from the inbox
                continue
            key = (st.st_size, st.st_mtime_ns)
            if self._done.get(name) == key:
                del self._candidates[name]
                continue
            if stat.S_ISDIR(st.st_mode):
                del self._candidates[name]
                if name not in self._folders_seen:
                    self._folders_seen.add(name)
                    log.info(
                        f"ignored   {display_name(name)}  (a folder: put returns in the inbox itself)"
                    )
                continue
            # It arrived when it was first seen, complete or not (see engine.sightings).
            self.intake.sightings.see(os.fsencode(name), stamp_of(st))
            if not stat.S_ISREG(st.st_mode):
                # A link, pipe, socket or device: never opened; it gets its report at once.
                del self._candidates[name]
                ready.append((path, key))
                continue
            if key != (cand.size, cand.mtime):
                cand.size, cand.mtime, cand.stable, cand.still_since = (
                    st.st_size,
                    st.st_mtime_ns,
                    0,
                    now,
                )
                continue
            cand.stable += 1
            if cand.stable < STABLE_CHECKS:
                continue
            if not _zip_complete(path) and now - cand.still_since < NOT_ZIP_GRACE:
                continue
            del self._candidates[name]
            ready.append((path, key))
            if len(ready) >= BATCH:
                break
        if not ready:
            return False
        outcomes = self.intake.process_many([p for p, _k in ready])
        for (path, key), outcome in zip(ready, outcomes):
            if outcome.retry:
                # It changed while it was read: wait until it is still again, then take it.
                self._candidates[path.name] = _Candidate()
                continue
            self._done[path.name] = key
            if outcome.outcome != "skipped":
                self.processed += 1
                self.on_outcome(outcome)
        self._last_activity = time.monotonic()
        return True

    def _refresh_outputs(self, wait: bool = False) -> None:
        if self._background is not None:
            self._refresh_in_background(wait)
            return
        if self.refresh is None or time.monotonic() < self._next_refresh:
            return
        periods = self.intake.ledger.dirty_periods()
        if not periods:
            return
        try:
            self.refresh(periods)
        except Exception as exc:  # noqa: BLE001 - outputs can be rebuilt; intake goes on
            log.error(f"could not refresh the outputs of {', '.join(periods)}: {exc}")
        if self.intake.ledger.dirty_periods():
            # An output could not be replaced (open in Excel?): try again a little later.
            self._next_refresh = time.monotonic() + REFRESH_RETRY
        else:
            log.info(f"outputs refreshed for {', '.join(periods)}")

    def _refresh_in_background(self, wait: bool) -> None:
        bg = self._background
        if wait:
            bg.wait()
        done = bg.finished()
        if done is not None:
            code, err = done
            if code == 0 and not set(bg.periods) & set(self.intake.ledger.dirty_periods()):
                log.info(f"outputs refreshed for {', '.join(bg.periods)}")
            elif code != 0:
                log.error(f"could not refresh the outputs of {', '.join(bg.periods)}: {err}")
                self._next_refresh = time.monotonic() + REFRESH_RETRY
        if bg.running or time.monotonic() < self._next_refresh:
            return
        periods = self.intake.ledger.dirty_periods()
        newest = self._newest_return()
        if (
            periods
            and done is not None
            and done[0] == 0
            and set(periods) & set(bg.periods)
            and newest == self._newest_at_start
        ):
            # Still marked after a clean rebuild with nothing new: an output is open elsewhere.
            self._next_refresh = time.monotonic() + REFRESH_RETRY
            return
        if periods:
            self._newest_at_start = newest
            bg.start(periods)
            if wait:
                bg.wait()
                self._refresh_in_background(False)

    def _newest_return(self) -> int:
        return self.intake.ledger.newest_return()

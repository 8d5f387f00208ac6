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

A ledger in use by another program (a backup, a database tool) never stops
the watcher, at start or later. It goes on noting what arrives (see
:mod:`engine.sightings`), takes nothing in, and waits for the ledger: tries
again after 1 s, then 2, 4 ... at most 30 s apart, each try taking the ledger
as soon as it is let go, with one log line a minute meanwhile. A file not
taken in stays in the inbox, untouched, and is taken once the ledger is free;
a file recorded but not yet filed when the ledger was taken is finished then.
Outputs are rebuilt once it is free too.
"""

from __future__ import annotations

import logging
import os
import queue
import sqlite3
import stat
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.polling import PollingObserver

from .entries import stamp_of
from .errors import SequinError
from .files import display_name, open_regular
from .ledger import is_busy, is_busy_text, ledger_access
from .pipeline import Intake, Outcome, is_ignored
from .refresher import BUSY_EXIT, BackgroundRefresh

log = logging.getLogger("sequin.watch")

CHECK_INTERVAL = 0.25  # seconds between stability checks
STABLE_CHECKS = 2  # unchanged size and mtime this many checks in a row
NOT_ZIP_GRACE = 3.0  # a file still this long but not a readable zip is taken anyway
RESCAN_INTERVAL = 10.0  # full inbox scan, in case an event was missed
QUIET_BEFORE_REFRESH = 1.5  # seconds without new files before outputs are refreshed
REFRESH_RETRY = 30.0  # seconds before retrying outputs that could not be replaced
BATCH = 50  # files taken in one go; the log shows progress between batches
# A ledger in use by another program:
PROBE_WAIT = 2.0  # how long a batch waits for it before the watcher waits aside
WAIT_FIRST = 1.0  # first try again after this many seconds, doubling ...
WAIT_MAX = 30.0  # ... up to this
WAIT_LOG_EVERY = 60.0  # one log line this often while waiting, not one per try
WAITING_PATIENCE = 0.2  # while waiting, how long noting a sighting waits for the ledger


def describe(o: Outcome) -> str:
    """One log line for an outcome: what happened to the file (see ``Outcome.line``)."""
    return o.line()


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


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min"


def _waiting_message(ledger: Path) -> str:
    return (
        f"The ledger ({ledger.name}) is in use by another program (a backup or a database "
        "tool?). Waiting for it; returns in the inbox are safe and will be taken when it is "
        f"free. If this goes on, close the program that has {ledger} open."
    )


def _still_waiting_message(ledger: Path, seconds: float, waiting: str) -> str:
    return (
        f"Still waiting for the ledger ({_duration(seconds)} so far; {waiting}). If this goes "
        f"on, close the program that has {ledger} open."
    )


def open_intake(home, **options) -> Intake:
    """The watcher's :class:`Intake`, once the ledger can at least be read.

    A ledger another program holds so that it cannot even be read (taking
    it exclusively, as some tools can) is waited for instead of refused:
    tries again after 1 s, then 2, 4 ... at most 30 s apart, each try taking
    it as soon as it is let go, with one log line a minute meanwhile. A
    ledger another program is only writing is waited for by the watcher
    itself, which meanwhile notes what arrives (see :class:`Watcher`).
    """
    path = home.ledger_path
    delay, since, next_log = WAIT_FIRST, None, 0.0
    while True:
        began = time.monotonic()
        if ledger_access(path, delay) != "busy":
            try:
                intake = Intake(home, **options)
            except (SequinError, sqlite3.Error) as exc:
                if not is_busy(exc):
                    raise
            else:
                if since is not None:
                    took = _duration(time.monotonic() - since)
                    log.info(f"The ledger is free again after {took}: starting.")
                return intake
        now = time.monotonic()
        if since is None:
            since, next_log = began, began + WAIT_LOG_EVERY
            log.warning(_waiting_message(path))
        elif now >= next_log:
            next_log = now + WAIT_LOG_EVERY
            log.warning(_still_waiting_message(path, now - since, "nothing is taken in meanwhile"))
        time.sleep(max(0.0, delay - (now - began)))
        delay = min(delay * 2, WAIT_MAX)


class _LedgerWait:
    """Waits for a ledger in use by another program, on a thread of its own.

    Each try waits inside SQLite for the ledger (1 s, then 2, 4 ... at most
    30 s), so it notices the moment the other program lets go, while the
    watcher goes on noting what arrives. ``free`` is set once the ledger can
    be written.
    """

    def __init__(self, path: Path, since: float | None = None, next_log: float | None = None):
        self.path = path
        self.since = time.monotonic() if since is None else since
        self.next_log = self.since + WAIT_LOG_EVERY if next_log is None else next_log
        self.free = threading.Event()
        self._cancelled = threading.Event()
        threading.Thread(target=self._run, name="sequin-ledger-wait", daemon=True).start()

    def _run(self) -> None:
        delay = WAIT_FIRST
        while not self._cancelled.is_set():
            began = time.monotonic()
            if ledger_access(self.path, delay) == "free":
                self.free.set()
                return
            # A refusal that came at once (not after waiting) still waits its turn.
            self._cancelled.wait(max(0.0, delay - (time.monotonic() - began)))
            delay = min(delay * 2, WAIT_MAX)

    def cancel(self) -> None:
        self._cancelled.set()


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
        self._wait: _LedgerWait | None = None  # set while the ledger is in use by another program
        self._carry: _LedgerWait | None = None  # the wait just ended, while trying the ledger
        self._opened = False  # the ledger is open (it can be read, at least)
        self._recover_due = True  # interrupted work to finish before taking anything new
        self._scan_due = False
        self.processed = 0

    # --- public ----------------------------------------------------------------------

    def start(self) -> None:
        """Recover interrupted work, start the observer, queue what is already waiting.

        A ledger in use by another program is waited for (see the module notes):
        the observer starts all the same, and the interrupted work is finished
        once the ledger is free.
        """
        self.intake.home.ensure_folders()
        access = ledger_access(self.intake.home.ledger_path, PROBE_WAIT)
        if access == "free":
            self._ready()
        else:
            self._wait_for_ledger()
            if access == "read":  # another program is writing it: sightings can be read
                self._open_ledger()
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
                self._keep_waiting()
                took = self._check_candidates()
                now = time.monotonic()
                if now >= next_scan or (self._scan_due and self._opened):
                    self._scan()
                    next_scan = now + RESCAN_INTERVAL
                if not self._candidates and now - self._last_activity >= QUIET_BEFORE_REFRESH:
                    self._refresh_outputs()
                if once and not self._candidates and self._q.empty() and self._wait is None:
                    self._refresh_outputs(wait=True)
                    if self._wait is None:
                        break
                if not took:
                    self._stop.wait(CHECK_INTERVAL)
        finally:
            self.stop()

    def stop(self) -> None:
        """Stop watching."""
        self._stop.set()
        if self._wait is not None:
            self._wait.cancel()
        if self._observer is not None:
            self._observer.stop()
            try:
                self._observer.join(5)
            except RuntimeError:
                pass
            self._observer = None

    # --- a ledger in use by another program ---------------------------------------------

    def _wait_for_ledger(self) -> None:
        """Take nothing in until the ledger is free; say so once (then once a minute)."""
        if self._wait is not None:
            return
        if self._carry is not None:  # taken again the moment it was free: one wait goes on
            w = self._carry
            self._wait = _LedgerWait(w.path, w.since, w.next_log)
            return
        self._wait = _LedgerWait(self.intake.home.ledger_path)
        log.warning(_waiting_message(self.intake.home.ledger_path))

    def _keep_waiting(self) -> None:
        """While waiting: a log line a minute; once the ledger is free, carry on."""
        w = self._wait
        if w is None:
            return
        now = time.monotonic()
        if not w.free.is_set():
            if now >= w.next_log:
                w.next_log = now + WAIT_LOG_EVERY
                waiting = f"{len(self._candidates)} file(s) waiting in the inbox, safe"
                log.warning(_still_waiting_message(w.path, now - w.since, waiting))
            return
        self._wait, self._carry = None, w
        try:
            ready = self._ready()
        finally:
            self._carry = None
        if ready:
            log.info(
                f"The ledger is free again after {_duration(now - w.since)}: taking in what waited."
            )

    def _ready(self) -> bool:
        """Open the ledger and finish interrupted work; False (waiting) while it is in use."""
        try:
            if self._recover_due:
                if self._background is not None and self._background.running:
                    self._background.wait()  # it must not meet the clean-up of temporary files
                outcomes = self.intake.recover()
                self._opened = True
                self._recover_due = False
                for o in outcomes:
                    self._report(o)
            else:
                self._open_ledger()
        except (SequinError, sqlite3.Error) as exc:
            if not is_busy(exc):
                raise
            self._wait_for_ledger()
        if self._recover_due:
            self._wait_for_ledger()
        return self._opened and self._wait is None

    def _open_ledger(self) -> None:
        try:
            self.intake.ledger  # noqa: B018 - opens it (only read when it is up to date)
            self._opened = True
        except (SequinError, sqlite3.Error) as exc:
            if not is_busy(exc):
                raise

    def _ledger_free(self) -> bool:
        """True if the ledger can be written now; else the watcher waits for it."""
        if self._wait is None and self._opened:
            try:
                if self.intake.ledger.writable(PROBE_WAIT):
                    return True
            except (SequinError, sqlite3.Error) as exc:
                if not is_busy(exc):
                    raise
        self._wait_for_ledger()
        return False

    @contextmanager
    def _gently(self) -> Iterator[None]:
        """While waiting, the ledger is asked only briefly (sightings are kept in memory)."""
        if self._wait is not None and self._opened:
            with self.intake.ledger.patience(WAITING_PATIENCE):
                yield
        else:
            yield

    def _report(self, o: Outcome) -> None:
        """Say what happened to a file; one recorded but not finished is finished when free."""
        if o.problem and is_busy_text(o.problem):
            self._recover_due = True
            log.warning(
                f"{o.outcome:9} {o.name}  recorded; it is filed and its receipt or report "
                "written once the ledger is free"
            )
            return
        self.on_outcome(o)

    # --- internals ---------------------------------------------------------------------

    def _scan(self) -> None:
        if not self._opened:
            self._scan_due = True
            return
        self._scan_due = False
        try:
            with self._gently():
                pending = self.intake.pending()
        except (SequinError, sqlite3.Error) as exc:
            if not is_busy(exc):
                raise
            self._wait_for_ledger()
            self._scan_due = True
            return
        for path in pending:
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
        ready: list[tuple[Path, tuple[int, int], _Candidate]] = []
        for name in list(self._candidates):
            cand = self._candidates[name]
            path = self.inbox / name
            try:
                st = os.lstat(path)  # never follow a link dropped into the inbox
            except OSError:
                del self._candidates[name]
                if self._opened:
                    with self._gently():
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
            # While the ledger is in use, a file already seen is not asked about again.
            if self._opened and (self._wait is None or key != (cand.size, cand.mtime)):
                with self._gently():
                    self.intake.sightings.see(os.fsencode(name), stamp_of(st))
            if not stat.S_ISREG(st.st_mode):
                # A link, pipe, socket or device: never opened; it gets its report at once.
                del self._candidates[name]
                ready.append((path, key, _Candidate(*key)))
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
            if self._wait is not None:
                continue  # complete, and taken once the ledger is free
            if not _zip_complete(path) and now - cand.still_since < NOT_ZIP_GRACE:
                continue
            del self._candidates[name]
            ready.append((path, key, cand))
            if len(ready) >= BATCH:
                break
        if not ready:
            return False
        if not self._ledger_free():
            self._keep_back(ready)
            return False
        try:
            outcomes = self.intake.process_many([p for p, _k, _c in ready])
        except (SequinError, sqlite3.Error) as exc:
            if not is_busy(exc):
                raise
            # Taken by another program before anything was recorded: every file stays as it is.
            db = self.intake.ledger.db
            if db.in_transaction:
                db.execute("ROLLBACK")
            self._keep_back(ready)
            self._wait_for_ledger()
            return False
        for (path, key, _c), outcome in zip(ready, outcomes):
            if outcome.retry:
                # It changed while it was read: wait until it is still again, then take it.
                self._candidates[path.name] = _Candidate()
                continue
            self._done[path.name] = key
            if outcome.outcome != "skipped":
                self.processed += 1
                self._report(outcome)
        if self._recover_due:
            self._wait_for_ledger()
        self._last_activity = time.monotonic()
        return True

    def _keep_back(self, ready: list[tuple[Path, tuple[int, int], _Candidate]]) -> None:
        """Files ready but not taken (the ledger is in use): taken first once it is free."""
        for path, _key, cand in ready:
            self._candidates[path.name] = cand

    def _refresh_outputs(self, wait: bool = False) -> None:
        """Rebuild the outputs of the months marked; a ledger in use is waited for first."""
        if self._wait is not None or not self._opened:
            return
        try:
            self._refresh_outputs_now(wait)
        except (SequinError, sqlite3.Error) as exc:
            if not is_busy(exc):
                raise
            self._wait_for_ledger()

    def _refresh_outputs_now(self, wait: bool) -> None:
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
            if is_busy(exc):
                # Still marked: rebuilt once the ledger is free.
                db = self.intake.ledger.db
                if db.in_transaction:
                    db.execute("ROLLBACK")
                log.info(f"outputs of {', '.join(periods)} are rebuilt once the ledger is free")
                self._wait_for_ledger()
                return
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
            elif code == BUSY_EXIT:  # still marked: rebuilt once the ledger is free
                log.info(f"outputs of {', '.join(bg.periods)} are rebuilt once the ledger is free")
                self._wait_for_ledger()
                return
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

"""One engine at a time per home: an exclusive lock on ``<home>/.sequin-lock``.

The lock is held by the operating system for as long as the process lives,
so a killed engine never leaves a stale lock behind. Whoever takes it writes
what it is doing beside it (``.sequin-lock.who``: ``watch`` for a running
watcher), so a command that finds the home busy can say truthfully who will
finish its work: a watcher rebuilds outputs marked for rebuilding on its own,
any other command does not.
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import SequinError


class HomeLock:
    """An exclusive, non-blocking lock on a home."""

    def __init__(self, root: Path, role: str = ""):
        self.path = Path(root) / ".sequin-lock"
        self.role = role  # "watch" for a running watcher; "" for any other command
        self._fh = None

    def acquire(self) -> None:
        """Take the lock, or raise SequinError if another engine holds it."""
        if self._fh is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(self.path, "a+b")  # noqa: SIM115 (held open while the lock is held)
        try:
            if os.name == "nt":  # pragma: no cover - Windows
                import msvcrt

                fh.seek(0)
                msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
            else:
                import fcntl

                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.close()
            raise SequinError(
                f"another sequin is already working in {self.path.parent}",
                hint="Stop it first, or drop files into the inbox for the running watcher to take.",
            ) from None
        self._fh = fh
        try:
            # Always rewritten, so it names the present holder, never a killed one.
            _who_path(self.path.parent).write_text(f"{self.role or 'command'} {os.getpid()}\n")
        except OSError:
            pass

    def release(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def _who_path(root: Path) -> Path:
    return Path(root) / ".sequin-lock.who"


def holder(root: Path) -> str | None:
    """``watch`` when a running watcher holds the home's lock, ``command`` for any other
    command, ``None`` when the lock is free (checked by trying it)."""
    probe = HomeLock(root)
    try:
        probe.acquire()
    except SequinError:
        try:
            words = _who_path(root).read_text().split()
        except OSError:
            return "command"
        return words[0] if words and words[0] == "watch" else "command"
    probe.release()  # free: let it go at once
    return None

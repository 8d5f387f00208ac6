"""One engine at a time per home: an exclusive lock on ``<home>/.sequin-lock``.

The lock is held by the operating system for as long as the process lives,
so a killed engine never leaves a stale lock behind.
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import SequinError


class HomeLock:
    """An exclusive, non-blocking lock on a home."""

    def __init__(self, root: Path):
        self.path = Path(root) / ".sequin-lock"
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

    def release(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

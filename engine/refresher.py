"""Rebuilding outputs in a separate process, so that intake never waits for them.

At national scale a month's outputs take several seconds to rebuild; a
return arriving meanwhile is taken in at once by the watcher while this
process writes the outputs. Which months need rebuilding is kept in the
ledger, so a rebuild that is interrupted is simply done again later.

Run as ``python -m engine.refresher HOME``: rebuilds every month marked in
the ledger and exits.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

# The exit code of a rebuild that found the ledger in use by another program: nothing is wrong,
# the months stay marked and are rebuilt once the ledger is free.
BUSY_EXIT = 75


class BackgroundRefresh:
    """At most one rebuilding process at a time for a home."""

    def __init__(self, home_root: str | os.PathLike):
        self.home_root = os.fspath(home_root)
        self._proc: subprocess.Popen | None = None
        self.periods: list[str] = []

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, periods: list[str]) -> None:
        """Start rebuilding (the process reads the months to rebuild from the ledger)."""
        env = dict(os.environ)
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
        self.periods = list(periods)
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "engine.refresher", self.home_root],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
        )

    def finished(self) -> tuple[int, str] | None:
        """``(exit code, last error line)`` once a started rebuild has ended, else None."""
        if self._proc is None or self._proc.poll() is None:
            return None
        proc, self._proc = self._proc, None
        err = (proc.stderr.read() if proc.stderr else "").strip().splitlines()
        if proc.stderr:
            proc.stderr.close()
        return proc.returncode, (err[-1] if err else "")

    def wait(self, timeout: float | None = None) -> None:
        if self._proc is not None:
            try:
                self._proc.wait(timeout)
            except subprocess.TimeoutExpired:
                pass


def main(home_root: str) -> int:
    from .errors import SequinError
    from .home import open_home
    from .ledger import is_busy
    from .outputs import refresh_outputs

    try:
        home = open_home(home_root)
        ledger = home.open_ledger()
        try:
            periods = ledger.dirty_periods()
            if periods:
                refresh_outputs(home, periods, ledger=ledger)
        finally:
            ledger.close()
    except (SequinError, sqlite3.Error) as exc:  # the watcher reports the last line written here
        if is_busy(exc):
            print(
                "the ledger is in use by another program; the outputs are rebuilt once it is free",
                file=sys.stderr,
            )
            return BUSY_EXIT
        if not isinstance(exc, SequinError):
            raise
        print(f"Error: {exc}" + (f" ({exc.hint})" if exc.hint else ""), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))

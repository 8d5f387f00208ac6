"""Crash points for the crash-safety tests.

When the environment variable ``SEQUIN_CRASH_AT`` is set to N, the process
kills itself (as ``kill -9`` would) at the N-th crash point it passes. The
tests use this to stop the engine at every step of taking a file in and check
that a restart loses nothing and counts nothing twice. Unset, it does nothing.
"""

from __future__ import annotations

import os
import signal

_target = int(os.environ.get("SEQUIN_CRASH_AT", "0") or 0)
_count = 0


def crashpoint(name: str = "") -> None:
    """Die here if this is the crash point the environment asks for."""
    global _count
    if not _target:
        return
    _count += 1
    if _count == _target:
        if os.environ.get("SEQUIN_CRASH_LOG"):
            with open(os.environ["SEQUIN_CRASH_LOG"], "a", encoding="utf-8") as fh:
                fh.write(f"{_target} {name}\n")
        os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))

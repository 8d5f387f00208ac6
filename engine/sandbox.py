"""Reading untrusted files in a separate process with a memory and a time limit.

A crash in native parsing code (an abort, running out of memory) cannot be
caught inside the engine's own process, so returns are read by a worker
process. The worker is started once and reused for file after file; when a
read crashes or runs over time the worker is killed and a new one started on
the next read, and only that one file is affected.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import threading

DEFAULT_MEMORY_MB = 768
DEFAULT_TIMEOUT = 30.0


class ReadFailed(Exception):
    """A file could not be read. ``kind`` is ``timeout``, ``crash`` or ``error``."""

    def __init__(self, kind: str, detail: str = ""):
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind
        self.detail = detail


def _limit_memory(memory_mb: int) -> None:
    try:
        import resource
    except ImportError:  # Windows: no rlimits; the time limit still applies.
        return
    limit = memory_mb * 1024 * 1024
    for name in ("RLIMIT_AS", "RLIMIT_DATA"):
        which = getattr(resource, name, None)
        if which is None:
            continue
        try:
            resource.setrlimit(which, (limit, limit))
        except (ValueError, OSError):
            pass


def _worker(conn, memory_mb: int) -> None:
    _limit_memory(memory_mb)
    from .reader import read_return

    while True:
        try:
            path = conn.recv()
        except (EOFError, OSError):
            return
        if path is None:
            return
        try:
            conn.send(("ok", read_return(path)))
        except MemoryError:
            conn.send(("error", "the file needs more memory than a return ever should"))
        except Exception as exc:  # noqa: BLE001 - every failure becomes a finding
            conn.send(("error", f"{type(exc).__name__}: {exc}"[:500]))


class Sandbox:
    """A reusable worker process that reads returns under limits."""

    def __init__(self, memory_mb: int = DEFAULT_MEMORY_MB, timeout: float = DEFAULT_TIMEOUT):
        self.memory_mb = memory_mb
        self.timeout = timeout
        self._ctx = mp.get_context("spawn")
        self._proc = None
        self._conn = None
        self._lock = threading.Lock()

    def _start(self) -> None:
        parent, child = self._ctx.Pipe()
        proc = self._ctx.Process(target=_worker, args=(child, self.memory_mb), daemon=True)
        proc.start()
        child.close()
        self._proc, self._conn = proc, parent

    def _kill(self) -> None:
        if self._proc is not None:
            try:
                self._proc.kill()
                self._proc.join(5)
            except (OSError, ValueError, AttributeError):
                pass
        if self._conn is not None:
            try:
                self._conn.close()
            except OSError:
                pass
        self._proc = self._conn = None

    def read(self, path: str | os.PathLike) -> dict:
        """Read one file in the worker; raises ReadFailed when it cannot."""
        with self._lock:
            if self._proc is None or not self._proc.is_alive():
                self._kill()
                self._start()
            try:
                self._conn.send(os.fspath(path))
                if not self._conn.poll(self.timeout):
                    self._kill()
                    raise ReadFailed("timeout", f"no answer within {self.timeout:.0f} s")
                status, payload = self._conn.recv()
            except (EOFError, OSError, BrokenPipeError) as exc:
                code = self._proc.exitcode if self._proc is not None else None
                self._kill()
                raise ReadFailed("crash", f"the reader stopped (exit code {code})") from exc
            if status != "ok":
                raise ReadFailed("error", str(payload))
            return payload

    def close(self) -> None:
        """Stop the worker."""
        with self._lock:
            if self._conn is not None and self._proc is not None and self._proc.is_alive():
                try:
                    self._conn.send(None)
                    self._proc.join(2)
                except (OSError, BrokenPipeError):
                    pass
            self._kill()

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

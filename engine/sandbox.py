"""Checking and reading untrusted files in a separate process, with a memory and a time limit.

A crash in native parsing code (an abort, running out of memory) cannot be
caught inside the engine's own process, so the pre-check and the reader both
run in a worker process (``python -m engine.sandbox``). The worker is started
once and reused for file after file; when a read crashes or runs over time
the worker is killed and a new one started, and only that one file is
affected. Requests and answers are single lines of JSON on the worker's
standard input and output.

Files can be submitted ahead (:meth:`Sandbox.submit`), so the worker reads
the next file while the engine records the previous one.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections import deque

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


def worker_main(memory_mb: int) -> None:
    """The worker's loop: one path per input line, one JSON answer per output line."""
    _limit_memory(memory_mb)
    from pathlib import Path

    from engine.precheck import precheck_parts
    from engine.reader import Unclear
    from engine.xlsx_fast import read_as_shown

    out = sys.stdout
    for line in sys.stdin:
        path = line.rstrip("\n")
        if not path:
            continue
        try:
            path = json.loads(path)
            # One inflate per part: the reader takes the parts the pre-check kept.
            refused, parts = precheck_parts(Path(path))
            if refused:
                answer = {"refused": [f.to_dict() for f in refused]}
            else:
                try:
                    raw, how = read_as_shown(path, parts)
                    answer = {"ok": raw, "read_by": how}
                except Unclear as unclear:  # a cell programs would show differently
                    answer = {"refused": [unclear.finding.to_dict()]}
            del parts
        except MemoryError:
            answer = {"error": "the file needs more memory than a return ever should"}
        except Exception as exc:  # noqa: BLE001 - every failure becomes a finding
            answer = {"error": f"{type(exc).__name__}: {exc}"[:500]}
        out.write(json.dumps(answer, ensure_ascii=True) + "\n")
        out.flush()


class Sandbox:
    """A reusable worker process that reads returns under limits."""

    def __init__(self, memory_mb: int = DEFAULT_MEMORY_MB, timeout: float = DEFAULT_TIMEOUT):
        self.memory_mb = memory_mb
        self.timeout = timeout
        self._proc: subprocess.Popen | None = None
        self._answers: queue.Queue = queue.Queue()
        self._lock = threading.RLock()
        self._pending: deque[str] = deque()
        self._sent_at: deque[float] = deque()  # when each pending file was handed over
        self._started = self._last_answer = 0.0

    def _start(self) -> None:
        env = dict(os.environ)
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "engine.sandbox", str(self.memory_mb)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            encoding="utf-8",
            env=env,
            bufsize=1,
        )
        answers: queue.Queue = queue.Queue()
        self._answers = answers
        self._started = time.monotonic()
        threading.Thread(target=self._pump, args=(self._proc, answers), daemon=True).start()

    @staticmethod
    def _pump(proc: subprocess.Popen, answers: queue.Queue) -> None:
        for line in proc.stdout:
            answers.put(line)
        answers.put(None)  # the worker has gone

    def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            proc.kill()
            proc.wait(5)
        except (OSError, subprocess.TimeoutExpired):
            pass
        for stream in (proc.stdin, proc.stdout):
            try:
                stream.close()
            except (OSError, ValueError):
                pass

    @property
    def pid(self) -> int | None:
        """The worker's process id, while it runs."""
        return self._proc.pid if self._proc is not None else None

    def submit(self, path: str | os.PathLike) -> None:
        """Queue a file for the worker; its answer comes from :meth:`collect`, in order."""
        with self._lock:
            self._pending.append(os.fspath(path))
            self._sent_at.append(time.monotonic())
            self._send(self._pending[-1])

    def _send(self, path: str) -> None:
        if self._proc is None or self._proc.poll() is not None:
            self._restart()
            return  # _restart sends everything pending
        try:
            self._proc.stdin.write(json.dumps(path) + "\n")
            self._proc.stdin.flush()
        except (OSError, ValueError):
            self._restart()

    def _restart(self) -> None:
        self._kill()
        self._start()
        for path in self._pending:
            self._proc.stdin.write(json.dumps(path) + "\n")
        self._proc.stdin.flush()
        self._started = time.monotonic()

    def collect(self) -> dict:
        """The answer for the oldest submitted file; raises ReadFailed when it could not be read.

        The answer is ``{"ok": raw, "read_by": "fast" or "calamine"}`` (which reader read
        it, see :mod:`engine.xlsx_fast`) or ``{"refused": [finding dicts]}`` from the pre-check
        (or the reader, for a cell programs would show differently).
        """
        with self._lock:
            if not self._pending:
                raise RuntimeError("nothing submitted")
            # The worker takes files one after another, so the oldest file's limit runs
            # from the moment the worker could start on it: when it was handed over, when
            # the worker finished the file before it, or when the worker (re)started,
            # whichever came last. Never from an answer given before an idle spell.
            waited_from = max(self._started, self._last_answer, self._sent_at[0])
            try:
                line = self._answers.get(
                    timeout=max(0.0, self.timeout - (time.monotonic() - waited_from))
                )
            except queue.Empty:
                self._pop()
                self._restart_after_failure()
                raise ReadFailed("timeout", f"no answer within {self.timeout:g} s") from None
            if line is None:
                code = self._proc.wait() if self._proc is not None else None
                self._pop()
                self._restart_after_failure()
                raise ReadFailed("crash", f"the reader stopped (exit code {code})")
            self._pop()
            self._last_answer = time.monotonic()
            answer = json.loads(line)
            if "ok" not in answer and "refused" not in answer:
                raise ReadFailed("error", str(answer.get("error", "")))
            return answer

    def _pop(self) -> None:
        self._pending.popleft()
        self._sent_at.popleft()

    def _restart_after_failure(self) -> None:
        self._kill()
        if self._pending:
            self._restart()

    def read(self, path: str | os.PathLike) -> dict:
        """Pre-check and read one file in the worker (see :meth:`collect`)."""
        self.submit(path)
        return self.collect()

    def close(self) -> None:
        """Stop the worker."""
        with self._lock:
            proc = self._proc
            if proc is not None and proc.poll() is None:
                try:
                    proc.stdin.close()
                    proc.wait(2)
                except (OSError, ValueError, subprocess.TimeoutExpired):
                    pass
            self._kill()
            self._pending.clear()
            self._sent_at.clear()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


if __name__ == "__main__":
    worker_main(int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_MEMORY_MB)

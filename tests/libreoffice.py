"""Drive a real headless LibreOffice from tests.

The UNO work happens in ``lo_fill.py`` under the system interpreter (the only
one that can import ``uno``); this module starts and stops ``soffice``, runs
that script and parses its JSON answer, and renders workbooks to PDF and PNG.

Typical use (the ``libreoffice`` fixture in ``conftest_libreoffice`` does the
start and close)::

    with LibreOffice() as lo:
        [result] = lo.fill([{"src": str(src), "dst": str(dst), "cells": [
            {"sheet": "1 Involvement", "cell": "D6", "value": "Met"}]}])
        values = lo.recalc_read(dst, [("Summary", "C5")])
        values[("Summary", "C5")]["value"]  # -> 1.0

See ``lo_fill.py`` for the job and cell formats.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
import weakref
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Self

TESTS_DIR = Path(__file__).resolve().parent
LO_FILL = TESTS_DIR / "lo_fill.py"
SYSTEM_PYTHON = os.environ.get("SEQUIN_UNO_PYTHON", "/usr/bin/python3")

_SOFFICE_FLAGS = (
    "--headless",
    "--invisible",
    "--norestore",
    "--nologo",
    "--nodefault",
    "--nolockcheck",
)


class LibreOfficeError(RuntimeError):
    """LibreOffice could not be started, reached, or did not do its job."""


def soffice_path() -> str | None:
    """Path of the ``soffice`` launcher, or ``None`` if there is none."""
    found = shutil.which("soffice")
    if found:
        return found
    return "/usr/bin/soffice" if os.access("/usr/bin/soffice", os.X_OK) else None


@functools.lru_cache(maxsize=1)
def soffice_available() -> bool:
    """True if ``soffice`` exists and the system interpreter can import ``uno``."""
    if soffice_path() is None or not os.access(SYSTEM_PYTHON, os.X_OK):
        return False
    try:
        probe = subprocess.run(
            [SYSTEM_PYTHON, "-c", "import uno"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            check=False,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


def pdftoppm_available() -> bool:
    """True if poppler's ``pdftoppm`` is on the PATH."""
    return shutil.which("pdftoppm") is not None


def _kill_group(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """Stop ``proc`` and every process in its session's process group."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue
    try:  # children that outlived the group leader
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass


def _cleanup(proc: subprocess.Popen | None, tmpdir: Path) -> None:
    """Finaliser shared by ``LibreOffice.close`` and garbage collection."""
    if proc is not None:
        _kill_group(proc)
    shutil.rmtree(tmpdir, ignore_errors=True)


def _abspath(path: str | os.PathLike) -> str:
    """Absolute path string of ``path`` (relative to the current directory)."""
    return str(Path(path).expanduser().absolute())


def _cell_key(cell) -> tuple[str, str]:
    """Normalise a ``(sheet, cell)`` pair or ``{"sheet", "cell"}`` mapping."""
    if isinstance(cell, Mapping):
        return str(cell["sheet"]), str(cell["cell"])
    sheet, address = cell
    return str(sheet), str(address)


class LibreOffice:
    """One headless ``soffice`` with a private profile, reached over a named pipe.

    Start it with :meth:`start` (or use it as a context manager) and stop it
    with :meth:`close`. All files it needs live in one temporary directory,
    removed on close.
    """

    def __init__(self, start_timeout: float = 60.0) -> None:
        self.start_timeout = start_timeout
        self.tmpdir = Path(tempfile.mkdtemp(prefix="sequin-lo-"))
        self.profile_dir = self.tmpdir / "profile"
        self.pipe_name = f"sequin_lo_{os.getpid()}_{uuid.uuid4().hex[:12]}"
        self.log_path = self.tmpdir / "soffice.log"
        self._proc: subprocess.Popen | None = None
        self._spec_counter = 0
        self._finalizer = weakref.finalize(self, _cleanup, None, self.tmpdir)

    # -- life cycle ----------------------------------------------------------

    def start(self) -> Self:
        """Start ``soffice`` and wait until it accepts UNO connections."""
        if self._proc is not None:
            return self
        soffice = soffice_path()
        if soffice is None:
            raise LibreOfficeError("soffice not found")
        cmd = [
            soffice,
            *_SOFFICE_FLAGS,
            f"-env:UserInstallation={self.profile_dir.as_uri()}",
            f"--accept=pipe,name={self.pipe_name};urp;",
        ]
        with open(self.log_path, "wb") as log:
            self._proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._finalizer.detach()
        self._finalizer = weakref.finalize(self, _cleanup, self._proc, self.tmpdir)
        try:
            self._wait_until_ready()
        except BaseException:
            self.close()
            raise
        return self

    def _wait_until_ready(self) -> None:
        """Retry a connection check until it works or ``start_timeout`` passes."""
        deadline = time.monotonic() + self.start_timeout
        last_error = ""
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise LibreOfficeError(
                    f"soffice exited with status {self._proc.returncode} while starting:\n"
                    f"{self._log_tail()}"
                )
            probe = subprocess.run(
                [
                    SYSTEM_PYTHON,
                    str(LO_FILL),
                    "--pipe",
                    self.pipe_name,
                    "--ping",
                    "--connect-timeout",
                    "3",
                ],
                stdin=subprocess.DEVNULL,
                capture_output=True,
                check=False,
                text=True,
                timeout=60,
            )
            if probe.returncode == 0:
                return
            last_error = probe.stderr.strip()
            time.sleep(0.2)
        raise LibreOfficeError(
            f"soffice did not accept connections within {self.start_timeout:.0f} s: "
            f"{last_error}\n{self._log_tail()}"
        )

    def _log_tail(self, limit: int = 4000) -> str:
        """Last part of soffice's own output, for error messages."""
        try:
            return self.log_path.read_text(errors="replace")[-limit:]
        except OSError:
            return ""

    @property
    def running(self) -> bool:
        """True while the started ``soffice`` is alive."""
        return self._proc is not None and self._proc.poll() is None

    def close(self) -> None:
        """Terminate ``soffice`` (its whole process group) and remove its files."""
        self._finalizer()
        self._proc = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.close()

    # -- work ----------------------------------------------------------------

    def fill(self, jobs: Sequence[Mapping], timeout: float = 300.0) -> list[dict]:
        """Run ``lo_fill.py`` jobs on this instance and return their results.

        ``src`` and ``dst`` may be ``Path`` objects or relative paths; they are
        made absolute here. Raises :class:`LibreOfficeError` (with the
        script's stderr) if any job fails or the script itself fails; a typed
        entry refused by sheet protection is not a failure and shows up in
        the job's ``"refused"`` list.
        """
        if not self.running:
            raise LibreOfficeError("LibreOffice is not running; call start() first")
        prepared = []
        for job in jobs:
            job = dict(job)
            for key in ("src", "dst"):
                if job.get(key):
                    job[key] = _abspath(job[key])
            prepared.append(job)
        self._spec_counter += 1
        spec_path = self.tmpdir / f"spec-{self._spec_counter}.json"
        spec_path.write_text(json.dumps({"jobs": prepared}, ensure_ascii=False), encoding="utf-8")
        try:
            proc = subprocess.run(
                [
                    SYSTEM_PYTHON,
                    str(LO_FILL),
                    "--pipe",
                    self.pipe_name,
                    "--connect-timeout",
                    "10",
                    str(spec_path),
                ],
                stdin=subprocess.DEVNULL,
                capture_output=True,
                check=False,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired as exc:
            raise LibreOfficeError(f"lo_fill.py timed out after {timeout:.0f} s") from exc
        finally:
            spec_path.unlink(missing_ok=True)
        try:
            outcome = json.loads(proc.stdout)
        except json.JSONDecodeError:
            raise LibreOfficeError(
                f"lo_fill.py exited with status {proc.returncode} without a result:\n"
                f"{proc.stderr}{proc.stdout}"
            ) from None
        failed = [job for job in outcome.get("jobs", []) if not job.get("ok")]
        if proc.returncode != 0 or failed:
            details = "\n".join(f"  {job.get('src')}: {job.get('error')}" for job in failed)
            raise LibreOfficeError(
                f"lo_fill.py exited with status {proc.returncode}:\n{details}\n{proc.stderr}"
            )
        return outcome["jobs"]

    def recalc_read(self, src: str | os.PathLike, cells: Iterable) -> dict[tuple[str, str], dict]:
        """Load ``src``, recalculate every formula and read ``cells``.

        ``cells`` holds ``(sheet, cell)`` pairs or ``{"sheet", "cell"}``
        mappings. Returns a dict keyed by ``(sheet, cell)`` whose values hold
        ``string`` (as displayed), ``value`` (float, or ``None`` for text and
        empty cells), ``type`` (``EMPTY``/``VALUE``/``TEXT``/``FORMULA``),
        ``formula`` (LibreOffice notation) and ``error`` (0 when none).
        The file itself is not changed.
        """
        keys = [_cell_key(cell) for cell in cells]
        [job] = self.fill([{"src": src, "read": [{"sheet": s, "cell": c} for s, c in keys]}])
        return {(item["sheet"], item["cell"]): item for item in job["read"]}


def convert(
    src_path: str | os.PathLike, to: str, outdir: str | os.PathLike, timeout: float = 180.0
) -> Path:
    """``soffice --convert-to TO`` with a separate one-shot ``soffice``; the file it wrote.

    ``to`` is what ``--convert-to`` takes (``pdf``, ``ods``, ``xls``,
    ``xlsx:Calc MS Excel 2007 XML``). Uses its own throw-away profile, so it
    never collides with a running :class:`LibreOffice`. Returns
    ``<outdir>/<stem>.<extension>``.
    """
    soffice = soffice_path()
    if soffice is None:
        raise LibreOfficeError("soffice not found")
    src = Path(_abspath(src_path))
    if not src.is_file():
        raise LibreOfficeError(f"no such file: {src}")
    out = Path(_abspath(outdir))
    out.mkdir(parents=True, exist_ok=True)
    dst = out / f"{src.stem}.{to.split(':', 1)[0]}"
    dst.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="sequin-lo-convert-") as profile:
        cmd = [
            soffice,
            *_SOFFICE_FLAGS,
            f"-env:UserInstallation={Path(profile).as_uri()}",
            "--convert-to",
            to,
            "--outdir",
            str(out),
            str(src),
        ]
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc, grace=2.0)
            raise LibreOfficeError(
                f"conversion of {src} to {to} timed out after {timeout:.0f} s"
            ) from None
        finally:
            _kill_group(proc, grace=2.0)
    if proc.returncode != 0 or not dst.is_file() or dst.stat().st_size == 0:
        raise LibreOfficeError(
            f"conversion of {src} to {to} failed (status {proc.returncode}):\n"
            f"{stderr.decode(errors='replace')}{stdout.decode(errors='replace')}"
        )
    return dst


def convert_to_pdf(
    xlsx_path: str | os.PathLike, outdir: str | os.PathLike, timeout: float = 180.0
) -> Path:
    """Render a workbook to PDF (see :func:`convert`); returns ``<outdir>/<stem>.pdf``."""
    return convert(xlsx_path, "pdf", outdir, timeout)


def pdf_to_pngs(
    pdf: str | os.PathLike,
    outdir: str | os.PathLike,
    first_page: int | None = None,
    last_page: int | None = None,
    dpi: int = 80,
    timeout: float = 120.0,
) -> list[Path]:
    """Render PDF pages to PNG files with ``pdftoppm``; return them in page order.

    Files are named ``<outdir>/<pdf stem>-<page>.png``; older PNGs with that
    prefix in ``outdir`` are removed first so the result lists only this run.
    """
    if not pdftoppm_available():
        raise LibreOfficeError("pdftoppm not found (poppler-utils)")
    src = Path(_abspath(pdf))
    out = Path(_abspath(outdir))
    out.mkdir(parents=True, exist_ok=True)
    prefix = out / src.stem
    pattern = f"{src.stem}-*.png"
    for old in out.glob(pattern):
        old.unlink()
    cmd = ["pdftoppm", "-png", "-r", str(dpi)]
    if first_page is not None:
        cmd += ["-f", str(first_page)]
    if last_page is not None:
        cmd += ["-l", str(last_page)]
    cmd += [str(src), str(prefix)]
    try:
        proc = subprocess.run(
            cmd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            check=False,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        raise LibreOfficeError(f"pdftoppm timed out on {src}") from None
    if proc.returncode != 0:
        raise LibreOfficeError(
            f"pdftoppm failed on {src} (status {proc.returncode}): {proc.stderr}"
        )

    def page_number(path: Path) -> int:
        return int(path.stem.rsplit("-", 1)[1])

    pages = [p for p in out.glob(pattern) if p.stem.rsplit("-", 1)[1].isdigit()]
    return sorted(pages, key=page_number)

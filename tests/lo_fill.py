#!/usr/bin/python3
"""Fill, recalculate, save and read workbooks with a headless LibreOffice.

This script drives LibreOffice through UNO. The ``uno`` module ships with the
system's ``python3-uno`` package and only imports under the system interpreter,
so run it as::

    /usr/bin/python3 tests/lo_fill.py --pipe NAME spec.json
    /usr/bin/python3 tests/lo_fill.py spec.json          # starts its own soffice
    /usr/bin/python3 tests/lo_fill.py --pipe NAME --ping # connection check only

With ``--pipe`` it connects to an already running instance, started as::

    soffice --headless --invisible --norestore --nologo \\
        -env:UserInstallation=file:///tmp/<unique> "--accept=pipe,name=NAME;urp;"

Spec (JSON; ``-`` reads it from stdin)::

    {"jobs": [
      {"src": "/abs/in.xlsx", "dst": "/abs/out.xlsx",
       "cells": [
         {"sheet": "1 Involvement", "cell": "D6", "value": "Met"},
         {"sheet": "1 Involvement", "cell": "D7", "value": 3.5},
         {"sheet": "1 Involvement", "cell": "D8", "value": null},
         {"sheet": "1 Involvement", "cell": "D20", "date": "2026-11-05"},
         {"sheet": "1 Involvement", "cell": "E6", "value": "=1+1", "typed": true}],
       "read": [{"sheet": "Summary", "cell": "C5"}]}
    ]}

Each job loads ``src`` hidden, applies ``cells`` in order, recalculates every
formula (``calculateAll``), then reads the ``read`` cells (if any) and stores
the document as xlsx to ``dst`` (if any). A job with only ``read`` is a
"recalc and read" job: nothing is written to disk.

How a cell is written:

* ``"value"`` string: ``setString`` -- stored as text, never parsed, and it
  goes straight through sheet protection and validation (like a paste).
* ``"value"`` number: ``setValue``.
* ``"value"`` null: the cell's content is cleared.
* ``"date"``: ``"YYYY-MM-DD"`` or ``"YYYY-MM-DDTHH:MM[:SS]"`` written as a date
  serial with a date number format (``"format"`` overrides the default
  ``YYYY-MM-DD``, or ``YYYY-MM-DD HH:MM:SS`` when a time is given).
* ``"typed": true``: the text of ``"value"`` is entered as a user typing it
  (the cell is selected and ``.uno:EnterString`` is dispatched), so
  LibreOffice parses it: ``=1+1`` becomes a formula, ``007`` the number 7.
  Typing into a locked cell of a protected sheet is refused; the cell's
  status is then ``"refused"``, and the job carries on.

Output on stdout (JSON)::

    {"ok": true, "jobs": [
      {"src": ..., "dst": ..., "ok": true,
       "cells": [{"sheet": ..., "cell": ..., "status": "set" | "typed" | "refused"}],
       "refused": [{"sheet": ..., "cell": ...}],
       "read": [{"sheet": ..., "cell": ..., "string": "1", "value": 1.0,
                 "type": "FORMULA", "formula": "=COUNTIF(...)", "error": 0}]}]}

``string`` is the text as displayed, ``value`` the number (``null`` for text
and empty cells and text results), ``type`` one of ``EMPTY``, ``VALUE``,
``TEXT``, ``FORMULA``, ``error`` LibreOffice's error code (0 when none).

A job that fails gets ``"ok": false`` and an ``"error"`` message; the other
jobs still run. The exit status is 0 when every job succeeded, 1 when a job
failed and 2 when the spec could not be read or LibreOffice not reached.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import uuid

import uno
from com.sun.star.beans import PropertyValue
from com.sun.star.uno import Exception as UnoException

XLSX_FILTER = "Calc Office Open XML"
DEFAULT_DATE_FORMAT = "YYYY-MM-DD"
DEFAULT_DATETIME_FORMAT = "YYYY-MM-DD HH:MM:SS"

_A1 = re.compile(r"\$?([A-Za-z]{1,3})\$?([1-9][0-9]{0,6})")
# com.sun.star.sheet.CellFlags: VALUE | DATETIME | STRING | FORMULA
_CLEAR_CONTENT = 1 | 2 | 4 | 16
# com.sun.star.sheet.FormulaResult.VALUE
_FORMULA_RESULT_VALUE = 1
# com.sun.star.document.MacroExecMode.NEVER_EXECUTE / UpdateDocMode.NO_UPDATE
_NEVER_EXECUTE = 0
_NO_UPDATE = 0


class JobError(Exception):
    """A job's spec is invalid or one of its steps failed."""


def _prop(name: str, value) -> PropertyValue:
    """Build a ``PropertyValue`` for UNO calls that take property sequences."""
    prop = PropertyValue()
    prop.Name = name
    prop.Value = value
    return prop


def _describe(exc: BaseException) -> str:
    """Readable one-line description of a Python or UNO exception."""
    message = getattr(exc, "Message", None) or str(exc)
    name = getattr(exc, "typeName", None) or type(exc).__name__
    return f"{name}: {message}"


def connect(pipe: str, timeout: float):
    """Return the remote component context of the soffice listening on ``pipe``.

    Retries until ``timeout`` seconds have passed, so it can be used while
    soffice is still starting.
    """
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext(
        "com.sun.star.bridge.UnoUrlResolver", local
    )
    url = f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext"
    deadline = time.monotonic() + timeout
    while True:
        try:
            return resolver.resolve(url)
        except UnoException as exc:  # NoConnectException while soffice starts
            if time.monotonic() >= deadline:
                raise ConnectionError(
                    f"no LibreOffice on pipe {pipe!r} after {timeout:.0f} s: {_describe(exc)}"
                ) from None
            time.sleep(0.2)


class OwnSoffice:
    """A private soffice started and stopped by this script (no ``--pipe``)."""

    def __init__(self) -> None:
        self.tmpdir = tempfile.mkdtemp(prefix="lo-fill-")
        self.pipe = f"lo_fill_{os.getpid()}_{uuid.uuid4().hex[:10]}"
        profile = uno.systemPathToFileUrl(os.path.join(self.tmpdir, "profile"))
        soffice = shutil.which("soffice") or "/usr/bin/soffice"
        self.proc = subprocess.Popen(
            [
                soffice,
                "--headless",
                "--invisible",
                "--norestore",
                "--nologo",
                "--nodefault",
                "--nolockcheck",
                f"-env:UserInstallation={profile}",
                f"--accept=pipe,name={self.pipe};urp;",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def stop(self) -> None:
        """Terminate soffice's whole process group and remove its profile."""
        for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.proc.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # stragglers in the group
        except ProcessLookupError:
            pass
        shutil.rmtree(self.tmpdir, ignore_errors=True)


class Filler:
    """Runs spec jobs against one connected LibreOffice."""

    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self.smgr = ctx.ServiceManager
        self.desktop = self.smgr.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        self.dispatcher = self.smgr.createInstanceWithContext(
            "com.sun.star.frame.DispatchHelper", ctx
        )
        self._sheets: dict = {}

    # -- documents -----------------------------------------------------------

    def load(self, path: str):
        """Load ``path`` hidden, without running macros or updating links."""
        if not os.path.isfile(path):
            raise JobError(f"source file not found: {path}")
        self._sheets = {}
        doc = self.desktop.loadComponentFromURL(
            uno.systemPathToFileUrl(path),
            "_blank",
            0,
            (
                _prop("Hidden", True),
                _prop("MacroExecutionMode", _NEVER_EXECUTE),
                _prop("UpdateDocMode", _NO_UPDATE),
            ),
        )
        if doc is None or not hasattr(doc, "Sheets"):
            if doc is not None:
                _close(doc)
            raise JobError(f"not loaded as a spreadsheet: {path}")
        return doc

    @staticmethod
    def store(doc, path: str) -> None:
        """Store ``doc`` as xlsx at ``path`` (overwriting)."""
        parent = os.path.dirname(path)
        if parent:
            os.makedirs(parent, exist_ok=True)
        doc.storeToURL(
            uno.systemPathToFileUrl(path),
            (_prop("FilterName", XLSX_FILTER), _prop("Overwrite", True)),
        )

    # -- cells ---------------------------------------------------------------

    def cell(self, doc, sheet_name: str, address: str):
        """Return ``(sheet, cell)`` for a sheet name and an A1 address like ``D6``.

        Sheets are looked up once per document (UNO calls are what a big fill
        spends its time on).
        """
        sheet = self._sheets.get(sheet_name)
        if sheet is None:
            sheets = doc.Sheets
            if not sheets.hasByName(sheet_name):
                raise JobError(f"no sheet named {sheet_name!r}")
            sheet = self._sheets[sheet_name] = sheets.getByName(sheet_name)
        match = _A1.fullmatch(str(address).strip())
        if match is None:
            raise JobError(f"bad cell address {address!r}; expected one cell like D6")
        column = 0
        for letter in match.group(1).upper():
            column = column * 26 + ord(letter) - ord("A") + 1
        try:
            return sheet, sheet.getCellByPosition(column - 1, int(match.group(2)) - 1)
        except UnoException as exc:
            raise JobError(f"cell {address!r} is outside the sheet: {_describe(exc)}") from None

    def write(self, doc, spec: dict) -> str:
        """Apply one cell spec; return its status (``set``, ``typed``, ``refused``)."""
        sheet, cell = self.cell(doc, _required(spec, "sheet"), _required(spec, "cell"))
        if spec.get("typed"):
            if "date" in spec:
                raise JobError("'typed' cannot be combined with 'date'; type the text instead")
            value = spec.get("value")
            if value is None or isinstance(value, bool):
                raise JobError("'typed' needs a string or number 'value'")
            return self.type_into(doc, sheet, cell, str(value))
        if "date" in spec:
            self.write_date(doc, cell, spec["date"], spec.get("format"))
            return "set"
        if "value" not in spec:
            raise JobError("cell spec needs 'value' or 'date'")
        value = spec["value"]
        if value is None:
            cell.clearContents(_CLEAR_CONTENT)
        elif isinstance(value, bool):
            raise JobError("boolean values are not supported; use a number or typed TRUE/FALSE")
        elif isinstance(value, str):
            cell.setString(value)
        elif isinstance(value, (int, float)):
            cell.setValue(value)
        else:
            raise JobError(f"unsupported value type {type(value).__name__}")
        return "set"

    @staticmethod
    def write_date(doc, cell, text: str, fmt: str | None) -> None:
        """Write an ISO date (or date-time) as a serial with a date format."""
        try:
            when = dt.datetime.fromisoformat(str(text))
        except ValueError:
            raise JobError(f"bad date {text!r}; use YYYY-MM-DD[THH:MM[:SS]]") from None
        has_time = "T" in str(text) or " " in str(text).strip()
        null = doc.NullDate
        epoch = dt.datetime(null.Year, null.Month, null.Day)
        serial = (when.replace(tzinfo=None) - epoch) / dt.timedelta(days=1)
        cell.setValue(serial)
        fmt = fmt or (DEFAULT_DATETIME_FORMAT if has_time else DEFAULT_DATE_FORMAT)
        formats = doc.NumberFormats
        locale = uno.createUnoStruct("com.sun.star.lang.Locale")
        key = formats.queryKey(fmt, locale, False)
        if key == -1:
            key = formats.addNew(fmt, locale)
        cell.NumberFormat = key

    def type_into(self, doc, sheet, cell, text: str) -> str:
        """Enter ``text`` as a user typing into ``cell``; detect a refusal.

        LibreOffice gives no usable result for the dispatch, so a refusal is
        recognised by the content being unchanged while the cell is locked on
        a protected sheet.
        """
        before = (cell.getType().value, cell.getFormula())
        controller = doc.getCurrentController()
        controller.setActiveSheet(sheet)
        controller.select(cell)
        self.dispatcher.executeDispatch(
            controller.getFrame(), ".uno:EnterString", "", 0, (_prop("StringName", text),)
        )
        after = (cell.getType().value, cell.getFormula())
        if after == before and sheet.isProtected() and cell.CellProtection.IsLocked:
            return "refused"
        return "typed"

    def read(self, doc, spec: dict) -> dict:
        """Describe one cell after recalculation."""
        sheet_name, address = _required(spec, "sheet"), _required(spec, "cell")
        _, cell = self.cell(doc, sheet_name, address)
        kind = cell.getType().value
        numeric = kind == "VALUE" or (
            kind == "FORMULA" and cell.FormulaResultType2 == _FORMULA_RESULT_VALUE
        )
        return {
            "sheet": sheet_name,
            "cell": address,
            "string": cell.getString(),
            "value": cell.getValue() if numeric else None,
            "type": kind,
            "formula": cell.getFormula(),
            "error": cell.getError(),
        }

    # -- jobs ----------------------------------------------------------------

    def run_job(self, job: dict) -> dict:
        """Run one job; never raises for job-level problems."""
        result: dict = {"src": job.get("src"), "ok": False}
        if job.get("dst"):
            result["dst"] = job["dst"]
        doc = None
        try:
            if not isinstance(job, dict):
                raise JobError("a job must be an object")
            src = os.path.abspath(_required(job, "src"))
            dst = os.path.abspath(job["dst"]) if job.get("dst") else None
            reads = job.get("read") or []
            cells = job.get("cells") or []
            if dst is None and not reads:
                raise JobError("a job needs 'dst', 'read' or both")
            doc = self.load(src)
            statuses = []
            for spec in cells:
                try:
                    status = self.write(doc, spec)
                except JobError as exc:
                    raise JobError(f"{spec.get('sheet')}!{spec.get('cell')}: {exc}") from None
                statuses.append({"sheet": spec["sheet"], "cell": spec["cell"], "status": status})
            result["cells"] = statuses
            result["refused"] = [
                {"sheet": s["sheet"], "cell": s["cell"]}
                for s in statuses
                if s["status"] == "refused"
            ]
            doc.calculateAll()
            if reads:
                result["read"] = [self.read(doc, spec) for spec in reads]
            if dst is not None:
                self.store(doc, dst)
            result["ok"] = True
        except JobError as exc:
            result["error"] = str(exc)
        except (UnoException, OSError) as exc:  # report them against the job
            result["error"] = _describe(exc)
            traceback.print_exc(file=sys.stderr)
        finally:
            if doc is not None:
                _close(doc)
        return result

    def run(self, jobs: list) -> dict:
        """Run every job; the overall result is ok only if each job is."""
        results = [self.run_job(job) for job in jobs]
        return {"ok": all(r["ok"] for r in results), "jobs": results}


def _required(mapping: dict, key: str):
    """Return ``mapping[key]`` or raise a ``JobError`` naming the key."""
    if not isinstance(mapping, dict) or mapping.get(key) in (None, ""):
        raise JobError(f"missing {key!r}")
    return mapping[key]


def _close(doc) -> None:
    """Close a document without saving, falling back to ``dispose``."""
    try:
        doc.close(True)
    except UnoException:
        with contextlib.suppress(UnoException):
            doc.dispose()


def _read_spec(path: str) -> list:
    """Read the spec file (or stdin for ``-``) and return its job list."""
    if path == "-":
        spec = json.load(sys.stdin)
    else:
        with open(path, encoding="utf-8") as handle:
            spec = json.load(handle)
    jobs = spec.get("jobs") if isinstance(spec, dict) else None
    if not isinstance(jobs, list):
        raise TypeError("spec must be an object with a 'jobs' list")
    return jobs


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spec", nargs="?", help="spec JSON file, or - for stdin")
    parser.add_argument("--pipe", help="name of the pipe a running soffice accepts on")
    parser.add_argument(
        "--connect-timeout",
        type=float,
        default=60.0,
        help="seconds to keep retrying the connection (default 60)",
    )
    parser.add_argument("--ping", action="store_true", help="only check the connection")
    args = parser.parse_args(argv)
    if not args.ping and not args.spec:
        parser.error("a spec file is needed unless --ping is given")

    try:
        jobs = [] if args.ping else _read_spec(args.spec)
    except (OSError, ValueError, TypeError) as exc:
        print(f"lo_fill: cannot read spec: {exc}", file=sys.stderr)
        return 2

    own = None if args.pipe else OwnSoffice()
    try:
        ctx = connect(args.pipe or own.pipe, args.connect_timeout)
        outcome = Filler(ctx).run(jobs)
    except (ConnectionError, UnoException) as exc:
        print(f"lo_fill: {_describe(exc)}", file=sys.stderr)
        return 2
    finally:
        if own is not None:
            own.stop()
    json.dump(outcome, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0 if outcome["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())

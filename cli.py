"""The ``sequin`` command line: parses options, calls one engine function, shows the result.

Exit codes: 0 success / valid, 1 invalid return or engine error, 2 usage error.
"""

from __future__ import annotations

import errno
import functools
import json
import logging
import os
import sqlite3
import sys
from pathlib import Path

import click

from engine.errors import SequinError, UsageError
from engine.numbers import percent_text

_HOME_KEY = "sequin.home"  # where the command's home is kept in click's context, for error messages


def _fail(ctx, message: str, hint: str = "", code: int = 1):
    click.echo(f"Error: {message}", err=True)
    if hint:
        click.echo(f"Hint: {hint}", err=True)
    ctx.exit(code)


def _silence_stdout() -> None:
    """After a broken pipe (``sequin status ... | head -1``): send what is left to nowhere.

    As the Python documentation recommends, so that the interpreter's last
    flush does not fail with a second error.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


class _Group(click.Group):
    """Turns engine errors into one ``Error: ...`` line with a hint, in one place."""

    def invoke(self, ctx):
        try:
            try:
                return super().invoke(ctx)
            finally:
                if (
                    sys.stdout is not None
                ):  # here, so that a closed pipe is met while errors are handled
                    sys.stdout.flush()
        except BrokenPipeError:
            _silence_stdout()
            ctx.exit(1)
        except UsageError as exc:
            _fail(ctx, str(exc), exc.hint, code=2)
        except SequinError as exc:
            _fail(ctx, str(exc), exc.hint)
        except sqlite3.Error as exc:
            from engine.home import LEDGER_FILE, ledger_error

            error = ledger_error(self._home(ctx) / LEDGER_FILE, exc)
            _fail(ctx, str(error), error.hint)
        except OSError as exc:
            where = Path(exc.filename) if exc.filename else None
            if exc.errno == errno.ENOSPC:
                folder = where.parent if where else self._home(ctx)
                _fail(
                    ctx,
                    f"the disk holding {folder} is full",
                    "Free some space on that disk, then run the command again.",
                )
            what = exc.strerror or str(exc)
            if isinstance(exc, PermissionError):
                hint = "Check that you may read and write there (and that no other program holds the file)."
            elif isinstance(exc, FileNotFoundError):
                hint = "Check the path, and that the folder (or network share) is there."
            else:
                hint = "Check that the folder is there and that you may write to it."
            _fail(ctx, f"{what}: {where}" if where else what, hint)

    @staticmethod
    def _home(ctx) -> Path:
        return ctx.meta.get(_HOME_KEY) or Path.cwd()


def _check_period(ctx, param, value):
    from engine.home import check_period

    return value if value is None else check_period(value)


home_option = click.option(
    "--home",
    "home_dir",
    type=click.Path(path_type=Path),
    envvar="SEQUIN_HOME",
    default=".",
    show_default="SEQUIN_HOME or the current folder",
    help="The network home (holds network.toml, inbox/, outbox/, the ledger and the secret).",
)


def home_options(func=None, *, new_ok: bool = False):
    """``--home`` and ``--allow-open-secret``, shared by every command.

    The folder must be a home (nothing is created); with ``new_ok`` (the demo)
    a folder that does not exist yet or is empty is taken as a new home.
    """

    def decorate(func):
        @home_option
        @click.option(
            "--allow-open-secret",
            is_flag=True,
            hidden=False,
            help="Run even if other users can read the signing secret.",
        )
        @functools.wraps(func)
        def wrapper(*args, home_dir: Path, allow_open_secret: bool, **kwargs):
            from engine.home import open_home

            click.get_current_context().meta[_HOME_KEY] = home_dir.absolute()
            home = open_home(home_dir, allow_open_secret=allow_open_secret, new_ok=new_ok)
            return func(*args, home=home, **kwargs)

        return wrapper

    return decorate(func) if func is not None else decorate


json_option = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
period_option = click.option(
    "--period",
    required=True,
    metavar="YYYY-MM",
    callback=_check_period,
    help="The month, e.g. 2026-11.",
)


def _on_ledger(home, func, *args, **kwargs):
    """Call ``func(home, ledger, ...)`` with the home's ledger open, and close it after."""
    ledger = home.open_ledger()
    try:
        return func(home, ledger, *args, **kwargs)
    finally:
        ledger.close()


def _print_json(data) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="sequin-engine")
def main():
    """SeQuIn: generate unit workbooks, take in returns, score and benchmark them."""
    # A file name that is not valid UTF-8 (or a console that is not) must never turn a
    # message into a traceback: such characters are shown escaped instead.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            try:
                stream.reconfigure(errors="backslashreplace")
            except (ValueError, OSError):
                pass


@main.command()
@click.argument("directory", required=False, type=click.Path(path_type=Path))
@click.option(
    "--home",
    "home_dir",
    type=click.Path(path_type=Path),
    envvar="SEQUIN_HOME",
    default=".",
    help="Same as DIRECTORY.",
)
def init(directory: Path | None, home_dir: Path):
    """Create a home: network.toml with the default network, inbox/, outbox/ and a secret.

    The only command that makes a home (besides the demo in a new folder);
    in an existing home it keeps what is there.
    """
    from engine.home import init_home

    root = directory or home_dir
    click.get_current_context().meta[_HOME_KEY] = root.absolute()
    home = init_home(root)
    click.echo(f"Home ready in {home.root}")
    click.echo(f"  config: {home.config_path.name}   inbox: inbox/   outbox: outbox/")
    click.echo("  signing secret created (readable by you only; keep it out of email and git)")


@main.command()
@period_option
@click.option("--unit", "units", multiple=True, metavar="CODE", help="Only this unit (repeatable).")
@json_option
@home_options
def generate(home, period: str, units: tuple[str, ...], as_json: bool):
    """Write the month's workbooks, one per unit, into the outbox."""
    from engine.generation import generate as run
    from engine.home import check_units

    check_units(home.network, units)
    paths = run(home, period, list(units) or None)
    if as_json:
        _print_json({"period": period, "workbooks": [str(p) for p in paths]})
    else:
        for p in paths:
            click.echo(str(p))
        click.echo(
            f"{len(paths)} workbook(s) for {period}. Email each unit its own file.", err=True
        )


def _minute(iso: str) -> str:
    """``2026-12-07T09:05:31+00:00`` as ``2026-12-07 09:05`` (UTC, as the ledger keeps it)."""
    return iso[:16].replace("T", " ")


def _arrived_saved(held: dict) -> str:
    """When a held return arrived (first seen in the inbox) and, if known, when it was saved."""
    saved = held.get("saved_at")
    return f"arrived {_minute(held['received_at'])}" + (
        f", saved {_minute(saved)}" if saved else ""
    )


def _print_findings(findings) -> None:
    for f in findings:
        click.echo(f"  {f.severity.upper():7} {f.code}  [{f.where}]  {f.message}")


def _print_scores(scores, bank) -> None:
    if scores is None:
        return
    overall = scores.overall_percent
    click.echo(f"  overall {percent_text(overall)} {scores.overall_rag}")
    for area in bank.areas:
        a = scores.areas[area.id]
        pct = percent_text(a.percent)
        click.echo(
            f"  {area.id}  {pct:>7}  {a.rag or '':6} {a.answered}/{a.total}"
            f"{'' if a.complete else '  incomplete'}"
        )


@main.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@json_option
@home_options
def validate(home, file: Path, as_json: bool):
    """Check one return and show findings and scores. Records nothing."""
    from engine.pipeline import Intake

    if not file.exists():
        raise SequinError(f"no such file: {file}")
    with Intake(home) as intake:
        v = intake.validate(file)
        ret = v.ret
        result = {
            "file": str(file),
            "valid": v.valid,
            "unit": ret.unit if ret else None,
            "period": ret.period if ret else None,
            "bank_version": ret.bank_version if ret else None,
            "findings": [f.to_dict() for f in v.findings],
            "scores": v.scores.to_dict() if v.scores else None,
        }
        family = getattr(ret, "form", "").startswith("family/")
        if family:  # a family and friends response: its answers, no scores
            result["kind"] = "family"
            result["answers"] = [
                {"area": a.area_id, "agree": a.agree, "comment": bool(a.comment)}
                for a in ret.answers
            ]
        if as_json:
            _print_json(result)
        else:
            state = "VALID" if v.valid else "NOT VALID"
            click.echo(
                f"{file.name}: {state}"
                + (f"  (unit {ret.unit}, {ret.period}, bank {ret.bank_version})" if ret else "")
            )
            _print_findings(v.findings)
            if family:
                click.echo("  family and friends response:")
                for a in ret.answers:
                    said = " (comment written)" if a.comment else ""
                    click.echo(f"  {a.area_id}  {a.agree or 'no answer'}{said}")
            elif ret is not None and v.scores is not None:
                _print_scores(v.scores, intake.banks[ret.bank_version])
    sys.exit(0 if v.valid else 1)


def _refresher(home):
    """The function that rebuilds a period's outputs, if the reports are available."""
    from engine.outputs import refresh_outputs

    return functools.partial(refresh_outputs, home)


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--no-outputs",
    is_flag=True,
    help="Record the files but leave the month's outputs to be rebuilt later (sequin report).",
)
@json_option
@home_options
def process(home, files: tuple[Path, ...], no_outputs: bool, as_json: bool):
    """Take files through the same path as the watcher and record the outcomes.

    The files go in as one batch; then each month they changed has its outputs rebuilt,
    with the time it took on its own line, unless --no-outputs leaves that to
    ``sequin report``.
    """
    import time

    from engine.pipeline import Intake
    from engine.watcher import describe

    for f in files:
        if not f.exists():
            raise SequinError(f"no such file: {f}")
    unique = list(dict.fromkeys(files))  # a file named twice is taken once
    rebuilt = []
    with Intake(home) as intake:
        intake.recover()
        outcomes = intake.process_many(list(unique))  # one batch: one commit for all the files
        if not as_json:
            for o in outcomes:
                click.echo(describe(o))
        periods = sorted(intake.ledger.dirty_periods())
        refresh = None if no_outputs or not periods else _refresher(home)
        for period in periods:
            if refresh is None:
                if not as_json:
                    click.echo(
                        f"outputs not rebuilt for {period} "
                        f"(sequin report --period {period} rebuilds them)"
                    )
                continue
            started = time.perf_counter()
            paths = refresh([period], ledger=intake.ledger)
            seconds = time.perf_counter() - started
            rebuilt.append({"period": period, "seconds": round(seconds, 3), "files": len(paths)})
            if not as_json:
                click.echo(f"outputs rebuilt for {period} in {seconds:.1f} s")
    if as_json:
        _print_json({"outcomes": [o.to_dict() for o in outcomes], "outputs": rebuilt})
    sys.exit(0 if all(o.outcome != "rejected" for o in outcomes) else 1)


class _LogHandler(logging.StreamHandler):
    """The watcher's log on stdout; a closed pipe silences it instead of printing tracebacks."""

    def handleError(self, record):
        if isinstance(sys.exc_info()[1], BrokenPipeError):
            _silence_stdout()
        else:
            super().handleError(record)


@main.command()
@click.option(
    "--poll",
    type=float,
    default=None,
    metavar="SECONDS",
    help="Poll the folder every SECONDS instead of native events (for network shares).",
)
@click.option("--once", is_flag=True, help="Process what is in the inbox now, then exit.")
@home_options
def watch(home, poll: float | None, once: bool):
    """Watch the inbox and process every file that arrives (Ctrl+C to stop)."""
    from engine.watcher import Watcher, open_intake

    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(message)s",
        datefmt="%Y-%m-%d %H:%M:%S",
        handlers=[_LogHandler(sys.stdout)],
    )
    log = logging.getLogger("sequin.watch")
    with open_intake(home, role="" if once else "watch") as intake:
        refresh = _refresher(home)
        watcher = Watcher(
            intake,
            poll=poll,
            refresh=lambda periods: refresh(periods, ledger=intake.ledger),
            background_refresh=not once,
        )
        if not once:
            mode = f"polling every {poll:g} s" if poll else "native events"
            log.info(f"watching {intake.home.inbox} ({mode}); Ctrl+C to stop")
        try:
            watcher.run(once=once)
        except KeyboardInterrupt:
            log.info("stopped")
        if once:
            log.info(f"{watcher.processed} file(s) processed")


@main.command()
@period_option
@json_option
@home_options
def status(home, period: str, as_json: bool):
    """Each unit by code and name: returned, rejected, held or missing, with days overdue."""
    from engine.status import headline, period_status

    home.ensure_folders()
    data = _on_ledger(home, period_status, period)
    if as_json:
        _print_json(data)
        return
    if data["warning"]:
        click.echo(f"Warning: {data['warning']}.", err=True)
    click.echo(headline(data))
    for u in data["units"]:
        label = f"  {u['unit']:5} {u['name'][:24]:24}"
        late = f"  {u['days_overdue']} day(s) overdue" if u.get("days_overdue") else ""
        if u["status"] == "returned":
            pct = u["overall_percent"]
            click.echo(
                f"{label} returned  {percent_text(pct)} {u['overall_rag']}"
                f"  (received {u['received_at'][:10]})"
            )
            if u.get("later_rejected"):
                click.echo(
                    f"{'':32} a later file was rejected: {u['later_rejected']} (see the inbox)"
                )
        elif u["status"] == "rejected":
            why = "; ".join(w["code"] for w in u["why"])
            click.echo(f"{label} rejected  {u['file']}: {why}{late}")
            click.echo(f"{'':32} what to do: {u['what_to_do']}  (report: {u['problems_report']})")
        elif u["status"] == "held":
            click.echo(f"{label} held      nothing counted yet{late}")
        else:
            click.echo(f"{label} missing{late}")
        for h in u.get("held", []):
            why = "held: the month was closed" if h["why"] == "closed-month" else "an older save"
            click.echo(
                f"{'':32} kept, NOT counted ({why}; {_arrived_saved(h)}): {h['file']}; "
                f"to count it: {h['release']}"
            )
        if u.get("family_responses"):
            click.echo(f"{'':32} family and friends: {u['family_responses']} response(s) counted")
        for h in u.get("family_held", []):
            click.echo(
                f"{'':32} family and friends response kept, NOT counted (held: the month was "
                f"closed; {_arrived_saved(h)}): {h['file']}; to count it: {h['release']}"
            )
    for f in data["unidentified_rejected_files"]:
        click.echo(f"  rejected file not from any unit: {f['file']}  (report: {f['report']})")


@main.command()
@period_option
@json_option
@home_options
def chase(home, period: str, as_json: bool):
    """Who to chase for a month, by name, with days overdue; also written as a CSV for mail merge.

    Before the due date has passed nothing is overdue: it lists who has not sent yet.
    A month whose workbooks were never generated is refused.
    """
    from engine.status import chase_list

    home.ensure_folders()
    data = _on_ledger(home, chase_list, period)
    if as_json:
        _print_json(data)
        return
    if not data["units"]:
        click.echo(f"{data['month']}: every unit's return is in. Nobody to chase.")
    else:
        if data["overdue"]:
            click.echo(
                f"{data['month']} returns were due {data['due_date']}, "
                f"{data['days_overdue']} day(s) overdue. To chase:"
            )
        else:
            days = data["due_in_days"]
            when = "today" if not days else f"in {days} day(s)"
            click.echo(
                f"{data['month']} returns are due {data['due_date']} ({when}): nothing is "
                "overdue yet. Not sent yet:"
            )
        for u in data["units"]:
            click.echo(
                f"  {u['name']} ({u['unit']}): {u['status']}. {u['what_is_needed']}"
                + (f" (problems report: {u['problems_report']})" if u["problems_report"] else "")
            )
    click.echo(f"For mail merge: {data['csv']}")


@main.command("returns")
@click.option("--unit", default=None, metavar="CODE", help="Only this unit.")
@click.option(
    "--period", default=None, metavar="YYYY-MM", callback=_check_period, help="Only this month."
)
@json_option
@home_options
def returns_cmd(home, unit: str | None, period: str | None, as_json: bool):
    """List every file taken in: when, outcome, and where the file is now."""
    from engine.status import returns_listing

    data = _on_ledger(home, returns_listing, unit, period)
    rows = data["returns"]
    if as_json:
        _print_json(data)
        return
    if data["warning"]:
        click.echo(f"Warning: {data['warning']}.", err=True)
    if not rows:
        click.echo(
            "No files recorded"
            + (f" for {unit}" if unit else "")
            + (f" in {period}" if period else "")
            + "."
        )
    for r in rows:
        pct = percent_text(r["overall_percent"], missing="")
        pct = f" {pct}" if pct else ""
        # Kept, not counted: when the unit saved it matters beside when it arrived.
        saved = r["saved_at"] if r["state"].startswith(("held", "kept")) else None
        click.echo(
            f"#{r['id']:<5} {_minute(r['arrived_at'])}  {r['unit'] or '-':5} "
            f"{r['period'] or '-':7}  {r['state']}{pct}  {r['file']}"
            + (f"  (saved {_minute(saved)})" if saved else "")
        )
        click.echo(f"{'':8}-> {r['where']}")


@main.command()
@period_option
@click.option("--reopen", is_flag=True, help="Open a closed month again.")
@click.option(
    "--force",
    is_flag=True,
    help="Close a month that was never generated, or whose due date has not passed.",
)
@json_option
@home_options
def close(home, period: str, reopen: bool, force: bool, as_json: bool):
    """Close a month once its outputs are shared: later returns are held until released.

    A month that was never generated, or whose due date has not passed yet, is
    closed only with --force.
    """
    from engine.status import close_month

    data = _on_ledger(home, close_month, period, reopen=reopen, force=force)
    if as_json:
        _print_json(data)
        return
    c = data["counts"]
    if reopen:
        click.echo(
            f"{data['month']} is open again. Returns and family and friends responses for it are "
            f"counted as they arrive; those held while it was closed still need 'sequin release'."
        )
    else:
        click.echo(
            f"{data['month']} is closed ({c['returned']} returned, {c['missing']} missing, "
            f"{c['rejected']} rejected). Returns and family and friends responses for it that "
            f"arrive now are held, not counted, until you run 'sequin release FILE'."
        )
        if data["outputs_pending"]:
            click.echo(
                "Note: its outputs are not up to date yet; run 'sequin report --period "
                f"{period}' before sharing them."
            )


@main.command()
@click.argument("file")
@json_option
@home_options
def release(home, file: str, as_json: bool):
    """Count a return that was kept but not counted (an older save), instead of the one counted.

    Also counts a family and friends response held because its month was closed.
    FILE is the returned workbook (any copy of it) or the name it arrived under,
    as its receipt shows.
    """
    from engine.release import release as run

    ledger = home.open_ledger()
    try:
        result = run(home, ledger, file)
        result["outputs"] = _rebuild_after(home, ledger, result["period"])
    finally:
        ledger.close()
    if as_json:
        _print_json(result)
        return
    r = result["released"]
    if result.get("kind") == "family":
        click.echo(
            f"{r['file']} is now counted as a family and friends response for {result['unit']}, "
            f"{result['month']} ({result['responses_counted']} counted for that month)."
        )
        click.echo(f"Outputs: {result['outputs']}")
        return
    if result["already_counted"]:
        click.echo(
            f"{r['file']} is already the return counted for {result['unit']}, {result['month']}."
        )
        return
    pct = percent_text(r["overall_percent"])
    click.echo(
        f"{r['file']} is now counted for {result['unit']}, {result['month']} (overall {pct})."
    )
    if result["replaced"]:
        click.echo(f"It replaces {result['replaced']['file']}, which stays in the history.")
    if result.get("receipt"):
        click.echo(f"Its receipt: {result['receipt']}")
    click.echo(f"Outputs: {result['outputs']}")


def _rebuild_after(home, ledger, period: str) -> str:
    """Rebuild the months a change marked, and say truthfully what happened to their outputs.

    Only a running watcher rebuilds marked months on its own; when any other
    command holds the home, or a rebuild fails, the lead is told to run
    ``sequin report``.
    """
    from engine.lock import HomeLock, holder

    periods = sorted(ledger.dirty_periods()) or [period]
    again = " and ".join(f"sequin report --period {p}" for p in periods)
    lock = HomeLock(home.root)
    try:
        lock.acquire()
    except SequinError:
        if holder(home.root) == "watch":
            return "the running watcher rebuilds them within a minute."
        return (
            f"NOT rebuilt: another sequin command is working in this home. When it has "
            f"finished, run:  {again}"
        )
    try:
        if ledger.dirty_periods():
            _refresher(home)(sorted(ledger.dirty_periods()), ledger=ledger)
    except Exception as exc:  # noqa: BLE001 - the change is recorded; outputs can be rebuilt
        return f"NOT rebuilt ({exc}). Close any output open in Excel, then run:  {again}"
    finally:
        lock.release()
    if ledger.dirty_periods():
        return f"NOT all rebuilt (an output is open in Excel?). Close it, then run:  {again}"
    return "rebuilt."


@main.command()
@period_option
@json_option
@home_options
def report(home, period: str, as_json: bool):
    """Rebuild every output of a month from the ledger.

    A month with no returns whose workbooks were never generated is refused.
    """
    from engine.outputs import refresh_outputs
    from engine.status import check_reportable

    home.ensure_folders()
    ledger = home.open_ledger()
    try:
        check_reportable(home, ledger, period)
        paths = refresh_outputs(home, [period], ledger=ledger)
    finally:
        ledger.close()
    if as_json:
        _print_json({"period": period, "outputs": [str(p) for p in paths]})
    else:
        for p in paths:
            click.echo(str(p))


@main.command()
@click.option(
    "--months",
    type=click.IntRange(1, 36),
    default=14,
    show_default=True,
    help="How many months of synthetic returns to take in.",
)
@home_options(new_ok=True)
def demo(home, months: int):
    """Run the whole cycle on the default network with synthetic returns.

    Runs in a home, or makes one in a folder that does not exist yet or is empty.
    """
    from engine.demo import run_demo
    from engine.watcher import describe

    result = run_demo(home, months=months, on_outcome=lambda o: click.echo(describe(o)))
    family = [o for o in result.outcomes if o.kind == "family"]
    returns = [o for o in result.outcomes if o.kind != "family"]
    accepted = sum(o.outcome == "accepted" for o in returns)
    rejected = sum(o.outcome == "rejected" for o in returns)
    last = result.periods[-1]
    click.echo("")
    click.echo(
        f"Demo done: {len(result.periods)} months ({result.periods[0]} to {last}), "
        f"{accepted} returns accepted, {rejected} rejected; "
        f"{sum(o.outcome == 'accepted' for o in family)} family and friends responses."
    )
    if result.essential:
        unit, std = result.essential.split()
        click.echo(
            f"In {last}, unit {unit} rated the essential standard {std} Not met in an area "
            f"that is Green overall, and most of its families disagree with that area: see "
            f"its feedback (feedback/) and the commissioner summary."
        )
    if result.held:
        click.echo(
            f"The months before {last} were closed; {result.held} arrived late and is held "
            f'(sequin release "{result.held}" would count it).'
        )
    click.echo("Where to look:")
    click.echo(f"  unit workbooks to send:  {home.outbox / last / 'workbooks'}")
    click.echo(f"  family and friends forms: {home.outbox / last / 'family'}")
    click.echo(f"  what needs you:          {home.inbox}  (rejected files, held returns)")
    click.echo(f"  returns by month, unit:  {home.root / 'returns'}")
    click.echo(f"  network benchmark:       {home.outbox / last}")
    click.echo(f"  who has returned:        sequin status --period {last}")
    click.echo(f"  who to chase:            sequin chase --period {last}")


@main.command()
@json_option
@home_option
def doctor(home_dir: Path, as_json: bool):
    """Check a home: ledger, archive hashes, secret fingerprint, folders, disk space.

    Says what to do about each problem. Exit code 0 when there is no problem
    (warnings allowed), 1 otherwise.
    """
    from engine.doctor import check_home

    click.get_current_context().meta[_HOME_KEY] = home_dir.absolute()
    result = check_home(home_dir)
    if as_json:
        _print_json(result.to_dict())
    else:
        click.echo(f"Checking the home {result.home}")
        for c in result.checks:
            label = "PROBLEM" if c.status == "problem" else c.status
            click.echo(f"  {label:8} {c.name:10} {c.message}")
            if c.action:
                click.echo(f"  {'':8} {'':10} what to do: {c.action}")
        click.echo(result.summary)
    sys.exit(0 if result.healthy else 1)


if __name__ == "__main__":  # pragma: no cover
    main()

"""A month as the lead follows it: who has returned, who is late, what is held, who to chase.

Days overdue count from the month's due date (``[returns] due_day`` in
``network.toml``; the 10th of the following month by default). "Today" is the
machine's date, or ``SEQUIN_TODAY`` (``YYYY-MM-DD``) when set, so that a
month can be replayed. A return was received when the engine first saw it in
the inbox (``received_at``, ``arrived_at``; see :mod:`engine.sightings`),
never at its file's modification time; ``saved_at`` is when the unit saved it,
as the workbook records.

A month is *sent out* once ``sequin generate`` wrote its workbooks (recorded in
the ledger with the due date they show), or, in a home from before months were
recorded, once any return for it was accepted or ``outbox/YYYY-MM/workbooks/``
holds its workbooks. A month that was not is named as such: ``status`` and
``returns`` warn, ``chase`` and ``report`` refuse, and ``close`` refuses it (and a
month whose due date has not passed) unless forced.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from .catalogue import lookup
from .errors import SequinError, UsageError
from .files import write_atomic
from .filing import RETURNS, report_of
from .home import PERIOD, Home, check_period
from .ledger import Ledger
from .outputs.csv_files import to_csv
from .receipts import month_words

STATUSES = ("returned", "rejected", "held", "missing")


def today() -> dt.date:
    """Today's date, or ``SEQUIN_TODAY`` when set (to replay a month)."""
    value = os.environ.get("SEQUIN_TODAY", "").strip()
    if value:
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise UsageError(
                f"SEQUIN_TODAY={value!r} is not a date", hint="Write it as YYYY-MM-DD, or unset it."
            ) from None
    return dt.date.today()


@dataclass(frozen=True)
class Month:
    """What the home knows of a month: whether its workbooks were sent out, and when returns
    for it are due."""

    period: str
    sent: bool  # generated here, or a return for it accepted, or its workbooks in the outbox
    newest: str | None  # the newest month sent out in the home (None: none yet)
    due: dt.date  # the due date its workbooks show (the network's rule if not recorded)

    @property
    def warning(self) -> str:
        """A sentence saying that no workbooks were sent for the month (``""`` once they were)."""
        if self.sent:
            return ""
        if self.newest is None:
            return (
                "no month has been generated in this home yet: no workbooks have been sent "
                f"for {self.period}"
            )
        if self.period > self.newest:
            return (
                f"{self.period} is after the newest month generated ({self.newest}): "
                "no workbooks have been sent for it"
            )
        return (
            f"{self.period} was not generated in this home (the newest month generated is "
            f"{self.newest}): no workbooks for it are on record"
        )

    def hint(self, instead: str) -> str:
        """What to do instead of working on a month not sent out: generate it, or ``instead``
        (a command, ``{period}`` standing for the newest month sent out)."""
        text = f"Generate its workbooks first (sequin generate --period {self.period})"
        if self.newest:
            text += f", or use the newest month sent out: {instead.format(period=self.newest)}"
        return text + "."


def month_of(home: Home, ledger: Ledger, period: str) -> Month:
    """Whether ``period``'s workbooks were sent out, the newest month that was, and its due date.

    A handful of indexed lookups and one listing of ``outbox/``: cheap at any size.
    """
    recorded = ledger.generated_due_date(period)
    sent = (
        recorded is not None
        or ledger.has_returns(period)
        or _has_workbooks(home.outbox / period / "workbooks")
    )
    newest = max(
        (p for p in (ledger.newest_sent_period(), _newest_in_outbox(home)) if p), default=None
    )
    due = dt.date.fromisoformat(recorded) if recorded else home.network.due_date(period)
    return Month(period, sent, newest, due)


def _has_workbooks(folder: Path) -> bool:
    try:
        with os.scandir(folder) as entries:
            return any(e.name.endswith(".xlsx") and e.is_file() for e in entries)
    except OSError:
        return False


def _newest_in_outbox(home: Home) -> str | None:
    """The newest month whose ``outbox/YYYY-MM/workbooks/`` holds workbooks (older homes)."""
    try:
        names = os.listdir(home.outbox)
    except OSError:
        return None
    for name in sorted((n for n in names if PERIOD.match(n)), reverse=True):
        if _has_workbooks(home.outbox / name / "workbooks"):
            return name
    return None


def day_words(day: dt.date) -> str:
    """``2026-12-10`` as ``10 December 2026``."""
    return f"{day.day} {month_words(day.isoformat()[:7])}"


def _where(home: Home, drop) -> str:
    """Where the lead finds a drop's report, relative to the home."""
    if drop["filed_as"]:
        return (
            report_of(home.root / drop["filed_as"], drop["outcome"])
            .relative_to(home.root)
            .as_posix()
        )
    outside = _outside(home, drop)
    if outside:
        return str(Path(outside).parent / drop["report_name"])
    return f"inbox/{drop['report_name']}"


def _outside(home: Home, drop) -> str:
    """The path of a file given to ``sequin process`` from outside the inbox, else ``""``."""
    try:
        source = drop["source"]
    except (IndexError, KeyError):  # a row without it
        source = None
    if not source:
        return ""
    path = Path(os.fsdecode(source))
    return "" if path.parent == home.inbox else str(path)


def period_status(home: Home, ledger: Ledger, period: str, on: dt.date | None = None) -> dict:
    """Per unit, by code and name: ``returned``, ``rejected``, ``held`` or ``missing``.

    - returned: when, the scores, and where the file is; ``held`` lists returns
      kept but not counted (an older save, or one held because the month was
      closed before it was taken in), each with when it arrived, when the unit
      saved it, and the command that counts it;
    - rejected: why, what to do, and where the problems report is;
    - held: nothing counted, but a return is held (the month was closed);
    - missing: nothing received.
    Units not counted yet carry ``days_overdue`` once the due date has passed.
    Every unit also carries ``family_responses`` (family and friends responses
    counted for the month) and ``family_held`` (responses held because the
    month was closed before they were taken in, each with the command that
    counts it); they do not change the unit's status, which is about its own return.
    ``sent`` says whether the month's workbooks were sent out (see :func:`month_of`),
    ``warning`` names a month that was not, and ``due_date`` is the date its
    workbooks show.

    ``counts`` counts units by status (together, every unit once). ``files`` counts
    the files listed beside them: returns ``held`` because the month was closed,
    ``older_saves`` kept but not counted, ``later_rejected`` files of units whose
    earlier return still counts, ``unidentified_rejected`` files not from any unit,
    and family and friends responses counted (``family_counted``) and held
    (``family_held``). :func:`headline` says them all.
    """
    check_period(period)
    on = on or today()
    network = home.network
    month = month_of(home, ledger, period)
    due = month.due
    overdue = max(0, (on - due).days)
    current = {r["unit"]: r for r in ledger.current_returns(period)}
    latest = {r["unit"]: r for r in ledger.latest_drops(period)}
    family = dict(ledger.response_totals(period))
    family_held: dict[str, list[dict]] = {}
    for r in ledger.held_responses(period):
        family_held.setdefault(r["unit"], []).append(
            {
                "file": r["original_name"],
                "response_id": r["id"],
                "received_at": r["received_at"],
                "why": r["held"],
                "release": f'sequin release "{r["original_name"]}"',
            }
        )
    held: dict[str, list[dict]] = {}
    for r in ledger.held_returns(period):
        held.setdefault(r["unit"], []).append(
            {
                "file": r["original_name"],
                "return_id": r["id"],
                "received_at": r["received_at"],
                "saved_at": r["saved_at"],
                "overall_percent": r["overall_percent"],
                "overall_rag": r["overall_rag"],
                "why": r["held"],
                "release": f'sequin release "{r["original_name"]}"',
            }
        )
    units = []
    for u in network.units:
        entry: dict = {
            "unit": u.code,
            "name": u.name,
            "status": "missing",
            "held": held.get(u.code, []),
            "family_responses": family.get(u.code, 0),
            "family_held": family_held.get(u.code, []),
        }
        if u.code in current:
            r = current[u.code]
            areas = {
                a["area_id"]: {
                    "percent": a["percent"],
                    "rag": a["rag"],
                    "complete": bool(a["complete"]),
                }
                for a in ledger.area_scores_of(r["id"])
            }
            first = ledger.first_drop_of_return(r["id"])
            entry.update(
                status="returned",
                received_at=r["received_at"],
                saved_at=r["saved_at"],
                overall_percent=r["overall_percent"],
                overall_rag=r["overall_rag"],
                answered=r["answered"],
                areas=areas,
                file=first.original_name if first else "",
                filed_as=first.filed_as if first else None,
            )
            later = latest.get(u.code)
            if (
                later is not None
                and later["outcome"] == "rejected"
                and later["id"] > _drop_of(ledger, r["id"])
            ):
                entry["later_rejected"] = later["original_name"]
        elif u.code in latest and latest[u.code]["outcome"] == "rejected":
            d = latest[u.code]
            errors = [f for f in ledger.findings_for(d["id"]) if f.severity == "error"]
            entry.update(
                status="rejected",
                file=d["original_name"],
                received_at=d["arrived_at"],
                why=[{"code": f.code, "where": f.where, "message": f.message} for f in errors[:5]],
                what_to_do=lookup(errors[0].code).what_to_do if errors else "",
                problems_report=_where(home, d),
            )
        elif entry["held"]:
            entry["status"] = "held"
        if entry["status"] != "returned":
            entry["days_overdue"] = overdue
        units.append(entry)
    counts = {s: sum(1 for e in units if e["status"] == s) for s in STATUSES}
    unattributed = [
        {
            "file": r["original_name"],
            "received_at": r["arrived_at"],
            "report": f"inbox/{r['report_name']}",
        }
        for r in ledger.unlinked_rejected_drops(period)
    ]
    kept = [h for e in units for h in e["held"]]
    files = {
        "held": sum(1 for h in kept if h["why"] == "closed-month"),
        "older_saves": sum(1 for h in kept if h["why"] != "closed-month"),
        "later_rejected": sum(1 for e in units if e.get("later_rejected")),
        "unidentified_rejected": len(unattributed),
        "family_counted": sum(e["family_responses"] for e in units),
        "family_held": sum(len(e["family_held"]) for e in units),
    }
    return {
        "period": period,
        "month": month_words(period),
        "due_date": due.isoformat(),
        "today": on.isoformat(),
        "days_overdue": overdue,
        "due_in_days": max(0, (due - on).days),
        "closed_at": ledger.closed_at(period),
        "sent": month.sent,
        "newest_generated": month.newest,
        "warning": month.warning or None,
        "counts": counts,
        "files": files,
        "units": units,
        "unidentified_rejected_files": unattributed,
    }


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def headline(status: dict) -> str:
    """The first line of ``sequin status``: the month, its due date, and every count of
    what is listed below it (see :func:`period_status`), so none disagrees with the list.

    Units by status (returned, rejected, held with nothing counted yet, missing), then
    the returns kept but not counted, the rejected files not counted against a unit's
    status, and the family and friends responses counted and held. A count that is
    nought is left out, except returned, rejected and missing.
    """
    due = f"due {status['due_date']}"
    if status["days_overdue"]:
        due += f", {status['days_overdue']} day(s) ago"
    elif status["due_in_days"]:
        due += f", in {status['due_in_days']} day(s)"
    closed = f"; CLOSED {status['closed_at'][:10]}" if status["closed_at"] else ""
    c, f = status["counts"], status["files"]
    units = [f"{c['returned']} returned", f"{c['rejected']} rejected"]
    if c["held"]:
        units.append(f"{c['held']} held (nothing counted yet)")
    units.append(f"{c['missing']} missing")
    parts = [", ".join(units)]
    kept = []
    if f["held"]:
        kept.append(_plural(f["held"], "return held", "returns held") + " (the month was closed)")
    if f["older_saves"]:
        kept.append(_plural(f["older_saves"], "older save", "older saves"))
    if kept:
        parts.append("kept, NOT counted: " + ", ".join(kept))
    rejected = []
    if f["later_rejected"]:
        rejected.append(
            _plural(f["later_rejected"], "later file", "later files")
            + " (the earlier return still counts)"
        )
    if f["unidentified_rejected"]:
        rejected.append(_plural(f["unidentified_rejected"], "file", "files") + " not from any unit")
    if rejected:
        parts.append("also rejected: " + ", ".join(rejected))
    if f["family_counted"] or f["family_held"]:
        family = f"family and friends: {f['family_counted']} response(s) counted"
        if f["family_held"]:
            family += f", {f['family_held']} held (NOT counted)"
        parts.append(family)
    return f"{status['month']} ({status['period']}), {due}{closed}: " + "; ".join(parts)


def _drop_of(ledger: Ledger, return_id: int) -> int:
    return ledger.accepted_drop_of(return_id)


CHASE_COLUMNS = [
    "unit",
    "name",
    "status",
    "month",
    "due_date",
    "days_overdue",
    "what_is_needed",
    "problems_report",
]


def chase_list(home: Home, ledger: Ledger, period: str, on: dt.date | None = None) -> dict:
    """Who to chase for ``period``: missing, rejected and held-only units, by name, with days overdue.

    Also writes the list as a CSV for mail merge to ``returns/YYYY-MM/chase YYYY-MM.csv``
    (UTF-8 with a byte-order mark; every cell inert), and returns its path.
    Until the due date has passed nothing is overdue: a unit with nothing in is
    ``not sent yet`` (not ``missing``), asked to send it by the due date, and
    ``days_overdue`` is empty (None). A month whose workbooks were never sent
    out is refused (SequinError), and no CSV is written.
    """
    month = month_of(home, ledger, period)
    if not month.sent:
        raise SequinError(month.warning, hint=month.hint("sequin chase --period {period}"))
    status = period_status(home, ledger, period, on)
    overdue = status["days_overdue"] > 0
    rows = []
    for u in status["units"]:
        if u["status"] == "returned":
            continue
        if u["status"] == "missing":
            need = f"Please send the {status['month']} SeQuIn return"
            if not overdue:
                need += f" by {day_words(dt.date.fromisoformat(status['due_date']))}"
            report = ""
        elif u["status"] == "rejected":
            need = "Please correct the return and send it again: " + "; ".join(
                w["message"] for w in u["why"][:2]
            )
            report = u["problems_report"]
        else:
            need = "A return is held (the month was closed); the lead decides whether it counts"
            report = ""
        rows.append(
            {
                "unit": u["unit"],
                "name": u["name"],
                "status": u["status"] if overdue or u["status"] != "missing" else "not sent yet",
                "month": status["month"],
                "due_date": status["due_date"],
                "days_overdue": u.get("days_overdue", 0) if overdue else None,
                "what_is_needed": need,
                "problems_report": report,
            }
        )
    path = home.root / RETURNS / period / f"chase {period}.csv"
    write_atomic(
        path, to_csv(CHASE_COLUMNS, [[r[c] for c in CHASE_COLUMNS] for r in rows]), durable=False
    )
    return {
        "period": period,
        "month": status["month"],
        "due_date": status["due_date"],
        "today": status["today"],
        "days_overdue": status["days_overdue"],
        "overdue": overdue,
        "due_in_days": status["due_in_days"],
        "closed_at": status["closed_at"],
        "units": rows,
        "csv": str(path),
    }


def returns_list(
    home: Home, ledger: Ledger, unit: str | None = None, period: str | None = None
) -> list[dict]:
    """Every file recorded (optionally of one unit and/or month): when, outcome, and where it is now."""
    if period:
        check_period(period)
    if unit and home.network.unit(unit) is None:
        raise UsageError(
            f"unit {unit} is not in the network",
            hint="Units: " + ", ".join(u.code for u in home.network.units),
        )
    out = []
    for d in ledger.drops_with_returns(unit, period):
        if d["response_id"] is not None:
            if d["response_held"] is not None:
                state = "family response, held (month closed)"
            elif d["id"] != d["response_first"]:
                state = "family response, copy sent again"
            else:
                state = "family response, counted"
        elif d["outcome"] == "accepted":
            if d["duplicate_of"]:
                state = "copy sent again"
            elif d["held"] == "closed-month" and d["superseded_by"] is None:
                state = "held (month closed)"
            elif d["held"] is not None:
                state = "kept, not counted (older save)"
            elif d["superseded_by"] is not None:
                state = "replaced"
            else:
                state = "counted"
        else:
            state = (
                "rejected family response"
                if (d["form"] or "").startswith("family/")
                else "rejected"
            )
        if d["filed_as"]:
            where = d["filed_as"]
        elif d["outcome"] == "rejected" or state.startswith(
            ("held", "kept", "family response, held")
        ):
            where = _outside(home, d) or "inbox/" + d["original_name"]
        else:
            where = f"archive/{d['sha256'][:2]}/{d['sha256']}.xlsx"
        out.append(
            {
                "id": d["id"],
                "file": d["original_name"],
                "arrived_at": d["arrived_at"],
                "saved_at": d["saved_at"],
                "outcome": d["outcome"],
                "state": state,
                "unit": d["unit"],
                "period": d["period"],
                "overall_percent": d["overall_percent"],
                "overall_rag": d["overall_rag"],
                "return_id": d["return_id"],
                "where": where,
            }
        )
    return out


def returns_listing(
    home: Home, ledger: Ledger, unit: str | None = None, period: str | None = None
) -> dict:
    """``returns``: :func:`returns_list`; ``warning``: names a ``period`` whose workbooks
    were never sent out (None otherwise, and without a period)."""
    rows = returns_list(home, ledger, unit, period)
    warning = month_of(home, ledger, period).warning if period else ""
    return {"returns": rows, "warning": warning or None}


def close_month(
    home: Home,
    ledger: Ledger,
    period: str,
    reopen: bool = False,
    force: bool = False,
    on: dt.date | None = None,
) -> dict:
    """Close a month once its outputs are shared (later returns are held), or reopen it.

    Without ``force``, closing is refused (SequinError) for a month whose
    workbooks were never sent out, and for one whose due date has not passed:
    either would hold every return for it that arrives. Reopening is always allowed.
    """
    check_period(period)
    if reopen:
        ledger.reopen_period(period)
    else:
        if not force:
            _check_closable(home, ledger, period, on or today())
        ledger.close_period(period)
    status = period_status(home, ledger, period)
    return {
        "period": period,
        "month": month_words(period),
        "closed": not reopen,
        "closed_at": ledger.closed_at(period),
        "counts": status["counts"],
        "outputs_pending": period in ledger.dirty_periods(),
    }


def _check_closable(home: Home, ledger: Ledger, period: str, on: dt.date) -> None:
    """Refuse to close a month not sent out, or not yet due (``--force`` overrides)."""
    month = month_of(home, ledger, period)
    force = f"sequin close --period {period} --force"
    if not month.sent:
        raise SequinError(
            month.warning,
            hint="Closing it would hold every return for it, not counting any. Check the month "
            f"(a mistyped year?); to close it anyway, run '{force}'.",
        )
    if on <= month.due:
        when = "today" if on == month.due else f"in {(month.due - on).days} day(s)"
        raise SequinError(
            f"the due date of {period} has not passed: returns for it are due "
            f"{month.due.isoformat()} ({when})",
            hint="Closing it now would hold, uncounted, every return that arrives before then. "
            f"Close it once its outputs are shared; to close it now anyway, run '{force}'.",
        )


def check_reportable(home: Home, ledger: Ledger, period: str) -> None:
    """Refuse (SequinError) to report a month with no returns that was never sent out:
    its outputs would only say that nothing is on record."""
    month = month_of(home, ledger, period)
    if not month.sent:
        raise SequinError(
            f"{month.warning}, and no return for it is on record: there is nothing to report",
            hint=month.hint("sequin report --period {period}"),
        )


def month_folder(home: Home, period: str) -> Path:
    return home.root / RETURNS / period

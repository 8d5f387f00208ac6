"""Counting a kept return: ``sequin release FILE``.

A return can be accepted yet not counted: an older save sent after the one
counted, or one held because its month was closed before it was taken in
(see :mod:`engine.pipeline`). Its receipt gives the command that makes it count when
the lead decides it is the right one. The lead names it by the file (any copy
of it: the one in the email, or the archived original) or by the name it
arrived under.

A family and friends response is never replaced and has no older save: every
response counts. The only one kept but not counted is one held because its
month was closed before it was taken in; ``sequin release`` counts it (reopening the month does
not, as for returns), and the month's outputs are rebuilt. Releasing a response
that already counts is refused, with the reason.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path

from .bank import known_banks
from .errors import SequinError
from .files import display_name, write_text_atomic
from .filing import Filing, archive_path, report_of
from .home import Home
from .ledger import Ledger
from .outcome import Notes, month_line
from .receipts import month, when


class ReleaseError(SequinError):
    """The file named cannot be released (unknown, rejected, or ambiguous)."""


def find_return(ledger: Ledger, file: str):
    """The accepted return ``file`` names: by its bytes if it is a file here, else by the name it
    arrived under, else by the number ``sequin returns`` shows (``12`` or ``#12``).

    A family and friends response is returned as ``("family", row)``."""
    path = Path(file)
    if path.is_file():
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        row = ledger.return_by_sha(sha)
        if row is not None:
            return row
        row = ledger.response_by_sha(sha)
        if row is not None:
            return ("family", row)
        if ledger.drops_for(sha):
            raise ReleaseError(
                f"{display_name(path.name)} was not accepted, so it cannot be counted",
                hint="Read its problems report, put it right and drop it into the inbox.",
            )
        raise ReleaseError(
            f"{display_name(path.name)} has never been taken in",
            hint="Drop it into the inbox first; its receipt says whether it counts.",
        )
    name = display_name(os.path.basename(file))
    rows = ledger.returns_named(name) + [("family", r) for r in ledger.responses_named(name)]
    if not rows and file.lstrip("#").isdigit():
        drop = ledger.drop(int(file.lstrip("#")))  # the number 'sequin returns' shows
        if drop is not None and drop.response_id is not None:
            return ("family", ledger.response_row(drop.response_id))
        if drop is None or drop.return_id is None:
            raise ReleaseError(
                f"no accepted return is recorded as #{file.lstrip('#')}",
                hint="See 'sequin returns' for the numbers.",
            )
        return ledger.return_row(drop.return_id)
    if not rows:
        raise ReleaseError(
            f"no accepted return arrived under the name '{name}'",
            hint="Give the name exactly as in its receipt, or the file itself.",
        )
    if len(rows) > 1:
        raise ReleaseError(
            f"{len(rows)} different returns or responses arrived under the name '{name}'",
            hint="Give the file itself (a copy of the one you mean), or its number in "
            "'sequin returns' (#12), not its name.",
        )
    return rows[0]


def release(home: Home, ledger: Ledger, file: str) -> dict:
    """Make the return ``file`` names the one counted for its unit and month.

    Returns what changed, for the command to show. The months whose outputs
    show it are marked for rebuilding.
    """
    row = find_return(ledger, file)
    if isinstance(row, tuple):
        return _release_response(home, ledger, row[1])
    before = ledger.current_return(row["unit"], row["period"])
    result = {
        "kind": "return",
        "unit": row["unit"],
        "period": row["period"],
        "month": month(row["period"]),
        "released": _describe(ledger, row),
        "replaced": _describe(ledger, before) if before else None,
        "already_counted": before is not None and before["id"] == row["id"],
        "overall_percent": row["overall_percent"],
        "overall_rag": row["overall_rag"],
    }
    if not result["already_counted"]:
        why = row["held"]
        ledger.release(row["id"])
        filing = Filing(home, ledger, lambda sha: archive_path(home, sha))
        filing.lay_out(row["unit"], row["period"])
        result["receipt"] = _new_receipt(home, ledger, filing, row["id"], why)
    return result


_WHY_KEPT = {
    "closed-month": "it arrived after its month was closed",
    "older-save": "it was saved before the return that was counted then",
}


def _new_receipt(home: Home, ledger: Ledger, filing: Filing, return_id: int, why) -> str | None:
    """Write the released return's receipt afresh, where the counted return lives, and retire
    the receipt that said it was not counted. Returns where the new receipt is (home-relative).

    The new receipt is a counted return's receipt, opening with when and why it
    was released; the old one (``KEPT, NOT COUNTED ... would change ...``) is
    removed from the inbox, or, beside a file given from outside the inbox,
    replaced by a short note saying where the counted copy and receipt are.
    """
    row = ledger.return_row(return_id)
    drop = filing.counted_drop(row["unit"], row["period"])
    if drop is None or not drop.filed_as:
        return None
    placed = home.root / drop.filed_as
    receipt = report_of(placed, "accepted")
    notes = Notes(ledger, home.network)
    stamp = dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
    note = (
        f"RELEASED {when(stamp)}: the lead counted this return (sequin release). It had been "
        f"kept but not counted because {_WHY_KEPT.get(why, 'it was held')}."
    )
    replaced = notes.replaced_note(row)
    if replaced:
        note = f"{note} {replaced}"
    held_codes = ("older-save", "closed-month")
    findings = [f for f in ledger.findings_for(drop.id) if f.code not in held_codes]
    text = notes.return_receipt(
        drop,
        row,
        scores=notes.stored_scores(row["id"], row),
        bank=known_banks(home.banks_dir)[row["bank_version"]],
        findings=findings,
        note=note,
        first_line=month_line(home, row["period"]),
    )
    write_text_atomic(receipt, text, durable=False)
    # The receipt that said "not counted" must not stay where the lead reads it.
    source = drop.source_path
    if source is not None and drop.report_name:
        old = source.parent / drop.report_name
        if old != receipt and old.exists():
            if source.parent == home.inbox:
                old.unlink(missing_ok=True)
            else:
                write_text_atomic(
                    old,
                    f"RELEASED {when(stamp)}: this return is now counted. Its copy and its "
                    f"receipt are in the SeQuIn home, at {drop.filed_as} (and "
                    f"{receipt.name}). Nothing here needs doing.\n",
                    durable=False,
                )
    return receipt.relative_to(home.root).as_posix()


def _release_response(home: Home, ledger: Ledger, row) -> dict:
    """Count a family and friends response held because its month was closed."""
    first = ledger.first_drop_of_response(row["id"])
    name = first.original_name if first else ""
    if row["held"] is None:
        raise ReleaseError(
            f"{name} is a family and friends response that already counts for {row['unit']}, "
            f"{month(row['period'])}; nothing to release",
            hint="Every family and friends response counts, and none replaces another: only one "
            "held because its month was closed can be released.",
        )
    ledger.release_response(row["id"])
    Filing(home, ledger, lambda sha: archive_path(home, sha)).lay_out(row["unit"], row["period"])
    return {
        "kind": "family",
        "unit": row["unit"],
        "period": row["period"],
        "month": month(row["period"]),
        "released": {
            "file": name,
            "received_at": row["received_at"],
            "received": when(row["received_at"]),
            "saved_at": None,
            "saved": "",
            "overall_percent": None,
        },
        "replaced": None,
        "already_counted": False,
        "overall_percent": None,
        "overall_rag": None,
        "responses_counted": ledger.counted_response_count(row["unit"], row["period"]),
    }


def _describe(ledger: Ledger, row) -> dict:
    first = ledger.first_drop_of_return(row["id"])
    return {
        "file": first.original_name if first else "",
        "received_at": row["received_at"],
        "received": when(row["received_at"]),
        "saved_at": row["saved_at"],
        "saved": when(row["saved_at"]) if row["saved_at"] else "",
        "overall_percent": row["overall_percent"],
    }

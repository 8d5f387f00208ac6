"""Counting a kept return: ``sequin release FILE``.

A return can be accepted yet not counted: an older save sent after the one
counted (see :mod:`engine.pipeline`). Its receipt gives the command that makes
it count when the lead decides it is the right one. The lead names it by the
file (any copy of it: the one in the email, or the archived original) or by
the name it arrived under.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from .errors import SequinError
from .files import display_name
from .filing import Filing, archive_path
from .home import Home
from .ledger import Ledger
from .receipts import month, when


class ReleaseError(SequinError):
    """The file named cannot be released (unknown, rejected, or ambiguous)."""


def find_return(ledger: Ledger, file: str):
    """The accepted return ``file`` names: by its bytes if it is a file here, else by the name it
    arrived under, else by the number ``sequin returns`` shows (``12`` or ``#12``)."""
    path = Path(file)
    if path.is_file():
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        row = ledger.return_by_sha(sha)
        if row is not None:
            return row
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
    rows = ledger.returns_named(name)
    if not rows and file.lstrip("#").isdigit():
        drop = ledger.drop(int(file.lstrip("#")))  # the number 'sequin returns' shows
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
            f"{len(rows)} different returns arrived under the name '{name}'",
            hint="Give the file itself (a copy of the one you mean), not its name.",
        )
    return rows[0]


def release(home: Home, ledger: Ledger, file: str) -> dict:
    """Make the return ``file`` names the one counted for its unit and month.

    Returns what changed, for the command to show. The months whose outputs
    show it are marked for rebuilding.
    """
    row = find_return(ledger, file)
    before = ledger.current_return(row["unit"], row["period"])
    result = {
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
        ledger.release(row["id"])
        Filing(home, ledger, lambda sha: archive_path(home, sha)).lay_out(
            row["unit"], row["period"]
        )
    return result


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

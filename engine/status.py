"""Which units have returned for a month, which were rejected, and which are missing."""

from __future__ import annotations

from .home import Home, check_period
from .ledger import Ledger


def period_status(home: Home, ledger: Ledger, period: str) -> dict:
    """Per unit: ``returned`` (with scores), ``rejected`` (with why) or ``missing``.

    A returned unit lists under ``held`` the returns kept but not counted (older
    saves sent after the one counted), each with the command that counts it.
    """
    check_period(period)
    network = home.network
    current = {r["unit"]: r for r in ledger.current_returns(period)}
    latest = {r["unit"]: r for r in ledger.latest_drops(period)}
    held: dict[str, list[dict]] = {}
    for r in ledger.held_returns(period):
        held.setdefault(r["unit"], []).append({
            "file": r["original_name"], "received_at": r["received_at"], "saved_at": r["saved_at"],
            "overall_percent": r["overall_percent"], "why": "older-save",
            "release": f'sequin release "{r["original_name"]}"',
        })
    units = []
    for u in network.units:
        entry = {"unit": u.code, "name": u.name, "status": "missing"}
        if u.code in current:
            r = current[u.code]
            areas = {
                a["area_id"]: {"percent": a["percent"], "rag": a["rag"], "complete": bool(a["complete"])}
                for a in ledger.db.execute(
                    "SELECT area_id, percent, rag, complete FROM area_scores WHERE return_id = ?", (r["id"],)
                )
            }
            entry.update(
                status="returned", received_at=r["received_at"], overall_percent=r["overall_percent"],
                overall_rag=r["overall_rag"], answered=r["answered"], areas=areas,
            )
            entry["saved_at"] = r["saved_at"]
            entry["held"] = held.get(u.code, [])
            later = latest.get(u.code)
            if later is not None and later["outcome"] == "rejected" and later["id"] > _drop_of(ledger, r["id"]):
                entry["later_rejected"] = later["original_name"]
        elif u.code in latest:
            d = latest[u.code]
            errors = [f for f in ledger.findings_for(d["id"]) if f.severity == "error"]
            entry.update(
                status="rejected", file=d["original_name"], received_at=d["arrived_at"],
                why=[{"code": f.code, "where": f.where, "message": f.message} for f in errors[:5]],
                problems_report=d["report_name"],
            )
        units.append(entry)
    counts = {s: sum(1 for e in units if e["status"] == s) for s in ("returned", "rejected", "missing")}
    unattributed = [
        {"file": r["original_name"], "received_at": r["arrived_at"], "report": r["report_name"]}
        for r in ledger.db.execute(
            "SELECT * FROM drops WHERE period IS NULL AND outcome = 'rejected' "
            "AND substr(arrived_at, 1, 7) = ? ORDER BY id", (period,)
        )
    ]
    return {"period": period, "counts": counts, "units": units, "unidentified_rejected_files": unattributed}


def _drop_of(ledger: Ledger, return_id: int) -> int:
    row = ledger.db.execute(
        "SELECT MAX(id) FROM drops WHERE return_id = ? AND outcome = 'accepted'", (return_id,)
    ).fetchone()
    return row[0] or 0

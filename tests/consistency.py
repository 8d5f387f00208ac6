"""Read a month's outputs as their readers do and list where two of them disagree.

Each unit's feedback workbook and ward easy read page are read cell by cell
(with openpyxl, as they were written, not from the engine's own facts), and
every statement about a unit and an area becomes a *claim*: a strength, a
priority, an essential standard Not met, families disagreeing, going well on
the ward's page, the RAG word, what families said, and whether the overall
score did better, worse or about the same next to what its process control
chart says. :func:`contradictions` lists every pair that says opposite things.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

from openpyxl import load_workbook

from engine.outputs.sheets import presentation

FEW = 3  # fewer answers than this: counts only


def _table(ws, name: str) -> list[dict]:
    rows = list(ws[ws.tables[name].ref])
    header = [c.value for c in rows[0]]
    return [dict(zip(header, (c.value for c in r))) for r in rows[1:]]


def _area_ids(bank) -> dict[str, str]:
    """Every label an output uses for an area (long, short, easy read) -> area id."""
    easy = presentation()["easy_read"]["areas"]
    out = {}
    for a in bank.areas:
        out[f"{a.index}. {a.name}"] = a.id
        out[f"{a.index}. {a.short_name}"] = a.id
        out[easy[a.id]] = a.id
    return out


def feedback_claims(path: Path, bank) -> dict:
    """Claims of one unit's feedback workbook: {area id: set of claims}, and the overall's."""
    wb = load_workbook(path)
    ids = _area_ids(bank)
    std_area = {s.id: a.id for a in bank.areas for s in a.standards}
    claims: dict[str, set] = defaultdict(set)
    spc = presentation()["spc"]
    fam_words = presentation()["families"]

    results = wb["Your results"]
    for row in _table(results, "Your_results"):
        if row["Area"] in ids:
            claims[ids[row["Area"]]].add(("rag", row["Your RAG"]))
    for (text,) in results.iter_rows(min_row=2, max_row=12, max_col=1, values_only=True):
        if not isinstance(text, str):
            continue
        m = re.match(r"Essential standard .*?: ([A-Z]{3}-\d\d) in ", text)
        if m:
            claims[std_area[m.group(1)]].add("essential-not-met")
        if text.startswith("Families disagree"):
            for label, area_id in ids.items():
                if f"{label} (" in text:
                    claims[area_id].add("families-disagree")

    sp = wb["Strengths and priorities"]
    for table, claim in (("Strengths", "strength"), ("Priorities", "priority")):
        if table in sp.tables:
            for row in _table(sp, table):
                if row["Standard"] == "Whole area":
                    claims[ids[row["Area"]]].add(claim)

    fam = wb["Families"]
    if "Family_responses" in fam.tables:
        for row in _table(fam, "Family_responses"):
            said = row["What families said"]
            agree, unsure, disagree = row["Agreed"], row["Not sure"], row["Disagreed"]
            answered = agree + unsure + disagree
            area_id = ids[row["Area"]]
            claims[area_id].add(("families-said", said, agree, unsure, disagree))
            if answered and 2 * disagree > answered:
                claims[area_id].add("families-disagree")

    overall = None
    ws = wb["SPC"]
    phrases = {k: spc[k] for k in ("improvement", "concern", "common")}
    for (text,) in ws.iter_rows(min_row=6, max_col=1, values_only=True):
        if isinstance(text, str) and any(p in text for p in phrases.values()):
            overall = (next(k for k, p in phrases.items() if p in text), text)
            break
    return {"areas": claims, "spc": overall, "families_words": fam_words}


def easy_read_claims(path: Path, bank) -> dict:
    """Claims of a ward's easy read page: {area id: standing}, and the trend line's word."""
    wb = load_workbook(path)
    ws = wb[presentation()["easy_read"]["unit_sheet"]]
    w = presentation()["easy_read"]
    ids = _area_ids(bank)
    heads = {}
    for key in ("going_well", "closer_look", "getting_there", "needs_work", "not_done"):
        for form in ("one", "many"):
            text = w.get(key, {}).get(form, "")
            if text:
                heads[re.escape(text).replace(r"\{n\}", r"\d+")] = key
    kinds = ("better", "worse", "same")
    trends = {re.escape(w[k]): k for k in kinds}
    trends.update({re.escape(w[f"{k}_since"]).replace(r"\{month\}", r"\w+"): k for k in kinds})
    section = None
    standing, trend = {}, None
    for row in ws.iter_rows(values_only=True):
        for text in row:
            if not isinstance(text, str):
                continue
            head = next((k for pat, k in heads.items() if re.fullmatch(pat, text)), None)
            if head:
                section = head
                continue
            if text in ids and section:
                standing[ids[text]] = section
                continue
            for pat, k in trends.items():
                if re.fullmatch(pat, text):
                    trend = k
            section = None
    return {"standing": standing, "trend": trend}


def contradictions(feedback: dict, easy: dict) -> list[str]:
    """Every pair of claims about one unit that say opposite things."""
    out = []
    fam_words = feedback["families_words"]
    for area_id, claims in feedback["areas"].items():
        blocked = {"essential-not-met", "families-disagree"} & claims
        rag = next((c[1] for c in claims if isinstance(c, tuple) and c[0] == "rag"), None)
        if "strength" in claims and blocked:
            out.append(f"{area_id}: a strength, but {sorted(blocked)}")
        if "strength" in claims and "priority" in claims:
            out.append(f"{area_id}: both a strength and a priority")
        st = easy["standing"].get(area_id)
        if st == "going_well" and blocked:
            out.append(f"{area_id}: going well on the ward's page, but {sorted(blocked)}")
        if st == "going_well" and "priority" in claims:
            out.append(f"{area_id}: going well on the ward's page, but a priority in the feedback")
        wanted = {
            "going_well": "Green",
            "closer_look": "Green",
            "getting_there": "Amber",
            "needs_work": "Red",
        }
        if st in wanted and rag != wanted[st]:
            out.append(f"{area_id}: {st} on the ward's page, but {rag} in the feedback")
        for c in claims:
            if not (isinstance(c, tuple) and c[0] == "families-said"):
                continue
            _k, said, agree, unsure, disagree = c
            answered = agree + unsure + disagree
            summary = {
                fam_words["said_agree"]: 2 * agree > answered,
                fam_words["said_disagree"]: 2 * disagree > answered,
                fam_words["said_disagree_green"]: 2 * disagree > answered,
                fam_words["said_mixed"]: answered >= FEW,
            }
            if said in summary and (answered < FEW or not summary[said]):
                out.append(f"{area_id}: families '{said}' from {agree}/{unsure}/{disagree}")
            if said == fam_words["said_agree"] and "families-disagree" in claims:
                out.append(f"{area_id}: families both agree and disagree")
    spc = feedback["spc"]
    trend = easy["trend"]
    if spc is not None and trend is not None:
        variation = spc[0]
        if trend in ("better", "worse") and variation == "common":
            out.append(f"overall: '{trend}' on the ward's page, but common cause in SPC")
        if (trend, variation) in (("better", "concern"), ("worse", "improvement")):
            out.append(f"overall: '{trend}' on the ward's page, but {variation} in SPC")
    return out


def month_contradictions(folder: Path, bank) -> dict[str, list[str]]:
    """For every unit with a feedback workbook in a month's outbox folder, its contradictions."""
    found = {}
    for fb in sorted((folder / "feedback").glob("SeQuIn_feedback_*.xlsx")):
        code = fb.name.split("_")[2]
        er = folder / "easy_read" / fb.name.replace("feedback", "easy_read")
        found[code] = contradictions(feedback_claims(fb, bank), easy_read_claims(er, bank))
    return found

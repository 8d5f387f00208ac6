"""Synthetic returns: generated workbooks filled in the way a spreadsheet application saves them.

Used by ``sequin demo``, the tests and the benchmarks. Answers are written
into the workbook's XML as a spreadsheet application writes them (text in the
shared strings table, dates as serial numbers), leaving everything else
byte-for-byte as generated. The data is invented: no real people or units.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import re
import zipfile
from dataclasses import dataclass
from xml.sax.saxutils import escape

from . import template as T
from .bank import Bank
from .home import Network
from .workbook import area_choice

# A cell with a format: blank, or holding a plain value (never a formula).
_CELL = re.compile(rb'<c r="([A-Z]+[0-9]+)" s="([0-9]+)"(?: t="[a-z]+")?(?:/>|><v>[^<]*</v></c>)')
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SST_OPEN = re.compile(rb"<sst [^>]*>")

ROLES = (
    "Ward manager",
    "Staff nurse",
    "Occupational therapist",
    "Clinical psychologist",
    "Healthcare assistant",
    "Involvement lead",
    "Social worker",
    "Activity coordinator",
)
EVIDENCE_OPENERS = ("Seen together:", "We looked at", "Checked:", "Shown by", "Evidence:")
GAPS = (
    "but not on every ward yet",
    "though it lapsed over the summer",
    "on most weeks only",
    "and people want it more often",
    "but records are patchy",
)


def _xml_text(text: str) -> str:
    # Characters XML 1.0 cannot hold are stored the way Excel stores them.
    text = _CONTROL.sub(lambda m: f"_x{ord(m.group()):04X}_", text)
    return escape(text)


def _excel_serial(day: dt.date) -> int:
    return (day - dt.date(1899, 12, 30)).days


def _sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> worksheet part name, from the workbook and its relationships."""
    wb = zf.read("xl/workbook.xml").decode("utf-8")
    rels = zf.read("xl/_rels/workbook.xml.rels").decode("utf-8")
    targets = dict(re.findall(r'Id="([^"]+)"[^>]*Target="([^"]+)"', rels))
    targets.update({k: v for v, k in re.findall(r'Target="([^"]+)"[^>]*Id="([^"]+)"', rels)})
    out = {}
    for name, rid in re.findall(
        r'<sheet name="([^"]+)" sheetId="\d+"(?: state="\w+")? r:id="([^"]+)"', wb
    ):
        name = name.replace("&amp;", "&").replace("&apos;", "'").replace("&quot;", '"')
        target = targets[rid].lstrip("/")
        out[name] = target if target.startswith("xl/") else "xl/" + target
    return out


def fill_workbook(data: bytes, cells: dict[tuple[str, str], object]) -> bytes:
    """A copy of workbook ``data`` with ``cells`` ((sheet, A1 ref) -> value) filled in.

    Strings go through the shared strings table, dates become serial numbers,
    numbers are written as numbers, and None clears a cell. Only cells that the
    generated workbook writes with a format can be filled: blank answer cells,
    or cells it filled in (an action carried forward, whose status the team
    updates). Formulas are never replaced.
    """
    zin = zipfile.ZipFile(io.BytesIO(data))
    parts = _sheet_parts(zin)
    sst = zin.read("xl/sharedStrings.xml") if "xl/sharedStrings.xml" in zin.namelist() else None
    count = len(re.findall(rb"<si>", sst)) if sst else 0
    new_strings: list[str] = []
    index: dict[str, int] = {}
    by_part: dict[str, dict[str, object]] = {}
    for (sheet, ref), value in cells.items():
        by_part.setdefault(parts[sheet], {})[ref] = value

    def string_index(text: str) -> int:
        if text not in index:
            index[text] = count + len(new_strings)
            new_strings.append(text)
        return index[text]

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            body = zin.read(info.filename)
            if info.filename in by_part:
                wanted = by_part[info.filename]

                def put(m, wanted=wanted):
                    ref, style = m.group(1).decode(), m.group(2).decode()
                    if ref not in wanted:
                        return m.group(0)
                    value = wanted[ref]
                    if value is None:
                        return f'<c r="{ref}" s="{style}"/>'.encode()
                    if isinstance(value, dt.date):
                        return (
                            f'<c r="{ref}" s="{style}"><v>{_excel_serial(value)}</v></c>'.encode()
                        )
                    if isinstance(value, (int, float)) and not isinstance(value, bool):
                        return f'<c r="{ref}" s="{style}"><v>{value}</v></c>'.encode()
                    i = string_index(str(value))
                    return f'<c r="{ref}" s="{style}" t="s"><v>{i}</v></c>'.encode()

                body = _CELL.sub(put, body)
            if info.filename == "xl/sharedStrings.xml":
                continue  # written last, once every new string is known
            zout.writestr(info, body)
        if sst is not None or new_strings:
            sst = sst or (
                b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns='
                b'"http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="0" '
                b'uniqueCount="0"></sst>'
            )
            total = count + len(new_strings)
            extra = "".join(
                f'<si><t xml:space="preserve">{_xml_text(s)}</t></si>' for s in new_strings
            )
            sst = _SST_OPEN.sub(
                lambda m: re.sub(
                    rb'count="\d+"',
                    f'count="{total}"'.encode(),
                    re.sub(rb'uniqueCount="\d+"', f'uniqueCount="{total}"'.encode(), m.group(0)),
                ),
                sst,
                count=1,
            )
            sst = sst.replace(b"</sst>", extra.encode("utf-8") + b"</sst>")
            info = (
                zin.getinfo("xl/sharedStrings.xml")
                if "xl/sharedStrings.xml" in zin.namelist()
                else (zipfile.ZipInfo("xl/sharedStrings.xml", (1980, 1, 1, 0, 0, 0)))
            )
            info.compress_type = zipfile.ZIP_DEFLATED
            zout.writestr(info, sst)
    return out.getvalue()


@dataclass(frozen=True)
class UnitProfile:
    """How a synthetic unit tends to rate: a base level, a monthly trend, a co-production habit."""

    base: float
    trend: float
    joint: float


def unit_profile(seed: str) -> UnitProfile:
    """A stable, varied profile per unit code (some improve, some slip)."""
    rng = random.Random(f"profile-{seed}")
    return UnitProfile(
        base=rng.uniform(0.35, 0.85),
        trend=rng.choice([0.025, 0.015, 0.0, -0.01, 0.02]),
        joint=rng.uniform(0.6, 1.0),
    )


def synthetic_answers(
    bank: Bank, network: Network, unit: str, period: str, month_index: int = 0, seed: int = 0
) -> dict[tuple[str, str], object]:
    """Plausible answers for one unit and month, as cells for :func:`fill_workbook`."""
    rng = random.Random(f"{seed}-{unit}-{period}")
    profile = unit_profile(unit)
    labels = [s.label for s in network.scale]
    met, partly, not_met, na = labels[0], labels[1], labels[2], labels[-1]
    year, month = (int(x) for x in period.split("-"))
    cells: dict[tuple[str, str], object] = {}
    for area in bank.areas:
        sheet = T.area_sheet_name(area.index, area.short_name)
        area_rng = random.Random(f"area-{unit}-{area.id}")
        level = min(
            0.97,
            max(0.05, profile.base + area_rng.uniform(-0.3, 0.3) + profile.trend * month_index),
        )
        for pos, std in enumerate(area.standards):
            ref = T.answer_cells(pos)
            roll = rng.random()
            if roll < 0.03:
                rating = na
            elif roll < 0.03 + level * 0.97:
                rating = met
            elif rng.random() < 0.6:
                rating = partly
            else:
                rating = not_met
            cells[(sheet, ref.rating)] = rating
            example = rng.choice(std.evidence).rstrip(".")
            opener = rng.choice(EVIDENCE_OPENERS)
            if rating == met:
                text = f"{opener} {example[0].lower() + example[1:]}, up to date this month."
            elif rating == partly:
                text = f"{opener} {example[0].lower() + example[1:]}, {rng.choice(GAPS)}."
            elif rating == na:
                text = "Does not apply on this unit at present."
            else:
                text = "Not in place yet; discussed at the community meeting."
            if rng.random() < 0.97:
                cells[(sheet, ref.evidence)] = text
            if rating in (partly, not_met) and rng.random() < 0.5:
                cells[(sheet, ref.notes)] = "Raise at next governance meeting and agree a lead."
        cells[(sheet, T.SIGNOFF_CELLS["staff_role"])] = rng.choice(ROLES)
        cells[(sheet, T.SIGNOFF_CELLS["service_user"])] = (
            "Yes" if rng.random() < profile.joint else "No"
        )
        cells[(sheet, T.SIGNOFF_CELLS["date_agreed"])] = dt.date(year, month, rng.randint(3, 26))
    return cells


_UNSET = object()


def action_cells(
    bank: Bank,
    index: int,
    *,
    what: str | None = None,
    area_id: str | None = None,
    lead: str | None = None,
    due: dt.date | object | None = _UNSET,
    status: str | None = None,
) -> dict[tuple[str, str], object]:
    """Cells for :func:`fill_workbook` that write one row of the Actions sheet.

    ``index`` is the 0-based row (carried actions come first on the sheet). Only
    the fields given are written, so ``action_cells(bank, 0, status="Done")``
    updates the status of the first carried action and leaves the rest of its
    row as carried; ``due=None`` clears the date.
    """
    row = T.action_row(index)
    cols = dict(zip(("ref", "what", "area", "lead", "due", "status", "history"), T.ACTION_COLS))
    cells: dict[tuple[str, str], object] = {}
    if what is not None:
        cells[(T.ACTIONS_SHEET, f"{cols['what']}{row}")] = what
    if area_id is not None:
        cells[(T.ACTIONS_SHEET, f"{cols['area']}{row}")] = area_choice(bank.area(area_id))
    if lead is not None:
        cells[(T.ACTIONS_SHEET, f"{cols['lead']}{row}")] = lead
    if due is not _UNSET:
        cells[(T.ACTIONS_SHEET, f"{cols['due']}{row}")] = due
    if status is not None:
        cells[(T.ACTIONS_SHEET, f"{cols['status']}{row}")] = status
    return cells


ACTION_IDEAS = (
    "Add a 'You said, we did' item to every community meeting",
    "Offer every person a copy of their care plan in the format they choose",
    "Hold a debrief with the person within 72 hours of every incident",
    "Send reports to people a week before their CPA meeting",
    "Invite carers to the monthly carers' forum by letter and phone",
    "Review the list of blanket rules with the community meeting",
    "Start an evening and weekend activity rota",
    "Train two service users for interview panels",
)


def synthetic_actions(
    bank: Bank, unit: str, period: str, count: int = 2, first_row: int = 0, seed: int = 0
) -> dict[tuple[str, str], object]:
    """Plausible new actions for one unit and month in the Actions rows from ``first_row``
    on (after any carried ones), as cells for :func:`fill_workbook`."""
    rng = random.Random(f"actions-{seed}-{unit}-{period}")
    year, month = (int(x) for x in period.split("-"))
    cells: dict[tuple[str, str], object] = {}
    for i in range(count):
        area = rng.choice(bank.areas)
        due = dt.date(year + (month + 2 > 12), (month + 1) % 12 + 1, rng.randint(1, 28))
        cells.update(
            action_cells(
                bank,
                first_row + i,
                what=rng.choice(ACTION_IDEAS),
                area_id=area.id,
                lead=rng.choice(ROLES),
                due=due,
                status=rng.choice(T.ACTION_STATUSES[:2]),
            )
        )
    return cells


FAMILY_COMMENTS = (
    "Staff always make time to talk when I visit.",
    "I was not told about the care meeting until the day before.",
    "Visits were cancelled twice this month at short notice.",
    "The food looks better than last year.",
    "Please let us know who the carers' lead is.",
    "My son says he has a say in the community meeting now.",
)


def family_answers(
    bank: Bank, unit: str, period: str, n: int, disagree: tuple[str, ...] = (), seed: int = 0
) -> dict[tuple[str, str], object]:
    """One made-up family and friends response (the ``n``-th) for :func:`fill_workbook`.

    Most parts get an answer, a few a comment; the areas in ``disagree`` are
    answered Disagree, with a comment on the first of them.
    """
    rng = random.Random(f"family-{seed}-{unit}-{period}-{n}")
    cells: dict[tuple[str, str], object] = {}
    for area in bank.areas:
        row = T.family_row(area.index)
        if area.id in disagree:
            word = T.AGREE_CHOICES[2]
        elif rng.random() < 0.2:
            continue  # left blank: families answer what they know about
        else:
            word = rng.choices(T.AGREE_CHOICES, weights=(6, 2, 1))[0]
        cells[(T.FAMILY_SHEET, f"{T.FAMILY_COL_AGREE}{row}")] = word
        if (disagree and area.id == disagree[0]) or rng.random() < 0.12:
            comment = rng.choice(FAMILY_COMMENTS)
            cells[(T.FAMILY_SHEET, f"{T.FAMILY_COL_COMMENT}{row}")] = comment
    return cells


def with_saved_at(data: bytes, saved: dt.datetime) -> bytes:
    """A copy of workbook ``data`` whose properties say it was last saved at ``saved`` (UTC).

    What Excel or LibreOffice does to ``docProps/core.xml`` on every save; used to
    make a draft and a final version of the same return.
    """
    stamp = saved.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    zin = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            body = zin.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = re.sub(
                    rb"(<dcterms:modified\b[^>]*>)[^<]*(</dcterms:modified>)",
                    lambda m: m.group(1) + stamp + m.group(2),
                    body,
                )
            zout.writestr(info, body)
    return out.getvalue()

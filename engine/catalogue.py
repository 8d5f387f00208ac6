"""The finding catalogue: every finding code the engine can report, in one table.

Each code has a severity (an ``error`` rejects the return, a ``warning`` is
reported with an accepted one), the stage that reports it, a short title and
what an involvement lead should do about it. :func:`engine.findings.error` and
:func:`engine.findings.warning` refuse a code that is not here, or one used
with another severity, so the table cannot fall behind the code.

The README's table of finding codes is rendered from this one; after changing
it, run ``python -m engine.catalogue --write README.md``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

PRECHECK = "pre-check"
READ = "reading"
CHECKS = "checks"
INTAKE = "intake"
STAGES = (PRECHECK, READ, CHECKS, INTAKE)

START_MARKER = "<!-- catalogue:start -->"
END_MARKER = "<!-- catalogue:end -->"


@dataclass(frozen=True)
class Entry:
    """One finding code: what it is called, how serious it is, and what to do about it."""

    code: str
    severity: str  # "error" or "warning"
    stage: str  # one of STAGES
    title: str
    what_to_do: str


_SEND_AGAIN = "Ask the unit to send the workbook again"
_SEND_WORKBOOK = (
    "ask the unit to send the .xlsx file they filled in (the SeQuIn workbook): if they saved "
    "their ratings in it, nothing needs filling in again"
)
_SAVE_AS = (
    "use File > Save As > Excel Workbook (.xlsx) (in LibreOffice: Excel 2007-365), then put the "
    "saved .xlsx file in the inbox (or ask the unit to do that and send it): Save As keeps the "
    "ratings, so nothing needs filling in again"
)
_STAY = "save it and send it again: their ratings stay in it"
_TELL_ADMIN = "if the same happens again, tell whoever looks after SeQuIn"

#: Codes that mean a workbook's hidden unit and month were not verified: any unit or month
#: recorded for the file is only what its name claims, so reports never state it as fact.
UNVERIFIED = frozenset(
    {"token-invalid", "unknown-unit", "unknown-bank-version", "not-a-sequin-workbook"}
)
#: Codes whose whole fix is renaming the file (the report gives the name).
RENAME_ONLY = frozenset({"file-name-unit-mismatch", "file-name-period-mismatch", "wrong-kind"})

# fmt: off
CATALOGUE: tuple[Entry, ...] = (
    # --- pre-check (engine/precheck.py): the raw bytes, before any reader opens the file
    Entry("file-empty", "error", PRECHECK, "Empty file",
          f"The copy probably did not finish. {_SEND_AGAIN}."),
    Entry("file-too-large", "error", PRECHECK, "File too large",
          "A return is usually well under 1 MB. Ask the unit to delete any pictures or "
          f"attachments added to their workbook, {_STAY}."),
    Entry("file-unreadable", "error", PRECHECK, "File could not be read",
          "It may still be being copied, or be open in another program: try again in a minute. "
          "If it still fails, ask the unit to open it in Excel, save it and send it again."),
    Entry("file-truncated", "error", PRECHECK, "Incomplete file",
          "If it is still being copied, wait for the copy to finish; otherwise ask the unit to "
          "send the workbook again."),
    Entry("not-a-spreadsheet", "error", PRECHECK, "Not a spreadsheet",
          "The file is something else (a PDF, an image, a text file, an email). From an "
          f"email, save the attached workbook itself; otherwise {_SEND_WORKBOOK}."),
    Entry("not-a-workbook", "error", PRECHECK, "Not an Excel workbook",
          "The file is a zip archive or another kind of document. If the workbook is inside a "
          f"zip, take it out and put it in the inbox; otherwise {_SEND_WORKBOOK}."),
    Entry("old-xls-format", "error", PRECHECK, "Old .xls format",
          f"Open it in Excel or LibreOffice and {_SAVE_AS}."),
    Entry("save-as-xlsx", "error", PRECHECK, "Saved in another spreadsheet format",
          "An OpenDocument (.ods, .fods), Excel binary (.xlsb) or Excel 2003 XML file: open it "
          f"in LibreOffice or Excel and {_SAVE_AS}. An Apple Numbers file: the same, with "
          "File > Export To > Excel in Numbers."),
    Entry("workbook-encrypted", "error", PRECHECK, "Password to open",
          "Ask the unit to remove the password (in Excel: File > Info > Protect Workbook > "
          "Encrypt with Password, delete it, save) and send it again."),
    Entry("macro-enabled", "error", PRECHECK, "Contains macros",
          "SeQuIn never opens files with macros. Ask the unit to open their copy in Excel and "
          "use File > Save As > Excel Workbook (.xlsx), which leaves the macros out, and send "
          "that file: Save As keeps the ratings, so nothing needs filling in again."),
    Entry("zip-bomb", "error", PRECHECK, "Unpacks to far too much data",
          "Ask the unit to delete any large pictures or attachments added to their workbook, "
          f"{_STAY}."),
    Entry("zip-corrupt", "error", PRECHECK, "Damaged file",
          f"{_SEND_AGAIN}; {_TELL_ADMIN}."),
    Entry("too-many-parts", "error", PRECHECK, "Too many parts",
          "Ask the unit to delete any extra sheets, pictures or objects added to their "
          f"workbook, {_STAY}."),
    Entry("xml-doctype", "error", PRECHECK, "Hidden XML instructions",
          f"Excel never writes these, so the file was not opened. {_SEND_AGAIN}; {_TELL_ADMIN}."),
    Entry("output-workbook", "error", PRECHECK, "One of SeQuIn's own outputs",
          "A feedback, benchmark, commissioner or easy-read workbook the engine wrote, not a "
          "return: nothing needs doing. Take it out of the inbox. A unit's return is the "
          "workbook made for the unit to fill in, named `SeQuIn_UNIT_YYYY-MM.xlsx`."),
    Entry("cell-out-of-range", "error", PRECHECK, "Cells outside the form",
          "Ask the unit to delete anything typed, pasted or formatted outside the form on the "
          "sheet named (or copy their answers into a fresh workbook) and send it again."),
    # --- reading (engine/xlsx_fast.py, engine/reader.py): the cells, as spreadsheets show them
    Entry("changed-outside-spreadsheet", "error", READ, "Changed outside a spreadsheet program",
          "A cell is written in a way Excel and LibreOffice never write, so different programs "
          "would show different answers. Ask the unit to open the return in Excel, check the "
          "cell named, save it and send it again (or copy their answers into a fresh workbook)."),
    # --- checks (engine/checks.py): the workbook against the engine's own template
    Entry("not-a-sequin-workbook", "error", CHECKS, "Not a SeQuIn workbook",
          "Ask the unit to fill in the workbook they were sent and return that."),
    Entry("unknown-bank-version", "error", CHECKS, "Unknown question set",
          "Send the unit a new workbook for the month (`sequin generate`)."),
    Entry("token-invalid", "error", CHECKS, "Signature does not match",
          "The workbook came from another network or its hidden details were changed. Send the "
          "unit the workbook generated for them for the month and ask them to return that."),
    Entry("wrong-kind", "error", CHECKS, "Named as the other kind of workbook",
          "A family and friends response named as a unit's return, or the other way round: "
          "rename the file as the report says and put it in the inbox again. Renaming is the "
          "whole fix."),
    Entry("response-empty", "error", CHECKS, "Nothing answered",
          "If the family and friends form was filled in on paper, type the answers in from the "
          "paper copy and put it in the inbox again; an empty form can be thrown away."),
    Entry("agree-invalid", "warning", CHECKS, "Answer not understood",
          "The answer is not Agree, Not sure or Disagree, so it counts as no answer for that "
          "part. Nothing needs doing: a corrected copy would count as a second response."),
    Entry("action-incomplete", "warning", CHECKS, "Action without what will change",
          "Ask the unit to write what will change, or clear the row, and send the workbook again."),
    Entry("action-invalid", "warning", CHECKS, "Action not understood",
          "The area, date, status or reference of an action is not one the workbook offers. Ask "
          "the unit to choose from the drop-down list (or type a date such as 14/11/2026) and "
          "send the workbook again."),
    Entry("action-cleared", "warning", CHECKS, "Carried action emptied",
          "The action stays as it was: an action stops only when Done or Dropped is chosen in its "
          "Status cell. Ask the unit to put it back and send the workbook again."),
    Entry("unknown-unit", "error", CHECKS, "Unit not in the network",
          "Check the units in `network.toml`, or send the unit a workbook from this network."),
    Entry("file-name-unit-mismatch", "error", CHECKS, "Named for another unit",
          "The workbook inside is signed for the unit the report names: rename the file as the "
          "report says and put it in the inbox again. Renaming is the whole fix."),
    Entry("file-name-period-mismatch", "error", CHECKS, "Named for another month",
          "The workbook inside is signed for the month the report names: rename the file as "
          "the report says and put it in the inbox again. Renaming is the whole fix."),
    Entry("sheet-missing", "error", CHECKS, "Sheet missing",
          "Sheets must not be deleted or renamed: ask the unit to copy their answers into a "
          "fresh workbook for the month and send it again."),
    Entry("sheet-unexpected", "error", CHECKS, "Extra sheet",
          "Ask the unit to delete the extra sheet (right-click the tab, Delete), or copy their "
          "answers into a fresh workbook, and send it again."),
    Entry("locked-text-changed", "error", CHECKS, "Standard changed",
          "The standards must stay as issued: ask the unit to undo the change (or copy their "
          "answers into a fresh workbook) and send it again."),
    Entry("rating-invalid", "error", CHECKS, "Not a rating",
          "Ask the unit to choose a rating from the drop-down list in the cell named and send "
          "it again."),
    Entry("return-empty", "error", CHECKS, "Nothing rated",
          "Ask the unit to fill in the workbook and send it again."),
    Entry("rating-missing", "warning", CHECKS, "Standard not rated",
          "The return counts, but the area is marked incomplete and left out of the network "
          "figures. Ask the unit to rate it (N/A if it does not apply) and send it again."),
    Entry("evidence-missing", "warning", CHECKS, "Rating without evidence",
          "Ask the unit to write in the Evidence cell what the rating rests on: for Met, what "
          "shows it is met; for Partly met, what is in place and what is missing; for Not met, "
          "what is missing or planned; for N/A, why it does not apply."),
    Entry("signoff-missing", "warning", CHECKS, "Sign-off not filled in",
          "Ask the unit to fill in who agreed the ratings (staff role, whether a service user "
          "took part, date) at the bottom of the area's sheet."),
    Entry("signoff-invalid", "warning", CHECKS, "Sign-off not understood",
          "Whether a service user took part should be Yes or No, and the date a date such as "
          "14/11/2026."),
    Entry("personal-data", "warning", CHECKS, "Possible patient details",
          "The text is masked in every shared output; ask the unit to remove patient details "
          "from the workbook."),
    Entry("text-too-long", "warning", CHECKS, "Text too long",
          "Only the first 32,000 characters of the cell are kept. Ask the unit to shorten it."),
    # --- intake (engine/pipeline.py): the file in the inbox, around the checks
    Entry("not-a-regular-file", "error", INTAKE, "Not an ordinary file",
          "A shortcut (symbolic link), pipe, socket or device is never opened or followed. "
          "Move it out of the inbox and put the workbook file itself there."),
    Entry("file-gone", "error", INTAKE, "File gone",
          "The file was moved, deleted or still changing while it was read. If it should be "
          "taken in, put the complete file in the inbox again."),
    Entry("older-save", "warning", INTAKE, "Older than the counted return",
          "It was saved before the return already counted for that unit and month, so it is "
          "kept but not counted. If this one is right, run `sequin release FILE`."),
    Entry("save-time-unknown", "warning", INTAKE, "Impossible save time",
          "The workbook says it was saved more than a day after it arrived, which cannot be "
          "right, so its save time is treated as unknown and the return that arrives last "
          "counts. Nothing needs doing unless an earlier return should count instead."),
    Entry("closed-month", "warning", INTAKE, "Month already closed",
          "The month was closed after its outputs were shared, so the return is held: kept, "
          "but not counted. Its receipt says what it would change; to count it, run "
          "`sequin release FILE`."),
    Entry("engine-error", "error", INTAKE, "Engine fault",
          "The file is kept. Report this to whoever runs the engine."),
)
# fmt: on


def _index(entries: tuple[Entry, ...]) -> dict[str, Entry]:
    index: dict[str, Entry] = {}
    for entry in entries:
        if entry.code in index:
            raise ValueError(f"finding code {entry.code!r} is catalogued twice")
        if entry.severity not in ("error", "warning") or entry.stage not in STAGES:
            raise ValueError(f"finding code {entry.code!r}: bad severity or stage")
        index[entry.code] = entry
    return index


_BY_CODE = _index(CATALOGUE)


def lookup(code: str) -> Entry:
    """The catalogue entry of ``code``; ``KeyError`` if the code is not catalogued."""
    try:
        return _BY_CODE[code]
    except KeyError:
        raise KeyError(f"finding code {code!r} is not in engine/catalogue.py") from None


def render_markdown() -> str:
    """The catalogue as a Markdown table, as it appears in the README."""
    lines = ["| code | severity | stage | what it means | what to do |", "|---|---|---|---|---|"]
    for e in CATALOGUE:
        lines.append(f"| `{e.code}` | {e.severity} | {e.stage} | {e.title} | {e.what_to_do} |")
    return "\n".join(lines) + "\n"


def readme_section(text: str) -> str:
    """What stands between the catalogue markers in a README's text."""
    start = text.index(START_MARKER) + len(START_MARKER)
    return text[start : text.index(END_MARKER, start)].strip("\n") + "\n"


def write_readme(path: Path | str) -> None:
    """Replace what stands between the catalogue markers in ``path`` with the rendered table."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    start = text.index(START_MARKER) + len(START_MARKER)
    end = text.index(END_MARKER, start)
    path.write_text(f"{text[:start]}\n{render_markdown()}{text[end:]}", encoding="utf-8")


if __name__ == "__main__":
    # python -m engine.catalogue            print the table
    # python -m engine.catalogue --write F  rewrite the table between the markers in F
    if sys.argv[1:2] == ["--write"] and len(sys.argv) == 3:
        write_readme(sys.argv[2])
    elif len(sys.argv) == 1:
        sys.stdout.write(render_markdown())
    else:
        sys.exit("usage: python -m engine.catalogue [--write README.md]")

"""The finding catalogue: every code the engine uses is catalogued, produced and documented."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path

import openpyxl
import pytest

from engine import catalogue
from engine import template as T
from engine.family import build_family_workbook
from engine.findings import error, warning
from engine.home import Home, Unit, init_home
from engine.pipeline import Intake
from engine.precheck import MAX_BYTES, precheck
from engine.synthetic import action_cells, fill_workbook, with_saved_at
from engine.workbook import build_workbook

from .conftest import PERIOD, full_answers, make_return
from .hostile import build_corpus

ROOT = Path(__file__).resolve().parent.parent
CODES = {e.code for e in catalogue.CATALOGUE}

# A finding made from a literal code, the code possibly on the next line:
# error("zip-bomb", ...), warning(\n    "rating-missing", ...), _refuse("file-empty", ...).
CALL = re.compile(r"(?<![\w.])(error|warning|_refuse)\(\s*\"([^\"]*)\"")
SEVERITY_OF_CALL = {"error": "error", "warning": "warning", "_refuse": "error"}

# Codes this file cannot produce; each must say why and where it is produced instead.
NOT_PRODUCED_HERE: set[str] = set()

INV = "1 Involvement"
REC = "2 Recovery Pathway"


def codes_in_source() -> dict[str, set[str]]:
    """Each code the engine's source makes a finding with, and the severities it uses."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / "engine").rglob("*.py")):
        for call, code in CALL.findall(path.read_text(encoding="utf-8")):
            found.setdefault(code, set()).add(SEVERITY_OF_CALL[call])
    return found


def test_the_catalogue_is_well_formed() -> None:
    assert len(CODES) == len(catalogue.CATALOGUE)
    for e in catalogue.CATALOGUE:
        assert re.fullmatch(r"[a-z]+(-[a-z]+)+", e.code), e.code
        assert e.severity in ("error", "warning") and e.stage in catalogue.STAGES, e
        assert 0 < len(e.title) <= 40 and e.what_to_do.endswith("."), e
        assert catalogue.lookup(e.code) is e
    with pytest.raises(KeyError):
        catalogue.lookup("no-such-code")


def test_every_code_in_the_source_is_catalogued_with_its_severity() -> None:
    found = codes_in_source()
    assert len(found) > 30, "the scan finds the engine's codes"
    assert {"file-unreadable", "rating-missing", "engine-error", "zip-bomb"} <= set(found)
    wrong = {
        code: sorted(severities)
        for code, severities in found.items()
        if code not in CODES or severities != {catalogue.lookup(code).severity}
    }
    assert not wrong, f"add these to engine/catalogue.py, or fix their severity: {wrong}"


def test_findings_refuse_an_uncatalogued_code_or_the_wrong_severity() -> None:
    assert error("zip-bomb", "m").severity == "error"
    assert warning("rating-missing", "m", sheet=INV).sheet == INV
    with pytest.raises(KeyError, match="not-a-code"):
        error("not-a-code", "m")
    with pytest.raises(ValueError, match="catalogued as warning"):
        error("rating-missing", "m")
    with pytest.raises(ValueError, match="catalogued as error"):
        warning("zip-bomb", "m")


def test_the_readme_shows_the_catalogue() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme.count(catalogue.START_MARKER) == 1 == readme.count(catalogue.END_MARKER)
    assert catalogue.readme_section(readme) == catalogue.render_markdown(), (
        "README.md's table of finding codes differs from engine/catalogue.py: "
        "run `.venv/bin/python -m engine.catalogue --write README.md`"
    )


def test_write_readme_replaces_only_the_table(tmp_path: Path) -> None:
    path = tmp_path / "README.md"
    path.write_text(
        f"# Title\n\nBefore.\n\n{catalogue.START_MARKER}\nold table\n{catalogue.END_MARKER}\n"
        "\nAfter.\n",
        encoding="utf-8",
    )
    catalogue.write_readme(path)
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# Title\n\nBefore.\n\n") and text.endswith("\nAfter.\n")
    assert "old table" not in text
    assert catalogue.readme_section(text) == catalogue.render_markdown()
    assert text.count("`zip-bomb`") == 1


# --- every catalogued code is really produced ------------------------------------------


def _edit(path: Path, sheet: str, cell: str, value: str) -> None:
    wb = openpyxl.load_workbook(path)
    wb[sheet][cell] = value
    wb.save(path)


def _broken_returns(home: Home, folder: Path) -> dict[str, Path]:
    """One return per check, each made the way a unit (or a mistake) would make it."""
    files: dict[str, Path] = {}

    def ret(case: str, cells: dict | None = None, **kw) -> Path:
        files[case] = make_return(
            home,
            "M01",
            cells=full_answers(home, "M01") if cells is None else cells,
            folder=folder / case,
            **kw,
        )
        return files[case]

    cells = full_answers(home, "M01")
    cells[(INV, "E9")] = "Mostly"  # rating-invalid
    del cells[(REC, "E6")]  # rating-missing
    del cells[(INV, "F6")]  # evidence-missing
    del cells[(INV, "D18")]  # signoff-missing
    cells[(REC, T.SIGNOFF_CELLS["service_user"])] = "Maybe"  # signoff-invalid
    cells[(INV, "F7")] = "Care plan for patient NHS 943 476 5919 reviewed"  # personal-data
    cells[(INV, "F8")] = "Minutes of the community meeting. " * 1000  # text-too-long
    ret("many-problems", cells)
    ret("named-for-another-unit-and-month", name=T.file_name("M02", "2026-10"))
    ret("nothing-rated", cells={})
    cells = full_answers(home, "M01")
    bank = home.bank()
    cells.update(action_cells(bank, 0, area_id="INV", lead="Ward manager"))  # action-incomplete
    cells.update(action_cells(bank, 1, what="Weekly carers' drop-in", status="Finished"))
    cells[(T.ACTIONS_SHEET, f"A{T.action_row(2)}")] = "2026-10.1"  # a carried row, emptied
    ret("actions-problems", cells)
    family = build_family_workbook(
        home.network,
        bank,
        "M01",
        PERIOD,
        home.token("M01", PERIOD, bank.version, T.FAMILY_FORM),
        {a.id: "Green" for a in bank.areas},
    )

    def response(case: str, answers: dict[int, str], name: str) -> None:
        cells = {
            (T.FAMILY_SHEET, f"{T.FAMILY_COL_AGREE}{T.family_row(i)}"): word
            for i, word in answers.items()
        }
        path = folder / case / name
        path.parent.mkdir(parents=True)
        path.write_bytes(fill_workbook(family, cells))
        files[case] = path

    response("family-answer-not-understood", {1: "Maybe", 2: "Agree"}, "family M01.xlsx")
    response("family-nothing-answered", {}, T.family_file_name("M01", PERIOD))
    response("family-named-as-a-return", {1: "Agree"}, T.file_name("M01", PERIOD))
    files["return-named-as-family"] = make_return(
        home, "M01", folder=folder / "return-as-family", name=T.family_file_name("M01", PERIOD)
    )
    _edit(ret("edited-wording"), REC, "B8", "Something easier to meet")
    meta_row = {key: row for row, key in enumerate(T.META_ROWS, start=1)}
    _edit(ret("unknown-bank"), T.META_SHEET, f"B{meta_row['bank_version']}", "v999")
    altered = ret("altered-unit", name=T.file_name("M02", PERIOD))
    _edit(altered, T.META_SHEET, f"B{meta_row['unit']}", "M02")
    wb = openpyxl.load_workbook(ret("sheets-changed"))
    wb.create_sheet("My notes")
    wb.remove(wb["12 Technology"])
    wb.save(files["sheets-changed"])
    other = init_home(folder / "other-network")
    files["other-network"] = make_return(other, "M01", folder=folder / "other-network")

    # Signed with this home's secret for a unit its network does not list.
    network = dataclasses.replace(
        home.network, units=(*home.network.units, Unit("X99", "A ward not in the network"))
    )
    bank = home.bank()
    stranger = folder / "unknown-unit" / T.file_name("X99", PERIOD)
    stranger.parent.mkdir(parents=True)
    stranger.write_bytes(
        build_workbook(network, bank, "X99", PERIOD, home.token("X99", PERIOD, bank.version))
    )
    files["unknown-unit"] = stranger

    plain = folder / "plain.xlsx"
    workbook = openpyxl.Workbook()
    workbook.active["A1"] = "Our own ratings"
    workbook.save(plain)
    files["plain-spreadsheet"] = plain

    # Opens like every output workbook (tests/test_messages_misleading.py drops real ones).
    output = folder / "SeQuIn_network_2026-11.xlsx"
    workbook = openpyxl.Workbook()
    workbook.active.title = T.OUTPUT_FIRST_SHEETS[0]
    for title in T.OUTPUT_FIRST_SHEETS[1:]:
        workbook.create_sheet(title)
    workbook.save(output)
    files["output-workbook"] = output

    # A rating every spreadsheet shows as Not met, with Met hidden behind it in the file.
    import zipfile

    from .hostile import rezip

    shown = make_return(
        home, "M01", cells=full_answers(home, "M01", rating="Not met"), folder=folder / "shown"
    )
    with zipfile.ZipFile(shown) as z:
        hide = {
            n: re.sub(rb'(<c r="E6"[^>]* t="s"><v>\d+</v>)', rb"\1<is><t>Met</t></is>", z.read(n))
            for n in z.namelist()
            if n.startswith("xl/worksheets/sheet")
        }
    (folder / "hidden-answer").mkdir()
    files["hidden-answer"] = rezip(shown, folder / "hidden-answer" / shown.name, hide)

    too_large = folder / "too-large.xlsx"
    with open(too_large, "wb") as fh:
        fh.truncate(MAX_BYTES + 1)  # sparse: refused on its size before a byte is read
    files["too-large"] = too_large
    files["folder"] = folder  # never opened: not a file
    return files


@pytest.fixture(scope="module")
def produced(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[str]]:
    """Every code the engine actually reports on the test files, and which files gave it."""
    tmp = tmp_path_factory.mktemp("catalogue")
    home = init_home(tmp / "home")
    found: dict[str, set[str]] = {}

    def note(case: str, findings) -> None:
        for f in findings:
            assert f.severity == catalogue.lookup(f.code).severity, f
            found.setdefault(f.code, set()).add(case)

    good = make_return(home, "M01", folder=tmp / "good")
    hostile = build_corpus(good, tmp / "hostile")
    files = _broken_returns(home, tmp / "returns")
    assert not {case.name for case in hostile} & set(files), "one name per case"
    with Intake(home) as intake:
        assert intake.validate(good).findings == []
        for case in hostile:
            findings = intake.validate(case.path).findings
            assert [f.code for f in findings] == [case.expected_code], case.name
            note(case.name, findings)
        for name, path in files.items():
            note(name, intake.validate(path).findings)
        # What the pre-check says when it cannot read at all, before any worker is involved.
        note("pre-check-missing", precheck(tmp / "gone.xlsx"))
        note("pre-check-folder", precheck(tmp))
        # The file went between the worker's read and the record.
        note("vanished", intake.process(tmp / "vanished.xlsx").findings)
        # A draft saved before the return already counted, sent after it.
        final = tmp / "final" / T.file_name("M02", PERIOD)
        final.parent.mkdir()
        final.write_bytes(
            with_saved_at(
                make_return(home, "M02", folder=tmp / "f").read_bytes(),
                dt.datetime(2026, 12, 5, 16, 0),
            )
        )
        draft = tmp / "draft" / T.file_name("M02", PERIOD)
        draft.parent.mkdir()
        cells = full_answers(home, "M02", rating="Partly met")
        draft.write_bytes(
            with_saved_at(
                make_return(home, "M02", folder=tmp / "d", cells=cells).read_bytes(),
                dt.datetime(2026, 12, 1, 9, 0),
            )
        )
        intake.process(final)
        note("older-save", intake.process(draft).findings)
        # A workbook saved, by its own account, long after it arrived (a PC's clock set wrong).
        future = tmp / "future" / T.file_name("M04", PERIOD)
        future.parent.mkdir()
        future.write_bytes(
            with_saved_at(
                make_return(home, "M04", folder=tmp / "fu").read_bytes(),
                dt.datetime(2099, 1, 1, 9, 0),
            )
        )
        note("save-time-in-2099", intake.process(future).findings)
        # A return for a month the lead has closed.
        intake.ledger.close_period(PERIOD)
        late = make_return(home, "M03", folder=tmp / "late")
        note("closed-month", intake.process(late).findings)
        # Returns saved in another format, dropped in the inbox under their own names.
        by_name = {case.name: case.path for case in hostile}
        for case, name in (
            ("ods", "SeQuIn_M03_2026-11.ods"),
            ("old-xls", "SeQuIn_M03_2026-11.xls"),
        ):
            dropped = home.inbox / name
            dropped.write_bytes(by_name[case].read_bytes())
            note(f"{case}-in-the-inbox", intake.process(dropped).findings)
        # A fault in the engine itself costs that file only.
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr("engine.pipeline.check_return", _raise)
            note("engine-fault", intake.validate(good).findings)
    return found


def _raise(*_args, **_kwargs):
    raise RuntimeError("a fault in the checks")


def test_every_catalogued_code_is_produced(produced: dict[str, set[str]]) -> None:
    assert NOT_PRODUCED_HERE <= CODES
    assert not NOT_PRODUCED_HERE & set(produced), "produced now: take it off NOT_PRODUCED_HERE"
    unexpected = set(produced) - CODES
    assert not unexpected, f"produced but not catalogued: {sorted(unexpected)}"
    never = CODES - NOT_PRODUCED_HERE - set(produced)
    assert not never, f"catalogued but never produced (add a case here): {sorted(never)}"


@pytest.mark.parametrize(
    ("case", "codes"),
    [
        (
            "many-problems",
            {
                "rating-invalid",
                "rating-missing",
                "evidence-missing",
                "signoff-missing",
                "signoff-invalid",
                "personal-data",
                "text-too-long",
            },
        ),
        (
            "named-for-another-unit-and-month",
            {"file-name-unit-mismatch", "file-name-period-mismatch"},
        ),
        ("nothing-rated", {"return-empty", "rating-missing", "signoff-missing"}),
        ("actions-problems", {"action-incomplete", "action-invalid", "action-cleared"}),
        ("family-answer-not-understood", {"agree-invalid"}),
        ("family-nothing-answered", {"response-empty"}),
        ("family-named-as-a-return", {"wrong-kind"}),
        ("return-named-as-family", {"wrong-kind"}),
        ("edited-wording", {"locked-text-changed"}),
        ("sheets-changed", {"sheet-missing", "sheet-unexpected"}),
        ("unknown-bank", {"unknown-bank-version"}),
        ("altered-unit", {"token-invalid"}),
        ("other-network", {"token-invalid"}),
        ("unknown-unit", {"unknown-unit", "return-empty", "rating-missing", "signoff-missing"}),
        ("plain-spreadsheet", {"not-a-sequin-workbook"}),
        ("output-workbook", {"output-workbook"}),
        ("hidden-answer", {"changed-outside-spreadsheet"}),
        ("too-large", {"file-too-large"}),
        ("folder", {"not-a-regular-file"}),
        ("pre-check-missing", {"file-unreadable"}),
        ("pre-check-folder", {"file-unreadable"}),
        ("vanished", {"file-gone"}),
        ("engine-fault", {"engine-error"}),
        ("older-save", {"older-save"}),
        ("save-time-in-2099", {"save-time-unknown"}),
        ("closed-month", {"closed-month"}),
        ("ods", {"save-as-xlsx"}),
        ("flat-ods", {"save-as-xlsx"}),
        ("xlsb", {"save-as-xlsx"}),
        ("numbers", {"save-as-xlsx"}),
        ("excel-2003-xml", {"save-as-xlsx"}),
        ("odt", {"not-a-workbook"}),
        ("ods-in-the-inbox", {"save-as-xlsx"}),
        ("old-xls-in-the-inbox", {"old-xls-format"}),
    ],
)
def test_each_case_gives_its_codes(produced: dict[str, set[str]], case: str, codes: set) -> None:
    assert {code for code, cases in produced.items() if case in cases} == codes

"""Returns saved in another format: refused with the Save As advice, never "fill it in again".

A unit that saves its return as .ods or .xls (or sends an .xlsb) has kept every
rating: one Save As in a spreadsheet program makes it a workbook SeQuIn reads.
These tests make those files with a real LibreOffice from a filled return, drop
them into a home's inbox and check that the problems report leads with that
advice; then they do the Save As (as the lead would) and check the result is
accepted with exactly the original's answers and scores, although LibreOffice
dropped the workbook's structure protection and made the very hidden sheet
merely hidden on the way.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import pytest

from engine import template as T
from engine.home import Home, init_home
from engine.pipeline import Intake
from engine.precheck import SAVE_AS_XLSX, SAVE_AS_XLSX_FROM_ODS

from .conftest import PERIOD, make_return, report_path
from .conftest_libreoffice import require_libreoffice
from .hostile import xlsb_bytes
from .libreoffice import convert as lo_convert

pytestmark = pytest.mark.slow

UNIT = "M04"
NAME = T.file_name(UNIT, PERIOD)  # SeQuIn_M04_2026-11.xlsx
STEM = Path(NAME).stem
# What LibreOffice's File > Save As > "Excel 2007-365 (.xlsx)" uses.
SAVE_AS_EXCEL = "xlsx:Calc MS Excel 2007 XML"


def convert(src: Path, to: str, outdir: Path, timeout: float = 180.0) -> Path:
    """``soffice --headless --convert-to TO`` with a throw-away profile; the file it wrote."""
    require_libreoffice()
    return lo_convert(src, to, outdir, timeout)


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A home (untouched), a filled return and LibreOffice's copies of it in other formats."""
    require_libreoffice()
    tmp = tmp_path_factory.mktemp("other-formats")
    home = init_home(tmp / "home")
    original = make_return(home, UNIT, folder=tmp / "original", synthetic=True)
    files = {"home": home.root, "xlsx": original}
    for fmt in ("ods", "xls"):
        files[fmt] = convert(original, fmt, tmp / fmt)
    # What the lead does with the advice: open the file and Save As an Excel workbook.
    for fmt in ("ods", "xls", "xlsx"):
        files[f"{fmt}-saved-as-xlsx"] = convert(files[fmt], SAVE_AS_EXCEL, tmp / f"{fmt}-saved")
    return files


@pytest.fixture
def lab(made: dict[str, Path], tmp_path: Path) -> Home:
    """A fresh copy of the home that has taken nothing in yet."""
    return Home(shutil.copytree(made["home"], tmp_path / "home"))


def drop(home: Home, src: Path, name: str) -> Path:
    target = home.inbox / name
    shutil.copyfile(src, target)
    return target


def original_result(home: Home, made: dict[str, Path]):
    with Intake(home) as intake:
        v = intake.validate(made["xlsx"])
    assert v.valid and v.scores is not None
    return v


def test_libreoffice_wrote_the_other_formats(made: dict[str, Path]) -> None:
    with zipfile.ZipFile(made["ods"]) as zf:
        assert zf.read("mimetype") == b"application/vnd.oasis.opendocument.spreadsheet"
    assert made["xls"].read_bytes()[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@pytest.mark.parametrize(
    ("fmt", "code", "advice"),
    [("ods", "save-as-xlsx", SAVE_AS_XLSX_FROM_ODS), ("xls", "old-xls-format", SAVE_AS_XLSX)],
)
def test_a_return_in_another_format_is_refused_with_the_save_as_advice(
    lab: Home, made: dict[str, Path], fmt: str, code: str, advice: str
) -> None:
    name = f"{STEM}.{fmt}"
    path = drop(lab, made[fmt], name)
    with Intake(lab) as intake:
        [outcome] = intake.process_many([path])
    assert outcome.outcome == "rejected"
    assert [f.code for f in outcome.findings] == [code]
    message = outcome.findings[0].message
    assert message.startswith(advice + " "), message
    assert "nothing needs filling in again" in advice
    assert "its name ends in" not in message  # the name is right: it is the content that differs
    assert not re.search(r"fill (?:it )?in and", message)
    report = report_path(lab, name)
    assert report == lab.inbox / f"{name}.problems.txt"
    text = report.read_text(encoding="utf-8-sig")
    assert advice in text and f"({code})" in text
    assert path.exists(), "a refused file stays in the inbox beside its report"


def test_an_xlsb_return_is_refused_with_the_save_as_advice(lab: Home) -> None:
    # LibreOffice cannot write .xlsb, so the file is built: the parts Excel writes.
    name = f"{STEM}.xlsb"
    path = lab.inbox / name
    path.write_bytes(xlsb_bytes())
    with Intake(lab) as intake:
        [outcome] = intake.process_many([path])
    assert outcome.outcome == "rejected"
    [finding] = outcome.findings
    assert finding.code == "save-as-xlsx" and finding.message.startswith(SAVE_AS_XLSX + " ")
    assert "(.xlsb)" in finding.message
    assert SAVE_AS_XLSX in report_path(lab, name).read_text(encoding="utf-8-sig")


@pytest.mark.parametrize("fmt", ["ods", "xls", "xlsx"])
def test_saved_as_xlsx_by_libreoffice_it_is_accepted_with_the_same_scores(
    lab: Home, made: dict[str, Path], fmt: str
) -> None:
    saved = made[f"{fmt}-saved-as-xlsx"]
    # LibreOffice's save loses what the engine must not depend on.
    with zipfile.ZipFile(saved) as zf:
        workbook = zf.read("xl/workbook.xml").decode()
    assert 'lockStructure="1"' not in workbook
    assert "veryHidden" not in workbook
    assert re.search(r'<sheet name="Metadata"[^>]*state="hidden"', workbook)

    original = original_result(lab, made)
    with Intake(lab) as intake:
        again = intake.validate(saved, file_name=NAME)
        [outcome] = intake.process_many([drop(lab, saved, NAME)])
    assert outcome.outcome == "accepted", [f.to_dict() for f in outcome.findings]
    assert (outcome.unit, outcome.period) == (UNIT, PERIOD)
    assert outcome.scores is not None
    assert outcome.scores.overall_percent == original.scores.overall_percent
    assert outcome.scores.to_dict() == original.scores.to_dict()
    assert again.ret.answers == original.ret.answers
    assert again.ret.signoffs == original.ret.signoffs
    assert sorted(f.code for f in outcome.findings) == sorted(f.code for f in original.findings)

"""CSV exports: every text cell inert, personal data masked."""

from __future__ import annotations

import csv
import io

import pytest

from engine.outputs import refresh_outputs
from engine.outputs.csv_files import inert, to_csv
from engine.pipeline import Intake

from .conftest import PERIOD, full_answers, make_return


@pytest.mark.parametrize(
    "text",
    [
        "=1+1",
        "+44 123",
        "-2+3",
        "@SUM(A1)",
        "\tx",
        "\rx",
        '=HYPERLINK("http://example.invalid","x")',
    ],
)
def test_active_cells_are_made_inert(text):
    assert inert(text) == "'" + text
    assert list(csv.reader(io.StringIO(to_csv(["a"], [[text]]).decode("utf-8-sig"))))[1] == [
        "'" + text
    ]


def test_plain_text_and_numbers_are_left_alone():
    assert inert("Minutes of 3 May") == "Minutes of 3 May"
    assert inert(72.5) == 72.5


def test_the_evidence_csv_is_inert_and_masked(home):
    cells = full_answers(home, "M01")
    cells[("1 Involvement", "F6")] = '=HYPERLINK("http://example.invalid","x")'
    cells[("1 Involvement", "F7")] = "-1+2 seen in minutes"
    cells[("1 Involvement", "F8")] = "Care plan for NHS 943 476 5919 checked"
    with Intake(home) as intake:
        assert intake.process(make_return(home, "M01", cells=cells)).outcome == "accepted"
        refresh_outputs(home, [PERIOD], ledger=intake.ledger)
    folder = home.outbox / PERIOD
    text = (folder / f"SeQuIn_evidence_{PERIOD}.csv").read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    evidence = {r["standard_id"]: r["evidence"] for r in rows}
    assert evidence["INV-01"] == "'" + '=HYPERLINK("http://example.invalid","x")'
    assert evidence["INV-02"] == "'-1+2 seen in minutes"
    assert "943 476 5919" not in text and "[removed]" in evidence["INV-03"]
    scores = list(
        csv.DictReader(
            io.StringIO((folder / f"SeQuIn_scores_{PERIOD}.csv").read_text(encoding="utf-8-sig"))
        )
    )
    overall = [r for r in scores if r["area_id"] == "ALL"]
    assert overall == [
        {
            "period": PERIOD,
            "unit": "M01",
            "area_id": "ALL",
            "area": "Overall",
            "percent": "100.0",
            "rag": "Green",
            "complete": "",
        }
    ]


def test_the_secret_is_in_no_output(home):
    import zipfile

    with Intake(home) as intake:
        intake.process(make_return(home, "M02"))
        refresh_outputs(home, [PERIOD], ledger=intake.ledger)
    secret = home.secret()
    files = [p for p in home.outbox.rglob("*") if p.is_file()]
    assert len(files) >= 5
    for path in files:
        assert secret not in path.read_bytes(), path
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as zf:
                assert all(secret not in zf.read(n) for n in zf.namelist()), path

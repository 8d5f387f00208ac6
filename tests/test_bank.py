"""The question bank: counts, IDs, wording, and a loader that refuses broken banks."""

import copy
import re
import sys

import pytest

from engine.bank import AREA_ORDER, load_bank, parse_bank
from engine.errors import BankError

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib


@pytest.fixture(scope="module")
def bank():
    return load_bank()


@pytest.fixture(scope="module")
def raw():
    from importlib import resources

    files = sorted((resources.files("engine") / "data" / "banks").iterdir(), key=lambda p: p.name)
    return tomllib.loads([f for f in files if f.name.endswith(".toml")][-1].read_text("utf-8"))


def test_twelve_areas_in_the_brief_order(bank):
    assert [a.id for a in bank.areas] == list(AREA_ORDER)
    assert [a.name for a in bank.areas][:3] == [
        "Involvement",
        "Recovery Pathway",
        "Recovery College",
    ]
    assert bank.areas[-1].name == "Technology"


def test_120_standards_with_unique_stable_ids(bank):
    ids = [s.id for s in bank.standards]
    assert len(ids) == 120 and len(set(ids)) == 120
    for area in bank.areas:
        assert [s.id for s in area.standards] == [f"{area.id}-{i:02d}" for i in range(1, 11)]


def test_every_standard_has_wording_easy_read_and_evidence(bank):
    for s in bank.standards:
        assert len(s.text) > 30, s.id
        assert len(s.easy_read) > 15, s.id
        assert s.easy_read != s.text, s.id
        assert 1 <= len(s.evidence) <= 2, s.id
    for a in bank.areas:
        assert len(a.description) > 30, a.id


def test_wording_uses_no_placeholder_text(bank):
    for s in bank.standards:
        assert not re.search(r"lorem|TODO|TBC|xxx", s.text + s.easy_read, re.IGNORECASE), s.id


def test_bank_version_is_set(bank):
    assert re.match(r"^\d{4}\.\d+$", bank.version)


@pytest.mark.parametrize(
    "breakage, message",
    [
        (lambda d: d["areas"][1]["standards"][0].update(id="INV-01"), "must look like REC-01"),
        (
            lambda d: d["areas"][0]["standards"][1].update(id="INV-01"),
            "duplicate standard id INV-01",
        ),
        (lambda d: d["areas"][0]["standards"][3].update(easy_read="  "), "INV-04 has no easy_read"),
        (lambda d: d["areas"][0]["standards"][3].update(text=""), "INV-04 has no text"),
        (lambda d: d["areas"][2]["standards"].pop(), "must have 10 standards, found 9"),
        (lambda d: d["areas"].pop(), "expected 12 areas, found 11"),
        (lambda d: d.pop("bank_version"), "bank_version is missing"),
        (lambda d: d["areas"][0]["standards"][0].update(evidence=[]), "INV-01 has no evidence"),
        (lambda d: d.update(retired_ids=["TEC-10"]), "TEC-10 was retired"),
    ],
)
def test_loader_rejects_a_broken_bank_with_a_clear_message(raw, breakage, message):
    data = copy.deepcopy(raw)
    breakage(data)
    with pytest.raises(BankError, match=re.escape(message)):
        parse_bank(data, "test bank")

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


def test_newest_bank_marks_essential_standards_and_2026_1_has_none(bank):
    essentials = [s.id for s in bank.standards if s.essential]
    assert 8 <= len(essentials) <= 12
    assert bank.essentials == [s for s in bank.standards if s.essential]
    assert {"INV-01", "RRP-04", "FFC-04", "CPA-06", "RSK-03"} <= set(essentials)
    assert len({sid[:3] for sid in essentials}) >= 8, "spread over the areas"
    old = load_bank("2026.1")
    assert old.essentials == []
    # The same standards, IDs and wording: only the essential marks differ.
    strip = [(s.id, s.text, s.easy_read, s.evidence) for s in old.standards]
    assert strip == [(s.id, s.text, s.easy_read, s.evidence) for s in bank.standards]


def test_every_essential_standard_says_why_at_the_top_of_the_bank_file(raw):
    from importlib import resources

    text = (resources.files("engine") / "data" / "banks" / "bank-2026.2.toml").read_text("utf-8")
    essentials = [s["id"] for a in raw["areas"] for s in a["standards"] if s.get("essential")]
    for sid in essentials:
        assert re.search(rf"^#\s+{sid}: \w+", text, re.MULTILINE), sid


@pytest.mark.parametrize("value", ["yes", 1, "true"])
def test_loader_rejects_an_essential_mark_that_is_not_true_or_false(raw, value):
    data = copy.deepcopy(raw)
    data["areas"][0]["standards"][2]["essential"] = value
    with pytest.raises(BankError, match=r"INV-03 has essential = .*write essential = true"):
        parse_bank(data, "test bank")

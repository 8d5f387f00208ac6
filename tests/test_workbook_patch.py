"""The month's workbooks derived by patching (engine.patched) are the workbooks built in full.

``build_workbook`` is the reference: every unit's patched workbook must be the same
bytes, with and without last month's ratings and carried actions, and for a network
whose names are long, accented, and full of ampersands and apostrophes.
"""

from __future__ import annotations

import dataclasses
import io
import zipfile

import pytest

from engine import patched
from engine import template as T
from engine.generation import generate, read_carry
from engine.home import Home, Unit
from engine.ledger.carry import CarriedAction, PreviousRatings
from engine.patched import MonthWorkbooks
from engine.workbook import Carry, build_workbook
from tests.test_carry import add_return

MONTH, NEXT = "2026-10", "2026-11"


def _differences(expected: bytes, actual: bytes) -> list[str]:
    """The zip entries that differ (names, order or bytes), for a readable failure."""
    a, b = zipfile.ZipFile(io.BytesIO(expected)), zipfile.ZipFile(io.BytesIO(actual))
    if a.namelist() != b.namelist():
        return [f"entries {a.namelist()} != {b.namelist()}"]
    found = [n for n in a.namelist() if a.read(n) != b.read(n)]
    found += [n for n in a.namelist() if a.getinfo(n).FileHeader() != b.getinfo(n).FileHeader()]
    return found or ["same parts, different zip bytes"]


def assert_same(network, bank, period: str, tokens: dict, carry: dict) -> MonthWorkbooks:
    """Every unit's patched workbook is byte for byte the reference build."""
    month = MonthWorkbooks(network, bank, period)
    for code, token in tokens.items():
        expected = build_workbook(network, bank, code, period, token, carry.get(code))
        actual = month.build(code, token, carry.get(code))
        assert actual == expected, (code, _differences(expected, actual))
    # Only the first unit of each shape is built in full: every other one is derived.
    assert month.full_builds == len(month._shapes)
    assert all(shape is not patched._UNUSABLE for shape in month._shapes.values())
    return month


def _tokens(home: Home, network, period: str) -> dict[str, str]:
    bank = home.bank()
    return {u.code: home.token(u.code, period, bank.version) for u in network.units}


def _ratings(bank, n: int) -> dict[str, str]:
    """Varied ratings, some blank (shown as Not rated), different for each n."""
    labels = ["Met", "Partly met", "Not met", "Not applicable", ""]
    stds = [s for a in bank.areas for s in a.standards]
    return {s.id: labels[(i * (n + 1) + n) % len(labels)] for i, s in enumerate(stds)}


@pytest.fixture
def ledger_home(home: Home) -> Home:
    """Counted October returns: most units with ratings, some with open actions, two none."""
    bank = home.bank()
    codes = [u.code for u in home.network.units]
    ledger = home.open_ledger()
    try:
        for n, code in enumerate(codes[:-2]):
            actions = ()
            if n % 4 == 1:
                actions = (
                    (f"{MONTH}.1", "Offer a debrief & a follow-up", "RRP", "Ward manager",
                     "2026-12-15", "In progress"),
                    (f"{MONTH}.2", "Hold a menu tasting session", "DIN", "O'Neil", "soon",
                     "Not started"),
                )  # fmt: skip
            received = f"2026-11-{1 + n % 9:02d}T10:15:00+00:00"
            add_return(ledger, code, MONTH, _ratings(bank, n), actions, received=received)
        ledger.db.commit()
    finally:
        ledger.close()
    return home


def test_every_unit_without_a_ledger(home):
    network = home.network
    tokens = _tokens(home, network, NEXT)
    carry = read_carry(home, NEXT, list(tokens))
    month = assert_same(network, home.bank(), NEXT, tokens, carry)
    assert len(month._shapes) == 1
    # And with no carry at all.
    assert_same(network, home.bank(), NEXT, tokens, {})


def test_every_unit_with_last_months_ratings_and_carried_actions(ledger_home):
    home = ledger_home
    tokens = _tokens(home, home.network, NEXT)
    carry = read_carry(home, NEXT, list(tokens))
    assert sum(1 for c in carry.values() if c.actions) >= 3
    assert sum(1 for c in carry.values() if c.previous.found) == len(tokens) - 2
    month = assert_same(home.network, home.bank(), NEXT, tokens, carry)
    assert len(month._shapes) == 2  # with last month's ratings, and without


def test_generate_writes_the_reference_bytes(ledger_home):
    home = ledger_home
    bank = home.bank()
    codes = [u.code for u in home.network.units]
    carry = read_carry(home, NEXT, codes)
    paths = generate(home, NEXT)
    assert [p.name for p in paths] == [T.file_name(c, NEXT) for c in codes]
    for code, path in zip(codes, paths):
        token = home.token(code, NEXT, bank.version)
        assert path.read_bytes() == build_workbook(
            home.network, bank, code, NEXT, token, carry[code]
        ), code


UNUSUAL = (
    Unit("A1", "Ward & Ó'Brien's Unit — Café Ñ"),
    Unit("ZZZZZZZZZZZZ", "Ward & Ó'Brien's Unit — Café Ñ " * 6 + "(the long one)"),
    Unit("b2", '  <Ward> "B&B" _x0041_ ünïcödé  '),
    Unit("Yes", "Met"),  # a code and a name that are strings the workbook already uses
    Unit("Met", "Yes"),
    Unit("x", "x"),
    Unit("AMP", "&&& ''' &amp;"),
)


@pytest.mark.parametrize("first_carries", [False, True])
@pytest.mark.parametrize("found", [False, True])
def test_a_network_with_unusual_names(home, found, first_carries):
    """Also: the first unit (the one built in full) with carried actions, or without."""
    network = dataclasses.replace(home.network, units=UNUSUAL)
    bank = home.bank()
    tokens = _tokens(home, network, NEXT)
    carry = {}
    for n, code in enumerate(tokens):
        received = f"2026-11-{1 + n:02d}T10:15:00+00:00" if found else None
        carry[code] = Carry(PreviousRatings(MONTH, received, _ratings(bank, n) if found else {}))
    for n, code in enumerate(["A1", "x", "AMP", "b2"] if first_carries else ["x", "AMP", "b2"]):
        actions = (
            CarriedAction(f"{MONTH}.1", "Café & crème — l'été " * n, "DIN", "Ó'Brien", "", "Done?"),
            CarriedAction(f"{MONTH}.2", "Met", "INV", "Yes", "2026-13-45", "In progress"),
        )
        carry[code] = Carry(carry[code].previous, actions[: n + 1])
    month = assert_same(network, bank, NEXT, tokens, carry)
    assert len(month._shapes) == 1


def test_a_sheet_written_in_an_unknown_order_is_built_in_full(home, monkeypatch):
    """A shape that cannot derive itself back is never used: its units are built in full."""

    def unknown(sheet, table, overrides):
        raise patched._Misfit(sheet.name)

    monkeypatch.setattr(patched, "_written_order", unknown)
    network = home.network
    tokens = dict(list(_tokens(home, network, NEXT).items())[:3])
    month = MonthWorkbooks(network, home.bank(), NEXT)
    for code, token in tokens.items():
        assert month.build(code, token) == build_workbook(network, home.bank(), code, NEXT, token)
    assert month.full_builds == 3
    assert all(s is patched._UNUSABLE for s in month._shapes.values())


def test_a_unit_not_in_the_network_is_refused(home):
    month = MonthWorkbooks(home.network, home.bank(), NEXT)
    with pytest.raises(KeyError):
        month.build("NOPE", "token")

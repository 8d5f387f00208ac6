"""Scoring exactly as the brief defines it."""

from engine.home import Home
from engine.scoring import score


def test_area_and_overall_percentages_by_hand(tmp_path):
    home = Home(tmp_path)
    bank, net = home.bank(), home.network
    inv = [s.id for s in bank.area("INV").standards]
    rec = [s.id for s in bank.area("REC").standards]
    ratings = {}
    # INV: 5 Met, 3 Partly, 1 Not met, 1 N/A -> 13 / (2*9) = 72.2 % Amber
    for sid, label in zip(inv, ["Met"] * 5 + ["Partly met"] * 3 + ["Not met", "N/A"]):
        ratings[sid] = label
    # REC: 8 Met, 2 unanswered -> 16/16 = 100 % Green, incomplete
    for sid in rec[:8]:
        ratings[sid] = "Met"
    s = score(bank, net, ratings)
    assert s.areas["INV"].percent == 72.2 and s.areas["INV"].rag == "Amber"
    assert (s.areas["INV"].answered, s.areas["INV"].applicable) == (10, 9)
    assert s.areas["INV"].complete
    assert s.areas["REC"].percent == 100.0 and not s.areas["REC"].complete
    assert s.areas["COL"].percent is None and s.areas["COL"].rag == ""
    assert s.overall_percent == round(100 * 29 / 34, 1)


def test_rag_thresholds_are_inclusive(tmp_path):
    home = Home(tmp_path)
    bank, net = home.bank(), home.network
    ids = [s.id for s in bank.area("INV").standards]
    # 8 Met + 2 Not met = 16/20 = exactly 80 % -> Green
    s = score(bank, net, dict(zip(ids, ["Met"] * 8 + ["Not met"] * 2)))
    assert s.areas["INV"].percent == 80.0 and s.areas["INV"].rag == "Green"
    # 5 Met + 5 Not met = exactly 50 % -> Amber
    s = score(bank, net, dict(zip(ids, ["Met"] * 5 + ["Not met"] * 5)))
    assert s.areas["INV"].rag == "Amber"
    s = score(bank, net, dict(zip(ids, ["Met"] * 4 + ["Partly met"] + ["Not met"] * 5)))
    assert s.areas["INV"].percent == 45.0 and s.areas["INV"].rag == "Red"


def test_all_not_applicable_area_has_no_percentage(tmp_path):
    home = Home(tmp_path)
    bank = home.bank()
    s = score(bank, home.network, {sid.id: "N/A" for sid in bank.area("TEC").standards})
    assert s.areas["TEC"].percent is None and s.areas["TEC"].answered == 10

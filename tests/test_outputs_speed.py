"""What keeps a month's outputs cheap: no forcing to disk, memory flat from month to month."""

from __future__ import annotations

import gc
import os
import weakref

import pytest

from benchmarks.data import fill_ledger, make_home, months
from engine import files
from engine.outputs import build as R
from engine.outputs.figures import collect

PERIODS = months(2)


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    home = make_home(tmp_path_factory.mktemp("speed") / "home", 10)
    fill_ledger(home, PERIODS)
    return home


def _count_fsyncs(monkeypatch) -> list[int]:
    calls: list[int] = []
    real = os.fsync

    def counting(fd):
        calls.append(fd)
        return real(fd)

    monkeypatch.setattr(os, "fsync", counting)
    return calls


def test_outputs_are_written_atomically_without_forcing_each_to_disk(filled, monkeypatch):
    calls = _count_fsyncs(monkeypatch)
    ledger = filled.open_ledger()
    try:
        written = R.build_period(filled, ledger, PERIODS[-1])
    finally:
        ledger.close()
    assert len(written) > 10 and all(p.exists() for p in written)
    assert calls == []
    assert not list(R.period_folder(filled, PERIODS[-1]).rglob(files.TEMP_PREFIX + "*"))


def test_other_files_are_still_forced_to_disk_by_default(tmp_path, monkeypatch):
    calls = _count_fsyncs(monkeypatch)
    files.write_atomic(tmp_path / "kept.txt", b"kept")
    assert len(calls) == 1 and (tmp_path / "kept.txt").read_bytes() == b"kept"


class _Cycle:
    def __init__(self):
        self.me = self


def test_what_a_month_leaves_behind_is_collected_before_the_next(filled, monkeypatch):
    """Objects frozen while a month is built, then let go, do not outlive the month."""
    ledger = filled.open_ledger()
    try:
        data = collect(filled, ledger, PERIODS[-1])
    finally:
        ledger.close()
    held = [_Cycle()]
    gone = weakref.ref(held[0])
    real = R.scores_csv

    def let_go(d):
        held.clear()  # the last reference goes while everything is frozen
        return real(d)

    monkeypatch.setattr(R, "scores_csv", let_go)
    R.write_outputs(filled, data)
    assert gc.get_freeze_count() == 0
    assert gone() is None


def test_counts_are_worked_out_once_and_handed_out_as_copies(filled):
    ledger = filled.open_ledger()
    try:
        data = collect(filled, ledger, PERIODS[-1])
    finally:
        ledger.close()
    first = data.counts()
    first["returned"] = -1
    assert data.counts() == {"returned": 10, "rejected": 0, "missing": 0}


def test_a_network_of_units_is_built_the_same_in_workers_and_here(filled, monkeypatch):
    ledger = filled.open_ledger()
    try:
        data = collect(filled, ledger, PERIODS[-1])
    finally:
        ledger.close()
    monkeypatch.setattr(R, "PARALLEL_FROM", 10**6)
    serial = {p.name: p.read_bytes() for p in R.write_outputs(filled, data)[0]}
    monkeypatch.undo()
    parallel = {p.name: p.read_bytes() for p in R.write_outputs(filled, data)[0]}
    assert serial == parallel

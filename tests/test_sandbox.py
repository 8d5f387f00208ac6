"""The sandbox: untrusted files are read in a worker process under memory and time limits."""

from __future__ import annotations

import os
import signal
import zipfile

import pytest

from engine.sandbox import ReadFailed, Sandbox

from .conftest import make_return
from .hostile import build_corpus, rezip


@pytest.fixture
def corpus(home, tmp_path):
    good = make_return(home, "M01", folder=tmp_path / "good")
    return good, {c.name: c.path for c in build_corpus(good, tmp_path / "corpus")}


def test_a_far_cell_is_refused_by_the_pre_check_inside_the_worker(corpus):
    """A far-away cell would make the native reader abort; the worker's pre-check refuses it first."""
    good, _cases = corpus
    # The far cell goes on an area sheet, which the reader does read.
    with zipfile.ZipFile(good) as zf:
        sheet = zf.read("xl/worksheets/sheet3.xml")
    row = b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
    far = rezip(
        good,
        good.with_name("far.xlsx"),
        {"xl/worksheets/sheet3.xml": sheet.replace(b"</sheetData>", row + b"</sheetData>")},
    )
    with Sandbox() as box:
        answer = box.read(far)
        assert [f["code"] for f in answer["refused"]] == ["cell-out-of-range"]
        assert box.read(good)["ok"]["cells"]["Metadata"]["B1"] == "M01"


def test_a_zip_bomb_is_refused_in_a_small_worker(corpus):
    good, cases = corpus
    with Sandbox(memory_mb=300, timeout=60) as box:
        assert [f["code"] for f in box.read(cases["zip-bomb"])["refused"]] == ["zip-bomb"]
        assert box.read(good)["ok"]["sheets"][0][0] == "Start here"


def test_a_worker_that_dies_mid_read_costs_that_file_only(corpus):
    good, _cases = corpus
    with Sandbox() as box:
        box.read(good)
        os.kill(box.pid, signal.SIGSTOP)  # holds the worker before it can answer
        box.submit(good)
        box.submit(good)
        box._proc.kill()  # as a native abort would
        with pytest.raises(ReadFailed) as info:
            box.collect()
        assert info.value.kind == "crash"
        assert (
            box.collect()["ok"]["cells"]["Metadata"]["B1"] == "M01"
        )  # resubmitted to a new worker


def test_a_read_over_time_is_stopped_and_the_worker_replaced(corpus):
    good, _cases = corpus
    with Sandbox(timeout=0.001) as box:
        with pytest.raises(ReadFailed) as info:
            box.read(good)
        assert info.value.kind == "timeout"
        box.timeout = 30
        assert box.read(good)["ok"]["cells"]["Metadata"]["B2"] == "2026-11"


def test_a_killed_worker_is_restarted(corpus):
    good, _cases = corpus
    with Sandbox() as box:
        box.read(good)
        box._proc.kill()
        box._proc.wait()
        assert box.read(good)["ok"]["cells"]["Metadata"]["B1"] == "M01"

"""The sandbox: untrusted files are read in a worker process under memory and time limits."""

from __future__ import annotations

import zipfile

import pytest

from engine.sandbox import ReadFailed, Sandbox

from .conftest import make_return
from .hostile import build_corpus, rezip


@pytest.fixture
def corpus(home, tmp_path):
    good = make_return(home, "M01", folder=tmp_path / "good")
    return good, {c.name: c.path for c in build_corpus(good, tmp_path / "corpus")}


def test_a_reader_crash_costs_one_file_not_the_engine(corpus):
    """Without the pre-check, a far-away cell makes the native reader abort: only the worker dies."""
    good, _cases = corpus
    # The far cell goes on an area sheet, which the reader does read.
    with zipfile.ZipFile(good) as zf:
        sheet = zf.read("xl/worksheets/sheet3.xml")
    row = b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
    far = rezip(good, good.with_name("far.xlsx"),
                {"xl/worksheets/sheet3.xml": sheet.replace(b"</sheetData>", row + b"</sheetData>")})
    with Sandbox() as box:
        with pytest.raises(ReadFailed) as info:
            box.read(far)
        assert info.value.kind in ("crash", "error")
        assert box.read(good)["cells"]["Metadata"]["B1"] == "M01"  # a new worker took over


def test_a_zip_bomb_read_without_the_pre_check_stays_within_the_memory_limit(corpus):
    good, cases = corpus
    bomb = cases["zip-bomb"]
    with Sandbox(memory_mb=300, timeout=60) as box:
        try:
            box.read(bomb)
        except ReadFailed as exc:
            assert exc.kind in ("crash", "error", "timeout")
        assert box.read(good)["sheets"][0][0] == "Start here"


def test_a_read_over_time_is_stopped_and_the_worker_replaced(corpus):
    good, _cases = corpus
    with Sandbox(timeout=0.001) as box:
        with pytest.raises(ReadFailed) as info:
            box.read(good)
        assert info.value.kind == "timeout"
        box.timeout = 30
        assert box.read(good)["cells"]["Metadata"]["B2"] == "2026-11"


def test_a_killed_worker_is_restarted(corpus):
    good, _cases = corpus
    with Sandbox() as box:
        box.read(good)
        box._proc.kill()
        box._proc.join()
        assert box.read(good)["cells"]["Metadata"]["B1"] == "M01"

"""``sequin doctor`` warns when a month's outputs no longer show what the ledger counts.

A month's outputs are out of date once a return or family and friends response for it
is counted, replaced or released after they were built, and missing when returns are
counted but they were never built. Either is a warning (the home stays healthy) that
names the month and the command that rebuilds it; ``sequin report`` ends it. A home as
the engine leaves it (the demo, a held return) raises no such warning.
"""

from __future__ import annotations

import json

from click.testing import CliRunner

from cli import main
from engine.lock import HomeLock

from .conftest import PERIOD, make_return

TODAY = "2026-12-14"


def sequin(home, *args: str):
    result = CliRunner().invoke(main, [*args, "--home", str(home.root)], catch_exceptions=False)
    assert "Traceback" not in result.output
    return result


def outputs_check(home) -> dict:
    result = sequin(home, "doctor", "--json")
    data = json.loads(result.output)
    assert result.exit_code == 0 and data["healthy"], result.output  # a warning, not a problem
    (found,) = [c for c in data["checks"] if c["name"] == "outputs"]
    return found


def test_a_return_taken_in_without_rebuilding_makes_the_month_out_of_date(home, monkeypatch):
    monkeypatch.setenv("SEQUIN_TODAY", TODAY)
    assert sequin(home, "generate", "--period", PERIOD).exit_code == 0
    first = [make_return(home, u, synthetic=True) for u in ("M01", "M02")]
    assert sequin(home, "process", *map(str, first)).exit_code == 0  # outputs built
    assert outputs_check(home)["status"] == "ok"

    later = make_return(home, "M03", synthetic=True)
    assert sequin(home, "process", str(later), "--no-outputs").exit_code == 0
    found = outputs_check(home)
    assert found["status"] == "warning" and found["files"] == [PERIOD]
    assert f"the outputs of {PERIOD} are out of date" in found["message"]
    assert f"Run 'sequin report --period {PERIOD}'" in found["action"]
    text = sequin(home, "doctor").output
    assert "warning  outputs" in text and f"sequin report --period {PERIOD}" in text
    assert "The home is healthy (1 warning: see above)." in text

    assert sequin(home, "report", "--period", PERIOD).exit_code == 0
    assert outputs_check(home)["status"] == "ok"


def test_a_release_left_to_a_running_watcher_is_out_of_date_until_rebuilt(home, monkeypatch):
    monkeypatch.setenv("SEQUIN_TODAY", TODAY)
    assert sequin(home, "generate", "--period", PERIOD).exit_code == 0
    on_time = [make_return(home, u, synthetic=True) for u in ("M01", "M02")]
    assert sequin(home, "process", *map(str, on_time)).exit_code == 0
    assert sequin(home, "close", "--period", PERIOD).exit_code == 0
    late = make_return(home, "M03", synthetic=True)
    assert sequin(home, "process", str(late)).exit_code == 0
    held = outputs_check(home)
    assert held["status"] == "ok", "a held return changes nothing the outputs show"

    watcher = HomeLock(home.root)  # another sequin (the watcher) is working in the home
    watcher.acquire()
    try:
        released = sequin(home, "release", late.name)
        assert released.exit_code == 0 and "now counted" in released.output
        found = outputs_check(home)
    finally:
        watcher.release()
    assert found["status"] == "warning" and found["files"] == [PERIOD]
    assert f"'sequin report --period {PERIOD}'" in found["action"]

    assert sequin(home, "report", "--period", PERIOD).exit_code == 0
    assert outputs_check(home)["status"] == "ok"


def test_a_month_with_returns_whose_outputs_were_never_built(taken_home):
    # Two returns taken in, no outputs built for their month.
    found = outputs_check(taken_home)
    assert found["status"] == "warning" and found["files"] == [PERIOD]
    assert f"{PERIOD} has returns counted but no outputs in outbox/" in found["message"]
    assert f"Run 'sequin report --period {PERIOD}'" in found["action"]
    assert sequin(taken_home, "report", "--period", PERIOD).exit_code == 0
    assert outputs_check(taken_home)["status"] == "ok"

    # Built, then removed: the ledger has nothing left to rebuild, but the month has no outputs.
    (taken_home.outbox / PERIOD / f"SeQuIn_network_{PERIOD}.xlsx").unlink()
    found = outputs_check(taken_home)
    assert found["status"] == "warning" and found["files"] == [PERIOD]
    assert "never built, or removed" in found["message"]


def test_a_later_month_shows_an_earlier_one_in_its_trends(home, monkeypatch):
    monkeypatch.setenv("SEQUIN_TODAY", TODAY)
    for period in ("2026-10", PERIOD):
        assert sequin(home, "generate", "--period", period).exit_code == 0
        path = make_return(home, "M01", period=period, synthetic=True)
        assert sequin(home, "process", str(path)).exit_code == 0
    assert outputs_check(home)["status"] == "ok"
    october = make_return(home, "M02", period="2026-10", synthetic=True)
    assert sequin(home, "process", str(october), "--no-outputs").exit_code == 0
    found = outputs_check(home)
    assert found["files"] == ["2026-10", PERIOD]
    assert "the outputs of 2026-10 and 2026-11 are out of date" in found["message"]
    assert (
        "Run 'sequin report --period 2026-10', then 'sequin report --period 2026-11'"
        in found["action"]
    )


def test_the_demo_home_raises_no_false_alarm(tmp_path):
    new = tmp_path / "demo"
    assert CliRunner().invoke(main, ["demo", "--months", "2", "--home", str(new)]).exit_code == 0
    result = CliRunner().invoke(main, ["doctor", "--home", str(new), "--json"])
    data = json.loads(result.output)
    assert result.exit_code == 0 and data["warnings"] == 0, result.output
    (found,) = [c for c in data["checks"] if c["name"] == "outputs"]
    assert found["status"] == "ok" and "has its outputs" in found["message"]

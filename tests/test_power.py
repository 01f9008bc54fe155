"""Every check has power: each broken planner is caught by some planner-suite check,
and every reference planner passes every check."""

from __future__ import annotations

import pytest

from mfcheck import solvers
from mfcheck.check import ERROR, FAIL, PASS

from . import broken_planners
from .power import suite_results

PLANNER_SUITES = ["two-route", "n-route"]


def _results(spec: str, stop_at_first_failure: bool):
    return suite_results(PLANNER_SUITES, spec, stop_at_first_failure=stop_at_first_failure)


@pytest.mark.parametrize("key", list(broken_planners.BROKEN))
def test_broken_planner_is_caught(key):
    spec = f"tests.broken_planners:BROKEN[{key}]"
    caught = [r for r in _results(spec, stop_at_first_failure=True) if r.status in (FAIL, ERROR)]
    assert caught, f"no check caught {key}"
    assert caught[0].message  # the message says which check and by how much


@pytest.mark.parametrize("key", list(solvers.load("mfcheck.reference:PLANNERS")))
def test_reference_planner_passes_every_check(key):
    spec = f"mfcheck.reference:PLANNERS[{key}]"
    results = list(_results(spec, stop_at_first_failure=False))
    assert results, f"no check applies to {key}"
    bad = [f"{r.check}[{r.game}]: {r.message}" for r in results if r.status != PASS]
    assert not bad, "\n".join(bad)


def test_cli_exits_1_on_a_broken_planner_and_says_by_how_much(tmp_path, capsys):
    import json

    from mfcheck.cli import main
    code = main(["run", "two-route", "--solver", "tests.broken_planners:SignFlippedCost",
                 "--device", "cpu", "--jobs", "0", "--report-dir", str(tmp_path)])
    assert code == 1
    report = json.loads((tmp_path / "report.json").read_text())
    failed = [r for r in report["results"] if r["status"] == "fail"]
    assert failed and all(r["check"] == "reaches-equilibrium" for r in failed)
    assert all("exploitability is" in r["message"] and "tolerance" in r["message"]
               for r in failed)

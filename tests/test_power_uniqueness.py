"""The uniqueness suite has power: a planner whose limit depends on its start, and one that
ignores the start it is given, are each caught (FAIL; tests/test_power_catalogue.py runs
their catalogue entries), also on a stationary game, while the reference planners pass
(the whole quick suite on them: ``mfcheck run uniqueness --quick``, about 2 minutes)."""

from __future__ import annotations

import pytest

from mfcheck import registry, solvers
from mfcheck.check import FAIL, PASS, SKIP, XFAIL

from . import broken_planners
from .power import suite_results

@pytest.fixture(autouse=True)
def _registered(monkeypatch):
    monkeypatch.setitem(registry.SUITE_MODULES, "uniqueness", "mfcheck.suites.uniqueness")


def test_a_start_dependent_limit_is_caught_on_stationary_resource_selection():
    results = list(suite_results(["uniqueness"],
                                 "tests.broken_planners:BROKEN_STARTS[resumed-fictitious-play]",
                                 checks=["unique-equilibrium"],
                                 games=["resource-selection(0,0.2,0.4|1,1,1,γ=0.9)"]))
    assert [r.status for r in results] == [FAIL], [r.message for r in results]
    assert "FAILED" in results[0].message


@pytest.mark.parametrize("key", list(broken_planners.BROKEN_STARTS))
def test_broken_planner_passes_the_congestion_suites_from_its_own_start(key):
    """Only the uniqueness suite can see these bugs: started uniform they are right."""
    results = list(suite_results(["two-route"], f"tests.broken_planners:BROKEN_STARTS[{key}]",
                                 games=["interior(1,1,1.5,0.5)"]))
    assert results and all(r.status == PASS for r in results), [r.message for r in results]


@pytest.mark.parametrize("key", list(solvers.load("mfcheck.reference:PLANNERS")))
def test_reference_planner_finds_every_crowd_equilibrium(key):
    results = list(suite_results(["uniqueness"], f"mfcheck.reference:PLANNERS[{key}]",
                                 checks=["finds-every-equilibrium"]))
    assert results
    bad = [f"{r.game}: {r.status}: {r.message}" for r in results if r.status not in (PASS, XFAIL)]
    assert not bad, "\n".join(bad)


def test_a_planner_without_initial_policy_is_skipped_with_the_reason():
    results = list(suite_results(["uniqueness"], "tests.broken_planners:SignFlippedCost",
                                 checks=["finds-every-equilibrium"]))
    assert results and all(r.status == SKIP and "takes no initial_policy" in r.message
                           for r in results)

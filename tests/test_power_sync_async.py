"""The ``sync-async`` suite has power: a simulator whose asynchronous rounds move idle
agents (`broken_simulators.MovesIdleAgents`) fails `population-recursion` and says where;
the broken TMF learners of tests/broken_tmf.py fail the checks their catalogue entries name
(tests/test_power_catalogue.py); and the reference simulator and TMF learners pass every
check that applies to them."""

from __future__ import annotations

from mfcheck.check import FAIL, PASS

from .power import suite_results

SUITE = "sync-async"


def _summary(results) -> str:
    return "; ".join(f"{r.check}[{r.game}]: {r.status}: {r.message}" for r in results)


def test_moving_idle_agents_is_caught():
    # one game: its k = 1 run is 2000 synchronous rounds here (both games fail, ~5 s each)
    results = list(suite_results([SUITE], "tests.broken_simulators:MovesIdleAgents",
                                 checks=["population-recursion"],
                                 games=["resource_selection(κ=0.5)"]))
    assert len(results) == 1, _summary(results)
    # FAIL, not ERROR: the simulator runs; the check sees its k = 1 and k = N/10 runs move
    # as fast as synchronous ones
    assert all(r.status == FAIL for r in results), _summary(results)
    assert all("k = 1 epoch 1" in r.message and "FAIL at" in r.message for r in results)


def test_reference_simulator_passes():
    results = list(suite_results([SUITE], "mfcheck.nplayer:ReferenceSimulator"))
    assert {r.check for r in results} == {"idle-agents-keep-state", "population-recursion"}
    assert all(r.status == PASS for r in results), _summary(results)


def test_reference_tmf_learner_passes():
    results = list(suite_results([SUITE], "mfcheck.reference.marl:TMF_LEARNERS[tmf-pg]"))
    assert {r.check for r in results} == {"same-equilibrium", "same-performance",
                                          "population-feedback"}
    assert all(r.status == PASS for r in results), _summary(results)

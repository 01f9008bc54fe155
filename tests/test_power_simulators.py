"""The ``approximation-rate`` suite has power: every broken simulator of
tests/broken_simulators.py is caught (status FAIL) by the checks its `CATALOGUE` entry
names — run by the one parametrised test over every role's catalogue,
tests/test_power_catalogue.py (``-k`` with the simulator's name) — while, here, the
reference simulator and an independent correct one (`ByTheBook`) pass every check that
applies to them, and `SharedDraw` fails every case of ``distribution-error``."""

from __future__ import annotations

import pytest
import torch

from mfcheck import registry
from mfcheck.check import FAIL, PASS, Budget, Context

from . import power
from .power import suite_results

SUITE = "approximation-rate"
#: One fixed game, the drawn ones and the transients in the quick test; all with --full.
GAMES = {False: ["resource-selection", "drawn-garnet", "queueing-from-idle", "garnet-from-mu0",
                 "garnet-horizon-4"], True: None}
NEW_CHECKS = ["population-mean", "mean-return", "replica-independence"]


@pytest.fixture(autouse=True)
def registered(monkeypatch):
    """The suite under its registry name, whether or not the registry lists it yet."""
    monkeypatch.setitem(registry.SUITE_MODULES, SUITE, "mfcheck.suites.approximation_rate")


def failures(results) -> str:
    return "; ".join(f"{r.check}[{r.game}]: {r.status}: {r.message}" for r in results)


def test_shared_draw_is_caught(request):
    results = list(suite_results([SUITE], "tests.broken_simulators:SharedDraw",
                                 checks=["distribution-error"],
                                 games=GAMES[request.config.getoption("--full")]))
    assert results, "no check of approximation-rate applies to a simulator"
    # FAIL, not ERROR: the broken simulator runs as designed; the check sees the bug
    assert all(r.status == FAIL for r in results), failures(results)
    assert all("slope" in r.message and "excludes -0.5" in r.message for r in results)


def test_reference_simulator_passes(request):
    results = list(suite_results([SUITE], "mfcheck.nplayer:ReferenceSimulator",
                                 games=GAMES[request.config.getoption("--full")]))
    assert {r.check for r in results} >= {"distribution-error", *NEW_CHECKS}
    failed = [r for r in results if r.status != PASS]
    assert not failed, failures(failed)


def test_an_independent_correct_simulator_passes_on_the_horizon_game():
    """`ByTheBook` (its own conventions' reading of the protocol, torch's generator) passes
    where it is cheap; every transient with --full (`test_..._for_seeds`)."""
    spec = "tests.broken_simulators:ByTheBook"
    results = list(suite_results([SUITE], spec, checks=["population-mean", "mean-return"],
                                 games=["garnet-horizon-4"])) + \
        list(suite_results([SUITE], spec, checks=["replica-independence"]))
    assert len(results) == 3
    assert all(r.status == PASS for r in results), failures(results)


@pytest.mark.full
@pytest.mark.parametrize("spec", ["mfcheck.nplayer:ReferenceSimulator",
                                  "tests.broken_simulators:ByTheBook"])
@pytest.mark.parametrize("seed", range(6))
def test_the_new_checks_pass_correct_simulators_for_seeds(monkeypatch, spec, seed):
    monkeypatch.setattr(power, "CTX", Context(seed=seed, budget=Budget.QUICK,
                                              device=torch.device("cpu")))
    results = list(suite_results([SUITE], spec, checks=NEW_CHECKS))
    assert len(results) == 7
    failed = [r for r in results if r.status != PASS]
    assert not failed, failures(failed)

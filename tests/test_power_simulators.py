"""The ``approximation-rate`` suite has power: a simulator that gives every agent of a
replica one shared random draw per round (`broken_simulators.SharedDraw`) fails it, on a
fixed game and on drawn ones, while the reference simulator passes every check that
applies to it."""

from __future__ import annotations

import pytest

from mfcheck import registry
from mfcheck.check import FAIL, PASS

from .power import suite_results

SUITE = "approximation-rate"
#: One fixed game and the drawn ones in the quick test (~5 s of CPU each); all with --full.
GAMES = {False: ["resource-selection", "drawn-garnet"], True: None}


@pytest.fixture(autouse=True)
def registered(monkeypatch):
    """The suite under its registry name, whether or not the registry lists it yet."""
    monkeypatch.setitem(registry.SUITE_MODULES, SUITE, "mfcheck.suites.approximation_rate")


def test_shared_draw_is_caught(request):
    results = list(suite_results([SUITE], "tests.broken_simulators:SharedDraw",
                                 games=GAMES[request.config.getoption("--full")]))
    assert results, "no check of approximation-rate applies to a simulator"
    # FAIL, not ERROR: the broken simulator runs as designed; the check sees the bug
    assert all(r.status == FAIL for r in results), \
        "; ".join(f"{r.check}[{r.game}]: {r.status}: {r.message}" for r in results)
    assert all("slope" in r.message and "excludes -0.5" in r.message for r in results)


def test_reference_simulator_passes(request):
    results = list(suite_results([SUITE], "mfcheck.nplayer:ReferenceSimulator",
                                 games=GAMES[request.config.getoption("--full")]))
    assert results
    failed = [r for r in results if r.status != PASS]
    assert not failed, "; ".join(f"{r.check}[{r.game}]: {r.status}: {r.message}"
                                 for r in failed)

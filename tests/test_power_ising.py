"""Every Ising check has power: each broken sampler is caught by some check of the
``ising`` suite, the naive sampler the kernel bugs are planted in passes without them,
and every reference sampler passes every check."""

from __future__ import annotations

import pytest

from mfcheck import solvers
from mfcheck.check import ERROR, FAIL, PASS, SKIP

from . import broken_samplers
from .power import suite_results

#: The fast exact checks, where the naive control runs (its Python loop is slow elsewhere).
EXACT_CHECKS = {"energy-histogram-4x4", "stationarity-one-step"}


def _results(spec: str, *, checks=None, stop_at_first_failure: bool = False):
    return suite_results(["ising"], spec, checks=checks,
                         stop_at_first_failure=stop_at_first_failure)


@pytest.mark.parametrize("key", list(broken_samplers.BROKEN))
def test_broken_sampler_is_caught(key):
    results = list(_results(f"tests.broken_samplers:BROKEN[{key}]", stop_at_first_failure=True))
    caught = [r for r in results if r.status in (FAIL, ERROR)]
    assert caught, f"no check caught {key}"
    assert caught[0].message


def test_the_naive_control_passes_the_checks_that_catch_its_bugs():
    results = list(_results("tests.broken_samplers:CONTROL", checks=EXACT_CHECKS))
    assert results and all(r.status == PASS for r in results), [r.message for r in results]


@pytest.mark.parametrize("key", list(solvers.load("mfcheck.reference.ising:SAMPLERS")))
def test_reference_sampler_passes_every_check(key):
    results = list(_results(f"mfcheck.reference.ising:SAMPLERS[{key}]"))
    assert results, f"no check applies to {key}"
    bad = [f"{r.check}[{r.game}]: {r.status}: {r.message}" for r in results
           if r.status not in (PASS, SKIP)]
    assert not bad, "\n".join(bad)
    assert any(r.status == PASS for r in results)

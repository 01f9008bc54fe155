"""Every Ising check has power, and no reference sampler fails one.

Each broken sampler of tests/broken_samplers.py is declared in its ``CATALOGUE`` with the
``ising`` checks that must give it status FAIL (ERROR for broken protocol output);
tests/test_power_catalogue.py runs every entry against its named checks. Here: the naive
samplers the bugs are planted in pass the checks that catch them (else those bugs prove
nothing), every reference sampler passes every check it declares, and the catalogue's
``ising`` entries name only checks of this suite.
"""

from __future__ import annotations

import pytest

from mfcheck import solvers
from mfcheck.check import PASS, SKIP
from mfcheck.registry import get_suite

from . import broken_samplers
from .power import checks_of, suite_results

#: The fast exact checks, where the naive controls run (their Python loop is slow elsewhere).
EXACT_CHECKS = {"energy-histogram-4x4", "stationarity-one-step"}


def _results(spec: str, *, checks=None):
    return list(suite_results(["ising"], spec, checks=checks))


@pytest.mark.parametrize("control", ["CONTROL", "CONTROL_HEAT_BATH"])
def test_the_naive_controls_pass_the_checks_that_catch_their_bugs(control):
    results = _results(f"tests.broken_samplers:{control}", checks=EXACT_CHECKS)
    assert results and all(r.status == PASS for r in results), [r.message for r in results]


def test_every_broken_sampler_is_catalogued_with_checks_of_the_ising_suite():
    checks = set(get_suite("ising").checks)
    declared = {e.spec: e for e in broken_samplers.CATALOGUE}
    assert set(declared) == {f"tests.broken_samplers:BROKEN[{k}]" for k in broken_samplers.BROKEN}
    for entry in declared.values():
        assert entry.role == "sampler"
        assert all(c.startswith("ising::") and c.split("::")[1] in checks
                   for c in entry.caught_by), entry


REFERENCE = list(solvers.load("mfcheck.reference.ising:SAMPLERS"))


@pytest.mark.parametrize("check", [c for _, c in checks_of(["ising"])])
@pytest.mark.parametrize("key", REFERENCE)
def test_reference_sampler_passes_every_check(key, check):
    results = _results(f"mfcheck.reference.ising:SAMPLERS[{key}]", checks=[check])
    bad = [f"{r.check}[{r.game}]: {r.status}: {r.message}" for r in results
           if r.status not in (PASS, SKIP)]
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("key", REFERENCE)
def test_every_reference_sampler_is_judged_by_some_check(key):
    spec = f"mfcheck.reference.ising:SAMPLERS[{key}]"
    suite = get_suite("ising")
    assert any(c.solver == spec for c in suite.cases([(spec, solvers.load(spec))], ["cpu"]))

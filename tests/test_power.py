"""Every planner check has power where planners go wrong: each broken planner of
tests/broken_planners.py is caught by the check its catalogue entry names
(tests/test_power_catalogue.py); here every reference planner, and every correct planner
written from the protocol alone, passes every check of the planner suites, and a planner
with a multi-epoch bug fails with a message that names the likely convention mismatch."""

from __future__ import annotations

import json

import pytest

from mfcheck import solvers
from mfcheck.check import FAIL, PASS, SKIP

from . import broken_planners
from .power import checks_of, suite_results

PLANNER_SUITES = ["two-route", "n-route", "multi-epoch"]
REACH, STAGED = "reaches-equilibrium", "staged-routes(H=4)"

#: broken planner → (check, a game where its mistake is the only one that fits, what the named
#: mismatch must say). `policy-of-next-epoch` has no mismatch of its own in
#: `mfcheck.diagnose`; on staged routes it moves the hub's population as the reward of the
#: next epoch does, and the message must name that time-index mismatch.
DIAGNOSES = {
    "no-continuation-value": (REACH, STAGED, "myopic best response"),
    "next-epoch-population": (REACH, STAGED, "the population of epoch t + 1 used at epoch t"),
    "next-epoch-reward": (REACH, STAGED, "the reward of epoch t + 1 used at epoch t"),
    "transposed-transition": (REACH, "left-right(MFGLib)",
                              "the transition tensor read the wrong way round"),
    "entropy-left-out": (REACH, STAGED, "a softmax of unregularised values"),
    "temperature-as-inverse": (REACH, STAGED, "the temperature read as an inverse temperature"),
    "discount-ignored": (REACH, "staged-routes(H=5,γ=0.6)", "the discount ignored"),
    "uniform-start": (REACH, STAGED, "the population started uniform instead of at μ0"),
    "policy-of-next-epoch": (REACH, STAGED, "epoch t + 1 used at epoch t"),
    "population-frozen-at-start": ("stationary-equilibrium", None,
                                   "the population never propagated"),
}


def _not_passed(spec: str, suites: list[str]) -> list[str]:
    return [f"{r.suite}::{r.check}[{r.game}]: {r.status}: {r.message}"
            for r in suite_results(suites, spec) if r.status not in (PASS, SKIP)]


@pytest.mark.parametrize("suite,check", checks_of(PLANNER_SUITES),
                         ids=[f"{s}::{c}" for s, c in checks_of(PLANNER_SUITES)])
@pytest.mark.parametrize("key", list(solvers.load("mfcheck.reference:PLANNERS")))
def test_reference_planner_passes_every_check(key, suite, check):
    results = list(suite_results([suite], f"mfcheck.reference:PLANNERS[{key}]", checks=[check]))
    if not results:
        pytest.skip(f"{suite}::{check} does not apply to {key}")
    bad = [f"{r.check}[{r.game}]: {r.status}: {r.message}" for r in results
           if r.status not in (PASS, SKIP)]
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("key", list(broken_planners.CONTROLS))
def test_a_correct_planner_written_from_the_protocol_passes_every_multi_epoch_check(key):
    # the controls are the broken multi-epoch planners without their bug
    bad = _not_passed(f"tests.broken_planners:CONTROLS[{key}]", ["multi-epoch"])
    assert not bad, "\n".join(bad)


def test_a_finite_horizon_only_planner_is_skipped_on_stationary_games_with_its_reason():
    (result,) = suite_results(["multi-epoch"], "tests.broken_planners:CONTROLS[textbook-fp]",
                              checks=["stationary-equilibrium"])
    assert result.status == SKIP and "finite-horizon games only" in result.message


def test_every_multi_epoch_bug_has_a_diagnosis_case():
    assert set(DIAGNOSES) == set(broken_planners.BROKEN_MULTI_EPOCH)


@pytest.mark.parametrize("key", list(DIAGNOSES))
def test_a_multi_epoch_bug_fails_with_the_likely_mismatch_named(key):
    check, game, expected = DIAGNOSES[key]
    (result,) = suite_results(["multi-epoch"], f"tests.broken_planners:BROKEN_MULTI_EPOCH[{key}]",
                              checks=[check], games=[game] if game else None)
    assert result.status == FAIL, result.message
    named = result.message.split("likely mismatch: ", 1)
    assert len(named) == 2 and expected in named[1].split(" (its population")[0], result.message


def test_cli_exits_1_on_a_broken_planner_and_says_by_how_much(tmp_path):
    from mfcheck.cli import main
    code = main(["run", "two-route", "--solver", "tests.broken_planners:SignFlippedCost",
                 "--device", "cpu", "--jobs", "0", "--report-dir", str(tmp_path)])
    assert code == 1
    report = json.loads((tmp_path / "report.json").read_text())
    failed = [r for r in report["results"] if r["status"] == "fail"]
    assert failed and all(r["check"] == "reaches-equilibrium" for r in failed)
    assert all("exploitability is" in r["message"] and "tolerance" in r["message"]
               for r in failed)

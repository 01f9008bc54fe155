"""The cycling hint (`mfcheck.convergence`) in every planner suite that judges a last policy:
two-route/n-route (tests/test_cli_solvers.py), multi-epoch and uniqueness."""

from __future__ import annotations

import torch

from mfcheck.check import FAIL
from mfcheck.convergence import CYCLING_ADVICE, cycling_hint
from mfcheck.suites.uniqueness import judge_monotone_game

from .power import CTX, suite_results

#: Undamped best response that claims to converge: it cycles wherever the equilibrium is mixed.
CYCLER = "tests.broken_planners:ClaimsConvergenceBestResponse"


def _policy(split) -> torch.Tensor:
    return torch.tensor(split, dtype=torch.float64).reshape(1, 1, -1)


def test_the_hint_names_the_period_and_is_silent_on_a_settled_or_slow_tail():
    cycle = [_policy((1.0, 0.0, 0.0)), _policy((0.0, 1.0, 0.0)), _policy((0.0, 0.0, 1.0))] * 2
    assert cycling_hint(cycle) == f"; the iterates cycle with period 3: {CYCLING_ADVICE}"
    assert cycling_hint(cycle, "on g") == f"; the iterates cycle with period 3 on g: " \
                                          f"{CYCLING_ADVICE}"
    assert cycling_hint([_policy((0.5, 0.5, 0.0))] * 6) == ""  # settled: period 1
    approach = [_policy((0.5 + 0.01 * k, 0.5 - 0.01 * k, 0.0)) for k in range(6)]
    assert cycling_hint(approach) == ""  # moving, but not back


def test_multi_epoch_tells_a_cycling_planner_to_declare_it():
    (result,) = suite_results(["multi-epoch"], CYCLER, checks=["reaches-equilibrium"],
                              games=["staged-routes(H=4)"])
    assert result.status == FAIL
    assert f"the iterates cycle with period 2: {CYCLING_ADVICE}" in result.message, \
        result.message
    assert "likely mismatch:" in result.message  # the convention diagnosis still follows


def test_uniqueness_tells_a_cycling_planner_to_declare_it():
    from tests.broken_planners import ClaimsConvergenceBestResponse

    ok, message = judge_monotone_game(ClaimsConvergenceBestResponse(), (0.0, 0.0), (1.0, 1.0),
                                      CTX)
    assert not ok
    assert message.endswith(f"iterates cycle from uniform, all-on-1, all-on-2, dirichlet-1, "
                            f"dirichlet-2: {CYCLING_ADVICE}"), message

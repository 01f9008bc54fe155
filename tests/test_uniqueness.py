"""The uniqueness suite's helpers: starts, the agreement radius, the crowd equilibria at τ,
and the optional ``initial_policy`` of the planner protocol."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from mfcheck import strategies
from mfcheck.analytic import congestion as analytic
from mfcheck.games import n_route, resource_selection
from mfcheck.kernels import distribution, exploitability
from mfcheck.boundary import last_policies, planner_policies, planner_takes_initial_policy
from mfcheck.reference import PLANNERS, FixedPoint
from mfcheck.reference.start import INTERIOR_START
from mfcheck.suites import uniqueness
from mfcheck.games.congestion import Routes

from .broken_planners import SignFlippedCost


def test_starts_are_uniform_pure_and_dirichlet_policies():
    game = n_route((0.0, 0.2, 0.4), (1.0, 1.0, 1.0))
    starts = uniqueness.starts(game, torch.Generator().manual_seed(0), dirichlet=4)
    assert list(starts)[:4] == ["uniform", "all-on-1", "all-on-2", "all-on-3"] and len(starts) == 8
    for policy in starts.values():
        game.check_policy(policy)
    assert starts["all-on-2"][0, 0].tolist() == [0.0, 1.0, 0.0]
    draws = torch.stack([starts[f"dirichlet-{i}"] for i in range(1, 5)])
    assert (draws > 0).all() and (draws - draws[0]).abs().max() > 0.1


@settings(max_examples=60, deadline=None, database=None)
@given(costs=strategies.monotone_costs(), weights=st.lists(st.floats(0.0, 1.0), min_size=4,
                                                            max_size=4))
def test_agreement_radius_contains_every_split_of_smaller_exploitability(costs, weights):
    a, b = costs
    w = np.asarray(weights[:len(a)]) + 1e-3
    m = w / w.sum()
    gap = analytic.exploitability_n_route(m, a, b)
    distance = np.linalg.norm(m - analytic.wardrop_n_route(a, b))
    assert distance <= uniqueness.agreement_tolerance(b, gap) * (1 + 1e-9) + 1e-12


@settings(max_examples=40, deadline=None, database=None)
@given(costs=strategies.monotone_costs(max_resources=3), switching_cost=st.sampled_from([0.0, 0.3]),
       tau=st.sampled_from([0.0, 0.5]), data=st.data())
def test_load_radius_contains_the_stationary_load_of_every_policy_of_smaller_exploitability(
        costs, switching_cost, tau, data):
    """The stationary analogue on resource selection, for any policy (state-dependent, with
    zeros, reducible): its load lies within load_radius(its exploitability) of the κ = 0
    split, Wardrop or logit."""
    a, b = costs
    game = resource_selection(a, b, discount=0.9, switching_cost=switching_cost)
    policy = data.draw(strategies.policies(game))
    gap = max(float(exploitability(game, policy, tau)), 0.0)
    m = distribution(game, policy).mu.numpy()
    m_star = Routes(tuple(a), tuple(b)).equilibrium(tau)
    radius = uniqueness.load_radius(a, b, 0.9, switching_cost, 1 / len(a), tau, gap)
    assert np.linalg.norm(m - m_star) <= radius * (1 + 1e-9) + 1e-9


def test_logit_crowd_equilibria_solve_the_logit_equation_and_bifurcate_at_b_over_4():
    a, b = (0.0, 0.0), (1.0, 1.0)  # slope of the logit map at 1/2: (b1 + b2)/(4τ)
    for tau, count in ((0.2, 3), (0.45, 3), (0.55, 1), (1.0, 1)):
        found = uniqueness.logit_crowd_equilibria(a, b, tau)
        assert len(found) == count, (tau, found)
        for m in found:
            c = np.asarray(a) - np.asarray(b) * m
            assert math.isclose(tau * math.log(m[0] / m[1]), c[1] - c[0], abs_tol=1e-12)
    stable = [s for _, s in uniqueness.crowd_targets(a, b, 0.2)]
    assert sorted(stable) == [False, True, True]


def test_crowd_targets_at_zero_temperature_mark_the_pure_splits_stable():
    targets = uniqueness.crowd_targets((0.0, 0.4), (1.0, 1.5), 0.0)
    assert [(m.round(6).tolist(), s) for m, s in targets] == \
        [([1.0, 0.0], True), ([0.0, 1.0], True), ([0.44, 0.56], False)]


def test_softmax_contraction_condition():
    assert uniqueness.softmax_contracts((1.0, 1.9), 1.0)
    assert not uniqueness.softmax_contracts((1.0, 2.0), 1.0)
    assert not uniqueness.softmax_contracts((1.0,), 0.0)


def test_initial_policy_support_is_read_from_the_signature():
    assert all(planner_takes_initial_policy(p) for p in PLANNERS.values())
    assert not planner_takes_initial_policy(SignFlippedCost())
    game = n_route((0.0, 1.0), (1.0, 0.0))
    with pytest.raises(ValueError, match="takes no initial_policy"):
        next(planner_policies(SignFlippedCost(), game, seed=0, iterations=1,
                              initial_policy=game.uniform_policy()))


def test_fixed_point_starts_at_the_initial_policy():
    game = n_route((0.0, 0.0), (1.0, 1.0))  # m* = 1/2; damping 1/2, no decay
    start = torch.tensor([[[1.0, 0.0]]], dtype=torch.float64)
    (first,) = last_policies(FixedPoint(damping=0.5), game, seed=0, iterations=1,
                             initial_policy=start)
    # π_0 = (1 − ε)(1, 0) + ε(1/2, 1/2) (reference/start.py); the best response to "nearly
    # all on route 1" is route 2, and the first iterate lies half way there
    pi0 = (1 - INTERIOR_START) + INTERIOR_START / 2
    assert first[0, 0].tolist() == pytest.approx([pi0 / 2, (1 - pi0) / 2 + 0.5], abs=1e-15)


def test_mirror_descent_from_a_pure_start_leaves_its_face_and_converges():
    game = n_route((0.5, 0.1, 0.9), (1.0, 3.0, 0.5))
    start = torch.tensor([[[0.0, 0.0, 1.0]]], dtype=torch.float64)
    (first,) = last_policies(PLANNERS["mirror-descent"], game, seed=0, iterations=1,
                             initial_policy=start)
    assert first[0, 0, 2] > 0.9  # it started there
    (last,) = last_policies(PLANNERS["mirror-descent"], game, seed=0, iterations=1000,
                            initial_policy=start)
    assert float(exploitability(game, last)) < 1e-4

"""Properties of the exact kernels on hypothesis-drawn games, policies and mean fields."""

from __future__ import annotations

import itertools
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import mfcheck
from mfcheck.games.crowd_modelling import crowd_modelling
from mfcheck.kernels import initial_values, mix_policies
from mfcheck.strategies import games, mean_fields, policies, random_games

ATOL = 1e-10
FAST = settings(max_examples=60, deadline=None)


@FAST
@given(st.data())
def test_flow_is_a_distribution_at_every_epoch(data):
    game = data.draw(games())
    flow = mfcheck.distribution(game, data.draw(policies(game)))
    torch.testing.assert_close(flow.mu.sum(-1), torch.ones(game.horizon, dtype=game.dtype))
    torch.testing.assert_close(flow.L.sum(-1), flow.mu)
    assert (flow.mu >= 0).all()


@FAST
@given(st.data())
def test_best_response_dominates_every_policy(data):
    """V^BR ≥ V^π state by state and epoch by epoch, against any flow."""
    game = data.draw(games())
    flow = data.draw(mean_fields(game))
    tau = data.draw(st.sampled_from([0.0, 0.3]))
    br = mfcheck.best_response(game, flow, tau)
    value = mfcheck.policy_value(game, data.draw(policies(game)), flow, tau)
    assert (br.v >= value.v - ATOL).all()
    # ... and the best response's own value is what best_response reports.
    torch.testing.assert_close(mfcheck.policy_value(game, br.policy, flow, tau).v, br.v)


@FAST
@given(st.data())
def test_exploitability_is_nonnegative_and_batched_consistently(data):
    game = data.draw(games())
    batch = torch.stack([data.draw(policies(game)) for _ in range(3)])
    together = mfcheck.exploitability(game, batch)
    one_by_one = torch.stack([mfcheck.exploitability(game, p) for p in batch])
    torch.testing.assert_close(together, one_by_one)
    assert (together >= -ATOL).all()


@FAST
@given(st.data())
def test_exploitability_vanishes_with_one_action(data):
    """With a single action every policy is its own best response: exploitability 0."""
    game = data.draw(random_games(max_actions=1))
    assert abs(float(mfcheck.exploitability(game, game.uniform_policy()))) <= ATOL


@FAST
@given(st.data())
def test_mixing_policies_mixes_populations(data):
    """With μ-independent transitions, the mixed policy's flow is the mixture of flows."""
    game = data.draw(random_games(stationary=False).filter(lambda g: "monotone" in g.name))
    p1, p2 = data.draw(policies(game)), data.draw(policies(game))
    w = data.draw(st.floats(0.0, 1.0))
    mu1, mu2 = mfcheck.distribution(game, p1).mu, mfcheck.distribution(game, p2).mu
    mixed = mix_policies([p1, p2], [mu1, mu2], [1 - w, w])
    torch.testing.assert_close(mfcheck.distribution(game, mixed).mu, (1 - w) * mu1 + w * mu2)


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_stationary_kernels(data):
    game = data.draw(random_games(stationary=True))
    policy = data.draw(policies(game))
    flow = mfcheck.distribution(game, policy)
    # the flow is a fixed point of the population map
    step = torch.einsum("sa,sap->p", flow.L, game.transition(0, flow.L))
    torch.testing.assert_close(step, flow.mu, atol=1e-11, rtol=0)
    # the policy value solves the Bellman equation
    value = mfcheck.policy_value(game, policy, flow)
    r = game.reward(0, flow.L)
    bellman = (policy * (r + game.discount * game.transition(0, flow.L) @ value.v)).sum(-1)
    torch.testing.assert_close(bellman, value.v)
    br = mfcheck.best_response(game, flow)
    assert (br.v >= value.v - 1e-9).all()
    assert float(mfcheck.exploitability(game, policy)) >= -1e-9


def test_crowd_modelling_conventions_differ_only_by_the_displacement_cost():
    """Both conventions share flows (the cost does not move anyone) and differ in value."""
    policy = torch.softmax(torch.randn(10, 10, 3, dtype=torch.float64,
                                       generator=torch.Generator().manual_seed(1)), -1)
    openspiel, exact = crowd_modelling(), crowd_modelling(convention="exact")
    torch.testing.assert_close(mfcheck.distribution(openspiel, policy).mu,
                               mfcheck.distribution(exact, policy).mu)
    assert abs(float(mfcheck.exploitability(openspiel, policy))
               - float(mfcheck.exploitability(exact, policy))) > 1e-3


def test_exact_crowd_value_matches_brute_force_enumeration():
    """On a tiny ring, the exact convention's policy value equals a sum over every path."""
    size, horizon = 4, 3
    game = crowd_modelling(size, horizon, convention="exact")
    policy = torch.softmax(torch.randn(horizon, size, 3, dtype=torch.float64,
                                       generator=torch.Generator().manual_seed(2)), -1)
    flow = mfcheck.distribution(game, policy)
    total = 0.0
    moves = (-1, 0, 1)
    for x0 in range(size):
        for path in itertools.product(range(3), repeat=2 * horizon):
            prob, x, ret = 1.0 / size, x0, 0.0
            for t in range(horizon):
                a, noise = path[2 * t], path[2 * t + 1]
                prob *= float(policy[t, x, a]) / 3
                mu = float(flow.mu[t, x])
                ret += 1 - abs(x - size // 2) / (size // 2) - math.log(mu + 1e-25)
                if t < horizon - 1:
                    ret -= abs(moves[a]) / size
                x = (x + moves[a] + moves[noise]) % size
            total += prob * ret
    ours = float(initial_values(game, mfcheck.policy_value(game, policy, flow).v))
    assert ours == pytest.approx(total, abs=1e-12)


def test_kernels_run_on_every_device(device):
    game = crowd_modelling(device=device)
    value = mfcheck.exploitability(game, game.uniform_policy())
    assert value.device.type == device.type
    assert float(value) == pytest.approx(2.8135365543870385, abs=1e-9)

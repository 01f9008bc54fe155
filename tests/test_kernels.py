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
from mfcheck.games.random_game import random_game
from mfcheck.games.resource_selection import resource_selection
from mfcheck.kernels import backward, initial_values, mix_policies
from mfcheck.strategies import distributions, games, mean_fields, policies, random_games

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


# -- the stationary best response (policy iteration) against plain value iteration ---------

def _value_iteration_oracle(game, flow, tau):
    """(v*, q*) by plain value iteration for a fixed number of sweeps, γ^k ≤ 1e-17: no
    stopping rule to get wrong, accurate to the sweeps' rounding."""
    r = game.reward(0, flow.L)
    gP = game.discount * game.transition(0, flow.L)
    v = torch.zeros_like(r[..., 0])
    sweeps = math.ceil(math.log(1e-17) / math.log(game.discount)) if game.discount else 1
    for _ in range(sweeps):
        q = r + torch.einsum("...sap,...p->...sa", gP, v)
        v = tau * torch.logsumexp(q / tau, -1) if tau else q.amax(-1)
    return v, r + torch.einsum("...sap,...p->...sa", gP, v)


def _assert_matches_oracle(game, flow, tau, br):
    v, q = _value_iteration_oracle(game, flow, tau)
    scale = max(1.0, float(v.abs().max()))
    torch.testing.assert_close(br.v, v, rtol=0, atol=1e-12 * scale)
    torch.testing.assert_close(br.q, q, rtol=0, atol=1e-12 * scale)
    if tau:
        torch.testing.assert_close(br.policy, torch.softmax(q / tau, -1), rtol=0, atol=1e-10)
        return
    assert set(br.policy.unique().tolist()) <= {0.0, 1.0} and (br.policy.sum(-1) == 1).all()
    # Greedy for the oracle's Q, and every lower action is worse than the best by more than
    # the rounding of either computation: ties go to the lowest index, as in `_optimal`.
    chosen = br.policy.argmax(-1, keepdim=True)
    best = q.amax(-1, keepdim=True)
    assert (q.gather(-1, chosen) >= best - 1e-11 * scale).all(), "not greedy"
    lower = torch.arange(game.n_actions, device=q.device) < chosen
    assert (q < best - 1e-14 * scale)[lower].all(), "a tie not broken to the lowest action"


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_stationary_best_response_matches_value_iteration(data):
    """Policy iteration (τ = 0) and soft policy iteration (τ > 0) agree with plain value
    iteration to 1e-12 relative, on a batch of drawn flows, and batch element by element."""
    game = data.draw(random_games(stationary=True, max_states=6, discounts=(0.0, 0.5, 0.9)))
    tau = data.draw(st.sampled_from([0.0, 0.05, 0.3, 2.0]))
    flows = [data.draw(mean_fields(game)) for _ in range(2)]
    batch = mfcheck.Flow(torch.stack([f.mu for f in flows]), torch.stack([f.L for f in flows]))
    br = mfcheck.best_response(game, batch, tau)
    _assert_matches_oracle(game, batch, tau, br)
    for i, flow in enumerate(flows):
        one = mfcheck.best_response(game, flow, tau)
        torch.testing.assert_close(one.v, br.v[i], rtol=0, atol=1e-12)
        assert torch.equal(one.policy, br.policy[i]) or tau


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_stationary_value_iteration_fallback_matches_policy_iteration(data):
    """The value-iteration path (games too large for the solves, or policy iteration that
    does not stop) returns the same best response."""
    game = data.draw(random_games(stationary=True, max_states=6))
    tau = data.draw(st.sampled_from([0.0, 0.3]))
    flow = data.draw(mean_fields(game))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(backward, "POLICY_ITERATION_STATES_PER_SWEEP", 0)
        swept = mfcheck.best_response(game, flow, tau)
    _assert_matches_oracle(game, flow, tau, swept)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(backward, "POLICY_ITERATION_MAX_STEPS", 1)
        _assert_matches_oracle(game, flow, tau, mfcheck.best_response(game, flow, tau))


def test_soft_best_response_settles_at_the_rounding_floor():
    """Values of ~300 cannot move by less than VALUE_TOL·(1 − γ) = 5e-14 < 1 ulp: the soft
    best response stops at float64's rounding floor (where value iteration started from
    the Newton iterate cycles between neighbouring floats) and is still exact."""
    game = random_game(50, 4, horizon=None, discount=0.95, branching=3)
    policy = torch.softmax(torch.randn(7, 50, 4, dtype=torch.float64,
                                       generator=torch.Generator().manual_seed(0)), -1)
    flow = mfcheck.distribution(game, policy)
    br = mfcheck.best_response(game, flow, 10.0)
    assert float(br.v.abs().max()) > 250
    _assert_matches_oracle(game, flow, 10.0, br)


@settings(max_examples=60, deadline=None)
@given(cost=st.lists(st.floats(0.0, 1.0), min_size=3, max_size=3),
       slope=st.lists(st.floats(0.1, 1.0), min_size=3, max_size=3),
       kappa=st.floats(0.0, 1.0), discount=st.sampled_from([0.5, 0.9, 0.99]), data=st.data())
def test_stationary_best_response_breaks_rounding_ties_to_the_lowest_action(
        cost, slope, kappa, discount, data):
    """Resources 1 and 2 are copies, the cheapest (cost ≤ 2 against ≥ 2 for 0 and 3), and
    the population is symmetric between them: moving to either is worth the same, but the
    linear solve may round the two values differently (in about a third of such games).
    The best response still goes to resource 1, the lowest index, as value iteration did."""
    game = resource_selection([2 + cost[0], cost[1], cost[1], 2 + cost[2]],
                              [slope[0], slope[1], slope[1], slope[2]],
                              discount=discount, switching_cost=kappa)
    swap = [0, 2, 1, 3]
    w = data.draw(distributions((4, 4)))
    L = (w + w[swap][:, swap]) / (2 * w.sum())
    flow = mfcheck.Flow(L.sum(-1), L)
    br = mfcheck.best_response(game, flow)
    _assert_matches_oracle(game, flow, 0.0, br)

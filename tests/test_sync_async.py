"""The helpers of the ``sync-async`` suite (suites/sync_async/): the margins, the planner's logit equilibrium of the
queueing game, the TMF equilibrium of a myopic game, the stationary population of a TMF
policy."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from mfcheck.analytic.congestion import logit_n_route
from mfcheck.games.queueing import queueing_equilibrium
from mfcheck.games.resource_selection import resource_selection, split_policy
from mfcheck.kernels import best_response, distribution, exploitability
from mfcheck.suites import sync_async as sa
from mfcheck.tmf import population_map


def test_snapshot_error_is_the_mean_l1_scatter_of_n_agents():
    split = np.array([0.6361, 0.2919, 0.072])
    gen = torch.Generator().manual_seed(1)
    n, draws = 1000, 20_000
    counts = torch.multinomial(torch.as_tensor(split), n * draws, replacement=True,
                               generator=gen).view(draws, n)
    mu = torch.nn.functional.one_hot(counts, 3).double().mean(1)
    measured = float((mu - torch.as_tensor(split)).abs().sum(-1).mean())  # SE ≈ 0.3%
    assert sa.snapshot_error(split, n) == pytest.approx(measured, rel=0.03)


QUEUES = sa.EQUILIBRIUM_GAMES["queueing(2 queues,τ=0.2)"]("cpu")
ROUTES = sa.EQUILIBRIUM_GAMES["resource_selection(3 resources,τ=0.2)"]("cpu")


def test_queueing_logit_equilibrium_is_the_softmax_response_to_its_own_population():
    eq = QUEUES.equilibrium()
    game = QUEUES.game("cpu")
    policy = torch.as_tensor(eq.policy)
    flow = distribution(game, policy)
    assert np.allclose(flow.mu.numpy(), eq.population, atol=1e-12)
    response = best_response(game, flow, QUEUES.temperature).policy
    assert torch.allclose(response, policy, atol=1e-9)
    # a real equilibrium problem: both queues used, the policy far from uniform, whose
    # exploitability is far above the planner's
    assert (eq.population > 0.1).all() and abs(float(eq.policy[0, 0]) - 0.5) > 0.15
    assert float(exploitability(game, game.uniform_policy(), QUEUES.temperature)) > 0.1
    # unique: the planner reaches it from other starts too
    gen = torch.Generator().manual_seed(0)
    for _ in range(3):
        start = (6 * torch.rand(policy.shape, generator=gen, dtype=policy.dtype)).softmax(-1)
        stream = sa.FixedPoint(temperature=QUEUES.temperature, damping=0.5).solve(
            game, seed=0, initial_policy=start)
        for _ in range(60):
            other = next(stream)
        assert torch.allclose(other, policy, atol=1e-9)


def test_queueing_logit_equilibrium_tends_to_the_closed_form_as_tau_falls():
    # queueing_equilibrium is τ = 0's: (0.5, 0.5, 0) here (queue 2 unused)
    exact = queueing_equilibrium(QUEUES.waiting_cost, QUEUES.load_cost, QUEUES.service,
                                 arrival=QUEUES.arrival, discount=QUEUES.discount).mu
    gaps = [np.abs(sa.logit_equilibrium(replace(QUEUES, temperature=t))
                   .population - exact).sum() for t in (0.2, 0.1, 0.05)]
    assert gaps[0] > gaps[1] > gaps[2]


def test_logit_equilibrium_says_when_the_planner_did_not_converge(monkeypatch):
    monkeypatch.setattr(sa.training, "PLANNER_ITERATIONS", 2)
    with pytest.raises(ValueError, match="still moves"):
        sa.logit_equilibrium(replace(QUEUES, temperature=0.3))


def test_snapshot_policies_estimate_the_equilibrium_from_n_decisions():
    n = 100
    for setting in (ROUTES, QUEUES):
        game, eq = setting.game("cpu"), setting.equilibrium()
        tables = sa.snapshot_policies(setting, game, n)
        assert tables.shape == (sa.SNAPSHOTS, game.n_states, game.n_actions)
        assert torch.allclose(tables.sum(-1), tables.new_ones(()), atol=1e-12)
        # unbiased rows, scattered by about one row's share of N decisions
        se = tables.std(0) / math.sqrt(sa.SNAPSHOTS)
        assert (tables.mean(0) - torch.as_tensor(eq.policy)).abs().max() < 5 * se.max()
    routes = sa.snapshot_policies(ROUTES, ROUTES.game("cpu"), n)
    assert torch.equal(routes[:, 0], routes[:, 2])  # one shared row: the split policy
    queues = sa.snapshot_policies(QUEUES, QUEUES.game("cpu"), n)
    assert (queues[:, 0] != queues[:, 2]).any()  # a row per state
    # the margin is what the snapshot loses, far below the uniform policy's
    assert 0 < sa.snapshot_exploitability(QUEUES, n, "cpu") < 0.1


def test_myopic_equilibrium_is_the_logit_split_without_switching_cost():
    a, b, tau = [1.0, 1.25, 1.5], [1.0, 1.0, 1.0], 0.2
    game = resource_selection(a, b, discount=0.0)
    populations = torch.tensor([[0.8, 0.1, 0.1], [0.1, 0.1, 0.8]], dtype=torch.float64)
    pi = sa.myopic_equilibrium(game, populations, tau)
    # no switching cost: every agent faces the same costs, whatever μ is
    assert torch.allclose(pi, torch.as_tensor(logit_n_route(a, b, tau)).expand(2, 3, 3),
                          atol=1e-10)
    with pytest.raises(ValueError, match="γ = 0"):
        sa.myopic_equilibrium(resource_selection(a, b), populations, tau)


def test_myopic_equilibrium_with_switching_cost_is_a_fixed_point_that_depends_on_mu():
    setting = sa.FEEDBACK_GAMES["resource_selection(κ=0.3,γ=0,τ=0.2)"]("cpu")
    game = setting.game("cpu")
    mu = torch.tensor(setting.populations, dtype=torch.float64)
    pi = sa.myopic_equilibrium(game, mu, setting.temperature)
    again = torch.softmax(game.reward(0, mu[..., None] * pi) / setting.temperature, -1)
    assert torch.allclose(pi, again, atol=1e-12)
    # agents leave a crowded resource: P(stay on 0) falls when resource 0 holds 80%
    assert pi[0, 0, 0] < pi[1, 0, 0] - 0.1
    spread = sa.table_distance(pi[:, None], pi[None])
    assert torch.allclose(spread, spread.T) and float(spread.max()) > 0.3


def test_table_distance_is_a_metric_so_ignoring_mu_costs_half_the_spread():
    gen = torch.Generator().manual_seed(0)
    p, q, r = (torch.rand(3, 3, generator=gen, dtype=torch.float64).softmax(-1)
               for _ in range(3))
    assert sa.table_distance(p, p) == 0
    assert sa.table_distance(p, r) <= sa.table_distance(p, q) + sa.table_distance(q, r) + 1e-15


def test_stationary_population_of_a_tmf_policy():
    game = resource_selection([1.0, 1.5, 2.0], [1.0, 1.0, 1.0], discount=0.9)
    split = torch.tensor([0.5, 0.3, 0.2], dtype=torch.float64)
    mu, change = sa.stationary_population(game, split_policy(game, split), 2)
    assert change <= 1e-12 and torch.allclose(mu, split.expand(2, 3), atol=1e-12)

    def crowd_averse(obs, population):  # moves towards the least crowded resource
        table = torch.softmax(-4.0 * population, -1)[:, None, :].expand(-1, 3, -1)
        return table.gather(1, obs[..., None].expand(-1, -1, 3))

    mu, change = sa.stationary_population(game, crowd_averse, 2)
    assert change <= 1e-12
    assert torch.allclose(population_map(game, crowd_averse, mu), mu, atol=1e-11)


def test_dynamics_start_far_from_stationary():
    for make in sa.DYNAMICS.values():
        dyn = make("cpu")
        far = population_map(dyn.game, dyn.policy, dyn.game.mu0[None])[0]
        assert float((far - dyn.game.mu0).abs().sum()) > 0.3  # one step moves it a lot


def test_ising_exception_passes_only_when_the_gap_is_shown(monkeypatch):
    """The documented exception is a claim of a difference: it passes on the real players
    (the gap is ~13 SE) and fails when both schedules are played the same way (a player
    that ignores its schedule), where no gap can be shown."""
    from mfcheck.check import Budget, Context
    from mfcheck.suites.sync_async import ising_exception as ie

    ctx = Context(0, Budget.QUICK, torch.device("cpu"))
    shown = ie.ising_exception(None, None, ctx)
    assert shown.passed and "the gap is shown" in shown.message, shown.message
    assert shown.measured < 0  # all at once orders less above T_c
    same = (ie.PLAYERS[1][0], ie.PLAYERS[1][1])
    monkeypatch.setattr(ie, "PLAYERS", (("one agent at a time", same[1]), same))
    hidden = ie.ising_exception(None, None, ctx)
    assert not hidden.passed and "FAIL, the gap is not shown" in hidden.message, hidden.message

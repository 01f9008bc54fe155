"""The helpers of the ``approximation-rate`` suite: the error estimator against the exact
mean absolute deviation of iid multinomial counts, the rate fit on synthetic errors, the
linear-noise covariance against one simulated round, the drawn games, and the
exploitability rate's power against a policy that is not an equilibrium."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats as st

from mfcheck import stats
from mfcheck.check import FALSE_FAILURE_RATE, Budget, Context, HARNESS
from mfcheck.envs import Schedule
from mfcheck.games import random_game
from mfcheck.games.resource_selection import split_policy
from mfcheck.kernels import stationary_distribution
from mfcheck.kernels.flow import step
from mfcheck.nplayer import simulate
from mfcheck.suites import approximation_rate as ar

MU = torch.tensor([0.6, 0.3, 0.1], dtype=torch.float64)


def iid_records(mu: torch.Tensor, n: int, replicas: int, records: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    x = torch.multinomial(mu.expand(replicas * records, -1), n, replacement=True, generator=g)
    counts = torch.nn.functional.one_hot(x, mu.numel()).sum(1).to(torch.float64)
    return (counts / n).reshape(replicas, records, -1)


@pytest.mark.parametrize("n", [10, 100, 1000])
def test_time_averaged_error_matches_the_exact_multinomial_deviation(n):
    mu_hat = iid_records(MU, n, replicas=64, records=12, seed=n)
    est = stats.across_seeds(ar.time_averaged_error(mu_hat, MU, burn_in=2))
    expected = ar.multinomial_l1_deviation(MU, n)
    z = stats.z_test(est.mean, expected, est.standard_error, FALSE_FAILURE_RATE, dof=est.dof)
    assert z.passed, f"N = {n}: {est.mean:.5f} ± {est.standard_error:.5f} vs exact {expected:.5f}"


def test_binomial_prefactor_is_the_large_n_limit_of_the_exact_deviation():
    n = 20_000
    exact = ar.multinomial_l1_deviation(MU, n) * math.sqrt(n)
    # the O(1/N) lattice corrections are < 1e-3 relative here
    assert ar.binomial_prefactor(MU) == pytest.approx(exact, rel=2e-3)


def synthetic(sizes, scale, exponent, replicas=16, seed=0):
    """Per N, the replicas' errors scale·N^exponent with 5% noise each."""
    g = torch.Generator().manual_seed(seed)
    return [(scale * n ** exponent *
             (1 + 0.05 * torch.randn(replicas, generator=g, dtype=torch.float64))).numpy()
            for n in sizes]


def test_rate_fit_contains_minus_half_for_root_n_errors_only():
    sizes = ar.LEVELS[Budget.QUICK].sizes
    good = ar.RateFit.of(sizes, synthetic(sizes, 0.6, -0.5), FALSE_FAILURE_RATE)
    flat = ar.RateFit.of(sizes, synthetic(sizes, 0.6, 0.0), FALSE_FAILURE_RATE)
    fast = ar.RateFit.of(sizes, synthetic(sizes, 0.6, -1.0), FALSE_FAILURE_RATE)
    assert good.contains(-0.5), good
    assert not flat.contains(-0.5) and not fast.contains(-0.5), (flat, fast)
    assert list(good.sizes[good.sizes >= ar.FIT_FROM]) == [100, 1000, 10000, 100000]


def test_a_bent_line_is_not_rescued_by_its_scatter():
    """Errors that fall like N^(−1/2) to N = 1000 and then stop falling (a floor): the
    replicate interval stays narrow (the bend is in every replica's line) and excludes
    −1/2."""
    sizes = ar.LEVELS[Budget.QUICK].sizes
    errors = [e + (0.6 / math.sqrt(1000) if n > 1000 else 0.0)
              for n, e in zip(sizes, synthetic(sizes, 0.6, -0.5, seed=3))]
    fit = ar.RateFit.of(sizes, errors, FALSE_FAILURE_RATE)
    assert not fit.contains(-0.5), fit
    assert fit.interval[1] - fit.interval[0] < 0.1, fit


def test_the_slope_test_holds_its_false_failure_rate_under_the_null():
    """`slope_false_failures` at the quick level, 1000 repetitions at nominal 5%: the
    failures are within the 1e-4 two-sided binomial range of 50 (the full measurement,
    20 000 repetitions, is in docs/statistics.md and `test_..._full`)."""
    failures = ar.slope_false_failures(0.05, 1000, seed=11)
    lo, hi = st.binom.ppf([5e-5, 1 - 5e-5], 1000, 0.05)
    assert lo <= failures <= hi, failures


@pytest.mark.full
@pytest.mark.parametrize("nominal", [0.05, 0.01])
def test_the_slope_test_holds_its_false_failure_rate_under_the_null_full(nominal):
    """The measurement of docs/statistics.md: 20 000 repetitions; the Clopper–Pearson 95%
    interval must contain the nominal rate."""
    failures = ar.slope_false_failures(nominal, 20_000, seed=1)
    ci = st.binomtest(failures, 20_000).proportion_ci(0.95, method="exact")
    assert ci.low <= nominal <= ci.high, (failures, ci)


def test_equilibria_are_stationary_for_their_policies():
    from mfcheck.kernels import stationary_distribution
    for make in ar.GAMES.values():
        eq = make(torch.device("cpu"))
        mu = stationary_distribution(eq.game, eq.policy)
        mu = getattr(mu, "mu", mu)
        assert torch.allclose(mu.reshape(-1), eq.mu, atol=1e-9), (eq.game.name, mu, eq.mu)


CPU = torch.device("cpu")
#: A garnet whose transitions depend on L (monotone=False), with an interior policy.
COUPLED = random_game(5, 2, horizon=None, branching=2, monotone=False, discount=0.9,
                      seed=69125)


def stationary_target(game, policy) -> ar.Stationary:
    return ar.Stationary("test", game, policy, stationary_distribution(game, policy).mu)


@pytest.mark.parametrize("fraction", [1.0, 0.1])
def test_linear_noise_is_multinomial_when_transitions_ignore_the_population(fraction):
    """Agents then move independently, so the stationary counts are multinomial for every
    schedule: Σ = diag μ − μμᵀ exactly (the garnet's monotone kind has L-free moves)."""
    game = random_game(4, 3, horizon=None, branching=2, monotone=True, discount=0.9, seed=3)
    policy = torch.tensor([[0.2, 0.3, 0.5], [0.6, 0.2, 0.2], [0.1, 0.1, 0.8], [0.3, 0.3, 0.4]],
                          dtype=torch.float64)
    target = stationary_target(game, policy)
    cov = ar.Linearisation.of(target).covariance(fraction)
    mu = target.mu
    assert torch.allclose(cov, torch.diag(mu) - torch.outer(mu, mu), atol=1e-12), cov


def queues(fraction):
    return ar.queues_equilibrium(CPU), fraction, True


def coupled(fraction):
    return stationary_target(COUPLED, torch.full((5, 2), 0.5, dtype=torch.float64)), fraction, False


@pytest.mark.parametrize("case, n", [(queues(1.0), 1000), (queues(0.2), 200), (coupled(1.0), 1000)],
                         ids=["queueing-all", "queueing-f0.2", "coupled-garnet-all"])
def test_the_simulated_stationary_covariance_is_the_linearised_one(case, n):
    """After 8 epochs from μ^π, N·E(μ̂_N − μ^π)_s² of the reference simulator equals the
    linear-noise Σ_ss per state (z-tests on 4000 replicas, Bonferroni over the states). On
    queueing, where P depends on L, the multinomial diag μ(1 − μ) fails the same test (the
    test can tell them apart); on the drawn-style garnet the two are within ~2%."""
    target, fraction, distinct = case
    mu = target.mu
    expected = torch.diagonal(ar.Linearisation.of(target).covariance(fraction))
    schedule = Schedule.parse("all" if fraction == 1 else str(fraction))
    rounds = 8 * schedule.steps(n)
    out = simulate(target.game, target.policy, n_agents=n, acting=schedule, rounds=rounds,
                   record_every=rounds, batch=4000, seed=7, initial=mu).mu[:, -1]
    est = stats.across_seeds(n * (out - mu) ** 2)
    rate = stats.bonferroni(FALSE_FAILURE_RATE, mu.numel())

    def agrees(variances) -> bool:
        return all(stats.z_test(float(est.mean[s]), float(variances[s]),
                                float(est.standard_error[s]), rate, dof=est.dof).passed
                   for s in range(mu.numel()))

    assert agrees(expected), (est.mean, est.standard_error, expected)
    if distinct:
        assert not agrees(mu * (1 - mu)), (est.mean, est.standard_error, mu * (1 - mu))


def test_linear_noise_explains_the_queueing_excess_over_independent_draws():
    """Queueing's error·√N is ~4–5% above independent draws (docs): its linearised
    prediction is above them too, for both quick schedules."""
    eq = ar.queues_equilibrium(CPU)
    linear = ar.Linearisation.of(eq)
    c = ar.binomial_prefactor(eq.mu)
    for text in ar.LEVELS[Budget.QUICK].schedules:
        assert linear.prefactor(Schedule.parse(text)) > 1.01 * c


def test_a_periodic_population_is_rejected():
    """Two resources and the table that swaps them: μ^π = (½, ½) but the synchronous
    population alternates, δ(E²) = 1."""
    game = ar.routes_equilibrium(CPU).game
    swap = torch.tensor([[0.0, 1.0], [1.0, 0.0]], dtype=torch.float64)
    target = stationary_target(game, swap)
    ok, why = ar.DRAWN.accepts(ar.Linearisation.of(target), [Schedule.parse("all")])
    assert not ok and "1.000" in why, why


@pytest.mark.parametrize("seed", [0, 1])
def test_drawn_games_mix_around_their_stationary_mean_field(seed):
    ctx = Context(seed=seed, budget=Budget.QUICK, device=CPU)
    level = ar.LEVELS[Budget.QUICK]
    targets, _ = ar.drawn_targets(ar.DRAWN, level, ctx)
    assert len(targets) == level.garnet_draws
    schedules = [Schedule.parse(text) for text in level.schedules]
    for target, _ in targets:
        game, policy, mu = target.game, target.policy, target.mu
        assert 2 <= game.n_states <= ar.DRAWN.max_states
        assert (policy >= 0.5 / game.n_actions - 1e-15).all()
        moved = step(game, 0, mu.unsqueeze(-1) * policy)
        assert (moved - mu).abs().sum() < 1e-10, (game.name, mu, moved)
        linear = ar.Linearisation.of(target)
        assert max(linear.mixing_modulus(s) for s in schedules) <= ar.MIXING
    again, _ = ar.drawn_targets(ar.DRAWN, level, ctx)
    assert [t.game.name for t, _ in again] == [t.game.name for t, _ in targets]


def test_exploitability_rate_fails_for_a_policy_that_is_not_an_equilibrium():
    eq = ar.routes_equilibrium(torch.device("cpu"))
    off = ar.Equilibrium("off-equilibrium", eq.game, split_policy(eq.game, [0.5, 0.5]),
                         torch.tensor([0.5, 0.5], dtype=torch.float64), affine=True,
                         largest_exact=7)
    rate = ar.ExploitabilityRate.of(off, range(2, off.largest_exact + 1))
    assert not rate.passed and rate.slope > -0.2, rate  # tends to the mean-field exploitability
    ctx = Context(seed=0, budget=Budget.QUICK, device=torch.device("cpu"))
    outcome = ar.exploitability_rate(HARNESS, off, ctx)
    assert not outcome.passed and "FAILED" in outcome.message


@pytest.mark.parametrize("fraction, rounds", [(1.0, 7), (0.5, 12), (0.1, 40), (0.02, 150)])
def test_the_mean_field_return_from_the_stationary_law_is_the_kernels_value(fraction, rounds):
    """From μ^π every decision earns ⟨μ^π, r_π⟩ in expectation, so the recursion's value is
    ⟨μ^π, V^π⟩·(1 − E γ^D), D ~ Binomial(rounds, κ), V^π of `kernels.policy_value`; and
    the population stays at μ^π."""
    from mfcheck.kernels import initial_values, policy_value
    eq = ar.queues_equilibrium(CPU)
    game, policy = eq.game, eq.policy
    flow = stationary_distribution(game, policy)
    v = policy_value(game, policy, flow).v
    mf = ar.MeanField.of(game, policy, fraction=fraction, rounds=rounds, record_every=1,
                         initial=flow.mu)
    truncation = 1 - (1 - fraction + fraction * game.discount) ** rounds
    assert mf.value == pytest.approx(float(flow.mu @ v) * truncation, rel=1e-10)
    assert torch.allclose(mf.mu, flow.mu.expand_as(mf.mu), atol=1e-10)
    # and the finite-horizon value is the kernels' own
    t = ar.horizon_transient(CPU)
    fh = ar.MeanField.of(t.game, t.policy, fraction=1.0, rounds=t.game.horizon, record_every=1)
    from mfcheck.kernels import distribution
    expected = initial_values(t.game, policy_value(t.game, t.policy, distribution(t.game, t.policy)).v)
    assert fh.value == pytest.approx(float(expected), rel=1e-12)


def test_the_synchronous_recursion_is_the_kernels_flow_on_a_horizon_game():
    """κ = 1 on a stationary game: the path is the kernels' synchronous flow μ_(t+1) = Φ(μ_t),
    and the return Σ_t γ^t ⟨μ_t ⊗ π, r(L_t)⟩."""
    t = ar.queueing_transient(CPU)
    game, policy = t.game, t.policy
    mf = ar.MeanField.of(game, policy, fraction=1.0, rounds=5, record_every=1)
    mu, value = game.mu0, 0.0
    for n in range(5):
        L = mu[:, None] * policy
        assert torch.allclose(mf.mu[n], mu, atol=1e-14)
        value += game.discount ** n * float((L * game.reward(0, L)).sum())
        mu = step(game, 0, L)
    assert mf.value == pytest.approx(value, rel=1e-12)


def test_the_extrapolation_removes_a_one_over_n_bias_and_flags_a_constant_one():
    """δ(N) = b/N exactly fits to δ∞ = 0; a constant offset stays."""
    sizes = [100, 400]
    ests = [stats.ReplicateEstimate(0.3 / n + 1.0, 0.01, 32, 31) for n in sizes]
    assert ar.Extrapolated.of(sizes, ests, [1.0, 1.0]).delta == pytest.approx(0, abs=1e-12)
    off = ar.Extrapolated.of(sizes, ests, [0.9, 0.9])
    assert off.delta == pytest.approx(0.1) and off.z() > 5  # SE = √17/3 · 0.01

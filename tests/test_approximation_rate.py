"""The helpers of the ``approximation-rate`` suite: the error estimator against the exact
mean absolute deviation of iid multinomial counts, the rate fit on synthetic errors, and
the exploitability rate's power against a policy that is not an equilibrium."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats as st

from mfcheck import stats
from mfcheck.check import FALSE_FAILURE_RATE, Budget, Context, HARNESS
from mfcheck.games.resource_selection import split_policy
from mfcheck.suites import approximation_rate as ar

MU = torch.tensor([0.6, 0.3, 0.1], dtype=torch.float64)


def exact_l1_deviation(mu: torch.Tensor, n: int) -> float:
    """E‖counts/N − μ‖₁ for Multinomial(N, μ): Σ_s E|Binomial(N, μ_s) − Nμ_s| / N, summed
    over the binomial's support."""
    k = np.arange(n + 1)
    return sum(float((st.binom.pmf(k, n, p) * np.abs(k - n * p)).sum()) / n
               for p in mu.tolist())


def iid_records(mu: torch.Tensor, n: int, replicas: int, records: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    x = torch.multinomial(mu.expand(replicas * records, -1), n, replacement=True, generator=g)
    counts = torch.nn.functional.one_hot(x, mu.numel()).sum(1).to(torch.float64)
    return (counts / n).reshape(replicas, records, -1)


@pytest.mark.parametrize("n", [10, 100, 1000])
def test_time_averaged_error_matches_the_exact_multinomial_deviation(n):
    mu_hat = iid_records(MU, n, replicas=64, records=12, seed=n)
    est = stats.across_seeds(ar.time_averaged_error(mu_hat, MU, burn_in=2))
    expected = exact_l1_deviation(MU, n)
    z = stats.z_test(est.mean, expected, est.standard_error, FALSE_FAILURE_RATE, dof=est.dof)
    assert z.passed, f"N = {n}: {est.mean:.5f} ± {est.standard_error:.5f} vs exact {expected:.5f}"


def test_binomial_prefactor_is_the_large_n_limit_of_the_exact_deviation():
    n = 20_000
    exact = exact_l1_deviation(MU, n) * math.sqrt(n)
    # the O(1/N) lattice corrections are < 1e-3 relative here
    assert ar.binomial_prefactor(MU) == pytest.approx(exact, rel=2e-3)


def synthetic(sizes, scale, exponent, replicas=16, seed=0):
    """ReplicateEstimates of errors scale·N^exponent with 5% noise per replica."""
    g = torch.Generator().manual_seed(seed)
    return [stats.across_seeds(scale * n ** exponent *
                               (1 + 0.05 * torch.randn(replicas, generator=g,
                                                       dtype=torch.float64)))
            for n in sizes]


def test_rate_fit_contains_minus_half_for_root_n_errors_only():
    sizes = ar.LEVELS[Budget.QUICK].sizes
    good = ar.RateFit.of(sizes, synthetic(sizes, 0.6, -0.5), FALSE_FAILURE_RATE)
    flat = ar.RateFit.of(sizes, synthetic(sizes, 0.6, 0.0), FALSE_FAILURE_RATE)
    fast = ar.RateFit.of(sizes, synthetic(sizes, 0.6, -1.0), FALSE_FAILURE_RATE)
    assert good.contains(-0.5), good
    assert not flat.contains(-0.5) and not fast.contains(-0.5), (flat, fast)
    assert list(good.sizes[good.sizes >= ar.FIT_FROM]) == [100, 1000, 10000, 100000]


def test_equilibria_are_stationary_for_their_policies():
    from mfcheck.kernels import stationary_distribution
    for make in ar.GAMES.values():
        eq = make(torch.device("cpu"))
        mu = stationary_distribution(eq.game, eq.policy)
        mu = getattr(mu, "mu", mu)
        assert torch.allclose(mu.reshape(-1), eq.mu, atol=1e-9), (eq.game.name, mu, eq.mu)


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

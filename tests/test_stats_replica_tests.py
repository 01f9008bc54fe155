"""`mfcheck.stats.quantile_test` and `exchangeability_test` (docs/statistics.md): exact
p-values, and false-failure rates at or below nominal under their null for any law."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sst

from mfcheck import stats


def test_quantile_test_p_value_is_the_binomial_tail():
    v = np.arange(32) / 31.0
    result = stats.quantile_test(v, 0.5, 0.75, 1e-4)
    assert result.reached == 16 and result.n == 32
    assert result.p_value == pytest.approx(sst.binom.cdf(16, 32, 0.75), rel=1e-12)
    assert result.passed  # 16 ≥ 14 = needed at 1e-4
    assert result.needed == stats.quantile_pass_count(32, 0.75, 1e-4) == 14
    assert sst.binom.cdf(13, 32, 0.75) <= 1e-4 < sst.binom.cdf(14, 32, 0.75)
    assert not stats.quantile_test(v, 0.9, 0.75, 1e-4).passed  # 4 reach it
    # ties count as reaching: the null is P(value ≥ threshold) ≥ q
    assert stats.quantile_test(np.full(10, 0.5), 0.5, 0.9).reached == 10


@pytest.mark.parametrize("bad", [dict(q=0.0), dict(q=1.0), dict(values=[np.nan]),
                                 dict(values=[])])
def test_quantile_test_refuses_bad_input(bad):
    kwargs = dict(values=[0.1, 0.2], threshold=0.1, q=0.5) | bad
    with pytest.raises(ValueError):
        stats.quantile_test(**kwargs)


def test_exchangeability_test_rate_under_the_null_for_skewed_replicas():
    """8 × 8 iid exponential replicas, 400 repetitions at α = 0.1 (2000 permutations):
    the rejection rate is ≤ α within 6 binomial SDs."""
    rng = np.random.default_rng(11)
    alpha, reps = 0.1, 400
    rejected = sum(not stats.exchangeability_test(rng.exponential(size=(8, 8)), alpha,
                                                  permutations=2000, seed=i).passed
                   for i in range(reps))
    assert rejected / reps <= alpha + 6 * math.sqrt(alpha * (1 - alpha) / reps)
    assert rejected > 0  # not vacuous: the test does reject at its rate


def test_exchangeability_test_sees_shared_streams_and_ignored_seeds():
    rng = np.random.default_rng(5)
    shared = rng.standard_normal((8, 1)) + 1e-3 * rng.standard_normal((8, 8))
    result = stats.exchangeability_test(shared)
    assert not result.passed and result.p_above <= 5e-5 and result.permutations == 50_000
    same_calls = np.tile(rng.standard_normal((1, 8)), (8, 1))
    result = stats.exchangeability_test(same_calls)
    assert not result.passed and result.p_below <= 5e-5 and result.f == 0.0
    constant = stats.exchangeability_test(np.ones((3, 4)))
    assert constant.passed and math.isnan(constant.f)
    with pytest.raises(ValueError, match="shape"):
        stats.exchangeability_test(np.ones(5))

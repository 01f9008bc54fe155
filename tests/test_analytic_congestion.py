"""mfcheck.analytic.congestion against the logit table, closed forms and their defining properties.

Expected values come from docs/references.md#congestion (with its logit table,
docs/references.md#congestion-logit-table), from hand-derived closed forms, or from
the equilibrium conditions themselves (equal costs on used routes, the logit equation),
never from an earlier run of the functions under test.
"""

from __future__ import annotations


import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.special import expit, logit

from mfcheck.analytic import (exploitability_n_route, exploitability_two_route, logit_n_route,
                              logit_two_route, social_optimum_n_route, social_optimum_two_route,
                              wardrop_n_route, wardrop_two_route)

EXACT = 1e-12
PIGOU = (0.0, 1.0, 1.0, 0.0)

# docs/references.md#congestion-logit-table, logit splits (bisection), as printed: the tolerance is half a unit
# in the last printed digit.
FACTS_LOGIT = {
    (1.0, 1.0, 1.5, 0.5): ("0.66218", "0.630922", "0.571151", "0.545364", "0.506024"),
    PIGOU: ("0.966407", "0.836649", "0.662584", "0.598942", "0.512193"),
    (3.0, 1.0, 1.0, 1.0): ("0.0", "4.5e-5", "0.087171", "0.198343", "0.452518"),
}
FACTS_TEMPERATURES = (0.01, 0.1, 0.5, 1.0, 10.0)
FACTS_WARDROP = {(1.0, 1.0, 1.5, 0.5): 2 / 3, PIGOU: 1.0, (3.0, 1.0, 1.0, 1.0): 0.0}


def half_last_digit(text: str) -> float:
    mantissa, _, exponent = text.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    return 0.5 * 10.0 ** (-decimals + int(exponent or 0))


# -- strategies -----------------------------------------------------------------------------

intercepts = st.floats(-10.0, 10.0)
slopes = st.floats(1e-3, 10.0) | st.just(0.0)
temperatures = st.floats(1e-3, 100.0)


@st.composite
def two_routes(draw):
    a1, b1, a2, b2 = draw(intercepts), draw(slopes), draw(intercepts), draw(slopes)
    assume(b1 + b2 > 0)
    return a1, b1, a2, b2


@st.composite
def n_routes(draw, min_routes=1, max_routes=6):
    n = draw(st.integers(min_routes, max_routes))
    a = draw(st.lists(intercepts | st.sampled_from([0.0, 1.0]), min_size=n, max_size=n))
    return np.array(a), np.array(draw(st.lists(slopes, min_size=n, max_size=n)))


def costs(m, a, b):
    return np.asarray(a) + np.asarray(b) * np.asarray(m)


def scale(a, b) -> float:
    return 1.0 + np.abs(a).max() + np.abs(b).max()


# -- two routes: docs/references.md#congestion-wardrop ---------------------------------------------

@pytest.mark.parametrize("params", list(FACTS_WARDROP))
def test_wardrop_matches_facts(params):
    assert wardrop_two_route(*params) == pytest.approx(FACTS_WARDROP[params], abs=1e-15)


@pytest.mark.parametrize("params,tau,expected", [
    (p, tau, text) for p, row in FACTS_LOGIT.items() for tau, text in zip(FACTS_TEMPERATURES, row)])
def test_logit_matches_facts_table(params, tau, expected):
    assert logit_two_route(*params, tau) == pytest.approx(float(expected),
                                                          abs=half_last_digit(expected))


def test_logit_deep_corner_is_resolved_relative_to_m():
    """(3, 1, 1, 1) at τ = 0.01: the root x = logit(m) lies in [(d − B)/τ, d/τ] = [−300, −100].

    The table prints 0.0; m ≈ e^−100 must still be resolved to full relative precision,
    which only solving for the logit achieves.
    """
    a1, b1, a2, b2 = 3.0, 1.0, 1.0, 1.0
    tau, d, slope = 0.01, a2 + b2 - a1, b1 + b2
    m = logit_two_route(a1, b1, a2, b2, tau)
    assert expit((d - slope) / tau) <= m <= expit(d / tau)
    # m is so small that B·m is negligible: τ·x = d to double precision.
    assert logit(m) == pytest.approx(d / tau, rel=1e-14)


def test_pigou():
    """Pigou: Wardrop puts everyone on the variable route (cost 1); the optimum splits 1/2
    (mean cost 3/4); the price of anarchy is 4/3."""
    assert wardrop_two_route(*PIGOU) == 1.0
    assert social_optimum_two_route(*PIGOU) == 0.5

    def mean_cost(m):
        return m * (PIGOU[0] + PIGOU[1] * m) + (1 - m) * (PIGOU[2] + PIGOU[3] * (1 - m))

    assert mean_cost(wardrop_two_route(*PIGOU)) / mean_cost(social_optimum_two_route(*PIGOU)) \
        == pytest.approx(4 / 3, rel=1e-15)
    assert exploitability_two_route(1.0, *PIGOU) == 0.0
    assert exploitability_two_route(0.5, *PIGOU) == pytest.approx(0.25, abs=1e-15)


def test_interior_cost_matches_facts():
    """Interior: both costs equal (a1·b2 + a2·b1 + b1·b2)/(b1 + b2)."""
    a1, b1, a2, b2 = 0.5, 2.0, 1.0, 0.5
    m = wardrop_two_route(a1, b1, a2, b2)
    level = (a1 * b2 + a2 * b1 + b1 * b2) / (b1 + b2)
    assert a1 + b1 * m == pytest.approx(level, abs=EXACT)
    assert a2 + b2 * (1 - m) == pytest.approx(level, abs=EXACT)


# -- corners and validation -----------------------------------------------------------------

@settings(max_examples=200, deadline=None)
@given(intercepts, slopes, slopes)
def test_corners_are_exact_on_their_boundaries(a1, b1, b2):
    assume(b1 + b2 > 0)
    assert wardrop_two_route(a1, b1, a1 + b1, b2) == 1.0       # a1 + b1 ≤ a2 (equality)
    assert wardrop_two_route(a1, b1, a1 + b1 + 1.0, b2) == 1.0
    assert wardrop_two_route(a1 + b2, b1, a1, b2) == 0.0       # a1 ≥ a2 + b2 (equality)
    assert wardrop_two_route(a1 + b2 + 1.0, b1, a1, b2) == 0.0


@pytest.mark.parametrize("call,match", [
    (lambda: wardrop_two_route(0, -1, 1, 1), "b1"),
    (lambda: wardrop_two_route(0, 1, 1, -0.5), "b2"),
    (lambda: wardrop_two_route(0, 0, 1, 0), r"b1 \+ b2"),
    (lambda: wardrop_two_route(float("nan"), 1, 1, 1), "a1"),
    (lambda: social_optimum_two_route(0, 1, float("inf"), 1), "a2"),
    (lambda: logit_two_route(0, 1, 1, 1, 0.0), "temperature"),
    (lambda: logit_two_route(0, 1, 1, 1, -1.0), "temperature"),
    (lambda: logit_two_route(0, -1, 1, 1, 1.0), "b1"),
    (lambda: wardrop_n_route([0, 1], [1, -1]), r"b\[1\]"),
    (lambda: wardrop_n_route([0, float("nan")], [1, 1]), r"a\[1\]"),
    (lambda: wardrop_n_route([0, 1], [1, 1, 1]), "same length"),
    (lambda: logit_n_route([0, 1], [1, 1], 0.0), "temperature"),
    (lambda: exploitability_n_route([0.5, 0.6], [0, 1], [1, 1]), "route split"),
    (lambda: exploitability_n_route([1.0], [0, 1], [1, 1]), "shape"),
])
def test_bad_parameters_raise_value_error_naming_them(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# -- limits ---------------------------------------------------------------------------------

@settings(max_examples=100, deadline=None)
@given(two_routes())
def test_logit_tends_to_wardrop_as_temperature_vanishes(params):
    """|m_τ − m*| ≤ 60·τ/B, from the logit equation.

    With x = logit(m_τ): where |x| ≤ 60, τ·x = B·(m* − m_τ) (interior) or B·m_τ ≤ τ·|x|
    (corners) bounds the gap by 60·τ/B; where |x| > 60, m_τ and m* both lie within
    e^−60 of the same end of [0, 1].
    """
    tau = 1e-9
    m_star, m = wardrop_two_route(*params), logit_two_route(*params, tau)
    assert abs(m - m_star) <= 60 * tau / (params[1] + params[3]) + 1e-20


@settings(max_examples=100, deadline=None)
@given(two_routes())
def test_logit_tends_to_one_half_as_temperature_grows(params):
    """τ → ∞: m − 1/2 ≈ (d − B/2)/(4τ), so |m − 1/2| ≤ (|d| + B)/τ."""
    a1, b1, a2, b2 = params
    tau = 1e8
    assert abs(logit_two_route(*params, tau) - 0.5) <= (abs(a2 + b2 - a1) + b1 + b2) / tau


# -- two routes: defining properties ------------------------------------------------------

@settings(max_examples=300, deadline=None)
@given(two_routes(), st.floats(0.0, 1.0))
def test_exploitability_is_nonnegative_and_vanishes_at_wardrop(params, m):
    assert exploitability_two_route(m, *params) >= 0.0
    gap = exploitability_two_route(wardrop_two_route(*params), *params)
    assert 0.0 <= gap <= EXACT * scale(np.array(params[::2]), np.array(params[1::2]))


@settings(max_examples=200, deadline=None)
@given(two_routes(), temperatures)
def test_logit_solves_its_equation(params, tau):
    """m = σ((d − B·m)/τ), the logit equation solved for m.

    Checked in m-space: m can round to 1.0, from which ln(m/(1−m)) is lost. Rounding d
    and m moves the right side by at most ~1e-16·(|d| + B)/τ·σ'(x) ≤ 1e-15·(1 + scale/τ).
    """
    a1, b1, a2, b2 = params
    d, slope = a2 + b2 - a1, b1 + b2
    m = logit_two_route(*params, tau)
    assert 0.0 <= m <= 1.0
    assert abs(m - expit((d - slope * m) / tau)) <= 1e-15 * (1 + (abs(a1) + abs(a2) + slope) / tau)


@settings(max_examples=200, deadline=None)
@given(two_routes(), st.floats(0.0, 1.0))
def test_social_optimum_minimises_mean_cost(params, m):
    a1, b1, a2, b2 = params

    def mean_cost(x):
        return x * (a1 + b1 * x) + (1 - x) * (a2 + b2 * (1 - x))

    assert mean_cost(social_optimum_two_route(*params)) <= mean_cost(m) + EXACT


# -- N routes -------------------------------------------------------------------------------

@settings(max_examples=300, deadline=None)
@given(n_routes())
def test_water_filling_equalises_used_costs(routes):
    a, b = routes
    m = wardrop_n_route(a, b)
    c = costs(m, a, b)
    tol = EXACT * scale(a, b)
    assert (m >= 0).all() and m.sum() == pytest.approx(1.0, abs=1e-15)
    used = m > 0
    assert c[used].max() - c[used].min() <= tol
    if (~used).any():
        assert c[used].max() <= c[~used].min() + tol
    assert 0.0 <= exploitability_n_route(m, a, b) <= tol


@settings(max_examples=200, deadline=None)
@given(n_routes(), st.data())
def test_exploitability_n_route_is_nonnegative(routes, data):
    a, b = routes
    w = np.array(data.draw(st.lists(st.floats(0.0, 1.0), min_size=a.size, max_size=a.size)))
    assume(w.sum() > 1e-6)
    assert exploitability_n_route(w / w.sum(), a, b) >= 0.0


@settings(max_examples=200, deadline=None)
@given(two_routes(), temperatures)
def test_n_route_agrees_with_two_route(params, tau):
    a1, b1, a2, b2 = params
    a, b = [a1, a2], [b1, b2]
    assert wardrop_n_route(a, b)[0] == pytest.approx(wardrop_two_route(*params), abs=EXACT)
    assert social_optimum_n_route(a, b)[0] == pytest.approx(social_optimum_two_route(*params),
                                                            abs=EXACT)
    assert logit_n_route(a, b, tau)[0] == pytest.approx(logit_two_route(*params, tau),
                                                        abs=EXACT)
    m = 0.3
    assert exploitability_n_route([m, 1 - m], a, b) == exploitability_two_route(m, *params)


@settings(max_examples=200, deadline=None)
@given(n_routes(), temperatures)
def test_logit_n_route_is_a_fixed_point(routes, tau):
    """m = softmax(−(a + b·m)/τ), to the precision this check can see.

    The check amplifies an error δ in m to ~δ·b/τ in the softmax (z moves by b·δ/τ), and
    z itself carries a few ulps of |z| (up to 1e4 here): for m accurate to 1e-14 (see the
    50-digit test below) the residual is within 1e-14·(1 + max b/τ) + 4·eps·max|z|.
    """
    a, b = routes
    m = logit_n_route(a, b, tau)
    z = -(a + b * m) / tau
    softmax = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    tol = 1e-14 * (1 + b.max() / tau) + 4 * np.finfo(float).eps * np.abs(z).max()
    assert np.abs(m - softmax).max() <= tol


@pytest.mark.parametrize("params,tau", [
    ((1.0, 1.0, 1.5, 0.5), 0.01), (PIGOU, 0.1), ((3.0, 1.0, 1.0, 1.0), 0.1),
    ((3.0, 1.0, 1.0, 1.0), 0.01), ((1.5, 2.0, 3.0, 0.03125), 0.001), ((0.0, 9.25, 8.3, 0.001), 1.0),
])
def test_logit_roots_match_50_digit_roots(params, tau):
    """Both logit solvers against the root of the logit equation in 50-digit arithmetic,
    solved for x = logit(m) by bisection-safe Anderson iteration in mpmath."""
    mp = pytest.importorskip("mpmath")
    a1, b1, a2, b2 = (mp.mpf(p) for p in params)
    with mp.workdps(50):
        d, slope, t = a2 + b2 - a1, b1 + b2, mp.mpf(tau)
        x = mp.findroot(lambda x: t * x - d + slope / (1 + mp.exp(-x)),
                        ((d - slope) / t, d / t), solver="anderson")
        exact = 1 / (1 + mp.exp(-x))
    two = logit_two_route(*params, tau)
    n = logit_n_route([params[0], params[2]], [params[1], params[3]], tau)
    assert abs(two - exact) <= 1e-14 * exact
    assert abs(n[0] - exact) <= 1e-14 + 1e-13 * exact


@settings(max_examples=100, deadline=None)
@given(n_routes(min_routes=2), temperatures)
def test_n_route_answers_are_permutation_equivariant(routes, tau):
    a, b = routes
    perm = np.roll(np.arange(a.size), 1)
    np.testing.assert_allclose(wardrop_n_route(a[perm], b[perm]), wardrop_n_route(a, b)[perm],
                               atol=EXACT)
    np.testing.assert_allclose(logit_n_route(a[perm], b[perm], tau),
                               logit_n_route(a, b, tau)[perm], atol=EXACT)


def logit_n_route_50_digits(a, b, tau):
    """Reference logit split in 50-digit arithmetic, by an independent route: Lambert W.

    m_i = (τ/b_i)·W((b_i/τ)·e^((λ − a_i)/τ)) solves τ ln m_i + b_i m_i = λ − a_i (e^((λ − a_i)/τ)
    when b_i = 0), and λ is found by bisection on Σ m_i(λ) = 1.
    """
    mp = pytest.importorskip("mpmath")
    with mp.workdps(50):
        a, b, t = [mp.mpf(x) for x in a], [mp.mpf(x) for x in b], mp.mpf(tau)

        def split(level):
            return [mp.exp((level - ai) / t) if bi == 0 else
                    t / bi * mp.re(mp.lambertw(bi / t * mp.exp((level - ai) / t)))
                    for ai, bi in zip(a, b)]

        lo = min(ai + bi / len(a) for ai, bi in zip(a, b)) - t * mp.log(len(a)) - 1
        hi = min(ai + bi for ai, bi in zip(a, b)) + 1
        for _ in range(200):  # bisection: 2^-200 of the bracket
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if sum(split(mid)) < 1 else (lo, mid)
        return np.array([float(x) for x in split((lo + hi) / 2)])


@pytest.mark.parametrize("a,b,tau", [
    ([3, 0, 3], [0, 7, 0], 1e-3), ([3, 0, 3], [0, 7, 0], 1e-5),
    ([0.5, 0.1, 0.9, 0.3, 2], [1, 3, 0.5, 2, 1], 0.01),
    ([0.5, 0.1, 0.9, 0.3, 2], [1, 3, 0.5, 2, 1], 1.0),
    ([0, 0, 1.2], [2, 1, 0], 0.05), ([1, 1.5], [1, 0.5], 0.1), ([0, 2, 5], [1e-6, 1, 1], 0.2),
])
def test_logit_n_route_matches_50_digit_lambert_w(a, b, tau):
    exact = logit_n_route_50_digits(a, b, tau)
    np.testing.assert_allclose(logit_n_route(a, b, tau), exact, rtol=1e-13, atol=1e-15)


def test_water_filling_by_hand():
    """Hand-computed: three sloped routes, one unused, and zero-slope routes capping the level."""
    # Costs m1, 0.2 + m2, 0.4 + m3: level λ = (1 + 0.6)/3 = 8/15 > 0.4, all used.
    np.testing.assert_allclose(wardrop_n_route([0, 0.2, 0.4], [1, 1, 1]), [8 / 15, 5 / 15, 2 / 15],
                               atol=EXACT)
    # Costs 1 + m1, 2 + m2, 3 + m3: route 1 alone costs 2 ≤ a2, so only route 1 is used.
    np.testing.assert_allclose(wardrop_n_route([1, 2, 3], [1, 1, 1]), [1, 0, 0], atol=EXACT)
    # Costs m1, 0.2 + 2 m2, 5 + m3: λ = (1 + 0.1)/(1 + 1/2) = 11/15 < 5, route 3 unused.
    np.testing.assert_allclose(wardrop_n_route([0, 0.2, 5], [1, 2, 1]), [11 / 15, 4 / 15, 0],
                               atol=EXACT)
    # Costs 2 m1, m2, constant 1.2: sloped routes fill 1 at λ = 2/3 < 1.2, route 3 unused.
    np.testing.assert_allclose(wardrop_n_route([0, 0, 1.2], [2, 1, 0]), [1 / 3, 2 / 3, 0],
                               atol=EXACT)
    # Constant 0.5 caps the level: m1 = 0.5, m2 = 0.25; the rest 0.25 on route 3.
    np.testing.assert_allclose(wardrop_n_route([0, 0, 0.5], [1, 2, 0]), [0.5, 0.25, 0.25],
                               atol=EXACT)
    # Two tied zero-slope routes share the rest equally (documented tie rule).
    np.testing.assert_allclose(wardrop_n_route([1, 1, 2], [0, 0, 1]), [0.5, 0.5, 0], atol=EXACT)
    np.testing.assert_allclose(wardrop_n_route([3, 3], [0, 0]), [0.5, 0.5], atol=EXACT)

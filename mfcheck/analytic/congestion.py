"""Closed-form answers for congestion (routing) games with affine route costs.

Route i costs c_i = a_i + b_i·m_i, where m_i is the fraction of the population on it.
These are the exact answers mfcheck's congestion checks compare solvers against
(docs/references.md#congestion), so they are written as plain float/numpy functions,
independent of the torch kernels they check.

Two routes are parametrised by m = m_1 (so m_2 = 1 − m and c2 = a2 + b2·(1 − m)).
N routes take vectors ``a`` and ``b``. Every function validates its parameters and
raises `ValueError` naming the bad one: a silently wrong "expected value" would make
every check that uses it meaningless.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import brentq
from scipy.special import expit, wrightomega

__all__ = ["exploitability_n_route", "exploitability_two_route", "logit_n_route",
           "logit_two_route", "social_optimum_n_route", "social_optimum_two_route",
           "wardrop_n_route", "wardrop_two_route"]

#: Tolerance on a route split's sum and sign when it is an input (not an output).
SPLIT_ATOL = 1e-9


# -- validation ---------------------------------------------------------------------------

def _routes(a, b, labels: dict[str, tuple[str, ...]] | None = None):
    """``a`` and ``b`` as float64 vectors, or a `ValueError` naming the bad entry.

    ``labels`` names the entries in messages (default ``a[i]``, ``b[i]``).
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.ndim != 1 or a.size == 0 or a.shape != b.shape:
        raise ValueError(f"a and b must be non-empty vectors of the same length, got shapes "
                         f"{a.shape} and {b.shape}")

    def label(which: str, i: int) -> str:
        return labels[which][i] if labels else f"{which}[{i}]"

    for which, x in (("a", a), ("b", b)):
        bad = np.flatnonzero(~np.isfinite(x))
        if bad.size:
            raise ValueError(f"{label(which, bad[0])} = {x[bad[0]]!r} must be finite")
    bad = np.flatnonzero(b < 0)
    if bad.size:
        raise ValueError(f"{label('b', bad[0])} = {b[bad[0]]!r} must be >= 0 "
                         f"(costs must not fall with use)")
    return a, b


def _check_two_route(a1: float, b1: float, a2: float, b2: float) -> None:
    _routes([a1, a2], [b1, b2], {"a": ("a1", "a2"), "b": ("b1", "b2")})
    if b1 + b2 <= 0:
        raise ValueError(f"b1 + b2 = {b1 + b2!r} must be > 0 (otherwise every split of two "
                         f"equal-cost routes is an equilibrium)")


def _check_temperature(temperature: float) -> float:
    if not (math.isfinite(temperature) and temperature > 0):
        raise ValueError(f"temperature = {temperature!r} must be finite and > 0 "
                         f"(use the Wardrop functions for temperature 0)")
    return float(temperature)


def _increasing_root(f, lo: float, hi: float, *, scale: float) -> float:
    """The root of an increasing ``f`` bracketed by [lo, hi] in exact arithmetic, to ~1 ulp.

    The bracket is widened by 1e-9·(1 + scale): far more than the rounding in ``f`` at
    its ends, which could otherwise give both ends the same sign, and only a few more
    iterations for Brent's method.
    """
    margin = 1e-9 * (1.0 + scale)
    return brentq(f, lo - margin, hi + margin, xtol=1e-300, rtol=4 * np.finfo(float).eps,
                   maxiter=500)


# -- two routes ---------------------------------------------------------------------------

def wardrop_two_route(a1: float, b1: float, a2: float, b2: float) -> float:
    """The Wardrop (mean-field) equilibrium fraction m* on route 1.

    m* = clip((a2 − a1 + b2)/(b1 + b2), 0, 1). The corners are decided by comparing costs
    rather than by clipping the quotient, so that m* is exactly 1 whenever route 1 is no
    dearer even when everyone takes it (a1 + b1 ≤ a2), and exactly 0 whenever route 1 is
    no cheaper even when it is empty (a1 ≥ a2 + b2): rounding in the quotient could
    otherwise give 0.9999999999999999 on the boundary. Unique, since the Beckmann
    potential is strictly convex when b1 + b2 > 0.
    """
    _check_two_route(a1, b1, a2, b2)
    if a1 + b1 <= a2:
        return 1.0
    if a1 >= a2 + b2:
        return 0.0
    return min(max((a2 - a1 + b2) / (b1 + b2), 0.0), 1.0)


def social_optimum_two_route(a1: float, b1: float, a2: float, b2: float) -> float:
    """The split minimising the mean cost m·c1 + (1 − m)·c2.

    = clip((a2 − a1 + 2 b2)/(2(b1 + b2)), 0, 1): the optimum equalises *marginal* costs
    a_i + 2 b_i m_i, i.e. it is the Wardrop split of the game with slopes doubled.
    """
    _check_two_route(a1, b1, a2, b2)
    return wardrop_two_route(a1, 2 * b1, a2, 2 * b2)


def logit_two_route(a1: float, b1: float, a2: float, b2: float, temperature: float) -> float:
    """The logit (entropy-regularised) equilibrium at temperature τ > 0.

    The unique root of τ·ln(m/(1−m)) = (a2 + b2 − a1) − (b1 + b2)·m. It is solved for the
    logit x = ln(m/(1−m)), where τ·x − d + B·σ(x) is increasing and bracketed by
    [(d − B)/τ, d/τ] (σ lies in (0, 1)): m itself can be 4.5e−5 or e^−100, which a root
    finder on m cannot resolve relative to m, but x carries every digit. m = σ(x) is then
    accurate to a few ulps relative.
    """
    _check_two_route(a1, b1, a2, b2)
    tau = _check_temperature(temperature)
    d, slope = a2 + b2 - a1, b1 + b2
    x = _increasing_root(lambda x: tau * x - d + slope * expit(x), (d - slope) / tau, d / tau,
                         scale=(abs(d) + slope) / tau)
    return float(expit(x))


def exploitability_two_route(m: float, a1: float, b1: float, a2: float, b2: float) -> float:
    """What one agent saves by switching to the cheaper route: m·c1 + (1−m)·c2 − min(c1, c2)."""
    return exploitability_n_route(np.array([m, 1.0 - m]), [a1, a2], [b1, b2])


# -- N routes -----------------------------------------------------------------------------

def wardrop_n_route(a, b) -> np.ndarray:
    """The Wardrop equilibrium split by water-filling on the common cost level λ.

    Used routes all cost λ and unused ones cost at least λ. A route with b_i > 0 carries
    (λ − a_i)⁺/b_i; λ is the level at which these fill exactly 1, found exactly by
    scanning the routes in order of a_i: with the k cheapest in use the level is
    λ_k = (1 + Σ_{j≤k} a_j/b_j)/Σ_{j≤k} 1/b_j, and the first k with λ_k ≤ a_(k+1) is the
    answer (no further route is worth entering).

    A route with b_i = 0 has constant cost a_i and absorbs any amount at that cost, so it
    caps the level at a_0 = min{a_i : b_i = 0}. If the sloped routes fill 1 below the cap,
    zero-slope routes carry nothing; otherwise λ = a_0, every sloped route carries
    (a_0 − a_i)⁺/b_i, and the rest is shared by the zero-slope routes with a_i = a_0.

    Uniqueness: when at most one zero-slope route attains the cap, the split is the
    unique equilibrium (the Beckmann potential is strictly convex in the sloped routes'
    flows and linear in the others). Otherwise any division of the rest among the tied
    zero-slope routes is an equilibrium; this function returns the *equal* division,
    the one that does not depend on the order of the routes. All-zero ``b`` is allowed
    (the cheapest routes share equally).
    """
    a, b = _routes(a, b)
    with np.errstate(all="ignore"):  # w underflowing to 0 gives NaN, caught at the end
        m = _water_fill(a, b)
    if not np.isfinite(m).all():
        raise ValueError(f"b = {b.tolist()}: the nonzero slopes span too many orders of "
                         f"magnitude for double precision")
    return m


def _water_fill(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """`wardrop_n_route` on validated vectors (see its docstring for the method)."""
    m = np.zeros_like(a)
    flat = b == 0
    cap = a[flat].min() if flat.any() else np.inf
    level = np.inf  # the level the sloped routes alone would need to carry everyone
    sloped = np.flatnonzero(~flat)
    if sloped.size:
        order = sloped[np.argsort(a[sloped], kind="stable")]
        # λ_k scaled by s: w = s/b neither overflows (as 1/b does for b < 5.6e−309) nor
        # loses digits to subnormals, for any slopes within 300 orders of magnitude of s.
        s = max(b[order].min(), 1e-150)
        w = s / b[order]
        levels = (s + np.cumsum(a[order] * w)) / np.cumsum(w)
        # The used routes are the first k + 1 with k the first index at which the next
        # route is not worth entering (λ_k ≤ a_(k+1)): so every later route gets exactly 0.
        k = np.flatnonzero(np.append(a[order][1:] >= levels[:-1], True))[0]
        level = levels[k]
        m[sloped] = np.maximum(min(level, cap) - a[sloped], 0.0) / b[sloped]
    if flat.any() and level >= cap:
        tied = flat & (a == cap)
        m[tied] = max(1.0 - m.sum(), 0.0) / tied.sum()
    else:
        # (λ − a_i)/b_i amplifies λ's rounding by 1/b_i: the used route of smallest slope,
        # the worst conditioned, takes the remainder instead (its cost moves least).
        j = order[np.argmin(b[order[:k + 1]])]
        m[j] = 0.0
        m[j] = max(1.0 - m.sum(), 0.0)
    return m / m.sum()


def social_optimum_n_route(a, b) -> np.ndarray:
    """The split minimising Σ m_i c_i: the Wardrop split for marginal costs a_i + 2 b_i m_i."""
    a, b = _routes(a, b)
    return wardrop_n_route(a, 2 * b)


def logit_n_route(a, b, temperature: float) -> np.ndarray:
    """The logit equilibrium m_i ∝ exp(−(a_i + b_i m_i)/τ) at temperature τ > 0.

    Writing the normaliser as a level λ, each m_i solves τ·ln m_i + b_i·m_i = λ − a_i,
    whose left side increases from −∞ to ∞; so m_i(λ) is unique, increasing in λ, and in
    closed form m_i = (τ/b_i)·ω((λ − a_i)/τ + ln(b_i/τ)) with ω the Wright omega function
    (m_i = exp((λ − a_i)/τ) when b_i = 0). The one remaining unknown λ solves the
    monotone equation Σ_i m_i(λ) = 1, bracketed by min_i(a_i + b_i/n) − τ ln n (every
    m_i ≤ 1/n) and min_i(a_i + b_i) (some m_i ≥ 1). The fixed point is unique because
    the regularised potential is strictly convex.
    """
    a, b = _routes(a, b)
    tau = _check_temperature(temperature)
    n = a.size
    flat = b == 0
    safe_b = np.where(flat, 1.0, b)
    # λ is solved as hi + shift: the routes that matter have a_i near λ, and hi − a_i plus
    # a small shift keeps (λ − a_i)/τ accurate to ulps of itself, where λ − a_i computed
    # from λ would carry ulps of |λ|, amplified by 1/τ.
    lo, hi = np.min(a + b / n) - tau * math.log(n), np.min(a + b)
    offset = hi - a

    def split(shift: float) -> np.ndarray:
        x = (shift + offset) / tau
        sloped = tau / safe_b * wrightomega(x + np.log(safe_b / tau))
        return np.where(flat, np.exp(np.where(flat, x, 0.0)), sloped)

    shift = _increasing_root(lambda x: split(x).sum() - 1.0, lo - hi, 0.0,
                             scale=hi - lo + tau + b.max())
    m = split(shift)
    return m / m.sum()


def exploitability_n_route(m, a, b) -> float:
    """Σ_i m_i c_i − min_i c_i with c_i = a_i + b_i·m_i: the mean cost above a best response.

    Evaluated as Σ_i m_i·(c_i − min_j c_j), which is non-negative in floating point too.
    """
    a, b = _routes(a, b)
    m = np.asarray(m, dtype=np.float64)
    if m.shape != a.shape:
        raise ValueError(f"m has shape {m.shape}, expected {a.shape} (one fraction per route)")
    if not np.isfinite(m).all() or (m < -SPLIT_ATOL).any() or abs(m.sum() - 1) > SPLIT_ATOL:
        raise ValueError(f"m = {m.tolist()} is not a route split (non-negative, summing to 1)")
    cost = a + b * m
    return float(m @ (cost - cost.min()))

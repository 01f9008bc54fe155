"""The Boltzmann mean-action map B: its Lipschitz bound, the Ising map below and above
the threshold (docs/operators.md)."""

from __future__ import annotations

import math
from collections.abc import Callable

import hypothesis.strategies as st
import torch
from scipy import optimize

from mfcheck import operators as ops
from mfcheck import strategies
from mfcheck.check import Context, Outcome
from mfcheck.errors import InvalidGameError

from .probes import (COUNTER_STEP, Draws, Finding, Probe, RATE_GAMES, ROUNDING, family, l1_norm,
                     lipschitz_search, outcome_of, run_search, suite)


MeanActionMap = Callable[[ops.PopulationGame, torch.Tensor, float], torch.Tensor]


@st.composite
def mean_action_pairs(draw, games: st.SearchStrategy):
    game = draw(games)
    a = draw(strategies.distributions((game.n_actions,), device=game.device))
    b = draw(strategies.distributions((game.n_actions,), device=game.device))
    t = draw(st.sampled_from([1.0, 1e-3]))
    K = game.interaction_strength()
    return game, (K / draw(st.floats(0.05, 3.0)) if K > 0 else 1.0), a, (1 - t) * a + t * b


def mean_action_probe(mean_action_map: MeanActionMap):
    def probe(pair) -> Probe:
        game, tau, a, b = pair
        bound = ops.mean_action_modulus(game, tau)
        return Probe(l1_norm(a - b),
                     l1_norm(mean_action_map(game, a, tau) - mean_action_map(game, b, tau)),
                     bound, 1.0, bound < 1.0, 1.0,
                     f"A={game.n_actions}, K/τ={bound:.3g}")
    return probe


@st.composite
def _contracting_games(draw, games: st.SearchStrategy):
    game = draw(games)
    K = game.interaction_strength()
    return game, (K / draw(st.floats(0.05, 0.95)) if K > 0 else 1.0)


def mean_action_iteration(mean_action_map: MeanActionMap, games: st.SearchStrategy,
                           ctx: Context, equilibrium: Callable[[ops.PopulationGame, float],
                                                               torch.Tensor] | None = None
                           ) -> Finding:
    """Below the threshold K/τ < 1 iteration from the uniform mean action contracts every
    step; with ``equilibrium`` (a closed form of the fixed point), it converges to that
    point within Banach's proven error bound (+ rounding)."""
    seen = {"n": 0, "step": 0.0, "error": 0.0, "bad": ""}

    def body(example):
        game, tau = example
        modulus = ops.mean_action_modulus(game, tau)
        start = torch.full((game.n_actions,), 1.0 / game.n_actions, dtype=torch.float64,
                           device=game.device)
        # A contraction by K/τ reaches the stopping bound from ‖ā_1 − ā_0‖₁ ≤ 2 within
        # log(tol (1 − λ)/2λ)/log λ steps: more means the map does not contract.
        enough = 10
        if modulus > 0:
            enough += math.ceil(math.log(1e-12 * (1 - modulus) / (2 * modulus)) / math.log(modulus))
        try:
            fp = ops.fixed_point(lambda a: mean_action_map(game, a, tau), start, modulus=modulus,
                                 norm=l1_norm, max_iterations=enough)
        except InvalidGameError as exc:
            seen["bad"] = f"A={game.n_actions}, K/τ={modulus:.3g}: {exc}"
            raise AssertionError from None
        worst = max((b - modulus * a for a, b in zip(fp.steps, fp.steps[1:])), default=0.0)
        seen["n"] += 1
        seen["step"] = max(seen["step"], worst / ROUNDING)
        if worst > ROUNDING:
            seen["bad"] = f"a step grew by more than K/τ = {modulus:.4g} ({game.name})"
            raise AssertionError
        if equilibrium is not None:
            error = l1_norm(fp.value - equilibrium(game, tau))
            seen["error"] = max(seen["error"], error / (fp.error_bound + ROUNDING))
            if error > fp.error_bound + ROUNDING:
                seen["bad"] = (f"the limit is {error:.3g} in ℓ₁ from the closed-form fixed point, "
                               f"beyond the proven bound {fp.error_bound:.3g} ({game.name}, "
                               f"τ={tau:.4g})")
                raise AssertionError

    if not run_search(_contracting_games(games), body, ctx, RATE_GAMES[ctx.budget]):
        return Finding(False, None, "contraction", None,
                       f"B iteration below threshold: {seen['bad']}")
    closed = (f"; ℓ₁ distance to the closed-form fixed point at most {seen['error']:.3f} × the "
              f"proven error bound (+ rounding)" if equilibrium is not None else "")
    return Finding(True, seen["step"], "<= 1", ROUNDING,
                   f"B iteration on {seen['n']} drawn games with K/τ < 1: every step at most K/τ "
                   f"times the previous (+ rounding), converged to a fixed point{closed}")


def _ising_mean(a: torch.Tensor) -> float:
    return float(a[..., 1] - a[..., 0])


def _ising_point(m: float, device) -> torch.Tensor:
    return torch.tensor([(1 - m) / 2, (1 + m) / 2], dtype=torch.float64, device=device)


#: The window of |d_n| in which the ratios d_{n+1}/d_n of successive differences of a scalar
#: iteration give its rate B'(m*): there the second-order remainder (|B''| ≤ 0.77(J/τ)²
#: times |m_n − m*| ≤ |d_n|/(1 − |J|/τ)) and the rounding of d_n (a few ulps of 1 over
#: |d_n|) each stay below 1e-6 of the rate. The iteration stops at |d_n| ≤ `STOP_STEP`,
#: where |m_n − m*| ≤ STOP_STEP/(1 − |J|/τ).
SLOPE_WINDOW = (1e-9, 1e-7)

RATE_TOLERANCE = 1e-5

STOP_STEP = 1e-10


def _ising_below_threshold(mean_action_map: MeanActionMap, coupling: float, field: float,
                           tau: float, device) -> Finding:
    """m* solves m = tanh((h + J m)/τ) (unique for |J| < τ); iteration contracts at B'(m*)."""
    game = ops.ising_population_game(coupling, field, device=device)
    m_star = optimize.brentq(lambda m: m - math.tanh((field + coupling * m) / tau), -1.0, 1.0,
                             xtol=1e-15)
    slope = coupling / tau * (1 - m_star ** 2)
    a, ms = _ising_point(0.5, device), [0.5]
    while len(ms) < 10_000 and (len(ms) < 2 or abs(ms[-1] - ms[-2]) > STOP_STEP):
        a = mean_action_map(game, a, tau)
        ms.append(_ising_mean(a))
    d = [y - x for x, y in zip(ms, ms[1:])]
    ratios = [y / x for x, y in zip(d, d[1:]) if SLOPE_WINDOW[0] <= abs(x) <= SLOPE_WINDOW[1]]
    value_error = abs(ms[-1] - m_star)
    rate_error = max((abs(r - slope) for r in ratios), default=math.inf) / abs(slope)
    tol_value = STOP_STEP / (1 - abs(coupling) / tau) + ROUNDING
    ok = value_error <= tol_value and rate_error <= RATE_TOLERANCE
    return Finding(ok, [ms[-1], ratios[-1] if ratios else None], [m_star, slope],
                   [tol_value, RATE_TOLERANCE],
                   f"Ising J={coupling:g}, h={field:g}, τ={tau:g} (K/τ = {abs(coupling) / tau:g}): "
                   f"m = {ms[-1]:.12f} vs root of m = tanh((h + J m)/τ) {m_star:.12f} (|diff| "
                   f"{value_error:.1e} ≤ {tol_value:.1e}); {len(ratios)} step ratios in the "
                   f"window, relative error vs B'(m*) = {slope:.6f} at most {rate_error:.1e} "
                   f"(≤ {RATE_TOLERANCE:g})")


ABOVE = {"coupling": -1.0, "tau": 0.5}  # antiferromagnetic, K/τ = 2

PERIOD_STEPS = 200


def _ising_above_threshold(mean_action_map: MeanActionMap, device) -> Finding:
    """K/τ = 2: B expands at the uniform mean action and iterates settle on a 2-cycle."""
    J, tau = ABOVE["coupling"], ABOVE["tau"]
    beta_j = abs(J) / tau
    game = ops.ising_population_game(J, 0.0, device=device)
    eps = COUNTER_STEP
    ratio = l1_norm(mean_action_map(game, _ising_point(eps, device), tau)
                    - mean_action_map(game, _ising_point(0.0, device), tau)) / eps
    expected_ratio = math.tanh(beta_j * eps) / eps
    m2 = optimize.brentq(lambda m: m - math.tanh(beta_j * m), 0.5, 1.0, xtol=1e-15)
    a = _ising_point(0.1, device)
    for _ in range(PERIOD_STEPS):
        a = mean_action_map(game, a, tau)
    last, after = _ising_mean(a), _ising_mean(mean_action_map(game, a, tau))
    orbit_error = max(abs(abs(last) - m2), abs(last + after))
    tol_ratio = ROUNDING / eps
    ok = abs(ratio - expected_ratio) <= tol_ratio and ratio > 1 and orbit_error <= 1e-12
    return Finding(ok, [ratio, last, after], [expected_ratio, m2], [tol_ratio, 1e-12],
                   f"antiferromagnetic Ising J={J:g}, τ={tau:g} (K/τ = {beta_j:g} > 1): ratio at "
                   f"the uniform mean action {ratio:.9f} vs tanh(2ε)/ε = {expected_ratio:.9f}, "
                   f"> 1: not a contraction; after {PERIOD_STEPS} steps from m = 0.1 the mean "
                   f"spin alternates {last:+.12f}, {after:+.12f}: the period-2 orbit ±{m2:.12f} "
                   f"(root of m = tanh({beta_j:g}m); error {orbit_error:.1e} ≤ 1e-12), no fixed "
                   "point is approached")


B_FAMILY = Draws(max_states=1, max_bins=1, max_actions=3)


def check_boltzmann_mean_action_map(draws: Draws, ctx: Context,
                                    mean_action_map: MeanActionMap = ops.boltzmann_mean_action
                                    ) -> Outcome:
    """Every sub-check of ``boltzmann-mean-action-map`` on ``mean_action_map``."""
    device = ctx.device
    games = strategies.population_games(max_actions=draws.max_actions, device=device)
    return outcome_of([
        lipschitz_search(mean_action_pairs(games), mean_action_probe(mean_action_map),
                         ctx, "‖B ā − B ā'‖₁ ≤ (K/τ) ‖ā − ā'‖₁"),
        mean_action_iteration(mean_action_map, games, ctx),
        _ising_below_threshold(mean_action_map, 1.0, 0.0, 1.25, device),
        _ising_below_threshold(mean_action_map, 1.0, 0.2, 1.25, device),
        _ising_below_threshold(mean_action_map, -1.5, 0.3, 2.0, device),
        _ising_above_threshold(mean_action_map, device),
    ])


@suite.check("boltzmann-mean-action-map", games=family("drawn(A<=3)+ising", B_FAMILY),
             needs_solver=False, false_failure_rate=0)
def boltzmann_mean_action_map(_, draws: Draws, ctx: Context) -> Outcome:
    """B(ā) = softmax(Q(·, ā)/τ) (Yang et al. Prop. 1) within K/τ in ℓ₁, contracting below τ = K, cycling above."""
    return check_boltzmann_mean_action_map(draws, ctx)


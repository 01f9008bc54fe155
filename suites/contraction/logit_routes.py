"""The logit route map Γ_τ of congestion games: the sharp bound (b_(1) + b_(2))/(4τ), the
rate of its iteration, the cycle at small τ, and the plot of its modulus
(docs/operators.md)."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import torch
from scipy import optimize

from mfcheck import operators as ops
from mfcheck import strategies
from mfcheck.analytic import congestion
from mfcheck.check import Context, Outcome

from .probes import (COUNTER_STEP, Draws, Finding, ROUNDING, as_tensor64, family, figure, l1_norm,
                     lipschitz_search, outcome_of, save_check_figure, suite)
from .mean_action import (MeanActionMap, RATE_TOLERANCE, SLOPE_WINDOW, STOP_STEP,
                          mean_action_iteration, mean_action_pairs, mean_action_probe)


def _route_costs(game: ops.PopulationGame) -> tuple[np.ndarray, np.ndarray]:
    """(a, b) of a `ops.congestion_population_game` (bias −a, interaction −diag(b))."""
    return (-game.bias).cpu().numpy(), (-torch.diagonal(game.interaction)).cpu().numpy()


def logit_split(game: ops.PopulationGame, tau: float) -> torch.Tensor:
    """The logit equilibrium of `mfcheck.analytic.congestion` (Wright ω, independent of ops)."""
    a, b = _route_costs(game)
    return torch.as_tensor(congestion.logit_n_route(a, b, tau), dtype=torch.float64,
                           device=game.device)


def _softmax_costs(a, b, m, tau: float) -> list[float]:
    """softmax(−(a + b m)/τ) in plain floats: the closed form the measured map is held to."""
    z = [-(ai + bi * mi) / tau for ai, bi, mi in zip(a, b, m)]
    w = [math.exp(x - max(z)) for x in z]
    return [x / sum(w) for x in w]


#: Three routes whose two steepest (b = 2, 1) cost the same at m = (1/3, 2/3, 0), while the
#: third is e^−80 unlikely: the softmax there puts 1/2 on each of the two, the maximiser of
#: the lemma (docs/operators.md), so the ratio of m ± ε(e1 − e2) attains (b1 + b2)/(4τ).
SHARP_ROUTES = {"a": (0.0, 0.0, 40.0), "b": (2.0, 1.0, 0.5), "m": (1 / 3, 2 / 3, 0.0),
                "tau": 0.5}


def _route_sharp_pair(mean_action_map: MeanActionMap, device) -> Finding:
    """The bound (b_(1) + b_(2))/(4τ) is attained, and above 1 at τ = 0.5: Γ_τ expands."""
    a, b, m, tau = (SHARP_ROUTES[k] for k in ("a", "b", "m", "tau"))
    eps = COUNTER_STEP
    plus, minus = [m[0] + eps, m[1] - eps, m[2]], [m[0] - eps, m[1] + eps, m[2]]
    game = ops.congestion_population_game(a, b, device=device)
    bound = ops.mean_action_modulus(game, tau)
    measured = l1_norm(mean_action_map(game, as_tensor64(plus, device), tau)
                       - mean_action_map(game, as_tensor64(minus, device), tau)) / (4 * eps)
    expected = sum(abs(x - y) for x, y in zip(_softmax_costs(a, b, plus, tau),
                                              _softmax_costs(a, b, minus, tau))) / (4 * eps)
    tol = ROUNDING / eps
    # 1 − tanh(u)/u ≤ u²/3 with u = 3ε/(2τ): the closed form's deficit at this ε.
    deficit = (3 * eps / (2 * tau)) ** 2 / 3
    ok = abs(measured - expected) <= tol and expected >= (1 - deficit) * bound and bound > 1
    return Finding(ok, measured, expected, tol,
                   f"three routes a={a}, b={b}, τ={tau:g} at m = (1/3, 2/3, 0) ± {eps:g}(e1 − e2): "
                   f"ratio {measured:.9f} vs closed form {expected:.9f} (tolerance {tol:.0e}); "
                   f"= {expected / bound:.8f} × the bound (b1 + b2)/(4τ) = {bound:g} (deficit "
                   f"≤ {deficit:.1e} at this ε): the bound is sharp, and Γ_τ expands below the "
                   f"threshold τ = (b1 + b2)/4 = {bound * tau:g}")


#: (a, b, τ) where the logit iteration's rate is measured: the two routes (1, 1, 1.5, 0.5)
#: of docs/references.md#congestion-tau-figures
#: at τ = 0.4 (bound 0.9375, just above the threshold 0.375) and 0.5, Pigou at 0.5, and three
#: routes at τ = 1 (bound 0.875, ρ = 0.624, |λ2|/ρ = 0.31: the second mode has decayed far
#: below rounding by the window).
RATE_ROUTES = (((1.0, 1.5), (1.0, 0.5), 0.4), ((1.0, 1.5), (1.0, 0.5), 0.5),
               ((0.0, 1.0), (1.0, 0.0), 0.5), ((0.5, 0.0, 1.0), (1.5, 2.0, 0.1), 1.0))


def _logit_jacobian_radius(a, b, tau: float) -> tuple[float, float]:
    """ρ and |λ2|/ρ of DΓ_τ(m*) = −(diag π − ππᵀ) diag(b)/τ at π = m*, in numpy."""
    pi = congestion.logit_n_route(a, b, tau)
    jac = -(np.diag(pi) - np.outer(pi, pi)) @ np.diag(b) / tau
    moduli = sorted(np.abs(np.linalg.eigvals(jac)), reverse=True)
    return float(moduli[0]), float(moduli[1] / moduli[0])


def _logit_rate(mean_action_map: MeanActionMap, a, b, tau: float, device) -> Finding:
    """Γ_τ iteration from the uniform split: the limit is the logit split, and the ratios
    ‖d_{n+1}‖₁/‖d_n‖₁ of successive steps (window `SLOPE_WINDOW`) are the spectral radius ρ
    of the Jacobian at m*: its eigenvalues are real (diag(b)^½(diag π − ππᵀ)diag(b)^½ is
    symmetric), so the error aligns with the top eigenvector. In the window the
    second-order remainder is below RATE_TOLERANCE/4 on these games (|Γ''| ≤ 0.1(B/τ)² times
    ‖m_n − m*‖ ≤ ‖d_n‖/(1 − bound), at most 2.4e-6 of ρ, at τ = 0.4), and the other modes
    have decayed by |λ2/ρ|^n (reported)."""
    game = ops.congestion_population_game(a, b, device=device)
    bound = ops.mean_action_modulus(game, tau)
    rho, second = _logit_jacobian_radius(a, b, tau)
    x = torch.full((len(a),), 1.0 / len(a), dtype=torch.float64, device=device)
    steps: list[float] = []
    # The bound, at most 0.9375 here, brings ‖d_n‖₁ ≤ 2 to STOP_STEP within 400 steps.
    while len(steps) < 400 and (not steps or steps[-1] > STOP_STEP):
        nxt = mean_action_map(game, x, tau)
        steps.append(l1_norm(nxt - x))
        x = nxt
    window = [n for n, s in enumerate(steps[:-1])
              if SLOPE_WINDOW[0] <= s <= SLOPE_WINDOW[1] and s > 0]
    ratios = [steps[n + 1] / steps[n] for n in window]
    value_error = l1_norm(x - logit_split(game, tau))
    tol_value = STOP_STEP * bound / (1 - bound) + ROUNDING
    rate_error = max((abs(r - rho) for r in ratios), default=math.inf) / rho
    ok = value_error <= tol_value and rate_error <= RATE_TOLERANCE and rho <= bound
    return Finding(ok, [value_error, ratios[-1] if ratios else None], [0.0, rho],
                   [tol_value, RATE_TOLERANCE],
                   f"routes a={list(a)}, b={list(b)}, τ={tau:g} (bound {bound:.4g}): after "
                   f"{len(steps)} steps ‖m − logit split‖₁ = {value_error:.1e} (≤ {tol_value:.1e}); "
                   f"{len(ratios)} step ratios in the window, relative error vs the Jacobian's "
                   f"spectral radius ρ = {rho:.6f} at most {rate_error:.1e} (≤ {RATE_TOLERANCE:g}; "
                   f"other modes decayed by |λ2/ρ|^{window[0] if window else 0} = "
                   f"{second ** (window[0] if window else 0):.0e}); ρ ≤ bound")


#: docs/references.md#congestion-tau-figures: on (1, 1, 1.5, 0.5) at τ = 0.36 (bound 1.0417) the logit map settles in a
#: 2-cycle 0.674 ↔ 0.492. The iteration from m = 0.9 nears the cycle by f'(0.674)f'(0.492)
#: ≈ 0.95 per two steps: 4000 steps leave e^−100, below rounding.
CYCLE_ROUTES = {"a": (1.0, 1.5), "b": (1.0, 0.5), "tau": 0.36}

CYCLE_STEPS = 4000


def _route_cycle(mean_action_map: MeanActionMap, device) -> Finding:
    """Below the threshold: Γ_τ expands at its fixed point and iterates settle on a 2-cycle."""
    a, b, tau = CYCLE_ROUTES["a"], CYCLE_ROUTES["b"], CYCLE_ROUTES["tau"]
    game = ops.congestion_population_game(a, b, device=device)

    def f(m: float) -> float:  # route 1's share of the logit response to split (m, 1 − m)
        return _softmax_costs(a, b, (m, 1 - m), tau)[0]

    m_star = congestion.logit_two_route(a[0], b[0], a[1], b[1], tau)
    upper = optimize.brentq(lambda m: f(f(m)) - m, m_star + 1e-3, 1.0, xtol=1e-15)
    lower = f(upper)
    eps = COUNTER_STEP
    ratio = l1_norm(mean_action_map(game, as_tensor64([m_star + eps, 1 - m_star - eps], device), tau)
                    - mean_action_map(game, as_tensor64([m_star - eps, 1 - m_star + eps], device),
                                      tau)) / (4 * eps)
    expected = abs(f(m_star + eps) - f(m_star - eps)) / (2 * eps)
    x = as_tensor64([0.9, 0.1], device)
    for _ in range(CYCLE_STEPS):
        x = mean_action_map(game, x, tau)
    last, after = float(x[0]), float(mean_action_map(game, x, tau)[0])
    orbit_error = min(max(abs(last - upper), abs(after - lower)),
                      max(abs(last - lower), abs(after - upper)))
    tol_ratio = ROUNDING / eps
    ok = abs(ratio - expected) <= tol_ratio and expected > 1 and orbit_error <= 1e-12
    return Finding(ok, [ratio, last, after], [expected, upper, lower], [tol_ratio, 1e-12],
                   f"two routes a={a}, b={b}, τ={tau:g} (bound {ops.mean_action_modulus(game, tau):.4g}"
                   f" > 1): ratio at the logit split m* = {m_star:.6f} is {ratio:.9f} vs the "
                   f"closed form {expected:.9f}, > 1: not a contraction; after {CYCLE_STEPS} steps "
                   f"from m = 0.9 the split alternates {last:.12f}, {after:.12f}: the 2-cycle "
                   f"{upper:.12f} ↔ {lower:.12f} (root of f(f(m)) = m; error {orbit_error:.1e} ≤ "
                   "1e-12), no fixed point is approached")


#: The two-route game whose modulus is plotted against τ ((1, 1, 1.5, 0.5),
#: docs/references.md#congestion-tau-figures).
PLOT_ROUTES = {"a": (1.0, 1.5), "b": (1.0, 0.5)}

PLOT_GRID = 1001


def _plot_route_moduli(mean_action_map: MeanActionMap, ctx: Context) -> str:
    """modulus vs τ on two routes: the largest ratio over adjacent splits of a grid (the
    map under test), the bound (b1 + b2)/(4τ), the observed rate at the logit split
    (spectral radius) and the line 1."""
    a, b = PLOT_ROUTES["a"], PLOT_ROUTES["b"]
    game = ops.congestion_population_game(a, b, device=ctx.device)
    m = torch.linspace(0, 1, PLOT_GRID, dtype=torch.float64, device=ctx.device)
    splits = torch.stack([m, 1 - m], -1)
    taus = np.geomspace(0.1, 2.0, 40)
    estimate, rate = [], []
    for tau in taus:
        out = mean_action_map(game, splits, float(tau))
        estimate.append(float(((out[1:] - out[:-1]).abs().sum(-1)
                               / (splits[1:] - splits[:-1]).abs().sum(-1)).max()))
        rate.append(_logit_jacobian_radius(a, b, float(tau))[0])
    bound = (b[0] + b[1]) / (4 * taus)
    fig, ax = figure()
    ax.loglog(taus, bound, "k--", lw=1, label="bound (b1 + b2)/(4τ)")
    ax.loglog(taus, estimate, "o", ms=3, label="largest ratio on a grid of splits")
    ax.loglog(taus, rate, "-", lw=1.2, label="rate at the logit split (spectral radius)")
    ax.axhline(1.0, color="grey", lw=0.8)
    ax.axvline((b[0] + b[1]) / 4, color="grey", ls=":", lw=0.8)
    ax.set_xlabel("temperature τ")
    ax.set_ylabel("ℓ₁ modulus of Γ_τ")
    ax.set_title(f"logit route map, two routes a={a}, b={b}", fontsize=9)
    ax.legend(fontsize=7)
    return save_check_figure(fig, ctx, "logit-route-map")


ROUTE_FAMILY = Draws(max_states=1, max_bins=1, max_actions=4)


def check_logit_route_map(draws: Draws, ctx: Context,
                          mean_action_map: MeanActionMap = ops.boltzmann_mean_action) -> Outcome:
    """Every sub-check of ``logit-route-map`` on ``mean_action_map`` (B of a congestion game)."""
    device = ctx.device
    games = strategies.congestion_population_games(max_resources=draws.max_actions,
                                                   device=device)
    outcome = outcome_of([
        lipschitz_search(mean_action_pairs(games), mean_action_probe(mean_action_map), ctx,
                         "‖Γ_τ m − Γ_τ m'‖₁ ≤ (b_(1) + b_(2))/(4τ) ‖m − m'‖₁"),
        _route_sharp_pair(mean_action_map, device),
        mean_action_iteration(mean_action_map, games, ctx, equilibrium=logit_split),
        *(_logit_rate(mean_action_map, a, b, tau, device) for a, b, tau in RATE_ROUTES),
        _route_cycle(mean_action_map, device),
    ])
    if ctx.report_dir is None:
        return outcome
    return replace(outcome, artifacts=(_plot_route_moduli(mean_action_map, ctx),))


@suite.check("logit-route-map", games=family("routes(M<=4)", ROUTE_FAMILY), needs_solver=False,
             false_failure_rate=0)
def logit_route_map(_, draws: Draws, ctx: Context) -> Outcome:
    """Γ_τ(m) = softmax(−c(m)/τ) on congestion games within (b_(1)+b_(2))/(4τ), sharp; rate = ρ(DΓ) at the logit split; a 2-cycle below τ = (b1+b2)/4."""
    return check_logit_route_map(draws, ctx)


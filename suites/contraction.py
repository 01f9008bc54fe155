"""Suite ``contraction``: mfcheck's mean-field operators against their contraction theory.

Each check confronts one operator of `mfcheck.operators` with what docs/operators.md
proves about it, through three shared probes:

- `lipschitz_search`: Hypothesis draws pairs (x, y); every ratio ‖F x − F y‖/‖x − y‖ must
  stay within the proven Lipschitz bound, up to float64 rounding. Where the plain
  contraction is not promised, the search is steered (``hypothesis.target``) towards large
  ratios, and the largest one is reported: a counter-example when it beats the plain
  modulus, "none found" otherwise. Only a violated bound fails the probe.
- a constructed counter-example, where theory says the operator must expand distances,
  compared with an independent closed form;
- closed-form fixed points and the geometric rate of fixed-point iteration where the
  theory pins it.

The operator under test is a parameter of each check function (``operator=``), so a
broken variant runs through exactly the same code (tests/test_operators.py). The checks
cover H_MF, the Boltzmann mean-action map B, and (issue 5) the logit response Γ_τ of
congestion games, the pure best response on two routes, the stationary best-response map
Ψ_τ of a `FiniteMFG`, and the TMF population recursion T_κ; the two with a curve draw it
into the report dir (modulus vs τ, contraction per epoch vs κ).

Every check here is deterministic: tolerances come from float64 arithmetic (`ROUNDING`)
or from the algorithm (the rate windows), never from a run.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import hypothesis
import hypothesis.strategies as st
import numpy as np
import torch
from scipy import optimize

from mfcheck import operators as ops
from mfcheck import strategies, tmf
from mfcheck.analytic import congestion
from mfcheck.check import Budget, Context, Outcome, Suite
from mfcheck.errors import InvalidGameError
from mfcheck.game import FiniteMFG
from mfcheck.games.resource_selection import resource_selection
from mfcheck.kernels.flow import STATIONARY_TOL
from mfcheck.report import file_stem, new_figure, save_figure

#: Rounding allowance relative to the largest |entry| involved: about 4500 ulps, far above
#: the rounding of the ≤ 50-term sums in these operators, far below any modelling error.
ROUNDING = 1e-12
#: A drawn pair's ratio is reported only when ‖x − y‖ ≥ RESOLVED·scale, so that rounding
#: moves it by at most ROUNDING/RESOLVED = 1e-6 (every pair is still held to its bound).
RESOLVED = 1e-6
#: Drawn pairs per Lipschitz search, and drawn games per rate measurement. Hypothesis
#: draws every entry separately (so that `target` can steer them), at ~0.3 ms each:
#: the tables stay small (S, K ≤ 2, A ≤ 3) and the quick budget runs in seconds.
PAIRS = {Budget.QUICK: 100, Budget.FULL: 3000}
RATE_GAMES = {Budget.QUICK: 15, Budget.FULL: 300}

suite = Suite("contraction", role="learner",
              description="mean-field operators (H_MF, Boltzmann mean-action map, logit route "
                          "map, best response, stationary best-response map, TMF recursion) "
                          "against their proven Lipschitz bounds, counter-examples, fixed "
                          "points and rates",
              reference_solvers=[])


@dataclass(frozen=True)
class Draws:
    """The family Hypothesis draws from: the 'game' column of these checks."""

    max_states: int
    max_bins: int
    max_actions: int


def _family(label: str, draws: Draws):
    return {label: lambda device: draws}


@dataclass(frozen=True)
class Finding:
    """One sub-check of a check."""

    passed: bool
    measured: Any
    expected: Any
    tolerance: Any
    message: str


def _outcome(findings: list[Finding]) -> Outcome:
    failed = [f for f in findings if not f.passed]
    shown = failed[0] if failed else findings[0]
    return Outcome(not failed, shown.measured, shown.expected, shown.tolerance,
                   "; ".join(("FAILED: " if not f.passed else "") + f.message for f in findings))


def _search(strategy: st.SearchStrategy, body: Callable[[Any], None], ctx: Context,
            examples: int) -> bool:
    """Run ``body`` on ``examples`` draws of ``strategy`` (seeded by ``ctx``); False when an
    assertion in ``body`` failed, on the first failing draw (no shrinking: a broken operator
    is reported in seconds, with the draw that exposed it)."""
    @hypothesis.seed(ctx.seed)
    @hypothesis.settings(max_examples=examples, database=None, deadline=None,
                         derandomize=False, report_multiple_bugs=False,
                         phases=(hypothesis.Phase.generate, hypothesis.Phase.target),
                         suppress_health_check=list(hypothesis.HealthCheck))
    @hypothesis.given(strategy)
    def run(example):
        body(example)

    try:
        run()
    except AssertionError:
        return False
    return True


# -- the Lipschitz search over drawn pairs -----------------------------------------------------

@dataclass(frozen=True)
class Probe:
    """One drawn pair x, y of an operator F."""

    before: float    # ‖x − y‖
    after: float     # ‖F x − F y‖
    bound: float     # the proven Lipschitz constant for this pair
    plain: float     # the plain contraction modulus (γ for H_MF, 1 for B)
    promised: bool   # the theory promises ratio ≤ plain here
    scale: float     # the largest |entry| involved, for the rounding allowance
    where: str       # what was drawn, for the message


def lipschitz_search(pairs: st.SearchStrategy, probe: Callable[[Any], Probe], ctx: Context,
                     what: str, examples: dict[Budget, int] = PAIRS) -> Finding:
    """Every drawn pair's ratio within its proven bound (+ rounding); report the largest
    ratio/plain inside and beyond the promised region (``examples`` pairs per budget)."""
    seen = {"n": 0, "sharp": 0.0, "inside": 0.0, "beyond": 0.0, "beyond_at": "", "bad": None}

    def body(pair):
        p = probe(pair)
        if p.after > p.bound * p.before + ROUNDING * p.scale:
            seen["bad"] = (p.after / p.before, p.bound, p.where)
            raise AssertionError
        if p.before < RESOLVED * p.scale:
            return
        ratio = p.after / p.before
        seen["n"] += 1
        if p.bound > 0:
            seen["sharp"] = max(seen["sharp"], ratio / p.bound)
        if p.promised:
            seen["inside"] = max(seen["inside"], ratio / p.plain)
        else:
            hypothesis.target(ratio / p.plain)
            if ratio / p.plain > seen["beyond"]:
                seen["beyond"], seen["beyond_at"] = ratio / p.plain, p.where

    ok = _search(pairs, body, ctx, examples[ctx.budget])
    if not ok:
        ratio, bound, where = seen["bad"]
        return Finding(False, ratio, f"<= {bound:.6g}", ROUNDING,
                       f"{what}: a drawn pair has ratio {ratio:.9g} above the proven bound "
                       f"{bound:.9g} ({where})")
    beyond = (f"largest ratio/plain {seen['beyond']:.6f} at {seen['beyond_at']}: "
              + ("a counter-example to the plain contraction" if seen["beyond"] > 1
                 else "no counter-example found")) if seen["beyond"] else "no pair drawn there"
    return Finding(True, seen["sharp"], "<= 1", ROUNDING,
                   f"{what}: {seen['n']} resolved drawn pairs, largest ratio/proven bound "
                   f"{seen['sharp']:.6f} (<= 1 + rounding); where the plain contraction is "
                   f"promised, largest ratio/plain {seen['inside']:.6f}; beyond it, {beyond}")


# -- H_MF ---------------------------------------------------------------------------------------

QOperator = Callable[[ops.MeanFieldModel, torch.Tensor, float], torch.Tensor]


@st.composite
def _q_operator_pairs(draw, draws: Draws, device):
    model = draw(strategies.mean_field_models(max_states=draws.max_states, max_bins=draws.max_bins,
                                              max_actions=draws.max_actions, device=device))
    q1 = draw(strategies.q_tables(model))
    step = draw(st.sampled_from([1.0, 1e-2, 1e-4]))
    q2 = q1 + step * draw(strategies.q_tables(model, bound=1.0))
    R = max(ops.action_range(q1), ops.action_range(q2))
    u = draw(st.floats(0.05, 8.0))
    return model, (R / u if R > 0 else 1.0), q1, q2


def _q_probe(operator: QOperator):
    def probe(pair) -> Probe:
        model, tau, q1, q2 = pair
        u = max(ops.action_range(q1), ops.action_range(q2)) / tau
        S, K, A = model.shape
        scale = max(1.0, ops.sup_norm(model.reward), ops.sup_norm(q1), ops.sup_norm(q2))
        return Probe(ops.sup_norm(q1 - q2),
                     ops.sup_norm(operator(model, q1, tau) - operator(model, q2, tau)),
                     ops.q_operator_modulus(model, tau, u * tau), model.discount, u <= 1.0,
                     scale, f"S={S}, K={K}, A={A}, γ={model.discount:g}, range/τ={u:.3g}")
    return probe


def _boltzmann_two_actions(x0: float, x1: float, tau: float) -> float:
    """m_τ((x0, x1)) = x0 + (x1 − x0)·σ((x1 − x0)/τ): the closed form, independent of ops."""
    return x0 + (x1 - x0) / (1.0 + math.exp(-(x1 - x0) / tau))


def _single_state(reward, mean_field, discount: float, device) -> ops.MeanFieldModel:
    """One state (so p = 1), K mean actions, the given rewards (K, A)."""
    K, A = len(reward), len(reward[0])
    return ops.MeanFieldModel.from_arrays([reward], torch.ones(1, K, A, 1), [mean_field],
                                          discount, name="single state", device=device)


#: Where the two-action expansion factor 1 + 2σ(−d)(dσ(d) − 1) peaks (≈ 1.1997 at d ≈ 2.3994).
EXPANDING_GAP = 2.3994
COUNTER_STEP = 1e-3


def _q_counter_example(operator: QOperator, device) -> Finding:
    """Two actions, rows Q1 = τ(0, d), Q2 = Q1 + ετ(−1, 1): m_τ moves by ≈ 1.1997·ε·τ."""
    gamma, tau, d, eps = 0.9, 1.0, EXPANDING_GAP, COUNTER_STEP
    model = _single_state([[0.0, 0.0]], [1.0], gamma, device)
    q1 = torch.tensor([[[0.0, d * tau]]], dtype=torch.float64, device=device)
    q2 = q1 + eps * tau * torch.tensor([-1.0, 1.0], dtype=torch.float64, device=device)
    measured = ops.sup_norm(operator(model, q1, tau) - operator(model, q2, tau)) / (eps * tau)
    expected = gamma * abs(_boltzmann_two_actions(-eps * tau, (d + eps) * tau, tau)
                           - _boltzmann_two_actions(0.0, d * tau, tau)) / (eps * tau)
    tol = ROUNDING * (d + 1) / eps
    ok = abs(measured - expected) <= tol and expected > gamma
    return Finding(ok, measured, expected, tol,
                   f"constructed pair Q1 = τ(0, {d}), Q2 = Q1 + {eps:g}τ(−1, 1) (one state, "
                   f"γ={gamma:g}, τ={tau:g}): ratio {measured:.9f} = {measured / gamma:.6f}γ vs "
                   f"the closed form {expected:.9f} (tolerance {tol:.1e}); above γ, as it must "
                   "be: H_MF is not a γ-contraction beyond range/τ = 1 (Asadi & Littman 2017)")


def _closed_form_finding(what: str, solve: Callable[[], ops.FixedPoint], expected: torch.Tensor
                         ) -> Finding:
    try:
        fp = solve()
    except InvalidGameError as exc:
        return Finding(False, None, expected.tolist(), None, f"{what}: {exc}")
    error = ops.sup_norm(fp.value - expected)
    tol = fp.error_bound + ROUNDING * max(1.0, ops.sup_norm(expected))
    return Finding(error <= tol, error, 0.0, tol,
                   f"{what}: |Q − closed form| = {error:.1e} after {fp.iterations} iterations "
                   f"(tolerance {tol:.1e} = proven error bound {fp.error_bound:.1e} + rounding)")


def _q_closed_forms(operator: QOperator, device) -> list[Finding]:
    """Two fixed points known independently of `mfcheck.operators`."""
    gamma, tau, q_bins = 0.9, 1.0, (0.3, 0.7)
    # One state, two mean actions: Q*(ā_k, ·) = r(ā_k, ·) + γ v*, where
    # v* = Σ_k q_k m_τ(r(ā_k, ·))/(1 − γ) since m_τ(x + c) = m_τ(x) + c.
    rewards = ((0.0, 0.8), (0.0, -0.5))
    bandit = _single_state(rewards, q_bins, gamma, device)
    v = sum(qk * _boltzmann_two_actions(*row, tau)
            for qk, row in zip(q_bins, rewards)) / (1 - gamma)
    bandit_star = torch.tensor([[[r + gamma * v for r in row] for row in rewards]],
                               dtype=torch.float64, device=device)
    # Two states s = own last spin (−1, +1), actions = next spin, r = h·a − c·1[a ≠ s],
    # s' = a: the non-interacting Ising stage game; w(s') = m_τ(Q*(s', ·)) solved by scipy.
    h, c, gamma2 = 0.4, 0.3, 0.5
    spins = (-1.0, 1.0)
    r = [[h * a - c * (a != s) for a in spins] for s in spins]
    ising = ops.MeanFieldModel.from_arrays([[row] for row in r],
                                           [[[[1.0, 0.0], [0.0, 1.0]]] for _ in spins],
                                           [[1.0], [1.0]], gamma2, name="ising, no coupling",
                                           device=device)

    def residual(w):
        return [w[s] - _boltzmann_two_actions(r[s][0] + gamma2 * w[0], r[s][1] + gamma2 * w[1],
                                              tau) for s in range(2)]

    w = optimize.root(residual, [0.0, 0.0], tol=1e-15).x
    ising_star = torch.tensor([[[r[i][j] + gamma2 * w[j] for j in range(2)]] for i in range(2)],
                              dtype=torch.float64, device=device)
    return [
        _closed_form_finding("one state, two mean actions q = (0.3, 0.7), γ=0.9",
                             lambda: ops.mean_field_q_fixed_point(bandit, tau, operator=operator),
                             bandit_star),
        _closed_form_finding(f"two-state Ising stage game without coupling (h={h:g}, c={c:g}, "
                             f"γ={gamma2:g}, τ={tau:g}) vs scipy.optimize.root",
                             lambda: ops.mean_field_q_fixed_point(ising, tau, operator=operator),
                             ising_star),
    ]


#: The rate window: from the start until the step has fallen by this factor.
RATE_DECADES = 6


@st.composite
def _rate_models(draw, draws: Draws, device):
    model = draw(strategies.mean_field_models(max_states=draws.max_states, max_bins=draws.max_bins,
                                              max_actions=draws.max_actions, discounts=(0.5, 0.9),
                                              device=device))
    R = model.action_range_bound()
    return model, (R / draw(st.floats(0.1, 1.0)) if R > 0 else 1.0)


def _q_rate(operator: QOperator, draws: Draws, ctx: Context) -> Finding:
    """Where rows have range ≤ τ, iterates from Q = −c contract by exactly γ per step.

    From Q' = 0 the steps Δ'_n obey ‖Δ'_n‖ ≤ γ^n ‖r‖ (proven modulus γ). Starting instead
    at −c·1 adds exactly (1 − γ)γ^n c·1 to every step (H(Q + c) = H Q + γc), so with
    (1 − γ)c = 3(‖r‖ + 1) the ratio ‖Δ_n‖/γ^n stays within a factor 2: over N steps the
    observed rate (‖Δ_N‖/‖Δ_0‖)^(1/N) is γ·2^(±1/N), plus rounding.
    """
    seen = {"n": 0, "low": math.inf, "high": 0.0, "bad": ""}

    def body(example):
        model, tau = example
        gamma = model.discount
        c = 3 * (ops.sup_norm(model.reward) + 1) / (1 - gamma)
        q, steps = torch.full_like(model.reward, -c), []
        while not steps or steps[-1] > 10.0 ** -RATE_DECADES * steps[0]:
            nxt = operator(model, q, tau)
            steps.append(ops.sup_norm(nxt - q))
            q = nxt
            if len(steps) > 10 * RATE_DECADES / -math.log10(gamma):
                break
        N = len(steps) - 1
        S, K, A = model.shape
        where = f"S={S}, K={K}, A={A}, γ={gamma:g}, τ={tau:.3g}"
        if N == 0 or steps[-1] == 0.0:
            seen["bad"] = (f"the first step {steps[0]:.3g} is not followed by a geometric "
                           f"decay ({where})")
            raise AssertionError
        per_step = max(b - gamma * a for a, b in zip(steps, steps[1:])) / (ROUNDING * c)
        rate = (steps[-1] / steps[0]) ** (1 / N) / gamma
        allowed = (math.log(2) + 2 * ROUNDING * c / steps[-1]) / N
        seen["n"] += 1
        seen["low"], seen["high"] = min(seen["low"], rate), max(seen["high"], rate)
        if per_step > 1:
            seen["bad"] = f"a step grew by more than γ ({where})"
            raise AssertionError
        if abs(math.log(rate)) > allowed:
            seen["bad"] = (f"observed rate {rate:.6f}γ over {N} steps, allowed "
                           f"γ·e^(±{allowed:.2g}) ({where})")
            raise AssertionError

    ok = _search(_rate_models(draws, ctx.device), body, ctx, RATE_GAMES[ctx.budget])
    if not ok:
        return Finding(False, None, "rate γ", None, f"fixed-point iteration: {seen['bad']}")
    return Finding(True, [seen["low"], seen["high"]], 1.0, "2^(±1/N)",
                   f"fixed-point iteration on {seen['n']} drawn models with rows of range ≤ τ "
                   f"(promised γ-contraction): no step larger than γ times the previous "
                   f"(+ rounding); observed rate over {RATE_DECADES} decades / γ in "
                   f"[{seen['low']:.6f}, {seen['high']:.6f}] (allowed 2^(±1/N))")


Q_FAMILY = Draws(max_states=2, max_bins=2, max_actions=3)


def check_mean_field_q_operator(draws: Draws, ctx: Context,
                                operator: QOperator = ops.mean_field_q_operator) -> Outcome:
    """Every sub-check of ``mean-field-q-operator`` on ``operator`` (a broken one in the tests)."""
    return _outcome([
        lipschitz_search(_q_operator_pairs(draws, ctx.device), _q_probe(operator), ctx,
                         "‖H Q1 − H Q2‖∞ ≤ γ L(range/τ) ‖Q1 − Q2‖∞"),
        _q_counter_example(operator, ctx.device),
        *_q_closed_forms(operator, ctx.device),
        _q_rate(operator, draws, ctx),
    ])


@suite.check("mean-field-q-operator", games=_family("drawn(S<=2,K<=2,A<=3)", Q_FAMILY),
             needs_solver=False)
def mean_field_q_operator(_, draws: Draws, ctx: Context) -> Outcome:
    """H_MF (Yang et al. eq. 13) within γL(range/τ), expanding where theory says, with closed-form fixed points."""
    return check_mean_field_q_operator(draws, ctx)


# -- the Boltzmann mean-action map B ------------------------------------------------------------

MeanActionMap = Callable[[ops.PopulationGame, torch.Tensor, float], torch.Tensor]


def l1_norm(x: torch.Tensor) -> float:
    return float(x.abs().sum())


@st.composite
def _mean_action_pairs(draw, games: st.SearchStrategy):
    game = draw(games)
    a = draw(strategies.distributions((game.n_actions,), device=game.device))
    b = draw(strategies.distributions((game.n_actions,), device=game.device))
    t = draw(st.sampled_from([1.0, 1e-3]))
    K = game.interaction_strength()
    return game, (K / draw(st.floats(0.05, 3.0)) if K > 0 else 1.0), a, (1 - t) * a + t * b


def _mean_action_probe(mean_action_map: MeanActionMap):
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


def _mean_action_iteration(mean_action_map: MeanActionMap, games: st.SearchStrategy,
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

    if not _search(_contracting_games(games), body, ctx, RATE_GAMES[ctx.budget]):
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
    return _outcome([
        lipschitz_search(_mean_action_pairs(games), _mean_action_probe(mean_action_map),
                         ctx, "‖B ā − B ā'‖₁ ≤ (K/τ) ‖ā − ā'‖₁"),
        _mean_action_iteration(mean_action_map, games, ctx),
        _ising_below_threshold(mean_action_map, 1.0, 0.0, 1.25, device),
        _ising_below_threshold(mean_action_map, 1.0, 0.2, 1.25, device),
        _ising_below_threshold(mean_action_map, -1.5, 0.3, 2.0, device),
        _ising_above_threshold(mean_action_map, device),
    ])


@suite.check("boltzmann-mean-action-map", games=_family("drawn(A<=3)+ising", B_FAMILY),
             needs_solver=False)
def boltzmann_mean_action_map(_, draws: Draws, ctx: Context) -> Outcome:
    """B(ā) = softmax(Q(·, ā)/τ) (Yang et al. Prop. 1) within K/τ in ℓ₁, contracting below τ = K, cycling above."""
    return check_boltzmann_mean_action_map(draws, ctx)


# -- the logit route map Γ_τ of congestion games ------------------------------------------------

def _route_costs(game: ops.PopulationGame) -> tuple[np.ndarray, np.ndarray]:
    """(a, b) of a `ops.congestion_population_game` (bias −a, interaction −diag(b))."""
    return (-game.bias).cpu().numpy(), (-torch.diagonal(game.interaction)).cpu().numpy()


def _logit_split(game: ops.PopulationGame, tau: float) -> torch.Tensor:
    """The logit equilibrium of `mfcheck.analytic.congestion` (Wright ω, independent of ops)."""
    a, b = _route_costs(game)
    return torch.as_tensor(congestion.logit_n_route(a, b, tau), dtype=torch.float64,
                           device=game.device)


def _softmax_costs(a, b, m, tau: float) -> list[float]:
    """softmax(−(a + b m)/τ) in plain floats: the closed form the measured map is held to."""
    z = [-(ai + bi * mi) / tau for ai, bi, mi in zip(a, b, m)]
    w = [math.exp(x - max(z)) for x in z]
    return [x / sum(w) for x in w]


def _tensor(values, device) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64, device=device)


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
    measured = l1_norm(mean_action_map(game, _tensor(plus, device), tau)
                       - mean_action_map(game, _tensor(minus, device), tau)) / (4 * eps)
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
    value_error = l1_norm(x - _logit_split(game, tau))
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
    ratio = l1_norm(mean_action_map(game, _tensor([m_star + eps, 1 - m_star - eps], device), tau)
                    - mean_action_map(game, _tensor([m_star - eps, 1 - m_star + eps], device),
                                      tau)) / (4 * eps)
    expected = abs(f(m_star + eps) - f(m_star - eps)) / (2 * eps)
    x = _tensor([0.9, 0.1], device)
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
    fig, ax = _figure()
    ax.loglog(taus, bound, "k--", lw=1, label="bound (b1 + b2)/(4τ)")
    ax.loglog(taus, estimate, "o", ms=3, label="largest ratio on a grid of splits")
    ax.loglog(taus, rate, "-", lw=1.2, label="rate at the logit split (spectral radius)")
    ax.axhline(1.0, color="grey", lw=0.8)
    ax.axvline((b[0] + b[1]) / 4, color="grey", ls=":", lw=0.8)
    ax.set_xlabel("temperature τ")
    ax.set_ylabel("ℓ₁ modulus of Γ_τ")
    ax.set_title(f"logit route map, two routes a={a}, b={b}", fontsize=9)
    ax.legend(fontsize=7)
    return _save_figure(fig, ctx, "logit-route-map")


def _figure():
    return new_figure(figsize=(5.2, 3.8))


def _save_figure(fig, ctx: Context, check: str) -> str:
    """``contraction-<check>.png`` in the report dir."""
    return save_figure(fig, ctx.report_dir / f"contraction-{file_stem(check)}.png")


ROUTE_FAMILY = Draws(max_states=1, max_bins=1, max_actions=4)


def check_logit_route_map(draws: Draws, ctx: Context,
                          mean_action_map: MeanActionMap = ops.boltzmann_mean_action) -> Outcome:
    """Every sub-check of ``logit-route-map`` on ``mean_action_map`` (B of a congestion game)."""
    device = ctx.device
    games = strategies.congestion_population_games(max_resources=draws.max_actions,
                                                   device=device)
    outcome = _outcome([
        lipschitz_search(_mean_action_pairs(games), _mean_action_probe(mean_action_map), ctx,
                         "‖Γ_τ m − Γ_τ m'‖₁ ≤ (b_(1) + b_(2))/(4τ) ‖m − m'‖₁"),
        _route_sharp_pair(mean_action_map, device),
        _mean_action_iteration(mean_action_map, games, ctx, equilibrium=_logit_split),
        *(_logit_rate(mean_action_map, a, b, tau, device) for a, b, tau in RATE_ROUTES),
        _route_cycle(mean_action_map, device),
    ])
    if ctx.report_dir is None:
        return outcome
    return replace(outcome, artifacts=(_plot_route_moduli(mean_action_map, ctx),))


@suite.check("logit-route-map", games=_family("routes(M<=4)", ROUTE_FAMILY), needs_solver=False)
def logit_route_map(_, draws: Draws, ctx: Context) -> Outcome:
    """Γ_τ(m) = softmax(−c(m)/τ) on congestion games within (b_(1)+b_(2))/(4τ), sharp; rate = ρ(DΓ) at the logit split; a 2-cycle below τ = (b1+b2)/4."""
    return check_logit_route_map(draws, ctx)


# -- the pure best response on two routes ---------------------------------------------------------

BestResponseMap = Callable[[ops.PopulationGame, torch.Tensor], torch.Tensor]
#: (a1, b1, a2, b2): the interior game (m* = 2/3, where best response cycles:
#: docs/references.md#congestion-best-response-cycle) and two
#: corner games (Pigou, m* = 1; (3, 1, 1, 1), m* = 0), where it stops at m* at once.
BEST_RESPONSE_ROUTES = ((1.0, 1.0, 1.5, 0.5), (0.0, 1.0, 1.0, 0.0), (3.0, 1.0, 1.0, 1.0))
BEST_RESPONSE_STEPS = 20


def _best_response_orbit(best_response: BestResponseMap, costs, device) -> Finding:
    """Undamped best response m ↦ [c1(m) < c2(m)] from m = 1/2 (ties to route 1).

    Interior equilibrium (a1 + b1 > a2 and a2 + b2 > a1): everyone on route 1 makes it the
    dearer one and vice versa, so the orbit is 1, 0, 1, 0, …: a known non-contraction (the
    ratio across m* is 1/(2ε) for m* ± ε), which passes when the cycle is exactly that.
    Corner equilibrium: one route is cheaper at every split, so the orbit sits on m* from
    the first step."""
    a1, b1, a2, b2 = costs
    game = ops.congestion_population_game((a1, a2), (b1, b2), device=device)
    m_star = congestion.wardrop_two_route(a1, b1, a2, b2)
    orbit, x = [0.5], _tensor([0.5, 0.5], device)
    for _ in range(BEST_RESPONSE_STEPS):
        x = best_response(game, x)
        orbit.append(float(x[0]))
    tail = orbit[-4:]
    shown = ", ".join(f"{m:g}" for m in orbit[:7])
    where = f"two routes ({a1:g}, {b1:g}, {a2:g}, {b2:g}), Wardrop m* = {m_star:.6g}"
    if not 0.0 < m_star < 1.0:
        ok = all(m == m_star for m in orbit[1:])
        return Finding(ok, orbit[-1], m_star, 0.0,
                       f"{where} (a corner): best response from 1/2 goes {shown}, … "
                       + ("and stays on m*" if ok else "and does not stay on m* as it must"))
    eps = COUNTER_STEP
    jump = l1_norm(best_response(game, _tensor([m_star + eps, 1 - m_star - eps], device))
                   - best_response(game, _tensor([m_star - eps, 1 - m_star + eps], device))
                   ) / (4 * eps)
    cycle = tail in ([1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 1.0])
    ok = cycle and abs(jump - 1 / (2 * eps)) <= ROUNDING / eps
    verdict = ("the period-2 cycle 1 ↔ 0 around m*: a known non-contraction "
               "(docs/references.md#congestion-best-response-cycle)"
               if ok else "not the period-2 cycle 1 ↔ 0 that theory predicts")
    return Finding(ok, tail, [1.0, 0.0, 1.0, 0.0], 0.0,
                   f"{where} (interior): best response from 1/2 goes {shown}, … , last four "
                   f"{tail}: {verdict}; ratio across m* ± {eps:g} = {jump:.6g} (1/(2ε) = "
                   f"{1 / (2 * eps):g}: no Lipschitz constant)")


def check_best_response_route(draws: Draws, ctx: Context,
                              best_response: BestResponseMap = ops.best_response_mean_action
                              ) -> Outcome:
    """Every sub-check of ``best-response-route`` on ``best_response``."""
    return _outcome([_best_response_orbit(best_response, costs, ctx.device)
                     for costs in BEST_RESPONSE_ROUTES])


@suite.check("best-response-route", games=_family("two_route", ROUTE_FAMILY), needs_solver=False)
def best_response_route(_, draws: Draws, ctx: Context) -> Outcome:
    """Pure best response on two routes: the period-2 cycle 1 ↔ 0 (a known non-contraction) where m* is interior, m* at once at a corner."""
    return check_best_response_route(draws, ctx)


# -- the stationary best-response map Ψ_τ of a FiniteMFG --------------------------------------------

BestResponseFlowMap = Callable[[FiniteMFG, torch.Tensor, float], torch.Tensor]
#: Drawn pairs for Ψ_τ: each evaluation runs value iteration and a stationary distribution.
FLOW_PAIRS = {Budget.QUICK: 20, Budget.FULL: 1000}
#: The discount of the drawn resource-selection and garnet games (value iteration ~40 sweeps).
FLOW_DISCOUNT = 0.5


def _mixed_pair(draw, shape, device) -> tuple[torch.Tensor, torch.Tensor]:
    """Two distributions of ``shape``, the second either independent or 1e-3 of the way."""
    x = draw(strategies.distributions(shape, device=device))
    y = draw(strategies.distributions(shape, device=device))
    t = draw(st.sampled_from([1.0, 1e-3]))
    return x, (1 - t) * x + t * y


@st.composite
def _resource_flow_pairs(draw, max_resources: int, device):
    a, b = draw(strategies.monotone_costs(max_resources=max_resources))
    game = resource_selection(a, b, discount=FLOW_DISCOUNT, device=device)
    route = ops.congestion_population_game(a, b, device=device)
    tau = route.interaction_strength() / draw(st.floats(0.05, 3.0))
    n = len(a)
    return (game, tau, route, *(x.reshape(n, n) for x in _mixed_pair(draw, (n * n,), device)))


def _flow_probe(flow_map: BestResponseFlowMap):
    """On resource selection (κ = 0) Ψ_τ(L) = π ⊗ π with π = Γ_τ(load of L): so
    ‖Ψ L − Ψ L'‖₁ ≤ 2‖π − π'‖₁ ≤ (2K/τ)‖L − L'‖₁ (docs/operators.md)."""
    def probe(pair) -> Probe:
        game, tau, route, L1, L2 = pair
        out = flow_map(game, torch.stack([L1, L2]), tau)
        bound = 2 * ops.mean_action_modulus(route, tau)
        return Probe(l1_norm(L1 - L2), l1_norm(out[0] - out[1]), bound, 1.0, bound < 1.0, 1.0,
                     f"resource selection M={game.n_states}, 2K/τ={bound:.3g}")
    return probe


def _flow_reduces_to_logit(flow_map: BestResponseFlowMap, ctx: Context) -> Finding:
    """The load of Ψ_τ(L) is Γ_τ(load of L) on resource selection: a batch of random L."""
    a, b = RATE_ROUTES[-1][:2]
    game = resource_selection(a, b, discount=FLOW_DISCOUNT, device=ctx.device)
    route = ops.congestion_population_game(a, b, device=ctx.device)
    n = len(a)
    g = ctx.generator(salt=5, device=ctx.device)
    L = torch.rand(64, n * n, generator=g, dtype=torch.float64, device=ctx.device) ** 4
    L = (L / L.sum(-1, keepdim=True)).reshape(64, n, n)
    tol = STATIONARY_TOL + ROUNDING
    worst = 0.0
    for tau in (0.3, 1.0, 3.0):
        loads = flow_map(game, L, tau).sum(-2)
        worst = max(worst, float((loads - ops.boltzmann_mean_action(route, L.sum(-2), tau))
                                 .abs().sum(-1).max()))
    return Finding(worst <= tol, worst, 0.0, tol,
                   f"resource selection a={list(a)}, b={list(b)}, κ = 0, 64 random mean fields, "
                   f"τ ∈ {{0.3, 1, 3}}: the load of Ψ_τ(L) is the logit response Γ_τ to L's load "
                   f"(max ℓ₁ difference {worst:.1e} ≤ {tol:.1e}, the stationary solver's "
                   "tolerance + rounding)")


@st.composite
def _garnet_flow_pairs(draw, draws: Draws, device):
    game = draw(strategies.random_games(max_states=draws.max_states, max_actions=draws.max_actions,
                                        stationary=True, discounts=(FLOW_DISCOUNT,),
                                        device=device))
    S, A = game.n_states, game.n_actions
    L1, L2 = (x.reshape(S, A) for x in _mixed_pair(draw, (S * A,), device))
    return game, draw(st.floats(0.2, 5.0)), L1, L2


def _garnet_flow_moduli(flow_map: BestResponseFlowMap, draws: Draws, ctx: Context) -> Finding:
    """No bound is proven for general games: the largest ratio found is reported."""
    seen = {"n": 0, "largest": 0.0, "at": "no pair resolved"}

    def body(pair):
        game, tau, L1, L2 = pair
        before = l1_norm(L1 - L2)
        if before < RESOLVED:
            return
        out = flow_map(game, torch.stack([L1, L2]), tau)
        ratio = l1_norm(out[0] - out[1]) / before
        hypothesis.target(ratio)
        seen["n"] += 1
        if seen["n"] == 1 or ratio > seen["largest"]:
            seen["largest"], seen["at"] = ratio, f"S={game.n_states}, A={game.n_actions}, τ={tau:.3g}"

    _search(_garnet_flow_pairs(draws, ctx.device), body, ctx, FLOW_PAIRS[ctx.budget])
    return Finding(True, seen["largest"], None, None,
                   f"Ψ_τ on {seen['n']} resolved pairs of drawn garnet games (S ≤ "
                   f"{draws.max_states}, A ≤ {draws.max_actions}, γ = {FLOW_DISCOUNT:g}, L-dependent "
                   f"rewards, τ ∈ [0.2, 5]): largest ℓ₁ ratio {seen['largest']:.4f} at "
                   f"{seen['at']} (reported; no bound is proven there)")


FLOW_FAMILY = Draws(max_states=3, max_bins=1, max_actions=3)


def check_stationary_best_response_map(draws: Draws, ctx: Context,
                                       flow_map: BestResponseFlowMap
                                       = ops.stationary_best_response_map) -> Outcome:
    """Every sub-check of ``stationary-best-response-map`` on ``flow_map``."""
    return _outcome([
        lipschitz_search(_resource_flow_pairs(draws.max_actions, ctx.device), _flow_probe(flow_map),
                         ctx, "‖Ψ_τ L − Ψ_τ L'‖₁ ≤ (2K/τ) ‖L − L'‖₁", FLOW_PAIRS),
        _flow_reduces_to_logit(flow_map, ctx),
        _garnet_flow_moduli(flow_map, draws, ctx),
    ])


@suite.check("stationary-best-response-map", games=_family("resource_selection+garnet(S<=3,A<=3)",
                                                            FLOW_FAMILY), needs_solver=False)
def stationary_best_response_map(_, draws: Draws, ctx: Context) -> Outcome:
    """Ψ_τ(L) = stationary flow of the softmax best response to L: within 2K/τ and equal to Γ_τ on resource selection; its modulus on drawn garnets reported."""
    return check_stationary_best_response_map(draws, ctx)


# -- the TMF population recursion T_κ -------------------------------------------------------------

#: ``step(game, policy, populations (batch, S), fraction=κ) -> (batch, S)``: T_κ under test.
PopulationStep = Callable[..., torch.Tensor]
#: Acting fractions κ drawn for the recursion (1/κ steps make an epoch).
FRACTIONS = (1.0, 0.5, 0.1, 0.05)


def _epoch(step: PopulationStep, game: FiniteMFG, policy, mu: torch.Tensor,
           fraction: float) -> torch.Tensor:
    """One epoch of T_κ: N agent decisions, 1/κ steps."""
    for _ in range(round(1 / fraction)):
        mu = step(game, policy, mu, fraction=fraction)
    return mu


@st.composite
def _table_pairs(draw, draws: Draws, device):
    """A garnet game with L-independent transitions, a stationary table and two populations;
    half the time the pair e_x, e_y that attains the Dobrushin coefficient."""
    game = draw(strategies.random_games(max_states=draws.max_states, max_actions=draws.max_actions,
                                        stationary=True, discounts=(FLOW_DISCOUNT,),
                                        device=device))
    table = draw(strategies.policies(game))
    fraction = draw(st.sampled_from(FRACTIONS))
    S = game.n_states
    if draw(st.booleans()):
        kernel = ops.policy_kernel(game, table)
        gaps = (kernel[:, None, :] - kernel[None, :, :]).abs().sum(-1)
        x, y = divmod(int(gaps.argmax()), S)
        eye = torch.eye(S, dtype=torch.float64, device=device)
        return game, table, fraction, eye[x], eye[y]
    return (game, table, fraction, *_mixed_pair(draw, (S,), device))


def _table_probe(step: PopulationStep):
    """‖T_κ^(1/κ) μ − T_κ^(1/κ) μ'‖₁ ≤ (1 − κ(1 − δ))^(1/κ) ‖μ − μ'‖₁, δ = δ(P_π)."""
    def probe(pair) -> Probe:
        game, table, fraction, mu1, mu2 = pair
        delta = ops.dobrushin_coefficient(ops.policy_kernel(game, table))
        out = _epoch(step, game, table, torch.stack([mu1, mu2]), fraction)
        return Probe(l1_norm(mu1 - mu2), l1_norm(out[0] - out[1]),
                     ops.epoch_modulus(delta, fraction), 1.0, True, 1.0,
                     f"S={game.n_states}, A={game.n_actions}, δ={delta:.3g}, κ={fraction:g}")
    return probe


#: Two resources played by the table [[1 − p, p], [q, 1 − q]]: P_π is the table itself, and
#: T_κ multiplies μ − μ* (1-D) by exactly 1 − κ(1 − λ), λ = 1 − p − q = δ(P_π) = 1/2 here.
TWO_STATE = {"p": 0.2, "q": 0.3}
PLOT_FRACTIONS = (1.0, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01)
TWO_STATE_EPOCHS = 3


def _two_state_rates(step: PopulationStep, device) -> tuple[Finding, list[float], float]:
    """The observed per-epoch contraction of ‖μ_n − μ*‖₁ equals (1 − κ(1 − δ))^(1/κ)."""
    p, q = TWO_STATE["p"], TWO_STATE["q"]
    game = resource_selection((0.0, 0.0), (1.0, 1.0), discount=FLOW_DISCOUNT, device=device)
    table = _tensor([[1 - p, p], [q, 1 - q]], device)
    delta = ops.dobrushin_coefficient(ops.policy_kernel(game, table))
    target = _tensor([q / (p + q), p / (p + q)], device)
    observed, worst = [], 0.0
    for fraction in PLOT_FRACTIONS:
        mu = _tensor([[1.0, 0.0]], device)
        start = l1_norm(mu[0] - target)
        for _ in range(TWO_STATE_EPOCHS):
            mu = _epoch(step, game, table, mu, fraction)
        end = l1_norm(mu[0] - target)
        rate = (end / start) ** (1 / TWO_STATE_EPOCHS)
        observed.append(rate)
        # Each step rounds μ by a few ulps; relative to the distance left at the end.
        tol = ROUNDING * TWO_STATE_EPOCHS * round(1 / fraction) / end
        worst = max(worst, abs(rate - ops.epoch_modulus(delta, fraction)) / tol)
    shown = ", ".join(f"κ={k:g}: {r:.6f}" for k, r in zip(PLOT_FRACTIONS, observed))
    return (Finding(worst <= 1.0, observed, [ops.epoch_modulus(delta, k) for k in PLOT_FRACTIONS],
                    "rounding",
                    f"two resources, table [[{1 - p:g}, {p:g}], [{q:g}, {1 - q:g}]] (δ = {delta:g}): "
                    f"observed per-epoch contraction of ‖μ − μ*‖₁ over {TWO_STATE_EPOCHS} epochs "
                    f"{shown}; equal to (1 − κ(1 − δ))^(1/κ) within {worst:.2f} × the rounding "
                    f"allowance (→ e^−(1−δ) = {math.exp(-(1 - delta)):.6f} as κ → 0)"),
            observed, delta)


def _softmax_load_policy(route: ops.PopulationGame, tau: float):
    """The TMF policy π(a | o, μ) = Γ_τ(μ)_a: every agent answers the current load by logit."""
    def policy(obs: torch.Tensor, population: torch.Tensor) -> torch.Tensor:
        return ops.boltzmann_mean_action(route, population, tau)[:, None, :].expand(
            *obs.shape, route.n_actions)
    return policy


#: The μ-dependent TMF policy: three resources (`RATE_ROUTES`' last), K/τ = 0.875 and 1.75.
SOFTMAX_TEMPERATURES = (1.0, 0.5)
SOFTMAX_FRACTION = 0.5


def _softmax_recursion(step: PopulationStep, ctx: Context) -> list[Finding]:
    """Resource selection with the logit-to-load TMF policy: s' = a, so Φ(μ) = Γ_τ(μ), of
    modulus K/τ (the policy's; the moves' δ is 0); T_κ is then (1 − κ(1 − K/τ))-Lipschitz and,
    below the threshold, converges to the logit split."""
    a, b = RATE_ROUTES[-1][:2]
    device = ctx.device
    game = resource_selection(a, b, discount=FLOW_DISCOUNT, device=device)
    route = ops.congestion_population_game(a, b, device=device)
    g = ctx.generator(salt=6, device=device)
    mus = torch.rand(128, len(a), generator=g, dtype=torch.float64, device=device) ** 3
    mus = mus / mus.sum(-1, keepdim=True)
    findings = []
    for tau in SOFTMAX_TEMPERATURES:
        policy = _softmax_load_policy(route, tau)
        ell = ops.mean_action_modulus(route, tau)
        identity = float((step(game, policy, mus, fraction=1.0)
                          - ops.boltzmann_mean_action(route, mus, tau)).abs().sum(-1).max())
        out = _epoch(step, game, policy, mus, SOFTMAX_FRACTION)
        ratios = (out[:64] - out[64:]).abs().sum(-1) / (mus[:64] - mus[64:]).abs().sum(-1)
        bound = ops.epoch_modulus(ell, SOFTMAX_FRACTION)
        largest = float(ratios.max())
        ok = identity <= ROUNDING and largest <= bound + ROUNDING / RESOLVED
        text = (f"logit-to-load TMF policy on resource selection a={list(a)}, b={list(b)}, "
                f"τ={tau:g} (K/τ = {ell:.4g}): Φ(μ) = Γ_τ(μ) on 128 random μ (max ℓ₁ difference "
                f"{identity:.1e} ≤ {ROUNDING:g}); 64 pairs, one epoch at κ = {SOFTMAX_FRACTION:g}: "
                f"largest ratio {largest:.4f} ≤ (1 − κ(1 − K/τ))^(1/κ) = {bound:.4f}")
        if ell < 1:
            modulus = ops.lazy_step_modulus(ell, SOFTMAX_FRACTION)
            try:
                fp = ops.fixed_point(lambda mu: step(game, policy, mu[None],
                                                     fraction=SOFTMAX_FRACTION)[0],
                                     torch.full((len(a),), 1 / len(a), dtype=torch.float64,
                                                device=device),
                                     modulus=modulus, norm=l1_norm, max_iterations=10_000)
                error = l1_norm(fp.value - _logit_split(route, tau))
                tol = fp.error_bound + ROUNDING
                ok = ok and error <= tol
                text += (f"; T_κ from uniform reaches the logit split in {fp.iterations} steps "
                         f"(‖μ − m*‖₁ = {error:.1e} ≤ {tol:.1e}, Banach with modulus "
                         f"{modulus:.4g})")
            except InvalidGameError as exc:
                ok, text = False, f"{text}; T_κ from uniform: {exc}"
        else:
            text += ("; above the threshold: the largest ratio is "
                     + ("> 1, T_κ expands" if largest > 1 else "≤ 1, no expansion found"))
        findings.append(Finding(ok, [identity, largest], [0.0, bound], ROUNDING, text))
    return findings


def _plot_epoch_rates(observed: list[float], delta: float, ctx: Context) -> str:
    kappas = np.array(PLOT_FRACTIONS)
    grid = np.geomspace(kappas.min(), 1.0, 200)
    fig, ax = _figure()
    ax.semilogx(grid, (1 - grid * (1 - delta)) ** (1 / grid), "k--", lw=1,
                label="bound (1 − κ(1 − δ))^(1/κ)")
    ax.semilogx(kappas, observed, "o", ms=4, label="observed, two resources")
    ax.axhline(math.exp(-(1 - delta)), color="grey", ls=":", lw=0.8, label="e^−(1 − δ)")
    ax.set_xlabel("acting fraction κ = k/N")
    ax.set_ylabel("contraction per epoch (N decisions)")
    ax.set_title(f"TMF recursion T_κ, δ(P_π) = {delta:g}", fontsize=9)
    ax.legend(fontsize=7)
    return _save_figure(fig, ctx, "tmf-population-recursion")


TMF_FAMILY = Draws(max_states=3, max_bins=1, max_actions=3)


def check_tmf_population_recursion(draws: Draws, ctx: Context,
                                   step: PopulationStep = tmf.population_step) -> Outcome:
    """Every sub-check of ``tmf-population-recursion`` on ``step`` (T_κ)."""
    rates, observed, delta = _two_state_rates(step, ctx.device)
    outcome = _outcome([
        lipschitz_search(_table_pairs(draws, ctx.device), _table_probe(step), ctx,
                         "one epoch of T_κ: ‖·‖₁ ≤ (1 − κ(1 − δ(P_π)))^(1/κ) ‖μ − μ'‖₁",
                         FLOW_PAIRS),
        rates,
        *_softmax_recursion(step, ctx),
    ])
    if ctx.report_dir is None:
        return outcome
    return replace(outcome, artifacts=(_plot_epoch_rates(observed, delta, ctx),))


@suite.check("tmf-population-recursion", games=_family("garnet(S<=3,A<=3)+resource_selection",
                                                        TMF_FAMILY), needs_solver=False)
def tmf_population_recursion(_, draws: Draws, ctx: Context) -> Outcome:
    """T_κ(μ) = (1 − κ)μ + κΦ(μ): per epoch within (1 − κ(1 − δ))^(1/κ) (sharp on two states); logit-to-load policies: Φ = Γ_τ, converging below the threshold."""
    return check_tmf_population_recursion(draws, ctx)

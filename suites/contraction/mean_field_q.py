"""The mean-field Q operator H_MF against its proven Lipschitz bound, a constructed
counter-example to the plain γ-contraction, closed-form fixed points and the geometric
rate (docs/operators.md)."""

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

from .probes import (COUNTER_STEP, Draws, Finding, Probe, RATE_GAMES, ROUNDING, family,
                     lipschitz_search, outcome_of, run_search, suite)


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

    ok = run_search(_rate_models(draws, ctx.device), body, ctx, RATE_GAMES[ctx.budget])
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
    return outcome_of([
        lipschitz_search(_q_operator_pairs(draws, ctx.device), _q_probe(operator), ctx,
                         "‖H Q1 − H Q2‖∞ ≤ γ L(range/τ) ‖Q1 − Q2‖∞"),
        _q_counter_example(operator, ctx.device),
        *_q_closed_forms(operator, ctx.device),
        _q_rate(operator, draws, ctx),
    ])


@suite.check("mean-field-q-operator", games=family("drawn(S<=2,K<=2,A<=3)", Q_FAMILY),
             needs_solver=False, false_failure_rate=0)
def mean_field_q_operator(_, draws: Draws, ctx: Context) -> Outcome:
    """H_MF (Yang et al. eq. 13) within γL(range/τ), expanding where theory says, with closed-form fixed points."""
    return check_mean_field_q_operator(draws, ctx)


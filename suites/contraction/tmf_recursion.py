"""The TMF population recursion T_κ for k of N agents acting per step: its contraction
per epoch against the closed form of a two-state chain, softmax policies of route games,
and the plot of the rate against κ (docs/operators.md)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace

import hypothesis.strategies as st
import numpy as np
import torch

from mfcheck import operators as ops
from mfcheck import strategies, tmf
from mfcheck.check import Context, Outcome
from mfcheck.errors import InvalidGameError
from mfcheck.game import FiniteMFG
from mfcheck.games.resource_selection import resource_selection

from .probes import (Draws, Finding, Probe, RESOLVED, ROUNDING, as_tensor64, family, figure,
                     l1_norm, lipschitz_search, outcome_of, save_check_figure, suite)
from .logit_routes import RATE_ROUTES, logit_split
from .stationary_flow import FLOW_DISCOUNT, FLOW_PAIRS, mixed_pair


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
    return (game, table, fraction, *mixed_pair(draw, (S,), device))


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
    table = as_tensor64([[1 - p, p], [q, 1 - q]], device)
    delta = ops.dobrushin_coefficient(ops.policy_kernel(game, table))
    target = as_tensor64([q / (p + q), p / (p + q)], device)
    observed, worst = [], 0.0
    for fraction in PLOT_FRACTIONS:
        mu = as_tensor64([[1.0, 0.0]], device)
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
                error = l1_norm(fp.value - logit_split(route, tau))
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
    fig, ax = figure()
    ax.semilogx(grid, (1 - grid * (1 - delta)) ** (1 / grid), "k--", lw=1,
                label="bound (1 − κ(1 − δ))^(1/κ)")
    ax.semilogx(kappas, observed, "o", ms=4, label="observed, two resources")
    ax.axhline(math.exp(-(1 - delta)), color="grey", ls=":", lw=0.8, label="e^−(1 − δ)")
    ax.set_xlabel("acting fraction κ = k/N")
    ax.set_ylabel("contraction per epoch (N decisions)")
    ax.set_title(f"TMF recursion T_κ, δ(P_π) = {delta:g}", fontsize=9)
    ax.legend(fontsize=7)
    return save_check_figure(fig, ctx, "tmf-population-recursion")


TMF_FAMILY = Draws(max_states=3, max_bins=1, max_actions=3)


def check_tmf_population_recursion(draws: Draws, ctx: Context,
                                   step: PopulationStep = tmf.population_step) -> Outcome:
    """Every sub-check of ``tmf-population-recursion`` on ``step`` (T_κ)."""
    rates, observed, delta = _two_state_rates(step, ctx.device)
    outcome = outcome_of([
        lipschitz_search(_table_pairs(draws, ctx.device), _table_probe(step), ctx,
                         "one epoch of T_κ: ‖·‖₁ ≤ (1 − κ(1 − δ(P_π)))^(1/κ) ‖μ − μ'‖₁",
                         FLOW_PAIRS),
        rates,
        *_softmax_recursion(step, ctx),
    ])
    if ctx.report_dir is None:
        return outcome
    return replace(outcome, artifacts=(_plot_epoch_rates(observed, delta, ctx),))


@suite.check("tmf-population-recursion", games=family("garnet(S<=3,A<=3)+resource_selection",
                                                        TMF_FAMILY), needs_solver=False,
             false_failure_rate=0)
def tmf_population_recursion(_, draws: Draws, ctx: Context) -> Outcome:
    """T_κ(μ) = (1 − κ)μ + κΦ(μ): per epoch within (1 − κ(1 − δ))^(1/κ) (sharp on two states); logit-to-load policies: Φ = Γ_τ, converging below the threshold."""
    return check_tmf_population_recursion(draws, ctx)


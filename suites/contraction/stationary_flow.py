"""The stationary best-response map Ψ_τ of a `FiniteMFG`: on resource selection it reduces
to the logit route map; its moduli on drawn garnet games (docs/operators.md)."""

from __future__ import annotations

from collections.abc import Callable

import hypothesis
import hypothesis.strategies as st
import torch

from mfcheck import operators as ops
from mfcheck import strategies
from mfcheck.check import Budget, Context, Outcome
from mfcheck.game import FiniteMFG
from mfcheck.games.resource_selection import resource_selection
from mfcheck.kernels.flow import STATIONARY_TOL

from .probes import (Draws, Finding, Probe, RESOLVED, ROUNDING, family, l1_norm, lipschitz_search,
                     outcome_of, run_search, suite)
from .logit_routes import RATE_ROUTES


BestResponseFlowMap = Callable[[FiniteMFG, torch.Tensor, float], torch.Tensor]

#: Drawn pairs for Ψ_τ: each evaluation runs value iteration and a stationary distribution.
FLOW_PAIRS = {Budget.QUICK: 20, Budget.FULL: 1000}

#: The discount of the drawn resource-selection and garnet games (value iteration ~40 sweeps).
FLOW_DISCOUNT = 0.5


def mixed_pair(draw, shape, device) -> tuple[torch.Tensor, torch.Tensor]:
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
    return (game, tau, route, *(x.reshape(n, n) for x in mixed_pair(draw, (n * n,), device)))


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
    L1, L2 = (x.reshape(S, A) for x in mixed_pair(draw, (S * A,), device))
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

    run_search(_garnet_flow_pairs(draws, ctx.device), body, ctx, FLOW_PAIRS[ctx.budget])
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
    return outcome_of([
        lipschitz_search(_resource_flow_pairs(draws.max_actions, ctx.device), _flow_probe(flow_map),
                         ctx, "‖Ψ_τ L − Ψ_τ L'‖₁ ≤ (2K/τ) ‖L − L'‖₁", FLOW_PAIRS),
        _flow_reduces_to_logit(flow_map, ctx),
        _garnet_flow_moduli(flow_map, draws, ctx),
    ])


@suite.check("stationary-best-response-map", games=family("resource_selection+garnet(S<=3,A<=3)",
                                                            FLOW_FAMILY), needs_solver=False,
             false_failure_rate=0)
def stationary_best_response_map(_, draws: Draws, ctx: Context) -> Outcome:
    """Ψ_τ(L) = stationary flow of the softmax best response to L: within 2K/τ and equal to Γ_τ on resource selection; its modulus on drawn garnets reported."""
    return check_stationary_best_response_map(draws, ctx)


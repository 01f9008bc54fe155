"""Forward propagation: the population flow μ^π and its state-action flow L^π."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ..errors import MFCheckError
from ..game import FiniteMFG
from . import _native

Tensor = torch.Tensor

#: Stationary distributions are iterated until the ℓ1 change is below this.
STATIONARY_TOL = 1e-13
#: Steps of the lazy iteration (the fallback for transitions that depend on L).
STATIONARY_MAX_ITER = 200_000
#: Squarings of a lazy chain: 2^64 steps, past what float64 can tell apart.
LAZY_MAX_SQUARINGS = 64
#: Steps μ ↦ lim(μ, K(μ)) before falling back to the lazy iteration.
PICARD_MAX_ITER = 200


@dataclass(frozen=True)
class Flow:
    """The population's distribution under a policy.

    Finite horizon: ``mu`` has shape ``(..., horizon, S)`` and ``L`` ``(..., horizon, S, A)``.
    Stationary: ``mu`` ``(..., S)`` and ``L`` ``(..., S, A)``.
    """

    mu: Tensor
    L: Tensor


def step(game: FiniteMFG, t: int, L: Tensor) -> Tensor:
    """μ_{t+1}(s') = Σ_{s,a} L_t(s, a) P_t(s' | s, a, L_t)."""
    return game.transition_operator(t, L).push(L)


def distribution(game: FiniteMFG, policy: Tensor) -> Flow:
    """The flow μ^π of the population when everyone plays ``policy`` from ``game.mu0``.

    ``policy`` may carry leading batch dimensions; the flow then carries them too.
    For a stationary game the flow is the stationary distribution reached from μ0
    (see `stationary_distribution`).
    """
    return forward(game, game.check_policy(policy))


def forward(game: FiniteMFG, policy: Tensor) -> Flow:
    """`distribution` of a policy already checked (`FiniteMFG.check_policy`)."""
    if game.stationary:
        return stationary_distribution(game, policy)
    op = _native.static_operator(game, policy)
    if op is not None:
        return Flow(*_native.forward(op, game.mu0, policy))
    batch = policy.shape[:-3]
    mu = game.mu0.expand(*batch, -1)
    mus, Ls = [], []
    for t in range(game.horizon):
        L = mu.unsqueeze(-1) * policy[..., t, :, :]
        mus.append(mu)
        Ls.append(L)
        if t + 1 < game.horizon:
            mu = step(game, t, L)
    return Flow(torch.stack(mus, dim=-2), torch.stack(Ls, dim=-3))


def policy_chain(game: FiniteMFG, policy: Tensor, mu: Tensor) -> Tensor:
    """K(s, s') = Σ_a π(a|s) P(s' | s, a, L), L = μ ⊗ π: the chain of one agent while the
    population stays at ``mu``; shape ``(..., S, S)``."""
    L = mu.unsqueeze(-1) * policy
    return game.transition_operator(0, L).chain(policy)


def _stochastic(matrix: Tensor) -> Tensor:
    """Rows scaled to sum to 1. A row that sums to 1 + δ (policies and transitions are
    distributions to rounding, or to the game's tolerance) would sum to (1 + δ)^(2^j)
    after j squarings."""
    return matrix / matrix.sum(-1, keepdim=True)


def lazy_limit(mu: Tensor, chain: Tensor) -> Tensor:
    """lim_n μ M^n for the lazy chain M = (I + K)/2 (``mu`` ``(..., S)``, K ``(..., S, S)``).

    The limit exists for every finite chain (M is aperiodic); for a reducible K it keeps
    μ's mass in each closed class it reaches, as iterating would. It is computed by
    repeated squaring, x_j = μ M^(2^j − 1), x_{j+1} = x_j M^(2^j): a chain that needs n
    lazy steps needs log2(n) products, and products of nonnegative matrices add no
    cancellation, so nearly decomposable chains (near-deterministic policies) stay
    accurate where a linear solve of μ(I − K) = 0 would lose digits. Raises after
    ``LAZY_MAX_SQUARINGS`` products (2^64 lazy steps) without an ℓ1 change below
    ``STATIONARY_TOL``.
    """
    power = _stochastic(chain + torch.eye(chain.shape[-1], dtype=chain.dtype,
                                          device=chain.device))
    x = mu
    for _ in range(LAZY_MAX_SQUARINGS):
        new = torch.einsum("...s,...sp->...p", x, power)
        # The change over 2^j lazy steps, not one: a slowly mixing chain, whose single
        # steps are small long before it has mixed, does not stop early.
        if (new - x).abs().sum(-1).max() < STATIONARY_TOL:
            return new
        x, power = new, _stochastic(power @ power)
    raise MFCheckError(f"the lazy chain's limit did not settle to {STATIONARY_TOL:g} in ℓ1 "
                       f"after {LAZY_MAX_SQUARINGS} squarings")


def stationary_distribution(game: FiniteMFG, policy: Tensor) -> Flow:
    """The fixed point μ = Σ_{s,a} μ(s) π(a|s) P(·|s, a, L(μ)) reached from μ0.

    For a fixed chain K (transitions that do not depend on L) that is lim_n μ0 M^n with
    M = (I + K)/2 (`lazy_limit`): the lazy chain has K's stationary laws and does not
    oscillate on periodic chains; on a reducible chain it is the law μ0 ends in.

    When P depends on L, iterate μ ↦ `lazy_limit`(μ, K(μ)) from μ0 (the population moves
    to where the chain frozen at its current L leads) until the ℓ1 change is below
    ``STATIONARY_TOL``: its fixed points are exactly those of the lazy map
    μ ↦ (μ + Φ(μ))/2. A fixed chain stops after one step (K(μ1) = K(μ0)). Where it does
    not contract (the ℓ1 change stops shrinking, or ``PICARD_MAX_ITER`` steps), fall back to
    the lazy map itself from μ0 (`lazy_iteration`). With several stationary mean fields
    for one policy, either iteration picks one: the one it reaches from μ0.
    """
    mu = game.mu0.expand(*policy.shape[:-2], -1)
    chain = policy_chain(game, policy, mu)
    change = math.inf
    for _ in range(PICARD_MAX_ITER):
        new = lazy_limit(mu, chain)
        new_chain = policy_chain(game, policy, new)
        if torch.equal(new_chain, chain):  # the chain is fixed: new is its stationary law
            return Flow(new, new.unsqueeze(-1) * policy)
        new_change = float((new - mu).abs().sum(-1).max())
        if new_change < STATIONARY_TOL:
            return Flow(new, new.unsqueeze(-1) * policy)
        if new_change >= change:
            break
        mu, chain, change = new, new_chain, new_change
    return lazy_iteration(game, policy)


def lazy_iteration(game: FiniteMFG, policy: Tensor) -> Flow:
    """The fixed point of μ ↦ (μ + Φ(μ))/2 by iteration from μ0, one lazy step at a time;
    raises if the ℓ1 change is not below ``STATIONARY_TOL`` after ``STATIONARY_MAX_ITER``
    steps (then the policy has no stationary mean field reachable this way)."""
    mu = game.mu0.expand(*policy.shape[:-2], -1)
    for _ in range(STATIONARY_MAX_ITER):
        L = mu.unsqueeze(-1) * policy
        new = 0.5 * (mu + step(game, 0, L))
        if (new - mu).abs().sum(-1).max() < STATIONARY_TOL:
            return Flow(new, new.unsqueeze(-1) * policy)
        mu = new
    raise MFCheckError(f"game {game.name!r}: the stationary distribution did not settle to "
                       f"{STATIONARY_TOL:g} in {STATIONARY_MAX_ITER} lazy steps")

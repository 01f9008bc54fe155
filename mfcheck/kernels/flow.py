"""Forward propagation: the population flow μ^π and its state-action flow L^π."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..errors import MFCheckError
from ..game import FiniteMFG

Tensor = torch.Tensor

#: Stationary distributions are iterated until the ℓ1 change is below this.
STATIONARY_TOL = 1e-13
STATIONARY_MAX_ITER = 200_000


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
    return torch.einsum("...sa,...sap->...p", L, game.transition(t, L))


def distribution(game: FiniteMFG, policy: Tensor) -> Flow:
    """The flow μ^π of the population when everyone plays ``policy`` from ``game.mu0``.

    ``policy`` may carry leading batch dimensions; the flow then carries them too.
    For a stationary game the flow is the stationary distribution reached from μ0
    (see `stationary_distribution`).
    """
    policy = game.check_policy(policy)
    if game.stationary:
        return stationary_distribution(game, policy)
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


def stationary_distribution(game: FiniteMFG, policy: Tensor) -> Flow:
    """The fixed point μ = Σ_{s,a} μ(s) π(a|s) P(·|s, a, L(μ)) reached from μ0.

    Iterates the lazy map μ ↦ (μ + Φ(μ)) / 2, which has the same fixed points as Φ and
    does not oscillate on periodic chains. Raises if it has not settled to
    ``STATIONARY_TOL`` in ℓ1 after ``STATIONARY_MAX_ITER`` steps (then the policy has no
    stationary mean field reachable this way, and the caller must say so).
    """
    mu = game.mu0.expand(*policy.shape[:-2], -1)
    for _ in range(STATIONARY_MAX_ITER):
        L = mu.unsqueeze(-1) * policy
        new = 0.5 * (mu + step(game, 0, L))
        if (new - mu).abs().sum(-1).max() < STATIONARY_TOL:
            return Flow(new, new.unsqueeze(-1) * policy)
        mu = new
    raise MFCheckError(f"game {game.name!r}: the stationary distribution did not settle to "
                       f"{STATIONARY_TOL:g} in {STATIONARY_MAX_ITER} lazy steps")

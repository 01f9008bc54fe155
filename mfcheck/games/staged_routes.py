"""Staged routes: a route choice whose worth is paid over the epochs that follow it.

A multi-epoch game with several states whose equilibrium is known in closed form, built
so that the mistakes a planner can make in time and state — a missing continuation value,
the reward or population of another epoch, a transition read the wrong way round, the
entropy bonus left out of a soft value, a discount ignored — each move the equilibrium by
a known, large amount (docs/games.md, "Staged routes").

States: the hub 0 and one destination 1 + i per route i; actions: R (as many as routes).
μ0 puts everyone at the hub.

- Epoch 0, at the hub: action i takes route i at cost a_i + b_i·m_i, where m is the
  action marginal of L_0 (the route split), and moves the agent to destination 1 + i.
- Epochs t = 1 … H − 1, at destination d = 1 + i: every action stays; the agent earns
  h[t − 1, i] − c·μ_t(d) + g[i, a] (a time-varying worth of the destination, a crowd
  aversion, and a bonus for the action taken there).
- The hub after epoch 0 and the destinations at epoch 0 hold nobody and earn 0.

The destinations are absorbing, so μ_t(1 + i) = m_i for t ≥ 1, and a destination's
policy is the (soft) maximiser of g[i, ·] at every epoch. Its soft value is
V_τ(g_i) = τ·log Σ_a exp(g[i, a]/τ) (max_a g[i, a] at τ = 0), so route i costs in all

    a'_i + b'_i·m_i,   a'_i = a_i − Σ_{t≥1} γ^t (h[t − 1, i] + V_τ(g_i)),
                       b'_i = b_i + c·Σ_{t≥1} γ^t,

and the hub's split is the Wardrop (τ = 0) or logit (τ > 0) split of these affine costs
(`mfcheck.analytic.congestion`): unique whenever every b'_i > 0 (a strictly convex
Beckmann potential).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..analytic.congestion import logit_n_route, wardrop_n_route
from ..devices import DEFAULT_DTYPE, resolve_device
from ..errors import InvalidGameError
from ..game import FiniteMFG


def soft_maximum(values: np.ndarray, temperature: float) -> np.ndarray:
    """τ·logsumexp(values/τ) along the last axis (the max at τ = 0)."""
    if not temperature:
        return values.max(-1)
    top = values.max(-1, keepdims=True)
    return (top + temperature * np.log(np.exp((values - top) / temperature).sum(
        -1, keepdims=True)))[..., 0]


@dataclass(frozen=True)
class StagedRoutes:
    """The staged-routes game of the module docstring, with its closed-form equilibrium.

    ``a``, ``b``: route costs (R each); ``worth``: h, shape (H − 1, R); ``crowd``: c ≥ 0;
    ``bonus``: g, shape (R, R); ``discount``: γ ∈ (0, 1].
    """

    a: tuple[float, ...]
    b: tuple[float, ...]
    worth: tuple[tuple[float, ...], ...]
    crowd: float
    bonus: tuple[tuple[float, ...], ...]
    discount: float = 1.0
    label: str = "staged routes"

    def __post_init__(self) -> None:
        routes = len(self.a)
        h, g = np.asarray(self.worth, float), np.asarray(self.bonus, float)
        problems = []
        if routes < 2 or len(self.b) != routes:
            problems.append(f"need a and b of one length ≥ 2, got {len(self.a)} and {len(self.b)}")
        if h.ndim != 2 or h.shape[0] < 1 or h.shape[1] != routes:
            problems.append(f"worth must be (horizon − 1, {routes}) with horizon ≥ 2, got {h.shape}")
        if g.shape != (routes, routes):
            problems.append(f"bonus must be ({routes}, {routes}), got {g.shape}")
        if self.crowd < 0 or min(self.b) < 0:
            problems.append("crowd and b must be ≥ 0")
        if not 0 < self.discount <= 1:
            problems.append(f"discount must be in (0, 1], got {self.discount}")
        if problems:
            raise InvalidGameError(f"game {self.label!r}: " + "; ".join(problems))

    @property
    def routes(self) -> int:
        return len(self.a)

    @property
    def horizon(self) -> int:
        return len(self.worth) + 1

    def weights(self) -> np.ndarray:
        """γ^t for the epochs t = 1 … H − 1 after the choice."""
        return self.discount ** np.arange(1, self.horizon)

    def effective_costs(self, temperature: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """(a', b') of the module docstring: the affine route costs, worth included."""
        w = self.weights()
        h, g = np.asarray(self.worth, float), np.asarray(self.bonus, float)
        a = np.asarray(self.a, float) - w @ h - w.sum() * soft_maximum(g, temperature)
        return a, np.asarray(self.b, float) + self.crowd * w.sum()

    def equilibrium(self, temperature: float = 0.0) -> np.ndarray:
        """The hub's route split at the (logit) equilibrium, from the closed forms."""
        a, b = self.effective_costs(temperature)
        return logit_n_route(a, b, temperature) if temperature else wardrop_n_route(a, b)

    def equilibrium_policy(self, temperature: float = 0.0, device=None) -> torch.Tensor:
        """The whole equilibrium policy, shape (H, R + 1, R): the split at the hub at epoch 0,
        softmax(g_i/τ) (or the first argmax) at destination 1 + i, uniform where nobody is."""
        R, H = self.routes, self.horizon
        g = torch.as_tensor(self.bonus, dtype=DEFAULT_DTYPE)
        at_destination = (torch.softmax(g / temperature, -1) if temperature else
                          torch.nn.functional.one_hot(g.argmax(-1), R).to(DEFAULT_DTYPE))
        policy = torch.full((H, R + 1, R), 1.0 / R, dtype=DEFAULT_DTYPE)
        policy[0, 0] = torch.as_tensor(self.equilibrium(temperature), dtype=DEFAULT_DTYPE)
        policy[1:, 1:] = at_destination
        return policy.to(resolve_device(device))

    def game(self, device=None) -> FiniteMFG:
        device = resolve_device(device)
        R, H = self.routes, self.horizon
        kw = dict(dtype=DEFAULT_DTYPE, device=device)
        a, b = torch.tensor(self.a, **kw), torch.tensor(self.b, **kw)
        worth, bonus = torch.tensor(self.worth, **kw), torch.tensor(self.bonus, **kw)
        move = torch.zeros(R + 1, R, R + 1, **kw)
        move[0, torch.arange(R), 1 + torch.arange(R)] = 1.0
        move[1 + torch.arange(R), :, 1 + torch.arange(R)] = 1.0
        mu0 = torch.zeros(R + 1, **kw)
        mu0[0] = 1.0

        def reward(t, L):
            r = torch.zeros(*L.shape, **kw)
            if t == 0:
                m = L.sum(-2)  # the route split: the action marginal
                r[..., 0, :] = -(a + b * m)
            else:
                mu = L.sum(-1)[..., 1:]
                r[..., 1:, :] = (worth[t - 1] - self.crowd * mu).unsqueeze(-1) + bonus
            return r

        def transition(t, L):
            return move.expand(*L.shape[:-2], -1, -1, -1)

        return FiniteMFG(mu0, reward, transition, n_actions=R, horizon=H,
                         discount=self.discount, name=self.label, batched=True, device=device)

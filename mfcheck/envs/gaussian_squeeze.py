"""The Gaussian squeeze game (Yang et al. 2018, §5.1; docs/references.md#yang2018-gaussian-squeeze).

``N`` agents each bid an action a_j ∈ {0, …, 9}; with x = Σ_j a_j every agent earns the
shared objective

    G(x) = x · exp(−(x − μ)² / σ²),       μ = 400, σ = 200 by default,

for the joint action after the step. It is a stage game: one observation (always 0),
discount 0. G has one maximum on x > 0, at x* = (μ + √(μ² + 2σ²))/2 (≈ 444.95, G ≈ 423.0),
so the agents must coordinate on a *sum*: too many high bids and G collapses.

Agent j's mean action ā_j is the distribution of the other N − 1 agents' current actions,
computed from the population's action histogram minus j's own one-hot (O(N·A) work and
memory, never N²). A reset draws every agent's initial action uniformly from 0..9,
independently: x starts near 4.5·N, close to x* at N = 100 and far above it (G ≈ 0) from
N = 500 on.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ..errors import UsageError
from .base import (SYNCHRONOUS, AgentEnv, Observation, Schedule, check_game_parameter,
                   finite_number)

Tensor = torch.Tensor

N_ACTIONS = 10  # bids 0..9


def squeeze_objective(x, mu: float = 400.0, sigma: float = 200.0):
    """G(x) = x · exp(−(x − μ)²/σ²) for a number, numpy array or tensor ``x``."""
    exp = torch.exp if isinstance(x, Tensor) else np.exp
    return x * exp(-((x - mu) / sigma) ** 2)


def squeeze_optimum(mu: float, sigma: float, max_sum: float = math.inf) -> tuple[float, float]:
    """(x*, G(x*)) over 0 ≤ x ≤ ``max_sum``. G' = 0 at x = (μ ± √(μ² + 2σ²))/2 and only the
    + root is positive, so G rises up to x* = (μ + √(μ² + 2σ²))/2 and falls after it:
    the constrained maximiser is min(x*, max_sum)."""
    x = min((mu + math.sqrt(mu * mu + 2.0 * sigma * sigma)) / 2.0, max_sum)
    return x, float(squeeze_objective(x, mu, sigma))


class GaussianSqueeze(AgentEnv):
    """``batch`` independent replicas of the Gaussian squeeze between ``n_agents`` agents.

    ``action_values`` = 0..9 (the bids); rewards, mean actions and ``total_bid`` (x per
    replica) are float64 on ``device``.
    """

    name = "gaussian-squeeze"
    n_actions = N_ACTIONS
    n_observations = 1
    discount = 0.0

    def __init__(self, n_agents: int, *, mu: float = 400.0, sigma: float = 200.0,
                 batch: int = 1, schedule: Schedule = SYNCHRONOUS, device=None) -> None:
        check_game_parameter(self.name, "n_agents", n_agents,
                             isinstance(n_agents, int) and not isinstance(n_agents, bool)
                             and n_agents >= 2, "an int ≥ 2 (a mean action needs another agent)")
        check_game_parameter(self.name, "mu", mu, finite_number(mu), "a finite number")
        check_game_parameter(self.name, "sigma", sigma, finite_number(sigma) and sigma > 0,
                             "a finite number > 0")
        check_game_parameter(self.name, "schedule", schedule, isinstance(schedule, Schedule),
                             "a mfcheck.envs.Schedule")
        super().__init__(batch=batch, schedule=schedule, device=device)
        self.n_agents = n_agents
        self.mu, self.sigma = float(mu), float(sigma)
        self.action_values = torch.arange(N_ACTIONS, dtype=self.dtype, device=self.device)

    def objective(self, x):
        """G(x) of this game's μ and σ."""
        return squeeze_objective(x, self.mu, self.sigma)

    def optimum(self) -> tuple[float, float]:
        """(x*, G(x*)): the best total bid N agents can make (x* unless 9·N < x*)."""
        return squeeze_optimum(self.mu, self.sigma, (N_ACTIONS - 1) * self.n_agents)

    def total_bid(self) -> Tensor:
        """x = Σ_j a_j of the current joint action, per replica, ``(batch,)``."""
        if self.actions is None:
            raise UsageError(f"{self.name}: total_bid() before reset()")
        return self.actions.sum(-1).to(self.dtype)

    def _reset(self, generator: torch.Generator) -> Observation:
        self.actions = torch.randint(N_ACTIONS, self.shape, generator=generator,
                                     device=self.device)
        return Observation(self._obs(), self._mean_action())

    def _step(self, actions: Tensor, acting: Tensor) -> Observation:
        self.actions = torch.where(acting, actions.long(), self.actions)
        reward = self.objective(self.total_bid())[:, None].expand(self.shape).contiguous()
        return Observation(self._obs(), self._mean_action(), reward, acting)

    def _obs(self) -> Tensor:
        return torch.zeros(self.shape, dtype=torch.long, device=self.device)

    def _mean_action(self) -> Tensor:
        """(histogram of all actions − own one-hot)/(N − 1), ``(batch, N, A)``."""
        b, n = self.shape
        share = 1.0 / (n - 1)
        counts = torch.zeros(b, N_ACTIONS, dtype=self.dtype, device=self.device)
        counts.scatter_add_(1, self.actions, torch.ones(1, dtype=self.dtype,
                                                        device=self.device).expand(b, n))
        mean = (counts * share)[:, None, :].expand(b, n, N_ACTIONS).contiguous()
        own = torch.full((1, 1, 1), -share, dtype=self.dtype, device=self.device)
        return mean.scatter_add_(2, self.actions[..., None], own.expand(b, n, 1))




"""The Ising stage game (Yang et al. 2018, §5.2; docs/references.md#yang2018-ising-stage-game).

``N = L²`` agents sit on an L×L torus, numbered row-major (agent ``i·L + j`` at row i,
column j). Each picks a spin: action 0 is s = −1, action 1 is s = +1. After every step
every agent j earns, for the joint action after the step,

    r_j = h·s_j + (λ/2)·s_j·Σ_{k∈N(j)} s_k − c·1[s_j ≠ its spin before the step],

N(j) its four periodic neighbours, λ the coupling, h the field, c the flip cost. Its mean
action ā_j is the distribution of its four neighbours' current actions, ``(B, N, 2)``.

Why it is a benchmark: with Q(a, ā) = E[r | a, ā] and a Boltzmann policy at temperature τ
an agent playing alone takes s = +1 with probability 1/(1 + exp(−2(h + λ·n/2)/τ)),
n = Σ_{k∈N(j)} s_k: the heat-bath update of the Ising model at β·J = λ/(2τ), β·h_Ising =
h/τ. Played one agent at a time the dynamics is random-site heat bath, whose stationary
law is Boltzmann at T = 2τ/λ (J = 1), so a mean-field learner's order parameter can be
checked against MCMC.

Observations: with c = 0 the game is stateless (observation 0, ``n_observations = 1``).
With c > 0 the reward depends on the agent's previous spin, so that spin is its state:
the observation is its own current action (0/1, ``n_observations = 2``); with
``discount`` γ > 0 the game is then an MDP per agent whose next state is its own action.

A step is a few int8 rolls and float64 element-wise ops over ``(B, L, L)``: no loops over
agents, so it stays cheap at N = 10⁶.
"""

from __future__ import annotations

import torch

from ..errors import UsageError
from .base import (SYNCHRONOUS, AgentEnv, Observation, Schedule, check_game_parameter,
                   finite_number)

Tensor = torch.Tensor

STARTS = ("hot", "cold")


def neighbour_sum(spins: Tensor) -> Tensor:
    """Σ of the four periodic neighbours' values of ``spins`` ``(..., L, L)`` (same dtype)."""
    return spins.roll(1, -1) + spins.roll(-1, -1) + spins.roll(1, -2) + spins.roll(-1, -2)


class IsingGame(AgentEnv):
    """``batch`` independent replicas of the Ising stage game on an L×L torus (see the
    module docstring). ``start="hot"``: a reset draws every spin ±1 with probability 1/2;
    ``"cold"``: every spin +1. ``spins`` is the current configuration ``(B, L, L)`` int8 ±1.
    """

    name = "ising-game"
    n_actions = 2

    def __init__(self, L: int, *, coupling: float = 1.0, field: float = 0.0,
                 flip_cost: float = 0.0, discount: float = 0.0, batch: int = 1,
                 schedule: Schedule = SYNCHRONOUS, device=None, start: str = "hot") -> None:
        check_game_parameter(self.name, "L", L, isinstance(L, int) and not isinstance(L, bool)
                             and L >= 3, "an int ≥ 3 (four distinct neighbours on the torus)")
        for what, value in (("coupling", coupling), ("field", field)):
            check_game_parameter(self.name, what, value, finite_number(value), "a finite number")
        check_game_parameter(self.name, "flip_cost", flip_cost,
                             finite_number(flip_cost) and flip_cost >= 0, "a finite number ≥ 0")
        check_game_parameter(self.name, "discount", discount,
                             finite_number(discount) and 0 <= discount < 1, "in [0, 1)")
        check_game_parameter(self.name, "start", start, start in STARTS, "'hot' or 'cold'")
        check_game_parameter(self.name, "schedule", schedule, isinstance(schedule, Schedule),
                             "a mfcheck.envs.Schedule")
        super().__init__(batch=batch, schedule=schedule, device=device)
        self.L, self.n_agents = L, L * L
        self.coupling, self.field = float(coupling), float(field)
        self.flip_cost, self.discount = float(flip_cost), float(discount)
        self.start = start
        self.n_observations = 2 if self.flip_cost > 0 else 1
        self.action_values = torch.tensor([-1.0, 1.0], dtype=self.dtype, device=self.device)

    @property
    def spins(self) -> Tensor:
        """The current spins ``(B, L, L)``, int8 ±1 (a fresh tensor, derived from ``actions``)."""
        if self.actions is None:
            raise UsageError(f"{self.name}: spins before reset()")
        return self._spins(self.actions)

    def _spins(self, actions: Tensor) -> Tensor:
        return (2 * actions - 1).to(torch.int8).view(self.batch, self.L, self.L)

    def _reset(self, generator: torch.Generator) -> Observation:
        if self.start == "hot":
            self.actions = torch.randint(2, self.shape, generator=generator, device=self.device)
        else:
            self.actions = torch.ones(self.shape, dtype=torch.long, device=self.device)
        return Observation(self._obs(), self._mean_action(neighbour_sum(self.spins)))

    def _step(self, actions: Tensor, acting: Tensor) -> Observation:
        new = torch.where(acting, actions.long(), self.actions)
        s = self._spins(new)
        nb = neighbour_sum(s)
        local = nb.to(self.dtype).mul_(self.coupling / 2).add_(self.field)
        reward = local.mul_(s).view(self.shape)
        if self.flip_cost:
            reward -= self.flip_cost * (new != self.actions).to(self.dtype)
        self.actions = new
        return Observation(self._obs(), self._mean_action(nb), reward, acting)

    def _obs(self) -> Tensor:
        if self.n_observations == 1:
            return torch.zeros(self.shape, dtype=torch.long, device=self.device)
        return self.actions.clone()

    def _mean_action(self, nb: Tensor) -> Tensor:
        """(share of −1, share of +1) among the four neighbours, from their spin sum n:
        the share of +1 is (n + 4)/8."""
        up = nb.to(self.dtype).add_(4.0).mul_(0.125).view(self.shape)
        return torch.stack([1.0 - up, up], -1)

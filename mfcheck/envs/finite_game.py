"""The N-agent environment of a discounted stationary `FiniteMFG`: what a Temporal Mean
Field learner (`mfcheck.tmf`, `mfcheck.reference.marl.tmf_pg`) trains on.

``FiniteGameEnv(game, n_agents, *, batch=1, schedule=SYNCHRONOUS, start="game",
device=None)`` holds ``batch`` independent replicas of the game between ``n_agents``
agents. An agent's observation is its state (``n_observations = S``), its action one of
the game's (``n_actions = A``, ``action_values = arange(A)``), ``discount = game.discount``.

**A step** has the semantics of the N-player simulator (`mfcheck.nplayer`,
docs/nplayer.md). The learner passes every agent's action, drawn from its policy, and the
acting mask (``env.acting_mask(generator)``: the check decides the schedule). Then

- L̂_N = the counts of (x_i, a_i) over *all* agents / N. An idle agent enters with the
  action drawn for it this step; that action's law is π(·|x), so E L̂_N = μ̂_N ⊗ π as in
  the simulator, which enters idle agents with the law π(·|x) itself (a draw instead of
  the law: the same mean, a little more variance);
- an acting agent moves x' ~ p(·|x, a, L̂_N) and earns r(x, a, L̂_N); an idle agent keeps
  its state exactly and earns 0 (``Observation.acting`` says who acted).

The `Observation` after a step: ``obs`` every agent's state ``(B, N)`` int64 after the
step, ``mean_action`` the one-hot mean of all the actions of the step ``(B, N, A)`` (an
expanded view: every agent sees the whole population's), ``reward`` ``(B, N)``,
``acting`` the mask, ``population`` μ̂_N after the step ``(B, S)``. ``env.actions`` holds
the actions of the last step; a reset draws them uniformly (no policy has acted yet).

**Random numbers.** The environment keeps its own `torch.Generator` on its device,
seeded at every ``reset(generator)`` with a number drawn from the learner's generator:
the learner's seed fixes the initial states and every transition. Next states are drawn
by inverse CDF, one uniform per agent and step (idle agents' uniforms are drawn and
unused, so that the stream does not depend on who acts).

**Start.** ``start="game"``: every agent's initial state iid from ``game.mu0``.
``start="random"``: each replica first draws a population law from the flat Dirichlet
(1, …, 1) on Δ(S), then its agents' states iid from it. A TMF policy π(a|o, μ) is asked
about μ; trained only from μ0 it sees the populations on one path to the stationary one
and learns nothing about the others (in resource selection with no switching cost the
population jumps to the equilibrium split in one epoch). Random starts, with resets
during training, show it the whole simplex.

Counts are `torch.bincount` over ``replica·K + code``: work and memory linear in N
(no ``(B, N, S)`` tensor), so N = 1e5 is comfortable.
"""

from __future__ import annotations

import torch

from ..errors import InvalidGameError, UsageError
from ..game import FiniteMFG
from .base import (SYNCHRONOUS, AgentEnv, Observation, Schedule, check_game_parameter,
                   inverse_cdf)

Tensor = torch.Tensor

STARTS = ("game", "random")


class FiniteGameEnv(AgentEnv):
    """``batch`` replicas of a discounted stationary ``game`` between ``n_agents`` agents
    (see the module docstring). ``states`` ``(batch, N)`` is every agent's state now."""

    def __init__(self, game: FiniteMFG, n_agents: int, *, batch: int = 1,
                 schedule: Schedule = SYNCHRONOUS, start: str = "game", device=None) -> None:
        if not isinstance(game, FiniteMFG):
            raise UsageError(f"FiniteGameEnv needs a mfcheck FiniteMFG, got "
                             f"{type(game).__name__}")
        if not game.stationary:
            raise InvalidGameError(f"game {game.name!r} has a finite horizon; FiniteGameEnv "
                                   f"needs a discounted stationary game (horizon=None)")
        name = f"FiniteGameEnv({game.name})"
        check_game_parameter(name, "n_agents", n_agents,
                             isinstance(n_agents, int) and not isinstance(n_agents, bool)
                             and n_agents >= 1, "a positive int")
        check_game_parameter(name, "schedule", schedule, isinstance(schedule, Schedule),
                             "a mfcheck.envs.Schedule")
        if start not in STARTS:
            raise UsageError(f"{name}: start must be one of {STARTS}, got {start!r}")
        super().__init__(batch=batch, schedule=schedule,
                         device=game.device if device is None else device, dtype=game.dtype)
        if self.device != game.device:
            raise UsageError(f"{name}: device {self.device} differs from the game's "
                             f"{game.device}; build the game on that device")
        self.game, self.name, self.n_agents, self.start = game, name, n_agents, start
        self.n_observations, self.n_actions = game.n_states, game.n_actions
        self.discount = game.discount
        self.action_values = torch.arange(self.n_actions, dtype=self.dtype, device=self.device)
        self.rng = torch.Generator(device=self.device)
        self.states: Tensor | None = None
        # Offsets replica·K of the flat codes counted by bincount, for K = S and K = S·A.
        self._replica = torch.arange(batch, device=self.device)[:, None]

    # -- counts ------------------------------------------------------------------------
    def _counts(self, codes: Tensor, size: int) -> Tensor:
        """Per-replica counts ``(B, size)`` of the integer ``codes`` ``(B, N)``."""
        flat = (self._replica * size + codes).reshape(-1)
        return torch.bincount(flat, minlength=self.batch * size).reshape(self.batch, size)

    def population(self) -> Tensor:
        """μ̂_N now: the distribution of the agents' states, ``(B, S)``."""
        return self._counts(self.states, self.n_observations).to(self.dtype) / self.n_agents

    def _observation(self, reward: Tensor | None, acting: Tensor | None,
                     action_counts: Tensor) -> Observation:
        mean_action = (action_counts.to(self.dtype) / self.n_agents)[:, None, :]
        return Observation(self.states, mean_action.expand(-1, self.n_agents, -1), reward,
                           acting, self.population())

    # -- the AgentEnv interface ------------------------------------------------------------
    def _reset(self, generator: torch.Generator) -> Observation:
        seed = int(torch.randint(2 ** 62, (1,), generator=generator, device=self.device))
        self.rng.manual_seed(seed)
        B, N, S = self.batch, self.n_agents, self.n_observations
        if self.start == "game":
            law = self.game.mu0.expand(B, S)
        else:  # flat Dirichlet: normalised iid Exp(1) draws
            law = torch.empty(B, S, dtype=self.dtype, device=self.device)
            law.exponential_(generator=self.rng)
            law /= law.sum(-1, keepdim=True)
        self.states = torch.multinomial(law, N, replacement=True, generator=self.rng)
        self.actions = torch.randint(self.n_actions, (B, N), generator=self.rng,
                                     device=self.device)
        return self._observation(None, None, self._counts(self.actions, self.n_actions))

    def _step(self, actions: Tensor, acting: Tensor) -> Observation:
        B, N, S, A = self.batch, self.n_agents, self.n_observations, self.n_actions
        actions = actions.long()
        codes = self.states * A + actions  # (B, N): x·A + a
        counts = self._counts(codes, S * A)
        L = (counts.to(self.dtype) / N).reshape(B, S, A)
        reward = self.game.reward(0, L).reshape(B, S * A).gather(1, codes)
        reward = reward.masked_fill_(~acting, 0.0)
        # Next states by inverse CDF of p(·|x, a, L̂) (rows replica·S·A + code), one
        # uniform per agent, scaled by the row's total so that a state of probability 0
        # after the last positive one is never drawn, whatever the rounding of the cumsum.
        cdf = self.game.transition(0, L).reshape(B * S * A, S).cumsum(-1)
        rows = (self._replica * (S * A) + codes).reshape(-1)
        u = torch.rand(B * N, generator=self.rng, dtype=self.dtype, device=self.device)
        moved = inverse_cdf(cdf[rows], u * cdf[rows, S - 1])
        self.states = torch.where(acting, moved.view(B, N), self.states)
        self.actions = actions
        return self._observation(reward, acting, counts.view(B, S, A).sum(1))

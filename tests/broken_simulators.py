"""Deliberately broken N-player simulators: each must be caught by some check of the
simulator suites (``approximation-rate``: tests/test_power_simulators.py; ``sync-async``),
while the reference simulator passes them all.

Both implement the simulator protocol (`mfcheck.nplayer`):
``simulate(game, policy, *, n_agents, acting, rounds, batch, seed, **kwargs)`` returning an
object with ``.mu`` ``(batch, records, S)`` and ``.mean_return`` ``(batch,)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from mfcheck.envs import Schedule
from mfcheck.errors import UsageError
from mfcheck.nplayer import simulate
from mfcheck.nplayer.sampling import inverse_cdf

Tensor = torch.Tensor


class MovesIdleAgents:
    """Ignores the schedule: every round is a synchronous one (the same number of rounds),
    so the agents an asynchronous schedule leaves idle move too."""

    name = "broken: asynchronous rounds move idle agents"

    def simulate(self, game, policy, *, acting="all", **kwargs):
        return simulate(game, policy, acting="all", **kwargs)


@dataclass(frozen=True)
class SharedDrawTrajectory:
    mu: Tensor
    mean_return: Tensor


class SharedDraw:
    """All agents of a replica draw their actions and next states (inverse CDF) from ONE
    shared pair of uniforms per round, so agents in the same state move together and
    μ̂_N does not concentrate as N grows. Otherwise correct: stationary games, any
    schedule, idle agents keep their state and contribute π(·|x) to L̂_N (the reference's
    convention), each agent's j-th decision discounted by γ^j."""

    name = "broken: one shared random draw per round"

    def simulate(self, game, policy, *, n_agents, acting="all", rounds, batch=1, seed=0,
                 initial=None, record_every=1, **ignored):
        if not game.stationary:
            raise UsageError("SharedDraw simulates stationary games only")
        schedule = acting if isinstance(acting, Schedule) else Schedule.parse(str(acting))
        S, A, N, B, dev = game.n_states, game.n_actions, n_agents, batch, game.device
        policy = game.check_policy(policy)
        gen = torch.Generator(device=dev).manual_seed(seed)
        initial = game.mu0 if initial is None else torch.as_tensor(initial, dtype=game.dtype,
                                                                    device=dev)
        x = torch.multinomial(initial.expand(B, S), N, replacement=True, generator=gen)
        decisions = torch.zeros(B, N, dtype=game.dtype, device=dev)
        mean_return = torch.zeros(B, dtype=game.dtype, device=dev)
        mus = [self._counts(x, S) / N]
        for n in range(rounds):
            acting_mask = schedule.mask(B, N, gen, dev)
            u = torch.randint(0, 1 << 32, (B, 2), generator=gen, device=dev)  # the shared draws
            # One shared uniform: every agent in state s draws the same action, and every
            # agent at (s, a) the same next state, so drawing per state is the same thing.
            a = inverse_cdf(policy, u[:, :1]).gather(1, x)
            acting_sa = self._counts(torch.where(acting_mask, x * A + a, S * A), S * A + 1)
            idle = self._counts(torch.where(acting_mask, S, x), S + 1)[:, :S]
            L = (acting_sa[:, :-1].reshape(B, S, A) + idle[..., None] * policy) / N
            r = game.reward(0, L).reshape(B, S * A)
            earned = r.gather(1, x * A + a) * game.discount ** decisions
            mean_return += (earned * acting_mask).sum(1) / N
            decisions += acting_mask
            P = game.transition(0, L)  # (B, S, A, S)
            x_new = inverse_cdf(P, u[:, 1:, None]).reshape(B, S * A).gather(1, x * A + a)
            x = torch.where(acting_mask, x_new, x)
            if (n + 1) % record_every == 0:
                mus.append(self._counts(x, S) / N)
        return SharedDrawTrajectory(torch.stack(mus, 1), mean_return)

    @staticmethod
    def _counts(codes: Tensor, size: int) -> Tensor:
        """Per-replica counts ``(B, size)`` of the integer ``codes`` ``(B, N)``."""
        B = codes.shape[0]
        flat = codes + size * torch.arange(B, device=codes.device)[:, None]
        return torch.bincount(flat.reshape(-1), minlength=B * size).reshape(B, size).double()

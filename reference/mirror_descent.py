"""Online mirror descent (Pérolat et al. 2022), as in OpenSpiel's ``MirrorDescent``.

Iteration k evaluates the current policy against its own population, Q_k = Q^{π_{k−1}}
on μ^{π_{k−1}}, accumulates y_k = y_{k−1} + lr·Q_k, and plays π_k = softmax(y_k). The k-th policy
yielded is π_k.

π_0 is uniform (y_0 = 0), or ``initial_policy`` π̂ made interior, π̃ (`start.start_policy`):
then y_0 = log π̃, so that π_k ∝ π̃·exp(lr·Σ_j Q_j) is mirror descent started at π̃ itself
(not merely evaluated there once).

``live_update_mask`` (a boolean tensor of the policy's shape) reproduces a quirk of
OpenSpiel's implementation: it evaluates its policy *while* adding this iteration's
values into the table that policy reads, so where the mask is true the policy evaluated
at iteration k ≥ 2 already sees lr times this iteration's continuation value
(OpenSpiel's table holds the values of the chance nodes after each action: Q_k minus the
epoch's reward). `mfcheck.games.crowd_modelling.openspiel_live_update_mask` gives the
mask of that game's traversal; with it, this planner reproduces OpenSpiel's figures.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch

from mfcheck.game import FiniteMFG
from mfcheck.kernels import backward_induction, distribution, policy_value

from .start import start_policy


class OnlineMirrorDescent:
    temperature = 0.0

    def __init__(self, learning_rate: float = 0.1, live_update_mask: torch.Tensor | None = None,
                 name: str | None = None) -> None:
        if learning_rate <= 0:
            raise ValueError(f"learning_rate must be > 0, got {learning_rate}")
        self.learning_rate = learning_rate
        self.live_update_mask = live_update_mask
        self.name = name or f"mirror-descent(lr={learning_rate:g})"

    def solve(self, game: FiniteMFG, *, seed: int,
              initial_policy: torch.Tensor | None = None) -> Iterator[torch.Tensor]:
        del seed  # deterministic
        lr = self.learning_rate
        policy = start_policy(game, initial_policy)
        y = torch.zeros_like(policy) if initial_policy is None else policy.log()
        for k in range(1, 2**62):
            flow = distribution(game, policy)
            if self.live_update_mask is None or k == 1:
                q = policy_value(game, policy, flow).q
            else:
                mask = self.live_update_mask.to(game.device)

                def live(t, q_t):
                    continuation = q_t - game.reward(t, flow.L[t])
                    pi_t = torch.softmax(y[t] + mask[t] * lr * continuation, -1)
                    return (pi_t * q_t).sum(-1)

                _, q = backward_induction(game, flow, live)
            y = y + lr * q
            policy = torch.softmax(y, -1)
            yield policy

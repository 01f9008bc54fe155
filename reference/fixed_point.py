"""Fixed-point iteration on the best-response map, optionally damped and softened.

Iteration k (k = 1, 2, ...) computes the population flow μ^{π_{k−1}}, the best response
β_k to it (softmax at ``temperature`` τ > 0, exact at τ = 0), and moves the population a
step α_k = damping / (k + 1)^decay towards β_k's:

    π_k = mix(π_{k−1}, β_k; weights 1 − α_k, α_k),

where ``mix`` averages the two populations (see `mfcheck.kernels.mix_policies`).
damping = 1, decay = 0 is pure best-response iteration (which cycles in games whose
best-response map is not a contraction, such as two routes); τ > 0 with damping 1 is
Boltzmann iteration, a contraction when τ is large enough; decay = 1 is fictitious play.
π_0 is uniform, or ``initial_policy`` made interior (`start.start_policy`); the k-th policy yielded is π_k.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch

from mfcheck.game import FiniteMFG
from mfcheck.kernels import Flow, best_response, distribution, mix_policies

from .start import start_policy


class FixedPoint:
    """Damped (softmax) best-response iteration. See the module docstring."""

    def __init__(self, temperature: float = 0.0, damping: float = 1.0, decay: float = 0.0,
                 name: str | None = None) -> None:
        if temperature < 0 or not 0 < damping <= 1 or decay < 0:
            raise ValueError(f"need temperature >= 0, 0 < damping <= 1, decay >= 0; got "
                             f"{temperature}, {damping}, {decay}")
        self.temperature = temperature
        self.damping = damping
        self.decay = decay
        # Undamped exact best response is not meant to converge; say so to the checks.
        self.convergent = not (temperature == 0 and damping == 1 and decay == 0)
        self.name = name or (f"fixed-point(τ={temperature:g}, damping={damping:g}, "
                             f"decay={decay:g})")

    def step_size(self, k: int) -> float:
        return self.damping / (k + 1) ** self.decay

    def solve(self, game: FiniteMFG, *, seed: int,
              initial_policy: torch.Tensor | None = None) -> Iterator[torch.Tensor]:
        del seed  # deterministic
        policy = start_policy(game, initial_policy)
        flow = distribution(game, policy)
        for k in range(1, 2**62):
            response = best_response(game, flow, self.temperature).policy
            alpha = self.step_size(k)
            if alpha == 1.0:
                policy = response
                flow = distribution(game, policy)
            else:
                response_flow = distribution(game, response)
                policy = mix_policies([policy, response], [flow.mu, response_flow.mu],
                                      [1.0 - alpha, alpha])
                flow = _mixed_flow(game, policy, flow, response_flow, alpha)
            yield policy


def _mixed_flow(game: FiniteMFG, policy: torch.Tensor, flow: Flow, response_flow: Flow,
                alpha: float) -> Flow:
    """The flow of the mixed policy. When the transition does not depend on the population,
    the flow is linear in the state-action flows, so the mixture of the two flows is the
    mixed policy's own flow: one forward pass fewer per iteration."""
    if game.transition_depends_on_population or game.stationary:
        return distribution(game, policy)
    return Flow(torch.lerp(flow.mu, response_flow.mu, alpha),
                torch.lerp(flow.L, response_flow.L, alpha))

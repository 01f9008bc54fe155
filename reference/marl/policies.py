"""From values to actions: the Boltzmann (softmax) policy, drawing actions, and the policy
objects the learners return (``policy(obs, mean_action) -> (batch, N, A)``).

The functions here act on rows of values ``(batch, ..., A)``, so that a table evaluates
them once per cell and an MLP once per agent (`approximators`, ``evaluate``).
"""

from __future__ import annotations

import torch

from mfcheck.envs.base import AgentEnv, inverse_cdf
from mfcheck.errors import UsageError

Tensor = torch.Tensor


def softmax(logits: Tensor) -> Tensor:
    """softmax over the last axis, written out: ``torch.softmax`` is several times slower
    on CPU for a short last axis."""
    weights = (logits - logits.amax(-1, keepdim=True)).exp_()
    return weights.div_(weights.sum(-1, keepdim=True))


def boltzmann(values: Tensor, temperature: Tensor, relative: bool = False) -> Tensor:
    """softmax(values / τ) over the last axis; τ has shape ``(batch,)``, one per replica.

    With ``relative`` τ is measured in units of max_a |values| of each row (a row of zeros
    gives the uniform policy): the policy then does not change when every reward is
    multiplied by a positive constant.
    """
    tau = temperature.view(-1, *(1,) * (values.dim() - 1))
    if relative:
        tau = tau * values.abs().amax(-1, keepdim=True).clamp_min(torch.finfo(values.dtype).tiny)
    return softmax(values / tau)


def expected_value(probs: Tensor, values: Tensor) -> Tensor:
    """Σ_a π(a) Q(a) over the last axis."""
    return (probs * values).sum(-1)


def replica_temperatures(env: AgentEnv, temperature) -> Tensor:
    """``temperature`` (a number, or one per replica) as a positive ``(batch,)`` tensor
    on the env's device."""
    tau = torch.as_tensor(temperature, dtype=env.dtype).to(env.device).reshape(-1)
    if tau.numel() == 1:
        tau = tau.expand(env.batch)
    if tau.numel() != env.batch or not bool(torch.isfinite(tau).all() and (tau > 0).all()):
        raise UsageError(f"temperature must be positive and finite, a number or one per "
                         f"replica (batch = {env.batch}), got {tau.tolist()}")
    return tau.contiguous()


def sample_from_cdf(cdf: Tensor, generator: torch.Generator) -> Tensor:
    """One action per row of the cumulative distributions ``cdf`` ``(batch, N, A)``
    (last column 1, `cumulative`) by inverse CDF (`mfcheck.envs.inverse_cdf`), one uniform
    per row."""
    u = torch.rand(cdf.shape[:-1], generator=generator, device=cdf.device, dtype=cdf.dtype)
    return inverse_cdf(cdf, u)


def cumulative(probs: Tensor) -> Tensor:
    """The CDF of each row of ``probs``, its last column exactly 1."""
    cdf = probs.cumsum(-1)
    cdf[..., -1] = 1.0
    return cdf


class BoltzmannPolicy:
    """``rule(Q(s, ·, ā))`` of a learned Q, for the replicas it learned on; ``rule`` is the
    learner's softmax at its temperatures (`boltzmann`)."""

    def __init__(self, q, rule) -> None:
        self.q, self.rule = q, rule

    def __call__(self, obs: Tensor, mean_action: Tensor) -> Tensor:
        (key,) = self.q.keys(mean_action, obs)
        return self.q.evaluate(key, self.rule)


class SoftmaxPolicy:
    """softmax of a learned actor's logits π_θ(a|s) (the mean action is not used)."""

    def __init__(self, actor) -> None:
        self.actor = actor

    def __call__(self, obs: Tensor, mean_action: Tensor) -> Tensor:
        (key,) = self.actor.keys(mean_action, obs)
        return self.actor.evaluate(key, softmax)

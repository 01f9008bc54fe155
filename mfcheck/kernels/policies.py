"""Operations on policies that planners share."""

from __future__ import annotations

import torch

Tensor = torch.Tensor


def mix_policies(policies: list[Tensor], mus: list[Tensor], weights: list[float]) -> Tensor:
    """The policy that reproduces a weighted mixture of populations.

    π(a|s,t) = Σ_i w_i μ_i(s,t) π_i(a|s,t) / Σ_i w_i μ_i(s,t), uniform where no
    population has mass: fictitious play's average of past best responses (as
    OpenSpiel's ``MergedPolicy`` computes it) and damped fixed-point iteration's step.
    ``mus[i]`` has the policy's shape without the action axis.
    """
    # In place on one policy-sized tensor: on large games every temporary of the policy's
    # size costs its page faults as well as its pass over memory.
    num = (weights[0] * mus[0]).unsqueeze(-1) * policies[0]
    for pi, mu, w in zip(policies[1:], mus[1:], weights[1:]):
        num.addcmul_((w * mu).unsqueeze(-1), pi)
    den = sum(w * mu for mu, w in zip(mus, weights)).unsqueeze(-1)
    num.div_(torch.where(den > 0, den, 1.0))
    return num.masked_fill_(den == 0, 1.0 / num.shape[-1])


#: Two iterates closer than this (sup norm) are the same policy: exact float64 kernels.
PERIOD_ATOL = 1e-12


def detect_period(policies: list[Tensor], atol: float = PERIOD_ATOL) -> int | None:
    """Smallest p with π_K = π_{K−p} (to ``atol``) among the kept iterates, else None:
    1 when the iterates have settled, ≥ 2 when they cycle."""
    last = policies[-1]
    for p in range(1, len(policies)):
        if (policies[-1 - p] - last).abs().max() <= atol:
            return p
    return None

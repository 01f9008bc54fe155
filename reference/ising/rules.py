"""Acceptance rules of the reference single-spin samplers and their integer threshold tables
(public: the tests check the quantisation; `checkerboard` and `random_site` use them).

A rule maps x = βΔE to a flip probability; ΔE = 2 s_i (J Σ_nbr s_j + h).
"""

from __future__ import annotations

import numpy as np
import torch

# -- acceptance rules: flip probability as a function of x = β ΔE ------------------------


def metropolis(x: torch.Tensor) -> torch.Tensor:
    """Metropolis: min(1, exp(−βΔE))."""
    return torch.exp(-x).clamp(max=1.0)


def heat_bath(x: torch.Tensor) -> torch.Tensor:
    """Heat bath (Glauber): 1 / (1 + exp(βΔE)); the new spin is +1 with probability
    1/(1 + exp(−2β(J Σ s_j + h))) whatever the old one was."""
    return torch.sigmoid(-x)


#: The 10 local cases of a site, in the order the kernels index them:
#: code = (Σ_nbr s_j + 4) / 2 + 5·[s_i = +1], i.e. spin −1 with neighbour sums −4..4,
#: then spin +1 with neighbour sums −4..4.
CODE_SPIN = torch.tensor([-1.0] * 5 + [1.0] * 5, dtype=torch.float64)
CODE_NBR = torch.tensor([-4.0, -2.0, 0.0, 2.0, 4.0] * 2, dtype=torch.float64)


def flip_probabilities(rule, beta: torch.Tensor, coupling: float, field: float) -> torch.Tensor:
    """``(B, 10)`` float64 flip probabilities of the 10 cases at inverse temperatures ``beta``
    (shape ``(B,)``): ``rule(β ΔE)`` with ΔE = 2 s (J Σ_nbr s_j + h)."""
    beta = torch.as_tensor(beta, dtype=torch.float64).reshape(-1, 1).cpu()
    delta_e = 2.0 * CODE_SPIN * (coupling * CODE_NBR + field)
    x = torch.where(delta_e == 0, torch.zeros((), dtype=torch.float64), beta * delta_e)  # β = ∞ with ΔE = 0
    return rule(x)


#: Flip thresholds are integers out of 2^31: a site flips iff v < round(p·2^31) for a
#: uniform 31-bit integer v (the top 31 bits of a uniform 32-bit u), so P(flip) =
#: round(p·2^31)/2^31 is within 2^-32 of p (absolute); p = 0 and p = 1 are exact.
THRESHOLD_BITS = 31


def thresholds(rule, beta: torch.Tensor, coupling: float, field: float) -> torch.Tensor:
    """``(B, 10)`` int64 thresholds in [0, 2^31] (see `THRESHOLD_BITS`)."""
    p = flip_probabilities(rule, beta, coupling, field)
    return torch.round(p * 2.0 ** THRESHOLD_BITS).to(torch.int64)


def thresholds_u32(thr: torch.Tensor) -> torch.Tensor:
    """The C kernel's table: ``(B, 16)`` uint32 bit patterns (in an int32 tensor), the 10
    thresholds of each chain then 6 zeros (one 512-bit register per chain)."""
    out = np.zeros((thr.shape[0], 16), dtype=np.uint32)
    out[:, :10] = thr.cpu().numpy()
    return torch.from_numpy(out.view(np.int32))

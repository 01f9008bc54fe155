"""What the reference Ising samplers share: argument checks, acceptance rules and their
tables, hot starts from the counter-based random numbers, the neighbour table, and the
output."""

from __future__ import annotations

import numbers

import numpy as np
import torch

from mfcheck.counter_rng import GAMMA, logical_shift_right, mix64
from mfcheck.errors import InvalidGameError
from mfcheck.ising import IsingSamples

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


# -- counter-based random numbers (`mfcheck.counter_rng`) -------------------------------

def hot_spins_torch(key: torch.Tensor, shape, device) -> torch.Tensor:
    """Fair ±1 spins: +1 where the top bit of mix64(key + i·γ) is set (i = flat index)."""
    n = 1
    for d in shape:
        n *= d
    i = torch.arange(n, dtype=torch.int64, device=device)
    bit = logical_shift_right(mix64(key.to(device) + i * GAMMA), 63)
    return (2 * bit - 1).to(torch.int8).reshape(shape)


# -- arguments and output ----------------------------------------------------------------

def check_run_args(sweeps, chains, seed, start) -> None:
    for name, value, low in (("sweeps", sweeps, 1), ("chains", chains, 1)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
            raise InvalidGameError(f"Ising sampler: {name} must be an int >= {low}, got {value!r}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise InvalidGameError(f"Ising sampler: seed must be an int, got {seed!r}")
    if start not in ("hot", "cold"):
        raise InvalidGameError(f"Ising sampler: start must be 'hot' or 'cold', got {start!r}")


def check_batch(spins: torch.Tensor, beta, *, checkerboard: bool) -> tuple[int, torch.Tensor]:
    """Validate ``step``'s arguments; return L and β as a float64 CPU tensor of the
    batch shape ``spins.shape[:-2]``."""
    if not isinstance(spins, torch.Tensor) or spins.dim() < 2 or spins.shape[-1] != spins.shape[-2]:
        got = tuple(spins.shape) if isinstance(spins, torch.Tensor) else type(spins).__name__
        raise InvalidGameError(f"Ising step: spins must be a tensor (..., L, L), got {got}")
    if spins.dtype != torch.int8:
        raise InvalidGameError(f"Ising step: spins must be int8 (±1), got {spins.dtype}")
    L = int(spins.shape[-1])
    if L < 2:
        raise InvalidGameError(f"Ising lattice: L must be >= 2, got {L}")
    if checkerboard and L % 2:
        raise InvalidGameError(f"Ising lattice: a checkerboard update needs an even L (the "
                               f"periodic {L}x{L} lattice is not bipartite), got L={L}")
    b = torch.as_tensor(beta, dtype=torch.float64).detach().cpu()
    try:
        b = b.broadcast_to(spins.shape[:-2])
    except RuntimeError:
        raise InvalidGameError(f"Ising step: beta of shape {tuple(b.shape)} does not broadcast "
                               f"to the batch shape {tuple(spins.shape[:-2])}") from None
    if not torch.isfinite(b).all() or (b <= 0).any():
        raise InvalidGameError("Ising step: beta must be finite and > 0")
    return L, b


def check_coupling(coupling, field) -> tuple[float, float]:
    for name, value in (("coupling", coupling), ("field", field)):
        if not torch.isfinite(torch.tensor(float(value))):
            raise InvalidGameError(f"Ising parameters: {name} = {value!r} is not finite")
    return float(coupling), float(field)


def samples_from_sums(m: torch.Tensor, bonds: torch.Tensor, n_temps: int, chains: int,
                      L: int, coupling: float, field: float) -> IsingSamples:
    """IsingSamples from per-sweep sums ``(sweeps, B)`` (B = T·chains, temperature-major):
    M = Σ s_i and Σ_⟨ij⟩ s_i s_j, both exact integers."""
    n = float(L * L)
    m = m.to(torch.float64)
    bonds = bonds.to(torch.float64)
    energy = (-coupling * bonds - field * m) / n
    shape = (n_temps, chains, m.shape[0])
    return IsingSamples(energy=energy.T.reshape(shape).contiguous(),
                        magnetization=(m / n).T.reshape(shape).contiguous())


def neighbours(L: int) -> torch.Tensor:
    """``(N, 4)`` flat indices of the up, down, left and right neighbours on the torus
    (repeated for L = 2: each of those is two distinct bonds)."""
    idx = torch.arange(L * L).reshape(L, L)
    return torch.stack([idx.roll(1, 0), idx.roll(-1, 0), idx.roll(1, 1), idx.roll(-1, 1)],
                       -1).reshape(L * L, 4)


class SimulatedSampler:
    """``sample`` for samplers whose ``simulate`` returns (samples, final spins)."""

    def sample(self, L: int, temperatures, *, coupling: float = 1.0, field: float = 0.0,
               sweeps: int, chains: int, seed: int, device="cpu",
               start: str = "hot") -> IsingSamples:
        """Energy and magnetisation per spin after every sweep, ``(T, chains, sweeps)``."""
        return self.simulate(L, temperatures, coupling=coupling, field=field, sweeps=sweeps,
                             chains=chains, seed=seed, device=device, start=start)[0]

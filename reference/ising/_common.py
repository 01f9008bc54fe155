"""What the reference Ising samplers share: argument checks, hot starts from the
counter-based random numbers, and the output (the acceptance rules are in `rules`, the
neighbour table is `mfcheck.ising.neighbours`)."""

from __future__ import annotations

import numbers

import torch

from mfcheck.counter_rng import GAMMA, logical_shift_right, mix64
from mfcheck.errors import InvalidGameError
from mfcheck.ising import IsingSamples

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


class SimulatedSampler:
    """``sample`` for samplers whose ``simulate`` returns (samples, final spins)."""

    def sample(self, L: int, temperatures, *, coupling: float = 1.0, field: float = 0.0,
               sweeps: int, chains: int, seed: int, device="cpu",
               start: str = "hot") -> IsingSamples:
        """Energy and magnetisation per spin after every sweep, ``(T, chains, sweeps)``."""
        return self.simulate(L, temperatures, coupling=coupling, field=field, sweeps=sweeps,
                             chains=chains, seed=seed, device=device, start=start)[0]

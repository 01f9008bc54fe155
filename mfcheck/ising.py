"""The Ising model on an L×L periodic square lattice, and what samplers return.

Spins s_i = ±1, energy E(s) = −J Σ_⟨ij⟩ s_i s_j − h Σ_i s_i (each nearest-neighbour
pair once, 2N pairs on the torus), magnetisation M = Σ_i s_i; k_B = 1, T = 1/β.

A sampler implements `mfcheck.protocols.Sampler` and returns `IsingSamples`; the harness
validates them with `mfcheck.boundary.check_samples`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .errors import InvalidGameError

Tensor = torch.Tensor


@dataclass(frozen=True)
class IsingSamples:
    """Per-sweep observables: ``energy`` and ``magnetization`` per spin (signed), each of
    shape ``(n_temperatures, chains, sweeps)``, float64 on any device."""

    energy: Tensor
    magnetization: Tensor


def energy(spins: Tensor, coupling: float = 1.0, field: float = 0.0) -> Tensor:
    """Total energy of configurations ``(..., L, L)`` of ±1 spins (periodic)."""
    s = spins.to(torch.float64)
    bonds = (s * s.roll(1, -1)).sum((-2, -1)) + (s * s.roll(1, -2)).sum((-2, -1))
    return -coupling * bonds - field * s.sum((-2, -1))


def magnetization(spins: Tensor) -> Tensor:
    """Total magnetisation of configurations ``(..., L, L)``."""
    return spins.to(torch.float64).sum((-2, -1))


def neighbours(L: int) -> Tensor:
    """``(N, 4)`` flat indices (i·L + j) of the up, down, left and right neighbours of each
    site of the L×L torus (repeated for L = 2: each of those is two distinct bonds)."""
    idx = torch.arange(L * L).reshape(L, L)
    return torch.stack([idx.roll(1, 0), idx.roll(-1, 0), idx.roll(1, 1), idx.roll(-1, 1)],
                       -1).reshape(L * L, 4)


def check_parameters(L: int, temperatures, coupling: float, field: float,
                     *, checkerboard: bool) -> Tensor:
    """Validate sampler arguments; return the temperatures as a float64 CPU tensor."""
    if not isinstance(L, int) or L < 2:
        raise InvalidGameError(f"Ising lattice: L must be an int >= 2, got {L!r}")
    if checkerboard and L % 2:
        raise InvalidGameError(f"Ising lattice: a checkerboard update needs an even L (the "
                               f"periodic {L}x{L} lattice is not bipartite), got L={L}")
    temps = torch.as_tensor(temperatures, dtype=torch.float64).reshape(-1)
    for name, value in (("coupling", coupling), ("field", field)):
        if not torch.isfinite(torch.tensor(float(value))):
            raise InvalidGameError(f"Ising parameters: {name} = {value!r} is not finite")
    if temps.numel() == 0 or not torch.isfinite(temps).all() or (temps <= 0).any():
        raise InvalidGameError(f"Ising parameters: temperatures must be finite and > 0, "
                               f"got {temps.tolist()}")
    return temps


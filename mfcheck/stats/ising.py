"""Estimators of Ising observables from MCMC series (per spin, k_B = 1), with block-jackknife
standard errors (`mfcheck.stats.mcmc.jackknife_blocks`): the specific heat and the Binder
cumulant. Series have time on the last axis, shape (n,) or independent chains (chains, n).
"""

from __future__ import annotations

from typing import Any

from ._arrays import chains as _chains
from .mcmc import JackknifeEstimate, jackknife_blocks

__all__ = ["binder_cumulant_estimate", "specific_heat_estimate"]


def specific_heat_estimate(energy_per_spin: Any, T: float, N: int, *,
                           n_blocks: int | None = None) -> JackknifeEstimate:
    """Specific heat per spin from the energy per spin e: C/N = N (⟨e²⟩ − ⟨e⟩²)/T² (k_B = 1),
    with the block-jackknife SE (``jackknife_blocks`` on d and d², d = e − ē: the variance
    is shift-invariant, and centring avoids cancellation when |ē| ≫ std(e))."""
    e = _chains(energy_per_spin)
    d = e - e.mean()
    scale = float(N) / float(T) ** 2
    return jackknife_blocks(lambda m1, m2: scale * (m2 - m1 * m1), d, d * d, n_blocks=n_blocks)



def binder_cumulant_estimate(magnetization: Any, *, n_blocks: int | None = None
                             ) -> JackknifeEstimate:
    """Binder cumulant U₄ = 1 − ⟨m⁴⟩/(3⟨m²⟩²) with the block-jackknife SE."""
    m = _chains(magnetization)
    m2 = m * m
    return jackknife_blocks(lambda a, b: 1.0 - b / (3.0 * a * a), m2, m2 * m2, n_blocks=n_blocks)

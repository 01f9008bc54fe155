"""How far N agents' empirical distribution lies from the law they are drawn from: the
prefactor c of E‖μ̂_N − μ‖₁ ≈ c/√N (docs/approximation_rate.md; docs/references.md,
"Mean-field approximation rate"). Shared by the ``approximation-rate`` suite (the rate's
prediction) and the ``sync-async`` suite (its equivalence margins)."""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = ["binomial_prefactor", "l1_prefactor"]


def l1_prefactor(variances: Tensor) -> float:
    """c in E‖μ̂_N − μ‖₁ ≈ c/√N when √N(μ̂_N − μ) is Gaussian with these variances (per state):
    Σ_s √(2 Var_s/π), as E|Z| = √(2/π) for a standard normal Z."""
    return float(torch.sqrt(2 * variances.clamp(min=0) / math.pi).sum())


def binomial_prefactor(mu: Tensor) -> float:
    """c in E‖μ̂_N − μ‖₁ ≈ c/√N for N independent draws from μ: Σ_s √(2μ_s(1 − μ_s)/π)
    (each count is Binomial(N, μ_s))."""
    return l1_prefactor(mu * (1 - mu))

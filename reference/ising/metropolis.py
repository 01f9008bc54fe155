"""`CheckerboardMetropolis`: checkerboard single-spin Metropolis (see `checkerboard`)."""

from __future__ import annotations

from .rules import metropolis
from .checkerboard import CheckerboardSampler


class CheckerboardMetropolis(CheckerboardSampler):
    """Checkerboard Metropolis: each site flips with probability min(1, exp(−βΔE)),
    ΔE = 2 s_i (J Σ_nbr s_j + h); black sites, then white sites (one sweep = N attempts).

    Even L only. Any torch device; on CPU a fused C kernel when a compiler is available
    (``backend="auto"``), bit-identical to the torch code. Flip probabilities are
    quantised to integers out of 2^31 (absolute error ≤ 2^-32).
    """

    name = "checkerboard-metropolis"
    rule = staticmethod(metropolis)

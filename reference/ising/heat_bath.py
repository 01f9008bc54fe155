"""`CheckerboardHeatBath`: checkerboard heat-bath (Glauber) updates (see `checkerboard`)."""

from __future__ import annotations

from .rules import heat_bath
from .checkerboard import CheckerboardSampler


class CheckerboardHeatBath(CheckerboardSampler):
    """Checkerboard heat bath: each site becomes +1 with probability
    1/(1 + exp(−2β(J Σ_nbr s_j + h))), i.e. flips with probability 1/(1 + exp(βΔE));
    black sites, then white sites (one sweep = N updates).

    Even L only. Any torch device; on CPU a fused C kernel when a compiler is available
    (``backend="auto"``), bit-identical to the torch code. Probabilities are quantised to
    integers out of 2^31 (absolute error ≤ 2^-32).
    """

    name = "checkerboard-heat-bath"
    rule = staticmethod(heat_bath)

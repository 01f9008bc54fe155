"""Fictitious play (Perrin et al. 2020), as OpenSpiel's ``FictitiousPlay`` computes it.

π_k is the population average of π_{k−1} and the exact best response β_k to μ^{π_{k−1}}
with weights k/(k+1) and 1/(k+1) (OpenSpiel's default learning rate), averaged through
the populations (``MergedPolicy``). That is fixed-point iteration with damping 1 and
decay 1, so it is written as one (and starts where
FixedPoint does: at ``initial_policy`` when given).
"""

from __future__ import annotations

from .fixed_point import FixedPoint


class FictitiousPlay(FixedPoint):
    def __init__(self, temperature: float = 0.0, name: str = "fictitious-play") -> None:
        super().__init__(temperature=temperature, damping=1.0, decay=1.0, name=name)

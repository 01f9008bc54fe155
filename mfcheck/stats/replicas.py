"""Independent replicates (seeds): the mean and its standard error across them, with
Student's t on k − 1 degrees of freedom (the learners' honest standard error)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats as _st

from mfcheck.check import FALSE_FAILURE_RATE

from ._arrays import as_array as _as_array
from ._arrays import check_rate as _check_rate
from ._arrays import out as _out

__all__ = ["ReplicateEstimate", "across_seeds"]


@dataclass(frozen=True)
class ReplicateEstimate:
    """Mean and SE over k independent replicates (seeds): SE = s/√k with s the sample
    standard deviation (ddof = 1); inference with Student's t on k − 1 degrees of freedom.
    Fields are floats for values of shape (k,), arrays for (k, ...)."""

    mean: Any
    standard_error: Any
    k: int
    dof: int

    def critical_value(self, false_failure_rate: float = FALSE_FAILURE_RATE) -> float:
        """t_{k−1}⁻¹(1 − α/2): |mean − expected| ≤ this·SE fails with probability α."""
        return float(_st.t.isf(_check_rate(false_failure_rate) / 2, self.dof))

    def confidence_interval(self, confidence: float = 0.95) -> tuple[Any, Any]:
        h = self.critical_value(1.0 - confidence) * np.asarray(self.standard_error)
        return _out(self.mean - h), _out(self.mean + h)

    def one_sided_half_width(self, false_failure_rate: float = FALSE_FAILURE_RATE
                             ) -> Any:
        """t_{k−1}⁻¹(1 − α)·SE: the true mean exceeds mean + this (or falls below mean −
        this) with probability α, for normal replicates."""
        return _out(self.critical_value(2 * _check_rate(false_failure_rate))
                    * np.asarray(self.standard_error))


def across_seeds(values: Any) -> ReplicateEstimate:
    """Mean and SE of independent replicates along axis 0 (one value per seed).

    SE = s/√k, s² = Σ(v_i − v̄)²/(k − 1); (v̄ − μ)/SE ~ t_{k−1} for normal replicates.
    Pass ``dof=est.dof`` to ``z_test`` to use the t threshold.
    """
    v = _as_array(values)
    if v.ndim == 0 or v.shape[0] < 2:
        raise ValueError("need at least 2 replicates along axis 0")
    if not np.all(np.isfinite(v)):
        raise ValueError("the replicates contain NaN or infinite values")
    k = v.shape[0]
    return ReplicateEstimate(_out(v.mean(axis=0)), _out(v.std(axis=0, ddof=1) / math.sqrt(k)),
                             k, k - 1)

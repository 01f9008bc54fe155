"""Straight-line fits with the confidence interval of the slope: a rate (error ∝ N^p) is a
fitted slope in log–log with its interval, never two points."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats as _st

from ._arrays import as_array as _as_array
from .tests import _critical

__all__ = ["SlopeFit", "fit_slope"]


@dataclass(frozen=True)
class SlopeFit:
    """Straight-line fit y = intercept + slope·x. ``interval`` is the ``confidence``
    interval of the slope (slope ± critical·slope_se); ``dof`` = n − 2 (Student's t) for
    unknown noise, ∞ (normal) for given σ. ``chi2`` = Σ r²/σ² (given σ; its p-value
    ``fit_p_value`` tests the straight-line model) or the residual sum of squares."""

    slope: float
    intercept: float
    slope_se: float
    intercept_se: float
    covariance: float
    dof: float
    confidence: float
    critical_value: float
    interval: tuple[float, float]
    chi2: float
    fit_p_value: float


def fit_slope(x: Any, y: Any, sigma: Any = None, confidence: float = 0.95) -> SlopeFit:
    """Least-squares line through (x_i, y_i) with the SE and confidence interval of the slope.

    σ unknown (``sigma=None``): ordinary least squares, s² = RSS/(n − 2),
    SE(slope) = s/√Σ(x − x̄)², interval with t_{n−2} (exact for iid normal noise).
    σ given (per-point standard errors, absolute): weighted least squares, weights 1/σ²,
    cov = (XᵀWX)⁻¹, normal critical value; chi2 = Σ r²/σ² on n − 2 dof checks the model.
    For a rate error ∝ N^p fit log(error) against log(N) with σ = SE(error)/error.
    """
    xs, ys = _as_array(x).ravel(), _as_array(y).ravel()
    if xs.shape != ys.shape:
        raise ValueError(f"x and y differ in length: {xs.size} vs {ys.size}")
    if not (np.all(np.isfinite(xs)) and np.all(np.isfinite(ys))):
        raise ValueError("x and y must be finite")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    n = xs.size
    if n < 2 or np.ptp(xs) == 0:
        raise ValueError("x needs at least two distinct values")
    if sigma is None:
        if n < 3:
            raise ValueError("an unweighted fit needs at least 3 points (an error estimate)")
        w = np.ones(n)
    else:
        s = np.broadcast_to(_as_array(sigma), xs.shape)
        if np.any(~(s > 0)) or not np.all(np.isfinite(s)):
            raise ValueError("sigma must be positive and finite")
        w = 1.0 / s ** 2
    sw = w.sum()
    xbar, ybar = (w * xs).sum() / sw, (w * ys).sum() / sw
    sxx = (w * (xs - xbar) ** 2).sum()
    slope = float((w * (xs - xbar) * (ys - ybar)).sum() / sxx)
    intercept = float(ybar - slope * xbar)
    resid = ys - intercept - slope * xs
    chi2 = float((w * resid ** 2).sum())
    if sigma is None:
        dof = float(n - 2)
        scale = chi2 / dof
        fit_p = math.nan
    else:
        dof = math.inf
        scale = 1.0
        fit_p = float(_st.chi2.sf(chi2, n - 2)) if n > 2 else math.nan
    var_slope = scale / sxx
    var_icpt = scale * (1.0 / sw + xbar ** 2 / sxx)
    cov = -scale * xbar / sxx
    crit = _critical(1.0 - confidence, dof)
    se = math.sqrt(var_slope)
    return SlopeFit(slope, intercept, se, math.sqrt(var_icpt), float(cov), dof, float(confidence),
                    crit, (slope - crit * se, slope + crit * se), chi2, fit_p)

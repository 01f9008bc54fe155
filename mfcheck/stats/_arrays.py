"""Input conversion and validation shared by the estimators and tests of `mfcheck.stats`."""

from __future__ import annotations

from typing import Any

import numpy as np


def as_array(x: Any) -> np.ndarray:
    """float64 numpy copy-or-view of an array-like or a torch tensor."""
    if hasattr(x, "detach") and hasattr(x, "cpu"):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=np.float64)


def as_float(x: Any, name: str) -> float:
    a = as_array(x)
    if a.size != 1:
        raise ValueError(f"{name} must be a single number, got shape {a.shape}")
    return float(a.reshape(()))


def series(x: Any, *, min_length: int = 2) -> np.ndarray:
    """A series: time on the last axis, finite, at least ``min_length`` samples."""
    a = as_array(x)
    if a.ndim == 0:
        raise ValueError("a series needs a time axis (the last axis); got a scalar")
    if a.shape[-1] < min_length:
        raise ValueError(f"a series needs at least {min_length} samples along its last axis, "
                         f"got {a.shape[-1]}")
    if not np.all(np.isfinite(a)):
        raise ValueError("the series contains NaN or infinite values")
    return a


def chains(x: Any) -> np.ndarray:
    """(chains, n) view of a single series (n,) or of independent chains (chains, n)."""
    a = series(x)
    if a.ndim == 1:
        return a[None, :]
    if a.ndim != 2:
        raise ValueError(f"expected one series (n,) or chains (chains, n), got shape {a.shape}")
    return a


def out(a: np.ndarray) -> Any:
    """A float for a 0-d result, else the array."""
    a = np.asarray(a)
    return a.item() if a.ndim == 0 else a


def check_rate(alpha: float) -> float:
    alpha = float(alpha)
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"a false-failure rate must lie in (0, 1), got {alpha}")
    return alpha

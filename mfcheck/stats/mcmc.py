"""Estimators for Markov chain Monte Carlo series: autocorrelation, the integrated
autocorrelation time, the mean with its autocorrelation-corrected standard error over
independent chains, and the block jackknife for nonlinear functions of means.

A *series* has time on its **last axis**; leading axes index independent series (chains).
numpy arrays and torch tensors are accepted; everything is computed in float64 with
numpy/scipy. τ_int = 1/2 + Σ_{t≥1} ρ(t), so var(mean) ≈ 2 τ_int σ²/n (Sokal 1997; Madras &
Sokal 1988; docs/statistics.md). Sources: A. D. Sokal, Cargèse lectures (1996/1997);
N. Madras & A. D. Sokal, J. Stat. Phys. 50, 109 (1988); B. Efron, "The jackknife, the
bootstrap and other resampling plans" (SIAM, 1982).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import fft as _fft

from ._arrays import chains as _chains
from ._arrays import out as _out
from ._arrays import series as _series

__all__ = ["AutocorrelationTime", "JackknifeEstimate", "MeanEstimate", "autocorrelation",
           "autocovariance", "conservative_mean", "integrated_autocorrelation_time",
           "jackknife_blocks", "mean_with_error"]


def autocovariance(x: Any) -> np.ndarray:
    """Autocovariance C(t) = (1/n) Σ_{s=0}^{n-1-t} (x_s − x̄)(x_{s+t} − x̄), t = 0 … n−1.

    Along the last axis, batched over leading axes; by FFT with zero padding to ≥ 2n (no
    circular wrap), O(n log n). The 1/n (not 1/(n−t)) normalisation is the usual biased
    estimator: positive semi-definite and of lower variance at large lags (Sokal 1997, §3).
    """
    a = _series(x)
    n = a.shape[-1]
    d = a - a.mean(axis=-1, keepdims=True)
    m = _fft.next_fast_len(2 * n, real=True)
    f = _fft.rfft(d, n=m, axis=-1)
    return _fft.irfft(f.real ** 2 + f.imag ** 2, n=m, axis=-1)[..., :n] / n


def autocorrelation(x: Any) -> np.ndarray:
    """Normalised autocorrelation ρ(t) = C(t)/C(0) (last axis); ρ ≡ 0 beyond t = 0 for a
    constant series (C(0) = 0), which then counts as uncorrelated."""
    c = autocovariance(x)
    c0 = c[..., :1]
    rho = np.zeros_like(c)
    rho[..., 0] = 1.0
    np.divide(c, c0, out=rho, where=c0 > 0)
    return rho


@dataclass(frozen=True)
class AutocorrelationTime:
    """τ_int per series (a float for one series, an array over the leading axes otherwise).

    ``variance`` is the Madras–Sokal estimate var(τ̂) ≈ 2(2W+1)/n · τ²; ``window`` the W
    chosen; ``reliable`` says a window was found and n ≥ 50 τ (below that, the estimate
    itself is unreliable; Sokal recommends n ≳ 1000 τ for a good one).
    """

    tau: Any
    variance: Any
    window: Any
    n: int
    reliable: Any

    @property
    def standard_error(self) -> Any:
        return _out(np.sqrt(self.variance))


def integrated_autocorrelation_time(x: Any, c: float = 5.0) -> AutocorrelationTime:
    """Integrated autocorrelation time with Sokal's automatic window.

    τ(W) = 1/2 + Σ_{t=1}^{W} ρ(t); the window W is the smallest W ≥ 1 with W ≥ c·τ(W)
    (Sokal 1997, §3; c = 5 for nearly exponential decay, use larger c for slower tails),
    and τ_int = τ(W). If no W < n satisfies it, W = n − 1 and ``reliable`` is False.
    With this convention var(x̄) ≈ 2 τ_int σ²/n; iid data give τ_int ≈ 1/2.
    Variance (Madras & Sokal 1988): var(τ̂) ≈ 2(2W + 1)/n · τ_int².

    ``x`` has shape (..., n); the result is per leading index. The raw windowed estimate is
    returned: for anticorrelated series it can fall below 1/2 (even ≤ 0) and is then not
    trustworthy; ``mean_with_error`` floors it at 1/2 (and its ESS).
    """
    if not c > 0:
        raise ValueError(f"the window factor c must be positive, got {c}")
    rho = autocorrelation(x)
    n = rho.shape[-1]
    taus = np.cumsum(rho, axis=-1) - 0.5  # taus[..., W] = 1/2 + Σ_{t=1}^{W} ρ(t)
    lags = np.arange(n)
    ok = (lags >= c * taus) & (lags >= 1)
    found = ok.any(axis=-1)
    window = np.where(found, ok.argmax(axis=-1), n - 1)
    tau = np.take_along_axis(taus, window[..., None], axis=-1)[..., 0]
    variance = 2.0 * (2 * window + 1) / n * tau ** 2
    reliable = found & (n >= 50 * tau)
    return AutocorrelationTime(_out(tau), _out(variance), _out(window), n, _out(reliable))



@dataclass(frozen=True)
class MeanEstimate:
    """A mean with its autocorrelation-corrected standard error.

    ``tau_int`` is the average over chains of the per-chain τ_int (floored at 1/2),
    ``tau_per_chain`` the values; ``n`` the samples used (all chains);
    ``ess`` = Σ_c n_c/(2τ_c). ``between_chain_standard_error`` = std(chain means)/√chains
    (NaN for one chain) is a diagnostic: much larger than ``standard_error`` means the
    chains did not sample the same distribution (not mixed, stuck in different modes).
    ``reliable`` is ``AutocorrelationTime.reliable`` for every chain (n ≥ 50 τ_int).
    """

    mean: float
    standard_error: float
    tau_int: float
    n: int
    ess: float
    chains: int = 1
    tau_per_chain: tuple[float, ...] = ()
    between_chain_standard_error: float = math.nan
    reliable: bool = True


def mean_with_error(x: Any, *, c: float = 5.0) -> MeanEstimate:
    """Mean and standard error of one chain (n,) or of independent chains (chains, n).

    Nothing is discarded: drop the burn-in before (``x[..., burn_in:]``) and say what you drop.
    Per chain c: m_c = x̄_c, var(m_c) = 2 τ_c σ_c²/n (σ_c² the biased sample variance,
    τ_c from ``integrated_autocorrelation_time`` floored at 1/2). Chains are independent and
    of equal length, so the pooled mean m = (1/k) Σ m_c has SE² = Σ_c var(m_c) / k².
    """
    a = _chains(x)
    k, n = a.shape
    act = integrated_autocorrelation_time(a, c)
    tau = np.maximum(np.atleast_1d(act.tau), 0.5)
    var_c = 2.0 * tau * a.var(axis=-1) / n
    means = a.mean(axis=-1)
    between = float(means.std(ddof=1) / math.sqrt(k)) if k > 1 else math.nan
    return MeanEstimate(mean=float(means.mean()), standard_error=float(math.sqrt(var_c.sum()) / k),
                        tau_int=float(tau.mean()), n=k * n, ess=float((n / (2.0 * tau)).sum()),
                        chains=k, tau_per_chain=tuple(float(t) for t in tau),
                        between_chain_standard_error=between,
                        reliable=bool(np.all(act.reliable)))


def conservative_mean(x: Any) -> tuple[float, float, float | None]:
    """(mean, SE, dof) of independent chains ``(chains, n)`` (or one chain ``(n,)``) for a
    z-test: the autocorrelation-corrected SE of ``mean_with_error``, or the between-chain SE
    with chains − 1 degrees of freedom when that is larger or τ_int is not reliable (it does
    not rely on estimating τ_int, so a chain too short to estimate τ is still honest).
    ``dof`` is None for the autocorrelation-corrected SE (a normal threshold)."""
    est = mean_with_error(x)
    between = est.between_chain_standard_error
    if est.chains > 1 and (between > est.standard_error or not est.reliable):
        return est.mean, between, est.chains - 1
    return est.mean, est.standard_error, None



@dataclass(frozen=True)
class JackknifeEstimate:
    """A nonlinear function of means with its block-jackknife SE.

    ``value`` = f(full-sample means); ``bias_corrected`` = B·value − (B − 1)·mean(θ_j);
    ``standard_error`` = √((B − 1)/B · Σ_j (θ_j − θ̄)²); ``dof`` = B − 1 (use Student's t
    with it: few blocks give a noisy SE). ``n_blocks`` B counts blocks over all chains.
    """

    value: Any
    bias_corrected: Any
    standard_error: Any
    n_blocks: int
    block_size: int
    dof: int


def _auto_blocks(series: Sequence[np.ndarray], c: float) -> int:
    chains, n = series[0].shape
    tau = max(float(np.max(np.maximum(np.atleast_1d(integrated_autocorrelation_time(s, c).tau),
                                      0.5))) for s in series)
    per_chain = min(n // math.ceil(20 * tau), max(1, 64 // chains))
    return max(per_chain, 1) if chains > 1 else per_chain


def jackknife_blocks(f: Callable[..., Any], *series: Any, n_blocks: int | None = None,
                     c: float = 5.0) -> JackknifeEstimate:
    """Block jackknife of θ = f(x̄₁, x̄₂, …) for series sampled together (Efron 1982).

    Each series has shape (n,) or (chains, n) (all the same shape; e.g. e and e² for the
    specific heat). Each chain is cut into ``n_blocks`` blocks of b = ⌊n/n_blocks⌋ samples
    (the first n mod n_blocks samples are dropped, as extra burn-in); θ_j = f of the means
    with block j left out (B = chains·n_blocks leave-one-out estimates); SE² =
    (B−1)/B Σ(θ_j − θ̄)². Blocks must be much longer than τ_int for the blocks to be nearly
    independent. Default ``n_blocks``: blocks of at least 20·τ_max (the largest τ_int of the
    series), at most 64 blocks in all; with several chains a chain may be one block.
    ``f`` is called with floats, B + 1 times.
    """
    if not series:
        raise ValueError("jackknife_blocks needs at least one series")
    arrs = [_chains(s) for s in series]
    if any(s.shape != arrs[0].shape for s in arrs):
        raise ValueError(f"all series must have the same shape, got {[s.shape for s in arrs]}")
    chains, n = arrs[0].shape
    nb = _auto_blocks(arrs, c) if n_blocks is None else int(n_blocks)
    if nb < 1 or chains * nb < 2:
        raise ValueError(f"need at least 2 blocks in all (chains × n_blocks), got {chains} × {nb}: "
                         "the series is too short for blocks of 20 τ_int; run longer")
    b = n // nb
    if b < 1:
        raise ValueError(f"n_blocks = {nb} exceeds the series length {n}")
    start = n - nb * b
    sums = [s[:, start:].reshape(chains, nb, b).sum(axis=-1).ravel() for s in arrs]
    total_b = chains * nb
    total_n = total_b * b
    full = [float(s.sum() / total_n) for s in sums]
    theta = np.asarray(f(*full), dtype=float)
    loo = np.stack([np.asarray(f(*[float((s.sum() - s[j]) / (total_n - b)) for s in sums]),
                               dtype=float) for j in range(total_b)])
    mean_loo = loo.mean(axis=0)
    se = np.sqrt((total_b - 1) / total_b * ((loo - mean_loo) ** 2).sum(axis=0))
    return JackknifeEstimate(_out(theta), _out(total_b * theta - (total_b - 1) * mean_loo),
                             _out(se), total_b, b, total_b - 1)

"""Statistics for stochastic checks: honest standard errors and tests with a stated
false-failure rate.

Conventions (see ``docs/statistics.md``):

- A *series* is an array whose **last axis is time** (Monte Carlo sweeps, iterations);
  leading axes index independent series (chains). numpy arrays and torch tensors are
  accepted (tensors are converted with ``.detach().cpu().numpy()``); everything is
  computed in float64 with numpy/scipy. Importing this module does not import torch.
- The integrated autocorrelation time is τ_int = 1/2 + Σ_{t≥1} ρ(t), so that for a
  stationary series var(mean) ≈ 2 τ_int σ²/n and the effective sample size is n/(2 τ_int)
  (Sokal 1997; Madras & Sokal 1988). iid data have τ_int = 1/2.
- A test with false-failure rate α rejects a true null hypothesis with probability α
  (asymptotically): a two-sided z-test passes when |z| ≤ Φ⁻¹(1 − α/2).

Sources: A. D. Sokal, "Monte Carlo methods in statistical mechanics: foundations and new
algorithms" (Cargèse lectures, 1996/1997); N. Madras & A. D. Sokal, J. Stat. Phys. 50, 109
(1988); H. Flyvbjerg & H. G. Petersen, J. Chem. Phys. 91, 461 (1989); B. Efron, "The
jackknife, the bootstrap and other resampling plans" (SIAM, 1982); J. N. K. Rao &
A. J. Scott, Ann. Stat. 12, 46 (1984); J. Geweke, Bayesian Statistics 4 (1992).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import fft as _fft
from scipy import stats as _st

__all__ = [
    "DEFAULT_FALSE_FAILURE_RATE", "AutocorrelationTime", "BlockingEstimate", "ChiSquareTestResult",
    "JackknifeEstimate", "MeanEstimate", "ReplicateEstimate", "SlopeFit", "ZTestResult",
    "across_seeds", "autocorrelation", "autocovariance", "binder_cumulant_estimate",
    "blocking_standard_error", "bonferroni", "chi_square_test", "chi_square_test_series",
    "discard_burn_in", "effective_sample_size", "fit_slope", "geweke_z",
    "integrated_autocorrelation_time", "jackknife_blocks", "mean_with_error",
    "merge_sparse_bins", "specific_heat_estimate", "susceptibility_estimate",
    "two_sample_z_test", "z_test",
]

#: Default false-failure rate of a stochastic check (the same number as
#: ``mfcheck.check.FALSE_FAILURE_RATE``; repeated here so that this module needs no torch).
DEFAULT_FALSE_FAILURE_RATE = 1e-4


# ----------------------------------------------------------------------------- helpers

def _as_array(x: Any) -> np.ndarray:
    """float64 numpy copy-or-view of an array-like or a torch tensor."""
    if hasattr(x, "detach") and hasattr(x, "cpu"):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=np.float64)


def _as_float(x: Any, name: str) -> float:
    a = _as_array(x)
    if a.size != 1:
        raise ValueError(f"{name} must be a single number, got shape {a.shape}")
    return float(a.reshape(()))


def _series(x: Any, *, min_length: int = 2) -> np.ndarray:
    a = _as_array(x)
    if a.ndim == 0:
        raise ValueError("a series needs a time axis (the last axis); got a scalar")
    if a.shape[-1] < min_length:
        raise ValueError(f"a series needs at least {min_length} samples along its last axis, "
                         f"got {a.shape[-1]}")
    if not np.all(np.isfinite(a)):
        raise ValueError("the series contains NaN or infinite values")
    return a


def _chains(x: Any) -> np.ndarray:
    """(chains, n) view of a single series (n,) or of independent chains (chains, n)."""
    a = _series(x)
    if a.ndim == 1:
        return a[None, :]
    if a.ndim != 2:
        raise ValueError(f"expected one series (n,) or chains (chains, n), got shape {a.shape}")
    return a


def _out(a: np.ndarray) -> Any:
    """A float for a 0-d result, else the array."""
    a = np.asarray(a)
    return a.item() if a.ndim == 0 else a


def _check_rate(alpha: float) -> float:
    alpha = float(alpha)
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"a false-failure rate must lie in (0, 1), got {alpha}")
    return alpha


# ------------------------------------------------------------------ autocorrelation

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
    trustworthy; ``mean_with_error`` and ``effective_sample_size`` floor it at 1/2.
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


def effective_sample_size(x: Any, c: float = 5.0) -> Any:
    """ESS = n / (2 τ_int) per series (last axis = time), with τ_int floored at 1/2
    (so ESS ≤ n: anticorrelation is never credited)."""
    act = integrated_autocorrelation_time(x, c)
    return _out(act.n / (2.0 * np.maximum(act.tau, 0.5)))


# --------------------------------------------------------------------------- burn-in

def discard_burn_in(x: Any, fraction: float = 0.1, *, sweeps: int | None = None) -> np.ndarray:
    """Drop the start of every series (last axis): the first ``sweeps`` samples when given,
    else the first ⌈fraction·n⌉. A fixed, explicit rule — it does not test equilibration;
    use ``geweke_z`` for that diagnostic."""
    a = _as_array(x)
    n = a.shape[-1]
    if sweeps is not None:
        k = int(sweeps)
        if k < 0:
            raise ValueError(f"sweeps must be ≥ 0, got {sweeps}")
    else:
        if not 0.0 <= fraction < 1.0:
            raise ValueError(f"burn-in fraction must lie in [0, 1), got {fraction}")
        k = math.ceil(fraction * n)
    if n - k < 2:
        raise ValueError(f"discarding {k} of {n} samples leaves fewer than 2")
    return a[..., k:]


def _burn(a: Any, burn_in: float | int) -> np.ndarray:
    if isinstance(burn_in, bool):
        raise TypeError("burn_in must be a fraction (float) or a number of samples (int)")
    if isinstance(burn_in, numbers.Integral):
        return discard_burn_in(a, sweeps=int(burn_in))
    return discard_burn_in(a, fraction=float(burn_in))


# ---------------------------------------------------------------------- mean ± error

@dataclass(frozen=True)
class MeanEstimate:
    """A mean with its autocorrelation-corrected standard error.

    ``tau_int`` is the average over chains of the per-chain τ_int (floored at 1/2),
    ``tau_per_chain`` the values; ``n`` the samples used (all chains, after burn-in);
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


def mean_with_error(x: Any, *, burn_in: float | int = 0.0, c: float = 5.0) -> MeanEstimate:
    """Mean and standard error of one chain (n,) or of independent chains (chains, n).

    ``burn_in``: a float is a fraction, an int a number of samples, dropped from the start
    of every chain (``discard_burn_in``); the default drops nothing — say what you drop.
    Per chain c: m_c = x̄_c, var(m_c) = 2 τ_c σ_c²/n (σ_c² the biased sample variance,
    τ_c from ``integrated_autocorrelation_time`` floored at 1/2). Chains are independent and
    of equal length, so the pooled mean m = (1/k) Σ m_c has SE² = Σ_c var(m_c) / k².
    """
    a = _chains(_burn(x, burn_in))
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


def geweke_z(x: Any, first: float = 0.1, last: float = 0.5, c: float = 5.0) -> float:
    """Geweke's stationarity diagnostic (Geweke 1992): z = (m_A − m_B)/√(SE_A² + SE_B²),
    A the first ``first`` fraction and B the last ``last`` fraction of every chain.

    Both SEs use the per-chain τ_int and variance of B, presumed in equilibrium: SE_A² =
    Σ_c 2τ_c σ_c²/n_A / chains². (A trend in A, estimated on A itself, would inflate A's own
    τ and variance and hide itself.) Under stationarity z ≈ N(0, 1); a large |z| says the
    start is not yet in equilibrium. Test it with ``z_test(z, 0, 1)``.
    """
    a = _chains(x)
    k, n = a.shape
    if not (0 < first and 0 < last and first + last <= 1):
        raise ValueError("need 0 < first, 0 < last, first + last ≤ 1")
    ka, kb = int(first * n), int(last * n)
    if ka < 2 or kb < 2:
        raise ValueError("segments too short for the Geweke diagnostic")
    seg_a, seg_b = a[:, :ka], a[:, n - kb:]
    eb = mean_with_error(seg_b, c=c)
    long_run_var = 2.0 * np.asarray(eb.tau_per_chain) * seg_b.var(axis=-1)  # per chain
    se = math.sqrt(float(long_run_var.sum()) * (1.0 / ka + 1.0 / kb)) / k
    diff = float(seg_a.mean()) - eb.mean
    if se == 0:
        return 0.0 if diff == 0 else math.copysign(math.inf, diff)
    return diff / se


@dataclass(frozen=True)
class ReplicateEstimate:
    """Mean and SE over k independent replicates (seeds): SE = s/√k with s the sample
    standard deviation (ddof = 1); inference with Student's t on k − 1 degrees of freedom.
    Fields are floats for values of shape (k,), arrays for (k, ...)."""

    mean: Any
    standard_error: Any
    k: int
    dof: int

    def critical_value(self, false_failure_rate: float = DEFAULT_FALSE_FAILURE_RATE) -> float:
        """t_{k−1}⁻¹(1 − α/2): |mean − expected| ≤ this·SE fails with probability α."""
        return float(_st.t.isf(_check_rate(false_failure_rate) / 2, self.dof))

    def confidence_interval(self, confidence: float = 0.95) -> tuple[Any, Any]:
        h = self.critical_value(1.0 - confidence) * np.asarray(self.standard_error)
        return _out(self.mean - h), _out(self.mean + h)

    def one_sided_half_width(self, false_failure_rate: float = DEFAULT_FALSE_FAILURE_RATE
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


# -------------------------------------------------------------------------- blocking

@dataclass(frozen=True)
class BlockingEstimate:
    """Flyvbjerg–Petersen blocking. ``standard_error`` is the blocked SE at the selected
    level (``block_size`` samples per block, ``n_blocks`` blocks); ``block_sizes``,
    ``standard_errors`` and ``standard_error_errors`` give the whole curve (for plots).
    ``reliable`` is False when no level met the plateau rule or the selected level has
    fewer than 32 blocks (SE error above ~13%): the series is too short for its correlation
    time.
    Batched input gives arrays over the leading axes (the curve gets a trailing axis)."""

    mean: Any
    standard_error: Any
    block_size: Any
    n_blocks: Any
    block_sizes: np.ndarray
    standard_errors: np.ndarray
    standard_error_errors: np.ndarray
    reliable: Any


def _blocking_1d(x: np.ndarray, c: float):
    y = x
    sizes, ses, m_k = [], [], []
    b = 1
    while y.size >= 2:
        m = y.size
        d = y - y.mean()
        sizes.append(b)
        ses.append(math.sqrt(float(d @ d) / m / (m - 1)))
        m_k.append(m)
        h = m // 2
        y = 0.5 * (y[0:2 * h:2] + y[1:2 * h:2])
        b *= 2
    sizes_a, ses_a, m_a = np.asarray(sizes), np.asarray(ses), np.asarray(m_k)
    if ses[0] == 0:  # a constant series: every level gives SE 0
        j, found = 0, True
    else:
        tau_b = ses_a ** 2 / (2 * ses[0] ** 2)  # τ_int implied by the blocked SE
        ok = sizes_a >= c * tau_b
        found = bool(ok.any())
        j = int(np.argmax(ok)) if found else len(sizes) - 1
    return (float(x.mean()), ses[j], sizes[j], m_k[j], sizes_a, ses_a,
            ses_a / np.sqrt(2.0 * (m_a - 1)), found and m_k[j] >= 32)


def blocking_standard_error(x: Any, c: float = 20.0) -> BlockingEstimate:
    """Standard error of the mean by blocking (Flyvbjerg & Petersen 1989).

    Level k replaces the series by the means of adjacent pairs of level k − 1 (block size
    b = 2^k; an odd element at the end is dropped). The blocked SE is SE_b = √(s_b²/(n_b − 1))
    (s_b² the biased variance of the n_b block means), with error SE_b/√(2(n_b − 1)). SE_b
    rises with b and plateaus once blocks are much longer than the correlation time; below
    the plateau the blocked variance is low by a relative ≈ τ/b.

    Plateau rule: the smallest b with b ≥ c·τ_b, where τ_b = SE_b²/(2·SE_1²) is the
    integrated autocorrelation time that the blocked SE itself implies (the blocking
    analogue of Sokal's window rule). The remaining bias of SE is then ≈ −1/(2c)
    (≈ −2.5% at c = 20, measured on AR(1)). Shape (..., n) gives one estimate per
    leading index. ``reliable`` also needs ≥ 32 blocks at the selected level.
    """
    a = _series(x, min_length=4)
    if not c > 0:
        raise ValueError(f"c must be positive, got {c}")
    lead = a.shape[:-1]
    if not lead:
        return BlockingEstimate(*_blocking_1d(a, c))
    rows = [_blocking_1d(a[idx], c) for idx in np.ndindex(*lead)]
    cols = list(zip(*rows))
    shaped = [np.asarray(col).reshape(lead + np.asarray(col[0]).shape) for col in cols]
    return BlockingEstimate(shaped[0], shaped[1], shaped[2], shaped[3], np.asarray(cols[4][0]),
                            shaped[5], shaped[6], shaped[7])


# ------------------------------------------------------------------------- jackknife

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


def specific_heat_estimate(energy_per_spin: Any, T: float, N: int, *,
                           n_blocks: int | None = None) -> JackknifeEstimate:
    """Specific heat per spin from the energy per spin e: C/N = N (⟨e²⟩ − ⟨e⟩²)/T² (k_B = 1),
    with the block-jackknife SE (``jackknife_blocks`` on d and d², d = e − ē: the variance
    is shift-invariant, and centring avoids cancellation when |ē| ≫ std(e))."""
    e = _chains(energy_per_spin)
    d = e - e.mean()
    scale = float(N) / float(T) ** 2
    return jackknife_blocks(lambda m1, m2: scale * (m2 - m1 * m1), d, d * d, n_blocks=n_blocks)


def susceptibility_estimate(magnetization_per_spin: Any, T: float, N: int, *,
                            absolute: bool = True, n_blocks: int | None = None
                            ) -> JackknifeEstimate:
    """Susceptibility per spin χ/N = N (⟨m²⟩ − ⟨|m|⟩²)/T (``absolute=True``, the usual
    finite-lattice estimator in zero field) or N (⟨m²⟩ − ⟨m⟩²)/T; block-jackknife SE
    (computed as N·Var(|m|)/T resp. N·Var(m)/T on the centred series)."""
    m = _chains(magnetization_per_spin)
    first = np.abs(m) if absolute else m
    d = first - first.mean()
    scale = float(N) / float(T)
    return jackknife_blocks(lambda m1, m2: scale * (m2 - m1 * m1), d, d * d, n_blocks=n_blocks)


def binder_cumulant_estimate(magnetization: Any, *, n_blocks: int | None = None
                             ) -> JackknifeEstimate:
    """Binder cumulant U₄ = 1 − ⟨m⁴⟩/(3⟨m²⟩²) with the block-jackknife SE."""
    m = _chains(magnetization)
    m2 = m * m
    return jackknife_blocks(lambda a, b: 1.0 - b / (3.0 * a * a), m2, m2 * m2, n_blocks=n_blocks)


# ---------------------------------------------------------------------------- tests

@dataclass(frozen=True)
class ZTestResult:
    """Two-sided test of measured = expected. ``threshold`` = Φ⁻¹(1 − α/2) (or the t
    quantile with ``dof``); ``tolerance`` = threshold·SE, the allowed |measured − expected|."""

    passed: bool
    z: float
    threshold: float
    p_value: float
    false_failure_rate: float
    measured: float
    expected: float
    standard_error: float
    dof: float
    message: str

    @property
    def tolerance(self) -> float:
        return self.threshold * self.standard_error


def _critical(alpha: float, dof: float | None) -> float:
    if dof is None or math.isinf(dof):
        return float(_st.norm.isf(alpha / 2))
    if not dof > 0:
        raise ValueError(f"degrees of freedom must be positive, got {dof}")
    return float(_st.t.isf(alpha / 2, dof))


def _z_result(measured: float, expected: float, se: float, alpha: float, dof: float | None,
              what: str) -> ZTestResult:
    if not (se >= 0 and math.isfinite(se)):
        raise ValueError(f"the standard error must be finite and ≥ 0, got {se}")
    alpha = _check_rate(alpha)
    threshold = _critical(alpha, dof)
    diff = measured - expected
    if not math.isfinite(diff):
        z = math.nan
    elif se > 0:
        z = diff / se
    else:
        z = 0.0 if diff == 0 else math.copysign(math.inf, diff)
    if math.isnan(z):
        p = 0.0
    elif dof is None or math.isinf(dof):
        p = float(2 * _st.norm.sf(abs(z)))
    else:
        p = float(2 * _st.t.sf(abs(z), dof))
    passed = bool(abs(z) <= threshold)  # False for NaN
    dist = "N(0,1)" if dof is None or math.isinf(dof) else f"t({dof:g})"
    message = (f"{what}: measured {measured:.6g}, expected {expected:.6g}, SE {se:.3g}: "
               f"z = {z:.3g}, {'|z| ≤' if passed else 'FAIL, |z| >'} {threshold:.3g} "
               f"({dist} threshold for false-failure rate {alpha:g}; p = {p:.3g})")
    return ZTestResult(passed, float(z), threshold, p, alpha, measured, expected, se,
                       math.inf if dof is None else float(dof), message)


def z_test(measured: Any, expected: Any, standard_error: Any,
           false_failure_rate: float = DEFAULT_FALSE_FAILURE_RATE, *,
           dof: float | None = None) -> ZTestResult:
    """Two-sided z-test: z = (measured − expected)/SE; passes iff |z| ≤ Φ⁻¹(1 − α/2).

    Under the null (SE honest, estimator unbiased and ~normal) it fails with probability α.
    α = 1e-4 → threshold 3.8906. With ``dof`` (an SE estimated from few replicates or
    blocks) the threshold is Student's t_{dof}⁻¹(1 − α/2). SE = 0 passes only on exact
    equality; a NaN measurement fails.
    """
    return _z_result(_as_float(measured, "measured"), _as_float(expected, "expected"),
                     _as_float(standard_error, "standard_error"), false_failure_rate, dof,
                     "z-test")


def two_sample_z_test(a: Any, se_a: Any, b: Any, se_b: Any,
                      false_failure_rate: float = DEFAULT_FALSE_FAILURE_RATE, *,
                      dof_a: float | None = None, dof_b: float | None = None) -> ZTestResult:
    """Agreement of two independent estimates: z = (a − b)/√(se_a² + se_b²).

    With ``dof_a``/``dof_b`` (SEs from replicates) the threshold uses Student's t with the
    Welch–Satterthwaite dof ν = (se_a² + se_b²)² / (se_a⁴/ν_a + se_b⁴/ν_b) (a missing dof is
    infinite). This tests "no detectable difference", not an equivalence margin (TOST).
    """
    fa, fb = _as_float(a, "a"), _as_float(b, "b")
    sa, sb = _as_float(se_a, "se_a"), _as_float(se_b, "se_b")
    se = math.hypot(sa, sb)
    dof = None
    if dof_a is not None or dof_b is not None:
        denom = sum(s ** 4 / d for s, d in ((sa, dof_a), (sb, dof_b)) if d is not None)
        dof = math.inf if denom == 0 else se ** 4 / denom
    return _z_result(fa, fb, se, false_failure_rate, dof, "two-sample z-test")


def bonferroni(alpha: float, k: int) -> float:
    """Per-test rate α/k so that k tests together fail falsely with probability ≤ α
    (union bound; no independence needed)."""
    if int(k) < 1:
        raise ValueError(f"k must be ≥ 1, got {k}")
    return _check_rate(alpha) / int(k)


@dataclass(frozen=True)
class ChiSquareTestResult:
    """Pearson goodness-of-fit after merging sparse bins.

    ``groups`` lists the original bins in each merged bin; ``observed``/``expected`` are
    merged counts; ``statistic`` is already divided by ``inflation``; ``threshold`` is the
    χ²_{dof} quantile at 1 − α."""

    passed: bool
    statistic: float
    dof: int
    p_value: float
    threshold: float
    false_failure_rate: float
    inflation: float
    n: int
    groups: tuple[tuple[int, ...], ...]
    observed: np.ndarray = field(repr=False)
    expected: np.ndarray = field(repr=False)
    message: str = ""


def merge_sparse_bins(expected_counts: Any, min_expected: float = 5.0) -> list[list[int]]:
    """Partition bins 0 … K−1 (in order) into groups of expected count ≥ ``min_expected``.

    Greedy from the left: add bins to the current group until its expected count reaches
    ``min_expected``, then start a new group; a short last group joins the previous one.
    Adjacent bins are merged, which keeps ordered bins (energies, magnetisations) local.
    The partition depends only on the expected counts, never on the observations, so the
    test keeps its level. Bins of expected count 0 are skipped (not in any group).
    """
    e = _as_array(expected_counts).ravel()
    groups: list[list[int]] = []
    cur: list[int] = []
    acc = 0.0
    for i, v in enumerate(e):
        if v <= 0:
            continue
        cur.append(i)
        acc += v
        if acc >= min_expected:
            groups.append(cur)
            cur, acc = [], 0.0
    if cur:
        if groups:
            groups[-1].extend(cur)
        else:
            groups.append(cur)
    return groups


def _normalised(p: Any) -> np.ndarray:
    p = _as_array(p).ravel()
    if np.any(p < 0) or not np.all(np.isfinite(p)):
        raise ValueError("expected probabilities must be finite and ≥ 0")
    s = p.sum()
    if abs(s - 1.0) > 1e-6:
        raise ValueError(f"expected probabilities must sum to 1, got {s:.9g}")
    return p / s


def _pearson(counts: np.ndarray, p: np.ndarray, alpha: float, min_expected: float,
             inflation: float, ddof: int, groups: list[list[int]] | None = None
             ) -> ChiSquareTestResult:
    n = int(counts.sum())
    impossible = (p == 0) & (counts > 0)
    if np.any(impossible):
        bins = np.flatnonzero(impossible).tolist()
        k = int(counts[impossible].sum())
        return ChiSquareTestResult(False, math.inf, 0, 0.0, math.nan, alpha, inflation, n, (),
                                   counts.copy(), n * p,
                                   f"chi-square: FAIL, {k} samples in bins of probability 0 "
                                   f"(bins {bins[:10]})")
    if groups is None:
        groups = merge_sparse_bins(n * p / inflation, min_expected)
    dof = len(groups) - 1 - ddof
    if dof < 1:
        raise ValueError(f"only {len(groups)} bins of expected effective count ≥ {min_expected} "
                         f"(n = {n}, inflation {inflation:.3g}): too few samples for a "
                         "chi-square test")
    obs = np.array([counts[g].sum() for g in groups], dtype=float)
    exp = np.array([n * p[g].sum() for g in groups])
    stat = float(((obs - exp) ** 2 / exp).sum() / inflation)
    pval = float(_st.chi2.sf(stat, dof))
    threshold = float(_st.chi2.isf(alpha, dof))
    passed = stat <= threshold
    merged = f", {len(p)} bins merged into {len(groups)}" if len(groups) < len(p) else ""
    infl = f", divided by inflation {inflation:.3g}" if inflation != 1 else ""
    message = (f"chi-square: X² = {stat:.4g}{infl} on {dof} dof (n = {n}{merged}): "
               f"{'' if passed else 'FAIL, '}p = {pval:.3g} "
               f"{'≥' if passed else '<'} false-failure rate {alpha:g}")
    return ChiSquareTestResult(bool(passed), stat, dof, pval, threshold, alpha, float(inflation),
                               n, tuple(tuple(g) for g in groups), obs, exp, message)


def chi_square_test(observed_counts: Any, expected_probabilities: Any,
                    false_failure_rate: float = DEFAULT_FALSE_FAILURE_RATE,
                    min_expected: float = 5.0, *, inflation: float = 1.0,
                    ddof: int = 0) -> ChiSquareTestResult:
    """Pearson χ² goodness-of-fit of counts against probabilities, false-failure rate α.

    X² = Σ_g (O_g − E_g)²/E_g over merged bins g (``merge_sparse_bins`` on the effective
    expected counts n·p/inflation ≥ ``min_expected``), dof = groups − 1 − ``ddof``; passes
    iff p = P(χ²_dof > X²) ≥ α. Samples in a bin of probability 0 fail at once.

    Correlated samples (MCMC): bin counts then have variance inflated by ≈ 2τ_int of the
    bin indicators, so X² ≈ Σ λ_k Z_k² with λ_k ≤ λ_max. Pass ``inflation`` = an estimate
    of λ_max (e.g. 2τ_int of the slowest bin indicator, or of the energy); the statistic is
    divided by it, i.e. counts are rescaled to the effective sample size n/inflation. This is
    exact when all λ are equal and conservative otherwise. ``chi_square_test_series``
    estimates it from the sampled series.
    """
    counts = _as_array(observed_counts).ravel()
    if np.any(counts < 0) or np.any(counts != np.round(counts)):
        raise ValueError("observed counts must be non-negative integers")
    p = _normalised(expected_probabilities)
    if counts.shape != p.shape:
        raise ValueError(f"{counts.size} counts but {p.size} probabilities")
    if not inflation > 0:
        raise ValueError(f"inflation must be positive, got {inflation}")
    return _pearson(counts, p, _check_rate(false_failure_rate), min_expected, float(inflation),
                    int(ddof))


def _labels(samples: Any, k: int) -> np.ndarray:
    a = _as_array(samples)
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2 or a.shape[-1] < 2:
        raise ValueError(f"samples must have shape (n,) or (chains, n), got {a.shape}")
    if np.any(a != np.round(a)) or np.any(a < 0) or np.any(a >= k):
        raise ValueError(f"samples must be integer bin labels in [0, {k})")
    return a.astype(np.int64)


def _inflation(labels: np.ndarray, groups: list[list[int]], k: int, c: float) -> float:
    """max(1, max_f mean-over-chains 2τ_int(f)), f = merged-bin indicators and the index."""
    gid = np.full(k, -1, dtype=np.int64)
    for j, g in enumerate(groups):
        gid[g] = j
    g = gid[labels]  # (chains, n) merged-bin index
    functions = list(range(len(groups))) + [None]
    per_batch = max(1, (1 << 22) // g.size)  # bound the memory of one batched FFT
    worst = 1.0
    for i in range(0, len(functions), per_batch):
        fs = np.stack([g.astype(float) if j is None else (g == j).astype(float)
                       for j in functions[i:i + per_batch]])  # (functions, chains, n)
        tau = np.maximum(integrated_autocorrelation_time(fs, c).tau, 0.5)
        worst = max(worst, float(2.0 * tau.mean(axis=-1).max()))
    return worst


def chi_square_test_series(samples: Any, expected_probabilities: Any,
                           false_failure_rate: float = DEFAULT_FALSE_FAILURE_RATE,
                           min_expected: float = 5.0, *, ddof: int = 0,
                           c: float = 5.0) -> ChiSquareTestResult:
    """χ² test of a correlated series of bin labels (MCMC), corrected for autocorrelation.

    ``samples``: integer bin labels in [0, K), shape (n,) or independent chains
    (chains, n). inflation = max(1, max over f of 2τ_int(f)) with f running over the
    indicators of the merged bins and the merged-bin index itself (τ averaged over chains);
    the Pearson statistic is divided by it (``chi_square_test`` with ``inflation``). Each f
    is a function of the binned state, so 2τ_int(f) is a lower bound on the largest
    variance-inflation eigenvalue λ_max; the index catches the slow "shift of the whole
    histogram" mode (e.g. energy), the indicators catch slow individual bins. Bins are merged
    on effective counts n·p/inflation (two passes, since the inflation depends on the
    merging).
    """
    p = _normalised(expected_probabilities)
    k = p.size
    labels = _labels(samples, k)
    counts = np.bincount(labels.ravel(), minlength=k).astype(float)
    alpha = _check_rate(false_failure_rate)
    n = int(counts.sum())
    if np.any((p == 0) & (counts > 0)):
        return _pearson(counts, p, alpha, min_expected, 1.0, int(ddof))
    infl = 1.0
    groups = merge_sparse_bins(n * p, min_expected)
    for _ in range(3):
        if len(groups) < 2:
            break
        infl = _inflation(labels, groups, k, c)
        new = merge_sparse_bins(n * p / infl, min_expected)
        if new == groups:
            break
        groups = new
    return _pearson(counts, p, alpha, min_expected, infl, int(ddof), groups)


# -------------------------------------------------------------- equivalence

@dataclass(frozen=True)
class EquivalenceResult:
    """The comparison of a difference d (± SE on ``dof`` dof) with the margin δ:
    ``passed`` unless d is shown to exceed δ in size, |d| − h > δ, with h = t_{1−α}·SE
    the one-sided half-width; ``shown`` when the interval d ± h lies inside (−δ, δ)
    (two one-sided tests: equivalence demonstrated at level α)."""

    difference: float
    standard_error: float
    dof: float
    half_width: float
    margin: float

    @property
    def passed(self) -> bool:
        return abs(self.difference) - self.half_width <= self.margin

    @property
    def shown(self) -> bool:
        return abs(self.difference) + self.half_width < self.margin

    def describe(self, what: str) -> str:
        verdict = ("equivalent (interval inside ±δ)" if self.shown else
                   "not shown equivalent, not shown different" if self.passed else
                   "FAIL, shown to differ by more than δ")
        return (f"{what}: difference {self.difference:+.4g} ± {self.standard_error:.2g} "
                f"(SE, {self.dof:.0f} dof), one-sided half-width {self.half_width:.3g}, margin "
                f"δ = {self.margin:.3g}: {verdict}")


def equivalence_test(a, b, margin: float, alpha: float) -> EquivalenceResult:
    """Is a − b within ±``margin``? For two independent `ReplicateEstimate` (floats), with
    Welch's dof: fails only when the difference is shown to exceed the margin at
    one-sided level ``alpha`` (`EquivalenceResult`)."""
    se = math.hypot(a.standard_error, b.standard_error)
    dof = (se ** 4 / (a.standard_error ** 4 / a.dof + b.standard_error ** 4 / b.dof)
           if se > 0 else math.inf)
    half_width = float(_st.t.isf(alpha, dof)) * se if se > 0 else 0.0
    return EquivalenceResult(float(a.mean - b.mean), se, dof, half_width, margin)


# ------------------------------------------------------------------------------ fits

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


# ------------------------------------------------------------ independent chains, z-tests

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


def most_significant(tests: Sequence[ZTestResult]) -> ZTestResult:
    """The test furthest beyond (or least within) its threshold: largest |z|/threshold."""
    if not tests:
        raise ValueError("most_significant needs at least one test")
    return max(tests, key=lambda t: abs(t.z) / t.threshold)

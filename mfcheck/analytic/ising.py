"""Exact answers for the Ising model that mfcheck's Ising checks compare samplers against.

Conventions follow `mfcheck.ising` (docs/references.md#ising-model): spins s_i = ±1 on an L×L
periodic square lattice, E = −J Σ_⟨ij⟩ s_i s_j − h Σ_i s_i with each nearest-neighbour pair
counted once (2N bonds on the torus, N = L²), k_B = 1, β = 1/T, K = βJ. On the 2×2 torus
the left and right neighbour of a site are the same site, so each pair is joined by two bonds
(the roll-based `mfcheck.ising.energy` gives −8 for the all-up 2×2 state).

What is here:

* Onsager–Yang, infinite lattice, h = 0: `onsager_magnetization`, `onsager_energy`,
  `onsager_specific_heat`, `T_C`, `BETA_C` (Onsager 1944; Yang 1952).
* Finite L×L torus, h = 0, any L ≥ 2: `log_partition_finite`, `exact_finite` (Kaufman 1949;
  Ferdinand & Fisher 1969), with analytic derivatives in K.
* Brute force for L ≤ 4, any J and h: `exact_enumeration`, `density_of_states`.
* Curie–Weiss (mean field) and the 1-D chain: `curie_weiss_magnetization`,
  `chain_magnetization`, `chain_energy`; and `binder_cumulant`.

All are float64 numpy/scipy, independent of the torch samplers they check, vectorised over
the temperature ``T`` (an array in, an array of the same shape out; a scalar in, a float
out). Bad parameters raise `ValueError` naming the parameter: a silently wrong "expected
value" would make every check that uses it meaningless.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import numpy as np
from scipy.optimize import brentq
from scipy.special import ellipe, ellipk, ellipkm1

__all__ = ["BETA_C", "T_C", "FiniteLattice", "IsingEnumeration", "binder_cumulant",
           "chain_energy", "chain_magnetization", "curie_weiss_magnetization",
           "density_of_states", "exact_enumeration", "exact_finite", "log_partition_finite",
           "onsager_energy", "onsager_magnetization", "onsager_specific_heat"]

#: Critical temperature of the square lattice, T_c = 2J / ln(1 + √2) (J = k_B = 1).
T_C: float = 2.0 / math.log1p(math.sqrt(2.0))
#: Critical inverse temperature β_c = ln(1 + √2) / 2 (where sinh 2β_c J = 1).
BETA_C: float = math.log1p(math.sqrt(2.0)) / 2.0

#: Largest L for brute-force enumeration (2^(L²) states: 65,536 at L = 4).
MAX_ENUMERATION_L = 4


# -- validation ---------------------------------------------------------------------------

def _finite(name: str, value) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} = {value!r} must be a real number") from None
    if not math.isfinite(x):
        raise ValueError(f"{name} = {value!r} must be finite")
    return x


def _coupling(coupling) -> float:
    J = _finite("coupling", coupling)
    if J <= 0:
        raise ValueError(f"coupling = {coupling!r} must be > 0 (ferromagnet; T is measured "
                         f"in units of J)")
    return J


def _temperatures(T) -> np.ndarray:
    t = np.asarray(T, dtype=np.float64)
    if t.size == 0:
        raise ValueError("T must not be empty")
    if not np.all(np.isfinite(t)) or np.any(t <= 0):
        bad = t[~(np.isfinite(t) & (t > 0))].reshape(-1)[0]
        raise ValueError(f"T = {bad!r}: temperatures must be finite and > 0")
    return t


def _lattice(L, limit: int | None = None) -> int:
    if isinstance(L, bool) or not isinstance(L, (int, np.integer)) or L < 2:
        raise ValueError(f"L = {L!r} must be an int >= 2")
    if limit is not None and L > limit:
        raise ValueError(f"L = {L!r}: brute-force enumeration is limited to L <= {limit} "
                         f"(2^(L^2) states); use exact_finite for larger lattices")
    return int(L)


def _out(x: np.ndarray, like: np.ndarray):
    """A float for a scalar input, else an array of the input's shape."""
    x = np.asarray(x, dtype=np.float64).reshape(like.shape)
    return float(x) if x.ndim == 0 else x


# -- Onsager–Yang: the infinite square lattice at h = 0 -----------------------------------

def _onsager_parts(K: np.ndarray):
    """s = sinh 2K, q = 2 tanh²2K − 1 = (s² − 1)/(s² + 1) (the signed complementary modulus
    k'), and K(k), E(k) for k = 2 sinh 2K / cosh² 2K, evaluated without cancellation: K(k)
    from ``ellipkm1(k'²)`` near k = 1 (T_c), from ``ellipk(k²)`` elsewhere."""
    t = np.tanh(2 * K)
    q = 2 * t * t - 1
    m = 4 * t * t * (1 - t * t)                       # k² = (2 tanh 2K sech 2K)²
    p = q * q                                         # k'² = 1 − k²
    with np.errstate(divide="ignore"):
        K1 = np.where(m < 0.5, ellipk(np.minimum(m, 0.5)), ellipkm1(np.minimum(p, 0.5)))
    E1 = ellipe(m)
    with np.errstate(over="ignore"):
        s = np.sinh(2 * K)
    return s, q, K1, E1


def onsager_magnetization(T, coupling: float = 1.0):
    """Spontaneous magnetisation per spin of the infinite square lattice (Onsager 1944,
    announced; Yang 1952, proved): M = (1 − sinh(2J/T)^−4)^(1/8) for T < T_c·J, 0 for
    T ≥ T_c·J (M(T_c) = 0; the β = 1/8 exponent makes it steep just below T_c)."""
    J = _coupling(coupling)
    t = _temperatures(T)
    with np.errstate(over="ignore"):
        s = np.sinh(2 * J / t)
    with np.errstate(invalid="ignore"):
        M = np.where(t < T_C * J, np.maximum(1 - s ** -4.0, 0.0) ** 0.125, 0.0)
    return _out(M, t)


def onsager_energy(T, coupling: float = 1.0):
    """Energy per spin of the infinite square lattice at h = 0 (Onsager 1944):

        u = −J coth 2K · [1 + (2/π)(2 tanh² 2K − 1) K(k)],   k = 2 sinh 2K / cosh² 2K,

    K = J/T, K(k) the complete elliptic integral of the first kind (scipy's ``ellipk``
    takes m = k²). Finite and continuous at T_c, where the bracket's second term vanishes
    (2 tanh² 2K_c − 1 = 0 while K(k) diverges only logarithmically): u(T_c) = −√2 J."""
    J = _coupling(coupling)
    t = _temperatures(T)
    K = J / t
    _, q, K1, _ = _onsager_parts(K)
    with np.errstate(invalid="ignore"):
        qK = np.where(q == 0, 0.0, q * K1)
    return _out(-J / np.tanh(2 * K) * (1 + (2 / np.pi) * qK), t)


def onsager_specific_heat(T, coupling: float = 1.0):
    """Specific heat per spin, c = du/dT, of the infinite square lattice at h = 0:

        c = K² {(4/π) coth² 2K [K(k) − E(k)] − 2 csch² 2K − (4/π) csch² 2K (2 tanh² 2K − 1) K(k)},

    obtained by differentiating `onsager_energy` (with dK(k)/dk = E/(k k'²) − K/k), K = J/T,
    E(k) the complete elliptic integral of the second kind. It diverges logarithmically at
    T_c, c ≈ (8/π) K_c² ln|1/(1 − T/T_c)|: exactly at T = T_c·J this returns ``inf``."""
    J = _coupling(coupling)
    t = _temperatures(T)
    K = J / t
    s, q, K1, E1 = _onsager_parts(K)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        csch2 = 1 / (s * s)
        coth2 = 1 / np.tanh(2 * K) ** 2
        qK = np.where(q == 0, 0.0, q * K1)
        c = K * K * ((4 / np.pi) * coth2 * (K1 - E1) - 2 * csch2 - (4 / np.pi) * csch2 * qK)
    c = np.where((t == T_C * J) | (q == 0) | np.isinf(K1), np.inf, np.maximum(c, 0.0))
    return _out(c, t)


# -- the finite L×L torus (Kaufman 1949; Ferdinand & Fisher 1969) -------------------------

class FiniteLattice(NamedTuple):
    """Exact per-spin answers on the L×L torus at h = 0."""

    energy: float | np.ndarray          #: ⟨E⟩ / N
    specific_heat: float | np.ndarray   #: (⟨E²⟩ − ⟨E⟩²) / (N T²)


def _log2cosh(x):
    """ln(2 cosh x) for x ≥ 0, without overflow."""
    return x + np.log1p(np.exp(-2 * x))


def _log2sinh(x):
    """ln(2 sinh x) for x > 0, without overflow."""
    return x + np.log(-np.expm1(-2 * x))


_K_FROZEN = 50.0


def _kaufman(L: int, K: np.ndarray):
    """ln Z, d ln Z/dK and d² ln Z/dK² on the L×L torus at coupling K = βJ (K 1-D).

    Z = ½ (2 sinh 2K)^(N/2) (Z_1 + Z_2 + Z_3 + Z_4), with x_l = L γ_l / 2 and
    Z_1 = Π_{l odd} 2 cosh x_l, Z_2 = Π_{l odd} 2 sinh x_l, Z_3 = Π_{l even} 2 cosh x_l,
    Z_4 = Π_{l even} 2 sinh x_l over l = 0..2L−1, cosh γ_l = cosh 2K coth 2K − cos(πl/L).
    For l ≥ 1, γ_l > 0 (the positive root; cosh γ_l ≥ 2 − cos(π/L) > 1). The l = 0 factor
    uses γ_0 = 2K + ln tanh K with its sign: negative above T_c, zero at T_c, positive below
    (so Z_4 < 0 above T_c); as an analytic function of K it makes Z smooth through T_c.

    Derivatives are analytic: with c(K) = cosh 2K coth 2K, γ_l' = c'/sinh γ_l and
    γ_l'' = (c'' − cosh γ_l γ_l'²)/sinh γ_l; γ_0' = 2 + 2/sinh 2K, γ_0'' = −4 cosh 2K/sinh² 2K.
    Each Z_i is carried as exp(a_i)·(s_i, d1_i, d2_i), with d1_i = (Z_i' − μZ_i)/e^{a_i},
    d2_i = (Z_i'' − 2μZ_i' + μ²Z_i)/e^{a_i} and μ = (ln Z_1)': this keeps everything finite
    (the sinh x_0 factor of Z_4 is not divided by; no coth x_0 at T_c) and avoids the
    catastrophic cancellation of ⟨E²⟩ − ⟨E⟩² (the variance is assembled from centred terms).
    """
    N = L * L
    # Beyond K = 50 every excitation (ΔE ≥ 8J) weighs ≤ N e^(−400): the torus is exactly in
    # its two ground states to float64, ln Z = ln 2 + 2NK, E/N = −2J, C = 0.
    frozen = K > _K_FROZEN
    K_in = K
    K = np.minimum(K, _K_FROZEN)[:, None]              # (nT, 1)
    s = np.sinh(2 * K)
    ch = np.cosh(2 * K)
    # cosh γ_l − 1 = (s − 1)²/s + 2 sin²(πl/2L): no cancellation near T_c or for small γ_l.
    l = np.arange(2 * L)
    base = (s - 1) * ((s - 1) / s)
    delta = base + 2 * np.sin(np.pi * l / (2 * L)) ** 2          # (nT, 2L)
    sinh_g = np.sqrt(delta * (delta + 2))
    gamma = np.log1p(delta + sinh_g)
    cosh_g = 1 + delta
    dc = 2 * ch * (s * s - 1) / (s * s)                           # c'(K)
    d2c = 4 * s - 4 / s + 8 * ch * ch / s ** 3                    # c''(K)
    with np.errstate(divide="ignore", invalid="ignore"):
        dg = dc / sinh_g
        d2g = (d2c - cosh_g * dg * dg) / sinh_g
    # l = 0: the signed γ_0 and its derivatives.
    g0 = 2 * K[:, 0] + np.log(np.tanh(K[:, 0]))
    dg0 = 2 + 2 / s[:, 0]
    d2g0 = -4 * ch[:, 0] / s[:, 0] ** 2
    half = L / 2
    x, dx, d2x = half * gamma, half * dg, half * d2g
    x0, dx0, d2x0 = half * g0, half * dg0, half * d2g0

    odd = slice(1, None, 2)
    even = slice(2, None, 2)                                      # l = 2, 4, …, 2L − 2

    def cosh_part(sl):
        xs, d, dd = x[:, sl], dx[:, sl], d2x[:, sl]
        th = np.tanh(xs)
        return (_log2cosh(xs).sum(1), (th * d).sum(1),
                ((1 - th * th) * d * d + th * dd).sum(1))

    def sinh_part(sl):
        xs, d, dd = x[:, sl], dx[:, sl], d2x[:, sl]
        cth = 1 / np.tanh(xs)
        return (_log2sinh(xs).sum(1), (cth * d).sum(1),
                (-(d / np.sinh(xs)) ** 2 + cth * dd).sum(1))

    a1, mu, lpp1 = cosh_part(odd)                     # μ = (ln Z_1)'
    a2, _, lpp2 = sinh_part(odd)
    r2 = (2 * dx[:, odd] / np.sinh(2 * x[:, odd])).sum(1)   # (ln Z_2)' − μ, without cancelling
    ac, lpc, lppc = cosh_part(even)
    as_, lps, lpps = sinh_part(even)
    rest_c, rest_s = lpc - mu, lps - mu
    ax0 = np.abs(x0)
    e2 = np.exp(-2 * ax0)
    c_hat = 1 + e2                                    # 2 cosh x0 / e^|x0|
    s_hat = np.sign(x0) * -np.expm1(-2 * ax0)         # 2 sinh x0 / e^|x0|

    a = np.stack([a1, a2, ac + ax0, as_ + ax0])
    z0 = np.stack([np.ones_like(a1), np.ones_like(a1), c_hat, s_hat])
    z1 = np.stack([np.zeros_like(a1), r2,
                   s_hat * dx0 + c_hat * rest_c,
                   c_hat * dx0 + s_hat * rest_s])
    z2 = np.stack([lpp1, lpp2 + r2 * r2,
                   c_hat * (dx0 ** 2 + lppc + rest_c ** 2) + s_hat * (d2x0 + 2 * dx0 * rest_c),
                   s_hat * (dx0 ** 2 + lpps + rest_s ** 2) + c_hat * (d2x0 + 2 * dx0 * rest_s)])
    A = a.max(0)
    w = np.exp(a - A)
    S0, S1, S2 = (w * z0).sum(0), (w * z1).sum(0), (w * z2).sum(0)
    Kf = K[:, 0]
    # ln ½(2 sinh 2K)^(N/2), with ln(2 sinh 2K) = 2K + ln(1 − e^(−4K)) (no overflow)
    log_pref = -math.log(2) + (N / 2) * (2 * Kf + np.log(-np.expm1(-4 * Kf)))
    logZ = log_pref + A + np.log(S0)
    dlogZ = N / np.tanh(2 * Kf) + mu + S1 / S0
    d2logZ = -2 * N / s[:, 0] ** 2 + S2 / S0 - (S1 / S0) ** 2
    if frozen.any():
        logZ = np.where(frozen, math.log(2) + 2 * N * K_in, logZ)
        dlogZ = np.where(frozen, 2.0 * N, dlogZ)
        d2logZ = np.where(frozen, 0.0, d2logZ)
    return logZ, dlogZ, d2logZ


def log_partition_finite(L: int, T, coupling: float = 1.0):
    """ln Z of the L×L torus at h = 0, exact (Kaufman 1949; Ferdinand & Fisher 1969):

        Z = ½ (2 sinh 2K)^(N/2) Σ_{i=1..4} Z_i,   K = J/T,

    Z_1 = Π_{r=0}^{L−1} 2 cosh(L γ_{2r+1}/2), Z_2 = Π 2 sinh(L γ_{2r+1}/2),
    Z_3 = Π 2 cosh(L γ_{2r}/2),  Z_4 = Π 2 sinh(L γ_{2r}/2),
    cosh γ_l = cosh 2K coth 2K − cos(πl/L), γ_0 = 2K + ln tanh K (sign kept).
    Evaluated in log space (any L ≥ 2, odd or even; L = 1024 in ~0.3 ms per temperature)."""
    L = _lattice(L)
    J = _coupling(coupling)
    t = _temperatures(T)
    with np.errstate(over="ignore"):
        logZ, _, _ = _kaufman(L, (J / t).reshape(-1))
    return _out(logZ, t)


def exact_finite(L: int, T, coupling: float = 1.0) -> FiniteLattice:
    """Exact energy and specific heat per spin of the L×L torus at h = 0:
    E/N = −J (d ln Z/dK)/N and C/N = K² (d² ln Z/dK²)/N, with the derivatives of
    `log_partition_finite`'s Z taken analytically (no finite differences).
    At K_c, L = 16: E/N = −1.453064852813477, C/N = 1.498704959400026 (the
    Ferrenberg–Landau–Wong 1992 test; the earlier printed −1.4530647 and 1.4987043
    (docs/references.md#ising-finite-kc) are a step-1e-4
    central difference of ln Z, biased by O(h²)). Agrees with brute-force enumeration
    (L ≤ 4) to ~1e-13 and with a 40-digit evaluation to ~1e-14 (E) and ~1e-11 (C, L ≤ 1024).
    Cost O(L) per temperature (L = 1024: ~0.3 ms). At very high T the result is a small
    difference of O(1/K) terms: relative accuracy ~1e-16/K² (1e-12 at T = 100 J,
    1e-8 at T = 1e4 J). At low T, C/N carries an absolute rounding error ~1e-15·K²
    (1e-15 at T = J). For T < J/50 the torus is in its ground states to float64:
    E/N = −2J, C/N = 0."""
    L = _lattice(L)
    J = _coupling(coupling)
    t = _temperatures(T)
    K = (J / t).reshape(-1)
    with np.errstate(over="ignore"):             # sinh/cosh of large x_l: 1/sinh → 0, as meant
        _, d1, d2 = _kaufman(L, K)
    N = L * L
    # A variance: clip the rounding-level negatives (|C/N| ≲ 1e-16) deep in the ordered phase.
    return FiniteLattice(_out(-J * d1 / N, t), _out(np.maximum(K * K * d2 / N, 0.0), t))


# -- brute force: all 2^(L²) states of an L×L torus, L ≤ 4 --------------------------------

@dataclass(frozen=True)
class IsingEnumeration:
    """The exact Boltzmann distribution of an L×L torus, from all 2^(L²) states.

    ``energies`` (ascending, total E) with ``energy_probabilities``; ``magnetizations``
    (ascending, total M = Σ s_i) with ``magnetization_probabilities``;
    ``joint_probabilities[i, j]`` = P(E = energies[i], M = magnetizations[j]).
    Per-spin summaries: ``energy`` = ⟨E⟩/N, ``specific_heat`` = (⟨E²⟩ − ⟨E⟩²)/(N T²),
    ``magnetization`` = ⟨m⟩, ``abs_magnetization`` = ⟨|m|⟩, ``m2`` = ⟨m²⟩, ``m4`` = ⟨m⁴⟩
    (m = M/N), and ``log_partition`` = ln Z."""

    L: int
    temperature: float
    coupling: float
    field: float
    energies: np.ndarray
    energy_probabilities: np.ndarray
    magnetizations: np.ndarray
    magnetization_probabilities: np.ndarray
    joint_probabilities: np.ndarray
    log_partition: float
    energy: float
    specific_heat: float
    magnetization: float
    abs_magnetization: float
    m2: float
    m4: float

    @property
    def binder(self) -> float:
        """U4 = 1 − ⟨m⁴⟩/(3⟨m²⟩²)."""
        return binder_cumulant(self.m2, self.m4)


@lru_cache(maxsize=8)
def _bond_magnetization_counts(L: int):
    """Counts of the states of the L×L torus by (bond sum B = Σ_⟨ij⟩ s_i s_j, M = Σ s_i),
    from all 2^N states decoded with bit tricks (state index bit k = spin k down).
    The bond sum is roll-based, as `mfcheck.ising.energy`: each pair once per direction."""
    N = L * L
    idx = np.arange(1 << N, dtype=np.uint32)
    bits = ((idx[:, None] >> np.arange(N, dtype=np.uint32)) & 1).astype(np.int8)
    s = (1 - 2 * bits).reshape(-1, L, L)
    B = ((s * np.roll(s, 1, axis=2)).sum((1, 2), dtype=np.int64)
         + (s * np.roll(s, 1, axis=1)).sum((1, 2), dtype=np.int64))
    M = N - 2 * bits.sum(1, dtype=np.int64)
    pairs, counts = np.unique(np.stack([B, M], 1), axis=0, return_counts=True)
    return pairs[:, 0], pairs[:, 1], counts


def _group(values: np.ndarray, weights: np.ndarray, scale: float):
    """Merge equal values (to a relative 1e-12 of ``scale``) and sum their weights."""
    order = np.argsort(values, kind="stable")
    v, w = values[order], weights[order]
    new = np.ones(v.size, dtype=bool)
    new[1:] = np.diff(v) > 1e-12 * max(scale, 1.0)
    group = np.cumsum(new) - 1
    return v[new], np.bincount(group, weights=w)


def exact_enumeration(L: int, T: float, coupling: float = 1.0,
                      field: float = 0.0) -> IsingEnumeration:
    """The exact distribution of E and M on the L×L torus (L ≤ 4) at temperature T, by
    summing exp(−E/T) over all 2^(L²) configurations (65,536 at L = 4; any J and h).
    Energies follow `mfcheck.ising.energy` (E = −J Σ s·roll(s) − h Σ s over both axes),
    so the all-up 2×2 state has E = −8J and Z(2×2, h = 0) = 4 cosh(8βJ) + 12."""
    L = _lattice(L, MAX_ENUMERATION_L)
    T = float(_temperatures(_finite("T", T)))
    J = _finite("coupling", coupling)
    h = _finite("field", field)
    N = L * L
    B, M, g = _bond_magnetization_counts(L)
    E = -J * B - h * M.astype(np.float64)
    logw = np.log(g) - E / T
    top = logw.max()
    w = np.exp(logw - top)
    Z = w.sum()
    p = w / Z
    mean_E = float(p @ E)
    var_E = float(p @ (E - mean_E) ** 2)
    m = M / N
    scale = abs(J) * 2 * N + abs(h) * N
    energies, pE = _group(E, p, scale)
    mags, inverse = np.unique(M, return_inverse=True)
    pM = np.bincount(inverse, weights=p)
    e_index = np.searchsorted(energies, E - 1e-12 * max(scale, 1.0))
    joint = np.zeros((energies.size, mags.size))
    np.add.at(joint, (e_index, inverse), p)
    return IsingEnumeration(
        L=L, temperature=T, coupling=J, field=h,
        energies=energies, energy_probabilities=pE,
        magnetizations=mags.astype(np.float64), magnetization_probabilities=pM,
        joint_probabilities=joint, log_partition=float(top + math.log(Z)),
        energy=mean_E / N, specific_heat=var_E / (N * T * T),
        magnetization=float(p @ m), abs_magnetization=float(p @ np.abs(m)),
        m2=float(p @ m ** 2), m4=float(p @ m ** 4))


def density_of_states(L: int) -> tuple[np.ndarray, np.ndarray]:
    """``(energies, counts)``: the number g(E) of configurations of the L×L torus (L ≤ 4)
    with total energy E (J = 1, h = 0), by enumeration; energies ascending (int64).
    4×4: g(−32) = 2, g(−24) = 32, g(−20) = 64, g(−16) = 424, …, g(0) = 20524."""
    L = _lattice(L, MAX_ENUMERATION_L)
    B, _, g = _bond_magnetization_counts(L)
    energies, inverse = np.unique(-B, return_inverse=True)
    return energies, np.bincount(inverse, weights=g).astype(np.int64)


# -- mean field and one dimension ---------------------------------------------------------

def curie_weiss_magnetization(T, z: int = 4, coupling: float = 1.0, field: float = 0.0):
    """The stable solution of the Curie–Weiss (mean-field) equation m = tanh(β(zJm + h)).

    For h ≠ 0 and J > 0 it is the root with the sign of h (the global free-energy minimum;
    unique there because tanh is concave on that side). For h = 0 it is 0 at T ≥ T_c^MF = zJ
    and the positive branch below (solved as 1 = a·tanh(am)/(am), a = βzJ, so it is found
    accurately even just below T_c^MF, where m ≈ √(3(1 − T/zJ))). For J ≤ 0 the root is
    unique. Bracketing root-finder (Brent), ~1e-15 accuracy."""
    t = _temperatures(T)
    zz = _finite("z", z)
    if zz <= 0:
        raise ValueError(f"z = {z!r} must be > 0 (the number of neighbours)")
    J = _finite("coupling", coupling)
    h = _finite("field", field)
    sign = -1.0 if h < 0 else 1.0
    hh = abs(h)

    tol = dict(xtol=5e-324, rtol=4 * np.finfo(float).eps, maxiter=500)

    def solve(T1: float) -> float:
        b = 1.0 / T1
        a = b * zz * J
        m0 = 0.0                      # the h = 0 solution: 0, or the positive branch if a > 1
        if a > 1:
            def f(m):
                x = a * m
                return 1 - a * (np.tanh(x) / x if x != 0 else 1.0)
            m0 = brentq(f, 0.0, 1.0, **tol)
        if h == 0:
            return m0

        def g(m):
            return m - np.tanh(b * (zz * J * m + hh))
        # h > 0 only raises the root: bracket from the h = 0 branch (so a field too small
        # to register in float64 still gives the stable branch, not the unstable m = 0).
        lo = m0 if J >= 0 else -1.0
        return brentq(g, lo, 1.0, **tol) if g(lo) < 0 else lo

    m = np.array([solve(float(T1)) for T1 in t.reshape(-1)])
    return _out(sign * m, t)


def chain_magnetization(T, field, coupling: float = 1.0):
    """Magnetisation per spin of the infinite 1-D Ising chain (Ising 1925; transfer matrix):

        m = sinh(βh) / √(sinh²(βh) + e^(−4βJ)),

    evaluated as sign(h)/√(1 + r²), r = e^(−2βJ)/sinh(β|h|), so that it never overflows.
    Broadcasts T against ``field``."""
    t = _temperatures(T)
    J = _finite("coupling", coupling)
    h = np.asarray(field, dtype=np.float64)
    if not np.all(np.isfinite(h)):
        raise ValueError(f"field = {field!r} must be finite")
    t, h = np.broadcast_arrays(t, h)
    x = np.abs(h) / t
    with np.errstate(divide="ignore", over="ignore"):
        r = 2 * np.exp(-2 * J / t - x) / -np.expm1(-2 * x)
        m = np.sign(h) / np.hypot(1.0, r)
    return float(m) if m.ndim == 0 else m


def chain_energy(T, coupling: float = 1.0):
    """Energy per spin (per bond) of the infinite 1-D Ising chain at h = 0: u = −J tanh(βJ)."""
    t = _temperatures(T)
    J = _finite("coupling", coupling)
    return _out(-J * np.tanh(J / t), t)


def binder_cumulant(m2, m4):
    """Binder's fourth-order cumulant U4 = 1 − ⟨m⁴⟩ / (3 ⟨m²⟩²) (Binder 1981): 2/3 in an
    ordered phase, 0 for a Gaussian (disordered) m; curves for different L cross near T_c
    at U* ≈ 0.6107 on the square lattice."""
    m2 = np.asarray(m2, dtype=np.float64)
    m4 = np.asarray(m4, dtype=np.float64)
    finite = np.all(np.isfinite(m2)) and np.all(np.isfinite(m4))
    if not finite or np.any(m2 <= 0) or np.any(m4 < 0):
        raise ValueError(f"binder_cumulant needs ⟨m²⟩ > 0 and ⟨m⁴⟩ >= 0, finite; got m2={m2!r}, "
                         f"m4={m4!r}")
    u = 1 - m4 / (3 * m2 * m2)
    return float(u) if u.ndim == 0 else u

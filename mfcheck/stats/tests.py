"""Hypothesis tests with a stated false-failure rate: z- and t-tests, Pearson's χ²
goodness of fit, equivalence by two one-sided tests (TOST), the exact sign test over
replicas and its generalisation to a quantile (`quantile_test`), a permutation test that
replicas grouped by seed are exchangeable (`exchangeability_test`), and Bonferroni's split
of a check's rate over its comparisons.

A test with false-failure rate α rejects a true null hypothesis with probability α
(asymptotically): a two-sided z-test passes when |z| ≤ Φ⁻¹(1 − α/2). The default α is
`mfcheck.check.FALSE_FAILURE_RATE` (1e-4 per check), the one definition of it.
An equivalence is different: its null hypothesis is "the difference is at least the
margin", so α there is the rate of a *false pass* (docs/statistics.md).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats as _st

from mfcheck.check import FALSE_FAILURE_RATE

from ._arrays import as_array as _as_array
from ._arrays import as_float as _as_float
from ._arrays import check_rate as _check_rate

__all__ = ["ChiSquareTestResult", "EquivalenceResult", "ExchangeabilityResult",
           "QuantileTestResult", "SignTestResult", "ZTestResult", "bonferroni",
           "chi_square_test", "equivalence_test", "exchangeability_test", "merge_sparse_bins",
           "most_significant", "quantile_pass_count", "quantile_test", "sign_test",
           "two_sample_z_test", "z_test"]


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
           false_failure_rate: float = FALSE_FAILURE_RATE, *,
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
                      false_failure_rate: float = FALSE_FAILURE_RATE, *,
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



def most_significant(tests: Sequence[ZTestResult]) -> ZTestResult:
    """The test furthest beyond (or least within) its threshold: largest |z|/threshold."""
    if not tests:
        raise ValueError("most_significant needs at least one test")
    return max(tests, key=lambda t: abs(t.z) / t.threshold)


@dataclass(frozen=True)
class ChiSquareTestResult:
    """Pearson goodness-of-fit after merging sparse bins.

    ``groups`` lists the original bins in each merged bin; ``observed``/``expected`` are
    merged counts; ``threshold`` is the χ²_{dof} quantile at 1 − α."""

    passed: bool
    statistic: float
    dof: int
    p_value: float
    threshold: float
    false_failure_rate: float
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


def chi_square_test(observed_counts: Any, expected_probabilities: Any,
                    false_failure_rate: float = FALSE_FAILURE_RATE,
                    min_expected: float = 5.0, *, ddof: int = 0,
                    simulations: int = 0, seed: Any = None) -> ChiSquareTestResult:
    """Pearson χ² goodness-of-fit of independent samples' counts against probabilities,
    false-failure rate α.

    X² = Σ_g (O_g − E_g)²/E_g over merged bins g (``merge_sparse_bins`` on the expected
    counts n·p ≥ ``min_expected``), dof = groups − 1 − ``ddof``; passes iff
    p = P(χ²_dof > X²) ≥ α. Samples in a bin of probability 0 fail at once. Correlated
    samples (one MCMC chain) inflate X² by up to 2τ_int and need independent chains instead.

    The χ² law is asymptotic, and with merged bins of expected count near 5 its tail is
    too light: measured 1.5% false failures at nominal 1% (docs/statistics.md). With
    ``simulations`` = S > 0 the p-value is instead the Monte Carlo one, (1 + b)/(1 + S)
    with b the number of S multinomial draws from the null (``seed``) whose X² ≥ the
    observed: exact in level for any expected counts (``ddof`` must then be 0, as the
    probabilities are not fitted), and ``threshold`` is the simulated (1 − α) quantile.
    """
    counts = _as_array(observed_counts).ravel()
    if np.any(counts < 0) or np.any(counts != np.round(counts)):
        raise ValueError("observed counts must be non-negative integers")
    p = _normalised(expected_probabilities)
    if counts.shape != p.shape:
        raise ValueError(f"{counts.size} counts but {p.size} probabilities")
    alpha = _check_rate(false_failure_rate)
    n = int(counts.sum())
    impossible = (p == 0) & (counts > 0)
    if np.any(impossible):
        bins = np.flatnonzero(impossible).tolist()
        k = int(counts[impossible].sum())
        return ChiSquareTestResult(False, math.inf, 0, 0.0, math.nan, alpha, n, (),
                                   counts.copy(), n * p,
                                   f"chi-square: FAIL, {k} samples in bins of probability 0 "
                                   f"(bins {bins[:10]})")
    groups = merge_sparse_bins(n * p, min_expected)
    dof = len(groups) - 1 - int(ddof)
    if dof < 1:
        raise ValueError(f"only {len(groups)} bins of expected count ≥ {min_expected} "
                         f"(n = {n}): too few samples for a chi-square test")
    obs = np.array([counts[g].sum() for g in groups], dtype=float)
    exp = np.array([n * p[g].sum() for g in groups])
    stat = float(((obs - exp) ** 2 / exp).sum())
    if simulations:
        if ddof:
            raise ValueError("a Monte Carlo p-value needs ddof = 0 (no fitted probabilities)")
        null = _simulated_statistics(exp / n, n, int(simulations), seed)
        pval = float((1 + np.count_nonzero(null >= stat)) / (1 + null.size))
        threshold = float(np.quantile(null, 1 - alpha))
        passed = pval > alpha
        how = f"Monte Carlo p from {null.size} draws under the null"
    else:
        pval = float(_st.chi2.sf(stat, dof))
        threshold = float(_st.chi2.isf(alpha, dof))
        passed = stat <= threshold
        how = "p from the χ² law"
    merged = f", {len(p)} bins merged into {len(groups)}" if len(groups) < len(p) else ""
    message = (f"chi-square: X² = {stat:.4g} on {dof} dof (n = {n}{merged}): "
               f"{'' if passed else 'FAIL, '}{how}, p = {pval:.3g} "
               f"{'≥' if passed else '<'} false-failure rate {alpha:g}")
    return ChiSquareTestResult(bool(passed), stat, dof, pval, threshold, alpha, n,
                               tuple(tuple(g) for g in groups), obs, exp, message)


def _simulated_statistics(q: np.ndarray, n: int, simulations: int, seed: Any) -> np.ndarray:
    """Pearson's X² of ``simulations`` multinomial(n, q) draws (in chunks, to bound memory)."""
    rng = np.random.default_rng(seed)
    out = []
    for start in range(0, simulations, 20_000):
        x = rng.multinomial(n, q / q.sum(), size=min(20_000, simulations - start))
        out.append(((x - n * q) ** 2 / (n * q)).sum(axis=1))
    return np.concatenate(out)


# -- equivalence: two one-sided tests ------------------------------------------------------

@dataclass(frozen=True)
class EquivalenceResult:
    """Two one-sided tests (TOST) of a difference d (± SE on ``dof`` dof) against the
    margin δ at level α: ``passed`` when the (1 − 2α) confidence interval d ± h, h =
    t_{dof}⁻¹(1 − α)·SE, lies inside (−δ, δ), i.e. both H₀: Δ ≤ −δ and H₀: Δ ≥ δ are
    rejected at α. A difference whose true size is δ or more passes with probability ≤ α;
    failing to find a difference is not a pass. ``shown_different`` when the interval lies
    beyond the margin (|d| − h > δ); an interval that straddles ±δ is *too wide for the
    margin*: not shown equivalent, and the check fails."""

    difference: float
    standard_error: float
    dof: float
    half_width: float
    margin: float
    alpha: float

    @property
    def interval(self) -> tuple[float, float]:
        return self.difference - self.half_width, self.difference + self.half_width

    @property
    def passed(self) -> bool:
        return abs(self.difference) + self.half_width < self.margin

    @property
    def shown_different(self) -> bool:
        return abs(self.difference) - self.half_width > self.margin

    def failure_probability_at_zero(self) -> float:
        """The probability that this test fails for a solver whose true difference is 0,
        at this SE and dof (|t| ≥ δ/SE − t_{1−α}): the check's false-failure rate for a
        perfect solver at this budget (1 when the half-width alone exceeds δ)."""
        if self.standard_error == 0:
            return 0.0 if self.margin > 0 else 1.0
        room = self.margin / self.standard_error - self.half_width / self.standard_error
        return 1.0 if room <= 0 else float(min(1.0, 2 * _st.t.sf(room, self.dof)))

    def describe(self, what: str) -> str:
        lo, hi = self.interval
        verdict = ("equivalent (interval inside ±δ)" if self.passed else
                   "FAIL, shown to differ by more than δ" if self.shown_different else
                   f"FAIL, not shown equivalent: the interval is too wide for the margin "
                   f"(half-width {self.half_width:.3g} against δ − |d| = "
                   f"{self.margin - abs(self.difference):.3g})")
        return (f"{what}: difference {self.difference:+.4g} ± {self.standard_error:.2g} "
                f"(SE, {self.dof:.0f} dof), {1 - 2 * self.alpha:.6g} interval [{lo:+.4g}, "
                f"{hi:+.4g}] vs margin ±{self.margin:.3g}: {verdict}")


def equivalence_test(a, b, margin: float, alpha: float) -> EquivalenceResult:
    """Is a − b within ±``margin``? Two one-sided Welch t-tests at level ``alpha`` for two
    independent `ReplicateEstimate` (floats): passes only when the (1 − 2α) interval of
    the difference lies inside (−δ, δ) (`EquivalenceResult`). Pass
    ``ReplicateEstimate(0.0, 0.0, k, k − 1)`` as ``b`` to bound one estimate by ±δ."""
    alpha = _check_rate(alpha)
    if not margin > 0:
        raise ValueError(f"an equivalence margin must be positive, got {margin}")
    se = math.hypot(a.standard_error, b.standard_error)
    dof = (se ** 4 / (a.standard_error ** 4 / a.dof + b.standard_error ** 4 / b.dof)
           if se > 0 else math.inf)
    half_width = float(_st.t.isf(alpha, dof)) * se if se > 0 else 0.0
    return EquivalenceResult(float(a.mean - b.mean), se, dof, half_width, float(margin), alpha)


# -- more replicas above than below: the sign test ---------------------------------------------

@dataclass(frozen=True)
class SignTestResult:
    """One-sided exact sign test over independent replicas: ``above``/``below`` count the
    replicas strictly above/below ``center`` (``ties`` are dropped); ``p_value`` =
    P(Binomial(above + below, ½) ≥ above); ``passed`` when p ≤ α, i.e. P(value > center) >
    P(value < center) is shown at false-pass rate α, whatever the replicas' distribution."""

    passed: bool
    above: int
    below: int
    ties: int
    p_value: float
    alpha: float
    center: float

    @property
    def needed(self) -> int:
        """The fewest replicas above ``center``, of the ``above + below`` decided ones, that
        pass (``above + below + 1`` when no count can)."""
        n = self.above + self.below
        return next((k for k in range(n + 1) if _st.binom.sf(k - 1, n, 0.5) <= self.alpha),
                    n + 1)


def sign_test(values: Any, center: float, alpha: float = FALSE_FAILURE_RATE) -> SignTestResult:
    """Are more independent replicas above ``center`` than below it? The exact one-sided
    binomial (sign) test with ties dropped (`SignTestResult`). Exact for any distribution
    of the replicas, discrete or skewed, unlike a t-bound on their mean."""
    v = _as_array(values).ravel()
    if v.size < 1 or not np.all(np.isfinite(v)):
        raise ValueError("the sign test needs at least one finite value")
    alpha = _check_rate(alpha)
    above, below = int((v > center).sum()), int((v < center).sum())
    p = float(_st.binom.sf(above - 1, above + below, 0.5)) if above + below else 1.0
    return SignTestResult(p <= alpha, above, below, int(v.size) - above - below, p, alpha,
                          float(center))


@dataclass(frozen=True)
class QuantileTestResult:
    """Exact one-sided binomial test of a quantile over independent replicas: do at least a
    share ``q`` of the replicas' distribution reach ``threshold``? ``reached`` counts the
    replicas at or above it, of ``n``; ``p_value`` = P(Binomial(n, q) ≤ reached);
    ``passed`` unless p ≤ α: a solver with P(value ≥ threshold) ≥ q fails with probability
    ≤ α, whatever the replicas' distribution (skewed, discrete, bounded)."""

    passed: bool
    reached: int
    n: int
    q: float
    p_value: float
    alpha: float
    threshold: float

    @property
    def needed(self) -> int:
        """The fewest replicas at or above ``threshold`` that pass (`quantile_pass_count`)."""
        return quantile_pass_count(self.n, self.q, self.alpha)


def quantile_pass_count(n: int, q: float, alpha: float = FALSE_FAILURE_RATE) -> int:
    """The fewest of ``n`` replicas at or above the threshold with which `quantile_test`
    passes: the smallest k with P(Binomial(n, q) ≤ k) > α (the counts 0 … k − 1 are
    rejected at level α)."""
    alpha = _check_rate(alpha)
    return next(k for k in range(n + 1) if _st.binom.cdf(k, n, q) > alpha)


def quantile_test(values: Any, threshold: float, q: float,
                  alpha: float = FALSE_FAILURE_RATE) -> QuantileTestResult:
    """Is P(value ≥ ``threshold``) ≥ ``q`` contradicted by the replicas? The exact one-sided
    binomial test (`QuantileTestResult`): it fails only when so few replicas reach the
    threshold that a share q would give that few with probability ≤ α. With q = ½ it is
    the sign test of the median (ties counted as reaching); unlike a t-bound on the mean
    it keeps its rate for any distribution of the replicas."""
    v = _as_array(values).ravel()
    if v.size < 1 or not np.all(np.isfinite(v)):
        raise ValueError("the quantile test needs at least one finite value")
    if not 0.0 < q < 1.0:
        raise ValueError(f"the share q must lie in (0, 1), got {q}")
    alpha = _check_rate(alpha)
    reached = int((v >= threshold).sum())
    p = float(_st.binom.cdf(reached, v.size, q))
    return QuantileTestResult(p > alpha, reached, int(v.size), float(q), p, alpha,
                              float(threshold))


@dataclass(frozen=True)
class ExchangeabilityResult:
    """Permutation test that replicas in ``groups`` (one group per seed, its replicas
    sharing a call) are exchangeable: F = (between-group mean square)/(within-group mean
    square) against its law over random relabellings. ``p_above``: P(F* ≥ F), small when
    replicas of one group are more alike than replicas of different groups (a shared
    random stream); ``p_below``: P(F* ≤ F), small when groups with different seeds are
    more alike than replicas (the seed ignored). ``passed`` unless either is ≤ α/2.
    ``f`` is NaN (and the test passes) when no replica differs from another."""

    passed: bool
    f: float
    p_above: float
    p_below: float
    alpha: float
    groups: int
    replicas: int
    permutations: int


def _between_sum_of_squares(x: np.ndarray, groups: int) -> np.ndarray:
    """Σ_g B·(mean of group g − grand mean)² for each row of ``x`` ``(..., G·B)``, the groups
    being consecutive runs of B."""
    means = x.reshape(*x.shape[:-1], groups, -1).mean(-1)
    return ((means - means.mean(-1, keepdims=True)) ** 2).sum(-1) * (x.shape[-1] // groups)


def exchangeability_test(values: Any, alpha: float = FALSE_FAILURE_RATE, *,
                         permutations: int | None = None, seed: int = 0
                         ) -> ExchangeabilityResult:
    """Are the replicas ``values`` ``(groups, replicas)`` (rows: calls with different seeds)
    exchangeable, as independent, identically distributed replicas are? The one-way F
    statistic against its permutation law (`ExchangeabilityResult`), two-sided at α: exact
    for any distribution (the Monte Carlo p-value (1 + #{F* ≥ F})/(1 + P) is valid for
    any number P of random relabellings), so a correct solver fails with probability
    ≤ α. ``permutations`` defaults to 5/α (at least 2000): the smallest p-value, 1/(P + 1),
    is then below α/2, and a p-value at α/2 is resolved to ±30%."""
    x = _as_array(values)
    if x.ndim != 2 or x.shape[0] < 2 or x.shape[1] < 2:
        raise ValueError(f"need values of shape (groups ≥ 2, replicas ≥ 2), got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("the replicas contain NaN or infinite values")
    alpha = _check_rate(alpha)
    groups, replicas = x.shape
    flat = x.ravel() - x.mean()
    total = float((flat ** 2).sum())
    permutations = int(permutations or max(2000, math.ceil(5 / alpha)))
    dof_between, dof_within = groups - 1, groups * (replicas - 1)
    if total == 0.0:  # every replica identical: nothing to relabel
        return ExchangeabilityResult(True, math.nan, 1.0, 1.0, alpha, groups, replicas,
                                     permutations)

    def f_of(between):
        within = np.maximum(total - between, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return (between / dof_between) / (within / dof_within)

    observed = float(f_of(_between_sum_of_squares(flat, groups)))
    rng = np.random.default_rng(seed)
    above = below = 0
    tol = 1e-12 * max(observed, 1.0) if np.isfinite(observed) else 0.0
    for start in range(0, permutations, 10_000):
        size = min(10_000, permutations - start)
        shuffled = rng.permuted(np.broadcast_to(flat, (size, flat.size)), axis=-1)
        f = f_of(_between_sum_of_squares(shuffled, groups))
        above += int((f >= observed - tol).sum())
        below += int((f <= observed + tol).sum())
    p_above = (1 + above) / (1 + permutations)
    p_below = (1 + below) / (1 + permutations)
    return ExchangeabilityResult(p_above > alpha / 2 and p_below > alpha / 2, observed,
                                 p_above, p_below, alpha, groups, replicas, permutations)

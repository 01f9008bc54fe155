"""Measured false-failure rates: the checks' own statistical code path fed with draws from
the null hypothesis, repeated, with Clopper–Pearson intervals on the empirical rate
(docs/statistics.md, "Measured false-failure rates").

- `one_sided_bound_null_rate`: the one-sided Student-t bound across replicas (fails when
  mean + h < target; `across_seeds`, `ReplicateEstimate.one_sided_half_width`), with the
  replicas' true mean exactly at the target: the error is the bound on the wrong side of
  it. ``side="upper"`` is what `gaussian-squeeze` used before it moved to the quantile
  test, ``side="lower"`` the t lower bound that `battle` used before the sign test.
- `quantile_test_null_rate`: `quantile_test` as `gaussian-squeeze` uses it (fails when
  too few replicas reach the target for a share q of them to), with P(value ≥ target)
  exactly q: the error is a failure.
- `sign_test_null_rate`: `sign_test` as `battle` uses it (passes when significantly more
  replicas score above ½ than below), with P(above) = P(below): the error is a pass.
- `equivalence_null_rate`: `equivalence_test` (TOST, as `sync-async` uses it) on two groups
  of replicas whose true difference is exactly the margin δ: the error is a pass.
- `chi_square_null_rate`: `chi_square_test` with its sparse-bin merging, as the `ising`
  histogram checks use it, on multinomial draws from the exact joint (E, M) law of the 4×4
  torus (`HISTOGRAMS`): the error is a failure.

Null distributions (`NULLS`), each with a known mean: ``normal``; ``skewed-right``
(exponential) and ``skewed-left`` (its mirror); ``battle-draws`` (the per-replica score of
`battle`: 4 games, each won, drawn or lost with probabilities 0.17, 0.66, 0.17, a draw
scoring ½) and ``battle-mixed`` (a fifth of the replicas never win, score ¼ on average; the
others score 0.5625: left-skewed, overall mean ½).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import stats as _st

from .replicas import across_seeds
from .tests import chi_square_test, equivalence_test, quantile_test, sign_test

__all__ = ["HISTOGRAMS", "NULLS", "NullRate", "chi_square_law_tail", "chi_square_null_rate",
           "clopper_pearson", "equivalence_null_rate", "false_failure_table", "null_rejection_rate", "one_sided_bound_null_rate",
           "quantile_test_null_rate", "sign_test_null_rate"]


def clopper_pearson(failures: int, repetitions: int, confidence: float = 0.95
                    ) -> tuple[float, float]:
    """The exact (Clopper–Pearson) two-sided binomial interval for failures/repetitions."""
    if not 0 <= failures <= repetitions or repetitions < 1:
        raise ValueError(f"need 0 ≤ failures ≤ repetitions ≥ 1, got {failures}/{repetitions}")
    tail = (1 - confidence) / 2
    lo = 0.0 if failures == 0 else float(_st.beta.ppf(tail, failures,
                                                      repetitions - failures + 1))
    hi = 1.0 if failures == repetitions else float(_st.beta.ppf(1 - tail, failures + 1,
                                                                repetitions - failures))
    return lo, hi


def _battle_scores(rng: np.random.Generator, shape, p_win, p_draw, games: int = 4
                   ) -> np.ndarray:
    """Per replica, the mean score of ``games`` games (won 1, drawn ½, lost 0)."""
    u = rng.random((*shape, games))
    p_win, p_draw = np.asarray(p_win)[..., None], np.asarray(p_draw)[..., None]
    return np.where(u < p_win, 1.0, np.where(u < p_win + p_draw, 0.5, 0.0)).mean(-1)


def _battle_mixed(rng: np.random.Generator, shape) -> np.ndarray:
    bad = rng.random(shape) < 0.2
    return _battle_scores(rng, shape, np.where(bad, 0.0, 0.3), np.where(bad, 0.5, 0.525))


#: name → (draw(rng, shape) → values, their true mean).
NULLS: dict[str, tuple[Callable[[np.random.Generator, tuple], np.ndarray], float]] = {
    "normal": (lambda rng, shape: rng.standard_normal(shape), 0.0),
    "skewed-right": (lambda rng, shape: rng.exponential(1.0, shape), 1.0),
    "skewed-left": (lambda rng, shape: -rng.exponential(1.0, shape), -1.0),
    "battle-draws": (lambda rng, shape: _battle_scores(rng, shape, 0.17, 0.66), 0.5),
    "battle-mixed": (_battle_mixed, 0.5),
}


@dataclass(frozen=True)
class NullRate:
    """How often a test erred in ``repetitions`` simulations under its null."""

    check_kind: str
    code_path: str
    null: str
    n: int
    nominal: float
    repetitions: int
    failures: int

    @property
    def rate(self) -> float:
        return self.failures / self.repetitions

    @property
    def interval(self) -> tuple[float, float]:
        return clopper_pearson(self.failures, self.repetitions)

    @property
    def exceeds_nominal(self) -> bool:
        """The whole 95% interval lies above the nominal rate."""
        return self.interval[0] > self.nominal

    def row(self) -> str:
        lo, hi = self.interval
        return (f"| {self.check_kind} | {self.code_path} | {self.null} | {self.n} | "
                f"{self.nominal:g} | {self.failures}/{self.repetitions} | {self.rate:.4f} | "
                f"[{lo:.4f}, {hi:.4f}] |")


def null_rejection_rate(errs: Callable[[np.ndarray], bool],
                        draw: Callable[[np.random.Generator], np.ndarray],
                        repetitions: int, seed: int = 0) -> int:
    """How many of ``repetitions`` data sets ``draw(rng)`` (from the null) make the test
    err (``errs(data)`` True). One generator, seeded by ``seed``, for all of them."""
    rng = np.random.default_rng(seed)
    return sum(bool(errs(draw(rng))) for _ in range(int(repetitions)))


def one_sided_bound_null_rate(null: str, n: int, nominal: float, side: str, *,
                              repetitions: int = 2000, seed: int = 0) -> NullRate:
    """The one-sided t-bound across ``n`` replicas (`across_seeds`,
    `ReplicateEstimate.one_sided_half_width` at ``nominal``) with the true mean exactly at
    the target. ``side="upper"`` (`gaussian-squeeze`): the error is mean + h < target;
    ``side="lower"`` (`battle`): the error is mean − h > target."""
    make, target = NULLS[null]
    if side not in ("upper", "lower"):
        raise ValueError(f"side must be 'upper' or 'lower', got {side!r}")

    def errs(values: np.ndarray) -> bool:
        est = across_seeds(values)
        h = est.one_sided_half_width(nominal)
        return est.mean + h < target if side == "upper" else est.mean - h > target

    failures = null_rejection_rate(errs, lambda rng: make(rng, (n,)), repetitions, seed)
    kind = ("gaussian-squeeze (upper bound, before)" if side == "upper"
            else "battle (lower bound, before)")
    return NullRate(kind, f"across_seeds + one_sided_half_width, {side} bound",
                    f"{null}, mean at the target", n, nominal, int(repetitions), failures)


def equivalence_null_rate(null: str, n: int, nominal: float, *, margin: float = 1.0,
                          repetitions: int = 2000, seed: int = 0) -> NullRate:
    """`equivalence_test` at level ``nominal`` on two groups of ``n`` replicas drawn from
    ``null``, one shifted so that the true difference is exactly ``margin``: the error is
    a pass (the false equivalence TOST bounds by α). The margin is in units of the null's
    standard deviation (1 for every entry of `NULLS` but the battle ones)."""
    make, _ = NULLS[null]

    def errs(pair: np.ndarray) -> bool:
        a, b = across_seeds(pair[0] + margin), across_seeds(pair[1])
        return equivalence_test(a, b, margin, nominal).passed

    failures = null_rejection_rate(errs, lambda rng: make(rng, (2, n)), repetitions, seed)
    return NullRate("sync-async (TOST)", "across_seeds + equivalence_test",
                    f"{null}, true difference = δ", n, nominal, int(repetitions), failures)


def sign_test_null_rate(null: str, n: int, nominal: float, *, repetitions: int = 2000,
                        seed: int = 0) -> NullRate:
    """`sign_test` at level ``nominal`` on ``n`` replicas drawn from ``null`` (a symmetric
    entry of `NULLS`: ``normal``, ``battle-draws``), centred at its mean (= its median):
    the error is a pass."""
    make, center = NULLS[null]
    failures = null_rejection_rate(lambda v: sign_test(v, center, nominal).passed,
                                   lambda rng: make(rng, (n,)), repetitions, seed)
    return NullRate("battle (sign test)", "sign_test over replicas",
                    f"{null}, P(above) = P(below)", n, nominal, int(repetitions), failures)


#: For the continuous entries of `NULLS`: share ↦ the value exceeded with that probability.
UPPER_QUANTILES: dict[str, Callable[[float], float]] = {
    "normal": lambda q: float(_st.norm.isf(q)),
    "skewed-right": lambda q: float(_st.expon.isf(q)),
    "skewed-left": lambda q: -float(_st.expon.ppf(q)),
}


def quantile_test_null_rate(null: str, n: int, nominal: float, q: float, *,
                            repetitions: int = 2000, seed: int = 0) -> NullRate:
    """`quantile_test` at level ``nominal`` on ``n`` replicas drawn from ``null`` (a
    continuous entry of `NULLS`) against the threshold that each replica reaches with
    probability exactly ``q``: the error is a failure."""
    make, threshold = NULLS[null][0], UPPER_QUANTILES[null](q)
    failures = null_rejection_rate(
        lambda v: not quantile_test(v, threshold, q, nominal).passed,
        lambda rng: make(rng, (n,)), repetitions, seed)
    return NullRate("gaussian-squeeze (quantile test)", f"quantile_test, q = {q:g}",
                    f"{null}, P(value ≥ target) = q", n, nominal, int(repetitions), failures)


#: Exact histograms for `chi_square_null_rate`: label ↦ (L, T, h), the 4×4 games of the
#: ising suite's energy-histogram-4x4 with the sparsest tails (T = 1.5: most mass on the two
#: ground states) and the most bins (T = 3.5).
HISTOGRAMS = {"4×4 (E, M) at T = 1.5": (4, 1.5, 0.0), "4×4 (E, M) at T = 3.5": (4, 3.5, 0.0)}


def chi_square_null_rate(null: str, n: int, nominal: float, *, simulated: bool = True,
                         repetitions: int = 2000, seed: int = 0) -> NullRate:
    """`chi_square_test` at level ``nominal`` on ``n`` independent draws from the exact
    joint (E, M) distribution ``HISTOGRAMS[null]`` (Pearson's X² after merging sparse bins,
    as `energy-histogram-4x4` and `stationarity-one-step` test one sample per chain): the
    error is a failure. ``simulated``: the Monte Carlo p-value from 10/α null draws, as
    the checks use it; else the χ² law's p-value (the path they used before)."""
    from mfcheck.analytic.ising import exact_enumeration  # the stats package stays numpy-only

    L, T, h = HISTOGRAMS[null]
    p = exact_enumeration(L, T, field=h).joint_probabilities.ravel()
    simulations = math.ceil(10 / nominal) if simulated else 0

    def errs(draw: tuple[np.ndarray, int]) -> bool:
        counts, simulation_seed = draw
        return not chi_square_test(counts, p, nominal, simulations=simulations,
                                   seed=simulation_seed).passed

    failures = null_rejection_rate(
        errs, lambda rng: (rng.multinomial(n, p / p.sum()), int(rng.integers(2**62))),
        repetitions, seed)
    path = ("chi_square_test, Monte Carlo p (10/α draws)" if simulated
            else "chi_square_test, p from the χ² law")
    return NullRate("ising χ² histogram" + ("" if simulated else " (before)"), path,
                    f"multinomial from the exact {null}, sparse bins merged", n, nominal,
                    int(repetitions), failures)


def chi_square_law_tail(null: str, n: int, nominals=(0.05, 0.01, 1e-3, 1e-4), *,
                        draws: int = 2_000_000, seed: int = 1) -> dict[float, float]:
    """How often the χ² law's threshold is exceeded by Pearson's X² of ``draws`` multinomial
    samples from ``HISTOGRAMS[null]`` (merged as `chi_square_test` merges them), per
    nominal rate: the asymptotic path's tail, measured down to 1e-4 (vectorised: the
    same statistic as `chi_square_test`, without its per-call overhead)."""
    from mfcheck.analytic.ising import exact_enumeration

    from .tests import _simulated_statistics, merge_sparse_bins

    L, T, h = HISTOGRAMS[null]
    p = exact_enumeration(L, T, field=h).joint_probabilities.ravel()
    p = p[p > 0] / p.sum()
    q = np.array([p[g].sum() for g in merge_sparse_bins(n * p)])
    x2 = _simulated_statistics(q, n, draws, seed)
    return {a: float(np.mean(x2 > _st.chi2.isf(a, q.size - 1))) for a in nominals}


#: The rows of docs/statistics.md's table: (function, null, replicas per group).
TABLE = (
    [(equivalence_null_rate, null, 16) for null in ("normal", "skewed-right", "battle-draws")]
    + [(sign_test_null_rate, null, 16) for null in ("normal", "battle-draws")]
    + [(lambda null, n, a, **kw: one_sided_bound_null_rate(null, n, a, "upper", **kw), null, 32)
       for null in ("normal", "skewed-left", "skewed-right")]
    + [(lambda null, n, a, **kw: quantile_test_null_rate(null, n, a, 0.75, **kw), null, 32)
       for null in ("normal", "skewed-left", "skewed-right")]
    + [(lambda null, n, a, **kw: one_sided_bound_null_rate(null, n, a, "lower", **kw), null, 16)
       for null in ("battle-draws", "battle-mixed")]
    + [(fn, null, 4000) for null in HISTOGRAMS
       for fn in (lambda null, n, a, **kw: chi_square_null_rate(null, n, a, simulated=False, **kw),
                  chi_square_null_rate)])


def false_failure_table(nominals=(0.05, 0.01), repetitions: int = 2000, seed: int = 0
                        ) -> list[NullRate]:
    """Every row of `TABLE` at every nominal rate (about 30 s for 2000 repetitions)."""
    return [fn(null, n, a, repetitions=repetitions, seed=seed)
            for fn, null, n in TABLE for a in nominals]


if __name__ == "__main__":  # python -m mfcheck.stats.calibration
    print("| check kind | code path | null simulated | n | nominal | failures | empirical rate "
          "| 95% interval |\n| --- | --- | --- | --- | --- | --- | --- | --- |")
    for row in false_failure_table():
        print(row.row())

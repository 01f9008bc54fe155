"""Suite ``ising``: Ising samplers against exact answers (docs/references.md, "Ising model").

Every check here is stochastic: it states its false-failure rate (``FALSE_FAILURE_RATE``,
per check, split over its sub-tests by Bonferroni) and compares with an honest standard
error — autocorrelation-corrected within chains and never smaller than the spread
between independent chains (`stats.conservative_mean`), or exact multinomial statistics
where the samples are independent by construction (one sample per chain, or exact replicas).

The MCMC checks own their budget and show equilibration (`mfcheck.ising_mcmc`): chains
start ordered (cold) below T_c and random (hot) above, and every series a check averages
passes a drift test (first 10% of the kept sweeps against the last half) or the check fails
"not equilibrated". Each check is ``<name>_comparison(sampler, setting, ctx, alpha)`` (the
sub-tests at any false-failure rate, which tests/null_ising.py uses to measure the rates
and z-spreads of docs/ising.md) wrapped at ``ALPHA``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import torch

from mfcheck import outcomes, stats
from mfcheck.analytic import ising as exact
from mfcheck.check import FALSE_FAILURE_RATE, Budget, Context, Outcome, Suite
from mfcheck.errors import SolverError
from mfcheck.ising import energy, magnetization
from mfcheck.ising_mcmc import (RunLength, drift_test, equilibrated_series, series,
                                write_order_parameter_curve)
from mfcheck.boundary import sampler_samples
from mfcheck.protocols import solver_name

ALPHA = FALSE_FAILURE_RATE

suite = Suite("ising", role="sampler",
              description="Ising samplers reproduce exact finite-lattice and Onsager answers",
              reference_solvers=["mfcheck.reference.ising:SAMPLERS"])


@dataclass(frozen=True)
class Setting:
    """A lattice, temperatures and a field: what a check's 'game' column names."""

    L: int
    temperatures: tuple[float, ...]
    field: float = 0.0


def _settings(**named: Setting):
    return {name: (lambda device, s=s: s) for name, s in named.items()}


def _declined(sampler, setting: Setting) -> Outcome | None:
    """A skip if ``sampler`` declines ``setting`` by its own declaration (an exemption on
    the report card), or None."""
    if setting.L > getattr(sampler, "max_size", math.inf):
        return Outcome.skip(f"{solver_name(sampler)} declares max_size {sampler.max_size} < "
                            f"L = {setting.L}", exemption=f"max_size = {sampler.max_size}")
    if setting.field and not getattr(sampler, "supports_field", True):
        return Outcome.skip(f"{solver_name(sampler)} declares supports_field = False "
                            f"(h = {setting.field})", exemption="supports_field = False")
    return None


# -- exact distributions on tiny lattices ---------------------------------------------------

def _joint_bins(L: int, T: float, field: float):
    table = exact.exact_enumeration(L, T, field=field)
    return table.energies, table.magnetizations, table.joint_probabilities.ravel()


def _joint_counts(E: np.ndarray, M: np.ndarray, energies: np.ndarray, mags: np.ndarray):
    """Counts of sampled (E, M) in the exact table's bins, and how many matched no bin."""
    i = np.abs(E[:, None] - energies[None, :]).argmin(1)
    j = np.abs(M[:, None] - mags[None, :]).argmin(1)
    ok = (np.abs(energies[i] - E) < 1e-6) & (np.abs(mags[j] - M) < 1e-6)
    counts = np.bincount((i * mags.size + j)[ok], minlength=energies.size * mags.size)
    return counts, int((~ok).sum())


def _histogram_outcome(E, M, setting: Setting, T: float, what: str, alpha: float,
                       seed: int) -> Outcome:
    """χ² of the sampled (E, M) against the exact joint distribution; ``measured`` is the
    p-value (0 when some sample matches no configuration). The p-value is simulated
    (10/α multinomial draws from the exact law, seeded by the check's seed): the χ² law's
    tail is too light for these sparse bins (docs/statistics.md)."""
    energies, mags, p = _joint_bins(setting.L, T, setting.field)
    counts, stray = _joint_counts(E, M, energies, mags)
    if stray:
        return Outcome(False, 0.0, f">= {alpha:g}", alpha,
                       f"{what}: {stray} of {len(E)} samples have an (E, M) that no "
                       f"{setting.L}x{setting.L} configuration has (energy per spin and "
                       f"magnetisation per spin × N = {setting.L ** 2} must be those of a "
                       f"configuration of the torus)")
    test = stats.chi_square_test(counts, p, alpha, simulations=math.ceil(10 / alpha),
                                 seed=[seed, 0x4853])
    return Outcome(test.passed, test.p_value, f">= {alpha:g}", alpha,
                   f"{what} at T={T:g}, h={setting.field:g}: χ² = {test.statistic:.1f} on "
                   f"{test.dof} dof over {len(E)} independent samples, Monte Carlo p = "
                   f"{test.p_value:.3g} (false-failure rate {alpha:g}; exact distribution by "
                   f"enumeration)")


HISTOGRAM_CHAINS = {Budget.QUICK: 4000, Budget.FULL: 40000}
HISTOGRAM_SWEEPS = 100  # ≫ τ on 4×4 at any T here; only the last sweep of each chain is used


@suite.check("energy-histogram-4x4", games=_settings(**{
    "L4,T=1.5": Setting(4, (1.5,)), "L4,T=2.269": Setting(4, (exact.T_C,)),
    "L4,T=3.5": Setting(4, (3.5,)), "L4,T=2.5,h=0.3": Setting(4, (2.5,), 0.3)}),
             false_failure_rate=ALPHA)
def energy_histogram(sampler, setting: Setting, ctx: Context) -> Outcome:
    """The joint (E, M) histogram on 4x4 matches the exact Boltzmann weights (χ², one sample per chain)."""
    return energy_histogram_outcome(sampler, setting, ctx, ALPHA)


def energy_histogram_outcome(sampler, setting: Setting, ctx: Context, alpha: float) -> Outcome:
    if (declined := _declined(sampler, setting)):
        return declined
    (T,) = setting.temperatures
    chains = HISTOGRAM_CHAINS[ctx.budget]
    s = sampler_samples(sampler, setting.L, [T], sweeps=HISTOGRAM_SWEEPS, chains=chains,
                        seed=ctx.seed, device=ctx.device, field=setting.field)
    N = setting.L ** 2
    E = s.energy[0, :, -1].double().cpu().numpy() * N
    M = s.magnetization[0, :, -1].double().cpu().numpy() * N
    return _histogram_outcome(E, M, setting, T, f"last sweep of {chains} chains", alpha,
                              ctx.seed)


def boltzmann_configurations(L: int, T: float, field: float, n: int,
                             generator: torch.Generator) -> torch.Tensor:
    """``n`` independent exact draws from the Boltzmann distribution of the L×L torus."""
    N = L * L
    idx = torch.arange(1 << N)
    spins = (1 - 2 * ((idx[:, None] >> torch.arange(N)) & 1)).to(torch.int8).reshape(-1, L, L)
    logw = -energy(spins, 1.0, field) / T
    pick = torch.multinomial(torch.softmax(logw, 0), n, replacement=True, generator=generator)
    return spins[pick]


STEP_REPLICAS = {Budget.QUICK: 200_000, Budget.FULL: 2_000_000}


@suite.check("stationarity-one-step", games=_settings(**{
    "L4,T=2.5,h=0.3": Setting(4, (2.5,), 0.3), "L4,T=1.8": Setting(4, (1.8,))}),
             false_failure_rate=ALPHA)
def stationarity(sampler, setting: Setting, ctx: Context) -> Outcome:
    """One `step` from exact Boltzmann draws leaves the (E, M) distribution exact (χ², independent replicas)."""
    return stationarity_outcome(sampler, setting, ctx, ALPHA)


def stationarity_outcome(sampler, setting: Setting, ctx: Context, alpha: float) -> Outcome:
    if not callable(getattr(sampler, "step", None)):
        return Outcome.skip(f"{solver_name(sampler)} has no step(): stationarity is tested "
                            "only for samplers that expose a single update")
    if (declined := _declined(sampler, setting)):
        return declined
    (T,) = setting.temperatures
    n = STEP_REPLICAS[ctx.budget]
    spins = boltzmann_configurations(setting.L, T, setting.field, n, ctx.generator())
    gen = torch.Generator(device=ctx.device).manual_seed(ctx.seed)
    try:
        out = sampler.step(spins.to(ctx.device), torch.tensor(1.0 / T, dtype=torch.float64,
                           device=ctx.device), 1.0, setting.field, gen)
    except Exception as exc:
        raise SolverError(f"{solver_name(sampler)}.step raised {type(exc).__name__}: {exc}") from exc
    E = energy(out.cpu(), 1.0, setting.field).numpy()
    M = magnetization(out.cpu()).numpy()
    return _histogram_outcome(E, M, setting, T, f"one step from {n} exact Boltzmann draws",
                              alpha, ctx.seed)


# -- equilibrium averages against exact answers ---------------------------------------------

@dataclass
class Comparison:
    """What an MCMC check compares: its z-tests, the drift tests of the series they average
    (equilibration shown), each at the check's false-failure rate split by Bonferroni over
    both, and ``estimates`` ({name: (value, SE)}) of the quantities whose z the tests do not
    report directly (tests/null_ising.py reads them)."""

    what: str
    tests: list
    drifts: list
    estimates: dict = dataclasses.field(default_factory=dict)

    def outcome(self, artifacts: tuple = ()) -> Outcome:
        out = outcomes.from_z_tests(self.tests + self.drifts, self.what)
        message = out.message
        stuck = [t for t in self.drifts if not t.passed]
        if stuck:
            message = (f"not equilibrated by the check's budget ({len(stuck)} of "
                       f"{len(self.drifts)} drift tests fail): {message}")
        return Outcome(out.passed, out.measured, out.expected, out.tolerance, message,
                       artifacts=tuple(artifacts))


def _equilibrated(sampler, setting: Setting, ctx: Context, length: RunLength, salt: int = 0):
    return equilibrated_series(sampler, setting.L, setting.temperatures, length=length,
                               seed=ctx.seed_for(salt), device=ctx.device, field=setting.field)


FLW_LENGTH = {Budget.QUICK: RunLength(32, 10000, 1000), Budget.FULL: RunLength(64, 100_000, 5000)}


@suite.check("ferrenberg-landau-wong", games=_settings(**{"L16,T=Tc": Setting(16, (exact.T_C,))}),
             false_failure_rate=ALPHA)
def ferrenberg_landau_wong(sampler, setting: Setting, ctx: Context) -> Outcome:
    """⟨E⟩/N and C/N on 16x16 at K_c equal the exact finite-lattice values (Kaufman; z-tests)."""
    if (declined := _declined(sampler, setting)):
        return declined
    return ferrenberg_landau_wong_comparison(sampler, setting, ctx, ALPHA).outcome()


def ferrenberg_landau_wong_comparison(sampler, setting: Setting, ctx: Context,
                                      alpha: float) -> Comparison:
    e, _ = _equilibrated(sampler, setting, ctx, FLW_LENGTH[ctx.budget])
    (T,) = setting.temperatures
    N = setting.L ** 2
    truth = exact.exact_finite(setting.L, T)
    alpha = stats.bonferroni(alpha, 3)
    mean, se, dof = stats.conservative_mean(e[0])
    heat = stats.specific_heat_estimate(e[0], T, N)
    tests = [stats.z_test(mean, truth.energy, se, alpha, dof=dof),
             stats.z_test(heat.value, truth.specific_heat, heat.standard_error, alpha,
                          dof=heat.dof)]
    return Comparison(f"E/N then C/N on {setting.L}x{setting.L} at T_c vs Kaufman's exact values "
                      f"({truth.energy:.7f}, {truth.specific_heat:.7f})", tests,
                      [drift_test(e[0], alpha, f"E/N at T={T:g}")])


def correlation_length_bound(T: float) -> float:
    """ξ(T) = 1/(2(K − K*)) below T_c, K* = artanh(e^(−2K)) the dual coupling: the larger of
    the 2D Ising model's two exact correlation lengths there (Onsager), used to bound the
    finite-size correction of ⟨|m|⟩ on an L×L torus by e^(−L/ξ)."""
    K = 1.0 / T
    return 1.0 / (2.0 * (K - math.atanh(math.exp(-2.0 * K))))


def _onsager_test(mean: float, se: float, dof, T: float, L: int, alpha: float):
    """⟨|m|⟩ against Onsager's M within the finite-size allowance e^(−L/ξ): the test is
    against the nearest point of the band; and the note that says so."""
    allowance = math.exp(-L / correlation_length_bound(T))
    onsager = float(exact.onsager_magnetization(T))
    target = min(max(mean, onsager - allowance), onsager + allowance)
    return (stats.z_test(mean, target, se, alpha, dof=dof),
            f"T={T:g}: Onsager M = {onsager:.6f} ± {allowance:.1e} finite-size allowance")


BULK_LENGTH = {Budget.QUICK: RunLength(32, 3000, 1000), Budget.FULL: RunLength(16, 50_000, 5000)}
BULK_TEMPERATURES = (1.5, 2.0, 2.2)


@suite.check("bulk-l64", games=_settings(**{"L64,T=1.5,2.0,2.2": Setting(64, BULK_TEMPERATURES)}),
             false_failure_rate=ALPHA)
def bulk(sampler, setting: Setting, ctx: Context) -> Outcome:
    """On 64x64 from ordered starts, ⟨E⟩/N equals Kaufman's exact value and ⟨|m|⟩ Onsager's within e^(−L/ξ) (z-tests)."""
    if (declined := _declined(sampler, setting)):
        return declined
    return bulk_comparison(sampler, setting, ctx, ALPHA).outcome()


def bulk_comparison(sampler, setting: Setting, ctx: Context, alpha: float) -> Comparison:
    e, m = _equilibrated(sampler, setting, ctx, BULK_LENGTH[ctx.budget])
    alpha = stats.bonferroni(alpha, 4 * len(setting.temperatures))
    tests, drifts, notes = [], [], []
    for k, T in enumerate(setting.temperatures):
        mean, se, dof = stats.conservative_mean(e[k])
        tests.append(stats.z_test(mean, exact.exact_finite(setting.L, T).energy, se, alpha,
                                  dof=dof))
        test, note = _onsager_test(*stats.conservative_mean(np.abs(m[k])), T, setting.L, alpha)
        tests.append(test)
        notes.append(note)
        drifts += [drift_test(e[k], alpha, f"E/N at T={T:g}"),
                   drift_test(np.abs(m[k]), alpha, f"⟨|m|⟩ at T={T:g}")]
    return Comparison(f"E/N (Kaufman, exact at L={setting.L}) and ⟨|m|⟩ (" + ", ".join(notes)
                      + ")", tests, drifts)


BINDER_LENGTH = {Budget.QUICK: RunLength(32, 6000, 1000), Budget.FULL: RunLength(32, 50_000, 5000)}
BINDER_WINDOW = (2.15, 2.40)  # around T_c = 2.2692; U4(L=8) and U4(L=16) cross near U* ≈ 0.61


@suite.check("binder-crossing", games=_settings(**{
    "L8,16,T=2.15,2.40": Setting(16, BINDER_WINDOW)}), false_failure_rate=ALPHA)
def binder_crossing(sampler, setting: Setting, ctx: Context) -> Outcome:
    """Binder cumulants of L=8 and L=16 cross inside [2.15, 2.40] (near T_c; docs/references.md)."""
    if (declined := _declined(sampler, setting)):
        return declined
    return binder_crossing_comparison(sampler, setting, ctx, ALPHA).outcome()


def binder_crossing_comparison(sampler, setting: Setting, ctx: Context,
                               alpha: float) -> Comparison:
    length = BINDER_LENGTH[ctx.budget]
    sizes = (8, 16)
    alpha = stats.bonferroni(alpha, 2 + len(sizes) * len(setting.temperatures))
    cumulants, drifts = {}, []
    for salt, L in enumerate(sizes):
        _, m = _equilibrated(sampler, Setting(L, setting.temperatures), ctx, length, salt)
        cumulants[L] = [stats.binder_cumulant_estimate(m[k]) for k in range(m.shape[0])]
        drifts += [drift_test(m[k] ** 2, alpha, f"m² on {L}x{L} at T={T:g}")
                   for k, T in enumerate(setting.temperatures)]
    tests, estimates = [], {}
    for k, sign in ((0, 1.0), (1, -1.0)):
        a, b = cumulants[16][k], cumulants[8][k]
        diff = sign * (a.value - b.value)
        se = math.hypot(a.standard_error, b.standard_error)
        estimates[f"U4(16) − U4(8) at T={setting.temperatures[k]:g}"] = (a.value - b.value, se)
        # One-sided: fail only on significant evidence that the sign is wrong at this end
        # (a crossing outside the window). With the two-sided threshold the false-failure
        # rate is at most alpha/2 per end.
        tests.append(stats.z_test(min(diff, 0.0), 0.0, se, alpha))
    lo, hi = BINDER_WINDOW
    values = ", ".join(f"T={T:g}: U4(8) = {cumulants[8][k].value:.4f}, U4(16) = "
                       f"{cumulants[16][k].value:.4f}" for k, T in enumerate(setting.temperatures))
    return Comparison(f"U4(16) − U4(8) must not be significantly < 0 at T={lo:g} nor > 0 at "
                      f"T={hi:g} ({values})", tests, drifts, estimates)


AGREE_LENGTH = {Budget.QUICK: RunLength(32, 4000, 1000), Budget.FULL: RunLength(16, 50_000, 5000)}


@suite.check("hot-cold-start", games=_settings(**{"L32,T=2.4": Setting(32, (2.4,))}),
             false_failure_rate=ALPHA)
def hot_cold(sampler, setting: Setting, ctx: Context) -> Outcome:
    """Hot and cold starts give the same ⟨E⟩/N and ⟨|m|⟩ (two-sample z-tests)."""
    if (declined := _declined(sampler, setting)):
        return declined
    return hot_cold_comparison(sampler, setting, ctx, ALPHA).outcome()


def hot_cold_comparison(sampler, setting: Setting, ctx: Context, alpha: float) -> Comparison:
    runs = [series(sampler, setting.L, setting.temperatures, length=AGREE_LENGTH[ctx.budget],
                   seed=ctx.seed_for(salt), device=ctx.device, field=setting.field,
                   start=start) for salt, start in enumerate(("hot", "cold"))]
    return _two_sample(*runs, runs, alpha,
                       f"hot vs cold start on {setting.L}x{setting.L} at T={setting.temperatures[0]:g}")


START_CHAINS = 256
#: Where ⟨|m|⟩ after one sweep must lie: below for the random start, above for the all-up one.
START_MIDPOINT = 0.5


# Hoeffding at α/2 per start, for a sampler whose one-sweep ⟨|m|⟩ lies below 0.36 (hot) and
# above 0.64 (cold); see the body
@suite.check("start-honoured", games=_settings(**{"L16,T=1.5": Setting(16, (1.5,))}),
             false_failure_rate=ALPHA)
def start_honoured(sampler, setting: Setting, ctx: Context) -> Outcome:
    """One sweep after a hot start the lattice is disordered, after a cold (all-up) start
    ordered: ⟨|m|⟩ of the first sweep below ½ and above ½ (Hoeffding bounds)."""
    if (declined := _declined(sampler, setting)):
        return declined
    # Below T_c, a sampler that ignores `start` (or swaps the two) runs the checks that
    # start ordered from a random state, which the drift tests may not see within their
    # budget. One sweep cannot order a random 16×16 lattice nor disorder an all-up one at
    # T = 1.5 (the reference samplers: ⟨|m|⟩ 0.11–0.13 and 0.986–0.993). |m| ∈ [0, 1], so
    # Hoeffding bounds the mean over n chains: it strays by t from its expectation with
    # probability ≤ exp(−2nt²); at α/2 per start, t = 0.14 for n = 256 — a correct sampler
    # whose expectations lie below 0.36 and above 0.64 fails with probability ≤ α.
    tolerance = math.sqrt(math.log(2 / ALPHA) / (2 * START_CHAINS))
    first = {}
    for salt, start in enumerate(("hot", "cold")):
        s = sampler_samples(sampler, setting.L, setting.temperatures, sweeps=1,
                            chains=START_CHAINS, seed=ctx.seed_for(salt), device=ctx.device,
                            start=start)
        first[start] = float(s.magnetization[0, :, 0].abs().mean())
    ok = first["hot"] < START_MIDPOINT < first["cold"]
    if ok:
        wrong = ""
    elif first["hot"] > first["cold"]:
        wrong = " (the two starts look swapped)"
    elif first["cold"] <= START_MIDPOINT:
        wrong = " (start='cold' does not start from the ordered, all-up lattice)"
    else:
        wrong = " (start='hot' does not start from a random lattice)"
    return Outcome(ok, first["cold"] - first["hot"], f"hot < {START_MIDPOINT} < cold",
                   tolerance,
                   f"⟨|m|⟩ after one sweep on {setting.L}x{setting.L} at "
                   f"T={setting.temperatures[0]:g}, {START_CHAINS} chains: hot start "
                   f"{first['hot']:.3f}, cold (all-up) start {first['cold']:.3f}{wrong}; a "
                   f"correct sampler's means lie within {tolerance:.2f} of their expectations "
                   f"with probability ≥ 1 − {ALPHA:g} (Hoeffding)")


def _two_sample(a, b, checked, alpha: float, what: str) -> Comparison:
    """``a`` and ``b``: (e, m) of one temperature each; drift tests on the runs ``checked``."""
    alpha = stats.bonferroni(alpha, 2 + 2 * len(checked))
    tests = []
    for series_a, series_b in ((a[0][0], b[0][0]), (np.abs(a[1][0]), np.abs(b[1][0]))):
        (ma, sa, da), (mb, sb, db) = (stats.conservative_mean(series_a),
                                      stats.conservative_mean(series_b))
        tests.append(stats.two_sample_z_test(ma, sa, mb, sb, alpha, dof_a=da, dof_b=db))
    drifts = [drift_test(x, alpha, f"{name} ({i + 1} of {len(checked)} runs)")
              for i, (e, m) in enumerate(checked)
              for name, x in (("E/N", e[0]), ("⟨|m|⟩", np.abs(m[0])))]
    return Comparison(f"{what}: E/N then ⟨|m|⟩", tests, drifts)


@suite.check("agrees-with-reference", games=_settings(**{"L16,T=2.3": Setting(16, (2.3,))}),
             false_failure_rate=ALPHA)
def agrees_with_reference(sampler, setting: Setting, ctx: Context) -> Outcome:
    """⟨E⟩/N and ⟨|m|⟩ near T_c agree with a reference sampler of another algorithm (Wolff, or heat-bath for Wolff)."""
    if (declined := _declined(sampler, setting)):
        return declined
    return agrees_with_reference_comparison(sampler, setting, ctx, ALPHA).outcome()


def agrees_with_reference_comparison(sampler, setting: Setting, ctx: Context,
                                     alpha: float) -> Comparison:
    from mfcheck.reference.ising import SAMPLERS
    other = "checkerboard-heat-bath" if solver_name(sampler) == "wolff" else "wolff"
    mine = _equilibrated(sampler, setting, ctx, AGREE_LENGTH[ctx.budget])
    ref = _equilibrated(SAMPLERS[other], setting, ctx, AGREE_LENGTH[ctx.budget], salt=1)
    return _two_sample(mine, ref, [mine], alpha,
                       f"{solver_name(sampler)} vs reference {other} on {setting.L}x{setting.L} "
                       f"at T={setting.temperatures[0]:g}")


CURVE_TEMPERATURES = {Budget.QUICK: tuple(np.round(np.linspace(1.5, 3.5, 9), 4)),
                      Budget.FULL: tuple(np.round(np.linspace(1.0, 4.0, 31), 4))}
CURVE_LENGTH = {Budget.QUICK: RunLength(32, 3000, 1000), Budget.FULL: RunLength(16, 50_000, 5000)}
CURVE_CHECKED_BELOW = 2.0  # where e^(−L/ξ) on 20x20 is ≤ 1%: compared with Onsager


@suite.check("order-parameter-curve", games=_settings(**{"L20": Setting(20, ())}),
             false_failure_rate=ALPHA)
def order_parameter_curve(sampler, setting: Setting, ctx: Context) -> Outcome:
    """ξ = ⟨|N↑ − N↓|⟩/N on 20x20 against T (plot and data in the report); equals Onsager's M below T=2 within e^(−L/ξ)."""
    setting = Setting(setting.L, CURVE_TEMPERATURES[ctx.budget])
    if (declined := _declined(sampler, setting)):
        return declined
    comparison = order_parameter_curve_comparison(sampler, setting, ctx, ALPHA)
    mean, se = zip(*comparison.estimates.values())
    artifacts = (write_order_parameter_curve(ctx.report_dir, solver_name(sampler),
                                             setting.temperatures, mean, se)
                 if ctx.report_dir is not None else [])
    return comparison.outcome(artifacts)


def order_parameter_curve_comparison(sampler, setting: Setting, ctx: Context,
                                     alpha: float) -> Comparison:
    temps = setting.temperatures
    _, m = _equilibrated(sampler, setting, ctx, CURVE_LENGTH[ctx.budget])
    estimates = [stats.conservative_mean(np.abs(m[k])) for k in range(len(temps))]
    checked = [k for k, T in enumerate(temps) if T <= CURVE_CHECKED_BELOW]
    alpha = stats.bonferroni(alpha, 2 * len(checked))
    tests = [_onsager_test(*estimates[k], temps[k], setting.L, alpha)[0] for k in checked]
    drifts = [drift_test(np.abs(m[k]), alpha, f"⟨|m|⟩ at T={temps[k]:g}") for k in checked]
    return Comparison(f"⟨|m|⟩ on {setting.L}x{setting.L} at T ≤ {CURVE_CHECKED_BELOW:g} vs "
                      f"Onsager within e^(−L/ξ); curve at {len(temps)} temperatures written",
                      tests, drifts, {f"T={T:g}": e[:2] for T, e in zip(temps, estimates)})

"""Suite ``ising``: Ising samplers against exact answers (FACTS.md, Ising model).

Every check here is stochastic: it states its false-failure rate (``FALSE_FAILURE_RATE``,
per check, split over its sub-tests by Bonferroni) and compares with an honest standard
error — autocorrelation-corrected within chains and never smaller than the spread
between independent chains (`stats.conservative_mean`), or exact multinomial statistics
where the samples are independent by construction (one sample per chain, or exact replicas).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from mfcheck import outcomes, stats
from mfcheck.analytic import ising as exact
from mfcheck.check import FALSE_FAILURE_RATE, Budget, Context, Outcome, Suite
from mfcheck.errors import SolverError
from mfcheck.ising import energy, magnetization
from mfcheck.protocols import sampler_samples, solver_name
from mfcheck.report import file_stem, new_figure, save_figure

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


def _fits(sampler, setting: Setting) -> str | None:
    """Why ``sampler`` cannot run ``setting`` (by its own declaration), or None."""
    if setting.L > getattr(sampler, "max_size", math.inf):
        return f"{solver_name(sampler)} declares max_size {sampler.max_size} < L = {setting.L}"
    if setting.field and not getattr(sampler, "supports_field", True):
        return f"{solver_name(sampler)} declares supports_field = False (h = {setting.field})"
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


def _histogram_outcome(E, M, setting: Setting, T: float, what: str) -> Outcome:
    energies, mags, p = _joint_bins(setting.L, T, setting.field)
    counts, stray = _joint_counts(E, M, energies, mags)
    if stray:
        return Outcome(False, stray, 0, 0, f"{what}: {stray} of {len(E)} samples have an (E, M) "
                       f"that no {setting.L}x{setting.L} configuration has")
    test = stats.chi_square_test(counts, p, ALPHA)
    return Outcome(test.passed, test.p_value, f">= {ALPHA:g}", ALPHA,
                   f"{what} at T={T:g}, h={setting.field:g}: χ² = {test.statistic:.1f} on "
                   f"{test.dof} dof over {len(E)} independent samples, p = {test.p_value:.3g} "
                   f"(false-failure rate {ALPHA:g}; exact distribution by enumeration)")


HISTOGRAM_CHAINS = {Budget.QUICK: 4000, Budget.FULL: 40000}
HISTOGRAM_SWEEPS = 100  # ≫ τ on 4×4 at any T here; only the last sweep of each chain is used


@suite.check("energy-histogram-4x4", games=_settings(**{
    "L4,T=1.5": Setting(4, (1.5,)), "L4,T=2.269": Setting(4, (exact.T_C,)),
    "L4,T=3.5": Setting(4, (3.5,)), "L4,T=2.5,h=0.3": Setting(4, (2.5,), 0.3)}))
def energy_histogram(sampler, setting: Setting, ctx: Context) -> Outcome:
    """The joint (E, M) histogram on 4x4 matches the exact Boltzmann weights (χ², one sample per chain)."""
    if (why := _fits(sampler, setting)):
        return Outcome.skip(why)
    (T,) = setting.temperatures
    chains = HISTOGRAM_CHAINS[ctx.budget]
    s = sampler_samples(sampler, setting.L, [T], sweeps=HISTOGRAM_SWEEPS, chains=chains,
                        seed=ctx.seed, device=ctx.device, field=setting.field)
    N = setting.L ** 2
    E = s.energy[0, :, -1].double().cpu().numpy() * N
    M = s.magnetization[0, :, -1].double().cpu().numpy() * N
    return _histogram_outcome(E, M, setting, T, f"last sweep of {chains} chains")


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
    "L4,T=2.5,h=0.3": Setting(4, (2.5,), 0.3), "L4,T=1.8": Setting(4, (1.8,))}))
def stationarity(sampler, setting: Setting, ctx: Context) -> Outcome:
    """One `step` from exact Boltzmann draws leaves the (E, M) distribution exact (χ², independent replicas)."""
    if not callable(getattr(sampler, "step", None)):
        return Outcome.skip(f"{solver_name(sampler)} has no step(): stationarity is tested "
                            "only for samplers that expose a single update")
    if (why := _fits(sampler, setting)):
        return Outcome.skip(why)
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
    return _histogram_outcome(E, M, setting, T, f"one step from {n} exact Boltzmann draws")


# -- equilibrium averages against exact answers ---------------------------------------------

@dataclass(frozen=True)
class RunLength:
    chains: int
    sweeps: int
    burn_in: int


def _run(sampler, setting: Setting, ctx: Context, length: RunLength, start: str = "hot"):
    """Per-spin energy and magnetisation series after burn-in, as (T, chains, n) numpy arrays."""
    s = sampler_samples(sampler, setting.L, list(setting.temperatures), sweeps=length.sweeps,
                        chains=length.chains, seed=ctx.seed, device=ctx.device,
                        field=setting.field, start=start)
    cut = slice(length.burn_in, None)
    return (s.energy[..., cut].double().cpu().numpy(),
            s.magnetization[..., cut].double().cpu().numpy())


FLW_LENGTH = {Budget.QUICK: RunLength(32, 10000, 1000), Budget.FULL: RunLength(64, 100_000, 5000)}


@suite.check("ferrenberg-landau-wong", games=_settings(**{"L16,T=Tc": Setting(16, (exact.T_C,))}))
def ferrenberg_landau_wong(sampler, setting: Setting, ctx: Context) -> Outcome:
    """⟨E⟩/N and C/N on 16x16 at K_c equal the exact finite-lattice values (Kaufman; z-tests)."""
    if (why := _fits(sampler, setting)):
        return Outcome.skip(why)
    e, _ = _run(sampler, setting, ctx, FLW_LENGTH[ctx.budget])
    T = exact.T_C
    truth = exact.exact_finite(16, T)
    alpha = stats.bonferroni(ALPHA, 2)
    mean, se, dof = stats.conservative_mean(e[0])
    heat = stats.specific_heat_estimate(e[0], T, 16 * 16)
    tests = [stats.z_test(mean, truth.energy, se, alpha, dof=dof),
             stats.z_test(heat.value, truth.specific_heat, heat.standard_error, alpha,
                          dof=heat.dof)]
    return outcomes.from_z_tests(tests, "E/N then C/N on 16x16 at T_c vs Kaufman's exact "
                                 f"values ({truth.energy:.7f}, {truth.specific_heat:.7f})")


def correlation_length_bound(T: float) -> float:
    """ξ(T) = 1/(2(K − K*)) below T_c, K* = artanh(e^(−2K)) the dual coupling: the larger of
    the 2D Ising model's two exact correlation lengths there (Onsager), used to bound the
    finite-size correction of ⟨|m|⟩ on an L×L torus by e^(−L/ξ)."""
    K = 1.0 / T
    return 1.0 / (2.0 * (K - math.atanh(math.exp(-2.0 * K))))


BULK_LENGTH = {Budget.QUICK: RunLength(32, 3000, 1000), Budget.FULL: RunLength(16, 50_000, 5000)}
BULK_TEMPERATURES = (1.5, 2.0, 2.2)


@suite.check("bulk-l64", games=_settings(**{"L64,T=1.5,2.0,2.2": Setting(64, BULK_TEMPERATURES)}))
def bulk(sampler, setting: Setting, ctx: Context) -> Outcome:
    """On 64x64, ⟨E⟩/N equals Kaufman's exact value and ⟨|m|⟩ Onsager's within e^(−L/ξ) (z-tests)."""
    if (why := _fits(sampler, setting)):
        return Outcome.skip(why)
    e, m = _run(sampler, setting, ctx, BULK_LENGTH[ctx.budget])
    alpha = stats.bonferroni(ALPHA, 2 * len(setting.temperatures))
    tests, notes = [], []
    for k, T in enumerate(setting.temperatures):
        mean, se, dof = stats.conservative_mean(e[k])
        tests.append(stats.z_test(mean, exact.exact_finite(setting.L, T).energy, se, alpha, dof=dof))
        mean, se, dof = stats.conservative_mean(np.abs(m[k]))
        allowance = math.exp(-setting.L / correlation_length_bound(T))
        onsager = float(exact.onsager_magnetization(T))
        # Inside the allowance the test is against the nearest point of the band.
        target = min(max(mean, onsager - allowance), onsager + allowance)
        tests.append(stats.z_test(mean, target, se, alpha, dof=dof))
        notes.append(f"T={T:g}: Onsager M = {onsager:.6f} ± {allowance:.1e} finite-size allowance")
    return outcomes.from_z_tests(tests, "E/N (Kaufman, exact at L=64) and ⟨|m|⟩ ("
                                 + ", ".join(notes) + ")")


BINDER_LENGTH = {Budget.QUICK: RunLength(32, 6000, 1000), Budget.FULL: RunLength(32, 50_000, 5000)}
BINDER_WINDOW = (2.15, 2.40)  # around T_c = 2.2692; U4(L=8) and U4(L=16) cross near U* ≈ 0.61


@suite.check("binder-crossing", games=_settings(**{
    "L8,16,T=2.15,2.40": Setting(16, BINDER_WINDOW)}))
def binder_crossing(sampler, setting: Setting, ctx: Context) -> Outcome:
    """Binder cumulants of L=8 and L=16 cross inside [2.15, 2.40] (FACTS.md: near T_c)."""
    if (why := _fits(sampler, setting)):
        return Outcome.skip(why)
    length = BINDER_LENGTH[ctx.budget]
    cumulants = {}
    for L in (8, 16):
        _, m = _run(sampler, Setting(L, setting.temperatures), ctx, length)
        cumulants[L] = [stats.binder_cumulant_estimate(m[k]) for k in range(m.shape[0])]
    alpha = stats.bonferroni(ALPHA, 2)
    tests = []
    for k, sign in ((0, 1.0), (1, -1.0)):
        a, b = cumulants[16][k], cumulants[8][k]
        diff = sign * (a.value - b.value)
        se = math.hypot(a.standard_error, b.standard_error)
        # One-sided: fail only on significant evidence that the sign is wrong at this end
        # (a crossing outside the window). With the two-sided threshold the false-failure
        # rate is at most alpha/2 per end.
        test = stats.z_test(min(diff, 0.0), 0.0, se, alpha)
        tests.append(test)
    lo, hi = BINDER_WINDOW
    values = ", ".join(f"T={T:g}: U4(8) = {cumulants[8][k].value:.4f}, U4(16) = "
                       f"{cumulants[16][k].value:.4f}" for k, T in enumerate(setting.temperatures))
    return outcomes.from_z_tests(tests, f"U4(16) − U4(8) must not be significantly < 0 at "
                                 f"T={lo:g} nor > 0 at T={hi:g} ({values})")


AGREE_LENGTH = {Budget.QUICK: RunLength(32, 4000, 1000), Budget.FULL: RunLength(16, 50_000, 5000)}


@suite.check("hot-cold-start", games=_settings(**{"L32,T=2.4": Setting(32, (2.4,))}))
def hot_cold(sampler, setting: Setting, ctx: Context) -> Outcome:
    """Hot and cold starts give the same ⟨E⟩/N and ⟨|m|⟩ (two-sample z-tests)."""
    if (why := _fits(sampler, setting)):
        return Outcome.skip(why)
    hot = _run(sampler, setting, ctx, AGREE_LENGTH[ctx.budget], "hot")
    cold = _run(sampler, setting, ctx, AGREE_LENGTH[ctx.budget], "cold")
    return _two_sample(hot, cold, "hot vs cold start on 32x32 at T=2.4")


def _two_sample(a, b, what: str) -> Outcome:
    alpha = stats.bonferroni(ALPHA, 2)
    tests = []
    for series_a, series_b in ((a[0][0], b[0][0]), (np.abs(a[1][0]), np.abs(b[1][0]))):
        (ma, sa, da), (mb, sb, db) = (stats.conservative_mean(series_a),
                                      stats.conservative_mean(series_b))
        tests.append(stats.two_sample_z_test(ma, sa, mb, sb, alpha, dof_a=da, dof_b=db))
    return outcomes.from_z_tests(tests, f"{what}: E/N then ⟨|m|⟩")


@suite.check("agrees-with-reference", games=_settings(**{"L16,T=2.3": Setting(16, (2.3,))}))
def agrees_with_reference(sampler, setting: Setting, ctx: Context) -> Outcome:
    """⟨E⟩/N and ⟨|m|⟩ near T_c agree with a reference sampler of another algorithm (Wolff, or heat-bath for Wolff)."""
    if (why := _fits(sampler, setting)):
        return Outcome.skip(why)
    from mfcheck.reference.ising import SAMPLERS
    other = "checkerboard-heat-bath" if solver_name(sampler) == "wolff" else "wolff"
    mine = _run(sampler, setting, ctx, AGREE_LENGTH[ctx.budget])
    ref = _run(SAMPLERS[other], setting, Context(ctx.seed + 1, ctx.budget, ctx.device),
               AGREE_LENGTH[ctx.budget])
    return _two_sample(mine, ref, f"{solver_name(sampler)} vs reference {other} on 16x16 at T=2.3")


CURVE_TEMPERATURES = {Budget.QUICK: tuple(np.round(np.linspace(1.5, 3.5, 9), 4)),
                      Budget.FULL: tuple(np.round(np.linspace(1.0, 4.0, 31), 4))}
CURVE_LENGTH = {Budget.QUICK: RunLength(32, 3000, 1000), Budget.FULL: RunLength(16, 50_000, 5000)}
CURVE_CHECKED_BELOW = 2.0  # where e^(−L/ξ) on 20x20 is ≤ 1%: compared with Onsager


def write_order_parameter_curve(report_dir, name: str, T, mean, se, *, label: str | None = None,
                                more: dict | None = None, x_unit: float = 1.0,
                                x_label: str = "temperature T (J = k_B = 1)") -> list[str]:
    """``order-parameter-<name>.csv`` and ``.png`` (with Onsager's curve) in ``report_dir``.

    ``label`` names the (T, mean, se) curve (default ``"<name>, 20×20"``); ``more`` =
    {label: (mean, se)} adds curves at the same temperatures (one CSV column pair each).
    The x axis shows T/``x_unit``: the Ising stage game's τ = T·λ/2 is ``x_unit = 2/λ``.
    """
    curves = {label or f"{name}, 20×20": (mean, se), **(more or {})}
    report_dir.mkdir(parents=True, exist_ok=True)
    stem = "order-parameter-" + file_stem(name)
    csv = report_dir / f"{stem}.csv"
    header = ["temperature", "mean_abs_magnetization", "standard_error"]
    header += [f"{file_stem(c)}_{col}" for c in list(curves)[1:] for col in ("mean", "se")]
    columns = [T] + [v for m, s in curves.values() for v in (m, s)]
    rows = "\n".join(",".join(f"{v:.8g}" for v in row) for row in zip(*columns))
    csv.write_text(",".join(header) + "\n" + rows + "\n")
    fig, ax = new_figure(figsize=(6, 4))
    x = np.asarray(T, dtype=float) / x_unit
    grid = np.linspace(min(T), max(T), 400)
    ax.plot(grid / x_unit, exact.onsager_magnetization(grid), "k-", lw=1, label="Onsager (L = ∞)")
    for marker, (what, (m, s)) in zip("osD^vx", curves.items()):
        ax.errorbar(x, m, yerr=s, fmt=marker + "-", ms=4, lw=0.8, capsize=2, label=what)
    ax.axvline(exact.T_C / x_unit, color="grey", lw=0.5, ls=":")
    ax.set_xlabel(x_label)
    ax.set_ylabel("order parameter ξ = ⟨|N↑ − N↓|⟩ / N")
    ax.legend(fontsize="small")
    return [str(csv), save_figure(fig, report_dir / f"{stem}.png", dpi=120)]


@suite.check("order-parameter-curve", games=_settings(**{"L20": Setting(20, ())}))
def order_parameter_curve(sampler, setting: Setting, ctx: Context) -> Outcome:
    """ξ = ⟨|N↑ − N↓|⟩/N on 20x20 against T (plot and data in the report); equals Onsager's M below T=2 within e^(−L/ξ)."""
    temps = CURVE_TEMPERATURES[ctx.budget]
    setting = Setting(setting.L, temps)
    if (why := _fits(sampler, setting)):
        return Outcome.skip(why)
    _, m = _run(sampler, setting, ctx, CURVE_LENGTH[ctx.budget])
    estimates = [stats.conservative_mean(np.abs(m[k])) for k in range(len(temps))]
    mean = [e[0] for e in estimates]
    se = [e[1] for e in estimates]
    artifacts = (write_order_parameter_curve(ctx.report_dir, solver_name(sampler), temps, mean, se)
                 if ctx.report_dir is not None else [])
    checked = [k for k, T in enumerate(temps) if T <= CURVE_CHECKED_BELOW]
    alpha = stats.bonferroni(ALPHA, len(checked))
    tests = []
    for k in checked:
        T = temps[k]
        allowance = math.exp(-setting.L / correlation_length_bound(T))
        onsager = float(exact.onsager_magnetization(T))
        target = min(max(mean[k], onsager - allowance), onsager + allowance)
        tests.append(stats.z_test(mean[k], target, se[k], alpha, dof=estimates[k][2]))
    outcome = outcomes.from_z_tests(tests, f"⟨|m|⟩ on 20x20 at T ≤ {CURVE_CHECKED_BELOW:g} vs "
                                    f"Onsager within e^(−L/ξ); curve at {len(temps)} "
                                    f"temperatures written")
    return Outcome(outcome.passed, outcome.measured, outcome.expected, outcome.tolerance,
                   outcome.message, artifacts=tuple(artifacts))

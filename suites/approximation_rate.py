"""Suite ``approximation-rate``: how fast N players approach their mean-field limit
(FACTS.md, "Mean-field approximation rate"; docs/approximation_rate.md).

Two checks on games whose stationary mean-field equilibrium (π*, μ*) mfcheck knows in
closed form (`GAMES`):

- ``distribution-error`` (the simulator's): N agents play π* from μ* under several
  schedules; E‖μ̂_N − μ*‖₁ on a log grid of N must fall like N^(−1/2) whatever the number
  k of agents acting per round (the Temporal Mean Field claim). Per replica the error is
  averaged over one record per epoch after a burn-in (records are correlated in time,
  replicas are independent: the standard error is across replicas); the slope of
  log(error) on log(N) is a weighted least-squares fit whose interval must contain −1/2.
- ``exploitability-rate`` (mfcheck's own N-player game): the exact N-player
  exploitability of π* (the true best response of one agent that sees the others'
  counts, by enumeration) must decay at least as fast as N^(−1/2).
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from mfcheck import stats
from mfcheck.analytic.congestion import wardrop_n_route
from mfcheck.check import FALSE_FAILURE_RATE, Budget, Context, Outcome, Suite
from mfcheck.envs import Schedule
from mfcheck.game import FiniteMFG
from mfcheck.games import queueing, queueing_equilibrium, resource_selection
from mfcheck.games.resource_selection import split_policy
from mfcheck.nplayer import exact_exploitability
from mfcheck.protocols import simulator_populations, solver_name
from mfcheck.report import file_stem, new_figure, save_figure

Tensor = torch.Tensor
ALPHA = FALSE_FAILURE_RATE
RATE = -0.5  # the mean-field approximation rate of E‖μ̂_N − μ*‖₁ (FACTS.md)

suite = Suite("approximation-rate", role="simulator",
              description="N-player simulators approach the mean field at rate N^(-1/2) "
                          "for every schedule; the N-player exploitability of the mean-field "
                          "equilibrium decays at least as fast",
              reference_solvers=["mfcheck.nplayer:ReferenceSimulator"])


# -- the games ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Equilibrium:
    """A game with its stationary mean-field equilibrium: π* and its population μ*."""

    label: str  # the check's game column
    game: FiniteMFG
    policy: Tensor
    mu: Tensor
    #: Rewards affine in L with L-independent moves: the exploitability may fall like 1/N.
    affine: bool
    #: The largest N whose exact N-player game `mfcheck.nplayer.exact` enumerates (its
    #: work grows like C(N+S−2, S−1)·(AS)^(N−1); each grid takes < 2 s).
    largest_exact: int


#: Resource selection, two resources c = (1 + m_1, 1.5 + 2 m_2): Wardrop split (5/6, 1/6).
ROUTES = dict(a=[1.0, 1.5], b=[1.0, 2.0])
#: Two queues whose service slows with their load (transitions depend on L).
QUEUES = dict(waiting_cost=[0.2, 0.5], load_cost=[1.0, 0.5], service=[0.5, 0.8],
              slowdown=[1.0, 0.5])


def routes_equilibrium(device) -> Equilibrium:
    game = resource_selection(**ROUTES, device=device)
    split = torch.as_tensor(wardrop_n_route(**ROUTES), dtype=game.dtype, device=game.device)
    return Equilibrium("resource-selection", game, split_policy(game, split), split,
                       affine=True, largest_exact=9)


def queues_equilibrium(device) -> Equilibrium:
    game = queueing(**QUEUES, device=device)
    eq = queueing_equilibrium(**QUEUES)
    mu = torch.as_tensor(eq.mu, dtype=game.dtype, device=game.device)
    return Equilibrium("queueing", game, eq.policy(game), mu, affine=False, largest_exact=7)


GAMES: dict[str, Callable[[torch.device], Equilibrium]] = {  # by label
    "resource-selection": routes_equilibrium, "queueing": queues_equilibrium}


# -- distribution error ------------------------------------------------------------------------

@dataclass(frozen=True)
class Level:
    """A budget level of ``distribution-error``: the grid of N, the schedules, independent
    replicas per (N, schedule), and epochs (N agent decisions) of burn-in and measured.
    Asynchronous schedules stop at ``async_up_to``: the reference draws every agent's
    schedule uniform in each of an epoch's 1/f rounds, so an epoch costs 1/f synchronous
    ones (f = 0.1 at N = 1e5: 16 s of CPU per game, against 0.3 s synchronously)."""

    sizes: tuple[int, ...]
    schedules: tuple[str, ...]
    replicas: int
    burn_in_epochs: int
    measured_epochs: int
    async_up_to: int

    def sizes_for(self, schedule: Schedule, device: torch.device) -> tuple[int, ...]:
        sizes = self.sizes + (CUDA_EXTRA_SIZES if device.type == "cuda" and
                              self is LEVELS[Budget.FULL] else ())
        return sizes if schedule.kind == "all" else tuple(n for n in sizes
                                                          if n <= self.async_up_to)


#: The fit starts here: below, E‖μ̂_N − μ*‖₁ has O(1/N) relative corrections (lattice
#: effects of the multinomial) that a fit at a few % precision per point can resolve
#: (docs/approximation_rate.md).
FIT_FROM = 100
LEVELS = {
    Budget.QUICK: Level((10, 100, 1_000, 10_000, 100_000), ("all", "0.1"), replicas=16,
                        burn_in_epochs=5, measured_epochs=20, async_up_to=10_000),
    Budget.FULL: Level((10, 100, 1_000, 10_000, 100_000, 1_000_000), ("all", "0.1", "0.01"),
                       replicas=64, burn_in_epochs=10, measured_epochs=100,
                       async_up_to=100_000),
}
#: On CUDA the full grid goes one decade further.
CUDA_EXTRA_SIZES = (10_000_000,)


def simulated_mu(simulator, eq: Equilibrium, *, n_agents: int, schedule: Schedule,
                 level: Level, seed: int) -> Tensor:
    """μ̂_N ``(replicas, records, S)`` from ``simulator``, one record per epoch, started from
    μ*, validated (`mfcheck.protocols.simulator_populations`)."""
    every = schedule.steps(n_agents)
    epochs = level.burn_in_epochs + level.measured_epochs
    return simulator_populations(simulator, eq.game, eq.policy, n_agents=n_agents,
                                 acting=schedule, rounds=epochs * every, batch=level.replicas,
                                 seed=seed, record_every=every, initial=eq.mu)


def time_averaged_error(mu: Tensor, target: Tensor, burn_in: int) -> Tensor:
    """Per replica, ‖μ̂_N − μ*‖₁ averaged over the records after the first ``burn_in``:
    ``(replicas,)``. Records of one replica are correlated, replicas are independent, so
    these are the values to take a mean and a standard error across."""
    return (mu[:, burn_in:] - target).abs().sum(-1).mean(1)


def binomial_prefactor(mu: Tensor) -> float:
    """c in E‖μ̂_N − μ‖₁ ≈ c/√N for N independent draws from μ: Σ_s √(2μ_s(1 − μ_s)/π)
    (each count is Binomial(N, μ_s), E|Z| = √(2/π) for a standard normal Z)."""
    return float(torch.sqrt(2 * mu * (1 - mu) / math.pi).sum())


@dataclass(frozen=True)
class RateFit:
    """log(error) = intercept + slope·log(N), weighted by σ = SE/error, on N ≥ `FIT_FROM`.

    The interval is slope ± t·SE·birge: t the Student critical value on the replicas'
    dof (each point's SE is itself estimated from them) at ``rate`` two-sided, birge =
    max(1, √(χ²/dof)) (the Birge ratio: scatter beyond the stated errors widens the
    interval instead of rejecting the line)."""

    sizes: np.ndarray
    error: np.ndarray
    standard_error: np.ndarray
    slope: float
    intercept: float
    interval: tuple[float, float]
    birge: float

    @classmethod
    def of(cls, sizes, estimates: list[stats.ReplicateEstimate], rate: float) -> RateFit:
        sizes = np.asarray(sizes, dtype=float)
        error = np.array([e.mean for e in estimates])
        se = np.array([e.standard_error for e in estimates])
        fitted = sizes >= FIT_FROM
        fit = stats.fit_slope(np.log(sizes[fitted]), np.log(error[fitted]),
                              se[fitted] / error[fitted])
        dof = int(fitted.sum()) - 2
        birge = max(1.0, math.sqrt(fit.chi2 / dof)) if dof > 0 else 1.0
        half = estimates[0].critical_value(rate) * fit.slope_se * birge
        return cls(sizes, error, se, fit.slope, fit.intercept,
                   (fit.slope - half, fit.slope + half), birge)

    def contains(self, slope: float) -> bool:
        return self.interval[0] <= slope <= self.interval[1]


@suite.check("distribution-error", games=GAMES)
def distribution_error(simulator, eq: Equilibrium, ctx: Context) -> Outcome:
    """E‖μ̂_N − μ*‖₁ of the simulator at the mean-field equilibrium falls like N^(-1/2) for every schedule (fitted log-log slope)."""
    level = LEVELS[ctx.budget]
    rate = stats.bonferroni(ALPHA, len(level.schedules))
    c_binomial = binomial_prefactor(eq.mu)
    fits, findings = {}, []
    for j, text in enumerate(level.schedules):
        schedule = Schedule.parse(text)
        sizes = level.sizes_for(schedule, ctx.device)
        estimates = [stats.across_seeds(time_averaged_error(
            simulated_mu(simulator, eq, n_agents=n, schedule=schedule, level=level,
                         seed=ctx.seed_for(100 * j + i)),
            eq.mu, level.burn_in_epochs + 1).cpu()) for i, n in enumerate(sizes)]
        fit = fits[text] = RateFit.of(sizes, estimates, rate)
        scaled = fit.error[fit.sizes >= FIT_FROM] * np.sqrt(fit.sizes[fit.sizes >= FIT_FROM])
        findings.append(
            ("" if fit.contains(RATE) else "FAILED: ") +
            f"schedule {schedule}: slope {fit.slope:.4f}, interval [{fit.interval[0]:.4f}, "
            f"{fit.interval[1]:.4f}] (Birge ×{fit.birge:.2f}) "
            f"{'contains' if fit.contains(RATE) else 'excludes'} {RATE:g}; error·√N = "
            f"{scaled.mean():.4f} vs independent draws {c_binomial:.4f} (ratio "
            f"{scaled.mean() / c_binomial:.3f}, information); error at N = "
            + ", ".join(f"{n:g}: {e:.3g} ± {s:.2g}" for n, e, s in
                        zip(fit.sizes, fit.error, fit.standard_error)))
    passed = all(f.contains(RATE) for f in fits.values())
    artifacts = () if ctx.report_dir is None else \
        (plot_errors(ctx.report_dir, simulator, ctx.budget, eq, fits, c_binomial),)
    return Outcome(
        passed, {s: f.slope for s, f in fits.items()}, RATE,
        {s: list(f.interval) for s, f in fits.items()},
        f"{solver_name(simulator)} on {eq.game.name} at its mean-field equilibrium, started "
        f"from μ* = {[round(x, 4) for x in eq.mu.tolist()]}: E‖μ̂_N − μ*‖₁ per replica over "
        f"{level.measured_epochs} epochs after {level.burn_in_epochs}, mean ± SE across "
        f"{level.replicas} replicas; log-log slope fitted on N ≥ {FIT_FROM} (weighted, "
        f"Student t on {level.replicas - 1} dof, false-failure rate {ALPHA:g} Bonferroni over "
        f"{len(fits)} schedules) must contain {RATE:g}: " + "; ".join(findings),
        artifacts=artifacts)


def plot_errors(report_dir, simulator, budget: Budget, eq: Equilibrium,
                fits: dict[str, RateFit], c_binomial: float) -> str:
    """Log-log error against N per schedule: points with ±2 SE bars, the fitted line, and
    the independent-draws guide c/√N."""
    fig, ax = new_figure(figsize=(5.5, 4.2))
    for text, fit in fits.items():
        bar = ax.errorbar(fit.sizes, fit.error, yerr=2 * fit.standard_error, fmt="o", ms=4,
                          capsize=2, label=f"{Schedule.parse(text)}: slope {fit.slope:.3f} "
                          f"[{fit.interval[0]:.3f}, {fit.interval[1]:.3f}]")
        n = fit.sizes[fit.sizes >= FIT_FROM]
        ax.plot(n, np.exp(fit.intercept) * n ** fit.slope, color=bar[0].get_color(), lw=1)
    n = next(iter(fits.values())).sizes
    ax.plot(n, c_binomial / np.sqrt(n), "k--", lw=0.8, label="independent draws, ∝ 1/√N")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("N (agents)")
    ax.set_ylabel("E‖μ̂_N − μ*‖₁")
    name = solver_name(simulator)
    ax.set_title(textwrap.fill(f"{name}: {eq.game.name}", 90), fontsize=7)
    ax.legend(fontsize=7)
    return save_figure(fig, report_dir / (f"approximation-rate-{file_stem(name)}-"
                                          f"{eq.label}-{budget.value}.png"))


# -- exploitability ----------------------------------------------------------------------------

#: The quick budget stops this many N short of the largest enumerable (half the time).
QUICK_EXACT_MARGIN = 1
#: Float64 rounding in the exact values (≈ 1e-12 relative) moves a log-log slope by far less.
SLOPE_ROUNDING = 1e-6


@dataclass(frozen=True)
class ExploitabilityRate:
    """The exact N-player exploitability J*_N(π) − J_N(π; π) on a grid of N, and the
    least-squares slope of its logarithm on log N over the upper half of the grid (the
    most nearly asymptotic points; the values are exact, so there is no noise to
    weight)."""

    sizes: np.ndarray
    gains: np.ndarray
    slope: float
    intercept: float
    fitted_from: int

    @classmethod
    def of(cls, eq: Equilibrium, sizes) -> ExploitabilityRate:
        sizes = np.asarray(list(sizes))
        gains = np.array([exact_exploitability(eq.game, eq.policy, n_agents=int(n)).best_gain
                          for n in sizes])
        start = int(sizes[len(sizes) // 2 - 1])
        tail = sizes >= start
        if (gains[tail] <= 0).any():  # the best response gains nothing: nothing to fit
            return cls(sizes, gains, -math.inf, -math.inf, start)
        fit = stats.fit_slope(np.log(sizes[tail]), np.log(gains[tail]))
        return cls(sizes, gains, fit.slope, fit.intercept, start)

    @property
    def passed(self) -> bool:
        return self.slope <= RATE + SLOPE_ROUNDING

    def seen(self) -> str:
        if self.slope < -1.1:
            return "faster than 1/N"
        if self.slope <= -0.9:
            return "≈ 1/N"
        if self.slope < -0.6:
            return "between 1/N and N^(-1/2)"
        return "≈ N^(-1/2)" if self.slope <= -0.4 else "slower than N^(-1/2)"


@suite.check("exploitability-rate", games=GAMES, needs_solver=False)
def exploitability_rate(_, eq: Equilibrium, ctx: Context) -> Outcome:
    """The exact N-player exploitability of the mean-field equilibrium decays at least as fast as N^(-1/2) (log-log slope)."""
    largest = eq.largest_exact - (QUICK_EXACT_MARGIN if ctx.budget is Budget.QUICK else 0)
    rate = ExploitabilityRate.of(eq, range(2, largest + 1))
    expected = "≈ 1/N (rewards affine in μ, moves independent of it)" if eq.affine else \
        "N^(-1/2) or faster"
    return Outcome(
        rate.passed, rate.slope, f"<= {RATE:g}", SLOPE_ROUNDING,
        f"{eq.game.name}, π* its mean-field equilibrium: exact N-player exploitability "
        f"J*_N(π*) − J_N(π*; π*) (the best response sees its own state and the others' "
        f"counts; enumeration, synchronous rounds) at N = "
        + ", ".join(f"{n}: {g:.4g}" for n, g in zip(rate.sizes, rate.gains))
        + f"; log-log slope on N ≥ {rate.fitted_from}: {rate.slope:.4f}, {rate.seen()} "
        f"(theory: {expected}); fails when the slope exceeds {RATE:g} (exact values: "
        f"rounding allowance {SLOPE_ROUNDING:g})" + ("" if rate.passed else
                                                     " — FAILED: it decays slower than N^(-1/2)"))


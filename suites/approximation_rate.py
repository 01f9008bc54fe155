"""Suite ``approximation-rate``: how fast N players approach their mean-field limit
(docs/references.md#approximation-rate-root-n; docs/approximation_rate.md).

Two checks on games whose stationary mean-field equilibrium (π*, μ*) mfcheck knows in
closed form (`GAMES`), and, for the first, on Hypothesis-drawn garnet games with drawn
policies (`DrawnGarnets`):

- ``distribution-error`` (the simulator's): N agents play a stationary policy π from its
  stationary mean field μ^π (π*, μ* on the fixed games) under several schedules;
  E‖μ̂_N − μ^π‖₁ on a log grid of N must fall like N^(−1/2) whatever the number k of
  agents acting per round (the Temporal Mean Field claim). Per replica the error is
  averaged over one record per epoch after a burn-in (records are correlated in time,
  replicas are independent: the standard error is across replicas); the slope of
  log(error) on log(N) is a weighted least-squares fit whose interval must contain −1/2.
  The measured prefactor error·√N is reported against independent draws and against the
  linear-noise approximation of the N-player population (`Linearisation`).
- ``exploitability-rate`` (mfcheck's own N-player game): the exact N-player
  exploitability of π* (the true best response of one agent that sees the others'
  counts, by enumeration) must decay at least as fast as N^(−1/2).
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable
from dataclasses import dataclass

import hypothesis
import hypothesis.strategies as st
import numpy as np
import torch
from scipy import stats as scipy_stats

from mfcheck import stats, strategies
from mfcheck.nplayer.scatter import binomial_prefactor, l1_prefactor
from mfcheck.analytic.congestion import wardrop_n_route
from mfcheck.check import FALSE_FAILURE_RATE, Budget, Context, Outcome, Suite
from mfcheck.errors import MFCheckError, SolverError
from mfcheck.envs import Schedule
from mfcheck.game import FiniteMFG
from mfcheck.games import queueing, queueing_equilibrium, random_game, resource_selection
from mfcheck.games.resource_selection import split_policy
from mfcheck.kernels import distribution, initial_values, policy_value, stationary_distribution
from mfcheck.kernels.flow import LAZY_MAX_SQUARINGS
from mfcheck.operators import dobrushin_coefficient
from mfcheck.nplayer import exact_exploitability
from mfcheck.boundary import simulator_populations
from mfcheck.protocols import solver_name
from mfcheck.report import file_stem, new_figure, save_figure
from mfcheck.tmf import population_step

Tensor = torch.Tensor
ALPHA = FALSE_FAILURE_RATE
RATE = -0.5  # the mean-field approximation rate of E‖μ̂_N − μ*‖₁ (docs/references.md#approximation-rate-root-n)

suite = Suite("approximation-rate", role="simulator",
              description="N-player simulators approach the mean field at rate N^(-1/2) "
                          "for every schedule; the N-player exploitability of the mean-field "
                          "equilibrium decays at least as fast",
              reference_solvers=["mfcheck.nplayer:ReferenceSimulator"])


# -- the games ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Stationary:
    """A stationary game, a stationary policy π and its stationary mean field μ^π: what
    ``distribution-error`` simulates."""

    label: str  # the check's game column (and a draw's number)
    game: FiniteMFG
    policy: Tensor
    mu: Tensor


@dataclass(frozen=True)
class Equilibrium(Stationary):
    """A game with its stationary mean-field equilibrium: π* and its population μ*."""

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
    replicas per (N, schedule), epochs (N agent decisions) of burn-in and measured, and
    the number of drawn garnet games (`DrawnGarnets`).
    Asynchronous schedules stop at ``async_up_to``: an asynchronous decision costs
    0.1–0.4 µs in the reference's C kernel (~0.4–0.9 µs of torch work without it) against
    ~10 ns synchronously, the agents' states being cache misses (docs/nplayer.md)."""

    sizes: tuple[int, ...]
    schedules: tuple[str, ...]
    replicas: int
    burn_in_epochs: int
    measured_epochs: int
    async_up_to: int
    garnet_draws: int

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
                        burn_in_epochs=5, measured_epochs=20, async_up_to=10_000,
                        garnet_draws=2),
    Budget.FULL: Level((10, 100, 1_000, 10_000, 100_000, 1_000_000), ("all", "0.1", "0.01"),
                       replicas=64, burn_in_epochs=10, measured_epochs=100,
                       async_up_to=100_000, garnet_draws=6),
}
#: On CUDA the full grid goes one decade further.
CUDA_EXTRA_SIZES = (10_000_000,)


def simulated_mu(simulator, target: Stationary, *, n_agents: int, schedule: Schedule,
                 level: Level, seed: int) -> Tensor:
    """μ̂_N ``(replicas, records, S)`` from ``simulator``, one record per epoch, started from
    μ^π, validated (`mfcheck.boundary.simulator_populations`)."""
    every = schedule.steps(n_agents)
    epochs = level.burn_in_epochs + level.measured_epochs
    return simulator_populations(simulator, target.game, target.policy, n_agents=n_agents,
                                 acting=schedule, rounds=epochs * every, batch=level.replicas,
                                 seed=seed, record_every=every, initial=target.mu)


def time_averaged_error(mu: Tensor, target: Tensor, burn_in: int) -> Tensor:
    """Per replica, ‖μ̂_N − μ^π‖₁ averaged over the records after the first ``burn_in``:
    ``(replicas,)``. Records of one replica are correlated, replicas are independent, so
    these are the values to take a mean and a standard error across."""
    return (mu[:, burn_in:] - target).abs().sum(-1).mean(1)


#: μ_s below this counts as an empty state (a transient state's rounding in μ^π).
EMPTY = 1e-12


def multinomial_l1_deviation(mu: Tensor, n: int) -> float:
    """E‖counts/N − μ‖₁ for Multinomial(N, μ), exactly: Σ_s E|Binomial(N, μ_s) − Nμ_s| / N,
    summed over the binomial's support."""
    k = np.arange(n + 1)
    return sum(float((scipy_stats.binom.pmf(k, n, p) * np.abs(k - n * p)).sum()) / n
               for p in mu.tolist() if EMPTY < p < 1)


def lattice_excess(mu: Tensor, n: int) -> float:
    """How far N independent draws from μ are from their large-N law c/√N at this N
    (relative): the lattice correction the rate fit must not see at N = `FIT_FROM`."""
    return multinomial_l1_deviation(mu, n) * math.sqrt(n) / binomial_prefactor(mu) - 1


@dataclass(frozen=True)
class Linearisation:
    """The N-player population near μ^π to first order in 1/√N (the linear-noise
    approximation). In a round where each agent acts with probability f (f = 1: every
    agent), e = √N(μ̂_N − μ^π) moves as e' = A_f e + ξ with A_f = (1 − f)I + fJ and

        J(s', s) = Σ_a π(a|s) ∂Ψ(s')/∂L(s, a) at L^π = μ^π ⊗ π,  Ψ(L) = Σ_{s,a} L(s, a) P(·|s, a, L),

    the Jacobian of the mean-field step (J = P_πᵀ when P does not depend on L). The noise ξ
    has three independent sources: who acts, which action (both through the moves and,
    via L̂_N, the transitions) and where each mover lands (`round_noise`). The stationary
    covariance Σ = A_f Σ A_fᵀ + Q_f (`covariance`) gives the prefactor of E‖μ̂_N − μ^π‖₁
    beyond independent draws: where P does not depend on L, agents move independently and
    Σ = diag μ^π − μ^π μ^πᵀ, the multinomial's, for every f. Column vectors throughout.
    """

    target: Stationary
    response: Tensor  # (S', S, A): ∂Ψ(s')/∂L(s, a) at L^π
    kernel: Tensor    # (S, A, S'): P(s'|s, a, L^π)

    @classmethod
    def of(cls, target: Stationary) -> Linearisation:
        game = target.game
        L = target.mu.unsqueeze(-1) * target.policy

        def flow(L: Tensor) -> Tensor:
            return torch.einsum("sa,sap->p", L, game.transition(0, L))

        return cls(target, torch.autograd.functional.jacobian(flow, L), game.transition(0, L))

    def round_map(self, fraction: float) -> Tensor:
        """A_f ``(S, S)``: one round's linear map of μ̂_N − μ^π."""
        jacobian = (self.response * self.target.policy).sum(-1)
        eye = torch.eye(jacobian.shape[0], dtype=jacobian.dtype, device=jacobian.device)
        return (1 - fraction) * eye + fraction * jacobian

    def mixing_modulus(self, schedule: Schedule) -> float:
        """δ(E²), E = A_f^(1/f) one epoch (N agent decisions): the ℓ1 modulus of two epochs
        of the linearised population map on deviations of total mass 0 (the Dobrushin
        coefficient of the two-epoch map; `operators.dobrushin_coefficient` of its rows).
        f = k/N does not depend on N for the levels' schedules ("all" and fractions)."""
        fraction = schedule.acting_fraction(FIT_FROM)
        epoch = torch.linalg.matrix_power(self.round_map(fraction), round(1 / fraction))
        return dobrushin_coefficient((epoch @ epoch).T)

    def round_noise(self, fraction: float) -> Tensor:
        """Q_f = N·Cov(ξ) ``(S, S)``. With D = ∂Ψ/∂L − P (how L̂_N moves the transitions):
        the acting-and-action counts η (per state s: f μ_s (diag π_s − f π_s π_sᵀ)) move μ̂
        by T η, T(·, s, a) = P(·|s, a) − e_s + f (D(·, s, a) − Σ_b π(b|s) D(·, s, b)) (an
        idle agent adds π(·|s) to L̂_N, so only the actions' excess over π moves P);
        landing adds f Σ_{s,a} L(s, a) (diag P_sa − P_sa P_saᵀ)."""
        policy, mu, P = self.target.policy, self.target.mu, self.kernel
        L = mu.unsqueeze(-1) * policy
        S = mu.numel()
        eye = torch.eye(S, dtype=mu.dtype, device=mu.device)
        moved = self.response - P.permute(2, 0, 1)  # D
        T = P.permute(2, 0, 1) - eye[:, :, None] + \
            fraction * (moved - (moved * policy).sum(-1, keepdim=True))
        T_pi = (T * policy).sum(-1)
        choice = fraction * (torch.einsum("psa,sa,qsa->pq", T, L, T)
                             - fraction * torch.einsum("ps,s,qs->pq", T_pi, mu, T_pi))
        landing = fraction * (torch.diag(torch.einsum("sa,sap->p", L, P))
                              - torch.einsum("sa,sap,saq->pq", L, P, P))
        return choice + landing

    def covariance(self, fraction: float) -> Tensor:
        """The stationary N·Cov(μ̂_N) = Σ_k A_f^k Q_f A_fᵀ^k, summed by doubling. Q_f lives
        on total mass 0, where A_f contracts; A_f keeps total mass (eigenvalue 1), so it is
        applied after the projection onto mass 0, I − 11ᵀ/S, which changes nothing there but
        stops the rounding along the mass from doubling with every squaring."""
        cov, power = self.round_noise(fraction), self.round_map(fraction)
        power = power - power.mean(-1, keepdim=True)  # A_f (I − 11ᵀ/S)
        for _ in range(LAZY_MAX_SQUARINGS):
            added = power @ cov @ power.T
            cov = cov + added
            if float(added.abs().max()) <= 1e-15 * float(cov.abs().max()):
                return cov
            power = power @ power
        raise MFCheckError(f"{self.target.game.name}: the linearised population map does not "
                           f"contract (no stationary covariance)")

    def prefactor(self, schedule: Schedule) -> float:
        """c in E‖μ̂_N − μ^π‖₁ ≈ c/√N by the linear-noise approximation, for ``schedule``."""
        return l1_prefactor(torch.diagonal(self.covariance(schedule.acting_fraction(FIT_FROM))))


def replicate_slopes(log_sizes, log_errors):
    """Per replica, the least-squares slope and intercept of log(error) on log(N):
    ``log_errors`` ``(..., replicas, points)`` against ``log_sizes`` ``(points,)``; returns
    two arrays ``(..., replicas)``. Replicas at different N are independent runs, so pairing
    them by index is arbitrary and each replica's line is an independent estimate."""
    x = np.asarray(log_sizes, dtype=float)
    y = np.asarray(log_errors, dtype=float)
    weights = (x - x.mean()) / ((x - x.mean()) ** 2).sum()
    slopes = y @ weights
    return slopes, y.mean(-1) - slopes * x.mean()


def slope_interval(slopes, rate: float):
    """(mean slope, its SE across replicas, lower, upper): mean ± t·SE with t Student's
    critical value on replicas − 1 dof at ``rate`` two-sided; batched over leading axes."""
    slopes = np.asarray(slopes, dtype=float)
    k = slopes.shape[-1]
    mean = slopes.mean(-1)
    se = slopes.std(-1, ddof=1) / math.sqrt(k)
    half = float(scipy_stats.t.isf(rate / 2, k - 1)) * se
    return mean, se, mean - half, mean + half


@dataclass(frozen=True)
class RateFit:
    """The slope of log(error) on log(N) over N ≥ `FIT_FROM`, and its interval from the
    replicates themselves: each replica r gives a least-squares line through its own
    log(error_r(N)) (`replicate_slopes`); the slope is their mean and its interval
    mean ± t·SE with SE = s/√R across the R independent replica slopes and t Student's on
    R − 1 dof (`slope_interval`). No per-point standard error is treated as known, and a
    curved or scattered relation does not widen the interval: scatter between the points
    is in every replica's slope and shows as such. (The earlier weighted fit with the
    per-point SEs taken as known and a Birge-ratio widening is gone:
    docs/approximation_rate.md, docs/statistics.md for the measured false-failure rates.)

    ``error`` and ``standard_error`` are the per-N means over replicas and their SEs (for
    the message and the plots); ``intercept`` the mean replica intercept (the line drawn)."""

    sizes: np.ndarray
    error: np.ndarray
    standard_error: np.ndarray
    slope: float
    slope_se: float
    intercept: float
    interval: tuple[float, float]

    @classmethod
    def of(cls, sizes, errors, rate: float) -> RateFit:
        """``errors``: per N of ``sizes``, the replicas' errors ``(replicas,)`` (> 0)."""
        sizes = np.asarray(sizes, dtype=float)
        errors = np.stack([np.asarray(e, dtype=float) for e in errors], -1)  # (R, points)
        if not (errors > 0).all():
            raise MFCheckError("a replica's error is 0: μ̂_N equals the target exactly, there "
                               "is no rate to fit")
        fitted = sizes >= FIT_FROM
        slopes, intercepts = replicate_slopes(np.log(sizes[fitted]), np.log(errors[:, fitted]))
        slope, se, lo, hi = slope_interval(slopes, rate)
        k = errors.shape[0]
        return cls(sizes, errors.mean(0), errors.std(0, ddof=1) / math.sqrt(k), float(slope),
                   float(se), float(intercepts.mean()), (float(lo), float(hi)))

    def contains(self, slope: float) -> bool:
        return self.interval[0] <= slope <= self.interval[1]

    @property
    def scaled_error(self) -> float:
        """error·√N averaged over the fitted N: the measured prefactor."""
        fitted = self.sizes >= FIT_FROM
        return float((self.error[fitted] * np.sqrt(self.sizes[fitted])).mean())


def slope_false_failures(nominal: float, repetitions: int, *, level: Level | None = None,
                         p: float = 5 / 6, seed: int = 0) -> int:
    """How often (of ``repetitions``) `RateFit`'s interval at false-failure rate ``nominal``
    excludes −1/2 when it is true: synthetic errors of
    the check's shape (``level``'s N grid, replicas and measured epochs; quick by default)
    where μ̂_N is a binomial proportion at every record, independently, with P(state 0) = p
    (resource selection at π*, where the reference's μ̂_N is exactly that): per replica the
    mean over the records of ‖μ̂_N − μ‖₁ = 2|p̂ − p|. E of it has slope −1/2 up to the
    lattice's O(1/N) (< 0.002 on the slope from N = 100: the check's own null). Fitted
    through the check's own code path (`RateFit.of`'s `replicate_slopes` and
    `slope_interval`, batched over repetitions)."""
    level = level or LEVELS[Budget.QUICK]
    rng = np.random.default_rng(seed)
    sizes = np.asarray(level.sizes)
    fitted = sizes >= FIT_FROM
    failures = 0
    for start in range(0, repetitions, NULL_CHUNK):
        draws = rng.binomial(sizes, p, size=(min(NULL_CHUNK, repetitions - start),
                                             level.replicas, level.measured_epochs, len(sizes)))
        errors = (2 * np.abs(draws / sizes - p)).mean(2)  # (repetitions, replicas, points)
        slopes, _ = replicate_slopes(np.log(sizes[fitted]), np.log(errors[..., fitted]))
        _, _, lo, hi = slope_interval(slopes, nominal)
        failures += int(((lo > RATE) | (hi < RATE)).sum())
    return failures


#: Repetitions drawn at once by `slope_false_failures` (memory: ~13 MB of draws each).
NULL_CHUNK = 1000


# -- drawn games -------------------------------------------------------------------------------

@dataclass(frozen=True)
class DrawnGarnets:
    """The family of drawn games of ``distribution-error``: discounted stationary garnets
    (`random_game`: 2 ≤ S ≤ ``max_states``, A ≤ ``max_actions``, any branching, transitions
    that depend on L half the time) and a drawn policy mixed half-and-half with the uniform
    one, so that π(a|s) ≥ 1/(2A): a drawn row may be deterministic (`strategies.policies`
    draws zeros), and on a garnet whose pairs (s, a) have one successor a deterministic
    policy makes the chain a deterministic map, periodic or reducible, where μ̂_N never
    mixes. The target is μ^π (`stationary_distribution`). A draw is kept only where the
    rate law is what it claims to test (`accepts`)."""

    label: str
    max_states: int
    max_actions: int

    def accepts(self, linear: Linearisation, schedules) -> tuple[bool, str]:
        """The population mixes: two epochs of the linearised map shrink every ℓ1 deviation
        by at least `MIXING` for every schedule (so μ^π is a stable fixed point, the burn-in
        spans several relaxation times and the time average several independent ones); and
        at N = `FIT_FROM` independent draws from μ^π are within `LATTICE` of their c/√N law
        (no state so rare that the fit sees the counts' lattice). A point mass μ^π (an
        absorbing state) is rejected: there μ̂_N = μ^π exactly and there is no rate to fit."""
        if int((linear.target.mu > 0).sum()) < 2:
            return False, "μ^π is a point mass"
        mixing = max(linear.mixing_modulus(s) for s in schedules)
        lattice = lattice_excess(linear.target.mu, FIT_FROM)
        return (mixing <= MIXING and abs(lattice) <= LATTICE,
                f"two-epoch ℓ1 modulus δ(E²) = {mixing:.3f}, lattice excess at N = {FIT_FROM}: "
                f"{lattice:+.2%}")


DRAWN = DrawnGarnets("drawn-garnet", max_states=6, max_actions=3)
#: Two epochs of the linearised population map at μ^π must at least halve ℓ1 deviations.
MIXING = 0.5
#: |E‖μ̂_N − μ‖₁·√N / c − 1| of independent draws at N = `FIT_FROM` (moves the slope < 0.005).
LATTICE = 0.01
#: The drawn games' discount (it enters the returns only, not μ̂_N).
DRAWN_DISCOUNT = 0.9


@st.composite
def garnet_targets(draw, family: DrawnGarnets, device) -> Stationary:
    n_states = draw(st.integers(2, family.max_states))
    game = random_game(n_states, draw(st.integers(1, family.max_actions)), horizon=None,
                       branching=draw(st.integers(1, n_states)), monotone=draw(st.booleans()),
                       discount=DRAWN_DISCOUNT, seed=draw(st.integers(0, 2**31 - 1)),
                       device=device)
    policy = 0.5 * draw(strategies.policies(game)) + 0.5 / game.n_actions
    mu = stationary_distribution(game, policy).mu
    mu = torch.where(mu > EMPTY, mu, 0.0)  # a transient state's rounding
    return Stationary(family.label, game, policy, mu / mu.sum())


def drawn_targets(family: DrawnGarnets, level: Level, ctx: Context
                  ) -> tuple[list[tuple[Stationary, str]], list[str]]:
    """``level.garnet_draws`` accepted draws of ``family`` with what was measured on each,
    and the rejected ones; Hypothesis seeded by the run's seed, no database, no shrinking."""
    schedules = [Schedule.parse(text) for text in level.schedules]
    kept, rejected = [], []

    @hypothesis.seed(ctx.seed)
    @hypothesis.settings(max_examples=level.garnet_draws, database=None, deadline=None,
                         derandomize=False, phases=(hypothesis.Phase.generate,),
                         suppress_health_check=list(hypothesis.HealthCheck))
    @hypothesis.given(garnet_targets(family, ctx.device))
    def every_draw(target: Stationary):
        ok, why = family.accepts(Linearisation.of(target), schedules)
        if ok:
            kept.append((target, why))
        else:
            rejected.append(f"{target.game.name}: {why}")
        hypothesis.assume(ok)

    every_draw()
    if not kept:
        raise MFCheckError(f"no drawn game of {family.label} mixes: " + "; ".join(rejected))
    return [(Stationary(f"{family.label}-{d + 1}", t.game, t.policy, t.mu), why)
            for d, (t, why) in enumerate(kept)], rejected


def drawn_or_fixed(target, level: Level, ctx: Context) -> tuple[list[tuple[Stationary, str]], str]:
    """The targets of one game column: the fixed equilibrium, or the accepted draws."""
    if not isinstance(target, DrawnGarnets):
        return [(target, "")], ""
    targets, rejected = drawn_targets(target, level, ctx)
    return targets, (f"{len(targets)} garnet games drawn by Hypothesis (seed {ctx.seed}; S ≤ "
                     f"{target.max_states}, A ≤ {target.max_actions}, π(a|s) ≥ 1/(2A)), each "
                     f"with δ(E²) ≤ {MIXING:g} and lattice excess ≤ {LATTICE:.0%}; "
                     f"{len(rejected)} rejected" + (f" ({'; '.join(rejected)})" if rejected
                                                    else "") + ". ")


def schedule_fits(simulator, target: Stationary, level: Level, ctx: Context, rate: float,
                  salt: int) -> dict[str, RateFit]:
    """The rate fit of each schedule on ``target`` (seeds ``salt`` + 100·schedule + N's index)."""
    fits = {}
    for j, text in enumerate(level.schedules):
        schedule = Schedule.parse(text)
        sizes = level.sizes_for(schedule, ctx.device)
        errors = [time_averaged_error(
            simulated_mu(simulator, target, n_agents=n, schedule=schedule, level=level,
                         seed=ctx.seed_for(salt + 100 * j + i)),
            target.mu, level.burn_in_epochs + 1).cpu().numpy() for i, n in enumerate(sizes)]
        fits[text] = RateFit.of(sizes, errors, rate)
    return fits


def describe_fit(schedule: Schedule, fit: RateFit, c_binomial: float, c_linear: float) -> str:
    return (("" if fit.contains(RATE) else "FAILED: ") +
            f"schedule {schedule}: slope {fit.slope:.4f}, interval [{fit.interval[0]:.4f}, "
            f"{fit.interval[1]:.4f}] (± t·{fit.slope_se:.4f} across replica slopes) "
            f"{'contains' if fit.contains(RATE) else 'excludes'} {RATE:g}; error·√N = "
            f"{fit.scaled_error:.4f} vs independent draws {c_binomial:.4f} (ratio "
            f"{fit.scaled_error / c_binomial:.3f}) and linear noise {c_linear:.4f} (ratio "
            f"{fit.scaled_error / c_linear:.3f}; information); error at N = "
            + ", ".join(f"{n:g}: {e:.3g} ± {s:.2g}" for n, e, s in
                        zip(fit.sizes, fit.error, fit.standard_error)))


@suite.check("distribution-error", games={**GAMES, DRAWN.label: lambda device: DRAWN},
             false_failure_rate=ALPHA)
def distribution_error(simulator, game: Equilibrium | DrawnGarnets, ctx: Context) -> Outcome:
    """E‖μ̂_N − μ^π‖₁ of the simulator falls like N^(-1/2) for every schedule (fitted log-log slope), at the mean-field equilibrium and under drawn policies of drawn games."""
    level = LEVELS[ctx.budget]
    targets, drawn = drawn_or_fixed(game, level, ctx)
    rate = stats.bonferroni(ALPHA, len(level.schedules) * len(targets))
    fits, findings, artifacts = {}, [], []
    for d, (target, accepted) in enumerate(targets):
        linear = Linearisation.of(target)
        c_binomial = binomial_prefactor(target.mu)
        target_fits = schedule_fits(simulator, target, level, ctx, rate, salt=10_000 * d)
        text = "; ".join(describe_fit(Schedule.parse(s), f, c_binomial,
                                      linear.prefactor(Schedule.parse(s)))
                         for s, f in target_fits.items())
        if drawn:
            text = (f"[{target.label}: {target.game.name}, μ^π = "
                    f"{[round(x, 4) for x in target.mu.tolist()]}, {accepted}] {text}")
        findings.append(text)
        fits.update({(s if not drawn else f"{target.label} {s}"): f
                     for s, f in target_fits.items()})
        if ctx.report_dir is not None:
            artifacts.append(plot_errors(ctx.report_dir, simulator, ctx.budget, target,
                                         target_fits, c_binomial))
    where = drawn or (f"{game.game.name} at its mean-field equilibrium, started from μ* = "
                      f"{[round(x, 4) for x in game.mu.tolist()]}: ")
    return Outcome(
        all(f.contains(RATE) for f in fits.values()), {k: f.slope for k, f in fits.items()},
        RATE, {k: list(f.interval) for k, f in fits.items()},
        f"{solver_name(simulator)} on {where}E‖μ̂_N − μ^π‖₁ per replica over "
        f"{level.measured_epochs} epochs after {level.burn_in_epochs}, mean ± SE across "
        f"{level.replicas} replicas; log-log slope on N ≥ {FIT_FROM}, one least-squares line "
        f"per replica, mean ± Student t on {level.replicas - 1} dof across the replica slopes "
        f"(false-failure rate {ALPHA:g} Bonferroni over "
        f"{len(fits)} fits: schedules × games) must contain {RATE:g}: " + " | ".join(findings),
        artifacts=tuple(artifacts))


def plot_errors(report_dir, simulator, budget: Budget, target: Stationary,
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
    ax.set_ylabel("E‖μ̂_N − μ‖₁ (μ: the stationary mean field)")
    name = solver_name(simulator)
    ax.set_title(textwrap.fill(f"{name}: {target.game.name}", 80), fontsize=7)
    ax.legend(fontsize=7)
    return save_figure(fig, report_dir / (f"approximation-rate-{file_stem(name)}-"
                                          f"{target.label}-{budget.value}.png"))


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


# exact enumeration; SLOPE_ROUNDING covers float64 rounding
@suite.check("exploitability-rate", games=GAMES, needs_solver=False, false_failure_rate=0)
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



# -- the law of large numbers: populations, returns, independent replicas ----------------------
#
# `distribution-error` sees how fast μ̂_N concentrates, not where: a simulator whose agents
# move by a transposed kernel, start from the wrong law, or whose returns are discounted per
# round concentrates at the right rate around the wrong place. The checks below judge the
# place: the mean over replicas of μ̂_N and of the mean return against the mean-field limit
# (exact recursions), with the finite-N bias removed by a fit in 1/N (`Extrapolated`), and
# whether replicas and seeds are independent draws at all (`replica-independence`).

@dataclass(frozen=True)
class Transient:
    """A game played with a fixed policy from the game's own μ0, far from the policy's
    stationary mean field, so that the population's path and the returns depend on the
    time scale, the initial law, the kernel's orientation and the reward's time index."""

    label: str
    game: FiniteMFG
    policy: Tensor
    description: str

    @property
    def schedules(self) -> tuple[str, ...]:
        """Every schedule for stationary games; finite-horizon games run synchronously."""
        return TRANSIENT_SCHEDULES if self.game.stationary else ("all",)


#: "all"; f = 0.5, where drawing the acting set of k = fN *with* replacement leaves
#: 1 − e^(−1/2) ≈ 0.39 of the agents acting instead of 0.5; f = 0.1; "one" (κ = 1/N).
TRANSIENT_SCHEDULES = ("all", "0.5", "0.1", "one")


def queueing_transient(device) -> Transient:
    game = queueing(**QUEUES, device=device)
    return Transient("queueing-from-idle", game, queueing_equilibrium(**QUEUES).policy(game),
                     "the queueing game's equilibrium policy played from everyone idle "
                     "(rewards and transitions depend on L)")


#: An interior table for the 4-state garnets below (rows: states).
GARNET_POLICY = [[0.7, 0.3], [0.4, 0.6], [0.2, 0.8], [0.5, 0.5]]


def garnet_transient(device) -> Transient:
    game = random_game(4, 2, horizon=None, branching=2, monotone=True, discount=0.9, seed=11,
                       device=device)
    policy = torch.tensor(GARNET_POLICY, dtype=game.dtype, device=game.device)
    return Transient("garnet-from-mu0", game, policy,
                     "a 4-state garnet with L-free transitions and rewards linear in μ, a fixed "
                     "interior policy, from the garnet's drawn μ0")


def horizon_transient(device) -> Transient:
    game = random_game(4, 2, horizon=4, branching=2, monotone=False, seed=5, device=device)
    rows = torch.tensor(GARNET_POLICY, dtype=game.dtype, device=game.device)
    policy = torch.stack([rows, rows.flip(-1), rows.flip(0), rows])  # (H, S, A)
    return Transient("garnet-horizon-4", game, policy,
                     "a 4-state garnet with horizon 4, transitions depending on μ, an interior "
                     "policy that changes with the epoch, from the garnet's μ0")


TRANSIENTS: dict[str, Callable[[torch.device], Transient]] = {
    "queueing-from-idle": queueing_transient, "garnet-from-mu0": garnet_transient,
    "garnet-horizon-4": horizon_transient}


@dataclass(frozen=True)
class MeanField:
    """The N → ∞ limit of a run of ``rounds`` rounds in which each agent acts with
    probability κ per round: ``mu`` ``(records, S)`` the population's law at the records
    (one per epoch), ``value`` the expected mean return, ``source`` where they come from.

    Stationary games: the population follows T_κ(μ) = (1 − κ)μ + κΦ(μ)
    (`mfcheck.tmf.population_step`); one agent's discount-weighted law w_n(s) =
    E[γ^(D_n); x_n = s] (D_n its decisions before round n) follows
    w_(n+1) = (1 − κ)w_n + κγ·w_n K_n, K_n = Σ_a π(a|·)P(·|·, a, L_n), and it earns
    κ⟨w_n, r_π(L_n)⟩ in round n: its j-th decision is discounted by γ^j, and the run's
    truncation after ``rounds`` rounds is exact. From the stationary μ^π this is
    ⟨μ^π, V^π⟩·(1 − E γ^D), D ~ Binomial(rounds, κ) (`mfcheck.kernels.policy_value`).
    Finite-horizon games (κ = 1, H rounds): the flow and ⟨μ0, V_0^π⟩ of
    `mfcheck.kernels.distribution` and `policy_value`, discounted by γ^t."""

    mu: Tensor
    value: float
    source: str

    @classmethod
    def of(cls, game: FiniteMFG, policy: Tensor, *, fraction: float, rounds: int,
           record_every: int, initial: Tensor | None = None) -> MeanField:
        """``initial``: the law of the initial states (stationary games; default μ0)."""
        if not game.stationary:
            flow = distribution(game, policy)
            return cls(flow.mu, float(initial_values(game, policy_value(game, policy, flow).v)),
                       "mfcheck.kernels.distribution and policy_value (exact, from μ0)")
        start = game.mu0 if initial is None else initial
        mu, w = start[None], start
        path, value = [mu[0]], 0.0
        for _ in range(rounds):
            L = mu[0, :, None] * policy
            value += fraction * float(w @ (game.reward(0, L) * policy).sum(-1))
            chain = torch.einsum("sa,sap->sp", policy, game.transition(0, L))
            w = (1 - fraction) * w + fraction * game.discount * (w @ chain)
            mu = population_step(game, policy, mu, fraction=fraction)
            path.append(mu[0])
        return cls(torch.stack(path[::record_every]), value,
                   f"the mean-field recursion T_κ, κ = {fraction:g}, with each agent's "
                   f"decisions discounted γ^j (exact, {rounds} rounds from μ0)")


def run_populations(simulator, game: FiniteMFG, policy: Tensor, *, n_agents: int,
                    acting: Schedule, rounds: int | None, batch: int, seed: int,
                    record_every: int = 1) -> tuple[Tensor, Tensor]:
    """μ̂_N ``(batch, records, S)`` and the mean return ``(batch,)`` of one call, both
    validated (`mfcheck.boundary.simulator_populations` for μ̂_N)."""
    seen = _Recorder(simulator)
    mu = simulator_populations(seen, game, policy, n_agents=n_agents, acting=acting,
                               rounds=rounds, batch=batch, seed=seed, record_every=record_every)
    returns = getattr(seen.trajectory, "mean_return", None)
    if not isinstance(returns, torch.Tensor) or tuple(returns.shape) != (batch,) or \
            not torch.isfinite(returns).all():
        got = (f"shape {tuple(returns.shape)}" + ("" if not isinstance(returns, torch.Tensor) or
                                                  torch.isfinite(returns).all() else
                                                  " with NaN or inf")
               if isinstance(returns, torch.Tensor) else type(returns).__name__)
        raise SolverError(f"invalid output: {seen.name}.simulate(N={n_agents}, acting={acting}) "
                          f"gave trajectory.mean_return {got}; expected finite ({batch},)")
    return mu, returns.to(torch.float64)


class _Recorder:
    """The simulator, keeping the trajectory of its last call."""

    def __init__(self, simulator) -> None:
        self.simulator, self.name, self.trajectory = simulator, solver_name(simulator), None

    def simulate(self, game, policy, **kwargs):
        self.trajectory = self.simulator.simulate(game, policy, **kwargs)
        return self.trajectory


@dataclass(frozen=True)
class MeanPlan:
    """``population-mean`` and ``mean-return``: per schedule, independent calls at each N of
    ``sizes`` (``one_sizes`` for ``"one"``, whose epoch is N rounds) with ``replicas``
    replicas each, ``epochs`` epochs recorded once per epoch."""

    sizes: tuple[int, ...]
    one_sizes: tuple[int, ...]
    replicas: int
    epochs: int

    def sizes_for(self, schedule: Schedule) -> tuple[int, ...]:
        return self.one_sizes if schedule.kind == "one" else self.sizes


MEAN_PLANS = {Budget.QUICK: MeanPlan((100, 400), (50, 200), replicas=32, epochs=3),
              Budget.FULL: MeanPlan((250, 1000, 4000), (100, 400, 1600), replicas=128,
                                    epochs=5)}


@dataclass(frozen=True)
class Extrapolated:
    """δ(N) = (mean over replicas) − (mean-field limit) at each N, fitted as δ∞ + b/N
    (weighted least squares on 1/N, σ the SE across replicas): the O(1/N) finite-population
    bias of a mean (second order in the O(1/√N) fluctuations) is fitted, not bounded, and
    δ∞, the N → ∞ intercept, must be 0. Its interval is δ∞ ± t·SE(δ∞), t Student's on the
    replicas' R − 1 dof (each point's SE is estimated from R replicas). With the points at
    N and 4N, SE(δ∞) ≈ 0.75·SE(δ(N)) (the larger N is the more precise)."""

    delta: float
    standard_error: float
    measured: tuple[float, ...]  # the means at each N
    expected: tuple[float, ...]  # the mean-field limits at each N

    @classmethod
    def of(cls, sizes, estimates: list[stats.ReplicateEstimate], expected) -> Extrapolated:
        means = np.array([float(e.mean) for e in estimates])
        se = np.array([float(e.standard_error) for e in estimates])
        deltas = means - np.asarray(expected, dtype=float)
        if (se == 0).any():  # identical replicas: no error estimate; exact or wrong
            exact = bool((np.abs(deltas) <= 1e-12).all())
            return cls(0.0 if exact else float(deltas[-1]), 0.0, tuple(means), tuple(expected))
        fit = stats.fit_slope(1.0 / np.asarray(sizes, dtype=float), deltas, se)
        return cls(fit.intercept, fit.intercept_se, tuple(means), tuple(expected))

    def z(self) -> float:
        if self.standard_error == 0:
            return 0.0 if self.delta == 0 else math.inf
        return abs(self.delta) / self.standard_error


def transient_runs(simulator, transient: Transient, schedule: Schedule, plan: MeanPlan,
                   ctx: Context, salt: int) -> list[tuple[int, Tensor, Tensor, MeanField]]:
    """For each N: μ̂_N at the start of each epoch ``(replicas, epochs + 1, S)`` (H records
    for a finite-horizon game), the mean returns ``(replicas,)`` and the mean-field limit."""
    game, out = transient.game, []
    for i, n in enumerate(plan.sizes_for(schedule)):
        every = schedule.steps(n)
        rounds = plan.epochs * every if game.stationary else None
        mu, returns = run_populations(simulator, game, transient.policy, n_agents=n,
                                      acting=schedule, rounds=rounds, batch=plan.replicas,
                                      seed=ctx.seed_for(salt + i), record_every=every)
        limit = MeanField.of(game, transient.policy, fraction=schedule.acting_fraction(n),
                             rounds=rounds or game.horizon, record_every=every)
        out.append((n, mu.cpu(), returns.cpu(), limit))
    return out


def every_schedule(simulator, transient: Transient, plan: MeanPlan, ctx: Context):
    """(text, schedule, `transient_runs`) for each schedule of ``transient``."""
    for j, text in enumerate(transient.schedules):
        schedule = Schedule.parse(text)
        yield text, schedule, transient_runs(simulator, transient, schedule, plan, ctx,
                                             salt=100 * j)


def _verdict(results: list[tuple[str, Extrapolated]], alpha: float, dof: int):
    """The largest |z| and the cells whose |δ∞| exceeds t·SE."""
    threshold = float(scipy_stats.t.isf(alpha / 2, dof))
    failed = [(k, e) for k, e in results if e.z() > threshold]
    worst = max(results, key=lambda r: r[1].z())
    return threshold, failed, worst


@suite.check("population-mean", games=TRANSIENTS, false_failure_rate=ALPHA)
def population_mean(simulator, transient: Transient, ctx: Context) -> Outcome:
    """The mean over replicas of μ̂_N at every epoch follows the exact mean-field recursion (the law of large numbers) for every schedule, the O(1/N) bias fitted in 1/N (z-tests, Bonferroni, rate 1e-4)."""
    plan = MEAN_PLANS[ctx.budget]
    results, rows = [], []
    for text, schedule, runs in every_schedule(simulator, transient, plan, ctx):
        sizes = [n for n, *_ in runs]
        records = runs[0][1].shape[1]
        for r in range(records):
            for s in range(transient.game.n_states):
                est = [stats.across_seeds(mu[:, r, s]) for _, mu, _, _ in runs]
                limit = [float(mf.mu[r, s]) for *_, mf in runs]
                results.append(((text, r, s), Extrapolated.of(sizes, est, limit)))
        last = runs[-1]
        rows.append(f"{schedule} (N = {', '.join(map(str, sizes))}), at N = {last[0]}, epoch "
                    f"{records - 1}: μ̂ {np.round(last[1][:, -1].mean(0).numpy(), 4).tolist()} vs "
                    f"{np.round(last[3].mu[-1].cpu().numpy(), 4).tolist()}")
    alpha = stats.bonferroni(ALPHA, len(results))
    threshold, failed, (where, worst) = _verdict(results, alpha, plan.replicas - 1)
    text, r, s = where
    verdict = ("every mean agrees" if not failed else
               f"FAIL at {len(failed)} of {len(results)}: " + ", ".join(
                   f"{k[0]} epoch {k[1]} state {k[2]}" for k, _ in failed[:6]))
    return Outcome(
        not failed, worst.z(), 0.0, threshold,
        f"{solver_name(simulator)}, {transient.description}: the mean over {plan.replicas} "
        f"replicas of μ̂_N at the start of each epoch against the mean-field limit "
        f"({MeanField.of.__qualname__}: T_κ from μ0, or the finite-horizon flow of "
        f"mfcheck.kernels.distribution), the difference fitted as δ∞ + b/N over the N of each "
        f"schedule; {len(results)} z-tests of δ∞ = 0 (Student t on {plan.replicas - 1} dof, "
        f"false-failure rate {ALPHA:g} Bonferroni): |z| ≤ {threshold:.3g}; largest |z| = "
        f"{worst.z():.3g} ({text}, epoch {r}, state {s}: measured "
        f"{', '.join(f'{m:.5f}' for m in worst.measured)} vs limit "
        f"{', '.join(f'{m:.5f}' for m in worst.expected)}, δ∞ = {worst.delta:+.5f} ± "
        f"{worst.standard_error:.2g}); {verdict}. " + "; ".join(rows))


@suite.check("mean-return", games=TRANSIENTS, false_failure_rate=ALPHA)
def mean_return(simulator, transient: Transient, ctx: Context) -> Outcome:
    """The mean over replicas of the population's mean return equals the mean-field value of the policy on the epoch scale (each agent's j-th decision discounted γ^j) for every schedule, the O(1/N) bias fitted in 1/N (z-tests, Bonferroni, rate 1e-4)."""
    plan = MEAN_PLANS[ctx.budget]
    alpha = stats.bonferroni(ALPHA, len(transient.schedules))
    threshold = float(scipy_stats.t.isf(alpha / 2, plan.replicas - 1))
    results, rows = [], []
    for text, schedule, runs in every_schedule(simulator, transient, plan, ctx):
        fit = Extrapolated.of([n for n, *_ in runs],
                              [stats.across_seeds(returns) for _, _, returns, _ in runs],
                              [mf.value for *_, mf in runs])
        results.append((text, fit))
        rows.append(f"{schedule}: measured " + ", ".join(
            f"{m:.4f} (N = {n})" for m, (n, *_) in zip(fit.measured, runs))
            + " vs " + ", ".join(f"{v:.4f}" for v in fit.expected)
            + f" from {runs[0][3].source}; δ∞ = {fit.delta:+.4f} ± {fit.standard_error:.2g}"
            + ("" if fit.z() <= threshold else " FAILED"))
    threshold, failed, (where, worst) = _verdict(results, alpha, plan.replicas - 1)
    return Outcome(
        not failed, {k: e.delta for k, e in results}, 0.0,
        {k: threshold * e.standard_error for k, e in results},
        f"{solver_name(simulator)}, {transient.description}, "
        + (f"horizon {transient.game.horizon} (γ = {transient.game.discount:g} per epoch)"
           if not transient.game.stationary else
           f"{plan.epochs} epochs (γ = {transient.game.discount:g} per decision)")
        + f": mean return over {plan.replicas} "
        f"replicas against the mean-field value of the policy (per schedule, each agent's j-th "
        f"decision discounted γ^j), the difference fitted as δ∞ + b/N; z-tests of δ∞ = 0 "
        f"(Student t on {plan.replicas - 1} dof, false-failure rate {ALPHA:g} Bonferroni over "
        f"{len(results)} schedules): |z| ≤ {threshold:.3g}; largest |z| = {worst.z():.3g} "
        f"({where}); " + ("every schedule agrees" if not failed else
                          "FAIL for " + ", ".join(k for k, _ in failed)) + ". " + "; ".join(rows))


@dataclass(frozen=True)
class IndependencePlan:
    """``replica-independence``: ``calls`` calls with consecutive seeds, ``replicas``
    replicas each, N agents, synchronous, ``epochs`` epochs."""

    calls: int
    replicas: int
    n_agents: int
    epochs: int


INDEPENDENCE_PLANS = {Budget.QUICK: IndependencePlan(8, 64, 200, 4),
                      Budget.FULL: IndependencePlan(16, 32, 1000, 8)}


@suite.check("replica-independence", games={"garnet-from-mu0": garnet_transient},
             false_failure_rate=ALPHA)
def replica_independence(simulator, transient: Transient, ctx: Context) -> Outcome:
    """Replicas of one call and calls with different seeds are independent: the spread of the calls' means matches the spread within calls (one-way ANOVA F-test, two-sided, per state and for the return, Bonferroni, rate 1e-4)."""
    plan = INDEPENDENCE_PLANS[ctx.budget]
    game, schedule = transient.game, Schedule("all")
    rounds = plan.epochs
    summaries = []  # per call: (replicas, S + 1): time-averaged μ̂_N and the mean return
    for c in range(plan.calls):
        mu, returns = run_populations(simulator, game, transient.policy,
                                      n_agents=plan.n_agents, acting=schedule, rounds=rounds,
                                      batch=plan.replicas, seed=ctx.seed_for(c))
        summaries.append(torch.cat([mu[:, 1:].mean(1), returns[:, None]], 1).cpu().numpy())
    x = np.stack(summaries)  # (calls, replicas, S + 1)
    C, B = plan.calls, plan.replicas
    within = x.var(axis=1, ddof=1).mean(0)
    between = B * x.mean(axis=1).var(axis=0, ddof=1)
    alpha = stats.bonferroni(ALPHA, x.shape[-1])
    lo = float(scipy_stats.f.ppf(alpha / 2, C - 1, C * (B - 1)))
    hi = float(scipy_stats.f.isf(alpha / 2, C - 1, C * (B - 1)))
    labels = [f"μ̂(state {s})" for s in range(game.n_states)] + ["mean return"]
    findings, ratios = [], {}
    identical = (x.max(axis=1) == x.min(axis=1)).all(0)  # per statistic, in every call
    for label, w, b, same in zip(labels, within, between, identical):
        if same:
            findings.append(f"{label}: every replica of a call identical (no spread within "
                            f"calls)" + (", and every call identical" if
                                         (x[:, 0] == x[0, 0]).all(0)[labels.index(label)]
                                         else ""))
            ratios[label] = math.nan
            continue
        ratios[label] = float(b / w)
        if not lo <= b / w <= hi:
            findings.append(f"{label}: F = {b / w:.3g} " + (
                "above: replicas of one call move together (correlated draws)" if b / w > hi
                else "below: calls with different seeds are more alike than replicas "
                     "(the seed ignored, or shared streams)"))
    return Outcome(
        not findings, ratios, 1.0, [lo, hi],
        f"{solver_name(simulator)}, {transient.description}, N = {plan.n_agents}, synchronous, "
        f"{plan.epochs} epochs: {C} calls with seeds {ctx.seed_for(0)} … {ctx.seed_for(C - 1)} "
        f"× {B} replicas; per replica μ̂_N averaged over the epochs and the mean return; "
        f"F = B·(variance of the call means)/(mean variance within calls) ~ F({C - 1}, "
        f"{C * (B - 1)}) when replicas and calls are independent draws; two-sided at "
        f"{ALPHA:g} Bonferroni over {x.shape[-1]} statistics: F in [{lo:.3g}, {hi:.3g}]; F = "
        + ", ".join(f"{k}: {v:.3g}" for k, v in ratios.items()) + "; "
        + ("independent" if not findings else "FAIL: " + "; ".join(findings)))

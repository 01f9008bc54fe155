"""The learner games of ``sync-async`` (their logit equilibria and the margins of N agents),
and the training of a TMF learner under every schedule, shared by `same-equilibrium` and
`same-performance` (docs/sync_async.md, "TMF learners")."""

from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass

import numpy as np
import torch

from mfcheck import stats
from mfcheck.analytic.congestion import logit_n_route
from mfcheck.check import Budget, Context, Outcome
from mfcheck.envs import FiniteGameEnv
from mfcheck.game import FiniteMFG
from mfcheck.games.queueing import queueing
from mfcheck.games.resource_selection import resource_selection
from mfcheck.kernels import distribution, exploitability
from mfcheck.nplayer.scatter import binomial_prefactor
from mfcheck.boundary import learner_policy
from mfcheck.protocols import solver_name
from mfcheck.reference.fixed_point import FixedPoint
from mfcheck.tmf import policy_table, population_step

from .common import SCHEDULES

Tensor = torch.Tensor


@dataclass(frozen=True)
class Equilibrium:
    """The stationary logit (entropy-regularised) equilibrium at τ of a learner game: the
    population μ* ``(S,)``, the policy π* ``(S, A)`` (numpy, float64), and where they come
    from, with their accuracy (``source``)."""

    population: np.ndarray
    policy: np.ndarray
    source: str


@dataclass(frozen=True)
class ResourceGame:
    """Resource selection with no switching cost: its stationary logit equilibrium at τ is
    the N-route logit split from every state (`logit_n_route`, docs/games.md), so every
    row of π* is the same (``shared_rows``)."""

    a: tuple[float, ...]
    b: tuple[float, ...]
    discount: float
    temperature: float
    kind = "resource_selection"  # for file names
    shared_rows = True  # every row of π* is the same

    def game(self, device) -> FiniteMFG:
        return resource_selection(list(self.a), list(self.b), discount=self.discount,
                                  device=device)

    def equilibrium(self) -> Equilibrium:
        split = logit_n_route(list(self.a), list(self.b), self.temperature)
        return Equilibrium(split, np.tile(split, (split.size, 1)), "logit_n_route, closed form")

    def __str__(self) -> str:
        return (f"resource_selection(a={list(self.a)}, b={list(self.b)}, γ={self.discount:g}) "
                f"at τ = {self.temperature:g}")


@dataclass(frozen=True)
class QueueGame:
    """The dynamic queueing game without slowdown (d = 0: transitions do not read μ, and
    every h_i > 0 makes it strictly Lasry–Lions monotone, so with the strictly concave
    entropy term its logit equilibrium at τ is unique; docs/games.md). No closed form at
    τ > 0 (`queueing_equilibrium` is τ = 0's): the equilibrium is computed by a reference
    planner (`logit_equilibrium`)."""

    waiting_cost: tuple[float, ...]
    load_cost: tuple[float, ...]
    service: tuple[float, ...]
    arrival: float
    discount: float
    temperature: float
    kind = "queueing"
    shared_rows = False

    def game(self, device) -> FiniteMFG:
        return queueing(list(self.waiting_cost), list(self.load_cost), list(self.service),
                        arrival=self.arrival, discount=self.discount, device=device)

    def equilibrium(self) -> Equilibrium:
        return logit_equilibrium(self)

    def __str__(self) -> str:
        return (f"queueing(w={list(self.waiting_cost)}, h={list(self.load_cost)}, "
                f"s={list(self.service)}, λ={self.arrival:g}, γ={self.discount:g}) at "
                f"τ = {self.temperature:g}")


#: Damped softmax best-response iteration is stopped when no probability of the policy
#: moves by more than this, and its policy must then have an exploitability at τ below
#: `PLANNER_GAP`.
PLANNER_TOL, PLANNER_GAP, PLANNER_ITERATIONS = 1e-12, 1e-9, 1000


@functools.cache
def logit_equilibrium(setting: QueueGame) -> Equilibrium:
    """The logit equilibrium at τ of ``setting``'s game by `FixedPoint` (softmax best
    response at τ, damping 1/2: undamped it cycles on the three-queue game of docs/games.md
    at τ = 0.2) until no probability moves by more than `PLANNER_TOL`; a `ValueError`
    unless its exploitability at τ is then below `PLANNER_GAP` in size (it is ≥ 0 up to
    rounding). A constant of the check: computed once, on the CPU."""
    game = setting.game(torch.device("cpu"))
    planner = FixedPoint(temperature=setting.temperature, damping=0.5)
    previous, change = game.uniform_policy(), math.inf
    for iteration, policy in enumerate(planner.solve(game, seed=0), 1):
        change, previous = float((policy - previous).abs().max()), policy
        if change < PLANNER_TOL or iteration == PLANNER_ITERATIONS:
            break
    gap = float(exploitability(game, policy, temperature=setting.temperature))
    if not (change < PLANNER_TOL and abs(gap) < PLANNER_GAP):
        raise ValueError(f"{planner.name} on {setting}: the policy still moves by {change:.2g} "
                         f"and its exploitability at τ is {gap:.2g} after {iteration} "
                         f"iterations")
    return Equilibrium(distribution(game, policy).mu.numpy(), policy.numpy(),
                       f"{planner.name} after {iteration} iterations: last change of π "
                       f"{change:.1g}, |exploitability at τ| {abs(gap):.1g}")


#: The games of the learner checks (``kind``: a name for file names).
LearnerGame = ResourceGame | QueueGame
EQUILIBRIUM_GAMES = {
    "resource_selection(3 resources,τ=0.2)":
        (lambda device: ResourceGame((1.0, 1.5, 2.0), (1.0, 1.0, 1.0), 0.9, 0.2)),
    "queueing(2 queues,τ=0.2)":
        (lambda device: QueueGame((1.0, 2.0), (1.0, 1.0), (0.5, 0.8), 0.5, 0.9, 0.2))}


@dataclass(frozen=True)
class LearnerPlan:
    """``replicas`` independently seeded learners per schedule, ``n_agents`` agents, each
    trained for ``epochs`` epochs (N agent decisions: N/k env steps) under every schedule."""

    n_agents: int
    replicas: int
    epochs: int


#: Quick: 24 replicas, not 16: with 16 the exploitability SEs on queueing left a learner
#: with no difference at all a failure probability of `same-performance` of 3.8e-4 and
#: 6.7e-4 (seeds 0, 2), above the stated 1e-4; with 24 it is ≤ 7.1e-5 at seeds 0–7
#: (docs/sync_async.md). A step costs about the same at 16 and 24 replicas (vectorised):
#: training took 9.5–10.4 s per game either way.
LEARNER_PLANS = {Budget.QUICK: LearnerPlan(100, 24, 60),
                 Budget.FULL: LearnerPlan(1000, 32, 200)}


def snapshot_error(split: np.ndarray, n_agents: int) -> float:
    """E‖μ̂_N − μ‖₁ ≈ Σ_s √(2μ_s(1 − μ_s)/(πN)) (docs/references.md#approximation-rate-binomial):
    how far the empirical distribution of N agents drawn from μ lies from μ. Two
    equilibria closer than this cannot be told apart from one snapshot of the N agents;
    it is the equivalence margin of the learner checks."""
    return binomial_prefactor(torch.as_tensor(split)) / math.sqrt(n_agents)


def stationary_population(game: FiniteMFG, policy, batch: int, *, steps: int = 2000,
                          tol: float = 1e-12) -> tuple[Tensor, float]:
    """The population μ with Φ(μ) = μ under the TMF ``policy``, per replica ``(batch, S)``,
    by the damped recursion T_{1/2} (`mfcheck.tmf.population_step`) from the uniform law,
    and the last change ‖T(μ) − μ‖_∞ (≤ ``tol`` when it converged)."""
    mu = torch.full((batch, game.n_states), 1.0 / game.n_states, dtype=game.dtype,
                    device=game.device)
    change = math.inf
    for _ in range(steps):
        nxt = population_step(game, policy, mu, fraction=0.5)
        change = float((nxt - mu).abs().max())
        mu = nxt
        if change <= tol:
            break
    return mu, change


@dataclass(frozen=True)
class Learned:
    """What one schedule's training gave, per replica: the stationary population μ
    ``(R, S)``, the policy there π_μ ``(R, S, A)``, its exploitability at τ ``(R,)``, the
    recursion's last change, and the training time."""

    label: str
    agents_per_step: float
    population: Tensor
    table: Tensor
    exploitability: Tensor
    change: float
    seconds: float


#: {(id(learner), budget, seed, device): (learner, {setting: [Learned]})}, one learner at a
#: time; holding the learner keeps its id from being reused.
_TRAINED: dict = {}


def train_schedules(learner, setting: LearnerGame, plan: LearnerPlan, ctx: Context
                    ) -> list[Learned]:
    """Train ``learner`` under each of `SCHEDULES` for the same number of epochs and read
    its policy at its stationary population. Cached per (learner, budget, seed, device) and
    setting: `same-equilibrium` and `same-performance` read the same training."""
    run = (id(learner), ctx.budget, ctx.seed, str(ctx.device))
    if run not in _TRAINED:
        _TRAINED.clear()
        _TRAINED[run] = (learner, {})
    trained = _TRAINED[run][1]
    if setting in trained:
        return trained[setting]
    game = setting.game(ctx.device)
    out = []
    for salt, (label, schedule) in enumerate(SCHEDULES):
        env = FiniteGameEnv(game, plan.n_agents, batch=plan.replicas, schedule=schedule,
                            device=ctx.device)
        steps = schedule.steps(plan.n_agents, plan.epochs)
        tau = torch.full((plan.replicas,), setting.temperature, dtype=game.dtype,
                         device=game.device)
        start = time.perf_counter()
        policy = learner_policy(learner, env, steps=steps, seed=ctx.seed_for(salt),
                                temperature=tau)
        seconds = time.perf_counter() - start
        mu, change = stationary_population(game, policy, plan.replicas)
        table = policy_table(policy, mu)
        gaps = exploitability(game, table, temperature=setting.temperature)
        out.append(Learned(label, schedule.agents_per_round(plan.n_agents), mu, table,
                           gaps.reshape(-1), change, seconds))
    trained[setting] = out
    return out


def _entry(estimate: stats.ReplicateEstimate, i: int) -> stats.ReplicateEstimate:
    """The estimate of coordinate ``i`` of a vector estimate."""
    return stats.ReplicateEstimate(float(estimate.mean[i]), float(estimate.standard_error[i]),
                                   estimate.k, estimate.dof)


def _describe_training(setting: LearnerGame, plan: LearnerPlan, learned: list[Learned]) -> str:
    return (f"{setting}, N = {plan.n_agents}, {plan.replicas} independently seeded replicas per "
            f"schedule, {plan.epochs} epochs each (N/k steps per epoch; trained in "
            + ", ".join(f"{r.label} {r.seconds:.1f} s" for r in learned) + ")")


def _training(learner, setting: LearnerGame, ctx: Context):
    """The plan, every schedule's training (`train_schedules`), the head of the check's
    message, and a failing `Outcome` if a learned policy has no stationary population."""
    plan = LEARNER_PLANS[ctx.budget]
    learned = train_schedules(learner, setting, plan, ctx)
    head = f"{solver_name(learner)}, {_describe_training(setting, plan, learned)}"
    bad = [r for r in learned if not r.change <= 1e-9]
    failure = None if not bad else Outcome(
        False, None, None, None,
        f"{head}: FAIL, the learned policy has no stationary population: the damped "
        f"recursion still moves by " + ", ".join(f"{r.change:.2g} ({r.label})" for r in bad)
        + " after 2000 steps")
    return plan, learned, head, failure

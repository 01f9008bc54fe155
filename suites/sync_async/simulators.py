"""N-player simulators under k = 1, N/10, N: idle agents keep their state, and the mean of
μ̂_N follows the TMF recursion T_κ on the epoch scale (docs/sync_async.md, "Simulators")."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from mfcheck import stats
from mfcheck.analytic.congestion import logit_n_route
from mfcheck.check import Budget, Context, Outcome
from mfcheck.envs import SEQUENTIAL
from mfcheck.game import FiniteMFG
from mfcheck.games.queueing import queueing
from mfcheck.games.resource_selection import resource_selection
from mfcheck.boundary import simulator_populations
from mfcheck.protocols import solver_name
from mfcheck.tmf import population_path

from .common import ALPHA, SCHEDULES, is_simulator, suite

Tensor = torch.Tensor


@dataclass(frozen=True)
class Dynamics:
    """A stationary policy played in a discounted stationary game, from the game's μ0 (far
    from the policy's stationary population, so that the transient shows the time scale)."""

    game: FiniteMFG
    policy: Tensor
    label: str


def sticky_resources(device) -> Dynamics:
    """Three resources with a switching cost; everyone starts on resource 0 and plays the
    myopic logit response, at τ = 0.5, to the load of the logit equilibrium: agents stay
    on resources 0, 1, 2 with probability 0.76, 0.55, 0.33, so the population spreads over
    a few epochs (0.76, 0.67 of it still on resource 0 after one and two)."""
    game = resource_selection([1.0, 1.5, 2.0], [1.0, 1.0, 1.0], discount=0.9,
                              switching_cost=0.5, mu0=[1.0, 0.0, 0.0], device=device)
    tau = 0.5
    split = torch.as_tensor(logit_n_route([1.0, 1.5, 2.0], [1.0, 1.0, 1.0], tau),
                            dtype=game.dtype, device=device)
    L = torch.full((3, 1), 1 / 3, dtype=game.dtype, device=device) * split  # load = split
    policy = torch.softmax(game.reward(0, L) / tau, -1)
    return Dynamics(game, policy, "myopic logit response (τ = 0.5) to the logit load, all "
                                  "agents starting on resource 0")


def slowing_queues(device) -> Dynamics:
    """Two queues whose service slows with their load (transitions depend on L); everyone
    starts idle and joins either queue with probability 1/2."""
    game = queueing([1.0, 2.0], [1.0, 1.0], [0.5, 0.8], slowdown=[0.5, 0.5], arrival=0.5,
                    discount=0.9, device=device)
    policy = torch.full((3, 2), 0.5, dtype=game.dtype, device=device)
    return Dynamics(game, policy, "uniform choice of queue, everyone starting idle")


DYNAMICS = {"resource_selection(κ=0.5)": sticky_resources,
            "queueing(slowdown=0.5)": slowing_queues}


@dataclass(frozen=True)
class SimulatorPlan:
    """``n_agents``; ``replicas`` for the recursion (SE across them); the recursion is
    compared after each of ``epochs``; `idle-agents-keep-state` watches ``idle_replicas``
    replicas for ``idle_epochs`` epochs of single-agent rounds."""

    n_agents: int
    replicas: int
    epochs: tuple[int, ...]
    idle_replicas: int
    idle_epochs: int


#: N = 1000 keeps the finite-population bias of the mean (O(1/N): measured 0.085/N on the
#: queueing dynamics, docs/sync_async.md) below 0.1 SE of the check at 128 replicas.
SIMULATOR_PLANS = {Budget.QUICK: SimulatorPlan(1000, 128, (1, 2), 8, 1),
                   Budget.FULL: SimulatorPlan(4000, 512, (1, 2, 4), 32, 2)}


# an exact bound that must hold in every replica and round
@suite.check("idle-agents-keep-state", games=DYNAMICS, applies=is_simulator, false_failure_rate=0)
def idle_agents_keep_state(simulator, dynamics: Dynamics, ctx: Context) -> Outcome:
    """One agent acting per round: μ̂_N·N stays integer and at most one agent changes state per round, ‖Δμ̂_N‖₁ ≤ 2/N (exact)."""
    plan = SIMULATOR_PLANS[ctx.budget]
    N, rounds = plan.n_agents, plan.idle_epochs * plan.n_agents
    mu = simulator_populations(simulator, dynamics.game, dynamics.policy, n_agents=N,
                               acting=SEQUENTIAL, rounds=rounds, batch=plan.idle_replicas,
                               seed=ctx.seed_for(0))
    counts = mu * N
    # Counts up to N = 1e6 are exact in float64 and counts/N·N rounds back within 1e-9.
    off_grid = float((counts - counts.round()).abs().max())
    moved = counts.round().diff(dim=1).abs().sum(-1)  # agents × 2 that changed state
    worst = float(moved.max())
    b, n = (int(v) for v in (moved == moved.max()).nonzero()[0])
    name = solver_name(simulator)
    head = (f"{name}, {dynamics.label}, N = {N}, schedule one agent per round, "
            f"{plan.idle_replicas} replicas × {rounds} rounds")
    if off_grid > 1e-6:
        return Outcome(False, off_grid, 0.0, 1e-6,
                       f"{head}: μ̂_N·N is not a vector of counts (off by up to {off_grid:.3g})")
    return Outcome(
        worst <= 2.0, worst / N, f"<= {2 / N:g}", 0.0,
        f"{head}: largest ‖μ̂_N(n+1) − μ̂_N(n)‖₁ = {worst:g}/N (replica {b}, round {n}), at most "
        f"2/N when only the acting agent can change state"
        + ("" if worst <= 2.0 else f": FAIL, {worst / 2:g} agents changed state in one round"))


@suite.check("population-recursion", games=DYNAMICS, applies=is_simulator, false_failure_rate=ALPHA)
def population_recursion(simulator, dynamics: Dynamics, ctx: Context) -> Outcome:
    """The mean over replicas of μ̂_N after 1 and 2 epochs follows the TMF recursion T_κ for k = 1, N/10, N (z-tests per state and time, Bonferroni, rate 1e-4)."""
    plan = SIMULATOR_PLANS[ctx.budget]
    N, game = plan.n_agents, dynamics.game
    tests, rows = [], []
    for salt, (label, schedule) in enumerate(SCHEDULES):
        per_epoch = schedule.steps(N)
        rounds = per_epoch * max(plan.epochs)
        mu = simulator_populations(simulator, game, dynamics.policy, n_agents=N,
                                   acting=schedule, rounds=rounds, batch=plan.replicas,
                                   seed=ctx.seed_for(salt))
        path = population_path(game, dynamics.policy, game.mu0[None],
                               fraction=schedule.acting_fraction(N), steps=rounds)[:, 0]
        for epoch in plan.epochs:
            est = stats.across_seeds(mu[:, epoch * per_epoch])
            expected = path[epoch * per_epoch].cpu().numpy()
            for s in range(game.n_states):
                tests.append((label, epoch, s, est.mean[s], expected[s], est.standard_error[s],
                              est.dof))
            rows.append(f"{label} epoch {epoch}: μ̂ {np.round(est.mean, 4).tolist()} vs T_κ "
                        f"{np.round(expected, 4).tolist()}")
    alpha = stats.bonferroni(ALPHA, len(tests))
    results = [(t, stats.z_test(t[3], t[4], t[5], alpha, dof=t[6])) for t in tests]
    worst_t, worst = max(results, key=lambda r: abs(r[1].z) if math.isfinite(r[1].z) else math.inf)
    failed = [t for t, r in results if not r.passed]
    label, epoch, s = worst_t[:3]
    verdict = ("every mean agrees" if not failed else
               f"FAIL at {len(failed)} of {len(tests)}: "
               + ", ".join(f"{t[0]} epoch {t[1]} state {t[2]}" for t in failed[:6]))
    return Outcome(
        not failed, abs(worst.z), 0.0, worst.threshold,
        f"{solver_name(simulator)}, {dynamics.label}, N = {N}, {plan.replicas} replicas per "
        f"schedule: mean μ̂_N after {', '.join(map(str, plan.epochs))} epoch(s) vs the TMF "
        f"recursion T_κ (κ = 1/N, 0.1, 1) from μ0; {len(tests)} z-tests (SE across replicas, "
        f"Student t), Bonferroni at {ALPHA:g}: |z| ≤ {worst.threshold:.3g}; largest |z| = "
        f"{abs(worst.z):.3g} ({label}, epoch {epoch}, state {s}: {worst.measured:.5f} vs "
        f"{worst.expected:.5f}); {verdict}. " + "; ".join(rows))

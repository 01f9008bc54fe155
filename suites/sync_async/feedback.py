"""`population-feedback`: a TMF learner's policy responds to μ as the TMF equilibrium of a
myopic game does (docs/sync_async.md, "population-feedback")."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from mfcheck import stats
from mfcheck.check import Budget, Context, Outcome
from mfcheck.envs import SYNCHRONOUS, FiniteGameEnv
from mfcheck.game import FiniteMFG
from mfcheck.games.resource_selection import resource_selection
from mfcheck.boundary import learner_policy
from mfcheck.protocols import solver_name
from mfcheck.tmf import policy_table

from .common import ALPHA, is_tmf_learner, suite
from .training import LearnerPlan

Tensor = torch.Tensor


@dataclass(frozen=True)
class MyopicGame:
    """Resource selection with a switching cost κ and γ = 0 (myopic agents), for
    `population-feedback`. Its TMF equilibrium policy at a population μ is the logit
    equilibrium of the one-shot game in which an agent on resource s picks a at cost
    c_a(m) + κ·[a ≠ s] with m the load of μ ⊗ π (`myopic_equilibrium`): it depends on μ
    (a crowded resource is left by its agents, an empty one kept), which a stationary
    equilibrium never shows."""

    a: tuple[float, ...]
    b: tuple[float, ...]
    switching_cost: float
    temperature: float
    #: The populations at which the learned policy is compared with the equilibrium.
    populations: tuple[tuple[float, ...], ...]

    def game(self, device) -> FiniteMFG:
        return resource_selection(list(self.a), list(self.b), discount=0.0,
                                  switching_cost=self.switching_cost, device=device)

    def __str__(self) -> str:
        return (f"resource_selection(a={list(self.a)}, b={list(self.b)}, γ=0, "
                f"κ={self.switching_cost:g}) at τ = {self.temperature:g}")


FEEDBACK_GAMES = {"resource_selection(κ=0.3,γ=0,τ=0.2)": (lambda device: MyopicGame(
    (1.0, 1.25, 1.5), (1.0, 1.0, 1.0), 0.3, 0.2,
    ((0.8, 0.1, 0.1), (0.1, 0.8, 0.1), (0.1, 0.1, 0.8), (1 / 3, 1 / 3, 1 / 3))))}
FEEDBACK_PLANS = {Budget.QUICK: LearnerPlan(100, 16, 2000),
                  Budget.FULL: LearnerPlan(1000, 32, 2000)}


def myopic_equilibrium(game: FiniteMFG, population: Tensor, temperature: float, *,
                       iterations: int = 10_000, tol: float = 1e-13) -> Tensor:
    """π*(·|s, μ) ``(batch, S, A)`` of a γ = 0 game at populations ``(batch, S)``: the fixed
    point π = softmax(r(s, ·, μ ⊗ π)/τ), by the iteration damped by 1/2. In resource
    selection with b > 0 the one-shot game is monotone and the fixed point unique; the
    iteration is checked to have converged (a `ValueError` otherwise)."""
    if game.discount != 0.0:
        raise ValueError(f"myopic_equilibrium needs γ = 0, got {game.discount:g}")
    mu = population.to(dtype=game.dtype, device=game.device)
    pi = torch.full((*mu.shape, game.n_actions), 1.0 / game.n_actions, dtype=game.dtype,
                    device=game.device)
    for _ in range(iterations):
        new = torch.softmax(game.reward(0, mu[..., None] * pi) / temperature, -1)
        change = float((new - pi).abs().max())
        pi = 0.5 * (pi + new)
        if change <= tol:
            return new
    raise ValueError(f"the damped logit iteration did not converge ({change:.2g} after "
                     f"{iterations})")


def table_distance(p: Tensor, q: Tensor) -> Tensor:
    """(1/S)·Σ_s ‖p(·|s) − q(·|s)‖₁ over the last two axes: a metric on policy tables."""
    return (p - q).abs().sum(-1).mean(-1)


# unstated: TOST's α bounds a false pass; a correct learner fails with 1 − power, which
# depends on its spread over replicas
@suite.check("population-feedback", games=FEEDBACK_GAMES, applies=is_tmf_learner,
             false_failure_rate=None)
def population_feedback(learner, setting: MyopicGame, ctx: Context) -> Outcome:
    """Myopic agents with a switching cost, trained from random populations: at each test population μ the learned π(·|·, μ) is within D/4 of the TMF equilibrium π*_μ, D the largest distance between two π*_μ (a policy that ignores μ is ≥ D/2 off at one of them)."""

    plan = FEEDBACK_PLANS[ctx.budget]
    game = setting.game(ctx.device)
    tests = torch.tensor(setting.populations, dtype=game.dtype, device=game.device)
    targets = myopic_equilibrium(game, tests, setting.temperature)  # (P, S, A)
    pair = table_distance(targets[:, None], targets[None])  # (P, P)
    spread = float(pair.max())
    i, j = (int(v) for v in (pair == pair.max()).nonzero()[0])
    tolerance = spread / 4
    env = FiniteGameEnv(game, plan.n_agents, batch=plan.replicas, schedule=SYNCHRONOUS,
                        start="random", device=ctx.device)
    tau = torch.full((plan.replicas,), setting.temperature, dtype=game.dtype, device=game.device)
    policy = learner_policy(learner, env, steps=plan.epochs, seed=ctx.seed_for(0),
                            temperature=tau)
    learned = torch.stack([policy_table(policy, mu.expand(plan.replicas, -1)) for mu in tests],
                          1)  # (R, P, S, A)
    alpha = stats.bonferroni(ALPHA, len(tests))
    zero = stats.ReplicateEstimate(0.0, 0.0, plan.replicas, plan.replicas - 1)
    results = []
    for p in range(len(tests)):
        d = stats.across_seeds(table_distance(learned[:, p], targets[p]).cpu())
        results.append(stats.equivalence_test(d, zero, tolerance, alpha))
    passed = all(r.passed for r in results)
    fmt = lambda mu: "(" + ", ".join(f"{v:.3g}" for v in mu) + ")"
    stay = lambda t: "stay " + "/".join(f"{float(v):.2f}" for v in t.diagonal())
    return Outcome(
        passed, [r.difference for r in results], 0.0, tolerance,
        f"{solver_name(learner)}, {setting}, N = {plan.n_agents}, {plan.replicas} replicas, "
        f"{plan.epochs} synchronous epochs from random populations (start='random'). Distance "
        f"(1/S)Σ_s‖π(·|s, μ) − π*(·|s, μ)‖₁ to the TMF equilibrium at each test μ (the damped "
        f"logit fixed point of the one-shot game). Tolerance D/4 = {tolerance:.4g}: "
        f"D = {spread:.4g} between π* at μ = {fmt(setting.populations[i])} and "
        f"{fmt(setting.populations[j])}, so any policy that ignores μ is ≥ D/2 off at one of "
        f"them (triangle inequality); the distance's (1 − 2α) interval must lie below D/4, "
        f"α = {alpha:.2g} each (Bonferroni over {len(tests)} at {ALPHA:g}). "
        + "; ".join(r.describe(f"μ = {fmt(mu)} ({stay(t)})")
                    for mu, t, r in zip(setting.populations, targets, results))
        + (". The policy follows the population" if passed else
           ". FAIL: the learned policy does not respond to μ as the TMF equilibrium does"))

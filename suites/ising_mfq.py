"""Suite ``ising-mfq``: mean-field learners on the Ising stage game (Yang et al. 2018, §5.2;
docs/references.md, "Yang et al. 2018"; docs/marl.md, "Ising stage game").

A learner whose policy is Boltzmann at the temperature it is given (``boltzmann = True``)
and whose Q is the stage game's expected reward Q(a, ā) = a·(h + λ·n/2) (n the neighbours'
spin sum) makes every agent a heat-bath update of the Ising model at T = 2τ/λ
(`mfcheck.envs.ising`). The checks train the learner on one replica per (τ, seed), run the
learned policy themselves and compare its order parameter ξ = ⟨|N↑ − N↓|⟩/N with
mfcheck's checkerboard heat-bath MCMC at T = 2τ/λ.

Running the learned policy. The policy is a function of each agent's (observation, ā),
and on the torus ā takes five values (k = 0..4 neighbours up), so the check reads it
once as a table ``P[b, i, k, a]`` (`policy_table`) and plays it: each step draws the
acting mask from the schedule and the actions with `sample_actions`, as a rollout through
the environment would (`mfcheck.envs.ising_play.play`, bit for bit: tests/test_ising_mfq.py). One agent at a
time takes N steps per sweep, so `play_sequential` touches only the acting site of each
replica instead of all N agents.

Starting from equilibrium. A hot start quenched below τ_c leaves stripes that live long on
a torus (heat bath at T = 1 on 20×20: 9 of 64 chains still striped after 500 sweeps, 3
after 1000), so the measurement chains start from the final configurations of the MCMC
chains (cold start, long burn-in). If the learned dynamics has the MCMC stationary law,
every measured sweep is then in equilibrium (no burn-in bias); if not, it drifts away
during the ``settle`` sweeps that are discarded.

Standard errors. MCMC: `stats.conservative_mean` over its chains (autocorrelation-
corrected, never below the between-chain SE). Learner: the chains of one learner replica
are averaged sweep by sweep and `stats.conservative_mean` runs over the replicas, so its SE
is never below the spread between independently trained learners (replicas − 1 dof). Each
learner chain continues an MCMC chain whose series the reference also uses; the overlap is
a few autocorrelation times out of thousands of sweeps, and a positive correlation only
makes the two-sample test conservative.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import torch

from mfcheck import outcomes, stats
from mfcheck.check import FALSE_FAILURE_RATE, Budget, Context, Outcome, Requires, Suite
from mfcheck.envs import SEQUENTIAL, SYNCHRONOUS, Schedule
from mfcheck.envs.ising import IsingGame
from mfcheck.envs.ising_play import play, play_sequential
from mfcheck.operators import MeanFieldModel, boltzmann_policy, mean_field_q_fixed_point
from mfcheck.ising_mcmc import RunLength, write_order_parameter_curve
from mfcheck.boundary import learner_policy
from mfcheck.protocols import solver_name

ALPHA = FALSE_FAILURE_RATE
NEIGHBOURS = 4  # on the torus ā = (1 − k/4, k/4): k = 0..4 neighbours up, five values

suite = Suite("ising-mfq", role="learner",
              description="Boltzmann mean-field learners on the Ising stage game order like "
                          "MCMC at T = 2τ/λ, and learn the soft Bellman fixed point "
                          "(Yang et al. 2018)",
              reference_solvers=["mfcheck.reference.marl:LEARNERS"])


_BOLTZMANN = Requires(lambda learner: bool(getattr(learner, "boltzmann", False)),
                      "learners that declare boltzmann = True")


def _baseline_failure(learner) -> str | None:
    """Why a literature baseline (``baseline = True``: IL, AC) is expected to fail the
    order parameter: its Q(s, a) does not see the neighbours, so its policy cannot order."""
    if getattr(learner, "baseline", False):
        return "a baseline without the mean action cannot follow its neighbours"
    return None


@dataclass(frozen=True)
class Lattice:
    """The stage game of the order-parameter checks: what their game column names."""

    L: int = 20
    coupling: float = 1.0  # λ > 0
    field: float = 0.0  # h

    def mcmc_temperature(self, tau: float) -> float:
        """T = 2τ/λ: softmax(a·(h + λn/2)/τ) is the heat bath at β·J = λ/(2τ), J = 1."""
        return 2.0 * tau / self.coupling

    @property
    def mcmc_field(self) -> float:
        """β·h_Ising = h/τ at T = 2τ/λ: h_Ising = 2h/λ."""
        return 2.0 * self.field / self.coupling

    def game(self, schedule: Schedule, batch: int, device) -> IsingGame:
        return IsingGame(self.L, coupling=self.coupling, field=self.field, batch=batch,
                         schedule=schedule, device=device)


LATTICES = {"L20,λ=1,h=0": (lambda device: Lattice())}


@dataclass(frozen=True)
class Plan:
    """A budget level of the order-parameter checks. ``replicas`` independently trained
    learners per τ, each trained for ``train_sweeps`` sweeps (N agent decisions) but at least
    ``min_train_steps`` steps (a synchronous sweep is a single step: too few updates for a
    gradient learner), and run on ``chains`` chains for ``settle`` + ``sweeps`` sweeps; the
    MCMC runs ``replicas·chains`` chains per τ (their final configurations start the
    learner's chains)."""

    taus: tuple[float, ...]
    replicas: int
    chains: int
    train_sweeps: int
    min_train_steps: int
    settle: int
    sweeps: int
    mcmc_sweeps: int
    mcmc_burn_in: int

    @property
    def mcmc(self) -> RunLength:
        return RunLength(self.replicas * self.chains, self.mcmc_sweeps, self.mcmc_burn_in)


PLANS = {
    Budget.QUICK: Plan(taus=(0.5, 0.8, 1.0, 1.1, 1.135, 1.2, 1.4, 1.8, 2.5), replicas=16,
                       chains=2, train_sweeps=2, min_train_steps=200, settle=10, sweeps=100,
                       mcmc_sweeps=2500, mcmc_burn_in=1000),
    Budget.FULL: Plan(taus=tuple(sorted({*np.round(np.linspace(0.5, 2.5, 21), 4).tolist(),
                                         1.135})),
                      replicas=32, chains=4, train_sweeps=20, min_train_steps=2000, settle=100,
                      sweeps=2000, mcmc_sweeps=20_000, mcmc_burn_in=4000),
}
RANDOM_FRACTION = Schedule("fraction", 0.1)
#: What `order-parameter` plays: the claim first, then the schedules it only reports.
ORDER_SCHEDULES = (("one at a time", SEQUENTIAL), (f"random {RANDOM_FRACTION}", RANDOM_FRACTION),
                   ("synchronous", SYNCHRONOUS))


# -- the reference: checkerboard heat-bath MCMC ------------------------------------------------

@functools.lru_cache(maxsize=4)
def mcmc_reference(lattice: Lattice, taus: tuple[float, ...], length: RunLength, seed: int,
                   device: str):
    """ξ at T = 2τ/λ per τ as `stats.conservative_mean` tuples, and the chains' final
    configurations as 0/1 actions ``(len(taus)·chains, N)`` (τ-major) on ``device``. Cold
    start: no stripes."""
    from mfcheck.reference.ising import CheckerboardHeatBath

    temps = [lattice.mcmc_temperature(t) for t in taus]
    samples, final = CheckerboardHeatBath().simulate(
        lattice.L, temps, coupling=1.0, field=lattice.mcmc_field, sweeps=length.sweeps,
        chains=length.chains, seed=seed, device=device, start="cold")
    xi = samples.magnetization[..., length.burn_in:].abs().cpu().numpy()
    starts = (final.reshape(len(taus) * length.chains, -1) > 0).long().to(device)
    return [stats.conservative_mean(xi[k]) for k in range(len(taus))], starts


# -- training and reading the learned policy ---------------------------------------------------

def train(learner, lattice: Lattice, schedule: Schedule, plan: Plan, ctx: Context, salt: int):
    """The learner's policy on ``replicas`` replicas per τ (τ-major), trained under
    ``schedule`` (see `Plan`), as a `ValidatedPolicy`, and its environment."""
    env = lattice.game(schedule, len(plan.taus) * plan.replicas, ctx.device)
    tau = torch.tensor(plan.taus, dtype=env.dtype, device=env.device)
    steps = max(math.ceil(plan.train_sweeps * env.n_agents
                          / schedule.agents_per_round(env.n_agents)), plan.min_train_steps)
    policy = learner_policy(learner, env, steps=steps, seed=ctx.seed_for(salt),
                            temperature=tau.repeat_interleave(plan.replicas))
    return policy, env


def policy_table(policy, env: IsingGame, obs: int = 0) -> torch.Tensor:
    """``P[b, i, k, a]`` ``(B, N, 5, 2)``: the policy of agent i of replica b at observation
    ``obs`` when k of its four neighbours are up (ā = (1 − k/4, k/4))."""
    o = torch.full(env.shape, obs, dtype=torch.long, device=env.device)
    rows = []
    for k in range(NEIGHBOURS + 1):
        share = torch.tensor([1 - k / 4, k / 4], dtype=env.dtype, device=env.device)
        rows.append(policy(o, share.expand(*env.shape, 2).contiguous()))
    return torch.stack(rows, 2)


# -- order parameter -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Curve:
    """ξ per τ of one way of playing: (mean, SE, dof) tuples from `stats.conservative_mean`."""

    label: str
    estimates: list

    @property
    def mean(self) -> list[float]:
        return [e[0] for e in self.estimates]

    @property
    def se(self) -> list[float]:
        return [e[1] for e in self.estimates]


def _per_replica(xi: torch.Tensor, plan: Plan) -> np.ndarray:
    """``(len(taus)·replicas·chains, n)`` → the chains of each learner averaged sweep by
    sweep, ``(len(taus), replicas, n)``."""
    n = xi.shape[-1]
    return xi.reshape(len(plan.taus), plan.replicas, plan.chains, n).mean(2).cpu().numpy()


def _curve(label: str, xi: torch.Tensor, plan: Plan) -> Curve:
    series = _per_replica(xi[:, plan.settle:], plan)
    return Curve(label, [stats.conservative_mean(series[k]) for k in range(len(plan.taus))])


def _learned_sums(learner, lattice: Lattice, schedule: Schedule, plan: Plan, ctx: Context,
                  salt: int) -> torch.Tensor:
    """Train under ``schedule``, then play the learned policy under it from the MCMC chains'
    final configurations: sublattice sums ``(B·chains, settle + sweeps, 2)``."""
    policy, env = train(learner, lattice, schedule, plan, ctx, salt)
    table = policy_table(policy, env).repeat_interleave(plan.chains, 0)
    _, starts = mcmc_reference(lattice, plan.taus, plan.mcmc, ctx.seed, str(ctx.device))
    gen = ctx.generator(salt + 1, env.device)
    sweeps = plan.settle + plan.sweeps
    if schedule == SEQUENTIAL:
        return play_sequential(table, starts, sweeps, lattice.L, gen)
    return play(table, starts, schedule, sweeps, lattice.L, gen)


def _order(sums: torch.Tensor, N: int) -> torch.Tensor:
    return sums.sum(-1).abs() / N


def _tests(curve: Curve, reference: Curve, alpha: float) -> list[stats.ZTestResult]:
    return [stats.two_sample_z_test(m[0], m[1], r[0], r[1], alpha, dof_a=m[2], dof_b=r[2])
            for m, r in zip(curve.estimates, reference.estimates)]


def _largest_z(curve: Curve, reference: Curve, taus) -> str:
    z = [(e[0] - r[0]) / math.hypot(e[1], r[1]) for e, r in zip(curve.estimates,
                                                                  reference.estimates)]
    worst = int(np.nanargmax(np.abs(z)))
    return f"largest |z| vs MCMC {abs(z[worst]):.1f} at τ={taus[worst]:g}"


def _table(taus, curves: list[Curve]) -> str:
    return "; ".join(f"τ={t:g}: " + ", ".join(f"{c.label} {c.mean[k]:.4f} ± {c.se[k]:.4f}"
                                              for c in curves) for k, t in enumerate(taus))


def _plot(ctx: Context, learner, name: str, lattice: Lattice, plan: Plan, reference: Curve,
          curves: list[Curve]) -> tuple[str, ...]:
    if ctx.report_dir is None:
        return ()
    T = [lattice.mcmc_temperature(t) for t in plan.taus]
    return tuple(write_order_parameter_curve(
        ctx.report_dir, f"{solver_name(learner)}-{name}", T, reference.mean, reference.se,
        label=reference.label,
        more={f"{solver_name(learner)}, {c.label}": (c.mean, c.se) for c in curves},
        x_unit=2.0 / lattice.coupling, x_label=f"temperature τ (λ = {lattice.coupling:g})"))


def _mcmc_curve(lattice: Lattice, plan: Plan, ctx: Context) -> Curve:
    estimates, _ = mcmc_reference(lattice, plan.taus, plan.mcmc, ctx.seed, str(ctx.device))
    return Curve("MCMC (checkerboard heat bath)", estimates)


@suite.check("order-parameter", games=LATTICES, applies=_BOLTZMANN, false_failure_rate=ALPHA)
def order_parameter(learner, lattice: Lattice, ctx: Context) -> Outcome:
    """Played one agent at a time, the learned policy's ξ(τ) on 20x20 equals MCMC's at T = 2τ/λ (z-tests); random-fraction and synchronous acting reported."""
    plan = PLANS[ctx.budget]
    N = lattice.L ** 2
    reference = _mcmc_curve(lattice, plan, ctx)
    curves = [_curve(label, _order(_learned_sums(learner, lattice, schedule, plan, ctx, salt), N),
                     plan)
              for salt, (label, schedule) in enumerate(ORDER_SCHEDULES)]
    alpha = stats.bonferroni(ALPHA, len(plan.taus))
    claim = outcomes.from_z_tests(_tests(curves[0], reference, alpha),
                                  f"{solver_name(learner)} one agent at a time vs MCMC at "
                                  f"T = 2τ/λ")
    reported = [f"{c.label} (reported, not a claim): {_largest_z(c, reference, plan.taus)}"
                for c in curves[1:]]
    message = (f"{claim.message}. " + "; ".join(reported) + ". ξ per τ: "
               + _table(plan.taus, [reference, *curves]))
    return Outcome(claim.passed, claim.measured, claim.expected, claim.tolerance, message,
                   artifacts=_plot(ctx, learner, "order-parameter", lattice, plan, reference,
                                   curves),
                   expected_failure=_baseline_failure(learner), exemption="baseline = True")


@suite.check("synchronous-acting", games=LATTICES, applies=_BOLTZMANN, false_failure_rate=ALPHA)
def synchronous_acting(learner, lattice: Lattice, ctx: Context) -> Outcome:
    """All agents acting at once: the composite (even sites at t, odd at t+1) has MCMC's ξ(τ) (z-tests); the plain |m| is reported."""
    plan = PLANS[ctx.budget]
    N = lattice.L ** 2
    reference = _mcmc_curve(lattice, plan, ctx)
    sums = _learned_sums(learner, lattice, SYNCHRONOUS, plan, ctx, salt=10)
    composite = torch.stack([sums[:, :-1, 0], sums[:, 1:, 1]], -1)
    curves = [_curve("composite (even t, odd t+1)", _order(composite, N), plan),
              _curve("plain synchronous", _order(sums, N), plan),
              _curve("plain staggered |m_even − m_odd|", (sums[..., 0] - sums[..., 1]).abs() / N,
                     plan)]
    alpha = stats.bonferroni(ALPHA, len(plan.taus))
    claim = outcomes.from_z_tests(_tests(curves[0], reference, alpha),
                                  f"{solver_name(learner)} synchronous: the composite "
                                  f"configuration vs MCMC")
    message = (f"{claim.message}. The plain configuration (reported, not a claim) is two "
               f"independent checkerboard chains side by side: "
               f"{_largest_z(curves[1], reference, plan.taus)}. ξ per τ: "
               + _table(plan.taus, [reference, *curves]))
    return Outcome(claim.passed, claim.measured, claim.expected, claim.tolerance, message,
                   artifacts=_plot(ctx, learner, "synchronous", lattice, plan, reference,
                                   curves[:2]),
                   expected_failure=_baseline_failure(learner), exemption="baseline = True")


# -- the soft Bellman fixed point with a state -----------------------------------------------------

@dataclass(frozen=True)
class FlipGame:
    """λ = 0 (no interaction): each agent alone in a 2-state MDP whose state is its own
    previous spin, r(s, a) = h·a − c·1[a ≠ s], next state = a, discount γ."""

    field: float = 0.2
    flip_cost: float = 1.0
    discount: float = 0.9
    temperature: float = 1.0
    L: int = 10
    replicas: int = 4

    def game(self, device) -> IsingGame:
        return IsingGame(self.L, coupling=0.0, field=self.field, flip_cost=self.flip_cost,
                         discount=self.discount, batch=self.replicas, device=device)

    def model(self, device) -> MeanFieldModel:
        """The MDP as a `MeanFieldModel` with one mean-action point (λ = 0: ā is irrelevant);
        states and actions indexed 0 = spin −1, 1 = spin +1."""
        spin = torch.tensor([-1.0, 1.0], dtype=torch.float64, device=device)
        reward = self.field * spin[None, :] - self.flip_cost * (spin[None, :] != spin[:, None])
        transition = torch.eye(2, dtype=torch.float64, device=device).expand(2, 2, 2)
        return MeanFieldModel(reward[:, None, :], transition[:, None].contiguous(),
                              torch.ones(2, 1, dtype=torch.float64, device=device),
                              self.discount, name="ising-game at λ = 0")


FLIP_GAMES = {"λ=0,h=0.2,c=1,γ=0.9,τ=1": (lambda device: FlipGame())}
BELLMAN_STEPS = {Budget.QUICK: 4000, Budget.FULL: 20_000}
#: Largest mean |π − π*| over the mean actions an agent faces (per state) that passes.
#: Rewards and transitions are deterministic, so every agent in one (s, ā, a) cell has the
#: same target: a learner's error is its unfinished convergence, not noise.
BELLMAN_TOLERANCE = 0.02


# unstated: a fixed tolerance (0.02) on a policy the learner learns from seeded, sampled play; no α
# and no spread over seeds is computed or measured
@suite.check("bellman-fixed-point", games=FLIP_GAMES, applies=_BOLTZMANN, false_failure_rate=None)
def bellman_fixed_point(learner, game: FlipGame, ctx: Context) -> Outcome:
    """With a flip cost, λ = 0 and γ = 0.9 the learned policy is softmax(Q*/τ) of the exact soft Bellman fixed point (not the myopic softmax(r/τ))."""
    model = game.model(ctx.device)
    fixed = mean_field_q_fixed_point(model, game.temperature)
    target = boltzmann_policy(fixed.value[:, 0], game.temperature)[:, 1]  # π*(up | s)
    myopic = boltzmann_policy(model.reward[:, 0], game.temperature)[:, 1]
    env = game.game(ctx.device)
    tau = torch.full((env.batch,), game.temperature, dtype=env.dtype, device=env.device)
    policy = learner_policy(learner, env, steps=BELLMAN_STEPS[ctx.budget], seed=ctx.seed,
                            temperature=tau)
    learned = torch.stack([policy_table(policy, env, obs=s)[..., 1] for s in (0, 1)], 2)
    # In the stationary regime the agents are independent: each neighbour is up with the
    # stationary probability p of the chain s → a under π*, so k ~ Binomial(4, p).
    p = target[0] / (target[0] + 1 - target[1])
    k = torch.arange(NEIGHBOURS + 1, dtype=torch.float64, device=ctx.device)
    weight = torch.distributions.Binomial(NEIGHBOURS, probs=p).log_prob(k).exp()
    error = ((learned - target[:, None]).abs() * weight).sum(-1)  # (B, N, s)
    worst = float(error.max())
    where = [int(i) for i in (error == error.max()).nonzero()[0]]
    return Outcome(
        worst <= BELLMAN_TOLERANCE, worst, 0.0, BELLMAN_TOLERANCE,
        f"{solver_name(learner)} after {BELLMAN_STEPS[ctx.budget]} synchronous steps on "
        f"{game.L}x{game.L}, {game.replicas} replicas: π(up | s) should be π* = "
        f"{[round(v, 4) for v in target.tolist()]} for s = (−1, +1) (H_MF fixed point, "
        f"{fixed.iterations} iterations, error ≤ {fixed.error_bound:.1e}, "
        f"{'proven' if fixed.proven else 'from the observed rate'}); the myopic "
        f"softmax(r/τ) = {[round(v, 4) for v in myopic.tolist()]}. Largest mean |π − π*| "
        f"over the mean actions faced (k ~ Binomial(4, {float(p):.3f})) is {worst:.2e} (replica "
        f"{where[0]}, agent {where[1]}, s = {2 * where[2] - 1:+d}); tolerance "
        f"{BELLMAN_TOLERANCE:g} (deterministic rewards and transitions: convergence, not noise)")

"""Suite ``uniqueness``: planners started from many policies reach the same equilibrium where
it is unique, and between them find every stable one where it is not (docs/uniqueness.md).

- ``unique-equilibrium``: on monotone congestion games (every slope b_i > 0: Lasry–Lions
  monotone, one equilibrium split, `mfcheck.analytic.congestion`), a planner that claims
  convergence is started from the uniform policy, from every pure policy and from
  Dirichlet draws; every limit must be an equilibrium (exploitability ≤ ε) and the route
  splits must agree with each other and with the analytic split.
- ``finds-every-equilibrium``: on follow the crowd (`mfcheck.games.follow_the_crowd`,
  not monotone), every limit must be one of the listed equilibria (``crowd_equilibria``, or
  the logit equilibria at the planner's τ), and the starts together must reach every
  stable one; the basins (start → limit) are reported and plotted.

Both need planners that take ``initial_policy`` (`mfcheck.protocols`); a planner that does
not is skipped with that reason: uniqueness from many starts cannot be tested from one.

``unique-equilibrium`` also runs discounted stationary monotone games (`StationaryGame`):
resource selection (κ = 0: the Wardrop or logit load, unique; κ > 0: equilibria multiply,
but every one's load lies within a derived radius of the κ = 0 split) in quick and full
mode, and queueing with h > 0 (unique μ, closed form `queueing_equilibrium`) in full mode
only, for time (docs/uniqueness.md).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import hypothesis
import numpy as np
import torch
from scipy.optimize import brentq
from scipy.special import expit

from mfcheck import strategies
from mfcheck.check import Budget, Context, Outcome, Suite
from mfcheck.convergence import CYCLING_ADVICE, TAIL
from mfcheck.game import FiniteMFG
from mfcheck.games.congestion import Routes, route_split
from mfcheck.games import (crowd_equilibria, follow_the_crowd, queueing, queueing_equilibrium,
                           resource_selection)
from mfcheck.kernels import distribution, exploitability
from mfcheck.kernels.policies import detect_period
from mfcheck.boundary import (last_policies, planner_convergent, planner_takes_initial_policy,
                              planner_temperature)
from mfcheck.protocols import solver_name
from mfcheck.report import file_stem, format_vector, new_figure, save_figure


#: Planner iterations per start, and the tolerance ε on the exploitability of the last
#: policy. The slowest references (fictitious play, damped fixed point) reach ≈ C/k with
#: C ≤ 2.3 on the congestion grids (suites/congestion.py), and measured here ≤ 2.6 on the
#: drawn games (docs/uniqueness.md): ε = C/k with C = 3.5.
ITERATIONS = {Budget.QUICK: 1000, Budget.FULL: 4000}
RATE_CONSTANT = 3.5
EXPLOITABILITY_TOLERANCE = {budget: RATE_CONSTANT / k for budget, k in ITERATIONS.items()}
#: Drawn monotone games per case, and Dirichlet starts per game (besides uniform and pure).
DRAWN_GAMES = {Budget.QUICK: 3, Budget.FULL: 25}
DIRICHLET_STARTS = {Budget.QUICK: 2, Budget.FULL: 8}
#: Routes at most in a drawn game (each adds a pure start).
MAX_ROUTES = 4
#: The drawn games' least slope: their modulus of strong monotonicity. Every reference
#: planner's speed scales with it (mirror descent at lr 0.1 moves its scores by lr·b per
#: iteration), so a nearly flat game tests patience, not uniqueness: with b = 0.05 mirror
#: descent from "all on one route" still had exploitability 1.9e-2 after 1000 iterations
#: (7.9e-6 after 4000). The fixed five-route game keeps a slope of 0.5.
MIN_SLOPE = 0.25
#: Logit equilibria of two crowd routes: sign changes looked for on this many grid points.
LOGIT_GRID = 4001

suite = Suite("uniqueness", role="planner",
              description="planners started from many policies reach the one equilibrium of "
                          "monotone games, and together every stable one of follow the crowd",
              reference_solvers=["mfcheck.reference:PLANNERS"])


def starts(game: FiniteMFG, generator: torch.Generator, dirichlet: int) -> dict[str, torch.Tensor]:
    """The initial policies: uniform, "all on action a" for every a, and ``dirichlet`` draws
    from the flat Dirichlet distribution (independently per row), on the game's device."""
    shape = game.policy_shape
    out = {"uniform": game.uniform_policy()}
    eye = torch.eye(game.n_actions, dtype=game.dtype, device=game.device)
    for a in range(game.n_actions):
        out[f"all-on-{a + 1}"] = eye[a].expand(shape).clone()
    for i in range(dirichlet):
        # normalised Exp(1) draws are flat-Dirichlet; drawn on the CPU generator, then moved
        e = -torch.rand(shape, dtype=game.dtype, generator=generator).log()
        out[f"dirichlet-{i + 1}"] = (e / e.sum(-1, keepdim=True)).to(game.device)
    return out


def population(game: FiniteMFG, policy: torch.Tensor) -> np.ndarray:
    """What must agree across starts: a static game's route split, a stationary game's
    stationary state distribution μ (on resource selection that is the load: s' = a)."""
    if game.stationary:
        return distribution(game, policy).mu.double().cpu().numpy()
    return route_split(policy)


def limits(planner, game: FiniteMFG, ctx: Context, initial: dict[str, torch.Tensor],
           iterations: int) -> dict[str, tuple[np.ndarray, float, int | None]]:
    """Per start: the `population` of the last policy, its exploitability (at the planner's
    τ), and the period of the kept tail (1: settled; ≥ 2: cycling; None: neither)."""
    tau = planner_temperature(planner)
    out = {}
    for label, policy in initial.items():
        tail = last_policies(planner, game, seed=ctx.seed, iterations=iterations,
                             keep=TAIL, initial_policy=policy)
        out[label] = (population(game, tail[-1]), float(exploitability(game, tail[-1], tau)),
                      detect_period(tail))
    return out


def _cannot_start(planner) -> Outcome | None:
    if planner_takes_initial_policy(planner):
        return None
    return Outcome.skip(f"{solver_name(planner)}.solve takes no initial_policy: it runs from its "
                        f"own start only, so uniqueness from many starts cannot be tested "
                        f"(two-route/n-route check that start)")


# -- unique-equilibrium ---------------------------------------------------------------------

def agreement_tolerance(b, epsilon: float) -> float:
    """ℓ2 radius around the equilibrium split m* that contains every split of
    exploitability ≤ ε: sqrt(ε / min b).

    Why: exploitability(m) ≥ ⟨c(m), m − m*⟩ (m* is one deviation) and ⟨c(m*), m − m*⟩ ≥ 0
    (m* is an equilibrium), so ε ≥ ⟨c(m) − c(m*), m − m*⟩ = Σ b_i (m_i − m*_i)² ≥
    min b·‖m − m*‖₂². At τ > 0 the entropy terms only add a non-negative KL term.
    """
    return math.sqrt(epsilon / min(b))


def agreement(seen, target: np.ndarray, radius: float, epsilon: float) -> tuple[bool, str]:
    """Whether every limit in ``seen`` has exploitability ≤ ε, lies within ``radius`` of
    ``target`` (ℓ2) and within 2·radius of every other; and a sentence saying what was seen,
    to be ended by the target's name."""
    points = np.stack([m for m, _, _ in seen.values()])
    gaps = {label: gap for label, (_, gap, _) in seen.items()}
    worst = max(gaps, key=gaps.get)
    distance = np.linalg.norm(points - target, axis=-1)
    spread = np.linalg.norm(points[:, None] - points[None], axis=-1).max()
    ok = gaps[worst] <= epsilon and distance.max() <= radius and spread <= 2 * radius
    strays = [f"{label} → {format_vector(m)}" for label, (m, gap, _) in seen.items() if gap > epsilon]
    return ok, (f"{len(seen)} starts, largest exploitability {gaps[worst]:.2e} (from {worst}; "
                f"ε = {epsilon:.2g}{'; above ε: ' + ', '.join(strays) if strays else ''}), "
                f"spread {spread:.2e} (≤ 2r), largest distance {distance.max():.2e}")


def softmax_contracts(b, tau: float) -> bool:
    """Whether the logit route map m ↦ softmax(−c(m)/τ) is an ℓ1 contraction: max b < 2τ
    (docs/games.md); beyond it, undamped softmax iteration may cycle
    (docs/references.md#congestion-tau-figures, τ = 0.36)."""
    return tau > 0 and max(b) < 2 * tau


def judge_monotone_game(planner, a, b, ctx: Context) -> tuple[bool, str]:
    """Run ``planner`` from every start on routes (a, b); (passed, what was seen)."""
    routes = Routes(tuple(a), tuple(b))
    game = routes.game(ctx.device)
    tau = planner_temperature(planner)
    epsilon = EXPLOITABILITY_TOLERANCE[ctx.budget]
    radius = agreement_tolerance(b, epsilon)
    m_star = routes.equilibrium(tau)
    seen = limits(planner, game, ctx, starts(game, ctx.generator(len(a)),
                                             DIRICHLET_STARTS[ctx.budget]),
                  ITERATIONS[ctx.budget])
    ok, seen_text = agreement(seen, m_star, radius, epsilon)
    cycling = [label for label, (_, _, p) in seen.items() if p is not None and p >= 2]
    where = (f"a={format_vector(a)}, b={format_vector(b)}{f', τ={tau:g}' if tau else ''}: {seen_text} to the "
             f"{routes.target_name(tau)} {format_vector(m_star)} (r = sqrt(ε/min b) = {radius:.3g}, ℓ2)")
    if cycling:
        where += f"; iterates cycle from {', '.join(cycling)}"
        if not ok and tau > 0 and not softmax_contracts(b, tau):
            return True, where + (f" — not held against it: the logit map at τ={tau:g} is "
                                  f"no contraction here (max b = {max(b):g} ≥ 2τ)")
        if not ok:
            where += f": {CYCLING_ADVICE}"
    return ok, where


# -- unique-equilibrium on discounted stationary games ----------------------------------------

#: Planner iterations per start on the stationary games, and ε there: the static
#: tolerance C/k on the value scale 1/(1 − γ) of a discounted game (a state-independent
#: split policy's exploitability on resource selection is exactly the static one over
#: 1 − γ, docs/games.md). Measured k·exploitability ≤ 10.5 at γ = 0.9 (ε·k = C/(1 − γ) = 35;
#: docs/uniqueness.md). Quick mode runs fewer iterations than on the static games: a
#: stationary iteration costs 1–5 ms (a best response by policy iteration and stationary
#: laws by repeated squaring), several times a static one.
STATIONARY_ITERATIONS = {Budget.QUICK: 500, Budget.FULL: 2000}


def stationary_tolerance(budget: Budget, discount: float) -> float:
    return RATE_CONSTANT / ((1.0 - discount) * STATIONARY_ITERATIONS[budget])


@dataclass(frozen=True)
class StationaryGame:
    """A discounted stationary monotone game for ``unique-equilibrium``: ``build(device)``
    makes it, ``judge(seen, tau, epsilon)`` says whether the limits ``seen`` (`limits`)
    agree as the theory says they must, and what was seen; ``full_only``: too slow for
    quick mode (docs/uniqueness.md gives the times)."""

    build: Callable[[torch.device], FiniteMFG]
    judge: Callable[[dict, float, float], tuple[bool, str]]
    discount: float
    full_only: bool = False


def load_radius(a, b, discount: float, switching_cost: float, mu0_min: float, tau: float,
                epsilon: float) -> float:
    """ℓ2 radius around the κ = 0 split m* (Wardrop, or logit at τ) that contains the
    stationary load m of every policy of exploitability ≤ ε on resource selection:
    sqrt(((1 − γ)ρε + K)/min b), ρ = 1/min μ0, K = (1 − γ)κ at τ = 0 and κ at τ > 0.

    Why: s' = a makes the stationary μ the load m. Against m, the best value is at least
    that of "move once to the cheapest resource and stay" (τ = 0: −κ − min c/(1 − γ)) or
    "play softmax(−c/τ) from every state" (τ > 0: (τ·logsumexp(−c/τ) − κ)/(1 − γ)), and
    stationarity gives Σ_s μ(s)V^π(s) ≤ (−⟨m, c⟩ + τH(m))/(1 − γ) (entropy is concave).
    So Σ_s μ(s)·gap(s) ≥ e(m)/(1 − γ) − K/(1 − γ), e(m) the static (τ-)exploitability of
    the split m; the gaps are ≥ 0 and ε = Σ_s μ0(s)·gap(s) ≥ Σ_s μ(s)·gap(s)/ρ. With the
    static bound e(m) ≥ Σ b_i (m_i − m*_i)² (`agreement_tolerance`) the radius follows.
    With κ > 0 equilibria multiply (docs/games.md), and this is how far apart they can be.
    """
    kappa_term = switching_cost * (1.0 - discount) if tau == 0 else switching_cost
    return math.sqrt(((1.0 - discount) * epsilon / mu0_min + kappa_term) / min(b))


def resource_selection_case(a, b, *, discount: float = 0.9, switching_cost: float = 0.0,
                            full_only: bool = False) -> StationaryGame:
    """Resource selection (uniform μ0): every load within `load_radius` of the κ = 0 split."""
    routes = Routes(tuple(a), tuple(b))

    def judge(seen, tau, epsilon):
        m_star = routes.equilibrium(tau)
        radius = load_radius(a, b, discount, switching_cost, 1.0 / len(a), tau, epsilon)
        ok, where = agreement(seen, m_star, radius, epsilon)
        target = f"{routes.target_name(tau)} of the κ = 0 game" if switching_cost else \
            routes.target_name(tau)
        return ok, (f"resource selection a={format_vector(a)}, b={format_vector(b)}, γ={discount:g}, "
                    f"κ={switching_cost:g}{f', τ={tau:g}' if tau else ''}: {where} to the "
                    f"{target} {format_vector(m_star)} (r = sqrt(((1−γ)ρε + K)/min b) = {radius:.3g}, "
                    f"ρ = {len(a)}, K = {'(1−γ)κ' if tau == 0 else 'κ'}; ℓ2)")

    return StationaryGame(
        lambda device: resource_selection(a, b, discount=discount, switching_cost=switching_cost,
                                          device=device), judge, discount, full_only)


def queueing_case(waiting_cost, load_cost, service, *, discount: float = 0.9,
                  full_only: bool = False) -> StationaryGame:
    """Queueing with every h_i > 0 and μ0 uniform over the states (so that the exploitability
    weighs every state): its stationary equilibrium μ is unique (docs/games.md). No radius
    is derived here (the deviation's occupation from μ is not μ*'s, so the static argument
    does not carry over): the test is every limit's exploitability ≤ ε; the spread of the
    limits' μ and (τ = 0) their distance to `queueing_equilibrium` are reported."""
    n_states = len(waiting_cost) + 1

    def judge(seen, tau, epsilon):
        mus = np.stack([mu for mu, _, _ in seen.values()])
        gaps = {label: gap for label, (_, gap, _) in seen.items()}
        worst = max(gaps, key=gaps.get)
        spread = np.abs(mus[:, None] - mus[None]).sum(-1).max()
        where = (f"queueing w={format_vector(waiting_cost)}, h={format_vector(load_cost)}, s={format_vector(service)}, "
                 f"γ={discount:g}{f', τ={tau:g}' if tau else ''}: {len(seen)} starts, largest "
                 f"exploitability {gaps[worst]:.2e} (from {worst}; ε = {epsilon:.2g}), spread of "
                 f"μ {spread:.2e} (ℓ1, reported)")
        if not tau:
            mu_star = queueing_equilibrium(waiting_cost, load_cost, service,
                                           discount=discount).mu
            where += (f", largest ℓ1 distance to the closed-form μ* {format_vector(mu_star)}: "
                      f"{np.abs(mus - mu_star).sum(-1).max():.2e} (reported)")
        return gaps[worst] <= epsilon, where

    return StationaryGame(
        lambda device: queueing(waiting_cost, load_cost, service, discount=discount,
                                mu0=torch.full((n_states,), 1.0 / n_states,
                                               dtype=torch.float64, device=device),
                                device=device), judge, discount, full_only)


STATIONARY_GAMES = {
    "resource-selection(0,0.2,0.4|1,1,1,γ=0.9)":
        resource_selection_case((0.0, 0.2, 0.4), (1.0, 1.0, 1.0)),
    "resource-selection(0,0.2,0.4|1,1,1,γ=0.9,κ=0.1)":
        resource_selection_case((0.0, 0.2, 0.4), (1.0, 1.0, 1.0), switching_cost=0.1,
                                full_only=True),
    "queueing(w=1,1.5,0.5|h=2,1,4|s=0.5,0.8,0.3,γ=0.9)":
        queueing_case((1.0, 1.5, 0.5), (2.0, 1.0, 4.0), (0.5, 0.8, 0.3), full_only=True),
}


def judge_stationary_game(planner, case: StationaryGame, ctx: Context) -> tuple[bool, str]:
    """Run ``planner`` from every start on a stationary game; (passed, what was seen)."""
    game = case.build(ctx.device)
    tau = planner_temperature(planner)
    epsilon = stationary_tolerance(ctx.budget, case.discount)
    seen = limits(planner, game, ctx, starts(game, ctx.generator(), DIRICHLET_STARTS[ctx.budget]),
                  STATIONARY_ITERATIONS[ctx.budget])
    ok, where = case.judge(seen, tau, epsilon)
    cycling = [label for label, (_, _, p) in seen.items() if p is not None and p >= 2]
    where += f" after {STATIONARY_ITERATIONS[ctx.budget]} iterations"
    if cycling:
        where += f"; iterates cycle from {', '.join(cycling)}"
        where += "" if ok else f": {CYCLING_ADVICE}"
    return ok, where


# convergence bound ε = C/k from every start and on every drawn game: no noise of the check's own,
# must hold for every draw
@suite.check("unique-equilibrium",
             games={"drawn-monotone-routes": lambda device: "monotone_costs",
                    "five-routes(0.5,0.1,0.9,0.3,2|1,3,0.5,2,1)":
                        lambda device: ((0.5, 0.1, 0.9, 0.3, 2.0), (1.0, 3.0, 0.5, 2.0, 1.0)),
                    **{label: (lambda device, case=case: case)
                       for label, case in STATIONARY_GAMES.items()}}, false_failure_rate=0)
def unique_equilibrium(planner, game, ctx: Context) -> Outcome:
    """From many starts the planner reaches one equilibrium split, the analytic one, on monotone games."""
    refused = _cannot_start(planner)
    if refused:
        return refused
    findings: list[tuple[bool, str]] = []
    tolerance = EXPLOITABILITY_TOLERANCE[ctx.budget]
    if isinstance(game, StationaryGame):
        if game.full_only and ctx.budget is Budget.QUICK:
            return Outcome.skip(f"{STATIONARY_ITERATIONS[Budget.FULL]} iterations from every "
                                f"start on this stationary game take minutes: run with --full")
        findings.append(judge_stationary_game(planner, game, ctx))
        tolerance = stationary_tolerance(ctx.budget, game.discount)
    elif game == "monotone_costs":
        @hypothesis.seed(ctx.seed)
        @hypothesis.settings(max_examples=DRAWN_GAMES[ctx.budget], database=None, deadline=None,
                             derandomize=False, phases=(hypothesis.Phase.generate,),
                             suppress_health_check=list(hypothesis.HealthCheck))
        @hypothesis.given(strategies.monotone_costs(max_resources=MAX_ROUTES, min_slope=MIN_SLOPE))
        def every_draw(costs):
            if all(ok for ok, _ in findings):  # after the first failing draw, skip the rest
                findings.append(judge_monotone_game(planner, *costs, ctx))

        every_draw()
    else:
        findings.append(judge_monotone_game(planner, *game, ctx))
    failed = [message for ok, message in findings if not ok]
    message = "; ".join(("FAILED: " if not ok else "") + m for ok, m in findings)
    if planner_convergent(planner):
        return Outcome(not failed, len(failed), 0, tolerance, message)
    return Outcome(not failed, len(failed), 0, tolerance, message,
                   expected_failure="convergent = False: pure best-response iteration is not "
                                    "meant to converge where the equilibrium is mixed",
                   exemption="convergent = False")


# -- finds-every-equilibrium ----------------------------------------------------------------

def logit_crowd_equilibria(a, b, tau: float) -> list[np.ndarray]:
    """Every logit equilibrium at τ > 0 of two crowd routes costing a_i − b_i·m_i.

    With x = ln(m1/m2) the logit condition τx = c2 − c1 reads h(x) = τx − d − B·σ(x) = 0,
    d = a2 − b2 − a1, B = b1 + b2; every root lies in (d/τ, (d + B)/τ) since σ ∈ (0, 1).
    h is smooth with h'' of one sign on either side of x = 0, so it has at most three
    roots; a fine grid finds every sign change and Brent's method polishes each.
    """
    (a1, a2), (b1, b2) = a, b
    d, B = a2 - b2 - a1, b1 + b2

    def h(x):
        return tau * x - d - B * expit(x)

    grid = np.linspace(d / tau, (d + B) / tau, LOGIT_GRID)
    values = h(grid)
    roots = [brentq(h, lo, hi, xtol=1e-300, rtol=4 * np.finfo(float).eps)
             for lo, hi, f_lo, f_hi in zip(grid[:-1], grid[1:], values[:-1], values[1:])
             if f_lo == 0 or f_lo * f_hi < 0]
    return [np.array([expit(x), expit(-x)]) for x in roots]


def crowd_targets(a, b, tau: float) -> list[tuple[np.ndarray, bool]]:
    """(split, stable) for every equilibrium of two crowd routes at τ: stable under
    best-response dynamics means pure with a strictly dearer empty route (τ = 0), or a
    logit-map slope m1·m2·(b1 + b2)/τ < 1 (τ > 0)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if tau > 0:
        return [(m, m[0] * m[1] * b.sum() / tau < 1) for m in logit_crowd_equilibria(a, b, tau)]
    out = []
    for m in crowd_equilibria(a, b):
        cost = a - b * m
        used = m > 0
        out.append((m, used.sum() == 1 and bool((cost[~used] > cost[used].max()).all())))
    return out


CROWDS = {"symmetric(0,0|1,1)": ((0.0, 0.0), (1.0, 1.0)),
          "asymmetric(0,0.4|1,1.5)": ((0.0, 0.4), (1.0, 1.5))}


# every start must reach some equilibrium (a bound that holds for every Dirichlet draw), and
# the fixed pure starts reach the stable pure ones (all-on-i → route i, docs/uniqueness.md)
@suite.check("finds-every-equilibrium",
             games={label: (lambda device, ab=ab: ab) for label, ab in CROWDS.items()},
             false_failure_rate=0)
def finds_every_equilibrium(planner, crowd, ctx: Context) -> Outcome:
    """On follow the crowd every start reaches a listed equilibrium, and the starts together reach every stable one."""
    refused = _cannot_start(planner)
    if refused:
        return refused
    a, b = crowd
    game = follow_the_crowd(a, b, device=ctx.device)
    tau = planner_temperature(planner)
    epsilon = EXPLOITABILITY_TOLERANCE[ctx.budget]
    targets = crowd_targets(a, b, tau)
    initial = starts(game, ctx.generator(), DIRICHLET_STARTS[ctx.budget])
    seen = limits(planner, game, ctx, initial, ITERATIONS[ctx.budget])
    names = [format_vector(m) for m, _ in targets]
    basins, strays, cycled = {}, [], False
    for label, (m, gap, period) in seen.items():
        nearest = min(range(len(targets)), key=lambda i: np.abs(m - targets[i][0]).sum())
        basins[label] = nearest
        if gap > epsilon:
            cycles = period is not None and period >= 2
            cycled |= cycles
            strays.append(f"{label} → {format_vector(m)} (exploitability {gap:.2e}"
                          f"{f', iterates cycling with period {period}' if cycles else ''})")
    missed = [names[i] for i, (_, stable) in enumerate(targets)
              if stable and i not in basins.values()]
    listing = ", ".join(f"{label} {format_vector(route_split(initial[label]))} → {names[i]}"
                        for label, i in basins.items())
    kind = f"logit equilibria at τ={tau:g}" if tau else "equilibria"
    stable = [names[i] for i, (_, s) in enumerate(targets) if s]
    message = (f"{kind} {', '.join(names)} (stable: {', '.join(stable)}); basins after "
               f"{ITERATIONS[ctx.budget]} iterations: {listing}; "
               + (f"FAILED: not an equilibrium (ε = {epsilon:.2g}): {'; '.join(strays)}"
                  + (f" ({CYCLING_ADVICE})" if cycled else "") + "; "
                  if strays else f"every limit has exploitability ≤ ε = {epsilon:.2g}; ")
               + (f"FAILED: no start reached the stable {', '.join(missed)}" if missed
                  else "every stable equilibrium reached")
               + "; the unstable mixed split is not expected from best-response dynamics")
    artifacts = ((plot_basins(ctx, planner, crowd, initial, seen, targets),)
                 if ctx.report_dir is not None else ())
    return Outcome(not strays and not missed, len(strays) + len(missed), 0, epsilon, message,
                   artifacts=artifacts)


def plot_basins(ctx: Context, planner, crowd, initial, seen, targets) -> str:
    """Start → limit of route 1's share, with the equilibria marked; PNG in the report dir."""
    name = solver_name(planner)
    fig, ax = new_figure(figsize=(5.2, 3.8))
    for label, (m, _, _) in seen.items():
        ax.annotate("", xy=(1, m[0]), xytext=(0, route_split(initial[label])[0]),
                    arrowprops=dict(arrowstyle="->", lw=0.8, color="C0"))
    for m, stable in targets:
        ax.axhline(m[0], color="C2" if stable else "C3", ls="-" if stable else ":", lw=0.8)
    ax.set_xticks([0, 1], ["start", f"after {ITERATIONS[ctx.budget]} iterations"])
    ax.set_ylabel("share of route 1")
    ax.set_title(f"{name} on follow the crowd a={crowd[0]}, b={crowd[1]}", fontsize=9)
    costs = "-".join(f"{x:g}" for x in (*crowd[0], *crowd[1]))  # a1-a2-b1-b2
    return save_figure(fig, ctx.report_dir / f"uniqueness-basins-{file_stem(name)}-"
                                             f"{file_stem(costs)}.png")

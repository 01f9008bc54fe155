"""Suite ``multi-epoch``: planners judged where time and state matter (docs/planners.md).

The congestion suites are one-state, one-epoch games, where a planner that drops the
continuation value, reads the reward or population of another epoch, reads the transition
tensor the wrong way round or follows another temperature convention gives exactly the
policy a correct one gives. Here every game has several states and horizon ≥ 2, rewards
that depend on the population and on the epoch, and one equilibrium:

- **staged routes** (`mfcheck.games.staged_routes`): a route choice whose worth is paid over
  the epochs after it; the equilibrium is in closed form, and each of those mistakes moves
  it by a known, large amount;
- **hypothesis-drawn monotone garnets** with time-varying rewards and transitions, the
  Lasry–Lions condition checked on every draw (`mfcheck.analytic.monotone`);
- **crowd modelling** in its exact convention (OpenSpiel's game, −log μ crowd aversion:
  monotone) and MFGLib's **left_right** (a one-shot choice paid one epoch later);
- **discounted stationary** monotone garnets, as a separate check, so that a
  finite-horizon-only planner that declines them through ``supports(game)`` (skipped with
  its reason by the harness, `mfcheck.scope`) loses only that check.

A failing planner's message names the convention mismatch its population is closest to
(`mfcheck.diagnose`). Planners that declare ``convergent = False`` are checked instead to
yield, at every iteration, a best response to the previous iterate's population.
"""

from __future__ import annotations

import hypothesis
import hypothesis.strategies as st
import numpy as np

from mfcheck.analytic.monotone import monotonicity_modulus
from mfcheck.check import Budget, Context, Outcome, Suite
from mfcheck.convergence import CONVERGENT, NOT_CONVERGENT, TAIL, cycling_hint
from mfcheck.diagnose import closest_mismatch
from mfcheck.errors import InvalidGameError
from mfcheck.game import FiniteMFG
from mfcheck.games import crowd_modelling, left_right, random_game
from mfcheck.games.staged_routes import StagedRoutes
from mfcheck.kernels import best_response, distribution, exploitability, initial_values, policy_value
from mfcheck.boundary import last_policies, planner_temperature
from mfcheck.report import format_vector

#: Planner iterations the harness takes, and the tolerance ε = C/k on the exploitability
#: (τ-regularised for planners that declare τ) of the last policy. C covers the slowest
#: reference planner measured on these games (docs/planners.md): mirror descent at lr 0.1
#: on crowd modelling, k·exploitability = 21 at k = 300, 11 at k = 400, 3.6 at k = 1000;
#: damped fixed point ≤ 9 on staged routes; ≤ 3.4 on drawn garnets.
ITERATIONS = {Budget.QUICK: 400, Budget.FULL: 2000}
RATE_CONSTANT = 30.0
EXPLOITABILITY_TOLERANCE = {budget: RATE_CONSTANT / k for budget, k in ITERATIONS.items()}
#: Drawn monotone garnets per case, and the least modulus of monotonicity κ a draw must
#: have (the crowd term's coupling is drawn in [0.5, 2]; κ ≥ coupling by construction).
DRAWN_GAMES = {Budget.QUICK: 3, Budget.FULL: 20}
MIN_MODULUS = 0.25
#: Stationary garnets: iterations and ε = C_s/((1 − γ)k), a tolerance on the value scale
#: 1/(1 − γ) of a discounted game (as in the uniqueness suite); the largest k(1 − γ)·ε of a
#: reference planner over seeds 0–7 was 3.0 (damped fixed point and fictitious play on
#: seed 7's draws; docs/planners.md).
STATIONARY_ITERATIONS = {Budget.QUICK: 300, Budget.FULL: 1500}
STATIONARY_DISCOUNT = 0.8
STATIONARY_RATE_CONSTANT = 10.0
#: Best-response iterates: iterations checked, and the tolerance on J(BR) − J(π_k) against
#: μ^{π_{k−1}} relative to the values' scale (both sides are exact float64 kernels).
RESPONSE_ITERATIONS = 6
RESPONSE_TOLERANCE = 1e-9

STAGED = {
    # H = 4, undiscounted; a is set so that the Nash split is (0.3, 0.45, 0.25).
    "staged-routes(H=4)": StagedRoutes(
        a=(0.0, 6.63, 2.58), b=(1.0, 0.5, 1.5),
        worth=((3.0, 0.0, 1.5), (0.0, 3.0, 1.5), (2.0, 0.0, 0.0)), crowd=1.0,
        bonus=((0.0, 0.0, 0.0), (3.0, -3.0, -3.0), (1.5, 1.5, -3.0)), label="staged routes (H=4)"),
    # H = 5, γ = 0.6; Nash split (0.4, 0.25, 0.35).
    "staged-routes(H=5,γ=0.6)": StagedRoutes(
        a=(0.0, 3.43, 1.5), b=(1.0, 0.5, 1.5),
        worth=((3.0, 0.0, 1.5), (0.0, 3.0, 1.5), (2.0, 0.0, 0.0), (0.0, 1.5, 3.0)), crowd=1.0,
        bonus=((0.0, 0.0, 0.0), (3.0, -3.0, -3.0), (1.5, 1.5, -3.0)), discount=0.6,
        label="staged routes (H=5, γ=0.6)"),
}
#: The closed form is checked at these temperatures (against mfcheck's exact kernels).
CLOSED_FORM_TEMPERATURES = (0.0, 0.5, 1.0)
CLOSED_FORM_TOLERANCE = 1e-12

suite = Suite("multi-epoch", role="planner",
              description="planners reach the unique equilibrium of multi-epoch, multi-state "
                          "games (closed-form staged routes, drawn monotone garnets, crowd "
                          "modelling), and say which convention they mismatch when not",
              reference_solvers=["mfcheck.reference:PLANNERS"])


def drawn_monotone_games(ctx: Context, *, stationary: bool) -> list[FiniteMFG]:
    """``DRAWN_GAMES`` garnets drawn by hypothesis from the check's seed, each verified to be
    Lasry–Lions monotone with modulus ≥ ``MIN_MODULUS`` (`monotonicity_modulus`)."""
    drawn: list[FiniteMFG] = []

    @hypothesis.seed(ctx.seed_for(1 + stationary))
    @hypothesis.settings(max_examples=DRAWN_GAMES[ctx.budget], database=None, deadline=None,
                         derandomize=False, phases=(hypothesis.Phase.generate,),
                         suppress_health_check=list(hypothesis.HealthCheck))
    @hypothesis.given(states=st.integers(3, 6), actions=st.integers(2, 3),
                      horizon=st.integers(3, 5), coupling=st.floats(0.5, 2.0),
                      seed=st.integers(0, 2**31 - 1))
    def draw(states, actions, horizon, coupling, seed):
        game = random_game(states, actions, None if stationary else horizon, branching=2,
                           monotone=True, coupling=coupling, time_varying=not stationary,
                           discount=STATIONARY_DISCOUNT if stationary else 1.0, seed=seed,
                           device=ctx.device)
        drawn.append(game)

    draw()
    for game in drawn:
        kappa = monotonicity_modulus(game)
        if not kappa >= MIN_MODULUS:
            raise InvalidGameError(f"drawn game {game.name!r} has monotonicity modulus "
                                   f"{kappa:.3g} < {MIN_MODULUS}: not a unique-equilibrium game")
    return drawn


#: The finite-horizon games of the suite, by case label: ctx → the games of that case.
GAMES = {
    **{label: (lambda ctx, g=staged: [g.game(ctx.device)]) for label, staged in STAGED.items()},
    "drawn-monotone-garnets": lambda ctx: drawn_monotone_games(ctx, stationary=False),
    "crowd-modelling(exact,size=10,H=10)":
        lambda ctx: [crowd_modelling(10, 10, convention="exact", device=ctx.device)],
    "left-right(MFGLib)": lambda ctx: [left_right(device=ctx.device)],
}


def _verdict(planner, games: list[FiniteMFG], ctx: Context, *, iterations: int,
             tolerance: float, staged: StagedRoutes | None = None) -> Outcome:
    """Run ``planner`` on every game; pass when each last policy's exploitability ≤ tolerance.
    On failure, say whether the worst game's iterates cycle and which convention mismatch
    its last policy is closest to."""
    tau = planner_temperature(planner)
    gaps, last, tails = [], [], []
    for game in games:
        tail = last_policies(planner, game, seed=ctx.seed, iterations=iterations, keep=TAIL)
        gaps.append(float(exploitability(game, tail[-1], tau)))
        last.append(tail[-1])
        tails.append(tail)
    worst = int(np.argmax(gaps))
    kind = f"τ={tau:g}-regularised exploitability" if tau else "exploitability"
    where = (f"{games[worst].name}" if len(games) == 1 else
             f"the worst of {len(games)} drawn games, {games[worst].name}")
    message = (f"after {iterations} iterations the {kind} on {where} is {gaps[worst]:.3g} "
               f"(tolerance ε = {tolerance:.3g} = C/k)")
    if staged is not None:
        split = last[worst][0, 0].double().cpu().numpy()
        message += (f"; hub split {format_vector(split)} vs the closed-form "
                    f"{'logit' if tau else 'Nash'} split {format_vector(staged.equilibrium(tau))}")
    passed = gaps[worst] <= tolerance
    if not passed:
        message += (cycling_hint(tails[worst]) + "; "
                    + closest_mismatch(games[worst], last[worst], tau).sentence())
    return Outcome(passed, gaps[worst], 0.0, tolerance, message)


# the check draws no noise of its own: the planner's iterates are a function of (game, seed) and ε
# is a convergence bound a correct planner meets at every seed
@suite.check("reaches-equilibrium", games={label: (lambda device, l=label: l) for label in GAMES},
             applies=CONVERGENT, false_failure_rate=0)
def reaches_equilibrium(planner, label: str, ctx: Context) -> Outcome:
    """The planner's last policy is the game's unique equilibrium: exploitability (τ-regularised for planners that declare τ) ≤ C/k."""
    return _verdict(planner, GAMES[label](ctx), ctx, iterations=ITERATIONS[ctx.budget],
                    tolerance=EXPLOITABILITY_TOLERANCE[ctx.budget], staged=STAGED.get(label))


# the check draws no noise of its own: the planner's iterates are a function of (game, seed) and ε
# is a convergence bound a correct planner meets at every seed (drawn games: for every draw)
@suite.check("stationary-equilibrium", games={"drawn-stationary-monotone-garnets(γ=0.8)": lambda device: None},
             applies=CONVERGENT, false_failure_rate=0)
def stationary_equilibrium(planner, _, ctx: Context) -> Outcome:
    """On discounted stationary monotone garnets the planner's last policy is the equilibrium (exploitability ≤ C/((1 − γ)k)); planners may decline stationary games."""
    games = drawn_monotone_games(ctx, stationary=True)
    iterations = STATIONARY_ITERATIONS[ctx.budget]
    tolerance = STATIONARY_RATE_CONSTANT / ((1.0 - STATIONARY_DISCOUNT) * iterations)
    return _verdict(planner, games, ctx, iterations=iterations, tolerance=tolerance)


# exact values of every iterate, no sampling
@suite.check("best-response-iterates", games={label: (lambda device, l=label: l) for label in GAMES},
             applies=NOT_CONVERGENT, false_failure_rate=0)
def best_response_iterates(planner, label: str, ctx: Context) -> Outcome:
    """A planner that declares convergent = False (pure best-response iteration) yields, at every iteration, a (soft) best response to the previous iterate's population."""
    games = GAMES[label](ctx)
    tau = planner_temperature(planner)
    worst, where = 0.0, ""
    for game in games:
        policies = last_policies(planner, game, seed=ctx.seed, iterations=RESPONSE_ITERATIONS,
                                 keep=RESPONSE_ITERATIONS)
        for k in range(1, len(policies)):
            flow = distribution(game, policies[k - 1])
            best = initial_values(game, best_response(game, flow, tau).v)
            played = initial_values(game, policy_value(game, policies[k], flow, tau).v)
            gap = float(best - played) / max(1.0, abs(float(best)))
            if gap > worst:
                worst, where = gap, f"iterate {k} on {game.name}"
    return Outcome(worst <= RESPONSE_TOLERANCE, worst, 0.0, RESPONSE_TOLERANCE,
                   f"largest relative shortfall of an iterate's value from the best response "
                   f"to the previous iterate's population: {worst:.2e}"
                   f"{f' ({where})' if where else ''}; tolerance {RESPONSE_TOLERANCE:g}")


@suite.check("closed-form-equilibrium", games={label: (lambda device, g=s: g) for label, s in STAGED.items()},
             needs_solver=False, false_failure_rate=0)
def closed_form_equilibrium(_, staged: StagedRoutes, ctx: Context) -> Outcome:
    """mfcheck's exact exploitability vanishes at the staged-routes closed-form equilibrium (τ = 0 and τ > 0)."""
    game = staged.game(ctx.device)
    gaps = {tau: float(exploitability(game, staged.equilibrium_policy(tau, ctx.device), tau))
            for tau in CLOSED_FORM_TEMPERATURES}
    worst = max(abs(g) for g in gaps.values())
    listing = ", ".join(f"τ={t:g}: {g:.1e}" for t, g in gaps.items())
    return Outcome(worst <= CLOSED_FORM_TOLERANCE, worst, 0.0, CLOSED_FORM_TOLERANCE,
                   f"exact exploitability of the closed-form equilibrium policies: {listing}; "
                   f"all must be within {CLOSED_FORM_TOLERANCE:g} of 0")

"""Checks shared by the congestion suites (``two-route`` and ``n-route``).

The games are one-state, one-epoch routing games: each action is a route, the action
marginal of L is the route split m, and route i costs a_i + b_i·m_i. Their equilibria
are known in closed form (`mfcheck.analytic.congestion`), so a planner's final policy can
be compared with the exact answer rather than with a regression constant.
"""

from __future__ import annotations

import hypothesis
import hypothesis.strategies as st
import numpy as np
import torch

from mfcheck.check import Budget, Context, Outcome, Suite
from mfcheck.convergence import CONVERGENT, NOT_CONVERGENT, TAIL, cycling_hint
from mfcheck.games.congestion import Routes, route_split
from mfcheck.kernels import exploitability
from mfcheck.kernels.policies import detect_period
from mfcheck.boundary import last_policies, planner_temperature
from mfcheck.report import format_vector

#: Planner iterations the harness takes, and the tolerance on the exploitability of the
#: last policy (in cost units; the games' costs are O(1)). Exploitability, not the distance
#: to m*, is the criterion: where the equilibrium sits on a tie (Pigou) every no-regret
#: method approaches m* sublinearly, while the exploitability falls like its square.
#: The slowest references, fictitious play and damped fixed point, reach exploitability
#: ≈ C/k with C ≤ 2.3 on these grids (measured: ≤ 5.6e-4 at k = 4000, ≤ 8.8e-5 at 20000).
ITERATIONS = {Budget.QUICK: 4000, Budget.FULL: 20000}
EXPLOITABILITY_TOLERANCE = {Budget.QUICK: 1e-3, Budget.FULL: 2e-4}
#: Exact kernels against closed forms, both in float64.
EXACT_TOLERANCE = 1e-12
#: Temperatures at which the harness checks its own logit equilibria.
CHECK_TEMPERATURES = (0.1, 1.0)
#: A failed τ-planner's split that is this many times closer to the Wardrop split than to
#: the logit one is reported as the Wardrop split (a likely unused τ).
WARDROP_HINT_RATIO = 0.1


def likely_cause(tail: list[torch.Tensor], routes: Routes, tau: float, error: float) -> str:
    """What a failed convergence check can tell of its cause: iterates that cycle (a method
    not meant to converge, `cycling_hint`), or, for a planner that declares τ, a split that
    is the Wardrop (τ = 0) split rather than the logit one (the declared τ unused). '' if
    neither."""
    cycling = cycling_hint(tail)
    if cycling:
        return cycling
    wardrop_error = float(np.abs(route_split(tail[-1]) - routes.equilibrium(0.0)).max())
    if tau and wardrop_error <= WARDROP_HINT_RATIO * error:
        return (f"; the split is the Wardrop (τ = 0) split "
                f"{format_vector(routes.equilibrium(0.0))} to {wardrop_error:.1e}, "
                f"{error / max(wardrop_error, 1e-300):.0f}× closer than to the logit split at "
                f"the declared τ = {tau:g}: is τ used?")
    return ""


def add_congestion_checks(suite: Suite, games: dict[str, Routes]) -> None:
    """Register the congestion checks on ``suite`` for the route games ``games``."""
    factories = {label: (lambda device, r=routes: r) for label, routes in games.items()}

    # the check draws no noise of its own: the planner's iterates are a function of (game, seed) and
    # ε is a convergence bound a correct planner meets at every seed
    @suite.check("reaches-equilibrium", games=factories, applies=CONVERGENT, false_failure_rate=0)
    def reaches_equilibrium(planner, routes: Routes, ctx: Context) -> Outcome:
        """The planner's last policy is an equilibrium: exploitability (τ-regularised for logit planners) near 0."""
        game = routes.game(ctx.device)
        iterations, tol = ITERATIONS[ctx.budget], EXPLOITABILITY_TOLERANCE[ctx.budget]
        tail = last_policies(planner, game, seed=ctx.seed, iterations=iterations, keep=TAIL)
        tau = planner_temperature(planner)
        m, m_star = route_split(tail[-1]), routes.equilibrium(tau)
        error = float(np.abs(m - m_star).max())
        gap = float(exploitability(game, tail[-1], temperature=tau))
        kind = f"τ={tau:g}-regularised exploitability" if tau else "exploitability"
        return Outcome(gap <= tol, gap, 0.0, tol,
                       f"after {iterations} iterations the {kind} is {gap:.2e} (tolerance "
                       f"{tol:g}); route split {format_vector(m)} vs the {routes.target_name(tau)} "
                       f"{format_vector(m_star)}, max error {error:.2e}"
                       + (likely_cause(tail, routes, tau, error) if gap > tol else ""))

    @suite.check("best-response-cycles", games=factories, applies=NOT_CONVERGENT,
                 false_failure_rate=0)
    def best_response_cycles(planner, routes: Routes, ctx: Context) -> Outcome:
        """Pure best-response iteration cycles where the equilibrium is mixed, and stops at a pure one."""
        game = routes.game(ctx.device)
        tail = last_policies(planner, game, seed=ctx.seed, iterations=ITERATIONS[Budget.QUICK],
                             keep=2 * len(routes.a) + 2)
        m_star = routes.equilibrium()
        period = detect_period(tail)
        m = route_split(tail[-1])
        if (m_star > EXACT_TOLERANCE).sum() > 1:
            # A pure best response is a vertex of the simplex and a mixed equilibrium is
            # not one, so an exact best-response map has no fixed point here: it must cycle.
            ok = period is not None and period >= 2
            return Outcome(ok, period, ">= 2", 0,
                           f"mixed equilibrium {format_vector(m_star)}: best-response iterates cycle "
                           f"with period {period} (last split {format_vector(m)}); a period >= 2 is "
                           f"expected (undamped best response cycles 1, 0, 1, 0 around a mixed "
                           "equilibrium, docs/references.md#congestion-best-response-cycle)")
        error = float(np.abs(m - m_star).max())
        return Outcome(error <= EXACT_TOLERANCE and period == 1, format_vector(m), format_vector(m_star),
                       EXACT_TOLERANCE, f"pure equilibrium {format_vector(m_star)}: best-response "
                       f"iterates settle at {format_vector(m)} (period {period}), error {error:.2e}")

    @suite.check("analytic-equilibrium", games=factories, needs_solver=False, false_failure_rate=0)
    def analytic_equilibrium(_, routes: Routes, ctx: Context) -> Outcome:
        """mfcheck's exploitability vanishes at its own analytic Wardrop and logit splits."""
        game = routes.game(ctx.device)
        gaps = {}
        for tau in (0.0, *CHECK_TEMPERATURES):
            m_star = torch.as_tensor(routes.equilibrium(tau), device=ctx.device)
            gaps[tau] = float(exploitability(game, m_star.reshape(game.policy_shape), tau))
        worst = max(abs(g) for g in gaps.values())
        listing = ", ".join(f"τ={t:g}: {g:.1e}" for t, g in gaps.items())
        return Outcome(worst <= EXACT_TOLERANCE, worst, 0.0, EXACT_TOLERANCE,
                       f"exact exploitability (entropy-regularised at τ > 0) of the analytic "
                       f"equilibrium splits: {listing}; all must be within {EXACT_TOLERANCE:g} of 0")

    # must hold for every Hypothesis draw
    @suite.check("exploitability-closed-form", games=factories, needs_solver=False,
                 false_failure_rate=0)
    def exploitability_closed_form(_, routes: Routes, ctx: Context) -> Outcome:
        """mfcheck's exploitability kernel equals the closed form Σ m_i c_i − min c_i, and is ≥ 0."""
        game = routes.game(ctx.device)
        worst = {"diff": 0.0, "min": float("inf")}
        n = len(routes.a)

        @hypothesis.seed(ctx.seed)
        @hypothesis.settings(max_examples=200 if ctx.budget is Budget.QUICK else 2000,
                             database=None, deadline=None, derandomize=False)
        @hypothesis.given(st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n)
                          .filter(lambda w: sum(w) > 1e-6))
        def agrees(weights):
            m = np.asarray(weights) / sum(weights)
            policy = torch.as_tensor(m, device=ctx.device).reshape(game.policy_shape)
            kernel = float(exploitability(game, policy))
            worst["diff"] = max(worst["diff"], abs(kernel - routes.exploitability(m)))
            worst["min"] = min(worst["min"], kernel)
            assert worst["diff"] <= EXACT_TOLERANCE and kernel >= -EXACT_TOLERANCE

        try:
            agrees()
            ok = True
        except AssertionError:
            ok = False
        return Outcome(ok, worst["diff"], 0.0, EXACT_TOLERANCE,
                       f"hypothesis-drawn route splits: largest |kernel − closed form| "
                       f"{worst['diff']:.1e}, smallest exploitability {worst['min']:.1e} "
                       f"(both must be within {EXACT_TOLERANCE:g})")

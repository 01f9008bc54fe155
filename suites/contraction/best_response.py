"""The pure best response on two routes: a known non-contraction whose orbit cycles
(docs/operators.md)."""

from __future__ import annotations

from collections.abc import Callable

import torch

from mfcheck import operators as ops
from mfcheck.analytic import congestion
from mfcheck.check import Context, Outcome

from .probes import (COUNTER_STEP, Draws, Finding, ROUNDING, as_tensor64, family, l1_norm,
                     outcome_of, suite)
from .logit_routes import ROUTE_FAMILY


BestResponseMap = Callable[[ops.PopulationGame, torch.Tensor], torch.Tensor]

#: (a1, b1, a2, b2): the interior game (m* = 2/3, where best response cycles:
#: docs/references.md#congestion-best-response-cycle) and two
#: corner games (Pigou, m* = 1; (3, 1, 1, 1), m* = 0), where it stops at m* at once.
BEST_RESPONSE_ROUTES = ((1.0, 1.0, 1.5, 0.5), (0.0, 1.0, 1.0, 0.0), (3.0, 1.0, 1.0, 1.0))

BEST_RESPONSE_STEPS = 20


def _best_response_orbit(best_response: BestResponseMap, costs, device) -> Finding:
    """Undamped best response m ↦ [c1(m) < c2(m)] from m = 1/2 (ties to route 1).

    Interior equilibrium (a1 + b1 > a2 and a2 + b2 > a1): everyone on route 1 makes it the
    dearer one and vice versa, so the orbit is 1, 0, 1, 0, …: a known non-contraction (the
    ratio across m* is 1/(2ε) for m* ± ε), which passes when the cycle is exactly that.
    Corner equilibrium: one route is cheaper at every split, so the orbit sits on m* from
    the first step."""
    a1, b1, a2, b2 = costs
    game = ops.congestion_population_game((a1, a2), (b1, b2), device=device)
    m_star = congestion.wardrop_two_route(a1, b1, a2, b2)
    orbit, x = [0.5], as_tensor64([0.5, 0.5], device)
    for _ in range(BEST_RESPONSE_STEPS):
        x = best_response(game, x)
        orbit.append(float(x[0]))
    tail = orbit[-4:]
    shown = ", ".join(f"{m:g}" for m in orbit[:7])
    where = f"two routes ({a1:g}, {b1:g}, {a2:g}, {b2:g}), Wardrop m* = {m_star:.6g}"
    if not 0.0 < m_star < 1.0:
        ok = all(m == m_star for m in orbit[1:])
        return Finding(ok, orbit[-1], m_star, 0.0,
                       f"{where} (a corner): best response from 1/2 goes {shown}, … "
                       + ("and stays on m*" if ok else "and does not stay on m* as it must"))
    eps = COUNTER_STEP
    jump = l1_norm(best_response(game, as_tensor64([m_star + eps, 1 - m_star - eps], device))
                   - best_response(game, as_tensor64([m_star - eps, 1 - m_star + eps], device))
                   ) / (4 * eps)
    cycle = tail in ([1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 1.0])
    ok = cycle and abs(jump - 1 / (2 * eps)) <= ROUNDING / eps
    verdict = ("the period-2 cycle 1 ↔ 0 around m*: a known non-contraction "
               "(docs/references.md#congestion-best-response-cycle)"
               if ok else "not the period-2 cycle 1 ↔ 0 that theory predicts")
    return Finding(ok, tail, [1.0, 0.0, 1.0, 0.0], 0.0,
                   f"{where} (interior): best response from 1/2 goes {shown}, … , last four "
                   f"{tail}: {verdict}; ratio across m* ± {eps:g} = {jump:.6g} (1/(2ε) = "
                   f"{1 / (2 * eps):g}: no Lipschitz constant)")


def check_best_response_route(draws: Draws, ctx: Context,
                              best_response: BestResponseMap = ops.best_response_mean_action
                              ) -> Outcome:
    """Every sub-check of ``best-response-route`` on ``best_response``."""
    return outcome_of([_best_response_orbit(best_response, costs, ctx.device)
                     for costs in BEST_RESPONSE_ROUTES])


@suite.check("best-response-route", games=family("two_route", ROUTE_FAMILY), needs_solver=False,
             false_failure_rate=0)
def best_response_route(_, draws: Draws, ctx: Context) -> Outcome:
    """Pure best response on two routes: the period-2 cycle 1 ↔ 0 (a known non-contraction) where m* is interior, m* at once at a corner."""
    return check_best_response_route(draws, ctx)


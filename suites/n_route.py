"""Suite ``n-route``: planners on N-route congestion games with affine costs.

Equilibria come from water-filling on the common cost level (`mfcheck.analytic`): the
grid has every route used, one route used (on a tie), unused routes, a route of constant cost, and five routes.
"""

from mfcheck.check import Suite
from mfcheck.games.congestion import Routes

from .congestion import add_congestion_checks

GAMES = {
    "three-used(0,0.2,0.4|1,1,1)": Routes((0.0, 0.2, 0.4), (1.0, 1.0, 1.0)),   # 8/15, 5/15, 2/15
    "one-used(1,2,3|1,1,1)": Routes((1.0, 2.0, 3.0), (1.0, 1.0, 1.0)),         # (1, 0, 0), tie
    "one-unused(0,0.2,5|1,2,1)": Routes((0.0, 0.2, 5.0), (1.0, 2.0, 1.0)),
    "constant-route(0,0,1.2|2,1,0)": Routes((0.0, 0.0, 1.2), (2.0, 1.0, 0.0)),
    "five(0.5,0.1,0.9,0.3,2|1,3,0.5,2,1)": Routes((0.5, 0.1, 0.9, 0.3, 2.0),
                                                  (1.0, 3.0, 0.5, 2.0, 1.0)),
}

suite = Suite("n-route", role="planner",
              description="MFG planners reach the analytic N-route Wardrop / logit equilibrium",
              reference_solvers=["mfcheck.reference:PLANNERS"])
add_congestion_checks(suite, GAMES)

"""Suite ``two-route``: planners on two-route congestion games (docs/references.md#congestion).

The grid holds interior equilibria, both corners, a game on the corner's boundary
(a1 + b1 = a2, where the best response at the equilibrium is a tie) and Pigou's example.
"""

from mfcheck.check import Suite
from mfcheck.games.congestion import Routes

from .congestion import add_congestion_checks

GAMES = {
    "interior(1,1,1.5,0.5)": Routes((1.0, 1.5), (1.0, 0.5)),   # m* = 2/3
    "symmetric(0,1,0,1)": Routes((0.0, 0.0), (1.0, 1.0)),      # m* = 1/2
    "interior(0.5,2,1,0.5)": Routes((0.5, 1.0), (2.0, 0.5)),   # m* = 0.4
    "pigou(0,1,1,0)": Routes((0.0, 1.0), (1.0, 0.0)),          # m* = 1, boundary tie
    "corner-1(0,0.5,1,0.2)": Routes((0.0, 1.0), (0.5, 0.2)),   # m* = 1, strict
    "corner-0(3,1,1,1)": Routes((3.0, 1.0), (1.0, 1.0)),       # m* = 0
}

suite = Suite("two-route", role="planner",
              description="MFG planners reach the analytic two-route Wardrop / logit equilibrium",
              reference_solvers=["mfcheck.reference:PLANNERS"])
add_congestion_checks(suite, GAMES)
